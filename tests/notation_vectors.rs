//! Every case of `../shared/vectors/notation-go/cases.json` (37 cases from
//! notaryproject/notation-go's own tests) through `notary::verify`, at every
//! verification level a case names: positives pass, and each negative fails
//! at the step and with the message notation-go gives.

use std::path::{Path, PathBuf};

use imgverify::notary::trust::{StoreType, TrustPolicy, TrustStores};
use imgverify::notary::verify::{Target, check_authentic_timestamp, verify_envelope};
use imgverify::notary::{EnvelopeFormat, NotaryError};
use serde_json::Value;

/// 2026-12-01T00:00:00Z: inside every positive vector's validity.
const NOW: i64 = 1_796_083_200;

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors")
}

fn read(rel: &str) -> Vec<u8> {
    let p = vectors().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Loads `root/<type>/<name>/*` as notation-go's file trust store does:
/// every regular file of each named store the policy uses.
fn load_stores(root: &str, policy: &TrustPolicy) -> TrustStores {
    let mut stores = TrustStores::new();
    for (kind, name) in &policy.trust_stores {
        let dir = match kind {
            StoreType::Ca => "ca",
            StoreType::SigningAuthority => "signingAuthority",
            StoreType::Tsa => "tsa",
        };
        let path = vectors().join(root).join(dir).join(name);
        let Ok(entries) = std::fs::read_dir(&path) else {
            continue;
        };
        let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files.into_iter().filter(|f| f.is_file()) {
            let bytes = std::fs::read(&f).unwrap();
            let file_name = f.file_name().unwrap().to_string_lossy().to_string();
            stores
                .add_file(*kind, name, &file_name, &bytes)
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        }
    }
    stores
}

fn target(case: &Value) -> Target {
    let desc = match &case["target"] {
        Value::String(s) => {
            let (file, path) = s.split_once('#').unwrap();
            let doc: Value = serde_json::from_slice(&read(file)).unwrap();
            path.split('.').fold(doc, |v, k| v[k].clone())
        }
        v => v.clone(),
    };
    Target {
        media_type: desc["mediaType"].as_str().unwrap().to_string(),
        digest: desc["digest"].as_str().unwrap().to_string(),
        size: desc["size"].as_u64().unwrap(),
    }
}

fn envelope_bytes(case: &Value) -> Vec<u8> {
    let mut bytes = read(case["envelope"].as_str().unwrap());
    if let Some(token) = case["countersignature"].as_str() {
        // Inject the token as the JWS envelope's timestamp countersignature.
        use base64::Engine as _;
        let mut env: Value = serde_json::from_slice(&bytes).unwrap();
        env["header"]["io.cncf.notary.timestampSignature"] =
            Value::String(base64::engine::general_purpose::STANDARD.encode(read(token)));
        bytes = serde_json::to_vec(&env).unwrap();
    }
    bytes
}

fn policy_at(case: &Value, level: Option<&str>) -> TrustPolicy {
    let mut json = case["trust_policy"].clone();
    if let Some(level) = level {
        json["signatureVerification"]["level"] = Value::String(level.into());
    }
    TrustPolicy::from_json(&json).unwrap_or_else(|e| panic!("{}: {e}", case["case"]))
}

/// The stores for a case: the upstream tree, or one store holding the
/// case's own trust anchor.
fn stores_for(case: &Value, policy: &TrustPolicy) -> TrustStores {
    if let Some(anchor) = case["trust_anchor"].as_str() {
        let mut stores = TrustStores::new();
        for (kind, name) in &policy.trust_stores {
            stores.add_file(*kind, name, anchor, &read(anchor)).unwrap();
        }
        return stores;
    }
    let root = case["trust_store_root"]
        .as_str()
        .unwrap_or("notation-go/verifier/testdata/truststore/x509");
    load_stores(root, policy)
}

fn run(
    case: &Value,
    level: Option<&str>,
    metadata: &[(String, String)],
) -> Result<Vec<NotaryError>, NotaryError> {
    let policy = policy_at(case, level);
    let stores = stores_for(case, &policy);
    let format =
        EnvelopeFormat::from_media_type(case["envelope_media_type"].as_str().unwrap()).unwrap();
    if case.get("target").is_none() {
        // The timestamp vectors (no target): upstream checks the authentic
        // timestamp step alone, their signers being in no trust store.
        let env = imgverify::notary::Envelope::parse(format, &envelope_bytes(case))?;
        return check_authentic_timestamp(&env, &policy, &stores, NOW).map(|_| Vec::new());
    }
    verify_envelope(
        format,
        &envelope_bytes(case),
        &target(case),
        &policy,
        &stores,
        metadata,
        NOW,
    )
    .map(|v| v.logged)
}

fn failure_kind(e: &NotaryError) -> &'static str {
    match e {
        NotaryError::Envelope(_) | NotaryError::Header(_) | NotaryError::Integrity(_) => {
            "integrity"
        }
        NotaryError::Authenticity(_) => "authenticity",
        NotaryError::Expiry(_) => "expiry",
        NotaryError::AuthenticTimestamp(_) => "authenticTimestamp",
        NotaryError::Unsupported(_) => "unsupported",
        NotaryError::Target(_) => "target",
        NotaryError::Policy(_) => "policy",
    }
}

fn check_failure(case: &Value, err: &NotaryError) {
    let name = case["case"].as_str().unwrap();
    if let Some(kind) = case["failure"].as_str() {
        assert_eq!(failure_kind(err), kind, "{name}: {err}");
    }
    if let Some(expected) = case["expected_error"].as_str() {
        // Where the vector quotes a message, ours says the same (a long
        // quoted message may be cut short with "…" in the vector).
        let expected = expected.split('…').next().unwrap_or(expected);
        let expected = expected.split("...").next().unwrap_or(expected).trim_end();
        if let Some(token) = case["countersignature"].as_str()
            && !err.to_string().contains(expected)
        {
            // Upstream checks this token over the bytes "notation" (its
            // imprint), not over the envelope's signature, where it fails
            // earlier ("mismatched message"): check both.
            assert!(
                matches!(err, NotaryError::AuthenticTimestamp(m) if m.contains("mismatched message")),
                "{name}: {err}"
            );
            let roots = imgverify::notary::trust::read_certificate_file(&read(
                "notation-go/verifier/testdata/truststore/x509/tsa/test-timestamp/globalsignRoot.cer",
            ))
            .unwrap();
            let e = imgverify::notary::timestamp::verify(
                &read(token),
                b"notation",
                imgverify::crypto::HashAlgorithm::Sha256,
                &roots,
            )
            .map(|_| ())
            .expect_err(name);
            assert!(
                e.to_string().contains(expected),
                "{name}:\n  got      {e}\n  expected {expected}"
            );
            return;
        }
        assert!(
            err.to_string().contains(expected),
            "{name}:\n  got      {err}\n  expected {expected}"
        );
    }
}

#[test]
fn every_notation_go_case_holds() {
    let cases: Vec<Value> = serde_json::from_slice(&read("notation-go/cases.json")).unwrap();
    assert_eq!(cases.len(), 37);
    let (mut passed, mut failed_as_expected, mut checks) = (0, 0, 0);
    for case in &cases {
        let name = case["case"].as_str().unwrap();
        if let Some(checks_list) = case["user_metadata_checks"].as_array() {
            for c in checks_list {
                let md: Vec<(String, String)> = c["metadata"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                    .collect();
                let r = run(case, None, &md);
                match c["expect"].as_str().unwrap() {
                    "pass" => {
                        let logged = r.unwrap_or_else(|e| panic!("{name} {md:?}: {e}"));
                        // Audit level: the expired, untrusted signer is only logged.
                        assert!(
                            !logged.is_empty(),
                            "{name}: audit logs the untrusted signer"
                        );
                    }
                    _ => assert!(
                        matches!(&r, Err(NotaryError::Target(m)) if m.contains("unable to find specified metadata")),
                        "{name} {md:?}: {r:?}"
                    ),
                }
                checks += 1;
            }
            continue;
        }
        let expect = case["expect"].as_str().unwrap();
        match &case["levels"] {
            Value::Array(levels) => {
                for level in levels {
                    let r = run(case, level.as_str(), &[]);
                    match expect {
                        "pass" => {
                            let logged = r.unwrap_or_else(|e| panic!("{name} at {level}: {e}"));
                            assert!(logged.is_empty(), "{name} at {level}: {logged:?}");
                        }
                        _ => check_failure(case, &r.expect_err(name)),
                    }
                    checks += 1;
                }
            }
            Value::Object(levels) => {
                for (level, outcome) in levels {
                    let r = run(case, Some(level), &[]);
                    if outcome.as_str().unwrap().starts_with("pass") {
                        let logged = r.unwrap_or_else(|e| panic!("{name} at {level}: {e}"));
                        assert_eq!(logged.len(), 1, "{name} at {level}: one logged failure");
                        check_failure(case, &logged[0]);
                    } else {
                        check_failure(case, &r.expect_err(name));
                    }
                    checks += 1;
                }
            }
            _ => {
                let r = run(case, None, &[]);
                match expect {
                    "pass" => {
                        let logged = r.unwrap_or_else(|e| panic!("{name}: {e}"));
                        assert!(logged.is_empty(), "{name}: {logged:?}");
                    }
                    _ => {
                        let e = r.expect_err(name);
                        if case["expected_error"].is_null() && case["failure"].is_null() {
                            // Plugin-bearing envelopes: imgverify runs no plugins.
                            assert!(matches!(e, NotaryError::Unsupported(_)), "{name}: {e}");
                        }
                        check_failure(case, &e);
                    }
                }
                checks += 1;
            }
        }
        if expect == "pass" {
            passed += 1;
        } else {
            failed_as_expected += 1;
        }
    }
    println!(
        "notation-go: {} cases ({passed} positive, {failed_as_expected} negative, 1 with metadata checks), {checks} checks",
        cases.len()
    );
}
