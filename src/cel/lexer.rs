//! CEL tokens (cel-spec's lexical grammar): identifiers, backquoted field
//! names, int/uint/double literals, quoted, triple-quoted, raw and bytes
//! strings with every escape the spec defines, operators and punctuation.

use super::error::CelError;

/// One token and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// What it is.
    pub kind: Tok,
    /// Byte offset.
    pub offset: u32,
}

/// Token kinds.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// An identifier or reserved word.
    Ident(String),
    /// A backquoted field name (`` `my-field` ``).
    QuotedIdent(String),
    /// An integer literal's magnitude (the parser applies a leading minus,
    /// so `-9223372036854775808` is representable).
    Int(u64),
    /// `123u`.
    Uint(u64),
    /// `1.5`, `1e3`.
    Double(f64),
    /// A string literal's value.
    String(String),
    /// A bytes literal's value.
    Bytes(Vec<u8>),
    /// Punctuation and operators.
    Punct(&'static str),
    /// End of input.
    Eof,
}

const PUNCTUATION: [&str; 27] = [
    "==", "!=", "<=", ">=", "&&", "||", ".?", "<", ">", "!", "+", "-", "*", "/", "%", "?", ":",
    ".", ",", "(", ")", "[", "]", "{", "}", "=", "&",
];

/// Splits `src` into tokens, ending with [`Tok::Eof`].
pub fn tokenize(src: &str) -> Result<Vec<Token>, CelError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0usize;
    while i < b.len() {
        let c = b[i];
        let start = i;
        let at = |msg: String| CelError::new(start, msg);
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let kind = if c.is_ascii_alphabetic() || c == b'_' {
            let mut j = i;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            let word = &src[i..j];
            // String and bytes prefixes: r, R, b, B and their pairs.
            let quote = b.get(j).copied();
            let prefix = word.to_ascii_lowercase();
            if matches!(quote, Some(b'"' | b'\''))
                && matches!(prefix.as_str(), "r" | "b" | "rb" | "br")
            {
                let raw = prefix.contains('r');
                let bytes = prefix.contains('b');
                let (value, end) = string_literal(src, j, raw, bytes)?;
                i = end;
                if bytes {
                    out.push(Token {
                        kind: Tok::Bytes(value),
                        offset: start as u32,
                    });
                } else {
                    // Escapes in a non-bytes literal produce code points, so
                    // the value is valid UTF-8 by construction.
                    let s = String::from_utf8(value)
                        .map_err(|_| at("invalid UTF-8 in string literal".into()))?;
                    out.push(Token {
                        kind: Tok::String(s),
                        offset: start as u32,
                    });
                }
                continue;
            }
            i = j;
            Tok::Ident(word.to_string())
        } else if c == b'`' {
            let Some(len) = src[i + 1..].find('`') else {
                return Err(at("unterminated quoted identifier".into()));
            };
            let name = &src[i + 1..i + 1 + len];
            if name.is_empty()
                || !name.bytes().all(|c| {
                    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-' | b'/' | b' ')
                })
            {
                return Err(at(format!("invalid quoted identifier `{name}`")));
            }
            i += len + 2;
            Tok::QuotedIdent(name.to_string())
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            let (tok, end) = number(src, i)?;
            i = end;
            tok
        } else if c == b'"' || c == b'\'' {
            let (value, end) = string_literal(src, i, false, false)?;
            i = end;
            let s = String::from_utf8(value)
                .map_err(|_| at("invalid UTF-8 in string literal".into()))?;
            Tok::String(s)
        } else {
            let Some(p) = PUNCTUATION.iter().find(|p| src[i..].starts_with(**p)) else {
                let ch = src[i..].chars().next().unwrap_or('\u{fffd}');
                return Err(at(format!(
                    "Syntax error: token recognition error at: '{ch}'"
                )));
            };
            if matches!(*p, "=" | "&") {
                return Err(at(format!(
                    "Syntax error: token recognition error at: '{p}'"
                )));
            }
            i += p.len();
            Tok::Punct(p)
        };
        out.push(Token {
            kind,
            offset: start as u32,
        });
    }
    out.push(Token {
        kind: Tok::Eof,
        offset: b.len() as u32,
    });
    Ok(out)
}

/// An int, uint or double literal starting at `i`.
fn number(src: &str, i: usize) -> Result<(Tok, usize), CelError> {
    let b = src.as_bytes();
    let err = |m: &str| CelError::new(i, m.to_string());
    if b[i] == b'0' && matches!(b.get(i + 1), Some(b'x' | b'X')) {
        let mut j = i + 2;
        while j < b.len() && b[j].is_ascii_hexdigit() {
            j += 1;
        }
        let v = u64::from_str_radix(&src[i + 2..j], 16).map_err(|_| err("invalid int literal"))?;
        if matches!(b.get(j), Some(b'u' | b'U')) {
            return Ok((Tok::Uint(v), j + 1));
        }
        return Ok((Tok::Int(v), j));
    }
    let mut j = i;
    while j < b.len() && b[j].is_ascii_digit() {
        j += 1;
    }
    let mut is_double = false;
    if b.get(j) == Some(&b'.') && b.get(j + 1).is_some_and(u8::is_ascii_digit) {
        is_double = true;
        j += 1;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
    }
    if matches!(b.get(j), Some(b'e' | b'E')) {
        let mut k = j + 1;
        if matches!(b.get(k), Some(b'+' | b'-')) {
            k += 1;
        }
        if b.get(k).is_some_and(u8::is_ascii_digit) {
            is_double = true;
            j = k;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
        }
    }
    let text = &src[i..j];
    if is_double {
        let v: f64 = text.parse().map_err(|_| err("invalid double literal"))?;
        return Ok((Tok::Double(v), j));
    }
    let v: u64 = text.parse().map_err(|_| err("invalid int literal"))?;
    if matches!(b.get(j), Some(b'u' | b'U')) {
        return Ok((Tok::Uint(v), j + 1));
    }
    Ok((Tok::Int(v), j))
}

/// A quoted literal whose opening quote is at `i`: its value (code points
/// as UTF-8, or bytes for a bytes literal) and the offset after it.
fn string_literal(
    src: &str,
    i: usize,
    raw: bool,
    bytes: bool,
) -> Result<(Vec<u8>, usize), CelError> {
    let b = src.as_bytes();
    let q = b[i];
    let triple = b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q);
    let mut j = if triple { i + 3 } else { i + 1 };
    let mut out = Vec::new();
    loop {
        let Some(&c) = b.get(j) else {
            return Err(CelError::new(
                i,
                "Syntax error: unterminated string literal".into(),
            ));
        };
        if c == q && (!triple || (b.get(j + 1) == Some(&q) && b.get(j + 2) == Some(&q))) {
            j += if triple { 3 } else { 1 };
            return Ok((out, j));
        }
        if !triple && (c == b'\n' || c == b'\r') {
            return Err(CelError::new(
                i,
                "Syntax error: newline in string literal".into(),
            ));
        }
        if c == b'\\' && !raw {
            j = escape(src, j, bytes, &mut out)?;
            continue;
        }
        // Copy one whole UTF-8 character.
        let ch_len = src[j..].chars().next().map_or(1, char::len_utf8);
        out.extend_from_slice(&b[j..j + ch_len]);
        j += ch_len;
    }
}

/// Decodes the escape at `j` (a backslash) into `out`; returns the offset
/// after it. In a bytes literal `\x`, `\u` and octal escapes are bytes; in a
/// string they are code points.
fn escape(src: &str, j: usize, bytes: bool, out: &mut Vec<u8>) -> Result<usize, CelError> {
    let b = src.as_bytes();
    let err = || CelError::new(j, "Syntax error: invalid escape sequence".into());
    let Some(&e) = b.get(j + 1) else {
        return Err(err());
    };
    let simple = match e {
        b'a' => Some(0x07),
        b'b' => Some(0x08),
        b'f' => Some(0x0c),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'v' => Some(0x0b),
        b'\\' | b'\'' | b'"' | b'`' | b'?' => Some(e),
        _ => None,
    };
    if let Some(v) = simple {
        out.push(v);
        return Ok(j + 2);
    }
    let hex = |from: usize, n: usize| -> Result<u32, CelError> {
        let digits = src.get(from..from + n).ok_or_else(err)?;
        if !digits.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(err());
        }
        u32::from_str_radix(digits, 16).map_err(|_| err())
    };
    let (value, end, is_byte) = match e {
        b'x' | b'X' => (hex(j + 2, 2)?, j + 4, true),
        b'u' => (hex(j + 2, 4)?, j + 6, false),
        b'U' => (hex(j + 2, 8)?, j + 10, false),
        b'0'..=b'3' => {
            let digits = src.get(j + 1..j + 4).ok_or_else(err)?;
            if !digits.bytes().all(|c| (b'0'..=b'7').contains(&c)) {
                return Err(err());
            }
            (
                u32::from_str_radix(digits, 8).map_err(|_| err())?,
                j + 4,
                true,
            )
        }
        _ => return Err(err()),
    };
    if bytes && is_byte {
        out.push(value as u8);
    } else if bytes {
        // \u in bytes: the code point's UTF-8 encoding.
        let ch = char::from_u32(value).ok_or_else(err)?;
        out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
    } else {
        let ch = char::from_u32(value).ok_or_else(err)?;
        out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
    }
    Ok(end)
}
