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
        })
    }

    /// The identity required, as the policy writes it (`subject …, issuer
    /// …`), for reports of what verified.
    pub fn describe(&self) -> String {
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
        self.subject.is_none()
            && self.subject_regexp.is_none()
            && self.issuer.is_none()
            && self.issuer_regexp.is_none()
            && self.extensions.is_empty()
    }

    /// Checks a certificate's identity; the error says what did not match
    /// in Kyverno's words.
    pub fn check(&self, id: &Identity) -> Result<(), String> {
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
