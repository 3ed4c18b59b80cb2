//! Builds the engine as a zero-import wasm32 module and embeds it.
//!
//! Runs a nested `cargo build` of the `imgverify` crate for
//! `wasm32-unknown-unknown` (no `js` feature) into `target/wasm-module`, so
//! the `imgverify` binary is self-contained, and precompiles it for this
//! machine with the runner's wasmtime configuration (`imgverify.cwasm`). Set
//! `IMGVERIFY_WASM_MODULE` to a prebuilt module to skip the nested build.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "src/engine_config.rs"]
mod engine_config;
#[path = "src/wasm_names.rs"]
mod wasm_names;

/// Rewrites the module at `wasm` with its function names demangled
/// (`wasm_names`): the same names for wasmtime, a quarter fewer bytes.
fn demangle_names(wasm: &Path) {
    let bytes = std::fs::read(wasm).unwrap_or_else(|e| panic!("read {}: {e}", wasm.display()));
    let named = wasm_names::demangle_function_names(&bytes)
        .unwrap_or_else(|e| panic!("{}: {e}", wasm.display()));
    std::fs::write(wasm, named).unwrap_or_else(|e| panic!("write {}: {e}", wasm.display()));
}

/// Compiles the module for this machine with the runner's configuration
/// (`imgverify.cwasm`), so no run of the binary pays Cranelift. An empty
/// file when that fails: the runner then compiles at start, as before.
fn precompile(wasm: &Path, out: &Path) {
    let dest = out.join("imgverify.cwasm");
    let compiled = std::fs::read(wasm)
        .map_err(|e| e.to_string())
        .and_then(|bytes| {
            let engine = wasmtime::Engine::new(&engine_config::wasmtime_config())
                .map_err(|e| e.to_string())?;
            engine.precompile_module(&bytes).map_err(|e| e.to_string())
        });
    let bytes = compiled.unwrap_or_else(|e| {
        println!("cargo:warning=precompiling the engine module failed ({e}); it will be compiled at run time");
        Vec::new()
    });
    std::fs::write(&dest, bytes).unwrap_or_else(|e| panic!("write {}: {e}", dest.display()));
}

/// Installs the wasm32 target with rustup when it is missing, so that a plain
/// `cargo build` works on a fresh machine.
fn ensure_wasm_target() {
    let Ok(out) = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
    else {
        return; // no rustup: the nested build says what is missing
    };
    if String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return;
    }
    println!("cargo:warning=installing the wasm32-unknown-unknown target with rustup");
    let _ = Command::new("rustup")
        .args(["target", "add", "wasm32-unknown-unknown"])
        .status();
}

/// Embeds the built playground (`playground/dist`, made by `cargo xtask
/// playground --build`) as `playground_files.rs`: `(name, bytes, gzipped
/// bytes)`, none when it has not been built.
fn embed_playground(root: &Path, out: &Path) {
    use std::io::Write as _;
    let dist = root.join("playground").join("dist");
    let mut files = Vec::new();
    if dist.join("index.html").is_file() {
        println!("cargo:rerun-if-changed={}", dist.display());
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&dist)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        entries.sort();
        let gz_dir = out.join("playground-gz");
        std::fs::create_dir_all(&gz_dir).expect("create playground-gz");
        for path in entries.into_iter().filter(|p| p.is_file()) {
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            gz.write_all(&bytes).expect("gzip");
            let gz_path = gz_dir.join(format!("{name}.gz"));
            std::fs::write(&gz_path, gz.finish().expect("gzip")).expect("write gzip");
            files.push(format!(
                "    ({name:?}, include_bytes!({:?}), include_bytes!({:?})),",
                path.display().to_string(),
                gz_path.display().to_string()
            ));
        }
    } else {
        // Not built: watch the folder it will appear in.
        println!(
            "cargo:rerun-if-changed={}",
            root.join("playground").display()
        );
    }
    let code = format!(
        "/// The playground's files: name, bytes, gzipped bytes.\npub static FILES: &[(&str, &[u8], &[u8])] = &[\n{}\n];\n",
        files.join("\n")
    );
    std::fs::write(out.join("playground_files.rs"), code).expect("write playground_files.rs");
}

fn main() {
    println!("cargo:rerun-if-env-changed=IMGVERIFY_WASM_MODULE");
    {
        let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
        let manifest_dir =
            PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
        embed_playground(manifest_dir.parent().expect("workspace root"), &out);
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let dest = out.join("imgverify.wasm");
    if let Ok(prebuilt) = std::env::var("IMGVERIFY_WASM_MODULE") {
        std::fs::copy(&prebuilt, &dest).unwrap_or_else(|e| panic!("copy {prebuilt}: {e}"));
        demangle_names(&dest);
        precompile(&dest, &out);
        return;
    }
    let manifest_dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let root = manifest_dir.parent().expect("workspace root").to_path_buf();
    for p in ["src", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(p).display());
    }
    ensure_wasm_target();
    let target_dir = root.join("target").join("wasm-module");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args([
            "build",
            "--profile",
            "wasm-release",
            "--lib",
            "-p",
            "imgverify",
            "--target",
            "wasm32-unknown-unknown",
            "--no-default-features",
        ])
        .arg("--target-dir")
        .arg(&target_dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("CARGO_") && k != "CARGO_HOME"
            || k == "RUSTFLAGS"
            || k == "RUSTC_WRAPPER"
            || k == "RUSTC_WORKSPACE_WRAPPER"
        {
            cmd.env_remove(k);
        }
    }
    cmd.env("CARGO_ENCODED_RUSTFLAGS", engine_config::MODULE_RUSTFLAGS);
    let status = cmd.status().expect("run cargo for the wasm module");
    if !status.success() {
        panic!(
            "building the wasm32 engine module failed; is the target installed? run `rustup target add wasm32-unknown-unknown` (cargo xtask setup does it)"
        );
    }
    let built = target_dir
        .join("wasm32-unknown-unknown")
        .join("wasm-release")
        .join("imgverify.wasm");
    std::fs::copy(&built, &dest).unwrap_or_else(|e| panic!("copy {}: {e}", built.display()));
    demangle_names(&dest);
    precompile(&dest, &out);
}
