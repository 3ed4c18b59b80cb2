//! `imgverify test` and `imgverify apply` as the Kyverno CLI: Kyverno's own
//! image-verification suites (`test/cli/test/images`, vendored verbatim in
//! `kyverno-suites/`, their public key swapped at run time for a test key
//! whose images the harness signs under the same names), and a suite per
//! feature of `kyverno test` with the outcome Kyverno's CLI gives.

mod support;

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::forge::{self, Forge, Layer};

fn imgverify(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imgverify"))
        .current_dir(support::root())
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("imgverify-kcli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn copy_tree(from: &Path, to: &Path, edit: &dyn Fn(String) -> String) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_tree(&p, &target, edit);
        } else {
            std::fs::write(&target, edit(std::fs::read_to_string(&p).unwrap())).unwrap();
        }
    }
}

/// Kyverno's test key in its suites (`test/cli/test/images`), line by line.
const KYVERNO_KEY_LINES: [&str; 2] = [
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8nXRh950IZbRj8Ra/N9sbqOPZrfM",
    "5/KAQN0/KjHcorm/J5yctVd7iEcnessRQjU917hmKO6JWVGHpDguIyakZA==",
];

/// The Kyverno suites with their key swapped for `key`'s, in a fresh folder.
fn kyverno_suites(key: &p256::ecdsa::SigningKey, name: &str) -> PathBuf {
    let pem = forge::public_pem(key);
    let ours: Vec<&str> = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    assert_eq!(ours.len(), 2, "{pem}");
    let dir = fresh_dir(name);
    let vendored = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/kyverno-suites");
    copy_tree(&vendored, &dir, &|text: String| {
        text.replace(KYVERNO_KEY_LINES[0], ours[0])
            .replace(KYVERNO_KEY_LINES[1], ours[1])
    });
    dir
}

/// Kyverno's test images, `:signed` signed by `key`, `:unsigned` not, and
/// the other images its suites name, as an OCI layout.
fn kyverno_images(key: &p256::ecdsa::SigningKey, name: &str) -> PathBuf {
    let f = Forge::default();
    let repo = "ghcr.io/kyverno/test-verify-image";
    let signed = f.image(repo, "signed");
    f.sign(repo, &signed, &[Layer::new(key, &signed)]);
    f.image(repo, "unsigned");
    f.image("ghcr.io/jimbugwadia/demo-java-tomcat", "v0.0.15");
    let dir = fresh_dir(name);
    f.write_layout(&dir);
    dir
}

#[test]
fn kyverno_image_suites_pass_with_only_their_keys_swapped() {
    let key = forge::key("kyverno suites");
    let suites = kyverno_suites(&key, "suites");
    let layout = kyverno_images(&key, "suites-layout");
    // The swap happened: no suite still holds Kyverno's key.
    let policies = std::fs::read_to_string(suites.join("images/signatures/policies.yaml")).unwrap();
    assert!(!policies.contains(KYVERNO_KEY_LINES[0]));
    let out = imgverify(&[
        "test",
        suites.to_str().unwrap(),
        "--oci-layout",
        layout.to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    // signatures 2, verify-signature 4 (Pods and DataVolumes), secure-images 1, digest 2.
    assert!(
        text.contains("Test Summary: 9 tests passed and 0 tests failed"),
        "{text}"
    );
    assert_eq!(
        text.matches("Loading test kyverno-test.yaml").count(),
        4,
        "{text}"
    );

    // Signed by another key, the signed images fail, and the suites say so.
    let other = kyverno_images(&forge::key("someone else"), "suites-other");
    let out = imgverify(&[
        "test",
        suites.to_str().unwrap(),
        "--oci-layout",
        other.to_str().unwrap(),
        "--detailed-results",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("Test Summary: 6 tests passed and 3 tests failed"),
        "{text}"
    );
    assert_eq!(text.matches("Want pass, got fail").count(), 3, "{text}");
    assert!(
        stderr(&out).contains("Error: 3 tests failed"),
        "{}",
        stderr(&out)
    );
    for d in [suites, layout, other] {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// A suite exercising what `kyverno test` supports, over one signed and one
/// unsigned image.
struct Feature {
    dir: PathBuf,
    layout: PathBuf,
    digest: String,
}

/// Kyverno's Notary test certificate in its image-policy suites, as the
/// base64 lines of its PEM.
fn pem_lines(pem: &str) -> Vec<String> {
    pem.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("-----"))
        .map(String::from)
        .collect()
}

/// The image-policy suites with the certificate they trust swapped for
/// `root` (PEM), in a fresh folder.
fn kyverno_ivpol_suites(root: &str, name: &str) -> PathBuf {
    let vendored = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/kyverno-ivpol-suites");
    let theirs = std::fs::read_to_string(vendored.join("sample-policy/policy.yaml")).unwrap();
    let theirs = theirs
        .split("-----BEGIN CERTIFICATE-----")
        .nth(1)
        .and_then(|b| b.split("-----END CERTIFICATE-----").next())
        .map(pem_lines)
        .unwrap();
    let ours = pem_lines(root);
    let dir = fresh_dir(name);
    copy_tree(&vendored, &dir, &|text: String| {
        // Line by line, keeping the YAML's indentation: the first of our
        // lines takes the first of theirs, and the rest follow it.
        let mut out = Vec::new();
        let mut replaced = false;
        for line in text.lines() {
            let trimmed = line.trim();
            match theirs.iter().position(|t| t == trimmed) {
                Some(0) => {
                    let indent = &line[..line.len() - line.trim_start().len()];
                    out.extend(ours.iter().map(|o| format!("{indent}{o}")));
                    replaced = true;
                }
                Some(_) => {}
                None => out.push(line.to_string()),
            }
        }
        let mut joined = out.join("\n");
        if text.ends_with('\n') {
            joined.push('\n');
        }
        assert!(replaced || !text.contains("BEGIN CERTIFICATE"));
        joined
    });
    dir
}

/// The images the image-policy suites name: `:signed` with a Notary JWS
/// signature by `pki`'s leaf and a Notary-signed CycloneDX SBOM referrer of
/// type `sbom/cyclone-dx`, `:unsigned` without; referrers listed in the
/// `sha256-<hex>` tag-schema index, as an OCI layout; with the digest of
/// `:signed`. A `decoy` signs an SPDX SBOM of the same type listed first.
fn kyverno_ivpol_images(
    pki: &imgverify_testkit::Pki,
    decoy: Option<&imgverify_testkit::Pki>,
    name: &str,
) -> (PathBuf, String) {
    use imgverify_testkit::{Descriptor, Format, SignRequest, sign_jws, signature_manifest};
    const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    const SIGNATURE: &str = "application/vnd.cncf.notary.signature";
    const SBOM: &str = "sbom/cyclone-dx";
    let f = Forge::default();
    let repo = "ghcr.io/kyverno/test-verify-image";
    let bytes = |f: &Forge, digest: &str| f.blobs.lock().unwrap()[digest].clone();
    // A Notary signature manifest by `pki` for the manifest `subject`.
    let sign_by = |f: &Forge, pki: &imgverify_testkit::Pki, subject: &[u8]| {
        let target = Descriptor::for_content(MANIFEST, subject);
        let envelope = sign_jws(
            &SignRequest::new(target.clone(), imgverify_testkit::unix(2026, 1, 1, 0, 0, 0)),
            &pki.leaf_key,
            &pki.chain(),
        );
        let (manifest, envelope) = signature_manifest(&envelope, Format::Jws, &target, false);
        f.blob(envelope);
        f.blob(b"{}".to_vec());
        f.blob(manifest.clone());
        manifest
    };
    let sign = |f: &Forge, subject: &[u8]| sign_by(f, pki, subject);
    // Lists `referrers` (manifest bytes, artifact type) for `subject`.
    let list = |f: &Forge, subject: &str, referrers: &[(&[u8], &str)]| {
        let manifests: Vec<Value> = referrers
            .iter()
            .map(|(m, t)| {
                let (d, n) = f.blob(m.to_vec());
                json!({"mediaType": MANIFEST, "digest": d, "size": n, "artifactType": t})
            })
            .collect();
        f.manifest(
            &format!("{repo}:{}", subject.replace(':', "-")),
            &json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests}),
        );
    };
    let signed = f.image(repo, "signed");
    let image = bytes(&f, &signed);
    let signature = sign(&f, &image);
    let sbom_of = |f: &Forge, format: &str| {
        let (sd, sn) = f.blob(
            serde_json::to_vec(
                &json!({"bomFormat": format, "specVersion": "1.5", "components": []}),
            )
            .unwrap(),
        );
        let (ed, en) = f.blob(b"{}".to_vec());
        serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": MANIFEST, "artifactType": SBOM,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": ed, "size": en},
            "layers": [{"mediaType": "application/vnd.cyclonedx+json", "digest": sd, "size": sn}],
            "subject": {"mediaType": MANIFEST, "digest": signed, "size": image.len()},
        }))
        .unwrap()
    };
    let sbom = sbom_of(&f, "CycloneDX");
    let (sbom_digest, _) = f.blob(sbom.clone());
    let sbom_signature = sign(&f, &sbom);
    let mut referrers: Vec<(&[u8], &str)> = vec![(&signature, SIGNATURE)];
    let decoy_sbom = decoy.map(|other| {
        let sbom = sbom_of(&f, "SPDX");
        let (digest, _) = f.blob(sbom.clone());
        let signature = sign_by(&f, other, &sbom);
        list(&f, &digest, &[(&signature, SIGNATURE)]);
        sbom
    });
    if let Some(d) = &decoy_sbom {
        referrers.push((d, SBOM));
    }
    referrers.push((&sbom, SBOM));
    list(&f, &signed, &referrers);
    list(&f, &sbom_digest, &[(&sbom_signature, SIGNATURE)]);
    f.image(repo, "unsigned");
    let dir = fresh_dir(name);
    f.write_layout(&dir);
    (dir, signed)
}

/// Pins `context-resource`'s Deployments to the digest of `:signed` (the
/// policy verifies digests; the upstream suite has no resources file).
fn pin_signed_digest(suites: &Path, digest: &str) {
    let file = suites.join("context-resource/resources.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("@SIGNED_DIGEST"), "{text}");
    std::fs::write(&file, text.replace("SIGNED_DIGEST", digest)).unwrap();
}

#[test]
fn kyverno_image_validating_policy_suites_pass_with_only_their_certificate_swapped() {
    let pki = imgverify_testkit::Pki::code_signing(
        imgverify_testkit::KeyKind::P256,
        "kyverno ivpol suites",
    );
    let root = imgverify_testkit::cert_pem(&pki.root);
    let suites = kyverno_ivpol_suites(&root, "ivpol-suites");
    let (layout, signed) = kyverno_ivpol_images(&pki, None, "ivpol-layout");
    pin_signed_digest(&suites, &signed);
    let policy = std::fs::read_to_string(suites.join("sample-policy/policy.yaml")).unwrap();
    assert!(policy.contains(&pem_lines(&root)[1]), "{policy}");
    let out = imgverify(&[
        "test",
        suites.to_str().unwrap(),
        "--oci-layout",
        layout.to_str().unwrap(),
        "--detailed-results",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    // sample-policy 2, with-cel-exceptions 3, context-resource 2 (its
    // ConfigMap read through `resource.get` from `clusterResources`),
    // check-json 2 (`jsonPayloads`).
    assert!(
        text.contains("Test Summary: 9 tests passed and 0 tests failed"),
        "{text}"
    );
    assert!(
        text.contains("Deployment labels must be env=prod"),
        "{text}"
    );
    assert!(
        text.contains("rule is skipped due to policy exception: check-name"),
        "{text}"
    );
    assert!(
        text.contains("failed to verify image with notary cert"),
        "{text}"
    );
    // check-json: the JSON-mode policy on Kyverno's two payloads, as
    // Kyverno's own apply test runs it (one pass, one fail).
    let dir = suites.join("check-json");
    let payloads = format!(
        "{},{}",
        dir.join("ivpol-payload-pass.json").display(),
        dir.join("ivpol-payload-fail.json").display()
    );
    let out = imgverify(&[
        "apply",
        dir.join("ivpol-json.yaml").to_str().unwrap(),
        "--json",
        &payloads,
        "--oci-layout",
        layout.to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(
        text.contains("policy ivpol-cli-sample -> resource JSON payload failed:"),
        "{text}"
    );
    assert!(
        text.contains("pass: 1, fail: 1, warn: 0, error: 0, skip: 0"),
        "{text}"
    );
    // Resources and payloads are one or the other.
    let out = imgverify(&[
        "apply",
        dir.join("ivpol-json.yaml").to_str().unwrap(),
        "--json",
        &payloads,
        "-r",
        suites.join("sample-policy/good-pod.yaml").to_str().unwrap(),
    ]);
    assert!(
        stderr(&out).contains("both resource and json files can not be used together"),
        "{}",
        stderr(&out)
    );

    // Signed by a chain the policies do not trust: the signed pods fail too.
    let other =
        imgverify_testkit::Pki::code_signing(imgverify_testkit::KeyKind::P256, "someone else");
    let (layout, other_signed) = kyverno_ivpol_images(&other, None, "ivpol-layout-other");
    assert_eq!(
        other_signed, signed,
        "the image is the same; its signatures differ"
    );
    let out = imgverify(&[
        "test",
        suites.to_str().unwrap(),
        "--oci-layout",
        layout.to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("Test Summary: 5 tests passed and 4 tests failed"),
        "{text}"
    );

    // An SBOM referrer signed by another chain listed before the trusted
    // one: as Kyverno's image policies, each referrer is tried until one
    // verifies, and extractPayload reads the verified one (CycloneDX, not
    // the decoy's SPDX).
    let (layout, _) = kyverno_ivpol_images(&pki, Some(&other), "ivpol-layout-decoy");
    let out = imgverify(&[
        "test",
        suites.join("sample-policy").to_str().unwrap(),
        "--oci-layout",
        layout.to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(
        text.contains("Test Summary: 2 tests passed and 0 tests failed"),
        "{text}"
    );
}

/// `clusterResources` answer a ClusterPolicy's context entries as Kyverno's
/// CLI answers them from its fake client: a ConfigMap (`configMap`) and a
/// custom resource whose plural only its CRD gives (`apiCall`), each
/// deciding through a precondition whether its rule enforces signatures;
/// without the objects the entries cannot be read.
#[test]
fn cluster_resources_answer_context_entries() {
    let s = feature_suite("cluster-resources");
    let pem: String = forge::public_pem(&forge::key(KEY_LABEL))
        .lines()
        .map(|l| format!("                      {l}\n"))
        .collect();
    let rule = |name: &str, context: &str, switch: &str| {
        format!(
            "    - name: {name}\n      match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}\n      context:\n{context}      preconditions:\n        all: [{{key: \"{switch}\", operator: Equals, value: \"yes\"}}]\n      verifyImages:\n        - imageReferences: [\"registry.example.com/*\"]\n          failureAction: Enforce\n          verifyDigest: false\n          mutateDigest: false\n          attestors:\n            - entries:\n                - keys:\n                    rekor: {{ignoreTlog: true}}\n                    publicKeys: |-\n{pem}"
        )
    };
    std::fs::write(
        s.dir.join("policies.yaml"),
        format!(
            "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {{name: switched-from-cluster}}\nspec:\n  rules:\n{}{}",
            rule(
                "switch-from-configmap",
                "        - name: settings\n          configMap: {name: image-checks, namespace: kyverno}\n",
                "{{ settings.data.enforce }}"
            ),
            rule(
                "switch-from-custom-resource",
                "        - name: ring\n          apiCall: {urlPath: \"/apis/trust.example.com/v1/imagekeyring/{{request.object.metadata.namespace}}\", jmesPath: spec.enforce}\n",
                "{{ ring }}"
            ),
        ),
    )
    .unwrap();
    std::fs::write(
        s.dir.join("crd.yaml"),
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: imagekeyring.trust.example.com}\nspec:\n  group: trust.example.com\n  scope: Cluster\n  names: {kind: ImageKey, plural: imagekeyring}\n  versions: [{name: v1, served: true, storage: true}]\n",
    )
    .unwrap();
    let objects = |enforce: &str| {
        format!(
            "apiVersion: cli.kyverno.io/v1alpha1\nkind: ClusterResource\nmetadata: {{name: cluster}}\nspec:\n  crds: [crd.yaml]\n  resources:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {{name: image-checks, namespace: kyverno}}\n    data: {{enforce: \"{enforce}\"}}\n  - apiVersion: trust.example.com/v1\n    kind: ImageKey\n    metadata: {{name: default}}\n    spec: {{enforce: \"{enforce}\"}}\n"
        )
    };
    let test = |cluster: &str| {
        format!(
            "{HEADER}{cluster}results:\n  - {{policy: switched-from-cluster, resources: [default/good], kind: Pod, result: pass}}\n  - {{policy: switched-from-cluster, resources: [default/bad], kind: Pod, result: fail}}\n"
        )
    };
    // Both objects say enforce: the signed Pod passes both rules, the
    // unsigned one fails both.
    std::fs::write(s.dir.join("cluster.yaml"), objects("yes")).unwrap();
    s.test_file(&test("clusterResources: [cluster.yaml]\n"));
    let out = s.run(&["--detailed-results"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains("Loading Kubernetes resources"), "{text}");
    assert!(
        text.contains("Test Summary: 4 tests passed and 0 tests failed"),
        "{text}"
    );
    // They say no: both rules skip both Pods.
    std::fs::write(s.dir.join("cluster.yaml"), objects("no")).unwrap();
    let out = s.run(&["--detailed-results"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("Test Summary: 0 tests passed and 4 tests failed"),
        "{text}"
    );
    assert_eq!(text.matches("got skip").count(), 4, "{text}");
    // No objects: as in Kyverno's CLI the entries are left to a values
    // file, so the preconditions cannot resolve and the signed Pod fails.
    s.test_file(&test(""));
    let out = s.run(&["--detailed-results"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("Unknown key \"settings\""), "{text}");
    assert_eq!(text.matches("Want pass, got fail").count(), 2, "{text}");
    // A file that is not a ClusterResource is an error naming it.
    std::fs::write(
        s.dir.join("cluster.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    )
    .unwrap();
    s.test_file(&test("clusterResources: [cluster.yaml]\n"));
    let out = s.run(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("cluster.yaml: not a ClusterResource"),
        "{}",
        stdout(&out)
    );
    let _ = std::fs::remove_dir_all(&s.dir);
    let _ = std::fs::remove_dir_all(&s.layout);
}

/// An attestor key kept in a Secret (`k8s://signing/cosign-key`) is read
/// from the test's `clusterResources`, as the webhook reads it from the
/// cluster: the Secret's key decides, another key in it fails the signed
/// Pod, and without cluster resources there is no key to read.
#[test]
fn keys_in_secrets_come_from_cluster_resources() {
    use base64::Engine as _;
    let s = feature_suite("secret-keys");
    std::fs::write(
        s.dir.join("policies.yaml"),
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: key-from-secret}\nspec:\n  rules:\n    - name: signed\n      match: {any: [{resources: {kinds: [Pod]}}]}\n      verifyImages:\n        - imageReferences: [\"registry.example.com/*\"]\n          failureAction: Enforce\n          verifyDigest: false\n          mutateDigest: false\n          attestors:\n            - entries:\n                - keys:\n                    rekor: {ignoreTlog: true}\n                    publicKeys: k8s://signing/cosign-key\n",
    )
    .unwrap();
    let secret = |label: &str| {
        let pem = forge::public_pem(&forge::key(label));
        format!(
            "apiVersion: cli.kyverno.io/v1alpha1\nkind: ClusterResource\nmetadata: {{name: cluster}}\nspec:\n  resources:\n  - apiVersion: v1\n    kind: Secret\n    metadata: {{name: cosign-key, namespace: signing}}\n    data: {{cosign.pub: {}}}\n",
            base64::engine::general_purpose::STANDARD.encode(pem)
        )
    };
    let test = |cluster: &str| {
        format!(
            "{HEADER}{cluster}results:\n  - {{policy: key-from-secret, resources: [default/good], kind: Pod, result: pass}}\n  - {{policy: key-from-secret, resources: [default/bad], kind: Pod, result: fail}}\n"
        )
    };
    std::fs::write(s.dir.join("cluster.yaml"), secret(KEY_LABEL)).unwrap();
    s.test_file(&test("clusterResources: [cluster.yaml]\n"));
    let out = s.run(&["--detailed-results"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(
        text.contains("Test Summary: 2 tests passed and 0 tests failed"),
        "{text}"
    );
    // The Secret holds another key: the signed Pod fails too.
    std::fs::write(s.dir.join("cluster.yaml"), secret("someone else")).unwrap();
    let out = s.run(&["--detailed-results"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("Test Summary: 1 tests passed and 1 tests failed"),
        "{text}"
    );
    assert!(text.contains("no matching signatures"), "{text}");
    // No cluster resources: the key cannot be read, never a pass.
    s.test_file(&test(""));
    let out = s.run(&["--detailed-results"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("failed to load public key from k8s://signing/cosign-key"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&s.dir);
    let _ = std::fs::remove_dir_all(&s.layout);
}

const KEY_LABEL: &str = "feature suite";

fn feature_suite(name: &str) -> Feature {
    let key = forge::key(KEY_LABEL);
    let f = Forge::default();
    let repo = "registry.example.com/app";
    let digest = f.image(repo, "v1");
    f.sign(repo, &digest, &[Layer::new(&key, &digest)]);
    f.image(repo, "unsigned");
    let layout = fresh_dir(&format!("{name}-layout"));
    f.write_layout(&layout);
    let dir = fresh_dir(name);
    let pem: String = forge::public_pem(&key)
        .lines()
        .map(|l| format!("                      {l}\n"))
        .collect();
    let verify = |mutate: bool| {
        format!(
            "      verifyImages:\n        - imageReferences: [\"registry.example.com/*\"]\n          failureAction: Enforce\n          mutateDigest: {mutate}\n          verifyDigest: {mutate}\n          attestors:\n            - entries:\n                - keys:\n                    rekor: {{ignoreTlog: true}}\n                    publicKeys: |-\n{pem}"
        )
    };
    let policies = format!(
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {{name: signed-app}}\nspec:\n  rules:\n    - name: verify\n      match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}\n      exclude: {{any: [{{resources: {{namespaces: [kube-system]}}}}]}}\n{}---\napiVersion: kyverno.io/v1\nkind: Policy\nmetadata: {{name: team-policy, namespace: team-a}}\nspec:\n  rules:\n    - name: team-verify\n      match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}\n{}---\napiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {{name: skipper}}\nspec:\n  rules:\n    - name: skip-ours\n      match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}\n{}",
        verify(true),
        verify(false),
        verify(false).replace(
            "failureAction: Enforce\n",
            "failureAction: Enforce\n          skipImageReferences: [\"registry.example.com/app*\"]\n"
        ),
    );
    std::fs::write(dir.join("policies.yaml"), policies).unwrap();
    let pod = |ns: &str, name: &str, image: &str| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
            "spec": {"containers": [{"name": "app", "image": image}]}})
    };
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "app", "image": "registry.example.com/app:v1"}]}}}});
    let resources = [
        pod("default", "good", "registry.example.com/app:v1"),
        pod("default", "bad", "registry.example.com/app:unsigned"),
        pod("kube-system", "good", "registry.example.com/app:unsigned"),
        pod("team-a", "team-pod", "registry.example.com/app:v1"),
        deployment,
    ];
    let text: Vec<String> = resources
        .iter()
        .map(|r| serde_norway::to_string(r).unwrap())
        .collect();
    std::fs::write(dir.join("resources.yaml"), text.join("---\n")).unwrap();
    Feature {
        dir,
        layout,
        digest,
    }
}

impl Feature {
    fn test_file(&self, text: &str) {
        std::fs::write(self.dir.join("kyverno-test.yaml"), text).unwrap();
    }

    fn run(&self, extra: &[&str]) -> Output {
        let mut args = vec![
            "test",
            self.dir.to_str().unwrap(),
            "--oci-layout",
            self.layout.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        imgverify(&args)
    }
}

/// A GlobalContextEntry among the policies (`kubernetesResource` with a
/// projection) read by a `globalReference` entry, its list answered from
/// the test's `clusterResources`; then the test's `globalContextEntries`
/// mocks in its place.
#[test]
fn global_context_entries_read_cluster_resources() {
    let s = feature_suite("global-context");
    let pem: String = forge::public_pem(&forge::key(KEY_LABEL))
        .lines()
        .map(|l| format!("                      {l}\n"))
        .collect();
    std::fs::write(
        s.dir.join("policies.yaml"),
        format!(
            "apiVersion: kyverno.io/v2alpha1\nkind: GlobalContextEntry\nmetadata: {{name: image-checks}}\nspec:\n  kubernetesResource: {{version: v1, resource: configmaps, namespace: kyverno}}\n  projections:\n    - name: enforce\n      jmesPath: \"[?metadata.name=='image-checks'].data.enforce | [0]\"\n---\napiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {{name: switched-globally}}\nspec:\n  rules:\n    - name: switch\n      match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}\n      context:\n        - name: enforce\n          globalReference: {{name: image-checks.enforce}}\n      preconditions:\n        all: [{{key: \"{{{{ enforce }}}}\", operator: Equals, value: \"yes\"}}]\n      verifyImages:\n        - imageReferences: [\"registry.example.com/*\"]\n          failureAction: Enforce\n          verifyDigest: false\n          mutateDigest: false\n          attestors:\n            - entries:\n                - keys:\n                    rekor: {{ignoreTlog: true}}\n                    publicKeys: |-\n{pem}"
        ),
    )
    .unwrap();
    let objects = |enforce: &str| {
        format!(
            "apiVersion: cli.kyverno.io/v1alpha1\nkind: ClusterResource\nmetadata: {{name: cluster}}\nspec:\n  resources:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {{name: image-checks, namespace: kyverno}}\n    data: {{enforce: \"{enforce}\"}}\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {{name: image-checks, namespace: elsewhere}}\n    data: {{enforce: \"no\"}}\n"
        )
    };
    s.test_file(&format!(
        "{HEADER}clusterResources: [cluster.yaml]\nresults:\n  - {{policy: switched-globally, resources: [default/good], kind: Pod, result: pass}}\n  - {{policy: switched-globally, resources: [default/bad], kind: Pod, result: fail}}\n"
    ));
    std::fs::write(s.dir.join("cluster.yaml"), objects("yes")).unwrap();
    let out = s.run(&["--detailed-results"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(
        text.contains("Test Summary: 2 tests passed and 0 tests failed"),
        "{text}"
    );
    // The entry's namespace says no: the rule is skipped for both Pods.
    std::fs::write(s.dir.join("cluster.yaml"), objects("no")).unwrap();
    let out = s.run(&["--detailed-results"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_eq!(text.matches("got skip").count(), 2, "{text}");
    // Kyverno's `globalContextEntries` mocks stand in for the entry, with
    // their own fieldPath and projections.
    let mock = |enforce: &str| {
        format!(
            "{HEADER}globalContextEntries:\n  - name: image-checks\n    data: {{settings: {{images: {{enforce: \"{enforce}\"}}}}}}\n    fieldPath: settings\n    projections:\n      - {{name: enforce, path: images.enforce}}\nresults:\n  - {{policy: switched-globally, resources: [default/good], kind: Pod, result: pass}}\n  - {{policy: switched-globally, resources: [default/bad], kind: Pod, result: fail}}\n"
        )
    };
    s.test_file(&mock("yes"));
    let out = s.run(&["--detailed-results"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains("Loading global context entries"), "{text}");
    s.test_file(&mock("no"));
    let out = s.run(&["--detailed-results"]);
    let text = stdout(&out);
    assert_eq!(text.matches("got skip").count(), 2, "{text}");
    // A mock with projections and no data is refused, as Kyverno refuses it.
    s.test_file(&format!(
        "{HEADER}globalContextEntries:\n  - name: image-checks\n    projections: [{{name: enforce, path: x}}]\nresults:\n  - {{policy: switched-globally, resources: [default/good], kind: Pod, result: pass}}\n"
    ));
    let out = s.run(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("data is required when projections are set"),
        "{}",
        stdout(&out)
    );
    let _ = std::fs::remove_dir_all(&s.dir);
    let _ = std::fs::remove_dir_all(&s.layout);
}

const HEADER: &str = "apiVersion: cli.kyverno.io/v1alpha1\nkind: Test\nmetadata: {name: features}\npolicies: [policies.yaml]\nresources: [resources.yaml]\n";

#[test]
fn test_results_match_rules_resources_and_policies_as_kyverno() {
    let s = feature_suite("match");
    s.test_file(&format!(
        "{HEADER}results:
  # namespace/name picks one of two Pods named good
  - {{policy: signed-app, rule: verify, resources: [default/good], kind: Pod, result: pass}}
  - {{policy: signed-app, rule: verify, resources: [bad], kind: Pod, result: fail}}
  # excluded: the policy ran and no rule applied, a passing 'Excluded' row
  - {{policy: signed-app, rule: verify, resources: [kube-system/good], kind: Pod, result: fail}}
  # a Deployment expectation written with the Pod rule's name finds autogen-verify
  - {{policy: signed-app, rule: verify, resources: [web], kind: Deployment, result: pass}}
  # no rule: every rule of the policy
  - {{policy: signed-app, resources: [bad], kind: Pod, result: fail}}
  # a namespaced Policy by namespace/name
  - {{policy: team-a/team-policy, rule: team-verify, resources: [team-a/team-pod], kind: Pod, result: pass}}
  - {{policy: signed-app, rule: verify, resourceSpecs: [{{version: v1, kind: Pod, namespace: default, name: good}}], result: pass}}
  - {{policy: skipper, rule: skip-ours, resources: [default/good], kind: Pod, result: skip}}
---
{HEADER}results:
  # no resources: every resource the policy saw (team-pod is the only one it applies to)
  - {{policy: team-a/team-policy, rule: team-verify, result: pass}}
"
    ));
    let out = s.run(&["--detailed-results"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    // 8 rows in the first test; the second test's one expectation gives a row
    // per resource: team-pod passes, the four others are Excluded.
    assert!(
        text.contains("Test Summary: 13 tests passed and 0 tests failed"),
        "{text}"
    );
    assert!(text.contains("autogen-verify"), "{text}");
    assert!(text.contains("Excluded"), "{text}");
    assert_eq!(text.matches("Loading test features").count(), 2, "{text}");

    // Each expectation inverted fails, naming what it wanted and got.
    s.test_file(&format!(
        "{HEADER}results:
  - {{policy: signed-app, rule: verify, resources: [default/good], result: fail}}
  - {{policy: signed-app, rule: verify, resources: [web], result: fail}}
  - {{policy: team-a/team-policy, rule: team-verify, resources: [team-pod], result: fail}}
  - {{policy: skipper, rule: skip-ours, resources: [default/good], result: pass}}
  # a resource or policy the test does not have is a failure, never every resource
  - {{policy: signed-app, rule: verify, resources: [no-such-pod], result: pass}}
  - {{policy: no-such-policy, rule: verify, resources: [default/good], result: pass}}
"
    ));
    let out = s.run(&[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("Test Summary: 0 tests passed and 6 tests failed"),
        "{text}"
    );
    assert_eq!(text.matches("Want fail, got pass").count(), 3, "{text}");
    assert_eq!(text.matches("Want pass, got skip").count(), 1, "{text}");
    assert_eq!(text.matches("Not found").count(), 2, "{text}");
    let _ = std::fs::remove_dir_all(&s.dir);
    let _ = std::fs::remove_dir_all(&s.layout);
}

#[test]
fn patched_resources_compare_the_resource_as_the_rules_patch_it() {
    let s = feature_suite("patched");
    let pinned = format!("registry.example.com/app:v1@{}", s.digest);
    let verified = format!("registry.example.com/app@{}", s.digest);
    // The skipper policy's rule records the image it skipped, at its tag.
    let tagged = "registry.example.com/app:v1";
    let flat = json!({ &verified: "pass", tagged: "skip" }).to_string();
    let scoped = json!({"version": 1, "policies": {
        "/signed-app": {"verify": { &verified: "pass" }},
        "/skipper": {"skip-ours": { tagged: "skip" }},
    }})
    .to_string();
    let patched = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "good", "namespace": "default", "annotations": {
            "kyverno.io/verify-images": flat, "kyverno.io/verify-images-scoped": scoped}},
        "spec": {"containers": [{"name": "app", "image": pinned}]}});
    std::fs::write(
        s.dir.join("patched.yaml"),
        serde_norway::to_string(&patched).unwrap(),
    )
    .unwrap();
    // The same Pod left at its tag: what Kyverno's CLI compares for these rules.
    let mut unpinned = patched.clone();
    unpinned["spec"]["containers"][0]["image"] = json!("registry.example.com/app:v1");
    std::fs::write(
        s.dir.join("unpinned.yaml"),
        serde_norway::to_string(&unpinned).unwrap(),
    )
    .unwrap();
    s.test_file(&format!(
        "{HEADER}results:
  - {{policy: signed-app, rule: verify, resources: [default/good], result: pass, patchedResources: patched.yaml}}
"
    ));
    let out = s.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    s.test_file(&format!(
        "{HEADER}results:
  - {{policy: signed-app, rule: verify, resources: [default/good], result: pass, patchedResources: unpinned.yaml}}
"
    ));
    let out = s.run(&["--detailed-results"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("Resource diff"), "{text}");
    assert!(
        text.contains("Patched resource didn't match the patched resource in the test result"),
        "{text}"
    );
    assert!(
        text.contains(&pinned),
        "the diff shows the pinned image: {text}"
    );
    let _ = std::fs::remove_dir_all(&s.dir);
    let _ = std::fs::remove_dir_all(&s.layout);
}

#[test]
fn test_files_are_read_strictly() {
    let s = feature_suite("strict");
    let cases = [
        (
            format!(
                "{HEADER}results:\n  - {{policy: signed-app, rule: verify, resources: [bad], reslt: fail, result: fail}}\n"
            ),
            "unknown field `reslt`",
        ),
        (
            format!("{HEADER}patchedResource: x.yaml\nresults: []\n"),
            "unknown field `patchedResource`",
        ),
        (
            format!(
                "{HEADER}results: []\n---\n{HEADER}results:\n  - {{policy: signed-app, result: fial}}\n"
            ),
            "is not one of pass, fail, warn, error, skip",
        ),
        (
            format!(
                "{HEADER}results:\n  - {{policy: a, result: pass}}\n  - {{policy: a, result: pass}}\nresults: []\n"
            ),
            "duplicate",
        ),
    ];
    for (text, needle) in &cases {
        s.test_file(text);
        let out = s.run(&[]);
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert_eq!(out.status.code(), Some(1), "{text}: {all}");
        assert!(all.contains(needle), "{text}: {all}");
    }
    // The deprecated schema is refused, as Kyverno refuses it.
    s.test_file("name: old\npolicies: [policies.yaml]\nresources: [resources.yaml]\nresults:\n  - {policy: signed-app, rule: verify, resources: [bad], result: fail}\n");
    let out = s.run(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("deprecated schema"),
        "{}",
        stdout(&out)
    );
    // Inputs imgverify does not evaluate are named, never skipped.
    s.test_file(&format!(
        "{HEADER}httpPayloads: [request.json]\nresults:\n  - {{policy: signed-app, rule: verify, result: pass}}\n"
    ));
    let out = s.run(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("httpPayloads"), "{}", stdout(&out));
    // A JSON payload that is not there is an error naming it.
    s.test_file(&format!(
        "{HEADER}jsonPayload: payload.json\nresults:\n  - {{policy: signed-app, rule: verify, result: pass}}\n"
    ));
    let out = s.run(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("failed to load JSON payload payload.json"),
        "{}",
        stdout(&out)
    );
    // No tests: fine, unless --require-tests.
    std::fs::remove_file(s.dir.join("kyverno-test.yaml")).unwrap();
    let out = s.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("No test yamls available"));
    let out = s.run(&["--require-tests"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("Error: no tests found"),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(&s.dir);
    let _ = std::fs::remove_dir_all(&s.layout);
}

#[test]
fn test_flags_select_and_format_as_kyverno() {
    let s = feature_suite("flags");
    let results = format!(
        "{HEADER}results:
  - {{policy: signed-app, rule: verify, resources: [default/good], result: pass}}
  - {{policy: signed-app, rule: verify, resources: [bad], result: pass}}
  - {{policy: team-a/team-policy, rule: team-verify, resources: [team-pod], result: pass}}
"
    );
    s.test_file(&results);
    // A second folder with the same suite under another file name (-f).
    let other = fresh_dir("flags-other");
    copy_tree(&s.dir, &other, &|t| t);
    std::fs::rename(other.join("kyverno-test.yaml"), other.join("suite.yaml")).unwrap();

    let out = s.run(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("Test Summary: 2 tests passed and 1 tests failed"));

    // -t: only the selected expectations run.
    let out = s.run(&["-t", "policy=signed-app,resource=default/good"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("Test Summary: 1 tests passed and 0 tests failed"),
        "{}",
        stdout(&out)
    );
    // The selector matches the expectation's resources as written.
    let out = s.run(&["-t", "resource=good"]);
    assert!(
        stdout(&out).contains("Test Summary: 0 tests passed and 0 tests failed"),
        "{}",
        stdout(&out)
    );
    let out = s.run(&["-t", "colour=red"]);
    assert!(stdout(&out).contains("Parameter can only be policy, rule or resource"));

    // Several folders and -f.
    let out = imgverify(&[
        "test",
        s.dir.to_str().unwrap(),
        other.to_str().unwrap(),
        "-f",
        "suite.yaml",
        "--oci-layout",
        s.layout.to_str().unwrap(),
    ]);
    assert!(
        stdout(&out).contains("Test Summary: 2 tests passed and 1 tests failed"),
        "only the second folder has suite.yaml: {}",
        stdout(&out)
    );

    // --fail-only: the summary, then only the failed rows.
    let out = s.run(&["--fail-only"]);
    let text = stdout(&out);
    assert!(
        text.contains("Test Summary: 1 out of 3 tests failed"),
        "{text}"
    );
    assert!(text.contains("Aggregated Failed Test Cases"), "{text}");
    assert!(!text.contains("team-pod"), "{text}");

    // -o json / yaml: the rows; --detailed-results adds the message.
    let out = s.run(&["-o", "json", "--detailed-results"]);
    let text = stdout(&out);
    let start = text.find('[').unwrap();
    let end = text.rfind(']').unwrap();
    let rows: Vec<Value> = serde_json::from_str(&text[start..=end]).unwrap();
    assert_eq!(rows.len(), 3, "{text}");
    assert_eq!(rows[1]["RESULT"], "Fail");
    assert_eq!(rows[1]["REASON"], "Want pass, got fail");
    assert_eq!(rows[1]["RESOURCE"], "v1/Pod/default/bad");
    assert!(
        rows[1]["Message"]
            .as_str()
            .unwrap()
            .contains("registry.example.com/app:unsigned")
    );
    let out = s.run(&["-o", "yaml"]);
    assert!(
        stdout(&out).contains("REASON: Want pass, got fail"),
        "{}",
        stdout(&out)
    );
    let out = s.run(&["-o", "markdown"]);
    assert!(stdout(&out).contains("| ID | POLICY | RULE | RESOURCE | RESULT | REASON |"));
    let out = s.run(&["-o", "xml"]);
    assert!(stderr(&out).contains("invalid format, expected (json, yaml, markdown, junit)"));

    // -o junit, read back by an XML parser: suites per policy, one failure.
    let out = s.run(&["-o", "junit", "--detailed-results"]);
    let text = stdout(&out);
    let start = text.find("<?xml").unwrap();
    let end = text.find("</testsuites>").unwrap() + "</testsuites>".len();
    let xml = &text[start..end];
    let parsed = Command::new("python3")
        .args([
            "-c",
            "import sys, xml.etree.ElementTree as E\nr = E.fromstring(sys.stdin.read())\nprint(r.get('tests'), r.get('failures'), len(r.findall('testsuite')), len(r.findall('.//testcase')), len(r.findall('.//failure')), r.find('.//failure').get('message'))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(xml.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&parsed.stdout).trim(),
        "3 1 2 3 1 Want pass, got fail",
        "{xml}"
    );
    let _ = std::fs::remove_dir_all(&s.dir);
    let _ = std::fs::remove_dir_all(&s.layout);
    let _ = std::fs::remove_dir_all(&other);
}

const AUDIT_POLICY: &str = "policies/audit-report/policy.yaml";
const AUDIT_RESOURCES: &str = "policies/audit-report/resources.yaml";

fn apply(extra: &[&str]) -> Output {
    let mut args = vec![
        "apply",
        AUDIT_POLICY,
        "-r",
        AUDIT_RESOURCES,
        "--oci-layout",
        "policies/images",
    ];
    args.extend_from_slice(extra);
    imgverify(&args)
}

#[test]
fn apply_counts_and_exits_as_kyverno() {
    // A failing Audit rule fails the run, as in Kyverno: a CI gate sees it.
    let out = apply(&[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("\npass: 1, fail: 1, warn: 0, error: 0, skip: 0 \n"),
        "{text:?}"
    );
    assert!(
        text.contains("policy audit-signatures -> resource default/Pod/unsigned failed:\n1 - audit-signed failed to verify image"),
        "{text}"
    );
    assert!(
        text.contains("Applying 3 policy rule(s) to 2 resource(s)..."),
        "{text}"
    );
    // --audit-warn: a warning, exit 0 unless --warn-exit-code.
    let out = apply(&["--audit-warn"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("pass: 1, fail: 0, warn: 1, error: 0, skip: 0 "),
        "{text}"
    );
    assert!(text.contains("failed as audit warning:"), "{text}");
    let out = apply(&["--audit-warn", "--warn-exit-code", "3"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stdout(&out).contains("exit as warnExitCode is 3"));
    // --warn-no-pass: nothing passed (the policy matches no ConfigMap).
    let dir = fresh_dir("warn-no-pass");
    let cm = dir.join("cm.yaml");
    std::fs::write(
        &cm,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: default}\n",
    )
    .unwrap();
    let out = imgverify(&[
        "apply",
        AUDIT_POLICY,
        "-r",
        cm.to_str().unwrap(),
        "--oci-layout",
        "policies/images",
        "--warn-no-pass",
        "--warn-exit-code",
        "7",
    ]);
    assert_eq!(out.status.code(), Some(7), "{}", stdout(&out));
    assert!(stdout(&out).contains("exit as no objects satisfied policy"));
    // -r takes comma-separated lists, and --resources is its other name.
    let both = format!("{AUDIT_RESOURCES},{}", cm.display());
    for flag in ["-r", "--resources"] {
        let out = imgverify(&[
            "apply",
            AUDIT_POLICY,
            flag,
            &both,
            "--oci-layout",
            "policies/images",
        ]);
        assert!(
            stdout(&out).contains("to 3 resource(s)"),
            "{flag}: {}",
            stdout(&out)
        );
    }
    // -t: Kyverno's table.
    let out = apply(&["-t"]);
    let text = stdout(&out);
    assert!(text.contains("│ ID │ POLICY"), "{text}");
    assert!(text.contains("default/Pod/unsigned"), "{text}");
    // imgverify's -o json still works, with a warning naming --format.
    let out = apply(&["-o", "json"]);
    assert!(
        stderr(&out).contains("use --format json"),
        "{}",
        stderr(&out)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["resources"].as_array().unwrap().len(), 2);
    // An exception file that cannot be read is an error, not ignored.
    let out = apply(&["-e", "no-such-exception.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no-such-exception.yaml"),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn apply_writes_patched_resources_and_policy_reports() {
    let s = feature_suite("apply-out");
    let layout = s.layout.to_str().unwrap();
    let policies = s.dir.join("policies.yaml");
    let resources = s.dir.join("resources.yaml");
    let (p, r) = (policies.to_str().unwrap(), resources.to_str().unwrap());
    // -o FILE.yaml: the patched resources.
    let file = s.dir.join("patched.yaml");
    let out = imgverify(&[
        "apply",
        p,
        "-r",
        r,
        "--oci-layout",
        layout,
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "default/bad fails: {}",
        stdout(&out)
    );
    let written = std::fs::read_to_string(&file).unwrap();
    let docs = imgverify::yaml::parse_stream(&written).unwrap();
    let good = docs
        .iter()
        .find(|d| d["metadata"]["name"] == "good" && d["metadata"]["namespace"] == "default")
        .expect("default/good was patched");
    assert_eq!(
        good["spec"]["containers"][0]["image"],
        format!("registry.example.com/app:v1@{}", s.digest)
    );
    assert!(good["metadata"]["annotations"]["kyverno.io/verify-images"].is_string());
    assert!(
        docs.iter().all(|d| d["metadata"]["name"] != "bad"),
        "a blocked resource is not patched"
    );
    // -o DIR: one file per patched resource.
    let dir = s.dir.join("patched");
    imgverify(&[
        "apply",
        p,
        "-r",
        r,
        "--oci-layout",
        layout,
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert!(dir.join("default-pod-good.yaml").is_file());
    // -p: openreports, cluster results merged, a Report per namespaced policy.
    let out = imgverify(&["apply", p, "-r", r, "--oci-layout", layout, "-p"]);
    let docs = imgverify::yaml::parse_stream(&stdout(&out)).unwrap();
    let kinds: Vec<(&str, &str)> = docs
        .iter()
        .map(|d| {
            (
                d["apiVersion"].as_str().unwrap(),
                d["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("openreports.io/v1alpha1", "ClusterReport"),
            ("openreports.io/v1alpha1", "Report")
        ],
        "{}",
        stdout(&out)
    );
    assert_eq!(docs[0]["metadata"]["name"], "merged");
    assert_eq!(
        docs[1]["metadata"],
        json!({"name": "team-policy", "namespace": "team-a"})
    );
    let bad = docs[0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["subjects"][0]["name"] == "bad")
        .unwrap();
    assert_eq!(bad["result"], "fail");
    assert!(
        bad["description"]
            .as_str()
            .unwrap()
            .contains("app:unsigned")
    );
    assert_eq!(docs[0]["summary"]["fail"], 1);
    // The older layout on request, and JSON.
    let out = imgverify(&[
        "apply",
        p,
        "-r",
        r,
        "--oci-layout",
        layout,
        "-p",
        "--report-api",
        "wgpolicyk8s",
        "--output-format",
        "json",
    ]);
    let first: Value = serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    assert_eq!(first["apiVersion"], "wgpolicyk8s.io/v1alpha2");
    assert_eq!(first["kind"], "ClusterPolicyReport");
    assert!(first["results"][0]["resources"].is_array());
    let _ = std::fs::remove_dir_all(&s.dir);
    let _ = std::fs::remove_dir_all(&s.layout);
}

#[test]
fn an_invalid_policy_is_listed_while_the_others_run() {
    let s = feature_suite("invalid");
    std::fs::write(
        s.dir.join("broken.yaml"),
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: broken}\nspec:\n  rules:\n    - name: r\n      match: {any: [{resources: {kinds: [Pod]}}]}\n      verifyImages:\n        - imageReferences: [\"*\"]\n          failureAction: Sometimes\n          attestors: [{entries: [{keys: {publicKeys: nonsense}}]}]\n",
    )
    .unwrap();
    let out = imgverify(&[
        "apply",
        s.dir.join("policies.yaml").to_str().unwrap(),
        s.dir.join("broken.yaml").to_str().unwrap(),
        "-r",
        s.dir.join("resources.yaml").to_str().unwrap(),
        "--oci-layout",
        s.layout.to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert!(text.contains("Invalid Policies:\n1. broken: "), "{text}");
    assert!(
        text.contains("failureAction"),
        "the field path is named: {text}"
    );
    // The valid policies still ran.
    assert!(
        text.contains("policy signed-app -> resource default/Pod/bad failed:"),
        "{text}"
    );
    // A policy that could not be checked never lets the run succeed.
    assert_eq!(out.status.code(), Some(2), "{text}");

    s.test_file(
        "apiVersion: cli.kyverno.io/v1alpha1\nkind: Test\nmetadata: {name: invalid}\npolicies: [policies.yaml, broken.yaml]\nresources: [resources.yaml]\nresults:
  - {policy: signed-app, rule: verify, resources: [default/good], result: pass}
  - {policy: broken, rule: r, resources: [default/good], result: pass}
"
    );
    let out = s.run(&[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("ERROR: invalid policy broken"), "{text}");
    assert!(text.contains("Invalid Policy"), "{text}");
    assert!(
        text.contains("Test Summary: 1 tests passed and 1 tests failed"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&s.dir);
    let _ = std::fs::remove_dir_all(&s.layout);
}

const EXCEPTION: &str = "apiVersion: kyverno.io/v2
kind: PolicyException
metadata: {name: allow-bad, namespace: default}
spec:
  exceptions:
    - policyName: signed-app
      ruleNames: [verify, autogen-verify]
  match:
    any:
      - resources: {kinds: [Pod], names: [bad]}
";

#[test]
fn policy_exceptions_skip_the_rules_they_name() {
    let s = feature_suite("exceptions");
    std::fs::write(s.dir.join("exception.yaml"), EXCEPTION).unwrap();
    let conditional = EXCEPTION.replace(
        "  match:",
        "  conditions:\n    any:\n      - {key: \"{{ request.object.metadata.labels.exempt || '' }}\", operator: Equals, value: \"yes\"}\n  match:",
    );
    std::fs::write(s.dir.join("conditional.yaml"), conditional).unwrap();
    let p = s.dir.join("policies.yaml");
    let r = s.dir.join("resources.yaml");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "apply",
            p.to_str().unwrap(),
            "-r",
            r.to_str().unwrap(),
            "--oci-layout",
            s.layout.to_str().unwrap(),
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        imgverify(&args)
    };
    let result_for = |out: &Output, ns: &str, name: &str| -> Value {
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        doc["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name && r["namespace"] == ns)
            .unwrap()["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["policy"] == "signed-app")
            .cloned()
            .unwrap_or(Value::Null)
    };
    // Without the exception, default/bad fails.
    let out = run(&[]);
    assert_eq!(result_for(&out, "default", "bad")["result"], "fail");
    // With it, the rule is skipped with Kyverno's message; nothing else changes.
    let out = run(&["-e", s.dir.join("exception.yaml").to_str().unwrap()]);
    let bad = result_for(&out, "default", "bad");
    assert_eq!(bad["result"], "skip", "{bad}");
    assert_eq!(
        bad["message"],
        "rule is skipped due to policy exceptionsdefault/allow-bad"
    );
    assert_eq!(result_for(&out, "default", "good")["result"], "pass");
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // An exception whose conditions do not hold exempts nothing.
    let out = run(&["-e", s.dir.join("conditional.yaml").to_str().unwrap()]);
    assert_eq!(result_for(&out, "default", "bad")["result"], "fail");
    // Among the policies, an exception is not applied (it is given with -e).
    let out = imgverify(&[
        "apply",
        p.to_str().unwrap(),
        s.dir.join("exception.yaml").to_str().unwrap(),
        "-r",
        r.to_str().unwrap(),
        "--oci-layout",
        s.layout.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    // A policy given as an exception is an error naming it.
    let out = run(&["-e", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("given as an exception"),
        "{}",
        stderr(&out)
    );
    // A test's exceptions.
    s.test_file(&format!(
        "{HEADER}exceptions: [exception.yaml]\nresults:\n  - {{policy: signed-app, rule: verify, resources: [default/bad], result: skip}}\n  - {{policy: signed-app, rule: verify, resources: [default/good], result: pass}}\n"
    ));
    let out = s.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("Test Summary: 2 tests passed and 0 tests failed"));
    let _ = std::fs::remove_dir_all(&s.dir);
    let _ = std::fs::remove_dir_all(&s.layout);
}

#[test]
fn test_inputs_values_and_user_info_as_kyverno() {
    let s = feature_suite("inputs");
    // A policy for Pods in namespaces labelled env=prod, except for admins.
    let key = forge::public_pem(&forge::key(KEY_LABEL));
    let indented: String = key
        .lines()
        .map(|l| format!("                      {l}\n"))
        .collect();
    std::fs::write(
        s.dir.join("prod.yaml"),
        format!(
            "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {{name: prod-only}}\nspec:\n  rules:\n    - name: signed-in-prod\n      match: {{any: [{{resources: {{kinds: [Pod], namespaceSelector: {{matchLabels: {{env: prod}}}}}}}}]}}\n      exclude: {{any: [{{subjects: [{{kind: User, name: admin}}]}}]}}\n      verifyImages:\n        - imageReferences: [\"registry.example.com/*\"]\n          failureAction: Enforce\n          attestors:\n            - entries:\n                - keys:\n                    rekor: {{ignoreTlog: true}}\n                    publicKeys: |-\n{indented}"
        ),
    )
    .unwrap();
    std::fs::write(
        s.dir.join("values.yaml"),
        "apiVersion: cli.kyverno.io/v1alpha1\nkind: Values\nnamespaceSelector:\n  - name: default\n    labels: {env: prod}\n",
    )
    .unwrap();
    std::fs::write(
        s.dir.join("admin.yaml"),
        "apiVersion: cli.kyverno.io/v1alpha1\nkind: UserInfo\nuserInfo: {username: admin}\n",
    )
    .unwrap();
    let test = |extra: &str, result: &str| {
        format!(
            "apiVersion: cli.kyverno.io/v1alpha1\nkind: Test\nmetadata: {{name: inputs}}\npolicies: [prod.yaml]\nresources: [resources.yaml]\n{extra}results:\n  - {{policy: prod-only, rule: signed-in-prod, resources: [default/bad], result: {result}}}\n"
        )
    };
    let check = |text: String, summary: &str| {
        s.test_file(&text);
        let out = s.run(&["--detailed-results"]);
        assert!(stdout(&out).contains(summary), "{text}\n{}", stdout(&out));
    };
    // Labels from the values file: default is prod, so the unsigned Pod fails.
    check(
        test("variables: values.yaml\n", "fail"),
        "Test Summary: 1 tests passed and 0 tests failed",
    );
    // Inline values say the same.
    check(
        test(
            "values:\n  namespaceSelector: [{name: default, labels: {env: prod}}]\n",
            "fail",
        ),
        "Test Summary: 1 tests passed and 0 tests failed",
    );
    // Without labels, the namespace has none: the rule does not apply (Excluded).
    check(
        test("", "fail"),
        "Test Summary: 1 tests passed and 0 tests failed",
    );
    let s2 = {
        s.test_file(&test("", "fail"));
        stdout(&s.run(&[]))
    };
    assert!(s2.contains("Excluded"), "{s2}");
    // An admin is excluded by subjects only when user info says who asks.
    s.test_file(&test(
        "variables: values.yaml\nuserinfo: admin.yaml\n",
        "fail",
    ));
    let out = stdout(&s.run(&[]));
    assert!(out.contains("Excluded"), "{out}");
    // A user-info file without its header is the deprecated schema: an error.
    std::fs::write(s.dir.join("admin.yaml"), "userInfo: {username: admin}\n").unwrap();
    s.test_file(&test(
        "variables: values.yaml\nuserinfo: admin.yaml\n",
        "fail",
    ));
    let out = s.run(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("cli.kyverno.io/v1alpha1"),
        "{}",
        stdout(&out)
    );
    let _ = std::fs::remove_dir_all(&s.dir);
    let _ = std::fs::remove_dir_all(&s.layout);
}
