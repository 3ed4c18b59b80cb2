//! RFC 3161 timestamp countersignatures (placeholder until the verifier lands).
use super::NotaryError;
use crate::crypto::HashAlgorithm;
use crate::crypto::x509::Certificate;

/// A verified timestamp.
pub struct Timestamp {
    /// genTime (unix seconds).
    pub gen_time: i64,
    /// Accuracy in milliseconds.
    pub accuracy_millis: u64,
}

impl Timestamp {
    /// Earliest instant.
    pub fn earliest(&self) -> i64 {
        self.gen_time
    }
    /// Latest instant.
    pub fn latest(&self) -> i64 {
        self.gen_time
    }
}

/// Verifies a timestamp token.
pub fn verify(
    _token: &[u8],
    _signature: &[u8],
    _imprint_hash: HashAlgorithm,
    _tsa_roots: &[Certificate],
) -> Result<Timestamp, NotaryError> {
    Err(NotaryError::AuthenticTimestamp(
        "timestamps are not verified yet".into(),
    ))
}
