//! The JSON context Kyverno's variables and conditions read: `request`
//! (the object, old object, operation, namespace, user), `images` (every
//! extracted image by bucket and container name) and, while one image is
//! verified, `image`.

use crate::conditions::{functions, variables};
use crate::decision::RuleStatus;
use crate::engine::Request;
use crate::engine::verify::Fetcher;
use crate::policy::compiled::{ContextEntry, ContextSource};
use crate::reference::ImageInfo;
use crate::resource::ExtractedImage;
use serde_json::{Map, Value, json};

/// Kyverno's JSON form of an image (`registry`, `name`, `path`, `tag`,
/// `digest`, `reference`, `referenceWithTag`).
pub(super) fn image_json(info: &ImageInfo) -> Value {
    json!({
        "registry": info.registry,
        "name": info.name,
        "path": info.path,
        "tag": info.tag,
        "digest": info.digest,
        "reference": info.to_string(),
        "referenceWithTag": info.reference_with_tag(),
    })
}

/// The context of one rule's evaluation of a request.
pub(super) fn rule_context(req: &Request, namespace: &str, images: &[ExtractedImage]) -> Value {
    let mut buckets: Map<String, Value> = Map::new();
    for img in images {
        if let Ok(info) = &img.info {
            let bucket = buckets
                .entry(img.bucket.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(b) = bucket.as_object_mut() {
                b.insert(img.key.clone(), image_json(info));
            }
        }
    }
    let user = req
        .user_info
        .as_ref()
        .map(|u| json!({"username": u.username, "groups": u.groups}))
        .unwrap_or_else(|| json!({}));
    let (roles, cluster_roles) = req
        .user_info
        .as_ref()
        .map(|u| (u.roles.clone(), u.cluster_roles.clone()))
        .unwrap_or_default();
    json!({
        "request": {
            "operation": req.operation,
            "object": req.object,
            "oldObject": req.old_object.clone().unwrap_or(Value::Null),
            "namespace": namespace,
            "userInfo": user,
            "roles": roles,
            "clusterRoles": cluster_roles,
        },
        "images": buckets,
    })
}

/// The rule's context with `image` set to the image being verified.
pub(super) fn with_image(rule_context: &Value, info: &ImageInfo) -> Value {
    let mut v = rule_context.clone();
    if let Some(o) = v.as_object_mut() {
        o.insert("image".into(), image_json(info));
    }
    v
}

/// What loading a rule's context entries came to.
pub(super) enum Loaded {
    /// Every entry is in the context.
    Done,
    /// An entry waits for the host.
    Pending,
    /// An entry failed: `fail` for what the policy or the data caused,
    /// `error` for a transport failure.
    Failed { status: RuleStatus, message: String },
}

/// Loads the entries in order into `context` (each may read the ones
/// before it).
pub(super) fn load_entries(
    entries: &[ContextEntry],
    context: &mut Value,
    _fetcher: &Fetcher,
    now: Option<i64>,
) -> Loaded {
    for e in entries {
        let value = match &e.source {
            ContextSource::Variable {
                value,
                jmes_path,
                default,
            } => load_variable(
                &e.name,
                value.as_ref(),
                jmes_path.as_deref(),
                default.as_ref(),
                context,
                now,
            ),
            ContextSource::ConfigMap { .. }
            | ContextSource::ApiCall { .. }
            | ContextSource::ImageRegistry { .. } => Err(format!(
                "context entry {:?}: this source is not evaluated by this imgverify version",
                e.name
            )),
        };
        match value {
            Ok(v) => set_entry(context, &e.name, v),
            Err(message) => {
                return Loaded::Failed {
                    status: RuleStatus::Fail,
                    message,
                };
            }
        }
    }
    Loaded::Done
}

/// Substitutes the variables in `v` against `context`.
fn substitute(v: &Value, context: &Value, now: Option<i64>) -> Result<Value, String> {
    let mut resolve = variables::resolve_in(context, now);
    variables::substitute(v, &mut resolve).map_err(|e| e.to_string())
}

/// A `variable` entry, as Kyverno's variable loader computes it: the value
/// (or else the context) through `jmesPath`, the default when that finds
/// nothing; nothing at all is an error.
fn load_variable(
    name: &str,
    value: Option<&Value>,
    jmes_path: Option<&str>,
    default: Option<&Value>,
    context: &Value,
    now: Option<i64>,
) -> Result<Value, String> {
    let path = match jmes_path {
        Some(p) => match substitute(&Value::String(p.to_string()), context, now)? {
            Value::String(s) => Some(s),
            other => {
                return Err(format!(
                    "jmesPath of context entry {name:?} is not a string after substitution: {other}"
                ));
            }
        },
        None => None,
    };
    let default = match default {
        Some(d) => Some(substitute(d, context, now)?),
        None => None,
    };
    let mut output = default.clone();
    match (value, &path) {
        (Some(v), Some(p)) => {
            let v = substitute(v, context, now)?;
            match functions::search(p, &v, now) {
                Ok(r) => output = Some(r),
                Err(e) if default.is_none() => {
                    return Err(format!("failed to apply jmespath {p} to variable {v}: {e}"));
                }
                Err(_) => {}
            }
        }
        (Some(v), None) => output = Some(substitute(v, context, now)?),
        (None, Some(p)) => match functions::search(p, context, now) {
            Ok(r) if !r.is_null() => output = Some(r),
            Ok(_) => {}
            Err(e) if default.is_none() => {
                return Err(format!("failed to apply jmespath {p} to the context: {e}"));
            }
            Err(_) => {}
        },
        (None, None) => {}
    }
    match output {
        Some(v) if !v.is_null() => Ok(v),
        _ => Err(format!(
            "unable to add context entry for variable {name} since it evaluated to nil"
        )),
    }
}

/// Sets `name` (dots make nested objects) in the context, replacing what
/// was there.
fn set_entry(context: &mut Value, name: &str, value: Value) {
    let mut at = context;
    let parts: Vec<&str> = name.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        if !at.is_object() {
            *at = Value::Object(Map::new());
        }
        let Some(o) = at.as_object_mut() else { return };
        if i + 1 == parts.len() {
            o.insert((*part).to_string(), value);
            return;
        }
        at = o.entry((*part).to_string()).or_insert(Value::Null);
    }
}
