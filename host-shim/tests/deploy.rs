//! The Kubernetes manifests in deploy/ parse and keep their hardening.

use serde_json::Value;

fn docs() -> Vec<Value> {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().and_then(|x| x.to_str()) == Some("yaml") {
            let text = std::fs::read_to_string(&p).unwrap();
            for d in
                imgverify::policy::load::parse_documents(&p.display().to_string(), &text, 1 << 20)
                    .unwrap()
            {
                out.push(d.value);
            }
        }
    }
    out
}

#[test]
fn manifests_parse_and_are_hardened() {
    let docs = docs();
    let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
    for k in [
        "Namespace",
        "Deployment",
        "Service",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "PodDisruptionBudget",
    ] {
        assert!(kinds.contains(&k), "deploy/ lacks a {k}");
    }
    let d = docs.iter().find(|d| d["kind"] == "Deployment").unwrap();
    let pod = &d["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let c = &pod["containers"][0];
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert!(
        c["readinessProbe"]["httpGet"]["path"] == "/readyz"
            && c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    );
    assert!(c["resources"]["limits"]["memory"].is_string());
    for w in docs.iter().filter(|d| {
        d["kind"]
            .as_str()
            .unwrap_or("")
            .ends_with("WebhookConfiguration")
    }) {
        let hook = &w["webhooks"][0];
        assert_eq!(hook["admissionReviewVersions"][0], "v1");
        assert!(hook["timeoutSeconds"].as_i64().unwrap() <= 30);
        let resources = hook["rules"].to_string();
        assert!(
            resources.contains("\"pods/ephemeralcontainers\""),
            "ephemeral containers run images too: {resources}"
        );
    }
    // The token can read the admission context, and nothing more.
    assert_eq!(pod["automountServiceAccountToken"], true);
    let role = docs
        .iter()
        .find(|d| {
            d["kind"] == "ClusterRole" && d["metadata"]["name"] == "imgverify-admission-context"
        })
        .expect("rbac.yaml");
    let mut granted = Vec::new();
    for rule in role["rules"].as_array().unwrap() {
        for verb in rule["verbs"].as_array().unwrap() {
            assert!(
                ["get", "list", "watch"].contains(&verb.as_str().unwrap()),
                "{verb}"
            );
        }
        granted.extend(
            rule["resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap().to_string()),
        );
    }
    granted.sort();
    assert_eq!(
        granted,
        [
            "clusterrolebindings",
            "configmaps",
            "namespaces",
            "rolebindings",
            "secrets",
            "serviceaccounts"
        ]
    );
    let binding = docs
        .iter()
        .find(|d| d["kind"] == "ClusterRoleBinding")
        .unwrap();
    // Background scans write reports and nothing else; they read workloads.
    let scan = docs
        .iter()
        .find(|d| {
            d["kind"] == "ClusterRole" && d["metadata"]["name"] == "imgverify-background-scan"
        })
        .expect("the background scan ClusterRole");
    for rule in scan["rules"].as_array().unwrap() {
        let group = rule["apiGroups"][0].as_str().unwrap();
        let writes = rule["verbs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| ["create", "update", "delete", "patch"].contains(&v.as_str().unwrap()));
        assert_eq!(
            writes,
            group == "openreports.io" || group == "wgpolicyk8s.io",
            "{rule}"
        );
    }
    let lease_role = docs
        .iter()
        .find(|d| d["kind"] == "Role" && d["metadata"]["name"] == "imgverify-background-scan-lease")
        .expect("the Lease Role");
    assert_eq!(lease_role["metadata"]["namespace"], "imgverify");
    assert_eq!(
        lease_role["rules"][0]["resources"],
        serde_json::json!(["leases"])
    );
    assert_eq!(binding["subjects"][0]["name"], "imgverify");
    // Secrets and service accounts cluster-wide by name only (pull
    // secrets): no list or watch.
    for rule in role["rules"].as_array().unwrap() {
        if rule["resources"].to_string().contains("secrets") {
            assert_eq!(rule["verbs"], serde_json::json!(["get"]), "{rule}");
        }
    }
    // Secrets (attestor keys) listed and watched only in the install
    // namespace, never written.
    let keys = docs
        .iter()
        .find(|d| d["kind"] == "Role" && d["metadata"]["name"] == "imgverify-keys")
        .expect("the keys Role");
    assert_eq!(keys["metadata"]["namespace"], "imgverify");
    assert_eq!(
        keys["rules"],
        serde_json::json!([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]}])
    );
    let keys_binding = docs
        .iter()
        .find(|d| d["kind"] == "RoleBinding" && d["metadata"]["name"] == "imgverify-keys")
        .expect("the keys RoleBinding");
    assert_eq!(keys_binding["roleRef"]["name"], "imgverify-keys");
    assert_eq!(keys_binding["subjects"][0]["name"], "imgverify");
}
