//! Fresh keyless signatures and attestations from sigstore-js's mocks
//! (`tests/mock-sigstore/mint.mjs`; see its header for the request).
#![allow(dead_code)]

use serde_json::Value;

/// Runs the mint script on `request`.
pub fn mint(request: &Value) -> Value {
    use std::io::Write as _;
    let dir = super::root().join("host-shim/tests/mock-sigstore");
    assert!(
        dir.join("node_modules/@sigstore/mock").is_dir(),
        "{}: @sigstore/mock is not installed; run `cargo xtask setup`",
        dir.display()
    );
    let mut child = std::process::Command::new("node")
        .arg("mint.mjs")
        .current_dir(&dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "mint.mjs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
