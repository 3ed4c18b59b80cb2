//! Keys: `publicKeys` PEMs (loaded once, when the policy is compiled), the
//! signature hash, keys the offline engine cannot load, and the Rekor
//! transparency-log requirement.

use super::{Ctx, has_variable};
use crate::crypto::{HashAlgorithm, PublicKey, pem};
use crate::limits;
use crate::policy::compiled::{AttestorKind, KeyAttestor, TlogPolicy};
use crate::policy::model;
use std::sync::Arc;

pub(super) fn compile_keys(
    ctx: &mut Ctx,
    path: &str,
    k: &model::StaticKeyAttestor,
) -> Vec<AttestorKind> {
    let public_keys = k.public_keys.clone().unwrap_or_default();
    let kms = k.kms.clone().unwrap_or_default();
    if public_keys.is_empty() && kms.is_empty() && k.secret.is_none() {
        ctx.err(path, "A public key, kms key or secret is required");
        return Vec::new();
    }
    let alg = k
        .signature_algorithm
        .clone()
        .unwrap_or_else(|| "sha256".to_string());
    let Some(hash) = HashAlgorithm::from_policy(&alg) else {
        ctx.err(
            format!("{path}.signatureAlgorithm"),
            "Invalid signature algorithm provided",
        );
        return Vec::new();
    };
    let tlog = compile_tlog(ctx, &format!("{path}.rekor"), k.rekor.as_ref());
    if !kms.is_empty() {
        return vec![AttestorKind::KeyUnavailable(format!("KMS key {kms}"))];
    }
    if k.secret.is_some() && public_keys.is_empty() {
        return vec![AttestorKind::KeyUnavailable(
            "a key from a Kubernetes Secret".to_string(),
        )];
    }
    let trimmed = public_keys.trim();
    if trimmed.starts_with("k8s://") || has_variable(trimmed) {
        return vec![AttestorKind::KeyUnavailable(format!(
            "public key {trimmed:?}"
        ))];
    }
    if !trimmed.starts_with("-----BEGIN PUBLIC KEY-----") {
        ctx.err(
            format!("{path}.publicKeys"),
            "failed to load public key from PEM: expected -----BEGIN PUBLIC KEY-----",
        );
        return Vec::new();
    }
    let pems = pem::split_public_keys(trimmed);
    if pems.len() > limits::MAX_KEYS_PER_ENTRY {
        ctx.err(
            format!("{path}.publicKeys"),
            format!(
                "too many public keys (limit {})",
                limits::MAX_KEYS_PER_ENTRY
            ),
        );
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, p) in pems.iter().enumerate() {
        match PublicKey::from_pem(p) {
            Ok(key) => out.push(AttestorKind::Key(Box::new(KeyAttestor {
                fingerprint: key_fingerprint(&key),
                key: Arc::new(key),
                hash,
                tlog: tlog.clone(),
            }))),
            Err(e) => ctx.err(
                format!("{path}.publicKeys"),
                format!("failed to load public key from PEM (key {}): {e}", i + 1),
            ),
        }
    }
    out
}

/// Hex SHA-256 of a key's SPKI DER.
fn key_fingerprint(key: &PublicKey) -> String {
    use sha2::Digest as _;
    let der = key.to_spki_der().unwrap_or_default();
    sha2::Sha256::digest(&der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn compile_tlog(ctx: &mut Ctx, path: &str, r: Option<&model::Rekor>) -> TlogPolicy {
    let Some(r) = r else {
        return TlogPolicy {
            ignore: false,
            keys: None,
            id: "root".into(),
        };
    };
    let ignore = r.ignore_tlog.unwrap_or(false);
    let keys = match r.pubkey.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => {
            let mut keys = Vec::new();
            for p in pem::split_public_keys(text) {
                match PublicKey::from_pem(&p) {
                    Ok(
                        k @ (PublicKey::P256(_)
                        | PublicKey::P384(_)
                        | PublicKey::P521(_)
                        | PublicKey::Ed25519(_)),
                    ) => keys.push(Arc::new(k)),
                    Ok(other) => ctx.err(
                        format!("{path}.pubkey"),
                        format!(
                            "a Rekor key must be ECDSA or Ed25519, not {}",
                            other.type_name()
                        ),
                    ),
                    Err(e) => ctx.err(
                        format!("{path}.pubkey"),
                        format!("failed to load Rekor public key: {e}"),
                    ),
                }
            }
            if keys.is_empty() {
                ctx.err(format!("{path}.pubkey"), "no Rekor public key found in PEM");
            }
            Some(keys)
        }
    };
    let id = match (&keys, ignore) {
        (_, true) => "ignore".to_string(),
        (None, false) => "root".to_string(),
        (Some(k), false) => format!(
            "keys:{}",
            k.iter()
                .map(|k| key_fingerprint(k))
                .collect::<Vec<_>>()
                .join(",")
        ),
    };
    TlogPolicy { ignore, keys, id }
}
