//! RFC 3161 timestamp countersignatures, verified as notation-go verifies
//! the token in an envelope's unprotected header
//! `io.cncf.notary.timestampSignature`.
//!
//! The steps and their messages follow notation-go
//! (`verifier/verifier.go`, `verifyTimestamp`), tspclient-go
//! (`token.go`, `timestamp.go`, `internal/cms/signed.go`,
//! `internal/encoding/asn1/ber`) and notation-core-go
//! (`x509/timestamp_cert_validations.go`):
//!
//! 1. parse the token: BER lengths made DER, a `ContentInfo` holding a
//!    version 3 `SignedData` whose certificates are all X.509 and whose
//!    content type is `id-ct-TSTInfo`;
//! 2. decode the `TSTInfo` (Go `encoding/asn1` rules: later fields optional
//!    as the ASN.1 says, extra trailing elements ignored);
//! 3. check the message imprint: version 1, SHA-256/384/512, equal to the
//!    hash of the envelope's raw signature (and, stricter than notation-go,
//!    computed with the hash of the envelope's algorithm, as the Notary
//!    signing workflow requires of the signer);
//! 4. verify the signed token: for each `SignerInfo`, the signing
//!    certificate named by `signing-certificate-v2` (its hash must match),
//!    a chain through the token's certificates to a TSA root valid at
//!    `genTime` for `id-kp-timeStamping`, the CMS signature over the signed
//!    attributes, the content-type and message-digest attributes (and
//!    signing-time, when present), and the signer's extended key usage
//!    being exactly `id-kp-timeStamping`, critical;
//! 5. the timestamping chain rules of notation-core-go.
//!
//! Step 4 of `verifyTimestamp`, the timestamp range against the signing
//! chain, is [`Timestamp::check_signing_chain`]. Revocation of the TSA
//! chain needs the network and is not checked.

use super::NotaryError;
use super::signed_data::{self, SignedData, SignerIdentifier, SignerInfo};
use crate::crypto::x509::{self, Certificate, OID_EKU_TIME_STAMPING, X509Error};
use crate::crypto::{CryptoError, HashAlgorithm, PublicKey};
use der::asn1::ObjectIdentifier;
use der::{Decode, Encode, Tag};

/// Largest token accepted (real tokens are 2 to 8 KiB).
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;
/// Most certificates a token may carry.
pub const MAX_TOKEN_CERTIFICATES: usize = 16;
/// Deepest ASN.1 nesting accepted (real tokens nest about 20 deep).
const MAX_DEPTH: usize = 64;

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const ID_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
/// RFC 3628 baseline time-stamp policy: an absent accuracy means 1 s.
const BASELINE_TIMESTAMP_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("0.4.0.2023.1.1");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const ID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const ID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const ID_RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const ID_SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const ID_SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const ID_SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const ID_ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ID_ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ID_ECDSA_WITH_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");

const OID_KEY_USAGE: &str = "2.5.29.15";
const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";
const OID_EXT_KEY_USAGE: &str = "2.5.29.37";

const NANOS_PER_SEC: i128 = 1_000_000_000;

/// A verified timestamp: the instant range the TSA vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamp {
    /// `genTime`, unix seconds (rounded down).
    pub gen_time: i64,
    /// The fraction of a second of `genTime`, in nanoseconds.
    pub gen_time_nanos: u32,
    /// The accuracy in milliseconds (rounded up from [`Self::accuracy_micros`]).
    pub accuracy_millis: u64,
    /// The accuracy in microseconds: `seconds`, `millis` and `micros`
    /// together, or 1 s for the RFC 3628 baseline policy without one.
    pub accuracy_micros: u64,
    /// Subject of the TSA signing certificate.
    pub tsa_subject: String,
}

impl Timestamp {
    fn gen_nanos(&self) -> i128 {
        i128::from(self.gen_time) * NANOS_PER_SEC + i128::from(self.gen_time_nanos)
    }

    fn accuracy_nanos(&self) -> i128 {
        i128::from(self.accuracy_micros) * 1000
    }

    /// `genTime - accuracy`, rounded down to whole seconds.
    pub fn earliest(&self) -> i64 {
        let ns = self.gen_nanos() - self.accuracy_nanos();
        clamp_i64(ns.div_euclid(NANOS_PER_SEC))
    }

    /// `genTime + accuracy`, rounded up to whole seconds.
    pub fn latest(&self) -> i64 {
        let ns = self.gen_nanos() + self.accuracy_nanos();
        let up = ns.div_euclid(NANOS_PER_SEC) + i128::from(ns.rem_euclid(NANOS_PER_SEC) != 0);
        clamp_i64(up)
    }

    /// Checks the timestamp range against every certificate of the signing
    /// chain, as notation-go's step 4 of `verifyTimestamp` does
    /// (`BoundedAfter(notBefore)`, `BoundedBefore(notAfter)`); certificate
    /// times are whole seconds, so the outward-rounded bounds are exact.
    pub fn check_signing_chain(&self, chain: &[Certificate]) -> Result<(), NotaryError> {
        for cert in chain {
            if self.earliest() < cert.not_before() {
                return Err(NotaryError::AuthenticTimestamp(format!(
                    "timestamp can be before certificate {:?} validity period, it will be valid from {:?}",
                    cert.subject(),
                    super::rfc1123z(cert.not_before())
                )));
            }
            if self.latest() > cert.not_after() {
                return Err(NotaryError::AuthenticTimestamp(format!(
                    "timestamp can be after certificate {:?} validity period, it was expired at {:?}",
                    cert.subject(),
                    super::rfc1123z(cert.not_after())
                )));
            }
        }
        Ok(())
    }
}

fn clamp_i64(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// Verifies `token` (DER CMS ContentInfo holding a TimeStampToken) as a
/// countersignature over `signature` (the raw envelope signature bytes),
/// whose imprint hash is `imprint_hash` (the hash of the envelope's signing
/// algorithm), with the TSA chain leading to one of `tsa_roots`.
///
/// Every failure is [`NotaryError::AuthenticTimestamp`] with notation-go's
/// message for the step that failed. The caller still checks the range
/// against the signing chain ([`Timestamp::check_signing_chain`]).
pub fn verify(
    token: &[u8],
    signature: &[u8],
    imprint_hash: HashAlgorithm,
    tsa_roots: &[Certificate],
) -> Result<Timestamp, NotaryError> {
    let fail = |m: String| NotaryError::AuthenticTimestamp(m);
    let signed = SignedToken::parse(token).map_err(|e| {
        fail(format!(
            "failed to parse timestamp countersignature with error: {e}"
        ))
    })?;
    let info = TstInfo::parse(&signed.content).map_err(|e| {
        fail(format!(
            "failed to get the timestamp TSTInfo with error: cannot unmarshal TSTInfo from timestamp token: {e}"
        ))
    })?;
    let accuracy_micros = info.validate(signature, imprint_hash).map_err(|e| {
        fail(format!(
            "failed to get timestamp from timestamp countersignature with error: invalid TSTInfo: {e}"
        ))
    })?;
    if tsa_roots.is_empty() {
        return Err(fail(
            "no trusted TSA certificate found in trust store".into(),
        ));
    }
    let chain = signed.verify(info.gen_time, tsa_roots).map_err(|e| {
        fail(format!(
            "failed to verify the timestamp countersignature with error: failed to verify signed token: {e}"
        ))
    })?;
    validate_timestamping_chain(&chain).map_err(|e| {
        fail(format!(
            "failed to validate the timestamping certificate chain with error: {e}"
        ))
    })?;
    let tsa_subject = chain
        .first()
        .map(|c| c.subject().to_string())
        .unwrap_or_default();
    Ok(Timestamp {
        gen_time: info.gen_time.0,
        gen_time_nanos: info.gen_time.1,
        accuracy_millis: accuracy_micros.div_ceil(1000),
        accuracy_micros,
        tsa_subject,
    })
}

// ---------------------------------------------------------------------------
// The signed token (tspclient-go token.go, internal/cms/signed.go)
// ---------------------------------------------------------------------------

/// A certificate of the token with the names `IssuerAndSerialNumber` uses,
/// both re-encoded through `x509_cert` so that every side compares alike.
struct TokenCert {
    cert: Certificate,
    issuer: Vec<u8>,
    serial: Vec<u8>,
}

impl TokenCert {
    fn parse(der: &[u8]) -> Result<Self, String> {
        let parsed = x509_cert::Certificate::from_der(der).map_err(|e| e.to_string())?;
        let tbs = parsed.tbs_certificate();
        Ok(TokenCert {
            issuer: tbs.issuer().to_der().map_err(|e| e.to_string())?,
            serial: tbs.serial_number().to_der().map_err(|e| e.to_string())?,
            cert: Certificate::from_der(der).map_err(|e| e.to_string())?,
        })
    }
}

struct SignedToken {
    /// The eContent: the DER TSTInfo.
    content: Vec<u8>,
    certificates: Vec<TokenCert>,
    signer_infos: Vec<SignerInfo>,
}

impl SignedToken {
    /// tspclient-go `ParseSignedToken` (and cms `ParseSignedData`).
    fn parse(token: &[u8]) -> Result<Self, String> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(format!(
                "cms: syntax error: timestamp token of {} bytes is over the limit of {MAX_TOKEN_BYTES}",
                token.len()
            ));
        }
        let der = ber_to_der(token).map_err(|e| {
            format!(
                "cms: syntax error: invalid signed data: failed to convert from BER to DER: {e}"
            )
        })?;
        let (content_type, signed_der) = signed_data::content_info(&der).map_err(|e| {
            format!(
                "cms: syntax error: invalid content info: failed to unmarshal DER to ContentInfo: {e}"
            )
        })?;
        if content_type != ID_SIGNED_DATA {
            return Err("cms: content type is not signed-data".into());
        }
        let syntax =
            |m: &dyn core::fmt::Display| format!("cms: syntax error: invalid signed data: {m}");
        let signed = SignedData::parse(signed_der).map_err(|e| syntax(&e))?;
        if signed.version != 3 {
            return Err(format!(
                "cms: syntax error: unsupported signed data version: got {}, want 3",
                signed.version
            ));
        }
        let cert_count = signed.certificates.len();
        if cert_count > MAX_TOKEN_CERTIFICATES {
            return Err(format!(
                "cms: syntax error: {cert_count} certificates in the signed data, over the limit of {MAX_TOKEN_CERTIFICATES}"
            ));
        }
        // The certificates as sent, in order.
        let mut certificates = Vec::with_capacity(cert_count);
        for raw in signed.certificates {
            certificates.push(TokenCert::parse(raw).map_err(|e| {
                format!(
                    "cms: syntax error: failed to parse X.509 certificates from signed data. Only X.509 certificates are supported: {e}"
                )
            })?);
        }
        let signer_infos = signed.signer_infos;
        // RFC 3161 section 2.4.1: the token "MUST NOT contain any
        // signatures other than the signature of the TSA".
        if signer_infos.len() != 1 {
            return Err(syntax(&format!(
                "{} signer infos: a timestamp token has exactly one",
                signer_infos.len()
            )));
        }
        // Go's SignerInfo has an IssuerAndSerialNumber sid: a
        // subjectKeyIdentifier does not decode.
        if signer_infos
            .iter()
            .any(|s| matches!(s.sid, SignerIdentifier::SubjectKeyIdentifier))
        {
            return Err(syntax(
                &"only an IssuerAndSerialNumber signer identifier is supported",
            ));
        }
        let content = match signed.econtent {
            None => Vec::new(),
            Some((Tag::OctetString, value)) => value.to_vec(),
            Some((tag, _)) => {
                return Err(syntax(&format!("eContent is a {tag}, not an OCTET STRING")));
            }
        };
        if signed.econtent_type != ID_CT_TST_INFO {
            return Err(format!(
                "unexpected content type: {}. Expected to be id-ct-TSTInfo ({ID_CT_TST_INFO})",
                signed.econtent_type
            ));
        }
        Ok(SignedToken {
            content,
            certificates,
            signer_infos,
        })
    }

    /// tspclient-go `SignedToken.Verify` with `CurrentTime` = genTime:
    /// the first signer that verifies wins; otherwise the last error.
    /// Returns the chain, leaf first, root last.
    fn verify<'a>(
        &'a self,
        at: (i64, u32),
        roots: &'a [Certificate],
    ) -> Result<Vec<&'a Certificate>, String> {
        let mut last_error = String::from("signerInfo not found");
        for signer_info in &self.signer_infos {
            let signer = match self.signing_certificate(signer_info) {
                Ok(c) => c,
                Err(e) => {
                    last_error = e;
                    continue;
                }
            };
            let chain = match self.verify_signer(signer_info, signer, at, roots) {
                Ok(c) => c,
                Err(e) => {
                    last_error = e;
                    continue;
                }
            };
            // RFC 3161 2.3: exactly one extended key usage, timeStamping,
            // marked critical.
            match exact_time_stamping_eku(signer) {
                Ok(true) => return Ok(chain),
                Ok(false) => {
                    last_error =
                        "signing certificate extended key usage extension must be set as critical"
                            .into();
                }
                Err(()) => {
                    last_error = "signing certificate must have and only have ExtKeyUsageTimeStamping as extended key usage".into();
                }
            }
        }
        Err(last_error)
    }

    /// tspclient-go `SigningCertificate`: the certificate the
    /// signing-certificate-v2 attribute names (its IssuerSerial, else the
    /// signer identifier), whose hash must match.
    fn signing_certificate(&self, signer_info: &SignerInfo) -> Result<&Certificate, String> {
        let value = signer_info
            .signed_attribute(&ID_SIGNING_CERTIFICATE_V2)
            .map_err(|e| format!("failed to get SigningCertificateV2 from signed attributes: {e}"))?
            .ok_or_else(|| {
                "failed to get SigningCertificateV2 from signed attributes: attribute not found"
                    .to_string()
            })?;
        let ess = parse_signing_certificate_v2(&value).map_err(|e| {
            format!("failed to get SigningCertificateV2 from signed attributes: {e}")
        })?;
        let Some(first) = ess.into_iter().next() else {
            return Err("signingCertificateV2 does not contain any certificate".into());
        };
        let (issuer, serial) = match first.issuer_serial {
            Some(IssuerSerial {
                issuer_name: None, ..
            }) => return Err("issuer name is missing in IssuerSerial".into()),
            Some(IssuerSerial {
                issuer_name: Some(name),
                serial,
            }) => {
                let name = x509_cert::name::Name::from_der(&name)
                    .and_then(|n| n.to_der())
                    .map_err(|e| format!("failed to unmarshal issuer name: {e}"))?;
                (name, serial)
            }
            None => match &signer_info.sid {
                SignerIdentifier::IssuerAndSerialNumber { issuer, serial } => {
                    (issuer.clone(), serial.clone())
                }
                SignerIdentifier::SubjectKeyIdentifier => {
                    return Err("signing certificate not found in the timestamp token".into());
                }
            },
        };
        let hash = match first.hash_algorithm {
            None => HashAlgorithm::Sha256,
            Some(oid) => hash_from_oid(&oid).ok_or_else(|| {
                "unsupported certificate hash algorithm in SigningCertificateV2 attribute"
                    .to_string()
            })?,
        };
        // Every certificate of that issuer and serial is a candidate: a
        // decoy sent first must not hide the real one.
        let mut named = self
            .certificates
            .iter()
            .filter(|c| c.issuer == issuer && c.serial == serial)
            .peekable();
        if named.peek().is_none() {
            return Err("signing certificate not found in the timestamp token".into());
        }
        let cert = named
            .find(|c| hash.digest(c.cert.der()) == first.cert_hash)
            .ok_or_else(|| {
                "signing certificate hash does not match CertHash in signed attribute".to_string()
            })?;
        // The signer identifier, when it names a certificate, names the same.
        if let SignerIdentifier::IssuerAndSerialNumber { issuer, serial } = &signer_info.sid
            && (*issuer != cert.issuer || *serial != cert.serial)
        {
            return Err(
                "the signer identifier names another certificate than SigningCertificateV2".into(),
            );
        }
        Ok(&cert.cert)
    }

    /// cms `VerifySigner`: the chain, the signature, the signed attributes.
    fn verify_signer<'a>(
        &'a self,
        signer_info: &SignerInfo,
        signer: &'a Certificate,
        at: (i64, u32),
        roots: &'a [Certificate],
    ) -> Result<Vec<&'a Certificate>, String> {
        let fail = |m: String| format!("cms verification failure: {m}");
        if signer_info.version != 1 {
            return Err(fail(format!(
                "invalid signer info version: only version 1 is supported; got {}",
                signer_info.version
            )));
        }
        let chain = self.build_chain(signer, at, roots).map_err(fail)?;
        self.verify_signature(signer_info, signer).map_err(fail)?;
        self.verify_signed_attributes(signer_info, &chain)?;
        Ok(chain)
    }

    /// Go's `Certificate.Verify` with the token's certificates as
    /// intermediates, the TSA roots, the timeStamping purpose and genTime.
    fn build_chain<'a>(
        &'a self,
        signer: &'a Certificate,
        (secs, nanos): (i64, u32),
        roots: &'a [Certificate],
    ) -> Result<Vec<&'a Certificate>, String> {
        signer
            .check_critical_extensions(&[])
            .map_err(|e| go_x509_error(&e))?;
        let intermediates: Vec<&Certificate> = self.certificates.iter().map(|c| &c.cert).collect();
        let anchors: Vec<&Certificate> = roots.iter().collect();
        let path = x509::verify_path(
            signer,
            &intermediates,
            &anchors,
            secs,
            OID_EKU_TIME_STAMPING,
        )
        .map_err(|e| go_x509_error(&e))?;
        let mut chain = Vec::with_capacity(path.len() + 1);
        chain.push(signer);
        chain.extend(path);
        // Validity was checked at the whole second; a fraction past it
        // is after a notAfter equal to that second.
        if nanos > 0
            && let Some(c) = chain.iter().find(|c| c.not_after() == secs)
        {
            return Err(format!(
                "x509: certificate has expired or is not yet valid: certificate {} expired at {}",
                c.subject(),
                c.not_after()
            ));
        }
        Ok(chain)
    }

    /// cms `verifySignature`: over the DER SET OF the signed attributes
    /// (or the content when there are none).
    fn verify_signature(
        &self,
        signer_info: &SignerInfo,
        signer: &Certificate,
    ) -> Result<(), String> {
        let scheme = signature_scheme(&signer_info.digest_alg, &signer_info.signature_alg)
            .ok_or_else(|| "unknown signature algorithm".to_string())?;
        let signed: &[u8] = if signer_info.signed_attrs_der.is_empty() {
            &self.content
        } else {
            &signer_info.signed_attrs_der
        };
        let key = signer.public_key().map_err(|e| e.to_string())?;
        let sig = &signer_info.signature;
        let checked = match scheme {
            Scheme::Pkcs1v15(h) => key.verify_rsa_pkcs1v15(h, signed, sig),
            Scheme::Pss(h) => {
                let salt = h.digest(b"").len();
                key.verify_rsa_pss(h, Some(salt), signed, sig)
            }
            Scheme::Ecdsa(h) => key.verify_ecdsa_der(h, signed, sig),
        };
        checked.map_err(|e| go_signature_error(&e, scheme, &key))
    }

    /// cms `verifySignedAttributes`.
    fn verify_signed_attributes(
        &self,
        signer_info: &SignerInfo,
        chain: &[&Certificate],
    ) -> Result<(), String> {
        let fail = |m: String| format!("cms verification failure: {m}");
        if signer_info.signed_attrs_der.is_empty() {
            return Err(fail("missing signed attributes".into()));
        }
        let content_type = signer_info
            .signed_attribute(&ID_CONTENT_TYPE)
            .and_then(|v| v.ok_or_else(|| "attribute not found".to_string()))
            .and_then(|v| parse_oid_value(&v))
            .map_err(|e| fail(format!("invalid content type: {e}")))?;
        if content_type != ID_CT_TST_INFO {
            return Err(fail(format!(
                "mismatch content type: found \"{content_type}\" in signer info, and \"{ID_CT_TST_INFO}\" in signed data"
            )));
        }
        let expected = signer_info
            .signed_attribute(&ID_MESSAGE_DIGEST)
            .and_then(|v| v.ok_or_else(|| "attribute not found".to_string()))
            .and_then(|v| parse_octet_string_value(&v))
            .map_err(|e| fail(format!("invalid message digest: {e}")))?;
        let hash = hash_from_oid(&signer_info.digest_alg)
            .ok_or_else(|| fail("unsupported digest algorithm".into()))?;
        if hash.digest(&self.content) != expected {
            return Err(fail("mismatch message digest".into()));
        }
        let Some(value) = signer_info
            .signed_attribute(&ID_SIGNING_TIME)
            .map_err(|e| fail(format!("invalid signing time: {e}")))?
        else {
            return Ok(());
        };
        let (secs, nanos) =
            parse_time_value(&value).map_err(|e| fail(format!("invalid signing time: {e}")))?;
        let outside = chain.iter().any(|c| {
            secs < c.not_before() || secs > c.not_after() || (secs == c.not_after() && nanos > 0)
        });
        if outside {
            return Err(fail(format!(
                "signing time, {}, is outside certificate's validity period",
                format_time(secs, nanos)
            )));
        }
        Ok(())
    }
}

fn parse_oid_value(der: &[u8]) -> Result<ObjectIdentifier, String> {
    let (tlv, _) = read_tlv(der, true)?;
    tlv.expect_universal(TAG_OID, false, "ObjectIdentifier")?;
    parse_oid(tlv.content)
}

fn parse_octet_string_value(der: &[u8]) -> Result<Vec<u8>, String> {
    let (tlv, _) = read_tlv(der, true)?;
    tlv.expect_universal(TAG_OCTET_STRING, false, "OCTET STRING")?;
    Ok(tlv.content.to_vec())
}

fn parse_time_value(der: &[u8]) -> Result<(i64, u32), String> {
    let (tlv, _) = read_tlv(der, true)?;
    match (tlv.class, tlv.constructed, tlv.number) {
        (CLASS_UNIVERSAL, false, TAG_UTC_TIME) => parse_utc_time(tlv.content),
        (CLASS_UNIVERSAL, false, TAG_GENERALIZED_TIME) => parse_generalized_time(tlv.content),
        _ => Err(tlv.mismatch("Time")),
    }
}

fn hash_from_oid(oid: &ObjectIdentifier) -> Option<HashAlgorithm> {
    [
        (ID_SHA256, HashAlgorithm::Sha256),
        (ID_SHA384, HashAlgorithm::Sha384),
        (ID_SHA512, HashAlgorithm::Sha512),
    ]
    .into_iter()
    .find_map(|(id, h)| (id == *oid).then_some(h))
}

fn hash_name(h: HashAlgorithm) -> &'static str {
    match h {
        HashAlgorithm::Sha224 => "SHA-224",
        HashAlgorithm::Sha256 => "SHA-256",
        HashAlgorithm::Sha384 => "SHA-384",
        HashAlgorithm::Sha512 => "SHA-512",
    }
}

#[derive(Clone, Copy, Debug)]
enum Scheme {
    Pkcs1v15(HashAlgorithm),
    Pss(HashAlgorithm),
    Ecdsa(HashAlgorithm),
}

impl Scheme {
    fn hash(self) -> HashAlgorithm {
        match self {
            Scheme::Pkcs1v15(h) | Scheme::Pss(h) | Scheme::Ecdsa(h) => h,
        }
    }
}

/// tspclient-go `oid.ToSignatureAlgorithm`: `rsaEncryption` and
/// `id-RSASSA-PSS` take the hash from the digest algorithm, the others
/// name their own.
fn signature_scheme(digest: &ObjectIdentifier, sig: &ObjectIdentifier) -> Option<Scheme> {
    let h = hash_from_oid(digest);
    let fixed = [
        (ID_SHA256_WITH_RSA, Scheme::Pkcs1v15(HashAlgorithm::Sha256)),
        (ID_SHA384_WITH_RSA, Scheme::Pkcs1v15(HashAlgorithm::Sha384)),
        (ID_SHA512_WITH_RSA, Scheme::Pkcs1v15(HashAlgorithm::Sha512)),
        (ID_ECDSA_WITH_SHA256, Scheme::Ecdsa(HashAlgorithm::Sha256)),
        (ID_ECDSA_WITH_SHA384, Scheme::Ecdsa(HashAlgorithm::Sha384)),
        (ID_ECDSA_WITH_SHA512, Scheme::Ecdsa(HashAlgorithm::Sha512)),
    ];
    if *sig == ID_RSA {
        h.map(Scheme::Pkcs1v15)
    } else if *sig == ID_RSA_PSS {
        h.map(Scheme::Pss)
    } else {
        // A signature algorithm naming its hash must name the digest
        // algorithm's: one hash over the content and the attributes.
        fixed.into_iter().find_map(|(id, scheme)| {
            (id == *sig && h.is_some_and(|h| h == scheme.hash())).then_some(scheme)
        })
    }
}

/// Go's `x509.Certificate.CheckSignature` messages.
fn go_signature_error(e: &CryptoError, scheme: Scheme, key: &PublicKey) -> String {
    match (e, scheme) {
        (CryptoError::Invalid, Scheme::Ecdsa(_)) => "x509: ECDSA verification failure".into(),
        (CryptoError::Invalid, _) => "crypto/rsa: verification error".into(),
        (CryptoError::SchemeMismatch { .. }, Scheme::Ecdsa(_)) => format!(
            "x509: signature algorithm specifies an ECDSA public key, but have public key of type {}",
            key.type_name()
        ),
        (CryptoError::SchemeMismatch { .. }, _) => format!(
            "x509: signature algorithm specifies an RSA public key, but have public key of type {}",
            key.type_name()
        ),
        (other, _) => other.to_string(),
    }
}

/// Go's `x509.Certificate.Verify` messages, with this crate's detail.
fn go_x509_error(e: &X509Error) -> String {
    match e {
        X509Error::Untrusted(_) | X509Error::ChainTooLong => {
            "x509: certificate signed by unknown authority".into()
        }
        X509Error::BadSignature { issuer, source, .. } => format!(
            "x509: certificate signed by unknown authority (possibly because of \"{source}\" while trying to verify candidate authority certificate {issuer:?})"
        ),
        X509Error::Expired { .. } => {
            format!("x509: certificate has expired or is not yet valid: {e}")
        }
        X509Error::KeyPurpose { .. } => {
            format!("x509: certificate specifies an incompatible key usage ({e})")
        }
        X509Error::NotCa(_) => {
            format!("x509: certificate is not authorized to sign other certificates ({e})")
        }
        X509Error::PathLength(_) => {
            format!("x509: too many intermediates for path length constraint ({e})")
        }
        X509Error::UnhandledCritical { .. } => format!("x509: unhandled critical extension ({e})"),
        other => format!("x509: {other}"),
    }
}

// ---------------------------------------------------------------------------
// signing-certificate-v2 (RFC 5035)
// ---------------------------------------------------------------------------

struct EssCertIdV2 {
    hash_algorithm: Option<ObjectIdentifier>,
    cert_hash: Vec<u8>,
    issuer_serial: Option<IssuerSerial>,
}

struct IssuerSerial {
    /// The DER Name of the first GeneralName when it is a directoryName.
    issuer_name: Option<Vec<u8>>,
    /// The serial number's INTEGER TLV.
    serial: Vec<u8>,
}

/// `SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2,
/// policies SEQUENCE OF PolicyInformation OPTIONAL }`, as Go decodes it.
fn parse_signing_certificate_v2(der: &[u8]) -> Result<Vec<EssCertIdV2>, String> {
    let (outer, _) = read_tlv(der, true)?;
    outer.expect_universal(TAG_SEQUENCE, true, "signingCertificateV2")?;
    let mut fields = Fields::new(outer.content);
    let certs = fields.take("certs")?;
    certs.expect_universal(TAG_SEQUENCE, true, "certs")?;
    let mut out = Vec::new();
    let mut rest = certs.content;
    while !rest.is_empty() {
        let (id, r) = read_tlv(rest, true)?;
        rest = r;
        id.expect_universal(TAG_SEQUENCE, true, "ESSCertIDv2")?;
        let mut f = Fields::new(id.content);
        let hash_algorithm = match f.take_if(|t| t.is_universal(TAG_SEQUENCE, true))? {
            Some(alg) => Some(parse_algorithm_identifier(&alg)?),
            None => None,
        };
        let hash = f.take("certHash")?;
        hash.expect_universal(TAG_OCTET_STRING, false, "certHash")?;
        let issuer_serial = match f.take_if(|t| t.is_universal(TAG_SEQUENCE, true))? {
            None => None,
            Some(is) => {
                let mut g = Fields::new(is.content);
                let names = g.take("issuer")?;
                names.expect_universal(TAG_SEQUENCE, true, "GeneralNames")?;
                let mut n = Fields::new(names.content);
                let issuer_name = match n.take_if(|t| t.is_context(4))? {
                    None => None,
                    Some(dir) => Some(read_tlv(dir.content, true)?.0.full.to_vec()),
                };
                let serial = g.take("serialNumber")?;
                serial.expect_universal(TAG_INTEGER, false, "serialNumber")?;
                check_integer(serial.content)?;
                Some(IssuerSerial {
                    issuer_name,
                    serial: serial.full.to_vec(),
                })
            }
        };
        out.push(EssCertIdV2 {
            hash_algorithm,
            cert_hash: hash.content.to_vec(),
            issuer_serial,
        });
    }
    Ok(out)
}

/// `AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }`.
fn parse_algorithm_identifier(tlv: &Tlv<'_>) -> Result<ObjectIdentifier, String> {
    let mut f = Fields::new(tlv.content);
    let oid = f.take("algorithm")?;
    oid.expect_universal(TAG_OID, false, "algorithm")?;
    parse_oid(oid.content)
}

// ---------------------------------------------------------------------------
// The TSA chain rules (notation-core-go x509/timestamp_cert_validations.go)
// ---------------------------------------------------------------------------

/// Whether the signer's extended key usage is exactly timeStamping
/// (`Err` otherwise) and marked critical.
fn exact_time_stamping_eku(cert: &Certificate) -> Result<bool, ()> {
    let Some((critical, value)) = cert.extension(OID_EXT_KEY_USAGE) else {
        return Err(());
    };
    let eku = x509_cert::ext::pkix::ExtendedKeyUsage::from_der(value).map_err(|_| ())?;
    match eku.0.as_slice() {
        [only] if only.to_string() == OID_EKU_TIME_STAMPING => Ok(critical),
        _ => Err(()),
    }
}

/// `ValidateTimestampingCertChain` for a chain leaf first, root last. The
/// path builder already checked each certificate is issued by the next.
fn validate_timestamping_chain(chain: &[&Certificate]) -> Result<(), String> {
    // The path builder always reaches an anchor above the leaf; a leaf
    // that is itself a trusted root fails the leaf rules below (it is a CA).
    let last = chain.len().saturating_sub(1);
    for (i, cert) in chain.iter().enumerate() {
        if i == last && i > 0 {
            match cert.verify_issued_by(cert) {
                Err(e) => {
                    return Err(format!(
                        "root certificate with subject {:?} is invalid or not self-signed. Certificate chain must end with a valid self-signed root certificate. Error: {e}",
                        cert.subject()
                    ));
                }
                Ok(()) if !cert.names_issuer(cert) => {
                    return Err(format!(
                        "root certificate with subject {:?} is not self-signed. Certificate chain must end with a valid self-signed root certificate",
                        cert.subject()
                    ));
                }
                Ok(()) => {}
            }
        } else if cert.names_issuer(cert) && cert.verify_issued_by(cert).is_ok() {
            let which = if i == 0 { "leaf" } else { "intermediate" };
            return Err(format!(
                "{which} certificate with subject {:?} is self-signed. Certificate chain must not contain self-signed {which} certificate",
                cert.subject()
            ));
        }
        if i == 0 {
            validate_leaf(cert)?;
        } else {
            validate_ca(cert, i - 1)?;
        }
    }
    Ok(())
}

fn decode_extension<'a, T: Decode<'a>>(
    cert: &'a Certificate,
    oid: &str,
) -> Result<Option<(bool, T)>, String> {
    match cert.extension(oid) {
        None => Ok(None),
        Some((critical, value)) => T::from_der(value)
            .map(|v| Some((critical, v)))
            .map_err(|e| {
                format!(
                    "certificate with subject {:?}: extension {oid}: {e}",
                    cert.subject()
                )
            }),
    }
}

fn validate_ca(cert: &Certificate, expected_path_len: usize) -> Result<(), String> {
    use x509_cert::ext::pkix::KeyUsage;
    let subject = cert.subject();
    super::chain::ca_basic_constraints(cert, expected_path_len)?;
    let Some((_, ku)) = decode_extension::<KeyUsage>(cert, OID_KEY_USAGE)? else {
        return Err(format!(
            "certificate with subject {subject:?}: key usage extension must be present"
        ));
    };
    if !ku.key_cert_sign() {
        return Err(format!(
            "certificate with subject {subject:?}: key usage must have the bit positions for key cert sign set"
        ));
    }
    Ok(())
}

fn validate_leaf(cert: &Certificate) -> Result<(), String> {
    use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage};
    let subject = cert.subject();
    if let Some((_, bc)) = decode_extension::<BasicConstraints>(cert, OID_BASIC_CONSTRAINTS)?
        && bc.ca
    {
        return Err(format!(
            "certificate with subject {subject:?}: if the basic constraints extension is present, the ca field must be set to false"
        ));
    }
    super::chain::digital_signature_only(cert)?;
    let eku = decode_extension::<ExtendedKeyUsage>(cert, OID_EXT_KEY_USAGE)?;
    let only_time_stamping = eku.as_ref().is_some_and(
        |(_, e)| matches!(e.0.as_slice(), [only] if only.to_string() == OID_EKU_TIME_STAMPING),
    );
    if !only_time_stamping {
        return Err(format!(
            "timestamp signing certificate with subject {subject:?} must have and only have Timestamping as extended key usage"
        ));
    }
    if eku.is_some_and(|(critical, _)| !critical) {
        return Err(format!(
            "timestamp signing certificate with subject {subject:?} must have extended key usage extension marked as critical"
        ));
    }
    // notation-core-go validateSignatureAlgorithm: the key spec.
    let key = cert
        .public_key()
        .map_err(|e| format!("certificate with subject {subject:?}: {e}"))?;
    match &key {
        PublicKey::Rsa(k) => {
            let bits = rsa::traits::PublicKeyParts::size(k.as_ref()) * 8;
            if !matches!(bits, 2048 | 3072 | 4096) {
                return Err(format!(
                    "certificate with subject {subject:?}: rsa key size {bits} bits is not supported"
                ));
            }
        }
        PublicKey::P256(_) | PublicKey::P384(_) | PublicKey::P521(_) => {}
        PublicKey::Ed25519(_) => {
            return Err(format!(
                "certificate with subject {subject:?}: unsupported public key type"
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// TSTInfo (RFC 3161 2.4.2; tspclient-go token.go)
// ---------------------------------------------------------------------------

struct TstInfo {
    version: i64,
    policy: ObjectIdentifier,
    imprint_algorithm: ObjectIdentifier,
    imprint: Vec<u8>,
    /// Unix seconds and nanoseconds.
    gen_time: (i64, u32),
    /// `seconds`, `millis`, `micros` (0 when absent).
    accuracy: (i64, i64, i64),
}

impl TstInfo {
    /// Decodes a TSTInfo as Go's `asn1.Unmarshal` into tspclient-go's
    /// `TSTInfo` does: bytes after the SEQUENCE and elements after the
    /// last known field are ignored.
    ///
    /// ```text
    /// TSTInfo ::= SEQUENCE {
    ///   version INTEGER, policy OID, messageImprint MessageImprint,
    ///   serialNumber INTEGER, genTime GeneralizedTime,
    ///   accuracy Accuracy OPTIONAL, ordering BOOLEAN DEFAULT FALSE,
    ///   nonce INTEGER OPTIONAL, tsa [0] GeneralName OPTIONAL,
    ///   extensions [1] IMPLICIT Extensions OPTIONAL }
    /// ```
    fn parse(der: &[u8]) -> Result<Self, String> {
        if der.is_empty() {
            return Err("asn1: syntax error: sequence truncated".into());
        }
        let (outer, _) = read_tlv(der, true)?;
        outer.expect_universal(TAG_SEQUENCE, true, "TSTInfo")?;
        let mut f = Fields::new(outer.content);

        let version = f.take("version")?;
        version.expect_universal(TAG_INTEGER, false, "version")?;
        let version = parse_i64(version.content)?;

        let policy = f.take("policy")?;
        policy.expect_universal(TAG_OID, false, "policy")?;
        let policy = parse_oid(policy.content)?;

        let imprint = f.take("messageImprint")?;
        imprint.expect_universal(TAG_SEQUENCE, true, "messageImprint")?;
        let mut mi = Fields::new(imprint.content);
        let alg = mi.take("hashAlgorithm")?;
        alg.expect_universal(TAG_SEQUENCE, true, "hashAlgorithm")?;
        let imprint_algorithm = parse_algorithm_identifier(&alg)?;
        let hashed = mi.take("hashedMessage")?;
        hashed.expect_universal(TAG_OCTET_STRING, false, "hashedMessage")?;

        let serial = f.take("serialNumber")?;
        serial.expect_universal(TAG_INTEGER, false, "serialNumber")?;
        check_integer(serial.content)?;

        let gen_time = f.take("genTime")?;
        gen_time.expect_universal(TAG_GENERALIZED_TIME, false, "genTime")?;
        let gen_time = parse_generalized_time(gen_time.content)?;

        let mut accuracy = (0, 0, 0);
        if let Some(acc) = f.take_if(|t| t.is_universal(TAG_SEQUENCE, true))? {
            let mut a = Fields::new(acc.content);
            if let Some(s) = a.take_if(|t| t.is_universal(TAG_INTEGER, false))? {
                accuracy.0 = parse_i64(s.content)?;
            }
            if let Some(ms) = a.take_if(|t| t.is_context(0) && !t.constructed)? {
                accuracy.1 = parse_i64(ms.content)?;
            }
            if let Some(us) = a.take_if(|t| t.is_context(1) && !t.constructed)? {
                accuracy.2 = parse_i64(us.content)?;
            }
        }
        if let Some(ordering) = f.take_if(|t| t.is_universal(TAG_BOOLEAN, false))? {
            parse_bool(ordering.content)?;
        }
        if let Some(nonce) = f.take_if(|t| t.is_universal(TAG_INTEGER, false))? {
            check_integer(nonce.content)?;
        }
        f.take_if(|t| t.is_context(0))?;
        if let Some(exts) = f.take_if(|t| t.is_context(1) && t.constructed)? {
            parse_extensions(exts.content)?;
        }
        Ok(TstInfo {
            version,
            policy,
            imprint_algorithm,
            imprint: hashed.content.to_vec(),
            gen_time,
            accuracy,
        })
    }

    /// tspclient-go `TSTInfo.Validate`: version 1, a known imprint hash,
    /// the imprint equal to the hash of `message`; returns the accuracy
    /// in microseconds.
    ///
    /// Also requires the imprint hash to be `expected`: the Notary signing
    /// workflow says the hash MUST be the one the signing key implies
    /// (notation-go itself accepts any of SHA-256/384/512 here).
    fn validate(&self, message: &[u8], expected: HashAlgorithm) -> Result<u64, String> {
        if self.version != 1 {
            return Err(format!(
                "timestamp token info version must be 1, but got {}",
                self.version
            ));
        }
        let hash = hash_from_oid(&self.imprint_algorithm)
            .ok_or_else(|| format!("unrecognized hash algorithm: {}", self.imprint_algorithm))?;
        if hash != expected {
            return Err(format!(
                "message imprint hash algorithm {} is not {}, the hash of the signature algorithm",
                hash_name(hash),
                hash_name(expected)
            ));
        }
        if hash.digest(message) != self.imprint {
            return Err("mismatched message".into());
        }
        let (s, ms, us) = self.accuracy;
        if s < 0 || ms < 0 || us < 0 {
            return Err("accuracy must not be negative".into());
        }
        if s == 0 && ms == 0 && us == 0 && self.policy == BASELINE_TIMESTAMP_POLICY {
            return Ok(1_000_000);
        }
        let total = i128::from(s) * 1_000_000 + i128::from(ms) * 1000 + i128::from(us);
        u64::try_from(total).map_err(|_| "accuracy is out of range".to_string())
    }
}

fn parse_extensions(mut bytes: &[u8]) -> Result<(), String> {
    while !bytes.is_empty() {
        let (ext, rest) = read_tlv(bytes, true)?;
        bytes = rest;
        ext.expect_universal(TAG_SEQUENCE, true, "Extension")?;
        let mut f = Fields::new(ext.content);
        let id = f.take("extnID")?;
        id.expect_universal(TAG_OID, false, "extnID")?;
        parse_oid(id.content)?;
        if let Some(critical) = f.take_if(|t| t.is_universal(TAG_BOOLEAN, false))? {
            parse_bool(critical.content)?;
        }
        let value = f.take("extnValue")?;
        value.expect_universal(TAG_OCTET_STRING, false, "extnValue")?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// ASN.1: a TLV reader with Go's encoding/asn1 strictness, and the BER
// length normalisation of tspclient-go's ber.ConvertToDER
// ---------------------------------------------------------------------------

const CLASS_UNIVERSAL: u8 = 0;
const CLASS_CONTEXT: u8 = 2;
const TAG_BOOLEAN: u32 = 1;
const TAG_INTEGER: u32 = 2;
const TAG_OCTET_STRING: u32 = 4;
const TAG_OID: u32 = 6;
const TAG_SEQUENCE: u32 = 16;
const TAG_UTC_TIME: u32 = 23;
const TAG_GENERALIZED_TIME: u32 = 24;

#[derive(Clone, Copy)]
struct Tlv<'a> {
    class: u8,
    constructed: bool,
    number: u32,
    ident: &'a [u8],
    content: &'a [u8],
    full: &'a [u8],
}

impl Tlv<'_> {
    fn is_universal(&self, number: u32, constructed: bool) -> bool {
        self.class == CLASS_UNIVERSAL && self.number == number && self.constructed == constructed
    }

    fn is_context(&self, number: u32) -> bool {
        self.class == CLASS_CONTEXT && self.number == number
    }

    fn mismatch(&self, field: &str) -> String {
        format!(
            "asn1: structure error: tags don't match (found class {} tag {}{}) {field}",
            self.class,
            self.number,
            if self.constructed { " constructed" } else { "" }
        )
    }

    fn expect_universal(&self, number: u32, constructed: bool, field: &str) -> Result<(), String> {
        if self.is_universal(number, constructed) {
            Ok(())
        } else {
            Err(self.mismatch(field))
        }
    }
}

/// Reads one TLV. `strict` is Go's `encoding/asn1` (DER lengths, minimal
/// tags); otherwise the BER lengths tspclient-go's converter accepts
/// (definite only, up to 4 length octets).
fn read_tlv(input: &[u8], strict: bool) -> Result<(Tlv<'_>, &[u8]), String> {
    let syntax = |m: &str| format!("asn1: syntax error: {m}");
    let first = *input.first().ok_or_else(|| syntax("data truncated"))?;
    let mut pos = 1;
    let mut number = u32::from(first & 0x1f);
    if number == 0x1f {
        number = 0;
        loop {
            let b = *input.get(pos).ok_or_else(|| syntax("data truncated"))?;
            if strict && number == 0 && b == 0x80 {
                return Err(syntax("integer is not minimally encoded"));
            }
            pos += 1;
            if number > (u32::MAX >> 7) {
                return Err(syntax("base 128 integer too large"));
            }
            number = (number << 7) | u32::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
        }
        if strict && number < 0x1f {
            return Err(syntax("non-minimal tag"));
        }
    }
    let ident = &input[..pos];
    let len_byte = *input.get(pos).ok_or_else(|| syntax("data truncated"))?;
    pos += 1;
    let length = if len_byte < 0x80 {
        usize::from(len_byte)
    } else {
        let n = usize::from(len_byte & 0x7f);
        if n == 0 {
            return Err(syntax("indefinite length found (not DER)"));
        }
        if n > 4 {
            return Err(syntax("length too large"));
        }
        let bytes = input
            .get(pos..pos + n)
            .ok_or_else(|| syntax("data truncated"))?;
        pos += n;
        if strict && bytes[0] == 0 {
            return Err(syntax("superfluous leading zeros in length"));
        }
        let v = bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        if v >= 1 << 31 {
            return Err(syntax("length too large"));
        }
        if strict && v < 0x80 {
            return Err(syntax("non-minimal length"));
        }
        v
    };
    let end = pos
        .checked_add(length)
        .filter(|e| *e <= input.len())
        .ok_or_else(|| syntax("data truncated"))?;
    Ok((
        Tlv {
            class: first >> 6,
            constructed: first & 0x20 != 0,
            number,
            ident,
            content: &input[pos..end],
            full: &input[..end],
        },
        &input[end..],
    ))
}

/// The elements of a SEQUENCE, read in order; optional fields are taken
/// when their tag matches (Go's `optional`).
struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    fn new(content: &'a [u8]) -> Self {
        Fields { rest: content }
    }

    fn take(&mut self, field: &str) -> Result<Tlv<'a>, String> {
        if self.rest.is_empty() {
            return Err(format!("asn1: syntax error: sequence truncated {field}"));
        }
        let (tlv, rest) = read_tlv(self.rest, true)?;
        self.rest = rest;
        Ok(tlv)
    }

    fn take_if(&mut self, accept: impl Fn(&Tlv<'a>) -> bool) -> Result<Option<Tlv<'a>>, String> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let (tlv, rest) = read_tlv(self.rest, true)?;
        if !accept(&tlv) {
            return Ok(None);
        }
        self.rest = rest;
        Ok(Some(tlv))
    }
}

/// Go's `checkInteger`: non-empty and minimally encoded.
fn check_integer(b: &[u8]) -> Result<(), String> {
    match b {
        [] => Err("asn1: structure error: empty integer".into()),
        [0, next, ..] if next & 0x80 == 0 => {
            Err("asn1: structure error: integer not minimally-encoded".into())
        }
        [0xff, next, ..] if next & 0x80 != 0 => {
            Err("asn1: structure error: integer not minimally-encoded".into())
        }
        _ => Ok(()),
    }
}

/// Go's `parseInt64`.
fn parse_i64(b: &[u8]) -> Result<i64, String> {
    check_integer(b)?;
    if b.len() > 8 {
        return Err("asn1: structure error: integer too large".into());
    }
    let mut v: i64 = if b[0] & 0x80 != 0 { -1 } else { 0 };
    for byte in b {
        v = (v << 8) | i64::from(*byte);
    }
    Ok(v)
}

fn parse_bool(b: &[u8]) -> Result<bool, String> {
    match b {
        [0] => Ok(false),
        [0xff] => Ok(true),
        _ => Err("asn1: syntax error: invalid boolean".into()),
    }
}

fn parse_oid(content: &[u8]) -> Result<ObjectIdentifier, String> {
    ObjectIdentifier::from_bytes(content).map_err(|e| format!("asn1: syntax error: {e}"))
}

/// tspclient-go `ber.ConvertToDER`: every length re-encoded in its minimal
/// form; the input must be exactly one TLV.
fn ber_to_der(input: &[u8]) -> Result<Vec<u8>, String> {
    if input.is_empty() {
        return Err("BER-encoded ASN.1 data structures is empty".into());
    }
    let (tlv, rest) = read_tlv(input, false)?;
    if !rest.is_empty() {
        return Err(format!(
            "decoding BER: {} bytes after the top-level value",
            rest.len()
        ));
    }
    let mut out = Vec::with_capacity(input.len());
    reencode(&tlv, &mut out, 0)?;
    Ok(out)
}

fn reencode(tlv: &Tlv<'_>, out: &mut Vec<u8>, depth: usize) -> Result<(), String> {
    out.extend_from_slice(tlv.ident);
    if !tlv.constructed {
        push_length(out, tlv.content.len());
        out.extend_from_slice(tlv.content);
        return Ok(());
    }
    if depth >= MAX_DEPTH {
        return Err(format!("nesting deeper than {MAX_DEPTH}"));
    }
    let mut inner = Vec::with_capacity(tlv.content.len());
    let mut rest = tlv.content;
    while !rest.is_empty() {
        let (child, r) = read_tlv(rest, false)?;
        reencode(&child, &mut inner, depth + 1)?;
        rest = r;
    }
    push_length(out, inner.len());
    out.extend_from_slice(&inner);
    Ok(())
}

fn push_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

// ---------------------------------------------------------------------------
// Times, as Go's encoding/asn1 parses them
// ---------------------------------------------------------------------------

/// GeneralizedTime as Go's `parseGeneralizedTime` accepts it: layout
/// `20060102150405.999999999Z0700` and re-serialising to the same text, so
/// a fraction has 1 to 9 digits and no trailing zero, and the zone is `Z`
/// or a non-zero `±hhmm`.
fn parse_generalized_time(b: &[u8]) -> Result<(i64, u32), String> {
    let bad = || {
        format!(
            "asn1: time did not serialize back to the original value and may be invalid: given {:?}",
            String::from_utf8_lossy(b)
        )
    };
    let year = digits(b, 0, 4).ok_or_else(bad)?;
    let (nanos, zone_at) = match b.get(14) {
        Some(b'.') => {
            let n = b[15..].iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 || n > 9 || b[14 + n] == b'0' {
                return Err(bad());
            }
            let frac = digits(b, 15, n).ok_or_else(bad)?;
            (frac * 10u32.pow((9 - n) as u32), 15 + n)
        }
        _ => (0, 14),
    };
    let secs = civil_seconds(b, year as i32, 4).ok_or_else(bad)?;
    let offset = parse_zone(&b[zone_at.min(b.len())..]).ok_or_else(bad)?;
    Ok((secs - offset, nanos))
}

/// UTCTime as Go's `parseUTCTime`: `0601021504Z0700` or
/// `060102150405Z0700`; years before 50 are 20xx.
fn parse_utc_time(b: &[u8]) -> Result<(i64, u32), String> {
    let bad = || format!("asn1: invalid UTCTime {:?}", String::from_utf8_lossy(b));
    let yy = digits(b, 0, 2).ok_or_else(bad)? as i32;
    let year = if yy < 50 { 2000 + yy } else { 1900 + yy };
    let with_seconds = b.len() > 10 && b[10].is_ascii_digit();
    let (secs, zone_at) = if with_seconds {
        (civil_seconds(b, year, 2).ok_or_else(bad)?, 12)
    } else {
        let mut padded = b[..10.min(b.len())].to_vec();
        padded.extend_from_slice(b"00");
        (civil_seconds(&padded, year, 2).ok_or_else(bad)?, 10)
    };
    let offset = parse_zone(&b[zone_at.min(b.len())..]).ok_or_else(bad)?;
    Ok((secs - offset, 0))
}

/// `n` ASCII digits at `at`.
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at + n)?;
    s.iter().try_fold(0u32, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// MMDDhhmmss after a year of `year_digits`, as unix seconds (UTC).
fn civil_seconds(b: &[u8], year: i32, year_digits: usize) -> Option<i64> {
    let at = year_digits;
    let month = time::Month::try_from(u8::try_from(digits(b, at, 2)?).ok()?).ok()?;
    let day = u8::try_from(digits(b, at + 2, 2)?).ok()?;
    let hour = u8::try_from(digits(b, at + 4, 2)?).ok()?;
    let minute = u8::try_from(digits(b, at + 6, 2)?).ok()?;
    let second = u8::try_from(digits(b, at + 8, 2)?).ok()?;
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    let t = time::Time::from_hms(hour, minute, second).ok()?;
    Some(
        time::PrimitiveDateTime::new(date, t)
            .assume_utc()
            .unix_timestamp(),
    )
}

/// `Z` or a non-zero `±hhmm` (Go's `Z0700`), as seconds east of UTC.
fn parse_zone(z: &[u8]) -> Option<i64> {
    match z {
        [b'Z'] => Some(0),
        [sign @ (b'+' | b'-'), ..] if z.len() == 5 => {
            let hh = i64::from(digits(z, 1, 2)?);
            let mm = i64::from(digits(z, 3, 2)?);
            if hh > 24 || mm > 59 || (hh == 0 && mm == 0) {
                return None;
            }
            let secs = hh * 3600 + mm * 60;
            Some(if *sign == b'-' { -secs } else { secs })
        }
        _ => None,
    }
}

fn format_time(secs: i64, nanos: u32) -> String {
    match time::OffsetDateTime::from_unix_timestamp(secs) {
        Ok(t) if nanos == 0 => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} +0000 UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Ok(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{nanos:09} +0000 UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => format!("@{secs}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

    const TESTDATA: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/vectors/notation-go/verifier/testdata"
    );

    fn read(rel: &str) -> Vec<u8> {
        std::fs::read(format!("{TESTDATA}/{rel}")).unwrap()
    }

    fn cert(rel: &str) -> Certificate {
        let bytes = read(rel);
        match std::str::from_utf8(&bytes) {
            Ok(text) if text.contains("-----BEGIN") => {
                Certificate::from_pem_chain(text).unwrap().remove(0)
            }
            _ => Certificate::from_der(&bytes).unwrap(),
        }
    }

    fn tsa_root() -> Vec<Certificate> {
        vec![cert(
            "truststore/x509/tsa/test-timestamp/globalsignRoot.cer",
        )]
    }

    /// An envelope's timestamp token, raw signature and certificate chain.
    struct Parts {
        token: Option<Vec<u8>>,
        signature: Vec<u8>,
        chain: Vec<Certificate>,
    }

    fn jws(rel: &str) -> Parts {
        let v: serde_json::Value = serde_json::from_slice(&read(rel)).unwrap();
        let header = &v["header"];
        Parts {
            token: header["io.cncf.notary.timestampSignature"]
                .as_str()
                .map(|t| STANDARD.decode(t).unwrap()),
            signature: URL_SAFE_NO_PAD
                .decode(v["signature"].as_str().unwrap())
                .unwrap(),
            chain: header["x5c"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    Certificate::from_der(&STANDARD.decode(c.as_str().unwrap()).unwrap()).unwrap()
                })
                .collect(),
        }
    }

    /// COSE_Sign1 hand-decoded: tag 18, [protected, unprotected, payload, signature].
    fn cose(rel: &str) -> Parts {
        use crate::notary::cbor::{Decoder, Type};
        let bytes = read(rel);
        let mut d = Decoder::new(&bytes);
        assert_eq!(d.tag().unwrap(), 18);
        assert_eq!(d.array().unwrap(), Some(4));
        d.bytes().unwrap();
        let entries = d.map().unwrap().unwrap();
        let (mut token, mut chain) = (None, Vec::new());
        for _ in 0..entries {
            let key = match d.datatype().unwrap() {
                Type::String => d.str().unwrap().to_string(),
                _ => d.i64().unwrap().to_string(),
            };
            match key.as_str() {
                "io.cncf.notary.timestampSignature" => token = Some(d.bytes().unwrap().to_vec()),
                "33" if d.datatype().unwrap() == Type::Array => {
                    let n = d.array().unwrap().unwrap();
                    for _ in 0..n {
                        chain.push(Certificate::from_der(d.bytes().unwrap()).unwrap());
                    }
                }
                "33" => chain.push(Certificate::from_der(d.bytes().unwrap()).unwrap()),
                _ => d.skip_scalar().unwrap(),
            }
        }
        d.skip_scalar().unwrap();
        let signature = d.bytes().unwrap().to_vec();
        Parts {
            token,
            signature,
            chain,
        }
    }

    fn bad_token(name: &str) -> Vec<u8> {
        read(&format!("timestamp/countersignature/{name}.p7s"))
    }

    fn err_text(r: Result<Timestamp, NotaryError>) -> String {
        match r {
            Err(NotaryError::AuthenticTimestamp(m)) => m,
            other => panic!("expected an AuthenticTimestamp error, got {other:?}"),
        }
    }

    /// 2024-06-18T06:29:37Z.
    const GEN_TIME: i64 = 1_718_692_177;

    #[test]
    fn jws_timestamp_verifies() {
        let p = jws("timestamp/sigEnv/jwsWithTimestamp.sig");
        let ts = verify(
            &p.token.unwrap(),
            &p.signature,
            HashAlgorithm::Sha256,
            &tsa_root(),
        )
        .unwrap();
        assert_eq!(ts.gen_time, GEN_TIME);
        assert_eq!(ts.gen_time_nanos, 0);
        assert_eq!(ts.accuracy_millis, 1000);
        assert_eq!(ts.accuracy_micros, 1_000_000);
        assert_eq!((ts.earliest(), ts.latest()), (GEN_TIME - 1, GEN_TIME + 1));
        assert!(
            ts.tsa_subject
                .contains("Globalsign TSA for Advanced - G4 - 202311")
        );
        // The signer (CN=alpine, valid 2023..2033) was valid at that time.
        ts.check_signing_chain(&p.chain).unwrap();
    }

    #[test]
    fn cose_timestamp_verifies() {
        let p = cose("timestamp/sigEnv/coseWithTimestamp.sig");
        let ts = verify(
            &p.token.unwrap(),
            &p.signature,
            HashAlgorithm::Sha256,
            &tsa_root(),
        )
        .unwrap();
        // Its own token: 2024-06-18T06:27:16Z, from the same TSA.
        assert_eq!((ts.gen_time, ts.accuracy_millis), (1_718_692_036, 1000));
        assert!(
            ts.tsa_subject
                .contains("Globalsign TSA for Advanced - G4 - 202311")
        );
        ts.check_signing_chain(&p.chain).unwrap();
    }

    #[test]
    fn expired_signer_is_covered_by_the_timestamp() {
        for p in [
            jws("timestamp/sigEnv/jwsExpiredWithTimestamp.sig"),
            cose("timestamp/sigEnv/coseExpiredWithTimestamp.sig"),
        ] {
            let ts = verify(
                &p.token.unwrap(),
                &p.signature,
                HashAlgorithm::Sha256,
                &tsa_root(),
            )
            .unwrap();
            ts.check_signing_chain(&p.chain).unwrap();
        }
    }

    #[test]
    fn timestamp_outside_the_signing_chain_validity() {
        let p = jws("timestamp/sigEnv/timestampBeforeNotBefore.sig");
        let ts = verify(
            &p.token.unwrap(),
            &p.signature,
            HashAlgorithm::Sha256,
            &tsa_root(),
        )
        .unwrap();
        assert_eq!(
            ts.check_signing_chain(&p.chain),
            Err(NotaryError::AuthenticTimestamp(
                "timestamp can be before certificate \"CN=testTSA,O=Notary,L=Seattle,ST=WA,C=US\" validity period, it will be valid from \"Fri, 18 Sep 2099 11:54:34 +0000\"".into()
            ))
        );

        let p = cose("timestamp/sigEnv/timestampAfterNotAfter.sig");
        let ts = verify(
            &p.token.unwrap(),
            &p.signature,
            HashAlgorithm::Sha256,
            &tsa_root(),
        )
        .unwrap();
        assert_eq!(
            ts.check_signing_chain(&p.chain),
            Err(NotaryError::AuthenticTimestamp(
                "timestamp can be after certificate \"CN=testTSA,O=Notary,L=Seattle,ST=WA,C=US\" validity period, it was expired at \"Tue, 18 Sep 2001 11:54:34 +0000\"".into()
            ))
        );
    }

    fn without_timestamp_signature() -> Vec<u8> {
        let p = jws("timestamp/sigEnv/withoutTimestamp.sig");
        assert!(p.token.is_none());
        p.signature
    }

    #[test]
    fn bad_token_invalid_content_type() {
        let m = err_text(verify(
            &bad_token("TimeStampTokenWithInvalideContentType"),
            &without_timestamp_signature(),
            HashAlgorithm::Sha256,
            &tsa_root(),
        ));
        assert_eq!(
            m,
            "failed to parse timestamp countersignature with error: unexpected content type: 1.2.840.113549.1.7.1. Expected to be id-ct-TSTInfo (1.2.840.113549.1.9.16.1.4)"
        );
    }

    #[test]
    fn bad_token_invalid_tst_info() {
        let m = err_text(verify(
            &bad_token("TimeStampTokenWithInvalidTSTInfo"),
            &without_timestamp_signature(),
            HashAlgorithm::Sha256,
            &tsa_root(),
        ));
        assert!(
            m.starts_with(
                "failed to get the timestamp TSTInfo with error: cannot unmarshal TSTInfo from timestamp token: asn1: structure error: tags don't match"
            ),
            "{m}"
        );
        assert!(m.ends_with("genTime"), "{m}");
    }

    #[test]
    fn bad_token_mismatched_message() {
        // Upstream sets the envelope signature to "mismatch"; the real
        // signature of withoutTimestamp.sig mismatches too.
        for sig in [b"mismatch".to_vec(), without_timestamp_signature()] {
            let m = err_text(verify(
                &bad_token("TimeStampToken"),
                &sig,
                HashAlgorithm::Sha256,
                &tsa_root(),
            ));
            assert_eq!(
                m,
                "failed to get timestamp from timestamp countersignature with error: invalid TSTInfo: mismatched message"
            );
        }
    }

    #[test]
    fn bad_token_without_certificate() {
        // The token's imprint is sha256("notation"): upstream's test sets
        // the envelope signature to that; with withoutTimestamp.sig's own
        // signature the imprint check fails first.
        let m = err_text(verify(
            &bad_token("TimeStampTokenWithoutCertificate"),
            b"notation",
            HashAlgorithm::Sha256,
            &tsa_root(),
        ));
        assert_eq!(
            m,
            "failed to verify the timestamp countersignature with error: failed to verify signed token: signing certificate not found in the timestamp token"
        );
        let m = err_text(verify(
            &bad_token("TimeStampTokenWithoutCertificate"),
            &without_timestamp_signature(),
            HashAlgorithm::Sha256,
            &tsa_root(),
        ));
        assert!(m.ends_with("invalid TSTInfo: mismatched message"), "{m}");
    }

    /// 2021-09-17T14:09:10Z.
    const OLD_GEN_TIME: i64 = 1_631_887_750;

    #[test]
    fn older_globalsign_token_verifies_directly_and_through_a_cross_certificate() {
        // TimeStampToken.p7s is a valid token over "notation"; it carries
        // Root R6 cross-signed by Root R3 and R3 itself.
        let token = bad_token("TimeStampToken");
        let ts = verify(&token, b"notation", HashAlgorithm::Sha256, &tsa_root()).unwrap();
        assert_eq!((ts.gen_time, ts.accuracy_millis), (OLD_GEN_TIME, 1000));
        let r3 = vec![cert(
            "truststore/x509/ca/valid-trust-store/GlobalSignRootCA.crt",
        )];
        let ts = verify(&token, b"notation", HashAlgorithm::Sha256, &r3).unwrap();
        assert_eq!(ts.gen_time, OLD_GEN_TIME);
        let signed = SignedToken::parse(&token).unwrap();
        let chain = signed.verify((OLD_GEN_TIME, 0), &r3).unwrap();
        let subjects: Vec<&str> = chain.iter().map(|c| c.subject()).collect();
        assert_eq!(subjects.len(), 4, "{subjects:?}");
        assert!(subjects[2].contains("Root CA - R6") && subjects[3].contains("Root CA - R3"));
    }

    #[test]
    fn untrusted_tsa_root() {
        let p = jws("timestamp/sigEnv/jwsWithTimestamp.sig");
        let token = p.token.unwrap();
        for root in [
            "truststore/x509/tsa/test-mismatch/DigiCertTSARootSHA384.cer",
            "truststore/x509/ca/valid-trust-store/NotationTestRoot.pem",
            // Root R3 does not issue the 2023 token's chain (no cross certificate in it).
            "truststore/x509/ca/valid-trust-store/GlobalSignRootCA.crt",
        ] {
            let m = err_text(verify(
                &token,
                &p.signature,
                HashAlgorithm::Sha256,
                &[cert(root)],
            ));
            assert_eq!(
                m,
                "failed to verify the timestamp countersignature with error: failed to verify signed token: cms verification failure: x509: certificate signed by unknown authority",
                "{root}"
            );
        }
        let m = err_text(verify(&token, &p.signature, HashAlgorithm::Sha256, &[]));
        assert_eq!(m, "no trusted TSA certificate found in trust store");
    }

    #[test]
    fn imprint_hash_must_be_the_signature_algorithm_hash() {
        let p = jws("timestamp/sigEnv/jwsWithTimestamp.sig");
        let m = err_text(verify(
            &p.token.unwrap(),
            &p.signature,
            HashAlgorithm::Sha384,
            &tsa_root(),
        ));
        assert!(
            m.starts_with("failed to get timestamp from timestamp countersignature with error: invalid TSTInfo: message imprint hash algorithm SHA-256 is not SHA-384"),
            "{m}"
        );
    }

    fn good() -> (Vec<u8>, Vec<u8>) {
        let p = jws("timestamp/sigEnv/jwsWithTimestamp.sig");
        (p.token.unwrap(), p.signature)
    }

    #[test]
    fn tampered_cms_signature_fails() {
        let (mut token, sig) = good();
        // The SignerInfo's signature is the token's last element.
        let last = token.len() - 1;
        token[last] ^= 1;
        let m = err_text(verify(&token, &sig, HashAlgorithm::Sha256, &tsa_root()));
        assert_eq!(
            m,
            "failed to verify the timestamp countersignature with error: failed to verify signed token: cms verification failure: crypto/rsa: verification error"
        );
    }

    #[test]
    fn tampered_tst_info_fails() {
        let (token, sig) = good();
        let imprint = HashAlgorithm::Sha256.digest(&sig);
        let at = token
            .windows(imprint.len())
            .position(|w| w == imprint.as_slice())
            .unwrap();
        // The imprint itself.
        let mut t = token.clone();
        t[at] ^= 1;
        let m = err_text(verify(&t, &sig, HashAlgorithm::Sha256, &tsa_root()));
        assert!(m.ends_with("invalid TSTInfo: mismatched message"), "{m}");
        // The serial number right after it (INTEGER tag, length, content).
        let mut t = token.clone();
        t[at + imprint.len() + 3] ^= 1;
        let m = err_text(verify(&t, &sig, HashAlgorithm::Sha256, &tsa_root()));
        assert_eq!(
            m,
            "failed to verify the timestamp countersignature with error: failed to verify signed token: cms verification failure: mismatch message digest"
        );
    }

    #[test]
    fn signature_of_another_envelope_fails() {
        let (token, _) = good();
        let other = cose("timestamp/sigEnv/coseWithTimestamp.sig").signature;
        let m = err_text(verify(&token, &other, HashAlgorithm::Sha256, &tsa_root()));
        assert!(m.ends_with("invalid TSTInfo: mismatched message"), "{m}");
    }

    #[test]
    fn non_minimal_ber_lengths_are_accepted_as_tspclient_does() {
        let (token, sig) = good();
        // 30 82 LL LL -> 30 84 00 00 LL LL
        assert_eq!(&token[..2], &[0x30, 0x82]);
        let mut ber = vec![0x30, 0x84, 0x00, 0x00];
        ber.extend_from_slice(&token[2..]);
        let ts = verify(&ber, &sig, HashAlgorithm::Sha256, &tsa_root()).unwrap();
        assert_eq!(ts.gen_time, GEN_TIME);
        // Indefinite lengths are not (tspclient-go does not either).
        let mut indefinite = vec![0x30, 0x80];
        indefinite.extend_from_slice(&token[4..]);
        indefinite.extend_from_slice(&[0, 0]);
        let m = err_text(verify(
            &indefinite,
            &sig,
            HashAlgorithm::Sha256,
            &tsa_root(),
        ));
        assert!(m.contains("indefinite length"), "{m}");
    }

    #[test]
    fn garbage_truncated_and_oversize_tokens_error_without_panic() {
        let (token, sig) = good();
        let roots = tsa_root();
        for input in [
            &b""[..],
            b"\x30",
            b"\x30\x00",
            b"\x04\x03abc",
            b"garbage",
            &[0xff; 64],
        ] {
            let m = err_text(verify(input, &sig, HashAlgorithm::Sha256, &roots));
            assert!(
                m.starts_with("failed to parse timestamp countersignature"),
                "{m}"
            );
        }
        for len in 0..token.len() {
            assert!(verify(&token[..len], &sig, HashAlgorithm::Sha256, &roots).is_err());
        }
        let mut big = token.clone();
        big.resize(MAX_TOKEN_BYTES + 1, 0);
        let m = err_text(verify(&big, &sig, HashAlgorithm::Sha256, &roots));
        assert!(m.contains("over the limit"), "{m}");
        // Deep nesting is refused, not recursed into.
        let mut deep = Vec::new();
        for _ in 0..200 {
            let mut outer = vec![0x30];
            push_length(&mut outer, deep.len());
            outer.extend_from_slice(&deep);
            deep = outer;
        }
        let m = err_text(verify(&deep, &sig, HashAlgorithm::Sha256, &roots));
        assert!(m.contains("nesting deeper"), "{m}");
    }

    #[test]
    fn flipped_bytes_anywhere_never_panic_or_verify() {
        let (token, sig) = good();
        let roots = tsa_root();
        // Parts of jwsWithTimestamp.sig's token that no check reads (nor
        // does tspclient-go's): the SignedData digestAlgorithms set, the
        // token's copy of Root R6 (the trust store's copy is the anchor),
        // the SignerInfo sid (signing-certificate-v2 names the signer) and
        // the NULL parameters of the signature algorithm.
        let unread = [26..41, 3575..4990, 5001..5112, 5445..5447];
        for i in (0..token.len()).step_by(5) {
            let mut t = token.clone();
            t[i] ^= 0x41;
            if verify(&t, &sig, HashAlgorithm::Sha256, &roots).is_ok() {
                assert!(
                    unread.iter().any(|r| r.contains(&i)),
                    "a flipped byte at {i} still verifies"
                );
            }
        }
    }

    #[test]
    fn generalized_time_as_go_parses_it() {
        assert_eq!(
            parse_generalized_time(b"20240618062937Z"),
            Ok((GEN_TIME, 0))
        );
        assert_eq!(
            parse_generalized_time(b"20240618062937.5Z"),
            Ok((GEN_TIME, 500_000_000))
        );
        assert_eq!(
            parse_generalized_time(b"20240618062937.123456789Z"),
            Ok((GEN_TIME, 123_456_789))
        );
        assert_eq!(
            parse_generalized_time(b"20240618072937+0100"),
            Ok((GEN_TIME, 0))
        );
        assert_eq!(
            parse_generalized_time(b"20240618052937-0100"),
            Ok((GEN_TIME, 0))
        );
        for bad in [
            &b"20240618062937.50Z"[..],
            b"20240618062937.Z",
            b"20240618062937.1234567891Z",
            b"20240618062937+0000",
            b"20240618062937",
            b"202406180629Z",
            b"20240230062937Z",
            b"20240618062960Z",
            b"20240618062937z",
            b"2024061806293\xffZ",
        ] {
            assert!(parse_generalized_time(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_utc_time(b"240618062937Z"), Ok((GEN_TIME, 0)));
        assert_eq!(parse_utc_time(b"2406180629Z"), Ok((GEN_TIME - 37, 0)));
        assert_eq!(parse_utc_time(b"700101000000Z"), Ok((0, 0)));
    }

    fn ts(gen_time: i64, gen_time_nanos: u32, accuracy_micros: u64) -> Timestamp {
        Timestamp {
            gen_time,
            gen_time_nanos,
            accuracy_millis: accuracy_micros.div_ceil(1000),
            accuracy_micros,
            tsa_subject: String::new(),
        }
    }

    #[test]
    fn range_is_rounded_outward() {
        assert_eq!((ts(10, 0, 0).earliest(), ts(10, 0, 0).latest()), (10, 10));
        assert_eq!(
            (
                ts(10, 500_000_000, 0).earliest(),
                ts(10, 500_000_000, 0).latest()
            ),
            (10, 11)
        );
        let t = ts(10, 0, 1500);
        assert_eq!((t.earliest(), t.latest()), (9, 11));
        let t = ts(10, 999_999_999, 2_000_000);
        assert_eq!((t.earliest(), t.latest()), (8, 13));
        let t = ts(i64::MAX, 999_999_999, u64::MAX);
        assert_eq!(t.latest(), i64::MAX);
    }

    /// A TSTInfo with the given genTime and accuracy TLVs.
    fn tst_info(policy: &str, gen_time: &[u8], accuracy: &[u8], imprint_of: &[u8]) -> Vec<u8> {
        let mut body = vec![0x02, 0x01, 0x01];
        body.extend(ObjectIdentifier::new_unwrap(policy).to_der().unwrap());
        let digest = HashAlgorithm::Sha256.digest(imprint_of);
        let mut alg = vec![0x30, 0x0d];
        alg.extend(ID_SHA256.to_der().unwrap());
        alg.extend([0x05, 0x00]);
        let mut mi = alg;
        mi.push(0x04);
        mi.push(digest.len() as u8);
        mi.extend(&digest);
        body.push(0x30);
        body.push(mi.len() as u8);
        body.extend(mi);
        body.extend([0x02, 0x01, 0x07]);
        body.push(0x18);
        body.push(gen_time.len() as u8);
        body.extend(gen_time);
        body.extend(accuracy);
        let mut out = vec![0x30];
        push_length(&mut out, body.len());
        out.extend(body);
        out
    }

    #[test]
    fn tst_info_accuracy_and_policy() {
        let msg = b"sig";
        let check = |policy, acc: &[u8]| {
            TstInfo::parse(&tst_info(policy, b"20240618062937.25Z", acc, msg))
                .unwrap()
                .validate(msg, HashAlgorithm::Sha256)
        };
        // seconds 1, millis 500, micros 7
        assert_eq!(
            check(
                "1.2.3",
                &[
                    0x30, 0x0a, 0x02, 0x01, 0x01, 0x80, 0x02, 0x01, 0xf4, 0x81, 0x01, 0x07
                ]
            ),
            Ok(1_500_007)
        );
        assert_eq!(check("1.2.3", &[0x30, 0x03, 0x80, 0x01, 0x05]), Ok(5000));
        // No accuracy: 0, or 1 s under the RFC 3628 baseline policy.
        assert_eq!(check("1.2.3", &[]), Ok(0));
        assert_eq!(check("0.4.0.2023.1.1", &[]), Ok(1_000_000));
        assert_eq!(check("0.4.0.2023.1.1", &[0x30, 0x00]), Ok(1_000_000));
        // Negative accuracy is refused.
        assert!(check("1.2.3", &[0x30, 0x03, 0x02, 0x01, 0xff]).is_err());
        // Unknown trailing elements are ignored, as Go's asn1 does.
        assert_eq!(check("1.2.3", &[0x30, 0x00, 0x0c, 0x01, b'x']), Ok(0));
        let info = TstInfo::parse(&tst_info("1.2.3", b"20240618062937.25Z", &[], msg)).unwrap();
        assert_eq!(info.gen_time, (GEN_TIME, 250_000_000));
        // Version 2 and a wrong message.
        let mut v2 = tst_info("1.2.3", b"20240618062937Z", &[], msg);
        v2[4] = 2;
        assert_eq!(
            TstInfo::parse(&v2)
                .unwrap()
                .validate(msg, HashAlgorithm::Sha256),
            Err("timestamp token info version must be 1, but got 2".into())
        );
        assert_eq!(
            TstInfo::parse(&tst_info("1.2.3", b"20240618062937Z", &[], msg))
                .unwrap()
                .validate(b"other", HashAlgorithm::Sha256),
            Err("mismatched message".into())
        );
    }

    #[test]
    fn tst_info_decode_errors() {
        for bad in [
            &b""[..],
            b"\x30\x00",
            b"\x31\x03\x02\x01\x01",
            b"\x30\x03\x02\x00",
            b"\x30\x04\x02\x02\x00\x01",
            b"\x30\x81\x03\x02\x01\x01",
        ] {
            assert!(TstInfo::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tsa_chain_rules() {
        let token = bad_token("TimeStampToken");
        let signed = SignedToken::parse(&token).unwrap();
        let roots = tsa_root();
        let chain = signed.verify((OLD_GEN_TIME, 0), &roots).unwrap();
        assert_eq!(chain.len(), 3);
        validate_timestamping_chain(&chain).unwrap();
        // A CA is not a timestamping leaf.
        let m = validate_leaf(chain[1]).unwrap_err();
        assert!(m.contains("the ca field must be set to false"), "{m}");
        // A leaf (the Notary code-signing test certificate) is not a CA,
        // and has no timeStamping key usage.
        let notary = cert("truststore/x509/ca/valid-trust-store/wabbit-networks.io.crt");
        assert!(
            validate_ca(&notary, 0)
                .unwrap_err()
                .contains("ca field in basic constraints")
        );
        let m = validate_leaf(&notary).unwrap_err();
        assert!(
            m.contains("must have and only have Timestamping as extended key usage"),
            "{m}"
        );
        // The root must end the chain; a leaf may not be self-signed.
        let m = validate_timestamping_chain(&[chain[0], chain[1]]).unwrap_err();
        assert!(m.contains("is invalid or not self-signed"), "{m}");
        let m = validate_timestamping_chain(&[chain[2], chain[2]]).unwrap_err();
        assert!(m.contains("leaf certificate with subject"), "{m}");
        // Path length: the G4 CA (pathlen 0) admits no CA below it.
        validate_ca(chain[1], 0).unwrap();
        let m = validate_ca(chain[1], 1).unwrap_err();
        assert!(
            m.contains("expected path length of 1 but certificate has path length 0"),
            "{m}"
        );
        // genTime outside the TSA leaf's validity (2021-05-27..2032-06-28).
        let m = signed.verify((1_600_000_000, 0), &roots).unwrap_err();
        assert!(
            m.contains("x509: certificate has expired or is not yet valid"),
            "{m}"
        );
    }
}
