//! COSE_Sign1 envelopes made by the testkit: the exact protected header
//! notation-core-go writes, the structure, and signatures checked over the
//! rebuilt Sig_structure with imgverify's signature check. End-to-end
//! verification waits for imgverify's COSE decoder (`src/notary/cose.rs`).

mod common;

use common::{SIGNED_AT, strict, target};
use imgverify::crypto::x509::Certificate;
use imgverify::notary::envelope::Algorithm;
use imgverify_testkit::{Format, Key, KeyKind, Pki, Scheme, SignRequest, inspect, sign_cose};
use minicbor::Decoder;
use minicbor::data::Type;

/// The parts of a COSE_Sign1_Tagged.
struct Sign1<'a> {
    protected: &'a [u8],
    unprotected: Vec<(String, Vec<Vec<u8>>, Option<String>)>,
    payload: &'a [u8],
    signature: &'a [u8],
}

/// Decodes a COSE_Sign1_Tagged; each unprotected entry as (label, bstrs in
/// an array, text).
fn decode(envelope: &[u8]) -> Sign1<'_> {
    let mut d = Decoder::new(envelope);
    assert_eq!(d.tag().unwrap().as_u64(), 18);
    assert_eq!(d.array().unwrap(), Some(4));
    let protected = d.bytes().unwrap();
    let n = d.map().unwrap().unwrap();
    let mut unprotected = Vec::new();
    for _ in 0..n {
        let label = match d.datatype().unwrap() {
            Type::String => d.str().unwrap().to_string(),
            _ => d.i64().unwrap().to_string(),
        };
        let value = match d.datatype().unwrap() {
            Type::Array => {
                let len = d.array().unwrap().unwrap();
                let certs = (0..len).map(|_| d.bytes().unwrap().to_vec()).collect();
                (certs, None)
            }
            Type::Bytes => (vec![d.bytes().unwrap().to_vec()], None),
            _ => (Vec::new(), Some(d.str().unwrap().to_string())),
        };
        unprotected.push((label, value.0, value.1));
    }
    let payload = d.bytes().unwrap();
    let signature = d.bytes().unwrap();
    assert_eq!(d.position(), envelope.len(), "nothing after the COSE_Sign1");
    Sign1 {
        protected,
        unprotected,
        payload,
        signature,
    }
}

/// The CBOR of `["Signature1", protected, h'', payload]`.
fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut e = minicbor::Encoder::new(Vec::new());
    e.array(4)
        .unwrap()
        .str("Signature1")
        .unwrap()
        .bytes(protected)
        .unwrap()
        .bytes(&[])
        .unwrap()
        .bytes(payload)
        .unwrap();
    e.into_writer()
}

fn algorithm(kind: KeyKind) -> Algorithm {
    Algorithm::from_cose(kind.cose_alg()).unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn protected_header_is_byte_for_byte_notations() {
    // notation-core-go signature/cose/testdata/conformance.json (Apache-2.0):
    // PS384, signingTime 1661321924, expiry 1661408324, extended attributes
    // signedKey1 and critical signedCritKey1.
    let expected = hex(concat!(
        "A80138250283781C696F2E636E63662E6E6F746172792E7369676E696E67536368656D",
        "6575696F2E636E63662E6E6F746172792E6578706972796E7369676E6564437269744B",
        "65793103782B6170706C69636174696F6E2F766E642E636E63662E6E6F746172792E70",
        "61796C6F61642E76312B6A736F6E6A7369676E65644B6579316C7369676E656456616C",
        "7565316E7369676E6564437269744B657931707369676E65644372697456616C756531",
        "75696F2E636E63662E6E6F746172792E657870697279C11A63071444781A696F2E636E",
        "63662E6E6F746172792E7369676E696E6754696D65C11A6305C2C4781C696F2E636E63",
        "662E6E6F746172792E7369676E696E67536368656D656B6E6F746172792E78353039",
    ));
    let key = Key::derive(KeyKind::Rsa3072, "conformance");
    let req = SignRequest::new(target(), 1_661_321_924)
        .expiry(1_661_408_324)
        .header("signedKey1", "signedValue1".into(), false)
        .header("signedCritKey1", "signedCritValue1".into(), true);
    let envelope = sign_cose(&req, &key, &[]);
    assert_eq!(decode(&envelope).protected, expected.as_slice());
}

#[test]
fn envelope_has_notations_structure() {
    let pki = Pki::code_signing(KeyKind::P256, "cose p256");
    let envelope = sign_cose(
        &SignRequest::new(target(), SIGNED_AT),
        &pki.leaf_key,
        &pki.chain(),
    );
    assert_eq!(&envelope[..2], &[0xd2, 0x84], "tag 18, array of 4");
    let s = decode(&envelope);
    // Unprotected: x5chain (33) as an array of bstr, then the signing agent.
    assert_eq!(s.unprotected.len(), 2);
    assert_eq!(s.unprotected[0].0, "33");
    assert_eq!(s.unprotected[0].1, pki.chain());
    assert_eq!(s.unprotected[1].0, "io.cncf.notary.signingAgent");
    assert!(
        s.unprotected[1]
            .2
            .as_deref()
            .unwrap()
            .starts_with("imgverify-testkit/")
    );
    // The payload keeps the Go descriptor's field order.
    let t = target();
    assert_eq!(
        std::str::from_utf8(s.payload).unwrap(),
        format!(
            r#"{{"targetArtifact":{{"mediaType":"{}","digest":"{}","size":{}}}}}"#,
            t.media_type, t.digest, t.size
        )
    );
    // Protected: alg, crit, cty, then the Notary labels with tag-1 times.
    let mut d = Decoder::new(s.protected);
    assert_eq!(d.map().unwrap(), Some(5));
    assert_eq!((d.u8().unwrap(), d.i64().unwrap()), (1, -7));
    assert_eq!(d.u8().unwrap(), 2);
    assert_eq!(d.array().unwrap(), Some(1));
    assert_eq!(d.str().unwrap(), "io.cncf.notary.signingScheme");
    assert_eq!(d.u8().unwrap(), 3);
    assert_eq!(
        d.str().unwrap(),
        "application/vnd.cncf.notary.payload.v1+json"
    );
    assert_eq!(d.str().unwrap(), "io.cncf.notary.signingTime");
    assert_eq!(d.tag().unwrap().as_u64(), 1);
    assert_eq!(d.i64().unwrap(), SIGNED_AT);
    assert_eq!(d.str().unwrap(), "io.cncf.notary.signingScheme");
    assert_eq!(d.str().unwrap(), "notary.x509");
    // inspect reads it back.
    let info = inspect(Format::Cose, &envelope);
    assert_eq!(info.algorithm, KeyKind::P256);
    assert_eq!(info.certificates, pki.chain());
    assert_eq!(info.signature, s.signature);
    assert_eq!(info.signing_time.as_deref(), Some("2025-06-01T00:00:00Z"));
}

#[test]
fn signing_authority_and_expiry_are_critical() {
    let pki = Pki::code_signing(KeyKind::P256, "cose p256");
    let req = SignRequest::new(target(), SIGNED_AT)
        .scheme(Scheme::SigningAuthority)
        .expiry(SIGNED_AT + 3600)
        .header("com.example.crit", 7.into(), true);
    let envelope = sign_cose(&req, &pki.leaf_key, &pki.chain());
    let s = decode(&envelope);
    let mut d = Decoder::new(s.protected);
    d.map().unwrap();
    d.skip().unwrap();
    d.skip().unwrap();
    assert_eq!(d.u8().unwrap(), 2);
    let crit: Vec<&str> = (0..d.array().unwrap().unwrap())
        .map(|_| d.str().unwrap())
        .collect();
    assert_eq!(
        crit,
        [
            "io.cncf.notary.signingScheme",
            "io.cncf.notary.authenticSigningTime",
            "io.cncf.notary.expiry",
            "com.example.crit"
        ]
    );
}

#[test]
fn signature_covers_the_sig_structure_for_every_key_kind() {
    for kind in KeyKind::ALL {
        // One key per kind (RSA-4096 keys take a second to make in debug).
        let key = Key::derive(kind, "cose kinds");
        let cert = imgverify_testkit::CertBuilder::code_signing(
            &Pki::subject("cose kinds"),
            imgverify_testkit::NOT_BEFORE,
            imgverify_testkit::NOT_AFTER,
        )
        .self_signed(&key);
        let envelope = sign_cose(
            &SignRequest::new(target(), SIGNED_AT),
            &key,
            std::slice::from_ref(&cert),
        );
        let s = decode(&envelope);
        let leaf = Certificate::from_der(&cert).unwrap();
        imgverify::notary::chain::verify_signature(
            &leaf,
            algorithm(kind),
            &sig_structure(s.protected, s.payload),
            s.signature,
        )
        .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
    }
}

#[test]
fn cose_envelopes_verify_end_to_end() {
    use imgverify::notary::EnvelopeFormat;
    use imgverify::notary::trust::StoreType;
    for kind in [KeyKind::P256, KeyKind::Rsa3072] {
        let pki = Pki::code_signing(kind, "cose e2e");
        let envelope = sign_cose(
            &SignRequest::new(target(), SIGNED_AT).expiry(common::NOW + 3600),
            &pki.leaf_key,
            &pki.chain(),
        );
        let verified = imgverify::notary::verify::verify_envelope(
            EnvelopeFormat::Cose,
            &envelope,
            &common::imgverify_target(),
            &strict("*"),
            &common::stores(StoreType::Ca, &[&pki.root]),
            &[],
            common::NOW,
        )
        .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert!(
            verified.logged.is_empty(),
            "{kind:?}: {:?}",
            verified.logged
        );
    }
}

#[test]
fn cose_unknown_critical_header_fails_end_to_end() {
    use imgverify::notary::trust::StoreType;
    use imgverify::notary::{EnvelopeFormat, NotaryError};
    let pki = Pki::code_signing(KeyKind::P256, "cose e2e");
    let req = SignRequest::new(target(), SIGNED_AT).header("com.example.k", "v".into(), true);
    let e = imgverify::notary::verify::verify_envelope(
        EnvelopeFormat::Cose,
        &sign_cose(&req, &pki.leaf_key, &pki.chain()),
        &common::imgverify_target(),
        &strict("*"),
        &common::stores(StoreType::Ca, &[&pki.root]),
        &[],
        common::NOW,
    )
    .unwrap_err();
    assert!(matches!(e, NotaryError::Unsupported(_)), "{e}");
}
