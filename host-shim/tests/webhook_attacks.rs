//! Hostile clients of the webhook: requests that are not AdmissionReviews,
//! clients that connect and say nothing, send headers or bodies slowly, or
//! open more connections than allowed, and bursts beyond the instance budget.

mod support;

use imgverify_host::serve::ServeArgs;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::webhook::{Server, layout, pod, policy, start_with};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn post(s: &Server, body: &str) -> (u16, String) {
    let r = s
        .client
        .post(format!("{}/mutate", s.url))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item13_what_is_not_an_admission_review_gets_400() {
    let s = start_with(vec![policy("keyed-signature")], (&layout(), None), |a| a).await;
    let unsigned = pod("p", "registry.example.com/demo/unsigned:v1");
    for (body, want) in [
        (
            json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "1", "operation": "CREATE"}}),
            "without request.object",
        ),
        (
            json!({"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview", "request": {"uid": "1", "operation": "CREATE", "object": unsigned}}),
            "admission.k8s.io/v1beta1",
        ),
        (
            json!({"apiVersion": "admission.k8s.io/v1", "kind": "ConversionReview", "request": {"uid": "1", "operation": "CREATE", "object": unsigned}}),
            "ConversionReview",
        ),
        (
            json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "1", "operation": "UPDATE", "object": "x"}}),
            "not an object",
        ),
        (
            json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}),
            "no request",
        ),
    ] {
        let (status, text) = post(&s, &body.to_string()).await;
        assert_eq!(status, 400, "{body}: {text}");
        assert!(text.contains(want), "{text} should name {want}");
        assert!(!text.contains("\"allowed\":true"));
    }
    let (status, _) = post(&s, "not json").await;
    assert_eq!(status, 400);
    // DELETE carries nothing to verify.
    let del = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "d", "operation": "DELETE", "oldObject": unsigned}});
    let (status, text) = post(&s, &del.to_string()).await;
    assert_eq!(status, 200);
    assert!(text.contains("\"allowed\":true"), "{text}");
    s.stop().await;
}

fn tls_connector(pem: &str) -> tokio_rustls::TlsConnector {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

async fn tls_connect(
    s: &Server,
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let pem = std::fs::read_to_string(s.dir.0.join("tls.crt")).unwrap();
    let port = s.url.rsplit(':').next().unwrap();
    let tcp = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}")).await?;
    tls_connector(&pem)
        .connect("localhost".try_into().unwrap(), tcp)
        .await
}

/// Reads until the server closes; returns how long that took.
async fn closed_within(
    mut c: tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
    limit: Duration,
) -> Duration {
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(limit, c.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return start.elapsed(),
            Ok(Ok(_)) => continue,
            Err(_) => panic!("the server kept the connection open past {limit:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item9_idle_slow_and_surplus_clients_do_not_hold_the_server() {
    let s = start_with(vec![policy("keyed-signature")], (&layout(), None), |a| {
        ServeArgs {
            header_timeout_seconds: 1,
            idle_timeout_seconds: 4,
            request_timeout_seconds: 2,
            max_connections: 3,
            ..a
        }
    })
    .await;
    // Connected over TLS, then silent: closed by the header-read timeout.
    let c = tls_connect(&s).await.unwrap();
    let took = closed_within(c, Duration::from_secs(5)).await;
    assert!(took >= Duration::from_millis(900), "{took:?}");
    // Half a request line and headers, then nothing.
    let mut c = tls_connect(&s).await.unwrap();
    c.write_all(b"POST /mutate HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    closed_within(c, Duration::from_secs(5)).await;
    // Headers, then a body that never comes: the request times out.
    let mut c = tls_connect(&s).await.unwrap();
    c.write_all(b"POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{").await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(6), c.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    // Three connections held open: a fourth is not accepted until one closes.
    let held: Vec<_> = futures::future::join_all((0..3).map(|_| tls_connect(&s)))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let fourth = tokio::time::timeout(Duration::from_millis(600), tls_connect(&s)).await;
    assert!(
        fourth.is_err(),
        "a fourth connection was served at the limit"
    );
    drop(held);
    let fourth = tokio::time::timeout(Duration::from_secs(5), tls_connect(&s)).await;
    assert!(matches!(fourth, Ok(Ok(_))), "served once the others closed");
    // The webhook still answers.
    let ok = s
        .client
        .get(format!("{}/healthz", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item14_live_instances_stay_within_the_memory_budget() {
    let s = start_with(vec![policy("keyed-signature")], (&layout(), None), |a| {
        ServeArgs {
            instance_memory_mib: 1024,
            ..a
        }
    })
    .await;
    let mut tasks = Vec::new();
    for i in 0..24 {
        let (client, url) = (s.client.clone(), s.url.clone());
        tasks.push(tokio::spawn(async move {
            let body = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
                "uid": format!("i{i}"), "operation": "CREATE",
                "object": pod(&format!("p{i}"), "registry.example.com/demo/signed:v1")}});
            let r = client.post(format!("{url}/mutate")).body(body.to_string()).header("content-type", "application/json").send().await.unwrap();
            let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
            v["response"]["allowed"] == true
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap());
    }
    let metrics = s.metrics().await;
    let peak: i64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("imgverify_instances_peak "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        (1..=2).contains(&peak),
        "1024 MiB / 512 MiB per instance, peak {peak}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ephemeral_containers_are_verified() {
    let s = start_with(vec![policy("keyed-signature")], (&layout(), None), |a| a).await;
    let mut p = pod("debugged", "registry.example.com/demo/signed:v1");
    p["spec"]["ephemeralContainers"] =
        json!([{"name": "debugger", "image": "registry.example.com/demo/unsigned:v1"}]);
    let body = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "e", "operation": "UPDATE", "subResource": "ephemeralcontainers", "namespace": "default",
        "object": p, "oldObject": pod("debugged", "registry.example.com/demo/signed:v1"),
        "userInfo": {"username": "dev"}}});
    let (status, text) = post(&s, &body.to_string()).await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["response"]["allowed"], false, "{text}");
    assert!(
        text.contains("registry.example.com/demo/unsigned:v1"),
        "{text}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item9_out_of_file_descriptors_backs_off_and_recovers() {
    use std::os::unix::process::CommandExt;
    let dir = support::tempdir::Dir::new("emfile");
    let (cert, key, pem) = support::webhook::certs(&dir.0);
    let port = support::free_port();
    let log = dir.0.join("serve.log");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_imgverify"));
    cmd.args([
        "serve",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--tls-cert",
        &cert,
        "--tls-key",
        &key,
    ])
    .args([
        "--policy",
        &policy("keyed-signature"),
        "--oci-layout",
        &layout()[0],
        "--log-format",
        "json",
    ])
    .stdout(std::process::Stdio::null())
    .stderr(std::fs::File::create(&log).unwrap());
    // SAFETY: setrlimit is async-signal-safe; it only lowers this child's limit.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 96,
                rlim_max: 96,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    // A fresh client each time: no pooled connection survives the exhaustion.
    let health = || async {
        let c = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
            .use_rustls_tls()
            .build()
            .unwrap();
        c.get(format!("https://localhost:{port}/healthz"))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
    };
    let start = Instant::now();
    // Compiling the module takes seconds on a loaded 2-core machine.
    while !health().await {
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "{}",
            std::fs::read_to_string(&log).unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Exhaust the server's descriptors with idle connections.
    let held: Vec<_> = (0..150)
        .filter_map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).ok())
        .collect();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let text = std::fs::read_to_string(&log).unwrap();
    let failures = text.matches("accept failed").count();
    assert!(failures >= 1, "the limit was never hit: {text}");
    assert!(
        failures <= 5,
        "{failures} log lines in 3 s: not rate-limited"
    );
    drop(held);
    // Once descriptors are free again, it serves.
    let start = Instant::now();
    while !health().await {
        assert!(start.elapsed() < Duration::from_secs(20), "did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item9_an_http2_client_pinging_without_requests_is_closed_when_idle() {
    let s = start_with(vec![policy("keyed-signature")], (&layout(), None), |a| {
        ServeArgs {
            idle_timeout_seconds: 2,
            ..a
        }
    })
    .await;
    let pem = std::fs::read_to_string(s.dir.0.join("tls.crt")).unwrap();
    let port = s.url.rsplit(':').next().unwrap().to_string();
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    use rustls::pki_types::pem::PemObject;
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let tcp = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}"))
        .await
        .unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
            .timer(hyper_util::rt::TokioTimer::new())
            .keep_alive_interval(Duration::from_millis(300))
            .keep_alive_while_idle(true)
            .handshake(hyper_util::rt::TokioIo::new(tls))
            .await
            .unwrap();
    let conn = tokio::spawn(conn);
    let req = hyper::Request::get(format!("https://localhost:{port}/healthz"))
        .body(http_body_util::Empty::<axum::body::Bytes>::new())
        .unwrap();
    let r = sender.send_request(req).await.unwrap();
    assert_eq!(r.status(), 200);
    // Pings every 300 ms, no requests: closed after the 2 s idle timeout.
    let start = Instant::now();
    let closed = tokio::time::timeout(Duration::from_secs(8), conn).await;
    assert!(closed.is_ok(), "the pinging connection was kept open");
    assert!(
        start.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        start.elapsed()
    );
    s.stop().await;
}
