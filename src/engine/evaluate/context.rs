//! The JSON context Kyverno's variables and conditions read: `request`
//! (the object, old object, operation, namespace, user), `images` (every
//! extracted image by bucket and container name) and, while one image is
//! verified, `image`.

use crate::engine::Request;
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
