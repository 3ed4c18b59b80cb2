//! The wasm-bindgen JS API under Node (wasm-bindgen-test-runner).
#![cfg(all(target_arch = "wasm32", feature = "js"))]

use imgverify::abi::js::Engine;
use wasm_bindgen_test::wasm_bindgen_test;

const POLICY: &str = r#"
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: check}
spec:
  rules:
  - name: r
    match: {any: [{resources: {kinds: [Pod]}}]}
    verifyImages:
    - failureAction: Enforce
      imageReferences: ["registry.example.com/*"]
      attestors:
      - entries:
        - keys:
            publicKeys: |-
              -----BEGIN PUBLIC KEY-----
              MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEOwGDdP5LqMp1seJ7jDeIcRTR8W8c
              iT6zGQCXvyVc5AF9D6/S9BMmqzZbEkKmkbF27nhvCw61Bu0LHyLwdHO+Qw==
              -----END PUBLIC KEY-----
            rekor: {ignoreTlog: true}
"#;

const POD: &str = r#"{"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"default"},
"spec":{"containers":[{"name":"c","image":"registry.example.com/demo/unsigned:v1"}]}}}"#;

#[wasm_bindgen_test]
fn protocol_round_trip_in_js() {
    let engine = Engine::new(POLICY, None).expect("compiles");
    let mut session = engine.session(POD).expect("session");
    let first: serde_json::Value = serde_json::from_str(&session.evaluate()).unwrap();
    assert_eq!(first["status"], "need_artifacts");
    let fetch = &first["fetches"][0];
    assert_eq!(fetch["kind"], "manifest_by_tag");
    let key = fetch["key"].as_str().unwrap().to_string();
    assert_eq!(key, "registry.example.com/demo/unsigned:v1");
    session
        .put(
            "manifest_by_tag",
            &key,
            br#"{"schemaVersion":2,"layers":[]}"#,
        )
        .unwrap();
    let second: serde_json::Value = serde_json::from_str(&session.evaluate()).unwrap();
    let sig_key = second["fetches"][0]["key"].as_str().unwrap().to_string();
    assert!(sig_key.ends_with(".sig"), "{sig_key}");
    session
        .put_failure("manifest_by_tag", &sig_key, "not_found", "manifest unknown")
        .unwrap();
    let done: serde_json::Value = serde_json::from_str(&session.evaluate()).unwrap();
    assert_eq!(done["status"], "decision");
    assert_eq!(done["decision"]["allowed"], false);
    let msg = done["decision"]["results"][0]["message"].as_str().unwrap();
    assert!(
        msg.ends_with(".attestors[0].entries[0].keys: no signatures found"),
        "{msg}"
    );
}

#[wasm_bindgen_test]
fn digest_mismatch_is_refused() {
    let engine = Engine::new(POLICY, None).unwrap();
    let mut session = engine.session(POD).unwrap();
    let key = format!(
        "registry.example.com/demo/unsigned@sha256:{}",
        "0".repeat(64)
    );
    assert!(session.put("blob", &key, b"not those bytes").is_err());
}

#[wasm_bindgen_test]
fn policy_errors_name_the_field() {
    let bad = POLICY.replace(
        "imageReferences: [\"registry.example.com/*\"]",
        "imageReferences: []",
    );
    assert!(
        Engine::new(&bad, None).is_err(),
        "an entry without imageReferences must not compile"
    );
}
