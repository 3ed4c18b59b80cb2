//! The type checker: every identifier declared, every call matching an
//! overload of the environment's table, literal lists and maps of one type
//! (Kubernetes' homogeneous-aggregate rule), literal regular expressions,
//! durations and timestamps valid; messages as cel-go writes them.
//!
//! Types are unified as cel-go does: `dyn` is assignable to and from every
//! type, a declaration's type parameters are instantiated afresh for each
//! call, and type variables left unsolved at the end become `dyn`.

use super::ast::{Comprehension, Expr, ExprKind, Literal, MacroKind};
use super::error::CelError;
use super::functions::FunctionTable;
use super::value::Type;
use std::collections::BTreeMap;

/// Checks `e`; its type, or every error found.
pub fn check(
    e: &Expr,
    table: &FunctionTable,
    variables: &BTreeMap<String, Type>,
) -> Result<Type, Vec<CelError>> {
    let mut c = Checker {
        table,
        variables,
        scopes: Vec::new(),
        subst: Vec::new(),
        errors: Vec::new(),
    };
    let t = c.expr(e);
    if !c.errors.is_empty() {
        c.errors.sort_by_key(|e| e.offset);
        return Err(c.errors);
    }
    Ok(c.resolve(&t))
}

struct Checker<'a> {
    table: &'a FunctionTable,
    variables: &'a BTreeMap<String, Type>,
    scopes: Vec<(String, Type)>,
    /// Bindings of type variables (`Type::Var(i)` is `subst[i]`).
    subst: Vec<Option<Type>>,
    errors: Vec<CelError>,
}

/// How a type reads in a message, as cel-go writes it.
pub fn show(t: &Type) -> String {
    t.to_string()
}

impl Checker<'_> {
    fn error(&mut self, e: &Expr, message: String) -> Type {
        if self.errors.len() < 100 {
            self.errors.push(CelError::new(e.offset as usize, message));
        }
        Type::Error
    }

    fn fresh(&mut self) -> Type {
        self.subst.push(None);
        Type::Var(self.subst.len() as u32 - 1)
    }

    /// `t` with solved variables replaced (unsolved ones become `dyn`).
    fn resolve(&self, t: &Type) -> Type {
        match t {
            Type::Var(i) => match self.subst.get(*i as usize).cloned().flatten() {
                Some(b) => self.resolve(&b),
                None => Type::Dyn,
            },
            Type::List(e) => Type::list(self.resolve(e)),
            Type::Map(k, v) => Type::map(self.resolve(k), self.resolve(v)),
            Type::Optional(e) => Type::optional(self.resolve(e)),
            Type::Type(e) => Type::Type(Box::new(self.resolve(e))),
            t => t.clone(),
        }
    }

    /// Follows a variable to what it is bound to (one level at a time).
    fn walk(&self, t: &Type) -> Type {
        let mut t = t.clone();
        while let Type::Var(i) = t {
            match self.subst.get(i as usize).cloned().flatten() {
                Some(b) => t = b,
                None => break,
            }
        }
        t
    }

    /// Whether `actual` can be passed where `want` is expected, binding
    /// variables on either side as needed.
    fn assignable(&mut self, want: &Type, actual: &Type) -> bool {
        let (w, a) = (self.walk(want), self.walk(actual));
        match (&w, &a) {
            (Type::Var(i), Type::Var(j)) if i == j => true,
            (Type::Var(i), other) | (other, Type::Var(i)) => {
                if self.occurs(*i, other) {
                    return false;
                }
                self.subst[*i as usize] = Some(other.clone());
                true
            }
            (Type::Dyn | Type::Error, _) | (_, Type::Dyn | Type::Error) => true,
            (Type::Null, Type::Null) => true,
            (Type::Timestamp | Type::Duration | Type::Opaque(_), Type::Null) => true,
            (Type::List(x), Type::List(y)) => self.assignable(x, y),
            (Type::Optional(x), Type::Optional(y)) => self.assignable(x, y),
            (Type::Type(x), Type::Type(y)) => self.assignable(x, y),
            (Type::Map(k1, v1), Type::Map(k2, v2)) => {
                self.assignable(k1, k2) && self.assignable(v1, v2)
            }
            (x, y) => x == y,
        }
    }

    fn occurs(&self, var: u32, t: &Type) -> bool {
        match self.walk(t) {
            Type::Var(j) => j == var,
            Type::List(e) | Type::Optional(e) | Type::Type(e) => self.occurs(var, &e),
            Type::Map(k, v) => self.occurs(var, &k) || self.occurs(var, &v),
            _ => false,
        }
    }

    /// Replaces a declaration's type parameters with fresh variables.
    fn instantiate(&mut self, t: &Type, params: &mut Vec<(&'static str, Type)>) -> Type {
        match t {
            Type::Param(p) => {
                if let Some((_, v)) = params.iter().find(|(n, _)| n == p) {
                    return v.clone();
                }
                let v = self.fresh();
                params.push((p, v.clone()));
                v
            }
            Type::List(e) => Type::list(self.instantiate(e, params)),
            Type::Map(k, v) => {
                let k = self.instantiate(k, params);
                Type::map(k, self.instantiate(v, params))
            }
            Type::Optional(e) => Type::optional(self.instantiate(e, params)),
            Type::Type(e) => Type::Type(Box::new(self.instantiate(e, params))),
            t => t.clone(),
        }
    }

    /// Whether two types are the same for the homogeneous-literal rule
    /// (`dyn` equals only `dyn`; unsolved variables take the other side).
    fn equivalent(&mut self, x: &Type, y: &Type) -> bool {
        let (x, y) = (self.walk(x), self.walk(y));
        match (&x, &y) {
            (Type::Error, _) | (_, Type::Error) => true,
            (Type::Var(_), _) | (_, Type::Var(_)) => self.assignable(&x, &y),
            (Type::List(a), Type::List(b)) | (Type::Optional(a), Type::Optional(b)) => {
                self.equivalent(a, b)
            }
            (Type::Map(k1, v1), Type::Map(k2, v2)) => {
                self.equivalent(k1, k2) && self.equivalent(v1, v2)
            }
            (a, b) => a == b,
        }
    }

    fn lookup(&self, name: &str) -> Option<Type> {
        if let Some((_, t)) = self.scopes.iter().rev().find(|(n, _)| n == name) {
            return Some(t.clone());
        }
        if let Some(t) = self.variables.get(name) {
            return Some(t.clone());
        }
        let t = super::eval::type_value(name)?;
        Some(Type::Type(Box::new(t)))
    }

    /// A variable declared under a dotted name (`variables.allowed`),
    /// unless a local variable shadows its first name.
    fn qualified_variable(&self, e: &Expr, test_or_optional: bool) -> Option<Type> {
        if test_or_optional {
            return None;
        }
        let q = e.qualified_name()?;
        let root = q.split('.').next()?;
        if self.scopes.iter().any(|(n, _)| n == root) {
            return None;
        }
        self.variables.get(&q).cloned()
    }

    fn bound(&self, name: &str) -> bool {
        self.scopes.iter().any(|(n, _)| n == name) || self.variables.contains_key(name)
    }

    fn expr(&mut self, e: &Expr) -> Type {
        match &e.kind {
            ExprKind::Literal(l) => match l {
                Literal::Null => Type::Null,
                Literal::Bool(_) => Type::Bool,
                Literal::Int(_) => Type::Int,
                Literal::Uint(_) => Type::Uint,
                Literal::Double(_) => Type::Double,
                Literal::String(_) => Type::String,
                Literal::Bytes(_) => Type::Bytes,
            },
            ExprKind::Ident(name) => match self.lookup(name) {
                Some(t) => t,
                None => self.error(
                    e,
                    format!("undeclared reference to '{name}' (in container '')"),
                ),
            },
            ExprKind::Select {
                operand,
                test,
                optional,
                ..
            } => {
                if let Some(t) = self.qualified_variable(e, *test || *optional) {
                    return t;
                }
                let t = self.expr(operand);
                let t = self.walk(&t);
                let (inner, was_optional) = match &t {
                    Type::Optional(inner) if !*test => (self.walk(inner), true),
                    _ => (t.clone(), false),
                };
                let field_type = match &inner {
                    Type::Dyn | Type::Error | Type::Var(_) => Type::Dyn,
                    Type::Map(k, v) => {
                        let key_ok = self.assignable(&Type::String, k);
                        if !key_ok {
                            return self.error(
                                e,
                                format!("type '{}' does not support field selection", show(&inner)),
                            );
                        }
                        (**v).clone()
                    }
                    other => {
                        return self.error(
                            e,
                            format!("type '{}' does not support field selection", show(other)),
                        );
                    }
                };
                if *test {
                    Type::Bool
                } else if *optional || was_optional {
                    Type::optional(field_type)
                } else {
                    field_type
                }
            }
            ExprKind::Call {
                target,
                function,
                args,
            } => self.call(e, target.as_deref(), function, args),
            ExprKind::List { elements, optional } => {
                let elem = self.fresh();
                let mut first: Option<Type> = None;
                for (el, opt) in elements.iter().zip(optional) {
                    let mut t = self.expr(el);
                    if *opt {
                        let inner = self.fresh();
                        if !self.assignable(&Type::optional(inner.clone()), &t) {
                            self.error(
                                el,
                                format!(
                                    "expected type 'optional_type' but found '{}'",
                                    show(&self.resolve(&t))
                                ),
                            );
                            continue;
                        }
                        t = inner;
                    }
                    match &first {
                        None => {
                            first = Some(t.clone());
                            self.assignable(&elem, &t);
                        }
                        Some(f) => {
                            let f = f.clone();
                            if !self.equivalent(&f, &t) {
                                let (want, found) =
                                    (show(&self.resolve(&f)), show(&self.resolve(&t)));
                                self.error(
                                    el,
                                    format!("expected type '{want}' but found '{found}'"),
                                );
                            }
                        }
                    }
                }
                Type::list(elem)
            }
            ExprKind::Map { entries } => {
                let (kt, vt) = (self.fresh(), self.fresh());
                let mut first: Option<(Type, Type)> = None;
                for entry in entries {
                    let k = self.expr(&entry.key);
                    let mut v = self.expr(&entry.value);
                    if !matches!(
                        self.walk(&k),
                        Type::String
                            | Type::Int
                            | Type::Uint
                            | Type::Bool
                            | Type::Dyn
                            | Type::Var(_)
                            | Type::Error
                    ) {
                        let shown = show(&self.resolve(&k));
                        self.error(&entry.key, format!("unsupported map key type: {shown}"));
                    }
                    if entry.optional {
                        let inner = self.fresh();
                        if !self.assignable(&Type::optional(inner.clone()), &v) {
                            self.error(
                                &entry.value,
                                format!(
                                    "expected type 'optional_type' but found '{}'",
                                    show(&self.resolve(&v))
                                ),
                            );
                            continue;
                        }
                        v = inner;
                    }
                    match &first {
                        None => {
                            first = Some((k.clone(), v.clone()));
                            self.assignable(&kt, &k);
                            self.assignable(&vt, &v);
                        }
                        Some((fk, fv)) => {
                            let (fk, fv) = (fk.clone(), fv.clone());
                            if !self.equivalent(&fk, &k) {
                                let (want, found) =
                                    (show(&self.resolve(&fk)), show(&self.resolve(&k)));
                                self.error(
                                    &entry.key,
                                    format!("expected type '{want}' but found '{found}'"),
                                );
                            }
                            if !self.equivalent(&fv, &v) {
                                let (want, found) =
                                    (show(&self.resolve(&fv)), show(&self.resolve(&v)));
                                self.error(
                                    &entry.value,
                                    format!("expected type '{want}' but found '{found}'"),
                                );
                            }
                        }
                    }
                }
                Type::map(kt, vt)
            }
            ExprKind::Comprehension(c) => self.comprehension(e, c),
            ExprKind::Bind { var, init, body } => {
                let t = self.expr(init);
                self.scopes.push((var.clone(), t));
                let r = self.expr(body);
                self.scopes.pop();
                r
            }
        }
    }

    fn call(&mut self, e: &Expr, target: Option<&Expr>, function: &str, args: &[Expr]) -> Type {
        // A qualified global (`base64.decode`) unless its root is a variable.
        let qualified = target.and_then(|t| {
            let q = t.qualified_name()?;
            let root = q.split('.').next().unwrap_or("");
            let name = format!("{q}.{function}");
            (!self.bound(root) && self.table.has(&name)).then_some(name)
        });
        let (name, receiver) = match (&qualified, target) {
            (Some(q), _) => (q.clone(), None),
            (None, Some(t)) => (function.to_string(), Some(self.expr(t))),
            (None, None) => (function.to_string(), None),
        };
        let mut arg_types: Vec<Type> = receiver.iter().cloned().collect();
        arg_types.extend(args.iter().map(|a| self.expr(a)));
        self.literal_arguments(e, &name, receiver.is_some(), args);
        if arg_types.iter().any(|t| matches!(t, Type::Error)) {
            return Type::Error;
        }
        let member = receiver.is_some();
        let overloads: Vec<_> = self.table.overloads(&name, member).cloned().collect();
        if overloads.is_empty() && !member && !self.table.has(&name) {
            return self.error(
                e,
                format!("undeclared reference to '{name}' (in container '')"),
            );
        }
        let mut results: Vec<Type> = Vec::new();
        for o in &overloads {
            if o.params.len() != arg_types.len() {
                continue;
            }
            // Try the overload on a copy of the bindings; keep them if it fits.
            let saved = self.subst.clone();
            let mut params = Vec::new();
            let want: Vec<Type> = o
                .params
                .iter()
                .map(|p| self.instantiate(p, &mut params))
                .collect();
            let fits = want
                .iter()
                .zip(&arg_types)
                .all(|(w, a)| self.assignable(w, a));
            if fits {
                let r = self.instantiate(&o.result, &mut params);
                results.push(r);
                // Bindings of the first fitting overload stand (cel-go
                // keeps the first; later fitting ones only widen the result).
                if results.len() > 1 {
                    self.subst = saved;
                }
            } else {
                self.subst = saved;
            }
        }
        match results.len() {
            0 => {
                let shown: Vec<String> = arg_types.iter().map(|t| show(&self.resolve(t))).collect();
                let applied = if member {
                    format!("{}.({})", shown[0], shown[1..].join(", "))
                } else {
                    format!("({})", shown.join(", "))
                };
                self.error(
                    e,
                    format!("found no matching overload for '{name}' applied to '{applied}'"),
                )
            }
            1 => results.pop().unwrap_or(Type::Dyn),
            _ => {
                let first = self.resolve(&results[0]);
                if results.iter().all(|r| self.resolve(r) == first) {
                    first
                } else {
                    Type::Dyn
                }
            }
        }
    }

    /// Literal patterns, durations and timestamps must be valid when the
    /// policy loads (Kubernetes' AST validators).
    fn literal_arguments(&mut self, e: &Expr, name: &str, member: bool, args: &[Expr]) {
        let lit = |i: usize| match args.get(i).map(|a| &a.kind) {
            Some(ExprKind::Literal(Literal::String(s))) => Some(s.clone()),
            _ => None,
        };
        match (name, member) {
            ("matches", true) | ("find", true) | ("findAll", true) => {
                if let Some(p) = lit(0)
                    && let Err(m) = super::library::regex(&p)
                {
                    self.error(e, format!("invalid matches argument: {m}"));
                }
            }
            ("matches", false) => {
                if let Some(p) = lit(1)
                    && let Err(m) = super::library::regex(&p)
                {
                    self.error(e, format!("invalid matches argument: {m}"));
                }
            }
            ("duration", false) => {
                if let Some(s) = lit(0)
                    && super::time::parse_duration(&s).is_none()
                {
                    self.error(e, format!("invalid duration argument: {s:?}"));
                }
            }
            ("timestamp", false) => {
                if let Some(s) = lit(0)
                    && super::time::parse_timestamp(&s).is_none()
                {
                    self.error(e, format!("invalid timestamp argument: {s:?}"));
                }
            }
            _ => {}
        }
    }

    fn comprehension(&mut self, e: &Expr, c: &Comprehension) -> Type {
        let range = self.expr(&c.range);
        let range = self.walk(&range);
        if matches!(c.kind, MacroKind::OptMap | MacroKind::OptFlatMap) {
            let inner = match &range {
                Type::Optional(t) => (**t).clone(),
                Type::Dyn | Type::Error => Type::Dyn,
                other => {
                    return self.error(
                        e,
                        format!(
                            "{}() requires an optional receiver, found '{}'",
                            c.kind.name(),
                            show(other)
                        ),
                    );
                }
            };
            self.scopes.push((c.var.clone(), inner));
            let body = self.expr(&c.body);
            self.scopes.pop();
            return match c.kind {
                MacroKind::OptMap => Type::optional(body),
                _ => {
                    let v = self.fresh();
                    if !self.assignable(&Type::optional(v.clone()), &body) {
                        let shown = show(&self.resolve(&body));
                        return self.error(
                            &c.body,
                            format!("optFlatMap() expression must be optional, found '{shown}'"),
                        );
                    }
                    Type::optional(v)
                }
            };
        }
        let two = c.var2.is_some();
        let (first, second, key) = match &range {
            Type::List(t) if two => (Type::Int, Some((**t).clone()), Type::Int),
            Type::List(t) => ((**t).clone(), None, Type::Dyn),
            Type::Map(k, v) if two => ((**k).clone(), Some((**v).clone()), (**k).clone()),
            Type::Map(k, _) => ((**k).clone(), None, (**k).clone()),
            Type::Dyn | Type::Error | Type::Var(_) => {
                (Type::Dyn, two.then_some(Type::Dyn), Type::Dyn)
            }
            other => {
                return self.error(
                    &c.range,
                    format!(
                        "expression of type '{}' cannot be the range of a comprehension (must be list, map, or dynamic)",
                        show(other)
                    ),
                );
            }
        };
        self.scopes.push((c.var.clone(), first.clone()));
        if let (Some(n), Some(t)) = (&c.var2, &second) {
            self.scopes.push((n.clone(), t.clone()));
        }
        if let Some(f) = &c.filter {
            let t = self.expr(f);
            if !self.assignable(&Type::Bool, &t) {
                let shown = show(&self.resolve(&t));
                self.error(f, format!("expected type 'bool' but found '{shown}'"));
            }
        }
        let body = self.expr(&c.body);
        self.scopes
            .truncate(self.scopes.len() - 1 - usize::from(second.is_some() && c.var2.is_some()));
        let need_bool = matches!(
            c.kind,
            MacroKind::All | MacroKind::Exists | MacroKind::ExistsOne | MacroKind::Filter
        );
        if need_bool && !self.assignable(&Type::Bool, &body) {
            let shown = show(&self.resolve(&body));
            self.error(&c.body, format!("expected type 'bool' but found '{shown}'"));
        }
        match c.kind {
            MacroKind::All | MacroKind::Exists | MacroKind::ExistsOne => Type::Bool,
            MacroKind::Map | MacroKind::TransformList => Type::list(body),
            MacroKind::Filter | MacroKind::SortBy => match &range {
                Type::List(_) => range.clone(),
                Type::Map(k, _) => Type::list((**k).clone()),
                _ => Type::list(Type::Dyn),
            },
            MacroKind::TransformMap => Type::map(
                if matches!(range, Type::List(_)) {
                    Type::Int
                } else {
                    key
                },
                body,
            ),
            MacroKind::TransformMapEntry => {
                let (k, v) = (self.fresh(), self.fresh());
                if !self.assignable(&Type::map(k.clone(), v.clone()), &body) {
                    let shown = show(&self.resolve(&body));
                    return self.error(
                        &c.body,
                        format!("transformMapEntry() expression must be a map, found '{shown}'"),
                    );
                }
                Type::map(k, v)
            }
            MacroKind::OptMap | MacroKind::OptFlatMap => Type::Dyn,
        }
    }
}
