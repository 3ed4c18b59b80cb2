//! Bounds on everything the engine reads from untrusted input.
//!
//! Each limit is checked before the data it guards is parsed or stored, and
//! exceeding one yields a typed error naming the limit, never a panic.

/// Largest policy document set accepted by `Engine::compile` (bytes).
pub const MAX_POLICY_BYTES: usize = 8 * 1024 * 1024;
/// Largest admission request / resource accepted by a session (bytes).
pub const MAX_REQUEST_BYTES: usize = 8 * 1024 * 1024;
/// Largest OCI manifest or index (bytes). Registries commonly cap at 4 MiB.
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;
/// Largest blob the engine will read (signature payloads, attestations).
pub const MAX_BLOB_BYTES: usize = 16 * 1024 * 1024;
/// Total bytes a session store may hold.
pub const MAX_STORE_BYTES: usize = 256 * 1024 * 1024;
/// Most artifacts a session store may hold.
pub const MAX_STORE_ENTRIES: usize = 4096;
/// Most signature layers considered in one signature manifest.
pub const MAX_SIGNATURE_LAYERS: usize = 64;
/// Most images extracted from one resource.
pub const MAX_IMAGES_PER_RESOURCE: usize = 256;
/// Most public keys after splitting multi-PEM `publicKeys` strings.
pub const MAX_KEYS_PER_ENTRY: usize = 64;
/// Deepest nesting of `attestor` inside attestor sets.
pub const MAX_ATTESTOR_DEPTH: usize = 8;
/// Most evaluate rounds a host should run before giving up (a host-side guard).
pub const MAX_ROUNDS: usize = 8;
/// Largest Rekor bundle annotation accepted (bytes).
pub const MAX_REKOR_BUNDLE_BYTES: usize = 256 * 1024;
/// Most policies in one compiled engine.
pub const MAX_POLICIES: usize = 1024;
/// Most rules in one policy (after autogen).
pub const MAX_RULES_PER_POLICY: usize = 512;
