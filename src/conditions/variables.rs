//! Kyverno's `{{ }}` variable substitution (`pkg/engine/variables/vars.go`,
//! `pkg/engine/variables/regex`, `pkg/engine/jsonutils`).
//!
//! Semantics, as in Kyverno:
//!
//! - A variable is what `(^|[^\\])(\{\{(?:\{[^{}]*\}|[^{}])*\}\})` matches:
//!   `{{` … `}}` not preceded by a backslash, whose body holds no braces
//!   except single-brace groups (`{{ {a: b} }}`). `\{{ … }}` stays literal
//!   and loses its backslash at the end.
//! - The expression is the match with every `{{`/`}}` removed and trimmed;
//!   a leading `-` asks for a shallow substitution (`{{- x }}`): the value is
//!   inserted with its own `{{` escaped, and no further pass runs.
//! - Nested variables resolve innermost first: after each pass the string is
//!   scanned again, so `{{ a.{{b}} }}` becomes `{{ a.x }}` and then the value.
//!   (Variables inside substituted values are therefore resolved too, as in
//!   Kyverno, unless the substitution was shallow.)
//! - A string that is exactly one variable becomes the variable's typed value
//!   (number, map, list, bool, null); otherwise values are inserted as text:
//!   strings as they are, anything else as Go's `json.Marshal` writes it
//!   (`null`, `5`, `{"a":1}` with sorted keys, `1e+21`).
//! - `{{@}}` is the current element: the document path of the string, less
//!   its first two segments (and everything up to a `foreach`), under
//!   `target` when the resolver knows `target`, else under `request.object`.
//! - [`substitute`] walks every string of a document, map keys included
//!   (Kyverno's `OnlyForLeafsAndKeys`); a key that resolves to something other
//!   than a string is an error, to `null` keeps the key. A value that
//!   resolves to a map or list is walked again.
//!
//! Limits (not in Kyverno, which loops or recurses without bound): at most
//! [`MAX_ROUNDS`] passes per string and nested expansions, strings of at
//! most [`MAX_OUTPUT_BYTES`] after substitution, [`MAX_TOTAL_BYTES`]
//! substituted and [`MAX_VARIABLES`] resolved in one call; [`resolve_in`]
//! refuses expressions that are very long or deeply nested.
//!
//! Kyverno's DELETE rewrite (`request.object` → `request.oldObject` in every
//! expression) is done by [`resolve_in`], which sees the request. Not ported:
//! `$(…)` references (Kyverno's `substituteReferences` pass, which runs
//! before this one and also turns `\$(` into `$(`).

use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::functions::{self, QueryError};
use super::operator::go;

/// Passes over one string (and nested expansions of resolved maps/lists).
pub const MAX_ROUNDS: usize = 64;
/// The largest string a substitution may produce.
pub const MAX_OUTPUT_BYTES: usize = 1 << 20;
/// The most bytes (JSON size of the values) one call may substitute.
pub const MAX_TOTAL_BYTES: usize = 16 << 20;
/// The most variables one call resolves.
pub const MAX_VARIABLES: usize = 16 << 10;
/// Structural nesting walked by [`substitute`].
const MAX_DEPTH: usize = 256;

/// Why a substitution failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VariableError {
    /// A map key on the variable's path is absent: Kyverno's go-jmespath
    /// `NotFoundError`, which `Query` wraps and the substitution reports.
    #[error(
        "failed to resolve {variable} at path {path}: JMESPath query failed: Unknown key \"{key}\" in path"
    )]
    NotFound {
        /// The expression.
        variable: String,
        /// The document path of the string (empty for a bare string).
        path: String,
        /// The missing key.
        key: String,
    },
    /// The expression did not evaluate (syntax, function or type error).
    #[error("failed to resolve {variable} at path {path}: {reason}")]
    Unresolved {
        /// The expression.
        variable: String,
        /// The document path of the string; a resolver may leave it empty,
        /// substitution fills it in.
        path: String,
        /// Why.
        reason: String,
    },
    /// A map key resolved to a number, bool, map or list.
    #[error("expected string after substituting variables in key \"{key}\"")]
    KeyNotString {
        /// The original key.
        key: String,
    },
    /// `{{- x }}` inside a longer string resolved to a non-string (Kyverno
    /// panics on its `.(string)` assertion).
    #[error(
        "failed to resolve {variable} at path {path}: shallow substitution needs a string value"
    )]
    ShallowNotString {
        /// The expression.
        variable: String,
        /// The document path of the string.
        path: String,
    },
    /// A limit of this implementation was reached.
    #[error("variable substitution at path {path} exceeds {limit}")]
    Limit {
        /// The document path of the string.
        path: String,
        /// Which limit.
        limit: &'static str,
    },
}

impl VariableError {
    fn at(self, at: &str) -> VariableError {
        match self {
            VariableError::NotFound {
                variable,
                path,
                key,
            } if path.is_empty() => VariableError::NotFound {
                variable,
                path: at.to_string(),
                key,
            },
            VariableError::Unresolved {
                variable,
                path,
                reason,
            } if path.is_empty() => VariableError::Unresolved {
                variable,
                path: at.to_string(),
                reason,
            },
            other => other,
        }
    }
}

/// A variable resolver: given the trimmed expression, its value.
pub type Resolver<'a> = dyn FnMut(&str) -> Result<Value, VariableError> + 'a;

// ---------------------------------------------------------------------------
// The variable regex.

/// One match of Kyverno's `RegexVariables`.
#[derive(Debug, Clone, Copy)]
struct Match<'a> {
    /// The character before `{{` (empty at the start of the string).
    prefix: &'a str,
    /// `{{ … }}`.
    var: &'a str,
}

/// The end of `(?:\{[^{}]*\}|[^{}])*\}\}` starting at `i` (after `{{`).
fn body_end(b: &[u8], mut i: usize) -> Option<usize> {
    loop {
        match b.get(i) {
            Some(b'{') => {
                let close = b[i + 1..].iter().position(|c| matches!(c, b'{' | b'}'))?;
                if b[i + 1 + close] == b'{' {
                    break;
                }
                i += close + 2;
            }
            Some(b'}') | None => break,
            Some(_) => i += 1,
        }
    }
    b[i..].starts_with(b"}}").then_some(i + 2)
}

/// All matches, as Go's `FindAllString` finds them (leftmost-first, not
/// overlapping; the optional preceding character is part of the match, so
/// `{{a}}{{b}}` only matches `{{a}}` in one pass).
fn find_variables(s: &str) -> Vec<Match<'_>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < b.len() {
        if pos == 0
            && b.starts_with(b"{{")
            && let Some(end) = body_end(b, 2)
        {
            out.push(Match {
                prefix: "",
                var: &s[..end],
            });
            pos = end;
            continue;
        }
        let Some(c) = s[pos..].chars().next() else {
            break;
        };
        let after = pos + c.len_utf8();
        if c != '\\'
            && b[after..].starts_with(b"{{")
            && let Some(end) = body_end(b, after + 2)
        {
            out.push(Match {
                prefix: &s[pos..after],
                var: &s[after..end],
            });
            pos = end;
            continue;
        }
        pos = after;
    }
    out
}

/// `replaceBracesAndTrimSpaces`: the expression and whether it is shallow.
fn expression_of(var: &str) -> (String, bool) {
    let v = var.replace("{{", "").replace("}}", "");
    let v = v.trim();
    match v.strip_prefix('-') {
        Some(rest) => (rest.trim().to_string(), true),
        None => (v.to_string(), false),
    }
}

/// Whether `text` contains a variable (`regex.IsVariable`).
pub fn has_variables(text: &str) -> bool {
    !find_variables(text).is_empty()
}

/// The expressions of the variables one pass over `text` finds, trimmed and
/// without the shallow `-` (so for `{{ a.{{b}} }}` only `b`). Escaped
/// variables are not included.
pub fn variables_in(text: &str) -> Vec<String> {
    find_variables(text)
        .iter()
        .map(|m| expression_of(m.var).0)
        .collect()
}

// ---------------------------------------------------------------------------
// Substitution.

/// Substitutes the variables of one string. A string that is exactly one
/// variable gives the typed value; maps and lists obtained that way are
/// walked like [`substitute`] does.
pub fn substitute_string(text: &str, resolve: &mut Resolver<'_>) -> Result<Value, VariableError> {
    let mut s = Substitution::new(resolve);
    let v = s.leaf(text, "")?;
    s.walk_result(v, "", 0, 1)
}

/// Substitutes the variables of every string (values and map keys) of a
/// JSON document.
pub fn substitute(doc: &Value, resolve: &mut Resolver<'_>) -> Result<Value, VariableError> {
    Substitution::new(resolve).walk(doc, "", 0, 0)
}

struct Substitution<'r, 'a> {
    resolve: &'r mut Resolver<'a>,
    /// Bytes still allowed to be substituted.
    budget: usize,
    /// Variables still allowed to be resolved.
    variables: usize,
}

impl<'r, 'a> Substitution<'r, 'a> {
    fn new(resolve: &'r mut Resolver<'a>) -> Self {
        Substitution {
            resolve,
            budget: MAX_TOTAL_BYTES,
            variables: MAX_VARIABLES,
        }
    }

    fn limit(path: &str, limit: &'static str) -> VariableError {
        VariableError::Limit {
            path: path.to_string(),
            limit,
        }
    }

    fn charge(&mut self, bytes: usize, path: &str) -> Result<(), VariableError> {
        self.budget = self
            .budget
            .checked_sub(bytes)
            .ok_or_else(|| Self::limit(path, "the total substitution budget"))?;
        Ok(())
    }

    /// `traverseJSON` with `substituteVariablesIfAny` as the action.
    /// `expansions` counts resolved maps/lists being walked on this path.
    fn walk(
        &mut self,
        v: &Value,
        path: &str,
        depth: usize,
        expansions: usize,
    ) -> Result<Value, VariableError> {
        if depth > MAX_DEPTH {
            return Err(Self::limit(path, "the nesting limit"));
        }
        match v {
            Value::String(text) => {
                let r = self.leaf(text, path)?;
                self.walk_result(r, path, depth, expansions + 1)
            }
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    out.push(self.walk(item, &format!("{path}/{i}"), depth + 1, expansions)?);
                }
                Ok(Value::Array(out))
            }
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = Map::new();
                for k in keys {
                    let new_key = self.key(k, path, depth, expansions)?;
                    let child = format!("{path}/{}", k.replace('/', "\\/"));
                    let value = match m.get(k) {
                        Some(item) => self.walk(item, &child, depth + 1, expansions)?,
                        None => Value::Null,
                    };
                    // Kyverno sets the new key, then deletes the old one.
                    let renamed = new_key != *k;
                    out.insert(new_key, value);
                    if renamed {
                        out.remove(k);
                    }
                }
                Ok(Value::Object(out))
            }
            other => Ok(other.clone()),
        }
    }

    /// A map or list that a string resolved to is walked in turn.
    fn walk_result(
        &mut self,
        v: Value,
        path: &str,
        depth: usize,
        expansions: usize,
    ) -> Result<Value, VariableError> {
        match v {
            Value::Array(_) | Value::Object(_) => {
                if expansions > MAX_ROUNDS {
                    return Err(Self::limit(path, "the nested expansion limit"));
                }
                self.walk(&v, path, depth, expansions)
            }
            other => Ok(other),
        }
    }

    /// A map key: substituted like a value; `null` keeps the key.
    fn key(
        &mut self,
        key: &str,
        path: &str,
        depth: usize,
        expansions: usize,
    ) -> Result<String, VariableError> {
        match self.leaf(key, path)? {
            Value::String(s) => Ok(s),
            Value::Null => Ok(key.to_string()),
            other => {
                // Kyverno walks the result before rejecting it.
                self.walk_result(other, path, depth, expansions + 1)?;
                Err(VariableError::KeyNotString {
                    key: key.to_string(),
                })
            }
        }
    }

    fn lookup(&mut self, expression: &str, path: &str) -> Result<Value, VariableError> {
        self.variables = self
            .variables
            .checked_sub(1)
            .ok_or_else(|| Self::limit(path, "the variable count limit"))?;
        (self.resolve)(expression).map_err(|e| e.at(path))
    }

    /// `{{@}}`: the JMESPath of the current element.
    fn at_expression(&mut self, path: &str) -> String {
        let prefix = if (self.resolve)("target").is_ok() {
            "target"
        } else {
            "request.object"
        };
        let mut pointer = parse_path(path);
        if let Some(i) = pointer.iter().position(|p| p == "foreach") {
            pointer.drain(..=i);
        }
        // SkipN(2): nothing is left unless there are more than two segments.
        if pointer.len() <= 2 {
            pointer.clear();
        } else {
            pointer.drain(..2);
        }
        let mut full: Vec<String> = prefix.split('.').map(str::to_string).collect();
        full.extend(pointer);
        pointer_to_jmespath(&full)
    }

    /// `substituteVariablesIfAny` on one string.
    fn leaf(&mut self, text: &str, path: &str) -> Result<Value, VariableError> {
        let mut value = text.to_string();
        // Strings already longer than the output limit may keep their size.
        let cap = MAX_OUTPUT_BYTES.max(text.len());
        let mut rounds = 0;
        loop {
            // Matches are re-borrowed each round from the current value.
            let original = value.clone();
            let matches: Vec<(String, String)> = find_variables(&original)
                .iter()
                .map(|m| (m.prefix.to_string(), m.var.to_string()))
                .collect();
            if matches.is_empty() {
                break;
            }
            rounds += 1;
            if rounds > MAX_ROUNDS {
                return Err(Self::limit(path, "the nested variable limit"));
            }
            let mut shallow = false;
            for (prefix, var) in &matches {
                if !prefix.is_empty() && !prefix.is_ascii() {
                    // Kyverno drops one byte of a multi-byte preceding
                    // character, leaving the expression invalid.
                    let (expr, _) = expression_of(var);
                    return Err(VariableError::Unresolved {
                        variable: expr,
                        path: path.to_string(),
                        reason: "incorrect query: the variable follows a non-ASCII character"
                            .to_string(),
                    });
                }
                let (mut expr, is_shallow) = expression_of(var);
                shallow = is_shallow;
                if expr == "@" {
                    expr = self.at_expression(path);
                }
                let resolved = self.lookup(&expr, path)?;
                if original == *var {
                    self.charge(json_size(&resolved, self.budget), path)?;
                    return Ok(resolved);
                }
                let text = match resolved {
                    Value::String(s) if shallow => s.replace("{{", "\\{{"),
                    Value::String(s) => s,
                    Value::Null if shallow => "null".to_string(),
                    _ if shallow => {
                        return Err(VariableError::ShallowNotString {
                            variable: expr,
                            path: path.to_string(),
                        });
                    }
                    other => go_json(&other),
                };
                self.charge(text.len(), path)?;
                let needle = format!("{prefix}{var}");
                if let Some(at) = value.find(&needle) {
                    let grown = value.len() - needle.len() + prefix.len() + text.len();
                    if grown > cap {
                        return Err(Self::limit(path, "the output size limit"));
                    }
                    value.replace_range(at + prefix.len()..at + needle.len(), &text);
                }
            }
            if shallow {
                break;
            }
        }
        Ok(Value::String(value.replace("\\{{", "{{")))
    }
}

/// The JSON size of a value, stopping once it exceeds `cap`.
fn json_size(v: &Value, cap: usize) -> usize {
    let mut total = 0usize;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        total = total.saturating_add(match v {
            Value::Null => 4,
            Value::Bool(_) => 5,
            Value::Number(_) => 8,
            Value::String(s) => s.len() + 2,
            Value::Array(items) => {
                stack.extend(items.iter());
                items.len() + 2
            }
            Value::Object(m) => {
                for (k, item) in m {
                    total = total.saturating_add(k.len() + 4);
                    stack.push(item);
                }
                2
            }
        });
        if total > cap {
            return total;
        }
    }
    total
}

/// Go's `json.Marshal` of a JSON-decoded value (jsoniter's standard-library
/// mode): sorted keys, HTML-safe escapes, `float64` number formatting.
fn go_json(v: &Value) -> String {
    let mut out = String::new();
    go_json_into(&mut out, v, 0);
    out
}

fn go_json_into(out: &mut String, v: &Value, depth: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => go::format_float_json(out, n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => go_json_string(out, s),
        Value::Array(items) => {
            out.push('[');
            if depth < MAX_DEPTH {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    go_json_into(out, item, depth + 1);
                }
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            if depth < MAX_DEPTH {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    go_json_string(out, k);
                    out.push(':');
                    if let Some(item) = m.get(k) {
                        go_json_into(out, item, depth + 1);
                    }
                }
            }
            out.push('}');
        }
    }
}

/// A JSON string as Go's `encoding/json` writes it (HTML-safe escapes).
pub(crate) fn go_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

// ---------------------------------------------------------------------------
// Paths for `{{@}}` (pkg/utils/jsonpointer).

/// `jsonpointer.ParsePath`: `/`-separated, `\` escapes the next character,
/// double quotes are dropped and protect `/`.
fn parse_path(raw: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut escaped, mut quoted) = (false, false);
    let flush = |cur: &mut String, out: &mut Vec<String>| {
        if !cur.is_empty() {
            out.push(std::mem::take(cur));
        }
    };
    for c in raw.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == '/' && !quoted {
            flush(&mut cur, &mut out);
        } else if c == '\u{FFFD}' {
            // Go stops at a RuneError.
            flush(&mut cur, &mut out);
            return out;
        } else {
            cur.push(c);
        }
    }
    if escaped {
        cur.push('\u{FFFD}');
    }
    flush(&mut cur, &mut out);
    out
}

/// `Pointer.JMESPath`.
fn pointer_to_jmespath(parts: &[String]) -> String {
    let mut sb = String::new();
    for p in parts {
        if !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()) && p.parse::<u64>().is_ok() {
            sb.push('[');
            sb.push_str(p);
            sb.push(']');
            continue;
        }
        if !sb.is_empty() {
            sb.push('.');
        }
        let first_ok = p
            .chars()
            .next()
            .is_some_and(|c| c == '(' || c == '_' || c.is_ascii_alphabetic());
        let rest_ok = p
            .chars()
            .all(|c| c == ')' || c == '_' || c.is_ascii_alphanumeric());
        if first_ok && rest_ok {
            sb.push_str(p);
            continue;
        }
        sb.push('"');
        for c in p.chars() {
            match c {
                '"' => sb.push_str("\\\""),
                '\\' => sb.push_str("\\\\"),
                '\u{8}' => sb.push_str("\\b"),
                '\u{c}' => sb.push_str("\\f"),
                '\n' => sb.push_str("\\n"),
                '\r' => sb.push_str("\\r"),
                '\t' => sb.push_str("\\t"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(sb, "\\u{:04x}", c as u32);
                }
                c => sb.push(c),
            }
        }
        sb.push('"');
    }
    sb
}

// ---------------------------------------------------------------------------
// Resolving against a JSON context.

/// A resolver that evaluates expressions against `doc` with Kyverno's
/// JMESPath functions ([`functions::search`]); `now` is the clock the time
/// functions read.
///
/// Kyverno's rule for a variable that resolves to nothing: its go-jmespath
/// raises `NotFoundError` ("Unknown key \"k\" in path") when a field is
/// looked up in a map that lacks it, and that error propagates through
/// `.`/`[n]` paths (and the right side of `&&`) but is swallowed by
/// functions, pipes, projections, filters, multi-selects, `||`, `!` and
/// comparisons. So `{{ request.object.metadata.labels.app }}` on a resource
/// without that label is an error ([`VariableError::NotFound`]; in a
/// condition it fails the whole evaluation: `failed to substitute variables
/// in condition key: …`), while `{{ request.object.metadata.labels.app || ''
/// }}` gives `""`. A key that exists with `null`, or a path through a
/// non-map, is `null`: the typed value of a lone variable, `"null"` inside a
/// longer string. (Kyverno before 1.4 had a `NotFoundVariableErr`,
/// "variable %s not resolved at path %s"; it is gone.)
///
/// As in Kyverno, on a DELETE request (`request.operation == "DELETE"`)
/// `request.object` in an expression reads `request.oldObject`.
pub fn resolve_in(
    doc: &Value,
    now: Option<i64>,
) -> impl FnMut(&str) -> Result<Value, VariableError> + '_ {
    let deleting = doc.pointer("/request/operation").and_then(Value::as_str) == Some("DELETE");
    move |expression: &str| resolve_expression(doc, now, expression, deleting)
}

/// Expressions longer or more nested than this are refused before parsing
/// (the parser and interpreter recurse over the syntax tree).
const MAX_EXPRESSION_BYTES: usize = 64 << 10;
const MAX_EXPRESSION_NESTING: usize = 64;
const MAX_EXPRESSION_OPERATORS: usize = 256;

fn resolve_expression(
    doc: &Value,
    now: Option<i64>,
    expression: &str,
    deleting: bool,
) -> Result<Value, VariableError> {
    let variable = if deleting {
        expression.replace("request.object", "request.oldObject")
    } else {
        expression.to_string()
    };
    let query = variable.trim();
    let fail = |reason: String| VariableError::Unresolved {
        variable: variable.clone(),
        path: String::new(),
        reason,
    };
    if query.is_empty() {
        return Err(fail("invalid query (nil)".to_string()));
    }
    if too_complex(query) {
        return Err(fail(format!(
            "incorrect query {query}: expression too large or too deeply nested"
        )));
    }
    if let Ok(ast) = jmespath::parse(query)
        && let Spine::NotFound(key) = spine(&ast, query, doc)
    {
        return Err(VariableError::NotFound {
            variable: variable.clone(),
            path: String::new(),
            key,
        });
    }
    functions::search(query, doc, now).map_err(|e| match e {
        QueryError::Invalid { expression, reason } => {
            fail(format!("incorrect query {expression}: {reason}"))
        }
        QueryError::Failed { reason, .. } => fail(format!("JMESPath query failed: {reason}")),
    })
}

/// A cheap guard against expressions that would recurse deeply.
fn too_complex(q: &str) -> bool {
    if q.len() > MAX_EXPRESSION_BYTES {
        return true;
    }
    let (mut depth, mut max_depth, mut operators) = (0usize, 0usize, 0usize);
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in q.chars() {
        if let Some(open) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == open {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' | '`' => quote = Some(c),
            '(' | '[' | '{' => {
                depth += 1;
                max_depth = max_depth.max(depth);
                operators += 1;
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            '.' | '|' | '!' | '&' | '<' | '>' | '=' | ',' | '@' => operators += 1,
            _ => {}
        }
    }
    max_depth > MAX_EXPRESSION_NESTING || operators > MAX_EXPRESSION_OPERATORS
}

static NULL: Value = Value::Null;

/// What the `NotFoundError`-propagating part of an expression gives.
enum Spine<'a> {
    Value(&'a Value),
    NotFound(String),
    /// Not a plain path: the search decides.
    Unknown,
}

/// Follows the nodes through which go-jmespath propagates `NotFoundError`
/// (field, index, `.`/`[n]` sub-expressions, the right side of `&&`).
fn spine<'a>(ast: &jmespath::ast::Ast, expr: &str, v: &'a Value) -> Spine<'a> {
    use jmespath::ast::Ast;
    match ast {
        Ast::Identity { .. } => Spine::Value(v),
        Ast::Field { name, .. } => match v {
            Value::Object(m) => m
                .get(name)
                .map_or_else(|| Spine::NotFound(name.clone()), Spine::Value),
            _ => Spine::Value(&NULL),
        },
        Ast::Index { idx, .. } => match v {
            Value::Array(items) => {
                let i = if *idx < 0 {
                    items.len().checked_sub(idx.unsigned_abs() as usize)
                } else {
                    Some(*idx as usize)
                };
                Spine::Value(i.and_then(|i| items.get(i)).unwrap_or(&NULL))
            }
            _ => Spine::Value(&NULL),
        },
        Ast::Subexpr { offset, lhs, rhs } => {
            // The parser writes `a | b` as a sub-expression too; a pipe
            // swallows the error.
            if expr.as_bytes().get(*offset) == Some(&b'|') {
                return Spine::Unknown;
            }
            match spine(lhs, expr, v) {
                Spine::Value(l) => spine(rhs, expr, l),
                other => other,
            }
        }
        Ast::And { lhs, rhs, .. } => match spine(lhs, expr, v) {
            Spine::Value(l) if truthy(l) => spine(rhs, expr, v),
            _ => Spine::Unknown,
        },
        _ => Spine::Unknown,
    }
}

/// JMESPath truthiness.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Kyverno's `context.AddResource`: the resource under `request.object`.
    fn with_resource(resource: Value) -> Value {
        json!({ "request": { "object": resource } })
    }

    fn sub(doc: &Value, ctx: &Value) -> Result<Value, VariableError> {
        let mut r = resolve_in(ctx, None);
        substitute(doc, &mut r)
    }

    fn sub_str(text: &str, ctx: &Value) -> Result<Value, VariableError> {
        let mut r = resolve_in(ctx, None);
        substitute_string(text, &mut r)
    }

    fn temp_resource() -> Value {
        with_resource(json!({
            "metadata": {"name": "temp", "namespace": "n1", "annotations": {"test": "name"}},
            "spec": {"namespace": "n1", "name": "temp1"}
        }))
    }

    /// vars_test.go `variableObject`.
    fn variable_object() -> Value {
        with_resource(json!({
            "complex_object_array": ["value1", "value2", "value3"],
            "complex_object_map": {"key1": "value1", "key2": "value2", "key3": "value3"},
            "simple_object_bool": false,
            "simple_object_int": 5,
            "simple_object_float": -5.5,
            "simple_object_string": "example",
            "simple_object_null": null
        }))
    }

    #[test]
    fn regex_matches() {
        // regex/vars_test.go, regex/utils_test.go.
        assert_eq!(variables_in("tag: {{ value }}"), ["value"]);
        assert!(has_variables("{{ foo }}"));
        assert!(has_variables("{{ foo {{foo2}} }}"));
        assert!(!has_variables("\\{{ foo }}"));
        assert!(has_variables("{{request.object.metadata.name}}"));
        assert!(has_variables("{{a}}-{{b}}"));
        assert!(!has_variables("just-a-string"));
        assert!(!has_variables("{{request.object"));
        assert!(!has_variables(""));
        // vars_test.go Test_ReplaceAllVars, as the matches it relies on.
        assert_eq!(
            variables_in("{{ foo }} {{foo}} {{foo}}"),
            ["foo", "foo", "foo"]
        );
        assert_eq!(variables_in("{{ foo }} \\{{foo}} {{foo}}"), ["foo", "foo"]);
        assert_eq!(variables_in("{{ foo {{foo}} }}"), ["foo"]);
        assert_eq!(variables_in("/s/{{elementIndex}}/r"), ["elementIndex"]);
        // Adjacent variables: the second needs a preceding character, so one
        // pass only finds every other one.
        assert_eq!(variables_in("{{a}}{{b}}{{c}}"), ["a", "c"]);
        assert_eq!(variables_in("{{- x }} {{ {a: b} }}"), ["x", "{a: b}"]);
        assert_eq!(variables_in("{{{x}}"), ["x"]);
    }

    #[test]
    fn sub_vars_success_and_failure() {
        // Test_subVars_success / Test_subVars_failed.
        let pattern = json!({
            "kind": "{{request.object.metadata.name}}",
            "name": "ns-owner-{{request.object.metadata.name}}",
            "data": {"rules": [{
                "apiGroups": ["{{request.object.metadata.name}}"],
                "resources": ["namespaces"],
                "verbs": ["*"],
                "resourceNames": ["{{request.object.metadata.name}}"]
            }]}
        });
        let out = sub(&pattern, &temp_resource()).expect("substituted");
        assert_eq!(
            out,
            json!({
                "kind": "temp",
                "name": "ns-owner-temp",
                "data": {"rules": [{
                    "apiGroups": ["temp"],
                    "resources": ["namespaces"],
                    "verbs": ["*"],
                    "resourceNames": ["temp"]
                }]}
            })
        );
        let failing = json!({"kind": "{{request.object.metadata.name1}}", "name": "x"});
        assert_eq!(
            sub(&failing, &temp_resource()),
            Err(VariableError::NotFound {
                variable: "request.object.metadata.name1".into(),
                path: "/kind".into(),
                key: "name1".into(),
            })
        );
        assert_eq!(
            sub(&failing, &temp_resource()).unwrap_err().to_string(),
            "failed to resolve request.object.metadata.name1 at path /kind: JMESPath query failed: Unknown key \"name1\" in path"
        );
    }

    #[test]
    fn jmespath_at() {
        // Test_subVars_with_JMESPath_At.
        let pattern = json!({"mutate": {"overlay": {"spec": {
            "kind": "{{@}}",
            "data": {"rules": [{"apiGroups": ["{{request.object.metadata.name}}"]}]}
        }}}});
        let ctx = with_resource(json!({
            "metadata": {"name": "temp", "namespace": "n1"},
            "spec": {"kind": "foo", "namespace": "n1", "name": "temp1"}
        }));
        assert_eq!(
            sub(&pattern, &ctx).expect("substituted"),
            json!({"mutate": {"overlay": {"spec": {
                "kind": "foo",
                "data": {"rules": [{"apiGroups": ["temp"]}]}
            }}}})
        );
        // With `target` in the context, `@` reads it; past `foreach` the
        // path restarts; a bare string is the whole object.
        let ctx = json!({"target": {"spec": {"kind": "T"}}, "request": {"object": {"spec": {"kind": "O"}}}});
        let at = json!({"mutate": {"overlay": {"spec": {"kind": "{{@}}"}}}});
        assert_eq!(
            sub(&at, &ctx).unwrap()["mutate"]["overlay"]["spec"]["kind"],
            "T"
        );
        let fe = json!({"validate": {"foreach": [{"pattern": {"spec": {"kind": "{{ @ }}"}}}]}});
        assert_eq!(
            sub(&fe, &ctx).unwrap()["validate"]["foreach"][0]["pattern"]["spec"]["kind"],
            "T"
        );
        assert_eq!(
            sub_str("{{@}}", &ctx).unwrap(),
            json!({"spec": {"kind": "T"}})
        );
        assert_eq!(parse_path("/a\\/b/\"c/d\"/e"), ["a/b", "c/d", "e"]);
        assert_eq!(
            pointer_to_jmespath(&[
                "request".into(),
                "object".into(),
                "r s".into(),
                "0".into(),
                "9z".into(),
                "_u".into(),
                "q\"\n".into()
            ]),
            "request.object.\"r s\"[0].\"9z\"._u.\"q\\\"\\n\""
        );
    }

    #[test]
    fn delete_requests_read_the_old_object() {
        // Test_ReplacingPathWhenDeleting.
        let ctx = json!({"request": {
            "operation": "DELETE",
            "object": {"metadata": {"name": "curr", "annotations": {"target": "foo"}}},
            "oldObject": {"metadata": {"name": "old", "annotations": {"target": "bar"}}}
        }});
        assert_eq!(
            sub_str("{{request.object.metadata.annotations.target}}", &ctx).unwrap(),
            "bar"
        );
        // Test_ReplacingNestedVariableWhenDeleting.
        let ctx = json!({"request": {
            "operation": "DELETE",
            "oldObject": {"metadata": {"annotations": {"target": "nested_target", "targetnew": "target"}}}
        }});
        let nested = "{{request.object.metadata.annotations.{{request.object.metadata.annotations.targetnew}}}}";
        assert_eq!(sub_str(nested, &ctx).unwrap(), "nested_target");
        // Test_ReplacingEscpNestedVariableWhenDeleting: the outer variable is
        // escaped, the inner one is substituted, the backslash goes.
        assert_eq!(
            sub_str(&format!("\\{nested}"), &ctx).unwrap(),
            "{{request.object.metadata.annotations.target}}"
        );
    }

    #[test]
    fn substitute_success_and_recursive() {
        // Test_SubstituteSuccess / Test_SubstituteRecursive / …Errors.
        let ctx = temp_resource();
        assert_eq!(
            sub_str("\"{{request.object.metadata.annotations.test}}\"", &ctx).unwrap(),
            "\"name\""
        );
        assert_eq!(
            sub_str(
                "\"{{request.object.metadata.{{request.object.metadata.annotations.test}}}}\"",
                &ctx
            )
            .unwrap(),
            "\"temp\""
        );
        assert!(matches!(
            sub_str("\"{{request.object.metadata.{{request.object.metadata.annotations.test2}}}}\"", &ctx),
            Err(VariableError::NotFound { key, .. }) if key == "test2"
        ));
        assert!(matches!(
            sub_str("\"{{request.object.metadata2.{{request.object.metadata.annotations.test}}}}\"", &ctx),
            Err(VariableError::NotFound { variable, key, .. })
                if variable == "request.object.metadata2.name" && key == "metadata2"
        ));
    }

    #[test]
    fn shallow_substitution() {
        // Test_SubstituteShallow.
        let ctx = json!({
            "variableWithVariables": "{{ DO_NOT_SUBSTITUTE_ME {{OR_ME}} }}",
            "foo": "bar",
            "foo2": "bar2",
            "variablesNested": "{{foo2}}"
        });
        assert_eq!(
            sub_str(
                "\"{{- variableWithVariables }} {{foo}} {{variablesNested}}\"",
                &ctx
            )
            .unwrap(),
            "\"{{ DO_NOT_SUBSTITUTE_ME {{OR_ME}} }} bar bar2\""
        );
        assert_eq!(
            sub_str(
                "\"{{foo}} {{- variableWithVariables }} {{variablesNested}}\"",
                &ctx
            )
            .unwrap(),
            "\"bar {{ DO_NOT_SUBSTITUTE_ME {{OR_ME}} }} bar2\""
        );
        let err = sub_str(
            "\"{{- variableWithVariables {{foo}} {{variablesNested}} }}\"",
            &ctx,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("failed to resolve variableWithVariables bar bar2"),
            "{err}"
        );
        // A shallow variable last in a pass stops further passes.
        assert_eq!(sub_str("{{- foo }}{{foo}}", &ctx).unwrap(), "bar{{foo}}");
        // Kyverno panics on a shallow non-string inside a longer string.
        let ctx = json!({"n": 5});
        assert!(matches!(
            sub_str("x {{- n }}", &ctx),
            Err(VariableError::ShallowNotString { .. })
        ));
        assert_eq!(sub_str("{{- n }}", &ctx).unwrap(), 5);
    }

    #[test]
    fn configmap_message() {
        // Test_variableSubstitution_array (the rule's message).
        let mut ctx = with_resource(json!({"metadata": {"labels": {"animal": "cow"}}}));
        ctx["animals"] = json!({"data": {"animals": "snake\nbear\ncat\ndog"}});
        let msg = "The animal {{ request.object.metadata.labels.animal }} is not in the allowed list of animals: {{ animals.data.animals }}.";
        assert_eq!(
            sub_str(msg, &ctx).unwrap(),
            "The animal cow is not in the allowed list of animals: snake\nbear\ncat\ndog."
        );
    }

    #[test]
    fn typed_and_interpolated_values() {
        // Test_Substitute{Null,Array,Int,Bool,String}{,InString}.
        let ctx = variable_object();
        let content = |expr: &str| {
            let doc = json!({"spec": {"content": expr}});
            sub(&doc, &ctx).expect("substituted")["spec"]["content"].clone()
        };
        assert_eq!(
            content("{{ request.object.simple_object_null }}"),
            Value::Null
        );
        assert_eq!(
            content("content = {{ request.object.simple_object_null }}"),
            "content = null"
        );
        assert_eq!(
            content("{{ request.object.complex_object_array }}"),
            json!(["value1", "value2", "value3"])
        );
        assert_eq!(
            content("content is {{ request.object.complex_object_map }}"),
            r#"content is {"key1":"value1","key2":"value2","key3":"value3"}"#
        );
        assert_eq!(content("{{ request.object.simple_object_int }}"), 5);
        assert_eq!(
            content("content = {{ request.object.simple_object_int }}"),
            "content = 5"
        );
        assert_eq!(
            content("content = {{ request.object.simple_object_float }}"),
            "content = -5.5"
        );
        assert_eq!(content("{{ request.object.simple_object_bool }}"), false);
        assert_eq!(
            content("content = {{ request.object.simple_object_bool }}"),
            "content = false"
        );
        assert_eq!(
            content("{{ request.object.simple_object_string }}"),
            "example"
        );
        assert_eq!(
            content("content = {{ request.object.simple_object_string }}"),
            "content = example"
        );
        // variables_test.go Test_variableSubstitutionValue / …Object.
        let ctx = with_resource(json!({
            "metadata": {"name": "temp"},
            "spec": {"variable": {"var1": "temp1", "var2": "temp2", "varNested": {"var1": "temp1"}}}
        }));
        assert_eq!(
            sub(
                &json!({"spec": {"name": "{{request.object.metadata.name}}"}}),
                &ctx
            )
            .unwrap(),
            json!({"spec": {"name": "temp"}})
        );
        assert_eq!(
            sub(
                &json!({"spec": {"variable": "{{request.object.spec.variable}}"}}),
                &ctx
            )
            .unwrap(),
            json!({"spec": {"variable": {"var1": "temp1", "var2": "temp2", "varNested": {"var1": "temp1"}}}})
        );
    }

    #[test]
    fn stringification_is_go_json() {
        let ctx = json!({"big": 1e21, "tiny": 1e-7, "million": 1000000, "html": {"a": "<&>"}, "list": [1.5, null, true]});
        assert_eq!(
            sub_str("{{big}} {{tiny}} {{million}} {{html}} {{list}}", &ctx).unwrap(),
            r#"1e+21 1e-7 1000000 {"a":"\u003c\u0026\u003e"} [1.5,null,true]"#
        );
    }

    #[test]
    fn escapes_nesting_and_adjacency() {
        let ctx = json!({"a": "x", "k": "a", "kk": "k", "aa": "{{a}}", "m": {"q": "{{ k }}"}});
        assert_eq!(sub_str("\\{{a}}", &ctx).unwrap(), "{{a}}");
        assert_eq!(sub_str("\\{{a}} {{a}}", &ctx).unwrap(), "{{a}} x");
        assert_eq!(sub_str("{{a}}{{a}}{{a}}", &ctx).unwrap(), "xxx");
        assert_eq!(sub_str("{{ {{ {{kk}} }} }}", &ctx).unwrap(), "x");
        assert_eq!(sub_str("{{{a}}", &ctx).unwrap(), "{x");
        // `{{{a}}}` is one variable whose expression is `{a}`.
        assert!(matches!(
            sub_str("{{{a}}}", &ctx),
            Err(VariableError::Unresolved { variable, .. }) if variable == "{a}"
        ));
        // Variables in substituted values are resolved too, as in Kyverno.
        assert_eq!(sub_str("v={{aa}}", &ctx).unwrap(), "v=x");
        assert_eq!(
            sub_str("{{aa}}", &ctx).unwrap(),
            "{{a}}",
            "a lone variable's value is final"
        );
        // …and so are strings inside a resolved map.
        assert_eq!(sub_str("{{m}}", &ctx).unwrap(), json!({"q": "a"}));
        assert_eq!(sub_str("{{ {x: a} }}", &ctx).unwrap(), json!({"x": "x"}));
        // Kyverno splits a multi-byte character before the variable.
        assert!(matches!(
            sub_str("é{{a}}", &ctx),
            Err(VariableError::Unresolved { .. })
        ));
        assert_eq!(sub_str("no variables", &ctx).unwrap(), "no variables");
        assert_eq!(sub_str("{{", &ctx).unwrap(), "{{");
    }

    #[test]
    fn map_keys_are_substituted() {
        let ctx = json!({"a": "x", "n": 5, "nul": null});
        assert_eq!(
            sub(
                &json!({"{{a}}": "{{a}}", "\\{{b}}": 1, "{{nul}}": 2, "k": {"{{a}}-y": true}}),
                &ctx
            )
            .unwrap(),
            json!({"x": "x", "{{b}}": 1, "{{nul}}": 2, "k": {"x-y": true}})
        );
        assert_eq!(
            sub(&json!({"{{n}}": 1}), &ctx),
            Err(VariableError::KeyNotString {
                key: "{{n}}".into()
            })
        );
    }

    #[test]
    fn missing_keys_and_nulls() {
        let ctx = json!({"a": {"b": null, "l": [1]}, "s": "x"});
        let not_found =
            |expr: &str| matches!(sub_str(expr, &ctx), Err(VariableError::NotFound { .. }));
        assert!(not_found("{{ missing }}"));
        assert!(not_found("{{ a.missing }}"));
        assert!(not_found("{{ a.missing.deeper }}"));
        assert!(not_found("{{ missing[0] }}"));
        assert!(not_found("{{ a && a.missing }}"));
        assert!(not_found("pre {{ a.missing }}"));
        // Swallowed by ||, pipes, projections, functions, comparisons.
        assert_eq!(sub_str("{{ a.missing || 'd' }}", &ctx).unwrap(), "d");
        assert_eq!(sub_str("{{ missing | @ }}", &ctx).unwrap(), Value::Null);
        assert_eq!(sub_str("{{ missing[*].x }}", &ctx).unwrap(), Value::Null);
        assert_eq!(sub_str("{{ length(a.l) }}", &ctx).unwrap(), 1);
        assert_eq!(sub_str("{{ missing == null }}", &ctx).unwrap(), true);
        // Present but null, or below a non-map: null.
        assert_eq!(sub_str("{{ a.b }}", &ctx).unwrap(), Value::Null);
        assert_eq!(sub_str("{{ a.b.c }}", &ctx).unwrap(), Value::Null);
        assert_eq!(sub_str("{{ s.c }}", &ctx).unwrap(), Value::Null);
        assert_eq!(sub_str("{{ a.l[5] }}", &ctx).unwrap(), Value::Null);
        assert_eq!(sub_str("v={{ a.b }}", &ctx).unwrap(), "v=null");
        // Empty and invalid expressions.
        assert_eq!(
            sub_str("{{ }}", &ctx),
            Err(VariableError::Unresolved {
                variable: String::new(),
                path: String::new(),
                reason: "invalid query (nil)".into(),
            })
        );
        assert!(matches!(
            sub_str("{{ a. }}", &ctx),
            Err(VariableError::Unresolved { .. })
        ));
    }

    #[test]
    fn custom_resolver_and_paths() {
        let mut seen = Vec::new();
        let mut resolver = |expr: &str| -> Result<Value, VariableError> {
            seen.push(expr.to_string());
            match expr {
                "fail" => Err(VariableError::Unresolved {
                    variable: expr.into(),
                    path: String::new(),
                    reason: "no".into(),
                }),
                _ => Ok(json!(expr.len())),
            }
        };
        let doc = json!({"a": ["{{ element.name }}", "{{elementIndex}}"], "b": {"c": "{{fail}}"}});
        let err = substitute(&doc, &mut resolver).unwrap_err();
        assert_eq!(
            err,
            VariableError::Unresolved {
                variable: "fail".into(),
                path: "/b/c".into(),
                reason: "no".into()
            }
        );
        assert_eq!(seen, ["element.name", "elementIndex", "fail"]);
    }

    #[test]
    fn limits() {
        // A variable whose value refers to itself: Kyverno loops forever.
        let ctx =
            json!({"loop": "x{{loop}}", "self": {"a": "{{self}}"}, "big": "y".repeat(600 << 10)});
        assert!(matches!(
            sub_str("{{loop}} ", &ctx),
            Err(VariableError::Limit { .. })
        ));
        assert!(matches!(
            sub_str("{{self}}", &ctx),
            Err(VariableError::Limit { .. })
        ));
        assert!(matches!(
            sub_str("{{big}}{{big}}", &ctx),
            Err(VariableError::Limit { .. })
        ));
        assert_eq!(
            sub_str("{{big}}", &ctx).unwrap().as_str().map(str::len),
            Some(600 << 10)
        );
        // Deeply nested or huge expressions are refused, not parsed.
        let deep = format!("{{{{ {}a{} }}}}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(matches!(
            sub_str(&deep, &ctx),
            Err(VariableError::Unresolved { .. })
        ));
        let long = format!("{{{{ {} }}}}", vec!["a"; 50_000].join("."));
        assert!(matches!(
            sub_str(&long, &ctx),
            Err(VariableError::Unresolved { .. })
        ));
        // Many nesting levels in the text.
        let nested = format!("{}a{}", "{{ ".repeat(200), " }}".repeat(200));
        assert!(sub_str(&nested, &json!({"a": "a"})).is_err());
    }
}
