//! Globs as `gobwas/glob` compiles them without separators, which is how
//! `matchImageReferences[].glob` is matched against the image string as
//! written: `*` (and `**`) match any run of characters including `/`, `?`
//! one character, `[abc]`, `[a-z]`, `[!…]` a class, `{a,b}` alternatives
//! (nestable), and `\` escapes the next character.
//!
//! Alternatives are expanded when the glob compiles (at most
//! [`MAX_ALTERNATIVES`] sequences) and every sequence is matched in
//! `O(pattern × input)` time, so no pattern backtracks exponentially.

/// Most sequences a glob's alternatives may expand into.
pub const MAX_ALTERNATIVES: usize = 256;
/// Longest glob accepted.
pub const MAX_GLOB_LEN: usize = 4096;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Literal(char),
    Any,
    Single,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// A compiled glob.
#[derive(Debug, Clone)]
pub struct Glob {
    source: String,
    sequences: Vec<Vec<Token>>,
}

/// Why a glob does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid glob {glob:?}: {reason}")]
pub struct GlobError {
    glob: String,
    reason: String,
}

impl Glob {
    /// Compiles `source`.
    pub fn new(source: &str) -> Result<Self, GlobError> {
        let err = |reason: &str| GlobError {
            glob: source.to_string(),
            reason: reason.to_string(),
        };
        if source.len() > MAX_GLOB_LEN {
            return Err(err("too long"));
        }
        let chars: Vec<char> = source.chars().collect();
        let mut pos = 0;
        let sequences = parse_sequence(&chars, &mut pos, false).map_err(|r| err(&r))?;
        Ok(Glob {
            source: source.to_string(),
            sequences,
        })
    }

    /// The glob as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the whole of `s` matches.
    pub fn matches(&self, s: &str) -> bool {
        let input: Vec<char> = s.chars().collect();
        self.sequences.iter().any(|seq| match_sequence(seq, &input))
    }
}

/// Parses until the end, or (inside braces) until `,` or `}`; returns the
/// alternatives' expansion. Outside braces `,` and `}` are literals.
fn parse_sequence(
    chars: &[char],
    pos: &mut usize,
    in_braces: bool,
) -> Result<Vec<Vec<Token>>, String> {
    let mut out: Vec<Vec<Token>> = vec![Vec::new()];
    while let Some(&c) = chars.get(*pos) {
        match c {
            ',' | '}' if in_braces => break,
            '\\' => {
                // A trailing backslash escapes nothing and is dropped.
                if let Some(next) = chars.get(*pos + 1) {
                    push(&mut out, Token::Literal(*next));
                }
                *pos += 2;
            }
            '*' => {
                push(&mut out, Token::Any);
                *pos += 1;
            }
            '?' => {
                push(&mut out, Token::Single);
                *pos += 1;
            }
            '[' => {
                let token = parse_class(chars, pos)?;
                push(&mut out, token);
            }
            '{' => {
                *pos += 1;
                let mut alternatives: Vec<Vec<Token>> = Vec::new();
                loop {
                    alternatives.extend(parse_sequence(chars, pos, true)?);
                    match chars.get(*pos) {
                        Some(',') => *pos += 1,
                        Some('}') => {
                            *pos += 1;
                            break;
                        }
                        _ => return Err("unclosed '{'".into()),
                    }
                }
                if out.len() * alternatives.len() > MAX_ALTERNATIVES {
                    return Err(format!("more than {MAX_ALTERNATIVES} alternatives"));
                }
                out = out
                    .iter()
                    .flat_map(|prefix| {
                        alternatives.iter().map(move |alt| {
                            let mut seq = prefix.clone();
                            seq.extend(alt.iter().cloned());
                            seq
                        })
                    })
                    .collect();
            }
            c => {
                push(&mut out, Token::Literal(c));
                *pos += 1;
            }
        }
    }
    Ok(out)
}

fn push(out: &mut [Vec<Token>], t: Token) {
    for seq in out.iter_mut() {
        // `**` is `*` without separators.
        if t == Token::Any && seq.last() == Some(&Token::Any) {
            continue;
        }
        seq.push(t.clone());
    }
}

/// `[abc]`, `[a-z]`, `[!…]`, starting at `[`. As in gobwas, a class is
/// either one range or a list of characters (with `\` escapes), not both.
fn parse_class(chars: &[char], pos: &mut usize) -> Result<Token, String> {
    *pos += 1;
    let negated = chars.get(*pos) == Some(&'!');
    if negated {
        *pos += 1;
    }
    let close = |pos: &mut usize| match chars.get(*pos) {
        Some(']') => {
            *pos += 1;
            Ok(())
        }
        Some(_) => Err("expected close range character".to_string()),
        None => Err("unexpected end of input".to_string()),
    };
    let first = *chars.get(*pos).ok_or("unexpected end of input")?;
    if chars.get(*pos + 1) == Some(&'-') {
        let hi = *chars.get(*pos + 2).ok_or("unexpected end of input")?;
        *pos += 3;
        close(pos)?;
        // `[z-a]` matches nothing, as in gobwas.
        return Ok(Token::Class {
            negated,
            ranges: vec![(first, hi)],
        });
    }
    let mut ranges = Vec::new();
    let mut escaped = false;
    while let Some(&c) = chars.get(*pos) {
        if !escaped && c == ']' {
            break;
        }
        *pos += 1;
        if !escaped && c == '\\' {
            escaped = true;
            continue;
        }
        escaped = false;
        ranges.push((c, c));
    }
    close(pos)?;
    if ranges.is_empty() {
        return Err("empty character class".into());
    }
    Ok(Token::Class { negated, ranges })
}

/// Dynamic programming over (token, character): `reach[j]` says the
/// tokens so far can consume exactly the first `j` characters.
fn match_sequence(seq: &[Token], input: &[char]) -> bool {
    let mut reach = vec![false; input.len() + 1];
    reach[0] = true;
    for t in seq {
        let mut next = vec![false; input.len() + 1];
        match t {
            Token::Any => {
                let mut on = false;
                for j in 0..=input.len() {
                    on |= reach[j];
                    next[j] = on;
                }
            }
            _ => {
                for j in 0..input.len() {
                    if reach[j] && single_matches(t, input[j]) {
                        next[j + 1] = true;
                    }
                }
            }
        }
        reach = next;
        if !reach.iter().any(|r| *r) {
            return false;
        }
    }
    reach[input.len()]
}

fn single_matches(t: &Token, c: char) -> bool {
    match t {
        Token::Literal(l) => *l == c,
        Token::Single => true,
        Token::Class { negated, ranges } => {
            ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated
        }
        Token::Any => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(glob: &str, s: &str) -> bool {
        Glob::new(glob).unwrap_or_else(|e| panic!("{e}")).matches(s)
    }

    #[test]
    fn matches_as_gobwas_without_separators() {
        assert!(m("docker.io/*", "docker.io/library/nginx:1"));
        // The raw string: `nginx` is not spelt `docker.io/…`.
        assert!(!m("docker.io/*", "nginx"));
        assert!(m("ghcr.io/kyverno/*", "ghcr.io/kyverno/a/b@sha256:00"));
        assert!(m("*", ""));
        assert!(m("**", "a/b"));
        assert!(m("ghcr.io/?/x", "ghcr.io/a/x"));
        assert!(!m("ghcr.io/?/x", "ghcr.io/ab/x"));
        assert!(m("reg[0-9].io/*", "reg7.io/a"));
        assert!(!m("reg[!0-9].io/*", "reg7.io/a"));
        assert!(m("{ghcr.io,quay.io}/org/*", "quay.io/org/app"));
        assert!(m("{a,b{c,d}}x", "bdx"));
        assert!(!m("{a,b{c,d}}x", "bx"));
        assert!(m("a\\*b", "a*b"));
        assert!(!m("a\\*b", "axb"));
        assert!(!m("ghcr.io/app", "ghcr.io/app:1"));
        // No exponential backtracking.
        let long = "a".repeat(3000);
        assert!(!m(&format!("{}b", "*a".repeat(50)), &long));
        assert!(m("[a-c]x", "bx") && !m("[!a-c]x", "bx") && m("[\\]]", "]"));
        assert!(!m("[z-a]", "m") && m("[!z-a]", "m"));
        assert!(m("ab\\", "ab"));
        for bad in ["[", "[]", "{a,b", "[a-z0-9]", "[a-"] {
            assert!(Glob::new(bad).is_err(), "{bad}");
        }
        assert!(Glob::new(&"{a,b}".repeat(9)).is_err());
    }
}
