//! Attacks on the engine as a hostile Pod or registry would make them, each
//! run through the wasm module (fuel and memory limits as in production).
//! Nothing the resource or an artifact's bytes cause may be forgiven by
//! `failurePolicy: Ignore`: each attack must end in a denial naming its cause.

mod support;

use imgverify::decision::{Decision, RuleStatus};
use imgverify_host::apply::{self, Loaded};
use imgverify_host::inputs::NamedText;
use imgverify_host::runner::{FUEL_PER_CALL, ModuleRunner, RunnerError};
use imgverify_host::source::ArtifactSource;
use serde_json::Value;
use std::sync::OnceLock;
use support::forge::*;

const IGNORE: &str = "  webhookConfiguration: {failurePolicy: Ignore}";
const REPO: &str = "reg.example/app";

fn runner() -> &'static ModuleRunner {
    static R: OnceLock<ModuleRunner> = OnceLock::new();
    R.get_or_init(|| ModuleRunner::new().unwrap())
}

fn load(policy: String) -> Loaded {
    load_with(runner(), policy)
}

fn load_with(runner: &ModuleRunner, policy: String) -> Loaded {
    apply::load_policies(
        runner,
        &[NamedText {
            name: "policy.yaml".into(),
            text: policy,
        }],
        &Default::default(),
    )
    .unwrap()
}

fn decide(loaded: &mut Loaded, pod: &Value, source: &dyn ArtifactSource) -> Decision {
    loaded.decide(pod, None, source).unwrap()
}

/// The policy most attacks meet: key "signer", failurePolicy Ignore, Enforce.
fn signer_policy() -> Loaded {
    load(key_policy(
        "p",
        &["reg.example/*"],
        &[public_pem(&key("signer"))],
        IGNORE,
    ))
}

/// A forge with one image signed by `signer`; returns it with the image digest.
fn signed_image(signer: &str) -> (Forge, String) {
    let forge = Forge::default();
    let d = forge.image(REPO, "v1");
    let k = key(signer);
    forge.sign(REPO, &d, &[Layer::new(&k, &d)]);
    (forge, d)
}

fn assert_denied_for(d: &Decision, cause: &str) {
    assert!(!d.allowed, "must be denied ({cause}): {d:#?}");
    assert!(
        d.message.contains(cause),
        "denial must name the cause {cause:?}: {}",
        d.message
    );
    assert!(
        d.results.iter().any(|r| r.result == RuleStatus::Fail),
        "a verification failure, not an error: {d:#?}"
    );
}

#[test]
fn item2_signed_image_passes_under_ignore() {
    let (forge, _) = signed_image("signer");
    let mut l = signer_policy();
    let d = decide(&mut l, &pod("ok", &["reg.example/app:v1"]), &forge);
    assert!(d.allowed, "{d:#?}");
}

#[test]
fn item2_too_many_images_is_denied_under_ignore() {
    let (forge, _) = signed_image("signer");
    let mut l = signer_policy();
    let images = vec!["reg.example/app:v1"; 257];
    let d = decide(&mut l, &pod("many", &images), &forge);
    assert_denied_for(&d, "more than 256 images");
}

#[test]
fn item2_unparsable_image_next_to_a_valid_one_is_denied_under_ignore() {
    let (forge, _) = signed_image("signer");
    let mut l = signer_policy();
    let d = decide(
        &mut l,
        &pod("mixed", &["reg.example/app:v1", "reg.example/App:v1"]),
        &forge,
    );
    assert_denied_for(&d, "invalid image 'reg.example/App:v1'");
}

#[test]
fn item2_oversized_signature_payloads_are_denied_under_ignore() {
    let forge = Forge::default();
    let d = forge.image(REPO, "v1");
    let wrong = key("wrong");
    // 16 layers each declaring a 16 MiB payload: refused before any fetch.
    let layers: Vec<Layer> = (0..16)
        .map(|_| Layer {
            padding: 16 << 20,
            ..Layer::new(&wrong, &d)
        })
        .collect();
    forge.sign(REPO, &d, &layers);
    let mut l = signer_policy();
    let before = forge.fetches.load(std::sync::atomic::Ordering::SeqCst);
    let dec = decide(&mut l, &pod("big", &["reg.example/app:v1"]), &forge);
    assert_denied_for(&dec, "signature payload of 16777");
    let fetched = forge.fetches.load(std::sync::atomic::Ordering::SeqCst) - before;
    assert_eq!(fetched, 2, "only the tag and the .sig manifest are fetched");
}

#[test]
fn item2_payload_larger_than_its_descriptor_is_refused_unhashed() {
    let forge = Forge::default();
    let d = forge.image(REPO, "v1");
    let wrong = key("wrong");
    // Descriptors claim 200 bytes; the registry serves 8 MiB under that digest.
    let layers: Vec<Layer> = (0..16)
        .map(|_| Layer {
            padding: 8 << 20,
            claimed_size: Some(200),
            ..Layer::new(&wrong, &d)
        })
        .collect();
    forge.sign(REPO, &d, &layers);
    let mut l = signer_policy();
    l.instance().take_peak_fuel();
    let dec = decide(&mut l, &pod("lying", &["reg.example/app:v1"]), &forge);
    assert_denied_for(&dec, "over the limit of 200");
    // Hashing 128 MiB would cost billions of fuel; refusing unhashed costs little.
    let fuel = l.instance().take_peak_fuel();
    assert!(fuel < 500_000_000, "fuel {fuel}");
}

#[test]
fn item2_signature_manifest_over_4_mib_is_denied_under_ignore() {
    let forge = Forge::default();
    let d = forge.image(REPO, "v1");
    let tag = format!("{REPO}:{}.sig", d.replace(':', "-"));
    let mut big = br#"{"schemaVersion":2,"layers":[],"annotations":{"pad":""#.to_vec();
    big.extend(std::iter::repeat_n(b'x', 5 << 20));
    big.extend(br#""}}"#);
    forge.raw_manifest(&tag, big);
    let mut l = signer_policy();
    let dec = decide(&mut l, &pod("bigsig", &["reg.example/app:v1"]), &forge);
    assert_denied_for(&dec, "over the limit of 4194304");
}

fn wrong_key_signatures(n: usize) -> Forge {
    let forge = Forge::default();
    let d = forge.image(REPO, "v1");
    let wrong = key("wrong");
    // Each payload distinct (its padding), so that every check is real work:
    // identical layers would be answered by the verification memo.
    let layers: Vec<Layer> = (0..n)
        .map(|i| Layer {
            padding: i,
            ..Layer::new(&wrong, &d)
        })
        .collect();
    forge.sign(REPO, &d, &layers);
    forge
}

fn keys(n: usize) -> Vec<String> {
    (0..n).map(|i| public_pem(&key(&format!("k{i}")))).collect()
}

/// 64 copies of one wrong signature cost one check per key: the
/// verification memo answers the rest with the same failure (what remains
/// is parsing and hashing 64 layers, so the ratio is no longer 10x now that
/// a check with a key's table costs little more than that).
#[test]
fn identical_wrong_signatures_are_verified_once() {
    let d_forge = wrong_key_signatures(64);
    let same = Forge::default();
    let d = same.image(REPO, "v1");
    let wrong = key("wrong");
    let layers: Vec<Layer> = (0..64).map(|_| Layer::new(&wrong, &d)).collect();
    same.sign(REPO, &d, &layers);
    let mut fuel = Vec::new();
    for forge in [&d_forge, &same] {
        let mut l = load(key_policy("p", &["reg.example/*"], &keys(4), IGNORE));
        l.instance().take_peak_fuel();
        let dec = decide(&mut l, &pod("w", &["reg.example/app:v1"]), forge);
        assert_denied_for(&dec, "no matching signatures: invalid signature");
        fuel.push(l.instance().take_peak_fuel());
    }
    assert!(
        fuel[1] * 3 < fuel[0],
        "identical signatures used {} fuel, distinct ones {}",
        fuel[1],
        fuel[0]
    );
}

#[test]
fn item2_four_keys_by_64_wrong_signatures_finish_and_fail() {
    let forge = wrong_key_signatures(64);
    let mut l = load(key_policy("p", &["reg.example/*"], &keys(4), IGNORE));
    l.instance().take_peak_fuel();
    let dec = decide(&mut l, &pod("w", &["reg.example/app:v1"]), &forge);
    assert_denied_for(&dec, "no matching signatures: invalid signature");
    let fuel = l.instance().take_peak_fuel();
    assert!(fuel < FUEL_PER_CALL / 2, "fuel {fuel} of {FUEL_PER_CALL}");
}

#[test]
fn item2_past_the_work_budget_images_fail_not_trap() {
    // 16 keys x 64 signatures = 1024 P-256 checks, twice the budget.
    let forge = wrong_key_signatures(64);
    let mut l = load(key_policy("p", &["reg.example/*"], &keys(16), IGNORE));
    l.instance().take_peak_fuel();
    let dec = decide(&mut l, &pod("w", &["reg.example/app:v1"]), &forge);
    assert_denied_for(&dec, "verification work limit reached");
    let fuel = l.instance().take_peak_fuel();
    assert!(
        fuel < FUEL_PER_CALL * 3 / 4,
        "fuel {fuel} of {FUEL_PER_CALL}"
    );
}

#[test]
fn item14_a_wall_clock_deadline_interrupts_the_module() {
    let forge = wrong_key_signatures(64);
    // 512 checks take ~100 ms; the runner's usual grace past a deadline
    // (100 ms, so the module can still turn late answers into a decision)
    // would let them finish, so this runner's grace is one tick.
    let runner = ModuleRunner::new()
        .unwrap()
        .with_deadline_grace(std::time::Duration::from_millis(10));
    let mut l = load_with(
        &runner,
        key_policy("p", &["reg.example/*"], &keys(8), IGNORE),
    );
    let request = serde_json::to_vec(&serde_json::json!({
        "object": pod("slow", &["reg.example/app:v1"])
    }))
    .unwrap();
    let start = std::time::Instant::now();
    let r = l.decide_bytes(
        &request,
        &forge,
        Some(start + std::time::Duration::from_millis(10)),
    );
    let e = r.expect_err("512 checks cannot finish in 10 ms");
    assert!(matches!(e, RunnerError::Deadline), "{e}");
    assert!(e.is_deadline());
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
    // The instance is replaced and the next request is decided.
    l.reset().unwrap();
    let (ok, _) = signed_image("k0");
    let d = decide(&mut l, &pod("next", &["reg.example/app:v1"]), &ok);
    assert!(d.allowed, "{d:#?}");
}

fn unsigned_forge() -> Forge {
    let forge = Forge::default();
    forge.image(REPO, "v1");
    forge.image("docker.io/acme/app", "v1");
    forge.image("docker.io/library/nginx", "1.27");
    forge.image("docker.io/nginx", "1.27");
    forge
}

#[test]
fn item3_empty_exclude_filters_exclude_nothing_and_are_linted() {
    let forge = unsigned_forge();
    for exclude in [
        "      exclude: {any: [{}]}",
        "      exclude: {all: [{}]}",
        "      exclude: {resources: {}}",
        "      exclude: {any: [{resources: {}}]}",
    ] {
        let mut l = load(key_policy_with(
            "p",
            &["reg.example/*"],
            &keys(1),
            "",
            exclude,
        ));
        assert!(
            l.lints
                .to_string()
                .contains("empty exclude filter excludes nothing"),
            "{exclude}: {}",
            l.lints
        );
        let d = decide(&mut l, &pod("x", &["reg.example/app:v1"]), &forge);
        assert_denied_for(&d, "no signatures found");
    }
}

#[test]
fn item4_subjects_without_user_info_exclude_nothing() {
    let forge = unsigned_forge();
    let exclude = "      exclude:\n        any:\n          - subjects: [{kind: User, name: admin}]\n          - clusterRoles: [cluster-admin]\n          - resources: {kinds: [Pod]}\n            roles: ['default:deployer']";
    let mut l = load(key_policy_with(
        "p",
        &["reg.example/*"],
        &keys(1),
        "",
        exclude,
    ));
    let p = pod("x", &["reg.example/app:v1"]);
    let d = decide(&mut l, &p, &forge);
    assert_denied_for(&d, "no signatures found");
    // With user info, each clause excludes the users it names, and no one else.
    for (user, excluded) in [
        (serde_json::json!({"username": "admin"}), true),
        (
            serde_json::json!({"username": "dev", "clusterRoles": ["cluster-admin"]}),
            true,
        ),
        (
            serde_json::json!({"username": "dev", "roles": ["default:deployer"]}),
            true,
        ),
        (
            serde_json::json!({"username": "dev", "roles": ["other:deployer"]}),
            false,
        ),
    ] {
        let r = serde_json::json!({"object": p, "userInfo": user});
        let d = l.decide_request(&r, &forge).unwrap();
        assert_eq!(d.allowed, excluded, "{user}: {d:#?}");
    }
}

#[test]
fn item5_registry_spellings_do_not_escape_policies() {
    let forge = unsigned_forge();
    let mut l = load(key_policy(
        "p",
        &["docker.io/acme/*", "reg.example/*", "docker.io/nginx*"],
        &keys(1),
        "",
    ));
    for image in [
        "index.docker.io/acme/app:v1",
        "registry-1.docker.io/acme/app:v1",
        "docker.io:443/acme/app:v1",
        "INDEX.DOCKER.IO/acme/app:v1",
        "reg.example:443/app:v1",
        "REG.EXAMPLE/app:v1",
        "docker.io/library/nginx:1.27",
        "index.docker.io/library/nginx:1.27",
        "library/nginx:1.27",
    ] {
        let d = decide(&mut l, &pod("x", &[image]), &forge);
        assert_denied_for(&d, "no signatures found");
    }
    // An upper-case repository is not a reference: denied, saying why.
    let d = decide(&mut l, &pod("x", &["reg.example/Acme/app:v1"]), &forge);
    assert_denied_for(&d, "repository name must be lowercase");
}

#[test]
fn item7_validate_phase_needs_the_digest_in_the_image() {
    let (forge, digest) = signed_image("k0");
    let policy = key_policy("p", &["reg.example/*"], &keys(1), "")
        .replace("mutateDigest: false", "mutateDigest: true")
        .replace("verifyDigest: false", "verifyDigest: true");
    let mut l = load(policy);
    let tagged = pod("x", &["reg.example/app:v1"]);
    // The mutating webhook pins the digest, so the combined decision passes.
    let d = decide(&mut l, &tagged, &forge);
    assert!(d.allowed, "{d:#?}");
    // The validating webhook sees what mutation left: a tag alone is denied.
    let r = serde_json::json!({"object": tagged, "phase": "validate"});
    let d = l.decide_request(&r, &forge).unwrap();
    assert_denied_for(&d, "missing digest for reg.example/app:v1");
    let pinned = pod("x", &[&format!("reg.example/app:v1@{digest}")]);
    let r = serde_json::json!({"object": pinned, "phase": "validate"});
    let d = l.decide_request(&r, &forge).unwrap();
    assert!(d.allowed, "{d:#?}");
}

#[test]
fn a_resource_that_exhausts_the_fuel_does_not_stop_the_others() {
    let forge = wrong_key_signatures(64);
    let good = forge.image("reg.example/good", "v1");
    let k0 = key("k0");
    forge.sign("reg.example/good", &good, &[Layer::new(&k0, &good)]);
    // 8 keys x 64 wrong signatures need about 5e8 fuel; give each call of
    // the admissions 3e8 (compiling the 8 keys' tables takes more than that).
    let mut loaded = load(key_policy("p", &["reg.example/*"], &keys(8), ""));
    loaded.instance().set_fuel_per_call(300_000_000);
    let resources = format!(
        "{}\n---\n{}\n",
        serde_json::to_string(&pod("heavy", &["reg.example/app:v1"])).unwrap(),
        serde_json::to_string(&pod("light", &["reg.example/good:v1"])).unwrap()
    );
    let out = apply::run(
        &mut loaded,
        &[NamedText {
            name: "pods.yaml".into(),
            text: resources,
        }],
        None,
        &forge,
    )
    .unwrap();
    assert_eq!(out.len(), 2);
    assert!(!out[0].allowed);
    let e = out[0].error.as_deref().unwrap();
    assert!(e.contains("CPU budget (300000000 fuel)"), "{e}");
    assert!(!e.contains("wasm backtrace") && !e.contains("0x"), "{e}");
    assert!(out[1].allowed, "{:#?}", out[1]);
}

/// Answers from the forge, except a transport error for one registry.
struct Flaky<'a> {
    forge: &'a Forge,
    down: &'static str,
}

impl ArtifactSource for Flaky<'_> {
    fn fetch(&self, f: &imgverify::engine::Fetch) -> imgverify_host::source::SourceAnswer {
        if f.registry == self.down {
            imgverify_host::source::SourceAnswer::Error("503 Service Unavailable".into())
        } else {
            self.forge.fetch(f)
        }
    }
}

#[test]
fn a_transport_error_does_not_hide_a_decisive_failure() {
    let forge = Forge::default();
    forge.image(REPO, "v1");
    let k = public_pem(&key("k0"));
    let indented: String = k
        .lines()
        .map(|l| format!("                      {l}\n"))
        .collect();
    let entry = |repo: &str| {
        format!(
            "                - repository: {repo}\n                  keys:\n                    publicKeys: |-\n{indented}                    rekor: {{ignoreTlog: true}}\n"
        )
    };
    // Both entries are required (the default count): one finds no signature
    // in the trusted repository, the other's registry is down.
    let policy = format!(
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {{name: p}}\nspec:\n  webhookConfiguration: {{failurePolicy: Ignore}}\n  rules:\n    - name: r\n      match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}\n      verifyImages:\n        - imageReferences: [\"reg.example/*\"]\n          failureAction: Enforce\n          mutateDigest: false\n          verifyDigest: false\n          attestors:\n            - entries:\n{}{}",
        entry("reg.example/trusted-sigs"),
        entry("evil.example/sigs")
    );
    let mut l = load(policy.clone());
    let flaky = Flaky {
        forge: &forge,
        down: "evil.example",
    };
    let d = decide(&mut l, &pod("x", &["reg.example/app:v1"]), &flaky);
    assert_denied_for(&d, "no signatures found");
    // The same with two attestor sets, the one that is down first.
    let two_sets = policy.replace(
        &format!(
            "{}{}",
            entry("reg.example/trusted-sigs"),
            entry("evil.example/sigs")
        ),
        &format!(
            "{}            - entries:\n{}",
            entry("evil.example/sigs"),
            entry("reg.example/trusted-sigs")
        ),
    );
    assert_ne!(two_sets, policy);
    let mut l = load(two_sets);
    let d = decide(&mut l, &pod("x", &["reg.example/app:v1"]), &flaky);
    assert_denied_for(&d, "no signatures found");
}

#[test]
fn artifacts_past_the_store_budget_fail_and_stop_fetching() {
    let forge = Forge::default();
    // 40 images whose tags answer 4 MiB each: 160 MiB, past the 128 MiB budget.
    let mut images = Vec::new();
    for i in 0..40 {
        let repo = format!("reg.example/big{i}");
        let mut manifest = b"{\"schemaVersion\":2,\"annotations\":{\"pad\":\"".to_vec();
        manifest.extend(std::iter::repeat_n(b'x', (4 << 20) - 64));
        manifest.extend(b"\"}}");
        forge.raw_manifest(&format!("{repo}:v1"), manifest);
        images.push(format!("{repo}:v1"));
    }
    let refs: Vec<&str> = images.iter().map(String::as_str).collect();
    let mut l = load(key_policy("p", &["reg.example/*"], &keys(1), IGNORE));
    let d = decide(&mut l, &pod("big", &refs), &forge);
    assert_denied_for(&d, "artifacts exceed 128 MiB");
    let fetched = forge.fetches.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        fetched, 40,
        "once the budget is spent nothing more is fetched"
    );
}
