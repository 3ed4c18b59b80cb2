//! The admission webhook over real HTTPS: AdmissionReview for Pods and
//! Deployments, patches, denials, Audit warnings, health, metrics, policy
//! reload, and a registry that is down or too slow.

mod support;

use base64::Engine as _;
use serde_json::{Value, json};
use std::time::Duration;
use support::tempdir::Dir;
use support::webhook::{layout, pod, policy, start, start_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admission_reviews_over_https() {
    let s = start(
        vec![policy("keyed-signature"), policy("audit-report")],
        (&layout(), None),
    )
    .await;
    // Allowed and patched, uid echoed.
    let r = s
        .review(
            "/mutate",
            "uid-1",
            pod("ok", "registry.example.com/demo/signed:v1"),
        )
        .await;
    let resp = &r["response"];
    assert_eq!(r["kind"], "AdmissionReview");
    assert_eq!(resp["uid"], "uid-1");
    assert_eq!(resp["allowed"], true);
    assert_eq!(resp["patchType"], "JSONPatch");
    let patch: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(resp["patch"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let last = patch.as_array().unwrap().last().unwrap();
    assert_eq!(last["path"], "/spec/containers/0/image");
    assert!(
        last["value"]
            .as_str()
            .unwrap()
            .starts_with("registry.example.com/demo/signed:v1@sha256:")
    );
    // /validate sees the object after mutation and never patches: the pinned
    // image passes, a tag the mutation did not pin is missing its digest.
    let pinned = last["value"].as_str().unwrap().to_string();
    let r = s.review("/validate", "uid-2", pod("ok", &pinned)).await;
    assert_eq!(r["response"]["allowed"], true, "{r}");
    assert!(r["response"].get("patch").is_none());
    let r = s
        .review(
            "/validate",
            "uid-2b",
            pod("ok", "registry.example.com/demo/signed:v1"),
        )
        .await;
    assert_eq!(r["response"]["allowed"], false, "{r}");
    let msg = r["response"]["status"]["message"].as_str().unwrap();
    assert!(
        msg.contains("missing digest for registry.example.com/demo/signed:v1"),
        "{msg}"
    );
    // Denied with Kyverno's message.
    let r = s
        .review(
            "/mutate",
            "uid-3",
            pod("bad", "registry.example.com/demo/unsigned:v1"),
        )
        .await;
    let resp = &r["response"];
    assert_eq!(resp["uid"], "uid-3");
    assert_eq!(resp["allowed"], false);
    let msg = resp["status"]["message"].as_str().unwrap();
    assert!(
        msg.contains("resource Pod/default/bad was blocked due to the following policies"),
        "{msg}"
    );
    assert!(msg.contains("check-signature"), "{msg}");
    // Audit failures surface as warnings (the audit policy) even when allowed.
    let r = s
        .review(
            "/mutate",
            "uid-4",
            pod("audited", "registry.example.com/demo/signed-by-b:v1"),
        )
        .await;
    let warnings = r["response"]["warnings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        warnings.iter().any(|w| w
            .as_str()
            .unwrap()
            .contains("audit-signatures.audit-signed")),
        "{warnings:?}"
    );
    // A Deployment is checked through autogen.
    let deploy = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "default"},
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "registry.example.com/demo/unsigned:v1"}]}}}});
    let r = s.review("/mutate", "uid-5", deploy).await;
    assert_eq!(r["response"]["allowed"], false);
    assert!(
        r["response"]["status"]["message"]
            .as_str()
            .unwrap()
            .contains("autogen-signed-by-team-a")
    );
    // Health, readiness, metrics.
    assert_eq!(
        s.client
            .get(format!("{}/healthz", s.url))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        s.client
            .get(format!("{}/readyz", s.url))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let m = s.metrics().await;
    assert!(
        m.contains("imgverify_admissions_total{path=\"/mutate\",decision=\"denied\"} 3"),
        "{m}"
    );
    assert!(
        m.contains("imgverify_admission_duration_seconds_count"),
        "{m}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notary_signatures_through_the_webhook() {
    // The Notary example pushed to a real registry (referrers through the
    // tag-schema fallback); `serve` checks the chains at its clock: the
    // example chain is valid 2020-2100, the expired example's signature
    // expired in 2026.
    let reg = support::TestRegistry::start(support::Auth::None);
    reg.push_examples().await;
    let dir = Dir::new("notary");
    let p = dir.0.join("policy.yaml");
    std::fs::write(&p, support::notary_policy()).unwrap();
    let s = start(vec![p.display().to_string()], (&[], None)).await;
    let image = |name: &str| format!("{}/demo/{name}:v1", reg.host());
    let r = s
        .review("/mutate", "n-1", pod("ok", &image("notary-signed")))
        .await;
    assert_eq!(r["response"]["allowed"], true, "{r}");
    let patch = base64::engine::general_purpose::STANDARD
        .decode(r["response"]["patch"].as_str().unwrap())
        .unwrap();
    assert!(
        String::from_utf8_lossy(&patch).contains(&format!("{}@sha256:", image("notary-signed"))),
        "the image is pinned to the digest its signature names"
    );
    let r = s
        .review("/mutate", "n-2", pod("cose", &image("notary-cose")))
        .await;
    assert_eq!(r["response"]["allowed"], true, "{r}");
    for (name, reason) in [
        (
            "notary-untrusted",
            "certificate chain does not contain any trusted certificate",
        ),
        ("notary-expired", "digital signature has expired on"),
        ("notary-borrowed", "content descriptor mismatch"),
        ("notary-unsigned", "no signature is associated with"),
        ("notary-vulnerable", "the SBOM lists log4j-core"),
    ] {
        let r = s.review("/mutate", name, pod(name, &image(name))).await;
        assert_eq!(r["response"]["allowed"], false, "{name}: {r}");
        let msg = r["response"]["status"]["message"].as_str().unwrap();
        assert!(msg.contains(reason), "{name}: {msg}");
        assert!(msg.contains("check-notary"), "{name}: {msg}");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_reload_without_dropping_requests() {
    let dir = Dir::new("reload");
    let p = dir.0.join("policy.yaml");
    std::fs::copy(policy("keyed-signature"), &p).unwrap();
    // One instance: the idle one must not keep the reload from compiling.
    let s = start_with(vec![p.display().to_string()], (&layout(), None), |a| {
        imgverify_host::serve::ServeArgs {
            instance_memory_mib: 512,
            ..a
        }
    })
    .await;
    let r = s
        .review(
            "/mutate",
            "a",
            pod("x", "registry.example.com/demo/signed-by-b:v1"),
        )
        .await;
    assert_eq!(r["response"]["allowed"], false);
    // Swap in the policy that accepts key A or B.
    std::fs::copy(policy("multi-key-count"), &p).unwrap();
    let mut allowed = false;
    for _ in 0..600 {
        let r = s
            .review(
                "/mutate",
                "b",
                pod("x", "registry.example.com/demo/signed-by-b:v1"),
            )
            .await;
        assert!(
            r["response"]["allowed"].is_boolean(),
            "every request answered during reload"
        );
        if r["response"]["allowed"] == true {
            allowed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(allowed, "reloaded policy took effect");
    // A broken policy file keeps the previous policies.
    std::fs::write(&p, "kind: ClusterPolicy\napiVersion: kyverno.io/v1\nmetadata: {name: broken}\nspec: {rules: [{name: r}]}\n").unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let r = s
        .review(
            "/mutate",
            "c",
            pod("x", "registry.example.com/demo/signed-by-b:v1"),
        )
        .await;
    assert_eq!(r["response"]["allowed"], true);
    s.stop().await;
}

/// `--exception` files are read with the policies and reloaded with them:
/// a Kyverno `PolicyException` exempts a Pod from a ClusterPolicy's rule, a
/// CEL one from an image policy, and an edited exception stops exempting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_exceptions_are_served_and_reloaded() {
    let dir = Dir::new("exceptions");
    let exceptions = dir.0.join("exceptions.yaml");
    let write = |name: &str| {
        std::fs::write(
            &exceptions,
            format!(
                "apiVersion: kyverno.io/v2\nkind: PolicyException\nmetadata: {{name: legacy, namespace: default}}\nspec:\n  exceptions:\n    - policyName: check-signature\n      ruleNames: [signed-by-team-a]\n  match:\n    any:\n      - resources: {{kinds: [Pod], names: [{name}]}}\n---\napiVersion: policies.kyverno.io/v1\nkind: PolicyException\nmetadata: {{name: legacy-images, namespace: default}}\nspec:\n  policyRefs:\n    - {{name: check-images, kind: ImageValidatingPolicy}}\n  matchConditions:\n    - {{name: legacy, expression: \"object.metadata.name == '{name}'\"}}\n"
            ),
        )
        .unwrap();
    };
    write("legacy-app");
    let s = start_with(
        vec![policy("keyed-signature"), policy("image-validating-policy")],
        (&layout(), None),
        |a| imgverify_host::serve::ServeArgs {
            exceptions: vec![exceptions.display().to_string()],
            ..a
        },
    )
    .await;
    let unsigned = "registry.example.com/demo/unsigned:v1";
    let r = s.review("/validate", "a", pod("other-app", unsigned)).await;
    assert_eq!(r["response"]["allowed"], false, "{r}");
    let message = r["response"]["status"]["message"].as_str().unwrap_or("");
    assert!(message.contains("check-signature"), "{message}");
    assert!(message.contains("check-images"), "{message}");
    let r = s
        .review("/validate", "b", pod("legacy-app", unsigned))
        .await;
    assert_eq!(r["response"]["allowed"], true, "both exceptions apply: {r}");
    // The exception now names another Pod: legacy-app is checked again.
    write("another-app");
    let mut denied = false;
    for _ in 0..100 {
        let r = s
            .review("/validate", "c", pod("legacy-app", unsigned))
            .await;
        if r["response"]["allowed"] == false {
            denied = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(denied, "the edited exception took effect");
    // An exception file that does not compile keeps the previous generation.
    std::fs::write(&exceptions, "apiVersion: kyverno.io/v2\nkind: PolicyException\nmetadata: {name: bad}\nspec: {exceptions: 3}\n").unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let r = s
        .review("/validate", "d", pod("another-app", unsigned))
        .await;
    assert_eq!(r["response"]["allowed"], true, "{r}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_down_gets_the_failure_policy() {
    // Nothing listens on this port: every fetch fails fast.
    let port = support::free_port();
    let policy_text = support::keyed_policy();
    let dir = Dir::new("down");
    let p = dir.0.join("policy.yaml");
    std::fs::write(&p, &policy_text).unwrap();
    let cfg = dir.0.join("registry.yaml");
    std::fs::write(&cfg, "retries: 1\nrequestTimeoutSeconds: 2\n").unwrap();
    let s = start(
        vec![p.display().to_string()],
        (&[], Some(cfg.display().to_string())),
    )
    .await;
    let r = s
        .review(
            "/mutate",
            "down",
            pod("x", &format!("127.0.0.1:{port}/demo/signed:v1")),
        )
        .await;
    assert_eq!(r["response"]["allowed"], false);
    let msg = r["response"]["status"]["message"].as_str().unwrap();
    assert!(
        msg.contains("failed to verify image") || msg.contains("failed to resolve digest"),
        "{msg}"
    );
    // The server keeps serving.
    assert_eq!(
        s.client
            .get(format!("{}/healthz", s.url))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burst_of_50_admissions_through_the_webhook() {
    let reg = support::TestRegistry::start(support::Auth::None);
    reg.push_examples().await;
    let dir = Dir::new("burst");
    let p = dir.0.join("policy.yaml");
    std::fs::write(&p, support::keyed_policy()).unwrap();
    let s = start(vec![p.display().to_string()], (&[], None)).await;
    let image = format!("{}/demo/signed:v1", reg.host());
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (client, url, image) = (s.client.clone(), s.url.clone(), image.clone());
        tasks.push(tokio::spawn(async move {
            let body = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
                "uid": format!("b{i}"), "operation": "CREATE", "object": pod(&format!("p{i}"), &image)}});
            let r = client.post(format!("{url}/mutate")).header("content-type", "application/json").body(body.to_string()).send().await.unwrap();
            let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
            assert_eq!(v["response"]["uid"], format!("b{i}"));
            assert_eq!(v["response"]["allowed"], true, "{v}");
            true
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap());
    }
    let counts = reg.get_counts();
    assert_eq!(counts.len(), 3, "{counts:?}");
    assert!(
        counts.values().all(|n| *n == 1),
        "one registry request per distinct artifact: {counts:?}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_certificate_is_reloaded() {
    let s = start(vec![policy("keyed-signature")], (&layout(), None)).await;
    // A new certificate appears on disk (as a rotated Secret would).
    let fresh = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(s.dir.0.join("tls.key"), fresh.signing_key.serialize_pem()).unwrap();
    std::fs::write(s.dir.0.join("tls.crt"), fresh.cert.pem()).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(fresh.cert.pem().as_bytes()).unwrap())
        .use_rustls_tls()
        .build()
        .unwrap();
    let mut ok = false;
    for _ in 0..60 {
        if client
            .get(format!("{}/healthz", s.url))
            .send()
            .await
            .is_ok()
        {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        ok,
        "the server presents the new certificate without a restart"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trusted_root_is_served_and_reloaded_with_the_policies() {
    // The sigstore-bundle example without its own `rekor.pubkey`: the
    // transparency log comes from `--trusted-root`.
    let dir = Dir::new("trusted-root");
    let p = support::bundle_policy_trusting_the_root(&dir.0);
    let root = dir.0.join("trusted_root.json");
    std::fs::write(&root, support::demo_trusted_root()).unwrap();
    let root_arg = root.display().to_string();
    let s = start_with(vec![p.display().to_string()], (&layout(), None), |a| {
        imgverify_host::serve::ServeArgs {
            trusted_root: Some(root_arg),
            ..a
        }
    })
    .await;
    let image = "registry.example.com/demo/bundle-signed:v1";
    let r = s.review("/mutate", "a", pod("x", image)).await;
    assert_eq!(r["response"]["allowed"], true, "{r}");
    // A root without the demo log: once reloaded, the bundle's entry is untrusted.
    let mut other: Value = serde_json::from_str(&support::demo_trusted_root()).unwrap();
    other["tlogs"] = json!([]);
    std::fs::write(&root, other.to_string()).unwrap();
    let mut denied = None;
    for i in 0..600 {
        let r = s.review("/mutate", &format!("b{i}"), pod("x", image)).await;
        if r["response"]["allowed"] == false {
            denied = Some(r["response"]["status"]["message"].to_string());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let denied = denied.expect("the reloaded trusted root took effect");
    assert!(denied.contains("no trusted log"), "{denied}");
    s.stop().await;
}
