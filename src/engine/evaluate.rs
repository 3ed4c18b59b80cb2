//! One evaluation round: match rules, extract and verify images, then build
//! the decision (results, patches, annotations, warnings, allow/deny).

use super::verify::{self, Fetcher, Verdict, VerifyCtx};
use super::{Engine, Outcome, Request};
use crate::decision::{self, Decision, ImageResult, RuleResult, RuleStatus};
use crate::digest::Digest;
use crate::policy::compiled::{
    Action, CompiledPolicy, CompiledRule, FailurePolicy, RuleBody, Verification,
};
use crate::policy::matching::{self, MatchTarget};
use crate::reference::ImageInfo;
use crate::resource::{self, ExtractedImage};
use crate::wildcard;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Annotation with the flat image → status map.
pub const VERIFY_IMAGES_ANNOTATION: &str = "kyverno.io/verify-images";
/// Annotation with the per-policy, per-rule map.
pub const VERIFY_IMAGES_SCOPED_ANNOTATION: &str = "kyverno.io/verify-images-scoped";

struct Meta {
    group: String,
    version: String,
    kind: String,
    name: String,
    namespace: String,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn meta_of(obj: &Value) -> Meta {
    let api = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let (group, version) = match api.split_once('/') {
        Some((g, v)) => (g.to_string(), v.to_string()),
        None => (String::new(), api.to_string()),
    };
    let md = obj.get("metadata");
    let s = |k: &str| {
        md.and_then(|m| m.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let name = match s("name") {
        n if n.is_empty() => s("generateName"),
        n => n,
    };
    Meta {
        group,
        version,
        kind: obj
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        name,
        namespace: s("namespace"),
        labels: string_map(md.and_then(|m| m.get("labels"))),
        annotations: string_map(md.and_then(|m| m.get("annotations"))),
    }
}

/// Per-rule accumulation.
struct RuleAcc {
    images: Vec<ImageResult>,
}

impl RuleAcc {
    fn push(&mut self, image: &str, result: RuleStatus, message: String) {
        self.images.push(ImageResult {
            image: image.to_string(),
            result,
            message,
        });
    }

    /// fail > error > pass > skip; the message of the first result of that status.
    fn aggregate(&self) -> Option<(RuleStatus, String)> {
        for want in [RuleStatus::Fail, RuleStatus::Error] {
            if let Some(r) = self.images.iter().find(|r| r.result == want) {
                return Some((want, r.message.clone()));
            }
        }
        let passes: Vec<&str> = self
            .images
            .iter()
            .filter(|r| r.result == RuleStatus::Pass)
            .map(|r| r.message.as_str())
            .collect();
        if !passes.is_empty() {
            let mut uniq: Vec<&str> = Vec::new();
            for p in passes {
                if !uniq.contains(&p) {
                    uniq.push(p);
                }
            }
            return Some((RuleStatus::Pass, uniq.join("; ")));
        }
        self.images
            .first()
            .map(|r| (RuleStatus::Skip, r.message.clone()))
    }
}

fn rule_action(
    policy: &CompiledPolicy,
    vs: &[Verification],
    meta: &Meta,
    ns_labels: Option<&BTreeMap<String, String>>,
) -> Action {
    if vs.iter().any(|v| v.failure_action == Some(Action::Enforce)) {
        return Action::Enforce;
    }
    if let Some(a) = vs.iter().find_map(|v| v.failure_action) {
        return a;
    }
    for o in &policy.overrides {
        let ns_ok = o
            .namespaces
            .as_ref()
            .is_none_or(|n| wildcard::matches_any(n, &meta.namespace));
        let sel_ok = o
            .namespace_selector
            .as_ref()
            .is_none_or(|s| ns_labels.is_some_and(|l| matching::selector_matches(s, l, false)));
        if ns_ok && sel_ok {
            return o.action;
        }
    }
    policy.action
}

fn status_word(s: RuleStatus) -> &'static str {
    match s {
        RuleStatus::Pass => "pass",
        RuleStatus::Skip | RuleStatus::Warn => "skip",
        RuleStatus::Fail | RuleStatus::Error => "fail",
    }
}

/// Everything one evaluation collects across policies.
#[derive(Default)]
struct Collected {
    results: Vec<RuleResult>,
    warnings: Vec<String>,
    digest_patches: BTreeMap<String, String>,
    flat: BTreeMap<String, String>,
    scoped: BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>,
    blocked: BTreeMap<String, BTreeMap<String, String>>,
    pending: bool,
}

pub(super) fn evaluate(
    engine: &Engine,
    req: &Request,
    store: &super::Store,
    work: &super::work::Work,
) -> Outcome {
    let fetcher = Fetcher::new(store, work);
    let meta = meta_of(&req.object);
    let mut c = Collected::default();
    if req.operation != "DELETE" {
        for policy in &engine.policies {
            if let Some(ns) = &policy.namespace
                && *ns != meta.namespace
            {
                continue;
            }
            for rule in &policy.rules {
                let responded = evaluate_rule(engine, req, &fetcher, &meta, policy, rule, &mut c);
                if responded && policy.apply_one {
                    break;
                }
            }
        }
    }
    if c.pending {
        return Outcome::NeedArtifacts {
            fetches: fetcher.into_needs(),
        };
    }
    Outcome::Decision {
        decision: finish(req, &meta, c),
    }
}

#[allow(clippy::too_many_arguments)]
fn evaluate_rule(
    engine: &Engine,
    req: &Request,
    fetcher: &Fetcher,
    meta: &Meta,
    policy: &CompiledPolicy,
    rule: &CompiledRule,
    c: &mut Collected,
) -> bool {
    let target = MatchTarget {
        group: &meta.group,
        version: &meta.version,
        kind: &meta.kind,
        name: &meta.name,
        namespace: &meta.namespace,
        labels: &meta.labels,
        annotations: &meta.annotations,
        operation: &req.operation,
        namespace_labels: req.namespace_labels.as_ref(),
        user: req.user_info.as_ref(),
    };
    if !matching::matches_block(&rule.match_resources, &target) {
        return false;
    }
    if rule
        .exclude
        .as_ref()
        .is_some_and(|e| matching::excluded_by(e, &target))
    {
        return false;
    }
    let policy_name = policy.report_name();
    let push_result = |c: &mut Collected,
                       result: RuleStatus,
                       message: String,
                       images: Vec<ImageResult>,
                       action: Action| {
        let shown = if result == RuleStatus::Fail && !policy.scored {
            RuleStatus::Warn
        } else {
            result
        };
        let message = report_message(rule, shown, message);
        let blocks = (result == RuleStatus::Fail && action == Action::Enforce)
            || (result == RuleStatus::Error && policy.failure_policy == FailurePolicy::Fail);
        if blocks {
            c.blocked
                .entry(policy_name.clone())
                .or_default()
                .insert(rule.name.clone(), message.clone());
        } else if matches!(result, RuleStatus::Fail | RuleStatus::Error) || policy.emit_warning {
            c.warnings
                .push(format!("policy {policy_name}.{}: {message}", rule.name));
        }
        c.results.push(RuleResult {
            policy: policy_name.clone(),
            rule: rule.name.clone(),
            result: shown,
            message,
            images,
            scored: policy.scored,
            action: format!("{action:?}"),
            category: policy.category.clone(),
            severity: policy.severity.clone(),
        });
    };
    let vs = match &rule.body {
        RuleBody::Other(t) => {
            push_result(
                c,
                RuleStatus::Skip,
                format!(
                    "{t} rules are not evaluated by imgverify, which enforces verifyImages rules only; skipped"
                ),
                Vec::new(),
                policy.action,
            );
            return true;
        }
        RuleBody::VerifyImages(vs) => vs,
    };
    let action = rule_action(policy, vs, meta, req.namespace_labels.as_ref());
    let images = match resource::extract_images(
        &req.object,
        &meta.kind,
        rule.image_extractors.as_ref(),
        &engine.normalize,
    ) {
        Ok(i) => i,
        Err(e) => {
            // The resource caused it: a verification failure, never forgiven by failurePolicy.
            push_result(c, RuleStatus::Fail, e.to_string(), Vec::new(), action);
            return true;
        }
    };
    // Images matching the union of the entries' imageReferences.
    let mut collected: Vec<(&ExtractedImage, &ImageInfo)> = Vec::new();
    for img in &images {
        match &img.info {
            Ok(info) => {
                if vs.iter().any(|v| matches_image(&v.image_references, info)) {
                    collected.push((img, info));
                }
            }
            Err(e) => {
                // An image that cannot be parsed cannot be checked: it fails, named.
                push_result(
                    c,
                    RuleStatus::Fail,
                    format!("invalid image '{}' ({e})", img.value),
                    Vec::new(),
                    action,
                );
                return true;
            }
        }
    }
    if collected.is_empty() {
        return false;
    }
    if !rule.unsupported.is_empty() {
        // Not a transport failure: failurePolicy Ignore must not wave it through.
        push_result(
            c,
            RuleStatus::Fail,
            format!(
                "rule uses {}, which this imgverify version does not evaluate; failing closed",
                rule.unsupported.join(", ")
            ),
            Vec::new(),
            action,
        );
        return true;
    }
    let mut acc = RuleAcc { images: Vec::new() };
    // One verification per (entry, image), however many containers use the image.
    let mut memo: BTreeMap<(usize, String), Verdict<Digest>> = BTreeMap::new();
    for v in vs {
        for (img, info) in &collected {
            let canon = info.to_string();
            let skip_message = || {
                format!(
                    "skipping image reference image {canon}, policy {policy_name} ruleName {}",
                    rule.name
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
                record(c, policy, rule, &canon, RuleStatus::Skip);
                continue;
            }
            // Digest: given, or resolved from the tag.
            let verdict = memo
                .entry((v.index, canon.clone()))
                .or_insert_with(|| match verify::resolve_digest(fetcher, info, &v.access) {
                    Verdict::Ok(d) if v.has_checks() => verify::verify_attestors(&VerifyCtx {
                        fetcher,
                        image: info,
                        digest: &d,
                        verification: v,
                        engine_tlog_keys: &engine.tlog_keys,
                    }),
                    other => other,
                })
                .clone();
            let (status, message, digest) = match verdict {
                Verdict::Pending => {
                    c.pending = true;
                    continue;
                }
                Verdict::Ok(d) if v.has_checks() => (
                    RuleStatus::Pass,
                    format!("verified image signatures for {canon}"),
                    Some(d),
                ),
                Verdict::Ok(d) => (
                    RuleStatus::Pass,
                    "mutated image digest".to_string(),
                    Some(d),
                ),
                Verdict::Fail(m) if v.has_checks() => (
                    RuleStatus::Fail,
                    format!("failed to verify image {canon}: {m}"),
                    None,
                ),
                Verdict::Error(m) if v.has_checks() => (
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
            };
            // Digest mutation and the post-mutation canonical name.
            let mut final_canon = canon.clone();
            let mut has_digest = !info.digest.is_empty();
            // The validating webhook sees the object after mutation: a digest
            // it lacks there was never patched in.
            let mutates = req.phase != super::Phase::Validate;
            if let Some(d) = &digest
                && v.mutate_digest
                && info.digest.is_empty()
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
            let mutated = v.mutate_digest && info.digest.is_empty() && mutates;
            if v.has_checks() || mutated || status != RuleStatus::Pass {
                acc.push(&final_canon, status, message.clone());
            }
            if v.has_checks() {
                record(c, policy, rule, &final_canon, status);
            }
            // Validate phase (required / verifyDigest), on this evaluation's own results.
            if status == RuleStatus::Pass || status == RuleStatus::Skip {
                if v.verify_digest && !has_digest {
                    acc.push(
                        &final_canon,
                        RuleStatus::Fail,
                        format!("missing digest for {final_canon}"),
                    );
                } else if v.required && !v.has_checks() {
                    acc.push(
                        &final_canon,
                        RuleStatus::Fail,
                        format!("unverified image {final_canon}"),
                    );
                } else if !v.has_checks() {
                    acc.push(&final_canon, RuleStatus::Pass, "image verified".to_string());
                }
            }
        }
    }
    if let Some((status, message)) = acc.aggregate() {
        push_result(c, status, message, acc.images, action);
        true
    } else {
        false
    }
}

/// Whether any pattern matches any canonical spelling of the image.
fn matches_image(patterns: &[String], info: &ImageInfo) -> bool {
    info.match_names()
        .iter()
        .any(|name| wildcard::matches_any(patterns, name))
}

fn record(
    c: &mut Collected,
    policy: &CompiledPolicy,
    rule: &CompiledRule,
    image: &str,
    status: RuleStatus,
) {
    let w = status_word(status).to_string();
    c.flat.insert(image.to_string(), w.clone());
    c.scoped
        .entry(policy.scoped_key())
        .or_default()
        .entry(rule.name.clone())
        .or_default()
        .insert(image.to_string(), w);
}

fn report_message(rule: &CompiledRule, status: RuleStatus, message: String) -> String {
    let key = match status {
        RuleStatus::Pass => "passMessage",
        RuleStatus::Fail => "failMessage",
        RuleStatus::Warn => "warnMessage",
        RuleStatus::Error => "errorMessage",
        RuleStatus::Skip => "skipMessage",
    };
    rule.report_properties
        .get(key)
        .or_else(|| rule.report_properties.get("message"))
        .cloned()
        .unwrap_or(message)
}

fn escape_pointer(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

fn finish(req: &Request, meta: &Meta, c: Collected) -> Decision {
    let allowed = c.blocked.is_empty();
    let message = if allowed {
        String::new()
    } else {
        decision::blocked_message(&meta.kind, &meta.namespace, &meta.name, &c.blocked)
    };
    let mut patches = Vec::new();
    if allowed {
        if !c.flat.is_empty() {
            let has_annotations = req
                .object
                .pointer("/metadata/annotations")
                .is_some_and(Value::is_object);
            if !has_annotations {
                patches.push(json!({"op": "add", "path": "/metadata/annotations", "value": {}}));
            }
            let flat = serde_json::to_string(&c.flat).unwrap_or_default();
            let scoped = serde_json::to_string(&json!({"version": 1, "policies": c.scoped}))
                .unwrap_or_default();
            patches.push(json!({"op": "add", "path": format!("/metadata/annotations/{}", escape_pointer(VERIFY_IMAGES_ANNOTATION)), "value": flat}));
            patches.push(json!({"op": "add", "path": format!("/metadata/annotations/{}", escape_pointer(VERIFY_IMAGES_SCOPED_ANNOTATION)), "value": scoped}));
        }
        for (path, value) in &c.digest_patches {
            patches.push(json!({"op": "replace", "path": path, "value": value}));
        }
    }
    let mut warnings = c.warnings;
    warnings.dedup();
    Decision {
        allowed,
        message,
        patches,
        warnings,
        results: c.results,
    }
}
