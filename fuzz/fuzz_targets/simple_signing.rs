//! cosign simple-signing payloads and signature layers (payload, annotations,
//! signature encodings) against a fixed key, with and without a Rekor bundle.
#![no_main]
use arbitrary::Arbitrary;
use imgverify::crypto::{HashAlgorithm, PublicKey};
use imgverify::digest::Digest;
use imgverify::sigstore::cosign::{KeyCheck, verify_layer};
use imgverify::sigstore::trusted_root::TrustedRoot;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

const KEY: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEOwGDdP5LqMp1seJ7jDeIcRTR8W8c\niT6zGQCXvyVc5AF9D6/S9BMmqzZbEkKmkbF27nhvCw61Bu0LHyLwdHO+Qw==\n-----END PUBLIC KEY-----";

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    payload: &'a [u8],
    signature: Option<&'a str>,
    bundle: Option<&'a str>,
    tlog: bool,
}

fuzz_target!(|i: Input| {
    let _ = imgverify::sigstore::simple_signing::SimpleSigning::parse(i.payload);
    let key = PublicKey::from_pem(KEY).expect("key");
    let root = TrustedRoot::public_good().expect("root");
    let mut annotations = BTreeMap::new();
    if let Some(s) = i.signature {
        annotations.insert(
            "dev.cosignproject.cosign/signature".to_string(),
            s.to_string(),
        );
    }
    if let Some(b) = i.bundle {
        annotations.insert("dev.sigstore.cosign/bundle".to_string(), b.to_string());
    }
    let check = KeyCheck {
        key: &key,
        hash: HashAlgorithm::Sha256,
        tlog_keys: i.tlog.then_some(root.tlogs.as_slice()),
    };
    let digest = Digest::sha256_of(i.payload);
    // Nothing the fuzzer writes is signed by this key.
    assert!(verify_layer(i.payload, &annotations, &digest, &check).is_err());
});
