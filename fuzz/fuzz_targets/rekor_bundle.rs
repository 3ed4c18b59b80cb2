//! Rekor bundle annotations (SET, canonical entry, body binding).
#![no_main]
use arbitrary::Arbitrary;
use imgverify::sigstore::rekor::{ExpectedEntry, Signer, verify_bundle};

/// Any P-256 key: the SET never verifies, so the body is never compared.
const KEY: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2G2Y+2tabdTV5BcGiBIx0a9fAFwr\nkBbmLSGtks4L3qX6yYY0zufBnhC8Ur/iy55GhWP/9A/bY2LhC30M9+RYtw==\n-----END PUBLIC KEY-----\n";
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
    let key = imgverify::crypto::PublicKey::from_pem(KEY).expect("key");
    let expected = ExpectedEntry {
        payload: i.payload,
        // An empty signature stands for an attestation entry (no detached
        // signature: the body binds the whole envelope).
        signature: (!i.signature.is_empty()).then_some(i.signature),
        signer: Signer::Key(&key),
    };
    // No fuzzed SET is signed by the public-good log.
    assert!(verify_bundle(i.bundle, &root.tlogs, &expected).is_err());
});
