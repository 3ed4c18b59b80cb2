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
    let metrics = Metrics::new();
    let client = Arc::new(RegistryClient::new(config.clone(), metrics.clone()).unwrap());
    let source = CachingSource::new(client, &config.cache, metrics, rt.handle().clone()).unwrap();
    let engine = Arc::new(imgverify::Engine::compile("p.yaml", &support::keyed_policy()).unwrap());
    let request = support::pod_request("p", &format!("127.0.0.1:{port}/demo/signed:v1"));
    let start = Instant::now();
    let d = match deadline {
        None => decide_native(&engine, &request, &source).unwrap(),
        Some(limit) => {
            // The webhook path: a deadline on every fetch round.
            let runner = imgverify_host::runner::ModuleRunner::new().unwrap();
            let texts = vec![imgverify_host::inputs::NamedText {
                name: "p.yaml".into(),
                text: support::keyed_policy(),
            }];
            let mut loaded = imgverify_host::apply::load_policies(&runner, &texts).unwrap();
            loaded
                .decide_bytes(&request, &source, Some(Instant::now() + limit))
                .unwrap()
        }
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
        let metrics = Metrics::new();
        let client = Arc::new(RegistryClient::new(config.clone(), metrics.clone()).unwrap());
        (
            CachingSource::new(client, &config.cache, metrics.clone(), rt.handle().clone())
                .unwrap(),
            metrics,
        )
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
