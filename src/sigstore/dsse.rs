//! DSSE envelopes (`{payloadType, payload, signatures}`) and the
//! pre-authentication encoding their signatures cover.

use base64::Engine as _;
use serde::Deserialize;

/// in-toto's payload type.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// Most signatures read from one envelope.
const MAX_SIGNATURES: usize = 16;

/// Why an envelope could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DsseError {
    /// Not an envelope.
    #[error("invalid DSSE envelope: {0}")]
    Invalid(String),
}

/// A decoded envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// `payloadType`.
    pub payload_type: String,
    /// The payload bytes.
    pub payload: Vec<u8>,
    /// The signatures' bytes.
    pub signatures: Vec<Vec<u8>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEnvelope {
    payload_type: String,
    payload: String,
    #[serde(default)]
    signatures: Vec<RawSignature>,
}

#[derive(Deserialize)]
struct RawSignature {
    sig: String,
}

/// Base64 in the standard or URL-safe alphabet, padded or not (DSSE
/// verifiers must accept both).
pub fn decode_b64(s: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|e| e.decode(s).ok())
}

impl Envelope {
    /// Parses the JSON form.
    pub fn parse(json: &[u8]) -> Result<Self, DsseError> {
        let raw: RawEnvelope =
            serde_json::from_slice(json).map_err(|e| DsseError::Invalid(e.to_string()))?;
        Self::from_parts(
            &raw.payload_type,
            &raw.payload,
            raw.signatures.iter().map(|s| s.sig.as_str()),
        )
    }

    /// Builds an envelope from its base64 fields.
    pub fn from_parts<'a>(
        payload_type: &str,
        payload_b64: &str,
        signatures_b64: impl Iterator<Item = &'a str>,
    ) -> Result<Self, DsseError> {
        let payload = decode_b64(payload_b64)
            .ok_or_else(|| DsseError::Invalid("payload is not base64".into()))?;
        let mut signatures = Vec::new();
        for s in signatures_b64 {
            if signatures.len() == MAX_SIGNATURES {
                return Err(DsseError::Invalid(format!(
                    "more than {MAX_SIGNATURES} signatures"
                )));
            }
            signatures.push(
                decode_b64(s)
                    .ok_or_else(|| DsseError::Invalid("signature is not base64".into()))?,
            );
        }
        Ok(Envelope {
            payload_type: payload_type.to_string(),
            payload,
            signatures,
        })
    }

    /// The bytes a signature covers: `PAE(payloadType, payload)`.
    pub fn pae(&self) -> Vec<u8> {
        pae(&self.payload_type, &self.payload)
    }
}

/// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}
