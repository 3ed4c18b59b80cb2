//! `imgverify verify-bundle`: the sigstore-conformance client protocol.
//! The bundle, artifact and trust material are handed to the engine module,
//! which verifies them in the sandbox; this file only reads files and maps
//! the outcome to exit codes (0 verified, 1 not verified, 2 usage).

use crate::runner::{ModuleRunner, RunnerError};
use base64::Engine as _;
use std::process::ExitCode;

/// Largest artifact read from a file (larger ones: pass `sha256:<hex>`).
const MAX_ARTIFACT_BYTES: u64 = 256 << 20;
/// Largest bundle or trusted root read.
const MAX_JSON_BYTES: u64 = 8 << 20;

/// The command's arguments.
#[derive(clap::Args, Debug)]
pub struct VerifyBundleArgs {
    /// The Sigstore bundle (JSON).
    #[arg(long)]
    pub bundle: String,
    /// The expected certificate identity (a SAN, matched exactly).
    #[arg(long, requires = "certificate_oidc_issuer", conflicts_with = "key")]
    pub certificate_identity: Option<String>,
    /// The expected OIDC issuer (matched exactly).
    #[arg(long, requires = "certificate_identity", conflicts_with = "key")]
    pub certificate_oidc_issuer: Option<String>,
    /// A managed public key (PEM) instead of an identity.
    #[arg(long, required_unless_present = "certificate_identity")]
    pub key: Option<String>,
    /// A trusted_root.json replacing the embedded public-good root.
    #[arg(long)]
    pub trusted_root: Option<String>,
    /// The artifact: a file, or `sha256:<hex>` (for DSSE, a statement subject).
    pub input: String,
}

fn read(path: &str, limit: u64) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let f = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let mut buf = Vec::new();
    f.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("{path}: {e}"))?;
    if buf.len() as u64 > limit {
        return Err(format!("{path}: larger than {limit} bytes"));
    }
    Ok(buf)
}

fn text(path: &str) -> Result<String, String> {
    String::from_utf8(read(path, MAX_JSON_BYTES)?).map_err(|_| format!("{path}: not UTF-8"))
}

/// Runs the command: exit 0 when the bundle verifies, 1 (with the reason on
/// stderr) for every verification failure, including an unreadable bundle,
/// key or trusted root.
pub fn run(args: VerifyBundleArgs) -> Result<ExitCode, String> {
    let fail = |m: String| {
        eprintln!("verification failed: {m}");
        Ok(ExitCode::from(1))
    };
    let mut input = serde_json::json!({
        "now": time::OffsetDateTime::now_utc().unix_timestamp(),
        "certificateIdentity": args.certificate_identity,
        "certificateOidcIssuer": args.certificate_oidc_issuer,
    });
    match text(&args.bundle) {
        Ok(b) => input["bundle"] = b.into(),
        Err(e) => return fail(e),
    }
    if let Some(k) = &args.key {
        match text(k) {
            Ok(k) => input["key"] = k.into(),
            Err(e) => return fail(e),
        }
    }
    if let Some(r) = &args.trusted_root {
        match text(r) {
            Ok(r) => input["trustedRoot"] = r.into(),
            Err(e) => return fail(e),
        }
    }
    match args.input.strip_prefix("sha256:") {
        Some(hex) => input["artifactSha256"] = hex.into(),
        None => match read(&args.input, MAX_ARTIFACT_BYTES) {
            Ok(b) => {
                input["artifactBase64"] = base64::engine::general_purpose::STANDARD.encode(b).into()
            }
            Err(e) => return fail(e),
        },
    }
    let runner = ModuleRunner::new().map_err(|e| e.to_string())?;
    let mut instance = runner.instantiate().map_err(|e| e.to_string())?;
    let bytes = serde_json::to_vec(&input).map_err(|e| e.to_string())?;
    match instance.verify_bundle(&bytes) {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(RunnerError::Engine(m)) => fail(m),
        Err(e) => fail(e.to_string()),
    }
}
