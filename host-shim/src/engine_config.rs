//! The wasmtime configuration the engine module runs under, shared by the
//! runner and by `build.rs`, which precompiles the module with it: a
//! precompiled module only loads into an engine configured the same way
//! (wasmtime checks this in `Module::deserialize`).

/// Fuel metering and epoch interruption: both change the generated code.
pub fn wasmtime_config() -> wasmtime::Config {
    let mut config = wasmtime::Config::new();
    config.consume_fuel(true);
    config.epoch_interruption(true);
    config
}
