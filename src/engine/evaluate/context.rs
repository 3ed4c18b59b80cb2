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

/// The values a Kyverno CLI values file gives one rule's evaluation of one
/// resource: `globalValues` and the resource's values (set before the
/// context entries load), and the rule's values (set after them).
pub(super) struct CliValues {
    pub before: Vec<(String, Value)>,
    pub after: Vec<(String, Value)>,
}

fn pairs(v: Option<&Value>) -> Vec<(String, Value)> {
    v.and_then(Value::as_object)
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

impl CliValues {
    /// The values for `policy`/`rule` on the resource named `resource`.
    pub(super) fn of(values: &Value, policy: &str, rule: &str, resource: &str) -> Self {
        let mut before = pairs(values.get("globalValues"));
        let mut after = Vec::new();
        let named = |list: Option<&Value>, name: &str| -> Option<Value> {
            list.and_then(Value::as_array)?
                .iter()
                .find(|x| x.get("name").and_then(Value::as_str) == Some(name))
                .cloned()
        };
        if let Some(p) = named(values.get("policies"), policy) {
            if let Some(r) = named(p.get("resources"), resource) {
                before.extend(pairs(r.get("values")));
            }
            if let Some(r) = named(p.get("rules"), rule) {
                after.extend(pairs(r.get("values")));
            }
        }
        CliValues { before, after }
    }
}

/// Sets each value (names with dots make nested objects).
pub(super) fn set_values(context: &mut Value, values: &[(String, Value)]) {
    for (k, v) in values {
        set_entry(context, k, v.clone());
    }
}

/// Loads the entries in order into `context` (each may read the ones
/// before it). With CLI values (`cli`), `configMap` and `apiCall` entries
/// are not loaded (unless the CLI answers API calls, `env.api_calls`) and the rule's values are set last, as the Kyverno CLI
/// does; without, the host answers them from the cluster.
pub(super) fn load_entries(
    entries: &[ContextEntry],
    context: &mut Value,
    env: &LoadEnv,
    cli: Option<&CliValues>,
) -> Loaded {
    let (fetcher, now) = (env.fetcher, env.now);
    for e in entries {
        let step = match &e.source {
            ContextSource::Variable {
                value,
                jmes_path,
                default,
            } => match load_variable(
                &e.name,
                value.as_ref(),
                jmes_path.as_deref(),
                default.as_ref(),
                context,
                now,
            ) {
                Ok(v) => Step::Value(v),
                Err(m) => Step::Failed(RuleStatus::Fail, m),
            },
            ContextSource::ConfigMap { .. } | ContextSource::ApiCall { .. }
                if cli.is_some() && !env.api_calls =>
            {
                continue;
            }
            ContextSource::GlobalReference { .. }
                if cli.is_some() && !env.api_calls && env.global_mocks.is_none() =>
            {
                continue;
            }
            ContextSource::ConfigMap { name, namespace } => {
                load_config_map(name, namespace, context, fetcher, now)
            }
            ContextSource::ApiCall {
                url_path,
                method,
                data,
                jmes_path,
                default,
            } => load_api_call(
                (method, url_path, data),
                jmes_path.as_deref(),
                default.as_ref(),
                context,
                fetcher,
                now,
            ),
            ContextSource::GlobalReference { name, jmes_path } => {
                load_global_reference(name, jmes_path.as_deref(), context, env)
            }
            ContextSource::ImageRegistry {
                reference,
                jmes_path,
                access,
            } => load_image_registry(
                &e.name,
                reference,
                jmes_path.as_deref(),
                access,
                context,
                env,
            ),
        };
        match step {
            Step::Value(v) => set_entry(context, &e.name, v),
            Step::Pending => return Loaded::Pending,
            Step::Failed(status, message) => return Loaded::Failed { status, message },
        }
    }
    if let Some(cli) = cli {
        set_values(context, &cli.after);
    }
    Loaded::Done
}

/// What loading context entries reads besides the context itself.
pub(super) struct LoadEnv<'a> {
    pub fetcher: &'a Fetcher<'a>,
    pub now: Option<i64>,
    pub normalize: &'a crate::reference::NormalizeOptions,
    /// The engine (its global context entries).
    pub engine: &'a crate::engine::Engine,
    /// The CLI's global context mocks, when the request has them.
    pub global_mocks: Option<&'a serde_json::Map<String, Value>>,
    /// `configMap` and `apiCall` entries go to the host even with CLI values.
    pub api_calls: bool,
}

/// An `imageRegistry` entry: Kyverno's image data, `jmesPath` applied.
fn load_image_registry(
    name: &str,
    reference: &str,
    jmes_path: Option<&str>,
    access: &crate::engine::store::Access,
    context: &Value,
    env: &LoadEnv,
) -> Step {
    let reference = match substituted_string(reference, "imageRegistry.reference", context, env.now)
    {
        Ok(r) => r,
        Err(m) => return Step::Failed(RuleStatus::Fail, m),
    };
    let data = match super::image_data::load(&reference, access, env.normalize, env.fetcher) {
        super::image_data::ImageData::Loaded(v) => v,
        super::image_data::ImageData::Pending => return Step::Pending,
        super::image_data::ImageData::Failed(transport, m) => {
            let status = if transport {
                RuleStatus::Error
            } else {
                RuleStatus::Fail
            };
            return Step::Failed(status, m);
        }
    };
    apply_jmes_path(
        data,
        (jmes_path, "imageRegistry.jmesPath"),
        context,
        env.now,
        |p, e| {
            format!("failed to apply JMESPath ({p}) results to context entry {name}, error: {e}")
        },
    )
}

/// An entry's `jmesPath` (variables substituted; `field` names it in
/// errors) applied to its data; `fail` words a query error as Kyverno does
/// for that kind of entry.
fn apply_jmes_path(
    data: Value,
    (jmes_path, field): (Option<&str>, &str),
    context: &Value,
    now: Option<i64>,
    fail: impl FnOnce(&str, functions::QueryError) -> String,
) -> Step {
    let Some(p) = jmes_path else {
        return Step::Value(data);
    };
    let p = match substituted_string(p, field, context, now) {
        Ok(p) => p,
        Err(m) => return Step::Failed(RuleStatus::Fail, m),
    };
    match functions::search(&p, &data, now) {
        Ok(v) => Step::Value(v),
        Err(e) => Step::Failed(RuleStatus::Fail, fail(&p, e)),
    }
}

/// One entry's progress.
enum Step {
    Value(Value),
    Pending,
    Failed(RuleStatus, String),
}

/// The string a field gives after substitution.
fn substituted_string(
    text: &str,
    what: &str,
    context: &Value,
    now: Option<i64>,
) -> Result<String, String> {
    match substitute(&Value::String(text.to_string()), context, now)? {
        Value::String(s) => Ok(s),
        other => Err(format!(
            "{what} is not a string after substitution: {other}"
        )),
    }
}

/// The host's answer to a Kubernetes API call, as JSON.
fn kube_answer(fetcher: &Fetcher, fetch: crate::engine::store::Fetch, what: &str) -> Step {
    use crate::engine::store::FailureStatus;
    use crate::engine::verify::Got;
    match fetcher.get(fetch) {
        Got::Pending => Step::Pending,
        Got::Bytes(b) => match serde_json::from_slice(b) {
            Ok(v) => Step::Value(v),
            Err(e) => Step::Failed(
                RuleStatus::Fail,
                format!("{what}: the answer is not JSON: {e}"),
            ),
        },
        Got::Failed(FailureStatus::Error, m) => {
            Step::Failed(RuleStatus::Error, format!("{what}: {m}"))
        }
        Got::Failed(_, m) => Step::Failed(RuleStatus::Fail, format!("{what}: {m}")),
    }
}

/// A `globalReference` entry: a `GlobalContextEntry`'s data (`name` is
/// `entry` or `entry.projection`), `jmesPath` applied.
fn load_global_reference(
    name: &str,
    jmes_path: Option<&str>,
    context: &Value,
    env: &LoadEnv,
) -> Step {
    use super::global_context::{GlobalData, read};
    use crate::engine::store::FailureStatus;
    let name = match substituted_string(name, "globalReference.name", context, env.now) {
        Ok(n) => n,
        Err(m) => return Step::Failed(RuleStatus::Fail, m),
    };
    let (entry, projection) = name.split_once('.').unwrap_or((&name, ""));
    let data = match read(
        (env.engine, env.global_mocks),
        env.fetcher,
        entry,
        projection,
        env.now,
    ) {
        GlobalData::Value(v) => v,
        GlobalData::Pending => return Step::Pending,
        GlobalData::Missing => {
            return Step::Failed(
                RuleStatus::Fail,
                format!("failed to fetch entry key={entry}"),
            );
        }
        GlobalData::Failed(FailureStatus::Error, m) => return Step::Failed(RuleStatus::Error, m),
        GlobalData::Failed(_, m) => return Step::Failed(RuleStatus::Fail, m),
    };
    apply_jmes_path(
        data,
        (jmes_path, "globalReference.jmesPath"),
        context,
        env.now,
        |p, e| format!("failed to apply JMESPath {p} for context entry {name}: {e}"),
    )
}

/// A `configMap` entry: the ConfigMap object from the cluster.
fn load_config_map(
    name: &str,
    namespace: &str,
    context: &Value,
    fetcher: &Fetcher,
    now: Option<i64>,
) -> Step {
    let names = substituted_string(name, "configMap.name", context, now).and_then(|n| {
        let ns = substituted_string(namespace, "configMap.namespace", context, now)?;
        Ok((n, ns))
    });
    let (name, namespace) = match names {
        Ok(v) => v,
        Err(m) => return Step::Failed(RuleStatus::Fail, m),
    };
    // Kyverno reads a ConfigMap without a namespace from `default`.
    let namespace = if namespace.is_empty() {
        "default".to_string()
    } else {
        namespace
    };
    if !crate::kube_path::valid_segment(&name) || !crate::kube_path::valid_segment(&namespace) {
        return Step::Failed(
            RuleStatus::Fail,
            format!("failed to get configmap {namespace}/{name}: not a valid name"),
        );
    }
    let path = format!("/api/v1/namespaces/{namespace}/configmaps/{name}");
    kube_answer(
        fetcher,
        crate::engine::store::Fetch::kube_api("GET", &path, None),
        &format!("failed to get configmap {namespace}/{name}"),
    )
}

/// An `apiCall` entry: GET or POST on the Kubernetes API, `jmesPath`
/// applied, `default` when the call (not the transport) or the path fails.
fn load_api_call(
    (method, url_path, data): (&str, &str, &Value),
    jmes_path: Option<&str>,
    default: Option<&Value>,
    context: &Value,
    fetcher: &Fetcher,
    now: Option<i64>,
) -> Step {
    let path = match substituted_string(url_path, "apiCall.urlPath", context, now) {
        Ok(p) => p,
        Err(m) => return Step::Failed(RuleStatus::Fail, m),
    };
    if !path.starts_with('/') || path.contains("..") || path.contains('#') {
        return Step::Failed(
            RuleStatus::Fail,
            format!("apiCall.urlPath {path:?} is not an absolute Kubernetes API path"),
        );
    }
    let body = match method {
        "POST" => {
            // `data` is a list of {key, value}; the body is their object.
            let data = match substitute(data, context, now) {
                Ok(d) => d,
                Err(m) => return Step::Failed(RuleStatus::Fail, m),
            };
            Some(crate::policy::compiled::api_call_body(&data))
        }
        _ => None,
    };
    let answer = kube_answer(
        fetcher,
        crate::engine::store::Fetch::kube_api(method, &path, body),
        &format!("failed to {method} resource with raw url {path}"),
    );
    let default = match default.map(|d| substitute(d, context, now)).transpose() {
        Ok(d) => d,
        Err(m) => return Step::Failed(RuleStatus::Fail, m),
    };
    let value = match answer {
        Step::Value(v) => v,
        Step::Failed(status, m) => {
            return match default {
                // A transport failure is not papered over by a default.
                Some(d) if status != RuleStatus::Error => Step::Value(d),
                _ => Step::Failed(status, m),
            };
        }
        Step::Pending => return Step::Pending,
    };
    let Some(p) = jmes_path else {
        return Step::Value(value);
    };
    let p = match substituted_string(p, "apiCall.jmesPath", context, now) {
        Ok(p) => p,
        Err(m) => return Step::Failed(RuleStatus::Fail, m),
    };
    match (functions::search(&p, &value, now), default) {
        (Ok(v), _) if !v.is_null() => Step::Value(v),
        (Ok(_), Some(d)) | (Err(_), Some(d)) => Step::Value(d),
        (Ok(v), None) => Step::Value(v),
        (Err(e), None) => Step::Failed(
            RuleStatus::Fail,
            format!("failed to apply JMESPath {p} to the answer of {path}: {e}"),
        ),
    }
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
