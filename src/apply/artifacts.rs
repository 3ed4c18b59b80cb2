//! An in-memory artifact store answering the engine's fetches: OCI image
//! layouts read from a `.tar` (as `tar -C layout -cf layout.tar .` makes) and
//! `fetch` bundles. The playground loads a user's files into one; the host's
//! directory layouts share its reference rules ([`ref_matches`],
//! [`referrers_tag_key`]) and its messages.
//!
//! Nothing here is trusted: the engine hashes every digest-addressed byte it
//! is given, and the store bounds what it holds.

use super::bundle::Bundle;
use crate::engine::{Answer, FailureStatus, Fetch, FetchKind};
use crate::limits;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read as _;

/// Most bytes a store holds across everything loaded (layouts and bundles).
pub const MAX_STORE_BYTES: usize = 512 * 1024 * 1024;
/// Most entries read from one `.tar` (files, directories and others).
pub const MAX_TAR_ENTRIES: usize = 100_000;

/// The OCI layout annotation naming a manifest.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// Why artifacts could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadArtifactsError {
    /// Not a tar, or a malformed one.
    #[error("{name}: not a readable tar archive: {message}")]
    Tar {
        /// The file.
        name: String,
        /// Why.
        message: String,
    },
    /// A tar without `index.json` at its top.
    #[error("{name}: not an OCI image layout (no index.json at the top of the archive)")]
    NotLayout {
        /// The file.
        name: String,
    },
    /// `index.json` unreadable.
    #[error("{name}: index.json: {message}")]
    Index {
        /// The file.
        name: String,
        /// Why.
        message: String,
    },
    /// A bundle that does not parse.
    #[error("{0}")]
    Bundle(String),
    /// Neither a tar nor bundle JSON.
    #[error("{name}: neither an OCI layout .tar nor an imgverify fetch bundle (JSON)")]
    Unknown {
        /// The file.
        name: String,
    },
    /// Over a bound.
    #[error("{name}: {what} over the limit of {limit}")]
    TooLarge {
        /// The file.
        name: String,
        /// What.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
}

/// What one load added.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Loaded {
    /// `layout` or `bundle`.
    pub format: &'static str,
    /// Blobs (layout) or recorded answers (bundle) added.
    pub entries: usize,
    /// Image references the layout names (full `registry/repository:tag`).
    pub references: Vec<String>,
    /// Things worth telling the user (bare-tag ref names, skipped entries).
    pub warnings: Vec<String>,
}

/// Whether a layout's ref `name` answers the tag reference `key`
/// (`registry/repository:tag`): a full name must equal it; a bare tag
/// answers it only in a layout given a default repository.
pub fn ref_matches(name: &str, default_repo: Option<&str>, key: &str) -> bool {
    if name.contains('/') {
        return name == key;
    }
    split_reference(key).is_some_and(|(repo, tag)| default_repo == Some(repo) && name == tag)
}

/// `repository:tag` split at the tag's colon (a registry port is not one).
pub fn split_reference(key: &str) -> Option<(&str, &str)> {
    let slash = key.rfind('/').unwrap_or(0);
    let colon = key.get(slash..)?.rfind(':')? + slash;
    Some((key.get(..colon)?, key.get(colon + 1..)?))
}

/// Where a layout (which has no referrers API) keeps the referrers of
/// `repository@digest`: the tag schema `repository:sha256-<hex>`.
pub fn referrers_tag_key(key: &str) -> Option<String> {
    let (repo, digest) = key.rsplit_once('@')?;
    Some(format!("{repo}:{}", digest.replacen(':', "-", 1)))
}

/// The answer for a tag no layout names.
pub fn manifest_unknown(key: &str) -> Answer {
    Answer::Failure(FailureStatus::NotFound, format!("{key}: manifest unknown"))
}

/// The answer for a digest no layout holds.
pub fn blob_unknown(key: &str) -> Answer {
    Answer::Failure(FailureStatus::NotFound, format!("{key}: blob unknown"))
}

/// The answer for a referrers key without a digest.
pub fn bad_referrers_key(key: &str) -> Answer {
    Answer::Failure(
        FailureStatus::Invalid,
        format!("bad referrers reference {key}"),
    )
}

/// The answer for a fetch a bundle did not record (never a fetch elsewhere).
pub fn not_in_bundle(f: &Fetch) -> Answer {
    Answer::Failure(
        FailureStatus::Error,
        format!("{} {} is not in the bundle", f.kind.as_str(), f.key),
    )
}

/// The answer of a source that has no Kubernetes API (a layout, a registry):
/// the CLI takes `configMap` and `apiCall` values from a values file instead.
pub fn no_kube_api(f: &Fetch) -> Answer {
    Answer::Failure(
        FailureStatus::NotFound,
        format!(
            "{}: no Kubernetes API here; give the context entry's value in a values file",
            f.key
        ),
    )
}

/// The largest answer a fetch may take.
pub fn fetch_limit(f: &Fetch) -> usize {
    let kind_max = match f.kind {
        FetchKind::Blob => limits::MAX_BLOB_BYTES,
        _ => limits::MAX_MANIFEST_BYTES,
    };
    f.max_bytes.map_or(kind_max, |m| m.min(kind_max))
}

#[derive(Deserialize)]
struct Index {
    #[serde(default)]
    manifests: Vec<IndexEntry>,
}

#[derive(Deserialize)]
struct IndexEntry {
    digest: String,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

/// The `(ref name, digest)` pairs of a layout's `index.json`.
pub fn index_refs(index_json: &[u8]) -> Result<Vec<(String, String)>, String> {
    let index: Index = serde_json::from_slice(index_json).map_err(|e| e.to_string())?;
    Ok(index
        .manifests
        .into_iter()
        .filter_map(|m| m.annotations.get(REF_NAME).cloned().map(|r| (r, m.digest)))
        .collect())
}

/// Most warnings one load reports (the rest are counted).
pub const MAX_WARNINGS: usize = 20;

/// Warnings of one load: bounded in number and in length.
#[derive(Default)]
struct Warnings {
    kept: Vec<String>,
    more: usize,
}

impl Warnings {
    fn push(&mut self, w: String) {
        if self.kept.len() >= MAX_WARNINGS {
            self.more += 1;
            return;
        }
        let mut w = w;
        if w.len() > 300 {
            let mut cut = 300;
            while !w.is_char_boundary(cut) {
                cut -= 1;
            }
            w.truncate(cut);
            w.push('…');
        }
        self.kept.push(w);
    }

    fn finish(mut self) -> Vec<String> {
        if self.more > 0 {
            self.kept.push(format!("… and {} more warnings", self.more));
        }
        self.kept
    }
}

/// Artifacts held in memory.
#[derive(Debug, Clone, Default)]
pub struct ArtifactStore {
    /// Layout blobs by digest (`sha256:<hex>`); a blob is kept only if its
    /// bytes hash to its name.
    blobs: BTreeMap<String, Vec<u8>>,
    /// Layout blobs left out for their size: digest → size.
    oversize: BTreeMap<String, usize>,
    /// `(ref name, digest)` of every layout, in load order (full names only).
    refs: Vec<(String, String)>,
    /// Answers recorded in bundles.
    recorded: BTreeMap<(FetchKind, String), Answer>,
    /// Bytes held.
    bytes: usize,
    /// The most bytes held ([`MAX_STORE_BYTES`] unless set).
    max_bytes: Option<usize>,
}

impl ArtifactStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store holding at most `max_bytes`.
    pub fn with_max_bytes(max_bytes: usize) -> Self {
        ArtifactStore {
            max_bytes: Some(max_bytes),
            ..Self::default()
        }
    }

    /// Whether nothing is loaded.
    pub fn is_empty(&self) -> bool {
        self.blobs.is_empty() && self.recorded.is_empty()
    }

    /// Loads a file: an OCI layout `.tar` or a `fetch` bundle (JSON), told
    /// apart by their content.
    pub fn load(&mut self, name: &str, bytes: &[u8]) -> Result<Loaded, LoadArtifactsError> {
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first == Some(&b'{') {
            let text = std::str::from_utf8(bytes)
                .map_err(|e| LoadArtifactsError::Bundle(format!("{name}: {e}")))?;
            return self.load_bundle(name, text);
        }
        // ustar/GNU headers carry their magic at offset 257.
        if bytes.get(257..262) == Some(b"ustar") {
            return self.load_layout_tar(name, bytes);
        }
        Err(LoadArtifactsError::Unknown {
            name: name.to_string(),
        })
    }

    /// Checks that `n` more bytes (beyond `pending` already counted for the
    /// load in progress) stay within [`MAX_STORE_BYTES`]; nothing is counted
    /// until a load succeeds.
    fn within_bound(
        &self,
        name: &str,
        pending: usize,
        n: usize,
    ) -> Result<usize, LoadArtifactsError> {
        let total = pending.saturating_add(n);
        let limit = self.max_bytes.unwrap_or(MAX_STORE_BYTES);
        if self.bytes.saturating_add(total) > limit {
            return Err(LoadArtifactsError::TooLarge {
                name: name.to_string(),
                what: "artifacts held",
                limit,
            });
        }
        Ok(total)
    }

    /// Loads a `fetch` bundle's text.
    pub fn load_bundle(&mut self, name: &str, text: &str) -> Result<Loaded, LoadArtifactsError> {
        let entries = Bundle::parse(name, text).map_err(LoadArtifactsError::Bundle)?;
        let held: usize = entries
            .values()
            .map(|a| match a {
                Answer::Bytes(b) => b.len(),
                Answer::Failure(_, m) => m.len(),
            })
            .sum();
        self.bytes += self.within_bound(name, 0, held)?;
        // Keys of one kind are unique in the map: no duplicates to drop.
        let references: Vec<String> = entries
            .keys()
            .filter(|(k, key)| *k == FetchKind::ManifestByTag && !key.ends_with(".sig"))
            .map(|(_, key)| key.clone())
            .collect();
        let n = entries.len();
        self.recorded.extend(entries);
        Ok(Loaded {
            format: "bundle",
            entries: n,
            references,
            warnings: Vec::new(),
        })
    }

    /// Loads an OCI image layout from a tar archive. Only regular files
    /// count (links and devices are skipped, as the CLI refuses symlinked
    /// blobs); names may start with `./`; a path leaving the archive's top
    /// (`..`) is skipped.
    pub fn load_layout_tar(
        &mut self,
        name: &str,
        bytes: &[u8],
    ) -> Result<Loaded, LoadArtifactsError> {
        let tar_err = |e: &dyn std::fmt::Display| LoadArtifactsError::Tar {
            name: name.to_string(),
            message: e.to_string(),
        };
        let mut archive = tar::Archive::new(bytes);
        let mut index = None;
        let mut blobs = Vec::new();
        let mut warnings = Warnings::default();
        let mut oversize = Vec::new();
        let mut held = 0usize;
        for (count, entry) in archive.entries().map_err(|e| tar_err(&e))?.enumerate() {
            if count >= MAX_TAR_ENTRIES {
                return Err(LoadArtifactsError::TooLarge {
                    name: name.to_string(),
                    what: "tar entries",
                    limit: MAX_TAR_ENTRIES,
                });
            }
            let mut entry = entry.map_err(|e| tar_err(&e))?;
            let raw_path = entry.path_bytes().into_owned();
            let path = String::from_utf8_lossy(&raw_path).into_owned();
            let parts: Vec<&str> = path
                .split('/')
                .filter(|p| !p.is_empty() && *p != ".")
                .collect();
            let kind = entry.header().entry_type();
            if !kind.is_file() {
                if !kind.is_dir() {
                    warnings.push(format!("{path}: not a regular file; not loaded"));
                }
                continue;
            }
            let wanted = match parts.as_slice() {
                ["index.json"] => true,
                ["blobs", alg, hex] => {
                    !alg.is_empty()
                        && alg.bytes().all(|b| b.is_ascii_alphanumeric())
                        && !hex.is_empty()
                        && hex.bytes().all(|b| b.is_ascii_hexdigit())
                }
                _ => false,
            };
            if !wanted {
                continue;
            }
            let size = usize::try_from(entry.size()).unwrap_or(usize::MAX);
            let limit = if parts.len() == 1 {
                limits::MAX_MANIFEST_BYTES
            } else {
                limits::MAX_BLOB_BYTES
            };
            if size > limit {
                match parts.as_slice() {
                    ["blobs", alg, hex] => oversize.push((format!("{alg}:{hex}"), size)),
                    _ => {
                        return Err(LoadArtifactsError::Index {
                            name: name.to_string(),
                            message: format!("{size} bytes, over the limit of {limit}"),
                        });
                    }
                }
                warnings.push(format!(
                    "{path}: {size} bytes, over the limit of {limit}; not loaded"
                ));
                continue;
            }
            held = self.within_bound(name, held, size)?;
            let mut data = Vec::with_capacity(size);
            (&mut entry)
                .take(limit as u64 + 1)
                .read_to_end(&mut data)
                .map_err(|e| tar_err(&e))?;
            match parts.as_slice() {
                ["blobs", alg, hex] => {
                    let digest = format!("{alg}:{hex}");
                    // Content-addressed: bytes that are not what their name
                    // says are dropped here, so that no later file can put
                    // other bytes behind a tag an earlier one named.
                    let checked = crate::digest::Digest::parse(&digest)
                        .map_err(|e| e.to_string())
                        .and_then(|d| d.verify(&data).map_err(|e| e.to_string()));
                    if let Err(e) = checked {
                        warnings.push(format!("{path}: {e}; not loaded"));
                        continue;
                    }
                    blobs.push((digest, data));
                }
                _ => index = Some(data),
            }
        }
        let index = index.ok_or_else(|| LoadArtifactsError::NotLayout {
            name: name.to_string(),
        })?;
        let refs = index_refs(&index).map_err(|message| LoadArtifactsError::Index {
            name: name.to_string(),
            message,
        })?;
        let mut references = Vec::new();
        for (r, digest) in refs {
            if !r.contains('/') {
                warnings.push(format!(
                    "ref name {r:?} is a bare tag: name images in index.json as registry/repository:tag"
                ));
                continue;
            }
            if !r.contains(".sig") && !r.contains(":sha256-") {
                references.push(r.clone());
            }
            self.refs.push((r, digest));
        }
        let n = blobs.len();
        self.bytes += held;
        for (digest, data) in blobs {
            self.blobs.entry(digest).or_insert(data);
        }
        for (digest, size) in oversize {
            self.oversize.entry(digest).or_insert(size);
        }
        Ok(Loaded {
            format: "layout",
            entries: n,
            references,
            warnings: warnings.finish(),
        })
    }

    fn bytes_within(key: &str, bytes: &[u8], max: usize) -> Answer {
        if bytes.len() > max {
            return Answer::Failure(
                FailureStatus::Invalid,
                format!("{key}: over the limit of {max} bytes"),
            );
        }
        Answer::Bytes(bytes.to_vec())
    }

    /// A layout blob by digest, `None` when no layout holds it.
    fn blob(&self, digest: &str, max: usize) -> Option<Answer> {
        if let Some(b) = self.blobs.get(digest) {
            return Some(Self::bytes_within(digest, b, max));
        }
        self.oversize.get(digest).map(|size| {
            Answer::Failure(
                FailureStatus::Invalid,
                format!("{digest}: {size} bytes, over the limit of {max} bytes"),
            )
        })
    }

    fn by_tag(&self, key: &str, max: usize) -> Answer {
        if split_reference(key).is_none() {
            return Answer::Failure(FailureStatus::Invalid, format!("bad tag reference {key}"));
        }
        match self
            .refs
            .iter()
            .find(|(name, _)| ref_matches(name, None, key))
        {
            Some((_, digest)) => match self.blobs.get(digest) {
                Some(b) => Self::bytes_within(digest, b, max),
                None => Answer::Failure(
                    FailureStatus::Invalid,
                    format!("{key}: blob {digest} missing from the layout"),
                ),
            },
            None => manifest_unknown(key),
        }
    }

    /// Whether answers come from bundles only (as `apply --bundle`): once
    /// any bundle is loaded, a fetch it did not record is an error, never a
    /// layout's answer.
    pub fn bundles_only(&self) -> bool {
        !self.recorded.is_empty()
    }

    /// Answers one fetch: a bundle's recorded answer when bundles are
    /// loaded, else the layouts'.
    pub fn answer(&self, f: &Fetch) -> Answer {
        if self.bundles_only() {
            return match self.recorded.get(&(f.kind, f.key.clone())) {
                Some(a) => a.clone(),
                None => not_in_bundle(f),
            };
        }
        let max = fetch_limit(f);
        match f.kind {
            FetchKind::ManifestByTag => self.by_tag(&f.key, max),
            FetchKind::Manifest | FetchKind::Blob => {
                let digest = f.digest.as_deref().unwrap_or("");
                self.blob(digest, max)
                    .unwrap_or_else(|| blob_unknown(&f.key))
            }
            FetchKind::Referrers => match referrers_tag_key(&f.key) {
                Some(tag_key) => self.by_tag(&tag_key, max),
                None => bad_referrers_key(&f.key),
            },
            FetchKind::KubeApi => no_kube_api(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, data) in files {
            let mut h = tar::Header::new_ustar();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            // Raw names (the builder refuses `..`, a hostile archive does not).
            h.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn fetch(kind: FetchKind, key: &str, digest: Option<&str>) -> Fetch {
        serde_json::from_value(serde_json::json!({
            "kind": kind, "key": key, "registry": "r.example", "repository": "a",
            "digest": digest,
        }))
        .unwrap()
    }

    fn hex(bytes: &[u8]) -> String {
        crate::digest::Digest::sha256_of(bytes).hex().to_string()
    }

    #[test]
    fn a_layout_tar_answers_tags_digests_and_referrers() {
        let (m, i) = (hex(b"manifest"), hex(b"index"));
        let index = format!(
            r#"{{"manifests":[
            {{"digest":"sha256:{m}","annotations":{{"org.opencontainers.image.ref.name":"r.example/a:v1"}}}},
            {{"digest":"sha256:{i}","annotations":{{"org.opencontainers.image.ref.name":"r.example/a:sha256-{m}"}}}},
            {{"digest":"sha256:{m}","annotations":{{"org.opencontainers.image.ref.name":"bare"}}}}]}}"#
        );
        let (mp, ip) = (format!("./blobs/sha256/{m}"), format!("./blobs/sha256/{i}"));
        let liar = format!("./blobs/sha256/{}", hex(b"other"));
        let tar = tar_of(&[
            ("./index.json", index.as_bytes()),
            ("./oci-layout", b"{}"),
            (&mp, b"manifest"),
            (&ip, b"index"),
            ("./blobs/sha256/../../x", b"escape"),
            (&liar, b"not other"),
        ]);
        let mut s = ArtifactStore::new();
        let l = s.load("l.tar", &tar).unwrap();
        assert_eq!(l.format, "layout");
        assert_eq!(l.entries, 2);
        assert_eq!(l.references, ["r.example/a:v1"]);
        assert!(l.warnings[0].contains("not loaded"), "{:?}", l.warnings);
        assert!(l.warnings[1].contains("bare tag"), "{:?}", l.warnings);
        let tag = s.answer(&fetch(FetchKind::ManifestByTag, "r.example/a:v1", None));
        assert_eq!(tag, Answer::Bytes(b"manifest".to_vec()));
        let d = format!("sha256:{i}");
        let by_digest = s.answer(&fetch(
            FetchKind::Blob,
            &format!("r.example/a@{d}"),
            Some(&d),
        ));
        assert_eq!(by_digest, Answer::Bytes(b"index".to_vec()));
        let d = format!("sha256:{m}");
        let referrers = s.answer(&fetch(
            FetchKind::Referrers,
            &format!("r.example/a@{d}"),
            Some(&d),
        ));
        assert_eq!(referrers, Answer::Bytes(b"index".to_vec()));
        // Bytes under another blob's name were never loaded.
        let d = format!("sha256:{}", hex(b"other"));
        assert_eq!(
            s.answer(&fetch(FetchKind::Blob, "r.example/a@x", Some(&d))),
            blob_unknown("r.example/a@x")
        );
        assert_eq!(
            s.answer(&fetch(FetchKind::ManifestByTag, "r.example/a:v2", None)),
            manifest_unknown("r.example/a:v2")
        );
        assert_eq!(
            s.answer(&fetch(FetchKind::ManifestByTag, "bare", None)),
            Answer::Failure(FailureStatus::Invalid, "bad tag reference bare".into())
        );
    }

    #[test]
    fn links_in_a_tar_are_not_blobs() {
        let m = hex(b"m");
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_ustar();
        h.set_size(16);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, "index.json", &br#"{"manifests":[]}"#[..])
            .unwrap();
        let mut l = tar::Header::new_ustar();
        l.set_entry_type(tar::EntryType::Symlink);
        l.set_size(0);
        b.append_link(&mut l, format!("blobs/sha256/{m}"), "/etc/passwd")
            .unwrap();
        let mut s = ArtifactStore::new();
        let loaded = s.load("links.tar", &b.into_inner().unwrap()).unwrap();
        assert_eq!(loaded.entries, 0);
        assert!(
            loaded.warnings[0].contains("not a regular file"),
            "{:?}",
            loaded.warnings
        );
        let d = format!("sha256:{m}");
        assert_eq!(
            s.answer(&fetch(FetchKind::Blob, "r.example/a@x", Some(&d))),
            blob_unknown("r.example/a@x")
        );
    }

    #[test]
    fn an_oversize_blob_is_an_invalid_answer_as_in_the_cli() {
        let big = vec![7u8; limits::MAX_BLOB_BYTES + 1];
        let h = hex(&big);
        let path = format!("./blobs/sha256/{h}");
        let tar = tar_of(&[("./index.json", br#"{"manifests":[]}"#), (&path, &big)]);
        let mut s = ArtifactStore::new();
        let l = s.load("big.tar", &tar).unwrap();
        assert!(l.warnings[0].contains("over the limit"), "{:?}", l.warnings);
        let d = format!("sha256:{h}");
        match s.answer(&fetch(FetchKind::Blob, "r.example/a@x", Some(&d))) {
            Answer::Failure(FailureStatus::Invalid, m) => {
                assert!(m.contains("over the limit"), "{m}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_inputs_are_refused_by_name() {
        let mut s = ArtifactStore::new();
        let e = s.load("x.bin", b"hello").unwrap_err();
        assert!(matches!(e, LoadArtifactsError::Unknown { .. }), "{e}");
        let e = s
            .load("x.tar", &tar_of(&[("./blobs/sha256/aa", b"m")]))
            .unwrap_err();
        assert!(matches!(e, LoadArtifactsError::NotLayout { .. }), "{e}");
        let e = s
            .load("x.tar", &tar_of(&[("./index.json", b"{not json")]))
            .unwrap_err();
        assert!(e.to_string().starts_with("x.tar: index.json: "), "{e}");
        let e = s.load("b.json", br#"{"kind":"Other"}"#).unwrap_err();
        assert!(e.to_string().starts_with("b.json: "), "{e}");
        // A truncated archive is an error, never a partial layout.
        let mut t = tar_of(&[
            ("./index.json", br#"{"manifests":[]}"#),
            ("./blobs/sha256/aa", &[7u8; 4000]),
        ]);
        t.truncate(1500);
        assert!(s.load("t.tar", &t).is_err());
        assert!(s.is_empty());
    }

    #[test]
    fn what_a_store_holds_is_bounded_and_a_refused_load_counts_nothing() {
        let index = br#"{"manifests":[]}"#;
        let (b, sm) = ([1u8; 3000], [2u8; 1000]);
        let (bp, sp) = (
            format!("./blobs/sha256/{}", hex(&b)),
            format!("./blobs/sha256/{}", hex(&sm)),
        );
        let big = tar_of(&[("./index.json", index), (&bp, &b)]);
        let small = tar_of(&[("./index.json", index), (&sp, &sm)]);
        let mut s = ArtifactStore::with_max_bytes(2500);
        for _ in 0..3 {
            let e = s.load("big.tar", &big).unwrap_err();
            assert!(
                matches!(e, LoadArtifactsError::TooLarge { limit: 2500, .. }),
                "{e}"
            );
        }
        // The refusals counted nothing: the small one still fits, twice.
        assert_eq!(s.load("small.tar", &small).unwrap().entries, 1);
        assert_eq!(s.load("small.tar", &small).unwrap().entries, 1);
        assert!(s.load("small.tar", &small).is_err());
    }

    #[test]
    fn a_bundle_answers_what_it_recorded_and_nothing_else() {
        let b = Bundle::new(vec![
            super::super::bundle::Entry::new(
                FetchKind::ManifestByTag,
                "r.example/a:v1",
                &Answer::Bytes(b"m".to_vec()),
            ),
            super::super::bundle::Entry::new(
                FetchKind::ManifestByTag,
                "r.example/a:sha256-aa.sig",
                &Answer::Failure(FailureStatus::NotFound, "gone".into()),
            ),
        ]);
        let mut s = ArtifactStore::new();
        let l = s
            .load("b.json", serde_json::to_string(&b).unwrap().as_bytes())
            .unwrap();
        assert_eq!((l.format, l.entries), ("bundle", 2));
        assert_eq!(l.references, ["r.example/a:v1"]);
        assert_eq!(
            s.answer(&fetch(
                FetchKind::ManifestByTag,
                "r.example/a:sha256-aa.sig",
                None
            )),
            Answer::Failure(FailureStatus::NotFound, "gone".into())
        );
        let other = fetch(FetchKind::Blob, "r.example/a@sha256:cc", Some("sha256:cc"));
        assert_eq!(s.answer(&other), not_in_bundle(&other));
        // With a layout loaded too, bundles still answer alone (apply --bundle).
        let m = hex(b"m");
        let index = format!(
            r#"{{"manifests":[{{"digest":"sha256:{m}","annotations":{{"org.opencontainers.image.ref.name":"r.example/b:v1"}}}}]}}"#
        );
        let path = format!("./blobs/sha256/{m}");
        s.load(
            "l.tar",
            &tar_of(&[("./index.json", index.as_bytes()), (&path, b"m")]),
        )
        .unwrap();
        let tag = fetch(FetchKind::ManifestByTag, "r.example/b:v1", None);
        assert_eq!(s.answer(&tag), not_in_bundle(&tag));
    }
}
