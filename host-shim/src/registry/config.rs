//! Registry client configuration (`--registry-config FILE`, YAML or JSON).

use serde::Deserialize;
use std::collections::BTreeMap;

/// Static credentials for one registry.
#[derive(Debug, Clone, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Credential {
    /// User name.
    #[serde(default)]
    pub username: String,
    /// Password or access token.
    #[serde(default)]
    pub password: String,
}

/// Cache settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CacheConfig {
    /// Byte budget of the in-memory digest-addressed cache.
    pub memory_bytes: usize,
    /// Optional directory for a disk cache of digest-addressed bytes.
    pub dir: Option<String>,
    /// Time-to-live of tag and referrer answers, seconds.
    pub tag_ttl_seconds: u64,
    /// Most tag and referrer answers kept.
    pub tag_entries: usize,
    /// Byte budget of the tag and referrer answers kept.
    pub tag_bytes: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            memory_bytes: 256 * 1024 * 1024,
            dir: None,
            tag_ttl_seconds: 30,
            tag_entries: 10_000,
            tag_bytes: 32 * 1024 * 1024,
        }
    }
}

/// The registry client configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RegistryConfig {
    /// Registries (host[:port]) that may be reached over plain HTTP.
    /// Loopback registries always may.
    pub insecure: Vec<String>,
    /// Extra CA certificate files (PEM) trusted besides the system roots.
    pub ca_files: Vec<String>,
    /// A docker `config.json` (`auths`, `credHelpers`, `credsStore`).
    pub docker_config: Option<String>,
    /// Kubernetes `kubernetes.io/dockerconfigjson` Secrets (YAML/JSON files).
    pub pull_secrets: Vec<String>,
    /// Static credentials by registry host.
    pub credentials: BTreeMap<String, Credential>,
    /// Most registry requests in flight at once.
    pub concurrency: usize,
    /// Retries on 429 / 5xx / connection errors.
    pub retries: u32,
    /// Per-request timeout, seconds.
    pub request_timeout_seconds: u64,
    /// Caching.
    pub cache: CacheConfig,
    /// A `trusted_root.json` replacing the embedded Sigstore public-good
    /// root (`--trusted-root` wins).
    pub trusted_root: Option<String>,
    /// A TUF repository keeping the trusted root current (the `--tuf-*`
    /// flags win).
    pub tuf: Option<TufSettings>,
}

/// `tuf:` in the configuration: what `--tuf-mirror`, `--tuf-root` and
/// `--tuf-cache` say on the command line.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TufSettings {
    /// The repository's metadata URL.
    pub mirror: String,
    /// The trusted initial `root.json`.
    pub root: String,
    /// The cache directory (default `.imgverify-tuf`).
    pub cache: Option<String>,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            insecure: Vec::new(),
            ca_files: Vec::new(),
            docker_config: None,
            pull_secrets: Vec::new(),
            credentials: BTreeMap::new(),
            concurrency: 32,
            retries: 3,
            request_timeout_seconds: 10,
            cache: CacheConfig::default(),
            trusted_root: None,
            tuf: None,
        }
    }
}

impl RegistryConfig {
    /// Without a `dockerConfig`, the docker `config.json` that cosign, kwctl
    /// and the Kyverno CLI read: `$DOCKER_CONFIG/config.json`, else
    /// `$HOME/.docker/config.json`, when it exists (the CLI only; the webhook
    /// takes its credentials from its configuration and the cluster).
    pub fn with_default_docker_config(mut self) -> Self {
        if self.docker_config.is_none() {
            let dir = std::env::var_os("DOCKER_CONFIG")
                .map(std::path::PathBuf::from)
                .or_else(|| {
                    std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".docker"))
                });
            if let Some(path) = dir.map(|d| d.join("config.json"))
                && path.is_file()
            {
                self.docker_config = Some(path.display().to_string());
            }
        }
        self
    }

    /// Reads a YAML or JSON config file.
    pub fn load(path: &str) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        imgverify::yaml::from_str(&text).map_err(|e| format!("{path}: {e}"))
    }
}
