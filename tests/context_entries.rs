//! A rule's `context` entries decided end to end: `configMap` and `apiCall`
//! answered as the webhook's host answers them (`kube_api` fetches) or
//! taken from CLI values, `imageRegistry` from manifests and configs the
//! engine hashes itself, and `imageExtractors` with `jmesPath`.
mod common;

use imgverify::engine::{Answer, FailureStatus, Fetch, FetchKind};
use imgverify::{Engine, Outcome, Request, Session};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A policy whose one rule has `rule` merged in, matching Pods, with a
/// `verifyImages` entry that verifies nothing (digest checks only) unless
/// `rule` gives its own.
fn policy(rule: Value) -> String {
    let mut r = json!({"name": "r", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
        "verifyImages": [{"imageReferences": ["*"], "failureAction": "Enforce", "mutateDigest": false, "verifyDigest": false, "required": false,
            "validate": {"deny": {"conditions": {"any": [{"key": "{{ allowed }}", "operator": "NotEquals", "value": "yes", "message": "not allowed"}]}}}}]});
    for (k, v) in rule.as_object().unwrap() {
        r[k] = v.clone();
    }
    json!({"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": "p"}, "spec": {"rules": [r]}}).to_string()
}

const IMAGE: &str =
    "registry.test/app@sha256:0000000000000000000000000000000000000000000000000000000000000001";

fn pod() -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "shop", "labels": {"team": "blue"}},
        "spec": {"containers": [{"name": "c", "image": IMAGE}]}})
}

/// Runs a request; every fetch is answered by `answer` and recorded.
fn decide(
    policy: &str,
    request: Value,
    answer: impl Fn(&Fetch) -> Answer,
) -> (bool, String, Vec<Fetch>) {
    let engine = Engine::compile("p.yaml", policy).unwrap();
    let req = Request::from_json(&serde_json::to_vec(&request).unwrap()).unwrap();
    let mut session = Session::new(std::sync::Arc::new(engine), req);
    let mut asked = Vec::new();
    for _ in 0..8 {
        match session.evaluate() {
            Outcome::NeedArtifacts { fetches } => {
                for f in fetches {
                    session.put(f.kind, &f.key, answer(&f)).unwrap();
                    asked.push(f);
                }
            }
            Outcome::Decision { decision } => {
                return (decision.allowed, decision.message, asked);
            }
        }
    }
    panic!("no decision");
}

fn not_found(_: &Fetch) -> Answer {
    Answer::Failure(FailureStatus::NotFound, "not found".into())
}

#[test]
fn config_maps_come_from_the_cluster_in_the_webhook() {
    let p = policy(json!({"context": [
        {"name": "settings", "configMap": {"name": "image-policy", "namespace": "{{ request.namespace }}"}},
        {"name": "allowed", "variable": {"jmesPath": "settings.data.allowed"}},
    ]}));
    let cm = |allowed: &str| {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "image-policy", "namespace": "shop"},
               "data": {"allowed": allowed}})
    };
    for (value, allowed) in [("yes", true), ("no", false)] {
        let (got, message, asked) = decide(&p, json!({"object": pod()}), |f| {
            assert_eq!(f.kind, FetchKind::KubeApi, "{f:?}");
            assert_eq!(
                f.path.as_deref(),
                Some("/api/v1/namespaces/shop/configmaps/image-policy")
            );
            Answer::Bytes(serde_json::to_vec(&cm(value)).unwrap())
        });
        assert_eq!(got, allowed, "{message}");
        assert_eq!(asked.len(), 1);
        if !allowed {
            assert!(
                message.contains("validation in verifyImages failed: not allowed"),
                "{message}"
            );
        }
    }
    // A missing ConfigMap fails the rule; an unreachable API server is a
    // transport error (which failurePolicy Fail also denies).
    let (got, message, _) = decide(&p, json!({"object": pod()}), not_found);
    assert!(
        !got && message
            .contains("failed to load context: failed to get configmap shop/image-policy"),
        "{message}"
    );
}

#[test]
fn api_calls_apply_jmes_path_and_default() {
    let p = policy(json!({"context": [
        {"name": "allowed", "apiCall": {"urlPath": "/api/v1/namespaces/{{ request.namespace }}", "jmesPath": "metadata.labels.images", "default": "no"}},
    ]}));
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"images": "yes"}}});
    let (got, message, asked) = decide(&p, json!({"object": pod()}), |f| {
        assert_eq!(f.method.as_deref(), Some("GET"));
        Answer::Bytes(serde_json::to_vec(&ns).unwrap())
    });
    assert!(got, "{message}");
    assert_eq!(asked[0].path.as_deref(), Some("/api/v1/namespaces/shop"));
    // The call fails: the default stands in (and denies here).
    let (got, message, _) = decide(&p, json!({"object": pod()}), not_found);
    assert!(!got && message.contains("not allowed"), "{message}");
    // A transport failure is not papered over by the default.
    let (got, message, _) = decide(&p, json!({"object": pod()}), |_| {
        Answer::Failure(FailureStatus::Error, "connection refused".into())
    });
    assert!(!got && message.contains("connection refused"), "{message}");
}

#[test]
fn the_cli_takes_context_from_values_and_never_calls_the_cluster() {
    let p = policy(json!({"context": [
        {"name": "settings", "configMap": {"name": "image-policy", "namespace": "shop"}},
    ]}));
    let values = |v: &str| json!({"globalValues": {}, "policies": [{"name": "p", "rules": [{"name": "r", "values": {"allowed": v}}]}]});
    for (v, allowed) in [("yes", true), ("no", false)] {
        let (got, message, asked) =
            decide(&p, json!({"object": pod(), "values": values(v)}), |f| {
                panic!("the CLI asked for {f:?}")
            });
        assert_eq!(got, allowed, "{message}");
        assert!(asked.is_empty());
    }
    // Global values feed variables too; a variable nobody gives fails.
    let (got, message, _) = decide(
        &p,
        json!({"object": pod(), "values": {"globalValues": {"allowed": "yes"}}}),
        |f| panic!("{f:?}"),
    );
    assert!(got, "{message}");
    let (got, message, _) = decide(&p, json!({"object": pod(), "values": {}}), |f| {
        panic!("{f:?}")
    });
    assert!(!got, "{message}");
}

/// A registry serving one image: an index, its linux/amd64 manifest and
/// config.
fn image_registry() -> (BTreeMap<String, Vec<u8>>, String, String) {
    let config = serde_json::to_vec(&json!({"architecture": "amd64", "os": "linux",
        "config": {"User": "1000", "Labels": {"org.opencontainers.image.source": "https://github.com/example/app"}}})).unwrap();
    let manifest = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": common::sha256(&config), "size": config.len()},
        "layers": []})).unwrap();
    let index = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:1111111111111111111111111111111111111111111111111111111111111111", "size": 10, "platform": {"os": "linux", "architecture": "arm64"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": common::sha256(&manifest), "size": manifest.len(), "platform": {"os": "linux", "architecture": "amd64"}}]})).unwrap();
    let index_digest = common::sha256(&index);
    let mut blobs = BTreeMap::new();
    blobs.insert(common::sha256(&config), config);
    blobs.insert(common::sha256(&manifest), manifest);
    blobs.insert(index_digest.clone(), index.clone());
    blobs.insert("tag:v1".into(), index);
    (blobs, index_digest, "registry.test/app:v1".into())
}

fn serve(blobs: &BTreeMap<String, Vec<u8>>, f: &Fetch) -> Answer {
    let key = match f.kind {
        FetchKind::ManifestByTag => format!("tag:{}", f.tag.as_deref().unwrap_or("")),
        _ => f.digest.clone().unwrap_or_default(),
    };
    match blobs.get(&key) {
        Some(b) if f.registry == "registry.test" && f.repository == "app" => {
            Answer::Bytes(b.clone())
        }
        _ => not_found(f),
    }
}

#[test]
fn image_registry_entries_read_the_config_of_the_platform_manifest() {
    let (blobs, index_digest, tagged) = image_registry();
    let p = policy(json!({"context": [
        {"name": "img", "imageRegistry": {"reference": tagged}},
        {"name": "allowed", "variable": {"value": "{{ img.configData.config.User == '1000' && 'yes' || 'no' }}"}},
    ]}));
    let (got, message, _) = decide(&p, json!({"object": pod()}), |f| serve(&blobs, f));
    assert!(got, "{message}");
    // The data Kyverno gives: resolved digest of the index, both manifests.
    let p = policy(json!({"context": [
        {"name": "img", "imageRegistry": {"reference": tagged, "jmesPath": "{resolved: resolvedImage, id: identifier, list: manifestList.manifests[1].platform.architecture, source: configData.config.Labels.\"org.opencontainers.image.source\"}"}},
        {"name": "allowed", "variable": {"value": "{{ img.resolved == 'registry.test/app@INDEX' && img.id == 'v1' && img.list == 'amd64' && img.source == 'https://github.com/example/app' && 'yes' || 'no' }}".replace("INDEX", &index_digest)}},
    ]}));
    let (got, message, _) = decide(&p, json!({"object": pod()}), |f| serve(&blobs, f));
    assert!(got, "{message}");
    // Bytes that do not hash to their digest are refused by the store.
    let mut tampered = blobs.clone();
    for (k, v) in tampered.iter_mut() {
        if k.starts_with("sha256:") && v.starts_with(b"{\"architecture\"") {
            v.extend_from_slice(b" ");
        }
    }
    let engine = Engine::compile("p.yaml", &p).unwrap();
    let req = Request::from_json(&serde_json::to_vec(&json!({"object": pod()})).unwrap()).unwrap();
    let mut session = Session::new(std::sync::Arc::new(engine), req);
    let mut refused = 0;
    for _ in 0..8 {
        match session.evaluate() {
            Outcome::NeedArtifacts { fetches } => {
                for f in fetches {
                    if session.put(f.kind, &f.key, serve(&tampered, &f)).is_err() {
                        refused += 1;
                    }
                }
            }
            Outcome::Decision { decision } => {
                assert!(!decision.allowed, "{}", decision.message);
                break;
            }
        }
    }
    assert_eq!(refused, 1);
}

#[test]
fn image_extractors_apply_jmes_path_to_each_image() {
    let p = json!({"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": "p"}, "spec": {"rules": [{
        "name": "r", "match": {"any": [{"resources": {"kinds": ["Task"]}}]},
        "imageExtractors": {"Task": [{"path": "/spec/steps/*/image", "jmesPath": "trim_prefix(@, 'docker://')"}]},
        "verifyImages": [{"imageReferences": ["registry.test/*"], "failureAction": "Enforce", "mutateDigest": false, "verifyDigest": false, "required": false,
            "validate": {"deny": {"conditions": {"any": [{"key": "{{ images.custom.* | [0].registry }}", "operator": "NotEquals", "value": "registry.test"}]}}}}]}]}}).to_string();
    let task = json!({"apiVersion": "tekton.dev/v1", "kind": "Task", "metadata": {"name": "t", "namespace": "ci"},
        "spec": {"steps": [{"image": format!("docker://{IMAGE}")}]}});
    let (got, message, _) = decide(&p, json!({"object": task}), not_found);
    assert!(got, "{message}");
}

/// Kyverno's GlobalContextEntry beside the policy: a `globalReference`
/// reads its data (an `apiCall` or a `kubernetesResource` list, through
/// the host) or a projection (`entry.projection`), then its own `jmesPath`.
#[test]
fn global_references_read_global_context_entries_through_the_host() {
    let entries = r#"
apiVersion: kyverno.io/v2alpha1
kind: GlobalContextEntry
metadata: {name: teams}
spec:
  kubernetesResource: {group: "", version: v1, resource: configmaps, namespace: platform}
  projections:
    - name: allowed
      jmesPath: "[?metadata.labels.images == 'yes'].metadata.name"
---
apiVersion: kyverno.io/v2alpha1
kind: GlobalContextEntry
metadata: {name: deployments}
spec:
  apiCall: {urlPath: /apis/apps/v1/deployments, refreshInterval: 1h}
  projections:
    - name: count
      jmesPath: "items | length(@)"
"#;
    let with = |context: Value| format!("{}\n---\n{entries}", policy(json!({"context": context})));
    let answer = |f: &Fetch| match f.path.as_deref() {
        Some("/api/v1/namespaces/platform/configmaps") => Answer::Bytes(
            serde_json::to_vec(&json!({"kind": "ConfigMapList", "items": [
                {"metadata": {"name": "blue", "labels": {"images": "yes"}}},
                {"metadata": {"name": "red", "labels": {"images": "no"}}},
            ]}))
            .unwrap(),
        ),
        Some("/apis/apps/v1/deployments") => Answer::Bytes(
            serde_json::to_vec(&json!({"kind": "DeploymentList", "items": [{}, {}]})).unwrap(),
        ),
        _ => Answer::Failure(FailureStatus::NotFound, "not found".into()),
    };
    // The projection, then the rule's jmesPath over it.
    let p = with(json!([
        {"name": "teams", "globalReference": {"name": "teams.allowed"}},
        {"name": "allowed", "variable": {"value": "{{ contains(teams, request.object.metadata.labels.team) && 'yes' || 'no' }}"}},
    ]));
    let (got, message, asked) = decide(&p, json!({"object": pod()}), answer);
    assert!(got, "{message}");
    assert_eq!(
        asked[0].path.as_deref(),
        Some("/api/v1/namespaces/platform/configmaps")
    );
    let mut red = pod();
    red["metadata"]["labels"]["team"] = json!("red");
    let (got, message, _) = decide(&p, json!({"object": red}), answer);
    assert!(!got && message.contains("not allowed"), "{message}");
    // The whole data (the list's items) with the rule's own jmesPath.
    let p = with(json!([
        {"name": "n", "globalReference": {"name": "deployments", "jmesPath": "items | length(@)"}},
        {"name": "allowed", "variable": {"value": "{{ n == `2` && 'yes' || 'no' }}"}},
    ]));
    let (got, message, _) = decide(&p, json!({"object": pod()}), answer);
    assert!(got, "{message}");
    // An entry or projection that does not exist fails the rule.
    for (name, error) in [
        ("nowhere", "failed to fetch entry key=nowhere"),
        ("teams.other", "projection \"other\" not found"),
    ] {
        let p = with(json!([
            {"name": "allowed", "globalReference": {"name": name}},
        ]));
        let (got, message, _) = decide(&p, json!({"object": pod()}), answer);
        assert!(!got && message.contains(error), "{name}: {message}");
    }
    // A GlobalContextEntry is validated as Kyverno validates it.
    for (bad, error) in [
        (
            "spec: {projections: []}",
            "either have KubernetesResource or APICall",
        ),
        (
            "spec: {kubernetesResource: {version: v2, resource: x}}",
            "A Resource entry requires a group",
        ),
        (
            "spec: {apiCall: {urlPath: /x}, projections: [{name: e, jmesPath: '['}]}",
            "spec.projections[0].jmesPath",
        ),
        (
            "spec: {apiCall: {urlPath: /x, service: {url: 'https://x'}}}",
            "either have Service or URLPath",
        ),
    ] {
        let doc = format!(
            "{}\n---\napiVersion: kyverno.io/v2\nkind: GlobalContextEntry\nmetadata: {{name: e}}\n{bad}\n",
            policy(json!({}))
        );
        let e = Engine::compile("p.yaml", &doc).unwrap_err().to_string();
        assert!(e.contains(error), "{bad}: {e}");
    }
}
