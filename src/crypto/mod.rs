//! Signature verification primitives: public keys (ECDSA P-256/P-384/P-521,
//! RSA, Ed25519) and the schemes cosign, Rekor and Notary use.
//!
//! Everything here is verification only; no RNG is linked.

pub mod fixed_base;
mod jacobian;
pub mod memo;
pub mod pem;
pub mod x509;

use ecdsa::signature::hazmat::PrehashVerifier;
use sha2::Digest as _;
use spki::DecodePublicKey;

/// Hash functions a policy may select (`signatureAlgorithm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// SHA-224.
    Sha224,
    /// SHA-256 (the default).
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlgorithm {
    /// Parses Kyverno's `signatureAlgorithm` (`""` means sha256).
    pub fn from_policy(s: &str) -> Option<Self> {
        match s {
            "" | "sha256" => Some(Self::Sha256),
            "sha224" => Some(Self::Sha224),
            "sha384" => Some(Self::Sha384),
            "sha512" => Some(Self::Sha512),
            _ => None,
        }
    }

    /// Hashes `msg`.
    pub fn digest(self, msg: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha224 => sha2::Sha224::digest(msg).to_vec(),
            Self::Sha256 => sha2::Sha256::digest(msg).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(msg).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(msg).to_vec(),
        }
    }
}

/// Why a key could not be loaded or a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The key is not a PEM/DER SubjectPublicKeyInfo of a supported type.
    #[error("failed to load public key: {0}")]
    KeyFormat(String),
    /// RSA modulus below 2048 bits.
    #[error("RSA key of {0} bits is too small (minimum 2048)")]
    WeakRsaKey(usize),
    /// The signature bytes are not in the scheme's encoding.
    #[error("malformed signature: {0}")]
    SignatureFormat(String),
    /// The signature does not verify.
    #[error("invalid signature")]
    Invalid,
    /// The key type cannot be used with the requested scheme.
    #[error("key type {key} cannot verify {scheme} signatures")]
    SchemeMismatch {
        /// Key type.
        key: &'static str,
        /// Scheme requested.
        scheme: &'static str,
    },
}

/// A public key usable for verification.
#[derive(Clone, Debug)]
pub enum PublicKey {
    /// ECDSA over NIST P-256.
    P256(p256::ecdsa::VerifyingKey),
    /// ECDSA over NIST P-384.
    P384(p384::ecdsa::VerifyingKey),
    /// ECDSA over NIST P-521.
    P521(Box<p521::ecdsa::VerifyingKey>),
    /// RSA (PKCS#1 v1.5 or PSS).
    Rsa(Box<rsa::RsaPublicKey>),
    /// Ed25519.
    Ed25519(ed25519_dalek::VerifyingKey),
}

const OID_EC: &str = "1.2.840.10045.2.1";
const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_ED25519: &str = "1.3.101.112";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";
const OID_P521: &str = "1.3.132.0.35";

impl PublicKey {
    /// Loads one `-----BEGIN PUBLIC KEY-----` PEM block.
    pub fn from_pem(pem_text: &str) -> Result<Self, CryptoError> {
        let blocks =
            pem::parse_blocks(pem_text).map_err(|e| CryptoError::KeyFormat(e.to_string()))?;
        match blocks.as_slice() {
            [b] if b.label == "PUBLIC KEY" => Self::from_spki_der(&b.der),
            [b] => Err(CryptoError::KeyFormat(format!(
                "expected a PUBLIC KEY PEM block, found {}",
                b.label
            ))),
            [] => Err(CryptoError::KeyFormat("no PEM block found".into())),
            _ => Err(CryptoError::KeyFormat(
                "expected exactly one PEM block".into(),
            )),
        }
    }

    /// Loads a DER PKCS#1 `RSAPublicKey` (as some trusted roots carry CT keys).
    pub fn from_pkcs1_rsa_der(der: &[u8]) -> Result<Self, CryptoError> {
        use rsa::pkcs1::DecodeRsaPublicKey;
        Self::rsa(
            rsa::RsaPublicKey::from_pkcs1_der(der)
                .map_err(|e| CryptoError::KeyFormat(e.to_string()))?,
        )
    }

    fn rsa(key: rsa::RsaPublicKey) -> Result<Self, CryptoError> {
        let bits = rsa::traits::PublicKeyParts::n_bits_precision(&key) as usize;
        if bits < 2048 {
            return Err(CryptoError::WeakRsaKey(bits));
        }
        Ok(Self::Rsa(Box::new(key)))
    }

    /// Loads a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, CryptoError> {
        let spki = spki::SubjectPublicKeyInfoRef::try_from(der)
            .map_err(|e| CryptoError::KeyFormat(e.to_string()))?;
        let alg = spki.algorithm.oid.to_string();
        let kf = |e: &dyn core::fmt::Display| CryptoError::KeyFormat(e.to_string());
        match alg.as_str() {
            OID_EC => {
                let curve = spki
                    .algorithm
                    .parameters_oid()
                    .map_err(|e| kf(&e))?
                    .to_string();
                match curve.as_str() {
                    OID_P256 => p256::ecdsa::VerifyingKey::from_public_key_der(der)
                        .map(Self::P256)
                        .map_err(|e| kf(&e)),
                    OID_P384 => p384::ecdsa::VerifyingKey::from_public_key_der(der)
                        .map(Self::P384)
                        .map_err(|e| kf(&e)),
                    OID_P521 => p521::ecdsa::VerifyingKey::from_public_key_der(der)
                        .map(|k| Self::P521(Box::new(k)))
                        .map_err(|e| kf(&e)),
                    other => Err(CryptoError::KeyFormat(format!("unsupported curve {other}"))),
                }
            }
            OID_RSA => Self::rsa(rsa::RsaPublicKey::from_public_key_der(der).map_err(|e| kf(&e))?),
            OID_ED25519 => {
                let bytes = spki.subject_public_key.as_bytes().ok_or_else(|| {
                    CryptoError::KeyFormat("Ed25519 key is not a whole number of bytes".into())
                })?;
                let arr: [u8; 32] = bytes
                    .try_into()
                    .map_err(|_| CryptoError::KeyFormat("Ed25519 key must be 32 bytes".into()))?;
                ed25519_dalek::VerifyingKey::from_bytes(&arr)
                    .map(Self::Ed25519)
                    .map_err(|e| kf(&e))
            }
            other => Err(CryptoError::KeyFormat(format!(
                "unsupported key algorithm {other}"
            ))),
        }
    }

    /// A short name of the key type.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::P256(_) => "ECDSA P-256",
            Self::P384(_) => "ECDSA P-384",
            Self::P521(_) => "ECDSA P-521",
            Self::Rsa(_) => "RSA",
            Self::Ed25519(_) => "Ed25519",
        }
    }

    /// The hash an ECDSA key's curve is normally used with.
    pub fn curve_hash(&self) -> Option<HashAlgorithm> {
        match self {
            Self::P256(_) => Some(HashAlgorithm::Sha256),
            Self::P384(_) => Some(HashAlgorithm::Sha384),
            Self::P521(_) => Some(HashAlgorithm::Sha512),
            _ => None,
        }
    }

    /// ECDSA with an ASN.1 DER signature over `hash(msg)`.
    pub fn verify_ecdsa_der(
        &self,
        hash: HashAlgorithm,
        msg: &[u8],
        sig: &[u8],
    ) -> Result<(), CryptoError> {
        self.verify_ecdsa_prehash(&hash.digest(msg), sig, SigEncoding::Der)
    }

    /// A signature over a message known only by its digest under `hash`:
    /// ECDSA (DER) or RSA PKCS#1 v1.5. Ed25519 signs messages, not digests.
    pub fn verify_prehashed(
        &self,
        hash: HashAlgorithm,
        digest: &[u8],
        sig: &[u8],
    ) -> Result<(), CryptoError> {
        if digest.len() != hash.digest(b"").len() {
            return Err(CryptoError::SignatureFormat(format!(
                "a {hash:?} digest of {} bytes",
                digest.len()
            )));
        }
        match self {
            Self::P256(_) | Self::P384(_) | Self::P521(_) => {
                self.verify_ecdsa_prehash(digest, sig, SigEncoding::Der)
            }
            Self::Rsa(k) => self.verify_pkcs1v15_digest(k, hash, digest, sig),
            other => Err(CryptoError::SchemeMismatch {
                key: other.type_name(),
                scheme: "a prehashed signature",
            }),
        }
    }

    /// ECDSA with a raw `r‖s` (IEEE P1363) signature over `hash(msg)`.
    pub fn verify_ecdsa_p1363(
        &self,
        hash: HashAlgorithm,
        msg: &[u8],
        sig: &[u8],
    ) -> Result<(), CryptoError> {
        self.verify_ecdsa_prehash(&hash.digest(msg), sig, SigEncoding::P1363)
    }

    fn verify_ecdsa_prehash(
        &self,
        prehash: &[u8],
        sig: &[u8],
        enc: SigEncoding,
    ) -> Result<(), CryptoError> {
        let scheme = match enc {
            SigEncoding::Der => "ecdsa-der",
            SigEncoding::P1363 => "ecdsa-p1363",
        };
        self.memoized(scheme, prehash, sig, || {
            self.verify_ecdsa_unmemoized(prehash, sig, enc)
        })
    }

    fn verify_ecdsa_unmemoized(
        &self,
        prehash: &[u8],
        sig: &[u8],
        enc: SigEncoding,
    ) -> Result<(), CryptoError> {
        let sf = |e: ecdsa::Error| CryptoError::SignatureFormat(e.to_string());
        let inv = |_| CryptoError::Invalid;
        match self {
            Self::P256(k) => {
                let s = match enc {
                    SigEncoding::Der => p256::ecdsa::Signature::from_der(sig).map_err(sf)?,
                    SigEncoding::P1363 => p256::ecdsa::Signature::from_slice(sig).map_err(sf)?,
                };
                match fixed_base::verify_prehashed(k, prehash, &s) {
                    Some(true) => Ok(()),
                    Some(false) => Err(CryptoError::Invalid),
                    None => k.verify_prehash(prehash, &s).map_err(inv),
                }
            }
            Self::P384(k) => {
                let s = match enc {
                    SigEncoding::Der => p384::ecdsa::Signature::from_der(sig).map_err(sf)?,
                    SigEncoding::P1363 => p384::ecdsa::Signature::from_slice(sig).map_err(sf)?,
                };
                match fixed_base::verify_prehashed(k, prehash, &s) {
                    Some(true) => Ok(()),
                    Some(false) => Err(CryptoError::Invalid),
                    None => k.verify_prehash(prehash, &s).map_err(inv),
                }
            }
            Self::P521(k) => {
                let s = match enc {
                    SigEncoding::Der => p521::ecdsa::Signature::from_der(sig).map_err(sf)?,
                    SigEncoding::P1363 => p521::ecdsa::Signature::from_slice(sig).map_err(sf)?,
                };
                k.verify_prehash(prehash, &s).map_err(inv)
            }
            other => Err(CryptoError::SchemeMismatch {
                key: other.type_name(),
                scheme: "ECDSA",
            }),
        }
    }

    /// RSASSA-PKCS1-v1_5 over `hash(msg)`.
    pub fn verify_rsa_pkcs1v15(
        &self,
        hash: HashAlgorithm,
        msg: &[u8],
        sig: &[u8],
    ) -> Result<(), CryptoError> {
        let Self::Rsa(k) = self else {
            return Err(CryptoError::SchemeMismatch {
                key: self.type_name(),
                scheme: "RSA PKCS#1 v1.5",
            });
        };
        self.verify_pkcs1v15_digest(k, hash, &hash.digest(msg), sig)
    }

    fn verify_pkcs1v15_digest(
        &self,
        k: &rsa::RsaPublicKey,
        hash: HashAlgorithm,
        digest: &[u8],
        sig: &[u8],
    ) -> Result<(), CryptoError> {
        let scheme = match hash {
            HashAlgorithm::Sha224 => rsa::Pkcs1v15Sign::new::<sha2::Sha224>(),
            HashAlgorithm::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
            HashAlgorithm::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
            HashAlgorithm::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
        };
        let name = format!("rsa-pkcs1v15-{hash:?}");
        self.memoized(&name, digest, sig, || {
            k.verify(scheme, digest, sig)
                .map_err(|_| CryptoError::Invalid)
        })
    }

    /// RSASSA-PSS with MGF1 of the same hash; `salt_len` `None` detects it.
    pub fn verify_rsa_pss(
        &self,
        hash: HashAlgorithm,
        salt_len: Option<usize>,
        msg: &[u8],
        sig: &[u8],
    ) -> Result<(), CryptoError> {
        let Self::Rsa(k) = self else {
            return Err(CryptoError::SchemeMismatch {
                key: self.type_name(),
                scheme: "RSA PSS",
            });
        };
        fn pss<D: sha2::Digest + digest::FixedOutputReset>(
            k: &rsa::RsaPublicKey,
            salt: Option<usize>,
            hashed: &[u8],
            sig: &[u8],
        ) -> Result<(), CryptoError> {
            let mut scheme = rsa::Pss::<D>::new();
            scheme.salt_len = salt;
            k.verify(scheme, hashed, sig)
                .map_err(|_| CryptoError::Invalid)
        }
        let hashed = hash.digest(msg);
        let name = format!("rsa-pss-{hash:?}-salt-{salt_len:?}");
        self.memoized(&name, &hashed, sig, || match hash {
            HashAlgorithm::Sha224 => pss::<sha2::Sha224>(k, salt_len, &hashed, sig),
            HashAlgorithm::Sha256 => pss::<sha2::Sha256>(k, salt_len, &hashed, sig),
            HashAlgorithm::Sha384 => pss::<sha2::Sha384>(k, salt_len, &hashed, sig),
            HashAlgorithm::Sha512 => pss::<sha2::Sha512>(k, salt_len, &hashed, sig),
        })
    }

    /// Pure Ed25519 (RFC 8032), strict: non-canonical and small-order inputs rejected.
    pub fn verify_ed25519(&self, msg: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
        let (k, s) = self.ed25519_parts(sig)?;
        self.memoized("ed25519", msg, sig, || {
            k.verify_strict(msg, &s).map_err(|_| CryptoError::Invalid)
        })
    }

    /// Ed25519ph (SHA-512 prehash, empty context), as cosign 2.x writes for blobs.
    pub fn verify_ed25519ph(&self, msg: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
        let (k, s) = self.ed25519_parts(sig)?;
        let mut h = sha2::Sha512::new();
        h.update(msg);
        let digest = h.clone().finalize();
        self.memoized("ed25519ph", &digest, sig, || {
            k.verify_prehashed_strict(h, None, &s)
                .map_err(|_| CryptoError::Invalid)
        })
    }

    /// Runs `verify` through the verification memo ([`memo`]), keyed by the
    /// scheme, this key's SubjectPublicKeyInfo, the input and the signature.
    fn memoized(
        &self,
        scheme: &str,
        input: &[u8],
        sig: &[u8],
        verify: impl FnOnce() -> Result<(), CryptoError>,
    ) -> Result<(), CryptoError> {
        if !memo::enabled() {
            return verify();
        }
        match self.to_spki_der() {
            Ok(spki) => memo::check(&[scheme.as_bytes(), &spki, input, sig], verify),
            Err(_) => verify(),
        }
    }

    fn ed25519_parts(
        &self,
        sig: &[u8],
    ) -> Result<(&ed25519_dalek::VerifyingKey, ed25519_dalek::Signature), CryptoError> {
        let Self::Ed25519(k) = self else {
            return Err(CryptoError::SchemeMismatch {
                key: self.type_name(),
                scheme: "Ed25519",
            });
        };
        let s = ed25519_dalek::Signature::from_slice(sig)
            .map_err(|e| CryptoError::SignatureFormat(e.to_string()))?;
        Ok((k, s))
    }

    /// Verifies a signature the way sigstore's `LoadVerifier` does for a
    /// cosign public key: ECDSA DER with the policy hash or the curve's own
    /// hash; RSA PKCS#1 v1.5, then PSS; Ed25519 pure, then Ed25519ph.
    pub fn verify_cosign(
        &self,
        policy_hash: HashAlgorithm,
        msg: &[u8],
        sig: &[u8],
    ) -> Result<(), CryptoError> {
        match self {
            Self::P256(_) | Self::P384(_) | Self::P521(_) => {
                let first = self.verify_ecdsa_der(policy_hash, msg, sig);
                match (first, self.curve_hash()) {
                    (Ok(()), _) => Ok(()),
                    (Err(e), Some(h)) if h != policy_hash => {
                        self.verify_ecdsa_der(h, msg, sig).map_err(|_| e)
                    }
                    (Err(e), _) => Err(e),
                }
            }
            Self::Rsa(_) => self
                .verify_rsa_pkcs1v15(policy_hash, msg, sig)
                .or_else(|_| self.verify_rsa_pss(policy_hash, None, msg, sig)),
            Self::Ed25519(_) => self
                .verify_ed25519(msg, sig)
                .or_else(|_| self.verify_ed25519ph(msg, sig)),
        }
    }

    /// What one [`PublicKey::verify_cosign`] call can cost, in P-256
    /// verification equivalents, counting the fallback attempts a wrong
    /// signature goes through (measured in the engine module: a P-384 verify
    /// costs about 4 P-256 verifies, P-521 about 3.2, RSA-4096 about 1.6).
    pub fn cosign_check_cost(&self, policy_hash: HashAlgorithm) -> u32 {
        match self {
            Self::P256(_) | Self::P384(_) | Self::P521(_) => {
                let attempts = if self.curve_hash() == Some(policy_hash) {
                    1
                } else {
                    2
                };
                let weight = match self {
                    Self::P256(_) => 1,
                    _ => 4,
                };
                attempts * weight
            }
            Self::Rsa(k) => {
                let bits = rsa::traits::PublicKeyParts::n_bits_precision(k.as_ref());
                // PKCS#1 v1.5, then PSS; cost grows with the square of the size.
                2 * (bits * bits).div_ceil(4096 * 4096 / 2)
            }
            Self::Ed25519(_) => 2,
        }
    }

    /// This key, with its fixed-base verification table built now (ECDSA
    /// P-256 and P-384; see [`fixed_base`]). Other keys are returned as is.
    pub fn with_tables(self) -> Self {
        match &self {
            Self::P256(k) => fixed_base::precompute(k),
            Self::P384(k) => fixed_base::precompute(k),
            _ => {}
        }
        self
    }

    /// The DER SubjectPublicKeyInfo bytes of this key.
    pub fn to_spki_der(&self) -> Result<Vec<u8>, CryptoError> {
        use spki::EncodePublicKey;
        let r = match self {
            Self::P256(k) => k.to_public_key_der(),
            Self::P384(k) => k.to_public_key_der(),
            Self::P521(k) => k.to_public_key_der(),
            Self::Rsa(k) => k.to_public_key_der(),
            Self::Ed25519(k) => k.to_public_key_der(),
        };
        r.map(|d| d.as_bytes().to_vec())
            .map_err(|e| CryptoError::KeyFormat(e.to_string()))
    }
}

#[derive(Clone, Copy)]
enum SigEncoding {
    Der,
    P1363,
}
