//! The official JMESPath compliance suite (tests/jmespath-compliance, from
//! jmespath/jmespath.test) through `conditions::functions::search`.
//!
//! Every case runs: a `result` must come back equal (JSON equality, numbers
//! compared as f64), an `error` must come back as an error (a `syntax` error
//! as `QueryError::Invalid`; the other kinds need not match), and a case that
//! only carries `bench` must evaluate without error.
//!
//! A case that fails today is in [`SKIPS`] with its reason. The test fails on
//! any other failure, and on a skipped case that passes (remove it from the
//! list then), so the list stays honest.

use imgverify::conditions::functions::{QueryError, search};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A case known to fail: file, suite index, case index (both from 0), the
/// expression (checked, so the list cannot drift from the data), and why.
struct Skip {
    file: &'static str,
    suite: usize,
    case: usize,
    expression: &'static str,
    reason: &'static str,
}

const SKIPS: &[Skip] = &[
    // jmespath 0.5 deviations. The crate's bundled copy of the suite is older
    // than this case (added upstream in 2022, synced from jmespath.py).
    Skip {
        file: "functions.json",
        suite: 0,
        case: 17,
        expression: "avg(empty_list)",
        reason: "jmespath 0.5 computes 0/0 = NaN, which serde_json::Number::from_f64 refuses, \
                 so avg([]) is an error (\"Expected to be a valid f64\") instead of null",
    },
    // Kyverno's functions on top of the specification's.
    Skip {
        file: "functions.json",
        suite: 0,
        case: 110,
        expression: "sum(`[]`)",
        reason: "Kyverno's sum (numbers, quantities and durations) replaces the specification's \
                 and refuses an empty array (\"at least one element in the array is required\"), \
                 as Kyverno does",
    },
];

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/jmespath-compliance")
}

/// JSON equality with numbers compared as f64 (`1` equals `1.0`).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_eq(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Runs one case; `Err` says how it failed.
fn check(given: &Value, case: &Value) -> Result<(), String> {
    let expression = case["expression"]
        .as_str()
        .ok_or("case without a string expression")?;
    let got = std::panic::catch_unwind(|| search(expression, given, None))
        .map_err(|_| "search panicked".to_string())?;
    if let Some(expected) = case.get("result") {
        return match got {
            Ok(v) if json_eq(&v, expected) => Ok(()),
            Ok(v) => Err(format!("expected {expected}, got {v}")),
            Err(e) => Err(format!("expected {expected}, got error {e}")),
        };
    }
    if let Some(kind) = case.get("error") {
        let kind = kind.as_str().ok_or("error kind is not a string")?;
        if ![
            "syntax",
            "invalid-type",
            "invalid-value",
            "invalid-arity",
            "unknown-function",
        ]
        .contains(&kind)
        {
            return Err(format!("unknown error kind {kind:?}"));
        }
        return match got {
            Err(QueryError::Invalid { .. }) => Ok(()),
            Err(e @ QueryError::Failed { .. }) if kind == "syntax" => {
                Err(format!("expected a syntax error (Invalid), got {e}"))
            }
            Err(QueryError::Failed { .. }) => Ok(()),
            Ok(v) => Err(format!("expected a {kind} error, got {v}")),
        };
    }
    if case.get("bench").is_some() {
        return got
            .map(|_| ())
            .map_err(|e| format!("benchmark case failed: {e}"));
    }
    Err("case has neither result, error nor bench".into())
}

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn jmespath_compliance() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .expect("tests/jmespath-compliance")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no compliance files found");

    // (file, suite, case) -> skip; every entry must be seen exactly once.
    let mut skips: BTreeMap<(&str, usize, usize), (&Skip, bool)> = BTreeMap::new();
    for s in SKIPS {
        let dup = skips.insert((s.file, s.suite, s.case), (s, false));
        assert!(
            dup.is_none(),
            "{}#{}.{} listed twice",
            s.file,
            s.suite,
            s.case
        );
    }

    let (mut total, mut passed, mut skipped) = (0usize, 0usize, 0usize);
    let mut problems = Vec::new();
    for path in &files {
        let file = path.file_name().unwrap().to_str().unwrap();
        let suites = read(path);
        for (si, suite) in suites
            .as_array()
            .expect("a list of suites")
            .iter()
            .enumerate()
        {
            let given = &suite["given"];
            let cases = suite["cases"].as_array().expect("suite cases");
            for (ci, case) in cases.iter().enumerate() {
                total += 1;
                let expression = case["expression"].as_str().unwrap_or("<none>");
                let id = format!("{file}#{si}.{ci} {expression:?}");
                let outcome = check(given, case);
                match (skips.get_mut(&(file, si, ci)), outcome) {
                    (None, Ok(())) => passed += 1,
                    (None, Err(why)) => problems.push(format!("FAILED {id}: {why}")),
                    (Some((skip, seen)), outcome) => {
                        *seen = true;
                        if skip.expression != expression {
                            problems.push(format!(
                                "skip list entry {file}#{si}.{ci} names {:?}, the data has {expression:?}",
                                skip.expression
                            ));
                        } else if outcome.is_ok() {
                            problems.push(format!(
                                "PASSES NOW {id} (skipped for: {}); remove it from SKIPS",
                                skip.reason
                            ));
                        } else {
                            skipped += 1;
                        }
                    }
                }
            }
        }
    }
    for ((file, si, ci), (skip, seen)) in &skips {
        if !seen {
            problems.push(format!(
                "skip list entry {file}#{si}.{ci} {:?} matches no case",
                skip.expression
            ));
        }
    }

    eprintln!("jmespath compliance: {passed} passed, {skipped} skipped (known), of {total}");
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_eq!(passed + skipped, total);
}
