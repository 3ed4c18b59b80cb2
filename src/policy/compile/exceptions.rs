//! `PolicyException` (`kyverno.io/v2`, `v2beta1`): which policy rules a
//! matching resource is exempt from. Given to the Kyverno CLI with `-e` or a
//! test's `exceptions:`; a matching exception turns the rule's result into
//! `skip` (spec/kyverno.md §4.1 step 4). The CEL `PolicyException`
//! (`policies.kyverno.io`) names image policies and exempts the requests
//! its `matchConditions` hold for (compiled by `super::ivpol`).

use super::{CompileError, Ctx, Lint};
use crate::conditions::Conditions;
use crate::policy::load::Document;
use crate::policy::model::{MatchResources, ObjectMeta};
use serde::Deserialize;
use serde_json::Value;

/// A compiled exception.
#[derive(Debug, Clone)]
pub struct CompiledException {
    /// `namespace/name` (or `name`), as Kyverno names it in messages.
    pub key: String,
    /// The policies and rules it exempts.
    pub exceptions: Vec<Exemption>,
    /// The resources it applies to.
    pub match_resources: MatchResources,
    /// Conditions that must also hold.
    pub conditions: Option<Conditions>,
}

/// `spec.exceptions[]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Exemption {
    /// The policy: `name`, or `namespace/name` for a Policy.
    #[serde(default)]
    pub policy_name: String,
    /// Rule names, with Kyverno's wildcards.
    #[serde(default)]
    pub rule_names: Vec<String>,
}

impl CompiledException {
    /// Whether it exempts this policy's rule (Kyverno's `Contains`).
    pub fn covers(&self, policy: &str, rule: &str) -> bool {
        self.exceptions.iter().any(|e| {
            e.policy_name == policy
                && e.rule_names
                    .iter()
                    .any(|r| crate::wildcard::matches(r, rule))
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExceptionDocument {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    metadata: ObjectMeta,
    spec: ExceptionSpec,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExceptionSpec {
    #[serde(default)]
    background: Option<bool>,
    #[serde(rename = "match")]
    match_resources: MatchResources,
    #[serde(default)]
    conditions: Option<Value>,
    #[serde(default)]
    exceptions: Vec<Exemption>,
    #[serde(default)]
    pod_security: Option<Value>,
}

/// The compiled exceptions of both kinds.
#[derive(Debug, Clone, Default)]
pub struct Exceptions {
    /// `kyverno.io` exceptions (ClusterPolicy rules).
    pub rules: Vec<CompiledException>,
    /// `policies.kyverno.io` CEL exceptions (image policies).
    pub image_policies: Vec<crate::policy::ivpol::ImagePolicyException>,
}

/// Compiles exception documents; other kinds are errors (exceptions are
/// given apart from policies).
pub fn compile_exceptions(
    docs: &[Document],
    lints: &mut Vec<Lint>,
) -> Result<Exceptions, Vec<CompileError>> {
    let mut out = Vec::new();
    let mut cel = Vec::new();
    let mut errors = Vec::new();
    for d in docs {
        let s = |p: &str| d.value.pointer(p).and_then(Value::as_str).unwrap_or("");
        let label = format!("{} {}/{}", d.origin, s("/kind"), s("/metadata/name"));
        let mut ctx = Ctx {
            document: &label,
            errors: Vec::new(),
            lints: Vec::new(),
        };
        match (s("/apiVersion"), s("/kind")) {
            ("kyverno.io/v2" | "kyverno.io/v2beta1", "PolicyException") => {}
            (api, "PolicyException") if super::ivpol::EXCEPTION_API_VERSIONS.contains(&api) => {
                let compiled = super::ivpol::compile_exception(&mut ctx, &d.value);
                lints.extend(ctx.lints);
                match compiled {
                    Some(e) if ctx.errors.is_empty() => cel.push(e),
                    _ => errors.extend(ctx.errors),
                }
                continue;
            }
            (api, kind) => {
                ctx.err(
                    "kind",
                    format!(
                        "{api} {kind} given as an exception: expected a kyverno.io/v2 or v2beta1 PolicyException, or a policies.kyverno.io PolicyException"
                    ),
                );
                errors.extend(ctx.errors);
                continue;
            }
        }
        let doc: ExceptionDocument = match serde_path_to_error::deserialize(&d.value) {
            Ok(doc) => doc,
            Err(e) => {
                ctx.err(e.path().to_string(), e.inner().to_string());
                errors.extend(ctx.errors);
                continue;
            }
        };
        let _ = (&doc.api_version, &doc.kind, doc.spec.background);
        if doc.metadata.name.is_empty() {
            ctx.err("metadata.name", "an exception name is required");
        }
        if doc.spec.exceptions.is_empty() {
            ctx.err("spec.exceptions", "at least one exception is required");
        }
        for (i, e) in doc.spec.exceptions.iter().enumerate() {
            if e.policy_name.is_empty() {
                ctx.err(
                    format!("spec.exceptions[{i}].policyName"),
                    "An exception requires a policy name",
                );
            }
        }
        if super::rules::match_is_empty(&doc.spec.match_resources) {
            ctx.err("spec.match", "match cannot be empty");
        }
        if doc.spec.pod_security.is_some() {
            ctx.lint(
                "spec.podSecurity",
                "podSecurity exemptions apply to Pod Security rules, which imgverify does not evaluate",
            );
        }
        let conditions = doc
            .spec
            .conditions
            .as_ref()
            .filter(|c| !c.is_null())
            .map(|c| super::context::compile_conditions(&mut ctx, "spec.conditions", c));
        let key = match &doc.metadata.namespace {
            Some(ns) if !ns.is_empty() => format!("{ns}/{}", doc.metadata.name),
            _ => doc.metadata.name.clone(),
        };
        lints.extend(ctx.lints);
        if ctx.errors.is_empty() {
            out.push(CompiledException {
                key,
                exceptions: doc.spec.exceptions,
                match_resources: doc.spec.match_resources,
                conditions,
            });
        } else {
            errors.extend(ctx.errors);
        }
    }
    if errors.is_empty() {
        Ok(Exceptions {
            rules: out,
            image_policies: cel,
        })
    } else {
        Err(errors)
    }
}
