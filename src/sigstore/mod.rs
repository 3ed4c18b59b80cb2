//! Sigstore formats: cosign simple-signing payloads and signature layers,
//! Rekor signed entry timestamps, embedded SCTs, and the trusted root.
pub mod bundle;
pub mod cosign;
pub mod dsse;
pub mod fulcio;
pub mod identity;
pub mod intoto;
pub mod keyless;
pub mod merkle;
pub mod rekor;
pub mod sct;
pub mod simple_signing;
pub mod timestamp;
pub mod trusted_root;

/// Layer annotation holding the base64 signature.
pub const ANNOTATION_SIGNATURE: &str = "dev.cosignproject.cosign/signature";
/// Layer annotation holding the Rekor bundle (SET).
pub const ANNOTATION_BUNDLE: &str = "dev.sigstore.cosign/bundle";
/// Layer annotation holding the signing certificate.
pub const ANNOTATION_CERTIFICATE: &str = "dev.sigstore.cosign/certificate";
/// Layer annotation holding the certificate chain.
pub const ANNOTATION_CHAIN: &str = "dev.sigstore.cosign/chain";
/// Layer annotation holding an RFC 3161 timestamp over the signature
/// (`{"SignedRFC3161TimestampBlob": "<base64 DER>"}`).
pub const ANNOTATION_RFC3161_TIMESTAMP: &str = "dev.sigstore.cosign/rfc3161timestamp";
/// Media type of a DSSE envelope layer (cosign attestations).
pub const DSSE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
/// Media type of a simple-signing payload layer.
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";

/// Decodes the base64 signature annotation as Go's `StdEncoding` does (the
/// decoder cosign uses): line breaks are skipped, anything else must be
/// standard padded base64.
pub fn decode_signature_annotation(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let compact: String = text
        .trim()
        .chars()
        .filter(|c| *c != '\r' && *c != '\n')
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}
