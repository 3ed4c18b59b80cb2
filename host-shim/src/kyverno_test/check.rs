//! Checking one test's expectations against the decisions, row by row as the
//! Kyverno CLI does (`commands/test/output.go`): one row per rule of the
//! expectation's policy on each of its resources.
//!
//! Kyverno's engine answers a verifyImages rule with one response per image
//! (and one per required/digest check), and its CLI checks each against the
//! expectation, so `result: fail` on a rule that fails for one image of two
//! (or fails `verifyDigest` after a verified signature) cannot be written.
//! Here the row holds the rule's result over all its images (fail, then
//! error, then pass, then skip): every suite that passes under Kyverno
//! passes here, with one row per rule rather than per image.

use super::schema::Expectation;
use crate::apply::ResourceOutcome;
use serde_json::Value;
use std::path::Path;

/// One row of the results table.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    /// Position in the table, from 1.
    pub id: usize,
    /// The expectation's policy.
    pub policy: String,
    /// The rule that gave the result (or the expectation's rule).
    pub rule: String,
    /// `apiVersion/kind/namespace/name`.
    pub resource: String,
    /// `Pass`, `Fail` or `Skip`: whether the expectation held.
    pub result: &'static str,
    /// `Ok`, `Want X, got Y`, `Excluded`, `Not found`, `Resource diff`, …
    pub reason: String,
    /// The rule's message (or the diff).
    pub message: String,
    /// Whether the row counts as a failed test.
    pub failure: bool,
}

/// Tests passed, skipped (excluded resources, expected skips) and failed.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    /// Passed.
    pub pass: usize,
    /// Passed as skipped.
    pub skip: usize,
    /// Failed.
    pub fail: usize,
}

/// What one test's rows are checked against.
pub struct Decided<'a> {
    /// Decisions, by resource.
    pub outcomes: &'a [ResourceOutcome],
    /// Names of the policies that loaded (report names).
    pub policies: &'a [String],
    /// Policies left out for their errors.
    pub invalid: &'a [crate::kyverno_apply::InvalidPolicy],
    /// The test file's folder (for `patchedResources`).
    pub dir: &'a Path,
}

/// `apiVersion/kind/namespace/name`, as Kyverno prints a resource.
pub fn resource_id(o: &ResourceOutcome) -> String {
    format!("{}/{}/{}/{}", o.api_version, o.kind, o.namespace, o.name)
}

fn last_segment(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// Whether a result belongs to the expectation's rule: `rule: X` also
/// matches the autogen rules generated from X.
fn rule_matches(expected: &str, actual: &str) -> bool {
    expected.is_empty()
        || actual == expected
        || actual.strip_prefix("autogen-") == Some(expected)
        || actual.strip_prefix("autogen-cronjob-") == Some(expected)
}

/// The resources an expectation names: by `name` (any kind or namespace),
/// `namespace/name`, or `resourceSpecs`; every resource when it names none.
/// A name that matches no resource is reported, never widened to all.
fn targets<'a>(
    e: &Expectation,
    outcomes: &'a [ResourceOutcome],
) -> (Vec<&'a ResourceOutcome>, Vec<String>) {
    if e.resources.is_empty() && e.resource_specs.is_empty() {
        return (outcomes.iter().collect(), Vec::new());
    }
    let mut found: Vec<&ResourceOutcome> = Vec::new();
    let mut missing = Vec::new();
    let add = |o: &'a ResourceOutcome, found: &mut Vec<&'a ResourceOutcome>| {
        if !found.iter().any(|f| std::ptr::eq(*f, o)) {
            found.push(o);
        }
    };
    for r in &e.resources {
        let (ns, name) = match r.split_once('/') {
            Some((ns, name)) => (Some(ns), name),
            None => (None, r.as_str()),
        };
        let hits: Vec<&ResourceOutcome> = outcomes
            .iter()
            .filter(|o| o.name == name && ns.is_none_or(|ns| ns == o.namespace))
            .collect();
        if hits.is_empty() {
            missing.push(r.clone());
        }
        for o in hits {
            add(o, &mut found);
        }
    }
    for s in &e.resource_specs {
        let api_version = match s.group.as_str() {
            "" => s.version.clone(),
            g => format!("{g}/{}", s.version),
        };
        let hits: Vec<&ResourceOutcome> = outcomes
            .iter()
            .filter(|o| {
                o.api_version == api_version
                    && o.namespace == s.namespace
                    && o.name == s.name
                    && (s.kind.is_empty() || s.kind == o.kind)
            })
            .collect();
        if hits.is_empty() {
            missing.push(format!(
                "{api_version}/{}/{}/{}",
                s.kind, s.namespace, s.name
            ));
        }
        for o in hits {
            add(o, &mut found);
        }
    }
    (found, missing)
}

/// Appends one test's rows for an expectation and counts them.
pub fn expectation_rows(
    e: &Expectation,
    decided: &Decided,
    rows: &mut Vec<Row>,
    counts: &mut Counts,
) {
    let mut push = |mut row: Row, counts: &mut Counts| {
        row.id = rows.len() + 1;
        match (row.failure, e.result == "skip" || row.reason == "Excluded") {
            (true, _) => counts.fail += 1,
            (false, true) => counts.skip += 1,
            (false, false) => counts.pass += 1,
        }
        rows.push(row);
    };
    let (found, missing) = targets(e, decided.outcomes);
    for name in missing {
        push(
            Row {
                id: 0,
                policy: e.policy.clone(),
                rule: e.rule.clone(),
                resource: name.clone(),
                result: "Fail",
                reason: "Not found".into(),
                message: format!("resource {name} is not among the test's resources"),
                failure: true,
            },
            counts,
        );
    }
    let policy = last_segment(&e.policy);
    let loaded = decided.policies.iter().any(|p| last_segment(p) == policy);
    for o in found {
        let id = resource_id(o);
        let base = Row {
            id: 0,
            policy: e.policy.clone(),
            rule: e.rule.clone(),
            resource: id.clone(),
            result: "Pass",
            reason: String::new(),
            message: String::new(),
            failure: false,
        };
        if let Some(err) = &o.error {
            push(
                Row {
                    result: "Fail",
                    reason: "Error".into(),
                    message: err.clone(),
                    failure: true,
                    ..base
                },
                counts,
            );
            continue;
        }
        let mut produced = false;
        let mut resource_skipped = false;
        let patched = e
            .patched_resources
            .as_ref()
            .map(|file| compare_patched(o, &decided.dir.join(file)));
        for r in o
            .results
            .iter()
            .filter(|r| last_segment(&r.policy) == policy && rule_matches(&e.rule, &r.rule))
        {
            let verdict = match &patched {
                None | Some(Patched::Equal) => None,
                Some(Patched::Missing(_)) if !e.fail_on_missing_resources => {
                    resource_skipped = true;
                    continue;
                }
                Some(Patched::Missing(m) | Patched::Error(m)) => {
                    Some(("Resource error".to_string(), m.clone()))
                }
                Some(Patched::Differs(diff)) => Some((
                    "Resource diff".to_string(),
                    format!(
                        "Patched resource didn't match the patched resource in the test result\n(only in expected / only in actual)\n\n{diff}"
                    ),
                )),
            };
            let (reason, message, failure) = match verdict {
                Some((reason, message)) => (reason, message, true),
                None if r.result.as_str() == e.result => {
                    ("Ok".to_string(), r.message.clone(), false)
                }
                None => (
                    format!("Want {}, got {}", e.result, r.result.as_str()),
                    r.message.clone(),
                    true,
                ),
            };
            produced = true;
            push(
                Row {
                    rule: r.rule.clone(),
                    result: if failure { "Fail" } else { "Pass" },
                    reason,
                    message,
                    failure,
                    ..base.clone()
                },
                counts,
            );
        }
        if produced || resource_skipped {
            continue;
        }
        if loaded {
            // The policy ran on the resource and no rule of it applied.
            push(
                Row {
                    reason: "Excluded".into(),
                    message: "Excluded".into(),
                    ..base
                },
                counts,
            );
        } else if let Some(p) = decided
            .invalid
            .iter()
            .find(|p| last_segment(&p.name) == policy)
        {
            // Kyverno reports a skip here, which its summary counts as
            // passed; a test of a policy that could not load fails.
            push(
                Row {
                    result: "Fail",
                    reason: "Invalid Policy".into(),
                    message: p.reason.clone(),
                    failure: true,
                    ..base
                },
                counts,
            );
        } else {
            push(
                Row {
                    result: "Fail",
                    reason: "Not found".into(),
                    message: format!("policy {} is not among the test's policies", e.policy),
                    failure: true,
                    ..base
                },
                counts,
            );
        }
    }
}

/// How the resource as patched compares with the expected one.
enum Patched {
    Equal,
    Missing(String),
    Error(String),
    Differs(String),
}

/// The resource with the decision's patches (digest pins, annotations).
pub fn patched_object(o: &ResourceOutcome) -> Result<Value, String> {
    let mut object = o.object.clone();
    if o.patches.is_empty() {
        return Ok(object);
    }
    let patch: json_patch::Patch = serde_json::from_value(Value::Array(o.patches.clone()))
        .map_err(|e| format!("the decision's patches: {e}"))?;
    json_patch::patch(&mut object, &patch).map_err(|e| format!("applying the patches: {e}"))?;
    Ok(object)
}

fn compare_patched(o: &ResourceOutcome, file: &Path) -> Patched {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => return Patched::Error(format!("{}: {e}", file.display())),
    };
    let docs = match imgverify::yaml::parse_stream(&text) {
        Ok(d) => d,
        Err(e) => return Patched::Error(format!("{}: {e}", file.display())),
    };
    let s = |v: &Value, p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let Some(expected) = docs.into_iter().find(|d| {
        s(d, "/apiVersion") == o.api_version
            && s(d, "/kind") == o.kind
            && s(d, "/metadata/namespace") == o.namespace
            && s(d, "/metadata/name") == o.name
    }) else {
        return Patched::Missing(format!(
            "resource with name {} not found in manifest",
            o.name
        ));
    };
    let actual = match patched_object(o) {
        Ok(a) => a,
        Err(e) => return Patched::Error(e),
    };
    let (a, e) = (tidy(actual), tidy(expected));
    if a == e {
        return Patched::Equal;
    }
    Patched::Differs(line_diff(
        &serde_norway::to_string(&e).unwrap_or_default(),
        &serde_norway::to_string(&a).unwrap_or_default(),
    ))
}

/// Drops nulls and empty objects and arrays, recursively (Kyverno's `Tidy`).
fn tidy(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let out: serde_json::Map<String, Value> = m
                .into_iter()
                .map(|(k, v)| (k, tidy(v)))
                .filter(|(_, v)| !v.is_null())
                .collect();
            if out.is_empty() {
                Value::Null
            } else {
                Value::Object(out)
            }
        }
        Value::Array(a) => {
            let out: Vec<Value> = a.into_iter().map(tidy).filter(|v| !v.is_null()).collect();
            if out.is_empty() {
                Value::Null
            } else {
                Value::Array(out)
            }
        }
        v => v,
    }
}

/// Lines only in the expected text (`-`) and only in the actual text (`+`).
fn line_diff(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let mut out = String::new();
    for l in e.iter().filter(|l| !a.contains(l)) {
        out.push_str(&format!("- {l}\n"));
    }
    for l in a.iter().filter(|l| !e.contains(l)) {
        out.push_str(&format!("+ {l}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn autogen_rules_match_their_source_rule() {
        assert!(rule_matches("check", "check"));
        assert!(rule_matches("check", "autogen-check"));
        assert!(rule_matches("check", "autogen-cronjob-check"));
        assert!(rule_matches("", "anything"));
        assert!(!rule_matches("check", "autogen-other"));
        assert!(!rule_matches("check", "check-2"));
    }

    #[test]
    fn tidy_drops_empty_values() {
        assert_eq!(
            tidy(json!({"a": {}, "b": [], "c": null, "d": [{}, 1], "e": {"f": {"g": null}}})),
            json!({"d": [1]})
        );
    }
}
