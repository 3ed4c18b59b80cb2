//! Embedded Signed Certificate Timestamps (RFC 6962 §3.3): proof that a
//! Certificate Transparency log saw the Fulcio certificate. Each SCT signs
//! the precertificate (the leaf's TBS without the SCT list) and the issuer's
//! key hash; one SCT from a trusted log, valid when it was issued, suffices.

use super::trusted_root::LogKey;
use crate::crypto::HashAlgorithm;
use crate::crypto::x509::Certificate;
use crate::digest::hex_encode;
use der::Decode;
use sha2::Digest as _;

/// The SCT list extension (`1.3.6.1.4.1.11129.2.4.2`).
pub const OID_SCT_LIST: &str = "1.3.6.1.4.1.11129.2.4.2";
/// Most SCTs read from one certificate.
const MAX_SCTS: usize = 16;

/// Why no SCT verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SctError {
    /// The certificate embeds no SCT list.
    #[error("certificate has no embedded SCT")]
    Missing,
    /// The list or an SCT is not in RFC 6962's encoding.
    #[error("malformed SCT: {0}")]
    Malformed(String),
    /// No SCT verified; one reason per SCT.
    #[error("no valid SCT from a trusted CT log: {}", .0.join("; "))]
    Untrusted(Vec<String>),
}

/// One parsed SCT.
struct Sct<'a> {
    log_id: &'a [u8],
    timestamp_ms: u64,
    extensions: &'a [u8],
    hash: u8,
    signature_alg: u8,
    signature: &'a [u8],
}

/// A bounds-checked reader over TLS-encoded bytes.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SctError> {
        if self.0.len() < n {
            return Err(SctError::Malformed("truncated".into()));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, SctError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<usize, SctError> {
        let b = self.take(2)?;
        Ok(usize::from(u16::from_be_bytes([b[0], b[1]])))
    }
    fn u64(&mut self) -> Result<u64, SctError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }
    fn vec16(&mut self) -> Result<&'a [u8], SctError> {
        let n = self.u16()?;
        self.take(n)
    }
}

/// The SCTs of a TLS `SignedCertificateTimestampList`.
fn parse_list(tls: &[u8]) -> Result<Vec<Sct<'_>>, SctError> {
    let mut list = Reader(tls);
    let mut items = Reader(list.vec16()?);
    if !list.0.is_empty() {
        return Err(SctError::Malformed("bytes after the SCT list".into()));
    }
    let mut out = Vec::new();
    while !items.0.is_empty() {
        if out.len() == MAX_SCTS {
            return Err(SctError::Malformed(format!("more than {MAX_SCTS} SCTs")));
        }
        let mut r = Reader(items.vec16()?);
        let version = r.u8()?;
        if version != 0 {
            return Err(SctError::Malformed(format!("SCT version {version}")));
        }
        let sct = Sct {
            log_id: r.take(32)?,
            timestamp_ms: r.u64()?,
            extensions: r.vec16()?,
            hash: r.u8()?,
            signature_alg: r.u8()?,
            signature: r.vec16()?,
        };
        if !r.0.is_empty() {
            return Err(SctError::Malformed("bytes after an SCT".into()));
        }
        out.push(sct);
    }
    Ok(out)
}

/// Verifies that `leaf` (issued by `issuer`) embeds at least one SCT signed
/// by a log in `ctlogs` whose key was valid at the SCT's time.
pub fn verify_embedded(
    leaf: &Certificate,
    issuer: &Certificate,
    ctlogs: &[LogKey],
) -> Result<(), SctError> {
    let (_, value) = leaf.extension(OID_SCT_LIST).ok_or(SctError::Missing)?;
    // The extension's value is a DER OCTET STRING around the TLS list.
    let octets =
        der::asn1::OctetString::from_der(value).map_err(|e| SctError::Malformed(e.to_string()))?;
    let scts = parse_list(octets.as_bytes())?;
    if scts.is_empty() {
        return Err(SctError::Missing);
    }
    let precert = leaf
        .tbs_without_extension(OID_SCT_LIST)
        .map_err(|e| SctError::Malformed(e.to_string()))?;
    let precert_len = u32::try_from(precert.len())
        .ok()
        .filter(|n| *n < 1 << 24)
        .ok_or_else(|| SctError::Malformed("precertificate too large".into()))?;
    let issuer_key_hash = sha2::Sha256::digest(issuer.spki_der());
    let mut reasons = Vec::new();
    for sct in scts {
        let log_id = hex_encode(sct.log_id);
        let Some(log) = ctlogs.iter().find(|l| l.log_id == log_id) else {
            reasons.push(format!("SCT from unknown log {log_id}"));
            continue;
        };
        let seconds = i64::try_from(sct.timestamp_ms / 1000).unwrap_or(i64::MAX);
        if !log.valid_at(seconds) {
            reasons.push(format!("CT log {log_id} key not valid at the SCT's time"));
            continue;
        }
        let Ok(extensions_len) = u16::try_from(sct.extensions.len()) else {
            reasons.push("SCT extensions too long".into());
            continue;
        };
        let mut signed = Vec::with_capacity(precert.len() + 64);
        signed.extend_from_slice(&[0, 0]); // v1, certificate_timestamp
        signed.extend_from_slice(&sct.timestamp_ms.to_be_bytes());
        signed.extend_from_slice(&[0, 1]); // precert_entry
        signed.extend_from_slice(&issuer_key_hash);
        signed.extend_from_slice(&precert_len.to_be_bytes()[1..]);
        signed.extend_from_slice(&precert);
        signed.extend_from_slice(&extensions_len.to_be_bytes());
        signed.extend_from_slice(sct.extensions);
        let hash = match sct.hash {
            4 => HashAlgorithm::Sha256,
            5 => HashAlgorithm::Sha384,
            6 => HashAlgorithm::Sha512,
            other => {
                reasons.push(format!("SCT hash algorithm {other} is not supported"));
                continue;
            }
        };
        let checked = match sct.signature_alg {
            3 => log.key.verify_ecdsa_der(hash, &signed, sct.signature),
            1 => log.key.verify_rsa_pkcs1v15(hash, &signed, sct.signature),
            other => {
                reasons.push(format!("SCT signature algorithm {other} is not supported"));
                continue;
            }
        };
        match checked {
            Ok(()) => return Ok(()),
            Err(e) => reasons.push(format!("SCT from log {log_id}: {e}")),
        }
    }
    Err(SctError::Untrusted(reasons))
}
