//! Fetch prediction: what a session asked for after its first round, kept by
//! the compiled engine under that first round's fetches, and asked for
//! again together with them next time.
//!
//! A warm admission of a Pod seen before then needs two evaluations instead
//! of one per dependency level (tag, signature tag, payload): the host
//! answers the predicted fetches in the first round (from its cache when
//! warm) and the second evaluation finds everything stored. A wrong
//! prediction (a tag that moved) costs only the extra fetches: the module
//! asks for what it really needs in the next round, as without prediction.
//!
//! Only registry artifacts are predicted, never Kubernetes API calls.
//! Predicted fetches are ordinary fetches: their answers are verified and
//! bounded on `put` like any other, so a prediction can change how many
//! rounds a decision takes but never the decision.

use super::store::{Fetch, FetchKind};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

/// First-round fetch sets remembered per engine.
const MAX_PREDICTIONS: usize = 128;
/// Fetches remembered per first-round set; past this the oldest are
/// forgotten.
const MAX_PREDICTED_FETCHES: usize = 128;

/// Predictions of one compiled engine.
#[derive(Debug)]
pub struct Predictions {
    enabled: bool,
    map: Mutex<HashMap<u64, Vec<Fetch>>>,
}

/// Identifies a first round: its fetches' kinds, keys and registry access
/// (credentials), in order, so a prediction learned under one access is
/// never asked for under another.
pub fn first_round_id(fetches: &[Fetch]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for f in fetches {
        f.kind.as_str().hash(&mut h);
        f.key.hash(&mut h);
        f.access.hash(&mut h);
    }
    h.finish()
}

/// Whether a fetch may be predicted: registry artifacts only.
pub fn predictable(f: &Fetch) -> bool {
    matches!(
        f.kind,
        FetchKind::ManifestByTag | FetchKind::Manifest | FetchKind::Blob | FetchKind::Referrers
    )
}

impl Predictions {
    /// Predictions on or off (off with the engine's memo off).
    pub fn new(enabled: bool) -> Self {
        Predictions {
            enabled,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// The fetches predicted after the first round `id`.
    pub fn get(&self, id: u64) -> Vec<Fetch> {
        if !self.enabled {
            return Vec::new();
        }
        self.map
            .lock()
            .ok()
            .and_then(|m| m.get(&id).cloned())
            .unwrap_or_default()
    }

    /// Remembers that after the first round `id` a session asked for
    /// `later` (added to what was predicted before, within the bounds).
    pub fn learn(&self, id: u64, later: Vec<Fetch>) {
        if !self.enabled || later.is_empty() {
            return;
        }
        let Ok(mut m) = self.map.lock() else {
            return;
        };
        if m.len() >= MAX_PREDICTIONS && !m.contains_key(&id) {
            m.clear();
        }
        let known = m.entry(id).or_default();
        for f in later {
            if !known.iter().any(|k| k.kind == f.kind && k.key == f.key) {
                known.push(f);
            }
        }
        if known.len() > MAX_PREDICTED_FETCHES {
            let keep = known.split_off(known.len() - MAX_PREDICTED_FETCHES);
            *known = keep;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::store::Access;

    fn tag(key: &str) -> Fetch {
        Fetch::manifest_by_tag("r.example", "app", key)
    }

    #[test]
    fn predictions_are_bounded_and_keyed_by_access() {
        let p = Predictions::new(true);
        let first = vec![tag("v1")];
        let id = first_round_id(&first);
        p.learn(id, (0..200).map(|i| tag(&format!("s{i}"))).collect());
        let got = p.get(id);
        assert_eq!(got.len(), MAX_PREDICTED_FETCHES);
        assert_eq!(
            got.last().map(|f| f.key.as_str()),
            Some("r.example/app:s199")
        );
        let mut other = first.clone();
        other[0].access = Access {
            secrets: vec!["ns/pull".into()],
            ..Access::default()
        };
        assert_ne!(
            first_round_id(&other),
            id,
            "another access is another round"
        );
        assert!(p.get(first_round_id(&other)).is_empty());
        for i in 0..(MAX_PREDICTIONS as u64 + 10) {
            p.learn(i, vec![tag("x")]);
        }
        assert!(p.map.lock().map(|m| m.len()).unwrap_or(0) <= MAX_PREDICTIONS);
        let off = Predictions::new(false);
        off.learn(id, vec![tag("x")]);
        assert!(off.get(id).is_empty());
    }

    #[test]
    fn api_calls_are_never_predicted() {
        let mut f = tag("v1");
        assert!(predictable(&f));
        f.kind = FetchKind::KubeApi;
        assert!(!predictable(&f));
    }
}
