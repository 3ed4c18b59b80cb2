//! Kyverno's certificate identity checks for `keyless` attestors
//! (`matchCertificateData`): `subject` (wildcard) or `subjectRegExp` against
//! any SAN, `issuer` (wildcard) and `issuerRegExp` against the OIDC issuer,
//! and `additionalExtensions` (wildcards) against Fulcio extensions.
//! Regular expressions are RE2 syntax, unanchored as cosign and Kyverno
//! match them (`^…$` anchors them), and compiled once with the policy.

use super::fulcio::{self, Identity};
use crate::wildcard;

/// Longest regular expression accepted in a policy.
const MAX_REGEX_LEN: usize = 4096;

/// A policy's identity requirement could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// A regular expression does not parse.
    #[error("invalid regexp for {field}: {pattern} : {reason}")]
    Regex {
        /// `subject` or `issuer`.
        field: &'static str,
        /// The pattern.
        pattern: String,
        /// Why.
        reason: String,
    },
    /// An `additionalExtensions` key that names no Fulcio extension.
    #[error("invalid certificate extension {0}")]
    UnknownExtension(String),
}

/// A regular expression with its source text (for messages).
#[derive(Debug, Clone)]
struct Pattern {
    source: String,
    regex: regex_lite::Regex,
}

impl Pattern {
    fn compile(field: &'static str, source: &str) -> Result<Self, IdentityError> {
        let err = |reason: String| IdentityError::Regex {
            field,
            pattern: source.to_string(),
            reason,
        };
        if source.len() > MAX_REGEX_LEN {
            return Err(err(format!("longer than {MAX_REGEX_LEN} bytes")));
        }
        let regex = regex_lite::RegexBuilder::new(source)
            .size_limit(1 << 20)
            .nest_limit(64)
            .build()
            .map_err(|e| err(e.to_string()))?;
        Ok(Pattern {
            source: source.to_string(),
            regex,
        })
    }
}

/// What a keyless attestor requires of the signing certificate.
#[derive(Debug, Clone, Default)]
pub struct IdentityPolicy {
    subject: Option<String>,
    subject_regexp: Option<Pattern>,
    issuer: Option<String>,
    issuer_regexp: Option<Pattern>,
    /// `(policy key, extension OID, wildcard pattern)`.
    extensions: Vec<(String, String, String)>,
    /// Cosign's identities (ImageValidatingPolicy `identities[]`): any one
    /// must match; empty for Kyverno's single wildcard identity.
    any_of: Vec<CosignIdentity>,
}

/// One of cosign's certificate identities: exact strings or regular
/// expressions; a field's regexp, when given, takes the place of its
/// exact string (cosign's `CheckOpts.Identities`).
#[derive(Debug, Clone, Default)]
struct CosignIdentity {
    subject: Option<String>,
    subject_regexp: Option<Pattern>,
    issuer: Option<String>,
    issuer_regexp: Option<Pattern>,
}

/// An identity as an ImageValidatingPolicy writes it.
#[derive(Debug, Clone, Copy, Default)]
pub struct IdentitySpec<'a> {
    /// Exact subject.
    pub subject: Option<&'a str>,
    /// Subject regexp.
    pub subject_regexp: Option<&'a str>,
    /// Exact issuer.
    pub issuer: Option<&'a str>,
    /// Issuer regexp.
    pub issuer_regexp: Option<&'a str>,
}

impl CosignIdentity {
    fn matches(&self, id: &Identity) -> bool {
        let issuer = match (&self.issuer_regexp, &self.issuer) {
            (Some(p), _) => p.regex.is_match(&id.issuer),
            (None, Some(i)) => *i == id.issuer,
            (None, None) => true,
        };
        let subject = match (&self.subject_regexp, &self.subject) {
            (Some(p), _) => id.sans.iter().any(|s| p.regex.is_match(s)),
            (None, Some(want)) => id.sans.iter().any(|s| s == want),
            (None, None) => true,
        };
        issuer && subject
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        match (&self.subject_regexp, &self.subject) {
            (Some(p), _) => parts.push(format!("subjectRegExp {}", p.source)),
            (None, Some(s)) => parts.push(format!("subject {s}")),
            (None, None) => {}
        }
        match (&self.issuer_regexp, &self.issuer) {
            (Some(p), _) => parts.push(format!("issuerRegExp {}", p.source)),
            (None, Some(s)) => parts.push(format!("issuer {s}")),
            (None, None) => {}
        }
        if parts.is_empty() {
            "any identity".into()
        } else {
            parts.join(", ")
        }
    }
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty())
}

impl IdentityPolicy {
    /// Compiles the attestor's fields; empty strings are absent.
    pub fn compile(
        subject: Option<&str>,
        subject_regexp: Option<&str>,
        issuer: Option<&str>,
        issuer_regexp: Option<&str>,
        extensions: &std::collections::BTreeMap<String, String>,
    ) -> Result<Self, IdentityError> {
        let mut ext = Vec::new();
        for (key, pattern) in extensions {
            let oid = fulcio::extension_oid(key)
                .ok_or_else(|| IdentityError::UnknownExtension(key.clone()))?;
            ext.push((key.clone(), oid, pattern.clone()));
        }
        Ok(IdentityPolicy {
            subject: non_empty(subject).map(str::to_string),
            subject_regexp: non_empty(subject_regexp)
                .map(|p| Pattern::compile("subject", p))
                .transpose()?,
            issuer: non_empty(issuer).map(str::to_string),
            issuer_regexp: non_empty(issuer_regexp)
                .map(|p| Pattern::compile("issuer", p))
                .transpose()?,
            extensions: ext,
            any_of: Vec::new(),
        })
    }

    /// Cosign's rules over several identities, any one of which must
    /// match (an ImageValidatingPolicy's `keyless.identities`); the error
    /// gives the index of the identity whose regexp does not compile.
    pub fn any_of(identities: &[IdentitySpec<'_>]) -> Result<Self, (usize, IdentityError)> {
        let mut any_of = Vec::with_capacity(identities.len());
        for (i, spec) in identities.iter().enumerate() {
            let pattern = |field, p: Option<&str>| {
                non_empty(p)
                    .map(|p| Pattern::compile(field, p))
                    .transpose()
                    .map_err(|e| (i, e))
            };
            any_of.push(CosignIdentity {
                subject: non_empty(spec.subject).map(str::to_string),
                subject_regexp: pattern("subject", spec.subject_regexp)?,
                issuer: non_empty(spec.issuer).map(str::to_string),
                issuer_regexp: pattern("issuer", spec.issuer_regexp)?,
            });
        }
        Ok(IdentityPolicy {
            any_of,
            ..IdentityPolicy::default()
        })
    }

    /// The identity required, as the policy writes it (`subject …, issuer
    /// …`), for reports of what verified.
    pub fn describe(&self) -> String {
        if !self.any_of.is_empty() {
            let all: Vec<String> = self.any_of.iter().map(CosignIdentity::describe).collect();
            return format!("one of [{}]", all.join("; "));
        }
        let mut parts = Vec::new();
        if let Some(s) = &self.subject {
            parts.push(format!("subject {s}"));
        }
        if let Some(s) = &self.subject_regexp {
            parts.push(format!("subjectRegExp {}", s.source));
        }
        if let Some(s) = &self.issuer {
            parts.push(format!("issuer {s}"));
        }
        if let Some(s) = &self.issuer_regexp {
            parts.push(format!("issuerRegExp {}", s.source));
        }
        for (key, _, pattern) in &self.extensions {
            parts.push(format!("{key} {pattern}"));
        }
        if parts.is_empty() {
            return "any identity".into();
        }
        parts.join(", ")
    }

    /// Whether nothing is required (every certificate matches).
    pub fn is_empty(&self) -> bool {
        self.any_of.iter().all(|i| {
            i.subject.is_none()
                && i.subject_regexp.is_none()
                && i.issuer.is_none()
                && i.issuer_regexp.is_none()
        }) && self.subject.is_none()
            && self.subject_regexp.is_none()
            && self.issuer.is_none()
            && self.issuer_regexp.is_none()
            && self.extensions.is_empty()
    }

    /// Checks a certificate's identity; the error says what did not match
    /// in Kyverno's words.
    pub fn check(&self, id: &Identity) -> Result<(), String> {
        if !self.any_of.is_empty() {
            if self.any_of.iter().any(|i| i.matches(id)) {
                return Ok(());
            }
            return Err(format!(
                "none of the expected identities matched what was in the certificate, got subjects [{}] with issuer {}",
                id.sans.join(", "),
                id.issuer
            ));
        }
        // Kyverno skips the subject check for a certificate without SANs;
        // we do not: a required subject needs a SAN to match.
        if self.subject.is_some() || self.subject_regexp.is_some() {
            let by_wildcard = self
                .subject
                .as_deref()
                .is_some_and(|p| id.sans.iter().any(|s| wildcard::matches(p, s)));
            let by_regex = self
                .subject_regexp
                .as_ref()
                .is_some_and(|p| id.sans.iter().any(|s| p.regex.is_match(s)));
            if !by_wildcard && !by_regex {
                let expected = self
                    .subject
                    .clone()
                    .or_else(|| self.subject_regexp.as_ref().map(|p| p.source.clone()))
                    .unwrap_or_default();
                return Err(format!(
                    "subject mismatch: expected {expected}, received {}",
                    id.sans.join(", ")
                ));
            }
        }
        if let Some(p) = &self.issuer
            && !wildcard::matches(p, &id.issuer)
        {
            return Err(format!(
                "issuer mismatch: expected {p}, received {}",
                id.issuer
            ));
        }
        if let Some(p) = &self.issuer_regexp
            && !p.regex.is_match(&id.issuer)
        {
            return Err(format!(
                "issuer mismatch: expected {}, received {}",
                p.source, id.issuer
            ));
        }
        for (key, oid, pattern) in &self.extensions {
            let value = id.extension(oid);
            if !wildcard::matches(pattern, value) {
                return Err(format!(
                    "extension mismatch: expected {pattern} for key {key}, received {value}"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(san: &str, issuer: &str) -> Identity {
        Identity {
            sans: vec![san.to_string()],
            issuer: issuer.to_string(),
            extensions: Default::default(),
        }
    }

    #[test]
    fn cosign_identities_are_exact_or_regexp_and_any_one_matches() {
        let gh = "https://token.actions.githubusercontent.com";
        let policy = IdentityPolicy::any_of(&[
            IdentitySpec {
                subject: Some("alice@example.com"),
                issuer: Some("https://accounts.google.com"),
                ..Default::default()
            },
            IdentitySpec {
                subject_regexp: Some("^https://github.com/kyverno/.*$"),
                issuer: Some(gh),
                ..Default::default()
            },
        ])
        .expect("compiles");
        assert!(
            policy
                .check(&id("alice@example.com", "https://accounts.google.com"))
                .is_ok()
        );
        assert!(
            policy
                .check(&id(
                    "https://github.com/kyverno/x/.github/workflows/a.yml@refs/heads/main",
                    gh
                ))
                .is_ok()
        );
        // Exact, not Kyverno's wildcard.
        let star = IdentityPolicy::any_of(&[IdentitySpec {
            subject: Some("*@example.com"),
            ..Default::default()
        }])
        .expect("compiles");
        let e = star.check(&id("alice@example.com", gh)).unwrap_err();
        assert!(
            e.starts_with("none of the expected identities matched"),
            "{e}"
        );
        // The subject of one identity and the issuer of another do not combine.
        assert!(policy.check(&id("alice@example.com", gh)).is_err());
        // A regexp takes the place of the exact string of its field.
        let both = IdentityPolicy::any_of(&[IdentitySpec {
            subject: Some("nobody"),
            subject_regexp: Some("alice"),
            ..Default::default()
        }])
        .expect("compiles");
        assert!(both.check(&id("alice@example.com", gh)).is_ok());
        assert!(
            IdentityPolicy::any_of(&[
                IdentitySpec::default(),
                IdentitySpec {
                    issuer_regexp: Some("("),
                    ..Default::default()
                }
            ])
            .is_err_and(|(i, _)| i == 1)
        );
        assert!(
            IdentityPolicy::any_of(&[IdentitySpec::default()])
                .expect("compiles")
                .is_empty()
        );
    }
}
