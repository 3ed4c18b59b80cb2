//! `attestations[]`: in-toto statements about the image, signed by each
//! attestation's attestors (cosign `.att` layers, or DSSE Sigstore bundles
//! under `type: SigstoreBundle`), selected by predicate type and held to
//! the attestation's conditions with the predicate merged into the context,
//! as Kyverno does.

use super::cosign_layers::{self, Attestations, LayerCheck};
use super::{Failure, Verdict, VerifyCtx, bundles, certificate, key, notary};
use crate::policy::compiled::{
    AttestorEntry, AttestorKind, AttestorSet, CompiledAttestation, VerifierType,
};
use crate::sigstore::intoto::Statement;
use serde_json::Value;

/// Checks every attestation of the entry: each attestor set must have
/// `required` entries whose verified statements of the type all meet the
/// conditions. A decisive failure of any attestation fails the image even
/// while another waits for artifacts.
///
/// On success, the predicates of the attestations that have a `name`, for
/// `validate.deny` to read.
pub(in crate::engine) fn verify_attestations(ctx: &VerifyCtx) -> Verdict<Vec<(String, Value)>> {
    let mut pending = false;
    let mut error = None;
    let mut named = Vec::new();
    for a in &ctx.verification.attestations {
        let path = format!(".attestations[{}]", a.index);
        if a.predicate_type.is_empty() {
            return Verdict::Fail(Failure::MissingType(path));
        }
        for (j, set) in a.attestors.iter().enumerate() {
            match eval_set(ctx, a, set, &format!("{path}.attestors[{j}]")) {
                Verdict::Ok(predicate) => {
                    if let (Some(name), Some(p)) = (&a.name, predicate) {
                        named.push((name.clone(), p));
                    }
                }
                Verdict::Fail(f) => return Verdict::Fail(f),
                Verdict::Error(f) => {
                    error.get_or_insert(f);
                }
                Verdict::Pending => pending = true,
            }
        }
    }
    match (pending, error) {
        (true, _) => Verdict::Pending,
        (false, Some(f)) => Verdict::Error(f),
        (false, None) => Verdict::Ok(named),
    }
}

/// One attestor set of an attestation: `required` entries must verify; on
/// success, the predicate of the first statement of the type.
fn eval_set(
    ctx: &VerifyCtx,
    a: &CompiledAttestation,
    set: &AttestorSet,
    path: &str,
) -> Verdict<Option<Value>> {
    let set = super::key_ref::expand(ctx, set);
    super::tally(
        &set,
        path,
        |entry, p| eval_entry(ctx, a, entry, p),
        |verified, errors| Failure::Attestations {
            verified,
            required: set.required,
            errors,
        },
    )
}

/// One attestor entry: its verified statements of the attestation's type,
/// held to the conditions.
fn eval_entry(
    ctx: &VerifyCtx,
    a: &CompiledAttestation,
    entry: &AttestorEntry,
    path: &str,
) -> Verdict<Option<Value>> {
    if let AttestorKind::Nested(set) = &entry.kind {
        return eval_set(ctx, a, set, path);
    }
    match statements(ctx, entry, &a.predicate_type) {
        Verdict::Ok(s) => check_statements(ctx, a, &s),
        Verdict::Fail(f) => Verdict::Fail(f),
        Verdict::Error(f) => Verdict::Error(f),
        Verdict::Pending => Verdict::Pending,
    }
}

/// The statements about the image that the entry's attestor signed, of
/// `predicate_type` (an in-toto predicate type, or for Notary the artifact
/// type of the referrer), in the verification's format. An image policy's
/// `verifyAttestationSignatures` counts these.
pub(in crate::engine) fn signed_statements(
    ctx: &VerifyCtx,
    entry: &AttestorEntry,
    predicate_type: &str,
) -> Verdict<Vec<Statement>> {
    match statements(ctx, entry, predicate_type) {
        Verdict::Ok(s) => {
            let found: Vec<String> = s.iter().map(|s| s.predicate_type.clone()).collect();
            let of_type: Vec<Statement> = s
                .into_iter()
                .filter(|s| s.predicate_type == predicate_type)
                .collect();
            if of_type.is_empty() {
                Verdict::Fail(Failure::AttestationCheck(format!(
                    "required predicate type {predicate_type} not found, found [{}]",
                    found.join(" ")
                )))
            } else {
                Verdict::Ok(of_type)
            }
        }
        other => other,
    }
}

/// The entry's verified statements in the verification's format (for
/// Notary, the referrer of artifact type `predicate_type`).
fn statements(
    ctx: &VerifyCtx,
    entry: &AttestorEntry,
    predicate_type: &str,
) -> Verdict<Vec<Statement>> {
    match ctx.verification.verifier {
        VerifierType::Cosign => cosign_statements(ctx, entry),
        VerifierType::SigstoreBundle => bundle_statements(ctx, entry),
        VerifierType::Notary => match &entry.kind {
            AttestorKind::Notary(n) => notary::statements(ctx, entry, n, predicate_type),
            _ => Verdict::Fail(Failure::Unsupported(
                "a type: Notary attestation needs certificates attestors".into(),
            )),
        },
    }
}

/// The statements of the image's `.att` layers that verify with the entry.
fn cosign_statements(ctx: &VerifyCtx, entry: &AttestorEntry) -> Verdict<Vec<Statement>> {
    let check: Box<dyn LayerCheck + '_> = match &entry.kind {
        AttestorKind::Key(k) => Box::new(key::KeyLayerCheck::new(k, &ctx.trust.tlogs)),
        AttestorKind::KeyRef(k) => return super::widen(super::key_ref::unresolved(ctx, k)),
        AttestorKind::Certificates(c) => match &c.unsupported {
            Some(what) => return Verdict::Fail(Failure::Unsupported(what.clone())),
            None => Box::new(certificate::CertificateLayerCheck::certificates(
                c, ctx.trust, ctx.now,
            )),
        },
        AttestorKind::Keyless(k) => match &k.unsupported {
            Some(what) => return Verdict::Fail(Failure::Unsupported(what.clone())),
            None => Box::new(certificate::CertificateLayerCheck::keyless(
                k, ctx.trust, ctx.now,
            )),
        },
        AttestorKind::Nested(_) => {
            return Verdict::Fail(Failure::Unsupported(
                "nested attestors in attestations".into(),
            ));
        }
        AttestorKind::Notary(_) => {
            return Verdict::Fail(Failure::Unsupported(
                "Notary certificates cannot verify cosign attestations".into(),
            ));
        }
    };
    // Under cosignOCI11, also the attestations cosign writes as OCI 1.1
    // referrers (artifact type in-toto), which cosign itself does not read.
    let referrers = ctx.verification.cosign_oci11;
    let layers = match cosign_layers::collect::<Attestations>(
        ctx,
        entry,
        check.as_ref(),
        false,
        referrers,
    ) {
        Ok(l) => l,
        Err(v) => return super::widen(v),
    };
    if layers.pending {
        return Verdict::Pending;
    }
    let mut errors = layers.errors;
    errors.dedup();
    if layers.verified.is_empty() {
        return if layers.transport_error {
            Verdict::Error(Failure::AttestationsUnfetched(errors))
        } else if layers.seen == 0 {
            Verdict::Fail(Failure::NoAttestations(errors))
        } else {
            Verdict::Fail(Failure::NoMatchingAttestations(errors))
        };
    }
    if !entry.annotations.is_empty() {
        // cosign attestations carry no signed annotations (Kyverno: the
        // payload's `optional` map is empty), so required ones never match.
        return Verdict::Fail(cosign_layers::annotations_failure(entry));
    }
    Verdict::Ok(layers.verified.into_iter().map(|v| v.statement).collect())
}

/// The statements of the image's DSSE bundle referrers that verify with
/// the entry.
fn bundle_statements(ctx: &VerifyCtx, entry: &AttestorEntry) -> Verdict<Vec<Statement>> {
    match &entry.kind {
        AttestorKind::Key(k) => {
            bundles::statements(ctx, entry, &bundles::BundleTrust::key(k, ctx.trust))
        }
        AttestorKind::Keyless(k) => match &k.unsupported {
            Some(what) => Verdict::Fail(Failure::Unsupported(what.clone())),
            None => bundles::statements(ctx, entry, &bundles::BundleTrust::keyless(k, ctx.trust)),
        },
        AttestorKind::KeyRef(k) => super::widen(super::key_ref::unresolved(ctx, k)),
        AttestorKind::Certificates(_) | AttestorKind::Notary(_) => {
            Verdict::Fail(Failure::Unsupported(
                "certificate attestors are not supported for type: SigstoreBundle; use keys or keyless"
                    .into(),
            ))
        }
        AttestorKind::Nested(_) => Verdict::Fail(Failure::Unsupported(
            "nested attestors in attestations".into(),
        )),
    }
}

/// The statements of the attestation's type must exist, and each must meet
/// the conditions, with its predicate merged into the context.
fn check_statements(
    ctx: &VerifyCtx,
    a: &CompiledAttestation,
    statements: &[Statement],
) -> Verdict<Option<Value>> {
    let of_type: Vec<&Statement> = statements
        .iter()
        .filter(|s| s.predicate_type == a.predicate_type)
        .collect();
    if of_type.is_empty() {
        return Verdict::Fail(Failure::AttestationCheck(format!(
            "attestions not found for predicate type {}",
            a.predicate_type
        )));
    }
    let first = of_type[0].json.get("predicate").cloned();
    if a.conditions.is_empty() {
        return Verdict::Ok(first);
    }
    let image = format!("{}@{}", ctx.image.repository_reference(), ctx.digest);
    for s in of_type {
        let Some(predicate) = s.json.get("predicate").filter(|p| p.is_object()) else {
            return Verdict::Fail(Failure::AttestationCheck(
                "failed to check attestations: failed to extract predicate from statement".into(),
            ));
        };
        if ctx.fetcher.work.spend(1).is_err() {
            return Verdict::Fail(Failure::WorkLimit);
        }
        let mut context = ctx.context.clone();
        crate::conditions::merge_into(&mut context, predicate);
        match a.conditions.evaluate(&context, ctx.now) {
            Err(e) => {
                return Verdict::Fail(Failure::AttestationCheck(format!(
                    "failed to check attestations: {e}"
                )));
            }
            Ok(o) if !o.holds => {
                return Verdict::Fail(Failure::AttestationCheck(format!(
                    "attestation checks failed for {image} and predicate {}: {}",
                    a.predicate_type, o.message
                )));
            }
            Ok(_) => {}
        }
    }
    Verdict::Ok(first)
}
