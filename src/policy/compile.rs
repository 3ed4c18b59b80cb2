//! Compiling policy documents: CRD defaults, `Convert()` of deprecated
//! fields, Kyverno's validation errors, key loading and autogen.

use super::autogen;
use super::compiled::*;
use super::load::Document;
use super::model::{self, PolicyDocument};
use crate::crypto::{HashAlgorithm, PublicKey, pem};
use crate::limits;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A compile error naming the document, the field path and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
    /// Warnings (policies that verify nothing, deprecated fields, skipped kinds).
    pub lints: Vec<Lint>,
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
pub fn compile_documents(docs: &[Document]) -> Result<CompileOutput, Vec<CompileError>> {
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
            (_, "ImageValidatingPolicy" | "ClusterImageValidatingPolicy") => {
                out.lints.push(Lint {
                    document: label,
                    path: String::new(),
                    message: format!("{kind} is not supported by this engine version; skipped"),
                });
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
        if out.policies.len() >= limits::MAX_POLICIES {
            errors.push(CompileError {
                document: label,
                path: String::new(),
                message: format!("too many policies (limit {})", limits::MAX_POLICIES),
            });
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
        errors.extend(ctx.errors);
        out.lints.extend(ctx.lints);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
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

fn match_is_empty(m: &model::MatchResources) -> bool {
    let desc_empty = |d: &Option<model::ResourceDescription>| {
        d.as_ref()
            .is_none_or(|d| *d == model::ResourceDescription::default())
    };
    m.any.as_ref().is_none_or(Vec::is_empty)
        && m.all.as_ref().is_none_or(Vec::is_empty)
        && desc_empty(&m.resources)
        && m.subjects.as_ref().is_none_or(Vec::is_empty)
        && m.roles.as_ref().is_none_or(Vec::is_empty)
        && m.cluster_roles.as_ref().is_none_or(Vec::is_empty)
}

/// The filters of a match/exclude block with their field paths.
fn filters_of(block: &str, m: &model::MatchResources) -> Vec<(String, model::ResourceFilter)> {
    let list = |name: &str, v: &Option<Vec<model::ResourceFilter>>| {
        v.iter()
            .flatten()
            .enumerate()
            .map(|(i, f)| (format!("{block}.{name}[{i}]"), f.clone()))
            .collect::<Vec<_>>()
    };
    let mut out = list("any", &m.any);
    out.extend(list("all", &m.all));
    if out.is_empty() {
        out.push((
            block.to_string(),
            model::ResourceFilter {
                resources: m.resources.clone(),
                subjects: m.subjects.clone(),
                roles: m.roles.clone(),
                cluster_roles: m.cluster_roles.clone(),
            },
        ));
    }
    out
}

/// Kyverno's checks on match/exclude filters, plus lints for filters that
/// silently do nothing.
fn check_filters(ctx: &mut Ctx, path: &str, r: &model::Rule, background: bool) {
    for (p, f) in filters_of("match", &r.match_resources) {
        if f.resources
            .as_ref()
            .is_none_or(crate::policy::matching::description_is_empty)
        {
            ctx.err(
                format!("{path}.{p}.resources"),
                "match resources not specified",
            );
        }
        if background && crate::policy::matching::has_user_clauses(&f) {
            ctx.lint(
                format!("{path}.{p}"),
                "subjects/roles/clusterRoles are ignored without admission user info (apply, test, background scans); Kyverno rejects them unless spec.background is false",
            );
        }
    }
    if let Some(ex) = &r.exclude {
        let exclude_set = ex.any.is_some()
            || ex.all.is_some()
            || ex.resources.is_some()
            || ex.subjects.is_some()
            || ex.roles.is_some()
            || ex.cluster_roles.is_some();
        for (p, f) in filters_of("exclude", ex) {
            if exclude_set && crate::policy::matching::filter_is_empty(&f) {
                ctx.lint(
                    format!("{path}.{p}"),
                    "empty exclude filter excludes nothing; remove it or give it resources or subjects",
                );
            } else if background && crate::policy::matching::has_user_clauses(&f) {
                ctx.lint(
                    format!("{path}.{p}"),
                    "subjects/roles/clusterRoles never exclude without admission user info (apply, test, background scans); Kyverno rejects them unless spec.background is false",
                );
            }
        }
    }
}

fn compile_rule(
    ctx: &mut Ctx,
    path: &str,
    r: &model::Rule,
    policy_action: Action,
    background: bool,
) -> Option<CompiledRule> {
    if r.name.is_empty() {
        ctx.err(format!("{path}.name"), "a rule name is required");
    }
    if r.name.chars().count() > 63 {
        ctx.err(
            format!("{path}.name"),
            "rule name must be at most 63 characters",
        );
    }
    if match_is_empty(&r.match_resources) {
        ctx.err(format!("{path}.match"), "match cannot be empty");
    } else {
        check_filters(ctx, path, r, background);
    }
    let mut unsupported = Vec::new();
    if r.context.as_ref().is_some_and(|c| !c.is_null()) {
        unsupported.push("context".to_string());
    }
    if r.preconditions.as_ref().is_some_and(|c| !c.is_null()) {
        unsupported.push("preconditions".to_string());
    }
    let body = match (&r.verify_images, &r.validate, &r.mutate, &r.generate) {
        (Some(v), _, _, _) => {
            if v.is_empty() {
                ctx.lint(
                    format!("{path}.verifyImages"),
                    "verifyImages is empty: this rule verifies nothing",
                );
            }
            let mut out = Vec::new();
            for (j, e) in v.iter().enumerate() {
                let p = format!("{path}.verifyImages[{j}]");
                if let Some(c) =
                    compile_verification(ctx, &p, j, e, policy_action, &mut unsupported)
                {
                    out.push(c);
                }
            }
            if let Some(ex) = &r.image_extractors {
                for (kind, list) in ex {
                    if list.is_empty() {
                        ctx.err(
                            format!("{path}.imageExtractors.{kind}"),
                            format!("no extractors found for {kind}"),
                        );
                    }
                    if list.iter().any(|x| x.jmes_path.is_some()) {
                        if out.iter().any(|v| v.mutate_digest) {
                            ctx.err(
                                format!("{path}.imageExtractors.{kind}"),
                                "jmesPath extractors cannot be used with mutateDigest: true",
                            );
                        }
                        unsupported.push(format!("imageExtractors.{kind}[].jmesPath"));
                    }
                }
            }
            RuleBody::VerifyImages(out)
        }
        (None, Some(_), _, _) => RuleBody::Other("validate"),
        (None, None, Some(_), _) => RuleBody::Other("mutate"),
        (None, None, None, Some(_)) => RuleBody::Other("generate"),
        _ => {
            ctx.err(
                path,
                "a rule must have one of verifyImages, validate, mutate or generate",
            );
            return None;
        }
    };
    unsupported.sort();
    unsupported.dedup();
    Some(CompiledRule {
        name: r.name.clone(),
        match_resources: r.match_resources.clone(),
        exclude: r.exclude.clone(),
        image_extractors: r.image_extractors.clone(),
        report_properties: r.report_properties.clone().unwrap_or_default(),
        body,
        unsupported,
    })
}

fn has_variable(s: &str) -> bool {
    s.contains("{{")
}

fn compile_verification(
    ctx: &mut Ctx,
    path: &str,
    index: usize,
    e: &model::ImageVerification,
    policy_action: Action,
    unsupported: &mut Vec<String>,
) -> Option<Verification> {
    let mut e = e.clone();
    // Convert(): deprecated fields into the current form.
    let converts = e.image.as_deref().is_some_and(|s| !s.is_empty())
        || e.key.as_deref().is_some_and(|s| !s.is_empty())
        || e.issuer.as_deref().is_some_and(|s| !s.is_empty());
    if converts {
        ctx.lint(path, "deprecated fields image/key/issuer/subject/roots are converted to imageReferences/attestors");
        if let Some(img) = e.image.take().filter(|s| !s.is_empty()) {
            e.image_references.get_or_insert_with(Vec::new).push(img);
        }
        if let Some(key) = e.key.take().filter(|s| !s.is_empty()) {
            let attestor = model::Attestor {
                keys: Some(model::StaticKeyAttestor {
                    public_keys: Some(key),
                    ..Default::default()
                }),
                annotations: e.annotations.clone(),
                ..Default::default()
            };
            e.attestors
                .get_or_insert_with(Vec::new)
                .push(model::AttestorSet {
                    count: None,
                    entries: Some(vec![attestor]),
                });
        } else if let Some(issuer) = e.issuer.take().filter(|s| !s.is_empty()) {
            let attestor = model::Attestor {
                keyless: Some(model::KeylessAttestor {
                    issuer: Some(issuer),
                    subject: e.subject.take(),
                    roots: e.roots.take(),
                    ..Default::default()
                }),
                annotations: e.annotations.clone(),
                ..Default::default()
            };
            e.attestors
                .get_or_insert_with(Vec::new)
                .push(model::AttestorSet {
                    count: None,
                    entries: Some(vec![attestor]),
                });
        }
    }
    let canonical = |ctx: &mut Ctx, field: &str, list: Vec<String>| -> Vec<String> {
        list.into_iter()
            .map(|p| {
                let c = crate::reference::canonical_pattern(&p);
                if c != p {
                    ctx.lint(
                        format!("{path}.{field}"),
                        format!("{p:?} is matched as {c:?}: images are compared with their registry spelt canonically"),
                    );
                }
                c
            })
            .collect()
    };
    let refs = canonical(
        ctx,
        "imageReferences",
        e.image_references.clone().unwrap_or_default(),
    );
    let skip_refs = canonical(
        ctx,
        "skipImageReferences",
        e.skip_image_references.clone().unwrap_or_default(),
    );
    if refs.is_empty() {
        ctx.err(
            format!("{path}.imageReferences"),
            "An image reference is required",
        );
    }
    if refs
        .iter()
        .chain(e.skip_image_references.iter().flatten())
        .any(|s| has_variable(s))
    {
        ctx.err(
            format!("{path}.imageReferences"),
            "variables are not allowed in image reference",
        );
    }
    let verifier = match e.verifier_type.as_deref() {
        None | Some("") | Some("Cosign") => VerifierType::Cosign,
        Some("SigstoreBundle") => VerifierType::SigstoreBundle,
        Some("Notary") => VerifierType::Notary,
        Some(s) => {
            ctx.err(
                format!("{path}.type"),
                format!("unsupported value {s:?}: must be Cosign, SigstoreBundle or Notary"),
            );
            VerifierType::Cosign
        }
    };
    let failure_action = match e.failure_action.as_deref() {
        None | Some("") => None,
        Some(s) => match Action::parse(s) {
            Some(a) => Some(a),
            None => {
                ctx.err(
                    format!("{path}.failureAction"),
                    format!("unsupported value {s:?}: must be Audit or Enforce"),
                );
                None
            }
        },
    };
    let mutate_digest = e.mutate_digest.unwrap_or(true);
    if failure_action.unwrap_or(policy_action) == Action::Audit && mutate_digest {
        ctx.err(
            format!("{path}.mutateDigest"),
            "mutateDigest must be set to false for ‘Audit’ failure action",
        );
    }
    let mut attestors = Vec::new();
    for (i, set) in e.attestors.iter().flatten().enumerate() {
        let p = format!("{path}.attestors[{i}]");
        if let Some(s) = compile_attestor_set(ctx, &p, set, verifier, &e.annotations, 0) {
            attestors.push(s);
        }
    }
    let attestations = e.attestations.clone().unwrap_or_default();
    for (i, a) in attestations.iter().enumerate() {
        let p = format!("{path}.attestations[{i}]");
        if a.attestation_type.as_deref().unwrap_or("").is_empty() {
            match a.predicate_type.as_deref() {
                Some(pt) if !pt.is_empty() => ctx.lint(
                    format!("{p}.predicateType"),
                    format!("predicateType has been deprecated use 'type: {pt}' instead of 'predicateType: {pt}'"),
                ),
                _ => {}
            }
        }
        for (j, set) in a.attestors.iter().flatten().enumerate() {
            let _ =
                compile_attestor_set(ctx, &format!("{p}.attestors[{j}]"), set, verifier, &None, 0);
        }
    }
    if !attestations.is_empty() {
        unsupported.push("attestations".to_string());
    }
    if e.validate.as_ref().is_some_and(|v| !v.is_null()) {
        unsupported.push("verifyImages[].validate".to_string());
    }
    if verifier != VerifierType::Cosign {
        unsupported.push(format!("type: {verifier:?}"));
    }
    let v = Verification {
        index,
        failure_action,
        verifier,
        image_references: refs,
        skip_image_references: skip_refs,
        attestors,
        attestations,
        repository: e.repository.clone().filter(|s| !s.is_empty()),
        mutate_digest,
        verify_digest: e.verify_digest.unwrap_or(true),
        required: e.required.unwrap_or(true),
        use_cache: e.use_cache.unwrap_or(true),
        cosign_oci11: e.cosign_oci11.unwrap_or(false),
        validate: e.validate.clone(),
        access: registry_access(e.image_registry_credentials.as_ref()),
    };
    if !v.has_checks() {
        ctx.lint(
            path,
            "this entry has no attestors or attestations, so it verifies nothing: matching images only get digest checks",
        );
    }
    Some(v)
}

/// `imageRegistryCredentials` → the fetch hints hosts use.
fn registry_access(v: Option<&Value>) -> crate::engine::store::Access {
    let list = |k: &str| -> Vec<String> {
        v.and_then(|v| v.get(k))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    crate::engine::store::Access {
        secrets: list("secrets"),
        providers: list("providers"),
        allow_insecure: v
            .and_then(|v| v.get("allowInsecureRegistry"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
    }
}

fn compile_attestor_set(
    ctx: &mut Ctx,
    path: &str,
    set: &model::AttestorSet,
    verifier: VerifierType,
    default_annotations: &Option<BTreeMap<String, String>>,
    depth: usize,
) -> Option<AttestorSet> {
    if depth > limits::MAX_ATTESTOR_DEPTH {
        ctx.err(
            path,
            format!(
                "attestors nested deeper than {}",
                limits::MAX_ATTESTOR_DEPTH
            ),
        );
        return None;
    }
    let raw_entries = set.entries.clone().unwrap_or_default();
    if raw_entries.is_empty() {
        ctx.err(format!("{path}.entries"), "An entry is required");
        return None;
    }
    let count = set.count.unwrap_or(0);
    if count < 0 {
        ctx.err(format!("{path}.count"), "count must be at least 1");
    }
    if count as usize > raw_entries.len() {
        ctx.err(
            format!("{path}.count"),
            "Count cannot exceed length of entries",
        );
    }
    let mut entries = Vec::new();
    for (i, a) in raw_entries.iter().enumerate() {
        let p = format!("{path}.entries[{i}]");
        let set_fields = [
            a.keys.is_some(),
            a.certificates.is_some(),
            a.keyless.is_some(),
            a.attestor.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if set_fields != 1 {
            ctx.err(
                &p,
                "keys, certificates, keyless, or a nested attestor is required",
            );
            continue;
        }
        let annotations = a
            .annotations
            .clone()
            .or_else(|| default_annotations.clone())
            .unwrap_or_default();
        let repository = a.repository.clone().filter(|s| !s.is_empty());
        if verifier == VerifierType::Notary {
            if a.keyless.is_some() {
                ctx.err(
                    format!("{p}.keyless"),
                    "Keyless field is not allowed for type notary",
                );
            }
            if a.keys.is_some() {
                ctx.err(
                    format!("{p}.keys"),
                    "Keys field is not allowed for type notary",
                );
            }
        }
        let mut push = |kind: AttestorKind| {
            entries.push(AttestorEntry {
                kind,
                annotations: annotations.clone(),
                repository: repository.clone(),
            })
        };
        if let Some(k) = &a.keys {
            for kind in compile_keys(ctx, &format!("{p}.keys"), k) {
                push(kind);
            }
        } else if let Some(c) = &a.certificates {
            if c.cert.as_deref().unwrap_or("").is_empty()
                && c.cert_chain.as_deref().unwrap_or("").is_empty()
            {
                ctx.err(format!("{p}.certificates"), "cert or certChain required");
            }
            push(AttestorKind::Certificates(Box::new(c.clone())));
        } else if let Some(k) = &a.keyless {
            let rekor_url = k.rekor.as_ref().map(|r| r.url.clone().unwrap_or_default());
            if k.rekor.is_none() && k.roots.as_deref().unwrap_or("").is_empty() {
                ctx.err(
                    format!("{p}.keyless"),
                    "Either Rekor URL or roots are required",
                );
            }
            if rekor_url.is_some_and(|u| u.is_empty()) {
                ctx.err(format!("{p}.keyless.rekor.url"), "An URL is required");
            }
            push(AttestorKind::Keyless(Box::new(k.clone())));
        } else if let Some(nested) = &a.attestor {
            let parsed: Result<model::AttestorSet, _> = serde_path_to_error::deserialize(nested);
            match parsed {
                Ok(n) => {
                    if let Some(s) = compile_attestor_set(
                        ctx,
                        &format!("{p}.attestor"),
                        &n,
                        verifier,
                        default_annotations,
                        depth + 1,
                    ) {
                        push(AttestorKind::Nested(Box::new(s)));
                    }
                }
                Err(e) => ctx.err(format!("{p}.attestor.{}", e.path()), e.inner().to_string()),
            }
        }
    }
    let required = if count > 0 {
        count as usize
    } else {
        entries.len()
    };
    Some(AttestorSet { required, entries })
}

fn compile_keys(ctx: &mut Ctx, path: &str, k: &model::StaticKeyAttestor) -> Vec<AttestorKind> {
    let public_keys = k.public_keys.clone().unwrap_or_default();
    let kms = k.kms.clone().unwrap_or_default();
    if public_keys.is_empty() && kms.is_empty() && k.secret.is_none() {
        ctx.err(path, "A public key, kms key or secret is required");
        return Vec::new();
    }
    let alg = k
        .signature_algorithm
        .clone()
        .unwrap_or_else(|| "sha256".to_string());
    let Some(hash) = HashAlgorithm::from_policy(&alg) else {
        ctx.err(
            format!("{path}.signatureAlgorithm"),
            "Invalid signature algorithm provided",
        );
        return Vec::new();
    };
    let tlog = compile_tlog(ctx, &format!("{path}.rekor"), k.rekor.as_ref());
    if !kms.is_empty() {
        return vec![AttestorKind::KeyUnavailable(format!("KMS key {kms}"))];
    }
    if k.secret.is_some() && public_keys.is_empty() {
        return vec![AttestorKind::KeyUnavailable(
            "a key from a Kubernetes Secret".to_string(),
        )];
    }
    let trimmed = public_keys.trim();
    if trimmed.starts_with("k8s://") || has_variable(trimmed) {
        return vec![AttestorKind::KeyUnavailable(format!(
            "public key {trimmed:?}"
        ))];
    }
    if !trimmed.starts_with("-----BEGIN PUBLIC KEY-----") {
        ctx.err(
            format!("{path}.publicKeys"),
            "failed to load public key from PEM: expected -----BEGIN PUBLIC KEY-----",
        );
        return Vec::new();
    }
    let pems = pem::split_public_keys(trimmed);
    if pems.len() > limits::MAX_KEYS_PER_ENTRY {
        ctx.err(
            format!("{path}.publicKeys"),
            format!(
                "too many public keys (limit {})",
                limits::MAX_KEYS_PER_ENTRY
            ),
        );
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, p) in pems.iter().enumerate() {
        match PublicKey::from_pem(p) {
            Ok(key) => out.push(AttestorKind::Key(Box::new(KeyAttestor {
                fingerprint: key_fingerprint(&key),
                key: Arc::new(key),
                hash,
                tlog: tlog.clone(),
            }))),
            Err(e) => ctx.err(
                format!("{path}.publicKeys"),
                format!("failed to load public key from PEM (key {}): {e}", i + 1),
            ),
        }
    }
    out
}

/// Hex SHA-256 of a key's SPKI DER.
fn key_fingerprint(key: &PublicKey) -> String {
    use sha2::Digest as _;
    let der = key.to_spki_der().unwrap_or_default();
    sha2::Sha256::digest(&der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn compile_tlog(ctx: &mut Ctx, path: &str, r: Option<&model::Rekor>) -> TlogPolicy {
    let Some(r) = r else {
        return TlogPolicy {
            ignore: false,
            keys: None,
            id: "root".into(),
        };
    };
    let ignore = r.ignore_tlog.unwrap_or(false);
    let keys = match r.pubkey.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => {
            let mut keys = Vec::new();
            for p in pem::split_public_keys(text) {
                match PublicKey::from_pem(&p) {
                    Ok(
                        k @ (PublicKey::P256(_)
                        | PublicKey::P384(_)
                        | PublicKey::P521(_)
                        | PublicKey::Ed25519(_)),
                    ) => keys.push(Arc::new(k)),
                    Ok(other) => ctx.err(
                        format!("{path}.pubkey"),
                        format!(
                            "a Rekor key must be ECDSA or Ed25519, not {}",
                            other.type_name()
                        ),
                    ),
                    Err(e) => ctx.err(
                        format!("{path}.pubkey"),
                        format!("failed to load Rekor public key: {e}"),
                    ),
                }
            }
            if keys.is_empty() {
                ctx.err(format!("{path}.pubkey"), "no Rekor public key found in PEM");
            }
            Some(keys)
        }
    };
    let id = match (&keys, ignore) {
        (_, true) => "ignore".to_string(),
        (None, false) => "root".to_string(),
        (Some(k), false) => format!(
            "keys:{}",
            k.iter()
                .map(|k| key_fingerprint(k))
                .collect::<Vec<_>>()
                .join(",")
        ),
    };
    TlogPolicy { ignore, keys, id }
}
