//! Signature layers signed with a certificate: the `keyless` attestor (the
//! layer's certificate chains to the policy's `roots` or the trusted root's
//! Fulcio authorities, with its identity) and the `certificates` attestor (a
//! pinned `cert` and/or the `certChain` it must lead to); each with its
//! Rekor SET, embedded SCT and RFC 3161 timestamp as the attestor asks.

use super::cosign_layers::LayerCheck;
use crate::crypto::x509::Certificate;
use crate::digest::Digest;
use crate::policy::compiled::{CertificatesAttestor, CtlogPolicy, KeylessAttestor, TlogPolicy};
use crate::sigstore::cosign::{SignatureError, VerifiedAttestation, VerifiedSignature};
use crate::sigstore::identity::IdentityPolicy;
use crate::sigstore::keyless::{self, CertificateCheck};
use crate::sigstore::trusted_root::{Authority, LogKey, TrustedRoot};
use std::collections::BTreeMap;

/// A keyless or certificates attestor with the trust material it resolves to.
pub(super) struct CertificateLayerCheck<'a> {
    /// `keyless:` or `certificates:` and the attestor's id.
    trust_id: String,
    pinned: Option<&'a Certificate>,
    /// `None` checks a pinned certificate's validity only.
    authorities: Option<&'a [Authority]>,
    identity: &'a IdentityPolicy,
    /// `None` when the transparency log is ignored.
    tlog_keys: Option<Vec<LogKey>>,
    /// `None` when SCTs are ignored (or there is no chain to check them with).
    ctlog_keys: Option<Vec<LogKey>>,
    timestamp_authorities: Option<&'a [Authority]>,
    now: Option<i64>,
}

/// The identity a `certificates` attestor requires: none.
static ANY_IDENTITY: std::sync::LazyLock<IdentityPolicy> =
    std::sync::LazyLock::new(IdentityPolicy::default);

impl<'a> CertificateLayerCheck<'a> {
    /// A `keyless` attestor.
    pub(super) fn keyless(
        attestor: &'a KeylessAttestor,
        trust: &'a TrustedRoot,
        now: Option<i64>,
    ) -> Self {
        Self::with_logs(&attestor.tlog, &attestor.ctlog, true, trust, now).finish(
            format!("keyless:{}", attestor.id),
            None,
            Some(
                attestor
                    .roots
                    .as_deref()
                    .unwrap_or(&trust.certificate_authorities),
            ),
            &attestor.identity,
        )
    }

    /// A `certificates` attestor: cosign checks the SCT while validating a
    /// certificate against its chain; a pinned certificate alone is not
    /// validated.
    pub(super) fn certificates(
        attestor: &'a CertificatesAttestor,
        trust: &'a TrustedRoot,
        now: Option<i64>,
    ) -> Self {
        let chained = attestor.chain.is_some();
        Self::with_logs(&attestor.tlog, &attestor.ctlog, chained, trust, now).finish(
            format!("certificates:{}", attestor.id),
            attestor.cert.as_ref(),
            attestor.chain.as_ref().map(std::slice::from_ref),
            &ANY_IDENTITY,
        )
    }

    fn with_logs(
        tlog: &'a TlogPolicy,
        ctlog: &'a CtlogPolicy,
        sct: bool,
        trust: &'a TrustedRoot,
        now: Option<i64>,
    ) -> Logs<'a> {
        Logs {
            tlog_keys: super::log_keys(tlog.ignore, &tlog.keys, &trust.tlogs),
            ctlog_keys: super::log_keys(ctlog.ignore_sct, &ctlog.keys, &trust.ctlogs)
                .filter(|_| sct),
            timestamp_authorities: ctlog.tsa.as_deref(),
            now,
        }
    }
}

/// The log and time part of a check, before its signer part.
struct Logs<'a> {
    tlog_keys: Option<Vec<LogKey>>,
    ctlog_keys: Option<Vec<LogKey>>,
    timestamp_authorities: Option<&'a [Authority]>,
    now: Option<i64>,
}

impl<'a> Logs<'a> {
    fn finish(
        self,
        trust_id: String,
        pinned: Option<&'a Certificate>,
        authorities: Option<&'a [Authority]>,
        identity: &'a IdentityPolicy,
    ) -> CertificateLayerCheck<'a> {
        CertificateLayerCheck {
            trust_id,
            pinned,
            authorities,
            identity,
            tlog_keys: self.tlog_keys,
            ctlog_keys: self.ctlog_keys,
            timestamp_authorities: self.timestamp_authorities,
            now: self.now,
        }
    }
}

impl LayerCheck for CertificateLayerCheck<'_> {
    fn trust_id(&self) -> String {
        // The request time matters only when no log fixes the signing time.
        format!("{}/now:{:?}", self.trust_id, self.now)
    }

    fn cost(&self) -> u32 {
        // The layer signature, the SET, the path (one or two issuer
        // signatures, often P-384), the SCT and a timestamp.
        8
    }

    fn check(
        &self,
        payload: &[u8],
        annotations: &BTreeMap<String, String>,
        image: &Digest,
    ) -> Result<VerifiedSignature, SignatureError> {
        keyless::verify_layer(payload, annotations, image, &self.certificate_check())
    }

    fn check_attestation(
        &self,
        envelope: &[u8],
        annotations: &BTreeMap<String, String>,
        image: &Digest,
    ) -> Result<VerifiedAttestation, SignatureError> {
        keyless::verify_attestation_layer(envelope, annotations, image, &self.certificate_check())
    }
}

impl CertificateLayerCheck<'_> {
    fn certificate_check(&self) -> CertificateCheck<'_> {
        CertificateCheck {
            pinned: self.pinned,
            authorities: self.authorities,
            tlog_keys: self.tlog_keys.as_deref(),
            ctlog_keys: self.ctlog_keys.as_deref(),
            identity: self.identity,
            now: self.now,
            timestamp_authorities: self.timestamp_authorities,
        }
    }
}
