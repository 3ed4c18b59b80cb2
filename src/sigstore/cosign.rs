//! cosign key-based signature verification of one signature layer.

use super::dsse::{DsseError, Envelope, IN_TOTO_PAYLOAD_TYPE};
use super::intoto::{Statement, StatementError};
use super::rekor::{self, ExpectedEntry, RekorError, Signer, VerifiedEntry};
use super::sct::SctError;
use super::simple_signing::{PayloadError, SimpleSigning};
use super::trusted_root::LogKey;
use super::{ANNOTATION_BUNDLE, ANNOTATION_CERTIFICATE, ANNOTATION_SIGNATURE};
use crate::crypto::x509::X509Error;
use crate::crypto::{CryptoError, HashAlgorithm, PublicKey};
use crate::digest::Digest;
use std::collections::BTreeMap;

/// Why one signature layer did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `dev.cosignproject.cosign/signature` annotation.
    #[error("signature annotation {ANNOTATION_SIGNATURE} is missing")]
    MissingSignature,
    /// The annotation is not base64.
    #[error("signature annotation is not base64")]
    SignatureEncoding,
    /// Crypto failure.
    #[error("{0}")]
    Crypto(#[from] CryptoError),
    /// Payload failure.
    #[error("{0}")]
    Payload(#[from] PayloadError),
    /// The payload signs another image.
    #[error("signature payload is for image digest {signed}, not {image}")]
    DigestMismatch {
        /// Digest in the payload.
        signed: String,
        /// Image digest.
        image: String,
    },
    /// Transparency log failure.
    #[error("{0}")]
    Rekor(#[from] RekorError),
    /// No `dev.sigstore.cosign/certificate` annotation.
    #[error("signing certificate annotation {ANNOTATION_CERTIFICATE} is missing")]
    MissingCertificate,
    /// The certificate or its path to a trusted authority.
    #[error("{0}")]
    Certificate(#[from] X509Error),
    /// No certificate authority was valid at the signing time.
    #[error("no trusted certificate authority was valid at signing time {0}")]
    NoAuthority(i64),
    /// Neither a transparency log nor the request fixes a signing time.
    #[error(
        "no trusted signing time: the transparency log is ignored and the request carries no time to check the certificate at"
    )]
    NoSigningTime,
    /// The embedded SCT.
    #[error("{0}")]
    Sct(#[from] SctError),
    /// The certificate's identity does not match the policy.
    #[error("{0}")]
    Identity(String),
    /// The RFC 3161 timestamp annotation.
    #[error("RFC 3161 timestamp: {0}")]
    Timestamp(String),
    /// An attestation layer is not a DSSE envelope.
    #[error("{0}")]
    Envelope(#[from] DsseError),
    /// The envelope does not carry an in-toto statement.
    #[error(
        "DSSE payloadType is {0:?}, neither {IN_TOTO_PAYLOAD_TYPE} nor the statement's predicate type"
    )]
    PayloadType(String),
    /// The envelope has no signature.
    #[error("DSSE envelope has no signatures")]
    NoEnvelopeSignature,
    /// The statement is unusable or names another image.
    #[error("{0}")]
    Statement(#[from] StatementError),
}

/// Inputs to verify one signature layer with a public key.
pub struct KeyCheck<'a> {
    /// Verifying key.
    pub key: &'a PublicKey,
    /// Policy hash.
    pub hash: HashAlgorithm,
    /// Trusted log keys; `None` when the tlog is ignored.
    pub tlog_keys: Option<&'a [LogKey]>,
}

/// A layer that verified.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedSignature {
    /// The payload.
    pub payload: SimpleSigning,
    /// The Rekor entry, when the tlog was checked.
    pub tlog: Option<VerifiedEntry>,
    /// The signature bytes that verified (what an RFC 3161 timestamp covers).
    pub signature: Vec<u8>,
}

/// An attestation layer that verified: a DSSE envelope whose signature
/// verified over its PAE, carrying an in-toto statement about the image.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedAttestation {
    /// The statement.
    pub statement: Statement,
    /// The Rekor entry, when the tlog was checked.
    pub tlog: Option<VerifiedEntry>,
    /// The envelope signature that verified.
    pub signature: Vec<u8>,
}

/// What the certificate checks read from any verified layer.
pub trait Verified {
    /// The Rekor entry, when the tlog was checked.
    fn tlog(&self) -> Option<&VerifiedEntry>;
    /// The signature bytes that verified.
    fn signature(&self) -> &[u8];
}

impl Verified for VerifiedSignature {
    fn tlog(&self) -> Option<&VerifiedEntry> {
        self.tlog.as_ref()
    }
    fn signature(&self) -> &[u8] {
        &self.signature
    }
}

impl Verified for VerifiedAttestation {
    fn tlog(&self) -> Option<&VerifiedEntry> {
        self.tlog.as_ref()
    }
    fn signature(&self) -> &[u8] {
        &self.signature
    }
}

/// Verifies one simple-signing layer: signature over the exact payload bytes,
/// payload bound to `image_digest`, and (unless ignored) the Rekor SET.
pub fn verify_layer(
    payload: &[u8],
    annotations: &BTreeMap<String, String>,
    image_digest: &Digest,
    check: &KeyCheck,
) -> Result<VerifiedSignature, SignatureError> {
    verify_signed_layer(
        payload,
        annotations,
        image_digest,
        check.key,
        check.hash,
        check.tlog_keys,
        Signer::Key(check.key),
    )
}

/// The checks every signer kind shares: the signature annotation over the
/// exact payload bytes with `key`, the payload bound to `image_digest`, and
/// (when `tlog_keys` are given) a Rekor SET whose body names `signer`.
pub(super) fn verify_signed_layer(
    payload: &[u8],
    annotations: &BTreeMap<String, String>,
    image_digest: &Digest,
    key: &PublicKey,
    hash: HashAlgorithm,
    tlog_keys: Option<&[LogKey]>,
    signer: Signer,
) -> Result<VerifiedSignature, SignatureError> {
    let sig_b64 = annotations
        .get(ANNOTATION_SIGNATURE)
        .ok_or(SignatureError::MissingSignature)?;
    let sig =
        super::decode_signature_annotation(sig_b64).ok_or(SignatureError::SignatureEncoding)?;
    key.verify_cosign(hash, payload, &sig)?;
    let parsed = SimpleSigning::parse(payload)?;
    if &parsed.manifest_digest != image_digest {
        return Err(SignatureError::DigestMismatch {
            signed: parsed.manifest_digest.to_string(),
            image: image_digest.to_string(),
        });
    }
    let tlog = logged(
        annotations,
        tlog_keys,
        &ExpectedEntry {
            payload,
            signature: Some(&sig),
            signer,
        },
    )?;
    Ok(VerifiedSignature {
        payload: parsed,
        tlog,
        signature: sig,
    })
}

/// The layer's Rekor bundle annotation verified against `tlog_keys` and
/// bound to `expected`; `None` when the transparency log is ignored.
fn logged(
    annotations: &BTreeMap<String, String>,
    tlog_keys: Option<&[LogKey]>,
    expected: &ExpectedEntry,
) -> Result<Option<VerifiedEntry>, SignatureError> {
    let Some(keys) = tlog_keys else {
        return Ok(None);
    };
    let bundle = annotations
        .get(ANNOTATION_BUNDLE)
        .ok_or(RekorError::Missing)?;
    Ok(Some(rekor::verify_bundle(bundle, keys, expected)?))
}

/// Verifies one attestation layer (a DSSE envelope) with a public key.
pub fn verify_attestation_layer(
    envelope: &[u8],
    annotations: &BTreeMap<String, String>,
    image_digest: &Digest,
    check: &KeyCheck,
) -> Result<VerifiedAttestation, SignatureError> {
    verify_signed_envelope(
        envelope,
        annotations,
        image_digest,
        check.key,
        check.hash,
        check.tlog_keys,
        Signer::Key(check.key),
    )
}

/// The checks of an attestation layer every signer kind shares: an
/// envelope signature over `PAE(payloadType, payload)` with `key`, an
/// in-toto payload whose statement names `image_digest` as a subject, and
/// (when `tlog_keys` are given) a Rekor SET whose `intoto` or `dsse` body
/// hashes the envelope and names `signer`, as cosign binds attestations.
pub(super) fn verify_signed_envelope(
    envelope_bytes: &[u8],
    annotations: &BTreeMap<String, String>,
    image_digest: &Digest,
    key: &PublicKey,
    hash: HashAlgorithm,
    tlog_keys: Option<&[LogKey]>,
    signer: Signer,
) -> Result<VerifiedAttestation, SignatureError> {
    let envelope = Envelope::parse(envelope_bytes)?;
    if envelope.signatures.is_empty() {
        return Err(SignatureError::NoEnvelopeSignature);
    }
    let pae = envelope.pae();
    let mut last = None;
    let mut good = None;
    for sig in &envelope.signatures {
        match key.verify_cosign(hash, &pae, sig) {
            Ok(()) => {
                good = Some(sig.clone());
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let signature = match (good, last) {
        (Some(sig), _) => sig,
        (None, Some(e)) => return Err(e.into()),
        (None, None) => return Err(SignatureError::NoEnvelopeSignature),
    };
    let statement = Statement::parse_for(&envelope.payload, image_digest)?;
    // The signature covers the payload type: an envelope signed as anything
    // but in-toto is not read as a statement, except in early cosign's
    // form, whose payload type is the statement's own predicate type.
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE
        && envelope.payload_type != statement.predicate_type
    {
        return Err(SignatureError::PayloadType(envelope.payload_type));
    }
    let tlog = logged(
        annotations,
        tlog_keys,
        &ExpectedEntry {
            payload: envelope_bytes,
            signature: None,
            signer,
        },
    )?;
    Ok(VerifiedAttestation {
        statement,
        tlog,
        signature,
    })
}
