//! Policy compilation: Kyverno's validation errors (naming document, field
//! path and problem), lints, defaults, autogen and unsupported rule types.

use imgverify::Engine;
use imgverify::policy::compiled::RuleBody;

fn policy(entry: &str) -> String {
    format!(
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: p\nspec:\n  rules:\n  - name: r\n    match:\n      any:\n      - resources:\n          kinds: [Pod]\n    verifyImages:\n    - {entry}\n"
    )
}

fn error_of(entry: &str) -> String {
    Engine::compile("t.yaml", &policy(entry))
        .expect_err("must not compile")
        .to_string()
}

#[test]
fn validation_errors_name_document_path_and_problem() {
    let e =
        error_of("failureAction: Enforce\n      attestors: [{entries: [{keys: {publicKeys: x}}]}]");
    assert!(e.contains("t.yaml#0 ClusterPolicy/p: spec.rules[0].verifyImages[0].imageReferences: An image reference is required"), "{e}");
    let e = error_of(
        "failureAction: Enforce\n      imageReferences: ['*']\n      attestors: [{count: 2, entries: [{keyless: {roots: x}}]}]",
    );
    assert!(e.contains("spec.rules[0].verifyImages[0].attestors[0].count: Count cannot exceed length of entries"), "{e}");
    let e = error_of(
        "failureAction: Enforce\n      imageReferences: ['*']\n      attestors: [{entries: [{}]}]",
    );
    assert!(
        e.contains("keys, certificates, keyless, or a nested attestor is required"),
        "{e}"
    );
    let e = error_of(
        "failureAction: Enforce\n      imageReferences: ['*']\n      attestors: [{entries: []}]",
    );
    assert!(
        e.contains("attestors[0].entries: An entry is required"),
        "{e}"
    );
    let e =
        error_of("imageReferences: ['*']\n      attestors: [{entries: [{keyless: {roots: x}}]}]");
    assert!(
        e.contains("mutateDigest must be set to false for ‘Audit’ failure action"),
        "{e}"
    );
    let e = error_of("failureAction: Enforce\n      imageReferences: ['{{ request.object.x }}']");
    assert!(
        e.contains("variables are not allowed in image reference"),
        "{e}"
    );
    let e = error_of(
        "failureAction: Enforce\n      imageReferences: ['*']\n      attestors: [{entries: [{keys: {publicKeys: '-----BEGIN PUBLIC KEY-----', signatureAlgorithm: md5}}]}]",
    );
    assert!(
        e.contains("keys.signatureAlgorithm: Invalid signature algorithm provided"),
        "{e}"
    );
    let e = error_of(
        "failureAction: Enforce\n      imageReferences: ['*']\n      attestors: [{entries: [{keys: {}}]}]",
    );
    assert!(
        e.contains("A public key, kms key or secret is required"),
        "{e}"
    );
    let e = error_of(
        "failureAction: Enforce\n      imageReferences: ['*']\n      attestors: [{entries: [{keyless: {subject: x}}]}]",
    );
    assert!(e.contains("Either Rekor URL or roots are required"), "{e}");
    let e = error_of(
        "failureAction: Enforce\n      type: Notary\n      imageReferences: ['*']\n      attestors: [{entries: [{keyless: {roots: x}}]}]",
    );
    assert!(
        e.contains("Keyless field is not allowed for type notary"),
        "{e}"
    );
}

#[test]
fn entry_without_checks_compiles_with_a_lint() {
    let e = Engine::compile(
        "t.yaml",
        &policy("failureAction: Enforce\n      imageReferences: ['ghcr.io/*']"),
    )
    .expect("compiles");
    assert!(
        e.lints()
            .iter()
            .any(|l| l.message.contains("verifies nothing")),
        "{:?}",
        e.lints()
    );
}

#[test]
fn defaults_and_autogen() {
    let e = Engine::compile(
        "t.yaml",
        &policy("failureAction: Enforce\n      imageReferences: ['*']"),
    )
    .expect("compiles");
    let p = &e.policies()[0];
    let names: Vec<&str> = p.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["r", "autogen-r", "autogen-cronjob-r"]);
    let RuleBody::VerifyImages(v) = &p.rules[0].body else {
        panic!("verifyImages")
    };
    assert!(v[0].mutate_digest && v[0].verify_digest && v[0].required && v[0].use_cache);
    let kinds = p.rules[1].match_resources.any.as_ref().unwrap()[0]
        .resources
        .as_ref()
        .unwrap()
        .kinds
        .clone()
        .unwrap();
    assert_eq!(
        kinds,
        [
            "DaemonSet",
            "Deployment",
            "Job",
            "ReplicaSet",
            "ReplicationController",
            "StatefulSet"
        ]
    );
}

#[test]
fn other_rule_types_are_kept_as_unsupported() {
    let text = "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\nspec:\n  rules:\n  - name: v\n    match: {any: [{resources: {kinds: [Pod]}}]}\n    validate: {message: x, pattern: {}}\n";
    let e = Engine::compile("t.yaml", text).expect("compiles");
    assert!(matches!(
        e.policies()[0].rules[0].body,
        RuleBody::Other("validate")
    ));
}

#[test]
fn lints_for_what_silently_does_nothing() {
    let lints = |text: &str| -> Vec<String> {
        Engine::compile("l.yaml", text)
            .unwrap()
            .lints()
            .iter()
            .map(|l| format!("{}: {}", l.path, l.message))
            .collect()
    };
    let base = "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\nspec:\n  rules:\n  - name: r\n    match: {any: [{resources: {kinds: [Pod]}}]}\n";
    let l = lints(&format!("{base}    verifyImages: []\n"));
    assert!(
        l.iter().any(|l| l
            == "spec.rules[0].verifyImages: verifyImages is empty: this rule verifies nothing"),
        "{l:?}"
    );
    let l = lints(&format!(
        "{base}    exclude: {{any: [{{}}]}}\n    verifyImages: [{{imageReferences: ['INDEX.docker.io/acme/*'], mutateDigest: false}}]\n"
    ));
    assert!(
        l.iter().any(|l| l
            .starts_with("spec.rules[0].exclude.any[0]: empty exclude filter excludes nothing")),
        "{l:?}"
    );
    assert!(
        l.iter()
            .any(|l| l.contains("\"INDEX.docker.io/acme/*\" is matched as \"docker.io/acme/*\"")),
        "{l:?}"
    );
    assert!(
        l.iter()
            .any(|l| l.contains("verifies nothing: matching images only get digest checks")),
        "{l:?}"
    );
    let l = lints(&base.replace("kyverno.io/v1", "kyverno.io/v3"));
    assert!(
        l.iter()
            .any(|l| l.contains("unknown apiVersion \"kyverno.io/v3\" for ClusterPolicy")),
        "{l:?}"
    );
    // Kyverno's validation: a match filter needs resources.
    let e = Engine::compile(
        "m.yaml",
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\nspec:\n  rules:\n  - name: r\n    match: {any: [{subjects: [{kind: User, name: a}]}]}\n    verifyImages: [{imageReferences: ['*'], mutateDigest: false}]\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("spec.rules[0].match.any[0].resources: match resources not specified"),
        "{e}"
    );
}
