//! PolicyExceptions at evaluation: after a rule's preconditions, an
//! exception that names the policy and rule and matches the resource (its
//! `match`, then its `conditions`) turns the rule into `skip`.

use super::{Meta, match_target};
use crate::engine::{Engine, Request};
use crate::policy::compiled::{CompiledPolicy, CompiledRule};
use crate::policy::matching;
use serde_json::Value;

/// The keys (`namespace/name`) of the exceptions exempting the resource
/// from the rule. `context` is the rule's context, built by `build` when an
/// exception's conditions need it and the rule did not build it.
pub(super) fn exempting(
    engine: &Engine,
    policy: &CompiledPolicy,
    rule: &CompiledRule,
    req: &Request,
    meta: &Meta,
    context: &mut Value,
    build: &dyn Fn() -> Value,
) -> Vec<String> {
    let name = policy.report_name();
    let mut keys = Vec::new();
    for x in engine
        .exceptions
        .iter()
        .filter(|x| x.covers(&name, &rule.name))
    {
        if !matching::matches_block(&x.match_resources, &match_target(req, meta)) {
            continue;
        }
        if let Some(c) = &x.conditions {
            if context.is_null() {
                *context = build();
            }
            let now = req
                .now
                .as_deref()
                .and_then(crate::sigstore::trusted_root::parse_rfc3339);
            // An exception whose conditions cannot be evaluated exempts nothing.
            if !c.evaluate(context, now).is_ok_and(|o| o.holds) {
                continue;
            }
        }
        keys.push(x.key.clone());
    }
    keys
}

/// Kyverno's message for a rule skipped by exceptions (spec/kyverno.md §4.1).
pub(super) fn skip_message(keys: &[String]) -> String {
    format!(
        "rule is skipped due to policy exceptions{}",
        keys.join(", ")
    )
}
