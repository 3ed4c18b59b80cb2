//! Hostile artifacts never panic the engine and never turn into a pass.
//!
//! Every artifact the keyed-signature example fetches is corrupted in turn
//! (bit flips, truncation, emptiness, JSON type confusion); each run must end
//! in a decision, and the signed image must never be allowed unless the
//! corruption left the bytes the engine relies on intact.

use imgverify::engine::Fetch;
use imgverify_host::runner::decide_native;
use imgverify_host::source::{ArtifactSource, OciLayouts, SourceAnswer};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[derive(Clone, Copy, Debug)]
enum Corruption {
    FlipByte(usize),
    Truncate(usize),
    Empty,
    NotJson,
    WrongJsonType,
}

impl Corruption {
    fn apply(self, mut b: Vec<u8>) -> Vec<u8> {
        match self {
            Corruption::FlipByte(i) => {
                if !b.is_empty() {
                    let n = b.len();
                    b[i % n] ^= 0x20;
                }
                b
            }
            Corruption::Truncate(n) => {
                b.truncate(b.len().saturating_sub(n.max(1)));
                b
            }
            Corruption::Empty => Vec::new(),
            Corruption::NotJson => b"\xff\xfe{{{".to_vec(),
            Corruption::WrongJsonType => {
                br#"{"schemaVersion":"2","layers":{"a":1},"critical":[]}"#.to_vec()
            }
        }
    }
}

/// Serves the example layout, corrupting the n-th distinct fetch.
struct Hostile {
    inner: OciLayouts,
    target: usize,
    how: Corruption,
    seen: Mutex<Vec<String>>,
}

impl ArtifactSource for Hostile {
    fn fetch(&self, f: &Fetch) -> SourceAnswer {
        let idx = {
            let mut seen = self.seen.lock().unwrap();
            match seen.iter().position(|k| *k == f.key) {
                Some(i) => i,
                None => {
                    seen.push(f.key.clone());
                    seen.len() - 1
                }
            }
        };
        match self.inner.fetch(f) {
            SourceAnswer::Bytes(b) if idx == self.target => SourceAnswer::Bytes(self.how.apply(b)),
            other => other,
        }
    }
}

#[test]
fn corrupted_artifacts_never_panic_or_pass() {
    let policy =
        std::fs::read_to_string(root().join("policies/keyed-signature/policy.yaml")).unwrap();
    let engine = Arc::new(imgverify::Engine::compile("policy.yaml", &policy).unwrap());
    let mut layouts = OciLayouts::default();
    layouts
        .add(root().join("policies/images").to_str().unwrap())
        .unwrap();
    let request = serde_json::to_vec(&serde_json::json!({"object": {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
        "spec": {"containers": [{"name": "app", "image": "registry.example.com/demo/signed:v1"}]}}}))
    .unwrap();
    // Baseline: the signed image passes, after 3 distinct fetches (tag, .sig, payload).
    let baseline = decide_native(&engine, &request, &layouts).unwrap();
    assert!(baseline.allowed);
    let mut runs = 0;
    for target in 0..3 {
        let mut hows = vec![
            Corruption::Empty,
            Corruption::NotJson,
            Corruption::WrongJsonType,
        ];
        hows.extend((0..40).map(|i| Corruption::FlipByte(i * 37 + 1)));
        hows.extend((1..20).map(Corruption::Truncate));
        for how in hows {
            let src = Hostile {
                inner: layouts.clone(),
                target,
                how,
                seen: Mutex::new(Vec::new()),
            };
            let d = decide_native(&engine, &request, &src)
                .expect("a decision, never a failure to decide");
            runs += 1;
            let structural = matches!(
                how,
                Corruption::Empty | Corruption::NotJson | Corruption::WrongJsonType
            );
            match target {
                // The tag answer is unverifiable: any change gives another digest,
                // which no signature covers.
                0 => assert!(!d.allowed, "corrupted image manifest {how:?} was allowed"),
                // The .sig manifest is fetched by tag: a flip in a field the engine
                // does not use (say the config's media type) may still verify, but
                // a manifest that is not one must not.
                1 => assert!(
                    !(structural && d.allowed),
                    "corrupted signature manifest {how:?} was allowed"
                ),
                // The payload is digest-addressed: no change survives.
                _ => assert!(!d.allowed, "corrupted payload {how:?} was allowed"),
            }
        }
    }
    assert!(runs > 150);
}
