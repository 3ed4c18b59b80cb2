//! Load benchmark (not a test): the webhook over HTTPS against a local
//! docker-registry, a 3-container Pod, cold cache (caching off) and warm
//! cache. Prints admissions/s, p50/p99 latency, registry requests per
//! admission and the peak RSS of the process that ran the phase.
//!
//! With Debian's `wrk` installed (`cargo xtask bench` installs it), the warm
//! phase is also driven by `wrk` in its own process: `/healthz` (the HTTP
//! ceiling of the same server), then the admission on one connection (p50,
//! p99) and on 16, each with the server's CPU time per request (getrusage of
//! this process, which runs only the server). The cold phase also puts the
//! registry behind a proxy that delays every request by a fixed time and
//! reports a cold admission's latency in units of that delay (registry round
//! trips in sequence).
//!
//! The scan phase times the same warm admissions while a background scan
//! of a loopback API server's Pods runs back to back, against a server
//! that does not scan.
//!
//! `cargo bench -p imgverify-host --bench loadbench [-- ADMISSIONS CONCURRENCY]`

#[path = "../tests/support/mod.rs"]
mod support;

use imgverify_host::serve::{ServeArgs, serve};
use serde_json::json;
use std::time::{Duration, Instant};
use support::{Auth, TestRegistry, tempdir::Dir};

/// The registry delay of the cold round-trip measurement.
const REGISTRY_DELAY: Duration = Duration::from_millis(50);

/// Fresh servers whose first admission the cold phases time (the median is
/// reported).
const FIRST_ADMISSION_TRIALS: usize = 5;

/// The signed example repositories a 10-container Pod draws from.
const TEN_REPOS: [&str; 3] = ["demo/signed", "demo/signed-by-b", "demo/multi"];

/// Pushes each signed example's `v1` manifest again under tags `c0`..`c3`,
/// so a 10-container Pod names 10 distinct image references.
async fn push_more_tags(reg: &TestRegistry) {
    let layout = support::root().join("policies/images");
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(layout.join("index.json")).unwrap()).unwrap();
    let client = reg.client();
    for repo in TEN_REPOS {
        let want = format!("registry.example.com/{repo}:v1");
        let digest = index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == want.as_str())
            .and_then(|m| m["digest"].as_str())
            .unwrap()
            .to_string();
        let bytes = std::fs::read(
            layout
                .join("blobs/sha256")
                .join(digest.trim_start_matches("sha256:")),
        )
        .unwrap();
        for tag in ["c0", "c1", "c2", "c3"] {
            reg.push_manifest(&client, repo, tag, &bytes).await;
        }
    }
}

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

/// CPU time of this process (user + system).
fn cpu_time() -> Duration {
    // SAFETY: getrusage writes into the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

/// What one `wrk` run measured.
struct Wrk {
    requests: u64,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// Server CPU per request.
    cpu_per_request_ms: f64,
}

fn wrk_available() -> bool {
    std::process::Command::new("wrk")
        .arg("--version")
        .output()
        .is_ok()
}

/// Runs `wrk` against `url` (POSTing `body` when given) and measures this
/// process's CPU time meanwhile.
fn wrk(url: &str, body: Option<&str>, connections: usize, seconds: u64, dir: &Dir) -> Wrk {
    let mut cmd = std::process::Command::new("wrk");
    cmd.args([
        "-t1",
        &format!("-c{connections}"),
        &format!("-d{seconds}s"),
        "--latency",
    ]);
    if let Some(body) = body {
        let script = dir.0.join("post.lua");
        std::fs::write(
            &script,
            format!(
                "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = [==[{body}]==]\n"
            ),
        )
        .unwrap();
        cmd.arg("-s").arg(&script);
    }
    cmd.arg(url);
    let cpu = cpu_time();
    let out = cmd.output().expect("run wrk");
    let cpu = cpu_time() - cpu;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "wrk failed: {text}");
    assert!(
        !text.contains("Non-2xx"),
        "wrk saw failed requests:\n{text}"
    );
    let ms = |v: &str| -> f64 {
        let (num, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len()));
        let x: f64 = num.parse().unwrap_or(f64::NAN);
        match unit {
            "us" => x / 1e3,
            "ms" => x,
            "s" => x * 1e3,
            "m" => x * 60e3,
            _ => f64::NAN,
        }
    };
    let field = |prefix: &str| -> Option<String> {
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(1).map(String::from))
    };
    let requests: u64 = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Wrk {
        requests,
        per_second: field("Requests/sec:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN),
        p50_ms: field("50%").map(|v| ms(&v)).unwrap_or(f64::NAN),
        p99_ms: field("99%").map(|v| ms(&v)).unwrap_or(f64::NAN),
        cpu_per_request_ms: cpu.as_secs_f64() * 1e3 / requests.max(1) as f64,
    }
}

fn phase(name: &str, n: usize, concurrency: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let reg = TestRegistry::start(Auth::None);
    rt.block_on(reg.push_examples());
    if name == "delay10" {
        rt.block_on(push_more_tags(&reg));
    }
    let dir = Dir::new("loadbench");
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(dir.0.join("tls.crt"), cert.cert.pem()).unwrap();
    std::fs::write(dir.0.join("tls.key"), cert.signing_key.serialize_pem()).unwrap();
    std::fs::write(dir.0.join("policy.yaml"), policy()).unwrap();
    let cache = if name != "warm" && name != "herd" {
        "cache:\n  memoryBytes: 0\n  tagTtlSeconds: 0\n"
    } else {
        "cache:\n  tagTtlSeconds: 300\n"
    };
    std::fs::write(dir.0.join("registry.yaml"), cache).unwrap();
    // A fresh server: its own caches, TLS probe results and instance pool.
    let start_server = || {
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
        (port, tx, server)
    };
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .use_rustls_tls()
        .build()
        .unwrap();
    let host = match name {
        "delay" | "delay10" => {
            let proxy = support::proxy::start(&rt, reg.host(), REGISTRY_DELAY);
            format!("127.0.0.1:{}", proxy.port)
        }
        _ => reg.host(),
    };
    let ten = |uid: usize| {
        let containers: Vec<_> = (0..10)
            .map(|i| json!({"name": format!("c{i}"), "image": format!("{host}/{}:c{}", TEN_REPOS[i % 3], i / 3)}))
            .collect();
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": format!("u{uid}"), "operation": "CREATE",
            "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("p{uid}"), "namespace": "default"},
              "spec": {"containers": containers}}}})
        .to_string()
    };
    let body = |uid: usize| {
        if name == "delay10" {
            return ten(uid);
        }
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": format!("u{uid}"), "operation": "CREATE",
            "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("p{uid}"), "namespace": "default"},
              "spec": {"containers": [
                {"name": "a", "image": format!("{host}/demo/signed:v1")},
                {"name": "b", "image": format!("{host}/demo/signed-by-b:v1")},
                {"name": "c", "image": format!("{host}/demo/multi:v1")}]}}}})
        .to_string()
    };
    // A fresh server's first admission (after `/healthz` answers).
    let first_admission = |port: u16| {
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
            // Not in the herd: it would warm the cache.
            if name == "herd" {
                return Duration::ZERO;
            }
            let t = Instant::now();
            let r = client
                .post(format!("https://localhost:{port}/mutate"))
                .header("content-type", "application/json")
                .body(body(usize::MAX))
                .send()
                .await
                .unwrap();
            let v: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
            assert_eq!(v["response"]["allowed"], true, "{v}");
            t.elapsed()
        })
    };
    // Cold phases: the first admission of several fresh servers (one sample
    // is at the mercy of the shared machine); the last server stays up.
    let trials = if name.starts_with("delay") {
        FIRST_ADMISSION_TRIALS
    } else {
        1
    };
    let mut firsts = Vec::new();
    for _ in 1..trials {
        let (port, tx, server) = start_server();
        firsts.push(first_admission(port));
        let _ = tx.send(());
        let _ = rt.block_on(server);
    }
    let (port, tx, server) = start_server();
    let url = format!("https://localhost:{port}/mutate");
    firsts.push(first_admission(port));
    firsts.sort();
    let first = firsts[firsts.len() / 2];
    let (first_min, first_max) = (firsts[0], firsts[firsts.len() - 1]);
    let before: usize = reg.get_counts().values().sum();
    let start = Instant::now();
    let bodies: Vec<String> = (0..n).map(body).collect();
    let latencies = rt.block_on(admit_all(&client, &url, bodies, concurrency));
    let wall = start.elapsed();
    let after: usize = reg.get_counts().values().sum();
    let mut l = latencies;
    l.sort();
    let pct = |p: f64| l[((l.len() as f64 * p) as usize).min(l.len() - 1)];
    if name == "herd" {
        let counts = reg.get_counts();
        println!(
            "cold herd: {n} identical 3-container admissions at once on a fresh server: {} registry GETs for {} distinct artifacts (all allowed)",
            after - before,
            counts.len()
        );
    } else if name == "delay10" {
        println!(
            "cold 10-container Pod, the server's first admission (it meets the registry: the TLS probe runs beside the first round, then one round per dependency level), median of {trials} fresh servers: {:.1} ms = {:.2} registry delays (min {:.2}, max {:.2})",
            first.as_secs_f64() * 1e3,
            first.as_secs_f64() / REGISTRY_DELAY.as_secs_f64(),
            first_min.as_secs_f64() / REGISTRY_DELAY.as_secs_f64(),
            first_max.as_secs_f64() / REGISTRY_DELAY.as_secs_f64()
        );
        println!(
            "cold 10-container Pod (10 tags of 3 signed images) again, registry {} ms away per request, caching off: p50 {:.1} ms = {:.2} registry delays in sequence ({n} admissions one at a time; the engine asks for what it needed last time in the first round)",
            REGISTRY_DELAY.as_millis(),
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.50).as_secs_f64() / REGISTRY_DELAY.as_secs_f64()
        );
    } else if name == "delay" {
        println!(
            "cold 3-container Pod, the server's first admission (it meets the registry: the TLS probe runs beside the first round, then one round per dependency level), median of {trials} fresh servers: {:.1} ms = {:.2} registry delays (min {:.2}, max {:.2})",
            first.as_secs_f64() * 1e3,
            first.as_secs_f64() / REGISTRY_DELAY.as_secs_f64(),
            first_min.as_secs_f64() / REGISTRY_DELAY.as_secs_f64(),
            first_max.as_secs_f64() / REGISTRY_DELAY.as_secs_f64()
        );
        println!(
            "cold 3-container Pod again, registry {} ms away per request, caching off: p50 {:.1} ms = {:.2} registry delays in sequence ({n} admissions one at a time; fetches predicted)",
            REGISTRY_DELAY.as_millis(),
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.50).as_secs_f64() / REGISTRY_DELAY.as_secs_f64()
        );
    } else {
        println!(
            "{name:>4} cache (reqwest client in-process): {n} admissions, concurrency {concurrency}: {:.1} admissions/s, p50 {:.2} ms, p99 {:.2} ms, registry requests/admission {:.2}, peak RSS {} MiB",
            n as f64 / wall.as_secs_f64(),
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
            (after - before) as f64 / n as f64,
            peak_rss_kib() / 1024
        );
    }
    if name == "warm" {
        if wrk_available() {
            let healthz = wrk(
                &format!("https://localhost:{port}/healthz"),
                None,
                1,
                5,
                &dir,
            );
            let body = body(0);
            let one = wrk(&url, Some(&body), 1, 5, &dir);
            let many = wrk(&url, Some(&body), 16, 5, &dir);
            println!(
                "warm, wrk (own process), /healthz on 1 connection: {:.0} requests/s, p50 {:.3} ms, server CPU {:.3} ms/request",
                healthz.per_second, healthz.p50_ms, healthz.cpu_per_request_ms
            );
            for (c, w) in [(1, &one), (16, &many)] {
                println!(
                    "warm, wrk (own process), 3-container Pod admission on {c} connection(s): {:.0} admissions/s ({} in 5 s), p50 {:.3} ms, p99 {:.3} ms, server CPU {:.3} ms/admission (= {:.0} admissions/s per core)",
                    w.per_second,
                    w.requests,
                    w.p50_ms,
                    w.p99_ms,
                    w.cpu_per_request_ms,
                    1e3 / w.cpu_per_request_ms
                );
            }
            println!(
                "warm, peak RSS after the wrk runs: {} MiB",
                peak_rss_kib() / 1024
            );
        } else {
            println!("warm, wrk: skipped (wrk not installed; `cargo xtask bench` installs it)");
        }
    }
    let _ = tx.send(());
    let _ = rt.block_on(server);
}

/// Posts every body to `url` (each must be allowed) from `concurrency`
/// tasks taking the next body in turn; each admission's latency.
async fn admit_all(
    client: &reqwest::Client,
    url: &str,
    bodies: Vec<String>,
    concurrency: usize,
) -> Vec<Duration> {
    let bodies = std::sync::Arc::new(bodies);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, url, next, bodies) = (
            client.clone(),
            url.to_string(),
            next.clone(),
            bodies.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(body) = bodies.get(i) else { break };
                let t = Instant::now();
                let r = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                let v: serde_json::Value =
                    serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
                assert_eq!(v["response"]["allowed"], true, "{v}");
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
}

/// The `imgverify_<name>` sample of a Prometheus text, or 0.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("imgverify_{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// Warm admissions with and without a background scan running: a loopback
/// API server holds `PODS` Pods of the registry's images, and the second
/// server scans them back to back (interval 1 s) while the same admissions
/// are timed. Prints p50/p99 of both, their ratios, and the scan's rate.
fn scan_phase(n: usize, concurrency: usize) {
    const PODS: usize = 200;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let reg = TestRegistry::start(Auth::None);
    rt.block_on(reg.push_examples());
    let dir = Dir::new("loadbench-scan");
    let (api, kubeconfig) = rt.block_on(support::kubeapi::start(&dir.0));
    let host = reg.host();
    let images = [
        "demo/signed:v1",
        "demo/signed-by-b:v1",
        "demo/multi:v1",
        "demo/unsigned:v1",
    ];
    for i in 0..PODS {
        api.apply(
            "v1/pods",
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("running-{i}"), "namespace": "default"},
                "spec": {"containers": [{"name": "a", "image": format!("{host}/{}", images[i % images.len()])}]}}),
        );
    }
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(dir.0.join("tls.crt"), cert.cert.pem()).unwrap();
    std::fs::write(dir.0.join("tls.key"), cert.signing_key.serialize_pem()).unwrap();
    std::fs::write(dir.0.join("policy.yaml"), policy()).unwrap();
    std::fs::write(
        dir.0.join("registry.yaml"),
        "cache:\n  tagTtlSeconds: 300\n",
    )
    .unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .use_rustls_tls()
        .build()
        .unwrap();
    let body = |uid: usize| {
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": format!("u{uid}"), "operation": "CREATE",
            "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("p{uid}"), "namespace": "default"},
              "spec": {"containers": [
                {"name": "a", "image": format!("{host}/demo/signed:v1")},
                {"name": "b", "image": format!("{host}/demo/signed-by-b:v1")},
                {"name": "c", "image": format!("{host}/demo/multi:v1")}]}}}})
        .to_string()
    };
    let run = |scanning: bool| {
        let port = support::free_port();
        let args = ServeArgs {
            listen: format!("127.0.0.1:{port}"),
            registry_config: Some(dir.0.join("registry.yaml").display().to_string()),
            reload_interval: 60,
            log_format: "none".into(),
            kubeconfig: scanning.then(|| kubeconfig.clone()),
            background_scan_interval: if scanning { 1 } else { 0 },
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
        let base = format!("https://localhost:{port}");
        let result = rt.block_on(async {
            while client.get(format!("{base}/healthz")).send().await.is_err() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let scanned = || async {
                let m = client.get(format!("{base}/metrics")).send().await.unwrap();
                metric(&m.text().await.unwrap(), "background_resources_total")
            };
            // Warm: the cache holds every artifact; with a scan, it has begun.
            for i in 0..20 {
                client
                    .post(format!("{base}/mutate"))
                    .body(body(i))
                    .send()
                    .await
                    .unwrap();
            }
            while scanning && scanned().await < 1.0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let (scanned_before, start) = (scanned().await, Instant::now());
            let bodies: Vec<String> = (0..n).map(body).collect();
            let mut lat = admit_all(&client, &format!("{base}/mutate"), bodies, concurrency).await;
            let elapsed = start.elapsed();
            lat.sort();
            let rate = (scanned().await - scanned_before) / elapsed.as_secs_f64();
            (lat[lat.len() / 2], lat[lat.len() * 99 / 100], rate)
        });
        let _ = tx.send(());
        let _ = rt.block_on(server);
        result
    };
    let (p50, p99, _) = run(false);
    let (s50, s99, rate) = run(true);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "scan: {n} warm admissions at concurrency {concurrency}: p50 {:.2} ms, p99 {:.2} ms without a scan; p50 {:.2} ms, p99 {:.2} ms while {PODS} Pods are scanned back to back ({rate:.0} resources/s); ratio p50 {:.2}, p99 {:.2}",
        ms(p50),
        ms(p99),
        ms(s50),
        ms(s99),
        ms(s50) / ms(p50),
        ms(s99) / ms(p99),
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--phase") {
        let n = args[i + 2].parse().unwrap();
        let c = args[i + 3].parse().unwrap();
        match args[i + 1].as_str() {
            "scan" => scan_phase(n, c),
            name => phase(name, n, c),
        }
        return;
    }
    let nums: Vec<usize> = args.iter().skip(1).filter_map(|a| a.parse().ok()).collect();
    let n = nums.first().copied().unwrap_or(300);
    let c = nums.get(1).copied().unwrap_or(8);
    println!(
        "webhook load benchmark: 3-container Pod, keys A or B (count 1), local docker-registry over loopback"
    );
    for (name, n, c) in [
        ("cold", n, c),
        ("delay", 10, 1),
        ("delay10", 10, 1),
        ("herd", 50, 50),
        ("warm", n, c),
        ("scan", n, c),
    ] {
        // Each phase in its own process, so its peak RSS is its own.
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--phase", name, &n.to_string(), &c.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}
