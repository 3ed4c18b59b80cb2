//! The registry client and cache against a real `docker-registry`.

mod support;

use imgverify_host::cache::CachingSource;
use imgverify_host::metrics::Metrics;
use imgverify_host::registry::RegistryClient;
use imgverify_host::registry::config::{Credential, RegistryConfig};
use imgverify_host::runner::decide_native;
use std::sync::Arc;
use std::time::Duration;
use support::{Auth, TestRegistry, bundle_policy, keyed_policy, notary_policy, pod_request};

fn source(config: RegistryConfig, rt: &tokio::runtime::Runtime) -> (Arc<CachingSource>, Metrics) {
    let metrics = Metrics::new();
    let client = Arc::new(RegistryClient::new(config.clone(), metrics.clone()).unwrap());
    (
        Arc::new(
            CachingSource::new(client, &config.cache, metrics.clone(), rt.handle().clone())
                .unwrap(),
        ),
        metrics,
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn keyed_verification_against_a_real_registry() {
    let rt = runtime();
    let reg = TestRegistry::start(Auth::None);
    rt.block_on(reg.push_examples());
    let engine = Arc::new(imgverify::Engine::compile("p.yaml", &keyed_policy()).unwrap());
    let (src, _) = source(RegistryConfig::default(), &rt);
    let host = reg.host();
    let signed = decide_native(
        &engine,
        &pod_request("a", &format!("{host}/demo/signed:v1")),
        src.as_ref(),
    )
    .unwrap();
    assert!(signed.allowed, "{:?}", signed.results);
    let unsigned = decide_native(
        &engine,
        &pod_request("b", &format!("{host}/demo/unsigned:v1")),
        src.as_ref(),
    )
    .unwrap();
    assert!(!unsigned.allowed);
    assert!(
        unsigned.results[0].message.contains("no signatures found"),
        "{}",
        unsigned.results[0].message
    );
    let missing = decide_native(
        &engine,
        &pod_request("c", &format!("{host}/demo/nope:v1")),
        src.as_ref(),
    )
    .unwrap();
    assert!(!missing.allowed);
    assert!(
        missing.results[0]
            .message
            .contains("failed to resolve digest"),
        "{}",
        missing.results[0].message
    );
}

/// Decides the sigstore-bundle example's images on a registry at `host`:
/// the bundle by key A verifies, the bundle by key B and no bundle do not;
/// returns the messages of the denials.
fn decide_bundles(host: &str, src: &CachingSource) -> Vec<String> {
    let engine = Arc::new(imgverify::Engine::compile("p.yaml", &bundle_policy()).unwrap());
    let d = decide_native(
        &engine,
        &pod_request("a", &format!("{host}/demo/bundle-signed:v1")),
        src,
    )
    .unwrap();
    assert!(d.allowed, "{:?}", d.results);
    ["demo/bundle-by-b:v1", "demo/unsigned:v1"]
        .iter()
        .map(|image| {
            let d =
                decide_native(&engine, &pod_request("b", &format!("{host}/{image}")), src).unwrap();
            assert!(!d.allowed, "{image}");
            d.results[0].message.clone()
        })
        .collect()
}

#[test]
fn sigstore_bundles_through_the_tag_schema_fallback() {
    // Debian's docker-registry has no referrers API: the host falls back to
    // the `sha256-<hex>` index, whose bundle cosign 3 lists with the empty
    // artifact type.
    let rt = runtime();
    let reg = TestRegistry::start(Auth::None);
    rt.block_on(reg.push_examples());
    let (src, _) = source(RegistryConfig::default(), &rt);
    let denied = decide_bundles(&reg.host(), &src);
    assert!(denied[0].contains("invalid signature"), "{}", denied[0]);
    assert!(
        denied[1].contains("sigstore bundle verification failed: no matching signatures found"),
        "{}",
        denied[1]
    );
    let counts = reg.get_counts();
    assert!(
        counts.keys().any(|k| k.contains("/referrers/")),
        "the referrers API was not tried: {counts:?}"
    );
}

#[test]
fn sigstore_bundles_through_the_referrers_api() {
    let rt = runtime();
    let (port, _fake) = rt.block_on(support::fake::start(support::fake::Fault::None));
    let (src, _) = source(RegistryConfig::default(), &rt);
    let denied = decide_bundles(&format!("127.0.0.1:{port}"), &src);
    assert!(denied[0].contains("invalid signature"), "{}", denied[0]);
}

/// The notary-signature example's images from `host`: every outcome, as
/// `(image, allowed, message)`.
fn decide_notary(host: &str, src: &CachingSource) -> Vec<(String, bool, String)> {
    let engine = Arc::new(imgverify::Engine::compile("p.yaml", &notary_policy()).unwrap());
    [
        "signed",
        "cose",
        "untrusted",
        "expired",
        "borrowed",
        "unsigned",
        "vulnerable",
    ]
    .iter()
    .map(|name| {
        let image = format!("{host}/demo/notary-{name}:v1");
        // Notary chains are checked at the request's time, as serve sets it.
        let mut request: serde_json::Value =
            serde_json::from_slice(&pod_request(name, &image)).unwrap();
        request["now"] = "2026-12-01T00:00:00Z".into();
        let request = serde_json::to_vec(&request).unwrap();
        let d = decide_native(&engine, &request, src).unwrap();
        let message = d
            .results
            .iter()
            .map(|r| r.message.clone())
            .collect::<Vec<_>>()
            .join("; ");
        (name.to_string(), d.allowed, message)
    })
    .collect()
}

fn assert_notary_outcomes(outcomes: &[(String, bool, String)]) {
    for (name, allowed, message) in outcomes {
        let expected = match name.as_str() {
            "signed" | "cose" => None,
            "untrusted" => Some("certificate chain does not contain any trusted certificate"),
            "expired" => {
                Some("digital signature has expired on \"Mon, 01 Jun 2026 00:00:00 +0000\"")
            }
            "borrowed" => Some("content descriptor mismatch"),
            "unsigned" => Some("no signature is associated with"),
            "vulnerable" => Some("the SBOM lists log4j-core"),
            _ => unreachable!(),
        };
        match expected {
            None => assert!(allowed, "{name}: {message}"),
            Some(reason) => {
                assert!(!allowed, "{name} allowed, expected {reason:?}");
                assert!(
                    message.contains(reason),
                    "{name}: {message}\nexpected: {reason}"
                );
            }
        }
    }
}

#[test]
fn notary_signatures_through_the_tag_schema_fallback() {
    // Notation signatures (JWS and COSE, both manifest forms) and a signed
    // SBOM, pushed as referrers to a registry without the referrers API.
    let rt = runtime();
    let reg = TestRegistry::start(Auth::None);
    rt.block_on(reg.push_examples());
    let (src, _) = source(RegistryConfig::default(), &rt);
    assert_notary_outcomes(&decide_notary(&reg.host(), &src));
}

#[test]
fn notary_signatures_through_the_referrers_api() {
    let rt = runtime();
    let (port, _fake) = rt.block_on(support::fake::start(support::fake::Fault::None));
    let (src, _) = source(RegistryConfig::default(), &rt);
    assert_notary_outcomes(&decide_notary(&format!("127.0.0.1:{port}"), &src));
}

#[test]
fn htpasswd_basic_auth() {
    let rt = runtime();
    let reg = TestRegistry::start(Auth::Basic {
        user: "alice".into(),
        password: "s3cret".into(),
    });
    rt.block_on(reg.push_examples());
    let engine = Arc::new(imgverify::Engine::compile("p.yaml", &keyed_policy()).unwrap());
    let image = format!("{}/demo/signed:v1", reg.host());
    let (anon, _) = source(RegistryConfig::default(), &rt);
    let d = decide_native(&engine, &pod_request("a", &image), anon.as_ref()).unwrap();
    assert!(!d.allowed);
    assert!(
        d.results[0].message.contains("401"),
        "{}",
        d.results[0].message
    );
    let mut config = RegistryConfig::default();
    config.credentials.insert(
        reg.host(),
        Credential {
            username: "alice".into(),
            password: "s3cret".into(),
        },
    );
    let unauthorized = || reg.log().matches("\" 401 ").count();
    let before = unauthorized();
    let (authed, _) = source(config, &rt);
    let d = decide_native(&engine, &pod_request("a", &image), authed.as_ref()).unwrap();
    assert!(d.allowed, "{:?}", d.results);
    // Credentials go with every request once the registry asked for them:
    // one 401 for three artifacts, and none for another image.
    assert_eq!(unauthorized() - before, 1, "{}", reg.log());
    let other = format!("{}/demo/signed-by-b:v1", reg.host());
    let _ = decide_native(&engine, &pod_request("b", &other), authed.as_ref()).unwrap();
    assert_eq!(unauthorized() - before, 1, "{}", reg.log());
}

#[test]
fn burst_of_50_admissions_makes_one_request_per_artifact() {
    let rt = runtime();
    let reg = TestRegistry::start(Auth::None);
    rt.block_on(reg.push_examples());
    let before = reg.get_counts();
    assert!(before.is_empty(), "{before:?}");
    let engine = Arc::new(imgverify::Engine::compile("p.yaml", &keyed_policy()).unwrap());
    let (src, metrics) = source(RegistryConfig::default(), &rt);
    let image = format!("{}/demo/signed:v1", reg.host());
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..50)
            .map(|i| {
                let (engine, src, image) = (engine.clone(), src.clone(), image.clone());
                s.spawn(move || {
                    decide_native(
                        &engine,
                        &pod_request(&format!("p{i}"), &image),
                        src.as_ref(),
                    )
                    .unwrap()
                })
            })
            .collect();
        for h in handles {
            assert!(h.join().unwrap().allowed);
        }
    });
    let counts = reg.get_counts();
    // Tag manifest, .sig manifest, signature payload: one GET each.
    assert_eq!(counts.len(), 3, "{counts:?}");
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    assert!(
        metrics.singleflight_joins.get()
            + metrics
                .cache_hits
                .get_or_create(&imgverify_host::metrics::KindLabel {
                    kind: "blob".into()
                })
                .get()
            > 0
    );
    // A digest-pinned repeat admission: no registry request at all.
    let digest = std::fs::read_to_string(support::root().join("policies/images/DIGESTS.txt"))
        .unwrap()
        .lines()
        .find(|l| l.starts_with("registry.example.com/demo/signed:v1 "))
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .to_string();
    let pinned = format!("{}/demo/signed@{digest}", reg.host());
    let d = decide_native(&engine, &pod_request("pinned", &pinned), src.as_ref()).unwrap();
    assert!(d.allowed);
    assert_eq!(
        reg.get_counts(),
        counts,
        "a digest-pinned repeat must be served from cache"
    );
}

#[test]
fn token_auth_with_a_test_issuer() {
    let rt = runtime();
    let dir = support::tempdir::Dir::new("token");
    let root_cert = dir.0.join("issuer.pem");
    let issuer = support::token::Issuer::new(&root_cert, "bob", "hunter2");
    let realm = rt.block_on(support::token::serve(issuer.clone()));
    let mut reg = TestRegistry::start(Auth::Token {
        realm,
        service: support::token::SERVICE.into(),
        issuer: support::token::ISSUER.into(),
        root_cert,
    });
    let repos = TestRegistry::example_repos();
    let grants: Vec<(&str, &[&str])> = repos
        .iter()
        .map(|r| (r.as_str(), &["pull", "push"][..]))
        .collect();
    reg.push_auth = Some(format!("Bearer {}", issuer.token(&grants)));
    rt.block_on(reg.push_examples());
    let engine = Arc::new(imgverify::Engine::compile("p.yaml", &keyed_policy()).unwrap());
    let image = format!("{}/demo/signed:v1", reg.host());
    // Without credentials the issuer refuses a token.
    let (anon, _) = source(RegistryConfig::default(), &rt);
    let d = decide_native(&engine, &pod_request("a", &image), anon.as_ref()).unwrap();
    assert!(!d.allowed);
    assert!(
        d.results[0].message.contains("token request"),
        "{}",
        d.results[0].message
    );
    // With them: bearer tokens per repository, cached.
    let mut config = RegistryConfig::default();
    config.credentials.insert(
        reg.host(),
        Credential {
            username: "bob".into(),
            password: "hunter2".into(),
        },
    );
    let before = issuer.issued.load(std::sync::atomic::Ordering::SeqCst);
    let (authed, _) = source(config, &rt);
    let d = decide_native(&engine, &pod_request("a", &image), authed.as_ref()).unwrap();
    assert!(d.allowed, "{:?}", d.results);
    let issued = issuer.issued.load(std::sync::atomic::Ordering::SeqCst) - before;
    assert_eq!(
        issued, 1,
        "one token for the one repository, reused for the tag, .sig and payload"
    );
}

#[test]
fn fetch_records_a_bundle_that_replays_identically_offline() {
    let rt = runtime();
    let reg = TestRegistry::start(Auth::None);
    rt.block_on(reg.push_examples());
    let dir = support::tempdir::Dir::new("bundle");
    let policy = dir.0.join("policy.yaml");
    std::fs::write(&policy, keyed_policy()).unwrap();
    let host = reg.host();
    let resources: Vec<String> = ["signed", "unsigned", "signed-by-b", "tampered"]
        .iter()
        .map(|r| {
            format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: {r}, namespace: default}}\nspec:\n  containers:\n  - {{name: a, image: {host}/demo/{r}:v1}}\n")
        })
        .collect();
    let res = dir.0.join("pods.yaml");
    std::fs::write(&res, resources.join("---\n")).unwrap();
    let bundle = dir.0.join("bundle.json");
    let bin = env!("CARGO_BIN_EXE_imgverify");
    let run = |args: &[&str]| std::process::Command::new(bin).args(args).output().unwrap();
    let (p, r, b) = (
        policy.to_str().unwrap(),
        res.to_str().unwrap(),
        bundle.to_str().unwrap(),
    );
    let live = run(&["apply", p, "-r", r, "-o", "json"]);
    assert_eq!(
        live.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&live.stderr)
    );
    let fetched = run(&["fetch", "-p", p, "-r", r, "-o", b]);
    assert_eq!(
        fetched.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&fetched.stderr)
    );
    drop(reg); // the registry is gone: replay must not need it
    let replay = run(&["apply", p, "-r", r, "--bundle", b, "-o", "json"]);
    assert_eq!(
        replay.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&live.stdout),
        String::from_utf8_lossy(&replay.stdout),
        "identical decisions"
    );
    let v: serde_json::Value = serde_json::from_slice(&replay.stdout).unwrap();
    assert_eq!(v["summary"]["pass"], 1);
    assert_eq!(v["summary"]["fail"], 3);
}

#[test]
fn notary_example_through_apply_and_test_against_the_registry() {
    // The CLI's own registry client: `apply` and `test` (with a
    // kyverno-test.yaml), then `fetch` and an offline replay.
    let rt = runtime();
    let reg = TestRegistry::start(Auth::None);
    rt.block_on(reg.push_examples());
    let dir = support::tempdir::Dir::new("notary-cli");
    let host = reg.host();
    let example = support::root().join("policies/notary-signature");
    let moved = |f: &str| {
        std::fs::read_to_string(example.join(f))
            .unwrap()
            .replace("registry.example.com", &host)
    };
    for f in ["policy.yaml", "resources.yaml", "kyverno-test.yaml"] {
        std::fs::write(dir.0.join(f), moved(f)).unwrap();
    }
    let bin = env!("CARGO_BIN_EXE_imgverify");
    let run = |args: &[&str]| std::process::Command::new(bin).args(args).output().unwrap();
    let (p, r, b) = (
        dir.0.join("policy.yaml"),
        dir.0.join("resources.yaml"),
        dir.0.join("bundle.json"),
    );
    let (p, r, b) = (
        p.to_str().unwrap(),
        r.to_str().unwrap(),
        b.to_str().unwrap(),
    );
    let now = "2026-12-01T00:00:00Z";
    let live = run(&["apply", p, "-r", r, "-o", "json", "--now", now]);
    let v: serde_json::Value = serde_json::from_slice(&live.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&live.stderr)));
    assert_eq!(v["summary"]["pass"], 4, "{v}");
    assert_eq!(v["summary"]["fail"], 5, "{v}");
    let tested = run(&["test", dir.0.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&tested.stdout);
    assert_eq!(tested.status.code(), Some(0), "{out}");
    assert!(out.contains("8 tests passed and 0 tests failed"), "{out}");
    let fetched = run(&["fetch", "-p", p, "-r", r, "-o", b]);
    assert_eq!(
        fetched.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&fetched.stderr)
    );
    drop(reg);
    let replay = run(&[
        "apply", p, "-r", r, "--bundle", b, "-o", "json", "--now", now,
    ]);
    assert_eq!(
        String::from_utf8_lossy(&live.stdout),
        String::from_utf8_lossy(&replay.stdout),
        "identical decisions offline"
    );
}

/// A self-signed certificate for 127.0.0.1 and localhost, and its key, as
/// files in `dir`.
fn self_signed_files(dir: &support::tempdir::Dir) -> (std::path::PathBuf, std::path::PathBuf) {
    let ca =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let (cert, key) = (dir.0.join("reg.crt"), dir.0.join("reg.key"));
    std::fs::write(&cert, ca.cert.pem()).unwrap();
    std::fs::write(&key, ca.signing_key.serialize_pem()).unwrap();
    (cert, key)
}

#[test]
fn tls_registry_with_an_extra_ca() {
    let rt = runtime();
    let dir = support::tempdir::Dir::new("tls");
    let (cert, key) = self_signed_files(&dir);
    let reg = TestRegistry::start_with(Auth::None, Some((cert.clone(), key)));
    rt.block_on(reg.push_examples());
    let engine = Arc::new(imgverify::Engine::compile("p.yaml", &keyed_policy()).unwrap());
    let image = format!("{}/demo/signed:v1", reg.host());
    // Without the CA: the TLS handshake fails, so nothing verifies.
    let (untrusting, _) = source(
        RegistryConfig {
            retries: 0,
            ..Default::default()
        },
        &rt,
    );
    let d = decide_native(&engine, &pod_request("a", &image), untrusting.as_ref()).unwrap();
    assert!(!d.allowed);
    // With it: verified over HTTPS.
    let config = RegistryConfig {
        ca_files: vec![cert.display().to_string()],
        ..Default::default()
    };
    let (trusting, _) = source(config, &rt);
    let d = decide_native(&engine, &pod_request("a", &image), trusting.as_ref()).unwrap();
    assert!(d.allowed, "{:?}", d.results);
}

#[test]
fn policy_image_registry_credentials_select_the_pull_secret() {
    let rt = runtime();
    let reg = TestRegistry::start(Auth::Basic {
        user: "ci".into(),
        password: "right".into(),
    });
    rt.block_on(reg.push_examples());
    let dir = support::tempdir::Dir::new("creds");
    let secret = |name: &str, password: &str| {
        let cfg =
            serde_json::json!({"auths": {reg.host(): {"username": "ci", "password": password}}})
                .to_string();
        let path = dir.0.join(format!("{name}.yaml"));
        std::fs::write(&path, format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: apps}}\ntype: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: '{cfg}'\n")).unwrap();
        path.display().to_string()
    };
    // The last secret loaded is also the default credential: the wrong one.
    let config = RegistryConfig {
        pull_secrets: vec![secret("regcred", "right"), secret("stale", "wrong")],
        ..Default::default()
    };
    let (src, _) = source(config, &rt);
    let image = format!("{}/demo/signed:v1", reg.host());
    let plain = Arc::new(imgverify::Engine::compile("p.yaml", &keyed_policy()).unwrap());
    let d = decide_native(&plain, &pod_request("a", &image), src.as_ref()).unwrap();
    assert!(!d.allowed, "default credentials are wrong");
    let with_secret = keyed_policy().replace(
        "        - failureAction: Enforce\n",
        "        - failureAction: Enforce\n          imageRegistryCredentials:\n            secrets: [apps/regcred]\n",
    );
    assert!(with_secret.contains("imageRegistryCredentials"));
    let engine = Arc::new(imgverify::Engine::compile("p.yaml", &with_secret).unwrap());
    let d = decide_native(&engine, &pod_request("b", &image), src.as_ref()).unwrap();
    assert!(d.allowed, "{:?}", d.results);
}

#[test]
fn docker_credential_helper_from_config_json() {
    use std::os::unix::fs::PermissionsExt;
    let rt = runtime();
    let reg = TestRegistry::start(Auth::Basic {
        user: "helper-user".into(),
        password: "from-helper".into(),
    });
    rt.block_on(reg.push_examples());
    let dir = support::tempdir::Dir::new("cred-helper");
    // A credential helper executable, found on PATH as docker-credential-<name>.
    let bin = dir.0.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-imgverifytest");
    std::fs::write(
        &helper,
        format!("#!/bin/sh\nread host\n[ \"$1\" = get ] && [ \"$host\" = \"{}\" ] || exit 1\necho '{{\"Username\":\"helper-user\",\"Secret\":\"from-helper\"}}'\n", reg.host()),
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let docker_config = dir.0.join("config.json");
    std::fs::write(
        &docker_config,
        serde_json::json!({"credHelpers": {reg.host(): "imgverifytest"}}).to_string(),
    )
    .unwrap();
    let registry_config = dir.0.join("registry.yaml");
    std::fs::write(
        &registry_config,
        format!("dockerConfig: {}\n", docker_config.display()),
    )
    .unwrap();
    let policy = dir.0.join("policy.yaml");
    std::fs::write(&policy, keyed_policy()).unwrap();
    let pod = dir.0.join("pod.yaml");
    std::fs::write(
        &pod,
        format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: default}}\nspec:\n  containers:\n  - {{name: a, image: {}/demo/signed:v1}}\n", reg.host()),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |cfg: Option<&std::path::Path>| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_imgverify"));
        c.env("PATH", &path)
            .arg("apply")
            .arg(&policy)
            .arg("-r")
            .arg(&pod);
        if let Some(cfg) = cfg {
            c.arg("--registry-config").arg(cfg);
        }
        c.output().unwrap()
    };
    let without = run(None);
    assert_eq!(without.status.code(), Some(1), "no credentials: blocked");
    let with = run(Some(&registry_config));
    assert_eq!(
        with.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&with.stdout),
        String::from_utf8_lossy(&with.stderr)
    );
}

/// The first fetches that meet a plain-HTTP loopback registry, however many
/// arrive at once, probe it for TLS once.
#[test]
fn concurrent_first_fetches_probe_a_plain_registry_once() {
    use imgverify::engine::{Fetch, FetchKind};
    use imgverify_host::source::{ArtifactSource, SourceAnswer};
    let rt = runtime();
    let reg = TestRegistry::start(Auth::None);
    let http = reqwest::Client::new();
    let digests: Vec<String> = (0..10)
        .map(|i| rt.block_on(reg.push_blob(&http, "demo/probe", format!("blob {i}").as_bytes())))
        .collect();
    let (src, metrics) = source(RegistryConfig::default(), &rt);
    let fetches: Vec<Fetch> = digests
        .iter()
        .map(|d| {
            let d = imgverify::digest::Digest::parse(d).unwrap();
            Fetch::by_digest(FetchKind::Blob, &reg.host(), "demo/probe", &d)
        })
        .collect();
    let answers = src.fetch_all(&fetches, None);
    for (a, i) in answers.iter().zip(0..) {
        match a {
            SourceAnswer::Bytes(b) => assert_eq!(b, format!("blob {i}").as_bytes()),
            other => panic!("blob {i}: {other:?}"),
        }
    }
    let probes = metrics
        .registry_requests
        .get_or_create(&imgverify_host::metrics::RequestLabels {
            kind: "tls_probe".into(),
            status: "http".into(),
        })
        .get();
    assert_eq!(probes, 1, "one TLS probe for ten concurrent first fetches");
}

/// The first requests to a loopback registry race its TLS probe over plain
/// HTTP only when no credentials could go with them: a registry that speaks
/// TLS is then still used over TLS, and one with credentials configured sees
/// nothing in the clear.
#[test]
fn plain_http_racing_the_tls_probe_never_carries_credentials() {
    let rt = runtime();
    let dir = support::tempdir::Dir::new("tls-race");
    let (cert, key) = self_signed_files(&dir);
    let engine = Arc::new(imgverify::Engine::compile("p.yaml", &keyed_policy()).unwrap());
    let trusting = |credentials: Option<(String, Credential)>| {
        let mut config = RegistryConfig {
            ca_files: vec![cert.display().to_string()],
            ..Default::default()
        };
        config.credentials.extend(credentials);
        source(config, &rt).0
    };

    // No credentials: plain HTTP raced the probe, its answer was dropped,
    // and the image verified over HTTPS.
    let open = TestRegistry::start_with(Auth::None, Some((cert.clone(), key.clone())));
    rt.block_on(open.push_examples());
    // Each chunk a client sends waits 200 ms at the proxy, so the probe's
    // TLS handshake (several chunks) cannot finish before the plain request
    // (whose first chunk is recorded on arrival) is on the wire, however
    // loaded the machine.
    let proxy = support::proxy::start(&rt, open.host(), Duration::from_millis(200));
    let image = format!("127.0.0.1:{}/demo/signed:v1", proxy.port);
    let d = decide_native(&engine, &pod_request("a", &image), trusting(None).as_ref()).unwrap();
    assert!(d.allowed, "{:?}", d.results);
    let raced = proxy.plaintext.lock().unwrap().clone();
    assert!(
        raced
            .iter()
            .any(|r| r.starts_with("GET /v2/demo/signed/manifests/v1 ")),
        "{raced:?}"
    );

    // Credentials configured: nothing at all in the clear.
    let locked = TestRegistry::start_with(
        Auth::Basic {
            user: "alice".into(),
            password: "s3cret".into(),
        },
        Some((cert.clone(), key)),
    );
    rt.block_on(locked.push_examples());
    let proxy = support::proxy::start(&rt, locked.host(), Duration::ZERO);
    let host = format!("127.0.0.1:{}", proxy.port);
    let credential = Credential {
        username: "alice".into(),
        password: "s3cret".into(),
    };
    let image = format!("{host}/demo/signed:v1");
    let src = trusting(Some((host, credential)));
    let d = decide_native(&engine, &pod_request("a", &image), src.as_ref()).unwrap();
    assert!(d.allowed, "{:?}", d.results);
    let clear = proxy.plaintext.lock().unwrap().clone();
    assert!(clear.is_empty(), "{clear:?}");
}

#[test]
fn the_cli_reads_docker_config_json_credentials_by_default() {
    use base64::Engine as _;
    let rt = runtime();
    let reg = TestRegistry::start(Auth::Basic {
        user: "alice".into(),
        password: "s3cret".into(),
    });
    rt.block_on(reg.push_examples());
    let dir = support::tempdir::Dir::new("docker-config");
    let policy = dir.0.join("policy.yaml");
    std::fs::write(&policy, keyed_policy()).unwrap();
    let pod = dir.0.join("pod.yaml");
    std::fs::write(
        &pod,
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: default}}\nspec:\n  containers:\n  - {{name: a, image: {}/demo/signed:v1}}\n",
            reg.host()
        ),
    )
    .unwrap();
    let (p, r) = (policy.to_str().unwrap(), pod.to_str().unwrap());
    let run = |env: &[(&str, &std::path::Path)]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_imgverify"));
        c.args(["apply", p, "-r", r]).env_remove("DOCKER_CONFIG");
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    // No config.json anywhere: the registry answers 401 and the Pod fails.
    let empty = dir.0.join("empty-home");
    std::fs::create_dir_all(&empty).unwrap();
    let out = run(&[("HOME", &empty)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("401"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // $HOME/.docker/config.json, as `docker login` writes it.
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret");
    let config = format!(
        "{{\"auths\": {{\"{}\": {{\"auth\": \"{auth}\"}}}}}}",
        reg.host()
    );
    let home = dir.0.join("home");
    std::fs::create_dir_all(home.join(".docker")).unwrap();
    std::fs::write(home.join(".docker/config.json"), &config).unwrap();
    let out = run(&[("HOME", &home)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("pass: 1, fail: 0"));
    // $DOCKER_CONFIG wins over $HOME.
    let docker_config = dir.0.join("docker-config-dir");
    std::fs::create_dir_all(&docker_config).unwrap();
    std::fs::write(docker_config.join("config.json"), &config).unwrap();
    let out = run(&[("HOME", &empty), ("DOCKER_CONFIG", &docker_config)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
