//! Kyverno's wildcard matching (go-wildcard v1 semantics).
//!
//! `*` matches any run of characters (including `/` and the empty run), `?`
//! matches exactly one character (including `/`), everything else matches
//! itself. The whole string must match; matching is case-sensitive and there
//! is no escaping, no character class and no `**`. A glob library is not used
//! here because globs give `[`, `{` and `\` special meaning that Kyverno does not.

/// Whether `text` matches `pattern`.
pub fn matches(pattern: &str, text: &str) -> bool {
    if pattern.is_empty() {
        return text.is_empty();
    }
    if pattern == "*" {
        return true;
    }
    if !contains_wildcard(pattern) {
        return pattern == text;
    }
    // `?` is one character: on ASCII text a byte, otherwise a `char`.
    if pattern.is_ascii() && text.is_ascii() {
        return matches_units(pattern.as_bytes(), text.as_bytes(), b'*', b'?');
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    matches_units(&p, &t, '*', '?')
}

/// Iterative matching with single-star backtracking: linear in practice,
/// O(|p|·|t|) worst case, no recursion, no allocation.
fn matches_units<T: Copy + PartialEq>(p: &[T], t: &[T], any_run: T, any_one: T) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == any_one || (p[pi] != any_run && p[pi] == t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == any_run {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == any_run)
}

/// Whether `s` contains `*` or `?`.
pub fn contains_wildcard(s: &str) -> bool {
    // Bytes, not chars: `*` and `?` are ASCII, and this runs on every match.
    s.bytes().any(|b| b == b'*' || b == b'?')
}

/// Whether any pattern matches `text`.
pub fn matches_any<S: AsRef<str>>(patterns: &[S], text: &str) -> bool {
    patterns.iter().any(|p| matches(p.as_ref(), text))
}

/// The first `(pattern, name)` pair that matches, iterating names outermost.
pub fn first_match<'a, S: AsRef<str>, N: AsRef<str>>(
    patterns: &'a [S],
    names: &'a [N],
) -> Option<(&'a str, &'a str)> {
    names.iter().find_map(|n| {
        patterns
            .iter()
            .find(|p| matches(p.as_ref(), n.as_ref()))
            .map(|p| (p.as_ref(), n.as_ref()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basics() {
        assert!(matches("ghcr.io/*", "ghcr.io/a/b/c:tag"));
        assert!(!matches("ghcr.io/*", "docker.io/a"));
        assert!(matches("a?c", "a/c"));
        assert!(!matches("[a]", "a"));
        assert!(matches("[a]", "[a]"));
        assert!(matches("**", ""));
        // `?` is one character, not one byte.
        assert!(matches("caf?", "café"));
        assert!(!matches("caf??", "café"));
        assert!(matches("*é*", "aéb"));
        assert!(matches("exact", "exact"));
        assert!(!matches("exact", "exactly"));
    }
}
