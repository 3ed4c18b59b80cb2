//! Fresh keyless signatures, minted for each run by sigstore-js's mock
//! Fulcio (embedded SCTs from a mock CT log), Rekor (SETs, inclusion proofs,
//! checkpoints) and RFC 3161 TSA (`tests/mock-sigstore/mint.mjs`), pushed to
//! a real `docker-registry` as cosign `.sig` layers and as cosign 3 Sigstore
//! bundles (found through the referrers tag schema: the registry has no
//! referrers API), and decided under Kyverno policies with the mocks'
//! trusted root. Every failure is asserted for its reason.

mod support;

use imgverify::engine::EngineOptions;
use imgverify_host::cache::CachingSource;
use imgverify_host::metrics::Metrics;
use imgverify_host::registry::RegistryClient;
use imgverify_host::registry::config::RegistryConfig;
use imgverify_host::runner::decide_native;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use support::{Auth, TestRegistry};

const SUBJECT: &str = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
const OID_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
const OID_SOURCE_REPOSITORY: &str = "1.3.6.1.4.1.57264.1.12";
const IN_TOTO: &str = "application/vnd.in-toto+json";

fn b64(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

use support::mint::mint;

/// One signed image to make: which authorities sign it, and how.
struct Case {
    name: &'static str,
    ca: &'static str,
    tlog: Option<&'static str>,
    tsa: Option<&'static str>,
    /// A Sigstore bundle (DSSE) with this payload type instead of a `.sig` layer.
    bundle: Option<&'static str>,
}

const fn sig(name: &'static str, ca: &'static str, tlog: Option<&'static str>) -> Case {
    Case {
        name,
        ca,
        tlog,
        tsa: None,
        bundle: None,
    }
}

const CASES: &[Case] = &[
    sig("good", "fulcio", Some("rekor")),
    sig("other-good", "fulcio", Some("rekor")),
    // A CA with the same distinguished name as the trusted one, another key.
    sig("same-dn-ca", "impostor", Some("rekor")),
    // The trusted CA's key, its SCTs from a CT log the root does not list.
    sig("unknown-ct-log", "rogue-ct", Some("rekor")),
    sig("unknown-rekor", "fulcio", Some("rekor2")),
    // Its SET's integrated time moved by a second.
    sig("altered-set", "fulcio", Some("rekor")),
    // The valid SET of `other-good`'s entry.
    sig("swapped-set", "fulcio", Some("rekor")),
    // A certificate issued an hour ago: expired when logged now.
    sig("expired-at-integration", "past", Some("rekor")),
    sig("expired-no-tlog", "past", None),
    Case {
        name: "timestamped",
        ca: "fulcio",
        tlog: None,
        tsa: Some("tsa"),
        bundle: None,
    },
    Case {
        name: "bundle",
        ca: "fulcio",
        tlog: Some("rekor"),
        tsa: None,
        bundle: Some(IN_TOTO),
    },
    Case {
        name: "bundle-broken-proof",
        ca: "fulcio",
        tlog: Some("rekor"),
        tsa: None,
        bundle: Some(IN_TOTO),
    },
    Case {
        name: "bundle-wrong-type",
        ca: "fulcio",
        tlog: Some("rekor"),
        tsa: None,
        bundle: Some("text/plain"),
    },
];

/// The registry with every case pushed, the minted material, and a source.
struct World {
    _reg: TestRegistry,
    host: String,
    rt: tokio::runtime::Runtime,
    source: Arc<CachingSource>,
    minted: Value,
    digests: BTreeMap<&'static str, String>,
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
        // Images first: their digests go into what is signed.
        let mut digests = BTreeMap::new();
        for c in CASES {
            let d = rt.block_on(push_image(&reg, &client, &repo(c.name)));
            digests.insert(c.name, d);
        }
        let signatures: Vec<Value> = CASES
            .iter()
            .map(|c| {
                let digest = &digests[c.name];
                let mut s = json!({
                    "ca": c.ca, "tlog": c.tlog, "tsa": c.tsa, "san": SUBJECT,
                    "extensions": [
                        {"oid": OID_ISSUER_V2, "value": ISSUER},
                        {"oid": OID_SOURCE_REPOSITORY, "value": "https://github.com/acme/app"},
                    ],
                });
                match c.bundle {
                    None => s["payload"] = b64(&simple_signing(&host, c.name, digest)).into(),
                    Some(t) => {
                        s["statement"] = b64(&statement(digest)).into();
                        s["payloadType"] = t.into();
                    }
                }
                s
            })
            .collect();
        let minted = mint(&json!({
            "cas": {
                "fulcio": {"ctlog": "ct"}, "impostor": {"ctlog": "ct"},
                "rogue-ct": {"ctlog": "ct2", "sameKeyAs": "fulcio"}, "past": {"ctlog": "ct", "clockOffsetSeconds": -3600},
            },
            "ctlogs": ["ct", "ct2"], "tlogs": ["rekor", "rekor2"], "tsas": ["tsa"],
            "trustedRoot": {"ca": "fulcio", "ctlog": "ct", "tlog": "rekor", "tsa": "tsa"},
            "signatures": signatures,
        }));
        let mut minted_sigs: Vec<Value> = minted["signatures"].as_array().unwrap().clone();
        // Attacks on what the mocks made.
        let index = |n: &str| CASES.iter().position(|c| c.name == n).unwrap();
        let broken = &mut minted_sigs[index("bundle-broken-proof")]["bundle"]["verificationMaterial"]
            ["tlogEntries"][0]["inclusionProof"];
        broken["hashes"] = json!([b64(&[7u8; 32])]);
        const REKOR_BUNDLE: &str = "dev.sigstore.cosign/bundle";
        let altered = &mut minted_sigs[index("altered-set")]["annotations"][REKOR_BUNDLE];
        let mut set: Value = serde_json::from_str(altered.as_str().unwrap()).unwrap();
        set["Payload"]["integratedTime"] =
            json!(set["Payload"]["integratedTime"].as_i64().unwrap() + 1);
        *altered = set.to_string().into();
        let other = minted_sigs[index("other-good")]["annotations"][REKOR_BUNDLE].clone();
        minted_sigs[index("swapped-set")]["annotations"][REKOR_BUNDLE] = other;
        // `timestamped`'s timestamp, copied onto another signature.
        const TIMESTAMP: &str = "dev.sigstore.cosign/rfc3161timestamp";
        let stolen = minted_sigs[index("timestamped")]["annotations"][TIMESTAMP].clone();
        minted_sigs[index("other-good")]["annotations"][TIMESTAMP] = stolen;
        for c in CASES {
            let m = &minted_sigs[index(c.name)];
            let digest = &digests[c.name];
            match c.bundle {
                None => {
                    let annotations: BTreeMap<String, String> =
                        serde_json::from_value(m["annotations"].clone()).unwrap();
                    let payload = simple_signing(&host, c.name, digest);
                    rt.block_on(push_sig(
                        &reg,
                        &client,
                        &repo(c.name),
                        digest,
                        &payload,
                        &annotations,
                    ));
                }
                Some(_) => rt.block_on(push_bundle(
                    &reg,
                    &client,
                    &repo(c.name),
                    digest,
                    &m["bundle"],
                )),
            }
        }
        let metrics = Metrics::new();
        let config = RegistryConfig::default();
        let client = Arc::new(RegistryClient::new(config.clone(), metrics.clone()).unwrap());
        let source = Arc::new(
            CachingSource::new(client, &config.cache, metrics, rt.handle().clone()).unwrap(),
        );
        let mut minted = minted;
        minted["signatures"] = Value::Array(minted_sigs);
        World {
            _reg: reg,
            host,
            rt,
            source,
            minted,
            digests,
        }
    }

    fn trusted_root(&self) -> String {
        self.minted["trustedRoot"].to_string()
    }

    fn pem(&self, group: &str, name: &str) -> String {
        self.minted[group][name].as_str().unwrap().to_string()
    }

    /// Decides a Pod running case `name`'s image by digest under an entry
    /// of `type` with `attestor`, at `now` (unix seconds, default: now).
    fn decide(
        &self,
        name: &str,
        verifier: &str,
        attestor: Value,
        trusted_root: Option<String>,
        now: Option<i64>,
    ) -> (bool, String) {
        let policy = json!({
            "apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": "p"},
            "spec": {"rules": [{"name": "check",
                "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
                "verifyImages": [{"type": verifier, "failureAction": "Enforce",
                    "imageReferences": ["127.0.0.1:*"], "attestors": [{"entries": [attestor]}]}]}]},
        })
        .to_string();
        let options = EngineOptions {
            trusted_root,
            ..Default::default()
        };
        let engine =
            Arc::new(imgverify::Engine::compile_with(&[("p.yaml", &policy)], &options).unwrap());
        let now = now.unwrap_or_else(|| time::OffsetDateTime::now_utc().unix_timestamp());
        let now = time::OffsetDateTime::from_unix_timestamp(now)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let image = format!("{}/{}@{}", self.host, repo(name), self.digests[name]);
        let request = json!({"now": now, "object": {
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "app", "image": image}]}}});
        let _guard = self.rt.enter();
        let d = decide_native(
            &engine,
            request.to_string().as_bytes(),
            self.source.as_ref(),
        )
        .unwrap();
        (
            d.allowed,
            d.results
                .iter()
                .map(|r| r.message.clone())
                .collect::<Vec<_>>()
                .join("; "),
        )
    }
}

fn repo(name: &str) -> String {
    format!("keyless/{name}")
}

fn simple_signing(host: &str, name: &str, digest: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "critical": {"identity": {"docker-reference": format!("{host}/{}", repo(name))},
            "image": {"docker-manifest-digest": digest}, "type": "cosign container image signature"},
        "optional": null,
    }))
    .unwrap()
}

fn statement(digest: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "image", "digest": {"sha256": digest.trim_start_matches("sha256:")}}],
        "predicateType": "https://sigstore.dev/cosign/sign/v1", "predicate": {},
    }))
    .unwrap()
}

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

async fn push_sig(
    reg: &TestRegistry,
    client: &reqwest::Client,
    repo: &str,
    digest: &str,
    payload: &[u8],
    annotations: &BTreeMap<String, String>,
) {
    let cd = reg.push_blob(client, repo, b"{}").await;
    let pd = reg.push_blob(client, repo, payload).await;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": 2},
        "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "digest": pd,
            "size": payload.len(), "annotations": annotations}],
    }))
    .unwrap();
    let tag = format!("{}.sig", digest.replace(':', "-"));
    reg.push_manifest(client, repo, &tag, &manifest).await;
}

/// A bundle as cosign 3 pushes it: a referrer manifest by digest, listed in
/// the `sha256-<hex>` index with the empty artifact type.
async fn push_bundle(
    reg: &TestRegistry,
    client: &reqwest::Client,
    repo: &str,
    digest: &str,
    bundle: &Value,
) {
    let bundle_type = "application/vnd.dev.sigstore.bundle.v0.3+json";
    let bytes = serde_json::to_vec(bundle).unwrap();
    let bd = reg.push_blob(client, repo, &bytes).await;
    let ed = reg.push_blob(client, repo, b"{}").await;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": bundle_type,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": ed, "size": 2},
        "layers": [{"mediaType": bundle_type, "digest": bd, "size": bytes.len()}],
        "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": 1},
    }))
    .unwrap();
    let md = imgverify::digest::Digest::sha256_of(&manifest).to_string();
    reg.push_manifest(client, repo, &md, &manifest).await;
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md,
            "size": manifest.len(), "artifactType": "application/vnd.oci.empty.v1+json"}],
    }))
    .unwrap();
    reg.push_manifest(client, repo, &digest.replace(':', "-"), &index)
        .await;
}

fn keyless(extra: Value) -> Value {
    let mut k =
        json!({"subject": SUBJECT, "issuer": ISSUER, "rekor": {"url": "https://rekor.mock"}});
    for (key, v) in extra.as_object().unwrap() {
        k[key] = v.clone();
    }
    json!({"keyless": k})
}

fn assert_denied(got: (bool, String), reason: &str) {
    assert!(!got.0, "allowed, expected a denial for {reason:?}");
    assert!(
        got.1.contains(reason),
        "denied for another reason: {}\nexpected: {reason}",
        got.1
    );
}

#[test]
fn fresh_keyless_signatures_from_mock_sigstore() {
    let w = World::build();
    let root = || Some(w.trusted_root());
    let sig = |name: &str, attestor: Value| w.decide(name, "Cosign", attestor, root(), None);

    // The happy path, by wildcard and by regexp, and identity failures.
    let (ok, m) = sig("good", keyless(json!({})));
    assert!(ok, "{m}");
    let regex = json!({"subject": null, "issuer": null,
        "subjectRegExp": "^https://github\\.com/acme/", "issuerRegExp": "^https://token\\.actions\\."});
    let (ok, m) = sig("good", keyless(regex));
    assert!(ok, "{m}");
    // Regexps are unanchored as cosign's: an anchor the SAN does not start with fails.
    assert_denied(
        sig(
            "good",
            keyless(json!({"subject": null, "subjectRegExp": "^acme/app"})),
        ),
        "subject mismatch",
    );
    assert_denied(
        sig(
            "good",
            keyless(json!({"subject": "https://github.com/other/*"})),
        ),
        "subject mismatch",
    );
    assert_denied(
        sig(
            "good",
            keyless(json!({"issuer": "https://accounts.google.com"})),
        ),
        "issuer mismatch",
    );
    assert_denied(
        sig(
            "good",
            keyless(
                json!({"additionalExtensions": {OID_SOURCE_REPOSITORY: "https://github.com/other/app"}}),
            ),
        ),
        "extension mismatch",
    );
    let (ok, m) = sig(
        "good",
        keyless(
            json!({"additionalExtensions": {OID_SOURCE_REPOSITORY: "https://github.com/acme/*"}}),
        ),
    );
    assert!(ok, "{m}");

    // The policy's own PEMs win over the engine's (here public-good) root.
    let own = json!({"roots": w.pem("caRoots", "fulcio"),
        "rekor": {"url": "https://rekor.mock", "pubkey": w.pem("tlogKeys", "rekor")},
        "ctlog": {"pubkey": w.pem("ctlogKeys", "ct")}});
    let (ok, m) = w.decide("good", "Cosign", keyless(own.clone()), None, None);
    assert!(ok, "{m}");
    let impostor_roots = json!({"roots": w.pem("caRoots", "impostor")});
    assert_denied(sig("good", keyless(impostor_roots)), "is not signed by");

    // Trust failures, each for its reason.
    const NOT_SIGNED: &str =
        "certificate O=sigstore.mock,CN=sigstore is not signed by O=sigstore.mock,CN=sigstore";
    assert_denied(sig("same-dn-ca", keyless(json!({}))), NOT_SIGNED);
    assert_denied(sig("unknown-ct-log", keyless(json!({}))), "SCT");
    assert_denied(sig("unknown-rekor", keyless(json!({}))), "Rekor");
    assert_denied(sig("altered-set", keyless(json!({}))), "Rekor");
    assert_denied(sig("swapped-set", keyless(json!({}))), "Rekor");
    assert_denied(
        sig("expired-at-integration", keyless(json!({}))),
        "is not valid at",
    );
    let no_tlog = json!({"rekor": {"url": "https://rekor.mock", "ignoreTlog": true}});
    assert_denied(
        sig("expired-no-tlog", keyless(no_tlog.clone())),
        "is not valid at",
    );
    // Without ignoreTlog, a layer with no Rekor bundle fails.
    assert_denied(sig("expired-no-tlog", keyless(json!({}))), "Rekor");

    // An RFC 3161 timestamp fixes the signing time when the log is ignored:
    // an hour later the certificate has expired, but not at the timestamp.
    let later = Some(time::OffsetDateTime::now_utc().unix_timestamp() + 3600);
    let tsa = json!({"rekor": {"url": "https://rekor.mock", "ignoreTlog": true},
        "ctlog": {"tsaCertChain": w.pem("tsaChains", "tsa")}});
    let (ok, m) = w.decide("timestamped", "Cosign", keyless(tsa.clone()), root(), later);
    assert!(ok, "{m}");
    assert_denied(
        w.decide("timestamped", "Cosign", keyless(no_tlog), root(), later),
        "is not valid at",
    );
    // A timestamp vouches for its own layer's signature only.
    assert_denied(
        w.decide("other-good", "Cosign", keyless(tsa), root(), later),
        "RFC 3161 timestamp: the timestamp is over another signature",
    );

    // Sigstore bundles through the referrers tag schema.
    let bundle =
        |name: &str, attestor: Value| w.decide(name, "SigstoreBundle", attestor, root(), None);
    let (ok, m) = bundle("bundle", keyless(json!({})));
    assert!(ok, "{m}");
    assert_denied(
        bundle(
            "bundle",
            keyless(json!({"subject": "https://github.com/other/*"})),
        ),
        "subject mismatch",
    );
    assert_denied(
        bundle("bundle-broken-proof", keyless(json!({}))),
        "transparency log entry 0",
    );
    assert_denied(
        bundle("bundle-wrong-type", keyless(json!({}))),
        "DSSE payload type",
    );
    // A `.sig` signature is not a bundle, nor a bundle a `.sig` signature.
    assert_denied(
        bundle("good", keyless(json!({}))),
        "no matching signatures found",
    );
    assert_denied(sig("bundle", keyless(json!({}))), "no signatures found");
}
