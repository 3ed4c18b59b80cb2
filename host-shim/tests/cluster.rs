//! Admission context from the cluster (issue item 1): namespace labels and
//! the user's roles come from a loopback API server speaking list and watch,
//! so `namespaceSelector`, `roles`/`clusterRoles` and namespace-selected
//! failure-action overrides apply in `serve`; without a cluster connection
//! such policies refuse to start, naming the rule and field.

mod support;

use imgverify_host::serve::{ServeArgs, serve};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;
use support::tempdir::Dir;
use support::webhook::{Server, layout, start_with};

/// The webhook with `policies`, artifacts from `layouts`, and the cluster
/// of `kubeconfig`.
async fn start_in_cluster(policies: Vec<String>, layouts: &[String], kubeconfig: &str) -> Server {
    start_with(policies, (layouts, None), |a| ServeArgs {
        kubeconfig: Some(kubeconfig.to_string()),
        ..a
    })
    .await
}

/// The keyed-signature example's attestor, with `match` and `exclude` replaced.
fn policy(dir: &Dir, name: &str, spec_extra: &str, match_exclude: &str, action: &str) -> String {
    let base =
        std::fs::read_to_string(support::root().join("policies/keyed-signature/policy.yaml"))
            .unwrap();
    let body = base
        .replace("name: check-signature", &format!("name: {name}"))
        .replace(
            "      match:\n        any:\n          - resources:\n              kinds: [Pod]\n",
            match_exclude,
        )
        .replace(
            "        - failureAction: Enforce\n",
            &format!("        - {action}\n"),
        )
        .replace(
            "  webhookConfiguration:",
            &format!("{spec_extra}  webhookConfiguration:"),
        );
    assert!(body.contains(match_exclude), "template changed");
    let p = dir.0.join(format!("{name}.yaml"));
    std::fs::write(&p, body).unwrap();
    p.display().to_string()
}

fn pod_in(ns: &str, name: &str, image: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
        "spec": {"containers": [{"name": "app", "image": image}]}})
}

async fn review(s: &Server, ns: &str, user: Value, object: Value) -> Value {
    review_at(s, "/mutate", ns, user, object).await
}

async fn review_at(s: &Server, path: &str, ns: &str, user: Value, object: Value) -> Value {
    let body = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "u", "operation": "CREATE", "namespace": ns, "object": object, "userInfo": user}});
    let r = s
        .client
        .post(format!("{}{path}", s.url))
        .body(body.to_string())
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    v["response"].clone()
}

const UNSIGNED: &str = "registry.example.com/demo/unsigned:v1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespace_labels_and_roles_come_from_the_cluster() {
    let dir = Dir::new("cluster");
    let (api, kubeconfig) = support::kubeapi::start(&dir.0).await;
    api.namespace("prod", json!({"env": "prod"}));
    api.namespace("dev", json!({"env": "dev"}));
    api.cluster_role_binding(
        "admins",
        "cluster-admin",
        json!([{"kind": "User", "name": "root-user"}]),
    );
    api.role_binding(
        "dev",
        "deployers",
        "Role",
        "deployer",
        json!([{"kind": "ServiceAccount", "name": "ci"}]),
    );
    let by_selector = policy(
        &dir,
        "prod-only",
        "",
        "      match:\n        any:\n          - resources:\n              kinds: [Pod]\n              namespaceSelector:\n                matchLabels: {env: prod}\n",
        "failureAction: Enforce",
    );
    let by_role = policy(
        &dir,
        "not-for-deployers",
        "  background: false\n",
        "      match:\n        any:\n          - resources:\n              kinds: [Pod]\n              namespaces: [dev]\n      exclude:\n        any:\n          - clusterRoles: [cluster-admin]\n          - roles: ['dev:deployer']\n",
        "failureAction: Enforce",
    );
    let s = start_in_cluster(vec![by_selector, by_role], &layout(), &kubeconfig).await;
    let alice = json!({"username": "alice", "groups": ["dev"]});
    // namespaceSelector: prod is checked, dev is not (by this policy).
    let r = review(&s, "prod", alice.clone(), pod_in("prod", "a", UNSIGNED)).await;
    assert_eq!(r["allowed"], false, "{r}");
    assert!(
        r["status"]["message"]
            .as_str()
            .unwrap()
            .contains("prod-only"),
        "{r}"
    );
    // In dev, the role policy applies, and excludes users by their roles.
    let r = review(&s, "dev", alice.clone(), pod_in("dev", "b", UNSIGNED)).await;
    assert_eq!(r["allowed"], false, "{r}");
    assert!(
        !r["status"]["message"]
            .as_str()
            .unwrap()
            .contains("prod-only"),
        "{r}"
    );
    let root = json!({"username": "root-user", "groups": []});
    let r = review(&s, "dev", root, pod_in("dev", "c", UNSIGNED)).await;
    assert_eq!(r["allowed"], true, "cluster-admin is excluded: {r}");
    let ci =
        json!({"username": "system:serviceaccount:dev:ci", "groups": ["system:serviceaccounts"]});
    let r = review(&s, "dev", ci, pod_in("dev", "d", UNSIGNED)).await;
    assert_eq!(r["allowed"], true, "dev:deployer is excluded: {r}");
    // An omitted metadata.namespace is the request's.
    let mut no_ns = pod_in("prod", "e", UNSIGNED);
    no_ns["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("namespace");
    let r = review(&s, "prod", alice.clone(), no_ns).await;
    assert_eq!(r["allowed"], false, "{r}");
    // Relabelling a namespace reaches the webhook through the watch.
    api.namespace("dev", json!({"env": "prod"}));
    let mut denied_by_selector = false;
    for _ in 0..600 {
        let r = review(
            &s,
            "dev",
            json!({"username": "root-user"}),
            pod_in("dev", "f", UNSIGNED),
        )
        .await;
        if r["allowed"] == false
            && r["status"]["message"]
                .as_str()
                .unwrap()
                .contains("prod-only")
        {
            denied_by_selector = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        denied_by_selector,
        "the relabelled namespace was never seen"
    );
    // A namespace created after the initial list is read directly if the
    // watch has not delivered it yet.
    api.namespace("late", json!({"env": "prod"}));
    let r = review(&s, "late", alice, pod_in("late", "g", UNSIGNED)).await;
    assert_eq!(r["allowed"], false, "{r}");
    assert!(api.watches.load(std::sync::atomic::Ordering::SeqCst) >= 3);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overrides_by_namespace_selector_apply() {
    let dir = Dir::new("cluster-overrides");
    let (api, kubeconfig) = support::kubeapi::start(&dir.0).await;
    api.namespace("prod", json!({"env": "prod"}));
    api.namespace("dev", json!({}));
    let p = policy(
        &dir,
        "audit-but-enforce-prod",
        "  validationFailureAction: Audit\n  validationFailureActionOverrides:\n    - action: Enforce\n      namespaceSelector:\n        matchLabels: {env: prod}\n",
        "      match:\n        any:\n          - resources:\n              kinds: [Pod]\n",
        "mutateDigest: false\n          verifyDigest: false",
    );
    let s = start_in_cluster(vec![p.clone()], &layout(), &kubeconfig).await;
    let u = json!({"username": "alice"});
    let r = review(&s, "prod", u.clone(), pod_in("prod", "a", UNSIGNED)).await;
    assert_eq!(r["allowed"], false, "Enforce in prod: {r}");
    let r = review(&s, "dev", u, pod_in("dev", "b", UNSIGNED)).await;
    assert_eq!(r["allowed"], true, "Audit elsewhere: {r}");
    assert!(
        r["warnings"].to_string().contains("audit-but-enforce-prod"),
        "{r}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_needing_context_refuse_to_start_without_a_cluster() {
    let dir = Dir::new("cluster-none");
    let p = policy(
        &dir,
        "needs-labels",
        "",
        "      match:\n        any:\n          - resources:\n              kinds: [Pod]\n              namespaceSelector:\n                matchLabels: {env: prod}\n",
        "failureAction: Enforce",
    );
    let (cert, key, _) = support::webhook::certs(&dir.0);
    let missing = dir.0.join("no-such-kubeconfig").display().to_string();
    let args = ServeArgs {
        listen: format!("127.0.0.1:{}", support::free_port()),
        kubeconfig: Some(missing),
        log_format: "none".into(),
        ..ServeArgs::new(vec![p], cert, key)
    };
    let e = serve(args, std::future::pending()).await.unwrap_err();
    assert!(
        e.contains("policy needs-labels rule signed-by-team-a field match.any[0].resources.namespaceSelector needs namespace labels"),
        "{e}"
    );
    assert!(e.contains("no cluster connection is configured"), "{e}");
}

/// A rule whose preconditions read a ConfigMap through `context`: the
/// webhook reads it from the API server on each admission (a change takes
/// effect at once), and a missing ConfigMap fails the rule, naming it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_config_maps_are_read_from_the_api_server() {
    let dir = Dir::new("cluster-cm");
    let (api, kubeconfig) = support::kubeapi::start(&dir.0).await;
    api.namespace("shop", json!({}));
    api.config_map("shop", "image-policy", json!({"enforce": "true"}));
    let p = policy(
        &dir,
        "enforce-by-config",
        "",
        "      match:\n        any:\n          - resources:\n              kinds: [Pod]\n      context:\n        - name: settings\n          configMap:\n            name: image-policy\n            namespace: \"{{ request.namespace }}\"\n      preconditions:\n        all:\n          - key: \"{{ settings.data.enforce }}\"\n            operator: Equals\n            value: \"true\"\n",
        "failureAction: Enforce",
    );
    let s = start_in_cluster(vec![p], &layout(), &kubeconfig).await;
    let u = json!({"username": "alice"});
    let r = review(&s, "shop", u.clone(), pod_in("shop", "a", UNSIGNED)).await;
    assert_eq!(r["allowed"], false, "enforced by the ConfigMap: {r}");
    api.config_map("shop", "image-policy", json!({"enforce": "false"}));
    let r = review(&s, "shop", u.clone(), pod_in("shop", "b", UNSIGNED)).await;
    assert_eq!(r["allowed"], true, "preconditions not met: {r}");
    assert!(
        api.config_map_gets
            .load(std::sync::atomic::Ordering::SeqCst)
            >= 2
    );
    api.namespace("other", json!({}));
    let r = review(&s, "other", u, pod_in("other", "c", UNSIGNED)).await;
    assert_eq!(r["allowed"], false, "{r}");
    assert!(
        r["status"]["message"]
            .as_str()
            .unwrap()
            .contains("failed to load context: failed to get configmap other/image-policy"),
        "{r}"
    );
    s.stop().await;
}

/// A GlobalContextEntry served with the policies (`kubernetesResource`
/// ConfigMaps of one namespace, with a projection), read by an image
/// policy's `globalContext.get` through the API server on each admission:
/// a change in the cluster takes effect at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_context_entries_are_read_from_the_api_server() {
    let dir = Dir::new("cluster-gce");
    let (api, kubeconfig) = support::kubeapi::start(&dir.0).await;
    api.namespace("shop", json!({}));
    api.config_map("platform", "blocked-teams", json!({"team": "red"}));
    let p = dir.0.join("gce.yaml");
    let key: String = std::fs::read_to_string(support::root().join("policies/keys/demo-a.pub"))
        .unwrap()
        .lines()
        .map(|l| format!("            {l}\n"))
        .collect();
    std::fs::write(
        &p,
        format!(
            r#"apiVersion: kyverno.io/v2alpha1
kind: GlobalContextEntry
metadata: {{name: blocked}}
spec:
  kubernetesResource: {{version: v1, resource: configmaps, namespace: platform}}
  projections:
    - name: teams
      jmesPath: "[].data.team"
---
apiVersion: policies.kyverno.io/v1
kind: ImageValidatingPolicy
metadata: {{name: blocked-teams}}
spec:
  matchConstraints:
    resourceRules:
      - {{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}}
  validationConfigurations: {{required: false, verifyDigest: false, mutateDigest: false}}
  attestors:
    - name: a
      cosign:
        key:
          data: |
{key}  validations:
    - expression: "!(object.metadata.labels.team in globalContext.get('blocked', 'teams'))"
      messageExpression: "'team ' + object.metadata.labels.team + ' may not deploy'"
"#
        ),
    )
    .unwrap();
    let s = start_in_cluster(vec![p.display().to_string()], &layout(), &kubeconfig).await;
    let u = json!({"username": "alice"});
    let labelled = |name: &str, team: &str| {
        let mut p = pod_in("shop", name, UNSIGNED);
        p["metadata"]["labels"] = json!({"team": team});
        p
    };
    let r = review_at(&s, "/validate", "shop", u.clone(), labelled("a", "red")).await;
    assert_eq!(r["allowed"], false, "{r}");
    assert!(
        r["status"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("Policy blocked-teams failed: team red may not deploy"),
        "{r}"
    );
    let r = review_at(&s, "/validate", "shop", u.clone(), labelled("b", "blue")).await;
    assert_eq!(r["allowed"], true, "{r}");
    // Blue is blocked too from now on.
    api.config_map("platform", "blocked-blue", json!({"team": "blue"}));
    let r = review_at(&s, "/validate", "shop", u, labelled("c", "blue")).await;
    assert_eq!(r["allowed"], false, "{r}");
    s.stop().await;
}

/// An attestor key kept in a Secret (`k8s://signing/cosign-key`): `serve`
/// reads it from the API server on first use and from a watch after that,
/// so a key rotated in the cluster decides the next admissions without a
/// restart; a deleted Secret denies, naming it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attestor_keys_come_from_a_watched_secret() {
    use std::sync::atomic::Ordering::SeqCst;
    let dir = Dir::new("cluster-secret-key");
    let (api, kubeconfig) = support::kubeapi::start(&dir.0).await;
    api.namespace("shop", json!({}));
    let key = |name: &str| {
        std::fs::read_to_string(support::root().join(format!("policies/keys/{name}.pub"))).unwrap()
    };
    api.secret(
        "signing",
        "cosign-key",
        &[("cosign.pub", &key("demo-a")), ("cosign.key", "not read")],
    );
    let base =
        std::fs::read_to_string(support::root().join("policies/keyed-signature/policy.yaml"))
            .unwrap();
    // The inline key A becomes a reference to the Secret.
    let start = base.find("                    publicKeys: |-\n").unwrap();
    let end = base[start..].find("                    rekor:").unwrap() + start;
    let body = format!(
        "{}                    publicKeys: k8s://signing/cosign-key\n{}",
        &base[..start],
        &base[end..]
    );
    let p = dir.0.join("secret-key.yaml");
    std::fs::write(&p, body).unwrap();
    let s = start_in_cluster(vec![p.display().to_string()], &layout(), &kubeconfig).await;
    let u = json!({"username": "alice"});
    let signed_a = "registry.example.com/demo/signed:v1";
    let signed_b = "registry.example.com/demo/signed-by-b:v1";
    let r = review(&s, "shop", u.clone(), pod_in("shop", "a1", signed_a)).await;
    assert_eq!(r["allowed"], true, "{r}");
    let r = review(&s, "shop", u.clone(), pod_in("shop", "b1", signed_b)).await;
    assert_eq!(r["allowed"], false, "{r}");
    // The first read started a watch; once it has listed, admissions read
    // the Secret from it, not from the API server.
    let watched = async {
        for i in 0.. {
            let before = api.secret_gets.load(SeqCst);
            let r = review(
                &s,
                "shop",
                u.clone(),
                pod_in("shop", &format!("w{i}"), signed_a),
            )
            .await;
            assert_eq!(r["allowed"], true, "{r}");
            if api.secret_gets.load(SeqCst) == before {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), watched)
        .await
        .expect("the Secret is still read from the API server");
    let gets = api.secret_gets.load(SeqCst);
    for i in 0..3 {
        let r = review(
            &s,
            "shop",
            u.clone(),
            pod_in("shop", &format!("a{i}"), signed_a),
        )
        .await;
        assert_eq!(r["allowed"], true, "{r}");
    }
    assert_eq!(api.secret_gets.load(SeqCst), gets, "read past the watch");
    // Rotated to key B: B's image is admitted and A's denied, no restart.
    api.secret("signing", "cosign-key", &[("cosign.pub", &key("demo-b"))]);
    let rotated = async {
        loop {
            let r = review(&s, "shop", u.clone(), pod_in("shop", "b2", signed_b)).await;
            if r["allowed"] == true {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), rotated)
        .await
        .expect("the rotated key was never used");
    let r = review(&s, "shop", u.clone(), pod_in("shop", "a3", signed_a)).await;
    assert_eq!(r["allowed"], false, "{r}");
    // Deleted: denied, naming the Secret.
    api.remove("v1/secrets", "signing", "cosign-key");
    let deleted = async {
        loop {
            let r = review(&s, "shop", u.clone(), pod_in("shop", "b3", signed_b)).await;
            if r["allowed"] == false {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let r = tokio::time::timeout(Duration::from_secs(10), deleted)
        .await
        .expect("a deleted Secret still verified");
    let message = r["status"]["message"].as_str().unwrap();
    assert!(
        message.contains(
            "failed to load public key from k8s://signing/cosign-key: checking if secret exists: secrets \"cosign-key\" not found"
        ),
        "{message}"
    );
    s.stop().await;
}

/// Registry credentials from the cluster, against a registry that demands
/// basic auth (htpasswd): a Pod's `imagePullSecrets`, a Deployment whose
/// service account holds the pull secret, and a Pod naming no secret
/// (denied: the registry refuses it, never an allow).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_secrets_come_from_the_pod_and_its_service_account() {
    use support::{Auth, TestRegistry};
    let dir = Dir::new("cluster-pull-secrets");
    let reg = TestRegistry::start(Auth::Basic {
        user: "ci".into(),
        password: "s3cret".into(),
    });
    reg.push_examples().await;
    let (api, kubeconfig) = support::kubeapi::start(&dir.0).await;
    api.namespace("shop", json!({}));
    let config = |password: &str| {
        json!({"auths": {reg.host(): {"username": "ci", "password": password}}}).to_string()
    };
    api.secret(
        "shop",
        "regcred",
        &[(".dockerconfigjson", &config("s3cret"))],
    );
    api.secret("shop", "stale", &[(".dockerconfigjson", &config("wrong"))]);
    api.service_account("shop", "builder", &["regcred"]);
    api.service_account("shop", "default", &[]);
    let p = dir.0.join("keyed.yaml");
    std::fs::write(&p, support::keyed_policy()).unwrap();
    let s = start_in_cluster(vec![p.display().to_string()], &[], &kubeconfig).await;
    let image = format!("{}/demo/signed:v1", reg.host());
    let u = json!({"username": "alice"});
    let pod = |name: &str, spec: Value| {
        let mut p = pod_in("shop", name, &image);
        for (k, v) in spec.as_object().unwrap() {
            p["spec"][k] = v.clone();
        }
        p
    };
    // No pull secret, default service account without one: refused.
    let r = review(&s, "shop", u.clone(), pod("none", json!({}))).await;
    assert_eq!(r["allowed"], false, "{r}");
    let message = r["status"]["message"].as_str().unwrap();
    assert!(message.contains("401"), "{message}");
    // The wrong secret, then the right one after it.
    let r = review(
        &s,
        "shop",
        u.clone(),
        pod("stale", json!({"imagePullSecrets": [{"name": "stale"}]})),
    )
    .await;
    assert_eq!(r["allowed"], false, "{r}");
    let r = review(
        &s,
        "shop",
        u.clone(),
        pod("right", json!({"imagePullSecrets": [{"name": "regcred"}]})),
    )
    .await;
    assert_eq!(r["allowed"], true, "{r}");
    // A Pod naming no pull secret, whose service account holds it (as the
    // ServiceAccount admission plugin would have copied it in).
    let r = review(
        &s,
        "shop",
        u.clone(),
        pod("by-account", json!({"serviceAccountName": "builder"})),
    )
    .await;
    assert_eq!(r["allowed"], true, "{r}");
    // A Deployment whose template names the service account holding it.
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"serviceAccountName": "builder", "containers": [{"name": "app", "image": image}]}}}});
    let r = review(&s, "shop", u.clone(), deployment).await;
    assert_eq!(r["allowed"], true, "{r}");
    s.stop().await;
    // A policy's imageRegistryCredentials.secrets: a bare name is read in
    // imgverify's own namespace, `ns/name` where it says.
    api.secret(
        "imgverify",
        "home-cred",
        &[(".dockerconfigjson", &config("s3cret"))],
    );
    api.secret(
        "creds",
        "shared",
        &[(".dockerconfigjson", &config("s3cret"))],
    );
    for secret in ["home-cred", "creds/shared"] {
        let with_secret = support::keyed_policy().replace(
            "        - failureAction: Enforce\n",
            &format!("        - failureAction: Enforce\n          imageRegistryCredentials:\n            secrets: [{secret}]\n"),
        );
        assert!(with_secret.contains("imageRegistryCredentials"));
        let p = dir.0.join("with-secret.yaml");
        std::fs::write(&p, with_secret).unwrap();
        let s = start_in_cluster(vec![p.display().to_string()], &[], &kubeconfig).await;
        let r = review(&s, "shop", u.clone(), pod("policy-cred", json!({}))).await;
        assert_eq!(r["allowed"], true, "{secret}: {r}");
        s.stop().await;
    }
}

/// The `imgverify_<name>` sample of a Prometheus text, or 0.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("imgverify_{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// Background scans (issue: cluster-native): two replicas, one Lease; the
/// holder evaluates the Pods and Deployments in the cluster and writes an
/// openreports.io report per resource (fail for the unsigned Pod, pass for
/// the signed one and the Deployment), deletes a Pod's report when the Pod
/// goes, and the other replica takes over when the holder stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_scans_write_reports_from_the_lease_holder_only() {
    let dir = Dir::new("cluster-background");
    let (api, kubeconfig) = support::kubeapi::start(&dir.0).await;
    api.namespace("shop", json!({}));
    let pod = |name: &str, image: &str| {
        let mut p = pod_in("shop", name, image);
        // A verification recorded on the object is not trusted: stripped.
        p["metadata"]["annotations"] = json!({"kyverno.io/verify-images": "{\"registry.example.com/demo/unsigned:v1\":\"pass\"}"});
        p
    };
    api.apply(
        "v1/pods",
        pod("good", "registry.example.com/demo/signed:v1"),
    );
    api.apply("v1/pods", pod("bad", UNSIGNED));
    api.apply(
        "apps/v1/deployments",
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": "registry.example.com/demo/signed:v1"}]}}}}),
    );
    // A copy: the test turns its background off at the end.
    let policy_text = std::fs::read_to_string(support::webhook::policy("keyed-signature")).unwrap();
    let policy_path = dir.0.join("keyed.yaml");
    std::fs::write(&policy_path, &policy_text).unwrap();
    let policy = policy_path.display().to_string();
    let replica = |identity: &'static str| {
        let kubeconfig = kubeconfig.clone();
        move |a: ServeArgs| ServeArgs {
            kubeconfig: Some(kubeconfig),
            background_scan_interval: 1,
            lease_duration_seconds: 2,
            lease_identity: Some(identity.into()),
            ..a
        }
    };
    let first = start_with(
        vec![policy.clone()],
        (&layout(), None),
        replica("replica-a"),
    )
    .await;
    let second = start_with(vec![policy], (&layout(), None), replica("replica-b")).await;
    const REPORTS: &str = "openreports.io/v1alpha1/reports";
    let report_of = |name: &str| api.object(REPORTS, "shop", &format!("uid-v1-pods-shop-{name}"));
    let written = async {
        while report_of("bad").is_none() || report_of("good").is_none() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), written)
        .await
        .expect("no reports written");
    let bad = report_of("bad").unwrap();
    assert_eq!(bad["kind"], "Report");
    assert_eq!(
        bad["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "imgverify"
    );
    assert_eq!(bad["scope"]["name"], "bad");
    assert_eq!(bad["scope"]["kind"], "Pod");
    assert_eq!(
        bad["metadata"]["ownerReferences"][0]["uid"],
        "uid-v1-pods-shop-bad"
    );
    assert_eq!(bad["summary"]["fail"], 1, "{bad}");
    let result = &bad["results"][0];
    assert_eq!(result["policy"], "check-signature");
    assert_eq!(result["rule"], "signed-by-team-a");
    assert_eq!(result["result"], "fail");
    assert_eq!(result["properties"]["process"], "background scan");
    assert!(
        result["message"]
            .as_str()
            .unwrap()
            .contains("registry.example.com/demo/unsigned:v1"),
        "{result}"
    );
    let good = report_of("good").unwrap();
    assert_eq!(good["summary"]["pass"], 1, "{good}");
    let deployment = api
        .objects(REPORTS)
        .into_iter()
        .find(|r| r["scope"]["kind"] == "Deployment")
        .expect("the Deployment's report");
    assert_eq!(deployment["results"][0]["rule"], "autogen-signed-by-team-a");
    assert_eq!(deployment["results"][0]["result"], "pass");
    // One replica holds the Lease and scans; the other does neither.
    let (ma, mb) = (first.metrics().await, second.metrics().await);
    let (a_leads, b_leads) = (
        metric(&ma, "background_leader"),
        metric(&mb, "background_leader"),
    );
    assert_eq!(a_leads + b_leads, 1.0, "{ma}\n{mb}");
    let (leader, follower, follower_metrics) = if a_leads == 1.0 {
        (first, second, mb)
    } else {
        (second, first, ma)
    };
    assert_eq!(metric(&follower_metrics, "background_scans_total"), 0.0);
    assert!(metric(&leader.metrics().await, "background_resources_total") >= 3.0);
    let lease = api
        .object(
            "coordination.k8s.io/v1/leases",
            "imgverify",
            "imgverify-background-scan",
        )
        .expect("the Lease");
    let holder = lease["spec"]["holderIdentity"]
        .as_str()
        .unwrap()
        .to_string();
    // Unchanged results are not rewritten scan after scan.
    let writes = api.writes(REPORTS);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(api.writes(REPORTS), writes, "unchanged reports rewritten");
    // The unsigned Pod goes: its report goes with it.
    api.remove("v1/pods", "shop", "bad");
    let cleared = async {
        while report_of("bad").is_some() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), cleared)
        .await
        .expect("the report of a deleted Pod stayed");
    assert!(report_of("good").is_some());
    // The holder stops: the other replica takes the Lease and scans.
    leader.stop().await;
    api.apply("v1/pods", pod("late", UNSIGNED));
    let taken = async {
        while report_of("late").is_none() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), taken)
        .await
        .expect("no replica took over");
    let lease = api
        .object(
            "coordination.k8s.io/v1/leases",
            "imgverify",
            "imgverify-background-scan",
        )
        .unwrap();
    assert_ne!(lease["spec"]["holderIdentity"].as_str().unwrap(), holder);
    assert!(metric(&follower.metrics().await, "background_scans_total") >= 1.0);
    // The policy leaves background scans (reloaded from its file): no
    // policy applies any more, so every report goes.
    let off = policy_text.replace("spec:\n", "spec:\n  background: false\n");
    assert_ne!(off, policy_text);
    std::fs::write(&policy_path, off).unwrap();
    let gone = async {
        while !api.objects(REPORTS).is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), gone)
        .await
        .expect("reports stayed after their policy left background scans");
    follower.stop().await;
}

/// A resource's results as (policy, rule, result).
type Results = std::collections::BTreeSet<(String, String, String)>;

/// The results of a report or of a CLI resource outcome.
fn results_of(r: &Value) -> Results {
    r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            let s = |k: &str| x[k].as_str().unwrap().to_string();
            (s("policy"), s("rule"), s("result"))
        })
        .collect()
}

/// A sample cluster: the shipped examples' workloads, each example in a
/// namespace of its own, under four of their policies (a keyed signature,
/// a Sigstore bundle, a vulnerability-scan attestation and an
/// ImageValidatingPolicy). The background scan's reports must say, result
/// for result, what `imgverify apply` says of the same resources; they are
/// written to `target/sample-cluster-reports.json` for reading.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sample_clusters_reports_agree_with_the_cli() {
    let dir = Dir::new("cluster-sample");
    let (api, kubeconfig) = support::kubeapi::start(&dir.0).await;
    let examples = [
        "keyed-signature",
        "sigstore-bundle",
        "vuln-scan",
        "image-validating-policy",
    ];
    let mut all = String::new();
    for example in examples {
        api.namespace(example, json!({}));
        let text = std::fs::read_to_string(
            support::root().join(format!("policies/{example}/resources.yaml")),
        )
        .unwrap();
        for doc in text.split("\n---") {
            let mut obj: Value = imgverify::yaml::from_str(doc).unwrap();
            if obj.is_null() {
                continue;
            }
            obj["metadata"]["namespace"] = json!(example);
            let collection = match obj["kind"].as_str().unwrap() {
                "Pod" => "v1/pods",
                "Deployment" => "apps/v1/deployments",
                other => panic!("{other}"),
            };
            all.push_str(&format!("---\n{obj}\n"));
            api.apply(collection, obj);
        }
    }
    let resources = dir.0.join("resources.yaml");
    std::fs::write(&resources, &all).unwrap();
    let policies: Vec<String> = examples
        .iter()
        .map(|e| support::webhook::policy(e))
        .collect();
    // The CLI's results, resource by resource.
    let mut cli = std::process::Command::new(env!("CARGO_BIN_EXE_imgverify"));
    cli.arg("apply");
    for p in &policies {
        cli.arg(p);
    }
    let out = cli
        .args([
            "-r",
            resources.to_str().unwrap(),
            "--format",
            "json",
            "--oci-layout",
        ])
        .arg(&layout()[0])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let mut expected: BTreeMap<(String, String), Results> = BTreeMap::new();
    for r in doc["resources"].as_array().unwrap() {
        let key = (
            r["namespace"].as_str().unwrap().to_string(),
            r["name"].as_str().unwrap().to_string(),
        );
        let results = results_of(r);
        if !results.is_empty() {
            expected.insert(key, results);
        }
    }
    assert!(expected.len() >= 15, "{expected:?}");
    let s = start_with(policies, (&layout(), None), |a| ServeArgs {
        kubeconfig: Some(kubeconfig.clone()),
        background_scan_interval: 3600,
        ..a
    })
    .await;
    const REPORTS: &str = "openreports.io/v1alpha1/reports";
    let scanned = async {
        while api.objects(REPORTS).len() < expected.len() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(90), scanned)
        .await
        .unwrap_or_else(|_| {
            panic!(
                "{} reports of {}",
                api.objects(REPORTS).len(),
                expected.len()
            )
        });
    let reports = api.objects(REPORTS);
    let mut got: BTreeMap<(String, String), Results> = BTreeMap::new();
    for r in &reports {
        let key = (
            r["scope"]["namespace"].as_str().unwrap().to_string(),
            r["scope"]["name"].as_str().unwrap().to_string(),
        );
        let results = results_of(r);
        got.insert(key, results);
    }
    assert_eq!(got, expected);
    let summary = |k: &str| -> u64 {
        reports
            .iter()
            .map(|r| r["summary"][k].as_u64().unwrap())
            .sum()
    };
    assert!(summary("pass") > 0 && summary("fail") > 0);
    let target = support::root().join("target");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(
        target.join("sample-cluster-reports.json"),
        serde_json::to_string_pretty(&reports).unwrap(),
    )
    .unwrap();
    s.stop().await;
}
