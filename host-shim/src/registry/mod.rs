//! OCI distribution v2 client: manifests by tag and digest, blobs, OCI 1.1
//! referrers with the `sha256-<hex>` tag fallback; bearer-token and basic
//! auth; TLS with system roots plus extra CAs (rustls); plain HTTP only for
//! loopback or listed registries; bounded concurrency; retries with backoff
//! honouring `Retry-After`; size limits enforced while streaming.

pub mod auth;
pub mod config;

use crate::metrics::Metrics;
use crate::source::SourceAnswer;
use auth::{Challenge, Credentials};
use config::{Credential, RegistryConfig};
use imgverify::engine::{Access, Fetch, FetchKind};
use imgverify::limits;
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_LENGTH, HeaderMap, RETRY_AFTER, WWW_AUTHENTICATE,
};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The `Accept` list for manifests: OCI and Docker manifests and indexes.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

/// Most redirects followed for one request.
pub const MAX_REDIRECTS: usize = 3;

/// Redirects are followed only to `http(s)`, never from `https` down to
/// `http`, and at most [`MAX_REDIRECTS`] times.
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let to = attempt.url().scheme().to_string();
        let from = attempt
            .previous()
            .last()
            .map(|u| u.scheme().to_string())
            .unwrap_or_default();
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error(format!(
                "redirect not followed: more than {MAX_REDIRECTS} redirects"
            ))
        } else if to != "https" && to != "http" {
            attempt.error(format!("redirect not followed: to a {to}: URL"))
        } else if from == "https" && to == "http" {
            attempt.error("redirect not followed: from https to plain http")
        } else {
            attempt.follow()
        }
    })
}

/// Registries whose TLS probe result is remembered.
const MAX_PROBED_REGISTRIES: usize = 1024;

/// Longest wait honoured from a `Retry-After` header.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

/// An OCI registry client.
pub struct RegistryClient {
    http: reqwest::Client,
    config: RegistryConfig,
    credentials: Credentials,
    tokens: Mutex<TokenCache>,
    schemes: Mutex<HashMap<String, Arc<tokio::sync::OnceCell<&'static str>>>>,
    /// Registries known to take basic credentials: sent with the first request.
    basic_registries: Mutex<HashSet<String>>,
    permits: Semaphore,
    metrics: Metrics,
    /// Pull secrets read from the cluster (`serve` with a cluster connection).
    cluster: std::sync::OnceLock<Arc<dyn auth::ClusterPullSecrets>>,
}

/// Whether a registry host is on the loopback interface.
pub fn is_loopback(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        registry
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or(registry)
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Maps `docker.io` to its API host and adds `library/` to official images.
pub fn api_location(registry: &str, repository: &str) -> (String, String) {
    match registry {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => {
            let repo = if repository.contains('/') {
                repository.to_string()
            } else {
                format!("library/{repository}")
            };
            ("registry-1.docker.io".to_string(), repo)
        }
        r => (r.to_string(), repository.to_string()),
    }
}

/// One GET's parameters.
#[derive(Clone, Copy)]
struct Get<'a> {
    kind: FetchKind,
    registry: &'a str,
    repo: &'a str,
    url: &'a str,
    accept: Option<&'a str>,
    max: usize,
    access: &'a Access,
}

/// Bearer tokens by (registry, repository, secrets that obtained them), with expiry.
type TokenCache = HashMap<(String, String, Vec<String>), (String, Instant)>;

enum Outcome {
    Done(SourceAnswer),
    Retry(Option<Duration>, String),
}

impl RegistryClient {
    /// Builds a client; CA files and credential files are read now.
    pub fn new(config: RegistryConfig, metrics: Metrics) -> Result<Self, String> {
        let mut builder = reqwest::Client::builder()
            .redirect(redirect_policy())
            .timeout(Duration::from_secs(config.request_timeout_seconds.max(1)))
            .connect_timeout(Duration::from_secs(
                config.request_timeout_seconds.clamp(1, 10),
            ))
            .user_agent(concat!("imgverify/", env!("CARGO_PKG_VERSION")))
            .use_rustls_tls();
        for path in &config.ca_files {
            let pem = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| format!("{path}: {e}"))?;
            if certs.is_empty() {
                return Err(format!("{path}: no certificate found"));
            }
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        let http = builder.build().map_err(|e| e.to_string())?;
        let credentials = Credentials::load(&config)?;
        Ok(RegistryClient {
            http,
            permits: Semaphore::new(config.concurrency.max(1)),
            credentials,
            tokens: Mutex::new(HashMap::new()),
            schemes: Mutex::new(HashMap::new()),
            basic_registries: Mutex::new(HashSet::new()),
            config,
            metrics,
            cluster: std::sync::OnceLock::new(),
        })
    }

    /// Reads the pull secrets fetches name (and their service accounts')
    /// from the cluster too; set once.
    pub fn use_cluster_pull_secrets(&self, cluster: Arc<dyn auth::ClusterPullSecrets>) {
        let _ = self.cluster.set(cluster);
    }

    /// Whether pull secrets are also read from a cluster.
    pub fn reads_cluster_pull_secrets(&self) -> bool {
        self.cluster.get().is_some()
    }

    /// The credential for `registry`: the first of the fetch's pull secrets
    /// (from files, then the cluster) that has one, then its service
    /// account's pull secrets, then the configured credentials.
    async fn credential(&self, registry: &str, access: &Access) -> Option<Credential> {
        let host = auth::config_host(registry);
        let cluster = self.cluster.get();
        for s in &access.secrets {
            if let Some(c) = self.credentials.named_credential(s, &host) {
                return Some(c);
            }
            if let Some(k) = cluster {
                let (ns, name) = s.split_once('/').unwrap_or((k.home_namespace(), s));
                if let Some(c) = k.secret(ns, name).await.get(&host) {
                    return Some(c.clone());
                }
            }
        }
        if let (Some(k), Some((ns, account))) = (
            cluster,
            access
                .service_account
                .as_deref()
                .and_then(|a| a.split_once('/')),
        ) {
            for name in k.service_account(ns, account).await.iter() {
                if let Some(c) = k.secret(ns, name).await.get(&host) {
                    return Some(c.clone());
                }
            }
        }
        self.credentials.lookup(registry)
    }

    /// Whether plain HTTP may be tried for a registry: loopback, listed as
    /// insecure, or allowed by the policy (`allowInsecureRegistry`).
    fn plain_allowed(&self, registry: &str, access: &Access) -> bool {
        is_loopback(registry)
            || access.allow_insecure
            || self.config.insecure.iter().any(|r| r == registry)
    }

    /// The probe cell of a registry that may be reached over plain HTTP.
    fn scheme_cell(&self, registry: &str) -> Arc<tokio::sync::OnceCell<&'static str>> {
        match self.schemes.lock() {
            Ok(mut m) => {
                // Bounded: loopback registries are named by the Pods.
                if m.len() >= MAX_PROBED_REGISTRIES && !m.contains_key(registry) {
                    m.clear();
                }
                m.entry(registry.to_string()).or_default().clone()
            }
            Err(_) => Arc::default(),
        }
    }

    /// The scheme, once known: `https`, or what the probe of a registry that
    /// may be reached over plain HTTP found.
    fn known_scheme(&self, registry: &str, access: &Access) -> Option<&'static str> {
        if !self.plain_allowed(registry, access) {
            return Some("https");
        }
        self.scheme_cell(registry).get().copied()
    }

    /// `https`, except for loopback and listed-insecure registries that do
    /// not speak TLS (probed once, like docker does for localhost).
    async fn scheme(&self, registry: &str, access: &Access) -> &'static str {
        if !self.plain_allowed(registry, access) {
            return "https";
        }
        // One probe per registry, however many fetches meet it at once.
        *self
            .scheme_cell(registry)
            .get_or_init(|| async {
                let (host, _) = api_location(registry, "");
                let probe = self
                    .http
                    .get(format!("https://{host}/v2/"))
                    .timeout(Duration::from_secs(2))
                    .send()
                    .await;
                // Only a failed connection or handshake means no TLS; any
                // answer, or a refused redirect, came over TLS.
                let scheme = match probe {
                    Err(e) if e.is_connect() || e.is_timeout() => "http",
                    _ => "https",
                };
                self.metrics.request("tls_probe", scheme);
                scheme
            })
            .await
    }

    /// GETs `{scheme}://{host}{path}`. The first request to a registry that
    /// may be reached over plain HTTP, and for which no credentials are
    /// configured, does not wait for the TLS probe: it is sent over plain
    /// HTTP at the same time, and its answer is used only if the probe finds
    /// no TLS (otherwise it is dropped and the request made over HTTPS). So
    /// meeting such a registry costs no extra round trip, and no credential
    /// goes out in the clear to a registry that speaks TLS.
    async fn get_at(&self, host: &str, path: &str, g: Get<'_>) -> SourceAnswer {
        let known = self.known_scheme(g.registry, g.access);
        let from_cluster = self.cluster.get().is_some()
            && (!g.access.secrets.is_empty() || g.access.service_account.is_some());
        let race = known.is_none()
            && !from_cluster
            && !self.credentials.may_have(g.registry, &g.access.secrets);
        if !race {
            let scheme = match known {
                Some(s) => s,
                None => self.scheme(g.registry, g.access).await,
            };
            let url = format!("{scheme}://{host}{path}");
            return self.get(Get { url: &url, ..g }).await;
        }
        let plain_url = format!("http://{host}{path}");
        let plain = self.get(Get {
            url: &plain_url,
            ..g
        });
        let probe = self.scheme(g.registry, g.access);
        tokio::pin!(plain, probe);
        let mut early = None;
        let scheme = loop {
            tokio::select! {
                s = &mut probe => break s,
                a = &mut plain, if early.is_none() => early = Some(a),
            }
        };
        if scheme == "https" {
            let url = format!("https://{host}{path}");
            return self.get(Get { url: &url, ..g }).await;
        }
        match early {
            Some(a) => a,
            None => plain.await,
        }
    }

    /// Answers one fetch from the registry.
    pub async fn fetch(&self, f: &Fetch) -> SourceAnswer {
        match f.kind {
            FetchKind::KubeApi => crate::source::no_kube_api(f),
            FetchKind::ManifestByTag => {
                let tag = f.tag.as_deref().unwrap_or("latest");
                self.get_manifest(f.kind, &f.registry, &f.repository, tag, &f.access)
                    .await
            }
            FetchKind::Manifest => {
                let d = f.digest.as_deref().unwrap_or("");
                self.get_manifest(f.kind, &f.registry, &f.repository, d, &f.access)
                    .await
            }
            FetchKind::Blob => {
                let d = f.digest.as_deref().unwrap_or("");
                let (host, repo) = api_location(&f.registry, &f.repository);
                let path = format!("/v2/{repo}/blobs/{d}");
                let get = Get {
                    kind: f.kind,
                    registry: &f.registry,
                    repo: &repo,
                    url: "",
                    accept: None,
                    max: f
                        .max_bytes
                        .map_or(limits::MAX_BLOB_BYTES, |m| m.min(limits::MAX_BLOB_BYTES)),
                    access: &f.access,
                };
                self.get_at(&host, &path, get).await
            }
            FetchKind::Referrers => {
                let d = f.digest.as_deref().unwrap_or("");
                let (host, repo) = api_location(&f.registry, &f.repository);
                let mut path = format!("/v2/{repo}/referrers/{d}");
                if let Some(t) = &f.artifact_type {
                    path.push_str(&format!("?artifactType={}", urlencode(t)));
                }
                let get = Get {
                    kind: f.kind,
                    registry: &f.registry,
                    repo: &repo,
                    url: "",
                    accept: Some("application/vnd.oci.image.index.v1+json"),
                    max: limits::MAX_MANIFEST_BYTES,
                    access: &f.access,
                };
                match self.get_at(&host, &path, get).await {
                    // No referrers API: the tag schema `sha256-<hex>`.
                    SourceAnswer::NotFound(_) => {
                        let tag = d.replacen(':', "-", 1);
                        self.get_manifest(f.kind, &f.registry, &f.repository, &tag, &f.access)
                            .await
                    }
                    other => other,
                }
            }
        }
    }

    async fn get_manifest(
        &self,
        kind: FetchKind,
        registry: &str,
        repository: &str,
        reference: &str,
        access: &Access,
    ) -> SourceAnswer {
        let (host, repo) = api_location(registry, repository);
        let path = format!("/v2/{repo}/manifests/{reference}");
        let get = Get {
            kind,
            registry,
            repo: &repo,
            url: "",
            accept: Some(MANIFEST_ACCEPT),
            max: limits::MAX_MANIFEST_BYTES,
            access,
        };
        self.get_at(&host, &path, get).await
    }

    /// GET with auth, retries and a streaming size limit.
    async fn get(&self, req: Get<'_>) -> SourceAnswer {
        let url = req.url;
        let _permit = match self.permits.acquire().await {
            Ok(p) => p,
            Err(_) => return SourceAnswer::Error("registry client is shutting down".into()),
        };
        let mut last_error = String::new();
        for attempt in 0..=self.config.retries {
            match self.attempt(&req).await {
                Outcome::Done(a) => return a,
                Outcome::Retry(after, msg) => {
                    last_error = msg;
                    if attempt == self.config.retries {
                        break;
                    }
                    let backoff = Duration::from_millis(100 * (1 << attempt.min(6)));
                    tokio::time::sleep(after.unwrap_or(backoff).min(MAX_RETRY_AFTER)).await;
                }
            }
        }
        SourceAnswer::Error(format!(
            "{url}: {last_error} (after {} attempts)",
            self.config.retries + 1
        ))
    }

    async fn attempt(&self, r: &Get<'_>) -> Outcome {
        let Get {
            kind,
            registry,
            repo,
            url,
            accept,
            max,
            access,
        } = *r;
        let mut auth_header = match self.cached_token(registry, repo, access) {
            Some(t) => Some(t),
            None => self.preemptive_basic(registry, access).await,
        };
        let mut challenged = false;
        loop {
            let mut req = self.http.get(url);
            if let Some(a) = accept {
                req = req.header(ACCEPT, a);
            }
            if let Some(h) = &auth_header {
                req = req.header(AUTHORIZATION, h);
            }
            let resp = match req.send().await {
                Ok(r) => r,
                // A refused redirect or a URL the reference cannot make is
                // the registry's or the resource's doing, not the network's.
                Err(e) if e.is_redirect() || e.is_builder() => {
                    self.metrics.request(kind.as_str(), "error");
                    return Outcome::Done(SourceAnswer::Invalid(error_chain(&e)));
                }
                Err(e) => {
                    self.metrics.request(kind.as_str(), "error");
                    return Outcome::Retry(None, error_chain(&e));
                }
            };
            let status = resp.status();
            self.metrics.request(kind.as_str(), status.as_str());
            if status == StatusCode::UNAUTHORIZED && !challenged {
                challenged = true;
                let challenge = resp
                    .headers()
                    .get(WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(auth::parse_challenge);
                match self.authorize(registry, repo, challenge, access).await {
                    Ok(Some(h)) => {
                        auth_header = Some(h);
                        continue;
                    }
                    Ok(None) => {
                        return Outcome::Done(SourceAnswer::Unauthorized(format!(
                            "{url}: 401 Unauthorized and no credentials"
                        )));
                    }
                    Err(e) => {
                        return Outcome::Done(SourceAnswer::Unauthorized(format!("{url}: {e}")));
                    }
                }
            }
            return match status {
                s if s.is_success() => match read_limited(resp, max).await {
                    Ok(bytes) => Outcome::Done(SourceAnswer::Bytes(bytes)),
                    Err(ReadError::TooLarge(m)) => {
                        Outcome::Done(SourceAnswer::Invalid(format!("{url}: {m}")))
                    }
                    Err(ReadError::Transport(m)) => Outcome::Retry(None, m),
                },
                StatusCode::NOT_FOUND => Outcome::Done(SourceAnswer::NotFound(format!(
                    "{url}: {status}{}",
                    oci_error_codes(resp).await
                ))),
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    Outcome::Done(SourceAnswer::Unauthorized(format!(
                        "{url}: {status}{}",
                        oci_error_codes(resp).await
                    )))
                }
                s if s == StatusCode::TOO_MANY_REQUESTS
                    || s.is_server_error()
                    || s == StatusCode::REQUEST_TIMEOUT =>
                {
                    let after = retry_after(resp.headers());
                    Outcome::Retry(after, format!("{status}"))
                }
                s if s.is_redirection() => Outcome::Done(SourceAnswer::Invalid(format!(
                    "{url}: {s}: redirect not followed (only to http(s), never from https to http, at most {MAX_REDIRECTS})"
                ))),
                // Any other answer is the registry's, about this request: a
                // verification failure, never forgiven as a transport error.
                s => Outcome::Done(SourceAnswer::Invalid(format!(
                    "{url}: {s}{}",
                    oci_error_codes(resp).await
                ))),
            };
        }
    }

    /// Basic credentials for a registry already known to want them, so a
    /// repeat request costs no 401 round trip.
    async fn preemptive_basic(&self, registry: &str, access: &Access) -> Option<String> {
        if !self.basic_registries.lock().ok()?.contains(registry) {
            return None;
        }
        self.credential(registry, access).await.map(|c| basic(&c))
    }

    fn cached_token(&self, registry: &str, repo: &str, access: &Access) -> Option<String> {
        let tokens = self.tokens.lock().ok()?;
        let (t, exp) = tokens.get(&token_key(registry, repo, access))?;
        (Instant::now() < *exp).then(|| t.clone())
    }

    /// Answers a challenge: basic credentials, or a bearer token from the realm.
    async fn authorize(
        &self,
        registry: &str,
        repo: &str,
        challenge: Option<Challenge>,
        access: &Access,
    ) -> Result<Option<String>, String> {
        let cred = self.credential(registry, access).await;
        let remember_basic = || {
            if let Ok(mut m) = self.basic_registries.lock() {
                m.insert(registry.to_string());
            }
        };
        let Some(ch) = challenge else {
            return Ok(cred.map(|c| basic(&c)));
        };
        match ch.scheme.as_str() {
            "basic" => {
                if cred.is_some() {
                    remember_basic();
                }
                Ok(cred.map(|c| basic(&c)))
            }
            "bearer" => {
                let realm = ch
                    .params
                    .get("realm")
                    .ok_or("bearer challenge without realm")?;
                // Credentials go to the token service only over https, unless
                // the registry itself was allowed plain http.
                let plain_ok = self.scheme(registry, access).await == "http";
                if !(realm.starts_with("https://") || (plain_ok && realm.starts_with("http://"))) {
                    return Err(format!(
                        "token realm {realm:?} refused: credentials are sent over https only"
                    ));
                }
                let mut req = self.http.get(realm);
                let mut query: Vec<(&str, String)> =
                    vec![("scope", format!("repository:{repo}:pull"))];
                if let Some(s) = ch.params.get("service") {
                    query.push(("service", s.clone()));
                }
                req = req.query(&query);
                if let Some(c) = &cred {
                    req = req.basic_auth(&c.username, Some(&c.password));
                }
                let resp = req.send().await.map_err(|e| {
                    self.metrics.request("token", "error");
                    format!("token request to {realm}: {}", error_chain(&e))
                })?;
                self.metrics.request("token", resp.status().as_str());
                if !resp.status().is_success() {
                    return Err(format!("token request to {realm}: {}", resp.status()));
                }
                let body = read_limited(resp, 1024 * 1024)
                    .await
                    .map_err(|e| format!("token response: {e}"))?;
                #[derive(serde::Deserialize)]
                struct Token {
                    #[serde(default)]
                    token: Option<String>,
                    #[serde(default)]
                    access_token: Option<String>,
                    #[serde(default)]
                    expires_in: Option<u64>,
                }
                let t: Token =
                    serde_json::from_slice(&body).map_err(|e| format!("token response: {e}"))?;
                let token = t
                    .token
                    .or(t.access_token)
                    .ok_or("token response without token")?;
                let header = format!("Bearer {token}");
                let ttl = Duration::from_secs(t.expires_in.unwrap_or(60).clamp(10, 3600) - 5);
                if let Ok(mut m) = self.tokens.lock() {
                    m.insert(
                        token_key(registry, repo, access),
                        (header.clone(), Instant::now() + ttl),
                    );
                }
                Ok(Some(header))
            }
            other => Err(format!("unsupported auth scheme {other}")),
        }
    }
}

/// Tokens are per registry, repository and the credentials that obtained
/// them (pull secrets and service account).
fn token_key(registry: &str, repo: &str, access: &Access) -> (String, String, Vec<String>) {
    let mut credentials = access.secrets.clone();
    if let Some(sa) = &access.service_account {
        credentials.push(format!("serviceaccount:{sa}"));
    }
    (registry.to_string(), repo.to_string(), credentials)
}

fn basic(c: &Credential) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", c.username, c.password))
    )
}

fn retry_after(h: &HeaderMap) -> Option<Duration> {
    h.get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// ` (OCI error CODE, …)` from a registry's error body, or nothing. Only the
/// error codes are kept (upper-case words): a registry's free text never
/// reaches a denial message.
async fn oci_error_codes(resp: reqwest::Response) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        #[serde(default)]
        errors: Vec<ErrorEntry>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorEntry {
        #[serde(default)]
        code: String,
    }
    let Ok(body) = read_limited(resp, 16 * 1024).await else {
        return String::new();
    };
    // The first JSON value of the body; anything after it is ignored.
    let codes: Vec<String> = serde_json::Deserializer::from_slice(&body)
        .into_iter::<Errors>()
        .next()
        .and_then(Result::ok)
        .map(|e| e.errors)
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.code)
        .filter(|c| {
            !c.is_empty() && c.len() <= 64 && c.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
        })
        .take(4)
        .collect();
    if codes.is_empty() {
        String::new()
    } else {
        format!(" (OCI error {})", codes.join(", "))
    }
}

/// Why a body could not be read.
#[derive(Debug)]
enum ReadError {
    /// Over the limit: the registry's bytes are unusable.
    TooLarge(String),
    /// The connection failed while reading.
    Transport(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::TooLarge(m) | ReadError::Transport(m) => f.write_str(m),
        }
    }
}

/// Reads a body, refusing more than `max` bytes (checked while streaming).
async fn read_limited(mut resp: reqwest::Response, max: usize) -> Result<Vec<u8>, ReadError> {
    if let Some(len) = resp
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > max as u64
    {
        return Err(ReadError::TooLarge(format!(
            "response of {len} bytes is over the limit of {max}"
        )));
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| ReadError::Transport(error_chain(&e)))?
    {
        if out.len() + chunk.len() > max {
            return Err(ReadError::TooLarge(format!(
                "response is over the limit of {max} bytes"
            )));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}
