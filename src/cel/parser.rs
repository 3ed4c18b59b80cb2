//! A recursive-descent parser for cel-spec's grammar, with the macros
//! expanded as they are parsed and explicit bounds: source length, nesting
//! (the parser's own recursion) and the tree's height and size (which bound
//! every later walk: the checker and the evaluator recurse over the tree).

use super::ast::{Comprehension, Expr, ExprKind, Literal, MacroKind, MapEntry};
use super::error::{CelError, CompileErrors};
use super::lexer::{Tok, Token, tokenize};

/// Longest expression accepted (bytes; cel-go: 100,000 code points).
pub const MAX_SOURCE_BYTES: usize = 100_000;
/// Deepest nesting of parentheses, calls, lists and maps, and the tallest
/// tree (cel-go allows 250 parser recursions; the module's stack is 1 MiB
/// and every walk recurses once per level).
pub const MAX_DEPTH: u16 = 96;
/// Most nodes in one expression.
pub const MAX_NODES: u32 = 20_000;

/// Names the grammar reserves; they cannot be identifiers.
const RESERVED: [&str; 17] = [
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "return",
    "var",
    "void",
    "while",
];

/// Parses one expression.
pub fn parse(source: &str) -> Result<Expr, CompileErrors> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(CompileErrors::one(
            source,
            CelError::new(
                0,
                format!("expression size exceeds the limit of {MAX_SOURCE_BYTES} bytes"),
            ),
        ));
    }
    let tokens = tokenize(source).map_err(|e| CompileErrors::one(source, e))?;
    let mut p = Parser {
        tokens,
        pos: 0,
        next_id: 1,
        nesting: 0,
    };
    let e = p.expr().map_err(|e| CompileErrors::one(source, e))?;
    match &p.peek().kind {
        Tok::Eof => Ok(e),
        t => Err(CompileErrors::one(
            source,
            CelError::new(
                p.peek().offset as usize,
                format!("Syntax error: extraneous input {}", describe(t)),
            ),
        )),
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) | Tok::QuotedIdent(s) => format!("'{s}'"),
        Tok::Int(v) | Tok::Uint(v) => format!("'{v}'"),
        Tok::Double(v) => format!("'{v}'"),
        Tok::String(_) | Tok::Bytes(_) => "string literal".into(),
        Tok::Punct(p) => format!("'{p}'"),
        Tok::Eof => "<EOF>".into(),
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    next_id: u32,
    nesting: u16,
}

type PResult = Result<Expr, CelError>;

impl Parser {
    fn peek(&self) -> &Token {
        // The token list always ends with Eof, and `advance` never passes it.
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn advance(&mut self) -> Token {
        let t = self.peek().clone();
        if !matches!(t.kind, Tok::Eof) {
            self.pos += 1;
        }
        t
    }

    fn is(&self, p: &str) -> bool {
        matches!(&self.peek().kind, Tok::Punct(q) if *q == p)
    }

    fn eat(&mut self, p: &str) -> bool {
        if self.is(p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, p: &str) -> Result<(), CelError> {
        if self.eat(p) {
            return Ok(());
        }
        let t = self.peek();
        Err(CelError::new(
            t.offset as usize,
            format!(
                "Syntax error: mismatched input {} expecting '{p}'",
                describe(&t.kind)
            ),
        ))
    }

    /// A new node; its height and the node count are checked here.
    fn node(&mut self, offset: u32, kind: ExprKind) -> PResult {
        let id = self.next_id;
        if id > MAX_NODES {
            return Err(CelError::new(
                offset as usize,
                format!("expression exceeds the limit of {MAX_NODES} nodes"),
            ));
        }
        self.next_id += 1;
        let mut e = Expr {
            id,
            offset,
            depth: 1,
            kind,
        };
        let depth = e.children().iter().map(|c| c.depth).max().unwrap_or(0) + 1;
        if depth > MAX_DEPTH {
            return Err(CelError::new(
                offset as usize,
                format!("expression recursion limit exceeded: {MAX_DEPTH}"),
            ));
        }
        e.depth = depth;
        Ok(e)
    }

    fn call(
        &mut self,
        offset: u32,
        function: &str,
        target: Option<Expr>,
        args: Vec<Expr>,
    ) -> PResult {
        self.node(
            offset,
            ExprKind::Call {
                target: target.map(Box::new),
                function: function.to_string(),
                args,
            },
        )
    }

    /// Enters a nested expression (every nested construct parses its parts
    /// as expressions): the parser's recursion is bounded.
    fn enter(&mut self, offset: u32) -> Result<(), CelError> {
        self.nesting += 1;
        if self.nesting > MAX_DEPTH {
            return Err(CelError::new(
                offset as usize,
                format!("expression recursion limit exceeded: {MAX_DEPTH}"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.nesting -= 1;
    }

    /// `Expr = ConditionalOr ["?" ConditionalOr ":" Expr]`
    fn expr(&mut self) -> PResult {
        let offset = self.peek().offset;
        self.enter(offset)?;
        let r = self.expr_inner();
        self.leave();
        r
    }

    fn expr_inner(&mut self) -> PResult {
        let cond = self.binary(0)?;
        if !self.is("?") {
            return Ok(cond);
        }
        let offset = self.advance().offset;
        let then = self.binary(0)?;
        self.expect(":")?;
        let otherwise = self.expr()?;
        self.call(offset, "_?_:_", None, vec![cond, then, otherwise])
    }

    /// The binary operator at the cursor and its precedence level:
    /// `||` 0, `&&` 1, relations 2, `+ -` 3, `* / %` 4.
    fn binary_operator(&self) -> Option<(&'static str, u8)> {
        Some(match &self.peek().kind {
            Tok::Punct("||") => ("_||_", 0),
            Tok::Punct("&&") => ("_&&_", 1),
            Tok::Punct("<") => ("_<_", 2),
            Tok::Punct("<=") => ("_<=_", 2),
            Tok::Punct(">") => ("_>_", 2),
            Tok::Punct(">=") => ("_>=_", 2),
            Tok::Punct("==") => ("_==_", 2),
            Tok::Punct("!=") => ("_!=_", 2),
            Tok::Ident(w) if w == "in" => ("@in", 2),
            Tok::Punct("+") => ("_+_", 3),
            Tok::Punct("-") => ("_-_", 3),
            Tok::Punct("*") => ("_*_", 4),
            Tok::Punct("/") => ("_/_", 4),
            Tok::Punct("%") => ("_%_", 4),
            _ => return None,
        })
    }

    /// Binary operators of precedence `min` and above, by precedence
    /// climbing: one frame per operand instead of one per grammar level,
    /// so parentheses cost little stack. Left-associative, except that a
    /// chain of `&&` or `||` becomes a balanced tree as in cel-go (a long
    /// list of conditions stays shallow).
    fn binary(&mut self, min: u8) -> PResult {
        let mut left = self.unary()?;
        while let Some((op, level)) = self.binary_operator() {
            if level < min {
                break;
            }
            if level <= 1 {
                left = self.logical_chain(left, op, level)?;
                continue;
            }
            let offset = self.advance().offset;
            let right = self.binary(level + 1)?;
            left = self.call(offset, op, None, vec![left, right])?;
        }
        Ok(left)
    }

    /// `first op b op c …` for `&&` or `||`, balanced.
    fn logical_chain(&mut self, first: Expr, op: &'static str, level: u8) -> PResult {
        let mut operands = vec![first];
        let mut offsets = Vec::new();
        while self.binary_operator().is_some_and(|(o, _)| o == op) {
            offsets.push(self.advance().offset);
            operands.push(self.binary(level + 1)?);
        }
        self.balance(
            op,
            &mut operands.into_iter().map(Some).collect::<Vec<_>>(),
            &offsets,
            0,
        )
    }

    /// The balanced tree over `operands[lo..=lo + offsets.len()]`; the
    /// operator joining operands `i` and `i + 1` sits at `offsets[i]`.
    fn balance(
        &mut self,
        op: &'static str,
        operands: &mut [Option<Expr>],
        offsets: &[u32],
        lo: usize,
    ) -> PResult {
        if offsets.is_empty() {
            return operands
                .get_mut(lo)
                .and_then(Option::take)
                .ok_or_else(|| CelError::new(0, "internal error: logical chain".into()));
        }
        let mid = offsets.len() / 2;
        let left = self.balance(op, operands, &offsets[..mid], lo)?;
        let right = self.balance(op, operands, &offsets[mid + 1..], lo + mid + 1)?;
        self.call(offsets[mid], op, None, vec![left, right])
    }

    /// `Unary = Member | "!" {"!"} Member | "-" {"-"} Member`; a minus
    /// directly on an int or double literal makes a negative literal.
    fn unary(&mut self) -> PResult {
        let t = self.peek().clone();
        match t.kind {
            Tok::Punct("!") => {
                let mut ops = Vec::new();
                while self.is("!") {
                    ops.push(self.advance().offset);
                }
                let mut e = self.member()?;
                for offset in ops.into_iter().rev() {
                    e = self.call(offset, "!_", None, vec![e])?;
                }
                Ok(e)
            }
            Tok::Punct("-") => {
                let mut ops = Vec::new();
                while self.is("-") {
                    ops.push(self.advance().offset);
                }
                // The innermost minus folds into a numeric literal.
                let mut e = match (&self.peek().kind, ops.last()) {
                    (Tok::Int(v), Some(&offset)) => {
                        let v = *v;
                        self.advance();
                        ops.pop();
                        let lit = if v == 1u64 << 63 {
                            i64::MIN
                        } else {
                            i64::try_from(v).map(|v| -v).map_err(|_| {
                                CelError::new(offset as usize, "invalid int literal".into())
                            })?
                        };
                        let lit = self.node(offset, ExprKind::Literal(Literal::Int(lit)))?;
                        self.member_suffix(lit)?
                    }
                    (Tok::Double(v), Some(&offset)) => {
                        let v = *v;
                        self.advance();
                        ops.pop();
                        let lit = self.node(offset, ExprKind::Literal(Literal::Double(-v)))?;
                        self.member_suffix(lit)?
                    }
                    _ => self.member()?,
                };
                for offset in ops.into_iter().rev() {
                    e = self.call(offset, "-_", None, vec![e])?;
                }
                Ok(e)
            }
            _ => self.member(),
        }
    }

    fn member(&mut self) -> PResult {
        let primary = self.primary()?;
        self.member_suffix(primary)
    }

    /// `.field`, `.?field`, `.method(args)`, `[index]`, `[?index]`.
    fn member_suffix(&mut self, mut e: Expr) -> PResult {
        loop {
            let t = self.peek().clone();
            match t.kind {
                Tok::Punct(p @ ("." | ".?")) => {
                    self.advance();
                    let optional = p == ".?";
                    let name_tok = self.advance();
                    let (field, quoted) = match name_tok.kind {
                        Tok::Ident(n) => (n, false),
                        Tok::QuotedIdent(n) => (n, true),
                        other => {
                            return Err(CelError::new(
                                name_tok.offset as usize,
                                format!(
                                    "Syntax error: mismatched input {} expecting IDENTIFIER",
                                    describe(&other)
                                ),
                            ));
                        }
                    };
                    if !optional && !quoted && self.is("(") {
                        let open = self.advance().offset;
                        let args = self.expr_list(")")?;
                        e = self.member_call(open, e, &field, args)?;
                    } else {
                        e = self.node(
                            name_tok.offset,
                            ExprKind::Select {
                                operand: Box::new(e),
                                field,
                                test: false,
                                optional,
                            },
                        )?;
                    }
                }
                Tok::Punct("[") => {
                    self.advance();
                    let optional = self.eat("?");
                    let index = self.expr()?;
                    self.expect("]")?;
                    let f = if optional { "_[?_]" } else { "_[_]" };
                    e = self.call(t.offset, f, None, vec![e, index])?;
                }
                Tok::Punct("{") if e.qualified_name().is_some() => {
                    return Err(CelError::new(
                        t.offset as usize,
                        "message construction is not supported: this environment has no message types".into(),
                    ));
                }
                _ => return Ok(e),
            }
        }
    }

    fn primary(&mut self) -> PResult {
        let t = self.advance();
        let offset = t.offset;
        match t.kind {
            Tok::Int(v) => {
                let v = i64::try_from(v)
                    .map_err(|_| CelError::new(offset as usize, "invalid int literal".into()))?;
                self.node(offset, ExprKind::Literal(Literal::Int(v)))
            }
            Tok::Uint(v) => self.node(offset, ExprKind::Literal(Literal::Uint(v))),
            Tok::Double(v) => self.node(offset, ExprKind::Literal(Literal::Double(v))),
            Tok::String(s) => self.node(offset, ExprKind::Literal(Literal::String(s.into()))),
            Tok::Bytes(b) => self.node(offset, ExprKind::Literal(Literal::Bytes(b.into()))),
            Tok::Ident(name) => match name.as_str() {
                "true" => self.node(offset, ExprKind::Literal(Literal::Bool(true))),
                "false" => self.node(offset, ExprKind::Literal(Literal::Bool(false))),
                "null" => self.node(offset, ExprKind::Literal(Literal::Null)),
                "in" => Err(CelError::new(
                    offset as usize,
                    "Syntax error: mismatched input 'in'".into(),
                )),
                n if RESERVED.contains(&n) => Err(CelError::new(
                    offset as usize,
                    format!("reserved identifier: {n}"),
                )),
                _ => {
                    if self.is("(") {
                        // A call sits at its `(`, as in cel-go.
                        let open = self.advance().offset;
                        let args = self.expr_list(")")?;
                        self.global_call(open, &name, args)
                    } else {
                        self.node(offset, ExprKind::Ident(name))
                    }
                }
            },
            Tok::Punct(".") => {
                // A leading dot: the root-scoped name `.a.b`.
                let name_tok = self.advance();
                match name_tok.kind {
                    Tok::Ident(n) if !RESERVED.contains(&n.as_str()) => {
                        if self.is("(") {
                            // A call sits at its `(`, as in cel-go.
                            let open = self.advance().offset;
                            let args = self.expr_list(")")?;
                            self.global_call(open, &n, args)
                        } else {
                            self.node(offset, ExprKind::Ident(n))
                        }
                    }
                    other => Err(CelError::new(
                        name_tok.offset as usize,
                        format!(
                            "Syntax error: mismatched input {} expecting IDENTIFIER",
                            describe(&other)
                        ),
                    )),
                }
            }
            Tok::Punct("(") => self.parenthesized(),
            Tok::Punct("[") => self.list_literal(offset),
            Tok::Punct("{") => self.map_literal(offset),
            other => Err(CelError::new(
                offset as usize,
                format!("Syntax error: mismatched input {}", describe(&other)),
            )),
        }
    }

    // The recursive arms of `primary` are functions of their own, so the
    // stack a nesting level costs is their small frames, not the frame of
    // `primary` with every arm's temporaries.

    /// `( Expr )`, after the opening parenthesis.
    #[inline(never)]
    fn parenthesized(&mut self) -> PResult {
        let e = self.expr()?;
        self.expect(")")?;
        Ok(e)
    }

    /// `[a, ?b]`, after the opening bracket.
    #[inline(never)]
    fn list_literal(&mut self, offset: u32) -> PResult {
        let mut elements = Vec::new();
        let mut optional = Vec::new();
        while !self.is("]") {
            optional.push(self.eat("?"));
            elements.push(self.expr()?);
            if !self.eat(",") {
                break;
            }
        }
        self.expect("]")?;
        self.node(offset, ExprKind::List { elements, optional })
    }

    /// `{k: v, ?k: v}`, after the opening brace.
    #[inline(never)]
    fn map_literal(&mut self, offset: u32) -> PResult {
        let mut entries = Vec::new();
        while !self.is("}") {
            let optional = self.eat("?");
            let key = self.expr()?;
            self.expect(":")?;
            let value = self.expr()?;
            entries.push(MapEntry {
                key,
                value,
                optional,
            });
            if !self.eat(",") {
                break;
            }
        }
        self.expect("}")?;
        self.node(offset, ExprKind::Map { entries })
    }

    /// Comma-separated expressions up to `close` (a trailing comma allowed).
    fn expr_list(&mut self, close: &str) -> Result<Vec<Expr>, CelError> {
        let mut out = Vec::new();
        while !self.is(close) {
            out.push(self.expr()?);
            if !self.eat(",") {
                break;
            }
        }
        self.expect(close)?;
        Ok(out)
    }

    /// A global call: `has(…)` is a macro; `cel.bind` is parsed as a member
    /// call on `cel`.
    fn global_call(&mut self, offset: u32, name: &str, mut args: Vec<Expr>) -> PResult {
        if name == "has" {
            let arg = match (args.len(), args.pop()) {
                (1, Some(a)) => a,
                _ => {
                    return Err(CelError::new(
                        offset as usize,
                        "invalid argument to has() macro".into(),
                    ));
                }
            };
            return match arg.kind {
                ExprKind::Select {
                    operand,
                    field,
                    test: false,
                    optional: false,
                } => self.node(
                    offset,
                    ExprKind::Select {
                        operand,
                        field,
                        test: true,
                        optional: false,
                    },
                ),
                _ => Err(CelError::new(
                    offset as usize,
                    "invalid argument to has() macro".into(),
                )),
            };
        }
        self.call(offset, name, None, args)
    }

    /// A member call, or the macro it spells.
    fn member_call(
        &mut self,
        offset: u32,
        target: Expr,
        name: &str,
        mut args: Vec<Expr>,
    ) -> PResult {
        let n = args.len();
        let kind = match (name, n) {
            ("all", 2 | 3) => Some(MacroKind::All),
            ("exists", 2 | 3) => Some(MacroKind::Exists),
            ("exists_one", 2 | 3) | ("existsOne", 3) => Some(MacroKind::ExistsOne),
            ("map", 2 | 3) => Some(MacroKind::Map),
            ("filter", 2) => Some(MacroKind::Filter),
            ("transformList", 3 | 4) => Some(MacroKind::TransformList),
            ("transformMap", 3 | 4) => Some(MacroKind::TransformMap),
            ("transformMapEntry", 3 | 4) => Some(MacroKind::TransformMapEntry),
            ("sortBy", 2) => Some(MacroKind::SortBy),
            ("optMap", 2) => Some(MacroKind::OptMap),
            ("optFlatMap", 2) => Some(MacroKind::OptFlatMap),
            ("bind", 3) if target.qualified_name().as_deref() == Some("cel") => {
                let body = args.pop();
                let init = args.pop();
                let var = args.pop().and_then(|v| match v.kind {
                    ExprKind::Ident(n) => Some(n),
                    _ => None,
                });
                return match (var, init, body) {
                    (Some(var), Some(init), Some(body)) => self.node(
                        offset,
                        ExprKind::Bind {
                            var,
                            init: Box::new(init),
                            body: Box::new(body),
                        },
                    ),
                    _ => Err(CelError::new(
                        offset as usize,
                        "cel.bind() variable name must be a simple identifier".into(),
                    )),
                };
            }
            _ => None,
        };
        let Some(kind) = kind else {
            return self.call(offset, name, Some(target), args);
        };
        // Variables: one, or two for the two-variable forms (map with three
        // arguments is the filtered one-variable form).
        let two_vars = match kind {
            MacroKind::All | MacroKind::Exists | MacroKind::ExistsOne => n == 3,
            MacroKind::TransformList | MacroKind::TransformMap | MacroKind::TransformMapEntry => {
                true
            }
            _ => false,
        };
        let var_count = if two_vars { 2 } else { 1 };
        let mut rest = args.split_off(var_count);
        let mut vars = Vec::new();
        for v in args {
            match v.kind {
                ExprKind::Ident(name) if !name.starts_with('@') => vars.push(name),
                _ => {
                    return Err(CelError::new(
                        v.offset as usize,
                        format!(
                            "{}() variable names must be simple identifiers",
                            kind.name()
                        ),
                    ));
                }
            }
        }
        if vars.len() == 2 && vars[0] == vars[1] {
            return Err(CelError::new(
                offset as usize,
                format!(
                    "{}() second variable must be different from the first variable",
                    kind.name()
                ),
            ));
        }
        let body = rest.pop();
        let filter = rest.pop();
        let Some(body) = body else {
            return Err(CelError::new(
                offset as usize,
                format!("invalid {}() macro", kind.name()),
            ));
        };
        let mut vars = vars.into_iter();
        let var = vars.next().unwrap_or_default();
        self.node(
            offset,
            ExprKind::Comprehension(Box::new(Comprehension {
                kind,
                range: target,
                var,
                var2: vars.next(),
                filter,
                body,
            })),
        )
    }
}
