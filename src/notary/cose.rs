//! COSE_Sign1 envelopes (stub).
use super::{Envelope, NotaryError};
/// Decodes a COSE_Sign1 envelope.
pub fn parse(_bytes: &[u8]) -> Result<Envelope, NotaryError> {
    Err(NotaryError::Envelope("COSE is not decoded yet".into()))
}
