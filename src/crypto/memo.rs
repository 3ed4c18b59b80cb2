//! A bounded memo of signature checks that succeeded, so that the same
//! bytes are never verified twice by one module instance.
//!
//! An entry is the SHA-256 of everything the check read: the scheme (with
//! its hash and parameters), the public key's SubjectPublicKeyInfo, the
//! message (or its digest, for schemes that sign a digest) and the
//! signature, each length-prefixed. Nothing about the policy, the image or
//! the request is in the key: identities, counts, conditions and matching
//! are evaluated again on every admission; only the pure result "this key
//! signed these bytes" is remembered.
//!
//! The memo lives in the module instance's own memory (thread-local state
//! of the engine), which only the engine's code writes, and only after a
//! real verification succeeded; failures are never remembered, so a
//! hostile input can neither add an entry it did not earn nor turn a
//! failure into a hit without a SHA-256 collision. Entries are evicted
//! oldest first once the capacity is reached.

use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::{HashSet, VecDeque};

/// Entries kept unless the engine is configured otherwise (32 bytes each).
pub const DEFAULT_ENTRIES: usize = 4096;

/// Counters of the memo (for benchmarks and tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoStats {
    /// Checks answered from the memo.
    pub hits: u64,
    /// Checks that ran the cryptography.
    pub misses: u64,
    /// Entries held now.
    pub entries: usize,
}

struct Memo {
    capacity: usize,
    seen: HashSet<[u8; 32]>,
    order: VecDeque<[u8; 32]>,
    stats: MemoStats,
}

impl Memo {
    fn insert(&mut self, key: [u8; 32]) {
        if self.capacity == 0 || !self.seen.insert(key) {
            return;
        }
        self.order.push_back(key);
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
    }
}

thread_local! {
    static MEMO: RefCell<Memo> = RefCell::new(Memo {
        capacity: DEFAULT_ENTRIES,
        seen: HashSet::new(),
        order: VecDeque::new(),
        stats: MemoStats::default(),
    });
}

/// Sets how many successful checks are remembered; 0 turns the memo off.
/// Clears what was remembered and the counters.
pub fn set_capacity(entries: usize) {
    MEMO.with(|m| {
        let mut m = m.borrow_mut();
        m.capacity = entries;
        m.seen.clear();
        m.order.clear();
        m.stats = MemoStats::default();
    });
}

/// The counters since the last [`set_capacity`].
pub fn stats() -> MemoStats {
    MEMO.with(|m| {
        let m = m.borrow();
        MemoStats {
            entries: m.order.len(),
            ..m.stats
        }
    })
}

/// Runs `verify` unless a check with exactly these inputs already succeeded.
/// `parts` must name everything `verify` reads.
pub(crate) fn check<E>(parts: &[&[u8]], verify: impl FnOnce() -> Result<(), E>) -> Result<(), E> {
    let enabled = MEMO.with(|m| m.borrow().capacity > 0);
    if !enabled {
        return verify();
    }
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    let key: [u8; 32] = h.finalize().into();
    let hit = MEMO.with(|m| {
        let mut m = m.borrow_mut();
        let hit = m.seen.contains(&key);
        if hit {
            m.stats.hits += 1;
        } else {
            m.stats.misses += 1;
        }
        hit
    });
    if hit {
        return Ok(());
    }
    verify()?;
    MEMO.with(|m| m.borrow_mut().insert(key));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_successes_only_and_evicts_oldest() {
        set_capacity(2);
        let runs = std::cell::Cell::new(0);
        let ok = |parts: &[&[u8]]| {
            check::<()>(parts, || {
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

        let mut fails = 0;
        for _ in 0..2 {
            let r = check(&[b"bad"], || {
                fails += 1;
                Err("invalid")
            });
            assert_eq!(r, Err("invalid"));
        }
        assert_eq!(fails, 2, "a failure is never remembered");

        set_capacity(0);
        let mut off = 0;
        for _ in 0..2 {
            check::<()>(&[b"a"], || {
                off += 1;
                Ok(())
            })
            .unwrap();
        }
        assert_eq!(off, 2, "capacity 0 turns the memo off");
        set_capacity(DEFAULT_ENTRIES);
    }
}
