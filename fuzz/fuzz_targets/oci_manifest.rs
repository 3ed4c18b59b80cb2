//! OCI manifests and indexes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|b: &[u8]| {
    if let Ok(m) = imgverify::oci::Manifest::parse(b) {
        let _ = m.is_index();
        for l in m.layers.iter().chain(&m.manifests) {
            let _ = l.parsed_digest();
        }
    }
});
