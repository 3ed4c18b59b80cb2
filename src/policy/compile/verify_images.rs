//! `verifyImages` entries: image references, the verifier type, failure
//! action and digest options, attestor sets with counts and nesting, and
//! registry access hints.

use super::keys::{compile_certificates, compile_keyless, compile_keys};
use super::{Ctx, convert, has_variable};
use crate::limits;
use crate::policy::compiled::{
    Action, AttestorEntry, AttestorKind, AttestorSet, CompiledAttestation, ImageValidation,
    Verification, VerifierType,
};
use crate::policy::model;
use serde_json::Value;
use std::collections::BTreeMap;

pub(super) fn compile_verification(
    ctx: &mut Ctx,
    path: &str,
    index: usize,
    e: &model::ImageVerification,
    policy_action: Action,
) -> Option<Verification> {
    let e = convert::convert(ctx, path, e);
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
    let mut attestations = Vec::new();
    for (i, a) in e.attestations.iter().flatten().enumerate() {
        let p = format!("{path}.attestations[{i}]");
        if let Some(c) = compile_attestation(ctx, &p, i, a, verifier) {
            attestations.push(c);
        }
    }
    let validate = compile_validate(ctx, &format!("{path}.validate"), e.validate.as_ref());
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
        notary_any_referrer: false,
        validate,
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

/// One `attestations[]` entry: its type, attestors (or the empty attestor)
/// and conditions.
fn compile_attestation(
    ctx: &mut Ctx,
    path: &str,
    index: usize,
    a: &model::Attestation,
    verifier: VerifierType,
) -> Option<CompiledAttestation> {
    let mut predicate_type = a.attestation_type.clone().unwrap_or_default();
    if predicate_type.is_empty() {
        match a.predicate_type.as_deref() {
            Some(pt) if !pt.is_empty() => {
                ctx.lint(
                    format!("{path}.predicateType"),
                    format!("predicateType has been deprecated use 'type: {pt}' instead of 'predicateType: {pt}'"),
                );
                predicate_type = pt.to_string();
            }
            _ => ctx.lint(
                format!("{path}.type"),
                "an attestation without a type fails every image it checks (missing type)",
            ),
        }
    }
    let mut attestors = Vec::new();
    for (j, set) in a.attestors.iter().flatten().enumerate() {
        if let Some(s) = compile_attestor_set(
            ctx,
            &format!("{path}.attestors[{j}]"),
            set,
            verifier,
            &None,
            0,
        ) {
            attestors.push(s);
        }
    }
    if a.attestors.as_ref().is_none_or(Vec::is_empty) {
        // Kyverno's empty attestor: any certificate from the trusted root's
        // Fulcio authorities, in the transparency log, SCTs not required.
        let empty = model::KeylessAttestor {
            ctlog: Some(model::CtLog {
                ignore_sct: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        };
        if let Some(k) = compile_keyless(ctx, &format!("{path}.attestors"), &empty) {
            attestors.push(AttestorSet {
                required: 1,
                count: Some(1),
                entries: vec![AttestorEntry {
                    kind: AttestorKind::Keyless(Box::new(k)),
                    annotations: BTreeMap::new(),
                    repository: None,
                    tag_prefix: None,
                }],
            });
        }
        ctx.lint(
            format!("{path}.attestors"),
            "no attestors: any Fulcio certificate in the transparency log is accepted as the attestation's signer (Kyverno's empty attestor)",
        );
    }
    let (conditions, problems) = match &a.conditions {
        Some(v) => crate::conditions::Conditions::parse(v, &format!("{path}.conditions")),
        None => (
            crate::conditions::Conditions::Blocks(Vec::new()),
            Vec::new(),
        ),
    };
    for p in problems {
        if p.is_warning() {
            ctx.lint(p.path.clone(), p.reason.clone());
        } else {
            ctx.err(p.path.clone(), p.reason.clone());
        }
    }
    Some(CompiledAttestation {
        index,
        predicate_type,
        name: a.name.clone().filter(|n| !n.is_empty()),
        attestors,
        conditions,
    })
}

/// `validate: {message, deny: {conditions}}`.
fn compile_validate(ctx: &mut Ctx, path: &str, v: Option<&Value>) -> Option<ImageValidation> {
    let o = v.filter(|v| !v.is_null())?;
    let Some(o) = o.as_object() else {
        ctx.err(path, "validate must be an object");
        return None;
    };
    for k in o.keys() {
        if k != "message" && k != "deny" {
            ctx.err(format!("{path}.{k}"), "unknown field");
        }
    }
    let message = match o.get("message") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            ctx.err(format!("{path}.message"), "must be a string");
            String::new()
        }
    };
    super::context::check_expressions(
        ctx,
        &format!("{path}.message"),
        &Value::String(message.clone()),
    );
    let deny = o.get("deny").filter(|d| !d.is_null())?;
    if let Some(d) = deny.as_object() {
        for k in d.keys() {
            if k != "conditions" {
                ctx.err(format!("{path}.deny.{k}"), "unknown field");
            }
        }
    }
    let conditions = deny.get("conditions").cloned().unwrap_or(Value::Null);
    let deny =
        super::context::compile_conditions(ctx, &format!("{path}.deny.conditions"), &conditions);
    Some(ImageValidation { message, deny })
}

/// `imageRegistryCredentials` → the fetch hints hosts use.
pub(super) fn registry_access(v: Option<&Value>) -> crate::engine::store::Access {
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
        service_account: None,
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
                tag_prefix: None,
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
            } else if verifier == VerifierType::Notary {
                if let Some(compiled) =
                    super::notary::compile_notary_certificates(ctx, &format!("{p}.certificates"), c)
                {
                    push(AttestorKind::Notary(Box::new(compiled)));
                }
            } else if let Some(compiled) =
                compile_certificates(ctx, &format!("{p}.certificates"), c)
            {
                push(AttestorKind::Certificates(Box::new(compiled)));
            }
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
            if let Some(compiled) = compile_keyless(ctx, &format!("{p}.keyless"), k) {
                push(AttestorKind::Keyless(Box::new(compiled)));
            }
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
    let count = (count > 0).then_some(count as usize);
    Some(AttestorSet {
        required: count.unwrap_or(entries.len()),
        count,
        entries,
    })
}
