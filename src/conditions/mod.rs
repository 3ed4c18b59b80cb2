//! Kyverno's condition language: JMESPath queries with Kyverno's extension
//! functions, `{{ }}` variable substitution, and the condition operators
//! (`Equals`, `AnyIn`, `DurationGreaterThan`, …) that `conditions`,
//! `preconditions` and `validate.deny` blocks use.
//!
//! - [`functions`]: the JMESPath runtime (built-ins plus Kyverno's functions);
//! - [`variables`]: `{{ }}` substitution in strings and documents;
//! - [`operator`]: the condition operators with Kyverno's type rules.

pub mod functions;
pub mod operator;
pub mod variables;

use operator::Operator;
use serde_json::Value;

/// One condition: `key <operator> value`, with an optional message.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The key (variables substituted at evaluation).
    pub key: Value,
    /// The operator.
    pub operator: Operator,
    /// The value (variables substituted at evaluation).
    pub value: Value,
    /// The message reported when the condition decides the block.
    pub message: String,
}

/// An `any`/`all` block: at least one of `any` (when given) and every one
/// of `all` must hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AnyAll {
    /// `any`; `None` when absent (an empty list holds nothing).
    pub any: Option<Vec<Condition>>,
    /// `all`.
    pub all: Vec<Condition>,
}

/// Conditions as a policy writes them: a list of `any`/`all` blocks (every
/// block must hold), or the legacy flat list of conditions (every one).
#[derive(Debug, Clone, PartialEq)]
pub enum Conditions {
    /// `[{any: [...], all: [...]}, ...]` or a single `{any, all}` object.
    Blocks(Vec<AnyAll>),
    /// `[{key, operator, value}, ...]`.
    Flat(Vec<Condition>),
}

/// A condition that cannot be read, with its field path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct ParseError {
    /// Field path relative to the conditions (`[0].all[1].operator`).
    pub path: String,
    /// Why.
    pub reason: String,
    /// Kyverno's deprecation warnings are not errors: see [`Conditions::parse`].
    warning: bool,
}

impl ParseError {
    /// Whether this is a warning (a deprecated operator) rather than an error.
    pub fn is_warning(&self) -> bool {
        self.warning
    }
}

/// Why conditions could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// A key's variables could not be substituted.
    #[error("failed to substitute variables in condition key: {0}")]
    Key(variables::VariableError),
    /// A value's variables could not be substituted.
    #[error("failed to substitute variables in condition value: {0}")]
    Value(variables::VariableError),
}

/// The outcome of evaluating conditions: whether they hold, and the
/// messages Kyverno reports (of the conditions that decided).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Whether the conditions hold.
    pub holds: bool,
    /// The deciding conditions' messages, joined.
    pub message: String,
}

fn parse_condition(v: &Value, path: &str, out: &mut Vec<ParseError>) -> Option<Condition> {
    let err = |out: &mut Vec<ParseError>, field: &str, reason: String| {
        out.push(ParseError {
            path: format!("{path}{field}"),
            reason,
            warning: false,
        })
    };
    let Some(o) = v.as_object() else {
        err(out, "", "a condition must be an object".into());
        return None;
    };
    for k in o.keys() {
        if !matches!(k.as_str(), "key" | "operator" | "value" | "message") {
            err(out, &format!(".{k}"), "unknown field".into());
        }
    }
    let op_name = o.get("operator").and_then(Value::as_str).unwrap_or("");
    let Some(operator) = Operator::parse(op_name) else {
        err(
            out,
            ".operator",
            format!("unknown condition operator {op_name:?}"),
        );
        return None;
    };
    if let Some(w) = operator.deprecation() {
        out.push(ParseError {
            path: format!("{path}.operator"),
            reason: w.to_string(),
            warning: true,
        });
    }
    let message = match o.get("message") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            err(out, ".message", "must be a string".into());
            String::new()
        }
    };
    Some(Condition {
        key: o.get("key").cloned().unwrap_or(Value::Null),
        operator,
        value: o.get("value").cloned().unwrap_or(Value::Null),
        message,
    })
}

fn parse_list(v: &Value, path: &str, out: &mut Vec<ParseError>) -> Vec<Condition> {
    match v {
        Value::Array(a) => a
            .iter()
            .enumerate()
            .filter_map(|(i, c)| parse_condition(c, &format!("{path}[{i}]"), out))
            .collect(),
        Value::Null => Vec::new(),
        _ => {
            out.push(ParseError {
                path: path.to_string(),
                reason: "must be a list of conditions".into(),
                warning: false,
            });
            Vec::new()
        }
    }
}

fn parse_any_all(v: &Value, path: &str, out: &mut Vec<ParseError>) -> AnyAll {
    let mut block = AnyAll::default();
    if let Some(o) = v.as_object() {
        for k in o.keys() {
            if k != "any" && k != "all" {
                out.push(ParseError {
                    path: format!("{path}.{k}"),
                    reason: "unknown field: conditions blocks have any and all".into(),
                    warning: false,
                });
            }
        }
        if let Some(any) = o.get("any").filter(|a| !a.is_null()) {
            block.any = Some(parse_list(any, &format!("{path}.any"), out));
        }
        if let Some(all) = o.get("all") {
            block.all = parse_list(all, &format!("{path}.all"), out);
        }
    }
    block
}

impl Conditions {
    /// Reads conditions; errors and deprecation warnings are returned
    /// together (see [`ParseError::is_warning`]). `path` prefixes them.
    pub fn parse(v: &Value, path: &str) -> (Conditions, Vec<ParseError>) {
        let mut out = Vec::new();
        let parsed = match v {
            Value::Object(_) => Conditions::Blocks(vec![parse_any_all(v, path, &mut out)]),
            Value::Array(a)
                if a.iter()
                    .all(|b| b.get("any").is_some() || b.get("all").is_some()) =>
            {
                Conditions::Blocks(
                    a.iter()
                        .enumerate()
                        .map(|(i, b)| parse_any_all(b, &format!("{path}[{i}]"), &mut out))
                        .collect(),
                )
            }
            Value::Array(_) => Conditions::Flat(parse_list(v, path, &mut out)),
            Value::Null => Conditions::Blocks(Vec::new()),
            _ => {
                out.push(ParseError {
                    path: path.to_string(),
                    reason: "conditions must be a list or an any/all object".into(),
                    warning: false,
                });
                Conditions::Blocks(Vec::new())
            }
        };
        (parsed, out)
    }

    /// Whether there are no conditions at all.
    pub fn is_empty(&self) -> bool {
        match self {
            Conditions::Blocks(b) => b.is_empty(),
            Conditions::Flat(c) => c.is_empty(),
        }
    }

    /// Evaluates the conditions against `context` (variables resolved
    /// there; `now` is the time the time functions read), as Kyverno does.
    pub fn evaluate(&self, context: &Value, now: Option<i64>) -> Result<Outcome, EvalError> {
        let mut resolve = variables::resolve_in(context, now);
        match self {
            Conditions::Flat(list) => {
                let mut passed = Vec::new();
                for c in list {
                    let (holds, message) = evaluate_one(c, &mut resolve)?;
                    if !holds {
                        return Ok(Outcome {
                            holds: false,
                            message,
                        });
                    }
                    passed.push(message);
                }
                Ok(Outcome {
                    holds: true,
                    message: join_non_empty(&passed, ";"),
                })
            }
            Conditions::Blocks(blocks) => {
                let mut passed = Vec::new();
                for b in blocks {
                    let outcome = evaluate_block(b, &mut resolve)?;
                    if !outcome.holds {
                        return Ok(outcome);
                    }
                    passed.push(outcome.message);
                }
                Ok(Outcome {
                    holds: true,
                    message: join_non_empty(&passed, ";"),
                })
            }
        }
    }
}

type Resolver<'a> = dyn FnMut(&str) -> Result<Value, variables::VariableError> + 'a;

fn evaluate_one(c: &Condition, resolve: &mut Resolver) -> Result<(bool, String), EvalError> {
    let key = variables::substitute(&c.key, resolve).map_err(EvalError::Key)?;
    let value = variables::substitute(&c.value, resolve).map_err(EvalError::Value)?;
    Ok((c.operator.evaluate(&key, &value), c.message.clone()))
}

fn evaluate_block(b: &AnyAll, resolve: &mut Resolver) -> Result<Outcome, EvalError> {
    let (mut any_holds, mut all_holds) = (true, true);
    let (mut true_messages, mut false_messages) = (Vec::new(), Vec::new());
    if let Some(any) = &b.any {
        any_holds = false;
        for c in any {
            let (holds, message) = evaluate_one(c, resolve)?;
            if holds {
                any_holds = true;
                true_messages.push(message);
                break;
            }
            false_messages.push(message);
        }
    }
    for c in &b.all {
        let (holds, message) = evaluate_one(c, resolve)?;
        if holds {
            true_messages.push(message);
        } else {
            all_holds = false;
            false_messages.push(message);
            break;
        }
    }
    let holds = any_holds && all_holds;
    Ok(Outcome {
        holds,
        message: join_non_empty(
            if holds {
                &true_messages
            } else {
                &false_messages
            },
            "; ",
        ),
    })
}

fn join_non_empty(parts: &[String], sep: &str) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(sep)
}

/// Merges `patch` into `target` as a JSON merge patch (RFC 7386), the way
/// Kyverno adds an attestation's predicate to the root of the context.
pub fn merge_into(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_into(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}
