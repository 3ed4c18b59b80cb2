//! `imgverify`: image-trust admission control for Kyverno `verifyImages`
//! policies, with the verification engine sandboxed in wasmtime.

use clap::{Args, Parser, Subcommand, ValueEnum};
use imgverify_host::cache::CachingSource;
use imgverify_host::metrics::Metrics;
use imgverify_host::registry::RegistryClient;
use imgverify_host::registry::config::RegistryConfig;
use imgverify_host::source::{ArtifactSource, OciLayouts};
use imgverify_host::{apply, bundle, context_files, inputs, kyverno_test, output, runner, serve};
use std::process::ExitCode;
use std::sync::Arc;

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

/// imgverify's own result formats for `apply`.
#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
    Yaml,
    Report,
}

/// Where artifacts come from: a bundle, OCI layouts, or registries (default).
#[derive(Args, Clone, Default)]
struct SourceArgs {
    /// OCI image layout serving artifacts: DIR, or REGISTRY/REPOSITORY=DIR for bare tags.
    #[arg(long = "oci-layout")]
    oci_layouts: Vec<String>,
    /// Replay a bundle recorded by `imgverify fetch` (no network).
    #[arg(long)]
    bundle: Option<String>,
    /// Registry client settings (YAML/JSON): credentials, CAs, insecure registries, cache.
    #[arg(long = "registry-config")]
    registry_config: Option<String>,
}

impl SourceArgs {
    fn build(&self, rt: &tokio::runtime::Runtime) -> Result<Box<dyn ArtifactSource>, String> {
        if let Some(b) = &self.bundle {
            return Ok(Box::new(bundle::Replay::load(b)?));
        }
        if !self.oci_layouts.is_empty() {
            let mut l = OciLayouts::default();
            for s in &self.oci_layouts {
                l.add(s).map_err(|e| e.to_string())?;
            }
            return Ok(Box::new(l));
        }
        let config = match &self.registry_config {
            Some(p) => RegistryConfig::load(p)?,
            None => RegistryConfig::default(),
        }
        .with_default_docker_config();
        let metrics = Metrics::new();
        let client = Arc::new(RegistryClient::new(config.clone(), metrics.clone())?);
        Ok(Box::new(CachingSource::new(
            client,
            &config.cache,
            metrics,
            rt.handle().clone(),
        )?))
    }
}

/// Trust material replacing the embedded Sigstore public-good root.
#[derive(Args, Clone, Default)]
struct TrustArgs {
    /// A `trusted_root.json` (Rekor and CT log keys, Fulcio and timestamp
    /// authorities) replacing the embedded public-good root.
    #[arg(
        long = "trusted-root",
        value_name = "FILE",
        conflicts_with = "tuf_mirror"
    )]
    trusted_root: Option<String>,
    #[command(flatten)]
    tuf: serve::TufArgs,
}

impl TrustArgs {
    /// The engine settings: `--trusted-root`, or the trusted root verified
    /// from a TUF mirror (or its cache when the mirror is unreachable); when
    /// neither flag is given, the registry configuration's.
    fn settings(
        &self,
        source: &SourceArgs,
        rt: &tokio::runtime::Runtime,
    ) -> Result<apply::EngineSettings, String> {
        let (mut tuf, mut trusted_root) = (self.tuf.clone(), self.trusted_root.clone());
        if let Some(path) = &source.registry_config {
            tuf.or_config(&mut trusted_root, &RegistryConfig::load(path)?);
        }
        let tuf_cache = Some(tuf.tuf_cache.clone());
        match tuf.config().map_err(|e| e.to_string())? {
            None => Ok(apply::EngineSettings {
                tuf_cache,
                ..apply::EngineSettings::load(trusted_root.as_deref())?
            }),
            Some(cfg) => {
                let http = imgverify_host::tuf::http_client().map_err(|e| e.to_string())?;
                let (text, origin) = rt
                    .block_on(imgverify_host::tuf::current(&cfg, http))
                    .map_err(|e| e.to_string())?;
                if origin == imgverify_host::tuf::Origin::Cache {
                    eprintln!(
                        "warning: TUF mirror {} unreachable; using the trusted root cached in {}",
                        cfg.mirror,
                        cfg.cache.display()
                    );
                }
                Ok(apply::EngineSettings {
                    trusted_root: Some(text),
                    tuf_cache,
                    ..Default::default()
                })
            }
        }
    }
}

/// `imgverify apply`: Kyverno's flags with Kyverno's meanings, and imgverify's.
#[derive(Args)]
struct ApplyArgs {
    /// Policy files or folders.
    #[arg(required = true)]
    policies: Vec<String>,
    /// Resource files or folders (repeatable, comma-separated).
    #[arg(
        long = "resource",
        short = 'r',
        visible_alias = "resources",
        value_delimiter = ','
    )]
    resources: Vec<String>,
    /// JSON payload files for image policies in `evaluation.mode: JSON`,
    /// instead of resources (Kyverno's `--json`; repeatable, comma-separated).
    #[arg(long = "json", value_delimiter = ',')]
    json: Vec<String>,
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    trust: TrustArgs,
    /// Evaluation time (RFC 3339; default: now).
    #[arg(long)]
    now: Option<String>,
    /// Where to write the resources as the rules patch them (a `.yaml` file,
    /// or a folder), as Kyverno's `-o`. The values json, yaml, table and
    /// report are imgverify's former output formats: use `--format`.
    #[arg(short = 'o', long = "output")]
    output: Option<String>,
    /// imgverify's result formats: table, json (the decision document), yaml, report.
    #[arg(long = "format", value_enum)]
    format: Option<Format>,
    /// Print policy reports (Kyverno's `-p`).
    #[arg(short = 'p', long = "policy-report")]
    policy_report: bool,
    /// Policy report format: yaml or json.
    #[arg(long = "output-format", default_value = "yaml", value_parser = ["yaml", "json"])]
    output_format: String,
    /// Policy report API: openreports (as Kyverno's CLI today) or wgpolicyk8s.
    #[arg(long = "report-api", value_enum, default_value = "openreports")]
    report_api: imgverify_host::kyverno_apply::ReportApi,
    /// Show results in Kyverno's table.
    #[arg(short = 't', long = "table")]
    table: bool,
    /// With `--table`, each rule's message.
    #[arg(long)]
    detailed_results: bool,
    /// Report Audit policies' failures as warnings.
    #[arg(long)]
    audit_warn: bool,
    /// Exit status when there are warnings and no failures or errors.
    #[arg(long, default_value_t = 0)]
    warn_exit_code: u8,
    /// Exit with the warn exit code when no rule passed.
    #[arg(long)]
    warn_no_pass: bool,
    /// Accepted for Kyverno compatibility (imgverify never colours output).
    #[arg(long)]
    remove_color: bool,
    /// Accepted for Kyverno compatibility (registries are always read).
    #[arg(long)]
    registry: bool,
    /// Kyverno CLI values file (`namespaceSelector`, `namespaces`, `globalValues`, `policies`).
    #[arg(short = 'f', long = "values-file")]
    values_file: Option<String>,
    /// Variables `key=value` (comma-separated), as global values.
    #[arg(short = 's', long = "set", value_delimiter = ',')]
    set: Vec<String>,
    /// Kyverno CLI user-info file (`kind: UserInfo`): roles, cluster roles, user, groups.
    #[arg(short = 'u', long = "userinfo")]
    userinfo: Option<String>,
    /// PolicyException files or folders (repeatable, comma-separated).
    #[arg(
        short = 'e',
        long = "exception",
        visible_alias = "exceptions",
        value_delimiter = ','
    )]
    exceptions: Vec<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate policies against resources (files, folders, `-` for stdin), as `kyverno apply` does.
    Apply(Box<ApplyArgs>),
    /// Record every artifact the decisions need into a bundle, for offline replay.
    Fetch {
        /// Policy files or folders.
        #[arg(long = "policy", short = 'p', required = true)]
        policies: Vec<String>,
        /// Resource files or folders.
        #[arg(long = "resource", short = 'r', required = true)]
        resources: Vec<String>,
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        trust: TrustArgs,
        /// Bundle file to write.
        #[arg(short = 'o', long = "output", required = true)]
        out: String,
    },
    /// Run Kyverno CLI test suites (kyverno-test.yaml) under folders, as `kyverno test` does.
    Test {
        /// Folders to search, recursively.
        #[arg(required = true)]
        dirs: Vec<String>,
        /// Test file name.
        #[arg(short = 'f', long = "file-name", default_value = kyverno_test::DEFAULT_FILE_NAME)]
        file_name: String,
        /// Filter test cases to run: `policy=P,rule=R,resource=X` (wildcards allowed).
        #[arg(short = 't', long = "test-case-selector", default_value = kyverno_test::selector::DEFAULT)]
        test_case_selector: String,
        /// Output format: json, yaml, markdown or junit (default: Kyverno's table).
        #[arg(short = 'o', long = "output-format")]
        output_format: Option<String>,
        /// Print only the failed test cases, after the summary.
        #[arg(long)]
        fail_only: bool,
        /// Print each rule's message beside its result.
        #[arg(long)]
        detailed_results: bool,
        /// Finding no test is an error.
        #[arg(long)]
        require_tests: bool,
        /// Accepted for Kyverno compatibility (imgverify never colours output).
        #[arg(long)]
        remove_color: bool,
        /// Accepted for Kyverno compatibility (imgverify always reads registries,
        /// with `~/.docker/config.json` credentials unless `--registry-config` says otherwise).
        #[arg(long)]
        registry: bool,
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        trust: TrustArgs,
        /// Evaluation time (RFC 3339; default: now).
        #[arg(long)]
        now: Option<String>,
    },
    /// Verify a Sigstore bundle for a file or `sha256:<hex>` (the
    /// sigstore-conformance client protocol): exit 0 verified, 1 not.
    VerifyBundle(imgverify_host::verify_bundle::VerifyBundleArgs),
    /// Serve the admission webhook (HTTPS): /mutate, /validate, /healthz, /readyz, /metrics.
    Serve(serve::ServeArgs),
    /// Serve the browser playground (author and test policies against real
    /// signatures; everything is evaluated in the browser).
    Playground {
        /// Address to listen on (port 0 picks a free one; the URL is printed).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
    },
}

/// The evaluation time: `--now`, checked, or the clock (RFC 3339). It is
/// what certificates are checked at when no transparency log or timestamp
/// fixes the signing time.
fn request_time(now: Option<String>) -> Result<String, String> {
    let rfc3339 = &time::format_description::well_known::Rfc3339;
    match now {
        Some(n) if time::OffsetDateTime::parse(&n, rfc3339).is_err() => {
            Err(format!("--now {n:?} is not an RFC 3339 time"))
        }
        Some(n) => Ok(n),
        None => time::OffsetDateTime::now_utc()
            .format(rfc3339)
            .map_err(|e| e.to_string()),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

fn print_lints(lints: &serde_json::Value) {
    for l in lints.as_array().into_iter().flatten() {
        let s = |k: &str| l.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
        eprintln!(
            "warning: {}: {}: {}",
            s("document"),
            s("path"),
            s("message")
        );
    }
}

/// Reads policies and resources and compiles the policies in a module instance.
fn load(
    policies: &[String],
    resources: &[String],
    (trust, source): (&TrustArgs, &SourceArgs),
    rt: &tokio::runtime::Runtime,
    (skip_invalid_policies, exceptions): (bool, &[String]),
) -> Result<(apply::Loaded, Vec<inputs::NamedText>), String> {
    let mut settings = trust.settings(source, rt)?;
    settings.skip_invalid_policies = skip_invalid_policies;
    settings.policy_exceptions =
        inputs::read_all(exceptions, apply::TEST_FILE_NAMES).map_err(|e| e.to_string())?;
    let runner = runner::ModuleRunner::new().map_err(|e| e.to_string())?;
    let policy_texts =
        inputs::read_all(policies, apply::TEST_FILE_NAMES).map_err(|e| e.to_string())?;
    let resource_texts =
        inputs::read_all(resources, apply::TEST_FILE_NAMES).map_err(|e| e.to_string())?;
    let loaded =
        apply::load_policies(&runner, &policy_texts, &settings).map_err(|e| e.to_string())?;
    print_lints(&loaded.lints);
    Ok((loaded, resource_texts))
}

/// The CLI's admission context from `--values-file`, `--set` and `--userinfo`.
fn context(
    values_file: Option<&str>,
    set: &[String],
    userinfo: Option<&str>,
) -> Result<apply::AdmissionContext, String> {
    let mut values = match values_file {
        Some(path) => context_files::load_values(path)?,
        None => context_files::Values::default(),
    };
    for pair in set {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| format!("--set {pair:?}: expected key=value"))?;
        values.global_values.insert(
            k.trim().to_string(),
            serde_json::Value::String(v.trim().to_string()),
        );
    }
    let mut ctx = apply::AdmissionContext::default();
    if values_file.is_some() || !set.is_empty() {
        values.apply_to(&mut ctx)?;
    }
    if let Some(path) = userinfo {
        ctx.user_info = Some(context_files::load_user_info(path)?);
    }
    Ok(ctx)
}

fn apply_cmd(a: &ApplyArgs) -> Result<ExitCode, String> {
    use imgverify_host::kyverno_apply;
    // `-o` was imgverify's format before it took Kyverno's meaning.
    let (mut format, mut mutated_path) = (a.format, a.output.clone());
    if let Some(o) = &a.output
        && let Ok(f) = Format::from_str(o, false)
    {
        eprintln!(
            "warning: -o {o} is deprecated: use --format {o} (-o PATH writes the patched resources, as in Kyverno)"
        );
        format = format.or(Some(f));
        mutated_path = None;
    }
    let now = Some(request_time(a.now.clone())?);
    let ctx = context(a.values_file.as_deref(), &a.set, a.userinfo.as_deref())?;
    let rt = runtime()?;
    let artifacts = a.source.build(&rt)?;
    let inputs = match (a.resources.is_empty(), a.json.is_empty()) {
        (false, false) => {
            return Err(
                "both resource and json files can not be used together, use one or the other"
                    .into(),
            );
        }
        (true, true) => {
            return Err("give resources (-r) or JSON payloads (--json) to apply to".into());
        }
        (false, true) => &a.resources,
        (true, false) => &a.json,
    };
    let (mut loaded, resource_texts) = load(
        &a.policies,
        inputs,
        (&a.trust, &a.source),
        &rt,
        (true, &a.exceptions),
    )?;
    let run = if a.json.is_empty() {
        apply::run_with
    } else {
        apply::run_json
    };
    let outcomes = run(
        &mut loaded,
        &resource_texts,
        now.as_deref(),
        artifacts.as_ref(),
        &ctx,
    )
    .map_err(|e| e.to_string())?;
    let policies = loaded
        .summary
        .get("policies")
        .and_then(|p| p.as_array())
        .cloned()
        .unwrap_or_default();
    let rules: u64 = policies
        .iter()
        .filter_map(|p| p.get("rules").and_then(|r| r.as_u64()))
        .sum();
    let background = |name: &str| {
        policies.iter().any(|p| {
            p.get("name").and_then(|n| n.as_str()) == Some(name)
                && p.get("background").and_then(|b| b.as_bool()) == Some(true)
        })
    };
    let ts = time::OffsetDateTime::now_utc().unix_timestamp();
    let invalid = kyverno_apply::invalid_policies(&loaded.summary);
    if !invalid.is_empty() {
        print!("{}", kyverno_apply::invalid_policies_block(&invalid));
    }
    match format {
        Some(Format::Table) => print!("{}", output::table(&outcomes)),
        Some(Format::Json) => println!(
            "{}",
            serde_json::to_string_pretty(&output::json_document(&outcomes)).unwrap_or_default()
        ),
        Some(Format::Yaml) => print!(
            "{}",
            serde_norway::to_string(&output::json_document(&outcomes)).unwrap_or_default()
        ),
        Some(Format::Report) => {
            for r in output::reports(&outcomes, ts) {
                print!("---\n{}", serde_norway::to_string(&r).unwrap_or_default());
            }
        }
        None if a.policy_report => {
            let reports =
                kyverno_apply::reports(&outcomes, a.report_api, a.audit_warn, &background, ts);
            print!(
                "{}",
                kyverno_apply::print_reports(&reports, a.output_format == "json")
            );
        }
        None if a.table => print!(
            "{}",
            kyverno_apply::table(&outcomes, a.audit_warn, a.detailed_results)
        ),
        None => print!(
            "{}",
            kyverno_apply::text(&outcomes, rules as usize, a.audit_warn)
        ),
    }
    if let Some(path) = &mutated_path {
        let n = kyverno_apply::write_mutated(&outcomes, std::path::Path::new(path))?;
        eprintln!("wrote {n} patched resource(s) to {path}");
    }
    let exit = kyverno_apply::exit(
        kyverno_apply::counts(&outcomes, a.audit_warn),
        a.warn_exit_code,
        a.warn_no_pass,
    );
    if let Some(line) = exit.line {
        println!("{line}");
    }
    if !invalid.is_empty() {
        // The others ran, as in Kyverno; a policy that could not be checked
        // is never a success.
        eprintln!("error: {} invalid policies were not applied", invalid.len());
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::from(exit.code))
}

fn fetch_cmd(
    policies: &[String],
    resources: &[String],
    source: &SourceArgs,
    trust: &TrustArgs,
    out: &str,
) -> Result<ExitCode, String> {
    let rt = runtime()?;
    let inner = source.build(&rt)?;
    let recording = bundle::Recording::new(inner.as_ref());
    let (mut loaded, resource_texts) =
        load(policies, resources, (trust, source), &rt, (false, &[]))?;
    let outcomes =
        apply::run(&mut loaded, &resource_texts, None, &recording).map_err(|e| e.to_string())?;
    let b = recording.bundle();
    let text = serde_json::to_string_pretty(&b).map_err(|e| e.to_string())?;
    std::fs::write(out, text + "\n").map_err(|e| format!("{out}: {e}"))?;
    eprintln!(
        "recorded {} artifacts for {} resources into {out}",
        b.artifacts.len(),
        outcomes.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// The `test` command's flags.
struct TestFlags {
    dirs: Vec<String>,
    file_name: String,
    test_case_selector: String,
    output_format: Option<String>,
    fail_only: bool,
    detailed_results: bool,
    require_tests: bool,
}

fn test_cmd(
    flags: TestFlags,
    source: &SourceArgs,
    trust: &TrustArgs,
    now: Option<String>,
) -> Result<ExitCode, String> {
    let format = kyverno_test::render::Format::parse(flags.output_format.as_deref())?;
    let now = Some(request_time(now)?);
    let rt = runtime()?;
    let mut settings = trust.settings(source, &rt)?;
    settings.skip_invalid_policies = true;
    let source = source.build(&rt)?;
    let runner = runner::ModuleRunner::new().map_err(|e| e.to_string())?;
    let verifier = kyverno_test::Verifier {
        runner: &runner,
        settings: &settings,
        source: source.as_ref(),
    };
    let opts = kyverno_test::Options {
        dirs: flags.dirs.iter().map(std::path::PathBuf::from).collect(),
        file_name: flags.file_name,
        selector: flags.test_case_selector,
        format,
        fail_only: flags.fail_only,
        detailed: flags.detailed_results,
        require_tests: flags.require_tests,
        now,
    };
    let mut out = String::new();
    let result = kyverno_test::run(&verifier, &opts, &mut out);
    print!("{out}");
    match result {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("Error: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Apply(args) => apply_cmd(&args),
        Command::Fetch {
            policies,
            resources,
            source,
            trust,
            out,
        } => fetch_cmd(&policies, &resources, &source, &trust, &out),
        Command::Test {
            dirs,
            file_name,
            test_case_selector,
            output_format,
            fail_only,
            detailed_results,
            require_tests,
            remove_color: _,
            registry: _,
            source,
            trust,
            now,
        } => test_cmd(
            TestFlags {
                dirs,
                file_name,
                test_case_selector,
                output_format,
                fail_only,
                detailed_results,
                require_tests,
            },
            &source,
            &trust,
            now,
        ),
        Command::Serve(args) => serve::run(args),
        Command::Playground { listen } => runtime()
            .and_then(|rt| rt.block_on(imgverify_host::playground::serve(&listen)))
            .map(|()| ExitCode::SUCCESS),
        Command::VerifyBundle(args) => imgverify_host::verify_bundle::run(args),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })
}
