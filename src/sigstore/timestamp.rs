//! RFC 3161 timestamps as Sigstore bundles carry them: a DER
//! `TimeStampResp` whose token (CMS SignedData over a TSTInfo) a timestamp
//! authority of the trusted root signed over the hash of a signature. The
//! verified `genTime` is a trusted signing time.
//!
//! The DER is walked by hand with bounds on every count: CMS `SET OF`s are
//! read in the order given (an unsorted set is not a reason to refuse a
//! timestamp), and the signed attributes are verified over their own bytes.

use super::trusted_root::Authority;
use crate::crypto::x509::{self, Certificate, OID_EKU_TIME_STAMPING};
use crate::crypto::{HashAlgorithm, PublicKey};
use der::asn1::AnyRef;
use der::{Decode, Encode, Tag, TagNumber, Tagged};

/// Largest timestamp response accepted.
pub const MAX_TIMESTAMP_BYTES: usize = 64 * 1024;
/// Most certificates or signer infos read from one token.
const MAX_ITEMS: usize = 16;
/// Most signature checks one token may cost (signer candidates and paths):
/// a token stuffed with look-alike certificates cannot make it expensive.
const MAX_CHECKS: usize = 16;
/// Most signers whose certificate path is searched for one token.
const MAX_PATHS: usize = 2;

const OID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
const OID_TST_INFO: &str = "1.2.840.113549.1.9.16.1.4";
const OID_CONTENT_TYPE: &str = "1.2.840.113549.1.9.3";
const OID_MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";

/// Why a timestamp did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    /// Not a timestamp response of the expected shape.
    #[error("malformed RFC 3161 timestamp: {0}")]
    Malformed(String),
    /// The authority refused the request.
    #[error("the timestamp authority did not grant the timestamp (status {0})")]
    NotGranted(u8),
    /// The timestamp is over other bytes.
    #[error("the timestamp is over another signature")]
    WrongImprint,
    /// No certificate of a trusted authority signed the token at its time.
    #[error("the timestamp is not signed by a trusted timestamp authority: {0}")]
    Untrusted(String),
}

fn malformed(m: impl std::fmt::Display) -> TimestampError {
    TimestampError::Malformed(m.to_string())
}

/// The TLVs inside a constructed TLV, at most `MAX_ITEMS * 4`.
fn children<'a>(any: &AnyRef<'a>) -> Result<Vec<AnyRef<'a>>, TimestampError> {
    let mut bytes = any.value();
    let mut out = Vec::new();
    while !bytes.is_empty() {
        if out.len() >= MAX_ITEMS * 4 {
            return Err(malformed("too many elements"));
        }
        let (item, rest) = AnyRef::from_der_partial(bytes).map_err(malformed)?;
        out.push(item);
        bytes = rest;
    }
    Ok(out)
}

fn expect_tag(any: &AnyRef, tag: Tag, what: &str) -> Result<(), TimestampError> {
    if any.tag() == tag {
        Ok(())
    } else {
        Err(malformed(format!(
            "{what}: expected {tag}, found {}",
            any.tag()
        )))
    }
}

fn context(any: &AnyRef, n: u32) -> bool {
    matches!(any.tag(), Tag::ContextSpecific { number, .. } if number == TagNumber(n))
}

fn oid(any: &AnyRef) -> Result<String, TimestampError> {
    any.decode_as::<der::asn1::ObjectIdentifier>()
        .map(|o| o.to_string())
        .map_err(malformed)
}

fn hash_of(oid: &str) -> Option<HashAlgorithm> {
    match oid {
        "2.16.840.1.101.3.4.2.1" => Some(HashAlgorithm::Sha256),
        "2.16.840.1.101.3.4.2.2" => Some(HashAlgorithm::Sha384),
        "2.16.840.1.101.3.4.2.3" => Some(HashAlgorithm::Sha512),
        _ => None,
    }
}

/// `AlgorithmIdentifier`'s OID.
fn algorithm(any: &AnyRef) -> Result<String, TimestampError> {
    let parts = children(any)?;
    oid(parts
        .first()
        .ok_or_else(|| malformed("empty AlgorithmIdentifier"))?)
}

/// `YYYYMMDDHHMMSS[.f*]Z` to unix seconds.
fn generalized_time(bytes: &[u8]) -> Result<i64, TimestampError> {
    let s = std::str::from_utf8(bytes).map_err(malformed)?;
    let s = s
        .strip_suffix('Z')
        .ok_or_else(|| malformed("genTime is not UTC"))?;
    let whole = s.split('.').next().unwrap_or("");
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed(format!("genTime {s:?}")));
    }
    let n = |r: std::ops::Range<usize>| whole[r].parse::<u32>().unwrap_or(u32::MAX);
    let month = time::Month::try_from(u8::try_from(n(4..6)).unwrap_or(0)).map_err(malformed)?;
    let date =
        time::Date::from_calendar_date(n(0..4) as i32, month, n(6..8) as u8).map_err(malformed)?;
    let t = time::Time::from_hms(n(8..10) as u8, n(10..12) as u8, n(12..14) as u8)
        .map_err(malformed)?;
    Ok(time::PrimitiveDateTime::new(date, t)
        .assume_utc()
        .unix_timestamp())
}

/// The parts of a token verification reads.
struct Token<'a> {
    certificates: Vec<Certificate>,
    tst_info: &'a [u8],
    signer_infos: Vec<AnyRef<'a>>,
}

fn parse_token(resp: &[u8]) -> Result<Token<'_>, TimestampError> {
    if resp.len() > MAX_TIMESTAMP_BYTES {
        return Err(malformed("too large"));
    }
    let outer = AnyRef::from_der(resp).map_err(malformed)?;
    expect_tag(&outer, Tag::Sequence, "TimeStampResp")?;
    let parts = children(&outer)?;
    let status = parts.first().ok_or_else(|| malformed("no status"))?;
    let status = children(status)?
        .first()
        .map(|s| s.value().to_vec())
        .ok_or_else(|| malformed("no status value"))?;
    match status.as_slice() {
        [0] | [1] => {}
        [n] => return Err(TimestampError::NotGranted(*n)),
        _ => return Err(malformed("status")),
    }
    let content_info = parts.get(1).ok_or_else(|| malformed("no timeStampToken"))?;
    let ci = children(content_info)?;
    if ci.len() != 2 || oid(&ci[0])? != OID_SIGNED_DATA || !context(&ci[1], 0) {
        return Err(malformed("the token is not CMS SignedData"));
    }
    let signed_data = AnyRef::from_der(ci[1].value()).map_err(malformed)?;
    let sd = children(&signed_data)?;
    let encap = sd.get(2).ok_or_else(|| malformed("no encapContentInfo"))?;
    let encap = children(encap)?;
    if encap.len() != 2 || oid(&encap[0])? != OID_TST_INFO || !context(&encap[1], 0) {
        return Err(malformed("the token does not hold a TSTInfo"));
    }
    let tst = AnyRef::from_der(encap[1].value()).map_err(malformed)?;
    expect_tag(&tst, Tag::OctetString, "eContent")?;
    let mut certificates = Vec::new();
    for part in sd.iter().skip(3) {
        if context(part, 0) {
            for c in children(part)?.iter().take(MAX_ITEMS) {
                certificates.push(
                    Certificate::from_der(&c.to_der().map_err(malformed)?).map_err(malformed)?,
                );
            }
        }
    }
    let signer_infos = sd
        .last()
        .filter(|s| s.tag() == Tag::Set)
        .ok_or_else(|| malformed("no signerInfos"))?;
    let signer_infos = children(signer_infos)?;
    if signer_infos.is_empty() || signer_infos.len() > MAX_ITEMS {
        return Err(malformed("signerInfos"));
    }
    Ok(Token {
        certificates,
        tst_info: tst.value(),
        signer_infos,
    })
}

/// The signed attributes of a SignerInfo: their bytes as signed (a SET),
/// and the message digest and content type they assert.
struct SignerInfo {
    digest: HashAlgorithm,
    signature_algorithm: String,
    signed_attrs: Vec<u8>,
    message_digest: Vec<u8>,
    signature: Vec<u8>,
}

fn parse_signer(si: &AnyRef) -> Result<SignerInfo, TimestampError> {
    let parts = children(si)?;
    if parts.len() < 5 {
        return Err(malformed("SignerInfo"));
    }
    let digest_oid = algorithm(&parts[2])?;
    let digest =
        hash_of(&digest_oid).ok_or_else(|| malformed(format!("digest algorithm {digest_oid}")))?;
    let attrs = parts
        .iter()
        .find(|p| context(p, 0))
        .ok_or_else(|| malformed("no signed attributes"))?;
    let header = der::Header::new(Tag::Set, attrs.value().len().try_into().map_err(malformed)?);
    let mut signed_attrs = header.to_der().map_err(malformed)?;
    signed_attrs.extend_from_slice(attrs.value());
    let mut content_type = None;
    let mut message_digest = None;
    for attr in children(attrs)? {
        let a = children(&attr)?;
        let (Some(id), Some(values)) = (a.first(), a.get(1)) else {
            return Err(malformed("attribute"));
        };
        let value = children(values)?.into_iter().next();
        match oid(id)?.as_str() {
            OID_CONTENT_TYPE => content_type = value.map(|v| oid(&v)).transpose()?,
            OID_MESSAGE_DIGEST => message_digest = value.map(|v| v.value().to_vec()),
            _ => {}
        }
    }
    if content_type.as_deref() != Some(OID_TST_INFO) {
        return Err(malformed("the signed content type is not TSTInfo"));
    }
    let rest: Vec<&AnyRef> = parts
        .iter()
        .skip_while(|p| !context(p, 0))
        .skip(1)
        .collect();
    let (Some(sig_alg), Some(sig)) = (rest.first(), rest.get(1)) else {
        return Err(malformed("SignerInfo signature"));
    };
    expect_tag(sig, Tag::OctetString, "signature")?;
    Ok(SignerInfo {
        digest,
        signature_algorithm: algorithm(sig_alg)?,
        signed_attrs,
        message_digest: message_digest.ok_or_else(|| malformed("no message digest attribute"))?,
        signature: sig.value().to_vec(),
    })
}

fn verify_signer(key: &PublicKey, s: &SignerInfo) -> bool {
    let by_alg = match s.signature_algorithm.as_str() {
        "1.2.840.10045.4.3.2" => Some(HashAlgorithm::Sha256),
        "1.2.840.10045.4.3.3" => Some(HashAlgorithm::Sha384),
        "1.2.840.10045.4.3.4" => Some(HashAlgorithm::Sha512),
        _ => None,
    };
    match (key, s.signature_algorithm.as_str()) {
        (PublicKey::P256(_) | PublicKey::P384(_) | PublicKey::P521(_), alg)
            if by_alg.is_some() || alg == "1.2.840.10045.2.1" =>
        {
            key.verify_ecdsa_der(by_alg.unwrap_or(s.digest), &s.signed_attrs, &s.signature)
                .is_ok()
        }
        (PublicKey::Rsa(_), _) => key
            .verify_rsa_pkcs1v15(s.digest, &s.signed_attrs, &s.signature)
            .is_ok(),
        _ => false,
    }
}

/// Verifies a timestamp response over `signature` against the trusted
/// timestamp authorities; returns its `genTime` (unix seconds).
pub fn verify(
    resp: &[u8],
    signature: &[u8],
    authorities: &[Authority],
) -> Result<i64, TimestampError> {
    let token = parse_token(resp)?;
    // TSTInfo: version, policy, messageImprint, serialNumber, genTime, …
    let tst = AnyRef::from_der(token.tst_info).map_err(malformed)?;
    let fields = children(&tst)?;
    let (Some(imprint), Some(gen_time)) = (fields.get(2), fields.get(4)) else {
        return Err(malformed("TSTInfo"));
    };
    let imprint = children(imprint)?;
    let (Some(alg), Some(hashed)) = (imprint.first(), imprint.get(1)) else {
        return Err(malformed("messageImprint"));
    };
    let alg = algorithm(alg)?;
    let hash = hash_of(&alg).ok_or_else(|| malformed(format!("imprint algorithm {alg}")))?;
    if hashed.value() != hash.digest(signature).as_slice() {
        return Err(TimestampError::WrongImprint);
    }
    expect_tag(gen_time, Tag::GeneralizedTime, "genTime")?;
    let at = generalized_time(gen_time.value())?;
    let mut reasons = Vec::new();
    let (mut checks, mut paths) = (0usize, 0usize);
    for si in &token.signer_infos {
        let signer = parse_signer(si)?;
        if signer.message_digest != signer.digest.digest(token.tst_info) {
            return Err(malformed("the signed message digest is not the TSTInfo's"));
        }
        for authority in authorities {
            if !authority.valid_at(at) {
                reasons.push("no authority valid at the timestamp's time".to_string());
                continue;
            }
            let Some((anchor, own)) = authority.chain.split_last() else {
                continue;
            };
            // The signer: the authority's own leaf or a certificate the
            // token embeds, as long as it chains to the authority's anchor.
            let candidates = authority
                .chain
                .iter()
                .take(1)
                .chain(token.certificates.iter());
            for cert in candidates {
                checks += 1;
                if checks > MAX_CHECKS {
                    return Err(TimestampError::Untrusted(format!(
                        "more than {MAX_CHECKS} candidate signatures"
                    )));
                }
                let Ok(key) = cert.public_key() else { continue };
                if !verify_signer(&key, &signer) {
                    continue;
                }
                paths += 1;
                if paths > MAX_PATHS {
                    return Err(TimestampError::Untrusted(format!(
                        "more than {MAX_PATHS} signers to chain: {}",
                        reasons.join("; ")
                    )));
                }
                let intermediates: Vec<&Certificate> =
                    own.iter().chain(token.certificates.iter()).collect();
                let path = if cert.der() == anchor.der() {
                    cert.check_valid_at(at).map(|_| Vec::new())
                } else {
                    x509::verify_path(cert, &intermediates, &[anchor], at, OID_EKU_TIME_STAMPING)
                };
                match path {
                    Ok(_) => return Ok(at),
                    Err(e) => reasons.push(e.to_string()),
                }
            }
        }
    }
    if reasons.is_empty() {
        reasons.push("no certificate of a trusted authority verifies the token's signature".into());
    }
    Err(TimestampError::Untrusted(reasons.join("; ")))
}
