//! Helpers shared by the testkit's tests: a target, trust policies and
//! stores for imgverify's verifier.
#![allow(dead_code)]

use base64::Engine as _;
use imgverify::crypto::x509::Certificate;
use imgverify::notary::trust::{StoreType, TrustPolicy, TrustStores};
use imgverify::notary::verify::{Target, Verified, verify_envelope};
use imgverify::notary::{EnvelopeFormat, NotaryError};
use imgverify_testkit::Descriptor;
use serde_json::{Value, json};

/// 2025-06-01T00:00:00Z: when the test signatures are made.
pub const SIGNED_AT: i64 = 1_748_736_000;
/// 2026-12-01T00:00:00Z: when they are verified.
pub const NOW: i64 = 1_796_083_200;

/// The manifest the test signatures sign.
pub const MANIFEST: &[u8] = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;

/// The descriptor of [`MANIFEST`].
pub fn target() -> Descriptor {
    Descriptor::for_content("application/vnd.oci.image.manifest.v1+json", MANIFEST)
}

/// [`target`] as imgverify's verifier takes it.
pub fn imgverify_target() -> Target {
    let t = target();
    Target {
        media_type: t.media_type,
        digest: t.digest,
        size: t.size,
    }
}

/// A trust-policy statement at `level` with `stores` and one identity.
pub fn policy(level: &str, stores: &[&str], identity: &str) -> TrustPolicy {
    TrustPolicy::from_json(&json!({
        "name": "testkit",
        "registryScopes": ["*"],
        "signatureVerification": {"level": level},
        "trustStores": stores,
        "trustedIdentities": [identity],
    }))
    .expect("a valid policy")
}

/// A strict policy trusting `ca:test` and `identity`.
pub fn strict(identity: &str) -> TrustPolicy {
    policy("strict", &["ca:test"], identity)
}

/// The store `kind:test` holding `certs` (DER).
pub fn stores(kind: StoreType, certs: &[&Vec<u8>]) -> TrustStores {
    let mut stores = TrustStores::new();
    stores.add(
        kind,
        "test",
        certs
            .iter()
            .map(|c| Certificate::from_der(c).expect("a certificate"))
            .collect(),
    );
    stores
}

/// Verifies a JWS envelope for [`target`] at [`NOW`] with `ca:test`
/// holding `roots`.
pub fn verify_jws(
    envelope: &[u8],
    roots: &[&Vec<u8>],
    policy: &TrustPolicy,
) -> Result<Verified, NotaryError> {
    verify_envelope(
        EnvelopeFormat::Jws,
        envelope,
        &imgverify_target(),
        policy,
        &stores(StoreType::Ca, roots),
        &[],
        NOW,
    )
}

/// The decoded protected header of a JWS envelope.
pub fn jws_protected(envelope: &[u8]) -> Value {
    let env: Value = serde_json::from_slice(envelope).expect("JSON");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(env["protected"].as_str().expect("protected"))
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("protected JSON")
}
