//! `apply` as a library: what `imgverify apply` and the playground share, so
//! that both give the same JSON document for the same inputs.
//!
//! - [`AdmissionContext`]: namespace labels, user and values around a resource;
//! - [`values`]: the Kyverno CLI's values and user-info files;
//! - [`artifacts`]: an in-memory artifact store (an OCI layout `.tar`, a
//!   `fetch` bundle) answering the engine's fetches;
//! - [`drive`]: one request evaluated to its decision against a source;
//! - [`ResourceOutcome`] and [`document`]: the `apply --format json` output.

pub mod artifacts;
pub mod bundle;
pub mod values;
pub mod workspace;

use crate::decision::{Decision, RuleResult};
use crate::engine::{Answer, Fetch, Outcome, Request, Session};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One evaluated resource.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceOutcome {
    /// apiVersion.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// Kind.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Allowed.
    pub allowed: bool,
    /// Denial message.
    pub message: String,
    /// Patches.
    pub patches: Vec<Value>,
    /// Warnings.
    pub warnings: Vec<String>,
    /// Rule results.
    pub results: Vec<RuleResult>,
    /// Why no decision could be computed (a sandbox limit hit on this
    /// resource's content); the resource is then blocked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The resource as given (before any patch).
    #[serde(skip)]
    pub object: Value,
}

impl ResourceOutcome {
    /// A resource not decided yet (blocked, no results).
    pub fn undecided(object: Value) -> Self {
        let s = |p: &str| {
            object
                .pointer(p)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        ResourceOutcome {
            api_version: s("/apiVersion"),
            kind: s("/kind"),
            namespace: s("/metadata/namespace"),
            name: s("/metadata/name"),
            allowed: false,
            message: String::new(),
            patches: Vec::new(),
            warnings: Vec::new(),
            results: Vec::new(),
            error: None,
            object,
        }
    }

    /// Records the decision.
    pub fn decided(&mut self, d: Decision) {
        self.allowed = d.allowed;
        self.message = d.message;
        self.patches = d.patches;
        self.warnings = d.warnings;
        self.results = d.results;
    }

    /// Records why no decision could be computed (`origin` names the
    /// document); the resource stays blocked.
    pub fn failed(&mut self, origin: &str, error: &dyn std::fmt::Display) {
        self.message = format!("{origin}: {error}");
        self.error = Some(error.to_string());
    }
}

/// Counts rule results by status (every status present).
pub fn summary(resources: &[ResourceOutcome]) -> BTreeMap<&'static str, usize> {
    crate::decision::summarize(resources.iter().flat_map(|r| &r.results))
}

/// The `apply --format json` document: `{"resources": […], "summary": {…}}`.
pub fn document(resources: &[ResourceOutcome]) -> Value {
    json!({"resources": resources, "summary": summary(resources)})
}

/// What the CLI knows of the cluster: namespace labels and the user (from
/// Namespace documents, a values file and a user-info file).
#[derive(Debug, Clone, Default)]
pub struct AdmissionContext {
    /// Labels by namespace name.
    pub namespace_labels: BTreeMap<String, BTreeMap<String, String>>,
    /// The requesting user, if given.
    pub user_info: Option<Value>,
    /// The operation (`CREATE` unless a values file says otherwise).
    pub operation: Option<String>,
    /// Variable values from a values file (`globalValues`, `policies`); the
    /// CLI always sends them (empty without a file), so that `configMap`
    /// and `apiCall` context entries come from them, never a cluster.
    pub values: Value,
    /// `configMap` and `apiCall` entries are read through the host even
    /// with values (a test's `clusterResources` answer them).
    pub allow_api_calls: bool,
    /// A test's `globalContextEntries` mocks, resolved: entry name → data.
    pub global_context: Option<serde_json::Map<String, Value>>,
}

impl AdmissionContext {
    /// The engine request for one resource.
    pub fn request(&self, object: &Value, now: Option<&str>) -> Value {
        let ns = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("");
        let mut r = json!({
            "operation": self.operation.as_deref().unwrap_or("CREATE"),
            "object": object,
            "now": now,
        });
        if let Some(labels) = self.namespace_labels.get(ns) {
            r["namespaceLabels"] = json!(labels);
        }
        if let Some(u) = &self.user_info {
            r["userInfo"] = u.clone();
        }
        r["values"] = match &self.values {
            Value::Null => json!({}),
            v => v.clone(),
        };
        if self.allow_api_calls {
            r["allowApiCalls"] = json!(true);
        }
        if let Some(g) = &self.global_context {
            r["globalContext"] = Value::Object(g.clone());
        }
        r
    }

    /// Adds the labels of the Namespace documents among `docs`, for
    /// namespaces the context does not already know (a values file wins).
    pub fn learn_namespaces<'a>(&mut self, docs: impl IntoIterator<Item = &'a Value>) {
        for v in docs {
            if v.get("kind").and_then(Value::as_str) == Some("Namespace")
                && let Some(name) = v.pointer("/metadata/name").and_then(Value::as_str)
            {
                let labels = v
                    .pointer("/metadata/labels")
                    .and_then(Value::as_object)
                    .map(|m| {
                        m.iter()
                            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                            .collect()
                    })
                    .unwrap_or_default();
                self.namespace_labels
                    .entry(name.to_string())
                    .or_insert(labels);
            }
        }
    }
}

/// Why a request could not be decided.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DriveError {
    /// The request is malformed.
    #[error("{0}")]
    Request(#[from] crate::engine::RequestError),
    /// The engine kept asking for more.
    #[error("no decision after {0} rounds of fetches")]
    TooManyRounds(usize),
}

/// Evaluates `request` (an engine request, as [`AdmissionContext::request`]
/// builds) to its decision, answering each round's fetches with `source`.
/// A refused answer (digest mismatch, oversize) is recorded by the session as
/// a failure, which the decision reports.
pub fn drive(
    engine: &Arc<crate::Engine>,
    request: &Value,
    source: &mut dyn FnMut(&Fetch) -> Answer,
) -> Result<Decision, DriveError> {
    let bytes = serde_json::to_vec(request).unwrap_or_default();
    let mut session = Session::new(engine.clone(), Request::from_json(&bytes)?);
    for _ in 0..crate::limits::MAX_ROUNDS {
        match session.evaluate() {
            Outcome::Decision { decision } => return Ok(decision),
            Outcome::NeedArtifacts { fetches } => {
                for f in &fetches {
                    let _ = session.put(f.kind, &f.key, source(f));
                }
            }
        }
    }
    Err(DriveError::TooManyRounds(crate::limits::MAX_ROUNDS))
}
