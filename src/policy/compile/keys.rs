//! Keys and trust material: `publicKeys` PEMs (loaded once, when the policy
//! is compiled), the signature hash, keys read when an image is verified
//! (Secrets, variables) or never (KMS), keyless roots and identities, and the Rekor and CT log requirements.

use super::{Ctx, has_variable};
use crate::crypto::x509::Certificate;
use crate::crypto::{HashAlgorithm, PublicKey, pem};
use crate::kube_path;
use crate::limits;
use crate::policy::compiled::{
    AttestorKind, CertificatesAttestor, CtlogPolicy, KeyAttestor, KeyRefAttestor, KeySource,
    KeylessAttestor, TlogPolicy,
};
use crate::policy::model;
use crate::sigstore::identity::{IdentityError, IdentityPolicy};
use crate::sigstore::trusted_root::Authority;
use crate::sigstore::trusted_root::LogKey;
use serde_json::Value;
use std::sync::Arc;

pub(super) fn compile_keys(
    ctx: &mut Ctx,
    path: &str,
    k: &model::StaticKeyAttestor,
) -> Vec<AttestorKind> {
    let public_keys = k.public_keys.clone().unwrap_or_default();
    let kms = k.kms.clone().unwrap_or_default();
    if public_keys.is_empty() && kms.is_empty() && k.secret.is_none() {
        ctx.err(path, "A public key, kms key or secret is required");
        return Vec::new();
    }
    let alg = k
        .signature_algorithm
        .clone()
        .unwrap_or_else(|| "sha256".to_string());
    let Some(hash) = HashAlgorithm::from_policy(&alg) else {
        ctx.err(
            format!("{path}.signatureAlgorithm"),
            "Invalid signature algorithm provided",
        );
        return Vec::new();
    };
    let tlog = compile_tlog(ctx, &format!("{path}.rekor"), k.rekor.as_ref());
    let trimmed = public_keys.trim();
    if !trimmed.is_empty() {
        return key_text(ctx, &format!("{path}.publicKeys"), trimmed, hash, &tlog);
    }
    if let Some(secret) = &k.secret {
        let field = format!("{path}.secret");
        let Some(source) = secret_source(ctx, &field, secret) else {
            return Vec::new();
        };
        return vec![key_ref(source, hash, &tlog)];
    }
    key_text(ctx, &format!("{path}.kms"), kms.trim(), hash, &tlog)
}

fn key_ref(source: KeySource, hash: HashAlgorithm, tlog: &TlogPolicy) -> AttestorKind {
    AttestorKind::KeyRef(Box::new(KeyRefAttestor {
        source,
        hash,
        tlog: tlog.clone(),
    }))
}

/// A key as `publicKeys` or `kms` give it: PEM (one or more keys, loaded
/// now), variables (substituted when an image is verified), a
/// `k8s://namespace/name` Secret, or a KMS URI.
fn key_text(
    ctx: &mut Ctx,
    field: &str,
    text: &str,
    hash: HashAlgorithm,
    tlog: &TlogPolicy,
) -> Vec<AttestorKind> {
    if has_variable(text) {
        lint_request_chosen(ctx, field, text);
        return vec![key_ref(KeySource::Template(text.to_string()), hash, tlog)];
    }
    if text.starts_with(kube_path::SECRET_KEY_SCHEME) {
        return match kube_path::secret_reference(text) {
            Ok((namespace, name)) => {
                vec![key_ref(KeySource::Secret { namespace, name }, hash, tlog)]
            }
            Err(e) => {
                ctx.err(field, format!("failed to load public key from {e}"));
                Vec::new()
            }
        };
    }
    if KeySource::is_kms(text) {
        return vec![key_ref(KeySource::Kms(text.to_string()), hash, tlog)];
    }
    if !text.starts_with("-----BEGIN PUBLIC KEY-----") {
        ctx.err(
            field,
            "failed to load public key from PEM: expected -----BEGIN PUBLIC KEY-----, k8s://<namespace>/<secret> or a KMS URI",
        );
        return Vec::new();
    }
    let keys = match pem::public_keys(text, limits::MAX_KEYS_PER_ENTRY) {
        Ok(keys) => keys,
        Err(e) => {
            ctx.err(field, e);
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for key in keys {
        match key {
            // One key verifies many images: its table is built now.
            Ok(key) => out.push(AttestorKind::Key(Box::new(KeyAttestor::new(
                Arc::new(key.with_tables()),
                hash,
                tlog.clone(),
            )))),
            Err(e) => ctx.err(field, e),
        }
    }
    out
}

/// A key whose variables read the request lets whoever makes the request
/// choose it (a Pod's own annotation naming its own key or Secret).
fn lint_request_chosen(ctx: &mut Ctx, field: &str, text: &str) {
    let reads_request = crate::conditions::variables::variables_in(text)
        .iter()
        .any(|v| v.trim_start().starts_with("request."));
    if reads_request {
        ctx.lint(
            field,
            "the key is chosen by variables of the request: whoever creates the resource can choose the key that verifies it",
        );
    }
}

/// `secret: {name, namespace}`: both required, as Kyverno's CRD has them.
fn secret_source(ctx: &mut Ctx, field: &str, secret: &Value) -> Option<KeySource> {
    let text = |k: &str| secret.get(k).and_then(Value::as_str).map(str::trim);
    let (Some(name), Some(namespace)) = (text("name"), text("namespace")) else {
        ctx.err(field, "a secret needs a name and a namespace");
        return None;
    };
    let reference = format!("{}{namespace}/{name}", kube_path::SECRET_KEY_SCHEME);
    if has_variable(&reference) {
        lint_request_chosen(ctx, field, &reference);
        return Some(KeySource::Template(reference));
    }
    match kube_path::secret_reference(&reference) {
        Ok((namespace, name)) => Some(KeySource::Secret { namespace, name }),
        Err(e) => {
            ctx.err(field, format!("invalid secret: {e}"));
            None
        }
    }
}

pub(super) fn compile_tlog(ctx: &mut Ctx, path: &str, r: Option<&model::Rekor>) -> TlogPolicy {
    let ignore = r.and_then(|r| r.ignore_tlog).unwrap_or(false);
    let keys = log_keys(ctx, path, r.and_then(|r| r.pubkey.as_deref()), "Rekor");
    let id = log_policy_id(ignore, keys.as_deref());
    TlogPolicy { ignore, keys, id }
}

/// `ctlog`: SCT requirement and the CT log keys it trusts.
pub(super) fn compile_ctlog(ctx: &mut Ctx, path: &str, c: Option<&model::CtLog>) -> CtlogPolicy {
    let ignore_sct = c.and_then(|c| c.ignore_sct).unwrap_or(false);
    let keys = log_keys(ctx, path, c.and_then(|c| c.pubkey.as_deref()), "CT log");
    let tsa = c
        .and_then(|c| c.tsa_cert_chain.as_deref())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(|pem| tsa_authorities(ctx, &format!("{path}.tsaCertChain"), pem));
    let mut id = log_policy_id(ignore_sct, keys.as_deref());
    for cert in tsa.iter().flatten().flat_map(|a| &a.chain) {
        id.push_str(&format!(
            ";tsa:{}",
            crate::digest::Digest::sha256_of(cert.der()).hex()
        ));
    }
    CtlogPolicy {
        ignore_sct,
        keys,
        tsa,
        id,
    }
}

/// `ctlog.tsaCertChain`: the TSA's leaf and intermediates, and one or more
/// self-signed roots, as Kyverno splits it; one authority per root.
fn tsa_authorities(ctx: &mut Ctx, path: &str, pem: &str) -> Option<Vec<Authority>> {
    let certs = match Certificate::from_pem_chain(pem) {
        Ok(c) => c,
        Err(e) => {
            ctx.err(
                path,
                format!("failed to load the TSA certificate chain: {e}"),
            );
            return None;
        }
    };
    let (roots, others): (Vec<Certificate>, Vec<Certificate>) =
        certs.into_iter().partition(|c| c.names_issuer(c));
    if roots.is_empty() {
        ctx.err(path, "the TSA certificate chain has no self-signed root");
        return None;
    }
    Some(
        roots
            .into_iter()
            .map(|root| Authority {
                chain: others.iter().cloned().chain([root]).collect(),
                valid_from: i64::MIN,
                valid_until: None,
                uri: String::new(),
            })
            .collect(),
    )
}

/// `ignore`, `root`, or `keys:` and the keys' SPKI fingerprints.
fn log_policy_id(ignore: bool, keys: Option<&[LogKey]>) -> String {
    match (keys, ignore) {
        (_, true) => "ignore".to_string(),
        (None, false) => "root".to_string(),
        (Some(k), false) => format!(
            "keys:{}",
            k.iter()
                .map(|k| k.log_id.as_str())
                .collect::<Vec<_>>()
                .join(",")
        ),
    }
}

/// A log's `pubkey` PEM (ECDSA or Ed25519 keys); `None` when absent.
fn log_keys(ctx: &mut Ctx, path: &str, text: Option<&str>, log: &str) -> Option<Vec<LogKey>> {
    let text = text.map(str::trim).filter(|s| !s.is_empty())?;
    let mut keys = Vec::new();
    for p in pem::split_public_keys(text) {
        match PublicKey::from_pem(&p) {
            Ok(
                k @ (PublicKey::P256(_)
                | PublicKey::P384(_)
                | PublicKey::P521(_)
                | PublicKey::Ed25519(_)),
            ) => match LogKey::from_key(Arc::new(k.with_tables())) {
                Some(key) => keys.push(key),
                None => ctx.err(
                    format!("{path}.pubkey"),
                    format!("the {log} public key cannot be encoded as SubjectPublicKeyInfo"),
                ),
            },
            Ok(other) => ctx.err(
                format!("{path}.pubkey"),
                format!(
                    "a {log} key must be ECDSA or Ed25519, not {}",
                    other.type_name()
                ),
            ),
            Err(e) => ctx.err(
                format!("{path}.pubkey"),
                format!("failed to load {log} public key: {e}"),
            ),
        }
    }
    if keys.is_empty() {
        ctx.err(
            format!("{path}.pubkey"),
            format!("no {log} public key found in PEM"),
        );
    }
    Some(keys)
}

/// `keyless`: roots, identity, transparency and CT log requirements.
pub(super) fn compile_keyless(
    ctx: &mut Ctx,
    path: &str,
    k: &model::KeylessAttestor,
) -> Option<KeylessAttestor> {
    let extensions = k.additional_extensions.clone().unwrap_or_default();
    let identity = match IdentityPolicy::compile(
        k.subject.as_deref(),
        k.subject_reg_exp.as_deref(),
        k.issuer.as_deref(),
        k.issuer_reg_exp.as_deref(),
        &extensions,
    ) {
        Ok(i) => i,
        Err(e) => {
            let field = match &e {
                IdentityError::Regex {
                    field: "subject", ..
                } => "subjectRegExp",
                IdentityError::Regex { .. } => "issuerRegExp",
                IdentityError::UnknownExtension(_) => "additionalExtensions",
            };
            ctx.err(format!("{path}.{field}"), e.to_string());
            return None;
        }
    };
    if identity.is_empty() {
        ctx.lint(
            path,
            "no subject, issuer or additionalExtensions: a signature by any identity the roots certify is accepted",
        );
    }
    let logs = LogSettings {
        rekor: k.rekor.as_ref(),
        rekor_path: format!("{path}.rekor"),
        ctlog: k.ctlog.as_ref(),
        ctlog_path: format!("{path}.ctlog"),
    };
    keyless_with_identity(ctx, path, identity, k.roots.as_deref(), &logs)
}

/// An attestor's transparency-log and CT-log settings, with the field
/// paths their errors name.
pub(super) struct LogSettings<'a> {
    /// `rekor` (or what an ImageValidatingPolicy's `ctlog` says of Rekor).
    pub rekor: Option<&'a model::Rekor>,
    /// Its field path.
    pub rekor_path: String,
    /// `ctlog`.
    pub ctlog: Option<&'a model::CtLog>,
    /// Its field path.
    pub ctlog_path: String,
}

/// A keyless attestor of this identity: its roots (PEM, or the trusted
/// root's Fulcio when `None`), logs, and the memo id hashing them all.
pub(super) fn keyless_with_identity(
    ctx: &mut Ctx,
    path: &str,
    identity: IdentityPolicy,
    roots: Option<&str>,
    logs: &LogSettings<'_>,
) -> Option<KeylessAttestor> {
    let mut unsupported = None;
    let roots = match roots.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(text) if has_variable(text) => {
            unsupported = Some(
                "keyless roots given as variables cannot be loaded by the offline engine; give them inline as PEM".to_string(),
            );
            // Never the trusted root in their place.
            Some(Vec::new())
        }
        Some(text) => match Certificate::from_pem_chain(text) {
            Ok(certs) => Some(certs.into_iter().map(Authority::anchor).collect::<Vec<_>>()),
            Err(e) => {
                ctx.err(
                    format!("{path}.roots"),
                    format!("failed to load roots: {e}"),
                );
                return None;
            }
        },
    };
    let tlog = compile_tlog(ctx, &logs.rekor_path, logs.rekor);
    let ctlog = compile_ctlog(ctx, &logs.ctlog_path, logs.ctlog);
    let roots_id = match &roots {
        None => "root".to_string(),
        Some(r) => r
            .iter()
            .map(|a| {
                crate::digest::Digest::sha256_of(a.chain[0].der())
                    .hex()
                    .to_string()
            })
            .collect::<Vec<_>>()
            .join(","),
    };
    let description = format!(
        "roots={roots_id};identity={identity:?};tlog={};ctlog={}",
        tlog.id, ctlog.id
    );
    let id = crate::digest::Digest::sha256_of(description.as_bytes())
        .hex()
        .to_string();
    Some(KeylessAttestor {
        roots,
        identity,
        tlog,
        ctlog,
        unsupported,
        id,
    })
}

/// Most certificates in a `certChain` (Kyverno's limit).
const MAX_CERT_CHAIN: usize = 11;

/// `certificates`: a pinned signing certificate (PEM, or base64 of PEM)
/// and/or the chain it must lead to, with the log requirements.
pub(super) fn compile_certificates(
    ctx: &mut Ctx,
    path: &str,
    c: &model::CertificateAttestor,
) -> Option<CertificatesAttestor> {
    let text = |t: &Option<String>| {
        t.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let (cert_text, chain_text) = (text(&c.cert), text(&c.cert_chain));
    let mut unsupported = None;
    if cert_text
        .iter()
        .chain(chain_text.iter())
        .any(|t| has_variable(t))
    {
        unsupported = Some(
            "certificates given as variables cannot be loaded by the offline engine; give them inline as PEM".to_string(),
        );
    }
    let cert = match cert_text.filter(|_| unsupported.is_none()) {
        None => None,
        Some(t) => {
            let pem = if t.starts_with("-----BEGIN") {
                t
            } else {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD
                    .decode(t.split_whitespace().collect::<String>())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .unwrap_or(t)
            };
            match Certificate::from_pem_chain(&pem) {
                Ok(mut certs) if certs.len() == 1 => Some(certs.remove(0)),
                Ok(certs) => {
                    ctx.err(
                        format!("{path}.cert"),
                        format!("expected one certificate, found {}", certs.len()),
                    );
                    return None;
                }
                Err(e) => {
                    ctx.err(
                        format!("{path}.cert"),
                        format!("failed to load certificate: {e}"),
                    );
                    return None;
                }
            }
        }
    };
    let chain = match chain_text.filter(|_| unsupported.is_none()) {
        None => None,
        Some(t) if t.matches("-----BEGIN CERTIFICATE-----").count() > MAX_CERT_CHAIN => {
            ctx.err(
                format!("{path}.certChain"),
                format!(
                    "certificate chain too long ({}), maximum allowed is {MAX_CERT_CHAIN}",
                    t.matches("-----BEGIN CERTIFICATE-----").count()
                ),
            );
            return None;
        }
        // The X.509 parser bounds a chain further (10 certificates).
        Some(t) => match Certificate::from_pem_chain(&t) {
            Ok(certs) => Some(Authority {
                chain: certs,
                valid_from: i64::MIN,
                valid_until: None,
                uri: String::new(),
            }),
            Err(e) => {
                ctx.err(
                    format!("{path}.certChain"),
                    format!("failed to load certificate chain: {e}"),
                );
                return None;
            }
        },
    };
    let tlog = compile_tlog(ctx, &format!("{path}.rekor"), c.rekor.as_ref());
    let ctlog = compile_ctlog(ctx, &format!("{path}.ctlog"), c.ctlog.as_ref());
    let fingerprints = |certs: &[Certificate]| {
        certs
            .iter()
            .map(|c| crate::digest::Digest::sha256_of(c.der()).hex().to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let description = format!(
        "cert={};chain={};tlog={};ctlog={}",
        cert.as_ref()
            .map(|c| fingerprints(std::slice::from_ref(c)))
            .unwrap_or_default(),
        chain
            .as_ref()
            .map(|a| fingerprints(&a.chain))
            .unwrap_or_default(),
        tlog.id,
        ctlog.id
    );
    Some(CertificatesAttestor {
        cert,
        chain,
        tlog,
        ctlog,
        unsupported,
        id: crate::digest::Digest::sha256_of(description.as_bytes())
            .hex()
            .to_string(),
    })
}
