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
use tokio::sync::watch;

type Key = (FetchKind, String);

struct DigestCache {
    lru: LruCache<Key, Arc<Vec<u8>>>,
    bytes: usize,
    budget: usize,
}

struct TagCache {
    lru: LruCache<Key, (Instant, SourceAnswer)>,
    ttl: Duration,
    /// Bytes held (answer bytes or message, plus the key).
    bytes: usize,
    budget: usize,
    entries: usize,
}

/// What a tag-cache entry costs against its byte budget.
fn tag_entry_cost(key: &Key, a: &SourceAnswer) -> usize {
    let body = match a {
        SourceAnswer::Bytes(b) => b.len(),
        other => other.message().map_or(0, str::len),
    };
    key.1.len() + body + 64
}

/// The answer of an in-flight fetch, shared with the callers that join it.
type Shared = watch::Receiver<Option<SourceAnswer>>;

/// A cached, single-flight registry source.
pub struct CachingSource {
    client: Arc<RegistryClient>,
    digests: Mutex<DigestCache>,
    tags: Mutex<TagCache>,
    disk: Option<PathBuf>,
    inflight: Mutex<HashMap<Key, (u64, Shared)>>,
    next_flight: std::sync::atomic::AtomicU64,
    metrics: Metrics,
    runtime: Handle,
}

/// Removes a leader's in-flight entry however the leader ends: answered,
/// failed, or cancelled by its admission's deadline. When it is cancelled its
/// sender drops, so joined callers get an error rather than a pinned answer,
/// and the next caller fetches again.
struct FlightGuard<'a> {
    inflight: &'a Mutex<HashMap<Key, (u64, Shared)>>,
    key: Key,
    id: u64,
}

impl Drop for FlightGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut m) = self.inflight.lock()
            && m.get(&self.key).is_some_and(|(id, _)| *id == self.id)
        {
            m.remove(&self.key);
        }
    }
}

/// The cache key of a fetch. Digest-addressed bytes are the same whoever
/// fetched them (they are verified); a tag or referrers answer depends on the
/// credentials that asked (an anonymous 404 must not answer a policy that
/// has the pull secret), so it is keyed by them too.
fn cache_key(f: &Fetch) -> Key {
    if digest_addressed(f.kind) || f.access.is_empty() {
        (f.kind, f.key.clone())
    } else {
        let a = &f.access;
        (
            f.kind,
            format!(
                "{}#secrets={};providers={};insecure={};sa={}",
                f.key,
                a.secrets.join(","),
                a.providers.join(","),
                a.allow_insecure,
                a.service_account.as_deref().unwrap_or("")
            ),
        )
    }
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
                lru: LruCache::unbounded(),
                ttl: Duration::from_secs(config.tag_ttl_seconds),
                bytes: 0,
                budget: config.tag_bytes,
                entries: config.tag_entries.max(1),
            }),
            disk,
            inflight: Mutex::new(HashMap::new()),
            next_flight: std::sync::atomic::AtomicU64::new(0),
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
        let key = cache_key(f);
        if digest_addressed(f.kind) {
            if let Some(b) = self.digests.lock().ok()?.lru.get(&key) {
                return Some(SourceAnswer::Bytes(b.as_ref().clone()));
            }
            // Disk entries are re-hashed before use; a bad one is ignored.
            let path = self.disk_path(f)?;
            let limit = match f.kind {
                FetchKind::Blob => imgverify::limits::MAX_BLOB_BYTES,
                _ => imgverify::limits::MAX_MANIFEST_BYTES,
            };
            let bytes = crate::safe_fs::read_regular(&path, limit).ok()?;
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
                    if let Some((k, (_, a))) = tags.lru.pop_entry(&key) {
                        tags.bytes -= tag_entry_cost(&k, &a);
                    }
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
        let key = cache_key(f);
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
            // Errors and auth failures are not cached. Bounded by bytes and
            // by entries: a registry answering 4 MiB per tag cannot grow it.
            let cost = tag_entry_cost(&key, a);
            if cost > tags.budget {
                return;
            }
            tags.bytes += cost;
            if let Some((_, old)) = tags.lru.put(key.clone(), (Instant::now(), a.clone())) {
                tags.bytes -= tag_entry_cost(&key, &old);
            }
            while tags.bytes > tags.budget || tags.lru.len() > tags.entries {
                match tags.lru.pop_lru() {
                    Some((k, (_, old))) => {
                        tags.bytes -= tag_entry_cost(&k, &old);
                        self.metrics.cache_evictions.inc();
                    }
                    None => break,
                }
            }
        }
    }

    /// Fetches through the cache, joining an identical in-flight fetch.
    pub async fn fetch_async(&self, f: &Fetch) -> SourceAnswer {
        // A service account's pull secrets are read only with a cluster:
        // without one it changes no answer, so it splits no cache entry.
        let normalized;
        let f = if f.access.service_account.is_some() && !self.client.reads_cluster_pull_secrets() {
            let mut n = f.clone();
            n.access.service_account = None;
            normalized = n;
            &normalized
        } else {
            f
        };
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
        let key = cache_key(f);
        let joined = {
            let Ok(mut m) = self.inflight.lock() else {
                return SourceAnswer::Error("cache lock poisoned".into());
            };
            match m.get(&key) {
                Some((_, rx)) => Err(rx.clone()),
                None => {
                    // A leader may have stored its answer since the lookup above.
                    if let Some(a) = self.lookup(f) {
                        return a;
                    }
                    let id = self
                        .next_flight
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let (tx, rx) = watch::channel(None);
                    m.insert(key.clone(), (id, rx));
                    Ok((tx, id))
                }
            }
        };
        match joined {
            Ok((tx, id)) => {
                let _guard = FlightGuard {
                    inflight: &self.inflight,
                    key,
                    id,
                };
                let a = self.client.fetch(f).await;
                self.store(f, &a);
                let _ = tx.send(Some(a.clone()));
                a
            }
            Err(mut rx) => {
                self.metrics.singleflight_joins.inc();
                match rx.wait_for(Option::is_some).await {
                    Ok(a) => a.clone().unwrap_or_else(|| {
                        SourceAnswer::Error(format!(
                            "{}: shared fetch ended without an answer",
                            f.key
                        ))
                    }),
                    Err(_) => SourceAnswer::Error(format!(
                        "{}: the shared fetch was cancelled when the admission that started it hit its deadline",
                        f.key
                    )),
                }
            }
        }
    }

    /// Fetches a round in parallel, bounded by `deadline`, handing each answer
    /// to `sink` as it arrives (at the deadline, every fetch still running
    /// gets a deadline error).
    pub async fn fetch_each_async(
        &self,
        fetches: &[Fetch],
        deadline: Option<Instant>,
        sink: &mut dyn FnMut(usize, SourceAnswer),
    ) {
        use futures::StreamExt;
        let mut running: futures::stream::FuturesUnordered<_> = fetches
            .iter()
            .enumerate()
            .map(|(i, f)| async move { (i, self.fetch_async(f).await) })
            .collect();
        let mut answered = vec![false; fetches.len()];
        let far = tokio::time::Instant::now() + Duration::from_secs(365 * 24 * 3600);
        let until = deadline.map_or(far, tokio::time::Instant::from_std);
        loop {
            match tokio::time::timeout_at(until, running.next()).await {
                Ok(Some((i, a))) => {
                    answered[i] = true;
                    sink(i, a);
                }
                Ok(None) => return,
                Err(_) => break,
            }
        }
        drop(running);
        for (i, f) in fetches.iter().enumerate() {
            if !answered[i] {
                sink(
                    i,
                    SourceAnswer::Error(format!("{}: deadline exceeded", f.key)),
                );
            }
        }
    }

    /// [`CachingSource::fetch_each_async`], collected in order.
    pub async fn fetch_all_async(
        &self,
        fetches: &[Fetch],
        deadline: Option<Instant>,
    ) -> Vec<SourceAnswer> {
        let mut out: Vec<Option<SourceAnswer>> = vec![None; fetches.len()];
        self.fetch_each_async(fetches, deadline, &mut |i, a| out[i] = Some(a))
            .await;
        out.into_iter()
            .map(|a| a.unwrap_or_else(|| SourceAnswer::Error("no answer".into())))
            .collect()
    }
}

impl ArtifactSource for CachingSource {
    fn fetch(&self, f: &Fetch) -> SourceAnswer {
        self.runtime.block_on(self.fetch_async(f))
    }

    fn fetch_each(
        &self,
        fetches: &[Fetch],
        deadline: Option<Instant>,
        sink: &mut dyn FnMut(usize, SourceAnswer),
    ) {
        self.runtime
            .block_on(self.fetch_each_async(fetches, deadline, sink))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::config::RegistryConfig;

    #[test]
    fn tag_answers_are_bounded_by_bytes() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut config = RegistryConfig::default();
        config.cache.tag_bytes = 8 << 20;
        let metrics = Metrics::new();
        let client = Arc::new(RegistryClient::new(config.clone(), metrics.clone()).unwrap());
        let cache =
            CachingSource::new(client, &config.cache, metrics, rt.handle().clone()).unwrap();
        // A hostile registry answering 4 MiB for every tag.
        let big = vec![b' '; 4 << 20];
        for i in 0..100 {
            let f = Fetch::manifest_by_tag("r.example", "app", &format!("t{i}"));
            cache.store(&f, &SourceAnswer::Bytes(big.clone()));
        }
        let tags = cache.tags.lock().unwrap();
        assert!(tags.bytes <= 8 << 20, "{} bytes held", tags.bytes);
        assert_eq!(
            tags.lru.len(),
            1,
            "one 4 MiB answer fits twice minus overhead"
        );
        let held: usize = tags
            .lru
            .iter()
            .map(|(k, (_, a))| tag_entry_cost(k, a))
            .sum();
        assert_eq!(held, tags.bytes, "the byte count matches what is held");
        drop(tags);
        // Answers over the whole budget are not kept at all.
        let huge = Fetch::manifest_by_tag("r.example", "app", "huge");
        cache.store(&huge, &SourceAnswer::Bytes(vec![0; 9 << 20]));
        assert!(cache.lookup(&huge).is_none());
    }
}
