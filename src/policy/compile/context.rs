//! A rule's `context` entries, `preconditions`, and the conditions and
//! expressions inside them: parsed, and every `{{ }}` expression and
//! `jmesPath` checked (syntax and function names) when the policy loads.

use super::Ctx;
use crate::conditions::{Conditions, functions, variables};
use crate::policy::compiled::{ContextEntry, ContextSource};
use serde_json::Value;

/// Checks every `{{ }}` expression in the strings of `v`.
pub(super) fn check_expressions(ctx: &mut Ctx, path: &str, v: &Value) {
    match v {
        Value::String(s) => {
            for expr in variables::variables_in(s) {
                if variables::has_variables(&expr) {
                    // A nested variable: its text is known only at evaluation.
                    continue;
                }
                if let Err(e) = functions::validate(&expr) {
                    ctx.err(path, e.to_string());
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                check_expressions(ctx, &format!("{path}[{i}]"), x);
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                check_expressions(ctx, &format!("{path}.{k}"), x);
            }
        }
        _ => {}
    }
}

/// Parses conditions at `path`, reporting errors and deprecations, and
/// checks their expressions.
pub(super) fn compile_conditions(ctx: &mut Ctx, path: &str, v: &Value) -> Conditions {
    let (conditions, problems) = Conditions::parse(v, path);
    for p in problems {
        if p.is_warning() {
            ctx.lint(p.path.clone(), p.reason.clone());
        } else {
            ctx.err(p.path.clone(), p.reason.clone());
        }
    }
    check_expressions(ctx, path, v);
    conditions
}

/// Checks a `jmesPath` field (unless it holds variables, resolved later).
fn check_jmes_path(ctx: &mut Ctx, path: &str, expr: &str) {
    if variables::has_variables(expr) {
        check_expressions(ctx, path, &Value::String(expr.to_string()));
    } else if let Err(e) = functions::validate(expr) {
        ctx.err(path, e.to_string());
    }
}

fn string_field(ctx: &mut Ctx, path: &str, o: &serde_json::Map<String, Value>, k: &str) -> String {
    match o.get(k) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            ctx.err(format!("{path}.{k}"), "must be a string");
            String::new()
        }
    }
}

fn unknown_fields(ctx: &mut Ctx, path: &str, o: &serde_json::Map<String, Value>, known: &[&str]) {
    for k in o.keys() {
        if !known.contains(&k.as_str()) {
            ctx.err(format!("{path}.{k}"), "unknown field");
        }
    }
}

/// Compiles the `context` list.
pub(super) fn compile_context(ctx: &mut Ctx, path: &str, v: &Value) -> Vec<ContextEntry> {
    let Some(list) = v.as_array() else {
        if !v.is_null() {
            ctx.err(path, "context must be a list of entries");
        }
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, e) in list.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let Some(o) = e.as_object() else {
            ctx.err(&p, "a context entry must be an object");
            continue;
        };
        unknown_fields(
            ctx,
            &p,
            o,
            &[
                "name",
                "variable",
                "configMap",
                "apiCall",
                "imageRegistry",
                "globalReference",
            ],
        );
        let name = string_field(ctx, &p, o, "name");
        if name.is_empty() {
            ctx.err(format!("{p}.name"), "a context entry needs a name");
        }
        let sources: Vec<&str> = [
            "variable",
            "configMap",
            "apiCall",
            "imageRegistry",
            "globalReference",
        ]
        .into_iter()
        .filter(|k| o.get(*k).is_some_and(|v| !v.is_null()))
        .collect();
        if sources.len() != 1 {
            ctx.err(
                &p,
                "a context entry needs exactly one of variable, configMap, apiCall, imageRegistry or globalReference",
            );
            continue;
        }
        let kind = sources[0];
        let sp = format!("{p}.{kind}");
        let Some(src) = o.get(kind).and_then(Value::as_object) else {
            ctx.err(&sp, "must be an object");
            continue;
        };
        let source = match kind {
            "variable" => {
                unknown_fields(ctx, &sp, src, &["value", "jmesPath", "default"]);
                let jmes_path = string_field(ctx, &sp, src, "jmesPath");
                if !jmes_path.is_empty() {
                    check_jmes_path(ctx, &format!("{sp}.jmesPath"), &jmes_path);
                }
                let value = src.get("value").filter(|v| !v.is_null()).cloned();
                let default = src.get("default").filter(|v| !v.is_null()).cloned();
                for (k, v) in [("value", &value), ("default", &default)] {
                    if let Some(v) = v {
                        check_expressions(ctx, &format!("{sp}.{k}"), v);
                    }
                }
                if value.is_none() && jmes_path.is_empty() && default.is_none() {
                    ctx.err(&sp, "a variable needs a value, a jmesPath or a default");
                }
                ContextSource::Variable {
                    value,
                    jmes_path: Some(jmes_path).filter(|j| !j.is_empty()),
                    default,
                }
            }
            "configMap" => {
                unknown_fields(ctx, &sp, src, &["name", "namespace"]);
                let name = string_field(ctx, &sp, src, "name");
                let namespace = string_field(ctx, &sp, src, "namespace");
                if name.is_empty() {
                    ctx.err(format!("{sp}.name"), "a configMap needs a name");
                }
                check_expressions(ctx, &sp, &Value::Object(src.clone()));
                ContextSource::ConfigMap { name, namespace }
            }
            "apiCall" => {
                unknown_fields(
                    ctx,
                    &sp,
                    src,
                    &[
                        "urlPath", "method", "data", "jmesPath", "default", "service",
                    ],
                );
                if src.get("service").is_some_and(|s| !s.is_null()) {
                    ctx.err(
                        format!("{sp}.service"),
                        "apiCall.service (calls to other web services) is not supported: imgverify answers apiCall from the Kubernetes API only",
                    );
                }
                let url_path = string_field(ctx, &sp, src, "urlPath");
                if url_path.is_empty() {
                    ctx.err(format!("{sp}.urlPath"), "an apiCall needs a urlPath");
                }
                let method = match string_field(ctx, &sp, src, "method").as_str() {
                    "" | "GET" => "GET".to_string(),
                    "POST" => "POST".to_string(),
                    other => {
                        ctx.err(
                            format!("{sp}.method"),
                            format!("unsupported value {other:?}: must be GET or POST"),
                        );
                        "GET".to_string()
                    }
                };
                let jmes_path = string_field(ctx, &sp, src, "jmesPath");
                if !jmes_path.is_empty() {
                    check_jmes_path(ctx, &format!("{sp}.jmesPath"), &jmes_path);
                }
                check_expressions(ctx, &sp, &Value::Object(src.clone()));
                ContextSource::ApiCall {
                    url_path,
                    method,
                    data: src.get("data").cloned().unwrap_or(Value::Null),
                    jmes_path: Some(jmes_path).filter(|j| !j.is_empty()),
                    default: src.get("default").filter(|v| !v.is_null()).cloned(),
                }
            }
            "imageRegistry" => {
                unknown_fields(
                    ctx,
                    &sp,
                    src,
                    &["reference", "jmesPath", "imageRegistryCredentials"],
                );
                let reference = string_field(ctx, &sp, src, "reference");
                if reference.is_empty() {
                    ctx.err(
                        format!("{sp}.reference"),
                        "an imageRegistry entry needs a reference",
                    );
                }
                let jmes_path = string_field(ctx, &sp, src, "jmesPath");
                if !jmes_path.is_empty() {
                    check_jmes_path(ctx, &format!("{sp}.jmesPath"), &jmes_path);
                }
                check_expressions(ctx, &sp, &Value::Object(src.clone()));
                ContextSource::ImageRegistry {
                    reference,
                    jmes_path: Some(jmes_path).filter(|j| !j.is_empty()),
                    access: super::verify_images::registry_access(
                        src.get("imageRegistryCredentials"),
                    ),
                }
            }
            _ => {
                unknown_fields(ctx, &sp, src, &["name", "jmesPath"]);
                let name = string_field(ctx, &sp, src, "name");
                if name.is_empty() {
                    ctx.err(
                        format!("{sp}.name"),
                        "a globalReference entry needs the name of a GlobalContextEntry",
                    );
                }
                let jmes_path = string_field(ctx, &sp, src, "jmesPath");
                if !jmes_path.is_empty() {
                    check_jmes_path(ctx, &format!("{sp}.jmesPath"), &jmes_path);
                }
                check_expressions(ctx, &sp, &Value::Object(src.clone()));
                ContextSource::GlobalReference {
                    name,
                    jmes_path: Some(jmes_path).filter(|j| !j.is_empty()),
                }
            }
        };
        out.push(ContextEntry { name, source });
    }
    out
}
