//! Sigstore bundles: parsing, then full verification against the public-good
//! root (transparency-log entries, proofs, checkpoints, RFC 3161 tokens,
//! certificates); and raw RFC 3161 responses. No fuzzed bundle verifies.
#![no_main]
use imgverify::sigstore::bundle::{self, Artifact, Bundle, BundleCheck, Signer};
use imgverify::sigstore::timestamp;
use imgverify::sigstore::trusted_root::TrustedRoot;
use libfuzzer_sys::fuzz_target;

fn root() -> &'static TrustedRoot {
    static ROOT: std::sync::OnceLock<TrustedRoot> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| TrustedRoot::public_good().expect("root"))
}

fuzz_target!(|b: &[u8]| {
    let root = root();
    let _ = timestamp::verify(b, b"signature", &root.timestamp_authorities);
    let Ok(parsed) = Bundle::parse(b) else {
        return;
    };
    let accept_anyone = |_: &imgverify::sigstore::fulcio::Identity| Ok(());
    let check = BundleCheck::strict(
        root,
        Signer::Identity(&accept_anyone),
        Artifact::Bytes(b"fuzz"),
        1_800_000_000,
    );
    assert!(bundle::verify(&parsed, &check).is_err(), "a fuzzed bundle verified");
});
