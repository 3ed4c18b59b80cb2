//! Go's `net/url` where the functions need it: a URL's host name and
//! percent-encoding.

use super::lossy;

fn valid_optional_port(port: &str) -> bool {
    port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// Go's `url.Parse(s).Hostname()`.
pub(super) fn url_hostname(raw: &str) -> Result<String, String> {
    let parse_err = |msg: String| format!("parse {raw:?}: {msg}");
    if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(parse_err(
            "net/url: invalid control character in URL".to_string(),
        ));
    }
    let without_fragment = raw.split_once('#').map_or(raw, |(u, _)| u);
    if without_fragment == "*" {
        return Ok(String::new());
    }
    // The scheme.
    let (scheme, rest) = split_scheme(without_fragment)
        .map_err(|()| parse_err("missing protocol scheme".to_string()))?;
    let rest = if rest.ends_with('?') && rest.matches('?').count() == 1 {
        &rest[..rest.len() - 1]
    } else {
        rest.split_once('?').map_or(rest, |(r, _)| r)
    };
    if !rest.starts_with('/') {
        if !scheme.is_empty() {
            return Ok(String::new());
        }
        let segment = rest.split_once('/').map_or(rest, |(s, _)| s);
        if segment.contains(':') {
            return Err(parse_err(
                "first path segment in URL cannot contain colon".to_string(),
            ));
        }
    }
    if !((!scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//")) {
        return Ok(String::new());
    }
    let authority = &rest[2..];
    let authority = authority.split_once('/').map_or(authority, |(a, _)| a);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    // parseHost.
    if let Some(inner) = host.strip_prefix('[') {
        let Some(close) = inner.rfind(']') else {
            return Err(parse_err("missing ']' in host".to_string()));
        };
        let port = &inner[close + 1..];
        if !valid_optional_port(port) {
            return Err(parse_err(format!("invalid port {port:?} after host")));
        }
    } else if let Some(i) = host.rfind(':') {
        let port = &host[i..];
        if !valid_optional_port(port) {
            return Err(parse_err(format!("invalid port {port:?} after host")));
        }
    }
    let host = unescape_host(host).map_err(parse_err)?;
    // Hostname(): strip the port, then brackets.
    let mut name = host.as_str();
    if let Some(colon) = name.rfind(':')
        && valid_optional_port(&name[colon..])
    {
        name = &name[..colon];
    }
    if name.starts_with('[') && name.ends_with(']') && name.len() >= 2 {
        name = &name[1..name.len() - 1];
    }
    Ok(name.to_string())
}

/// `unescape(host, encodeHost)`.
pub(super) fn unescape_host(host: &str) -> Result<String, String> {
    let b = host.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            let hex_at = |j: usize| b.get(j).and_then(|h| (*h as char).to_digit(16));
            match (hex_at(i + 1), hex_at(i + 2)) {
                (Some(h), Some(l)) => {
                    if h < 8 && &b[i..i + 3] != b"%25" {
                        return Err(format!(
                            "invalid URL escape {:?}",
                            String::from_utf8_lossy(&b[i..i + 3])
                        ));
                    }
                    out.push((h * 16 + l) as u8);
                    i += 3;
                }
                _ => {
                    let end = (i + 3).min(b.len());
                    return Err(format!(
                        "invalid URL escape {:?}",
                        String::from_utf8_lossy(&b[i..end])
                    ));
                }
            }
            continue;
        }
        let allowed =
            c >= 0x80 || c.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:[]<>\"".contains(&c);
        if !allowed {
            return Err(format!(
                "invalid character {:?} in host name",
                (c as char).to_string()
            ));
        }
        out.push(c);
        i += 1;
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Go's percent-decoding (`unescape`) for paths and fragments.
pub(super) fn url_unescape(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex_at = |j: usize| b.get(j).and_then(|h| char::from(*h).to_digit(16));
            match (hex_at(i + 1), hex_at(i + 2)) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                }
                _ => {
                    let end = (i + 3).min(b.len());
                    return Err(format!("invalid URL escape {:?}", lossy(&b[i..end])));
                }
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(lossy(&out))
}

/// Go's `shouldEscape` for paths (`encodePath`) and fragments.
pub(super) fn url_escape(s: &str, fragment: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s.as_bytes() {
        let keep = c.is_ascii_alphanumeric()
            || b"-_.~$&+,/:;=@".contains(&c)
            || (fragment && b"!()*?".contains(&c));
        if keep {
            out.push(char::from(c));
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

/// Go's `getScheme`: the scheme (empty when there is none) and the rest;
/// `Err` for a leading `:` ("missing protocol scheme").
pub(crate) fn split_scheme(s: &str) -> Result<(&str, &str), ()> {
    for (i, c) in s.bytes().enumerate() {
        if c.is_ascii_alphabetic() {
            continue;
        }
        if c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.') {
            if i == 0 {
                break;
            }
            continue;
        }
        if c == b':' {
            if i == 0 {
                return Err(());
            }
            return Ok((&s[..i], &s[i + 1..]));
        }
        break;
    }
    Ok(("", s))
}
