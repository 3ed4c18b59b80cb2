//! Wycheproof vectors through the project's verification layer.
//!
//! `valid` must verify and `invalid` must be rejected. `acceptable` cases
//! (legacy encodings such as a missing NULL in the PKCS#1 DigestInfo) are
//! rejected: the engine is a strict verifier, and the test asserts that.
mod common;

use imgverify::crypto::{HashAlgorithm, PublicKey, fixed_base, memo};
use serde_json::Value;

#[derive(Clone, Copy)]
enum Scheme {
    EcdsaDer,
    EcdsaP1363,
    RsaPkcs1,
    RsaPss,
    Ed25519,
}

fn hash(name: &str) -> HashAlgorithm {
    match name {
        "SHA-256" => HashAlgorithm::Sha256,
        "SHA-384" => HashAlgorithm::Sha384,
        "SHA-512" => HashAlgorithm::Sha512,
        "SHA-224" => HashAlgorithm::Sha224,
        other => panic!("hash {other}"),
    }
}

/// Runs a vector file with the verification memo off (by the curve crate,
/// with a table for every key, and with the generator's table and each
/// key's wNAF), then on and cold, on and warm. Every pass must give every case its expected result:
/// a memo hit never turns an invalid signature valid or the reverse.
fn run(file: &str, scheme: Scheme) -> (usize, usize, usize) {
    memo::set_capacity(0);
    fixed_base::set_enabled(false);
    let off = run_once(file, scheme, Tables::Off);
    fixed_base::set_enabled(true);
    let before = fixed_base::verifications();
    let tables = run_once(file, scheme, Tables::Every);
    if file.contains("secp256r1") || file.contains("secp384r1") {
        assert!(
            fixed_base::verifications() - before >= tables.0 as u64,
            "{file}: the tables pass verified with tables"
        );
    }
    assert_eq!(off, tables, "{file}: fixed-base tables changed an outcome");
    fixed_base::set_key_tables(false);
    let before = fixed_base::verifications();
    let wnaf = run_once(file, scheme, Tables::AsEarned);
    fixed_base::set_key_tables(true);
    if file.contains("secp256r1") || file.contains("secp384r1") {
        assert!(
            fixed_base::verifications() - before >= wnaf.0 as u64,
            "{file}: the wNAF pass verified outside the curve crate"
        );
    }
    assert_eq!(off, wnaf, "{file}: the keys' wNAF changed an outcome");
    assert_eq!(memo::stats().hits + memo::stats().misses, 0, "memo off");
    memo::set_capacity(memo::DEFAULT_ENTRIES);
    let cold = run_once(file, scheme, Tables::AsEarned);
    let after_cold = memo::stats();
    let warm = run_once(file, scheme, Tables::AsEarned);
    let after_warm = memo::stats();
    assert_eq!((off, cold), (cold, warm), "{file}: memo changed an outcome");
    // The warm pass ran no cryptography: every case that reached a check
    // was answered from the memo (valid and invalid alike).
    assert_eq!(
        after_warm.misses, after_cold.misses,
        "{file}: verified again"
    );
    assert!(
        after_warm.hits - after_cold.hits >= warm.0 as u64,
        "{file}: fewer hits than valid cases"
    );
    off
}

/// How ECDSA keys get fixed-base tables in a pass.
#[derive(Clone, Copy, PartialEq)]
enum Tables {
    /// None: the curve crate verifies everything.
    Off,
    /// Every key's table built before its first test.
    Every,
    /// As the engine does: keys earn a table by use.
    AsEarned,
}

fn run_once(file: &str, scheme: Scheme, tables: Tables) -> (usize, usize, usize) {
    let v = common::json(&format!("wycheproof/testvectors_v1/{file}"));
    let (mut valid, mut invalid, mut acceptable) = (0, 0, 0);
    for g in v["testGroups"].as_array().unwrap() {
        let der = common::unhex(g["publicKeyDer"].as_str().unwrap());
        let key = match PublicKey::from_spki_der(&der) {
            Ok(k) if tables == Tables::Every => {
                fixed_base::clear_key_tables();
                k.with_tables()
            }
            Ok(k) => k,
            Err(e) => {
                // A key the loader refuses can only be right if every test in the group is invalid.
                for t in g["tests"].as_array().unwrap() {
                    assert_ne!(
                        t["result"], "valid",
                        "{file} tc {}: key refused ({e}) but test valid",
                        t["tcId"]
                    );
                }
                continue;
            }
        };
        let h = g.get("sha").and_then(Value::as_str).map(hash);
        for t in g["tests"].as_array().unwrap() {
            let msg = common::unhex(t["msg"].as_str().unwrap());
            let sig = common::unhex(t["sig"].as_str().unwrap());
            let r = match scheme {
                Scheme::EcdsaDer => key.verify_ecdsa_der(h.unwrap(), &msg, &sig),
                Scheme::EcdsaP1363 => key.verify_ecdsa_p1363(h.unwrap(), &msg, &sig),
                Scheme::RsaPkcs1 => key.verify_rsa_pkcs1v15(h.unwrap(), &msg, &sig),
                Scheme::RsaPss => {
                    assert_eq!(g["mgfSha"], g["sha"], "{file}: MGF hash differs");
                    key.verify_rsa_pss(
                        h.unwrap(),
                        Some(g["sLen"].as_u64().unwrap() as usize),
                        &msg,
                        &sig,
                    )
                }
                Scheme::Ed25519 => key.verify_ed25519(&msg, &sig),
            };
            let id = &t["tcId"];
            match t["result"].as_str().unwrap() {
                "valid" => {
                    assert!(
                        r.is_ok(),
                        "{file} tc {id} ({}) must verify: {r:?}",
                        t["comment"]
                    );
                    valid += 1;
                }
                "invalid" => {
                    assert!(
                        r.is_err(),
                        "{file} tc {id} ({}) must be rejected",
                        t["comment"]
                    );
                    invalid += 1;
                }
                "acceptable" => {
                    assert!(
                        r.is_err(),
                        "{file} tc {id} ({}) acceptable: strict verifier rejects",
                        t["comment"]
                    );
                    acceptable += 1;
                }
                other => panic!("result {other}"),
            }
        }
    }
    eprintln!(
        "{file}: {valid} valid verified, {invalid} invalid rejected, {acceptable} acceptable rejected"
    );
    (valid, invalid, acceptable)
}

#[test]
fn ecdsa_p256_der() {
    assert_eq!(
        run("ecdsa_secp256r1_sha256_test.json", Scheme::EcdsaDer),
        (174, 310, 0)
    );
}
#[test]
fn ecdsa_p384_der() {
    assert_eq!(
        run("ecdsa_secp384r1_sha384_test.json", Scheme::EcdsaDer),
        (194, 310, 0)
    );
}
#[test]
fn ecdsa_p521_der() {
    assert_eq!(
        run("ecdsa_secp521r1_sha512_test.json", Scheme::EcdsaDer),
        (232, 310, 0)
    );
}
#[test]
fn ecdsa_p256_p1363() {
    assert_eq!(
        run("ecdsa_secp256r1_sha256_p1363_test.json", Scheme::EcdsaP1363),
        (173, 89, 0)
    );
}
#[test]
fn ecdsa_p384_p1363() {
    assert_eq!(
        run("ecdsa_secp384r1_sha384_p1363_test.json", Scheme::EcdsaP1363),
        (193, 87, 0)
    );
}
#[test]
fn ed25519() {
    assert_eq!(run("ed25519_test.json", Scheme::Ed25519), (88, 63, 0));
}
#[test]
fn rsa_pkcs1_2048() {
    assert_eq!(
        run("rsa_signature_2048_sha256_test.json", Scheme::RsaPkcs1),
        (9, 249, 1)
    );
}
#[test]
fn rsa_pkcs1_4096() {
    assert_eq!(
        run("rsa_signature_4096_sha256_test.json", Scheme::RsaPkcs1),
        (7, 250, 1)
    );
}
#[test]
fn rsa_pss() {
    assert_eq!(
        run("rsa_pss_2048_sha256_mgf1_32_test.json", Scheme::RsaPss),
        (63, 45, 0)
    );
    assert_eq!(
        run("rsa_pss_3072_sha256_mgf1_32_test.json", Scheme::RsaPss),
        (63, 45, 0)
    );
    assert_eq!(
        run("rsa_pss_2048_sha384_mgf1_48_test.json", Scheme::RsaPss),
        (95, 46, 0)
    );
    assert_eq!(
        run("rsa_pss_4096_sha384_mgf1_48_test.json", Scheme::RsaPss),
        (95, 46, 0)
    );
}
