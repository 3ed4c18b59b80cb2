//! Output formats for `apply`: table, JSON, YAML and PolicyReports.

use crate::apply::ResourceOutcome;
use imgverify::decision::RuleStatus;
use serde_json::{Value, json};

pub use imgverify::apply::summary;

fn status_name(s: RuleStatus) -> &'static str {
    s.as_str()
}

/// The `--format json` document.
pub fn json_document(resources: &[ResourceOutcome]) -> Value {
    imgverify::apply::document(resources)
}

/// The `-o table` text.
pub fn table(resources: &[ResourceOutcome]) -> String {
    let mut s = String::new();
    for r in resources {
        let id = if r.namespace.is_empty() {
            format!("{}/{}", r.kind, r.name)
        } else {
            format!("{}/{}/{}", r.kind, r.namespace, r.name)
        };
        s.push_str(&format!(
            "{} {id}\n",
            if r.allowed { "ALLOWED" } else { "BLOCKED" }
        ));
        if let Some(e) = &r.error {
            s.push_str(&format!("  ERROR {e}\n"));
        } else if r.results.is_empty() {
            s.push_str("  (no image rules apply)\n");
        }
        for res in &r.results {
            s.push_str(&format!(
                "  {:<5} {}/{} [{}]: {}\n",
                status_name(res.result).to_uppercase(),
                res.policy,
                res.rule,
                res.action,
                res.message
            ));
        }
        for p in r
            .patches
            .iter()
            .filter(|p| p.get("op").and_then(Value::as_str) == Some("replace"))
        {
            s.push_str(&format!(
                "  patch {} -> {}\n",
                p.get("path").and_then(Value::as_str).unwrap_or(""),
                p.get("value").and_then(Value::as_str).unwrap_or("")
            ));
        }
        for w in &r.warnings {
            s.push_str(&format!("  warning: {w}\n"));
        }
    }
    let sum = summary(resources);
    let blocked = resources.iter().filter(|r| !r.allowed).count();
    s.push_str(&format!(
        "\n{} resources: {} allowed, {blocked} blocked; rule results: pass {}, fail {}, warn {}, error {}, skip {}\n",
        resources.len(),
        resources.len() - blocked,
        sum["pass"],
        sum["fail"],
        sum["warn"],
        sum["error"],
        sum["skip"]
    ));
    s
}

/// A report result's optional fields from the rule result: `source` (when
/// not `kyverno`), its properties beside `process`, category, severity.
pub fn add_result_fields(o: &mut Value, r: &imgverify::decision::RuleResult) {
    if let Some(source) = &r.source {
        o["source"] = json!(source);
    }
    for (k, v) in &r.properties {
        o["properties"][k] = json!(v);
    }
    if let Some(c) = &r.category {
        o["category"] = json!(c);
    }
    if let Some(s) = &r.severity {
        o["severity"] = json!(s);
    }
}

/// One report result of a rule result, written by `process`
/// (`admission review`, `background scan`) at `timestamp` (unix seconds).
pub fn report_result(
    res: &imgverify::decision::RuleResult,
    process: &str,
    timestamp: i64,
) -> Value {
    let mut o = json!({
        "policy": res.policy,
        "rule": res.rule,
        "result": status_name(res.result),
        "message": res.message,
        "scored": res.scored,
        "source": "kyverno",
        "properties": {"process": process},
        "timestamp": {"nanos": 0, "seconds": timestamp},
    });
    add_result_fields(&mut o, res);
    o
}

/// PolicyReport objects (`wgpolicyk8s.io/v1alpha2`), one per resource.
pub fn reports(resources: &[ResourceOutcome], timestamp: i64) -> Vec<Value> {
    resources
        .iter()
        .map(|r| {
            let results: Vec<Value> = r
                .results
                .iter()
                .map(|res| {
                    let mut o = report_result(res, "admission review", timestamp);
                    o["resources"] = json!([{"apiVersion": r.api_version, "kind": r.kind, "name": r.name, "namespace": r.namespace}]);
                    o
                })
                .collect();
            let sum = summary(std::slice::from_ref(r));
            let cluster = r.namespace.is_empty();
            let mut metadata = json!({"name": format!("imgverify-{}-{}", r.kind.to_lowercase(), r.name)});
            if !cluster {
                metadata["namespace"] = json!(r.namespace);
            }
            json!({
                "apiVersion": "wgpolicyk8s.io/v1alpha2",
                "kind": if cluster { "ClusterPolicyReport" } else { "PolicyReport" },
                "metadata": metadata,
                "scope": {"apiVersion": r.api_version, "kind": r.kind, "name": r.name, "namespace": r.namespace},
                "results": results,
                "summary": sum,
            })
        })
        .collect()
}
