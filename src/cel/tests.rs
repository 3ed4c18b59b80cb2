//! Behaviour pinned to cel-go's: each case's expected result is what cel-go
//! (with Kubernetes' environment options) gives for it.

use super::*;
use std::sync::Arc;

fn env() -> Env {
    let mut env = Env::new(&[]);
    env.declare("object", Type::Dyn);
    env.declare("images", Type::map(Type::String, Type::list(Type::String)));
    env.declare("n", Type::Int);
    env
}

fn vars() -> BTreeMap<String, Value> {
    let object = serde_json::json!({
        "metadata": {"name": "pod", "labels": {"app": "web"}},
        "spec": {"containers": [{"image": "nginx:1.25"}, {"image": "ghcr.io/x/y@sha256:aa"}], "replicas": 3}
    });
    let mut v = BTreeMap::new();
    v.insert("object".to_string(), Value::from_json(&object));
    v.insert(
        "images".to_string(),
        Value::from_json(&serde_json::json!({"containers": ["nginx:1.25", "ghcr.io/x/y@sha256:aa"], "initContainers": []})),
    );
    v.insert("n".to_string(), Value::Int(7));
    v
}

fn run(src: &str) -> Result<Value, String> {
    let env = env();
    let p = env.compile(src).map_err(|e| format!("compile: {e}"))?;
    p.eval(&env, &vars(), &mut NoHost, eval::DEFAULT_COST_LIMIT)
        .map_err(|e| e.to_string())
}

fn json(src: &str) -> serde_json::Value {
    match run(src) {
        Ok(v) => v.to_json().expect("JSON value"),
        Err(e) => panic!("{src}: {e}"),
    }
}

fn yes(src: &str) {
    assert!(
        matches!(run(src), Ok(Value::Bool(true))),
        "{src} → {:?}",
        run(src)
    );
}

fn fails(src: &str, message: &str) {
    match run(src) {
        Err(e) => assert!(e.contains(message), "{src}: {e:?} lacks {message:?}"),
        Ok(v) => panic!("{src} gave {v:?}, expected error {message:?}"),
    }
}

#[test]
fn arithmetic_and_overflow() {
    yes("1 + 2 * 3 == 7");
    yes("7 / 2 == 3 && -7 / 2 == -3 && -7 % 3 == -1");
    yes("2u + 3u == 5u");
    yes("1.5 + 1.0 == 2.5");
    yes("-9223372036854775808 < 0");
    fails("9223372036854775807 + 1", "integer overflow");
    fails("-(-9223372036854775808)", "integer overflow");
    fails("0u - 1u", "unsigned integer overflow");
    fails("1 / 0", "division by zero");
    fails("1 % 0", "modulus by zero");
    yes("1.0 / 0.0 > 1e308");
}

#[test]
fn heterogeneous_equality_and_ordering() {
    yes("dyn(1) == 1.0 && dyn(1u) == 1 && dyn(1) in [1.0]");
    fails(
        "1 in [1.0]",
        "found no matching overload for '@in' applied to '(int, list(double))'",
    );
    yes("dyn(1) != 'a'");
    yes("1 < 1.5 && 2u >= 1 && 3 > 2u");
    yes("[1, 2] == [1, 2] && {'a': 1} == {'a': 1}");
    yes("'abc' < 'abd' && b'a' < b'b' && false < true");
    fails(
        "1 == 1u",
        "found no matching overload for '_==_' applied to '(int, uint)'",
    );
}

#[test]
fn logic_absorbs_errors_like_cel_go() {
    yes("(false && (1 / 0 == 1)) == false");
    yes("((1 / 0 == 1) && false) == false");
    yes("(1 / 0 == 1) || true");
    fails("(1 / 0 == 1) && true", "division by zero");
    yes("[0, 1].exists(x, 1 / x == 1)");
    fails("[0, 1].all(x, 1 / x == 1)", "division by zero");
    yes("![0, 3].all(x, 2 / x == 1)");
}

#[test]
fn strings_and_conversions() {
    yes("size('héllo') == 5 && 'héllo'.size() == 5");
    yes("'hello'.contains('ell') && 'hello'.startsWith('he') && 'hello'.endsWith('lo')");
    yes("'ghcr.io/x'.matches('^ghcr\\\\.io/')");
    yes("matches('abc', 'b')");
    yes(
        "string(1.0) == '1' && string(1e21) == '1e+21' && string(1234567.0) == '1.234567e+06' && string(0.5) == '0.5'",
    );
    yes("string(123456.0) == '123456' && string(0.0001) == '0.0001' && string(0.00001) == '1e-05'");
    yes("int('42') == 42 && uint(42) == 42u && double('1e3') == 1000.0");
    yes("bool('true') && !bool('F')");
    fails("int(9.3e18)", "integer overflow");
    fails("string(b'\\xff')", "invalid UTF-8");
    yes("'a,b,c'.split(',') == ['a', 'b', 'c'] && ['a', 'b'].join('-') == 'a-b'");
    yes("'hello'.substring(1, 3) == 'el' && 'hello'.charAt(1) == 'e' && 'hello'.indexOf('l') == 2");
    yes("'hello'.lastIndexOf('l') == 3 && '  x '.trim() == 'x' && 'Ab'.lowerAscii() == 'ab'");
    yes("'a-b-c'.replace('-', '+', 1) == 'a+b-c'");
    yes("'abc123def'.find('[0-9]+') == '123' && 'a1b2'.findAll('[0-9]') == ['1', '2']");
    fails("'abc'.substring(2, 1)", "invalid substring range");
    yes("strings.quote('a\"b') == '\"a\\\\\"b\"'");
    yes(
        "r'\\d' == '\\\\d' && '''x'y''' == \"x'y\" && b'\\x00\\xff'.size() == 2 && '\\u00e9' == 'é'",
    );
}

#[test]
fn macros() {
    assert_eq!(
        json("[1, 2, 3].map(x, x * 2)"),
        serde_json::json!([2, 4, 6])
    );
    assert_eq!(
        json("[1, 2, 3].map(x, x > 1, x * 2)"),
        serde_json::json!([4, 6])
    );
    assert_eq!(
        json("[1, 2, 3].filter(x, x != 2)"),
        serde_json::json!([1, 3])
    );
    yes("[1, 2, 3].exists_one(x, x == 2) && ![1, 2, 2].exists_one(x, x == 2)");
    yes("{'a': 1, 'b': 2}.all(k, k in ['a', 'b'])");
    yes("{'a': 1, 'b': 2}.all(k, v, v > 0)");
    assert_eq!(
        json("[5, 6].transformList(i, v, i + v)"),
        serde_json::json!([5, 7])
    );
    assert_eq!(
        json("{'a': 1}.transformMap(k, v, v + 1)"),
        serde_json::json!({"a": 2})
    );
    assert_eq!(
        json("['x', 'y'].transformMapEntry(i, v, {v: i})"),
        serde_json::json!({"x": 0, "y": 1})
    );
    assert_eq!(json("cel.bind(x, 2, x * x)"), serde_json::json!(4));
    assert_eq!(
        json("['bb', 'a', 'ccc'].sortBy(s, s.size())"),
        serde_json::json!(["a", "bb", "ccc"])
    );
    yes("images.containers.map(i, i.contains('@')).exists(b, b)");
    yes("object.spec.containers.all(c, has(c.image))");
    fails(
        "[1, 2].map(x, x, x)",
        "expected type 'bool' but found 'int'",
    );
    fails(
        "[[1], [2, [3]]]",
        "expected type 'int' but found 'list(int)'",
    );
}

#[test]
fn selection_presence_and_optionals() {
    yes("object.metadata.name == 'pod' && object.spec.replicas == 3");
    yes("has(object.metadata.labels) && !has(object.metadata.annotations)");
    fails(
        "has(object.metadata.annotations.x)",
        "no such key: annotations",
    );
    fails("object.metadata.annotations", "no such key: annotations");
    yes("object.?metadata.?annotations.orValue({}) == {}");
    yes("object.?metadata.labels.app.orValue('') == 'web'");
    yes("object.spec.?containers.orValue([]).map(e, e.image).size() == 2");
    yes("!object.?nothing.hasValue() && optional.of(1).value() == 1");
    fails("optional.none().value()", "optional.none() dereference");
    yes("[1, ?optional.none(), ?optional.of(2)] == [1, 2]");
    yes("{'a': 1, ?'b': optional.none()} == {'a': 1}");
    yes("[1, 2][?5].orValue(0) == 0 && {'k': 1}[?'k'] == optional.of(1)");
    yes("optional.none().or(optional.of(3)).value() == 3");
    yes("optional.of(2).optMap(x, x * 3).value() == 6");
    fails("dyn(1).orValue(2)", "no such overload");
    fails("[1][1]", "index '1' out of range in list size '1'");
}

#[test]
fn timestamps_and_durations() {
    yes("timestamp('2024-02-29T12:30:00Z').getFullYear() == 2024");
    yes(
        "timestamp('2024-02-29T12:30:00Z').getMonth() == 1 && timestamp('2024-02-29T12:30:00Z').getDate() == 29",
    );
    yes(
        "timestamp('2024-02-29T12:30:00Z').getDayOfWeek() == 4 && timestamp('2024-01-01T00:00:00Z').getDayOfYear() == 0",
    );
    yes("timestamp('2024-01-01T00:00:00+01:00') == timestamp('2023-12-31T23:00:00Z')");
    yes("timestamp('2024-01-01T23:30:00Z').getHours('+01:00') == 0");
    yes("duration('1h30m') == duration('90m') && duration('1.5s').getMilliseconds() == 1500");
    yes("string(duration('1h')) == '3600s' && string(duration('1.5s')) == '1.5s'");
    yes("timestamp('2024-01-01T00:00:00Z') + duration('24h') == timestamp('2024-01-02T00:00:00Z')");
    yes("timestamp('2024-01-02T00:00:00Z') - timestamp('2024-01-01T00:00:00Z') == duration('24h')");
    yes("string(timestamp('2024-01-01T00:00:00.500Z')) == '2024-01-01T00:00:00.5Z'");
    yes("int(timestamp('1970-01-01T00:01:00Z')) == 60");
    assert!(
        run("duration('1d')")
            .unwrap_err()
            .contains("invalid duration argument")
    );
    assert!(
        run("timestamp('2024-13-01T00:00:00Z')")
            .unwrap_err()
            .contains("invalid timestamp argument")
    );
    fails(
        "timestamp('9999-12-31T23:59:59Z') + duration('1s')",
        "timestamp overflow",
    );
    fails(
        "timestamp('2024-01-01T00:00:00Z').getHours('Europe/Paris')",
        "time zone database",
    );
}

#[test]
fn lists_sets_math_encoders() {
    yes(
        "[3, 1, 2].sort() == [1, 2, 3] && [1, 1, 2].distinct() == [1, 2] && [1, 2].reverse() == [2, 1]",
    );
    yes(
        "[1, 2, 3, 4].slice(1, 3) == [2, 3] && [[dyn(1)], [dyn(2), dyn([3])]].flatten() == [dyn(1), dyn(2), dyn([3])]",
    );
    yes("lists.range(3) == [0, 1, 2] && [1, 2].isSorted() && [1, 2, 3].sum() == 6");
    yes("[3, 1].min() == 1 && [3, 1].max() == 3 && [1, 2, 1].lastIndexOf(1) == 2");
    yes(
        "sets.contains([1, 2, 3], [2]) && sets.equivalent([1, 2], [2, 1, 1]) && sets.intersects([1], [1, 5])",
    );
    yes("math.greatest(1, 5, 3) == 5 && math.least([4, 2]) == 2 && math.abs(-3) == 3");
    yes("math.ceil(1.2) == 2.0 && math.bitOr(1, 2) == 3 && math.bitShiftLeft(1, 4) == 16");
    yes(
        "base64.encode(b'hi') == 'aGk=' && base64.decode('aGk') == b'hi' && string(base64.decode('aGk=')) == 'hi'",
    );
    yes("[1, 2].first() == optional.of(1) && [].last() == optional.none()");
    fails("[].min()", "empty list");
}

#[test]
fn type_checking_rejects_what_cel_go_rejects() {
    let bad = [
        ("nope + 1", "undeclared reference to 'nope'"),
        (
            "1 + 'a'",
            "found no matching overload for '_+_' applied to '(int, string)'",
        ),
        (
            "'a'.contains(1)",
            "found no matching overload for 'contains' applied to 'string.(int)'",
        ),
        ("[1, 'a']", "expected type 'int' but found 'string'"),
        ("[object.x, 'a']", "expected type 'dyn' but found 'string'"),
        (
            "{'a': 1, 'b': 'c'}",
            "expected type 'int' but found 'string'",
        ),
        ("n.foo", "type 'int' does not support field selection"),
        ("1.all(x, x)", "cannot be the range of a comprehension"),
        ("[1].all(x, x + 1)", "expected type 'bool' but found 'int'"),
        ("'a'.matches('[')", "invalid matches argument"),
        ("undefinedFn(1)", "undeclared reference to 'undefinedFn'"),
        (
            "images.containers.map(i, i + 1)",
            "found no matching overload for '_+_' applied to '(string, int)'",
        ),
    ];
    let env = env();
    for (src, want) in bad {
        match env.compile(src) {
            Ok(_) => panic!("{src} checked"),
            Err(e) => assert!(e.to_string().contains(want), "{src}: {e}"),
        }
    }
    let good = [
        ("images.containers.map(i, i.size())", Type::list(Type::Int)),
        ("object.spec", Type::Dyn),
        ("[attestor, attestor]", Type::list(Type::Dyn)),
        ("{'a': [1]}", Type::map(Type::String, Type::list(Type::Int))),
        ("[]", Type::list(Type::Dyn)),
        ("n > 1 ? 'a' : 'b'", Type::String),
        ("object.?x", Type::optional(Type::Dyn)),
        ("images.?containers.orValue([])", Type::list(Type::String)),
        ("cel.bind(x, n, x + 1)", Type::Int),
    ];
    let mut env = env;
    env.declare("attestor", Type::Dyn);
    for (src, want) in good {
        let p = env.compile(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        assert_eq!(p.result_type(), &want, "{src}");
    }
}

#[test]
fn error_positions_read_like_cel_go() {
    let e = env().compile("n +\n  nope").unwrap_err();
    assert_eq!(
        e.to_string(),
        "ERROR: <input>:2:3: undeclared reference to 'nope' (in container '')\n |   nope\n | ..^"
    );
}

#[test]
fn hostile_expressions_are_bounded() {
    // Deep nesting is refused by the parser, not by the stack.
    let deep = format!("{}1{}", "(".repeat(500), ")".repeat(500));
    assert!(
        env()
            .compile(&deep)
            .unwrap_err()
            .to_string()
            .contains("recursion limit")
    );
    let chain = vec!["n"; 2000].join(" + ");
    assert!(
        env()
            .compile(&chain)
            .unwrap_err()
            .to_string()
            .contains("recursion limit")
    );
    // A long list of conditions is a balanced tree, as in cel-go.
    yes(&vec!["n == 7"; 300].join(" && "));
    yes(&format!("{} || n == 7", vec!["n == 8"; 300].join(" || ")));
    let calls = format!("{}n{}", "int(".repeat(200), ")".repeat(200));
    assert!(
        env()
            .compile(&calls)
            .unwrap_err()
            .to_string()
            .contains("recursion limit")
    );
    // Work is bounded by the cost limit, and the limit cannot be absorbed.
    fails(
        "lists.range(1000).all(a, lists.range(1000).all(b, lists.range(1000).all(c, true)))",
        "actual cost limit exceeded",
    );
    yes(
        "true || lists.range(1000).all(a, lists.range(1000).all(b, lists.range(1000).all(c, true)))",
    );
    fails(
        "false || lists.range(1000).exists(a, lists.range(1000).exists(b, lists.range(1000).exists(c, false)))",
        "actual cost limit exceeded",
    );
    fails("lists.range(1000000)", "exceeds the limit");
    assert!(env().compile(&"a".repeat(200_000)).is_err());
    // Whatever the input, parsing never panics.
    for src in [
        "",
        "(",
        "[",
        "{",
        "'",
        "r'",
        "b'\\",
        "1u2",
        "a.",
        ".",
        "0x",
        "\\",
        "`",
        "a.`b",
        "x[?",
        "{?",
        "has(",
        "has(a)",
        "cel.bind(1, 2, 3)",
        "[].map(1, 2)",
        "'\\u{d800}'",
        "'\\ud800'",
        "-",
        "!",
    ] {
        let _ = env().compile(src);
    }
}

#[test]
fn json_conversion_keeps_integers() {
    let v = Value::from_json(&serde_json::json!({"a": 1, "b": 1.5, "c": 18446744073709551615u64}));
    let Value::Map(m) = &v else { panic!() };
    assert!(matches!(
        m.get(&value::Key::String(Arc::from("a"))),
        Some(Value::Int(1))
    ));
    assert!(matches!(
        m.get(&value::Key::String(Arc::from("c"))),
        Some(Value::Uint(_))
    ));
    let d = Value::from_json_doubles(&serde_json::json!({"a": 1}));
    let Value::Map(m) = &d else { panic!() };
    assert!(matches!(
        m.get(&value::Key::String(Arc::from("a"))),
        Some(Value::Double(_))
    ));
}

#[test]
fn the_deepest_accepted_expressions_fit_the_module_stack() {
    // The module's stack is 1 MiB and wasmtime lets wasm code use 512 KiB
    // of native stack: the deepest trees the parser accepts must parse,
    // check and evaluate within 512 KiB in an optimised build (measured:
    // between 128 and 256 KiB). Unoptimised frames keep every temporary
    // (about ten times larger), so a debug build gets 8 MiB: there the
    // test still catches unbounded recursion.
    let stack = if cfg!(debug_assertions) {
        8 << 20
    } else {
        512 << 10
    };
    let depth = usize::from(parser::MAX_DEPTH) - 2;
    let cases = [
        format!("{}1{} == 1", "(".repeat(depth), ")".repeat(depth)),
        format!(
            "{}[1]{}.size() >= 0",
            "[".repeat(depth / 2),
            "]".repeat(depth / 2)
        ),
        format!(
            "{} == {}",
            vec!["n"; depth / 2].join(" + "),
            7 * (depth / 2)
        ),
        format!(
            "{}n{} == 7",
            "int(".repeat(depth / 2),
            ")".repeat(depth / 2)
        ),
        format!(
            "{}true{}",
            "[1].all(x, ".repeat(depth / 3),
            ")".repeat(depth / 3)
        ),
        format!(
            "{}n{} == 7",
            "cel.bind(v, ".repeat(depth / 3),
            ", v)".repeat(depth / 3)
        ),
    ];
    for src in cases {
        let handle = std::thread::Builder::new()
            .stack_size(stack)
            .spawn(move || {
                assert!(
                    matches!(run(&src), Ok(Value::Bool(true))),
                    "{src}: {:?}",
                    run(&src)
                );
            })
            .expect("thread");
        handle.join().expect("evaluated within the stack");
    }
}

/// Comparing or serialising a large object is charged by its whole size,
/// so a loop over it stops at the cost limit rather than running on.
#[test]
fn deep_operations_are_charged_by_the_whole_value() {
    use crate::cel::eval::{DEFAULT_COST_LIMIT, EvalError};
    let mut env = Env::new(&[crate::cel::kyverno::GENERIC]);
    env.declare("object", Type::Dyn);
    // 2,000 containers, each a small map: ~10,000 nodes deep, 1 entry wide.
    let containers: Vec<serde_json::Value> = (0..2000)
        .map(|i| serde_json::json!({"name": format!("c{i}"), "image": "registry.example.com/app:v1", "ports": [{"containerPort": 80}]}))
        .collect();
    let object = Value::from_json(&serde_json::json!({"spec": {"containers": containers}}));
    let mut vars = BTreeMap::new();
    vars.insert("object".to_string(), object);
    let run = |source: &str| {
        let p = env.compile(source).unwrap();
        p.eval(&env, &vars, &mut NoHost, DEFAULT_COST_LIMIT)
    };
    // Once is fine.
    assert!(matches!(run("object == object"), Ok(Value::Bool(true))));
    assert!(matches!(
        run("size(json.marshal(object)) > 0"),
        Ok(Value::Bool(true))
    ));
    // A thousand times is not.
    for source in [
        "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(a, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(b, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(c, json.marshal(object)))).size() > 0",
        "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9].all(a, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].all(b, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].all(c, object == object)))",
        "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9].all(a, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].all(b, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].all(c, object.spec.containers[1999] in object.spec.containers)))",
    ] {
        assert!(
            matches!(run(source), Err(EvalError::CostExceeded)),
            "{source}: {:?}",
            run(source)
        );
    }
}
