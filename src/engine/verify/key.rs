//! The `keys` attestor: a signature layer verified with a static public key,
//! and (unless ignored) its Rekor SET.

use super::cosign_layers::LayerCheck;
use crate::digest::Digest;
use crate::policy::compiled::KeyAttestor;
use crate::sigstore::cosign::{
    self, KeyCheck, SignatureError, VerifiedAttestation, VerifiedSignature,
};
use crate::sigstore::trusted_root::LogKey;
use std::collections::BTreeMap;

/// A compiled key attestor with the transparency-log keys it trusts.
pub(super) struct KeyLayerCheck<'a> {
    attestor: &'a KeyAttestor,
    /// `None` when the tlog is ignored.
    tlog_keys: Option<Vec<LogKey>>,
}

impl<'a> KeyLayerCheck<'a> {
    /// The attestor's own `rekor.pubkey` keys, or the engine's trusted root.
    pub(super) fn new(attestor: &'a KeyAttestor, engine_tlog_keys: &[LogKey]) -> Self {
        let tlog_keys =
            super::log_keys(attestor.tlog.ignore, &attestor.tlog.keys, engine_tlog_keys);
        KeyLayerCheck {
            attestor,
            tlog_keys,
        }
    }
}

impl LayerCheck for KeyLayerCheck<'_> {
    fn trust_id(&self) -> String {
        let a = self.attestor;
        format!("key:{}/{:?}/tlog:{}", a.fingerprint, a.hash, a.tlog.id)
    }

    fn cost(&self) -> u32 {
        // The SET check (after a good signature) costs about one P-256
        // verify per candidate log key.
        let a = self.attestor;
        a.key.cosign_check_cost(a.hash) + if a.tlog.ignore { 0 } else { 2 }
    }

    fn check(
        &self,
        payload: &[u8],
        annotations: &BTreeMap<String, String>,
        image: &Digest,
    ) -> Result<VerifiedSignature, SignatureError> {
        cosign::verify_layer(payload, annotations, image, &self.key_check())
    }

    fn check_attestation(
        &self,
        envelope: &[u8],
        annotations: &BTreeMap<String, String>,
        image: &Digest,
    ) -> Result<VerifiedAttestation, SignatureError> {
        cosign::verify_attestation_layer(envelope, annotations, image, &self.key_check())
    }
}

impl KeyLayerCheck<'_> {
    fn key_check(&self) -> KeyCheck<'_> {
        KeyCheck {
            key: &self.attestor.key,
            hash: self.attestor.hash,
            tlog_keys: self.tlog_keys.as_deref(),
        }
    }
}
