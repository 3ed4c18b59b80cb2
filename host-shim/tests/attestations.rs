//! `verifyImages[].attestations` end to end: fresh in-toto statements (SLSA
//! provenance v1, a CycloneDX SBOM, a cosign vulnerability scan and a custom
//! code-review predicate) signed for each run with a key (Rekor `intoto`
//! 0.0.2 SETs from a test log) and keylessly by sigstore-js's mock Fulcio,
//! CT log and Rekor (`tests/mock-sigstore/mint.mjs`: `dsse` 0.0.1 entries
//! hashing the whole envelope), pushed to a real `docker-registry` as cosign
//! `.att` layers and as Sigstore bundle referrers, and decided by the
//! `imgverify apply` binary and by the `serve` webhook, with the mocks'
//! trusted root given by `--trusted-root`. Every case is asserted for its
//! decision and its reason.
//!
//! All cases run in one `apply` (one policy per case, matching its Pod by
//! name) and through one webhook: one module compile each.

mod support;

use base64::Engine as _;
use p256::ecdsa::{Signature, SigningKey, signature::Signer};
use p256::pkcs8::EncodePublicKey;
use serde_json::{Value, json};
use sha2::Digest as _;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use support::forge::{key, public_pem};
use support::tempdir::Dir;
use support::{Auth, TestRegistry};

const SLSA: &str = "https://slsa.dev/provenance/v1";
const CYCLONEDX: &str = "https://cyclonedx.org/bom";
const VULN: &str = "https://cosign.sigstore.dev/attestation/vuln/v1";
const REVIEW: &str = "https://attestations.acme.example/code-review/v1";
const PREDICATES: [&str; 4] = [SLSA, CYCLONEDX, VULN, REVIEW];
const IN_TOTO: &str = "application/vnd.in-toto+json";
const DSSE_LAYER: &str = "application/vnd.dsse.envelope.v1+json";
const BUNDLE_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

const SUBJECT: &str = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
const OID_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
const GITHUB_BUILDER: &str = "https://github.com/actions/runner/github-hosted";

fn b64(b: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn unb64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn sha256_hex(b: &[u8]) -> String {
    sha2::Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

// ---------------------------------------------------------------- predicates

fn slsa_provenance() -> Value {
    json!({
        "buildDefinition": {
            "buildType": "https://actions.github.io/buildtypes/workflow/v1",
            "externalParameters": {"workflow": {"ref": "refs/heads/main",
                "repository": "https://github.com/acme/app", "path": ".github/workflows/release.yml"}},
            "internalParameters": {"github": {"event_name": "push", "runner_environment": "github-hosted"}},
            "resolvedDependencies": [{"uri": "git+https://github.com/acme/app@refs/heads/main",
                "digest": {"gitCommit": "7f3c1d0e2b4a59687c1d0e2b4a59687c1d0e2b4a"}}],
        },
        "runDetails": {"builder": {"id": GITHUB_BUILDER},
            "metadata": {"invocationId": "https://github.com/acme/app/actions/runs/42/attempts/1"}},
    })
}

fn cyclonedx_sbom() -> Value {
    json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "metadata": {"component": {"type": "container", "name": "acme/app", "version": "1.4.2"}},
        "components": [
            {"type": "library", "name": "openssl", "version": "3.0.13", "purl": "pkg:deb/debian/openssl@3.0.13"},
            {"type": "library", "name": "log4j-core", "version": "2.14.1",
             "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"},
        ],
    })
}

fn vuln_scan(critical: u64) -> Value {
    json!({
        "invocation": {"parameters": null, "uri": "https://github.com/acme/app/actions/runs/42",
            "event_id": "42", "builder.id": GITHUB_BUILDER},
        "scanner": {"uri": "pkg:github/aquasecurity/trivy@0.50.1", "version": "0.50.1",
            "db": {"uri": "pkg:github/aquasecurity/trivy-db", "version": "2"},
            "result": {"critical": critical, "high": 1, "medium": 4, "low": 9}},
        "metadata": {"scanStartedOn": "2025-01-01T00:00:00Z", "scanFinishedOn": "2025-01-01T00:01:00Z"},
    })
}

fn code_review() -> Value {
    json!({"author": "alice", "reviewer": "bob", "reviewerTeam": "app-devs",
           "status": "approved", "change": "https://github.com/acme/app/pull/7"})
}

fn predicate(t: &str) -> Value {
    match t {
        SLSA => slsa_provenance(),
        CYCLONEDX => cyclonedx_sbom(),
        VULN => vuln_scan(0),
        _ => code_review(),
    }
}

fn cond(key: &str, operator: &str, value: Value, message: &str) -> Value {
    json!({"key": key, "operator": operator, "value": value, "message": message})
}

/// Conditions every predicate as minted meets.
fn passing(t: &str) -> Value {
    let all = match t {
        SLSA => vec![
            cond(
                "{{ runDetails.builder.id }}",
                "Equals",
                json!(GITHUB_BUILDER),
                "the image was not built by the GitHub-hosted runner",
            ),
            cond(
                "{{ buildDefinition.externalParameters.workflow.repository }}",
                "Equals",
                json!("https://github.com/acme/app"),
                "the image was built from another repository",
            ),
        ],
        CYCLONEDX => vec![
            cond(
                "{{ bomFormat }}",
                "Equals",
                json!("CycloneDX"),
                "not a CycloneDX SBOM",
            ),
            cond(
                "{{ metadata.component.name }}",
                "Equals",
                json!("acme/app"),
                "the SBOM describes another component",
            ),
        ],
        VULN => vec![cond(
            "{{ scanner.result.critical }}",
            "Equals",
            json!(0),
            "the scan found critical vulnerabilities",
        )],
        _ => vec![
            cond(
                "{{ status }}",
                "Equals",
                json!("approved"),
                "the change was not approved",
            ),
            cond(
                "{{ reviewer }}",
                "NotEquals",
                json!("{{ author }}"),
                "the author reviewed their own change",
            ),
        ],
    };
    json!([{"all": all}])
}

/// A condition each predicate as minted fails, and its message.
fn failing(t: &str) -> (Value, &'static str) {
    let (c, m) = match t {
        SLSA => (
            cond(
                "{{ runDetails.builder.id }}",
                "Equals",
                json!("https://gitlab.com/acme/release-runner"),
                "the image was not built by the release runner",
            ),
            "the image was not built by the release runner",
        ),
        CYCLONEDX => (
            cond(
                "{{ components[?name == 'log4j-core'] | length(@) }}",
                "Equals",
                json!(0),
                "the SBOM lists log4j-core",
            ),
            "the SBOM lists log4j-core",
        ),
        VULN => (
            cond(
                "{{ scanner.result.high }}",
                "Equals",
                json!(0),
                "the scan found high vulnerabilities",
            ),
            "the scan found high vulnerabilities",
        ),
        _ => (
            cond(
                "{{ reviewerTeam }}",
                "Equals",
                json!("security"),
                "the change was not reviewed by the security team",
            ),
            "the change was not reviewed by the security team",
        ),
    };
    (json!([{"all": [c]}]), m)
}

fn short(t: &str) -> &'static str {
    match t {
        SLSA => "slsa",
        CYCLONEDX => "sbom",
        VULN => "vuln",
        _ => "review",
    }
}

// ---------------------------------------------------------------- signing

fn repo(name: &str) -> String {
    format!("att/{name}")
}

/// An in-toto v1 statement about `host/att/name@digest`.
fn statement(host: &str, name: &str, digest: &str, t: &str, predicate: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": format!("{host}/{}", repo(name)),
                     "digest": {"sha256": digest.trim_start_matches("sha256:")}}],
        "predicateType": t,
        "predicate": predicate,
    }))
    .unwrap()
}

fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// One `.att` layer: the envelope bytes and its annotations.
struct AttLayer {
    envelope: Vec<u8>,
    annotations: BTreeMap<String, String>,
}

/// A keyed cosign attestation layer: a DSSE envelope signed by `signer`,
/// with a Rekor SET from `log` whose `intoto` 0.0.2 body hashes the
/// envelope and names the signer, as `cosign attest --key` writes it.
fn keyed_layer(signer: &SigningKey, log: &SigningKey, t: &str, statement: &[u8]) -> AttLayer {
    let sig: Signature = signer.sign(&pae(IN_TOTO, statement));
    let sig = sig.to_der().as_bytes().to_vec();
    let envelope = serde_json::to_vec(&json!({
        "payloadType": IN_TOTO, "payload": b64(statement),
        "signatures": [{"keyid": "", "sig": b64(&sig)}],
    }))
    .unwrap();
    let body = json!({"apiVersion": "0.0.2", "kind": "intoto", "spec": {"content": {
        "envelope": {"payloadType": IN_TOTO,
            "signatures": [{"sig": b64(b64(&sig)), "publicKey": b64(public_pem(signer))}]},
        "hash": {"algorithm": "sha256", "value": sha256_hex(&envelope)},
        "payloadHash": {"algorithm": "sha256", "value": sha256_hex(statement)}}}});
    let log_id = sha256_hex(log.verifying_key().to_public_key_der().unwrap().as_bytes());
    // What the SET signs: the canonical entry (keys sorted, no spaces).
    let payload = json!({
        "body": b64(serde_json::to_vec(&body).unwrap()),
        "integratedTime": time::OffsetDateTime::now_utc().unix_timestamp(),
        "logID": log_id,
        "logIndex": 1234,
    });
    let set: Signature = log.sign(&serde_json::to_vec(&payload).unwrap());
    let bundle = json!({"SignedEntryTimestamp": b64(set.to_der().as_bytes()), "Payload": payload});
    AttLayer {
        envelope,
        annotations: BTreeMap::from([
            ("dev.cosignproject.cosign/signature".into(), String::new()),
            ("dev.sigstore.cosign/bundle".into(), bundle.to_string()),
            ("predicateType".into(), t.into()),
        ]),
    }
}

/// A keyless layer as mint.mjs returned it.
fn minted_layer(minted: &Value, t: &str) -> AttLayer {
    let mut annotations: BTreeMap<String, String> =
        serde_json::from_value(minted["annotations"].clone()).unwrap();
    annotations.insert("predicateType".into(), t.into());
    AttLayer {
        envelope: unb64(minted["envelope"].as_str().unwrap()),
        annotations,
    }
}

use support::mint::mint;

// ---------------------------------------------------------------- pushing

/// Pushes an image; returns its digest.
async fn push_image(reg: &TestRegistry, client: &reqwest::Client, repo: &str) -> String {
    let config = format!("{{\"repo\":\"{repo}\"}}").into_bytes();
    let layer = format!("layer of {repo}").into_bytes();
    let cd = reg.push_blob(client, repo, &config).await;
    let ld = reg.push_blob(client, repo, &layer).await;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": layer.len()}],
    }))
    .unwrap();
    reg.push_manifest(client, repo, "v1", &manifest).await;
    imgverify::digest::Digest::sha256_of(&manifest).to_string()
}

/// Pushes the `sha256-<hex>.att` manifest of `digest`, as cosign does.
async fn push_att(
    reg: &TestRegistry,
    client: &reqwest::Client,
    repo: &str,
    digest: &str,
    layers: &[AttLayer],
) {
    let cd = reg.push_blob(client, repo, b"{}").await;
    let mut descriptors = Vec::new();
    for l in layers {
        let d = reg.push_blob(client, repo, &l.envelope).await;
        descriptors.push(json!({"mediaType": DSSE_LAYER, "digest": d,
            "size": l.envelope.len(), "annotations": l.annotations}));
    }
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": 2},
        "layers": descriptors,
    }))
    .unwrap();
    let tag = format!("{}.att", digest.replace(':', "-"));
    reg.push_manifest(client, repo, &tag, &manifest).await;
}

/// Bundles as cosign 3 pushes attestations: one referrer manifest each,
/// listed in the `sha256-<hex>` tag-schema index (the registry has no
/// referrers API).
async fn push_bundles(
    reg: &TestRegistry,
    client: &reqwest::Client,
    repo: &str,
    digest: &str,
    bundles: &[(&Value, &str)],
) {
    let ed = reg.push_blob(client, repo, b"{}").await;
    let mut listed = Vec::new();
    for (bundle, t) in bundles {
        let bytes = serde_json::to_vec(bundle).unwrap();
        let bd = reg.push_blob(client, repo, &bytes).await;
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": BUNDLE_TYPE,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": ed, "size": 2},
            "layers": [{"mediaType": BUNDLE_TYPE, "digest": bd, "size": bytes.len()}],
            "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": 1},
            "annotations": {"dev.sigstore.bundle.content": "dsse-envelope", "dev.sigstore.bundle.predicateType": t},
        }))
        .unwrap();
        let md = imgverify::digest::Digest::sha256_of(&manifest).to_string();
        reg.push_manifest(client, repo, &md, &manifest).await;
        listed.push(json!({"mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": md, "size": manifest.len(), "artifactType": "application/vnd.oci.empty.v1+json"}));
    }
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": listed,
    }))
    .unwrap();
    reg.push_manifest(client, repo, &digest.replace(':', "-"), &index)
        .await;
}

// ---------------------------------------------------------------- the world

/// Images in the registry, by name (repository `att/<name>`).
const IMAGES: &[&str] = &[
    // keyed `.att`: the four predicates, and a scan with critical findings.
    "keyed",
    "keyed-critical",
    // keyed `.att`: provenance from the GitHub runner, then another from
    // elsewhere: every statement of the type must meet the conditions.
    "two-provenances",
    // keyless `.att` (mock Fulcio, Rekor `dsse` entries).
    "keyless",
    // keyless DSSE bundles as referrers.
    "bundle",
    // `keyed`'s `.att` manifest and `bundle`'s referrer, copied beside
    // another image: their statements are about `keyed` and `bundle`.
    "copied-att",
    "copied-bundle",
    // A keyless `.att` whose statement was swapped after signing.
    "tampered",
    // A keyless `.att` whose envelope was re-serialized: the signature
    // still verifies over the PAE, but Rekor logged other bytes.
    "reformatted",
];

struct World {
    reg: TestRegistry,
    rt: tokio::runtime::Runtime,
    dir: Dir,
    host: String,
    digests: BTreeMap<&'static str, String>,
    signer: SigningKey,
    log: SigningKey,
    trusted_root: PathBuf,
    /// The mock Fulcio's root certificate (PEM), for `certificates` attestors.
    ca_root: String,
}

impl World {
    fn build() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let reg = TestRegistry::start(Auth::None);
        let host = reg.host();
        let client = reg.client();
        let mut digests = BTreeMap::new();
        for name in IMAGES {
            let d = rt.block_on(push_image(&reg, &client, &repo(name)));
            digests.insert(*name, d);
        }
        let st = |name: &str, t: &str, p: Value| statement(&host, name, &digests[name], t, p);

        // Keyless material: the four predicates as `.att` layers and as
        // bundles, then the tampered and reformatted layers.
        let keyless_request = |statement: Vec<u8>, layer: bool| {
            json!({"ca": "fulcio", "tlog": "rekor", "san": SUBJECT,
                "extensions": [{"oid": OID_ISSUER_V2, "value": ISSUER}],
                "statement": b64(statement), "payloadType": IN_TOTO, "layer": layer})
        };
        let mut requests = Vec::new();
        for t in PREDICATES {
            requests.push(keyless_request(st("keyless", t, predicate(t)), true));
        }
        for t in PREDICATES {
            requests.push(keyless_request(st("bundle", t, predicate(t)), false));
        }
        let mut evil = slsa_provenance();
        evil["runDetails"]["builder"]["id"] = json!("https://evil.example/runner");
        requests.push(keyless_request(st("tampered", SLSA, evil), true));
        requests.push(keyless_request(
            st("reformatted", SLSA, slsa_provenance()),
            true,
        ));
        let minted = mint(&json!({
            "cas": {"fulcio": {"ctlog": "ct"}}, "ctlogs": ["ct"], "tlogs": ["rekor"],
            "trustedRoot": {"ca": "fulcio", "ctlog": "ct", "tlog": "rekor"},
            "signatures": requests,
        }));
        let sigs = minted["signatures"].as_array().unwrap();
        let ca_root = sigs[0]["root"].as_str().unwrap().to_string();
        let dir = Dir::new("attestations");
        let trusted_root = dir.0.join("trusted_root.json");
        std::fs::write(&trusted_root, minted["trustedRoot"].to_string()).unwrap();

        let att = |name: &str, layers: &[AttLayer]| {
            rt.block_on(push_att(&reg, &client, &repo(name), &digests[name], layers))
        };
        let referrers = |name: &str, bundles: &[(&Value, &str)]| {
            rt.block_on(push_bundles(
                &reg,
                &client,
                &repo(name),
                &digests[name],
                bundles,
            ))
        };

        // Keyed, with keys new to this run.
        let run = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        let (signer, log) = (
            key(&format!("attestation signer {run}")),
            key(&format!("attestation rekor {run}")),
        );
        let keyed: Vec<AttLayer> = PREDICATES
            .iter()
            .map(|t| keyed_layer(&signer, &log, t, &st("keyed", t, predicate(t))))
            .collect();
        att("keyed", &keyed);
        att(
            "keyed-critical",
            &[keyed_layer(
                &signer,
                &log,
                VULN,
                &st("keyed-critical", VULN, vuln_scan(3)),
            )],
        );
        att("copied-att", &keyed);
        let mut elsewhere = slsa_provenance();
        elsewhere["runDetails"]["builder"]["id"] = json!("https://ci.elsewhere.example/runner");
        att(
            "two-provenances",
            &[
                keyed_layer(
                    &signer,
                    &log,
                    SLSA,
                    &st("two-provenances", SLSA, slsa_provenance()),
                ),
                keyed_layer(&signer, &log, SLSA, &st("two-provenances", SLSA, elsewhere)),
            ],
        );

        // Keyless `.att` layers.
        let keyless: Vec<AttLayer> = PREDICATES
            .iter()
            .enumerate()
            .map(|(i, t)| minted_layer(&sigs[i], t))
            .collect();
        att("keyless", &keyless);

        // Keyless bundles.
        let bundles: Vec<(&Value, &str)> = PREDICATES
            .iter()
            .enumerate()
            .map(|(i, t)| (&sigs[4 + i]["bundle"], *t))
            .collect();
        referrers("bundle", &bundles);
        referrers("copied-bundle", &bundles[..1]);

        // The statement swapped for one naming the trusted builder, the
        // signature and Rekor entry left as they were.
        let mut tampered = minted_layer(&sigs[8], SLSA);
        let mut env: Value = serde_json::from_slice(&tampered.envelope).unwrap();
        env["payload"] = json!(b64(st("tampered", SLSA, slsa_provenance())));
        tampered.envelope = serde_json::to_vec(&env).unwrap();
        att("tampered", &[tampered]);
        let mut reformatted = minted_layer(&sigs[9], SLSA);
        let env: Value = serde_json::from_slice(&reformatted.envelope).unwrap();
        reformatted.envelope = serde_json::to_vec_pretty(&env).unwrap();
        att("reformatted", &[reformatted]);

        World {
            reg,
            rt,
            dir,
            host,
            digests,
            signer,
            log,
            trusted_root,
            ca_root,
        }
    }

    /// `host/att/name@digest`.
    fn image(&self, name: &str) -> String {
        format!("{}/{}@{}", self.host, repo(name), self.digests[name])
    }

    fn keys(&self, signer: &SigningKey) -> Value {
        json!({"entries": [{"keys": {"publicKeys": public_pem(signer),
            "rekor": {"url": "https://rekor.keyed.test", "pubkey": public_pem(&self.log)}}}]})
    }
}

fn keyless(subject: &str) -> Value {
    json!({"entries": [{"keyless": {"subject": subject, "issuer": ISSUER,
        "rekor": {"url": "https://rekor.mock"}}}]})
}

/// A `Cosign` entry with these attestations.
fn cosign(attestations: Vec<Value>) -> Value {
    json!({"attestations": attestations})
}

/// A `SigstoreBundle` entry with these attestations.
fn bundle(attestations: Vec<Value>) -> Value {
    json!({"type": "SigstoreBundle", "attestations": attestations})
}

fn attestation(t: &str, attestor: &Value, conditions: Value) -> Value {
    json!({"type": t, "attestors": [attestor], "conditions": conditions})
}

// ---------------------------------------------------------------- cases

enum Expect {
    Allowed,
    /// Denied, with every one of these in the message.
    Denied(Vec<String>),
}

struct Case {
    /// The Pod's and the policy's name.
    name: String,
    /// The image the Pod runs.
    image: &'static str,
    /// The `verifyImages` entry (without `imageReferences`).
    entry: Value,
    expect: Expect,
}

fn case(name: impl Into<String>, image: &'static str, entry: Value, expect: Expect) -> Case {
    Case {
        name: name.into(),
        image,
        entry,
        expect,
    }
}

fn denied(reasons: &[&str]) -> Expect {
    Expect::Denied(reasons.iter().map(|s| s.to_string()).collect())
}

const NOT_VERIFIED: &str = "image attestations verification failed, verifiedCount: 0, requiredCount: 1, error: .attestations[0].attestors[0].entries[0]";

fn cases(w: &World) -> Vec<Case> {
    let mut out = Vec::new();
    let own = w.keys(&w.signer);
    let fulcio = keyless(SUBJECT);
    let all_passing = |a: &Value| {
        PREDICATES
            .iter()
            .map(|t| attestation(t, a, passing(t)))
            .collect::<Vec<_>>()
    };

    // Each signer kind: all four predicates meet their conditions; each
    // fails its own failing condition, with Kyverno's message.
    for (kind, image, attestor, wrap) in [
        ("keyed", "keyed", &own, cosign as fn(Vec<Value>) -> Value),
        ("keyless", "keyless", &fulcio, cosign),
        ("bundle", "bundle", &fulcio, bundle),
    ] {
        out.push(case(
            format!("{kind}-all-pass"),
            image,
            wrap(all_passing(attestor)),
            Expect::Allowed,
        ));
        for t in PREDICATES {
            let (conditions, message) = failing(t);
            out.push(case(
                format!("{kind}-{}-fails", short(t)),
                image,
                wrap(vec![attestation(t, attestor, conditions)]),
                Expect::Denied(vec![
                    format!(
                        "attestation checks failed for {} and predicate {t}: {message}",
                        w.image(image)
                    ),
                    NOT_VERIFIED.to_string(),
                ]),
            ));
        }
    }

    // Keyed: a predicate type that is not there, another key.
    out.push(case(
        "keyed-missing-type",
        "keyed",
        cosign(vec![attestation(
            "https://spdx.dev/Document",
            &own,
            json!([]),
        )]),
        denied(&[
            "attestions not found for predicate type https://spdx.dev/Document",
            NOT_VERIFIED,
        ]),
    ));
    out.push(case(
        "keyed-other-key",
        "keyed",
        cosign(vec![attestation(
            SLSA,
            &w.keys(&key("someone else")),
            json!([]),
        )]),
        denied(&[
            "failed to fetch attestations: no matching attestations: invalid signature",
            NOT_VERIFIED,
        ]),
    ));

    // Two provenances: the second was not built by the trusted runner.
    out.push(case(
        "keyed-two-provenances",
        "two-provenances",
        cosign(vec![attestation(SLSA, &own, passing(SLSA))]),
        Expect::Denied(vec![
            format!(
                "attestation checks failed for {} and predicate {SLSA}: the image was not built by the GitHub-hosted runner",
                w.image("two-provenances")
            ),
            NOT_VERIFIED.into(),
        ]),
    ));

    // A `certificates` attestor: the layer's certificate must chain to the
    // given root (here the mock Fulcio's; SCT and Rekor from the trusted
    // root); another root does not do.
    let chained = json!({"entries": [{"certificates": {"certChain": w.ca_root,
        "rekor": {"url": "https://rekor.mock"}}}]});
    out.push(case(
        "certificates-chain-pass",
        "keyless",
        cosign(vec![attestation(SLSA, &chained, passing(SLSA))]),
        Expect::Allowed,
    ));
    let other_root = rcgen::generate_simple_self_signed(vec!["other-ca.test".into()])
        .unwrap()
        .cert
        .pem();
    let elsewhere = json!({"entries": [{"certificates": {"certChain": other_root,
        "rekor": {"url": "https://rekor.mock"}}}]});
    out.push(case(
        "certificates-other-root",
        "keyless",
        cosign(vec![attestation(SLSA, &elsewhere, passing(SLSA))]),
        denied(&[
            "failed to fetch attestations: no matching attestations",
            NOT_VERIFIED,
        ]),
    ));

    // Keyless identities: by regexp, another subject, another issuer.
    let by_regexp = json!({"entries": [{"keyless": {
        "subjectRegExp": "^https://github\\.com/acme/app/", "issuerRegExp": "^https://token\\.actions\\.",
        "rekor": {"url": "https://rekor.mock"}}}]});
    out.push(case(
        "keyless-regexp-pass",
        "keyless",
        cosign(vec![attestation(SLSA, &by_regexp, passing(SLSA))]),
        Expect::Allowed,
    ));
    let stranger = keyless("https://github.com/other/*");
    out.push(case(
        "keyless-subject-mismatch",
        "keyless",
        cosign(vec![attestation(SLSA, &stranger, passing(SLSA))]),
        denied(&[
            "failed to fetch attestations: no matching attestations",
            "subject mismatch",
            NOT_VERIFIED,
        ]),
    ));
    let google = json!({"entries": [{"keyless": {"subject": SUBJECT,
        "issuer": "https://accounts.google.com", "rekor": {"url": "https://rekor.mock"}}}]});
    out.push(case(
        "keyless-issuer-mismatch",
        "keyless",
        cosign(vec![attestation(SLSA, &google, passing(SLSA))]),
        denied(&[
            "failed to fetch attestations: no matching attestations",
            "issuer mismatch",
            NOT_VERIFIED,
        ]),
    ));
    out.push(case(
        "bundle-subject-mismatch",
        "bundle",
        bundle(vec![attestation(SLSA, &stranger, passing(SLSA))]),
        denied(&["subject mismatch", NOT_VERIFIED]),
    ));

    // A `.att` layer is not a bundle, nor a bundle an `.att` layer.
    out.push(case(
        "keyless-att-is-not-a-bundle",
        "keyless",
        bundle(vec![attestation(SLSA, &fulcio, passing(SLSA))]),
        denied(&[
            "sigstore bundle verification failed: no matching signatures found",
            NOT_VERIFIED,
        ]),
    ));
    out.push(case(
        "bundle-is-not-an-att",
        "bundle",
        cosign(vec![attestation(SLSA, &fulcio, passing(SLSA))]),
        denied(&[
            "failed to fetch attestations: no attestations found",
            NOT_VERIFIED,
        ]),
    ));

    // Statements about another image.
    let about_other = |name: &str| {
        format!(
            "no subject of the in-toto statement has digest {}",
            w.digests[name]
        )
    };
    out.push(case(
        "copied-att",
        "copied-att",
        cosign(vec![attestation(SLSA, &own, passing(SLSA))]),
        Expect::Denied(vec![
            "failed to fetch attestations: no matching attestations".into(),
            about_other("copied-att"),
            NOT_VERIFIED.into(),
        ]),
    ));
    out.push(case(
        "copied-bundle",
        "copied-bundle",
        bundle(vec![attestation(SLSA, &fulcio, passing(SLSA))]),
        Expect::Denied(vec![
            "sigstore bundle verification failed: no matching signatures found".into(),
            about_other("copied-bundle"),
            NOT_VERIFIED.into(),
        ]),
    ));

    // Tampering.
    out.push(case(
        "tampered-statement",
        "tampered",
        cosign(vec![attestation(SLSA, &fulcio, passing(SLSA))]),
        denied(&[
            "failed to fetch attestations: no matching attestations: invalid signature",
            NOT_VERIFIED,
        ]),
    ));
    out.push(case(
        "reformatted-envelope",
        "reformatted",
        cosign(vec![attestation(SLSA, &fulcio, passing(SLSA))]),
        denied(&[
            "failed to fetch attestations: no matching attestations",
            "payload hash in Rekor SET does not match",
            NOT_VERIFIED,
        ]),
    ));

    // validate.deny reading the attestation named `scan`.
    let scan = |a: &Value| {
        json!({
            "attestations": [{"type": VULN, "name": "scan", "attestors": [a]}],
            "validate": {
                "message": "the scan found critical vulnerabilities",
                "deny": {"conditions": {"all": [
                    {"key": "{{ scan.scanner.result.critical }}", "operator": "NotEquals", "value": 0}
                ]}},
            },
        })
    };
    out.push(case("scan-clean", "keyed", scan(&own), Expect::Allowed));
    out.push(case(
        "scan-critical",
        "keyed-critical",
        scan(&own),
        denied(&["validation in verifyImages failed: the scan found critical vulnerabilities"]),
    ));
    out.push(case(
        "scan-keyless-clean",
        "keyless",
        scan(&fulcio),
        Expect::Allowed,
    ));
    out
}

/// A policy whose one rule checks the Pod named as the case.
fn policy(case: &Case) -> Value {
    let mut entry = json!({"imageReferences": ["127.0.0.1:*"], "failureAction": "Enforce"});
    for (k, v) in case.entry.as_object().unwrap() {
        entry[k] = v.clone();
    }
    json!({
        "apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": case.name},
        "spec": {"rules": [{"name": "attested",
            "match": {"any": [{"resources": {"kinds": ["Pod"], "names": [case.name]}}]},
            "verifyImages": [entry]}]},
    })
}

fn pod(name: &str, image: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [{"name": "app", "image": image}]}})
}

/// Checks one decision; returns what is wrong with it.
fn check(case: &Case, allowed: bool, message: &str) -> Option<String> {
    match &case.expect {
        Expect::Allowed if allowed => None,
        Expect::Allowed => Some(format!(
            "{}: denied, expected allowed: {message}",
            case.name
        )),
        Expect::Denied(_) if allowed => Some(format!(
            "{}: allowed, expected a denial: {message}",
            case.name
        )),
        Expect::Denied(reasons) => {
            let missing: Vec<&String> = reasons.iter().filter(|r| !message.contains(*r)).collect();
            (!missing.is_empty()).then(|| {
                format!(
                    "{}: denied, but the message lacks {missing:?}:\n    {message}",
                    case.name
                )
            })
        }
    }
}

/// Writes one policy per case into `dir/name/` and the cases' Pods.
fn write_inputs(w: &World, name: &str, cases: &[Case]) -> (PathBuf, PathBuf) {
    let dir = w.dir.0.join(name);
    let policies = dir.join("policies");
    std::fs::create_dir_all(&policies).unwrap();
    for c in cases {
        std::fs::write(
            policies.join(format!("{}.yaml", c.name)),
            serde_json::to_string_pretty(&policy(c)).unwrap(),
        )
        .unwrap();
    }
    let pods: Vec<String> = cases
        .iter()
        .map(|c| serde_json::to_string(&pod(&c.name, &w.image(c.image))).unwrap())
        .collect();
    let resources = dir.join("pods.yaml");
    std::fs::write(&resources, pods.join("\n---\n")).unwrap();
    (policies, resources)
}

/// Decides every case in one `imgverify apply` run; returns what is wrong.
fn through_apply(w: &World, policies: &Path, resources: &Path, cases: &[Case]) -> Vec<String> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_imgverify"))
        .arg("apply")
        .arg(policies)
        .arg("-r")
        .arg(resources)
        .arg("--trusted-root")
        .arg(&w.trusted_root)
        .args(["-o", "json"])
        .output()
        .unwrap();
    let blocked = cases.iter().any(|c| matches!(c.expect, Expect::Denied(_)));
    assert_eq!(
        out.status.code(),
        Some(if blocked { 1 } else { 0 }),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "apply -o json: {e}\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let resources = v["resources"].as_array().unwrap();
    assert_eq!(resources.len(), cases.len());
    let mut wrong = Vec::new();
    for c in cases {
        let r = resources
            .iter()
            .find(|r| r["name"] == c.name.as_str())
            .unwrap_or_else(|| panic!("no result for {}", c.name));
        let results = r["results"].as_array().unwrap();
        assert_eq!(results.len(), 1, "only the case's own policy applies: {r}");
        assert_eq!(results[0]["policy"], c.name.as_str(), "{r}");
        let mut message = results[0]["message"].as_str().unwrap().to_string();
        if let Some(e) = r["error"].as_str() {
            message.push_str(" | error: ");
            message.push_str(e);
        }
        if let Some(problem) = check(c, r["allowed"].as_bool().unwrap(), &message) {
            wrong.push(format!("apply: {problem}"));
        }
    }
    wrong
}

/// Decides every case through one `serve` webhook (AdmissionReviews over
/// HTTPS to /mutate); returns what is wrong.
fn through_serve(w: &World, policies: &Path, cases: &[Case]) -> Vec<String> {
    let trusted_root = w.trusted_root.display().to_string();
    let mut wrong = Vec::new();
    w.rt.block_on(async {
        let s =
            support::webhook::start_with(vec![policies.display().to_string()], (&[], None), |a| {
                imgverify_host::serve::ServeArgs {
                    trusted_root: Some(trusted_root),
                    ..a
                }
            })
            .await;
        for (i, c) in cases.iter().enumerate() {
            let uid = format!("uid-{i}");
            let r = s
                .review("/mutate", &uid, pod(&c.name, &w.image(c.image)))
                .await;
            let resp = &r["response"];
            assert_eq!(resp["uid"], uid.as_str(), "{r}");
            let message = resp["status"]["message"].as_str().unwrap_or("");
            if let Some(problem) = check(c, resp["allowed"].as_bool().unwrap(), message) {
                wrong.push(format!("serve: {problem}"));
            }
        }
        s.stop().await;
    });
    wrong
}

/// Every case through `imgverify apply` (one run) and `serve` (one webhook).
#[test]
fn fresh_attestations_through_apply_and_serve() {
    let w = World::build();
    let cases = cases(&w);
    let (policies, resources) = write_inputs(&w, "cases", &cases);
    let started = std::time::Instant::now();
    let mut wrong = through_apply(&w, &policies, &resources, &cases);
    let apply_time = started.elapsed();
    let started = std::time::Instant::now();
    wrong.extend(through_serve(&w, &policies, &cases));
    eprintln!(
        "{} cases: apply {apply_time:?}, serve {:?}",
        cases.len(),
        started.elapsed()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // The attestations came from the registry: `.att` manifests by tag,
    // bundles through the tag-schema index.
    let fetched = w.reg.get_counts();
    for name in ["keyed", "keyless"] {
        let tag = format!("{}.att", w.digests[name].replace(':', "-"));
        assert!(
            fetched.contains_key(&format!("/v2/att/{name}/manifests/{tag}")),
            "{fetched:?}"
        );
    }
    let index = w.digests["bundle"].replace(':', "-");
    assert!(
        fetched.contains_key(&format!("/v2/att/bundle/manifests/{index}")),
        "{fetched:?}"
    );
}

/// Kyverno substitutes the variables of `validate.message`
/// (`getDenyMessage`: `SubstituteAll` over the context holding the named
/// attestations), so the denial reads "the image has 3 critical
/// vulnerabilities".
#[test]
fn deny_messages_substitute_named_attestation_variables() {
    let w = World::build();
    let scan = json!({
        "attestations": [{"type": VULN, "name": "scan", "attestors": [w.keys(&w.signer)]}],
        "validate": {
            "message": "the image has {{ scan.scanner.result.critical }} critical vulnerabilities",
            "deny": {"conditions": {"all": [
                {"key": "{{ scan.scanner.result.critical }}", "operator": "NotEquals", "value": 0}
            ]}},
        },
    });
    let cases = [case(
        "scan-message",
        "keyed-critical",
        scan,
        denied(&["validation in verifyImages failed: the image has 3 critical vulnerabilities"]),
    )];
    let (policies, resources) = write_inputs(&w, "deny-message", &cases);
    let wrong = through_apply(&w, &policies, &resources, &cases);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// ------------------------------------------------- image policies (CEL)

/// An ImageValidatingPolicy named `name` for the Pod of that name: the
/// image's SLSA provenance, signed by `attestor`, names the GitHub runner.
fn image_policy(name: &str, attestor: Value) -> Value {
    json!({
        "apiVersion": "policies.kyverno.io/v1", "kind": "ImageValidatingPolicy",
        "metadata": {"name": name},
        "spec": {
            "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                "operations": ["CREATE"], "resources": ["pods"]}]},
            "matchConditions": [{"name": "this-pod", "expression": format!("object.metadata.name == '{name}'")}],
            "matchImageReferences": [{"glob": "127.0.0.1:*"}],
            "attestors": [{"name": "signer", "cosign": attestor}],
            "attestations": [{"name": "provenance", "intoto": {"type": SLSA}}],
            "validations": [
                {"expression": "images.containers.all(i, verifyAttestationSignatures(i, attestations.provenance, [attestors.signer]) == 1)",
                 "message": "no provenance signed by the attestor"},
                {"expression": format!("images.containers.all(i, extractPayload(i, attestations.provenance).predicate.runDetails.builder.id == '{GITHUB_BUILDER}')"),
                 "message": "not built by the GitHub runner"},
            ],
        },
    })
}

/// Fresh keyed and keyless attestations in the registry, decided by image
/// policies through `imgverify apply` and the `serve` webhook (/validate).
#[test]
fn image_policies_verify_fresh_attestations_through_apply_and_serve() {
    let w = World::build();
    let keyed = json!({"key": {"data": public_pem(&w.signer)},
        "ctlog": {"url": "https://rekor.keyed.test", "rekorPubKey": public_pem(&w.log)}});
    let stranger = key("a key nobody signed with");
    let wrong_key = json!({"key": {"data": public_pem(&stranger)},
        "ctlog": {"url": "https://rekor.keyed.test", "rekorPubKey": public_pem(&w.log)}});
    let keyless = |subject: &str| json!({"keyless": {"identities": [{"subject": subject, "issuer": ISSUER}]}});
    let no_provenance = "no provenance signed by the attestor";
    let cases: Vec<(&str, &'static str, Value, Option<&str>)> = vec![
        ("ivpol-keyed", "keyed", keyed.clone(), None),
        (
            "ivpol-keyed-wrong-key",
            "keyed",
            wrong_key,
            Some(no_provenance),
        ),
        ("ivpol-keyless", "keyless", keyless(SUBJECT), None),
        (
            "ivpol-keyless-regexp",
            "keyless",
            json!({"keyless": {"identities": [{"subjectRegExp": "^https://github\\.com/acme/", "issuer": ISSUER}]}}),
            None,
        ),
        (
            "ivpol-keyless-other",
            "keyless",
            keyless("https://github.com/other/repo/.github/workflows/x.yml@refs/heads/main"),
            Some(no_provenance),
        ),
        // Sigstore bundle referrers: a cosign attestor detects them.
        ("ivpol-bundle", "bundle", keyless(SUBJECT), None),
        ("ivpol-copied-att", "copied-att", keyed, Some(no_provenance)),
        (
            "ivpol-copied-bundle",
            "copied-bundle",
            keyless(SUBJECT),
            Some(no_provenance),
        ),
        (
            "ivpol-tampered",
            "tampered",
            keyless(SUBJECT),
            Some(no_provenance),
        ),
        (
            "ivpol-reformatted",
            "reformatted",
            keyless(SUBJECT),
            Some(no_provenance),
        ),
    ];
    let dir = w.dir.0.join("image-policies");
    let policies = dir.join("policies");
    std::fs::create_dir_all(&policies).unwrap();
    let mut pods = Vec::new();
    for (name, image, attestor, _) in &cases {
        std::fs::write(
            policies.join(format!("{name}.yaml")),
            image_policy(name, attestor.clone()).to_string(),
        )
        .unwrap();
        pods.push(serde_json::to_string(&pod(name, &w.image(image))).unwrap());
    }
    let resources = dir.join("pods.yaml");
    std::fs::write(&resources, pods.join("\n---\n")).unwrap();
    let expect = |name: &str, allowed: bool, message: &str| -> Option<String> {
        let (_, _, _, denial) = cases.iter().find(|c| c.0 == name).unwrap();
        match denial {
            None if allowed => None,
            None => Some(format!("{name}: denied: {message}")),
            Some(_) if allowed => Some(format!("{name}: allowed, expected a denial")),
            Some(reason) => (message != format!("Policy {name} failed: {reason}"))
                .then(|| format!("{name}: denied for another reason: {message}")),
        }
    };
    let mut wrong = Vec::new();
    // apply
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_imgverify"))
        .arg("apply")
        .arg(&policies)
        .arg("-r")
        .arg(&resources)
        .arg("--trusted-root")
        .arg(&w.trusted_root)
        .args(["-o", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    for r in v["resources"].as_array().unwrap() {
        let name = r["name"].as_str().unwrap();
        let results = r["results"].as_array().unwrap();
        assert_eq!(results.len(), 1, "only the Pod's own policy applies: {r}");
        assert_eq!(results[0]["source"], "KyvernoImageValidatingPolicy", "{r}");
        let allowed = r["allowed"].as_bool().unwrap();
        let message = format!(
            "Policy {name} failed: {}",
            results[0]["message"].as_str().unwrap()
        );
        if let Some(p) = expect(name, allowed, if allowed { "" } else { &message }) {
            wrong.push(format!("apply: {p}"));
        }
    }
    // serve
    let trusted_root = w.trusted_root.display().to_string();
    w.rt.block_on(async {
        let s =
            support::webhook::start_with(vec![policies.display().to_string()], (&[], None), |a| {
                imgverify_host::serve::ServeArgs {
                    trusted_root: Some(trusted_root),
                    ..a
                }
            })
            .await;
        for (i, (name, image, _, _)) in cases.iter().enumerate() {
            let uid = format!("uid-{i}");
            let r = s
                .review("/validate", &uid, pod(name, &w.image(image)))
                .await;
            let resp = &r["response"];
            let message = resp["status"]["message"].as_str().unwrap_or("");
            if let Some(p) = expect(name, resp["allowed"].as_bool().unwrap(), message) {
                wrong.push(format!("serve: {p}"));
            }
        }
        s.stop().await;
    });
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // An attestor's own trusted root (`trustedRoot.value`) stands in for the
    // engine's: without `--trusted-root`, the mock Fulcio is trusted by that
    // attestor only.
    let root = std::fs::read_to_string(&w.trusted_root).unwrap();
    let own_root = dir.join("own-root");
    std::fs::create_dir_all(&own_root).unwrap();
    let run = |attestor: Value| {
        std::fs::write(
            own_root.join("policy.yaml"),
            image_policy("ivpol-own-root", attestor).to_string(),
        )
        .unwrap();
        std::fs::write(
            own_root.join("pod.yaml"),
            pod("ivpol-own-root", &w.image("keyless")).to_string(),
        )
        .unwrap();
        std::process::Command::new(env!("CARGO_BIN_EXE_imgverify"))
            .arg("apply")
            .arg(own_root.join("policy.yaml"))
            .arg("-r")
            .arg(own_root.join("pod.yaml"))
            .output()
            .unwrap()
    };
    let identity = json!([{"subject": SUBJECT, "issuer": ISSUER}]);
    let out = run(json!({"keyless": {"identities": identity}, "trustedRoot": {"value": root}}));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Beside it, in the same admission, the same identity under the
    // engine's root: the first attestor's checks are not taken for it.
    let mut engine_root = image_policy(
        "ivpol-own-root",
        json!({"keyless": {"identities": identity}}),
    );
    engine_root["metadata"]["name"] = json!("ivpol-engine-root");
    std::fs::write(own_root.join("engine-root.yaml"), engine_root.to_string()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_imgverify"))
        .arg("apply")
        .arg(&own_root)
        .arg("-r")
        .arg(own_root.join("pod.yaml"))
        .args(["-o", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = v["resources"][0]["results"].as_array().unwrap().clone();
    let result_of = |policy: &str| {
        results
            .iter()
            .find(|r| r["policy"] == policy)
            .map(|r| r["result"].as_str().unwrap().to_string())
    };
    assert_eq!(
        result_of("ivpol-own-root").as_deref(),
        Some("pass"),
        "{results:?}"
    );
    assert_eq!(
        result_of("ivpol-engine-root").as_deref(),
        Some("fail"),
        "{results:?}"
    );
    std::fs::remove_file(own_root.join("engine-root.yaml")).unwrap();
    let out = run(json!({"keyless": {"identities": identity}}));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(no_provenance),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Written as an expression, the root is read per request: here from the
    // Pod (a test stand-in for a ConfigMap read with `resource.get`).
    let with_root = |root: &str| {
        let mut p = pod("ivpol-own-root", &w.image("keyless"));
        p["metadata"]["annotations"] = json!({"trusted-root": root});
        std::fs::write(own_root.join("pod.yaml"), p.to_string()).unwrap();
        std::fs::write(
            own_root.join("policy.yaml"),
            image_policy(
                "ivpol-own-root",
                json!({"keyless": {"identities": identity},
                       "trustedRoot": {"expression": "object.metadata.annotations['trusted-root']"}}),
            )
            .to_string(),
        )
        .unwrap();
        std::process::Command::new(env!("CARGO_BIN_EXE_imgverify"))
            .arg("apply")
            .arg(own_root.join("policy.yaml"))
            .arg("-r")
            .arg(own_root.join("pod.yaml"))
            .args(["--format", "table"])
            .output()
            .unwrap()
    };
    let out = with_root(&root);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = with_root("{\"tlogs\": 1}");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("attestor signer: trustedRoot:"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A constant expression is folded when the policy loads.
    let out = run(json!({"keyless": {"identities": identity},
                         "trustedRoot": {"expression": format!("'{}'", root.replace('\'', "\\'"))}}));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(
        json!({"keyless": {"identities": identity}, "trustedRoot": {"value": "{\"tlogs\": 1}"}}),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("spec.attestors[0].cosign.trustedRoot.value"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
