//! `imgverify playground`: serves the browser playground (built by `cargo
//! xtask playground --build` and embedded in this binary at build time). The
//! page evaluates in the browser; this server only hands out its files, with
//! a policy that lets the page load nothing from any other origin.

use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

mod files {
    include!(concat!(env!("OUT_DIR"), "/playground_files.rs"));
}

/// The Content-Security-Policy every response carries: this origin only
/// (wasm compiled by the page's own script, CodeMirror's style elements).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Whether this binary was built with the playground.
pub fn embedded() -> bool {
    !files::FILES.is_empty()
}

/// An embedded file by request path (`/` is `index.html`).
pub fn file(path: &str) -> Option<&'static [u8]> {
    let name = match path.trim_start_matches('/') {
        "" => "index.html",
        n => n,
    };
    files::FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, bytes)| *bytes)
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("wasm") => "application/wasm",
        Some("tar") => "application/x-tar",
        Some("ts") => "text/plain; charset=utf-8",
        _ => "text/html; charset=utf-8",
    }
}

async fn handle(method: Method, uri: Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let path = uri.path();
    let Some(bytes) = file(path) else {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    };
    let name = if path == "/" { "index.html" } else { path };
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(name)),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// Serves the playground on `listen` until interrupted; prints its URL.
pub async fn serve(listen: &str) -> Result<(), String> {
    if !embedded() {
        return Err(
            "this imgverify was built without the playground: run `cargo xtask playground`".into(),
        );
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("--listen {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("imgverify playground: http://{addr}/");
    let app = axum::Router::new().fallback(handle);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())
}
