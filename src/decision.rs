//! The decision returned to hosts: allow/deny with Kyverno's message,
//! JSON patches, warnings and per-rule results (PolicyReport-shaped).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Result of a rule, as in PolicyReports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleStatus {
    /// Verified.
    Pass,
    /// Verification failed.
    Fail,
    /// Audit-mode failure of an unscored policy.
    Warn,
    /// Could not be evaluated (network, unsupported feature, bad input).
    Error,
    /// Not applicable.
    Skip,
}

impl RuleStatus {
    /// The lowercase name used in reports (`pass`, `fail`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            RuleStatus::Pass => "pass",
            RuleStatus::Fail => "fail",
            RuleStatus::Warn => "warn",
            RuleStatus::Error => "error",
            RuleStatus::Skip => "skip",
        }
    }
}

/// Counts results by status (every status present, zero when absent).
pub fn summarize<'a>(
    results: impl IntoIterator<Item = &'a RuleResult>,
) -> BTreeMap<&'static str, usize> {
    count_statuses(results.into_iter().map(|r| r.result))
}

/// Counts statuses: pass, fail, warn, error, skip (every key present).
pub fn count_statuses(
    statuses: impl IntoIterator<Item = RuleStatus>,
) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::from([
        ("pass", 0),
        ("fail", 0),
        ("warn", 0),
        ("error", 0),
        ("skip", 0),
    ]);
    for s in statuses {
        *m.entry(s.as_str()).or_default() += 1;
    }
    m
}

/// Per-image detail of a rule result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageResult {
    /// Canonical image (after digest mutation when one happened).
    pub image: String,
    /// Outcome for this image.
    pub result: RuleStatus,
    /// Message.
    pub message: String,
    /// The attestors whose signatures verified the image (path and key or
    /// identity), when it passed its signature checks.
    #[serde(rename = "verifiedBy", skip_serializing_if = "Vec::is_empty", default)]
    pub verified_by: Vec<String>,
}

/// One rule's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleResult {
    /// Policy name (`ns/name` for a namespaced Policy).
    pub policy: String,
    /// Rule name.
    pub rule: String,
    /// Outcome.
    pub result: RuleStatus,
    /// Kyverno-format message.
    pub message: String,
    /// Images the rule looked at.
    pub images: Vec<ImageResult>,
    /// Whether the policy is scored.
    pub scored: bool,
    /// `Enforce` or `Audit` for this rule.
    pub action: String,
    /// Category annotation.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub category: Option<String>,
    /// Severity annotation.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub severity: Option<String>,
    /// Report properties (an image policy's `auditAnnotations`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub properties: BTreeMap<String, String>,
    /// The report `source` when not `kyverno`
    /// (`KyvernoImageValidatingPolicy` for image policies).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source: Option<String>,
}

/// The outcome of evaluating one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Whether admission allows the request.
    pub allowed: bool,
    /// Denial message (Kyverno layout), empty when allowed.
    pub message: String,
    /// RFC 6902 patches: annotations first, then digests.
    pub patches: Vec<Value>,
    /// Admission warnings.
    pub warnings: Vec<String>,
    /// Per-rule results.
    pub results: Vec<RuleResult>,
}

impl Decision {
    /// Counts of results by status: pass, fail, warn, error, skip.
    pub fn summary(&self) -> BTreeMap<&'static str, usize> {
        summarize(&self.results)
    }
}

/// Kyverno's `GetBlockedMessages` layout.
pub fn blocked_message(
    kind: &str,
    namespace: &str,
    name: &str,
    failures: &BTreeMap<String, BTreeMap<String, String>>,
) -> String {
    let mut yaml = String::new();
    for (policy, rules) in failures {
        yaml.push_str(&format!("{}:\n", yaml_scalar(policy)));
        for (rule, msg) in rules {
            yaml.push_str(&format!("  {}: {}\n", yaml_scalar(rule), yaml_scalar(msg)));
        }
    }
    format!(
        "\n\nresource {kind}/{namespace}/{name} was blocked due to the following policies \n\n{yaml}"
    )
}

/// A YAML scalar as Go's yaml.v2 writes it: plain when safe, else single-quoted.
fn yaml_scalar(s: &str) -> String {
    let plain_ok = !s.is_empty()
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.ends_with(':')
        && !s.contains('\n')
        && !s.starts_with(|c: char| "!&*-?{}[],#|>@`\"'%: ".contains(c))
        && !s.ends_with(' ')
        && !matches!(
            s,
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "~"
        )
        && s.parse::<f64>().is_err();
    if plain_ok {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "''").replace('\n', " "))
    }
}
