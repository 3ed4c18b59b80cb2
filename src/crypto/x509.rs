//! X.509 certificates as Sigstore and Notary use them: parsing (strict DER,
//! bounded), signatures by an issuer, validity at a given instant (never the
//! wall clock), chains to trust anchors the caller supplies, subject
//! alternative names and raw extensions.
//!
//! Path rules follow Go's `crypto/x509` as cosign calls it: every issuer is
//! a CA (basic constraints, `keyCertSign` when key usage is present, path
//! length), names chain by their DER encoding, unknown critical extensions
//! fail, the extended key usage must allow the purpose along the path, and
//! only the caller's anchors are trusted.

use super::{CryptoError, HashAlgorithm, PublicKey};
use der::{Decode, Encode, Tagged};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName};

/// Largest certificate accepted (Fulcio leaves are about 1 KiB).
pub const MAX_CERTIFICATE_BYTES: usize = 64 * 1024;
/// Most certificates in one chain, leaf included.
pub const MAX_CHAIN_LENGTH: usize = 10;

const OID_KEY_USAGE: &str = "2.5.29.15";
const OID_SAN: &str = "2.5.29.17";
const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";
const OID_EKU: &str = "2.5.29.37";
const OID_SKI: &str = "2.5.29.14";
const OID_AKI: &str = "2.5.29.35";
const OID_CERT_POLICIES: &str = "2.5.29.32";
/// `id-kp-codeSigning`.
pub const OID_EKU_CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";
/// `id-kp-timeStamping`.
pub const OID_EKU_TIME_STAMPING: &str = "1.3.6.1.5.5.7.3.8";
const OID_EKU_ANY: &str = "2.5.29.37.0";

/// Why a certificate or chain was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum X509Error {
    /// Not a DER X.509 certificate.
    #[error("malformed certificate: {0}")]
    Malformed(String),
    /// Larger than [`MAX_CERTIFICATE_BYTES`].
    #[error("certificate of {0} bytes is over the limit of {MAX_CERTIFICATE_BYTES}")]
    TooLarge(usize),
    /// An extension appears twice.
    #[error("certificate has extension {0} more than once")]
    DuplicateExtension(String),
    /// A critical extension this verifier does not process.
    #[error("certificate {subject} has an unhandled critical extension {oid}")]
    UnhandledCritical {
        /// Subject of the certificate.
        subject: String,
        /// Extension OID.
        oid: String,
    },
    /// The certificate's key cannot be loaded.
    #[error("certificate {subject}: {source}")]
    Key {
        /// Subject of the certificate.
        subject: String,
        /// Why.
        source: CryptoError,
    },
    /// A signature algorithm this verifier does not support.
    #[error("unsupported certificate signature algorithm {0}")]
    UnsupportedAlgorithm(String),
    /// The certificate's signature does not verify with its issuer's key.
    #[error("certificate {subject} is not signed by {issuer}: {source}")]
    BadSignature {
        /// Subject of the certificate.
        subject: String,
        /// Subject of the would-be issuer.
        issuer: String,
        /// Why.
        source: CryptoError,
    },
    /// Outside its validity period at the verification time.
    #[error("certificate {subject} is not valid at {at} (valid {not_before} to {not_after})")]
    Expired {
        /// Subject of the certificate.
        subject: String,
        /// Verification time (unix seconds).
        at: i64,
        /// Start of validity (unix seconds).
        not_before: i64,
        /// End of validity, inclusive (unix seconds).
        not_after: i64,
    },
    /// An issuer that may not issue certificates.
    #[error("certificate {0} is not a CA and cannot issue certificates")]
    NotCa(String),
    /// A path length constraint is exceeded.
    #[error("certificate {0}: path length constraint exceeded")]
    PathLength(String),
    /// The extended key usage forbids the purpose.
    #[error("certificate {subject} does not allow extended key usage {purpose}")]
    KeyPurpose {
        /// Subject of the certificate.
        subject: String,
        /// Required purpose OID.
        purpose: String,
    },
    /// No trusted chain was found.
    #[error("certificate chain does not lead to a trusted root: {0}")]
    Untrusted(String),
    /// The chain is longer than [`MAX_CHAIN_LENGTH`].
    #[error("certificate chain longer than {MAX_CHAIN_LENGTH}")]
    ChainTooLong,
}

/// One subject alternative name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SanEntry {
    /// `rfc822Name`.
    Email(String),
    /// `uniformResourceIdentifier`.
    Uri(String),
    /// `dNSName`.
    Dns(String),
    /// `otherName` with its type OID and the UTF8String value (when it is one).
    Other {
        /// Type OID.
        oid: String,
        /// Value as UTF-8, when the value is a UTF8String.
        value: Option<String>,
    },
    /// A name type the verifier does not match on (IP, directory, …).
    Unsupported,
}

/// A parsed certificate with the parts verification reads.
#[derive(Debug, Clone)]
pub struct Certificate {
    der: Vec<u8>,
    cert: x509_cert::Certificate,
    tbs_der: Vec<u8>,
    subject: String,
    subject_der: Vec<u8>,
    issuer_der: Vec<u8>,
    spki_der: Vec<u8>,
    not_before: i64,
    not_after: i64,
}

impl Certificate {
    /// Parses one DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, X509Error> {
        if der.len() > MAX_CERTIFICATE_BYTES {
            return Err(X509Error::TooLarge(der.len()));
        }
        let m = |e: der::Error| X509Error::Malformed(e.to_string());
        let cert = x509_cert::Certificate::from_der(der).map_err(m)?;
        let tbs = cert.tbs_certificate();
        // Fulcio leaves have an empty subject: messages name them by serial.
        let subject = match tbs.subject().to_string() {
            s if s.is_empty() => format!(
                "(empty subject, serial {})",
                crate::digest::hex_encode(tbs.serial_number().as_bytes())
            ),
            s => s,
        };
        let mut seen = std::collections::BTreeSet::new();
        for ext in tbs.extensions().into_iter().flatten() {
            let oid = ext.extn_id.to_string();
            if !seen.insert(oid.clone()) {
                return Err(X509Error::DuplicateExtension(oid));
            }
        }
        let not_before = unix(tbs.validity().not_before);
        let not_after = unix(tbs.validity().not_after);
        Ok(Certificate {
            tbs_der: tbs.to_der().map_err(m)?,
            subject_der: tbs.subject().to_der().map_err(m)?,
            issuer_der: tbs.issuer().to_der().map_err(m)?,
            spki_der: tbs.subject_public_key_info().to_der().map_err(m)?,
            subject,
            not_before,
            not_after,
            der: der.to_vec(),
            cert,
        })
    }

    /// Parses every `CERTIFICATE` block of a PEM text, in order.
    pub fn from_pem_chain(text: &str) -> Result<Vec<Self>, X509Error> {
        let blocks =
            super::pem::parse_blocks(text).map_err(|e| X509Error::Malformed(e.to_string()))?;
        if blocks.len() > MAX_CHAIN_LENGTH {
            return Err(X509Error::ChainTooLong);
        }
        let mut out = Vec::new();
        for b in blocks {
            if b.label != "CERTIFICATE" {
                return Err(X509Error::Malformed(format!(
                    "expected a CERTIFICATE PEM block, found {}",
                    b.label
                )));
            }
            out.push(Self::from_der(&b.der)?);
        }
        if out.is_empty() {
            return Err(X509Error::Malformed("no CERTIFICATE PEM block".into()));
        }
        Ok(out)
    }

    /// The certificate's DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The DER of the TBSCertificate (what the issuer signed).
    pub fn tbs_der(&self) -> &[u8] {
        &self.tbs_der
    }

    /// The subject as an RFC 4514 string (for messages).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The SubjectPublicKeyInfo DER.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The subject's public key.
    pub fn public_key(&self) -> Result<PublicKey, X509Error> {
        PublicKey::from_spki_der(&self.spki_der).map_err(|source| X509Error::Key {
            subject: self.subject.clone(),
            source,
        })
    }

    /// Start of validity (unix seconds).
    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    /// End of validity, inclusive (unix seconds).
    pub fn not_after(&self) -> i64 {
        self.not_after
    }

    /// Checks `not_before <= at <= not_after`.
    pub fn check_valid_at(&self, at: i64) -> Result<(), X509Error> {
        if at < self.not_before || at > self.not_after {
            return Err(X509Error::Expired {
                subject: self.subject.clone(),
                at,
                not_before: self.not_before,
                not_after: self.not_after,
            });
        }
        Ok(())
    }

    /// The value of the extension with this OID and whether it is critical.
    pub fn extension(&self, oid: &str) -> Option<(bool, &[u8])> {
        self.cert
            .tbs_certificate()
            .extensions()
            .into_iter()
            .flatten()
            .find(|e| e.extn_id.to_string() == oid)
            .map(|e| (e.critical, e.extn_value.as_bytes()))
    }

    /// Every extension: OID, critical, value.
    pub fn extensions(&self) -> impl Iterator<Item = (String, bool, &[u8])> {
        self.cert
            .tbs_certificate()
            .extensions()
            .into_iter()
            .flatten()
            .map(|e| (e.extn_id.to_string(), e.critical, e.extn_value.as_bytes()))
    }

    fn decode_ext<'a, T: Decode<'a>>(&'a self, oid: &str) -> Result<Option<T>, X509Error> {
        match self.extension(oid) {
            None => Ok(None),
            Some((_, v)) => T::from_der(v).map(Some).map_err(|e| {
                X509Error::Malformed(format!("{}: extension {oid}: {e}", self.subject))
            }),
        }
    }

    /// Whether basic constraints mark it a CA, and its path length limit.
    pub fn basic_constraints(&self) -> Result<Option<BasicConstraints>, X509Error> {
        self.decode_ext(OID_BASIC_CONSTRAINTS)
    }

    /// The subject alternative names.
    pub fn subject_alt_names(&self) -> Result<Vec<SanEntry>, X509Error> {
        let Some(san) = self.decode_ext::<SubjectAltName>(OID_SAN)? else {
            return Ok(Vec::new());
        };
        Ok(san
            .0
            .iter()
            .map(|n| match n {
                GeneralName::Rfc822Name(s) => SanEntry::Email(s.to_string()),
                GeneralName::UniformResourceIdentifier(s) => SanEntry::Uri(s.to_string()),
                GeneralName::DnsName(s) => SanEntry::Dns(s.to_string()),
                GeneralName::OtherName(o) => SanEntry::Other {
                    oid: o.type_id.to_string(),
                    value: o
                        .value
                        .decode_as::<der::asn1::Utf8StringRef>()
                        .ok()
                        .map(|s| s.as_str().to_string()),
                },
                _ => SanEntry::Unsupported,
            })
            .collect())
    }

    /// The key usage bits, `None` when the extension is absent.
    pub fn key_usage(&self) -> Result<Option<KeyUsage>, X509Error> {
        self.decode_ext(OID_KEY_USAGE)
    }

    /// Whether the key usage extension is present and critical.
    pub fn key_usage_critical(&self) -> Option<bool> {
        self.extension(OID_KEY_USAGE).map(|(critical, _)| critical)
    }

    /// Whether the subject and issuer names are the same bytes.
    pub fn is_self_issued(&self) -> bool {
        self.subject_der == self.issuer_der
    }

    /// The subject's attributes in order, each as (OID, string value, RDN
    /// index); values that are not strings are `None`.
    pub fn subject_attributes(&self) -> Vec<(String, Option<String>, usize)> {
        let mut out = Vec::new();
        for (i, rdn) in self.cert.tbs_certificate().subject().iter_rdn().enumerate() {
            for atv in rdn.iter() {
                let value = atv
                    .value
                    .decode_as::<der::asn1::Utf8StringRef>()
                    .map(|s| s.as_str().to_string())
                    .or_else(|_| {
                        atv.value
                            .decode_as::<der::asn1::PrintableStringRef>()
                            .map(|s| s.as_str().to_string())
                    })
                    .or_else(|_| {
                        atv.value
                            .decode_as::<der::asn1::Ia5StringRef>()
                            .map(|s| s.as_str().to_string())
                    })
                    .or_else(|_| {
                        atv.value
                            .decode_as::<der::asn1::TeletexStringRef>()
                            .map(|s| s.as_str().to_string())
                    })
                    .ok();
                out.push((atv.oid.to_string(), value, i));
            }
        }
        out
    }

    /// Extended key usage OIDs, `None` when the extension is absent.
    pub fn extended_key_usage(&self) -> Result<Option<Vec<String>>, X509Error> {
        Ok(self
            .decode_ext::<ExtendedKeyUsage>(OID_EKU)?
            .map(|e| e.0.iter().map(|o| o.to_string()).collect()))
    }

    /// Fails unless the extended key usage (when present) allows `purpose`.
    pub fn check_purpose(&self, purpose: &str) -> Result<(), X509Error> {
        match self.extended_key_usage()? {
            Some(list) if !list.iter().any(|o| o == purpose || o == OID_EKU_ANY) => {
                Err(X509Error::KeyPurpose {
                    subject: self.subject.clone(),
                    purpose: purpose.to_string(),
                })
            }
            _ => Ok(()),
        }
    }

    /// Fails on a critical extension outside those `handled` by the caller
    /// and the ones this module processes.
    pub fn check_critical_extensions(&self, handled: &[&str]) -> Result<(), X509Error> {
        const ALWAYS: [&str; 7] = [
            OID_KEY_USAGE,
            OID_SAN,
            OID_BASIC_CONSTRAINTS,
            OID_EKU,
            OID_SKI,
            OID_AKI,
            OID_CERT_POLICIES,
        ];
        for (oid, critical, _) in self.extensions() {
            if critical && !ALWAYS.contains(&oid.as_str()) && !handled.contains(&oid.as_str()) {
                return Err(X509Error::UnhandledCritical {
                    subject: self.subject.clone(),
                    oid,
                });
            }
        }
        Ok(())
    }

    /// Whether `issuer`'s subject is this certificate's issuer name.
    pub fn names_issuer(&self, issuer: &Certificate) -> bool {
        self.issuer_der == issuer.subject_der
    }

    /// Verifies this certificate's signature with `issuer`'s key, and that
    /// `issuer` may issue certificates.
    pub fn verify_issued_by(&self, issuer: &Certificate) -> Result<(), X509Error> {
        let bc = issuer.basic_constraints()?;
        if !bc.as_ref().is_some_and(|b| b.ca) {
            return Err(X509Error::NotCa(issuer.subject.clone()));
        }
        if let Some(ku) = issuer.decode_ext::<KeyUsage>(OID_KEY_USAGE)?
            && !ku.key_cert_sign()
        {
            return Err(X509Error::NotCa(issuer.subject.clone()));
        }
        self.verify_signed_by(issuer)
    }

    /// Verifies only this certificate's signature with `issuer`'s key (no
    /// CA checks: a self-signed leaf is checked with its own key).
    pub fn verify_signed_by(&self, issuer: &Certificate) -> Result<(), X509Error> {
        let key = issuer.public_key()?;
        let sig = self.cert.signature().as_bytes().ok_or_else(|| {
            X509Error::Malformed(format!("{}: signature is not whole bytes", self.subject))
        })?;
        let alg = self.cert.signature_algorithm();
        let checked = match alg.oid.to_string().as_str() {
            "1.2.840.10045.4.3.2" => {
                key.verify_ecdsa_der(HashAlgorithm::Sha256, &self.tbs_der, sig)
            }
            "1.2.840.10045.4.3.3" => {
                key.verify_ecdsa_der(HashAlgorithm::Sha384, &self.tbs_der, sig)
            }
            "1.2.840.10045.4.3.4" => {
                key.verify_ecdsa_der(HashAlgorithm::Sha512, &self.tbs_der, sig)
            }
            "1.2.840.113549.1.1.11" => {
                key.verify_rsa_pkcs1v15(HashAlgorithm::Sha256, &self.tbs_der, sig)
            }
            "1.2.840.113549.1.1.12" => {
                key.verify_rsa_pkcs1v15(HashAlgorithm::Sha384, &self.tbs_der, sig)
            }
            "1.2.840.113549.1.1.13" => {
                key.verify_rsa_pkcs1v15(HashAlgorithm::Sha512, &self.tbs_der, sig)
            }
            OID_RSASSA_PSS => {
                let (hash, salt) = pss_parameters(alg.parameters.as_ref()).map_err(|e| {
                    X509Error::Malformed(format!("{}: RSASSA-PSS parameters: {e}", self.subject))
                })?;
                key.verify_rsa_pss(hash, Some(salt), &self.tbs_der, sig)
            }
            "1.3.101.112" => key.verify_ed25519(&self.tbs_der, sig),
            other => return Err(X509Error::UnsupportedAlgorithm(other.to_string())),
        };
        checked.map_err(|source| X509Error::BadSignature {
            subject: self.subject.clone(),
            issuer: issuer.subject.clone(),
            source,
        })
    }

    /// The TBSCertificate re-encoded without the extension `oid` (RFC 6962
    /// precertificate reconstruction for SCT verification).
    pub fn tbs_without_extension(&self, oid: &str) -> Result<Vec<u8>, X509Error> {
        use der::asn1::{AnyRef, ContextSpecific};
        use der::{Tag, TagMode, TagNumber, Tagged};
        let m = |e: der::Error| X509Error::Malformed(e.to_string());
        let tbs = AnyRef::from_der(&self.tbs_der).map_err(m)?;
        if tbs.tag() != Tag::Sequence {
            return Err(X509Error::Malformed(
                "TBSCertificate is not a SEQUENCE".into(),
            ));
        }
        let fields: Vec<AnyRef> = read_all(tbs.value()).map_err(m)?;
        let mut out: Vec<u8> = Vec::new();
        for f in fields {
            let is_extensions = matches!(f.tag(), Tag::ContextSpecific { number, constructed: true } if number == TagNumber(3));
            if !is_extensions {
                f.encode_to_vec(&mut out).map_err(m)?;
                continue;
            }
            let list = AnyRef::from_der(f.value()).map_err(m)?;
            let kept: Vec<AnyRef> = read_all(list.value())
                .map_err(m)?
                .into_iter()
                .filter(|e| {
                    e.decode_as::<x509_cert::ext::Extension>()
                        .map(|x| x.extn_id.to_string() != oid)
                        .unwrap_or(true)
                })
                .collect();
            ContextSpecific {
                tag_number: TagNumber(3),
                tag_mode: TagMode::Explicit,
                value: kept,
            }
            .encode_to_vec(&mut out)
            .map_err(m)?;
        }
        let header = der::Header::new(Tag::Sequence, der::Length::try_from(out.len()).map_err(m)?);
        let mut full = header.to_der().map_err(m)?;
        full.extend_from_slice(&out);
        Ok(full)
    }
}

/// `id-RSASSA-PSS`.
const OID_RSASSA_PSS: &str = "1.2.840.113549.1.1.10";

/// The hash and salt length of RSASSA-PSS-params (RFC 4055); the mask
/// generation must be MGF1 with the same hash, and the trailer field 1.
fn pss_parameters(params: Option<&der::asn1::Any>) -> Result<(HashAlgorithm, usize), String> {
    use der::asn1::{AnyRef, ObjectIdentifier};
    let Some(params) = params else {
        return Err("missing".into());
    };
    let seq = params.to_der().map_err(|e| e.to_string())?;
    let seq = AnyRef::from_der(&seq).map_err(|e| e.to_string())?;
    if seq.tag() != der::Tag::Sequence {
        return Err("not a SEQUENCE".into());
    }
    let hash_of = |alg: AnyRef<'_>| -> Result<HashAlgorithm, String> {
        let fields = read_all(alg.value()).map_err(|e| e.to_string())?;
        let oid = fields
            .first()
            .ok_or("empty AlgorithmIdentifier")?
            .decode_as::<ObjectIdentifier>()
            .map_err(|e| e.to_string())?;
        match oid.to_string().as_str() {
            "2.16.840.1.101.3.4.2.1" => Ok(HashAlgorithm::Sha256),
            "2.16.840.1.101.3.4.2.2" => Ok(HashAlgorithm::Sha384),
            "2.16.840.1.101.3.4.2.3" => Ok(HashAlgorithm::Sha512),
            other => Err(format!("hash {other} is not supported")),
        }
    };
    // SHA-1 defaults (absent fields) are not accepted.
    let (mut hash, mut mgf_hash, mut salt) = (None, None, 20usize);
    for field in read_all(seq.value()).map_err(|e| e.to_string())? {
        let der::Tag::ContextSpecific { number, .. } = field.tag() else {
            return Err("unexpected field".into());
        };
        let inner = AnyRef::from_der(field.value()).map_err(|e| e.to_string())?;
        match number.value() {
            0 => hash = Some(hash_of(inner)?),
            1 => {
                let mgf = read_all(inner.value()).map_err(|e| e.to_string())?;
                let [oid, alg] = mgf.as_slice() else {
                    return Err("malformed mask generation".into());
                };
                let oid = oid
                    .decode_as::<ObjectIdentifier>()
                    .map_err(|e| e.to_string())?;
                if oid.to_string() != "1.2.840.113549.1.1.8" {
                    return Err(format!("mask generation {oid} is not MGF1"));
                }
                mgf_hash = Some(hash_of(*alg)?);
            }
            2 => {
                salt = usize::try_from(inner.decode_as::<u32>().map_err(|e| e.to_string())?)
                    .map_err(|e| e.to_string())?
            }
            3 => {
                if inner.decode_as::<u8>().map_err(|e| e.to_string())? != 1 {
                    return Err("trailer field is not 1".into());
                }
            }
            _ => return Err("unexpected field".into()),
        }
    }
    match (hash, mgf_hash) {
        (Some(h), Some(m)) if h == m => Ok((h, salt)),
        (Some(_), Some(_)) => Err("MGF1 hash differs from the signature hash".into()),
        _ => Err("SHA-1 is not accepted".into()),
    }
}

/// Every TLV of a DER byte string.
fn read_all(mut bytes: &[u8]) -> der::Result<Vec<der::asn1::AnyRef<'_>>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let any = der::asn1::AnyRef::from_der_partial(bytes)?;
        out.push(any.0);
        bytes = any.1;
    }
    Ok(out)
}

fn unix(t: x509_cert::time::Time) -> i64 {
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

/// Most issuer signatures checked while building one path: a hostile pool
/// of look-alike certificates cannot make path building expensive.
const MAX_PATH_CHECKS: usize = 32;

/// Finds a path from `leaf` to one of `anchors` through `intermediates`
/// (untrusted: they only help build the path) with every certificate valid
/// at `at` and the path allowing `purpose`; returns the path from the leaf's
/// issuer to the anchor. An anchor's own signature is not checked: it is
/// trusted because the caller trusts it.
pub fn verify_path<'a>(
    leaf: &Certificate,
    intermediates: &[&'a Certificate],
    anchors: &[&'a Certificate],
    at: i64,
    purpose: &str,
) -> Result<Vec<&'a Certificate>, X509Error> {
    leaf.check_valid_at(at)?;
    leaf.check_purpose(purpose)?;
    let mut search = PathSearch {
        intermediates,
        anchors,
        at,
        purpose,
        checks: 0,
        last_error: None,
    };
    let mut path = Vec::new();
    if search.extend(leaf, &mut path) {
        return Ok(path);
    }
    Err(search.last_error.unwrap_or_else(|| {
        X509Error::Untrusted(format!("no trusted issuer of {} found", leaf.subject()))
    }))
}

struct PathSearch<'s, 'a> {
    intermediates: &'s [&'a Certificate],
    anchors: &'s [&'a Certificate],
    at: i64,
    purpose: &'s str,
    checks: usize,
    last_error: Option<X509Error>,
}

impl<'a> PathSearch<'_, 'a> {
    /// Whether `issuer` may issue `child` at `depth` CA certificates above the leaf.
    fn issues(&mut self, child: &Certificate, issuer: &Certificate, depth: usize) -> bool {
        if !child.names_issuer(issuer) || self.checks >= MAX_PATH_CHECKS {
            return false;
        }
        self.checks += 1;
        let checked = child
            .verify_issued_by(issuer)
            .and_then(|()| issuer.check_valid_at(self.at))
            .and_then(|()| issuer.check_purpose(self.purpose))
            .and_then(|()| issuer.check_critical_extensions(&[]))
            .and_then(|()| {
                match issuer
                    .basic_constraints()?
                    .and_then(|b| b.path_len_constraint)
                {
                    Some(max) if depth > usize::from(max) => {
                        Err(X509Error::PathLength(issuer.subject.clone()))
                    }
                    _ => Ok(()),
                }
            });
        match checked {
            Ok(()) => true,
            Err(e) => {
                self.last_error = Some(e);
                false
            }
        }
    }

    /// Extends `path` (issuers above `child`) until it reaches an anchor.
    fn extend(&mut self, child: &Certificate, path: &mut Vec<&'a Certificate>) -> bool {
        let depth = path.len();
        if depth + 1 >= MAX_CHAIN_LENGTH {
            self.last_error = Some(X509Error::ChainTooLong);
            return false;
        }
        for &anchor in self.anchors {
            if self.issues(child, anchor, depth) {
                path.push(anchor);
                return true;
            }
        }
        for &next in self.intermediates {
            if path.iter().any(|p| p.der == next.der) || next.der == child.der {
                continue;
            }
            if self.issues(child, next, depth) {
                path.push(next);
                if self.extend(next, path) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_garbage_and_oversize() {
        assert!(matches!(
            Certificate::from_der(b"\x30\x03\x02\x01\x01"),
            Err(X509Error::Malformed(_))
        ));
        assert!(matches!(
            Certificate::from_der(&vec![0u8; MAX_CERTIFICATE_BYTES + 1]),
            Err(X509Error::TooLarge(_))
        ));
    }
}
