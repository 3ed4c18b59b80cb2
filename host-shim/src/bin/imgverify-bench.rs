//! Benchmark (not a test): keyed verification per image in wasmtime and
//! natively in the same run, module compile and instantiate time, module size.
//!
//! `cargo run --release -p imgverify-host --bin imgverify-bench [ITERATIONS]`

use imgverify_host::inputs;
use imgverify_host::runner::{self, MODULE_BYTES, ModuleRunner};
use imgverify_host::source::OciLayouts;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default();
    let policy = inputs::read_all(
        &[root
            .join("policies/keyed-signature/policy.yaml")
            .display()
            .to_string()],
        &[],
    )
    .expect("policy");
    let mut source = OciLayouts::default();
    source
        .add(root.join("policies/images").to_str().unwrap_or_default())
        .expect("layout");
    let pod = serde_json::json!({"operation": "CREATE", "object": {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bench", "namespace": "default"},
        "spec": {"containers": [{"name": "app", "image": "registry.example.com/demo/signed:v1"}]}}});
    let request = serde_json::to_vec(&pod).unwrap_or_default();

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(MODULE_BYTES).expect("gzip");
    let gz_len = gz.finish().map(|v| v.len()).unwrap_or(0);
    println!(
        "module size: {} bytes raw, {} bytes gzip -9",
        MODULE_BYTES.len(),
        gz_len
    );

    let t = Instant::now();
    let runner = ModuleRunner::new().expect("module");
    println!(
        "module compile (Cranelift): {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );

    let k = 50;
    let t = Instant::now();
    for _ in 0..k {
        let _ = runner.instantiate().expect("instantiate");
    }
    println!(
        "instantiate (fresh store + instance, avg of {k}): {:.1} us",
        t.elapsed().as_secs_f64() * 1e6 / k as f64
    );

    // wasmtime: one instance, policies compiled once, a fresh session per image.
    let mut inst = runner.instantiate().expect("instantiate");
    let sources =
        serde_json::json!({"sources": [{"name": policy[0].name, "text": policy[0].text}]});
    let engine = inst
        .engine_new(&serde_json::to_vec(&sources).unwrap_or_default())
        .expect("engine")
        .engine;
    let check = inst.decide(engine, &request, &source).expect("decide");
    assert!(check.allowed, "bench image must verify");
    let t = Instant::now();
    for _ in 0..n {
        let d = inst.decide(engine, &request, &source).expect("decide");
        assert!(d.allowed);
    }
    let wasm_ms = t.elapsed().as_secs_f64() * 1e3 / n as f64;

    // native: the same engine code as an rlib.
    let native_engine =
        Arc::new(imgverify::Engine::compile(&policy[0].name, &policy[0].text).expect("compile"));
    let t = Instant::now();
    for _ in 0..n {
        let d = runner::decide_native(&native_engine, &request, &source).expect("decide");
        assert!(d.allowed);
    }
    let native_ms = t.elapsed().as_secs_f64() * 1e3 / n as f64;
    println!(
        "keyed verification per image (P-256 signature + Rekor SET, 3 fetch rounds from an OCI layout), avg of {n}:"
    );
    println!("  wasmtime: {wasm_ms:.3} ms");
    println!("  native:   {native_ms:.3} ms");
    println!("  ratio wasm/native: {:.2}x", wasm_ms / native_ms);
}
