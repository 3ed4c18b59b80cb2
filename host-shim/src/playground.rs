//! `imgverify playground`: serves the browser playground (built by `cargo
//! xtask playground --build` and embedded in this binary at build time). The
//! page evaluates in the browser; this server only hands out its files, with
//! a policy that lets the page load nothing from any other origin.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
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

/// An embedded file by request path (`/` is `index.html`): its bytes and
/// their gzip.
pub fn file(path: &str) -> Option<(&'static [u8], &'static [u8])> {
    let name = match path.trim_start_matches('/') {
        "" => "index.html",
        n => n,
    };
    files::FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, bytes, gz)| (*bytes, *gz))
}

/// Whether `Accept-Encoding` accepts gzip: named with a non-zero `q`, or
/// through `*` when gzip is not named (`gzip;q=0` refuses it).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut star = false;
    for item in headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or("");
        let q_zero = parts.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        if coding.eq_ignore_ascii_case("gzip") {
            return !q_zero;
        }
        if coding == "*" {
            star = !q_zero;
        }
    }
    star
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("wasm") => "application/wasm",
        Some("tar") => "application/x-tar",
        Some("ts") => "text/plain; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The headers every response carries: this origin only, no sniffing, no
/// referrer.
fn secure(mut r: Response) -> Response {
    let h = r.headers_mut();
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
    r
}

async fn handle(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return secure(StatusCode::METHOD_NOT_ALLOWED.into_response());
    }
    let path = uri.path();
    let Some((bytes, gz)) = file(path) else {
        return secure((StatusCode::NOT_FOUND, "not found\n").into_response());
    };
    let name = if path == "/" { "index.html" } else { path };
    let gzip = accepts_gzip(&headers);
    let mut r = if gzip { gz } else { bytes }.into_response();
    let h = r.headers_mut();
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(name)),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    secure(r)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_only_when_accepted() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
            accepts_gzip(&h)
        };
        assert!(with("gzip, deflate, br"));
        assert!(with("br;q=1.0, GZIP;q=0.5"));
        assert!(with("*"));
        assert!(!with("gzip;q=0, *"));
        assert!(!with("br, *;q=0"));
        assert!(!with("identity"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
