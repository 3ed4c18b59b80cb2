//! Helpers shared by the vector tests: locating and reading ../shared/vectors.
#![allow(dead_code)]

use serde_json::Value;
use std::path::PathBuf;

/// The shared vectors folder (../shared/vectors from the repository root).
pub fn vectors() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors");
    assert!(p.is_dir(), "test vectors not found at {}", p.display());
    p
}

/// Reads a JSON vector file relative to the vectors folder.
pub fn json(rel: &str) -> Value {
    let path = vectors().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Reads a file relative to the vectors folder.
pub fn bytes(rel: &str) -> Vec<u8> {
    let path = vectors().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Hex decoding for vector fields.
pub fn unhex(s: &str) -> Vec<u8> {
    imgverify::digest::hex_decode(s).unwrap_or_else(|| panic!("bad hex {s}"))
}

/// The `sha256:<hex>` digest of some bytes.
pub fn sha256(b: &[u8]) -> String {
    imgverify::digest::Digest::sha256_of(b).to_string()
}

/// containers/image's `cosign.pub`: the key that signed its cosign fixtures.
pub fn cosign_pub() -> String {
    String::from_utf8(bytes("containers-image/fixtures/cosign.pub")).unwrap()
}

/// containers/image's `cosign2.pub`: a key that signed none of them.
pub fn other_pub() -> String {
    String::from_utf8(bytes("containers-image/fixtures/cosign2.pub")).unwrap()
}

/// A `verifyImages` ClusterPolicy with one attestor entry, enforced on Pods
/// whose images match `pattern`; `verifier` is the entry's `type`.
pub fn policy_with_attestor(pattern: &str, verifier: &str, attestor: Value) -> String {
    serde_json::json!({
        "apiVersion": "kyverno.io/v1",
        "kind": "ClusterPolicy",
        "metadata": {"name": "p"},
        "spec": {
            "webhookConfiguration": {"failurePolicy": "Fail"},
            "rules": [{
                "name": "check",
                "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
                "verifyImages": [{
                    "type": verifier,
                    "imageReferences": [pattern],
                    "failureAction": "Enforce",
                    "attestors": [{"entries": [attestor]}],
                }],
            }],
        },
    })
    .to_string()
}

/// Decides the admission of a Pod running `image` under `engine`, at `now`,
/// answering the engine's fetches with `answer`; `(allowed, message)`.
pub fn admit_pod(
    engine: imgverify::Engine,
    image: &str,
    now: Option<&str>,
    answer: impl Fn(&imgverify::engine::Fetch) -> imgverify::engine::Answer,
) -> (bool, String) {
    use imgverify::{Outcome, Request, Session};
    let pod = serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
        "spec": {"containers": [{"name": "c", "image": image}]}});
    let req = Request::from_json(
        &serde_json::to_vec(&serde_json::json!({"object": pod, "now": now})).unwrap(),
    )
    .unwrap();
    let mut session = Session::new(std::sync::Arc::new(engine), req);
    for _ in 0..8 {
        match session.evaluate() {
            Outcome::NeedArtifacts { fetches } => {
                for f in fetches {
                    session.put(f.kind, &f.key, answer(&f)).unwrap();
                }
            }
            Outcome::Decision { decision } => return (decision.allowed, decision.message),
        }
    }
    panic!("no decision after 8 rounds");
}

/// A containers/image cosign fixture (`dir-img-cosign-*`) served as a
/// registry would: the image manifest, and a `.sig` manifest whose one
/// layer carries the fixture's signature annotations (after `annotate`).
pub struct CosignFixture {
    by_digest: std::collections::BTreeMap<String, Vec<u8>>,
    by_tag: std::collections::BTreeMap<String, Vec<u8>>,
    /// `registry/repository` the fixture is served under.
    pub repo: String,
    /// The image manifest's digest.
    pub image_digest: String,
}

impl CosignFixture {
    /// Loads `containers-image/fixtures/<fixture>` under `repo`.
    pub fn load(
        fixture: &str,
        repo: &str,
        annotate: impl FnOnce(&mut std::collections::BTreeMap<String, String>),
    ) -> Self {
        use base64::Engine as _;
        let dir = format!("containers-image/fixtures/{fixture}");
        let manifest = bytes(&format!("{dir}/manifest.json"));
        let sig = bytes(&format!("{dir}/signature-1"));
        let sig: Value =
            serde_json::from_slice(sig.strip_prefix(b"\x00sigstore-json\n").unwrap()).unwrap();
        let payload = base64::engine::general_purpose::STANDARD
            .decode(sig["payload"].as_str().unwrap())
            .unwrap();
        let mut annotations: std::collections::BTreeMap<String, String> =
            serde_json::from_value(sig["annotations"].clone()).unwrap();
        annotate(&mut annotations);
        let config = b"{}".to_vec();
        let sig_manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(&config), "size": config.len()},
            "layers": [{
                "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                "digest": sha256(&payload),
                "size": payload.len(),
                "annotations": annotations,
            }],
        }))
        .unwrap();
        let image_digest = sha256(&manifest);
        let tag = format!("{}.sig", image_digest.replace(':', "-"));
        CosignFixture {
            by_digest: [
                (image_digest.clone(), manifest),
                (sha256(&payload), payload),
                (sha256(&config), config),
            ]
            .into(),
            by_tag: [(tag, sig_manifest)].into(),
            repo: repo.to_string(),
            image_digest,
        }
    }

    /// Serves the manifest of `digest` under `tag` too.
    pub fn tag(&mut self, tag: &str, digest: &str) {
        let manifest = self.by_digest[digest].clone();
        self.by_tag.insert(tag.to_string(), manifest);
    }

    /// The image by digest.
    pub fn image(&self) -> String {
        format!("{}@{}", self.repo, self.image_digest)
    }

    /// The registry's answer to a fetch.
    pub fn answer(&self, f: &imgverify::engine::Fetch) -> imgverify::engine::Answer {
        use imgverify::engine::{Answer, FailureStatus, FetchKind};
        let found = match f.kind {
            FetchKind::ManifestByTag => self.by_tag.get(f.tag.as_deref().unwrap_or("")),
            _ => self.by_digest.get(f.digest.as_deref().unwrap_or("")),
        };
        match found {
            Some(b) if format!("{}/{}", f.registry, f.repository) == self.repo => {
                Answer::Bytes(b.clone())
            }
            _ => Answer::Failure(FailureStatus::NotFound, "not found".into()),
        }
    }
}

/// Asserts an admission was denied, for `reason` (a part of its message).
pub fn assert_denied(got: (bool, String), reason: &str) {
    assert!(!got.0, "allowed, expected a denial for {reason:?}");
    assert!(
        got.1.contains(reason),
        "denied for another reason: {}\nexpected: {reason}",
        got.1
    );
}
