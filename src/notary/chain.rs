//! The certificate-chain rules of the Notary Project for code signing
//! (notation-core-go `x509/codesigning_cert_validations.go`).
//!
//! The chain is the envelope's, in order: leaf, intermediates, root. It must
//! end in a self-signed root, each certificate issued by the next, with no
//! self-signed leaf or intermediate; a single self-signed certificate is
//! allowed and must then meet the leaf rules. "Self-signed" is decided by
//! verifying the signature with the certificate's own key, never by
//! comparing names alone (the mock vectors' leaf has its root's subject).
//! Only basic constraints, key usage and extended key usage are read.

use crate::crypto::x509::{Certificate, MAX_CHAIN_LENGTH};
use crate::crypto::{HashAlgorithm, PublicKey};

use super::envelope::Algorithm;

const EKU_SERVER_AUTH: &str = "1.3.6.1.5.5.7.3.1";
const EKU_CLIENT_AUTH: &str = "1.3.6.1.5.5.7.3.2";
const EKU_EMAIL: &str = "1.3.6.1.5.5.7.3.4";
const EKU_TIME_STAMPING: &str = "1.3.6.1.5.5.7.3.8";
const EKU_OCSP_SIGNING: &str = "1.3.6.1.5.5.7.3.9";

/// Parses the envelope's DER certificates, leaf first.
pub fn parse_chain(der: &[Vec<u8>]) -> Result<Vec<Certificate>, String> {
    if der.len() > MAX_CHAIN_LENGTH {
        return Err(format!(
            "certificate chain of {} certificates is longer than {MAX_CHAIN_LENGTH}",
            der.len()
        ));
    }
    der.iter()
        .enumerate()
        .map(|(i, d)| {
            Certificate::from_der(d).map_err(|e| match i {
                0 => format!("malformed leaf certificate: {e}"),
                _ => format!("malformed certificate {i} in the chain: {e}"),
            })
        })
        .collect()
}

/// The algorithm the signing key fixes (notation-core-go `ExtractKeySpec`):
/// RSA 2048/3072/4096 sign with PS256/384/512, EC P-256/384/521 with
/// ES256/384/512; every other key is refused.
pub fn algorithm_for_key(cert: &Certificate) -> Result<Algorithm, String> {
    let key = cert.public_key().map_err(|e| e.to_string())?;
    match &key {
        PublicKey::P256(_) => Ok(Algorithm::Es256),
        PublicKey::P384(_) => Ok(Algorithm::Es384),
        PublicKey::P521(_) => Ok(Algorithm::Es512),
        PublicKey::Rsa(k) => {
            use rsa::traits::PublicKeyParts;
            match k.size() * 8 {
                2048 => Ok(Algorithm::Ps256),
                3072 => Ok(Algorithm::Ps384),
                4096 => Ok(Algorithm::Ps512),
                bits => Err(format!(
                    "certificate with subject {:?}: RSA key size {bits} bits is not supported",
                    cert.subject()
                )),
            }
        }
        PublicKey::Ed25519(_) => Err(format!(
            "certificate with subject {:?}: Ed25519 keys are not supported by Notary",
            cert.subject()
        )),
    }
}

/// Verifies the envelope's signature over `signed_bytes` with the leaf's
/// key, after checking the envelope's algorithm is the one the key fixes.
pub fn verify_signature(
    leaf: &Certificate,
    algorithm: Algorithm,
    signed_bytes: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    let expected = algorithm_for_key(leaf)?;
    if expected != algorithm {
        return Err(format!(
            "mismatch between signature algorithm derived from signing certificate ({}) and signing algorithm specified ({})",
            expected.name(),
            algorithm.name()
        ));
    }
    let key = leaf.public_key().map_err(|e| e.to_string())?;
    let hash = algorithm.hash();
    let checked = match algorithm {
        Algorithm::Ps256 | Algorithm::Ps384 | Algorithm::Ps512 => {
            // Go's rsa.VerifyPSS with PSSSaltLengthEqualsHash (golang-jwt).
            key.verify_rsa_pss(hash, Some(hash_len(hash)), signed_bytes, signature)
        }
        Algorithm::Es256 | Algorithm::Es384 | Algorithm::Es512 => {
            key.verify_ecdsa_p1363(hash, signed_bytes, signature)
        }
    };
    checked.map_err(|e| e.to_string())
}

fn hash_len(hash: HashAlgorithm) -> usize {
    match hash {
        HashAlgorithm::Sha224 => 28,
        HashAlgorithm::Sha256 => 32,
        HashAlgorithm::Sha384 => 48,
        HashAlgorithm::Sha512 => 64,
    }
}

/// Whether `cert` is signed by its own key and names itself as issuer (Go's
/// `isSelfSigned`). Names are compared first: a certificate whose issuer is
/// another name is not self-signed whatever its signature, and its key is
/// not spent on a verification (each use of a key counts towards its
/// fixed-base table).
fn self_signed(cert: &Certificate) -> Result<bool, String> {
    if !cert.is_self_issued() {
        return Ok(false);
    }
    cert.verify_signed_by(cert).map_err(|e| e.to_string())?;
    Ok(true)
}

/// Checks the code-signing chain rules, leaf first. `signing_time` is the
/// instant every certificate must be valid at when the caller knows one
/// (notation-core-go passes none during integrity checks: time is the
/// authentic-timestamp step's business).
pub fn validate_code_signing_chain(
    chain: &[Certificate],
    signing_time: Option<i64>,
) -> Result<(), String> {
    let valid_at = |cert: &Certificate| match signing_time {
        Some(at) if at < cert.not_before() || at > cert.not_after() => Err(format!(
            "certificate with subject {:?} was invalid at signing time of {}. Certificate is valid from [{}] to [{}]",
            cert.subject(),
            super::rfc1123z(at),
            super::rfc1123z(cert.not_before()),
            super::rfc1123z(cert.not_after())
        )),
        _ => Ok(()),
    };
    match chain {
        [] => Err("certificate chain must contain at least one certificate".into()),
        [cert] => {
            cert.verify_signed_by(cert).map_err(|e| {
                format!(
                    "invalid self-signed certificate. subject: {:?}. Error: {e}",
                    cert.subject()
                )
            })?;
            if !cert.is_self_issued() {
                return Err(format!(
                    "invalid self-signed certificate. subject: {:?}. Error: issuer and subject are not the same",
                    cert.subject()
                ));
            }
            valid_at(cert)?;
            leaf_rules(cert).map_err(|e| format!("invalid self-signed certificate. Error: {e}"))
        }
        _ => {
            let last = chain.len() - 1;
            for (i, cert) in chain.iter().enumerate() {
                valid_at(cert)?;
                if i == last {
                    match self_signed(cert) {
                        Ok(true) => {}
                        Ok(false) => {
                            return Err(format!(
                                "root certificate with subject {:?} is not self-signed. Certificate chain must end with a valid self-signed root certificate",
                                cert.subject()
                            ));
                        }
                        Err(e) => {
                            return Err(format!(
                                "root certificate with subject {:?} is invalid or not self-signed. Certificate chain must end with a valid self-signed root certificate. Error: {e}",
                                cert.subject()
                            ));
                        }
                    }
                } else {
                    if self_signed(cert).unwrap_or(false) {
                        return Err(match i {
                            0 => format!(
                                "leaf certificate with subject {:?} is self-signed. Certificate chain must not contain self-signed leaf certificate",
                                cert.subject()
                            ),
                            _ => format!(
                                "intermediate certificate with subject {:?} is self-signed. Certificate chain must not contain self-signed intermediate certificate",
                                cert.subject()
                            ),
                        });
                    }
                    let parent = &chain[i + 1];
                    if !cert.names_issuer(parent) {
                        return Err(format!(
                            "certificate with subject {:?} is not issued by {:?}",
                            cert.subject(),
                            parent.subject()
                        ));
                    }
                    cert.verify_issued_by(parent).map_err(|e| {
                        format!(
                            "invalid certificates or certificate with subject {:?} is not issued by {:?}. Error: {e}",
                            cert.subject(),
                            parent.subject()
                        )
                    })?;
                }
                if i == 0 {
                    leaf_rules(cert)?;
                } else {
                    ca_rules(cert, i - 1)?;
                }
            }
            Ok(())
        }
    }
}

/// The leaf rules: key usage present, critical, digitalSignature and
/// nothing else that encrypts or signs certificates; basic constraints not
/// a CA; no server, client, e-mail, timestamping or OCSP purposes; a key
/// Notary accepts.
fn leaf_rules(cert: &Certificate) -> Result<(), String> {
    let subject = cert.subject();
    if cert
        .basic_constraints()
        .map_err(|e| e.to_string())?
        .is_some_and(|b| b.ca)
    {
        return Err(format!(
            "certificate with subject {subject:?}: if the basic constraints extension is present, the ca field must be set to false"
        ));
    }
    key_usage_present(cert)?;
    digital_signature_only(cert)?;
    for eku in cert
        .extended_key_usage()
        .map_err(|e| e.to_string())?
        .unwrap_or_default()
    {
        let name = match eku.as_str() {
            EKU_SERVER_AUTH => "ServerAuth",
            EKU_CLIENT_AUTH => "ClientAuth",
            EKU_EMAIL => "EmailProtection",
            EKU_TIME_STAMPING => "Timestamping",
            EKU_OCSP_SIGNING => "OCSPSigning",
            _ => continue,
        };
        return Err(format!(
            "certificate with subject {subject:?}: extended key usage must not contain {name} eku"
        ));
    }
    algorithm_for_key(cert).map(|_| ())
}

/// The CA rules: basic constraints a CA, with room for the CA
/// certificates below it; key usage present, critical, keyCertSign.
fn ca_rules(cert: &Certificate, cas_below: usize) -> Result<(), String> {
    let subject = cert.subject();
    ca_basic_constraints(cert, cas_below)?;
    key_usage_present(cert)?;
    if !cert
        .key_usage()
        .map_err(|e| e.to_string())?
        .is_some_and(|ku| ku.key_cert_sign())
    {
        return Err(format!(
            "certificate with subject {subject:?}: key usage must have the bit positions for key cert sign set"
        ));
    }
    Ok(())
}

/// Basic constraints a CA with room for `cas_below` CA certificates below
/// it: the rule code-signing and timestamping chains share.
pub(super) fn ca_basic_constraints(cert: &Certificate, cas_below: usize) -> Result<(), String> {
    let subject = cert.subject();
    let bc = cert.basic_constraints().map_err(|e| e.to_string())?;
    let Some(bc) = bc.filter(|b| b.ca) else {
        return Err(format!(
            "certificate with subject {subject:?}: ca field in basic constraints must be present, critical, and set to true"
        ));
    };
    if let Some(max) = bc.path_len_constraint
        && usize::from(max) < cas_below
    {
        return Err(format!(
            "certificate with subject {subject:?}: expected path length of {cas_below} but certificate has path length {max} instead"
        ));
    }
    Ok(())
}

/// Key usage present with digitalSignature and no other bit: the leaf rule
/// code-signing and timestamping chains share.
pub(super) fn digital_signature_only(cert: &Certificate) -> Result<(), String> {
    let subject = cert.subject();
    let Some(ku) = cert.key_usage().map_err(|e| e.to_string())? else {
        return Err(format!(
            "certificate with subject {subject:?}: key usage extension must be present"
        ));
    };
    if !ku.digital_signature() {
        return Err(format!(
            "the certificate with subject {subject:?} is invalid. The key usage must have the bit positions for \"Digital Signature\" set"
        ));
    }
    let forbidden: Vec<&str> = [
        (ku.key_encipherment(), "\"KeyEncipherment\""),
        (ku.data_encipherment(), "\"DataEncipherment\""),
        (ku.key_agreement(), "\"KeyAgreement\""),
        (ku.key_cert_sign(), "\"CertSign\""),
        (ku.crl_sign(), "\"CRLSign\""),
        (ku.encipher_only(), "\"EncipherOnly\""),
        (ku.decipher_only(), "\"DecipherOnly\""),
    ]
    .into_iter()
    .filter_map(|(set, name)| set.then_some(name))
    .collect();
    if !forbidden.is_empty() {
        return Err(format!(
            "the certificate with subject {subject:?} is invalid. The key usage must be \"Digital Signature\" only, but found {}",
            forbidden.join(", ")
        ));
    }
    Ok(())
}

fn key_usage_present(cert: &Certificate) -> Result<(), String> {
    match cert.key_usage_critical() {
        Some(true) => Ok(()),
        Some(false) => Err(format!(
            "certificate with subject {:?}: key usage extension must be marked critical",
            cert.subject()
        )),
        None => Err(format!(
            "certificate with subject {:?}: key usage extension must be present",
            cert.subject()
        )),
    }
}
