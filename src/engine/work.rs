//! The session's verification work: a budget on signature checks and a memo
//! of their results, so that a hostile registry cannot make one admission
//! run long enough to reach its deadline, and no signature is checked twice
//! in one session (not across rounds, rules, policies or containers).
//!
//! The memo lives inside the sandbox with the session: its keys are hashes of
//! every input a check reads (the signature manifest's digest and the layer's
//! index, which pin the payload digest and annotations; the image digest; the
//! trust material: the key's SPKI fingerprint, the hash, the transparency-log
//! policy), never a policy or image name, so a cached result is the result the
//! check would give.

use crate::limits;
use crate::sigstore::bundle::{BundleError, VerifiedBundle};
use crate::sigstore::cosign::{SignatureError, VerifiedAttestation, VerifiedSignature};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

/// What identifies one signature check.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CheckKey {
    /// Digest of the signature manifest the layer is in (for a Sigstore
    /// bundle, of the referrer manifest whose layer 0 is the bundle).
    pub manifest: String,
    /// Index of the layer in that manifest.
    pub layer: usize,
    /// The image digest the payload must bind.
    pub image: String,
    /// The trust material the check reads: for a key, the `sha256` of its
    /// SPKI, the hash and the transparency-log policy
    /// ([`crate::policy::compiled::TlogPolicy::id`]).
    pub trust: String,
}

/// Signature checks spent and remembered in one session.
#[derive(Debug, Default)]
pub struct Work {
    spent: Cell<u32>,
    memo: RefCell<BTreeMap<CheckKey, Result<VerifiedSignature, SignatureError>>>,
    bundles: RefCell<BTreeMap<CheckKey, Result<VerifiedBundle, BundleError>>>,
    attestations: RefCell<BTreeMap<CheckKey, Result<VerifiedAttestation, SignatureError>>>,
}

impl Clone for Work {
    fn clone(&self) -> Self {
        Work {
            spent: Cell::new(self.spent.get()),
            memo: RefCell::new(self.memo.borrow().clone()),
            bundles: RefCell::new(self.bundles.borrow().clone()),
            attestations: RefCell::new(self.attestations.borrow().clone()),
        }
    }
}

/// The budget is spent: the check was not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetExhausted;

impl Work {
    /// The remembered result of a check, or the result of running it when
    /// `cost` still fits the session's budget.
    pub fn check(
        &self,
        key: CheckKey,
        cost: u32,
        run: impl FnOnce() -> Result<VerifiedSignature, SignatureError>,
    ) -> Result<Result<VerifiedSignature, SignatureError>, BudgetExhausted> {
        self.remember(&self.memo, key, cost, run)
    }

    /// [`Work::check`] for a Sigstore bundle.
    pub fn check_bundle(
        &self,
        key: CheckKey,
        cost: u32,
        run: impl FnOnce() -> Result<VerifiedBundle, BundleError>,
    ) -> Result<Result<VerifiedBundle, BundleError>, BudgetExhausted> {
        self.remember(&self.bundles, key, cost, run)
    }

    /// [`Work::check`] for a cosign attestation layer.
    pub fn check_attestation(
        &self,
        key: CheckKey,
        cost: u32,
        run: impl FnOnce() -> Result<VerifiedAttestation, SignatureError>,
    ) -> Result<Result<VerifiedAttestation, SignatureError>, BudgetExhausted> {
        self.remember(&self.attestations, key, cost, run)
    }

    fn remember<T: Clone>(
        &self,
        memo: &RefCell<BTreeMap<CheckKey, T>>,
        key: CheckKey,
        cost: u32,
        run: impl FnOnce() -> T,
    ) -> Result<T, BudgetExhausted> {
        if let Some(r) = memo.borrow().get(&key) {
            return Ok(r.clone());
        }
        let spent = self.spent.get().saturating_add(cost);
        if spent > limits::MAX_VERIFICATION_COST {
            return Err(BudgetExhausted);
        }
        self.spent.set(spent);
        let r = run();
        memo.borrow_mut().insert(key, r.clone());
        Ok(r)
    }

    /// Spends `cost` of the budget on work that is not remembered (a
    /// condition evaluation).
    pub fn spend(&self, cost: u32) -> Result<(), BudgetExhausted> {
        let spent = self.spent.get().saturating_add(cost);
        if spent > limits::MAX_VERIFICATION_COST {
            return Err(BudgetExhausted);
        }
        self.spent.set(spent);
        Ok(())
    }

    /// Verification cost spent so far (P-256 equivalents).
    pub fn spent(&self) -> u32 {
        self.spent.get()
    }
}
