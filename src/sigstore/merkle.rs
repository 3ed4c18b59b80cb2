//! Transparency-log proofs: RFC 6962/9162 Merkle inclusion proofs and the
//! signed checkpoints (C2SP signed notes) that commit to a tree's root.

use super::trusted_root::LogKey;
use crate::crypto::{HashAlgorithm, PublicKey};
use base64::Engine as _;
use sha2::{Digest as _, Sha256};

/// Most hashes in one inclusion proof (a tree of 2^64 leaves needs 64).
const MAX_PROOF_HASHES: usize = 64;
/// Largest checkpoint note accepted.
const MAX_NOTE_BYTES: usize = 16 * 1024;

/// Why a proof or checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The proof does not lead to the claimed root.
    #[error("inclusion proof does not verify: {0}")]
    Inclusion(String),
    /// The checkpoint is malformed or not signed by the log.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
}

/// `SHA-256(0x00 || entry)`.
pub fn leaf_hash(entry: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

fn node_hash(left: &[u8], right: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Verifies that the leaf with hash `leaf` is at `index` in the tree of
/// `tree_size` leaves whose root is `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf: [u8; 32],
    index: u64,
    tree_size: u64,
    proof: &[Vec<u8>],
    root: &[u8],
) -> Result<(), ProofError> {
    let err = |m: &str| Err(ProofError::Inclusion(m.to_string()));
    if index >= tree_size {
        return err("leaf index is outside the tree");
    }
    if proof.len() > MAX_PROOF_HASHES {
        return err("too many proof hashes");
    }
    let (mut f, mut s) = (index, tree_size - 1);
    let mut r = leaf;
    for p in proof {
        if p.len() != 32 {
            return err("a proof hash is not 32 bytes");
        }
        if s == 0 {
            return err("proof is longer than the tree path");
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return err("proof is shorter than the tree path");
    }
    if r.as_slice() != root {
        return err("computed root hash differs from the proof's root hash");
    }
    Ok(())
}

/// A verified checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line.
    pub origin: String,
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root_hash: Vec<u8>,
}

/// The 4-byte key hint of a note signer: for Ed25519 the C2SP key ID
/// (`SHA-256(name || 0x0A || 0x01 || key)[:4]`), for other keys the first
/// bytes of the SPKI hash (the log ID).
fn key_hint(name: &str, key: &LogKey) -> Option<[u8; 4]> {
    let digest: [u8; 32] = match key.key.as_ref() {
        PublicKey::Ed25519(k) => {
            let mut h = Sha256::new();
            h.update(name.as_bytes());
            h.update([0x0a, 0x01]);
            h.update(k.as_bytes());
            h.finalize().into()
        }
        other => Sha256::digest(other.to_spki_der().ok()?).into(),
    };
    let mut hint = [0u8; 4];
    hint.copy_from_slice(&digest[..4]);
    Some(hint)
}

/// Verifies a signed checkpoint note: its text is signed by `log` (found by
/// key hint among the signature lines; cosignatures by others are
/// ignored), and it names an origin, a tree size and a root hash.
pub fn verify_checkpoint(note: &str, log: &LogKey) -> Result<Checkpoint, ProofError> {
    let err = |m: &str| ProofError::Checkpoint(m.to_string());
    if note.len() > MAX_NOTE_BYTES {
        return Err(err("note too large"));
    }
    let split = note
        .find("\n\n")
        .ok_or_else(|| err("no blank line before the signatures"))?;
    let (text, signatures) = (&note[..split + 1], &note[split + 2..]);
    let mut lines = text.lines();
    let origin = lines
        .next()
        .filter(|o| !o.is_empty())
        .ok_or_else(|| err("missing origin"))?
        .to_string();
    let size: u64 = lines
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| err("missing or invalid tree size"))?;
    let root_hash = lines
        .next()
        .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
        .filter(|h| h.len() == 32)
        .ok_or_else(|| err("missing or invalid root hash"))?;
    let mut signed = false;
    for line in signatures.lines().filter(|l| !l.is_empty()) {
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            return Err(err("malformed signature line"));
        };
        let Some((name, b64)) = rest.rsplit_once(' ') else {
            return Err(err("malformed signature line"));
        };
        let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64) else {
            return Err(err("signature is not base64"));
        };
        if raw.len() < 5 || key_hint(name, log).is_none_or(|h| raw[..4] != h) {
            continue;
        }
        let sig = &raw[4..];
        let ok = match log.key.as_ref() {
            PublicKey::Ed25519(_) => log.key.verify_ed25519(text.as_bytes(), sig).is_ok(),
            other => other
                .verify_ecdsa_der(HashAlgorithm::Sha256, text.as_bytes(), sig)
                .is_ok(),
        };
        if ok {
            signed = true;
            break;
        }
    }
    if !signed {
        return Err(err("no valid signature by the log"));
    }
    Ok(Checkpoint {
        origin,
        size,
        root_hash,
    })
}
