//! RFC 3161 timestamp tokens, as a TSA returns them to notation, and
//! attaching them to envelopes.
//!
//! A token is a CMS `ContentInfo` (id-signedData) whose SignedData (version
//! 3) encapsulates an id-ct-TSTInfo: `TSTInfo { version 1, policy,
//! messageImprint { hashAlgorithm, hash of the envelope's raw signature },
//! serialNumber, genTime, accuracy { seconds } }`. One SignerInfo (version
//! 1, issuer and serial) signs with SHA-256 (`ecdsa-with-SHA256` or
//! `sha256WithRSAEncryption`) the signed attributes content-type,
//! message-digest (SHA-256 of the TSTInfo DER) and signing-certificate-v2
//! (an ESSCertIDv2 with the SHA-256 of the TSA certificate and its issuer
//! and serial). `certificates` holds the TSA chain.

use der::asn1::{Any, GeneralizedTime, ObjectIdentifier, OctetString, SetOfVec};
use der::{Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};

use crate::envelope::{Format, attach_timestamp, inspect};
use crate::key::{HashAlg, Key};

const ID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
const ID_CT_TST_INFO: &str = "1.2.840.113549.1.9.16.1.4";
const ID_CONTENT_TYPE: &str = "1.2.840.113549.1.9.3";
const ID_MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";
const ID_SIGNING_CERTIFICATE_V2: &str = "1.2.840.113549.1.9.16.2.47";

/// The TSA policy [`Timestamp::new`] names (an arbitrary test OID; the
/// `2.999` example arc is not accepted by `const-oid`).
pub const TEST_POLICY: &str = "1.2.3.4.1";

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

#[derive(Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: SerialNumber,
}

/// ESSCertIDv2 with the default hash (SHA-256), so hashAlgorithm is absent.
#[derive(Sequence)]
struct EssCertIdV2 {
    cert_hash: OctetString,
    issuer_serial: IssuerSerial,
}

#[derive(Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

/// A timestamp to issue, with knobs for broken tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamp {
    /// genTime, unix seconds.
    pub gen_time: i64,
    /// accuracy.seconds; `None` omits accuracy.
    pub accuracy_secs: Option<u32>,
    /// The imprint's hash (notation asks for the signing key's hash).
    pub hash: HashAlg,
    /// The TSA policy OID.
    pub policy: String,
    /// The token's serial number.
    pub serial: u64,
    /// Leaves `certificates` out of the SignedData.
    pub omit_certificates: bool,
    /// Imprints a hash of something else than the signature.
    pub wrong_imprint: bool,
    /// Leaves the signing-certificate-v2 attribute out.
    pub omit_signing_certificate: bool,
    /// Adds a second messageDigest attribute (over other bytes), signed.
    pub duplicate_message_digest: bool,
    /// Names another serial number in the SignerInfo's identifier than
    /// signing-certificate-v2 does.
    pub sid_names_other: bool,
    /// Adds a second SignerInfo (the first with its signature changed).
    pub second_signer: bool,
}

impl Timestamp {
    /// A timestamp at `gen_time` (unix seconds), accurate to 1 s, imprinting
    /// with `hash`, under [`TEST_POLICY`].
    pub fn new(gen_time: i64, hash: HashAlg) -> Self {
        Timestamp {
            gen_time,
            accuracy_secs: Some(1),
            hash,
            policy: TEST_POLICY.into(),
            serial: 1,
            omit_certificates: false,
            wrong_imprint: false,
            omit_signing_certificate: false,
            duplicate_message_digest: false,
            sid_names_other: false,
            second_signer: false,
        }
    }

    /// The TimeStampToken (DER) over `message` (an envelope's raw
    /// signature), signed by `tsa_key` whose certificate is `tsa_chain[0]`.
    pub fn token(&self, tsa_key: &Key, tsa_chain: &[Vec<u8>], message: &[u8]) -> Vec<u8> {
        let tsa_cert =
            x509_cert::Certificate::from_der(tsa_chain.first().expect("a TSA certificate"))
                .expect("TSA certificate");
        let mut imprint = self.hash.digest(message);
        if self.wrong_imprint {
            imprint[0] ^= 0xff;
        }
        let gen_time = GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(
            u64::try_from(self.gen_time).expect("genTime after 1970"),
        ))
        .expect("genTime");
        let tst_info = TstInfo {
            version: 1,
            policy: ObjectIdentifier::new(&self.policy).expect("policy OID"),
            message_imprint: MessageImprint {
                hash_algorithm: self.hash.algorithm_identifier(),
                hashed_message: OctetString::new(imprint).expect("imprint"),
            },
            serial_number: SerialNumber::from(self.serial),
            gen_time,
            accuracy: self.accuracy_secs.map(|s| Accuracy { seconds: Some(s) }),
        }
        .to_der()
        .expect("TSTInfo DER");

        let tbs = tsa_cert.tbs_certificate();
        let mut attrs = vec![
            attribute(
                ID_CONTENT_TYPE,
                &ObjectIdentifier::new_unwrap(ID_CT_TST_INFO),
            ),
            attribute(
                ID_MESSAGE_DIGEST,
                &OctetString::new(HashAlg::Sha256.digest(&tst_info)).expect("digest"),
            ),
        ];
        if self.duplicate_message_digest {
            attrs.push(attribute(
                ID_MESSAGE_DIGEST,
                &OctetString::new(HashAlg::Sha256.digest(b"something else")).expect("digest"),
            ));
        }
        if !self.omit_signing_certificate {
            let cert_id = EssCertIdV2 {
                cert_hash: OctetString::new(HashAlg::Sha256.digest(&tsa_chain[0]))
                    .expect("certificate hash"),
                issuer_serial: IssuerSerial {
                    issuer: vec![GeneralName::DirectoryName(tbs.issuer().clone())],
                    serial_number: tbs.serial_number().clone(),
                },
            };
            attrs.push(attribute(
                ID_SIGNING_CERTIFICATE_V2,
                &SigningCertificateV2 {
                    certs: vec![cert_id],
                },
            ));
        }
        // A SET OF: sorted by DER, which is also what the signature covers.
        let signed_attrs = SetOfVec::try_from(attrs).expect("signed attributes");
        let (signature_algorithm, signature) = tsa_key.sign_x509(
            HashAlg::Sha256,
            &signed_attrs.to_der().expect("attributes DER"),
        );

        let certificates = (!self.omit_certificates).then(|| {
            CertificateSet::try_from(
                tsa_chain
                    .iter()
                    .map(|c| {
                        CertificateChoices::Certificate(
                            x509_cert::Certificate::from_der(c).expect("TSA chain certificate"),
                        )
                    })
                    .collect::<Vec<_>>(),
            )
            .expect("certificate set")
        });
        let signer_info = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: tbs.issuer().clone(),
                serial_number: if self.sid_names_other {
                    SerialNumber::from(0x5eed_u64)
                } else {
                    tbs.serial_number().clone()
                },
            }),
            digest_alg: HashAlg::Sha256.algorithm_identifier(),
            signed_attrs: Some(signed_attrs),
            signature_algorithm,
            signature: OctetString::new(signature).expect("signature"),
            unsigned_attrs: None,
        };
        let mut signer_infos = vec![signer_info.clone()];
        if self.second_signer {
            let mut other = signer_info;
            let mut bytes = other.signature.as_bytes().to_vec();
            bytes[0] ^= 1;
            other.signature = OctetString::new(bytes).expect("signature");
            signer_infos.push(other);
        }
        let signed_data = SignedData {
            version: CmsVersion::V3,
            digest_algorithms: SetOfVec::try_from(vec![HashAlg::Sha256.algorithm_identifier()])
                .expect("digest algorithms"),
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: ObjectIdentifier::new_unwrap(ID_CT_TST_INFO),
                econtent: Some(
                    Any::encode_from(&OctetString::new(tst_info).expect("eContent"))
                        .expect("eContent"),
                ),
            },
            certificates,
            crls: None,
            signer_infos: SignerInfos::try_from(signer_infos).expect("signer infos"),
        };
        ContentInfo {
            content_type: ObjectIdentifier::new_unwrap(ID_SIGNED_DATA),
            content: Any::encode_from(&signed_data).expect("SignedData"),
        }
        .to_der()
        .expect("TimeStampToken DER")
    }
}

fn attribute<T: Encode>(oid: &str, value: &T) -> Attribute {
    Attribute {
        oid: ObjectIdentifier::new_unwrap(oid),
        values: SetOfVec::try_from(vec![
            Any::from_der(&value.to_der().expect("attribute value")).expect("attribute value"),
        ])
        .expect("attribute values"),
    }
}

/// An RFC 3161 TimeStampToken (DER) over `signature` (an envelope's raw
/// signature bytes) imprinted with `hash`, issued at `gen_time` (unix
/// seconds) with `accuracy_secs`, by `tsa_key` whose chain (DER, TSA
/// certificate first) is `tsa_chain`. See [`Timestamp`] for the knobs.
pub fn timestamp_token(
    tsa_key: &Key,
    tsa_chain: &[Vec<u8>],
    signature: &[u8],
    hash: HashAlg,
    gen_time: i64,
    accuracy_secs: Option<u32>,
) -> Vec<u8> {
    Timestamp {
        accuracy_secs,
        ..Timestamp::new(gen_time, hash)
    }
    .token(tsa_key, tsa_chain, signature)
}

/// `envelope` with `token` as its timestamp countersignature
/// (`io.cncf.notary.timestampSignature`, replacing any): standard base64 in
/// the JWS unprotected header, a bstr in the COSE unprotected map. Nothing
/// signed changes.
pub fn with_timestamp(format: Format, envelope: &[u8], token: &[u8]) -> Vec<u8> {
    attach_timestamp(format, envelope, token)
}

/// Timestamps `envelope` as notation does: a token over its raw signature,
/// imprinted with the hash of its algorithm, attached. `ts.hash` is
/// replaced by the envelope's hash.
pub fn timestamp_envelope(
    format: Format,
    envelope: &[u8],
    tsa_key: &Key,
    tsa_chain: &[Vec<u8>],
    ts: &Timestamp,
) -> Vec<u8> {
    let info = inspect(format, envelope);
    let ts = Timestamp {
        hash: info.algorithm.hash(),
        ..ts.clone()
    };
    with_timestamp(
        format,
        envelope,
        &ts.token(tsa_key, tsa_chain, &info.signature),
    )
}
