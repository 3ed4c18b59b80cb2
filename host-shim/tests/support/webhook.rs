//! The webhook under test: started on a loopback port with a self-signed
//! certificate, and a client that trusts it.
#![allow(dead_code)]

use super::tempdir::Dir;
use imgverify_host::serve::{ServeArgs, serve};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

pub struct Server {
    pub url: String,
    pub client: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), String>>,
    pub dir: Dir,
}

pub fn certs(dir: &Path) -> (String, String, String) {
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let (c, k) = (dir.join("tls.crt"), dir.join("tls.key"));
    std::fs::write(&c, cert.cert.pem()).unwrap();
    std::fs::write(&k, cert.signing_key.serialize_pem()).unwrap();
    (
        c.display().to_string(),
        k.display().to_string(),
        cert.cert.pem(),
    )
}

pub async fn start(policies: Vec<String>, source: (&[String], Option<String>)) -> Server {
    start_with(policies, source, |a| a).await
}

/// Starts the webhook with `adjust` applied to its flags.
pub async fn start_with(
    policies: Vec<String>,
    source: (&[String], Option<String>),
    adjust: impl FnOnce(ServeArgs) -> ServeArgs,
) -> Server {
    let dir = Dir::new("webhook");
    let (cert, key, pem) = certs(&dir.0);
    let port = super::free_port();
    let args = ServeArgs {
        listen: format!("127.0.0.1:{port}"),
        registry_config: source.1,
        oci_layouts: source.0.to_vec(),
        reload_interval: 1,
        log_format: "text".into(),
        // Tests that scan say so: a test run inside a cluster must not
        // write reports into it.
        background_scan_interval: 0,
        ..ServeArgs::new(policies, cert, key)
    };
    let args = adjust(args);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(args, async move {
        let _ = rx.await;
    }));
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .use_rustls_tls()
        .build()
        .unwrap();
    let url = format!("https://localhost:{port}");
    // Compiling the module takes seconds on a loaded 2-core machine.
    let ready_by = std::time::Instant::now() + Duration::from_secs(90);
    while std::time::Instant::now() < ready_by {
        if client.get(format!("{url}/healthz")).send().await.is_ok() {
            break;
        }
        if task.is_finished() {
            panic!("serve exited: {:?}", task.await);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Server {
        url,
        client,
        stop: Some(tx),
        task,
        dir,
    }
}

impl Server {
    pub async fn review(&self, path: &str, uid: &str, object: Value) -> Value {
        let body = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
            "uid": uid, "operation": "CREATE", "object": object,
            "userInfo": {"username": "alice", "groups": ["dev"]}}});
        let r = self
            .client
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
    }

    /// The Prometheus text `/metrics` serves.
    pub async fn metrics(&self) -> String {
        let r = self
            .client
            .get(format!("{}/metrics", self.url))
            .send()
            .await
            .unwrap();
        r.text().await.unwrap()
    }

    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap().unwrap();
    }
}

pub fn pod(name: &str, image: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [{"name": "app", "image": image}]}})
}

pub fn layout() -> Vec<String> {
    vec![super::root().join("policies/images").display().to_string()]
}

pub fn policy(name: &str) -> String {
    super::root()
        .join("policies")
        .join(name)
        .join("policy.yaml")
        .display()
        .to_string()
}
