//! Reading an AdmissionReview (`admission.k8s.io/v1`) strictly, for hosts
//! that serve the admission webhook: anything that cannot be read as one is
//! an error (the webhook answers HTTP 400), never an allow.

use serde::Deserialize;
use serde_json::{Value, json};

/// Kubernetes' `UnsafeGuessKindToResource`, which the Kyverno CLI uses
/// when it has no discovery: `Pod` → `pods`, `Policy` → `policies`,
/// `Ingress` → `ingresses`.
pub fn guess_resource(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if lower.is_empty() {
        return lower;
    }
    if lower.ends_with('s') {
        format!("{lower}es")
    } else if let Some(stem) = lower.strip_suffix('y') {
        format!("{stem}ies")
    } else {
        format!("{lower}s")
    }
}

/// The parts of an AdmissionReview request the webhook uses.
#[derive(Debug, Clone)]
pub struct AdmissionRequest {
    /// `request.uid`, echoed in the response.
    pub uid: String,
    /// CREATE, UPDATE, DELETE or CONNECT.
    pub operation: String,
    /// `request.namespace` (empty for cluster-scoped objects).
    pub namespace: String,
    /// The object (CREATE, UPDATE), with `metadata.namespace` filled from
    /// the request when the object omits it.
    pub object: Option<Value>,
    /// The previous object (UPDATE).
    pub old_object: Option<Value>,
    /// The requesting user's name.
    pub username: String,
    /// The requesting user's groups.
    pub groups: Vec<String>,
    /// `request` without `object` and `oldObject` (uid, kind, resource,
    /// subResource, name, userInfo, dryRun, …), for image policies' CEL.
    pub details: Value,
}

/// Why a body is not an AdmissionReview this webhook answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    /// Not JSON.
    #[error("invalid AdmissionReview: {0}")]
    Json(String),
    /// Another version or kind.
    #[error(
        "unsupported {0}: this webhook answers admission.k8s.io/v1 AdmissionReview only (set admissionReviewVersions: [v1])"
    )]
    Version(String),
    /// A required field is missing or of the wrong type.
    #[error("invalid AdmissionReview: {0}")]
    Field(String),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Review {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    request: Option<RawRequest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRequest {
    #[serde(default)]
    uid: String,
    #[serde(default)]
    operation: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    object: Option<Value>,
    #[serde(default)]
    old_object: Option<Value>,
    #[serde(default)]
    user_info: RawUser,
}

#[derive(Deserialize, Default)]
struct RawUser {
    #[serde(default)]
    username: String,
    #[serde(default)]
    groups: Vec<String>,
}

/// Parses and checks an AdmissionReview body.
pub fn parse(body: &[u8]) -> Result<AdmissionRequest, ReviewError> {
    let whole: Value =
        serde_json::from_slice(body).map_err(|e| ReviewError::Json(e.to_string()))?;
    let details = match whole.pointer("/request") {
        Some(Value::Object(o)) => Value::Object(
            o.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "object" | "oldObject"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        _ => Value::Null,
    };
    let r = Review::deserialize(whole).map_err(|e| ReviewError::Json(e.to_string()))?;
    if r.api_version != "admission.k8s.io/v1" || r.kind != "AdmissionReview" {
        return Err(ReviewError::Version(format!(
            "{} {}",
            if r.api_version.is_empty() {
                "(no apiVersion)"
            } else {
                &r.api_version
            },
            if r.kind.is_empty() {
                "(no kind)"
            } else {
                &r.kind
            }
        )));
    }
    let req = r
        .request
        .ok_or_else(|| ReviewError::Field("no request".into()))?;
    if req.uid.is_empty() {
        return Err(ReviewError::Field("request.uid is missing".into()));
    }
    let needs_object = match req.operation.as_str() {
        "CREATE" | "UPDATE" => true,
        "DELETE" | "CONNECT" => false,
        "" => return Err(ReviewError::Field("request.operation is missing".into())),
        other => {
            return Err(ReviewError::Field(format!(
                "request.operation {other:?} is not CREATE, UPDATE, DELETE or CONNECT"
            )));
        }
    };
    let mut object = req.object.filter(|o| !o.is_null());
    match &mut object {
        // The API server may leave metadata.namespace empty on CREATE; a
        // rule matching by namespace must see the real one.
        Some(Value::Object(o)) if !req.namespace.is_empty() => {
            let md = o.entry("metadata").or_insert_with(|| json!({}));
            if let Some(md) = md.as_object_mut() {
                let ns = md.entry("namespace").or_insert_with(|| json!(""));
                if ns.as_str().is_none_or(str::is_empty) {
                    *ns = json!(req.namespace);
                } else if ns.as_str() != Some(req.namespace.as_str()) {
                    return Err(ReviewError::Field(format!(
                        "object namespace {ns} differs from request.namespace {:?}",
                        req.namespace
                    )));
                }
            }
        }
        Some(Value::Object(_)) => {}
        Some(_) => return Err(ReviewError::Field("request.object is not an object".into())),
        None if needs_object => {
            return Err(ReviewError::Field(format!(
                "a {} request without request.object",
                req.operation
            )));
        }
        None => {}
    }
    Ok(AdmissionRequest {
        uid: req.uid,
        operation: req.operation,
        namespace: req.namespace,
        object,
        old_object: req.old_object.filter(|o| !o.is_null()),
        username: req.user_info.username,
        groups: req.user_info.groups,
        details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_become_resources_as_kubernetes_guesses_them() {
        for (kind, plural) in [
            ("Pod", "pods"),
            ("Deployment", "deployments"),
            ("Policy", "policies"),
            ("Ingress", "ingresses"),
            ("CronJob", "cronjobs"),
            ("", ""),
        ] {
            assert_eq!(guess_resource(kind), plural);
        }
    }

    fn review(req: Value) -> Vec<u8> {
        serde_json::to_vec(
            &json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req}),
        )
        .unwrap()
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        let pod = json!({"kind": "Pod", "metadata": {"name": "p"}});
        for (body, want) in [
            (b"{".to_vec(), "invalid AdmissionReview"),
            (
                serde_json::to_vec(&json!({"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview", "request": {"uid": "1", "operation": "CREATE", "object": pod}})).unwrap(),
                "unsupported admission.k8s.io/v1beta1",
            ),
            (
                serde_json::to_vec(&json!({"apiVersion": "admission.k8s.io/v1", "kind": "Other", "request": {"uid": "1", "operation": "CREATE", "object": pod}})).unwrap(),
                "unsupported admission.k8s.io/v1 Other",
            ),
            (review(json!({"uid": "1", "operation": "CREATE"})), "a CREATE request without request.object"),
            (review(json!({"uid": "1", "operation": "UPDATE", "object": null})), "a UPDATE request without request.object"),
            (review(json!({"uid": "1", "operation": "CREATE", "object": [1]})), "not an object"),
            (review(json!({"operation": "CREATE", "object": pod})), "request.uid is missing"),
            (review(json!({"uid": "1", "operation": "PATCH", "object": pod})), "\"PATCH\" is not"),
            (
                review(json!({"uid": "1", "operation": "CREATE", "namespace": "prod", "object": {"metadata": {"namespace": "dev"}}})),
                "differs from request.namespace",
            ),
        ] {
            let e = parse(&body).unwrap_err();
            assert!(e.to_string().contains(want), "{e} should contain {want}");
        }
    }

    #[test]
    fn fills_the_namespace_and_reads_the_user() {
        let r = parse(&review(json!({"uid": "u1", "operation": "CREATE", "namespace": "prod", "object": {"kind": "Pod", "metadata": {"name": "p"}}, "userInfo": {"username": "alice", "groups": ["dev"]}}))).unwrap();
        assert_eq!(r.object.unwrap()["metadata"]["namespace"], "prod");
        assert_eq!(
            (r.username.as_str(), r.groups),
            ("alice", vec!["dev".to_string()])
        );
        let d = parse(&review(
            json!({"uid": "u2", "operation": "DELETE", "oldObject": {"kind": "Pod"}}),
        ))
        .unwrap();
        assert!(d.object.is_none());
    }
}
