//! Kubernetes API paths the module asks its host to read: every segment is
//! checked to be a name, so no policy argument or request value can reach
//! another API path.

/// A name in a Kubernetes API path: a DNS subdomain.
pub fn valid_segment(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && s != "."
        && s != ".."
}

/// The API path of a resource or collection: `/api/v1/…` for the core
/// group (an `api_version` without `/`), `/apis/<group>/<version>/…`
/// otherwise, namespaced when a namespace is given. `None` when a segment
/// is not a valid name.
pub fn api_path(
    api_version: &str,
    resource: &str,
    namespace: &str,
    name: Option<&str>,
) -> Option<String> {
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (Some(g), v),
        None => (None, api_version),
    };
    let valid = group.is_none_or(valid_segment)
        && valid_segment(version)
        && valid_segment(resource)
        && (namespace.is_empty() || valid_segment(namespace))
        && name.is_none_or(valid_segment);
    if !valid {
        return None;
    }
    let mut path = match group {
        Some(g) => format!("/apis/{g}/{version}"),
        None => format!("/api/{version}"),
    };
    if !namespace.is_empty() {
        path.push_str(&format!("/namespaces/{namespace}"));
    }
    path.push_str(&format!("/{resource}"));
    if let Some(n) = name {
        path.push_str(&format!("/{n}"));
    }
    Some(path)
}

/// The key reference scheme of a public key held in a Secret.
pub const SECRET_KEY_SCHEME: &str = "k8s://";

/// A `k8s://namespace/name` key reference's namespace and name, checked as
/// cosign reads them (exactly two segments) and to be API path names.
pub fn secret_reference(text: &str) -> Result<(String, String), String> {
    let rest = text.strip_prefix(SECRET_KEY_SCHEME).unwrap_or(text);
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.as_slice() {
        [ns, name] if valid_segment(ns) && valid_segment(name) => {
            Ok((ns.to_string(), name.to_string()))
        }
        [_, _] => Err(format!(
            "{text:?}: a Secret's namespace and name must be lowercase DNS names"
        )),
        _ => Err(format!(
            "{text:?}: kubernetes specification should be in the format k8s://<namespace>/<secret>"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_references_name_one_secret() {
        assert_eq!(
            secret_reference("k8s://signing/cosign-key"),
            Ok(("signing".into(), "cosign-key".into()))
        );
        for bad in [
            "k8s://signing",
            "k8s://a/b/c",
            "k8s://../secrets",
            "k8s://signing/",
            "k8s://Signing/key",
            "k8s://ns/key?watch=1",
        ] {
            assert!(secret_reference(bad).is_err(), "{bad}");
        }
    }
}
