//! `imgverify serve`: the HTTPS admission webhook.
//!
//! AdmissionReview `admission.k8s.io/v1` on `/mutate` (digest patches and
//! annotations) and `/validate`; `/healthz`, `/readyz`, Prometheus
//! `/metrics`. Each admission gets a deadline under the policies'
//! `timeoutSeconds`; only a deadline or a transport failure gets the
//! failurePolicy, while everything the request or its artifacts caused is
//! denied. Namespace labels and user roles come from the cluster when the
//! policies need them. Policies and the TLS certificate are reloaded when
//! their files change, without dropping requests; SIGTERM drains connections.

pub mod background;
pub mod listener;
pub mod pool;

use crate::cache::CachingSource;
use crate::cluster::Cluster;
use crate::metrics::{AdmissionLabels, Metrics};
use crate::registry::RegistryClient;
use crate::registry::config::RegistryConfig;
use crate::runner::{MEMORY_LIMIT_BYTES, ModuleRunner};
use crate::source::{ArtifactSource, OciLayouts};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use imgverify::admission as review;
use imgverify::policy::compiled::FailurePolicy;
use listener::{AcceptBackoff, Activity, Limits};
use pool::{Generation, fingerprint};
use serde_json::{Value, json};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

/// Keeping the trusted root current from a TUF repository.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct TufArgs {
    /// A TUF repository's metadata URL whose `trusted_root.json` target
    /// replaces the embedded public-good root (targets under `targets/`).
    #[arg(long = "tuf-mirror", value_name = "URL", requires = "tuf_root")]
    pub tuf_mirror: Option<String>,
    /// The TUF `root.json` trusted to start from.
    #[arg(long = "tuf-root", value_name = "FILE", requires = "tuf_mirror")]
    pub tuf_root: Option<String>,
    /// Where verified TUF metadata and the last verified trusted root are
    /// kept (a restart verifies offline from it).
    #[arg(
        long = "tuf-cache",
        value_name = "DIR",
        default_value = ".imgverify-tuf"
    )]
    pub tuf_cache: String,
}

impl TufArgs {
    /// Takes the registry configuration's `tuf` (into these flags) or
    /// `trustedRoot` (into `trusted_root`) when the command line gives
    /// neither a trusted root nor a mirror.
    pub fn or_config(
        &mut self,
        trusted_root: &mut Option<String>,
        config: &crate::registry::config::RegistryConfig,
    ) {
        if trusted_root.is_some() || self.tuf_mirror.is_some() {
            return;
        }
        if let Some(t) = &config.tuf {
            self.tuf_mirror = Some(t.mirror.clone());
            self.tuf_root = Some(t.root.clone());
            if let Some(c) = &t.cache {
                self.tuf_cache = c.clone();
            }
        } else {
            trusted_root.clone_from(&config.trusted_root);
        }
    }

    /// The TUF settings, when a mirror is given.
    pub fn config(&self) -> Result<Option<crate::tuf::TufConfig>, crate::tuf::TufError> {
        match (&self.tuf_mirror, &self.tuf_root) {
            (Some(m), Some(r)) => crate::tuf::TufConfig::new(m, r, &self.tuf_cache).map(Some),
            _ => Ok(None),
        }
    }
}

/// `imgverify serve` flags.
#[derive(clap::Args, Clone, Debug)]
pub struct ServeArgs {
    /// Policy files or folders (reloaded when they change).
    #[arg(long = "policy", short = 'p', required = true)]
    pub policies: Vec<String>,
    /// PolicyException files or folders (Kyverno's `kyverno.io/v2`
    /// kinds and CEL `policies.kyverno.io` ones; repeatable,
    /// comma-separated), reloaded with the policies.
    #[arg(
        long = "exception",
        visible_alias = "exceptions",
        value_delimiter = ','
    )]
    pub exceptions: Vec<String>,
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0:9443")]
    pub listen: String,
    /// TLS certificate chain (PEM), reloaded when it changes.
    #[arg(long = "tls-cert", required = true)]
    pub tls_cert: String,
    /// TLS private key (PEM), reloaded when it changes.
    #[arg(long = "tls-key", required = true)]
    pub tls_key: String,
    /// Registry client settings (YAML/JSON).
    #[arg(long = "registry-config")]
    pub registry_config: Option<String>,
    /// Serve artifacts from OCI layouts instead of registries (demos, air gaps).
    #[arg(long = "oci-layout")]
    pub oci_layouts: Vec<String>,
    /// A `trusted_root.json` replacing the embedded Sigstore public-good
    /// root (reloaded with the policies when it changes).
    #[arg(
        long = "trusted-root",
        value_name = "FILE",
        conflicts_with = "tuf_mirror"
    )]
    pub trusted_root: Option<String>,
    #[command(flatten)]
    pub tuf: TufArgs,
    /// How often to refresh the trusted root from the TUF mirror, seconds.
    #[arg(long = "tuf-refresh-interval", default_value_t = 3600)]
    pub tuf_refresh_interval: u64,
    /// kubeconfig for namespace labels and user roles (default: the
    /// in-cluster service account, else KUBECONFIG or ~/.kube/config).
    /// Used only when a policy needs them.
    #[arg(long)]
    pub kubeconfig: Option<String>,
    /// How often to check policy and certificate files for changes, seconds.
    #[arg(long = "reload-interval", default_value_t = 2)]
    pub reload_interval: u64,
    /// Time kept back from the webhook timeout for the response, milliseconds.
    #[arg(long = "deadline-margin-ms", default_value_t = 500)]
    pub deadline_margin_ms: u64,
    /// Memory budget for engine instances, MiB: at most budget / 512 MiB
    /// instances live at once (at least one).
    #[arg(long = "instance-memory-mib", default_value_t = 2048)]
    pub instance_memory_mib: usize,
    /// Most connections open at once.
    #[arg(long = "max-connections", default_value_t = 1024)]
    pub max_connections: usize,
    /// Seconds a client has to send a request's headers (also bounds idle keep-alive).
    #[arg(long = "header-timeout-seconds", default_value_t = 10)]
    pub header_timeout_seconds: u64,
    /// Seconds a connection may stay without traffic.
    #[arg(long = "idle-timeout-seconds", default_value_t = 90)]
    pub idle_timeout_seconds: u64,
    /// Seconds a whole request may take, reading its body included.
    #[arg(long = "request-timeout-seconds", default_value_t = 45)]
    pub request_timeout_seconds: u64,
    /// Log format: `json`, `text` or `none`.
    #[arg(long = "log-format", default_value = "json")]
    pub log_format: String,
    /// How often to evaluate the policies with `background: true` against
    /// the Pods and pod controllers in the cluster and write PolicyReports,
    /// seconds (0: never). Needs a cluster connection (in-cluster, or
    /// `--kubeconfig`); one replica scans at a time (a Lease elects it).
    #[arg(long = "background-scan-interval", default_value_t = 3600)]
    pub background_scan_interval: u64,
    /// The reports background scans write: `openreports`
    /// (openreports.io/v1alpha1 Report and ClusterReport, as current Kyverno
    /// writes them) or `wgpolicyk8s` (wgpolicyk8s.io/v1alpha2 PolicyReport
    /// and ClusterPolicyReport).
    #[arg(long = "report-api", default_value = "openreports", value_parser = ["openreports", "wgpolicyk8s"])]
    pub report_api: String,
    /// Seconds the background scan Lease is held without renewal before
    /// another replica may take it.
    #[arg(long = "lease-duration-seconds", default_value_t = 15)]
    pub lease_duration_seconds: u64,
    /// This replica's name in the Lease (default: `POD_NAME`, else the host
    /// name and process id).
    #[arg(long = "lease-identity")]
    pub lease_identity: Option<String>,
}

impl ServeArgs {
    /// The flags' defaults with the required values given (for tests and
    /// embedding): the same defaults as the command line.
    pub fn new(policies: Vec<String>, tls_cert: String, tls_key: String) -> Self {
        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            args: ServeArgs,
        }
        let mut argv = vec!["serve".to_string()];
        for p in policies {
            argv.extend(["--policy".to_string(), p]);
        }
        argv.extend([
            "--tls-cert".to_string(),
            tls_cert,
            "--tls-key".to_string(),
            tls_key,
        ]);
        <Wrapper as clap::Parser>::parse_from(argv).args
    }

    /// The files a policy generation is made from: the policies, the
    /// exceptions and the trusted root.
    fn generation_files(&self) -> Vec<String> {
        let mut files = self.policies.clone();
        files.extend(self.exceptions.iter().cloned());
        files.extend(self.trusted_root.iter().cloned());
        files
    }

    fn instances(&self) -> usize {
        (self.instance_memory_mib / (MEMORY_LIMIT_BYTES >> 20)).max(1)
    }

    fn limits(&self) -> Limits {
        Limits {
            max_connections: self.max_connections.max(1),
            header_read: Duration::from_secs(self.header_timeout_seconds.max(1)),
            idle: Duration::from_secs(self.idle_timeout_seconds.max(1)),
            request: Duration::from_secs(self.request_timeout_seconds.max(1)),
            ..Limits::default()
        }
    }
}

/// Shared server state.
pub struct AppState {
    generation: RwLock<Arc<Generation>>,
    source: Arc<dyn ArtifactSource>,
    cluster: RwLock<Option<Arc<Cluster>>>,
    /// Metrics.
    pub metrics: Metrics,
    ready: AtomicBool,
    margin: Duration,
    /// Admissions being answered: a background scan gives way to them.
    admissions_in_flight: std::sync::atomic::AtomicUsize,
}

/// Counts an admission in flight while it lives.
struct InFlight<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> InFlight<'a> {
    fn new(n: &'a std::sync::atomic::AtomicUsize) -> Self {
        n.fetch_add(1, Ordering::SeqCst);
        InFlight(n)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Loads the TLS certificate and key into an acceptor.
pub fn tls_acceptor(cert: &str, key: &str) -> Result<TlsAcceptor, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("{cert}: {e}"))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{cert}: {e}"))?;
    if certs.is_empty() {
        return Err(format!("{cert}: no certificate"));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{key}: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| e.to_string())?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Builds the router (exposed for tests that serve it themselves): each
/// request waits for one of `limits.max_requests` slots before its body is
/// read, and gets `limits.request` to finish.
pub fn router(state: Arc<AppState>, limits: &Limits) -> Router {
    let request_timeout = limits.request;
    let slots = Arc::new(Semaphore::new(limits.max_requests.max(1)));
    Router::new()
        .route("/mutate", post(mutate))
        .route("/validate", post(validate))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(axum::extract::DefaultBodyLimit::max(
            imgverify::limits::MAX_REQUEST_BYTES,
        ))
        // Bounds reading a slow body as well as answering.
        .layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                let slots = slots.clone();
                async move {
                    let work = async {
                        let _slot = slots.acquire_owned().await;
                        next.run(req).await
                    };
                    match tokio::time::timeout(request_timeout, work).await {
                        Ok(r) => r,
                        Err(_) => {
                            (StatusCode::REQUEST_TIMEOUT, "request took too long").into_response()
                        }
                    }
                }
            },
        ))
        .with_state(state)
}

async fn readyz(State(s): State<Arc<AppState>>) -> Response {
    if s.ready.load(Ordering::SeqCst) {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready").into_response()
    }
}

async fn metrics(State(s): State<Arc<AppState>>) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        s.metrics.encode(),
    )
        .into_response()
}

async fn mutate(State(s): State<Arc<AppState>>, body: axum::body::Bytes) -> Response {
    admit(s, body, true).await
}

async fn validate(State(s): State<Arc<AppState>>, body: axum::body::Bytes) -> Response {
    admit(s, body, false).await
}

fn review_response(uid: &str, response: Value) -> Response {
    let mut r = response;
    r["uid"] = json!(uid);
    axum::Json(
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": r}),
    )
    .into_response()
}

/// Why an admission could not be decided.
enum Undecided {
    /// A deadline or transport failure: the failurePolicy applies.
    Forgivable(String),
    /// Caused by the request or its artifacts: denied whatever the failurePolicy.
    Denied(String),
}

async fn admit(s: Arc<AppState>, body: axum::body::Bytes, mutating: bool) -> Response {
    let start = Instant::now();
    let _in_flight = InFlight::new(&s.admissions_in_flight);
    let path = if mutating { "/mutate" } else { "/validate" };
    let count = |decision: &str| {
        s.metrics
            .admissions
            .get_or_create(&AdmissionLabels {
                path: path.into(),
                decision: decision.into(),
            })
            .inc();
        s.metrics
            .admission_seconds
            .observe(start.elapsed().as_secs_f64());
    };
    let req = match review::parse(&body) {
        Ok(r) => r,
        Err(e) => {
            count("error");
            tracing::warn!(path, error = %e, "refused a request that is not an AdmissionReview");
            return (StatusCode::BAD_REQUEST, e.to_string()).into_response();
        }
    };
    let Some(object) = req.object.clone() else {
        // DELETE and CONNECT carry no object whose images could run.
        count("allowed");
        return review_response(&req.uid, json!({"allowed": true}));
    };
    let generation = match s.generation.read() {
        Ok(g) => g.clone(),
        Err(_) => {
            count("error");
            return (StatusCode::INTERNAL_SERVER_ERROR, "state lock poisoned").into_response();
        }
    };
    let deadline = start + generation.timeout.saturating_sub(s.margin);
    let outcome = decide(&s, &generation, &req, object, mutating, deadline).await;
    match outcome {
        Ok(d) => {
            let mut resp = json!({"allowed": d.allowed});
            if !d.allowed {
                resp["status"] = json!({"code": 403, "reason": "Forbidden", "message": d.message});
            }
            if !d.warnings.is_empty() {
                resp["warnings"] = json!(d.warnings);
            }
            if mutating && d.allowed && !d.patches.is_empty() {
                let patch = serde_json::to_vec(&d.patches).unwrap_or_default();
                resp["patchType"] = json!("JSONPatch");
                resp["patch"] = json!(base64::engine::general_purpose::STANDARD.encode(patch));
            }
            tracing::info!(uid = %req.uid, path, allowed = d.allowed, ms = start.elapsed().as_millis() as u64, results = d.results.len(), "admission");
            count(if d.allowed { "allowed" } else { "denied" });
            review_response(&req.uid, resp)
        }
        Err(Undecided::Denied(e)) => {
            tracing::warn!(uid = %req.uid, path, error = %e, "admission denied: verification could not complete on this request's content");
            count("denied");
            review_response(
                &req.uid,
                json!({"allowed": false, "status": {"code": 403, "reason": "Forbidden", "message": format!("imgverify: {e}; denied whatever the failurePolicy")}}),
            )
        }
        Err(Undecided::Forgivable(e)) => {
            let fail = generation.failure_policy == FailurePolicy::Fail;
            tracing::warn!(uid = %req.uid, path, error = %e, failure_policy = ?generation.failure_policy, "admission error");
            count("error");
            if fail {
                review_response(
                    &req.uid,
                    json!({"allowed": false, "status": {"code": 500, "message": format!("imgverify: {e} (failurePolicy Fail)")}}),
                )
            } else {
                review_response(
                    &req.uid,
                    json!({"allowed": true, "warnings": [format!("imgverify: {e}; allowed by failurePolicy Ignore")]}),
                )
            }
        }
    }
}

/// Builds the engine request (with cluster context) and runs it in a pooled
/// instance before `deadline`.
async fn decide(
    s: &Arc<AppState>,
    generation: &Arc<Generation>,
    req: &review::AdmissionRequest,
    object: Value,
    mutating: bool,
    deadline: Instant,
) -> Result<imgverify::decision::Decision, Undecided> {
    let mut user = json!({"username": req.username, "groups": req.groups});
    let mut request = json!({
        "operation": req.operation,
        "object": object,
        "oldObject": req.old_object,
        "phase": if mutating { "mutate" } else { "validate" },
        "admission": req.details,
        "now": time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .ok(),
    });
    let cluster = s.cluster.read().ok().and_then(|c| c.clone());
    if let Some(c) = &cluster {
        let roles = c.roles(&req.username, &req.groups, &req.namespace);
        user["roles"] = json!(roles.roles);
        user["clusterRoles"] = json!(roles.cluster_roles);
        if !req.namespace.is_empty() {
            let labels =
                c.namespace_labels(&req.namespace, deadline)
                    .await
                    .map_err(|e| match e {
                        crate::cluster::NamespaceError::Transport(m) => Undecided::Forgivable(m),
                        crate::cluster::NamespaceError::Missing(m) => Undecided::Denied(m),
                    })?;
            request["namespaceLabels"] = json!(labels);
        }
    }
    request["userInfo"] = user;
    run_request(s, generation, &request, cluster, deadline).await
}

/// Runs an engine request in a pooled instance of `generation` before
/// `deadline`, with the cluster (when connected) answering its API reads.
async fn run_request(
    s: &Arc<AppState>,
    generation: &Arc<Generation>,
    request: &Value,
    cluster: Option<Arc<Cluster>>,
    deadline: Instant,
) -> Result<imgverify::decision::Decision, Undecided> {
    let request = serde_json::to_vec(request).unwrap_or_default();
    let mut pooled = generation.take(deadline).await.map_err(|e| match e {
        pool::TakeError::Deadline => Undecided::Forgivable(e.to_string()),
        pool::TakeError::Load(m) => Undecided::Denied(m),
    })?;
    let (g2, source) = (
        generation.clone(),
        crate::source::WithKubeApi {
            inner: s.source.clone(),
            kube: crate::cluster::LiveKubeApi {
                cluster: cluster.clone(),
                runtime: tokio::runtime::Handle::current(),
            },
        },
    );
    let work = tokio::task::spawn_blocking(move || {
        let r = pooled
            .loaded
            .decide_bytes(&request, &source, Some(deadline));
        // An instance that trapped (fuel, memory, deadline) is dropped, not reused.
        g2.give_back(pooled, r.is_ok());
        r
    });
    match tokio::time::timeout_at(
        tokio::time::Instant::from_std(deadline + s.margin / 2),
        work,
    )
    .await
    {
        Ok(Ok(Ok(d))) => Ok(d),
        Ok(Ok(Err(e))) if e.is_deadline() => Err(Undecided::Forgivable(e.to_string())),
        Ok(Ok(Err(e))) => Err(Undecided::Denied(e.to_string())),
        Ok(Err(e)) => Err(Undecided::Denied(format!("verification task failed: {e}"))),
        Err(_) => Err(Undecided::Forgivable(format!(
            "image verification did not finish within {:?}",
            generation.timeout.saturating_sub(s.margin)
        ))),
    }
}

/// The artifact source, and the registry client behind it (none for OCI
/// layouts).
type Sources = (Arc<dyn ArtifactSource>, Option<Arc<RegistryClient>>);

fn build_source(
    args: &ServeArgs,
    metrics: &Metrics,
    rt: &tokio::runtime::Handle,
) -> Result<Sources, String> {
    if !args.oci_layouts.is_empty() {
        let mut l = OciLayouts::default();
        for s in &args.oci_layouts {
            l.add(s).map_err(|e| e.to_string())?;
        }
        return Ok((Arc::new(l), None));
    }
    let config = match &args.registry_config {
        Some(p) => RegistryConfig::load(p)?,
        None => RegistryConfig::default(),
    };
    let client = Arc::new(RegistryClient::new(config.clone(), metrics.clone())?);
    let source = CachingSource::new(client.clone(), &config.cache, metrics.clone(), rt.clone())?;
    Ok((Arc::new(source), Some(client)))
}

/// A client for the cluster imgverify reads pull secrets from and scans:
/// the policies' cluster connection when there is one, else when imgverify
/// runs in a cluster or `--kubeconfig` names one (a local `serve` without
/// either has none).
async fn cluster_client(
    cluster: Option<Arc<Cluster>>,
    kubeconfig: Option<&str>,
) -> Option<kube::Client> {
    match cluster {
        Some(c) => Some(c.client()),
        None => {
            let config = match kubeconfig {
                Some(_) => crate::cluster::config(kubeconfig).await.ok(),
                None => kube::Config::incluster().ok(),
            };
            config.and_then(|c| crate::cluster::client(c).ok())
        }
    }
}

/// Runs the server until SIGTERM / Ctrl-C.
pub fn run(args: ServeArgs) -> Result<ExitCode, String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(serve(args, shutdown_signal()))?;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn init_logs(format: &str) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        "none" => Ok(()),
        "json" => builder.json().try_init(),
        _ => builder.try_init(),
    };
}

fn log_lints(g: &Generation) {
    for l in g.lints.as_array().into_iter().flatten() {
        let s = |k: &str| l.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        tracing::warn!(document = %s("document"), path = %s("path"), "policy lint: {}", s("message"));
    }
}

/// The fields needing cluster context, one per line.
fn describe_needs(needs: &Value) -> Vec<String> {
    needs
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| {
            let s = |k: &str| n.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let what = match s("kind").as_str() {
                "namespaceLabels" => "namespace labels",
                "kubeApi" => "the Kubernetes API",
                _ => "the user's roles",
            };
            if s("rule").is_empty() {
                format!("policy {} field {} needs {what}", s("policy"), s("field"))
            } else {
                format!(
                    "policy {} rule {} field {} needs {what}",
                    s("policy"),
                    s("rule"),
                    s("field")
                )
            }
        })
        .collect()
}

/// Connects to the cluster when the policies need it and it is not connected yet.
async fn ensure_cluster(
    state: &AppState,
    g: &Generation,
    kubeconfig: Option<&str>,
) -> Result<(), String> {
    let needs = describe_needs(&g.context_needs);
    if needs.is_empty() || state.cluster.read().is_ok_and(|c| c.is_some()) {
        return Ok(());
    }
    let config = crate::cluster::config(kubeconfig).await.map_err(|e| {
        format!(
            "{}; but no cluster connection is configured (in-cluster service account, KUBECONFIG or --kubeconfig): {e}",
            needs.join("; ")
        )
    })?;
    let cluster = Cluster::start(config)?;
    cluster.wait_synced(Duration::from_secs(30)).await?;
    tracing::info!(needs = %needs.join("; "), "watching namespaces and role bindings");
    if let Ok(mut c) = state.cluster.write() {
        *c = Some(Arc::new(cluster));
    }
    Ok(())
}

/// Serves until `shutdown` completes, then drains connections.
pub async fn serve(
    mut args: ServeArgs,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), String> {
    init_logs(&args.log_format);
    if let Some(path) = &args.registry_config {
        let config = crate::registry::config::RegistryConfig::load(path)?;
        args.tuf.or_config(&mut args.trusted_root, &config);
    }
    // A TUF mirror keeps the trusted root file current: the policies are
    // reloaded with it whenever a refresh changes it.
    if let Some(cfg) = args.tuf.config().map_err(|e| e.to_string())? {
        let http = crate::tuf::http_client().map_err(|e| e.to_string())?;
        let (_, origin) = crate::tuf::current(&cfg, http.clone())
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(mirror = %cfg.mirror, ?origin, "trusted root from TUF");
        args.trusted_root = Some(cfg.cached_target().display().to_string());
        let every = Duration::from_secs(args.tuf_refresh_interval.max(1));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = crate::tuf::refresh(&cfg, http.clone()).await {
                    tracing::warn!(error = %e, "TUF refresh failed; keeping the current trusted root");
                }
            }
        });
    }
    let metrics = Metrics::new();
    let runner = ModuleRunner::new().map_err(|e| e.to_string())?;
    let instances = args.instances();
    let permits = Arc::new(Semaphore::new(instances));
    let generation = Generation::load(
        &runner,
        (&args.policies, &args.exceptions),
        (args.trusted_root.as_deref(), &args.tuf.tuf_cache),
        permits.clone(),
        instances,
        metrics.clone(),
    )
    .await?;
    log_lints(&generation);
    let (source, registry) = build_source(&args, &metrics, &tokio::runtime::Handle::current())?;
    let state = Arc::new(AppState {
        generation: RwLock::new(Arc::new(generation)),
        source,
        cluster: RwLock::new(None),
        metrics,
        ready: AtomicBool::new(true),
        margin: Duration::from_millis(args.deadline_margin_ms),
        admissions_in_flight: Default::default(),
    });
    {
        let g = state.generation.read().map_err(|e| e.to_string())?.clone();
        ensure_cluster(&state, &g, args.kubeconfig.as_deref()).await?;
    }
    let kube = {
        let cluster = state.cluster.read().ok().and_then(|c| c.clone());
        cluster_client(cluster, args.kubeconfig.as_deref()).await
    };
    let home = crate::pull_secrets::home_namespace();
    if let (Some(registry), Some(k)) = (&registry, &kube) {
        tracing::info!(namespace = %home, "pull secrets are read from the cluster");
        registry.use_cluster_pull_secrets(Arc::new(crate::pull_secrets::KubePullSecrets::new(
            k.clone(),
            home.clone(),
        )));
    }
    let scanner = match (&kube, args.background_scan_interval) {
        (Some(k), interval) if interval > 0 => background::start(
            state.clone(),
            k.clone(),
            background::ScanConfig {
                interval: Duration::from_secs(interval),
                api: background::ReportApi::parse(&args.report_api),
                namespace: home,
                identity: args
                    .lease_identity
                    .clone()
                    .unwrap_or_else(background::default_identity),
                lease_duration: Duration::from_secs(args.lease_duration_seconds.max(1)),
            },
        ),
        _ => Vec::new(),
    };
    let acceptor = Arc::new(RwLock::new(tls_acceptor(&args.tls_cert, &args.tls_key)?));
    let cert_paths = vec![args.tls_cert.clone(), args.tls_key.clone()];
    // Reloaders, polled: policies and the certificate each on their own, so
    // a slow policy compile never holds back a certificate rotation.
    {
        let (state, args, runner, permits) =
            (state.clone(), args.clone(), runner.clone(), permits.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(args.reload_interval.max(1)));
            // Files that failed to load are not retried until they change again.
            let mut failed: Option<pool::Fingerprint> = None;
            loop {
                tick.tick().await;
                let current = state.generation.read().map(|g| g.clone()).ok();
                let Some(current) = current else { continue };
                let now = fingerprint(&args.generation_files());
                if now == current.fingerprint || failed.as_ref() == Some(&now) {
                    continue;
                }
                // Idle instances of the current generation hold permits the
                // new one needs; busy ones free theirs when they answer.
                current.drain_idle();
                drop(current);
                let loaded = Generation::load(
                    &runner,
                    (&args.policies, &args.exceptions),
                    (args.trusted_root.as_deref(), &args.tuf.tuf_cache),
                    permits.clone(),
                    instances,
                    state.metrics.clone(),
                )
                .await;
                let loaded = match loaded {
                    Ok(g) => ensure_cluster(&state, &g, args.kubeconfig.as_deref())
                        .await
                        .map(|()| g),
                    Err(e) => Err(e),
                };
                match loaded {
                    Ok(g) => {
                        log_lints(&g);
                        if let Ok(mut w) = state.generation.write() {
                            *w = Arc::new(g);
                        }
                        tracing::info!("policies reloaded");
                    }
                    Err(e) => {
                        failed = Some(now);
                        tracing::error!(error = %e, "policy reload failed; keeping the previous policies")
                    }
                }
            }
        });
    }
    {
        let (acceptor, args) = (acceptor.clone(), args.clone());
        let mut cert_fp = fingerprint(&cert_paths);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(args.reload_interval.max(1)));
            loop {
                tick.tick().await;
                let fp = fingerprint(&cert_paths);
                if fp == cert_fp {
                    continue;
                }
                match tls_acceptor(&args.tls_cert, &args.tls_key) {
                    Ok(a) => {
                        if let Ok(mut w) = acceptor.write() {
                            *w = a;
                        }
                        cert_fp = fp;
                        tracing::info!("TLS certificate reloaded");
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "TLS reload failed; keeping the previous certificate")
                    }
                }
            }
        });
    }
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| format!("{}: {e}", args.listen))?;
    tracing::info!(listen = %args.listen, instances, "serving");
    let limits = args.limits();
    let app = router(state.clone(), &limits);
    accept_loop(listener, acceptor, app, limits, &state.metrics, shutdown).await;
    state.ready.store(false, Ordering::SeqCst);
    for task in scanner {
        task.abort();
    }
    Ok(())
}

/// Accepts connections until `shutdown`, then drains them.
async fn accept_loop(
    listener: tokio::net::TcpListener,
    acceptor: Arc<RwLock<TlsAcceptor>>,
    app: Router,
    limits: Limits,
    metrics: &Metrics,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let mut backoff = AcceptBackoff::new();
    tokio::pin!(shutdown);
    loop {
        // At the connection limit, stop accepting: clients wait in the backlog.
        let permit = tokio::select! {
            p = connections.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => {
                    backoff.succeeded();
                    c
                }
                Err(e) => {
                    let (wait, log) = backoff.failed(&e, Instant::now());
                    if let Some(line) = log {
                        tracing::warn!("{line}");
                    }
                    tokio::time::sleep(wait).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let tls = match acceptor.read() {
            Ok(a) => a.clone(),
            Err(_) => continue,
        };
        let app = app.clone();
        let watcher = graceful.watcher();
        let open = metrics.connections_open.clone();
        open.inc();
        tokio::spawn(async move {
            let _permit = permit;
            serve_connection(tcp, peer, tls, app, limits, watcher).await;
            open.dec();
        });
    }
    tracing::info!("shutting down: draining connections");
    let _ = tokio::time::timeout(Duration::from_secs(30), graceful.shutdown()).await;
}

async fn serve_connection(
    tcp: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
    tls: TlsAcceptor,
    app: Router,
    limits: Limits,
    watcher: hyper_util::server::graceful::Watcher,
) {
    let stream = match tokio::time::timeout(limits.handshake, tls.accept(tcp)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            return;
        }
    };
    let activity = Activity::new();
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            let (mut app, activity) = (app.clone(), activity.clone());
            async move {
                let _busy = activity.begin();
                tower_service::Service::call(&mut app, req.map(axum::body::Body::new)).await
            }
        })
    };
    let mut builder =
        hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_read);
    builder
        .http2()
        .timer(hyper_util::rt::TokioTimer::new())
        .max_concurrent_streams(limits.max_streams);
    let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    let conn = watcher.watch(conn.into_owned());
    tokio::pin!(conn);
    tokio::select! {
        _ = &mut conn => {}
        _ = listener::idle_timeout(activity, limits.idle) => {
            tracing::debug!(%peer, "closing an idle connection");
        }
    }
}
