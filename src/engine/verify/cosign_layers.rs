//! cosign's legacy signature layout: the `sha256-<hex>.sig` manifest beside
//! the image, one simple-signing layer per signature. The layers are fetched
//! and bounded here; what makes a layer trusted is the attestor's
//! [`LayerCheck`].

use super::fetcher::Got;
use super::{Verdict, VerifyCtx, failed, signature_repository};
use crate::digest::Digest;
use crate::engine::store::{FailureStatus, Fetch, FetchKind};
use crate::engine::work::CheckKey;
use crate::limits;
use crate::policy::compiled::AttestorEntry;
use crate::sigstore::SIMPLE_SIGNING_MEDIA_TYPE;
use crate::sigstore::cosign::{SignatureError, VerifiedSignature};
use std::collections::BTreeMap;

/// One attestor kind's check of one signature layer (a public key today;
/// certificates and keyless beside it). The check is pure: it reads only its
/// arguments and the trust material [`LayerCheck::trust_id`] names, so its
/// result can be remembered for the session.
pub(super) trait LayerCheck {
    /// Identifies the trust material (key fingerprint, hash, transparency
    /// log policy) in the session's check memo; never a policy or image name.
    fn trust_id(&self) -> String;
    /// What one check costs, in P-256 verifications.
    fn cost(&self) -> u32;
    /// Verifies one layer's payload and annotations against the image digest.
    fn check(
        &self,
        payload: &[u8],
        annotations: &BTreeMap<String, String>,
        image: &Digest,
    ) -> Result<VerifiedSignature, SignatureError>;
}

/// Verifies the image's `.sig` layers with `check`: one layer that verifies
/// (and carries the entry's required annotations) is enough. Layers that
/// could not be fetched for transport reasons make the result an error only
/// when no other layer verified.
pub(super) fn verify(
    ctx: &VerifyCtx,
    entry: &AttestorEntry,
    check: &dyn LayerCheck,
) -> Verdict<Digest> {
    let (registry, repository) = match signature_repository(ctx, entry) {
        Ok(r) => r,
        Err(m) => return Verdict::Fail(m),
    };
    let tag = format!("{}.sig", ctx.digest.tag_stem());
    let sig_fetch =
        Fetch::manifest_by_tag(&registry, &repository, &tag).with_access(&ctx.verification.access);
    let manifest = match ctx.fetcher.manifest(sig_fetch.clone()) {
        Got::Bytes(Ok(m)) => m,
        Got::Bytes(Err(e)) => {
            return Verdict::Fail(format!(
                "signature manifest {registry}/{repository}:{tag}: {e}"
            ));
        }
        Got::Pending => return Verdict::Pending,
        Got::Failed(FailureStatus::NotFound, _) => {
            return Verdict::Fail("no signatures found".into());
        }
        Got::Failed(FailureStatus::Unauthorized, m) => {
            return Verdict::Fail(format!(
                "fetching signatures {registry}/{repository}:{tag}: unauthorized: {m}"
            ));
        }
        Got::Failed(s, m) => {
            return failed(
                s,
                format!("fetching signatures {registry}/{repository}:{tag}: {m}"),
            );
        }
    };
    if manifest.layers.len() > limits::MAX_SIGNATURE_LAYERS {
        return Verdict::Fail(format!(
            "signature manifest has {} layers, over the limit of {}",
            manifest.layers.len(),
            limits::MAX_SIGNATURE_LAYERS
        ));
    }
    // The manifest's bytes are stored, so this is their (cached) digest.
    let manifest_digest = match ctx.fetcher.tag_digest(sig_fetch) {
        Got::Bytes(d) => d.to_string(),
        Got::Failed(s, m) => return failed(s, m),
        Got::Pending => return Verdict::Pending,
    };
    let (trust, cost) = (check.trust_id(), check.cost());
    let mut pending = false;
    let mut transport_error = false;
    let mut seen_layers = 0usize;
    let mut verified = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    for (index, layer) in manifest.layers.iter().enumerate() {
        if layer.media_type != SIMPLE_SIGNING_MEDIA_TYPE {
            continue;
        }
        seen_layers += 1;
        let digest = match layer.parsed_digest() {
            Ok(d) => d,
            Err(e) => {
                errors.push(format!("layer {}: {e}", layer.digest));
                continue;
            }
        };
        let Some(size) = usize::try_from(layer.size)
            .ok()
            .filter(|n| *n <= limits::MAX_SIGNATURE_PAYLOAD_BYTES)
        else {
            errors.push(format!(
                "layer {digest}: signature payload of {} bytes is outside 0..={}",
                layer.size,
                limits::MAX_SIGNATURE_PAYLOAD_BYTES
            ));
            continue;
        };
        match ctx.fetcher.get(
            Fetch::by_digest(FetchKind::Blob, &registry, &repository, &digest)
                .with_access(&ctx.verification.access)
                .with_max_bytes(size),
        ) {
            Got::Pending => pending = true,
            Got::Failed(s, m) => {
                transport_error |= s == FailureStatus::Error;
                errors.push(format!("layer {digest}: {m}"));
            }
            Got::Bytes(payload) if payload.len() != size => {
                errors.push(format!(
                    "layer {digest}: payload is {} bytes, its descriptor says {size}",
                    payload.len()
                ));
            }
            Got::Bytes(payload) => {
                let key = CheckKey {
                    manifest: manifest_digest.clone(),
                    layer: index,
                    image: ctx.digest.to_string(),
                    trust: trust.clone(),
                };
                let checked = ctx.fetcher.work.check(key, cost, || {
                    check.check(payload, &layer.annotations, ctx.digest)
                });
                match checked {
                    Ok(Ok(v)) => {
                        verified.push(v);
                        // One good signature is enough unless annotations must match.
                        if entry.annotations.is_empty() {
                            break;
                        }
                    }
                    Ok(Err(e)) => errors.push(e.to_string()),
                    Err(_) => {
                        return Verdict::Fail(format!(
                            "verification work limit reached: this admission needs more than {} P-256-equivalent signature checks",
                            limits::MAX_VERIFICATION_COST
                        ));
                    }
                }
            }
        }
    }
    if pending {
        return Verdict::Pending;
    }
    if seen_layers == 0 {
        return Verdict::Fail("no signatures found".into());
    }
    if verified.is_empty() {
        errors.dedup();
        // A signature that could not be fetched might have verified.
        return if transport_error {
            Verdict::Error(format!(
                "signatures could not all be fetched: {}",
                errors.join("; ")
            ))
        } else {
            Verdict::Fail(format!("no matching signatures: {}", errors.join("; ")))
        };
    }
    if !entry.annotations.is_empty()
        && !verified
            .iter()
            .any(|v| v.payload.has_annotations(&entry.annotations))
    {
        return Verdict::Fail(format!(
            "no signature matched the required annotations: {}",
            entry
                .annotations
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Verdict::Ok(verified[0].payload.manifest_digest.clone())
}
