//! JSON shapes shared by both ABIs.

use crate::engine::{
    Answer, EngineError, EngineOptions, FailureStatus, FetchKind, PutError, Session,
};
use serde::{Deserialize, Serialize};

/// Input of `engine_new`: named policy sources plus options.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct EngineInput {
    /// `(name, text)` pairs of YAML/JSON policy documents.
    pub sources: Vec<Source>,
    /// Engine options.
    #[serde(default)]
    pub options: EngineOptions,
}

/// One policy source.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Source {
    /// Name shown in errors.
    pub name: String,
    /// YAML or JSON.
    pub text: String,
}

/// Header of a `put`: which fetch this answers, and whether it failed.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PutHeader {
    /// Fetch kind name.
    pub kind: String,
    /// Fetch key.
    pub key: String,
    /// Absent or `ok` for bytes; `not_found`, `unauthorized`, `error` (transport)
    /// or `invalid` (unusable bytes) otherwise.
    #[serde(default)]
    pub status: Option<String>,
    /// Failure message.
    #[serde(default)]
    pub message: Option<String>,
}

/// Why a protocol call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// Malformed JSON input.
    #[error("invalid input: {0}")]
    Input(String),
    /// Unknown status.
    #[error("unknown status {0:?}: expected ok, not_found, unauthorized, error or invalid")]
    Status(String),
    /// Engine construction failed.
    #[error("{0}")]
    Engine(#[from] EngineError),
    /// The put was refused.
    #[error("{0}")]
    Put(#[from] PutError),
}

/// Builds an engine from [`EngineInput`] JSON.
pub fn engine_from_json(bytes: &[u8]) -> Result<crate::Engine, ProtocolError> {
    let input: EngineInput =
        serde_json::from_slice(bytes).map_err(|e| ProtocolError::Input(e.to_string()))?;
    let sources: Vec<(&str, &str)> = input
        .sources
        .iter()
        .map(|s| (s.name.as_str(), s.text.as_str()))
        .collect();
    Ok(crate::Engine::compile_with(&sources, &input.options)?)
}

/// Applies a put to a session.
pub fn put(session: &mut Session, header: &PutHeader, bytes: &[u8]) -> Result<(), ProtocolError> {
    let kind =
        FetchKind::parse(&header.kind).ok_or_else(|| PutError::UnknownKind(header.kind.clone()))?;
    let msg = || header.message.clone().unwrap_or_default();
    let answer = match header.status.as_deref() {
        None | Some("ok") => Answer::Bytes(bytes.to_vec()),
        Some(other) => match FailureStatus::parse(other) {
            Some(status) => Answer::Failure(status, msg()),
            None => return Err(ProtocolError::Status(other.to_string())),
        },
    };
    Ok(session.put(kind, &header.key, answer)?)
}

/// `{"name","text"}` → `{"ok":true,"documents":[{"origin","value"}]}`, or an error.
pub fn parse_documents_json(bytes: &[u8]) -> String {
    let input: Source = match serde_json::from_slice(bytes) {
        Ok(s) => s,
        Err(e) => return error_json(&ProtocolError::Input(e.to_string())),
    };
    match crate::policy::load::parse_documents(
        &input.name,
        &input.text,
        crate::limits::MAX_REQUEST_BYTES,
    ) {
        Ok(docs) => {
            let docs: Vec<serde_json::Value> = docs
                .into_iter()
                .map(|d| serde_json::json!({"origin": d.origin, "value": d.value}))
                .collect();
            serde_json::json!({"ok": true, "documents": docs}).to_string()
        }
        Err(e) => error_json(&e),
    }
}

/// `{"ok":false,"error":…}`.
pub fn error_json(e: &dyn std::fmt::Display) -> String {
    serde_json::json!({"ok": false, "error": e.to_string()}).to_string()
}

/// Input of `verify_signature`: one signature over bytes with a public key
/// (benchmarks of each algorithm; the playground's key checks).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifySignatureInput {
    /// The key, PEM (`PUBLIC KEY` or `RSA PUBLIC KEY`).
    pub public_key: String,
    /// `ecdsa-der`, `ecdsa-p1363`, `rsa-pkcs1v15`, `rsa-pss` or `ed25519`.
    pub scheme: String,
    /// `sha256` (default), `sha384`, `sha512`, `sha224`; not for Ed25519.
    #[serde(default)]
    pub hash: Option<String>,
    /// The signed bytes, base64.
    pub message: String,
    /// The signature, base64.
    pub signature: String,
}

/// Verifies one signature: `{"ok":true,"valid":true}`,
/// `{"ok":true,"valid":false,"reason":…}`, or `{"ok":false,"error":…}` for
/// input that names no key, scheme or hash this engine knows.
pub fn verify_signature_json(bytes: &[u8]) -> String {
    match verify_signature(bytes) {
        Ok(Ok(())) => serde_json::json!({"ok": true, "valid": true}).to_string(),
        Ok(Err(reason)) => {
            serde_json::json!({"ok": true, "valid": false, "reason": reason}).to_string()
        }
        Err(e) => error_json(&e),
    }
}

fn verify_signature(bytes: &[u8]) -> Result<Result<(), String>, String> {
    use crate::crypto::{HashAlgorithm, PublicKey};
    use base64::Engine as _;
    let input: VerifySignatureInput =
        serde_json::from_slice(bytes).map_err(|e| format!("invalid input: {e}"))?;
    let key = PublicKey::from_pem(&input.public_key).map_err(|e| format!("publicKey: {e}"))?;
    let b64 = |what: &str, s: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(|e| format!("{what}: {e}"))
    };
    let message = b64("message", &input.message)?;
    let signature = b64("signature", &input.signature)?;
    let hash = match input.hash.as_deref() {
        None => HashAlgorithm::Sha256,
        Some(h) => HashAlgorithm::from_policy(h).ok_or_else(|| format!("hash: unknown {h}"))?,
    };
    let result = match input.scheme.as_str() {
        "ecdsa-der" => key.verify_ecdsa_der(hash, &message, &signature),
        "ecdsa-p1363" => key.verify_ecdsa_p1363(hash, &message, &signature),
        "rsa-pkcs1v15" => key.verify_rsa_pkcs1v15(hash, &message, &signature),
        "rsa-pss" => key.verify_rsa_pss(hash, None, &message, &signature),
        "ed25519" => key.verify_ed25519(&message, &signature),
        other => return Err(format!("scheme: unknown {other}")),
    };
    Ok(result.map_err(|e| e.to_string()))
}

/// Input of `verify_bundle`: a Sigstore bundle, the artifact, and whom to
/// trust (the sigstore-conformance client protocol's arguments).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyBundleInput {
    /// The bundle's JSON text.
    pub bundle: String,
    /// The artifact's bytes, base64.
    #[serde(default)]
    pub artifact_base64: Option<String>,
    /// Or its SHA-256, hex.
    #[serde(default)]
    pub artifact_sha256: Option<String>,
    /// A `trusted_root.json` replacing the embedded public-good root.
    #[serde(default)]
    pub trusted_root: Option<String>,
    /// A managed key (PEM), instead of an identity.
    #[serde(default)]
    pub key: Option<String>,
    /// The certificate identity (a SAN), matched exactly.
    #[serde(default)]
    pub certificate_identity: Option<String>,
    /// The OIDC issuer, matched exactly.
    #[serde(default)]
    pub certificate_oidc_issuer: Option<String>,
    /// The verifier's clock (unix seconds).
    pub now: i64,
}

/// Verifies a bundle: `{"ok":true}` or `{"ok":false,"error":…}` naming the
/// check that failed.
pub fn verify_bundle_json(bytes: &[u8]) -> String {
    match verify_bundle(bytes) {
        Ok(times) => serde_json::json!({"ok": true, "signingTimes": times}).to_string(),
        Err(e) => error_json(&e),
    }
}

fn verify_bundle(bytes: &[u8]) -> Result<Vec<i64>, String> {
    use crate::sigstore::bundle::{self, Artifact, Bundle, BundleCheck, Signer};
    use crate::sigstore::trusted_root::TrustedRoot;
    use base64::Engine as _;
    let input: VerifyBundleInput =
        serde_json::from_slice(bytes).map_err(|e| format!("invalid input: {e}"))?;
    let root =
        TrustedRoot::parse_shared(input.trusted_root.as_deref()).map_err(|e| e.to_string())?;
    let parsed = Bundle::parse(input.bundle.as_bytes()).map_err(|e| e.to_string())?;
    let bytes_artifact;
    let digest: [u8; 32];
    let artifact = match (&input.artifact_base64, &input.artifact_sha256) {
        (Some(b64), None) => {
            bytes_artifact = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| format!("invalid input: artifact: {e}"))?;
            Artifact::Bytes(&bytes_artifact)
        }
        (None, Some(hex)) => {
            digest = crate::digest::hex_decode(hex)
                .and_then(|d| <[u8; 32]>::try_from(d).ok())
                .ok_or_else(|| format!("invalid input: {hex:?} is not a SHA-256 digest"))?;
            Artifact::Sha256(&digest)
        }
        _ => return Err("invalid input: give the artifact or its digest".into()),
    };
    let (identity, issuer) = (
        input.certificate_identity.as_deref().unwrap_or(""),
        input.certificate_oidc_issuer.as_deref().unwrap_or(""),
    );
    let accept = |id: &crate::sigstore::fulcio::Identity| {
        if !id.sans.iter().any(|s| s == identity) {
            return Err(format!(
                "the certificate's identity {} is not {identity}",
                id.sans.join(", ")
            ));
        }
        if id.issuer != issuer {
            return Err(format!(
                "the certificate's issuer {} is not {issuer}",
                id.issuer
            ));
        }
        Ok(())
    };
    let key;
    let signer = match &input.key {
        Some(pem) => {
            key = crate::crypto::PublicKey::from_pem(pem).map_err(|e| e.to_string())?;
            Signer::Key(&key)
        }
        None if identity.is_empty() || issuer.is_empty() => {
            return Err("invalid input: give a key, or a certificate identity and issuer".into());
        }
        None => Signer::Identity(&accept),
    };
    let verified = bundle::verify(
        &parsed,
        &BundleCheck::strict(&root, signer, artifact, input.now),
    )
    .map_err(|e| e.to_string())?;
    Ok(verified.times)
}
