//! Image policies (`ImageValidatingPolicy`, `NamespacedImageValidatingPolicy`)
//! evaluated against a request, after the ClusterPolicies and with the same
//! fetcher, in Kyverno's order: `matchConstraints`, `matchConditions`,
//! images extracted and selected, `verifyDigest`, the images' manifests,
//! `validations`, `auditAnnotations`; then, across all policies, the
//! `required` check.
//!
//! - [`request`]: the resource, CEL `request`, `matchConstraints`;
//! - [`images`]: the built-in and custom image extractors;
//! - [`host`]: the functions answered from the registry and verifiers.
//!
//! Phases: the validating webhook (and the CLI) evaluate validations on
//! the object as it is, as Kyverno does; `mutateDigest` patches are
//! planned in the mutating phase only.

mod host;
mod images;
mod request;

use super::super::verify::{self, Fetcher, Got, Verdict};
use super::Meta;
use super::report::{Collected, ImagePolicyResult};
use crate::cel::Value;
use crate::cel::kyverno::image_ref::{Identifier, ImageRef};
use crate::cel::value::{Key, Map};
use crate::decision::RuleStatus;
use crate::engine::store::{Fetch, FetchKind};
use crate::engine::{Engine, Phase, Request};
use crate::policy::compiled::FailurePolicy;
use crate::policy::ivpol::env::names;
use crate::policy::ivpol::{
    CompiledImagePolicy, EvaluationMode, ImagePolicyException, ImagePolicyKind,
};
use crate::reference::ImageInfo;
use host::{PolicyHost, VerificationRecords};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

/// A policy that passed, for the `required` check.
struct Passed {
    result: ImagePolicyResult,
    /// The images it selected, as written.
    images: Vec<String>,
    required: bool,
}

/// Evaluates every image policy and records their results in `c`.
pub(super) fn evaluate(
    engine: &Engine,
    req: &Request,
    fetcher: &Fetcher,
    meta: &Meta,
    c: &mut Collected,
) {
    if engine.image_policies().is_empty() {
        return;
    }
    let mut records = VerificationRecords::default();
    let mut passed = Vec::new();
    // The request as CEL values, made once for all the policies that match.
    let mut base: Option<Rc<BTreeMap<String, Value>>> = None;
    let resource = request::resource_of(req, meta);
    let now = req
        .now
        .as_deref()
        .and_then(crate::sigstore::trusted_root::parse_rfc3339);
    for policy in engine.image_policies() {
        // A JSON payload is for JSON-mode policies only, and admissions
        // for the others (as Kyverno's CLI and webhook choose them).
        let json = policy.mode == EvaluationMode::Json;
        let enabled = match req.background {
            true => policy.background,
            false => policy.admission,
        };
        if json != req.json_payload || (!json && !enabled) {
            continue;
        }
        if !json
            && policy.kind == ImagePolicyKind::Namespaced
            && policy.namespace.as_deref() != Some(meta.namespace.as_str())
        {
            continue;
        }
        if !json
            && !request::matches_constraints(
                policy.match_constraints.as_ref(),
                req,
                meta,
                &resource,
            )
        {
            continue;
        }
        let mut host = PolicyHost::new(engine, fetcher, policy, now, &mut records);
        host.global_mocks = req.global_context.as_ref();
        host.globals = base
            .get_or_insert_with(|| Rc::new(base_globals(req, meta, &resource)))
            .clone();
        if req.phase == Phase::Mutate && !json {
            mutate_digests(&mut host, req, meta, c);
            continue;
        }
        let outcome = evaluate_policy(&mut host, req, &resource);
        if host.pending {
            c.pending = true;
            continue;
        }
        match outcome {
            Outcome::NotMatched => {}
            Outcome::Passed { result, images } => passed.push(Passed {
                result,
                images,
                required: policy.required,
            }),
            Outcome::Result(r) => c.push_image_policy(r),
        }
    }
    for mut p in passed {
        if p.required
            && let Some(message) = required_failure(&p.images, &records.verified)
        {
            p.result.status = RuleStatus::Fail;
            p.result.message = message;
        }
        c.push_image_policy(p.result);
    }
}

/// Kyverno's `EnforceRequired`: every image the policy selected must have
/// been verified by some policy's verify call in this request.
fn required_failure(images: &[String], records: &BTreeMap<String, bool>) -> Option<String> {
    images.iter().find_map(|image| match records.get(image) {
        Some(true) => None,
        Some(false) => Some(format!(
            "image {image} failed signature or attestation verification"
        )),
        None => Some(format!(
            "image {image} is not verified: no policy performed a signature or attestation check on it"
        )),
    })
}

enum Outcome {
    NotMatched,
    Passed {
        result: ImagePolicyResult,
        images: Vec<String>,
    },
    Result(ImagePolicyResult),
}

fn result(
    policy: &CompiledImagePolicy,
    rule: &str,
    status: RuleStatus,
    message: String,
) -> ImagePolicyResult {
    ImagePolicyResult {
        policy: policy.report_name(),
        rule: rule.to_string(),
        status,
        message,
        properties: BTreeMap::new(),
        actions: policy.actions,
    }
}

/// `failed to evaluate policy: <err>` under the rule name `evaluation`.
fn evaluation_error(policy: &CompiledImagePolicy, err: impl std::fmt::Display) -> Outcome {
    Outcome::Result(result(
        policy,
        "evaluation",
        RuleStatus::Error,
        format!("failed to evaluate policy: {err}"),
    ))
}

fn string_key(s: &str) -> Key {
    Key::String(s.into())
}

/// The variables every expression of the policy sees, before `images`.
fn base_globals(
    req: &Request,
    meta: &Meta,
    resource: &request::Resource,
) -> BTreeMap<String, Value> {
    let mut g = BTreeMap::new();
    // A JSON payload's policies see `object` only.
    if req.json_payload {
        g.insert(names::OBJECT.to_string(), Value::from_json(&req.object));
        return g;
    }
    g.insert(
        names::OBJECT.to_string(),
        Value::from_json(&request::object_or_null(req)),
    );
    g.insert(
        names::OLD_OBJECT.to_string(),
        req.old_object
            .as_ref()
            .map(Value::from_json)
            .unwrap_or(Value::Null),
    );
    g.insert(
        names::REQUEST.to_string(),
        Value::from_json(&request::request_value(req, meta, resource)),
    );
    g.insert(
        names::NAMESPACE_OBJECT.to_string(),
        Value::from_json(&request::namespace_object(req, meta)),
    );
    g
}

/// The policy's `matchConditions` (Kyverno's `match`).
fn match_conditions(host: &mut PolicyHost) -> Result<bool, String> {
    let policy = host.policy;
    let env = policy.env.policy.clone();
    conditions_hold(host, &env, &policy.match_conditions)
}

/// The keys of the CEL exceptions that exempt the request from the policy
/// (their conditions judged as the policy's are).
fn exempting(
    host: &mut PolicyHost,
    exceptions: &[ImagePolicyException],
) -> Result<Vec<String>, String> {
    let mut keys = Vec::new();
    for e in exceptions.iter().filter(|e| e.names(host.policy)) {
        if conditions_hold(host, &e.env, &e.match_conditions)? {
            keys.push(e.key.clone());
        }
    }
    Ok(keys)
}

/// Match conditions: the first false one unmatches; errors (when none is
/// false) unmatch under `failurePolicy: Ignore` and are an evaluation
/// error otherwise.
fn conditions_hold(
    host: &mut PolicyHost,
    env: &crate::cel::Env,
    conditions: &[crate::policy::ivpol::NamedProgram],
) -> Result<bool, String> {
    let mut errors = Vec::new();
    for condition in conditions {
        match host.eval_in(env, &condition.program) {
            Ok(Value::Bool(true)) => {}
            Ok(Value::Bool(false)) => return Ok(false),
            Ok(v) => errors.push(format!(
                "matchCondition {}: expected bool, got {}",
                condition.name,
                v.type_name()
            )),
            Err(e) => errors.push(format!("matchCondition {}: {e}", condition.name)),
        }
    }
    if errors.is_empty() {
        return Ok(true);
    }
    match host.policy.failure_policy {
        FailurePolicy::Ignore => Ok(false),
        FailurePolicy::Fail => Err(errors.join("; ")),
    }
}

/// One policy's outcome; `host.globals` holds the request's variables.
fn evaluate_policy(host: &mut PolicyHost, req: &Request, resource: &request::Resource) -> Outcome {
    let policy = host.policy;
    match match_conditions(host) {
        Ok(true) => {}
        Ok(false) => return Outcome::NotMatched,
        Err(e) => return evaluation_error(policy, e),
    }
    match exempting(host, &host.engine.image_policy_exceptions) {
        Ok(keys) if keys.is_empty() => {}
        Ok(keys) => {
            let mut r = result(
                policy,
                "exception",
                RuleStatus::Skip,
                format!(
                    "rule is skipped due to policy exception: {}",
                    keys.join(", ")
                ),
            );
            r.properties.insert("exceptions".into(), keys.join(","));
            return Outcome::Result(r);
        }
        Err(e) => return evaluation_error(policy, e),
    }
    // A JSON payload has no built-in extractors: `images[]` only.
    let resource = (!req.json_payload).then_some(resource);
    let extracted = match images::extract(host, request::subject(req), resource) {
        Ok(e) => e,
        Err(e) => return evaluation_error(policy, e),
    };
    // Keep only the selected images, by their raw string.
    let mut selected: Vec<(String, Vec<String>)> = Vec::new();
    let mut matched = Vec::new();
    for (category, list) in extracted {
        let mut kept = Vec::new();
        for image in list {
            match host.image_selected(&image) {
                Ok(true) => {
                    matched.push(image.clone());
                    kept.push(image);
                }
                Ok(false) => {}
                Err(e) => return evaluation_error(policy, e),
            }
        }
        selected.push((category, kept));
    }
    if policy.verify_digest {
        for image in &matched {
            match ImageRef::parse(image) {
                Err(e) => {
                    return evaluation_error(
                        policy,
                        format!("failed to parse image reference {image}: {e}"),
                    );
                }
                Ok(r) if !matches!(r.identifier, Identifier::Digest(_)) => {
                    return Outcome::Result(result(
                        policy,
                        &policy.name,
                        RuleStatus::Fail,
                        format!("image {image} does not have a digest"),
                    ));
                }
                Ok(_) => {}
            }
        }
    }
    // Kyverno loads every selected image's manifest first: an image that
    // cannot be read is an evaluation error.
    for image in &matched {
        let info = match ImageInfo::parse(image, &host.engine.normalize) {
            Ok(i) => i,
            Err(e) => {
                return evaluation_error(
                    policy,
                    format!("failed to parse image reference {image}: {e}"),
                );
            }
        };
        let digest = match verify::resolve_digest(host.fetcher, &info, &policy.access) {
            Verdict::Ok(d) => d,
            Verdict::Pending => {
                host.pending = true;
                continue;
            }
            Verdict::Fail(f) | Verdict::Error(f) => return evaluation_error(policy, f),
        };
        // A digest resolved from a tag came from the manifest's bytes; one
        // written in the reference is read too: it must exist.
        if info.parsed_digest().is_none() {
            continue;
        }
        let manifest = Fetch::by_digest(FetchKind::Manifest, &info.registry, &info.path, &digest)
            .with_access(&policy.access);
        match host.fetcher.get(manifest) {
            Got::Bytes(_) => {}
            Got::Pending => host.pending = true,
            Got::Failed(_, reason) => {
                return evaluation_error(policy, format!("failed to read image {image}: {reason}"));
            }
        }
    }
    let mut globals = (*host.globals).clone();
    let mut image_map = Map::new();
    for (category, list) in &selected {
        image_map.insert(
            string_key(category),
            Value::list(list.iter().map(|s| Value::string(s.as_str())).collect()),
        );
    }
    globals.insert(names::IMAGES.to_string(), Value::Map(Arc::new(image_map)));
    globals.insert(names::ATTESTORS.to_string(), host::attestors_value(policy));
    globals.insert(
        names::ATTESTATIONS.to_string(),
        host::attestations_value(policy),
    );
    host.globals = Rc::new(globals);
    for (index, validation) in policy.validations.iter().enumerate() {
        match host.eval(&validation.expression) {
            Ok(Value::Bool(true)) => {}
            Ok(Value::Bool(false)) => {
                let message = match &validation.message_expression {
                    Some(p) => match host.eval(p) {
                        Ok(Value::String(s)) => s.to_string(),
                        Ok(v) => format!(
                            "failed to convert message expression to string: got {}",
                            v.type_name()
                        ),
                        Err(e) => format!("failed to evaluate message expression: {e}"),
                    },
                    None => validation.message.clone().unwrap_or_default(),
                };
                let message = if message.is_empty() {
                    format!("CEL expression validation failed at index {index}")
                } else {
                    message
                };
                let mut r = result(policy, &policy.name, RuleStatus::Fail, message);
                match audit_annotations(host) {
                    Ok(p) => r.properties = p,
                    Err(e) => return evaluation_error(policy, e),
                }
                return Outcome::Result(r);
            }
            Ok(v) => {
                return Outcome::Result(result(
                    policy,
                    &policy.name,
                    RuleStatus::Error,
                    format!(
                        "error: validation {index} returned {}, not bool",
                        v.type_name()
                    ),
                ));
            }
            Err(e) => return evaluation_error(policy, e),
        }
    }
    let mut r = result(policy, &policy.name, RuleStatus::Pass, "success".into());
    match audit_annotations(host) {
        Ok(p) => r.properties = p,
        Err(e) => return evaluation_error(policy, e),
    }
    Outcome::Passed {
        result: r,
        images: matched,
    }
}

/// `auditAnnotations`: key → string value (an empty or null one omitted).
fn audit_annotations(host: &mut PolicyHost) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for a in &host.policy.audit_annotations {
        match host.eval(&a.program) {
            Ok(Value::String(s)) if !s.is_empty() => {
                out.insert(a.name.clone(), s.to_string());
            }
            Ok(Value::String(_) | Value::Null) => {}
            Ok(v) => {
                return Err(format!(
                    "failed to convert auditAnnotation '{}' expression: got {}",
                    a.name,
                    v.type_name()
                ));
            }
            Err(e) => {
                return Err(format!(
                    "failed to evaluate auditAnnotation '{}': {e}",
                    a.name
                ));
            }
        }
    }
    Ok(out)
}

/// The mutating phase: each selected image without a digest is pinned to
/// the digest its tag resolves to (first policy wins a path).
fn mutate_digests(host: &mut PolicyHost, req: &Request, meta: &Meta, c: &mut Collected) {
    let policy = host.policy;
    if !policy.mutate_digest {
        return;
    }
    match match_conditions(host) {
        Ok(true) => {}
        Ok(false) | Err(_) => return,
    }
    if !matches!(exempting(host, &host.engine.image_policy_exceptions), Ok(k) if k.is_empty()) {
        return;
    }
    let Ok(extracted) =
        crate::resource::extract_images(&req.object, &meta.kind, None, &host.engine.normalize)
    else {
        return;
    };
    let mut errors = Vec::new();
    let mut patches = Vec::new();
    for image in extracted {
        let Ok(info) = &image.info else { continue };
        if !info.digest.is_empty() {
            continue;
        }
        let normalised = info.to_string();
        match host.image_selected(&normalised) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                errors.push(e);
                continue;
            }
        }
        match verify::resolve_digest(host.fetcher, info, &policy.access) {
            Verdict::Ok(d) => patches.push((image.pointer.clone(), format!("{normalised}@{d}"))),
            Verdict::Pending => host.pending = true,
            Verdict::Fail(f) | Verdict::Error(f) => errors.push(format!(
                "failed to resolve digest for image {normalised}: {f}"
            )),
        }
    }
    if host.pending {
        c.pending = true;
        return;
    }
    for (pointer, value) in patches {
        c.digest_patches.entry(pointer).or_insert(value);
    }
    if !errors.is_empty() {
        c.push_image_policy(result(
            policy,
            "mutateDigest",
            RuleStatus::Error,
            format!("failed to update digest: {}", errors.join("; ")),
        ));
    }
}
