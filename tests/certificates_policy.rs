//! `certificates` attestors decided by the engine end to end, on
//! containers/image's bring-your-own-PKI cosign signature (`pki-valid`: an
//! RSA-4096 leaf issued by an intermediate under a private root, the leaf
//! and chain in the `.sig` layer's annotations, no transparency log) and on
//! its public-good Fulcio signature, under Kyverno semantics:
//! `cert` pins the signing certificate, `certChain` is what it must chain to.
mod common;

use common::CosignFixture;
use imgverify::Engine;
use serde_json::{Value, json};

const REPO: &str = "localhost:5000/test";
const NOW: &str = "2026-12-01T00:00:00Z";

fn text(rel: &str) -> String {
    String::from_utf8(common::bytes(&format!("containers-image/fixtures/{rel}"))).unwrap()
}

/// The intermediate and the root, as `certChain` holds them.
fn pki_chain() -> String {
    text("pki_intermediate_crts.pem") + &text("pki_root_crts.pem")
}

fn pki() -> CosignFixture {
    CosignFixture::load("dir-img-cosign-pki-valid", REPO, |_| {})
}

fn admit(certificates: Value, reg: &CosignFixture) -> (bool, String) {
    let policy = common::policy_with_attestor(
        "localhost:5000/*",
        "Cosign",
        json!({"certificates": certificates}),
    );
    let engine = Engine::compile("p.yaml", &policy).unwrap();
    common::admit_pod(engine, &reg.image(), Some(NOW), |f| reg.answer(f))
}

/// A denial for `reason`, reported at the certificates entry.
fn assert_denied(got: (bool, String), reason: &str) {
    assert!(
        got.1.contains(".attestors[0].entries[0].certificates"),
        "{}",
        got.1
    );
    common::assert_denied(got, reason);
}

/// No transparency log and no SCT: a private PKI has neither.
fn offline() -> Value {
    json!({"rekor": {"ignoreTlog": true}, "ctlog": {"ignoreSCT": true}})
}

fn with(mut base: Value, field: &str, value: String) -> Value {
    base[field] = value.into();
    base
}

#[test]
fn a_chain_alone_verifies_the_signatures_own_certificate() {
    let (allowed, message) = admit(with(offline(), "certChain", pki_chain()), &pki());
    assert!(allowed, "{message}");
}

#[test]
fn a_pinned_certificate_verifies_alone_or_against_its_chain() {
    let reg = pki();
    let (allowed, message) = admit(with(offline(), "cert", text("pki-cert")), &reg);
    assert!(allowed, "{message}");
    let both = with(
        with(offline(), "cert", text("pki-cert")),
        "certChain",
        pki_chain(),
    );
    let (allowed, message) = admit(both, &reg);
    assert!(allowed, "{message}");
    // Kyverno also takes the certificate as base64 of its PEM.
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(text("pki-cert"));
    let (allowed, message) = admit(with(offline(), "cert", b64), &reg);
    assert!(allowed, "{message}");
}

#[test]
fn another_certificate_or_chain_is_denied_for_its_reason() {
    let reg = pki();
    // The public-good Fulcio leaf did not make this signature.
    assert_denied(
        admit(with(offline(), "cert", text("fulcio-cert")), &reg),
        "no matching signatures: malformed signature",
    );
    // The signature's certificate does not chain to another root.
    assert_denied(
        admit(
            with(offline(), "certChain", text("fulcio_v1.crt.pem")),
            &reg,
        ),
        "issuer",
    );
    // The pinned certificate does not chain to another root either.
    let mismatch = with(
        with(offline(), "cert", text("pki-cert")),
        "certChain",
        text("fulcio_v1.crt.pem"),
    );
    assert_denied(admit(mismatch, &reg), "issuer");
    // Without the signature's own certificate, a chain has nothing to check.
    let bare = CosignFixture::load("dir-img-cosign-pki-valid", REPO, |a| {
        a.remove("dev.sigstore.cosign/certificate");
    });
    assert_denied(
        admit(with(offline(), "certChain", pki_chain()), &bare),
        "signing certificate annotation dev.sigstore.cosign/certificate is missing",
    );
}

#[test]
fn logs_are_required_unless_ignored() {
    let reg = pki();
    // cosign checks the SCT while validating against a chain.
    let sct = json!({"rekor": {"ignoreTlog": true}, "certChain": pki_chain()});
    assert_denied(admit(sct, &reg), "SCT");
    // And a Rekor bundle unless the transparency log is ignored.
    let tlog = json!({"ctlog": {"ignoreSCT": true}, "cert": text("pki-cert")});
    assert_denied(admit(tlog, &reg), "Rekor");
}

#[test]
fn a_fulcio_signature_verifies_under_certificates_with_its_chain() {
    // The public-good signature, its own leaf pinned and its own chain
    // given, with Rekor and the SCT checked against the embedded root.
    let (mut leaf, mut chain) = (String::new(), String::new());
    let reg = CosignFixture::load(
        "dir-img-cosign-fulcio-rekor-valid",
        "localhost:5000/fulcio",
        |a| {
            leaf = a["dev.sigstore.cosign/certificate"].clone();
            chain = a["dev.sigstore.cosign/chain"].clone();
        },
    );
    let policy = common::policy_with_attestor(
        "localhost:5000/*",
        "Cosign",
        json!({"certificates": {"cert": leaf, "certChain": chain}}),
    );
    let engine = Engine::compile("p.yaml", &policy).unwrap();
    let (allowed, message) = common::admit_pod(engine, &reg.image(), Some(NOW), |f| reg.answer(f));
    assert!(allowed, "{message}");
    // The same leaf under the BYO chain does not verify.
    let policy = common::policy_with_attestor(
        "localhost:5000/*",
        "Cosign",
        json!({"certificates": {"cert": leaf, "certChain": pki_chain()}}),
    );
    let engine = Engine::compile("p.yaml", &policy).unwrap();
    let (allowed, _) = common::admit_pod(engine, &reg.image(), Some(NOW), |f| reg.answer(f));
    assert!(!allowed);
}

#[test]
fn bad_certificates_are_policy_errors_naming_the_field() {
    let compile = |c: Value| {
        let policy =
            common::policy_with_attestor("localhost:5000/*", "Cosign", json!({"certificates": c}));
        Engine::compile("p.yaml", &policy)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    let err =
        compile(json!({"cert": "-----BEGIN CERTIFICATE-----\nbad\n-----END CERTIFICATE-----\n"}));
    assert!(
        err.contains("certificates.cert") && err.contains("failed to load certificate"),
        "{err}"
    );
    let err = compile(json!({"certChain": pki_chain().repeat(6)}));
    assert!(
        err.contains("certificate chain too long (12), maximum allowed is 11"),
        "{err}"
    );
    let err = compile(json!({}));
    assert!(err.contains("cert or certChain required"), "{err}");
}
