//! The cosign "simple signing" payload.

use crate::digest::Digest;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// `critical.type` of a cosign image signature.
pub const COSIGN_SIGNATURE_TYPE: &str = "cosign container image signature";

/// A parsed simple-signing payload.
#[derive(Debug, Clone, PartialEq)]
pub struct SimpleSigning {
    /// `critical.identity.docker-reference`.
    pub docker_reference: String,
    /// `critical.image.docker-manifest-digest`.
    pub manifest_digest: Digest,
    /// `optional` values (non-string values are kept as JSON text).
    pub optional: BTreeMap<String, String>,
}

/// Why a payload was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Not JSON of the expected shape.
    #[error("invalid simple-signing payload: {0}")]
    Invalid(String),
    /// `critical.type` is not the cosign signature type.
    #[error("unknown payload type {0:?}")]
    Type(String),
    /// The digest field is missing or malformed.
    #[error("failed to extract image digest from signature payload: {0}")]
    Digest(String),
}

#[derive(Deserialize)]
struct Raw {
    critical: Critical,
    #[serde(default)]
    optional: Option<BTreeMap<String, Value>>,
}

#[derive(Deserialize)]
struct Critical {
    #[serde(default)]
    identity: Identity,
    image: Image,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize, Default)]
struct Identity {
    #[serde(rename = "docker-reference", default)]
    docker_reference: String,
}

#[derive(Deserialize)]
struct Image {
    #[serde(rename = "docker-manifest-digest")]
    docker_manifest_digest: String,
}

impl SimpleSigning {
    /// Parses the exact signed payload bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, PayloadError> {
        let raw: Raw =
            serde_json::from_slice(bytes).map_err(|e| PayloadError::Invalid(e.to_string()))?;
        if raw.critical.kind != COSIGN_SIGNATURE_TYPE {
            return Err(PayloadError::Type(raw.critical.kind));
        }
        let manifest_digest = Digest::parse(&raw.critical.image.docker_manifest_digest)
            .map_err(|e| PayloadError::Digest(e.to_string()))?;
        let optional = raw
            .optional
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| {
                let s = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, s)
            })
            .collect();
        Ok(SimpleSigning {
            docker_reference: raw.critical.identity.docker_reference,
            manifest_digest,
            optional,
        })
    }

    /// Whether every required annotation appears in `optional` with an equal value.
    pub fn has_annotations(&self, required: &BTreeMap<String, String>) -> bool {
        required
            .iter()
            .all(|(k, v)| self.optional.get(k) == Some(v))
    }
}
