//! `imgverify test DIR...`: runs Kyverno CLI `kyverno-test.yaml` suites as
//! `kyverno test` does (`cmd/cli/kubectl-kyverno/commands/test`): the same
//! test schema read strictly, the same result rows, table, output formats,
//! `Test Summary` line and exit status, on imgverify's verifier.
//!
//! [`schema`] reads test files, [`selector`] is `--test-case-selector`,
//! [`check`] turns decisions into rows, [`render`] prints them.

pub mod check;
pub mod global_context;
pub mod render;
pub mod schema;
pub mod selector;

use crate::apply::{self, AdmissionContext, ResourceOutcome};
use crate::context_files;
use crate::inputs::{self, NamedText};
use crate::runner::ModuleRunner;
use crate::source::ArtifactSource;
use check::{Counts, Decided, Row};
use render::Format;
use schema::TestDoc;
use selector::Selector;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The test file name Kyverno looks for by default (`--file-name`).
pub const DEFAULT_FILE_NAME: &str = "kyverno-test.yaml";

/// How to run the suites (the `kyverno test` flags).
#[derive(Debug, Clone)]
pub struct Options {
    /// Folders to search, recursively.
    pub dirs: Vec<PathBuf>,
    /// The test file name (`-f`).
    pub file_name: String,
    /// `-t`: `policy=…,rule=…,resource=…`.
    pub selector: String,
    /// `-o`.
    pub format: Format,
    /// `--fail-only`: print only the failed rows, after the summary.
    pub fail_only: bool,
    /// `--detailed-results`: the rule's message on every row.
    pub detailed: bool,
    /// `--require-tests`: finding no test is an error.
    pub require_tests: bool,
    /// The evaluation time.
    pub now: Option<String>,
}

/// What running the suites found.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Rows passed, skipped and failed.
    pub counts: Counts,
    /// Tests that could not run (`path: error`).
    pub errors: Vec<String>,
    /// Every row, across tests.
    pub rows: Vec<Row>,
}

/// What evaluates the tests' policies.
pub struct Verifier<'a> {
    /// The engine module.
    pub runner: &'a ModuleRunner,
    /// Engine-wide settings (trusted root).
    pub settings: &'a apply::EngineSettings,
    /// Where artifacts come from.
    pub source: &'a dyn ArtifactSource,
}

/// One loaded test file document.
struct Loaded {
    path: PathBuf,
    test: Result<TestDoc, String>,
}

fn find_tests(dir: &Path, file_name: &str, out: &mut Vec<Loaded>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            find_tests(&p, file_name, out)?;
        } else if p.file_name().and_then(|n| n.to_str()) == Some(file_name) {
            match std::fs::read_to_string(&p)
                .map_err(|e| e.to_string())
                .and_then(|t| schema::parse(&t))
            {
                Ok(tests) => out.extend(tests.into_iter().map(|t| Loaded {
                    path: p.clone(),
                    test: Ok(t),
                })),
                Err(e) => out.push(Loaded {
                    path: p.clone(),
                    test: Err(e),
                }),
            }
        }
    }
    Ok(())
}

/// Runs the suites, writing Kyverno's output to `out`. `Err` is the
/// command's error (Kyverno's `Error:` line); failed rows are `Ok` with
/// `counts.fail > 0`.
pub fn run(verifier: &Verifier, opts: &Options, out: &mut String) -> Result<Outcome, String> {
    let (selector, filter_errors) = Selector::parse(&opts.selector);
    if !filter_errors.is_empty() {
        out.push_str("\nFilter errors:\n");
        for e in &filter_errors {
            let _ = writeln!(out, "  Error: {e}");
        }
    }
    let mut tests = Vec::new();
    for dir in &opts.dirs {
        if let Err(e) = find_tests(dir, &opts.file_name, &mut tests) {
            let _ = writeln!(out, "\nError loading tests: {}: {e}", dir.display());
            return Err(format!("{}: {e}", dir.display()));
        }
    }
    if tests.is_empty() {
        out.push_str("\nNo test yamls available\n");
    }
    let load_errors: Vec<(&PathBuf, &String)> = tests
        .iter()
        .filter_map(|t| t.test.as_ref().err().map(|e| (&t.path, e)))
        .collect();
    if !load_errors.is_empty() {
        out.push_str("\nTest errors:\n");
        for (p, e) in &load_errors {
            let _ = writeln!(out, "  Path: {}\n    Error: {e}", p.display());
        }
        return Err(format!(
            "found {} errors after loading tests",
            load_errors.len()
        ));
    }
    if tests.is_empty() {
        if opts.require_tests {
            return Err("no tests found".into());
        }
        return match filter_errors.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(Outcome::default()),
        };
    }
    let mut outcome = Outcome::default();
    let mut failed_rows = Vec::new();
    for t in &tests {
        let Ok(test) = &t.test else { continue };
        if let Err(e) = test.check() {
            let _ = writeln!(out, "\nERROR: test file {}: {e}", t.path.display());
            outcome.errors.push(format!("{}: {e}", t.path.display()));
            continue;
        }
        let resource_filter = selector.resources();
        let selected: Vec<schema::Expectation> = test
            .results
            .iter()
            .filter(|r| selector.selects(r))
            .cloned()
            .map(|mut r| {
                if !resource_filter.is_empty() {
                    r.resources = resource_filter.clone();
                    r.resource_specs.clear();
                }
                r
            })
            .collect();
        if selected.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "Loading test {} ( {} ) ...",
            test.display_name(),
            t.path.display()
        );
        let rows_before = outcome.rows.len();
        match run_test(verifier, opts, &t.path, test, &selected, out, &mut outcome) {
            Ok(()) => {}
            Err(e) => {
                let _ = writeln!(out, "  ERROR: {e}");
                outcome.errors.push(format!("{}: {e}", t.path.display()));
                continue;
            }
        }
        let rows = &outcome.rows[rows_before..];
        failed_rows.extend(rows.iter().filter(|r| r.failure).cloned());
        if !opts.fail_only {
            out.push_str(&render::rows(opts.format, rows, opts.detailed));
        }
    }
    let c = outcome.counts;
    if !opts.fail_only {
        let _ = writeln!(
            out,
            "\nTest Summary: {} tests passed and {} tests failed",
            c.pass + c.skip,
            c.fail
        );
    } else {
        let _ = writeln!(
            out,
            "\nTest Summary: {} out of {} tests failed",
            c.fail,
            c.pass + c.skip + c.fail
        );
    }
    out.push('\n');
    if c.fail > 0 && opts.fail_only {
        for (i, r) in failed_rows.iter_mut().enumerate() {
            r.id = i + 1;
        }
        if opts.format == Format::Table {
            out.push_str("Aggregated Failed Test Cases : \n");
        }
        out.push_str(&render::rows(opts.format, &failed_rows, opts.detailed));
    }
    if c.fail > 0 {
        return Err(format!("{} tests failed", c.fail));
    }
    if !outcome.errors.is_empty() {
        return Err(format!("{} tests could not run", outcome.errors.len()));
    }
    Ok(outcome)
}

fn dedup(v: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in v {
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
    out
}

/// The admission context from the test's values and user info.
fn test_context(base: &Path, test: &TestDoc, out: &mut String) -> Result<AdmissionContext, String> {
    let mut ctx = AdmissionContext::default();
    let path = |p: &str| base.join(p).display().to_string();
    if test.variables.is_some() || test.values.is_some() {
        out.push_str("  Loading values/variables ...\n");
    }
    let values = match (&test.values, &test.variables) {
        (Some(inline), _) => {
            let mut v = inline.clone();
            if let Some(o) = v.as_object_mut() {
                o.entry("apiVersion")
                    .or_insert("cli.kyverno.io/v1alpha1".into());
                o.entry("kind").or_insert("Values".into());
            }
            Some(
                imgverify::yaml::from_value::<context_files::Values>(v)
                    .map_err(|e| format!("values: {e}"))?,
            )
        }
        (None, Some(p)) => Some(context_files::load_values(&path(p))?),
        (None, None) => None,
    };
    if let Some(v) = values {
        v.apply_to(&mut ctx)?;
    }
    if let Some(p) = &test.userinfo {
        out.push_str("  Loading user infos ...\n");
        ctx.user_info = Some(context_files::load_user_info(&path(p))?);
    }
    Ok(ctx)
}

fn run_test(
    verifier: &Verifier,
    opts: &Options,
    file: &Path,
    test: &TestDoc,
    selected: &[schema::Expectation],
    out: &mut String,
    outcome: &mut Outcome,
) -> Result<(), String> {
    let base = file.parent().unwrap_or(Path::new("."));
    let rel = |v: &[String]| {
        dedup(v)
            .iter()
            .map(|p| base.join(p).display().to_string())
            .collect::<Vec<_>>()
    };
    let mut ctx = test_context(base, test, out)?;
    out.push_str("  Loading policies ...\n");
    let policies: Vec<NamedText> =
        inputs::read_all(&rel(&test.policies), &[&opts.file_name]).map_err(|e| e.to_string())?;
    out.push_str("  Loading resources ...\n");
    let resources: Vec<NamedText> =
        inputs::read_all(&rel(&test.resources), &[&opts.file_name]).map_err(|e| e.to_string())?;
    let payload_names = test.payload_names();
    let mut payloads = Vec::new();
    if !payload_names.is_empty() {
        out.push_str("  Loading JSON payloads ...\n");
        for name in &payload_names {
            let text = inputs::read_all(&rel(std::slice::from_ref(name)), &[])
                .map_err(|e| format!("failed to load JSON payload {name} ({e})"))?;
            payloads.push((name.clone(), text));
        }
    }
    let cluster = if test.cluster_resources.is_empty() {
        None
    } else {
        out.push_str("  Loading Kubernetes resources ...\n");
        Some(
            crate::cluster_resources::ClusterResources::load(base, &test.cluster_resources)
                .map_err(|e| e.to_string())?,
        )
    };
    let with_cluster;
    let source: &dyn ArtifactSource = match cluster {
        Some(kube) => {
            with_cluster = crate::source::WithKubeApi {
                inner: verifier.source,
                kube,
            };
            &with_cluster
        }
        None => verifier.source,
    };
    if !test.global_context_entries.is_empty() {
        out.push_str("  Loading global context entries ...\n");
    }
    let mocks = global_context::resolve(base, &test.global_context_entries)?;
    ctx.allow_api_calls = !test.cluster_resources.is_empty();
    ctx.global_context = Some(mocks).filter(|m| !m.is_empty());
    let mut settings = verifier.settings.clone();
    if !test.exceptions.is_empty() {
        out.push_str("  Loading exceptions ...\n");
        settings.policy_exceptions = inputs::read_all(&rel(&test.exceptions), &[&opts.file_name])
            .map_err(|e| e.to_string())?;
    }
    let mut loaded = apply::load_policies(verifier.runner, &policies, &settings)
        .map_err(|e| format!("failed to load policies ({e})"))?;
    for l in loaded.lints.as_array().into_iter().flatten() {
        let s = |k: &str| l.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
        let _ = writeln!(
            out,
            "  warning: {}: {}: {}",
            s("document"),
            s("path"),
            s("message")
        );
    }
    let invalid = crate::kyverno_apply::invalid_policies(&loaded.summary);
    for p in &invalid {
        let _ = writeln!(out, "  ERROR: invalid policy {}: {}", p.name, p.reason);
    }
    let policy_names: Vec<String> = loaded
        .summary
        .get("policies")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("name").and_then(|n| n.as_str()).map(str::to_string))
        .collect();
    // Decisions under the test's operation, and under each operation an
    // expectation names.
    let mut by_operation: BTreeMap<Option<String>, Vec<ResourceOutcome>> = BTreeMap::new();
    let mut operations: Vec<Option<String>> = vec![None];
    for e in selected {
        if !operations.contains(&e.operation) {
            operations.push(e.operation.clone());
        }
    }
    let mut first = true;
    for op in operations {
        let mut ctx = ctx.clone();
        if let Some(op) = &op {
            ctx.operation = Some(op.clone());
        }
        let mut decided =
            apply::run_with(&mut loaded, &resources, opts.now.as_deref(), source, &ctx)
                .map_err(|e| format!("failed to apply policies ({e})"))?;
        for (name, text) in &payloads {
            let of_payload = apply::run_json(&mut loaded, text, opts.now.as_deref(), source, &ctx)
                .map_err(|e| format!("failed to apply policies on JSON payload {name} ({e})"))?;
            // Results name a payload by its entry in the test.
            decided.extend(of_payload.into_iter().map(|mut o| {
                o.name = name.clone();
                o
            }));
        }
        if first {
            let plural = |n: usize, one: &str, many: &str| {
                format!("{n} {}", if n == 1 { one } else { many })
            };
            let _ = writeln!(
                out,
                "  Applying {} to {} ...",
                plural(policy_names.len(), "policy", "policies"),
                plural(decided.len(), "resource", "resources")
            );
            first = false;
        }
        by_operation.insert(op, decided);
    }
    out.push_str("  Checking results ...\n");
    let mut rows = Vec::new();
    for e in selected {
        let decided = Decided {
            outcomes: &by_operation[&e.operation],
            policies: &policy_names,
            invalid: &invalid,
            dir: base,
        };
        check::expectation_rows(e, &decided, &mut rows, &mut outcome.counts);
    }
    outcome.rows.extend(rows);
    Ok(())
}
