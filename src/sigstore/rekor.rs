//! Rekor signed entry timestamps (the cosign `dev.sigstore.cosign/bundle`
//! annotation): the SET signature over the canonical entry, and the binding
//! of the entry body to the signature being verified.

use super::trusted_root::LogKey;
use crate::crypto::x509::Certificate;
use crate::crypto::{HashAlgorithm, PublicKey};
use crate::digest::Digest;
use crate::limits;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::Value;

/// Why a Rekor bundle was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RekorError {
    /// The annotation is absent but the policy requires the transparency log.
    #[error(
        "no Rekor bundle (dev.sigstore.cosign/bundle) on the signature, and the transparency log is required"
    )]
    Missing,
    /// Not JSON of the expected shape.
    #[error("invalid Rekor bundle: {0}")]
    Invalid(String),
    /// No trusted key with this log ID.
    #[error("no trusted Rekor key for log ID {0}")]
    UnknownLog(String),
    /// The SET does not verify.
    #[error("Rekor SET signature does not verify with the key of log {0}")]
    BadSet(String),
    /// The log key was not valid at the integrated time.
    #[error("Rekor key of log {log_id} was not valid at integrated time {time}")]
    KeyNotValid {
        /// Log ID.
        log_id: String,
        /// Integrated time.
        time: i64,
    },
    /// The body does not describe this signature.
    #[error("{0}")]
    BodyMismatch(String),
}

/// A verified Rekor entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedEntry {
    /// `integratedTime`, unix seconds.
    pub integrated_time: i64,
    /// `logIndex`.
    pub log_index: i64,
    /// `logID`.
    pub log_id: String,
}

#[derive(Deserialize)]
struct RawBundle {
    #[serde(rename = "SignedEntryTimestamp")]
    set: String,
    #[serde(rename = "Payload")]
    payload: RawPayload,
}

#[derive(Deserialize)]
struct RawPayload {
    body: String,
    #[serde(rename = "integratedTime")]
    integrated_time: i64,
    #[serde(rename = "logIndex")]
    log_index: i64,
    #[serde(rename = "logID")]
    log_id: String,
}

/// Who signed: the body's `publicKey` must be this key or certificate.
#[derive(Clone, Copy)]
pub enum Signer<'a> {
    /// A public key (compared by SPKI).
    Key(&'a PublicKey),
    /// A certificate (compared by DER).
    Certificate(&'a Certificate),
}

/// What the entry body must describe.
pub struct ExpectedEntry<'a> {
    /// The signed payload bytes (for an attestation, the whole envelope).
    pub payload: &'a [u8],
    /// The raw signature bytes of a simple signature (a `hashedrekord` or
    /// `rekord` entry); `None` for an attestation, whose `intoto` or `dsse`
    /// entry hashes the envelope, signatures included.
    pub signature: Option<&'a [u8]>,
    /// The signer (compared with the body's public key or certificate).
    pub signer: Signer<'a>,
}

/// Verifies a cosign bundle annotation against the trusted log keys and the
/// signature it accompanies.
pub fn verify_bundle(
    json: &str,
    keys: &[LogKey],
    expected: &ExpectedEntry,
) -> Result<VerifiedEntry, RekorError> {
    if json.len() > limits::MAX_REKOR_BUNDLE_BYTES {
        return Err(RekorError::Invalid("bundle too large".into()));
    }
    let raw: RawBundle =
        serde_json::from_slice(json.as_bytes()).map_err(|e| RekorError::Invalid(e.to_string()))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let set = b64
        .decode(raw.set.trim())
        .map_err(|e| RekorError::Invalid(format!("SignedEntryTimestamp: {e}")))?;
    // The SET signs the canonical JSON of the payload: keys sorted, no spaces.
    let canonical = serde_json::json!({
        "body": raw.payload.body,
        "integratedTime": raw.payload.integrated_time,
        "logID": raw.payload.log_id,
        "logIndex": raw.payload.log_index,
    });
    let canonical =
        serde_json::to_vec(&canonical).map_err(|e| RekorError::Invalid(e.to_string()))?;
    let log_id = raw.payload.log_id.to_ascii_lowercase();
    let candidates: Vec<&LogKey> = keys.iter().filter(|k| k.log_id == log_id).collect();
    if candidates.is_empty() {
        return Err(RekorError::UnknownLog(log_id));
    }
    let mut verified = false;
    for k in &candidates {
        let ok = match k.key.as_ref() {
            PublicKey::Ed25519(_) => k.key.verify_ed25519(&canonical, &set).is_ok(),
            other => other
                .verify_ecdsa_der(
                    other.curve_hash().unwrap_or(HashAlgorithm::Sha256),
                    &canonical,
                    &set,
                )
                .is_ok(),
        };
        if ok {
            if !k.valid_at(raw.payload.integrated_time) {
                return Err(RekorError::KeyNotValid {
                    log_id,
                    time: raw.payload.integrated_time,
                });
            }
            verified = true;
            break;
        }
    }
    if !verified {
        return Err(RekorError::BadSet(log_id));
    }
    let body = b64
        .decode(raw.payload.body.trim())
        .map_err(|e| RekorError::Invalid(format!("body: {e}")))?;
    check_body(&body, expected)?;
    Ok(VerifiedEntry {
        integrated_time: raw.payload.integrated_time,
        log_index: raw.payload.log_index,
        log_id,
    })
}

fn check_body(body: &[u8], expected: &ExpectedEntry) -> Result<(), RekorError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| RekorError::Invalid(format!("body: {e}")))?;
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
    let version = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let b64 = base64::engine::general_purpose::STANDARD;
    // Where each entry kind keeps the hash of what was logged and the signer.
    let (hash_path, key_path) = match (expected.signature, kind, version) {
        (Some(_), "hashedrekord" | "rekord", _) => {
            ("/spec/data/hash", "/spec/signature/publicKey/content")
        }
        (None, "intoto", "0.0.1") => ("/spec/content/hash", "/spec/publicKey"),
        (None, "intoto", "0.0.2") => (
            "/spec/content/hash",
            "/spec/content/envelope/signatures/0/publicKey",
        ),
        (None, "dsse", "0.0.1") => ("/spec/envelopeHash", "/spec/signatures/0/verifier"),
        (Some(_), ..) => {
            return Err(RekorError::BodyMismatch(format!(
                "unsupported Rekor entry kind {kind:?} for a signature"
            )));
        }
        (None, ..) => {
            return Err(RekorError::BodyMismatch(format!(
                "unsupported Rekor entry kind {kind:?} version {version:?} for an attestation"
            )));
        }
    };
    if let Some(signature) = expected.signature {
        let sig_b64 = v
            .pointer("/spec/signature/content")
            .and_then(Value::as_str)
            .ok_or_else(|| RekorError::Invalid("body has no spec.signature.content".into()))?;
        let sig = b64
            .decode(sig_b64)
            .map_err(|e| RekorError::Invalid(format!("body signature: {e}")))?;
        if sig != signature {
            return Err(RekorError::BodyMismatch(
                "signature in Rekor SET does not match".into(),
            ));
        }
    } else {
        // cosign reads one signer from DSSE entries and refuses more.
        let signatures = match kind {
            "dsse" => v.pointer("/spec/signatures"),
            _ => v.pointer("/spec/content/envelope/signatures"),
        };
        if signatures
            .and_then(Value::as_array)
            .is_some_and(|a| a.len() > 1)
        {
            return Err(RekorError::BodyMismatch(
                "multiple signatures on DSSE envelopes are not supported".into(),
            ));
        }
    }
    let hash = v
        .pointer(&format!("{hash_path}/value"))
        .and_then(Value::as_str);
    let algorithm = v
        .pointer(&format!("{hash_path}/algorithm"))
        .and_then(Value::as_str)
        .unwrap_or("sha256");
    let want = match algorithm {
        "sha256" => Digest::sha256_of(expected.payload).hex().to_string(),
        other => {
            return Err(RekorError::BodyMismatch(format!(
                "unsupported Rekor data hash {other}"
            )));
        }
    };
    if hash != Some(want.as_str()) {
        return Err(RekorError::BodyMismatch(
            "payload hash in Rekor SET does not match".into(),
        ));
    }
    let key_b64 = v
        .pointer(key_path)
        .and_then(Value::as_str)
        .ok_or_else(|| RekorError::Invalid(format!("body has no public key at {key_path}")))?;
    let pem_bytes = b64
        .decode(key_b64)
        .map_err(|e| RekorError::Invalid(format!("body public key: {e}")))?;
    let pem_text = String::from_utf8_lossy(&pem_bytes);
    let same = match expected.signer {
        Signer::Key(key) => {
            let body_key = PublicKey::from_pem(&pem_text)
                .map_err(|e| RekorError::BodyMismatch(format!("public key in Rekor SET: {e}")))?;
            matches!((body_key.to_spki_der(), key.to_spki_der()), (Ok(a), Ok(b)) if a == b)
        }
        Signer::Certificate(cert) => {
            let body_certs = Certificate::from_pem_chain(&pem_text)
                .map_err(|e| RekorError::BodyMismatch(format!("certificate in Rekor SET: {e}")))?;
            body_certs.len() == 1 && body_certs[0].der() == cert.der()
        }
    };
    if !same {
        return Err(RekorError::BodyMismatch(
            "public key in Rekor SET does not match".into(),
        ));
    }
    Ok(())
}
