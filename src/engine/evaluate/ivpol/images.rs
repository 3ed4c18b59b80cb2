//! An image policy's `images`: the built-in extractors Kyverno chooses by
//! the requested resource, plus the policy's own `images[]` expressions.

use super::host::PolicyHost;
use super::request::Resource;
use crate::cel::Value;
use crate::limits;
use serde_json::Value as Json;

/// The built-in categories, in Kyverno's order.
const CATEGORIES: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

/// Where the pod spec is for a resource Kyverno has built-in extractors
/// for (by group, version and plural; ReplicationController has none).
fn pod_spec_pointer(r: &Resource) -> Option<&'static str> {
    match (r.group.as_str(), r.version.as_str(), r.resource.as_str()) {
        ("", "v1", "pods") => Some("/spec"),
        ("apps", "v1", "deployments" | "statefulsets" | "daemonsets" | "replicasets")
        | ("batch", "v1", "jobs") => Some("/spec/template/spec"),
        ("batch", "v1", "cronjobs") => Some("/spec/jobTemplate/spec/template/spec"),
        _ => None,
    }
}

/// Extracted images by category, each list in order (duplicates kept).
pub(super) type Extracted = Vec<(String, Vec<String>)>;

/// Why images could not be extracted (an evaluation error).
pub(super) fn extract(
    host: &mut PolicyHost,
    object: &Json,
    resource: Option<&Resource>,
) -> Result<Extracted, String> {
    let mut out: Extracted = Vec::new();
    let mut total = 0usize;
    if let Some(pointer) = resource.and_then(pod_spec_pointer) {
        let spec = object.pointer(pointer);
        for category in CATEGORIES {
            let mut images = Vec::new();
            for c in spec
                .and_then(|s| s.get(category))
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                match c.get("image") {
                    Some(Json::String(s)) => images.push(s.clone()),
                    // A container without an image has an empty one in Go.
                    None | Some(Json::Null) => images.push(String::new()),
                    Some(other) => {
                        return Err(format!("{category}: image is not a string: {other}"));
                    }
                }
            }
            total += images.len();
            out.push((category.to_string(), images));
        }
    }
    for extractor in &host.policy.extractors {
        let value = host
            .eval(&extractor.program)
            .map_err(|e| format!("images.{}: {e}", extractor.name))?;
        let list = match &value {
            Value::List(l) => l.clone(),
            other => {
                return Err(format!(
                    "images.{}: expected a list of strings, got {}",
                    extractor.name,
                    other.type_name()
                ));
            }
        };
        let mut images = Vec::new();
        for v in list.iter() {
            match v {
                Value::String(s) => images.push(s.to_string()),
                other => {
                    return Err(format!(
                        "images.{}: expected a list of strings, got an element of type {}",
                        extractor.name,
                        other.type_name()
                    ));
                }
            }
        }
        total += images.len();
        match out.iter_mut().find(|(n, _)| *n == extractor.name) {
            Some((_, existing)) => *existing = images,
            None => out.push((extractor.name.clone(), images)),
        }
    }
    if total > limits::MAX_IMAGES_PER_RESOURCE {
        return Err(format!(
            "the resource has {total} images, more than {}",
            limits::MAX_IMAGES_PER_RESOURCE
        ));
    }
    Ok(out)
}
