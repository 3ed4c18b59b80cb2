//! Secrets the module reads by name (attestor keys: `k8s://ns/name`,
//! `secret: {name, namespace}`), each watched from its first read: later
//! admissions read it from the watch's store, without a round trip to the
//! API server, and a rotated key is seen as soon as the watch delivers it.
//! Until a watch has its first list (or when RBAC grants `get` but not
//! `list`/`watch`), the Secret is read directly.

use crate::source::SourceAnswer;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use std::collections::HashMap;
use std::sync::Mutex;

/// Most Secrets watched at once; further ones are read on each admission.
pub const MAX_WATCHED_SECRETS: usize = 64;

/// One watched Secret.
struct Watch {
    store: Store<Secret>,
    task: tokio::task::JoinHandle<()>,
}

/// The watched Secrets, by namespace and name.
pub struct WatchedSecrets {
    client: Client,
    watches: Mutex<HashMap<(String, String), Watch>>,
}

impl Drop for WatchedSecrets {
    fn drop(&mut self) {
        if let Ok(watches) = self.watches.lock() {
            for w in watches.values() {
                w.task.abort();
            }
        }
    }
}

/// The namespace and name of a GET of one Secret
/// (`/api/v1/namespaces/{ns}/secrets/{name}`, no query).
pub fn secret_path<'p>(method: &str, path: &'p str) -> Option<(&'p str, &'p str)> {
    if method != "GET" {
        return None;
    }
    let rest = path.strip_prefix("/api/v1/namespaces/")?;
    let (ns, rest) = rest.split_once('/')?;
    let name = rest.strip_prefix("secrets/")?;
    let valid =
        imgverify::kube_path::valid_segment(ns) && imgverify::kube_path::valid_segment(name);
    valid.then_some((ns, name))
}

impl WatchedSecrets {
    /// No Secret watched yet.
    pub fn new(client: Client) -> Self {
        WatchedSecrets {
            client,
            watches: Mutex::new(HashMap::new()),
        }
    }

    /// The Secret from its watch, as the API server would answer a GET;
    /// `None` when it is not watched yet or its watch has not listed it
    /// (the watch is then started, and the caller reads it directly).
    pub fn get(&self, namespace: &str, name: &str) -> Option<SourceAnswer> {
        let mut watches = self.watches.lock().ok()?;
        let key = (namespace.to_string(), name.to_string());
        let Some(w) = watches.get(&key) else {
            if watches.len() < MAX_WATCHED_SECRETS {
                let w = self.watch(namespace, name);
                watches.insert(key, w);
            }
            return None;
        };
        // Before its first list the store is empty, not authoritative.
        futures::FutureExt::now_or_never(w.store.wait_until_ready())?.ok()?;
        let secret = w.store.get(&ObjectRef::new(name).within(namespace));
        Some(match secret {
            Some(s) => match serde_json::to_vec(s.as_ref()) {
                Ok(bytes) => SourceAnswer::Bytes(bytes),
                Err(e) => SourceAnswer::Error(format!("secret {namespace}/{name}: {e}")),
            },
            None => SourceAnswer::NotFound(format!("secrets \"{name}\" not found")),
        })
    }

    /// Starts watching one Secret (a field selector on its name).
    fn watch(&self, namespace: &str, name: &str) -> Watch {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
        let (store, writer) = reflector::store::<Secret>();
        let stream =
            reflector::reflector(writer, watcher(api, config).default_backoff()).applied_objects();
        let what = format!("{namespace}/{name}");
        let task = tokio::spawn(async move {
            stream
                .for_each(|r| {
                    let what = what.clone();
                    async move {
                        if let Err(e) = r {
                            tracing::warn!(secret = %what, error = %e, "secret watch error; retrying");
                        }
                    }
                })
                .await;
        });
        Watch { store, task }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_gets_of_one_secret_are_watched() {
        assert_eq!(
            secret_path("GET", "/api/v1/namespaces/signing/secrets/cosign-key"),
            Some(("signing", "cosign-key"))
        );
        for (method, path) in [
            ("POST", "/api/v1/namespaces/signing/secrets/cosign-key"),
            ("GET", "/api/v1/namespaces/signing/secrets"),
            ("GET", "/api/v1/namespaces/signing/secrets/a/b"),
            ("GET", "/api/v1/namespaces/signing/secrets/k?watch=1"),
            ("GET", "/api/v1/namespaces/signing/configmaps/k"),
            ("GET", "/apis/v1/namespaces/signing/secrets/k"),
        ] {
            assert_eq!(secret_path(method, path), None, "{method} {path}");
        }
    }
}
