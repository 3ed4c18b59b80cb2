//! The Sigstore `trusted_root.json`: transparency-log keys by log ID.

use crate::crypto::PublicKey;
use base64::Engine as _;
use serde::Deserialize;
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
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRoot {
    #[serde(default)]
    tlogs: Vec<RawLog>,
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

impl TrustedRoot {
    /// Parses a `trusted_root.json`.
    pub fn parse(json: &str) -> Result<Self, TrustedRootError> {
        let raw: RawRoot =
            serde_json::from_str(json).map_err(|e| TrustedRootError::Invalid(e.to_string()))?;
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut tlogs = Vec::new();
        for (i, l) in raw.tlogs.into_iter().enumerate() {
            let der = b64
                .decode(&l.public_key.raw_bytes)
                .map_err(|e| TrustedRootError::Invalid(format!("tlogs[{i}].publicKey: {e}")))?;
            let key = PublicKey::from_spki_der(&der)
                .map_err(|e| TrustedRootError::Invalid(format!("tlogs[{i}].publicKey: {e}")))?;
            let id = b64
                .decode(&l.log_id.key_id)
                .map_err(|e| TrustedRootError::Invalid(format!("tlogs[{i}].logId: {e}")))?;
            let time = |s: &Option<String>| -> Result<Option<i64>, TrustedRootError> {
                match s {
                    None => Ok(None),
                    Some(s) => parse_rfc3339(s).map(Some).ok_or_else(|| {
                        TrustedRootError::Invalid(format!("tlogs[{i}]: bad time {s:?}"))
                    }),
                }
            };
            let (valid_from, valid_until) = match &l.public_key.valid_for {
                Some(v) => (time(&v.start)?, time(&v.end)?),
                None => (None, None),
            };
            tlogs.push(LogKey {
                log_id: crate::digest::hex_encode(&id),
                key: Arc::new(key),
                valid_from,
                valid_until,
                base_url: l.base_url,
            });
        }
        Ok(TrustedRoot { tlogs })
    }

    /// The embedded public-good root.
    pub fn public_good() -> Result<Self, TrustedRootError> {
        Self::parse(PUBLIC_GOOD)
    }
}
