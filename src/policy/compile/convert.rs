//! Kyverno's `Convert()`: the deprecated `image`, `key`, `issuer`, `subject`
//! and `roots` fields of a `verifyImages` entry rewritten into
//! `imageReferences` and attestors, with a lint.

use super::Ctx;
use crate::policy::model;

/// The entry in its current form.
pub(super) fn convert(
    ctx: &mut Ctx,
    path: &str,
    e: &model::ImageVerification,
) -> model::ImageVerification {
    let mut e = e.clone();
    // Convert(): deprecated fields into the current form.
    let converts = e.image.as_deref().is_some_and(|s| !s.is_empty())
        || e.key.as_deref().is_some_and(|s| !s.is_empty())
        || e.issuer.as_deref().is_some_and(|s| !s.is_empty());
    if converts {
        ctx.lint(path, "deprecated fields image/key/issuer/subject/roots are converted to imageReferences/attestors");
        if let Some(img) = e.image.take().filter(|s| !s.is_empty()) {
            e.image_references.get_or_insert_with(Vec::new).push(img);
        }
        let attestor = if let Some(key) = e.key.take().filter(|s| !s.is_empty()) {
            Some(model::Attestor {
                keys: Some(model::StaticKeyAttestor {
                    public_keys: Some(key),
                    ..Default::default()
                }),
                annotations: e.annotations.clone(),
                ..Default::default()
            })
        } else if let Some(issuer) = e.issuer.take().filter(|s| !s.is_empty()) {
            Some(model::Attestor {
                keyless: Some(model::KeylessAttestor {
                    issuer: Some(issuer),
                    subject: e.subject.take(),
                    roots: e.roots.take(),
                    ..Default::default()
                }),
                annotations: e.annotations.clone(),
                ..Default::default()
            })
        } else {
            None
        };
        if let Some(attestor) = attestor {
            e.attestors
                .get_or_insert_with(Vec::new)
                .push(model::AttestorSet {
                    count: None,
                    entries: Some(vec![attestor]),
                });
        }
    }
    e
}
