//! Signature manifests made by the testkit, in both forms, read back with
//! imgverify's OCI manifest parser.

mod common;

use common::{SIGNED_AT, target};
use imgverify::oci::Manifest;
use imgverify_testkit::manifest::{ARTIFACT_TYPE, EMPTY_CONFIG, THUMBPRINT_ANNOTATION};
use imgverify_testkit::{
    Format, HashAlg, KeyKind, Pki, SignRequest, hex, sha256_digest, sign_cose, sign_jws,
    signature_manifest,
};

const EMPTY_DIGEST: &str =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

#[test]
fn both_forms_carry_the_envelope_for_the_subject() {
    let pki = Pki::code_signing(KeyKind::P256, "manifest");
    let req = SignRequest::new(target(), SIGNED_AT);
    let thumbprints: Vec<String> = pki
        .chain()
        .iter()
        .map(|c| hex(&HashAlg::Sha256.digest(c)))
        .collect();
    assert_eq!(sha256_digest(EMPTY_CONFIG), EMPTY_DIGEST);
    for (format, envelope) in [
        (Format::Jws, sign_jws(&req, &pki.leaf_key, &pki.chain())),
        (Format::Cose, sign_cose(&req, &pki.leaf_key, &pki.chain())),
    ] {
        for legacy in [false, true] {
            let (bytes, blob) = signature_manifest(&envelope, format, &target(), legacy);
            assert_eq!(blob, envelope);
            let m = Manifest::parse(&bytes).expect("an OCI manifest");
            assert_eq!(
                m.media_type.as_deref(),
                Some("application/vnd.oci.image.manifest.v1+json")
            );
            let config = m.config.as_ref().unwrap();
            assert_eq!((config.digest.as_str(), config.size), (EMPTY_DIGEST, 2));
            if legacy {
                assert_eq!(m.artifact_type, None);
                assert_eq!(config.media_type, ARTIFACT_TYPE);
            } else {
                assert_eq!(m.artifact_type.as_deref(), Some(ARTIFACT_TYPE));
                assert_eq!(config.media_type, "application/vnd.oci.empty.v1+json");
            }
            let [layer] = m.layers.as_slice() else {
                panic!("one layer")
            };
            assert_eq!(layer.media_type, format.media_type());
            assert_eq!(layer.digest, sha256_digest(&envelope));
            assert_eq!(layer.size, envelope.len() as i64);
            let subject = m.subject.as_ref().unwrap();
            assert_eq!(subject.digest, target().digest);
            assert_eq!(subject.size, target().size as i64);
            let listed: Vec<String> =
                serde_json::from_str(&m.annotations[THUMBPRINT_ANNOTATION]).unwrap();
            assert_eq!(listed, thumbprints);
            assert_eq!(
                m.annotations["org.opencontainers.image.created"],
                "2025-06-01T00:00:00Z"
            );
            // The empty config is inlined in the OCI 1.1 form only.
            let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(json["config"].get("data").is_some(), !legacy);
        }
    }
}

#[test]
fn manifest_json_is_laid_out_as_oras_writes_it() {
    let pki = Pki::code_signing(KeyKind::P256, "manifest");
    let envelope = sign_jws(
        &SignRequest::new(target(), SIGNED_AT),
        &pki.leaf_key,
        &pki.chain(),
    );
    let (bytes, _) = signature_manifest(&envelope, Format::Jws, &target(), false);
    let text = String::from_utf8(bytes).unwrap();
    let expected_start = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.cncf.notary.signature","config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{EMPTY_DIGEST}","size":2,"data":"e30="}},"layers":[{{"mediaType":"application/jose+json","digest":"{}","size":{}}}],"subject":{{"mediaType":"{}","digest":"{}","size":{}}},"annotations":{{"io.cncf.notary.x509chain.thumbprint#S256":"[\""#,
        sha256_digest(&envelope),
        envelope.len(),
        target().media_type,
        target().digest,
        target().size,
    );
    assert!(text.starts_with(&expected_start), "{text}");
}
