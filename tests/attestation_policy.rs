//! `verifyImages[].attestations` decided end to end: in-toto statements in
//! DSSE envelopes, signed here with fresh keys, stored as cosign `.att`
//! layers (with Rekor SETs from a test log whose key the policy trusts),
//! and held to conditions; plus Kyverno's own attestation envelopes.
mod common;

use base64::Engine as _;
use imgverify::Engine;
use imgverify::engine::{Answer, FailureStatus, Fetch, FetchKind};
use p256::ecdsa::{Signature, SigningKey, signature::Signer};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const REPO: &str = "registry.test/team/app";
const SLSA: &str = "https://slsa.dev/provenance/v1";
const VULN: &str = "https://cosign.sigstore.dev/attestation/vuln/v1";

fn key(seed: u8) -> SigningKey {
    SigningKey::from_slice(&[seed; 32]).unwrap()
}

fn pem(k: &SigningKey) -> String {
    k.verifying_key().to_public_key_pem(LineEnding::LF).unwrap()
}

/// An in-memory registry: blobs and manifests by digest, manifests by tag.
#[derive(Default)]
struct Registry {
    by_digest: BTreeMap<String, Vec<u8>>,
    by_tag: BTreeMap<String, Vec<u8>>,
    /// Referrers indexes by subject digest.
    referrers: BTreeMap<String, Vec<u8>>,
}

impl Registry {
    fn blob(&mut self, b: Vec<u8>) -> (String, usize) {
        let d = common::sha256(&b);
        let n = b.len();
        self.by_digest.insert(d.clone(), b);
        (d, n)
    }

    /// A manifest whose layers are `(media type, bytes, annotations)`.
    fn manifest(&mut self, layers: Vec<(&str, Vec<u8>, Value)>) -> Vec<u8> {
        let (config, config_size) = self.blob(b"{}".to_vec());
        let layers: Vec<Value> = layers
            .into_iter()
            .map(|(media, bytes, annotations)| {
                let (d, n) = self.blob(bytes);
                json!({"mediaType": media, "digest": d, "size": n, "annotations": annotations})
            })
            .collect();
        serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": config_size},
            "layers": layers,
        }))
        .unwrap()
    }

    /// An image: its manifest, by digest.
    fn image(&mut self, seed: &str) -> String {
        let m = self.manifest(vec![(
            "application/vnd.oci.image.layer.v1.tar",
            seed.as_bytes().to_vec(),
            json!({}),
        )]);
        self.blob(m).0
    }

    /// Stores `layers` as the image's `.att` manifest.
    fn attest(&mut self, image: &str, layers: Vec<(Vec<u8>, Value)>) {
        let m = self.manifest(
            layers
                .into_iter()
                .map(|(b, a)| ("application/vnd.dsse.envelope.v1+json", b, a))
                .collect(),
        );
        self.by_tag
            .insert(format!("{}.att", image.replace(':', "-")), m);
    }

    /// Stores `layers` as an OCI 1.1 referrer of the image, as cosign's
    /// `--registry-referrers-mode=oci-1-1` writes attestations.
    fn attest_as_referrer(&mut self, image: &str, layers: Vec<(Vec<u8>, Value)>) {
        let m = self.manifest(
            layers
                .into_iter()
                .map(|(b, a)| ("application/vnd.dsse.envelope.v1+json", b, a))
                .collect(),
        );
        let mut m: Value = serde_json::from_slice(&m).unwrap();
        m["artifactType"] = json!("application/vnd.in-toto+json");
        m["subject"] = json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": image, "size": self.by_digest[image].len()});
        let m = serde_json::to_vec(&m).unwrap();
        let (d, n) = self.blob(m);
        let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d, "size": n, "artifactType": "application/vnd.in-toto+json"}]});
        self.referrers
            .insert(image.to_string(), serde_json::to_vec(&index).unwrap());
    }

    fn answer(&self, f: &Fetch) -> Answer {
        let found = match f.kind {
            FetchKind::ManifestByTag => self.by_tag.get(f.tag.as_deref().unwrap_or("")),
            FetchKind::Referrers => self.referrers.get(f.digest.as_deref().unwrap_or("")),
            _ => self.by_digest.get(f.digest.as_deref().unwrap_or("")),
        };
        match found {
            Some(b) if format!("{}/{}", f.registry, f.repository) == REPO => {
                Answer::Bytes(b.clone())
            }
            _ => Answer::Failure(FailureStatus::NotFound, "not found".into()),
        }
    }
}

/// An in-toto statement about `digest`.
fn statement(digest: &str, predicate_type: &str, predicate: Value) -> Vec<u8> {
    let (alg, hex) = digest.split_once(':').unwrap();
    serde_json::to_vec(&json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": REPO, "digest": {alg: hex}}],
        "predicateType": predicate_type,
        "predicate": predicate,
    }))
    .unwrap()
}

fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// A DSSE envelope over `payload`, signed by `signer`.
fn envelope(signer: &SigningKey, payload_type: &str, payload: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let sig: Signature = signer.sign(&pae(payload_type, payload));
    let der = sig.to_der().as_bytes().to_vec();
    let env = serde_json::to_vec(&json!({
        "payloadType": payload_type,
        "payload": B64.encode(payload),
        "signatures": [{"keyid": "", "sig": B64.encode(&der)}],
    }))
    .unwrap();
    (env, der)
}

/// The layer annotations cosign writes for an attestation, with a Rekor
/// SET of `kind` (`intoto` 0.0.2 or `dsse` 0.0.1) from `log`.
fn rekor_annotations(
    log: &SigningKey,
    kind: &str,
    env: &[u8],
    sig: &[u8],
    signer: &SigningKey,
) -> Value {
    let hash = common::sha256(env)
        .trim_start_matches("sha256:")
        .to_string();
    let signer_pem = B64.encode(pem(signer));
    let body = match kind {
        "intoto" => json!({"apiVersion": "0.0.2", "kind": "intoto", "spec": {"content": {
            "envelope": {"payloadType": "application/vnd.in-toto+json", "signatures": [{"sig": B64.encode(B64.encode(sig)), "publicKey": signer_pem}]},
            "hash": {"algorithm": "sha256", "value": hash}}}}),
        _ => json!({"apiVersion": "0.0.1", "kind": "dsse", "spec": {
            "envelopeHash": {"algorithm": "sha256", "value": hash},
            "signatures": [{"signature": B64.encode(sig), "verifier": signer_pem}]}}),
    };
    let log_id = common::sha256(log.verifying_key().to_public_key_der().unwrap().as_bytes())
        .trim_start_matches("sha256:")
        .to_string();
    let payload = json!({
        "body": B64.encode(serde_json::to_vec(&body).unwrap()),
        "integratedTime": 1_700_000_000,
        "logID": log_id,
        "logIndex": 7,
    });
    let set: Signature = log.sign(&serde_json::to_vec(&payload).unwrap());
    json!({
        "dev.cosignproject.cosign/signature": "",
        "dev.sigstore.cosign/bundle": json!({"SignedEntryTimestamp": B64.encode(set.to_der().as_bytes()), "Payload": payload}).to_string(),
    })
}

/// A signed attestation layer with a SET from `log`.
fn layer(
    signer: &SigningKey,
    log: &SigningKey,
    image: &str,
    predicate_type: &str,
    predicate: Value,
) -> (Vec<u8>, Value) {
    let (env, sig) = envelope(
        signer,
        "application/vnd.in-toto+json",
        &statement(image, predicate_type, predicate),
    );
    let ann = rekor_annotations(log, "intoto", &env, &sig, signer);
    (env, ann)
}

/// A policy whose one entry has `attestations` (and no attestors).
fn policy(attestations: Value) -> String {
    json!({
        "apiVersion": "kyverno.io/v1",
        "kind": "ClusterPolicy",
        "metadata": {"name": "attest"},
        "spec": {"rules": [{
            "name": "check",
            "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
            "verifyImages": [{
                "imageReferences": ["registry.test/*"],
                "failureAction": "Enforce",
                "attestations": attestations,
            }],
        }]},
    })
    .to_string()
}

/// A `keys` attestor trusting `signer`, with `log` as its Rekor key.
fn keys(signer: &SigningKey, log: &SigningKey) -> Value {
    json!({"entries": [{"keys": {"publicKeys": pem(signer), "rekor": {"url": "https://rekor.test", "pubkey": pem(log)}}}]})
}

fn admit(policy: &str, reg: &Registry, image: &str) -> (bool, String) {
    let engine = Engine::compile("p.yaml", policy).unwrap();
    common::admit_pod(engine, &format!("{REPO}@{image}"), None, |f| reg.answer(f))
}

/// A registry with one image attested by `signer` (SLSA provenance built
/// on `builder`, and a vuln scan with `critical` findings).
fn attested(
    signer: &SigningKey,
    log: &SigningKey,
    builder: &str,
    critical: u64,
) -> (Registry, String) {
    let mut reg = Registry::default();
    let image = reg.image("app");
    let slsa = layer(
        signer,
        log,
        &image,
        SLSA,
        json!({"buildDefinition": {"buildType": "https://actions.github.io/buildtypes/workflow/v1"},
               "runDetails": {"builder": {"id": builder}}}),
    );
    let vuln = layer(
        signer,
        log,
        &image,
        VULN,
        json!({"scanner": {"uri": "pkg:github/aquasecurity/trivy", "result": {"critical": critical}}}),
    );
    reg.attest(&image, vec![slsa, vuln]);
    (reg, image)
}

const GITHUB_BUILDER: &str = "https://github.com/actions/runner";

fn builder_is(id: &str) -> Value {
    json!([{"all": [{"key": "{{ runDetails.builder.id }}", "operator": "Equals", "value": id,
                     "message": "the image was not built by the trusted builder"}]}])
}

#[test]
fn attested_images_meeting_conditions_are_allowed() {
    let (signer, log) = (key(1), key(2));
    let (reg, image) = attested(&signer, &log, GITHUB_BUILDER, 0);
    let p = policy(json!([
        {"type": SLSA, "attestors": [keys(&signer, &log)], "conditions": builder_is(GITHUB_BUILDER)},
        {"type": VULN, "attestors": [keys(&signer, &log)],
         "conditions": [{"any": [{"key": "{{ scanner.result.critical }}", "operator": "Equals", "value": 0}]}]},
    ]));
    let (allowed, message) = admit(&p, &reg, &image);
    assert!(allowed, "{message}");
}

#[test]
fn conditions_that_fail_deny_with_kyverno_message() {
    let (signer, log) = (key(1), key(2));
    let (reg, image) = attested(&signer, &log, "https://evil.example/runner", 0);
    let p = policy(
        json!([{"type": SLSA, "attestors": [keys(&signer, &log)], "conditions": builder_is(GITHUB_BUILDER)}]),
    );
    let got = admit(&p, &reg, &image);
    common::assert_denied(
        got.clone(),
        &format!(
            "attestation checks failed for {REPO}@{image} and predicate {SLSA}: the image was not built by the trusted builder"
        ),
    );
    common::assert_denied(
        got,
        "image attestations verification failed, verifiedCount: 0, requiredCount: 1, error: .attestations[0].attestors[0].entries[0].keys:",
    );
}

#[test]
fn a_missing_predicate_type_is_denied() {
    let (signer, log) = (key(1), key(2));
    let (reg, image) = attested(&signer, &log, GITHUB_BUILDER, 0);
    let p =
        policy(json!([{"type": "https://spdx.dev/Document", "attestors": [keys(&signer, &log)]}]));
    common::assert_denied(
        admit(&p, &reg, &image),
        "attestions not found for predicate type https://spdx.dev/Document",
    );
}

#[test]
fn attestations_by_another_key_or_for_another_image_do_not_count() {
    let (signer, log, other) = (key(1), key(2), key(3));
    let (reg, image) = attested(&other, &log, GITHUB_BUILDER, 0);
    let p = policy(json!([{"type": SLSA, "attestors": [keys(&signer, &log)]}]));
    common::assert_denied(admit(&p, &reg, &image), "no matching attestations");

    // Signed by the right key, about another image, stored beside this one.
    let mut reg = Registry::default();
    let image = reg.image("app");
    let elsewhere = reg.image("other");
    let l = layer(&signer, &log, &elsewhere, SLSA, json!({}));
    reg.attest(&image, vec![l]);
    common::assert_denied(
        admit(&p, &reg, &image),
        &format!("no subject of the in-toto statement has digest {image}"),
    );
}

#[test]
fn tampered_envelopes_and_foreign_payload_types_fail() {
    let (signer, log) = (key(1), key(2));
    let p = policy(
        json!([{"type": SLSA, "attestors": [keys(&signer, &log)], "conditions": builder_is(GITHUB_BUILDER)}]),
    );
    let mut reg = Registry::default();
    let image = reg.image("app");
    // The statement swapped after signing: the signature no longer verifies.
    let (env, sig) = envelope(
        &signer,
        "application/vnd.in-toto+json",
        &statement(
            &image,
            SLSA,
            json!({"runDetails": {"builder": {"id": "https://evil.example"}}}),
        ),
    );
    let mut e: Value = serde_json::from_slice(&env).unwrap();
    e["payload"] = json!(B64.encode(statement(
        &image,
        SLSA,
        json!({"runDetails": {"builder": {"id": GITHUB_BUILDER}}})
    )));
    let tampered = serde_json::to_vec(&e).unwrap();
    let ann = rekor_annotations(&log, "dsse", &tampered, &sig, &signer);
    reg.attest(&image, vec![(tampered, ann)]);
    common::assert_denied(admit(&p, &reg, &image), "no matching attestations");

    // Signed for another payload type: not an in-toto statement to us.
    let mut reg = Registry::default();
    let image = reg.image("app");
    let (env, sig) = envelope(
        &signer,
        "application/vnd.example+json",
        &statement(
            &image,
            SLSA,
            json!({"runDetails": {"builder": {"id": GITHUB_BUILDER}}}),
        ),
    );
    let ann = rekor_annotations(&log, "dsse", &env, &sig, &signer);
    reg.attest(&image, vec![(env, ann)]);
    common::assert_denied(
        admit(&p, &reg, &image),
        "DSSE payloadType is \"application/vnd.example+json\"",
    );
}

#[test]
fn the_rekor_entry_must_bind_the_envelope_and_the_signer() {
    let (signer, log) = (key(1), key(2));
    let p = policy(json!([{"type": SLSA, "attestors": [keys(&signer, &log)]}]));
    for kind in ["intoto", "dsse"] {
        let mut reg = Registry::default();
        let image = reg.image("app");
        let (env, sig) = envelope(
            &signer,
            "application/vnd.in-toto+json",
            &statement(&image, SLSA, json!({})),
        );
        let ann = rekor_annotations(&log, kind, &env, &sig, &signer);
        reg.attest(&image, vec![(env.clone(), ann)]);
        let (allowed, message) = admit(&p, &reg, &image);
        assert!(allowed, "{kind}: {message}");

        // An entry logged for other bytes.
        let mut reg = Registry::default();
        let image = reg.image("app");
        let ann = rekor_annotations(&log, kind, b"other", &sig, &signer);
        let (env, _) = envelope(
            &signer,
            "application/vnd.in-toto+json",
            &statement(&image, SLSA, json!({})),
        );
        reg.attest(&image, vec![(env, ann)]);
        common::assert_denied(
            admit(&p, &reg, &image),
            "payload hash in Rekor SET does not match",
        );

        // An entry naming another signer.
        let mut reg = Registry::default();
        let image = reg.image("app");
        let (env, sig) = envelope(
            &signer,
            "application/vnd.in-toto+json",
            &statement(&image, SLSA, json!({})),
        );
        let ann = rekor_annotations(&log, kind, &env, &sig, &key(9));
        reg.attest(&image, vec![(env, ann)]);
        common::assert_denied(
            admit(&p, &reg, &image),
            "public key in Rekor SET does not match",
        );
    }
    // A SET from a log the policy does not trust.
    let mut reg = Registry::default();
    let image = reg.image("app");
    let l = layer(&signer, &key(8), &image, SLSA, json!({}));
    reg.attest(&image, vec![l]);
    common::assert_denied(admit(&p, &reg, &image), "no trusted Rekor key for log ID");
}

#[test]
fn no_attestations_and_missing_types_are_denied() {
    let (signer, log) = (key(1), key(2));
    let mut reg = Registry::default();
    let image = reg.image("app");
    let p = policy(json!([{"type": SLSA, "attestors": [keys(&signer, &log)]}]));
    common::assert_denied(
        admit(&p, &reg, &image),
        "failed to fetch attestations: no attestations found",
    );
    let p = policy(json!([{"attestors": [keys(&signer, &log)]}]));
    common::assert_denied(admit(&p, &reg, &image), ".attestations[0]: missing type");
}

#[test]
fn counts_over_attestor_entries_hold() {
    let (a, b, log) = (key(1), key(3), key(2));
    let (reg, image) = attested(&a, &log, GITHUB_BUILDER, 0);
    let both = json!({"count": 1, "entries": [
        {"keys": {"publicKeys": pem(&b), "rekor": {"url": "u", "pubkey": pem(&log)}}},
        {"keys": {"publicKeys": pem(&a), "rekor": {"url": "u", "pubkey": pem(&log)}}},
    ]});
    let p = policy(json!([{"type": SLSA, "attestors": [both.clone()]}]));
    let (allowed, message) = admit(&p, &reg, &image);
    assert!(allowed, "{message}");
    let mut all = both;
    all["count"] = json!(2);
    let p = policy(json!([{"type": SLSA, "attestors": [all]}]));
    common::assert_denied(
        admit(&p, &reg, &image),
        "verifiedCount: 1, requiredCount: 2",
    );
}

/// Kyverno's own envelopes (`pkg/engine/image_verify_test.go`), signed with
/// the policy key over their PAE; upstream feeds them through a mock that
/// skips the signature, so the policy's top-level `key` (whose `.sig` there
/// is unsigned) is left out and the transparency log is ignored as the
/// attestation's attestor says.
#[test]
fn kyverno_attestation_envelopes_verify_and_meet_their_conditions() {
    let v = common::json("kyverno/engine-payloads.json");
    let digest = v["subject_digest"].as_str().unwrap();
    let mut reg = Registry::default();
    let layers = v["attestation_payloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                serde_json::to_vec(&p["envelope"]).unwrap(),
                json!({"dev.cosignproject.cosign/signature": ""}),
            )
        })
        .collect();
    reg.attest(digest, layers);
    let image = format!("{REPO}@{digest}");
    let good_attestors =
        v["policies"]["testPolicyGood"]["spec"]["rules"][0]["verifyImages"][0]["attestations"][0]
            ["attestors"]
            .clone();
    for (name, expect_allowed) in [("testPolicyGood", true), ("testPolicyBad", false)] {
        let mut p = v["policies"][name].clone();
        let entry = &mut p["spec"]["rules"][0]["verifyImages"][0];
        let mut attestations = entry["attestations"].clone();
        // testPolicyBad has no attestors (the empty attestor, which wants a
        // Fulcio certificate these envelopes lack); give it the key that
        // signed them so that its conditions decide.
        if attestations[0]["attestors"].is_null() {
            attestations[0]["attestors"] = good_attestors.clone();
        }
        *entry = json!({"imageReferences": ["*"], "failureAction": "Enforce", "attestations": attestations});
        let engine = Engine::compile("p.yaml", &p.to_string()).unwrap();
        let (allowed, message) = common::admit_pod(engine, &image, None, |f| reg.answer(f));
        assert_eq!(allowed, expect_allowed, "{name}: {message}");
        if !expect_allowed {
            assert!(
                message.contains("attestation checks failed for")
                    && message.contains("https://example.com/CodeReview/v1"),
                "{message}"
            );
        }
    }
}

/// A policy with the whole rule given (context, preconditions, entries).
fn rule_policy(rule: Value) -> String {
    let mut r = json!({"name": "check", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]}});
    for (k, v) in rule.as_object().unwrap() {
        r[k] = v.clone();
    }
    json!({"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": "attest"},
           "spec": {"rules": [r]}})
    .to_string()
}

#[test]
fn validate_deny_reads_named_attestations_and_context_variables() {
    let (signer, log) = (key(1), key(2));
    let (reg, image) = attested(&signer, &log, GITHUB_BUILDER, 3);
    let rule = |limit: u64| {
        json!({
            "context": [{"name": "maxCritical", "variable": {"value": limit}}],
            "verifyImages": [{
                "imageReferences": ["registry.test/*"], "failureAction": "Enforce",
                "attestations": [{"type": VULN, "name": "scan", "attestors": [keys(&signer, &log)]}],
                "validate": {
                    "message": "too many critical vulnerabilities in {{ image.reference }}",
                    "deny": {"conditions": {"all": [
                        {"key": "{{ scan.scanner.result.critical }}", "operator": "NotEquals", "value": "{{ maxCritical }}"}
                    ]}},
                },
            }],
        })
    };
    let got = admit(&rule_policy(rule(0)), &reg, &image);
    common::assert_denied(
        got,
        &format!(
            "validation in verifyImages failed: too many critical vulnerabilities in {REPO}@{image}"
        ),
    );
    let (allowed, message) = admit(&rule_policy(rule(3)), &reg, &image);
    assert!(allowed, "{message}");
    assert!(
        message.is_empty() || message.contains("verifyImages validation is passed"),
        "{message}"
    );
}

#[test]
fn preconditions_that_do_not_hold_skip_the_rule() {
    let (signer, log) = (key(1), key(2));
    let mut reg = Registry::default();
    let image = reg.image("unattested");
    let rule = |ns: &str| {
        json!({
            "preconditions": {"all": [{"key": "{{ request.object.metadata.namespace }}", "operator": "Equals", "value": ns}]},
            "verifyImages": [{"imageReferences": ["registry.test/*"], "failureAction": "Enforce",
                "attestations": [{"type": SLSA, "attestors": [keys(&signer, &log)]}]}],
        })
    };
    // The Pod is in `default`: a rule for `prod` is skipped.
    let (allowed, message) = admit(&rule_policy(rule("prod")), &reg, &image);
    assert!(allowed, "{message}");
    common::assert_denied(
        admit(&rule_policy(rule("default")), &reg, &image),
        "no attestations found",
    );
}

#[test]
fn context_variables_that_resolve_to_nothing_fail_the_rule() {
    let (signer, log) = (key(1), key(2));
    let (reg, image) = attested(&signer, &log, GITHUB_BUILDER, 0);
    let p = rule_policy(json!({
        "context": [{"name": "team", "variable": {"jmesPath": "request.object.metadata.labels.team"}}],
        "verifyImages": [{"imageReferences": ["registry.test/*"], "failureAction": "Enforce",
            "attestations": [{"type": SLSA, "attestors": [keys(&signer, &log)]}]}],
    }));
    common::assert_denied(
        admit(&p, &reg, &image),
        "failed to load context: unable to add context entry for variable team since it evaluated to nil",
    );
}

#[test]
fn unknown_functions_and_bad_expressions_are_policy_errors() {
    let p = rule_policy(json!({
        "context": [{"name": "x", "variable": {"jmesPath": "request.object | no_such_function(@)"}}],
        "preconditions": {"all": [{"key": "{{ request.object.metadata.[ }}", "operator": "Equals", "value": "a"}]},
        "verifyImages": [{"imageReferences": ["registry.test/*"], "failureAction": "Enforce",
            "attestations": [{"type": SLSA, "conditions": [{"all": [{"key": "a", "operator": "Sometimes", "value": "b"}]}]}]}],
    }));
    let e = Engine::compile("p.yaml", &p).unwrap_err().to_string();
    for want in [
        "spec.rules[0].context[0].variable.jmesPath",
        "spec.rules[0].preconditions.all[0].key",
        "spec.rules[0].verifyImages[0].attestations[0].conditions[0].all[0].operator: unknown condition operator \"Sometimes\"",
    ] {
        assert!(e.contains(want), "missing {want:?} in:\n{e}");
    }
}

#[test]
fn attestation_referrers_are_read_under_cosign_oci11() {
    let (signer, log) = (key(1), key(2));
    let mut reg = Registry::default();
    let image = reg.image("app");
    let l = layer(
        &signer,
        &log,
        &image,
        SLSA,
        json!({"runDetails": {"builder": {"id": GITHUB_BUILDER}}}),
    );
    reg.attest_as_referrer(&image, vec![l]);
    let rule = |oci11: bool| {
        rule_policy(
            json!({"verifyImages": [{"imageReferences": ["registry.test/*"], "failureAction": "Enforce",
            "cosignOCI11": oci11,
            "attestations": [{"type": SLSA, "attestors": [keys(&signer, &log)], "conditions": builder_is(GITHUB_BUILDER)}]}]}),
        )
    };
    let (allowed, message) = admit(&rule(true), &reg, &image);
    assert!(allowed, "{message}");
    common::assert_denied(admit(&rule(false), &reg, &image), "no attestations found");
}

#[test]
fn oversized_attestations_are_denied_naming_the_limit() {
    let (signer, log) = (key(1), key(2));
    let mut reg = Registry::default();
    let image = reg.image("app");
    // An SBOM-sized envelope just past the limit: refused by its descriptor,
    // never fetched, never truncated.
    let too_big = imgverify::limits::MAX_ATTESTATION_BYTES + 1;
    let m = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": common::sha256(b"{}"), "size": 2},
        "layers": [{"mediaType": "application/vnd.dsse.envelope.v1+json", "digest": common::sha256(b"x"), "size": too_big}]});
    reg.by_tag.insert(
        format!("{}.att", image.replace(':', "-")),
        serde_json::to_vec(&m).unwrap(),
    );
    let p = policy(json!([{"type": SLSA, "attestors": [keys(&signer, &log)]}]));
    common::assert_denied(
        admit(&p, &reg, &image),
        &format!(
            "attestation envelope of {too_big} bytes is outside 0..={}",
            imgverify::limits::MAX_ATTESTATION_BYTES
        ),
    );
}

/// An ImageValidatingPolicy over the same attestations: `validations`
/// written in CEL, with the key and the log key as `ctlog.rekorPubKey`.
fn image_policy(signer: &SigningKey, log: &SigningKey, validations: Value) -> String {
    json!({
        "apiVersion": "policies.kyverno.io/v1",
        "kind": "ImageValidatingPolicy",
        "metadata": {"name": "attest"},
        "spec": {
            "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                "operations": ["CREATE"], "resources": ["pods"]}]},
            "matchImageReferences": [{"glob": "registry.test/*"}],
            "attestors": [{"name": "key", "cosign": {
                "key": {"data": pem(signer)},
                "ctlog": {"url": "https://rekor.test", "rekorPubKey": pem(log)},
            }}],
            "attestations": [{"name": "slsa", "intoto": {"type": SLSA}}, {"name": "sbom", "intoto": {"type": "https://spdx.dev/Document"}}],
            "validations": validations,
        },
    })
    .to_string()
}

#[test]
fn image_policies_verify_attestations_and_read_their_payloads() {
    let (signer, log) = (key(1), key(2));
    let builder = "https://github.com/actions/runner";
    let (reg, image) = attested(&signer, &log, builder, 0);
    let verified = json!([
        {"expression": "images.containers.all(i, verifyAttestationSignatures(i, attestations.slsa, [attestors.key]) == 1)",
         "message": "no provenance"},
        {"expression": format!("images.containers.all(i, extractPayload(i, attestations.slsa).predicate.runDetails.builder.id == '{builder}')"),
         "message": "wrong builder"},
    ]);
    let (allowed, message) = admit(&image_policy(&signer, &log, verified.clone()), &reg, &image);
    assert!(allowed, "{message}");
    // Another builder: the payload is read and the second validation fails.
    let (other, image2) = attested(&signer, &log, "https://evil.example/runner", 0);
    let (allowed, message) = admit(
        &image_policy(&signer, &log, verified.clone()),
        &other,
        &image2,
    );
    assert!(!allowed);
    assert_eq!(message, "Policy attest failed: wrong builder");
    // Signed by another key: nothing verifies.
    let (allowed, message) = admit(&image_policy(&key(3), &log, verified), &reg, &image);
    assert!(!allowed);
    assert_eq!(message, "Policy attest failed: no provenance");
    // A type the image has no attestation of.
    let missing = json!([{"expression": "images.containers.all(i, verifyAttestationSignatures(i, attestations.sbom, [attestors.key]) > 0)", "message": "no sbom"}]);
    let (allowed, message) = admit(&image_policy(&signer, &log, missing), &reg, &image);
    assert!(!allowed);
    assert_eq!(message, "Policy attest failed: no sbom");
    // A payload read before it is verified is an error, never data.
    let early = json!([{"expression": "images.containers.all(i, has(extractPayload(i, attestations.slsa).predicate))"}]);
    let (allowed, message) = admit(&image_policy(&signer, &log, early), &reg, &image);
    assert!(!allowed);
    assert!(
        message.starts_with("Policy attest error: failed to evaluate policy: failed to get payload: intoto attestation payload cannot be fetch before verifying"),
        "{message}"
    );
}
