//! X.509 chains and trusted roots on real Sigstore material: every leaf
//! certificate of the sigstore-conformance bundles that must verify chains
//! to a certificate authority of its trusted root at its signing time, and
//! the ways a chain must fail do fail, for the stated reason.
mod common;

use base64::Engine as _;
use imgverify::crypto::x509::{Certificate, OID_EKU_CODE_SIGNING, X509Error, verify_path};
use imgverify::sigstore::trusted_root::TrustedRoot;
use serde_json::Value;

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

/// The leaf certificate of a bundle (`certificate` or the chain's first).
fn leaf_of(bundle: &Value) -> Option<Certificate> {
    let vm = &bundle["verificationMaterial"];
    let raw = vm["certificate"]["rawBytes"]
        .as_str()
        .or_else(|| vm["x509CertificateChain"]["certificates"][0]["rawBytes"].as_str())?;
    Some(Certificate::from_der(&b64(raw)).unwrap())
}

fn root_of(case: &Value) -> TrustedRoot {
    let rel = case["trusted_root"].as_str().unwrap();
    let text = String::from_utf8(common::bytes(rel)).unwrap();
    TrustedRoot::parse(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The first authority whose chain verifies `leaf` at `at`, or every error.
fn chain_to_root(root: &TrustedRoot, leaf: &Certificate, at: i64) -> Result<usize, Vec<X509Error>> {
    let mut errors = Vec::new();
    for (i, ca) in root.certificate_authorities.iter().enumerate() {
        if !ca.valid_at(at) {
            continue;
        }
        let (anchor, intermediates) = ca.chain.split_last().unwrap();
        let intermediates: Vec<&Certificate> = intermediates.iter().collect();
        match verify_path(leaf, &intermediates, &[anchor], at, OID_EKU_CODE_SIGNING) {
            Ok(_) => return Ok(i),
            Err(e) => errors.push(e),
        }
    }
    Err(errors)
}

/// The leaf certificate and trusted root of every keyless case that must
/// verify.
fn keyless_leaves() -> Vec<(String, Certificate, TrustedRoot)> {
    pass_cases()
        .into_iter()
        .filter_map(|(case, bundle)| {
            let leaf = leaf_of(&bundle)?;
            Some((case["case"].as_str()?.to_string(), leaf, root_of(&case)))
        })
        .collect()
}

/// The `happy-path-v0.3` leaf and its trusted root.
fn happy_path_v03() -> (Certificate, TrustedRoot) {
    let (case, bundle) = pass_cases()
        .into_iter()
        .find(|(c, _)| c["case"] == "happy-path-v0.3")
        .unwrap();
    (leaf_of(&bundle).unwrap(), root_of(&case))
}

fn pass_cases() -> Vec<(Value, Value)> {
    let cases = common::json("sigstore-conformance/cases.json");
    cases
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["expect"] == "pass" && c["key"].is_null())
        .map(|c| {
            let bundle = common::json(c["bundle"].as_str().unwrap());
            (c.clone(), bundle)
        })
        .collect()
}

#[test]
fn the_public_good_root_has_every_kind_of_trust_material() {
    let root = TrustedRoot::public_good().unwrap();
    assert_eq!(root.tlogs.len(), 2);
    assert_eq!(root.ctlogs.len(), 2);
    assert_eq!(root.certificate_authorities.len(), 2);
    assert_eq!(root.timestamp_authorities.len(), 1);
    // The current Fulcio chain: intermediate, then the root anchor.
    let current = &root.certificate_authorities[1];
    assert_eq!(current.chain.len(), 2);
    assert!(current.chain[0].subject().contains("sigstore-intermediate"));
    assert!(current.valid_until.is_none());
}

#[test]
fn every_keyless_leaf_that_must_verify_chains_to_its_root() {
    let leaves = keyless_leaves();
    for (name, leaf, root) in &leaves {
        // Fulcio leaves live ten minutes; any instant inside them will do here.
        chain_to_root(root, leaf, leaf.not_before() + 1)
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
    assert!(
        leaves.len() >= 10,
        "only {} keyless pass cases",
        leaves.len()
    );
}

#[test]
fn a_leaf_fails_outside_its_validity_inclusive_of_its_end() {
    let (leaf, root) = happy_path_v03();
    assert!(chain_to_root(&root, &leaf, leaf.not_after()).is_ok());
    let late = chain_to_root(&root, &leaf, leaf.not_after() + 1).unwrap_err();
    assert!(
        late.iter().any(|e| matches!(e, X509Error::Expired { .. })),
        "{late:?}"
    );
    let early = chain_to_root(&root, &leaf, leaf.not_before() - 1).unwrap_err();
    assert!(
        early.iter().any(|e| matches!(e, X509Error::Expired { .. })),
        "{early:?}"
    );
}

#[test]
fn a_tampered_signature_or_a_foreign_ca_is_refused() {
    let (leaf, root) = happy_path_v03();
    let at = leaf.not_before() + 1;
    // Flip the last byte of the signature (inside the DER INTEGER s).
    let mut der = leaf.der().to_vec();
    let n = der.len();
    der[n - 1] ^= 1;
    let tampered = Certificate::from_der(&der).unwrap();
    let errors = chain_to_root(&root, &tampered, at).unwrap_err();
    assert!(
        errors
            .iter()
            .any(|e| matches!(e, X509Error::BadSignature { .. })),
        "{errors:?}"
    );
    // The staging root's CAs do not issue production leaves.
    let staging = TrustedRoot::parse(
        &String::from_utf8(common::bytes(
            "sigstore-conformance/trusted-roots/staging.trusted_root.json",
        ))
        .unwrap(),
    )
    .unwrap();
    assert!(chain_to_root(&staging, &leaf, at).is_err());
    // A leaf is not a CA: nothing chains through it.
    let errors = verify_path(&leaf, &[], &[&leaf], at, OID_EKU_CODE_SIGNING).unwrap_err();
    assert!(
        matches!(errors, X509Error::Untrusted(_) | X509Error::NotCa(_)),
        "{errors:?}"
    );
}

#[test]
fn a_root_without_a_validity_start_is_refused() {
    let text = String::from_utf8(common::bytes(
        "sigstore-conformance/bundle-verify/trust-root-tlog-missing-validity-start_fail/trusted_root.json",
    ))
    .unwrap();
    let err = TrustedRoot::parse(&text).unwrap_err().to_string();
    assert!(err.contains("validFor.start is required"), "{err}");
}

#[test]
fn the_precertificate_drops_only_the_sct_list() {
    let (leaf, _) = happy_path_v03();
    const SCT: &str = "1.3.6.1.4.1.11129.2.4.2";
    assert!(leaf.extension(SCT).is_some());
    let pre = leaf.tbs_without_extension(SCT).unwrap();
    assert!(pre.len() < leaf.tbs_der().len());
    // Removing an extension the certificate lacks re-encodes it unchanged.
    assert_eq!(
        leaf.tbs_without_extension("1.2.3.4").unwrap(),
        leaf.tbs_der()
    );
}

#[test]
fn embedded_scts_verify_against_the_roots_ct_logs() {
    use imgverify::sigstore::sct::{self, SctError};
    let leaves = keyless_leaves();
    for (name, leaf, root) in &leaves {
        let ca = chain_to_root(root, leaf, leaf.not_before() + 1).unwrap();
        let issuer = &root.certificate_authorities[ca].chain[0];
        sct::verify_embedded(leaf, issuer, &root.ctlogs).unwrap_or_else(|e| panic!("{name}: {e}"));
        // Without the CT log keys nothing verifies, and says why.
        match sct::verify_embedded(leaf, issuer, &[]) {
            Err(SctError::Untrusted(reasons)) => {
                assert!(reasons[0].contains("unknown log"), "{reasons:?}")
            }
            other => panic!("{name}: {other:?}"),
        }
        // Another issuer's key hash changes what the log signed.
        let wrong_issuer = root.certificate_authorities[ca].chain.last().unwrap();
        if wrong_issuer.spki_der() != issuer.spki_der() {
            assert!(matches!(
                sct::verify_embedded(leaf, wrong_issuer, &root.ctlogs),
                Err(SctError::Untrusted(_))
            ));
        }
    }
    assert!(leaves.len() >= 10, "only {}", leaves.len());
}
