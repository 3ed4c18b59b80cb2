//! Compiling policy documents: CRD defaults, `Convert()` of deprecated
//! fields, Kyverno's validation errors, key loading and autogen.
//!
//! - this module: documents and policy-level fields;
//! - [`rules`]: rules, match/exclude checks and lints;
//! - [`verify_images`]: `verifyImages` entries and attestor sets;
//! - [`convert`]: deprecated entry fields into their current form;
//! - [`keys`]: public keys and transparency-log requirements.

mod context;
mod convert;
pub mod exceptions;
pub mod global_context;
pub mod ivpol;
mod keys;
mod notary;
mod rules;
mod verify_images;

use super::autogen;
use super::compiled::{Action, ActionOverride, CompiledPolicy, FailurePolicy};
use super::load::Document;
use super::model::PolicyDocument;
use crate::limits;
use rules::compile_rule;
use serde_json::Value;

/// A compile error naming the document, the field path and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("{document}: {path}: {message}")]
pub struct CompileError {
    /// Document origin and `Kind/name`.
    pub document: String,
    /// Field path, e.g. `spec.rules[0].verifyImages[0].attestors[0].count`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// A non-fatal finding about a policy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Lint {
    /// Document origin and `Kind/name`.
    pub document: String,
    /// Field path.
    pub path: String,
    /// The warning.
    pub message: String,
}

/// Output of compiling a document set.
#[derive(Debug, Clone, Default)]
pub struct CompileOutput {
    /// The policies.
    pub policies: Vec<CompiledPolicy>,
    /// The image policies (`ImageValidatingPolicy` and its namespaced kind).
    pub image_policies: Vec<crate::policy::ivpol::CompiledImagePolicy>,
    /// Warnings (policies that verify nothing, deprecated fields, skipped kinds).
    pub lints: Vec<Lint>,
    /// Policies left out for their errors (only when invalid policies are
    /// skipped rather than failing the whole set).
    pub invalid: Vec<InvalidPolicy>,
    /// `GlobalContextEntry` documents, by name.
    pub global_context: Vec<crate::policy::compiled::GlobalContextEntry>,
}

/// A policy left out of the set for its errors.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InvalidPolicy {
    /// `metadata.name` (`namespace/name` for a Policy), as reports name it.
    pub name: String,
    /// Its errors.
    pub errors: Vec<CompileError>,
}

struct Ctx<'a> {
    document: &'a str,
    errors: Vec<CompileError>,
    lints: Vec<Lint>,
}

impl Ctx<'_> {
    fn err(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.errors.push(CompileError {
            document: self.document.to_string(),
            path: path.into(),
            message: message.into(),
        });
    }
    fn lint(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.lints.push(Lint {
            document: self.document.to_string(),
            path: path.into(),
            message: message.into(),
        });
    }
}

/// Compiles every policy document; non-policy documents are reported as lints.
/// All errors of all documents are returned together.
///
/// With `skip_invalid` (Kyverno's CLI), a policy with errors is left out and
/// listed in [`CompileOutput::invalid`]; otherwise any error fails the set.
pub fn compile_documents(
    docs: &[Document],
    skip_invalid: bool,
) -> Result<CompileOutput, Vec<CompileError>> {
    let mut out = CompileOutput::default();
    let mut errors = Vec::new();
    for d in docs {
        let kind = d.value.get("kind").and_then(Value::as_str).unwrap_or("");
        let api = d
            .value
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        let name = d
            .value
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let label = format!("{} {kind}/{name}", d.origin);
        match (api, kind) {
            ("kyverno.io/v1" | "kyverno.io/v2beta1", "ClusterPolicy" | "Policy") => {}
            (_, "ClusterPolicy" | "Policy") => {
                out.lints.push(Lint {
                    document: label,
                    path: "apiVersion".into(),
                    message: format!(
                        "unknown apiVersion {api:?} for {kind}: expected kyverno.io/v1 or kyverno.io/v2beta1; this document is ignored and enforces nothing"
                    ),
                });
                continue;
            }
            (api, "GlobalContextEntry") if global_context::API_VERSIONS.contains(&api) => {
                if out.global_context.len() >= limits::MAX_GLOBAL_CONTEXT_ENTRIES {
                    errors.push(CompileError {
                        document: label,
                        path: String::new(),
                        message: format!(
                            "too many global context entries (limit {})",
                            limits::MAX_GLOBAL_CONTEXT_ENTRIES
                        ),
                    });
                    break;
                }
                match global_context::compile(&label, &d.value) {
                    Ok(e) if out.global_context.iter().any(|g| g.name == e.name) => {
                        errors.push(CompileError {
                            document: label,
                            path: "metadata.name".into(),
                            message: format!("duplicate global context entry {:?}", e.name),
                        });
                    }
                    Ok(e) => out.global_context.push(e),
                    Err(errs) if skip_invalid => out.invalid.push(InvalidPolicy {
                        name: report_name(&d.value, false),
                        errors: errs,
                    }),
                    Err(errs) => errors.extend(errs),
                }
                continue;
            }
            (_, "ImageValidatingPolicy" | "NamespacedImageValidatingPolicy") => {
                if out.policies.len() + out.image_policies.len() >= limits::MAX_POLICIES {
                    errors.push(too_many(label));
                    break;
                }
                match ivpol::compile_with_autogen(d) {
                    Ok((p, lints)) => {
                        out.image_policies.extend(p);
                        out.lints.extend(lints);
                    }
                    Err(errs) if skip_invalid => out.invalid.push(InvalidPolicy {
                        name: report_name(&d.value, kind == "NamespacedImageValidatingPolicy"),
                        errors: errs,
                    }),
                    Err(errs) => errors.extend(errs),
                }
                continue;
            }
            _ => {
                out.lints.push(Lint {
                    document: label,
                    path: String::new(),
                    message: format!("{api} {kind} is not a Kyverno policy; ignored"),
                });
                continue;
            }
        }
        if out.policies.len() + out.image_policies.len() >= limits::MAX_POLICIES {
            errors.push(too_many(label));
            break;
        }
        let mut ctx = Ctx {
            document: &label,
            errors: Vec::new(),
            lints: Vec::new(),
        };
        let parsed: Result<PolicyDocument, _> = serde_path_to_error::deserialize(&d.value);
        match parsed {
            Ok(doc) => {
                if let Some(p) = compile_policy(&mut ctx, &doc, &d.origin)
                    && ctx.errors.is_empty()
                {
                    out.policies.push(p);
                }
            }
            Err(e) => ctx.err(e.path().to_string(), e.inner().to_string()),
        }
        if skip_invalid && !ctx.errors.is_empty() {
            out.invalid.push(InvalidPolicy {
                name: report_name(&d.value, kind == "Policy"),
                errors: ctx.errors,
            });
            out.lints.extend(ctx.lints);
            continue;
        }
        errors.extend(ctx.errors);
        out.lints.extend(ctx.lints);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The error for a document past [`limits::MAX_POLICIES`] (image
/// policies' autogen variants count).
fn too_many(document: String) -> CompileError {
    CompileError {
        document,
        path: String::new(),
        message: format!("too many policies (limit {})", limits::MAX_POLICIES),
    }
}

/// A document's name as reports give it: `namespace/name` for a
/// namespaced kind with a namespace, else `name`.
fn report_name(value: &Value, namespaced: bool) -> String {
    let s = |p: &str| value.pointer(p).and_then(Value::as_str);
    let name = s("/metadata/name").unwrap_or("");
    match s("/metadata/namespace").filter(|ns| namespaced && !ns.is_empty()) {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

fn compile_policy(ctx: &mut Ctx, doc: &PolicyDocument, origin: &str) -> Option<CompiledPolicy> {
    let spec = &doc.spec;
    if doc.metadata.name.is_empty() {
        ctx.err("metadata.name", "a policy name is required");
    }
    let namespace = match doc.kind.as_str() {
        "Policy" => Some(
            doc.metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "default".to_string()),
        ),
        _ => None,
    };
    let action = match spec.validation_failure_action.as_deref() {
        None | Some("") => Action::Audit,
        Some(s) => Action::parse(s).unwrap_or_else(|| {
            ctx.err(
                "spec.validationFailureAction",
                format!("unsupported value {s:?}: must be Audit or Enforce"),
            );
            Action::Audit
        }),
    };
    if spec.validation_failure_action.is_some() {
        ctx.lint(
            "spec.validationFailureAction",
            "deprecated: use verifyImages[].failureAction",
        );
    }
    let mut overrides = Vec::new();
    for (i, o) in spec.validation_failure_action_overrides.iter().enumerate() {
        match Action::parse(&o.action) {
            Some(a) => overrides.push(ActionOverride {
                action: a,
                namespaces: o.namespaces.clone(),
                namespace_selector: o.namespace_selector.clone(),
            }),
            None => ctx.err(
                format!("spec.validationFailureActionOverrides[{i}].action"),
                format!("unsupported value {:?}: must be Audit or Enforce", o.action),
            ),
        }
    }
    let wc = spec.webhook_configuration.clone().unwrap_or_default();
    if spec.failure_policy.is_some() && wc.failure_policy.is_some() {
        ctx.err(
            "spec.failurePolicy",
            "failurePolicy and webhookConfiguration.failurePolicy cannot both be set",
        );
    }
    let failure_policy = match wc
        .failure_policy
        .as_deref()
        .or(spec.failure_policy.as_deref())
    {
        None | Some("Fail") => FailurePolicy::Fail,
        Some("Ignore") => FailurePolicy::Ignore,
        Some(s) => {
            ctx.err(
                "spec.webhookConfiguration.failurePolicy",
                format!("unsupported value {s:?}: must be Fail or Ignore"),
            );
            FailurePolicy::Fail
        }
    };
    if spec.webhook_timeout_seconds.is_some() && wc.timeout_seconds.is_some() {
        ctx.err(
            "spec.webhookTimeoutSeconds",
            "webhookTimeoutSeconds and webhookConfiguration.timeoutSeconds cannot both be set",
        );
    }
    let timeout = wc
        .timeout_seconds
        .or(spec.webhook_timeout_seconds)
        .unwrap_or(10);
    if !(1..=30).contains(&timeout) {
        ctx.err(
            "spec.webhookConfiguration.timeoutSeconds",
            format!("the timeout value must be between 1 and 30 seconds, got {timeout}"),
        );
    }
    let apply_one = match spec.apply_rules.as_deref() {
        None | Some("All") => false,
        Some("One") => true,
        Some(s) => {
            ctx.err(
                "spec.applyRules",
                format!("unsupported value {s:?}: must be All or One"),
            );
            false
        }
    };
    if spec.rules.len() > limits::MAX_RULES_PER_POLICY {
        ctx.err(
            "spec.rules",
            format!("too many rules (limit {})", limits::MAX_RULES_PER_POLICY),
        );
        return None;
    }
    let mut rules = Vec::new();
    let mut has_generate_or_json6902 = false;
    for (i, r) in spec.rules.iter().enumerate() {
        let path = format!("spec.rules[{i}]");
        if r.generate.is_some() {
            has_generate_or_json6902 = true;
        }
        if r.mutate
            .as_ref()
            .and_then(|m| m.get("patchesJson6902"))
            .is_some()
        {
            has_generate_or_json6902 = true;
        }
        if let Some(rule) = compile_rule(ctx, &path, r, action, spec.background.unwrap_or(true)) {
            rules.push(rule);
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for r in &rules {
        if !seen.insert(r.name.clone()) {
            ctx.err("spec.rules", format!("duplicate rule name {:?}", r.name));
        }
    }
    let allowed = autogen::eligible(&rules, has_generate_or_json6902);
    let controllers = autogen::controllers(&doc.metadata.annotations);
    let rules = autogen::compute_rules(rules, &controllers, allowed);
    let ann = &doc.metadata.annotations;
    Some(CompiledPolicy {
        name: doc.metadata.name.clone(),
        namespace,
        origin: format!("{origin} {}/{}", doc.kind, doc.metadata.name),
        action,
        overrides,
        failure_policy,
        timeout_seconds: timeout.clamp(1, 30) as u32,
        background: spec.background.unwrap_or(true),
        apply_one,
        emit_warning: spec.emit_warning.unwrap_or(false),
        scored: ann.get("policies.kyverno.io/scored").map(String::as_str) != Some("false"),
        category: ann.get("policies.kyverno.io/category").cloned(),
        severity: ann.get("policies.kyverno.io/severity").cloned(),
        rules,
    })
}

/// Whether a string holds a Kyverno variable (`{{ … }}`).
fn has_variable(s: &str) -> bool {
    s.contains("{{")
}
