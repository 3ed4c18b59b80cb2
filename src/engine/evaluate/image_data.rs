//! `imageRegistry` context entries: an image's manifest (and index) and
//! config, fetched by the host by digest (or a tag, then by its digest),
//! hashed and parsed here, in the shape Kyverno gives them (`image`,
//! `resolvedImage`, `registry`, `repository`, `identifier`, `manifestList`,
//! `manifest`, `configData`).

use crate::engine::store::{Access, FailureStatus, Fetch, FetchKind};
use crate::engine::verify::{Fetcher, Got};
use crate::reference::{ImageInfo, NormalizeOptions};
use serde_json::{Value, json};

/// The outcome of loading one image's data.
pub(super) enum ImageData {
    /// The data.
    Loaded(Value),
    /// Waiting for the host.
    Pending,
    /// `true` for a transport failure (an `error`), with the message.
    Failed(bool, String),
}

fn failed(status: FailureStatus, reference: &str, m: String) -> ImageData {
    ImageData::Failed(
        status == FailureStatus::Error,
        format!("failed to fetch image descriptor: {reference}, error: {m}"),
    )
}

/// Parses bytes fetched by digest (already hashed by the store) as JSON.
fn json_of(bytes: &[u8], what: &str, reference: &str) -> Result<Value, ImageData> {
    serde_json::from_slice(bytes).map_err(|e| {
        ImageData::Failed(
            false,
            format!("failed to decode {what} for image reference: {reference}, error: {e}"),
        )
    })
}

/// The manifest of an index for linux/amd64 (Kyverno's default platform),
/// or the only one.
fn platform_manifest(index: &Value) -> Option<&Value> {
    let manifests = index.get("manifests")?.as_array()?;
    manifests
        .iter()
        .find(|m| {
            m.pointer("/platform/os").and_then(Value::as_str) == Some("linux")
                && m.pointer("/platform/architecture").and_then(Value::as_str) == Some("amd64")
        })
        .or_else(|| (manifests.len() == 1).then(|| &manifests[0]))
}

fn is_index(m: &Value) -> bool {
    let media = m.get("mediaType").and_then(Value::as_str).unwrap_or("");
    media == crate::oci::OCI_INDEX
        || media == crate::oci::DOCKER_MANIFEST_LIST
        || (media.is_empty() && m.get("manifests").is_some())
}

/// Loads Kyverno's image data for `reference`.
pub(super) fn load(
    reference: &str,
    access: &Access,
    normalize: &NormalizeOptions,
    fetcher: &Fetcher,
) -> ImageData {
    let info = match ImageInfo::parse(reference, normalize) {
        Ok(i) => i,
        Err(e) => {
            return ImageData::Failed(
                false,
                format!("failed to parse image reference: {reference}, error: {e}"),
            );
        }
    };
    let (registry, repo) = (info.registry.as_str(), info.path.as_str());
    // The top manifest: by digest, or by tag and then its digest.
    let (top_digest, top_bytes) = match info.parsed_digest() {
        Some(d) => match fetcher
            .get(Fetch::by_digest(FetchKind::Manifest, registry, repo, &d).with_access(access))
        {
            Got::Bytes(b) => (d, b),
            Got::Pending => return ImageData::Pending,
            Got::Failed(s, m) => return failed(s, reference, m),
        },
        None => {
            let f = Fetch::manifest_by_tag(registry, repo, &info.tag).with_access(access);
            let d = match fetcher.tag_digest(f.clone()) {
                Got::Bytes(d) => d,
                Got::Pending => return ImageData::Pending,
                Got::Failed(s, m) => return failed(s, reference, m),
            };
            match fetcher.get(f) {
                Got::Bytes(b) => (d, b),
                Got::Pending => return ImageData::Pending,
                Got::Failed(s, m) => return failed(s, reference, m),
            }
        }
    };
    let top = match json_of(top_bytes, "manifest", reference) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let (manifest_list, manifest) = if is_index(&top) {
        let Some(digest) = platform_manifest(&top)
            .and_then(|m| m.get("digest"))
            .and_then(Value::as_str)
            .and_then(|d| crate::digest::Digest::parse(d).ok())
        else {
            return ImageData::Failed(
                false,
                format!(
                    "failed to resolve image reference: {reference}, error: no linux/amd64 manifest in its index"
                ),
            );
        };
        let m = match fetcher
            .get(Fetch::by_digest(FetchKind::Manifest, registry, repo, &digest).with_access(access))
        {
            Got::Bytes(b) => match json_of(b, "manifest", reference) {
                Ok(v) => v,
                Err(e) => return e,
            },
            Got::Pending => return ImageData::Pending,
            Got::Failed(s, m) => return failed(s, reference, m),
        };
        (top, m)
    } else {
        (Value::Null, top)
    };
    let config_descriptor = manifest.get("config");
    let config_digest = config_descriptor
        .and_then(|c| c.get("digest"))
        .and_then(Value::as_str)
        .and_then(|d| crate::digest::Digest::parse(d).ok());
    let config_size = config_descriptor
        .and_then(|c| c.get("size"))
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| *n <= crate::limits::MAX_MANIFEST_BYTES);
    let (Some(config_digest), Some(config_size)) = (config_digest, config_size) else {
        return ImageData::Failed(
            false,
            format!(
                "failed to fetch config for image reference: {reference}, error: the manifest has no usable config descriptor (at most {} bytes)",
                crate::limits::MAX_MANIFEST_BYTES
            ),
        );
    };
    let config = match fetcher.get(
        Fetch::by_digest(FetchKind::Blob, registry, repo, &config_digest)
            .with_access(access)
            .with_max_bytes(config_size),
    ) {
        Got::Bytes(b) => match json_of(b, "config", reference) {
            Ok(v) => v,
            Err(e) => return e,
        },
        Got::Pending => return ImageData::Pending,
        Got::Failed(s, m) => return failed(s, reference, m),
    };
    // The identifier as written: a tag, a digest, or `tag@digest`.
    let identifier = match (info.digest.is_empty(), reference.contains('@')) {
        (true, _) => info.tag.clone(),
        (false, true)
            if reference
                .split('@')
                .next()
                .is_some_and(|r| r.rsplit_once(':').is_some_and(|(_, t)| !t.contains('/'))) =>
        {
            format!("{}@{}", info.tag, info.digest)
        }
        _ => info.digest.clone(),
    };
    ImageData::Loaded(json!({
        "image": reference,
        "resolvedImage": format!("{}@{top_digest}", info.repository_reference()),
        "registry": info.registry,
        "repository": info.path,
        "identifier": identifier,
        "manifestList": manifest_list,
        "manifest": manifest,
        "configData": config,
    }))
}
