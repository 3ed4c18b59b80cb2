//! Keyless `verifyImages` policies decided by the engine end to end: a real
//! public-good Fulcio signature (containers/image's `fulcio-rekor-1`
//! fixture: a `.sig` layer with certificate, chain and Rekor bundle
//! annotations) served to a session as a registry would, under Kyverno
//! policies that must allow it or deny it for a stated reason.
mod common;

use base64::Engine as _;
use imgverify::engine::{Answer, FailureStatus, Fetch, FetchKind};
use imgverify::{Engine, Outcome, Request, Session};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

const FIXTURE: &str = "containers-image/fixtures/dir-img-cosign-fulcio-rekor-valid";
const REPO: &str = "192.168.64.2:5000/cosign-signed/fulcio-rekor-1";

/// The registry: blobs and manifests by digest, manifests by tag.
struct Registry {
    by_digest: BTreeMap<String, Vec<u8>>,
    by_tag: BTreeMap<String, Vec<u8>>,
    image_digest: String,
}

fn sha256(b: &[u8]) -> String {
    imgverify::digest::Digest::sha256_of(b).to_string()
}

/// The fixture as a registry, with `annotate` applied to the signature's
/// annotations.
fn registry(annotate: impl FnOnce(&mut BTreeMap<String, String>)) -> Registry {
    let manifest = common::bytes(&format!("{FIXTURE}/manifest.json"));
    let sig = common::bytes(&format!("{FIXTURE}/signature-1"));
    let sig: Value =
        serde_json::from_slice(sig.strip_prefix(b"\x00sigstore-json\n").unwrap()).unwrap();
    let payload = base64::engine::general_purpose::STANDARD
        .decode(sig["payload"].as_str().unwrap())
        .unwrap();
    let mut annotations: BTreeMap<String, String> =
        serde_json::from_value(sig["annotations"].clone()).unwrap();
    annotate(&mut annotations);
    let config = b"{}".to_vec();
    let sig_manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(&config), "size": config.len()},
        "layers": [{
            "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
            "digest": sha256(&payload),
            "size": payload.len(),
            "annotations": annotations,
        }],
    }))
    .unwrap();
    let image_digest = sha256(&manifest);
    let tag = format!("{}.sig", image_digest.replace(':', "-"));
    Registry {
        by_digest: BTreeMap::from([
            (image_digest.clone(), manifest),
            (sha256(&payload), payload),
            (sha256(&config), config),
        ]),
        by_tag: BTreeMap::from([(tag, sig_manifest)]),
        image_digest,
    }
}

impl Registry {
    fn answer(&self, f: &Fetch) -> Answer {
        let found = match f.kind {
            FetchKind::ManifestByTag => self.by_tag.get(f.tag.as_deref().unwrap_or("")),
            _ => self.by_digest.get(f.digest.as_deref().unwrap_or("")),
        };
        match found {
            Some(b) if format!("{}/{}", f.registry, f.repository) == REPO => {
                Answer::Bytes(b.clone())
            }
            _ => Answer::Failure(FailureStatus::NotFound, "not found".into()),
        }
    }
}

fn policy(keyless: Value) -> String {
    json!({
        "apiVersion": "kyverno.io/v1",
        "kind": "ClusterPolicy",
        "metadata": {"name": "keyless"},
        "spec": {
            "webhookConfiguration": {"failurePolicy": "Fail"},
            "rules": [{
                "name": "check",
                "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
                "verifyImages": [{
                    "imageReferences": ["192.168.64.2:5000/*"],
                    "failureAction": "Enforce",
                    "attestors": [{"entries": [{"keyless": keyless}]}],
                }],
            }],
        },
    })
    .to_string()
}

/// Runs one admission of a Pod with the fixture image; `(allowed, message)`.
fn admit(keyless: Value, reg: &Registry, now: Option<&str>) -> (bool, String) {
    let engine = Arc::new(Engine::compile("p.yaml", &policy(keyless)).unwrap());
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
        "spec": {"containers": [{"name": "c", "image": format!("{REPO}@{}", reg.image_digest)}]}});
    let req = Request::from_json(&serde_json::to_vec(&json!({"object": pod, "now": now})).unwrap())
        .unwrap();
    let mut session = Session::new(engine, req);
    for _ in 0..8 {
        match session.evaluate() {
            Outcome::NeedArtifacts { fetches } => {
                for f in fetches {
                    session.put(f.kind, &f.key, reg.answer(&f)).unwrap();
                }
            }
            Outcome::Decision { decision } => return (decision.allowed, decision.message),
        }
    }
    panic!("no decision after 8 rounds");
}

fn mitr() -> Value {
    json!({"subject": "mitr@redhat.com", "issuer": "https://github.com/login/oauth", "rekor": {"url": "https://rekor.sigstore.dev"}})
}

#[test]
fn a_public_good_keyless_signature_is_allowed() {
    let reg = registry(|_| {});
    let (allowed, message) = admit(mitr(), &reg, None);
    assert!(allowed, "{message}");
    // Regular expressions, unanchored as cosign matches them.
    let (allowed, message) = admit(
        json!({"subjectRegExp": "@redhat\\.com$", "issuerRegExp": "github\\.com/login", "rekor": {"url": "https://rekor.sigstore.dev"}}),
        &reg,
        None,
    );
    assert!(allowed, "{message}");
}

#[test]
fn identity_mismatches_are_denied_and_say_so() {
    let reg = registry(|_| {});
    for (keyless, want) in [
        (
            json!({"subject": "someone@redhat.com", "issuer": "https://github.com/login/oauth", "rekor": {"url": "u"}}),
            "subject mismatch",
        ),
        (
            json!({"subject": "mitr@redhat.com", "issuer": "https://accounts.google.com", "rekor": {"url": "u"}}),
            "issuer mismatch",
        ),
        (
            json!({"subjectRegExp": "^redhat", "rekor": {"url": "u"}}),
            "subject mismatch",
        ),
        (
            json!({"subject": "mitr@redhat.com", "additionalExtensions": {"githubWorkflowTrigger": "push"}, "rekor": {"url": "u"}}),
            "extension mismatch",
        ),
    ] {
        let (allowed, message) = admit(keyless.clone(), &reg, None);
        assert!(!allowed, "{keyless}");
        assert!(message.contains(want), "{keyless}: {message}");
        assert!(
            message.contains(".attestors[0].entries[0].keyless"),
            "{message}"
        );
    }
}

#[test]
fn forged_trust_material_is_denied_for_its_reason() {
    // A Rekor key the policy names that did not sign the SET.
    let other_key =
        String::from_utf8(common::bytes("containers-image/fixtures/cosign.pub")).unwrap();
    let reg = registry(|_| {});
    let (allowed, message) = admit(
        json!({"subject": "mitr@redhat.com", "rekor": {"url": "u", "pubkey": other_key}}),
        &reg,
        None,
    );
    assert!(
        !allowed && message.contains("no trusted Rekor key"),
        "{message}"
    );
    // Roots that did not issue the certificate (another CA with its own name).
    let pki_root =
        String::from_utf8(common::bytes("containers-image/fixtures/pki_root_crts.pem")).unwrap();
    let (allowed, message) = admit(
        json!({"subject": "mitr@redhat.com", "roots": pki_root, "rekor": {"url": "u"}}),
        &reg,
        None,
    );
    assert!(
        !allowed && message.contains("no trusted issuer"),
        "{message}"
    );
    // A certificate swapped for another one: the SET no longer binds it.
    let pki_leaf = String::from_utf8(common::bytes("containers-image/fixtures/pki-cert")).unwrap();
    let swapped = registry(|a| {
        a.insert("dev.sigstore.cosign/certificate".into(), pki_leaf);
    });
    let (allowed, message) = admit(mitr(), &swapped, None);
    assert!(!allowed, "{message}");
    // No SCT checked against a CT log the policy names instead.
    let (allowed, message) = admit(
        json!({"subject": "mitr@redhat.com", "rekor": {"url": "u"}, "ctlog": {"pubkey": other_key}}),
        &reg,
        None,
    );
    assert!(
        !allowed && message.contains("SCT from unknown log"),
        "{message}"
    );
}

#[test]
fn without_a_transparency_log_the_request_time_decides() {
    let reg = registry(|_| {});
    let ignore = json!({"subject": "mitr@redhat.com", "rekor": {"url": "u", "ignoreTlog": true}});
    // No log and no request time: nothing fixes the signing time.
    let (allowed, message) = admit(ignore.clone(), &reg, None);
    assert!(
        !allowed && message.contains("no trusted signing time"),
        "{message}"
    );
    // At a time inside the ten-minute certificate: allowed.
    let (allowed, message) = admit(ignore.clone(), &reg, Some("2023-01-20T20:55:00Z"));
    assert!(allowed, "{message}");
    // Today the certificate has long expired.
    let (allowed, message) = admit(ignore, &reg, Some("2026-12-01T00:00:00Z"));
    assert!(!allowed && message.contains("is not valid at"), "{message}");
}

#[test]
fn bad_identity_patterns_are_policy_errors() {
    let err = Engine::compile(
        "p.yaml",
        &policy(json!({"subjectRegExp": "*", "rekor": {"url": "u"}})),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("keyless.subjectRegExp") && err.contains("invalid regexp for subject"),
        "{err}"
    );
    let err = Engine::compile(
        "p.yaml",
        &policy(json!({"subject": "x", "additionalExtensions": {"sourceRepositoryURI": "x"}, "rekor": {"url": "u"}})),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("invalid certificate extension sourceRepositoryURI"),
        "{err}"
    );
    // Hostile sizes and bytes are refused when the policy compiles.
    let long = "a".repeat(5000);
    let err = Engine::compile(
        "p.yaml",
        &policy(json!({"subjectRegExp": long, "rekor": {"url": "u"}})),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("longer than 4096 bytes"), "{err}");
    let roots = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
    let err = Engine::compile(
        "p.yaml",
        &policy(json!({"subject": "x", "roots": roots, "rekor": {"url": "u"}})),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("keyless.roots") && err.contains("failed to load roots"),
        "{err}"
    );
}

#[test]
fn a_keyless_attestor_without_identity_is_linted() {
    let engine = Engine::compile("p.yaml", &policy(json!({"rekor": {"url": "u"}}))).unwrap();
    assert!(
        engine
            .lints()
            .iter()
            .any(|l| l.path.ends_with(".keyless") && l.message.contains("any identity")),
        "{:?}",
        engine.lints()
    );
    // And it does accept the public-good signature, as Kyverno would.
    let (allowed, message) = admit(json!({"rekor": {"url": "u"}}), &registry(|_| {}), None);
    assert!(allowed, "{message}");
}
