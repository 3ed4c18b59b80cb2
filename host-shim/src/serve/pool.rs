//! A policy generation: the compiled policy set, its webhook settings, and a
//! pool of module instances that hold it. Live instances (idle or working,
//! across every generation) are bounded by one semaphore, so that instances
//! × the per-instance memory limit stays within the configured budget.

use crate::apply::{self, Loaded};
use crate::inputs::{self, NamedText};
use crate::metrics::Metrics;
use crate::runner::ModuleRunner;
use imgverify::policy::compiled::FailurePolicy;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// An idle instance returned to the pool only while its memory is below this:
/// a request that made it grow gives the memory back by dropping it.
pub const KEEP_INSTANCE_BELOW_BYTES: usize = 64 * 1024 * 1024;

/// An instance with the permit that lets it live.
pub struct Pooled {
    /// The instance with the generation's policies compiled in it.
    pub loaded: Loaded,
    _live: Live,
}

/// Holds an instance's permit and counts it in the metrics while it lives.
struct Live {
    _permit: OwnedSemaphorePermit,
    metrics: Metrics,
}

impl Live {
    fn new(permit: OwnedSemaphorePermit, metrics: &Metrics) -> Self {
        let now = metrics.instances_live.inc() + 1;
        if now > metrics.instances_peak.get() {
            metrics.instances_peak.set(now);
        }
        Live {
            _permit: permit,
            metrics: metrics.clone(),
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.metrics.instances_live.dec();
    }
}

/// File identity used to notice changes: path, mtime, size.
pub type Fingerprint = Vec<(PathBuf, SystemTime, u64)>;

/// A compiled policy set with a pool of module instances that hold it.
pub struct Generation {
    runner: ModuleRunner,
    texts: Vec<NamedText>,
    settings: apply::EngineSettings,
    idle: Mutex<Vec<Pooled>>,
    /// Signalled when an instance goes back to `idle`.
    returned: Notify,
    permits: Arc<Semaphore>,
    capacity: usize,
    metrics: Metrics,
    /// The smallest `timeoutSeconds` of the policies (10 s default).
    pub timeout: Duration,
    /// Fail if any policy says Fail (Kyverno's image-verify handler).
    pub failure_policy: FailurePolicy,
    /// Compile warnings.
    pub lints: Value,
    /// Fields that need namespace labels or user roles (JSON array).
    pub context_needs: Value,
    /// The policy and trusted-root files as loaded.
    pub fingerprint: Fingerprint,
}

/// Why no instance could be had.
#[derive(Debug, thiserror::Error)]
pub enum TakeError {
    /// Every instance was busy until the deadline.
    #[error("no engine instance became free before the admission deadline")]
    Deadline,
    /// A new instance could not be made.
    #[error("{0}")]
    Load(String),
}

impl Generation {
    /// Reads and compiles the policies with their exceptions (`paths`: the
    /// policy files, the exception files), in a module instance holding one
    /// of the shared `permits`.
    pub async fn load(
        runner: &ModuleRunner,
        (paths, exceptions): (&[String], &[String]),
        (trusted_root, tuf_cache): (Option<&str>, &str),
        permits: Arc<Semaphore>,
        capacity: usize,
        metrics: Metrics,
    ) -> Result<Self, String> {
        let mut files = paths.to_vec();
        files.extend(exceptions.iter().cloned());
        files.extend(trusted_root.map(str::to_string));
        let fingerprint = fingerprint(&files);
        let texts = inputs::read_all(paths, apply::TEST_FILE_NAMES).map_err(|e| e.to_string())?;
        let mut settings = apply::EngineSettings::load(trusted_root)?;
        settings.tuf_cache = Some(tuf_cache.to_string());
        settings.policy_exceptions =
            inputs::read_all(exceptions, apply::TEST_FILE_NAMES).map_err(|e| e.to_string())?;
        // At most a minute: instances of the previous generation in use hold
        // their permits only while they answer.
        let permit = tokio::time::timeout(Duration::from_secs(60), permits.clone().acquire_owned())
            .await
            .map_err(|_| {
                "no engine instance became free to compile the policies within 60 s".to_string()
            })?
            .map_err(|e| e.to_string())?;
        let (r, t, o) = (runner.clone(), texts.clone(), settings.clone());
        let first = tokio::task::spawn_blocking(move || apply::load_policies(&r, &t, &o))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let policies = first.summary["policies"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let timeout = policies
            .iter()
            .filter_map(|p| p["timeoutSeconds"].as_u64())
            .min()
            .unwrap_or(10);
        let failure_policy =
            if !policies.is_empty() && policies.iter().all(|p| p["failurePolicy"] == "Ignore") {
                FailurePolicy::Ignore
            } else {
                FailurePolicy::Fail
            };
        Ok(Generation {
            runner: runner.clone(),
            texts,
            settings: first.settings.clone(),
            timeout: Duration::from_secs(timeout),
            failure_policy,
            lints: first.lints.clone(),
            context_needs: first.summary["contextNeeds"].clone(),
            idle: Mutex::new(vec![Pooled {
                loaded: first,
                _live: Live::new(permit, &metrics),
            }]),
            returned: Notify::new(),
            permits,
            capacity,
            metrics,
            fingerprint,
        })
    }

    /// An idle instance, or a new one once a permit is free, before `deadline`.
    pub async fn take(&self, deadline: Instant) -> Result<Pooled, TakeError> {
        let deadline = tokio::time::Instant::from_std(deadline);
        let permit = loop {
            // Register for a returned instance before looking, so none is missed.
            let returned = self.returned.notified();
            if let Some(p) = self.idle.lock().ok().and_then(|mut v| v.pop()) {
                return Ok(p);
            }
            tokio::select! {
                p = self.permits.clone().acquire_owned() => {
                    break p.map_err(|e| TakeError::Load(e.to_string()))?;
                }
                _ = returned => continue,
                _ = tokio::time::sleep_until(deadline) => return Err(TakeError::Deadline),
            }
        };
        let (r, t, o) = (
            self.runner.clone(),
            self.texts.clone(),
            self.settings.clone(),
        );
        let loaded = tokio::task::spawn_blocking(move || apply::load_policies(&r, &t, &o))
            .await
            .map_err(|e| TakeError::Load(e.to_string()))?
            .map_err(|e| TakeError::Load(e.to_string()))?;
        Ok(Pooled {
            loaded,
            _live: Live::new(permit, &self.metrics),
        })
    }

    /// Drops the idle instances, freeing their permits (before a reload, so
    /// the new generation can compile).
    pub fn drain_idle(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }

    /// Returns an instance that finished a request; it is dropped (and its
    /// permit freed) when it trapped, grew large, or the pool is full.
    pub fn give_back(&self, mut p: Pooled, healthy: bool) {
        if !healthy || p.loaded.instance().memory_size() > KEEP_INSTANCE_BELOW_BYTES {
            return;
        }
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < self.capacity
        {
            idle.push(p);
            self.returned.notify_one();
        }
    }
}

/// Path, mtime and size of every file under `paths`.
pub fn fingerprint(paths: &[String]) -> Fingerprint {
    fn walk(p: &std::path::Path, out: &mut Fingerprint) {
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
