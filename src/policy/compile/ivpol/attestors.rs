//! An image policy's `attestors`: cosign keys, keyless identities and
//! certificates, and Notary certificates, compiled by the compilers
//! `verifyImages` uses. Material written as an expression
//! (`key.expression`, `cert.expression`, `certs.expression`, …) is folded
//! when it is a constant; otherwise it depends on the request (a ConfigMap
//! read into a variable, say) and the attestor is compiled when the
//! expression has been evaluated ([`compile_deferred`]).

use super::super::keys::{self, LogSettings};
use super::super::notary::compile_notary_certificates;
use super::super::{Ctx, has_variable};
use super::{Expect, compile, unique_name};
use crate::cel::{Env, NoHost, Program, Value};
use crate::notary::trust::{StoreType, TrustPolicy};
use crate::policy::compiled::AttestorKind;
use crate::policy::ivpol::model as m;
use crate::policy::ivpol::{
    AttestorMaterial, AttestorRoot, DeferredAttestor, ImageAttestor, MaterialField,
};
use crate::policy::model;
use crate::sigstore::identity::{IdentityPolicy, IdentitySpec};
use crate::sigstore::trusted_root::TrustedRoot;
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn compile_attestors(
    ctx: &mut Ctx,
    env: &Env,
    entries: &[m::Attestor],
) -> Vec<ImageAttestor> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, a) in entries.iter().enumerate() {
        let path = format!("spec.attestors[{i}]");
        if !unique_name(ctx, &mut seen, &path, &a.name, "attestor") {
            continue;
        }
        if a.cosign.is_some() == a.notary.is_some() {
            ctx.err(&path, "exactly one of cosign or notary is required");
            continue;
        }
        let start = ctx.errors.len();
        let (literal, expressions) = resolve_expressions(ctx, env, &path, a);
        if ctx.errors.len() > start {
            continue;
        }
        let trusted_root = match literal
            .cosign
            .as_ref()
            .and_then(|c| c.trusted_root.as_ref())
            .and_then(|r| r.value.as_deref())
            .filter(|v| !v.trim().is_empty())
        {
            None => None,
            Some(json) => match attestor_root(json) {
                Ok(root) => Some(root),
                Err(e) => {
                    ctx.err(format!("{path}.cosign.trustedRoot.value"), e);
                    continue;
                }
            },
        };
        let material = if expressions.is_empty() {
            match compile_material(ctx, &path, &literal) {
                Some(kinds) => AttestorMaterial::Compiled(kinds),
                None => continue,
            }
        } else {
            AttestorMaterial::Deferred(Box::new(DeferredAttestor {
                attestor: literal,
                expressions,
            }))
        };
        let tuf = match a.cosign.as_ref().and_then(|c| c.tuf.as_ref()) {
            None => None,
            Some(t) => match tuf_source(t) {
                Ok(t) => t,
                Err((field, e)) => {
                    ctx.err(format!("{path}.cosign.tuf{field}"), e);
                    continue;
                }
            },
        };
        if tuf.is_some() && trusted_root.is_some() {
            ctx.err(
                format!("{path}.cosign.tuf"),
                "give either tuf or trustedRoot, not both",
            );
            continue;
        }
        let source = a.cosign.as_ref().and_then(|c| c.source.as_ref());
        out.push(ImageAttestor {
            name: a.name.clone(),
            material,
            annotations: a
                .cosign
                .as_ref()
                .and_then(|c| c.annotations.clone())
                .unwrap_or_default(),
            repository: source
                .and_then(|s| s.repository.clone())
                .filter(|r| !r.is_empty()),
            tag_prefix: source
                .and_then(|s| s.tag_prefix.clone())
                .filter(|t| !t.is_empty()),
            trusted_root,
            tuf,
            root_error: None,
        });
    }
    out
}

/// A cosign `tuf` block: `None` when it names neither a mirror nor a root
/// (Kyverno then uses the public-good repository, whose trusted root the
/// engine already has). A mirror needs its initial root: imgverify embeds
/// no TUF root.
fn tuf_source(
    t: &serde_json::Value,
) -> Result<Option<crate::policy::ivpol::TufSource>, (&'static str, String)> {
    use base64::Engine as _;
    use sha2::Digest as _;
    let s = |v: Option<&serde_json::Value>| {
        v.and_then(serde_json::Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let mirror = s(t.get("mirror"));
    let root = t.get("root");
    let (data, path) = (
        s(root.and_then(|r| r.get("data"))),
        s(root.and_then(|r| r.get("path"))),
    );
    if mirror.is_none() && data.is_none() && path.is_none() {
        return Ok(None);
    }
    let mirror = mirror.unwrap_or_default();
    if !(mirror.starts_with("https://") || mirror.starts_with("http://")) {
        return Err((
            ".mirror",
            format!("{mirror:?} is not an http(s) URL of a TUF repository"),
        ));
    }
    if data.is_none() && path.is_none() {
        return Err((
            ".root",
            "the repository's initial root.json is required (root.data or root.path): imgverify embeds no TUF root".into(),
        ));
    }
    if data.is_some() && path.is_some() {
        return Err((".root", "give either root.data or root.path".into()));
    }
    if let Some(d) = &data
        && base64::engine::general_purpose::STANDARD.decode(d).is_err()
    {
        return Err((".root.data", "not base64".into()));
    }
    if path.as_deref().is_some_and(|p| p.contains("://")) {
        return Err((
            ".root.path",
            "a URL is not read; give the root as root.data or a local file".into(),
        ));
    }
    let material = format!(
        "{mirror}\n{}\n{}",
        data.as_deref().unwrap_or(""),
        path.as_deref().unwrap_or("")
    );
    let key = crate::digest::hex_encode(&sha2::Sha256::digest(material.as_bytes()));
    Ok(Some(crate::policy::ivpol::TufSource {
        key,
        mirror,
        root_data: data,
        root_path: path,
    }))
}

/// Gives each attestor with a `tuf` repository the trusted root its host
/// fetched (`roots`: by [`crate::policy::ivpol::TufSource::key`], the
/// trusted root's JSON or why there is none).
pub fn resolve_tuf_roots(
    policies: &mut [crate::policy::ivpol::CompiledImagePolicy],
    roots: &BTreeMap<String, crate::policy::ivpol::AttestorTrustedRoot>,
) {
    use crate::policy::ivpol::AttestorTrustedRoot;
    for p in policies {
        for a in &mut p.attestors {
            let Some(t) = &a.tuf else { continue };
            match roots.get(&t.key) {
                Some(AttestorTrustedRoot::TrustedRoot(json)) => match attestor_root(json) {
                    Ok(root) => a.trusted_root = Some(root),
                    Err(e) => {
                        a.root_error = Some(format!(
                            "the trusted root from TUF repository {} does not parse: {e}",
                            t.mirror
                        ))
                    }
                },
                Some(AttestorTrustedRoot::Error(e)) => {
                    a.root_error = Some(format!(
                        "no trusted root from TUF repository {}: {e}",
                        t.mirror
                    ))
                }
                None => {
                    a.root_error = Some(format!(
                        "no trusted root from TUF repository {}: the host did not fetch it",
                        t.mirror
                    ))
                }
            }
        }
    }
}

/// Largest `trustedRoot.value` read (Kyverno's limit).
const MAX_TRUSTED_ROOT_BYTES: usize = 1 << 20;

/// An attestor's own trusted root, with the id that keeps its checks apart
/// in the verification memo.
fn attestor_root(json: &str) -> Result<AttestorRoot, String> {
    use sha2::Digest as _;
    if json.len() > MAX_TRUSTED_ROOT_BYTES {
        return Err(format!(
            "the trusted root is {} bytes, more than {MAX_TRUSTED_ROOT_BYTES}",
            json.len()
        ));
    }
    let root = TrustedRoot::parse(json).map_err(|e| e.to_string())?;
    let id = crate::digest::hex_encode(&sha2::Sha256::digest(json.as_bytes()));
    Ok(AttestorRoot {
        root: std::sync::Arc::new(root),
        id: format!("/root:{id}"),
    })
}

/// Compiles an attestor whose expressions have been evaluated to `values`
/// (in the order of [`DeferredAttestor::expressions`]): its verifiers, and
/// its own trusted root when an expression gave one.
pub fn compile_deferred(
    deferred: &DeferredAttestor,
    values: &[String],
) -> Result<(Vec<AttestorKind>, Option<AttestorRoot>), String> {
    let mut attestor = deferred.attestor.clone();
    let mut root = None;
    for ((field, _), value) in deferred.expressions.iter().zip(values) {
        if *field == MaterialField::TrustedRoot && !value.trim().is_empty() {
            root = Some(attestor_root(value).map_err(|e| format!("trustedRoot: {e}"))?);
        }
        set_field(&mut attestor, *field, value.clone());
    }
    let mut ctx = Ctx {
        document: "",
        errors: Vec::new(),
        lints: Vec::new(),
    };
    let kinds = compile_material(&mut ctx, "attestor", &attestor);
    match kinds {
        Some(k) if ctx.errors.is_empty() => Ok((k, root)),
        _ => Err(ctx
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.path, e.message))
            .collect::<Vec<_>>()
            .join("; ")),
    }
}

fn set_field(a: &mut m::Attestor, field: MaterialField, value: String) {
    let literal = |v: String| {
        Some(m::StringOrExpression {
            value: Some(v),
            expression: None,
        })
    };
    match field {
        MaterialField::KeyData => {
            if let Some(k) = a.cosign.as_mut().and_then(|c| c.key.as_mut()) {
                k.data = Some(value);
                k.expression = None;
            }
        }
        MaterialField::Certificate => {
            if let Some(c) = a.cosign.as_mut().and_then(|c| c.certificate.as_mut()) {
                c.cert = literal(value);
            }
        }
        MaterialField::CertificateChain => {
            if let Some(c) = a.cosign.as_mut().and_then(|c| c.certificate.as_mut()) {
                c.cert_chain = literal(value);
            }
        }
        MaterialField::NotaryCerts => {
            if let Some(n) = a.notary.as_mut() {
                n.certs = literal(value);
            }
        }
        MaterialField::NotaryTsaCerts => {
            if let Some(n) = a.notary.as_mut() {
                n.tsa_certs = literal(value);
            }
        }
        MaterialField::TrustedRoot => {
            if let Some(c) = a.cosign.as_mut() {
                c.trusted_root = literal(value);
            }
        }
    }
}

/// The attestor with every constant expression folded into its literal
/// field, and the expressions that depend on the request.
fn resolve_expressions(
    ctx: &mut Ctx,
    env: &Env,
    path: &str,
    a: &m::Attestor,
) -> (m::Attestor, Vec<(MaterialField, Program)>) {
    let mut literal = a.clone();
    let mut deferred = Vec::new();
    let mut candidates: Vec<(MaterialField, String, Option<&str>, bool)> = Vec::new();
    if let Some(c) = &a.cosign {
        if let Some(k) = &c.key {
            let has_data = k.data.as_deref().is_some_and(|d| !d.is_empty());
            candidates.push((
                MaterialField::KeyData,
                format!("{path}.cosign.key"),
                k.expression.as_deref(),
                has_data,
            ));
        }
        if let Some(cert) = &c.certificate {
            for (field, name, v) in [
                (MaterialField::Certificate, "cert", &cert.cert),
                (
                    MaterialField::CertificateChain,
                    "certChain",
                    &cert.cert_chain,
                ),
            ] {
                candidates.push(or_expression(
                    field,
                    format!("{path}.cosign.certificate.{name}"),
                    v.as_ref(),
                ));
            }
        }
        candidates.push(or_expression(
            MaterialField::TrustedRoot,
            format!("{path}.cosign.trustedRoot"),
            c.trusted_root.as_ref(),
        ));
    }
    if let Some(n) = &a.notary {
        for (field, name, v) in [
            (MaterialField::NotaryCerts, "certs", &n.certs),
            (MaterialField::NotaryTsaCerts, "tsaCerts", &n.tsa_certs),
        ] {
            candidates.push(or_expression(
                field,
                format!("{path}.notary.{name}"),
                v.as_ref(),
            ));
        }
    }
    for (field, field_path, expression, has_value) in candidates {
        let Some(source) = expression.filter(|x| !x.trim().is_empty()) else {
            continue;
        };
        if has_value {
            ctx.err(
                &field_path,
                "only one of a value or an expression may be given",
            );
            continue;
        }
        let expression_path = format!("{field_path}.expression");
        let Some(program) = compile(ctx, env, &expression_path, source, Expect::StringOrDyn) else {
            continue;
        };
        match program.eval(
            env,
            &BTreeMap::new(),
            &mut NoHost,
            crate::cel::eval::DEFAULT_COST_LIMIT,
        ) {
            Ok(Value::String(s)) => set_field(&mut literal, field, s.to_string()),
            // It reads the request, variables or the cluster: evaluated
            // with each request.
            _ => deferred.push((field, program)),
        }
    }
    (literal, deferred)
}

fn or_expression(
    field: MaterialField,
    path: String,
    v: Option<&m::StringOrExpression>,
) -> (MaterialField, String, Option<&str>, bool) {
    (
        field,
        path,
        v.and_then(|v| v.expression.as_deref()),
        v.and_then(|v| v.value.as_deref())
            .is_some_and(|s| !s.is_empty()),
    )
}

/// The attestor's trust material, every field literal.
fn compile_material(ctx: &mut Ctx, path: &str, a: &m::Attestor) -> Option<Vec<AttestorKind>> {
    match (&a.cosign, &a.notary) {
        (Some(c), None) => compile_cosign(ctx, &format!("{path}.cosign"), c),
        (None, Some(n)) => compile_notary(ctx, &format!("{path}.notary"), n),
        _ => None,
    }
}

fn value_of(v: Option<&m::StringOrExpression>) -> Option<String> {
    v.and_then(|v| v.value.clone())
        .filter(|s| !s.trim().is_empty())
}

/// The IVPOL `ctlog` as the Rekor and CT log settings of `verifyImages`.
fn log_settings(c: Option<&m::CtLog>) -> (Option<model::Rekor>, Option<model::CtLog>) {
    let Some(c) = c else {
        return (None, None);
    };
    (
        Some(model::Rekor {
            url: c.url.clone(),
            pubkey: c.rekor_pub_key.clone(),
            ignore_tlog: c.insecure_ignore_tlog,
        }),
        Some(model::CtLog {
            ignore_sct: c.insecure_ignore_sct,
            pubkey: c.ct_log_pub_key.clone(),
            tsa_cert_chain: c.tsa_cert_chain.clone(),
        }),
    )
}

/// Errors the shared compilers record under `verifyImages` field names,
/// renamed to this policy's.
fn rename_paths(ctx: &mut Ctx, from: usize, renames: &[(String, String)]) {
    for e in ctx.errors.iter_mut().skip(from) {
        for (old, new) in renames {
            if let Some(rest) = e.path.strip_prefix(old.as_str()) {
                e.path = format!("{new}{rest}");
                break;
            }
        }
    }
}

fn compile_cosign(ctx: &mut Ctx, path: &str, c: &m::Cosign) -> Option<Vec<AttestorKind>> {
    let (rekor, ctlog) = log_settings(c.ctlog.as_ref());
    let ctlog_path = format!("{path}.ctlog");
    let start = ctx.errors.len();
    let kinds: Vec<AttestorKind> = match (&c.key, &c.keyless, &c.certificate) {
        (Some(k), None, None) => {
            // Image policies substitute no `{{ }}` variables: `data` is PEM
            // (or an expression), `kms` a key reference.
            fn text(t: &Option<String>) -> &str {
                t.as_deref().map(str::trim).unwrap_or("")
            }
            let data = text(&k.data);
            if !data.is_empty() && !data.starts_with("-----BEGIN PUBLIC KEY-----") {
                ctx.err(
                    format!("{path}.key.data"),
                    "failed to load public key from PEM: expected -----BEGIN PUBLIC KEY-----",
                );
                return None;
            }
            let kms = text(&k.kms);
            if data.is_empty() && has_variable(kms) {
                ctx.err(
                    format!("{path}.key.kms"),
                    format!("failed to load public key from {kms}: variables are not substituted in image policies"),
                );
                return None;
            }
            let attestor = model::StaticKeyAttestor {
                public_keys: k.data.clone(),
                kms: k.kms.clone(),
                signature_algorithm: k.hash_algorithm.clone(),
                rekor: rekor.clone(),
                ctlog: ctlog.clone(),
                ..Default::default()
            };
            let kinds = keys::compile_keys(ctx, &format!("{path}.key"), &attestor);
            rename_paths(
                ctx,
                start,
                &[
                    (format!("{path}.key.publicKeys"), format!("{path}.key.data")),
                    (
                        format!("{path}.key.signatureAlgorithm"),
                        format!("{path}.key.hashAlgorithm"),
                    ),
                    (format!("{path}.key.rekor"), ctlog_path.clone()),
                ],
            );
            kinds
        }
        (None, Some(k), None) => {
            if k.identities.is_empty() {
                ctx.err(
                    format!("{path}.keyless.identities"),
                    "Required value: at least one identity",
                );
                return None;
            }
            let specs: Vec<IdentitySpec<'_>> = k
                .identities
                .iter()
                .map(|i| IdentitySpec {
                    subject: i.subject.as_deref(),
                    subject_regexp: i.subject_reg_exp.as_deref(),
                    issuer: i.issuer.as_deref(),
                    issuer_regexp: i.issuer_reg_exp.as_deref(),
                })
                .collect();
            let identity = match IdentityPolicy::any_of(&specs) {
                Ok(i) => i,
                Err((i, e)) => {
                    ctx.err(format!("{path}.keyless.identities[{i}]"), e.to_string());
                    return None;
                }
            };
            if identity.is_empty() {
                ctx.lint(
                    format!("{path}.keyless.identities"),
                    "an identity without subject or issuer: a signature by any identity the roots certify is accepted",
                );
            }
            let logs = LogSettings {
                rekor: rekor.as_ref(),
                rekor_path: ctlog_path.clone(),
                ctlog: ctlog.as_ref(),
                ctlog_path: ctlog_path.clone(),
            };
            keys::keyless_with_identity(
                ctx,
                &format!("{path}.keyless"),
                identity,
                k.roots.as_deref(),
                &logs,
            )
            .map(|k| AttestorKind::Keyless(Box::new(k)))
            .into_iter()
            .collect()
        }
        (None, None, Some(cert)) => {
            let attestor = model::CertificateAttestor {
                cert: value_of(cert.cert.as_ref()),
                cert_chain: value_of(cert.cert_chain.as_ref()),
                rekor: rekor.clone(),
                ctlog: ctlog.clone(),
            };
            let compiled =
                keys::compile_certificates(ctx, &format!("{path}.certificate"), &attestor);
            rename_paths(
                ctx,
                start,
                &[
                    (format!("{path}.certificate.rekor"), ctlog_path.clone()),
                    (format!("{path}.certificate.ctlog"), ctlog_path.clone()),
                ],
            );
            compiled
                .map(|c| AttestorKind::Certificates(Box::new(c)))
                .into_iter()
                .collect()
        }
        _ => {
            ctx.err(
                path,
                "exactly one of key, keyless or certificate is required",
            );
            return None;
        }
    };
    (ctx.errors.len() == start).then_some(kinds)
}

fn compile_notary(ctx: &mut Ctx, path: &str, n: &m::Notary) -> Option<Vec<AttestorKind>> {
    let start = ctx.errors.len();
    let Some(certs) = value_of(n.certs.as_ref()) else {
        ctx.err(format!("{path}.certs"), "Required value: certificates");
        return None;
    };
    let attestor = model::CertificateAttestor {
        cert: Some(certs),
        ..Default::default()
    };
    let compiled = compile_notary_certificates(ctx, path, &attestor);
    rename_paths(
        ctx,
        start,
        &[(format!("{path}.cert"), format!("{path}.certs"))],
    );
    let mut compiled = compiled?;
    if let Some(tsa) = value_of(n.tsa_certs.as_ref()) {
        match crate::crypto::x509::Certificate::from_pem_chain(&tsa) {
            Ok(certs) => {
                let ders: Vec<u8> = certs.iter().flat_map(|c| c.der().to_vec()).collect();
                compiled.id = format!(
                    "{};tsa:{}",
                    compiled.id,
                    crate::digest::Digest::sha256_of(&ders).hex()
                );
                compiled.stores.add(StoreType::Tsa, "kyverno", certs);
                compiled.policy = TrustPolicy::kyverno(true);
            }
            Err(e) => ctx.err(
                format!("{path}.tsaCerts"),
                format!("failed to parse certificates: {e}"),
            ),
        }
    }
    (ctx.errors.len() == start).then(|| vec![AttestorKind::Notary(Box::new(compiled))])
}
