//! The wasm-bindgen JS API: `new Engine(policies)`, `engine.session(request)`,
//! `session.put(kind, key, bytes)`, `session.evaluate()`.

use super::protocol::{self, PutHeader};
use crate::engine::{EngineOptions, Request};
use std::sync::Arc;
use wasm_bindgen::prelude::*;

/// Compiled policies.
#[wasm_bindgen]
pub struct Engine {
    inner: Arc<crate::Engine>,
}

#[wasm_bindgen]
impl Engine {
    /// Compiles YAML or JSON policies; `options` is optional JSON
    /// (`defaultRegistry`, `enableDefaultRegistryMutation`, `trustedRoot`).
    #[wasm_bindgen(constructor)]
    pub fn new(policies: &str, options: Option<String>) -> Result<Engine, JsError> {
        let options: EngineOptions = match options {
            Some(o) => serde_json::from_str(&o).map_err(|e| JsError::new(&e.to_string()))?,
            None => EngineOptions::default(),
        };
        let inner = crate::Engine::compile_with(&[("policies", policies)], &options)
            .map_err(|e| JsError::new(&e.to_string()))?;
        Ok(Engine {
            inner: Arc::new(inner),
        })
    }

    /// Compile warnings as a JSON array.
    pub fn lints(&self) -> String {
        serde_json::to_string(self.inner.lints()).unwrap_or_default()
    }

    /// Per-policy webhook settings and the fields needing cluster context (JSON).
    pub fn summary(&self) -> String {
        serde_json::to_string(&self.inner.summary()).unwrap_or_default()
    }

    /// Starts a session for a request (JSON text).
    pub fn session(&self, request: &str) -> Result<Session, JsError> {
        let r = Request::from_json(request.as_bytes()).map_err(|e| JsError::new(&e.to_string()))?;
        Ok(Session {
            inner: crate::Session::new(self.inner.clone(), r),
        })
    }
}

/// One request being evaluated.
#[wasm_bindgen]
pub struct Session {
    inner: crate::Session,
}

#[wasm_bindgen]
impl Session {
    /// Adds the bytes answering a fetch.
    pub fn put(&mut self, kind: &str, key: &str, bytes: &[u8]) -> Result<(), JsError> {
        let header = PutHeader {
            kind: kind.to_string(),
            key: key.to_string(),
            status: None,
            message: None,
        };
        protocol::put(&mut self.inner, &header, bytes).map_err(|e| JsError::new(&e.to_string()))
    }

    /// Records a failed fetch (`not_found`, `unauthorized`, `error`).
    #[wasm_bindgen(js_name = putFailure)]
    pub fn put_failure(
        &mut self,
        kind: &str,
        key: &str,
        status: &str,
        message: &str,
    ) -> Result<(), JsError> {
        let header = PutHeader {
            kind: kind.to_string(),
            key: key.to_string(),
            status: Some(status.to_string()),
            message: Some(message.to_string()),
        };
        protocol::put(&mut self.inner, &header, &[]).map_err(|e| JsError::new(&e.to_string()))
    }

    /// Evaluates; returns the outcome as JSON text.
    pub fn evaluate(&self) -> String {
        serde_json::to_string(&self.inner.evaluate()).unwrap_or_else(|e| protocol::error_json(&e))
    }
}
