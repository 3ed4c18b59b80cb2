//! Registry faults: each ends in the decision the failurePolicy calls for,
//! with a clear message, never a crash or a hang.

mod support;

use imgverify::decision::{Decision, RuleStatus};
use imgverify_host::cache::CachingSource;
use imgverify_host::metrics::Metrics;
use imgverify_host::registry::RegistryClient;
use imgverify_host::registry::config::RegistryConfig;
use imgverify_host::runner::decide_native;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::fake::{self, Fault};

fn decide(fault: Fault, deadline: Option<Duration>) -> (Decision, Duration, usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (port, state) = rt.block_on(fake::start(fault));
    let config = RegistryConfig {
        retries: 2,
        request_timeout_seconds: 3,
        ..Default::default()
    };
    let (source, _) = caching_source(&config, &rt);
    let engine = Arc::new(imgverify::Engine::compile("p.yaml", &support::keyed_policy()).unwrap());
    let request = support::pod_request("p", &format!("127.0.0.1:{port}/demo/signed:v1"));
    // The webhook path (a deadline on every fetch round) runs in the module,
    // compiled before the clock starts.
    let mut loaded = deadline.map(|_| {
        let runner = imgverify_host::runner::ModuleRunner::new().unwrap();
        let texts = vec![imgverify_host::inputs::NamedText {
            name: "p.yaml".into(),
            text: support::keyed_policy(),
        }];
        imgverify_host::apply::load_policies(&runner, &texts, &Default::default()).unwrap()
    });
    let start = Instant::now();
    let d = match (deadline, loaded.as_mut()) {
        (Some(limit), Some(loaded)) => loaded
            .decide_bytes(&request, &source, Some(Instant::now() + limit))
            .unwrap(),
        _ => decide_native(&engine, &request, &source).unwrap(),
    };
    let took = start.elapsed();
    let n = state.requests.load(std::sync::atomic::Ordering::SeqCst);
    drop(rt);
    (d, took, n)
}

fn message(d: &Decision) -> &str {
    &d.results[0].message
}

#[test]
fn retry_after_429_then_success() {
    let (d, took, n) = decide(Fault::TooManyRequests(2), None);
    assert!(d.allowed, "{}", message(&d));
    assert!(
        took >= Duration::from_secs(2),
        "Retry-After: 1 honoured twice, took {took:?}"
    );
    assert_eq!(n, 5, "2 throttled + 3 artifacts");
}

#[test]
fn server_errors_are_errors_under_fail() {
    let (d, _, n) = decide(Fault::Unavailable, None);
    assert!(!d.allowed);
    assert_eq!(d.results[0].result, RuleStatus::Error);
    assert!(
        message(&d).contains("503") && message(&d).contains("after 3 attempts"),
        "{}",
        message(&d)
    );
    assert_eq!(n, 3, "one request and two retries");
}

#[test]
fn bytes_not_matching_their_digest_fail() {
    let (d, _, _) = decide(Fault::WrongBytes, None);
    assert!(!d.allowed);
    assert!(message(&d).contains("digest mismatch"), "{}", message(&d));
}

#[test]
fn oversized_blob_and_manifest_are_refused() {
    let (d, _, _) = decide(Fault::OversizedBlob, None);
    assert!(!d.allowed);
    assert!(message(&d).contains("over the limit"), "{}", message(&d));
    let (d, _, _) = decide(Fault::OversizedManifest, None);
    assert!(!d.allowed);
    assert!(message(&d).contains("over the limit"), "{}", message(&d));
}

#[test]
fn redirect_loop_is_an_error() {
    let (d, _, _) = decide(Fault::RedirectLoop, None);
    assert!(!d.allowed);
    assert!(
        message(&d).to_lowercase().contains("redirect"),
        "{}",
        message(&d)
    );
}

#[test]
fn slow_registry_hits_the_deadline() {
    let (d, took, _) = decide(
        Fault::Slow(Duration::from_secs(30)),
        Some(Duration::from_secs(2)),
    );
    assert!(!d.allowed);
    assert!(message(&d).contains("deadline exceeded"), "{}", message(&d));
    assert!(
        took < Duration::from_secs(5),
        "answered at the deadline, took {took:?}"
    );
}

#[test]
fn cache_budget_evicts_and_disk_cache_is_rehashed() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (port, state) = rt.block_on(fake::start(Fault::Slow(Duration::ZERO)));
    let dir = support::tempdir::Dir::new("disk-cache");
    let engine = Arc::new(imgverify::Engine::compile("p.yaml", &support::keyed_policy()).unwrap());
    let request = support::pod_request("p", &format!("127.0.0.1:{port}/demo/signed:v1"));
    let requests = || state.requests.load(std::sync::atomic::Ordering::SeqCst);
    let make = |memory_bytes: usize| {
        let mut config = RegistryConfig::default();
        config.cache.memory_bytes = memory_bytes;
        config.cache.dir = Some(dir.0.display().to_string());
        caching_source(&config, &rt)
    };
    // A 1-byte memory budget keeps nothing in memory: every blob is an eviction candidate.
    let (tiny, m) = make(1);
    assert!(decide_native(&engine, &request, &tiny).unwrap().allowed);
    assert_eq!(m.cache_bytes.get(), 0);
    let first = requests();
    assert_eq!(first, 3);
    // A new process with the same disk cache: the payload blob comes from disk, re-hashed.
    let (fresh, _) = make(1 << 20);
    assert!(decide_native(&engine, &request, &fresh).unwrap().allowed);
    assert_eq!(
        requests() - first,
        2,
        "tag and .sig manifests again; the blob from disk"
    );
    // A corrupted disk entry is detected by its hash and fetched again.
    let blobs: Vec<_> = std::fs::read_dir(dir.0.join("sha256"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(blobs.len(), 1);
    std::fs::write(&blobs[0], b"tampered").unwrap();
    let (again, _) = make(1 << 20);
    let before = requests();
    assert!(decide_native(&engine, &request, &again).unwrap().allowed);
    assert_eq!(requests() - before, 3, "tampered disk entry refetched");
    // An LRU with room for one payload evicts when a second image's payload arrives.
    let images = ["signed", "signed-by-b"];
    let size_of = |img: &str| {
        let (src, m) = make(1 << 20);
        let r = support::pod_request("p", &format!("127.0.0.1:{port}/demo/{img}:v1"));
        let _ = decide_native(&engine, &r, &src).unwrap();
        m.cache_bytes.get()
    };
    let budget = images.iter().map(|i| size_of(i)).max().unwrap() as usize;
    let (small, m) = make(budget);
    for img in images {
        let r = support::pod_request("p", &format!("127.0.0.1:{port}/demo/{img}:v1"));
        assert!(
            decide_native(&engine, &r, &small).unwrap().results[0]
                .images
                .len()
                == 1
        );
    }
    assert_eq!(m.cache_evictions.get(), 1);
    assert!(m.cache_bytes.get() as usize <= budget);
}

/// A caching source over a fresh registry client, with its metrics.
fn caching_source(
    config: &RegistryConfig,
    rt: &tokio::runtime::Runtime,
) -> (CachingSource, Metrics) {
    let metrics = Metrics::new();
    let client = Arc::new(RegistryClient::new(config.clone(), metrics.clone()).unwrap());
    let source =
        CachingSource::new(client, &config.cache, metrics.clone(), rt.handle().clone()).unwrap();
    (source, metrics)
}

#[test]
fn item6_a_cancelled_shared_fetch_is_not_pinned() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (port, state) = rt.block_on(fake::start(Fault::SlowFirst(Duration::from_secs(3))));
    let config = RegistryConfig {
        retries: 0,
        request_timeout_seconds: 5,
        ..Default::default()
    };
    let (source, _) = caching_source(&config, &rt);
    let fetch = imgverify::engine::Fetch::manifest_by_tag(
        &format!("127.0.0.1:{port}"),
        "demo/signed",
        "v1",
    );
    use imgverify_host::source::{ArtifactSource, SourceAnswer};
    // The leader's admission hits its deadline while a second caller has joined.
    let (leader, joiner) = rt.block_on(async {
        let leader = source.fetch_all_async(
            std::slice::from_ref(&fetch),
            Some(Instant::now() + Duration::from_millis(300)),
        );
        let joiner = async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            source.fetch_async(&fetch).await
        };
        tokio::join!(leader, joiner)
    });
    assert!(
        matches!(&leader[0], SourceAnswer::Error(m) if m.contains("deadline exceeded")),
        "{leader:?}"
    );
    assert!(
        matches!(&joiner, SourceAnswer::Error(m) if m.contains("cancelled")),
        "the joined caller gets the error: {joiner:?}"
    );
    // The next caller fetches again and gets the real answer.
    let again = source.fetch(&fetch);
    assert!(matches!(again, SourceAnswer::Bytes(_)), "{again:?}");
    assert_eq!(state.requests.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[test]
fn item11_redirects_only_to_http_and_messages_carry_no_body_text() {
    for target in [
        "file:///etc/passwd",
        "ftp://127.0.0.1/x",
        "gopher://127.0.0.1/x",
    ] {
        let (d, _, _) = decide(Fault::RedirectTo(target), None);
        assert!(!d.allowed);
        assert!(
            message(&d).contains("redirect not followed"),
            "{target}: {}",
            message(&d)
        );
        assert_eq!(d.results[0].result, RuleStatus::Fail, "{target}");
    }
    for code in [400, 401, 403, 404, 500] {
        let (d, _, _) = decide(Fault::ErrorBody(code), None);
        assert!(!d.allowed);
        let m = message(&d);
        assert!(m.contains(&code.to_string()), "{m}");
        assert!(!m.contains("SECRET"), "registry text reflected: {m}");
        assert!(!m.contains("<script>"), "registry text reflected: {m}");
        if ![401, 500].contains(&code) {
            assert!(m.contains("OCI error DENIED"), "{m}");
        }
        // Only a server error (after retries) is a transport error.
        let want = if code == 500 {
            RuleStatus::Error
        } else {
            RuleStatus::Fail
        };
        assert_eq!(d.results[0].result, want, "{code}: {m}");
    }
}

/// A TLS server answering every request with a redirect to plain HTTP.
async fn tls_redirector(dir: &std::path::Path, http_port: u16) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, cert.cert.pem()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.cert.der().clone()],
        rustls::pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der()).unwrap(),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut s) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = vec![0u8; 4096];
                let _ = s.read(&mut buf).await;
                let reply = format!(
                    "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:{http_port}/v2/x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = s.write_all(reply.as_bytes()).await;
                let _ = s.shutdown().await;
            });
        }
    });
    (port, ca.display().to_string())
}

#[test]
fn item11_no_redirect_from_https_down_to_http() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = support::tempdir::Dir::new("https-redirect");
    let (http_port, plain) = rt.block_on(fake::start(Fault::Slow(Duration::ZERO)));
    let (tls_port, ca) = rt.block_on(tls_redirector(&dir.0, http_port));
    let config = RegistryConfig {
        ca_files: vec![ca],
        retries: 0,
        ..Default::default()
    };
    let (source, _) = caching_source(&config, &rt);
    let engine = Arc::new(
        imgverify::Engine::compile(
            "p.yaml",
            &support::keyed_policy().replace("\"127.0.0.1:*\"", "\"localhost:*\""),
        )
        .unwrap(),
    );
    let request = support::pod_request("p", &format!("localhost:{tls_port}/demo/signed:v1"));
    let d = decide_native(&engine, &request, &source).unwrap();
    assert!(!d.allowed);
    assert!(
        message(&d).contains("redirect not followed: from https to plain http"),
        "{}",
        message(&d)
    );
    assert_eq!(
        plain.requests.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "nothing reached the plain-HTTP server"
    );
}

#[test]
fn a_deadline_while_fetching_signatures_is_an_error_that_says_so() {
    let (d, took, _) = decide(
        Fault::SlowBlobs(Duration::from_secs(30)),
        Some(Duration::from_secs(2)),
    );
    assert!(!d.allowed, "failurePolicy Fail");
    assert_eq!(d.results[0].result, RuleStatus::Error);
    let m = message(&d);
    assert!(m.contains("signatures could not all be fetched"), "{m}");
    assert!(m.contains("deadline exceeded"), "{m}");
    assert!(!m.contains("no matching signatures"), "{m}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}
