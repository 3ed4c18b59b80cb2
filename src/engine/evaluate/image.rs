//! One rule's images: each verified once per `verifyImages` entry, its
//! verdict turned into a status, the digest patched in (mutate phase) and
//! the `required`/`verifyDigest` checks applied (validate phase).

use super::matches_image;
use super::report::{Collected, RuleAcc, RuleReporter};
use crate::decision::RuleStatus;
use crate::digest::Digest;
use crate::engine::verify::Failure;
use crate::engine::verify::{self, Fetcher, Verdict, VerifyCtx};
use crate::engine::{Engine, Phase, Request};
use crate::policy::compiled::{ImageValidation, Verification};
use crate::reference::ImageInfo;
use crate::resource::ExtractedImage;
use serde_json::Value;
use std::collections::BTreeMap;

/// Verifies every matched image against every `verifyImages` entry of the
/// rule, recording per-image results in `acc`.
/// What one rule checks: its entries, the images they match, and the JSON
/// context their conditions read (`Null` when none has conditions).
pub(super) struct RuleChecks<'a> {
    pub entries: &'a [Verification],
    pub images: &'a [(&'a ExtractedImage, &'a ImageInfo)],
    pub context: &'a Value,
}

pub(super) fn verify_rule_images(
    engine: &Engine,
    req: &Request,
    fetcher: &Fetcher,
    reporter: &RuleReporter,
    checks: RuleChecks,
    c: &mut Collected,
) -> RuleAcc {
    let RuleChecks {
        entries,
        images,
        context,
    } = checks;
    let mut acc = RuleAcc::default();
    // One verification per (entry, image), however many containers use the image.
    let mut memo: BTreeMap<(usize, String), (Verdict<Digest>, Vec<String>)> = BTreeMap::new();
    for v in entries {
        for (img, info) in images {
            let canon = info.to_string();
            let skip_message = || {
                format!(
                    "skipping image reference image {canon}, policy {} ruleName {}",
                    reporter.policy_name, reporter.rule.name
                )
            };
            if !matches_image(&v.image_references, info) {
                acc.push(&canon, RuleStatus::Skip, skip_message());
                continue;
            }
            if v.has_checks() && matches_image(&v.skip_image_references, info) {
                let m = skip_message();
                c.warnings.push(m.clone());
                acc.push(&canon, RuleStatus::Skip, m);
                reporter.record(c, &canon, RuleStatus::Skip);
                continue;
            }
            // Digest mutation (planned in the mutating phase; the validating
            // webhook sees the object after it).
            let mutates = v.mutate_digest && info.digest.is_empty() && req.phase != Phase::Validate;
            if !v.has_checks() && !mutates {
                // Nothing to verify or resolve: Kyverno reads no registry
                // here, and neither do we (an unreachable one must not
                // decide a `verifyDigest`/`required` check).
                validate_phase(v, &canon, !info.digest.is_empty(), &mut acc);
                continue;
            }
            let (verdict, verified_by) = memo
                .entry((v.index, canon.clone()))
                .or_insert_with(|| verify_image(engine, req, fetcher, v, info, context))
                .clone();
            let Some((status, message, digest)) =
                image_status(v, &reporter.rule.name, &canon, info, verdict)
            else {
                c.pending = true;
                continue;
            };
            // The post-mutation canonical name. The validating webhook sees
            // the object after mutation: a digest it lacks there was never
            // patched in.
            let mut final_canon = canon.clone();
            let mut has_digest = !info.digest.is_empty();
            if let Some(d) = &digest
                && mutates
            {
                c.digest_patches.insert(
                    img.pointer.clone(),
                    format!("{}@{d}", info.reference_with_tag()),
                );
                final_canon = format!("{}@{d}", info.repository_reference());
                has_digest = true;
            }
            // Without checks or a mutation, only the validate phase speaks.
            if v.has_checks() || mutates || status != RuleStatus::Pass {
                let by = match status {
                    RuleStatus::Pass => verified_by,
                    _ => Vec::new(),
                };
                acc.push_verified(&final_canon, status, message, by);
            }
            if v.has_checks() {
                reporter.record(c, &final_canon, status);
            }
            if matches!(status, RuleStatus::Pass | RuleStatus::Skip) {
                validate_phase(v, &final_canon, has_digest, &mut acc);
            }
        }
    }
    acc
}

/// The image's digest (given, or resolved from its tag) and, when the entry
/// has attestors and attestations, their verdict. Attestations are fetched
/// in the same rounds as signatures, but a signature failure decides first.
/// With the verdict, the attestor entries whose signatures verified.
fn verify_image(
    engine: &Engine,
    req: &Request,
    fetcher: &Fetcher,
    v: &Verification,
    info: &ImageInfo,
    rule_context: &Value,
) -> (Verdict<Digest>, Vec<String>) {
    let d = match verify::resolve_digest(fetcher, info, &v.access) {
        Verdict::Ok(d) if v.has_checks() => d,
        other => return (other, Vec::new()),
    };
    let image_context = match rule_context.is_null() {
        true => Value::Null,
        false => super::context::with_image(rule_context, info),
    };
    let ctx = VerifyCtx {
        fetcher,
        image: info,
        digest: &d,
        verification: v,
        trust: &engine.trust,
        root_id: "",
        now: req
            .now
            .as_deref()
            .and_then(crate::sigstore::trusted_root::parse_rfc3339),
        context: &image_context,
        verified_by: Default::default(),
    };
    let verdict = verify_image_with(&ctx, v);
    (verdict, ctx.verified_by.take())
}

fn verify_image_with(ctx: &VerifyCtx, v: &Verification) -> Verdict<Digest> {
    let d = ctx.digest;
    let signatures = match v.attestors.is_empty() {
        true => Verdict::Ok(d.clone()),
        false => verify::verify_attestors(ctx),
    };
    let attestations = match v.attestations.is_empty() {
        true => Verdict::Ok(Vec::new()),
        false => verify::verify_attestations(ctx),
    };
    let (digest, named) = match (signatures, attestations) {
        (Verdict::Ok(digest), Verdict::Ok(named)) => (digest, named),
        (Verdict::Ok(_), Verdict::Fail(f)) => return Verdict::Fail(f),
        (Verdict::Ok(_), Verdict::Error(f)) => return Verdict::Error(f),
        (Verdict::Ok(_), Verdict::Pending) => return Verdict::Pending,
        (other, _) => return other,
    };
    match &v.validate {
        None => Verdict::Ok(digest),
        Some(validation) => match deny(validation, ctx.context, named, ctx.now) {
            Ok(()) => Verdict::Ok(digest),
            Err(f) => Verdict::Fail(f),
        },
    }
}

/// `validate.deny`: the image is denied when the conditions hold, read
/// against the image's context with the named attestations' predicates.
fn deny(
    validation: &ImageValidation,
    image_context: &Value,
    named: Vec<(String, Value)>,
    now: Option<i64>,
) -> Result<(), Failure> {
    let mut context = image_context.clone();
    if let Some(o) = context.as_object_mut() {
        for (name, predicate) in named {
            o.insert(name, predicate);
        }
    }
    let outcome = validation
        .deny
        .evaluate(&context, now)
        .map_err(|e| Failure::Deny(format!("failed to check deny conditions: {e}")))?;
    if !outcome.holds {
        return Ok(());
    }
    if validation.message.is_empty() && outcome.message.is_empty() {
        return Err(Failure::Deny(
            "validation error: imageVerify  failed".into(),
        ));
    }
    let joined = [validation.message.as_str(), outcome.message.as_str()]
        .iter()
        .filter(|m| !m.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("; ");
    // Variables in the message, as Kyverno substitutes them (the raw text
    // when they cannot be).
    let mut resolve = crate::conditions::variables::resolve_in(&context, now);
    let message = match crate::conditions::variables::substitute(
        &Value::String(joined.clone()),
        &mut resolve,
    ) {
        Ok(Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => joined,
    };
    Err(Failure::Deny(message))
}

/// A verdict as a rule status with Kyverno's message, and the verified
/// digest; `None` while artifacts are pending.
fn image_status(
    v: &Verification,
    rule: &str,
    canon: &str,
    info: &ImageInfo,
    verdict: Verdict<Digest>,
) -> Option<(RuleStatus, String, Option<Digest>)> {
    let checks = v.has_checks();
    Some(match verdict {
        Verdict::Pending => return None,
        Verdict::Ok(d) if v.validate.is_some() => (
            RuleStatus::Pass,
            format!("verifyImages validation is passed in {rule} rule"),
            Some(d),
        ),
        Verdict::Ok(d) if !v.attestations.is_empty() => (
            RuleStatus::Pass,
            format!(
                "verified image attestations for {}@{d}",
                info.repository_reference()
            ),
            Some(d),
        ),
        Verdict::Ok(d) if checks => (
            RuleStatus::Pass,
            format!("verified image signatures for {canon}"),
            Some(d),
        ),
        Verdict::Fail(
            m @ (Failure::Attestations { .. } | Failure::MissingType(_) | Failure::Deny(_)),
        ) => (RuleStatus::Fail, m.to_string(), None),
        Verdict::Error(m @ Failure::Attestations { .. }) => {
            (RuleStatus::Error, m.to_string(), None)
        }
        Verdict::Ok(d) => (
            RuleStatus::Pass,
            "mutated image digest".to_string(),
            Some(d),
        ),
        Verdict::Fail(m) if checks => (
            RuleStatus::Fail,
            format!("failed to verify image {canon}: {m}"),
            None,
        ),
        Verdict::Error(m) if checks => (
            RuleStatus::Error,
            format!("failed to verify image {canon}: {m}"),
            None,
        ),
        Verdict::Fail(m) => (
            RuleStatus::Fail,
            format!("failed to update digest: {m}"),
            None,
        ),
        Verdict::Error(m) => (
            RuleStatus::Error,
            format!("failed to update digest: {m}"),
            None,
        ),
    })
}

/// `verifyDigest` and `required`, on this evaluation's own results.
fn validate_phase(v: &Verification, image: &str, has_digest: bool, acc: &mut RuleAcc) {
    if v.verify_digest && !has_digest {
        acc.push(
            image,
            RuleStatus::Fail,
            format!("missing digest for {image}"),
        );
    } else if v.required && !v.has_checks() {
        acc.push(image, RuleStatus::Fail, format!("unverified image {image}"));
    } else if !v.has_checks() {
        acc.push(image, RuleStatus::Pass, "image verified".to_string());
    }
}
