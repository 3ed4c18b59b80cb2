//! What the playground stands on, without a browser (the browser tests are
//! `playground/tests/e2e.mjs`): the engine's workspace decides every example
//! exactly as `imgverify apply` does from the same layout as a `.tar`;
//! results name the attestor entries that verified; `imgverify playground`
//! serves the embedded page with a same-origin policy.

use base64::Engine as _;
use imgverify::apply::workspace::Workspace;
use serde_json::Value;
use sha2::Digest as _;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

const NOW: &str = "2026-06-01T00:00:00Z";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn apply_json(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_imgverify"))
        .current_dir(root())
        .arg("apply")
        .args(args)
        .args(["--format", "json", "--now", NOW])
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `tar -C policies/images -cf - .`, as the users make it.
fn examples_tar() -> Vec<u8> {
    let out = Command::new("tar")
        .args(["-C", "policies/images", "-cf", "-", "."])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

#[test]
fn the_workspace_decides_every_example_as_apply_does() {
    let tar = examples_tar();
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(root().join("policies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("policy.yaml").exists())
        .collect();
    scenarios.sort();
    assert!(scenarios.len() >= 10, "{scenarios:?}");
    let mut resources = 0;
    for dir in scenarios {
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
        let mut w = Workspace::new();
        assert_eq!(
            w.load_artifacts("examples.tar", &tar).unwrap().format,
            "layout"
        );
        assert!(
            w.set_policy(&read("policy.yaml"))
                .iter()
                .all(|p| p.severity != imgverify::apply::workspace::Severity::Error)
        );
        assert!(w.set_resources(&read("resources.yaml")).is_empty());
        assert!(w.set_values(&read("values.yaml")).is_empty());
        let ours = w.evaluate(Some(NOW)).unwrap();
        let rel = |f: &str| dir.join(f).display().to_string();
        let mut args = vec![
            rel("policy.yaml"),
            "--resource".into(),
            rel("resources.yaml"),
        ];
        args.extend(["--oci-layout".into(), "policies/images".into()]);
        if dir.join("values.yaml").exists() {
            args.extend(["--values-file".into(), rel("values.yaml")]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(ours, apply_json(&args), "{}", dir.display());
        resources += ours["resources"].as_array().unwrap().len();
    }
    assert!(resources >= 40, "{resources}");
}

fn key_fingerprint(pem_file: &str) -> String {
    let pem = std::fs::read_to_string(root().join(pem_file)).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    sha2::Sha256::digest(&der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn indent(text: &str, n: usize) -> String {
    text.trim()
        .lines()
        .map(|l| format!("{}{l}\n", " ".repeat(n)))
        .collect()
}

#[test]
fn results_name_the_attestor_entries_that_verified() {
    let a = std::fs::read_to_string(root().join("policies/keys/demo-a.pub")).unwrap();
    let b = std::fs::read_to_string(root().join("policies/keys/demo-b.pub")).unwrap();
    // One of: both A and B (only A signed `signed`), or A alone.
    let policy = format!(
        "apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {{name: who}}
spec:
  rules:
  - name: r
    match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}
    verifyImages:
    - failureAction: Enforce
      imageReferences: [\"registry.example.com/*\"]
      attestors:
      - count: 1
        entries:
        - attestor:
            entries:
            - keys:
                publicKeys: |-
{a_}                rekor: {{ignoreTlog: true}}
            - keys:
                publicKeys: |-
{b_}                rekor: {{ignoreTlog: true}}
        - keys:
            publicKeys: |-
{a2}            rekor: {{ignoreTlog: true}}
",
        a_ = indent(&a, 18),
        b_ = indent(&b, 18),
        a2 = indent(&a, 14),
    );
    let dir = std::env::temp_dir().join(format!("imgverify-who-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("policy.yaml"), policy).unwrap();
    std::fs::write(
        dir.join("pods.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: signed, namespace: default}\nspec:\n  containers: [{name: c, image: registry.example.com/demo/signed:v1}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: by-b, namespace: default}\nspec:\n  containers: [{name: c, image: registry.example.com/demo/signed-by-b:v1}]\n",
    )
    .unwrap();
    let doc = apply_json(&[
        dir.join("policy.yaml").to_str().unwrap(),
        "--resource",
        dir.join("pods.yaml").to_str().unwrap(),
        "--oci-layout",
        "policies/images",
    ]);
    std::fs::remove_dir_all(&dir).unwrap();
    let image = |i: usize| doc["resources"][i]["results"][0]["images"][0].clone();
    // The nested set failed (B did not sign), so its verified A is not named.
    assert_eq!(image(0)["result"], "pass", "{doc:#}");
    assert_eq!(
        image(0)["verifiedBy"],
        serde_json::json!([format!(
            ".attestors[0].entries[1].keys: key sha256:{}",
            key_fingerprint("policies/keys/demo-a.pub")
        )])
    );
    // A failure names nothing.
    assert_eq!(image(1)["result"], "fail", "{doc:#}");
    assert!(image(1).get("verifiedBy").is_none(), "{doc:#}");
}

fn http(addr: &str, request: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn imgverify_playground_serves_the_embedded_page_same_origin_only() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_imgverify"))
        .args(["playground", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if !imgverify_host::playground::embedded() {
        // Built before `cargo xtask playground --build`: it says so.
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("cargo xtask playground"),
            "{out:?}"
        );
        return;
    }
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let addr = line
        .trim()
        .strip_prefix("imgverify playground: http://")
        .and_then(|s| s.strip_suffix('/'))
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_string();
    let index = http(
        &addr,
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(index.starts_with("HTTP/1.1 200"), "{index}");
    assert!(
        index.contains("content-security-policy: default-src 'self'"),
        "{index}"
    );
    assert!(index.contains("id=\"evaluate\""), "{index}");
    let wasm = http(
        &addr,
        "GET /imgverify_bg.wasm HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(
        wasm.contains("content-type: application/wasm"),
        "{}",
        &wasm[..200]
    );
    for (req, status) in [
        ("GET /../Cargo.toml HTTP/1.1", "404"),
        ("GET /nothing.js HTTP/1.1", "404"),
        ("POST / HTTP/1.1", "405"),
    ] {
        let r = http(
            &addr,
            &format!("{req}\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        );
        assert!(r.starts_with(&format!("HTTP/1.1 {status}")), "{req}: {r}");
        assert!(r.contains("x-content-type-options: nosniff"), "{req}: {r}");
    }
    child.kill().unwrap();
    let _ = child.wait();
}
