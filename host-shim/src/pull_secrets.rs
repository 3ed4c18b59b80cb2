//! Registry pull secrets read from the cluster: the Secrets a Pod's
//! `imagePullSecrets` and a policy's `imageRegistryCredentials.secrets`
//! name, and the `imagePullSecrets` of the Pod's service account. They are
//! read only when a registry asks for credentials (a 401, or a registry
//! known to take basic credentials), and kept for a few seconds so a burst
//! of fetches costs one read; `get` on Secrets and ServiceAccounts is all
//! the RBAC this needs.

use crate::registry::auth::{ClusterPullSecrets, secret_credentials};
use crate::registry::config::Credential;
use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use kube::{Api, Client};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a read Secret or service account is reused.
const TTL: Duration = Duration::from_secs(10);
/// How long one read may take.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Most entries each cache holds (cleared when full).
const MAX_CACHED: usize = 1024;

type Cache<T> = Mutex<HashMap<(String, String), (Instant, Arc<T>)>>;

/// Pull secrets read through a Kubernetes client.
pub struct KubePullSecrets {
    client: Client,
    home: String,
    secrets: Cache<BTreeMap<String, Credential>>,
    accounts: Cache<Vec<String>>,
}

impl KubePullSecrets {
    /// Reads through `client`; bare secret names are in `home`.
    pub fn new(client: Client, home: String) -> Self {
        KubePullSecrets {
            client,
            home,
            secrets: Mutex::new(HashMap::new()),
            accounts: Mutex::new(HashMap::new()),
        }
    }
}

/// The namespace imgverify runs in: the in-cluster service account's, else
/// `imgverify`.
pub fn home_namespace() -> String {
    std::fs::read_to_string("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| imgverify::kube_path::valid_segment(s))
        .unwrap_or_else(|| "imgverify".to_string())
}

fn cached<T>(cache: &Cache<T>, key: &(String, String)) -> Option<Arc<T>> {
    let m = cache.lock().ok()?;
    let (at, v) = m.get(key)?;
    (at.elapsed() < TTL).then(|| v.clone())
}

fn remember<T>(cache: &Cache<T>, key: (String, String), value: Arc<T>) {
    if let Ok(mut m) = cache.lock() {
        if m.len() >= MAX_CACHED {
            m.clear();
        }
        m.insert(key, (Instant::now(), value));
    }
}

/// One object by name, `None` when it does not exist or cannot be read.
async fn read<K>(client: &Client, namespace: &str, name: &str) -> Option<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned,
{
    if !imgverify::kube_path::valid_segment(namespace) || !imgverify::kube_path::valid_segment(name)
    {
        return None;
    }
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    match tokio::time::timeout(READ_TIMEOUT, api.get_opt(name)).await {
        Ok(Ok(found)) => found,
        Ok(Err(e)) => {
            tracing::warn!(namespace, name, kind = %K::kind(&()), error = %e, "reading pull credentials failed");
            None
        }
        Err(_) => {
            tracing::warn!(namespace, name, kind = %K::kind(&()), "reading pull credentials timed out");
            None
        }
    }
}

impl ClusterPullSecrets for KubePullSecrets {
    fn home_namespace(&self) -> &str {
        &self.home
    }

    fn secret<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Arc<BTreeMap<String, Credential>>> {
        Box::pin(async move {
            let key = (namespace.to_string(), name.to_string());
            if let Some(v) = cached(&self.secrets, &key) {
                return v;
            }
            let credentials = match read::<Secret>(&self.client, namespace, name).await {
                None => BTreeMap::new(),
                Some(secret) => {
                    let json = serde_json::to_value(&secret).unwrap_or_default();
                    secret_credentials(&json).unwrap_or_else(|e| {
                        tracing::warn!(namespace, name, error = %e, "not a pull secret");
                        BTreeMap::new()
                    })
                }
            };
            let v = Arc::new(credentials);
            remember(&self.secrets, key, v.clone());
            v
        })
    }

    fn service_account<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Arc<Vec<String>>> {
        Box::pin(async move {
            let key = (namespace.to_string(), name.to_string());
            if let Some(v) = cached(&self.accounts, &key) {
                return v;
            }
            let names: Vec<String> = read::<ServiceAccount>(&self.client, namespace, name)
                .await
                .and_then(|sa| sa.image_pull_secrets)
                .into_iter()
                .flatten()
                .map(|r| r.name)
                .filter(|n| imgverify::kube_path::valid_segment(n))
                .take(imgverify::limits::MAX_PULL_SECRETS)
                .collect();
            let v = Arc::new(names);
            remember(&self.accounts, key, v.clone());
            v
        })
    }
}
