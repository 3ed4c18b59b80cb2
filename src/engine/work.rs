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
//!
//! [`SharedChecks`] keeps the same results across the sessions of one
//! compiled engine (whose trusted root is part of what a check reads), so a
//! warm admission re-runs no layer check at all: only the hashing that binds
//! the fetched bytes to their digests, and the matching, identities, counts
//! and conditions that every admission evaluates afresh.

use crate::limits;
use crate::notary::NotaryError;
use crate::notary::verify::Verified as VerifiedNotary;
use crate::sigstore::bundle::{BundleError, VerifiedBundle};
use crate::sigstore::cosign::{SignatureError, VerifiedAttestation, VerifiedSignature};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

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
    notary: RefCell<BTreeMap<CheckKey, Result<VerifiedNotary, NotaryError>>>,
    shared: Option<Arc<SharedChecks>>,
}

impl Clone for Work {
    fn clone(&self) -> Self {
        Work {
            spent: Cell::new(self.spent.get()),
            memo: RefCell::new(self.memo.borrow().clone()),
            bundles: RefCell::new(self.bundles.borrow().clone()),
            attestations: RefCell::new(self.attestations.borrow().clone()),
            notary: RefCell::new(self.notary.borrow().clone()),
            shared: self.shared.clone(),
        }
    }
}

/// Check results kept across the sessions of one compiled engine, bounded:
/// successes and failures apart (each side at most `capacity` entries,
/// forgotten when full), so a flood of bad signatures cannot evict good ones.
#[derive(Debug, Default)]
pub struct SharedChecks {
    capacity: usize,
    signatures: Mutex<Sides<VerifiedSignature, SignatureError>>,
    bundles: Mutex<Sides<VerifiedBundle, BundleError>>,
    attestations: Mutex<Sides<VerifiedAttestation, SignatureError>>,
    notary: Mutex<Sides<VerifiedNotary, NotaryError>>,
}

#[derive(Debug)]
struct Sides<V, E> {
    ok: BTreeMap<CheckKey, V>,
    err: BTreeMap<CheckKey, E>,
}

impl<V, E> Default for Sides<V, E> {
    fn default() -> Self {
        Sides {
            ok: BTreeMap::new(),
            err: BTreeMap::new(),
        }
    }
}

impl<V: Clone, E: Clone> Sides<V, E> {
    fn get(&self, key: &CheckKey) -> Option<Result<V, E>> {
        match self.ok.get(key) {
            Some(v) => Some(Ok(v.clone())),
            None => self.err.get(key).cloned().map(Err),
        }
    }

    fn insert(&mut self, capacity: usize, key: CheckKey, r: &Result<V, E>) {
        fn bounded<K: Ord, T>(m: &mut BTreeMap<K, T>, capacity: usize, k: K, v: T) {
            if m.len() >= capacity {
                m.clear();
            }
            m.insert(k, v);
        }
        match r {
            Ok(v) => bounded(&mut self.ok, capacity, key, v.clone()),
            Err(e) => bounded(&mut self.err, capacity, key, e.clone()),
        }
    }
}

impl SharedChecks {
    /// A memo of at most `capacity` successes and `capacity` failures per
    /// kind of check; 0 remembers nothing.
    pub fn new(capacity: usize) -> Self {
        SharedChecks {
            capacity,
            ..Default::default()
        }
    }

    /// Results remembered now (successes and failures, all kinds).
    pub fn len(&self) -> usize {
        fn n<V, E>(m: &Mutex<Sides<V, E>>) -> usize {
            m.lock().map_or(0, |s| s.ok.len() + s.err.len())
        }
        n(&self.signatures) + n(&self.bundles) + n(&self.attestations) + n(&self.notary)
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The budget is spent: the check was not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetExhausted;

impl Work {
    /// A session's work that also reads and feeds the engine's
    /// [`SharedChecks`].
    pub fn with_shared(shared: Arc<SharedChecks>) -> Self {
        Work {
            shared: (shared.capacity > 0).then_some(shared),
            ..Default::default()
        }
    }

    /// The remembered result of a check, or the result of running it when
    /// `cost` still fits the session's budget.
    pub fn check(
        &self,
        key: CheckKey,
        cost: u32,
        run: impl FnOnce() -> Result<VerifiedSignature, SignatureError>,
    ) -> Result<Result<VerifiedSignature, SignatureError>, BudgetExhausted> {
        let shared = self.shared.as_ref().map(|s| (s.capacity, &s.signatures));
        self.remember(&self.memo, shared, key, cost, run)
    }

    /// [`Work::check`] for a Sigstore bundle.
    pub fn check_bundle(
        &self,
        key: CheckKey,
        cost: u32,
        run: impl FnOnce() -> Result<VerifiedBundle, BundleError>,
    ) -> Result<Result<VerifiedBundle, BundleError>, BudgetExhausted> {
        let shared = self.shared.as_ref().map(|s| (s.capacity, &s.bundles));
        self.remember(&self.bundles, shared, key, cost, run)
    }

    /// [`Work::check`] for a cosign attestation layer.
    pub fn check_attestation(
        &self,
        key: CheckKey,
        cost: u32,
        run: impl FnOnce() -> Result<VerifiedAttestation, SignatureError>,
    ) -> Result<Result<VerifiedAttestation, SignatureError>, BudgetExhausted> {
        let shared = self.shared.as_ref().map(|s| (s.capacity, &s.attestations));
        self.remember(&self.attestations, shared, key, cost, run)
    }

    /// [`Work::check`] for a Notary signature envelope.
    pub fn check_notary(
        &self,
        key: CheckKey,
        cost: u32,
        run: impl FnOnce() -> Result<VerifiedNotary, NotaryError>,
    ) -> Result<Result<VerifiedNotary, NotaryError>, BudgetExhausted> {
        let shared = self.shared.as_ref().map(|s| (s.capacity, &s.notary));
        self.remember(&self.notary, shared, key, cost, run)
    }

    fn remember<V: Clone, E: Clone>(
        &self,
        memo: &RefCell<BTreeMap<CheckKey, Result<V, E>>>,
        shared: Option<(usize, &Mutex<Sides<V, E>>)>,
        key: CheckKey,
        cost: u32,
        run: impl FnOnce() -> Result<V, E>,
    ) -> Result<Result<V, E>, BudgetExhausted> {
        if let Some(r) = memo.borrow().get(&key) {
            return Ok(r.clone());
        }
        if let Some(r) = shared.and_then(|(_, m)| m.lock().ok()?.get(&key)) {
            memo.borrow_mut().insert(key, r.clone());
            return Ok(r);
        }
        let spent = self.spent.get().saturating_add(cost);
        if spent > limits::MAX_VERIFICATION_COST {
            return Err(BudgetExhausted);
        }
        self.spent.set(spent);
        let r = run();
        if let Some((capacity, m)) = shared
            && let Ok(mut m) = m.lock()
        {
            m.insert(capacity, key.clone(), &r);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn key(manifest: &str) -> CheckKey {
        CheckKey {
            manifest: manifest.into(),
            layer: 0,
            image: "sha256:00".into(),
            trust: "key:ab/tlog:root".into(),
        }
    }

    fn run(work: &Work, manifest: &str, ran: &Cell<u32>) -> Result<(), SignatureError> {
        work.check(key(manifest), 3, || {
            ran.set(ran.get() + 1);
            Err(SignatureError::MissingSignature)
        })
        .expect("within budget")
        .map(|_| ())
    }

    /// A second session of the same engine reads the first one's results
    /// without running the check or spending its budget; capacity 0 shares
    /// nothing.
    #[test]
    fn sessions_of_one_engine_share_check_results() {
        let ran = Cell::new(0);
        let shared = Arc::new(SharedChecks::new(8));
        let first = Work::with_shared(shared.clone());
        assert!(run(&first, "sha256:m1", &ran).is_err());
        assert_eq!((ran.get(), first.spent()), (1, 3));
        let second = Work::with_shared(shared.clone());
        assert!(run(&second, "sha256:m1", &ran).is_err());
        assert_eq!(
            (ran.get(), second.spent()),
            (1, 0),
            "answered from the engine"
        );
        assert!(run(&second, "sha256:m2", &ran).is_err());
        assert_eq!(ran.get(), 2, "another manifest is another check");

        let off = Arc::new(SharedChecks::new(0));
        let (a, b) = (
            Work::with_shared(off.clone()),
            Work::with_shared(off.clone()),
        );
        let ran = Cell::new(0);
        let _ = run(&a, "sha256:m1", &ran);
        let _ = run(&b, "sha256:m1", &ran);
        assert_eq!(ran.get(), 2);
        assert!(off.is_empty());
    }

    /// Failures fill their own side: past the capacity they are forgotten,
    /// and never push out a remembered success.
    #[test]
    fn failures_are_bounded_apart_from_successes() {
        let ok: Result<u8, u8> = Ok(1);
        let mut s: Sides<u8, u8> = Sides::default();
        s.insert(4, key("good"), &ok);
        for i in 0..100 {
            s.insert(4, key(&format!("bad{i}")), &Err(0));
        }
        assert!(s.err.len() <= 4);
        assert_eq!(s.get(&key("good")), Some(Ok(1)));
    }
}
