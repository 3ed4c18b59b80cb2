//! Artifact bundles: `imgverify fetch` records every artifact the decisions
//! needed; `imgverify apply --bundle` replays them offline with identical
//! decisions (air-gapped verification, evidence for an audit).

use crate::source::{ArtifactSource, SourceAnswer};
use imgverify::engine::{Fetch, FetchKind};
use std::collections::BTreeMap;
use std::sync::Mutex;

pub use imgverify::apply::bundle::{BUNDLE_API_VERSION, BUNDLE_KIND, Bundle, Entry};

fn to_entry(f: &Fetch, a: &SourceAnswer) -> Entry {
    Entry::new(f.kind, &f.key, &a.clone().into())
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
        Bundle::new(seen)
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
        let entries = Bundle::parse(path, &text)?
            .into_iter()
            .map(|(k, a)| (k, SourceAnswer::from(a)))
            .collect();
        Ok(Replay { entries })
    }
}

impl ArtifactSource for Replay {
    fn fetch(&self, f: &Fetch) -> SourceAnswer {
        self.entries
            .get(&(f.kind, f.key.clone()))
            .cloned()
            .unwrap_or_else(|| imgverify::apply::artifacts::not_in_bundle(f).into())
    }
}
