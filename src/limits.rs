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
/// Largest Kubernetes API answer a context entry reads (bytes).
pub const MAX_KUBE_API_BYTES: usize = 4 * 1024 * 1024;
/// Total bytes a session store may hold; artifacts past it fail verification.
pub const MAX_STORE_BYTES: usize = 128 * 1024 * 1024;
/// Most artifacts one session may fetch; artifacts past it fail verification.
pub const MAX_STORE_ENTRIES: usize = 4096;
/// Most Sigstore bundle referrers considered for one image (Kyverno's limit).
pub const MAX_BUNDLE_REFERRERS: usize = 50;
/// Most signature layers considered in one signature manifest (signatures per image).
pub const MAX_SIGNATURE_LAYERS: usize = 64;
/// Largest cosign simple-signing payload (bytes); real ones are under 1 KiB.
pub const MAX_SIGNATURE_PAYLOAD_BYTES: usize = 64 * 1024;
/// Largest attestation layer or bundle read for its in-toto statement
/// (bytes): SBOMs are large, but an envelope past this fails the image with
/// a message naming the limit, never truncated.
pub const MAX_ATTESTATION_BYTES: usize = 8 * 1024 * 1024;
/// Most attestation layers considered in one `.att` manifest.
pub const MAX_ATTESTATION_LAYERS: usize = 64;
/// Most signature-verification work in one admission (one session), in P-256
/// verification equivalents, across every policy, rule, image and attestor
/// (each distinct check counted once: results are remembered). A P-256 check
/// costs 1, P-384/P-521 4 (8 when the policy hash is not the curve's),
/// RSA-2048 2, RSA-4096 4, Ed25519 2 (see `PublicKey::cosign_check_cost`).
/// Past it the image fails verification: a hostile registry cannot make an
/// admission run long enough to reach its deadline, which `failurePolicy:
/// Ignore` would forgive.
pub const MAX_VERIFICATION_COST: u32 = 512;
/// Most images extracted from one resource.
pub const MAX_IMAGES_PER_RESOURCE: usize = 256;
/// Most public keys after splitting multi-PEM `publicKeys` strings.
pub const MAX_KEYS_PER_ENTRY: usize = 64;
/// Most `imagePullSecrets` of a resource passed to the host.
pub const MAX_PULL_SECRETS: usize = 16;
/// Deepest nesting of `attestor` inside attestor sets.
pub const MAX_ATTESTOR_DEPTH: usize = 8;
/// Most evaluate rounds a host should run before giving up (a host-side guard).
pub const MAX_ROUNDS: usize = 8;
/// Most entries the verification memo may be configured to hold (about
/// 80 bytes each).
pub const MAX_VERIFICATION_MEMO_ENTRIES: usize = 262_144;
/// Largest Rekor bundle annotation accepted (bytes).
pub const MAX_REKOR_BUNDLE_BYTES: usize = 256 * 1024;
/// Most policies in one compiled engine.
pub const MAX_POLICIES: usize = 1024;

/// Most `GlobalContextEntry` documents in one set.
pub const MAX_GLOBAL_CONTEXT_ENTRIES: usize = 256;

/// Most projections of one `GlobalContextEntry`.
pub const MAX_GLOBAL_PROJECTIONS: usize = 64;
/// Most rules in one policy (after autogen).
pub const MAX_RULES_PER_POLICY: usize = 512;
