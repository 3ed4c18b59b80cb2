//! Notary signature envelopes (JWS and COSE_Sign1) and RFC 3161 tokens as a
//! hostile registry might serve them: decoding and full verification never
//! panic, and only the trusted signer's signatures verify.
#![no_main]
use imgverify::crypto::x509::Certificate;
use imgverify::notary::EnvelopeFormat;
use imgverify::notary::trust::{StoreType, TrustPolicy, TrustStores};
use imgverify::notary::verify::{Target, verify_envelope};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

/// notation-go's self-signed `CN=alpine` certificate, in a `ca` store, and
/// a `tsa` store with the GlobalSign root its timestamp vectors chain to.
static TRUST: LazyLock<(TrustPolicy, TrustStores)> = LazyLock::new(|| {
    let pem = include_str!("../../../shared/vectors/notation-go/derived/alpine-selfsigned-2000-2123.pem");
    let tsa = include_bytes!(
        "../../../shared/vectors/notation-go/verifier/testdata/truststore/x509/tsa/test-timestamp/globalsignRoot.cer"
    );
    let mut stores = TrustStores::new();
    stores.add(StoreType::Ca, "s", Certificate::from_pem_chain(pem).expect("pem"));
    stores
        .add_file(StoreType::Tsa, "t", "globalsignRoot.cer", tsa)
        .expect("tsa root");
    let policy = TrustPolicy::from_json(&serde_json::json!({
        "name": "fuzz", "registryScopes": ["*"],
        "signatureVerification": {"level": "strict", "verifyTimestamp": "afterCertExpiry"},
        "trustStores": ["ca:s", "tsa:t"], "trustedIdentities": ["*"]
    }))
    .expect("policy");
    (policy, stores)
});

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let format = if selector & 1 == 0 {
        EnvelopeFormat::Jws
    } else {
        EnvelopeFormat::Cose
    };
    let target = Target {
        media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        digest: "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0".into(),
        size: 481,
    };
    let (policy, stores) = &*TRUST;
    let now = 1_796_083_200 + i64::from(selector >> 1) * 86_400 * 365;
    let _ = verify_envelope(format, bytes, &target, policy, stores, &[], now);
    let _ = imgverify::notary::timestamp::verify(
        bytes,
        b"signature",
        imgverify::crypto::HashAlgorithm::Sha256,
        &[],
    );
});
