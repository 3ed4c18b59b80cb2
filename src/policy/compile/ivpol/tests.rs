use super::*;
use crate::policy::compiled::AttestorKind;
use crate::policy::ivpol::AttestorMaterial;
use crate::policy::load::parse_documents;
use std::path::{Path, PathBuf};

fn compile_text(text: &str) -> Result<CompiledImagePolicy, Vec<String>> {
    let docs = parse_documents("test", text, 1 << 20).map_err(|e| vec![e.to_string()])?;
    compile_document(&docs[0])
        .map(|(p, _)| p)
        .map_err(|errors| {
            errors
                .iter()
                .map(|e| format!("{}: {}", e.path, e.message))
                .collect()
        })
}

const KEY: &str = "-----BEGIN PUBLIC KEY-----
          MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE6QsNef3SKYhJVYSVj+ZfbPwJd0pv
          DLYNHXITZkhIzfE+apcxDjCCkDPcJ3A3zvhPATYOIsCxYPch7Q2JdJLsDQ==
          -----END PUBLIC KEY-----";

fn policy(spec: &str) -> String {
    format!(
        "apiVersion: policies.kyverno.io/v1\nkind: ImageValidatingPolicy\nmetadata:\n  name: p\nspec:\n  attestors:\n  - name: cosign\n    cosign:\n      key:\n        data: |\n          {KEY}\n{spec}"
    )
}

/// A policy with only these attestors.
fn with_attestors(attestors: &str, spec: &str) -> String {
    format!(
        "apiVersion: policies.kyverno.io/v1\nkind: ImageValidatingPolicy\nmetadata:\n  name: p\nspec:\n  attestors:\n{attestors}{spec}"
    )
}

fn errors(spec: &str) -> Vec<String> {
    errors_of(&policy(spec))
}

fn errors_of(text: &str) -> Vec<String> {
    match compile_text(text) {
        Ok(_) => panic!("compiled: {text}"),
        Err(e) => e,
    }
}

#[test]
fn a_policy_compiles_with_kyverno_defaults() {
    let p = compile_text(&policy(
        "  validations:\n  - expression: images.containers.map(i, verifyImageSignatures(i, [attestors.cosign])).all(n, n > 0)\n",
    ))
    .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(p.name, "p");
    assert_eq!(p.kind, ImagePolicyKind::Cluster);
    assert_eq!(
        p.actions,
        ValidationActions {
            deny: true,
            audit: false,
            warn: false
        }
    );
    assert_eq!(p.failure_policy, FailurePolicy::Fail);
    assert_eq!(p.timeout_seconds, 10);
    assert!(p.mutate_digest && p.verify_digest && p.required && p.admission && p.background);
    assert_eq!(p.attestors.len(), 1);
    let AttestorMaterial::Compiled(kinds) = &p.attestors[0].material else {
        panic!("{:?}", p.attestors[0].material)
    };
    assert!(matches!(kinds[..], [AttestorKind::Key(_)]));
}

#[test]
fn expressions_are_checked_when_the_policy_loads() {
    // Not bool: a dyn is not enough (Kyverno checks the exact type).
    let e = errors("  validations:\n  - expression: object.spec.x\n");
    assert!(
        e[0].starts_with("spec.validations[0].expression: output is expected to be of type bool"),
        "{e:?}"
    );
    // Unknown function, with cel-go's message and position.
    let e = errors("  validations:\n  - expression: verifyImage(object) == 1\n");
    assert!(
        e[0].contains("undeclared reference to 'verifyImage'"),
        "{e:?}"
    );
    assert!(e[0].contains("<input>:1:12"), "{e:?}");
    // Wrong argument type.
    let e = errors(
        "  validations:\n  - expression: verifyImageSignatures(1, [attestors.cosign]) > 0\n",
    );
    assert!(
        e[0].contains("found no matching overload for 'verifyImageSignatures'"),
        "{e:?}"
    );
    // An attestor or attestation that is not declared.
    let e = errors(
        "  validations:\n  - expression: verifyImageSignatures('x', [attestors.cosing]) > 0\n",
    );
    assert_eq!(
        e,
        ["spec.validations[0].expression: unknown attestor \"cosing\""]
    );
    let e = errors(
        "  validations:\n  - expression: verifyAttestationSignatures('x', attestations.sbom, [attestors.cosign]) > 0\n",
    );
    assert_eq!(
        e,
        ["spec.validations[0].expression: unknown attestation \"sbom\""]
    );
    // messageExpression must be a string.
    let e = errors("  validations:\n  - expression: 'true'\n    messageExpression: '1'\n");
    assert!(
        e[0].starts_with(
            "spec.validations[0].messageExpression: output is expected to be of type string"
        ),
        "{e:?}"
    );
    // Extractors yield lists of strings.
    let e = errors(
        "  images:\n  - name: x\n    expression: '[1]'\n  validations:\n  - expression: 'true'\n",
    );
    assert!(
        e[0].starts_with(
            "spec.images[0].expression: output is expected to be of type list(string)"
        ),
        "{e:?}"
    );
    // matchImageReferences expressions see only `ref`.
    let e = errors(
        "  matchImageReferences:\n  - expression: object != null\n  validations:\n  - expression: 'true'\n",
    );
    assert!(e[0].contains("undeclared reference to 'object'"), "{e:?}");
    let e =
        errors("  matchImageReferences:\n  - glob: '[a'\n  validations:\n  - expression: 'true'\n");
    assert!(
        e[0].starts_with("spec.matchImageReferences[0].glob: invalid glob"),
        "{e:?}"
    );
    assert_eq!(
        errors("  variables: []\n"),
        ["spec.validations: Required value"]
    );
    let e = errors("  validationActions: [Deny, Block]\n  validations:\n  - expression: 'true'\n");
    assert!(
        e[0].starts_with("spec.validationActions[1]: Unsupported value: \"Block\""),
        "{e:?}"
    );
}

#[test]
fn variables_are_typed_in_order() {
    let ok = compile_text(&policy(
        "  variables:\n  - name: n\n    expression: '1'\n  - name: ok\n    expression: variables.n == 1\n  validations:\n  - expression: variables.ok\n",
    ));
    assert!(ok.is_ok(), "{ok:?}");
    // A later variable is not visible to an earlier one.
    let e = errors(
        "  variables:\n  - name: a\n    expression: variables.b\n  - name: b\n    expression: '1'\n  validations:\n  - expression: 'true'\n",
    );
    assert!(
        e[0].contains("undeclared reference to 'variables'"),
        "{e:?}"
    );
    // JSON mode: `variables` cannot be referred to (as in Kyverno).
    let e = errors(
        "  evaluation:\n    mode: JSON\n  variables:\n  - name: n\n    expression: '1'\n  validations:\n  - expression: variables.n == 1\n",
    );
    assert!(
        e[0].contains("undeclared reference to 'variables'"),
        "{e:?}"
    );
}

#[test]
fn attestors_compile_to_the_shared_verifiers() {
    let validations = "  validations:\n  - expression: 'true'\n";
    let e = errors_of(&with_attestors(
        "  - name: k\n    cosign:\n      key:\n        data: not a key\n",
        validations,
    ));
    assert!(
        e.iter()
            .any(|e| e.starts_with("spec.attestors[0].cosign.key.data: failed to load public key")),
        "{e:?}"
    );
    let keyless = "  - name: gh\n    cosign:\n      keyless:\n        identities:\n        - subjectRegExp: '^https://github.com/kyverno/.*$'\n          issuer: https://token.actions.githubusercontent.com\n      ctlog:\n        insecureIgnoreSCT: true\n";
    let p = compile_text(&with_attestors(keyless, validations)).unwrap_or_else(|e| panic!("{e:?}"));
    let AttestorMaterial::Compiled(kinds) = &p.attestors[0].material else {
        panic!("{:?}", p.attestors[0].material)
    };
    let AttestorKind::Keyless(k) = &kinds[0] else {
        panic!("{kinds:?}")
    };
    assert!(k.ctlog.ignore_sct && !k.tlog.ignore);
    assert!(
        k.identity
            .describe()
            .contains("subjectRegExp ^https://github.com/kyverno/.*$")
    );
    let e = errors_of(&with_attestors(
        "  - name: bad\n    cosign:\n      keyless:\n        identities:\n        - subjectRegExp: '('\n",
        validations,
    ));
    assert!(
        e[0].starts_with("spec.attestors[0].cosign.keyless.identities[0]: invalid regexp"),
        "{e:?}"
    );
    // A key given as a constant expression (a CEL triple-quoted string).
    let p = compile_text(&with_attestors(
        &format!(
            "  - name: k\n    cosign:\n      key:\n        expression: |\n          \'\'\'{KEY}\'\'\'\n"
        ),
        validations,
    ));
    let p = p.unwrap_or_else(|e| panic!("{e:?}"));
    assert!(
        matches!(&p.attestors[0].material, AttestorMaterial::Compiled(k) if matches!(k[..], [AttestorKind::Key(_)]))
    );
    // A key that depends on the request is compiled with each request.
    let p = compile_text(&with_attestors(
        "  - name: k\n    cosign:\n      key:\n        expression: object.metadata.annotations.key\n",
        validations,
    ))
    .unwrap_or_else(|e| panic!("{e:?}"));
    let AttestorMaterial::Deferred(d) = &p.attestors[0].material else {
        panic!("{:?}", p.attestors[0].material)
    };
    let pem: String = KEY.lines().map(str::trim).collect::<Vec<_>>().join("\n");
    assert!(matches!(
        compile_deferred(d, &[pem]).map(|(k, _)| k).as_deref(),
        Ok([AttestorKind::Key(_)])
    ));
    let e = compile_deferred(d, &["nonsense".into()]).unwrap_err();
    assert!(e.contains("failed to load public key"), "{e}");
    // Expressions must give strings.
    let e = errors_of(&with_attestors(
        "  - name: k\n    cosign:\n      key:\n        expression: '1'\n",
        validations,
    ));
    assert!(
        e[0].starts_with(
            "spec.attestors[0].cosign.key.expression: output is expected to be of type string"
        ),
        "{e:?}"
    );
    let e = errors_of(&with_attestors(
        "  - name: both\n    cosign: {}\n    notary: {}\n",
        validations,
    ));
    assert_eq!(
        e,
        ["spec.attestors[0]: exactly one of cosign or notary is required"]
    );
}

fn fixtures(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("fixtures") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            fixtures(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

/// Kyverno's own suites: every image policy compiles, except the ones the
/// suites expect Kyverno to reject.
#[test]
fn kyverno_suites_compile() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kyverno-ivpol");
    let mut files = Vec::new();
    fixtures(&root, &mut files);
    files.sort();
    let rejected_by_kyverno = ["validation-checks/invalid-action/policy.yaml"];
    let mut compiled = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read");
        let is_policy = text.lines().any(|l| {
            l == "kind: ImageValidatingPolicy" || l == "kind: NamespacedImageValidatingPolicy"
        });
        if !is_policy {
            continue;
        }
        let name = file
            .strip_prefix(&root)
            .expect("prefix")
            .display()
            .to_string();
        let result = compile_text(&text);
        if rejected_by_kyverno.iter().any(|r| name.ends_with(r)) {
            let e = result.err().unwrap_or_else(|| panic!("{name} compiled"));
            assert!(
                e[0].starts_with("spec.validationActions[0]"),
                "{name}: {e:?}"
            );
        } else {
            assert!(result.is_ok(), "{name}: {:?}", result.err());
            compiled += 1;
        }
    }
    assert!(compiled >= 50, "{compiled}");
}

#[test]
fn kinds_versions_and_namespaces() {
    let base = policy("  validations:\n  - expression: 'true'\n");
    let namespaced = base.replace(
        "kind: ImageValidatingPolicy\nmetadata:\n  name: p\n",
        "kind: NamespacedImageValidatingPolicy\nmetadata:\n  name: p\n  namespace: team-a\n",
    );
    let p = compile_text(&namespaced).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(p.kind, ImagePolicyKind::Namespaced);
    assert_eq!(p.report_name(), "team-a/p");
    for version in ["v1alpha1", "v1beta1", "v1"] {
        let text = base.replace(
            "policies.kyverno.io/v1\n",
            &format!("policies.kyverno.io/{version}\n"),
        );
        assert!(compile_text(&text).is_ok(), "{version}");
    }
    let e = errors_of(&base.replace("policies.kyverno.io/v1\n", "policies.kyverno.io/v2\n"));
    assert!(
        e[0].starts_with("apiVersion: unknown apiVersion \"policies.kyverno.io/v2\""),
        "{e:?}"
    );
    // The namespaced kind's `resource` functions take no namespace.
    let e = errors_of(&namespaced.replace(
        "expression: 'true'",
        "expression: resource.get('v1', 'configmaps', 'other', 'cm').data.k == 'x'",
    ));
    assert!(
        e[0].contains("found no matching overload for 'resource.get'"),
        "{e:?}"
    );
    let r = compile_text(&namespaced.replace(
        "expression: 'true'",
        "expression: resource.get('v1', 'configmaps', 'cm').data.k == 'x'",
    ));
    assert!(r.is_ok(), "{r:?}");
}

#[test]
fn names_are_required_and_unique_in_each_list() {
    let validations = "  validations:\n  - expression: 'true'\n";
    let key = format!("    cosign:\n      key:\n        data: |\n          {KEY}\n");
    let e = errors_of(&with_attestors(
        &format!("  - name: a\n{key}  - name: a\n{key}"),
        validations,
    ));
    assert_eq!(e, ["spec.attestors[1].name: duplicate attestor \"a\""]);
    let e = errors(&format!(
        "  variables:\n  - name: v\n    expression: '1'\n  - name: v\n    expression: '2'\n{validations}"
    ));
    assert_eq!(e, ["spec.variables[1].name: duplicate variable \"v\""]);
    let e = errors(&format!(
        "  attestations:\n  - intoto:\n      type: x\n{validations}"
    ));
    assert_eq!(e, ["spec.attestations[0].name: a name is required"]);
    let e = errors(&format!(
        "  images:\n  - name: i\n    expression: '[]'\n  - name: i\n    expression: '[]'\n{validations}"
    ));
    assert_eq!(e, ["spec.images[1].name: duplicate name \"i\""]);
}

#[test]
fn lists_are_bounded() {
    let many = "  - expression: 'true'\n".repeat(MAX_ENTRIES + 1);
    let e = errors(&format!("  validations:\n{many}"));
    assert_eq!(
        e,
        [format!("spec.validations: more than {MAX_ENTRIES} entries")]
    );
    let ok = "  - expression: 'true'\n".repeat(MAX_ENTRIES);
    assert!(compile_text(&policy(&format!("  validations:\n{ok}"))).is_ok());
}
