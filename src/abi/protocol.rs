//! JSON shapes shared by both ABIs.

use crate::engine::{
    Answer, EngineError, EngineOptions, FailureStatus, FetchKind, PutError, Session,
};
use serde::{Deserialize, Serialize};

/// Input of `engine_new`: named policy sources plus options.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct EngineInput {
    /// `(name, text)` pairs of YAML/JSON policy documents.
    pub sources: Vec<Source>,
    /// Engine options.
    #[serde(default)]
    pub options: EngineOptions,
}

/// One policy source.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Source {
    /// Name shown in errors.
    pub name: String,
    /// YAML or JSON.
    pub text: String,
}

/// Header of a `put`: which fetch this answers, and whether it failed.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PutHeader {
    /// Fetch kind name.
    pub kind: String,
    /// Fetch key.
    pub key: String,
    /// Absent or `ok` for bytes; `not_found`, `unauthorized`, `error` (transport)
    /// or `invalid` (unusable bytes) otherwise.
    #[serde(default)]
    pub status: Option<String>,
    /// Failure message.
    #[serde(default)]
    pub message: Option<String>,
}

/// Why a protocol call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// Malformed JSON input.
    #[error("invalid input: {0}")]
    Input(String),
    /// Unknown status.
    #[error("unknown status {0:?}: expected ok, not_found, unauthorized, error or invalid")]
    Status(String),
    /// Engine construction failed.
    #[error("{0}")]
    Engine(#[from] EngineError),
    /// The put was refused.
    #[error("{0}")]
    Put(#[from] PutError),
}

/// Builds an engine from [`EngineInput`] JSON.
pub fn engine_from_json(bytes: &[u8]) -> Result<crate::Engine, ProtocolError> {
    let input: EngineInput =
        serde_json::from_slice(bytes).map_err(|e| ProtocolError::Input(e.to_string()))?;
    let sources: Vec<(&str, &str)> = input
        .sources
        .iter()
        .map(|s| (s.name.as_str(), s.text.as_str()))
        .collect();
    Ok(crate::Engine::compile_with(&sources, &input.options)?)
}

/// Applies a put to a session.
pub fn put(session: &mut Session, header: &PutHeader, bytes: &[u8]) -> Result<(), ProtocolError> {
    let kind =
        FetchKind::parse(&header.kind).ok_or_else(|| PutError::UnknownKind(header.kind.clone()))?;
    let msg = || header.message.clone().unwrap_or_default();
    let answer = match header.status.as_deref() {
        None | Some("ok") => Answer::Bytes(bytes.to_vec()),
        Some(other) => match FailureStatus::parse(other) {
            Some(status) => Answer::Failure(status, msg()),
            None => return Err(ProtocolError::Status(other.to_string())),
        },
    };
    Ok(session.put(kind, &header.key, answer)?)
}

/// `{"name","text"}` → `{"ok":true,"documents":[{"origin","value"}]}`, or an error.
pub fn parse_documents_json(bytes: &[u8]) -> String {
    let input: Source = match serde_json::from_slice(bytes) {
        Ok(s) => s,
        Err(e) => return error_json(&ProtocolError::Input(e.to_string())),
    };
    match crate::policy::load::parse_documents(
        &input.name,
        &input.text,
        crate::limits::MAX_REQUEST_BYTES,
    ) {
        Ok(docs) => {
            let docs: Vec<serde_json::Value> = docs
                .into_iter()
                .map(|d| serde_json::json!({"origin": d.origin, "value": d.value}))
                .collect();
            serde_json::json!({"ok": true, "documents": docs}).to_string()
        }
        Err(e) => error_json(&e),
    }
}

/// `{"ok":false,"error":…}`.
pub fn error_json(e: &dyn std::fmt::Display) -> String {
    serde_json::json!({"ok": false, "error": e.to_string()}).to_string()
}
