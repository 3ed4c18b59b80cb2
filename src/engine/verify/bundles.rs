//! `type: SigstoreBundle`: Sigstore bundles stored as OCI 1.1 referrers of
//! the image (cosign 3, GitHub artifact attestations). The host answers the
//! referrers API or, where a registry lacks it, the `sha256-<hex>` tag-schema
//! index; both are untrusted lists. Each candidate manifest is fetched by
//! digest and must name the image as its `subject`; its first layer is the
//! bundle, verified against the image digest by the attestor's
//! [`BundleTrust`].

use super::referrers::{self, Referrer};
use super::{Failure, Verdict, VerifyCtx, signature_repository};
use crate::digest::Digest;
use crate::engine::store::FailureStatus;
use crate::engine::work::CheckKey;
use crate::oci::Descriptor;
use crate::policy::compiled::{AttestorEntry, KeyAttestor, KeylessAttestor};
use crate::sigstore::bundle::{
    self, Artifact, Bundle, BundleCheck, BundleError, MAX_BUNDLE_BYTES, Signer, VerifiedBundle,
};
use crate::sigstore::identity::IdentityPolicy;
use crate::sigstore::intoto::Statement;
use crate::sigstore::trusted_root::{Authority, LogKey, Trust, TrustedRoot};
use serde_json::Value;
use std::collections::BTreeMap;

/// Media types (and artifact types) of Sigstore bundles start with this.
const BUNDLE_MEDIA_TYPE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";
/// The artifact type cosign 3 writes in tag-schema indexes (Kyverno #16664).
const EMPTY_ARTIFACT_TYPE: &str = "application/vnd.oci.empty.v1+json";

/// Who must have signed a bundle.
enum BundleSigner<'a> {
    Key(&'a KeyAttestor),
    Identity(&'a IdentityPolicy),
}

/// An attestor's trust for bundles: its signer, and the logs and
/// authorities it trusts (its own keys and roots, or the engine's trusted
/// root).
pub(super) struct BundleTrust<'a> {
    signer: BundleSigner<'a>,
    /// `None` when the transparency log is ignored.
    tlogs: Option<Vec<LogKey>>,
    /// `None` when SCTs are ignored.
    ctlogs: Option<Vec<LogKey>>,
    authorities: &'a [Authority],
    timestamp_authorities: &'a [Authority],
    trust_id: String,
}

impl<'a> BundleTrust<'a> {
    /// A `keys` attestor: a managed-key bundle.
    pub(super) fn key(attestor: &'a KeyAttestor, root: &'a TrustedRoot) -> Self {
        BundleTrust {
            signer: BundleSigner::Key(attestor),
            tlogs: super::log_keys(attestor.tlog.ignore, &attestor.tlog.keys, &root.tlogs),
            ctlogs: None,
            authorities: &[],
            timestamp_authorities: &root.timestamp_authorities,
            trust_id: format!(
                "bundle-key:{}/tlog:{}",
                attestor.fingerprint, attestor.tlog.id
            ),
        }
    }

    /// A `keyless` attestor: a certificate bundle with an identity.
    pub(super) fn keyless(attestor: &'a KeylessAttestor, root: &'a TrustedRoot) -> Self {
        BundleTrust {
            signer: BundleSigner::Identity(&attestor.identity),
            tlogs: super::log_keys(attestor.tlog.ignore, &attestor.tlog.keys, &root.tlogs),
            ctlogs: super::log_keys(
                attestor.ctlog.ignore_sct,
                &attestor.ctlog.keys,
                &root.ctlogs,
            ),
            authorities: attestor
                .roots
                .as_deref()
                .unwrap_or(&root.certificate_authorities),
            timestamp_authorities: attestor
                .ctlog
                .tsa
                .as_deref()
                .unwrap_or(&root.timestamp_authorities),
            trust_id: format!("bundle-keyless:{}", attestor.id),
        }
    }

    /// What one bundle check costs, in P-256 verifications: the signature,
    /// a SET and a checkpoint per entry, and for a certificate its path
    /// and SCT.
    fn cost(&self) -> u32 {
        match self.signer {
            BundleSigner::Key(k) => k.key.cosign_check_cost(k.hash) + 4,
            BundleSigner::Identity(_) => 10,
        }
    }

    /// Verifies one bundle against the image digest.
    fn check(
        &self,
        bundle_bytes: &[u8],
        image: &Digest,
        now: Option<i64>,
    ) -> Result<VerifiedBundle, BundleError> {
        let parsed = Bundle::parse(bundle_bytes)?;
        let digest: [u8; 32] = crate::digest::hex_decode(image.hex())
            .and_then(|d| d.try_into().ok())
            .ok_or_else(|| BundleError::Invalid(format!("{image} is not a SHA-256 digest")))?;
        let accept = |id: &crate::sigstore::fulcio::Identity| match self.signer {
            BundleSigner::Identity(policy) => policy.check(id),
            BundleSigner::Key(_) => Err("a key was expected".to_string()),
        };
        let signer = match self.signer {
            BundleSigner::Key(k) => Signer::Key(&k.key),
            BundleSigner::Identity(_) => Signer::Identity(&accept),
        };
        let certificate_without_log =
            matches!(self.signer, BundleSigner::Identity(_)) && self.tlogs.is_none();
        let now = match now {
            Some(t) => t,
            // A certificate without a log is checked at the request's time.
            None if certificate_without_log => {
                return Err(BundleError::Material(
                    "the transparency log is ignored and the request carries no time to check the certificate at".into(),
                ));
            }
            // Log times only have to lie in the past.
            None => i64::MAX,
        };
        bundle::verify(
            &parsed,
            &BundleCheck {
                trust: Trust {
                    tlogs: self.tlogs.as_deref().unwrap_or(&[]),
                    ctlogs: self.ctlogs.as_deref().unwrap_or(&[]),
                    certificate_authorities: self.authorities,
                    timestamp_authorities: self.timestamp_authorities,
                },
                signer,
                artifact: Artifact::Sha256(&digest),
                now,
                require_tlog: self.tlogs.is_some(),
                require_sct: self.ctlogs.is_some(),
            },
        )
    }
}

/// Verifies the image's bundle referrers with `trust`: one bundle that
/// verifies (and whose statement carries the entry's required annotations)
/// is enough.
pub(super) fn verify(
    ctx: &VerifyCtx,
    entry: &AttestorEntry,
    trust: &BundleTrust,
) -> Verdict<Digest> {
    let verified = match collect(ctx, entry, trust, entry.annotations.is_empty()) {
        Ok(v) => v,
        Err(v) => return super::widen(v),
    };
    if !entry.annotations.is_empty()
        && !verified.iter().any(|v| {
            v.payload
                .as_deref()
                .is_some_and(|p| subject_has_annotations(p, ctx.digest, &entry.annotations))
        })
    {
        return Verdict::Fail(super::cosign_layers::annotations_failure(entry));
    }
    Verdict::Ok(ctx.digest.clone())
}

/// The in-toto statements of the image's bundle referrers that verify with
/// `trust` (each names the image as a subject).
pub(super) fn statements(
    ctx: &VerifyCtx,
    entry: &AttestorEntry,
    trust: &BundleTrust,
) -> Verdict<Vec<Statement>> {
    let verified = match collect(ctx, entry, trust, false) {
        Ok(v) => v,
        Err(v) => return super::widen(v),
    };
    let mut out = Vec::new();
    for payload in verified.iter().filter_map(|v| v.payload.as_deref()) {
        match Statement::parse_for(payload, ctx.digest) {
            Ok(s) => out.push(s),
            Err(e) => return Verdict::Fail(Failure::AttestationCheck(e.to_string())),
        }
    }
    Verdict::Ok(out)
}

/// The bundles among the image's referrers that verify with `trust`
/// (stopping at the first when `first_is_enough`); `Err` when none does, or
/// the referrers could not be listed.
fn collect<'a>(
    ctx: &VerifyCtx<'a>,
    entry: &AttestorEntry,
    trust: &BundleTrust,
    first_is_enough: bool,
) -> Result<Vec<VerifiedBundle>, Verdict<std::convert::Infallible>> {
    let (registry, repository) = signature_repository(ctx, entry).map_err(Verdict::Fail)?;
    let candidates = match referrers::listed(ctx, (&registry, &repository), may_be_bundle) {
        Verdict::Ok(c) => c,
        Verdict::Fail(f) => return Err(Verdict::Fail(f)),
        Verdict::Error(f) => return Err(Verdict::Error(f)),
        Verdict::Pending => return Err(Verdict::Pending),
    };
    let mut pending = false;
    let mut transport_error = false;
    let mut errors: Vec<String> = Vec::new();
    let mut verified: Vec<VerifiedBundle> = Vec::new();
    for descriptor in candidates {
        let fetched = bundle_of(ctx, descriptor, &registry, &repository);
        let (manifest_digest, bytes) = match fetched {
            Fetched::Bundle(d, b) => (d, b),
            Fetched::NotABundle => continue,
            Fetched::Pending => {
                pending = true;
                continue;
            }
            Fetched::Failed(s, m) => {
                transport_error |= s == FailureStatus::Error;
                errors.push(m);
                continue;
            }
        };
        let key = CheckKey {
            manifest: manifest_digest.to_string(),
            layer: 0,
            image: ctx.digest.to_string(),
            // The check reads the request's time (log times in the past, a
            // certificate without a log at that time): part of its key.
            trust: format!("{}/now:{:?}{}", trust.trust_id, ctx.now, ctx.root_id),
        };
        let checked = ctx.fetcher.work.check_bundle(key, trust.cost(), || {
            trust.check(bytes, ctx.digest, ctx.now)
        });
        match checked {
            Ok(Ok(v)) => {
                verified.push(v);
                if first_is_enough {
                    break;
                }
            }
            Ok(Err(e)) => errors.push(format!("bundle {manifest_digest}: {e}")),
            Err(_) => return Err(Verdict::Fail(Failure::WorkLimit)),
        }
    }
    if pending {
        return Err(Verdict::Pending);
    }
    if verified.is_empty() {
        errors.dedup();
        if transport_error {
            return Err(Verdict::Error(Failure::BundlesUnfetched(errors)));
        }
        return Err(Verdict::Fail(Failure::NoMatchingBundles(errors)));
    }
    Ok(verified)
}

/// Whether a referrer descriptor may hold a bundle: its artifact type says
/// so, or it has none or the empty type (cosign 3's tag-schema indexes,
/// which Kyverno filters out: #16664) and its manifest decides.
fn may_be_bundle(d: &Descriptor) -> bool {
    match d.artifact_type.as_deref() {
        None | Some("") | Some(EMPTY_ARTIFACT_TYPE) => true,
        Some(t) => t.starts_with(BUNDLE_MEDIA_TYPE_PREFIX),
    }
}

/// A referrer's bundle, fetched.
enum Fetched<'a> {
    /// The referrer manifest's digest and the bundle's bytes.
    Bundle(Digest, &'a [u8]),
    /// The manifest holds something else.
    NotABundle,
    Pending,
    Failed(FailureStatus, String),
}

/// Fetches a listed referrer (bound to the image by its subject) and, when
/// its first layer is a bundle, the bundle.
fn bundle_of<'a>(
    ctx: &VerifyCtx<'a>,
    descriptor: &Descriptor,
    registry: &str,
    repository: &str,
) -> Fetched<'a> {
    let invalid = |m: String| Fetched::Failed(FailureStatus::Invalid, m);
    let (manifest, digest) = match referrers::manifest(ctx, descriptor, (registry, repository)) {
        Referrer::Manifest(m, d) => (m, d),
        Referrer::Pending => return Fetched::Pending,
        Referrer::Failed(s, m) => return Fetched::Failed(s, m),
    };
    let Some(layer) = manifest
        .layers
        .first()
        .filter(|l| l.media_type.starts_with(BUNDLE_MEDIA_TYPE_PREFIX))
    else {
        return Fetched::NotABundle;
    };
    match referrers::layer(ctx, layer, MAX_BUNDLE_BYTES, (registry, repository)) {
        referrers::Layer::Bytes(b, _) => Fetched::Bundle(digest, b),
        referrers::Layer::Pending => Fetched::Pending,
        referrers::Layer::Oversized(size) => invalid(format!(
            "referrer {digest}: bundle of {size} bytes is outside 0..={MAX_BUNDLE_BYTES}"
        )),
        referrers::Layer::Failed(s, m) => {
            Fetched::Failed(s, format!("referrer {digest}: bundle: {m}"))
        }
    }
}

/// Whether an in-toto statement has a subject with the image's digest whose
/// annotations hold every required key with exactly that value (cosign 3
/// writes `sign -a` annotations there).
fn subject_has_annotations(
    statement: &[u8],
    image: &Digest,
    required: &BTreeMap<String, String>,
) -> bool {
    let Ok(v) = serde_json::from_slice::<Value>(statement) else {
        return false;
    };
    v.get("subject")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|s| s.pointer("/digest/sha256").and_then(Value::as_str) == Some(image.hex()))
        .any(|s| {
            required.iter().all(|(k, want)| {
                s.get("annotations")
                    .and_then(|a| a.get(k))
                    .and_then(Value::as_str)
                    == Some(want.as_str())
            })
        })
}
