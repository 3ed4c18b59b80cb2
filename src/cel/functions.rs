//! The function table: every function and operator an environment offers,
//! one declaration per overload (receiver, argument and result types, as
//! the checker reads them) with its implementation (as the evaluator calls
//! it). One table serves both, so a function cannot be checked one way and
//! run another.

use super::value::{Type, Value};
use std::collections::BTreeMap;

/// A runtime error's message (cel-go's wording where it has one).
pub type FnResult = Result<Value, String>;

/// How an overload is carried out.
#[derive(Clone, Copy)]
pub enum Impl {
    /// A pure function of its arguments (the receiver first).
    Pure(fn(&[Value]) -> FnResult),
    /// Answered by the evaluation's host (registry, cluster, verifiers).
    Host,
    /// Evaluated specially by the evaluator (short-circuit operators,
    /// `or`/`orValue`), declared here for the checker.
    Special,
}

impl std::fmt::Debug for Impl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Impl::Pure(_) => "Pure",
            Impl::Host => "Host",
            Impl::Special => "Special",
        })
    }
}

/// A declaration as written in a library's table: types in CEL's own
/// spelling (`list(A)`, `map(string, dyn)`, `kyverno.image`).
pub struct Decl {
    /// Function name (qualified for namespaced globals: `base64.decode`).
    pub name: &'static str,
    /// The receiver's type of a member function.
    pub receiver: Option<&'static str>,
    /// Argument types.
    pub args: &'static [&'static str],
    /// Result type.
    pub result: &'static str,
    /// Implementation.
    pub imp: Impl,
}

/// A declaration with its types parsed.
#[derive(Debug, Clone)]
pub struct Overload {
    /// Function name.
    pub name: &'static str,
    /// Member function.
    pub member: bool,
    /// Parameter types, the receiver first for a member function.
    pub params: Vec<Type>,
    /// Result type.
    pub result: Type,
    /// Implementation.
    pub imp: Impl,
}

impl Overload {
    /// Whether run-time arguments fit this overload's parameter types.
    pub fn accepts(&self, args: &[Value]) -> bool {
        self.params.len() == args.len() && self.params.iter().zip(args).all(|(t, v)| fits(t, v))
    }
}

/// Whether a value is of a (declared) type, as far as run-time dispatch
/// tells overloads apart.
fn fits(t: &Type, v: &Value) -> bool {
    match (t, v) {
        (Type::Dyn | Type::Param(_) | Type::Var(_), _) => true,
        (Type::Null, Value::Null)
        | (Type::Bool, Value::Bool(_))
        | (Type::Int, Value::Int(_))
        | (Type::Uint, Value::Uint(_))
        | (Type::Double, Value::Double(_))
        | (Type::String, Value::String(_))
        | (Type::Bytes, Value::Bytes(_))
        | (Type::Timestamp, Value::Timestamp(_))
        | (Type::Duration, Value::Duration(_))
        | (Type::Type(_), Value::Type(_)) => true,
        (Type::List(e), Value::List(l)) => match &**e {
            Type::Dyn | Type::Param(_) | Type::Var(_) => true,
            e => l.iter().all(|v| fits(e, v)),
        },
        (Type::Map(..), Value::Map(_)) => true,
        (Type::Optional(_), Value::Optional(_)) => true,
        (Type::Opaque(n), Value::Opaque(o)) => *n == o.type_name(),
        _ => false,
    }
}

/// Parses a type as declarations spell it.
pub fn parse_type(s: &str) -> Type {
    let s = s.trim();
    if let Some(inner) = s.strip_prefix("list(").and_then(|r| r.strip_suffix(')')) {
        return Type::list(parse_type(inner));
    }
    if let Some(inner) = s
        .strip_prefix("optional(")
        .and_then(|r| r.strip_suffix(')'))
    {
        return Type::optional(parse_type(inner));
    }
    if let Some(inner) = s.strip_prefix("type(").and_then(|r| r.strip_suffix(')')) {
        return Type::Type(Box::new(parse_type(inner)));
    }
    if let Some(inner) = s.strip_prefix("map(").and_then(|r| r.strip_suffix(')')) {
        // Split at the top-level comma.
        let mut depth = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                ',' if depth == 0 => {
                    return Type::map(parse_type(&inner[..i]), parse_type(&inner[i + 1..]));
                }
                _ => {}
            }
        }
    }
    match s {
        "dyn" => Type::Dyn,
        "null" => Type::Null,
        "bool" => Type::Bool,
        "int" => Type::Int,
        "uint" => Type::Uint,
        "double" => Type::Double,
        "string" => Type::String,
        "bytes" => Type::Bytes,
        "timestamp" => Type::Timestamp,
        "duration" => Type::Duration,
        "A" => Type::Param("A"),
        "B" => Type::Param("B"),
        "K" => Type::Param("K"),
        "V" => Type::Param("V"),
        other => Type::Opaque(leak_name(other)),
    }
}

/// Opaque type names come from static declarations; this maps them back
/// to the `'static` string they were written as.
fn leak_name(s: &str) -> &'static str {
    super::library::OPAQUE_TYPES
        .iter()
        .find(|n| **n == s)
        .copied()
        .unwrap_or("unknown")
}

/// Every overload of an environment, by name.
#[derive(Debug, Default)]
pub struct FunctionTable {
    by_name: BTreeMap<&'static str, Vec<Overload>>,
}

impl FunctionTable {
    /// A table of these declarations.
    pub fn new(decls: &[&[Decl]]) -> Self {
        let mut by_name: BTreeMap<&'static str, Vec<Overload>> = BTreeMap::new();
        for d in decls.iter().flat_map(|d| d.iter()) {
            let mut params = Vec::with_capacity(d.args.len() + 1);
            if let Some(r) = d.receiver {
                params.push(parse_type(r));
            }
            params.extend(d.args.iter().map(|a| parse_type(a)));
            by_name.entry(d.name).or_default().push(Overload {
                name: d.name,
                member: d.receiver.is_some(),
                params,
                result: parse_type(d.result),
                imp: d.imp,
            });
        }
        FunctionTable { by_name }
    }

    /// The overloads of `name` (member or global as asked).
    pub fn overloads(&self, name: &str, member: bool) -> impl Iterator<Item = &Overload> {
        self.by_name
            .get(name)
            .into_iter()
            .flatten()
            .filter(move |o| o.member == member)
    }

    /// Whether any overload has this name.
    pub fn has(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }
}
