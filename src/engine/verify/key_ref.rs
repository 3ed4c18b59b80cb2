//! Keys read when an image is verified: the `cosign.pub` entry of a
//! Kubernetes Secret (read through the host's `kube_api` fetch on every
//! admission, so a rotated key is used at once), and `publicKeys` written
//! with variables, substituted from the rule's context. KMS keys are never
//! fetched: such an attestor fails, naming its URI.
//!
//! An attestor set's key references are expanded before its entries are
//! counted: each key they give becomes an entry of its own, and a set
//! without a `count` then needs all of them, as Kyverno's
//! `ExpandStaticKeys` (which runs after variable substitution) has it. An
//! entry still a reference after expansion is one whose key could not be
//! read; verifying it returns why.

use super::{Failure, Got, Verdict, VerifyCtx};
use crate::crypto::pem;
use crate::engine::store::{FailureStatus, Fetch};
use crate::kube_path;
use crate::limits;
use crate::policy::compiled::{AttestorEntry, AttestorKind, AttestorSet, KeyAttestor};
use crate::policy::compiled::{KeyRefAttestor, KeySource};
use serde_json::Value;
use std::borrow::Cow;
use std::sync::Arc;

/// The Secret entry holding the PEM public key (cosign's name).
const SECRET_KEY_ENTRY: &str = "cosign.pub";

/// The set with every key reference that could be read replaced by one
/// entry per key it gives; borrowed when the set has none.
pub(in crate::engine) fn expand<'s>(ctx: &VerifyCtx, set: &'s AttestorSet) -> Cow<'s, AttestorSet> {
    if !set
        .entries
        .iter()
        .any(|e| matches!(e.kind, AttestorKind::KeyRef(_)))
    {
        return Cow::Borrowed(set);
    }
    let mut entries = Vec::with_capacity(set.entries.len());
    for entry in &set.entries {
        let AttestorKind::KeyRef(k) = &entry.kind else {
            entries.push(entry.clone());
            continue;
        };
        match resolve(ctx, k) {
            Verdict::Ok(keys) => entries.extend(keys.into_iter().map(|key| AttestorEntry {
                kind: AttestorKind::Key(Box::new(key)),
                ..entry.clone()
            })),
            _ => entries.push(entry.clone()),
        }
    }
    let required = set.count.unwrap_or(entries.len());
    Cow::Owned(AttestorSet {
        required,
        count: set.count,
        entries,
    })
}

/// Why a key reference left in an expanded set did not give keys.
pub(super) fn unresolved(ctx: &VerifyCtx, k: &KeyRefAttestor) -> Verdict<std::convert::Infallible> {
    match resolve(ctx, k) {
        Verdict::Ok(_) => Verdict::Fail(Failure::KeyLoad {
            key: k.source.to_string(),
            reason: "the key was read after its attestor set was counted".into(),
        }),
        Verdict::Fail(f) => Verdict::Fail(f),
        Verdict::Error(f) => Verdict::Error(f),
        Verdict::Pending => Verdict::Pending,
    }
}

/// The keys a reference gives for this image.
fn resolve(ctx: &VerifyCtx, k: &KeyRefAttestor) -> Verdict<Vec<KeyAttestor>> {
    match &k.source {
        KeySource::Secret { namespace, name } => from_secret(ctx, k, namespace, name),
        KeySource::Kms(uri) => Verdict::Fail(kms_unsupported(uri)),
        KeySource::Template(text) => {
            let mut resolve = crate::conditions::variables::resolve_in(ctx.context, ctx.now);
            let text = match crate::conditions::variables::substitute_string(text, &mut resolve) {
                Ok(Value::String(s)) => s,
                Ok(other) => {
                    return Verdict::Fail(Failure::KeyLoad {
                        key: text.clone(),
                        reason: format!("the key is not a string after substitution: {other}"),
                    });
                }
                Err(e) => {
                    return Verdict::Fail(Failure::KeyLoad {
                        key: text.clone(),
                        reason: format!("failed to substitute variables: {e}"),
                    });
                }
            };
            let text = text.trim();
            if text.starts_with(kube_path::SECRET_KEY_SCHEME) {
                return match kube_path::secret_reference(text) {
                    Ok((namespace, name)) => from_secret(ctx, k, &namespace, &name),
                    Err(reason) => Verdict::Fail(Failure::KeyLoad {
                        key: text.to_string(),
                        reason,
                    }),
                };
            }
            if KeySource::is_kms(text) {
                return Verdict::Fail(kms_unsupported(text));
            }
            match pem_keys(k, text, limits::MAX_KEYS_PER_ENTRY) {
                Ok(keys) => Verdict::Ok(keys),
                Err(reason) => Verdict::Fail(Failure::KeyLoad {
                    key: describe_text(text),
                    reason,
                }),
            }
        }
    }
}

/// A KMS key's failure: imgverify calls no KMS provider.
fn kms_unsupported(uri: &str) -> Failure {
    Failure::Unsupported(format!(
        "failed to load public key from {uri}: KMS keys are not supported; give the public key as PEM in publicKeys (`cosign public-key --key {uri}` prints it) or in a Secret (k8s://<namespace>/<secret>)"
    ))
}

/// The `cosign.pub` key of Secret `namespace/name`, read through the host.
fn from_secret(
    ctx: &VerifyCtx,
    k: &KeyRefAttestor,
    namespace: &str,
    name: &str,
) -> Verdict<Vec<KeyAttestor>> {
    let key = format!("{}{namespace}/{name}", kube_path::SECRET_KEY_SCHEME);
    let fail = |reason: String| Failure::KeyLoad {
        key: key.clone(),
        reason,
    };
    let Some(path) = kube_path::api_path("v1", "secrets", namespace, Some(name)) else {
        return Verdict::Fail(fail("not a Secret's namespace and name".into()));
    };
    let bytes = match ctx.fetcher.get(Fetch::kube_api("GET", &path, None)) {
        Got::Bytes(b) => b,
        Got::Pending => return Verdict::Pending,
        Got::Failed(FailureStatus::NotFound, _) => {
            return Verdict::Fail(fail(format!(
                "checking if secret exists: secrets \"{name}\" not found"
            )));
        }
        Got::Failed(status, reason) => {
            return super::failed(status, fail(format!("checking if secret exists: {reason}")));
        }
    };
    let pem_text = match secret_entry(bytes) {
        Ok(t) => t,
        Err(reason) => return Verdict::Fail(fail(reason)),
    };
    // cosign reads one key from the entry (the first PEM block).
    match pem_keys(k, &pem_text, 1) {
        Ok(keys) => Verdict::Ok(keys),
        Err(reason) => Verdict::Fail(fail(reason)),
    }
}

/// The PEM text of a Secret's `cosign.pub` entry (base64 in `data`).
fn secret_entry(bytes: &[u8]) -> Result<String, String> {
    use base64::Engine as _;
    let secret: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("the Secret is not JSON: {e}"))?;
    let Some(encoded) = secret
        .get("data")
        .and_then(|d| d.get(SECRET_KEY_ENTRY))
        .and_then(Value::as_str)
    else {
        return Err(format!("the Secret has no {SECRET_KEY_ENTRY} entry"));
    };
    let raw = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| format!("the Secret's {SECRET_KEY_ENTRY} entry is not base64: {e}"))?;
    String::from_utf8(raw).map_err(|_| format!("the Secret's {SECRET_KEY_ENTRY} entry is not text"))
}

/// Up to `max` PEM public keys of `text`, ready to verify with.
fn pem_keys(k: &KeyRefAttestor, text: &str, max: usize) -> Result<Vec<KeyAttestor>, String> {
    let keys = pem::public_keys(text, limits::MAX_KEYS_PER_ENTRY)?;
    if keys.is_empty() {
        return Err("PEM decoding failed: no -----BEGIN PUBLIC KEY----- block".into());
    }
    keys.into_iter()
        .take(max)
        .map(|key| Ok(KeyAttestor::new(Arc::new(key?), k.hash, k.tlog.clone())))
        .collect()
}

/// A substituted key as errors name it: its first line, not the whole PEM.
fn describe_text(text: &str) -> String {
    let first = text.lines().next().unwrap_or_default();
    match first.len() < text.len() {
        true => format!("{first}…"),
        false => first.to_string(),
    }
}
