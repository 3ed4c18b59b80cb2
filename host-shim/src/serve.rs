//! `imgverify serve`: the HTTPS admission webhook.
//!
//! AdmissionReview `admission.k8s.io/v1` on `/mutate` (digest patches and
//! annotations) and `/validate`; `/healthz`, `/readyz`, Prometheus
//! `/metrics`. Each admission gets a deadline under the policies'
//! `timeoutSeconds`; what does not finish in time gets the failurePolicy.
//! Policies and the TLS certificate are reloaded when their files change,
//! without dropping requests; SIGTERM drains connections before exiting.

use crate::apply::{self, Loaded};
use crate::cache::CachingSource;
use crate::inputs::{self, NamedText};
use crate::metrics::{AdmissionLabels, Metrics};
use crate::registry::RegistryClient;
use crate::registry::config::RegistryConfig;
use crate::runner::ModuleRunner;
use crate::source::{ArtifactSource, OciLayouts};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use imgverify::policy::compiled::FailurePolicy;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};
use tokio_rustls::TlsAcceptor;

/// `imgverify serve` flags.
#[derive(clap::Args, Clone, Debug)]
pub struct ServeArgs {
    /// Policy files or folders (reloaded when they change).
    #[arg(long = "policy", short = 'p', required = true)]
    pub policies: Vec<String>,
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
    /// How often to check policy and certificate files for changes, seconds.
    #[arg(long = "reload-interval", default_value_t = 2)]
    pub reload_interval: u64,
    /// Time kept back from the webhook timeout for the response, milliseconds.
    #[arg(long = "deadline-margin-ms", default_value_t = 500)]
    pub deadline_margin_ms: u64,
    /// Log format: `json`, `text` or `none`.
    #[arg(long = "log-format", default_value = "json")]
    pub log_format: String,
}

/// A compiled policy set with a pool of module instances that hold it.
pub struct Generation {
    runner: ModuleRunner,
    texts: Vec<NamedText>,
    pool: Mutex<Vec<Loaded>>,
    /// The smallest `timeoutSeconds` of the policies (10 s default).
    pub timeout: Duration,
    /// Fail if any policy says Fail.
    pub failure_policy: FailurePolicy,
    fingerprint: Vec<(PathBuf, SystemTime, u64)>,
}

impl Generation {
    fn load(runner: &ModuleRunner, paths: &[String]) -> Result<Self, String> {
        let fingerprint = fingerprint(paths);
        let texts = inputs::read_all(paths, apply::TEST_FILE_NAMES).map_err(|e| e.to_string())?;
        let sources: Vec<(&str, &str)> = texts
            .iter()
            .map(|t| (t.name.as_str(), t.text.as_str()))
            .collect();
        // Compiled natively too, to read webhook settings and fail fast on errors.
        let native = imgverify::Engine::compile_with(&sources, &Default::default())
            .map_err(|e| e.to_string())?;
        let timeout = native
            .policies()
            .iter()
            .map(|p| p.timeout_seconds)
            .min()
            .unwrap_or(10);
        let failure_policy = if native
            .policies()
            .iter()
            .all(|p| p.failure_policy == FailurePolicy::Ignore)
            && !native.policies().is_empty()
        {
            FailurePolicy::Ignore
        } else {
            FailurePolicy::Fail
        };
        let first = apply::load_policies(runner, &texts).map_err(|e| e.to_string())?;
        Ok(Generation {
            runner: runner.clone(),
            texts,
            pool: Mutex::new(vec![first]),
            timeout: Duration::from_secs(u64::from(timeout)),
            failure_policy,
            fingerprint,
        })
    }

    fn take(&self) -> Result<Loaded, String> {
        if let Some(l) = self.pool.lock().ok().and_then(|mut p| p.pop()) {
            return Ok(l);
        }
        apply::load_policies(&self.runner, &self.texts).map_err(|e| e.to_string())
    }

    fn give_back(&self, l: Loaded) {
        if let Ok(mut p) = self.pool.lock()
            && p.len() < 64
        {
            p.push(l);
        }
    }
}

fn fingerprint(paths: &[String]) -> Vec<(PathBuf, SystemTime, u64)> {
    fn walk(p: &std::path::Path, out: &mut Vec<(PathBuf, SystemTime, u64)>) {
        if let Ok(m) = std::fs::metadata(p) {
            if m.is_dir() {
                if let Ok(rd) = std::fs::read_dir(p) {
                    let mut entries: Vec<PathBuf> =
                        rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
                    entries.sort();
                    for e in entries {
                        walk(&e, out);
                    }
                }
            } else {
                out.push((
                    p.to_path_buf(),
                    m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                    m.len(),
                ));
            }
        }
    }
    let mut out = Vec::new();
    for p in paths {
        walk(std::path::Path::new(p), &mut out);
    }
    out
}

/// Shared server state.
pub struct AppState {
    generation: RwLock<Arc<Generation>>,
    source: Arc<dyn ArtifactSource>,
    /// Metrics.
    pub metrics: Metrics,
    ready: AtomicBool,
    margin: Duration,
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

/// Builds the router (exposed for tests that serve it themselves).
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/mutate", post(mutate))
        .route("/validate", post(validate))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(axum::extract::DefaultBodyLimit::max(
            imgverify::limits::MAX_REQUEST_BYTES,
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

fn review(uid: &str, response: Value) -> Response {
    let mut r = response;
    r["uid"] = json!(uid);
    axum::Json(
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": r}),
    )
    .into_response()
}

async fn admit(s: Arc<AppState>, body: axum::body::Bytes, mutating: bool) -> Response {
    let start = Instant::now();
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
    let review_in: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            count("error");
            return (
                StatusCode::BAD_REQUEST,
                format!("invalid AdmissionReview: {e}"),
            )
                .into_response();
        }
    };
    let Some(req) = review_in.get("request") else {
        count("error");
        return (StatusCode::BAD_REQUEST, "AdmissionReview without request").into_response();
    };
    let uid = req
        .get("uid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let operation = req
        .get("operation")
        .and_then(Value::as_str)
        .unwrap_or("CREATE")
        .to_string();
    let object = match req.get("object").filter(|o| o.is_object()) {
        Some(o) => o.clone(),
        None => {
            // DELETE and CONNECT carry no object to verify.
            count("allowed");
            return review(&uid, json!({"allowed": true}));
        }
    };
    let user = req.get("userInfo").map(|u| json!({"username": u.get("username"), "groups": u.get("groups").cloned().unwrap_or(json!([]))}));
    let generation = match s.generation.read() {
        Ok(g) => g.clone(),
        Err(_) => {
            count("error");
            return (StatusCode::INTERNAL_SERVER_ERROR, "state lock poisoned").into_response();
        }
    };
    let deadline = start + generation.timeout.saturating_sub(s.margin);
    let request = json!({"operation": operation, "object": object, "oldObject": req.get("oldObject"), "userInfo": user});
    let request = serde_json::to_vec(&request).unwrap_or_default();
    let (g2, source) = (generation.clone(), s.source.clone());
    let work = tokio::task::spawn_blocking(move || {
        let mut loaded = g2.take()?;
        let r = loaded.decide_bytes(&request, source.as_ref(), Some(deadline));
        // An instance that trapped (fuel, memory) is dropped, not reused.
        if r.is_ok() {
            g2.give_back(loaded);
        }
        r.map_err(|e| e.to_string())
    });
    let outcome = match tokio::time::timeout_at(
        tokio::time::Instant::from_std(deadline + s.margin / 2),
        work,
    )
    .await
    {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => Err(format!("verification task failed: {e}")),
        Err(_) => Err(format!(
            "image verification did not finish within {:?}",
            generation.timeout.saturating_sub(s.margin)
        )),
    };
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
            tracing::info!(uid = %uid, path, allowed = d.allowed, ms = start.elapsed().as_millis() as u64, results = d.results.len(), "admission");
            count(if d.allowed { "allowed" } else { "denied" });
            review(&uid, resp)
        }
        Err(e) => {
            let fail = generation.failure_policy == FailurePolicy::Fail;
            tracing::warn!(uid = %uid, path, error = %e, failure_policy = ?generation.failure_policy, "admission error");
            count("error");
            if fail {
                review(
                    &uid,
                    json!({"allowed": false, "status": {"code": 500, "message": format!("imgverify: {e} (failurePolicy Fail)")}}),
                )
            } else {
                review(
                    &uid,
                    json!({"allowed": true, "warnings": [format!("imgverify: {e}; allowed by failurePolicy Ignore")]}),
                )
            }
        }
    }
}

fn build_source(
    args: &ServeArgs,
    metrics: &Metrics,
    rt: &tokio::runtime::Handle,
) -> Result<Arc<dyn ArtifactSource>, String> {
    if !args.oci_layouts.is_empty() {
        let mut l = OciLayouts::default();
        for s in &args.oci_layouts {
            l.add(s).map_err(|e| e.to_string())?;
        }
        return Ok(Arc::new(l));
    }
    let config = match &args.registry_config {
        Some(p) => RegistryConfig::load(p)?,
        None => RegistryConfig::default(),
    };
    let client = Arc::new(RegistryClient::new(config.clone(), metrics.clone())?);
    Ok(Arc::new(CachingSource::new(
        client,
        &config.cache,
        metrics.clone(),
        rt.clone(),
    )?))
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

/// Serves until `shutdown` completes, then drains connections.
pub async fn serve(
    args: ServeArgs,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), String> {
    init_logs(&args.log_format);
    let metrics = Metrics::new();
    let runner = ModuleRunner::new().map_err(|e| e.to_string())?;
    let generation = Generation::load(&runner, &args.policies)?;
    let source = build_source(&args, &metrics, &tokio::runtime::Handle::current())?;
    let state = Arc::new(AppState {
        generation: RwLock::new(Arc::new(generation)),
        source,
        metrics,
        ready: AtomicBool::new(true),
        margin: Duration::from_millis(args.deadline_margin_ms),
    });
    let acceptor = Arc::new(RwLock::new(tls_acceptor(&args.tls_cert, &args.tls_key)?));
    let cert_paths = vec![args.tls_cert.clone(), args.tls_key.clone()];
    // Reloader: policies and certificate, polled.
    {
        let (state, acceptor, args, runner) = (
            state.clone(),
            acceptor.clone(),
            args.clone(),
            runner.clone(),
        );
        let mut cert_fp = fingerprint(&cert_paths);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(args.reload_interval.max(1)));
            loop {
                tick.tick().await;
                let current = state
                    .generation
                    .read()
                    .map(|g| g.fingerprint.clone())
                    .unwrap_or_default();
                if fingerprint(&args.policies) != current {
                    let (r, p) = (runner.clone(), args.policies.clone());
                    match tokio::task::spawn_blocking(move || Generation::load(&r, &p)).await {
                        Ok(Ok(g)) => {
                            if let Ok(mut w) = state.generation.write() {
                                *w = Arc::new(g);
                            }
                            tracing::info!("policies reloaded");
                        }
                        Ok(Err(e)) => {
                            tracing::error!(error = %e, "policy reload failed; keeping the previous policies")
                        }
                        Err(e) => tracing::error!(error = %e, "policy reload task failed"),
                    }
                }
                let fp = fingerprint(&cert_paths);
                if fp != cert_fp {
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
            }
        });
    }
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| format!("{}: {e}", args.listen))?;
    tracing::info!(listen = %args.listen, "serving");
    let app = router(state.clone());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
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
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(Duration::from_secs(10), tls.accept(tcp)).await
            {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => return,
            };
            let service = hyper_util::service::TowerToHyperService::new(app);
            let builder =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
            let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let _ = watcher.watch(conn.into_owned()).await;
        });
    }
    state.ready.store(false, Ordering::SeqCst);
    tracing::info!("shutting down: draining connections");
    let _ = tokio::time::timeout(Duration::from_secs(30), graceful.shutdown()).await;
    Ok(())
}
