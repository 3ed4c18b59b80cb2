//! Whole admissions against a hostile registry: a Pod with fuzzed images, and
//! every artifact the engine asks for made from fuzz data (signature manifests
//! built around fuzzed layers with correct digests, so verification is
//! reached, or raw bytes; any answer may instead fail). The policies' key
//! (a ClusterPolicy's and an ImageValidatingPolicy's) is one the fuzzer
//! cannot sign with, so no admission may ever be allowed. The image policy
//! also reads a GlobalContextEntry, whose Kubernetes API answer is fuzz data,
//! as is the Secret one attestor's key is read from; another's key is a
//! variable of the (fuzzed) request.
#![no_main]
use arbitrary::Arbitrary;
use imgverify::engine::{Answer, FailureStatus, FetchKind, Outcome, Request, Session};
use libfuzzer_sys::fuzz_target;
use serde_json::json;
use std::sync::{Arc, OnceLock};

const POLICY: &str = "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\nspec:\n  webhookConfiguration: {failurePolicy: Ignore}\n  rules:\n  - name: r\n    match: {any: [{resources: {kinds: [Pod]}}]}\n    verifyImages:\n    - imageReferences: ['*']\n      failureAction: Enforce\n      attestors: [{count: 1, entries: [{keys: {publicKeys: \"-----BEGIN PUBLIC KEY-----\\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEOwGDdP5LqMp1seJ7jDeIcRTR8W8c\\niT6zGQCXvyVc5AF9D6/S9BMmqzZbEkKmkbF27nhvCw61Bu0LHyLwdHO+Qw==\\n-----END PUBLIC KEY-----\", rekor: {ignoreTlog: true}}}, {keys: {publicKeys: \"-----BEGIN PUBLIC KEY-----\\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEOwGDdP5LqMp1seJ7jDeIcRTR8W8c\\niT6zGQCXvyVc5AF9D6/S9BMmqzZbEkKmkbF27nhvCw61Bu0LHyLwdHO+Qw==\\n-----END PUBLIC KEY-----\"}}, {keys: {publicKeys: \"k8s://signing/cosign-key\", rekor: {ignoreTlog: true}}}, {keys: {publicKeys: \"{{ request.object.metadata.annotations.key }}\", rekor: {ignoreTlog: true}}}]}]\n";

/// The same key as an ImageValidatingPolicy: whatever the registry sends,
/// its validation can never hold.
const IMAGE_POLICY: &str = "---\napiVersion: policies.kyverno.io/v1\nkind: ImageValidatingPolicy\nmetadata: {name: ivp}\nspec:\n  matchConstraints: {resourceRules: [{apiGroups: [''], apiVersions: [v1], operations: [CREATE], resources: [pods]}]}\n  validationConfigurations: {verifyDigest: false}\n  attestors: [{name: k, cosign: {key: {data: \"-----BEGIN PUBLIC KEY-----\\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEOwGDdP5LqMp1seJ7jDeIcRTR8W8c\\niT6zGQCXvyVc5AF9D6/S9BMmqzZbEkKmkbF27nhvCw61Bu0LHyLwdHO+Qw==\\n-----END PUBLIC KEY-----\"}, ctlog: {insecureIgnoreTlog: true}}}]\n  validations: [{expression: 'dyn(globalContext.get(\"g\", \"p\")) != null && images.containers.map(i, verifyImageSignatures(i, [attestors.k])).all(n, n > 0) && images.containers.all(i, getImageData(i).digest != \"\")'}]\n---\napiVersion: kyverno.io/v2alpha1\nkind: GlobalContextEntry\nmetadata: {name: g}\nspec:\n  kubernetesResource: {version: v1, resource: configmaps, namespace: kyverno}\n  projections: [{name: p, jmesPath: '[].data'}]\n";

#[derive(Arbitrary, Debug)]
enum Payload<'a> {
    Raw(&'a [u8]),
    Shaped {
        bind_image: bool,
        kind: &'a str,
        optional: Vec<(&'a str, &'a str)>,
    },
}

#[derive(Arbitrary, Debug)]
struct Layer<'a> {
    simple_signing: bool,
    payload: Payload<'a>,
    signature: &'a str,
    bundle: Option<&'a str>,
    size_delta: i8,
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    images: Vec<&'a str>,
    image_manifest: &'a [u8],
    raw_signature_manifest: Option<&'a [u8]>,
    layers: Vec<Layer<'a>>,
    failures: Vec<u8>,
    validate_phase: bool,
}

fn engine() -> Arc<imgverify::Engine> {
    static E: OnceLock<Arc<imgverify::Engine>> = OnceLock::new();
    E.get_or_init(|| {
        let policies = format!("{POLICY}{IMAGE_POLICY}");
        let engine = imgverify::Engine::compile("p.yaml", &policies).expect("policy");
        // The policy and its autogen variants for pod controllers.
        assert_eq!(engine.image_policies().len(), 3);
        Arc::new(engine)
    })
    .clone()
}

fn sha(b: &[u8]) -> String {
    imgverify::digest::Digest::sha256_of(b).to_string()
}

fuzz_target!(|i: Input| {
    // Empty image strings are skipped (Kubernetes requires images on Pods).
    if i.images.is_empty()
        || i.images.len() > 8
        || i.layers.len() > 16
        || i.images.iter().any(|s| s.is_empty())
    {
        return;
    }
    let containers: Vec<_> = i
        .images
        .iter()
        .enumerate()
        .map(|(n, im)| json!({"name": format!("c{n}"), "image": im}))
        .collect();
    let object = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"}, "spec": {"containers": containers}});
    let request =
        json!({"object": object, "phase": if i.validate_phase {"validate"} else {"admission"}});
    let Ok(request) = Request::from_json(request.to_string().as_bytes()) else {
        return;
    };
    let image_digest = sha(i.image_manifest);
    // Payloads, by digest.
    let mut blobs = Vec::new();
    let mut descriptors = Vec::new();
    for l in &i.layers {
        let payload = match &l.payload {
            Payload::Raw(b) => b.to_vec(),
            Payload::Shaped { bind_image, kind, optional } => serde_json::to_vec(&json!({
                "critical": {
                    "identity": {"docker-reference": "r"},
                    "image": {"docker-manifest-digest": if *bind_image { image_digest.clone() } else { kind.to_string() }},
                    "type": if *bind_image { "cosign container image signature" } else { kind },
                },
                "optional": optional.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            }))
            .unwrap_or_default(),
        };
        let digest = sha(&payload);
        let mut annotations = serde_json::Map::new();
        annotations.insert(
            "dev.cosignproject.cosign/signature".into(),
            json!(l.signature),
        );
        if let Some(b) = l.bundle {
            annotations.insert("dev.sigstore.cosign/bundle".into(), json!(b));
        }
        descriptors.push(json!({
            "mediaType": if l.simple_signing { "application/vnd.dev.cosign.simplesigning.v1+json" } else { "application/octet-stream" },
            "digest": digest,
            "size": payload.len() as i64 + i64::from(l.size_delta),
            "annotations": annotations,
        }));
        blobs.push((digest, payload));
    }
    let signature_manifest = match i.raw_signature_manifest {
        Some(raw) => raw.to_vec(),
        None => serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "layers": descriptors})).unwrap_or_default(),
    };
    let mut session = Session::new(engine(), request);
    let mut failures = i.failures.iter().copied();
    let mut transport_errors = false;
    for _ in 0..imgverify::limits::MAX_ROUNDS {
        match session.evaluate() {
            Outcome::Decision { decision } => {
                use imgverify::decision::RuleStatus;
                // Nothing the fuzzer makes is signed by the policy's key.
                assert!(
                    decision
                        .results
                        .iter()
                        .all(|r| r.result != RuleStatus::Pass),
                    "verified without a valid signature: {decision:?}"
                );
                // failurePolicy Ignore forgives transport errors, and only those.
                if decision.allowed {
                    assert!(
                        transport_errors
                            && decision
                                .results
                                .iter()
                                .all(|r| matches!(r.result, RuleStatus::Error | RuleStatus::Skip)),
                        "allowed without a valid signature: {decision:?}"
                    );
                }
                return;
            }
            Outcome::NeedArtifacts { fetches } => {
                for f in fetches {
                    let answer = match failures.next().unwrap_or(0) % 8 {
                        1 => Answer::Failure(FailureStatus::NotFound, "not found".into()),
                        2 => {
                            transport_errors = true;
                            Answer::Failure(FailureStatus::Error, "connection reset".into())
                        }
                        3 => Answer::Failure(FailureStatus::Unauthorized, "denied".into()),
                        _ => match f.kind {
                            FetchKind::ManifestByTag if f.key.ends_with(".sig") => {
                                Answer::Bytes(signature_manifest.clone())
                            }
                            FetchKind::ManifestByTag => Answer::Bytes(i.image_manifest.to_vec()),
                            FetchKind::KubeApi => Answer::Bytes(i.image_manifest.to_vec()),
                            _ => match blobs.iter().find(|(d, _)| Some(d) == f.digest.as_ref()) {
                                Some((_, b)) => Answer::Bytes(b.clone()),
                                None => Answer::Failure(FailureStatus::NotFound, "unknown".into()),
                            },
                        },
                    };
                    let _ = session.put(f.kind, &f.key, answer);
                }
            }
        }
    }
    panic!("no decision after {} rounds", imgverify::limits::MAX_ROUNDS);
});
