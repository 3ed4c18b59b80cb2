//! What an image policy sees of the admission request: its resource
//! (group, version, plural), the CEL `request`, `namespaceObject`, and
//! `matchConstraints` as a ValidatingAdmissionPolicy matches them.

use super::super::{Meta, string_map};
use crate::engine::Request;
use crate::policy::ivpol::model::{MatchResources, NamedRuleWithOperations};
use crate::policy::matching;
use serde_json::{Value, json};

/// The requested resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Resource {
    pub(super) group: String,
    pub(super) version: String,
    /// The plural (`pods`).
    pub(super) resource: String,
    /// `status`, `ephemeralcontainers`, or empty.
    pub(super) sub_resource: String,
}

/// The request's resource: the webhook's `request.resource` and
/// `subResource`, or guessed from the object's `apiVersion` and `kind`.
pub(super) fn resource_of(req: &Request, meta: &Meta) -> Resource {
    if let Some(a) = &req.admission
        && let Some(r) = a.get("resource")
    {
        let s = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
        return Resource {
            group: s(r.get("group")),
            version: s(r.get("version")),
            resource: s(r.get("resource")),
            sub_resource: s(a.get("subResource")),
        };
    }
    Resource {
        group: meta.group.clone(),
        version: meta.version.clone(),
        resource: crate::admission::guess_resource(&meta.kind),
        sub_resource: String::new(),
    }
}

/// CEL `request`: the webhook's AdmissionRequest fields, or the same shape
/// built from the object (the CLI), with `object` and `oldObject`.
pub(super) fn request_value(req: &Request, meta: &Meta, resource: &Resource) -> Value {
    let mut r = match &req.admission {
        Some(Value::Object(o)) => Value::Object(o.clone()),
        _ => {
            let kind = json!({"group": meta.group, "version": meta.version, "kind": meta.kind});
            let gvr = json!({"group": resource.group, "version": resource.version, "resource": resource.resource});
            let user = req.user_info.as_ref();
            json!({
                "uid": "",
                "kind": kind,
                "resource": gvr,
                "requestKind": kind,
                "requestResource": gvr,
                "name": meta.name,
                "namespace": meta.namespace,
                "operation": req.operation,
                "userInfo": {
                    "username": user.map(|u| u.username.as_str()).unwrap_or(""),
                    "groups": user.map(|u| u.groups.clone()).unwrap_or_default(),
                },
                "dryRun": false,
            })
        }
    };
    if let Some(o) = r.as_object_mut() {
        o.insert("object".into(), object_or_null(req));
        o.insert(
            "oldObject".into(),
            req.old_object.clone().unwrap_or(Value::Null),
        );
    }
    r
}

/// The object a request is about: the old object on DELETE (when given).
pub(super) fn subject(req: &Request) -> &Value {
    match req.operation.as_str() {
        "DELETE" => req.old_object.as_ref().unwrap_or(&req.object),
        _ => &req.object,
    }
}

/// `object`: null on DELETE (the object is in `oldObject`).
pub(super) fn object_or_null(req: &Request) -> Value {
    if req.operation == "DELETE" {
        Value::Null
    } else {
        req.object.clone()
    }
}

/// CEL `namespaceObject`: the namespace's name and labels as known to this
/// request (the webhook reads the labels from the cluster), or null for a
/// cluster-scoped object.
pub(super) fn namespace_object(req: &Request, meta: &Meta) -> Value {
    if meta.namespace.is_empty() {
        return Value::Null;
    }
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": meta.namespace,
            "labels": req.namespace_labels.clone().unwrap_or_default(),
        },
    })
}

/// Whether `matchConstraints` selects the request (ValidatingAdmissionPolicy
/// semantics, as Kyverno's matcher applies them): namespace and object
/// selectors, excluded rules, then the rules (none: everything). Absent
/// constraints select everything.
pub(super) fn matches_constraints(
    constraints: Option<&MatchResources>,
    req: &Request,
    meta: &Meta,
    resource: &Resource,
) -> bool {
    let Some(c) = constraints else {
        return true;
    };
    if let Some(sel) = &c.namespace_selector
        && !namespace_selected(sel, req, meta, resource)
    {
        return false;
    }
    if let Some(sel) = &c.object_selector {
        // The object's labels, or the old object's on DELETE.
        let labels = match req.operation.as_str() {
            "DELETE" => req
                .old_object
                .as_ref()
                .map(|o| string_map(o.pointer("/metadata/labels")))
                .unwrap_or_default(),
            _ => meta.labels.clone(),
        };
        if !matching::selector_matches(sel, &labels, false) {
            return false;
        }
    }
    let field = |f: &str| {
        subject(req)
            .pointer(&format!("/metadata/{f}"))
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let (name, generate_name) = (field("name"), field("generateName"));
    let in_rules = |rules: &[NamedRuleWithOperations]| {
        rules
            .iter()
            .any(|r| rule_matches(r, req, meta, resource, name, generate_name))
    };
    if in_rules(c.exclude_resource_rules.as_deref().unwrap_or_default()) {
        return false;
    }
    match c.resource_rules.as_deref() {
        None | Some([]) => true,
        Some(rules) => in_rules(rules),
    }
}

/// A namespace selector: a Namespace is matched by its own labels, another
/// cluster-scoped object always, a namespaced one by its namespace's labels.
fn namespace_selected(
    sel: &crate::policy::model::LabelSelector,
    req: &Request,
    meta: &Meta,
    resource: &Resource,
) -> bool {
    if resource.resource == "namespaces" && resource.group.is_empty() {
        return matching::selector_matches(sel, &meta.labels, false);
    }
    if meta.namespace.is_empty() {
        return true;
    }
    let labels = req.namespace_labels.clone().unwrap_or_default();
    matching::selector_matches(sel, &labels, false)
}

/// One rule of `resourceRules`: operations, groups, versions, resources
/// (`*`, `pods/*`, `*/status`), scope, then names (a `generateName`
/// prefix stands for a name not yet given).
fn rule_matches(
    rule: &NamedRuleWithOperations,
    req: &Request,
    meta: &Meta,
    resource: &Resource,
    name: &str,
    generate_name: &str,
) -> bool {
    let any = |list: &Option<Vec<String>>, value: &str| {
        list.as_deref()
            .unwrap_or_default()
            .iter()
            .any(|x| x == "*" || x == value)
    };
    if !any(&rule.operations, &req.operation)
        || !any(&rule.api_groups, &resource.group)
        || !any(&rule.api_versions, &resource.version)
    {
        return false;
    }
    let resource_ok = rule
        .resources
        .as_deref()
        .unwrap_or_default()
        .iter()
        .any(|r| {
            let (res, sub) = r.split_once('/').unwrap_or((r, ""));
            (res == "*" || res == resource.resource) && (sub == "*" || sub == resource.sub_resource)
        });
    if !resource_ok {
        return false;
    }
    let namespaced = !meta.namespace.is_empty();
    let scope_ok = match rule.scope.as_deref() {
        None | Some("*") => true,
        Some("Cluster") => !namespaced,
        Some("Namespaced") => namespaced,
        Some(_) => false,
    };
    if !scope_ok {
        return false;
    }
    let names = rule.resource_names.as_deref().unwrap_or_default();
    if names.is_empty() {
        return true;
    }
    if name.is_empty() {
        return !generate_name.is_empty() && names.iter().any(|n| generate_name.starts_with(n));
    }
    names.iter().any(|n| n == name)
}
