//! Kyverno autogen for ClusterPolicy/Policy: rules written for Pods also
//! apply to pod controllers (`autogen-<rule>`) and CronJobs
//! (`autogen-cronjob-<rule>`).

use super::compiled::{CompiledRule, RuleBody};
use super::model::{MatchResources, ResourceDescription};
use std::collections::BTreeMap;

/// The annotation selecting controllers.
pub const CONTROLLERS_ANNOTATION: &str = "pod-policies.kyverno.io/autogen-controllers";

/// Controllers used when the annotation is absent (or `all`).
pub const DEFAULT_CONTROLLERS: &[&str] = &[
    "DaemonSet",
    "Deployment",
    "Job",
    "StatefulSet",
    "ReplicaSet",
    "ReplicationController",
    "CronJob",
];

const POD_CONTROLLERS: &[&str] = DEFAULT_CONTROLLERS;

/// Which controllers autogen targets for a policy with these annotations.
pub fn controllers(annotations: &BTreeMap<String, String>) -> Vec<String> {
    match annotations.get(CONTROLLERS_ANNOTATION).map(|s| s.trim()) {
        None | Some("all") => DEFAULT_CONTROLLERS.iter().map(|s| s.to_string()).collect(),
        Some("none") | Some("") => Vec::new(),
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|s| POD_CONTROLLERS.contains(s))
            .map(str::to_string)
            .collect(),
    }
}

fn descriptions(m: &MatchResources) -> Vec<&ResourceDescription> {
    let mut out: Vec<&ResourceDescription> = Vec::new();
    out.extend(m.resources.iter());
    for f in m.any.iter().flatten().chain(m.all.iter().flatten()) {
        out.extend(f.resources.iter());
    }
    out
}

fn kinds_of(m: &MatchResources) -> Vec<String> {
    descriptions(m)
        .into_iter()
        .flat_map(|d| d.kinds.iter().flatten().cloned())
        .collect()
}

fn kind_name(k: &str) -> &str {
    let parts: Vec<&str> = k.split('/').collect();
    match parts.len() {
        2 if parts[0].starts_with(|c: char| c.is_ascii_uppercase()) => parts[0],
        2 => parts[1],
        3 => parts[2],
        _ => parts[0],
    }
}

/// Whether the policy's rules allow autogen at all.
pub fn eligible(rules: &[CompiledRule], raw_has_generate_or_json6902: bool) -> bool {
    if raw_has_generate_or_json6902 {
        return false;
    }
    let mut mentions_pod_or_controller = false;
    for r in rules {
        let blocks = std::iter::once(&r.match_resources).chain(r.exclude.iter());
        for m in blocks {
            for d in descriptions(m) {
                if d.name.is_some()
                    || d.names.is_some()
                    || d.selector.is_some()
                    || d.annotations.is_some()
                {
                    return false;
                }
                let kinds: Vec<&str> = d.kinds.iter().flatten().map(|k| kind_name(k)).collect();
                if kinds.contains(&"Pod") && kinds.len() > 1 {
                    return false;
                }
                if kinds
                    .iter()
                    .any(|k| *k == "Pod" || POD_CONTROLLERS.contains(k))
                {
                    mentions_pod_or_controller = true;
                }
            }
        }
    }
    mentions_pod_or_controller
}

fn rewrite_kinds(m: &MatchResources, kinds: &[String]) -> MatchResources {
    let fix = |d: &ResourceDescription| {
        let mut d = d.clone();
        if d.kinds.iter().flatten().any(|k| kind_name(k) == "Pod") {
            d.kinds = Some(kinds.to_vec());
        }
        d
    };
    let mut out = m.clone();
    out.resources = m.resources.as_ref().map(fix);
    for list in [&mut out.any, &mut out.all].into_iter().flatten() {
        for f in list.iter_mut() {
            f.resources = f.resources.as_ref().map(fix);
        }
    }
    out
}

fn truncate63(s: String) -> String {
    s.chars().take(63).collect()
}

/// Computes the rules after autogen: existing `autogen-` rules are dropped,
/// originals kept, generated rules appended in rule order.
pub fn compute_rules(
    rules: Vec<CompiledRule>,
    controllers: &[String],
    allowed: bool,
) -> Vec<CompiledRule> {
    let originals: Vec<CompiledRule> = rules
        .into_iter()
        .filter(|r| !r.name.starts_with("autogen-"))
        .collect();
    if !allowed || controllers.is_empty() {
        return originals;
    }
    let mut sorted: Vec<String> = controllers
        .iter()
        .filter(|c| *c != "CronJob")
        .cloned()
        .collect();
    sorted.sort();
    let cronjob = controllers.iter().any(|c| c == "CronJob");
    let mut generated = Vec::new();
    for r in &originals {
        if matches!(r.body, RuleBody::Other(_)) {
            continue;
        }
        let match_kinds = kinds_of(&r.match_resources);
        if !match_kinds.iter().any(|k| kind_name(k) == "Pod") {
            continue;
        }
        if let Some(ex) = &r.exclude {
            let ek = kinds_of(ex);
            if !ek.is_empty() && !ek.iter().any(|k| kind_name(k) == "Pod") {
                continue;
            }
        }
        let make = |name: String, kinds: &[String]| {
            let mut g = r.clone();
            g.name = truncate63(name);
            g.match_resources = rewrite_kinds(&r.match_resources, kinds);
            g.exclude = r.exclude.as_ref().map(|e| rewrite_kinds(e, kinds));
            g
        };
        if !sorted.is_empty() {
            generated.push(make(format!("autogen-{}", r.name), &sorted));
        }
        if cronjob {
            generated.push(make(
                format!("autogen-cronjob-{}", r.name),
                &["CronJob".to_string()],
            ));
        }
    }
    let mut out = originals;
    out.extend(generated);
    out
}
