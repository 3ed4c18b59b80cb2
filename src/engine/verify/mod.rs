//! Attestor evaluation for one image: attestor sets with counts, nested
//! attestors, and one verifier per attestor kind.
//!
//! - [`fetcher`]: store lookups and the fetches still needed;
//! - [`cosign_layers`]: cosign's `.sig` layers, checked by a [`cosign_layers::LayerCheck`];
//! - [`key`]: the `keys` attestor's check;
//! - [`certificate`]: the `keyless` and `certificates` attestors' check;
//! - [`bundles`]: Sigstore bundles found as OCI 1.1 referrers (`type: SigstoreBundle`);
//! - [`notary`]: Notary Project signatures found as OCI 1.1 referrers (`type: Notary`);
//! - [`referrers`]: an image's referrers, each bound to it by its own subject.

mod attestations;
mod bundles;
mod certificate;
mod cosign_layers;
mod failure;
mod fetcher;
mod key;
mod key_ref;
mod notary;
mod referrers;

pub(super) use attestations::{signed_statements, verify_attestations};
pub(super) use failure::Failure;
pub(super) use fetcher::{Fetcher, Got};
pub(in crate::engine) use key_ref::expand as expand_key_refs;

use crate::digest::Digest;
use crate::engine::store::{FailureStatus, Fetch};
use crate::policy::compiled::{
    AttestorEntry, AttestorKind, AttestorSet, Verification, VerifierType,
};
use crate::reference::{ImageInfo, ParsedReference};
use crate::sigstore::trusted_root::{LogKey, TrustedRoot};

/// Outcome of a check that may need more artifacts.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Verdict<T> {
    Ok(T),
    /// Verification failed: anything the resource, the artifacts' bytes or
    /// the policy's unsupported features caused.
    Fail(Failure),
    /// A transport failure or deadline: the only outcome a
    /// `failurePolicy: Ignore` may forgive.
    Error(Failure),
    Pending,
}

/// A verdict that cannot be `Ok`, as any verdict type.
fn widen<T>(v: Verdict<std::convert::Infallible>) -> Verdict<T> {
    match v {
        Verdict::Ok(never) => match never {},
        Verdict::Fail(f) => Verdict::Fail(f),
        Verdict::Error(f) => Verdict::Error(f),
        Verdict::Pending => Verdict::Pending,
    }
}

/// Maps a failed fetch to a verdict: transport failures are errors, every
/// other failure (not found, refused, unusable bytes) fails verification.
fn failed<T>(status: FailureStatus, message: Failure) -> Verdict<T> {
    match status {
        FailureStatus::Error => Verdict::Error(message),
        FailureStatus::NotFound | FailureStatus::Unauthorized | FailureStatus::Invalid => {
            Verdict::Fail(message)
        }
    }
}

/// Resolves the digest of a tagged image from its manifest bytes.
pub(super) fn resolve_digest(
    f: &Fetcher,
    info: &ImageInfo,
    access: &crate::engine::store::Access,
) -> Verdict<Digest> {
    if let Some(d) = info.parsed_digest() {
        return Verdict::Ok(d);
    }
    match f.tag_digest(
        Fetch::manifest_by_tag(&info.registry, &info.path, &info.tag).with_access(access),
    ) {
        Got::Bytes(d) => Verdict::Ok(d),
        Got::Pending => Verdict::Pending,
        Got::Failed(s, reason) => failed(
            s,
            Failure::ResolveDigest {
                image: info.reference_with_tag(),
                reason,
            },
        ),
    }
}

/// Shared inputs of one image verification.
pub(super) struct VerifyCtx<'a> {
    pub fetcher: &'a Fetcher<'a>,
    pub image: &'a ImageInfo,
    pub digest: &'a Digest,
    pub verification: &'a Verification,
    /// The trusted root: the engine's, or an image policy attestor's own.
    pub trust: &'a TrustedRoot,
    /// Identifies `trust` in the verification memo's keys: empty for the
    /// engine's root, `/root:<sha256>` for an attestor's own, so a check
    /// made under one root is never taken for another's.
    pub root_id: &'a str,
    /// The request's time (unix seconds), when it gave one.
    pub now: Option<i64>,
    /// The JSON context conditions read (`request`, `images`, `image`).
    pub context: &'a serde_json::Value,
    /// The attestor entries that verified so far (path: key or identity);
    /// an entry whose set then fails is taken out again.
    pub verified_by: std::cell::RefCell<Vec<String>>,
}

impl VerifyCtx<'_> {
    /// Records that the entry at `path` verified, described by `what`.
    fn verified(&self, path: &str, what: String) {
        self.verified_by
            .borrow_mut()
            .push(format!("{path}: {what}"));
    }
}

/// What verified for an attestor entry: its key, or the identity it requires.
fn describe(kind: &AttestorKind) -> String {
    match kind {
        AttestorKind::Key(k) => format!("key sha256:{}", k.fingerprint),
        AttestorKind::Keyless(k) => format!("keyless, {}", k.identity.describe()),
        AttestorKind::Certificates(c) => match (&c.cert, &c.chain) {
            (Some(_), _) => "the pinned certificate".into(),
            (None, _) => "a certificate chaining to certChain".into(),
        },
        AttestorKind::Notary(_) => "a Notary signature chaining to the certificates".into(),
        AttestorKind::KeyRef(_) | AttestorKind::Nested(_) => String::new(),
    }
}

/// Runs every attestor set; all must verify. A decisive failure of any set
/// fails the image even while another set waits for artifacts or had a
/// transport error, and every set is evaluated in the same round (their
/// fetches are asked for together). The digest comes from the last set.
pub(super) fn verify_attestors(ctx: &VerifyCtx) -> Verdict<Digest> {
    let mut digest = ctx.digest.clone();
    let mut pending = false;
    let mut error: Option<Failure> = None;
    for (i, set) in ctx.verification.attestors.iter().enumerate() {
        match eval_set(ctx, set, &format!(".attestors[{i}]")) {
            Verdict::Ok(d) => digest = d,
            Verdict::Fail(m) => return Verdict::Fail(m),
            Verdict::Error(m) => {
                error.get_or_insert(m);
            }
            Verdict::Pending => pending = true,
        }
    }
    match (pending, error) {
        (true, _) => Verdict::Pending,
        (false, Some(m)) => Verdict::Error(m),
        (false, None) => Verdict::Ok(digest),
    }
}

/// One attestor set: `required` of its entries must verify. Only entries
/// that verified, in a set that did, stay in `ctx.verified_by`.
fn eval_set(ctx: &VerifyCtx, set: &AttestorSet, path: &str) -> Verdict<Digest> {
    let mark = ctx.verified_by.borrow().len();
    let set = key_ref::expand(ctx, set);
    let verdict = tally(
        &set,
        path,
        |entry, p| {
            let before = ctx.verified_by.borrow().len();
            let v = eval_entry(ctx, entry, p);
            match &v {
                Verdict::Ok(_) if !matches!(entry.kind, AttestorKind::Nested(_)) => {
                    ctx.verified(p, describe(&entry.kind))
                }
                Verdict::Ok(_) => {}
                _ => ctx.verified_by.borrow_mut().truncate(before),
            }
            v
        },
        |_, failures| Failure::Entries(failures),
    );
    if !matches!(verdict, Verdict::Ok(_)) {
        ctx.verified_by.borrow_mut().truncate(mark);
    }
    verdict
}

/// Counts an attestor set's entries as `eval` decides them: `required` of
/// them must verify (the first success past the count is the result). It
/// fails as soon as too few entries are left that could verify; only when
/// the entries that erred (transport) could still have made up the count
/// is it an error. `failure` builds the failure from the count verified and
/// each failed entry's path and reason.
pub(super) fn tally<T>(
    set: &AttestorSet,
    path: &str,
    mut eval: impl FnMut(&AttestorEntry, &str) -> Verdict<T>,
    failure: impl FnOnce(usize, Vec<(String, Failure)>) -> Failure,
) -> Verdict<T> {
    let mut verified = 0usize;
    let mut undecided = 0usize;
    let mut failures = Vec::new();
    let mut any_error = false;
    let mut pending = false;
    for (k, entry) in set.entries.iter().enumerate() {
        let p = format!("{path}.entries[{k}]{}", entry.kind.path_suffix());
        match eval(entry, &p) {
            Verdict::Ok(d) => {
                verified += 1;
                if verified >= set.required {
                    return Verdict::Ok(d);
                }
            }
            Verdict::Fail(f) => failures.push((p, f)),
            Verdict::Error(f) => {
                any_error = true;
                undecided += 1;
                failures.push((p, f))
            }
            Verdict::Pending => {
                pending = true;
                undecided += 1;
            }
        }
    }
    let decisive = verified + undecided < set.required;
    let failure = failure(verified, failures);
    if decisive {
        return Verdict::Fail(failure);
    }
    if pending {
        return Verdict::Pending;
    }
    if any_error {
        Verdict::Error(failure)
    } else {
        Verdict::Fail(failure)
    }
}

fn eval_entry(ctx: &VerifyCtx, entry: &AttestorEntry, path: &str) -> Verdict<Digest> {
    if ctx.verification.verifier == VerifierType::SigstoreBundle {
        return eval_bundle_entry(ctx, entry, path);
    }
    match &entry.kind {
        AttestorKind::Notary(n) => notary::verify(ctx, entry, n),
        AttestorKind::Key(k) => {
            cosign_layers::verify(ctx, entry, &key::KeyLayerCheck::new(k, &ctx.trust.tlogs))
        }
        AttestorKind::KeyRef(k) => widen(key_ref::unresolved(ctx, k)),
        AttestorKind::Certificates(c) => match &c.unsupported {
            Some(what) => Verdict::Fail(Failure::Unsupported(what.clone())),
            None => cosign_layers::verify(
                ctx,
                entry,
                &certificate::CertificateLayerCheck::certificates(c, ctx.trust, ctx.now),
            ),
        },
        AttestorKind::Keyless(k) => match &k.unsupported {
            Some(what) => Verdict::Fail(Failure::Unsupported(what.clone())),
            None => cosign_layers::verify(
                ctx,
                entry,
                &certificate::CertificateLayerCheck::keyless(k, ctx.trust, ctx.now),
            ),
        },
        AttestorKind::Nested(set) => eval_set(ctx, set, path),
    }
}

/// An attestor entry of a `type: SigstoreBundle` verification.
fn eval_bundle_entry(ctx: &VerifyCtx, entry: &AttestorEntry, path: &str) -> Verdict<Digest> {
    match &entry.kind {
        AttestorKind::Key(k) => {
            bundles::verify(ctx, entry, &bundles::BundleTrust::key(k, ctx.trust))
        }
        AttestorKind::Keyless(k) => match &k.unsupported {
            Some(what) => Verdict::Fail(Failure::Unsupported(what.clone())),
            None => bundles::verify(ctx, entry, &bundles::BundleTrust::keyless(k, ctx.trust)),
        },
        AttestorKind::KeyRef(k) => widen(key_ref::unresolved(ctx, k)),
        AttestorKind::Certificates(_) | AttestorKind::Notary(_) => {
            Verdict::Fail(Failure::Unsupported(
                "certificate attestors are not supported for type: SigstoreBundle; use keys or keyless"
                    .into(),
            ))
        }
        AttestorKind::Nested(set) => eval_set(ctx, set, path),
    }
}

/// A log requirement's keys: the attestor's own, or the trusted root's;
/// `None` when the log is ignored.
fn log_keys(ignore: bool, own: &Option<Vec<LogKey>>, root: &[LogKey]) -> Option<Vec<LogKey>> {
    if ignore {
        return None;
    }
    Some(match own {
        Some(keys) => keys.clone(),
        None => root.to_vec(),
    })
}

/// The registry and repository holding signatures for this entry.
fn signature_repository(
    ctx: &VerifyCtx,
    entry: &AttestorEntry,
) -> Result<(String, String), Failure> {
    match entry
        .repository
        .as_deref()
        .or(ctx.verification.repository.as_deref())
    {
        None => Ok((ctx.image.registry.clone(), ctx.image.path.clone())),
        Some(repo) => {
            let parsed =
                ParsedReference::parse(repo).map_err(|e| Failure::SignatureRepository {
                    repository: repo.to_string(),
                    reason: e.to_string(),
                })?;
            Ok((
                parsed
                    .domain
                    .map(|d| crate::reference::canonical_registry(&d))
                    .unwrap_or_else(|| ctx.image.registry.clone()),
                parsed.path,
            ))
        }
    }
}
