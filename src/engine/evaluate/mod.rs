//! One evaluation round: match rules, extract and verify images, then build
//! the decision (results, patches, annotations, warnings, allow/deny).
//!
//! - this module: which policies and rules apply, and which images they check;
//! - [`image`]: verifying each image and its status;
//! - [`ivpol`]: image policies (`ImageValidatingPolicy`), after the rules;
//! - [`report`]: rule results, blocking, annotations, patches, the decision.

mod context;
mod exceptions;
mod global_context;
mod image;
mod image_data;
mod ivpol;
mod report;

use super::verify::Fetcher;
use super::{Engine, Outcome, Request};
use crate::decision::RuleStatus;
use crate::policy::compiled::{
    Action, CompiledPolicy, CompiledRule, KeySource, RuleBody, Verification,
};
use crate::policy::matching::{self, MatchTarget};
use crate::reference::ImageInfo;
use crate::resource::{self, ExtractedImage};
use crate::wildcard;
use report::{Collected, RuleReporter};
use serde_json::Value;
use std::collections::BTreeMap;

/// The resource's identity and metadata, as matching reads them.
struct Meta {
    group: String,
    version: String,
    kind: String,
    name: String,
    namespace: String,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
}

/// The string entries of a JSON object (labels, annotations).
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

/// The failure action of a rule: an entry's own `failureAction` (Enforce
/// wins), the policy's overrides by namespace, or the policy's action.
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

/// Evaluates every policy against the request with the artifacts stored so
/// far: a decision, or the fetches still needed.
pub(super) fn evaluate(
    engine: &Engine,
    req: &Request,
    store: &super::Store,
    work: &super::work::Work,
) -> Outcome {
    let meta = meta_of(&req.object);
    let pull = match req.json_payload {
        true => Default::default(),
        false => crate::resource::pull_credentials(&req.object, &meta.kind, &meta.namespace),
    };
    let fetcher = Fetcher::new(store, work, pull);
    let mut c = Collected::default();
    if req.operation != "DELETE" && !req.json_payload {
        for policy in &engine.policies {
            if req.background && !policy.background {
                continue;
            }
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
    ivpol::evaluate(engine, req, &fetcher, &meta, &mut c);
    if c.pending {
        return Outcome::NeedArtifacts {
            fetches: fetcher.into_needs(),
        };
    }
    Outcome::Decision {
        decision: report::finish(req, &meta, c),
    }
}

/// Evaluates one rule; true when it produced a result (for `applyRules: One`).
fn evaluate_rule(
    engine: &Engine,
    req: &Request,
    fetcher: &Fetcher,
    meta: &Meta,
    policy: &CompiledPolicy,
    rule: &CompiledRule,
    c: &mut Collected,
) -> bool {
    if !rule_applies(rule, req, meta) {
        return false;
    }
    let reporter = RuleReporter {
        policy,
        rule,
        policy_name: policy.report_name(),
    };
    let entries = match &rule.body {
        RuleBody::Other(t) => {
            reporter.push(
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
    let action = rule_action(policy, entries, meta, req.namespace_labels.as_ref());
    let extracted = match resource::extract_images(
        &req.object,
        &meta.kind,
        rule.image_extractors.as_ref(),
        &engine.normalize,
    ) {
        Ok(i) => i,
        Err(e) => {
            // The resource caused it: a verification failure, never forgiven by failurePolicy.
            reporter.push(c, RuleStatus::Fail, e.to_string(), Vec::new(), action);
            return true;
        }
    };
    let images = match images_to_check(&extracted, entries) {
        Ok(images) => images,
        Err(message) => {
            // An image that cannot be parsed cannot be checked: it fails, named.
            reporter.push(c, RuleStatus::Fail, message, Vec::new(), action);
            return true;
        }
    };
    if images.is_empty() {
        return false;
    }
    if !rule.unsupported.is_empty() {
        // Not a transport failure: failurePolicy Ignore must not wave it through.
        reporter.push(
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
    // Conditions read the request, the images and the rule's context
    // entries; build that only for rules that have them.
    let needs_context = rule.preconditions.is_some()
        || !rule.context.is_empty()
        || req.values.is_some()
        || entries.iter().any(|v| {
            v.validate.is_some()
                || v.attestations.iter().any(|a| !a.conditions.is_empty())
                || v.key_refs()
                    .iter()
                    .any(|(_, k)| matches!(k, KeySource::Template(_)))
        });
    let mut rule_context = Value::Null;
    if needs_context {
        rule_context = context::rule_context(req, &meta.namespace, &extracted);
        let now = req
            .now
            .as_deref()
            .and_then(crate::sigstore::trusted_root::parse_rfc3339);
        let cli = req
            .values
            .as_ref()
            .map(|v| context::CliValues::of(v, &policy.report_name(), &rule.name, &meta.name));
        if let Some(cli) = &cli {
            context::set_values(&mut rule_context, &cli.before);
        }
        let env = context::LoadEnv {
            fetcher,
            now,
            normalize: &engine.normalize,
            engine,
            global_mocks: req.global_context.as_ref(),
            api_calls: req.allow_api_calls,
        };
        match context::load_entries(&rule.context, &mut rule_context, &env, cli.as_ref()) {
            context::Loaded::Done => {}
            context::Loaded::Pending => {
                c.pending = true;
                return true;
            }
            context::Loaded::Failed { status, message } => {
                reporter.push(
                    c,
                    status,
                    format!("failed to load context: {message}"),
                    Vec::new(),
                    action,
                );
                return true;
            }
        }
        if let Some(p) = &rule.preconditions {
            match p.evaluate(&rule_context, now) {
                Err(e) => {
                    reporter.push(
                        c,
                        RuleStatus::Fail,
                        format!("failed to evaluate preconditions: {e}"),
                        Vec::new(),
                        action,
                    );
                    return true;
                }
                Ok(o) if !o.holds => {
                    let message = match o.message.is_empty() {
                        true => "preconditions not met".to_string(),
                        false => format!("preconditions not met; {}", o.message),
                    };
                    reporter.push(c, RuleStatus::Skip, message, Vec::new(), action);
                    return true;
                }
                Ok(_) => {}
            }
        }
    }
    if !engine.exceptions.is_empty() {
        let build = || context::rule_context(req, &meta.namespace, &extracted);
        let keys =
            exceptions::exempting(engine, policy, rule, req, meta, &mut rule_context, &build);
        if !keys.is_empty() {
            reporter.push(
                c,
                RuleStatus::Skip,
                exceptions::skip_message(&keys),
                Vec::new(),
                action,
            );
            return true;
        }
    }
    let checks = image::RuleChecks {
        entries,
        images: &images,
        context: &rule_context,
    };
    let acc = image::verify_rule_images(engine, req, fetcher, &reporter, checks, c);
    reporter.push_aggregate(c, acc, action)
}

/// Whether the rule's `match` selects the resource and its `exclude` does not.
/// The resource as `match` blocks see it.
fn match_target<'a>(req: &'a Request, meta: &'a Meta) -> MatchTarget<'a> {
    MatchTarget {
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
    }
}

fn rule_applies(rule: &CompiledRule, req: &Request, meta: &Meta) -> bool {
    let target = match_target(req, meta);
    matching::matches_block(&rule.match_resources, &target)
        && !rule
            .exclude
            .as_ref()
            .is_some_and(|e| matching::excluded_by(e, &target))
}

/// The images matching the union of the entries' `imageReferences`, or the
/// failure message of the first image that cannot be parsed.
fn images_to_check<'a>(
    extracted: &'a [ExtractedImage],
    entries: &[Verification],
) -> Result<Vec<(&'a ExtractedImage, &'a ImageInfo)>, String> {
    let mut images = Vec::new();
    for img in extracted {
        match &img.info {
            Ok(info) => {
                if entries
                    .iter()
                    .any(|v| matches_image(&v.image_references, info))
                {
                    images.push((img, info));
                }
            }
            Err(e) => return Err(format!("invalid image '{}' ({e})", img.value)),
        }
    }
    Ok(images)
}

/// Whether any pattern matches any canonical spelling of the image.
fn matches_image(patterns: &[String], info: &ImageInfo) -> bool {
    info.match_names()
        .iter()
        .any(|name| wildcard::matches_any(patterns, name))
}
