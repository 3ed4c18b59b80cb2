//! `imgverify verify-bundle` as the sigstore-conformance harness calls it:
//! the same arguments, exit 0 when verified, 1 with the reason on stderr
//! for any verification failure, 2 for usage errors. (Every conformance
//! case runs through the engine in `tests/bundle_conformance.rs`.)

use std::process::Command;

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/vectors/sigstore-conformance"
);
const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn verify(case: &str, extra: &[&str], input: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_imgverify"))
        .arg("verify-bundle")
        .arg("--bundle")
        .arg(format!(
            "{VECTORS}/bundle-verify/{case}/bundle.sigstore.json"
        ))
        .args(extra)
        .arg(input)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn identity() -> Vec<&'static str> {
    vec![
        "--certificate-identity",
        IDENTITY,
        "--certificate-oidc-issuer",
        ISSUER,
    ]
}

#[test]
fn verify_bundle_speaks_the_conformance_protocol() {
    let artifact = format!("{VECTORS}/a.txt");
    let digest = "sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf";
    // Keyless, by path and by digest, with the embedded public-good root.
    assert_eq!(
        verify("happy-path-v0.3", &identity(), &artifact),
        (0, String::new())
    );
    assert_eq!(verify("happy-path-v0.3", &identity(), digest).0, 0);
    // A managed key with the case's own trusted root.
    let dir = format!("{VECTORS}/bundle-verify/managed-key-and-trusted-root");
    let (key, root) = (format!("{dir}/key.pub"), format!("{dir}/trusted_root.json"));
    let key_args = ["--key", key.as_str(), "--trusted-root", root.as_str()];
    assert_eq!(
        verify("managed-key-and-trusted-root", &key_args, &artifact).0,
        0
    );
    // Failures exit 1 and say which check failed.
    let (code, err) = verify("signature-mismatch_fail", &identity(), &artifact);
    assert_eq!(code, 1);
    assert!(err.contains("invalid signature"), "{err}");
    let (code, err) = verify("bundle-malformed-json_fail", &identity(), &artifact);
    assert_eq!(code, 1);
    assert!(err.contains("invalid bundle"), "{err}");
    let (code, err) = verify(
        "happy-path-v0.3",
        &[
            "--certificate-identity",
            "someone@example.com",
            "--certificate-oidc-issuer",
            ISSUER,
        ],
        &artifact,
    );
    assert_eq!(code, 1);
    assert!(err.contains("is not someone@example.com"), "{err}");
    // Usage errors exit 2.
    assert_eq!(
        verify(
            "happy-path-v0.3",
            &["--certificate-identity", IDENTITY],
            &artifact
        )
        .0,
        2
    );
}
