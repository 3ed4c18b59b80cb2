//! A bounded memo of signature checks, so that one module instance never
//! verifies the same bytes twice.
//!
//! An entry is the SHA-256 of everything the check read: the scheme (with
//! its hash and parameters), the public key's SubjectPublicKeyInfo, the
//! message (or its digest, for schemes that sign a digest) and the
//! signature, each length-prefixed. Nothing about the policy, the image or
//! the request is in the key: identities, counts, conditions and matching
//! are evaluated again on every admission; only the pure result "this key
//! did (or did not) sign these bytes" is remembered.
//!
//! The memo lives in the module instance's own memory (thread-local state
//! of the engine), which only the engine's code writes, and only with the
//! result of a real verification: a hit replays what the cryptography said
//! about exactly the same bytes, so a hostile input cannot turn a failure
//! into a success (or the reverse) without a SHA-256 collision. Successes
//! and failures are kept apart, each bounded and evicted oldest first, so a
//! flood of failing signatures (cheap for an attacker to make) never evicts
//! the successes that keep warm admissions fast.

use super::CryptoError;
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};

/// Entries kept on each side (successes, failures) unless the engine is
/// configured otherwise.
pub const DEFAULT_ENTRIES: usize = 4096;

/// Counters of the memo (for benchmarks and tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoStats {
    /// Checks answered from the memo.
    pub hits: u64,
    /// Checks that ran the cryptography.
    pub misses: u64,
    /// Entries held now (both sides).
    pub entries: usize,
}

/// One side of the memo: a bounded map evicted oldest first.
struct Side<V> {
    map: HashMap<[u8; 32], V>,
    order: VecDeque<[u8; 32]>,
}

impl<V> Default for Side<V> {
    fn default() -> Self {
        Side {
            map: HashMap::new(),
            order: VecDeque::new(),
        }
    }
}

impl<V> Side<V> {
    fn insert(&mut self, capacity: usize, key: [u8; 32], value: V) {
        if capacity == 0 || self.map.insert(key, value).is_some() {
            return;
        }
        self.order.push_back(key);
        while self.order.len() > capacity {
            if let Some(old) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
    }
}

#[derive(Default)]
struct Memo {
    capacity: usize,
    verified: Side<()>,
    refuted: Side<CryptoError>,
    stats: MemoStats,
}

thread_local! {
    static MEMO: RefCell<Memo> = RefCell::new(Memo {
        capacity: DEFAULT_ENTRIES,
        ..Memo::default()
    });
}

/// Sets how many checks are remembered on each side; 0 turns the memo off.
/// Clears what was remembered and the counters.
pub fn set_capacity(entries: usize) {
    MEMO.with(|m| {
        *m.borrow_mut() = Memo {
            capacity: entries,
            ..Memo::default()
        }
    });
}

/// The counters since the last [`set_capacity`].
pub fn stats() -> MemoStats {
    MEMO.with(|m| {
        let m = m.borrow();
        MemoStats {
            entries: m.verified.order.len() + m.refuted.order.len(),
            ..m.stats
        }
    })
}

/// Whether the memo holds anything in this instance (its capacity is not 0).
pub(crate) fn enabled() -> bool {
    MEMO.with(|m| m.borrow().capacity > 0)
}

/// Runs `verify` unless a check with exactly these inputs already ran, in
/// which case its result is returned. `parts` must name everything `verify`
/// reads.
pub(crate) fn check(
    parts: &[&[u8]],
    verify: impl FnOnce() -> Result<(), CryptoError>,
) -> Result<(), CryptoError> {
    if !enabled() {
        return verify();
    }
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    let key: [u8; 32] = h.finalize().into();
    let known = MEMO.with(|m| {
        let mut m = m.borrow_mut();
        let known = if m.verified.map.contains_key(&key) {
            Some(Ok(()))
        } else {
            m.refuted.map.get(&key).cloned().map(Err)
        };
        match known {
            Some(_) => m.stats.hits += 1,
            None => m.stats.misses += 1,
        }
        known
    });
    if let Some(result) = known {
        return result;
    }
    let result = verify();
    MEMO.with(|m| {
        let mut m = m.borrow_mut();
        let capacity = m.capacity;
        match &result {
            Ok(()) => m.verified.insert(capacity, key, ()),
            Err(e) => m.refuted.insert(capacity, key, e.clone()),
        }
    });
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_results_and_evicts_oldest() {
        set_capacity(2);
        let runs = std::cell::Cell::new(0);
        let ok = |parts: &[&[u8]]| {
            check(parts, || {
                runs.set(runs.get() + 1);
                Ok(())
            })
        };
        ok(&[b"a"]).unwrap();
        ok(&[b"a"]).unwrap();
        assert_eq!(runs.get(), 1);
        // Length prefixes keep ("ab","c") and ("a","bc") apart.
        ok(&[b"ab", b"c"]).unwrap();
        ok(&[b"a", b"bc"]).unwrap();
        assert_eq!(runs.get(), 3);
        // Capacity 2: "a" was evicted.
        ok(&[b"a"]).unwrap();
        assert_eq!(runs.get(), 4);
        assert_eq!(stats().entries, 2);

        // A failure replays the same error, and failures never evict successes.
        let fails = std::cell::Cell::new(0);
        for i in 0..10u8 {
            for _ in 0..2 {
                let r = check(&[b"bad", &[i]], || {
                    fails.set(fails.get() + 1);
                    Err(CryptoError::SignatureFormat(format!("bad {i}")))
                });
                assert_eq!(r, Err(CryptoError::SignatureFormat(format!("bad {i}"))));
            }
        }
        assert_eq!(fails.get(), 10, "each failure ran once");
        ok(&[b"a"]).unwrap();
        ok(&[b"a", b"bc"]).unwrap();
        assert_eq!(runs.get(), 4, "the successes survived the failures");

        set_capacity(0);
        let off = std::cell::Cell::new(0);
        for _ in 0..2 {
            check(&[b"a"], || {
                off.set(off.get() + 1);
                Ok(())
            })
            .unwrap();
        }
        assert_eq!(off.get(), 2, "capacity 0 turns the memo off");
        set_capacity(DEFAULT_ENTRIES);
    }
}
