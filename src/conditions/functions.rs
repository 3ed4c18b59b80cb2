//! The JMESPath runtime conditions and variables are evaluated with.
//! (Placeholder: the built-in functions only; Kyverno's functions follow.)

use serde_json::Value;

/// Why a query failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The expression does not parse, or names an unknown function.
    #[error("invalid JMESPath expression {expression:?}: {reason}")]
    Invalid {
        /// The expression.
        expression: String,
        /// Why.
        reason: String,
    },
    /// Evaluation failed (a type error, a function's own error).
    #[error("JMESPath query {expression:?} failed: {reason}")]
    Failed {
        /// The expression.
        expression: String,
        /// Why.
        reason: String,
    },
}

/// Checks that an expression parses (at policy load time).
pub fn validate(expression: &str) -> Result<(), QueryError> {
    jmespath::compile(expression)
        .map(|_| ())
        .map_err(|e| QueryError::Invalid {
            expression: expression.to_string(),
            reason: e.to_string(),
        })
}

/// Evaluates `expression` against `data`. `now` (unix seconds) is the time
/// the time functions read; the engine has no clock.
pub fn search(expression: &str, data: &Value, now: Option<i64>) -> Result<Value, QueryError> {
    let _ = now;
    let compiled = jmespath::compile(expression).map_err(|e| QueryError::Invalid {
        expression: expression.to_string(),
        reason: e.to_string(),
    })?;
    let failed = |reason: String| QueryError::Failed {
        expression: expression.to_string(),
        reason,
    };
    let result = compiled
        .search(jmespath::Variable::from_serializable(data).map_err(|e| failed(e.to_string()))?)
        .map_err(|e| failed(e.to_string()))?;
    serde_json::to_value(&*result).map_err(|e| failed(e.to_string()))
}
