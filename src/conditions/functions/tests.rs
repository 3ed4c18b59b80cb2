//! Shared test helpers, and the tests of the runtime and the public API.

use std::cell::Cell;

use jmespath::ast::Ast;
use jmespath::{Rcvar, Variable};
use serde_json::{Value, json};

use super::strings::MAX_SPLIT_PARTS;
use super::{NOW, QueryError, search, search_variable, to_json, validate};

/// 2023-11-14T22:13:20Z.
pub(super) const CLOCK: i64 = 1_700_000_000;

pub(super) fn qd(expr: &str, data: &Value) -> Value {
    search(expr, data, Some(CLOCK)).unwrap_or_else(|e| panic!("{expr}: {e}"))
}

/// Evaluates against `""`, as Kyverno's tests do (a multi-select list
/// over `null` is `null`).
pub(super) fn q(expr: &str) -> Value {
    qd(expr, &json!(""))
}

pub(super) fn qe_with(expr: &str, data: &Value, now: Option<i64>) -> String {
    match search(expr, data, now) {
        Err(QueryError::Failed { reason, .. }) => reason,
        other => panic!("{expr}: expected a failure, got {other:?}"),
    }
}

pub(super) fn qe(expr: &str) -> String {
    qe_with(expr, &json!(""), Some(CLOCK))
}

pub(super) fn table(cases: &[(&str, Value)]) {
    for (expr, want) in cases {
        assert_eq!(q(expr), *want, "{expr}");
    }
}

pub(super) fn table_with(data: &Value, cases: &[(&str, Value)]) {
    for (expr, want) in cases {
        assert_eq!(qd(expr, data), *want, "{expr}");
    }
}

pub(super) fn fails(exprs: &[&str]) {
    for expr in exprs {
        let _ = qe(expr);
    }
}

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
