//! The admission context the engine cannot see in an AdmissionReview: the
//! labels of the request's namespace (for `namespaceSelector`) and the
//! requesting user's roles and cluster roles (for `roles` / `clusterRoles`),
//! read from the Kubernetes API through watching reflectors (list + watch),
//! with a direct GET for a namespace the reflector has not seen yet.
//!
//! Roles are computed as Kyverno's `userinfo.GetRoleRef` does: a RoleBinding
//! to a Role gives `namespace:role` (whatever the request's namespace); a
//! RoleBinding to a ClusterRole gives that cluster role only for requests in
//! the binding's namespace; a ClusterRoleBinding gives its cluster role.
//! Subjects match exactly: a User by name, a Group by one of the user's
//! groups, a ServiceAccount as `system:serviceaccount:<ns>:<name>` (its
//! namespace defaulting to the binding's).

use crate::source::SourceAnswer;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding, Subject};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Config};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// A connection to the cluster with its watched stores.
pub struct Cluster {
    client: Client,
    namespaces: Store<Namespace>,
    role_bindings: Store<RoleBinding>,
    cluster_role_bindings: Store<ClusterRoleBinding>,
    /// Secrets read by name (attestor keys), watched from their first read.
    secrets: crate::watched_secrets::WatchedSecrets,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Why a namespace's labels could not be had.
#[derive(Debug, thiserror::Error)]
pub enum NamespaceError {
    /// The API server could not be asked in time: a transport failure.
    #[error("{0}")]
    Transport(String),
    /// The API server says there is no such namespace: the request is not
    /// one that can be admitted.
    #[error("{0}")]
    Missing(String),
}

/// The requesting user's roles and cluster roles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles {
    /// `namespace:role`.
    pub roles: Vec<String>,
    /// Cluster role names.
    pub cluster_roles: Vec<String>,
}

/// Builds the client configuration: `kubeconfig` when given, else in-cluster
/// service account or `KUBECONFIG` / `~/.kube/config` (kube's inference).
pub async fn config(kubeconfig: Option<&str>) -> Result<Config, String> {
    match kubeconfig {
        Some(path) => {
            let kc =
                kube::config::Kubeconfig::read_from(path).map_err(|e| format!("{path}: {e}"))?;
            Config::from_custom_kubeconfig(kc, &Default::default())
                .await
                .map_err(|e| format!("{path}: {e}"))
        }
        None => Config::infer().await.map_err(|e| e.to_string()),
    }
}

/// A client for `config`.
pub fn client(config: Config) -> Result<Client, String> {
    // The kube client builds its TLS from rustls's process-wide provider:
    // ring, as everywhere in this binary (another dependency also links
    // aws-lc-rs, so rustls cannot choose one by itself).
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::try_from(config).map_err(|e| e.to_string())
}

/// A store of `api`'s objects, kept by a reflector task pushed to `tasks`.
pub(crate) fn watch<K>(api: Api<K>, tasks: &mut Vec<tokio::task::JoinHandle<()>>) -> Store<K>
where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let (reader, writer) = reflector::store::<K>();
    let stream = reflector::reflector(
        writer,
        watcher(api, watcher::Config::default()).default_backoff(),
    )
    .applied_objects();
    tasks.push(tokio::spawn(async move {
        stream
            .for_each(|r| async move {
                if let Err(e) = r {
                    tracing::warn!(error = %e, "cluster watch error; retrying");
                }
            })
            .await;
    }));
    reader
}

impl Cluster {
    /// Connects and starts watching namespaces, role bindings and cluster
    /// role bindings.
    pub fn start(config: Config) -> Result<Self, String> {
        let client = client(config)?;
        let mut tasks = Vec::new();
        let namespaces = watch(Api::<Namespace>::all(client.clone()), &mut tasks);
        let role_bindings = watch(Api::<RoleBinding>::all(client.clone()), &mut tasks);
        let cluster_role_bindings =
            watch(Api::<ClusterRoleBinding>::all(client.clone()), &mut tasks);
        Ok(Cluster {
            secrets: crate::watched_secrets::WatchedSecrets::new(client.clone()),
            client,
            namespaces,
            role_bindings,
            cluster_role_bindings,
            tasks,
        })
    }

    /// A Kubernetes API call for a policy's `configMap` or `apiCall` context
    /// entry or a Secret holding a key (from its watch once it has one):
    /// the answer's bytes (at most `max`), `not_found` for 404,
    /// `unauthorized` for 401/403 (what this service account may read is
    /// RBAC's decision), `invalid` for another refusal, `error` for transport.
    pub async fn api_call(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        max: usize,
        deadline: Instant,
    ) -> SourceAnswer {
        use futures::AsyncReadExt as _;
        if let Some((ns, name)) = crate::watched_secrets::secret_path(method, path)
            && let Some(answer) = self.secrets.get(ns, name)
        {
            return match answer {
                SourceAnswer::Bytes(b) if b.len() > max => SourceAnswer::Invalid(format!(
                    "{method} {path}: the answer is over {max} bytes"
                )),
                other => other,
            };
        }
        let request = http::Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .body(body.unwrap_or("").as_bytes().to_vec());
        let request = match request {
            Ok(r) => r,
            Err(e) => return SourceAnswer::Invalid(format!("{method} {path}: {e}")),
        };
        let call = async {
            let mut reader = self.client.request_stream(request).await?;
            let mut bytes = Vec::new();
            let mut limited = (&mut reader).take(max as u64 + 1);
            limited
                .read_to_end(&mut bytes)
                .await
                .map_err(kube::Error::ReadEvents)?;
            Ok::<_, kube::Error>(bytes)
        };
        let answer = tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), call).await;
        match answer {
            Err(_) => SourceAnswer::Error(format!("{method} {path}: deadline exceeded")),
            Ok(Ok(b)) if b.len() > max => {
                SourceAnswer::Invalid(format!("{method} {path}: the answer is over {max} bytes"))
            }
            Ok(Ok(b)) => SourceAnswer::Bytes(b),
            Ok(Err(kube::Error::Api(status))) => {
                let m = format!("{method} {path}: {} ({})", status.message, status.code);
                match status.code {
                    404 => SourceAnswer::NotFound(m),
                    401 | 403 => SourceAnswer::Unauthorized(m),
                    500..=599 => SourceAnswer::Error(m),
                    _ => SourceAnswer::Invalid(m),
                }
            }
            Ok(Err(e)) => SourceAnswer::Error(format!("{method} {path}: {e}")),
        }
    }

    /// The client it reads with.
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// Waits until every store has its first full list, up to `timeout`.
    pub async fn wait_synced(&self, timeout: Duration) -> Result<(), String> {
        let all = async {
            self.namespaces
                .wait_until_ready()
                .await
                .map_err(|e| e.to_string())?;
            self.role_bindings
                .wait_until_ready()
                .await
                .map_err(|e| e.to_string())?;
            self.cluster_role_bindings
                .wait_until_ready()
                .await
                .map_err(|e| e.to_string())
        };
        tokio::time::timeout(timeout, all).await.map_err(|_| {
            format!("the cluster's namespaces and role bindings were not listed within {timeout:?}")
        })?
    }

    /// The labels of namespace `name`: from the watched store, or fetched
    /// when the store has not seen it yet.
    pub async fn namespace_labels(
        &self,
        name: &str,
        deadline: Instant,
    ) -> Result<BTreeMap<String, String>, NamespaceError> {
        if let Some(ns) = self.namespaces.get(&ObjectRef::new(name)) {
            return Ok(ns.metadata.labels.clone().unwrap_or_default());
        }
        let api: Api<Namespace> = Api::all(self.client.clone());
        let until = tokio::time::Instant::from_std(deadline);
        let got = tokio::time::timeout_at(until, api.get_opt(name))
            .await
            .map_err(|_| NamespaceError::Transport(format!("reading namespace {name} timed out")))?
            .map_err(|e| NamespaceError::Transport(format!("reading namespace {name}: {e}")))?;
        match got {
            Some(ns) => Ok(ns.metadata.labels.unwrap_or_default()),
            None => Err(NamespaceError::Missing(format!(
                "namespace {name} does not exist, so its labels cannot be checked"
            ))),
        }
    }

    /// The roles and cluster roles bound to a user in a request's namespace.
    pub fn roles(&self, username: &str, groups: &[String], request_namespace: &str) -> Roles {
        let mut roles = BTreeSet::new();
        let mut cluster_roles = BTreeSet::new();
        for rb in self.role_bindings.state() {
            let ns = rb.metadata.namespace.as_deref().unwrap_or("");
            if !subjects_match(rb.subjects.as_deref(), ns, username, groups) {
                continue;
            }
            match rb.role_ref.kind.as_str() {
                "Role" => {
                    roles.insert(format!("{ns}:{}", rb.role_ref.name));
                }
                "ClusterRole" if ns == request_namespace => {
                    cluster_roles.insert(rb.role_ref.name.clone());
                }
                _ => {}
            }
        }
        for crb in self.cluster_role_bindings.state() {
            if crb.role_ref.kind == "ClusterRole"
                && subjects_match(crb.subjects.as_deref(), "", username, groups)
            {
                cluster_roles.insert(crb.role_ref.name.clone());
            }
        }
        Roles {
            roles: roles.into_iter().collect(),
            cluster_roles: cluster_roles.into_iter().collect(),
        }
    }
}

/// Whether any subject of a binding in `binding_ns` is this user.
fn subjects_match(
    subjects: Option<&[Subject]>,
    binding_ns: &str,
    username: &str,
    groups: &[String],
) -> bool {
    subjects
        .into_iter()
        .flatten()
        .any(|s| match s.kind.as_str() {
            "ServiceAccount" => {
                let ns = s
                    .namespace
                    .as_deref()
                    .filter(|n| !n.is_empty())
                    .unwrap_or(binding_ns);
                !ns.is_empty() && username == format!("system:serviceaccount:{ns}:{}", s.name)
            }
            "Group" => groups.contains(&s.name),
            "User" => username == s.name,
            _ => false,
        })
}

/// The live cluster as the module's Kubernetes API (context entries,
/// image policies' `resource.*`), through the webhook's client.
pub struct LiveKubeApi {
    /// The cluster connection, when the policies need one.
    pub cluster: Option<std::sync::Arc<Cluster>>,
    /// The runtime the API calls run on.
    pub runtime: tokio::runtime::Handle,
}

impl crate::source::KubeApi for LiveKubeApi {
    fn answer(&self, f: &imgverify::engine::Fetch, deadline: Option<Instant>) -> SourceAnswer {
        let Some(cluster) = &self.cluster else {
            return SourceAnswer::Error(format!(
                "{}: no cluster connection for a context entry",
                f.key
            ));
        };
        let deadline = deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(10));
        self.runtime.block_on(
            cluster.api_call(
                f.method.as_deref().unwrap_or("GET"),
                f.path.as_deref().unwrap_or("/"),
                f.body.as_deref(),
                f.max_bytes
                    .map_or(imgverify::limits::MAX_KUBE_API_BYTES, |m| {
                        m.min(imgverify::limits::MAX_KUBE_API_BYTES)
                    }),
                deadline,
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(kind: &str, name: &str, ns: Option<&str>) -> Subject {
        Subject {
            kind: kind.into(),
            name: name.into(),
            namespace: ns.map(str::to_string),
            api_group: None,
        }
    }

    #[test]
    fn subjects_match_exactly() {
        let g = vec!["devs".to_string()];
        assert!(subjects_match(
            Some(&[subject("User", "alice", None)]),
            "a",
            "alice",
            &g
        ));
        assert!(!subjects_match(
            Some(&[subject("User", "alic*", None)]),
            "a",
            "alice",
            &g
        ));
        assert!(subjects_match(
            Some(&[subject("Group", "devs", None)]),
            "a",
            "bob",
            &g
        ));
        let sa = "system:serviceaccount:ci:builder";
        assert!(subjects_match(
            Some(&[subject("ServiceAccount", "builder", None)]),
            "ci",
            sa,
            &[]
        ));
        assert!(subjects_match(
            Some(&[subject("ServiceAccount", "builder", Some("ci"))]),
            "",
            sa,
            &[]
        ));
        assert!(!subjects_match(
            Some(&[subject("ServiceAccount", "builder", None)]),
            "",
            sa,
            &[]
        ));
        assert!(!subjects_match(None, "ci", sa, &[]));
    }
}
