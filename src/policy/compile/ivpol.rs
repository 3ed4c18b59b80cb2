//! Compiles an `ImageValidatingPolicy` or `NamespacedImageValidatingPolicy`:
//! defaults, every CEL expression parsed and type-checked in its
//! environment (a wrong type, an unknown function or an unknown attestor
//! or attestation name is a policy error naming the field), and the
//! attestors' trust material loaded once, by the compilers `verifyImages`
//! uses.

use super::verify_images::registry_access;
use super::{CompileError, Ctx, Lint};
use crate::cel::{Env, Program, Type, ast};
use crate::policy::compiled::FailurePolicy;
use crate::policy::ivpol::env::{self, PolicyEnv};
use crate::policy::ivpol::glob::Glob;
use crate::policy::ivpol::model::{self as m, ImagePolicyDocument};
use crate::policy::ivpol::{
    AttestationKind, CompiledImagePolicy, EvaluationMode, ImageAttestation, ImagePolicyKind,
    ImageReferenceMatcher, ImageValidation, NamedProgram, ValidationActions,
};
use crate::policy::load::Document;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Most entries in any one list of an image policy (validations,
/// attestors, variables, …).
const MAX_ENTRIES: usize = 64;

/// The API versions served for both kinds.
pub const API_VERSIONS: &[&str] = &[
    "policies.kyverno.io/v1",
    "policies.kyverno.io/v1beta1",
    "policies.kyverno.io/v1alpha1",
];

/// Compiles an image policy document: the policy and its warnings, or
/// every error (each naming the document and the field).
pub fn compile_document(
    d: &Document,
) -> Result<(CompiledImagePolicy, Vec<Lint>), Vec<CompileError>> {
    let kind = d.value.get("kind").and_then(|v| v.as_str()).unwrap_or("");
    let name = d
        .value
        .pointer("/metadata/name")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let label = format!("{} {kind}/{name}", d.origin);
    let mut ctx = Ctx {
        document: &label,
        errors: Vec::new(),
        lints: Vec::new(),
    };
    let api = d
        .value
        .get("apiVersion")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    if !API_VERSIONS.contains(&api) {
        ctx.err(
            "apiVersion",
            format!(
                "unknown apiVersion {api:?}: expected one of {}",
                API_VERSIONS.join(", ")
            ),
        );
    }
    if !matches!(
        kind,
        "ImageValidatingPolicy" | "NamespacedImageValidatingPolicy"
    ) {
        ctx.err("kind", format!("{kind:?} is not an image policy"));
    }
    if !ctx.errors.is_empty() {
        return Err(ctx.errors);
    }
    let parsed: Result<ImagePolicyDocument, _> = serde_path_to_error::deserialize(&d.value);
    let compiled = match parsed {
        Ok(doc) => compile_image_policy(&mut ctx, &doc, &d.origin),
        Err(e) => {
            ctx.err(e.path().to_string(), e.inner().to_string());
            None
        }
    };
    match compiled {
        Some(p) if ctx.errors.is_empty() => Ok((p, ctx.lints)),
        _ => Err(ctx.errors),
    }
}

/// Compiles an image policy document and its autogen variants: the same
/// policy, under the same name, for the pod controllers (see [`autogen`]).
/// A variant's warnings repeat the policy's and are left out.
pub fn compile_with_autogen(
    d: &Document,
) -> Result<(Vec<CompiledImagePolicy>, Vec<Lint>), Vec<CompileError>> {
    let (policy, lints) = compile_document(d)?;
    let mut out = vec![policy];
    for (key, value) in autogen::variants(&d.value) {
        let variant = Document {
            origin: format!("{} (autogen {key})", d.origin),
            value,
        };
        let mut policy = compile_document(&variant)?.0;
        policy.autogen = Some(key);
        out.push(policy);
    }
    Ok((out, lints))
}

/// The API versions of CEL `PolicyException`s.
pub const EXCEPTION_API_VERSIONS: &[&str] = &[
    "policies.kyverno.io/v1",
    "policies.kyverno.io/v1beta1",
    "policies.kyverno.io/v1alpha1",
];

/// Compiles a CEL `PolicyException` (`spec.policyRefs`, `spec.matchConditions`
/// checked in an image policy's environment); errors go to `ctx`.
pub(super) fn compile_exception(
    ctx: &mut Ctx,
    value: &serde_json::Value,
) -> Option<crate::policy::ivpol::ImagePolicyException> {
    let s = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).unwrap_or("").to_string();
    let name = s(value.pointer("/metadata/name"));
    if name.is_empty() {
        ctx.err("metadata.name", "an exception name is required");
    }
    let mut policy_refs = Vec::new();
    let refs = value
        .pointer("/spec/policyRefs")
        .and_then(|r| r.as_array())
        .cloned()
        .unwrap_or_default();
    if refs.is_empty() {
        ctx.err("spec.policyRefs", "must specify at least one policy ref");
    }
    for (i, r) in refs.iter().enumerate() {
        let (n, k) = (s(r.get("name")), s(r.get("kind")));
        if n.is_empty() {
            ctx.err(
                format!("spec.policyRefs[{i}].name"),
                "must specify policy name",
            );
        }
        if k.is_empty() {
            ctx.err(
                format!("spec.policyRefs[{i}].kind"),
                "must specify policy kind",
            );
        }
        policy_refs.push((n, k));
    }
    let conditions: Vec<m::NamedExpression> = match value.pointer("/spec/matchConditions").cloned()
    {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(v) => match serde_json::from_value(v) {
            Ok(c) => c,
            Err(e) => {
                ctx.err("spec.matchConditions", e.to_string());
                return None;
            }
        },
    };
    if conditions.len() > MAX_ENTRIES {
        ctx.err(
            "spec.matchConditions",
            format!("more than {MAX_ENTRIES} entries"),
        );
        return None;
    }
    let env = env::policy_env(EvaluationMode::Kubernetes, false);
    let match_conditions =
        named_programs(ctx, &env, "spec.matchConditions", &conditions, Expect::Bool);
    let key = super::report_name(value, true);
    Some(crate::policy::ivpol::ImagePolicyException {
        key,
        policy_refs,
        match_conditions,
        env: Arc::new(env),
    })
}

/// Compiles one document (its kind and apiVersion checked).
fn compile_image_policy(
    ctx: &mut Ctx,
    doc: &ImagePolicyDocument,
    origin: &str,
) -> Option<CompiledImagePolicy> {
    let spec = &doc.spec;
    if doc.metadata.name.is_empty() {
        ctx.err("metadata.name", "a policy name is required");
    }
    let kind = if doc.kind == "NamespacedImageValidatingPolicy" {
        ImagePolicyKind::Namespaced
    } else {
        ImagePolicyKind::Cluster
    };
    let namespace = (kind == ImagePolicyKind::Namespaced).then(|| {
        doc.metadata
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "default".to_string())
    });
    for (field, len) in [
        (
            "matchConditions",
            spec.match_conditions.as_ref().map_or(0, Vec::len),
        ),
        ("variables", spec.variables.as_ref().map_or(0, Vec::len)),
        (
            "matchImageReferences",
            spec.match_image_references.as_ref().map_or(0, Vec::len),
        ),
        ("images", spec.images.as_ref().map_or(0, Vec::len)),
        ("attestors", spec.attestors.as_ref().map_or(0, Vec::len)),
        (
            "attestations",
            spec.attestations.as_ref().map_or(0, Vec::len),
        ),
        ("validations", spec.validations.as_ref().map_or(0, Vec::len)),
        (
            "auditAnnotations",
            spec.audit_annotations.as_ref().map_or(0, Vec::len),
        ),
    ] {
        if len > MAX_ENTRIES {
            ctx.err(
                format!("spec.{field}"),
                format!("more than {MAX_ENTRIES} entries"),
            );
            return None;
        }
    }

    let failure_policy = match spec.failure_policy.as_deref() {
        None | Some("Fail") => FailurePolicy::Fail,
        Some("Ignore") => FailurePolicy::Ignore,
        Some(other) => {
            ctx.err(
                "spec.failurePolicy",
                format!("Unsupported value: {other:?}: supported values: \"Fail\", \"Ignore\""),
            );
            FailurePolicy::Fail
        }
    };
    let actions = validation_actions(ctx, spec.validation_actions.as_deref());
    let timeout_seconds = match spec
        .webhook_configuration
        .as_ref()
        .and_then(|w| w.timeout_seconds)
    {
        None => 10,
        Some(t @ 1..=30) => t as u32,
        Some(t) => {
            ctx.err(
                "spec.webhookConfiguration.timeoutSeconds",
                format!("the timeout value must be between 1 and 30 seconds, got {t}"),
            );
            10
        }
    };
    let evaluation = spec.evaluation.as_ref();
    let mode = match evaluation.and_then(|e| e.mode.as_deref()) {
        None | Some("" | "Kubernetes") => EvaluationMode::Kubernetes,
        Some("JSON") => EvaluationMode::Json,
        Some(other) => {
            ctx.err(
                "spec.evaluation.mode",
                format!("Unsupported value: {other:?}: supported values: \"Kubernetes\", \"JSON\""),
            );
            EvaluationMode::Kubernetes
        }
    };
    let enabled = |e: Option<&m::Enabled>| e.and_then(|e| e.enabled).unwrap_or(true);
    let admission = enabled(evaluation.and_then(|e| e.admission.as_ref()));
    let background = enabled(evaluation.and_then(|e| e.background.as_ref()));
    let configurations = spec.validation_configurations.clone().unwrap_or_default();

    let mut policy_env = env::policy_env(mode, kind == ImagePolicyKind::Namespaced);
    let match_env = env::match_image_env();

    let match_conditions = named_programs(
        ctx,
        &policy_env,
        "spec.matchConditions",
        spec.match_conditions.as_deref().unwrap_or_default(),
        Expect::Bool,
    );
    let variables = compile_variables(
        ctx,
        &mut policy_env,
        mode,
        spec.variables.as_deref().unwrap_or_default(),
    );
    let image_references = image_references(
        ctx,
        &match_env,
        spec.match_image_references.as_deref().unwrap_or_default(),
    );
    let extractors = named_programs(
        ctx,
        &policy_env,
        "spec.images",
        spec.images.as_deref().unwrap_or_default(),
        Expect::Images,
    );
    // Both are required fields of the CRD (present, possibly empty).
    for (field, present) in [
        ("attestors", spec.attestors.is_some()),
        ("validations", spec.validations.is_some()),
    ] {
        if !present {
            ctx.err(format!("spec.{field}"), "Required value");
        }
    }
    let attestors = attestors::compile_attestors(
        ctx,
        &policy_env,
        spec.attestors.as_deref().unwrap_or_default(),
    );
    let attestations = compile_attestations(ctx, spec.attestations.as_deref().unwrap_or_default());
    let names = Names {
        attestors: attestors.iter().map(|a| a.name.as_str()).collect(),
        attestations: attestations.iter().map(|a| a.name.as_str()).collect(),
    };
    let validations = compile_validations(
        ctx,
        &policy_env,
        &names,
        spec.validations.as_deref().unwrap_or_default(),
    );
    for (i, v) in variables.iter().enumerate() {
        names.check(ctx, &format!("spec.variables[{i}].expression"), &v.program);
    }
    let audit_annotations = spec
        .audit_annotations
        .as_deref()
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let path = format!("spec.auditAnnotations[{i}].valueExpression");
            if a.key.is_empty() {
                ctx.err(
                    format!("spec.auditAnnotations[{i}].key"),
                    "a key is required",
                );
            }
            let program = compile(
                ctx,
                &policy_env,
                &path,
                &a.value_expression,
                Expect::StringOrNull,
            )?;
            names.check(ctx, &path, &program);
            Some(NamedProgram {
                name: a.key.clone(),
                program,
            })
        })
        .collect();
    let autogen_controllers = spec
        .autogen
        .as_ref()
        .and_then(|a| a.pod_controllers.as_ref())
        .and_then(|p| p.controllers.clone());

    Some(CompiledImagePolicy {
        name: doc.metadata.name.clone(),
        namespace,
        kind,
        origin: origin.to_string(),
        match_constraints: spec.match_constraints.clone(),
        match_conditions,
        variables,
        image_references,
        extractors,
        attestors,
        attestations,
        validations,
        audit_annotations,
        actions,
        failure_policy,
        timeout_seconds,
        mode,
        admission,
        background,
        mutate_digest: configurations.mutate_digest.unwrap_or(true),
        verify_digest: configurations.verify_digest.unwrap_or(true),
        required: configurations.required.unwrap_or(true),
        autogen_controllers,
        autogen: None,
        access: registry_access(spec.credentials.as_ref()),
        env: PolicyEnv {
            policy: Arc::new(policy_env),
            match_image: Arc::new(match_env),
        },
    })
}

fn validation_actions(ctx: &mut Ctx, actions: Option<&[String]>) -> ValidationActions {
    let mut out = ValidationActions::default();
    let actions = match actions {
        None | Some([]) => {
            out.deny = true;
            return out;
        }
        Some(a) => a,
    };
    let mut seen = BTreeSet::new();
    for (i, a) in actions.iter().enumerate() {
        if !seen.insert(a.as_str()) {
            ctx.err(
                format!("spec.validationActions[{i}]"),
                format!("Duplicate value: {a:?}"),
            );
        }
        match a.as_str() {
            "Deny" => out.deny = true,
            "Audit" => out.audit = true,
            "Warn" => out.warn = true,
            other => ctx.err(
                format!("spec.validationActions[{i}]"),
                format!(
                    "Unsupported value: {other:?}: supported values: \"Audit\", \"Deny\", \"Warn\""
                ),
            ),
        }
    }
    out
}

/// What an expression must yield (Kyverno checks the static type).
#[derive(Clone, Copy, PartialEq)]
enum Expect {
    Any,
    Bool,
    String,
    StringOrNull,
    /// A string, or a `dyn` that must be one at run time.
    StringOrDyn,
    /// `list(string)`, `list(dyn)` or `dyn`.
    Images,
}

fn compile(ctx: &mut Ctx, env: &Env, path: &str, source: &str, expect: Expect) -> Option<Program> {
    if source.trim().is_empty() {
        ctx.err(path, "an expression is required");
        return None;
    }
    let program = match env.compile(source) {
        Ok(p) => p,
        Err(e) => {
            ctx.err(path, format!("compilation failed: {e}"));
            return None;
        }
    };
    let t = program.result_type();
    let ok = match expect {
        Expect::Any => true,
        Expect::Bool => *t == Type::Bool,
        Expect::String => *t == Type::String,
        Expect::StringOrNull => matches!(t, Type::String | Type::Null),
        Expect::StringOrDyn => matches!(t, Type::String | Type::Dyn),
        Expect::Images => {
            *t == Type::Dyn || *t == Type::list(Type::String) || *t == Type::list(Type::Dyn)
        }
    };
    if !ok {
        let want = match expect {
            Expect::Bool => "bool",
            Expect::String => "string",
            Expect::StringOrNull => "string or null",
            Expect::StringOrDyn => "string",
            Expect::Images => "list(string)",
            Expect::Any => "",
        };
        ctx.err(
            path,
            format!(
                "output is expected to be of type {want}, found {}",
                crate::cel::checker::show(t)
            ),
        );
        return None;
    }
    Some(program)
}

fn named_programs(
    ctx: &mut Ctx,
    env: &Env,
    field: &str,
    entries: &[m::NamedExpression],
    expect: Expect,
) -> Vec<NamedProgram> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        unique_name(ctx, &mut seen, &format!("{field}[{i}]"), &e.name, "name");
        if let Some(program) = compile(
            ctx,
            env,
            &format!("{field}[{i}].expression"),
            &e.expression,
            expect,
        ) {
            out.push(NamedProgram {
                name: e.name.clone(),
                program,
            });
        }
    }
    out
}

/// Variables in order, each declared (with its type) for the expressions
/// after it; in JSON mode they are compiled but, as in Kyverno, cannot be
/// referred to.
fn compile_variables(
    ctx: &mut Ctx,
    env: &mut Env,
    mode: EvaluationMode,
    entries: &[m::NamedExpression],
) -> Vec<NamedProgram> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let path = format!("spec.variables[{i}]");
        if !is_identifier(&e.name) {
            ctx.err(
                format!("{path}.name"),
                format!("{:?} is not a valid variable name", e.name),
            );
            continue;
        }
        if !unique_name(ctx, &mut seen, &path, &e.name, "variable") {
            continue;
        }
        if let Some(program) = compile(
            ctx,
            env,
            &format!("{path}.expression"),
            &e.expression,
            Expect::Any,
        ) {
            if mode == EvaluationMode::Kubernetes {
                env.declare(&env::variable_name(&e.name), program.result_type().clone());
            }
            out.push(NamedProgram {
                name: e.name.clone(),
                program,
            });
        }
    }
    out
}

/// Whether the entry at `path` has a name not seen before in its list;
/// otherwise the error is recorded at `path.name`.
fn unique_name<'a>(
    ctx: &mut Ctx,
    seen: &mut BTreeSet<&'a str>,
    path: &str,
    name: &'a str,
    what: &str,
) -> bool {
    if name.is_empty() {
        ctx.err(format!("{path}.name"), "a name is required");
        return false;
    }
    if !seen.insert(name) {
        ctx.err(format!("{path}.name"), format!("duplicate {what} {name:?}"));
        return false;
    }
    true
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn image_references(
    ctx: &mut Ctx,
    env: &Env,
    entries: &[m::MatchImageReference],
) -> Vec<ImageReferenceMatcher> {
    let mut out = Vec::new();
    for (i, r) in entries.iter().enumerate() {
        let path = format!("spec.matchImageReferences[{i}]");
        let glob = r.glob.as_deref().filter(|g| !g.is_empty());
        let expression = r.expression.as_deref().filter(|e| !e.is_empty());
        match (glob, expression) {
            (Some(g), None) => match Glob::new(g) {
                Ok(g) => out.push(ImageReferenceMatcher::Glob(g)),
                Err(e) => ctx.err(format!("{path}.glob"), e.to_string()),
            },
            (None, Some(x)) => {
                if let Some(p) = compile(ctx, env, &format!("{path}.expression"), x, Expect::Bool) {
                    out.push(ImageReferenceMatcher::Expression(p));
                }
            }
            _ => ctx.err(path, "exactly one of glob or expression is required"),
        }
    }
    out
}

fn compile_attestations(ctx: &mut Ctx, entries: &[m::Attestation]) -> Vec<ImageAttestation> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, a) in entries.iter().enumerate() {
        let path = format!("spec.attestations[{i}]");
        if !unique_name(ctx, &mut seen, &path, &a.name, "attestation") {
            continue;
        }
        let kind = match (&a.intoto, &a.referrer) {
            (Some(t), None) if !t.type_name.is_empty() => {
                AttestationKind::InToto(t.type_name.clone())
            }
            (None, Some(t)) if !t.type_name.is_empty() => {
                AttestationKind::Referrer(t.type_name.clone())
            }
            (Some(_), None) => {
                ctx.err(format!("{path}.intoto.type"), "a type is required");
                continue;
            }
            (None, Some(_)) => {
                ctx.err(format!("{path}.referrer.type"), "a type is required");
                continue;
            }
            _ => {
                ctx.err(path, "exactly one of intoto or referrer is required");
                continue;
            }
        };
        out.push(ImageAttestation {
            name: a.name.clone(),
            kind,
        });
    }
    out
}

fn compile_validations(
    ctx: &mut Ctx,
    env: &Env,
    names: &Names<'_>,
    entries: &[m::Validation],
) -> Vec<ImageValidation> {
    let mut out = Vec::new();
    for (i, v) in entries.iter().enumerate() {
        let path = format!("spec.validations[{i}]");
        let expression = compile(
            ctx,
            env,
            &format!("{path}.expression"),
            &v.expression,
            Expect::Bool,
        );
        let message_expression = v
            .message_expression
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .and_then(|s| {
                compile(
                    ctx,
                    env,
                    &format!("{path}.messageExpression"),
                    s,
                    Expect::String,
                )
            });
        if let Some(p) = &expression {
            names.check(ctx, &format!("{path}.expression"), p);
        }
        if let Some(p) = &message_expression {
            names.check(ctx, &format!("{path}.messageExpression"), p);
        }
        if let Some(expression) = expression {
            out.push(ImageValidation {
                expression,
                message: v.message.clone().filter(|m| !m.is_empty()),
                message_expression,
                reason: v.reason.clone(),
            });
        }
    }
    out
}

/// The attestor and attestation names expressions may select.
struct Names<'a> {
    attestors: BTreeSet<&'a str>,
    attestations: BTreeSet<&'a str>,
}

impl Names<'_> {
    /// `attestors.<x>` and `attestations.<x>` must name declared entries.
    fn check(&self, ctx: &mut Ctx, path: &str, program: &Program) {
        let mut unknown = Vec::new();
        program.visit(&mut |e: &ast::Expr| {
            if let ast::ExprKind::Select {
                operand,
                field,
                test: false,
                ..
            } = &e.kind
                && let ast::ExprKind::Ident(root) = &operand.kind
            {
                let (known, what) = match root.as_str() {
                    env::names::ATTESTORS => (&self.attestors, "attestor"),
                    env::names::ATTESTATIONS => (&self.attestations, "attestation"),
                    _ => return,
                };
                if !known.contains(field.as_str()) {
                    unknown.push(format!("unknown {what} {field:?}"));
                }
            }
        });
        for u in unknown {
            ctx.err(path, u);
        }
    }
}

mod attestors;
mod autogen;
pub use attestors::{compile_deferred, resolve_tuf_roots};
#[cfg(test)]
mod tests;
