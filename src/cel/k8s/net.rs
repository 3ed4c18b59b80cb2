//! `net.IP` and `net.CIDR` (k8s.io/apiserver `library/ip.go`, `cidr.go`):
//! addresses and prefixes as Go's `net/netip` parses and prints them, with
//! Kubernetes' restrictions on top (no zones, no IPv4-mapped IPv6
//! addresses; netip already refuses IPv4 octets with leading zeros).
//!
//! `std::net` is not used for parsing: it accepts and rejects other strings
//! than netip (and words its errors differently), and the messages are part
//! of the library's behaviour.

use super::super::functions::{Decl, FnResult};
use super::super::library::{d, no_such_overload, str_arg};
use super::super::value::{Opaque, Value};
use super::{go_quote, opaque};
use std::sync::Arc;

/// The CEL type name of an IP address.
pub const IP_TYPE: &str = "net.IP";
/// The CEL type name of a CIDR prefix.
pub const CIDR_TYPE: &str = "net.CIDR";

/// A `netip.Addr` without a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addr {
    /// An IPv4 address.
    V4([u8; 4]),
    /// An IPv6 address (IPv4-mapped ones included).
    V6([u8; 16]),
}

/// `parseAddrError`.
fn addr_error(input: &[u8], msg: &str, at: Option<&[u8]>) -> String {
    match at {
        Some(at) if !at.is_empty() => format!(
            "ParseAddr({}): {msg} (at {})",
            go_quote(input),
            go_quote(at)
        ),
        _ => format!("ParseAddr({}): {msg}", go_quote(input)),
    }
}

/// `parseIPv4Fields`: `input[off..end]` as a dotted quad; errors name all
/// of `input`.
fn parse_ipv4_fields(input: &[u8], off: usize, end: usize) -> Result<[u8; 4], String> {
    let s = input.get(off..end).unwrap_or_default();
    let mut fields = [0u8; 4];
    let (mut val, mut pos, mut dig_len) = (0u32, 0usize, 0usize);
    for (i, &c) in s.iter().enumerate() {
        if c.is_ascii_digit() {
            if dig_len == 1 && val == 0 {
                return Err(addr_error(
                    input,
                    "IPv4 field has octet with leading zero",
                    None,
                ));
            }
            val = val * 10 + u32::from(c - b'0');
            dig_len += 1;
            if val > 255 {
                return Err(addr_error(input, "IPv4 field has value >255", None));
            }
        } else if c == b'.' {
            if i == 0 || i == s.len() - 1 || s[i - 1] == b'.' {
                return Err(addr_error(
                    input,
                    "IPv4 field must have at least one digit",
                    Some(&s[i..]),
                ));
            }
            if pos == 3 {
                return Err(addr_error(input, "IPv4 address too long", None));
            }
            fields[pos] = val as u8;
            pos += 1;
            val = 0;
            dig_len = 0;
        } else {
            return Err(addr_error(input, "unexpected character", Some(&s[i..])));
        }
    }
    if pos < 3 {
        return Err(addr_error(input, "IPv4 address too short", None));
    }
    fields[3] = val as u8;
    Ok(fields)
}

/// `parseIPv6`: the address and its zone (empty when none).
fn parse_ipv6(input: &[u8]) -> Result<(Addr, &[u8]), String> {
    let err = |msg: &str, at: Option<&[u8]>| addr_error(input, msg, at);
    let (mut s, zone): (&[u8], &[u8]) = match input.iter().position(|&b| b == b'%') {
        Some(i) => {
            let zone = &input[i + 1..];
            if zone.is_empty() {
                return Err(err("zone must be a non-empty string", None));
            }
            (&input[..i], zone)
        }
        None => (input, &[]),
    };
    let mut ip = [0u8; 16];
    let mut ellipsis: Option<usize> = None;
    if s.starts_with(b"::") {
        ellipsis = Some(0);
        s = &s[2..];
        if s.is_empty() {
            return Ok((Addr::V6(ip), zone));
        }
    }
    let mut i = 0usize;
    while i < 16 {
        let mut off = 0usize;
        let mut acc = 0u32;
        while let Some(&c) = s.get(off) {
            let digit = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => break,
            };
            acc = (acc << 4) + u32::from(digit);
            if off > 3 {
                return Err(err("each group must have 4 or less digits", Some(s)));
            }
            if acc > 0xffff {
                return Err(err("IPv6 field has value >=2^16", Some(s)));
            }
            off += 1;
        }
        if off == 0 {
            return Err(err(
                "each colon-separated field must have at least one digit",
                Some(s),
            ));
        }
        if s.get(off) == Some(&b'.') {
            if ellipsis.is_none() && i != 12 {
                return Err(err(
                    "embedded IPv4 address must replace the final 2 fields of the address",
                    Some(s),
                ));
            }
            if i + 4 > 16 {
                return Err(err(
                    "too many hex fields to fit an embedded IPv4 at the end of the address",
                    Some(s),
                ));
            }
            let mut end = input.len();
            if !zone.is_empty() {
                end -= zone.len() + 1;
            }
            let v4 = parse_ipv4_fields(input, end - s.len(), end)?;
            ip[i..i + 4].copy_from_slice(&v4);
            s = &[];
            i += 4;
            break;
        }
        ip[i] = (acc >> 8) as u8;
        ip[i + 1] = acc as u8;
        i += 2;
        s = &s[off..];
        if s.is_empty() {
            break;
        }
        if s[0] != b':' {
            return Err(err("unexpected character, want colon", Some(s)));
        } else if s.len() == 1 {
            return Err(err("colon must be followed by more characters", Some(s)));
        }
        s = &s[1..];
        if s[0] == b':' {
            if ellipsis.is_some() {
                return Err(err("multiple :: in address", Some(s)));
            }
            ellipsis = Some(i);
            s = &s[1..];
            if s.is_empty() {
                break;
            }
        }
    }
    if !s.is_empty() {
        return Err(err("trailing garbage after address", Some(s)));
    }
    if i < 16 {
        let Some(e) = ellipsis else {
            return Err(err("address string too short", None));
        };
        let n = 16 - i;
        ip.copy_within(e..i, e + n);
        ip[e..e + n].fill(0);
    } else if ellipsis.is_some() {
        return Err(err(
            "the :: must expand to at least one field of zeros",
            None,
        ));
    }
    Ok((Addr::V6(ip), zone))
}

/// `netip.ParseAddr`: the address and its zone (empty when none).
pub fn parse_addr(s: &[u8]) -> Result<(Addr, &[u8]), String> {
    for &c in s {
        match c {
            b'.' => return parse_ipv4_fields(s, 0, s.len()).map(|f| (Addr::V4(f), &[][..])),
            b':' => return parse_ipv6(s),
            b'%' => return Err(addr_error(s, "missing IPv6 address", None)),
            _ => {}
        }
    }
    Err(addr_error(s, "unable to parse IP", None))
}

impl Addr {
    /// `BitLen`.
    pub fn bit_len(&self) -> u8 {
        match self {
            Addr::V4(_) => 32,
            Addr::V6(_) => 128,
        }
    }

    /// The address as a 128-bit number (IPv4 in the low 32 bits).
    fn bits(&self) -> u128 {
        match self {
            Addr::V4(b) => u128::from(u32::from_be_bytes(*b)),
            Addr::V6(b) => u128::from_be_bytes(*b),
        }
    }

    fn from_bits(like: &Addr, v: u128) -> Addr {
        match like {
            Addr::V4(_) => Addr::V4((v as u32).to_be_bytes()),
            Addr::V6(_) => Addr::V6(v.to_be_bytes()),
        }
    }

    /// `Is4In6`.
    pub fn is_4in6(&self) -> bool {
        matches!(self, Addr::V6(b) if b[..10].iter().all(|&x| x == 0) && b[10] == 0xff && b[11] == 0xff)
    }

    /// `Unmap`.
    fn unmap(self) -> Addr {
        match self {
            Addr::V6(b) if self.is_4in6() => Addr::V4([b[12], b[13], b[14], b[15]]),
            a => a,
        }
    }

    /// The first 16-bit word of the IPv6 form.
    fn word0(&self) -> u16 {
        match self {
            Addr::V4(_) => 0,
            Addr::V6(b) => u16::from_be_bytes([b[0], b[1]]),
        }
    }

    /// `IsUnspecified`: `0.0.0.0` or `::`.
    pub fn is_unspecified(&self) -> bool {
        self.bits() == 0
    }

    /// `IsLoopback`.
    pub fn is_loopback(&self) -> bool {
        match self.unmap() {
            Addr::V4(b) => b[0] == 127,
            a => a.bits() == 1,
        }
    }

    /// `IsMulticast`.
    fn is_multicast(&self) -> bool {
        match self.unmap() {
            Addr::V4(b) => b[0] & 0xf0 == 0xe0,
            Addr::V6(b) => b[0] == 0xff,
        }
    }

    /// `IsLinkLocalMulticast`.
    pub fn is_link_local_multicast(&self) -> bool {
        match self.unmap() {
            Addr::V4(b) => b[0] == 224 && b[1] == 0 && b[2] == 0,
            a => a.word0() & 0xff0f == 0xff02,
        }
    }

    /// `IsLinkLocalUnicast`.
    pub fn is_link_local_unicast(&self) -> bool {
        match self.unmap() {
            Addr::V4(b) => b[0] == 169 && b[1] == 254,
            a => a.word0() & 0xffc0 == 0xfe80,
        }
    }

    /// `IsGlobalUnicast`.
    pub fn is_global_unicast(&self) -> bool {
        let ip = self.unmap();
        if let Addr::V4(b) = ip
            && (b == [0; 4] || b == [255; 4])
        {
            return false;
        }
        ip != Addr::V6([0; 16])
            && !ip.is_loopback()
            && !ip.is_multicast()
            && !ip.is_link_local_unicast()
    }

    /// `Prefix(bits)`: the address with all but the top `bits` cleared.
    fn masked(&self, bits: u8) -> Addr {
        let len = u32::from(self.bit_len());
        let host = len.saturating_sub(u32::from(bits));
        let mask = if host >= 128 { 0 } else { u128::MAX << host };
        Addr::from_bits(self, self.bits() & mask)
    }
}

impl std::fmt::Display for Addr {
    /// `Addr.String()`: dotted quad, `::ffff:a.b.c.d`, or RFC 5952.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Addr::V4([a, b, c, d]) => write!(f, "{a}.{b}.{c}.{d}"),
            Addr::V6(b) if self.is_4in6() => {
                write!(f, "::ffff:{}.{}.{}.{}", b[12], b[13], b[14], b[15])
            }
            Addr::V6(b) => {
                let w: [u16; 8] =
                    std::array::from_fn(|i| u16::from_be_bytes([b[2 * i], b[2 * i + 1]]));
                // The longest run of two or more zero words (the first one
                // on ties) becomes `::`.
                let (mut zero_start, mut zero_end) = (8usize, 8usize);
                for i in 0..8 {
                    let mut j = i;
                    while j < 8 && w[j] == 0 {
                        j += 1;
                    }
                    if j - i >= 2 && j - i > zero_end - zero_start {
                        (zero_start, zero_end) = (i, j);
                    }
                }
                let mut i = 0;
                while i < 8 {
                    if i == zero_start {
                        f.write_str("::")?;
                        i = zero_end;
                        if i >= 8 {
                            break;
                        }
                    } else if i > 0 {
                        f.write_str(":")?;
                    }
                    write!(f, "{:x}", w[i])?;
                    i += 1;
                }
                Ok(())
            }
        }
    }
}

/// A `netip.Prefix` (always valid: it comes from `ParsePrefix`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    /// The address as written (host bits kept).
    pub addr: Addr,
    /// The prefix length.
    pub bits: u8,
}

/// `netip.ParsePrefix`.
pub fn parse_prefix(s: &str) -> Result<Prefix, String> {
    let err = |msg: &str| format!("netip.ParsePrefix({}): {msg}", go_quote(s.as_bytes()));
    let Some(i) = s.rfind('/') else {
        return Err(err("no '/'"));
    };
    let (addr, zone) = parse_addr(&s.as_bytes()[..i]).map_err(|e| err(&e))?;
    if matches!(addr, Addr::V6(_)) && !zone.is_empty() {
        return Err(err("IPv6 zones cannot be present in a prefix"));
    }
    let bits_str = &s[i + 1..];
    let bad_bits = || {
        err(&format!(
            "bad bits after slash: {}",
            go_quote(bits_str.as_bytes())
        ))
    };
    let b = bits_str.as_bytes();
    // strconv.Atoi, without a sign or leading zeros.
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) || (b.len() > 1 && b[0] == b'0') {
        return Err(bad_bits());
    }
    let mut bits: i64 = 0;
    for &c in b {
        bits = bits
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(c - b'0')))
            .ok_or_else(bad_bits)?;
    }
    if bits > i64::from(addr.bit_len()) {
        return Err(err("prefix length out of range"));
    }
    Ok(Prefix {
        addr,
        bits: bits as u8,
    })
}

impl Prefix {
    /// `Masked`.
    pub fn masked(&self) -> Prefix {
        Prefix {
            addr: self.addr.masked(self.bits),
            bits: self.bits,
        }
    }

    /// `Contains`: same family, same top bits.
    pub fn contains(&self, ip: &Addr) -> bool {
        self.addr.bit_len() == ip.bit_len() && ip.masked(self.bits) == self.addr.masked(self.bits)
    }

    /// `Overlaps`.
    pub fn overlaps(&self, o: &Prefix) -> bool {
        if self == o {
            return true;
        }
        if self.addr.bit_len() != o.addr.bit_len() {
            return false;
        }
        let min = self.bits.min(o.bits);
        min == 0 || self.addr.masked(min) == o.addr.masked(min)
    }
}

impl std::fmt::Display for Prefix {
    /// `Prefix.String()`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.bits)
    }
}

/// An IP address value.
#[derive(Debug)]
pub struct Ip(pub Addr);

impl Opaque for Ip {
    fn type_name(&self) -> &'static str {
        IP_TYPE
    }
    fn equals(&self, other: &dyn Opaque) -> bool {
        other
            .as_any()
            .downcast_ref::<Ip>()
            .is_some_and(|o| o.0 == self.0)
    }
    fn to_string_value(&self) -> Option<String> {
        Some(self.0.to_string())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// A CIDR value.
#[derive(Debug)]
pub struct Cidr(pub Prefix);

impl Opaque for Cidr {
    fn type_name(&self) -> &'static str {
        CIDR_TYPE
    }
    fn equals(&self, other: &dyn Opaque) -> bool {
        other
            .as_any()
            .downcast_ref::<Cidr>()
            .is_some_and(|o| o.0 == self.0)
    }
    fn to_string_value(&self) -> Option<String> {
        Some(self.0.to_string())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// `parseIPAddr`: netip's address without a zone or an IPv4 mapping.
pub fn parse_ip(raw: &str) -> Result<Addr, String> {
    let (addr, zone) = parse_addr(raw.as_bytes()).map_err(|e| {
        format!(
            "IP Address {} parse error during conversion from string: {e}",
            go_quote(raw.as_bytes())
        )
    })?;
    if !zone.is_empty() {
        return Err(format!(
            "IP address {} with zone value is not allowed",
            go_quote(raw.as_bytes())
        ));
    }
    if addr.is_4in6() {
        return Err(format!(
            "IPv4-mapped IPv6 address {} is not allowed",
            go_quote(raw.as_bytes())
        ));
    }
    Ok(addr)
}

/// `parseCIDR`; `cidr()` prefixes its errors once more.
pub fn parse_cidr(raw: &str) -> Result<Prefix, String> {
    let p = parse_prefix(raw)
        .map_err(|e| format!("network address parse error during conversion from string: {e}"))?;
    if p.addr.is_4in6() {
        return Err(format!(
            "IPv4-mapped IPv6 address {} is not allowed",
            go_quote(raw.as_bytes())
        ));
    }
    Ok(p)
}

/// `stringToCIDR`: `parseCIDR`, its error prefixed once more.
fn string_to_prefix(raw: &str) -> Result<Prefix, String> {
    parse_cidr(raw)
        .map_err(|e| format!("network address parse error during conversion from string: {e}"))
}

fn one(a: &[Value]) -> Result<&Value, String> {
    match a {
        [v] => Ok(v),
        _ => Err(no_such_overload()),
    }
}

fn ip_arg(v: &Value) -> Result<Addr, String> {
    opaque::<Ip>(v).map(|ip| ip.0)
}

fn cidr_arg(v: &Value) -> Result<Prefix, String> {
    opaque::<Cidr>(v).map(|c| c.0)
}

fn string_to_ip(a: &[Value]) -> FnResult {
    let ip = parse_ip(str_arg(one(a)?)?)?;
    Ok(Value::Opaque(Arc::new(Ip(ip))))
}

fn is_ip(a: &[Value]) -> FnResult {
    Ok(Value::Bool(parse_ip(str_arg(one(a)?)?).is_ok()))
}

/// `ip.isCanonical`: the string is what netip prints for it.
fn is_canonical(a: &[Value]) -> FnResult {
    let s = str_arg(one(a)?)?;
    Ok(Value::Bool(parse_ip(s)?.to_string() == s))
}

fn ip_to_string(a: &[Value]) -> FnResult {
    Ok(Value::string(ip_arg(one(a)?)?.to_string()))
}

fn family(a: &[Value]) -> FnResult {
    Ok(Value::Int(match ip_arg(one(a)?)? {
        Addr::V4(_) => 4,
        Addr::V6(_) => 6,
    }))
}

fn ip_predicate(a: &[Value], f: fn(&Addr) -> bool) -> FnResult {
    Ok(Value::Bool(f(&ip_arg(one(a)?)?)))
}

fn is_unspecified(a: &[Value]) -> FnResult {
    ip_predicate(a, Addr::is_unspecified)
}

fn is_loopback(a: &[Value]) -> FnResult {
    ip_predicate(a, Addr::is_loopback)
}

fn is_link_local_multicast(a: &[Value]) -> FnResult {
    ip_predicate(a, Addr::is_link_local_multicast)
}

fn is_link_local_unicast(a: &[Value]) -> FnResult {
    ip_predicate(a, Addr::is_link_local_unicast)
}

fn is_global_unicast(a: &[Value]) -> FnResult {
    ip_predicate(a, Addr::is_global_unicast)
}

fn string_to_cidr(a: &[Value]) -> FnResult {
    let p = string_to_prefix(str_arg(one(a)?)?)?;
    Ok(Value::Opaque(Arc::new(Cidr(p))))
}

fn is_cidr(a: &[Value]) -> FnResult {
    Ok(Value::Bool(parse_cidr(str_arg(one(a)?)?).is_ok()))
}

fn cidr_to_string(a: &[Value]) -> FnResult {
    Ok(Value::string(cidr_arg(one(a)?)?.to_string()))
}

/// `containsIP(string|IP)`. An unparsable string is `no such overload`:
/// Kubernetes hands the conversion's error to a function that reports
/// any non-IP argument that way.
fn contains_ip(a: &[Value]) -> FnResult {
    let [c, ip] = a else {
        return Err(no_such_overload());
    };
    let c = cidr_arg(c)?;
    let ip = match ip {
        Value::String(s) => parse_ip(s).map_err(|_| no_such_overload())?,
        v => ip_arg(v)?,
    };
    Ok(Value::Bool(c.contains(&ip)))
}

/// `containsCIDR(string|CIDR)`: the other prefix lies inside this one.
/// An unparsable string is `cidr()`'s error.
fn contains_cidr(a: &[Value]) -> FnResult {
    let [c, other] = a else {
        return Err(no_such_overload());
    };
    let c = cidr_arg(c)?;
    let other = match other {
        Value::String(s) => string_to_prefix(s)?,
        v => cidr_arg(v)?,
    };
    Ok(Value::Bool(c.overlaps(&other) && c.bits <= other.bits))
}

fn cidr_ip(a: &[Value]) -> FnResult {
    Ok(Value::Opaque(Arc::new(Ip(cidr_arg(one(a)?)?.addr))))
}

fn prefix_length(a: &[Value]) -> FnResult {
    Ok(Value::Int(i64::from(cidr_arg(one(a)?)?.bits)))
}

fn masked(a: &[Value]) -> FnResult {
    Ok(Value::Opaque(Arc::new(Cidr(cidr_arg(one(a)?)?.masked()))))
}

/// The IP library.
pub const IP: &[Decl] = &[
    d("ip", None, &["string"], IP_TYPE, string_to_ip),
    d("family", Some(IP_TYPE), &[], "int", family),
    d("ip.isCanonical", None, &["string"], "bool", is_canonical),
    d("isUnspecified", Some(IP_TYPE), &[], "bool", is_unspecified),
    d("isLoopback", Some(IP_TYPE), &[], "bool", is_loopback),
    d(
        "isLinkLocalMulticast",
        Some(IP_TYPE),
        &[],
        "bool",
        is_link_local_multicast,
    ),
    d(
        "isLinkLocalUnicast",
        Some(IP_TYPE),
        &[],
        "bool",
        is_link_local_unicast,
    ),
    d(
        "isGlobalUnicast",
        Some(IP_TYPE),
        &[],
        "bool",
        is_global_unicast,
    ),
    d("isIP", None, &["string"], "bool", is_ip),
    d("string", None, &[IP_TYPE], "string", ip_to_string),
];

/// The CIDR library.
pub const CIDR: &[Decl] = &[
    d("cidr", None, &["string"], CIDR_TYPE, string_to_cidr),
    d(
        "containsIP",
        Some(CIDR_TYPE),
        &["string"],
        "bool",
        contains_ip,
    ),
    d(
        "containsIP",
        Some(CIDR_TYPE),
        &[IP_TYPE],
        "bool",
        contains_ip,
    ),
    d(
        "containsCIDR",
        Some(CIDR_TYPE),
        &["string"],
        "bool",
        contains_cidr,
    ),
    d(
        "containsCIDR",
        Some(CIDR_TYPE),
        &[CIDR_TYPE],
        "bool",
        contains_cidr,
    ),
    d("ip", Some(CIDR_TYPE), &[], IP_TYPE, cidr_ip),
    d("prefixLength", Some(CIDR_TYPE), &[], "int", prefix_length),
    d("masked", Some(CIDR_TYPE), &[], CIDR_TYPE, masked),
    d("isCIDR", None, &["string"], "bool", is_cidr),
    d("string", None, &[CIDR_TYPE], "string", cidr_to_string),
];
