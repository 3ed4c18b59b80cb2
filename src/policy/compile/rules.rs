//! Rules: names, Kyverno's checks on `match`/`exclude` filters (and lints
//! for filters that silently do nothing), the rule body, and the features
//! this engine does not evaluate yet (recorded so the rule fails closed).

use super::Ctx;
use super::verify_images::compile_verification;
use crate::policy::compiled::{Action, CompiledRule, RuleBody};
use crate::policy::model;

pub(super) fn match_is_empty(m: &model::MatchResources) -> bool {
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

pub(super) fn compile_rule(
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
    let context = match &r.context {
        Some(c) => super::context::compile_context(ctx, &format!("{path}.context"), c),
        None => Vec::new(),
    };
    let preconditions = r
        .preconditions
        .as_ref()
        .filter(|p| !p.is_null())
        .map(|p| super::context::compile_conditions(ctx, &format!("{path}.preconditions"), p));
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
                if let Some(c) = compile_verification(ctx, &p, j, e, policy_action) {
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
                        for (i, x) in list.iter().enumerate() {
                            if let Some(j) = x.jmes_path.as_deref().filter(|j| !j.is_empty())
                                && let Err(e) = crate::conditions::functions::validate(j)
                            {
                                ctx.err(
                                    format!("{path}.imageExtractors.{kind}[{i}].jmesPath"),
                                    e.to_string(),
                                );
                            }
                        }
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
    Some(CompiledRule {
        name: r.name.clone(),
        match_resources: r.match_resources.clone(),
        exclude: r.exclude.clone(),
        image_extractors: r.image_extractors.clone(),
        report_properties: r.report_properties.clone().unwrap_or_default(),
        context,
        preconditions,
        body,
        unsupported: Vec::new(),
    })
}
