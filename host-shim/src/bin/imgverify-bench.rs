//! Benchmark (not a test): keyed and keyless verification per image in
//! wasmtime and natively in the same run, Sigstore bundle verification in
//! wasmtime, module compile and instantiate time, module size.
//!
//! `cargo run --release -p imgverify-host --bin imgverify-bench [ITERATIONS]`
//!
//! The keyless case is sigstore-conformance's `happy-path-intoto-in-dsse-v3`
//! bundle (public-good Fulcio and Rekor, DSSE), served as a cosign 3 referrer
//! of an image whose digest its statement names; `bench/compare-sigstore`
//! times sigstore-js and sigstore-python verifying the same bundle.

use imgverify::engine::{Fetch, FetchKind};
use imgverify_host::inputs;
use imgverify_host::runner::{self, MODULE_BYTES, ModuleRunner};
use imgverify_host::source::{ArtifactSource, OciLayouts, SourceAnswer};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Length of `bytes` under `gzip -9`.
fn gzip_len(bytes: &[u8]) -> usize {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes).expect("gzip");
    gz.finish().map(|v| v.len()).unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("profile") {
        profile(&args[2..]);
        return;
    }
    if args.get(1).map(String::as_str) == Some("apply") {
        apply_times(&args[2..]);
        return;
    }
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default();
    let keyed = keyed_case(&root);

    let shipped = imgverify_host::wasm_names::without_name_section(MODULE_BYTES).expect("module");
    println!(
        "module size as shipped (no name section): {} bytes raw, {} bytes gzip -9",
        shipped.len(),
        gzip_len(&shipped)
    );
    println!(
        "module size with function names (embedded, for backtraces): {} bytes raw, {} bytes gzip -9",
        MODULE_BYTES.len(),
        gzip_len(MODULE_BYTES)
    );

    let t = Instant::now();
    let jit = ModuleRunner::from_bytes(MODULE_BYTES).expect("module");
    println!(
        "module compile (Cranelift, at run time): {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    drop(jit);
    let t = Instant::now();
    let runner = ModuleRunner::new().expect("module");
    println!(
        "module load ({}): {:.1} ms",
        if runner.is_precompiled() {
            "precompiled by build.rs"
        } else {
            "precompiled code refused: compiled"
        },
        t.elapsed().as_secs_f64() * 1e3
    );

    let k = 50;
    let t = Instant::now();
    for _ in 0..k {
        let _ = runner.instantiate().expect("instantiate");
    }
    println!(
        "instantiate (fresh store + instance, avg of {k}): {:.1} us",
        t.elapsed().as_secs_f64() * 1e6 / k as f64
    );

    let p256 = openssl_p256_verify_us();
    match p256 {
        Some(us) => println!("OpenSSL P-256 verify (openssl speed, one core): {us:.1} us"),
        None => println!("OpenSSL P-256 verify: openssl not found"),
    }
    let times = per_image(&runner, &keyed, n);
    print_times(
        "keyed verification per image (P-256 signature + Rekor SET, 3 fetch rounds from an OCI layout)",
        n,
        &times,
        p256,
    );

    let image_policy = image_policy_case(&root, &keyed);
    let ivpol_times = per_image(&runner, &image_policy, n);
    print_times(
        "the same check as an ImageValidatingPolicy (CEL validation calling verifyImageSignatures)",
        n,
        &ivpol_times,
        p256,
    );
    println!(
        "  CEL evaluation per admission (image policy minus ClusterPolicy, this run): {:+.3} ms wasmtime warm, {:+.3} ms native warm",
        ivpol_times.wasm_warm - times.wasm_warm,
        ivpol_times.native_warm - times.native_warm
    );

    keyless(&root, &runner, n);
    algorithms(&root, &runner, n);
    apply_cold_process(&root);
}

/// `imgverify-bench apply POLICY RESOURCES LAYOUT [N]`: each resource's
/// decision time in wasmtime, as the playground times it in a browser:
/// "fresh" is the first decision after the policy is compiled (median of N
/// compiles), "warm" the median of N more decisions by the same engine.
fn apply_times(args: &[String]) {
    let (Some(policy), Some(resources), Some(layout)) = (args.first(), args.get(1), args.get(2))
    else {
        eprintln!("usage: imgverify-bench apply POLICY RESOURCES LAYOUT [N]");
        std::process::exit(2);
    };
    let n: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(20);
    let read = |p: &String| inputs::NamedText {
        name: p.clone(),
        text: std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{p}: {e}")),
    };
    let mut layouts = OciLayouts::default();
    layouts.add(layout).expect("layout");
    let runner = ModuleRunner::new().expect("module");
    let settings = imgverify_host::apply::EngineSettings {
        skip_invalid_policies: true,
        ..Default::default()
    };
    let now = Some("2026-06-01T00:00:00Z");
    let mut loaded =
        imgverify_host::apply::load_policies(&runner, &[read(policy)], &settings).expect("policy");
    let resource_text = read(resources);
    let docs = loaded
        .instance()
        .parse_documents(&resource_text.name, &resource_text.text)
        .expect("resources");
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!("per resource in wasmtime (ms): fresh policy / warm, median of {n}");
    for (_, doc) in &docs {
        let mut fresh = Vec::new();
        for _ in 0..n {
            let mut l = imgverify_host::apply::load_policies(&runner, &[read(policy)], &settings)
                .expect("policy");
            let t = Instant::now();
            let _ = l.decide(doc, now, &layouts).expect("decide");
            fresh.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let mut warm = Vec::new();
        for _ in 0..n {
            let t = Instant::now();
            let _ = loaded.decide(doc, now, &layouts).expect("decide");
            warm.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let name = doc
            .pointer("/metadata/name")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        println!("  {name}: {:.2} / {:.2}", median(fresh), median(warm));
    }
}

/// `imgverify apply` of one Pod as a fresh process (module load, policy
/// compile with the key's table, three rounds from the example OCI layout,
/// output), wall time, the `imgverify` binary beside this one.
fn apply_cold_process(root: &std::path::Path) {
    let Some(bin) = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("imgverify")))
        .filter(|p| p.exists())
    else {
        println!("imgverify apply, cold process: skipped (build the imgverify binary)");
        return;
    };
    let pod = std::env::temp_dir().join(format!("imgverify-bench-pod-{}.yaml", std::process::id()));
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: one, namespace: default}\nspec:\n  containers: [{name: a, image: registry.example.com/demo/signed:v1}]\n";
    if std::fs::write(&pod, text).is_err() {
        return;
    }
    let run = || {
        std::process::Command::new(&bin)
            .arg("apply")
            .arg(root.join("policies/keyed-signature/policy.yaml"))
            .arg("-r")
            .arg(&pod)
            .arg("--oci-layout")
            .arg(root.join("policies/images"))
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let k = 20;
    let t = Instant::now();
    let ok = run() && (1..k).all(|_| run());
    let _ = std::fs::remove_file(&pod);
    if ok {
        println!(
            "imgverify apply of one Pod, fresh process each time (example OCI layout, no registry), avg of {k}: {:.1} ms wall",
            t.elapsed().as_secs_f64() * 1e3 / k as f64
        );
    } else {
        println!("imgverify apply, cold process: the example Pod did not verify");
    }
}

/// One valid Wycheproof case per algorithm: (label, file, scheme, hash,
/// `openssl speed` algorithm and the line that reports it).
const ALGORITHMS: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "ECDSA P-256",
        "ecdsa_secp256r1_sha256_test.json",
        "ecdsa-der",
        "sha256",
        "ecdsap256",
        "ecdsa (nistp256)",
    ),
    (
        "ECDSA P-384",
        "ecdsa_secp384r1_sha384_test.json",
        "ecdsa-der",
        "sha384",
        "ecdsap384",
        "ecdsa (nistp384)",
    ),
    (
        "RSA-2048 PKCS#1",
        "rsa_signature_2048_sha256_test.json",
        "rsa-pkcs1v15",
        "sha256",
        "rsa2048",
        "rsa 2048 bits",
    ),
    (
        "Ed25519",
        "ed25519_test.json",
        "ed25519",
        "sha256",
        "ed25519",
        "EdDSA (Ed25519)",
    ),
];

/// One signature verification per algorithm, the memo off: in wasmtime
/// (the `verify_signature` export), natively (the same code as an rlib)
/// with and without the key's fixed-base table, and OpenSSL.
fn algorithms(root: &std::path::Path, runner: &ModuleRunner, n: usize) {
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let unhex = |s: &str| -> Vec<u8> {
        (0..s.len() / 2)
            .filter_map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
            .collect()
    };
    println!("one signature verification, memo off, avg of {n} (us):");
    println!(
        "  {:<16} {:>9} {:>14} {:>12} {:>13} {:>9} {:>11}",
        "algorithm",
        "wasmtime",
        "native+table",
        "native wNAF",
        "native crate",
        "OpenSSL",
        "wasm/OpenSSL"
    );
    let mut inst = runner.instantiate().expect("instantiate");
    // An engine compiled with the memo off turns it off in this instance.
    let off = serde_json::json!({"sources": [], "options": {"verificationMemoEntries": 0}});
    inst.engine_new(&serde_json::to_vec(&off).unwrap_or_default())
        .expect("engine");
    imgverify::crypto::memo::set_capacity(0);
    for (label, file, scheme, hash, openssl_alg, openssl_line) in ALGORITHMS {
        let path = root
            .join("../shared/vectors/wycheproof/testvectors_v1")
            .join(file);
        let Some(v) = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        else {
            println!("  {label}: skipped ({} not found)", path.display());
            continue;
        };
        let Some((der, msg, sig)) =
            v["testGroups"]
                .as_array()
                .into_iter()
                .flatten()
                .find_map(|g| {
                    let t = g["tests"]
                        .as_array()?
                        .iter()
                        .find(|t| t["result"] == "valid")?;
                    Some((
                        unhex(g["publicKeyDer"].as_str()?),
                        unhex(t["msg"].as_str()?),
                        unhex(t["sig"].as_str()?),
                    ))
                })
        else {
            continue;
        };
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            b64(&der)
        );
        let input = serde_json::to_vec(&serde_json::json!({"publicKey": pem, "scheme": scheme,
            "hash": hash, "message": b64(&msg), "signature": b64(&sig)}))
        .unwrap_or_default();
        // Twice first: an ECDSA key earns its table by its second use.
        for _ in 0..2 {
            assert_eq!(
                inst.verify_signature(&input).expect("verify"),
                None,
                "{label}"
            );
        }
        let t = Instant::now();
        for _ in 0..n {
            assert_eq!(inst.verify_signature(&input).expect("verify"), None);
        }
        let wasm = t.elapsed().as_secs_f64() * 1e6 / n as f64;
        let key = imgverify::crypto::PublicKey::from_pem(&pem).expect("key");
        let h = imgverify::crypto::HashAlgorithm::from_policy(hash).expect("hash");
        let verify = |k: &imgverify::crypto::PublicKey| match *scheme {
            "ecdsa-der" => k.verify_ecdsa_der(h, &msg, &sig),
            "rsa-pkcs1v15" => k.verify_rsa_pkcs1v15(h, &msg, &sig),
            _ => k.verify_ed25519(&msg, &sig),
        };
        // Natively: with the key's table; with only the generator's table
        // (a key never seen: its wNAF); by the curve crate alone.
        let mut native = [0f64; 3];
        for (i, (tables, key_tables)) in [(true, true), (true, false), (false, false)]
            .into_iter()
            .enumerate()
        {
            imgverify::crypto::fixed_base::set_enabled(tables);
            imgverify::crypto::fixed_base::set_key_tables(key_tables);
            let key = if key_tables {
                key.clone().with_tables()
            } else {
                key.clone()
            };
            verify(&key).expect("native verify");
            let t = Instant::now();
            for _ in 0..n {
                verify(&key).expect("native verify");
            }
            native[i] = t.elapsed().as_secs_f64() * 1e6 / n as f64;
        }
        imgverify::crypto::fixed_base::set_enabled(true);
        imgverify::crypto::fixed_base::set_key_tables(true);
        let openssl = openssl_verify_us(openssl_alg, openssl_line);
        println!(
            "  {label:<16} {wasm:>9.1} {:>14.1} {:>12.1} {:>13.1} {:>9} {:>11}",
            native[0],
            native[1],
            native[2],
            openssl.map_or("-".into(), |us| format!("{us:.1}")),
            openssl.map_or("-".into(), |us| format!("{:.2}x", wasm / us)),
        );
    }
}

/// One benchmarked admission: a policy, a Pod and where its artifacts come from.
struct Case {
    name: String,
    policy: String,
    request: Vec<u8>,
    source: Box<dyn ArtifactSource>,
}

/// The shipped keyed example: a P-256 cosign signature with a Rekor SET,
/// read from the example OCI layout.
fn keyed_case(root: &std::path::Path) -> Case {
    let policy = inputs::read_all(
        &[root
            .join("policies/keyed-signature/policy.yaml")
            .display()
            .to_string()],
        &[],
    )
    .expect("policy");
    let mut source = OciLayouts::default();
    source
        .add(root.join("policies/images").to_str().unwrap_or_default())
        .expect("layout");
    let pod = serde_json::json!({"operation": "CREATE", "object": {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bench", "namespace": "default"},
        "spec": {"containers": [{"name": "app", "image": "registry.example.com/demo/signed:v1"}]}}});
    Case {
        name: policy[0].name.clone(),
        policy: policy[0].text.clone(),
        request: serde_json::to_vec(&pod).unwrap_or_default(),
        source: Box::new(source),
    }
}

/// The keyed case's check written as an ImageValidatingPolicy: the same
/// key and log key, one CEL validation over the Pod's containers.
fn image_policy_case(root: &std::path::Path, keyed: &Case) -> Case {
    let pems: Vec<String> = keyed
        .policy
        .split("-----BEGIN PUBLIC KEY-----")
        .skip(1)
        .filter_map(|b| b.split("-----END PUBLIC KEY-----").next())
        .map(|b| {
            let body: String = b.split_whitespace().collect::<Vec<_>>().join("\n");
            format!("-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n")
        })
        .collect();
    let (key, rekor) = (pems.first().expect("key"), pems.get(1).expect("rekor key"));
    let policy = serde_json::json!({
        "apiVersion": "policies.kyverno.io/v1",
        "kind": "ImageValidatingPolicy",
        "metadata": {"name": "check-signature"},
        "spec": {
            "validationConfigurations": {"verifyDigest": false},
            "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                "operations": ["CREATE"], "resources": ["pods"]}]},
            "matchImageReferences": [{"glob": "registry.example.com/*"}],
            "attestors": [{"name": "teamA", "cosign": {"key": {"data": key},
                "ctlog": {"url": "https://rekor.example.com", "rekorPubKey": rekor}}}],
            "validations": [{"expression":
                "images.containers.map(i, verifyImageSignatures(i, [attestors.teamA])).all(n, n > 0)"}],
        },
    });
    let mut source = OciLayouts::default();
    source
        .add(root.join("policies/images").to_str().unwrap_or_default())
        .expect("layout");
    Case {
        name: "image-policy.json".into(),
        policy: policy.to_string(),
        request: keyed.request.clone(),
        source: Box::new(source),
    }
}

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

/// The conformance bundle's statement subject (`a.txt`).
const SUBJECT: &str = "sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf";

/// Artifacts by (kind, digest), as a registry with the referrers API serves them.
struct Referrers(BTreeMap<(FetchKind, String), Vec<u8>>);

impl ArtifactSource for Referrers {
    fn fetch(&self, f: &Fetch) -> SourceAnswer {
        match self.0.get(&(f.kind, f.digest.clone().unwrap_or_default())) {
            Some(b) => SourceAnswer::Bytes(b.clone()),
            None => SourceAnswer::NotFound(f.key.clone()),
        }
    }
}

fn sha256(b: &[u8]) -> String {
    imgverify::digest::Digest::sha256_of(b).to_string()
}

/// Keyless verification of one image (a SigstoreBundle referrer: Fulcio
/// path, SCT, Rekor SET, inclusion proof and checkpoint, DSSE, identity),
/// and of the bare bundle, in wasmtime and natively.
fn keyless_case(root: &std::path::Path) -> Option<(Case, Vec<u8>)> {
    let case = root
        .join("../shared/vectors/sigstore-conformance/bundle-verify/happy-path-intoto-in-dsse-v3");
    let bundle = std::fs::read(case.join("bundle.sigstore.json")).ok()?;
    let kind = "application/vnd.dev.sigstore.bundle.v0.3+json";
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "artifactType": kind,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": sha256(b"{}"), "size": 2},
        "layers": [{"mediaType": kind, "digest": sha256(&bundle), "size": bundle.len()}],
        "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": SUBJECT, "size": 1},
    }))
    .unwrap_or_default();
    let index = serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha256(&manifest),
         "size": manifest.len(), "artifactType": kind}]}))
    .unwrap_or_default();
    let source = Referrers(BTreeMap::from([
        ((FetchKind::Referrers, SUBJECT.to_string()), index),
        ((FetchKind::Manifest, sha256(&manifest)), manifest),
        ((FetchKind::Blob, sha256(&bundle)), bundle.clone()),
    ]));
    let policy = serde_json::json!({"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy",
        "metadata": {"name": "keyless"}, "spec": {"rules": [{"name": "r",
        "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
        "verifyImages": [{"type": "SigstoreBundle", "failureAction": "Enforce",
            "imageReferences": ["registry.example.com/*"],
            "attestors": [{"entries": [{"keyless": {"subject": IDENTITY, "issuer": ISSUER,
                "rekor": {"url": "https://rekor.sigstore.dev"}}}]}]}]}]}})
    .to_string();
    let request = serde_json::to_vec(&serde_json::json!({"now": "2026-12-01T00:00:00Z",
        "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "k", "namespace": "default"},
        "spec": {"containers": [{"name": "app", "image": format!("registry.example.com/app@{SUBJECT}")}]}}}))
    .unwrap_or_default();
    Some((
        Case {
            name: "keyless.yaml".into(),
            policy,
            request,
            source: Box::new(source),
        },
        bundle,
    ))
}

fn keyless(root: &std::path::Path, runner: &ModuleRunner, n: usize) {
    let Some((case, bundle)) = keyless_case(root) else {
        println!("keyless: skipped (sigstore-conformance vectors not found)");
        return;
    };
    let times = per_image(runner, &case, n);
    let mut inst = runner.instantiate().expect("instantiate");
    let input = serde_json::to_vec(&serde_json::json!({
        "bundle": String::from_utf8_lossy(&bundle), "artifactSha256": SUBJECT.trim_start_matches("sha256:"),
        "certificateIdentity": IDENTITY, "certificateOidcIssuer": ISSUER, "now": 1_795_000_000i64}))
    .unwrap_or_default();
    inst.verify_bundle(&input).expect("the bundle verifies");
    let t = Instant::now();
    for _ in 0..n {
        inst.verify_bundle(&input).expect("verify");
    }
    let bundle_ms = t.elapsed().as_secs_f64() * 1e3 / n as f64;
    print_times(
        "keyless verification per image (SigstoreBundle referrer: Fulcio path, SCT, Rekor SET, proof, checkpoint, DSSE, identity; 4 fetch rounds)",
        n,
        &times,
        None,
    );
    println!(
        "bundle verification alone (verify-bundle protocol, same bundle, the trusted root parsed once per instance, as a sigstore-python Verifier holds it) in wasmtime: {bundle_ms:.3} ms"
    );
}

/// Per-image decision times (ms): in wasmtime and natively, with the
/// verification memo off (every signature checked: a never-seen image) and
/// on (the same bytes again: a warm admission).
struct PerImage {
    wasm_cold: f64,
    wasm_warm: f64,
    native_cold: f64,
    native_warm: f64,
}

fn per_image(runner: &ModuleRunner, case: &Case, n: usize) -> PerImage {
    let (name, policy, request, source) = (
        case.name.as_str(),
        case.policy.as_str(),
        case.request.as_slice(),
        case.source.as_ref(),
    );
    let mut ms = [0f64; 4];
    for (i, memo) in [0usize, imgverify::crypto::memo::DEFAULT_ENTRIES]
        .into_iter()
        .enumerate()
    {
        let options = serde_json::json!({"verificationMemoEntries": memo});
        // wasmtime: one instance, policies compiled once, a fresh session per image.
        let mut inst = runner.instantiate().expect("instantiate");
        let input =
            serde_json::json!({"sources": [{"name": name, "text": policy}], "options": options});
        let engine = inst
            .engine_new(&serde_json::to_vec(&input).unwrap_or_default())
            .expect("engine")
            .engine;
        let d = inst.decide(engine, request, source).expect("decide");
        assert!(d.allowed, "the bench image must verify: {:?}", d.results);
        let t = Instant::now();
        for _ in 0..n {
            assert!(
                inst.decide(engine, request, source)
                    .expect("decide")
                    .allowed
            );
        }
        ms[i] = t.elapsed().as_secs_f64() * 1e3 / n as f64;
        // native: the same engine code as an rlib.
        let options: imgverify::engine::EngineOptions =
            serde_json::from_value(options).expect("options");
        let native = Arc::new(
            imgverify::Engine::compile_with(&[(name, policy)], &options).expect("compile"),
        );
        let d = runner::decide_native(&native, request, source).expect("decide");
        assert!(d.allowed);
        let t = Instant::now();
        for _ in 0..n {
            let d = runner::decide_native(&native, request, source).expect("decide");
            assert!(d.allowed);
        }
        ms[2 + i] = t.elapsed().as_secs_f64() * 1e3 / n as f64;
    }
    PerImage {
        wasm_cold: ms[0],
        wasm_warm: ms[1],
        native_cold: ms[2],
        native_warm: ms[3],
    }
}

fn print_times(what: &str, n: usize, t: &PerImage, p256_us: Option<f64>) {
    println!("{what}, avg of {n}:");
    let floor = |ms: f64| match p256_us {
        Some(us) => format!(" ({:.1}x one OpenSSL P-256 verify)", ms * 1e3 / us),
        None => String::new(),
    };
    println!(
        "  wasmtime, never-seen bytes (memo off): {:.3} ms{}",
        t.wasm_cold,
        floor(t.wasm_cold)
    );
    println!(
        "  wasmtime, warm (memo on):              {:.3} ms{}",
        t.wasm_warm,
        floor(t.wasm_warm)
    );
    println!(
        "  native, never-seen bytes (memo off):   {:.3} ms{}",
        t.native_cold,
        floor(t.native_cold)
    );
    println!(
        "  native, warm (memo on):                {:.3} ms",
        t.native_warm
    );
    println!(
        "  ratio wasm/native: {:.2}x cold, {:.2}x warm",
        t.wasm_cold / t.native_cold,
        t.wasm_warm / t.native_warm
    );
}

/// `imgverify-bench profile keyed|keyless native|wasm cold|warm N`: one
/// configuration in a loop and nothing else, for `perf record` or
/// `valgrind --tool=callgrind` (the full bench is dominated by Cranelift).
fn profile(args: &[String]) {
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.to_string());
    let n: usize = arg(3, "1000").parse().unwrap_or(1000);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default();
    let case = match arg(0, "keyed").as_str() {
        "keyless" => keyless_case(&root).expect("the conformance vectors").0,
        "image-policy" => image_policy_case(&root, &keyed_case(&root)),
        _ => keyed_case(&root),
    };
    let memo = match arg(2, "warm").as_str() {
        "cold" => 0,
        _ => imgverify::crypto::memo::DEFAULT_ENTRIES,
    };
    let options = serde_json::json!({"verificationMemoEntries": memo});
    if arg(1, "native") == "wasm" {
        // Compiled here, so IMGVERIFY_WASM_PERFMAP=1 can name its functions.
        let runner = ModuleRunner::from_bytes(MODULE_BYTES).expect("module");
        let mut inst = runner.instantiate().expect("instantiate");
        let input = serde_json::json!({"sources": [{"name": case.name, "text": case.policy}], "options": options});
        let engine = inst
            .engine_new(&serde_json::to_vec(&input).unwrap_or_default())
            .expect("engine")
            .engine;
        for _ in 0..n {
            assert!(
                inst.decide(engine, &case.request, case.source.as_ref())
                    .expect("decide")
                    .allowed
            );
        }
    } else {
        let options: imgverify::engine::EngineOptions =
            serde_json::from_value(options).expect("options");
        let native = Arc::new(
            imgverify::Engine::compile_with(
                &[(case.name.as_str(), case.policy.as_str())],
                &options,
            )
            .expect("compile"),
        );
        for _ in 0..n {
            assert!(
                runner::decide_native(&native, &case.request, case.source.as_ref())
                    .expect("decide")
                    .allowed
            );
        }
    }
}

/// One P-256 verification by OpenSSL (microseconds), from `openssl speed`.
fn openssl_p256_verify_us() -> Option<f64> {
    openssl_verify_us("ecdsap256", "ecdsa (nistp256)")
}

/// One verification by OpenSSL (microseconds), from `openssl speed`: the
/// last column of the algorithm's line is verifications per second
/// ("256 bits ecdsa (nistp256)   0.0000s   0.0001s  43042.0  14276.2").
fn openssl_verify_us(algorithm: &str, line: &str) -> Option<f64> {
    let out = std::process::Command::new("openssl")
        .args(["speed", "-seconds", "2", algorithm])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let found = text.lines().find(|l| l.contains(line))?;
    let verify_per_s: f64 = found.split_whitespace().last()?.parse().ok()?;
    Some(1e6 / verify_per_s)
}
