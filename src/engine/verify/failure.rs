//! Why an image did not verify: one typed failure per cause, displayed in
//! Kyverno's words (the messages users and test suites match on).

use crate::limits;

/// A verification failure (or, in [`super::Verdict::Error`], a transport
/// failure) of one image, attestor set or entry.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(in crate::engine) enum Failure {
    /// The tag could not be resolved to a digest.
    #[error("failed to resolve digest of {image}: {reason}")]
    ResolveDigest {
        /// The image with its tag.
        image: String,
        /// The fetch failure.
        reason: String,
    },
    /// The signature repository override does not parse.
    #[error("invalid signature repository {repository:?}: {reason}")]
    SignatureRepository {
        /// The override.
        repository: String,
        /// The parse error.
        reason: String,
    },
    /// A signature manifest or referrers index could not be fetched or parsed.
    #[error("{what} {location}: {reason}")]
    Artifact {
        /// What was fetched (`signature manifest`, `fetching signatures`, …).
        what: &'static str,
        /// `registry/repository:tag` or `@digest`.
        location: String,
        /// Why.
        reason: String,
    },
    /// No signature at all (`.sig` tag or referrers).
    #[error("no signatures found{}", details(.0))]
    NoSignatures(Vec<String>),
    /// Signatures were found and none verified.
    #[error("no matching signatures: {}", .0.join("; "))]
    NoMatchingSignatures(Vec<String>),
    /// Some signatures could not be fetched (transport) and none verified.
    #[error("signatures could not all be fetched: {}", .0.join("; "))]
    SignaturesUnfetched(Vec<String>),
    /// No verified signature carries the entry's annotations (`k=v`).
    #[error("no signature matched the required annotations: {}", .0.join(", "))]
    Annotations(Vec<String>),
    /// A signature manifest has more layers than are read.
    #[error("signature manifest has {0} layers, over the limit of {max}", max = limits::MAX_SIGNATURE_LAYERS)]
    TooManyLayers(usize),
    /// More referrers than are read (Kyverno's limit and message).
    #[error(
        "failed to fetch referrers: too many referrers found, max limit is {}",
        limits::MAX_BUNDLE_REFERRERS
    )]
    TooManyReferrers,
    /// The session's verification budget is spent.
    #[error(
        "verification work limit reached: this admission needs more than {} P-256-equivalent signature checks",
        limits::MAX_VERIFICATION_COST
    )]
    WorkLimit,
    /// No Sigstore bundle verified (Kyverno's message, then each bundle's reason).
    #[error("sigstore bundle verification failed: no matching signatures found{}", details(.0))]
    NoMatchingBundles(Vec<String>),
    /// Some bundles could not be fetched (transport) and none verified.
    #[error("bundles could not all be fetched: {}", .0.join("; "))]
    BundlesUnfetched(Vec<String>),
    /// Notary signatures were found and none verified (notation-go's
    /// message inside Kyverno's, then each signature's reason).
    #[error("failed to verify {reference}: signature verification failed{}", details(.reasons))]
    NotarySignatures {
        /// `registry/repository@digest`.
        reference: String,
        /// Each signature manifest's digest and why it failed.
        reasons: Vec<String>,
    },
    /// No Notary signature refers to the image (notation-go's message).
    #[error(
        "failed to verify {0}: no signature is associated with \"{0}\", make sure the artifact was signed successfully"
    )]
    NoNotarySignatures(String),
    /// Some Notary signatures could not be fetched (transport) and none verified.
    #[error("failed to verify {reference}: signatures could not all be fetched{}", details(.reasons))]
    NotarySignaturesUnfetched {
        /// `registry/repository@digest`.
        reference: String,
        /// Each failure.
        reasons: Vec<String>,
    },
    /// A key read when the image is verified could not be had (Kyverno's
    /// `failed to load public key from …`).
    #[error("failed to load public key from {key}: {reason}")]
    KeyLoad {
        /// The reference: `k8s://namespace/name`, or the key as written.
        key: String,
        /// Why.
        reason: String,
    },
    /// A policy feature the offline engine cannot verify: it fails closed.
    #[error("{0}")]
    Unsupported(String),
    /// `validate.deny` held (or could not be evaluated): Kyverno's message.
    #[error("validation in verifyImages failed: {0}")]
    Deny(String),
    /// An attestation entry without a type (Kyverno's message).
    #[error("{0}: missing type")]
    MissingType(String),
    /// No attestation manifest or layer at all.
    #[error("failed to fetch attestations: no attestations found{}", details(.0))]
    NoAttestations(Vec<String>),
    /// Attestations were found and none verified.
    #[error("failed to fetch attestations: no matching attestations: {}", .0.join("; "))]
    NoMatchingAttestations(Vec<String>),
    /// Some attestations could not be fetched (transport) and none verified.
    #[error("failed to fetch attestations: attestations could not all be fetched: {}", .0.join("; "))]
    AttestationsUnfetched(Vec<String>),
    /// Verified statements of the type were checked and failed (or none
    /// has the type): Kyverno's messages.
    #[error("{0}")]
    AttestationCheck(String),
    /// An attestation's attestor set verified too few entries.
    #[error(
        "image attestations verification failed, verifiedCount: {verified}, requiredCount: {required}, error: {}",
        .errors.iter().map(|(p, f)| format!("{p}: {f}")).collect::<Vec<_>>().join("; ")
    )]
    Attestations {
        /// Entries that verified.
        verified: usize,
        /// Entries required.
        required: usize,
        /// Each failed entry with its path.
        errors: Vec<(String, Failure)>,
    },
    /// An attestor set's entries that did not verify, each with its path.
    #[error("{}", .0.iter().map(|(p, f)| format!("{p}: {f}")).collect::<Vec<_>>().join("; "))]
    Entries(Vec<(String, Failure)>),
}

/// `": a; b"`, or nothing.
fn details(reasons: &[String]) -> String {
    if reasons.is_empty() {
        String::new()
    } else {
        format!(": {}", reasons.join("; "))
    }
}
