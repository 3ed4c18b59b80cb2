//! `certificates` attestors of `type: Notary` verifications, compiled as
//! Kyverno builds its Notary verifier: `cert` and `certChain` concatenated
//! into the one trust store `ca:kyverno`.

use super::{Ctx, has_variable};
use crate::crypto::x509::Certificate;
use crate::notary::trust::{StoreType, TrustPolicy, TrustStores};
use crate::policy::compiled::NotaryAttestor;
use crate::policy::model;

/// Compiles the attestor's certificates into a trust store; `None` (with
/// an error recorded) when they do not parse.
pub(super) fn compile_notary_certificates(
    ctx: &mut Ctx,
    path: &str,
    c: &model::CertificateAttestor,
) -> Option<NotaryAttestor> {
    let text = |t: &Option<String>| {
        t.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let texts: Vec<String> = [text(&c.cert), text(&c.cert_chain)]
        .into_iter()
        .flatten()
        .collect();
    let policy = TrustPolicy::kyverno(false);
    if texts.iter().any(|t| has_variable(t)) {
        return Some(NotaryAttestor {
            stores: TrustStores::new(),
            policy,
            unsupported: Some(
                "certificates given as variables cannot be loaded by the offline engine; give them inline as PEM".into(),
            ),
            id: String::new(),
        });
    }
    let certs = match Certificate::from_pem_chain(&texts.join("\n")) {
        Ok(certs) => certs,
        Err(e) => {
            ctx.err(
                format!("{path}.cert"),
                format!("failed to parse certificates: {e}"),
            );
            return None;
        }
    };
    let mut ders = Vec::new();
    for c in &certs {
        ders.extend_from_slice(c.der());
        // The trusted certificates' keys verify every signature's chain (a
        // root's own signature, an intermediate's): their fixed-base tables
        // are built now, as a policy key's are, not by the first admission.
        if let Ok(key) = c.public_key() {
            let _ = key.with_tables();
        }
    }
    let id = format!("notary:{}", crate::digest::Digest::sha256_of(&ders).hex());
    let mut stores = TrustStores::new();
    stores.add(StoreType::Ca, "kyverno", certs);
    Some(NotaryAttestor {
        stores,
        policy,
        unsupported: None,
        id,
    })
}
