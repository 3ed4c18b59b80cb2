//! Key-based cosign vectors: containers/image policy cases, the Rekor SET
//! unit case, and sigstore-rs simple-signing vectors, through the engine's
//! signature-layer verification (`sigstore::cosign::verify_layer`).
mod common;

use base64::Engine as _;
use imgverify::crypto::x509::Certificate;
use imgverify::crypto::{HashAlgorithm, PublicKey};
use imgverify::digest::Digest;
use imgverify::sigstore::cosign::{KeyCheck, SignatureError, VerifiedSignature, verify_layer};
use imgverify::sigstore::identity::IdentityPolicy;
use imgverify::sigstore::keyless::{self, CertificateCheck};
use imgverify::sigstore::rekor::{self, ExpectedEntry, RekorError, Signer};
use imgverify::sigstore::simple_signing::SimpleSigning;
use imgverify::sigstore::trusted_root::LogKey;
use imgverify::sigstore::trusted_root::{Authority, TrustedRoot};
use imgverify::sigstore::{
    ANNOTATION_BUNDLE, ANNOTATION_CHAIN, ANNOTATION_SIGNATURE, SIMPLE_SIGNING_MEDIA_TYPE,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

struct SigFile {
    mime: String,
    payload: Vec<u8>,
    annotations: BTreeMap<String, String>,
}

/// containers/image storage form: `0x00 "sigstore-json\n"` then JSON.
fn read_sig(rel: &str) -> SigFile {
    let b = common::bytes(rel);
    let json = b
        .strip_prefix(b"\x00sigstore-json\n")
        .expect("sigstore-json prefix");
    let v: Value = serde_json::from_slice(json).unwrap();
    SigFile {
        mime: v["mimeType"].as_str().unwrap().into(),
        payload: base64::engine::general_purpose::STANDARD
            .decode(v["payload"].as_str().unwrap())
            .unwrap(),
        annotations: serde_json::from_value(v["annotations"].clone()).unwrap_or_default(),
    }
}

fn key(rel: &str) -> PublicKey {
    PublicKey::from_pem(&String::from_utf8(common::bytes(rel)).unwrap()).unwrap()
}

fn apply_mutation(sig: &mut SigFile, m: &str) {
    if let Some(rest) = m.strip_prefix("remove annotation ") {
        sig.annotations.remove(rest);
    } else if let Some(rest) = m.strip_prefix("set annotation ") {
        let (k, v) = rest.split_once(" to ").unwrap();
        sig.annotations.insert(k.into(), v.trim_matches('"').into());
    } else if let Some(rest) = m.strip_prefix("copy the dev.sigstore.cosign/bundle annotation of ")
    {
        let path = rest.strip_suffix(" onto this signature").unwrap();
        let other = read_sig(path);
        sig.annotations.insert(
            ANNOTATION_BUNDLE.into(),
            other.annotations[ANNOTATION_BUNDLE].clone(),
        );
    } else if m.starts_with("replace annotations with only dev.cosignproject.cosign/signature") {
        sig.annotations = BTreeMap::from([(
            ANNOTATION_SIGNATURE.to_string(),
            base64::engine::general_purpose::STANDARD.encode("invalid signature"),
        )]);
    } else {
        panic!("unknown mutation {m}");
    }
}

/// containers-policy.json(5) signed identity on the verified payload.
fn identity_ok(kind: &str, exact: Option<&str>, image_ref: &str, p: &SimpleSigning) -> bool {
    let repo_of = |r: &str| {
        let slash = r.rfind('/').unwrap_or(0);
        match r[slash..].rfind(':') {
            Some(c) => r[..slash + c].to_string(),
            None => r.to_string(),
        }
    };
    match kind {
        "matchRepository" => repo_of(&p.docker_reference) == repo_of(image_ref),
        "matchExact" => image_ref != repo_of(image_ref) && p.docker_reference == image_ref,
        "exactReference" => Some(p.docker_reference.as_str()) == exact,
        other => panic!("identity {other}"),
    }
}

#[derive(Debug)]
enum Outcome {
    Pass,
    Fail(String),
}

fn run_case(c: &Value) -> Outcome {
    let kr = &c["key_or_roots"];
    let keys: Vec<PublicKey> = kr["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|k| key(k.as_str().unwrap()))
        .collect();
    if keys.is_empty() {
        return Outcome::Fail("invalid policy: no key configured".into());
    }
    let rekor_keys: Option<Vec<LogKey>> = kr["rekor_keys"].as_array().map(|a| {
        a.iter()
            .map(|k| LogKey::from_key(Arc::new(key(k.as_str().unwrap()))).unwrap())
            .collect()
    });
    let Some(manifest_rel) = c["manifest"].as_str() else {
        return Outcome::Fail("no manifest: image digest unknown".into());
    };
    let manifest = common::bytes(manifest_rel);
    // The digest of a schema 1 manifest with invalid signatures cannot be computed.
    let parsed: Value = serde_json::from_slice(&manifest).unwrap();
    if parsed["schemaVersion"] == 1 {
        return Outcome::Fail("schema 1 manifest: digest cannot be computed".into());
    }
    let digest = Digest::sha256_of(&manifest);
    let image_ref = c["image_reference"].as_str().unwrap();
    let mut errors = Vec::new();
    let mut verified: Vec<VerifiedSignature> = Vec::new();
    for s in c["signatures"].as_array().unwrap() {
        let mut sig = read_sig(s.as_str().unwrap());
        if let Some(m) = c["mutation"].as_str() {
            apply_mutation(&mut sig, m);
        }
        if sig.mime != SIMPLE_SIGNING_MEDIA_TYPE {
            errors.push(format!("not a simple-signing layer ({})", sig.mime));
            continue;
        }
        let mut layer_ok = false;
        for k in &keys {
            let check = KeyCheck {
                key: k,
                hash: HashAlgorithm::Sha256,
                tlog_keys: rekor_keys.as_deref(),
            };
            match verify_layer(&sig.payload, &sig.annotations, &digest, &check) {
                Ok(v) => {
                    verified.push(v);
                    layer_ok = true;
                    break;
                }
                Err(e) => errors.push(e.to_string()),
            }
        }
        let _ = layer_ok;
    }
    if verified.is_empty() {
        return Outcome::Fail(if errors.is_empty() {
            "no signatures".into()
        } else {
            errors.join("; ")
        });
    }
    let id = &c["signed_identity"];
    let kind = id["type"].as_str().unwrap();
    if verified
        .iter()
        .any(|v| identity_ok(kind, id["dockerReference"].as_str(), image_ref, &v.payload))
    {
        Outcome::Pass
    } else {
        Outcome::Fail("signed identity does not match".into())
    }
}

/// Words each failing case's reason must contain (the stated cause).
fn expected_reason(case: &str) -> &'static str {
    match case {
        "key-valid-reference-mismatch"
        | "key-valid-identity-this-does-not-match"
        | "key-valid-matchExact-cosign-created"
        | "key-valid-2-reference-mismatch"
        | "key-valid-with-tag-other-tag" => "signed identity",
        "key-unknown-key" => "invalid signature",
        "key-bad-signature" => "malformed signature",
        "key-modified-manifest" => "signature payload is for image digest",
        "key-no-manifest" => "no manifest",
        "key-manifest-digest-error" => "schema 1",
        "key-other-attachment" => "not a simple-signing layer",
        "key-rekor-wrong-rekor-key" => "no trusted Rekor key",
        "key-rekor-missing-SET" => "no Rekor bundle",
        "key-rekor-invalid-SET" => "invalid Rekor bundle",
        "key-rekor-SET-for-other-signature" => "signature in Rekor SET does not match",
        "config-nothing" => "no key configured",
        other => panic!("no stated reason for failing case {other}"),
    }
}

#[test]
fn containers_image_key_cases() {
    let v = common::json("containers-image/cases.json");
    let mut ran = 0;
    for c in v["cases"].as_array().unwrap() {
        let kr = &c["key_or_roots"];
        let key_based = kr.get("fulcio").is_none() && kr.get("pki").is_none();
        if !key_based {
            continue;
        }
        let name = c["case"].as_str().unwrap();
        let out = run_case(c);
        match (c["expect"].as_str().unwrap(), &out) {
            ("pass", Outcome::Pass) => {}
            ("fail", Outcome::Fail(reason)) => {
                let want = expected_reason(name.split(' ').next().unwrap());
                assert!(
                    reason.contains(want),
                    "{name}: failed for {reason:?}, expected {want:?}"
                );
            }
            (e, o) => panic!("{name}: expected {e}, got {o:?}"),
        }
        ran += 1;
    }
    assert_eq!(ran, 30, "key-based cases run");
}

#[test]
fn rekor_set_unit() {
    let v = common::json("containers-image/cases.json");
    let unit = v["unit_cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["case"] == "rekor-set-unit")
        .unwrap();
    let set = String::from_utf8(common::bytes(unit["set"].as_str().unwrap())).unwrap();
    let payload = common::bytes(unit["payload"].as_str().unwrap());
    let sig_b64 =
        String::from_utf8(common::bytes(unit["signature_b64"].as_str().unwrap())).unwrap();
    let sig = base64::engine::general_purpose::STANDARD
        .decode(sig_b64.trim())
        .unwrap();
    let rekor_key = Arc::new(key(unit["rekor_key"].as_str().unwrap()));
    let keys = vec![LogKey::from_key(rekor_key).unwrap()];
    let cert_pem = String::from_utf8(common::bytes(unit["certificate"].as_str().unwrap())).unwrap();
    let cert = Certificate::from_pem_chain(&cert_pem).unwrap().remove(0);
    let expected = ExpectedEntry {
        payload: &payload,
        signature: Some(&sig),
        signer: Signer::Certificate(&cert),
    };
    let entry = rekor::verify_bundle(&set, &keys, &expected).expect("SET verifies");
    assert_eq!(
        entry.integrated_time,
        unit["expected_integrated_time_unix"].as_i64().unwrap()
    );
    // Any other key, an empty SET, or garbage fail.
    let other =
        vec![LogKey::from_key(Arc::new(key("containers-image/fixtures/cosign.pub"))).unwrap()];
    assert!(matches!(
        rekor::verify_bundle(&set, &other, &expected),
        Err(RekorError::UnknownLog(_))
    ));
    assert!(matches!(
        rekor::verify_bundle("", &keys, &expected),
        Err(RekorError::Invalid(_))
    ));
    assert!(matches!(
        rekor::verify_bundle("invalid signature", &keys, &expected),
        Err(RekorError::Invalid(_))
    ));
    // The same SET re-signed by nobody: flip a byte of the SET signature.
    let mut tampered: Value = serde_json::from_str(&set).unwrap();
    let s = tampered["SignedEntryTimestamp"]
        .as_str()
        .unwrap()
        .to_string();
    let mut raw = base64::engine::general_purpose::STANDARD
        .decode(&s)
        .unwrap();
    let n = raw.len();
    raw[n - 2] ^= 1;
    tampered["SignedEntryTimestamp"] =
        Value::String(base64::engine::general_purpose::STANDARD.encode(raw));
    assert!(rekor::verify_bundle(&tampered.to_string(), &keys, &expected).is_err());
}

#[test]
fn rsa_key_refused_as_rekor_key() {
    let rsa =
        String::from_utf8(common::bytes("containers-image/fixtures/some-rsa-key.pub")).unwrap();
    let cosign = String::from_utf8(common::bytes("containers-image/fixtures/cosign.pub")).unwrap();
    let ind = |s: &str, n: usize| {
        s.lines()
            .map(|l| format!("{}{l}\n", " ".repeat(n)))
            .collect::<String>()
    };
    let policy = format!(
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: p\nspec:\n  rules:\n  - name: r\n    match:\n      any:\n      - resources:\n          kinds: [Pod]\n    verifyImages:\n    - failureAction: Enforce\n      imageReferences: ['*']\n      attestors:\n      - entries:\n        - keys:\n            publicKeys: |-\n{}            rekor:\n              pubkey: |-\n{}",
        ind(&cosign, 14),
        ind(&rsa, 16)
    );
    let err = imgverify::Engine::compile("rsa-rekor.yaml", &policy)
        .expect_err("RSA Rekor key must be refused");
    let msg = err.to_string();
    assert!(
        msg.contains("a Rekor key must be ECDSA or Ed25519, not RSA"),
        "{msg}"
    );
    assert!(
        msg.contains("spec.rules[0].verifyImages[0].attestors[0].entries[0].keys.rekor.pubkey"),
        "{msg}"
    );
}

#[test]
fn sigstore_rs_simple_signing() {
    let v = common::json("sigstore-rs/inline-vectors.json");
    let keys = &v["keys"];
    let mut ran = 0;
    for c in v["simple_signing_vectors"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        let key_pem = keys[c["key"].as_str().unwrap()]
            .as_str()
            .or_else(|| keys[c["key"].as_str().unwrap()]["pem"].as_str())
            .unwrap();
        let k = PublicKey::from_pem(key_pem).unwrap_or_else(|e| panic!("{id}: {e}"));
        let payload = c["payload"].as_str().unwrap().as_bytes();
        let digest = SimpleSigning::parse(payload)
            .map(|p| p.manifest_digest)
            .unwrap_or_else(|_| Digest::sha256_of(b"unused"));
        let annotations = BTreeMap::from([(
            ANNOTATION_SIGNATURE.to_string(),
            c["signature_b64"].as_str().unwrap().to_string(),
        )]);
        let check = KeyCheck {
            key: &k,
            hash: HashAlgorithm::Sha256,
            tlog_keys: None,
        };
        let r = verify_layer(payload, &annotations, &digest, &check);
        match c["expect"].as_str().unwrap() {
            "pass" => {
                let v = r.unwrap_or_else(|e| panic!("{id}: {e}"));
                if let Some(d) = c["manifest_digest"].as_str() {
                    assert_eq!(v.payload.manifest_digest.to_string(), d);
                }
            }
            _ => {
                let e = r.expect_err(id);
                let want_b64 = c["expected_error"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("Base64");
                if want_b64 {
                    assert_eq!(e, SignatureError::SignatureEncoding, "{id}");
                } else {
                    assert!(matches!(e, SignatureError::Crypto(_)), "{id}: {e}");
                }
            }
        }
        ran += 1;
    }
    assert_eq!(ran, 5);
}

/// Every certificate of a PEM file (or text) as its own trust anchor, as a
/// policy's `roots` are.
fn anchors(pem: &str) -> Vec<Authority> {
    Certificate::from_pem_chain(pem)
        .unwrap()
        .into_iter()
        .map(Authority::anchor)
        .collect()
}

fn text(rel: &str) -> String {
    String::from_utf8(common::bytes(rel)).unwrap()
}

/// A certificate-based case (`fulcio` or `pki`), decided by
/// `keyless::verify_layer`: Fulcio leaves need a Rekor SET for their signing
/// time (no request time is given) and their SCT verifies against the
/// public-good CT logs; BYO PKI has no log and is checked at a request time
/// inside its validity.
fn run_certificate_case(c: &Value) -> Outcome {
    let kr = &c["key_or_roots"];
    let manifest = common::bytes(c["manifest"].as_str().unwrap());
    let digest = Digest::sha256_of(&manifest);
    let mut sig = read_sig(c["signatures"][0].as_str().unwrap());
    let own_chain = sig
        .annotations
        .get(ANNOTATION_CHAIN)
        .cloned()
        .unwrap_or_default();
    if let Some(m) = c["mutation"].as_str() {
        apply_mutation(&mut sig, m);
    }
    let rekor_keys: Option<Vec<LogKey>> = kr["rekor_keys"].as_array().map(|a| {
        a.iter()
            .map(|k| LogKey::from_key(Arc::new(key(k.as_str().unwrap()))).unwrap())
            .collect()
    });
    let public_good = TrustedRoot::public_good().unwrap();
    let (authorities, identities, ctlogs, now, extra) = if let Some(f) = kr.get("fulcio") {
        let roots = match &f["ca"] {
            Value::Array(files) => files
                .iter()
                .map(|f| text(f.as_str().unwrap()))
                .collect::<String>(),
            _ => own_chain,
        };
        let identity = IdentityPolicy::compile(
            f["subject_email"].as_str(),
            None,
            f["oidc_issuer"].as_str(),
            None,
            &BTreeMap::new(),
        )
        .unwrap();
        (
            anchors(&roots),
            vec![identity],
            Some(public_good.ctlogs.clone()),
            None,
            None,
        )
    } else {
        let p = &kr["pki"];
        let roots: String = p["roots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| text(f.as_str().unwrap()))
            .collect();
        let intermediates: Option<String> = p["intermediates"]
            .as_array()
            .map(|a| a.iter().map(|f| text(f.as_str().unwrap())).collect());
        // Both the email and the hostname must be among the SANs.
        let identities = ["subject_email", "subject_hostname"]
            .iter()
            .map(|k| {
                IdentityPolicy::compile(p[*k].as_str(), None, None, None, &BTreeMap::new()).unwrap()
            })
            .collect();
        // 2025-01-01, inside the PKI's validity.
        (
            anchors(&roots),
            identities,
            None,
            Some(1_735_689_600),
            intermediates,
        )
    };
    let mut authorities = authorities;
    if let Some(pem) = extra {
        // Configured intermediates lead to the roots; they are not anchors.
        let intermediates = Certificate::from_pem_chain(&pem).unwrap();
        for a in &mut authorities {
            let anchor = a.chain.remove(0);
            a.chain = intermediates.iter().cloned().chain([anchor]).collect();
        }
    }
    for identity in &identities {
        let check = CertificateCheck {
            pinned: None,
            authorities: Some(&authorities),
            tlog_keys: rekor_keys.as_deref(),
            ctlog_keys: ctlogs.as_deref(),
            identity,
            now,
            timestamp_authorities: None,
        };
        if let Err(e) = keyless::verify_layer(&sig.payload, &sig.annotations, &digest, &check) {
            return Outcome::Fail(e.to_string());
        }
    }
    Outcome::Pass
}

fn expected_certificate_reason(case: &str) -> &'static str {
    match case {
        "fulcio-no-rekor-requirement" => "no trusted signing time",
        "fulcio-missing-SET" => "no Rekor bundle",
        "fulcio-missing-certificate" | "pki-missing-certificate" => {
            "signing certificate annotation"
        }
        "fulcio-missing-chain" | "pki-missing-chain-no-intermediates" => "no trusted issuer",
        "fulcio-invalid-certificate" => "malformed certificate",
        "fulcio-email-mismatch" => "subject mismatch",
        "fulcio-invalid-SET" => "invalid Rekor bundle",
        "fulcio-wrong-rekor-key" => "no trusted Rekor key",
        other => panic!("no stated reason for failing case {other}"),
    }
}

#[test]
fn containers_image_certificate_cases() {
    let v = common::json("containers-image/cases.json");
    let mut ran = 0;
    for c in v["cases"].as_array().unwrap() {
        let name = c["case"].as_str().unwrap();
        // containers-policy.json's own rules on combining trust kinds have no
        // Kyverno counterpart (an attestor entry holds one kind, checked when
        // the policy compiles).
        if !(name.starts_with("fulcio") || name.starts_with("pki")) {
            continue;
        }
        match (c["expect"].as_str().unwrap(), run_certificate_case(c)) {
            ("pass", Outcome::Pass) => {}
            ("fail", Outcome::Fail(reason)) => {
                let want = expected_certificate_reason(name.split(' ').next().unwrap());
                assert!(
                    reason.contains(want),
                    "{name}: failed for {reason:?}, expected {want:?}"
                );
            }
            (e, o) => panic!("{name}: expected {e}, got {o:?}"),
        }
        ran += 1;
    }
    assert_eq!(ran, 16, "certificate cases run");
}
