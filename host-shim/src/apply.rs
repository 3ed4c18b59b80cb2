//! `imgverify apply`: evaluate policies against resources in the wasm engine.

use crate::inputs::{self, NamedText};
use crate::runner::{Instance_, ModuleRunner, RunnerError};
use crate::source::ArtifactSource;
use imgverify::decision::Decision;
use serde::Serialize;
use serde_json::{Value, json};

/// Policy files that look like Kyverno CLI test manifests are not policies.
pub const TEST_FILE_NAMES: &[&str] = &["kyverno-test.yaml", "kyverno-test.yml"];

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
    pub results: Vec<imgverify::decision::RuleResult>,
    /// Why no decision could be computed (a sandbox limit hit on this
    /// resource's content); the resource is then blocked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The resource as given (before any patch).
    #[serde(skip)]
    pub object: Value,
}

/// Why apply failed before deciding.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Inputs unreadable.
    #[error("{0}")]
    Input(#[from] inputs::InputError),
    /// Module or engine error (policy errors included).
    #[error("{0}")]
    Runner(#[from] RunnerError),
}

/// A loaded engine inside a module instance.
pub struct Loaded {
    runner: ModuleRunner,
    input: Vec<u8>,
    instance: Instance_,
    engine: u32,
    /// Compile warnings.
    pub lints: Value,
    /// Per-policy settings and the fields needing cluster context.
    pub summary: Value,
}

/// Largest `trusted_root.json` read (Kyverno's limit for `trustedRoot`).
pub const MAX_TRUSTED_ROOT_BYTES: usize = 1 << 20;

/// Engine-wide settings the host passes with the policies.
#[derive(Debug, Clone, Default)]
pub struct EngineSettings {
    /// A `trusted_root.json` (its text) replacing the embedded public-good root.
    pub trusted_root: Option<String>,
    /// Leave out invalid policies and list them (the CLI, as Kyverno's),
    /// rather than refusing the whole set (the webhook).
    pub skip_invalid_policies: bool,
    /// `PolicyException` files (the CLI's `-e`, a test's `exceptions:`).
    pub policy_exceptions: Vec<NamedText>,
}

impl EngineSettings {
    /// Reads `--trusted-root FILE`, when given.
    pub fn load(trusted_root: Option<&str>) -> Result<Self, String> {
        let trusted_root = match trusted_root {
            None => None,
            // Operator configuration like the policies (a ConfigMap mount
            // is a symlink): followed, but bounded.
            Some(path) => {
                use std::io::Read as _;
                let fail = |e: &dyn std::fmt::Display| format!("--trusted-root {path}: {e}");
                let mut text = String::new();
                std::fs::File::open(path)
                    .map_err(|e| fail(&e))?
                    .take(MAX_TRUSTED_ROOT_BYTES as u64 + 1)
                    .read_to_string(&mut text)
                    .map_err(|e| fail(&e))?;
                if text.len() > MAX_TRUSTED_ROOT_BYTES {
                    return Err(fail(&format!("larger than {MAX_TRUSTED_ROOT_BYTES} bytes")));
                }
                Some(text)
            }
        };
        Ok(EngineSettings {
            trusted_root,
            ..Default::default()
        })
    }

    fn to_json(&self) -> Value {
        let mut options = json!({});
        if let Some(r) = &self.trusted_root {
            options["trustedRoot"] = r.as_str().into();
        }
        if self.skip_invalid_policies {
            options["skipInvalidPolicies"] = true.into();
        }
        if !self.policy_exceptions.is_empty() {
            options["policyExceptions"] = self
                .policy_exceptions
                .iter()
                .map(|e| json!({"name": e.name, "text": e.text}))
                .collect();
        }
        options
    }
}

/// Compiles the policies inside a fresh module instance.
pub fn load_policies(
    runner: &ModuleRunner,
    policies: &[NamedText],
    settings: &EngineSettings,
) -> Result<Loaded, ApplyError> {
    let sources: Vec<Value> = policies
        .iter()
        .map(|p| json!({"name": p.name, "text": p.text}))
        .collect();
    let input = serde_json::to_vec(&json!({"sources": sources, "options": settings.to_json()}))
        .unwrap_or_default();
    let mut instance = runner.instantiate()?;
    let compiled = instance.engine_new(&input)?;
    Ok(Loaded {
        runner: runner.clone(),
        input,
        instance,
        engine: compiled.engine,
        lints: compiled.lints,
        summary: compiled.summary,
    })
}

impl Loaded {
    /// Decides one engine request (JSON), with fetches bounded by `deadline`.
    pub fn decide_bytes(
        &mut self,
        request: &[u8],
        source: &dyn ArtifactSource,
        deadline: Option<std::time::Instant>,
    ) -> Result<Decision, RunnerError> {
        self.instance
            .decide_until(self.engine, request, source, deadline)
    }

    /// The instance running the engine (fuel and memory readings).
    pub fn instance(&mut self) -> &mut Instance_ {
        &mut self.instance
    }

    /// Replaces the instance by a fresh one holding the same policies (after
    /// a trap, whose instance must not be reused).
    pub fn reset(&mut self) -> Result<(), RunnerError> {
        let mut instance = self.runner.instantiate()?;
        let compiled = instance.engine_new(&self.input)?;
        self.instance = instance;
        self.engine = compiled.engine;
        Ok(())
    }

    /// Decides one resource.
    pub fn decide(
        &mut self,
        object: &Value,
        now: Option<&str>,
        source: &dyn ArtifactSource,
    ) -> Result<Decision, RunnerError> {
        self.decide_request(
            &json!({"operation": "CREATE", "object": object, "now": now}),
            source,
        )
    }

    /// Decides one engine request.
    pub fn decide_request(
        &mut self,
        request: &Value,
        source: &dyn ArtifactSource,
    ) -> Result<Decision, RunnerError> {
        let bytes = serde_json::to_vec(request).unwrap_or_default();
        self.instance.decide(self.engine, &bytes, source)
    }
}

/// What the CLI knows of the cluster: namespace labels and the user (from
/// Namespace documents, a values file and `--userinfo`).
#[derive(Debug, Clone, Default)]
pub struct AdmissionContext {
    /// Labels by namespace name.
    pub namespace_labels:
        std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
    /// The requesting user (`--userinfo`), if given.
    pub user_info: Option<Value>,
    /// The operation (`CREATE` unless a values file says otherwise).
    pub operation: Option<String>,
    /// Variable values from a values file (`globalValues`, `policies`); the
    /// CLI always sends them (empty without a file), so that `configMap`
    /// and `apiCall` context entries come from them, never a cluster.
    pub values: Value,
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
        r
    }
}

/// Reads resources and decides each one. A resource whose evaluation hits a
/// sandbox limit is blocked with the limit named; the others are still decided.
pub fn run(
    loaded: &mut Loaded,
    resources: &[NamedText],
    now: Option<&str>,
    source: &dyn ArtifactSource,
) -> Result<Vec<ResourceOutcome>, ApplyError> {
    run_with(loaded, resources, now, source, &AdmissionContext::default())
}

/// [`run`] with namespace labels and user info.
pub fn run_with(
    loaded: &mut Loaded,
    resources: &[NamedText],
    now: Option<&str>,
    source: &dyn ArtifactSource,
    context: &AdmissionContext,
) -> Result<Vec<ResourceOutcome>, ApplyError> {
    // Untrusted YAML is parsed inside the sandbox.
    let mut docs = Vec::new();
    for r in resources {
        docs.extend(loaded.instance.parse_documents(&r.name, &r.text)?);
    }
    // Namespace documents among the resources give their labels, unless the
    // values file says otherwise.
    let mut context = context.clone();
    for (_, v) in &docs {
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
            context
                .namespace_labels
                .entry(name.to_string())
                .or_insert(labels);
        }
    }
    let mut out = Vec::new();
    for (origin, value) in docs {
        let v = &value;
        let s = |p: &str| {
            v.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let mut outcome = ResourceOutcome {
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
            object: value.clone(),
        };
        match loaded.decide_request(&context.request(v, now), source) {
            Ok(d) => {
                outcome.allowed = d.allowed;
                outcome.message = d.message;
                outcome.patches = d.patches;
                outcome.warnings = d.warnings;
                outcome.results = d.results;
            }
            Err(e) => {
                outcome.message = format!("{origin}: {e}");
                outcome.error = Some(e.to_string());
                loaded.reset()?;
            }
        }
        out.push(outcome);
    }
    Ok(out)
}
