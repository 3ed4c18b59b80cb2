//! Kyverno's condition operators (`pkg/engine/variables/operator`), with
//! Kyverno's type rules.
//!
//! Kyverno evaluates a condition on JSON-decoded data, so every number is a
//! Go `float64` by the time an operator sees it (`ToJSON`, `DocumentToUntyped`
//! and JMESPath all produce `float64`). This module therefore treats every
//! JSON number as an `f64`; the `int`/`int64` branches of the Go handlers are
//! unreachable in Kyverno and are not reproduced.
//!
//! The Go helpers the handlers lean on are ported here with their quirks:
//! `strconv.ParseFloat`, `time.ParseDuration`, `fmt.Sprint`, Kubernetes
//! `resource.ParseQuantity`/`Cmp`, `blang/semver` and the range patterns of
//! `pkg/engine/pattern` (`1-5`, `1!-5`). Where a handler logs and returns
//! `false` on a type mismatch, [`Operator::evaluate`] returns `false`.

use std::cmp::Ordering;
use std::fmt;

use serde_json::Value;

use crate::wildcard;

/// A condition operator (`conditions[].operator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `Equals` (also the deprecated spelling `Equal`).
    Equals,
    /// `NotEquals` (also the deprecated spelling `NotEqual`).
    NotEquals,
    /// `In` (deprecated: every key must be in the value).
    In,
    /// `AnyIn`: at least one key is in the value.
    AnyIn,
    /// `AllIn`: every key is in the value.
    AllIn,
    /// `NotIn` (deprecated).
    NotIn,
    /// `AnyNotIn`: at least one key is not in the value.
    AnyNotIn,
    /// `AllNotIn`: no key is in the value.
    AllNotIn,
    /// `GreaterThan` (numbers, quantities, durations, versions).
    GreaterThan,
    /// `GreaterThanOrEquals`.
    GreaterThanOrEquals,
    /// `LessThan`.
    LessThan,
    /// `LessThanOrEquals`.
    LessThanOrEquals,
    /// `DurationGreaterThan` (deprecated in Kyverno's logs, no policy warning).
    DurationGreaterThan,
    /// `DurationGreaterThanOrEquals`.
    DurationGreaterThanOrEquals,
    /// `DurationLessThan`.
    DurationLessThan,
    /// `DurationLessThanOrEquals`.
    DurationLessThanOrEquals,
}

/// Kyverno's `ConditionOperators` map (`api/kyverno/v1/common_types.go`).
const SPELLINGS: [(&str, Operator); 18] = [
    ("Equal", Operator::Equals),
    ("Equals", Operator::Equals),
    ("NotEqual", Operator::NotEquals),
    ("NotEquals", Operator::NotEquals),
    ("In", Operator::In),
    ("AnyIn", Operator::AnyIn),
    ("AllIn", Operator::AllIn),
    ("NotIn", Operator::NotIn),
    ("AnyNotIn", Operator::AnyNotIn),
    ("AllNotIn", Operator::AllNotIn),
    ("GreaterThanOrEquals", Operator::GreaterThanOrEquals),
    ("GreaterThan", Operator::GreaterThan),
    ("LessThanOrEquals", Operator::LessThanOrEquals),
    ("LessThan", Operator::LessThan),
    (
        "DurationGreaterThanOrEquals",
        Operator::DurationGreaterThanOrEquals,
    ),
    ("DurationGreaterThan", Operator::DurationGreaterThan),
    (
        "DurationLessThanOrEquals",
        Operator::DurationLessThanOrEquals,
    ),
    ("DurationLessThan", Operator::DurationLessThan),
];

impl Operator {
    /// Parses an operator the way Kyverno's policy validation accepts it
    /// (`IsOperatorValid`): one of the `ConditionOperators` keys, exact case,
    /// including the deprecated `Equal`/`NotEqual`.
    ///
    /// Kyverno's CRD enum is stricter (no `Equal`/`NotEqual`, so the API
    /// server rejects them; `kyverno apply` accepts them). Its handler factory
    /// lower-cases the name, but the numeric and duration handlers then
    /// compare the original spelling, so e.g. `greaterthan` always yields
    /// false there; policy validation rejects such spellings before that.
    pub fn parse(s: &str) -> Option<Operator> {
        SPELLINGS.iter().find(|(n, _)| *n == s).map(|(_, op)| *op)
    }

    /// The canonical (non-deprecated) spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            Operator::Equals => "Equals",
            Operator::NotEquals => "NotEquals",
            Operator::In => "In",
            Operator::AnyIn => "AnyIn",
            Operator::AllIn => "AllIn",
            Operator::NotIn => "NotIn",
            Operator::AnyNotIn => "AnyNotIn",
            Operator::AllNotIn => "AllNotIn",
            Operator::GreaterThan => "GreaterThan",
            Operator::GreaterThanOrEquals => "GreaterThanOrEquals",
            Operator::LessThan => "LessThan",
            Operator::LessThanOrEquals => "LessThanOrEquals",
            Operator::DurationGreaterThan => "DurationGreaterThan",
            Operator::DurationGreaterThanOrEquals => "DurationGreaterThanOrEquals",
            Operator::DurationLessThan => "DurationLessThan",
            Operator::DurationLessThanOrEquals => "DurationLessThanOrEquals",
        }
    }

    /// The admission warning Kyverno gives for a deprecated operator
    /// (`checkDeprecatedOperator` in `pkg/validation/policy/validate.go`):
    /// only `In` and `NotIn` get one.
    pub fn deprecation(&self) -> Option<&'static str> {
        match self {
            Operator::In => Some(
                "Operator In has been deprecated and will be removed soon. Use these instead: [\"AllIn\" \"AnyIn\"]",
            ),
            Operator::NotIn => Some(
                "Operator NotIn has been deprecated and will be removed soon. Use these instead: [\"AllNotIn\" \"AnyNotIn\"]",
            ),
            _ => None,
        }
    }

    /// Evaluates `key <operator> value` with Kyverno's semantics (after
    /// variable substitution). Type mismatches give `false`, as in Kyverno.
    pub fn evaluate(self, key: &Value, value: &Value) -> bool {
        match self {
            Operator::Equals => equals(key, value),
            Operator::NotEquals => not_equals(key, value),
            Operator::In => in_handler(key, value, false),
            Operator::NotIn => in_handler(key, value, true),
            Operator::AnyIn => any_handler(key, value, false),
            Operator::AnyNotIn => any_handler(key, value, true),
            Operator::AllIn => all_handler(key, value, false),
            Operator::AllNotIn => all_handler(key, value, true),
            Operator::GreaterThan => numeric(key, value, Rel::Gt),
            Operator::GreaterThanOrEquals => numeric(key, value, Rel::Ge),
            Operator::LessThan => numeric(key, value, Rel::Lt),
            Operator::LessThanOrEquals => numeric(key, value, Rel::Le),
            Operator::DurationGreaterThan => duration_handler(key, value, Rel::Gt),
            Operator::DurationGreaterThanOrEquals => duration_handler(key, value, Rel::Ge),
            Operator::DurationLessThan => duration_handler(key, value, Rel::Lt),
            Operator::DurationLessThanOrEquals => duration_handler(key, value, Rel::Le),
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Nesting beyond this depth is not walked (deep equality and `fmt.Sprint`
/// of nested values); hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 256;

/// A JSON number as Kyverno sees it (`float64`).
fn num(n: &serde_json::Number) -> f64 {
    n.as_f64().unwrap_or(f64::NAN)
}

// ---------------------------------------------------------------------------
// Equals / NotEquals (equal.go, notequal.go)

fn equals(key: &Value, value: &Value) -> bool {
    match key {
        Value::Bool(k) => matches!(value, Value::Bool(v) if v == k),
        Value::Number(k) => {
            let k = num(k);
            match value {
                Value::Number(v) => num(v) == k,
                Value::String(s) => go::parse_float(s).is_some_and(|f| f == k),
                _ => false,
            }
        }
        Value::String(k) => equals_string(k, value),
        Value::Object(_) => matches!(value, Value::Object(_)) && deep_equal(key, value, 0),
        Value::Array(_) => matches!(value, Value::Array(_)) && deep_equal(key, value, 0),
        Value::Null => false,
    }
}

fn equals_string(key: &str, value: &Value) -> bool {
    // Durations first: the only type that compares with another type.
    if let Some((k, v)) = duration_pair(&Arg::Str(key), &arg(value)) {
        return go::seconds(k) == go::seconds(v);
    }
    if let Some(kq) = quantity::parse(key)
        && let Value::String(s) = value
    {
        return quantity::parse(s).is_some_and(|vq| kq.cmp(&vq) == Ordering::Equal);
    }
    match value {
        Value::String(s) => wildcard::matches(s, key),
        _ => false,
    }
}

fn not_equals(key: &Value, value: &Value) -> bool {
    match key {
        Value::Bool(k) => !matches!(value, Value::Bool(v) if v == k),
        Value::Number(k) => {
            let k = num(k);
            match value {
                Value::Number(v) => num(v) != k,
                Value::String(s) => go::parse_float(s).is_none_or(|f| f != k),
                _ => true,
            }
        }
        Value::String(k) => not_equals_string(k, value),
        Value::Object(_) | Value::Array(_) => {
            let same_kind = matches!(
                (key, value),
                (Value::Object(_), Value::Object(_)) | (Value::Array(_), Value::Array(_))
            );
            !same_kind || !deep_equal(key, value, 0)
        }
        // The Go handler's default branch ("Unsupported type") returns false.
        Value::Null => false,
    }
}

fn not_equals_string(key: &str, value: &Value) -> bool {
    if let Some((k, v)) = duration_pair(&Arg::Str(key), &arg(value)) {
        return go::seconds(k) != go::seconds(v);
    }
    if let Some(kq) = quantity::parse(key)
        && let Value::String(s) = value
    {
        if s.is_empty() {
            return !wildcard::matches(s, key);
        }
        return quantity::parse(s).is_none_or(|vq| kq.cmp(&vq) != Ordering::Equal);
    }
    match value {
        Value::String(s) => !wildcard::matches(s, key),
        _ => true,
    }
}

/// `reflect.DeepEqual` on JSON-decoded Go values (numbers are `float64`).
fn deep_equal(a: &Value, b: &Value, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => num(x) == num(y),
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| deep_equal(p, q, depth + 1))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, p)| y.get(k).is_some_and(|q| deep_equal(p, q, depth + 1)))
        }
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// Durations (operator.go parseDuration, duration.go)

/// A key or value as `parseDuration` sees it.
enum Arg<'a> {
    Str(&'a str),
    Num(f64),
    Other,
}

fn arg(v: &Value) -> Arg<'_> {
    match v {
        Value::String(s) => Arg::Str(s),
        Value::Number(n) => Arg::Num(num(n)),
        _ => Arg::Other,
    }
}

/// Kyverno's `parseDuration(key, value)`: at least one side must be a
/// duration string other than `"0"`; the other side may be a number of
/// seconds. Durations in nanoseconds.
fn duration_pair(key: &Arg<'_>, value: &Arg<'_>) -> Option<(i64, i64)> {
    let parse = |a: &Arg<'_>| match a {
        Arg::Str(s) if *s != "0" => go::parse_duration(s),
        _ => None,
    };
    let (kd, vd) = (parse(key), parse(value));
    if kd.is_none() && vd.is_none() {
        return None;
    }
    let from_number = |a: &Arg<'_>| match a {
        Arg::Num(f) => Some(go::duration_from_seconds(*f)),
        _ => None,
    };
    let kd = match kd {
        Some(d) => d,
        None => from_number(key)?,
    };
    let vd = match vd {
        Some(d) => d,
        None => from_number(value)?,
    };
    Some((kd, vd))
}

/// The ordering an operator asks for.
#[derive(Clone, Copy)]
enum Rel {
    Gt,
    Ge,
    Lt,
    Le,
}

impl Rel {
    fn floats(self, a: f64, b: f64) -> bool {
        match self {
            Rel::Gt => a > b,
            Rel::Ge => a >= b,
            Rel::Lt => a < b,
            Rel::Le => a <= b,
        }
    }

    fn ordering(self, o: Ordering) -> bool {
        match self {
            Rel::Gt => o == Ordering::Greater,
            Rel::Ge => o != Ordering::Less,
            Rel::Lt => o == Ordering::Less,
            Rel::Le => o != Ordering::Greater,
        }
    }
}

fn duration_handler(key: &Value, value: &Value, rel: Rel) -> bool {
    let k = match key {
        Value::Number(n) => go::duration_from_seconds(num(n)),
        Value::String(s) => match go::parse_duration(s) {
            Some(d) => d,
            None => return false,
        },
        _ => return false,
    };
    let v = match value {
        Value::Number(n) => go::duration_from_seconds(num(n)),
        Value::String(s) => match go::parse_duration(s) {
            Some(d) => d,
            None => return false,
        },
        _ => return false,
    };
    rel.ordering(k.cmp(&v))
}

// ---------------------------------------------------------------------------
// GreaterThan & co (numeric.go)

fn numeric(key: &Value, value: &Value, rel: Rel) -> bool {
    match key {
        Value::Number(n) => numeric_float(num(n), value, rel),
        Value::String(s) => numeric_string(s, value, rel),
        _ => false,
    }
}

fn numeric_float(key: f64, value: &Value, rel: Rel) -> bool {
    match value {
        Value::Number(n) => rel.floats(key, num(n)),
        Value::String(s) => {
            if let Some((k, v)) = duration_pair(&Arg::Num(key), &Arg::Str(s)) {
                return rel.floats(go::seconds(k), go::seconds(v));
            }
            // ParseInt only succeeds where ParseFloat does, so the Go
            // fallback to ParseInt never changes the outcome.
            go::parse_float(s).is_some_and(|v| rel.floats(key, v))
        }
        _ => false,
    }
}

fn numeric_string(key: &str, value: &Value, rel: Rel) -> bool {
    if let Some((k, v)) = duration_pair(&Arg::Str(key), &arg(value)) {
        return rel.floats(go::seconds(k), go::seconds(v));
    }
    if let Value::String(s) = value
        && let (Some(kq), Some(vq)) = (quantity::parse(key), quantity::parse(s))
    {
        return rel.ordering(kq.cmp(&vq));
    }
    if let Some(k) = go::parse_float(key) {
        return numeric_float(k, value, rel);
    }
    if let Some(kv) = semver::Version::parse(key) {
        return match value {
            Value::String(s) => {
                semver::Version::parse(s).is_some_and(|vv| rel.ordering(kv.cmp(&vv)))
            }
            _ => false,
        };
    }
    false
}

// ---------------------------------------------------------------------------
// In / NotIn (in.go, notin.go; deprecated)

/// `invalidType` of the Go helpers: the handler then returns false.
struct Invalid;

fn in_handler(key: &Value, value: &Value, not: bool) -> bool {
    match key {
        Value::String(s) => in_string(s, value, not),
        Value::Number(_) | Value::Bool(_) => in_string(&go::sprint(key), value, not),
        Value::Array(items) => {
            // Kyverno asserts `v.(string)` and panics on other elements.
            let mut keys = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(s) => keys.push(s.clone()),
                    _ => return false,
                }
            }
            set_exists_in_array(&keys, value, not).unwrap_or_default()
        }
        _ => false,
    }
}

fn in_string(key: &str, value: &Value, not: bool) -> bool {
    match key_exists_in_array(key, value) {
        Ok(exists) => exists != not,
        Err(Invalid) => false,
    }
}

/// `keyExistsInArray` (in.go).
fn key_exists_in_array(key: &str, value: &Value) -> Result<bool, Invalid> {
    match value {
        Value::Array(items) => Ok(any_wildcard_either_way(key, items)),
        Value::String(s) => {
            if wildcard::matches(s, key) {
                return Ok(true);
            }
            let arr = go::json_string_array(s).ok_or(Invalid)?;
            Ok(arr.iter().any(|v| v == key))
        }
        _ => Err(Invalid),
    }
}

fn any_wildcard_either_way(key: &str, items: &[Value]) -> bool {
    items.iter().any(|v| {
        let s = go::sprint(v);
        wildcard::matches(&s, key) || wildcard::matches(key, &s)
    })
}

/// `setExistsInArray` (in.go): exact set membership, no wildcards.
fn set_exists_in_array(keys: &[String], value: &Value, not: bool) -> Result<bool, Invalid> {
    let values: Vec<String> = match value {
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(s) => out.push(s.clone()),
                    _ => return Err(Invalid),
                }
            }
            out
        }
        Value::String(s) => {
            // Kyverno returns true here for NotIn as well.
            if keys.len() == 1 && keys[0] == *s {
                return Ok(true);
            }
            go::json_string_array(s).ok_or(Invalid)?
        }
        _ => return Err(Invalid),
    };
    let contains = |k: &String| values.iter().any(|v| v == k);
    Ok(if not {
        keys.iter().any(|k| !contains(k))
    } else {
        keys.iter().all(contains)
    })
}

// ---------------------------------------------------------------------------
// AnyIn / AnyNotIn / AllIn / AllNotIn (anyin.go, anynotin.go, allin.go, allnotin.go)

/// Key strings for the Any/All family (`fmt.Sprint` of each element).
enum Keys {
    One(String),
    Set(Vec<String>),
}

fn keys_of(key: &Value) -> Option<Keys> {
    match key {
        Value::String(s) => Some(Keys::One(s.clone())),
        Value::Number(_) | Value::Bool(_) => Some(Keys::One(go::sprint(key))),
        Value::Array(items) => Some(Keys::Set(items.iter().map(go::sprint).collect())),
        _ => None,
    }
}

fn any_handler(key: &Value, value: &Value, not: bool) -> bool {
    match keys_of(key) {
        Some(Keys::One(k)) => match any_key_exists_in_array(&k, value) {
            Ok(exists) => exists != not,
            Err(Invalid) => false,
        },
        Some(Keys::Set(ks)) => any_set_exists_in_array(&ks, value, not).unwrap_or(false),
        None => false,
    }
}

fn all_handler(key: &Value, value: &Value, not: bool) -> bool {
    match keys_of(key) {
        // allKeyExistsInArray is the same code as anyKeyExistsInArray.
        Some(Keys::One(k)) => match any_key_exists_in_array(&k, value) {
            Ok(exists) => exists != not,
            Err(Invalid) => false,
        },
        Some(Keys::Set(ks)) => all_set_exists_in_array(&ks, value, not).unwrap_or(false),
        None => false,
    }
}

/// The value list of a string value: a JSON array of strings if the string
/// is valid JSON, otherwise the string itself.
fn string_value_list(s: &str) -> Result<Vec<String>, Invalid> {
    if go::json_valid(s) {
        go::json_string_array(s).ok_or(Invalid)
    } else {
        Ok(vec![s.to_string()])
    }
}

/// `anyKeyExistsInArray` / `allKeyExistsInArray`.
fn any_key_exists_in_array(key: &str, value: &Value) -> Result<bool, Invalid> {
    match value {
        Value::Array(items) => Ok(any_wildcard_either_way(key, items)),
        Value::String(s) => {
            if wildcard::matches(s, key) {
                return Ok(true);
            }
            if pattern::operator(s) == pattern::Op::InRange {
                return Ok(pattern::validate(key, s));
            }
            Ok(string_value_list(s)?.iter().any(|v| v == key))
        }
        _ => Err(Invalid),
    }
}

/// `anySetExistsInArray`.
fn any_set_exists_in_array(keys: &[String], value: &Value, not: bool) -> Result<bool, Invalid> {
    let values: Vec<String> = match value {
        Value::Array(items) => items.iter().map(go::sprint).collect(),
        Value::Number(_) | Value::Bool(_) => vec![go::sprint(value)],
        Value::String(s) => {
            if keys.len() == 1 && keys[0] == *s {
                return Ok(!not);
            }
            if pattern::operator(s) == pattern::Op::InRange {
                return Ok(if not {
                    let negated = s.replacen('-', "!-", 1);
                    keys.iter().any(|k| pattern::validate(k, &negated))
                } else {
                    keys.iter().any(|k| pattern::validate(k, s))
                });
            }
            string_value_list(s)?
        }
        _ => return Err(Invalid),
    };
    let found = |k: &String| {
        values
            .iter()
            .any(|v| wildcard::matches(k, v) || wildcard::matches(v, k))
    };
    Ok(if not {
        keys.iter().any(|k| !found(k))
    } else {
        keys.iter().any(found)
    })
}

/// `allSetExistsInArray` (numbers and booleans are not accepted as values).
fn all_set_exists_in_array(keys: &[String], value: &Value, not: bool) -> Result<bool, Invalid> {
    let values: Vec<String> = match value {
        Value::Array(items) => items.iter().map(go::sprint).collect(),
        Value::String(s) => {
            if keys.len() == 1 && keys[0] == *s {
                return Ok(!not);
            }
            if pattern::operator(s) == pattern::Op::InRange {
                return Ok(if not {
                    !keys.iter().any(|k| pattern::validate(k, s))
                } else {
                    keys.iter().all(|k| pattern::validate(k, s))
                });
            }
            string_value_list(s)?
        }
        _ => return Err(Invalid),
    };
    let found = |k: &String| {
        values
            .iter()
            .any(|v| wildcard::matches(k, v) || wildcard::matches(v, k))
    };
    Ok(if not {
        !keys.iter().any(found)
    } else {
        keys.iter().all(found)
    })
}

// ---------------------------------------------------------------------------
// Range patterns (pkg/engine/operator, pkg/engine/pattern), used by the
// Any/All operators for values such as "1-10" and "1!-10".

mod pattern {
    use super::{go, quantity, wildcard};
    use std::cmp::Ordering;

    /// `pkg/engine/operator.Operator`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(super) enum Op {
        Equal,
        MoreEqual,
        LessEqual,
        NotEqual,
        More,
        Less,
        InRange,
        NotInRange,
    }

    impl Op {
        fn prefix_len(self) -> usize {
            match self {
                Op::Equal | Op::InRange | Op::NotInRange => 0,
                Op::MoreEqual | Op::LessEqual => 2,
                Op::NotEqual | Op::More | Op::Less => 1,
            }
        }
    }

    /// `GetOperatorFromStringPattern`.
    pub(super) fn operator(p: &str) -> Op {
        if p.len() < 2 {
            return Op::Equal;
        }
        if p.starts_with(">=") {
            Op::MoreEqual
        } else if p.starts_with("<=") {
            Op::LessEqual
        } else if p.starts_with('>') {
            Op::More
        } else if p.starts_with('<') {
            Op::Less
        } else if p.starts_with('!') {
            Op::NotEqual
        } else if split_range(p, "!-").is_some() {
            Op::NotInRange
        } else if split_range(p, "-").is_some() {
            Op::InRange
        } else {
            Op::Equal
        }
    }

    /// One operand of `InRangeRegex`/`NotInRangeRegex`:
    /// `[-|\+]?\d+(?:\.\d+)?[A-Za-z]*`, returning its end.
    fn operand_end(b: &[u8], mut i: usize) -> Option<usize> {
        if matches!(b.get(i), Some(b'-' | b'|' | b'+')) {
            i += 1;
        }
        let digits = |mut j: usize| {
            while b.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
            j
        };
        let j = digits(i);
        if j == i {
            return None;
        }
        i = j;
        if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i = digits(i + 1);
        }
        while b.get(i).is_some_and(u8::is_ascii_alphabetic) {
            i += 1;
        }
        Some(i)
    }

    /// The two operands of a range pattern joined by `sep` (`-` or `!-`).
    pub(super) fn split_range<'a>(p: &'a str, sep: &str) -> Option<(&'a str, &'a str)> {
        let b = p.as_bytes();
        let left = operand_end(b, 0)?;
        if !p[left..].starts_with(sep) {
            return None;
        }
        let start = left + sep.len();
        let right = operand_end(b, start)?;
        (right == b.len()).then(|| (&p[..left], &p[start..]))
    }

    /// `pattern.Validate(log, value, pattern)` for a string value and a
    /// string pattern (the only shape the operators use).
    pub(super) fn validate(value: &str, pattern: &str) -> bool {
        if value == pattern {
            return true;
        }
        pattern.split('|').any(|cond| {
            cond.trim_matches(' ')
                .split('&')
                .all(|c| validate_one(value, c.trim_matches(' '), 0))
        })
    }

    fn validate_one(value: &str, pattern: &str, depth: u8) -> bool {
        let op = operator(pattern);
        match op {
            Op::InRange | Op::NotInRange if depth < 2 => {
                let sep = if op == Op::InRange { "-" } else { "!-" };
                let Some((l, r)) = split_range(pattern, sep) else {
                    return false;
                };
                if op == Op::InRange {
                    validate_one(value, &format!(">= {l}"), depth + 1)
                        && validate_one(value, &format!("<= {r}"), depth + 1)
                } else {
                    validate_one(value, &format!("< {l}"), depth + 1)
                        || validate_one(value, &format!("> {r}"), depth + 1)
                }
            }
            Op::InRange | Op::NotInRange => false,
            _ => {
                let rest = pattern.get(op.prefix_len()..).unwrap_or("").trim();
                compare(value, rest, op)
            }
        }
    }

    fn by_op(o: Ordering, op: Op) -> Option<bool> {
        Some(match op {
            Op::Equal => o == Ordering::Equal,
            Op::NotEqual => o != Ordering::Equal,
            Op::More => o == Ordering::Greater,
            Op::Less => o == Ordering::Less,
            Op::MoreEqual => o != Ordering::Less,
            Op::LessEqual => o != Ordering::Greater,
            Op::InRange | Op::NotInRange => return None,
        })
    }

    /// `validateString`: durations, then quantities, then wildcard strings.
    fn compare(value: &str, pattern: &str, op: Op) -> bool {
        if let (Some(p), Some(v)) = (go::parse_duration(pattern), go::parse_duration(value))
            && let Some(r) = by_op(v.cmp(&p), op)
        {
            return r;
        }
        if let (Some(p), Some(v)) = (quantity::parse(pattern), quantity::parse(value))
            && let Some(r) = by_op(v.cmp(&p), op)
        {
            return r;
        }
        match op {
            Op::Equal => wildcard::matches(pattern, value),
            Op::NotEqual => !wildcard::matches(pattern, value),
            _ => false,
        }
    }
}

// ---------------------------------------------------------------------------
// Go standard library behaviour the handlers depend on.

/// Ports of the Go standard library functions Kyverno's operators and
/// variable substitution rely on.
pub(crate) mod go {
    use serde_json::Value;

    use super::{MAX_DEPTH, num};

    /// `strconv.ParseFloat(s, 64)`; `None` where Go returns an error,
    /// including out-of-range values (Go returns ±Inf with `ErrRange`).
    pub(crate) fn parse_float(s: &str) -> Option<f64> {
        if let Some(f) = special_float(s) {
            return Some(f);
        }
        let b = s.as_bytes();
        let mut i = 0;
        let neg = match b.first() {
            Some(b'+') => {
                i = 1;
                false
            }
            Some(b'-') => {
                i = 1;
                true
            }
            _ => false,
        };
        if i + 2 < b.len() && b[i] == b'0' && (b[i + 1] | 0x20) == b'x' {
            return parse_hex_float(s, i + 2, neg);
        }
        // Decimal: digits [. digits] [e [sign] digits], underscores allowed
        // where Go's underscoreOK allows them.
        let mut clean = String::with_capacity(s.len());
        if neg {
            clean.push('-');
        }
        let mut saw_digits = false;
        let mut saw_dot = false;
        let mut underscores = false;
        while i < b.len() {
            match b[i] {
                b'_' => underscores = true,
                b'.' if !saw_dot => {
                    saw_dot = true;
                    clean.push('.');
                }
                c @ b'0'..=b'9' => {
                    saw_digits = true;
                    clean.push(c as char);
                }
                _ => break,
            }
            i += 1;
        }
        if !saw_digits {
            return None;
        }
        if i < b.len() && (b[i] | 0x20) == b'e' {
            i += 1;
            clean.push('e');
            if let Some(&c @ (b'+' | b'-')) = b.get(i) {
                clean.push(c as char);
                i += 1;
            }
            if !b.get(i).is_some_and(u8::is_ascii_digit) {
                return None;
            }
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
                if b[i] == b'_' {
                    underscores = true;
                } else {
                    clean.push(b[i] as char);
                }
                i += 1;
            }
        }
        if i != b.len() || (underscores && !underscore_ok(s)) {
            return None;
        }
        let f: f64 = clean.parse().ok()?;
        f.is_finite().then_some(f)
    }

    /// Go's `special`: `inf`, `infinity` (optionally signed), `nan`.
    fn special_float(s: &str) -> Option<f64> {
        let (sign, rest) = match s.as_bytes().first() {
            Some(b'+') => (1.0, &s[1..]),
            Some(b'-') => (-1.0, &s[1..]),
            _ => (1.0, s),
        };
        if rest.eq_ignore_ascii_case("inf") || rest.eq_ignore_ascii_case("infinity") {
            return Some(sign * f64::INFINITY);
        }
        if rest.len() == s.len() && s.eq_ignore_ascii_case("nan") {
            return Some(f64::NAN);
        }
        None
    }

    /// Go's `underscoreOK`.
    fn underscore_ok(s: &str) -> bool {
        let mut b = s.as_bytes();
        if matches!(b.first(), Some(b'+' | b'-')) {
            b = &b[1..];
        }
        let mut saw = b'^';
        let mut i = 0;
        let mut hex = false;
        if b.len() >= 2 && b[0] == b'0' && matches!(b[1] | 0x20, b'b' | b'o' | b'x') {
            i = 2;
            saw = b'0';
            hex = (b[1] | 0x20) == b'x';
        }
        while i < b.len() {
            let c = b[i];
            if c.is_ascii_digit() || (hex && (c | 0x20).is_ascii_hexdigit()) {
                saw = b'0';
            } else if c == b'_' {
                if saw != b'0' {
                    return false;
                }
                saw = b'_';
            } else {
                if saw == b'_' {
                    return false;
                }
                saw = b'!';
            }
            i += 1;
        }
        saw != b'_'
    }

    /// Hexadecimal floats (`0x1.8p3`): Go's `readFloat` + `atofHex`.
    fn parse_hex_float(s: &str, mut i: usize, neg: bool) -> Option<f64> {
        let b = s.as_bytes();
        let mut mantissa: u64 = 0;
        let mut nd_mant: i64 = 0;
        let mut nd: i64 = 0;
        let mut dp: i64 = 0;
        let mut saw_dot = false;
        let mut saw_digits = false;
        let mut trunc = false;
        let mut underscores = false;
        while i < b.len() {
            let c = b[i];
            if c == b'_' {
                underscores = true;
            } else if c == b'.' {
                if saw_dot {
                    break;
                }
                saw_dot = true;
                dp = nd;
            } else if c.is_ascii_hexdigit() {
                saw_digits = true;
                let d = u64::from((c as char).to_digit(16).unwrap_or(0));
                if c == b'0' && nd == 0 {
                    dp -= 1;
                } else {
                    nd += 1;
                    if nd_mant < 16 {
                        mantissa = mantissa * 16 + d;
                        nd_mant += 1;
                    } else if c != b'0' {
                        trunc = true;
                    }
                }
            } else {
                break;
            }
            i += 1;
        }
        if !saw_digits {
            return None;
        }
        if !saw_dot {
            dp = nd;
        }
        dp *= 4;
        nd_mant *= 4;
        // Mandatory binary exponent.
        if i >= b.len() || (b[i] | 0x20) != b'p' {
            return None;
        }
        i += 1;
        let mut esign = 1;
        match b.get(i) {
            Some(b'+') => i += 1,
            Some(b'-') => {
                esign = -1;
                i += 1
            }
            _ => {}
        }
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        let mut e: i64 = 0;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            if b[i] == b'_' {
                underscores = true;
            } else if e < 10000 {
                e = e * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        dp += e * esign;
        if i != b.len() || (underscores && !underscore_ok(s)) {
            return None;
        }
        let exp = if mantissa != 0 { dp - nd_mant } else { 0 };
        atof_hex(mantissa, exp, neg, trunc)
    }

    /// Go's `atofHex` for float64: round half to even, `None` on overflow.
    fn atof_hex(mut mantissa: u64, mut exp: i64, neg: bool, trunc: bool) -> Option<f64> {
        const MANTBITS: i64 = 52;
        const BIAS: i64 = -1023;
        let max_exp = 2047 + BIAS - 1; // 1023
        let min_exp = BIAS + 1; // -1022
        exp += MANTBITS;
        while mantissa != 0 && (mantissa >> (MANTBITS + 2)) == 0 {
            mantissa <<= 1;
            exp -= 1;
        }
        if trunc {
            mantissa |= 1;
        }
        while (mantissa >> (1 + MANTBITS + 2)) != 0 {
            mantissa = (mantissa >> 1) | (mantissa & 1);
            exp += 1;
        }
        while mantissa > 1 && exp < min_exp - 2 {
            mantissa = (mantissa >> 1) | (mantissa & 1);
            exp += 1;
        }
        let mut round = mantissa & 3;
        mantissa >>= 2;
        round |= mantissa & 1;
        exp += 2;
        if round == 3 {
            mantissa += 1;
            if mantissa == 1 << (1 + MANTBITS) {
                mantissa >>= 1;
                exp += 1;
            }
        }
        if (mantissa >> MANTBITS) == 0 {
            exp = BIAS;
        }
        if exp > max_exp {
            return None;
        }
        let mut bits = mantissa & ((1u64 << MANTBITS) - 1);
        bits |= (((exp - BIAS) & 0x7ff) as u64) << MANTBITS;
        if neg {
            bits |= 1 << 63;
        }
        Some(f64::from_bits(bits))
    }

    /// `time.ParseDuration`, in nanoseconds.
    pub(crate) fn parse_duration(s: &str) -> Option<i64> {
        const UNITS: [(&[u8], u64); 8] = [
            (b"ns", 1),
            (b"us", 1_000),
            ("µs".as_bytes(), 1_000),
            ("μs".as_bytes(), 1_000),
            (b"ms", 1_000_000),
            (b"s", 1_000_000_000),
            (b"m", 60_000_000_000),
            (b"h", 3_600_000_000_000),
        ];
        const LIMIT: u64 = 1 << 63;
        let mut b = s.as_bytes();
        let mut neg = false;
        if let Some(&c @ (b'-' | b'+')) = b.first() {
            neg = c == b'-';
            b = &b[1..];
        }
        if b == b"0" {
            return Some(0);
        }
        if b.is_empty() {
            return None;
        }
        let mut d: u64 = 0;
        while !b.is_empty() {
            if !(b[0] == b'.' || b[0].is_ascii_digit()) {
                return None;
            }
            // Leading integer.
            let mut v: u64 = 0;
            let mut i = 0;
            while i < b.len() && b[i].is_ascii_digit() {
                if v > LIMIT / 10 {
                    return None;
                }
                v = v * 10 + u64::from(b[i] - b'0');
                if v > LIMIT {
                    return None;
                }
                i += 1;
            }
            let pre = i > 0;
            b = &b[i..];
            // Fraction.
            let (mut f, mut scale, mut post) = (0u64, 1f64, false);
            if b.first() == Some(&b'.') {
                b = &b[1..];
                let mut j = 0;
                let mut overflow = false;
                while j < b.len() && b[j].is_ascii_digit() {
                    if !overflow {
                        if f > (LIMIT - 1) / 10 {
                            overflow = true;
                        } else {
                            let y = f * 10 + u64::from(b[j] - b'0');
                            if y > LIMIT {
                                overflow = true;
                            } else {
                                f = y;
                                scale *= 10.0;
                            }
                        }
                    }
                    j += 1;
                }
                post = j > 0;
                b = &b[j..];
            }
            if !pre && !post {
                return None;
            }
            // Unit.
            let mut k = 0;
            while k < b.len() && b[k] != b'.' && !b[k].is_ascii_digit() {
                k += 1;
            }
            if k == 0 {
                return None;
            }
            let unit = UNITS.iter().find(|(u, _)| *u == &b[..k]).map(|(_, n)| *n)?;
            b = &b[k..];
            if v > LIMIT / unit {
                return None;
            }
            v *= unit;
            if f > 0 {
                v = v.checked_add((f as f64 * (unit as f64 / scale)) as u64)?;
                if v > LIMIT {
                    return None;
                }
            }
            d = d.checked_add(v)?;
            if d > LIMIT {
                return None;
            }
        }
        if neg {
            return Some((d as i64).wrapping_neg());
        }
        if d > LIMIT - 1 {
            return None;
        }
        Some(d as i64)
    }

    /// `time.Duration(f) * time.Second`: Go truncates the float to an
    /// integer (out of range gives `math.MinInt64` on amd64) and the
    /// multiplication wraps.
    pub(crate) fn duration_from_seconds(f: f64) -> i64 {
        let t = f.trunc();
        let limit = 2f64.powi(63);
        let whole = if (-limit..limit).contains(&t) {
            t as i64
        } else {
            i64::MIN
        };
        whole.wrapping_mul(1_000_000_000)
    }

    /// `time.Duration.Seconds()`.
    pub(crate) fn seconds(d: i64) -> f64 {
        let sec = d / 1_000_000_000;
        let nsec = d % 1_000_000_000;
        sec as f64 + nsec as f64 / 1e9
    }

    /// Shortest round-trip decimal digits of a finite `f` (its sign is
    /// ignored) and the decimal point position, as Go's `strconv` computes
    /// them (zero has no digits).
    fn shortest_digits(f: f64) -> (Vec<u8>, i32) {
        if f == 0.0 {
            return (Vec::new(), 0);
        }
        let s = format!("{:e}", f.abs());
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let digits: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
        let exp: i32 = exp.parse().unwrap_or(0);
        (digits, exp + 1)
    }

    fn fmt_e(out: &mut String, digits: &[u8], dp: i32) {
        out.push(digits.first().map_or('0', |d| *d as char));
        if digits.len() > 1 {
            out.push('.');
            out.extend(digits[1..].iter().map(|d| *d as char));
        }
        out.push('e');
        let mut exp = if digits.is_empty() { 0 } else { dp - 1 };
        if exp < 0 {
            out.push('-');
            exp = -exp;
        } else {
            out.push('+');
        }
        if exp < 10 {
            out.push('0');
        }
        out.push_str(&exp.to_string());
    }

    fn fmt_f(out: &mut String, digits: &[u8], dp: i32, prec: i32) {
        let digit = |i: i32| -> char {
            usize::try_from(i)
                .ok()
                .and_then(|i| digits.get(i))
                .map_or('0', |d| *d as char)
        };
        if dp > 0 {
            for i in 0..dp {
                out.push(digit(i));
            }
        } else {
            out.push('0');
        }
        if prec > 0 {
            out.push('.');
            for i in 1..=prec {
                out.push(digit(dp + i - 1));
            }
        }
    }

    fn push_special(out: &mut String, f: f64) -> bool {
        if f.is_nan() {
            out.push_str("NaN");
        } else if f.is_infinite() {
            out.push_str(if f > 0.0 { "+Inf" } else { "-Inf" });
        } else {
            return false;
        }
        true
    }

    /// `fmt.Sprint` of a `float64` (`%v`: `%g` with the shortest digits,
    /// exponent form when the exponent is < -4 or >= 6, e.g. `1e+06`).
    pub(crate) fn format_float_v(out: &mut String, f: f64) {
        if push_special(out, f) {
            return;
        }
        if f.is_sign_negative() {
            out.push('-');
        }
        let (digits, dp) = shortest_digits(f);
        let nd = digits.len() as i32;
        let exp = dp - 1;
        if !digits.is_empty() && !(-4..V_EPREC).contains(&exp) {
            fmt_e(out, &digits, dp);
        } else {
            fmt_f(out, &digits, dp, (nd - dp).max(0));
        }
    }

    /// The exponent threshold of `%v` for floats (`eprec` for the shortest
    /// representation in `strconv`).
    const V_EPREC: i32 = 6;

    /// `encoding/json` (and jsoniter's standard-library mode) encoding of a
    /// `float64`.
    pub(crate) fn format_float_json(out: &mut String, f: f64) {
        if push_special(out, f) {
            return;
        }
        if f.is_sign_negative() {
            out.push('-');
        }
        let (digits, dp) = shortest_digits(f);
        let abs = f.abs();
        if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
            let start = out.len();
            fmt_e(out, &digits, dp);
            // Clean up e-09 to e-9.
            let tail = &out[start..];
            if let Some(pos) = tail.find("e-0")
                && tail.len() == pos + 4
            {
                let at = start + pos + 2;
                out.remove(at);
            }
        } else {
            fmt_f(out, &digits, dp, (digits.len() as i32 - dp).max(0));
        }
    }

    /// `fmt.Sprint(v)` of a JSON-decoded Go value.
    pub(crate) fn sprint(v: &Value) -> String {
        let mut out = String::new();
        sprint_into(&mut out, v, 0);
        out
    }

    fn sprint_into(out: &mut String, v: &Value, depth: usize) {
        match v {
            Value::Null => out.push_str("<nil>"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => format_float_v(out, num(n)),
            Value::String(s) => out.push_str(s),
            Value::Array(items) => {
                out.push('[');
                if depth < MAX_DEPTH {
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push(' ');
                        }
                        sprint_into(out, item, depth + 1);
                    }
                }
                out.push(']');
            }
            Value::Object(m) => {
                out.push_str("map[");
                if depth < MAX_DEPTH {
                    let mut keys: Vec<&String> = m.keys().collect();
                    keys.sort();
                    for (i, k) in keys.into_iter().enumerate() {
                        if i > 0 {
                            out.push(' ');
                        }
                        out.push_str(k);
                        out.push(':');
                        if let Some(item) = m.get(k) {
                            sprint_into(out, item, depth + 1);
                        }
                    }
                }
                out.push(']');
            }
        }
    }

    /// `json.Valid`: RFC 8259 syntax, any nesting depth.
    pub(crate) fn json_valid(s: &str) -> bool {
        let mut p = Scanner {
            b: s.as_bytes(),
            i: 0,
        };
        p.ws();
        if !p.value() {
            return false;
        }
        p.ws();
        p.i == p.b.len()
    }

    /// `json.Unmarshal(s, &[]string{})`: `null` gives an empty list, `null`
    /// elements give `""`, anything else (or invalid JSON) is an error.
    pub(crate) fn json_string_array(s: &str) -> Option<Vec<String>> {
        if !json_valid(s) {
            return None;
        }
        let mut p = Scanner {
            b: s.as_bytes(),
            i: 0,
        };
        p.ws();
        if p.lit(b"null") {
            return Some(Vec::new());
        }
        if !p.eat(b'[') {
            return None;
        }
        let mut out = Vec::new();
        p.ws();
        if p.eat(b']') {
            return Some(out);
        }
        loop {
            p.ws();
            if p.lit(b"null") {
                out.push(String::new());
            } else {
                out.push(p.string_value()?);
            }
            p.ws();
            if p.eat(b',') {
                continue;
            }
            return p.eat(b']').then_some(out);
        }
    }

    /// A small JSON scanner (iterative for nesting).
    struct Scanner<'a> {
        b: &'a [u8],
        i: usize,
    }

    impl Scanner<'_> {
        fn ws(&mut self) {
            while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                self.i += 1;
            }
        }

        fn eat(&mut self, c: u8) -> bool {
            if self.b.get(self.i) == Some(&c) {
                self.i += 1;
                true
            } else {
                false
            }
        }

        fn lit(&mut self, l: &[u8]) -> bool {
            if self.b[self.i..].starts_with(l) {
                self.i += l.len();
                true
            } else {
                false
            }
        }

        fn digits(&mut self) -> usize {
            let start = self.i;
            while self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
                self.i += 1;
            }
            self.i - start
        }

        fn number(&mut self) -> bool {
            self.eat(b'-');
            if self.eat(b'0') {
            } else if self
                .b
                .get(self.i)
                .is_some_and(|c| (b'1'..=b'9').contains(c))
            {
                self.digits();
            } else {
                return false;
            }
            if self.eat(b'.') && self.digits() == 0 {
                return false;
            }
            if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
                self.i += 1;
                if !self.eat(b'+') {
                    self.eat(b'-');
                }
                if self.digits() == 0 {
                    return false;
                }
            }
            true
        }

        /// Skips a string (the opening quote is next).
        fn string(&mut self) -> bool {
            if !self.eat(b'"') {
                return false;
            }
            while let Some(&c) = self.b.get(self.i) {
                self.i += 1;
                match c {
                    b'"' => return true,
                    b'\\' => match self.b.get(self.i) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 1,
                        Some(b'u') => {
                            let hex = self.b.get(self.i + 1..self.i + 5);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return false;
                            }
                            self.i += 5;
                        }
                        _ => return false,
                    },
                    0..=0x1f => return false,
                    _ => {}
                }
            }
            false
        }

        /// Decodes a string the way Go does (bad surrogates become U+FFFD).
        fn string_value(&mut self) -> Option<String> {
            let start = self.i;
            if !self.string() {
                return None;
            }
            let raw = std::str::from_utf8(&self.b[start + 1..self.i - 1]).ok()?;
            let mut out = String::with_capacity(raw.len());
            let mut chars = raw.chars();
            let hex4 = |it: &mut std::str::Chars<'_>| -> Option<u32> {
                let s: String = it.by_ref().take(4).collect();
                u32::from_str_radix(&s, 16).ok()
            };
            while let Some(c) = chars.next() {
                if c != '\\' {
                    out.push(c);
                    continue;
                }
                match chars.next()? {
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'u' => {
                        let hi = hex4(&mut chars)?;
                        if (0xD800..0xDC00).contains(&hi) {
                            let mut look = chars.clone();
                            if look.next() == Some('\\') && look.next() == Some('u') {
                                let lo = hex4(&mut look)?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                    out.push(char::from_u32(c).unwrap_or('\u{FFFD}'));
                                    chars = look;
                                    continue;
                                }
                            }
                            out.push('\u{FFFD}');
                        } else {
                            out.push(char::from_u32(hi).unwrap_or('\u{FFFD}'));
                        }
                    }
                    other => out.push(other),
                }
            }
            Some(out)
        }

        /// Validates one value; containers with an explicit stack.
        fn value(&mut self) -> bool {
            // Each entry: true for an object, false for an array.
            let mut stack: Vec<bool> = Vec::new();
            loop {
                self.ws();
                // A value.
                match self.b.get(self.i) {
                    Some(b'{') => {
                        self.i += 1;
                        self.ws();
                        if self.eat(b'}') {
                            // Empty object: fall through to "after value".
                        } else {
                            stack.push(true);
                            if !self.string() {
                                return false;
                            }
                            self.ws();
                            if !self.eat(b':') {
                                return false;
                            }
                            continue;
                        }
                    }
                    Some(b'[') => {
                        self.i += 1;
                        self.ws();
                        if !self.eat(b']') {
                            stack.push(false);
                            continue;
                        }
                    }
                    Some(b'"') => {
                        if !self.string() {
                            return false;
                        }
                    }
                    Some(b't') => {
                        if !self.lit(b"true") {
                            return false;
                        }
                    }
                    Some(b'f') => {
                        if !self.lit(b"false") {
                            return false;
                        }
                    }
                    Some(b'n') => {
                        if !self.lit(b"null") {
                            return false;
                        }
                    }
                    _ => {
                        if !self.number() {
                            return false;
                        }
                    }
                }
                // After a value: close containers or move to the next element.
                loop {
                    let Some(&is_object) = stack.last() else {
                        return true;
                    };
                    self.ws();
                    if self.eat(b',') {
                        if is_object {
                            self.ws();
                            if !self.string() {
                                return false;
                            }
                            self.ws();
                            if !self.eat(b':') {
                                return false;
                            }
                        }
                        break;
                    }
                    if self.eat(if is_object { b'}' } else { b']' }) {
                        stack.pop();
                        continue;
                    }
                    return false;
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource).

mod quantity {
    use std::cmp::Ordering;

    /// An exact quantity value: `(-1)^neg × digits × 10^exp`, normalised
    /// (no leading or trailing zero digits; zero has no digits).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub(super) struct Quantity {
        neg: bool,
        digits: Vec<u8>,
        exp: i64,
    }

    /// The largest value a BinarySI quantity keeps (`maxAllowed`).
    const MAX_INT64: &[u8] = b"9223372036854775807";

    impl Quantity {
        fn new(neg: bool, mut digits: Vec<u8>, mut exp: i64) -> Quantity {
            let lead = digits.iter().take_while(|d| **d == 0).count();
            digits.drain(..lead);
            while digits.last() == Some(&0) {
                digits.pop();
                exp += 1;
            }
            if digits.is_empty() {
                return Quantity {
                    neg: false,
                    digits,
                    exp: 0,
                };
            }
            Quantity { neg, digits, exp }
        }

        /// Position just above the most significant digit.
        fn magnitude(&self) -> i64 {
            self.digits.len() as i64 + self.exp
        }

        fn cmp_abs(&self, o: &Quantity) -> Ordering {
            match (self.digits.is_empty(), o.digits.is_empty()) {
                (true, true) => return Ordering::Equal,
                (true, false) => return Ordering::Less,
                (false, true) => return Ordering::Greater,
                _ => {}
            }
            self.magnitude().cmp(&o.magnitude()).then_with(|| {
                let n = self.digits.len().max(o.digits.len());
                (0..n)
                    .map(|i| {
                        let a = self.digits.get(i).copied().unwrap_or(0);
                        let b = o.digits.get(i).copied().unwrap_or(0);
                        a.cmp(&b)
                    })
                    .find(|o| *o != Ordering::Equal)
                    .unwrap_or(Ordering::Equal)
            })
        }

        /// `Quantity.Cmp`.
        pub(super) fn cmp(&self, o: &Quantity) -> Ordering {
            let sign = |q: &Quantity| {
                if q.digits.is_empty() {
                    0
                } else if q.neg {
                    -1
                } else {
                    1
                }
            };
            match sign(self).cmp(&sign(o)) {
                Ordering::Equal if sign(self) < 0 => o.cmp_abs(self),
                Ordering::Equal => self.cmp_abs(o),
                other => other,
            }
        }

        /// Rounds the magnitude up to a multiple of 10^-9 (`inf.RoundUp`).
        fn round_up_nano(self) -> Quantity {
            if self.digits.is_empty() || self.exp >= -9 {
                return self;
            }
            let drop = (-9 - self.exp) as u64;
            let keep = (self.digits.len() as u64).saturating_sub(drop) as usize;
            // Normalised: the last digit is non-zero, so something is dropped.
            let mut digits = self.digits[..keep].to_vec();
            let mut carry = true;
            for d in digits.iter_mut().rev() {
                if *d == 9 {
                    *d = 0;
                } else {
                    *d += 1;
                    carry = false;
                    break;
                }
            }
            if carry {
                digits.insert(0, 1);
            }
            Quantity::new(self.neg, digits, -9)
        }

        fn cap_int64(self) -> Quantity {
            let max = Quantity::new(false, MAX_INT64.iter().map(|d| d - b'0').collect(), 0);
            if self.cmp_abs(&max) == Ordering::Greater {
                Quantity {
                    neg: self.neg,
                    ..max
                }
            } else {
                self
            }
        }
    }

    /// `resource.ParseQuantity`, reduced to the value it denotes.
    pub(super) fn parse(s: &str) -> Option<Quantity> {
        if s.is_empty() {
            return None;
        }
        if s == "0" {
            return Some(Quantity::new(false, Vec::new(), 0));
        }
        let p = scan(s)?;
        let (base2, exponent) = interpret(p.suffix)?;
        let neg = !p.positive;
        let digits_of = |t: &str| t.bytes().map(|c| c - b'0').collect::<Vec<u8>>();
        let mut digits = digits_of(p.num);
        digits.extend(digits_of(p.denom));
        let denom_len = p.denom.len() as i64;
        if !base2 {
            // Fast path (exact) when the scale is at least nano and the
            // digits fit; otherwise inf.Dec with the scale in int32
            // arithmetic, then rounded up to nano. Both give the same value
            // apart from the int32 wrap of the slow path.
            let precision = 18 - (p.num.len() + p.denom.len()) as i64;
            let fast_scale = i64::from(exponent.wrapping_sub(p.denom.len() as i32));
            if precision >= 0 && fast_scale >= -9 {
                return Some(Quantity::new(neg, digits, fast_scale));
            }
            if !p.value.bytes().any(|c| c.is_ascii_digit()) {
                return None; // inf.Dec.SetString fails: ErrNumeric.
            }
            let scale = (denom_len as i32).wrapping_add(exponent.wrapping_neg());
            return Some(Quantity::new(neg, digits, -i64::from(scale)).round_up_nano());
        }
        // Binary: value × 2^exponent, exact, rounded up to nano, capped at
        // the largest int64. Outside Go's int64 fast path the numeric part
        // goes through inf.Dec.SetString, which needs a digit ("Ei" fails,
        // "Ti" is zero).
        let precision =
            15 - p.num.len() as i64 - i64::from((exponent as f32 * 3.0 / 10.0) as i32) - 1;
        let fast = p.denom.is_empty()
            && precision >= 0
            && p.num
                .parse::<i64>()
                .ok()
                .and_then(|v| v.checked_mul(1i64 << exponent))
                .is_some();
        if !fast && !p.value.bytes().any(|c| c.is_ascii_digit()) {
            return None;
        }
        let mut remaining = exponent.max(0) as u32;
        while remaining > 0 {
            let step = remaining.min(30);
            mul_small(&mut digits, 1u64 << step);
            remaining -= step;
        }
        let q = Quantity::new(neg, digits, -denom_len).round_up_nano();
        Some(q.cap_int64())
    }

    fn mul_small(digits: &mut Vec<u8>, m: u64) {
        let mut carry: u64 = 0;
        for d in digits.iter_mut().rev() {
            let x = u64::from(*d) * m + carry;
            *d = (x % 10) as u8;
            carry = x / 10;
        }
        while carry > 0 {
            digits.insert(0, (carry % 10) as u8);
            carry /= 10;
        }
    }

    struct Parts<'a> {
        positive: bool,
        value: &'a str,
        num: &'a str,
        denom: &'a str,
        suffix: &'a str,
    }

    /// `parseQuantityString`.
    fn scan(s: &str) -> Option<Parts<'_>> {
        let b = s.as_bytes();
        let end = b.len();
        let mut positive = true;
        let mut pos = 0;
        match b.first() {
            Some(b'-') => {
                positive = false;
                pos = 1;
            }
            Some(b'+') => pos = 1,
            _ => {}
        }
        // Leading zeros.
        while pos < end && b[pos] == b'0' {
            pos += 1;
        }
        if pos >= end {
            return Some(Parts {
                positive,
                value: "0",
                num: "0",
                denom: "",
                suffix: "",
            });
        }
        // Numerator.
        let start = pos;
        while pos < end && b[pos].is_ascii_digit() {
            pos += 1;
        }
        if pos >= end {
            return Some(Parts {
                positive,
                value: s,
                num: &s[start..],
                denom: "",
                suffix: "",
            });
        }
        let num = if pos == start { "0" } else { &s[start..pos] };
        // Denominator.
        let mut denom = "";
        if b[pos] == b'.' {
            pos += 1;
            let dstart = pos;
            while pos < end && b[pos].is_ascii_digit() {
                pos += 1;
            }
            if pos >= end {
                return Some(Parts {
                    positive,
                    value: s,
                    num,
                    denom: &s[dstart..],
                    suffix: "",
                });
            }
            denom = &s[dstart..pos];
        }
        let value = &s[..pos];
        // Suffix: letters of "eEinumkKMGTP", an optional sign, digits.
        let suffix_start = pos;
        while pos < end && b"eEinumkKMGTP".contains(&b[pos]) {
            pos += 1;
        }
        if pos < end && matches!(b[pos], b'-' | b'+') {
            pos += 1;
        }
        while pos < end && b[pos].is_ascii_digit() {
            pos += 1;
        }
        (pos >= end).then(|| Parts {
            positive,
            value,
            num,
            denom,
            suffix: &s[suffix_start..],
        })
    }

    /// The suffix as (binary?, exponent).
    fn interpret(suffix: &str) -> Option<(bool, i32)> {
        let dec = match suffix {
            "" => Some(0),
            "n" => Some(-9),
            "u" => Some(-6),
            "m" => Some(-3),
            "k" => Some(3),
            "M" => Some(6),
            "G" => Some(9),
            "T" => Some(12),
            "P" => Some(15),
            "E" => Some(18),
            _ => None,
        };
        if let Some(e) = dec {
            return Some((false, e));
        }
        let bin = match suffix {
            "Ki" => Some(10),
            "Mi" => Some(20),
            "Gi" => Some(30),
            "Ti" => Some(40),
            "Pi" => Some(50),
            "Ei" => Some(60),
            _ => None,
        };
        if let Some(e) = bin {
            return Some((true, e));
        }
        if suffix.len() > 1 && matches!(suffix.as_bytes()[0], b'e' | b'E') {
            // strconv.ParseInt(…, 10, 64), then int32(parsed).
            let parsed: i64 = suffix[1..].parse().ok()?;
            return Some((false, parsed as i32));
        }
        None
    }
}

// ---------------------------------------------------------------------------
// blang/semver v4 (Parse, Compare).

mod semver {
    use std::cmp::Ordering;

    #[derive(Debug, PartialEq, Eq)]
    enum Pre {
        Num(u64),
        Str(String),
    }

    impl Pre {
        fn cmp(&self, o: &Pre) -> Ordering {
            match (self, o) {
                (Pre::Num(a), Pre::Num(b)) => a.cmp(b),
                (Pre::Num(_), Pre::Str(_)) => Ordering::Less,
                (Pre::Str(_), Pre::Num(_)) => Ordering::Greater,
                (Pre::Str(a), Pre::Str(b)) => a.cmp(b),
            }
        }
    }

    /// A parsed version (build metadata is validated, then ignored).
    #[derive(Debug, PartialEq, Eq)]
    pub(super) struct Version {
        major: u64,
        minor: u64,
        patch: u64,
        pre: Vec<Pre>,
    }

    fn is_alnum(s: &str) -> bool {
        s.bytes().all(|c| c == b'-' || c.is_ascii_alphanumeric())
    }

    /// A numeric part: digits only, no leading zero, fits in u64.
    fn number(s: &str) -> Option<u64> {
        if !s.bytes().all(|c| c.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0')) {
            return None;
        }
        s.parse().ok()
    }

    impl Version {
        /// `semver.Parse` (strict: `major.minor.patch[-pre][+build]`).
        pub(super) fn parse(s: &str) -> Option<Version> {
            if s.is_empty() {
                return None;
            }
            let mut parts = s.splitn(3, '.');
            let (major, minor, rest) = (parts.next()?, parts.next()?, parts.next()?);
            let major = number(major)?;
            let minor = number(minor)?;
            let mut patch = rest;
            if let Some(i) = patch.find('+') {
                if !patch[i + 1..]
                    .split('.')
                    .all(|b| !b.is_empty() && is_alnum(b))
                {
                    return None;
                }
                patch = &patch[..i];
            }
            let mut pre = Vec::new();
            if let Some(i) = patch.find('-') {
                for p in patch[i + 1..].split('.') {
                    if p.is_empty() {
                        return None;
                    }
                    if p.bytes().all(|c| c.is_ascii_digit()) {
                        pre.push(Pre::Num(number(p)?));
                    } else if is_alnum(p) {
                        pre.push(Pre::Str(p.to_string()));
                    } else {
                        return None;
                    }
                }
                patch = &patch[..i];
            }
            let patch = number(patch)?;
            Some(Version {
                major,
                minor,
                patch,
                pre,
            })
        }

        /// `Version.Compare`.
        pub(super) fn cmp(&self, o: &Version) -> Ordering {
            let core = (self.major, self.minor, self.patch).cmp(&(o.major, o.minor, o.patch));
            if core != Ordering::Equal {
                return core;
            }
            match (self.pre.is_empty(), o.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self
                    .pre
                    .iter()
                    .zip(&o.pre)
                    .map(|(a, b)| a.cmp(b))
                    .find(|c| *c != Ordering::Equal)
                    .unwrap_or_else(|| self.pre.len().cmp(&o.pre.len())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse_json(s: &str) -> Value {
        serde_json::from_str(s).expect("test JSON")
    }

    fn eval(op: &str, key: &str, value: &str) -> bool {
        let op = Operator::parse(op).expect("operator");
        op.evaluate(&parse_json(key), &parse_json(value))
    }

    /// `(source, operator, key, value, expected)`: every case of Kyverno's
    /// operator test tables (`pkg/engine/variables/evaluate_test.go` TestEvaluate,
    /// `operator/{equal,notequal,in,anynotin,allnotin,numeric,duration}_test.go`),
    /// keys and values as JSON (Kyverno decodes them to `float64`).
    #[rustfmt::skip]
    const KYVERNO_CASES: &[(&str, &str, &str, &str, bool)] = &[
        ("evaluate_test.go", "Equals", r#""string""#, r#""string""#, true),
        ("evaluate_test.go", "Equals", r#"1"#, r#"1"#, true),
        ("evaluate_test.go", "Equals", r#"1"#, r#"1"#, true),
        ("evaluate_test.go", "Equals", r#"1"#, r#"1"#, true),
        ("evaluate_test.go", "Equals", r#"1.0"#, r#"1.0"#, true),
        ("evaluate_test.go", "Equals", r#"true"#, r#"true"#, true),
        ("evaluate_test.go", "Equals", r#"false"#, r#"false"#, true),
        ("evaluate_test.go", "Equals", r#""1024""#, r#""1Ki""#, true),
        ("evaluate_test.go", "Equals", r#""1Ki""#, r#""1024""#, true),
        ("evaluate_test.go", "Equals", r#""1Gi""#, r#""1Gi""#, true),
        ("evaluate_test.go", "Equals", r#""1Gi""#, r#""1024Mi""#, true),
        ("evaluate_test.go", "Equals", r#""1h""#, r#""1h""#, true),
        ("evaluate_test.go", "Equals", r#""1h""#, r#""60m""#, true),
        ("evaluate_test.go", "Equals", r#"{"foo":"bar"}"#, r#"{"foo":"bar"}"#, true),
        ("evaluate_test.go", "Equals", r#"["foo","bar"]"#, r#"["foo","bar"]"#, true),
        ("evaluate_test.go", "Equals", r#"[{"foo":"bar"}]"#, r#"[{"foo":"bar"}]"#, true),
        ("evaluate_test.go", "Equals", r#""string""#, r#""not string""#, false),
        ("evaluate_test.go", "Equals", r#"1"#, r#"2"#, false),
        ("evaluate_test.go", "Equals", r#"1"#, r#"2"#, false),
        ("evaluate_test.go", "Equals", r#"1"#, r#"2"#, false),
        ("evaluate_test.go", "Equals", r#"1.0"#, r#"2.0"#, false),
        ("evaluate_test.go", "Equals", r#"true"#, r#"false"#, false),
        ("evaluate_test.go", "Equals", r#"false"#, r#"true"#, false),
        ("evaluate_test.go", "Equals", r#""1Gi""#, r#""10Gi""#, false),
        ("evaluate_test.go", "Equals", r#""10Gi""#, r#""1024Mi""#, false),
        ("evaluate_test.go", "Equals", r#""1h""#, r#""5h""#, false),
        ("evaluate_test.go", "Equals", r#""1h""#, r#""30m""#, false),
        ("evaluate_test.go", "Equals", r#""string""#, r#"1"#, false),
        ("evaluate_test.go", "Equals", r#"1"#, r#""2""#, false),
        ("evaluate_test.go", "Equals", r#"1.0"#, r#""2.0""#, false),
        ("evaluate_test.go", "Equals", r#"true"#, r#""false""#, false),
        ("evaluate_test.go", "Equals", r#"false"#, r#""true""#, false),
        ("evaluate_test.go", "Equals", r#"{"foo":"bar"}"#, r#"{"bar":"foo"}"#, false),
        ("evaluate_test.go", "Equals", r#"["foo","bar"]"#, r#"["bar","foo"]"#, false),
        ("evaluate_test.go", "Equals", r#"[{"foo":"bar"}]"#, r#"[{"bar":"foo"}]"#, false),
        ("evaluate_test.go", "Equals", r#""1h""#, r#"3600"#, true),
        ("evaluate_test.go", "Equals", r#""2h""#, r#"3600"#, false),
        ("evaluate_test.go", "Equals", r#""1.5.2""#, r#""1.5.2""#, true),
        ("evaluate_test.go", "Equals", r#""1.5.2""#, r#""1.5.*""#, true),
        ("evaluate_test.go", "Equals", r#""1.5.0""#, r#""1.5.5""#, false),
        ("evaluate_test.go", "NotEquals", r#""string""#, r#""string""#, false),
        ("evaluate_test.go", "NotEquals", r#"1"#, r#"1"#, false),
        ("evaluate_test.go", "NotEquals", r#"1"#, r#"1"#, false),
        ("evaluate_test.go", "NotEquals", r#"1"#, r#"1"#, false),
        ("evaluate_test.go", "NotEquals", r#"1.0"#, r#"1.0"#, false),
        ("evaluate_test.go", "NotEquals", r#"true"#, r#"false"#, true),
        ("evaluate_test.go", "NotEquals", r#"false"#, r#"false"#, false),
        ("evaluate_test.go", "NotEquals", r#""1024""#, r#""1Ki""#, false),
        ("evaluate_test.go", "NotEquals", r#""1Ki""#, r#""1024""#, false),
        ("evaluate_test.go", "NotEquals", r#""1023""#, r#""1Ki""#, true),
        ("evaluate_test.go", "NotEquals", r#""1Ki""#, r#""1023""#, true),
        ("evaluate_test.go", "NotEquals", r#""1Gi""#, r#""1Gi""#, false),
        ("evaluate_test.go", "NotEquals", r#""10Gi""#, r#""1024Mi""#, true),
        ("evaluate_test.go", "NotEquals", r#""1h""#, r#""1h""#, false),
        ("evaluate_test.go", "NotEquals", r#""1h""#, r#""60m""#, false),
        ("evaluate_test.go", "NotEquals", r#"{"foo":"bar"}"#, r#"{"foo":"bar"}"#, false),
        ("evaluate_test.go", "NotEquals", r#"["foo","bar"]"#, r#"["foo","bar"]"#, false),
        ("evaluate_test.go", "NotEquals", r#"[{"foo":"bar"}]"#, r#"[{"foo":"bar"}]"#, false),
        ("evaluate_test.go", "NotEquals", r#""string""#, r#""not string""#, true),
        ("evaluate_test.go", "NotEquals", r#"1"#, r#"2"#, true),
        ("evaluate_test.go", "NotEquals", r#"1"#, r#"2"#, true),
        ("evaluate_test.go", "NotEquals", r#"1"#, r#"2"#, true),
        ("evaluate_test.go", "NotEquals", r#"1.0"#, r#"2.0"#, true),
        ("evaluate_test.go", "NotEquals", r#"true"#, r#"true"#, false),
        ("evaluate_test.go", "NotEquals", r#"false"#, r#"true"#, true),
        ("evaluate_test.go", "NotEquals", r#""1Gi""#, r#""10Gi""#, true),
        ("evaluate_test.go", "NotEquals", r#""1Gi""#, r#""1024Mi""#, false),
        ("evaluate_test.go", "NotEquals", r#""1h""#, r#""5h""#, true),
        ("evaluate_test.go", "NotEquals", r#""1h""#, r#""30m""#, true),
        ("evaluate_test.go", "NotEquals", r#""string""#, r#"1"#, true),
        ("evaluate_test.go", "NotEquals", r#"1"#, r#""2""#, true),
        ("evaluate_test.go", "NotEquals", r#"1.0"#, r#""2.0""#, true),
        ("evaluate_test.go", "NotEquals", r#"true"#, r#""false""#, true),
        ("evaluate_test.go", "NotEquals", r#"false"#, r#""true""#, true),
        ("evaluate_test.go", "NotEquals", r#"{"foo":"bar"}"#, r#"{"bar":"foo"}"#, true),
        ("evaluate_test.go", "NotEquals", r#"["foo","bar"]"#, r#"["bar","foo"]"#, true),
        ("evaluate_test.go", "NotEquals", r#"[{"foo":"bar"}]"#, r#"[{"bar":"foo"}]"#, true),
        ("evaluate_test.go", "NotEquals", r#""1h""#, r#"3600"#, false),
        ("evaluate_test.go", "NotEquals", r#""2h""#, r#"3600"#, true),
        ("evaluate_test.go", "NotEquals", r#""1.5.2""#, r#""1.5.5""#, true),
        ("evaluate_test.go", "NotEquals", r#""1.5.2""#, r#""1.5.*""#, false),
        ("evaluate_test.go", "NotEquals", r#""1.5.0""#, r#""1.5.0""#, false),
        ("evaluate_test.go", "GreaterThan", r#"10"#, r#"1"#, true),
        ("evaluate_test.go", "GreaterThan", r#"1.5"#, r#"1.0"#, true),
        ("evaluate_test.go", "GreaterThan", r#"1.5"#, r#"1"#, true),
        ("evaluate_test.go", "GreaterThan", r#"1"#, r#"10"#, false),
        ("evaluate_test.go", "GreaterThan", r#"1.0"#, r#"1.5"#, false),
        ("evaluate_test.go", "GreaterThan", r#"1"#, r#"1.5"#, false),
        ("evaluate_test.go", "GreaterThan", r#"1"#, r#"1"#, false),
        ("evaluate_test.go", "GreaterThan", r#"1.0"#, r#"1.0"#, false),
        ("evaluate_test.go", "GreaterThan", r#""1025""#, r#""1Ki""#, true),
        ("evaluate_test.go", "GreaterThan", r#""1Ki""#, r#""1023""#, true),
        ("evaluate_test.go", "GreaterThan", r#""10Gi""#, r#""1Gi""#, true),
        ("evaluate_test.go", "GreaterThan", r#""1Gi""#, r#""1Mi""#, true),
        ("evaluate_test.go", "GreaterThan", r#""1Gi""#, r#""10Gi""#, false),
        ("evaluate_test.go", "GreaterThan", r#""10Mi""#, r#""10Mi""#, false),
        ("evaluate_test.go", "GreaterThan", r#""10h""#, r#""1h""#, true),
        ("evaluate_test.go", "GreaterThan", r#""1h""#, r#""30m""#, true),
        ("evaluate_test.go", "GreaterThan", r#""1h""#, r#""1h""#, false),
        ("evaluate_test.go", "GreaterThan", r#""1Gi""#, r#""1Gi""#, false),
        ("evaluate_test.go", "GreaterThan", r#""10""#, r#"1"#, true),
        ("evaluate_test.go", "GreaterThan", r#"100"#, r#""10""#, true),
        ("evaluate_test.go", "GreaterThan", r#""100""#, r#""10""#, true),
        ("evaluate_test.go", "GreaterThan", r#""10""#, r#""10""#, false),
        ("evaluate_test.go", "GreaterThan", r#""1""#, r#""10""#, false),
        ("evaluate_test.go", "GreaterThan", r#""1""#, r#"10"#, false),
        ("evaluate_test.go", "GreaterThan", r#"1"#, r#""10""#, false),
        ("evaluate_test.go", "GreaterThan", r#""1h""#, r#"3600"#, false),
        ("evaluate_test.go", "GreaterThan", r#""2h""#, r#"3600"#, true),
        ("evaluate_test.go", "GreaterThan", r#"3600"#, r#""1h""#, false),
        ("evaluate_test.go", "GreaterThan", r#"3600"#, r#""30m""#, true),
        ("evaluate_test.go", "GreaterThan", r#"1"#, r#"1"#, false),
        ("evaluate_test.go", "GreaterThan", r#"10"#, r#"1"#, true),
        ("evaluate_test.go", "GreaterThan", r#"1"#, r#"10"#, false),
        ("evaluate_test.go", "GreaterThan", r#"1"#, r#"1"#, false),
        ("evaluate_test.go", "GreaterThan", r#"10"#, r#"1"#, true),
        ("evaluate_test.go", "GreaterThan", r#"1"#, r#"10"#, false),
        ("evaluate_test.go", "GreaterThan", r#"1"#, r#"1"#, false),
        ("evaluate_test.go", "GreaterThan", r#"10"#, r#"1"#, true),
        ("evaluate_test.go", "GreaterThan", r#"1"#, r#"10"#, false),
        ("evaluate_test.go", "GreaterThan", r#"-5"#, r#"1"#, false),
        ("evaluate_test.go", "GreaterThan", r#"-5"#, r#"-10"#, true),
        ("evaluate_test.go", "GreaterThan", r#"1"#, r#"-10"#, true),
        ("evaluate_test.go", "GreaterThan", r#""1.5.5""#, r#""1.5.0""#, true),
        ("evaluate_test.go", "GreaterThan", r#""1.5.0""#, r#""1.5.5""#, false),
        ("evaluate_test.go", "LessThan", r#"10"#, r#"1"#, false),
        ("evaluate_test.go", "LessThan", r#"1.5"#, r#"1.0"#, false),
        ("evaluate_test.go", "LessThan", r#"1.5"#, r#"1"#, false),
        ("evaluate_test.go", "LessThan", r#"1"#, r#"10"#, true),
        ("evaluate_test.go", "LessThan", r#"1.0"#, r#"1.5"#, true),
        ("evaluate_test.go", "LessThan", r#"1"#, r#"1.5"#, true),
        ("evaluate_test.go", "LessThan", r#"1"#, r#"1"#, false),
        ("evaluate_test.go", "LessThan", r#"1.0"#, r#"1.0"#, false),
        ("evaluate_test.go", "LessThan", r#""1023""#, r#""1Ki""#, true),
        ("evaluate_test.go", "LessThan", r#""1Ki""#, r#""1025""#, true),
        ("evaluate_test.go", "LessThan", r#""10Gi""#, r#""1Gi""#, false),
        ("evaluate_test.go", "LessThan", r#""1Gi""#, r#""10Gi""#, true),
        ("evaluate_test.go", "LessThan", r#""1Gi""#, r#""1Mi""#, false),
        ("evaluate_test.go", "LessThan", r#""1Mi""#, r#""1Gi""#, true),
        ("evaluate_test.go", "LessThan", r#""10h""#, r#""1h""#, false),
        ("evaluate_test.go", "LessThan", r#""1h""#, r#""30m""#, false),
        ("evaluate_test.go", "LessThan", r#""1h""#, r#""1h""#, false),
        ("evaluate_test.go", "LessThan", r#""1Gi""#, r#""1Gi""#, false),
        ("evaluate_test.go", "LessThan", r#""10""#, r#"1"#, false),
        ("evaluate_test.go", "LessThan", r#"100"#, r#""10""#, false),
        ("evaluate_test.go", "LessThan", r#""100""#, r#""10""#, false),
        ("evaluate_test.go", "LessThan", r#""10""#, r#""10""#, false),
        ("evaluate_test.go", "LessThan", r#""1""#, r#""10""#, true),
        ("evaluate_test.go", "LessThan", r#""1""#, r#"10"#, true),
        ("evaluate_test.go", "LessThan", r#"1"#, r#""10""#, true),
        ("evaluate_test.go", "LessThan", r#""1h""#, r#"3600"#, false),
        ("evaluate_test.go", "LessThan", r#""30m""#, r#"3600"#, true),
        ("evaluate_test.go", "LessThan", r#"3600"#, r#""1h""#, false),
        ("evaluate_test.go", "LessThan", r#"3600"#, r#""30m""#, false),
        ("evaluate_test.go", "LessThan", r#"1"#, r#"1"#, false),
        ("evaluate_test.go", "LessThan", r#"10"#, r#"1"#, false),
        ("evaluate_test.go", "LessThan", r#"1"#, r#"10"#, true),
        ("evaluate_test.go", "LessThan", r#"1"#, r#"1"#, false),
        ("evaluate_test.go", "LessThan", r#"10"#, r#"1"#, false),
        ("evaluate_test.go", "LessThan", r#"1"#, r#"10"#, true),
        ("evaluate_test.go", "LessThan", r#"1"#, r#"1"#, false),
        ("evaluate_test.go", "LessThan", r#"10"#, r#"1"#, false),
        ("evaluate_test.go", "LessThan", r#"1"#, r#"10"#, true),
        ("evaluate_test.go", "LessThan", r#"-5"#, r#"1"#, true),
        ("evaluate_test.go", "LessThan", r#"-5"#, r#"-10"#, false),
        ("evaluate_test.go", "LessThan", r#"1"#, r#"-10"#, false),
        ("evaluate_test.go", "LessThan", r#""1.5.5""#, r#""1.5.0""#, false),
        ("evaluate_test.go", "LessThan", r#""1.5.0""#, r#""1.5.5""#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#"10"#, r#"1"#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#"1.5"#, r#"1.0"#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#"1.5"#, r#"1"#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#"1"#, r#"10"#, false),
        ("evaluate_test.go", "GreaterThanOrEquals", r#"1.0"#, r#"1.5"#, false),
        ("evaluate_test.go", "GreaterThanOrEquals", r#"1"#, r#"1.5"#, false),
        ("evaluate_test.go", "GreaterThanOrEquals", r#"1"#, r#"1"#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#"1.0"#, r#"1.0"#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#"1.0"#, r#"1"#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#""1025""#, r#""1Ki""#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#""1024""#, r#""1Ki""#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#""1Ki""#, r#""1023""#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#""1Ki""#, r#""1024""#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#""10Gi""#, r#""1Gi""#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#""1Gi""#, r#""1Mi""#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#""1Gi""#, r#""10Gi""#, false),
        ("evaluate_test.go", "GreaterThanOrEquals", r#""10h""#, r#""1h""#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#""1h""#, r#""30m""#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#""1h""#, r#""1h""#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#""1Gi""#, r#""1Gi""#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#""10""#, r#"1"#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#"100"#, r#""10""#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#""100""#, r#""10""#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#""10""#, r#""10""#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#""1""#, r#""10""#, false),
        ("evaluate_test.go", "GreaterThanOrEquals", r#""1""#, r#"10"#, false),
        ("evaluate_test.go", "GreaterThanOrEquals", r#"1"#, r#""10""#, false),
        ("evaluate_test.go", "GreaterThanOrEquals", r#""1h""#, r#"3600"#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#""2h""#, r#"3600"#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#"1"#, r#"1"#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#"10"#, r#"1"#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#"1"#, r#"10"#, false),
        ("evaluate_test.go", "GreaterThanOrEquals", r#"1"#, r#"1"#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#"10"#, r#"1"#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#"1"#, r#"10"#, false),
        ("evaluate_test.go", "GreaterThanOrEquals", r#"1"#, r#"1"#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#"10"#, r#"1"#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#"1"#, r#"10"#, false),
        ("evaluate_test.go", "GreaterThanOrEquals", r#""1.5.5""#, r#""1.5.5""#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#""1.5.5""#, r#""1.5.0""#, true),
        ("evaluate_test.go", "GreaterThanOrEquals", r#""1.5.0""#, r#""1.5.5""#, false),
        ("evaluate_test.go", "LessThanOrEquals", r#"10"#, r#"1"#, false),
        ("evaluate_test.go", "LessThanOrEquals", r#"1.5"#, r#"1.0"#, false),
        ("evaluate_test.go", "LessThanOrEquals", r#"1.5"#, r#"1"#, false),
        ("evaluate_test.go", "LessThanOrEquals", r#"1"#, r#"10"#, true),
        ("evaluate_test.go", "LessThanOrEquals", r#"1.0"#, r#"1.5"#, true),
        ("evaluate_test.go", "LessThanOrEquals", r#"1"#, r#"1.5"#, true),
        ("evaluate_test.go", "LessThanOrEquals", r#"1"#, r#"1"#, true),
        ("evaluate_test.go", "LessThanOrEquals", r#"1.0"#, r#"1.0"#, true),
        ("evaluate_test.go", "LessThanOrEquals", r#""1Ki""#, r#""1024""#, true),
        ("evaluate_test.go", "LessThanOrEquals", r#""1024""#, r#""1Ki""#, true),
        ("evaluate_test.go", "LessThanOrEquals", r#""1Ki""#, r#""1025""#, true),
        ("evaluate_test.go", "LessThanOrEquals", r#""1023""#, r#""1Ki""#, true),
        ("evaluate_test.go", "LessThanOrEquals", r#""10Gi""#, r#""1Gi""#, false),
        ("evaluate_test.go", "LessThanOrEquals", r#""1Gi""#, r#""10Gi""#, true),
        ("evaluate_test.go", "LessThanOrEquals", r#""1Gi""#, r#""1Mi""#, false),
        ("evaluate_test.go", "LessThanOrEquals", r#""1Mi""#, r#""1Gi""#, true),
        ("evaluate_test.go", "LessThanOrEquals", r#""10h""#, r#""1h""#, false),
        ("evaluate_test.go", "LessThanOrEquals", r#""1h""#, r#""30m""#, false),
        ("evaluate_test.go", "LessThanOrEquals", r#""1h""#, r#""1h""#, true),
        ("evaluate_test.go", "LessThanOrEquals", r#""1Gi""#, r#""1Gi""#, true),
        ("evaluate_test.go", "LessThanOrEquals", r#""10""#, r#"1"#, false),
        ("evaluate_test.go", "LessThanOrEquals", r#"100"#, r#""10""#, false),
        ("evaluate_test.go", "LessThanOrEquals", r#""100""#, r#""10""#, false),
        ("evaluate_test.go", "LessThanOrEquals", r#""10""#, r#""10""#, true),
        ("evaluate_test.go", "LessThanOrEquals", r#""1""#, r#""10""#, true),
        ("evaluate_test.go", "LessThanOrEquals", r#""1""#, r#"10"#, true),
        ("evaluate_test.go", "LessThanOrEquals", r#"1"#, r#""10""#, true),
        ("evaluate_test.go", "LessThanOrEquals", r#""1h""#, r#"3600"#, true),
        ("evaluate_test.go", "LessThanOrEquals", r#""2h""#, r#"3600"#, false),
        ("evaluate_test.go", "LessThanOrEquals", r#"1"#, r#"1"#, true),
        ("evaluate_test.go", "LessThanOrEquals", r#"10"#, r#"1"#, false),
        ("evaluate_test.go", "LessThanOrEquals", r#"1"#, r#"10"#, true),
        ("evaluate_test.go", "LessThanOrEquals", r#"1"#, r#"1"#, true),
        ("evaluate_test.go", "LessThanOrEquals", r#"10"#, r#"1"#, false),
        ("evaluate_test.go", "LessThanOrEquals", r#"1"#, r#"10"#, true),
        ("evaluate_test.go", "LessThanOrEquals", r#"1"#, r#"1"#, true),
        ("evaluate_test.go", "LessThanOrEquals", r#"10"#, r#"1"#, false),
        ("evaluate_test.go", "LessThanOrEquals", r#"1"#, r#"10"#, true),
        ("evaluate_test.go", "LessThanOrEquals", r#""1.5.5""#, r#""1.5.5""#, true),
        ("evaluate_test.go", "LessThanOrEquals", r#""1.5.0""#, r#""1.5.5""#, true),
        ("evaluate_test.go", "LessThanOrEquals", r#""1.5.5""#, r#""1.5.0""#, false),
        ("evaluate_test.go", "In", r#"1"#, r#"[1,2,3]"#, true),
        ("evaluate_test.go", "In", r#"1.5"#, r#"[1,1.5,2,3]"#, true),
        ("evaluate_test.go", "In", r#""1""#, r#"["1","2","3"]"#, true),
        ("evaluate_test.go", "In", r#"["1.1.1.1","2.2.2.2"]"#, r#"["1.1.1.1","2.2.2.2","3.3.3.3"]"#, true),
        ("evaluate_test.go", "In", r#"5"#, r#"[1,2,3]"#, false),
        ("evaluate_test.go", "In", r#"5.5"#, r#"[1,1.5,2,3]"#, false),
        ("evaluate_test.go", "In", r#""5""#, r#"["1","2","3"]"#, false),
        ("evaluate_test.go", "In", r#""1.1.1.1""#, r#"["1*"]"#, true),
        ("evaluate_test.go", "In", r#"["1.1.1.1","4.4.4.4"]"#, r#"["1.1.1.1","2.2.2.2","3.3.3.3"]"#, false),
        ("evaluate_test.go", "NotIn", r#"1"#, r#"[1,2,3]"#, false),
        ("evaluate_test.go", "NotIn", r#"1.5"#, r#"[1,1.5,2,3]"#, false),
        ("evaluate_test.go", "NotIn", r#""1""#, r#"["1","2","3"]"#, false),
        ("evaluate_test.go", "NotIn", r#"["1.1.1.1","2.2.2.2"]"#, r#"["1.1.1.1","2.2.2.2","3.3.3.3"]"#, false),
        ("evaluate_test.go", "NotIn", r#"5"#, r#"[1,2,3]"#, true),
        ("evaluate_test.go", "NotIn", r#"5.5"#, r#"[1,1.5,2,3]"#, true),
        ("evaluate_test.go", "NotIn", r#""5""#, r#"["1","2","3"]"#, true),
        ("evaluate_test.go", "NotIn", r#"["1.1.1.1","4.4.4.4"]"#, r#"["1.1.1.1","2.2.2.2","3.3.3.3"]"#, true),
        ("evaluate_test.go", "AnyIn", r#"["1.1.1.1","5.5.5.5"]"#, r#"["1.1.1.1","2.2.2.2","3.3.3.3"]"#, true),
        ("evaluate_test.go", "AnyIn", r#"["1.1.1.1","5.5.5.5"]"#, r#""1.1.1.1""#, true),
        ("evaluate_test.go", "AnyIn", r#"["4.4.4.4","5.5.5.5"]"#, r#"["1.1.1.1","2.2.2.2","3.3.3.3"]"#, false),
        ("evaluate_test.go", "AnyIn", r#"["1.1.1.1","5.5.5.5"]"#, r#"["1.1.1.1"]"#, true),
        ("evaluate_test.go", "AnyIn", r#"[1,2]"#, r#"[1,2,3,4]"#, true),
        ("evaluate_test.go", "AnyIn", r#"[1,5]"#, r#"[1,2,3,4]"#, true),
        ("evaluate_test.go", "AnyIn", r#"[5]"#, r#"[1,2,3,4]"#, false),
        ("evaluate_test.go", "AnyIn", r#"["1*"]"#, r#"["1.1.1.1","2.2.2.2","3.3.3.3"]"#, true),
        ("evaluate_test.go", "AnyIn", r#"["5*"]"#, r#"["1.1.1.1","2.2.2.2","3.3.3.3"]"#, false),
        ("evaluate_test.go", "AnyIn", r#"["1.1.1.1","2.2.2.2","5.5.5.5"]"#, r#"["2*"]"#, true),
        ("evaluate_test.go", "AnyIn", r#"["1.1.1.1","2.2.2.2","5.5.5.5"]"#, r#"["4*"]"#, false),
        ("evaluate_test.go", "AnyIn", r#"["5"]"#, r#""1-3""#, false),
        ("evaluate_test.go", "AnyIn", r#""1.1.1.1""#, r#"["1*"]"#, true),
        ("evaluate_test.go", "AnyIn", r#""5""#, r#""1-10""#, true),
        ("evaluate_test.go", "AnyIn", r#"5"#, r#""1-10""#, true),
        ("evaluate_test.go", "AnyIn", r#"[1,5]"#, r#""7-10""#, false),
        ("evaluate_test.go", "AnyIn", r#"[1,5]"#, r#""0-10""#, true),
        ("evaluate_test.go", "AnyIn", r#"[1.002,1.222]"#, r#""1.001-10""#, true),
        ("evaluate_test.go", "AllIn", r#"["1.1.1.1","2.2.2.2"]"#, r#"["1.1.1.1","2.2.2.2","3.3.3.3"]"#, true),
        ("evaluate_test.go", "AllIn", r#"["1.1.1.1","5.5.5.5"]"#, r#"["1.1.1.1","2.2.2.2","3.3.3.3"]"#, false),
        ("evaluate_test.go", "AllIn", r#"["4.4.4.4","5.5.5.5"]"#, r#"["1.1.1.1","2.2.2.2","3.3.3.3"]"#, false),
        ("evaluate_test.go", "AllIn", r#"["1.1.1.1","5.5.5.5"]"#, r#"["1.1.1.1"]"#, false),
        ("evaluate_test.go", "AllIn", r#"[1,2]"#, r#"[1,2,3,4]"#, true),
        ("evaluate_test.go", "AllIn", r#"[1,5]"#, r#"[1,2,3,4]"#, false),
        ("evaluate_test.go", "AllIn", r#"[5]"#, r#"[1,2,3,4]"#, false),
        ("evaluate_test.go", "AllIn", r#"["1*"]"#, r#"["1.1.1.1","2.2.2.2","3.3.3.3"]"#, true),
        ("evaluate_test.go", "AllIn", r#"["5*"]"#, r#"["1.1.1.1","2.2.2.2","3.3.3.3"]"#, false),
        ("evaluate_test.go", "AllIn", r#"["2.1.1.1","2.2.2.2","2.5.5.5"]"#, r#"["2*"]"#, true),
        ("evaluate_test.go", "AllIn", r#"["1.1.1.1","2.2.2.2","5.5.5.5"]"#, r#"["4*"]"#, false),
        ("evaluate_test.go", "AllIn", r#"["1.1.1.1","5.5.5.5"]"#, r#""5.5.5.5""#, false),
        ("evaluate_test.go", "AllIn", r#"5"#, r#""1-10""#, true),
        ("evaluate_test.go", "AllIn", r#"[3,2]"#, r#""1-10""#, true),
        ("evaluate_test.go", "AllIn", r#"[3,2]"#, r#""5-10""#, false),
        ("evaluate_test.go", "AllNotIn", r#"1"#, r#"[1,2,3]"#, false),
        ("evaluate_test.go", "AllNotIn", r#"1.5"#, r#"[1,1.5,2,3]"#, false),
        ("evaluate_test.go", "AllNotIn", r#""1""#, r#"["1","2","3"]"#, false),
        ("evaluate_test.go", "AllNotIn", r#"["1.1.1.1","2.2.2.2"]"#, r#"["1.1.1.1","2.2.2.2","3.3.3.3"]"#, false),
        ("evaluate_test.go", "AllNotIn", r#"5"#, r#"[1,2,3]"#, true),
        ("evaluate_test.go", "AllNotIn", r#"5.5"#, r#"[1,1.5,2,3]"#, true),
        ("evaluate_test.go", "AllNotIn", r#""5""#, r#"["1","2","3"]"#, true),
        ("evaluate_test.go", "AllNotIn", r#"["1.1.1.1","4.4.4.4"]"#, r#"["1.1.1.1","2.2.2.2","3.3.3.3"]"#, false),
        ("evaluate_test.go", "AllNotIn", r#"["1.1.1.1","4.4.4.4"]"#, r#"["1.1.1.1","2.2.2.2","3.3.3.3","1.1.1.1"]"#, false),
        ("evaluate_test.go", "AllNotIn", r#"["1.1.1.1","4.4.4.4","1.1.1.1"]"#, r#"["1.1.1.1","2.2.2.2","3.3.3.3","1.1.1.1","4.4.4.4"]"#, false),
        ("evaluate_test.go", "AllNotIn", r#"["5.5.5.5","4.4.4.4"]"#, r#"["1.1.1.1","2.2.2.2","3.3.3.3"]"#, true),
        ("evaluate_test.go", "AllNotIn", r#"["7*","6*","5*"]"#, r#"["1.1.1.1","2.2.2.2","3.3.3.3"]"#, true),
        ("evaluate_test.go", "AllNotIn", r#"["1*","2*"]"#, r#"["1.1.1.1","2.2.2.2","3.3.3.3"]"#, false),
        ("evaluate_test.go", "AllNotIn", r#"["1.1.1.1","3.3.3.3","5.5.5.5"]"#, r#"["2*"]"#, true),
        ("evaluate_test.go", "AllNotIn", r#"["4.1.1.1","4.2.2.2","4.5.5.5"]"#, r#"["4*"]"#, false),
        ("evaluate_test.go", "AllNotIn", r#"["1.1.1.1","4.4.4.4"]"#, r#""2.2.2.2""#, true),
        ("evaluate_test.go", "AllNotIn", r#"5.5"#, r#""6-10""#, true),
        ("evaluate_test.go", "AllNotIn", r#""5""#, r#""1-6""#, false),
        ("evaluate_test.go", "AllNotIn", r#"[3,2]"#, r#""5-10""#, true),
        ("evaluate_test.go", "AllNotIn", r#"[2,6]"#, r#""5-10""#, false),
        ("evaluate_test.go", "AnyNotIn", r#"1"#, r#"[1,2,3]"#, false),
        ("evaluate_test.go", "AnyNotIn", r#"1.5"#, r#"[1,1.5,2,3]"#, false),
        ("evaluate_test.go", "AnyNotIn", r#""1""#, r#"["1","2","3"]"#, false),
        ("evaluate_test.go", "AnyNotIn", r#"["1.1.1.1","2.2.2.2"]"#, r#"["1.1.1.1","2.2.2.2","3.3.3.3"]"#, false),
        ("evaluate_test.go", "AnyNotIn", r#"5"#, r#"[1,2,3]"#, true),
        ("evaluate_test.go", "AnyNotIn", r#"5.5"#, r#"[1,1.5,2,3]"#, true),
        ("evaluate_test.go", "AnyNotIn", r#""5""#, r#"["1","2","3"]"#, true),
        ("evaluate_test.go", "AnyNotIn", r#"["1.1.1.1","4.4.4.4"]"#, r#"["1.1.1.1","2.2.2.2","3.3.3.3"]"#, true),
        ("evaluate_test.go", "AnyNotIn", r#"["5.5.5.5","4.4.4.4"]"#, r#""4.4.4.4""#, true),
        ("evaluate_test.go", "AnyNotIn", r#"["5.5.5.5","4.4.4.4"]"#, r#"["1.1.1.1","2.2.2.2","3.3.3.3"]"#, true),
        ("evaluate_test.go", "AnyNotIn", r#"["1*","3*","5*"]"#, r#"["1.1.1.1","2.2.2.2","3.3.3.3"]"#, true),
        ("evaluate_test.go", "AnyNotIn", r#"["1.1.1.1","2.2.2.2","5.5.5.5"]"#, r#"["2*"]"#, true),
        ("evaluate_test.go", "AnyNotIn", r#"["2.2*"]"#, r#"["2.2.2.2"]"#, false),
        ("evaluate_test.go", "AnyNotIn", r#""5""#, r#""1-3""#, true),
        ("evaluate_test.go", "AnyNotIn", r#"[1,5,11]"#, r#""0-10""#, true),
        ("evaluate_test.go", "AnyNotIn", r#"[1,5,7]"#, r#""0-10""#, false),
        ("equal_test.go", "Equals", r#"true"#, r#"true"#, true),
        ("equal_test.go", "Equals", r#"false"#, r#"false"#, true),
        ("equal_test.go", "Equals", r#"true"#, r#"false"#, false),
        ("equal_test.go", "Equals", r#"true"#, r#""true""#, false),
        ("equal_test.go", "Equals", r#"42"#, r#"42"#, true),
        ("equal_test.go", "Equals", r#"42"#, r#"43"#, false),
        ("equal_test.go", "Equals", r#"100"#, r#"100"#, true),
        ("equal_test.go", "Equals", r#"42"#, r#"42"#, true),
        ("equal_test.go", "Equals", r#"42"#, r#"42"#, true),
        ("equal_test.go", "Equals", r#"42"#, r#"42.5"#, false),
        ("equal_test.go", "Equals", r#"42"#, r#""42""#, true),
        ("equal_test.go", "Equals", r#"42"#, r#""invalid""#, false),
        ("equal_test.go", "Equals", r#"3.14"#, r#"3.14"#, true),
        ("equal_test.go", "Equals", r#"3.14"#, r#"2.71"#, false),
        ("equal_test.go", "Equals", r#"42"#, r#"42"#, true),
        ("equal_test.go", "Equals", r#"100"#, r#"100"#, true),
        ("equal_test.go", "Equals", r#"3.14"#, r#""3.14""#, true),
        ("equal_test.go", "Equals", r#"3.14"#, r#""invalid""#, false),
        ("equal_test.go", "Equals", r#""hello""#, r#""hello""#, true),
        ("equal_test.go", "Equals", r#""hello""#, r#""world""#, false),
        ("equal_test.go", "Equals", r#""hello-world""#, r#""hello-*""#, true),
        ("equal_test.go", "Equals", r#""goodbye-world""#, r#""hello-*""#, false),
        ("equal_test.go", "Equals", r#""hello""#, r#"123"#, false),
        ("equal_test.go", "Equals", r#""100Mi""#, r#""100Mi""#, true),
        ("equal_test.go", "Equals", r#""1Gi""#, r#""1024Mi""#, true),
        ("equal_test.go", "Equals", r#""100Mi""#, r#""200Mi""#, false),
        ("equal_test.go", "Equals", r#""1h""#, r#""60m""#, true),
        ("equal_test.go", "Equals", r#""1h""#, r#""30m""#, false),
        ("equal_test.go", "Equals", r#"{"foo":"bar"}"#, r#"{"foo":"bar"}"#, true),
        ("equal_test.go", "Equals", r#"{"foo":"bar"}"#, r#"{"foo":"baz"}"#, false),
        ("equal_test.go", "Equals", r#"{"foo":"bar"}"#, r#""not a map""#, false),
        ("equal_test.go", "Equals", r#"["a","b","c"]"#, r#"["a","b","c"]"#, true),
        ("equal_test.go", "Equals", r#"["a","b","c"]"#, r#"["a","b","d"]"#, false),
        ("equal_test.go", "Equals", r#"["a","b","c"]"#, r#"["a","b"]"#, false),
        ("equal_test.go", "Equals", r#"["a","b","c"]"#, r#""not a slice""#, false),
        ("equal_test.go", "Equals", r#"10"#, r#"10"#, true),
        ("equal_test.go", "Equals", r#"10"#, r#"10"#, true),
        ("equal_test.go", "Equals", r#"10"#, r#"10"#, true),
        ("equal_test.go", "Equals", r#"10"#, r#"10.5"#, false),
        ("equal_test.go", "Equals", r#"10"#, r#""10""#, true),
        ("equal_test.go", "Equals", r#"10"#, r#""abc""#, false),
        ("equal_test.go", "Equals", r#"10"#, r#"true"#, false),
        ("equal_test.go", "Equals", r#"10"#, r#"10"#, true),
        ("equal_test.go", "Equals", r#"10"#, r#"10"#, true),
        ("equal_test.go", "Equals", r#"10.5"#, r#"10"#, false),
        ("equal_test.go", "Equals", r#"3.14"#, r#"3.14"#, true),
        ("equal_test.go", "Equals", r#"3.14"#, r#""3.14""#, true),
        ("equal_test.go", "Equals", r#"3.14"#, r#""abc""#, false),
        ("equal_test.go", "Equals", r#"3.14"#, r#"true"#, false),
        ("equal_test.go", "Equals", r#"true"#, r#"true"#, true),
        ("equal_test.go", "Equals", r#"false"#, r#"false"#, true),
        ("equal_test.go", "Equals", r#"true"#, r#"false"#, false),
        ("equal_test.go", "Equals", r#"true"#, r#""true""#, false),
        ("notequal_test.go", "NotEquals", r#"true"#, r#"false"#, true),
        ("notequal_test.go", "NotEquals", r#"42"#, r#"43"#, true),
        ("notequal_test.go", "NotEquals", r#"5"#, r#"5.5"#, true),
        ("notequal_test.go", "NotEquals", r#"3.14"#, r#"2.71"#, true),
        ("notequal_test.go", "NotEquals", r#""hello""#, r#""world""#, true),
        ("notequal_test.go", "NotEquals", r#""100Mi""#, r#""not-a-quantity""#, true),
        ("notequal_test.go", "NotEquals", r#""1h""#, r#""30m""#, true),
        ("notequal_test.go", "NotEquals", r#"{"foo":"bar"}"#, r#"{"foo":"baz"}"#, true),
        ("notequal_test.go", "NotEquals", r#"["a","b"]"#, r#"["a","c"]"#, true),
        ("in_test.go", "In", r#""apple""#, r#"["apple","banana","cherry"]"#, true),
        ("in_test.go", "In", r#""grape""#, r#"["apple","banana","cherry"]"#, false),
        ("in_test.go", "In", r#""apple""#, r#"[]"#, false),
        ("in_test.go", "In", r#""hello""#, r#""hello""#, true),
        ("in_test.go", "In", r#""hello-world""#, r#""hello-*""#, true),
        ("in_test.go", "In", r#""goodbye-world""#, r#""hello-*""#, false),
        ("in_test.go", "In", r#""apple""#, r#""[\"apple\", \"banana\", \"cherry\"]""#, true),
        ("in_test.go", "In", r#""grape""#, r#""[\"apple\", \"banana\", \"cherry\"]""#, false),
        ("in_test.go", "In", r#"42"#, r#"["42","43","44"]"#, true),
        ("in_test.go", "In", r#"99"#, r#"["42","43","44"]"#, false),
        ("in_test.go", "In", r#"100"#, r#"["100","200"]"#, true),
        ("in_test.go", "In", r#"3.14"#, r#"["3.14","2.71"]"#, true),
        ("in_test.go", "In", r#"true"#, r#"["true","false"]"#, true),
        ("in_test.go", "In", r#"["apple","banana"]"#, r#"["apple","banana","cherry"]"#, true),
        ("in_test.go", "In", r#"["apple","grape"]"#, r#"["apple","banana","cherry"]"#, false),
        ("in_test.go", "In", r#"["apple","banana"]"#, r#""[\"apple\", \"banana\", \"cherry\"]""#, true),
        ("in_test.go", "In", r#"{"foo":"bar"}"#, r#"["a","b"]"#, false),
        ("in_test.go", "In", r#""apple""#, r#"12345"#, false),
        ("in_test.go", "In", r#""test""#, r#"["test","other"]"#, true),
        ("in_test.go", "In", r#""missing""#, r#"["test","other"]"#, false),
        ("in_test.go", "In", r#""prefix-suffix""#, r#""prefix-*""#, true),
        ("in_test.go", "In", r#""test""#, r#"123"#, false),
        ("in_test.go", "In", r#"["a","b"]"#, r#"["a","b","c"]"#, true),
        ("in_test.go", "In", r#"["a","d"]"#, r#"["a","b","c"]"#, false),
        ("in_test.go", "In", r#"["a","b"]"#, r#""[\"a\", \"b\", \"c\"]""#, true),
        ("in_test.go", "In", r#"["test"]"#, r#""test""#, true),
        ("in_test.go", "In", r#"["other"]"#, r#""test""#, false),
        ("in_test.go", "In", r#"["a"]"#, r#"123"#, false),
        ("anynotin_test.go", "AnyNotIn", r#""kyverno""#, r#""kyverno""#, false),
        ("anynotin_test.go", "AnyNotIn", r#""kube-system""#, r#"["default","kube-*"]"#, false),
        ("anynotin_test.go", "AnyNotIn", r#""kyverno""#, r#""default""#, true),
        ("anynotin_test.go", "AnyNotIn", r#"64"#, r#""64""#, false),
        ("anynotin_test.go", "AnyNotIn", r#"1"#, r#"[1,2,3]"#, false),
        ("anynotin_test.go", "AnyNotIn", r#"64"#, r#""default""#, true),
        ("anynotin_test.go", "AnyNotIn", r#"3.14"#, r#""3.14""#, false),
        ("anynotin_test.go", "AnyNotIn", r#"2.2"#, r#"[1.1,2.2,3.3]"#, false),
        ("anynotin_test.go", "AnyNotIn", r#"3.14"#, r#""default""#, true),
        ("anynotin_test.go", "AnyNotIn", r#"true"#, r#"true"#, false),
        ("anynotin_test.go", "AnyNotIn", r#"["kube-system","kube-public"]"#, r#""kube-*""#, false),
        ("anynotin_test.go", "AnyNotIn", r#"["kube-system","default"]"#, r#""kube-system""#, true),
        ("anynotin_test.go", "AnyNotIn", r#"["default","kyverno"]"#, r#""kube-*""#, true),
        ("anynotin_test.go", "AnyNotIn", r#"[1,2,3]"#, r#"2"#, true),
        ("anynotin_test.go", "AnyNotIn", r#"[1,2,3]"#, r#"4"#, true),
        ("anynotin_test.go", "AnyNotIn", r#"[1.1,2.2,3.3]"#, r#"1.1"#, true),
        ("anynotin_test.go", "AnyNotIn", r#"[1.1,2.2,3.3]"#, r#"4.4"#, true),
        ("anynotin_test.go", "AnyNotIn", r#"[true,false]"#, r#"true"#, true),
        ("anynotin_test.go", "AnyNotIn", r#"[true]"#, r#"false"#, true),
        ("anynotin_test.go", "AnyNotIn", r#"["default","kyverno"]"#, r#"["kube-*","kube-system"]"#, true),
        ("anynotin_test.go", "AnyNotIn", r#"["default","kyverno"]"#, r#"["kube-*","ky*"]"#, true),
        ("anynotin_test.go", "AnyNotIn", r#"[]"#, r#"["default","kyverno"]"#, false),
        ("anynotin_test.go", "AnyNotIn", r#""""#, r#"["default","kyverno"]"#, true),
        ("allnotin_test.go", "AllNotIn", r#""kyverno""#, r#""kyverno""#, false),
        ("allnotin_test.go", "AllNotIn", r#""kube-system""#, r#"["default","kube-*"]"#, false),
        ("allnotin_test.go", "AllNotIn", r#""kyverno""#, r#""default""#, true),
        ("allnotin_test.go", "AllNotIn", r#"64"#, r#""64""#, false),
        ("allnotin_test.go", "AllNotIn", r#"64"#, r#""default""#, true),
        ("allnotin_test.go", "AllNotIn", r#"["kube-system","kube-public"]"#, r#""kube-*""#, false),
        ("allnotin_test.go", "AllNotIn", r#"["kube-system","default"]"#, r#""kube-system""#, false),
        ("allnotin_test.go", "AllNotIn", r#"["default","kyverno"]"#, r#""kube-*""#, true),
        ("allnotin_test.go", "AllNotIn", r#"["default","kyverno"]"#, r#"["kube-*","kube-system"]"#, true),
        ("allnotin_test.go", "AllNotIn", r#"["default","kyverno"]"#, r#"["kube-*","ky*"]"#, false),
        ("duration_test.go", "DurationGreaterThan", r#""2h""#, r#""1h""#, true),
        ("duration_test.go", "DurationGreaterThan", r#""1h""#, r#""2h""#, false),
        ("duration_test.go", "DurationGreaterThan", r#""1h""#, r#""1h""#, false),
        ("duration_test.go", "DurationGreaterThan", r#""60m""#, r#""1h""#, false),
        ("duration_test.go", "DurationGreaterThan", r#""61m""#, r#""1h""#, true),
        ("duration_test.go", "DurationGreaterThan", r#"120"#, r#"60"#, true),
        ("duration_test.go", "DurationGreaterThan", r#"60"#, r#"120"#, false),
        ("duration_test.go", "DurationGreaterThan", r#"3600"#, r#"1800"#, true),
        ("duration_test.go", "DurationGreaterThan", r#"120"#, r#""1m""#, true),
        ("duration_test.go", "DurationGreaterThan", r#"120.5"#, r#"60.5"#, true),
        ("duration_test.go", "DurationGreaterThan", r#"120.5"#, r#"60"#, true),
        ("duration_test.go", "DurationGreaterThan", r#"120.0"#, r#""1m""#, true),
        ("duration_test.go", "DurationGreaterThan", r#"true"#, r#"false"#, false),
        ("duration_test.go", "DurationGreaterThanOrEquals", r#""2h""#, r#""1h""#, true),
        ("duration_test.go", "DurationGreaterThanOrEquals", r#""1h""#, r#""60m""#, true),
        ("duration_test.go", "DurationGreaterThanOrEquals", r#""30m""#, r#""1h""#, false),
        ("duration_test.go", "DurationGreaterThanOrEquals", r#"60"#, r#"60"#, true),
        ("duration_test.go", "DurationLessThan", r#""30m""#, r#""1h""#, true),
        ("duration_test.go", "DurationLessThan", r#""2h""#, r#""1h""#, false),
        ("duration_test.go", "DurationLessThan", r#""1h""#, r#""60m""#, false),
        ("duration_test.go", "DurationLessThan", r#"30"#, r#"60"#, true),
        ("duration_test.go", "DurationLessThanOrEquals", r#""30m""#, r#""1h""#, true),
        ("duration_test.go", "DurationLessThanOrEquals", r#""1h""#, r#""60m""#, true),
        ("duration_test.go", "DurationLessThanOrEquals", r#""2h""#, r#""1h""#, false),
        ("duration_test.go", "DurationLessThanOrEquals", r#"60"#, r#"60"#, true),
        ("duration_test.go", "DurationGreaterThan", r#"120"#, r#"60"#, true),
        ("duration_test.go", "DurationGreaterThan", r#"120"#, r#"60"#, true),
        ("duration_test.go", "DurationGreaterThan", r#"120"#, r#"60.0"#, true),
        ("duration_test.go", "DurationGreaterThan", r#"120"#, r#""1m""#, true),
        ("duration_test.go", "DurationGreaterThan", r#"120"#, r#""invalid""#, false),
        ("duration_test.go", "DurationGreaterThan", r#"120"#, r#"true"#, false),
        ("duration_test.go", "DurationGreaterThan", r#"120.0"#, r#"60"#, true),
        ("duration_test.go", "DurationGreaterThan", r#"120.0"#, r#"60"#, true),
        ("duration_test.go", "DurationGreaterThan", r#"120.0"#, r#"60.0"#, true),
        ("duration_test.go", "DurationGreaterThan", r#"120.0"#, r#""1m""#, true),
        ("duration_test.go", "DurationGreaterThan", r#"120.0"#, r#""invalid""#, false),
        ("duration_test.go", "DurationGreaterThan", r#"120.0"#, r#"true"#, false),
        ("duration_test.go", "DurationGreaterThan", r#""2m""#, r#"60"#, true),
        ("duration_test.go", "DurationGreaterThan", r#""2m""#, r#"60"#, true),
        ("duration_test.go", "DurationGreaterThan", r#""2m""#, r#"60.0"#, true),
        ("duration_test.go", "DurationGreaterThan", r#""2h""#, r#""1h""#, true),
        ("duration_test.go", "DurationGreaterThan", r#""invalid""#, r#"60"#, false),
        ("duration_test.go", "DurationGreaterThan", r#""1h""#, r#""invalid""#, false),
        ("duration_test.go", "DurationGreaterThan", r#""1h""#, r#"true"#, false),
        ("numeric_test.go", "GreaterThan", r#"10"#, r#"5"#, true),
        ("numeric_test.go", "GreaterThan", r#"5"#, r#"10"#, false),
        ("numeric_test.go", "GreaterThan", r#"5"#, r#"5"#, false),
        ("numeric_test.go", "GreaterThanOrEquals", r#"10"#, r#"10"#, true),
        ("numeric_test.go", "LessThan", r#"5"#, r#"10"#, true),
        ("numeric_test.go", "LessThanOrEquals", r#"5"#, r#"5"#, true),
        ("numeric_test.go", "GreaterThan", r#"10.5"#, r#"10.4"#, true),
        ("numeric_test.go", "LessThan", r#"10.4"#, r#"10.5"#, true),
        ("numeric_test.go", "GreaterThan", r#""100""#, r#"50"#, true),
        ("numeric_test.go", "LessThan", r#""50""#, r#""100""#, true),
        ("numeric_test.go", "GreaterThan", r#""1.2.3""#, r#""1.2.2""#, true),
        ("numeric_test.go", "LessThan", r#""1.1.0""#, r#""1.2.0""#, true),
        ("numeric_test.go", "GreaterThanOrEquals", r#""1.2.0""#, r#""1.2.0""#, true),
        ("numeric_test.go", "GreaterThan", r#""200Mi""#, r#""100Mi""#, true),
        ("numeric_test.go", "LessThan", r#""1Gi""#, r#""2Gi""#, true),
        ("numeric_test.go", "GreaterThanOrEquals", r#""500m""#, r#""0.5""#, true),
        ("numeric_test.go", "GreaterThan", r#"true"#, r#"5"#, false),
        ("numeric_test.go", "GreaterThan", r#""not-a-number""#, r#"5"#, false),
        ("numeric_test.go", "GreaterThan", r#"null"#, r#"5"#, false),
    ];

    /// `TestKeyExistsInArray` (in_test.go): `(key, value, invalid, exists)`.
    #[rustfmt::skip]
    const KEY_EXISTS_IN_ARRAY: &[(&str, &str, bool, bool)] = &[
        ("apple", r#"["apple","banana"]"#, false, true),
        ("cherry", r#"["apple","banana"]"#, false, false),
        ("hello-world", r#"["hello-*","goodbye"]"#, false, true),
        ("hello-*", r#"["hello-world","goodbye"]"#, false, true),
        ("test", r#""test""#, false, true),
        ("prefix-suffix", r#""prefix-*""#, false, true),
        ("a", r#""[\"a\", \"b\", \"c\"]""#, false, true),
        ("d", r#""[\"a\", \"b\", \"c\"]""#, false, false),
        ("a", r#""not-valid-json""#, true, false),
        ("a", r#"12345"#, true, false),
    ];

    /// `TestSetExistsInArray` (in_test.go): `(keys, value, notIn, invalid, result)`.
    #[rustfmt::skip]
    const SET_EXISTS_IN_ARRAY: &[(&[&str], &str, bool, bool, bool)] = &[
        (&["a", "b"], r#"["a","b","c"]"#, false, false, true),
        (&["a", "d"], r#"["a","b","c"]"#, false, false, false),
        (&["a", "d"], r#"["a","b","c"]"#, true, false, true),
        (&["a", "b"], r#"["a","b","c"]"#, true, false, false),
        (&["test"], r#""test""#, false, false, true),
        (&["a", "b"], r#""[\"a\", \"b\", \"c\"]""#, false, false, true),
        (&["a"], r#""not-json""#, false, true, false),
        (&["a"], r#"["a",123]"#, false, true, false),
        (&["a"], r#"12345"#, false, true, false),
    ];

    /// `(operator, key, value, expected)`: Kyverno quirks, each checked against
    /// Kyverno's operator package (Go) on JSON-decoded input. The one case
    /// where Go panics (`In` with a non-string key element) expects false.
    #[rustfmt::skip]
    const QUIRKS: &[(&str, &str, &str, bool)] = &[
        ("Equals", r#""Mi""#, r#""Gi""#, true),
        ("Equals", r#""Ei""#, r#""0""#, false),
        ("Equals", r#""42""#, r#"42"#, false),
        ("Equals", r#"42"#, r#""42""#, true),
        ("Equals", r#""1h""#, r#"3600"#, true),
        ("Equals", r#""m""#, r#""*""#, false),
        ("Equals", r#""nginx:1.25""#, r#""nginx:*""#, true),
        ("NotIn", r#"["a"]"#, r#""a""#, true),
        ("In", r#"["a",1]"#, r#"["a"]"#, false),
        ("AnyIn", r#"5"#, r#""1-10""#, true),
        ("AnyIn", r#""5""#, r#""1!-10""#, false),
        ("AnyNotIn", r#"["5"]"#, r#""1-10""#, false),
        ("AnyNotIn", r#"["50"]"#, r#""1-10""#, true),
        ("AllNotIn", r#"["50"]"#, r#""1!-10""#, true),
        ("AnyIn", r#""1.5Gi""#, r#""1Gi-2Gi""#, true),
        ("AnyIn", r#""90s""#, r#""1m-2m""#, true),
        ("AnyIn", r#"1000000"#, r#"["1000000"]"#, false),
        ("AnyIn", r#"1000000"#, r#"["1e+06"]"#, true),
        ("AnyIn", r#"[1,2]"#, r#"2"#, true),
        ("AllIn", r#"[1,2]"#, r#"2"#, false),
        ("AnyIn", r#""a""#, r#""[\"a\", null]""#, true),
        ("AnyIn", r#""""#, r#""[\"a\", null]""#, true),
        ("AnyNotIn", r#""x""#, r#""123""#, false),
        ("AnyIn", r#"{"a":1}"#, r#"["map[a:1]"]"#, false),
        ("AnyIn", r#"[{"a":1},null,[1,"b"]]"#, r#"["map[a:1]"]"#, true),
        ("AllIn", r#"[{"a":1},null,[1,"b"]]"#, r#"["map[a:1]","<nil>","[1 b]"]"#, true),
        ("GreaterThan", r#""1.2.10""#, r#""1.2.9""#, true),
        ("LessThan", r#""1.0.0-alpha""#, r#""1.0.0""#, true),
        ("LessThan", r#""1.0.0-alpha.1""#, r#""1.0.0-alpha.beta""#, true),
        ("GreaterThan", r#""v1.2.3""#, r#""1.2.2""#, false),
        ("GreaterThan", r#""1Gi""#, r#""1000Mi""#, true),
        ("GreaterThanOrEquals", r#""500m""#, r#""0.5""#, true),
        ("GreaterThan", r#""inf""#, r#"5"#, true),
        ("GreaterThan", r#"5"#, r#""NaN""#, false),
        ("Equals", r#"1"#, r#""NaN""#, false),
        ("Equals", r#"1000"#, r#""1_000""#, true),
        ("Equals", r#"0.25"#, r#""0x1p-2""#, true),
        ("Equals", r#"1"#, r#""1e400""#, false),
        ("Equals", r#"{"a":1}"#, r#"{"a":1.0}"#, true),
        ("Equals", r#"null"#, r#"null"#, false),
        ("NotEquals", r#"null"#, r#"null"#, false),
        ("NotEquals", r#""1Gi""#, r#""""#, true),
        ("NotEquals", r#""1Gi""#, r#""x""#, true),
        ("Equals", r#""0.1n""#, r#""1n""#, true),
        ("Equals", r#""8Ei""#, r#""9Ei""#, true),
        ("Equals", r#""1.5Gi""#, r#""1536Mi""#, true),
        ("Equals", r#""1e3""#, r#""1k""#, true),
        ("Equals", r#""-""#, r#""0""#, true),
        ("Equals", r#"".""#, r#""0""#, true),
        ("LessThan", r#""-1Gi""#, r#""-1Mi""#, true),
        ("DurationGreaterThan", r#"1.9"#, r#"1"#, false),
        ("DurationGreaterThan", r#""1h""#, r#""59m59.999999999s""#, true),
        ("DurationLessThan", r#""0""#, r#""1ns""#, true),
        ("GreaterThan", r#""0""#, r#""1h""#, false),
        ("Equals", r#""0""#, r#""0s""#, false),
        ("GreaterThan", r#""2562047h47m16.854775807s""#, r#""1h""#, true),
        ("Equals", r#""2562048h""#, r#""1h""#, false),
        ("AnyIn", r#""ghcr.io/org/app""#, r#"["ghcr.io/*","docker.io/*"]"#, true),
        ("AllIn", r#"["ghcr.io/a","quay.io/b"]"#, r#"["ghcr.io/*"]"#, false),
        ("AnyNotIn", r#"["ghcr.io/a","quay.io/b"]"#, r#"["ghcr.io/*"]"#, true),
        ("AllNotIn", r#"["docker.io/a"]"#, r#"["ghcr.io/*"]"#, true),
        ("AllIn", r#"[]"#, r#""1-10""#, true),
        ("AllIn", r#"[]"#, r#"["a"]"#, true),
        ("AnyIn", r#"[]"#, r#"["a"]"#, false),
        ("AllNotIn", r#"true"#, r#""true""#, false),
        ("In", r#"true"#, r#"["true"]"#, true),
        ("In", r#""b""#, r#""[\"a\",\"b\"]""#, true),
        ("In", r#""b*""#, r#""[\"a\",\"bb\"]""#, false),
    ];

    #[test]
    fn kyverno_operator_tables() {
        assert_eq!(KYVERNO_CASES.len(), 522);
        for (src, op, key, value, expected) in KYVERNO_CASES {
            assert_eq!(eval(op, key, value), *expected, "{src}: {key} {op} {value}");
        }
    }

    #[test]
    fn kyverno_quirks() {
        for (op, key, value, expected) in QUIRKS {
            assert_eq!(eval(op, key, value), *expected, "{key} {op} {value}");
        }
    }

    #[test]
    fn key_exists_in_array_table() {
        for (key, value, invalid, exists) in KEY_EXISTS_IN_ARRAY {
            let got = key_exists_in_array(key, &parse_json(value));
            match got {
                Ok(e) => {
                    assert!(!invalid, "{key} in {value}: expected invalid");
                    assert_eq!(e, *exists, "{key} in {value}");
                }
                Err(Invalid) => assert!(invalid, "{key} in {value}: unexpected invalid"),
            }
        }
    }

    #[test]
    fn set_exists_in_array_table() {
        for (keys, value, not, invalid, result) in SET_EXISTS_IN_ARRAY {
            let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
            match set_exists_in_array(&keys, &parse_json(value), *not) {
                Ok(r) => {
                    assert!(!invalid, "{keys:?} {value}: expected invalid");
                    assert_eq!(r, *result, "{keys:?} {value} notIn={not}");
                }
                Err(Invalid) => assert!(invalid, "{keys:?} {value}: unexpected invalid"),
            }
        }
    }

    #[test]
    fn parse_accepts_kyverno_spellings_only() {
        for (name, op) in SPELLINGS {
            assert_eq!(Operator::parse(name), Some(op), "{name}");
        }
        assert_eq!(Operator::parse("Equal"), Some(Operator::Equals));
        assert_eq!(Operator::parse("NotEqual"), Some(Operator::NotEquals));
        // IsOperatorValid is exact: other cases are rejected at admission.
        for bad in ["equals", "EQUALS", "anyin", "InvalidOp", "", "Equals "] {
            assert_eq!(Operator::parse(bad), None, "{bad}");
        }
        for (_, op) in SPELLINGS {
            assert_eq!(Operator::parse(op.as_str()), Some(op));
            assert_eq!(op.to_string(), op.as_str());
        }
    }

    #[test]
    fn deprecation_warnings() {
        assert_eq!(
            Operator::In.deprecation(),
            Some(
                "Operator In has been deprecated and will be removed soon. Use these instead: [\"AllIn\" \"AnyIn\"]"
            )
        );
        assert_eq!(
            Operator::NotIn.deprecation(),
            Some(
                "Operator NotIn has been deprecated and will be removed soon. Use these instead: [\"AllNotIn\" \"AnyNotIn\"]"
            )
        );
        for (_, op) in SPELLINGS {
            if !matches!(op, Operator::In | Operator::NotIn) {
                assert_eq!(op.deprecation(), None, "{op}");
            }
        }
    }

    #[test]
    fn go_parse_duration() {
        // (input, nanoseconds or None for an error), checked against Go.
        let cases: &[(&str, Option<i64>)] = &[
            ("0", Some(0)),
            ("5s", Some(5_000_000_000)),
            ("-5s", Some(-5_000_000_000)),
            ("+5s", Some(5_000_000_000)),
            ("1.5h", Some(5_400_000_000_000)),
            (".5s", Some(500_000_000)),
            ("5.s", Some(5_000_000_000)),
            ("1h2m3s4ms5us6ns", Some(3_723_004_005_006)),
            ("1µs", Some(1000)),
            ("1μs", Some(1000)),
            ("9223372036854775807ns", Some(i64::MAX)),
            ("-9223372036854775808ns", Some(i64::MIN)),
            ("2562047h47m16.854775807s", Some(i64::MAX)),
            ("0.3333333333333333333h", Some(1_200_000_000_000)),
            ("1.0000000000000000001s", Some(1_000_000_000)),
            ("0s", Some(0)),
            ("-0", Some(0)),
            ("+0", Some(0)),
            ("", None),
            ("3", None),
            ("-", None),
            ("s", None),
            (".", None),
            ("-.", None),
            (".s", None),
            ("+.s", None),
            ("1d", None),
            ("9223372036854775808ns", None),
            ("3000000h", None),
            ("1h ", None),
        ];
        for (s, want) in cases {
            assert_eq!(go::parse_duration(s), *want, "{s:?}");
        }
    }

    #[test]
    fn go_parse_float() {
        let cases: &[(&str, Option<f64>)] = &[
            ("1", Some(1.0)),
            ("+1.5", Some(1.5)),
            ("-.5", Some(-0.5)),
            ("1.", Some(1.0)),
            ("1e3", Some(1000.0)),
            ("1E-3", Some(0.001)),
            ("1_000", Some(1000.0)),
            ("1__0", None),
            ("_1", None),
            ("0x1p-2", Some(0.25)),
            ("0x1.8p1", Some(3.0)),
            ("0x10", None),
            ("inf", Some(f64::INFINITY)),
            ("-Infinity", Some(f64::NEG_INFINITY)),
            ("infin", None),
            ("1e400", None),
            ("1e-400", Some(0.0)),
            ("", None),
            (".", None),
            ("1e", None),
            (" 1", None),
            ("1.2.3", None),
        ];
        for (s, want) in cases {
            assert_eq!(go::parse_float(s), *want, "{s:?}");
        }
        assert!(go::parse_float("NaN").is_some_and(f64::is_nan));
        assert_eq!(go::parse_float("+nan"), None);
    }

    #[test]
    fn go_float_formatting() {
        // (value, fmt.Sprint, json.Marshal), from Go.
        let cases: &[(f64, &str, &str)] = &[
            (0.0, "0", "0"),
            (1.0, "1", "1"),
            (-1.0, "-1", "-1"),
            (1.5, "1.5", "1.5"),
            (100000.0, "100000", "100000"),
            (1e6, "1e+06", "1000000"),
            (123456789.0, "1.23456789e+08", "123456789"),
            (1e20, "1e+20", "100000000000000000000"),
            (1e21, "1e+21", "1e+21"),
            (1e-4, "0.0001", "0.0001"),
            (1e-5, "1e-05", "0.00001"),
            (1e-6, "1e-06", "0.000001"),
            (1e-7, "1e-07", "1e-7"),
            (2.5e-7, "2.5e-07", "2.5e-7"),
            (
                f64::MAX,
                "1.7976931348623157e+308",
                "1.7976931348623157e+308",
            ),
            (5e-324, "5e-324", "5e-324"),
            (-0.0, "-0", "-0"),
            (0.1, "0.1", "0.1"),
            (1.0 / 3.0, "0.3333333333333333", "0.3333333333333333"),
        ];
        for (f, v, j) in cases {
            let mut out = String::new();
            go::format_float_v(&mut out, *f);
            assert_eq!(out, *v, "%v of {f}");
            let mut out = String::new();
            go::format_float_json(&mut out, *f);
            assert_eq!(out, *j, "json of {f}");
        }
    }

    #[test]
    fn go_sprint() {
        let v = json!([1.0, "a b", null, true, {"z": 1e6, "a": []}]);
        assert_eq!(go::sprint(&v), "[1 a b <nil> true map[a:[] z:1e+06]]");
        assert_eq!(go::sprint(&json!(1000000)), "1e+06");
        assert_eq!(go::sprint(&json!("x")), "x");
    }

    #[test]
    fn go_json_helpers() {
        for ok in [
            "1",
            " [1, {\"a\": [true, null]}] ",
            "\"\\u00e9\"",
            "-0.5e+3",
            "{}",
        ] {
            assert!(go::json_valid(ok), "{ok}");
        }
        for bad in [
            "",
            "01",
            "1.",
            "[1,]",
            "{\"a\"}",
            "\"\\x\"",
            "[",
            "nul",
            "1 2",
            "\"\u{1}\"",
        ] {
            assert!(!go::json_valid(bad), "{bad}");
        }
        // 100 000 levels: no recursion.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(go::json_valid(&deep));
        assert_eq!(go::json_string_array("null"), Some(vec![]));
        assert_eq!(
            go::json_string_array("[\"a\", null, \"\\ud83d\\ude00\", \"\\ud800\"]"),
            Some(vec![
                "a".into(),
                String::new(),
                "😀".into(),
                "\u{FFFD}".into()
            ])
        );
        assert_eq!(go::json_string_array("[1]"), None);
        assert_eq!(go::json_string_array("\"a\""), None);
    }

    #[test]
    fn quantities() {
        let q = |s: &str| quantity::parse(s).expect(s);
        assert_eq!(q("1Gi").cmp(&q("1024Mi")), Ordering::Equal);
        assert_eq!(q("1.5Gi").cmp(&q("1536Mi")), Ordering::Equal);
        assert_eq!(q("1e3").cmp(&q("1k")), Ordering::Equal);
        assert_eq!(
            q("0.1n").cmp(&q("1n")),
            Ordering::Equal,
            "rounded up to nano"
        );
        assert_eq!(q("-0.1n").cmp(&q("-1n")), Ordering::Equal, "away from zero");
        assert_eq!(
            q("8Ei").cmp(&q("9223372036854775807")),
            Ordering::Equal,
            "capped"
        );
        assert_eq!(
            q("100E").cmp(&q("8Ei")),
            Ordering::Greater,
            "decimal is not capped"
        );
        assert_eq!(q("-1Gi").cmp(&q("-1Mi")), Ordering::Less);
        assert_eq!(q("500m").cmp(&q("0.5")), Ordering::Equal);
        for zero in ["-", "+", ".", "m", "Mi", "Ti", "0Ei", "00"] {
            assert_eq!(q(zero).cmp(&q("0")), Ordering::Equal, "{zero}");
        }
        for bad in [
            "", "Ei", "Pi", "e", "1i", "1mi", "1.2.3", " 1", "1 ", "e-20", "1e", "1K", "abc",
        ] {
            assert!(quantity::parse(bad).is_none(), "{bad}");
        }
        // Huge exponents neither hang nor overflow.
        assert_eq!(q("1e2147483647").cmp(&q("1e2147483646")), Ordering::Greater);
        assert_eq!(q("1e-2147483647").cmp(&q("1n")), Ordering::Equal);
    }

    #[test]
    fn semver_order() {
        let v = |s: &str| semver::Version::parse(s).expect(s);
        assert_eq!(v("1.2.10").cmp(&v("1.2.9")), Ordering::Greater);
        assert_eq!(v("1.0.0-alpha").cmp(&v("1.0.0")), Ordering::Less);
        assert_eq!(
            v("1.0.0-alpha.1").cmp(&v("1.0.0-alpha.beta")),
            Ordering::Less
        );
        assert_eq!(v("1.0.0-rc.1").cmp(&v("1.0.0-rc.1.1")), Ordering::Less);
        assert_eq!(v("1.0.0+a").cmp(&v("1.0.0+b")), Ordering::Equal);
        for bad in [
            "v1.2.3",
            "01.2.3",
            "1.2",
            "1.2.3-",
            "1.2.3+",
            "1.2.3-01",
            "1.2.3-a_b",
            "",
        ] {
            assert!(semver::Version::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn range_patterns() {
        assert_eq!(pattern::operator("1-10"), pattern::Op::InRange);
        assert_eq!(pattern::operator("1!-10"), pattern::Op::NotInRange);
        assert_eq!(pattern::operator("-1.5Gi-+2Gi"), pattern::Op::InRange);
        assert_eq!(pattern::operator("1 - 10"), pattern::Op::Equal);
        assert_eq!(pattern::operator(">=1"), pattern::Op::MoreEqual);
        assert!(pattern::validate("5", "1-10"));
        assert!(!pattern::validate("11", "1-10"));
        assert!(pattern::validate("11", "1!-10"));
        assert!(pattern::validate("90s", "1m-2m"));
        assert!(pattern::validate("x", "y | x"));
        assert!(pattern::validate("5", ">1 & <10"));
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let long = "9".repeat(1 << 16);
        let mut nested = json!("x");
        for _ in 0..1_000 {
            nested = Value::Array(vec![nested]);
        }
        let values = [
            json!(long),
            json!(format!("{long}.{long}Gi")),
            json!(format!("1e{long}")),
            nested,
            json!("*?*?*?*?*?*?*?*?*?*?*?*?"),
        ];
        for (_, op) in SPELLINGS {
            for k in &values {
                for v in &values {
                    let _ = op.evaluate(k, v);
                }
            }
        }
    }
}
