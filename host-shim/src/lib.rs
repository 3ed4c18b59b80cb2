//! The imgverify host shim: runs the engine module in wasmtime and serves it
//! from OCI layouts (and, later, registries) to the CLI.
//!
//! One concern per module: [`runner`] (wasmtime), [`source`] (artifacts),
//! [`inputs`] (files), [`apply`] (evaluation), [`output`] (formats),
//! [`kyverno_test`] (Kyverno CLI test suites).

pub mod apply;
pub mod bundle;
pub mod cache;
pub mod cluster;
pub mod cluster_resources;
pub mod context_files;
pub mod engine_config;
pub mod inputs;
pub mod kyverno_apply;
pub mod kyverno_test;
pub mod metrics;
pub mod output;
pub mod playground;
pub mod pull_secrets;
pub mod registry;
pub mod runner;
pub mod safe_fs;
pub mod serve;
pub mod source;
pub mod tuf;
pub mod verify_bundle;
pub mod wasm_names;
pub mod watched_secrets;
