//! Image extraction from workloads: the built-in Pod and pod-controller
//! extractors and rule-level `imageExtractors`, each image with the JSON
//! pointer a digest patch replaces.

use crate::limits;
use crate::policy::model::ImageExtractor;
use crate::reference::{ImageInfo, NormalizeOptions, ReferenceError};
use serde_json::Value;
use std::collections::BTreeMap;

/// The registry credentials a resource names for its images: its pod
/// spec's `imagePullSecrets` (`namespace/name`, in the resource's
/// namespace) and its service account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullCredentials {
    /// `namespace/name`, or `name` for a resource without a namespace.
    pub secrets: Vec<String>,
    /// `namespace/name` of the pod spec's service account.
    pub service_account: Option<String>,
}

/// One image found in a resource.
#[derive(Debug, Clone)]
pub struct ExtractedImage {
    /// Context bucket (`containers`, `initContainers`, …, or an extractor name).
    pub bucket: String,
    /// Container name (or extractor key / pointer).
    pub key: String,
    /// JSON pointer to the image string.
    pub pointer: String,
    /// The string as written in the resource.
    pub value: String,
    /// The normalised image, or why it is invalid.
    pub info: Result<ImageInfo, ReferenceError>,
}

/// Why extraction failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    /// More images than [`limits::MAX_IMAGES_PER_RESOURCE`].
    #[error("resource has more than {max} images", max = limits::MAX_IMAGES_PER_RESOURCE)]
    TooMany,
    /// An extractor's `jmesPath` failed on an image, or gave no string.
    #[error("failed to apply the image extractor's jmesPath {expression:?} to {image:?}: {reason}")]
    JmesPath {
        /// The expression.
        expression: String,
        /// The image string.
        image: String,
        /// Why.
        reason: String,
    },
}

const CONTAINER_LISTS: &[&str] = &["initContainers", "containers", "ephemeralContainers"];

/// The pod spec path (as pointer segments) for a kind, if it has one.
pub fn pod_spec_path(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "Pod" => Some(&["spec"]),
        "Deployment"
        | "DaemonSet"
        | "StatefulSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => Some(&["spec", "template", "spec"]),
        "CronJob" => Some(&["spec", "jobTemplate", "spec", "template", "spec"]),
        _ => None,
    }
}

/// The pull credentials of a resource's pod spec: `imagePullSecrets`
/// names prefixed with `namespace` (as Kyverno prefixes them with the
/// resource's), at most [`limits::MAX_PULL_SECRETS`] of them, and, for a
/// pod template or a Pod naming no pull secret, the service account
/// (`serviceAccountName`, else the deprecated `serviceAccount`, else
/// `default`) when it has a namespace.
/// Names that are not Kubernetes names are left out.
pub fn pull_credentials(resource: &Value, kind: &str, namespace: &str) -> PullCredentials {
    let mut out = PullCredentials::default();
    let Some(path) = pod_spec_path(kind) else {
        return out;
    };
    let Some(spec) = path.iter().try_fold(resource, |node, seg| node.get(*seg)) else {
        return out;
    };
    let qualified = |name: &str| match namespace.is_empty() {
        true => name.to_string(),
        false => format!("{namespace}/{name}"),
    };
    for secret in spec
        .get("imagePullSecrets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        // A name, never `ns/name`: a resource reads its own namespace's.
        let Some(name) = secret
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| crate::kube_path::valid_segment(n))
        else {
            continue;
        };
        let name = qualified(name);
        if !out.secrets.contains(&name) && out.secrets.len() < limits::MAX_PULL_SECRETS {
            out.secrets.push(name);
        }
    }
    // The ServiceAccount admission plugin copies the account's pull secrets
    // into a Pod that names none (and the kubelet reads only the Pod's): a
    // Pod with its own uses those alone; a Pod without, or a pod template
    // (which the plugin never fills in), uses its account's.
    if !namespace.is_empty() && (kind != "Pod" || out.secrets.is_empty()) {
        let account = ["serviceAccountName", "serviceAccount"]
            .iter()
            .find_map(|f| {
                spec.get(*f)
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
            })
            .unwrap_or("default");
        if crate::kube_path::valid_segment(account) && crate::kube_path::valid_segment(namespace) {
            out.service_account = Some(qualified(account));
        }
    }
    out
}

fn escape(seg: &str) -> String {
    seg.replace('~', "~0").replace('/', "~1")
}

/// Extracts the images of `resource` (of `kind`) with the rule's extractors,
/// falling back to the built-in ones.
pub fn extract_images(
    resource: &Value,
    kind: &str,
    extractors: Option<&BTreeMap<String, Vec<ImageExtractor>>>,
    opts: &NormalizeOptions,
) -> Result<Vec<ExtractedImage>, ExtractError> {
    let mut out = Vec::new();
    if let Some(list) = extractors.and_then(|m| m.get(kind)) {
        for ex in list {
            custom(resource, ex, opts, &mut out)?;
        }
        return Ok(out);
    }
    let Some(path) = pod_spec_path(kind) else {
        return Ok(out);
    };
    let mut node = resource;
    let mut pointer = String::new();
    for seg in path {
        match node.get(seg) {
            Some(n) => node = n,
            None => return Ok(out),
        }
        pointer.push('/');
        pointer.push_str(seg);
    }
    for list in CONTAINER_LISTS {
        let Some(Value::Array(items)) = node.get(list) else {
            continue;
        };
        for (i, c) in items.iter().enumerate() {
            let Some(image) = c
                .get("image")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
            else {
                continue;
            };
            if out.len() >= limits::MAX_IMAGES_PER_RESOURCE {
                return Err(ExtractError::TooMany);
            }
            let name = c
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            out.push(ExtractedImage {
                bucket: list.to_string(),
                key: name,
                pointer: format!("{pointer}/{list}/{i}/image"),
                value: image.to_string(),
                info: ImageInfo::parse(image, opts),
            });
        }
    }
    Ok(out)
}

fn custom(
    resource: &Value,
    ex: &ImageExtractor,
    opts: &NormalizeOptions,
    out: &mut Vec<ExtractedImage>,
) -> Result<(), ExtractError> {
    let mut segments: Vec<&str> = ex.path.split('/').filter(|s| !s.is_empty()).collect();
    let value_field = match ex.value.as_deref().filter(|v| !v.is_empty()) {
        Some(v) => v.to_string(),
        None => match segments.pop() {
            Some(v) => v.to_string(),
            None => return Ok(()),
        },
    };
    let bucket = ex.name.clone().unwrap_or_else(|| "custom".to_string());
    let mut nodes: Vec<(String, &Value)> = vec![(String::new(), resource)];
    for seg in segments {
        let mut next = Vec::new();
        for (ptr, node) in nodes {
            if seg == "*" {
                match node {
                    Value::Array(a) => {
                        for (i, v) in a.iter().enumerate() {
                            next.push((format!("{ptr}/{i}"), v));
                        }
                    }
                    Value::Object(o) => {
                        for (k, v) in o {
                            next.push((format!("{ptr}/{}", escape(k)), v));
                        }
                    }
                    _ => {}
                }
            } else if let Some(v) = node.get(seg) {
                next.push((format!("{ptr}/{}", escape(seg)), v));
            }
        }
        nodes = next;
    }
    for (ptr, node) in nodes {
        let Some(image) = node
            .get(&value_field)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        else {
            continue;
        };
        if out.len() >= limits::MAX_IMAGES_PER_RESOURCE {
            return Err(ExtractError::TooMany);
        }
        let image = match ex.jmes_path.as_deref().filter(|j| !j.is_empty()) {
            None => image.to_string(),
            Some(j) => {
                let failed = |reason: String| ExtractError::JmesPath {
                    expression: j.to_string(),
                    image: image.to_string(),
                    reason,
                };
                match crate::conditions::functions::search(j, &Value::String(image.into()), None) {
                    Ok(Value::String(s)) => s,
                    Ok(other) => return Err(failed(format!("it gave {other}, not a string"))),
                    Err(e) => return Err(failed(e.to_string())),
                }
            }
        };
        let image = image.as_str();
        let pointer = format!("{ptr}/{}", escape(&value_field));
        let key = match ex.key.as_deref() {
            Some(k) => node
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            None => pointer.clone(),
        };
        out.push(ExtractedImage {
            bucket: bucket.clone(),
            key,
            pointer,
            value: image.to_string(),
            info: ImageInfo::parse(image, opts),
        });
    }
    Ok(())
}

#[cfg(test)]
mod pull_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pull_credentials_come_from_the_pod_spec() {
        let pod = json!({"spec": {"serviceAccountName": "builder", "imagePullSecrets": [
            {"name": "regcred"}, {"name": "regcred"}, {"name": "../x"}, {"name": "kube-system/admin"}, {"other": 1}, {"name": "b"}]}});
        let p = pull_credentials(&pod, "Pod", "shop");
        assert_eq!(p.secrets, ["shop/regcred", "shop/b"]);
        assert_eq!(p.service_account, None, "a Pod with its own pull secrets");
        let bare = json!({"spec": {"serviceAccountName": "builder"}});
        let p = pull_credentials(&bare, "Pod", "shop");
        assert_eq!(p.service_account.as_deref(), Some("shop/builder"));
        let deploy = json!({"spec": {"template": {"spec": {"imagePullSecrets": [{"name": "r"}]}}}});
        let p = pull_credentials(&deploy, "Deployment", "shop");
        assert_eq!(p.secrets, ["shop/r"]);
        assert_eq!(p.service_account.as_deref(), Some("shop/default"));
        let job = json!({"spec": {"template": {"spec": {"serviceAccountName": "builder"}}}});
        let p = pull_credentials(&job, "Job", "shop");
        assert_eq!(p.service_account.as_deref(), Some("shop/builder"));
        // Without a namespace: bare names (the host's namespace), no account.
        let p = pull_credentials(&pod, "Pod", "");
        assert_eq!(p.secrets, ["regcred", "b"]);
        assert_eq!(p.service_account, None);
        assert_eq!(
            pull_credentials(&pod, "ConfigMap", "shop"),
            PullCredentials::default()
        );
        let many: Vec<Value> = (0..40).map(|i| json!({"name": format!("s{i}")})).collect();
        let p = pull_credentials(&json!({"spec": {"imagePullSecrets": many}}), "Pod", "shop");
        assert_eq!(p.secrets.len(), limits::MAX_PULL_SECRETS);
    }
}
