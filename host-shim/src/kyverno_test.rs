//! `imgverify test DIR`: runs Kyverno CLI `kyverno-test.yaml` suites.

use crate::apply::{self, ResourceOutcome};
use crate::context_files;
use crate::inputs::{self, NamedText};
use crate::runner::ModuleRunner;
use crate::source::ArtifactSource;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A Kyverno CLI test manifest.
#[derive(Debug, Deserialize)]
pub struct TestFile {
    /// Test name.
    #[serde(default)]
    pub name: Option<String>,
    /// Name in metadata (cli.kyverno.io/v1alpha1).
    #[serde(default)]
    pub metadata: Option<serde_json::Value>,
    /// Policy files relative to the test file.
    #[serde(default)]
    pub policies: Vec<String>,
    /// Resource files relative to the test file.
    #[serde(default)]
    pub resources: Vec<String>,
    /// Expectations.
    #[serde(default)]
    pub results: Vec<Expectation>,
    /// A values file, relative to the test file.
    #[serde(default)]
    pub variables: Option<String>,
    /// A user-info file, relative to the test file.
    #[serde(default)]
    pub userinfo: Option<String>,
    /// Inline values (win over `variables`).
    #[serde(default)]
    pub values: Option<serde_json::Value>,
}

/// One expected result.
#[derive(Debug, Deserialize)]
pub struct Expectation {
    /// Policy name.
    pub policy: String,
    /// Rule name.
    pub rule: String,
    /// Resource names.
    #[serde(default)]
    pub resources: Vec<String>,
    /// Single resource name (older format).
    #[serde(default)]
    pub resource: Option<String>,
    /// Kind.
    #[serde(default)]
    pub kind: Option<String>,
    /// Namespace.
    #[serde(default)]
    pub namespace: Option<String>,
    /// pass, fail, skip, warn, error.
    pub result: String,
}

/// Outcome of one expectation check.
#[derive(Debug)]
pub struct Check {
    /// Test file.
    pub file: String,
    /// Description.
    pub what: String,
    /// Expected.
    pub expected: String,
    /// Actual.
    pub actual: String,
}

impl Check {
    /// Whether it passed.
    pub fn passed(&self) -> bool {
        self.expected == self.actual
    }
}

fn find_tests(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            find_tests(&p, out)?;
        } else if p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| apply::TEST_FILE_NAMES.contains(&n))
        {
            out.push(p);
        }
    }
    Ok(())
}

/// What running the suites under a folder found.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Every expectation checked.
    pub checks: Vec<Check>,
    /// One line per test file that could not run.
    pub errors: Vec<String>,
    /// Policy lints (unknown apiVersions, entries that verify nothing, …).
    pub warnings: Vec<String>,
}

/// Runs every test under `dir`.
pub fn run(
    runner: &ModuleRunner,
    settings: &apply::EngineSettings,
    dir: &Path,
    now: Option<&str>,
    source: &dyn ArtifactSource,
) -> Outcome {
    let mut out = Outcome::default();
    let mut files = Vec::new();
    if let Err(e) = find_tests(dir, &mut files) {
        out.errors.push(format!("{}: {e}", dir.display()));
        return out;
    }
    for f in files {
        if let Err(e) = run_one(runner, settings, &f, now, source, &mut out) {
            out.errors.push(format!("{}: {e}", f.display()));
        }
    }
    out
}

fn run_one(
    runner: &ModuleRunner,
    settings: &apply::EngineSettings,
    file: &Path,
    now: Option<&str>,
    source: &dyn ArtifactSource,
    out: &mut Outcome,
) -> Result<(), String> {
    let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
    let test: TestFile = imgverify::yaml::from_str(&text)?;
    let base = file.parent().unwrap_or(Path::new("."));
    let rel = |v: &[String]| {
        v.iter()
            .map(|p| base.join(p).display().to_string())
            .collect::<Vec<_>>()
    };
    let policies: Vec<NamedText> = inputs::read_all(&rel(&test.policies), apply::TEST_FILE_NAMES)
        .map_err(|e| e.to_string())?;
    let resources: Vec<NamedText> = inputs::read_all(&rel(&test.resources), apply::TEST_FILE_NAMES)
        .map_err(|e| e.to_string())?;
    let mut ctx = apply::AdmissionContext::default();
    let values = match (&test.values, &test.variables) {
        (Some(inline), _) => {
            let mut v = inline.clone();
            if let Some(o) = v.as_object_mut() {
                o.entry("apiVersion")
                    .or_insert("cli.kyverno.io/v1alpha1".into());
                o.entry("kind").or_insert("Values".into());
            }
            Some(
                serde_json::from_value::<context_files::Values>(v)
                    .map_err(|e| format!("values: {e}"))?,
            )
        }
        (None, Some(path)) => Some(context_files::load_values(
            &base.join(path).display().to_string(),
        )?),
        (None, None) => None,
    };
    if let Some(v) = values {
        v.apply_to(&mut ctx)?;
    }
    if let Some(path) = &test.userinfo {
        ctx.user_info = Some(context_files::load_user_info(
            &base.join(path).display().to_string(),
        )?);
    }
    let mut loaded =
        apply::load_policies(runner, &policies, settings).map_err(|e| e.to_string())?;
    for l in loaded.lints.as_array().into_iter().flatten() {
        let s = |k: &str| l.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
        out.warnings.push(format!(
            "{}: {}: {}: {}",
            file.display(),
            s("document"),
            s("path"),
            s("message")
        ));
    }
    let outcomes: Vec<ResourceOutcome> =
        apply::run_with(&mut loaded, &resources, now, source, &ctx).map_err(|e| e.to_string())?;
    let mut checks = Vec::new();
    for exp in &test.results {
        let mut names = exp.resources.clone();
        names.extend(exp.resource.clone());
        for name in names {
            let actual = outcomes
                .iter()
                .filter(|o| o.name == name)
                .filter(|o| exp.kind.as_deref().is_none_or(|k| k == o.kind))
                .filter(|o| exp.namespace.as_deref().is_none_or(|n| n == o.namespace))
                .flat_map(|o| o.results.iter())
                .find(|r| r.policy == exp.policy && r.rule == exp.rule)
                .map(|r| r.result.as_str().to_string())
                .unwrap_or_else(|| "(no result)".to_string());
            checks.push(Check {
                file: file.display().to_string(),
                what: format!(
                    "{}/{} {}{}",
                    exp.policy,
                    exp.rule,
                    exp.kind
                        .as_deref()
                        .map(|k| format!("{k}/"))
                        .unwrap_or_default(),
                    name
                ),
                expected: exp.result.clone(),
                actual,
            });
        }
    }
    out.checks.append(&mut checks);
    Ok(())
}
