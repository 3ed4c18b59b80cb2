//! Condition operators (placeholder: Equals and NotEquals only).

use serde_json::Value;

/// A condition operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// Equal values.
    Equals,
    /// Different values.
    NotEquals,
}

impl Operator {
    /// Parses an operator name.
    pub fn parse(s: &str) -> Option<Operator> {
        match s {
            "Equals" | "Equal" => Some(Operator::Equals),
            "NotEquals" | "NotEqual" => Some(Operator::NotEquals),
            _ => None,
        }
    }

    /// The deprecation warning for this operator, if any.
    pub fn deprecation(&self) -> Option<&'static str> {
        None
    }

    /// Evaluates `key <op> value`.
    pub fn evaluate(self, key: &Value, value: &Value) -> bool {
        match self {
            Operator::Equals => key == value,
            Operator::NotEquals => key != value,
        }
    }
}
