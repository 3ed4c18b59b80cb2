//! cosign certificate-based signature layers (keyless Fulcio certificates
//! and bring-your-own PKI): the `dev.sigstore.cosign/certificate` leaf, its
//! `…/chain` intermediates (untrusted, only to build the path), the Rekor
//! SET that fixes the signing time, the path to a trusted authority at that
//! time, the embedded SCT, and the signer identity.

use super::cosign::{SignatureError, Verified, VerifiedAttestation, VerifiedSignature};
use super::fulcio::Identity;
use super::identity::IdentityPolicy;
use super::rekor::Signer;
use super::sct;
use super::trusted_root::{Authority, LogKey};
use super::{ANNOTATION_CERTIFICATE, ANNOTATION_CHAIN, ANNOTATION_RFC3161_TIMESTAMP};
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
    /// Timestamp authorities (`ctlog.tsaCertChain`); `None` leaves a layer's
    /// RFC 3161 timestamp unread, as cosign does without a TSA chain.
    pub timestamp_authorities: Option<&'a [Authority]>,
}

/// Verifies one simple-signing layer signed with a certificate.
pub fn verify_layer(
    payload: &[u8],
    annotations: &BTreeMap<String, String>,
    image_digest: &Digest,
    check: &CertificateCheck,
) -> Result<VerifiedSignature, SignatureError> {
    verify_with_certificate(annotations, check, None, |key, leaf| {
        super::cosign::verify_signed_layer(
            payload,
            annotations,
            image_digest,
            key,
            HashAlgorithm::Sha256,
            check.tlog_keys,
            Signer::Certificate(leaf),
        )
    })
}

/// Verifies one attestation layer (a DSSE envelope) signed with a
/// certificate.
pub fn verify_attestation_layer(
    envelope: &[u8],
    annotations: &BTreeMap<String, String>,
    image_digest: &Digest,
    check: &CertificateCheck,
) -> Result<VerifiedAttestation, SignatureError> {
    // cosign timestamps an attestation's whole envelope.
    verify_with_certificate(annotations, check, Some(envelope), |key, leaf| {
        super::cosign::verify_signed_envelope(
            envelope,
            annotations,
            image_digest,
            key,
            HashAlgorithm::Sha256,
            check.tlog_keys,
            Signer::Certificate(leaf),
        )
    })
}

/// The certificate checks around a layer's own checks (`verify`, given the
/// leaf's key and the leaf): the leaf (pinned or annotated), its path at
/// every trusted signing time, its SCT and its identity. An RFC 3161
/// timestamp covers `timestamped`, or else the verified signature.
fn verify_with_certificate<T: Verified>(
    annotations: &BTreeMap<String, String>,
    check: &CertificateCheck,
    timestamped: Option<&[u8]>,
    verify: impl FnOnce(&crate::crypto::PublicKey, &Certificate) -> Result<T, SignatureError>,
) -> Result<T, SignatureError> {
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
    let verified = verify(&key, leaf)?;
    // The trusted signing times: the log's integrated time and the
    // timestamp's genTime, each checked; the request's time without either.
    let mut times: Vec<i64> = verified.tlog().iter().map(|t| t.integrated_time).collect();
    if let Some(authorities) = check.timestamp_authorities
        && let Some(t) = timestamp_time(
            annotations,
            timestamped.unwrap_or(verified.signature()),
            authorities,
            check.now,
        )?
    {
        times.push(t);
    }
    if times.is_empty() {
        times.push(check.now.ok_or(SignatureError::NoSigningTime)?);
    }
    for at in times {
        match check.authorities {
            Some(authorities) => {
                let issuer = verify_certificate(leaf, &intermediates, authorities, at)?;
                if let Some(ctlogs) = check.ctlog_keys {
                    sct::verify_embedded(leaf, &issuer, ctlogs)?;
                }
            }
            None => leaf.check_valid_at(at)?,
        }
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

/// The `genTime` of a layer's RFC 3161 timestamp over its signature, when
/// it has one; a timestamp that does not verify, or lies after the
/// request's time, fails the layer.
fn timestamp_time(
    annotations: &BTreeMap<String, String>,
    message: &[u8],
    authorities: &[Authority],
    now: Option<i64>,
) -> Result<Option<i64>, SignatureError> {
    #[derive(serde::Deserialize)]
    struct Blob {
        #[serde(rename = "SignedRFC3161TimestampBlob")]
        blob: String,
    }
    let Some(json) = annotations.get(ANNOTATION_RFC3161_TIMESTAMP) else {
        return Ok(None);
    };
    let err = |m: String| SignatureError::Timestamp(m);
    let blob: Blob = serde_json::from_slice(json.as_bytes()).map_err(|e| err(e.to_string()))?;
    let der = super::dsse::decode_b64(&blob.blob)
        .ok_or_else(|| err("the timestamp is not base64".into()))?;
    let at =
        super::timestamp::verify(&der, message, authorities).map_err(|e| err(e.to_string()))?;
    if now.is_some_and(|n| at > n) {
        return Err(err(format!("its time {at} is after the request's")));
    }
    Ok(Some(at))
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
    let intermediates: Vec<&Certificate> = extra_intermediates.iter().collect();
    for authority in authorities.iter().filter(|a| a.valid_at(at)) {
        // The authority's certificates are trust material, all of them: any
        // may anchor the path (their signatures on one another prove
        // nothing more, and cost a P-384 check per image), but the ones
        // above the anchor must be valid at the signing time too.
        let anchors: Vec<&Certificate> = authority.chain.iter().collect();
        let path = x509::verify_path(leaf, &intermediates, &anchors, at, OID_EKU_CODE_SIGNING)
            .and_then(|path| {
                let anchor = path.last().map(|a| a.der());
                let above = authority
                    .chain
                    .iter()
                    .skip_while(|c| Some(c.der()) != anchor)
                    .skip(1);
                for c in above {
                    c.check_valid_at(at)?;
                }
                Ok(path)
            });
        match path {
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
