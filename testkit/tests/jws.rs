//! JWS envelopes made by the testkit, verified by imgverify's Notary
//! verifier: chains of each key kind, the header rules, and certificate
//! rules broken one at a time failing for their stated reasons.

mod common;

use common::{NOW, SIGNED_AT, strict, target, verify_jws};
use imgverify::notary::NotaryError;
use imgverify_testkit::{
    CertBuilder, Eku, Format, Key, KeyKind, KeyUsage, NOT_AFTER, NOT_BEFORE, Pki, Scheme,
    SignRequest, inspect, sign_jws,
};

fn sign(pki: &Pki, req: &SignRequest) -> Vec<u8> {
    sign_jws(req, &pki.leaf_key, &pki.chain())
}

#[test]
fn p256_chain_verifies() {
    let pki = Pki::code_signing(KeyKind::P256, "jws p256");
    let envelope = sign(&pki, &SignRequest::new(target(), SIGNED_AT));
    let verified = verify_jws(&envelope, &[&pki.root], &strict("*")).expect("verifies");
    assert!(verified.logged.is_empty(), "{:?}", verified.logged);
    assert_eq!(verified.target.digest, target().digest);
    assert!(
        verified.signer.contains("CN=jws p256 Signer"),
        "{}",
        verified.signer
    );
}

#[test]
fn rsa3072_ps384_verifies() {
    let pki = Pki::code_signing(KeyKind::Rsa3072, "jws rsa3072");
    let envelope = sign(
        &pki,
        &SignRequest::new(target(), SIGNED_AT).expiry(NOT_AFTER),
    );
    assert_eq!(inspect(Format::Jws, &envelope).algorithm, KeyKind::Rsa3072);
    let protected = common::jws_protected(&envelope);
    assert_eq!(protected["alg"], "PS384");
    verify_jws(&envelope, &[&pki.root], &strict("*")).expect("verifies");
}

#[test]
fn p384_leaf_under_p256_cas_verifies() {
    // The leaf's key fixes ES384; its certificate is signed ecdsa-with-SHA256.
    let ca = Pki::code_signing(KeyKind::P256, "jws mixed");
    let leaf_key = Key::derive(KeyKind::P384, "jws mixed/p384 leaf");
    let leaf = CertBuilder::code_signing(&Pki::subject("P-384 leaf"), NOT_BEFORE, NOT_AFTER)
        .issued_by(&leaf_key, &ca.intermediate, &ca.intermediate_key);
    let chain = vec![leaf, ca.intermediate.clone(), ca.root.clone()];
    let envelope = sign_jws(&SignRequest::new(target(), SIGNED_AT), &leaf_key, &chain);
    assert_eq!(common::jws_protected(&envelope)["alg"], "ES384");
    verify_jws(&envelope, &[&ca.root], &strict("*")).expect("verifies");
}

#[test]
fn every_key_kind_signs_what_its_algorithm_says() {
    for kind in KeyKind::ALL {
        let key = Key::derive(kind, "self-signed");
        let cert = CertBuilder::code_signing(&Pki::subject("self-signed"), NOT_BEFORE, NOT_AFTER)
            .self_signed(&key);
        let envelope = sign_jws(
            &SignRequest::new(target(), SIGNED_AT),
            &key,
            std::slice::from_ref(&cert),
        );
        // A single self-signed certificate is its own trust anchor.
        verify_jws(&envelope, &[&cert], &strict("*")).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
    }
}

#[test]
fn trusted_identity_is_a_subset_of_the_leaf_subject() {
    let pki = Pki::code_signing(KeyKind::P256, "jws p256");
    let envelope = sign(&pki, &SignRequest::new(target(), SIGNED_AT));
    let ok = strict("x509.subject:C=US,ST=WA,O=imgverify testkit,CN=jws p256 Signer");
    verify_jws(&envelope, &[&pki.root], &ok).expect("identity matches");
    let other = strict("x509.subject:C=US,ST=WA,O=imgverify testkit,CN=someone else");
    let e = verify_jws(&envelope, &[&pki.root], &other).unwrap_err();
    assert!(matches!(e, NotaryError::Authenticity(_)), "{e}");
    let stranger = Pki::code_signing(KeyKind::P256, "stranger");
    let e = verify_jws(&envelope, &[&stranger.root], &strict("*")).unwrap_err();
    assert!(
        e.to_string()
            .contains("does not contain any trusted certificate"),
        "{e}"
    );
}

#[test]
fn signing_authority_scheme_verifies_with_its_store() {
    let pki = Pki::code_signing(KeyKind::P256, "jws p256");
    let req = SignRequest::new(target(), SIGNED_AT).scheme(Scheme::SigningAuthority);
    let envelope = sign(&pki, &req);
    let protected = common::jws_protected(&envelope);
    assert!(protected.get("io.cncf.notary.signingTime").is_none());
    assert_eq!(
        protected["crit"],
        serde_json::json!([
            "io.cncf.notary.signingScheme",
            "io.cncf.notary.authenticSigningTime"
        ])
    );
    let policy = common::policy("strict", &["signingAuthority:test"], "*");
    let stores = common::stores(
        imgverify::notary::trust::StoreType::SigningAuthority,
        &[&pki.root],
    );
    imgverify::notary::verify::verify_envelope(
        imgverify::notary::EnvelopeFormat::Jws,
        &envelope,
        &common::imgverify_target(),
        &policy,
        &stores,
        &[],
        NOW,
    )
    .expect("verifies");
}

#[test]
fn expiry_is_enforced() {
    let pki = Pki::code_signing(KeyKind::P256, "jws p256");
    let fresh = sign(
        &pki,
        &SignRequest::new(target(), SIGNED_AT).expiry(NOW + 60),
    );
    verify_jws(&fresh, &[&pki.root], &strict("*")).expect("not expired yet");
    let stale = sign(
        &pki,
        &SignRequest::new(target(), SIGNED_AT).expiry(NOW - 60),
    );
    let e = verify_jws(&stale, &[&pki.root], &strict("*")).unwrap_err();
    assert!(matches!(e, NotaryError::Expiry(_)), "{e}");
    assert!(
        e.to_string().contains("digital signature has expired"),
        "{e}"
    );
}

#[test]
fn header_rules_hold() {
    let pki = Pki::code_signing(KeyKind::P256, "jws p256");
    // An unknown critical header: imgverify processes none.
    let req = SignRequest::new(target(), SIGNED_AT).header("com.example.k", "v".into(), true);
    let e = verify_jws(&sign(&pki, &req), &[&pki.root], &strict("*")).unwrap_err();
    assert!(matches!(e, NotaryError::Unsupported(_)), "{e}");
    // A non-critical one is fine.
    let req = SignRequest::new(target(), SIGNED_AT).header("com.example.k", "v".into(), false);
    verify_jws(&sign(&pki, &req), &[&pki.root], &strict("*")).expect("verifies");
    // crit must list the expiry.
    let mut req = SignRequest::new(target(), SIGNED_AT).expiry(NOT_AFTER);
    req.crit = Some(vec!["io.cncf.notary.signingScheme".into()]);
    let e = verify_jws(&sign(&pki, &req), &[&pki.root], &strict("*")).unwrap_err();
    assert!(
        e.to_string()
            .contains("these required headers are not marked as critical"),
        "{e}"
    );
    // Expiry must come after the signing time.
    let req = SignRequest::new(target(), SIGNED_AT).expiry(SIGNED_AT);
    let e = verify_jws(&sign(&pki, &req), &[&pki.root], &strict("*")).unwrap_err();
    assert!(
        e.to_string().contains("expiry cannot be equal or before"),
        "{e}"
    );
    // The signer's local offset is still the same instant.
    let mut req = SignRequest::new(target(), SIGNED_AT);
    req.utc_offset_minutes = -7 * 60;
    let envelope = sign(&pki, &req);
    assert!(
        common::jws_protected(&envelope)["io.cncf.notary.signingTime"]
            .as_str()
            .unwrap()
            .ends_with("-07:00")
    );
    verify_jws(&envelope, &[&pki.root], &strict("*")).expect("verifies");
}

#[test]
fn target_and_user_metadata_are_checked() {
    let pki = Pki::code_signing(KeyKind::P256, "jws p256");
    let signed = target().with_annotation("team", "payments");
    let envelope = sign(&pki, &SignRequest::new(signed, SIGNED_AT));
    let policy = strict("*");
    let stores = common::stores(imgverify::notary::trust::StoreType::Ca, &[&pki.root]);
    let run = |t: &imgverify::notary::verify::Target, md: &[(String, String)]| {
        imgverify::notary::verify::verify_envelope(
            imgverify::notary::EnvelopeFormat::Jws,
            &envelope,
            t,
            &policy,
            &stores,
            md,
            NOW,
        )
    };
    let t = common::imgverify_target();
    run(&t, &[("team".into(), "payments".into())]).expect("metadata present");
    let e = run(&t, &[("team".into(), "search".into())]).unwrap_err();
    assert!(matches!(e, NotaryError::Target(_)), "{e}");
    let other = imgverify::notary::verify::Target { size: 1, ..t };
    let e = run(&other, &[]).unwrap_err();
    assert!(e.to_string().contains("content descriptor mismatch"), "{e}");
}

/// A chain (DER, leaf first) and its leaf's key.
type Chain = (Vec<Vec<u8>>, Key);

/// A chain root → intermediate → leaf with one certificate built by `leaf`,
/// `intermediate` or `root` (given the defaults), for the rule tests.
fn chain_with(
    label: &str,
    root: impl FnOnce(CertBuilder) -> CertBuilder,
    intermediate: impl FnOnce(CertBuilder) -> CertBuilder,
    leaf: impl FnOnce(CertBuilder) -> CertBuilder,
) -> Chain {
    let kind = KeyKind::P256;
    let (rk, ik, lk) = (
        Key::derive(kind, &format!("{label}/root")),
        Key::derive(kind, &format!("{label}/int")),
        Key::derive(kind, &format!("{label}/leaf")),
    );
    let r = root(CertBuilder::root_ca(
        &Pki::subject("Rule Root"),
        NOT_BEFORE,
        NOT_AFTER,
    ))
    .self_signed(&rk);
    let i = intermediate(CertBuilder::intermediate_ca(
        &Pki::subject("Rule Intermediate"),
        NOT_BEFORE,
        NOT_AFTER,
    ))
    .issued_by(&ik, &r, &rk);
    let l = leaf(CertBuilder::code_signing(
        &Pki::subject("Rule Leaf"),
        NOT_BEFORE,
        NOT_AFTER,
    ))
    .issued_by(&lk, &i, &ik);
    (vec![l, i, r], lk)
}

fn rule_failure(chain: &[Vec<u8>], key: &Key) -> String {
    let envelope = sign_jws(&SignRequest::new(target(), SIGNED_AT), key, chain);
    let root = chain.last().unwrap();
    match verify_jws(&envelope, &[root], &strict("*")) {
        Err(e @ NotaryError::Integrity(_)) => e.to_string(),
        other => panic!("expected a chain failure, got {other:?}"),
    }
}

#[test]
fn certificate_rules_fail_for_their_stated_reasons() {
    let id = |b: CertBuilder| b;
    let cases: Vec<(&str, Chain, &str)> = vec![
        (
            "leaf key usage not critical",
            chain_with("r1", id, id, |b| {
                b.key_usage(&[KeyUsage::DigitalSignature], false)
            }),
            "key usage extension must be marked critical",
        ),
        (
            "leaf without key usage",
            chain_with("r2", id, id, |b| b.without_key_usage()),
            "key usage extension must be present",
        ),
        (
            "leaf with keyCertSign",
            chain_with("r3", id, id, |b| {
                b.key_usage(&[KeyUsage::DigitalSignature, KeyUsage::KeyCertSign], true)
            }),
            "The key usage must be \"Digital Signature\" only, but found \"CertSign\"",
        ),
        (
            "leaf with EKU serverAuth",
            chain_with("r4", id, id, |b| {
                b.extended_key_usage(&[Eku::CodeSigning, Eku::ServerAuth], false)
            }),
            "extended key usage must not contain ServerAuth eku",
        ),
        (
            "leaf with EKU timeStamping",
            chain_with("r5", id, id, |b| {
                b.extended_key_usage(&[Eku::TimeStamping], true)
            }),
            "extended key usage must not contain Timestamping eku",
        ),
        (
            "leaf that is a CA",
            chain_with("r6", id, id, |b| b.basic_constraints(true, None, true)),
            "the ca field must be set to false",
        ),
        (
            "intermediate without basic constraints",
            chain_with("r7", id, |b| b.without_basic_constraints(), id),
            "is not issued by",
        ),
        (
            "root path length too short",
            chain_with("r8", |b| b.path_len(0), id, id),
            "expected path length of 1 but certificate has path length 0",
        ),
        (
            "intermediate key usage not critical",
            chain_with(
                "r9",
                id,
                |b| b.key_usage(&[KeyUsage::KeyCertSign, KeyUsage::CrlSign], false),
                id,
            ),
            "key usage extension must be marked critical",
        ),
    ];
    for (name, (chain, key), reason) in cases {
        let e = rule_failure(&chain, &key);
        assert!(e.contains(reason), "{name}: {e}");
    }
}

#[test]
fn self_signed_leaf_in_a_longer_chain_is_refused() {
    let key = Key::derive(KeyKind::P256, "self-signed");
    let leaf = CertBuilder::code_signing(&Pki::subject("self-signed"), NOT_BEFORE, NOT_AFTER)
        .self_signed(&key);
    let pki = Pki::code_signing(KeyKind::P256, "jws p256");
    let chain = vec![leaf, pki.root.clone()];
    let e = rule_failure(&chain, &key);
    assert!(e.contains("is self-signed"), "{e}");
}

#[test]
fn self_signed_leaf_must_meet_the_leaf_rules() {
    let key = Key::derive(KeyKind::P256, "self-signed");
    let cert = CertBuilder::code_signing(&Pki::subject("self-signed"), NOT_BEFORE, NOT_AFTER)
        .key_usage(&[KeyUsage::DigitalSignature], false)
        .self_signed(&key);
    let e = rule_failure(std::slice::from_ref(&cert), &key);
    assert!(e.contains("invalid self-signed certificate"), "{e}");
}

#[test]
fn expired_chain_fails_the_authentic_timestamp_check() {
    let key = Key::derive(KeyKind::P256, "short-lived");
    let cert =
        CertBuilder::code_signing(&Pki::subject("short-lived"), SIGNED_AT - 60, SIGNED_AT + 60)
            .self_signed(&key);
    let envelope = sign_jws(
        &SignRequest::new(target(), SIGNED_AT),
        &key,
        std::slice::from_ref(&cert),
    );
    let e = verify_jws(&envelope, &[&cert], &strict("*")).unwrap_err();
    assert!(matches!(e, NotaryError::AuthenticTimestamp(_)), "{e}");
    assert!(e.to_string().contains("it was expired at"), "{e}");
}

#[test]
fn protected_header_is_byte_for_byte_notations() {
    // notation-core-go signature/jws/testdata/conformance.json (Apache-2.0):
    // ES256, signingTime 2022-08-29T13:50:00Z, expiry 2099-08-30T13:50:00Z,
    // extended attributes signedCritKey1 (critical) and signedKey1..4.
    let expected = concat!(
        "eyJhbGciOiJFUzI1NiIsImNyaXQiOlsiaW8uY25jZi5ub3Rhcnkuc2lnbmluZ1NjaGVtZSIs",
        "InNpZ25lZENyaXRLZXkxIiwiaW8uY25jZi5ub3RhcnkuZXhwaXJ5Il0sImN0eSI6ImFwcGxp",
        "Y2F0aW9uL3ZuZC5jbmNmLm5vdGFyeS5wYXlsb2FkLnYxK2pzb24iLCJpby5jbmNmLm5vdGFy",
        "eS5leHBpcnkiOiIyMDk5LTA4LTMwVDEzOjUwOjAwWiIsImlvLmNuY2Yubm90YXJ5LnNpZ25p",
        "bmdTY2hlbWUiOiJub3RhcnkueDUwOSIsImlvLmNuY2Yubm90YXJ5LnNpZ25pbmdUaW1lIjoi",
        "MjAyMi0wOC0yOVQxMzo1MDowMFoiLCJzaWduZWRDcml0S2V5MSI6InNpZ25lZENyaXRWYWx1",
        "ZTEiLCJzaWduZWRLZXkxIjoic2lnbmVkVmFsdWUxIiwic2lnbmVkS2V5MiI6InNpZ25lZFZh",
        "bHVlMSIsInNpZ25lZEtleTMiOiJzaWduZWRWYWx1ZTEiLCJzaWduZWRLZXk0Ijoic2lnbmVk",
        "VmFsdWUxIn0",
    );
    let mut req = SignRequest::new(target(), imgverify_testkit::unix(2022, 8, 29, 13, 50, 0))
        .expiry(imgverify_testkit::unix(2099, 8, 30, 13, 50, 0))
        .header("signedCritKey1", "signedCritValue1".into(), true);
    for k in 1..=4 {
        req = req.header(&format!("signedKey{k}"), "signedValue1".into(), false);
    }
    let envelope = sign_jws(&req, &Key::derive(KeyKind::P256, "conformance"), &[]);
    let env: serde_json::Value = serde_json::from_slice(&envelope).unwrap();
    assert_eq!(env["protected"], expected);
}

#[test]
fn envelope_has_notations_layout() {
    let pki = Pki::code_signing(KeyKind::P256, "jws p256");
    let envelope = sign(
        &pki,
        &SignRequest::new(target().with_annotation("a<b", "&"), SIGNED_AT),
    );
    let text = std::str::from_utf8(&envelope).unwrap();
    assert!(text.starts_with(r#"{"payload":""#), "{text}");
    let order: Vec<usize> = [
        r#""protected":"#,
        r#""header":{"x5c":["#,
        r#""io.cncf.notary.signingAgent":"#,
        r#""signature":"#,
    ]
    .iter()
    .map(|k| text.find(k).unwrap_or_else(|| panic!("{k} in {text}")))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
    // The payload is re-marshalled with sorted keys and Go's HTML escapes.
    let info = inspect(Format::Jws, &envelope);
    let t = target();
    assert_eq!(
        std::str::from_utf8(&info.payload).unwrap(),
        format!(
            r#"{{"targetArtifact":{{"annotations":{{"a\u003cb":"\u0026"}},"digest":"{}","mediaType":"{}","size":{}}}}}"#,
            t.digest, t.media_type, t.size
        )
    );
    assert_eq!(info.certificates, pki.chain());
    // x5c is standard base64 with padding.
    let env: serde_json::Value = serde_json::from_slice(&envelope).unwrap();
    use base64::Engine as _;
    let x5c0 = env["header"]["x5c"][0].as_str().unwrap();
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(x5c0)
            .unwrap(),
        pki.leaf
    );
    // Signing again makes the same bytes.
    assert_eq!(
        envelope,
        sign(
            &pki,
            &SignRequest::new(target().with_annotation("a<b", "&"), SIGNED_AT)
        )
    );
}
