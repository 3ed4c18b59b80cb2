//! `type: Notary` policies decided by the engine end to end: notation-go's
//! signed OCI layout (an alpine manifest, signed by JWS and COSE envelopes
//! of a self-signed `CN=alpine` certificate) served as a registry answers
//! it, with the signatures as OCI 1.1 referrers.
mod common;

use common::{assert_denied, sha256};
use imgverify::Engine;
use imgverify::engine::{Answer, FailureStatus, Fetch, FetchKind};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const REPO: &str = "registry.example.com/alpine";
const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const NOTARY: &str = "application/vnd.cncf.notary.signature";
const NOW: &str = "2026-12-01T00:00:00Z";
const IMAGE_BLOB: &str = "notation-go/internal/testdata/oci-layout/blobs/sha256/19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0";

/// How a signature manifest is written.
#[derive(Clone, Copy)]
enum Form {
    /// OCI 1.1: `artifactType` and the empty config.
    Oci11,
    /// Notation before OCI 1.1: no `artifactType`, the config's media type.
    Legacy,
}

/// A registry holding one image and its Notary signatures as referrers.
#[derive(Default)]
struct Registry {
    by_digest: BTreeMap<String, Vec<u8>>,
    referrers: BTreeMap<String, Vec<u8>>,
    listed: Vec<Value>,
    image: String,
}

impl Registry {
    fn new() -> Self {
        let manifest = common::bytes(IMAGE_BLOB);
        let image = sha256(&manifest);
        let mut reg = Registry {
            image: image.clone(),
            ..Default::default()
        };
        reg.by_digest.insert(image, manifest);
        reg
    }

    /// Adds a signature whose manifest names `subject`.
    fn sign(&mut self, envelope: Vec<u8>, media_type: &str, form: Form, subject: &str) {
        let empty = b"{}".to_vec();
        let mut manifest = json!({
            "schemaVersion": 2, "mediaType": MANIFEST,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": sha256(&empty), "size": 2},
            "layers": [{"mediaType": media_type, "digest": sha256(&envelope), "size": envelope.len()}],
            "subject": {"mediaType": MANIFEST, "digest": subject, "size": 481},
            "annotations": {"io.cncf.notary.x509chain.thumbprint#S256": "[]"},
        });
        match form {
            Form::Oci11 => manifest["artifactType"] = NOTARY.into(),
            Form::Legacy => manifest["config"]["mediaType"] = NOTARY.into(),
        }
        let manifest = serde_json::to_vec(&manifest).unwrap();
        self.listed
            .push(json!({"mediaType": MANIFEST, "digest": sha256(&manifest),
            "size": manifest.len(), "artifactType": NOTARY}));
        self.by_digest.insert(sha256(&envelope), envelope);
        self.by_digest.insert(sha256(&empty), empty);
        self.by_digest.insert(sha256(&manifest), manifest);
        let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": self.listed});
        self.referrers
            .insert(self.image.clone(), serde_json::to_vec(&index).unwrap());
    }

    fn answer(&self, f: &Fetch) -> Answer {
        let d = f.digest.as_deref().unwrap_or("");
        let found = match f.kind {
            FetchKind::Referrers => self.referrers.get(d),
            FetchKind::Manifest | FetchKind::Blob => self.by_digest.get(d),
            FetchKind::ManifestByTag | FetchKind::KubeApi => None,
        };
        match found {
            Some(b) if format!("{}/{}", f.registry, f.repository) == REPO => {
                Answer::Bytes(b.clone())
            }
            _ => Answer::Failure(FailureStatus::NotFound, "not found".into()),
        }
    }
}

fn jws() -> Vec<u8> {
    common::bytes("notation-go/internal/testdata/jws_signature.sig")
}

fn cose() -> Vec<u8> {
    common::bytes("notation-go/internal/testdata/cose_signature.sig")
}

fn alpine_cert() -> String {
    String::from_utf8(common::bytes(
        "notation-go/derived/alpine-selfsigned-2000-2123.pem",
    ))
    .unwrap()
}

fn admit_at(cert: &str, reg: &Registry, now: &str) -> (bool, String) {
    let attestor = json!({"certificates": {"cert": cert}});
    let policy = common::policy_with_attestor("registry.example.com/*", "Notary", attestor);
    let engine = Engine::compile("p.yaml", &policy).unwrap();
    common::admit_pod(engine, &format!("{REPO}@{}", reg.image), Some(now), |f| {
        reg.answer(f)
    })
}

fn admit(cert: &str, reg: &Registry) -> (bool, String) {
    admit_at(cert, reg, NOW)
}

#[test]
fn jws_and_cose_signatures_verify_in_both_manifest_forms() {
    for (envelope, media_type) in [
        (jws(), "application/jose+json"),
        (cose(), "application/cose"),
    ] {
        for form in [Form::Oci11, Form::Legacy] {
            let mut reg = Registry::new();
            let image = reg.image.clone();
            reg.sign(envelope.clone(), media_type, form, &image);
            let (allowed, message) = admit(&alpine_cert(), &reg);
            assert!(allowed, "{media_type}: {message}");
        }
    }
}

#[test]
fn a_certificate_outside_the_trust_store_is_denied() {
    let mut reg = Registry::new();
    let image = reg.image.clone();
    reg.sign(jws(), "application/jose+json", Form::Oci11, &image);
    let other = String::from_utf8(common::bytes(
        "notation-go/verifier/testdata/truststore/x509/ca/valid-trust-store/NotationTestRoot.pem",
    ))
    .unwrap();
    assert_denied(
        admit(&other, &reg),
        "certificate chain does not contain any trusted certificate",
    );
}

#[test]
fn an_image_without_signatures_is_denied() {
    let reg = Registry::new();
    assert_denied(
        admit(&alpine_cert(), &reg),
        "no signature is associated with",
    );
}

#[test]
fn one_good_signature_among_bad_ones_is_enough() {
    let mut tampered = jws();
    let at = tampered.len() / 2;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let mut reg = Registry::new();
    let image = reg.image.clone();
    reg.sign(
        tampered.clone(),
        "application/jose+json",
        Form::Oci11,
        &image,
    );
    let (allowed, message) = admit(&alpine_cert(), &reg);
    assert!(!allowed);
    assert!(
        message.contains("signature verification failed"),
        "{message}"
    );
    reg.sign(cose(), "application/cose", Form::Oci11, &image);
    let (allowed, message) = admit(&alpine_cert(), &reg);
    assert!(allowed, "{message}");
}

#[test]
fn a_signature_for_another_image_is_refused() {
    // The referrer names another image as its subject: not this image's.
    let mut reg = Registry::new();
    let other = format!("sha256:{}", "1".repeat(64));
    reg.sign(jws(), "application/jose+json", Form::Oci11, &other);
    assert_denied(admit(&alpine_cert(), &reg), "is not about this image");
}

#[test]
fn signatures_past_the_attempt_limit_are_not_read() {
    let mut reg = Registry::new();
    let image = reg.image.clone();
    for i in 0..10 {
        let mut bad = jws();
        let len = bad.len();
        bad[len - 3] = b'A' + i;
        reg.sign(bad, "application/jose+json", Form::Oci11, &image);
    }
    reg.sign(cose(), "application/cose", Form::Oci11, &image);
    assert_denied(
        admit(&alpine_cert(), &reg),
        "The configured limit of 10 signatures to verify per artifact exceeded",
    );
}

#[test]
fn an_expired_certificate_is_denied_at_the_request_time() {
    let mut reg = Registry::new();
    let image = reg.image.clone();
    reg.sign(jws(), "application/jose+json", Form::Oci11, &image);
    assert_denied(
        admit_at(&alpine_cert(), &reg, "2124-01-01T00:00:00Z"),
        "verification time is after certificate",
    );
}

/// A fresh image with Notary signatures made in the test: a P-256 chain
/// (leaf, intermediate, root) as a registry would serve them.
mod fresh {
    use super::*;
    use base64::Engine as _;
    use imgverify_testkit::{Descriptor, KeyKind, Pki, SignRequest, sign_cose, sign_jws};

    fn signed_at() -> i64 {
        imgverify_testkit::unix(2026, 1, 1, 0, 0, 0)
    }

    fn admit_with(
        pki: &Pki,
        sign: impl Fn(Descriptor) -> (Vec<u8>, &'static str),
    ) -> (bool, String) {
        let mut reg = Registry::new();
        let image = reg.image.clone();
        let target = Descriptor::for_content(MANIFEST, &reg.by_digest[&image]);
        let (envelope, media_type) = sign(target);
        reg.sign(envelope, media_type, Form::Oci11, &image);
        let root = imgverify_testkit::cert_pem(&pki.root);
        let attestor = json!({"certificates": {"certChain": root}});
        let policy = common::policy_with_attestor("registry.example.com/*", "Notary", attestor);
        let engine = Engine::compile("p.yaml", &policy).unwrap();
        common::admit_pod(engine, &format!("{REPO}@{}", reg.image), Some(NOW), |f| {
            reg.answer(f)
        })
    }

    fn b64url(b: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    }

    #[test]
    fn fresh_jws_and_cose_chains_verify() {
        for kind in [KeyKind::P256, KeyKind::P384, KeyKind::Rsa2048] {
            let pki = Pki::code_signing(kind, "notary policy fresh");
            let (allowed, message) = admit_with(&pki, |t| {
                (
                    sign_jws(
                        &SignRequest::new(t, signed_at()),
                        &pki.leaf_key,
                        &pki.chain(),
                    ),
                    "application/jose+json",
                )
            });
            assert!(allowed, "{kind:?} JWS: {message}");
            let (allowed, message) = admit_with(&pki, |t| {
                (
                    sign_cose(
                        &SignRequest::new(t, signed_at()),
                        &pki.leaf_key,
                        &pki.chain(),
                    ),
                    "application/cose",
                )
            });
            assert!(allowed, "{kind:?} COSE: {message}");
        }
    }

    #[test]
    fn a_tampered_payload_or_protected_header_is_an_integrity_failure() {
        let pki = Pki::code_signing(KeyKind::P256, "notary policy fresh");
        // The payload swapped for one naming the same image, re-encoded:
        // the signature no longer covers the bytes.
        let (allowed, message) = admit_with(&pki, |t| {
            let envelope = sign_jws(
                &SignRequest::new(t.clone(), signed_at()),
                &pki.leaf_key,
                &pki.chain(),
            );
            let mut v: Value = serde_json::from_slice(&envelope).unwrap();
            let payload = json!({"targetArtifact": {"mediaType": t.media_type, "digest": t.digest, "size": t.size, "annotations": {"x": "y"}}});
            v["payload"] = b64url(&serde_json::to_vec(&payload).unwrap()).into();
            (serde_json::to_vec(&v).unwrap(), "application/jose+json")
        });
        assert!(!allowed);
        assert!(
            message.contains("signature is invalid. Error: invalid signature"),
            "{message}"
        );
        // The expiry taken out of the protected header (and out of crit).
        let (allowed, message) = admit_with(&pki, |t| {
            let req = SignRequest::new(t, signed_at())
                .expiry(imgverify_testkit::unix(2026, 6, 1, 0, 0, 0));
            let envelope = sign_jws(&req, &pki.leaf_key, &pki.chain());
            let mut v: Value = serde_json::from_slice(&envelope).unwrap();
            let protected = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(v["protected"].as_str().unwrap())
                .unwrap();
            let mut h: Value = serde_json::from_slice(&protected).unwrap();
            h.as_object_mut().unwrap().remove("io.cncf.notary.expiry");
            h["crit"] = json!(["io.cncf.notary.signingScheme"]);
            v["protected"] = b64url(&serde_json::to_vec(&h).unwrap()).into();
            (serde_json::to_vec(&v).unwrap(), "application/jose+json")
        });
        assert!(!allowed);
        assert!(
            message.contains("signature is invalid. Error: invalid signature"),
            "{message}"
        );
        // A COSE envelope with one byte of its payload changed.
        let (allowed, message) = admit_with(&pki, |t| {
            let mut envelope = sign_cose(
                &SignRequest::new(t, signed_at()),
                &pki.leaf_key,
                &pki.chain(),
            );
            let at = envelope
                .windows(6)
                .position(|w| w == b"sha256")
                .expect("the payload names a digest");
            envelope[at + 10] ^= 1;
            (envelope, "application/cose")
        });
        assert!(!allowed);
        assert!(message.contains("invalid signature"), "{message}");
    }

    #[test]
    fn another_images_signature_fails_the_target_check() {
        let pki = Pki::code_signing(KeyKind::P256, "notary policy fresh");
        let (allowed, message) = admit_with(&pki, |t| {
            let other =
                Descriptor::new(&t.media_type, &format!("sha256:{}", "2".repeat(64)), t.size);
            (
                sign_jws(
                    &SignRequest::new(other, signed_at()),
                    &pki.leaf_key,
                    &pki.chain(),
                ),
                "application/jose+json",
            )
        });
        assert!(!allowed);
        assert!(message.contains("content descriptor mismatch"), "{message}");
    }

    #[test]
    fn the_format_media_type_selects_the_decoder() {
        let pki = Pki::code_signing(KeyKind::P256, "notary policy fresh");
        let (allowed, message) = admit_with(&pki, |t| {
            (
                sign_cose(
                    &SignRequest::new(t, signed_at()),
                    &pki.leaf_key,
                    &pki.chain(),
                ),
                "application/jose+json",
            )
        });
        assert!(!allowed);
        assert!(message.contains("not a JWS JSON envelope"), "{message}");
    }
}
