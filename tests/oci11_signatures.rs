//! `cosignOCI11: true`: cosign signatures stored as OCI 1.1 referrers of the
//! image (artifact type `application/vnd.dev.cosign.artifact.sig.v1+json`,
//! simple-signing layers as in `.sig`), found beside the `.sig` tag; the
//! referrer manifest's own subject must be the image.
mod common;

use base64::Engine as _;
use common::sha256;
use imgverify::Engine;
use imgverify::engine::{Answer, FailureStatus, Fetch, FetchKind};
use p256::ecdsa::{Signature, SigningKey, signature::Signer};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const REPO: &str = "registry.example.com/app";
const SIG_TYPE: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";

fn key() -> (SigningKey, String) {
    use sha2::Digest as _;
    let key = SigningKey::from_slice(&sha2::Sha256::digest(b"oci11 test key")).unwrap();
    let pem = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    (key, pem)
}

/// A registry where `image`'s only signature is a referrer whose manifest
/// names `subject`.
fn registry(image: &str, subject: &str) -> BTreeMap<(FetchKind, String), Vec<u8>> {
    let (key, _) = key();
    let payload = serde_json::to_vec(&json!({
        "critical": {"identity": {"docker-reference": REPO}, "image": {"docker-manifest-digest": image},
            "type": "cosign container image signature"}, "optional": null}))
    .unwrap();
    let sig: Signature = key.sign(&payload);
    let sig = base64::engine::general_purpose::STANDARD.encode(sig.to_der().as_bytes());
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": SIG_TYPE,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": sha256(b"{}"), "size": 2},
        "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "digest": sha256(&payload),
            "size": payload.len(), "annotations": {"dev.cosignproject.cosign/signature": sig}}],
        "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": subject, "size": 1},
    }))
    .unwrap();
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": sha256(&manifest), "size": manifest.len(), "artifactType": SIG_TYPE}],
    }))
    .unwrap();
    BTreeMap::from([
        ((FetchKind::Referrers, image.to_string()), index),
        ((FetchKind::Manifest, sha256(&manifest)), manifest),
        ((FetchKind::Blob, sha256(&payload)), payload),
    ])
}

fn admit(
    oci11: Option<bool>,
    reg: &BTreeMap<(FetchKind, String), Vec<u8>>,
    image: &str,
) -> (bool, String) {
    let (_, pem) = key();
    let mut policy: Value = serde_json::from_str(&common::policy_with_attestor(
        "registry.example.com/*",
        "Cosign",
        json!({"keys": {"publicKeys": pem, "rekor": {"ignoreTlog": true}}}),
    ))
    .unwrap();
    if let Some(b) = oci11 {
        policy["spec"]["rules"][0]["verifyImages"][0]["cosignOCI11"] = b.into();
    }
    let engine = Engine::compile("p.yaml", &policy.to_string()).unwrap();
    common::admit_pod(
        engine,
        &format!("{REPO}@{image}"),
        None,
        |f: &Fetch| match reg.get(&(f.kind, f.digest.clone().unwrap_or_default())) {
            Some(b) => Answer::Bytes(b.clone()),
            None => Answer::Failure(FailureStatus::NotFound, "not found".into()),
        },
    )
}

#[test]
fn signatures_as_referrers_verify_under_cosign_oci11() {
    let image = format!("sha256:{}", "5".repeat(64));
    let reg = registry(&image, &image);
    let (allowed, message) = admit(Some(true), &reg, &image);
    assert!(allowed, "{message}");
    // Without cosignOCI11 only the `.sig` tag is read.
    let (allowed, message) = admit(None, &reg, &image);
    assert!(
        !allowed && message.contains("no signatures found"),
        "{message}"
    );
}

#[test]
fn a_signature_referrer_about_another_image_is_not_used() {
    let image = format!("sha256:{}", "5".repeat(64));
    let other = format!("sha256:{}", "6".repeat(64));
    let reg = registry(&image, &other);
    let (allowed, message) = admit(Some(true), &reg, &image);
    assert!(
        !allowed && message.contains("no signatures found"),
        "{message}"
    );
}
