//! RFC 3161 timestamp countersignatures on fresh Notary signatures: a
//! signer whose certificate has expired verifies through a trusted TSA's
//! token made while it was valid, and each way a token can be wrong fails
//! the authentic-timestamp step for its reason. Signatures, chains and
//! tokens come from the testkit (JWS and COSE; P-256, P-384 and RSA TSAs).

use imgverify::crypto::x509::Certificate;
use imgverify::notary::trust::{StoreType, TrustPolicy, TrustStores};
use imgverify::notary::verify::{Target, Verified, verify_envelope};
use imgverify::notary::{EnvelopeFormat, NotaryError};
use imgverify_testkit::{
    CertBuilder, Descriptor, Format, HashAlg, Key, KeyKind, Pki, SignRequest, Timestamp, sign_cose,
    sign_jws, timestamp_envelope, unix,
};

const MANIFEST: &[u8] = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;

fn signed_at() -> i64 {
    unix(2025, 6, 1, 0, 0, 0)
}

fn now() -> i64 {
    unix(2026, 12, 1, 0, 0, 0)
}

fn descriptor() -> Descriptor {
    Descriptor::for_content("application/vnd.oci.image.manifest.v1+json", MANIFEST)
}

fn target() -> Target {
    let d = descriptor();
    Target {
        media_type: d.media_type,
        digest: d.digest,
        size: d.size,
    }
}

/// A signer under `pki`'s intermediate whose certificate was valid for a
/// day around the signing time: long expired at [`now`].
fn short_lived(pki: &Pki) -> (Key, Vec<Vec<u8>>) {
    let key = Key::derive(KeyKind::P256, "timestamps/short-lived signer");
    let leaf = CertBuilder::code_signing(
        &Pki::subject("short-lived Signer"),
        signed_at() - 43_200,
        signed_at() + 43_200,
    )
    .issued_by(&key, &pki.intermediate, &pki.intermediate_key);
    (key, vec![leaf, pki.intermediate.clone(), pki.root.clone()])
}

fn sign(format: Format, key: &Key, chain: &[Vec<u8>]) -> Vec<u8> {
    let req = SignRequest::new(descriptor(), signed_at());
    match format {
        Format::Jws => sign_jws(&req, key, chain),
        Format::Cose => sign_cose(&req, key, chain),
    }
}

fn envelope_format(format: Format) -> EnvelopeFormat {
    match format {
        Format::Jws => EnvelopeFormat::Jws,
        Format::Cose => EnvelopeFormat::Cose,
    }
}

/// Kyverno's trust policy (`ca:kyverno`, and `tsa:kyverno` when `tsa_roots`
/// is given) at [`now`].
fn verify(
    format: Format,
    envelope: &[u8],
    ca_root: &[u8],
    tsa_roots: Option<&[&[u8]]>,
) -> Result<Verified, NotaryError> {
    let mut stores = TrustStores::new();
    let cert = |der: &[u8]| Certificate::from_der(der).expect("a certificate");
    stores.add(StoreType::Ca, "kyverno", vec![cert(ca_root)]);
    if let Some(roots) = tsa_roots {
        stores.add(
            StoreType::Tsa,
            "kyverno",
            roots.iter().map(|r| cert(r)).collect(),
        );
    }
    verify_envelope(
        envelope_format(format),
        envelope,
        &target(),
        &TrustPolicy::kyverno(tsa_roots.is_some()),
        &stores,
        &[],
        now(),
    )
}

/// `result` failed the authentic-timestamp step with `needle` in its message.
fn timestamp_fails(result: Result<Verified, NotaryError>, needle: &str, case: &str) {
    match result {
        Err(NotaryError::AuthenticTimestamp(m)) => {
            assert!(m.contains(needle), "{case}: {m:?} lacks {needle:?}");
        }
        other => panic!("{case}: expected an authentic-timestamp failure, got {other:?}"),
    }
}

const FORMATS: [Format; 2] = [Format::Jws, Format::Cose];

#[test]
fn an_expired_signer_verifies_at_a_trusted_timestamp() {
    let pki = Pki::code_signing(KeyKind::P256, "timestamps");
    let (key, chain) = short_lived(&pki);
    for tsa_kind in [KeyKind::P256, KeyKind::P384, KeyKind::Rsa2048] {
        let tsa = Pki::tsa(tsa_kind, "timestamps tsa");
        for format in FORMATS {
            let case = format!("{format:?} with a {tsa_kind:?} TSA");
            let stamp = Timestamp::new(signed_at() + 5, HashAlg::Sha256);
            let envelope = timestamp_envelope(
                format,
                &sign(format, &key, &chain),
                &tsa.leaf_key,
                &tsa.chain(),
                &stamp,
            );
            let verified = verify(format, &envelope, &pki.root, Some(&[&tsa.root]))
                .unwrap_or_else(|e| panic!("{case}: {e}"));
            let (earliest, latest) = verified.timestamp.expect("a verified timestamp");
            assert_eq!(
                (earliest, latest),
                (signed_at() + 4, signed_at() + 6),
                "{case}"
            );
            assert_eq!(verified.target.digest, descriptor().digest, "{case}");

            // Kyverno's ClusterPolicy has no TSA store: the token is not
            // read and the chain must be valid at the request time.
            timestamp_fails(
                verify(format, &envelope, &pki.root, None),
                "validity period, it was expired at",
                &case,
            );
        }
    }
}

#[test]
fn a_valid_signer_verifies_with_and_without_a_timestamp() {
    let pki = Pki::code_signing(KeyKind::Rsa2048, "timestamps valid");
    let tsa = Pki::tsa(KeyKind::P256, "timestamps tsa");
    for format in FORMATS {
        let plain = sign(format, &pki.leaf_key, &pki.chain());
        let checked = verify(format, &plain, &pki.root, None).expect("no timestamp needed");
        assert_eq!(checked.timestamp, None);
        let stamped = timestamp_envelope(
            format,
            &plain,
            &tsa.leaf_key,
            &tsa.chain(),
            &Timestamp::new(signed_at() + 5, HashAlg::Sha256),
        );
        let checked = verify(format, &stamped, &pki.root, Some(&[&tsa.root])).expect("timestamped");
        assert!(checked.timestamp.is_some(), "{format:?}");
    }
}

#[test]
fn an_expired_signer_without_a_usable_timestamp_is_refused() {
    let pki = Pki::code_signing(KeyKind::P256, "timestamps");
    let (key, chain) = short_lived(&pki);
    let tsa = Pki::tsa(KeyKind::P256, "timestamps tsa");
    let other_tsa = Pki::tsa(KeyKind::P256, "another tsa");
    let base = Timestamp::new(signed_at() + 5, HashAlg::Sha256);
    let broken: [(&str, Timestamp, &str); 7] = [
        (
            "imprint of other bytes",
            Timestamp {
                wrong_imprint: true,
                ..base.clone()
            },
            "invalid TSTInfo: mismatched message",
        ),
        (
            "no signing-certificate-v2 attribute",
            Timestamp {
                omit_signing_certificate: true,
                ..base.clone()
            },
            "SigningCertificateV2",
        ),
        (
            "two messageDigest attributes",
            Timestamp {
                duplicate_message_digest: true,
                ..base.clone()
            },
            "more than once",
        ),
        (
            "a signer identifier naming another certificate",
            Timestamp {
                sid_names_other: true,
                ..base.clone()
            },
            "names another certificate",
        ),
        (
            "two signer infos",
            Timestamp {
                second_signer: true,
                ..base.clone()
            },
            "exactly one",
        ),
        (
            "no certificates in the token",
            Timestamp {
                omit_certificates: true,
                ..base.clone()
            },
            "signing certificate not found",
        ),
        (
            "a time after the signer expired",
            Timestamp::new(signed_at() + 86_400, HashAlg::Sha256),
            "timestamp can be after certificate \"CN=short-lived Signer",
        ),
    ];
    for format in FORMATS {
        let signed = sign(format, &key, &chain);
        let unstamped = verify(format, &signed, &pki.root, Some(&[&tsa.root]));
        timestamp_fails(unstamped, "no timestamp countersignature", "unstamped");
        for (what, stamp, needle) in &broken {
            let envelope = timestamp_envelope(format, &signed, &tsa.leaf_key, &tsa.chain(), stamp);
            let case = format!("{format:?}, {what}");
            timestamp_fails(
                verify(format, &envelope, &pki.root, Some(&[&tsa.root])),
                needle,
                &case,
            );
        }
        // A well-formed token from a TSA the policy does not trust.
        let envelope = timestamp_envelope(format, &signed, &tsa.leaf_key, &tsa.chain(), &base);
        timestamp_fails(
            verify(format, &envelope, &pki.root, Some(&[&other_tsa.root])),
            "certificate signed by unknown authority",
            &format!("{format:?}, untrusted TSA"),
        );
    }
}
