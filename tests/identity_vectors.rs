//! Kyverno's certificate identity cases (`TestCosignMatchCertificateData`,
//! `TestCosignMatchSignatures`) on real Fulcio certificates, through the
//! engine's identity extraction and matching.
mod common;

use imgverify::crypto::x509::Certificate;
use imgverify::sigstore::fulcio::Identity;
use imgverify::sigstore::identity::IdentityPolicy;
use serde_json::Value;
use std::collections::BTreeMap;

fn identity(vectors: &Value, name: &str) -> Identity {
    let pem = vectors["certificates"][name]["pem"].as_str().unwrap();
    let cert = Certificate::from_pem_chain(pem).unwrap().remove(0);
    Identity::of(&cert).unwrap()
}

fn s<'a>(case: &'a Value, k: &str) -> Option<&'a str> {
    case[k].as_str()
}

/// Compiles a case's policy; a compile error is the case's outcome.
fn check(case: &Value, ids: &[Identity]) -> Result<(), String> {
    let ext: BTreeMap<String, String> =
        serde_json::from_value(case["extensions"].clone()).unwrap_or_default();
    let policy = IdentityPolicy::compile(
        s(case, "subject"),
        s(case, "subjectRegExp"),
        s(case, "issuer"),
        s(case, "issuerRegExp"),
        &ext,
    )
    .map_err(|e| e.to_string())?;
    let mut errors = Vec::new();
    for id in ids {
        match policy.check(id) {
            Ok(()) => return Ok(()),
            Err(e) => errors.push(e),
        }
    }
    Err(errors.join("; "))
}

fn run(cases: &Value, ids: &[Identity]) -> usize {
    let mut n = 0;
    for case in cases.as_array().unwrap() {
        let got = check(case, ids);
        match (case["expect"].as_str().unwrap(), &got) {
            ("pass", Ok(())) => {}
            ("fail", Err(e)) => {
                let want = case["expected_error"].as_str().unwrap_or("");
                let want = want.strip_prefix("(contains) ").unwrap_or(want);
                // Go's regexp parser words its errors differently: compare
                // up to the pattern.
                let want = want.split(" : error parsing regexp").next().unwrap();
                assert!(e.contains(want), "{case}: got {e:?}, want {want:?}");
            }
            _ => panic!("{case}: got {got:?}"),
        }
        n += 1;
    }
    n
}

#[test]
fn kyverno_certificate_identity_cases() {
    let v = common::json("kyverno/certificate-identity.json");
    let cert1 = identity(&v, "cert1");
    assert_eq!(cert1.issuer, "https://token.actions.githubusercontent.com");
    assert_eq!(
        cert1.extension("1.3.6.1.4.1.57264.1.6"),
        "refs/tags/v0.0.22"
    );
    let n = run(
        &v["match_certificate_data"]["cases"],
        std::slice::from_ref(&cert1),
    );
    let cert2 = identity(&v, "cert2");
    assert_eq!(cert2.sans, vec!["jim@nirmata.com".to_string()]);
    let m = run(&v["match_signatures"]["cases"], &[cert1, cert2]);
    assert!(n >= 12 && m >= 7, "{n} + {m} cases");
}

#[test]
fn extension_keys_are_friendly_names_or_fulcio_oids() {
    use imgverify::sigstore::fulcio::extension_oid;
    assert_eq!(
        extension_oid("githubWorkflowRef").as_deref(),
        Some("1.3.6.1.4.1.57264.1.6")
    );
    // v2 extensions by OID (Kyverno knows only the v1 six).
    assert_eq!(
        extension_oid("1.3.6.1.4.1.57264.1.12").as_deref(),
        Some("1.3.6.1.4.1.57264.1.12")
    );
    for bad in [
        "sourceRepositoryURI",
        "1.3.6.1.4.1.57264.1.7",
        "1.3.6.1.4.1.57264.1.012",
        "1.2.3",
    ] {
        assert_eq!(extension_oid(bad), None, "{bad}");
    }
}

#[test]
fn v2_extensions_are_read_from_conformance_certificates() {
    // A current Fulcio leaf carries the v2 issuer and source repository.
    let b = common::json("sigstore-conformance/bundle-verify/happy-path-v0.3/bundle.sigstore.json");
    let raw = b["verificationMaterial"]["certificate"]["rawBytes"]
        .as_str()
        .unwrap();
    use base64::Engine as _;
    let der = base64::engine::general_purpose::STANDARD
        .decode(raw)
        .unwrap();
    let id = Identity::of(&Certificate::from_der(&der).unwrap()).unwrap();
    assert_eq!(id.issuer, "https://token.actions.githubusercontent.com");
    assert!(
        id.sans[0].starts_with("https://github.com/sigstore-conformance/"),
        "{:?}",
        id.sans
    );
    let policy = IdentityPolicy::compile(
        None,
        Some("^https://github\\.com/sigstore-conformance/"),
        Some("https://token.actions.githubusercontent.com"),
        None,
        &BTreeMap::from([(
            "1.3.6.1.4.1.57264.1.12".to_string(),
            "https://github.com/sigstore-conformance/*".to_string(),
        )]),
    )
    .unwrap();
    policy.check(&id).unwrap();
    // An anchored expression that only matches a substring does not match.
    let anchored = IdentityPolicy::compile(
        None,
        Some("^sigstore-conformance"),
        None,
        None,
        &BTreeMap::new(),
    )
    .unwrap();
    assert!(
        anchored
            .check(&id)
            .unwrap_err()
            .starts_with("subject mismatch")
    );
}
