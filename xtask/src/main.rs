//! Project tasks. `cargo xtask <task>`:
//! - `setup`: install what a fresh machine lacks (rustup target, wasm-bindgen-cli at the exact
//!   crate version, Debian's docker-registry for the registry tests)
//! - `wasm`: build the artifacts listed in `wasm-pack.toml`
//! - `fixtures`: regenerate the signed example images in `policies/images`
//! - `demo`: run every example policy on its example workloads and print the verdicts
//! - `playground [--listen ADDR | --build | --test]`: build the browser playground into
//!   `playground/dist` and serve it with `imgverify playground` (default 127.0.0.1:8080);
//!   `--build` only builds; `--test` runs its headless-Chromium tests
//! - `fuzz [--seconds N] [--update-corpus] [TARGET…]`: run the fuzz targets in
//!   `fuzz/` (cargo-fuzz, nightly), N seconds each (default 300)
//! - `ci`: everything CI runs (setup, fmt, wasm, the playground, clippy, tests, JS
//!   tests, example suites, the playground's browser tests, each fuzz target briefly)

mod fixtures;
#[path = "../../host-shim/src/wasm_names.rs"]
mod wasm_names;

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

#[derive(Deserialize)]
struct WasmPack {
    artifact: Vec<Artifact>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Artifact {
    name: String,
    target: String,
    #[serde(default)]
    no_default_features: bool,
    #[serde(default)]
    features: Vec<String>,
    #[serde(default)]
    wasm_bindgen: Option<String>,
    out_dir: String,
    #[serde(default)]
    zero_imports: bool,
    /// `-Ctarget-feature=` values for this artifact.
    #[serde(default)]
    target_features: Vec<String>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn run(cmd: &mut Command) -> Result<(), String> {
    eprintln!("+ {cmd:?}");
    let status = cmd.status().map_err(|e| format!("{cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed: {status}"))
    }
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    // A CI run builds once from a fresh clone: incremental state would only
    // double the disk the build needs.
    if std::env::args().nth(1).as_deref() == Some("ci") {
        c.env("CARGO_INCREMENTAL", "0");
    }
    c
}

/// The wasm-bindgen version pinned in Cargo.lock.
fn locked_wasm_bindgen_version() -> Result<String, String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).map_err(|e| e.to_string())?;
    let mut lines = lock.lines();
    while let Some(l) = lines.next() {
        if l == "name = \"wasm-bindgen\""
            && let Some(v) = lines.next().and_then(|v| v.strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_string());
        }
    }
    Err("wasm-bindgen not found in Cargo.lock".into())
}

fn setup() -> Result<(), String> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| e.to_string())?;
    if !String::from_utf8_lossy(&installed.stdout).contains("wasm32-unknown-unknown") {
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    // Debian's distribution registry, for the tests that need a real registry.
    if !std::path::Path::new("/usr/bin/docker-registry").exists() {
        run(Command::new("apt-get").arg("update").arg("-q"))?;
        run(Command::new("apt-get")
            .args(["install", "-y", "-q", "docker-registry"])
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
    }
    let want = locked_wasm_bindgen_version()?;
    let have = Command::new("wasm-bindgen")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string());
    if have
        .as_deref()
        .is_none_or(|h| h.split_whitespace().nth(1) != Some(want.as_str()))
    {
        // Without --locked: the crate's lockfile pins a yanked webpki-roots (see DESIGN notes).
        run(cargo().args(["install", "wasm-bindgen-cli", "--version", &want]))?;
    }
    // sigstore-js's mock Fulcio, CT log, Rekor and TSA, from the lockfile:
    // the tests mint fresh keyless signatures with them.
    let mock = root().join("host-shim/tests/mock-sigstore");
    if !mock.join("node_modules/@sigstore/mock").is_dir() {
        run(Command::new("npm")
            .current_dir(&mock)
            .args(["ci", "--no-audit", "--no-fund"]))?;
    }
    // The playground's bundler, editor and browser driver, from the lockfile.
    let playground = root().join("playground");
    if !playground.join("node_modules/.package-lock.json").is_file() {
        run(Command::new("npm")
            .current_dir(&playground)
            .args(["ci", "--no-audit", "--no-fund"]))?;
    }
    Ok(())
}

/// Debian's Chromium, for the playground's browser tests.
fn setup_browser() -> Result<(), String> {
    if !std::path::Path::new(CHROMIUM).exists() {
        run(Command::new("apt-get").arg("update").arg("-q"))?;
        run(Command::new("apt-get")
            .args(["install", "-y", "-q", "chromium"])
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
    }
    Ok(())
}

/// Where Debian installs Chromium (playwright-core drives it).
const CHROMIUM: &str = "/usr/bin/chromium";

/// Builds the playground into `playground/dist`: the wasm-bindgen web package,
/// the gallery (every example scenario and a `.tar` of their signed images)
/// and the bundled page. The `imgverify` binary embeds what is there when it
/// is built.
fn build_playground() -> Result<(), String> {
    wasm_artifacts(Some("web"))?;
    let dir = root().join("playground");
    let pkg = dir.join("pkg");
    let dist = dir.join("dist");
    for d in [&pkg, &dist] {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    let web = root().join("target/artifacts/web");
    for f in ["imgverify.js", "imgverify_bg.wasm", "imgverify.d.ts"] {
        std::fs::copy(web.join(f), pkg.join(f)).map_err(|e| format!("{f}: {e}"))?;
    }
    let mut gallery = Vec::new();
    for s in scenarios()? {
        let read = |f: &str| std::fs::read_to_string(s.join(f)).ok();
        let name = s
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        gallery.push(serde_json::json!({
            "name": name,
            "about": read("ABOUT").unwrap_or_default().trim(),
            "policy": read("policy.yaml").unwrap_or_default(),
            "resources": read("resources.yaml").unwrap_or_default(),
            "values": read("values.yaml").unwrap_or_default(),
        }));
    }
    std::fs::write(
        dist.join("gallery.json"),
        serde_json::to_vec_pretty(&gallery).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    // As `tar -C layout -cf layout.tar .` makes it, reproducibly.
    run(Command::new("tar")
        .args([
            "--sort=name",
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            "--mtime=@0",
            "-C",
        ])
        .arg(root().join("policies/images"))
        .arg("-cf")
        .arg(dist.join("examples.tar"))
        .arg("."))?;
    run(Command::new("node").current_dir(&dir).arg("build.mjs"))
}

/// `cargo xtask playground [--listen ADDR]`: builds the playground, then
/// serves it with `imgverify playground` (which embeds it).
fn playground(listen: &str) -> Result<(), String> {
    build_playground()?;
    let bin = host_binary(true)?;
    run(Command::new(bin).args(["playground", "--listen", listen]))
}

/// The playground's end-to-end tests in headless Chromium, against
/// `imgverify playground` (the debug binary, built with the site embedded).
fn playground_tests(bin: &Path) -> Result<(), String> {
    setup_browser()?;
    run(Command::new("node")
        .current_dir(root().join("playground"))
        .arg("tests/e2e.mjs")
        .env("IMGVERIFY_BIN", bin)
        .env("CHROMIUM", CHROMIUM))
}

/// `cargo xtask bench [ITERATIONS]`: installs Debian's `wrk` when missing,
/// then runs, in one go, the per-image benchmark (wasmtime vs native vs
/// OpenSSL, memo off and on, module compile and load) and the webhook load
/// benchmark (cold, cold behind a delayed registry, warm with `wrk`).
fn bench(iterations: &str) -> Result<(), String> {
    setup()?;
    if Command::new("wrk").arg("--version").output().is_err() {
        run(Command::new("apt-get").arg("update").arg("-q"))?;
        run(Command::new("apt-get")
            .args(["install", "-y", "-q", "wrk"])
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
    }
    // imgverify-bench, then sigstore-js and sigstore-python on the same
    // bundle, in one run.
    run(Command::new("bash")
        .arg(root().join("host-shim/benches/compare-sigstore/run.sh"))
        .arg(iterations))?;
    run(cargo().current_dir(root()).args([
        "bench",
        "-q",
        "-p",
        "imgverify-host",
        "--bench",
        "loadbench",
    ]))
}

fn wasm_import_count(bytes: &[u8]) -> Result<usize, String> {
    fn leb(b: &[u8], i: &mut usize) -> Result<u64, String> {
        let (mut r, mut s) = (0u64, 0);
        loop {
            let x = *b.get(*i).ok_or("truncated")?;
            *i += 1;
            r |= u64::from(x & 0x7f) << s;
            if x & 0x80 == 0 {
                return Ok(r);
            }
            s += 7;
        }
    }
    if bytes.get(..8) != Some(b"\0asm\x01\0\0\0") {
        return Err("not a wasm module".into());
    }
    let mut i = 8;
    while i < bytes.len() {
        let id = bytes[i];
        i += 1;
        let size = leb(bytes, &mut i)? as usize;
        if id == 2 {
            let mut j = i;
            return Ok(leb(bytes, &mut j)? as usize);
        }
        i += size;
    }
    Ok(0)
}

fn wasm() -> Result<(), String> {
    wasm_artifacts(None)
}

/// Builds the artifacts of `wasm-pack.toml` (only the one named `only` when given).
fn wasm_artifacts(only: Option<&str>) -> Result<(), String> {
    let text = std::fs::read_to_string(root().join("wasm-pack.toml")).map_err(|e| e.to_string())?;
    let spec: WasmPack = toml::from_str(&text).map_err(|e| e.to_string())?;
    for a in spec
        .artifact
        .iter()
        .filter(|a| only.is_none_or(|o| o == a.name))
    {
        let mut c = cargo();
        c.args([
            "build",
            "--profile",
            "wasm-release",
            "--lib",
            "-p",
            "imgverify",
            "--target",
            &a.target,
        ]);
        if a.no_default_features {
            c.arg("--no-default-features");
        }
        if !a.features.is_empty() {
            c.args(["--features", &a.features.join(",")]);
        }
        // Artifacts with the same flags share a target dir; the C-ABI one is the
        // same build the host's build.rs embeds (target/wasm-module).
        let target_dir = if a.no_default_features && a.features.is_empty() {
            root().join("target").join("wasm-module")
        } else {
            root()
                .join("target")
                .join(format!("wasm-{}", a.features.join("-")))
        };
        c.arg("--target-dir").arg(&target_dir);
        if !a.target_features.is_empty() {
            c.env(
                "CARGO_ENCODED_RUSTFLAGS",
                format!("-Ctarget-feature={}", a.target_features.join(",")),
            );
        }
        run(&mut c)?;
        let release = target_dir.join(&a.target).join("wasm-release");
        // The function names demangled (as host-shim/build.rs does for the
        // module it embeds), in a folder of their own: wasm-bindgen names
        // its output after the input file.
        let bytes = std::fs::read(release.join("imgverify.wasm")).map_err(|e| e.to_string())?;
        let bytes = wasm_names::demangle_function_names(&bytes)?;
        let named_dir = release.join("named");
        std::fs::create_dir_all(&named_dir).map_err(|e| e.to_string())?;
        let built = named_dir.join("imgverify.wasm");
        std::fs::write(&built, &bytes).map_err(|e| e.to_string())?;
        let out = root().join(&a.out_dir);
        std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
        // What ships has no `name` section (a fifth of the module): names
        // serve backtraces and profiles, which use the `named/` copy and the
        // module the host embeds.
        match &a.wasm_bindgen {
            Some(t) => run(Command::new("wasm-bindgen")
                .args(["--target", t, "--remove-name-section", "--out-dir"])
                .arg(&out)
                .arg(&built))?,
            None => {
                let shipped = wasm_names::without_name_section(&bytes)?;
                std::fs::write(out.join("imgverify.wasm"), &shipped).map_err(|e| e.to_string())?;
            }
        }
        if a.zero_imports {
            let n = wasm_import_count(&bytes)?;
            if n != 0 {
                return Err(format!(
                    "artifact {} must have zero imports, has {n}",
                    a.name
                ));
            }
            eprintln!(
                "artifact {}: {} bytes with names, 0 imports",
                a.name,
                bytes.len()
            );
        }
    }
    Ok(())
}

/// Builds the `imgverify` binary: release for the demo, the test profile's
/// debug build in CI (already built by `cargo test`; the engine module it
/// embeds is optimised either way).
fn host_binary(release: bool) -> Result<PathBuf, String> {
    if release {
        run(cargo().args(["build", "--release", "-p", "imgverify-host", "--quiet"]))?;
        Ok(root().join("target/release/imgverify"))
    } else {
        run(cargo().args(["build", "-p", "imgverify-host", "--quiet"]))?;
        Ok(root().join("target/debug/imgverify"))
    }
}

fn scenarios() -> Result<Vec<PathBuf>, String> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("policies"))
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("policy.yaml").exists())
        .collect();
    v.sort();
    Ok(v)
}

fn demo() -> Result<(), String> {
    let bin = host_binary(true)?;
    for s in scenarios()? {
        let name = s
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        println!("\n=== {name} ===");
        if let Ok(about) = std::fs::read_to_string(s.join("ABOUT")) {
            println!("{}", about.trim());
        }
        let mut apply = Command::new(&bin);
        apply
            .current_dir(root())
            .arg("apply")
            .arg(s.join("policy.yaml"))
            .arg("--resource")
            .arg(s.join("resources.yaml"))
            .args(["--oci-layout", "policies/images", "--format", "table"]);
        // A scenario's namespace labels beyond its Namespace documents.
        if s.join("values.yaml").exists() {
            apply.arg("--values-file").arg(s.join("values.yaml"));
        }
        let status = apply.status().map_err(|e| e.to_string())?;
        if status.code() == Some(2) {
            return Err(format!(
                "{name}: imgverify apply reported a usage or policy error"
            ));
        }
    }
    println!("\n=== bundles ===");
    println!("A keyless Sigstore bundle (public-good Fulcio, Rekor) verified offline.");
    let status = Command::new(&bin)
        .current_dir(root())
        .args([
            "verify-bundle",
            "--bundle",
            "policies/bundles/a.txt.sigstore.json",
            "--certificate-identity",
            "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
            "--certificate-oidc-issuer",
            "https://token.actions.githubusercontent.com",
            "policies/bundles/a.txt",
        ])
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("imgverify verify-bundle did not verify the example bundle".into());
    }
    println!("verified policies/bundles/a.txt");
    Ok(())
}

fn ci() -> Result<(), String> {
    setup()?;
    run(cargo().args(["fmt", "--all", "--check"]))?;
    wasm()?;
    // Before the host is first built, so that clippy, the tests and the
    // binary all embed the same playground.
    build_playground()?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    run(cargo().args([
        "clippy",
        "-p",
        "imgverify",
        "--lib",
        "--target",
        "wasm32-unknown-unknown",
        "--features",
        "js",
        "--",
        "-D",
        "warnings",
    ]))?;
    run(cargo().args(["test", "--workspace"]))?;
    run(cargo()
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            "wasm-bindgen-test-runner",
        )
        .args([
            "test",
            "-p",
            "imgverify",
            "--target",
            "wasm32-unknown-unknown",
            "--features",
            "js",
            "--test",
            "js_api",
        ]))?;
    // The binary `cargo test --workspace` just built for the host's
    // integration tests: `cargo build -p imgverify-host` would unify other
    // features and build wasmtime a second time (about 8 minutes on 2 cores).
    let bin = root().join("target/debug/imgverify");
    if !bin.is_file() {
        return Err(format!("{} was not built by cargo test", bin.display()));
    }
    run(Command::new(&bin).current_dir(root()).args([
        "test",
        "policies",
        "--oci-layout",
        "policies/images",
    ]))?;
    playground_tests(&bin)?;
    // Every fuzz target briefly; `cargo xtask fuzz` runs them longer.
    fuzz(CI_FUZZ_SECONDS, false, &[])?;
    Ok(())
}

/// Seconds each fuzz target runs in CI.
const CI_FUZZ_SECONDS: u64 = 15;

/// The fuzz targets, from `fuzz/Cargo.toml`.
fn fuzz_targets() -> Result<Vec<String>, String> {
    #[derive(Deserialize)]
    struct Manifest {
        bin: Vec<Bin>,
    }
    #[derive(Deserialize)]
    struct Bin {
        name: String,
    }
    let text =
        std::fs::read_to_string(root().join("fuzz/Cargo.toml")).map_err(|e| e.to_string())?;
    let m: Manifest = toml::from_str(&text).map_err(|e| e.to_string())?;
    Ok(m.bin.into_iter().map(|b| b.name).collect())
}

/// cargo-fuzz, at the version the fuzz targets are written for.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

fn ensure_cargo_fuzz() -> Result<(), String> {
    let have = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .unwrap_or_default();
    if !have.contains(CARGO_FUZZ_VERSION) {
        run(cargo().args([
            "install",
            "cargo-fuzz",
            "--locked",
            "--version",
            CARGO_FUZZ_VERSION,
        ]))?;
    }
    Ok(())
}

/// Runs every fuzz target (or the named ones) for `seconds` each. New inputs
/// go to `target/fuzz-corpus/<target>`; with `update_corpus` the committed
/// corpus in `fuzz/corpus/<target>` is re-minimised to include them. Any
/// crash, hang (10 s per input) or allocation over 2 GiB fails the run.
fn fuzz(seconds: u64, update_corpus: bool, only: &[String]) -> Result<(), String> {
    ensure_cargo_fuzz()?;
    let fuzz_dir = root().join("fuzz");
    let nightly = |args: &[&str]| {
        let mut c = Command::new("cargo");
        c.current_dir(&fuzz_dir).arg("+nightly").args(args);
        // The workspace's wasm/host settings do not apply to the fuzz crate.
        c.env_remove("CARGO_TARGET_DIR");
        c
    };
    run(&mut nightly(&["fuzz", "build"]))?;
    let targets: Vec<String> = fuzz_targets()?
        .into_iter()
        .filter(|t| only.is_empty() || only.contains(t))
        .collect();
    for t in &targets {
        let seeds = fuzz_dir.join("corpus").join(t);
        let grown = root().join("target/fuzz-corpus").join(t);
        std::fs::create_dir_all(&seeds).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(&grown).map_err(|e| e.to_string())?;
        let (g, s) = (grown.display().to_string(), seeds.display().to_string());
        let max_time = format!("-max_total_time={seconds}");
        run(&mut nightly(&[
            "fuzz",
            "run",
            t,
            &g,
            &s,
            "--",
            &max_time,
            "-timeout=10",
            "-rss_limit_mb=2048",
            "-malloc_limit_mb=2048",
            "-print_final_stats=1",
        ]))?;
        if update_corpus {
            // Fold the new inputs into the committed corpus, then minimise it.
            for e in std::fs::read_dir(&grown).map_err(|e| e.to_string())? {
                let p = e.map_err(|e| e.to_string())?.path();
                if let Some(name) = p.file_name() {
                    let _ = std::fs::copy(&p, seeds.join(name));
                }
            }
            run(&mut nightly(&["fuzz", "cmin", t, &s]))?;
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    let result = match task.as_str() {
        "setup" => setup(),
        "wasm" => setup().and_then(|()| wasm()),
        "fixtures" => fixtures::generate(&root()).map_err(|e| e.to_string()),
        "demo" => setup().and_then(|()| demo()),
        "fuzz" => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            let mut seconds = 300;
            let mut update = false;
            let mut only = Vec::new();
            let mut it = args.iter();
            let mut bad = None;
            while let Some(a) = it.next() {
                match a.as_str() {
                    "--seconds" => match it.next().and_then(|s| s.parse().ok()) {
                        Some(n) => seconds = n,
                        None => bad = Some("--seconds takes a number".to_string()),
                    },
                    "--update-corpus" => update = true,
                    t => only.push(t.to_string()),
                }
            }
            match bad {
                Some(e) => Err(e),
                None => fuzz(seconds, update, &only),
            }
        }
        "ci" => ci(),
        "playground" => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            match args.as_slice() {
                [] => setup().and_then(|()| playground("127.0.0.1:8080")),
                [flag, addr] if flag == "--listen" => setup().and_then(|()| playground(addr)),
                [flag] if flag == "--build" => setup().and_then(|()| build_playground()),
                [flag] if flag == "--test" => setup()
                    .and_then(|()| build_playground())
                    .and_then(|()| host_binary(false))
                    .and_then(|bin| playground_tests(&bin)),
                _ => Err("usage: cargo xtask playground [--listen ADDR | --build | --test]".into()),
            }
        }
        "bench" => bench(&std::env::args().nth(2).unwrap_or_else(|| "200".into())),
        _ => Err("usage: cargo xtask <setup|wasm|fixtures|demo|playground|fuzz|ci|bench>".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask {task}: {e}");
            ExitCode::FAILURE
        }
    }
}
