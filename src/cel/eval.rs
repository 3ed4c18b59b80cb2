//! Evaluates a parsed expression. Errors are values as in cel-go: `&&`,
//! `||`, `all` and `exists` absorb an error when another operand decides
//! the result; every other use of an error propagates it. Every node and
//! every iteration is charged against a cost limit, and a cancelled
//! evaluation (cost exceeded) is never absorbed.

use super::ast::{Comprehension, Expr, ExprKind, Literal, MacroKind};
use super::functions::{FunctionTable, Impl};
use super::library::{self, no_such_overload};
use super::value::{Key, Map, Type, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Kyverno's (Kubernetes') per-expression cost limit.
pub const DEFAULT_COST_LIMIT: u64 = 1_000_000;

/// Why an evaluation did not produce a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// A runtime error (a CEL error value that reached the result).
    #[error("{0}")]
    Runtime(String),
    /// The evaluation was stopped: its cost passed the limit.
    #[error("operation cancelled: actual cost limit exceeded")]
    CostExceeded,
}

impl EvalError {
    fn absorbable(&self) -> bool {
        matches!(self, EvalError::Runtime(_))
    }
}

impl From<String> for EvalError {
    fn from(s: String) -> Self {
        EvalError::Runtime(s)
    }
}

type R = Result<Value, EvalError>;

/// Functions the environment declares but the host answers (registry,
/// cluster and verifier access).
pub trait Host {
    /// Calls `function` (the receiver first in `args` for a member call).
    fn call(&mut self, function: &str, args: &[Value]) -> Result<Value, String>;

    /// The value of a variable declared under a dotted name that the
    /// evaluation was not given, computed when first used (Kyverno's
    /// `variables.<name>` are lazy). `None`: no such variable.
    fn variable(&mut self, name: &str) -> Option<Result<Value, String>> {
        let _ = name;
        None
    }
}

/// A host that answers nothing (pure environments).
pub struct NoHost;

impl Host for NoHost {
    fn call(&mut self, function: &str, _: &[Value]) -> Result<Value, String> {
        Err(format!("function {function} is not available here"))
    }
}

/// One evaluation's state.
pub struct Evaluator<'a> {
    table: &'a FunctionTable,
    globals: &'a BTreeMap<String, Value>,
    scopes: Vec<(&'a str, Result<Value, EvalError>)>,
    host: &'a mut dyn Host,
    cost: u64,
    limit: u64,
    /// Deep weights of the lists and maps seen, by address (a value shared
    /// by many calls is measured once); each is held, so that no address is
    /// reused while the evaluation runs.
    deep: BTreeMap<usize, (Value, u64)>,
}

/// Functions whose work grows with their arguments' whole tree, not their
/// length: comparisons, membership, serialisation, set operations. They
/// are charged the deep weight of their arguments, so that a hostile
/// object compared or serialised in a loop cannot outlast the cost limit's
/// intent (Kubernetes' cost estimator charges these by size too).
const DEEP_FUNCTIONS: &[&str] = &[
    "_==_",
    "_!=_",
    "@in",
    "json.marshal",
    "sets.contains",
    "sets.equivalent",
    "sets.intersects",
    "distinct",
    "flatten",
];

/// A type name as a value (`int`, `string`, …), when `name` is one (the
/// checker reads type names with this too).
pub(super) fn type_value(name: &str) -> Option<Type> {
    Some(match name {
        "int" => Type::Int,
        "uint" => Type::Uint,
        "double" => Type::Double,
        "bool" => Type::Bool,
        "string" => Type::String,
        "bytes" => Type::Bytes,
        "list" => Type::list(Type::Dyn),
        "map" => Type::map(Type::Dyn, Type::Dyn),
        "null_type" => Type::Null,
        "type" => Type::Type(Box::new(Type::Dyn)),
        "google.protobuf.Timestamp" => Type::Timestamp,
        "google.protobuf.Duration" => Type::Duration,
        "optional_type" => Type::optional(Type::Dyn),
        _ => return None,
    })
}

fn literal(l: &Literal) -> Value {
    match l {
        Literal::Null => Value::Null,
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Int(i) => Value::Int(*i),
        Literal::Uint(u) => Value::Uint(*u),
        Literal::Double(d) => Value::Double(*d),
        Literal::String(s) => Value::String(s.clone()),
        Literal::Bytes(b) => Value::Bytes(b.clone()),
    }
}

/// A value's size for cost accounting.
fn weight(v: &Value) -> u64 {
    (match v {
        Value::String(s) => s.len(),
        Value::Bytes(b) => b.len(),
        Value::List(l) => l.len(),
        Value::Map(m) => m.len(),
        _ => 0,
    } / 16) as u64
}

/// A key as cel-go prints it in `no such key`.
fn key_text(k: &Value) -> String {
    match k {
        Value::String(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Double(d) => library::format_double(*d),
        other => other.type_name(),
    }
}

impl<'a> Evaluator<'a> {
    /// An evaluator over `globals` with the default cost limit.
    pub fn new(
        table: &'a FunctionTable,
        globals: &'a BTreeMap<String, Value>,
        host: &'a mut dyn Host,
    ) -> Self {
        Evaluator {
            table,
            globals,
            scopes: Vec::new(),
            host,
            cost: 0,
            limit: DEFAULT_COST_LIMIT,
            deep: BTreeMap::new(),
        }
    }

    /// A value's whole size for cost accounting: one per element or entry
    /// at every depth, plus a sixteenth of every string's and bytes' length.
    fn deep_weight(&mut self, v: &Value) -> u64 {
        let key = match v {
            Value::List(l) => Arc::as_ptr(l) as *const u8 as usize,
            Value::Map(m) => Arc::as_ptr(m) as *const u8 as usize,
            Value::Optional(Some(o)) => return self.deep_weight(o),
            other => return weight(other),
        };
        if let Some((_, w)) = self.deep.get(&key) {
            return *w;
        }
        let w = match v {
            Value::List(l) => l.iter().fold(l.len() as u64, |acc, e| {
                acc.saturating_add(self.deep_weight(e))
            }),
            Value::Map(m) => m.iter().fold(m.len() as u64, |acc, (k, e)| {
                acc.saturating_add(weight(&k.to_value()))
                    .saturating_add(self.deep_weight(e))
            }),
            _ => 0,
        };
        self.deep.insert(key, (v.clone(), w));
        w
    }

    /// Sets the cost limit.
    pub fn with_limit(mut self, limit: u64) -> Self {
        self.limit = limit;
        self
    }

    /// The cost spent so far.
    pub fn cost(&self) -> u64 {
        self.cost
    }

    fn charge(&mut self, n: u64) -> Result<(), EvalError> {
        self.cost = self.cost.saturating_add(n);
        if self.cost > self.limit {
            return Err(EvalError::CostExceeded);
        }
        Ok(())
    }

    fn bound(&self, name: &str) -> bool {
        self.scopes.iter().any(|(n, _)| *n == name) || self.globals.contains_key(name)
    }

    /// The value of a variable declared under a dotted name
    /// (`variables.allowed`), from the globals or lazily from the host,
    /// unless a local variable shadows its first name.
    fn qualified_variable(&mut self, e: &Expr) -> Option<R> {
        let q = e.qualified_name()?;
        let root = q.split('.').next()?;
        if !q.contains('.') || self.scopes.iter().any(|(n, _)| *n == root) {
            return None;
        }
        if let Some(v) = self.globals.get(&q) {
            return Some(Ok(v.clone()));
        }
        self.host
            .variable(&q)
            .map(|r| r.map_err(EvalError::Runtime))
    }

    fn lookup(&self, name: &str) -> R {
        if let Some((_, v)) = self.scopes.iter().rev().find(|(n, _)| *n == name) {
            return v.clone();
        }
        if let Some(v) = self.globals.get(name) {
            return Ok(v.clone());
        }
        if let Some(t) = type_value(name) {
            return Ok(Value::Type(t));
        }
        Err(EvalError::Runtime(format!("no such attribute: {name}")))
    }

    /// Evaluates `e`.
    pub fn eval(&mut self, e: &'a Expr) -> R {
        self.charge(1)?;
        match &e.kind {
            ExprKind::Literal(l) => Ok(literal(l)),
            ExprKind::Ident(name) => self.lookup(name),
            ExprKind::Select {
                operand,
                field,
                test,
                optional,
            } => {
                if !*test
                    && !*optional
                    && let Some(v) = self.qualified_variable(e)
                {
                    return v;
                }
                let v = self.eval(operand)?;
                select(v, field, *test, *optional)
            }
            ExprKind::Call {
                target,
                function,
                args,
            } => self.call(target.as_deref(), function, args),
            ExprKind::List { elements, optional } => {
                let mut out = Vec::with_capacity(elements.len());
                for (el, opt) in elements.iter().zip(optional) {
                    let v = self.eval(el)?;
                    if *opt {
                        match v {
                            Value::Optional(Some(v)) => out.push((*v).clone()),
                            Value::Optional(None) => {}
                            _ => return Err(no_such_overload().into()),
                        }
                    } else {
                        out.push(v);
                    }
                }
                Ok(Value::list(out))
            }
            ExprKind::Map { entries } => {
                let mut m = Map::new();
                for entry in entries {
                    let k = self.eval(&entry.key)?;
                    let v = self.eval(&entry.value)?;
                    let key = match k {
                        Value::Bool(_) | Value::Int(_) | Value::Uint(_) | Value::String(_) => {
                            Key::from_value(&k).ok_or_else(no_such_overload)?
                        }
                        other => {
                            return Err(EvalError::Runtime(format!(
                                "unsupported key type: {}",
                                other.type_name()
                            )));
                        }
                    };
                    let v = if entry.optional {
                        match v {
                            Value::Optional(Some(v)) => (*v).clone(),
                            Value::Optional(None) => continue,
                            _ => return Err(no_such_overload().into()),
                        }
                    } else {
                        v
                    };
                    if m.insert(key, v).is_some() {
                        return Err(EvalError::Runtime(format!(
                            "Failed with repeated key: {}",
                            key_text(&k)
                        )));
                    }
                }
                Ok(Value::Map(Arc::new(m)))
            }
            ExprKind::Comprehension(c) => self.comprehension(c),
            ExprKind::Bind { var, init, body } => {
                let v = self.eval(init);
                if let Err(EvalError::CostExceeded) = v {
                    return v;
                }
                self.scopes.push((var, v));
                let r = self.eval(body);
                self.scopes.pop();
                r
            }
        }
    }

    fn call(&mut self, target: Option<&'a Expr>, function: &str, args: &'a [Expr]) -> R {
        match (function, target, args) {
            ("_&&_", None, [l, r]) => return self.logic(l, r, false),
            ("_||_", None, [l, r]) => return self.logic(l, r, true),
            ("_?_:_", None, [c, t, f]) => {
                return match self.eval(c)? {
                    Value::Bool(true) => self.eval(t),
                    Value::Bool(false) => self.eval(f),
                    _ => Err(no_such_overload().into()),
                };
            }
            ("_[_]" | "_[?_]", None, [operand, index]) => {
                let v = self.eval(operand)?;
                let i = self.eval(index)?;
                return index_value(v, &i, function == "_[?_]");
            }
            ("or" | "orValue", Some(t), [alternative]) => {
                return match self.eval(t)? {
                    Value::Optional(Some(v)) if function == "or" => Ok(Value::Optional(Some(v))),
                    Value::Optional(Some(v)) => Ok((*v).clone()),
                    Value::Optional(None) => {
                        let alt = self.eval(alternative)?;
                        if function == "or" && !matches!(alt, Value::Optional(_)) {
                            return Err(no_such_overload().into());
                        }
                        Ok(alt)
                    }
                    _ => Err(no_such_overload().into()),
                };
            }
            _ => {}
        }
        // A qualified global (`base64.decode(x)`) unless its first name is
        // a variable.
        let qualified = target.and_then(|t| {
            let q = t.qualified_name()?;
            let root = q.split('.').next().unwrap_or("");
            let name = format!("{q}.{function}");
            (!self.bound(root) && self.table.has(&name)).then_some(name)
        });
        let mut values = Vec::with_capacity(args.len() + 1);
        let (name, member) = match (&qualified, target) {
            (Some(q), _) => (q.as_str(), false),
            (None, Some(t)) => {
                values.push(self.eval(t)?);
                (function, true)
            }
            (None, None) => (function, false),
        };
        for a in args {
            values.push(self.eval(a)?);
        }
        let args_weight: u64 = if DEEP_FUNCTIONS.contains(&name) {
            let mut w = 0u64;
            for v in &values {
                w = w.saturating_add(self.deep_weight(v));
            }
            w
        } else {
            values.iter().map(weight).sum()
        };
        self.charge(1 + args_weight)?;
        let overload = self
            .table
            .overloads(name, member)
            .find(|o| o.accepts(&values))
            .map(|o| o.imp);
        let result = match overload {
            Some(Impl::Pure(f)) => f(&values)?,
            Some(Impl::Host) => self.host.call(name, &values)?,
            Some(Impl::Special) | None => return Err(no_such_overload().into()),
        };
        self.charge(weight(&result))?;
        Ok(result)
    }

    /// `&&` (`or == false`) and `||` with cel-go's error absorption.
    fn logic(&mut self, l: &'a Expr, r: &'a Expr, or: bool) -> R {
        let decisive = Value::Bool(or);
        let lv = self.eval(l);
        if matches!(&lv, Ok(Value::Bool(b)) if *b == or) {
            return Ok(decisive);
        }
        if let Err(EvalError::CostExceeded) = lv {
            return lv;
        }
        let rv = self.eval(r);
        if matches!(&rv, Ok(Value::Bool(b)) if *b == or) {
            return Ok(decisive);
        }
        match (lv, rv) {
            (_, Err(EvalError::CostExceeded)) => Err(EvalError::CostExceeded),
            (Ok(Value::Bool(_)), Ok(Value::Bool(_))) => Ok(Value::Bool(!or)),
            (Err(e), _) | (_, Err(e)) => Err(e),
            _ => Err(no_such_overload().into()),
        }
    }

    fn with_vars(
        &mut self,
        c: &'a Comprehension,
        first: Value,
        second: Option<Value>,
        e: &'a Expr,
    ) -> R {
        self.charge(1)?;
        self.scopes.push((&c.var, Ok(first)));
        if let (Some(name), Some(v)) = (&c.var2, second) {
            self.scopes.push((name, Ok(v)));
        }
        let r = self.eval(e);
        self.scopes
            .truncate(self.scopes.len() - 1 - usize::from(c.var2.is_some()));
        r
    }

    fn comprehension(&mut self, c: &'a Comprehension) -> R {
        let range = self.eval(&c.range)?;
        if matches!(c.kind, MacroKind::OptMap | MacroKind::OptFlatMap) {
            let Value::Optional(inner) = range else {
                return Err(no_such_overload().into());
            };
            let Some(inner) = inner else {
                return Ok(Value::Optional(None));
            };
            let r = self.with_vars(c, (*inner).clone(), None, &c.body)?;
            return match c.kind {
                MacroKind::OptMap => Ok(Value::Optional(Some(Arc::new(r)))),
                _ if matches!(r, Value::Optional(_)) => Ok(r),
                _ => Err(no_such_overload().into()),
            };
        }
        // The pairs iterated: (element or key, value) for two variables;
        // one variable sees list elements and map keys.
        let two = c.var2.is_some();
        let items: Vec<(Value, Option<Value>)> = match &range {
            Value::List(l) if two => l
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::Int(i as i64), Some(v.clone())))
                .collect(),
            Value::List(l) => l.iter().map(|v| (v.clone(), None)).collect(),
            Value::Map(m) if two => m
                .iter()
                .map(|(k, v)| (k.to_value(), Some(v.clone())))
                .collect(),
            Value::Map(m) => m.keys().map(|k| (k.to_value(), None)).collect(),
            _ => return Err(no_such_overload().into()),
        };
        match c.kind {
            MacroKind::All | MacroKind::Exists => {
                let decisive = c.kind == MacroKind::Exists;
                let mut error: Option<EvalError> = None;
                for (a, b) in items {
                    match self.with_vars(c, a, b, &c.body) {
                        Ok(Value::Bool(v)) if v == decisive => return Ok(Value::Bool(decisive)),
                        Ok(Value::Bool(_)) => {}
                        Ok(_) => {
                            error.get_or_insert(no_such_overload().into());
                        }
                        Err(e) if e.absorbable() => {
                            error.get_or_insert(e);
                        }
                        Err(e) => return Err(e),
                    }
                }
                match error {
                    Some(e) => Err(e),
                    None => Ok(Value::Bool(!decisive)),
                }
            }
            MacroKind::ExistsOne => {
                let mut n = 0;
                for (a, b) in items {
                    match self.with_vars(c, a, b, &c.body)? {
                        Value::Bool(true) => n += 1,
                        Value::Bool(false) => {}
                        _ => return Err(no_such_overload().into()),
                    }
                }
                Ok(Value::Bool(n == 1))
            }
            MacroKind::Map | MacroKind::Filter | MacroKind::TransformList => {
                let mut out = Vec::new();
                for (a, b) in items {
                    if let Some(f) = &c.filter
                        && !self.predicate(c, &a, &b, f)?
                    {
                        continue;
                    }
                    if c.kind == MacroKind::Filter {
                        if self.predicate(c, &a, &b, &c.body)? {
                            out.push(a);
                        }
                    } else {
                        out.push(self.with_vars(c, a, b, &c.body)?);
                    }
                }
                Ok(Value::list(out))
            }
            MacroKind::TransformMap | MacroKind::TransformMapEntry => {
                let mut out = Map::new();
                for (a, b) in items {
                    if let Some(f) = &c.filter
                        && !self.predicate(c, &a, &b, f)?
                    {
                        continue;
                    }
                    let key = Key::from_value(&a).ok_or_else(no_such_overload)?;
                    let v = self.with_vars(c, a, b, &c.body)?;
                    if c.kind == MacroKind::TransformMap {
                        out.insert(key, v);
                        continue;
                    }
                    let Value::Map(entry) = v else {
                        return Err(no_such_overload().into());
                    };
                    for (k, v) in entry.iter() {
                        if out.insert(k.clone(), v.clone()).is_some() {
                            return Err(EvalError::Runtime(format!(
                                "insert failed: key {} already exists",
                                key_text(&k.to_value())
                            )));
                        }
                    }
                }
                Ok(Value::Map(Arc::new(out)))
            }
            MacroKind::SortBy => {
                let mut keyed = Vec::with_capacity(items.len());
                for (a, b) in items {
                    let k = self.with_vars(c, a.clone(), b, &c.body)?;
                    keyed.push((k, a));
                }
                let mut err = None;
                keyed.sort_by(|x, y| match library::compare(&x.0, &y.0) {
                    Ok(Some(o)) => o,
                    _ => {
                        err = Some("sortBy keys must be comparable values of one type".to_string());
                        std::cmp::Ordering::Equal
                    }
                });
                if let Some(e) = err {
                    return Err(EvalError::Runtime(e));
                }
                Ok(Value::list(keyed.into_iter().map(|(_, v)| v).collect()))
            }
            MacroKind::OptMap | MacroKind::OptFlatMap => Err(no_such_overload().into()),
        }
    }

    fn predicate(
        &mut self,
        c: &'a Comprehension,
        a: &Value,
        b: &Option<Value>,
        e: &'a Expr,
    ) -> Result<bool, EvalError> {
        match self.with_vars(c, a.clone(), b.clone(), e)? {
            Value::Bool(v) => Ok(v),
            _ => Err(no_such_overload().into()),
        }
    }
}

/// `v.field`, `has(v.field)`, `v.?field`; selecting from an optional
/// stays optional.
fn select(v: Value, field: &str, test: bool, optional: bool) -> R {
    match v {
        Value::Map(m) => {
            let found = m.get(&Key::String(field.into()));
            if test {
                return Ok(Value::Bool(found.is_some()));
            }
            match (found, optional) {
                (Some(v), false) => Ok(v.clone()),
                (Some(v), true) => Ok(Value::Optional(Some(Arc::new(v.clone())))),
                (None, true) => Ok(Value::Optional(None)),
                (None, false) => Err(EvalError::Runtime(format!("no such key: {field}"))),
            }
        }
        Value::Optional(None) if !test => Ok(Value::Optional(None)),
        Value::Optional(Some(inner)) if !test => select((*inner).clone(), field, false, true),
        _ => Err(no_such_overload().into()),
    }
}

/// `v[i]` and `v[?i]`.
fn index_value(v: Value, i: &Value, optional: bool) -> R {
    match v {
        Value::List(l) => {
            let idx = match i {
                Value::Int(n) => Some(*n),
                Value::Uint(n) => i64::try_from(*n).ok(),
                Value::Double(d) if d.fract() == 0.0 && d.abs() < 9.0e18 => Some(*d as i64),
                _ => return Err(no_such_overload().into()),
            };
            let found = idx
                .and_then(|n| usize::try_from(n).ok())
                .and_then(|n| l.get(n));
            match (found, optional) {
                (Some(v), false) => Ok(v.clone()),
                (Some(v), true) => Ok(Value::Optional(Some(Arc::new(v.clone())))),
                (None, true) => Ok(Value::Optional(None)),
                (None, false) => Err(EvalError::Runtime(format!(
                    "index '{}' out of range in list size '{}'",
                    key_text(i),
                    l.len()
                ))),
            }
        }
        Value::Map(m) => {
            let found = Key::from_value(i).and_then(|k| m.get(&k));
            match (found, optional) {
                (Some(v), false) => Ok(v.clone()),
                (Some(v), true) => Ok(Value::Optional(Some(Arc::new(v.clone())))),
                (None, true) => Ok(Value::Optional(None)),
                (None, false) => Err(EvalError::Runtime(format!("no such key: {}", key_text(i)))),
            }
        }
        Value::Optional(None) => Ok(Value::Optional(None)),
        Value::Optional(Some(inner)) => index_value((*inner).clone(), i, true),
        _ => Err(no_such_overload().into()),
    }
}
