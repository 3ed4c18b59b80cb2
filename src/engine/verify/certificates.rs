//! The `certificates` attestor: a signature layer verified with a pinned
//! certificate's key (`cert`), or with the layer's own certificate, and in
//! either case chained to the policy's `certChain` when one is given; with
//! the Rekor SET and, for a chained certificate, the embedded SCT.

use super::cosign_layers::LayerCheck;
use crate::digest::Digest;
use crate::policy::compiled::CertificatesAttestor;
use crate::sigstore::cosign::{SignatureError, VerifiedSignature};
use crate::sigstore::identity::IdentityPolicy;
use crate::sigstore::keyless::{self, CertificateCheck};
use crate::sigstore::trusted_root::{LogKey, TrustedRoot};
use std::collections::BTreeMap;

/// A compiled certificates attestor with the log keys it resolves to.
pub(super) struct CertificatesLayerCheck<'a> {
    attestor: &'a CertificatesAttestor,
    /// `None` when the transparency log is ignored.
    tlog_keys: Option<Vec<LogKey>>,
    /// `None` when SCTs are ignored or there is no chain to check them with.
    ctlog_keys: Option<Vec<LogKey>>,
    now: Option<i64>,
}

impl<'a> CertificatesLayerCheck<'a> {
    pub(super) fn new(
        attestor: &'a CertificatesAttestor,
        trust: &'a TrustedRoot,
        now: Option<i64>,
    ) -> Self {
        // cosign checks the SCT while validating a certificate against its
        // chain; a pinned certificate alone is not validated.
        let ctlog_keys = match attestor.chain {
            Some(_) => super::log_keys(
                attestor.ctlog.ignore_sct,
                &attestor.ctlog.keys,
                &trust.ctlogs,
            ),
            None => None,
        };
        CertificatesLayerCheck {
            attestor,
            tlog_keys: super::log_keys(attestor.tlog.ignore, &attestor.tlog.keys, &trust.tlogs),
            ctlog_keys,
            now,
        }
    }
}

impl LayerCheck for CertificatesLayerCheck<'_> {
    fn trust_id(&self) -> String {
        format!("certificates:{}/now:{:?}", self.attestor.id, self.now)
    }

    fn cost(&self) -> u32 {
        // The layer signature, the SET, a path through the chain and the SCT.
        8
    }

    fn check(
        &self,
        payload: &[u8],
        annotations: &BTreeMap<String, String>,
        image: &Digest,
    ) -> Result<VerifiedSignature, SignatureError> {
        let identity = IdentityPolicy::default();
        keyless::verify_layer(
            payload,
            annotations,
            image,
            &CertificateCheck {
                pinned: self.attestor.cert.as_ref(),
                authorities: self.attestor.chain.as_ref().map(std::slice::from_ref),
                tlog_keys: self.tlog_keys.as_deref(),
                ctlog_keys: self.ctlog_keys.as_deref(),
                identity: &identity,
                now: self.now,
                timestamp_authorities: self.attestor.ctlog.tsa.as_deref(),
            },
        )
    }
}
