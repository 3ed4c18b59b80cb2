//! Store lookups for one evaluation round: answers already stored, and the
//! fetches still needed, bounded by the session's artifact budget.

use crate::digest::Digest;
use crate::engine::store::{Answer, FailureStatus, Fetch, FetchKind, Store};
use crate::engine::work::Work;
use crate::limits;
use crate::oci::{Manifest, ManifestError};
use crate::resource::PullCredentials;
use std::cell::RefCell;
use std::collections::BTreeSet;

/// Store lookups that record what is missing, and the session's verification work.
pub(in crate::engine) struct Fetcher<'a> {
    store: &'a Store,
    pub(in crate::engine) work: &'a Work,
    needs: RefCell<BTreeSet<Fetch>>,
    /// The resource's pull credentials, added to every registry fetch.
    pull: PullCredentials,
}

/// A lookup result.
pub(in crate::engine) enum Got<T> {
    Bytes(T),
    Failed(FailureStatus, String),
    Pending,
}

impl<'a> Fetcher<'a> {
    /// Lookups in `store`; registry fetches carry `pull` too.
    pub(in crate::engine) fn new(store: &'a Store, work: &'a Work, pull: PullCredentials) -> Self {
        Fetcher {
            store,
            work,
            needs: RefCell::new(BTreeSet::new()),
            pull,
        }
    }

    /// The stored answer, or `Pending` (and the fetch recorded as needed).
    /// Past the session's artifact budget (count or bytes) a new fetch fails
    /// verification instead: the evaluation always ends in a decision.
    pub(in crate::engine) fn get(&self, mut f: Fetch) -> Got<&'a [u8]> {
        if f.kind != FetchKind::KubeApi && self.pull != PullCredentials::default() {
            f.access = f.access.with_pull(&self.pull);
        }
        match self.store.get(f.kind, &f.key) {
            Some(Answer::Bytes(b)) => Got::Bytes(b),
            Some(Answer::Failure(s, m)) => Got::Failed(*s, m.clone()),
            None => {
                let mut needs = self.needs.borrow_mut();
                if !needs.contains(&f) {
                    if self.store.len() + needs.len() >= limits::MAX_STORE_ENTRIES {
                        return Got::Failed(
                            FailureStatus::Invalid,
                            format!(
                                "{}: this admission needs more than {} artifacts",
                                f.key,
                                limits::MAX_STORE_ENTRIES
                            ),
                        );
                    }
                    if self.store.bytes() >= limits::MAX_STORE_BYTES || self.store.is_full() {
                        return Got::Failed(
                            FailureStatus::Invalid,
                            format!(
                                "{}: this admission's artifacts exceed {} MiB",
                                f.key,
                                limits::MAX_STORE_BYTES >> 20
                            ),
                        );
                    }
                }
                needs.insert(f);
                Got::Pending
            }
        }
    }

    /// The digest of a tag's manifest bytes (hashed once when stored).
    pub(in crate::engine) fn tag_digest(&self, f: Fetch) -> Got<Digest> {
        let key = f.key.clone();
        match self.get(f) {
            Got::Bytes(b) => Got::Bytes(
                self.store
                    .tag_digest(&key)
                    .cloned()
                    .unwrap_or_else(|| Digest::sha256_of(b)),
            ),
            Got::Failed(s, m) => Got::Failed(s, m),
            Got::Pending => Got::Pending,
        }
    }

    /// A stored answer parsed as a manifest (parsed once per session).
    pub(in crate::engine) fn manifest(&self, f: Fetch) -> Got<Result<&'a Manifest, ManifestError>> {
        let (kind, key) = (f.kind, f.key.clone());
        match self.get(f) {
            Got::Bytes(_) => match self.store.manifest(kind, &key) {
                Some(Ok(m)) => Got::Bytes(Ok(m)),
                Some(Err(e)) => Got::Bytes(Err(e.clone())),
                None => Got::Failed(FailureStatus::Error, format!("{key}: not stored")),
            },
            Got::Failed(s, m) => Got::Failed(s, m),
            Got::Pending => Got::Pending,
        }
    }

    pub(in crate::engine) fn into_needs(self) -> Vec<Fetch> {
        self.needs.into_inner().into_iter().collect()
    }
}
