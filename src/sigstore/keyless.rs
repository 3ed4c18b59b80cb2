//! cosign certificate-based signature layers (keyless Fulcio certificates
//! and bring-your-own PKI): the `dev.sigstore.cosign/certificate` leaf, its
//! `…/chain` intermediates (untrusted, only to build the path), the Rekor
//! SET that fixes the signing time, the path to a trusted authority at that
//! time, the embedded SCT, and the signer identity.

use super::cosign::{SignatureError, VerifiedSignature};
use super::fulcio::Identity;
use super::identity::IdentityPolicy;
use super::rekor::Signer;
use super::sct;
use super::trusted_root::{Authority, LogKey};
use super::{ANNOTATION_CERTIFICATE, ANNOTATION_CHAIN};
use crate::crypto::HashAlgorithm;
use crate::crypto::x509::{self, Certificate, OID_EKU_CODE_SIGNING};
use crate::digest::Digest;
use std::collections::BTreeMap;

/// What a certificate-based signature must satisfy.
pub struct CertificateCheck<'a> {
    /// The signing certificate a policy pins (`certificates.cert`); `None`
    /// takes the layer's `dev.sigstore.cosign/certificate` annotation.
    pub pinned: Option<&'a Certificate>,
    /// Authorities the leaf must chain to (trusted-root Fulcio CAs, or a
    /// policy's own roots or `certChain`); `None` (a pinned certificate
    /// without `certChain`) checks only that the certificate was valid at
    /// the signing time, and no SCT.
    pub authorities: Option<&'a [Authority]>,
    /// Rekor keys; `None` when the transparency log is ignored.
    pub tlog_keys: Option<&'a [LogKey]>,
    /// CT log keys; `None` when SCTs are ignored.
    pub ctlog_keys: Option<&'a [LogKey]>,
    /// The signer identity required.
    pub identity: &'a IdentityPolicy,
    /// The verification time when no transparency log fixes the signing
    /// time (the request's time; never read from a clock here).
    pub now: Option<i64>,
}

/// Verifies one simple-signing layer signed with a certificate.
pub fn verify_layer(
    payload: &[u8],
    annotations: &BTreeMap<String, String>,
    image_digest: &Digest,
    check: &CertificateCheck,
) -> Result<VerifiedSignature, SignatureError> {
    let annotated;
    let leaf = match check.pinned {
        Some(c) => c,
        None => {
            let leaf_pem = annotations
                .get(ANNOTATION_CERTIFICATE)
                .ok_or(SignatureError::MissingCertificate)?;
            annotated = Certificate::from_pem_chain(leaf_pem)?.remove(0);
            &annotated
        }
    };
    let intermediates = match annotations.get(ANNOTATION_CHAIN) {
        Some(pem) if !pem.trim().is_empty() => Certificate::from_pem_chain(pem)?,
        _ => Vec::new(),
    };
    let key = leaf.public_key()?;
    let verified = super::cosign::verify_signed_layer(
        payload,
        annotations,
        image_digest,
        &key,
        HashAlgorithm::Sha256,
        check.tlog_keys,
        Signer::Certificate(leaf),
    )?;
    let at = verified
        .tlog
        .as_ref()
        .map(|t| t.integrated_time)
        .or(check.now)
        .ok_or(SignatureError::NoSigningTime)?;
    match check.authorities {
        Some(authorities) => {
            let issuer = verify_certificate(leaf, &intermediates, authorities, at)?;
            if let Some(ctlogs) = check.ctlog_keys {
                sct::verify_embedded(leaf, &issuer, ctlogs)?;
            }
        }
        None => leaf.check_valid_at(at)?,
    }
    if !check.identity.is_empty() {
        let identity = Identity::of(leaf)?;
        check
            .identity
            .check(&identity)
            .map_err(SignatureError::Identity)?;
    }
    Ok(verified)
}

/// Verifies the leaf's path at `at` to an authority valid at `at`; returns
/// the leaf's issuer.
pub fn verify_certificate(
    leaf: &Certificate,
    extra_intermediates: &[Certificate],
    authorities: &[Authority],
    at: i64,
) -> Result<Certificate, SignatureError> {
    let mut last = None;
    for authority in authorities.iter().filter(|a| a.valid_at(at)) {
        let Some((anchor, own)) = authority.chain.split_last() else {
            continue;
        };
        let intermediates: Vec<&Certificate> =
            own.iter().chain(extra_intermediates.iter()).collect();
        match x509::verify_path(leaf, &intermediates, &[anchor], at, OID_EKU_CODE_SIGNING) {
            Ok(path) => {
                if let Some(issuer) = path.first() {
                    return Ok((*issuer).clone());
                }
            }
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => SignatureError::Certificate(e),
        None => SignatureError::NoAuthority(at),
    })
}
