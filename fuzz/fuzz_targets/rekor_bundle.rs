//! Rekor bundle annotations (SET, canonical entry, body binding).
#![no_main]
use arbitrary::Arbitrary;
use imgverify::sigstore::rekor::{ExpectedEntry, verify_bundle};
use imgverify::sigstore::trusted_root::TrustedRoot;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    bundle: &'a str,
    payload: &'a [u8],
    signature: &'a [u8],
}

fuzz_target!(|i: Input| {
    let root = TrustedRoot::public_good().expect("root");
    let expected = ExpectedEntry {
        payload: i.payload,
        signature: i.signature,
        key: None,
    };
    // No fuzzed SET is signed by the public-good log.
    assert!(verify_bundle(i.bundle, &root.tlogs, &expected).is_err());
});
