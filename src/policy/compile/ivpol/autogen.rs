//! Autogen for image policies (Kyverno's `pkg/cel/policies/ivpol/autogen`):
//! a policy written for Pods also applies to the pod controllers, as
//! variants with the same name whose `matchConstraints` name the
//! controllers and whose expressions read the pod template.
//!
//! As in Kyverno, the variants exist only when the policy matches exactly
//! `pods` of core `v1` in one rule, without names, excluded rules or an
//! object selector; `spec.autogen.podControllers.controllers` narrows the
//! controllers (an empty list: none). The paths are rewritten over the
//! spec's JSON text, as Kyverno rewrites them: `object.spec` and
//! `object.metadata` (and the same under `oldObject`) gain the template's
//! prefix, except when followed by `.namespace`.

use serde_json::{Value, json};

/// A controller: resource, group, version, and which template it has.
const CONTROLLERS: [(&str, &str, &str, Template); 6] = [
    ("daemonsets", "apps", "v1", Template::Pod),
    ("deployments", "apps", "v1", Template::Pod),
    ("replicasets", "apps", "v1", Template::Pod),
    ("statefulsets", "apps", "v1", Template::Pod),
    ("jobs", "batch", "v1", Template::Pod),
    ("cronjobs", "batch", "v1", Template::Job),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Template {
    /// `spec.template`.
    Pod,
    /// `spec.jobTemplate.spec.template`.
    Job,
}

impl Template {
    fn prefix(self) -> &'static str {
        match self {
            Template::Pod => "spec.template.",
            Template::Job => "spec.jobTemplate.spec.template.",
        }
    }

    /// Kyverno's name of the variant (`status.autogen.configs` key).
    pub(super) fn key(self) -> &'static str {
        match self {
            Template::Pod => "defaults",
            Template::Job => "cronjobs",
        }
    }
}

/// The autogen variants of an image policy document (`value`, as written):
/// `(config key, document)` for each template some controller uses.
pub(super) fn variants(value: &Value) -> Vec<(&'static str, Value)> {
    let Some(spec) = value.get("spec") else {
        return Vec::new();
    };
    let Some(operations) = pod_rule_operations(spec.get("matchConstraints")) else {
        return Vec::new();
    };
    let wanted: Option<Vec<&str>> = spec
        .pointer("/autogen/podControllers/controllers")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Value::as_str).collect());
    let text = spec.to_string();
    let mut out = Vec::new();
    for template in [Template::Pod, Template::Job] {
        let targets: Vec<&(&str, &str, &str, Template)> = CONTROLLERS
            .iter()
            .filter(|(resource, _, _, t)| {
                *t == template && wanted.as_ref().is_none_or(|w| w.contains(resource))
            })
            .collect();
        if targets.is_empty() {
            continue;
        }
        // One rule per group and version, resources sorted.
        let mut rules: Vec<Value> = Vec::new();
        let mut groups: Vec<(&str, &str)> = targets.iter().map(|(_, g, v, _)| (*g, *v)).collect();
        groups.sort();
        groups.dedup();
        for (group, version) in groups {
            let mut resources: Vec<&str> = targets
                .iter()
                .filter(|(_, g, v, _)| (*g, *v) == (group, version))
                .map(|(r, ..)| *r)
                .collect();
            resources.sort();
            rules.push(json!({
                "apiGroups": [group],
                "apiVersions": [version],
                "operations": operations,
                "resources": resources,
            }));
        }
        let Ok(mut new_spec) = serde_json::from_str::<Value>(&rewrite_paths(&text, template))
        else {
            continue;
        };
        let mut constraints = json!({"resourceRules": rules});
        if let Some(ns) = spec.pointer("/matchConstraints/namespaceSelector") {
            constraints["namespaceSelector"] = ns.clone();
        }
        new_spec["matchConstraints"] = constraints;
        let mut doc = value.clone();
        doc["spec"] = new_spec;
        out.push((template.key(), doc));
    }
    out
}

/// The operations of the one `pods` rule, when autogen applies.
fn pod_rule_operations(constraints: Option<&Value>) -> Option<Vec<Value>> {
    let c = constraints?;
    let empty = |v: Option<&Value>| match v {
        None | Some(Value::Null) => true,
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        Some(_) => false,
    };
    if !empty(c.pointer("/objectSelector/matchLabels"))
        || !empty(c.pointer("/objectSelector/matchExpressions"))
        || !empty(c.get("excludeResourceRules"))
    {
        return None;
    }
    let [rule] = c.get("resourceRules")?.as_array()?.as_slice() else {
        return None;
    };
    let exactly = |field: &str, want: &str| {
        rule.get(field)
            .and_then(Value::as_array)
            .is_some_and(|a| a.len() == 1 && a[0].as_str() == Some(want))
    };
    if !empty(rule.get("resourceNames"))
        || !exactly("apiGroups", "")
        || !exactly("apiVersions", "v1")
        || !exactly("resources", "pods")
    {
        return None;
    }
    let operations = rule.get("operations")?.as_array()?.clone();
    (!operations.is_empty()).then_some(operations)
}

/// `object.spec…` → `object.<template>spec…` and `object.metadata…` →
/// `object.<template>metadata…` (and under `oldObject.`), in one pass over
/// the text, except where the path goes on with `.namespace` as a whole
/// segment.
fn rewrite_paths(text: &str, template: Template) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'scan: while !rest.is_empty() {
        for root in ["oldObject.", "object."] {
            for field in ["spec", "metadata"] {
                let Some(after_root) = rest.strip_prefix(root) else {
                    continue;
                };
                let Some(after) = after_root.strip_prefix(field) else {
                    continue;
                };
                let kept = after.strip_prefix(".namespace").is_some_and(|tail| {
                    !tail
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                });
                out.push_str(root);
                if !kept {
                    out.push_str(template.prefix());
                }
                out.push_str(field);
                rest = after;
                continue 'scan;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_gain_the_template_prefix_as_kyverno_rewrites_them() {
        for (input, pods, cronjobs) in [
            (
                "object.spec.containers.map(e, e.image)",
                "object.spec.template.spec.containers.map(e, e.image)",
                "object.spec.jobTemplate.spec.template.spec.containers.map(e, e.image)",
            ),
            (
                "has(object.metadata.labels) && oldObject.metadata.name == 'x'",
                "has(object.spec.template.metadata.labels) && oldObject.spec.template.metadata.name == 'x'",
                "has(object.spec.jobTemplate.spec.template.metadata.labels) && oldObject.spec.jobTemplate.spec.template.metadata.name == 'x'",
            ),
            (
                "object.metadata.namespace == 'a' && object.metadata.namespaceFoo",
                "object.metadata.namespace == 'a' && object.spec.template.metadata.namespaceFoo",
                "object.metadata.namespace == 'a' && object.spec.jobTemplate.spec.template.metadata.namespaceFoo",
            ),
            (
                "images.containers",
                "images.containers",
                "images.containers",
            ),
        ] {
            assert_eq!(rewrite_paths(input, Template::Pod), pods);
            assert_eq!(rewrite_paths(input, Template::Job), cronjobs);
        }
    }

    fn doc(constraints: Value, autogen: Option<Value>) -> Value {
        let mut d = json!({"kind": "ImageValidatingPolicy", "metadata": {"name": "p"},
            "spec": {"matchConstraints": constraints,
                     "validations": [{"expression": "object.metadata.name != ''"}]}});
        if let Some(a) = autogen {
            d["spec"]["autogen"] = a;
        }
        d
    }

    fn pods() -> Value {
        json!({"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}],
               "namespaceSelector": {"matchLabels": {"team": "a"}}})
    }

    #[test]
    fn pod_policies_get_controller_variants() {
        let v = variants(&doc(pods(), None));
        let keys: Vec<&str> = v.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["defaults", "cronjobs"]);
        let defaults = &v[0].1["spec"];
        assert_eq!(
            defaults["matchConstraints"],
            json!({"resourceRules": [
                {"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE"],
                 "resources": ["daemonsets", "deployments", "replicasets", "statefulsets"]},
                {"apiGroups": ["batch"], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["jobs"]},
            ], "namespaceSelector": {"matchLabels": {"team": "a"}}})
        );
        assert_eq!(
            defaults["validations"][0]["expression"],
            "object.spec.template.metadata.name != ''"
        );
        assert_eq!(v[0].1["metadata"]["name"], "p");
        // Narrowed to deployments; none at all.
        let v = variants(&doc(
            pods(),
            Some(json!({"podControllers": {"controllers": ["deployments"]}})),
        ));
        assert_eq!(v.len(), 1);
        assert_eq!(
            v[0].1["spec"]["matchConstraints"]["resourceRules"][0]["resources"],
            json!(["deployments"])
        );
        let v = variants(&doc(
            pods(),
            Some(json!({"podControllers": {"controllers": []}})),
        ));
        assert!(v.is_empty());
    }

    #[test]
    fn other_constraints_get_no_variants() {
        let mut with_selector = pods();
        with_selector["objectSelector"] = json!({"matchLabels": {"prod": "nginx"}});
        let mut two_resources = pods();
        two_resources["resourceRules"][0]["resources"] = json!(["pods", "deployments"]);
        let mut named = pods();
        named["resourceRules"][0]["resourceNames"] = json!(["x"]);
        let mut excluded = pods();
        excluded["excludeResourceRules"] = pods()["resourceRules"].clone();
        for c in [with_selector, two_resources, named, excluded, Value::Null] {
            assert!(variants(&doc(c.clone(), None)).is_empty(), "{c}");
        }
    }
}
