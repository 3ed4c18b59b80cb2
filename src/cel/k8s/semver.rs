//! `kubernetes.Semver` (k8s.io/apiserver `library/semverlib.go`, library
//! version 1 as Kubernetes' base environment enables it): versions as
//! blang/semver v4's strict `Parse` reads them, and Kubernetes'
//! `normalizeAndParse` for the `normalize` overloads.
//!
//! Not the JMESPath `semver_compare` of
//! [`crate::conditions::functions`], which follows Masterminds/semver
//! (ranges, a `v` prefix, short versions).

use super::super::functions::{Decl, FnResult};
use super::super::library::{d, no_such_overload, str_arg};
use super::super::value::{Opaque, Value};
use super::{go_quote, opaque};
use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

/// The CEL type name of a version.
pub const SEMVER_TYPE: &str = "kubernetes.Semver";

/// A pre-release identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pre {
    /// Numeric: compares as a number, before any alphanumeric one.
    Num(u64),
    /// Alphanumeric: compares as bytes.
    Alpha(String),
}

/// A `semver.Version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// Major number.
    pub major: u64,
    /// Minor number.
    pub minor: u64,
    /// Patch number.
    pub patch: u64,
    /// Pre-release identifiers.
    pub pre: Vec<Pre>,
    /// Build metadata (no precedence).
    pub build: Vec<String>,
}

fn numeric(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

fn alphanumeric(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn leading_zero(s: &str) -> bool {
    s.len() > 1 && s.starts_with('0')
}

/// `strconv.ParseUint(s, 10, 64)` of digits (or of nothing).
fn parse_uint(s: &str) -> Result<u64, String> {
    if s.is_empty() {
        return Err(format!(
            "strconv.ParseUint: parsing {}: invalid syntax",
            go_quote(s.as_bytes())
        ));
    }
    s.parse().map_err(|_| {
        format!(
            "strconv.ParseUint: parsing {}: value out of range",
            go_quote(s.as_bytes())
        )
    })
}

/// The major or minor number.
fn number(s: &str, what: &str) -> Result<u64, String> {
    if !numeric(s) {
        return Err(format!(
            "Invalid character(s) found in {what} number {}",
            go_quote(s.as_bytes())
        ));
    }
    if leading_zero(s) {
        let name = match what {
            "major" => "Major",
            "minor" => "Minor",
            _ => "Patch",
        };
        return Err(format!(
            "{name} number must not contain leading zeroes {}",
            go_quote(s.as_bytes())
        ));
    }
    parse_uint(s)
}

/// `NewPRVersion`.
fn pre_release(s: &str) -> Result<Pre, String> {
    if s.is_empty() {
        return Err("Prerelease is empty".into());
    }
    if numeric(s) {
        if leading_zero(s) {
            return Err(format!(
                "Numeric PreRelease version must not contain leading zeroes {}",
                go_quote(s.as_bytes())
            ));
        }
        return parse_uint(s).map(Pre::Num);
    }
    if alphanumeric(s) {
        return Ok(Pre::Alpha(s.to_string()));
    }
    Err(format!(
        "Invalid character(s) found in prerelease {}",
        go_quote(s.as_bytes())
    ))
}

impl Version {
    /// `semver.Parse`: strict `MAJOR.MINOR.PATCH[-PRE][+BUILD]`.
    pub fn parse(s: &str) -> Result<Version, String> {
        if s.is_empty() {
            return Err("Version string empty".into());
        }
        let mut parts = s.splitn(3, '.');
        let (Some(major), Some(minor), Some(rest)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err("No Major.Minor.Patch elements found".into());
        };
        let major = number(major, "major")?;
        let minor = number(minor, "minor")?;
        let (rest, build) = match rest.split_once('+') {
            Some((r, b)) => (r, Some(b)),
            None => (rest, None),
        };
        let (patch, pre) = match rest.split_once('-') {
            Some((p, pre)) => (p, Some(pre)),
            None => (rest, None),
        };
        let patch = number(patch, "patch")?;
        let pre = match pre {
            Some(pre) => pre.split('.').map(pre_release).collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        let mut builds = Vec::new();
        for b in build.map(|b| b.split('.')).into_iter().flatten() {
            if b.is_empty() {
                return Err("Build meta data is empty".into());
            }
            if !alphanumeric(b) {
                return Err(format!(
                    "Invalid character(s) found in build meta data {}",
                    go_quote(b.as_bytes())
                ));
            }
            builds.push(b.to_string());
        }
        Ok(Version {
            major,
            minor,
            patch,
            pre,
            build: builds,
        })
    }

    /// Kubernetes' `normalizeAndParse`: one `v` prefix removed, leading
    /// zeros of each dot-separated part removed, missing minor and patch
    /// numbers added; no whitespace trimmed.
    pub fn parse_normalized(s: &str) -> Result<Version, String> {
        let s = s.strip_prefix('v').unwrap_or(s);
        let mut parts: Vec<String> = s
            .splitn(3, '.')
            .map(|p| {
                if p.len() <= 1 {
                    return p.to_string();
                }
                let trimmed = p.trim_start_matches('0');
                if trimmed.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
                    trimmed.to_string()
                } else {
                    format!("0{trimmed}")
                }
            })
            .collect();
        if parts.len() < 3 {
            if parts.last().is_some_and(|p| p.contains(['+', '-'])) {
                return Err("short version cannot contain PreRelease/Build meta data".into());
            }
            parts.resize(3, "0".to_string());
        }
        Version::parse(&parts.join("."))
    }

    /// `Version.Compare` (build metadata ignored).
    pub fn compare(&self, o: &Version) -> Ordering {
        let core = (self.major, self.minor, self.patch).cmp(&(o.major, o.minor, o.patch));
        if core != Ordering::Equal {
            return core;
        }
        match (self.pre.is_empty(), o.pre.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Greater,
            (false, true) => return Ordering::Less,
            (false, false) => {}
        }
        for (a, b) in self.pre.iter().zip(&o.pre) {
            let c = match (a, b) {
                (Pre::Num(x), Pre::Num(y)) => x.cmp(y),
                (Pre::Num(_), Pre::Alpha(_)) => Ordering::Less,
                (Pre::Alpha(_), Pre::Num(_)) => Ordering::Greater,
                (Pre::Alpha(x), Pre::Alpha(y)) => x.as_bytes().cmp(y.as_bytes()),
            };
            if c != Ordering::Equal {
                return c;
            }
        }
        self.pre.len().cmp(&o.pre.len())
    }
}

impl fmt::Display for Version {
    /// `Version.String()`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        for (i, p) in self.pre.iter().enumerate() {
            f.write_str(if i == 0 { "-" } else { "." })?;
            match p {
                Pre::Num(n) => write!(f, "{n}")?,
                Pre::Alpha(s) => f.write_str(s)?,
            }
        }
        for (i, b) in self.build.iter().enumerate() {
            f.write_str(if i == 0 { "+" } else { "." })?;
            f.write_str(b)?;
        }
        Ok(())
    }
}

/// A version value.
#[derive(Debug)]
pub struct Semver(pub Version);

impl Opaque for Semver {
    fn type_name(&self) -> &'static str {
        SEMVER_TYPE
    }
    /// `Version.EQ`: equal precedence.
    fn equals(&self, other: &dyn Opaque) -> bool {
        other
            .as_any()
            .downcast_ref::<Semver>()
            .is_some_and(|o| o.0.compare(&self.0) == Ordering::Equal)
    }
    fn to_string_value(&self) -> Option<String> {
        Some(self.0.to_string())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The string and the `normalize` flag (`false` for the one-argument
/// overloads).
fn source(a: &[Value]) -> Result<(&str, bool), String> {
    match a {
        [s] => Ok((str_arg(s)?, false)),
        [s, Value::Bool(n)] => Ok((str_arg(s)?, *n)),
        _ => Err(no_such_overload()),
    }
}

fn parse(a: &[Value]) -> Result<Version, String> {
    let (s, normalize) = source(a)?;
    if normalize {
        Version::parse_normalized(s)
    } else {
        Version::parse(s)
    }
}

fn semver(a: &[Value]) -> FnResult {
    Ok(Value::Opaque(Arc::new(Semver(parse(a)?))))
}

fn is_semver(a: &[Value]) -> FnResult {
    source(a)?;
    Ok(Value::Bool(parse(a).is_ok()))
}

fn version(v: &Value) -> Result<&Version, String> {
    opaque::<Semver>(v).map(|s| &s.0)
}

fn ordering(a: &[Value]) -> Result<Ordering, String> {
    let [x, y] = a else {
        return Err(no_such_overload());
    };
    Ok(version(x)?.compare(version(y)?))
}

fn is_greater_than(a: &[Value]) -> FnResult {
    Ok(Value::Bool(ordering(a)? == Ordering::Greater))
}

fn is_less_than(a: &[Value]) -> FnResult {
    Ok(Value::Bool(ordering(a)? == Ordering::Less))
}

fn compare_to(a: &[Value]) -> FnResult {
    Ok(Value::Int(ordering(a)? as i64))
}

/// A number as `types.Int(uint64)` converts it (wrapping past int64).
fn part(a: &[Value], f: fn(&Version) -> u64) -> FnResult {
    let [v] = a else {
        return Err(no_such_overload());
    };
    Ok(Value::Int(f(version(v)?) as i64))
}

fn major(a: &[Value]) -> FnResult {
    part(a, |v| v.major)
}

fn minor(a: &[Value]) -> FnResult {
    part(a, |v| v.minor)
}

fn patch(a: &[Value]) -> FnResult {
    part(a, |v| v.patch)
}

/// The semver library.
pub const SEMVER: &[Decl] = &[
    d("semver", None, &["string"], SEMVER_TYPE, semver),
    d("semver", None, &["string", "bool"], SEMVER_TYPE, semver),
    d("isSemver", None, &["string"], "bool", is_semver),
    d("isSemver", None, &["string", "bool"], "bool", is_semver),
    d(
        "isGreaterThan",
        Some(SEMVER_TYPE),
        &[SEMVER_TYPE],
        "bool",
        is_greater_than,
    ),
    d(
        "isLessThan",
        Some(SEMVER_TYPE),
        &[SEMVER_TYPE],
        "bool",
        is_less_than,
    ),
    d(
        "compareTo",
        Some(SEMVER_TYPE),
        &[SEMVER_TYPE],
        "int",
        compare_to,
    ),
    d("major", Some(SEMVER_TYPE), &[], "int", major),
    d("minor", Some(SEMVER_TYPE), &[], "int", minor),
    d("patch", Some(SEMVER_TYPE), &[], "int", patch),
];
