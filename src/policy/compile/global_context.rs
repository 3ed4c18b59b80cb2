//! Kyverno's `GlobalContextEntry` (`kyverno.io/v2`, `v2beta1`, `v2alpha1`):
//! named data from the Kubernetes API that ClusterPolicy `globalReference`
//! context entries and image policies' `globalContext.get` read, with its
//! JMESPath projections. Validated as Kyverno validates it; the data is read
//! through the host when a policy asks for it.

use super::{CompileError, Ctx};
use crate::policy::compiled::{GlobalContextEntry, GlobalProjection, GlobalSource};
use serde_json::Value;

/// The apiVersions of the kind.
pub const API_VERSIONS: &[&str] = &["kyverno.io/v2", "kyverno.io/v2beta1", "kyverno.io/v2alpha1"];

/// Compiles one `GlobalContextEntry` document.
pub fn compile(label: &str, doc: &Value) -> Result<GlobalContextEntry, Vec<CompileError>> {
    let mut ctx = Ctx {
        document: label,
        errors: Vec::new(),
        lints: Vec::new(),
    };
    let name = doc
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if name.is_empty() {
        ctx.err("metadata.name", "a global context entry needs a name");
    }
    let spec = doc.get("spec").unwrap_or(&Value::Null);
    let field = |k: &str| spec.get(k).filter(|v| !v.is_null());
    let source = match (field("kubernetesResource"), field("apiCall")) {
        (Some(r), None) => resource(&mut ctx, r),
        (None, Some(a)) => api_call(&mut ctx, a),
        _ => {
            ctx.err(
                "spec.kubernetesResource",
                "A global context entry should either have KubernetesResource or APICall",
            );
            None
        }
    };
    let mut projections: Vec<GlobalProjection> = Vec::new();
    let listed = match field("projections") {
        None => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => {
            ctx.err("spec.projections", "must be a list");
            Vec::new()
        }
    };
    if listed.len() > crate::limits::MAX_GLOBAL_PROJECTIONS {
        ctx.err(
            "spec.projections",
            format!(
                "{} projections, more than {}",
                listed.len(),
                crate::limits::MAX_GLOBAL_PROJECTIONS
            ),
        );
    }
    for (i, p) in listed
        .iter()
        .take(crate::limits::MAX_GLOBAL_PROJECTIONS)
        .enumerate()
    {
        let path = format!("spec.projections[{i}]");
        let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let (pname, jmes_path) = (s("name"), s("jmesPath"));
        if pname.is_empty() {
            ctx.err(format!("{path}.name"), "A projection entry requires a name");
        } else if pname == name {
            ctx.err(
                format!("{path}.name"),
                "A projection entry requires a name different from the global context entry name",
            );
        } else if projections.iter().any(|q| q.name == pname) {
            ctx.err(
                format!("{path}.name"),
                format!("duplicate projection {pname:?}"),
            );
        }
        if jmes_path.is_empty() {
            ctx.err(
                format!("{path}.jmesPath"),
                "A projection entry requires a JMESPath",
            );
        } else if let Err(e) = crate::conditions::functions::validate(&jmes_path) {
            ctx.err(format!("{path}.jmesPath"), e.to_string());
        }
        projections.push(GlobalProjection {
            name: pname,
            jmes_path,
        });
    }
    match source {
        Some(source) if ctx.errors.is_empty() => Ok(GlobalContextEntry {
            name,
            source,
            projections,
        }),
        _ => Err(ctx.errors),
    }
}

/// `kubernetesResource`: every object of a resource, as a list path.
fn resource(ctx: &mut Ctx, r: &Value) -> Option<GlobalSource> {
    let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("");
    let (group, version, resource, namespace) =
        (s("group"), s("version"), s("resource"), s("namespace"));
    let start = ctx.errors.len();
    if group.is_empty() && version != "v1" {
        ctx.err(
            "spec.kubernetesResource.group",
            "A Resource entry requires a group",
        );
    }
    if version.is_empty() {
        ctx.err(
            "spec.kubernetesResource.version",
            "A Resource entry requires a version",
        );
    }
    if resource.is_empty() {
        ctx.err(
            "spec.kubernetesResource.resource",
            "A Resource entry requires a resource",
        );
    }
    // The group and namespace may be empty (the core group, every namespace).
    for (k, v) in [
        ("group", group),
        ("version", version),
        ("resource", resource),
        ("namespace", namespace),
    ] {
        if !v.is_empty() && !crate::kube_path::valid_segment(v) {
            ctx.err(
                format!("spec.kubernetesResource.{k}"),
                format!("{v:?} is not a Kubernetes API path segment"),
            );
        }
    }
    if ctx.errors.len() > start {
        return None;
    }
    let api_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let Some(path) = crate::kube_path::api_path(&api_version, resource, namespace, None) else {
        ctx.err("spec.kubernetesResource", "not a Kubernetes API path");
        return None;
    };
    Some(GlobalSource::Resource { path })
}

/// `apiCall`: a Kubernetes API path (`urlPath`); an external `service` is
/// not called by this engine, and says so when the entry is read.
fn api_call(ctx: &mut Ctx, a: &Value) -> Option<GlobalSource> {
    let s = |k: &str| a.get(k).and_then(Value::as_str).unwrap_or("");
    let method = match s("method") {
        "" | "GET" => "GET",
        "POST" => "POST",
        other => {
            ctx.err(
                "spec.apiCall.method",
                format!("unsupported method {other:?}: GET or POST"),
            );
            return None;
        }
    };
    let data = a.get("data").filter(|d| !d.is_null());
    if data.is_some() && method != "POST" {
        ctx.err(
            "spec.apiCall.method",
            "An External API call with data should have method as POST",
        );
        return None;
    }
    let service = a.get("service").filter(|s| !s.is_null());
    let url_path = s("urlPath");
    if service.is_some() != url_path.is_empty() {
        ctx.err(
            "spec.apiCall.service",
            "An External API call should either have Service or URLPath",
        );
        return None;
    }
    if service.is_some() {
        return Some(GlobalSource::Unsupported(
            "an apiCall to an external service is not made by imgverify (the module has no network); read the data from the Kubernetes API with urlPath or kubernetesResource".into(),
        ));
    }
    if !url_path.starts_with('/') || url_path.contains("..") || url_path.contains('#') {
        ctx.err(
            "spec.apiCall.urlPath",
            format!("{url_path:?} is not an absolute Kubernetes API path"),
        );
        return None;
    }
    let body = data.map(crate::policy::compiled::api_call_body);
    Some(GlobalSource::ApiCall {
        method: method.to_string(),
        path: url_path.to_string(),
        body,
    })
}
