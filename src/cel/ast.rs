//! The parsed form of a CEL expression.
//!
//! Operators are calls with cel-go's internal names (`_+_`, `_[_]`, `!_`,
//! `@in`, …) so that the checker and the evaluator resolve every operator
//! and function through one table. The comprehension macros (`all`,
//! `exists`, `map`, …) are kept as [`Comprehension`] nodes of a known
//! [`MacroKind`] instead of cel-go's generic accumulator loops: their
//! semantics are the expansions' semantics, but each is checked and
//! evaluated directly (no list copied per element).

use std::sync::Arc;

/// A node's position: a byte offset into the source.
pub type Offset = u32;

/// One node of the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// Unique within its expression: the checker's types are indexed by it.
    pub id: u32,
    /// Where it starts in the source (bytes).
    pub offset: Offset,
    /// Height of the subtree (1 for a leaf); bounded when parsing, so
    /// every recursive walk over a tree is bounded too.
    pub depth: u16,
    /// What it is.
    pub kind: ExprKind,
}

/// The kinds of node.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A constant.
    Literal(Literal),
    /// A name: a variable, or a type name (`int`, `string`, …).
    Ident(String),
    /// `operand.field`; `test` for `has(operand.field)`, `optional` for
    /// `operand.?field`.
    Select {
        /// The value selected from.
        operand: Box<Expr>,
        /// The field (map key).
        field: String,
        /// A presence test (`has()`).
        test: bool,
        /// Optional selection (`.?`).
        optional: bool,
    },
    /// A function call, `f(args)` or `target.f(args)`; operators too.
    Call {
        /// The receiver of a member call.
        target: Option<Box<Expr>>,
        /// The function name (dotted names such as `base64.decode` when
        /// the target is a plain identifier path are resolved by the checker).
        function: String,
        /// The arguments.
        args: Vec<Expr>,
    },
    /// `[a, ?b]`.
    List {
        /// The elements.
        elements: Vec<Expr>,
        /// Which elements are optional (`?b`: included when it has a value).
        optional: Vec<bool>,
    },
    /// `{k: v, ?k2: v2}`.
    Map {
        /// The entries.
        entries: Vec<MapEntry>,
    },
    /// A comprehension macro.
    Comprehension(Box<Comprehension>),
    /// `cel.bind(var, init, body)`.
    Bind {
        /// The variable.
        var: String,
        /// Its value.
        init: Box<Expr>,
        /// The expression that reads it.
        body: Box<Expr>,
    },
}

/// A map literal's entry.
#[derive(Debug, Clone, PartialEq)]
pub struct MapEntry {
    /// The key.
    pub key: Expr,
    /// The value.
    pub value: Expr,
    /// `?key: value`: included when the value (an optional) has one.
    pub optional: bool,
}

/// Which comprehension macro.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacroKind {
    /// `r.all(x, p)` / `r.all(k, v, p)`.
    All,
    /// `r.exists(x, p)` / `r.exists(k, v, p)`.
    Exists,
    /// `r.exists_one(x, p)`, `r.existsOne(k, v, p)`.
    ExistsOne,
    /// `r.map(x, t)`, `r.map(x, p, t)` (with `filter`).
    Map,
    /// `r.filter(x, p)`.
    Filter,
    /// `r.transformList(i, v, [p,] t)`.
    TransformList,
    /// `r.transformMap(k, v, [p,] t)`.
    TransformMap,
    /// `r.transformMapEntry(k, v, [p,] {k2: v2})`.
    TransformMapEntry,
    /// `l.sortBy(x, key)`.
    SortBy,
    /// `opt.optMap(x, t)`.
    OptMap,
    /// `opt.optFlatMap(x, t)`.
    OptFlatMap,
}

impl MacroKind {
    /// The macro's name as written.
    pub fn name(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Exists => "exists",
            Self::ExistsOne => "exists_one",
            Self::Map => "map",
            Self::Filter => "filter",
            Self::TransformList => "transformList",
            Self::TransformMap => "transformMap",
            Self::TransformMapEntry => "transformMapEntry",
            Self::SortBy => "sortBy",
            Self::OptMap => "optMap",
            Self::OptFlatMap => "optFlatMap",
        }
    }
}

/// A comprehension macro over `range`.
#[derive(Debug, Clone, PartialEq)]
pub struct Comprehension {
    /// Which macro.
    pub kind: MacroKind,
    /// The list or map iterated (the optional for `optMap`).
    pub range: Expr,
    /// The first variable: the element, or the list index or map key when
    /// there are two.
    pub var: String,
    /// The second variable (two-variable forms): the element or map value.
    pub var2: Option<String>,
    /// The predicate of `map(x, p, t)` and the `transform*` filters.
    pub filter: Option<Expr>,
    /// The predicate, transform or key expression.
    pub body: Expr,
}

/// A constant.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `null`.
    Null,
    /// `true`, `false`.
    Bool(bool),
    /// `1`, `-2`, `0x1f`.
    Int(i64),
    /// `1u`.
    Uint(u64),
    /// `1.5`, `1e3`.
    Double(f64),
    /// `'text'`.
    String(Arc<str>),
    /// `b'bytes'`.
    Bytes(Arc<[u8]>),
}

impl Expr {
    /// The children of this node, in source order.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Literal(_) | ExprKind::Ident(_) => Vec::new(),
            ExprKind::Select { operand, .. } => vec![operand],
            ExprKind::Call { target, args, .. } => {
                target.iter().map(|t| &**t).chain(args.iter()).collect()
            }
            ExprKind::List { elements, .. } => elements.iter().collect(),
            ExprKind::Map { entries } => entries.iter().flat_map(|e| [&e.key, &e.value]).collect(),
            ExprKind::Comprehension(c) => std::iter::once(&c.range)
                .chain(c.filter.iter())
                .chain(std::iter::once(&c.body))
                .collect(),
            ExprKind::Bind { init, body, .. } => vec![init, body],
        }
    }

    /// Calls `f` on this node and every node below it, parents first (the
    /// tree's height is bounded by the parser, so is the recursion).
    pub fn visit(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        for c in self.children() {
            c.visit(f);
        }
    }

    /// The dotted name this node spells if it is a chain of identifiers and
    /// selections (`a.b.c`), for qualified function and variable names.
    pub fn qualified_name(&self) -> Option<String> {
        match &self.kind {
            ExprKind::Ident(n) => Some(n.clone()),
            ExprKind::Select {
                operand,
                field,
                test: false,
                optional: false,
            } => operand.qualified_name().map(|q| format!("{q}.{field}")),
            _ => None,
        }
    }
}
