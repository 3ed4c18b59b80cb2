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
            Some(o) => {
                serde_json::from_slice(o.as_bytes()).map_err(|e| JsError::new(&e.to_string()))?
            }
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

/// The playground's workspace ([`crate::apply::workspace::Workspace`]):
/// policy, resources, values and artifacts; evaluating it gives the
/// `apply --format json` document.
#[wasm_bindgen]
pub struct Playground {
    inner: crate::apply::workspace::Workspace,
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|e| protocol::error_json(&e))
}

#[wasm_bindgen]
impl Playground {
    /// An empty workspace.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Playground {
        Playground {
            inner: crate::apply::workspace::Workspace::new(),
        }
    }

    /// Compiles the policy text; returns its problems (JSON array).
    #[wasm_bindgen(js_name = setPolicy)]
    pub fn set_policy(&mut self, text: &str) -> String {
        to_json(&self.inner.set_policy(text))
    }

    /// Reads the resources text; returns its problems (JSON array).
    #[wasm_bindgen(js_name = setResources)]
    pub fn set_resources(&mut self, text: &str) -> String {
        to_json(&self.inner.set_resources(text))
    }

    /// Reads a values file's text (empty: none); returns its problems.
    #[wasm_bindgen(js_name = setValues)]
    pub fn set_values(&mut self, text: &str) -> String {
        to_json(&self.inner.set_values(text))
    }

    /// Every problem (JSON array).
    pub fn problems(&self) -> String {
        to_json(&self.inner.problems())
    }

    /// Adds an OCI layout `.tar` or a `fetch` bundle; returns what it added
    /// (JSON), or throws naming the file and the cause.
    #[wasm_bindgen(js_name = loadArtifacts)]
    pub fn load_artifacts(&mut self, name: &str, bytes: &[u8]) -> Result<String, JsError> {
        self.inner
            .load_artifacts(name, bytes)
            .map(|l| to_json(&l))
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// Forgets every artifact.
    #[wasm_bindgen(js_name = clearArtifacts)]
    pub fn clear_artifacts(&mut self) {
        self.inner.clear_artifacts();
    }

    /// How many resource documents there are.
    #[wasm_bindgen(js_name = resourceCount)]
    pub fn resource_count(&self) -> usize {
        self.inner.resource_count()
    }

    /// Starts an evaluation (throws when the policies do not compile).
    pub fn begin(&mut self) -> Result<(), JsError> {
        self.inner.begin().map_err(|e| JsError::new(&e.to_string()))
    }

    /// Decides resource `index` at `now` (RFC 3339); returns its outcome (JSON).
    #[wasm_bindgen(js_name = evaluateResource)]
    pub fn evaluate_resource(&mut self, index: usize, now: &str) -> Result<String, JsError> {
        self.inner
            .evaluate_resource(index, Some(now))
            .map(to_json)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// The `apply --format json` document of this evaluation (JSON).
    pub fn document(&self) -> String {
        to_json(&self.inner.document())
    }
}

impl Default for Playground {
    fn default() -> Self {
        Self::new()
    }
}
