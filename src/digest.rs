//! OCI content digests: parsing, computing and verifying.
//!
//! Every byte string the engine receives by digest goes through [`Digest::verify`]
//! before it is used.

use core::fmt;
use sha2::{Digest as _, Sha256, Sha512};

/// Digest algorithms accepted for content addressing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// `sha256`, 64 lowercase hex characters.
    Sha256,
    /// `sha512`, 128 lowercase hex characters.
    Sha512,
}

impl Algorithm {
    /// The name as written before the colon.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }
    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }
}

/// A validated content digest such as `sha256:0123…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

/// Why a digest string was rejected, or bytes did not match it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// The string is not `algorithm:hex`.
    #[error("invalid digest {0:?}: expected algorithm:hex")]
    Format(String),
    /// The algorithm is not sha256 or sha512.
    #[error("unsupported digest algorithm in {0:?}")]
    UnsupportedAlgorithm(String),
    /// Wrong length or non-lowercase-hex characters.
    #[error("invalid checksum digest in {0:?}")]
    InvalidHex(String),
    /// The content hashes to something else.
    #[error("digest mismatch: expected {expected}, content hashes to {actual}")]
    Mismatch {
        /// The digest the content was addressed by.
        expected: String,
        /// The digest of the bytes received.
        actual: String,
    },
}

impl Digest {
    /// Parses `algorithm:hex`, requiring lowercase hex of the algorithm's length.
    pub fn parse(s: &str) -> Result<Self, DigestError> {
        let (alg, hex) = s
            .split_once(':')
            .ok_or_else(|| DigestError::Format(s.to_string()))?;
        let algorithm = match alg {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            "" => return Err(DigestError::Format(s.to_string())),
            _ => return Err(DigestError::UnsupportedAlgorithm(s.to_string())),
        };
        if hex.len() != algorithm.hex_len()
            || !hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(DigestError::InvalidHex(s.to_string()));
        }
        Ok(Digest {
            algorithm,
            hex: hex.to_string(),
        })
    }

    /// The sha256 digest of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Self {
        Digest {
            algorithm: Algorithm::Sha256,
            hex: hex_encode(&Sha256::digest(bytes)),
        }
    }

    /// The digest of `bytes` under `algorithm`.
    pub fn compute(algorithm: Algorithm, bytes: &[u8]) -> Self {
        let hex = match algorithm {
            Algorithm::Sha256 => hex_encode(&Sha256::digest(bytes)),
            Algorithm::Sha512 => hex_encode(&Sha512::digest(bytes)),
        };
        Digest { algorithm, hex }
    }

    /// Checks that `bytes` hash to this digest.
    pub fn verify(&self, bytes: &[u8]) -> Result<(), DigestError> {
        let actual = Digest::compute(self.algorithm, bytes);
        if actual.hex == self.hex {
            Ok(())
        } else {
            Err(DigestError::Mismatch {
                expected: self.to_string(),
                actual: actual.to_string(),
            })
        }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The hex part.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The cosign tag stem `sha256-<hex>` for this digest.
    pub fn tag_stem(&self) -> String {
        format!("{}-{}", self.algorithm.name(), self.hex)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex)
    }
}

/// Lowercase hex encoding.
pub fn hex_encode(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
    out
}

/// Decodes hex (either case); `None` on odd length or a non-hex character.
pub fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    s.as_bytes()
        .chunks(2)
        .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_detects_mismatch() {
        let d = Digest::sha256_of(b"hello");
        assert!(d.verify(b"hello").is_ok());
        assert!(matches!(
            d.verify(b"hellO"),
            Err(DigestError::Mismatch { .. })
        ));
    }

    #[test]
    fn parse_rejects_bad_forms() {
        assert!(Digest::parse("sha256:ABCD").is_err());
        assert!(Digest::parse("md5:00").is_err());
        assert!(Digest::parse("nocolon").is_err());
        let upper = format!("sha256:{}", "A".repeat(64));
        assert!(Digest::parse(&upper).is_err());
        let ok = format!("sha256:{}", "a".repeat(64));
        assert_eq!(Digest::parse(&ok).unwrap().to_string(), ok);
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(
            hex_decode(&hex_encode(&[0, 255, 16])).unwrap(),
            vec![0, 255, 16]
        );
        assert!(hex_decode("0g").is_none());
    }
}
