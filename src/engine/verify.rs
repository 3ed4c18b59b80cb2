//! Attestor evaluation for one image: attestor sets with counts, nested
//! attestors, and cosign key-based signatures fetched through the store.

use super::store::{Answer, FailureStatus, Fetch, FetchKind, Store};
use super::work::{CheckKey, Work};
use crate::digest::Digest;
use crate::limits;
use crate::oci::{Manifest, ManifestError};
use crate::policy::compiled::{
    AttestorEntry, AttestorKind, AttestorSet, KeyAttestor, Verification,
};
use crate::reference::{ImageInfo, ParsedReference};
use crate::sigstore::SIMPLE_SIGNING_MEDIA_TYPE;
use crate::sigstore::cosign::{self, KeyCheck};
use crate::sigstore::trusted_root::LogKey;
use std::cell::RefCell;
use std::collections::BTreeSet;

/// Store lookups that record what is missing, and the session's verification work.
pub(super) struct Fetcher<'a> {
    store: &'a Store,
    pub(super) work: &'a Work,
    needs: RefCell<BTreeSet<Fetch>>,
}

/// A lookup result.
pub(super) enum Got<T> {
    Bytes(T),
    Failed(FailureStatus, String),
    Pending,
}

impl<'a> Fetcher<'a> {
    pub(super) fn new(store: &'a Store, work: &'a Work) -> Self {
        Fetcher {
            store,
            work,
            needs: RefCell::new(BTreeSet::new()),
        }
    }

    /// The stored answer, or `Pending` (and the fetch recorded as needed).
    /// Past the session's artifact budget (count or bytes) a new fetch fails
    /// verification instead: the evaluation always ends in a decision.
    pub(super) fn get(&self, f: Fetch) -> Got<&'a [u8]> {
        match self.store.get(f.kind, &f.key) {
            Some(Answer::Bytes(b)) => Got::Bytes(b),
            Some(Answer::Failure(s, m)) => Got::Failed(*s, m.clone()),
            None => {
                let mut needs = self.needs.borrow_mut();
                if !needs.contains(&f) {
                    if self.store.len() + needs.len() >= limits::MAX_STORE_ENTRIES {
                        return Got::Failed(
                            FailureStatus::Invalid,
                            format!(
                                "{}: this admission needs more than {} artifacts",
                                f.key,
                                limits::MAX_STORE_ENTRIES
                            ),
                        );
                    }
                    if self.store.bytes() >= limits::MAX_STORE_BYTES || self.store.is_full() {
                        return Got::Failed(
                            FailureStatus::Invalid,
                            format!(
                                "{}: this admission's artifacts exceed {} MiB",
                                f.key,
                                limits::MAX_STORE_BYTES >> 20
                            ),
                        );
                    }
                }
                needs.insert(f);
                Got::Pending
            }
        }
    }

    /// The digest of a tag's manifest bytes (hashed once when stored).
    pub(super) fn tag_digest(&self, f: Fetch) -> Got<Digest> {
        let key = f.key.clone();
        match self.get(f) {
            Got::Bytes(b) => Got::Bytes(
                self.store
                    .tag_digest(&key)
                    .cloned()
                    .unwrap_or_else(|| Digest::sha256_of(b)),
            ),
            Got::Failed(s, m) => Got::Failed(s, m),
            Got::Pending => Got::Pending,
        }
    }

    /// A stored answer parsed as a manifest (parsed once per session).
    pub(super) fn manifest(&self, f: Fetch) -> Got<Result<&'a Manifest, ManifestError>> {
        let (kind, key) = (f.kind, f.key.clone());
        match self.get(f) {
            Got::Bytes(_) => match self.store.manifest(kind, &key) {
                Some(Ok(m)) => Got::Bytes(Ok(m)),
                Some(Err(e)) => Got::Bytes(Err(e.clone())),
                None => Got::Failed(FailureStatus::Error, format!("{key}: not stored")),
            },
            Got::Failed(s, m) => Got::Failed(s, m),
            Got::Pending => Got::Pending,
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
    /// Verification failed (message): anything the resource, the artifacts'
    /// bytes or the policy's unsupported features caused.
    Fail(String),
    /// A transport failure or deadline (message): the only outcome a
    /// `failurePolicy: Ignore` may forgive.
    Error(String),
    Pending,
}

/// Maps a failed fetch to a verdict: transport failures are errors, every
/// other failure (not found, refused, unusable bytes) fails verification.
fn failed<T>(status: FailureStatus, message: String) -> Verdict<T> {
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
        Got::Failed(s, m) => failed(
            s,
            format!(
                "failed to resolve digest of {}: {m}",
                info.reference_with_tag()
            ),
        ),
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

/// Runs every attestor set; all must verify. A decisive failure of any set
/// fails the image even while another set waits for artifacts or had a
/// transport error, and every set is evaluated in the same round (their
/// fetches are asked for together). The digest comes from the last set.
pub(super) fn verify_attestors(ctx: &VerifyCtx) -> Verdict<Digest> {
    let mut digest = ctx.digest.clone();
    let mut pending = false;
    let mut error: Option<String> = None;
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

/// One attestor set: `required` of its entries must verify. It fails as soon
/// as too few entries are left that could verify; only when the entries that
/// erred (transport) could still have made up the count is it an error.
fn eval_set(ctx: &VerifyCtx, set: &AttestorSet, path: &str) -> Verdict<Digest> {
    let mut verified = 0usize;
    let mut undecided = 0usize;
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
                undecided += 1;
                errors.push(format!("{p}: {m}"))
            }
            Verdict::Pending => {
                pending = true;
                undecided += 1;
            }
        }
    }
    let msg = errors.join("; ");
    if verified + undecided < set.required {
        return Verdict::Fail(msg);
    }
    if pending {
        return Verdict::Pending;
    }
    if any_error {
        Verdict::Error(msg)
    } else {
        Verdict::Fail(msg)
    }
}

fn eval_entry(ctx: &VerifyCtx, entry: &AttestorEntry, path: &str) -> Verdict<Digest> {
    match &entry.kind {
        AttestorKind::Key(k) => verify_key(ctx, entry, k),
        AttestorKind::KeyUnavailable(what) => Verdict::Fail(format!(
            "{what} cannot be loaded by the offline engine; give the key inline as PEM in publicKeys"
        )),
        AttestorKind::Certificates(_) => {
            Verdict::Fail("certificate attestors are not supported by this engine version".into())
        }
        AttestorKind::Keyless(_) => {
            Verdict::Fail("keyless attestors are not supported by this engine version".into())
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
                parsed
                    .domain
                    .map(|d| crate::reference::canonical_registry(&d))
                    .unwrap_or_else(|| ctx.image.registry.clone()),
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
    // The manifest's bytes are stored, so this is their (cached) digest.
    let manifest_digest = match ctx.fetcher.tag_digest(sig_fetch) {
        Got::Bytes(d) => d.to_string(),
        Got::Failed(s, m) => return failed(s, m),
        Got::Pending => return Verdict::Pending,
    };
    // The SET check (after a good signature) costs about one P-256 verify
    // per candidate log key.
    let cost = k.key.cosign_check_cost(k.hash) + if k.tlog.ignore { 0 } else { 2 };
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
                    key: format!("{}/{:?}", k.fingerprint, k.hash),
                    tlog: k.tlog.id.clone(),
                };
                let checked = ctx.fetcher.work.check(key, cost, || {
                    cosign::verify_layer(payload, &layer.annotations, ctx.digest, &check)
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
