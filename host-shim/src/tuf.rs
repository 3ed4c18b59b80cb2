//! Keeping the Sigstore trusted root current from a TUF repository (the
//! `tough` client): the `trusted_root.json` target of a mirror, verified
//! through TUF's root, timestamp, snapshot and targets roles, from an
//! initial `root.json` the operator trusts.
//!
//! Everything verified is kept in a local cache directory: TUF's metadata
//! (the latest root, so a rotation survives a restart, and the timestamp and
//! snapshot for rollback protection) and the last verified target. When the
//! mirror cannot be reached, the cached target is used, so a restart
//! verifies offline; a mirror that answers with metadata or a target that do
//! not verify is an error, never a fallback.

use std::path::{Path, PathBuf};
use tough::{IntoVec as _, RepositoryLoader, TargetName, Transport, TransportError};
use tough::{TransportErrorKind, TransportStream};
use url::Url;

/// The TUF target holding Sigstore's trusted root.
pub const TRUSTED_ROOT_TARGET: &str = "trusted_root.json";
/// Largest metadata or target file fetched from a mirror.
const MAX_FETCH_BYTES: usize = 4 << 20;

/// Where the trusted root comes from.
#[derive(Debug, Clone)]
pub struct TufConfig {
    /// The repository's metadata URL (`…/` holding `timestamp.json`).
    pub mirror: Url,
    /// The targets URL (default: `<mirror>/targets/`).
    pub targets: Url,
    /// The initial trusted `root.json`.
    pub initial_root: PathBuf,
    /// The local cache directory.
    pub cache: PathBuf,
}

/// Why no trusted root could be had.
#[derive(Debug, thiserror::Error)]
pub enum TufError {
    /// Bad settings.
    #[error("TUF: {0}")]
    Config(String),
    /// The mirror could not be reached (connection or HTTP failures).
    #[error("TUF repository {mirror} unreachable: {source}")]
    Unreachable {
        /// The mirror.
        mirror: String,
        /// tough's error.
        source: Box<tough::error::Error>,
    },
    /// The mirror was reached but what it served did not verify.
    #[error("TUF repository {mirror}: {source}")]
    Verify {
        /// The mirror.
        mirror: String,
        /// tough's error.
        source: Box<tough::error::Error>,
    },
    /// The cache could not be read or written.
    #[error("TUF cache {path}: {source}")]
    Cache {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Where the returned trusted root came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Verified from the mirror just now.
    Mirror,
    /// The last verified target, the mirror being unreachable.
    Cache,
}

impl TufConfig {
    /// Settings from the CLI flags; the targets URL defaults to
    /// `<mirror>/targets/`.
    pub fn new(mirror: &str, initial_root: &str, cache: &str) -> Result<Self, TufError> {
        let dir = |u: &str| {
            let with_slash = if u.ends_with('/') {
                u.to_string()
            } else {
                format!("{u}/")
            };
            Url::parse(&with_slash).map_err(|e| TufError::Config(format!("mirror {u}: {e}")))
        };
        let mirror = dir(mirror)?;
        let targets = mirror
            .join("targets/")
            .map_err(|e| TufError::Config(e.to_string()))?;
        Ok(TufConfig {
            mirror,
            targets,
            initial_root: PathBuf::from(initial_root),
            cache: PathBuf::from(cache),
        })
    }

    /// The cached verified target.
    pub fn cached_target(&self) -> PathBuf {
        self.cache.join(TRUSTED_ROOT_TARGET)
    }

    fn metadata_dir(&self) -> PathBuf {
        self.cache.join("metadata")
    }
}

fn cache_err(path: &Path) -> impl FnOnce(std::io::Error) -> TufError + '_ {
    move |source| TufError::Cache {
        path: path.display().to_string(),
        source,
    }
}

/// Fetches and verifies the trusted root from the mirror, and caches it.
pub async fn refresh(cfg: &TufConfig, http: reqwest::Client) -> Result<String, TufError> {
    let metadata = cfg.metadata_dir();
    tokio::fs::create_dir_all(&metadata)
        .await
        .map_err(cache_err(&metadata))?;
    // Start from the latest root TUF verified before (a rotation persists),
    // else the operator's.
    let persisted = metadata.join("root.json");
    let root_path = if persisted.is_file() {
        persisted
    } else {
        cfg.initial_root.clone()
    };
    let root = tokio::fs::read(&root_path)
        .await
        .map_err(cache_err(&root_path))?;
    let transport = HttpTransport {
        client: http,
        unreachable: Default::default(),
    };
    let failed = transport.unreachable.clone();
    // Connection failures are told apart from content that does not verify
    // by the transport itself: tough reports both as transport errors.
    let verify = |source: tough::error::Error| {
        let (mirror, source) = (cfg.mirror.to_string(), Box::new(source));
        if failed.load(std::sync::atomic::Ordering::SeqCst) {
            TufError::Unreachable { mirror, source }
        } else {
            TufError::Verify { mirror, source }
        }
    };
    let repo = RepositoryLoader::new(&root, cfg.mirror.clone(), cfg.targets.clone())
        .transport(transport)
        .datastore(metadata)
        .load()
        .await
        .map_err(verify)?;
    let name = TargetName::new(TRUSTED_ROOT_TARGET).map_err(verify)?;
    let listed = repo.targets().signed.targets.get(&name).map(|t| t.length);
    if listed.is_none_or(|n| n > crate::apply::MAX_TRUSTED_ROOT_BYTES as u64) {
        return Err(TufError::Config(format!(
            "{}: target {TRUSTED_ROOT_TARGET} is {}",
            cfg.mirror,
            match listed {
                None => "not listed".to_string(),
                Some(n) => format!("{n} bytes, over the limit"),
            }
        )));
    }
    let bytes = match repo.read_target(&name).await.map_err(verify)? {
        Some(stream) => stream.into_vec().await.map_err(verify)?,
        None => {
            return Err(TufError::Config(format!(
                "{}: target {TRUSTED_ROOT_TARGET} is not listed",
                cfg.mirror
            )));
        }
    };
    let text = String::from_utf8(bytes)
        .map_err(|_| TufError::Config(format!("{TRUSTED_ROOT_TARGET} is not UTF-8")))?;
    let target = cfg.cached_target();
    // Unchanged: the cached file is left alone (a server reloads on change).
    if tokio::fs::read_to_string(&target).await.ok().as_deref() == Some(text.as_str()) {
        return Ok(text);
    }
    // Written whole, then renamed: a reader never sees half a file.
    let tmp = cfg.cache.join(format!(".{TRUSTED_ROOT_TARGET}.tmp"));
    tokio::fs::write(&tmp, &text)
        .await
        .map_err(cache_err(&tmp))?;
    tokio::fs::rename(&tmp, &target)
        .await
        .map_err(cache_err(&target))?;
    Ok(text)
}

/// The trusted root: refreshed from the mirror, or, when the mirror cannot
/// be reached at all, the last verified one from the cache.
pub async fn current(cfg: &TufConfig, http: reqwest::Client) -> Result<(String, Origin), TufError> {
    match refresh(cfg, http).await {
        Ok(text) => Ok((text, Origin::Mirror)),
        Err(e @ TufError::Unreachable { .. }) => {
            let cached = cfg.cached_target();
            match tokio::fs::read_to_string(&cached).await {
                Ok(text) => {
                    tracing::warn!(error = %e, "TUF mirror unreachable; using the cached trusted root");
                    Ok((text, Origin::Cache))
                }
                Err(_) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// The trusted roots of image-policy attestors' TUF repositories
/// (`tufSources` of the engine summary: `key`, `mirror`, `rootData` base64
/// or `rootPath`), each verified from its mirror (or its cache under
/// `cache/attestors/<key>`), as the engine options want them:
/// `{key: {"trustedRoot": json}}` or `{key: {"error": why}}`.
pub async fn attestor_roots(
    sources: &[serde_json::Value],
    cache: &str,
) -> serde_json::Map<String, serde_json::Value> {
    use base64::Engine as _;
    let mut out = serde_json::Map::new();
    let http = match http_client() {
        Ok(h) => h,
        Err(e) => {
            for s in sources {
                if let Some(k) = s.get("key").and_then(|k| k.as_str()) {
                    out.insert(k.to_string(), serde_json::json!({"error": e.to_string()}));
                }
            }
            return out;
        }
    };
    for s in sources.iter().take(imgverify::limits::MAX_POLICIES) {
        let field = |k: &str| s.get(k).and_then(|v| v.as_str()).unwrap_or("");
        let key = field("key");
        // The key is the engine's hex digest; anything else is not used as a path.
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        let dir = Path::new(cache).join("attestors").join(key);
        let result: Result<String, String> = async {
            let root = match field("rootPath") {
                "" => {
                    let data = base64::engine::general_purpose::STANDARD
                        .decode(field("rootData"))
                        .map_err(|e| format!("root.data: {e}"))?;
                    tokio::fs::create_dir_all(&dir)
                        .await
                        .map_err(|e| format!("{}: {e}", dir.display()))?;
                    let file = dir.join("initial-root.json");
                    tokio::fs::write(&file, data)
                        .await
                        .map_err(|e| format!("{}: {e}", file.display()))?;
                    file
                }
                path => PathBuf::from(path),
            };
            let cfg = TufConfig::new(
                field("mirror"),
                &root.display().to_string(),
                &dir.display().to_string(),
            )
            .map_err(|e| e.to_string())?;
            let (text, origin) = current(&cfg, http.clone())
                .await
                .map_err(|e| e.to_string())?;
            if origin == Origin::Cache {
                tracing::warn!(mirror = %cfg.mirror, "attestor TUF mirror unreachable; using its cached trusted root");
            }
            Ok(text)
        }
        .await;
        let entry = match result {
            Ok(json) => serde_json::json!({"trustedRoot": json}),
            Err(e) => serde_json::json!({"error": e}),
        };
        out.insert(key.to_string(), entry);
    }
    out
}

/// [`attestor_roots`] from synchronous code (the CLI, policy loading in a
/// blocking task): on a runtime of its own.
pub fn attestor_roots_blocking(
    sources: &[serde_json::Value],
    cache: &str,
) -> serde_json::Map<String, serde_json::Value> {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(attestor_roots(sources, cache)),
        Err(e) => sources
            .iter()
            .filter_map(|s| s.get("key").and_then(|k| k.as_str()))
            .map(|k| (k.to_string(), serde_json::json!({"error": e.to_string()})))
            .collect(),
    }
}

/// tough's transport over the host's HTTP client (and `file://` URLs),
/// reading at most [`MAX_FETCH_BYTES`] per file.
#[derive(Debug, Clone)]
struct HttpTransport {
    client: reqwest::Client,
    /// Set when a request could not be made or answered (not a 404).
    unreachable: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

#[tough::async_trait]
impl Transport for HttpTransport {
    async fn fetch(&self, url: Url) -> Result<TransportStream, TransportError> {
        if url.scheme() == "file" {
            return tough::FilesystemTransport.fetch(url).await;
        }
        if !matches!(url.scheme(), "http" | "https") {
            return Err(TransportError::new(
                TransportErrorKind::UnsupportedUrlScheme,
                url,
            ));
        }
        let other = |e: String| TransportError::new_with_cause(TransportErrorKind::Other, &url, e);
        let down = |e: String| {
            self.unreachable
                .store(true, std::sync::atomic::Ordering::SeqCst);
            other(e)
        };
        let mut response = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| down(e.to_string()))?;
        match response.status().as_u16() {
            200 => {}
            // S3 and some mirrors answer 403 for a missing object.
            404 | 403 => {
                return Err(TransportError::new(TransportErrorKind::FileNotFound, &url));
            }
            s => return Err(down(format!("HTTP {s}"))),
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| down(e.to_string()))? {
            if body.len() + chunk.len() > MAX_FETCH_BYTES {
                return Err(other(format!("larger than {MAX_FETCH_BYTES} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        let chunk: Result<tough::Bytes, TransportError> = Ok(body.into());
        Ok(Box::pin(futures::stream::iter([chunk])))
    }
}

/// The HTTP client TUF fetches use: the system's roots, bounded time.
pub fn http_client() -> Result<reqwest::Client, TufError> {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| TufError::Config(e.to_string()))
}
