//! `imgverify apply`: evaluate policies against resources in the wasm engine.

use crate::inputs::{self, NamedText};
use crate::runner::{Instance_, ModuleRunner, RunnerError};
use crate::source::ArtifactSource;
use imgverify::decision::Decision;
use serde_json::{Value, json};

/// Policy files that look like Kyverno CLI test manifests are not policies.
pub const TEST_FILE_NAMES: &[&str] = &["kyverno-test.yaml", "kyverno-test.yml"];

pub use imgverify::apply::{AdmissionContext, ResourceOutcome};

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
    /// The settings it was compiled with, attestors' TUF roots included:
    /// more instances of the same policies are made from these, without
    /// fetching again.
    pub settings: EngineSettings,
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
    /// Where image-policy attestors' TUF metadata is kept (default
    /// `.imgverify-tuf`, as `--tuf-cache`).
    pub tuf_cache: Option<String>,
    /// The trusted roots fetched for image-policy attestors' TUF
    /// repositories (by key; filled by [`load_policies`]).
    pub attestor_trusted_roots: serde_json::Map<String, Value>,
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
        if !self.attestor_trusted_roots.is_empty() {
            options["attestorTrustedRoots"] = Value::Object(self.attestor_trusted_roots.clone());
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

/// Compiles the policies inside a fresh module instance. When image-policy
/// attestors name TUF repositories, their trusted roots are fetched and
/// verified (or read from the TUF cache when a repository is unreachable)
/// and the policies compiled again with them; a root that cannot be had
/// makes everything its attestor verifies an error, naming the repository.
pub fn load_policies(
    runner: &ModuleRunner,
    policies: &[NamedText],
    settings: &EngineSettings,
) -> Result<Loaded, ApplyError> {
    let loaded = load_once(runner, policies, settings)?;
    let sources: Vec<Value> = loaded
        .summary
        .get("tufSources")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if sources.is_empty() || !settings.attestor_trusted_roots.is_empty() {
        return Ok(loaded);
    }
    let cache = settings.tuf_cache.as_deref().unwrap_or(".imgverify-tuf");
    let mut with_roots = settings.clone();
    with_roots.attestor_trusted_roots = crate::tuf::attestor_roots_blocking(&sources, cache);
    load_once(runner, policies, &with_roots)
}

fn load_once(
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
        settings: settings.clone(),
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

/// Decides each JSON payload (every document of each file) for the image
/// policies in `evaluation.mode: JSON`, as `kyverno apply --json` does.
pub fn run_json(
    loaded: &mut Loaded,
    payloads: &[NamedText],
    now: Option<&str>,
    source: &dyn ArtifactSource,
    context: &AdmissionContext,
) -> Result<Vec<ResourceOutcome>, ApplyError> {
    let docs = parse_all(loaded, payloads)?;
    decide_each(loaded, docs, source, |object| {
        let mut request = context.request(object, now);
        request["jsonPayload"] = serde_json::Value::Bool(true);
        request
    })
}

/// [`run`] with namespace labels and user info.
pub fn run_with(
    loaded: &mut Loaded,
    resources: &[NamedText],
    now: Option<&str>,
    source: &dyn ArtifactSource,
    context: &AdmissionContext,
) -> Result<Vec<ResourceOutcome>, ApplyError> {
    let docs = parse_all(loaded, resources)?;
    // Namespace documents among the resources give their labels, unless the
    // values file says otherwise.
    let mut context = context.clone();
    context.learn_namespaces(docs.iter().map(|(_, v)| v));
    decide_each(loaded, docs, source, |object| context.request(object, now))
}

/// Every document of the texts. Untrusted YAML is parsed inside the sandbox.
fn parse_all(
    loaded: &mut Loaded,
    texts: &[NamedText],
) -> Result<Vec<(String, serde_json::Value)>, ApplyError> {
    let mut docs = Vec::new();
    for t in texts {
        docs.extend(loaded.instance.parse_documents(&t.name, &t.text)?);
    }
    Ok(docs)
}

/// Decides each document with the request `request` builds for it; a
/// document the module cannot decide is reported and the instance reset.
fn decide_each(
    loaded: &mut Loaded,
    docs: Vec<(String, serde_json::Value)>,
    source: &dyn ArtifactSource,
    request: impl Fn(&serde_json::Value) -> serde_json::Value,
) -> Result<Vec<ResourceOutcome>, ApplyError> {
    let mut out = Vec::new();
    for (origin, value) in docs {
        let mut outcome = ResourceOutcome::undecided(value);
        match loaded.decide_request(&request(&outcome.object), source) {
            Ok(d) => outcome.decided(d),
            Err(e) => {
                outcome.failed(&origin, &e);
                loaded.reset()?;
            }
        }
        out.push(outcome);
    }
    Ok(out)
}
