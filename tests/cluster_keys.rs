//! Attestor keys read when an image is verified: the `cosign.pub` entry of
//! a Secret (`k8s://ns/name`, `secret: {name, namespace}`, an image
//! policy's `key.kms`), read through the host's `kube_api` fetch, and
//! `publicKeys` written with variables from the rule's context; and the
//! pull credentials a Pod names passed with every registry fetch. The image
//! is containers/image's cosign fixture (a real `.sig` signature by
//! `cosign.pub`); every key that must fail fails for its stated reason.
mod common;

use common::{CosignFixture, cosign_pub, other_pub};
use imgverify::engine::{Answer, FailureStatus, FetchKind};
use imgverify::{Engine, Outcome, Request, Session};
use serde_json::{Value, json};
use std::sync::Arc;

const REPO: &str = "192.168.64.2:5000/cosign-signed-single-sample";
const SECRET_PATH: &str = "/api/v1/namespaces/signing/secrets/cosign-key";

fn registry() -> CosignFixture {
    CosignFixture::load("dir-img-cosign-valid", REPO, |_| {})
}

/// A Secret as the API server returns it, with `data` base64-encoded.
fn secret(entries: &[(&str, &str)]) -> Vec<u8> {
    use base64::Engine as _;
    let data: serde_json::Map<String, Value> = entries
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                json!(base64::engine::general_purpose::STANDARD.encode(v)),
            )
        })
        .collect();
    serde_json::to_vec(&json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "cosign-key", "namespace": "signing"}, "type": "Opaque", "data": data}))
    .unwrap()
}

/// A ClusterPolicy whose one `keys` attestor is `keys` (tlog ignored), with
/// `rule` merged into its rule and `set` into its attestor set.
fn policy(keys: Value, rule: Value, set: Value) -> String {
    let mut keys = keys;
    keys["rekor"] = json!({"ignoreTlog": true});
    let mut attestor_set = json!({"entries": [{"keys": keys}]});
    for (k, v) in set.as_object().unwrap() {
        attestor_set[k] = v.clone();
    }
    let mut r = json!({
        "name": "check",
        "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
        "verifyImages": [{"imageReferences": [format!("{REPO}*")], "failureAction": "Enforce",
            "attestors": [attestor_set]}],
    });
    for (k, v) in rule.as_object().unwrap() {
        r[k] = v.clone();
    }
    json!({"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": "keys"},
        "spec": {"webhookConfiguration": {"failurePolicy": "Fail"}, "rules": [r]}})
    .to_string()
}

/// Decides a Pod running the fixture's image under `engine`: registry
/// fetches from the fixture, Kubernetes API reads from `kube`. With the
/// decision, the API paths read.
fn decide(engine: &Arc<Engine>, kube: &dyn Fn(&str) -> Answer) -> (bool, String, Vec<String>) {
    let reg = registry();
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"},
        "spec": {"containers": [{"name": "c", "image": reg.image()}]}});
    let req = Request::from_json(&serde_json::to_vec(&json!({"object": pod})).unwrap()).unwrap();
    let mut session = Session::new(engine.clone(), req);
    let mut read = Vec::new();
    for _ in 0..8 {
        match session.evaluate() {
            Outcome::NeedArtifacts { fetches } => {
                for f in fetches {
                    let answer = match f.kind {
                        FetchKind::KubeApi => {
                            let path = f.path.clone().unwrap_or_default();
                            assert_eq!(f.method.as_deref(), Some("GET"), "{f:?}");
                            read.push(path.clone());
                            kube(&path)
                        }
                        _ => reg.answer(&f),
                    };
                    session.put(f.kind, &f.key, answer).unwrap();
                }
            }
            Outcome::Decision { decision } => {
                return (decision.allowed, decision.message, read);
            }
        }
    }
    panic!("no decision after 8 rounds");
}

/// Answers a Kubernetes API read by its path.
type KubeAnswer = dyn Fn(&str) -> Answer;

fn compile(policy: &str) -> Arc<Engine> {
    let engine = Engine::compile("p.json", policy).unwrap();
    Arc::new(engine)
}

/// Answers the Secret's path with `body`, anything else not found.
fn serving(body: Vec<u8>) -> impl Fn(&str) -> Answer {
    move |path: &str| match path {
        SECRET_PATH => Answer::Bytes(body.clone()),
        _ => Answer::Failure(FailureStatus::NotFound, format!("{path} not found")),
    }
}

#[test]
fn a_key_in_a_secret_verifies_and_a_rotated_key_is_used_at_once() {
    for keys in [
        json!({"publicKeys": "k8s://signing/cosign-key"}),
        json!({"secret": {"name": "cosign-key", "namespace": "signing"}}),
    ] {
        let engine = compile(&policy(keys.clone(), json!({}), json!({})));
        assert!(engine.lints().is_empty(), "{:?}", engine.lints());
        let (allowed, message, read) = decide(
            &engine,
            &serving(secret(&[
                ("cosign.pub", &cosign_pub()),
                ("cosign.key", "not read"),
            ])),
        );
        assert!(allowed, "{keys}: {message}");
        assert_eq!(read, [SECRET_PATH]);
        // The same engine, the Secret rotated to another key: the next
        // admission reads it and the signature no longer verifies.
        let (allowed, message, _) =
            decide(&engine, &serving(secret(&[("cosign.pub", &other_pub())])));
        assert!(!allowed, "{keys}: allowed after rotation");
        assert!(message.contains("no matching signatures"), "{message}");
        // And back.
        let (allowed, message, _) =
            decide(&engine, &serving(secret(&[("cosign.pub", &cosign_pub())])));
        assert!(allowed, "{keys}: {message}");
    }
}

#[test]
fn a_missing_or_unusable_secret_denies_naming_it() {
    let engine = compile(&policy(
        json!({"publicKeys": "k8s://signing/cosign-key"}),
        json!({}),
        json!({}),
    ));
    let key = "failed to load public key from k8s://signing/cosign-key";
    let cases: Vec<(Box<KubeAnswer>, String)> = vec![
        (
            Box::new(|_: &str| Answer::Failure(FailureStatus::NotFound, "404".into())),
            format!("{key}: checking if secret exists: secrets \"cosign-key\" not found"),
        ),
        (
            Box::new(|_: &str| {
                Answer::Failure(
                    FailureStatus::Unauthorized,
                    "secrets \"cosign-key\" is forbidden".into(),
                )
            }),
            format!("{key}: checking if secret exists: secrets \"cosign-key\" is forbidden"),
        ),
        (
            Box::new(|_: &str| Answer::Failure(FailureStatus::Error, "connection refused".into())),
            format!("{key}: checking if secret exists: connection refused"),
        ),
        (
            Box::new(serving(secret(&[("cosign.key", "x")]))),
            format!("{key}: the Secret has no cosign.pub entry"),
        ),
        (
            Box::new(serving(secret(&[("cosign.pub", "not a key")]))),
            format!("{key}: PEM decoding failed"),
        ),
        (
            Box::new(serving(
                br#"{"kind":"Secret","data":{"cosign.pub":"%%%"}}"#.to_vec(),
            )),
            format!("{key}: the Secret''s cosign.pub entry is not base64"),
        ),
        (
            Box::new(serving(b"<html>".to_vec())),
            format!("{key}: the Secret is not JSON"),
        ),
    ];
    for (kube, reason) in cases {
        let (allowed, message, _) = decide(&engine, kube.as_ref());
        assert!(!allowed, "allowed, expected {reason}");
        assert!(message.contains(&reason), "{reason}\n  got: {message}");
    }
}

#[test]
fn keys_written_as_variables_come_from_the_rule_context() {
    let both = format!("{}\n{}", other_pub(), cosign_pub());
    let config_map = |pem: &str| {
        serde_json::to_vec(&json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "keys", "namespace": "signing"}, "data": {"pub": pem}}))
        .unwrap()
    };
    let rule = json!({"context": [{"name": "keys", "configMap": {"name": "keys", "namespace": "signing"}}]});
    let keys = json!({"publicKeys": "{{ keys.data.pub }}"});
    let cm_path = "/api/v1/namespaces/signing/configmaps/keys";
    let answer = |body: Vec<u8>| {
        move |path: &str| {
            assert_eq!(path, cm_path);
            Answer::Bytes(body.clone())
        }
    };
    // One key: the right one verifies, the other does not.
    let engine = compile(&policy(keys.clone(), rule.clone(), json!({})));
    let (allowed, message, read) = decide(&engine, &answer(config_map(&cosign_pub())));
    assert!(allowed, "{message}");
    assert_eq!(read, [cm_path]);
    let (allowed, message, _) = decide(&engine, &answer(config_map(&other_pub())));
    assert!(
        !allowed && message.contains("no matching signatures"),
        "{message}"
    );
    // Two keys (a rotation): without a count both must verify, as Kyverno
    // expands them; with `count: 1` either does.
    let (allowed, message, _) = decide(&engine, &answer(config_map(&both)));
    assert!(!allowed, "both keys required, one signed");
    assert!(message.contains("entries[0].keys"), "{message}");
    let engine = compile(&policy(keys, rule.clone(), json!({"count": 1})));
    let (allowed, message, _) = decide(&engine, &answer(config_map(&both)));
    assert!(allowed, "{message}");
    // A value that is not a key fails naming it; a missing variable fails.
    let (allowed, message, _) = decide(&engine, &answer(config_map("cosign.pub")));
    assert!(
        !allowed
            && message.contains("failed to load public key from cosign.pub: PEM decoding failed"),
        "{message}"
    );
    let engine = compile(&policy(
        json!({"publicKeys": "{{ keys.data.missing }}"}),
        rule.clone(),
        json!({}),
    ));
    let (allowed, message, _) = decide(&engine, &answer(config_map(&cosign_pub())));
    assert!(!allowed, "{message}");
    assert!(
        message.contains("failed to load public key from {{ keys.data.missing }}"),
        "{message}"
    );
    // A variable giving a Secret reference reads that Secret.
    let engine = compile(&policy(
        json!({"publicKeys": "k8s://{{ keys.data.ns }}/cosign-key"}),
        rule,
        json!({}),
    ));
    let (allowed, message, read) = decide(&engine, &|path: &str| match path {
        SECRET_PATH => Answer::Bytes(secret(&[("cosign.pub", &cosign_pub())])),
        _ => Answer::Bytes(
            serde_json::to_vec(&json!({"kind": "ConfigMap", "data": {"ns": "signing"}})).unwrap(),
        ),
    });
    assert!(allowed, "{message}");
    assert_eq!(read, [cm_path, SECRET_PATH]);
}

#[test]
fn kms_keys_fail_closed_naming_the_uri() {
    for uri in [
        "awskms:///arn:aws:kms:us-east-1:1:key/k",
        "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k",
        "azurekms://vault.vault.azure.net/k",
        "hashivault://transit-key",
    ] {
        for keys in [json!({"kms": uri}), json!({"publicKeys": uri})] {
            let engine = compile(&policy(keys, json!({}), json!({})));
            let (allowed, message, read) = decide(&engine, &|_: &str| unreachable!());
            assert!(!allowed, "{uri}");
            assert!(read.is_empty());
            assert!(
                message.contains(&format!(
                    "failed to load public key from {uri}: KMS keys are not supported"
                )),
                "{message}"
            );
        }
    }
}

#[test]
fn malformed_key_references_are_refused_when_the_policy_loads() {
    for (keys, field, reason) in [
        (
            json!({"publicKeys": "k8s://signing"}),
            "publicKeys",
            "k8s://<namespace>/<secret>",
        ),
        (
            json!({"publicKeys": "k8s://signing/../../nodes"}),
            "publicKeys",
            "k8s://<namespace>/<secret>",
        ),
        (
            json!({"kms": "k8s://Signing/Key"}),
            "kms",
            "lowercase DNS names",
        ),
        (
            json!({"secret": {"name": "k"}}),
            "secret",
            "a secret needs a name and a namespace",
        ),
        (
            json!({"secret": {"name": "a/b", "namespace": "signing"}}),
            "secret",
            "k8s://<namespace>/<secret>",
        ),
        (
            json!({"publicKeys": "/etc/cosign.pub"}),
            "publicKeys",
            "expected -----BEGIN PUBLIC KEY-----",
        ),
    ] {
        let err = Engine::compile("p.json", &policy(keys.clone(), json!({}), json!({})))
            .err()
            .unwrap_or_else(|| panic!("{keys} compiled"));
        let text = err.to_string();
        assert!(
            text.contains(&format!("attestors[0].entries[0].keys.{field}"))
                && text.contains(reason),
            "{keys}: {text}"
        );
    }
}

#[test]
fn a_secret_key_is_a_cluster_need_and_an_image_policy_reads_it_from_kms() {
    let engine = compile(&policy(
        json!({"secret": {"name": "cosign-key", "namespace": "signing"}}),
        json!({}),
        json!({}),
    ));
    // The rule and its autogen rules for pod controllers.
    let needs = serde_json::to_value(&engine.summary().context_needs).unwrap();
    assert_eq!(
        needs[0],
        json!({"policy": "keys", "rule": "check",
            "field": "verifyImages[0].attestors[0].entries[0].keys", "kind": "kubeApi"})
    );
    assert_eq!(needs.as_array().unwrap().len(), 3, "{needs}");
    // An image policy's `key.kms` may name a Secret too (cosign's key
    // reference); `key.data` must be PEM.
    let ivpol = |key: Value| {
        json!({
            "apiVersion": "policies.kyverno.io/v1beta1", "kind": "ImageValidatingPolicy",
            "metadata": {"name": "ivpol"},
            "spec": {
                "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                    "operations": ["CREATE"], "resources": ["pods"]}]},
                "matchImageReferences": [{"glob": "192.168.64.2:5000/*"}],
                "attestors": [{"name": "cosign", "cosign": {"key": key, "ctlog": {"insecureIgnoreTlog": true}}}],
                "validations": [{"expression": "images.containers.map(i, verifyImageSignatures(i, [attestors.cosign])).all(n, n > 0)",
                    "message": "failed the image signature verification"}],
            },
        })
        .to_string()
    };
    let engine = compile(&ivpol(json!({"kms": "k8s://signing/cosign-key"})));
    let needs = serde_json::to_value(&engine.summary().context_needs).unwrap();
    assert_eq!(
        needs[0]["field"], "spec.attestors[0].cosign.key.kms",
        "{needs}"
    );
    let (allowed, message, read) =
        decide(&engine, &serving(secret(&[("cosign.pub", &cosign_pub())])));
    assert!(allowed, "{message}");
    assert_eq!(read, [SECRET_PATH]);
    let (allowed, message, _) = decide(&engine, &serving(secret(&[("cosign.pub", &other_pub())])));
    assert!(!allowed, "{message}");
    for key in [
        json!({"data": "k8s://signing/cosign-key"}),
        json!({"kms": "{{ request.namespace }}"}),
    ] {
        let err = Engine::compile("p.json", &ivpol(key.clone())).err();
        assert!(err.is_some(), "{key} compiled");
    }
}

#[test]
fn registry_fetches_carry_the_pods_pull_secrets() {
    let engine = compile(&policy(
        json!({"publicKeys": cosign_pub()}),
        json!({}),
        json!({}),
    ));
    let reg = registry();
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"},
        "spec": {"serviceAccountName": "builder", "imagePullSecrets": [{"name": "regcred"}],
            "containers": [{"name": "c", "image": reg.image()}]}});
    let req = Request::from_json(&serde_json::to_vec(&json!({"object": pod})).unwrap()).unwrap();
    let mut session = Session::new(engine, req);
    let mut fetched = 0;
    for _ in 0..8 {
        match session.evaluate() {
            Outcome::NeedArtifacts { fetches } => {
                for f in fetches {
                    assert_eq!(f.access.secrets, ["shop/regcred"], "{f:?}");
                    // A Pod's spec already holds its account's secrets.
                    assert_eq!(f.access.service_account, None);
                    fetched += 1;
                    session.put(f.kind, &f.key, reg.answer(&f)).unwrap();
                }
            }
            Outcome::Decision { decision } => {
                assert!(decision.allowed, "{}", decision.message);
                assert!(fetched >= 2);
                return;
            }
        }
    }
    panic!("no decision");
}

#[test]
fn a_key_the_request_chooses_is_linted() {
    let engine = compile(&policy(
        json!({"publicKeys": "{{ request.object.metadata.annotations.key }}"}),
        json!({}),
        json!({}),
    ));
    let lints: Vec<String> = engine.lints().iter().map(|l| format!("{l:?}")).collect();
    assert!(
        lints
            .iter()
            .any(|l| l.contains("whoever creates the resource can choose the key")),
        "{lints:?}"
    );
    let engine = compile(&policy(
        json!({"secret": {"name": "cosign-key", "namespace": "{{ request.namespace }}"}}),
        json!({}),
        json!({}),
    ));
    assert!(!engine.lints().is_empty());
    // A key from the policy's own context is not.
    let engine = compile(&policy(
        json!({"publicKeys": "{{ keys.data.pub }}"}),
        json!({"context": [{"name": "keys", "configMap": {"name": "keys", "namespace": "signing"}}]}),
        json!({}),
    ));
    assert!(engine.lints().is_empty(), "{:?}", engine.lints());
}
