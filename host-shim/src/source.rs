//! Where artifacts come from: the [`ArtifactSource`] trait and local OCI
//! image layouts (one layout may hold many repositories).

use crate::safe_fs::{self, SafeReadError};
use imgverify::apply::artifacts;
use imgverify::engine::{Fetch, FetchKind};
use imgverify::limits;
use std::path::{Path, PathBuf};

/// An answer to one fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceAnswer {
    /// The bytes.
    Bytes(Vec<u8>),
    /// Not there.
    NotFound(String),
    /// Credentials refused.
    Unauthorized(String),
    /// A transport failure (network, 5xx after retries, deadline): the only
    /// answer `failurePolicy: Ignore` may forgive.
    Error(String),
    /// Bytes that cannot be used (over a size limit, not a regular file):
    /// a verification failure.
    Invalid(String),
}

impl SourceAnswer {
    /// The protocol status (`ok`, `not_found`, `unauthorized`, `error`).
    pub fn status(&self) -> &'static str {
        match self {
            SourceAnswer::Bytes(_) => "ok",
            SourceAnswer::NotFound(_) => "not_found",
            SourceAnswer::Unauthorized(_) => "unauthorized",
            SourceAnswer::Error(_) => "error",
            SourceAnswer::Invalid(_) => "invalid",
        }
    }

    /// A failure from its protocol status; `None` for `ok` or an unknown status.
    pub fn failure(status: &str, message: String) -> Option<Self> {
        match status {
            "not_found" => Some(SourceAnswer::NotFound(message)),
            "unauthorized" => Some(SourceAnswer::Unauthorized(message)),
            "error" => Some(SourceAnswer::Error(message)),
            "invalid" => Some(SourceAnswer::Invalid(message)),
            _ => None,
        }
    }

    /// The failure message (`None` for bytes).
    pub fn message(&self) -> Option<&str> {
        match self {
            SourceAnswer::Bytes(_) => None,
            SourceAnswer::NotFound(m)
            | SourceAnswer::Unauthorized(m)
            | SourceAnswer::Error(m)
            | SourceAnswer::Invalid(m) => Some(m),
        }
    }
}

impl From<SourceAnswer> for imgverify::engine::Answer {
    fn from(a: SourceAnswer) -> Self {
        use imgverify::engine::FailureStatus;
        match a {
            SourceAnswer::Bytes(b) => Self::Bytes(b),
            SourceAnswer::NotFound(m) => Self::Failure(FailureStatus::NotFound, m),
            SourceAnswer::Unauthorized(m) => Self::Failure(FailureStatus::Unauthorized, m),
            SourceAnswer::Error(m) => Self::Failure(FailureStatus::Error, m),
            SourceAnswer::Invalid(m) => Self::Failure(FailureStatus::Invalid, m),
        }
    }
}

impl From<imgverify::engine::Answer> for SourceAnswer {
    fn from(a: imgverify::engine::Answer) -> Self {
        use imgverify::engine::{Answer, FailureStatus};
        match a {
            Answer::Bytes(b) => Self::Bytes(b),
            Answer::Failure(FailureStatus::NotFound, m) => Self::NotFound(m),
            Answer::Failure(FailureStatus::Unauthorized, m) => Self::Unauthorized(m),
            Answer::Failure(FailureStatus::Error, m) => Self::Error(m),
            Answer::Failure(FailureStatus::Invalid, m) => Self::Invalid(m),
        }
    }
}

/// The answer of a source that has no Kubernetes API (an OCI layout, a
/// registry): the CLI takes `configMap` and `apiCall` values from a values
/// file instead.
pub fn no_kube_api(f: &Fetch) -> SourceAnswer {
    artifacts::no_kube_api(f).into()
}

/// Serves fetches. Implementations must be safe to share across threads.
pub trait ArtifactSource: Send + Sync {
    /// Answers one fetch.
    fn fetch(&self, f: &Fetch) -> SourceAnswer;

    /// Answers a round of fetches before `deadline` when given, handing each
    /// answer to `sink` (with its index in `fetches`) as soon as it is ready,
    /// so that a round's answers need not all be held at once. Every fetch
    /// gets exactly one answer. The default answers them one by one; network
    /// sources run them in parallel.
    fn fetch_each(
        &self,
        fetches: &[Fetch],
        deadline: Option<std::time::Instant>,
        sink: &mut dyn FnMut(usize, SourceAnswer),
    ) {
        for (i, f) in fetches.iter().enumerate() {
            let answer = match deadline {
                Some(d) if std::time::Instant::now() >= d => {
                    SourceAnswer::Error(format!("{}: deadline exceeded", f.key))
                }
                _ => self.fetch(f),
            };
            sink(i, answer);
        }
    }

    /// [`ArtifactSource::fetch_each`], collected in order.
    fn fetch_all(
        &self,
        fetches: &[Fetch],
        deadline: Option<std::time::Instant>,
    ) -> Vec<SourceAnswer> {
        let mut out: Vec<Option<SourceAnswer>> = vec![None; fetches.len()];
        self.fetch_each(fetches, deadline, &mut |i, a| {
            if let Some(slot) = out.get_mut(i) {
                *slot = Some(a);
            }
        });
        out.into_iter()
            .map(|a| a.unwrap_or_else(|| SourceAnswer::Error("no answer".into())))
            .collect()
    }
}

/// Why a layout could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    /// Not an OCI layout.
    #[error("{0}: not an OCI image layout (index.json unreadable: {1})")]
    NotLayout(String, String),
    /// A bad `REGISTRY/REPOSITORY=DIR` argument.
    #[error("invalid --oci-layout {0:?}: expected DIR or REGISTRY/REPOSITORY=DIR")]
    Spec(String),
}

/// One OCI image layout directory.
#[derive(Debug, Clone)]
struct Layout {
    dir: PathBuf,
    /// `registry/repository` serving bare-tag ref names.
    default_repo: Option<String>,
    /// `(ref name, manifest digest)`.
    refs: Vec<(String, String)>,
}

impl<T: ArtifactSource + ?Sized> ArtifactSource for &T {
    fn fetch(&self, f: &Fetch) -> SourceAnswer {
        (**self).fetch(f)
    }

    fn fetch_each(
        &self,
        fetches: &[Fetch],
        deadline: Option<std::time::Instant>,
        sink: &mut dyn FnMut(usize, SourceAnswer),
    ) {
        (**self).fetch_each(fetches, deadline, sink)
    }
}

impl<T: ArtifactSource + ?Sized> ArtifactSource for std::sync::Arc<T> {
    fn fetch(&self, f: &Fetch) -> SourceAnswer {
        (**self).fetch(f)
    }

    fn fetch_each(
        &self,
        fetches: &[Fetch],
        deadline: Option<std::time::Instant>,
        sink: &mut dyn FnMut(usize, SourceAnswer),
    ) {
        (**self).fetch_each(fetches, deadline, sink)
    }
}

/// Answers the module's Kubernetes API reads (`kube_api` fetches: context
/// `configMap` and `apiCall` entries, image policies' `resource.*`).
pub trait KubeApi: Send + Sync {
    /// Answers one `kube_api` fetch before `deadline` when given.
    fn answer(&self, f: &Fetch, deadline: Option<std::time::Instant>) -> SourceAnswer;
}

/// A source whose `kube_api` fetches `kube` answers (a cluster, or the
/// objects a test gives) and every other fetch `inner`.
pub struct WithKubeApi<S, K> {
    /// Registry artifacts.
    pub inner: S,
    /// The Kubernetes API.
    pub kube: K,
}

impl<S: ArtifactSource, K: KubeApi> ArtifactSource for WithKubeApi<S, K> {
    fn fetch(&self, f: &Fetch) -> SourceAnswer {
        match f.kind {
            FetchKind::KubeApi => self.kube.answer(f, None),
            _ => self.inner.fetch(f),
        }
    }

    fn fetch_each(
        &self,
        fetches: &[Fetch],
        deadline: Option<std::time::Instant>,
        sink: &mut dyn FnMut(usize, SourceAnswer),
    ) {
        let mut others = Vec::new();
        let mut positions = Vec::new();
        for (i, f) in fetches.iter().enumerate() {
            if f.kind == FetchKind::KubeApi {
                sink(i, self.kube.answer(f, deadline));
            } else {
                others.push(f.clone());
                positions.push(i);
            }
        }
        if !others.is_empty() {
            self.inner.fetch_each(&others, deadline, &mut |j, a| {
                if let Some(i) = positions.get(j) {
                    sink(*i, a);
                }
            });
        }
    }
}

/// A set of OCI layouts.
#[derive(Debug, Clone, Default)]
pub struct OciLayouts {
    layouts: Vec<Layout>,
}

impl OciLayouts {
    /// Adds a layout from `DIR` or `REGISTRY/REPOSITORY=DIR`.
    pub fn add(&mut self, spec: &str) -> Result<(), LayoutError> {
        let (default_repo, dir) = match spec.split_once('=') {
            Some((repo, dir)) if !repo.is_empty() && !dir.is_empty() => {
                (Some(repo.to_string()), dir)
            }
            Some(_) => return Err(LayoutError::Spec(spec.to_string())),
            None => (None, spec),
        };
        let dir = PathBuf::from(dir);
        let index_path = dir.join("index.json");
        let text = safe_fs::read_regular(&index_path, limits::MAX_MANIFEST_BYTES)
            .map_err(|e| LayoutError::NotLayout(dir.display().to_string(), e.to_string()))?;
        let refs = artifacts::index_refs(&text)
            .map_err(|e| LayoutError::NotLayout(dir.display().to_string(), e))?;
        self.layouts.push(Layout {
            dir,
            default_repo,
            refs,
        });
        Ok(())
    }

    /// Reads `blobs/<alg>/<hex>`: `None` when the layout has no such blob;
    /// otherwise the bytes, or why they cannot be used. Only regular files
    /// inside the layout count: no symlinks (a symlinked blob could copy a
    /// file from outside the layout into a bundle), FIFOs or devices, and
    /// never more than `max` bytes.
    fn read_blob(dir: &Path, digest: &str, max: usize) -> Option<SourceAnswer> {
        let (alg, hex) = digest.split_once(':')?;
        if hex.is_empty()
            || !hex.bytes().all(|b| b.is_ascii_hexdigit())
            || alg.is_empty()
            || !alg.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return None;
        }
        let blobs = dir.join("blobs");
        let alg_dir = blobs.join(alg);
        for d in [&blobs, &alg_dir] {
            match std::fs::symlink_metadata(d) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
                Ok(m) if m.file_type().is_dir() => {}
                _ => {
                    return Some(SourceAnswer::Invalid(format!(
                        "{}: not a directory inside the layout (symlinks are refused)",
                        d.display()
                    )));
                }
            }
        }
        match safe_fs::read_regular(&alg_dir.join(hex), max) {
            Ok(b) => Some(SourceAnswer::Bytes(b)),
            Err(SafeReadError::NotFound(_)) => None,
            Err(e @ (SafeReadError::NotRegular(_) | SafeReadError::TooLarge { .. })) => {
                Some(SourceAnswer::Invalid(format!("{digest}: {e}")))
            }
            Err(e) => Some(SourceAnswer::Error(e.to_string())),
        }
    }

    /// The manifest a `repository:tag` key names in one of the layouts.
    fn by_tag(&self, key: &str, max: usize) -> SourceAnswer {
        if artifacts::split_reference(key).is_none() {
            return SourceAnswer::Invalid(format!("bad tag reference {key}"));
        }
        for l in &self.layouts {
            for (name, digest) in &l.refs {
                if artifacts::ref_matches(name, l.default_repo.as_deref(), key) {
                    return match Self::read_blob(&l.dir, digest, max) {
                        Some(a) => a,
                        None => SourceAnswer::Invalid(format!(
                            "{key}: blob {digest} missing from layout {}",
                            l.dir.display()
                        )),
                    };
                }
            }
        }
        artifacts::manifest_unknown(key).into()
    }
}

impl ArtifactSource for OciLayouts {
    fn fetch(&self, f: &Fetch) -> SourceAnswer {
        let max = artifacts::fetch_limit(f);
        match f.kind {
            FetchKind::ManifestByTag => self.by_tag(&f.key, max),
            FetchKind::Manifest | FetchKind::Blob => {
                let digest = f.digest.as_deref().unwrap_or("");
                for l in &self.layouts {
                    if let Some(a) = Self::read_blob(&l.dir, digest, max) {
                        return a;
                    }
                }
                artifacts::blob_unknown(&f.key).into()
            }
            // A layout has no referrers API: the tag schema `sha256-<hex>`,
            // as on a registry without one.
            FetchKind::Referrers => match artifacts::referrers_tag_key(&f.key) {
                Some(key) => self.by_tag(&key, max),
                None => artifacts::bad_referrers_key(&f.key).into(),
            },
            FetchKind::KubeApi => no_kube_api(f),
        }
    }
}
