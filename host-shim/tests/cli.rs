//! The `imgverify` binary: exit codes, output formats, stdin, forged
//! annotations, policy errors.

use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn imgverify(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_imgverify"))
        .current_dir(root())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

const POLICY: &str = "policies/keyed-signature/policy.yaml";

#[test]
fn json_output_shape_and_exit_code_1_when_blocked() {
    let out = imgverify(
        &[
            "apply",
            POLICY,
            "-r",
            "policies/keyed-signature/resources.yaml",
            "--oci-layout",
            "policies/images",
            "-o",
            "json",
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let resources = v["resources"].as_array().unwrap();
    assert_eq!(resources.len(), 6);
    let r = &resources[0];
    for k in [
        "apiVersion",
        "kind",
        "namespace",
        "name",
        "allowed",
        "message",
        "patches",
        "warnings",
        "results",
    ] {
        assert!(r.get(k).is_some(), "missing {k}");
    }
    for k in ["policy", "rule", "result", "message", "images"] {
        assert!(r["results"][0].get(k).is_some(), "missing results[].{k}");
    }
    assert_eq!(v["summary"]["pass"], 1);
    assert_eq!(v["summary"]["fail"], 4);
}

#[test]
fn exit_0_when_nothing_blocked_and_stdin_input() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\nspec:\n  containers:\n  - {name: a, image: registry.example.com/demo/signed:v1}\n";
    let out = imgverify(
        &[
            "apply",
            POLICY,
            "-r",
            "-",
            "--oci-layout",
            "policies/images",
            "--format",
            "table",
        ],
        Some(pod),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ALLOWED Pod/default/p"));
}

#[test]
fn forged_verification_annotation_is_not_trusted() {
    let pod = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"forged","namespace":"default","annotations":{
      "kyverno.io/verify-images":"{\"registry.example.com/demo/unsigned:v1\":\"pass\"}",
      "kyverno.io/verify-images-scoped":"{\"version\":1,\"policies\":{\"/check-signature\":{\"signed-by-team-a\":{\"registry.example.com/demo/unsigned:v1\":\"pass\"}}}}"}},
      "spec":{"containers":[{"name":"a","image":"registry.example.com/demo/unsigned:v1"}]}}"#;
    let out = imgverify(
        &[
            "apply",
            POLICY,
            "-r",
            "-",
            "--oci-layout",
            "policies/images",
            "-o",
            "json",
        ],
        Some(pod),
    );
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["resources"][0]["allowed"], false);
}

#[test]
fn policy_report_output() {
    let out = imgverify(
        &[
            "apply",
            "policies/audit-report/policy.yaml",
            "-r",
            "policies/audit-report/resources.yaml",
            "--oci-layout",
            "policies/images",
            "--format",
            "report",
        ],
        None,
    );
    // Audit never blocks an admission, but a failing Audit rule fails the
    // run, as in Kyverno's CLI.
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let docs: Vec<Value> = text
        .split("---\n")
        .filter(|d| !d.trim().is_empty())
        .map(|d| serde_norway::from_str(d).unwrap())
        .collect();
    assert_eq!(docs.len(), 2);
    for d in &docs {
        assert_eq!(d["apiVersion"], "wgpolicyk8s.io/v1alpha2");
        assert_eq!(d["kind"], "PolicyReport");
        assert_eq!(d["results"][0]["source"], "kyverno");
        assert_eq!(d["results"][0]["policy"], "audit-signatures");
    }
    let unsigned = docs
        .iter()
        .find(|d| d["scope"]["name"] == "unsigned")
        .unwrap();
    assert_eq!(unsigned["results"][0]["result"], "fail");
    assert_eq!(unsigned["summary"]["fail"], 1);
}

#[test]
fn policy_errors_exit_2_naming_the_field() {
    let bad = "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: bad}\nspec:\n  rules:\n  - name: r\n    match: {any: [{resources: {kinds: [Pod]}}]}\n    verifyImages:\n    - failureAction: Enforce\n      imageReferences: ['*']\n      attestors: [{count: 3, entries: [{keys: {publicKeys: 'k8s://ns/key'}}]}]\n";
    let dir = std::env::temp_dir().join(format!("imgverify-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("bad.yaml");
    std::fs::write(&p, bad).unwrap();
    let out = imgverify(
        &[
            "apply",
            p.to_str().unwrap(),
            "-r",
            "policies/keyed-signature/resources.yaml",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    // Listed under Kyverno's "Invalid Policies:", the field path named.
    let err = String::from_utf8_lossy(&out.stdout);
    assert!(err.contains("Invalid Policies:\n1. bad: "), "{err}");
    assert!(err.contains("ClusterPolicy/bad: spec.rules[0].verifyImages[0].attestors[0].count: Count cannot exceed length of entries"), "{err}");
}

/// Largest resident set of any child process waited for so far, in MiB.
fn children_max_rss_mib() -> i64 {
    // SAFETY: getrusage fills the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
    u.ru_maxrss / 1024
}

#[test]
fn item12_yaml_bombs_and_duplicate_keys_are_refused_in_linear_time() {
    let dir = std::env::temp_dir().join(format!("imgverify-yaml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let nested = "[".repeat(200_000);
    let mut laughs = String::from("a0: &a0 [lol, lol, lol, lol]\n");
    for i in 1..12 {
        laughs.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}]\n",
            p = i - 1
        ));
    }
    let mut aliases = String::from("x: &x [");
    aliases.push_str(&"\"0123456789abcdef\", ".repeat(64));
    aliases.push_str("]\ny: [");
    aliases.push_str(&"*x, ".repeat(10_000));
    aliases.push_str("]\n");
    let duplicate = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n";
    let apply = |path: &std::path::Path| {
        let start = std::time::Instant::now();
        let out = imgverify(
            &[
                "apply",
                POLICY,
                "-r",
                path.to_str().unwrap(),
                "--oci-layout",
                "policies/images",
            ],
            None,
        );
        (out, start.elapsed())
    };
    // The baseline, in this run on this machine: a run that compiles the
    // module, parses a small resource and exits with the same code.
    let benign = dir.join("benign.yaml");
    std::fs::write(&benign, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [\n").unwrap();
    let (out, baseline) = apply(&benign);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    for (name, text, want) in [
        ("nested", nested.as_str(), "line 1"),
        ("laughs", laughs.as_str(), "expands to more than"),
        ("aliases", aliases.as_str(), "expands to more than"),
        (
            "duplicate",
            duplicate,
            "line 5 column 3: duplicate key \"name\" (first at line 4)",
        ),
    ] {
        let path = dir.join(format!("{name}.yaml"));
        std::fs::write(&path, text).unwrap();
        let (out, took) = apply(&path);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(want), "{name}: {err}");
        // Super-linear parsing took 21 s here; linear parsing is lost in
        // the noise of starting the binary.
        assert!(
            took < baseline * 3 + std::time::Duration::from_secs(2),
            "{name}: {took:?}, a small resource: {baseline:?}"
        );
    }
    // The same for a policy: its duplicate key is named with its line.
    let policy = dir.join("policy.yaml");
    std::fs::write(&policy, "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\nspec:\n  rules: []\n  rules: []\n").unwrap();
    let out = imgverify(
        &[
            "apply",
            policy.to_str().unwrap(),
            "-r",
            "policies/keyed-signature/resources.yaml",
        ],
        None,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("line 6 column 3: duplicate key \"rules\""),
        "{err}"
    );
    let rss = children_max_rss_mib();
    assert!(rss < 1024, "a child grew to {rss} MiB");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn item1_apply_takes_namespace_labels_and_user_info_as_the_kyverno_cli_does() {
    let dir = "policies/namespace-selector";
    let run = |extra: &[&str]| {
        let mut args = vec![
            "apply",
            "policies/namespace-selector/policy.yaml",
            "-r",
            "policies/namespace-selector/resources.yaml",
            "--oci-layout",
            "policies/images",
            "-o",
            "json",
        ];
        args.extend_from_slice(extra);
        let out = imgverify(&args, None);
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), v)
    };
    let allowed = |v: &Value, name: &str| {
        v["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap()["allowed"]
            .as_bool()
            .unwrap()
    };
    // Namespace documents label `shop`; `sandbox` is not production.
    let (code, v) = run(&[]);
    assert_eq!(code, Some(1));
    assert!(!allowed(&v, "unsigned-in-production"));
    assert!(allowed(&v, "signed-in-production"));
    assert!(allowed(&v, "unsigned-in-sandbox"));
    assert!(
        allowed(&v, "unsigned-in-payments"),
        "no labels known for payments"
    );
    // The values file labels `payments`.
    let values = format!("{dir}/values.yaml");
    let (_, v) = run(&["-f", &values]);
    assert!(!allowed(&v, "unsigned-in-payments"));
    // A cluster admin is excluded.
    let user = format!("{dir}/user-info.yaml");
    let (code, v) = run(&["-f", &values, "-u", &user]);
    assert_eq!(code, Some(0), "{v:#}");
    assert!(allowed(&v, "unsigned-in-production"));
    // A misspelt field in either file is an error naming it.
    let bad =
        std::env::temp_dir().join(format!("imgverify-bad-values-{}.yaml", std::process::id()));
    std::fs::write(
        &bad,
        "apiVersion: cli.kyverno.io/v1alpha1\nkind: Values\nnamespaceSelectors: []\n",
    )
    .unwrap();
    let out = imgverify(
        &[
            "apply",
            "policies/namespace-selector/policy.yaml",
            "-r",
            "policies/namespace-selector/resources.yaml",
            "-f",
            bad.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown field `namespaceSelectors`"));
    std::fs::remove_file(&bad).unwrap();
}

#[test]
fn item7_test_prints_lints_for_policies_it_ignores() {
    let dir = std::env::temp_dir().join(format!("imgverify-lint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("policy.yaml"), "apiVersion: kyverno.io/v2\nkind: ClusterPolicy\nmetadata: {name: future}\nspec: {rules: []}\n").unwrap();
    std::fs::write(dir.join("pod.yaml"), "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, image: nginx}]}\n").unwrap();
    std::fs::write(dir.join("kyverno-test.yaml"), "apiVersion: cli.kyverno.io/v1alpha1\nkind: Test\nmetadata: {name: t}\npolicies: [policy.yaml]\nresources: [pod.yaml]\nresults: [{policy: future, result: pass}]\n").unwrap();
    let out = imgverify(&["test", dir.to_str().unwrap()], None);
    // Kyverno prints what it found loading policies among the test's lines.
    let err = String::from_utf8_lossy(&out.stdout);
    assert!(
        err.contains("unknown apiVersion \"kyverno.io/v2\" for ClusterPolicy"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An OCI layout holding one Sigstore bundle as a referrer of
/// `registry.example.com/app@<subject>` (through the tag-schema index), in
/// a fresh directory.
fn layout_with_bundle(tag: &str, bundle: &[u8], subject: &str) -> PathBuf {
    use sha2::Digest as _;
    let dir = std::env::temp_dir().join(format!("imgverify-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    let put = |bytes: &[u8]| {
        let hex: String = sha2::Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        std::fs::write(dir.join("blobs/sha256").join(&hex), bytes).unwrap();
        (format!("sha256:{hex}"), bytes.len())
    };
    let bundle_type = "application/vnd.dev.sigstore.bundle.v0.3+json";
    let (bd, bn) = put(bundle);
    let (ed, en) = put(b"{}");
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": bundle_type,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": ed, "size": en},
        "layers": [{"mediaType": bundle_type, "digest": bd, "size": bn}],
        "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": subject, "size": 1},
    }))
    .unwrap();
    let (md, mn) = put(&manifest);
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": mn, "artifactType": bundle_type}],
    }))
    .unwrap();
    let (id, n) = put(&index);
    let name = format!("registry.example.com/app:{}", subject.replace(':', "-"));
    std::fs::write(
        dir.join("index.json"),
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": id, "size": n,
                "annotations": {"org.opencontainers.image.ref.name": name}}],
        }))
        .unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    dir
}

#[test]
fn trusted_root_replaces_the_embedded_root_for_apply_test_and_fetch() {
    // A Rekor v2 bundle (sigstore-conformance) logged by the staging log,
    // which only its own trusted root holds.
    let case =
        root().join("../shared/vectors/sigstore-conformance/bundle-verify/rekor2-dsse-happy-path");
    let subject = "sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf";
    let layout = layout_with_bundle(
        "rekor2",
        &std::fs::read(case.join("bundle.sigstore.json")).unwrap(),
        subject,
    );
    let policy = layout.join("policy.yaml");
    std::fs::write(&policy, r#"
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: staging-identity}
spec:
  rules:
    - name: bundle
      match: {any: [{resources: {kinds: [Pod]}}]}
      verifyImages:
        - type: SigstoreBundle
          failureAction: Enforce
          imageReferences: ["registry.example.com/*"]
          attestors:
            - entries:
                - keyless:
                    subject: "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
                    issuer: https://token.actions.githubusercontent.com
                    rekor: {url: https://log2025-alpha1.rekor.sigstage.dev}
"#).unwrap();
    let pod = layout.join("pod.yaml");
    std::fs::write(&pod, format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: app, namespace: default}}\nspec:\n  containers:\n    - name: app\n      image: registry.example.com/app@{subject}\n")).unwrap();
    let trusted_root = case.join("trusted_root.json");
    let (policy, pod, layout_s, trusted_root) = (
        policy.to_str().unwrap(),
        pod.to_str().unwrap(),
        layout.to_str().unwrap(),
        trusted_root.to_str().unwrap(),
    );
    let apply = |extra: &[&str]| {
        let mut args = vec![
            "apply",
            policy,
            "-r",
            pod,
            "--oci-layout",
            layout_s,
            "--now",
            "2026-12-01T00:00:00Z",
            "--format",
            "table",
        ];
        args.extend_from_slice(extra);
        imgverify(&args, None)
    };
    let out = apply(&["--trusted-root", trusted_root]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("ALLOWED Pod/default/app"), "{stdout}");
    // The registry configuration may name it instead of the flag.
    let config = layout.join("registry.yaml");
    std::fs::write(&config, format!("trustedRoot: {trusted_root}\n")).unwrap();
    let out = apply(&["--registry-config", config.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The embedded public-good root does not hold the staging log.
    let out = apply(&[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("no trusted log"), "{stdout}");
    // A missing or broken trusted root is a usage error naming the flag.
    let out = apply(&["--trusted-root", "/nonexistent/trusted_root.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("--trusted-root /nonexistent/trusted_root.json")
    );
    let broken = layout.join("broken.json");
    std::fs::write(&broken, "{\"tlogs\": 7}").unwrap();
    let out = apply(&["--trusted-root", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("invalid trusted root"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // `test` takes it too.
    std::fs::write(layout.join("kyverno-test.yaml"), "apiVersion: cli.kyverno.io/v1alpha1\nkind: Test\nmetadata: {name: t}\npolicies: [policy.yaml]\nresources: [pod.yaml]\nresults:\n  - {policy: staging-identity, rule: bundle, resources: [app], kind: Pod, result: pass}\n").unwrap();
    let out = imgverify(
        &[
            "test",
            layout_s,
            "--oci-layout",
            layout_s,
            "--trusted-root",
            trusted_root,
            "--now",
            "2026-12-01T00:00:00Z",
        ],
        None,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("Test Summary: 1 tests passed and 0 tests failed"),
        "{stdout}"
    );
    // And `fetch` records what the decision needed, replayable offline.
    let recorded = layout.join("recorded.json");
    let out = imgverify(
        &[
            "fetch",
            "-p",
            policy,
            "-r",
            pod,
            "--oci-layout",
            layout_s,
            "--trusted-root",
            trusted_root,
            "-o",
            recorded.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = imgverify(
        &[
            "apply",
            policy,
            "-r",
            pod,
            "--bundle",
            recorded.to_str().unwrap(),
            "--trusted-root",
            trusted_root,
            "--now",
            "2026-12-01T00:00:00Z",
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let _ = std::fs::remove_dir_all(&layout);
}
