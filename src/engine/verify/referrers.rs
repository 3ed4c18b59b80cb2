//! An image's OCI 1.1 referrers, as the host answers them (the referrers
//! API, or the `sha256-<hex>` tag-schema index): an untrusted list. Each
//! referrer's manifest is fetched by digest within its descriptor's size, and
//! its own `subject` (covered by that digest) is what binds it to the image.

use super::fetcher::Got;
use super::{Failure, Verdict, VerifyCtx, failed};
use crate::digest::Digest;
use crate::engine::store::{FailureStatus, Fetch, FetchKind};
use crate::limits;
use crate::oci::{Descriptor, Manifest};

/// The descriptors of the image's referrers index that `keep` selects;
/// none when there is no index. More than Kyverno's limit fail closed.
pub(super) fn listed<'a>(
    ctx: &VerifyCtx<'a>,
    (registry, repository): (&str, &str),
    keep: impl Fn(&Descriptor) -> bool,
) -> Verdict<Vec<&'a Descriptor>> {
    let location = || format!("{registry}/{repository}@{}", ctx.digest);
    let index = match ctx.fetcher.manifest(
        Fetch::by_digest(FetchKind::Referrers, registry, repository, ctx.digest)
            .with_access(&ctx.verification.access),
    ) {
        Got::Bytes(Ok(m)) => m,
        Got::Bytes(Err(e)) => {
            return Verdict::Fail(Failure::Artifact {
                what: "referrers of",
                location: location(),
                reason: e.to_string(),
            });
        }
        Got::Pending => return Verdict::Pending,
        Got::Failed(FailureStatus::NotFound, _) => return Verdict::Ok(Vec::new()),
        Got::Failed(s, reason) => {
            return failed(
                s,
                Failure::Artifact {
                    what: "fetching referrers of",
                    location: location(),
                    reason,
                },
            );
        }
    };
    let kept: Vec<&Descriptor> = index.manifests.iter().filter(|d| keep(d)).collect();
    if kept.len() > limits::MAX_BUNDLE_REFERRERS {
        return Verdict::Fail(Failure::TooManyReferrers);
    }
    Verdict::Ok(kept)
}

/// A listed referrer, fetched.
pub(super) enum Referrer<'a> {
    /// Its manifest, about this image, and the manifest's digest.
    Manifest(&'a Manifest, Digest),
    Pending,
    /// Why it cannot be used (transport failures are `Error`).
    Failed(FailureStatus, String),
}

/// Fetches a listed referrer's manifest by digest, bounded by its
/// descriptor's size; its own subject must be the image.
pub(super) fn manifest<'a>(
    ctx: &VerifyCtx<'a>,
    descriptor: &Descriptor,
    (registry, repository): (&str, &str),
) -> Referrer<'a> {
    let invalid = |m: String| Referrer::Failed(FailureStatus::Invalid, m);
    let digest = match descriptor.parsed_digest() {
        Ok(d) => d,
        Err(e) => return invalid(format!("referrer {}: {e}", descriptor.digest)),
    };
    let Some(size) = usize::try_from(descriptor.size)
        .ok()
        .filter(|n| *n <= limits::MAX_MANIFEST_BYTES)
    else {
        return invalid(format!(
            "referrer {digest}: manifest of {} bytes is outside 0..={}",
            descriptor.size,
            limits::MAX_MANIFEST_BYTES
        ));
    };
    let manifest = match ctx.fetcher.manifest(
        Fetch::by_digest(FetchKind::Manifest, registry, repository, &digest)
            .with_access(&ctx.verification.access)
            .with_max_bytes(size),
    ) {
        Got::Bytes(Ok(m)) => m,
        Got::Bytes(Err(e)) => return invalid(format!("referrer {digest}: {e}")),
        Got::Pending => return Referrer::Pending,
        Got::Failed(s, m) => return Referrer::Failed(s, format!("referrer {digest}: {m}")),
    };
    match manifest.subject.as_ref().map(|s| s.digest.as_str()) {
        Some(s) if s == ctx.digest.to_string() => Referrer::Manifest(manifest, digest),
        other => invalid(format!(
            "referrer {digest} is not about this image: its subject is {}",
            other.unwrap_or("missing")
        )),
    }
}

/// A referrer's layer, fetched.
pub(super) enum Layer<'a> {
    /// Its bytes: as many as its descriptor says, their digest checked.
    Bytes(&'a [u8], Digest),
    Pending,
    /// Its descriptor's size, over the caller's bound.
    Oversized(i64),
    /// Why it cannot be used, said of the layer (the caller names it).
    Failed(FailureStatus, String),
}

/// Fetches `layer` of a referrer by digest, refusing a descriptor over
/// `max` bytes and bytes that are not as many as the descriptor says.
pub(super) fn layer<'a>(
    ctx: &VerifyCtx<'a>,
    layer: &Descriptor,
    max: usize,
    (registry, repository): (&str, &str),
) -> Layer<'a> {
    let invalid = |m: String| Layer::Failed(FailureStatus::Invalid, m);
    let digest = match layer.parsed_digest() {
        Ok(d) => d,
        Err(e) => return invalid(e.to_string()),
    };
    let Some(size) = usize::try_from(layer.size)
        .ok()
        .filter(|n| *n <= max.min(limits::MAX_BLOB_BYTES))
    else {
        return Layer::Oversized(layer.size);
    };
    match ctx.fetcher.get(
        Fetch::by_digest(FetchKind::Blob, registry, repository, &digest)
            .with_access(&ctx.verification.access)
            .with_max_bytes(size),
    ) {
        Got::Bytes(b) if b.len() != size => invalid(format!(
            "{digest} is {} bytes, its descriptor says {size}",
            b.len()
        )),
        Got::Bytes(b) => Layer::Bytes(b, digest),
        Got::Pending => Layer::Pending,
        Got::Failed(s, m) => Layer::Failed(s, m),
    }
}
