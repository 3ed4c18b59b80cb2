//! `type: Notary`: Notary Project signatures, found as the image's OCI 1.1
//! referrers (the referrers API or the tag-schema index; both untrusted
//! lists), verified as notation-go's `notation.Verify` does for Kyverno:
//! the image manifest's descriptor is the target, signature manifests are
//! tried in order, at most [`MAX_SIGNATURE_ATTEMPTS`] of them, and the first
//! that verifies is enough.

use super::fetcher::Got;
use super::referrers::{self, Referrer};
use super::{Failure, Verdict, VerifyCtx};
use crate::digest::Digest;
use crate::engine::store::{FailureStatus, Fetch, FetchKind};
use crate::engine::work::CheckKey;
use crate::notary::envelope::{EnvelopeFormat, MAX_ENVELOPE_BYTES};
use crate::notary::verify::{Target, Verified, verify_envelope};
use crate::oci::{Descriptor, Manifest};
use crate::policy::compiled::{AttestorEntry, NotaryAttestor};
use crate::sigstore::intoto::Statement;
use serde_json::Value;

/// The artifact type (or, in the legacy form, config media type) of a
/// Notary signature manifest.
pub(super) const SIGNATURE_ARTIFACT_TYPE: &str = "application/vnd.cncf.notary.signature";
/// Signatures notation-go tries per image (Kyverno's `MaxSignatureAttempts`).
pub(super) const MAX_SIGNATURE_ATTEMPTS: usize = 10;
/// Largest attestation predicate Kyverno reads (10 MB).
const MAX_PREDICATE_BYTES: usize = 10 * 1000 * 1000;

/// Verifies the image's Notary signatures with the attestor's trust store:
/// one signature that verifies is enough.
pub(super) fn verify(
    ctx: &VerifyCtx,
    entry: &AttestorEntry,
    attestor: &NotaryAttestor,
) -> Verdict<Digest> {
    if let Some(what) = &attestor.unsupported {
        return Verdict::Fail(Failure::Unsupported(what.clone()));
    }
    if !entry.annotations.is_empty() {
        return Verdict::Fail(Failure::Unsupported(
            "annotations are not checked on Notary signatures by Kyverno; remove them from the attestor"
                .into(),
        ));
    }
    match signatures(ctx, attestor, (&ctx.image.registry, &ctx.image.path)) {
        Verdict::Ok(_) => Verdict::Ok(ctx.digest.clone()),
        Verdict::Fail(f) => Verdict::Fail(f),
        Verdict::Error(f) => Verdict::Error(f),
        Verdict::Pending => Verdict::Pending,
    }
}

/// The manifest at `digest` in `(registry, repository)` as a Notary target:
/// its media type (from its bytes), digest and size.
pub(super) fn target_of(
    ctx: &VerifyCtx,
    (registry, repository): (&str, &str),
    digest: &Digest,
) -> Verdict<Target> {
    let location = || format!("{registry}/{repository}@{digest}");
    let fetch = || {
        Fetch::by_digest(FetchKind::Manifest, registry, repository, digest)
            .with_access(&ctx.verification.access)
    };
    let bytes = match ctx.fetcher.get(fetch()) {
        Got::Bytes(b) => b,
        Got::Pending => return Verdict::Pending,
        Got::Failed(s, reason) => {
            return super::failed(
                s,
                Failure::Artifact {
                    what: "fetching the manifest of",
                    location: location(),
                    reason,
                },
            );
        }
    };
    let manifest = match ctx.fetcher.manifest(fetch()) {
        Got::Bytes(Ok(m)) => m,
        Got::Bytes(Err(e)) => {
            return Verdict::Fail(Failure::Artifact {
                what: "manifest of",
                location: location(),
                reason: e.to_string(),
            });
        }
        Got::Pending => return Verdict::Pending,
        Got::Failed(s, reason) => {
            return super::failed(
                s,
                Failure::Artifact {
                    what: "fetching the manifest of",
                    location: location(),
                    reason,
                },
            );
        }
    };
    Verdict::Ok(Target {
        media_type: media_type_of(manifest),
        digest: digest.to_string(),
        size: bytes.len() as u64,
    })
}

/// A manifest's media type: its own field, or (OCI manifests may leave it
/// out) the kind its fields say it is.
fn media_type_of(m: &Manifest) -> String {
    match &m.media_type {
        Some(t) if !t.is_empty() => t.clone(),
        _ if !m.manifests.is_empty() => "application/vnd.oci.image.index.v1+json".into(),
        _ => "application/vnd.oci.image.manifest.v1+json".into(),
    }
}

/// Whether a referrer descriptor may be a Notary signature: its artifact
/// type says so, or it has none and its manifest decides.
fn may_be_signature(d: &Descriptor) -> bool {
    match d.artifact_type.as_deref() {
        None | Some("") => true,
        Some(t) => t == SIGNATURE_ARTIFACT_TYPE,
    }
}

/// The first Notary signature of the image at `ctx.digest` (in `at`) that
/// verifies with `attestor`.
pub(super) fn signatures(
    ctx: &VerifyCtx,
    attestor: &NotaryAttestor,
    at: (&str, &str),
) -> Verdict<Verified> {
    let reference = format!("{}/{}@{}", at.0, at.1, ctx.digest);
    let target = match target_of(ctx, at, ctx.digest) {
        Verdict::Ok(t) => t,
        Verdict::Fail(f) => return Verdict::Fail(f),
        Verdict::Error(f) => return Verdict::Error(f),
        Verdict::Pending => return Verdict::Pending,
    };
    let candidates = match referrers::listed(ctx, at, may_be_signature) {
        Verdict::Ok(c) => c,
        Verdict::Fail(f) => return Verdict::Fail(f),
        Verdict::Error(f) => return Verdict::Error(f),
        Verdict::Pending => return Verdict::Pending,
    };
    let mut pending = false;
    let mut transport_error = false;
    let mut reasons = Vec::new();
    let mut attempts = 0usize;
    for descriptor in candidates {
        if attempts >= MAX_SIGNATURE_ATTEMPTS {
            reasons.push(format!(
                "signature evaluation stopped. The configured limit of {MAX_SIGNATURE_ATTEMPTS} signatures to verify per artifact exceeded"
            ));
            break;
        }
        let (manifest_digest, format, bytes) = match envelope_of(ctx, descriptor, at) {
            Fetched::Envelope(d, f, b) => (d, f, b),
            Fetched::NotASignature => continue,
            Fetched::Pending => {
                attempts += 1;
                pending = true;
                continue;
            }
            Fetched::Failed(s, m) => {
                attempts += 1;
                transport_error |= s == FailureStatus::Error;
                reasons.push(m);
                continue;
            }
        };
        attempts += 1;
        // Everything is fetched before the time is needed, so that `fetch`
        // records what a replay at any time reads.
        let Some(now) = ctx.now else {
            reasons.push(format!(
                "failed to verify signature with digest {manifest_digest}, Notary signatures are checked at the request's time, and the request carries none"
            ));
            continue;
        };
        let key = CheckKey {
            manifest: manifest_digest.to_string(),
            layer: 0,
            image: format!("{}:{}:{}", target.digest, target.media_type, target.size),
            // Expiry and certificate validity read the request's time.
            trust: format!("{}/now:{now}{}", attestor.id, ctx.root_id),
        };
        let checked = ctx.fetcher.work.check_notary(key, cost(bytes), || {
            verify_envelope(
                format,
                bytes,
                &target,
                &attestor.policy,
                &attestor.stores,
                &[],
                now,
            )
        });
        match checked {
            Ok(Ok(v)) => return Verdict::Ok(v),
            Ok(Err(e)) => reasons.push(format!(
                "failed to verify signature with digest {manifest_digest}, {e}"
            )),
            Err(_) => return Verdict::Fail(Failure::WorkLimit),
        }
    }
    if pending {
        return Verdict::Pending;
    }
    if attempts == 0 {
        return Verdict::Fail(Failure::NoNotarySignatures(reference));
    }
    reasons.dedup();
    if transport_error {
        return Verdict::Error(Failure::NotarySignaturesUnfetched { reference, reasons });
    }
    Verdict::Fail(Failure::NotarySignatures { reference, reasons })
}

/// What checking an envelope costs, in P-256 verifications: an RSA or
/// ECDSA signature per certificate of the chain (bounded by its size).
fn cost(envelope: &[u8]) -> u32 {
    4 + u32::try_from(envelope.len() / 1024)
        .unwrap_or(u32::MAX)
        .min(16)
}

/// A referrer's envelope, fetched.
enum Fetched<'a> {
    /// The signature manifest's digest, the envelope format and bytes.
    Envelope(Digest, EnvelopeFormat, &'a [u8]),
    /// The manifest is not a Notary signature.
    NotASignature,
    Pending,
    Failed(FailureStatus, String),
}

/// Fetches a listed referrer (bound to the image by its subject) and, when
/// it is a Notary signature manifest, its one envelope layer.
fn envelope_of<'a>(
    ctx: &VerifyCtx<'a>,
    descriptor: &Descriptor,
    (registry, repository): (&str, &str),
) -> Fetched<'a> {
    let invalid = |m: String| Fetched::Failed(FailureStatus::Invalid, m);
    let (manifest, digest) = match referrers::manifest(ctx, descriptor, (registry, repository)) {
        Referrer::Manifest(m, d) => (m, d),
        Referrer::Pending => return Fetched::Pending,
        Referrer::Failed(s, m) => return Fetched::Failed(s, m),
    };
    let is_signature = manifest.artifact_type.as_deref() == Some(SIGNATURE_ARTIFACT_TYPE)
        || manifest.config.as_ref().map(|c| c.media_type.as_str()) == Some(SIGNATURE_ARTIFACT_TYPE);
    if !is_signature {
        return Fetched::NotASignature;
    }
    let [layer] = manifest.layers.as_slice() else {
        return invalid(format!(
            "signature manifest {digest} requires exactly one signature envelope blob, got {}",
            manifest.layers.len()
        ));
    };
    let Some(format) = EnvelopeFormat::from_media_type(&layer.media_type) else {
        return invalid(format!(
            "signature manifest {digest}: signature envelope media type {:?} is not supported",
            layer.media_type
        ));
    };
    match referrers::layer(ctx, layer, MAX_ENVELOPE_BYTES, (registry, repository)) {
        referrers::Layer::Bytes(b, _) => Fetched::Envelope(digest, format, b),
        referrers::Layer::Pending => Fetched::Pending,
        referrers::Layer::Oversized(size) => invalid(format!(
            "signature manifest {digest}: envelope of {size} bytes is outside 0..={MAX_ENVELOPE_BYTES}"
        )),
        referrers::Layer::Failed(s, m) => {
            Fetched::Failed(s, format!("signature manifest {digest}: envelope: {m}"))
        }
    }
}

/// The same verification about another artifact (a referrer of the image,
/// whose own signatures are checked).
fn about<'b>(ctx: &'b VerifyCtx<'_>, digest: &'b Digest) -> VerifyCtx<'b> {
    VerifyCtx {
        fetcher: ctx.fetcher,
        image: ctx.image,
        digest,
        verification: ctx.verification,
        trust: ctx.trust,
        root_id: ctx.root_id,
        now: ctx.now,
        context: ctx.context,
        verified_by: std::cell::RefCell::new(Vec::new()),
    }
}

/// Kyverno's Notary attestations: the image's first referrer whose artifact
/// type is `artifact_type` (for image policies, the first of them that
/// verifies), itself signed with a Notary signature the attestor trusts,
/// read as a statement: the referrer's manifest with
/// `type` (its artifact type) and `predicate` (its one layer, JSON).
pub(super) fn statements(
    ctx: &VerifyCtx,
    entry: &AttestorEntry,
    attestor: &NotaryAttestor,
    artifact_type: &str,
) -> Verdict<Vec<Statement>> {
    if let Some(what) = &attestor.unsupported {
        return Verdict::Fail(Failure::Unsupported(what.clone()));
    }
    if !entry.annotations.is_empty() {
        return Verdict::Fail(Failure::Unsupported(
            "annotations are not checked on Notary attestations by Kyverno; remove them from the attestor"
                .into(),
        ));
    }
    let at = (ctx.image.registry.as_str(), ctx.image.path.as_str());
    let listed = match referrers::listed(ctx, at, |d| {
        d.artifact_type.as_deref() == Some(artifact_type)
    }) {
        Verdict::Ok(c) => c,
        Verdict::Fail(f) => return Verdict::Fail(f),
        Verdict::Error(f) => return Verdict::Error(f),
        Verdict::Pending => return Verdict::Pending,
    };
    if listed.is_empty() {
        return Verdict::Fail(Failure::AttestationCheck(
            if ctx.verification.notary_any_referrer {
                format!(
                    "attestation verification failed, no attestations found for type: {artifact_type}"
                )
            } else {
                format!(
                    "no matching attestations found for image {}/{}@{} with type {artifact_type}",
                    at.0, at.1, ctx.digest
                )
            },
        ));
    }
    if !ctx.verification.notary_any_referrer {
        return match referrer_statement(ctx, attestor, artifact_type, listed[0], at) {
            Verdict::Ok(s) => Verdict::Ok(vec![s]),
            Verdict::Fail(f) => Verdict::Fail(f),
            Verdict::Error(f) => Verdict::Error(f),
            Verdict::Pending => Verdict::Pending,
        };
    }
    // Image policies, as Kyverno's: the first referrer, in listed order,
    // that verifies. Undecided ones are all asked for in the same round, so
    // trying several costs fetches, not rounds; a transport error is kept
    // while the others are tried.
    let mut pending = false;
    let mut last = None;
    for descriptor in listed {
        match referrer_statement(ctx, attestor, artifact_type, descriptor, at) {
            Verdict::Ok(_) if pending => return Verdict::Pending,
            Verdict::Ok(s) => return Verdict::Ok(vec![s]),
            Verdict::Pending => pending = true,
            v @ Verdict::Error(_) => last = Some(v),
            v @ Verdict::Fail(_) => {
                if !matches!(last, Some(Verdict::Error(_))) {
                    last = Some(v);
                }
            }
        }
    }
    match last {
        _ if pending => Verdict::Pending,
        Some(Verdict::Error(f)) => Verdict::Error(f),
        Some(Verdict::Fail(f)) => Verdict::Fail(f),
        _ => Verdict::Fail(Failure::AttestationCheck(format!(
            "attestation verification failed for type: {artifact_type}"
        ))),
    }
}

/// One referrer as a statement, once its own Notary signature verifies.
fn referrer_statement(
    ctx: &VerifyCtx,
    attestor: &NotaryAttestor,
    artifact_type: &str,
    referrer: &Descriptor,
    at: (&str, &str),
) -> Verdict<Statement> {
    let (manifest, digest) = match referrers::manifest(ctx, referrer, at) {
        Referrer::Manifest(m, d) => (m, d),
        Referrer::Pending => return Verdict::Pending,
        Referrer::Failed(s, m) => {
            return super::failed(s, Failure::AttestationCheck(m));
        }
    };
    // The referrer's own signature (the first one the attestor trusts) and
    // its predicate are fetched in the same round; the signature decides
    // first.
    let signed = signatures(&about(ctx, &digest), attestor, at);
    let manifest_bytes = ctx.fetcher.get(
        Fetch::by_digest(FetchKind::Manifest, at.0, at.1, &digest)
            .with_access(&ctx.verification.access),
    );
    let predicate = predicate_of(ctx, manifest, &digest, at);
    match signed {
        Verdict::Ok(v) if v.target.digest == digest.to_string() => {}
        Verdict::Ok(_) => {
            return Verdict::Fail(Failure::AttestationCheck("digest mismatch".into()));
        }
        Verdict::Fail(f) => return Verdict::Fail(f),
        Verdict::Error(f) => return Verdict::Error(f),
        Verdict::Pending => return Verdict::Pending,
    }
    let manifest_bytes = match manifest_bytes {
        Got::Bytes(b) => b,
        Got::Pending => return Verdict::Pending,
        Got::Failed(s, m) => return super::failed(s, Failure::AttestationCheck(m)),
    };
    let predicate = match predicate {
        Verdict::Ok(p) => p,
        Verdict::Fail(f) => return Verdict::Fail(f),
        Verdict::Error(f) => return Verdict::Error(f),
        Verdict::Pending => return Verdict::Pending,
    };
    let mut json: Value = match serde_json::from_slice(manifest_bytes) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return Verdict::Fail(Failure::AttestationCheck(format!(
                "attestation manifest {digest} is not a JSON object"
            )));
        }
    };
    if json.get("type").is_none_or(Value::is_null) {
        json["type"] = Value::String(artifact_type.to_string());
    }
    if json.get("predicate").is_none_or(Value::is_null) {
        json["predicate"] = predicate;
    }
    let predicate_type = json
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or(artifact_type)
        .to_string();
    Verdict::Ok(Statement {
        predicate_type,
        json,
    })
}

/// The JSON of an attestation manifest's one layer.
fn predicate_of(
    ctx: &VerifyCtx,
    manifest: &Manifest,
    digest: &Digest,
    (registry, repository): (&str, &str),
) -> Verdict<Value> {
    let check = |m: String| Verdict::Fail(Failure::AttestationCheck(m));
    let layer = match manifest.layers.as_slice() {
        [] => {
            return check(format!(
                "no predicate found in attestation manifest {digest}"
            ));
        }
        [layer] => layer,
        _ => {
            return check(format!(
                "multiple layers in predicate not supported: attestation manifest {digest}"
            ));
        }
    };
    match referrers::layer(ctx, layer, MAX_PREDICATE_BYTES, (registry, repository)) {
        referrers::Layer::Bytes(b, layer_digest) => match serde_json::from_slice::<Value>(b) {
            Ok(v @ Value::Object(_)) => Verdict::Ok(v),
            _ => check(format!("predicate {layer_digest} is not a JSON object")),
        },
        referrers::Layer::Pending => Verdict::Pending,
        referrers::Layer::Oversized(size) => check(format!(
            "predicate size {size} exceeds {MAX_PREDICATE_BYTES} for digest {}",
            layer.digest
        )),
        referrers::Layer::Failed(FailureStatus::Invalid, m) => {
            check(format!("attestation manifest {digest}: predicate: {m}"))
        }
        referrers::Layer::Failed(s, m) => super::failed(s, Failure::AttestationCheck(m)),
    }
}
