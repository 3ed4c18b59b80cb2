//! imgverify: a pure image-trust engine for Kyverno `verifyImages` policies.
//!
//! The engine parses policies, matches workload images, and verifies
//! signatures on bytes it is given; when it needs more bytes it says which
//! (see [`engine`]). It has no network, clock or file access, so the same code
//! runs natively, in wasmtime (C ABI) and in the browser (wasm-bindgen).

pub mod apply;
pub mod cel;
pub mod conditions;
pub mod crypto;
pub mod decision;
pub mod digest;
pub mod engine;
pub mod kube_path;
pub mod limits;
pub mod notary;
pub mod oci;
pub mod policy;
pub mod reference;
pub mod resource;
pub mod sigstore;
pub mod wildcard;
pub mod yaml;

pub use engine::{Engine, Outcome, Request, Session};
pub mod abi;
pub mod admission;
