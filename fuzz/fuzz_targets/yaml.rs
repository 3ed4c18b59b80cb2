//! The YAML/JSON reader: never panics, and what it builds stays within its
//! expansion budget (so a small input never yields a huge value).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    if let Ok(docs) = imgverify::yaml::parse_stream(s) {
        let size: usize = docs.iter().map(|d| d.to_string().len()).sum();
        assert!(
            size <= 16 * s.len() + 1024 * 1024,
            "{size} bytes from {}",
            s.len()
        );
    }
});
