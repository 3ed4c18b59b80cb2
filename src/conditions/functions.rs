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
//!   quantities are exact decimals held in 128 bits (about 38 digits), and a
//!   value past that is refused where Kubernetes' `inf.Dec` would grow.
//! - **`parse_yaml`** uses this crate's YAML 1.2 reader (`yes`/`on` stay
//!   strings; Go's YAML 1.1 reader makes them booleans); the first document
//!   of a stream is used, as in Go.
//! - **`image_normalize`** uses Kyverno's default configuration (default
//!   registry `docker.io`, registry mutation enabled).

use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::LazyLock;

use jmespath::ast::Ast;
use jmespath::{Context, ErrorReason, JmespathError, Rcvar, Runtime, Variable};
use serde_json::{Number, Value};

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

/// Largest string a growing function may produce (unless its input is larger).
const MAX_RESULT_BYTES: usize = 1024 * 1024;
/// Most parts `split` may produce.
const MAX_SPLIT_PARTS: usize = 1 << 18;

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
    def("compare", &[S, S], jp_compare),
    def("equal_fold", &[S, S], jp_equal_fold),
    def("replace", &[S, S, S, Ty::Num], jp_replace),
    def("replace_all", &[S, S, S], jp_replace_all),
    def("to_upper", &[S], jp_to_upper),
    def("to_lower", &[S], jp_to_lower),
    def("trim", &[S, S], jp_trim),
    def("trim_prefix", &[S, S], jp_trim_prefix),
    def("split", &[S, S], jp_split),
    def(
        "regex_replace_all",
        &[S, Ty::StrNum, Ty::StrNum],
        jp_regex_replace_all,
    ),
    def(
        "regex_replace_all_literal",
        &[S, Ty::StrNum, Ty::StrNum],
        jp_regex_replace_all_literal,
    ),
    def("regex_match", &[S, Ty::StrNum], jp_regex_match),
    def("pattern_match", &[S, Ty::StrNum], jp_pattern_match),
    def("label_match", &[Ty::Obj, Ty::Obj], jp_label_match),
    def("to_boolean", &[S], jp_to_boolean),
    def("add", &[Ty::Any, Ty::Any], jp_add),
    def("sum", &[Ty::Arr], jp_sum),
    def("subtract", &[Ty::Any, Ty::Any], jp_subtract),
    def("multiply", &[Ty::Any, Ty::Any], jp_multiply),
    def("divide", &[Ty::Any, Ty::Any], jp_divide),
    def("modulo", &[Ty::Any, Ty::Any], jp_modulo),
    def("round", &[Ty::Num, Ty::Num], jp_round),
    def("base64_decode", &[S], jp_base64_decode),
    def("base64_encode", &[S], jp_base64_encode),
    def("time_since", &[S, S, S], jp_time_since),
    def("time_now", &[], jp_time_now),
    def("time_now_utc", &[], jp_time_now_utc),
    def("path_canonicalize", &[S], jp_path_canonicalize),
    def("truncate", &[S, Ty::Num], jp_truncate),
    def("semver_compare", &[S, S], jp_semver_compare),
    def("parse_json", &[S], jp_parse_json),
    def("parse_yaml", &[S], jp_parse_yaml),
    def("lookup", &[Ty::ObjArr, Ty::StrNum], jp_lookup),
    def("items", &[Ty::ObjArr, S, S], jp_items),
    def(
        "object_from_lists",
        &[Ty::Arr, Ty::Arr],
        jp_object_from_lists,
    ),
    def("random", &[S], jp_random),
    def("x509_decode", &[S], jp_x509_decode),
    def("time_to_cron", &[S], jp_time_to_cron),
    def("time_add", &[S, S], jp_time_add),
    def("time_parse", &[S, S], jp_time_parse),
    def("time_utc", &[S], jp_time_utc),
    def("time_diff", &[S, S], jp_time_diff),
    def("time_before", &[S, S], jp_time_before),
    def("time_after", &[S, S], jp_time_after),
    def("time_between", &[S, S, S], jp_time_between),
    def("time_truncate", &[S, S], jp_time_truncate),
    def("image_normalize", &[S], jp_image_normalize),
    def("is_external_url", &[S], jp_is_external_url),
    def("sha256", &[S], jp_sha256),
    def("sha1", &[S], jp_sha1),
    def("md5", &[S], jp_md5),
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
// Errors and values
// ---------------------------------------------------------------------------

/// Kyverno's `genericError`.
fn generic(function: &str, message: &str) -> String {
    format!("JMESPath function '{function}': {message}")
}

/// Kyverno's `invalidArgumentTypeError` (1-based argument).
fn type_error(function: &str, position: usize, ty: &str) -> String {
    format!("JMESPath function '{function}': argument #{position} is not of type {ty}")
}

fn zero_division(function: &str) -> String {
    generic(function, "Zero divisor passed")
}

fn type_mismatch(function: &str) -> String {
    generic(function, "Types mismatch")
}

fn non_int_modulo() -> String {
    generic("modulo", "Non-integer argument(s) passed for modulo")
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

fn json_number(f: f64) -> Option<Number> {
    if f.fract() == 0.0 {
        if (0.0..18_446_744_073_709_551_616.0).contains(&f) {
            return Some(Number::from(f as u64));
        }
        if (-9_223_372_036_854_775_808.0..0.0).contains(&f) {
            return Some(Number::from(f as i64));
        }
    }
    Number::from_f64(f)
}

fn normalize_number(n: &Number) -> Number {
    if n.is_f64()
        && let Some(f) = n.as_f64()
        && let Some(normal) = json_number(f)
    {
        return normal;
    }
    n.clone()
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

/// Kyverno's `intNumber`.
fn int_number(f: f64) -> Result<i64, String> {
    if !f.is_finite() || f.trunc() != f {
        return Err(format!(
            "expected an integer number but got: {}",
            go_format_g(f)
        ));
    }
    if !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
        return Err(format!(
            "number is outside the range of integer numbers: {}",
            go_format_g(f)
        ));
    }
    Ok(f as i64)
}

/// Go's `int64(f)` on amd64: out-of-range and NaN give the minimum.
fn go_f64_to_i64(f: f64) -> i64 {
    if f.is_nan() || !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

/// Refuses a grown string past the bound.
fn check_size(function: &str, len: usize, input_len: usize) -> Result<(), String> {
    if len > MAX_RESULT_BYTES.max(input_len) {
        return Err(generic(
            function,
            &format!("the result would exceed {MAX_RESULT_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// Go's deep equality of two decoded JSON values.
fn deep_equal(a: &Variable, b: &Variable) -> bool {
    match (a, b) {
        (Variable::Null, Variable::Null) => true,
        (Variable::Bool(x), Variable::Bool(y)) => x == y,
        (Variable::String(x), Variable::String(y)) => x == y,
        (Variable::Number(_), Variable::Number(_)) => a.as_number() == b.as_number(),
        (Variable::Array(x), Variable::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| deep_equal(p, q))
        }
        (Variable::Object(x), Variable::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| deep_equal(v, w)))
        }
        _ => false,
    }
}

fn json_to_var(v: Value) -> Result<Rcvar, String> {
    Variable::try_from(v)
        .map(Rcvar::new)
        .map_err(|e| runtime_reason(&e))
}

// ---------------------------------------------------------------------------
// Go number formatting
// ---------------------------------------------------------------------------

/// Shortest round-trip digits of a finite, non-zero `|f|`, and the decimal
/// point position: `f = 0.d1d2… × 10^dp`.
fn shortest_digits(f: f64) -> (String, i64) {
    let s = format!("{:e}", f.abs());
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (digits, exp + 1)
}

/// Go's `%v` / `strconv.FormatFloat(f, 'g', -1, 64)`.
fn go_format_g(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    let sign = if f.is_sign_negative() { "-" } else { "" };
    if f == 0.0 {
        return format!("{sign}0");
    }
    let (digits, dp) = shortest_digits(f);
    let nd = digits.len() as i64;
    let exp = dp - 1;
    if !(-4..6).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{esign}{:02}", exp.abs());
    }
    if dp <= 0 {
        format!("{sign}0.{}{digits}", "0".repeat((-dp) as usize))
    } else if dp >= nd {
        format!("{sign}{digits}{}", "0".repeat((dp - nd) as usize))
    } else {
        let (int, frac) = digits.split_at(dp as usize);
        format!("{sign}{int}.{frac}")
    }
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 32)`.
fn go_format_f32(f: f64) -> String {
    let x = f as f32;
    if x.is_nan() {
        "NaN".to_string()
    } else if x.is_infinite() {
        if x > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        format!("{x}")
    }
}

/// Go's `math.Pow10`.
fn go_pow10(n: i64) -> f64 {
    fn lit(k: i64) -> f64 {
        format!("1e{k}").parse().unwrap_or(f64::NAN)
    }
    if (0..=308).contains(&n) {
        lit(n / 32 * 32) * lit(n % 32)
    } else if (-323..0).contains(&n) {
        let m = -n;
        lit(-(m / 32 * 32)) / lit(m % 32)
    } else if n > 0 {
        f64::INFINITY
    } else {
        0.0
    }
}

// ---------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------

fn jp_compare(args: &[Rcvar]) -> Result<Rcvar, String> {
    let a = arg_str("compare", args, 0)?;
    let b = arg_str("compare", args, 1)?;
    number(match a.cmp(b) {
        std::cmp::Ordering::Less => -1.0,
        std::cmp::Ordering::Equal => 0.0,
        std::cmp::Ordering::Greater => 1.0,
    })
}

/// Go's `unicode.SimpleFold`-based equality of two runes, approximated with
/// the single-rune case mappings.
fn fold_eq(a: char, b: char) -> bool {
    // The dotted and dotless i fold to nothing else.
    let special = |c| c == '\u{130}' || c == '\u{131}';
    a == b
        || (!special(a)
            && !special(b)
            && (simple_lower(a) == simple_lower(b) || simple_upper(a) == simple_upper(b)))
}

/// Go's `unicode.ToLower`: the one-rune mapping, or the rune itself.
fn simple_lower(c: char) -> char {
    if c == '\u{130}' {
        // The only rune whose full lowercase differs from its simple one.
        return 'i';
    }
    let mut it = c.to_lowercase();
    match (it.next(), it.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// Go's `unicode.ToUpper`: the one-rune mapping, or the rune itself.
fn simple_upper(c: char) -> char {
    let mut it = c.to_uppercase();
    match (it.next(), it.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

fn jp_equal_fold(args: &[Rcvar]) -> Result<Rcvar, String> {
    let a = arg_str("equal_fold", args, 0)?;
    let b = arg_str("equal_fold", args, 1)?;
    let mut x = a.chars();
    let mut y = b.chars();
    loop {
        match (x.next(), y.next()) {
            (None, None) => return Ok(boolean(true)),
            (Some(p), Some(q)) if fold_eq(p, q) => {}
            _ => return Ok(boolean(false)),
        }
    }
}

/// Go's `strings.Replace` (`n < 0`: every instance), bounded.
fn replace_n(function: &str, s: &str, old: &str, new: &str, n: i64) -> Result<String, String> {
    if n == 0 || old == new {
        return Ok(s.to_string());
    }
    let limit = if n < 0 { usize::MAX } else { n as usize };
    let count = if old.is_empty() {
        (s.chars().count() + 1).min(limit)
    } else {
        s.matches(old).take(limit).count()
    };
    let len =
        s.len() - count.min(s.len()) * old.len().min(s.len()) + count.saturating_mul(new.len());
    check_size(function, len, s.len())?;
    Ok(s.replacen(old, new, count))
}

fn jp_replace(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("replace", args, 0)?;
    let old = arg_str("replace", args, 1)?;
    let new = arg_str("replace", args, 2)?;
    let n = go_f64_to_i64(arg_num("replace", args, 3)?);
    replace_n("replace", s, old, new, n).map(string)
}

fn jp_replace_all(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("replace_all", args, 0)?;
    let old = arg_str("replace_all", args, 1)?;
    let new = arg_str("replace_all", args, 2)?;
    replace_n("replace_all", s, old, new, -1).map(string)
}

fn jp_to_upper(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("to_upper", args, 0)?;
    Ok(string(s.chars().map(simple_upper).collect::<String>()))
}

fn jp_to_lower(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("to_lower", args, 0)?;
    Ok(string(s.chars().map(simple_lower).collect::<String>()))
}

fn jp_trim(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("trim", args, 0)?;
    let cutset = arg_str("trim", args, 1)?;
    Ok(string(s.trim_matches(|c| cutset.contains(c))))
}

fn jp_trim_prefix(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("trim_prefix", args, 0)?;
    let prefix = arg_str("trim_prefix", args, 1)?;
    Ok(string(s.strip_prefix(prefix).unwrap_or(s)))
}

fn jp_split(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("split", args, 0)?;
    let sep = arg_str("split", args, 1)?;
    let parts: Vec<&str> = if sep.is_empty() {
        s.char_indices()
            .map(|(i, c)| &s[i..i + c.len_utf8()])
            .take(MAX_SPLIT_PARTS + 1)
            .collect()
    } else {
        s.split(sep).take(MAX_SPLIT_PARTS + 1).collect()
    };
    if parts.len() > MAX_SPLIT_PARTS {
        return Err(generic(
            "split",
            &format!("the result would have more than {MAX_SPLIT_PARTS} parts"),
        ));
    }
    Ok(var(Variable::Array(
        parts.into_iter().map(string).collect(),
    )))
}

fn compile_regex(function: &str, pattern: &str) -> Result<regex_lite::Regex, String> {
    regex_lite::Regex::new(pattern).map_err(|e| generic(function, &e.to_string()))
}

fn regex_replace(args: &[Rcvar], function: &str, literal: bool) -> Result<Rcvar, String> {
    let pattern = arg_str(function, args, 0)?;
    let src =
        iface_to_string(arg(args, 1)).ok_or_else(|| type_error(function, 2, "String or Real"))?;
    let repl =
        iface_to_string(arg(args, 2)).ok_or_else(|| type_error(function, 3, "String or Real"))?;
    let re = compile_regex(function, pattern)?;
    let mut out = String::new();
    let mut last = 0;
    for caps in re.captures_iter(&src) {
        let Some(m) = caps.get(0) else { continue };
        out.push_str(&src[last..m.start()]);
        if literal {
            out.push_str(&repl);
        } else {
            caps.expand(&repl, &mut out);
        }
        last = m.end();
        check_size(function, out.len(), src.len())?;
    }
    out.push_str(&src[last..]);
    check_size(function, out.len(), src.len())?;
    Ok(string(out))
}

fn jp_regex_replace_all(args: &[Rcvar]) -> Result<Rcvar, String> {
    regex_replace(args, "regex_replace_all", false)
}

fn jp_regex_replace_all_literal(args: &[Rcvar]) -> Result<Rcvar, String> {
    regex_replace(args, "regex_replace_all_literal", true)
}

fn jp_regex_match(args: &[Rcvar]) -> Result<Rcvar, String> {
    let pattern = arg_str("regex_match", args, 0)?;
    let src = iface_to_string(arg(args, 1))
        .ok_or_else(|| type_error("regex_match", 2, "String or Real"))?;
    // Go's regexp.Match returns the compile error as it is.
    let re = regex_lite::Regex::new(pattern).map_err(|e| e.to_string())?;
    Ok(boolean(re.is_match(&src)))
}

fn jp_pattern_match(args: &[Rcvar]) -> Result<Rcvar, String> {
    let pattern = arg_str("pattern_match", args, 0)?;
    let src = iface_to_string(arg(args, 1))
        .ok_or_else(|| type_error("pattern_match", 2, "String or Real"))?;
    Ok(boolean(crate::wildcard::matches(pattern, &src)))
}

fn jp_label_match(args: &[Rcvar]) -> Result<Rcvar, String> {
    let labels = arg(args, 0)
        .as_object()
        .ok_or_else(|| type_error("label_match", 0, "Object"))?;
    let candidate = arg(args, 1)
        .as_object()
        .ok_or_else(|| type_error("label_match", 1, "Object"))?;
    Ok(boolean(labels.iter().all(|(k, v)| {
        candidate.get(k).is_some_and(|w| deep_equal(v, w))
    })))
}

fn jp_to_boolean(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("to_boolean", args, 0)?;
    match s.to_lowercase().as_str() {
        "true" => Ok(boolean(true)),
        "false" => Ok(boolean(false)),
        _ => Err(generic(
            "to_boolean",
            &format!("lowercase argument must be 'true' or 'false' (provided: '{s}')"),
        )),
    }
}

fn jp_round(args: &[Rcvar]) -> Result<Rcvar, String> {
    let x = arg_num("round", args, 0)?;
    let places = arg_num("round", args, 1)?;
    let places = int_number(places)
        .map_err(|_| generic("round", "Non-integer argument(s) passed for round off"))?;
    if places < 0 {
        return Err(generic("round", "argument #2 is out of bounds (negative)"));
    }
    let shift = if places <= 22 {
        10f64.powi(places as i32)
    } else {
        10f64.powf(places as f64)
    };
    number((x * shift).round() / shift)
}

/// Go's `base64.StdEncoding`: padded, newlines ignored, trailing bits not
/// checked.
fn b64_std() -> base64::engine::GeneralPurpose {
    base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireCanonical),
    )
}

fn b64_decode(s: &str) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    let cleaned: Vec<u8> = s.bytes().filter(|b| !matches!(b, b'\r' | b'\n')).collect();
    b64_std().decode(&cleaned).map_err(|e| {
        let at = match e {
            base64::DecodeError::InvalidByte(i, _)
            | base64::DecodeError::InvalidLastSymbol { offset: i, .. } => i,
            _ => cleaned.len(),
        };
        format!("illegal base64 data at input byte {at}")
    })
}

fn b64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    b64_std().encode(bytes)
}

fn jp_base64_decode(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("base64_decode", args, 0)?;
    let bytes = b64_decode(s)?;
    Ok(string(String::from_utf8_lossy(&bytes).into_owned()))
}

fn jp_base64_encode(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("base64_encode", args, 0)?;
    Ok(string(b64_encode(s.as_bytes())))
}

/// Go's `path.Clean` (`filepath.Clean` on Linux).
fn go_clean_path(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let p = path.as_bytes();
    let n = p.len();
    let rooted = p[0] == b'/';
    let mut out: Vec<u8> = Vec::with_capacity(n);
    let (mut r, mut dotdot) = (0, 0);
    if rooted {
        out.push(b'/');
        r = 1;
        dotdot = 1;
    }
    while r < n {
        if p[r] == b'/' || (p[r] == b'.' && (r + 1 == n || p[r + 1] == b'/')) {
            r += 1;
        } else if p[r] == b'.' && p.get(r + 1) == Some(&b'.') && (r + 2 == n || p[r + 2] == b'/') {
            r += 2;
            if out.len() > dotdot {
                // Back up to (and drop) the previous separator.
                let mut w = out.len() - 1;
                while w > dotdot && out[w] != b'/' {
                    w -= 1;
                }
                out.truncate(w);
            } else if !rooted {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(b"..");
                dotdot = out.len();
            }
        } else {
            if (rooted && out.len() != 1) || (!rooted && !out.is_empty()) {
                out.push(b'/');
            }
            while r < n && p[r] != b'/' {
                out.push(p[r]);
                r += 1;
            }
        }
    }
    if out.is_empty() {
        return ".".to_string();
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn jp_path_canonicalize(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("path_canonicalize", args, 0)?;
    // filepath.Join of one element: empty stays empty.
    Ok(string(if s.is_empty() {
        String::new()
    } else {
        go_clean_path(s)
    }))
}

fn jp_truncate(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("truncate", args, 0)?;
    let length = arg_num("truncate", args, 1)?;
    let length = if length < 0.0 || length.is_nan() {
        0
    } else if length >= usize::MAX as f64 {
        usize::MAX
    } else {
        length as usize
    };
    Ok(string(s.chars().take(length).collect::<String>()))
}

fn jp_parse_json(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("parse_json", args, 0)?;
    let value: Value = serde_json::from_str(s).map_err(|e| e.to_string())?;
    json_to_var(value)
}

fn jp_parse_yaml(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("parse_yaml", args, 0)?;
    let docs = crate::yaml::parse_stream(s)
        .map_err(|e| format!("error converting YAML to JSON: yaml: {e}"))?;
    json_to_var(docs.into_iter().next().unwrap_or(Value::Null))
}

fn jp_lookup(args: &[Rcvar]) -> Result<Rcvar, String> {
    match arg(args, 0) {
        Variable::Object(map) => {
            let Variable::String(key) = arg(args, 1) else {
                return Err(type_error("lookup", 2, "String"));
            };
            Ok(map.get(key).cloned().unwrap_or_else(|| var(Variable::Null)))
        }
        Variable::Array(items) => {
            let key = arg(args, 1)
                .as_number()
                .ok_or_else(|| type_error("lookup", 2, "Number"))?;
            let index = int_number(key)
                .map_err(|e| format!("JMESPath function 'lookup': argument #2: {e}"))?;
            Ok(usize::try_from(index)
                .ok()
                .and_then(|i| items.get(i).cloned())
                .unwrap_or_else(|| var(Variable::Null)))
        }
        _ => Err(type_error("lookup", 1, "Object or Array")),
    }
}

fn jp_items(args: &[Rcvar]) -> Result<Rcvar, String> {
    let key_name = arg_str("items", args, 1).map_err(|_| type_error("items", 2, "String"))?;
    let val_name = arg_str("items", args, 2).map_err(|_| type_error("items", 3, "String"))?;
    let entry = |k: Rcvar, v: Rcvar| {
        let mut m = BTreeMap::new();
        m.insert(key_name.to_string(), k);
        m.insert(val_name.to_string(), v);
        var(Variable::Object(m))
    };
    let out: Vec<Rcvar> = match arg(args, 0) {
        // BTreeMap iterates in byte order, as Go's sort.Strings.
        Variable::Object(map) => map
            .iter()
            .map(|(k, v)| entry(string(k.as_str()), v.clone()))
            .collect(),
        Variable::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| Ok(entry(number(i as f64)?, v.clone())))
            .collect::<Result<_, String>>()?,
        _ => return Err(type_error("items", 1, "Object or Array")),
    };
    Ok(var(Variable::Array(out)))
}

fn jp_object_from_lists(args: &[Rcvar]) -> Result<Rcvar, String> {
    let keys = arg(args, 0)
        .as_array()
        .ok_or_else(|| type_error("object_from_lists", 1, "Array"))?;
    let values = arg(args, 1)
        .as_array()
        .ok_or_else(|| type_error("object_from_lists", 2, "Array"))?;
    let mut out = BTreeMap::new();
    for (i, k) in keys.iter().enumerate() {
        let key =
            iface_to_string(k).ok_or_else(|| type_error("object_from_lists", 1, "StringArray"))?;
        let value = values
            .get(i)
            .cloned()
            .unwrap_or_else(|| var(Variable::Null));
        out.insert(key, value);
    }
    Ok(var(Variable::Object(out)))
}

fn jp_random(args: &[Rcvar]) -> Result<Rcvar, String> {
    let pattern = arg_str("random", args, 0)?;
    if pattern.is_empty() {
        return Err("no pattern provided".to_string());
    }
    Err(generic(
        "random",
        "not supported offline: the engine has no source of randomness",
    ))
}

fn jp_image_normalize(args: &[Rcvar]) -> Result<Rcvar, String> {
    let image = arg_str("image_normalize", args, 0)?;
    let opts = crate::reference::NormalizeOptions::default();
    crate::reference::ImageInfo::parse(image, &opts)
        .map(|info| string(info.to_string()))
        .map_err(|e| {
            generic(
                "image_normalize",
                &format!(
                    "bad image: {}, defaultRegistry: {}, enableDefaultRegistryMutation: {}: {e}",
                    crate::reference::add_default_registry(image, &opts.default_registry),
                    opts.default_registry,
                    opts.enable_default_registry_mutation
                ),
            )
        })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn jp_sha256(args: &[Rcvar]) -> Result<Rcvar, String> {
    use sha2::Digest as _;
    let s = arg_str("sha256", args, 0)?;
    Ok(string(hex(&sha2::Sha256::digest(s.as_bytes()))))
}

fn jp_sha1(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("sha1", args, 0)?;
    Ok(string(hex(&sha1(s.as_bytes()))))
}

fn jp_md5(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("md5", args, 0)?;
    Ok(string(hex(&md5(s.as_bytes()))))
}

/// Pads a message for MD5 / SHA-1 (64-byte blocks, 64-bit length).
fn md_pad(data: &[u8], big_endian: bool) -> Vec<u8> {
    let bits = (data.len() as u64).wrapping_mul(8);
    let mut m = data.to_vec();
    m.push(0x80);
    while m.len() % 64 != 56 {
        m.push(0);
    }
    m.extend_from_slice(&if big_endian {
        bits.to_be_bytes()
    } else {
        bits.to_le_bytes()
    });
    m
}

/// SHA-1 (FIPS 180-4), for Kyverno's `sha1`.
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    for block in md_pad(data, true).chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (chunk, word) in out.chunks_exact_mut(4).zip(h) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// MD5 (RFC 1321), for Kyverno's `md5`.
fn md5(data: &[u8]) -> [u8; 16] {
    const SHIFT: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    const K: [u32; 64] = [
        0xd76a_a478,
        0xe8c7_b756,
        0x2420_70db,
        0xc1bd_ceee,
        0xf57c_0faf,
        0x4787_c62a,
        0xa830_4613,
        0xfd46_9501,
        0x6980_98d8,
        0x8b44_f7af,
        0xffff_5bb1,
        0x895c_d7be,
        0x6b90_1122,
        0xfd98_7193,
        0xa679_438e,
        0x49b4_0821,
        0xf61e_2562,
        0xc040_b340,
        0x265e_5a51,
        0xe9b6_c7aa,
        0xd62f_105d,
        0x0244_1453,
        0xd8a1_e681,
        0xe7d3_fbc8,
        0x21e1_cde6,
        0xc337_07d6,
        0xf4d5_0d87,
        0x455a_14ed,
        0xa9e3_e905,
        0xfcef_a3f8,
        0x676f_02d9,
        0x8d2a_4c8a,
        0xfffa_3942,
        0x8771_f681,
        0x6d9d_6122,
        0xfde5_380c,
        0xa4be_ea44,
        0x4bde_cfa9,
        0xf6bb_4b60,
        0xbebf_bc70,
        0x289b_7ec6,
        0xeaa1_27fa,
        0xd4ef_3085,
        0x0488_1d05,
        0xd9d4_d039,
        0xe6db_99e5,
        0x1fa2_7cf8,
        0xc4ac_5665,
        0xf429_2244,
        0x432a_ff97,
        0xab94_23a7,
        0xfc93_a039,
        0x655b_59c3,
        0x8f0c_cc92,
        0xffef_f47d,
        0x8584_5dd1,
        0x6fa8_7e4f,
        0xfe2c_e6e0,
        0xa301_4314,
        0x4e08_11a1,
        0xf753_7e82,
        0xbd3a_f235,
        0x2ad7_d2bb,
        0xeb86_d391,
    ];
    let mut h: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    for block in md_pad(data, false).chunks_exact(64) {
        let mut m = [0u32; 16];
        for (i, word) in block.chunks_exact(4).enumerate() {
            m[i] = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
        }
        let [mut a, mut b, mut c, mut d] = h;
        for i in 0..64 {
            let (f, g) = match i {
                0..=15 => ((b & c) | (!b & d), i),
                16..=31 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                32..=47 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(K[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(SHIFT[i]));
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 16];
    for (chunk, word) in out.chunks_exact_mut(4).zip(h) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    out
}

// ---------------------------------------------------------------------------
// Kubernetes quantities (k8s.io/apimachinery/pkg/api/resource)
// ---------------------------------------------------------------------------

/// How a quantity prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum QFormat {
    DecimalExponent,
    BinarySI,
    DecimalSI,
}

/// A quantity: `m × 10^e`, as Kubernetes holds it. `dec` tells the `inf.Dec`
/// form from the `int64Amount` one (arithmetic differs between the two);
/// `e` is kept unnormalised, as both forms keep their scale (which division
/// and the float approximation depend on).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Quantity {
    m: i128,
    e: i64,
    dec: bool,
    format: QFormat,
}

const QUANTITY_REGEX_ERROR: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const QUANTITY_RANGE_ERROR: &str = "quantity out of the supported range (38 digits)";

fn pow10_i128(n: i64) -> Option<i128> {
    u32::try_from(n).ok().and_then(|n| 10i128.checked_pow(n))
}

/// `parseQuantityString`: (positive, value, num, denom, suffix).
fn split_quantity(s: &str) -> Result<(bool, &str, &str, &str, &str), String> {
    let b = s.as_bytes();
    let end = b.len();
    let mut positive = true;
    let mut pos = 0;
    if let Some(&c) = b.first() {
        if c == b'-' {
            positive = false;
            pos += 1;
        } else if c == b'+' {
            pos += 1;
        }
    }
    while pos < end && b[pos] == b'0' {
        pos += 1;
    }
    if pos >= end {
        return Ok((positive, "0", "0", "", ""));
    }
    let num_start = pos;
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos >= end {
        return Ok((positive, s, &s[num_start..], "", ""));
    }
    let mut num = &s[num_start..pos];
    if num.is_empty() {
        num = "0";
    }
    let mut denom = "";
    if b[pos] == b'.' {
        pos += 1;
        let d_start = pos;
        while pos < end && b[pos].is_ascii_digit() {
            pos += 1;
        }
        denom = &s[d_start..pos];
        if pos >= end {
            return Ok((positive, s, num, denom, ""));
        }
    }
    let value = &s[..pos];
    let suffix_start = pos;
    while pos < end && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos >= end {
        return Ok((positive, value, num, denom, &s[suffix_start..]));
    }
    if b[pos] == b'-' || b[pos] == b'+' {
        pos += 1;
    }
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos >= end {
        return Ok((positive, value, num, denom, &s[suffix_start..]));
    }
    Err(QUANTITY_REGEX_ERROR.to_string())
}

/// The quantity suffixer's `interpret`: (base, exponent, format).
fn interpret_suffix(suffix: &str) -> Option<(u32, i64, QFormat)> {
    let dec = |e| Some((10, e, QFormat::DecimalSI));
    let bin = |e| Some((2, e, QFormat::BinarySI));
    match suffix {
        "" => dec(0),
        "n" => dec(-9),
        "u" => dec(-6),
        "m" => dec(-3),
        "k" => dec(3),
        "M" => dec(6),
        "G" => dec(9),
        "T" => dec(12),
        "P" => dec(15),
        "E" => dec(18),
        "Ki" => bin(10),
        "Mi" => bin(20),
        "Gi" => bin(30),
        "Ti" => bin(40),
        "Pi" => bin(50),
        "Ei" => bin(60),
        _ if suffix.len() > 1 && (suffix.starts_with('e') || suffix.starts_with('E')) => {
            // strconv.ParseInt, then int32(parsed) (which wraps).
            let parsed = go_parse_int(&suffix[1..]).ok()?;
            Some((10, i64::from(parsed as i32), QFormat::DecimalExponent))
        }
        _ => None,
    }
}

/// Go's `strconv.ParseInt(s, 10, 64)`.
fn go_parse_int(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.ParseInt: parsing {s:?}: invalid syntax"));
    }
    s.parse::<i64>()
        .map_err(|_| format!("strconv.ParseInt: parsing {s:?}: value out of range"))
}

impl Quantity {
    fn int64(m: i64, e: i64, format: QFormat) -> Self {
        Quantity {
            m: i128::from(m),
            e,
            dec: false,
            format,
        }
    }

    /// `resource.ParseQuantity`.
    fn parse(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Err(QUANTITY_REGEX_ERROR.to_string());
        }
        if s == "0" {
            return Ok(Quantity::int64(0, 0, QFormat::DecimalSI));
        }
        let (positive, value, num, denom, suffix) = split_quantity(s)?;
        let (base, exponent, mut format) = interpret_suffix(suffix)
            .ok_or_else(|| "unable to parse quantity's suffix".to_string())?;

        // The int64 fast path.
        let (mut scale, precision, mantissa): (i64, i64, i64) = match format {
            QFormat::DecimalExponent | QFormat::DecimalSI => {
                (exponent, 18 - (num.len() + denom.len()) as i64, 1)
            }
            QFormat::BinarySI if exponent >= 0 && denom.is_empty() => {
                let precision = 15 - num.len() as i64 - ((exponent as f32) * 3.0 / 10.0) as i64 - 1;
                (0, precision, 1i64 << exponent.clamp(0, 62))
            }
            QFormat::BinarySI => (0, -1, 1),
        };
        if precision >= 0 {
            scale -= denom.len() as i64;
            if scale >= -9 {
                let shifted = format!("{num}{denom}");
                let v: i64 = shifted
                    .parse()
                    .map_err(|_| "unable to parse numeric part of quantity".to_string())?;
                if let Some(result) = v.checked_mul(mantissa) {
                    let result = if positive { result } else { -result };
                    return Ok(Quantity::int64(result, scale, format));
                }
            }
        }

        // The inf.Dec slow path.
        let (int_part, frac_part) = {
            let v = value.strip_prefix(['+', '-']).unwrap_or(value);
            v.split_once('.').unwrap_or((v, ""))
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err("unable to parse numeric part of quantity".to_string());
        }
        let all = format!("{int_part}{frac_part}");
        let mut digits = all.trim_start_matches('0');
        let mut e = -(frac_part.len() as i64);
        if base == 10 {
            e += exponent;
        }
        // Digits past nano only round up (away from zero).
        let mut sticky = false;
        if base == 10 && e < -9 {
            let drop = usize::try_from(-9 - e).unwrap_or(usize::MAX);
            let keep = digits.len().saturating_sub(drop);
            sticky = digits[keep..].bytes().any(|b| b != b'0');
            digits = &digits[..keep];
            e = -9;
        }
        if digits.len() > 38 {
            return Err(QUANTITY_RANGE_ERROR.to_string());
        }
        let mut m: i128 = if digits.is_empty() {
            0
        } else {
            digits
                .parse()
                .map_err(|_| "unable to parse numeric part of quantity".to_string())?
        };
        m += i128::from(sticky);
        let max_allowed = i128::from(i64::MAX);
        if base == 2 {
            let factor = u32::try_from(exponent)
                .ok()
                .and_then(|x| 2i128.checked_pow(x))
                .ok_or_else(|| QUANTITY_RANGE_ERROR.to_string())?;
            m = m.checked_mul(factor).unwrap_or(i128::MAX);
            // BinarySI is capped at 2^63-1 (checked here, before the nano
            // scaling, so that the cap is what bounds it).
            let exceeds = match pow10_i128(-e) {
                Some(p) => m > max_allowed.saturating_mul(p),
                None => false,
            };
            if exceeds {
                return Ok(Quantity {
                    m: if positive { max_allowed } else { -max_allowed },
                    e: 0,
                    dec: true,
                    format,
                });
            }
        }
        if m != 0 {
            // Round up (away from zero) to nano, at scale 9.
            if e < -9 {
                m = match pow10_i128(-9 - e) {
                    Some(d) => m / d + i128::from(m % d != 0),
                    None => 1,
                };
            } else {
                let mul = pow10_i128(e + 9).ok_or_else(|| QUANTITY_RANGE_ERROR.to_string())?;
                m = m
                    .checked_mul(mul)
                    .ok_or_else(|| QUANTITY_RANGE_ERROR.to_string())?;
            }
            e = -9;
        }
        if format == QFormat::BinarySI && m > 0 && m < 1_000_000_000 && e == -9 {
            format = QFormat::DecimalSI;
        }
        Ok(Quantity {
            m: if positive { m } else { -m },
            e,
            dec: true,
            format,
        })
    }

    /// `|self| < n`.
    fn abs_lt(&self, n: i128) -> bool {
        let a = self.m.unsigned_abs();
        if self.e >= 0 {
            match pow10_i128(self.e).and_then(|p| (a as i128).checked_mul(p)) {
                Some(v) => v < n,
                None => false,
            }
        } else {
            match pow10_i128(-self.e).and_then(|p| n.checked_mul(p)) {
                Some(bound) => a < bound as u128,
                None => true,
            }
        }
    }

    /// The value as an integer when it is one (`AsScale(0)` exact).
    fn as_integer(&self) -> Result<Option<i128>, String> {
        if self.e >= 0 {
            return pow10_i128(self.e)
                .and_then(|p| self.m.checked_mul(p))
                .map(Some)
                .ok_or_else(|| QUANTITY_RANGE_ERROR.to_string());
        }
        Ok(pow10_i128(-self.e).and_then(|p| (self.m % p == 0).then(|| self.m / p)))
    }

    /// `AsApproximateFloat64`.
    fn approx_f64(&self) -> f64 {
        let base = self.m as f64;
        if self.e == 0 {
            base
        } else {
            base * go_pow10(self.e)
        }
    }

    /// `Quantity.String()`.
    fn to_string_checked(&self) -> Result<String, String> {
        if self.m == 0 {
            return Ok("0".to_string());
        }
        let mut format = self.format;
        let mut rounded = None;
        if format == QFormat::BinarySI {
            if self.abs_lt(1024) {
                format = QFormat::DecimalSI;
            } else {
                match self.as_integer()? {
                    Some(i) => rounded = Some(i),
                    None => format = QFormat::DecimalSI,
                }
            }
        }
        if let (QFormat::BinarySI, Some(int)) = (format, rounded) {
            let neg = int < 0;
            let mut a = int.unsigned_abs();
            let mut exp = 0;
            while a >= 1024 && a % 1024 == 0 {
                a /= 1024;
                exp += 1;
            }
            let suffix = match exp {
                1 => "Ki",
                2 => "Mi",
                3 => "Gi",
                4 => "Ti",
                5 => "Pi",
                6 => "Ei",
                _ => "",
            };
            return Ok(format!("{}{a}{suffix}", if neg { "-" } else { "" }));
        }
        let (digits, zeros, exp) = self.canonical_base10();
        let suffix = match (format, exp) {
            (QFormat::DecimalSI, -9) => "n".to_string(),
            (QFormat::DecimalSI, -6) => "u".to_string(),
            (QFormat::DecimalSI, -3) => "m".to_string(),
            (QFormat::DecimalSI, 0) => String::new(),
            (QFormat::DecimalSI, 3) => "k".to_string(),
            (QFormat::DecimalSI, 6) => "M".to_string(),
            (QFormat::DecimalSI, 9) => "G".to_string(),
            (QFormat::DecimalSI, 12) => "T".to_string(),
            (QFormat::DecimalSI, 15) => "P".to_string(),
            (QFormat::DecimalSI, 18) => "E".to_string(),
            // Kubernetes has no DecimalSI suffix here and prints none (the
            // value reads wrong, but that is what Kyverno outputs).
            (QFormat::DecimalSI, _) | (_, 0) => String::new(),
            (_, e) => format!("e{e}"),
        };
        Ok(format!("{digits}{}{suffix}", "0".repeat(zeros as usize)))
    }

    /// `AsCanonicalBytes`: the signed digits, the zeros to append and the
    /// exponent (factors of ten moved into it, then lowered to a multiple of
    /// three).
    fn canonical_base10(&self) -> (String, i64, i64) {
        let sign = if self.m < 0 { "-" } else { "" };
        let mut a = self.m.unsigned_abs();
        let mut exp = self.e;
        while a >= 10 && a.is_multiple_of(10) {
            a /= 10;
            exp += 1;
        }
        let zeros = exp.rem_euclid(3);
        (format!("{sign}{a}"), zeros, exp - zeros)
    }

    fn range<T>(v: Option<T>) -> Result<T, String> {
        v.ok_or_else(|| QUANTITY_RANGE_ERROR.to_string())
    }

    /// `Quantity.Add`.
    fn add(&self, y: &Quantity) -> Result<Quantity, String> {
        let mut q = self.clone();
        if !q.dec && !y.dec {
            if q.m == 0 {
                q.format = y.format;
            }
            if let Some(sum) = int64_add(q.m as i64, q.e, y.m as i64, y.e) {
                q.m = i128::from(sum.0);
                q.e = sum.1;
                return Ok(q);
            }
        } else if q.m == 0 {
            q.format = y.format;
        }
        let (m, e) = Quantity::range(dec_add(q.m, q.e, y.m, y.e))?;
        Ok(Quantity {
            m,
            e,
            dec: true,
            format: q.format,
        })
    }

    /// `Quantity.Sub`.
    fn sub(&self, y: &Quantity) -> Result<Quantity, String> {
        let mut q = self.clone();
        if q.m == 0 {
            q.format = y.format;
        }
        if !q.dec
            && !y.dec
            && let Some(neg) = (y.m as i64).checked_neg()
            && let Some(sum) = int64_add(q.m as i64, q.e, neg, y.e)
        {
            q.m = i128::from(sum.0);
            q.e = sum.1;
            return Ok(q);
        }
        let (m, e) = Quantity::range(dec_add(q.m, q.e, -y.m, y.e))?;
        Ok(Quantity {
            m,
            e,
            dec: true,
            format: q.format,
        })
    }
}

/// `int64Amount.Add`: `None` on overflow.
fn int64_add(a: i64, ae: i64, b: i64, be: i64) -> Option<(i64, i64)> {
    if b == 0 {
        return Some((a, ae));
    }
    if a == 0 {
        return Some((b, be));
    }
    let scale = |v: i64, by: i64| -> Option<i64> {
        u32::try_from(by)
            .ok()
            .and_then(|by| 10i64.checked_pow(by))
            .and_then(|p| v.checked_mul(p))
    };
    match ae.cmp(&be) {
        std::cmp::Ordering::Equal => a.checked_add(b).map(|c| (c, ae)),
        std::cmp::Ordering::Greater => scale(a, ae - be)?.checked_add(b).map(|c| (c, be)),
        std::cmp::Ordering::Less => a.checked_add(scale(b, be - ae)?).map(|c| (c, ae)),
    }
}

/// `inf.Dec` addition: the result keeps the larger scale (smaller exponent).
fn dec_add(a: i128, ae: i64, b: i128, be: i64) -> Option<(i128, i64)> {
    let e = ae.min(be);
    let a = a.checked_mul(pow10_i128(ae - e)?)?;
    let b = b.checked_mul(pow10_i128(be - e)?)?;
    Some((a.checked_add(b)?, e))
}

// ---------------------------------------------------------------------------
// Go durations (time.Duration)
// ---------------------------------------------------------------------------

const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// The time package's `quote`: non-ASCII and control bytes as `\xHH`.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c.is_ascii() && c >= ' ' {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        }
    }
    out.push('"');
    out
}

/// Go's `time.ParseDuration`.
fn parse_duration(orig: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", go_quote(orig));
    let mut s = orig.as_bytes();
    let mut d: u64 = 0;
    let mut neg = false;
    if let Some(&c) = s.first()
        && (c == b'-' || c == b'+')
    {
        neg = c == b'-';
        s = &s[1..];
    }
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return Err(invalid());
        }
        // Leading integer.
        let mut v: u64 = 0;
        let mut i = 0;
        while i < s.len() && s[i].is_ascii_digit() {
            if v > (1 << 63) / 10 {
                return Err(invalid());
            }
            v = v * 10 + u64::from(s[i] - b'0');
            if v > 1 << 63 {
                return Err(invalid());
            }
            i += 1;
        }
        let pre = i > 0;
        s = &s[i..];
        // Fraction.
        let mut f: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut post = false;
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let mut i = 0;
            let mut overflow = false;
            while i < s.len() && s[i].is_ascii_digit() {
                if !overflow {
                    if f > ((1u64 << 63) - 1) / 10 {
                        overflow = true;
                    } else {
                        let y = f * 10 + u64::from(s[i] - b'0');
                        if y > 1 << 63 {
                            overflow = true;
                        } else {
                            f = y;
                            scale *= 10.0;
                        }
                    }
                }
                i += 1;
            }
            post = i > 0;
            s = &s[i..];
        }
        if !pre && !post {
            return Err(invalid());
        }
        // Unit.
        let mut i = 0;
        while i < s.len() && !(s[i] == b'.' || s[i].is_ascii_digit()) {
            i += 1;
        }
        if i == 0 {
            return Err(format!("time: missing unit in duration {}", go_quote(orig)));
        }
        let unit_bytes = &s[..i];
        s = &s[i..];
        let unit: u64 = match unit_bytes {
            b"ns" => 1,
            b"us" | b"\xC2\xB5s" | b"\xCE\xBCs" => 1_000,
            b"ms" => 1_000_000,
            b"s" => 1_000_000_000,
            b"m" => 60_000_000_000,
            b"h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    go_quote(&String::from_utf8_lossy(unit_bytes)),
                    go_quote(orig)
                ));
            }
        };
        if v > (1 << 63) / unit {
            return Err(invalid());
        }
        v *= unit;
        if f > 0 {
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > 1 << 63 {
                return Err(invalid());
            }
        }
        d += v;
        if d > 1 << 63 {
            return Err(invalid());
        }
    }
    if neg {
        return Ok((d as i64).wrapping_neg());
    }
    if d > (1 << 63) - 1 {
        return Err(invalid());
    }
    Ok(d as i64)
}

/// Go's `time.Duration.String()`.
fn duration_string(d: i64) -> String {
    fn frac(out: &mut Vec<u8>, mut v: u64, prec: usize) -> u64 {
        let mut print = false;
        for _ in 0..prec {
            let digit = v % 10;
            print = print || digit != 0;
            if print {
                out.push(b'0' + digit as u8);
            }
            v /= 10;
        }
        if print {
            out.push(b'.');
        }
        v
    }
    fn int(out: &mut Vec<u8>, mut v: u64) {
        if v == 0 {
            out.push(b'0');
        } else {
            while v > 0 {
                out.push(b'0' + (v % 10) as u8);
                v /= 10;
            }
        }
    }
    // Built backwards, then reversed.
    let mut out: Vec<u8> = Vec::with_capacity(32);
    let neg = d < 0;
    let mut u = d.unsigned_abs();
    if u < NANOS_PER_SECOND as u64 {
        out.push(b's');
        if u == 0 {
            return "0s".to_string();
        }
        let prec = if u < 1_000 {
            out.push(b'n');
            0
        } else if u < 1_000_000 {
            // "µ" (U+00B5), reversed bytes.
            out.extend_from_slice(&[0xB5, 0xC2]);
            3
        } else {
            out.push(b'm');
            6
        };
        u = frac(&mut out, u, prec);
        int(&mut out, u);
    } else {
        out.push(b's');
        u = frac(&mut out, u, 9);
        int(&mut out, u % 60);
        u /= 60;
        if u > 0 {
            out.push(b'm');
            int(&mut out, u % 60);
            u /= 60;
            if u > 0 {
                out.push(b'h');
                int(&mut out, u);
            }
        }
    }
    if neg {
        out.push(b'-');
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

/// Go's `Duration.Seconds()`.
fn duration_seconds(d: i64) -> f64 {
    let sec = d / NANOS_PER_SECOND;
    let nsec = d % NANOS_PER_SECOND;
    sec as f64 + nsec as f64 / 1e9
}

/// `time.Duration(seconds * float64(time.Second))`.
fn duration_from_seconds(seconds: f64) -> i64 {
    go_f64_to_i64(seconds * 1e9)
}

// ---------------------------------------------------------------------------
// Arithmetic (Kyverno's arithmetic.go)
// ---------------------------------------------------------------------------

enum Operand {
    Scalar(f64),
    Quantity(Quantity),
    Duration(i64),
}

fn operand(function: &str, v: &Variable) -> Result<Operand, String> {
    match v {
        Variable::Number(_) => Ok(Operand::Scalar(v.as_number().unwrap_or(f64::NAN))),
        Variable::String(s) => match Quantity::parse(s) {
            Ok(q) => Ok(Operand::Quantity(q)),
            // Kubernetes would hold it; this engine's quantities cannot.
            Err(e) if e == QUANTITY_RANGE_ERROR => Err(generic(function, &e)),
            Err(_) => match parse_duration(s) {
                Ok(d) => Ok(Operand::Duration(d)),
                Err(_) => Err(generic(function, "invalid operand")),
            },
        },
        _ => Err(generic(function, "invalid operand")),
    }
}

fn operands(function: &str, a: &Variable, b: &Variable) -> Result<(Operand, Operand), String> {
    Ok((operand(function, a)?, operand(function, b)?))
}

fn quantity_result(q: &Quantity) -> Result<Rcvar, String> {
    q.to_string_checked().map(string)
}

fn add_values(function: &str, a: &Variable, b: &Variable) -> Result<Rcvar, String> {
    match operands(function, a, b)? {
        (Operand::Quantity(x), Operand::Quantity(y)) => quantity_result(&x.add(&y)?),
        (Operand::Duration(x), Operand::Duration(y)) => {
            Ok(string(duration_string(x.wrapping_add(y))))
        }
        (Operand::Scalar(x), Operand::Scalar(y)) => number(x + y),
        _ => Err(type_mismatch(function)),
    }
}

fn jp_add(args: &[Rcvar]) -> Result<Rcvar, String> {
    add_values("add", arg(args, 0), arg(args, 1))
}

fn jp_sum(args: &[Rcvar]) -> Result<Rcvar, String> {
    let items = arg(args, 0)
        .as_array()
        .ok_or_else(|| type_mismatch("sum"))?;
    let Some((first, rest)) = items.split_first() else {
        return Err(generic(
            "sum",
            "at least one element in the array is required",
        ));
    };
    let mut result = first.clone();
    for item in rest {
        result = add_values("sum", &result, item)?;
    }
    Ok(result)
}

fn jp_subtract(args: &[Rcvar]) -> Result<Rcvar, String> {
    match operands("subtract", arg(args, 0), arg(args, 1))? {
        (Operand::Quantity(x), Operand::Quantity(y)) => quantity_result(&x.sub(&y)?),
        (Operand::Duration(x), Operand::Duration(y)) => {
            Ok(string(duration_string(x.wrapping_sub(y))))
        }
        (Operand::Scalar(x), Operand::Scalar(y)) => number(x - y),
        _ => Err(type_mismatch("subtract")),
    }
}

/// The scalar as a quantity, as Kyverno makes it (`fmt.Sprintf("%v", f)`).
fn scalar_quantity(f: f64) -> Result<Quantity, String> {
    Quantity::parse(&go_format_g(f))
}

fn quantity_times(q: &Quantity, f: f64) -> Result<Rcvar, String> {
    let s = scalar_quantity(f)?;
    let m = Quantity::range(q.m.checked_mul(s.m))?;
    let e = Quantity::range(q.e.checked_add(s.e))?;
    quantity_result(&Quantity {
        m,
        e,
        dec: true,
        format: q.format,
    })
}

fn duration_times(d: i64, f: f64) -> Rcvar {
    string(duration_string(duration_from_seconds(
        duration_seconds(d) * f,
    )))
}

fn jp_multiply(args: &[Rcvar]) -> Result<Rcvar, String> {
    match operands("multiply", arg(args, 0), arg(args, 1))? {
        (Operand::Quantity(q), Operand::Scalar(f)) | (Operand::Scalar(f), Operand::Quantity(q)) => {
            quantity_times(&q, f)
        }
        (Operand::Duration(d), Operand::Scalar(f)) | (Operand::Scalar(f), Operand::Duration(d)) => {
            Ok(duration_times(d, f))
        }
        (Operand::Scalar(x), Operand::Scalar(y)) => number(x * y),
        _ => Err(type_mismatch("multiply")),
    }
}

fn jp_divide(args: &[Rcvar]) -> Result<Rcvar, String> {
    match operands("divide", arg(args, 0), arg(args, 1))? {
        (Operand::Quantity(x), Operand::Quantity(y)) => {
            let divisor = y.approx_f64();
            if divisor == 0.0 {
                return Err(zero_division("divide"));
            }
            number(x.approx_f64() / divisor)
        }
        (Operand::Quantity(x), Operand::Scalar(f)) => {
            if f == 0.0 {
                return Err(zero_division("divide"));
            }
            let y = scalar_quantity(f)?;
            // inf.Dec QuoRound at the larger scale, rounding down.
            let scale = (-x.e).max(-y.e);
            let p = scale + x.e - y.e;
            let m = if p >= 0 {
                let num = Quantity::range(pow10_i128(p).and_then(|f| x.m.checked_mul(f)))?;
                num / y.m
            } else {
                match pow10_i128(-p).and_then(|f| y.m.checked_mul(f)) {
                    Some(den) => x.m / den,
                    None => 0,
                }
            };
            quantity_result(&Quantity {
                m,
                e: -scale,
                dec: true,
                format: x.format,
            })
        }
        (Operand::Duration(x), Operand::Duration(y)) => {
            let divisor = duration_seconds(y);
            if divisor == 0.0 {
                return Err(zero_division("divide"));
            }
            number(duration_seconds(x) / divisor)
        }
        (Operand::Duration(x), Operand::Scalar(f)) => {
            if f == 0.0 {
                return Err(zero_division("divide"));
            }
            Ok(string(duration_string(duration_from_seconds(
                duration_seconds(x) / f,
            ))))
        }
        (Operand::Scalar(x), Operand::Scalar(y)) => {
            if y == 0.0 {
                return Err(zero_division("divide"));
            }
            number(x / y)
        }
        _ => Err(type_mismatch("divide")),
    }
}

/// `int64(f)` that must be exact (Kyverno's modulo check).
fn exact_i64(f: f64) -> Result<i64, String> {
    let i = go_f64_to_i64(f);
    if f != i as f64 {
        return Err(non_int_modulo());
    }
    Ok(i)
}

fn jp_modulo(args: &[Rcvar]) -> Result<Rcvar, String> {
    match operands("modulo", arg(args, 0), arg(args, 1))? {
        (Operand::Quantity(x), Operand::Quantity(y)) => {
            let i1 = exact_i64(x.approx_f64())?;
            let i2 = exact_i64(y.approx_f64())?;
            if i2 == 0 {
                return Err(zero_division("modulo"));
            }
            quantity_result(&Quantity::int64(i1.wrapping_rem(i2), 0, x.format))
        }
        (Operand::Duration(x), Operand::Duration(y)) => {
            if y == 0 {
                return Err(zero_division("modulo"));
            }
            Ok(string(duration_string(x.wrapping_rem(y))))
        }
        (Operand::Scalar(x), Operand::Scalar(y)) => {
            let v1 = exact_i64(x)?;
            let v2 = exact_i64(y)?;
            if v2 == 0 {
                return Err(zero_division("modulo"));
            }
            number(v1.wrapping_rem(v2) as f64)
        }
        _ => Err(type_mismatch("modulo")),
    }
}

// ---------------------------------------------------------------------------
// Go time (time.Parse, time.Format(RFC3339), Sub, Add, Truncate)
// ---------------------------------------------------------------------------

const RFC3339: &str = "2006-01-02T15:04:05Z07:00";
/// Seconds from 0001-01-01 (Go's zero time) to the Unix epoch.
const ZERO_TO_UNIX: i64 = 62_135_596_800;

/// An instant with the UTC offset it is shown in (the local zone is UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct GoTime {
    unix: i64,
    nsec: u32,
    offset: i32,
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in(month: i64, year: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (days since 1970-01-01).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Fields of a time in its own offset.
struct Civil {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    weekday: i64,
}

impl GoTime {
    fn from_unix(unix: i64) -> Self {
        GoTime {
            unix,
            nsec: 0,
            offset: 0,
        }
    }

    fn civil(&self) -> Civil {
        let local = self.unix.saturating_add(i64::from(self.offset));
        let days = local.div_euclid(86_400);
        let sod = local.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: sod / 3600,
            minute: sod % 3600 / 60,
            second: sod % 60,
            weekday: (days + 4).rem_euclid(7),
        }
    }

    fn utc(self) -> Self {
        GoTime { offset: 0, ..self }
    }

    /// `t.Format(time.RFC3339)`.
    fn rfc3339(&self) -> String {
        let c = self.civil();
        let year = if c.year < 0 {
            format!("-{:04}", -c.year)
        } else {
            format!("{:04}", c.year)
        };
        let zone = if self.offset == 0 {
            "Z".to_string()
        } else {
            let mut minutes = self.offset / 60;
            let sign = if minutes < 0 {
                minutes = -minutes;
                '-'
            } else {
                '+'
            };
            format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
        };
        format!(
            "{year}-{:02}-{:02}T{:02}:{:02}:{:02}{zone}",
            c.month, c.day, c.hour, c.minute, c.second
        )
    }

    fn total_nanos(&self) -> i128 {
        i128::from(self.unix) * i128::from(NANOS_PER_SECOND) + i128::from(self.nsec)
    }

    fn with_total_nanos(self, total: i128) -> Result<Self, String> {
        let unix = i64::try_from(total.div_euclid(i128::from(NANOS_PER_SECOND)))
            .map_err(|_| "time out of range".to_string())?;
        Ok(GoTime {
            unix,
            nsec: total.rem_euclid(i128::from(NANOS_PER_SECOND)) as u32,
            offset: self.offset,
        })
    }

    /// `t.Sub(u)`, saturating as Go does.
    fn sub(&self, u: &GoTime) -> i64 {
        let d = self.total_nanos() - u.total_nanos();
        d.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    fn add(self, d: i64) -> Result<Self, String> {
        self.with_total_nanos(self.total_nanos() + i128::from(d))
    }

    /// `t.Truncate(d)`: rounds down to a multiple of `d` since Go's zero time.
    fn truncate(self, d: i64) -> Result<Self, String> {
        if d <= 0 {
            return Ok(self);
        }
        let since_zero =
            self.total_nanos() + i128::from(ZERO_TO_UNIX) * i128::from(NANOS_PER_SECOND);
        let r = since_zero.rem_euclid(i128::from(d));
        self.with_total_nanos(self.total_nanos() - r)
    }
}

/// A layout element (`nextStdChunk`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    TZ,
    Iso8601TZ,
    Iso8601SecondsTZ,
    Iso8601ShortTZ,
    Iso8601ColonTZ,
    Iso8601ColonSecondsTZ,
    NumTZ,
    NumSecondsTz,
    NumShortTZ,
    NumColonTZ,
    NumColonSecondsTZ,
    FracSecond0(usize),
    FracSecond9(usize),
}

const LONG_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const SHORT_MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const SHORT_DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// `nextStdChunk`: (prefix length, element, suffix start).
fn next_std_chunk(layout: &[u8]) -> (usize, Option<Std>, usize) {
    let has = |i: usize, s: &str| layout[i..].starts_with(s.as_bytes());
    let lower_at = |i: usize| layout.get(i).is_some_and(u8::is_ascii_lowercase);
    for i in 0..layout.len() {
        let c = layout[i];
        let found = match c {
            b'J' if has(i, "Jan") => {
                if has(i, "January") {
                    Some((Std::LongMonth, 7))
                } else if !lower_at(i + 3) {
                    Some((Std::Month, 3))
                } else {
                    None
                }
            }
            b'M' if has(i, "Mon") => {
                if has(i, "Monday") {
                    Some((Std::LongWeekDay, 6))
                } else if !lower_at(i + 3) {
                    Some((Std::WeekDay, 3))
                } else {
                    None
                }
            }
            b'M' if has(i, "MST") => Some((Std::TZ, 3)),
            b'0' => match layout.get(i + 1) {
                Some(b'1') => Some((Std::ZeroMonth, 2)),
                Some(b'2') => Some((Std::ZeroDay, 2)),
                Some(b'3') => Some((Std::ZeroHour12, 2)),
                Some(b'4') => Some((Std::ZeroMinute, 2)),
                Some(b'5') => Some((Std::ZeroSecond, 2)),
                Some(b'6') => Some((Std::Year, 2)),
                Some(b'0') if layout.get(i + 2) == Some(&b'2') => Some((Std::ZeroYearDay, 3)),
                _ => None,
            },
            b'1' => {
                if layout.get(i + 1) == Some(&b'5') {
                    Some((Std::Hour, 2))
                } else {
                    Some((Std::NumMonth, 1))
                }
            }
            b'2' => {
                if has(i, "2006") {
                    Some((Std::LongYear, 4))
                } else {
                    Some((Std::Day, 1))
                }
            }
            b'_' => {
                if layout.get(i + 1) == Some(&b'2') {
                    if has(i + 1, "2006") {
                        // A literal `_` followed by the long year.
                        return (i + 1, Some(Std::LongYear), i + 5);
                    }
                    Some((Std::UnderDay, 2))
                } else if has(i, "__2") {
                    Some((Std::UnderYearDay, 3))
                } else {
                    None
                }
            }
            b'3' => Some((Std::Hour12, 1)),
            b'4' => Some((Std::Minute, 1)),
            b'5' => Some((Std::Second, 1)),
            b'P' if layout.get(i + 1) == Some(&b'M') => Some((Std::PM, 2)),
            b'p' if layout.get(i + 1) == Some(&b'm') => Some((Std::Pm, 2)),
            b'-' => {
                if has(i, "-070000") {
                    Some((Std::NumSecondsTz, 7))
                } else if has(i, "-07:00:00") {
                    Some((Std::NumColonSecondsTZ, 9))
                } else if has(i, "-0700") {
                    Some((Std::NumTZ, 5))
                } else if has(i, "-07:00") {
                    Some((Std::NumColonTZ, 6))
                } else if has(i, "-07") {
                    Some((Std::NumShortTZ, 3))
                } else {
                    None
                }
            }
            b'Z' => {
                if has(i, "Z070000") {
                    Some((Std::Iso8601SecondsTZ, 7))
                } else if has(i, "Z07:00:00") {
                    Some((Std::Iso8601ColonSecondsTZ, 9))
                } else if has(i, "Z0700") {
                    Some((Std::Iso8601TZ, 5))
                } else if has(i, "Z07:00") {
                    Some((Std::Iso8601ColonTZ, 6))
                } else if has(i, "Z07") {
                    Some((Std::Iso8601ShortTZ, 3))
                } else {
                    None
                }
            }
            b'.' | b',' => match layout.get(i + 1) {
                Some(&ch @ (b'0' | b'9')) => {
                    let mut j = i + 1;
                    while j < layout.len() && layout[j] == ch {
                        j += 1;
                    }
                    if layout.get(j).is_some_and(u8::is_ascii_digit) {
                        None
                    } else {
                        let n = j - (i + 1);
                        let std = if ch == b'0' {
                            Std::FracSecond0(n)
                        } else {
                            Std::FracSecond9(n)
                        };
                        Some((std, j - i))
                    }
                }
                _ => None,
            },
            _ => None,
        };
        if let Some((std, len)) = found {
            return (i, Some(std), i + len);
        }
    }
    (layout.len(), None, layout.len())
}

fn is_digit_at(s: &[u8], i: usize) -> bool {
    s.get(i).is_some_and(u8::is_ascii_digit)
}

/// `getnum`.
fn getnum(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
    if !is_digit_at(s, 0) {
        return None;
    }
    if !is_digit_at(s, 1) {
        if fixed {
            return None;
        }
        return Some((i64::from(s[0] - b'0'), &s[1..]));
    }
    Some((
        i64::from(s[0] - b'0') * 10 + i64::from(s[1] - b'0'),
        &s[2..],
    ))
}

/// `getnum3`.
fn getnum3(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
    let mut n = 0;
    let mut i = 0;
    while i < 3 && is_digit_at(s, i) {
        n = n * 10 + i64::from(s[i] - b'0');
        i += 1;
    }
    if i == 0 || (fixed && i != 3) {
        return None;
    }
    Some((n, &s[i..]))
}

/// Go's time `atoi` (optional sign, digits only).
fn time_atoi(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) || digits.len() > 18 {
        return None;
    }
    let v = std::str::from_utf8(digits).ok()?.parse::<i64>().ok()?;
    Some(if neg { -v } else { v })
}

/// `lookup`: a case-insensitive (ASCII) prefix match against a table.
fn lookup_name<'a>(table: &[&str], value: &'a [u8]) -> Option<(usize, &'a [u8])> {
    table.iter().enumerate().find_map(|(i, name)| {
        let n = name.len();
        (value.len() >= n && value[..n].eq_ignore_ascii_case(name.as_bytes()))
            .then(|| (i, &value[n..]))
    })
}

/// `skip`: consumes a literal layout prefix.
fn skip<'a>(mut value: &'a [u8], mut prefix: &[u8]) -> Option<&'a [u8]> {
    while let Some(&p) = prefix.first() {
        if p == b' ' {
            if value.first().is_some_and(|&c| c != b' ') {
                return None;
            }
            while prefix.first() == Some(&b' ') {
                prefix = &prefix[1..];
            }
            while value.first() == Some(&b' ') {
                value = &value[1..];
            }
            continue;
        }
        if value.first() != Some(&p) {
            return None;
        }
        prefix = &prefix[1..];
        value = &value[1..];
    }
    Some(value)
}

/// `parseNanoseconds`: `value` starts with the separator.
fn parse_nanoseconds(value: &[u8], nbytes: usize) -> Result<i64, &'static str> {
    if !matches!(value.first(), Some(b'.' | b',')) {
        return Err("");
    }
    let nbytes = nbytes.min(10).min(value.len());
    let mut ns = time_atoi(&value[1..nbytes]).ok_or("")?;
    if ns < 0 {
        return Err("fractional second");
    }
    for _ in 0..(10 - nbytes) {
        ns *= 10;
    }
    Ok(ns)
}

/// `parseTimeZone`: the length of a zone abbreviation.
fn parse_time_zone(value: &[u8]) -> Option<usize> {
    if value.len() < 3 {
        return None;
    }
    if value.len() >= 4 && (value.starts_with(b"ChST") || value.starts_with(b"MeST")) {
        return Some(4);
    }
    if value.starts_with(b"GMT") {
        return Some(3 + parse_signed_offset(&value[3..]));
    }
    if value[0] == b'+' || value[0] == b'-' {
        let n = parse_signed_offset(value);
        return (n > 0).then_some(n);
    }
    let upper = value
        .iter()
        .take(6)
        .take_while(|c| c.is_ascii_uppercase())
        .count();
    match upper {
        5 if value[4] == b'T' => Some(5),
        4 if value[3] == b'T' || value.starts_with(b"WITA") => Some(4),
        3 => Some(3),
        _ => None,
    }
}

/// `parseSignedOffset`: the length of `+h`/`-hh` (hours up to 23), or 0.
fn parse_signed_offset(value: &[u8]) -> usize {
    let Some(&sign) = value.first() else { return 0 };
    if sign != b'-' && sign != b'+' {
        return 0;
    }
    let digits = value[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || digits > 18 {
        return 0;
    }
    let x: i64 = std::str::from_utf8(&value[1..1 + digits])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(i64::MAX);
    if x > 23 {
        return 0;
    }
    1 + digits
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Go's `time.Parse(layout, value)`, with UTC as the local zone.
fn go_parse(layout_str: &str, value_str: &str) -> Result<GoTime, String> {
    let bad = |elem: &[u8], value: &[u8]| {
        format!(
            "parsing time {} as {}: cannot parse {} as {}",
            go_quote(value_str),
            go_quote(layout_str),
            go_quote(&lossy(value)),
            go_quote(&lossy(elem))
        )
    };
    let with_message = |message: &str| format!("parsing time {}{message}", go_quote(value_str));

    let mut layout = layout_str.as_bytes();
    let mut value = value_str.as_bytes();
    let (mut am, mut pm) = (false, false);
    let (mut year, mut month, mut day, mut yday) = (0i64, -1i64, -1i64, -1i64);
    let (mut hour, mut min, mut sec, mut nsec) = (0i64, 0i64, 0i64, 0i64);
    let mut utc = false;
    let mut zone_offset: Option<i64> = None;
    let mut zone_name: Option<String> = None;

    loop {
        let (plen, std, sstart) = next_std_chunk(layout);
        let prefix = &layout[..plen];
        let std_str = &layout[plen..sstart];
        value = skip(value, prefix).ok_or_else(|| bad(prefix, value))?;
        let Some(std) = std else {
            if !value.is_empty() {
                return Err(with_message(&format!(
                    ": extra text: {}",
                    go_quote(&lossy(value))
                )));
            }
            break;
        };
        layout = &layout[sstart..];
        let hold = value;
        let mut range_err: &str = "";
        let ok: Option<()> = (|| {
            match std {
                Std::Year => {
                    if value.len() < 2 {
                        return None;
                    }
                    let y = time_atoi(&value[..2])?;
                    value = &value[2..];
                    year = if y >= 69 { y + 1900 } else { y + 2000 };
                }
                Std::LongYear => {
                    if value.len() < 4 || !is_digit_at(value, 0) {
                        return None;
                    }
                    year = time_atoi(&value[..4])?;
                    value = &value[4..];
                }
                Std::Month | Std::LongMonth => {
                    let table: &[&str] = if std == Std::Month {
                        &SHORT_MONTHS
                    } else {
                        &LONG_MONTHS
                    };
                    let (i, rest) = lookup_name(table, value)?;
                    month = i as i64 + 1;
                    value = rest;
                }
                Std::NumMonth | Std::ZeroMonth => {
                    let (m, rest) = getnum(value, std == Std::ZeroMonth)?;
                    month = m;
                    value = rest;
                    if !(1..=12).contains(&month) {
                        range_err = "month";
                    }
                }
                Std::WeekDay | Std::LongWeekDay => {
                    let table: &[&str] = if std == Std::WeekDay {
                        &SHORT_DAYS
                    } else {
                        &LONG_DAYS
                    };
                    value = lookup_name(table, value)?.1;
                }
                Std::Day | Std::UnderDay | Std::ZeroDay => {
                    if std == Std::UnderDay && value.first() == Some(&b' ') {
                        value = &value[1..];
                    }
                    let (d, rest) = getnum(value, std == Std::ZeroDay)?;
                    day = d;
                    value = rest;
                }
                Std::UnderYearDay | Std::ZeroYearDay => {
                    for _ in 0..2 {
                        if std == Std::UnderYearDay && value.first() == Some(&b' ') {
                            value = &value[1..];
                        }
                    }
                    let (d, rest) = getnum3(value, std == Std::ZeroYearDay)?;
                    yday = d;
                    value = rest;
                }
                Std::Hour => {
                    let (h, rest) = getnum(value, false)?;
                    hour = h;
                    value = rest;
                    if !(0..24).contains(&hour) {
                        range_err = "hour";
                    }
                }
                Std::Hour12 | Std::ZeroHour12 => {
                    let (h, rest) = getnum(value, std == Std::ZeroHour12)?;
                    hour = h;
                    value = rest;
                    if !(0..=12).contains(&hour) {
                        range_err = "hour";
                    }
                }
                Std::Minute | Std::ZeroMinute => {
                    let (m, rest) = getnum(value, std == Std::ZeroMinute)?;
                    min = m;
                    value = rest;
                    if !(0..60).contains(&min) {
                        range_err = "minute";
                    }
                }
                Std::Second | Std::ZeroSecond => {
                    let (s, rest) = getnum(value, std == Std::ZeroSecond)?;
                    sec = s;
                    value = rest;
                    if !(0..60).contains(&sec) {
                        range_err = "second";
                        return Some(());
                    }
                    // A fraction in the value but not in the layout.
                    if value.len() >= 2 && matches!(value[0], b'.' | b',') && is_digit_at(value, 1)
                    {
                        let (_, next, _) = next_std_chunk(layout);
                        if matches!(next, Some(Std::FracSecond0(_) | Std::FracSecond9(_))) {
                            return Some(());
                        }
                        let mut n = 2;
                        while n < value.len() && is_digit_at(value, n) {
                            n += 1;
                        }
                        match parse_nanoseconds(value, n) {
                            Ok(ns) => nsec = ns,
                            Err("") => return None,
                            Err(r) => range_err = r,
                        }
                        value = &value[n..];
                    }
                }
                Std::PM | Std::Pm => {
                    if value.len() < 2 {
                        return None;
                    }
                    let p = &value[..2];
                    value = &value[2..];
                    let (pm_s, am_s): (&[u8], &[u8]) = if std == Std::PM {
                        (b"PM", b"AM")
                    } else {
                        (b"pm", b"am")
                    };
                    if p == pm_s {
                        pm = true;
                    } else if p == am_s {
                        am = true;
                    } else {
                        return None;
                    }
                }
                Std::Iso8601TZ
                | Std::Iso8601ShortTZ
                | Std::Iso8601ColonTZ
                | Std::Iso8601SecondsTZ
                | Std::Iso8601ColonSecondsTZ
                | Std::NumTZ
                | Std::NumShortTZ
                | Std::NumColonTZ
                | Std::NumSecondsTz
                | Std::NumColonSecondsTZ => {
                    let iso = matches!(
                        std,
                        Std::Iso8601TZ
                            | Std::Iso8601ShortTZ
                            | Std::Iso8601ColonTZ
                            | Std::Iso8601SecondsTZ
                            | Std::Iso8601ColonSecondsTZ
                    );
                    if iso && value.first() == Some(&b'Z') {
                        value = &value[1..];
                        utc = true;
                        return Some(());
                    }
                    let (sign, hh, mm, ss, rest): (u8, &[u8], &[u8], &[u8], &[u8]) = match std {
                        Std::Iso8601ColonTZ | Std::NumColonTZ => {
                            if value.len() < 6 || value[3] != b':' {
                                return None;
                            }
                            (value[0], &value[1..3], &value[4..6], b"00", &value[6..])
                        }
                        Std::NumShortTZ | Std::Iso8601ShortTZ => {
                            if value.len() < 3 {
                                return None;
                            }
                            (value[0], &value[1..3], b"00", b"00", &value[3..])
                        }
                        Std::Iso8601ColonSecondsTZ | Std::NumColonSecondsTZ => {
                            if value.len() < 9 || value[3] != b':' || value[6] != b':' {
                                return None;
                            }
                            (
                                value[0],
                                &value[1..3],
                                &value[4..6],
                                &value[7..9],
                                &value[9..],
                            )
                        }
                        Std::Iso8601SecondsTZ | Std::NumSecondsTz => {
                            if value.len() < 7 {
                                return None;
                            }
                            (
                                value[0],
                                &value[1..3],
                                &value[3..5],
                                &value[5..7],
                                &value[7..],
                            )
                        }
                        _ => {
                            if value.len() < 5 {
                                return None;
                            }
                            (value[0], &value[1..3], &value[3..5], b"00", &value[5..])
                        }
                    };
                    value = rest;
                    let hr = getnum(hh, true)?.0;
                    let mm = getnum(mm, true)?.0;
                    let ss = getnum(ss, true)?.0;
                    if hr > 24 {
                        range_err = "time zone offset hour";
                    }
                    if mm > 60 {
                        range_err = "time zone offset minute";
                    }
                    if ss > 60 {
                        range_err = "time zone offset second";
                    }
                    let offset = (hr * 60 + mm) * 60 + ss;
                    zone_offset = Some(match sign {
                        b'+' => offset,
                        b'-' => -offset,
                        _ => return None,
                    });
                }
                Std::TZ => {
                    if value.starts_with(b"UTC") {
                        utc = true;
                        value = &value[3..];
                        return Some(());
                    }
                    let n = parse_time_zone(value)?;
                    zone_name = Some(lossy(&value[..n]));
                    value = &value[n..];
                }
                Std::FracSecond0(digits) => {
                    let ndigit = 1 + digits;
                    if value.len() < ndigit {
                        return None;
                    }
                    match parse_nanoseconds(value, ndigit) {
                        Ok(ns) => nsec = ns,
                        Err("") => return None,
                        Err(r) => range_err = r,
                    }
                    value = &value[ndigit..];
                }
                Std::FracSecond9(_) => {
                    if value.len() < 2 || !matches!(value[0], b'.' | b',') || !is_digit_at(value, 1)
                    {
                        return Some(());
                    }
                    let mut i = 0;
                    while is_digit_at(value, i + 1) {
                        i += 1;
                    }
                    match parse_nanoseconds(value, 1 + i) {
                        Ok(ns) => nsec = ns,
                        Err("") => return None,
                        Err(r) => range_err = r,
                    }
                    value = &value[1 + i..];
                }
            }
            Some(())
        })();
        if !range_err.is_empty() {
            return Err(with_message(&format!(": {range_err} out of range")));
        }
        if ok.is_none() {
            return Err(bad(std_str, hold));
        }
    }
    if pm && hour < 12 {
        hour += 12;
    } else if am && hour == 12 {
        hour = 0;
    }
    if yday >= 0 {
        let mut m = 0;
        let mut d = 0;
        if is_leap(year) {
            if yday == 31 + 29 {
                m = 2;
                d = 29;
            } else if yday > 31 + 29 {
                yday -= 1;
            }
        }
        if !(1..=365).contains(&yday) {
            return Err(with_message(": day-of-year out of range"));
        }
        if m == 0 {
            const DAYS_BEFORE: [i64; 13] =
                [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];
            m = (yday - 1) / 31 + 1;
            if DAYS_BEFORE[m as usize] < yday {
                m += 1;
            }
            d = yday - DAYS_BEFORE[(m - 1) as usize];
        }
        if month >= 0 && month != m {
            return Err(with_message(": day-of-year does not match month"));
        }
        month = m;
        if day >= 0 && day != d {
            return Err(with_message(": day-of-year does not match day"));
        }
        day = d;
    } else {
        if month < 0 {
            month = 1;
        }
        if day < 0 {
            day = 1;
        }
    }
    if day < 1 || day > days_in(month, year) {
        return Err(with_message(": day out of range"));
    }
    let wall = days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec;
    let (unix, offset) = if utc {
        (wall, 0)
    } else if let Some(offset) = zone_offset {
        (wall - offset, offset)
    } else if let Some(name) = &zone_name {
        // An unknown abbreviation: a zone with that name and no offset,
        // except GMT±h, whose offset Go records without moving the instant.
        if name.len() > 3 && name.starts_with("GMT") {
            (wall, time_atoi(&name.as_bytes()[3..]).unwrap_or(0) * 3600)
        } else {
            (wall, 0)
        }
    } else {
        (wall, 0)
    };
    Ok(GoTime {
        unix,
        nsec: nsec as u32,
        offset: offset as i32,
    })
}

fn time_arg(function: &str, args: &[Rcvar], i: usize) -> Result<GoTime, String> {
    go_parse(RFC3339, arg_str(function, args, i)?)
}

fn duration_arg(function: &str, args: &[Rcvar], i: usize) -> Result<i64, String> {
    parse_duration(arg_str(function, args, i)?)
}

fn jp_time_since(args: &[Rcvar]) -> Result<Rcvar, String> {
    let layout = arg_str("time_since", args, 0)?;
    let start = arg_str("time_since", args, 1)?;
    let end = arg_str("time_since", args, 2)?;
    let layout = if layout.is_empty() { RFC3339 } else { layout };
    let t1 = go_parse(layout, start)?;
    let t2 = if end.is_empty() {
        GoTime::from_unix(clock("time_since")?)
    } else {
        go_parse(layout, end)?
    };
    Ok(string(duration_string(t2.sub(&t1))))
}

fn jp_time_now(_: &[Rcvar]) -> Result<Rcvar, String> {
    Ok(string(GoTime::from_unix(clock("time_now")?).rfc3339()))
}

fn jp_time_now_utc(_: &[Rcvar]) -> Result<Rcvar, String> {
    Ok(string(GoTime::from_unix(clock("time_now_utc")?).rfc3339()))
}

fn jp_time_to_cron(args: &[Rcvar]) -> Result<Rcvar, String> {
    let c = time_arg("time_to_cron", args, 0)?.civil();
    Ok(string(format!(
        "{} {} {} {} {}",
        c.minute, c.hour, c.day, c.month, c.weekday
    )))
}

fn jp_time_add(args: &[Rcvar]) -> Result<Rcvar, String> {
    let t = time_arg("time_add", args, 0)?;
    let d = duration_arg("time_add", args, 1)?;
    Ok(string(t.add(d)?.rfc3339()))
}

fn jp_time_parse(args: &[Rcvar]) -> Result<Rcvar, String> {
    let layout = arg_str("time_parse", args, 0)?;
    let ts = arg_str("time_parse", args, 1)?;
    if go_parse_int(layout).is_ok() {
        // An epoch layout.
        let epoch = go_parse_int(ts)?;
        return Ok(string(GoTime::from_unix(epoch).rfc3339()));
    }
    Ok(string(go_parse(layout, ts)?.rfc3339()))
}

fn jp_time_utc(args: &[Rcvar]) -> Result<Rcvar, String> {
    Ok(string(time_arg("time_utc", args, 0)?.utc().rfc3339()))
}

fn jp_time_diff(args: &[Rcvar]) -> Result<Rcvar, String> {
    let t1 = time_arg("time_diff", args, 0)?;
    let t2 = time_arg("time_diff", args, 1)?;
    Ok(string(duration_string(t2.sub(&t1))))
}

fn jp_time_before(args: &[Rcvar]) -> Result<Rcvar, String> {
    let t1 = time_arg("time_before", args, 0)?;
    let t2 = time_arg("time_before", args, 1)?;
    Ok(boolean(t1.total_nanos() < t2.total_nanos()))
}

fn jp_time_after(args: &[Rcvar]) -> Result<Rcvar, String> {
    let t1 = time_arg("time_after", args, 0)?;
    let t2 = time_arg("time_after", args, 1)?;
    Ok(boolean(t1.total_nanos() > t2.total_nanos()))
}

fn jp_time_between(args: &[Rcvar]) -> Result<Rcvar, String> {
    let t = time_arg("time_between", args, 0)?.total_nanos();
    let start = time_arg("time_between", args, 1)?.total_nanos();
    let end = time_arg("time_between", args, 2)?.total_nanos();
    Ok(boolean(t > start && t < end))
}

fn jp_time_truncate(args: &[Rcvar]) -> Result<Rcvar, String> {
    let t = time_arg("time_truncate", args, 0)?;
    let d = duration_arg("time_truncate", args, 1)?;
    Ok(string(t.truncate(d)?.rfc3339()))
}

// ---------------------------------------------------------------------------
// Semantic versions (github.com/blang/semver/v4)
// ---------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq)]
enum PreRelease {
    Num(u64),
    Str(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct SemVer {
    major: u64,
    minor: u64,
    patch: u64,
    pre: Vec<PreRelease>,
}

fn only(s: &str, allowed: impl Fn(char) -> bool) -> bool {
    s.chars().all(allowed)
}

fn is_alnum(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

fn leading_zeroes(s: &str) -> bool {
    s.len() > 1 && s.starts_with('0')
}

fn parse_uint(s: &str) -> Result<u64, String> {
    if s.is_empty() || !only(s, |c| c.is_ascii_digit()) {
        return Err(format!("strconv.ParseUint: parsing {s:?}: invalid syntax"));
    }
    s.parse()
        .map_err(|_| format!("strconv.ParseUint: parsing {s:?}: value out of range"))
}

impl SemVer {
    /// `semver.Parse`.
    fn parse(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Err("Version string empty".to_string());
        }
        let parts: Vec<&str> = s.splitn(3, '.').collect();
        let [major, minor, rest] = parts[..] else {
            return Err("No Major.Minor.Patch elements found".to_string());
        };
        let number = |part: &str, what: &str| -> Result<u64, String> {
            if !only(part, |c| c.is_ascii_digit()) {
                return Err(format!(
                    "Invalid character(s) found in {what} number {part:?}"
                ));
            }
            if leading_zeroes(part) {
                let what = match what {
                    "major" => "Major",
                    "minor" => "Minor",
                    _ => "Patch",
                };
                return Err(format!(
                    "{what} number must not contain leading zeroes {part:?}"
                ));
            }
            parse_uint(part)
        };
        let major = number(major, "major")?;
        let minor = number(minor, "minor")?;
        let mut patch = rest;
        let mut build: Vec<&str> = Vec::new();
        let mut prerelease: Vec<&str> = Vec::new();
        if let Some((p, b)) = patch.split_once('+') {
            build = b.split('.').collect();
            patch = p;
        }
        if let Some((p, pr)) = patch.split_once('-') {
            prerelease = pr.split('.').collect();
            patch = p;
        }
        let patch = number(patch, "patch")?;
        let mut pre = Vec::with_capacity(prerelease.len());
        for p in prerelease {
            if p.is_empty() {
                return Err("Prerelease is empty".to_string());
            }
            if only(p, |c| c.is_ascii_digit()) {
                if leading_zeroes(p) {
                    return Err(format!(
                        "Numeric PreRelease version must not contain leading zeroes {p:?}"
                    ));
                }
                pre.push(PreRelease::Num(parse_uint(p)?));
            } else if only(p, is_alnum) {
                pre.push(PreRelease::Str(p.to_string()));
            } else {
                return Err(format!("Invalid character(s) found in prerelease {p:?}"));
            }
        }
        for b in build {
            if b.is_empty() {
                return Err("Build meta data is empty".to_string());
            }
            if !only(b, is_alnum) {
                return Err(format!(
                    "Invalid character(s) found in build meta data {b:?}"
                ));
            }
        }
        Ok(SemVer {
            major,
            minor,
            patch,
            pre,
        })
    }

    fn compare(&self, o: &SemVer) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        let core = (self.major, self.minor, self.patch).cmp(&(o.major, o.minor, o.patch));
        if core != Ordering::Equal {
            return core;
        }
        match (self.pre.is_empty(), o.pre.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Greater,
            (false, true) => return Ordering::Less,
            _ => {}
        }
        for (a, b) in self.pre.iter().zip(&o.pre) {
            let c = match (a, b) {
                (PreRelease::Num(x), PreRelease::Num(y)) => x.cmp(y),
                (PreRelease::Str(x), PreRelease::Str(y)) => x.cmp(y),
                (PreRelease::Num(_), PreRelease::Str(_)) => Ordering::Less,
                (PreRelease::Str(_), PreRelease::Num(_)) => Ordering::Greater,
            };
            if c != Ordering::Equal {
                return c;
            }
        }
        self.pre.len().cmp(&o.pre.len())
    }
}

/// blang's `splitAndTrim`: splits on spaces not preceded by `<`, `>`, `=`
/// (parts of a single character are dropped, as blang drops them).
fn semver_split_and_trim(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    let mut result = Vec::new();
    let mut last: isize = 0;
    let mut last_char = 0u8;
    for (i, &c) in b.iter().enumerate() {
        let i = i as isize;
        if c == b' ' && !matches!(last_char, b'>' | b'<' | b'=') {
            if last < i - 1 {
                result.push(String::from_utf8_lossy(&b[last as usize..i as usize]).into_owned());
            }
            last = i + 1;
        } else if c != b' ' {
            last_char = c;
        }
    }
    if last < b.len() as isize - 1 {
        result.push(String::from_utf8_lossy(&b[last as usize..]).into_owned());
    }
    result.into_iter().map(|p| p.replace(' ', "")).collect()
}

/// blang's `splitComparatorVersion`.
fn split_comparator_version(s: &str) -> Result<(String, String), String> {
    let i = s
        .char_indices()
        .find(|(_, c)| c.is_numeric())
        .map(|(i, _)| i)
        .ok_or_else(|| format!("Could not get version from string: {s:?}"))?;
    Ok((s[..i].trim().to_string(), s[i..].to_string()))
}

/// blang's `expandWildcardVersion`.
fn expand_wildcards(parts: Vec<Vec<String>>) -> Result<Vec<Vec<String>>, String> {
    let increment = |v: &str, index: usize| -> String {
        let mut ps: Vec<String> = v.split('.').map(str::to_string).collect();
        match ps.get(index).and_then(|p| p.parse::<i64>().ok()) {
            Some(n) => {
                ps[index] = (n + 1).to_string();
                ps.join(".")
            }
            None => String::new(),
        }
    };
    let mut expanded = Vec::with_capacity(parts.len());
    for p in parts {
        let mut new_parts = Vec::new();
        for ap in p {
            if !ap.contains('x') {
                new_parts.push(ap);
                continue;
            }
            let (op, v) = split_comparator_version(&ap)?;
            let segments: Vec<&str> = v.split('.').collect();
            // 2 segments: minor wildcard; 3: patch wildcard (when the last is `x`).
            let wildcard = if segments.last() == Some(&"x") {
                segments.len()
            } else {
                0
            };
            let flat = {
                let f = v.replacen(".x.x", ".x", 1).replacen(".x", ".0", 1);
                if f.split('.').count() == 2 {
                    format!("{f}.0")
                } else {
                    f
                }
            };
            let (result_op, should_increment) = match op.as_str() {
                ">" => (">=", true),
                ">=" => (">=", false),
                "<" => ("<", false),
                "<=" => ("<", true),
                "" | "=" | "==" => {
                    new_parts.push(format!(">={flat}"));
                    ("<", true)
                }
                "!=" | "!" => {
                    new_parts.push(format!("<{flat}"));
                    (">=", true)
                }
                _ => ("", false),
            };
            let version = if should_increment {
                match wildcard {
                    3 => increment(&flat, 1),
                    2 => increment(&flat, 0),
                    _ => String::new(),
                }
            } else {
                flat
            };
            new_parts.push(format!("{result_op}{version}"));
        }
        expanded.push(new_parts);
    }
    Ok(expanded)
}

/// `semver.ParseRange(r)(v)`.
fn semver_in_range(version: &SemVer, range: &str) -> Result<bool, String> {
    let parts = semver_split_and_trim(range);
    let mut or_parts: Vec<Vec<String>> = Vec::new();
    let mut last = 0;
    for (i, p) in parts.iter().enumerate() {
        if p == "||" {
            if i == 0 {
                return Err("First element in range is '||'".to_string());
            }
            or_parts.push(parts[last..i].to_vec());
            last = i + 1;
        }
    }
    if last == parts.len() {
        return Err("Last element in range is '||'".to_string());
    }
    or_parts.push(parts[last..].to_vec());
    let expanded = expand_wildcards(or_parts)?;
    // Build every comparator first: a later parse error fails the range.
    let mut alternatives = Vec::with_capacity(expanded.len());
    for and_parts in &expanded {
        let mut all = Vec::with_capacity(and_parts.len());
        for ap in and_parts {
            let (op, v) = split_comparator_version(ap)?;
            let accept: fn(std::cmp::Ordering) -> bool = match op.as_str() {
                "" | "=" | "==" => |o| o.is_eq(),
                "!" | "!=" => |o| o.is_ne(),
                ">" => |o| o.is_gt(),
                ">=" => |o| o.is_ge(),
                "<" => |o| o.is_lt(),
                "<=" => |o| o.is_le(),
                _ => {
                    return Err(format!(
                        "Could not parse comparator {op:?} in {:?}",
                        format!("{op}{v}")
                    ));
                }
            };
            let bound = SemVer::parse(&v).map_err(|e| {
                format!(
                    "Could not parse Range {ap:?}: Could not parse version {v:?} in {:?}: {e}",
                    format!("{op}{v}")
                )
            })?;
            all.push((accept, bound));
        }
        alternatives.push(all);
    }
    Ok(alternatives.iter().any(|all| {
        all.iter()
            .all(|(accept, bound)| accept(version.compare(bound)))
    }))
}

fn jp_semver_compare(args: &[Rcvar]) -> Result<Rcvar, String> {
    let v = arg_str("semver_compare", args, 0)?;
    let r = arg_str("semver_compare", args, 1)?;
    // Kyverno ignores a version that does not parse (it compares 0.0.0).
    let version = SemVer::parse(v).unwrap_or_default();
    semver_in_range(&version, r).map(boolean)
}

// ---------------------------------------------------------------------------
// URLs (net/url) and addresses (net.IP)
// ---------------------------------------------------------------------------

fn valid_optional_port(port: &str) -> bool {
    port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// Go's `url.Parse(s).Hostname()`.
fn url_hostname(raw: &str) -> Result<String, String> {
    let parse_err = |msg: String| format!("parse {raw:?}: {msg}");
    if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(parse_err(
            "net/url: invalid control character in URL".to_string(),
        ));
    }
    let without_fragment = raw.split_once('#').map_or(raw, |(u, _)| u);
    if without_fragment == "*" {
        return Ok(String::new());
    }
    // The scheme.
    let mut scheme = "";
    let mut rest = without_fragment;
    for (i, c) in without_fragment.bytes().enumerate() {
        if c.is_ascii_alphabetic() {
            continue;
        }
        if c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.') {
            if i == 0 {
                break;
            }
            continue;
        }
        if c == b':' {
            if i == 0 {
                return Err(parse_err("missing protocol scheme".to_string()));
            }
            scheme = &without_fragment[..i];
            rest = &without_fragment[i + 1..];
        }
        break;
    }
    let rest = if rest.ends_with('?') && rest.matches('?').count() == 1 {
        &rest[..rest.len() - 1]
    } else {
        rest.split_once('?').map_or(rest, |(r, _)| r)
    };
    if !rest.starts_with('/') {
        if !scheme.is_empty() {
            return Ok(String::new());
        }
        let segment = rest.split_once('/').map_or(rest, |(s, _)| s);
        if segment.contains(':') {
            return Err(parse_err(
                "first path segment in URL cannot contain colon".to_string(),
            ));
        }
    }
    if !((!scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//")) {
        return Ok(String::new());
    }
    let authority = &rest[2..];
    let authority = authority.split_once('/').map_or(authority, |(a, _)| a);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    // parseHost.
    if let Some(inner) = host.strip_prefix('[') {
        let Some(close) = inner.rfind(']') else {
            return Err(parse_err("missing ']' in host".to_string()));
        };
        let port = &inner[close + 1..];
        if !valid_optional_port(port) {
            return Err(parse_err(format!("invalid port {port:?} after host")));
        }
    } else if let Some(i) = host.rfind(':') {
        let port = &host[i..];
        if !valid_optional_port(port) {
            return Err(parse_err(format!("invalid port {port:?} after host")));
        }
    }
    let host = unescape_host(host).map_err(parse_err)?;
    // Hostname(): strip the port, then brackets.
    let mut name = host.as_str();
    if let Some(colon) = name.rfind(':')
        && valid_optional_port(&name[colon..])
    {
        name = &name[..colon];
    }
    if name.starts_with('[') && name.ends_with(']') && name.len() >= 2 {
        name = &name[1..name.len() - 1];
    }
    Ok(name.to_string())
}

/// `unescape(host, encodeHost)`.
fn unescape_host(host: &str) -> Result<String, String> {
    let b = host.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            let hex_at = |j: usize| b.get(j).and_then(|h| (*h as char).to_digit(16));
            match (hex_at(i + 1), hex_at(i + 2)) {
                (Some(h), Some(l)) => {
                    if h < 8 && &b[i..i + 3] != b"%25" {
                        return Err(format!(
                            "invalid URL escape {:?}",
                            String::from_utf8_lossy(&b[i..i + 3])
                        ));
                    }
                    out.push((h * 16 + l) as u8);
                    i += 3;
                }
                _ => {
                    let end = (i + 3).min(b.len());
                    return Err(format!(
                        "invalid URL escape {:?}",
                        String::from_utf8_lossy(&b[i..end])
                    ));
                }
            }
            continue;
        }
        let allowed =
            c >= 0x80 || c.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:[]<>\"".contains(&c);
        if !allowed {
            return Err(format!(
                "invalid character {:?} in host name",
                (c as char).to_string()
            ));
        }
        out.push(c);
        i += 1;
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn ip_is_internal(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    let ip = match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private(),
        IpAddr::V6(v6) => v6.is_loopback() || (v6.octets()[0] & 0xfe) == 0xfc,
    }
}

fn jp_is_external_url(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("is_external_url", args, 0)?;
    let host = url_hostname(s)?;
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(boolean(!ip_is_internal(ip)));
    }
    let lower = host.to_ascii_lowercase();
    if lower == "localhost" || lower.ends_with(".localhost") {
        return Ok(boolean(false));
    }
    Err(generic(
        "is_external_url",
        &format!(
            "lookup {host}: host names cannot be resolved offline (DNS is not available to the engine)"
        ),
    ))
}

// ---------------------------------------------------------------------------
// X.509 (x509_decode)
// ---------------------------------------------------------------------------

fn jp_x509_decode(args: &[Rcvar]) -> Result<Rcvar, String> {
    let _ = arg_str("x509_decode", args, 0)?;
    Err(generic("x509_decode", "not supported"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// 2023-11-14T22:13:20Z.
    const CLOCK: i64 = 1_700_000_000;

    fn qd(expr: &str, data: &Value) -> Value {
        search(expr, data, Some(CLOCK)).unwrap_or_else(|e| panic!("{expr}: {e}"))
    }

    /// Evaluates against `""`, as Kyverno's tests do (a multi-select list
    /// over `null` is `null`).
    fn q(expr: &str) -> Value {
        qd(expr, &json!(""))
    }

    fn qe_with(expr: &str, data: &Value, now: Option<i64>) -> String {
        match search(expr, data, now) {
            Err(QueryError::Failed { reason, .. }) => reason,
            other => panic!("{expr}: expected a failure, got {other:?}"),
        }
    }

    fn qe(expr: &str) -> String {
        qe_with(expr, &json!(""), Some(CLOCK))
    }

    fn table(cases: &[(&str, Value)]) {
        for (expr, want) in cases {
            assert_eq!(q(expr), *want, "{expr}");
        }
    }

    fn fails(exprs: &[&str]) {
        for expr in exprs {
            let _ = qe(expr);
        }
    }

    // -- validate -----------------------------------------------------------

    #[test]
    fn validate_accepts_known_functions_anywhere() {
        for expr in [
            "to_upper(name)",
            "items[?label_match(`{\"a\":\"b\"}`, metadata.labels)] | length(@)",
            "sort_by(items, &to_string(add(`1`, `2`)))",
            "merge(`{}`, `{}`, `{}`)",
            "not_null(a, b, c)",
            "{a: time_now(), b: [sha256('x'), md5('y')]}",
            "sum([`1`])",
        ] {
            validate(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
        }
    }

    #[test]
    fn validate_rejects_unknown_functions_and_bad_arity() {
        let reason = |expr: &str| match validate(expr) {
            Err(QueryError::Invalid { reason, .. }) => reason,
            other => panic!("{expr}: {other:?}"),
        };
        assert_eq!(reason("lower(name)"), "unknown function: lower()");
        assert_eq!(
            reason("a[?no_such_fn(@)]"),
            "unknown function: no_such_fn()"
        );
        assert_eq!(reason("sort_by(x, &nope(@))"), "unknown function: nope()");
        assert_eq!(
            reason("to_upper('a', 'b')"),
            "function to_upper() takes 1 argument(s), 2 given"
        );
        assert_eq!(
            reason("time_now(@)"),
            "function time_now() takes 0 argument(s), 1 given"
        );
        assert_eq!(
            reason("length()"),
            "function length() takes 1 argument(s), 0 given"
        );
        assert_eq!(
            reason("merge()"),
            "function merge() takes at least 1 argument(s), 0 given"
        );
        assert!(reason("foo[").contains("Parse error"));
        // At run time too.
        assert!(qe("lower('A')").contains("lower"));
    }

    // -- strings --------------------------------------------------------------

    #[test]
    fn compare_and_equal_fold() {
        table(&[
            ("compare('a', 'a')", json!(0)),
            ("compare('a', 'b')", json!(-1)),
            ("compare('b', 'a')", json!(1)),
            ("equal_fold('Go', 'go')", json!(true)),
            ("equal_fold('a', 'b')", json!(false)),
            ("equal_fold('1', 'b')", json!(false)),
            ("equal_fold('pizza', 'pIzZa')", json!(true)),
            ("equal_fold('pizza', 'APPLE')", json!(false)),
            ("equal_fold('ΣΑΣ', 'σας')", json!(true)),
            ("equal_fold('Straße', 'STRASSE')", json!(false)),
        ]);
        assert_eq!(
            qe("compare(`1`, 'b')"),
            "JMESPath function 'compare': argument #1 is not of type string"
        );
        assert_eq!(
            qe("equal_fold('a', `1`)"),
            "JMESPath function 'equal_fold': argument #2 is not of type string"
        );
    }

    #[test]
    fn replace_and_replace_all() {
        table(&[
            (
                "replace('Lorem ipsum dolor sit amet', 'ipsum', 'muspi', `-1`)",
                json!("Lorem muspi dolor sit amet"),
            ),
            (
                "replace('Lorem ipsum ipsum ipsum dolor sit amet', 'ipsum', 'muspi', `-1`)",
                json!("Lorem muspi muspi muspi dolor sit amet"),
            ),
            (
                "replace('Lorem ipsum ipsum ipsum dolor sit amet', 'ipsum', 'muspi', `1`)",
                json!("Lorem muspi ipsum ipsum dolor sit amet"),
            ),
            (
                "replace('Lorem ipsum dolor sit amet foo ipsum bar ipsum', 'ipsum', 'muspi', `2`)",
                json!("Lorem muspi dolor sit amet foo muspi bar ipsum"),
            ),
            ("replace('aaa', 'a', 'b', `0`)", json!("aaa")),
            ("replace('abc', '', '-', `-1`)", json!("-a-b-c-")),
            ("replace('abc', '', '-', `2`)", json!("-a-bc")),
            (
                "replace_all('Lorem ipsum dolor sit amet', 'ipsum', 'muspi')",
                json!("Lorem muspi dolor sit amet"),
            ),
            (
                "replace_all('Lorem ipsum ipsum ipsum dolor sit amet', 'ipsum', 'muspi')",
                json!("Lorem muspi muspi muspi dolor sit amet"),
            ),
        ]);
        fails(&[
            "replace(`1`, 'ipsum', 'muspi', `1`)",
            "replace('Lorem', `1`, 'muspi', `1`)",
            "replace('Lorem', 'ipsum', `false`, `1`)",
            "replace('Lorem', 'ipsum', 'muspi', `true`)",
            "replace_all(`1`, 'ipsum', 'muspi')",
            "replace_all('Lorem', 'ipsum', `false`)",
        ]);
    }

    #[test]
    fn case_trim_split() {
        table(&[
            ("to_upper('abc')", json!("ABC")),
            ("to_upper('123')", json!("123")),
            ("to_upper('a#%&123Bc')", json!("A#%&123BC")),
            ("to_upper('straße')", json!("STRAßE")),
            ("to_lower('ABC')", json!("abc")),
            ("to_lower('123')", json!("123")),
            ("to_lower('A#%&123BC')", json!("a#%&123bc")),
            (
                "trim('¡¡¡Hello, Gophers!!!', '!¡')",
                json!("Hello, Gophers"),
            ),
            ("trim('foocorpcom', 'mo')", json!("foocorpc")),
            ("trim('foocorpcom', 'o')", json!("foocorpcom")),
            ("trim('foocorpcom', 'mcof')", json!("rp")),
            ("trim('abc', '')", json!("abc")),
            (
                "trim_prefix('¡¡¡Hello, Gophers!!!', '¡¡¡Hello, ')",
                json!("Gophers!!!"),
            ),
            (
                "trim_prefix('¡¡¡Hello, Gophers!!!', '¡¡¡Hola, ')",
                json!("¡¡¡Hello, Gophers!!!"),
            ),
            (
                "trim_prefix('docker://kubevirt/fedora-cloud-registry-disk-demo', 'docker://')",
                json!("kubevirt/fedora-cloud-registry-disk-demo"),
            ),
            ("split('Hello, Gophers', ', ')", json!(["Hello", "Gophers"])),
            (
                "split('cat,dog,horse', ',')",
                json!(["cat", "dog", "horse"]),
            ),
            ("split('', ',')", json!([""])),
            ("split('añb', '')", json!(["a", "ñ", "b"])),
            ("split('', '')", json!([])),
            ("split('/foo/bar', '/') | [1]", json!("foo")),
            ("starts_with('Gophers', 'Go')", json!(true)),
            ("ends_with('Amigo', 'go')", json!(true)),
        ]);
        fails(&[
            "to_upper(`32`)",
            "to_lower(`32`)",
            "trim_prefix(`1`, 'a')",
            "trim_prefix('a', `1`)",
        ]);
    }

    #[test]
    fn regex_and_pattern_match() {
        let data = json!({"foo": "hgf'b1a2r'b12g", "num": -12.0, "name": "prefix-foo"});
        assert_eq!(qd("regex_match('12.*', foo)", &data), json!(true));
        assert_eq!(qd("regex_match('12.*', abs(num))", &data), json!(true));
        assert_eq!(qd("pattern_match('prefix-*', name)", &data), json!(true));
        assert_eq!(qd("pattern_match('12*', abs(num))", &data), json!(true));
        table(&[
            ("regex_match('^[1-7]$', `1`)", json!(true)),
            ("regex_match('^[1-7]$', '1')", json!(true)),
            ("regex_match('^[1-7]$', '8')", json!(false)),
            ("regex_match('^1.5$', `1.5`)", json!(true)),
            ("pattern_match('158-7?-4*', '158-73-417')", json!(true)),
            ("pattern_match('158-6?-3*', '158-73-417')", json!(false)),
            ("pattern_match('a?c', 'abc')", json!(true)),
            ("pattern_match('a*', `1`)", json!(false)),
        ]);
        assert_eq!(
            qe("pattern_match('a', `[]`)"),
            "JMESPath function 'pattern_match': argument #2 is not of type string or number"
        );
        assert!(!qe("regex_match('(', 'a')").is_empty());
    }

    #[test]
    fn regex_replace() {
        let data = json!({"spec": {"field": "Hello world, helworldlo"}});
        assert_eq!(
            qd(
                "regex_replace_all('([Hh]e|G)l', spec.field, '${2}G')",
                &data
            ),
            json!("Glo world, Gworldlo")
        );
        assert_eq!(
            qd(
                "regex_replace_all_literal('[Hh]el?', spec.field, 'G')",
                &data
            ),
            json!("Glo world, Gworldlo")
        );
        table(&[
            (
                "regex_replace_all('([0-9])([0-9])', 'hello im 42 months old', '${1}1')",
                json!("hello im 41 months old"),
            ),
            (
                "regex_replace_all('^(\\d{3}-?\\d{2}-?\\d{4})$', '123-45-6789', 'redacted')",
                json!("redacted"),
            ),
            (
                "regex_replace_all_literal('^(\\d{3}-?\\d{2}-?\\d{4})$', '123-45-6789', 'redacted')",
                json!("redacted"),
            ),
            (
                "regex_replace_all('([0-9])([0-9])', 'days_37', '${1}0')",
                json!("days_30"),
            ),
            ("regex_replace_all('a', 'banana', '$$')", json!("b$n$n$")),
            (
                "regex_replace_all_literal('a', 'banana', '$1')",
                json!("b$1n$1n$1"),
            ),
            ("regex_replace_all('1', `21`, `3`)", json!("23")),
            ("regex_replace_all('a*', 'baaac', '-')", json!("-b-c-")),
        ]);
        assert!(
            qe("regex_replace_all('(', 'a', 'b')")
                .starts_with("JMESPath function 'regex_replace_all': ")
        );
        assert_eq!(
            qe("regex_replace_all('a', `[]`, 'b')"),
            "JMESPath function 'regex_replace_all': argument #2 is not of type string or number"
        );
    }

    #[test]
    fn label_match() {
        let data = json!({"metadata": {"labels": {"app": "test-app", "controller-name": "test-controller"}}});
        for (labels, want) in [
            (r#"{ "app": "test-app" }"#, true),
            (
                r#"{ "app": "test-app", "controller-name": "test-controller" }"#,
                true,
            ),
            (r#"{ "app": "test-app2" }"#, false),
            (r#"{ "app.kubernetes.io/name": "test-app" }"#, false),
            ("{}", true),
        ] {
            let expr = format!("label_match(`{labels}`, metadata.labels)");
            assert_eq!(qd(&expr, &data), json!(want), "{expr}");
        }
        let nested = json!({"metadata": {"labels": {
            "app": "test-app",
            "annotations": {"test": "test"},
            "ownerReferences": [{"name": "test"}]
        }}});
        assert_eq!(
            qd(
                r#"label_match(`{ "app": "test-app", "annotations": { "test": "test" } }`, metadata.labels)"#,
                &nested
            ),
            json!(true)
        );
        table(&[
            (
                r#"label_match(`{"dog":"lab","color":"tan"}`, `{"color":"tan","dog":"lab"}`)"#,
                json!(true),
            ),
            (
                r#"label_match(`{"dog":"lab","color":"tan"}`, `{"color":"tan","weight":"chonky","dog":"lab"}`)"#,
                json!(true),
            ),
            (
                r#"label_match(`{"dog":"lab","color":"tan"}`, `{"color":"black","dog":"lab"}`)"#,
                json!(false),
            ),
            (r#"label_match(`{"n":1}`, `{"n":1.0}`)"#, json!(true)),
            (r#"label_match(`{"n":1}`, `{"n":"1"}`)"#, json!(false)),
        ]);
    }

    #[test]
    fn to_boolean() {
        table(&[
            ("to_boolean('true')", json!(true)),
            ("to_boolean('TRue')", json!(true)),
            ("to_boolean('FaLse')", json!(false)),
            ("to_boolean('false')", json!(false)),
        ]);
        assert_eq!(
            qe("to_boolean('FaLsee')"),
            "JMESPath function 'to_boolean': lowercase argument must be 'true' or 'false' (provided: 'FaLsee')"
        );
        fails(&["to_boolean('foo')", "to_boolean(`1`)", "to_boolean(`null`)"]);
    }

    #[test]
    fn base64() {
        table(&[
            (
                "base64_decode('SGVsbG8sIHdvcmxkIQ==')",
                json!("Hello, world!"),
            ),
            (
                "base64_encode('Hello, world!')",
                json!("SGVsbG8sIHdvcmxkIQ=="),
            ),
            (
                "base64_decode('SGVsbG8s\nIHdvcmxkIQ==')",
                json!("Hello, world!"),
            ),
            ("base64_decode('')", json!("")),
            ("base64_encode('')", json!("")),
            ("base64_decode('YQ==')", json!("a")),
            // Go does not check the trailing bits.
            ("base64_decode('YR==')", json!("a")),
            ("base64_decode(base64_encode('ünï'))", json!("ünï")),
        ]);
        let secret = json!({"data": {"example1": "SGVsbG8sIHdvcmxkIQ==", "example2": "Rm9vQmFy"}});
        assert_eq!(
            qd("base64_decode(data.example1)", &secret),
            json!("Hello, world!")
        );
        assert_eq!(qd("base64_decode(data.example2)", &secret), json!("FooBar"));
        assert_eq!(
            qe("base64_decode('YQ')"),
            "illegal base64 data at input byte 2"
        );
        assert_eq!(
            qe("base64_decode('Y!==')"),
            "illegal base64 data at input byte 1"
        );
        assert_eq!(
            qe("base64_decode(`123`)"),
            "JMESPath function 'base64_decode': argument #1 is not of type string"
        );
        assert_eq!(
            qe("base64_encode(`123`)"),
            "JMESPath function 'base64_encode': argument #1 is not of type string"
        );
    }

    #[test]
    fn path_canonicalize() {
        table(&[
            ("path_canonicalize('///')", json!("/")),
            (
                "path_canonicalize('///var/run/containerd/containerd.sock')",
                json!("/var/run/containerd/containerd.sock"),
            ),
            (
                "path_canonicalize('/var/run///containerd/containerd.sock')",
                json!("/var/run/containerd/containerd.sock"),
            ),
            (
                "path_canonicalize('/var/run///containerd////')",
                json!("/var/run/containerd"),
            ),
            ("path_canonicalize('/run///')", json!("/run")),
            ("path_canonicalize('/run/../etc')", json!("/etc")),
            ("path_canonicalize('///etc*')", json!("/etc*")),
            ("path_canonicalize('/../../')", json!("/")),
            (
                "path_canonicalize('/var//lib///kubelet')",
                json!("/var/lib/kubelet"),
            ),
            ("path_canonicalize('a/../../b')", json!("../b")),
            ("path_canonicalize('./a/./b/')", json!("a/b")),
            ("path_canonicalize('a/..')", json!(".")),
            ("path_canonicalize('')", json!("")),
            ("path_canonicalize('/a/b/../../..')", json!("/")),
            ("path_canonicalize('../../a/b/..')", json!("../../a")),
        ]);
    }

    #[test]
    fn truncate() {
        table(&[
            (
                "truncate('Lorem ipsum dolor sit amet', `5`)",
                json!("Lorem"),
            ),
            (
                "truncate('Lorem ipsum ipsum ipsum dolor sit amet', `11`)",
                json!("Lorem ipsum"),
            ),
            (
                "truncate('Lorem ipsum ipsum ipsum dolor sit amet', `40`)",
                json!("Lorem ipsum ipsum ipsum dolor sit amet"),
            ),
            ("truncate('Lorem ipsum', `2.6`)", json!("Lo")),
            ("truncate('Lorem ipsum', `0`)", json!("")),
            ("truncate('Lorem ipsum', `-1`)", json!("")),
            ("truncate('ñañaña', `3`)", json!("ñañ")),
            ("truncate('foobar', `1e300`)", json!("foobar")),
        ]);
    }

    #[test]
    fn semver_compare() {
        table(&[
            ("semver_compare('4.1.3', '>=4.1.x')", json!(true)),
            // blang expands `!4.x.x` to `<4.0.0 >=4.1.0`, which nothing matches.
            ("semver_compare('4.1.3', '!4.x.x')", json!(false)),
            ("semver_compare('5.0.0', '!4.x.x')", json!(false)),
            ("semver_compare('1.8.6', '>1.0.0 <2.0.0')", json!(true)),
            ("semver_compare('2.1.5', '<2.0.0 || >=3.0.0')", json!(false)),
            ("semver_compare('3.1.5', '<2.0.0 || >=3.0.0')", json!(true)),
            ("semver_compare('1.2.3', '1.2.4')", json!(false)),
            ("semver_compare('1.2.3', '1.2.3')", json!(true)),
            ("semver_compare('1.2.3', '=1.2.3')", json!(true)),
            ("semver_compare('1.2.3', '==1.2.3')", json!(true)),
            ("semver_compare('1.2.3', '!=1.2.3')", json!(false)),
            ("semver_compare('1.2.3', '> 1.0.0')", json!(true)),
            ("semver_compare('1.2.3', '1.2.x')", json!(true)),
            ("semver_compare('1.3.0', '1.2.x')", json!(false)),
            ("semver_compare('1.9.0', '1.x')", json!(true)),
            ("semver_compare('2.0.0', '<=1.x')", json!(false)),
            ("semver_compare('1.99.0', '<=1.x')", json!(true)),
            ("semver_compare('1.3.0', '>1.2.x')", json!(true)),
            ("semver_compare('1.2.9', '>1.2.x')", json!(false)),
            ("semver_compare('1.0.0-alpha', '<1.0.0')", json!(true)),
            (
                "semver_compare('1.0.0-alpha.1', '>1.0.0-alpha')",
                json!(true),
            ),
            (
                "semver_compare('1.0.0-alpha.beta', '>1.0.0-alpha.1')",
                json!(true),
            ),
            ("semver_compare('1.0.0-2', '<1.0.0-10')", json!(true)),
            ("semver_compare('1.0.0+build.1', '1.0.0')", json!(true)),
            // A version that does not parse is 0.0.0 to Kyverno.
            ("semver_compare('v1.2.3', '>=1.0.0')", json!(false)),
            ("semver_compare('1.2', '<0.0.1')", json!(true)),
        ]);
        assert_eq!(
            qe("semver_compare('1.0.0', '>=1.0')"),
            "Could not parse Range \">=1.0\": Could not parse version \"1.0\" in \">=1.0\": No Major.Minor.Patch elements found"
        );
        assert_eq!(
            qe("semver_compare('1.0.0', '|| >1.0.0')"),
            "First element in range is '||'"
        );
        assert_eq!(
            qe("semver_compare('1.0.0', '>1.0.0 ||')"),
            "Last element in range is '||'"
        );
        assert!(qe("semver_compare('1.0.0', 'abc')").contains("Could not get version"));
        assert!(qe("semver_compare('1.0.0', '~1.0.0')").contains("Could not parse comparator"));
        assert!(qe("semver_compare('1.0.0', '>=01.0.0')").contains("leading zeroes"));
    }

    #[test]
    fn parse_json() {
        for doc in [
            r#"{"a":"b"}"#,
            "true",
            r#"[1,2,3,{"a":"b"}]"#,
            "null",
            "[]",
            "{}",
            "0",
            "1.2",
            r#"[1.2,true,{"a":{"a":"b"}}]"#,
        ] {
            assert_eq!(
                q(&format!("to_string(parse_json('{doc}'))")),
                json!(doc),
                "{doc}"
            );
        }
        table(&[
            (r#"parse_json('{"a": "b"}').a"#, json!("b")),
            (r#"parse_json('{"a": [1, 2, 3, 4]}').a[0]"#, json!(1)),
            (
                r#"parse_json('[1, 2, {"a": {"b": {"c": [1, 2]}}}]')[2].a.b.c[1]"#,
                json!(2),
            ),
            (
                r#"parse_json('["1001","1002"]')[*].to_number(@)"#,
                json!([1001, 1002]),
            ),
        ]);
        fails(&["parse_json('{')", "parse_json('1 2')", "parse_json('')"]);
    }

    #[test]
    fn parse_yaml() {
        let yaml = |text: &str| {
            search("parse_yaml(doc)", &json!({ "doc": text }), None)
                .unwrap_or_else(|e| panic!("{text}: {e}"))
        };
        assert_eq!(yaml("a: b"), json!({"a": "b"}));
        assert_eq!(
            yaml("\n- 1\n- 2\n- 3\n- a: b"),
            json!([1, 2, 3, {"a": "b"}])
        );
        assert_eq!(
            yaml("\nspec:\n  test: 1\n  test2:\n    - 2\n    - 3\n"),
            json!({"spec": {"test": 1, "test2": [2, 3]}})
        );
        assert_eq!(
            yaml(
                "\nbar: >\n  this is not a normal string it\n  spans more than\n  one line\n  see?\n"
            ),
            json!({"bar": "this is not a normal string it spans more than one line see?\n"})
        );
        assert_eq!(
            yaml("\n---\nfoo: ~\nbar: null\n"),
            json!({"bar": null, "foo": null})
        );
        assert_eq!(yaml("a: 1\n---\nb: 2\n"), json!({"a": 1}));
        assert_eq!(yaml(""), json!(null));
        let pod = json!({"metadata": {"annotations": {"pets": "species:\n  dog: lab\n  name: dory\n  color: black\n  height: 15\n  isGoodBoi: false\n  snacks:\n  - chimken\n  - fries\n  - pizza"}}});
        assert_eq!(
            qd(
                "metadata.annotations.pets | parse_yaml(@).species.isGoodBoi",
                &pod
            ),
            json!(false)
        );
        assert!(qe_with("parse_yaml(doc)", &json!({"doc": "a: [1"}), None).contains("YAML"));
    }

    #[test]
    fn lookup() {
        for (collection, key, want) in [
            ("{}", r#""key1""#, json!(null)),
            (r#"{"key1": "value1"}"#, r#""key2""#, json!(null)),
            (r#"{"key1": "value1"}"#, r#""key1""#, json!("value1")),
            (r#"{"": "value1"}"#, r#""""#, json!("value1")),
            (r#"{"k": 123}"#, r#""k""#, json!(123)),
            (r#"{"k": 12.34}"#, r#""k""#, json!(12.34)),
            (r#"{"k": true}"#, r#""k""#, json!(true)),
            (r#"{"k": false}"#, r#""k""#, json!(false)),
            (r#"{"k": null}"#, r#""k""#, json!(null)),
            (
                r#"{"k":  [7, "x", true] }"#,
                r#""k""#,
                json!([7, "x", true]),
            ),
            (r#"{"k": {"key1":true}}"#, r#""k""#, json!({"key1": true})),
            ("[]", "0", json!(null)),
            (r#"["item0"]"#, "-1", json!(null)),
            (r#"["item0"]"#, "1", json!(null)),
            (r#"["item0"]"#, "0", json!("item0")),
            (
                r#"["item0", "item1", "item2", "item3"]"#,
                "2",
                json!("item2"),
            ),
            (
                r#"["item0", "item1"]"#,
                "0.99999999999999999999999999999999999999999999",
                json!("item1"),
            ),
            ("[123]", "0", json!(123)),
            ("[12.34]", "0", json!(12.34)),
            ("[true]", "0", json!(true)),
            ("[false]", "0", json!(false)),
            ("[null]", "0", json!(null)),
            (r#"[ [7, "x", true] ]"#, "0", json!([7, "x", true])),
            (r#"[{"key1":true}]"#, "0", json!({"key1": true})),
        ] {
            let expr = format!("lookup(`{collection}`,`{key}`)");
            assert_eq!(q(&expr), want, "{expr}");
        }
        assert_eq!(
            qe("lookup(`{}`,`123`)"),
            "JMESPath function 'lookup': argument #2 is not of type String"
        );
        assert_eq!(
            qe(r#"lookup(`[]`,`"abc"`)"#),
            "JMESPath function 'lookup': argument #2 is not of type Number"
        );
        assert_eq!(
            qe("lookup(`[]`,`1.5`)"),
            "JMESPath function 'lookup': argument #2: expected an integer number but got: 1.5"
        );
        let data = json!({"metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/c1": "unconfined"}},
            "spec": {"containers": [{"name": "c1"}, {"name": "c2"}]}});
        assert_eq!(
            qd(
                "spec.containers[?(lookup(`{\"container.apparmor.security.beta.kubernetes.io/c1\": \"unconfined\"}`, join('', ['container.apparmor.security.beta.kubernetes.io/', name])) || 'runtime/default') != 'runtime/default'].name",
                &data
            ),
            json!(["c1"])
        );
    }

    #[test]
    fn items_and_object_from_lists() {
        table(&[
            (
                r#"items(`{ "key1": "value1" }`, 'key', 'value')"#,
                json!([{"key": "key1", "value": "value1"}]),
            ),
            (
                r#"items(`{ "key2": "value2", "key1": "value1" }`, 'key', 'value')"#,
                json!([{"key": "key1", "value": "value1"}, {"key": "key2", "value": "value2"}]),
            ),
            (
                r#"items(`{ "key1": "value1", "key2": "value2" }`, 'myKey', 'myValue')"#,
                json!([{"myKey": "key1", "myValue": "value1"}, {"myKey": "key2", "myValue": "value2"}]),
            ),
            (
                r#"items(`["A", "B", "C"]`, 'myKey', 'myValue')"#,
                json!([{"myKey": 0, "myValue": "A"}, {"myKey": 1, "myValue": "B"}, {"myKey": 2, "myValue": "C"}]),
            ),
            (r#"items(`{"a": 1}`, 'k', 'k')"#, json!([{"k": 1}])),
            (
                r#"object_from_lists(`["key1", "key2"]`, `["1", "2"]`)"#,
                json!({"key1": "1", "key2": "2"}),
            ),
            (
                r#"object_from_lists(`["key1", "key2"]`, `[1, "2"]`)"#,
                json!({"key1": 1, "key2": "2"}),
            ),
            (
                r#"object_from_lists(`["key1", "key2"]`, `[1]`)"#,
                json!({"key1": 1, "key2": null}),
            ),
            (
                r#"object_from_lists(`[1, true, 2.5]`, `["a", "b", "c"]`)"#,
                json!({"1": "a", "true": "b", "2.5": "c"}),
            ),
            (
                r#"object_from_lists(`["a", "a"]`, `[1, 2]`)"#,
                json!({"a": 2}),
            ),
        ]);
        let pod = json!({"spec": {"containers": [
            {"env": [{"name": "KEY", "value": "123-456-789"}, {"name": "ENDPOINT", "value": "licensing.corp.org"}]},
            {"env": [{"name": "ZONE", "value": "fl-west-03"}]}
        ]}});
        assert_eq!(
            qd(
                "object_from_lists(spec.containers[].env[].name, spec.containers[].env[].value)",
                &pod
            ),
            json!({"KEY": "123-456-789", "ENDPOINT": "licensing.corp.org", "ZONE": "fl-west-03"})
        );
        assert_eq!(
            qe("object_from_lists(`[null]`, `[1]`)"),
            "JMESPath function 'object_from_lists': argument #1 is not of type StringArray"
        );
        fails(&["items(`1`, 'k', 'v')", "items(`{}`, `1`, 'v')"]);
    }

    // -- arithmetic -----------------------------------------------------------

    #[test]
    fn add() {
        table(&[
            ("add(`12`, `13`)", json!(25)),
            ("add(`1.5`, `1`)", json!(2.5)),
            ("add('12Ki', '13Ki')", json!("25Ki")),
            ("add('12Ki', '13')", json!("12301")),
            ("add('12s', '13s')", json!("25s")),
            ("add('1h', '30s')", json!("1h0m30s")),
            ("add('1h', '1m0s')", json!("1h1m0s")),
            ("add('1m', '1m')", json!("2m")),
            ("add('100Mi', '100Mi')", json!("200Mi")),
            ("add('1.5', '0')", json!("1500m")),
            ("add('1.5Gi', '0')", json!("1536Mi")),
            ("add('0', '1.5Gi')", json!("1536Mi")),
            ("add('500m', '500m')", json!("1")),
            ("add('1k', '24')", json!("1024")),
            ("add('1e3', '1e3')", json!("2e3")),
            ("add('1', '-1')", json!("0")),
            ("add('-1h', '30s')", json!("-59m30s")),
        ]);
        for expr in [
            "add('12', '13s')",
            "add(`12`, '13Ki')",
            "add(`12`, '13')",
            "add('12Ki', '13s')",
            "add('12Ki', `13`)",
            "add('12s', `13`)",
            "add('12s', '13Ki')",
            "add('12s', '13')",
            // '30m' is 30 milli: a quantity.
            "add('1h', '30m')",
        ] {
            assert_eq!(
                qe(expr),
                "JMESPath function 'add': Types mismatch",
                "{expr}"
            );
        }
        assert_eq!(
            qe("add('foo', `1`)"),
            "JMESPath function 'add': invalid operand"
        );
        assert_eq!(
            qe("add(`true`, `1`)"),
            "JMESPath function 'add': invalid operand"
        );
        assert_eq!(
            qe("add(`1`, `null`)"),
            "JMESPath function 'add': invalid operand"
        );
    }

    #[test]
    fn sum() {
        table(&[
            ("sum([`12`])", json!(12)),
            ("sum([`12`, `13`, `1`, `4`])", json!(30)),
            ("sum([`12`, `13`])", json!(25)),
            ("sum(['12Ki'])", json!("12Ki")),
            ("sum(['12Ki', '13Ki', '1Ki', '4Ki'])", json!("30Ki")),
            ("sum(['12Ki', '13Ki'])", json!("25Ki")),
            ("sum(['12Ki', '13'])", json!("12301")),
            ("sum(['12s'])", json!("12s")),
            ("sum(['12s', '13s', '1s', '4s'])", json!("30s")),
            ("sum(['12s', '13s'])", json!("25s")),
            ("sum(['2Ki', '5Gi', '8Mi'])", json!("5251074Ki")),
            ("sum(['2h', '50s', '90s'])", json!("2h2m20s")),
            ("sum([`6`, `3`, `8`])", json!(17)),
            // A single element is returned as it is.
            ("sum(['1.5Gi'])", json!("1.5Gi")),
            ("sum(['foo'])", json!("foo")),
        ]);
        assert_eq!(
            qe("sum(`[]`)"),
            "JMESPath function 'sum': at least one element in the array is required"
        );
        // `[]` flattens the current node, here not an array: a type error.
        assert!(!qe("sum([])").is_empty());
        for expr in [
            "sum(['12', '13s'])",
            "sum([`12`, '13Ki'])",
            "sum([`12`, '13'])",
            "sum(['12Ki', '13s'])",
            "sum(['12Ki', `13`])",
            "sum(['12s', `13`])",
            "sum(['12s', '13Ki'])",
            "sum(['12s', '13'])",
        ] {
            assert_eq!(
                qe(expr),
                "JMESPath function 'sum': Types mismatch",
                "{expr}"
            );
        }
        let pod = json!({"spec": {"containers": [
            {"resources": {"requests": {"memory": "512Mi"}}},
            {"resources": {"requests": {"memory": "1Gi"}}}
        ]}});
        assert_eq!(
            qd("sum(spec.containers[].resources.requests.memory)", &pod),
            json!("1536Mi")
        );
    }

    #[test]
    fn subtract() {
        table(&[
            ("subtract(`12`, `13`)", json!(-1)),
            ("subtract('12Ki', '13Ki')", json!("-1Ki")),
            ("subtract('12Ki', '13')", json!("12275")),
            ("subtract('12s', '13s')", json!("-1s")),
            ("subtract('10Mi', '5Ki')", json!("10235Ki")),
            ("subtract('0', '1Ki')", json!("-1Ki")),
            ("subtract('1', '250m')", json!("750m")),
            ("subtract('1h', '1h')", json!("0s")),
        ]);
        for expr in [
            "subtract('12', '13s')",
            "subtract(`12`, '13Ki')",
            "subtract(`12`, '13')",
            "subtract('12Ki', '13s')",
            "subtract('12Ki', `13`)",
            "subtract('12s', `13`)",
            "subtract('12s', '13Ki')",
            "subtract('12s', '13')",
        ] {
            assert_eq!(
                qe(expr),
                "JMESPath function 'subtract': Types mismatch",
                "{expr}"
            );
        }
    }

    #[test]
    fn multiply() {
        table(&[
            ("multiply('12Ki', `2`)", json!("24Ki")),
            ("multiply('12s', `2`)", json!("24s")),
            ("multiply(`2.5`, `2.5`)", json!(6.25)),
            ("multiply(`2.5`, '12Ki')", json!("30Ki")),
            ("multiply(`2.5`, '12')", json!("30")),
            ("multiply(`2.5`, '40s')", json!("1m40s")),
            ("multiply(`3`, `2`)", json!(6)),
            ("multiply('100m', `3`)", json!("300m")),
            ("multiply('1Gi', `0.5`)", json!("512Mi")),
            ("multiply('1', `1000000`)", json!("1M")),
            ("multiply('1Ki', `0.1`)", json!("102400m")),
            ("multiply('1h', `0.5`)", json!("30m0s")),
            ("multiply('1', `0.000001`)", json!("1u")),
        ]);
        for expr in [
            "multiply('12Ki', '12Ki')",
            "multiply('12Ki', '12')",
            "multiply('12Ki', '12s')",
            "multiply('12s', '12Ki')",
            "multiply('12s', '12')",
            "multiply('12s', '12s')",
        ] {
            assert_eq!(
                qe(expr),
                "JMESPath function 'multiply': Types mismatch",
                "{expr}"
            );
        }
        assert_eq!(
            qe("multiply(`123`, `true`)"),
            "JMESPath function 'multiply': invalid operand"
        );
    }

    #[test]
    fn divide() {
        table(&[
            ("divide('256M', '256M')", json!(1)),
            ("divide('512M', '256M')", json!(2)),
            ("divide('8', '3')", json!(8.0 / 3.0)),
            ("divide('128M', '256M')", json!(0.5)),
            ("divide('12Ki', `3`)", json!("4Ki")),
            ("divide('12Ki', '2Ki')", json!(6)),
            ("divide('12Ki', '200')", json!(61.44)),
            ("divide('12s', `3`)", json!("4s")),
            ("divide('12s', '5s')", json!(2.4)),
            ("divide(`14`, `3`)", json!(4.666666666666667)),
            ("divide('10Mi', '5Ki')", json!(2048)),
            ("divide('1', `3`)", json!("0")),
            ("divide('1.000', `3`)", json!("333m")),
            ("divide('10', `4`)", json!("2")),
            ("divide('10', `2.5`)", json!("4")),
            ("divide('1Gi', `2`)", json!("512Mi")),
            ("divide('1h', `4`)", json!("15m0s")),
        ]);
        for expr in [
            "divide('12Ki', '2s')",
            "divide('12s', '4Ki')",
            "divide('12s', '4')",
            "divide(`14`, '5s')",
            "divide(`14`, '5Ki')",
            "divide(`14`, '5')",
        ] {
            assert_eq!(
                qe(expr),
                "JMESPath function 'divide': Types mismatch",
                "{expr}"
            );
        }
        for expr in [
            "divide(`14`, `0`)",
            "divide('4Ki', `0`)",
            "divide('4Ki', '0Ki')",
            "divide('4', `0`)",
            "divide('4', '0')",
            "divide('4s', `0`)",
            "divide('4s', '0s')",
        ] {
            assert_eq!(
                qe(expr),
                "JMESPath function 'divide': Zero divisor passed",
                "{expr}"
            );
        }
    }

    #[test]
    fn modulo() {
        table(&[
            ("modulo('12Ki', '5Ki')", json!("2Ki")),
            ("modulo('13s', '2s')", json!("1s")),
            ("modulo(`13`, `5`)", json!(3)),
            ("modulo(`10`, `3`)", json!(1)),
            ("modulo(`-7`, `3`)", json!(-1)),
            ("modulo('1Gi', '300Mi')", json!("124Mi")),
            ("modulo('10', '4')", json!("2")),
            ("modulo('90s', '1m0s')", json!("30s")),
        ]);
        for expr in [
            "modulo('12', '13s')",
            "modulo('12Ki', '13s')",
            "modulo('12Ki', `13`)",
            "modulo('13s', '12')",
            "modulo('13s', '12Ki')",
            "modulo('13s', `2`)",
            "modulo(`13`, '12')",
            "modulo(`13`, '12Ki')",
            "modulo(`13`, '5s')",
        ] {
            assert_eq!(
                qe(expr),
                "JMESPath function 'modulo': Types mismatch",
                "{expr}"
            );
        }
        for expr in [
            "modulo(`14`, `0`)",
            "modulo('4Ki', '0Ki')",
            "modulo('4', '0')",
            "modulo('4s', '0s')",
        ] {
            assert_eq!(
                qe(expr),
                "JMESPath function 'modulo': Zero divisor passed",
                "{expr}"
            );
        }
        // Types are checked before zero divisors.
        assert_eq!(
            qe("modulo('4Ki', `0`)"),
            "JMESPath function 'modulo': Types mismatch"
        );
        for expr in [
            "modulo('4', '1.5')",
            "modulo('4.5', '1')",
            "modulo(`14`, `1.5`)",
            "modulo(`14.5`, `2`)",
        ] {
            assert_eq!(
                qe(expr),
                "JMESPath function 'modulo': Non-integer argument(s) passed for modulo",
                "{expr}"
            );
        }
    }

    #[test]
    fn round() {
        table(&[
            ("round(`9.414675`, `2`)", json!(9.41)),
            ("round(`14.123`, `6`)", json!(14.123)),
            ("round(`10.125`, `2`)", json!(10.13)),
            ("round(`2.5`, `0`)", json!(3)),
            ("round(`-2.5`, `0`)", json!(-3)),
        ]);
        fails(&["round(`23`, '12Ki')", "round(`21`, '5s')"]);
        assert_eq!(
            qe("round(`14`, `1.5`)"),
            "JMESPath function 'round': Non-integer argument(s) passed for round off"
        );
        assert!(qe("round(`14`, `-2`)").starts_with("JMESPath function 'round': "));
    }

    #[test]
    fn quantities_parse_and_print_like_kubernetes() {
        for (input, want) in [
            ("0", "0"),
            ("1", "1"),
            ("1.5", "1500m"),
            ("1.5Gi", "1536Mi"),
            ("0.5Ki", "512"),
            ("1Ki", "1Ki"),
            ("1024", "1024"),
            ("1000", "1k"),
            ("100m", "100m"),
            ("0.1", "100m"),
            ("1.2345", "1234500u"),
            ("0.9n", "1n"),
            ("0.0000000001", "1n"),
            ("-0.0000000001", "-1n"),
            ("5e3", "5e3"),
            ("1e3", "1e3"),
            ("12e-3", "12e-3"),
            ("1E", "1E"),
            // No DecimalSI suffix for 10^21: Kubernetes prints none.
            ("1000E", "1"),
            ("1000Ei", "9223372036854775807"),
            ("8Ei", "9223372036854775807"),
            ("+5", "5"),
            ("-5Mi", "-5Mi"),
            ("1.", "1"),
            ("007", "7"),
            ("123456789012345678901", "123456789012345678901"),
            ("18446744073709551616", "18446744073709551616"),
        ] {
            let q = Quantity::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            let zero = Quantity::parse("0").unwrap_or_else(|e| panic!("{e}"));
            let printed = q
                .add(&zero)
                .and_then(|q| q.to_string_checked())
                .unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(printed, want, "{input}");
        }
        for bad in [
            "", "abc", "1.5.5", "1Qi", "1e", "--1", "1 Ki", "NaN", "+Inf",
        ] {
            assert!(Quantity::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Quantity::parse("1x").err(),
            Some(QUANTITY_REGEX_ERROR.to_string())
        );
        assert_eq!(
            Quantity::parse("1ii").err(),
            Some("unable to parse quantity's suffix".to_string())
        );
    }

    #[test]
    fn durations_parse_and_print_like_go() {
        for (input, nanos) in [
            ("0", 0),
            ("5s", 5_000_000_000),
            ("30s", 30_000_000_000),
            ("1478s", 1_478_000_000_000),
            ("-5s", -5_000_000_000),
            ("+5s", 5_000_000_000),
            ("5.6s", 5_600_000_000),
            ("5.s", 5_000_000_000),
            (".5s", 500_000_000),
            ("1.004s", 1_004_000_000),
            ("100.00100s", 100_001_000_000),
            ("10ns", 10),
            ("11us", 11_000),
            ("12µs", 12_000),
            ("12μs", 12_000),
            ("13ms", 13_000_000),
            ("14s", 14_000_000_000),
            ("15m", 900_000_000_000),
            ("16h", 57_600_000_000_000),
            ("3h30m", 12_600_000_000_000),
            ("10.5s4m", 250_500_000_000),
            ("-2m3.4s", -123_400_000_000),
            ("1h2m3s4ms5us6ns", 3_723_004_005_006),
            ("39h9m14.425s", 140_954_425_000_000),
            ("52763797000ns", 52_763_797_000),
            ("0.3333333333333333333h", 1_200_000_000_000),
            ("9007199254740993ns", 9_007_199_254_740_993),
            ("9223372036854775807ns", i64::MAX),
            ("9223372036.854775807s", i64::MAX),
            ("-9223372036854775808ns", i64::MIN),
            ("-2562047.788015215h", -9_223_372_036_854_774_000),
        ] {
            assert_eq!(parse_duration(input), Ok(nanos), "{input}");
        }
        for (input, message) in [
            ("", "time: invalid duration \"\""),
            ("3", "time: missing unit in duration \"3\""),
            ("-", "time: invalid duration \"-\""),
            ("s", "time: invalid duration \"s\""),
            (".", "time: invalid duration \".\""),
            ("-.", "time: invalid duration \"-.\""),
            (".s", "time: invalid duration \".s\""),
            ("+.s", "time: invalid duration \"+.s\""),
            ("1d", "time: unknown unit \"d\" in duration \"1d\""),
            (
                "9223372036854775808ns",
                "time: invalid duration \"9223372036854775808ns\"",
            ),
            ("3000000h", "time: invalid duration \"3000000h\""),
        ] {
            assert_eq!(parse_duration(input), Err(message.to_string()), "{input}");
        }
        for (nanos, want) in [
            (0, "0s"),
            (1, "1ns"),
            (1_100, "1.1µs"),
            (2_200_000, "2.2ms"),
            (3_300_000_000, "3.3s"),
            (240_000_000_000, "4m0s"),
            (300_000_000_000 + 500_000_000, "5m0.5s"),
            (4_028_000_000_000 + 500_000_000, "1h7m8.5s"),
            (-1_000_000_000, "-1s"),
            (i64::MAX, "2562047h47m16.854775807s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
            (5_400_000_000_000, "1h30m0s"),
        ] {
            assert_eq!(duration_string(nanos), want, "{nanos}");
        }
    }

    #[test]
    fn go_float_formatting() {
        for (f, want) in [
            (1.0, "1"),
            (0.5, "0.5"),
            (1e6, "1e+06"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5, "-2.5"),
            (1e21, "1e+21"),
            (1e100, "1e+100"),
        ] {
            assert_eq!(go_format_g(f), want, "{f}");
        }
        for (f, want) in [
            (1.0, "1"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (1.234_567_891_234, "1.2345679"),
            (16777217.0, "16777216"),
            (1e20, "100000000000000000000"),
        ] {
            assert_eq!(go_format_f32(f), want, "{f}");
        }
        assert_eq!(go_pow10(-9), 1e-9);
        assert_eq!(go_pow10(18), 1e18);
        assert_eq!(go_pow10(400), f64::INFINITY);
    }

    // -- time -----------------------------------------------------------------

    #[test]
    fn time_functions() {
        table(&[
            (
                "time_since('', '2021-01-02T15:04:05-07:00', '2021-01-10T03:14:05-07:00')",
                json!("180h10m0s"),
            ),
            (
                "time_since('Mon Jan _2 15:04:05 MST 2006', 'Mon Jan 02 15:04:05 MST 2021', 'Mon Jan 10 03:14:16 MST 2021')",
                json!("180h10m11s"),
            ),
            (
                "time_since('', '2022-04-10T03:14:05-07:00', '2022-04-11T03:14:05-07:00')",
                json!("24h0m0s"),
            ),
            (
                "time_since('2006-Jan-02', '2020-Jan-14', '2020-Jan-17')",
                json!("72h0m0s"),
            ),
            (
                "time_since('', '2023-11-14T21:13:20Z', '')",
                json!("1h0m0s"),
            ),
            ("time_to_cron('2023-02-02T15:04:05Z')", json!("4 15 2 2 4")),
            (
                "time_to_cron(time_utc('2023-02-02T15:04:05-07:00'))",
                json!("4 22 2 2 4"),
            ),
            (
                "time_to_cron('2022-04-11T03:14:05-07:00')",
                json!("14 3 11 4 1"),
            ),
            (
                "time_add('2021-01-02T15:04:05-07:00', '3h')",
                json!("2021-01-02T18:04:05-07:00"),
            ),
            (
                "time_add(time_parse('Mon Jan 02 15:04:05 -0700 2006', 'Sat Jan 02 15:04:05 -0700 2021'), '5h30m40s')",
                json!("2021-01-02T20:34:45-07:00"),
            ),
            (
                "time_add('2023-01-12T12:37:56-05:00', '6h')",
                json!("2023-01-12T18:37:56-05:00"),
            ),
            (
                "time_parse('2006-01-02T15:04:05Z07:00', '2021-01-02T15:04:05-07:00')",
                json!("2021-01-02T15:04:05-07:00"),
            ),
            (
                "time_parse('Mon Jan 02 15:04:05 -0700 2006', 'Sat Jan 02 15:04:05 -0700 2021')",
                json!("2021-01-02T15:04:05-07:00"),
            ),
            (
                "time_parse('1702691171', '1702691171')",
                json!("2023-12-16T01:46:11Z"),
            ),
            ("time_parse('0', '-1')", json!("1969-12-31T23:59:59Z")),
            (
                "time_utc('2023-02-02T15:04:05Z')",
                json!("2023-02-02T15:04:05Z"),
            ),
            (
                "time_utc('2023-02-02T15:04:05-07:00')",
                json!("2023-02-02T22:04:05Z"),
            ),
            (
                "time_utc('2021-01-02T18:04:05-05:00')",
                json!("2021-01-02T23:04:05Z"),
            ),
            (
                "time_utc('2021-01-02T02:04:05+08:30')",
                json!("2021-01-01T17:34:05Z"),
            ),
            (
                "time_diff('2021-01-02T15:04:05-07:00', '2021-01-10T03:14:05-07:00')",
                json!("180h10m0s"),
            ),
            (
                "time_diff('2023-01-10T00:00:00Z', '2023-01-11T00:00:00Z')",
                json!("24h0m0s"),
            ),
            (
                "time_diff('2023-01-12T00:00:00Z', '2023-01-11T00:00:00Z')",
                json!("-24h0m0s"),
            ),
            (
                "time_diff('2023-01-12T00:00:00.5Z', '2023-01-12T00:00:01Z')",
                json!("500ms"),
            ),
            (
                "time_before('2021-01-02T15:04:05-07:00', '2021-01-02T16:04:05-07:00')",
                json!(true),
            ),
            (
                "time_before('2021-01-02T15:04:05-07:00', '2021-01-02T15:04:05-07:00')",
                json!(false),
            ),
            (
                "time_before('2021-01-02T16:04:05-07:00', '2021-01-02T15:04:05-07:00')",
                json!(false),
            ),
            (
                "time_before('2023-01-12T19:05:59Z', '2023-01-13T19:05:59Z')",
                json!(true),
            ),
            (
                "time_after('2021-01-02T15:04:05-07:00', '2021-01-02T16:04:05-07:00')",
                json!(false),
            ),
            (
                "time_after('2021-01-02T15:04:05-07:00', '2021-01-02T15:04:05-07:00')",
                json!(false),
            ),
            (
                "time_after('2021-01-02T16:04:05-07:00', '2021-01-02T15:04:05-07:00')",
                json!(true),
            ),
            (
                "time_after('2023-01-12T14:07:55-05:00', '2023-01-12T19:05:59Z')",
                json!(true),
            ),
            (
                "time_between('2021-01-02T17:04:05-07:00', '2021-01-02T15:04:05-07:00', '2021-01-02T18:04:05-07:00')",
                json!(true),
            ),
            (
                "time_between('2021-01-02T15:04:05-07:00', '2021-01-02T15:04:05-07:00', '2021-01-02T18:04:05-07:00')",
                json!(false),
            ),
            (
                "time_between('2021-01-02T18:04:05-07:00', '2021-01-02T15:04:05-07:00', '2021-01-02T18:04:05-07:00')",
                json!(false),
            ),
            (
                "time_between('2023-01-12T19:05:59Z', '2023-01-01T19:05:59Z', '2023-01-15T19:05:59Z')",
                json!(true),
            ),
            (
                "time_truncate('2023-01-12T17:37:00Z', '1h')",
                json!("2023-01-12T17:00:00Z"),
            ),
            (
                "time_truncate('2023-01-12T17:37:00Z', '2h')",
                json!("2023-01-12T16:00:00Z"),
            ),
            (
                "time_truncate('2021-01-02T23:04:05Z', '2h')",
                json!("2021-01-02T22:00:00Z"),
            ),
            (
                "time_truncate('2023-01-12T17:37:00+05:30', '1h')",
                json!("2023-01-12T17:30:00+05:30"),
            ),
            (
                "time_truncate('2023-01-12T17:37:00Z', '0s')",
                json!("2023-01-12T17:37:00Z"),
            ),
            (
                "time_truncate('2023-01-12T17:37:00Z', '168h')",
                json!("2023-01-09T00:00:00Z"),
            ),
            ("time_now()", json!("2023-11-14T22:13:20Z")),
            ("time_now_utc()", json!("2023-11-14T22:13:20Z")),
            (
                "time_add(time_now_utc(), '4h') | time_to_cron(@)",
                json!("13 2 15 11 3"),
            ),
        ]);
        fails(&[
            "time_before(`1`, '2021-01-02T15:04:05-07:00')",
            "time_after('2021-01-02T15:04:05-07:00', `1`)",
            "time_between('2021-01-02T15:04:05-07:00', '2021-01-02T18:04:05-07:00', `1`)",
            "time_add('2021-01-02T15:04:05-07:00', '')",
            "time_add('2021-01-02T15:04:05-07:00', `1`)",
            "time_utc('')",
            "time_parse('1', 'x')",
        ]);
        assert_eq!(
            qe("time_utc('2021-13-02T15:04:05Z')"),
            "parsing time \"2021-13-02T15:04:05Z\": month out of range"
        );
        assert_eq!(
            qe("time_utc('2021-01-02')"),
            "parsing time \"2021-01-02\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"\" as \"T\""
        );
        assert_eq!(
            qe("time_add('2021-01-02T15:04:05Z', '1d')"),
            "time: unknown unit \"d\" in duration \"1d\""
        );
    }

    #[test]
    fn clock_functions_need_a_clock() {
        for expr in [
            "time_now()",
            "time_now_utc()",
            "time_since('', '2021-01-02T15:04:05Z', '')",
        ] {
            let reason = qe_with(expr, &Value::Null, None);
            assert!(
                reason.contains("the current time is not available"),
                "{expr}: {reason}"
            );
        }
        // With both ends given, no clock is needed.
        assert_eq!(
            search(
                "time_since('', '2021-01-02T15:04:05Z', '2021-01-02T16:04:05Z')",
                &Value::Null,
                None
            ),
            Ok(json!("1h0m0s"))
        );
        // The clock does not outlive the evaluation.
        assert_eq!(NOW.with(Cell::get), None);
        let _ = q("time_now()");
        assert_eq!(NOW.with(Cell::get), None);
    }

    #[test]
    fn go_time_layouts() {
        let parse = |layout: &str, value: &str| {
            go_parse(layout, value)
                .map(|t| t.rfc3339())
                .unwrap_or_else(|e| panic!("{layout} {value}: {e}"))
        };
        assert_eq!(
            parse(RFC3339, "2021-01-02T15:04:05.999999999Z"),
            "2021-01-02T15:04:05Z"
        );
        assert_eq!(
            parse(RFC3339, "2021-01-02T15:04:05,5+01:00"),
            "2021-01-02T15:04:05+01:00"
        );
        assert_eq!(
            parse(
                "Mon Jan _2 15:04:05 MST 2006",
                "Sat Jan  2 15:04:05 PST 2021"
            ),
            "2021-01-02T15:04:05Z"
        );
        // Go records GMT+h without moving the instant.
        assert_eq!(
            parse(
                "Mon Jan 2 15:04:05 MST 2006",
                "Sat Jan 2 15:04:05 GMT+3 2021"
            ),
            "2021-01-02T18:04:05+03:00"
        );
        assert_eq!(
            parse("02 Jan 06 15:04 -0700", "02 Jan 21 15:04 +0530"),
            "2021-01-02T15:04:00+05:30"
        );
        assert_eq!(
            parse("02 Jan 06 15:04 -0700", "02 Jan 70 15:04 +0000"),
            "1970-01-02T15:04:00Z"
        );
        assert_eq!(
            parse(
                "Monday, 02-Jan-06 15:04:05 MST",
                "Saturday, 02-Jan-21 15:04:05 UTC"
            ),
            "2021-01-02T15:04:05Z"
        );
        assert_eq!(parse("3:04PM", "3:04PM"), "0000-01-01T15:04:00Z");
        assert_eq!(parse("3:04pm", "12:04am"), "0000-01-01T00:04:00Z");
        assert_eq!(
            parse("Jan _2 15:04:05.000", "Feb  3 04:05:06.789"),
            "0000-02-03T04:05:06Z"
        );
        assert_eq!(parse("2006.002", "2020.060"), "2020-02-29T00:00:00Z");
        assert_eq!(
            parse(
                "2006-01-02 15:04:05.999999999 -0700 MST",
                "2021-01-02 15:04:05.123 -0700 MST"
            ),
            "2021-01-02T15:04:05-07:00"
        );
        assert_eq!(
            parse("20060102150405", "20210102150405"),
            "2021-01-02T15:04:05Z"
        );
        assert_eq!(
            parse("2006-01-02T15:04:05Z0700", "2021-01-02T15:04:05-0130"),
            "2021-01-02T15:04:05-01:30"
        );
        assert_eq!(
            parse("January 2, 2006", "march 9, 2021"),
            "2021-03-09T00:00:00Z"
        );
        for (layout, value, message) in [
            (
                "2006-01-02",
                "2021-02-30",
                "parsing time \"2021-02-30\": day out of range",
            ),
            (
                "2006-01-02",
                "2021-01-02x",
                "parsing time \"2021-01-02x\": extra text: \"x\"",
            ),
            (
                "15:04",
                "25:00",
                "parsing time \"25:00\": hour out of range",
            ),
            (
                "2006-01-02",
                "21-01-02",
                "parsing time \"21-01-02\" as \"2006-01-02\": cannot parse \"21-01-02\" as \"2006\"",
            ),
            (
                "Jan 2",
                "Foo 2",
                "parsing time \"Foo 2\" as \"Jan 2\": cannot parse \"Foo 2\" as \"Jan\"",
            ),
            (
                "2006.002",
                "2021.366",
                "parsing time \"2021.366\": day-of-year out of range",
            ),
        ] {
            assert_eq!(
                go_parse(layout, value).map(|t| t.rfc3339()),
                Err(message.to_string()),
                "{value}"
            );
        }
        assert_eq!(civil_from_days(days_from_civil(2000, 2, 29)), (2000, 2, 29));
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(
            GoTime::from_unix(-62_135_596_800).rfc3339(),
            "0001-01-01T00:00:00Z"
        );
        assert_eq!(
            GoTime::from_unix(253_402_300_800).rfc3339(),
            "10000-01-01T00:00:00Z"
        );
    }

    // -- the rest -------------------------------------------------------------

    #[test]
    fn image_normalize() {
        table(&[
            ("image_normalize('nginx')", json!("docker.io/nginx:latest")),
            (
                "image_normalize('docker.io/nginx')",
                json!("docker.io/nginx:latest"),
            ),
            (
                "image_normalize('docker.io/library/nginx')",
                json!("docker.io/library/nginx:latest"),
            ),
            (
                "image_normalize('ghcr.io/library/nginx')",
                json!("ghcr.io/library/nginx:latest"),
            ),
            (
                "image_normalize('ghcr.io/nginx')",
                json!("ghcr.io/nginx:latest"),
            ),
            (
                "image_normalize('ghcr.io/nginx:latest')",
                json!("ghcr.io/nginx:latest"),
            ),
            (
                "image_normalize('ghcr.io/nginx:1.2')",
                json!("ghcr.io/nginx:1.2"),
            ),
        ]);
        assert_eq!(
            qe("image_normalize('')"),
            "JMESPath function 'image_normalize': bad image: docker.io/, defaultRegistry: docker.io, enableDefaultRegistryMutation: true: invalid reference format"
        );
    }

    #[test]
    fn is_external_url() {
        table(&[
            ("is_external_url('http://localhost')", json!(false)),
            ("is_external_url('http://127.0.0.1')", json!(false)),
            ("is_external_url('http://172.16.1.1')", json!(false)),
            ("is_external_url('http://10.1.1.1')", json!(false)),
            ("is_external_url('http://192.168.0.1')", json!(false)),
            ("is_external_url('http://8.8.8.8')", json!(true)),
            ("is_external_url('http://245.48.83.160')", json!(true)),
            (
                "is_external_url('http://[fd12:3456:789a:1::1]')",
                json!(false),
            ),
            (
                "is_external_url('http://[fdb7:d8fd:c4e4:5561::1]')",
                json!(false),
            ),
            ("is_external_url('http://[::1]')", json!(false)),
            (
                "is_external_url('http://[2001:db8::ff00:42:8329]')",
                json!(true),
            ),
            (
                "is_external_url('http://www.google.com@192.168.1.3')",
                json!(false),
            ),
            (
                "is_external_url('https://10.0.0.1:8443/path?q=1#frag')",
                json!(false),
            ),
            (
                "is_external_url('http://[::ffff:10.0.0.1]:80')",
                json!(false),
            ),
            ("is_external_url('//1.1.1.1/x')", json!(true)),
            ("is_external_url('http://app.localhost:8080')", json!(false)),
        ]);
        let reason = qe("is_external_url('http://google.com')");
        assert!(reason.contains("lookup google.com"), "{reason}");
        assert!(qe("is_external_url('not a url')").contains("lookup"));
        assert_eq!(
            qe("is_external_url('http://a:b')"),
            "parse \"http://a:b\": invalid port \":b\" after host"
        );
        assert_eq!(
            qe("is_external_url(':foo')"),
            "parse \":foo\": missing protocol scheme"
        );
        assert_eq!(
            qe("is_external_url(`123`)"),
            "JMESPath function 'is_external_url': argument #1 is not of type string"
        );
    }

    #[test]
    fn hashes() {
        table(&[
            (
                "sha256('alertmanager-kube-prometheus-stack-alertmanager')",
                json!("75c07bb807f2d80a85d34880b8af0c5f29f7c27577076ed5d0e4b427dee7dbcc"),
            ),
            (
                "sha1('Alice & Bob')",
                json!("e3ec484930685a61b0f824cd684a68699d2b98c1"),
            ),
            (
                "md5('Alice & Bob')",
                json!("def42e1abd2462df1f9f0a4b3d488221"),
            ),
            ("md5('')", json!("d41d8cd98f00b204e9800998ecf8427e")),
            (
                "sha1('')",
                json!("da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            ),
            (
                "sha1('The quick brown fox jumps over the lazy dog')",
                json!("2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"),
            ),
            (
                "md5('The quick brown fox jumps over the lazy dog')",
                json!("9e107d9d372bb6826bd81d3542a419d6"),
            ),
        ]);
        let long = "a".repeat(1000);
        assert_eq!(
            hex(&md5(long.as_bytes())),
            "cabe45dcc9ae5b66ba86600cca6b8ba8"
        );
        assert_eq!(
            hex(&sha1(long.as_bytes())),
            "291e9a6c66994949b57ba5e650361e98fc36b1ba"
        );
        for f in ["sha256", "sha1", "md5"] {
            assert_eq!(
                qe(&format!("{f}(`123`)")),
                format!("JMESPath function '{f}': argument #1 is not of type string")
            );
        }
    }

    #[test]
    fn random_is_refused_offline() {
        assert!(qe("random('[a-z0-9]{6}')").contains("not supported offline"));
        assert_eq!(qe("random('')"), "no pattern provided");
    }

    #[test]
    fn numbers_print_as_go_prints_them() {
        assert_eq!(q("add(`1`, `2`)").to_string(), "3");
        assert_eq!(q("to_string(add(`1`, `2`))"), json!("3"));
        assert_eq!(q("divide(`1`, `4`)").to_string(), "0.25");
        assert_eq!(qd("a", &json!({"a": 1.0})).to_string(), "1");
        assert_eq!(q("floor(`2.5`)").to_string(), "2");
        assert_eq!(q("`[1.5, 2.0]`").to_string(), "[1.5,2]");
        assert_eq!(
            qe("multiply(`1e300`, `1e300`)"),
            "the result +Inf is not a finite number"
        );
    }

    #[test]
    fn builtins_are_the_specification_s() {
        table(&[
            ("length('abc')", json!(3)),
            ("join(', ', ['a', 'b'])", json!("a, b")),
            ("max(`[1, 3, 2]`)", json!(3)),
            ("to_number('42')", json!(42)),
            ("type(`{}`)", json!("object")),
            ("keys(`{\"b\": 1, \"a\": 2}`)", json!(["a", "b"])),
            (
                "sort_by(`[{\"n\": 2}, {\"n\": 1}]`, &n)[*].n",
                json!([1, 2]),
            ),
            ("map(&to_upper(@), ['a', 'b'])", json!(["A", "B"])),
            ("contains(['a'], 'a')", json!(true)),
        ]);
    }

    #[test]
    fn search_variable_and_errors() {
        let data = Rcvar::new(Variable::try_from(json!({"name": "x"})).unwrap_or(Variable::Null));
        let out = search_variable("to_upper(name)", &data, None).map(|v| to_json(&v));
        assert_eq!(out, Ok(Ok(json!("X"))));
        match search("to_upper(`1`)", &Value::Null, None) {
            Err(QueryError::Failed { expression, reason }) => {
                assert_eq!(expression, "to_upper(`1`)");
                assert_eq!(
                    reason,
                    "JMESPath function 'to_upper': argument #1 is not of type string"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            search("a[", &Value::Null, None),
            Err(QueryError::Invalid { .. })
        ));
        assert!(to_json(&Variable::Expref(Ast::Identity { offset: 0 })).is_err());
    }

    #[test]
    fn hostile_inputs_are_bounded() {
        let big = json!({"s": "a".repeat(4096), "r": "b".repeat(4096)});
        assert!(
            search("replace_all(s, 'a', r)", &big, None)
                .is_err_and(|e| e.to_string().contains("exceed"))
        );
        assert!(
            search("regex_replace_all('a', s, r)", &big, None)
                .is_err_and(|e| e.to_string().contains("exceed"))
        );
        assert!(
            search("replace(s, '', r, `-1`)", &big, None)
                .is_err_and(|e| e.to_string().contains("exceed"))
        );
        // Shrinking a large input is fine.
        let large = json!({"s": "ab".repeat(600_000)});
        assert_eq!(
            search("length(replace_all(s, 'a', ''))", &large, None),
            Ok(json!(600_000))
        );
        let many = json!({"s": ",".repeat(MAX_SPLIT_PARTS + 1)});
        assert!(search("split(s, ',')", &many, None).is_err());
        assert!(search("split(s, '')", &many, None).is_err());
        for expr in [
            "add('1e2000000000', '1')",
            "multiply('1e2000000000', `2`)",
            "add('99999999999999999999999999999999999999999', '1')",
            "multiply('1Ei', `1e300`)",
            "divide('1Ei', `1e-300`)",
            "modulo('1e30', '7')",
            "add('1e-2000000000', '1')",
            "time_add('9999-12-31T23:59:59Z', '2562047h')",
            "time_parse('0', '9223372036854775807')",
            "truncate('x', `-1e300`)",
            "round(`1e300`, `300`)",
            "lookup(`[1]`, `1e300`)",
            "semver_compare('99999999999999999999.0.0', '>1.0.0')",
            "time_parse('Jan 2 2006 __2', 'Feb 3 2020 999')",
        ] {
            // Never a panic; a value or an error.
            let _ = search(expr, &Value::Null, None);
        }
        assert_eq!(
            q("add('1e2000000000', '1e2000000000')"),
            json!("200e1999999998")
        );
    }
}
