//! Deciding and reporting: rule results, what blocks and what warns, the
//! verify-images annotations, digest patches and the final [`Decision`].

use super::Meta;
use crate::decision::{self, Decision, ImageResult, RuleResult, RuleStatus};
use crate::engine::Request;
use crate::policy::compiled::{Action, CompiledPolicy, CompiledRule, FailurePolicy};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Annotation with the flat image → status map.
pub const VERIFY_IMAGES_ANNOTATION: &str = "kyverno.io/verify-images";
/// Annotation with the per-policy, per-rule map.
pub const VERIFY_IMAGES_SCOPED_ANNOTATION: &str = "kyverno.io/verify-images-scoped";

/// Everything one evaluation collects across policies.
#[derive(Default)]
pub(super) struct Collected {
    results: Vec<RuleResult>,
    pub(super) warnings: Vec<String>,
    /// JSON pointer of an image field → the reference with its digest.
    pub(super) digest_patches: BTreeMap<String, String>,
    flat: BTreeMap<String, String>,
    scoped: BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>,
    blocked: BTreeMap<String, BTreeMap<String, String>>,
    /// Image policies' denials (`Policy <name> failed: <msg>`), in order.
    image_policy_denials: Vec<String>,
    /// Some image still waits for artifacts: no decision this round.
    pub(super) pending: bool,
}

/// The per-image results of one rule.
#[derive(Default)]
pub(super) struct RuleAcc {
    images: Vec<ImageResult>,
}

impl RuleAcc {
    pub(super) fn push(&mut self, image: &str, result: RuleStatus, message: String) {
        self.push_verified(image, result, message, Vec::new());
    }

    /// [`RuleAcc::push`] naming the attestors that verified the image.
    pub(super) fn push_verified(
        &mut self,
        image: &str,
        result: RuleStatus,
        message: String,
        verified_by: Vec<String>,
    ) {
        self.images.push(ImageResult {
            image: image.to_string(),
            result,
            message,
            verified_by,
        });
    }

    /// fail > error > pass > skip; the message of the first result of that status.
    fn aggregate(&self) -> Option<(RuleStatus, String)> {
        for want in [RuleStatus::Fail, RuleStatus::Error] {
            if let Some(r) = self.images.iter().find(|r| r.result == want) {
                return Some((want, r.message.clone()));
            }
        }
        let mut passes: Vec<&str> = Vec::new();
        for r in self.images.iter().filter(|r| r.result == RuleStatus::Pass) {
            if !passes.contains(&r.message.as_str()) {
                passes.push(&r.message);
            }
        }
        if !passes.is_empty() {
            return Some((RuleStatus::Pass, passes.join("; ")));
        }
        self.images
            .first()
            .map(|r| (RuleStatus::Skip, r.message.clone()))
    }
}

/// Reports the results of one rule of one policy.
pub(super) struct RuleReporter<'a> {
    pub(super) policy: &'a CompiledPolicy,
    pub(super) rule: &'a CompiledRule,
    /// `namespace/name` or `name`.
    pub(super) policy_name: String,
}

impl RuleReporter<'_> {
    /// Records the rule's result: whether it blocks (an enforced failure, or
    /// an error under `failurePolicy: Fail`) or warns, and its report entry.
    pub(super) fn push(
        &self,
        c: &mut Collected,
        result: RuleStatus,
        message: String,
        images: Vec<ImageResult>,
        action: Action,
    ) {
        let (policy, rule) = (self.policy, self.rule);
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
                .entry(self.policy_name.clone())
                .or_default()
                .insert(rule.name.clone(), message.clone());
        } else if matches!(result, RuleStatus::Fail | RuleStatus::Error) || policy.emit_warning {
            c.warnings.push(format!(
                "policy {}.{}: {message}",
                self.policy_name, rule.name
            ));
        }
        c.results.push(RuleResult {
            policy: self.policy_name.clone(),
            rule: rule.name.clone(),
            result: shown,
            message,
            images,
            scored: policy.scored,
            action: format!("{action:?}"),
            category: policy.category.clone(),
            severity: policy.severity.clone(),
            properties: BTreeMap::new(),
            source: None,
        });
    }

    /// Reports the rule's aggregate over its images; false when no image
    /// gave a result (the rule did not apply).
    pub(super) fn push_aggregate(&self, c: &mut Collected, acc: RuleAcc, action: Action) -> bool {
        match acc.aggregate() {
            Some((status, message)) => {
                self.push(c, status, message, acc.images, action);
                true
            }
            None => false,
        }
    }

    /// Records an image's status in the verify-images annotations.
    pub(super) fn record(&self, c: &mut Collected, image: &str, status: RuleStatus) {
        let w = status_word(status).to_string();
        c.flat.insert(image.to_string(), w.clone());
        c.scoped
            .entry(self.policy.scoped_key())
            .or_default()
            .entry(self.rule.name.clone())
            .or_default()
            .insert(image.to_string(), w);
    }
}

/// The report source of image policies' results.
pub const IMAGE_POLICY_SOURCE: &str = "KyvernoImageValidatingPolicy";

/// One image policy's result, as Kyverno's image-policy handler maps it.
pub(super) struct ImagePolicyResult {
    /// `ns/name` or `name`.
    pub(super) policy: String,
    /// The policy name, or `evaluation` / `match` for those errors.
    pub(super) rule: String,
    pub(super) status: RuleStatus,
    pub(super) message: String,
    /// `auditAnnotations`.
    pub(super) properties: BTreeMap<String, String>,
    pub(super) actions: crate::policy::ivpol::ValidationActions,
}

impl Collected {
    /// Records an image policy's result: with `Deny`, a failure or error
    /// denies (`Policy <name> failed: <msg>` / `error: <msg>`); with `Warn`
    /// the same text is a warning; `Audit` only reports.
    pub(super) fn push_image_policy(&mut self, r: ImagePolicyResult) {
        let verb = match r.status {
            RuleStatus::Fail => Some("failed"),
            RuleStatus::Error => Some("error"),
            _ => None,
        };
        if let Some(verb) = verb {
            let text = format!("Policy {} {verb}: {}", r.policy, r.message);
            if r.actions.warn {
                self.warnings.push(text.clone());
            }
            if r.actions.deny {
                self.image_policy_denials.push(text);
            }
        }
        let action = [
            (r.actions.deny, "Deny"),
            (r.actions.warn, "Warn"),
            (r.actions.audit, "Audit"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, a)| *a)
        .collect::<Vec<_>>()
        .join(",");
        self.results.push(RuleResult {
            policy: r.policy,
            rule: r.rule,
            result: r.status,
            message: r.message,
            images: Vec::new(),
            scored: true,
            action,
            category: None,
            severity: None,
            properties: r.properties,
            source: Some(IMAGE_POLICY_SOURCE.to_string()),
        });
    }
}

fn status_word(s: RuleStatus) -> &'static str {
    match s {
        RuleStatus::Pass => "pass",
        RuleStatus::Skip | RuleStatus::Warn => "skip",
        RuleStatus::Fail | RuleStatus::Error => "fail",
    }
}

/// The rule's `reportProperties` message for the status, or `message`.
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

/// The decision: denied with Kyverno's message when any rule blocked;
/// otherwise the annotations and digest patches.
pub(super) fn finish(req: &Request, meta: &Meta, c: Collected) -> Decision {
    let allowed = c.blocked.is_empty() && c.image_policy_denials.is_empty();
    let mut denials = Vec::new();
    if !c.blocked.is_empty() {
        denials.push(decision::blocked_message(
            &meta.kind,
            &meta.namespace,
            &meta.name,
            &c.blocked,
        ));
    }
    // Kyverno combines image policies' denials with multierr: "; ".
    if !c.image_policy_denials.is_empty() {
        denials.push(c.image_policy_denials.join("; "));
    }
    let message = denials.join("\n");
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
