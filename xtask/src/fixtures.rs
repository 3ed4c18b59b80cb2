//! Generates the signed example images in `policies/images` (an OCI image
//! layout) with DEMO keys. The keys are derived from fixed, public labels:
//! they are for the examples only and must never be trusted for anything else.

use base64::Engine as _;
use p256::ecdsa::{Signature, SigningKey, signature::Signer};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

/// The fake registry the examples live in.
pub const REGISTRY: &str = "registry.example.com";
/// Fixed integrated time of the demo Rekor entries (2026-01-01T00:00:00Z).
const INTEGRATED_TIME: i64 = 1_767_225_600;

fn demo_key(label: &str) -> SigningKey {
    let seed = Sha256::digest(
        format!("imgverify DEMO key {label} - for examples only, never trust").as_bytes(),
    );
    SigningKey::from_slice(&seed)
        .expect("a sha256 output is a valid P-256 scalar with overwhelming probability")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn pub_pem(k: &SigningKey) -> String {
    k.verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("encode public key")
}

/// OCI media types the layout writes.
const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// cosign 3's bundle artifact and layer type.
const BUNDLE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The OCI empty descriptor's type and bytes.
const EMPTY: &str = "application/vnd.oci.empty.v1+json";

struct Layout {
    blobs: BTreeMap<String, Vec<u8>>,
    /// Reference, digest, size and media type of each tagged manifest.
    refs: Vec<(String, String, usize, &'static str)>,
}

impl Layout {
    fn add_blob(&mut self, bytes: Vec<u8>) -> (String, usize) {
        let d = format!("sha256:{}", hex(&Sha256::digest(&bytes)));
        let n = bytes.len();
        self.blobs.insert(d.clone(), bytes);
        (d, n)
    }

    fn add_manifest(&mut self, reference: &str, manifest: &Value) -> String {
        self.add_tagged(reference, manifest, MANIFEST)
    }

    fn add_tagged(
        &mut self,
        reference: &str,
        manifest: &Value,
        media_type: &'static str,
    ) -> String {
        let bytes = serde_json::to_vec(manifest).expect("json");
        let (d, n) = self.add_blob(bytes);
        self.refs
            .push((reference.to_string(), d.clone(), n, media_type));
        d
    }

    /// Attaches cosign 3 Sigstore bundles (DSSE over an in-toto statement,
    /// a managed key, one Rekor `dsse` entry with SET, inclusion proof and
    /// checkpoint) as referrers of `subject`, listed in the image's
    /// `sha256-<hex>` tag-schema index as a registry without the referrers
    /// API holds them. `listed_type` is the artifact type the index gives
    /// (cosign 3 writes the empty type there).
    fn attach_bundles(
        &mut self,
        repo: &str,
        image_digest: &str,
        bundles: &[(&SigningKey, BTreeMap<&str, &str>, &str)],
        rekor: &SigningKey,
        listed_type: &str,
    ) {
        let mut listed = Vec::new();
        for (i, (key, annotations, subject)) in bundles.iter().enumerate() {
            let bundle = sigstore_bundle(key, subject, annotations, rekor, i as i64);
            let (bd, bn) = self.add_blob(bundle);
            let (ed, en) = self.add_blob(b"{}".to_vec());
            let subject_size = self.blobs.get(*subject).map_or(0, Vec::len);
            let annotations = json!({
                "dev.sigstore.bundle.content": "dsse-envelope",
                "dev.sigstore.bundle.predicateType": "https://sigstore.dev/cosign/sign/v1",
            });
            let manifest = json!({
                "schemaVersion": 2,
                "mediaType": MANIFEST,
                "artifactType": BUNDLE_V03,
                "config": {"mediaType": EMPTY, "digest": ed, "size": en},
                "layers": [{"mediaType": BUNDLE_V03, "digest": bd, "size": bn}],
                "subject": {"mediaType": MANIFEST, "digest": subject, "size": subject_size},
                "annotations": annotations,
            });
            let (md, mn) = self.add_blob(serde_json::to_vec(&manifest).expect("json"));
            listed.push(json!({
                "mediaType": MANIFEST, "digest": md, "size": mn,
                "artifactType": listed_type, "annotations": annotations,
            }));
        }
        let index = json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": listed});
        let tag = image_digest.replace(':', "-");
        self.add_tagged(&format!("{REGISTRY}/{repo}:{tag}"), &index, INDEX);
    }

    fn image(&mut self, repo: &str, tag: &str) -> String {
        let config = serde_json::to_vec(&json!({"architecture": "amd64", "os": "linux", "config": {"Labels": {"example": repo}}})).expect("json");
        let (cd, cn) = self.add_blob(config);
        let layer = format!("imgverify example layer for {repo}:{tag}\n").into_bytes();
        let (ld, ln) = self.add_blob(layer);
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": ln}],
        });
        self.add_manifest(&format!("{REGISTRY}/{repo}:{tag}"), &manifest)
    }

    /// Writes a `.sig` manifest with one layer per (key, optional annotations, signed digest).
    fn sign(
        &mut self,
        repo: &str,
        image_digest: &str,
        signers: &[(&SigningKey, BTreeMap<&str, &str>, &str)],
        rekor: Option<&SigningKey>,
    ) {
        let (cd, cn) = self.add_blob(b"{}".to_vec());
        let mut layers = Vec::new();
        for (i, (key, optional, signed_digest)) in signers.iter().enumerate() {
            let payload = serde_json::to_vec(&json!({
                "critical": {
                    "identity": {"docker-reference": format!("{REGISTRY}/{repo}")},
                    "image": {"docker-manifest-digest": signed_digest},
                    "type": "cosign container image signature"
                },
                "optional": if optional.is_empty() { Value::Null } else { json!(optional) },
            }))
            .expect("json");
            let sig: Signature = key.sign(&payload);
            let sig_der = sig.to_der();
            let mut annotations = BTreeMap::new();
            annotations.insert(
                "dev.cosignproject.cosign/signature".to_string(),
                b64(sig_der.as_bytes()),
            );
            if let Some(rk) = rekor {
                annotations.insert(
                    "dev.sigstore.cosign/bundle".to_string(),
                    rekor_bundle(rk, key, &payload, sig_der.as_bytes(), i as i64),
                );
            }
            let (pd, pn) = self.add_blob(payload);
            layers.push(json!({
                "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                "digest": pd, "size": pn, "annotations": annotations,
            }));
        }
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn},
            "layers": layers,
        });
        let tag = format!("{}.sig", image_digest.replace(':', "-"));
        self.add_manifest(&format!("{REGISTRY}/{repo}:{tag}"), &manifest);
    }
}

fn rekor_bundle(
    rekor: &SigningKey,
    signer: &SigningKey,
    payload: &[u8],
    sig: &[u8],
    index: i64,
) -> String {
    let body = json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": hex(&Sha256::digest(payload))}},
            "signature": {"content": b64(sig), "publicKey": {"content": b64(pub_pem(signer).as_bytes())}},
        }
    });
    let body_b64 = b64(&serde_json::to_vec(&body).expect("json"));
    let spki = rekor.verifying_key().to_public_key_der().expect("der");
    let log_id = hex(&Sha256::digest(spki.as_bytes()));
    let log_index = 1000 + index;
    // Canonical JSON: keys sorted, no whitespace (serde_json's map is sorted).
    let canonical = serde_json::to_vec(&json!({"body": body_b64, "integratedTime": INTEGRATED_TIME, "logID": log_id, "logIndex": log_index})).expect("json");
    let set: Signature = rekor.sign(&canonical);
    serde_json::to_string(&json!({
        "SignedEntryTimestamp": b64(set.to_der().as_bytes()),
        "Payload": {"body": body_b64, "integratedTime": INTEGRATED_TIME, "logIndex": log_index, "logID": log_id},
    }))
    .expect("json")
}

/// DSSE's pre-authentication encoding.
fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut v = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    v.extend_from_slice(payload);
    v
}

/// A v0.3 Sigstore bundle as `cosign sign --new-bundle-format` writes it
/// for an image, signed with a managed key and logged in a one-entry demo
/// Rekor tree.
fn sigstore_bundle(
    key: &SigningKey,
    image_digest: &str,
    annotations: &BTreeMap<&str, &str>,
    rekor: &SigningKey,
    index: i64,
) -> Vec<u8> {
    const IN_TOTO: &str = "application/vnd.in-toto+json";
    let hex_digest = image_digest.trim_start_matches("sha256:");
    let mut subject =
        json!({"name": format!("{REGISTRY}/image"), "digest": {"sha256": hex_digest}});
    if !annotations.is_empty() {
        subject["annotations"] = json!(annotations);
    }
    let statement = serde_json::to_vec(&json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [subject],
        "predicateType": "https://sigstore.dev/cosign/sign/v1",
        "predicate": {},
    }))
    .expect("json");
    let sig: Signature = key.sign(&pae(IN_TOTO, &statement));
    let sig = sig.to_der();
    let body = serde_json::to_vec(&json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "payloadHash": {"algorithm": "sha256", "value": hex(&Sha256::digest(&statement))},
            "signatures": [{"signature": b64(sig.as_bytes()), "verifier": b64(pub_pem(key).as_bytes())}],
        }
    }))
    .expect("json");
    let spki = rekor.verifying_key().to_public_key_der().expect("der");
    let log_id = Sha256::digest(spki.as_bytes());
    let canonical = serde_json::to_vec(&json!({"body": b64(&body), "integratedTime": INTEGRATED_TIME, "logID": hex(&log_id), "logIndex": index})).expect("json");
    let set: Signature = rekor.sign(&canonical);
    // A one-leaf tree: the root is the leaf hash and the proof is empty.
    let mut leaf = Sha256::new();
    leaf.update([0u8]);
    leaf.update(&body);
    let root_hash = leaf.finalize();
    let origin = "rekor.example.com - demo";
    let text = format!("{origin}\n1\n{}\n", b64(&root_hash));
    let note_sig: Signature = rekor.sign(text.as_bytes());
    let mut signed = log_id[..4].to_vec();
    signed.extend_from_slice(note_sig.to_der().as_bytes());
    let checkpoint = format!("{text}\n\u{2014} {origin} {}\n", b64(&signed));
    serde_json::to_vec_pretty(&json!({
        "mediaType": BUNDLE_V03,
        "verificationMaterial": {
            "publicKey": {"hint": b64(&Sha256::digest(pub_pem(key).as_bytes()))},
            "tlogEntries": [{
                "logIndex": index.to_string(),
                "logId": {"keyId": b64(&log_id)},
                "kindVersion": {"kind": "dsse", "version": "0.0.1"},
                "integratedTime": INTEGRATED_TIME.to_string(),
                "inclusionPromise": {"signedEntryTimestamp": b64(set.to_der().as_bytes())},
                "inclusionProof": {
                    "logIndex": "0",
                    "rootHash": b64(&root_hash),
                    "treeSize": "1",
                    "hashes": [],
                    "checkpoint": {"envelope": checkpoint},
                },
                "canonicalizedBody": b64(&body),
            }],
        },
        "dsseEnvelope": {
            "payload": b64(&statement),
            "payloadType": IN_TOTO,
            "signatures": [{"sig": b64(sig.as_bytes()), "keyid": ""}],
        },
    }))
    .expect("json")
}

/// Regenerates `policies/images` and `policies/keys`.
pub fn generate(root: &Path) -> std::io::Result<()> {
    let a = demo_key("A");
    let b = demo_key("B");
    let rekor = demo_key("rekor");
    let keys_dir = root.join("policies/keys");
    std::fs::create_dir_all(&keys_dir)?;
    std::fs::write(keys_dir.join("demo-a.pub"), pub_pem(&a))?;
    std::fs::write(keys_dir.join("demo-b.pub"), pub_pem(&b))?;
    std::fs::write(keys_dir.join("demo-rekor.pub"), pub_pem(&rekor))?;

    let mut l = Layout {
        blobs: BTreeMap::new(),
        refs: Vec::new(),
    };
    let no = BTreeMap::new;
    let signed = l.image("demo/signed", "v1");
    l.sign(
        "demo/signed",
        &signed,
        &[(&a, BTreeMap::from([("team", "payments")]), &signed)],
        Some(&rekor),
    );
    let by_b = l.image("demo/signed-by-b", "v1");
    l.sign(
        "demo/signed-by-b",
        &by_b,
        &[(&b, BTreeMap::from([("team", "search")]), &by_b)],
        Some(&rekor),
    );
    let multi = l.image("demo/multi", "v1");
    l.sign(
        "demo/multi",
        &multi,
        &[(&a, no(), &multi), (&b, no(), &multi)],
        Some(&rekor),
    );
    l.image("demo/unsigned", "v1");
    let tampered = l.image("demo/tampered", "v1");
    // A valid signature by key A, but over another image's digest.
    l.sign(
        "demo/tampered",
        &tampered,
        &[(&a, no(), &signed)],
        Some(&rekor),
    );
    let no_tlog = l.image("demo/no-tlog", "v1");
    l.sign("demo/no-tlog", &no_tlog, &[(&a, no(), &no_tlog)], None);

    // Sigstore bundles as OCI 1.1 referrers (`type: SigstoreBundle`).
    let bundled = l.image("demo/bundle-signed", "v1");
    l.attach_bundles(
        "demo/bundle-signed",
        &bundled,
        &[(&a, BTreeMap::from([("team", "payments")]), &bundled)],
        &rekor,
        EMPTY,
    );
    let bundled_b = l.image("demo/bundle-by-b", "v1");
    l.attach_bundles(
        "demo/bundle-by-b",
        &bundled_b,
        &[(&b, no(), &bundled_b)],
        &rekor,
        BUNDLE_V03,
    );
    // A valid bundle by key A, but its referrer manifest is about another image.
    let borrowed = l.image("demo/bundle-borrowed", "v1");
    l.attach_bundles(
        "demo/bundle-borrowed",
        &borrowed,
        &[(&a, no(), &bundled)],
        &rekor,
        BUNDLE_V03,
    );

    let dir = root.join("policies/images");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(dir.join("blobs/sha256"))?;
    std::fs::write(
        dir.join("oci-layout"),
        b"{\"imageLayoutVersion\":\"1.0.0\"}",
    )?;
    for (d, bytes) in &l.blobs {
        std::fs::write(
            dir.join("blobs/sha256")
                .join(d.trim_start_matches("sha256:")),
            bytes,
        )?;
    }
    let manifests: Vec<Value> = l
        .refs
        .iter()
        .map(|(r, d, n, t)| json!({"mediaType": t, "digest": d, "size": n, "annotations": {"org.opencontainers.image.ref.name": r}}))
        .collect();
    let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests});
    std::fs::write(
        dir.join("index.json"),
        serde_json::to_string_pretty(&index).expect("json") + "\n",
    )?;
    let mut digests =
        String::from("# Digests of the example images (generated by `cargo xtask fixtures`)\n");
    for (r, d, _, t) in &l.refs {
        if !r.contains(".sig") && *t == MANIFEST {
            digests.push_str(&format!("{r} {d}\n"));
        }
    }
    std::fs::write(dir.join("DIGESTS.txt"), digests)?;
    Ok(())
}
