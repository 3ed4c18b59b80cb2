//! Background scans: the policies with `background: true` (image policies:
//! `evaluation.background.enabled`) evaluated every interval against the
//! Pods and pod controllers already in the cluster, as Kyverno's report
//! controller does, with the results written as reports.
//!
//! - Resources are listed and watched (reflectors); each is evaluated with
//!   its `kyverno.io/verify-images` annotation stripped, so verification
//!   runs in full, through the same engine pool, caches and registry client
//!   as admissions, one resource at a time, and before each it gives way to
//!   admissions in flight (for up to 250 ms), so an admission competes with
//!   at most one scanning instance.
//! - Reports: one per resource, named by its UID, with its scope and an
//!   owner reference to it: openreports.io/v1alpha1 `Report` (or
//!   `ClusterReport`), or wgpolicyk8s.io/v1alpha2 `PolicyReport` /
//!   `ClusterPolicyReport` with `--report-api wgpolicyk8s`. A report is
//!   rewritten only when its results change; a resource no policy applies
//!   to any more has its report deleted, and so has a resource that is gone.
//! - One replica scans at a time: a `coordination.k8s.io/v1` Lease elects
//!   it. A Lease is taken when it is free, or when its holder has not
//!   renewed it for its duration as this replica has observed it (its own
//!   clock, never the holder's timestamps, as client-go's leader election).

use super::{AppState, Undecided, run_request};
use crate::metrics::OutcomeLabel;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{ApiResource, DeleteParams, DynamicObject, ListParams, PostParams};
use kube::runtime::reflector::Store;
use kube::{Api, Client};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The Lease that elects the scanning replica.
pub const LEASE_NAME: &str = "imgverify-background-scan";
/// The label on every report imgverify writes.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "imgverify");
/// Longest a scan waits for admissions in flight before each resource.
pub const MAX_GIVE_WAY: Duration = Duration::from_millis(250);
/// Most resources one scan evaluates.
pub const MAX_SCANNED: usize = 50_000;

/// The reports' API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportApi {
    /// openreports.io/v1alpha1 `Report` / `ClusterReport`.
    OpenReports,
    /// wgpolicyk8s.io/v1alpha2 `PolicyReport` / `ClusterPolicyReport`.
    WgPolicy,
}

impl ReportApi {
    /// From `--report-api`.
    pub fn parse(s: &str) -> Self {
        match s {
            "wgpolicyk8s" => ReportApi::WgPolicy,
            _ => ReportApi::OpenReports,
        }
    }

    /// The report resource for a namespaced or cluster-scoped resource.
    pub fn resource(self, namespaced: bool) -> ApiResource {
        let (group, version, kind, plural) = match (self, namespaced) {
            (ReportApi::OpenReports, true) => ("openreports.io", "v1alpha1", "Report", "reports"),
            (ReportApi::OpenReports, false) => (
                "openreports.io",
                "v1alpha1",
                "ClusterReport",
                "clusterreports",
            ),
            (ReportApi::WgPolicy, true) => (
                "wgpolicyk8s.io",
                "v1alpha2",
                "PolicyReport",
                "policyreports",
            ),
            (ReportApi::WgPolicy, false) => (
                "wgpolicyk8s.io",
                "v1alpha2",
                "ClusterPolicyReport",
                "clusterpolicyreports",
            ),
        };
        ApiResource {
            group: group.into(),
            version: version.into(),
            api_version: format!("{group}/{version}"),
            kind: kind.into(),
            plural: plural.into(),
        }
    }
}

/// What a background scanner is told.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    /// Time between scans.
    pub interval: Duration,
    /// The reports' API.
    pub api: ReportApi,
    /// The Lease's namespace.
    pub namespace: String,
    /// This replica's identity in the Lease.
    pub identity: String,
    /// How long a Lease is held without renewal.
    pub lease_duration: Duration,
}

/// This replica's default Lease identity: `POD_NAME`, else the host name
/// and process id.
pub fn default_identity() -> String {
    std::env::var("POD_NAME")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|_| "imgverify".into());
            format!("{host}-{}", std::process::id())
        })
}

/// Starts the Lease and scan tasks; they run until aborted.
pub fn start(
    state: Arc<AppState>,
    client: Client,
    config: ScanConfig,
) -> Vec<tokio::task::JoinHandle<()>> {
    let leader = Arc::new(AtomicBool::new(false));
    let lease = tokio::spawn(hold_lease(
        client.clone(),
        config.clone(),
        leader.clone(),
        state.metrics.clone(),
    ));
    let scans = tokio::spawn(scan_loop(state, client, config, leader));
    vec![lease, scans]
}

// ---------------------------------------------------------------------------
// The Lease.

/// Takes and renews the Lease, keeping `leader` current.
async fn hold_lease(
    client: Client,
    config: ScanConfig,
    leader: Arc<AtomicBool>,
    metrics: crate::metrics::Metrics,
) {
    let api: Api<Lease> = Api::namespaced(client, &config.namespace);
    let mut observed: Option<(String, Instant)> = None;
    let every = (config.lease_duration / 3).max(Duration::from_millis(200));
    loop {
        let held = match try_hold(&api, &config, &mut observed).await {
            Ok(held) => held,
            Err(e) => {
                tracing::warn!(error = %e, lease = LEASE_NAME, "background scan lease");
                false
            }
        };
        if held != leader.swap(held, Ordering::SeqCst) {
            tracing::info!(identity = %config.identity, held, "background scan lease");
        }
        metrics.background_leader.set(i64::from(held));
        tokio::time::sleep(every).await;
    }
}

/// One attempt to take or renew the Lease; whether this replica holds it.
async fn try_hold(
    api: &Api<Lease>,
    config: &ScanConfig,
    observed: &mut Option<(String, Instant)>,
) -> Result<bool, kube::Error> {
    let now = MicroTime(k8s_openapi::jiff::Timestamp::now());
    let seconds = i32::try_from(config.lease_duration.as_secs().max(1)).unwrap_or(i32::MAX);
    let Some(mut lease) = api.get_opt(LEASE_NAME).await? else {
        let lease = Lease {
            metadata: kube::api::ObjectMeta {
                name: Some(LEASE_NAME.into()),
                ..Default::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(config.identity.clone()),
                lease_duration_seconds: Some(seconds),
                acquire_time: Some(now.clone()),
                renew_time: Some(now),
                lease_transitions: Some(0),
                ..Default::default()
            }),
        };
        return match api.create(&PostParams::default(), &lease).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => Err(e),
        };
    };
    let spec = lease.spec.get_or_insert_with(Default::default);
    let holder = spec.holder_identity.clone().unwrap_or_default();
    let mine = holder == config.identity;
    // The record as last seen, and since when (by this replica's clock).
    let record = format!("{holder}|{:?}", spec.renew_time.as_ref().map(|t| t.0));
    let since = match observed {
        Some((r, at)) if *r == record => *at,
        _ => {
            *observed = Some((record, Instant::now()));
            Instant::now()
        }
    };
    let held_for = Duration::from_secs(
        spec.lease_duration_seconds
            .and_then(|s| u64::try_from(s).ok())
            .unwrap_or(config.lease_duration.as_secs()),
    );
    let expired = holder.is_empty() || since.elapsed() > held_for;
    if !mine && !expired {
        return Ok(false);
    }
    if !mine {
        spec.holder_identity = Some(config.identity.clone());
        spec.acquire_time = Some(now.clone());
        spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0).saturating_add(1));
    }
    spec.renew_time = Some(now);
    spec.lease_duration_seconds = Some(seconds);
    match api
        .replace(LEASE_NAME, &PostParams::default(), &lease)
        .await
    {
        Ok(_) => Ok(true),
        // Another replica wrote it first.
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------------------
// Scans.

/// The watched Pods and pod controllers.
struct Workloads {
    pods: Store<Pod>,
    deployments: Store<Deployment>,
    daemon_sets: Store<DaemonSet>,
    stateful_sets: Store<StatefulSet>,
    jobs: Store<Job>,
    cron_jobs: Store<CronJob>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Workloads {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Workloads {
    fn watch(client: &Client) -> Self {
        use crate::cluster::watch;
        let mut tasks = Vec::new();
        Workloads {
            pods: watch(Api::all(client.clone()), &mut tasks),
            deployments: watch(Api::all(client.clone()), &mut tasks),
            daemon_sets: watch(Api::all(client.clone()), &mut tasks),
            stateful_sets: watch(Api::all(client.clone()), &mut tasks),
            jobs: watch(Api::all(client.clone()), &mut tasks),
            cron_jobs: watch(Api::all(client.clone()), &mut tasks),
            tasks,
        }
    }

    /// Whether every store has had its first list.
    async fn ready(&self) -> bool {
        let all = async {
            self.pods.wait_until_ready().await.is_ok()
                && self.deployments.wait_until_ready().await.is_ok()
                && self.daemon_sets.wait_until_ready().await.is_ok()
                && self.stateful_sets.wait_until_ready().await.is_ok()
                && self.jobs.wait_until_ready().await.is_ok()
                && self.cron_jobs.wait_until_ready().await.is_ok()
        };
        tokio::time::timeout(Duration::from_secs(60), all)
            .await
            .unwrap_or(false)
    }

    /// Every object as JSON with its `apiVersion` and `kind`.
    fn objects(&self) -> Vec<Value> {
        fn as_json<K: kube::Resource<DynamicType = ()> + serde::Serialize + Clone>(
            store: &Store<K>,
            out: &mut Vec<Value>,
        ) {
            for o in store.state() {
                if let Ok(mut v) = serde_json::to_value(o.as_ref()) {
                    v["apiVersion"] = json!(K::api_version(&()));
                    v["kind"] = json!(K::kind(&()));
                    out.push(v);
                }
            }
        }
        let mut out = Vec::new();
        as_json(&self.pods, &mut out);
        as_json(&self.deployments, &mut out);
        as_json(&self.daemon_sets, &mut out);
        as_json(&self.stateful_sets, &mut out);
        as_json(&self.jobs, &mut out);
        as_json(&self.cron_jobs, &mut out);
        out
    }
}

/// Scans every interval while this replica leads.
async fn scan_loop(
    state: Arc<AppState>,
    client: Client,
    config: ScanConfig,
    leader: Arc<AtomicBool>,
) {
    let workloads = Workloads::watch(&client);
    let mut written: HashMap<String, u64> = HashMap::new();
    let mut was_leader = false;
    loop {
        let leading = leader.load(Ordering::SeqCst);
        if !leading {
            was_leader = false;
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        }
        if !was_leader {
            // Another replica may have written since this one last led.
            written.clear();
            was_leader = true;
        }
        if !workloads.ready().await {
            tracing::warn!("background scan: the workloads were not listed within 60 s");
            continue;
        }
        let start = Instant::now();
        match scan(&state, &client, &config, &workloads, &leader, &mut written).await {
            Ok(n) => {
                let seconds = start.elapsed().as_secs_f64();
                state.metrics.background_scans.inc();
                state.metrics.background_scan_seconds.observe(seconds);
                tracing::info!(resources = n, seconds, "background scan done");
            }
            Err(e) => tracing::warn!(error = %e, "background scan stopped"),
        }
        tokio::time::sleep(config.interval).await;
    }
}

/// One scan: every workload evaluated and its report written, then the
/// reports of resources not seen deleted. The number of resources.
async fn scan(
    state: &Arc<AppState>,
    client: &Client,
    config: &ScanConfig,
    workloads: &Workloads,
    leader: &AtomicBool,
    written: &mut HashMap<String, u64>,
) -> Result<usize, String> {
    let mut seen: HashSet<String> = HashSet::new();
    let objects = workloads.objects();
    for mut object in objects.into_iter().take(MAX_SCANNED) {
        if !leader.load(Ordering::SeqCst) {
            return Err("the lease was lost".into());
        }
        give_way(state).await;
        let Some(uid) = object["metadata"]["uid"].as_str().map(str::to_string) else {
            continue;
        };
        strip(&mut object);
        let generation = match state.generation.read() {
            Ok(g) => g.clone(),
            Err(_) => return Err("policies unavailable".into()),
        };
        let cluster = state.cluster.read().ok().and_then(|c| c.clone());
        let namespace = object["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let mut request = json!({
            "operation": "CREATE",
            "object": object,
            "background": true,
            "now": time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .ok(),
        });
        let deadline = Instant::now() + generation.timeout;
        if let (Some(c), false) = (&cluster, namespace.is_empty()) {
            match c.namespace_labels(&namespace, deadline).await {
                Ok(labels) => request["namespaceLabels"] = json!(labels),
                Err(e) => {
                    tracing::warn!(namespace, error = %e, "background scan: namespace labels");
                    seen.insert(uid);
                    continue;
                }
            }
        }
        let decision = run_request(state, &generation, &request, cluster, deadline).await;
        seen.insert(uid.clone());
        let results = match decision {
            Ok(d) => d.results,
            Err(Undecided::Forgivable(m) | Undecided::Denied(m)) => {
                // Undecided: the report written before stays.
                tracing::warn!(uid, error = %m, "background scan: not evaluated");
                continue;
            }
        };
        state.metrics.background_resources.inc();
        for r in &results {
            state
                .metrics
                .background_results
                .get_or_create(&OutcomeLabel {
                    result: r.result.as_str().to_string(),
                })
                .inc();
        }
        let object = &request["object"];
        if let Err(e) = write_report(client, config.api, object, &results, written).await {
            tracing::warn!(uid, error = %e, "background scan: report not written");
        }
    }
    collect_garbage(client, config.api, &seen, written).await?;
    Ok(seen.len())
}

/// Waits while admissions are being answered, up to [`MAX_GIVE_WAY`]
/// (under constant load the scan still advances).
async fn give_way(state: &AppState) {
    let start = Instant::now();
    while state.admissions_in_flight.load(Ordering::SeqCst) > 0 && start.elapsed() < MAX_GIVE_WAY {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Drops what would let a recorded verification stand in for a full one.
fn strip(object: &mut Value) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            a.remove("kyverno.io/verify-images");
        }
    }
}

/// The report of one resource's results.
fn report(api: ReportApi, object: &Value, results: &[imgverify::decision::RuleResult]) -> Value {
    let meta = &object["metadata"];
    let (name, namespace, uid) = (
        meta["name"].as_str().unwrap_or(""),
        meta["namespace"].as_str().unwrap_or(""),
        meta["uid"].as_str().unwrap_or(""),
    );
    let (api_version, kind) = (
        object["apiVersion"].as_str().unwrap_or(""),
        object["kind"].as_str().unwrap_or(""),
    );
    let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let results: Vec<Value> = results
        .iter()
        .map(|r| crate::output::report_result(r, "background scan", timestamp))
        .collect();
    let mut summary = json!({"pass": 0, "fail": 0, "warn": 0, "error": 0, "skip": 0});
    for r in &results {
        if let Some(k) = r["result"].as_str()
            && let Some(n) = summary[k].as_u64()
        {
            summary[k] = json!(n + 1);
        }
    }
    let resource = api.resource(!namespace.is_empty());
    let mut metadata = json!({
        "name": uid,
        "labels": {MANAGED_BY.0: MANAGED_BY.1},
        "ownerReferences": [{"apiVersion": api_version, "kind": kind, "name": name, "uid": uid}],
    });
    if !namespace.is_empty() {
        metadata["namespace"] = json!(namespace);
    }
    let mut scope = json!({"apiVersion": api_version, "kind": kind, "name": name, "uid": uid});
    if !namespace.is_empty() {
        scope["namespace"] = json!(namespace);
    }
    json!({
        "apiVersion": resource.api_version,
        "kind": resource.kind,
        "metadata": metadata,
        "scope": scope,
        "summary": summary,
        "results": results,
    })
}

/// What a report says, without its timestamps: equal reports are not
/// rewritten.
fn fingerprint(report: &Value) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut r = report.clone();
    for result in r["results"].as_array_mut().into_iter().flatten() {
        if let Some(o) = result.as_object_mut() {
            o.remove("timestamp");
        }
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    r.to_string().hash(&mut h);
    h.finish()
}

fn reports_api(client: &Client, api: ReportApi, namespace: &str) -> Api<DynamicObject> {
    let resource = api.resource(!namespace.is_empty());
    match namespace.is_empty() {
        true => Api::all_with(client.clone(), &resource),
        false => Api::namespaced_with(client.clone(), namespace, &resource),
    }
}

/// Creates, replaces or (with no results) deletes a resource's report.
async fn write_report(
    client: &Client,
    api: ReportApi,
    object: &Value,
    results: &[imgverify::decision::RuleResult],
    written: &mut HashMap<String, u64>,
) -> Result<(), kube::Error> {
    let uid = object["metadata"]["uid"].as_str().unwrap_or("").to_string();
    let namespace = object["metadata"]["namespace"].as_str().unwrap_or("");
    let reports = reports_api(client, api, namespace);
    if results.is_empty() {
        if written.remove(&uid).is_some() || reports.get_opt(&uid).await?.is_some() {
            delete(&reports, &uid).await?;
        }
        return Ok(());
    }
    let body = report(api, object, results);
    let print = fingerprint(&body);
    if written.get(&uid) == Some(&print) {
        return Ok(());
    }
    let mut dynamic: DynamicObject =
        serde_json::from_value(body).map_err(kube::Error::SerdeError)?;
    match reports.create(&PostParams::default(), &dynamic).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 409 => {
            let current = reports.get(&uid).await?;
            dynamic.metadata.resource_version = current.metadata.resource_version;
            reports
                .replace(&uid, &PostParams::default(), &dynamic)
                .await?;
        }
        Err(e) => return Err(e),
    }
    written.insert(uid, print);
    Ok(())
}

async fn delete(reports: &Api<DynamicObject>, name: &str) -> Result<(), kube::Error> {
    match reports.delete(name, &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}

/// Deletes the reports imgverify wrote for resources no longer there.
async fn collect_garbage(
    client: &Client,
    api: ReportApi,
    seen: &HashSet<String>,
    written: &mut HashMap<String, u64>,
) -> Result<(), String> {
    let selector = format!("{}={}", MANAGED_BY.0, MANAGED_BY.1);
    for namespaced in [true, false] {
        let resource = api.resource(namespaced);
        let all: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
        let list = match all.list(&ListParams::default().labels(&selector)).await {
            Ok(l) => l,
            // No such report kind installed: nothing to collect.
            Err(kube::Error::Api(s)) if s.code == 404 => continue,
            Err(e) => return Err(format!("listing {}: {e}", resource.plural)),
        };
        for r in list {
            let Some(name) = r.metadata.name.clone() else {
                continue;
            };
            if seen.contains(&name) {
                continue;
            }
            let ns = r.metadata.namespace.clone().unwrap_or_default();
            written.remove(&name);
            let reports = reports_api(client, api, &ns);
            if let Err(e) = delete(&reports, &name).await {
                tracing::warn!(report = name, error = %e, "background scan: stale report not deleted");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use imgverify::decision::{RuleResult, RuleStatus};

    fn result(status: RuleStatus) -> RuleResult {
        serde_json::from_value(json!({
            "policy": "check-signature", "rule": "signed", "result": status.as_str(),
            "message": "m", "images": [], "scored": true, "action": "Enforce",
        }))
        .unwrap()
    }

    #[test]
    fn a_report_names_its_resource_in_either_api() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "shop", "uid": "u-1"}});
        let results = [result(RuleStatus::Fail), result(RuleStatus::Pass)];
        let r = report(ReportApi::OpenReports, &pod, &results);
        assert_eq!(r["apiVersion"], "openreports.io/v1alpha1");
        assert_eq!(r["kind"], "Report");
        assert_eq!(r["metadata"]["name"], "u-1");
        assert_eq!(r["metadata"]["namespace"], "shop");
        assert_eq!(
            r["scope"],
            json!({"apiVersion": "v1", "kind": "Pod", "name": "p", "namespace": "shop", "uid": "u-1"})
        );
        assert_eq!(
            r["summary"],
            json!({"pass": 1, "fail": 1, "warn": 0, "error": 0, "skip": 0})
        );
        assert_eq!(r["results"][0]["properties"]["process"], "background scan");
        let node =
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n", "uid": "u-2"}});
        let r = report(ReportApi::WgPolicy, &node, &results);
        assert_eq!(r["apiVersion"], "wgpolicyk8s.io/v1alpha2");
        assert_eq!(r["kind"], "ClusterPolicyReport");
        assert!(r["metadata"].get("namespace").is_none());
        // Timestamps alone do not make a report new.
        let mut later = r.clone();
        later["results"][0]["timestamp"]["seconds"] = json!(1);
        assert_eq!(fingerprint(&r), fingerprint(&later));
        later["results"][0]["result"] = json!("pass");
        assert_ne!(fingerprint(&r), fingerprint(&later));
    }

    #[test]
    fn recorded_verifications_are_stripped() {
        let mut pod = json!({"metadata": {"name": "p", "managedFields": [{}],
            "annotations": {"kyverno.io/verify-images": "{}", "team": "a"}}});
        strip(&mut pod);
        assert_eq!(
            pod,
            json!({"metadata": {"name": "p", "annotations": {"team": "a"}}})
        );
    }
}
