//! Artifact bundles: `imgverify fetch` records every artifact the decisions
//! needed; `imgverify apply --bundle` replays them offline with identical
//! decisions (air-gapped verification, evidence for an audit).

use crate::source::{ArtifactSource, SourceAnswer};
use base64::Engine as _;
use imgverify::engine::{Fetch, FetchKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Mutex;

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
    /// `ok`, `not_found`, `unauthorized`, `error`.
    pub status: String,
    /// Base64 bytes for `ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Message for failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
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

fn to_entry(f: &Fetch, a: &SourceAnswer) -> Entry {
    let data = match a {
        SourceAnswer::Bytes(b) => Some(base64::engine::general_purpose::STANDARD.encode(b)),
        _ => None,
    };
    Entry {
        kind: f.kind,
        key: f.key.clone(),
        status: a.status().into(),
        data,
        message: a.message().map(str::to_string),
    }
}

/// Wraps a source and records every answer.
pub struct Recording<'a> {
    inner: &'a dyn ArtifactSource,
    seen: Mutex<BTreeMap<(FetchKind, String), Entry>>,
}

impl<'a> Recording<'a> {
    /// Records what `inner` answers.
    pub fn new(inner: &'a dyn ArtifactSource) -> Self {
        Recording {
            inner,
            seen: Mutex::new(BTreeMap::new()),
        }
    }

    /// The bundle of everything answered so far.
    pub fn bundle(&self) -> Bundle {
        let seen = self
            .seen
            .lock()
            .map(|s| s.values().cloned().collect())
            .unwrap_or_default();
        Bundle {
            api_version: BUNDLE_API_VERSION.into(),
            kind: BUNDLE_KIND.into(),
            artifacts: seen,
        }
    }

    fn record(&self, f: &Fetch, a: &SourceAnswer) {
        if let Ok(mut s) = self.seen.lock() {
            s.insert((f.kind, f.key.clone()), to_entry(f, a));
        }
    }
}

impl ArtifactSource for Recording<'_> {
    fn fetch(&self, f: &Fetch) -> SourceAnswer {
        let a = self.inner.fetch(f);
        self.record(f, &a);
        a
    }

    fn fetch_each(
        &self,
        fetches: &[Fetch],
        deadline: Option<std::time::Instant>,
        sink: &mut dyn FnMut(usize, SourceAnswer),
    ) {
        self.inner.fetch_each(fetches, deadline, &mut |i, a| {
            if let Some(f) = fetches.get(i) {
                self.record(f, &a);
            }
            sink(i, a);
        });
    }
}

/// Serves a recorded bundle; anything not recorded is an error (never a fetch).
pub struct Replay {
    entries: BTreeMap<(FetchKind, String), SourceAnswer>,
}

impl Replay {
    /// Reads a bundle file.
    pub fn load(path: &str) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        let b: Bundle = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
        if b.kind != BUNDLE_KIND || b.api_version != BUNDLE_API_VERSION {
            return Err(format!("{path}: not an {BUNDLE_API_VERSION} {BUNDLE_KIND}"));
        }
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut entries = BTreeMap::new();
        for e in b.artifacts {
            let msg = e.message.clone().unwrap_or_default();
            let a = match e.status.as_str() {
                "ok" => SourceAnswer::Bytes(
                    b64.decode(e.data.as_deref().unwrap_or(""))
                        .map_err(|err| format!("{path}: {}: {err}", e.key))?,
                ),
                other => SourceAnswer::failure(other, msg)
                    .ok_or_else(|| format!("{path}: {}: unknown status {other}", e.key))?,
            };
            entries.insert((e.kind, e.key), a);
        }
        Ok(Replay { entries })
    }
}

impl ArtifactSource for Replay {
    fn fetch(&self, f: &Fetch) -> SourceAnswer {
        self.entries
            .get(&(f.kind, f.key.clone()))
            .cloned()
            .unwrap_or_else(|| {
                SourceAnswer::Error(format!(
                    "{} {} is not in the bundle",
                    f.kind.as_str(),
                    f.key
                ))
            })
    }
}
