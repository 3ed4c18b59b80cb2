//! A loopback Kubernetes API server for tests: namespaces, role bindings,
//! cluster role bindings and ConfigMaps with routes of their own, and any
//! other collection (Secrets, Pods, Deployments, Leases, reports…) in a
//! generic store: list, get and watch (streamed JSON events) as the real API
//! server does, and create, replace and delete, with changes pushed by the
//! test.
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::StreamExt;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// One collection the fake serves.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Kind {
    Namespace,
    RoleBinding,
    ClusterRoleBinding,
    ConfigMap,
}

impl Kind {
    /// The kind's name in its objects.
    fn name(self) -> &'static str {
        match self {
            Kind::Namespace => "Namespace",
            Kind::RoleBinding => "RoleBinding",
            Kind::ClusterRoleBinding => "ClusterRoleBinding",
            Kind::ConfigMap => "ConfigMap",
        }
    }

    fn list_kind(self) -> (&'static str, &'static str) {
        match self {
            Kind::Namespace => ("v1", "NamespaceList"),
            Kind::RoleBinding => ("rbac.authorization.k8s.io/v1", "RoleBindingList"),
            Kind::ClusterRoleBinding => ("rbac.authorization.k8s.io/v1", "ClusterRoleBindingList"),
            Kind::ConfigMap => ("v1", "ConfigMapList"),
        }
    }
}

pub struct FakeApi {
    /// (kind, namespace/name) → object.
    objects: Mutex<BTreeMap<(String, String), Value>>,
    version: AtomicU64,
    events: broadcast::Sender<(Kind, Value)>,
    pub watches: AtomicUsize,
    pub lists: AtomicUsize,
    pub config_map_gets: AtomicUsize,
    /// GETs of one Secret (reads not answered from a watch).
    pub secret_gets: AtomicUsize,
    /// Objects of every other collection (`v1/pods`, `apps/v1/deployments`,
    /// `coordination.k8s.io/v1/leases`, reports…) by (collection,
    /// namespace, name): list, watch, get, create, replace, delete.
    generic: Mutex<BTreeMap<(String, String, String), Value>>,
    generic_events: broadcast::Sender<(String, Value)>,
    /// Creates and replaces by collection.
    writes: Mutex<BTreeMap<String, usize>>,
}

fn kind_key(k: Kind) -> String {
    format!("{k:?}")
}

impl FakeApi {
    fn key_of(obj: &Value) -> String {
        format!(
            "{}/{}",
            obj["metadata"]["namespace"].as_str().unwrap_or(""),
            obj["metadata"]["name"].as_str().unwrap_or("")
        )
    }

    /// Adds or replaces an object; watchers get ADDED or MODIFIED.
    pub fn put(&self, kind: Kind, mut obj: Value) {
        let rv = self.version.fetch_add(1, Ordering::SeqCst) + 1;
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        obj["metadata"]["uid"] = json!(format!("uid-{}", Self::key_of(&obj)));
        let key = (kind_key(kind), Self::key_of(&obj));
        let existed = self
            .objects
            .lock()
            .unwrap()
            .insert(key, obj.clone())
            .is_some();
        let (api, _) = kind.list_kind();
        obj["apiVersion"] = json!(api);
        obj["kind"] = json!(kind.name());
        let _ = self.events.send((
            kind,
            json!({"type": if existed {"MODIFIED"} else {"ADDED"}, "object": obj}),
        ));
    }

    pub fn namespace(&self, name: &str, labels: Value) {
        self.put(
            Kind::Namespace,
            json!({"metadata": {"name": name, "labels": labels}}),
        );
    }

    pub fn cluster_role_binding(&self, name: &str, role: &str, subjects: Value) {
        self.put(
            Kind::ClusterRoleBinding,
            json!({"metadata": {"name": name}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role}, "subjects": subjects}),
        );
    }

    pub fn role_binding(&self, ns: &str, name: &str, kind: &str, role: &str, subjects: Value) {
        self.put(
            Kind::RoleBinding,
            json!({"metadata": {"name": name, "namespace": ns}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role}, "subjects": subjects}),
        );
    }

    pub fn config_map(&self, ns: &str, name: &str, data: Value) {
        self.put(
            Kind::ConfigMap,
            json!({"metadata": {"name": name, "namespace": ns}, "data": data}),
        );
    }

    /// A Secret with `data` (values given as text, stored base64).
    pub fn secret(&self, ns: &str, name: &str, data: &[(&str, &str)]) {
        use base64::Engine as _;
        let data: serde_json::Map<String, Value> = data
            .iter()
            .map(|(k, v)| {
                let encoded = base64::engine::general_purpose::STANDARD.encode(v);
                (k.to_string(), json!(encoded))
            })
            .collect();
        self.apply(
            "v1/secrets",
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": ns}, "type": "Opaque", "data": data}),
        );
    }

    /// A ServiceAccount with these `imagePullSecrets`.
    pub fn service_account(&self, ns: &str, name: &str, pull_secrets: &[&str]) {
        let refs: Vec<Value> = pull_secrets.iter().map(|n| json!({"name": n})).collect();
        self.apply(
            "v1/serviceaccounts",
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns}, "imagePullSecrets": refs}),
        );
    }

    /// Stores an object of `collection` (`v1/pods`, `apps/v1/deployments`)
    /// as a client would create or replace it; watchers are told.
    pub fn apply(&self, collection: &str, mut obj: Value) {
        let ns = obj["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
        if obj["metadata"]["uid"].is_null() {
            obj["metadata"]["uid"] =
                json!(format!("uid-{collection}-{ns}-{name}").replace('/', "-"));
        }
        let rv = self.version.fetch_add(1, Ordering::SeqCst) + 1;
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        let existed = self
            .generic
            .lock()
            .unwrap()
            .insert((collection.to_string(), ns, name), obj.clone())
            .is_some();
        let kind = if existed { "MODIFIED" } else { "ADDED" };
        let _ = self
            .generic_events
            .send((collection.to_string(), json!({"type": kind, "object": obj})));
    }

    /// A client's create or replace in namespace `ns`: counted, stored, and
    /// returned as stored.
    fn write(&self, collection: &str, ns: &str, mut obj: Value) -> Value {
        if !ns.is_empty() {
            obj["metadata"]["namespace"] = json!(ns);
        }
        let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
        *self
            .writes
            .lock()
            .unwrap()
            .entry(collection.to_string())
            .or_default() += 1;
        self.apply(collection, obj);
        self.object(collection, ns, &name).unwrap_or_default()
    }

    /// Deletes an object of `collection`; watchers are told.
    pub fn remove(&self, collection: &str, ns: &str, name: &str) -> Option<Value> {
        let mut obj = self.generic.lock().unwrap().remove(&(
            collection.to_string(),
            ns.to_string(),
            name.to_string(),
        ))?;
        let rv = self.version.fetch_add(1, Ordering::SeqCst) + 1;
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        let _ = self.generic_events.send((
            collection.to_string(),
            json!({"type": "DELETED", "object": obj.clone()}),
        ));
        Some(obj)
    }

    /// The objects of `collection`.
    pub fn objects(&self, collection: &str) -> Vec<Value> {
        self.generic
            .lock()
            .unwrap()
            .iter()
            .filter(|((c, _, _), _)| c == collection)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// One object of `collection`.
    pub fn object(&self, collection: &str, ns: &str, name: &str) -> Option<Value> {
        self.generic
            .lock()
            .unwrap()
            .get(&(collection.to_string(), ns.to_string(), name.to_string()))
            .cloned()
    }

    /// Creates and replaces clients made in `collection`.
    pub fn writes(&self, collection: &str) -> usize {
        self.writes
            .lock()
            .unwrap()
            .get(collection)
            .copied()
            .unwrap_or(0)
    }

    fn items(&self, kind: Kind) -> Vec<Value> {
        let k = kind_key(kind);
        self.objects
            .lock()
            .unwrap()
            .iter()
            .filter(|((kk, _), _)| *kk == k)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

async fn collection(
    State((api, kind)): State<(Arc<FakeApi>, Kind)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (api_version, list_kind) = kind.list_kind();
    let watching = q.get("watch").is_some_and(|w| w == "true" || w == "1");
    if !watching {
        api.lists.fetch_add(1, Ordering::SeqCst);
        let rv = api.version.load(Ordering::SeqCst).to_string();
        return axum::Json(json!({
            "apiVersion": api_version, "kind": list_kind,
            "metadata": {"resourceVersion": rv},
            "items": api.items(kind),
        }))
        .into_response();
    }
    api.watches.fetch_add(1, Ordering::SeqCst);
    let rx = api.events.subscribe();
    let stream = tokio_stream_from(rx).filter_map(move |(k, ev)| async move {
        (k == kind).then(|| Ok::<_, std::io::Error>(format!("{ev}\n")))
    });
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from_stream(stream))
        .unwrap()
}

fn tokio_stream_from(
    rx: broadcast::Receiver<(Kind, Value)>,
) -> impl futures::Stream<Item = (Kind, Value)> {
    futures::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(ev) => return Some((ev, rx)),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}

async fn one_namespace(State(api): State<Arc<FakeApi>>, Path(name): Path<String>) -> Response {
    let key = (kind_key(Kind::Namespace), format!("/{name}"));
    match api.objects.lock().unwrap().get(&key) {
        Some(o) => {
            let mut o = o.clone();
            o["apiVersion"] = json!("v1");
            o["kind"] = json!("Namespace");
            axum::Json(o).into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"apiVersion": "v1", "kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404, "message": format!("namespaces \"{name}\" not found")})),
        )
            .into_response(),
    }
}

/// ConfigMaps of one namespace (a list, no watch).
async fn namespaced_config_maps(
    State(api): State<Arc<FakeApi>>,
    Path(ns): Path<String>,
) -> Response {
    api.lists.fetch_add(1, Ordering::SeqCst);
    let items: Vec<Value> = api
        .items(Kind::ConfigMap)
        .into_iter()
        .filter(|o| o["metadata"]["namespace"] == ns.as_str())
        .map(|mut o| {
            o["apiVersion"] = json!("v1");
            o["kind"] = json!("ConfigMap");
            o
        })
        .collect();
    axum::Json(json!({"apiVersion": "v1", "kind": "ConfigMapList", "metadata": {"resourceVersion": api.version.load(Ordering::SeqCst).to_string()}, "items": items}))
        .into_response()
}

async fn one_config_map(
    State(api): State<Arc<FakeApi>>,
    Path((ns, name)): Path<(String, String)>,
) -> Response {
    api.config_map_gets.fetch_add(1, Ordering::SeqCst);
    let key = (kind_key(Kind::ConfigMap), format!("{ns}/{name}"));
    match api.objects.lock().unwrap().get(&key) {
        Some(o) => {
            let mut o = o.clone();
            o["apiVersion"] = json!("v1");
            o["kind"] = json!("ConfigMap");
            axum::Json(o).into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"apiVersion": "v1", "kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404, "message": format!("configmaps \"{name}\" not found")})),
        )
            .into_response(),
    }
}

/// The `fieldSelector` a list or watch gives: `metadata.name=x` only.
fn name_selector(q: &HashMap<String, String>) -> Option<String> {
    q.get("fieldSelector")
        .and_then(|f| f.strip_prefix("metadata.name="))
        .map(str::to_string)
}

/// An API path's collection (`v1/pods`, `apps/v1/deployments`), namespace
/// and name.
fn target(path: &str) -> Option<(String, String, Option<String>)> {
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (gv, rest): (String, &[&str]) = match segs.as_slice() {
        ["api", v, rest @ ..] => (v.to_string(), rest),
        ["apis", g, v, rest @ ..] => (format!("{g}/{v}"), rest),
        _ => return None,
    };
    let (ns, plural, name) = match rest {
        [plural] => ("", *plural, None),
        [plural, name] => ("", *plural, Some(name.to_string())),
        ["namespaces", ns, plural] => (*ns, *plural, None),
        ["namespaces", ns, plural, name] => (*ns, *plural, Some(name.to_string())),
        _ => return None,
    };
    Some((format!("{gv}/{plural}"), ns.to_string(), name))
}

fn status(code: StatusCode, reason: &str, message: String) -> Response {
    (
        code,
        axum::Json(
            json!({"apiVersion": "v1", "kind": "Status", "status": "Failure",
            "reason": reason, "code": code.as_u16(), "message": message}),
        ),
    )
        .into_response()
}

/// Every collection without a route of its own.
async fn generic(
    State(api): State<Arc<FakeApi>>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    body: axum::body::Bytes,
) -> Response {
    use axum::http::Method;
    let Some((collection, ns, name)) = target(uri.path()) else {
        return status(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("{} not found", uri.path()),
        );
    };
    let q: HashMap<String, String> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let labels: Vec<(String, String)> = q
        .get("labelSelector")
        .map(|s| {
            s.split(',')
                .filter_map(|t| t.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default();
    let field_name = name_selector(&q);
    let wanted = {
        let (collection, ns) = (collection.clone(), ns.clone());
        move |c: &str, o: &Value| {
            c == collection
                && (ns.is_empty() || o["metadata"]["namespace"] == ns.as_str())
                && labels
                    .iter()
                    .all(|(k, v)| o["metadata"]["labels"][k] == v.as_str())
                && field_name
                    .as_deref()
                    .is_none_or(|n| o["metadata"]["name"] == n)
        }
    };
    let key = |n: &str| (collection.clone(), ns.clone(), n.to_string());
    match (method, name) {
        (Method::GET, None) if q.get("watch").is_some_and(|w| w == "true" || w == "1") => {
            api.watches.fetch_add(1, Ordering::SeqCst);
            let rx = api.generic_events.subscribe();
            let stream = futures::stream::unfold(rx, |mut rx| async move {
                loop {
                    match rx.recv().await {
                        Ok(ev) => return Some((ev, rx)),
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            })
            .filter_map(move |(c, ev)| {
                let keep = wanted(&c, &ev["object"]);
                async move { keep.then(|| Ok::<_, std::io::Error>(format!("{ev}\n"))) }
            });
            Response::builder()
                .header("content-type", "application/json")
                .body(Body::from_stream(stream))
                .unwrap()
        }
        (Method::GET, None) => {
            api.lists.fetch_add(1, Ordering::SeqCst);
            let items: Vec<Value> = api
                .generic
                .lock()
                .unwrap()
                .iter()
                .filter(|((c, _, _), o)| wanted(c, o))
                .map(|(_, o)| o.clone())
                .collect();
            let rv = api.version.load(Ordering::SeqCst).to_string();
            axum::Json(json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": rv}, "items": items}))
                .into_response()
        }
        (Method::GET, Some(n)) => {
            if collection == "v1/secrets" {
                api.secret_gets.fetch_add(1, Ordering::SeqCst);
            }
            let found = api.generic.lock().unwrap().get(&key(&n)).cloned();
            let plural = collection.rsplit('/').next().unwrap_or("");
            match found {
                Some(o) => axum::Json(o).into_response(),
                None => status(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    format!("{plural} \"{n}\" not found"),
                ),
            }
        }
        (Method::POST, None) => {
            let Ok(obj) = serde_json::from_slice::<Value>(&body) else {
                return status(StatusCode::BAD_REQUEST, "BadRequest", "not JSON".into());
            };
            let n = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
            if api.generic.lock().unwrap().contains_key(&key(&n)) {
                return status(
                    StatusCode::CONFLICT,
                    "AlreadyExists",
                    format!("{collection} \"{n}\" already exists"),
                );
            }
            let stored = api.write(&collection, &ns, obj);
            (StatusCode::CREATED, axum::Json(stored)).into_response()
        }
        (Method::PUT, Some(n)) => {
            let Ok(mut obj) = serde_json::from_slice::<Value>(&body) else {
                return status(StatusCode::BAD_REQUEST, "BadRequest", "not JSON".into());
            };
            let current = api.generic.lock().unwrap().get(&key(&n)).cloned();
            let Some(current) = current else {
                return status(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    format!("{collection} \"{n}\" not found"),
                );
            };
            let given = &obj["metadata"]["resourceVersion"];
            if !given.is_null() && *given != current["metadata"]["resourceVersion"] {
                return status(
                    StatusCode::CONFLICT,
                    "Conflict",
                    format!("the object {n} has been modified"),
                );
            }
            obj["metadata"]["uid"] = current["metadata"]["uid"].clone();
            axum::Json(api.write(&collection, &ns, obj)).into_response()
        }
        (Method::DELETE, Some(n)) => match api.remove(&collection, &ns, &n) {
            Some(o) => axum::Json(o).into_response(),
            None => status(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("{collection} \"{n}\" not found"),
            ),
        },
        (m, _) => status(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("{m} {}", uri.path()),
        ),
    }
}

/// Starts the fake on a loopback port; returns it with a kubeconfig path.
pub async fn start(dir: &std::path::Path) -> (Arc<FakeApi>, String) {
    let (events, _) = broadcast::channel(256);
    let api = Arc::new(FakeApi {
        objects: Mutex::new(BTreeMap::new()),
        version: AtomicU64::new(100),
        events,
        watches: AtomicUsize::new(0),
        lists: AtomicUsize::new(0),
        config_map_gets: AtomicUsize::new(0),
        secret_gets: AtomicUsize::new(0),
        generic: Mutex::new(BTreeMap::new()),
        generic_events: broadcast::channel(1024).0,
        writes: Mutex::new(BTreeMap::new()),
    });
    let app = Router::new()
        .route(
            "/api/v1/namespaces",
            get(collection).with_state((api.clone(), Kind::Namespace)),
        )
        .route(
            "/api/v1/namespaces/{name}",
            get(one_namespace).with_state(api.clone()),
        )
        .route(
            "/api/v1/namespaces/{ns}/configmaps",
            get(namespaced_config_maps).with_state(api.clone()),
        )
        .route(
            "/api/v1/namespaces/{ns}/configmaps/{name}",
            get(one_config_map).with_state(api.clone()),
        )
        .route(
            "/apis/rbac.authorization.k8s.io/v1/rolebindings",
            get(collection).with_state((api.clone(), Kind::RoleBinding)),
        )
        .route(
            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
            get(collection).with_state((api.clone(), Kind::ClusterRoleBinding)),
        )
        .fallback(generic)
        .with_state(api.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster: {{server: 'http://127.0.0.1:{port}'}}\nusers:\n- name: u\n  user: {{token: test-token}}\ncontexts:\n- name: c\n  context: {{cluster: fake, user: u}}\ncurrent-context: c\n"
        ),
    )
    .unwrap();
    (api, path.display().to_string())
}
