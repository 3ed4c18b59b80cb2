//! The sigstore-conformance bundle cases, each run twice (artifact bytes and
//! artifact digest) through `sigstore::bundle`, as `verify-bundle` runs them.
mod common;

use imgverify::crypto::PublicKey;
use imgverify::sigstore::bundle::{self, Artifact, Bundle, BundleCheck, Signer};
use imgverify::sigstore::fulcio::Identity;
use imgverify::sigstore::trusted_root::TrustedRoot;
use serde_json::Value;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Runs one case; `Ok` when it verified, else the reason.
fn run(case: &Value, by_digest: bool) -> Result<(), String> {
    let root_text =
        String::from_utf8(common::bytes(case["trusted_root"].as_str().unwrap())).unwrap();
    let root = TrustedRoot::parse(&root_text).map_err(|e| e.to_string())?;
    let bundle = Bundle::parse(&common::bytes(case["bundle"].as_str().unwrap()))
        .map_err(|e| e.to_string())?;
    let artifact_bytes = common::bytes(case["artifact"].as_str().unwrap());
    let digest: [u8; 32] = common::unhex(case["artifact_sha256"].as_str().unwrap())
        .try_into()
        .unwrap();
    let artifact = if by_digest {
        Artifact::Sha256(&digest)
    } else {
        Artifact::Bytes(&artifact_bytes)
    };
    let (identity, issuer) = (
        case["identity"].as_str().unwrap_or(""),
        case["issuer"].as_str().unwrap_or(""),
    );
    let accept = |id: &Identity| {
        if !id.sans.iter().any(|s| s == identity) {
            return Err(format!("identity {:?} is not {identity:?}", id.sans));
        }
        if id.issuer != issuer {
            return Err(format!("issuer {:?} is not {issuer:?}", id.issuer));
        }
        Ok(())
    };
    let key;
    let signer = match case["key"].as_str() {
        Some(k) => {
            key = PublicKey::from_pem(&String::from_utf8(common::bytes(k)).unwrap())
                .map_err(|e| e.to_string())?;
            Signer::Key(&key)
        }
        None => Signer::Identity(&accept),
    };
    bundle::verify(
        &bundle,
        &BundleCheck::strict(&root, signer, artifact, now()),
    )
    .map(|_| ())
    .map_err(|e| e.to_string())
}

#[test]
fn conformance_bundles() {
    let cases = common::json("sigstore-conformance/cases.json");
    let mut report = Vec::new();
    let mut runs = 0;
    let mut wrong = 0;
    for case in cases.as_array().unwrap() {
        let name = case["case"].as_str().unwrap();
        for by_digest in [false, true] {
            let got = run(case, by_digest);
            let ok = (case["expect"] == "pass") == got.is_ok();
            runs += 1;
            if !ok {
                wrong += 1;
            }
            report.push(format!(
                "{} {name} {}: {}",
                if ok { "ok   " } else { "WRONG" },
                if by_digest { "digest" } else { "path" },
                got.err().unwrap_or_default()
            ));
        }
    }
    println!("{}", report.join("\n"));
    assert_eq!(wrong, 0, "{}", report.join("\n"));
    // 70 cases, each by path and by digest.
    assert_eq!(runs, 140);
}

/// The verification memo changes no outcome: every case (by path) gives the
/// same result with the memo off, on and cold, and on and warm, where every
/// check is answered from it.
#[test]
fn outcomes_are_identical_with_the_verification_memo_on_and_off() {
    use imgverify::crypto::memo;
    let cases = common::json("sigstore-conformance/cases.json");
    let pass = || -> Vec<Result<(), String>> {
        cases
            .as_array()
            .unwrap()
            .iter()
            .map(|c| run(c, false))
            .collect()
    };
    memo::set_capacity(0);
    let off = pass();
    memo::set_capacity(memo::DEFAULT_ENTRIES);
    let cold = pass();
    let misses = memo::stats().misses;
    let warm = pass();
    let stats = memo::stats();
    assert_eq!(off, cold);
    assert_eq!(cold, warm);
    assert!(stats.hits > 0, "the warm pass hit nothing: {stats:?}");
    // The warm pass ran no cryptography: every check, passed or failed, was
    // answered from the memo with the result it had.
    assert_eq!(stats.misses, misses, "the warm pass verified again");
}
