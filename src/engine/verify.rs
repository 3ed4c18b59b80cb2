//! Attestor evaluation for one image: attestor sets with counts, nested
//! attestors, and cosign key-based signatures fetched through the store.

use super::store::{Answer, FailureStatus, Fetch, FetchKind, Store};
use crate::digest::Digest;
use crate::limits;
use crate::oci::Manifest;
use crate::policy::compiled::{
    AttestorEntry, AttestorKind, AttestorSet, KeyAttestor, Verification,
};
use crate::reference::{ImageInfo, ParsedReference};
use crate::sigstore::SIMPLE_SIGNING_MEDIA_TYPE;
use crate::sigstore::cosign::{self, KeyCheck};
use crate::sigstore::trusted_root::LogKey;
use std::cell::RefCell;
use std::collections::BTreeSet;

/// Store lookups that record what is missing.
pub(super) struct Fetcher<'a> {
    store: &'a Store,
    needs: RefCell<BTreeSet<Fetch>>,
}

/// A lookup result.
pub(super) enum Got<'a> {
    Bytes(&'a [u8]),
    Failed(FailureStatus, &'a str),
    Pending,
}

impl<'a> Fetcher<'a> {
    pub(super) fn new(store: &'a Store) -> Self {
        Fetcher {
            store,
            needs: RefCell::new(BTreeSet::new()),
        }
    }

    pub(super) fn get(&self, f: Fetch) -> Got<'a> {
        match self.store.get(f.kind, &f.key) {
            Some(Answer::Bytes(b)) => Got::Bytes(b),
            Some(Answer::Failure(s, m)) => Got::Failed(*s, m),
            None => {
                self.needs.borrow_mut().insert(f);
                Got::Pending
            }
        }
    }

    pub(super) fn into_needs(self) -> Vec<Fetch> {
        self.needs.into_inner().into_iter().collect()
    }
}

/// Outcome of a check that may need more artifacts.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Verdict<T> {
    Ok(T),
    /// Verification failed (message).
    Fail(String),
    /// Could not be evaluated: network or unsupported (message).
    Error(String),
    Pending,
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
    match f.get(Fetch::manifest_by_tag(&info.registry, &info.path, &info.tag).with_access(access)) {
        Got::Bytes(b) => Verdict::Ok(Digest::sha256_of(b)),
        Got::Pending => Verdict::Pending,
        Got::Failed(FailureStatus::Error, m) => Verdict::Error(format!(
            "failed to resolve digest of {}: {m}",
            info.reference_with_tag()
        )),
        Got::Failed(_, m) => Verdict::Fail(format!(
            "failed to resolve digest of {}: {m}",
            info.reference_with_tag()
        )),
    }
}

/// Shared inputs of one image verification.
pub(super) struct VerifyCtx<'a> {
    pub fetcher: &'a Fetcher<'a>,
    pub image: &'a ImageInfo,
    pub digest: &'a Digest,
    pub verification: &'a Verification,
    pub engine_tlog_keys: &'a [LogKey],
}

/// Runs every attestor set in order; the digest comes from the last set.
pub(super) fn verify_attestors(ctx: &VerifyCtx) -> Verdict<Digest> {
    let mut digest = ctx.digest.clone();
    for (i, set) in ctx.verification.attestors.iter().enumerate() {
        match eval_set(ctx, set, &format!(".attestors[{i}]")) {
            Verdict::Ok(d) => digest = d,
            Verdict::Fail(m) => return Verdict::Fail(m),
            Verdict::Error(m) => return Verdict::Error(m),
            Verdict::Pending => return Verdict::Pending,
        }
    }
    Verdict::Ok(digest)
}

fn eval_set(ctx: &VerifyCtx, set: &AttestorSet, path: &str) -> Verdict<Digest> {
    let mut verified = 0usize;
    let mut errors = Vec::new();
    let mut any_error = false;
    let mut pending = false;
    for (k, entry) in set.entries.iter().enumerate() {
        let p = format!("{path}.entries[{k}]{}", entry.kind.path_suffix());
        match eval_entry(ctx, entry, &p) {
            Verdict::Ok(d) => {
                verified += 1;
                if verified >= set.required {
                    return Verdict::Ok(d);
                }
            }
            Verdict::Fail(m) => errors.push(format!("{p}: {m}")),
            Verdict::Error(m) => {
                any_error = true;
                errors.push(format!("{p}: {m}"))
            }
            Verdict::Pending => pending = true,
        }
    }
    if pending {
        return Verdict::Pending;
    }
    let msg = errors.join("; ");
    if any_error {
        Verdict::Error(msg)
    } else {
        Verdict::Fail(msg)
    }
}

fn eval_entry(ctx: &VerifyCtx, entry: &AttestorEntry, path: &str) -> Verdict<Digest> {
    match &entry.kind {
        AttestorKind::Key(k) => verify_key(ctx, entry, k),
        AttestorKind::KeyUnavailable(what) => Verdict::Error(format!(
            "{what} cannot be loaded by the offline engine; give the key inline as PEM in publicKeys"
        )),
        AttestorKind::Certificates(_) => {
            Verdict::Error("certificate attestors are not supported by this engine version".into())
        }
        AttestorKind::Keyless(_) => {
            Verdict::Error("keyless attestors are not supported by this engine version".into())
        }
        AttestorKind::Nested(set) => eval_set(ctx, set, path),
    }
}

/// The registry and repository holding signatures for this entry.
fn signature_repository(
    ctx: &VerifyCtx,
    entry: &AttestorEntry,
) -> Result<(String, String), String> {
    match entry
        .repository
        .as_deref()
        .or(ctx.verification.repository.as_deref())
    {
        None => Ok((ctx.image.registry.clone(), ctx.image.path.clone())),
        Some(repo) => {
            let parsed = ParsedReference::parse(repo)
                .map_err(|e| format!("invalid signature repository {repo:?}: {e}"))?;
            Ok((
                parsed.domain.unwrap_or_else(|| ctx.image.registry.clone()),
                parsed.path,
            ))
        }
    }
}

fn verify_key(ctx: &VerifyCtx, entry: &AttestorEntry, k: &KeyAttestor) -> Verdict<Digest> {
    let (registry, repository) = match signature_repository(ctx, entry) {
        Ok(r) => r,
        Err(m) => return Verdict::Fail(m),
    };
    let tag = format!("{}.sig", ctx.digest.tag_stem());
    let manifest_bytes = match ctx.fetcher.get(
        Fetch::manifest_by_tag(&registry, &repository, &tag).with_access(&ctx.verification.access),
    ) {
        Got::Bytes(b) => b,
        Got::Pending => return Verdict::Pending,
        Got::Failed(FailureStatus::NotFound, _) => {
            return Verdict::Fail("no signatures found".into());
        }
        Got::Failed(FailureStatus::Unauthorized, m) => {
            return Verdict::Fail(format!(
                "fetching signatures {registry}/{repository}:{tag}: unauthorized: {m}"
            ));
        }
        Got::Failed(FailureStatus::Error, m) => {
            return Verdict::Error(format!(
                "fetching signatures {registry}/{repository}:{tag}: {m}"
            ));
        }
    };
    let manifest = match Manifest::parse(manifest_bytes) {
        Ok(m) => m,
        Err(e) => {
            return Verdict::Fail(format!(
                "signature manifest {registry}/{repository}:{tag}: {e}"
            ));
        }
    };
    if manifest.layers.len() > limits::MAX_SIGNATURE_LAYERS {
        return Verdict::Fail(format!(
            "signature manifest has {} layers, over the limit of {}",
            manifest.layers.len(),
            limits::MAX_SIGNATURE_LAYERS
        ));
    }
    let tlog_keys: Option<Vec<LogKey>> = if k.tlog.ignore {
        None
    } else {
        Some(match &k.tlog.keys {
            Some(keys) => keys
                .iter()
                .filter_map(|key| LogKey::from_key(key.clone()))
                .collect(),
            None => ctx.engine_tlog_keys.to_vec(),
        })
    };
    let check = KeyCheck {
        key: &k.key,
        hash: k.hash,
        tlog_keys: tlog_keys.as_deref(),
    };
    let mut pending = false;
    let mut seen_layers = 0usize;
    let mut verified = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    for layer in manifest
        .layers
        .iter()
        .filter(|l| l.media_type == SIMPLE_SIGNING_MEDIA_TYPE)
    {
        seen_layers += 1;
        let digest = match layer.parsed_digest() {
            Ok(d) => d,
            Err(e) => {
                errors.push(format!("layer {}: {e}", layer.digest));
                continue;
            }
        };
        match ctx.fetcher.get(
            Fetch::by_digest(FetchKind::Blob, &registry, &repository, &digest)
                .with_access(&ctx.verification.access),
        ) {
            Got::Pending => pending = true,
            Got::Failed(_, m) => errors.push(format!("layer {digest}: {m}")),
            Got::Bytes(payload) => {
                match cosign::verify_layer(payload, &layer.annotations, ctx.digest, &check) {
                    Ok(v) => verified.push(v),
                    Err(e) => errors.push(e.to_string()),
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
        return Verdict::Fail(format!("no matching signatures: {}", errors.join("; ")));
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
