//! `kubernetes.URL` (k8s.io/apiserver `library/urls.go`): URLs as Go 1.26's
//! `net/url` parses them (`ParseRequestURI` decides validity, `Parse` the
//! parts), with the defaults of that release: colons in an `http`/`https`
//! host are strict (`urlstrictcolons=1`), bracketed hosts must be IPv6
//! addresses, and a query of more than 10000 parameters is not read.
//!
//! Components are kept as bytes, as Go's strings are: percent-decoding may
//! produce bytes that are not UTF-8, which only become text (lossily) when
//! a function returns them.

use super::super::functions::{Decl, FnResult};
use super::super::library::{d, no_such_overload, str_arg};
use super::super::value::{Key, Map, Opaque, Value};
use super::{go_quote, net, opaque};
use crate::conditions::functions::url::split_scheme;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The CEL type name of a URL.
pub const URL_TYPE: &str = "kubernetes.URL";

/// Go's `url` escaping modes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    Zone,
    UserPassword,
    QueryComponent,
    Fragment,
}

/// `shouldEscape`.
fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if matches!(mode, Mode::Host | Mode::Zone) && b"!$&'()*+,;=:[]<>\"".contains(&c) {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
            Mode::Path => c == b'?',
            Mode::UserPassword => matches!(c, b'@' | b'/' | b'?' | b':'),
            Mode::QueryComponent => true,
            Mode::Fragment => false,
            // Host and zone were answered above for these bytes but `/`,
            // `?` and `@`, which a host cannot hold.
            Mode::Host | Mode::Zone => true,
        },
        b'!' | b'(' | b')' | b'*' if mode == Mode::Fragment => false,
        _ => true,
    }
}

fn unhex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// `EscapeError`.
fn escape_error(s: &[u8]) -> String {
    format!("invalid URL escape {}", go_quote(s))
}

/// `unescape`.
fn unescape(s: &[u8], mode: Mode) -> Result<Vec<u8>, String> {
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'%' => {
                let (Some(h), Some(l)) = (
                    s.get(i + 1).copied().and_then(unhex),
                    s.get(i + 2).copied().and_then(unhex),
                ) else {
                    return Err(escape_error(&s[i..(i + 3).min(s.len())]));
                };
                let escaped = &s[i..i + 3];
                if mode == Mode::Host && h < 8 && escaped != b"%25" {
                    return Err(escape_error(escaped));
                }
                if mode == Mode::Zone {
                    let v = h << 4 | l;
                    if escaped != b"%25" && v != b' ' && should_escape(v, Mode::Host) {
                        return Err(escape_error(escaped));
                    }
                }
                i += 3;
            }
            c => {
                if matches!(mode, Mode::Host | Mode::Zone) && c < 0x80 && should_escape(c, mode) {
                    return Err(format!(
                        "invalid character {} in host name",
                        go_quote(&s[i..i + 1])
                    ));
                }
                i += 1;
            }
        }
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'%' => {
                let (h, l) = (
                    s.get(i + 1).copied().and_then(unhex).unwrap_or(0),
                    s.get(i + 2).copied().and_then(unhex).unwrap_or(0),
                );
                out.push(h << 4 | l);
                i += 3;
            }
            b'+' if mode == Mode::QueryComponent => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// `escape`.
fn escape(s: &[u8], mode: Mode) -> Vec<u8> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = Vec::with_capacity(s.len());
    for &c in s {
        if c == b' ' && mode == Mode::QueryComponent {
            out.push(b'+');
        } else if should_escape(c, mode) {
            out.extend_from_slice(&[b'%', HEX[usize::from(c >> 4)], HEX[usize::from(c & 15)]]);
        } else {
            out.push(c);
        }
    }
    out
}

/// `validEncoded`.
fn valid_encoded(s: &[u8], mode: Mode) -> bool {
    s.iter()
        .all(|&c| b"!$&'()*+,;=:@[]%".contains(&c) || !should_escape(c, mode))
}

/// `validOptionalPort`.
fn valid_optional_port(port: &[u8]) -> bool {
    match port.split_first() {
        None => true,
        Some((b':', digits)) => digits.iter().all(u8::is_ascii_digit),
        Some(_) => false,
    }
}

/// `validUserinfo`.
fn valid_userinfo(s: &str) -> bool {
    s.bytes()
        .all(|c| c.is_ascii_alphanumeric() || b"-._:~!$&'()*+,;=%@".contains(&c))
}

fn cut(s: &[u8], sep: u8) -> (&[u8], Option<&[u8]>) {
    match s.iter().position(|&c| c == sep) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    }
}

fn rfind(s: &[u8], c: u8) -> Option<usize> {
    s.iter().rposition(|&b| b == c)
}

/// `url.Userinfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Userinfo {
    username: Vec<u8>,
    password: Option<Vec<u8>>,
}

/// A parsed `url.URL`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoUrl {
    scheme: String,
    opaque: Vec<u8>,
    user: Option<Userinfo>,
    host: Vec<u8>,
    path: Vec<u8>,
    raw_path: Vec<u8>,
    omit_host: bool,
    force_query: bool,
    raw_query: Vec<u8>,
    fragment: Vec<u8>,
    raw_fragment: Vec<u8>,
}

/// `parseHost`: `host[:port]` of the authority.
fn parse_host(scheme: &str, host: &[u8]) -> Result<Vec<u8>, String> {
    match rfind(host, b'[') {
        Some(open) if open > 0 => return Err("invalid IP-literal".into()),
        Some(_) => {
            let close = rfind(host, b']').ok_or("missing ']' in host")?;
            let colon_port = &host[close + 1..];
            if !valid_optional_port(colon_port) {
                return Err(format!("invalid port {} after host", go_quote(colon_port)));
            }
            let colon_port = unescape(colon_port, Mode::Host)?;
            let hostname = host.get(1..close).unwrap_or_default();
            let zone = hostname.windows(3).position(|w| w == b"%25");
            let mut unescaped = match zone {
                Some(z) => {
                    let mut h = unescape(&hostname[..z], Mode::Host)?;
                    h.extend(unescape(&hostname[z..], Mode::Zone)?);
                    h
                }
                None => unescape(hostname, Mode::Host)?,
            };
            // Only an IPv6 address may be bracketed.
            let (addr, _) =
                net::parse_addr(&unescaped).map_err(|e| format!("invalid host: {e}"))?;
            if matches!(addr, net::Addr::V4(_)) {
                return Err("invalid IP-literal".into());
            }
            unescaped.insert(0, b'[');
            unescaped.push(b']');
            unescaped.extend(colon_port);
            return Ok(unescaped);
        }
        None => {
            if let Some(first) = host.iter().position(|&c| c == b':') {
                let mut i = first;
                let last = rfind(host, b':').unwrap_or(first);
                // Strict colons for http and https only (go.dev/issue/75223,
                // go.dev/issue/78077).
                if last != first && scheme != "http" && scheme != "https" {
                    i = last;
                }
                let colon_port = &host[i..];
                if !valid_optional_port(colon_port) {
                    return Err(format!("invalid port {} after host", go_quote(colon_port)));
                }
            }
        }
    }
    unescape(host, Mode::Host)
}

/// `parseAuthority`.
fn parse_authority(scheme: &str, authority: &[u8]) -> Result<(Option<Userinfo>, Vec<u8>), String> {
    let at = rfind(authority, b'@');
    let host = parse_host(scheme, at.map_or(authority, |i| &authority[i + 1..]))?;
    let Some(i) = at else {
        return Ok((None, host));
    };
    let userinfo = &authority[..i];
    if !std::str::from_utf8(userinfo).is_ok_and(valid_userinfo) {
        return Err("net/url: invalid userinfo".into());
    }
    let user = match cut(userinfo, b':') {
        (name, None) => Userinfo {
            username: unescape(name, Mode::UserPassword)?,
            password: None,
        },
        (name, Some(password)) => Userinfo {
            username: unescape(name, Mode::UserPassword)?,
            password: Some(unescape(password, Mode::UserPassword)?),
        },
    };
    Ok((Some(user), host))
}

impl GoUrl {
    /// `parse(rawURL, viaRequest)`: the error without the `parse "…": `
    /// wrapping.
    fn parse_inner(raw: &str, via_request: bool) -> Result<GoUrl, String> {
        if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err("net/url: invalid control character in URL".into());
        }
        if raw.is_empty() && via_request {
            return Err("empty url".into());
        }
        let mut url = GoUrl::default();
        if raw == "*" {
            url.path = b"*".to_vec();
            return Ok(url);
        }
        let (scheme, rest) = split_scheme(raw).map_err(|()| "missing protocol scheme")?;
        url.scheme = scheme.to_ascii_lowercase();
        let mut rest = rest.as_bytes();
        if rest.ends_with(b"?") && rest.iter().filter(|&&c| c == b'?').count() == 1 {
            url.force_query = true;
            rest = &rest[..rest.len() - 1];
        } else {
            let (r, query) = cut(rest, b'?');
            rest = r;
            url.raw_query = query.unwrap_or_default().to_vec();
        }
        if !rest.starts_with(b"/") {
            if !url.scheme.is_empty() {
                url.opaque = rest.to_vec();
                return Ok(url);
            }
            if via_request {
                return Err("invalid URI for request".into());
            }
            if cut(rest, b'/').0.contains(&b':') {
                return Err("first path segment in URL cannot contain colon".into());
            }
        }
        if (!url.scheme.is_empty() || !via_request && !rest.starts_with(b"///"))
            && rest.starts_with(b"//")
        {
            let mut authority = &rest[2..];
            rest = &[];
            if let Some(i) = authority.iter().position(|&c| c == b'/') {
                (authority, rest) = authority.split_at(i);
            }
            (url.user, url.host) = parse_authority(&url.scheme, authority)?;
        } else if !url.scheme.is_empty() && rest.starts_with(b"/") {
            url.omit_host = true;
        }
        url.set_path(rest)?;
        Ok(url)
    }

    /// `url.ParseRequestURI`: an absolute URI or an absolute path.
    pub fn parse_request_uri(raw: &str) -> Result<GoUrl, String> {
        GoUrl::parse_inner(raw, true)
            .map_err(|e| format!("parse {}: {e}", go_quote(raw.as_bytes())))
    }

    /// `url.Parse`.
    pub fn parse(raw: &str) -> Result<GoUrl, String> {
        let (u, frag) = raw.split_once('#').unwrap_or((raw, ""));
        let mut url = GoUrl::parse_inner(u, false)
            .map_err(|e| format!("parse {}: {e}", go_quote(u.as_bytes())))?;
        if !frag.is_empty() {
            url.set_fragment(frag.as_bytes())
                .map_err(|e| format!("parse {}: {e}", go_quote(raw.as_bytes())))?;
        }
        Ok(url)
    }

    /// `setPath`.
    fn set_path(&mut self, p: &[u8]) -> Result<(), String> {
        self.path = unescape(p, Mode::Path)?;
        self.raw_path = if escape(&self.path, Mode::Path) == p {
            Vec::new()
        } else {
            p.to_vec()
        };
        Ok(())
    }

    /// `setFragment`.
    fn set_fragment(&mut self, f: &[u8]) -> Result<(), String> {
        self.fragment = unescape(f, Mode::Fragment)?;
        self.raw_fragment = if escape(&self.fragment, Mode::Fragment) == f {
            Vec::new()
        } else {
            f.to_vec()
        };
        Ok(())
    }

    /// `EscapedPath`.
    pub fn escaped_path(&self) -> Vec<u8> {
        if !self.raw_path.is_empty()
            && valid_encoded(&self.raw_path, Mode::Path)
            && unescape(&self.raw_path, Mode::Path).is_ok_and(|p| p == self.path)
        {
            return self.raw_path.clone();
        }
        if self.path == b"*" {
            return b"*".to_vec();
        }
        escape(&self.path, Mode::Path)
    }

    /// `EscapedFragment`.
    fn escaped_fragment(&self) -> Vec<u8> {
        if !self.raw_fragment.is_empty()
            && valid_encoded(&self.raw_fragment, Mode::Fragment)
            && unescape(&self.raw_fragment, Mode::Fragment).is_ok_and(|f| f == self.fragment)
        {
            return self.raw_fragment.clone();
        }
        escape(&self.fragment, Mode::Fragment)
    }

    /// `splitHostPort` of the host: (hostname, port).
    fn split_host_port(&self) -> (&[u8], &[u8]) {
        let mut host: &[u8] = &self.host;
        let mut port: &[u8] = &[];
        if let Some(colon) = rfind(host, b':')
            && valid_optional_port(&host[colon..])
        {
            (host, port) = (&host[..colon], &host[colon + 1..]);
        }
        if host.len() >= 2 && host.starts_with(b"[") && host.ends_with(b"]") {
            host = &host[1..host.len() - 1];
        }
        (host, port)
    }

    /// `Hostname`.
    pub fn hostname(&self) -> &[u8] {
        self.split_host_port().0
    }

    /// `Port`.
    pub fn port(&self) -> &[u8] {
        self.split_host_port().1
    }

    /// `Query` (`ParseQuery`, its error dropped): each key's values, in
    /// order.
    pub fn query(&self) -> BTreeMap<Vec<u8>, Vec<Vec<u8>>> {
        let mut m: BTreeMap<Vec<u8>, Vec<Vec<u8>>> = BTreeMap::new();
        let q = &self.raw_query;
        // urlmaxqueryparams: past 10000 parameters nothing is read.
        if q.iter().filter(|&&c| c == b'&').count() + 1 > 10_000 {
            return m;
        }
        for pair in q.split(|&c| c == b'&') {
            if pair.is_empty() || pair.contains(&b';') {
                continue;
            }
            let (k, v) = cut(pair, b'=');
            let (Ok(k), Ok(v)) = (
                unescape(k, Mode::QueryComponent),
                unescape(v.unwrap_or_default(), Mode::QueryComponent),
            ) else {
                continue;
            };
            m.entry(k).or_default().push(v);
        }
        m
    }

    /// `URL.String()`.
    pub fn to_go_string(&self) -> Vec<u8> {
        let mut buf: Vec<u8> = Vec::new();
        if !self.scheme.is_empty() {
            buf.extend_from_slice(self.scheme.as_bytes());
            buf.push(b':');
        }
        if !self.opaque.is_empty() {
            buf.extend_from_slice(&self.opaque);
        } else {
            let no_authority = self.omit_host && self.host.is_empty() && self.user.is_none();
            if (!self.scheme.is_empty() || !self.host.is_empty() || self.user.is_some())
                && !no_authority
            {
                if !self.host.is_empty() || !self.path.is_empty() || self.user.is_some() {
                    buf.extend_from_slice(b"//");
                }
                if let Some(ui) = &self.user {
                    buf.extend(escape(&ui.username, Mode::UserPassword));
                    if let Some(p) = &ui.password {
                        buf.push(b':');
                        buf.extend(escape(p, Mode::UserPassword));
                    }
                    buf.push(b'@');
                }
                if !self.host.is_empty() {
                    buf.extend(escape(&self.host, Mode::Host));
                }
            }
            let mut path = self.escaped_path();
            if no_authority && path.starts_with(b"//") {
                buf.extend_from_slice(b"%2F");
                path.remove(0);
            }
            if !path.is_empty() && path[0] != b'/' && !self.host.is_empty() {
                buf.push(b'/');
            }
            if buf.is_empty() && cut(&path, b'/').0.contains(&b':') {
                buf.extend_from_slice(b"./");
            }
            buf.extend(path);
        }
        if self.force_query || !self.raw_query.is_empty() {
            buf.push(b'?');
            buf.extend_from_slice(&self.raw_query);
        }
        if !self.fragment.is_empty() {
            buf.push(b'#');
            buf.extend(self.escaped_fragment());
        }
        buf
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A URL value.
#[derive(Debug)]
pub struct Url(pub GoUrl);

impl Opaque for Url {
    fn type_name(&self) -> &'static str {
        URL_TYPE
    }
    /// Kubernetes compares the `String()` forms.
    fn equals(&self, other: &dyn Opaque) -> bool {
        other
            .as_any()
            .downcast_ref::<Url>()
            .is_some_and(|o| o.0.to_go_string() == self.0.to_go_string())
    }
    fn to_string_value(&self) -> Option<String> {
        Some(text(&self.0.to_go_string()))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

fn one(a: &[Value]) -> Result<&Value, String> {
    match a {
        [v] => Ok(v),
        _ => Err(no_such_overload()),
    }
}

fn url_arg(a: &[Value]) -> Result<&GoUrl, String> {
    opaque::<Url>(one(a)?).map(|u| &u.0)
}

/// `url(s)`: valid as `ParseRequestURI` says, parts as `Parse` reads them
/// (the fragment apart).
fn string_to_url(a: &[Value]) -> FnResult {
    let s = str_arg(one(a)?)?;
    let wrap = |e: String| format!("URL parse error during conversion from string: {e}");
    GoUrl::parse_request_uri(s).map_err(wrap)?;
    let u = GoUrl::parse(s).map_err(wrap)?;
    Ok(Value::Opaque(Arc::new(Url(u))))
}

fn is_url(a: &[Value]) -> FnResult {
    Ok(Value::Bool(
        GoUrl::parse_request_uri(str_arg(one(a)?)?).is_ok(),
    ))
}

fn get_scheme(a: &[Value]) -> FnResult {
    Ok(Value::string(url_arg(a)?.scheme.as_str()))
}

fn get_host(a: &[Value]) -> FnResult {
    Ok(Value::string(text(&url_arg(a)?.host)))
}

fn get_hostname(a: &[Value]) -> FnResult {
    Ok(Value::string(text(url_arg(a)?.hostname())))
}

fn get_port(a: &[Value]) -> FnResult {
    Ok(Value::string(text(url_arg(a)?.port())))
}

fn get_escaped_path(a: &[Value]) -> FnResult {
    Ok(Value::string(text(&url_arg(a)?.escaped_path())))
}

fn get_query(a: &[Value]) -> FnResult {
    let mut m = Map::new();
    for (k, vs) in url_arg(a)?.query() {
        let values = vs.iter().map(|v| Value::string(text(v))).collect();
        m.insert(Key::String(text(&k).into()), Value::list(values));
    }
    Ok(Value::Map(Arc::new(m)))
}

/// The URL library.
pub const URLS: &[Decl] = &[
    d("url", None, &["string"], URL_TYPE, string_to_url),
    d("getScheme", Some(URL_TYPE), &[], "string", get_scheme),
    d("getHost", Some(URL_TYPE), &[], "string", get_host),
    d("getHostname", Some(URL_TYPE), &[], "string", get_hostname),
    d("getPort", Some(URL_TYPE), &[], "string", get_port),
    d(
        "getEscapedPath",
        Some(URL_TYPE),
        &[],
        "string",
        get_escaped_path,
    ),
    d(
        "getQuery",
        Some(URL_TYPE),
        &[],
        "map(string, list(string))",
        get_query,
    ),
    d("isURL", None, &["string"], "bool", is_url),
];
