//! Keyless `verifyImages` policies decided by the engine end to end: a real
//! public-good Fulcio signature (containers/image's `fulcio-rekor-1`
//! fixture: a `.sig` layer with certificate, chain and Rekor bundle
//! annotations) served to a session as a registry would, under Kyverno
//! policies that must allow it or deny it for a stated reason.
mod common;

use common::CosignFixture;
use imgverify::Engine;
use serde_json::{Value, json};
use std::collections::BTreeMap;

const FIXTURE: &str = "dir-img-cosign-fulcio-rekor-valid";
const REPO: &str = "192.168.64.2:5000/cosign-signed/fulcio-rekor-1";

/// The fixture as a registry, with `annotate` applied to the signature's
/// annotations.
fn registry(annotate: impl FnOnce(&mut BTreeMap<String, String>)) -> CosignFixture {
    CosignFixture::load(FIXTURE, REPO, annotate)
}

/// A policy requiring the `keyless` attestor on the fixture's registry.
fn policy(keyless: Value) -> String {
    common::policy_with_attestor("192.168.64.2:5000/*", "Cosign", json!({"keyless": keyless}))
}

/// Runs one admission of a Pod with the fixture image; `(allowed, message)`.
fn admit(keyless: Value, reg: &CosignFixture, now: Option<&str>) -> (bool, String) {
    let engine = Engine::compile("p.yaml", &policy(keyless)).unwrap();
    common::admit_pod(engine, &reg.image(), now, |f| reg.answer(f))
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

#[test]
fn variable_roots_fail_closed_naming_the_cause() {
    let reg = registry(|_| {});
    let (allowed, message) = admit(
        json!({"subject": "mitr@redhat.com", "roots": "{{ request.object.metadata.annotations.roots }}", "rekor": {"url": "u"}}),
        &reg,
        None,
    );
    assert!(!allowed);
    assert!(
        message.contains("keyless roots given as variables cannot be loaded"),
        "{message}"
    );
}

#[test]
fn tsa_cert_chain_without_a_root_is_a_policy_error() {
    let leaf_only = String::from_utf8(common::bytes("containers-image/fixtures/pki-cert")).unwrap();
    let err = Engine::compile(
        "p.yaml",
        &policy(
            json!({"subject": "x", "rekor": {"url": "u"}, "ctlog": {"tsaCertChain": leaf_only}}),
        ),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("keyless.ctlog.tsaCertChain")
            && err.contains("the TSA certificate chain has no self-signed root"),
        "{err}"
    );
}
