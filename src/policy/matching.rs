//! `match` / `exclude` evaluation against an admission request.

use super::model::{LabelSelector, MatchResources, ResourceDescription, ResourceFilter, Subject};
use crate::wildcard;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The requesting user, when known (absent for background scans and `apply`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    /// User name (`system:serviceaccount:ns:name` for service accounts).
    #[serde(default)]
    pub username: String,
    /// Groups.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Namespaced roles (`ns:role`).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Cluster roles.
    #[serde(default)]
    pub cluster_roles: Vec<String>,
}

/// What matching looks at in a request.
#[derive(Debug, Clone)]
pub struct MatchTarget<'a> {
    /// API group (`""` for core).
    pub group: &'a str,
    /// API version.
    pub version: &'a str,
    /// Kind.
    pub kind: &'a str,
    /// Name (or generateName).
    pub name: &'a str,
    /// Namespace (`""` for cluster-scoped).
    pub namespace: &'a str,
    /// Labels.
    pub labels: &'a BTreeMap<String, String>,
    /// Annotations.
    pub annotations: &'a BTreeMap<String, String>,
    /// CREATE, UPDATE, DELETE, CONNECT.
    pub operation: &'a str,
    /// Labels of the namespace, when known.
    pub namespace_labels: Option<&'a BTreeMap<String, String>>,
    /// The user, when known.
    pub user: Option<&'a UserInfo>,
}

/// Whether a `match` block selects the target.
pub fn matches_block(m: &MatchResources, t: &MatchTarget) -> bool {
    any_all_or_flat(m, |f| filter_matches(f, t, Block::Match))
}

/// Whether an `exclude` block excludes the target.
pub fn excluded_by(m: &MatchResources, t: &MatchTarget) -> bool {
    any_all_or_flat(m, |f| filter_matches(f, t, Block::Exclude))
}

fn any_all_or_flat(m: &MatchResources, matches: impl Fn(&ResourceFilter) -> bool) -> bool {
    if let Some(any) = m.any.as_ref().filter(|a| !a.is_empty()) {
        return any.iter().any(matches);
    }
    if let Some(all) = m.all.as_ref().filter(|a| !a.is_empty()) {
        return all.iter().all(matches);
    }
    matches(&flat_filter(m))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Block {
    Match,
    Exclude,
}

fn flat_filter(m: &MatchResources) -> ResourceFilter {
    ResourceFilter {
        resources: m.resources.clone(),
        subjects: m.subjects.clone(),
        roles: m.roles.clone(),
        cluster_roles: m.cluster_roles.clone(),
    }
}

/// Whether a resource description constrains nothing (Kyverno's `IsEmpty`).
pub fn description_is_empty(d: &ResourceDescription) -> bool {
    d.kinds.as_ref().is_none_or(Vec::is_empty)
        && d.name.as_deref().is_none_or(str::is_empty)
        && d.names.as_ref().is_none_or(Vec::is_empty)
        && d.namespaces.as_ref().is_none_or(Vec::is_empty)
        && d.annotations.as_ref().is_none_or(BTreeMap::is_empty)
        && d.selector.is_none()
        && d.namespace_selector.is_none()
        && d.operations.as_ref().is_none_or(Vec::is_empty)
}

/// Whether a filter names subjects, roles or cluster roles.
pub fn has_user_clauses(f: &ResourceFilter) -> bool {
    f.subjects.as_ref().is_some_and(|s| !s.is_empty())
        || f.roles.as_ref().is_some_and(|r| !r.is_empty())
        || f.cluster_roles.as_ref().is_some_and(|r| !r.is_empty())
}

/// Whether a filter constrains nothing at all.
pub fn filter_is_empty(f: &ResourceFilter) -> bool {
    f.resources.as_ref().is_none_or(description_is_empty) && !has_user_clauses(f)
}

/// One filter, as Kyverno evaluates it:
/// - an empty filter matches nothing (`match cannot be empty`; an empty
///   exclude excludes nothing);
/// - without user info (`apply`, `test`, background scans) a `match` filter's
///   subjects/roles are dropped, while an `exclude` filter's are checked
///   against nobody and so never exclude;
/// - roles, cluster roles and subjects are ANDed.
fn filter_matches(f: &ResourceFilter, t: &MatchTarget, block: Block) -> bool {
    static NOBODY: UserInfo = UserInfo {
        username: String::new(),
        groups: Vec::new(),
        roles: Vec::new(),
        cluster_roles: Vec::new(),
    };
    let user = t.user.filter(|u| **u != NOBODY);
    let check_user = has_user_clauses(f) && (user.is_some() || block == Block::Exclude);
    let resources = f.resources.as_ref().filter(|d| !description_is_empty(d));
    if resources.is_none() && !check_user {
        return false;
    }
    if let Some(d) = resources
        && !description_matches(d, t)
    {
        return false;
    }
    if check_user {
        let u = user.unwrap_or(&NOBODY);
        if let Some(roles) = f.roles.as_ref().filter(|r| !r.is_empty())
            && !roles.iter().any(|r| u.roles.contains(r))
        {
            return false;
        }
        if let Some(roles) = f.cluster_roles.as_ref().filter(|r| !r.is_empty())
            && !roles.iter().any(|r| u.cluster_roles.contains(r))
        {
            return false;
        }
        if let Some(subjects) = f.subjects.as_ref().filter(|s| !s.is_empty())
            && !subjects.iter().any(|s| subject_matches(s, u))
        {
            return false;
        }
    }
    true
}

fn subject_matches(s: &Subject, u: &UserInfo) -> bool {
    match s.kind.as_str() {
        "ServiceAccount" => {
            let want = format!(
                "system:serviceaccount:{}:{}",
                s.namespace.as_deref().unwrap_or(""),
                s.name
            );
            wildcard::matches(&want, &u.username)
        }
        "Group" => u.groups.iter().any(|g| wildcard::matches(&s.name, g)),
        _ => wildcard::matches(&s.name, &u.username),
    }
}

fn description_matches(d: &ResourceDescription, t: &MatchTarget) -> bool {
    if let Some(kinds) = d.kinds.as_ref().filter(|k| !k.is_empty())
        && !kinds.iter().any(|k| kind_matches(k, t))
    {
        return false;
    }
    let mut names: Vec<&str> = d.names.iter().flatten().map(String::as_str).collect();
    if let Some(n) = d.name.as_deref().filter(|n| !n.is_empty()) {
        names.push(n);
    }
    if !names.is_empty() && !names.iter().any(|n| wildcard::matches(n, t.name)) {
        return false;
    }
    if let Some(ns) = d.namespaces.as_ref().filter(|n| !n.is_empty()) {
        let subject = if t.kind == "Namespace" {
            t.name
        } else {
            t.namespace
        };
        if !ns.iter().any(|p| wildcard::matches(p, subject)) {
            return false;
        }
    }
    if let Some(ann) = d.annotations.as_ref().filter(|a| !a.is_empty()) {
        let ok = ann.iter().all(|(k, v)| {
            t.annotations
                .iter()
                .any(|(rk, rv)| wildcard::matches(k, rk) && wildcard::matches(v, rv))
        });
        if !ok {
            return false;
        }
    }
    if let Some(sel) = &d.selector
        && !selector_matches(sel, t.labels, true)
    {
        return false;
    }
    if let Some(sel) = &d.namespace_selector {
        if t.kind == "Namespace" {
            return false;
        }
        match t.namespace_labels {
            Some(labels) if selector_matches(sel, labels, false) => {}
            _ => return false,
        }
    }
    if let Some(ops) = d.operations.as_ref().filter(|o| !o.is_empty())
        && !ops.iter().any(|o| o == t.operation)
    {
        return false;
    }
    true
}

/// Kinds: `Kind`, `version/Kind`, `group/version/Kind`, with wildcards;
/// a `Kind/subresource` selector never matches a whole object.
fn kind_matches(sel: &str, t: &MatchTarget) -> bool {
    let parts: Vec<&str> = sel.split('/').collect();
    let (group, version, kind) = match parts.as_slice() {
        [k] => ("*", "*", *k),
        // `Kind/subresource`: only subresource requests, never a whole object.
        [k, _] if k.starts_with(|c: char| c.is_ascii_uppercase()) => return false,
        [v, k] => ("*", *v, *k),
        [g, v, k] => (*g, *v, *k),
        _ => return false,
    };
    wildcard::matches(group, t.group)
        && wildcard::matches(version, t.version)
        && wildcard::matches(kind, t.kind)
}

/// Label selector semantics; `wildcard_values` allows wildcards in
/// `matchLabels` values (Kyverno's resource selector).
pub fn selector_matches(
    sel: &LabelSelector,
    labels: &BTreeMap<String, String>,
    wildcard_values: bool,
) -> bool {
    for (k, v) in sel.match_labels.iter().flatten() {
        let ok = match labels.get(k) {
            Some(actual) if wildcard_values => wildcard::matches(v, actual),
            Some(actual) => actual == v,
            None => false,
        };
        if !ok {
            return false;
        }
    }
    for e in sel.match_expressions.iter().flatten() {
        let values = e.values.clone().unwrap_or_default();
        let ok = match e.operator.as_str() {
            "In" => labels.get(&e.key).is_some_and(|v| values.contains(v)),
            "NotIn" => labels.get(&e.key).is_none_or(|v| !values.contains(v)),
            "Exists" => labels.contains_key(&e.key),
            "DoesNotExist" => !labels.contains_key(&e.key),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target<'a>(
        kind: &'a str,
        group: &'a str,
        ns: &'a str,
        labels: &'a BTreeMap<String, String>,
        empty: &'a BTreeMap<String, String>,
    ) -> MatchTarget<'a> {
        MatchTarget {
            group,
            version: "v1",
            kind,
            name: "web-1",
            namespace: ns,
            labels,
            annotations: empty,
            operation: "CREATE",
            namespace_labels: None,
            user: None,
        }
    }

    fn block(yaml: &str) -> MatchResources {
        crate::yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn kind_forms() {
        let (l, e) = (
            BTreeMap::from([("app".to_string(), "web".to_string())]),
            BTreeMap::new(),
        );
        let t = target("Deployment", "apps", "prod", &l, &e);
        for (sel, want) in [
            ("Deployment", true),
            ("apps/v1/Deployment", true),
            ("v1/Deployment", true),
            ("Deploy*", true),
            ("Pod", false),
            ("batch/v1/Deployment", false),
            ("Deployment/scale", false),
        ] {
            assert_eq!(kind_matches(sel, &t), want, "{sel}");
        }
    }

    #[test]
    fn any_all_exclude_and_selectors() {
        let (l, e) = (
            BTreeMap::from([("app".to_string(), "web".to_string())]),
            BTreeMap::new(),
        );
        let t = target("Pod", "", "prod", &l, &e);
        assert!(matches_block(
            &block("any: [{resources: {kinds: [Pod], namespaces: ['pr*']}}]"),
            &t
        ));
        assert!(!matches_block(
            &block("all: [{resources: {kinds: [Pod]}}, {resources: {names: ['db*']}}]"),
            &t
        ));
        assert!(matches_block(
            &block("resources: {kinds: [Pod], selector: {matchLabels: {app: 'w*'}}}"),
            &t
        ));
        assert!(!matches_block(
            &block(
                "resources: {kinds: [Pod], selector: {matchExpressions: [{key: app, operator: NotIn, values: [web]}]}}"
            ),
            &t
        ));
        // namespaceSelector needs namespace labels, which this request lacks.
        assert!(!matches_block(
            &block("resources: {kinds: [Pod], namespaceSelector: {matchLabels: {team: a}}}"),
            &t
        ));
        assert!(excluded_by(
            &block(
                "any: [{resources: {namespaces: [kube-system]}}, {resources: {names: ['web-*']}}]"
            ),
            &t
        ));
        assert!(!excluded_by(
            &block(
                "all: [{resources: {namespaces: [kube-system]}}, {resources: {names: ['web-*']}}]"
            ),
            &t
        ));
        assert!(!excluded_by(&MatchResources::default(), &t));
        let ns = target("Namespace", "", "", &l, &e);
        let ns = MatchTarget { name: "prod", ..ns };
        assert!(matches_block(
            &block("resources: {kinds: [Namespace], namespaces: [prod]}"),
            &ns
        ));
    }
}
