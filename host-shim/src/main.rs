//! `imgverify`: image-trust admission control for Kyverno `verifyImages`
//! policies, with the verification engine sandboxed in wasmtime.

use imgverify_host::{apply, inputs, kyverno_test, output, runner, source};

use clap::{Parser, Subcommand, ValueEnum};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "imgverify",
    version,
    about = "Verify container image signatures with Kyverno verifyImages policies, in a wasm sandbox"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
    Yaml,
    Report,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate policies against resources (files, folders, `-` for stdin).
    Apply {
        /// Policy files or folders.
        #[arg(required = true)]
        policies: Vec<String>,
        /// Resource files or folders.
        #[arg(long = "resource", short = 'r', required = true)]
        resources: Vec<String>,
        /// OCI image layout serving artifacts: DIR, or REGISTRY/REPOSITORY=DIR for bare tags.
        #[arg(long = "oci-layout")]
        oci_layouts: Vec<String>,
        /// Evaluation time (RFC 3339).
        #[arg(long)]
        now: Option<String>,
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
        output: Format,
    },
    /// Run Kyverno CLI test suites (kyverno-test.yaml) under a folder.
    Test {
        /// Folder to search.
        dir: String,
        /// OCI image layouts serving artifacts.
        #[arg(long = "oci-layout")]
        oci_layouts: Vec<String>,
        /// Evaluation time (RFC 3339).
        #[arg(long)]
        now: Option<String>,
    },
}

fn layouts(specs: &[String]) -> Result<source::OciLayouts, String> {
    let mut l = source::OciLayouts::default();
    for s in specs {
        l.add(s).map_err(|e| e.to_string())?;
    }
    Ok(l)
}

fn check_now(now: &Option<String>) -> Result<(), String> {
    match now {
        Some(n)
            if time::OffsetDateTime::parse(n, &time::format_description::well_known::Rfc3339)
                .is_err() =>
        {
            Err(format!("--now {n:?} is not an RFC 3339 time"))
        }
        _ => Ok(()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Apply {
            policies,
            resources,
            oci_layouts,
            now,
            output,
        } => {
            let run = || -> Result<ExitCode, String> {
                check_now(&now)?;
                let source = layouts(&oci_layouts)?;
                let runner = runner::ModuleRunner::new().map_err(|e| e.to_string())?;
                let policy_texts = inputs::read_all(&policies, apply::TEST_FILE_NAMES)
                    .map_err(|e| e.to_string())?;
                let resource_texts = inputs::read_all(&resources, apply::TEST_FILE_NAMES)
                    .map_err(|e| e.to_string())?;
                let mut loaded =
                    apply::load_policies(&runner, &policy_texts).map_err(|e| e.to_string())?;
                for l in loaded.lints.as_array().into_iter().flatten() {
                    eprintln!(
                        "warning: {}: {}: {}",
                        l.get("document").and_then(|v| v.as_str()).unwrap_or(""),
                        l.get("path").and_then(|v| v.as_str()).unwrap_or(""),
                        l.get("message").and_then(|v| v.as_str()).unwrap_or("")
                    );
                }
                let outcomes = apply::run(&mut loaded, &resource_texts, now.as_deref(), &source)
                    .map_err(|e| e.to_string())?;
                match output {
                    Format::Table => print!("{}", output::table(&outcomes)),
                    Format::Json => println!(
                        "{}",
                        serde_json::to_string_pretty(&output::json_document(&outcomes))
                            .unwrap_or_default()
                    ),
                    Format::Yaml => print!(
                        "{}",
                        serde_norway::to_string(&output::json_document(&outcomes))
                            .unwrap_or_default()
                    ),
                    Format::Report => {
                        let ts = time::OffsetDateTime::now_utc().unix_timestamp();
                        for r in output::reports(&outcomes, ts) {
                            print!("---\n{}", serde_norway::to_string(&r).unwrap_or_default());
                        }
                    }
                }
                Ok(if outcomes.iter().all(|o| o.allowed) {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                })
            };
            run().unwrap_or_else(|e| {
                eprintln!("error: {e}");
                ExitCode::from(2)
            })
        }
        Command::Test {
            dir,
            oci_layouts,
            now,
        } => {
            let run = || -> Result<ExitCode, String> {
                check_now(&now)?;
                let source = layouts(&oci_layouts)?;
                let runner = runner::ModuleRunner::new().map_err(|e| e.to_string())?;
                let (checks, errors) =
                    kyverno_test::run(&runner, std::path::Path::new(&dir), now.as_deref(), &source);
                for c in &checks {
                    println!(
                        "{} {} (expected {}, got {}) [{}]",
                        if c.passed() { "PASS" } else { "FAIL" },
                        c.what,
                        c.expected,
                        c.actual,
                        c.file
                    );
                }
                for e in &errors {
                    println!("ERROR {e}");
                }
                let failed = checks.iter().filter(|c| !c.passed()).count() + errors.len();
                println!(
                    "\n{} passed, {} failed",
                    checks.len() - (failed - errors.len()),
                    failed
                );
                Ok(if failed == 0 && !checks.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                })
            };
            run().unwrap_or_else(|e| {
                eprintln!("error: {e}");
                ExitCode::from(2)
            })
        }
    }
}
