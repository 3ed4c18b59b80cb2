//! in-toto Statements (v0.1 and v1) as cosign attestations and Sigstore
//! bundles carry them: the statement's subjects bind it to an image digest,
//! its `predicateType` names what it claims.

use crate::digest::Digest;
use serde_json::Value;

/// `_type` of an in-toto Statement v0.1.
pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";
/// `_type` of an in-toto Statement v1.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";

/// Why a payload is not a usable statement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    /// Not JSON, or not an object.
    #[error("in-toto statement is not a JSON object: {0}")]
    Invalid(String),
    /// `_type` is not an in-toto Statement.
    #[error("in-toto statement has _type {0:?}, not {STATEMENT_V01} or {STATEMENT_V1}")]
    Type(String),
    /// `predicateType` is missing or not a string.
    #[error("in-toto statement has no predicateType")]
    PredicateType,
    /// No subject carries the image digest.
    #[error("no subject of the in-toto statement has digest {0}")]
    Subject(String),
}

/// A parsed statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// `predicateType`.
    pub predicate_type: String,
    /// The whole statement as JSON (`_type`, `subject`, `predicateType`,
    /// `predicate`).
    pub json: Value,
}

impl Statement {
    /// Parses a statement and checks that a subject names `image`.
    pub fn parse_for(payload: &[u8], image: &Digest) -> Result<Self, StatementError> {
        let json: Value =
            serde_json::from_slice(payload).map_err(|e| StatementError::Invalid(e.to_string()))?;
        if !json.is_object() {
            return Err(StatementError::Invalid("not an object".into()));
        }
        let kind = json.get("_type").and_then(Value::as_str).unwrap_or("");
        if kind != STATEMENT_V01 && kind != STATEMENT_V1 {
            return Err(StatementError::Type(kind.to_string()));
        }
        let predicate_type = json
            .get("predicateType")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or(StatementError::PredicateType)?
            .to_string();
        let (algorithm, hex) = (image.algorithm().name(), image.hex());
        let named = json
            .get("subject")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|s| {
                s.get("digest")
                    .and_then(|d| d.get(algorithm))
                    .and_then(Value::as_str)
                    .is_some_and(|d| d == hex)
            });
        if !named {
            return Err(StatementError::Subject(image.to_string()));
        }
        Ok(Statement {
            predicate_type,
            json,
        })
    }

    /// The statement as Kyverno hands it to conditions: the JSON with
    /// `type` set to the predicate type.
    pub fn to_kyverno(&self) -> Value {
        let mut v = self.json.clone();
        if let Some(o) = v.as_object_mut() {
            o.insert("type".into(), Value::String(self.predicate_type.clone()));
        }
        v
    }

    /// The `predicate` object, when it is one.
    pub fn predicate(&self) -> Option<&serde_json::Map<String, Value>> {
        self.json.get("predicate").and_then(Value::as_object)
    }
}
