//! CEL values and types: what expressions evaluate to, conversions from
//! and to JSON, CEL's heterogeneous equality and ordering.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// A CEL type, as the checker infers it and `type()` returns it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Type {
    /// Any type, checked at run time.
    Dyn,
    /// `null_type`.
    Null,
    /// `bool`.
    Bool,
    /// `int`.
    Int,
    /// `uint`.
    Uint,
    /// `double`.
    Double,
    /// `string`.
    String,
    /// `bytes`.
    Bytes,
    /// `list(T)`.
    List(Box<Type>),
    /// `map(K, V)`.
    Map(Box<Type>, Box<Type>),
    /// `type(T)`: the type of a type value.
    Type(Box<Type>),
    /// `google.protobuf.Timestamp`.
    Timestamp,
    /// `google.protobuf.Duration`.
    Duration,
    /// `optional_type(T)`.
    Optional(Box<Type>),
    /// A library's opaque type (`kyverno.image`, `kubernetes.Quantity`, …).
    Opaque(&'static str),
    /// A type parameter of a function declaration (`A`, `K`, `V`).
    Param(&'static str),
    /// A type variable the checker has yet to solve.
    Var(u32),
    /// The type of an expression that failed to check.
    Error,
}

impl Type {
    /// `list(t)`.
    pub fn list(t: Type) -> Type {
        Type::List(Box::new(t))
    }

    /// `map(k, v)`.
    pub fn map(k: Type, v: Type) -> Type {
        Type::Map(Box::new(k), Box::new(v))
    }

    /// `optional_type(t)`.
    pub fn optional(t: Type) -> Type {
        Type::Optional(Box::new(t))
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Dyn => f.write_str("dyn"),
            Type::Null => f.write_str("null_type"),
            Type::Bool => f.write_str("bool"),
            Type::Int => f.write_str("int"),
            Type::Uint => f.write_str("uint"),
            Type::Double => f.write_str("double"),
            Type::String => f.write_str("string"),
            Type::Bytes => f.write_str("bytes"),
            Type::List(t) => write!(f, "list({t})"),
            Type::Map(k, v) => write!(f, "map({k}, {v})"),
            Type::Type(t) => write!(f, "type({t})"),
            Type::Timestamp => f.write_str("google.protobuf.Timestamp"),
            Type::Duration => f.write_str("google.protobuf.Duration"),
            Type::Optional(t) => write!(f, "optional_type({t})"),
            Type::Opaque(n) => f.write_str(n),
            Type::Param(n) => f.write_str(n),
            Type::Var(n) => write!(f, "_var{n}"),
            Type::Error => f.write_str("*error*"),
        }
    }
}

/// A library value with methods (an image reference, a quantity, …).
pub trait Opaque: fmt::Debug + Send + Sync {
    /// Its CEL type name.
    fn type_name(&self) -> &'static str;
    /// Equality with another value of the same type.
    fn equals(&self, other: &dyn Opaque) -> bool;
    /// Its string form, for `string(x)` (`None`: no conversion).
    fn to_string_value(&self) -> Option<String> {
        None
    }
    /// For downcasting in library functions.
    fn as_any(&self) -> &dyn std::any::Any;
}

/// A map key: CEL allows bool, int, uint and string keys. Int and uint keys
/// of equal value are the same key (heterogeneous equality).
#[derive(Debug, Clone)]
pub enum Key {
    /// A bool key.
    Bool(bool),
    /// An int key.
    Int(i64),
    /// A uint key.
    Uint(u64),
    /// A string key.
    String(Arc<str>),
}

impl Key {
    fn rank(&self) -> u8 {
        match self {
            Key::Bool(_) => 0,
            Key::Int(_) | Key::Uint(_) => 1,
            Key::String(_) => 2,
        }
    }

    /// The key as a value.
    pub fn to_value(&self) -> Value {
        match self {
            Key::Bool(b) => Value::Bool(*b),
            Key::Int(i) => Value::Int(*i),
            Key::Uint(u) => Value::Uint(*u),
            Key::String(s) => Value::String(s.clone()),
        }
    }

    /// The key a value looks up, if it can be one (an integral double
    /// finds the int key of the same value).
    pub fn from_value(v: &Value) -> Option<Key> {
        match v {
            Value::Bool(b) => Some(Key::Bool(*b)),
            Value::Int(i) => Some(Key::Int(*i)),
            Value::Uint(u) => Some(Key::Uint(*u)),
            Value::String(s) => Some(Key::String(s.clone())),
            Value::Double(d)
                if d.fract() == 0.0
                    && *d >= -9.223_372_036_854_776e18
                    && *d < 9.223_372_036_854_776e18 =>
            {
                Some(Key::Int(*d as i64))
            }
            _ => None,
        }
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Key::Bool(a), Key::Bool(b)) => a.cmp(b),
            (Key::String(a), Key::String(b)) => a.cmp(b),
            (Key::Int(a), Key::Int(b)) => a.cmp(b),
            (Key::Uint(a), Key::Uint(b)) => a.cmp(b),
            (Key::Int(a), Key::Uint(b)) => compare_int_uint(*a, *b),
            (Key::Uint(a), Key::Int(b)) => compare_int_uint(*b, *a).reverse(),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

fn compare_int_uint(i: i64, u: u64) -> Ordering {
    if i < 0 {
        Ordering::Less
    } else {
        (i as u64).cmp(&u)
    }
}

/// A CEL map.
pub type Map = BTreeMap<Key, Value>;

/// A timestamp: seconds since the Unix epoch and nanoseconds, within
/// 0001-01-01 and 9999-12-31T23:59:59.999999999Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub seconds: i64,
    /// Nanoseconds, 0..1e9.
    pub nanos: u32,
}

/// Smallest timestamp: 0001-01-01T00:00:00Z.
pub const MIN_TIMESTAMP_SECONDS: i64 = -62_135_596_800;
/// Largest timestamp's seconds: 9999-12-31T23:59:59Z.
pub const MAX_TIMESTAMP_SECONDS: i64 = 253_402_300_799;

impl Timestamp {
    /// A timestamp in range, or `None`.
    pub fn new(seconds: i64, nanos: u32) -> Option<Self> {
        (MIN_TIMESTAMP_SECONDS..=MAX_TIMESTAMP_SECONDS)
            .contains(&seconds)
            .then_some(Timestamp { seconds, nanos })
    }

    /// Nanoseconds since the epoch.
    pub fn total_nanos(&self) -> i128 {
        self.seconds as i128 * 1_000_000_000 + self.nanos as i128
    }

    /// From nanoseconds since the epoch, in range.
    pub fn from_total_nanos(n: i128) -> Option<Self> {
        let seconds = i64::try_from(n.div_euclid(1_000_000_000)).ok()?;
        Timestamp::new(seconds, n.rem_euclid(1_000_000_000) as u32)
    }
}

/// A CEL value.
#[derive(Debug, Clone)]
pub enum Value {
    /// `null`.
    Null,
    /// A bool.
    Bool(bool),
    /// A signed 64-bit integer.
    Int(i64),
    /// An unsigned 64-bit integer.
    Uint(u64),
    /// A double.
    Double(f64),
    /// A string.
    String(Arc<str>),
    /// Bytes.
    Bytes(Arc<[u8]>),
    /// A list.
    List(Arc<Vec<Value>>),
    /// A map.
    Map(Arc<Map>),
    /// A type value (`int`, `type(x)`).
    Type(Type),
    /// A timestamp.
    Timestamp(Timestamp),
    /// A duration in nanoseconds (Go's `time.Duration` range).
    Duration(i64),
    /// An optional value.
    Optional(Option<Arc<Value>>),
    /// A library value.
    Opaque(Arc<dyn Opaque>),
}

impl Value {
    /// A string value.
    pub fn string(s: impl Into<Arc<str>>) -> Value {
        Value::String(s.into())
    }

    /// A list value.
    pub fn list(v: Vec<Value>) -> Value {
        Value::List(Arc::new(v))
    }

    /// The value's runtime type.
    pub fn type_of(&self) -> Type {
        match self {
            Value::Null => Type::Null,
            Value::Bool(_) => Type::Bool,
            Value::Int(_) => Type::Int,
            Value::Uint(_) => Type::Uint,
            Value::Double(_) => Type::Double,
            Value::String(_) => Type::String,
            Value::Bytes(_) => Type::Bytes,
            Value::List(_) => Type::list(Type::Dyn),
            Value::Map(_) => Type::map(Type::Dyn, Type::Dyn),
            Value::Type(t) => Type::Type(Box::new(t.clone())),
            Value::Timestamp(_) => Type::Timestamp,
            Value::Duration(_) => Type::Duration,
            Value::Optional(_) => Type::optional(Type::Dyn),
            Value::Opaque(o) => Type::Opaque(o.type_name()),
        }
    }

    /// The type name in runtime error messages (cel-go's spelling).
    pub fn type_name(&self) -> String {
        match self {
            Value::List(_) => "list".into(),
            Value::Map(_) => "map".into(),
            Value::Type(_) => "type".into(),
            Value::Optional(_) => "optional_type".into(),
            v => v.type_of().to_string(),
        }
    }

    /// Converts JSON: integers stay `int` (or `uint` past `i64`), others
    /// `double`, as Kubernetes' unstructured objects do.
    pub fn from_json(v: &serde_json::Value) -> Value {
        Self::from_json_numbers(v, false)
    }

    /// Converts JSON with every number a `double`, as Go's
    /// `json.Unmarshal` into `interface{}` does (`json.unmarshal`, image
    /// metadata, attestation payloads).
    pub fn from_json_doubles(v: &serde_json::Value) -> Value {
        Self::from_json_numbers(v, true)
    }

    fn from_json_numbers(v: &serde_json::Value, doubles: bool) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => {
                if doubles {
                    return Value::Double(n.as_f64().unwrap_or(f64::NAN));
                }
                if let Some(i) = n.as_i64() {
                    Value::Int(i)
                } else if let Some(u) = n.as_u64() {
                    Value::Uint(u)
                } else {
                    Value::Double(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            serde_json::Value::String(s) => Value::String(s.as_str().into()),
            serde_json::Value::Array(a) => Value::list(
                a.iter()
                    .map(|e| Self::from_json_numbers(e, doubles))
                    .collect(),
            ),
            serde_json::Value::Object(o) => Value::Map(Arc::new(
                o.iter()
                    .map(|(k, v)| {
                        (
                            Key::String(k.as_str().into()),
                            Self::from_json_numbers(v, doubles),
                        )
                    })
                    .collect(),
            )),
        }
    }

    /// Converts to JSON, as Kubernetes' CEL-to-unstructured conversion
    /// does; `None` for values JSON cannot hold (bytes are base64,
    /// timestamps RFC 3339, durations Go's seconds form).
    pub fn to_json(&self) -> Option<serde_json::Value> {
        use base64::Engine as _;
        Some(match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Uint(u) => serde_json::Value::from(*u),
            Value::Double(d) => serde_json::Number::from_f64(*d).map(serde_json::Value::Number)?,
            Value::String(s) => serde_json::Value::String(s.to_string()),
            Value::Bytes(b) => {
                serde_json::Value::String(base64::engine::general_purpose::STANDARD.encode(b))
            }
            Value::List(l) => {
                serde_json::Value::Array(l.iter().map(Value::to_json).collect::<Option<_>>()?)
            }
            Value::Map(m) => {
                let mut o = serde_json::Map::new();
                for (k, v) in m.iter() {
                    let key = match k {
                        Key::String(s) => s.to_string(),
                        Key::Bool(b) => b.to_string(),
                        Key::Int(i) => i.to_string(),
                        Key::Uint(u) => u.to_string(),
                    };
                    o.insert(key, v.to_json()?);
                }
                serde_json::Value::Object(o)
            }
            Value::Timestamp(t) => serde_json::Value::String(super::time::format_timestamp(t)),
            Value::Duration(d) => serde_json::Value::String(super::time::format_duration(*d)),
            Value::Optional(Some(v)) => v.to_json()?,
            Value::Optional(None) => serde_json::Value::Null,
            Value::Type(t) => serde_json::Value::String(t.to_string()),
            Value::Opaque(o) => serde_json::Value::String(o.to_string_value()?),
        })
    }
}

/// CEL equality (heterogeneous: numbers compare by value across int, uint
/// and double; values of different kinds are unequal, never an error).
pub fn equals(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Bytes(x), Value::Bytes(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| equals(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| equals(v, w)))
        }
        (Value::Type(x), Value::Type(y)) => x == y,
        (Value::Timestamp(x), Value::Timestamp(y)) => x == y,
        (Value::Duration(x), Value::Duration(y)) => x == y,
        (Value::Optional(x), Value::Optional(y)) => match (x, y) {
            (None, None) => true,
            (Some(a), Some(b)) => equals(a, b),
            _ => false,
        },
        (Value::Opaque(x), Value::Opaque(y)) => {
            x.type_name() == y.type_name() && x.equals(y.as_ref())
        }
        _ => compare_numbers(a, b) == Some(Ordering::Equal),
    }
}

/// Orders two numbers of any numeric kinds exactly (no lossy cast);
/// `None` for NaN or non-numbers.
pub fn compare_numbers(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Uint(x), Value::Uint(y)) => Some(x.cmp(y)),
        (Value::Double(x), Value::Double(y)) => x.partial_cmp(y),
        (Value::Int(x), Value::Uint(y)) => Some(compare_int_uint(*x, *y)),
        (Value::Uint(x), Value::Int(y)) => Some(compare_int_uint(*y, *x).reverse()),
        (Value::Int(x), Value::Double(y)) => compare_i64_f64(*x, *y),
        (Value::Double(x), Value::Int(y)) => compare_i64_f64(*y, *x).map(Ordering::reverse),
        (Value::Uint(x), Value::Double(y)) => compare_u64_f64(*x, *y),
        (Value::Double(x), Value::Uint(y)) => compare_u64_f64(*y, *x).map(Ordering::reverse),
        _ => None,
    }
}

fn compare_i64_f64(i: i64, d: f64) -> Option<Ordering> {
    if d.is_nan() {
        return None;
    }
    if d < -9.223_372_036_854_776e18 {
        return Some(Ordering::Greater);
    }
    if d >= 9.223_372_036_854_776e18 {
        return Some(Ordering::Less);
    }
    let t = d.trunc() as i64;
    Some(match i.cmp(&t) {
        Ordering::Equal => 0.0f64.partial_cmp(&(d - d.trunc()))?,
        o => o,
    })
}

fn compare_u64_f64(u: u64, d: f64) -> Option<Ordering> {
    if d.is_nan() {
        return None;
    }
    if d < 0.0 {
        return Some(Ordering::Greater);
    }
    if d >= 1.844_674_407_370_955_2e19 {
        return Some(Ordering::Less);
    }
    let t = d.trunc() as u64;
    Some(match u.cmp(&t) {
        Ordering::Equal => 0.0f64.partial_cmp(&(d - d.trunc()))?,
        o => o,
    })
}
