//! A loopback Kubernetes API server for tests: namespaces, role bindings and
//! cluster role bindings, answering list, get and watch (streamed JSON
//! events) as the real API server does, with changes pushed by the test.
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
        let kind_name = match kind {
            Kind::Namespace => "Namespace",
            Kind::RoleBinding => "RoleBinding",
            Kind::ClusterRoleBinding => "ClusterRoleBinding",
            Kind::ConfigMap => "ConfigMap",
        };
        let (api, _) = kind.list_kind();
        obj["apiVersion"] = json!(api);
        obj["kind"] = json!(kind_name);
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
        );
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
