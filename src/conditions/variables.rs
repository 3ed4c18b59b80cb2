//! `{{ }}` variable substitution (placeholder: whole-string variables only).

use serde_json::Value;

/// Why a variable could not be substituted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VariableError {
    /// The query failed.
    #[error("failed to resolve {variable}: {reason}")]
    Resolve {
        /// The variable.
        variable: String,
        /// Why.
        reason: String,
    },
}

/// Substitutes variables in every string of `doc`.
pub fn substitute(
    doc: &Value,
    resolve: &mut dyn FnMut(&str) -> Result<Value, VariableError>,
) -> Result<Value, VariableError> {
    Ok(match doc {
        Value::String(s) => {
            let t = s.trim();
            match t.strip_prefix("{{").and_then(|t| t.strip_suffix("}}")) {
                Some(expr) => resolve(expr.trim())?,
                None => doc.clone(),
            }
        }
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|v| substitute(v, resolve))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| Ok((k.clone(), substitute(v, resolve)?)))
                .collect::<Result<_, VariableError>>()?,
        ),
        _ => doc.clone(),
    })
}

/// A resolver that queries `doc`.
pub fn resolve_in(
    doc: &Value,
    now: Option<i64>,
) -> impl FnMut(&str) -> Result<Value, VariableError> + '_ {
    move |expr: &str| {
        super::functions::search(expr, doc, now).map_err(|e| VariableError::Resolve {
            variable: expr.to_string(),
            reason: e.to_string(),
        })
    }
}

/// Whether `text` holds a `{{ }}` variable.
pub fn has_variables(text: &str) -> bool {
    text.contains("{{")
}

/// The expressions of the variables in `text` (placeholder: outermost).
pub fn variables_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        let Some(j) = rest[i..].find("}}") else { break };
        out.push(rest[i + 2..i + j].trim().to_string());
        rest = &rest[i + j + 2..];
    }
    out
}
