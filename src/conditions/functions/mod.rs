//! The JMESPath runtime that conditions, preconditions and context variables
//! are evaluated with: the JMESPath built-ins plus every function Kyverno
//! registers (`pkg/engine/jmespath`, `GetFunctions`).
//!
//! Kyverno evaluates with its fork of go-jmespath (`kyverno/go-jmespath`),
//! whose built-ins are those of the JMESPath specification (as `jmespath.rs`
//! has them); Kyverno's registry is applied on top, so its `sum` (numbers,
//! quantities and durations) replaces the specification's. The
//! jmespath-community extras (`lower`, `find_first`, `group_by`, …) are not
//! part of Kyverno's engine and are not registered here either.
//!
//! This module holds the public API, the runtime with its function table,
//! and the argument and value helpers; the functions live one concern per
//! submodule (`strings`, `data`, `arithmetic`, `quantity`, `duration`,
//! `time`, `semver`, `hashes`, `x509`, with `numbers` and `url` for Go's
//! number formatting and URL parsing).
//!
//! Faithfulness notes, where Go and this engine cannot be the same:
//!
//! - **Numbers.** Go's JMESPath numbers are `float64` and Go prints an
//!   integral float without a fraction (`3`, not `3.0`). Every number a
//!   function returns, and every number in a [`search`] result, is therefore
//!   a JSON integer when it is integral and fits `i64`/`u64`, and a float
//!   otherwise.
//! - **Clock.** The engine has no clock: `time_now`, `time_now_utc` and
//!   `time_since` with an empty end read the `now` passed to [`search`] and
//!   fail when there is none. Kyverno's containers run in UTC, so the local
//!   time zone is UTC (`time_now` prints `Z`).
//! - **No network, no randomness.** `is_external_url` decides IP literals
//!   and `localhost` names, and fails for other host names (Kyverno resolves
//!   them with DNS); `random` always fails.
//! - **Strings are UTF-8.** `base64_decode` of bytes that are not UTF-8
//!   yields U+FFFD for the invalid bytes (Go keeps the raw bytes, so a hash
//!   of such a result differs).
//! - **Bounds.** Functions that can grow their input (`replace`,
//!   `replace_all`, `regex_replace_all*`) refuse results over 1 MiB (or the
//!   input's length, if larger); `split` refuses more than 262,144 parts;
//!   quantities are exact decimals held in 128 bits (about 38 digits at nano
//!   precision, i.e. values up to about 10^29), and a value past that is
//!   refused where Kubernetes' `inf.Dec` would grow; `x509_decode` refuses
//!   RSA moduli over 16,384 bits and serial numbers over 64 bytes.
//! - **Quantities and durations** follow `k8s.io/apimachinery` and Go's
//!   `time` exactly, quirks included: `'30m'` is 30 milli (a quantity, so
//!   `add('1h', '30m')` is a type mismatch), a DecimalSI exponent with no
//!   suffix (10^21, 10^-12) prints with no suffix at all, a BinarySI value is
//!   capped at 2^63-1, and `sum` of one element returns it unparsed.
//! - **`x509_decode`** parses certificates and requests as Go's
//!   `crypto/x509` does (Go 1.23+ rules and messages: negative serials are
//!   refused, the policy extensions are read) and returns Go's struct as JSON
//!   (RSA keys only, as Kyverno). Request attributes other than
//!   `AttributeTypeAndValueSET` ones are skipped, as Go skips them.
//! - **`parse_yaml`** uses this crate's YAML 1.2 reader (`yes`/`on` stay
//!   strings; Go's YAML 1.1 reader makes them booleans); the first document
//!   of a stream is used, as in Go.
//! - **`image_normalize`** uses Kyverno's default configuration (default
//!   registry `docker.io`, registry mutation enabled).

mod arithmetic;
mod data;
mod duration;
mod hashes;
mod numbers;
pub(crate) mod quantity;
mod semver;
mod strings;
#[cfg(test)]
mod tests;
pub(crate) mod time;
pub(crate) mod url;
mod x509;

use std::cell::Cell;
use std::sync::LazyLock;

use jmespath::ast::Ast;
use jmespath::{Context, ErrorReason, JmespathError, Rcvar, Runtime, Variable};
use serde_json::Value;

use numbers::{go_format_f32, go_format_g, json_number, normalize_number};

/// Why a query failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The expression does not parse, or names an unknown function.
    #[error("invalid JMESPath expression {expression:?}: {reason}")]
    Invalid {
        /// The expression.
        expression: String,
        /// Why.
        reason: String,
    },
    /// Evaluation failed (a type error, a function's own error).
    #[error("JMESPath query {expression:?} failed: {reason}")]
    Failed {
        /// The expression.
        expression: String,
        /// Why.
        reason: String,
    },
}

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

/// Checks an expression at policy load time: it must parse, and every
/// function it calls must exist and be called with a valid number of
/// arguments.
pub fn validate(expression: &str) -> Result<(), QueryError> {
    let ast = jmespath::parse(expression).map_err(|e| invalid(expression, &e))?;
    check_calls(&ast).map_err(|reason| QueryError::Invalid {
        expression: expression.to_string(),
        reason,
    })
}

/// Evaluates `expression` against `data`. `now` (unix seconds) is the time
/// the clock functions read; the engine has no clock of its own.
pub fn search(expression: &str, data: &Value, now: Option<i64>) -> Result<Value, QueryError> {
    let failed = |reason: String| QueryError::Failed {
        expression: expression.to_string(),
        reason,
    };
    let ast = jmespath::parse(expression).map_err(|e| invalid(expression, &e))?;
    let input = Variable::try_from(data).map_err(|e| failed(runtime_reason(&e)))?;
    let result = evaluate(expression, &ast, &Rcvar::new(input), now)?;
    to_json(&result).map_err(failed)
}

/// Like [`search`], on JMESPath variables (no conversion of the input or
/// the result; numbers are not normalised).
pub fn search_variable(
    expression: &str,
    data: &Rcvar,
    now: Option<i64>,
) -> Result<Rcvar, QueryError> {
    let ast = jmespath::parse(expression).map_err(|e| invalid(expression, &e))?;
    evaluate(expression, &ast, data, now)
}

/// Converts a JMESPath result to JSON, integral numbers as integers (as Go
/// prints them).
pub fn to_json(v: &Variable) -> Result<Value, String> {
    Ok(match v {
        Variable::Null => Value::Null,
        Variable::Bool(b) => Value::Bool(*b),
        Variable::String(s) => Value::String(s.clone()),
        Variable::Number(n) => Value::Number(normalize_number(n)),
        Variable::Array(items) => {
            Value::Array(items.iter().map(|i| to_json(i)).collect::<Result<_, _>>()?)
        }
        Variable::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), to_json(v)?)))
                .collect::<Result<_, String>>()?,
        ),
        Variable::Expref(_) => {
            return Err("an expression reference (&expr) is not a value".to_string());
        }
    })
}

fn evaluate(
    expression: &str,
    ast: &Ast,
    data: &Rcvar,
    now: Option<i64>,
) -> Result<Rcvar, QueryError> {
    let _clock = NowGuard::set(now);
    let mut ctx = Context::new(expression, &RUNTIME);
    jmespath::interpret(data, ast, &mut ctx).map_err(|e| QueryError::Failed {
        expression: expression.to_string(),
        reason: runtime_reason(&e),
    })
}

fn invalid(expression: &str, e: &JmespathError) -> QueryError {
    QueryError::Invalid {
        expression: expression.to_string(),
        reason: format!("{} (column {})", e.reason, e.column),
    }
}

/// A function's own message (carried as `ErrorReason::Parse`), or the
/// interpreter's.
fn runtime_reason(e: &JmespathError) -> String {
    match &e.reason {
        ErrorReason::Parse(message) => message.clone(),
        ErrorReason::Runtime(r) => r.to_string(),
    }
}

fn check_calls(ast: &Ast) -> Result<(), String> {
    match ast {
        Ast::Function { name, args, .. } => {
            let Some((arity, variadic)) = arity(name) else {
                return Err(format!("unknown function: {name}()"));
            };
            let given = args.len();
            if variadic && given < arity {
                return Err(format!(
                    "function {name}() takes at least {arity} argument(s), {given} given"
                ));
            }
            if !variadic && given != arity {
                return Err(format!(
                    "function {name}() takes {arity} argument(s), {given} given"
                ));
            }
            args.iter().try_for_each(check_calls)
        }
        Ast::Comparison { lhs, rhs, .. }
        | Ast::Projection { lhs, rhs, .. }
        | Ast::And { lhs, rhs, .. }
        | Ast::Or { lhs, rhs, .. }
        | Ast::Subexpr { lhs, rhs, .. } => {
            check_calls(lhs)?;
            check_calls(rhs)
        }
        Ast::Condition {
            predicate, then, ..
        } => {
            check_calls(predicate)?;
            check_calls(then)
        }
        Ast::Expref { ast, .. } => check_calls(ast),
        Ast::Flatten { node, .. } | Ast::Not { node, .. } | Ast::ObjectValues { node, .. } => {
            check_calls(node)
        }
        Ast::MultiList { elements, .. } => elements.iter().try_for_each(check_calls),
        Ast::MultiHash { elements, .. } => {
            elements.iter().try_for_each(|kv| check_calls(&kv.value))
        }
        Ast::Identity { .. }
        | Ast::Field { .. }
        | Ast::Index { .. }
        | Ast::Literal { .. }
        | Ast::Slice { .. } => Ok(()),
    }
}

/// `(arguments, variadic)` of a registered function.
fn arity(name: &str) -> Option<(usize, bool)> {
    if let Some(def) = KYVERNO.iter().find(|d| d.name == name) {
        return Some((def.args.len(), false));
    }
    BUILTINS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, a, v)| (*a, *v))
}

// ---------------------------------------------------------------------------
// Runtime and function table
// ---------------------------------------------------------------------------

thread_local! {
    static NOW: Cell<Option<i64>> = const { Cell::new(None) };
}

/// Sets the clock for one evaluation, restoring the previous value after.
struct NowGuard(Option<i64>);

impl NowGuard {
    fn set(now: Option<i64>) -> Self {
        NowGuard(NOW.with(|c| c.replace(now)))
    }
}

impl Drop for NowGuard {
    fn drop(&mut self) {
        NOW.with(|c| c.set(self.0));
    }
}

fn clock(function: &str) -> Result<i64, String> {
    NOW.with(Cell::get).ok_or_else(|| {
        generic(
            function,
            "the current time is not available (no clock was given to the evaluation)",
        )
    })
}

/// The specification's built-ins as `jmespath.rs` registers them:
/// `(name, arguments, variadic)`. `sum` is Kyverno's.
const BUILTINS: &[(&str, usize, bool)] = &[
    ("abs", 1, false),
    ("avg", 1, false),
    ("ceil", 1, false),
    ("contains", 2, false),
    ("ends_with", 2, false),
    ("floor", 1, false),
    ("join", 2, false),
    ("keys", 1, false),
    ("length", 1, false),
    ("map", 2, false),
    ("max", 1, false),
    ("max_by", 2, false),
    ("merge", 1, true),
    ("min", 1, false),
    ("min_by", 2, false),
    ("not_null", 1, true),
    ("reverse", 1, false),
    ("sort", 1, false),
    ("sort_by", 2, false),
    ("starts_with", 2, false),
    ("to_array", 1, false),
    ("to_number", 1, false),
    ("to_string", 1, false),
    ("type", 1, false),
    ("values", 1, false),
];

/// Argument types, as Kyverno declares them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Any,
    Str,
    Num,
    Arr,
    Obj,
    StrNum,
    ObjArr,
}

impl Ty {
    fn accepts(self, v: &Variable) -> bool {
        match self {
            Ty::Any => true,
            Ty::Str => v.is_string(),
            Ty::Num => v.is_number(),
            Ty::Arr => v.is_array(),
            Ty::Obj => v.is_object(),
            Ty::StrNum => v.is_string() || v.is_number(),
            Ty::ObjArr => v.is_object() || v.is_array(),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Ty::Any => "any",
            Ty::Str => "string",
            Ty::Num => "number",
            Ty::Arr => "array",
            Ty::Obj => "object",
            Ty::StrNum => "string or number",
            Ty::ObjArr => "object or array",
        }
    }
}

type Handler = fn(&[Rcvar]) -> Result<Rcvar, String>;

/// One of Kyverno's functions.
struct Def {
    name: &'static str,
    args: &'static [Ty],
    handler: Handler,
}

const S: Ty = Ty::Str;

/// Kyverno's `GetFunctions`, in its order.
const KYVERNO: &[Def] = &[
    def("compare", &[S, S], strings::jp_compare),
    def("equal_fold", &[S, S], strings::jp_equal_fold),
    def("replace", &[S, S, S, Ty::Num], strings::jp_replace),
    def("replace_all", &[S, S, S], strings::jp_replace_all),
    def("to_upper", &[S], strings::jp_to_upper),
    def("to_lower", &[S], strings::jp_to_lower),
    def("trim", &[S, S], strings::jp_trim),
    def("trim_prefix", &[S, S], strings::jp_trim_prefix),
    def("split", &[S, S], strings::jp_split),
    def(
        "regex_replace_all",
        &[S, Ty::StrNum, Ty::StrNum],
        strings::jp_regex_replace_all,
    ),
    def(
        "regex_replace_all_literal",
        &[S, Ty::StrNum, Ty::StrNum],
        strings::jp_regex_replace_all_literal,
    ),
    def("regex_match", &[S, Ty::StrNum], strings::jp_regex_match),
    def("pattern_match", &[S, Ty::StrNum], strings::jp_pattern_match),
    def("label_match", &[Ty::Obj, Ty::Obj], strings::jp_label_match),
    def("to_boolean", &[S], strings::jp_to_boolean),
    def("add", &[Ty::Any, Ty::Any], arithmetic::jp_add),
    def("sum", &[Ty::Arr], arithmetic::jp_sum),
    def("subtract", &[Ty::Any, Ty::Any], arithmetic::jp_subtract),
    def("multiply", &[Ty::Any, Ty::Any], arithmetic::jp_multiply),
    def("divide", &[Ty::Any, Ty::Any], arithmetic::jp_divide),
    def("modulo", &[Ty::Any, Ty::Any], arithmetic::jp_modulo),
    def("round", &[Ty::Num, Ty::Num], arithmetic::jp_round),
    def("base64_decode", &[S], strings::jp_base64_decode),
    def("base64_encode", &[S], strings::jp_base64_encode),
    def("time_since", &[S, S, S], time::jp_time_since),
    def("time_now", &[], time::jp_time_now),
    def("time_now_utc", &[], time::jp_time_now_utc),
    def("path_canonicalize", &[S], strings::jp_path_canonicalize),
    def("truncate", &[S, Ty::Num], strings::jp_truncate),
    def("semver_compare", &[S, S], semver::jp_semver_compare),
    def("parse_json", &[S], data::jp_parse_json),
    def("parse_yaml", &[S], data::jp_parse_yaml),
    def("lookup", &[Ty::ObjArr, Ty::StrNum], data::jp_lookup),
    def("items", &[Ty::ObjArr, S, S], data::jp_items),
    def(
        "object_from_lists",
        &[Ty::Arr, Ty::Arr],
        data::jp_object_from_lists,
    ),
    def("random", &[S], strings::jp_random),
    def("x509_decode", &[S], x509::jp_x509_decode),
    def("time_to_cron", &[S], time::jp_time_to_cron),
    def("time_add", &[S, S], time::jp_time_add),
    def("time_parse", &[S, S], time::jp_time_parse),
    def("time_utc", &[S], time::jp_time_utc),
    def("time_diff", &[S, S], time::jp_time_diff),
    def("time_before", &[S, S], time::jp_time_before),
    def("time_after", &[S, S], time::jp_time_after),
    def("time_between", &[S, S, S], time::jp_time_between),
    def("time_truncate", &[S, S], time::jp_time_truncate),
    def("image_normalize", &[S], data::jp_image_normalize),
    def("is_external_url", &[S], data::jp_is_external_url),
    def("sha256", &[S], hashes::jp_sha256),
    def("sha1", &[S], hashes::jp_sha1),
    def("md5", &[S], hashes::jp_md5),
];

const fn def(name: &'static str, args: &'static [Ty], handler: Handler) -> Def {
    Def {
        name,
        args,
        handler,
    }
}

static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    let mut runtime = Runtime::new();
    runtime.register_builtin_functions();
    for d in KYVERNO {
        let (name, types, handler) = (d.name, d.args, d.handler);
        runtime.register_function(
            name,
            Box::new(
                move |args: &[Rcvar], ctx: &mut Context<'_>| -> jmespath::SearchResult {
                    check_args(name, types, args)
                        .and_then(|()| handler(args))
                        .map_err(|m| JmespathError::from_ctx(ctx, ErrorReason::Parse(m)))
                },
            ),
        );
    }
    runtime
});

fn check_args(name: &str, types: &[Ty], args: &[Rcvar]) -> Result<(), String> {
    if args.len() != types.len() {
        return Err(generic(
            name,
            &format!("expected {} argument(s), got {}", types.len(), args.len()),
        ));
    }
    for (i, (ty, arg)) in types.iter().zip(args).enumerate() {
        if !ty.accepts(arg) {
            return Err(type_error(name, i + 1, ty.describe()));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Errors, values and arguments
// ---------------------------------------------------------------------------

/// Kyverno's `genericError`.
fn generic(function: &str, message: &str) -> String {
    format!("JMESPath function '{function}': {message}")
}

/// Kyverno's `invalidArgumentTypeError` (1-based argument).
fn type_error(function: &str, position: usize, ty: &str) -> String {
    format!("JMESPath function '{function}': argument #{position} is not of type {ty}")
}

fn var(v: Variable) -> Rcvar {
    Rcvar::new(v)
}

fn string(s: impl Into<String>) -> Rcvar {
    var(Variable::String(s.into()))
}

fn boolean(b: bool) -> Rcvar {
    var(Variable::Bool(b))
}

/// A number as Go prints it: integral values become JSON integers.
fn number(f: f64) -> Result<Rcvar, String> {
    json_number(f)
        .map(|n| var(Variable::Number(n)))
        .ok_or_else(|| format!("the result {} is not a finite number", go_format_g(f)))
}

fn arg(args: &[Rcvar], i: usize) -> &Variable {
    args.get(i).map_or(&Variable::Null, |a| a.as_ref())
}

fn arg_str<'a>(function: &str, args: &'a [Rcvar], i: usize) -> Result<&'a str, String> {
    match arg(args, i) {
        Variable::String(s) => Ok(s),
        _ => Err(type_error(function, i + 1, "string")),
    }
}

fn arg_num(function: &str, args: &[Rcvar], i: usize) -> Result<f64, String> {
    arg(args, i)
        .as_number()
        .ok_or_else(|| type_error(function, i + 1, "number"))
}

/// Kyverno's `ifaceToString`: strings as they are, numbers with float32
/// precision (`strconv.FormatFloat(f, 'f', -1, 32)`), booleans.
fn iface_to_string(v: &Variable) -> Option<String> {
    match v {
        Variable::String(s) => Some(s.clone()),
        Variable::Number(_) => v.as_number().map(go_format_f32),
        Variable::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn json_to_var(v: Value) -> Result<Rcvar, String> {
    Variable::try_from(v)
        .map(Rcvar::new)
        .map_err(|e| runtime_reason(&e))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
