//! Kubernetes objects a test gives (`clusterResources` of a Kyverno test,
//! `cli.kyverno.io/v1alpha1` `ClusterResource` files): a read-only stand-in
//! for the API server that answers the module's `kube_api` GETs (context
//! `configMap` and `apiCall` entries, image policies' `resource.get` and
//! `resource.list`), as the Kyverno CLI answers them from its fake client.
//!
//! Paths are read as the API server reads them: `/api/<v>` or
//! `/apis/<group>/<v>`, then `namespaces/<ns>/` for a namespaced object, the
//! resource (plural) and a name for a get, none for a list. A resource's
//! plural comes from the CRDs the files name, else from the kind as
//! Kubernetes guesses it. Writes and subresources are refused.

use crate::source::{KubeApi, SourceAnswer};
use imgverify::engine::Fetch;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::Path;

/// The most objects the files may hold.
pub const MAX_OBJECTS: usize = 10_000;

/// Why cluster resources could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file could not be read.
    #[error("failed to load Kubernetes resources: {path}: {message}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// A document is not a `ClusterResource`, or an object lacks a field.
    #[error("failed to load Kubernetes resources: {path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// More than [`MAX_OBJECTS`] objects.
    #[error("failed to load Kubernetes resources: more than {MAX_OBJECTS} objects")]
    TooMany,
}

/// One object, indexed by where the API serves it.
#[derive(Debug)]
struct Stored {
    group: String,
    version: String,
    plural: String,
    namespace: String,
    name: String,
    object: Value,
}

/// The objects of a test's `clusterResources`.
#[derive(Debug, Default)]
pub struct ClusterResources {
    objects: Vec<Stored>,
    /// `(group, kind)` → plural, from CRDs.
    plurals: BTreeMap<(String, String), String>,
}

impl ClusterResources {
    /// Loads `ClusterResource` files (paths relative to `base`), their
    /// `spec.resources` and the CRDs their `spec.crds` name.
    pub fn load(base: &Path, files: &[String]) -> Result<Self, LoadError> {
        let mut me = ClusterResources::default();
        let mut objects = Vec::new();
        for file in files {
            let path = base.join(file);
            for doc in read_yaml(&path)? {
                let invalid = |message: String| LoadError::Invalid {
                    path: path.display().to_string(),
                    message,
                };
                if doc.get("kind").and_then(Value::as_str) != Some("ClusterResource") {
                    return Err(invalid("not a ClusterResource".into()));
                }
                let spec = doc.get("spec").cloned().unwrap_or(Value::Null);
                for crd in spec
                    .get("crds")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let Some(crd) = crd.as_str() else {
                        return Err(invalid("spec.crds holds a non-string".into()));
                    };
                    for d in read_yaml(&base.join(crd))? {
                        me.learn_crd(&d);
                    }
                }
                for o in spec
                    .get("resources")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if !o.is_object() {
                        return Err(invalid("spec.resources holds a non-object".into()));
                    }
                    objects.push(o.clone());
                }
            }
        }
        for o in objects {
            me.add(o)?;
        }
        Ok(me)
    }

    /// Adds one object (its plural from the CRDs learned so far).
    pub fn add(&mut self, object: Value) -> Result<(), LoadError> {
        if self.objects.len() >= MAX_OBJECTS {
            return Err(LoadError::TooMany);
        }
        let s = |p: &str| {
            object
                .pointer(p)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let (api_version, kind, name) = (s("/apiVersion"), s("/kind"), s("/metadata/name"));
        if api_version.is_empty() || kind.is_empty() || name.is_empty() {
            return Err(LoadError::Invalid {
                path: "clusterResources".into(),
                message: format!(
                    "an object needs apiVersion, kind and metadata.name (got {api_version:?}, {kind:?}, {name:?})"
                ),
            });
        }
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), api_version),
        };
        let plural = self
            .plurals
            .get(&(group.clone(), kind.clone()))
            .cloned()
            .unwrap_or_else(|| imgverify::admission::guess_resource(&kind));
        self.objects.push(Stored {
            group,
            version,
            plural,
            namespace: s("/metadata/namespace"),
            name,
            object,
        });
        Ok(())
    }

    fn learn_crd(&mut self, crd: &Value) {
        let s = |p: &str| crd.pointer(p).and_then(Value::as_str).unwrap_or("");
        if s("/kind") != "CustomResourceDefinition" {
            return;
        }
        let (group, kind, plural) = (
            s("/spec/group"),
            s("/spec/names/kind"),
            s("/spec/names/plural"),
        );
        if !kind.is_empty() && !plural.is_empty() {
            self.plurals
                .insert((group.to_string(), kind.to_string()), plural.to_string());
        }
    }

    /// The answer to a GET of `path` (with an optional `?labelSelector=`).
    pub fn get(&self, path: &str) -> SourceAnswer {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let Some(target) = Target::parse(path) else {
            return SourceAnswer::NotFound(format!(
                "{path}: not a Kubernetes API path these cluster resources can answer"
            ));
        };
        let selector = match label_selector(query) {
            Ok(s) => s,
            Err(m) => return SourceAnswer::Invalid(format!("{path}: {m}")),
        };
        let of_resource = |o: &&Stored| {
            o.group == target.group && o.version == target.version && o.plural == target.plural
        };
        match &target.name {
            Some(name) => self
                .objects
                .iter()
                .filter(of_resource)
                .find(|o| &o.name == name && o.namespace == target.namespace)
                .map(|o| SourceAnswer::Bytes(o.object.to_string().into_bytes()))
                .unwrap_or_else(|| {
                    SourceAnswer::NotFound(format!("{} {name:?} not found", target.plural))
                }),
            None => {
                let items: Vec<Value> = self
                    .objects
                    .iter()
                    .filter(of_resource)
                    .filter(|o| target.namespace.is_empty() || o.namespace == target.namespace)
                    .filter(|o| selector.iter().all(|(k, v)| label(&o.object, k) == Some(v)))
                    .map(|o| o.object.clone())
                    .collect();
                let kind = self
                    .objects
                    .iter()
                    .find(|o| of_resource(o))
                    .and_then(|o| o.object.get("kind").and_then(Value::as_str))
                    .unwrap_or("");
                let api_version = if target.group.is_empty() {
                    target.version.clone()
                } else {
                    format!("{}/{}", target.group, target.version)
                };
                SourceAnswer::Bytes(
                    json!({
                        "apiVersion": api_version,
                        "kind": format!("{kind}List"),
                        "metadata": {"resourceVersion": ""},
                        "items": items,
                    })
                    .to_string()
                    .into_bytes(),
                )
            }
        }
    }
}

impl KubeApi for ClusterResources {
    fn answer(&self, f: &Fetch, _deadline: Option<std::time::Instant>) -> SourceAnswer {
        let method = f.method.as_deref().unwrap_or("GET");
        if method != "GET" {
            return SourceAnswer::Error(format!(
                "{}: method {method} is not supported with cluster resources (reads only)",
                f.key
            ));
        }
        self.get(f.path.as_deref().unwrap_or("/"))
    }
}

/// What a path asks for.
#[derive(Debug, PartialEq)]
struct Target {
    group: String,
    version: String,
    namespace: String,
    plural: String,
    name: Option<String>,
}

impl Target {
    fn parse(path: &str) -> Option<Target> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let (group, rest) = match parts.as_slice() {
            ["api", rest @ ..] => ("", rest),
            ["apis", group, rest @ ..] => (*group, rest),
            _ => return None,
        };
        let (version, rest) = rest.split_first()?;
        let (namespace, rest) = match rest {
            // `/api/v1/namespaces/<name>`: the Namespace itself.
            ["namespaces", _] => ("", rest),
            ["namespaces", ns, rest @ ..] => (*ns, rest),
            _ => ("", rest),
        };
        let (plural, name) = match rest {
            [plural] => (*plural, None),
            [plural, name] => (*plural, Some(name.to_string())),
            _ => return None,
        };
        let ok = |s: &str| !s.is_empty() && !s.contains(['?', '#', '%']);
        if !ok(version) || !ok(plural) || name.as_deref().is_some_and(|n| !ok(n)) {
            return None;
        }
        Some(Target {
            group: group.to_string(),
            version: version.to_string(),
            namespace: namespace.to_string(),
            plural: plural.to_string(),
            name,
        })
    }
}

/// `labelSelector=k=v,k2=v2` (equality terms only, as the module writes
/// them) from a query string.
fn label_selector(query: &str) -> Result<Vec<(String, String)>, String> {
    let mut terms = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let Some(selector) = pair.strip_prefix("labelSelector=") else {
            return Err(format!("query parameter {pair:?} is not supported"));
        };
        for term in selector.split(',').filter(|t| !t.is_empty()) {
            let (k, v) = term
                .split_once('=')
                .ok_or_else(|| format!("label selector term {term:?} is not k=v"))?;
            terms.push((k.to_string(), v.to_string()));
        }
    }
    Ok(terms)
}

fn label<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object
        .get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
        .and_then(|l: &Map<String, Value>| l.get(key))
        .and_then(Value::as_str)
}

fn read_yaml(path: &Path) -> Result<Vec<Value>, LoadError> {
    let read = |message: String| LoadError::Read {
        path: path.display().to_string(),
        message,
    };
    let bytes = crate::safe_fs::read_regular(path, imgverify::limits::MAX_POLICY_BYTES)
        .map_err(|e| read(e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|_| read("not UTF-8".into()))?;
    imgverify::yaml::parse_stream(&text).map_err(|e| read(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resources() -> ClusterResources {
        let mut r = ClusterResources::default();
        r.plurals.insert(
            ("cloud.google.com".into(), "ComputeClass".into()),
            "computeclasses".into(),
        );
        for o in [
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "cm", "namespace": "default", "labels": {"env": "prod"}},
                   "data": {"k": "v"}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "other", "namespace": "kube-system"}}),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}),
            json!({"apiVersion": "cloud.google.com/v1", "kind": "ComputeClass",
                   "metadata": {"name": "spot"}}),
        ] {
            r.add(o).unwrap();
        }
        r
    }

    fn body(a: SourceAnswer) -> Value {
        match a {
            SourceAnswer::Bytes(b) => serde_json::from_slice(&b).unwrap(),
            other => panic!("not bytes: {other:?}"),
        }
    }

    #[test]
    fn gets_and_lists_as_the_api_server_serves_them() {
        let r = resources();
        let cm = body(r.get("/api/v1/namespaces/default/configmaps/cm"));
        assert_eq!(cm["data"]["k"], "v");
        let ns = body(r.get("/api/v1/namespaces/default"));
        assert_eq!(ns["kind"], "Namespace");
        let cc = body(r.get("/apis/cloud.google.com/v1/computeclasses/spot"));
        assert_eq!(cc["metadata"]["name"], "spot");
        let all = body(r.get("/api/v1/configmaps"));
        assert_eq!(all["kind"], "ConfigMapList");
        assert_eq!(all["items"].as_array().unwrap().len(), 2);
        let in_default = body(r.get("/api/v1/namespaces/default/configmaps"));
        assert_eq!(in_default["items"].as_array().unwrap().len(), 1);
        let selected = body(r.get("/api/v1/configmaps?labelSelector=env=prod"));
        assert_eq!(selected["items"][0]["metadata"]["name"], "cm");
        let none = body(r.get("/api/v1/configmaps?labelSelector=env=dev"));
        assert_eq!(none["items"].as_array().unwrap().len(), 0);
    }

    #[test]
    fn misses_and_hostile_paths_are_not_found_or_refused() {
        let r = resources();
        // The object is in another namespace.
        assert!(matches!(
            r.get("/api/v1/namespaces/default/configmaps/other"),
            SourceAnswer::NotFound(m) if m == "configmaps \"other\" not found"
        ));
        // Subresources, traversal and odd shapes are not served.
        for p in [
            "/api/v1/namespaces/default/configmaps/cm/status",
            "/api/v1/namespaces/default/configmaps/../secrets/x",
            "/version",
            "/api",
            "/apis/g",
            "/api/v1/namespaces/default/configmaps/%2e%2e",
        ] {
            assert!(
                matches!(r.get(p), SourceAnswer::NotFound(_)),
                "{p} was answered"
            );
        }
        assert!(matches!(
            r.get("/api/v1/configmaps?watch=true"),
            SourceAnswer::Invalid(_)
        ));
        let post = Fetch::kube_api("POST", "/api/v1/configmaps", Some("{}".into()));
        assert!(matches!(r.answer(&post, None), SourceAnswer::Error(_)));
    }

    #[test]
    fn more_objects_than_the_limit_are_refused() {
        let mut r = ClusterResources::default();
        for i in 0..MAX_OBJECTS {
            let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": format!("cm-{i}"), "namespace": "default"}});
            r.add(cm).unwrap();
        }
        let one_more = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "last", "namespace": "default"}});
        assert!(matches!(r.add(one_more), Err(LoadError::TooMany)));
    }
}
