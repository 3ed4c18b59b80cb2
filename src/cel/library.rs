//! The standard library and the extension libraries Kyverno's image
//! policies enable (cel-go's strings v2, lists v3, sets, math, encoders,
//! optional types; Kubernetes' lists and regex), as declarations with their
//! implementations. Messages are cel-go's. Kubernetes' other libraries
//! (quantity, URLs, IP and CIDR, semver, format) are in [`super::k8s`].

use super::functions::{Decl, FnResult, Impl};
use super::time as t;
use super::value::{self, Key, Timestamp, Value};
use std::cmp::Ordering;
use std::sync::Arc;

/// Opaque type names the declarations may use.
pub const OPAQUE_TYPES: &[&str] = &[
    "kyverno.image",
    "kyverno.imagedata",
    "kyverno.resource",
    "kyverno.globalcontext",
    "kyverno.http",
    "kyverno.json",
    "kyverno.yaml",
    "kubernetes.Quantity",
    "kubernetes.URL",
    "net.IP",
    "net.CIDR",
    "kubernetes.Semver",
    "kubernetes.NamedFormat",
];

/// A declaration implemented by `f`.
pub(super) const fn d(
    name: &'static str,
    receiver: Option<&'static str>,
    args: &'static [&'static str],
    result: &'static str,
    f: fn(&[Value]) -> FnResult,
) -> Decl {
    Decl {
        name,
        receiver,
        args,
        result,
        imp: Impl::Pure(f),
    }
}

const fn special(
    name: &'static str,
    receiver: Option<&'static str>,
    args: &'static [&'static str],
    result: &'static str,
) -> Decl {
    Decl {
        name,
        receiver,
        args,
        result,
        imp: Impl::Special,
    }
}

/// A declaration the host answers.
pub(super) const fn host(
    name: &'static str,
    receiver: Option<&'static str>,
    args: &'static [&'static str],
    result: &'static str,
) -> Decl {
    Decl {
        name,
        receiver,
        args,
        result,
        imp: Impl::Host,
    }
}

/// `no such overload`, the error of a call whose arguments fit no overload.
pub fn no_such_overload() -> String {
    "no such overload".into()
}

fn int_overflow() -> String {
    "integer overflow".into()
}

fn uint_overflow() -> String {
    "unsigned integer overflow".into()
}

// ---- arithmetic ----------------------------------------------------------

fn add(a: &[Value]) -> FnResult {
    Ok(match (&a[0], &a[1]) {
        (Value::Int(x), Value::Int(y)) => Value::Int(x.checked_add(*y).ok_or_else(int_overflow)?),
        (Value::Uint(x), Value::Uint(y)) => {
            Value::Uint(x.checked_add(*y).ok_or_else(uint_overflow)?)
        }
        (Value::Double(x), Value::Double(y)) => Value::Double(x + y),
        (Value::String(x), Value::String(y)) => Value::string(format!("{x}{y}")),
        (Value::Bytes(x), Value::Bytes(y)) => Value::Bytes([&x[..], &y[..]].concat().into()),
        (Value::List(x), Value::List(y)) => {
            let mut v = Vec::with_capacity(x.len() + y.len());
            v.extend(x.iter().cloned());
            v.extend(y.iter().cloned());
            Value::list(v)
        }
        (Value::Timestamp(ts), Value::Duration(du))
        | (Value::Duration(du), Value::Timestamp(ts)) => Value::Timestamp(
            Timestamp::from_total_nanos(ts.total_nanos() + *du as i128)
                .ok_or("timestamp overflow")?,
        ),
        (Value::Duration(x), Value::Duration(y)) => {
            Value::Duration(x.checked_add(*y).ok_or("duration overflow")?)
        }
        _ => return Err(no_such_overload()),
    })
}

fn sub(a: &[Value]) -> FnResult {
    Ok(match (&a[0], &a[1]) {
        (Value::Int(x), Value::Int(y)) => Value::Int(x.checked_sub(*y).ok_or_else(int_overflow)?),
        (Value::Uint(x), Value::Uint(y)) => {
            Value::Uint(x.checked_sub(*y).ok_or_else(uint_overflow)?)
        }
        (Value::Double(x), Value::Double(y)) => Value::Double(x - y),
        (Value::Timestamp(x), Value::Timestamp(y)) => Value::Duration(
            i64::try_from(x.total_nanos() - y.total_nanos()).map_err(|_| "duration overflow")?,
        ),
        (Value::Timestamp(ts), Value::Duration(du)) => Value::Timestamp(
            Timestamp::from_total_nanos(ts.total_nanos() - *du as i128)
                .ok_or("timestamp overflow")?,
        ),
        (Value::Duration(x), Value::Duration(y)) => {
            Value::Duration(x.checked_sub(*y).ok_or("duration overflow")?)
        }
        _ => return Err(no_such_overload()),
    })
}

fn mul(a: &[Value]) -> FnResult {
    Ok(match (&a[0], &a[1]) {
        (Value::Int(x), Value::Int(y)) => Value::Int(x.checked_mul(*y).ok_or_else(int_overflow)?),
        (Value::Uint(x), Value::Uint(y)) => {
            Value::Uint(x.checked_mul(*y).ok_or_else(uint_overflow)?)
        }
        (Value::Double(x), Value::Double(y)) => Value::Double(x * y),
        _ => return Err(no_such_overload()),
    })
}

fn div(a: &[Value]) -> FnResult {
    Ok(match (&a[0], &a[1]) {
        (Value::Int(_), Value::Int(0)) | (Value::Uint(_), Value::Uint(0)) => {
            return Err("division by zero".into());
        }
        (Value::Int(x), Value::Int(y)) => Value::Int(x.checked_div(*y).ok_or_else(int_overflow)?),
        (Value::Uint(x), Value::Uint(y)) => Value::Uint(x / y),
        (Value::Double(x), Value::Double(y)) => Value::Double(x / y),
        _ => return Err(no_such_overload()),
    })
}

fn rem(a: &[Value]) -> FnResult {
    Ok(match (&a[0], &a[1]) {
        (Value::Int(_), Value::Int(0)) | (Value::Uint(_), Value::Uint(0)) => {
            return Err("modulus by zero".into());
        }
        (Value::Int(x), Value::Int(y)) => Value::Int(x.checked_rem(*y).ok_or_else(int_overflow)?),
        (Value::Uint(x), Value::Uint(y)) => Value::Uint(x % y),
        _ => return Err(no_such_overload()),
    })
}

fn neg(a: &[Value]) -> FnResult {
    Ok(match &a[0] {
        Value::Int(x) => Value::Int(x.checked_neg().ok_or_else(int_overflow)?),
        Value::Double(x) => Value::Double(-x),
        _ => return Err(no_such_overload()),
    })
}

fn not(a: &[Value]) -> FnResult {
    match &a[0] {
        Value::Bool(b) => Ok(Value::Bool(!b)),
        _ => Err(no_such_overload()),
    }
}

fn eq(a: &[Value]) -> FnResult {
    Ok(Value::Bool(value::equals(&a[0], &a[1])))
}

fn ne(a: &[Value]) -> FnResult {
    Ok(Value::Bool(!value::equals(&a[0], &a[1])))
}

/// Orders two values of comparable kinds (numbers across kinds).
pub fn compare(x: &Value, y: &Value) -> Result<Option<Ordering>, String> {
    Ok(match (x, y) {
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        (Value::Bytes(a), Value::Bytes(b)) => Some(a.cmp(b)),
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        (Value::Timestamp(a), Value::Timestamp(b)) => Some(a.cmp(b)),
        (Value::Duration(a), Value::Duration(b)) => Some(a.cmp(b)),
        (
            Value::Int(_) | Value::Uint(_) | Value::Double(_),
            Value::Int(_) | Value::Uint(_) | Value::Double(_),
        ) => value::compare_numbers(x, y),
        _ => return Err(no_such_overload()),
    })
}

fn lt(a: &[Value]) -> FnResult {
    Ok(Value::Bool(compare(&a[0], &a[1])? == Some(Ordering::Less)))
}
fn le(a: &[Value]) -> FnResult {
    Ok(Value::Bool(matches!(
        compare(&a[0], &a[1])?,
        Some(Ordering::Less | Ordering::Equal)
    )))
}
fn gt(a: &[Value]) -> FnResult {
    Ok(Value::Bool(
        compare(&a[0], &a[1])? == Some(Ordering::Greater),
    ))
}
fn ge(a: &[Value]) -> FnResult {
    Ok(Value::Bool(matches!(
        compare(&a[0], &a[1])?,
        Some(Ordering::Greater | Ordering::Equal)
    )))
}

fn in_(a: &[Value]) -> FnResult {
    Ok(Value::Bool(match &a[1] {
        Value::List(l) => l.iter().any(|v| value::equals(&a[0], v)),
        Value::Map(m) => Key::from_value(&a[0]).is_some_and(|k| m.contains_key(&k)),
        _ => return Err(no_such_overload()),
    }))
}

// ---- size and strings ----------------------------------------------------

fn size(a: &[Value]) -> FnResult {
    let n = match &a[0] {
        Value::String(s) => s.chars().count(),
        Value::Bytes(b) => b.len(),
        Value::List(l) => l.len(),
        Value::Map(m) => m.len(),
        _ => return Err(no_such_overload()),
    };
    Ok(Value::Int(n as i64))
}

fn strs(a: &[Value]) -> Result<(&str, &str), String> {
    match (&a[0], &a[1]) {
        (Value::String(x), Value::String(y)) => Ok((x, y)),
        _ => Err(no_such_overload()),
    }
}

fn contains(a: &[Value]) -> FnResult {
    let (s, t) = strs(a)?;
    Ok(Value::Bool(s.contains(t)))
}
fn starts_with(a: &[Value]) -> FnResult {
    let (s, t) = strs(a)?;
    Ok(Value::Bool(s.starts_with(t)))
}
fn ends_with(a: &[Value]) -> FnResult {
    let (s, t) = strs(a)?;
    Ok(Value::Bool(s.ends_with(t)))
}

/// Compiles an RE2 pattern with `regex-lite` (RE2 syntax without Unicode
/// classes), bounded in size.
pub fn regex(pattern: &str) -> Result<regex_lite::Regex, String> {
    regex_lite::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .nest_limit(64)
        .build()
        .map_err(|e| format!("invalid regular expression {pattern:?}: {e}"))
}

fn matches(a: &[Value]) -> FnResult {
    let (s, re) = strs(a)?;
    Ok(Value::Bool(regex(re)?.is_match(s)))
}

fn find(a: &[Value]) -> FnResult {
    let (s, re) = strs(a)?;
    Ok(Value::string(regex(re)?.find(s).map_or("", |m| m.as_str())))
}

fn find_all(a: &[Value]) -> FnResult {
    let (s, re) = strs(a)?;
    let limit = match a.get(2) {
        Some(Value::Int(n)) if *n >= 0 => *n as usize,
        Some(Value::Int(_)) => usize::MAX,
        Some(_) => return Err(no_such_overload()),
        None => usize::MAX,
    };
    Ok(Value::list(
        regex(re)?
            .find_iter(s)
            .take(limit)
            .map(|m| Value::string(m.as_str()))
            .collect(),
    ))
}

pub(super) fn int_arg(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(i) => Ok(*i),
        _ => Err(no_such_overload()),
    }
}

pub(super) fn str_arg(v: &Value) -> Result<&str, String> {
    match v {
        Value::String(s) => Ok(s),
        _ => Err(no_such_overload()),
    }
}

pub(super) fn list_arg(v: &Value) -> Result<&[Value], String> {
    match v {
        Value::List(l) => Ok(l),
        _ => Err(no_such_overload()),
    }
}

fn char_at(a: &[Value]) -> FnResult {
    let s = str_arg(&a[0])?;
    let i = int_arg(&a[1])?;
    let n = s.chars().count() as i64;
    if i < 0 || i > n {
        return Err(format!("index out of range: {i}"));
    }
    Ok(Value::string(
        s.chars()
            .nth(i as usize)
            .map(String::from)
            .unwrap_or_default(),
    ))
}

/// The code-point index of `needle` in `s` at or after code point `from`.
fn index_of(a: &[Value]) -> FnResult {
    let s = str_arg(&a[0])?;
    let needle = str_arg(&a[1])?;
    let chars: Vec<char> = s.chars().collect();
    let from = match a.get(2) {
        Some(v) => int_arg(v)?,
        None => 0,
    };
    if from < 0 || from as usize > chars.len() {
        return Err(format!("index out of range: {from}"));
    }
    let n: Vec<char> = needle.chars().collect();
    let found = (from as usize..=chars.len().saturating_sub(n.len()))
        .find(|&i| i + n.len() <= chars.len() && chars[i..i + n.len()] == n[..]);
    Ok(Value::Int(found.map_or(-1, |i| i as i64)))
}

fn last_index_of(a: &[Value]) -> FnResult {
    let s = str_arg(&a[0])?;
    let needle = str_arg(&a[1])?;
    let chars: Vec<char> = s.chars().collect();
    let n: Vec<char> = needle.chars().collect();
    let from = match a.get(2) {
        Some(v) => int_arg(v)?,
        None => chars.len() as i64 - 1,
    };
    if n.is_empty() {
        return Ok(Value::Int(from.max(0).min(chars.len() as i64)));
    }
    if from < 0 || from as usize >= chars.len().max(1) && !chars.is_empty() && a.len() > 2 {
        return Err(format!("index out of range: {from}"));
    }
    if n.len() > chars.len() {
        return Ok(Value::Int(-1));
    }
    let last_start = (from.max(0) as usize).min(chars.len() - n.len());
    let found = (0..=last_start)
        .rev()
        .find(|&i| chars[i..i + n.len()] == n[..]);
    Ok(Value::Int(found.map_or(-1, |i| i as i64)))
}

fn lower_ascii(a: &[Value]) -> FnResult {
    Ok(Value::string(str_arg(&a[0])?.to_ascii_lowercase()))
}
fn upper_ascii(a: &[Value]) -> FnResult {
    Ok(Value::string(str_arg(&a[0])?.to_ascii_uppercase()))
}

fn replace(a: &[Value]) -> FnResult {
    let s = str_arg(&a[0])?;
    let from = str_arg(&a[1])?;
    let to = str_arg(&a[2])?;
    let n = match a.get(3) {
        Some(v) => int_arg(v)?,
        None => -1,
    };
    Ok(Value::string(if n < 0 {
        s.replace(from, to)
    } else {
        s.replacen(from, to, n as usize)
    }))
}

fn split(a: &[Value]) -> FnResult {
    let s = str_arg(&a[0])?;
    let sep = str_arg(&a[1])?;
    let n = match a.get(2) {
        Some(v) => int_arg(v)?,
        None => -1,
    };
    let parts: Vec<Value> = match n {
        0 => Vec::new(),
        n if sep.is_empty() => {
            let chars: Vec<String> = s.chars().map(String::from).collect();
            if n > 0 && (n as usize) < chars.len() {
                let mut v: Vec<Value> = chars[..n as usize - 1]
                    .iter()
                    .map(|c| Value::string(c.as_str()))
                    .collect();
                v.push(Value::string(chars[n as usize - 1..].concat()));
                v
            } else {
                chars.into_iter().map(Value::string).collect()
            }
        }
        n if n < 0 => s.split(sep).map(Value::string).collect(),
        n => s.splitn(n as usize, sep).map(Value::string).collect(),
    };
    Ok(Value::list(parts))
}

fn substring(a: &[Value]) -> FnResult {
    let s = str_arg(&a[0])?;
    let chars: Vec<char> = s.chars().collect();
    let start = int_arg(&a[1])?;
    let end = match a.get(2) {
        Some(v) => int_arg(v)?,
        None => chars.len() as i64,
    };
    if start < 0 || start as usize > chars.len() {
        return Err(format!("index out of range: {start}"));
    }
    if end < 0 || end as usize > chars.len() {
        return Err(format!("index out of range: {end}"));
    }
    if start > end {
        return Err(format!(
            "invalid substring range. start: {start}, end: {end}"
        ));
    }
    Ok(Value::string(
        chars[start as usize..end as usize]
            .iter()
            .collect::<String>(),
    ))
}

fn trim(a: &[Value]) -> FnResult {
    Ok(Value::string(str_arg(&a[0])?.trim()))
}

fn join(a: &[Value]) -> FnResult {
    let l = list_arg(&a[0])?;
    let sep = match a.get(1) {
        Some(v) => str_arg(v)?,
        None => "",
    };
    let parts = l.iter().map(str_arg).collect::<Result<Vec<_>, _>>()?;
    Ok(Value::string(parts.join(sep)))
}

fn quote(a: &[Value]) -> FnResult {
    let s = str_arg(&a[0])?;
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out.push('"');
    Ok(Value::string(out))
}

// ---- conversions ---------------------------------------------------------

fn to_int(a: &[Value]) -> FnResult {
    Ok(Value::Int(match &a[0] {
        Value::Int(i) => *i,
        Value::Uint(u) => i64::try_from(*u).map_err(|_| int_overflow())?,
        Value::Double(d) => {
            if d.is_nan() || *d <= -9.223_372_036_854_776e18 || *d >= 9.223_372_036_854_776e18 {
                return Err(int_overflow());
            }
            d.trunc() as i64
        }
        Value::String(s) => s
            .parse()
            .map_err(|_| "type conversion error from 'string' to 'int'".to_string())?,
        Value::Timestamp(ts) => ts.seconds,
        Value::Duration(n) => *n,
        _ => return Err(no_such_overload()),
    }))
}

fn to_uint(a: &[Value]) -> FnResult {
    Ok(Value::Uint(match &a[0] {
        Value::Int(i) => u64::try_from(*i).map_err(|_| uint_overflow())?,
        Value::Uint(u) => *u,
        Value::Double(d) => {
            if d.is_nan() || *d < 0.0 || *d >= 1.844_674_407_370_955_2e19 {
                return Err(uint_overflow());
            }
            d.trunc() as u64
        }
        Value::String(s) => s
            .parse()
            .map_err(|_| "type conversion error from 'string' to 'uint'".to_string())?,
        _ => return Err(no_such_overload()),
    }))
}

fn to_double(a: &[Value]) -> FnResult {
    Ok(Value::Double(match &a[0] {
        Value::Int(i) => *i as f64,
        Value::Uint(u) => *u as f64,
        Value::Double(d) => *d,
        Value::String(s) => crate::conditions::operator::go::parse_float(s)
            .ok_or("type conversion error from 'string' to 'double'")?,
        _ => return Err(no_such_overload()),
    }))
}

/// A double as Go's `strconv.FormatFloat(d, 'g', -1, 64)` writes it.
pub fn format_double(d: f64) -> String {
    let mut out = String::new();
    crate::conditions::operator::go::format_float_v(&mut out, d);
    out
}

fn to_string(a: &[Value]) -> FnResult {
    Ok(Value::string(match &a[0] {
        Value::String(s) => return Ok(Value::String(s.clone())),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        Value::Double(d) => format_double(*d),
        Value::Bytes(b) => String::from_utf8(b.to_vec())
            .map_err(|_| "invalid UTF-8 in bytes, cannot convert to string".to_string())?,
        Value::Timestamp(ts) => t::format_timestamp(ts),
        Value::Duration(n) => t::format_duration(*n),
        Value::Opaque(o) => o.to_string_value().ok_or_else(no_such_overload)?,
        _ => return Err(no_such_overload()),
    }))
}

fn to_bytes(a: &[Value]) -> FnResult {
    match &a[0] {
        Value::String(s) => Ok(Value::Bytes(s.as_bytes().into())),
        Value::Bytes(b) => Ok(Value::Bytes(b.clone())),
        _ => Err(no_such_overload()),
    }
}

fn to_bool(a: &[Value]) -> FnResult {
    match &a[0] {
        Value::Bool(b) => Ok(Value::Bool(*b)),
        Value::String(s) => match &**s {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(Value::Bool(true)),
            "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(Value::Bool(false)),
            _ => Err("type conversion error from 'string' to 'bool'".into()),
        },
        _ => Err(no_such_overload()),
    }
}

fn type_of(a: &[Value]) -> FnResult {
    Ok(Value::Type(a[0].type_of()))
}

fn identity(a: &[Value]) -> FnResult {
    Ok(a[0].clone())
}

fn to_duration(a: &[Value]) -> FnResult {
    match &a[0] {
        Value::Duration(n) => Ok(Value::Duration(*n)),
        Value::String(s) => t::parse_duration(s).map(Value::Duration).ok_or_else(|| {
            "type conversion error from 'string' to 'google.protobuf.Duration'".to_string()
        }),
        _ => Err(no_such_overload()),
    }
}

fn to_timestamp(a: &[Value]) -> FnResult {
    match &a[0] {
        Value::Timestamp(ts) => Ok(Value::Timestamp(*ts)),
        Value::Int(i) => Timestamp::new(*i, 0)
            .map(Value::Timestamp)
            .ok_or_else(|| "timestamp overflow".into()),
        Value::String(s) => t::parse_timestamp(s).map(Value::Timestamp).ok_or_else(|| {
            "type conversion error from 'string' to 'google.protobuf.Timestamp'".into()
        }),
        _ => Err(no_such_overload()),
    }
}

fn ts_field(a: &[Value], field: t::Field) -> FnResult {
    let Value::Timestamp(ts) = &a[0] else {
        return Err(no_such_overload());
    };
    let offset = match a.get(1) {
        Some(v) => t::zone_offset(str_arg(v)?)?,
        None => 0,
    };
    Ok(Value::Int(t::timestamp_field(ts, offset, field)))
}

fn duration_or_field(a: &[Value], per: i64, field: t::Field) -> FnResult {
    match &a[0] {
        Value::Duration(n) => Ok(Value::Int(n / per)),
        Value::Timestamp(_) => ts_field(a, field),
        _ => Err(no_such_overload()),
    }
}

fn get_full_year(a: &[Value]) -> FnResult {
    ts_field(a, t::Field::FullYear)
}
fn get_month(a: &[Value]) -> FnResult {
    ts_field(a, t::Field::Month)
}
fn get_day_of_year(a: &[Value]) -> FnResult {
    ts_field(a, t::Field::DayOfYear)
}
fn get_date(a: &[Value]) -> FnResult {
    ts_field(a, t::Field::Date)
}
fn get_day_of_month(a: &[Value]) -> FnResult {
    ts_field(a, t::Field::DayOfMonth)
}
fn get_day_of_week(a: &[Value]) -> FnResult {
    ts_field(a, t::Field::DayOfWeek)
}
fn get_hours(a: &[Value]) -> FnResult {
    duration_or_field(a, 3_600_000_000_000, t::Field::Hours)
}
fn get_minutes(a: &[Value]) -> FnResult {
    duration_or_field(a, 60_000_000_000, t::Field::Minutes)
}
fn get_seconds(a: &[Value]) -> FnResult {
    duration_or_field(a, 1_000_000_000, t::Field::Seconds)
}
fn get_milliseconds(a: &[Value]) -> FnResult {
    match &a[0] {
        Value::Duration(n) => Ok(Value::Int(n / 1_000_000)),
        _ => ts_field(a, t::Field::Milliseconds),
    }
}

// ---- optionals -----------------------------------------------------------

fn optional_of(a: &[Value]) -> FnResult {
    Ok(Value::Optional(Some(Arc::new(a[0].clone()))))
}

fn optional_none(_: &[Value]) -> FnResult {
    Ok(Value::Optional(None))
}

/// Whether a value is its type's zero value (`optional.ofNonZeroValue`).
fn is_zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Int(i) => *i == 0,
        Value::Uint(u) => *u == 0,
        Value::Double(d) => *d == 0.0,
        Value::String(s) => s.is_empty(),
        Value::Bytes(b) => b.is_empty(),
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.is_empty(),
        Value::Duration(n) => *n == 0,
        Value::Timestamp(ts) => ts.seconds == 0 && ts.nanos == 0,
        Value::Optional(o) => o.is_none(),
        Value::Type(_) | Value::Opaque(_) => false,
    }
}

fn optional_of_non_zero(a: &[Value]) -> FnResult {
    Ok(Value::Optional(
        (!is_zero(&a[0])).then(|| Arc::new(a[0].clone())),
    ))
}

fn has_value(a: &[Value]) -> FnResult {
    match &a[0] {
        Value::Optional(o) => Ok(Value::Bool(o.is_some())),
        _ => Err(no_such_overload()),
    }
}

fn optional_value(a: &[Value]) -> FnResult {
    match &a[0] {
        Value::Optional(Some(v)) => Ok((**v).clone()),
        Value::Optional(None) => Err("optional.none() dereference".into()),
        _ => Err(no_such_overload()),
    }
}

fn unwrap_opt(a: &[Value]) -> FnResult {
    let l = list_arg(&a[0])?;
    let mut out = Vec::new();
    for v in l {
        match v {
            Value::Optional(Some(v)) => out.push((**v).clone()),
            Value::Optional(None) => {}
            _ => return Err(no_such_overload()),
        }
    }
    Ok(Value::list(out))
}

fn first(a: &[Value]) -> FnResult {
    Ok(Value::Optional(
        list_arg(&a[0])?.first().map(|v| Arc::new(v.clone())),
    ))
}

fn last(a: &[Value]) -> FnResult {
    Ok(Value::Optional(
        list_arg(&a[0])?.last().map(|v| Arc::new(v.clone())),
    ))
}

// ---- lists and sets ------------------------------------------------------

fn slice(a: &[Value]) -> FnResult {
    let l = list_arg(&a[0])?;
    let (s, e) = (int_arg(&a[1])?, int_arg(&a[2])?);
    if s < 0 || e < 0 {
        return Err(format!(
            "cannot slice({s}, {e}), negative indexes not supported"
        ));
    }
    if s > e {
        return Err(format!(
            "cannot slice({s}, {e}), start index must be less than or equal to end index"
        ));
    }
    if e as usize > l.len() {
        return Err(format!(
            "cannot slice({s}, {e}), list is length {}",
            l.len()
        ));
    }
    Ok(Value::list(l[s as usize..e as usize].to_vec()))
}

fn flatten_into(l: &[Value], depth: i64, out: &mut Vec<Value>) {
    for v in l {
        match v {
            Value::List(inner) if depth > 0 => flatten_into(inner, depth - 1, out),
            v => out.push(v.clone()),
        }
    }
}

fn flatten(a: &[Value]) -> FnResult {
    let l = list_arg(&a[0])?;
    let depth = match a.get(1) {
        Some(v) => int_arg(v)?,
        None => 1,
    };
    if depth < 0 {
        return Err("level must be non-negative".into());
    }
    // Nesting is bounded by how deep a value can be built, itself bounded
    // by the expression's depth and the JSON nesting limit.
    let mut out = Vec::new();
    flatten_into(l, depth.min(128), &mut out);
    Ok(Value::list(out))
}

fn distinct(a: &[Value]) -> FnResult {
    let l = list_arg(&a[0])?;
    let mut out: Vec<Value> = Vec::new();
    for v in l {
        if !out.iter().any(|o| value::equals(o, v)) {
            out.push(v.clone());
        }
    }
    Ok(Value::list(out))
}

fn reverse(a: &[Value]) -> FnResult {
    let mut l = list_arg(&a[0])?.to_vec();
    l.reverse();
    Ok(Value::list(l))
}

/// Sorts comparable values of one kind; an error for mixed or
/// incomparable elements.
pub fn sort_values(l: &mut [Value]) -> Result<(), String> {
    let mut err = None;
    l.sort_by(|x, y| match compare(x, y) {
        Ok(Some(o)) => o,
        _ => {
            err = Some("list elements must be comparable".to_string());
            Ordering::Equal
        }
    });
    err.map_or(Ok(()), Err)
}

fn sort(a: &[Value]) -> FnResult {
    let mut l = list_arg(&a[0])?.to_vec();
    sort_values(&mut l)?;
    Ok(Value::list(l))
}

fn lists_range(a: &[Value]) -> FnResult {
    let n = int_arg(&a[0])?;
    if n > 100_000 {
        return Err(format!(
            "lists.range({n}) exceeds the limit of 100000 elements"
        ));
    }
    Ok(Value::list((0..n.max(0)).map(Value::Int).collect()))
}

fn sets_contains(a: &[Value]) -> FnResult {
    let (x, y) = (list_arg(&a[0])?, list_arg(&a[1])?);
    Ok(Value::Bool(
        y.iter().all(|v| x.iter().any(|w| value::equals(v, w))),
    ))
}

fn sets_equivalent(a: &[Value]) -> FnResult {
    let (x, y) = (list_arg(&a[0])?, list_arg(&a[1])?);
    Ok(Value::Bool(
        y.iter().all(|v| x.iter().any(|w| value::equals(v, w)))
            && x.iter().all(|v| y.iter().any(|w| value::equals(v, w))),
    ))
}

fn sets_intersects(a: &[Value]) -> FnResult {
    let (x, y) = (list_arg(&a[0])?, list_arg(&a[1])?);
    Ok(Value::Bool(
        y.iter().any(|v| x.iter().any(|w| value::equals(v, w))),
    ))
}

fn is_sorted(a: &[Value]) -> FnResult {
    let l = list_arg(&a[0])?;
    for w in l.windows(2) {
        if compare(&w[0], &w[1])? == Some(Ordering::Greater) {
            return Ok(Value::Bool(false));
        }
    }
    Ok(Value::Bool(true))
}

fn sum(a: &[Value]) -> FnResult {
    let l = list_arg(&a[0])?;
    let Some(first) = l.first() else {
        return Ok(Value::Int(0));
    };
    let mut acc = first.clone();
    for v in &l[1..] {
        acc = add(&[acc, v.clone()])?;
    }
    Ok(acc)
}

fn extreme(a: &[Value], want: Ordering, name: &str) -> FnResult {
    let l = list_arg(&a[0])?;
    let Some(mut best) = l.first().cloned() else {
        return Err(format!("{name} called on empty list"));
    };
    for v in &l[1..] {
        if compare(v, &best)? == Some(want) {
            best = v.clone();
        }
    }
    Ok(best)
}

fn list_min(a: &[Value]) -> FnResult {
    extreme(a, Ordering::Less, "min")
}
fn list_max(a: &[Value]) -> FnResult {
    extreme(a, Ordering::Greater, "max")
}

fn list_index_of(a: &[Value]) -> FnResult {
    let l = list_arg(&a[0])?;
    Ok(Value::Int(
        l.iter()
            .position(|v| value::equals(v, &a[1]))
            .map_or(-1, |i| i as i64),
    ))
}

fn list_last_index_of(a: &[Value]) -> FnResult {
    let l = list_arg(&a[0])?;
    Ok(Value::Int(
        l.iter()
            .rposition(|v| value::equals(v, &a[1]))
            .map_or(-1, |i| i as i64),
    ))
}

// ---- encoders and math ---------------------------------------------------

fn base64_encode(a: &[Value]) -> FnResult {
    use base64::Engine as _;
    match &a[0] {
        Value::Bytes(b) => Ok(Value::string(
            base64::engine::general_purpose::STANDARD.encode(b),
        )),
        _ => Err(no_such_overload()),
    }
}

fn base64_decode(a: &[Value]) -> FnResult {
    use base64::Engine as _;
    let s = str_arg(&a[0])?;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(s))
        .map(|b| Value::Bytes(b.into()))
        .map_err(|e| format!("base64.decode: {e}"))
}

fn math_extreme(a: &[Value], want: Ordering) -> FnResult {
    let items: &[Value] = match a {
        [Value::List(l)] => l,
        _ => a,
    };
    let Some(mut best) = items.first().cloned() else {
        return Err(format!(
            "math.@{}([]) requires at least one argument",
            if want == Ordering::Greater {
                "max"
            } else {
                "min"
            }
        ));
    };
    for v in &items[1..] {
        match value::compare_numbers(v, &best) {
            Some(o) if o == want => best = v.clone(),
            Some(_) => {}
            None if matches!(v, Value::Double(d) if d.is_nan()) => best = v.clone(),
            None => return Err(no_such_overload()),
        }
    }
    Ok(best)
}

fn greatest(a: &[Value]) -> FnResult {
    math_extreme(a, Ordering::Greater)
}
fn least(a: &[Value]) -> FnResult {
    math_extreme(a, Ordering::Less)
}

pub(super) fn double_arg(v: &Value) -> Result<f64, String> {
    match v {
        Value::Double(d) => Ok(*d),
        _ => Err(no_such_overload()),
    }
}

fn ceil(a: &[Value]) -> FnResult {
    Ok(Value::Double(double_arg(&a[0])?.ceil()))
}
fn floor(a: &[Value]) -> FnResult {
    Ok(Value::Double(double_arg(&a[0])?.floor()))
}
fn round(a: &[Value]) -> FnResult {
    Ok(Value::Double(double_arg(&a[0])?.round()))
}
fn trunc(a: &[Value]) -> FnResult {
    Ok(Value::Double(double_arg(&a[0])?.trunc()))
}
fn sqrt(a: &[Value]) -> FnResult {
    Ok(Value::Double(match &a[0] {
        Value::Int(i) => (*i as f64).sqrt(),
        Value::Uint(u) => (*u as f64).sqrt(),
        Value::Double(d) => d.sqrt(),
        _ => return Err(no_such_overload()),
    }))
}
fn abs(a: &[Value]) -> FnResult {
    Ok(match &a[0] {
        Value::Int(i) => Value::Int(i.checked_abs().ok_or_else(int_overflow)?),
        Value::Uint(u) => Value::Uint(*u),
        Value::Double(d) => Value::Double(d.abs()),
        _ => return Err(no_such_overload()),
    })
}
fn sign(a: &[Value]) -> FnResult {
    Ok(match &a[0] {
        Value::Int(i) => Value::Int(i.signum()),
        Value::Uint(u) => Value::Uint(u64::from(*u > 0)),
        Value::Double(d) if d.is_nan() => Value::Double(f64::NAN),
        Value::Double(d) if *d == 0.0 => Value::Double(0.0),
        Value::Double(d) => Value::Double(d.signum()),
        _ => return Err(no_such_overload()),
    })
}
fn is_inf(a: &[Value]) -> FnResult {
    Ok(Value::Bool(double_arg(&a[0])?.is_infinite()))
}
fn is_nan(a: &[Value]) -> FnResult {
    Ok(Value::Bool(double_arg(&a[0])?.is_nan()))
}
fn is_finite(a: &[Value]) -> FnResult {
    Ok(Value::Bool(double_arg(&a[0])?.is_finite()))
}

fn bits(a: &[Value], fi: fn(i64, i64) -> i64, fu: fn(u64, u64) -> u64) -> FnResult {
    Ok(match (&a[0], &a[1]) {
        (Value::Int(x), Value::Int(y)) => Value::Int(fi(*x, *y)),
        (Value::Uint(x), Value::Uint(y)) => Value::Uint(fu(*x, *y)),
        _ => return Err(no_such_overload()),
    })
}
fn bit_and(a: &[Value]) -> FnResult {
    bits(a, |x, y| x & y, |x, y| x & y)
}
fn bit_or(a: &[Value]) -> FnResult {
    bits(a, |x, y| x | y, |x, y| x | y)
}
fn bit_xor(a: &[Value]) -> FnResult {
    bits(a, |x, y| x ^ y, |x, y| x ^ y)
}
fn bit_not(a: &[Value]) -> FnResult {
    Ok(match &a[0] {
        Value::Int(x) => Value::Int(!x),
        Value::Uint(x) => Value::Uint(!x),
        _ => return Err(no_such_overload()),
    })
}
fn shift(a: &[Value], left: bool) -> FnResult {
    let n = int_arg(&a[1])?;
    if n < 0 {
        return Err(format!(
            "math.{}() negative offset: {n}",
            if left {
                "bitShiftLeft"
            } else {
                "bitShiftRight"
            }
        ));
    }
    Ok(match &a[0] {
        Value::Int(_) if n >= 64 => Value::Int(0),
        Value::Uint(_) if n >= 64 => Value::Uint(0),
        // Go shifts an int64 right logically in cel-go (as uint64).
        Value::Int(x) => Value::Int(if left {
            x << n
        } else {
            ((*x as u64) >> n) as i64
        }),
        Value::Uint(x) => Value::Uint(if left { x << n } else { x >> n }),
        _ => return Err(no_such_overload()),
    })
}
fn shift_left(a: &[Value]) -> FnResult {
    shift(a, true)
}
fn shift_right(a: &[Value]) -> FnResult {
    shift(a, false)
}

/// The standard library: operators, size, string predicates, conversions,
/// timestamps and durations, optional values.
pub const STANDARD: &[Decl] = &[
    d("_+_", None, &["int", "int"], "int", add),
    d("_+_", None, &["uint", "uint"], "uint", add),
    d("_+_", None, &["double", "double"], "double", add),
    d("_+_", None, &["string", "string"], "string", add),
    d("_+_", None, &["bytes", "bytes"], "bytes", add),
    d("_+_", None, &["list(A)", "list(A)"], "list(A)", add),
    d("_+_", None, &["timestamp", "duration"], "timestamp", add),
    d("_+_", None, &["duration", "timestamp"], "timestamp", add),
    d("_+_", None, &["duration", "duration"], "duration", add),
    d("_-_", None, &["int", "int"], "int", sub),
    d("_-_", None, &["uint", "uint"], "uint", sub),
    d("_-_", None, &["double", "double"], "double", sub),
    d("_-_", None, &["timestamp", "timestamp"], "duration", sub),
    d("_-_", None, &["timestamp", "duration"], "timestamp", sub),
    d("_-_", None, &["duration", "duration"], "duration", sub),
    d("_*_", None, &["int", "int"], "int", mul),
    d("_*_", None, &["uint", "uint"], "uint", mul),
    d("_*_", None, &["double", "double"], "double", mul),
    d("_/_", None, &["int", "int"], "int", div),
    d("_/_", None, &["uint", "uint"], "uint", div),
    d("_/_", None, &["double", "double"], "double", div),
    d("_%_", None, &["int", "int"], "int", rem),
    d("_%_", None, &["uint", "uint"], "uint", rem),
    d("-_", None, &["int"], "int", neg),
    d("-_", None, &["double"], "double", neg),
    d("!_", None, &["bool"], "bool", not),
    d("_==_", None, &["A", "A"], "bool", eq),
    d("_!=_", None, &["A", "A"], "bool", ne),
    special("_&&_", None, &["bool", "bool"], "bool"),
    special("_||_", None, &["bool", "bool"], "bool"),
    special("_?_:_", None, &["bool", "A", "A"], "A"),
    special("_[_]", None, &["list(A)", "int"], "A"),
    special("_[_]", None, &["map(K, V)", "K"], "V"),
    special("_[?_]", None, &["list(A)", "int"], "optional(A)"),
    special("_[?_]", None, &["map(K, V)", "K"], "optional(V)"),
    d("@in", None, &["A", "list(A)"], "bool", in_),
    d("@in", None, &["A", "map(A, B)"], "bool", in_),
    d("size", None, &["string"], "int", size),
    d("size", None, &["bytes"], "int", size),
    d("size", None, &["list(A)"], "int", size),
    d("size", None, &["map(K, V)"], "int", size),
    d("size", Some("string"), &[], "int", size),
    d("size", Some("bytes"), &[], "int", size),
    d("size", Some("list(A)"), &[], "int", size),
    d("size", Some("map(K, V)"), &[], "int", size),
    d("contains", Some("string"), &["string"], "bool", contains),
    d(
        "startsWith",
        Some("string"),
        &["string"],
        "bool",
        starts_with,
    ),
    d("endsWith", Some("string"), &["string"], "bool", ends_with),
    d("matches", None, &["string", "string"], "bool", matches),
    d("matches", Some("string"), &["string"], "bool", matches),
    d("int", None, &["int"], "int", to_int),
    d("int", None, &["uint"], "int", to_int),
    d("int", None, &["double"], "int", to_int),
    d("int", None, &["string"], "int", to_int),
    d("int", None, &["timestamp"], "int", to_int),
    d("int", None, &["duration"], "int", to_int),
    d("uint", None, &["int"], "uint", to_uint),
    d("uint", None, &["uint"], "uint", to_uint),
    d("uint", None, &["double"], "uint", to_uint),
    d("uint", None, &["string"], "uint", to_uint),
    d("double", None, &["int"], "double", to_double),
    d("double", None, &["uint"], "double", to_double),
    d("double", None, &["double"], "double", to_double),
    d("double", None, &["string"], "double", to_double),
    d("string", None, &["string"], "string", to_string),
    d("string", None, &["bool"], "string", to_string),
    d("string", None, &["int"], "string", to_string),
    d("string", None, &["uint"], "string", to_string),
    d("string", None, &["double"], "string", to_string),
    d("string", None, &["bytes"], "string", to_string),
    d("string", None, &["timestamp"], "string", to_string),
    d("string", None, &["duration"], "string", to_string),
    d("bytes", None, &["string"], "bytes", to_bytes),
    d("bytes", None, &["bytes"], "bytes", to_bytes),
    d("bool", None, &["bool"], "bool", to_bool),
    d("bool", None, &["string"], "bool", to_bool),
    d("type", None, &["A"], "type(A)", type_of),
    d("dyn", None, &["A"], "dyn", identity),
    d("duration", None, &["string"], "duration", to_duration),
    d("duration", None, &["duration"], "duration", to_duration),
    d("timestamp", None, &["string"], "timestamp", to_timestamp),
    d("timestamp", None, &["int"], "timestamp", to_timestamp),
    d("timestamp", None, &["timestamp"], "timestamp", to_timestamp),
    d("getFullYear", Some("timestamp"), &[], "int", get_full_year),
    d(
        "getFullYear",
        Some("timestamp"),
        &["string"],
        "int",
        get_full_year,
    ),
    d("getMonth", Some("timestamp"), &[], "int", get_month),
    d("getMonth", Some("timestamp"), &["string"], "int", get_month),
    d(
        "getDayOfYear",
        Some("timestamp"),
        &[],
        "int",
        get_day_of_year,
    ),
    d(
        "getDayOfYear",
        Some("timestamp"),
        &["string"],
        "int",
        get_day_of_year,
    ),
    d("getDate", Some("timestamp"), &[], "int", get_date),
    d("getDate", Some("timestamp"), &["string"], "int", get_date),
    d(
        "getDayOfMonth",
        Some("timestamp"),
        &[],
        "int",
        get_day_of_month,
    ),
    d(
        "getDayOfMonth",
        Some("timestamp"),
        &["string"],
        "int",
        get_day_of_month,
    ),
    d(
        "getDayOfWeek",
        Some("timestamp"),
        &[],
        "int",
        get_day_of_week,
    ),
    d(
        "getDayOfWeek",
        Some("timestamp"),
        &["string"],
        "int",
        get_day_of_week,
    ),
    d("getHours", Some("timestamp"), &[], "int", get_hours),
    d("getHours", Some("timestamp"), &["string"], "int", get_hours),
    d("getHours", Some("duration"), &[], "int", get_hours),
    d("getMinutes", Some("timestamp"), &[], "int", get_minutes),
    d(
        "getMinutes",
        Some("timestamp"),
        &["string"],
        "int",
        get_minutes,
    ),
    d("getMinutes", Some("duration"), &[], "int", get_minutes),
    d("getSeconds", Some("timestamp"), &[], "int", get_seconds),
    d(
        "getSeconds",
        Some("timestamp"),
        &["string"],
        "int",
        get_seconds,
    ),
    d("getSeconds", Some("duration"), &[], "int", get_seconds),
    d(
        "getMilliseconds",
        Some("timestamp"),
        &[],
        "int",
        get_milliseconds,
    ),
    d(
        "getMilliseconds",
        Some("timestamp"),
        &["string"],
        "int",
        get_milliseconds,
    ),
    d(
        "getMilliseconds",
        Some("duration"),
        &[],
        "int",
        get_milliseconds,
    ),
    // Comparisons, numbers across kinds included.
    d("_<_", None, &["bool", "bool"], "bool", lt),
    d("_<_", None, &["int", "int"], "bool", lt),
    d("_<_", None, &["int", "uint"], "bool", lt),
    d("_<_", None, &["int", "double"], "bool", lt),
    d("_<_", None, &["uint", "uint"], "bool", lt),
    d("_<_", None, &["uint", "int"], "bool", lt),
    d("_<_", None, &["uint", "double"], "bool", lt),
    d("_<_", None, &["double", "double"], "bool", lt),
    d("_<_", None, &["double", "int"], "bool", lt),
    d("_<_", None, &["double", "uint"], "bool", lt),
    d("_<_", None, &["string", "string"], "bool", lt),
    d("_<_", None, &["bytes", "bytes"], "bool", lt),
    d("_<_", None, &["timestamp", "timestamp"], "bool", lt),
    d("_<_", None, &["duration", "duration"], "bool", lt),
    d("_<=_", None, &["bool", "bool"], "bool", le),
    d("_<=_", None, &["int", "int"], "bool", le),
    d("_<=_", None, &["int", "uint"], "bool", le),
    d("_<=_", None, &["int", "double"], "bool", le),
    d("_<=_", None, &["uint", "uint"], "bool", le),
    d("_<=_", None, &["uint", "int"], "bool", le),
    d("_<=_", None, &["uint", "double"], "bool", le),
    d("_<=_", None, &["double", "double"], "bool", le),
    d("_<=_", None, &["double", "int"], "bool", le),
    d("_<=_", None, &["double", "uint"], "bool", le),
    d("_<=_", None, &["string", "string"], "bool", le),
    d("_<=_", None, &["bytes", "bytes"], "bool", le),
    d("_<=_", None, &["timestamp", "timestamp"], "bool", le),
    d("_<=_", None, &["duration", "duration"], "bool", le),
    d("_>_", None, &["bool", "bool"], "bool", gt),
    d("_>_", None, &["int", "int"], "bool", gt),
    d("_>_", None, &["int", "uint"], "bool", gt),
    d("_>_", None, &["int", "double"], "bool", gt),
    d("_>_", None, &["uint", "uint"], "bool", gt),
    d("_>_", None, &["uint", "int"], "bool", gt),
    d("_>_", None, &["uint", "double"], "bool", gt),
    d("_>_", None, &["double", "double"], "bool", gt),
    d("_>_", None, &["double", "int"], "bool", gt),
    d("_>_", None, &["double", "uint"], "bool", gt),
    d("_>_", None, &["string", "string"], "bool", gt),
    d("_>_", None, &["bytes", "bytes"], "bool", gt),
    d("_>_", None, &["timestamp", "timestamp"], "bool", gt),
    d("_>_", None, &["duration", "duration"], "bool", gt),
    d("_>=_", None, &["bool", "bool"], "bool", ge),
    d("_>=_", None, &["int", "int"], "bool", ge),
    d("_>=_", None, &["int", "uint"], "bool", ge),
    d("_>=_", None, &["int", "double"], "bool", ge),
    d("_>=_", None, &["uint", "uint"], "bool", ge),
    d("_>=_", None, &["uint", "int"], "bool", ge),
    d("_>=_", None, &["uint", "double"], "bool", ge),
    d("_>=_", None, &["double", "double"], "bool", ge),
    d("_>=_", None, &["double", "int"], "bool", ge),
    d("_>=_", None, &["double", "uint"], "bool", ge),
    d("_>=_", None, &["string", "string"], "bool", ge),
    d("_>=_", None, &["bytes", "bytes"], "bool", ge),
    d("_>=_", None, &["timestamp", "timestamp"], "bool", ge),
    d("_>=_", None, &["duration", "duration"], "bool", ge),
    // Optional values.
    d("optional.of", None, &["A"], "optional(A)", optional_of),
    d(
        "optional.ofNonZeroValue",
        None,
        &["A"],
        "optional(A)",
        optional_of_non_zero,
    ),
    d("optional.none", None, &[], "optional(A)", optional_none),
    d("hasValue", Some("optional(A)"), &[], "bool", has_value),
    d("value", Some("optional(A)"), &[], "A", optional_value),
    special("or", Some("optional(A)"), &["optional(A)"], "optional(A)"),
    special("orValue", Some("optional(A)"), &["A"], "A"),
    d(
        "optional.unwrap",
        None,
        &["list(optional(A))"],
        "list(A)",
        unwrap_opt,
    ),
    d(
        "unwrapOpt",
        Some("list(optional(A))"),
        &[],
        "list(A)",
        unwrap_opt,
    ),
    d("first", Some("list(A)"), &[], "optional(A)", first),
    d("last", Some("list(A)"), &[], "optional(A)", last),
];

/// cel-go's extension libraries as Kubernetes and Kyverno enable them:
/// strings v2, lists v3, sets, encoders, math; Kubernetes' lists and regex.
pub const EXTENSIONS: &[Decl] = &[
    d("charAt", Some("string"), &["int"], "string", char_at),
    d("indexOf", Some("string"), &["string"], "int", index_of),
    d(
        "indexOf",
        Some("string"),
        &["string", "int"],
        "int",
        index_of,
    ),
    d(
        "lastIndexOf",
        Some("string"),
        &["string"],
        "int",
        last_index_of,
    ),
    d(
        "lastIndexOf",
        Some("string"),
        &["string", "int"],
        "int",
        last_index_of,
    ),
    d("lowerAscii", Some("string"), &[], "string", lower_ascii),
    d("upperAscii", Some("string"), &[], "string", upper_ascii),
    d(
        "replace",
        Some("string"),
        &["string", "string"],
        "string",
        replace,
    ),
    d(
        "replace",
        Some("string"),
        &["string", "string", "int"],
        "string",
        replace,
    ),
    d("split", Some("string"), &["string"], "list(string)", split),
    d(
        "split",
        Some("string"),
        &["string", "int"],
        "list(string)",
        split,
    ),
    d("substring", Some("string"), &["int"], "string", substring),
    d(
        "substring",
        Some("string"),
        &["int", "int"],
        "string",
        substring,
    ),
    d("trim", Some("string"), &[], "string", trim),
    d("join", Some("list(string)"), &[], "string", join),
    d("join", Some("list(string)"), &["string"], "string", join),
    d("strings.quote", None, &["string"], "string", quote),
    d("find", Some("string"), &["string"], "string", find),
    d(
        "findAll",
        Some("string"),
        &["string"],
        "list(string)",
        find_all,
    ),
    d(
        "findAll",
        Some("string"),
        &["string", "int"],
        "list(string)",
        find_all,
    ),
    d("slice", Some("list(A)"), &["int", "int"], "list(A)", slice),
    d("flatten", Some("list(dyn)"), &[], "list(dyn)", flatten),
    d("flatten", Some("list(dyn)"), &["int"], "list(dyn)", flatten),
    d("distinct", Some("list(A)"), &[], "list(A)", distinct),
    d("reverse", Some("list(A)"), &[], "list(A)", reverse),
    d("sort", Some("list(A)"), &[], "list(A)", sort),
    d("lists.range", None, &["int"], "list(int)", lists_range),
    d("isSorted", Some("list(A)"), &[], "bool", is_sorted),
    d("sum", Some("list(A)"), &[], "A", sum),
    d("min", Some("list(A)"), &[], "A", list_min),
    d("max", Some("list(A)"), &[], "A", list_max),
    d("indexOf", Some("list(A)"), &["A"], "int", list_index_of),
    d(
        "lastIndexOf",
        Some("list(A)"),
        &["A"],
        "int",
        list_last_index_of,
    ),
    d(
        "sets.contains",
        None,
        &["list(A)", "list(A)"],
        "bool",
        sets_contains,
    ),
    d(
        "sets.equivalent",
        None,
        &["list(A)", "list(A)"],
        "bool",
        sets_equivalent,
    ),
    d(
        "sets.intersects",
        None,
        &["list(A)", "list(A)"],
        "bool",
        sets_intersects,
    ),
    d("base64.encode", None, &["bytes"], "string", base64_encode),
    d("base64.decode", None, &["string"], "bytes", base64_decode),
    d("math.greatest", None, &["int"], "int", greatest),
    d("math.greatest", None, &["double"], "double", greatest),
    d("math.greatest", None, &["uint"], "uint", greatest),
    d("math.greatest", None, &["dyn", "dyn"], "dyn", greatest),
    d(
        "math.greatest",
        None,
        &["dyn", "dyn", "dyn"],
        "dyn",
        greatest,
    ),
    d("math.greatest", None, &["list(dyn)"], "dyn", greatest),
    d("math.least", None, &["int"], "int", least),
    d("math.least", None, &["double"], "double", least),
    d("math.least", None, &["uint"], "uint", least),
    d("math.least", None, &["dyn", "dyn"], "dyn", least),
    d("math.least", None, &["dyn", "dyn", "dyn"], "dyn", least),
    d("math.least", None, &["list(dyn)"], "dyn", least),
    d("math.ceil", None, &["double"], "double", ceil),
    d("math.floor", None, &["double"], "double", floor),
    d("math.round", None, &["double"], "double", round),
    d("math.trunc", None, &["double"], "double", trunc),
    d("math.sqrt", None, &["int"], "double", sqrt),
    d("math.sqrt", None, &["uint"], "double", sqrt),
    d("math.sqrt", None, &["double"], "double", sqrt),
    d("math.abs", None, &["int"], "int", abs),
    d("math.abs", None, &["uint"], "uint", abs),
    d("math.abs", None, &["double"], "double", abs),
    d("math.sign", None, &["int"], "int", sign),
    d("math.sign", None, &["uint"], "uint", sign),
    d("math.sign", None, &["double"], "double", sign),
    d("math.isInf", None, &["double"], "bool", is_inf),
    d("math.isNaN", None, &["double"], "bool", is_nan),
    d("math.isFinite", None, &["double"], "bool", is_finite),
    d("math.bitAnd", None, &["int", "int"], "int", bit_and),
    d("math.bitAnd", None, &["uint", "uint"], "uint", bit_and),
    d("math.bitOr", None, &["int", "int"], "int", bit_or),
    d("math.bitOr", None, &["uint", "uint"], "uint", bit_or),
    d("math.bitXor", None, &["int", "int"], "int", bit_xor),
    d("math.bitXor", None, &["uint", "uint"], "uint", bit_xor),
    d("math.bitNot", None, &["int"], "int", bit_not),
    d("math.bitNot", None, &["uint"], "uint", bit_not),
    d(
        "math.bitShiftLeft",
        None,
        &["int", "int"],
        "int",
        shift_left,
    ),
    d(
        "math.bitShiftLeft",
        None,
        &["uint", "int"],
        "uint",
        shift_left,
    ),
    d(
        "math.bitShiftRight",
        None,
        &["int", "int"],
        "int",
        shift_right,
    ),
    d(
        "math.bitShiftRight",
        None,
        &["uint", "int"],
        "uint",
        shift_right,
    ),
];
