//! Image references: the distribution grammar and Kyverno's normalisation.
//!
//! [`ImageInfo::parse`] reproduces Kyverno's `GetImageInfo`: the default
//! registry is added when the first path segment does not look like a host,
//! the result is parsed with the strict `distribution/reference` grammar (no
//! `library/` insertion), a missing tag becomes `latest`, and the canonical
//! string drops the tag when a digest is present.

use crate::digest::Digest;
use core::fmt;

/// Longest repository name the grammar allows (domain + path).
const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// Normalisation settings (Kyverno ConfigMap `defaultRegistry` and
/// `enableDefaultRegistryMutation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizeOptions {
    /// Registry prefixed to names without one (default `docker.io`).
    pub default_registry: String,
    /// When false, an added default registry is not kept in `registry`.
    pub enable_default_registry_mutation: bool,
}

impl Default for NormalizeOptions {
    fn default() -> Self {
        NormalizeOptions {
            default_registry: "docker.io".to_string(),
            enable_default_registry_mutation: true,
        }
    }
}

/// Why a reference did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// Empty input.
    #[error("repository name must have at least one component")]
    NameEmpty,
    /// Upper-case letters in the repository path.
    #[error("repository name must be lowercase")]
    NameContainsUppercase,
    /// Over 255 characters.
    #[error("repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters")]
    NameTooLong,
    /// Not in the grammar.
    #[error("invalid reference format")]
    InvalidFormat,
    /// A digest that is not a valid sha256/sha512 digest.
    #[error("invalid digest: {0}")]
    Digest(#[from] crate::digest::DigestError),
}

/// A normalised image, as Kyverno exposes it (`images.*` / `image` context).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// Registry host (`docker.io`, `localhost:5000`), or empty when mutation is off.
    pub registry: String,
    /// Repository path without the registry.
    pub path: String,
    /// Last path segment.
    pub name: String,
    /// Tag; `latest` when neither tag nor digest was given.
    pub tag: String,
    /// Digest string, or empty.
    pub digest: String,
}

/// Kyverno's `addDefaultRegistry`.
pub fn add_default_registry(name: &str, default_registry: &str) -> String {
    match name.find('/') {
        Some(i) => {
            let first = &name[..i];
            if !first.contains(['.', ':']) && first != "localhost" && first.to_lowercase() == first
            {
                format!("{default_registry}/{name}")
            } else {
                name.to_string()
            }
        }
        None => format!("{default_registry}/{name}"),
    }
}

impl ImageInfo {
    /// Normalises an image string from a workload, per Kyverno.
    pub fn parse(image: &str, opts: &NormalizeOptions) -> Result<Self, ReferenceError> {
        let full = add_default_registry(image, &opts.default_registry);
        let parsed = ParsedReference::parse(&full)?;
        let path = parsed.path;
        let name = path.rsplit('/').next().unwrap_or_default().to_string();
        let digest = parsed.digest.map(|d| d.to_string()).unwrap_or_default();
        let mut tag = parsed.tag.unwrap_or_default();
        if digest.is_empty() && tag.is_empty() {
            tag = "latest".to_string();
        }
        let mut registry = canonical_registry(&parsed.domain.unwrap_or_default());
        if full != image && !opts.enable_default_registry_mutation {
            registry.clear();
        }
        Ok(ImageInfo {
            registry,
            path,
            name,
            tag,
            digest,
        })
    }

    /// `registry/path` (or `path` when the registry is empty).
    pub fn repository_reference(&self) -> String {
        if self.registry.is_empty() {
            self.path.clone()
        } else {
            format!("{}/{}", self.registry, self.path)
        }
    }

    /// `registry/path:tag`; for digest-only images this ends in a bare `:`.
    pub fn reference_with_tag(&self) -> String {
        format!("{}:{}", self.repository_reference(), self.tag)
    }

    /// The parsed digest, if any.
    pub fn parsed_digest(&self) -> Option<Digest> {
        Digest::parse(&self.digest).ok()
    }

    /// Every canonical spelling of this image that policy patterns are
    /// matched against: [`ImageInfo::to_string`], and for a Docker Hub
    /// official image also the other form of its name (`docker.io/nginx` and
    /// `docker.io/library/nginx` name the same repository). A pattern written
    /// either way matches the image whichever way the workload spells it.
    pub fn match_names(&self) -> Vec<String> {
        let canonical = self.to_string();
        let alternative = if self.registry == DOCKER_HUB {
            match self.path.strip_prefix("library/") {
                Some(rest) if !rest.contains('/') => Some(rest.to_string()),
                Some(_) => None,
                None if !self.path.contains('/') => Some(format!("library/{}", self.path)),
                None => None,
            }
        } else {
            None
        };
        let mut out = vec![canonical];
        if let Some(path) = alternative {
            out.push(
                ImageInfo {
                    path,
                    ..self.clone()
                }
                .to_string(),
            );
        }
        out
    }
}

/// Docker Hub's canonical registry name.
pub const DOCKER_HUB: &str = "docker.io";

/// Names that reach Docker Hub's registry besides `docker.io`.
const DOCKER_HUB_ALIASES: &[&str] = &[
    "index.docker.io",
    "registry-1.docker.io",
    "registry.hub.docker.com",
];

/// The canonical spelling of a registry host, so that no spelling of the same
/// registry escapes a policy: host names lower-cased (DNS is
/// case-insensitive), the HTTPS default port `:443` dropped, and Docker Hub's
/// aliases folded into `docker.io`. Kyverno does none of this.
///
/// A spelling is only rewritten into one that still reads as a registry: a
/// single-label host such as `Reg` or `reg:443` stays as written, since
/// `reg/app` would name `docker.io/reg/app` (and a digest patch written with
/// it would run another image than the one verified).
pub fn canonical_registry(registry: &str) -> String {
    let lower = registry.to_ascii_lowercase();
    // The port as a number: `:0443` is 443 to a container runtime.
    let (name, port) = match split_port(&lower) {
        Some((name, port)) => (name, Some(port)),
        None => (lower.as_str(), None),
    };
    let canonical = match port {
        None | Some(443) => name.to_string(),
        Some(p) => format!("{name}:{p}"),
    };
    if DOCKER_HUB_ALIASES.contains(&canonical.as_str()) {
        return DOCKER_HUB.to_string();
    }
    let reads_as_registry = |h: &str| h.contains(['.', ':']) || h == "localhost";
    if reads_as_registry(&canonical) {
        return canonical;
    }
    // `reg:443` stays with its port (as `reg:443`), `Reg` as written.
    match port {
        Some(p) => format!("{name}:{p}"),
        None => registry.to_string(),
    }
}

/// `host:port` (or `[v6]:port`) with a numeric port, split.
fn split_port(registry: &str) -> Option<(&str, u32)> {
    let (name, port) = registry.rsplit_once(':')?;
    if name.starts_with('[') && !name.ends_with(']') {
        return None; // a colon inside an IPv6 literal
    }
    Some((name, port.parse().ok()?))
}

/// A policy's image pattern with its registry spelt canonically (see
/// [`canonical_registry`]) when the registry part is literal; patterns with
/// wildcards in the registry, or without one, are kept as written.
pub fn canonical_pattern(pattern: &str) -> String {
    let Some((first, rest)) = pattern.split_once('/') else {
        return pattern.to_string();
    };
    if first.contains(['*', '?'])
        || !(first.contains(['.', ':'])
            || first == "localhost"
            || first.to_ascii_lowercase() != first)
    {
        return pattern.to_string();
    }
    format!("{}/{rest}", canonical_registry(first))
}

impl fmt::Display for ImageInfo {
    /// Kyverno's canonical string: `registry/path@digest` or `registry/path:tag`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let repo = self.repository_reference();
        if self.digest.is_empty() {
            write!(f, "{repo}:{}", self.tag)
        } else {
            write!(f, "{repo}@{}", self.digest)
        }
    }
}

/// A reference split per the `distribution/reference` grammar, without any
/// normalisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedReference {
    /// Registry host and optional port, when the first component is one.
    pub domain: Option<String>,
    /// Repository path.
    pub path: String,
    /// Tag, when present.
    pub tag: Option<String>,
    /// Digest, when present.
    pub digest: Option<Digest>,
}

impl ParsedReference {
    /// Parses `name[:tag][@digest]` per the grammar of `reference.Parse`.
    pub fn parse(s: &str) -> Result<Self, ReferenceError> {
        if s.is_empty() {
            return Err(ReferenceError::NameEmpty);
        }
        match Self::parse_inner(s) {
            Ok(r) => Ok(r),
            Err(ReferenceError::InvalidFormat) => {
                let lower = s.to_lowercase();
                if lower != s && Self::parse_inner(&lower).is_ok() {
                    Err(ReferenceError::NameContainsUppercase)
                } else {
                    Err(ReferenceError::InvalidFormat)
                }
            }
            Err(e) => Err(e),
        }
    }

    fn parse_inner(s: &str) -> Result<Self, ReferenceError> {
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => {
                if !is_digest_syntax(d) {
                    return Err(ReferenceError::InvalidFormat);
                }
                (r, Some(d))
            }
            None => (s, None),
        };
        let last_slash = rest.rfind('/');
        let (name, tag) = match rest.rfind(':') {
            Some(c) if last_slash.is_none_or(|sl| c > sl) => {
                let tag = &rest[c + 1..];
                if !is_tag(tag) {
                    return Err(ReferenceError::InvalidFormat);
                }
                (&rest[..c], Some(tag.to_string()))
            }
            _ => (rest, None),
        };
        let (domain, path) = split_name(name).ok_or(ReferenceError::InvalidFormat)?;
        if name.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(ReferenceError::NameTooLong);
        }
        let digest = digest.map(Digest::parse).transpose()?;
        Ok(ParsedReference {
            domain: domain.map(str::to_string),
            path: path.to_string(),
            tag,
            digest,
        })
    }
}

/// Splits `[domain/]remote-name`; the first component is the domain when it
/// matches the domain grammar and something follows it.
fn split_name(name: &str) -> Option<(Option<&str>, &str)> {
    if let Some((first, rest)) = name.split_once('/')
        && is_domain(first)
        && is_remote_name(rest)
    {
        return Some((Some(first), rest));
    }
    is_remote_name(name).then_some((None, name))
}

fn is_remote_name(s: &str) -> bool {
    !s.is_empty() && s.split('/').all(is_path_component)
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn is_path_component(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator run between alphanumerics.
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &s[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|c| c == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// `host[:port]`, host being dotted domain components, IPv4, or `[IPv6]`.
fn is_domain(s: &str) -> bool {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let Some(end) = rest.find(']') else {
            return false;
        };
        let inner = &rest[..end];
        if inner.is_empty() || !inner.bytes().all(|c| c.is_ascii_hexdigit() || c == b':') {
            return false;
        }
        let after = &rest[end + 1..];
        match after.strip_prefix(':') {
            Some(p) => return is_port(p),
            None => return after.is_empty(),
        }
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if let Some(p) = port
        && !is_port(p)
    {
        return false;
    }
    !host.is_empty() && host.split('.').all(is_domain_component)
}

/// Digits naming a TCP port (1 to 65535, leading zeros allowed as the
/// grammar allows them; [`canonical_registry`] drops them).
fn is_port(p: &str) -> bool {
    !p.is_empty()
        && p.bytes().all(|c| c.is_ascii_digit())
        && p.parse::<u32>().is_ok_and(|n| (1..=65535).contains(&n))
}

/// `[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`
fn is_domain_component(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

/// `[\w][\w.-]{0,127}`
fn is_tag(s: &str) -> bool {
    let b = s.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b.iter().all(|&c| word(c) || c == b'.' || c == b'-')
}

/// `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`
fn is_digest_syntax(s: &str) -> bool {
    let Some((alg, hex)) = s.split_once(':') else {
        return false;
    };
    let alg_ok = alg.split(['-', '_', '+', '.']).all(|c| {
        let b = c.as_bytes();
        !b.is_empty() && b[0].is_ascii_alphabetic() && b.iter().all(|x| x.is_ascii_alphanumeric())
    });
    alg_ok && hex.len() >= 32 && hex.bytes().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar_edges() {
        let o = NormalizeOptions::default();
        assert!(ImageInfo::parse("++", &o).is_err());
        assert_eq!(
            ImageInfo::parse("localhost/netd:v0.4.4-gke.0", &o)
                .unwrap()
                .to_string(),
            "localhost/netd:v0.4.4-gke.0"
        );
        assert_eq!(
            ImageInfo::parse("[::1]:5000/a/b:1", &o).unwrap().registry,
            "[::1]:5000"
        );
        assert!(matches!(
            ParsedReference::parse("docker.io/Foo/bar"),
            Err(ReferenceError::NameContainsUppercase)
        ));
        assert!(ImageInfo::parse("a/b@sha256:dead", &o).is_err());
    }

    #[test]
    fn registry_spellings_are_canonical() {
        let o = NormalizeOptions::default();
        for (input, want) in [
            ("index.docker.io/acme/app:1", "docker.io/acme/app:1"),
            ("registry-1.docker.io/acme/app:1", "docker.io/acme/app:1"),
            ("registry.hub.docker.com/acme/app:1", "docker.io/acme/app:1"),
            ("docker.io:443/acme/app:1", "docker.io/acme/app:1"),
            ("GHCR.IO/acme/app:1", "ghcr.io/acme/app:1"),
            ("ghcr.io:443/acme/app:1", "ghcr.io/acme/app:1"),
            (
                "registry.example.com:5000/app",
                "registry.example.com:5000/app:latest",
            ),
            ("[::1]:443/app", "[::1]/app:latest"),
            // Single-label hosts keep the spelling that makes them hosts.
            ("Reg/app:1", "Reg/app:1"),
            ("reg:443/app:1", "reg:443/app:1"),
            ("reg:0443/app:1", "reg:443/app:1"),
            ("LOCALHOST:443/app:1", "localhost/app:1"),
            // Leading zeros do not hide the default port or another spelling.
            ("ghcr.io:0443/acme/app:1", "ghcr.io/acme/app:1"),
            ("ghcr.io:00443/acme/app:1", "ghcr.io/acme/app:1"),
            (
                "registry-1.docker.io:0443/acme/app:1",
                "docker.io/acme/app:1",
            ),
            ("ghcr.io:05000/acme/app:1", "ghcr.io:5000/acme/app:1"),
        ] {
            assert_eq!(
                ImageInfo::parse(input, &o).unwrap().to_string(),
                want,
                "{input}"
            );
        }
        assert!(matches!(
            ImageInfo::parse("ghcr.io/Acme/app:1", &o),
            Err(ReferenceError::NameContainsUppercase)
        ));
        let names = ImageInfo::parse("index.docker.io/library/nginx:1", &o)
            .unwrap()
            .match_names();
        assert_eq!(names, ["docker.io/library/nginx:1", "docker.io/nginx:1"]);
        let names = ImageInfo::parse("nginx:1", &o).unwrap().match_names();
        assert_eq!(names, ["docker.io/nginx:1", "docker.io/library/nginx:1"]);
        let names = ImageInfo::parse("ghcr.io/nginx:1", &o)
            .unwrap()
            .match_names();
        assert_eq!(names, ["ghcr.io/nginx:1"]);
    }
}
