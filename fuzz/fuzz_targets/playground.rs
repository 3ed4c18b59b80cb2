//! The playground's inputs, all untrusted: an uploaded file (layout `.tar`
//! or fetch bundle) never panics the store, and a loaded store answers any
//! fetch; policy text never panics the workspace (compile, and placing
//! every problem at its line), and every placed line is in the text.
#![no_main]
use imgverify::apply::artifacts::ArtifactStore;
use imgverify::apply::workspace::Workspace;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut store = ArtifactStore::with_max_bytes(4 << 20);
    if store.load("f", data).is_ok() {
        for (kind, key, digest) in [
            ("manifest_by_tag", "r.example/a:v1", None),
            ("referrers", "r.example/a@sha256:00", Some("sha256:00")),
            ("blob", "r.example/a@sha256:00", Some("sha256:00")),
        ] {
            let fetch = serde_json::from_value(serde_json::json!({
                "kind": kind, "key": key, "registry": "r.example", "repository": "a",
                "digest": digest,
            }));
            if let Ok(f) = fetch {
                let _ = store.answer(&f);
            }
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        // Lines as YAML (and the editor) count them: `\n`, `\r\n` or a lone `\r`.
        let lines = text.replace("\r\n", "\n").replace('\r', "\n").matches('\n').count() + 1;
        let mut w = Workspace::new();
        for p in w.set_policy(text) {
            assert!(p.line.is_none_or(|l| l >= 1 && l <= lines), "{p:?}");
        }
        for p in w.set_resources(text) {
            assert!(p.line.is_none_or(|l| l >= 1 && l <= lines), "{p:?}");
        }
    }
});
