//! `semver_compare`: semantic versions and ranges as
//! `github.com/blang/semver/v4` reads them.

use jmespath::Rcvar;

use super::{arg_str, boolean};

#[derive(Clone, Debug, PartialEq, Eq)]
enum PreRelease {
    Num(u64),
    Str(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct SemVer {
    major: u64,
    minor: u64,
    patch: u64,
    pre: Vec<PreRelease>,
}

fn only(s: &str, allowed: impl Fn(char) -> bool) -> bool {
    s.chars().all(allowed)
}

fn is_alnum(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

fn leading_zeroes(s: &str) -> bool {
    s.len() > 1 && s.starts_with('0')
}

fn parse_uint(s: &str) -> Result<u64, String> {
    if s.is_empty() || !only(s, |c| c.is_ascii_digit()) {
        return Err(format!("strconv.ParseUint: parsing {s:?}: invalid syntax"));
    }
    s.parse()
        .map_err(|_| format!("strconv.ParseUint: parsing {s:?}: value out of range"))
}

impl SemVer {
    /// `semver.Parse`.
    fn parse(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Err("Version string empty".to_string());
        }
        let parts: Vec<&str> = s.splitn(3, '.').collect();
        let [major, minor, rest] = parts[..] else {
            return Err("No Major.Minor.Patch elements found".to_string());
        };
        let number = |part: &str, what: &str| -> Result<u64, String> {
            if !only(part, |c| c.is_ascii_digit()) {
                return Err(format!(
                    "Invalid character(s) found in {what} number {part:?}"
                ));
            }
            if leading_zeroes(part) {
                let what = match what {
                    "major" => "Major",
                    "minor" => "Minor",
                    _ => "Patch",
                };
                return Err(format!(
                    "{what} number must not contain leading zeroes {part:?}"
                ));
            }
            parse_uint(part)
        };
        let major = number(major, "major")?;
        let minor = number(minor, "minor")?;
        let mut patch = rest;
        let mut build: Vec<&str> = Vec::new();
        let mut prerelease: Vec<&str> = Vec::new();
        if let Some((p, b)) = patch.split_once('+') {
            build = b.split('.').collect();
            patch = p;
        }
        if let Some((p, pr)) = patch.split_once('-') {
            prerelease = pr.split('.').collect();
            patch = p;
        }
        let patch = number(patch, "patch")?;
        let mut pre = Vec::with_capacity(prerelease.len());
        for p in prerelease {
            if p.is_empty() {
                return Err("Prerelease is empty".to_string());
            }
            if only(p, |c| c.is_ascii_digit()) {
                if leading_zeroes(p) {
                    return Err(format!(
                        "Numeric PreRelease version must not contain leading zeroes {p:?}"
                    ));
                }
                pre.push(PreRelease::Num(parse_uint(p)?));
            } else if only(p, is_alnum) {
                pre.push(PreRelease::Str(p.to_string()));
            } else {
                return Err(format!("Invalid character(s) found in prerelease {p:?}"));
            }
        }
        for b in build {
            if b.is_empty() {
                return Err("Build meta data is empty".to_string());
            }
            if !only(b, is_alnum) {
                return Err(format!(
                    "Invalid character(s) found in build meta data {b:?}"
                ));
            }
        }
        Ok(SemVer {
            major,
            minor,
            patch,
            pre,
        })
    }

    fn compare(&self, o: &SemVer) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        let core = (self.major, self.minor, self.patch).cmp(&(o.major, o.minor, o.patch));
        if core != Ordering::Equal {
            return core;
        }
        match (self.pre.is_empty(), o.pre.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Greater,
            (false, true) => return Ordering::Less,
            _ => {}
        }
        for (a, b) in self.pre.iter().zip(&o.pre) {
            let c = match (a, b) {
                (PreRelease::Num(x), PreRelease::Num(y)) => x.cmp(y),
                (PreRelease::Str(x), PreRelease::Str(y)) => x.cmp(y),
                (PreRelease::Num(_), PreRelease::Str(_)) => Ordering::Less,
                (PreRelease::Str(_), PreRelease::Num(_)) => Ordering::Greater,
            };
            if c != Ordering::Equal {
                return c;
            }
        }
        self.pre.len().cmp(&o.pre.len())
    }
}

/// blang's `splitAndTrim`: splits on spaces not preceded by `<`, `>`, `=`
/// (parts of a single character are dropped, as blang drops them).
fn semver_split_and_trim(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    let mut result = Vec::new();
    let mut last: isize = 0;
    let mut last_char = 0u8;
    for (i, &c) in b.iter().enumerate() {
        let i = i as isize;
        if c == b' ' && !matches!(last_char, b'>' | b'<' | b'=') {
            if last < i - 1 {
                result.push(String::from_utf8_lossy(&b[last as usize..i as usize]).into_owned());
            }
            last = i + 1;
        } else if c != b' ' {
            last_char = c;
        }
    }
    if last < b.len() as isize - 1 {
        result.push(String::from_utf8_lossy(&b[last as usize..]).into_owned());
    }
    result.into_iter().map(|p| p.replace(' ', "")).collect()
}

/// blang's `splitComparatorVersion`.
fn split_comparator_version(s: &str) -> Result<(String, String), String> {
    let i = s
        .char_indices()
        .find(|(_, c)| c.is_numeric())
        .map(|(i, _)| i)
        .ok_or_else(|| format!("Could not get version from string: {s:?}"))?;
    Ok((s[..i].trim().to_string(), s[i..].to_string()))
}

/// blang's `expandWildcardVersion`.
fn expand_wildcards(parts: Vec<Vec<String>>) -> Result<Vec<Vec<String>>, String> {
    let increment = |v: &str, index: usize| -> String {
        let mut ps: Vec<String> = v.split('.').map(str::to_string).collect();
        match ps.get(index).and_then(|p| p.parse::<i64>().ok()) {
            Some(n) => {
                ps[index] = (n + 1).to_string();
                ps.join(".")
            }
            None => String::new(),
        }
    };
    let mut expanded = Vec::with_capacity(parts.len());
    for p in parts {
        let mut new_parts = Vec::new();
        for ap in p {
            if !ap.contains('x') {
                new_parts.push(ap);
                continue;
            }
            let (op, v) = split_comparator_version(&ap)?;
            let segments: Vec<&str> = v.split('.').collect();
            // 2 segments: minor wildcard; 3: patch wildcard (when the last is `x`).
            let wildcard = if segments.last() == Some(&"x") {
                segments.len()
            } else {
                0
            };
            let flat = {
                let f = v.replacen(".x.x", ".x", 1).replacen(".x", ".0", 1);
                if f.split('.').count() == 2 {
                    format!("{f}.0")
                } else {
                    f
                }
            };
            let (result_op, should_increment) = match op.as_str() {
                ">" => (">=", true),
                ">=" => (">=", false),
                "<" => ("<", false),
                "<=" => ("<", true),
                "" | "=" | "==" => {
                    new_parts.push(format!(">={flat}"));
                    ("<", true)
                }
                "!=" | "!" => {
                    new_parts.push(format!("<{flat}"));
                    (">=", true)
                }
                _ => ("", false),
            };
            let version = if should_increment {
                match wildcard {
                    3 => increment(&flat, 1),
                    2 => increment(&flat, 0),
                    _ => String::new(),
                }
            } else {
                flat
            };
            new_parts.push(format!("{result_op}{version}"));
        }
        expanded.push(new_parts);
    }
    Ok(expanded)
}

/// `semver.ParseRange(r)(v)`.
fn semver_in_range(version: &SemVer, range: &str) -> Result<bool, String> {
    let parts = semver_split_and_trim(range);
    let mut or_parts: Vec<Vec<String>> = Vec::new();
    let mut last = 0;
    for (i, p) in parts.iter().enumerate() {
        if p == "||" {
            if i == 0 {
                return Err("First element in range is '||'".to_string());
            }
            or_parts.push(parts[last..i].to_vec());
            last = i + 1;
        }
    }
    if last == parts.len() {
        return Err("Last element in range is '||'".to_string());
    }
    or_parts.push(parts[last..].to_vec());
    let expanded = expand_wildcards(or_parts)?;
    // Build every comparator first: a later parse error fails the range.
    let mut alternatives = Vec::with_capacity(expanded.len());
    for and_parts in &expanded {
        let mut all = Vec::with_capacity(and_parts.len());
        for ap in and_parts {
            let (op, v) = split_comparator_version(ap)?;
            let accept: fn(std::cmp::Ordering) -> bool = match op.as_str() {
                "" | "=" | "==" => |o| o.is_eq(),
                "!" | "!=" => |o| o.is_ne(),
                ">" => |o| o.is_gt(),
                ">=" => |o| o.is_ge(),
                "<" => |o| o.is_lt(),
                "<=" => |o| o.is_le(),
                _ => {
                    return Err(format!(
                        "Could not parse comparator {op:?} in {:?}",
                        format!("{op}{v}")
                    ));
                }
            };
            let bound = SemVer::parse(&v).map_err(|e| {
                format!(
                    "Could not parse Range {ap:?}: Could not parse version {v:?} in {:?}: {e}",
                    format!("{op}{v}")
                )
            })?;
            all.push((accept, bound));
        }
        alternatives.push(all);
    }
    Ok(alternatives.iter().any(|all| {
        all.iter()
            .all(|(accept, bound)| accept(version.compare(bound)))
    }))
}

pub(super) fn jp_semver_compare(args: &[Rcvar]) -> Result<Rcvar, String> {
    let v = arg_str("semver_compare", args, 0)?;
    let r = arg_str("semver_compare", args, 1)?;
    // Kyverno ignores a version that does not parse (it compares 0.0.0).
    let version = SemVer::parse(v).unwrap_or_default();
    semver_in_range(&version, r).map(boolean)
}

#[cfg(test)]
mod tests {
    use crate::conditions::functions::tests::{qe, table};
    use serde_json::json;

    #[test]
    fn semver_compare() {
        table(&[
            ("semver_compare('4.1.3', '>=4.1.x')", json!(true)),
            // blang expands `!4.x.x` to `<4.0.0 >=4.1.0`, which nothing matches.
            ("semver_compare('4.1.3', '!4.x.x')", json!(false)),
            ("semver_compare('5.0.0', '!4.x.x')", json!(false)),
            ("semver_compare('1.8.6', '>1.0.0 <2.0.0')", json!(true)),
            ("semver_compare('2.1.5', '<2.0.0 || >=3.0.0')", json!(false)),
            ("semver_compare('3.1.5', '<2.0.0 || >=3.0.0')", json!(true)),
            ("semver_compare('1.2.3', '1.2.4')", json!(false)),
            ("semver_compare('1.2.3', '1.2.3')", json!(true)),
            ("semver_compare('1.2.3', '=1.2.3')", json!(true)),
            ("semver_compare('1.2.3', '==1.2.3')", json!(true)),
            ("semver_compare('1.2.3', '!=1.2.3')", json!(false)),
            ("semver_compare('1.2.3', '> 1.0.0')", json!(true)),
            ("semver_compare('1.2.3', '1.2.x')", json!(true)),
            ("semver_compare('1.3.0', '1.2.x')", json!(false)),
            ("semver_compare('1.9.0', '1.x')", json!(true)),
            ("semver_compare('2.0.0', '<=1.x')", json!(false)),
            ("semver_compare('1.99.0', '<=1.x')", json!(true)),
            ("semver_compare('1.3.0', '>1.2.x')", json!(true)),
            ("semver_compare('1.2.9', '>1.2.x')", json!(false)),
            ("semver_compare('1.0.0-alpha', '<1.0.0')", json!(true)),
            (
                "semver_compare('1.0.0-alpha.1', '>1.0.0-alpha')",
                json!(true),
            ),
            (
                "semver_compare('1.0.0-alpha.beta', '>1.0.0-alpha.1')",
                json!(true),
            ),
            ("semver_compare('1.0.0-2', '<1.0.0-10')", json!(true)),
            ("semver_compare('1.0.0+build.1', '1.0.0')", json!(true)),
            // A version that does not parse is 0.0.0 to Kyverno.
            ("semver_compare('v1.2.3', '>=1.0.0')", json!(false)),
            ("semver_compare('1.2', '<0.0.1')", json!(true)),
        ]);
        assert_eq!(
            qe("semver_compare('1.0.0', '>=1.0')"),
            "Could not parse Range \">=1.0\": Could not parse version \"1.0\" in \">=1.0\": No Major.Minor.Patch elements found"
        );
        assert_eq!(
            qe("semver_compare('1.0.0', '|| >1.0.0')"),
            "First element in range is '||'"
        );
        assert_eq!(
            qe("semver_compare('1.0.0', '>1.0.0 ||')"),
            "Last element in range is '||'"
        );
        assert!(qe("semver_compare('1.0.0', 'abc')").contains("Could not get version"));
        assert!(qe("semver_compare('1.0.0', '~1.0.0')").contains("Could not parse comparator"));
        assert!(qe("semver_compare('1.0.0', '>=01.0.0')").contains("leading zeroes"));
    }
}
