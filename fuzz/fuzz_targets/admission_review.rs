//! AdmissionReview bodies as a webhook receives them.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|b: &[u8]| {
    if let Ok(r) = imgverify::admission::parse(b) {
        assert!(!r.uid.is_empty());
        if matches!(r.operation.as_str(), "CREATE" | "UPDATE") {
            assert!(r.object.as_ref().is_some_and(|o| o.is_object()));
        }
    }
});
