//! The `keyless` attestor: a signature layer signed with a certificate that
//! chains to the policy's roots or the trusted root's Fulcio authorities,
//! with its Rekor SET, embedded SCT and signer identity.

use super::cosign_layers::LayerCheck;
use crate::digest::Digest;
use crate::policy::compiled::KeylessAttestor;
use crate::sigstore::cosign::{SignatureError, VerifiedSignature};
use crate::sigstore::keyless::{self, CertificateCheck};
use crate::sigstore::trusted_root::{Authority, LogKey, TrustedRoot};
use std::collections::BTreeMap;

/// A compiled keyless attestor with the trust material it resolves to.
pub(super) struct KeylessLayerCheck<'a> {
    attestor: &'a KeylessAttestor,
    authorities: &'a [Authority],
    /// `None` when the transparency log is ignored.
    tlog_keys: Option<Vec<LogKey>>,
    /// `None` when SCTs are ignored.
    ctlog_keys: Option<Vec<LogKey>>,
    now: Option<i64>,
}

impl<'a> KeylessLayerCheck<'a> {
    pub(super) fn new(
        attestor: &'a KeylessAttestor,
        trust: &'a TrustedRoot,
        now: Option<i64>,
    ) -> Self {
        KeylessLayerCheck {
            attestor,
            authorities: attestor
                .roots
                .as_deref()
                .unwrap_or(&trust.certificate_authorities),
            tlog_keys: super::log_keys(attestor.tlog.ignore, &attestor.tlog.keys, &trust.tlogs),
            ctlog_keys: super::log_keys(
                attestor.ctlog.ignore_sct,
                &attestor.ctlog.keys,
                &trust.ctlogs,
            ),
            now,
        }
    }
}

impl LayerCheck for KeylessLayerCheck<'_> {
    fn trust_id(&self) -> String {
        // The request time matters only when no log fixes the signing time.
        format!("keyless:{}/now:{:?}", self.attestor.id, self.now)
    }

    fn cost(&self) -> u32 {
        // The layer signature, the SET, the path (one or two issuer
        // signatures, often P-384) and the SCT.
        8
    }

    fn check(
        &self,
        payload: &[u8],
        annotations: &BTreeMap<String, String>,
        image: &Digest,
    ) -> Result<VerifiedSignature, SignatureError> {
        keyless::verify_layer(
            payload,
            annotations,
            image,
            &CertificateCheck {
                pinned: None,
                authorities: Some(self.authorities),
                tlog_keys: self.tlog_keys.as_deref(),
                ctlog_keys: self.ctlog_keys.as_deref(),
                identity: &self.attestor.identity,
                now: self.now,
                timestamp_authorities: self.attestor.ctlog.tsa.as_deref(),
            },
        )
    }
}
