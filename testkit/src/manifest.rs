//! The OCI image manifest that stores a signature envelope in a registry
//! (Notary signature specification, "Storage"), as notation-go pushes it
//! with oras.
//!
//! OCI 1.1 form: `artifactType: application/vnd.cncf.notary.signature` and
//! the empty config `{}` (`application/vnd.oci.empty.v1+json`, inlined as
//! `data: "e30="`). Legacy form (OCI 1.0 registries): no artifactType and
//! `config.mediaType: application/vnd.cncf.notary.signature`, the same `{}`
//! blob. Either way one layer (the envelope), the signed manifest as
//! `subject`, and the annotations `io.cncf.notary.x509chain.thumbprint#S256`
//! (a JSON array, as a string, of the chain's SHA-256 fingerprints in
//! lowercase hex, as notation-go writes them) and
//! `org.opencontainers.image.created` (the signing time).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::envelope::{Descriptor, Format, inspect};
use crate::json::marshal;

/// The signature artifact type (and the legacy config media type).
pub const ARTIFACT_TYPE: &str = "application/vnd.cncf.notary.signature";
/// The OCI image manifest media type.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// The OCI empty descriptor's media type.
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// The config blob of both forms: `{}`.
pub const EMPTY_CONFIG: &[u8] = b"{}";
/// The thumbprint annotation.
pub const THUMBPRINT_ANNOTATION: &str = "io.cncf.notary.x509chain.thumbprint#S256";

/// An OCI descriptor in the Go struct's field order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Desc {
    media_type: String,
    digest: String,
    size: u64,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact_type: Option<String>,
}

impl Desc {
    fn of(media_type: &str, content: &[u8]) -> Desc {
        Desc {
            media_type: media_type.into(),
            digest: crate::sha256_digest(content),
            size: content.len() as u64,
            annotations: BTreeMap::new(),
            data: None,
            artifact_type: None,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    schema_version: u32,
    media_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact_type: Option<&'static str>,
    config: Desc,
    layers: Vec<Desc>,
    subject: Desc,
    annotations: BTreeMap<String, String>,
}

/// The signature manifest for `envelope` (of `format`) signing `subject`,
/// in the OCI 1.1 form or, when `legacy`, the OCI 1.0 form. Returns the
/// manifest JSON and the envelope blob its one layer names; the config
/// blob is [`EMPTY_CONFIG`] in both forms.
pub fn signature_manifest(
    envelope: &[u8],
    format: Format,
    subject: &Descriptor,
    legacy: bool,
) -> (Vec<u8>, Vec<u8>) {
    let info = inspect(format, envelope);
    let thumbprints: Vec<String> = info
        .certificates
        .iter()
        .map(|c| crate::hex(&crate::key::HashAlg::Sha256.digest(c)))
        .collect();
    let mut annotations = BTreeMap::from([(
        THUMBPRINT_ANNOTATION.to_string(),
        String::from_utf8(marshal(&thumbprints)).expect("JSON is UTF-8"),
    )]);
    if let Some(t) = info.signing_time {
        annotations.insert("org.opencontainers.image.created".into(), t);
    }
    let config = if legacy {
        Desc::of(ARTIFACT_TYPE, EMPTY_CONFIG)
    } else {
        Desc {
            data: Some("e30=".into()),
            ..Desc::of(EMPTY_MEDIA_TYPE, EMPTY_CONFIG)
        }
    };
    let manifest = Manifest {
        schema_version: 2,
        media_type: MANIFEST_MEDIA_TYPE,
        artifact_type: (!legacy).then_some(ARTIFACT_TYPE),
        config,
        layers: vec![Desc::of(format.media_type(), envelope)],
        subject: Desc {
            media_type: subject.media_type.clone(),
            digest: subject.digest.clone(),
            size: subject.size,
            annotations: subject.annotations.clone(),
            data: None,
            artifact_type: subject.artifact_type.clone(),
        },
        annotations,
    };
    (marshal(&manifest), envelope.to_vec())
}
