//! Notary Project signatures, verified as notation-go verifies them, offline.
//!
//! - [`envelope`]: what an envelope says and the header rules;
//!   [`jws`] and [`cose`] decode the two encodings ([`cbor`] reads CBOR).
//! - [`chain`]: the certificate-chain rules for code signing and TSA chains.
//! - [`timestamp`]: RFC 3161 timestamp countersignatures, whose CMS
//!   [`signed_data`] is read by hand.
//! - [`trust`]: trust stores, trust policies and trusted identities.
//! - [`verify`]: integrity, authenticity, authentic timestamp and expiry,
//!   each enforced or logged as the policy's level says. Revocation needs
//!   the network and is not checked.

pub mod cbor;
pub mod chain;
pub mod cose;
pub mod envelope;
pub mod jws;
pub mod signed_data;
pub mod timestamp;
pub mod trust;
pub mod verify;

pub use envelope::{Envelope, EnvelopeFormat};

/// Why a Notary signature was refused. The variant is the verification step
/// that failed, which the trust policy's level may enforce or only log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotaryError {
    /// The envelope bytes are not a well-formed envelope.
    #[error("signature envelope is malformed: {0}")]
    Envelope(String),
    /// A header breaks the Notary rules.
    #[error("signature envelope header is invalid: {0}")]
    Header(String),
    /// The signature or its certificate chain does not verify.
    #[error("signature is invalid. Error: {0}")]
    Integrity(String),
    /// The signature needs something imgverify does not do (plugins,
    /// critical extended attributes).
    #[error("{0}")]
    Unsupported(String),
    /// The chain does not lead to the trust store, or the identity differs.
    #[error("{0}")]
    Authenticity(String),
    /// The signing time cannot be trusted, or the chain was not valid then.
    #[error("{0}")]
    AuthenticTimestamp(String),
    /// The signature has expired.
    #[error("{0}")]
    Expiry(String),
    /// The payload names another artifact, or lacks requested metadata.
    #[error("{0}")]
    Target(String),
    /// The trust policy or trust store is invalid.
    #[error("invalid trust policy: {0}")]
    Policy(String),
}

/// Formats unix seconds as Go's `time.RFC1123Z`, as notation-go's messages
/// do: `Fri, 29 Jul 2022 23:59:00 +0000`.
pub fn rfc1123z(unix: i64) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => format!(
            "{}, {:02} {} {} {:02}:{:02}:{:02} +0000",
            DAYS[usize::from(t.weekday().number_days_from_monday())],
            t.day(),
            MONTHS[usize::from(u8::from(t.month()) - 1)],
            t.year(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => format!("@{unix}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_times_as_go_rfc1123z() {
        assert_eq!(
            super::rfc1123z(1659139140),
            "Fri, 29 Jul 2022 23:59:00 +0000"
        );
        assert_eq!(
            super::rfc1123z(1000814074),
            "Tue, 18 Sep 2001 11:54:34 +0000"
        );
    }
}
