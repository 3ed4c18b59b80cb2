//! Prometheus metrics of the host: registry requests, cache, admissions.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::Arc;

/// Label: fetch kind.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    /// `manifest_by_tag`, `manifest`, `blob`, `referrers`.
    pub kind: String,
}

/// Labels: fetch kind and outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// Fetch kind.
    pub kind: String,
    /// HTTP status code, or `error`.
    pub status: String,
}

/// Labels: webhook path and decision.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AdmissionLabels {
    /// `/mutate` or `/validate`.
    pub path: String,
    /// `allowed`, `denied`, `error`.
    pub decision: String,
}

/// Label: a report result's outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    /// `pass`, `fail`, `warn`, `error`, `skip`.
    pub result: String,
}

/// All metrics, cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    /// Registry HTTP requests by kind and status.
    pub registry_requests: Family<RequestLabels, Counter>,
    /// Cache hits by kind.
    pub cache_hits: Family<KindLabel, Counter>,
    /// Cache misses by kind.
    pub cache_misses: Family<KindLabel, Counter>,
    /// Bytes held by the digest cache.
    pub cache_bytes: Gauge,
    /// Entries evicted from caches.
    pub cache_evictions: Counter,
    /// Fetches that joined an identical in-flight fetch.
    pub singleflight_joins: Counter,
    /// Admission requests by path and decision.
    pub admissions: Family<AdmissionLabels, Counter>,
    /// Admission latency in seconds.
    pub admission_seconds: Histogram,
    /// Engine instances alive (idle or working), across policy generations.
    pub instances_live: Gauge,
    /// Peak of `instances_live`.
    pub instances_peak: Gauge,
    /// Webhook connections open.
    pub connections_open: Gauge,
    /// Background scans completed.
    pub background_scans: Counter,
    /// Background scan duration in seconds.
    pub background_scan_seconds: Histogram,
    /// Resources evaluated by background scans.
    pub background_resources: Counter,
    /// Background scan results by outcome.
    pub background_results: Family<OutcomeLabel, Counter>,
    /// 1 while this replica holds the background scan Lease.
    pub background_leader: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Self {
        let mut r = Registry::with_prefix("imgverify");
        let registry_requests = Family::<RequestLabels, Counter>::default();
        let cache_hits = Family::<KindLabel, Counter>::default();
        let cache_misses = Family::<KindLabel, Counter>::default();
        let cache_bytes = Gauge::default();
        let cache_evictions = Counter::default();
        let singleflight_joins = Counter::default();
        let admissions = Family::<AdmissionLabels, Counter>::default();
        let instances_live = Gauge::default();
        let instances_peak = Gauge::default();
        let connections_open = Gauge::default();
        let background_scans = Counter::default();
        let background_scan_seconds =
            Histogram::new([0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0]);
        let background_resources = Counter::default();
        let background_results = Family::<OutcomeLabel, Counter>::default();
        let background_leader = Gauge::default();
        let admission_seconds = Histogram::new([
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
        ]);
        r.register(
            "registry_requests",
            "Registry HTTP requests by fetch kind and status",
            registry_requests.clone(),
        );
        r.register(
            "cache_hits",
            "Artifact cache hits by fetch kind",
            cache_hits.clone(),
        );
        r.register(
            "cache_misses",
            "Artifact cache misses by fetch kind",
            cache_misses.clone(),
        );
        r.register(
            "cache_bytes",
            "Bytes held by the digest-addressed cache",
            cache_bytes.clone(),
        );
        r.register(
            "cache_evictions",
            "Cache entries evicted for the byte or entry budget",
            cache_evictions.clone(),
        );
        r.register(
            "singleflight_joins",
            "Fetches that joined an identical in-flight fetch",
            singleflight_joins.clone(),
        );
        r.register(
            "admissions",
            "Admission requests by path and decision",
            admissions.clone(),
        );
        r.register(
            "admission_duration_seconds",
            "Admission latency",
            admission_seconds.clone(),
        );
        r.register(
            "instances_live",
            "Engine instances alive (idle or working)",
            instances_live.clone(),
        );
        r.register(
            "instances_peak",
            "Most engine instances alive at once",
            instances_peak.clone(),
        );
        r.register(
            "connections_open",
            "Webhook connections open",
            connections_open.clone(),
        );
        r.register(
            "background_scans",
            "Background scans completed",
            background_scans.clone(),
        );
        r.register(
            "background_scan_duration_seconds",
            "Background scan duration",
            background_scan_seconds.clone(),
        );
        r.register(
            "background_resources",
            "Resources evaluated by background scans",
            background_resources.clone(),
        );
        r.register(
            "background_results",
            "Background scan report results by outcome",
            background_results.clone(),
        );
        r.register(
            "background_leader",
            "1 while this replica holds the background scan Lease",
            background_leader.clone(),
        );
        Metrics {
            registry: Arc::new(r),
            background_scans,
            background_scan_seconds,
            background_resources,
            background_results,
            background_leader,
            instances_live,
            instances_peak,
            connections_open,
            registry_requests,
            cache_hits,
            cache_misses,
            cache_bytes,
            cache_evictions,
            singleflight_joins,
            admissions,
            admission_seconds,
        }
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut s = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut s, &self.registry);
        s
    }

    /// Counts one registry request.
    pub fn request(&self, kind: &str, status: &str) {
        self.registry_requests
            .get_or_create(&RequestLabels {
                kind: kind.to_string(),
                status: status.to_string(),
            })
            .inc();
    }

    /// Total registry requests so far (all kinds and statuses).
    pub fn total_registry_requests(&self) -> u64 {
        let mut total = 0;
        for kind in ["manifest_by_tag", "manifest", "blob", "referrers", "token"] {
            for status in [
                "200", "201", "202", "307", "401", "404", "429", "500", "502", "503", "error",
            ] {
                total += self
                    .registry_requests
                    .get(&RequestLabels {
                        kind: kind.into(),
                        status: status.into(),
                    })
                    .map(|c| c.get())
                    .unwrap_or(0);
            }
        }
        total
    }
}
