//! The engine module in wasmtime: zero imports, the example policies end to
//! end, and hostile answers (bytes that do not match their digest).

use imgverify::decision::RuleStatus;
use imgverify::engine::{Fetch, FetchKind};
use imgverify_host::apply;
use imgverify_host::inputs;
use imgverify_host::runner::{MODULE_BYTES, ModuleRunner};
use imgverify_host::source::{ArtifactSource, OciLayouts, SourceAnswer};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn layouts() -> OciLayouts {
    let mut l = OciLayouts::default();
    l.add(root().join("policies/images").to_str().unwrap())
        .unwrap();
    l
}

#[test]
fn module_has_zero_imports() {
    let runner = ModuleRunner::from_bytes(MODULE_BYTES).expect("module loads");
    assert_eq!(runner.import_count(), 0);
}

/// The binary starts from the code `build.rs` precompiled (no Cranelift run
/// at start), and that code has zero imports too.
#[test]
fn embedded_module_loads_precompiled() {
    let runner = ModuleRunner::new().expect("module loads");
    assert!(
        runner.is_precompiled(),
        "the precompiled module was refused or missing (see build.rs warnings)"
    );
    assert_eq!(runner.import_count(), 0);
}

/// The `verify_signature` export: a P-256 key's valid signature verifies
/// (three times, so its fixed-base table is built and used in the module),
/// the same signature over other bytes does not, and a scheme the engine
/// does not know is an input error.
#[test]
fn one_signature_verifies_in_the_module() {
    use base64::Engine as _;
    use p256::ecdsa::signature::Signer as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let key = p256::ecdsa::SigningKey::from_slice(&[5u8; 32]).unwrap();
    let sig: p256::ecdsa::Signature = key.sign(b"payload");
    let pem = p256::pkcs8::EncodePublicKey::to_public_key_pem(
        key.verifying_key(),
        p256::pkcs8::LineEnding::LF,
    )
    .unwrap();
    let input = |msg: &[u8], scheme: &str| {
        serde_json::to_vec(&serde_json::json!({"publicKey": pem, "scheme": scheme,
            "message": b64(msg), "signature": b64(&sig.to_der().to_bytes())}))
        .unwrap()
    };
    let mut inst = ModuleRunner::new().unwrap().instantiate().unwrap();
    for _ in 0..3 {
        assert_eq!(
            inst.verify_signature(&input(b"payload", "ecdsa-der"))
                .unwrap(),
            None
        );
    }
    let reason = inst
        .verify_signature(&input(b"other", "ecdsa-der"))
        .unwrap()
        .expect("another message fails");
    assert!(reason.contains("signature"), "{reason}");
    let err = inst
        .verify_signature(&input(b"payload", "dsa"))
        .unwrap_err();
    assert!(err.to_string().contains("scheme: unknown dsa"), "{err}");
}

#[test]
fn module_with_imports_is_refused() {
    // (module (import "env" "f" (func)))
    let wasm = b"\0asm\x01\0\0\0\x01\x04\x01\x60\0\0\x02\x09\x01\x03env\x01f\0\0";
    let err = ModuleRunner::from_bytes(wasm).err().expect("refused");
    assert!(err.to_string().contains("env::f"), "{err}");
}

fn decide(policy: &str, source: &dyn ArtifactSource) -> Vec<apply::ResourceOutcome> {
    let runner = ModuleRunner::new().unwrap();
    let dir = root().join("policies").join(policy);
    let pol = inputs::read_all(&[dir.join("policy.yaml").display().to_string()], &[]).unwrap();
    let res = inputs::read_all(&[dir.join("resources.yaml").display().to_string()], &[]).unwrap();
    let mut loaded = apply::load_policies(&runner, &pol, &Default::default()).unwrap();
    apply::run(&mut loaded, &res, None, source).unwrap()
}

#[test]
fn keyed_signature_end_to_end_in_wasmtime() {
    let out = decide("keyed-signature", &layouts());
    let by = |n: &str| out.iter().find(|o| o.name == n).unwrap();
    let signed = by("signed");
    assert!(signed.allowed);
    assert_eq!(signed.results[0].result, RuleStatus::Pass);
    // Annotations first, then the digest patch.
    let ops: Vec<&str> = signed
        .patches
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        ops,
        [
            "/metadata/annotations",
            "/metadata/annotations/kyverno.io~1verify-images",
            "/metadata/annotations/kyverno.io~1verify-images-scoped",
            "/spec/containers/0/image"
        ]
    );
    let digests = std::fs::read_to_string(root().join("policies/images/DIGESTS.txt")).unwrap();
    let d = digests
        .lines()
        .find(|l| l.starts_with("registry.example.com/demo/signed:v1 "))
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap();
    assert_eq!(
        signed.patches[3]["value"],
        format!("registry.example.com/demo/signed:v1@{d}")
    );
    let unsigned = by("unsigned");
    assert!(!unsigned.allowed);
    assert!(
        unsigned
            .message
            .contains("resource Pod/default/unsigned was blocked due to the following policies"),
        "{}",
        unsigned.message
    );
    assert!(
        unsigned.message.contains("no signatures found"),
        "{}",
        unsigned.message
    );
    assert!(unsigned.patches.is_empty());
    assert!(by("other-registry").results.is_empty());
}

/// Serves the example layout, but corrupts one blob.
struct Corrupting(OciLayouts);

impl ArtifactSource for Corrupting {
    fn fetch(&self, f: &Fetch) -> SourceAnswer {
        match (f.kind, self.0.fetch(f)) {
            (FetchKind::Blob, SourceAnswer::Bytes(mut b)) => {
                b[0] ^= 1;
                SourceAnswer::Bytes(b)
            }
            (_, a) => a,
        }
    }
}

#[test]
fn blob_not_matching_its_digest_fails_closed() {
    let out = decide("keyed-signature", &Corrupting(layouts()));
    let signed = out.iter().find(|o| o.name == "signed").unwrap();
    assert!(
        !signed.allowed,
        "tampered signature payload must not verify"
    );
    // The corrupted payload is refused by the module's hash check, so no signature verifies.
    assert_eq!(signed.results[0].result, RuleStatus::Fail);
    assert!(
        signed.results[0].message.contains("digest mismatch"),
        "{}",
        signed.results[0].message
    );
}

/// A registry that is down: every fetch errors.
struct Down;

impl ArtifactSource for Down {
    fn fetch(&self, _: &Fetch) -> SourceAnswer {
        SourceAnswer::Error("connection refused".into())
    }
}

#[test]
fn registry_down_is_an_error_under_failure_policy_fail() {
    let out = decide("keyed-signature", &Down);
    let signed = out.iter().find(|o| o.name == "signed").unwrap();
    assert!(!signed.allowed);
    assert_eq!(signed.results[0].result, RuleStatus::Error);
    assert!(signed.results[0].message.contains("connection refused"));
}

/// Counts the rounds of fetches a decision takes.
struct Rounds<'a> {
    inner: &'a dyn ArtifactSource,
    rounds: std::sync::atomic::AtomicUsize,
    fetches: std::sync::atomic::AtomicUsize,
}

impl ArtifactSource for Rounds<'_> {
    fn fetch(&self, f: &Fetch) -> SourceAnswer {
        self.fetches
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.fetch(f)
    }
    fn fetch_each(
        &self,
        fetches: &[Fetch],
        deadline: Option<std::time::Instant>,
        sink: &mut dyn FnMut(usize, SourceAnswer),
    ) {
        self.rounds
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        for (i, f) in fetches.iter().enumerate() {
            let _ = deadline;
            sink(i, self.fetch(f));
        }
    }
}

/// A Pod decided before is decided again in one round of fetches (the
/// first round also asks for what the last decision asked for later), with
/// the same decision; a different Pod, or an engine with the memo off, asks
/// round by round; and a prediction that turned wrong (the tag moved) still
/// gives the right decision.
#[test]
fn a_pod_seen_before_needs_one_round_of_fetches() {
    let layouts = layouts();
    let source = Rounds {
        inner: &layouts,
        rounds: Default::default(),
        fetches: Default::default(),
    };
    let policy =
        std::fs::read_to_string(root().join("policies/keyed-signature/policy.yaml")).unwrap();
    let pod = |image: &str| {
        serde_json::to_vec(
            &serde_json::json!({"object": {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "default"},
            "spec": {"containers": [{"name": "a", "image": image}]}}}),
        )
        .unwrap()
    };
    let signed = pod("registry.example.com/demo/signed:v1");
    let tampered = pod("registry.example.com/demo/tampered:v1");
    for (memo, second_rounds) in [(4096, 1), (0, 3)] {
        let mut inst = ModuleRunner::new().unwrap().instantiate().unwrap();
        let input = serde_json::json!({"sources": [{"name": "p.yaml", "text": policy}],
            "options": {"verificationMemoEntries": memo}});
        let engine = inst
            .engine_new(&serde_json::to_vec(&input).unwrap())
            .unwrap()
            .engine;
        let mut run = |req: &[u8]| {
            source.rounds.store(0, std::sync::atomic::Ordering::SeqCst);
            let d = inst.decide(engine, req, &source).unwrap();
            (
                d.allowed,
                source.rounds.load(std::sync::atomic::Ordering::SeqCst),
            )
        };
        assert_eq!(
            run(&signed),
            (true, 3),
            "memo {memo}: tag, signature tag, payload"
        );
        assert_eq!(
            run(&signed),
            (true, second_rounds),
            "memo {memo}: seen before"
        );
        assert!(!run(&tampered).0, "memo {memo}: another Pod");
        assert!(!run(&tampered).0, "memo {memo}: another Pod again");
        assert_eq!(run(&signed), (true, second_rounds), "memo {memo}");
    }
    // The tag moves to another image: the warm engine's prediction is stale.
    let moved = Moved { inner: &layouts };
    let decide = |inst: &mut imgverify_host::runner::Instance_, engine| {
        let d = inst.decide(engine, &signed, &moved).unwrap();
        (d.allowed, format!("{:?}", d.results))
    };
    let input = serde_json::json!({"sources": [{"name": "p.yaml", "text": policy}]});
    let input = serde_json::to_vec(&input).unwrap();
    let mut warm = ModuleRunner::new().unwrap().instantiate().unwrap();
    let engine = warm.engine_new(&input).unwrap().engine;
    assert!(warm.decide(engine, &signed, &layouts).unwrap().allowed);
    let stale = decide(&mut warm, engine);
    let mut fresh = ModuleRunner::new().unwrap().instantiate().unwrap();
    let fresh_engine = fresh.engine_new(&input).unwrap().engine;
    assert_eq!(stale, decide(&mut fresh, fresh_engine));
    assert!(
        !stale.0,
        "the moved tag's image has no signature there: {}",
        stale.1
    );
    assert!(stale.1.contains("no signatures found"), "{}", stale.1);
}

/// The example layout, except that `demo/signed:v1` names the tampered
/// image's manifest.
struct Moved<'a> {
    inner: &'a dyn ArtifactSource,
}

impl ArtifactSource for Moved<'_> {
    fn fetch(&self, f: &Fetch) -> SourceAnswer {
        if f.kind == FetchKind::ManifestByTag && f.key == "registry.example.com/demo/signed:v1" {
            let mut g = f.clone();
            g.key = "registry.example.com/demo/tampered:v1".into();
            g.repository = "demo/tampered".into();
            return self.inner.fetch(&g);
        }
        self.inner.fetch(f)
    }
}
