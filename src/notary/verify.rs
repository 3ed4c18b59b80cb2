//! One Notary signature verified against a trust policy, in notation-go's
//! order (`verifier.processSignature`): integrity, authenticity and trusted
//! identity, expiry, authentic timestamp; then the payload's target. Each
//! check after integrity is enforced or logged as the policy's level says.
//! Revocation needs OCSP or CRLs from the network and is not checked.

use serde::Deserialize;

use crate::crypto::x509::Certificate;

use super::chain;
use super::envelope::{Envelope, EnvelopeFormat, SigningScheme, header};
use super::trust::{
    Action, Level, StoreType, TrustPolicy, TrustStores, VerifyTimestamp, certificate_identity,
    format_identities, is_subset,
};
use super::{NotaryError, rfc1123z};

/// The artifact a signature must name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Manifest media type.
    pub media_type: String,
    /// Manifest digest (`sha256:…`).
    pub digest: String,
    /// Manifest size.
    pub size: u64,
}

/// The payload's `targetArtifact`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TargetArtifact {
    /// Media type.
    pub media_type: String,
    /// Digest.
    pub digest: String,
    /// Size.
    pub size: u64,
    /// User metadata the signer added.
    #[serde(default)]
    pub annotations: std::collections::BTreeMap<String, String>,
    /// Artifact type, when given.
    #[serde(default)]
    pub artifact_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    target_artifact: TargetArtifact,
}

/// A signature that passed every enforced check.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The signed target.
    pub target: TargetArtifact,
    /// The signing certificate's subject.
    pub signer: String,
    /// The scheme the signature used.
    pub scheme: SigningScheme,
    /// Failures the policy only logs.
    pub logged: Vec<NotaryError>,
    /// The timestamp's range (earliest, latest) when one was verified.
    pub timestamp: Option<(i64, i64)>,
}

/// Verifies one envelope of `format` for `target` at `now` (unix seconds).
/// `user_metadata` entries must all appear in the payload's annotations.
pub fn verify_envelope(
    format: EnvelopeFormat,
    bytes: &[u8],
    target: &Target,
    policy: &TrustPolicy,
    stores: &TrustStores,
    user_metadata: &[(String, String)],
    now: i64,
) -> Result<Verified, NotaryError> {
    if policy.level == Level::Skip {
        return Err(NotaryError::Policy(format!(
            "trust policy statement {:?} skips verification, which imgverify does not allow",
            policy.name
        )));
    }
    // Integrity: always enforced.
    let envelope = Envelope::parse(format, bytes)?;
    let certs = chain::parse_chain(&envelope.certificates).map_err(NotaryError::Integrity)?;
    let Some(leaf) = certs.first() else {
        return Err(NotaryError::Integrity(
            "certificate chain is not present".into(),
        ));
    };
    // The envelope's keys are the signer's choice: they never earn a
    // fixed-base table (the trusted certificates' keys have theirs).
    crate::crypto::fixed_base::without_earning(|| {
        chain::verify_signature(
            leaf,
            envelope.algorithm,
            &envelope.signed_bytes,
            &envelope.signature,
        )
        .map_err(NotaryError::Integrity)?;
        chain::validate_code_signing_chain(&certs, None)
            .map_err(|e| NotaryError::Integrity(format!("certificate-chain is invalid, {e}")))
    })?;
    refuse_unprocessed_attributes(&envelope)?;

    let mut logged = Vec::new();
    let mut check = |action: Action, result: Result<(), NotaryError>| match (action, result) {
        (_, Ok(())) | (Action::Skip, _) => Ok(()),
        (Action::Log, Err(e)) => {
            logged.push(e);
            Ok(())
        }
        (Action::Enforce, Err(e)) => Err(e),
    };
    let e = policy.enforcement;
    check(
        e.authenticity,
        authenticity(&envelope, &certs, policy, stores),
    )?;
    check(e.expiry, expiry(&envelope, now))?;
    let mut timestamp = None;
    check(
        e.authentic_timestamp,
        authentic_timestamp(&envelope, &certs, policy, stores, now, &mut timestamp),
    )?;

    let payload: Payload = serde_json::from_slice(&envelope.payload).map_err(|e| {
        NotaryError::Target(format!("signature payload is not a Notary payload: {e}"))
    })?;
    let t = payload.target_artifact;
    if t.media_type != target.media_type || t.digest != target.digest || t.size != target.size {
        return Err(NotaryError::Target(format!(
            "content descriptor mismatch: the signature is for {} ({}, {} bytes), not {} ({}, {} bytes)",
            t.digest, t.media_type, t.size, target.digest, target.media_type, target.size
        )));
    }
    for (k, v) in user_metadata {
        if t.annotations.get(k) != Some(v) {
            return Err(NotaryError::Target(format!(
                "unable to find specified metadata in the signature: {k}={v}"
            )));
        }
    }
    Ok(Verified {
        target: t,
        signer: leaf.subject().to_string(),
        scheme: envelope.scheme,
        logged,
        timestamp,
    })
}

/// imgverify runs no verification plugins, and so cannot process a critical
/// attribute only a plugin understands: such a signature fails (notation-go
/// fails when the named plugin is not installed).
fn refuse_unprocessed_attributes(envelope: &Envelope) -> Result<(), NotaryError> {
    if let Some(attr) = envelope.extended.iter().find(|a| {
        a.name == header::VERIFICATION_PLUGIN || a.name == header::VERIFICATION_PLUGIN_MIN_VERSION
    }) {
        return Err(NotaryError::Unsupported(format!(
            "digital signature names a verification plugin ({}); imgverify runs no plugins",
            attr.name
        )));
    }
    if let Some(attr) = envelope.extended.iter().find(|a| a.critical) {
        return Err(NotaryError::Unsupported(format!(
            "digital signature has the critical extended attribute {:?}, which imgverify does not process",
            attr.name
        )));
    }
    Ok(())
}

fn authenticity(
    envelope: &Envelope,
    certs: &[Certificate],
    policy: &TrustPolicy,
    stores: &TrustStores,
) -> Result<(), NotaryError> {
    let kind = match envelope.scheme {
        SigningScheme::X509 => StoreType::Ca,
        SigningScheme::X509SigningAuthority => StoreType::SigningAuthority,
    };
    let trusted = policy
        .certificates(stores, kind)
        .map_err(NotaryError::Authenticity)?;
    if trusted.is_empty() {
        return Err(NotaryError::Authenticity(
            "no trusted certificates are found to verify authenticity".into(),
        ));
    }
    if !certs
        .iter()
        .any(|c| trusted.iter().any(|t| t.der() == c.der()))
    {
        return Err(NotaryError::Authenticity(
            "the signature's certificate chain does not contain any trusted certificate".into(),
        ));
    }
    let Some(identities) = &policy.trusted_identities else {
        return Ok(());
    };
    let Some(leaf) = certs.first() else {
        return Err(NotaryError::Authenticity("no signing certificate".into()));
    };
    let leaf_dn = certificate_identity(leaf).map_err(|e| {
        NotaryError::Authenticity(format!(
            "error while parsing the certificate subject from the digital signature. error : {e:?}"
        ))
    })?;
    if identities.iter().any(|id| is_subset(id, &leaf_dn)) {
        return Ok(());
    }
    Err(NotaryError::Authenticity(format!(
        "signing certificate from the digital signature does not match the X.509 trusted identities {} defined in the trust policy {:?}",
        format_identities(identities),
        policy.name
    )))
}

fn expiry(envelope: &Envelope, now: i64) -> Result<(), NotaryError> {
    match envelope.expiry {
        Some(at) if now >= at => Err(NotaryError::Expiry(format!(
            "digital signature has expired on {:?}",
            rfc1123z(at)
        ))),
        _ => Ok(()),
    }
}

/// The authentic-timestamp step alone (notation-go's
/// `verifyAuthenticTimestamp`) for an envelope whose chain is `certs`: the
/// range a verified timestamp vouches for, when one was used.
pub fn check_authentic_timestamp(
    envelope: &Envelope,
    policy: &TrustPolicy,
    stores: &TrustStores,
    now: i64,
) -> Result<Option<(i64, i64)>, NotaryError> {
    let certs = chain::parse_chain(&envelope.certificates).map_err(NotaryError::Integrity)?;
    let mut verified = None;
    authentic_timestamp(envelope, &certs, policy, stores, now, &mut verified)?;
    Ok(verified)
}

fn authentic_timestamp(
    envelope: &Envelope,
    certs: &[Certificate],
    policy: &TrustPolicy,
    stores: &TrustStores,
    now: i64,
    verified: &mut Option<(i64, i64)>,
) -> Result<(), NotaryError> {
    let err = |m: String| Err(NotaryError::AuthenticTimestamp(m));
    if envelope.scheme == SigningScheme::X509SigningAuthority {
        // The signing authority vouches for the time it signed at.
        let at = envelope.authentic_signing_time.unwrap_or(i64::MIN);
        for c in certs {
            if at < c.not_before() || at > c.not_after() {
                return err(format!(
                    "certificate {:?} was not valid when the digital signature was produced at {:?}",
                    c.subject(),
                    rfc1123z(at)
                ));
            }
        }
        return Ok(());
    }
    let mut use_timestamp = policy.has_tsa_store();
    if use_timestamp && policy.verify_timestamp == VerifyTimestamp::AfterCertExpiry {
        use_timestamp = certs.iter().any(|c| now > c.not_after());
    }
    if !use_timestamp {
        for c in certs {
            if now < c.not_before() {
                return err(format!(
                    "verification time is before certificate {:?} validity period, it will be valid from {:?}",
                    c.subject(),
                    rfc1123z(c.not_before())
                ));
            }
            if now > c.not_after() {
                return err(format!(
                    "verification time is after certificate {:?} validity period, it was expired at {:?}",
                    c.subject(),
                    rfc1123z(c.not_after())
                ));
            }
        }
        return Ok(());
    }
    let Some(token) = &envelope.timestamp_token else {
        return err("no timestamp countersignature was found in the signature envelope".into());
    };
    let roots: Vec<Certificate> = policy
        .certificates(stores, StoreType::Tsa)
        .map_err(|e| {
            NotaryError::AuthenticTimestamp(format!(
                "failed to load tsa trust store with error: {e}"
            ))
        })?
        .into_iter()
        .cloned()
        .collect();
    if roots.is_empty() {
        return err("no trusted TSA certificate found in trust store".into());
    }
    let ts = super::timestamp::verify(
        token,
        &envelope.signature,
        envelope.algorithm.hash(),
        &roots,
    )?;
    ts.check_signing_chain(certs)?;
    *verified = Some((ts.earliest(), ts.latest()));
    Ok(())
}
