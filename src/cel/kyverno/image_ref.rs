//! Image references as go-containerregistry's `name.ParseReference` reads
//! them (its default, non-strict options), which is what Kyverno's CEL
//! image library exposes: Docker Hub is `index.docker.io`, a one-component
//! Docker Hub repository gains `library/`, a tag defaults to `latest`, and
//! a reference with both a tag and a digest is a digest reference.
//!
//! This is deliberately not [`crate::reference`]: that module follows the
//! `distribution/reference` grammar that Kyverno's ClusterPolicy engine
//! uses; the CEL functions must answer as go-containerregistry does (it
//! accepts upper-case tags and repository names such as `a..b`, and puts
//! Docker Hub at `index.docker.io`).

use std::fmt;

/// Docker Hub as go-containerregistry names it.
pub const DEFAULT_REGISTRY: &str = "index.docker.io";

/// A parsed reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The string parsed.
    pub original: String,
    /// `index.docker.io`, `ghcr.io`, `localhost:5000`.
    pub registry: String,
    /// The repository as written (without an implicit `library/`).
    repository: String,
    /// The tag or the digest.
    pub identifier: Identifier,
}

/// What follows the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identifier {
    /// A tag (`latest` when none was written).
    Tag(String),
    /// `sha256:<64 hex>`.
    Digest(String),
}

/// Why a string is not a reference (go-containerregistry's wording).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadName(pub String);

impl fmt::Display for BadName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const TAG_CHARS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.";
const REPOSITORY_CHARS: &str = "abcdefghijklmnopqrstuvwxyz0123456789_-./";

impl ImageRef {
    /// `name.ParseReference(s)`: a tag reference, else a digest reference.
    pub fn parse(s: &str) -> Result<Self, BadName> {
        if let Ok((registry, repository, tag)) = parse_tag(s) {
            return Ok(ImageRef {
                original: s.to_string(),
                registry,
                repository,
                identifier: Identifier::Tag(tag),
            });
        }
        if let Ok((registry, repository, digest)) = parse_digest(s) {
            return Ok(ImageRef {
                original: s.to_string(),
                registry,
                repository,
                identifier: Identifier::Digest(digest),
            });
        }
        Err(BadName(format!("could not parse reference: {s}")))
    }

    /// `RepositoryStr()`: with `library/` for an official Docker Hub image.
    pub fn repository(&self) -> String {
        if self.registry == DEFAULT_REGISTRY && !self.repository.contains('/') {
            format!("library/{}", self.repository)
        } else {
            self.repository.clone()
        }
    }

    /// The tag or digest.
    pub fn identifier(&self) -> &str {
        match &self.identifier {
            Identifier::Tag(t) | Identifier::Digest(t) => t,
        }
    }
}

fn bad(msg: String) -> BadName {
    BadName(msg)
}

/// `name.NewTag`: returns registry, repository and tag.
fn parse_tag(name: &str) -> Result<(String, String, String), BadName> {
    let mut base = name;
    let mut tag = "";
    if let Some((b, t)) = name.rsplit_once(':') {
        // A colon followed by a slash belongs to a registry's port.
        if !t.contains('/') {
            if t.is_empty() {
                return Err(bad(format!(
                    "{name} must specify a tag name after the colon"
                )));
            }
            base = b;
            tag = t;
        }
    }
    if !tag.is_empty() {
        check_element("tag", tag, TAG_CHARS, 1, 128)?;
    }
    let tag = if tag.is_empty() { "latest" } else { tag };
    let (registry, repository) = parse_repository(base)?;
    Ok((registry, repository, tag.to_string()))
}

/// `name.NewDigest`: returns registry, repository and digest.
fn parse_digest(name: &str) -> Result<(String, String, String), BadName> {
    let mut parts = name.split('@');
    let (Some(base), Some(digest), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad(format!(
            "a digest must contain exactly one '@' separator (e.g. registry/repository@digest) saw: {name}"
        )));
    };
    let hex = digest
        .strip_prefix("sha256:")
        .ok_or_else(|| bad(format!("unsupported digest algorithm: {digest}")))?;
    if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(bad(format!("invalid checksum digest format: {digest}")));
    }
    // A tag before the digest is validated and dropped.
    let base = match parse_tag(base) {
        Ok((registry, repository, _)) => return Ok((registry, repository, digest.to_string())),
        Err(_) => base,
    };
    let (registry, repository) = parse_repository(base)?;
    Ok((registry, repository, digest.to_string()))
}

/// `name.NewRepository`: the first component is the registry when it has a
/// `.` or a `:` and something follows it.
fn parse_repository(name: &str) -> Result<(String, String), BadName> {
    if name.is_empty() {
        return Err(bad("a repository name must be specified".into()));
    }
    let (registry, repository) = match name.split_once('/') {
        Some((first, rest)) if first.contains('.') || first.contains(':') => (first, rest),
        _ => ("", name),
    };
    check_element("repository", repository, REPOSITORY_CHARS, 2, 255)?;
    let registry = match registry {
        "" | "docker.io" => DEFAULT_REGISTRY,
        r => r,
    };
    check_registry(registry)?;
    Ok((registry.to_string(), repository.to_string()))
}

/// `checkElement`: length and alphabet.
fn check_element(what: &str, s: &str, chars: &str, min: usize, max: usize) -> Result<(), BadName> {
    let n = s.chars().count();
    if n < min || n > max {
        return Err(bad(format!(
            "{what} must be between {min} and {max} characters in length: {s}"
        )));
    }
    if let Some(c) = s.chars().find(|c| !chars.contains(*c)) {
        return Err(bad(format!(
            "{what} can only contain the characters `{chars}`: {s} (invalid character {c:?})"
        )));
    }
    Ok(())
}

/// `checkRegistry`: the name must read as a URL's host (`host[:port]`).
fn check_registry(r: &str) -> Result<(), BadName> {
    let ok = !r.is_empty()
        && r.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']' | b'%')
        })
        && match r.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') && host.contains(':') => {
                // An IPv6 literal without brackets.
                let _ = port;
                false
            }
            Some((host, port)) => !host.is_empty() && port.bytes().all(|b| b.is_ascii_digit()),
            None => true,
        };
    if ok {
        Ok(())
    } else {
        Err(bad(format!(
            "registries must be valid RFC 3986 URI authorities: {r}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(s: &str) -> (String, String, String, bool) {
        let r = ImageRef::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        let digest = matches!(r.identifier, Identifier::Digest(_));
        (
            r.registry.clone(),
            r.repository(),
            r.identifier().to_string(),
            digest,
        )
    }

    #[test]
    fn parses_as_go_containerregistry() {
        let d = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
        assert_eq!(
            parts("nginx"),
            (
                "index.docker.io".into(),
                "library/nginx".into(),
                "latest".into(),
                false
            )
        );
        assert_eq!(
            parts("docker.io/nginx:1.25"),
            (
                "index.docker.io".into(),
                "library/nginx".into(),
                "1.25".into(),
                false
            )
        );
        assert_eq!(
            parts("ghcr.io/kyverno/test-verify-image:signed"),
            (
                "ghcr.io".into(),
                "kyverno/test-verify-image".into(),
                "signed".into(),
                false
            )
        );
        assert_eq!(
            parts("localhost:5000/app"),
            (
                "localhost:5000".into(),
                "app".into(),
                "latest".into(),
                false
            )
        );
        // `localhost` without a port is a Docker Hub namespace.
        assert_eq!(
            parts("localhost/app"),
            (
                "index.docker.io".into(),
                "localhost/app".into(),
                "latest".into(),
                false
            )
        );
        assert_eq!(
            parts(&format!("ghcr.io/a/b:v1@{d}")),
            ("ghcr.io".into(), "a/b".into(), d.to_string(), true)
        );
        assert_eq!(parts("nginx:UPPER").2, "UPPER");
        for bad in [
            "",
            "Nginx",
            "a",
            "nginx:",
            "nginx@sha256:abc",
            "nginx@sha512:00",
            "ghcr.io/a@b@c",
            "nginx:bad/tag",
            "ghcr.io/",
            &format!("nginx:{}", "t".repeat(129)),
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad}");
        }
    }
}
