//! cosign's legacy signature layout: the `sha256-<hex>.sig` manifest beside
//! the image, one simple-signing layer per signature. The layers are fetched
//! and bounded here; what makes a layer trusted is the attestor's
//! [`LayerCheck`].

use super::fetcher::Got;
use super::referrers::{self, Referrer};
use super::{Failure, Verdict, VerifyCtx, failed, signature_repository};
use crate::digest::Digest;
use crate::engine::store::{FailureStatus, Fetch, FetchKind};
use crate::engine::work::BudgetExhausted;
use crate::engine::work::CheckKey;
use crate::limits;
use crate::oci::Manifest;
use crate::policy::compiled::AttestorEntry;
use crate::sigstore::cosign::{SignatureError, VerifiedAttestation, VerifiedSignature};
use crate::sigstore::{DSSE_MEDIA_TYPE, SIMPLE_SIGNING_MEDIA_TYPE};
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
    /// Verifies one attestation layer (a DSSE envelope) against the image
    /// digest.
    fn check_attestation(
        &self,
        envelope: &[u8],
        annotations: &BTreeMap<String, String>,
        image: &Digest,
    ) -> Result<VerifiedAttestation, SignatureError>;
}

/// What a kind of cosign layer is: where it is found, how large it may be,
/// and how one is checked and remembered.
pub(super) trait LayerKind {
    /// What a verified layer yields.
    type Verified: Clone;
    /// The tag suffix beside `sha256-<hex>`.
    const TAG_SUFFIX: &'static str;
    /// The layers' media type.
    const MEDIA_TYPE: &'static str;
    /// The largest layer read.
    const MAX_BYTES: usize;
    /// Most layers read in one manifest.
    const MAX_LAYERS: usize;
    /// What one layer holds, for messages.
    const NOUN: &'static str;
    /// The artifact type of these layers' manifests as OCI 1.1 referrers
    /// (cosign's `--registry-referrers-mode=oci-1-1`).
    const REFERRER_ARTIFACT_TYPE: &'static str;
    /// Checks one layer (remembered in the session's work).
    fn check(
        ctx: &VerifyCtx,
        key: CheckKey,
        check: &dyn LayerCheck,
        payload: &[u8],
        annotations: &BTreeMap<String, String>,
    ) -> Result<Result<Self::Verified, SignatureError>, BudgetExhausted>;
}

/// cosign signatures: `.sig`, simple-signing layers.
pub(super) struct Signatures;

impl LayerKind for Signatures {
    type Verified = VerifiedSignature;
    const TAG_SUFFIX: &'static str = "sig";
    const MEDIA_TYPE: &'static str = SIMPLE_SIGNING_MEDIA_TYPE;
    const MAX_BYTES: usize = limits::MAX_SIGNATURE_PAYLOAD_BYTES;
    const MAX_LAYERS: usize = limits::MAX_SIGNATURE_LAYERS;
    const REFERRER_ARTIFACT_TYPE: &'static str = SIGNATURE_ARTIFACT_TYPE;
    const NOUN: &'static str = "signature payload";
    fn check(
        ctx: &VerifyCtx,
        key: CheckKey,
        check: &dyn LayerCheck,
        payload: &[u8],
        annotations: &BTreeMap<String, String>,
    ) -> Result<Result<VerifiedSignature, SignatureError>, BudgetExhausted> {
        ctx.fetcher.work.check(key, check.cost(), || {
            check.check(payload, annotations, ctx.digest)
        })
    }
}

/// cosign attestations: `.att`, DSSE envelope layers.
pub(super) struct Attestations;

impl LayerKind for Attestations {
    type Verified = VerifiedAttestation;
    const TAG_SUFFIX: &'static str = "att";
    const MEDIA_TYPE: &'static str = DSSE_MEDIA_TYPE;
    const MAX_BYTES: usize = limits::MAX_ATTESTATION_BYTES;
    const MAX_LAYERS: usize = limits::MAX_ATTESTATION_LAYERS;
    const REFERRER_ARTIFACT_TYPE: &'static str = crate::sigstore::dsse::IN_TOTO_PAYLOAD_TYPE;
    const NOUN: &'static str = "attestation envelope";
    fn check(
        ctx: &VerifyCtx,
        key: CheckKey,
        check: &dyn LayerCheck,
        payload: &[u8],
        annotations: &BTreeMap<String, String>,
    ) -> Result<Result<VerifiedAttestation, SignatureError>, BudgetExhausted> {
        ctx.fetcher.work.check_attestation(key, check.cost(), || {
            check.check_attestation(payload, annotations, ctx.digest)
        })
    }
}

/// The artifact type cosign's OCI 1.1 mode gives signature referrers.
const SIGNATURE_ARTIFACT_TYPE: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";

/// What the layers of the signature (or attestation) manifests came to.
pub(super) struct Layers<T> {
    pub pending: bool,
    pub transport_error: bool,
    pub seen: usize,
    pub verified: Vec<T>,
    pub errors: Vec<String>,
}

impl<T> Default for Layers<T> {
    fn default() -> Self {
        Layers {
            pending: false,
            transport_error: false,
            seen: 0,
            verified: Vec::new(),
            errors: Vec::new(),
        }
    }
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
    let first_is_enough = entry.annotations.is_empty();
    match collect::<Signatures>(
        ctx,
        entry,
        check,
        first_is_enough,
        ctx.verification.cosign_oci11,
    ) {
        Ok(layers) => decide(entry, layers),
        Err(v) => super::widen(v),
    }
}

/// Checks the layers of kind `K` beside the image (and, with `referrers`,
/// of its signature referrers) with `check`; stops at the first that
/// verifies when `first_is_enough`. `Err` is a decisive verdict (the
/// manifest could not be read, too many layers, the work budget spent).
pub(super) fn collect<K: LayerKind>(
    ctx: &VerifyCtx,
    entry: &AttestorEntry,
    check: &dyn LayerCheck,
    first_is_enough: bool,
    referrers: bool,
) -> Result<Layers<K::Verified>, Verdict<std::convert::Infallible>> {
    let (registry, repository) = signature_repository(ctx, entry).map_err(Verdict::Fail)?;
    let mut layers = Layers::default();
    let mut manifests = Vec::new();
    let tag = format!(
        "{}{}.{}",
        entry.tag_prefix.as_deref().unwrap_or(""),
        ctx.digest.tag_stem(),
        K::TAG_SUFFIX
    );
    let what = if K::TAG_SUFFIX == "att" {
        "attestation manifest"
    } else {
        "signature manifest"
    };
    let sig_fetch =
        Fetch::manifest_by_tag(&registry, &repository, &tag).with_access(&ctx.verification.access);
    match ctx.fetcher.manifest(sig_fetch.clone()) {
        Got::Bytes(Ok(m)) => match ctx.fetcher.tag_digest(sig_fetch) {
            // The manifest's bytes are stored, so this is their (cached) digest.
            Got::Bytes(d) => manifests.push((m, d)),
            Got::Failed(s, reason) => {
                return Err(failed(
                    s,
                    Failure::Artifact {
                        what,
                        location: format!("{registry}/{repository}:{tag}"),
                        reason,
                    },
                ));
            }
            Got::Pending => return Err(Verdict::Pending),
        },
        Got::Bytes(Err(e)) => {
            return Err(Verdict::Fail(Failure::Artifact {
                what,
                location: format!("{registry}/{repository}:{tag}"),
                reason: e.to_string(),
            }));
        }
        Got::Pending => layers.pending = true,
        Got::Failed(FailureStatus::NotFound, _) => {}
        Got::Failed(s, m) => {
            let reason = match s {
                FailureStatus::Unauthorized => format!("unauthorized: {m}"),
                _ => m,
            };
            return Err(failed(
                s,
                Failure::Artifact {
                    what: "fetching signatures",
                    location: format!("{registry}/{repository}:{tag}"),
                    reason,
                },
            ));
        }
    }
    if referrers {
        let found = signature_referrers(
            ctx,
            (&registry, &repository),
            K::REFERRER_ARTIFACT_TYPE,
            &mut layers,
        );
        manifests.extend(found);
    }
    for (manifest, digest) in manifests {
        check_layers::<K>(
            ctx,
            check,
            (&registry, &repository),
            (manifest, &digest),
            first_is_enough,
            &mut layers,
        )
        .map_err(Verdict::Fail)?;
        if !layers.verified.is_empty() && first_is_enough {
            break;
        }
    }
    Ok(layers)
}

/// The manifests of the image's signature referrers (cosign's OCI 1.1
/// mode), each bound to the image by its subject; referrers that cannot be
/// used are recorded in `out`.
fn signature_referrers<'a, T>(
    ctx: &VerifyCtx<'a>,
    location: (&str, &str),
    artifact_type: &str,
    out: &mut Layers<T>,
) -> Vec<(&'a Manifest, Digest)> {
    let listed = match referrers::listed(ctx, location, |d| {
        d.artifact_type.as_deref() == Some(artifact_type)
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

/// Checks the layers of kind `K` in one manifest into `out`; `Err` (a
/// decisive failure) when the manifest has too many layers or the work
/// budget is spent.
fn check_layers<K: LayerKind>(
    ctx: &VerifyCtx,
    check: &dyn LayerCheck,
    (registry, repository): (&str, &str),
    (manifest, manifest_digest): (&Manifest, &Digest),
    first_is_enough: bool,
    out: &mut Layers<K::Verified>,
) -> Result<(), Failure> {
    if manifest.layers.len() > K::MAX_LAYERS {
        return Err(Failure::TooManyLayers(manifest.layers.len()));
    }
    let trust = format!("{}{}", check.trust_id(), ctx.root_id);
    for (index, layer) in manifest.layers.iter().enumerate() {
        if layer.media_type != K::MEDIA_TYPE {
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
            .filter(|n| *n <= K::MAX_BYTES)
        else {
            out.errors.push(format!(
                "layer {digest}: {} of {} bytes is outside 0..={}",
                K::NOUN,
                layer.size,
                K::MAX_BYTES
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
                match K::check(ctx, key, check, payload, &layer.annotations) {
                    Ok(Ok(v)) => {
                        out.verified.push(v);
                        if first_is_enough {
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
fn decide(entry: &AttestorEntry, layers: Layers<VerifiedSignature>) -> Verdict<Digest> {
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
