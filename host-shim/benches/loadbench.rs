//! Load benchmark (not a test): the webhook over HTTPS against a local
//! docker-registry, a 3-container Pod, cold cache (caching off) and warm
//! cache. Prints admissions/s, p50/p99 latency, registry requests per
//! admission and the peak RSS of the process that ran the phase.
//!
//! `cargo bench -p imgverify-host --bench loadbench [-- ADMISSIONS CONCURRENCY]`

#[path = "../tests/support/mod.rs"]
mod support;

use imgverify_host::serve::{ServeArgs, serve};
use serde_json::json;
use std::time::{Duration, Instant};
use support::{Auth, TestRegistry, tempdir::Dir};

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse()
                    .unwrap_or(0)
            })
        })
        .unwrap_or(0)
}

fn policy() -> String {
    std::fs::read_to_string(support::root().join("policies/multi-key-count/policy.yaml"))
        .unwrap()
        .replace(
            "registry.example.com/demo/multi*",
            "127.0.0.1:*/demo/multi*",
        )
        .replace("registry.example.com/demo/*", "127.0.0.1:*")
}

fn phase(name: &str, n: usize, concurrency: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let reg = TestRegistry::start(Auth::None);
    rt.block_on(reg.push_examples());
    let dir = Dir::new("loadbench");
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(dir.0.join("tls.crt"), cert.cert.pem()).unwrap();
    std::fs::write(dir.0.join("tls.key"), cert.signing_key.serialize_pem()).unwrap();
    std::fs::write(dir.0.join("policy.yaml"), policy()).unwrap();
    let cache = if name == "cold" {
        "cache:\n  memoryBytes: 0\n  tagTtlSeconds: 0\n"
    } else {
        "cache:\n  tagTtlSeconds: 300\n"
    };
    std::fs::write(dir.0.join("registry.yaml"), cache).unwrap();
    let port = support::free_port();
    let args = ServeArgs {
        listen: format!("127.0.0.1:{port}"),
        registry_config: Some(dir.0.join("registry.yaml").display().to_string()),
        reload_interval: 60,
        log_format: "none".into(),
        ..ServeArgs::new(
            vec![dir.0.join("policy.yaml").display().to_string()],
            dir.0.join("tls.crt").display().to_string(),
            dir.0.join("tls.key").display().to_string(),
        )
    };
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(serve(args, async move {
        let _ = rx.await;
    }));
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .use_rustls_tls()
        .build()
        .unwrap();
    let url = format!("https://localhost:{port}/mutate");
    let host = reg.host();
    let body = |uid: usize| {
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": format!("u{uid}"), "operation": "CREATE",
            "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("p{uid}"), "namespace": "default"},
              "spec": {"containers": [
                {"name": "a", "image": format!("{host}/demo/signed:v1")},
                {"name": "b", "image": format!("{host}/demo/signed-by-b:v1")},
                {"name": "c", "image": format!("{host}/demo/multi:v1")}]}}}})
        .to_string()
    };
    rt.block_on(async {
        for _ in 0..200 {
            if client
                .get(format!("https://localhost:{port}/healthz"))
                .send()
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // One admission to compile the module instance pool's first member; not counted.
        let r = client
            .post(&url)
            .header("content-type", "application/json")
            .body(body(usize::MAX))
            .send()
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        assert_eq!(v["response"]["allowed"], true, "{v}");
    });
    let before: usize = reg.get_counts().values().sum();
    let start = Instant::now();
    let latencies = rt.block_on(async {
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let (client, url, next) = (client.clone(), url.clone(), next.clone());
            let bodies: Vec<String> = (0..n).map(body).collect();
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if i >= n {
                        break;
                    }
                    let t = Instant::now();
                    let r = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(bodies[i].clone())
                        .send()
                        .await
                        .unwrap();
                    let v: serde_json::Value =
                        serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
                    assert_eq!(v["response"]["allowed"], true);
                    lat.push(t.elapsed());
                }
                lat
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    });
    let wall = start.elapsed();
    let after: usize = reg.get_counts().values().sum();
    let mut l = latencies;
    l.sort();
    let pct = |p: f64| l[((l.len() as f64 * p) as usize).min(l.len() - 1)];
    println!(
        "{name:>4} cache: {n} admissions, concurrency {concurrency}: {:.1} admissions/s, p50 {:.2} ms, p99 {:.2} ms, registry requests/admission {:.2}, peak RSS {} MiB",
        n as f64 / wall.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        (after - before) as f64 / n as f64,
        peak_rss_kib() / 1024
    );
    let _ = tx.send(());
    let _ = rt.block_on(server);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--phase") {
        let n = args[i + 2].parse().unwrap();
        let c = args[i + 3].parse().unwrap();
        phase(&args[i + 1], n, c);
        return;
    }
    let nums: Vec<usize> = args.iter().skip(1).filter_map(|a| a.parse().ok()).collect();
    let n = nums.first().copied().unwrap_or(300);
    let c = nums.get(1).copied().unwrap_or(8);
    println!(
        "webhook load benchmark: 3-container Pod, keys A or B (count 1), local docker-registry over loopback"
    );
    for name in ["cold", "warm"] {
        // Each phase in its own process, so its peak RSS is its own.
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--phase", name, &n.to_string(), &c.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}
