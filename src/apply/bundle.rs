//! Artifact bundles (`imgverify.dev/v1alpha1` `ArtifactBundle`): every answer
//! the decisions needed, recorded by `imgverify fetch` and replayed offline by
//! `apply --bundle` and the playground.

use crate::engine::{Answer, FailureStatus, FetchKind};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Bundle `kind`.
pub const BUNDLE_KIND: &str = "ArtifactBundle";
/// Bundle `apiVersion`.
pub const BUNDLE_API_VERSION: &str = "imgverify.dev/v1alpha1";

/// One recorded answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    /// Fetch kind.
    pub kind: FetchKind,
    /// Fetch key.
    pub key: String,
    /// `ok`, `not_found`, `unauthorized`, `error`, `invalid`.
    pub status: String,
    /// Base64 bytes for `ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Message for failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Entry {
    /// The entry recording `answer` to the fetch `(kind, key)`.
    pub fn new(kind: FetchKind, key: &str, answer: &Answer) -> Self {
        let (status, data, message) = match answer {
            Answer::Bytes(b) => (
                "ok",
                Some(base64::engine::general_purpose::STANDARD.encode(b)),
                None,
            ),
            Answer::Failure(s, m) => (s.as_str(), None, Some(m.clone())),
        };
        Entry {
            kind,
            key: key.to_string(),
            status: status.to_string(),
            data,
            message,
        }
    }
}

/// A bundle file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    /// `imgverify.dev/v1alpha1`.
    pub api_version: String,
    /// `ArtifactBundle`.
    pub kind: String,
    /// Recorded answers, sorted by kind and key.
    pub artifacts: Vec<Entry>,
}

impl Bundle {
    /// A bundle of these entries.
    pub fn new(artifacts: Vec<Entry>) -> Self {
        Bundle {
            api_version: BUNDLE_API_VERSION.into(),
            kind: BUNDLE_KIND.into(),
            artifacts,
        }
    }

    /// Parses a bundle's JSON text (`name` is for errors) into its answers.
    pub fn parse(name: &str, text: &str) -> Result<BTreeMap<(FetchKind, String), Answer>, String> {
        let b: Bundle =
            serde_json::from_slice(text.as_bytes()).map_err(|e| format!("{name}: {e}"))?;
        if b.kind != BUNDLE_KIND || b.api_version != BUNDLE_API_VERSION {
            return Err(format!("{name}: not an {BUNDLE_API_VERSION} {BUNDLE_KIND}"));
        }
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut entries = BTreeMap::new();
        for e in b.artifacts {
            let answer = match e.status.as_str() {
                "ok" => Answer::Bytes(
                    b64.decode(e.data.as_deref().unwrap_or(""))
                        .map_err(|err| format!("{name}: {}: {err}", e.key))?,
                ),
                other => Answer::Failure(
                    FailureStatus::parse(other)
                        .ok_or_else(|| format!("{name}: {}: unknown status {other}", e.key))?,
                    e.message.clone().unwrap_or_default(),
                ),
            };
            entries.insert((e.kind, e.key), answer);
        }
        Ok(entries)
    }
}
