//! `type: SigstoreBundle` policies decided by the engine end to end: Sigstore
//! bundles served as OCI 1.1 referrers of an image, as a registry (or its
//! tag-schema index) answers them. Keyless cases use real public-good and
//! staging bundles from sigstore-conformance (their DSSE statements name the
//! artifact's digest, which stands in for the image digest here: the engine
//! never reads the image manifest when the Pod pins a digest). Keyed cases
//! sign fresh bundles in the test with a throwaway key.
mod common;

use base64::Engine as _;
use common::{assert_denied, sha256};
use imgverify::Engine;
use imgverify::engine::{Answer, EngineOptions, FailureStatus, Fetch, FetchKind};
use p256::ecdsa::{Signature, SigningKey, signature::Signer};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const REPO: &str = "registry.example.com/app";
const BUNDLE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
/// The subject digest of the conformance DSSE statements (`a.txt`).
const A_TXT: &str = "sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf";
const NOW: &str = "2026-12-01T00:00:00Z";

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// A registry holding referrers of one image.
#[derive(Default)]
struct Registry {
    by_digest: BTreeMap<String, Vec<u8>>,
    /// The referrers answer for an image digest.
    referrers: BTreeMap<String, Vec<u8>>,
}

/// One bundle referrer: the bundle bytes, the digest its manifest names as
/// subject, and the artifact type the referrers list gives it.
struct Referrer {
    bundle: Vec<u8>,
    subject: String,
    listed_type: Option<&'static str>,
}

impl Referrer {
    fn new(bundle: Vec<u8>, subject: &str) -> Self {
        Referrer {
            bundle,
            subject: subject.to_string(),
            listed_type: Some(BUNDLE_V03),
        }
    }
}

impl Registry {
    fn with_referrers(image: &str, referrers: Vec<Referrer>) -> Self {
        let mut reg = Registry::default();
        let mut listed = Vec::new();
        for r in referrers {
            let empty = b"{}".to_vec();
            let manifest = serde_json::to_vec(&json!({
                "schemaVersion": 2, "mediaType": MANIFEST, "artifactType": BUNDLE_V03,
                "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": sha256(&empty), "size": 2},
                "layers": [{"mediaType": BUNDLE_V03, "digest": sha256(&r.bundle), "size": r.bundle.len()}],
                "subject": {"mediaType": MANIFEST, "digest": r.subject, "size": 100},
            }))
            .unwrap();
            let mut d =
                json!({"mediaType": MANIFEST, "digest": sha256(&manifest), "size": manifest.len()});
            if let Some(t) = r.listed_type {
                d["artifactType"] = t.into();
            }
            listed.push(d);
            reg.by_digest.insert(sha256(&r.bundle), r.bundle);
            reg.by_digest.insert(sha256(&empty), empty);
            reg.by_digest.insert(sha256(&manifest), manifest);
        }
        let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": listed});
        reg.referrers
            .insert(image.to_string(), serde_json::to_vec(&index).unwrap());
        reg
    }

    fn answer(&self, f: &Fetch) -> Answer {
        let d = f.digest.as_deref().unwrap_or("");
        let found = match f.kind {
            FetchKind::Referrers => self.referrers.get(d),
            FetchKind::Manifest | FetchKind::Blob => self.by_digest.get(d),
            FetchKind::ManifestByTag | FetchKind::KubeApi => None,
        };
        match found {
            Some(b) if format!("{}/{}", f.registry, f.repository) == REPO => {
                Answer::Bytes(b.clone())
            }
            _ => Answer::Failure(FailureStatus::NotFound, "not found".into()),
        }
    }
}

fn keyless(subject: &str, issuer: &str) -> Value {
    json!({"keyless": {"subject": subject, "issuer": issuer, "rekor": {"url": "https://rekor.sigstore.dev"}}})
}

/// Admits a Pod running `REPO@image`; `(allowed, message)`.
fn admit(
    attestor: Value,
    trusted_root: Option<String>,
    reg: &Registry,
    image: &str,
) -> (bool, String) {
    let options = EngineOptions {
        trusted_root,
        ..Default::default()
    };
    let policy = common::policy_with_attestor("registry.example.com/*", "SigstoreBundle", attestor);
    let engine = Engine::compile_with(&[("p.yaml", &policy)], &options).unwrap();
    common::admit_pod(engine, &format!("{REPO}@{image}"), Some(NOW), |f| {
        reg.answer(f)
    })
}

fn conformance_bundle(case: &str) -> Vec<u8> {
    common::bytes(&format!(
        "sigstore-conformance/bundle-verify/{case}/bundle.sigstore.json"
    ))
}

#[test]
fn keyless_bundle_referrer_verifies_with_the_public_good_root() {
    let reg = Registry::with_referrers(
        A_TXT,
        vec![Referrer::new(
            conformance_bundle("happy-path-intoto-in-dsse-v3"),
            A_TXT,
        )],
    );
    let (allowed, message) = admit(keyless(IDENTITY, ISSUER), None, &reg, A_TXT);
    assert!(allowed, "{message}");
}

#[test]
fn tag_schema_index_with_the_empty_artifact_type_is_read() {
    // cosign 3 lists bundles in the fallback index with the empty type
    // (Kyverno #16664 filters them out); the manifest decides.
    let mut r = Referrer::new(conformance_bundle("happy-path-intoto-in-dsse-v3"), A_TXT);
    r.listed_type = Some("application/vnd.oci.empty.v1+json");
    let reg = Registry::with_referrers(A_TXT, vec![r]);
    let (allowed, message) = admit(keyless(IDENTITY, ISSUER), None, &reg, A_TXT);
    assert!(allowed, "{message}");
}

#[test]
fn keyless_bundle_with_the_wrong_identity_is_denied() {
    let reg = Registry::with_referrers(
        A_TXT,
        vec![Referrer::new(
            conformance_bundle("happy-path-intoto-in-dsse-v3"),
            A_TXT,
        )],
    );
    assert_denied(
        admit(
            keyless("https://github.com/other/*", ISSUER),
            None,
            &reg,
            A_TXT,
        ),
        "subject mismatch: expected https://github.com/other/*",
    );
    assert_denied(
        admit(
            keyless(IDENTITY, "https://accounts.google.com"),
            None,
            &reg,
            A_TXT,
        ),
        "issuer mismatch: expected https://accounts.google.com",
    );
    // Regexps are unanchored as Kyverno's are: a prefix anchor must be written.
    let attestor = json!({"keyless": {"subjectRegExp": "^https://github\\.com/sigstore-conformance/", "issuerRegExp": "^https://token\\.actions\\.githubusercontent\\.com$", "rekor": {"url": "https://rekor.sigstore.dev"}}});
    assert!(admit(attestor, None, &reg, A_TXT).0);
    let attestor = json!({"keyless": {"subjectRegExp": "^sigstore-conformance/", "issuer": ISSUER, "rekor": {"url": "https://rekor.sigstore.dev"}}});
    assert_denied(admit(attestor, None, &reg, A_TXT), "subject mismatch");
}

#[test]
fn referrer_about_another_image_is_refused() {
    // The referrers list is the registry's word: the manifest's subject binds.
    let other = format!("sha256:{}", "1".repeat(64));
    let reg = Registry::with_referrers(
        A_TXT,
        vec![Referrer::new(
            conformance_bundle("happy-path-intoto-in-dsse-v3"),
            &other,
        )],
    );
    assert_denied(
        admit(keyless(IDENTITY, ISSUER), None, &reg, A_TXT),
        &format!("is not about this image: its subject is {other}"),
    );
}

#[test]
fn bundle_for_another_digest_is_refused() {
    // A valid bundle whose statement names a.txt, attached (with a matching
    // manifest subject) to another image.
    let other = format!("sha256:{}", "2".repeat(64));
    let reg = Registry::with_referrers(
        &other,
        vec![Referrer::new(
            conformance_bundle("happy-path-intoto-in-dsse-v3"),
            &other,
        )],
    );
    assert_denied(
        admit(keyless(IDENTITY, ISSUER), None, &reg, &other),
        &format!("no subject of the in-toto statement has digest {}", other),
    );
}

#[test]
fn missing_referrers_and_other_artifact_types_find_no_signature() {
    let reg = Registry::default();
    assert_denied(
        admit(keyless(IDENTITY, ISSUER), None, &reg, A_TXT),
        "sigstore bundle verification failed: no matching signatures found",
    );
    let mut r = Referrer::new(conformance_bundle("happy-path-intoto-in-dsse-v3"), A_TXT);
    r.listed_type = Some("application/vnd.cncf.notary.signature");
    let reg = Registry::with_referrers(A_TXT, vec![r]);
    let got = admit(keyless(IDENTITY, ISSUER), None, &reg, A_TXT);
    assert_denied(got.clone(), "no matching signatures found");
    assert!(!got.1.contains("bundle sha256"), "{}", got.1);
}

#[test]
fn more_than_fifty_bundle_referrers_fail_closed() {
    let referrers = (0..51)
        .map(|i| Referrer::new(format!("{{\"n\":{i}}}").into_bytes(), A_TXT))
        .collect();
    let reg = Registry::with_referrers(A_TXT, referrers);
    assert_denied(
        admit(keyless(IDENTITY, ISSUER), None, &reg, A_TXT),
        "too many referrers found, max limit is 50",
    );
}

#[test]
fn tampered_bundles_fail_for_their_reason() {
    for (case, reason) in [
        ("dsse-invalid-sig_fail", "signature"),
        ("dsse-mismatch-envelope_fail", "transparency log entry 0"),
    ] {
        let reg =
            Registry::with_referrers(A_TXT, vec![Referrer::new(conformance_bundle(case), A_TXT)]);
        let got = admit(keyless(IDENTITY, ISSUER), None, &reg, A_TXT);
        assert_denied(got, reason);
    }
}

#[test]
fn rekor_v2_bundle_needs_the_trusted_root_that_holds_its_log() {
    let case = "rekor2-dsse-happy-path";
    let root = String::from_utf8(common::bytes(&format!(
        "sigstore-conformance/bundle-verify/{case}/trusted_root.json"
    )))
    .unwrap();
    let reg = Registry::with_referrers(A_TXT, vec![Referrer::new(conformance_bundle(case), A_TXT)]);
    let (allowed, message) = admit(keyless(IDENTITY, ISSUER), Some(root), &reg, A_TXT);
    assert!(allowed, "{message}");
    // The embedded public-good root does not hold the staging log.
    assert_denied(
        admit(keyless(IDENTITY, ISSUER), None, &reg, A_TXT),
        "no trusted log",
    );
}

/// A fresh key and its PEM.
fn fresh_key(label: &str) -> (SigningKey, String) {
    use sha2::Digest as _;
    let seed = sha2::Sha256::digest(format!("bundle_policy test key {label}").as_bytes());
    let key = SigningKey::from_slice(&seed).unwrap();
    let pem = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    (key, pem)
}

/// A v0.3 bundle without log entries: DSSE over `statement`, signed by `key`.
fn keyed_bundle(key: &SigningKey, payload_type: &str, statement: &Value) -> Vec<u8> {
    let payload = serde_json::to_vec(statement).unwrap();
    let mut pae = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    pae.extend_from_slice(&payload);
    let sig: Signature = key.sign(&pae);
    serde_json::to_vec(&json!({
        "mediaType": BUNDLE_V03,
        "verificationMaterial": {"publicKey": {"hint": "test"}, "tlogEntries": []},
        "dsseEnvelope": {"payload": b64(&payload), "payloadType": payload_type,
            "signatures": [{"sig": b64(sig.to_der().as_bytes()), "keyid": ""}]},
    }))
    .unwrap()
}

fn statement(digest: &str, annotations: Value) -> Value {
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": REPO, "digest": {"sha256": digest.trim_start_matches("sha256:")}, "annotations": annotations}],
        "predicateType": "https://sigstore.dev/cosign/sign/v1",
        "predicate": {},
    })
}

fn key_attestor(pem: &str, annotations: Value) -> Value {
    json!({"keys": {"publicKeys": pem, "rekor": {"ignoreTlog": true}}, "annotations": annotations})
}

#[test]
fn keyed_bundles_bind_key_payload_type_digest_and_annotations() {
    let image = format!("sha256:{}", "3".repeat(64));
    let (key, pem) = fresh_key("a");
    let (_, other_pem) = fresh_key("b");
    let good = keyed_bundle(
        &key,
        "application/vnd.in-toto+json",
        &statement(&image, json!({"team": "payments"})),
    );
    let reg = Registry::with_referrers(&image, vec![Referrer::new(good.clone(), &image)]);
    let (allowed, message) = admit(
        key_attestor(&pem, json!({"team": "payments"})),
        None,
        &reg,
        &image,
    );
    assert!(allowed, "{message}");
    assert_denied(
        admit(key_attestor(&other_pem, json!({})), None, &reg, &image),
        "invalid signature",
    );
    assert_denied(
        admit(
            key_attestor(&pem, json!({"team": "search"})),
            None,
            &reg,
            &image,
        ),
        "no signature matched the required annotations: team=search",
    );
    // Without ignoreTlog, a bundle with no log entry fails.
    let attestor = json!({"keys": {"publicKeys": pem}});
    assert_denied(
        admit(attestor, None, &reg, &image),
        "the bundle has no transparency log entry",
    );
    // A correctly signed envelope of another payload type.
    let wrong_type = keyed_bundle(&key, "text/plain", &statement(&image, json!({})));
    let reg = Registry::with_referrers(&image, vec![Referrer::new(wrong_type, &image)]);
    assert_denied(
        admit(key_attestor(&pem, json!({})), None, &reg, &image),
        "DSSE payload type \"text/plain\" is not in-toto",
    );
    // A correctly signed statement about another image.
    let elsewhere = keyed_bundle(
        &key,
        "application/vnd.in-toto+json",
        &statement(&format!("sha256:{}", "4".repeat(64)), json!({})),
    );
    let reg = Registry::with_referrers(&image, vec![Referrer::new(elsewhere, &image)]);
    assert_denied(
        admit(key_attestor(&pem, json!({})), None, &reg, &image),
        "no subject of the in-toto statement has digest",
    );
    // A keyless attestor does not accept a managed-key bundle.
    let reg = Registry::with_referrers(&image, vec![Referrer::new(good, &image)]);
    assert_denied(
        admit(keyless(IDENTITY, ISSUER), None, &reg, &image),
        "signed with a managed key, but a certificate identity was asked for",
    );
}

/// cosign's own attestation bundle (`pkg/cosign/testdata`): a public-good
/// keyless DSSE bundle whose statement (predicate type
/// `https://cosign.sigstore.dev/attestation/v1`) is about go-containerregistry's
/// empty image, served as its referrer.
const COSIGN_ATT_IMAGE: &str =
    "sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4";
const COSIGN_PREDICATE: &str = "https://cosign.sigstore.dev/attestation/v1";

fn cosign_attestation_registry() -> Registry {
    Registry::with_referrers(
        COSIGN_ATT_IMAGE,
        vec![Referrer::new(
            common::bytes("cosign/pkg/cosign/testdata/oci-attestation.sigstore.json"),
            COSIGN_ATT_IMAGE,
        )],
    )
}

/// Admits a Pod under a `type: SigstoreBundle` entry with one attestation.
fn admit_attestation(attestation: Value, reg: &Registry, image: &str) -> (bool, String) {
    let policy = json!({
        "apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": "p"},
        "spec": {"rules": [{"name": "check", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
            "verifyImages": [{"type": "SigstoreBundle", "imageReferences": ["registry.example.com/*"],
                "failureAction": "Enforce", "attestations": [attestation]}]}]},
    })
    .to_string();
    let options = EngineOptions {
        trusted_root: Some(
            String::from_utf8(common::bytes(
                "cosign/pkg/cosign/testdata/trusted_root_pgi.json",
            ))
            .unwrap(),
        ),
        ..Default::default()
    };
    let engine = Engine::compile_with(&[("p.yaml", &policy)], &options).unwrap();
    common::admit_pod(engine, &format!("{REPO}@{image}"), None, |f| reg.answer(f))
}

fn cody() -> Value {
    json!([{"entries": [keyless("cody@soyland.com", "https://github.com/login/oauth")]}])
}

#[test]
fn dsse_bundle_attestations_are_verified_and_held_to_conditions() {
    let reg = cosign_attestation_registry();
    // Kyverno leaves the custom predicate's `Data` a string (its decoder
    // compares `_type`, not `predicateType`, with the cosign type).
    let (allowed, message) = admit_attestation(
        json!({"type": COSIGN_PREDICATE, "attestors": cody(), "conditions": [{"all": [
            {"key": "{{ Timestamp }}", "operator": "Equals", "value": "2025-02-28T19:18:11Z"},
            {"key": "{{ Data }}", "operator": "Equals", "value": "{\"foo\": \"bar\"}\n"},
        ]}]}),
        &reg,
        COSIGN_ATT_IMAGE,
    );
    assert!(allowed, "{message}");
    assert_denied(
        admit_attestation(
            json!({"type": COSIGN_PREDICATE, "attestors": cody(), "conditions": [{"all": [
                {"key": "{{ Timestamp }}", "operator": "Equals", "value": "2026-01-01T00:00:00Z", "message": "stale"},
            ]}]}),
            &reg,
            COSIGN_ATT_IMAGE,
        ),
        &format!(
            "attestation checks failed for {REPO}@{COSIGN_ATT_IMAGE} and predicate {COSIGN_PREDICATE}: stale"
        ),
    );
    assert_denied(
        admit_attestation(
            json!({"type": "https://slsa.dev/provenance/v1", "attestors": cody()}),
            &reg,
            COSIGN_ATT_IMAGE,
        ),
        "attestions not found for predicate type https://slsa.dev/provenance/v1",
    );
}

#[test]
fn dsse_bundle_attestations_by_another_identity_or_for_another_image_fail() {
    let reg = cosign_attestation_registry();
    assert_denied(
        admit_attestation(
            json!({"type": COSIGN_PREDICATE, "attestors": [{"entries": [keyless("someone@example.com", "https://github.com/login/oauth")]}]}),
            &reg,
            COSIGN_ATT_IMAGE,
        ),
        "subject mismatch",
    );
    // The same referrer listed for another image: its manifest's subject
    // binds it to the empty image only.
    let other = "sha256:0000000000000000000000000000000000000000000000000000000000000001";
    let reg = Registry::with_referrers(
        other,
        vec![Referrer::new(
            common::bytes("cosign/pkg/cosign/testdata/oci-attestation.sigstore.json"),
            COSIGN_ATT_IMAGE,
        )],
    );
    assert_denied(
        admit_attestation(
            json!({"type": COSIGN_PREDICATE, "attestors": cody()}),
            &reg,
            other,
        ),
        "sigstore bundle verification failed",
    );
}
