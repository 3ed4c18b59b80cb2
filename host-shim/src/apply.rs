//! `imgverify apply`: evaluate policies against resources in the wasm engine.

use crate::inputs::{self, NamedText};
use crate::runner::{Instance_, ModuleRunner, RunnerError};
use crate::source::ArtifactSource;
use imgverify::decision::Decision;
use imgverify::policy::load;
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
}

/// Why apply failed before deciding.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Inputs unreadable.
    #[error("{0}")]
    Input(#[from] inputs::InputError),
    /// Resources unparsable.
    #[error("{0}")]
    Load(#[from] load::LoadError),
    /// Module or engine error (policy errors included).
    #[error("{0}")]
    Runner(#[from] RunnerError),
}

/// A loaded engine inside a module instance.
pub struct Loaded {
    instance: Instance_,
    engine: u32,
    /// Compile warnings.
    pub lints: Value,
}

/// Compiles the policies inside a fresh module instance.
pub fn load_policies(runner: &ModuleRunner, policies: &[NamedText]) -> Result<Loaded, ApplyError> {
    let mut instance = runner.instantiate()?;
    let sources: Vec<Value> = policies
        .iter()
        .map(|p| json!({"name": p.name, "text": p.text}))
        .collect();
    let input = serde_json::to_vec(&json!({"sources": sources})).unwrap_or_default();
    let (engine, lints) = instance.engine_new(&input)?;
    Ok(Loaded {
        instance,
        engine,
        lints,
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

    /// Decides one resource.
    pub fn decide(
        &mut self,
        object: &Value,
        now: Option<&str>,
        source: &dyn ArtifactSource,
    ) -> Result<Decision, RunnerError> {
        let request = json!({"operation": "CREATE", "object": object, "now": now});
        let bytes = serde_json::to_vec(&request).unwrap_or_default();
        self.instance.decide(self.engine, &bytes, source)
    }
}

/// Reads resources and decides each one.
pub fn run(
    loaded: &mut Loaded,
    resources: &[NamedText],
    now: Option<&str>,
    source: &dyn ArtifactSource,
) -> Result<Vec<ResourceOutcome>, ApplyError> {
    let mut out = Vec::new();
    for r in resources {
        for doc in load::parse_documents(&r.name, &r.text, imgverify::limits::MAX_REQUEST_BYTES)? {
            let v = &doc.value;
            let s = |p: &str| {
                v.pointer(p)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            let d = loaded.decide(v, now, source)?;
            out.push(ResourceOutcome {
                api_version: s("/apiVersion"),
                kind: s("/kind"),
                namespace: s("/metadata/namespace"),
                name: s("/metadata/name"),
                allowed: d.allowed,
                message: d.message,
                patches: d.patches,
                warnings: d.warnings,
                results: d.results,
            });
        }
    }
    Ok(out)
}
