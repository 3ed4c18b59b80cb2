//! `trusted_root.json` documents.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    let _ = imgverify::sigstore::trusted_root::TrustedRoot::parse(s);
    let _ = imgverify::sigstore::trusted_root::parse_rfc3339(s);
});
