//! ImageValidatingPolicy decided by the engine end to end: containers/image's
//! cosign fixture (a real `.sig` signature by `cosign.pub`) served to a
//! session as a registry would, under image policies that must allow it,
//! deny it, warn or only report, each for a stated reason.
mod common;

use common::{CosignFixture, cosign_pub, other_pub};
use imgverify::decision::{Decision, RuleStatus};
use imgverify::{Engine, Outcome, Request, Session};
use serde_json::{Value, json};
use std::sync::Arc;

const REPO: &str = "192.168.64.2:5000/cosign-signed-single-sample";

fn registry() -> CosignFixture {
    CosignFixture::load("dir-img-cosign-valid", REPO, |_| {})
}

/// An image policy over Pods: `spec` merged over a cosign-key attestor
/// named `cosign` and a validation that every container verifies.
fn policy(name: &str, key: &str, spec: Value) -> Value {
    let mut p = json!({
        "apiVersion": "policies.kyverno.io/v1beta1",
        "kind": "ImageValidatingPolicy",
        "metadata": {"name": name},
        "spec": {
            "matchConstraints": {"resourceRules": [{
                "apiGroups": [""], "apiVersions": ["v1"],
                "operations": ["CREATE", "UPDATE"], "resources": ["pods"],
            }]},
            "matchImageReferences": [{"glob": "192.168.64.2:5000/*"}],
            "attestors": [{"name": "cosign", "cosign": {
                "key": {"data": key},
                "ctlog": {"insecureIgnoreTlog": true},
            }}],
            "validations": [{
                "expression": "images.containers.map(i, verifyImageSignatures(i, [attestors.cosign])).all(n, n > 0)",
                "message": "failed the image signature verification",
            }],
        },
    });
    for (k, v) in spec.as_object().unwrap() {
        p["spec"][k] = v.clone();
    }
    p
}

fn pod(images: &[&str]) -> Value {
    let containers: Vec<Value> = images
        .iter()
        .enumerate()
        .map(|(i, image)| json!({"name": format!("c{i}"), "image": image}))
        .collect();
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default", "labels": {"app": "x"}},
        "spec": {"containers": containers}})
}

/// Decides `object` under `policies`, answering fetches from `reg`.
fn decide(policies: &[Value], object: Value, reg: &CosignFixture) -> Decision {
    decide_request(policies, json!({"object": object}), reg)
}

fn decide_request(policies: &[Value], request: Value, reg: &CosignFixture) -> Decision {
    decide_with_exceptions(policies, &[], request, reg)
}

fn decide_with_exceptions(
    policies: &[Value],
    exceptions: &[Value],
    request: Value,
    reg: &CosignFixture,
) -> Decision {
    let text = serde_json::to_string(&Value::Array(policies.to_vec())).unwrap();
    let options = imgverify::engine::EngineOptions {
        policy_exceptions: vec![imgverify::engine::NamedSource {
            name: "exceptions.json".into(),
            text: serde_json::to_string(&Value::Array(exceptions.to_vec())).unwrap(),
        }],
        ..Default::default()
    };
    let engine = Engine::compile_with(&[("p.json", &text)], &options).unwrap();
    assert!(engine.lints().is_empty(), "{:?}", engine.lints());
    let req = Request::from_json(&serde_json::to_vec(&request).unwrap()).unwrap();
    let mut session = Session::new(Arc::new(engine), req);
    for _ in 0..8 {
        match session.evaluate() {
            Outcome::NeedArtifacts { fetches } => {
                for f in fetches {
                    session.put(f.kind, &f.key, reg.answer(&f)).unwrap();
                }
            }
            Outcome::Decision { decision } => return decision,
        }
    }
    panic!("no decision after 8 rounds");
}

fn only_result(d: &Decision) -> (&str, RuleStatus, &str) {
    assert_eq!(d.results.len(), 1, "{:#?}", d.results);
    let r = &d.results[0];
    (r.rule.as_str(), r.result, r.message.as_str())
}

#[test]
fn a_signed_image_passes_and_an_unsigned_key_is_denied_with_the_message() {
    let reg = registry();
    let image = reg.image();
    let d = decide(
        &[policy("check", &cosign_pub(), json!({}))],
        pod(&[&image]),
        &reg,
    );
    assert!(d.allowed, "{}", d.message);
    assert_eq!(only_result(&d), ("check", RuleStatus::Pass, "success"));

    let d = decide(
        &[policy("check", &other_pub(), json!({}))],
        pod(&[&image]),
        &reg,
    );
    assert!(!d.allowed);
    assert_eq!(
        d.message,
        "Policy check failed: failed the image signature verification"
    );
    assert_eq!(
        only_result(&d),
        (
            "check",
            RuleStatus::Fail,
            "failed the image signature verification"
        )
    );
}

#[test]
fn verify_digest_fails_a_tag_before_any_fetch() {
    let reg = registry();
    let d = decide(
        &[policy("check", &cosign_pub(), json!({}))],
        pod(&[&format!("{REPO}:v1")]),
        &reg,
    );
    assert!(!d.allowed);
    assert_eq!(
        only_result(&d).2,
        format!("image {REPO}:v1 does not have a digest")
    );
}

#[test]
fn globs_match_the_image_as_written() {
    // `docker.io/*` does not match `nginx`: nothing is selected, nothing
    // is fetched, and the policy passes with nothing to require.
    let reg = registry();
    let spec = json!({"matchImageReferences": [{"glob": "docker.io/*"}]});
    let d = decide(
        &[policy("check", &other_pub(), spec)],
        pod(&["nginx"]),
        &reg,
    );
    assert!(d.allowed, "{}", d.message);
    assert_eq!(only_result(&d).1, RuleStatus::Pass);
    // Written with the registry, it is selected (and fails: no digest).
    let spec = json!({"matchImageReferences": [{"glob": "docker.io/*"}]});
    let d = decide(
        &[policy("check", &other_pub(), spec)],
        pod(&["docker.io/nginx"]),
        &reg,
    );
    assert_eq!(
        only_result(&d).2,
        "image docker.io/nginx does not have a digest"
    );
}

#[test]
fn validation_actions_decide_what_a_failure_does() {
    let reg = registry();
    let image = reg.image();
    let failing =
        |actions: Value| policy("check", &other_pub(), json!({"validationActions": actions}));
    let d = decide(&[failing(json!(["Audit"]))], pod(&[&image]), &reg);
    assert!(d.allowed);
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    assert_eq!(only_result(&d).1, RuleStatus::Fail);

    let d = decide(&[failing(json!(["Warn"]))], pod(&[&image]), &reg);
    assert!(d.allowed);
    assert_eq!(
        d.warnings,
        vec!["Policy check failed: failed the image signature verification"]
    );

    let d = decide(&[failing(json!(["Deny"]))], pod(&[&image]), &reg);
    assert!(!d.allowed);
    assert!(d.warnings.is_empty());
}

#[test]
fn required_fails_a_policy_that_verified_nothing() {
    let reg = registry();
    let image = reg.image();
    let lazy = |required: bool| {
        policy(
            "lazy",
            &cosign_pub(),
            json!({
                "validations": [{"expression": "true"}],
                "validationConfigurations": {"required": required},
            }),
        )
    };
    let d = decide(&[lazy(true)], pod(&[&image]), &reg);
    assert!(!d.allowed);
    assert_eq!(
        only_result(&d).2,
        format!(
            "image {image} is not verified: no policy performed a signature or attestation check on it"
        )
    );
    let d = decide(&[lazy(false)], pod(&[&image]), &reg);
    assert!(d.allowed, "{}", d.message);
    // Another policy's successful check satisfies it.
    let d = decide(
        &[lazy(true), policy("check", &cosign_pub(), json!({}))],
        pod(&[&image]),
        &reg,
    );
    assert!(d.allowed, "{}", d.message);
    assert_eq!(d.results.len(), 2);
    // A failed check is named as such.
    let d = decide(
        &[
            lazy(true),
            policy(
                "audit",
                &other_pub(),
                json!({"validationActions": ["Audit"]}),
            ),
        ],
        pod(&[&image]),
        &reg,
    );
    assert!(!d.allowed);
    assert!(
        d.message.contains(&format!(
            "image {image} failed signature or attestation verification"
        )),
        "{}",
        d.message
    );
}

#[test]
fn match_constraints_conditions_and_variables() {
    let reg = registry();
    let image = reg.image();
    // Not a pod rule: no result.
    let spec = json!({"matchConstraints": {"resourceRules": [{
        "apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["deployments"],
    }]}});
    let d = decide(&[policy("check", &other_pub(), spec)], pod(&[&image]), &reg);
    assert!(d.results.is_empty(), "{:?}", d.results);
    // An object selector that does not select.
    let spec = json!({"matchConstraints": {"objectSelector": {"matchLabels": {"app": "y"}}}});
    let d = decide(&[policy("check", &other_pub(), spec)], pod(&[&image]), &reg);
    assert!(d.results.is_empty(), "{:?}", d.results);
    // A false match condition; a true one.
    for (condition, applies) in [
        ("object.metadata.labels.app == 'y'", false),
        (
            "object.metadata.labels.app == 'x' && request.operation == 'CREATE'",
            true,
        ),
    ] {
        let spec = json!({"matchConditions": [{"name": "c", "expression": condition}]});
        let d = decide(&[policy("check", &other_pub(), spec)], pod(&[&image]), &reg);
        assert_eq!(
            !d.results.is_empty(),
            applies,
            "{condition}: {:?}",
            d.results
        );
    }
    // Variables are computed when used, and see `images` and the request.
    let spec = json!({
        "variables": [
            {"name": "app", "expression": "object.metadata.labels.app"},
            {"name": "first", "expression": "images.containers[0]"},
        ],
        "validations": [{"expression": "variables.app == 'x' && variables.first == '%IMAGE%' && request.resource.resource == 'pods'"},
            {"expression": "verifyImageSignatures(variables.first, [attestors.cosign]) == 1"}],
    });
    let spec: Value = serde_json::from_str(&spec.to_string().replace("%IMAGE%", &image)).unwrap();
    let d = decide(
        &[policy("check", &cosign_pub(), spec)],
        pod(&[&image]),
        &reg,
    );
    assert_eq!(only_result(&d), ("check", RuleStatus::Pass, "success"));
    // A condition that errs: failurePolicy decides.
    for (failure_policy, results) in [("Fail", 1), ("Ignore", 0)] {
        let spec = json!({
            "failurePolicy": failure_policy,
            "matchConditions": [{"name": "c", "expression": "object.metadata.labels.missing == 'y'"}],
        });
        let d = decide(&[policy("check", &other_pub(), spec)], pod(&[&image]), &reg);
        assert_eq!(
            d.results.len(),
            results,
            "{failure_policy}: {:?}",
            d.results
        );
        if results == 1 {
            let (rule, status, message) = only_result(&d);
            assert_eq!((rule, status), ("evaluation", RuleStatus::Error));
            assert!(
                message.starts_with(
                    "failed to evaluate policy: matchCondition c: no such key: missing"
                ),
                "{message}"
            );
            assert!(!d.allowed);
        }
    }
}

#[test]
fn messages_audit_annotations_and_runtime_errors() {
    let reg = registry();
    let image = reg.image();
    let spec = json!({
        "validations": [
            {"expression": "images.containers.map(i, verifyImageSignatures(i, [attestors.cosign])).all(n, n > 0)",
             "messageExpression": "'unsigned: ' + images.containers[0]"},
        ],
        "auditAnnotations": [{"key": "team", "valueExpression": "'payments'"}, {"key": "none", "valueExpression": "''"}],
    });
    let d = decide(&[policy("check", &other_pub(), spec)], pod(&[&image]), &reg);
    assert_eq!(only_result(&d).2, format!("unsigned: {image}"));
    assert_eq!(
        d.results[0].properties,
        [("team".to_string(), "payments".to_string())].into()
    );
    // No message at all: the index.
    let spec = json!({"validations": [{"expression": "true"}, {"expression": "false"}]});
    let d = decide(
        &[policy("check", &cosign_pub(), spec)],
        pod(&[&image]),
        &reg,
    );
    assert_eq!(
        only_result(&d).2,
        "CEL expression validation failed at index 1"
    );
    // An image that is not in the registry: an evaluation error, named.
    let missing = format!("{REPO}@sha256:{}", "a".repeat(64));
    let d = decide(
        &[policy("check", &cosign_pub(), json!({}))],
        pod(&[&missing]),
        &reg,
    );
    let (rule, status, message) = only_result(&d);
    assert_eq!((rule, status), ("evaluation", RuleStatus::Error));
    assert!(
        message.starts_with("failed to evaluate policy: "),
        "{message}"
    );
    assert!(message.contains("not found"), "{message}");
    assert!(!d.allowed);
    // A function the engine does not answer fails closed, naming it.
    let spec =
        json!({"validations": [{"expression": "http.get('https://example.com').ok == true"}]});
    let d = decide(
        &[policy("check", &cosign_pub(), spec)],
        pod(&[&image]),
        &reg,
    );
    assert!(!d.allowed);
    assert!(
        only_result(&d).2.contains("http.get is not supported"),
        "{}",
        d.message
    );
}

#[test]
fn namespaced_policies_apply_in_their_namespace_only() {
    let reg = registry();
    let image = reg.image();
    let mut p = policy("check", &other_pub(), json!({}));
    p["kind"] = json!("NamespacedImageValidatingPolicy");
    p["metadata"]["namespace"] = json!("prod");
    let d = decide(std::slice::from_ref(&p), pod(&[&image]), &reg);
    assert!(d.results.is_empty(), "{:?}", d.results);
    let mut in_prod = pod(&[&image]);
    in_prod["metadata"]["namespace"] = json!("prod");
    let d = decide(&[p], in_prod, &reg);
    assert_eq!(d.results[0].policy, "prod/check");
    assert!(!d.allowed);
    assert_eq!(
        d.message,
        "Policy prod/check failed: failed the image signature verification"
    );
}

#[test]
fn the_mutating_phase_pins_tags_to_digests() {
    let mut reg = registry();
    reg.tag("v1", &reg.image_digest.clone());
    let p = policy("check", &cosign_pub(), json!({}));
    let d = decide_request(
        &[p],
        json!({"object": pod(&[&format!("{REPO}:v1")]), "phase": "mutate"}),
        &reg,
    );
    assert!(d.allowed, "{}", d.message);
    assert_eq!(
        d.patches,
        vec![json!({"op": "replace", "path": "/spec/containers/0/image",
            "value": format!("{REPO}:v1@{}", reg.image_digest)})]
    );
}

#[test]
fn image_data_is_read_from_the_registry() {
    // The fixture serves its signature manifest with its config, so that is
    // the image whose data is read.
    let reg = registry();
    let image = reg.image();
    let sig_tag = format!("{}.sig", reg.image_digest.replace(':', "-"));
    let sig = format!("{REPO}:{sig_tag}");
    let spec = json!({
        "validations": [
            {"expression": "images.containers.all(i, verifyImageSignatures(i, [attestors.cosign]) == 1)"},
            {"expression": "getImageData('%SIG%').digest.startsWith('sha256:') && getImageData('%SIG%').tag == '%TAG%'"},
            {"expression": "image.getMetadata('%SIG%').resolvedImage == '%REPO%@' + getImageData('%SIG%').digest"},
            {"expression": "getImageData('%SIG%').manifest.schemaVersion == 2.0 && getImageData('%SIG%').config == {}"},
            {"expression": "!('imageIndex' in getImageData('%SIG%'))"},
            {"expression": "parseImageReference(images.containers[0]).registry() == '192.168.64.2:5000'"},
        ],
    });
    let spec: Value = serde_json::from_str(
        &spec
            .to_string()
            .replace("%SIG%", &sig)
            .replace("%TAG%", &sig_tag)
            .replace("%REPO%", REPO),
    )
    .unwrap();
    let d = decide(
        &[policy("check", &cosign_pub(), spec)],
        pod(&[&image]),
        &reg,
    );
    assert_eq!(
        only_result(&d),
        ("check", RuleStatus::Pass, "success"),
        "{:?}",
        d.results
    );
    // An image that is not there: the call errs, and the policy with it.
    let spec = json!({
        "validationConfigurations": {"required": false},
        "matchImageReferences": [{"glob": "nothing/*"}],
        "validations": [{"expression": format!("getImageData('{REPO}:missing').digest != ''")}],
    });
    let d = decide(
        &[policy("check", &cosign_pub(), spec)],
        pod(&[&image]),
        &reg,
    );
    let (rule, status, message) = only_result(&d);
    assert_eq!((rule, status), ("evaluation", RuleStatus::Error));
    assert!(message.contains("failed to get imagedata: "), "{message}");
}

#[test]
fn pod_policies_apply_to_pod_controllers_through_autogen() {
    let reg = registry();
    let image = reg.image();
    let containers = json!([{"name": "c", "image": image}]);
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d", "namespace": "default"},
        "spec": {"template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": containers}}}});
    let cronjob = json!({"apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "cj", "namespace": "default"},
        "spec": {"jobTemplate": {"spec": {"template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": containers}}}}}});
    // The condition reads the pod's labels; autogen points it at the template.
    let spec = json!({"matchConditions": [{"name": "app", "expression": "object.metadata.labels.app == 'x'"}]});
    for object in [deployment.clone(), cronjob] {
        let d = decide(
            &[policy("check", &other_pub(), spec.clone())],
            object.clone(),
            &reg,
        );
        assert!(!d.allowed, "{object}");
        assert_eq!(
            d.message,
            "Policy check failed: failed the image signature verification"
        );
        let d = decide(
            &[policy("check", &cosign_pub(), spec.clone())],
            object,
            &reg,
        );
        assert!(d.allowed, "{}", d.message);
        assert_eq!(only_result(&d), ("check", RuleStatus::Pass, "success"));
    }
    // Restricted to daemonsets: a Deployment is not checked.
    let narrowed = json!({"autogen": {"podControllers": {"controllers": ["daemonsets"]}}});
    let d = decide(&[policy("check", &other_pub(), narrowed)], deployment, &reg);
    assert!(d.results.is_empty(), "{:?}", d.results);
}

#[test]
fn cel_policy_exceptions_skip_the_requests_they_match() {
    let reg = registry();
    let image = reg.image();
    let exception = |kind: &str, condition: &str| {
        json!({"apiVersion": "policies.kyverno.io/v1alpha1", "kind": "PolicyException",
            "metadata": {"name": "allow-p", "namespace": "team"},
            "spec": {"policyRefs": [{"name": "check", "kind": kind}],
                     "matchConditions": [{"name": "by-name", "expression": condition}]}})
    };
    let failing = policy("check", &other_pub(), json!({}));
    let request = json!({"object": pod(&[&image])});
    let d = decide_with_exceptions(
        std::slice::from_ref(&failing),
        &[exception(
            "ImageValidatingPolicy",
            "object.metadata.name == 'p'",
        )],
        request.clone(),
        &reg,
    );
    assert!(d.allowed, "{}", d.message);
    assert_eq!(
        only_result(&d),
        (
            "exception",
            RuleStatus::Skip,
            "rule is skipped due to policy exception: team/allow-p"
        )
    );
    assert_eq!(d.results[0].properties["exceptions"], "team/allow-p");
    // Another name, another kind: the policy is enforced.
    for e in [
        exception("ImageValidatingPolicy", "object.metadata.name == 'q'"),
        exception("NamespacedImageValidatingPolicy", "true"),
    ] {
        let d = decide_with_exceptions(std::slice::from_ref(&failing), &[e], request.clone(), &reg);
        assert!(!d.allowed);
    }
    // A condition that does not type-check is refused when it loads.
    let text = serde_json::to_string(&json!([failing])).unwrap();
    let bad = exception("ImageValidatingPolicy", "object.metadata.name == 1 +");
    let options = imgverify::engine::EngineOptions {
        policy_exceptions: vec![imgverify::engine::NamedSource {
            name: "e.json".into(),
            text: bad.to_string(),
        }],
        ..Default::default()
    };
    let err = Engine::compile_with(&[("p.json", &text)], &options).unwrap_err();
    assert!(
        err.to_string()
            .contains("spec.matchConditions[0].expression"),
        "{err}"
    );
}

#[test]
fn json_mode_policies_check_json_payloads_only() {
    let reg = registry();
    let image = reg.image();
    let json_policy = |key: &str| {
        let mut p = policy(
            "json",
            key,
            json!({
                "evaluation": {"mode": "JSON"},
                "images": [{"name": "bar", "expression": "[object.foo.bar]"}],
                "validations": [{"expression": "images.bar.map(i, verifyImageSignatures(i, [attestors.cosign])).all(n, n > 0)",
                                 "message": "failed the image signature verification"}],
            }),
        );
        p["spec"]
            .as_object_mut()
            .unwrap()
            .remove("matchConstraints");
        p
    };
    let payload = json!({"object": {"foo": {"bar": image}}, "jsonPayload": true});
    let d = decide_request(&[json_policy(&cosign_pub())], payload.clone(), &reg);
    assert_eq!(only_result(&d), ("json", RuleStatus::Pass, "success"));
    let d = decide_request(&[json_policy(&other_pub())], payload.clone(), &reg);
    assert!(!d.allowed);
    assert_eq!(only_result(&d).2, "failed the image signature verification");
    // A payload is not an admission, nor an admission a payload.
    let d = decide_request(&[policy("check", &other_pub(), json!({}))], payload, &reg);
    assert!(d.results.is_empty(), "{:?}", d.results);
    let d = decide(&[json_policy(&other_pub())], pod(&[&image]), &reg);
    assert!(d.results.is_empty(), "{:?}", d.results);
    // `request` is not declared in JSON mode: refused when it loads.
    let mut p = json_policy(&cosign_pub());
    p["spec"]["validations"] = json!([{"expression": "request.operation == 'CREATE'"}]);
    let err = Engine::compile("p.json", &p.to_string()).unwrap_err();
    assert!(
        err.to_string()
            .contains("undeclared reference to 'request'"),
        "{err}"
    );
}

#[test]
fn resource_reads_go_to_the_host_and_cannot_leave_their_path() {
    use imgverify::engine::{Answer, FailureStatus, FetchKind};
    let reg = registry();
    let image = reg.image();
    let read = |expression: String| {
        json!({
            "variables": [{"name": "cm", "expression": expression}],
            "validations": [
                {"expression": "variables.cm.data.env == 'prod'", "message": "not prod"},
                {"expression": "images.containers.all(i, verifyImageSignatures(i, [attestors.cosign]) > 0)"},
            ],
        })
    };
    let spec = |name: &str| {
        read(format!(
            "resource.get('v1', 'configmaps', 'default', '{name}')"
        ))
    };
    let text = |spec: Value| {
        serde_json::to_string(&json!([policy("check", &cosign_pub(), spec)])).unwrap()
    };
    let decide_with_cluster = |spec: Value| {
        let engine = Arc::new(Engine::compile("p.json", &text(spec)).unwrap());
        let needs = engine.summary().context_needs;
        assert!(
            needs.iter().any(|n| n.field == "spec.variables[0]"),
            "the webhook must know it needs the API: {needs:?}"
        );
        let req =
            Request::from_json(&serde_json::to_vec(&json!({"object": pod(&[&image])})).unwrap())
                .unwrap();
        let mut session = Session::new(engine, req);
        let mut paths = Vec::new();
        for _ in 0..8 {
            match session.evaluate() {
                Outcome::NeedArtifacts { fetches } => {
                    for f in fetches {
                        let answer = match f.kind {
                            FetchKind::KubeApi => {
                                paths.push(f.path.clone().unwrap_or_default());
                                match f.path.as_deref() {
                                    Some("/api/v1/namespaces/default/configmaps/policy-cm") => Answer::Bytes(
                                        br#"{"apiVersion":"v1","kind":"ConfigMap","data":{"env":"prod"}}"#.to_vec(),
                                    ),
                                    _ => Answer::Failure(FailureStatus::NotFound, "configmaps not found".into()),
                                }
                            }
                            _ => reg.answer(&f),
                        };
                        session.put(f.kind, &f.key, answer).unwrap();
                    }
                }
                Outcome::Decision { decision } => return (decision, paths),
            }
        }
        panic!("no decision");
    };
    let (d, paths) = decide_with_cluster(spec("policy-cm"));
    assert_eq!(only_result(&d), ("check", RuleStatus::Pass, "success"));
    assert_eq!(paths, ["/api/v1/namespaces/default/configmaps/policy-cm"]);
    // An object that does not exist is null, as in Kyverno: reading a
    // field of it is an error, never a pass.
    let (d, _) = decide_with_cluster(spec("other-cm"));
    let (rule, status, message) = only_result(&d);
    assert_eq!(
        (rule, status),
        ("evaluation", RuleStatus::Error),
        "{message}"
    );
    let (d, _) = decide_with_cluster(read(
        "dyn(resource.get('v1', 'configmaps', 'default', 'other-cm')) == null ? {'data': {'env': 'prod'}} : {'data': {'env': 'dev'}}".into(),
    ));
    assert_eq!(only_result(&d).1, RuleStatus::Pass, "{:?}", d.results);
    // A name that would leave the path is refused before any read.
    let (d, paths) = decide_with_cluster(spec("../../secrets/token"));
    assert!(paths.is_empty(), "{paths:?}");
    assert!(
        only_result(&d).2.contains("not a valid API path"),
        "{:?}",
        d.results
    );
    // A list's labels become an equality selector; labels built to add
    // selector terms or query parameters are refused before any read.
    let list = |labels: &str| {
        read(format!(
            "resource.list('v1', 'configmaps', 'default', {labels}).items[0]"
        ))
    };
    let (_, paths) = decide_with_cluster(list("{'team': 'a'}"));
    assert_eq!(
        paths,
        ["/api/v1/namespaces/default/configmaps?labelSelector=team=a"]
    );
    let long = format!("{{'a': '{}'}}", "b".repeat(400));
    for hostile in [
        "{'team': 'a,env!=prod'}",
        "{'team in (a)': 'b'}",
        "{'a&watch': 'true'}",
        "{'a': 'b&fieldSelector=metadata.name=x'}",
        "{'a': 'b#'}",
        "{'a': 'b c'}",
        "{'': 'b'}",
        &long,
    ] {
        let (d, paths) = decide_with_cluster(list(hostile));
        assert!(paths.is_empty(), "{hostile}: {paths:?}");
        let message = only_result(&d).2;
        assert!(
            message.contains("not a valid label selector"),
            "{hostile}: {message}"
        );
    }
    // A namespace selector needs the namespace's labels.
    let selector =
        json!({"matchConstraints": {"namespaceSelector": {"matchLabels": {"env": "prod"}}}});
    let engine = Engine::compile("p.json", &text(selector)).unwrap();
    assert!(
        engine
            .summary()
            .context_needs
            .iter()
            .any(|n| n.field == "spec.matchConstraints.namespaceSelector")
    );
}

/// Kubernetes' CEL libraries (quantity, URL, IP/CIDR, semver, format) in a
/// policy's validations: each check decides, a failing one names itself, a
/// runtime error is an `error`, and a wrong type is refused when the policy
/// loads.
#[test]
fn kubernetes_libraries_decide_in_validations() {
    let reg = registry();
    let image = reg.image();
    let mut object = pod(&[&image]);
    object["metadata"]["annotations"] = json!({
        "memory": "512Mi", "egress": "10.1.2.3", "docs": "https://docs.example.com:8443/a?b=c",
        "version": "v1.4.2",
    });
    let check = |expression: &str| {
        json!({"validations": [
            {"expression": "images.containers.map(i, verifyImageSignatures(i, [attestors.cosign])).all(n, n > 0)"},
            {"expression": expression, "message": format!("failed: {expression}")},
        ]})
    };
    let passing = [
        "quantity(object.metadata.annotations.memory).isLessThan(quantity('1Gi'))",
        "quantity(object.metadata.annotations.memory).add(quantity('512Mi')).compareTo(quantity('1Gi')) == 0",
        "cidr('10.0.0.0/8').containsIP(object.metadata.annotations.egress)",
        "ip(object.metadata.annotations.egress).family() == 4",
        "url(object.metadata.annotations.docs).getPort() == '8443'",
        "url(object.metadata.annotations.docs).getQuery()['b'] == ['c']",
        "semver(object.metadata.annotations.version, true).isGreaterThan(semver('1.4.1'))",
        "!format.dns1123Label().validate(object.metadata.name).hasValue()",
        "format.named('dns1123Label').hasValue()",
    ];
    for expression in passing {
        let d = decide(
            &[policy("k8s", &cosign_pub(), check(expression))],
            object.clone(),
            &reg,
        );
        assert_eq!(
            only_result(&d),
            ("k8s", RuleStatus::Pass, "success"),
            "{expression}"
        );
    }
    let failing = [
        "quantity(object.metadata.annotations.memory).isGreaterThan(quantity('1Gi'))",
        "cidr('192.168.0.0/16').containsIP(object.metadata.annotations.egress)",
        "format.dns1123Label().validate('Not_A_Label').hasValue() == false",
    ];
    for expression in failing {
        let d = decide(
            &[policy("k8s", &cosign_pub(), check(expression))],
            object.clone(),
            &reg,
        );
        let (_, status, message) = only_result(&d);
        assert_eq!(status, RuleStatus::Fail, "{expression}");
        assert_eq!(message, format!("failed: {expression}"));
    }
    // A value that does not parse is a runtime error, never a pass.
    let d = decide(
        &[policy(
            "k8s",
            &cosign_pub(),
            check("ip(object.metadata.annotations.memory).family() == 4"),
        )],
        object.clone(),
        &reg,
    );
    let (_, status, message) = only_result(&d);
    assert_eq!(status, RuleStatus::Error, "{message}");
    assert!(
        message.contains("parse error during conversion from string"),
        "{message}"
    );
    // Types are checked when the policy loads.
    let text = serde_json::to_string(&json!([policy(
        "k8s",
        &cosign_pub(),
        check("quantity('1Gi').isLessThan('2Gi')")
    )]))
    .unwrap();
    let e = Engine::compile("p.json", &text).unwrap_err().to_string();
    assert!(e.contains("spec.validations[1].expression"), "{e}");
}

/// `globalContext.get(entry, projection)` reads a GlobalContextEntry given
/// beside the policy, through the host (Kyverno's conformance
/// `context/globalreference`, with the Deployment list answered here): a
/// count of 1 denies with the message, 0 passes, an entry that does not
/// exist is `null`, and one this engine cannot read is an error.
#[test]
fn global_context_entries_answer_global_context_get() {
    use imgverify::engine::{Answer, FailureStatus, FetchKind};
    let reg = registry();
    let image = reg.image();
    let entry = |api_call: Value| {
        json!({"apiVersion": "kyverno.io/v2alpha1", "kind": "GlobalContextEntry",
            "metadata": {"name": "gctxentry-apicall-projections"},
            "spec": {"apiCall": api_call, "projections": [{
                "name": "test-globalcontext-apicall-correct-projections_deployment_count",
                "jmesPath": "items[?metadata.namespace=='default'] | length(@)"}]}})
    };
    let spec = |name: &str| {
        json!({
            "variables": [{"name": "dcount", "expression": format!("globalContext.get('{name}', 'test-globalcontext-apicall-correct-projections_deployment_count')")}],
            "validations": [
                {"expression": "images.containers.all(i, verifyImageSignatures(i, [attestors.cosign]) > 0)"},
                {"expression": "variables.dcount == 0",
                 "messageExpression": "'cannot create new deployment as main-deployment already exists, variables.dcount: ' + string(variables.dcount)"},
            ],
        })
    };
    let run = |docs: Vec<Value>, deployments: usize| {
        let text = serde_json::to_string(&Value::Array(docs)).unwrap();
        let engine = Arc::new(Engine::compile("p.json", &text).unwrap());
        let needs = engine.summary().context_needs;
        assert!(
            needs.iter().any(|n| n.field == "spec.variables[0]"),
            "{needs:?}"
        );
        let req =
            Request::from_json(&serde_json::to_vec(&json!({"object": pod(&[&image])})).unwrap())
                .unwrap();
        let mut session = Session::new(engine, req);
        for _ in 0..8 {
            match session.evaluate() {
                Outcome::NeedArtifacts { fetches } => {
                    for f in fetches {
                        let answer = match (f.kind, f.path.as_deref()) {
                            (FetchKind::KubeApi, Some("/apis/apps/v1/deployments")) => {
                                let items: Vec<Value> = (0..deployments)
                                    .map(|i| json!({"metadata": {"name": format!("d{i}"), "namespace": "default"}}))
                                    .collect();
                                Answer::Bytes(
                                    serde_json::to_vec(
                                        &json!({"kind": "DeploymentList", "items": items}),
                                    )
                                    .unwrap(),
                                )
                            }
                            (FetchKind::KubeApi, _) => {
                                Answer::Failure(FailureStatus::NotFound, "not found".into())
                            }
                            _ => reg.answer(&f),
                        };
                        session.put(f.kind, &f.key, answer).unwrap();
                    }
                }
                Outcome::Decision { decision } => return decision,
            }
        }
        panic!("no decision");
    };
    let gce = entry(json!({"urlPath": "/apis/apps/v1/deployments", "refreshInterval": "1h"}));
    let ivpol = policy(
        "ivpol-apicall-correct",
        &cosign_pub(),
        spec("gctxentry-apicall-projections"),
    );
    let d = run(vec![ivpol.clone(), gce.clone()], 1);
    assert_eq!(
        only_result(&d),
        (
            "ivpol-apicall-correct",
            RuleStatus::Fail,
            "cannot create new deployment as main-deployment already exists, variables.dcount: 1"
        )
    );
    let d = run(vec![ivpol, gce], 0);
    assert_eq!(only_result(&d).1, RuleStatus::Pass, "{:?}", d.results);
    // No such entry: null, which is not 0.
    let d = run(
        vec![
            policy("ivpol-apicall-correct", &cosign_pub(), spec("nowhere")),
            entry(json!({"urlPath": "/x"})),
        ],
        0,
    );
    assert_eq!(only_result(&d).1, RuleStatus::Fail, "{:?}", d.results);
    // An entry calling an external service is an error naming it.
    let d = run(
        vec![
            policy(
                "ivpol-apicall-correct",
                &cosign_pub(),
                spec("gctxentry-apicall-projections"),
            ),
            entry(json!({"service": {"url": "https://example.com/data"}})),
        ],
        0,
    );
    let (_, status, message) = only_result(&d);
    assert_eq!(status, RuleStatus::Error, "{message}");
    assert!(message.contains("external service"), "{message}");
}

/// The Kyverno CLI's global context mocks (resolved by the host into the
/// request) answer `globalContext.get` in place of every entry: a
/// projection is a key of the mocked data, a missing one an error.
#[test]
fn global_context_mocks_answer_global_context_get() {
    let reg = registry();
    let image = reg.image();
    let spec = |projection: &str| {
        json!({
            "validations": [
                {"expression": "images.containers.all(i, verifyImageSignatures(i, [attestors.cosign]) > 0)"},
                {"expression": format!("globalContext.get('teams', '{projection}') == 'open'"), "message": "closed"},
            ],
        })
    };
    let request = json!({"object": pod(&[&image]), "globalContext": {"teams": {"state": "open"}}});
    let d = decide_request(
        &[policy("p", &cosign_pub(), spec("state"))],
        request.clone(),
        &reg,
    );
    assert_eq!(only_result(&d).1, RuleStatus::Pass, "{:?}", d.results);
    let d = decide_request(&[policy("p", &cosign_pub(), spec("other"))], request, &reg);
    let (_, status, message) = only_result(&d);
    assert_eq!(status, RuleStatus::Error, "{message}");
    assert!(
        message.contains("projection \"other\" not found in global context entry \"teams\""),
        "{message}"
    );
}

#[test]
fn malformed_attestor_tuf_repositories_are_refused_when_the_policy_loads() {
    let with_tuf = |tuf: Value| {
        let mut p = policy("tuf", &cosign_pub(), json!({}));
        p["spec"]["attestors"][0]["cosign"] =
            json!({"keyless": {"identities": [{"subject": "s", "issuer": "i"}]}, "tuf": tuf});
        p
    };
    for (tuf, field, reason) in [
        (
            json!({"mirror": "https://tuf.example", "root": {"data": "%%%not base64"}}),
            "root.data",
            "not base64",
        ),
        (
            json!({"mirror": "https://tuf.example", "root": {"path": "https://tuf.example/root.json"}}),
            "root.path",
            "a URL is not read",
        ),
        (
            json!({"mirror": "https://tuf.example", "root": {"data": "e30=", "path": "/root.json"}}),
            "root",
            "either root.data or root.path",
        ),
        (
            json!({"mirror": "https://tuf.example"}),
            "root",
            "initial root.json is required",
        ),
        (
            json!({"mirror": "file:///etc", "root": {"data": "e30="}}),
            "mirror",
            "not an http(s) URL",
        ),
    ] {
        let text = serde_json::to_string(&with_tuf(tuf.clone())).unwrap();
        let err = Engine::compile("p.json", &text)
            .err()
            .unwrap_or_else(|| panic!("{tuf} compiled"))
            .to_string();
        assert!(
            err.contains(&format!("tuf.{field}")) && err.contains(reason),
            "{tuf}: {err}"
        );
    }
}
