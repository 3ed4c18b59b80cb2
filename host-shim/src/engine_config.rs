//! The wasmtime configuration the engine module runs under, shared by the
//! runner and by `build.rs`, which precompiles the module with it: a
//! precompiled module only loads into an engine configured the same way
//! (wasmtime checks this in `Module::deserialize`).

/// Fuel metering and epoch interruption: both change the generated code.
pub fn wasmtime_config() -> wasmtime::Config {
    let mut config = wasmtime::Config::new();
    config.consume_fuel(true);
    config.epoch_interruption(true);
    config.wasm_wide_arithmetic(true);
    // A profiling aid: `IMGVERIFY_WASM_PERFMAP=1` writes /tmp/perf-PID.map so
    // `perf report` names the module's functions.
    if std::env::var_os("IMGVERIFY_WASM_PERFMAP").is_some_and(|v| v == "1") {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    config
}

/// Target features the host's module is built with: wide arithmetic
/// (`i64.mul_wide_u`), so 64x64->128-bit multiplications in the
/// cryptography are one instruction instead of a call to `__multi3`.
pub const MODULE_RUSTFLAGS: &str = "-Ctarget-feature=+wide-arithmetic";
