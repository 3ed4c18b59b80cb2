//! PEM blocks and public keys (SPKI DER of every supported type).
#![no_main]
use imgverify::crypto::{PublicKey, pem};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|b: &[u8]| {
    if let Ok(s) = std::str::from_utf8(b) {
        let _ = pem::parse_blocks(s);
        for k in pem::split_public_keys(s) {
            let _ = PublicKey::from_pem(&k);
        }
    }
    if let Ok(k) = PublicKey::from_spki_der(b) {
        let der = k.to_spki_der().expect("a loaded key encodes");
        let again = PublicKey::from_spki_der(&der).expect("its encoding loads");
        assert_eq!(again.type_name(), k.type_name());
        let _ = k.verify_cosign(imgverify::crypto::HashAlgorithm::Sha256, b, b);
    }
});
