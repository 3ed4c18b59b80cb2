//! OCI manifests and indexes: the few fields the engine reads, parsed with
//! size bounds.

use crate::digest::{Digest, DigestError};
use crate::limits;
use serde::Deserialize;
use std::collections::BTreeMap;

/// OCI image manifest media type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index media type.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker schema 2 manifest media type.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list media type.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// A content descriptor.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type.
    #[serde(default)]
    pub media_type: String,
    /// Digest string (validated on use).
    pub digest: String,
    /// Size in bytes.
    #[serde(default)]
    pub size: i64,
    /// Annotations.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Artifact type (OCI 1.1).
    #[serde(default)]
    pub artifact_type: Option<String>,
}

impl Descriptor {
    /// The validated digest.
    pub fn parsed_digest(&self) -> Result<Digest, DigestError> {
        Digest::parse(&self.digest)
    }
}

/// A manifest or index (the union of the fields read).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Must be 2.
    #[serde(default)]
    pub schema_version: i64,
    /// Media type, when present.
    #[serde(default)]
    pub media_type: Option<String>,
    /// Config descriptor (image manifests).
    #[serde(default)]
    pub config: Option<Descriptor>,
    /// Layers (image manifests).
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// Child manifests (indexes).
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    /// OCI 1.1 subject.
    #[serde(default)]
    pub subject: Option<Descriptor>,
    /// OCI 1.1 artifact type.
    #[serde(default)]
    pub artifact_type: Option<String>,
    /// Annotations.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// Why a manifest was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// Over [`limits::MAX_MANIFEST_BYTES`].
    #[error("manifest is {0} bytes, over the limit of {max}", max = limits::MAX_MANIFEST_BYTES)]
    TooLarge(usize),
    /// Not JSON of the expected shape.
    #[error("invalid manifest: {0}")]
    Invalid(String),
    /// Schema 1 or unknown schema.
    #[error("unsupported manifest schemaVersion {0}")]
    Schema(i64),
    /// Too many layers.
    #[error("manifest has {0} layers, over the limit of {max}", max = limits::MAX_SIGNATURE_LAYERS)]
    TooManyLayers(usize),
}

impl Manifest {
    /// Parses manifest bytes with the size and schema checks.
    pub fn parse(bytes: &[u8]) -> Result<Self, ManifestError> {
        if bytes.len() > limits::MAX_MANIFEST_BYTES {
            return Err(ManifestError::TooLarge(bytes.len()));
        }
        let m: Manifest =
            serde_json::from_slice(bytes).map_err(|e| ManifestError::Invalid(e.to_string()))?;
        if m.schema_version != 2 {
            return Err(ManifestError::Schema(m.schema_version));
        }
        Ok(m)
    }

    /// Whether this is an index / manifest list.
    pub fn is_index(&self) -> bool {
        matches!(
            self.media_type.as_deref(),
            Some(OCI_INDEX | DOCKER_MANIFEST_LIST)
        ) || (self.media_type.is_none() && !self.manifests.is_empty())
    }
}

/// Annotations written `null` (as Go's JSON writes a nil map) are none.
fn null_as_empty<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(Option::<BTreeMap<String, String>>::deserialize(d)?.unwrap_or_default())
}
