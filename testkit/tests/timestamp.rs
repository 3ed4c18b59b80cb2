//! RFC 3161 timestamp tokens made by the testkit: the CMS structure
//! decoded with the `cms` types and the signature checked with imgverify's
//! keys; attaching them to envelopes. imgverify verifies them end to end in
//! `tests/notary_timestamps.rs` (the root crate).

mod common;

use common::{NOW, SIGNED_AT, target};
use der::asn1::{GeneralizedTime, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Sequence};
use imgverify::crypto::{HashAlgorithm, PublicKey};
use imgverify_testkit::{
    CertBuilder, Format, HashAlg, Key, KeyKind, Pki, SignRequest, Timestamp, inspect, sign_cose,
    sign_jws, timestamp_envelope, timestamp_token, with_timestamp,
};
use spki::AlgorithmIdentifierOwned;
use x509_cert::serial_number::SerialNumber;

use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{SignedData, SignerIdentifier};

#[derive(Sequence)]
struct MessageImprint {
    hash_algorithm: AlgorithmIdentifierOwned,
    hashed_message: OctetString,
}

#[derive(Sequence)]
struct Accuracy {
    #[asn1(optional = "true")]
    seconds: Option<u32>,
}

#[derive(Sequence)]
struct TstInfo {
    version: u8,
    policy: ObjectIdentifier,
    message_imprint: MessageImprint,
    serial_number: SerialNumber,
    gen_time: GeneralizedTime,
    #[asn1(optional = "true")]
    accuracy: Option<Accuracy>,
}

const ID_CT_TST_INFO: &str = "1.2.840.113549.1.9.16.1.4";
const SIGNING_CERTIFICATE_V2: &str = "1.2.840.113549.1.9.16.2.47";

fn signed_data(token: &[u8]) -> SignedData {
    let ci = ContentInfo::from_der(token).expect("ContentInfo");
    assert_eq!(ci.content_type.to_string(), "1.2.840.113549.1.7.2");
    ci.content.decode_as::<SignedData>().expect("SignedData")
}

fn tst_info(sd: &SignedData) -> (Vec<u8>, TstInfo) {
    let econtent = sd.encap_content_info.econtent.as_ref().expect("eContent");
    let der = econtent
        .decode_as::<OctetString>()
        .expect("OCTET STRING")
        .into_bytes();
    let info = TstInfo::from_der(&der).expect("TSTInfo");
    (der.into_vec(), info)
}

/// Checks the token's CMS structure and signature; returns its TSTInfo.
fn check_token(token: &[u8], tsa: &Pki, message: &[u8], hash: HashAlg) -> TstInfo {
    let sd = signed_data(token);
    assert_eq!(sd.version, CmsVersion::V3);
    assert_eq!(
        sd.encap_content_info.econtent_type.to_string(),
        ID_CT_TST_INFO
    );
    let (tst_der, info) = tst_info(&sd);
    assert_eq!(info.version, 1);
    assert_eq!(
        info.message_imprint.hash_algorithm.oid,
        hash.algorithm_identifier().oid
    );
    assert_eq!(
        info.message_imprint.hashed_message.as_bytes(),
        hash.digest(message)
    );
    let certs: Vec<Vec<u8>> = sd
        .certificates
        .as_ref()
        .expect("certificates")
        .0
        .iter()
        .map(|c| c.to_der().unwrap())
        .collect();
    let mut chain = tsa.chain();
    chain.sort();
    let mut got = certs.clone();
    got.sort();
    assert_eq!(got, chain, "the TSA chain");

    let [si] = sd.signer_infos.0.as_slice() else {
        panic!("one SignerInfo")
    };
    assert_eq!(si.version, CmsVersion::V1);
    let tsa_cert = x509_cert::Certificate::from_der(&tsa.leaf).unwrap();
    match &si.sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            assert_eq!(&isn.issuer, tsa_cert.tbs_certificate().issuer());
            assert_eq!(
                &isn.serial_number,
                tsa_cert.tbs_certificate().serial_number()
            );
        }
        other => panic!("{other:?}"),
    }
    let attrs = si.signed_attrs.as_ref().expect("signed attributes");
    let attr = |oid: &str| {
        attrs
            .iter()
            .find(|a| a.oid.to_string() == oid)
            .unwrap_or_else(|| panic!("attribute {oid}"))
            .values
            .get(0)
            .unwrap()
            .clone()
    };
    assert_eq!(
        attr("1.2.840.113549.1.9.3")
            .decode_as::<ObjectIdentifier>()
            .unwrap()
            .to_string(),
        ID_CT_TST_INFO
    );
    assert_eq!(
        attr("1.2.840.113549.1.9.4")
            .decode_as::<OctetString>()
            .unwrap()
            .as_bytes(),
        HashAlg::Sha256.digest(&tst_der)
    );
    // signing-certificate-v2: SEQUENCE { SEQUENCE OF ESSCertIDv2 { certHash,
    // issuerSerial } } with the TSA certificate's SHA-256 first.
    let scv2 = attr(SIGNING_CERTIFICATE_V2).to_der().unwrap();
    let cert_hash = HashAlg::Sha256.digest(&tsa.leaf);
    assert!(
        scv2.windows(cert_hash.len()).any(|w| w == cert_hash),
        "ESSCertIDv2 names the TSA certificate"
    );
    // The signature covers the DER SET OF the signed attributes.
    let key = PublicKey::from_spki_der(&tsa.leaf_key.spki_der()).unwrap();
    let signed = attrs.to_der().unwrap();
    let sig = si.signature.as_bytes();
    match tsa.leaf_key.kind() {
        k if k.is_rsa() => {
            assert_eq!(
                si.signature_algorithm.oid.to_string(),
                "1.2.840.113549.1.1.11"
            );
            key.verify_rsa_pkcs1v15(HashAlgorithm::Sha256, &signed, sig)
        }
        _ => {
            assert_eq!(
                si.signature_algorithm.oid.to_string(),
                "1.2.840.10045.4.3.2"
            );
            key.verify_ecdsa_der(HashAlgorithm::Sha256, &signed, sig)
        }
    }
    .expect("the SignerInfo signature verifies");
    info
}

#[test]
fn token_is_an_rfc3161_timestamp_token() {
    for kind in [KeyKind::P256, KeyKind::Rsa2048] {
        let tsa = Pki::tsa(kind, "tsa");
        let token = timestamp_token(
            &tsa.leaf_key,
            &tsa.chain(),
            b"raw signature",
            HashAlg::Sha384,
            SIGNED_AT + 5,
            Some(2),
        );
        let info = check_token(&token, &tsa, b"raw signature", HashAlg::Sha384);
        assert_eq!(
            info.gen_time.to_unix_duration().as_secs(),
            (SIGNED_AT + 5) as u64
        );
        assert_eq!(info.accuracy.and_then(|a| a.seconds), Some(2));
        assert_eq!(
            info.policy.to_string(),
            imgverify_testkit::timestamp::TEST_POLICY
        );
        // Deterministic.
        assert_eq!(
            token,
            timestamp_token(
                &tsa.leaf_key,
                &tsa.chain(),
                b"raw signature",
                HashAlg::Sha384,
                SIGNED_AT + 5,
                Some(2),
            )
        );
    }
}

#[test]
fn knobs_break_the_token() {
    let tsa = Pki::tsa(KeyKind::P256, "tsa");
    let base = Timestamp::new(SIGNED_AT, HashAlg::Sha256);

    let no_certs = Timestamp {
        omit_certificates: true,
        ..base.clone()
    }
    .token(&tsa.leaf_key, &tsa.chain(), b"sig");
    assert!(signed_data(&no_certs).certificates.is_none());

    let wrong = Timestamp {
        wrong_imprint: true,
        ..base.clone()
    }
    .token(&tsa.leaf_key, &tsa.chain(), b"sig");
    let (_, info) = tst_info(&signed_data(&wrong));
    assert_ne!(
        info.message_imprint.hashed_message.as_bytes(),
        HashAlg::Sha256.digest(b"sig")
    );

    let no_scv2 = Timestamp {
        omit_signing_certificate: true,
        ..base.clone()
    }
    .token(&tsa.leaf_key, &tsa.chain(), b"sig");
    let sd = signed_data(&no_scv2);
    let attrs = sd
        .signer_infos
        .0
        .get(0)
        .unwrap()
        .signed_attrs
        .clone()
        .unwrap();
    assert_eq!(attrs.len(), 2);
    assert!(
        attrs
            .iter()
            .all(|a| a.oid.to_string() != SIGNING_CERTIFICATE_V2)
    );

    let no_accuracy = Timestamp {
        accuracy_secs: None,
        ..base
    }
    .token(&tsa.leaf_key, &tsa.chain(), b"sig");
    assert!(tst_info(&signed_data(&no_accuracy)).1.accuracy.is_none());
}

#[test]
fn timestamps_attach_without_touching_what_is_signed() {
    let pki = Pki::code_signing(KeyKind::Rsa2048, "timestamped");
    let tsa = Pki::tsa(KeyKind::P256, "tsa");
    let req = SignRequest::new(target(), SIGNED_AT);
    for (format, envelope) in [
        (Format::Jws, sign_jws(&req, &pki.leaf_key, &pki.chain())),
        (Format::Cose, sign_cose(&req, &pki.leaf_key, &pki.chain())),
    ] {
        let ts = Timestamp::new(SIGNED_AT + 5, HashAlg::Sha512);
        let stamped = timestamp_envelope(format, &envelope, &tsa.leaf_key, &tsa.chain(), &ts);
        let (before, after) = (inspect(format, &envelope), inspect(format, &stamped));
        assert_eq!(before.timestamp_token, None);
        let token = after.timestamp_token.clone().expect("a token");
        assert_eq!(
            EnvelopeParts::of(format, &envelope),
            EnvelopeParts::of(format, &stamped),
            "{format:?}: signed parts unchanged"
        );
        // The imprint is the envelope algorithm's hash (PS256: SHA-256) of
        // the raw signature, whatever the Timestamp said.
        check_token(&token, &tsa, &before.signature, HashAlg::Sha256);
        // Attaching again replaces the token.
        let other = timestamp_token(
            &tsa.leaf_key,
            &tsa.chain(),
            &before.signature,
            HashAlg::Sha256,
            SIGNED_AT + 9,
            None,
        );
        let restamped = with_timestamp(format, &stamped, &other);
        assert_eq!(inspect(format, &restamped).timestamp_token, Some(other));
    }
}

/// What a signature covers, per format (and the chain).
#[derive(Debug, PartialEq)]
struct EnvelopeParts(Vec<Vec<u8>>);

impl EnvelopeParts {
    fn of(format: Format, envelope: &[u8]) -> Self {
        let info = inspect(format, envelope);
        match format {
            Format::Jws => {
                let v: serde_json::Value = serde_json::from_slice(envelope).unwrap();
                EnvelopeParts(vec![
                    v["protected"].as_str().unwrap().into(),
                    v["payload"].as_str().unwrap().into(),
                    info.signature,
                    info.certificates.concat(),
                ])
            }
            Format::Cose => EnvelopeParts(vec![
                info.payload,
                info.signature,
                info.certificates.concat(),
            ]),
        }
    }
}

/// A signer whose certificate lasts an hour from [`SIGNED_AT`] — expired
/// by [`NOW`] — and a TSA that countersigned at `SIGNED_AT + 5`.
fn expired_signer_with_timestamp(format: Format, ts: Timestamp) -> (Vec<u8>, Vec<u8>, Pki) {
    let key = Key::derive(KeyKind::P256, "expired signer");
    let cert = CertBuilder::code_signing(
        &Pki::subject("expired signer"),
        SIGNED_AT - 60,
        SIGNED_AT + 3600,
    )
    .self_signed(&key);
    let tsa = Pki::tsa(KeyKind::P256, "tsa");
    let req = SignRequest::new(target(), SIGNED_AT);
    let chain = std::slice::from_ref(&cert);
    let envelope = match format {
        Format::Jws => sign_jws(&req, &key, chain),
        Format::Cose => sign_cose(&req, &key, chain),
    };
    let stamped = timestamp_envelope(format, &envelope, &tsa.leaf_key, &tsa.chain(), &ts);
    (stamped, cert, tsa)
}

fn verify_with_tsa(
    format: Format,
    envelope: &[u8],
    cert: &[u8],
    tsa: &Pki,
) -> Result<imgverify::notary::verify::Verified, imgverify::notary::NotaryError> {
    use imgverify::crypto::x509::Certificate;
    use imgverify::notary::trust::{StoreType, TrustStores};
    let mut stores = TrustStores::new();
    stores.add(
        StoreType::Ca,
        "test",
        vec![Certificate::from_der(cert).unwrap()],
    );
    stores.add(
        StoreType::Tsa,
        "test",
        vec![Certificate::from_der(&tsa.root).unwrap()],
    );
    let policy = common::policy("strict", &["ca:test", "tsa:test"], "*");
    let format = match format {
        Format::Jws => imgverify::notary::EnvelopeFormat::Jws,
        Format::Cose => imgverify::notary::EnvelopeFormat::Cose,
    };
    imgverify::notary::verify::verify_envelope(
        format,
        envelope,
        &common::imgverify_target(),
        &policy,
        &stores,
        &[],
        NOW,
    )
}

#[test]
fn without_a_timestamp_the_expired_signer_fails() {
    let (stamped, cert, _) =
        expired_signer_with_timestamp(Format::Jws, Timestamp::new(SIGNED_AT + 5, HashAlg::Sha256));
    // Without a tsa store the timestamp is not used: the certificate has expired.
    let e = common::verify_jws(&stamped, &[&cert], &common::strict("*")).unwrap_err();
    assert!(e.to_string().contains("it was expired at"), "{e}");
}

#[test]
fn timestamp_vouches_for_an_expired_signer() {
    let (stamped, cert, tsa) =
        expired_signer_with_timestamp(Format::Jws, Timestamp::new(SIGNED_AT + 5, HashAlg::Sha256));
    let verified = verify_with_tsa(Format::Jws, &stamped, &cert, &tsa).expect("verifies");
    assert!(verified.logged.is_empty(), "{:?}", verified.logged);
    let (earliest, latest) = verified.timestamp.expect("a verified timestamp");
    assert!(earliest <= SIGNED_AT + 5 && SIGNED_AT + 5 <= latest);
}

#[test]
fn broken_timestamps_fail() {
    use imgverify::notary::NotaryError;
    let base = Timestamp::new(SIGNED_AT + 5, HashAlg::Sha256);
    // The same signature with a good token verifies.
    let (stamped, cert, tsa) = expired_signer_with_timestamp(Format::Jws, base.clone());
    verify_with_tsa(Format::Jws, &stamped, &cert, &tsa).expect("a good token verifies");
    let cases = [
        (
            "wrong imprint",
            Timestamp {
                wrong_imprint: true,
                ..base.clone()
            },
        ),
        (
            "no certificates",
            Timestamp {
                omit_certificates: true,
                ..base.clone()
            },
        ),
        (
            "no signing-certificate-v2",
            Timestamp {
                omit_signing_certificate: true,
                ..base.clone()
            },
        ),
        // After the signer's certificate expired.
        (
            "after expiry",
            Timestamp {
                gen_time: SIGNED_AT + 7200,
                ..base.clone()
            },
        ),
    ];
    for (name, ts) in cases {
        let (stamped, cert, tsa) = expired_signer_with_timestamp(Format::Jws, ts);
        let e = verify_with_tsa(Format::Jws, &stamped, &cert, &tsa).unwrap_err();
        assert!(
            matches!(e, NotaryError::AuthenticTimestamp(_)),
            "{name}: {e}"
        );
    }
}

#[test]
fn timestamped_cose_verifies() {
    let (stamped, cert, tsa) =
        expired_signer_with_timestamp(Format::Cose, Timestamp::new(SIGNED_AT + 5, HashAlg::Sha256));
    verify_with_tsa(Format::Cose, &stamped, &cert, &tsa).expect("verifies");
}
