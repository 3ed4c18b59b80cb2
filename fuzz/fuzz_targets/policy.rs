//! Policy documents: loading, validation, compilation and lints.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    if let Ok(engine) = imgverify::Engine::compile("fuzz.yaml", s) {
        let _ = engine.summary();
        let _ = engine.lints();
    }
});
