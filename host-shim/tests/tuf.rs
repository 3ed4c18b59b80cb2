//! The trusted root from a TUF repository: a repository made here with
//! tough's editor (root, targets, snapshot and timestamp roles signed with a
//! fresh ECDSA key) and served on loopback, whose `trusted_root.json` target
//! holds the DEMO Rekor key; the sigstore-bundle example's policy without its
//! own `rekor.pubkey` then verifies only with that root. A restart with the
//! mirror down verifies offline from the cache; a tampered target does not.

mod support;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use std::collections::HashMap;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use support::tempdir::Dir;
use tough::editor::RepositoryEditor;
use tough::editor::signed::{PathExists, SignedRole};
use tough::key_source::{KeySource, LocalKeySource};
use tough::schema::{KeyHolder, RoleKeys, RoleType, Root};

/// Makes a TUF repository in `dir/repo` with `trusted_root.json` as its
/// only target; returns the root.json path.
async fn make_repository(dir: &Path, trusted_root: &str) -> PathBuf {
    use p256::pkcs8::EncodePrivateKey as _;
    use sha2::Digest as _;
    let seed = sha2::Sha256::digest(b"imgverify tuf test key");
    let secret = p256::SecretKey::from_slice(&seed).unwrap();
    // tough reads ECDSA keys as PKCS#8 DER.
    let key_path = dir.join("key.pk8");
    std::fs::write(&key_path, secret.to_pkcs8_der().unwrap().as_bytes()).unwrap();
    let keys: Vec<Box<dyn KeySource>> = vec![Box::new(LocalKeySource {
        path: key_path.clone(),
    })];
    let tuf_key = keys[0].as_sign().await.unwrap().tuf_key();
    let key_id = tuf_key.key_id().unwrap();
    let role = || RoleKeys {
        keyids: vec![key_id.clone()],
        threshold: NonZeroU64::new(1).unwrap(),
        _extra: HashMap::new(),
    };
    let expires = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24);
    let root = Root {
        spec_version: "1.0.0".into(),
        consistent_snapshot: true,
        version: NonZeroU64::new(1).unwrap(),
        expires,
        keys: HashMap::from([(key_id.clone(), tuf_key)]),
        roles: HashMap::from([
            (RoleType::Root, role()),
            (RoleType::Snapshot, role()),
            (RoleType::Targets, role()),
            (RoleType::Timestamp, role()),
        ]),
        _extra: HashMap::new(),
    };
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let signed = SignedRole::new(root.clone(), &KeyHolder::Root(root), &keys, &rng)
        .await
        .unwrap();
    let root_path = dir.join("root.json");
    std::fs::write(&root_path, signed.buffer()).unwrap();
    let targets_in = dir.join("targets-in");
    std::fs::create_dir_all(&targets_in).unwrap();
    std::fs::write(targets_in.join("trusted_root.json"), trusted_root).unwrap();
    let mut editor = RepositoryEditor::new(&root_path).await.unwrap();
    let one = NonZeroU64::new(1).unwrap();
    editor
        .targets_version(one)
        .unwrap()
        .targets_expires(expires)
        .unwrap()
        .snapshot_version(one)
        .snapshot_expires(expires)
        .timestamp_version(one)
        .timestamp_expires(expires);
    editor
        .add_target_path(targets_in.join("trusted_root.json"))
        .await
        .unwrap();
    let repo = editor.sign(&keys).await.unwrap();
    let out = dir.join("repo");
    repo.write(out.join("metadata")).await.unwrap();
    repo.copy_targets(&targets_in, out.join("metadata/targets"), PathExists::Skip)
        .await
        .unwrap();
    root_path
}

/// Bytes that replace every target the mirror serves, when set.
type Tamper = Arc<Mutex<Option<Vec<u8>>>>;

/// Serves a directory over HTTP on loopback, with `tamper`.
async fn serve_dir(dir: PathBuf, tamper: Tamper) -> u16 {
    async fn get(
        State((dir, tamper)): State<(PathBuf, Tamper)>,
        UrlPath(rest): UrlPath<String>,
    ) -> axum::response::Response {
        if rest.contains("..") {
            return StatusCode::BAD_REQUEST.into_response();
        }
        if rest.starts_with("targets/")
            && let Some(b) = tamper.lock().unwrap().clone()
        {
            return b.into_response();
        }
        match std::fs::read(dir.join(&rest)) {
            Ok(b) => b.into_response(),
            Err(_) => StatusCode::NOT_FOUND.into_response(),
        }
    }
    let app = Router::new()
        .route("/{*rest}", axum::routing::get(get))
        .with_state((dir, tamper));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    port
}

fn imgverify(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imgverify"))
        .current_dir(support::root())
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn trusted_root_from_a_tuf_mirror_and_offline_from_its_cache() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = Dir::new("tuf");
    let root_json = rt.block_on(make_repository(&dir.0, &support::demo_trusted_root()));
    let tamper = Arc::new(Mutex::new(None));
    let port = rt.block_on(serve_dir(dir.0.join("repo/metadata"), tamper.clone()));
    // The example policy, its transparency log left to the trusted root.
    let policy = support::bundle_policy_trusting_the_root(&dir.0);
    let resources = support::root().join("policies/sigstore-bundle/resources.yaml");
    let cache = dir.0.join("cache");
    let mirror = format!("http://127.0.0.1:{port}");
    let apply = |mirror: &str, cache: &Path| {
        imgverify(&[
            "apply",
            policy.to_str().unwrap(),
            "-r",
            resources.to_str().unwrap(),
            "--oci-layout",
            "policies/images",
            "--tuf-mirror",
            mirror,
            "--tuf-root",
            root_json.to_str().unwrap(),
            "--tuf-cache",
            cache.to_str().unwrap(),
            "-o",
            "json",
        ])
    };
    let allowed = |out: &Output| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        v["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["allowed"] == true)
            .map(|r| r["name"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let out = apply(&mirror, &cache);
    assert_eq!(
        allowed(&out),
        ["bundle-signed"],
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(cache.join("trusted_root.json").is_file());
    // Without the TUF root the same policy trusts no demo log.
    let out = imgverify(&[
        "apply",
        policy.to_str().unwrap(),
        "-r",
        resources.to_str().unwrap(),
        "--oci-layout",
        "policies/images",
        "-o",
        "json",
    ]);
    assert!(allowed(&out).is_empty());
    // The mirror down: the cached, verified root, with a warning.
    let out = apply("http://127.0.0.1:9", &cache);
    assert_eq!(allowed(&out), ["bundle-signed"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unreachable"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A mirror serving a tampered target is an error, never a fallback.
    *tamper.lock().unwrap() = Some(
        support::demo_trusted_root()
            .replace("rekor.example.com", "evil")
            .into_bytes(),
    );
    let out = apply(&mirror, &cache);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("TUF repository"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // And with no cache and no mirror there is nothing to trust.
    let out = apply("http://127.0.0.1:9", &dir.0.join("empty-cache"));
    assert_eq!(out.status.code(), Some(2));
}

/// An image-policy attestor's own `tuf` repository: the host fetches and
/// verifies its `trusted_root.json` when it loads the policies, and that
/// attestor alone verifies against it (the DEMO log), whatever the engine's
/// root; without the repository, or with it down and no cache, the bundle
/// is not trusted.
#[test]
fn an_image_policy_attestor_trusts_its_own_tuf_repository() {
    use base64::Engine as _;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = Dir::new("tuf-attestor");
    let root_json = rt.block_on(make_repository(&dir.0, &support::demo_trusted_root()));
    // The mirror runs on a runtime of its own, stopped later to take it down.
    let mirror_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let port = mirror_rt.block_on(serve_dir(
        dir.0.join("repo/metadata"),
        Arc::new(Mutex::new(None)),
    ));
    let mirror = format!("http://127.0.0.1:{port}");

    let root_data =
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(&root_json).unwrap());
    let key_a = std::fs::read_to_string(support::root().join("policies/keys/demo-a.pub")).unwrap();
    let policy = |tuf: serde_json::Value| {
        let mut cosign = serde_json::json!({"key": {"data": key_a}});
        if !tuf.is_null() {
            cosign["tuf"] = tuf;
        }
        serde_json::json!({
            "apiVersion": "policies.kyverno.io/v1", "kind": "ImageValidatingPolicy",
            "metadata": {"name": "bundle-by-team-a"},
            "spec": {
                "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                    "operations": ["CREATE"], "resources": ["pods"]}]},
                "matchImageReferences": [{"glob": "registry.example.com/demo/bundle-*"}],
                "validationConfigurations": {"verifyDigest": false, "mutateDigest": false, "required": false},
                "attestors": [{"name": "a", "cosign": cosign}],
                "validations": [{"expression": "images.containers.all(i, verifyImageSignatures(i, [attestors.a]) > 0)",
                                 "message": "not signed by team A in a trusted log"}],
            },
        })
    };
    let resources = support::root().join("policies/sigstore-bundle/resources.yaml");
    let apply = |policy: serde_json::Value, cache: &Path| {
        let file = dir.0.join("ivpol.json");
        std::fs::write(&file, policy.to_string()).unwrap();
        imgverify(&[
            "apply",
            file.to_str().unwrap(),
            "-r",
            resources.to_str().unwrap(),
            "--oci-layout",
            "policies/images",
            "--tuf-cache",
            cache.to_str().unwrap(),
            "-o",
            "json",
        ])
    };
    let allowed = |out: &Output| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        v["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["allowed"] == true)
            .map(|r| r["name"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let cache = dir.0.join("cache");
    let tuf = |mirror: &str| serde_json::json!({"mirror": mirror, "root": {"data": root_data}});
    let out = apply(policy(tuf(&mirror)), &cache);
    assert_eq!(
        allowed(&out),
        ["bundle-signed", "unsigned"],
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Without its repository, the engine's (public-good) root has no DEMO log.
    let out = apply(policy(serde_json::Value::Null), &dir.0.join("cache-unused"));
    assert_eq!(
        allowed(&out),
        ["unsigned"],
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A mirror without its initial root is refused when the policy loads.
    let out = apply(policy(serde_json::json!({"mirror": mirror})), &cache);
    assert_eq!(out.status.code(), Some(2));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("spec.attestors[0].cosign.tuf.root"), "{all}");
    // The repository down: its verified root from the cache.
    mirror_rt.shutdown_background();
    let out = apply(policy(tuf(&mirror)), &cache);
    assert_eq!(allowed(&out), ["bundle-signed", "unsigned"]);
    // Down with no cache: an error naming the repository, never a pass.
    let out = apply(policy(tuf(&mirror)), &dir.0.join("empty-cache"));
    assert_eq!(allowed(&out), ["unsigned"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("no trusted root from TUF repository {mirror}")),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_takes_its_trusted_root_from_the_tuf_mirror() {
    let dir = Dir::new("tuf-serve");
    let root_json = make_repository(&dir.0, &support::demo_trusted_root()).await;
    let port = serve_dir(dir.0.join("repo/metadata"), Arc::new(Mutex::new(None))).await;
    let policy = support::bundle_policy_trusting_the_root(&dir.0);
    let tuf = imgverify_host::serve::TufArgs {
        tuf_mirror: Some(format!("http://127.0.0.1:{port}")),
        tuf_root: Some(root_json.display().to_string()),
        tuf_cache: dir.0.join("cache").display().to_string(),
    };
    let s = support::webhook::start_with(
        vec![policy.display().to_string()],
        (&support::webhook::layout(), None),
        |a| imgverify_host::serve::ServeArgs { tuf, ..a },
    )
    .await;
    let r = s
        .review(
            "/mutate",
            "a",
            support::webhook::pod("x", "registry.example.com/demo/bundle-signed:v1"),
        )
        .await;
    assert_eq!(r["response"]["allowed"], true, "{r}");
    s.stop().await;
}
