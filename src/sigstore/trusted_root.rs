//! The Sigstore `trusted_root.json`: transparency-log and CT-log keys by log
//! ID, certificate authorities (Fulcio) and timestamp authorities, each with
//! its validity window.

use crate::crypto::PublicKey;
use crate::crypto::x509::Certificate;
use base64::Engine as _;
use serde::Deserialize;
use std::rc::Rc;
use std::sync::Arc;

/// The public-good trusted root embedded in the engine.
pub const PUBLIC_GOOD: &str = include_str!("data/public-good.trusted_root.json");

/// A transparency-log key with its validity window.
#[derive(Debug, Clone)]
pub struct LogKey {
    /// Log ID (hex of the key's SPKI SHA-256).
    pub log_id: String,
    /// The key.
    pub key: Arc<PublicKey>,
    /// Valid from (unix seconds), inclusive.
    pub valid_from: Option<i64>,
    /// Valid until (unix seconds), inclusive.
    pub valid_until: Option<i64>,
    /// Log base URL.
    pub base_url: String,
}

impl LogKey {
    /// Builds a log key from a policy-supplied key (no validity window).
    pub fn from_key(key: Arc<PublicKey>) -> Option<Self> {
        let der = key.to_spki_der().ok()?;
        Some(LogKey {
            log_id: crate::digest::Digest::sha256_of(&der).hex().to_string(),
            key,
            valid_from: None,
            valid_until: None,
            base_url: String::new(),
        })
    }

    /// Whether `t` lies in the closed validity interval.
    pub fn valid_at(&self, t: i64) -> bool {
        self.valid_from.is_none_or(|s| t >= s) && self.valid_until.is_none_or(|e| t <= e)
    }
}

/// A certificate or timestamp authority: its chain (leaf-most first, the
/// trust anchor last) and the window in which it may have issued.
#[derive(Debug, Clone)]
pub struct Authority {
    /// Certificates, the anchor last.
    pub chain: Vec<Certificate>,
    /// Valid from (unix seconds), inclusive.
    pub valid_from: i64,
    /// Valid until (unix seconds), inclusive; `None` is open-ended.
    pub valid_until: Option<i64>,
    /// The authority's URI.
    pub uri: String,
}

impl Authority {
    /// A certificate trusted by itself, at any time (a policy's `roots`).
    pub fn anchor(cert: Certificate) -> Self {
        Authority {
            chain: vec![cert],
            valid_from: i64::MIN,
            valid_until: None,
            uri: String::new(),
        }
    }

    /// Whether `t` lies in the closed validity interval.
    pub fn valid_at(&self, t: i64) -> bool {
        t >= self.valid_from && self.valid_until.is_none_or(|e| t <= e)
    }
}

/// Why a trusted root could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustedRootError {
    /// Not JSON of the expected shape.
    #[error("invalid trusted root: {0}")]
    Invalid(String),
}

/// The parts of a trusted root the engine uses.
#[derive(Debug, Clone, Default)]
pub struct TrustedRoot {
    /// Rekor log keys.
    pub tlogs: Vec<LogKey>,
    /// Certificate Transparency log keys.
    pub ctlogs: Vec<LogKey>,
    /// Certificate authorities (Fulcio).
    pub certificate_authorities: Vec<Authority>,
    /// RFC 3161 timestamp authorities.
    pub timestamp_authorities: Vec<Authority>,
}

/// Borrowed trust material: a trusted root's parts, or an attestor's own
/// keys and roots in their place.
#[derive(Debug, Clone, Copy)]
pub struct Trust<'a> {
    /// Rekor log keys.
    pub tlogs: &'a [LogKey],
    /// Certificate Transparency log keys.
    pub ctlogs: &'a [LogKey],
    /// Certificate authorities (Fulcio).
    pub certificate_authorities: &'a [Authority],
    /// RFC 3161 timestamp authorities.
    pub timestamp_authorities: &'a [Authority],
}

impl TrustedRoot {
    /// All of this root's material.
    pub fn trust(&self) -> Trust<'_> {
        Trust {
            tlogs: &self.tlogs,
            ctlogs: &self.ctlogs,
            certificate_authorities: &self.certificate_authorities,
            timestamp_authorities: &self.timestamp_authorities,
        }
    }
}

/// Media types of `trusted_root.json` this engine reads.
const MEDIA_TYPES: [&str; 2] = [
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    "application/vnd.dev.sigstore.trustedroot.v0.2+json",
];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRoot {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    tlogs: Vec<RawLog>,
    #[serde(default)]
    ctlogs: Vec<RawLog>,
    #[serde(default)]
    certificate_authorities: Vec<RawAuthority>,
    #[serde(default)]
    timestamp_authorities: Vec<RawAuthority>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAuthority {
    #[serde(default)]
    uri: String,
    cert_chain: RawChain,
    #[serde(default)]
    valid_for: Option<RawValidity>,
}

#[derive(Deserialize)]
struct RawChain {
    certificates: Vec<RawBytes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBytes {
    raw_bytes: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLog {
    #[serde(default)]
    base_url: String,
    public_key: RawKey,
    log_id: RawLogId,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawKey {
    raw_bytes: String,
    #[serde(default)]
    key_details: Option<String>,
    #[serde(default)]
    valid_for: Option<RawValidity>,
}

#[derive(Deserialize)]
struct RawValidity {
    start: Option<String>,
    end: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLogId {
    key_id: String,
}

/// Parses an RFC 3339 timestamp to unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// Most logs or authorities of one kind in a trusted root.
const MAX_ENTRIES: usize = 64;

impl TrustedRoot {
    /// Parses a `trusted_root.json`. Every log key and authority must carry
    /// the start of its validity; a root that lacks one is refused.
    pub fn parse(json: &str) -> Result<Self, TrustedRootError> {
        let raw: RawRoot = serde_json::from_slice(json.as_bytes())
            .map_err(|e| TrustedRootError::Invalid(e.to_string()))?;
        if let Some(mt) = &raw.media_type
            && !MEDIA_TYPES.contains(&mt.as_str())
        {
            return Err(TrustedRootError::Invalid(format!(
                "unsupported mediaType {mt:?}"
            )));
        }
        for (name, n) in [
            ("tlogs", raw.tlogs.len()),
            ("ctlogs", raw.ctlogs.len()),
            ("certificateAuthorities", raw.certificate_authorities.len()),
            ("timestampAuthorities", raw.timestamp_authorities.len()),
        ] {
            if n > MAX_ENTRIES {
                return Err(TrustedRootError::Invalid(format!(
                    "{name}: {n} entries, over the limit of {MAX_ENTRIES}"
                )));
            }
        }
        Ok(TrustedRoot {
            tlogs: logs("tlogs", raw.tlogs)?,
            ctlogs: logs("ctlogs", raw.ctlogs)?,
            certificate_authorities: authorities(
                "certificateAuthorities",
                raw.certificate_authorities,
            )?,
            timestamp_authorities: authorities("timestampAuthorities", raw.timestamp_authorities)?,
        })
    }

    /// The embedded public-good root.
    pub fn public_good() -> Result<Self, TrustedRootError> {
        Self::parse(PUBLIC_GOOD)
    }

    /// [`Self::parse`], remembering the last root parsed in this instance
    /// by the SHA-256 of its text, so a caller that passes the same root on
    /// every call (`verify-bundle`) parses it once. `None` is the embedded
    /// public-good root.
    pub fn parse_shared(json: Option<&str>) -> Result<Rc<Self>, TrustedRootError> {
        use sha2::Digest as _;
        let text = json.unwrap_or(PUBLIC_GOOD);
        let id: [u8; 32] = sha2::Sha256::digest(text.as_bytes()).into();
        if let Some(root) = LAST_PARSED.with(|l| {
            l.borrow()
                .as_ref()
                .filter(|(seen, _)| *seen == id)
                .map(|(_, r)| r.clone())
        }) {
            return Ok(root);
        }
        let root = Rc::new(Self::parse(text)?);
        LAST_PARSED.with(|l| *l.borrow_mut() = Some((id, root.clone())));
        Ok(root)
    }
}

thread_local! {
    /// The last root [`TrustedRoot::parse_shared`] parsed, by its text's hash.
    static LAST_PARSED: std::cell::RefCell<Option<([u8; 32], Rc<TrustedRoot>)>> =
        const { std::cell::RefCell::new(None) };
}

fn invalid(at: String, e: impl std::fmt::Display) -> TrustedRootError {
    TrustedRootError::Invalid(format!("{at}: {e}"))
}

/// The validity window; `start` is required.
fn window(at: &str, v: Option<&RawValidity>) -> Result<(i64, Option<i64>), TrustedRootError> {
    let time = |s: &String| {
        parse_rfc3339(s).ok_or_else(|| invalid(at.to_string(), format!("bad time {s:?}")))
    };
    let v = v.ok_or_else(|| invalid(at.to_string(), "validFor is required"))?;
    let start = v
        .start
        .as_ref()
        .ok_or_else(|| invalid(at.to_string(), "validFor.start is required"))?;
    let end = v.end.as_ref().map(time).transpose()?;
    Ok((time(start)?, end))
}

/// `keyDetails` of SubjectPublicKeyInfo keys this engine verifies with.
const KNOWN_SPKI_KEYS: [&str; 8] = [
    "PKIX_ECDSA_P256_SHA_256",
    "PKIX_ECDSA_P384_SHA_384",
    "PKIX_ECDSA_P521_SHA_512",
    "PKIX_ED25519",
    "PKIX_RSA_PKCS1V15_2048_SHA256",
    "PKIX_RSA_PKCS1V15_3072_SHA256",
    "PKIX_RSA_PKCS1V15_4096_SHA256",
    "PKIX_RSA_PKCS1V5",
];

fn logs(kind: &str, raw: Vec<RawLog>) -> Result<Vec<LogKey>, TrustedRootError> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut out = Vec::new();
    for (i, l) in raw.into_iter().enumerate() {
        let at = format!("{kind}[{i}]");
        let der = b64
            .decode(&l.public_key.raw_bytes)
            .map_err(|e| invalid(format!("{at}.publicKey"), e))?;
        let details = l.public_key.key_details.as_deref().unwrap_or("");
        let key = if details.starts_with("PKCS1_RSA_") {
            PublicKey::from_pkcs1_rsa_der(&der)
        } else if details.is_empty() || KNOWN_SPKI_KEYS.contains(&details) {
            PublicKey::from_spki_der(&der)
        } else {
            // A key type this engine cannot use verifies nothing: skipped,
            // so whatever it signed fails closed.
            continue;
        }
        .map_err(|e| invalid(format!("{at}.publicKey"), e))?;
        let id = b64
            .decode(&l.log_id.key_id)
            .map_err(|e| invalid(format!("{at}.logId"), e))?;
        let (start, end) = window(&format!("{at}.publicKey"), l.public_key.valid_for.as_ref())?;
        out.push(LogKey {
            log_id: crate::digest::hex_encode(&id),
            key: Arc::new(key),
            valid_from: Some(start),
            valid_until: end,
            base_url: l.base_url,
        });
    }
    Ok(out)
}

fn authorities(kind: &str, raw: Vec<RawAuthority>) -> Result<Vec<Authority>, TrustedRootError> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut out = Vec::new();
    for (i, a) in raw.into_iter().enumerate() {
        let at = format!("{kind}[{i}]");
        if a.cert_chain.certificates.is_empty() {
            return Err(invalid(format!("{at}.certChain"), "no certificates"));
        }
        if a.cert_chain.certificates.len() > crate::crypto::x509::MAX_CHAIN_LENGTH {
            return Err(invalid(format!("{at}.certChain"), "too many certificates"));
        }
        let mut chain = Vec::new();
        for (j, c) in a.cert_chain.certificates.iter().enumerate() {
            let der = b64
                .decode(&c.raw_bytes)
                .map_err(|e| invalid(format!("{at}.certChain.certificates[{j}]"), e))?;
            chain.push(
                Certificate::from_der(&der)
                    .map_err(|e| invalid(format!("{at}.certChain.certificates[{j}]"), e))?,
            );
        }
        let (valid_from, valid_until) = window(&at, a.valid_for.as_ref())?;
        out.push(Authority {
            chain,
            valid_from,
            valid_until,
            uri: a.uri,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same text is parsed once; other text, or a root that does not
    /// parse, is never answered from the remembered one.
    #[test]
    fn parse_shared_remembers_only_the_same_text() {
        let a = TrustedRoot::parse_shared(None).expect("public good");
        let b = TrustedRoot::parse_shared(Some(PUBLIC_GOOD)).expect("same text");
        assert!(Rc::ptr_eq(&a, &b));
        let fewer = {
            let mut v: serde_json::Value = serde_json::from_str(PUBLIC_GOOD).expect("json");
            v["ctlogs"] = serde_json::json!([]);
            v.to_string()
        };
        let c = TrustedRoot::parse_shared(Some(&fewer)).expect("other root");
        assert!(!Rc::ptr_eq(&a, &c));
        assert!(c.ctlogs.is_empty() && !a.ctlogs.is_empty());
        assert!(TrustedRoot::parse_shared(Some("{")).is_err());
        let d = TrustedRoot::parse_shared(Some(&fewer)).expect("still remembered");
        assert!(Rc::ptr_eq(&c, &d));
    }
}
