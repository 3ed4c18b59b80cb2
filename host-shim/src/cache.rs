//! Caching in front of the registry: digest-addressed bytes in an LRU with a
//! byte budget (optionally also on disk), tag and referrer answers with a TTL
//! and an entry bound, and single-flight so identical in-flight fetches share
//! one registry request. No verdicts are cached: the engine re-verifies.

use crate::metrics::{KindLabel, Metrics};
use crate::registry::RegistryClient;
use crate::registry::config::CacheConfig;
use crate::source::{ArtifactSource, SourceAnswer};
use imgverify::digest::Digest;
use imgverify::engine::{Fetch, FetchKind};
use lru::LruCache;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::runtime::Handle;
use tokio::sync::OnceCell;

type Key = (FetchKind, String);

struct DigestCache {
    lru: LruCache<Key, Arc<Vec<u8>>>,
    bytes: usize,
    budget: usize,
}

struct TagCache {
    lru: LruCache<Key, (Instant, SourceAnswer)>,
    ttl: Duration,
}

/// A cached, single-flight registry source.
pub struct CachingSource {
    client: Arc<RegistryClient>,
    digests: Mutex<DigestCache>,
    tags: Mutex<TagCache>,
    disk: Option<PathBuf>,
    inflight: Mutex<HashMap<Key, Arc<OnceCell<SourceAnswer>>>>,
    metrics: Metrics,
    runtime: Handle,
}

fn digest_addressed(kind: FetchKind) -> bool {
    matches!(kind, FetchKind::Manifest | FetchKind::Blob)
}

impl CachingSource {
    /// Wraps a client; `runtime` runs the fetches.
    pub fn new(
        client: Arc<RegistryClient>,
        config: &CacheConfig,
        metrics: Metrics,
        runtime: Handle,
    ) -> Result<Self, String> {
        let disk = match &config.dir {
            Some(d) => {
                let p = PathBuf::from(d);
                std::fs::create_dir_all(&p).map_err(|e| format!("{d}: {e}"))?;
                Some(p)
            }
            None => None,
        };
        Ok(CachingSource {
            client,
            digests: Mutex::new(DigestCache {
                lru: LruCache::unbounded(),
                bytes: 0,
                budget: config.memory_bytes,
            }),
            tags: Mutex::new(TagCache {
                lru: LruCache::new(
                    std::num::NonZeroUsize::new(config.tag_entries.max(1))
                        .unwrap_or(std::num::NonZeroUsize::MIN),
                ),
                ttl: Duration::from_secs(config.tag_ttl_seconds),
            }),
            disk,
            inflight: Mutex::new(HashMap::new()),
            metrics,
            runtime,
        })
    }

    fn label(kind: FetchKind) -> KindLabel {
        KindLabel {
            kind: kind.as_str().to_string(),
        }
    }

    fn disk_path(&self, f: &Fetch) -> Option<PathBuf> {
        let d = Digest::parse(f.digest.as_deref()?).ok()?;
        Some(self.disk.as_ref()?.join(d.algorithm().name()).join(d.hex()))
    }

    fn lookup(&self, f: &Fetch) -> Option<SourceAnswer> {
        let key = (f.kind, f.key.clone());
        if digest_addressed(f.kind) {
            if let Some(b) = self.digests.lock().ok()?.lru.get(&key) {
                return Some(SourceAnswer::Bytes(b.as_ref().clone()));
            }
            // Disk entries are re-hashed before use; a bad one is ignored.
            let path = self.disk_path(f)?;
            let bytes = std::fs::read(&path).ok()?;
            let d = Digest::parse(f.digest.as_deref()?).ok()?;
            if d.verify(&bytes).is_ok() {
                self.store_digest(key, bytes.clone());
                return Some(SourceAnswer::Bytes(bytes));
            }
            let _ = std::fs::remove_file(path);
            None
        } else {
            let mut tags = self.tags.lock().ok()?;
            let ttl = tags.ttl;
            match tags.lru.get(&key) {
                Some((at, a)) if at.elapsed() < ttl => Some(a.clone()),
                Some(_) => {
                    tags.lru.pop(&key);
                    None
                }
                None => None,
            }
        }
    }

    fn store_digest(&self, key: Key, bytes: Vec<u8>) {
        let Ok(mut c) = self.digests.lock() else {
            return;
        };
        if bytes.len() > c.budget {
            return;
        }
        c.bytes += bytes.len();
        if let Some(old) = c.lru.put(key, Arc::new(bytes)) {
            c.bytes -= old.len();
        }
        while c.bytes > c.budget {
            match c.lru.pop_lru() {
                Some((_, v)) => {
                    c.bytes -= v.len();
                    self.metrics.cache_evictions.inc();
                }
                None => break,
            }
        }
        self.metrics.cache_bytes.set(c.bytes as i64);
    }

    fn store(&self, f: &Fetch, a: &SourceAnswer) {
        let key = (f.kind, f.key.clone());
        if digest_addressed(f.kind) {
            // Only bytes that hash to their digest are kept.
            if let SourceAnswer::Bytes(b) = a
                && let Some(d) = f.digest.as_deref().and_then(|d| Digest::parse(d).ok())
                && d.verify(b).is_ok()
            {
                if let Some(p) = self.disk_path(f)
                    && let Some(dir) = p.parent()
                {
                    let _ = std::fs::create_dir_all(dir);
                    let tmp = p.with_extension("tmp");
                    if std::fs::write(&tmp, b).is_ok() {
                        let _ = std::fs::rename(&tmp, &p);
                    }
                }
                self.store_digest(key, b.clone());
            }
        } else if matches!(a, SourceAnswer::Bytes(_) | SourceAnswer::NotFound(_))
            && let Ok(mut tags) = self.tags.lock()
        {
            // Errors and auth failures are not cached.
            if tags.lru.len() == tags.lru.cap().get() {
                self.metrics.cache_evictions.inc();
            }
            tags.lru.put(key, (Instant::now(), a.clone()));
        }
    }

    /// Fetches through the cache, joining an identical in-flight fetch.
    pub async fn fetch_async(&self, f: &Fetch) -> SourceAnswer {
        if let Some(a) = self.lookup(f) {
            self.metrics
                .cache_hits
                .get_or_create(&Self::label(f.kind))
                .inc();
            return a;
        }
        self.metrics
            .cache_misses
            .get_or_create(&Self::label(f.kind))
            .inc();
        let key = (f.kind, f.key.clone());
        let (cell, leader) = {
            let Ok(mut m) = self.inflight.lock() else {
                return SourceAnswer::Error("cache lock poisoned".into());
            };
            match m.get(&key) {
                Some(c) => (c.clone(), false),
                None => {
                    let c = Arc::new(OnceCell::new());
                    m.insert(key.clone(), c.clone());
                    (c, true)
                }
            }
        };
        if !leader {
            self.metrics.singleflight_joins.inc();
        }
        let answer = cell
            .get_or_init(|| async {
                let a = self.client.fetch(f).await;
                self.store(f, &a);
                a
            })
            .await
            .clone();
        if leader && let Ok(mut m) = self.inflight.lock() {
            m.remove(&key);
        }
        answer
    }

    /// Fetches a round in parallel, bounded by `deadline`.
    pub async fn fetch_all_async(
        &self,
        fetches: &[Fetch],
        deadline: Option<Instant>,
    ) -> Vec<SourceAnswer> {
        let all = futures::future::join_all(fetches.iter().map(|f| self.fetch_async(f)));
        match deadline {
            None => all.await,
            Some(d) => {
                match tokio::time::timeout_at(tokio::time::Instant::from_std(d), all).await {
                    Ok(v) => v,
                    Err(_) => fetches
                        .iter()
                        .map(|f| SourceAnswer::Error(format!("{}: deadline exceeded", f.key)))
                        .collect(),
                }
            }
        }
    }
}

impl ArtifactSource for CachingSource {
    fn fetch(&self, f: &Fetch) -> SourceAnswer {
        self.runtime.block_on(self.fetch_async(f))
    }

    fn fetch_all(&self, fetches: &[Fetch], deadline: Option<Instant>) -> Vec<SourceAnswer> {
        self.runtime
            .block_on(self.fetch_all_async(fetches, deadline))
    }
}
