//! String functions: case, trimming, replacing and splitting, regular
//! expressions and wildcards, label matching, paths, base64 and `random`.

use jmespath::{Rcvar, Variable};

use super::numbers::go_f64_to_i64;
use super::{
    arg, arg_num, arg_str, boolean, generic, iface_to_string, number, string, type_error, var,
};

/// Largest string a growing function may produce (unless its input is larger).
const MAX_RESULT_BYTES: usize = 1024 * 1024;

/// Most parts `split` may produce.
pub(super) const MAX_SPLIT_PARTS: usize = 1 << 18;

/// Refuses a grown string past the bound.
fn check_size(function: &str, len: usize, input_len: usize) -> Result<(), String> {
    if len > MAX_RESULT_BYTES.max(input_len) {
        return Err(generic(
            function,
            &format!("the result would exceed {MAX_RESULT_BYTES} bytes"),
        ));
    }
    Ok(())
}

pub(super) fn jp_compare(args: &[Rcvar]) -> Result<Rcvar, String> {
    let a = arg_str("compare", args, 0)?;
    let b = arg_str("compare", args, 1)?;
    number(match a.cmp(b) {
        std::cmp::Ordering::Less => -1.0,
        std::cmp::Ordering::Equal => 0.0,
        std::cmp::Ordering::Greater => 1.0,
    })
}

/// Go's `unicode.SimpleFold`-based equality of two runes, approximated with
/// the single-rune case mappings.
fn fold_eq(a: char, b: char) -> bool {
    // The dotted and dotless i fold to nothing else.
    let special = |c| c == '\u{130}' || c == '\u{131}';
    a == b
        || (!special(a)
            && !special(b)
            && (simple_lower(a) == simple_lower(b) || simple_upper(a) == simple_upper(b)))
}

/// Go's `unicode.ToLower`: the one-rune mapping, or the rune itself.
fn simple_lower(c: char) -> char {
    if c == '\u{130}' {
        // The only rune whose full lowercase differs from its simple one.
        return 'i';
    }
    let mut it = c.to_lowercase();
    match (it.next(), it.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// Go's `unicode.ToUpper`: the one-rune mapping, or the rune itself.
fn simple_upper(c: char) -> char {
    let mut it = c.to_uppercase();
    match (it.next(), it.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

pub(super) fn jp_equal_fold(args: &[Rcvar]) -> Result<Rcvar, String> {
    let a = arg_str("equal_fold", args, 0)?;
    let b = arg_str("equal_fold", args, 1)?;
    let mut x = a.chars();
    let mut y = b.chars();
    loop {
        match (x.next(), y.next()) {
            (None, None) => return Ok(boolean(true)),
            (Some(p), Some(q)) if fold_eq(p, q) => {}
            _ => return Ok(boolean(false)),
        }
    }
}

/// Go's `strings.Replace` (`n < 0`: every instance), bounded.
fn replace_n(function: &str, s: &str, old: &str, new: &str, n: i64) -> Result<String, String> {
    if n == 0 || old == new {
        return Ok(s.to_string());
    }
    let limit = usize::try_from(n).unwrap_or(usize::MAX);
    let count = if old.is_empty() {
        (s.chars().count() + 1).min(limit)
    } else {
        s.matches(old).take(limit).count()
    };
    let len = s
        .len()
        .saturating_sub(count.saturating_mul(old.len()))
        .saturating_add(count.saturating_mul(new.len()));
    check_size(function, len, s.len())?;
    Ok(s.replacen(old, new, count))
}

pub(super) fn jp_replace(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("replace", args, 0)?;
    let old = arg_str("replace", args, 1)?;
    let new = arg_str("replace", args, 2)?;
    let n = go_f64_to_i64(arg_num("replace", args, 3)?);
    replace_n("replace", s, old, new, n).map(string)
}

pub(super) fn jp_replace_all(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("replace_all", args, 0)?;
    let old = arg_str("replace_all", args, 1)?;
    let new = arg_str("replace_all", args, 2)?;
    replace_n("replace_all", s, old, new, -1).map(string)
}

pub(super) fn jp_to_upper(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("to_upper", args, 0)?;
    Ok(string(s.chars().map(simple_upper).collect::<String>()))
}

pub(super) fn jp_to_lower(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("to_lower", args, 0)?;
    Ok(string(s.chars().map(simple_lower).collect::<String>()))
}

pub(super) fn jp_trim(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("trim", args, 0)?;
    let cutset = arg_str("trim", args, 1)?;
    Ok(string(s.trim_matches(|c| cutset.contains(c))))
}

pub(super) fn jp_trim_prefix(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("trim_prefix", args, 0)?;
    let prefix = arg_str("trim_prefix", args, 1)?;
    Ok(string(s.strip_prefix(prefix).unwrap_or(s)))
}

pub(super) fn jp_split(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("split", args, 0)?;
    let sep = arg_str("split", args, 1)?;
    let parts: Vec<&str> = if sep.is_empty() {
        s.char_indices()
            .map(|(i, c)| &s[i..i + c.len_utf8()])
            .take(MAX_SPLIT_PARTS + 1)
            .collect()
    } else {
        s.split(sep).take(MAX_SPLIT_PARTS + 1).collect()
    };
    if parts.len() > MAX_SPLIT_PARTS {
        return Err(generic(
            "split",
            &format!("the result would have more than {MAX_SPLIT_PARTS} parts"),
        ));
    }
    Ok(var(Variable::Array(
        parts.into_iter().map(string).collect(),
    )))
}

fn compile_regex(function: &str, pattern: &str) -> Result<regex_lite::Regex, String> {
    regex_lite::Regex::new(pattern).map_err(|e| generic(function, &e.to_string()))
}

fn regex_replace(args: &[Rcvar], function: &str, literal: bool) -> Result<Rcvar, String> {
    let pattern = arg_str(function, args, 0)?;
    let src =
        iface_to_string(arg(args, 1)).ok_or_else(|| type_error(function, 2, "String or Real"))?;
    let repl =
        iface_to_string(arg(args, 2)).ok_or_else(|| type_error(function, 3, "String or Real"))?;
    let re = compile_regex(function, pattern)?;
    let mut out = String::new();
    let mut last = 0;
    for caps in re.captures_iter(&src) {
        let Some(m) = caps.get(0) else { continue };
        out.push_str(&src[last..m.start()]);
        if literal {
            out.push_str(&repl);
            check_size(function, out.len(), src.len())?;
        } else {
            go_expand(function, &re, &caps, &repl, &mut out, src.len())?;
        }
        last = m.end();
    }
    out.push_str(&src[last..]);
    check_size(function, out.len(), src.len())?;
    Ok(string(out))
}

/// Go's `Regexp.Expand`: `$1`, `${1}`, `$name`, `${name}`, `$$`; an
/// unknown group is empty, a malformed reference is a literal `$`. Bounded
/// as it grows.
fn go_expand(
    function: &str,
    re: &regex_lite::Regex,
    caps: &regex_lite::Captures<'_>,
    template: &str,
    out: &mut String,
    input_len: usize,
) -> Result<(), String> {
    let mut rest = template;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        rest = &rest[dollar + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
            continue;
        }
        let (brace, body) = match rest.strip_prefix('{') {
            Some(b) => (true, b),
            None => (false, rest),
        };
        let name_len: usize = body
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .map(char::len_utf8)
            .sum();
        let closed = !brace || body[name_len..].starts_with('}');
        if name_len == 0 || !closed {
            out.push('$');
            continue;
        }
        let name = &body[..name_len];
        rest = &body[name_len + usize::from(brace)..];
        let number = if name.bytes().all(|b| b.is_ascii_digit())
            && name.len() <= 8
            && !(name.len() > 1 && name.starts_with('0'))
        {
            name.parse::<usize>().ok()
        } else {
            None
        };
        let group = match number {
            Some(i) => caps.get(i),
            None => re
                .capture_names()
                .position(|n| n == Some(name))
                .and_then(|i| caps.get(i)),
        };
        if let Some(g) = group {
            out.push_str(g.as_str());
        }
        check_size(function, out.len(), input_len)?;
    }
    out.push_str(rest);
    check_size(function, out.len(), input_len)
}

pub(super) fn jp_regex_replace_all(args: &[Rcvar]) -> Result<Rcvar, String> {
    regex_replace(args, "regex_replace_all", false)
}

pub(super) fn jp_regex_replace_all_literal(args: &[Rcvar]) -> Result<Rcvar, String> {
    regex_replace(args, "regex_replace_all_literal", true)
}

pub(super) fn jp_regex_match(args: &[Rcvar]) -> Result<Rcvar, String> {
    let pattern = arg_str("regex_match", args, 0)?;
    let src = iface_to_string(arg(args, 1))
        .ok_or_else(|| type_error("regex_match", 2, "String or Real"))?;
    // Go's regexp.Match returns the compile error as it is.
    let re = regex_lite::Regex::new(pattern).map_err(|e| e.to_string())?;
    Ok(boolean(re.is_match(&src)))
}

pub(super) fn jp_pattern_match(args: &[Rcvar]) -> Result<Rcvar, String> {
    let pattern = arg_str("pattern_match", args, 0)?;
    let src = iface_to_string(arg(args, 1))
        .ok_or_else(|| type_error("pattern_match", 2, "String or Real"))?;
    Ok(boolean(crate::wildcard::matches(pattern, &src)))
}

pub(super) fn jp_random(args: &[Rcvar]) -> Result<Rcvar, String> {
    let pattern = arg_str("random", args, 0)?;
    if pattern.is_empty() {
        return Err("no pattern provided".to_string());
    }
    Err(generic(
        "random",
        "not supported offline: the engine has no source of randomness",
    ))
}

/// Go's deep equality of two decoded JSON values.
fn deep_equal(a: &Variable, b: &Variable) -> bool {
    match (a, b) {
        (Variable::Null, Variable::Null) => true,
        (Variable::Bool(x), Variable::Bool(y)) => x == y,
        (Variable::String(x), Variable::String(y)) => x == y,
        (Variable::Number(_), Variable::Number(_)) => a.as_number() == b.as_number(),
        (Variable::Array(x), Variable::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| deep_equal(p, q))
        }
        (Variable::Object(x), Variable::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| deep_equal(v, w)))
        }
        _ => false,
    }
}

pub(super) fn jp_label_match(args: &[Rcvar]) -> Result<Rcvar, String> {
    let labels = arg(args, 0)
        .as_object()
        .ok_or_else(|| type_error("label_match", 0, "Object"))?;
    let candidate = arg(args, 1)
        .as_object()
        .ok_or_else(|| type_error("label_match", 1, "Object"))?;
    Ok(boolean(labels.iter().all(|(k, v)| {
        candidate.get(k).is_some_and(|w| deep_equal(v, w))
    })))
}

pub(super) fn jp_to_boolean(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("to_boolean", args, 0)?;
    match s.to_lowercase().as_str() {
        "true" => Ok(boolean(true)),
        "false" => Ok(boolean(false)),
        _ => Err(generic(
            "to_boolean",
            &format!("lowercase argument must be 'true' or 'false' (provided: '{s}')"),
        )),
    }
}

/// Go's `base64.StdEncoding`: padded, newlines ignored, trailing bits not
/// checked.
fn b64_std() -> base64::engine::GeneralPurpose {
    base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireCanonical),
    )
}

fn b64_decode(s: &str) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    let cleaned: Vec<u8> = s.bytes().filter(|b| !matches!(b, b'\r' | b'\n')).collect();
    b64_std().decode(&cleaned).map_err(|e| {
        let at = match e {
            base64::DecodeError::InvalidByte(i, _)
            | base64::DecodeError::InvalidLastSymbol { offset: i, .. } => i,
            _ => cleaned.len(),
        };
        format!("illegal base64 data at input byte {at}")
    })
}

pub(super) fn b64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    b64_std().encode(bytes)
}

pub(super) fn jp_base64_decode(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("base64_decode", args, 0)?;
    let bytes = b64_decode(s)?;
    Ok(string(String::from_utf8_lossy(&bytes).into_owned()))
}

pub(super) fn jp_base64_encode(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("base64_encode", args, 0)?;
    Ok(string(b64_encode(s.as_bytes())))
}

/// Go's `path.Clean` (`filepath.Clean` on Linux).
fn go_clean_path(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let p = path.as_bytes();
    let n = p.len();
    let rooted = p[0] == b'/';
    let mut out: Vec<u8> = Vec::with_capacity(n);
    let (mut r, mut dotdot) = (0, 0);
    if rooted {
        out.push(b'/');
        r = 1;
        dotdot = 1;
    }
    while r < n {
        if p[r] == b'/' || (p[r] == b'.' && (r + 1 == n || p[r + 1] == b'/')) {
            r += 1;
        } else if p[r] == b'.' && p.get(r + 1) == Some(&b'.') && (r + 2 == n || p[r + 2] == b'/') {
            r += 2;
            if out.len() > dotdot {
                // Back up to (and drop) the previous separator.
                let mut w = out.len() - 1;
                while w > dotdot && out[w] != b'/' {
                    w -= 1;
                }
                out.truncate(w);
            } else if !rooted {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(b"..");
                dotdot = out.len();
            }
        } else {
            if (rooted && out.len() != 1) || (!rooted && !out.is_empty()) {
                out.push(b'/');
            }
            while r < n && p[r] != b'/' {
                out.push(p[r]);
                r += 1;
            }
        }
    }
    if out.is_empty() {
        return ".".to_string();
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(super) fn jp_path_canonicalize(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("path_canonicalize", args, 0)?;
    // filepath.Join of one element: empty stays empty.
    Ok(string(if s.is_empty() {
        String::new()
    } else {
        go_clean_path(s)
    }))
}

pub(super) fn jp_truncate(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("truncate", args, 0)?;
    let length = arg_num("truncate", args, 1)?;
    let length = if length < 0.0 || length.is_nan() {
        0
    } else if length >= usize::MAX as f64 {
        usize::MAX
    } else {
        length as usize
    };
    Ok(string(s.chars().take(length).collect::<String>()))
}

#[cfg(test)]
mod tests {
    use crate::conditions::functions::tests::{fails, qd, qe, table};
    use serde_json::json;

    #[test]
    fn compare_and_equal_fold() {
        table(&[
            ("compare('a', 'a')", json!(0)),
            ("compare('a', 'b')", json!(-1)),
            ("compare('b', 'a')", json!(1)),
            ("equal_fold('Go', 'go')", json!(true)),
            ("equal_fold('a', 'b')", json!(false)),
            ("equal_fold('1', 'b')", json!(false)),
            ("equal_fold('pizza', 'pIzZa')", json!(true)),
            ("equal_fold('pizza', 'APPLE')", json!(false)),
            ("equal_fold('ΣΑΣ', 'σας')", json!(true)),
            ("equal_fold('Straße', 'STRASSE')", json!(false)),
        ]);
        assert_eq!(
            qe("compare(`1`, 'b')"),
            "JMESPath function 'compare': argument #1 is not of type string"
        );
        assert_eq!(
            qe("equal_fold('a', `1`)"),
            "JMESPath function 'equal_fold': argument #2 is not of type string"
        );
    }

    #[test]
    fn replace_and_replace_all() {
        table(&[
            (
                "replace('Lorem ipsum dolor sit amet', 'ipsum', 'muspi', `-1`)",
                json!("Lorem muspi dolor sit amet"),
            ),
            (
                "replace('Lorem ipsum ipsum ipsum dolor sit amet', 'ipsum', 'muspi', `-1`)",
                json!("Lorem muspi muspi muspi dolor sit amet"),
            ),
            (
                "replace('Lorem ipsum ipsum ipsum dolor sit amet', 'ipsum', 'muspi', `1`)",
                json!("Lorem muspi ipsum ipsum dolor sit amet"),
            ),
            (
                "replace('Lorem ipsum dolor sit amet foo ipsum bar ipsum', 'ipsum', 'muspi', `2`)",
                json!("Lorem muspi dolor sit amet foo muspi bar ipsum"),
            ),
            ("replace('aaa', 'a', 'b', `0`)", json!("aaa")),
            ("replace('abc', '', '-', `-1`)", json!("-a-b-c-")),
            ("replace('abc', '', '-', `2`)", json!("-a-bc")),
            (
                "replace_all('Lorem ipsum dolor sit amet', 'ipsum', 'muspi')",
                json!("Lorem muspi dolor sit amet"),
            ),
            (
                "replace_all('Lorem ipsum ipsum ipsum dolor sit amet', 'ipsum', 'muspi')",
                json!("Lorem muspi muspi muspi dolor sit amet"),
            ),
        ]);
        fails(&[
            "replace(`1`, 'ipsum', 'muspi', `1`)",
            "replace('Lorem', `1`, 'muspi', `1`)",
            "replace('Lorem', 'ipsum', `false`, `1`)",
            "replace('Lorem', 'ipsum', 'muspi', `true`)",
            "replace_all(`1`, 'ipsum', 'muspi')",
            "replace_all('Lorem', 'ipsum', `false`)",
        ]);
    }

    #[test]
    fn case_trim_split() {
        table(&[
            ("to_upper('abc')", json!("ABC")),
            ("to_upper('123')", json!("123")),
            ("to_upper('a#%&123Bc')", json!("A#%&123BC")),
            ("to_upper('straße')", json!("STRAßE")),
            ("to_lower('ABC')", json!("abc")),
            ("to_lower('123')", json!("123")),
            ("to_lower('A#%&123BC')", json!("a#%&123bc")),
            (
                "trim('¡¡¡Hello, Gophers!!!', '!¡')",
                json!("Hello, Gophers"),
            ),
            ("trim('foocorpcom', 'mo')", json!("foocorpc")),
            ("trim('foocorpcom', 'o')", json!("foocorpcom")),
            ("trim('foocorpcom', 'mcof')", json!("rp")),
            ("trim('abc', '')", json!("abc")),
            (
                "trim_prefix('¡¡¡Hello, Gophers!!!', '¡¡¡Hello, ')",
                json!("Gophers!!!"),
            ),
            (
                "trim_prefix('¡¡¡Hello, Gophers!!!', '¡¡¡Hola, ')",
                json!("¡¡¡Hello, Gophers!!!"),
            ),
            (
                "trim_prefix('docker://kubevirt/fedora-cloud-registry-disk-demo', 'docker://')",
                json!("kubevirt/fedora-cloud-registry-disk-demo"),
            ),
            ("split('Hello, Gophers', ', ')", json!(["Hello", "Gophers"])),
            (
                "split('cat,dog,horse', ',')",
                json!(["cat", "dog", "horse"]),
            ),
            ("split('', ',')", json!([""])),
            ("split('añb', '')", json!(["a", "ñ", "b"])),
            ("split('', '')", json!([])),
            ("split('/foo/bar', '/') | [1]", json!("foo")),
            ("starts_with('Gophers', 'Go')", json!(true)),
            ("ends_with('Amigo', 'go')", json!(true)),
        ]);
        fails(&[
            "to_upper(`32`)",
            "to_lower(`32`)",
            "trim_prefix(`1`, 'a')",
            "trim_prefix('a', `1`)",
        ]);
    }

    #[test]
    fn regex_and_pattern_match() {
        let data = json!({"foo": "hgf'b1a2r'b12g", "num": -12.0, "name": "prefix-foo"});
        assert_eq!(qd("regex_match('12.*', foo)", &data), json!(true));
        assert_eq!(qd("regex_match('12.*', abs(num))", &data), json!(true));
        assert_eq!(qd("pattern_match('prefix-*', name)", &data), json!(true));
        assert_eq!(qd("pattern_match('12*', abs(num))", &data), json!(true));
        table(&[
            ("regex_match('^[1-7]$', `1`)", json!(true)),
            ("regex_match('^[1-7]$', '1')", json!(true)),
            ("regex_match('^[1-7]$', '8')", json!(false)),
            ("regex_match('^1.5$', `1.5`)", json!(true)),
            ("pattern_match('158-7?-4*', '158-73-417')", json!(true)),
            ("pattern_match('158-6?-3*', '158-73-417')", json!(false)),
            ("pattern_match('a?c', 'abc')", json!(true)),
            ("pattern_match('a*', `1`)", json!(false)),
        ]);
        assert_eq!(
            qe("pattern_match('a', `[]`)"),
            "JMESPath function 'pattern_match': argument #2 is not of type string or number"
        );
        assert!(!qe("regex_match('(', 'a')").is_empty());
    }

    #[test]
    fn regex_replace() {
        let data = json!({"spec": {"field": "Hello world, helworldlo"}});
        assert_eq!(
            qd(
                "regex_replace_all('([Hh]e|G)l', spec.field, '${2}G')",
                &data
            ),
            json!("Glo world, Gworldlo")
        );
        assert_eq!(
            qd(
                "regex_replace_all_literal('[Hh]el?', spec.field, 'G')",
                &data
            ),
            json!("Glo world, Gworldlo")
        );
        table(&[
            (
                "regex_replace_all('([0-9])([0-9])', 'hello im 42 months old', '${1}1')",
                json!("hello im 41 months old"),
            ),
            (
                "regex_replace_all('^(\\d{3}-?\\d{2}-?\\d{4})$', '123-45-6789', 'redacted')",
                json!("redacted"),
            ),
            (
                "regex_replace_all_literal('^(\\d{3}-?\\d{2}-?\\d{4})$', '123-45-6789', 'redacted')",
                json!("redacted"),
            ),
            (
                "regex_replace_all('([0-9])([0-9])', 'days_37', '${1}0')",
                json!("days_30"),
            ),
            ("regex_replace_all('a', 'banana', '$$')", json!("b$n$n$")),
            (
                "regex_replace_all_literal('a', 'banana', '$1')",
                json!("b$1n$1n$1"),
            ),
            ("regex_replace_all('1', `21`, `3`)", json!("23")),
            ("regex_replace_all('a*', 'baaac', '-')", json!("-b-c-")),
            (
                "regex_replace_all('(?P<x>b)', 'abc', '[${x}|$x|$1|${1}]')",
                json!("a[b|b|b|b]c"),
            ),
            (
                "regex_replace_all('(b)', 'abc', '$1x|$01|${1|$!|$')",
                json!("a||${1|$!|$c"),
            ),
            ("regex_replace_all('(b)', 'abc', '$2$nope')", json!("ac")),
        ]);
        assert!(
            qe("regex_replace_all('(', 'a', 'b')")
                .starts_with("JMESPath function 'regex_replace_all': ")
        );
        assert_eq!(
            qe("regex_replace_all('a', `[]`, 'b')"),
            "JMESPath function 'regex_replace_all': argument #2 is not of type string or number"
        );
    }

    #[test]
    fn label_match() {
        let data = json!({"metadata": {"labels": {"app": "test-app", "controller-name": "test-controller"}}});
        for (labels, want) in [
            (r#"{ "app": "test-app" }"#, true),
            (
                r#"{ "app": "test-app", "controller-name": "test-controller" }"#,
                true,
            ),
            (r#"{ "app": "test-app2" }"#, false),
            (r#"{ "app.kubernetes.io/name": "test-app" }"#, false),
            ("{}", true),
        ] {
            let expr = format!("label_match(`{labels}`, metadata.labels)");
            assert_eq!(qd(&expr, &data), json!(want), "{expr}");
        }
        let nested = json!({"metadata": {"labels": {
            "app": "test-app",
            "annotations": {"test": "test"},
            "ownerReferences": [{"name": "test"}]
        }}});
        assert_eq!(
            qd(
                r#"label_match(`{ "app": "test-app", "annotations": { "test": "test" } }`, metadata.labels)"#,
                &nested
            ),
            json!(true)
        );
        table(&[
            (
                r#"label_match(`{"dog":"lab","color":"tan"}`, `{"color":"tan","dog":"lab"}`)"#,
                json!(true),
            ),
            (
                r#"label_match(`{"dog":"lab","color":"tan"}`, `{"color":"tan","weight":"chonky","dog":"lab"}`)"#,
                json!(true),
            ),
            (
                r#"label_match(`{"dog":"lab","color":"tan"}`, `{"color":"black","dog":"lab"}`)"#,
                json!(false),
            ),
            (r#"label_match(`{"n":1}`, `{"n":1.0}`)"#, json!(true)),
            (r#"label_match(`{"n":1}`, `{"n":"1"}`)"#, json!(false)),
        ]);
    }

    #[test]
    fn to_boolean() {
        table(&[
            ("to_boolean('true')", json!(true)),
            ("to_boolean('TRue')", json!(true)),
            ("to_boolean('FaLse')", json!(false)),
            ("to_boolean('false')", json!(false)),
        ]);
        assert_eq!(
            qe("to_boolean('FaLsee')"),
            "JMESPath function 'to_boolean': lowercase argument must be 'true' or 'false' (provided: 'FaLsee')"
        );
        fails(&["to_boolean('foo')", "to_boolean(`1`)", "to_boolean(`null`)"]);
    }

    #[test]
    fn base64() {
        table(&[
            (
                "base64_decode('SGVsbG8sIHdvcmxkIQ==')",
                json!("Hello, world!"),
            ),
            (
                "base64_encode('Hello, world!')",
                json!("SGVsbG8sIHdvcmxkIQ=="),
            ),
            (
                "base64_decode('SGVsbG8s\nIHdvcmxkIQ==')",
                json!("Hello, world!"),
            ),
            ("base64_decode('')", json!("")),
            ("base64_encode('')", json!("")),
            ("base64_decode('YQ==')", json!("a")),
            // Go does not check the trailing bits.
            ("base64_decode('YR==')", json!("a")),
            ("base64_decode(base64_encode('ünï'))", json!("ünï")),
        ]);
        let secret = json!({"data": {"example1": "SGVsbG8sIHdvcmxkIQ==", "example2": "Rm9vQmFy"}});
        assert_eq!(
            qd("base64_decode(data.example1)", &secret),
            json!("Hello, world!")
        );
        assert_eq!(qd("base64_decode(data.example2)", &secret), json!("FooBar"));
        assert_eq!(
            qe("base64_decode('YQ')"),
            "illegal base64 data at input byte 2"
        );
        assert_eq!(
            qe("base64_decode('Y!==')"),
            "illegal base64 data at input byte 1"
        );
        assert_eq!(
            qe("base64_decode(`123`)"),
            "JMESPath function 'base64_decode': argument #1 is not of type string"
        );
        assert_eq!(
            qe("base64_encode(`123`)"),
            "JMESPath function 'base64_encode': argument #1 is not of type string"
        );
    }

    #[test]
    fn path_canonicalize() {
        table(&[
            ("path_canonicalize('///')", json!("/")),
            (
                "path_canonicalize('///var/run/containerd/containerd.sock')",
                json!("/var/run/containerd/containerd.sock"),
            ),
            (
                "path_canonicalize('/var/run///containerd/containerd.sock')",
                json!("/var/run/containerd/containerd.sock"),
            ),
            (
                "path_canonicalize('/var/run///containerd////')",
                json!("/var/run/containerd"),
            ),
            ("path_canonicalize('/run///')", json!("/run")),
            ("path_canonicalize('/run/../etc')", json!("/etc")),
            ("path_canonicalize('///etc*')", json!("/etc*")),
            ("path_canonicalize('/../../')", json!("/")),
            (
                "path_canonicalize('/var//lib///kubelet')",
                json!("/var/lib/kubelet"),
            ),
            ("path_canonicalize('a/../../b')", json!("../b")),
            ("path_canonicalize('./a/./b/')", json!("a/b")),
            ("path_canonicalize('a/..')", json!(".")),
            ("path_canonicalize('')", json!("")),
            ("path_canonicalize('/a/b/../../..')", json!("/")),
            ("path_canonicalize('../../a/b/..')", json!("../../a")),
        ]);
    }

    #[test]
    fn truncate() {
        table(&[
            (
                "truncate('Lorem ipsum dolor sit amet', `5`)",
                json!("Lorem"),
            ),
            (
                "truncate('Lorem ipsum ipsum ipsum dolor sit amet', `11`)",
                json!("Lorem ipsum"),
            ),
            (
                "truncate('Lorem ipsum ipsum ipsum dolor sit amet', `40`)",
                json!("Lorem ipsum ipsum ipsum dolor sit amet"),
            ),
            ("truncate('Lorem ipsum', `2.6`)", json!("Lo")),
            ("truncate('Lorem ipsum', `0`)", json!("")),
            ("truncate('Lorem ipsum', `-1`)", json!("")),
            ("truncate('ñañaña', `3`)", json!("ñañ")),
            ("truncate('foobar', `1e300`)", json!("foobar")),
        ]);
    }

    #[test]
    fn random_is_refused_offline() {
        assert!(qe("random('[a-z0-9]{6}')").contains("not supported offline"));
        assert_eq!(qe("random('')"), "no pattern provided");
    }
}
