//! A forge for hostile registries: images, cosign signature manifests with
//! any number of (wrong-key, oversized, misdirected) layers, served from
//! memory as an [`ArtifactSource`] that answers exactly as a registry would.
#![allow(dead_code)]

use base64::Engine as _;
use imgverify::engine::{Fetch, FetchKind};
use imgverify_host::source::{ArtifactSource, SourceAnswer};
use p256::ecdsa::{Signature, SigningKey, signature::Signer};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A P-256 key derived from a label (tests only).
pub fn key(label: &str) -> SigningKey {
    let seed = Sha256::digest(format!("imgverify test key {label}").as_bytes());
    SigningKey::from_slice(&seed).unwrap()
}

/// The PEM public key of a test key.
pub fn public_pem(k: &SigningKey) -> String {
    k.verifying_key().to_public_key_pem(LineEnding::LF).unwrap()
}

pub fn sha256(b: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(b)))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One signature layer to forge.
pub struct Layer<'a> {
    /// The key that signs.
    pub key: &'a SigningKey,
    /// The digest the payload claims.
    pub signed_digest: String,
    /// Extra bytes in the payload's `optional` section.
    pub padding: usize,
    /// The size the descriptor claims (the real size when `None`).
    pub claimed_size: Option<usize>,
    /// Signature bytes to publish instead of the key's real signature.
    pub raw_signature: Option<Vec<u8>>,
}

impl<'a> Layer<'a> {
    /// A layer signed by `key` over a payload claiming `signed_digest`.
    pub fn new(key: &'a SigningKey, signed_digest: &str) -> Self {
        Layer {
            key,
            signed_digest: signed_digest.to_string(),
            padding: 0,
            claimed_size: None,
            raw_signature: None,
        }
    }
}

/// In-memory registry content.
#[derive(Default)]
pub struct Forge {
    /// `registry/repo:tag` → manifest bytes.
    pub tags: Mutex<BTreeMap<String, Vec<u8>>>,
    /// digest → bytes.
    pub blobs: Mutex<BTreeMap<String, Vec<u8>>>,
    /// Fetches answered.
    pub fetches: AtomicUsize,
}

impl Forge {
    pub fn blob(&self, bytes: Vec<u8>) -> (String, usize) {
        let d = sha256(&bytes);
        let n = bytes.len();
        self.blobs.lock().unwrap().insert(d.clone(), bytes);
        (d, n)
    }

    /// Stores a manifest under a tag; returns its digest.
    pub fn manifest(&self, reference: &str, manifest: &Value) -> String {
        let bytes = serde_json::to_vec(manifest).unwrap();
        self.raw_manifest(reference, bytes)
    }

    /// Stores raw manifest bytes under a tag; returns their digest.
    pub fn raw_manifest(&self, reference: &str, bytes: Vec<u8>) -> String {
        let (d, _) = self.blob(bytes.clone());
        self.tags
            .lock()
            .unwrap()
            .insert(reference.to_string(), bytes);
        d
    }

    /// An image `registry/repo:tag`; returns its digest.
    pub fn image(&self, repo: &str, tag: &str) -> String {
        let (cd, cn) = self.blob(format!("{{\"repo\":\"{repo}\"}}").into_bytes());
        let (ld, ln) = self.blob(format!("layer of {repo}:{tag}").into_bytes());
        self.manifest(
            &format!("{repo}:{tag}"),
            &json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": ln}],
            }),
        )
    }

    /// A cosign `.sig` manifest for `repo@digest` with the given layers.
    pub fn sign(&self, repo: &str, digest: &str, layers: &[Layer]) {
        let (cd, cn) = self.blob(b"{}".to_vec());
        let mut out = Vec::new();
        for l in layers {
            let payload = serde_json::to_vec(&json!({
                "critical": {
                    "identity": {"docker-reference": repo},
                    "image": {"docker-manifest-digest": l.signed_digest},
                    "type": "cosign container image signature"
                },
                "optional": {"padding": "x".repeat(l.padding)},
            }))
            .unwrap();
            let sig: Signature = l.key.sign(&payload);
            let sig_bytes = match &l.raw_signature {
                Some(raw) => raw.clone(),
                None => sig.to_der().as_bytes().to_vec(),
            };
            let sig_b64 = base64::engine::general_purpose::STANDARD.encode(sig_bytes);
            let (pd, pn) = self.blob(payload);
            out.push(json!({
                "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                "digest": pd,
                "size": l.claimed_size.unwrap_or(pn),
                "annotations": {"dev.cosignproject.cosign/signature": sig_b64},
            }));
        }
        let tag = format!("{}.sig", digest.replace(':', "-"));
        self.manifest(
            &format!("{repo}:{tag}"),
            &json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn},
                "layers": out,
            }),
        );
    }
}

impl ArtifactSource for Forge {
    fn fetch(&self, f: &Fetch) -> SourceAnswer {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        match f.kind {
            FetchKind::ManifestByTag => match self.tags.lock().unwrap().get(&f.key) {
                Some(b) => SourceAnswer::Bytes(b.clone()),
                None => SourceAnswer::NotFound(format!("{}: manifest unknown", f.key)),
            },
            FetchKind::Manifest | FetchKind::Blob => {
                let d = f.digest.clone().unwrap_or_default();
                match self.blobs.lock().unwrap().get(&d) {
                    Some(b) => SourceAnswer::Bytes(b.clone()),
                    None => SourceAnswer::NotFound(format!("{}: blob unknown", f.key)),
                }
            }
            FetchKind::Referrers => SourceAnswer::NotFound(format!("{}: no referrers", f.key)),
            FetchKind::KubeApi => imgverify_host::source::no_kube_api(f),
        }
    }
}

/// A ClusterPolicy verifying `refs` with the given public keys (no tlog).
pub fn key_policy(name: &str, refs: &[&str], keys: &[String], extra_spec: &str) -> String {
    key_policy_with(name, refs, keys, extra_spec, "")
}

/// [`key_policy`] with extra rule fields (`exclude`, …) indented under the rule.
pub fn key_policy_with(
    name: &str,
    refs: &[&str],
    keys: &[String],
    extra_spec: &str,
    extra_rule: &str,
) -> String {
    let refs: Vec<String> = refs.iter().map(|r| format!("\"{r}\"")).collect();
    let mut entries = String::new();
    for k in keys {
        let indented: String = k
            .lines()
            .map(|l| format!("                      {l}\n"))
            .collect();
        entries.push_str(&format!(
            "                - keys:\n                    publicKeys: |-\n{indented}                    rekor: {{ignoreTlog: true}}\n"
        ));
    }
    format!(
        r#"apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {{name: {name}}}
spec:
{extra_spec}
  rules:
    - name: verify
      match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}
{extra_rule}
      verifyImages:
        - imageReferences: [{refs}]
          failureAction: Enforce
          mutateDigest: false
          verifyDigest: false
          attestors:
            - count: 1
              entries:
{entries}"#,
        refs = refs.join(", "),
    )
}

/// A Pod with these images.
pub fn pod(name: &str, images: &[&str]) -> Value {
    let containers: Vec<Value> = images
        .iter()
        .enumerate()
        .map(|(i, im)| json!({"name": format!("c{i}"), "image": im}))
        .collect();
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"}, "spec": {"containers": containers}})
}

impl Forge {
    /// Writes everything forged as an OCI image layout in `dir`: every blob,
    /// and every tag as an index entry named by its full reference.
    pub fn write_layout(&self, dir: &std::path::Path) {
        let blobs = dir.join("blobs/sha256");
        std::fs::create_dir_all(&blobs).unwrap();
        for (d, bytes) in self.blobs.lock().unwrap().iter() {
            std::fs::write(blobs.join(d.trim_start_matches("sha256:")), bytes).unwrap();
        }
        let manifests: Vec<Value> = self
            .tags
            .lock()
            .unwrap()
            .iter()
            .map(|(name, bytes)| {
                let media_type = serde_json::from_slice::<Value>(bytes)
                    .ok()
                    .and_then(|m| {
                        m.get("mediaType")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    })
                    .unwrap_or_else(|| "application/vnd.oci.image.manifest.v1+json".into());
                json!({"mediaType": media_type, "digest": sha256(bytes), "size": bytes.len(),
                    "annotations": {"org.opencontainers.image.ref.name": name}})
            })
            .collect();
        std::fs::write(
            dir.join("index.json"),
            serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": manifests})).unwrap(),
        )
        .unwrap();
        std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    }
}
