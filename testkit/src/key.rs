//! Deterministic test keys and the signatures Notary uses.
//!
//! Every key is derived from a label, so a fixture made twice is the same
//! fixture: an EC scalar is a hash of the label, an RSA key is generated
//! from a ChaCha20 stream seeded with a hash of the label. Signatures are
//! deterministic too (RFC 6979 for ECDSA; PSS salts and RSA blinding come
//! from a ChaCha20 stream seeded with the key and the message).
//!
//! These keys are public knowledge: never trust anything they sign outside
//! a test.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use chacha20::ChaCha20Rng;
use der::asn1::ObjectIdentifier;
use rand_core::SeedableRng;
use sha2::{Digest, Sha256, Sha384, Sha512};
use signature::RandomizedSigner;
use signature::hazmat::PrehashSigner;
use spki::{AlgorithmIdentifierOwned, EncodePublicKey};

/// The EC key of the first scalar `$derive(domain)`, `$derive(domain #0)`,
/// … that the curve accepts.
macro_rules! ec_key {
    ($curve:ident, $domain:expr, $derive:expr) => {{
        let domain: &str = $domain;
        let mut seed = domain.as_bytes().to_vec();
        let mut counter = 0u32;
        loop {
            if let Ok(k) = $curve::ecdsa::SigningKey::from_slice(&($derive)(&seed)) {
                break k;
            }
            seed = format!("{domain} #{counter}").into_bytes();
            counter += 1;
        }
    }};
}

/// An RFC 6979 ECDSA signature over the `$hash` digest of `$message`.
macro_rules! ecdsa_sign {
    ($curve:ident, $key:expr, $hash:expr, $message:expr) => {{
        let sig: $curve::ecdsa::Signature = $key
            .sign_prehash(&$hash.digest($message))
            .expect("ECDSA signing");
        sig
    }};
}

/// The key of `kind` for `label`, generated afresh (see [`Key::derive`]).
fn generate(kind: KeyKind, label: &str) -> Inner {
    let domain = format!("imgverify-testkit {kind:?} key {label:?} - for tests only, never trust");
    match kind {
        KeyKind::P256 => Inner::P256(ec_key!(p256, &domain, |d: &[u8]| Sha256::digest(d).to_vec())),
        KeyKind::P384 => Inner::P384(ec_key!(p384, &domain, |d: &[u8]| Sha384::digest(d).to_vec())),
        KeyKind::P521 => Inner::P521(ec_key!(p521, &domain, |d: &[u8]| {
            let mut b = expand(d, 66);
            b[0] &= 0x01;
            b
        })),
        _ => {
            let bits = kind.rsa_bits().expect("an RSA kind");
            let mut rng = ChaCha20Rng::from_seed(Sha256::digest(domain.as_bytes()).into());
            Inner::Rsa(rsa::RsaPrivateKey::new(&mut rng, bits).expect("RSA key generation"))
        }
    }
}

/// The key types Notary accepts; each fixes the signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyKind {
    /// ECDSA P-256, signs ES256.
    P256,
    /// ECDSA P-384, signs ES384.
    P384,
    /// ECDSA P-521, signs ES512.
    P521,
    /// RSA 2048 bits, signs PS256.
    Rsa2048,
    /// RSA 3072 bits, signs PS384.
    Rsa3072,
    /// RSA 4096 bits, signs PS512.
    Rsa4096,
}

impl KeyKind {
    /// Every kind, EC first.
    pub const ALL: [KeyKind; 6] = [
        KeyKind::P256,
        KeyKind::P384,
        KeyKind::P521,
        KeyKind::Rsa2048,
        KeyKind::Rsa3072,
        KeyKind::Rsa4096,
    ];

    /// The hash of the kind's Notary algorithm (also the timestamp
    /// imprint's hash and the hash this key signs certificates with).
    pub fn hash(self) -> HashAlg {
        match self {
            KeyKind::P256 | KeyKind::Rsa2048 => HashAlg::Sha256,
            KeyKind::P384 | KeyKind::Rsa3072 => HashAlg::Sha384,
            KeyKind::P521 | KeyKind::Rsa4096 => HashAlg::Sha512,
        }
    }

    /// The JWS `alg` name: `ES256`…`ES512`, `PS256`…`PS512`.
    pub fn jws_alg(self) -> &'static str {
        match self {
            KeyKind::P256 => "ES256",
            KeyKind::P384 => "ES384",
            KeyKind::P521 => "ES512",
            KeyKind::Rsa2048 => "PS256",
            KeyKind::Rsa3072 => "PS384",
            KeyKind::Rsa4096 => "PS512",
        }
    }

    /// The COSE `alg` label: -7, -35, -36 (ECDSA), -37, -38, -39 (PSS).
    pub fn cose_alg(self) -> i64 {
        match self {
            KeyKind::P256 => -7,
            KeyKind::P384 => -35,
            KeyKind::P521 => -36,
            KeyKind::Rsa2048 => -37,
            KeyKind::Rsa3072 => -38,
            KeyKind::Rsa4096 => -39,
        }
    }

    /// The kind whose JWS `alg` is `name`.
    pub fn from_jws_alg(name: &str) -> Option<KeyKind> {
        KeyKind::ALL.into_iter().find(|k| k.jws_alg() == name)
    }

    /// The kind whose COSE `alg` label is `label`.
    pub fn from_cose_alg(label: i64) -> Option<KeyKind> {
        KeyKind::ALL.into_iter().find(|k| k.cose_alg() == label)
    }

    /// Whether this is an RSA kind.
    pub fn is_rsa(self) -> bool {
        matches!(self, KeyKind::Rsa2048 | KeyKind::Rsa3072 | KeyKind::Rsa4096)
    }

    fn rsa_bits(self) -> Option<usize> {
        match self {
            KeyKind::Rsa2048 => Some(2048),
            KeyKind::Rsa3072 => Some(3072),
            KeyKind::Rsa4096 => Some(4096),
            _ => None,
        }
    }
}

/// A SHA-2 hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlg {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlg {
    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            HashAlg::Sha256 => Sha256::digest(data).to_vec(),
            HashAlg::Sha384 => Sha384::digest(data).to_vec(),
            HashAlg::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    /// The digest length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }

    /// The hash's OID (`id-sha256`, …).
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            HashAlg::Sha256 => ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1"),
            HashAlg::Sha384 => ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2"),
            HashAlg::Sha512 => ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3"),
        }
    }

    /// The hash's AlgorithmIdentifier, parameters absent (RFC 5754).
    pub fn algorithm_identifier(self) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid: self.oid(),
            parameters: None,
        }
    }
}

enum Inner {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
    Rsa(rsa::RsaPrivateKey),
}

/// A private key derived from a label. Cloning is cheap.
#[derive(Clone)]
pub struct Key {
    kind: KeyKind,
    label: Arc<str>,
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("kind", &self.kind)
            .field("label", &&*self.label)
            .finish_non_exhaustive()
    }
}

/// Keys derived so far: RSA generation is slow, and tests derive the same
/// keys again and again.
fn cache() -> &'static Mutex<HashMap<(KeyKind, String), Key>> {
    static CACHE: OnceLock<Mutex<HashMap<(KeyKind, String), Key>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// `data` hashed with a counter, block after block, to `len` bytes.
fn expand(data: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    let mut block = 0u32;
    while out.len() < len {
        let mut h = Sha512::new();
        h.update(data);
        h.update(block.to_be_bytes());
        out.extend_from_slice(&h.finalize());
        block += 1;
    }
    out.truncate(len);
    out
}

impl Key {
    /// The key of `kind` for `label`: the same label gives the same key,
    /// in every process. RSA keys are cached per process.
    ///
    /// EC scalars are the SHA-256 (P-256), SHA-384 (P-384) or expanded
    /// SHA-512 (P-521, top 7 bits cleared) of a string naming the kind and
    /// the label; RSA keys come from `rsa::RsaPrivateKey::new` with a
    /// ChaCha20 stream seeded by the SHA-256 of that string.
    pub fn derive(kind: KeyKind, label: &str) -> Key {
        let id = (kind, label.to_string());
        if let Some(key) = cache().lock().expect("key cache").get(&id) {
            return key.clone();
        }
        let key = Key {
            kind,
            label: label.into(),
            inner: Arc::new(generate(kind, label)),
        };
        cache()
            .lock()
            .expect("key cache")
            .entry(id)
            .or_insert(key)
            .clone()
    }

    /// The key's kind.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The label the key was derived from.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The public key as a DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> Vec<u8> {
        let doc = match &*self.inner {
            Inner::P256(k) => k.verifying_key().to_public_key_der(),
            Inner::P384(k) => k.verifying_key().to_public_key_der(),
            Inner::P521(k) => k.verifying_key().to_public_key_der(),
            Inner::Rsa(k) => k.to_public_key().to_public_key_der(),
        };
        doc.expect("encode the public key").into_vec()
    }

    /// The public key as PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn public_key_pem(&self) -> String {
        crate::pem("PUBLIC KEY", &self.spki_der())
    }

    /// Signs `message` with the kind's Notary algorithm, as a JWS or COSE
    /// signature: ES256/384/512 as raw fixed-width `r || s`, PS256/384/512
    /// as RSASSA-PSS with MGF1 of the same hash and a salt as long as the
    /// hash.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let hash = self.kind.hash();
        match &*self.inner {
            Inner::P256(k) => ecdsa_sign!(p256, k, hash, message).to_bytes().to_vec(),
            Inner::P384(k) => ecdsa_sign!(p384, k, hash, message).to_bytes().to_vec(),
            Inner::P521(k) => ecdsa_sign!(p521, k, hash, message).to_bytes().to_vec(),
            Inner::Rsa(k) => {
                let mut rng = self.rng("PSS salt", message);
                let k = k.clone();
                let sig: Box<[u8]> = match hash {
                    HashAlg::Sha256 => rsa::pss::SigningKey::<Sha256>::new(k)
                        .sign_with_rng(&mut rng, message)
                        .into(),
                    HashAlg::Sha384 => rsa::pss::SigningKey::<Sha384>::new(k)
                        .sign_with_rng(&mut rng, message)
                        .into(),
                    HashAlg::Sha512 => rsa::pss::SigningKey::<Sha512>::new(k)
                        .sign_with_rng(&mut rng, message)
                        .into(),
                };
                sig.into_vec()
            }
        }
    }

    /// Signs `message` as X.509 and CMS sign: ECDSA as a DER
    /// `Ecdsa-Sig-Value`, RSA as PKCS #1 v1.5. Returns the signature
    /// algorithm (`ecdsa-with-SHA*` with no parameters, or
    /// `sha*WithRSAEncryption` with NULL parameters) and the signature.
    pub fn sign_x509(&self, hash: HashAlg, message: &[u8]) -> (AlgorithmIdentifierOwned, Vec<u8>) {
        let signature = match &*self.inner {
            Inner::P256(k) => ecdsa_sign!(p256, k, hash, message)
                .to_der()
                .as_bytes()
                .to_vec(),
            Inner::P384(k) => ecdsa_sign!(p384, k, hash, message)
                .to_der()
                .as_bytes()
                .to_vec(),
            Inner::P521(k) => ecdsa_sign!(p521, k, hash, message)
                .to_der()
                .as_bytes()
                .to_vec(),
            Inner::Rsa(k) => {
                let mut rng = self.rng("PKCS1v15 blinding", message);
                let k = k.clone();
                let sig: Box<[u8]> = match hash {
                    HashAlg::Sha256 => rsa::pkcs1v15::SigningKey::<Sha256>::new(k)
                        .sign_with_rng(&mut rng, message)
                        .into(),
                    HashAlg::Sha384 => rsa::pkcs1v15::SigningKey::<Sha384>::new(k)
                        .sign_with_rng(&mut rng, message)
                        .into(),
                    HashAlg::Sha512 => rsa::pkcs1v15::SigningKey::<Sha512>::new(k)
                        .sign_with_rng(&mut rng, message)
                        .into(),
                };
                sig.into_vec()
            }
        };
        (self.x509_algorithm(hash), signature)
    }

    /// The X.509 signature algorithm [`Key::sign_x509`] uses with `hash`.
    pub fn x509_algorithm(&self, hash: HashAlg) -> AlgorithmIdentifierOwned {
        if self.kind.is_rsa() {
            let oid = match hash {
                HashAlg::Sha256 => "1.2.840.113549.1.1.11",
                HashAlg::Sha384 => "1.2.840.113549.1.1.12",
                HashAlg::Sha512 => "1.2.840.113549.1.1.13",
            };
            AlgorithmIdentifierOwned {
                oid: ObjectIdentifier::new_unwrap(oid),
                parameters: Some(der::asn1::Any::from(der::asn1::Null)),
            }
        } else {
            let oid = match hash {
                HashAlg::Sha256 => "1.2.840.10045.4.3.2",
                HashAlg::Sha384 => "1.2.840.10045.4.3.3",
                HashAlg::Sha512 => "1.2.840.10045.4.3.4",
            };
            AlgorithmIdentifierOwned {
                oid: ObjectIdentifier::new_unwrap(oid),
                parameters: None,
            }
        }
    }

    /// A ChaCha20 stream for one signature: the same key, purpose and
    /// message give the same stream.
    fn rng(&self, purpose: &str, message: &[u8]) -> ChaCha20Rng {
        let mut h = Sha256::new();
        h.update(
            format!(
                "imgverify-testkit {purpose} {:?} {:?}",
                self.kind, self.label
            )
            .as_bytes(),
        );
        h.update(message);
        ChaCha20Rng::from_seed(h.finalize().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spki(kind: KeyKind, label: &str) -> Vec<u8> {
        Key {
            kind,
            label: label.into(),
            inner: Arc::new(generate(kind, label)),
        }
        .spki_der()
    }

    #[test]
    fn keys_are_the_same_in_every_process() {
        // Fixtures made from these keys are committed: a change here (a new
        // derivation, or an rsa crate that draws its primes differently)
        // changes every fixture.
        for (kind, expected) in [
            (
                KeyKind::P256,
                "0a1cd56b6029d06656cc22ab3ae6a2b6b62dd85e9b9a7677fb70e01ff381d23f",
            ),
            (
                KeyKind::P384,
                "5f44b78fcc6a9b28d9e4706c05927b7cdb7250aa1e9d1c7281bbad44d371c875",
            ),
            (
                KeyKind::P521,
                "b29782759c10091363acfdb8a57002c4059b1f56bb1b1daac12b00227d02540a",
            ),
            (
                KeyKind::Rsa2048,
                "cff8a45ebacadebd8c900a5b89a26ad1de62794bced4f0a97d4eba7b513cc40d",
            ),
        ] {
            let der = spki(kind, "golden");
            assert_eq!(der, spki(kind, "golden"), "{kind:?}");
            assert_eq!(
                crate::hex(&HashAlg::Sha256.digest(&der)),
                expected,
                "{kind:?}"
            );
        }
        assert_ne!(spki(KeyKind::P256, "a"), spki(KeyKind::P256, "b"));
    }

    #[test]
    fn signatures_are_deterministic_and_sized() {
        for kind in [
            KeyKind::P256,
            KeyKind::P384,
            KeyKind::P521,
            KeyKind::Rsa2048,
        ] {
            let key = Key::derive(kind, "sizes");
            let sig = key.sign(b"message");
            assert_eq!(sig, key.sign(b"message"), "{kind:?}");
            let len = match kind {
                KeyKind::P256 => 64,
                KeyKind::P384 => 96,
                KeyKind::P521 => 132,
                _ => 256,
            };
            assert_eq!(sig.len(), len, "{kind:?}");
            assert_eq!(
                key.sign_x509(kind.hash(), b"m"),
                key.sign_x509(kind.hash(), b"m")
            );
        }
    }
}
