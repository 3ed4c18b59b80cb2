//! cosign's legacy signature layout: the `sha256-<hex>.sig` manifest beside
//! the image, one simple-signing layer per signature. The layers are fetched
//! and bounded here; what makes a layer trusted is the attestor's
//! [`LayerCheck`].

use super::fetcher::Got;
use super::referrers::{self, Referrer};
use super::{Failure, Verdict, VerifyCtx, failed, signature_repository};
use crate::digest::Digest;
use crate::engine::store::{FailureStatus, Fetch, FetchKind};
use crate::engine::work::CheckKey;
use crate::limits;
use crate::oci::Manifest;
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

/// The artifact type cosign's OCI 1.1 mode gives signature referrers.
const SIGNATURE_ARTIFACT_TYPE: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";

/// What the layers of the signature manifests came to.
#[derive(Default)]
struct Layers {
    pending: bool,
    transport_error: bool,
    seen: usize,
    verified: Vec<VerifiedSignature>,
    errors: Vec<String>,
}

/// Verifies the image's `.sig` layers with `check` (and, under
/// `cosignOCI11`, those of its signature referrers): one layer that verifies
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
    let mut layers = Layers::default();
    let mut manifests = Vec::new();
    let tag = format!("{}.sig", ctx.digest.tag_stem());
    let sig_fetch =
        Fetch::manifest_by_tag(&registry, &repository, &tag).with_access(&ctx.verification.access);
    match ctx.fetcher.manifest(sig_fetch.clone()) {
        Got::Bytes(Ok(m)) => match ctx.fetcher.tag_digest(sig_fetch) {
            // The manifest's bytes are stored, so this is their (cached) digest.
            Got::Bytes(d) => manifests.push((m, d)),
            Got::Failed(s, reason) => {
                return failed(
                    s,
                    Failure::Artifact {
                        what: "signature manifest",
                        location: format!("{registry}/{repository}:{tag}"),
                        reason,
                    },
                );
            }
            Got::Pending => return Verdict::Pending,
        },
        Got::Bytes(Err(e)) => {
            return Verdict::Fail(Failure::Artifact {
                what: "signature manifest",
                location: format!("{registry}/{repository}:{tag}"),
                reason: e.to_string(),
            });
        }
        Got::Pending => layers.pending = true,
        Got::Failed(FailureStatus::NotFound, _) => {}
        Got::Failed(s, m) => {
            let reason = match s {
                FailureStatus::Unauthorized => format!("unauthorized: {m}"),
                _ => m,
            };
            return failed(
                s,
                Failure::Artifact {
                    what: "fetching signatures",
                    location: format!("{registry}/{repository}:{tag}"),
                    reason,
                },
            );
        }
    }
    if ctx.verification.cosign_oci11 {
        let found = signature_referrers(ctx, (&registry, &repository), &mut layers);
        manifests.extend(found);
    }
    for (manifest, digest) in manifests {
        if let Err(f) = check_layers(
            ctx,
            entry,
            check,
            (&registry, &repository),
            (manifest, &digest),
            &mut layers,
        ) {
            return Verdict::Fail(f);
        }
        // One good signature is enough unless annotations must match.
        if !layers.verified.is_empty() && entry.annotations.is_empty() {
            break;
        }
    }
    decide(entry, layers)
}

/// The manifests of the image's signature referrers (cosign's OCI 1.1
/// mode), each bound to the image by its subject; referrers that cannot be
/// used are recorded in `out`.
fn signature_referrers<'a>(
    ctx: &VerifyCtx<'a>,
    location: (&str, &str),
    out: &mut Layers,
) -> Vec<(&'a Manifest, Digest)> {
    let listed = match referrers::listed(ctx, location, |d| {
        d.artifact_type.as_deref() == Some(SIGNATURE_ARTIFACT_TYPE)
    }) {
        Verdict::Ok(listed) => listed,
        Verdict::Pending => {
            out.pending = true;
            return Vec::new();
        }
        Verdict::Fail(f) => {
            out.errors.push(f.to_string());
            return Vec::new();
        }
        Verdict::Error(f) => {
            out.transport_error = true;
            out.errors.push(f.to_string());
            return Vec::new();
        }
    };
    let mut found = Vec::new();
    for d in listed {
        match referrers::manifest(ctx, d, location) {
            Referrer::Manifest(m, digest) => found.push((m, digest)),
            Referrer::Pending => out.pending = true,
            Referrer::Failed(s, m) => {
                out.transport_error |= s == FailureStatus::Error;
                out.errors.push(m);
            }
        }
    }
    found
}

/// Checks the simple-signing layers of one signature manifest into `out`;
/// `Err` (a decisive failure) when the manifest has too many layers or the
/// work budget is spent.
fn check_layers(
    ctx: &VerifyCtx,
    entry: &AttestorEntry,
    check: &dyn LayerCheck,
    (registry, repository): (&str, &str),
    (manifest, manifest_digest): (&Manifest, &Digest),
    out: &mut Layers,
) -> Result<(), Failure> {
    if manifest.layers.len() > limits::MAX_SIGNATURE_LAYERS {
        return Err(Failure::TooManyLayers(manifest.layers.len()));
    }
    let (trust, cost) = (check.trust_id(), check.cost());
    for (index, layer) in manifest.layers.iter().enumerate() {
        if layer.media_type != SIMPLE_SIGNING_MEDIA_TYPE {
            continue;
        }
        out.seen += 1;
        let digest = match layer.parsed_digest() {
            Ok(d) => d,
            Err(e) => {
                out.errors.push(format!("layer {}: {e}", layer.digest));
                continue;
            }
        };
        let Some(size) = usize::try_from(layer.size)
            .ok()
            .filter(|n| *n <= limits::MAX_SIGNATURE_PAYLOAD_BYTES)
        else {
            out.errors.push(format!(
                "layer {digest}: signature payload of {} bytes is outside 0..={}",
                layer.size,
                limits::MAX_SIGNATURE_PAYLOAD_BYTES
            ));
            continue;
        };
        match ctx.fetcher.get(
            Fetch::by_digest(FetchKind::Blob, registry, repository, &digest)
                .with_access(&ctx.verification.access)
                .with_max_bytes(size),
        ) {
            Got::Pending => out.pending = true,
            Got::Failed(s, m) => {
                out.transport_error |= s == FailureStatus::Error;
                out.errors.push(format!("layer {digest}: {m}"));
            }
            Got::Bytes(payload) if payload.len() != size => {
                out.errors.push(format!(
                    "layer {digest}: payload is {} bytes, its descriptor says {size}",
                    payload.len()
                ));
            }
            Got::Bytes(payload) => {
                let key = CheckKey {
                    manifest: manifest_digest.to_string(),
                    layer: index,
                    image: ctx.digest.to_string(),
                    trust: trust.clone(),
                };
                let checked = ctx.fetcher.work.check(key, cost, || {
                    check.check(payload, &layer.annotations, ctx.digest)
                });
                match checked {
                    Ok(Ok(v)) => {
                        out.verified.push(v);
                        // One good signature is enough unless annotations must match.
                        if entry.annotations.is_empty() {
                            break;
                        }
                    }
                    Ok(Err(e)) => out.errors.push(e.to_string()),
                    Err(_) => return Err(Failure::WorkLimit),
                }
            }
        }
    }
    Ok(())
}

/// The verdict from every layer seen.
fn decide(entry: &AttestorEntry, layers: Layers) -> Verdict<Digest> {
    let Layers {
        pending,
        transport_error,
        seen,
        verified,
        mut errors,
    } = layers;
    if pending {
        return Verdict::Pending;
    }
    if verified.is_empty() {
        errors.dedup();
        if seen == 0 && !transport_error {
            return Verdict::Fail(Failure::NoSignatures(errors));
        }
        // A signature that could not be fetched might have verified.
        return if transport_error {
            Verdict::Error(Failure::SignaturesUnfetched(errors))
        } else {
            Verdict::Fail(Failure::NoMatchingSignatures(errors))
        };
    }
    if !entry.annotations.is_empty()
        && !verified
            .iter()
            .any(|v| v.payload.has_annotations(&entry.annotations))
    {
        return Verdict::Fail(annotations_failure(entry));
    }
    Verdict::Ok(verified[0].payload.manifest_digest.clone())
}

/// The entry's required annotations that no verified signature carries.
pub(super) fn annotations_failure(entry: &AttestorEntry) -> Failure {
    Failure::Annotations(
        entry
            .annotations
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect(),
    )
}
