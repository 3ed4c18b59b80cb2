//! Generates the signed example images in `policies/images` (an OCI image
//! layout) with DEMO keys. The keys are derived from fixed, public labels:
//! they are for the examples only and must never be trusted for anything else.

use base64::Engine as _;
use p256::ecdsa::{Signature, SigningKey, signature::Signer};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

#[path = "notary_fixtures.rs"]
mod notary;

/// The fake registry the examples live in.
pub const REGISTRY: &str = "registry.example.com";
/// Fixed integrated time of the demo Rekor entries (2026-01-01T00:00:00Z).
const INTEGRATED_TIME: i64 = 1_767_225_600;

fn demo_key(label: &str) -> SigningKey {
    let seed = Sha256::digest(
        format!("imgverify DEMO key {label} - for examples only, never trust").as_bytes(),
    );
    SigningKey::from_slice(&seed)
        .expect("a sha256 output is a valid P-256 scalar with overwhelming probability")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn pub_pem(k: &SigningKey) -> String {
    k.verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("encode public key")
}

/// OCI media types the layout writes.
const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// cosign 3's bundle artifact and layer type.
const BUNDLE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The OCI empty descriptor's type and bytes.
const EMPTY: &str = "application/vnd.oci.empty.v1+json";
/// DSSE's payload type for in-toto statements.
const IN_TOTO: &str = "application/vnd.in-toto+json";
/// in-toto statement types.
const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";
const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// The predicate type of cosign 3's image signatures.
const SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";

struct Layout {
    blobs: BTreeMap<String, Vec<u8>>,
    /// Reference, digest, size and media type of each tagged manifest.
    refs: Vec<(String, String, usize, &'static str)>,
}

impl Layout {
    fn add_blob(&mut self, bytes: Vec<u8>) -> (String, usize) {
        let d = format!("sha256:{}", hex(&Sha256::digest(&bytes)));
        let n = bytes.len();
        self.blobs.insert(d.clone(), bytes);
        (d, n)
    }

    fn add_manifest(&mut self, reference: &str, manifest: &Value) -> String {
        self.add_tagged(reference, manifest, MANIFEST)
    }

    fn add_tagged(
        &mut self,
        reference: &str,
        manifest: &Value,
        media_type: &'static str,
    ) -> String {
        let bytes = serde_json::to_vec(manifest).expect("json");
        let (d, n) = self.add_blob(bytes);
        self.refs
            .push((reference.to_string(), d.clone(), n, media_type));
        d
    }

    /// Attaches cosign 3 Sigstore bundles (DSSE over an in-toto statement,
    /// a managed key, one Rekor `dsse` entry with SET, inclusion proof and
    /// checkpoint) as referrers of `subject`, listed in the image's
    /// `sha256-<hex>` tag-schema index as a registry without the referrers
    /// API holds them. `listed_type` is the artifact type the index gives
    /// (cosign 3 writes the empty type there).
    fn attach_bundles(
        &mut self,
        repo: &str,
        image_digest: &str,
        bundles: &[(&SigningKey, BTreeMap<&str, &str>, &str)],
        rekor: &SigningKey,
        listed_type: &str,
    ) {
        let referrers: Vec<_> = bundles
            .iter()
            .map(|(key, annotations, subject)| {
                (
                    *key,
                    SIGN_PREDICATE,
                    sign_statement(subject, annotations),
                    *subject,
                )
            })
            .collect();
        self.attach_referrers(repo, image_digest, &referrers, rekor, listed_type);
    }

    /// Attaches in-toto statements as cosign 3 Sigstore bundle referrers
    /// (`cosign attest --new-bundle-format`), as [`Self::attach_bundles`]
    /// does for signatures: one bundle per (key, predicate type, statement,
    /// subject digest of the referrer manifest).
    fn attach_referrers(
        &mut self,
        repo: &str,
        image_digest: &str,
        bundles: &[(&SigningKey, &str, Vec<u8>, &str)],
        rekor: &SigningKey,
        listed_type: &str,
    ) {
        let mut listed = Vec::new();
        for (i, (key, predicate_type, statement, subject)) in bundles.iter().enumerate() {
            let bundle = sigstore_bundle(key, statement, rekor, i as i64);
            let (bd, bn) = self.add_blob(bundle);
            let (ed, en) = self.add_blob(b"{}".to_vec());
            let subject_size = self.blobs.get(*subject).map_or(0, Vec::len);
            let annotations = json!({
                "dev.sigstore.bundle.content": "dsse-envelope",
                "dev.sigstore.bundle.predicateType": predicate_type,
            });
            let manifest = json!({
                "schemaVersion": 2,
                "mediaType": MANIFEST,
                "artifactType": BUNDLE_V03,
                "config": {"mediaType": EMPTY, "digest": ed, "size": en},
                "layers": [{"mediaType": BUNDLE_V03, "digest": bd, "size": bn}],
                "subject": {"mediaType": MANIFEST, "digest": subject, "size": subject_size},
                "annotations": annotations,
            });
            let (md, mn) = self.add_blob(serde_json::to_vec(&manifest).expect("json"));
            listed.push(json!({
                "mediaType": MANIFEST, "digest": md, "size": mn,
                "artifactType": listed_type, "annotations": annotations,
            }));
        }
        let index = json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": listed});
        let tag = image_digest.replace(':', "-");
        self.add_tagged(&format!("{REGISTRY}/{repo}:{tag}"), &index, INDEX);
    }

    fn image(&mut self, repo: &str, tag: &str) -> String {
        let config = serde_json::to_vec(&json!({"architecture": "amd64", "os": "linux", "config": {"Labels": {"example": repo}}})).expect("json");
        let (cd, cn) = self.add_blob(config);
        let layer = format!("imgverify example layer for {repo}:{tag}\n").into_bytes();
        let (ld, ln) = self.add_blob(layer);
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": ln}],
        });
        self.add_manifest(&format!("{REGISTRY}/{repo}:{tag}"), &manifest)
    }

    /// Writes a `.sig` manifest with one layer per (key, optional annotations, signed digest).
    fn sign(
        &mut self,
        repo: &str,
        image_digest: &str,
        signers: &[(&SigningKey, BTreeMap<&str, &str>, &str)],
        rekor: Option<&SigningKey>,
    ) {
        let (cd, cn) = self.add_blob(b"{}".to_vec());
        let mut layers = Vec::new();
        for (i, (key, optional, signed_digest)) in signers.iter().enumerate() {
            let payload = serde_json::to_vec(&json!({
                "critical": {
                    "identity": {"docker-reference": format!("{REGISTRY}/{repo}")},
                    "image": {"docker-manifest-digest": signed_digest},
                    "type": "cosign container image signature"
                },
                "optional": if optional.is_empty() { Value::Null } else { json!(optional) },
            }))
            .expect("json");
            let sig: Signature = key.sign(&payload);
            let sig_der = sig.to_der();
            let mut annotations = BTreeMap::new();
            annotations.insert(
                "dev.cosignproject.cosign/signature".to_string(),
                b64(sig_der.as_bytes()),
            );
            if let Some(rk) = rekor {
                annotations.insert(
                    "dev.sigstore.cosign/bundle".to_string(),
                    rekor_bundle(rk, key, &payload, sig_der.as_bytes(), i as i64),
                );
            }
            let (pd, pn) = self.add_blob(payload);
            layers.push(json!({
                "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                "digest": pd, "size": pn, "annotations": annotations,
            }));
        }
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn},
            "layers": layers,
        });
        let tag = format!("{}.sig", image_digest.replace(':', "-"));
        self.add_manifest(&format!("{REGISTRY}/{repo}:{tag}"), &manifest);
    }

    /// Writes a `.att` manifest as `cosign attest --key` does: one DSSE
    /// envelope layer per (key, predicate type, predicate), each an in-toto
    /// statement about `image_digest`, with a Rekor `intoto` 0.0.2 SET.
    /// `first_index` numbers the log entries.
    fn attest(
        &mut self,
        repo: &str,
        image_digest: &str,
        attestations: &[(&SigningKey, &str, Value)],
        rekor: &SigningKey,
        first_index: i64,
    ) {
        let (cd, cn) = self.add_blob(b"{}".to_vec());
        let mut layers = Vec::new();
        for (i, (key, predicate_type, predicate)) in attestations.iter().enumerate() {
            let statement =
                intoto_statement(STATEMENT_V01, repo, image_digest, predicate_type, predicate);
            let sig: Signature = key.sign(&pae(IN_TOTO, &statement));
            let sig_der = sig.to_der();
            let envelope = serde_json::to_vec(&json!({
                "payloadType": IN_TOTO,
                "payload": b64(&statement),
                "signatures": [{"keyid": "", "sig": b64(sig_der.as_bytes())}],
            }))
            .expect("json");
            let annotations = json!({
                "dev.cosignproject.cosign/signature": "",
                "dev.sigstore.cosign/bundle": rekor_intoto_bundle(
                    rekor, key, &envelope, &statement, sig_der.as_bytes(), first_index + i as i64,
                ),
                "predicateType": predicate_type,
            });
            let (ed, en) = self.add_blob(envelope);
            layers.push(json!({
                "mediaType": "application/vnd.dsse.envelope.v1+json",
                "digest": ed, "size": en, "annotations": annotations,
            }));
        }
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn},
            "layers": layers,
        });
        let tag = format!("{}.att", image_digest.replace(':', "-"));
        self.add_manifest(&format!("{REGISTRY}/{repo}:{tag}"), &manifest);
    }
}

fn rekor_bundle(
    rekor: &SigningKey,
    signer: &SigningKey,
    payload: &[u8],
    sig: &[u8],
    index: i64,
) -> String {
    let body = json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": hex(&Sha256::digest(payload))}},
            "signature": {"content": b64(sig), "publicKey": {"content": b64(pub_pem(signer).as_bytes())}},
        }
    });
    let body_b64 = b64(&serde_json::to_vec(&body).expect("json"));
    let spki = rekor.verifying_key().to_public_key_der().expect("der");
    let log_id = hex(&Sha256::digest(spki.as_bytes()));
    let log_index = 1000 + index;
    // Canonical JSON: keys sorted, no whitespace (serde_json's map is sorted).
    let canonical = serde_json::to_vec(&json!({"body": body_b64, "integratedTime": INTEGRATED_TIME, "logID": log_id, "logIndex": log_index})).expect("json");
    let set: Signature = rekor.sign(&canonical);
    serde_json::to_string(&json!({
        "SignedEntryTimestamp": b64(set.to_der().as_bytes()),
        "Payload": {"body": body_b64, "integratedTime": INTEGRATED_TIME, "logIndex": log_index, "logID": log_id},
    }))
    .expect("json")
}

/// The Rekor SET (`dev.sigstore.cosign/bundle`) of an attestation logged
/// as an `intoto` 0.0.2 entry, as `cosign attest` uploads it: the entry
/// binds the envelope's hash and the signer's key.
fn rekor_intoto_bundle(
    rekor: &SigningKey,
    signer: &SigningKey,
    envelope: &[u8],
    statement: &[u8],
    sig: &[u8],
    log_index: i64,
) -> String {
    let body = json!({
        "apiVersion": "0.0.2",
        "kind": "intoto",
        "spec": {"content": {
            "envelope": {
                "payloadType": IN_TOTO,
                // Rekor keeps intoto 0.0.2 signatures base64-encoded twice.
                "signatures": [{"sig": b64(b64(sig).as_bytes()), "publicKey": b64(pub_pem(signer).as_bytes())}],
            },
            "hash": {"algorithm": "sha256", "value": hex(&Sha256::digest(envelope))},
            "payloadHash": {"algorithm": "sha256", "value": hex(&Sha256::digest(statement))},
        }},
    });
    let body_b64 = b64(&serde_json::to_vec(&body).expect("json"));
    let spki = rekor.verifying_key().to_public_key_der().expect("der");
    let log_id = hex(&Sha256::digest(spki.as_bytes()));
    let canonical = serde_json::to_vec(&json!({"body": body_b64, "integratedTime": INTEGRATED_TIME, "logID": log_id, "logIndex": log_index})).expect("json");
    let set: Signature = rekor.sign(&canonical);
    serde_json::to_string(&json!({
        "SignedEntryTimestamp": b64(set.to_der().as_bytes()),
        "Payload": {"body": body_b64, "integratedTime": INTEGRATED_TIME, "logIndex": log_index, "logID": log_id},
    }))
    .expect("json")
}

/// An in-toto statement of `statement_type` (cosign 2's `.att` layers
/// write v0.1, cosign 3's bundles v1): `predicate` about the image
/// `repo@image_digest`.
fn intoto_statement(
    statement_type: &str,
    repo: &str,
    image_digest: &str,
    predicate_type: &str,
    predicate: &Value,
) -> Vec<u8> {
    let hex_digest = image_digest.trim_start_matches("sha256:");
    serde_json::to_vec(&json!({
        "_type": statement_type,
        "predicateType": predicate_type,
        "subject": [{"name": format!("{REGISTRY}/{repo}"), "digest": {"sha256": hex_digest}}],
        "predicate": predicate,
    }))
    .expect("json")
}

/// DSSE's pre-authentication encoding.
fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut v = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    v.extend_from_slice(payload);
    v
}

/// The in-toto statement `cosign sign --new-bundle-format` signs for an
/// image (with its `-a` annotations on the subject).
fn sign_statement(image_digest: &str, annotations: &BTreeMap<&str, &str>) -> Vec<u8> {
    let hex_digest = image_digest.trim_start_matches("sha256:");
    let mut subject =
        json!({"name": format!("{REGISTRY}/image"), "digest": {"sha256": hex_digest}});
    if !annotations.is_empty() {
        subject["annotations"] = json!(annotations);
    }
    serde_json::to_vec(&json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [subject],
        "predicateType": SIGN_PREDICATE,
        "predicate": {},
    }))
    .expect("json")
}

/// A v0.3 Sigstore bundle as `cosign sign --new-bundle-format` (or
/// `cosign attest --new-bundle-format`) writes it for an image: DSSE over
/// `statement`, signed with a managed key and logged in a one-entry demo
/// Rekor tree.
fn sigstore_bundle(key: &SigningKey, statement: &[u8], rekor: &SigningKey, index: i64) -> Vec<u8> {
    let sig: Signature = key.sign(&pae(IN_TOTO, statement));
    let sig = sig.to_der();
    let body = serde_json::to_vec(&json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "payloadHash": {"algorithm": "sha256", "value": hex(&Sha256::digest(statement))},
            "signatures": [{"signature": b64(sig.as_bytes()), "verifier": b64(pub_pem(key).as_bytes())}],
        }
    }))
    .expect("json");
    let spki = rekor.verifying_key().to_public_key_der().expect("der");
    let log_id = Sha256::digest(spki.as_bytes());
    let canonical = serde_json::to_vec(&json!({"body": b64(&body), "integratedTime": INTEGRATED_TIME, "logID": hex(&log_id), "logIndex": index})).expect("json");
    let set: Signature = rekor.sign(&canonical);
    // A one-leaf tree: the root is the leaf hash and the proof is empty.
    let mut leaf = Sha256::new();
    leaf.update([0u8]);
    leaf.update(&body);
    let root_hash = leaf.finalize();
    let origin = "rekor.example.com - demo";
    let text = format!("{origin}\n1\n{}\n", b64(&root_hash));
    let note_sig: Signature = rekor.sign(text.as_bytes());
    let mut signed = log_id[..4].to_vec();
    signed.extend_from_slice(note_sig.to_der().as_bytes());
    let checkpoint = format!("{text}\n\u{2014} {origin} {}\n", b64(&signed));
    serde_json::to_vec_pretty(&json!({
        "mediaType": BUNDLE_V03,
        "verificationMaterial": {
            "publicKey": {"hint": b64(&Sha256::digest(pub_pem(key).as_bytes()))},
            "tlogEntries": [{
                "logIndex": index.to_string(),
                "logId": {"keyId": b64(&log_id)},
                "kindVersion": {"kind": "dsse", "version": "0.0.1"},
                "integratedTime": INTEGRATED_TIME.to_string(),
                "inclusionPromise": {"signedEntryTimestamp": b64(set.to_der().as_bytes())},
                "inclusionProof": {
                    "logIndex": "0",
                    "rootHash": b64(&root_hash),
                    "treeSize": "1",
                    "hashes": [],
                    "checkpoint": {"envelope": checkpoint},
                },
                "canonicalizedBody": b64(&body),
            }],
        },
        "dsseEnvelope": {
            "payload": b64(statement),
            "payloadType": IN_TOTO,
            "signatures": [{"sig": b64(sig.as_bytes()), "keyid": ""}],
        },
    }))
    .expect("json")
}

// Example predicates. They describe a fictional Go service built from
// github.com/example/demo-app on an Alpine base; the good image is built by
// the trusted builder, scanned clean of CRITICAL findings, reviewed on main
// and free of GPL-3.0 components, and the vulnerable one is none of those.

/// Predicate types of the example attestations.
const SLSA_V1: &str = "https://slsa.dev/provenance/v1";
const SLSA_V02: &str = "https://slsa.dev/provenance/v0.2";
const CYCLONEDX: &str = "https://cyclonedx.org/bom";
const SPDX: &str = "https://spdx.dev/Document";
const VULN: &str = "https://cosign.sigstore.dev/attestation/vuln/v1";
const CODE_REVIEW: &str = "https://example.com/CodeReview/v1";

/// The builder the example policies trust, and another one.
const TRUSTED_BUILDER: &str = "https://github.com/actions/runner";
const OTHER_BUILDER: &str = "https://ci.example.net/self-hosted-runner";
/// The example service's source repository.
const SOURCE_REPO: &str = "https://github.com/example/demo-app";

/// Whether an example attestation describes the good or the bad build.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Build {
    Good,
    Bad,
}

/// The (fixed, fictional) git commit the build of `repo` is from.
fn commit(repo: &str) -> String {
    hex(&Sha256::digest(format!("{SOURCE_REPO} commit for {repo}").as_bytes())[..20])
}

/// SLSA provenance v1, as GitHub Actions' workflow build type writes it
/// (the bad build comes from another builder).
fn slsa_v1(repo: &str, build: Build) -> Value {
    let (builder, build_type) = match build {
        Build::Good => (
            TRUSTED_BUILDER,
            "https://actions.github.io/buildtypes/workflow/v1",
        ),
        Build::Bad => (
            OTHER_BUILDER,
            "https://ci.example.net/buildtypes/shell-script/v1",
        ),
    };
    json!({
        "buildDefinition": {
            "buildType": build_type,
            "externalParameters": {"workflow": {
                "ref": "refs/tags/v1",
                "repository": SOURCE_REPO,
                "path": ".github/workflows/release.yml",
            }},
            "internalParameters": {"github": {
                "event_name": "push",
                "repository_id": "812345678",
                "repository_owner_id": "91234567",
            }},
            "resolvedDependencies": [{
                "uri": format!("git+{SOURCE_REPO}@refs/tags/v1"),
                "digest": {"gitCommit": commit(repo)},
            }],
        },
        "runDetails": {
            "builder": {"id": builder},
            "metadata": {
                "invocationId": format!("{SOURCE_REPO}/actions/runs/12791234567/attempts/1"),
                "startedOn": "2025-12-31T23:50:02Z",
                "finishedOn": "2025-12-31T23:57:41Z",
            },
        },
    })
}

/// SLSA provenance v0.2, as the slsa-github-generator container workflow
/// writes it (the bad build comes from another builder).
fn slsa_v02(repo: &str, build: Build) -> Value {
    let builder = match build {
        Build::Good => TRUSTED_BUILDER,
        Build::Bad => OTHER_BUILDER,
    };
    let source = format!("git+{SOURCE_REPO}@refs/tags/v1");
    json!({
        "builder": {"id": builder},
        "buildType": "https://github.com/slsa-framework/slsa-github-generator/container@v1",
        "invocation": {
            "configSource": {
                "uri": source,
                "digest": {"sha1": commit(repo)},
                "entryPoint": ".github/workflows/release.yml",
            },
            "parameters": {},
            "environment": {
                "github_event_name": "push",
                "github_run_attempt": "1",
                "github_run_id": "12791234567",
            },
        },
        "metadata": {
            "buildInvocationId": "12791234567-1",
            "buildStartedOn": "2025-12-31T23:50:02Z",
            "buildFinishedOn": "2025-12-31T23:57:41Z",
            "completeness": {"parameters": true, "environment": false, "materials": false},
            "reproducible": false,
        },
        "materials": [{"uri": source, "digest": {"sha1": commit(repo)}}],
    })
}

/// One package of the example image: ecosystem (`apk` or `golang`), name,
/// version, SPDX license (an expression when it has a space).
type Package = (&'static str, &'static str, &'static str, &'static str);

/// The packages of the example image (the bad build has an older
/// golang.org/x/crypto and GNU bash, licensed GPL-3.0-or-later).
fn packages(build: Build) -> Vec<Package> {
    let mut p = vec![
        ("apk", "musl", "1.2.5-r8", "MIT"),
        ("apk", "busybox", "1.37.0-r8", "GPL-2.0-only"),
        (
            "apk",
            "ca-certificates-bundle",
            "20241121-r0",
            "MPL-2.0 AND MIT",
        ),
        ("golang", "github.com/spf13/cobra", "v1.8.1", "Apache-2.0"),
        ("golang", "golang.org/x/net", "v0.32.0", "BSD-3-Clause"),
    ];
    match build {
        Build::Good => p.push(("golang", "golang.org/x/crypto", "v0.31.0", "BSD-3-Clause")),
        Build::Bad => {
            p.push(("golang", "golang.org/x/crypto", "v0.30.0", "BSD-3-Clause"));
            p.push(("apk", "bash", "5.2.37-r0", "GPL-3.0-or-later"));
        }
    }
    p
}

/// A package's URL.
fn purl(ecosystem: &str, name: &str, version: &str) -> String {
    match ecosystem {
        "apk" => format!("pkg:apk/alpine/{name}@{version}?arch=x86_64&distro=alpine-3.21.0"),
        _ => format!("pkg:{ecosystem}/{name}@{version}"),
    }
}

/// A CycloneDX 1.5 BOM of the image, as syft writes it.
fn cyclonedx(repo: &str, image_digest: &str, build: Build) -> Value {
    let components: Vec<Value> = packages(build)
        .into_iter()
        .map(|(ecosystem, name, version, license)| {
            let purl = purl(ecosystem, name, version);
            let license = if license.contains(' ') {
                json!({"expression": license})
            } else {
                json!({"license": {"id": license}})
            };
            json!({
                "bom-ref": purl,
                "type": "library",
                "name": name,
                "version": version,
                "licenses": [license],
                "purl": purl,
            })
        })
        .collect();
    let mut serial = hex(&Sha256::digest(format!("cyclonedx {repo}").as_bytes())[..16]);
    for at in [20, 16, 12, 8] {
        serial.insert(at, '-');
    }
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": format!("urn:uuid:{serial}"),
        "version": 1,
        "metadata": {
            "timestamp": "2025-12-31T23:58:30Z",
            "tools": {"components": [{"type": "application", "author": "anchore", "name": "syft", "version": "1.18.1"}]},
            "component": {
                "bom-ref": format!("{REGISTRY}/{repo}@{image_digest}"),
                "type": "container",
                "name": format!("{REGISTRY}/{repo}"),
                "version": image_digest,
            },
        },
        "components": components,
    })
}

/// An SPDX 2.3 document of the image, as syft writes it.
fn spdx(repo: &str, build: Build) -> Value {
    let packages: Vec<Value> = packages(build)
        .into_iter()
        .map(|(ecosystem, name, version, license)| {
            json!({
                "name": name,
                "SPDXID": format!("SPDXRef-Package-{}", name.replace(['/', '.'], "-")),
                "versionInfo": version,
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": false,
                "licenseConcluded": "NOASSERTION",
                "licenseDeclared": license,
                "copyrightText": "NOASSERTION",
                "externalRefs": [{
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": purl(ecosystem, name, version),
                }],
            })
        })
        .collect();
    let relationships: Vec<Value> = packages
        .iter()
        .map(|p| json!({"spdxElementId": "SPDXRef-DOCUMENT", "relatedSpdxElement": p["SPDXID"], "relationshipType": "DESCRIBES"}))
        .collect();
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": format!("{REGISTRY}/{repo}"),
        "documentNamespace": format!("https://example.com/spdx/{repo}-v1"),
        "creationInfo": {
            "licenseListVersion": "3.25",
            "creators": ["Organization: Example", "Tool: syft-1.18.1"],
            "created": "2025-12-31T23:58:30Z",
        },
        "packages": packages,
        "relationships": relationships,
    })
}

/// A cosign vulnerability attestation of a trivy scan (`trivy image
/// --format cosign-vuln`): the good build has one MEDIUM finding, the bad
/// one also a CRITICAL one.
fn vuln_report(repo: &str, build: Build) -> Value {
    let mut vulnerabilities = vec![json!({
        "VulnerabilityID": "CVE-2024-45338",
        "PkgID": "golang.org/x/net@v0.32.0",
        "PkgName": "golang.org/x/net",
        "InstalledVersion": "v0.32.0",
        "FixedVersion": "0.33.0",
        "Status": "fixed",
        "Severity": "MEDIUM",
        "Title": "golang.org/x/net/html: Non-linear parsing of case-insensitive content in golang.org/x/net/html",
        "PrimaryURL": "https://avd.aquasec.com/nvd/cve-2024-45338",
    })];
    if build == Build::Bad {
        vulnerabilities.push(json!({
            "VulnerabilityID": "CVE-2024-45337",
            "PkgID": "golang.org/x/crypto@v0.30.0",
            "PkgName": "golang.org/x/crypto",
            "InstalledVersion": "v0.30.0",
            "FixedVersion": "0.31.0",
            "Status": "fixed",
            "Severity": "CRITICAL",
            "Title": "golang.org/x/crypto/ssh: Misuse of ServerConfig.PublicKeyCallback may cause authorization bypass in golang.org/x/crypto",
            "PrimaryURL": "https://avd.aquasec.com/nvd/cve-2024-45337",
        }));
    }
    let artifact = format!("{REGISTRY}/{repo}:v1");
    json!({
        "invocation": {"parameters": null, "uri": "", "event_id": "", "builder.id": ""},
        "scanner": {
            "uri": "pkg:github/aquasecurity/trivy@v0.58.1",
            "version": "0.58.1",
            "db": {"uri": "", "version": ""},
            "result": {
                "SchemaVersion": 2,
                "CreatedAt": "2025-12-31T23:59:10Z",
                "ArtifactName": artifact,
                "ArtifactType": "container_image",
                "Metadata": {"OS": {"Family": "alpine", "Name": "3.21.0"}},
                "Results": [
                    {"Target": format!("{artifact} (alpine 3.21.0)"), "Class": "os-pkgs", "Type": "alpine"},
                    {"Target": "usr/local/bin/demo-app", "Class": "lang-pkgs", "Type": "gobinary", "Vulnerabilities": vulnerabilities},
                ],
            },
        },
        "metadata": {"scanStartedOn": "2025-12-31T23:59:02Z", "scanFinishedOn": "2025-12-31T23:59:10Z"},
    })
}

/// The code review predicate of Kyverno's documentation: the good build
/// was reviewed on main, the bad one merged from a branch without review.
fn code_review(build: Build) -> Value {
    let (branch, reviewers) = match build {
        Build::Good => ("main", json!(["bob@example.com"])),
        Build::Bad => ("hotfix/skip-review", json!([])),
    };
    json!({
        "author": "alice@example.com",
        "repo": {"branch": branch, "type": "git", "uri": SOURCE_REPO},
        "reviewers": reviewers,
    })
}

/// Every example attestation of an image, signed by `key`.
fn attestations<'k>(
    key: &'k SigningKey,
    repo: &str,
    image_digest: &str,
    build: Build,
) -> Vec<(&'k SigningKey, &'static str, Value)> {
    let mut v = vec![
        (key, SLSA_V1, slsa_v1(repo, build)),
        (key, SLSA_V02, slsa_v02(repo, build)),
        (key, CYCLONEDX, cyclonedx(repo, image_digest, build)),
    ];
    // The bad build has no SPDX document.
    if build == Build::Good {
        v.push((key, SPDX, spdx(repo, build)));
    }
    v.push((key, VULN, vuln_report(repo, build)));
    v.push((key, CODE_REVIEW, code_review(build)));
    v
}

// Predicates of the kyverno/policies library's and Kyverno's documentation
// attestation policies (`policies/library/`), with the predicate types and
// shapes those policies expect.

/// The predicate type the library's vulnerability scan policy and the
/// documentation's `time_diff` example ask for (no `https://`).
const VULN_NO_SCHEME: &str = "cosign.sigstore.dev/attestation/vuln/v1";
/// The CycloneDX predicate type of cosign 1's `--type cyclonedx` (and syft's).
const CYCLONEDX_SCHEMA: &str = "https://cyclonedx.org/schema";
/// Grype's scan predicate type (Tekton Chains examples).
const GRYPE: &str = "https://grype.anchore.io/scan";
/// The slsa-github-generator container workflow, as a v0.2 `builder.id`.
const SLSA_GENERATOR: &str = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml";

/// The vulnerability scan of [`vuln_report`], finished at `finished_on`.
fn vuln_report_at(repo: &str, finished_on: &str) -> Value {
    let mut v = vuln_report(repo, Build::Good);
    v["metadata"] = json!({"scanStartedOn": finished_on, "scanFinishedOn": finished_on});
    v
}

/// A CycloneDX BOM of the example image with Apache Commons Text at
/// `commons_text` (or without it).
fn cyclonedx_commons_text(repo: &str, image_digest: &str, commons_text: Option<&str>) -> Value {
    let mut bom = cyclonedx(repo, image_digest, Build::Good);
    if let Some(version) = commons_text {
        let purl = format!("pkg:maven/org.apache.commons/commons-text@{version}");
        bom["components"]
            .as_array_mut()
            .expect("components")
            .push(json!({
                "bom-ref": purl,
                "type": "library",
                "group": "org.apache.commons",
                "name": "commons-text",
                "version": version,
                "licenses": [{"license": {"id": "Apache-2.0"}}],
                "purl": purl,
            }));
    }
    bom
}

/// SLSA provenance v0.2 from the slsa-github-generator container workflow
/// at `git_ref`.
fn slsa_v02_generator(repo: &str, git_ref: &str) -> Value {
    let mut p = slsa_v02(repo, Build::Good);
    p["builder"]["id"] = json!(format!("{SLSA_GENERATOR}@{git_ref}"));
    p
}

/// A grype scan (`grype -o json`) of `user_input` with one finding whose
/// CVSS impact score is `impact`.
fn grype_scan(user_input: &str, image_digest: &str, impact: f64) -> Value {
    json!({
        "matches": [{
            "vulnerability": {
                "id": "CVE-2024-45337",
                "dataSource": "https://nvd.nist.gov/vuln/detail/CVE-2024-45337",
                "namespace": "nvd:cpe",
                "severity": if impact > 5.0 { "Critical" } else { "Medium" },
                "cvss": [{
                    "source": "nvd@nist.gov",
                    "type": "Primary",
                    "version": "3.1",
                    "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                    "metrics": {"baseScore": 9.1, "exploitabilityScore": 3.9, "impactScore": impact},
                }],
                "fix": {"versions": ["0.31.0"], "state": "fixed"},
            },
            "artifact": {"name": "golang.org/x/crypto", "version": "v0.30.0", "type": "go-module"},
        }],
        "source": {
            "type": "image",
            "target": {"userInput": user_input, "manifestDigest": image_digest},
        },
        "distro": {"name": "alpine", "version": "3.21.0"},
        "descriptor": {"name": "grype", "version": "0.86.1"},
    })
}

/// The code review predicate of Kyverno's documentation, verbatim but for
/// the reviewers.
fn docs_code_review(reviewers: &[&str]) -> Value {
    json!({
        "author": "alice@example.com",
        "repo": {"branch": "main", "type": "git", "uri": "https://git-repo.com/org/app"},
        "reviewers": reviewers,
    })
}

/// The images of `policies/library/`: (repository, signer, attestations).
fn library_images(l: &mut Layout, a: &SigningKey, b: &SigningKey, rekor: &SigningKey) {
    // A scan "finished" far in the future is always at most 168h (or 24h)
    // old: `imgverify test` runs on the clock, so the suites cannot pin it.
    const RECENT: &str = "2100-01-01T00:00:00Z";
    const STALE: &str = "2025-12-31T23:59:10Z";
    type Make = fn(&str, &str) -> Vec<(&'static str, Value)>;
    let images: [(&str, bool, Make); 12] = [
        ("library/vuln-scan-recent", true, |r, _| {
            vec![(VULN_NO_SCHEME, vuln_report_at(r, RECENT))]
        }),
        ("library/vuln-scan-stale", true, |r, _| {
            vec![(VULN_NO_SCHEME, vuln_report_at(r, STALE))]
        }),
        ("library/vuln-scan-recent-by-b", false, |r, _| {
            vec![(VULN_NO_SCHEME, vuln_report_at(r, RECENT))]
        }),
        ("library/commons-text-1.10.0", true, |r, d| {
            vec![(
                CYCLONEDX_SCHEMA,
                cyclonedx_commons_text(r, d, Some("1.10.0")),
            )]
        }),
        ("library/commons-text-1.9", true, |r, d| {
            vec![(CYCLONEDX_SCHEMA, cyclonedx_commons_text(r, d, Some("1.9")))]
        }),
        ("library/no-commons-text", true, |r, d| {
            vec![(CYCLONEDX_SCHEMA, cyclonedx_commons_text(r, d, None))]
        }),
        ("library/slsa-generator-tag", true, |r, _| {
            vec![(SLSA_V02, slsa_v02_generator(r, "refs/tags/v1.9.0"))]
        }),
        ("library/slsa-generator-branch", true, |r, _| {
            vec![(SLSA_V02, slsa_v02_generator(r, "refs/heads/main"))]
        }),
        // cosign 1's `--type cyclonedx` wraps the BOM: {Data, Timestamp}.
        ("library/sbom-cosign-cyclonedx", true, |r, d| {
            let bom = cyclonedx_commons_text(r, d, None);
            vec![(
                CYCLONEDX_SCHEMA,
                json!({"Data": bom, "Timestamp": "2025-12-31T23:58:30Z"}),
            )]
        }),
        ("library/tekton-git-init", true, |r, d| {
            let target = format!("{REGISTRY}/{r}:v1");
            vec![(GRYPE, grype_scan(&target, d, 5.9))]
        }),
        ("library/code-review", true, |_, _| {
            vec![(CODE_REVIEW, docs_code_review(&["bob@example.com"]))]
        }),
        ("library/code-review-other-reviewer", true, |_, _| {
            vec![(CODE_REVIEW, docs_code_review(&["carol@example.com"]))]
        }),
    ];
    for (i, (repo, by_a, make)) in images.into_iter().enumerate() {
        let key = if by_a { a } else { b };
        let digest = l.image(repo, "v1");
        let layers: Vec<_> = make(repo, &digest)
            .into_iter()
            .map(|(t, p)| (key, t, p))
            .collect();
        l.attest(repo, &digest, &layers, rekor, 3000 + 100 * i as i64);
    }
}

/// Regenerates `policies/images` and `policies/keys`.
pub fn generate(root: &Path) -> std::io::Result<()> {
    let a = demo_key("A");
    let b = demo_key("B");
    let rekor = demo_key("rekor");
    let keys_dir = root.join("policies/keys");
    std::fs::create_dir_all(&keys_dir)?;
    std::fs::write(keys_dir.join("demo-a.pub"), pub_pem(&a))?;
    std::fs::write(keys_dir.join("demo-b.pub"), pub_pem(&b))?;
    std::fs::write(keys_dir.join("demo-rekor.pub"), pub_pem(&rekor))?;

    let mut l = Layout {
        blobs: BTreeMap::new(),
        refs: Vec::new(),
    };
    let no = BTreeMap::new;
    let signed = l.image("demo/signed", "v1");
    l.sign(
        "demo/signed",
        &signed,
        &[(&a, BTreeMap::from([("team", "payments")]), &signed)],
        Some(&rekor),
    );
    let by_b = l.image("demo/signed-by-b", "v1");
    l.sign(
        "demo/signed-by-b",
        &by_b,
        &[(&b, BTreeMap::from([("team", "search")]), &by_b)],
        Some(&rekor),
    );
    let multi = l.image("demo/multi", "v1");
    l.sign(
        "demo/multi",
        &multi,
        &[(&a, no(), &multi), (&b, no(), &multi)],
        Some(&rekor),
    );
    l.image("demo/unsigned", "v1");
    let tampered = l.image("demo/tampered", "v1");
    // A valid signature by key A, but over another image's digest.
    l.sign(
        "demo/tampered",
        &tampered,
        &[(&a, no(), &signed)],
        Some(&rekor),
    );
    let no_tlog = l.image("demo/no-tlog", "v1");
    l.sign("demo/no-tlog", &no_tlog, &[(&a, no(), &no_tlog)], None);

    // Sigstore bundles as OCI 1.1 referrers (`type: SigstoreBundle`).
    let bundled = l.image("demo/bundle-signed", "v1");
    l.attach_bundles(
        "demo/bundle-signed",
        &bundled,
        &[(&a, BTreeMap::from([("team", "payments")]), &bundled)],
        &rekor,
        EMPTY,
    );
    let bundled_b = l.image("demo/bundle-by-b", "v1");
    l.attach_bundles(
        "demo/bundle-by-b",
        &bundled_b,
        &[(&b, no(), &bundled_b)],
        &rekor,
        BUNDLE_V03,
    );
    // A valid bundle by key A, but its referrer manifest is about another image.
    let borrowed = l.image("demo/bundle-borrowed", "v1");
    l.attach_bundles(
        "demo/bundle-borrowed",
        &borrowed,
        &[(&a, no(), &bundled)],
        &rekor,
        BUNDLE_V03,
    );

    // Attestations (`verifyImages[].attestations`): cosign `.att` layers by
    // key A (good and bad builds), the good set by key B, and SLSA
    // provenance as Sigstore bundle referrers.
    for (repo, key, build, first_index) in [
        ("demo/attested", &a, Build::Good, 2000),
        ("demo/attested-vulnerable", &a, Build::Bad, 2100),
        ("demo/attested-by-b", &b, Build::Good, 2200),
    ] {
        let digest = l.image(repo, "v1");
        let layers = attestations(key, repo, &digest, build);
        l.attest(repo, &digest, &layers, &rekor, first_index);
        if build == Build::Bad {
            // Its provenance as a bundle too, naming the other builder.
            let statement =
                intoto_statement(STATEMENT_V1, repo, &digest, SLSA_V1, &slsa_v1(repo, build));
            l.attach_referrers(
                repo,
                &digest,
                &[(&a, SLSA_V1, statement, &digest)],
                &rekor,
                EMPTY,
            );
        }
    }
    let repo = "demo/bundle-attested";
    let digest = l.image(repo, "v1");
    let statement = intoto_statement(
        STATEMENT_V1,
        repo,
        &digest,
        SLSA_V1,
        &slsa_v1(repo, Build::Good),
    );
    l.attach_referrers(
        repo,
        &digest,
        &[(&a, SLSA_V1, statement, &digest)],
        &rekor,
        EMPTY,
    );

    library_images(&mut l, &a, &b, &rekor);

    // Notary (Notation) signatures and a signed SBOM attestation.
    let notary_signers = notary::Signers::new();
    std::fs::write(
        keys_dir.join("notary-demo-root.crt"),
        notary_signers.root_pem(),
    )?;
    notary::images(&mut l, &notary_signers);

    let dir = root.join("policies/images");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(dir.join("blobs/sha256"))?;
    std::fs::write(
        dir.join("oci-layout"),
        b"{\"imageLayoutVersion\":\"1.0.0\"}",
    )?;
    for (d, bytes) in &l.blobs {
        std::fs::write(
            dir.join("blobs/sha256")
                .join(d.trim_start_matches("sha256:")),
            bytes,
        )?;
    }
    let manifests: Vec<Value> = l
        .refs
        .iter()
        .map(|(r, d, n, t)| json!({"mediaType": t, "digest": d, "size": n, "annotations": {"org.opencontainers.image.ref.name": r}}))
        .collect();
    let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests});
    std::fs::write(
        dir.join("index.json"),
        serde_json::to_string_pretty(&index).expect("json") + "\n",
    )?;
    let mut digests =
        String::from("# Digests of the example images (generated by `cargo xtask fixtures`)\n");
    for (r, d, _, t) in &l.refs {
        // Signature and attestation tags are not images.
        if !r.ends_with(".sig") && !r.ends_with(".att") && *t == MANIFEST {
            digests.push_str(&format!("{r} {d}\n"));
        }
    }
    std::fs::write(dir.join("DIGESTS.txt"), digests)?;
    Ok(())
}
