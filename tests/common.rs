//! Helpers shared by the vector tests: locating and reading ../shared/vectors.
#![allow(dead_code)]

use serde_json::Value;
use std::path::PathBuf;

/// The shared vectors folder (../shared/vectors from the repository root).
pub fn vectors() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors");
    assert!(p.is_dir(), "test vectors not found at {}", p.display());
    p
}

/// Reads a JSON vector file relative to the vectors folder.
pub fn json(rel: &str) -> Value {
    let path = vectors().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Reads a file relative to the vectors folder.
pub fn bytes(rel: &str) -> Vec<u8> {
    let path = vectors().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Hex decoding for vector fields.
pub fn unhex(s: &str) -> Vec<u8> {
    imgverify::digest::hex_decode(s).unwrap_or_else(|| panic!("bad hex {s}"))
}
