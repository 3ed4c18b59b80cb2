//! `imgverify apply` as `kyverno apply` reports (`commands/apply`): the
//! failed rules per policy and resource, the counts line, the results table
//! (`-t`), policy reports (`-p`, openreports.io as Kyverno's CLI prints them
//! today, wgpolicyk8s.io on request), the mutated resources (`-o PATH`) and
//! the exit status (`exit` in Kyverno's `command.go`).

use crate::apply::ResourceOutcome;
use crate::kyverno_test::check::Row;
use imgverify::decision::{RuleResult, RuleStatus};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// A policy the engine left out for its errors: its name and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidPolicy {
    /// Report name (`namespace/name` for a Policy).
    pub name: String,
    /// Its errors, each naming the document and field path.
    pub reason: String,
}

/// The invalid policies of an engine summary.
pub fn invalid_policies(summary: &Value) -> Vec<InvalidPolicy> {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    summary
        .get("invalid")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| InvalidPolicy {
            name: s(p, "name"),
            reason: p
                .get("errors")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|e| {
                    format!(
                        "{}: {}: {}",
                        s(e, "document"),
                        s(e, "path"),
                        s(e, "message")
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        })
        .collect()
}

/// Kyverno's `Invalid Policies:` block.
pub fn invalid_policies_block(invalid: &[InvalidPolicy]) -> String {
    const DIVIDER: &str = "----------------------------------------------------------------------";
    let mut out = format!("{DIVIDER}\nInvalid Policies:\n");
    for (i, p) in invalid.iter().enumerate() {
        let _ = writeln!(out, "{}. {}: {}", i + 1, p.name, p.reason);
    }
    out.push_str(DIVIDER);
    out.push('\n');
    out
}

/// Rule results by outcome (Kyverno's `ResultCounts`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Passed.
    pub pass: usize,
    /// Failed (Enforce, or Audit without `--audit-warn`).
    pub fail: usize,
    /// Warned (unscored policies; Audit failures with `--audit-warn`).
    pub warn: usize,
    /// Errored (including resources the sandbox could not decide).
    pub error: usize,
    /// Skipped.
    pub skip: usize,
}

/// The result Kyverno reports for a rule result: a failure is a warning for
/// an unscored policy (already so in the decision) and, with `--audit-warn`,
/// for an Audit rule.
pub fn shown_status(r: &RuleResult, audit_warn: bool) -> RuleStatus {
    if r.result == RuleStatus::Fail && audit_warn && r.action == "Audit" {
        RuleStatus::Warn
    } else {
        r.result
    }
}

/// Counts every rule result; a resource the sandbox could not decide counts
/// as an error.
pub fn counts(outcomes: &[ResourceOutcome], audit_warn: bool) -> Counts {
    let mut c = Counts::default();
    for o in outcomes {
        if o.error.is_some() {
            c.error += 1;
        }
        for r in &o.results {
            match shown_status(r, audit_warn) {
                RuleStatus::Pass => c.pass += 1,
                RuleStatus::Fail => c.fail += 1,
                RuleStatus::Warn => c.warn += 1,
                RuleStatus::Error => c.error += 1,
                RuleStatus::Skip => c.skip += 1,
            }
        }
    }
    c
}

/// `namespace/Kind/name`, as Kyverno names a resource in its messages.
fn res_path(o: &ResourceOutcome) -> String {
    match (o.namespace.as_str(), o.kind.as_str(), o.name.as_str()) {
        ("", "", "") => "JSON payload".into(),
        (ns, kind, name) => format!("{ns}/{kind}/{name}"),
    }
}

/// Kyverno's default output: the failed rules of each policy on each
/// resource (an Audit policy's under `--audit-warn` as audit warnings), then
/// the counts line.
pub fn text(outcomes: &[ResourceOutcome], rules: usize, audit_warn: bool) -> String {
    let mut out = format!(
        "\nApplying {rules} policy rule(s) to {} resource(s)...\n",
        outcomes.len()
    );
    for o in outcomes {
        if let Some(e) = &o.error {
            let _ = writeln!(
                out,
                "\nerror while applying policies -> resource {}\nerror: {e}",
                res_path(o)
            );
        }
        let mut by_policy: BTreeMap<&str, Vec<&RuleResult>> = BTreeMap::new();
        for r in o.results.iter().filter(|r| r.result == RuleStatus::Fail) {
            by_policy.entry(&r.policy).or_default().push(r);
        }
        for (policy, failed) in by_policy {
            let audit = audit_warn && failed.iter().all(|r| r.action == "Audit");
            let _ = writeln!(
                out,
                "policy {} -> resource {} failed{}:",
                policy.rsplit('/').next().unwrap_or(policy),
                res_path(o),
                if audit { " as audit warning" } else { "" }
            );
            for (i, r) in failed.iter().enumerate() {
                let msg = if r.message.is_empty() {
                    "validation failed"
                } else {
                    &r.message
                };
                let _ = writeln!(out, "{} - {} {msg}", i + 1, r.rule);
            }
        }
    }
    let c = counts(outcomes, audit_warn);
    let _ = writeln!(
        out,
        "\npass: {}, fail: {}, warn: {}, error: {}, skip: {} ",
        c.pass, c.fail, c.warn, c.error, c.skip
    );
    out
}

/// `-t`: one row per rule result (`--detailed-results` adds the message).
pub fn table(outcomes: &[ResourceOutcome], audit_warn: bool, detailed: bool) -> String {
    let mut rows = Vec::new();
    for o in outcomes {
        let resource = if o.namespace.is_empty() {
            format!("{}/{}", o.kind, o.name)
        } else {
            format!("{}/{}/{}", o.namespace, o.kind, o.name)
        };
        for r in &o.results {
            let status = shown_status(r, audit_warn);
            rows.push(Row {
                id: rows.len() + 1,
                policy: r.policy.clone(),
                rule: r.rule.clone(),
                resource: resource.clone(),
                result: match status {
                    RuleStatus::Pass => "Pass",
                    RuleStatus::Fail => "Fail",
                    RuleStatus::Warn => "Warn",
                    RuleStatus::Error => "Error",
                    RuleStatus::Skip => "Skip",
                },
                reason: String::new(),
                message: r.message.clone(),
                failure: status == RuleStatus::Fail,
            });
        }
    }
    crate::kyverno_test::render::rows(crate::kyverno_test::render::Format::Table, &rows, detailed)
}

/// What Kyverno's exit logic decided: the status, and the line it prints.
#[derive(Debug, PartialEq, Eq)]
pub struct Exit {
    /// The process exit status.
    pub code: u8,
    /// Printed on stdout before exiting, if anything.
    pub line: Option<String>,
}

/// Kyverno's `exit`: failures or errors exit 1; warnings exit with
/// `--warn-exit-code` when it is set; `--warn-no-pass` with no pass exits
/// with the warn exit code.
pub fn exit(c: Counts, warn_exit_code: u8, warn_no_pass: bool) -> Exit {
    if c.fail > 0 || c.error > 0 {
        return Exit {
            code: 1,
            line: None,
        };
    }
    if c.warn > 0 && warn_exit_code != 0 {
        return Exit {
            code: warn_exit_code,
            line: Some(format!("exit as warnExitCode is {warn_exit_code}")),
        };
    }
    if c.pass == 0 && warn_no_pass {
        return Exit {
            code: warn_exit_code,
            line: Some("exit as no objects satisfied policy".into()),
        };
    }
    Exit {
        code: 0,
        line: None,
    }
}

/// Which policy report API `-p` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportApi {
    /// `openreports.io/v1alpha1`: a `ClusterReport` named `merged` for the
    /// cluster policies' results and a `Report` per namespaced policy, as the
    /// Kyverno CLI prints them today.
    Openreports,
    /// `wgpolicyk8s.io/v1alpha2` `ClusterPolicyReport` / `PolicyReport`, as
    /// older Kyverno CLIs printed them.
    Wgpolicyk8s,
}

/// The report result of one rule result on one resource.
fn report_result(
    o: &ResourceOutcome,
    r: &RuleResult,
    audit_warn: bool,
    background: bool,
    timestamp: i64,
) -> Value {
    let mut v = json!({
        "source": "kyverno",
        "policy": r.policy,
        "rule": r.rule,
        "message": r.message,
        "result": shown_status(r, audit_warn).as_str(),
        "scored": r.scored,
        "timestamp": {"seconds": timestamp, "nanos": 0},
        "properties": {"process": if background { "background scan" } else { "admission review" }},
        "resources": [subject(o)],
    });
    crate::output::add_result_fields(&mut v, r);
    v
}

fn subject(o: &ResourceOutcome) -> Value {
    let mut s = json!({"apiVersion": o.api_version, "kind": o.kind, "name": o.name});
    if !o.namespace.is_empty() {
        s["namespace"] = json!(o.namespace);
    }
    s
}

fn summary(results: &[Value]) -> Value {
    let statuses = results.iter().filter_map(|r| {
        let status = r.get("result").and_then(Value::as_str)?;
        [
            RuleStatus::Pass,
            RuleStatus::Fail,
            RuleStatus::Warn,
            RuleStatus::Error,
            RuleStatus::Skip,
        ]
        .into_iter()
        .find(|s| s.as_str() == status)
    });
    json!(imgverify::decision::count_statuses(statuses))
}

/// Policy reports as Kyverno's CLI prints them with `-p`: results grouped by
/// policy; cluster policies' results merged into one cluster report named
/// `merged`, and one namespaced report per namespaced policy.
/// `background` says which policies run in the background (by report name).
pub fn reports(
    outcomes: &[ResourceOutcome],
    api: ReportApi,
    audit_warn: bool,
    background: &dyn Fn(&str) -> bool,
    timestamp: i64,
) -> Vec<Value> {
    let mut cluster = Vec::new();
    let mut namespaced: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for o in outcomes {
        for r in &o.results {
            let mut v = report_result(o, r, audit_warn, background(&r.policy), timestamp);
            if api == ReportApi::Openreports {
                // openreports names the resources `subjects` and the message `description`.
                if let Some(m) = v.as_object_mut() {
                    let res = m.remove("resources").unwrap_or_default();
                    m.insert("subjects".into(), res);
                    let msg = m.remove("message").unwrap_or_default();
                    m.insert("description".into(), msg);
                }
            }
            if r.policy.contains('/') {
                namespaced.entry(r.policy.clone()).or_default().push(v);
            } else {
                cluster.push(v);
            }
        }
    }
    let (group, cluster_kind, ns_kind) = match api {
        ReportApi::Openreports => ("openreports.io/v1alpha1", "ClusterReport", "Report"),
        ReportApi::Wgpolicyk8s => (
            "wgpolicyk8s.io/v1alpha2",
            "ClusterPolicyReport",
            "PolicyReport",
        ),
    };
    let mut out = Vec::new();
    if !cluster.is_empty() {
        out.push(json!({
            "apiVersion": group,
            "kind": cluster_kind,
            "metadata": {"name": "merged"},
            "summary": summary(&cluster),
            "results": cluster,
        }));
    }
    for (policy, results) in namespaced {
        let (ns, name) = policy.split_once('/').unwrap_or(("", &policy));
        out.push(json!({
            "apiVersion": group,
            "kind": ns_kind,
            "metadata": {"name": name, "namespace": ns},
            "summary": summary(&results),
            "results": results,
        }));
    }
    out
}

/// Prints reports: YAML documents separated by `---`, or JSON, one per line.
pub fn print_reports(reports: &[Value], json_format: bool) -> String {
    let mut out = String::new();
    for (i, r) in reports.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        if json_format {
            out.push_str(&serde_json::to_string(r).unwrap_or_default());
            out.push('\n');
        } else {
            out.push_str(&serde_norway::to_string(r).unwrap_or_default());
        }
    }
    out
}

/// `-o PATH`: the resources as the rules patched them (digest pins and
/// verification annotations). A path ending in `.yaml`/`.yml` (or an
/// existing file) gets every patched resource as YAML documents; otherwise
/// PATH is a folder with one file per resource.
pub fn write_mutated(outcomes: &[ResourceOutcome], path: &Path) -> Result<usize, String> {
    let patched: Vec<(&ResourceOutcome, Value)> = outcomes
        .iter()
        .filter(|o| !o.patches.is_empty() && o.error.is_none())
        .map(|o| crate::kyverno_test::check::patched_object(o).map(|v| (o, v)))
        .collect::<Result<_, _>>()?;
    let is_file = path.is_file()
        || matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        );
    let fail = |e: std::io::Error| format!("{}: {e}", path.display());
    if is_file {
        let docs: Vec<String> = patched
            .iter()
            .map(|(_, v)| serde_norway::to_string(v).unwrap_or_default())
            .collect();
        std::fs::write(path, docs.join("---\n")).map_err(fail)?;
    } else {
        std::fs::create_dir_all(path).map_err(fail)?;
        for (o, v) in &patched {
            let mut name = String::new();
            for part in [o.namespace.as_str(), o.kind.as_str(), o.name.as_str()] {
                if part.is_empty() {
                    continue;
                }
                if !name.is_empty() {
                    name.push('-');
                }
                // Names come from the resources: keep them to one path segment.
                name.extend(part.chars().map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                        c
                    } else {
                        '_'
                    }
                }));
            }
            std::fs::write(
                path.join(format!("{}.yaml", name.to_lowercase())),
                serde_norway::to_string(v).unwrap_or_default(),
            )
            .map_err(fail)?;
        }
    }
    Ok(patched.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_follows_kyverno() {
        let c = |pass, fail, warn, error| Counts {
            pass,
            fail,
            warn,
            error,
            skip: 0,
        };
        assert_eq!(exit(c(1, 1, 0, 0), 3, false).code, 1);
        assert_eq!(exit(c(1, 0, 0, 1), 3, false).code, 1);
        assert_eq!(exit(c(1, 0, 2, 0), 3, false).code, 3);
        assert_eq!(exit(c(1, 0, 2, 0), 0, false).code, 0);
        let e = exit(c(0, 0, 0, 0), 4, true);
        assert_eq!(e.code, 4);
        assert_eq!(
            e.line.as_deref(),
            Some("exit as no objects satisfied policy")
        );
        assert_eq!(exit(c(1, 0, 0, 0), 4, true).code, 0);
    }
}
