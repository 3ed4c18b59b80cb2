//! A registry for fault tests: serves the example layout over the
//! distribution API, with the referrers API (answered from the manifests'
//! `subject`s), and one injected fault.
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The fault to inject.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// None: a well-behaved registry.
    None,
    /// Every response delayed.
    Slow(Duration),
    /// The first N requests get 429 with `Retry-After: 1`.
    TooManyRequests(usize),
    /// Every request gets 503.
    Unavailable,
    /// Blobs come back with one byte changed.
    WrongBytes,
    /// Blobs come back larger than the engine accepts.
    OversizedBlob,
    /// Manifests come back larger than the engine accepts.
    OversizedManifest,
    /// Blobs redirect to themselves.
    RedirectLoop,
    /// Only the first request is delayed.
    SlowFirst(Duration),
    /// Blobs redirect to this URL.
    RedirectTo(&'static str),
    /// Every request gets this status with a body of free text and an OCI error code.
    ErrorBody(u16),
    /// Blob requests are delayed.
    SlowBlobs(Duration),
}

pub struct Fake {
    fault: Fault,
    /// `repo:tag` → manifest digest; digest → bytes.
    tags: BTreeMap<String, String>,
    blobs: BTreeMap<String, Vec<u8>>,
    pub requests: AtomicUsize,
}

pub async fn start(fault: Fault) -> (u16, Arc<Fake>) {
    let layout = super::root().join("policies/images");
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(layout.join("index.json")).unwrap()).unwrap();
    let mut tags = BTreeMap::new();
    for m in index["manifests"].as_array().unwrap() {
        let name = m["annotations"]["org.opencontainers.image.ref.name"]
            .as_str()
            .unwrap()
            .trim_start_matches("registry.example.com/");
        tags.insert(name.to_string(), m["digest"].as_str().unwrap().to_string());
    }
    let mut blobs = BTreeMap::new();
    for e in std::fs::read_dir(layout.join("blobs/sha256")).unwrap() {
        let e = e.unwrap();
        blobs.insert(
            format!("sha256:{}", e.file_name().to_string_lossy()),
            std::fs::read(e.path()).unwrap(),
        );
    }
    let fake = Arc::new(Fake {
        fault,
        tags,
        blobs,
        requests: AtomicUsize::new(0),
    });
    let app = Router::new()
        .route("/v2/", get(|| async { "{}" }))
        .route("/v2/{*rest}", get(handle))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (port, fake)
}

async fn handle(
    State(f): State<Arc<Fake>>,
    UrlPath(rest): UrlPath<String>,
    _h: HeaderMap,
) -> Response {
    let n = f.requests.fetch_add(1, Ordering::SeqCst);
    match f.fault {
        Fault::Slow(d) => tokio::time::sleep(d).await,
        Fault::SlowFirst(d) if n == 0 => tokio::time::sleep(d).await,
        Fault::ErrorBody(code) => {
            return (
                StatusCode::from_u16(code).unwrap(),
                r#"{"errors":[{"code":"DENIED","message":"SECRET-REGISTRY-TEXT <script>"}]} SECRET-TRAILER"#,
            )
                .into_response();
        }
        Fault::TooManyRequests(k) if n < k => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "1")],
                "slow down",
            )
                .into_response();
        }
        Fault::Unavailable => {
            return (StatusCode::SERVICE_UNAVAILABLE, "down for maintenance").into_response();
        }
        _ => {}
    }
    if let Some((_, subject)) = rest.rsplit_once("/referrers/") {
        return referrers(&f, subject);
    }
    let (repo, kind, reference) = match rest.rsplit_once("/manifests/") {
        Some((r, t)) => (r.to_string(), "manifests", t.to_string()),
        None => match rest.rsplit_once("/blobs/") {
            Some((r, d)) => (r.to_string(), "blobs", d.to_string()),
            None => return StatusCode::NOT_FOUND.into_response(),
        },
    };
    let digest = if reference.starts_with("sha256:") {
        reference.clone()
    } else {
        match f.tags.get(&format!("{repo}:{reference}")) {
            Some(d) => d.clone(),
            None => {
                return (
                    StatusCode::NOT_FOUND,
                    r#"{"errors":[{"code":"MANIFEST_UNKNOWN"}]}"#,
                )
                    .into_response();
            }
        }
    };
    if let (Fault::SlowBlobs(d), "blobs") = (f.fault, kind) {
        tokio::time::sleep(d).await;
    }
    let Some(bytes) = f.blobs.get(&digest).cloned() else {
        return (
            StatusCode::NOT_FOUND,
            r#"{"errors":[{"code":"BLOB_UNKNOWN"}]}"#,
        )
            .into_response();
    };
    match (f.fault, kind) {
        (Fault::WrongBytes, "blobs") => {
            let mut b = bytes;
            b[0] ^= 1;
            b.into_response()
        }
        (Fault::OversizedBlob, "blobs") => {
            Body::from(vec![b' '; imgverify::limits::MAX_BLOB_BYTES + 1]).into_response()
        }
        (Fault::OversizedManifest, "manifests") => (
            [("content-type", "application/vnd.oci.image.manifest.v1+json")],
            vec![b' '; imgverify::limits::MAX_MANIFEST_BYTES + 1],
        )
            .into_response(),
        (Fault::RedirectTo(url), "blobs") => {
            (StatusCode::TEMPORARY_REDIRECT, [("location", url)]).into_response()
        }
        (Fault::RedirectLoop, "blobs") => (
            StatusCode::TEMPORARY_REDIRECT,
            [("location", format!("/v2/{rest}"))],
        )
            .into_response(),
        (_, "manifests") => (
            [("content-type", "application/vnd.oci.image.manifest.v1+json")],
            bytes,
        )
            .into_response(),
        _ => bytes.into_response(),
    }
}

/// The referrers API: an index of every manifest whose `subject` is
/// `digest`, with its artifact type and annotations.
fn referrers(f: &Fake, digest: &str) -> Response {
    let manifests: Vec<Value> = f
        .blobs
        .iter()
        .filter_map(|(d, bytes)| {
            let m: Value = serde_json::from_slice(bytes).ok()?;
            (m["subject"]["digest"].as_str() == Some(digest)).then(|| {
                let artifact_type = m["artifactType"]
                    .as_str()
                    .or(m["config"]["mediaType"].as_str())
                    .unwrap_or_default();
                serde_json::json!({
                    "mediaType": m["mediaType"], "digest": d, "size": bytes.len(),
                    "artifactType": artifact_type, "annotations": m["annotations"],
                })
            })
        })
        .collect();
    (
        [("content-type", "application/vnd.oci.image.index.v1+json")],
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": manifests,
        }))
        .unwrap_or_default(),
    )
        .into_response()
}
