use super::super::{Env, EvalError, Host, Type, Value, eval};
use super::{GENERIC, HOST, IMAGE, RESOURCE_CLUSTER};
use std::collections::BTreeMap;

fn env() -> Env {
    let mut env = Env::new(&[IMAGE, GENERIC, HOST, RESOURCE_CLUSTER]);
    env.declare("object", Type::Dyn);
    env.declare("images", Type::map(Type::String, Type::list(Type::String)));
    env
}

/// Records the host calls and answers `verifyImageSignatures` with the
/// number of attestors.
#[derive(Default)]
struct Recorder(Vec<String>);

impl Host for Recorder {
    fn call(&mut self, function: &str, args: &[Value]) -> Result<Value, String> {
        self.0.push(function.to_string());
        match (function, args) {
            ("verifyImageSignatures", [Value::String(_), Value::List(a)]) => {
                Ok(Value::Int(a.len() as i64))
            }
            ("image.getMetadata", [Value::String(s)]) => {
                Err(format!("failed to get image data: {s}"))
            }
            _ => Err(format!("unexpected {function}")),
        }
    }
}

fn run_with(src: &str, host: &mut Recorder) -> Result<Value, String> {
    let env = env();
    let p = env.compile(src).map_err(|e| format!("compile: {e}"))?;
    let mut vars = BTreeMap::new();
    vars.insert(
        "images".to_string(),
        Value::from_json(&serde_json::json!({"containers": ["ghcr.io/a/b:1", "nginx"]})),
    );
    vars.insert("object".to_string(), Value::Null);
    p.eval(&env, &vars, host, eval::DEFAULT_COST_LIMIT)
        .map_err(|e: EvalError| e.to_string())
}

fn run(src: &str) -> Result<Value, String> {
    run_with(src, &mut Recorder::default())
}

fn string(src: &str) -> String {
    match run(src) {
        Ok(Value::String(s)) => s.to_string(),
        other => panic!("{src} gave {other:?}"),
    }
}

fn yes(src: &str) {
    assert!(
        matches!(run(src), Ok(Value::Bool(true))),
        "{src} → {:?}",
        run(src)
    );
}

#[test]
fn image_references_read_as_go_containerregistry() {
    assert_eq!(
        string("parseImageReference('nginx').registry()"),
        "index.docker.io"
    );
    assert_eq!(
        string("parseImageReference('nginx').repository()"),
        "library/nginx"
    );
    assert_eq!(string("image('nginx:1.25').identifier()"), "1.25");
    assert_eq!(string("parseImageReference('ghcr.io/a/b:1').tag()"), "1");
    assert_eq!(string("parseImageReference('ghcr.io/a/b:1').digest()"), "");
    let d = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    assert_eq!(
        string(&format!(
            "parseImageReference('ghcr.io/a/b:1@{d}').digest()"
        )),
        d
    );
    assert_eq!(
        string(&format!("parseImageReference('ghcr.io/a/b:1@{d}').tag()")),
        ""
    );
    yes(&format!(
        "parseImageReference('ghcr.io/a/b@{d}').containsDigest()"
    ));
    yes("!parseImageReference('ghcr.io/a/b').containsDigest()");
    yes("isImage('ghcr.io/a/b:1') && !isImage('Not An Image')");
    yes("parseImageReference('nginx') == parseImageReference('nginx')");
    yes("parseImageReference('nginx') != parseImageReference('docker.io/nginx')");
    assert!(
        run("parseImageReference('UPPER/case')")
            .unwrap_err()
            .contains("could not parse reference")
    );
    // A comprehension variable named `image` shadows the library.
    yes(
        "images.containers.map(image, parseImageReference(image).registry()) == ['ghcr.io', 'index.docker.io']",
    );
    // Type errors are found when the expression compiles.
    assert!(
        run("parseImageReference(1)")
            .unwrap_err()
            .starts_with("compile:")
    );
    assert!(
        run("'nginx'.registry()")
            .unwrap_err()
            .starts_with("compile:")
    );
}

#[test]
fn generic_libraries() {
    assert_eq!(
        string("sha256('abc')"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        string("hash.sha1('abc')"),
        "a9993e364706816aba3e25717850c26c9cd0d89d"
    );
    assert_eq!(string("md5('')"), "d41d8cd98f00b204e9800998ecf8427e");
    yes(
        "math.round(2.345, 2) == 2.35 && math.round(-2.5, 0) == -3.0 && math.round(1234.0, -2) == 1200.0",
    );
    yes("math.round(2.5) == 3.0");
    yes(
        "time.truncate(timestamp('2024-05-06T07:08:09.5Z'), duration('1h')) == timestamp('2024-05-06T07:00:00Z')",
    );
    yes(
        "time.truncate(timestamp('2024-05-06T07:08:09Z'), duration('-1s')) == timestamp('2024-05-06T07:08:09Z')",
    );
    assert_eq!(
        string("time.toCron(timestamp('2024-05-05T07:08:09Z'))"),
        "8 7 5 5 0"
    );
    yes(
        "cel.bind(m, listObjToMap([{'k': 'a'}, {'k': 'b'}], [{'v': 1}, {}], 'k', 'v'), m.a == 1 && m.b == null && m.size() == 2)",
    );
    assert!(
        run("listObjToMap([{'k': 'a'}], [], 'k', 'v')")
            .unwrap_err()
            .contains("equal length")
    );
    assert!(
        run("transform.listObjToMap([{'k': 1}], [{'v': 1}], 'k', 'v')")
            .unwrap_err()
            .contains("cannot be handled as a string")
    );
    yes(
        "parseServiceAccount('system:serviceaccount:ns:a:b') == {'Namespace': 'ns', 'Name': 'a:b'}",
    );
    yes("user.parseServiceAccount('alice').Namespace == ''");
    // json: numbers decode as doubles; marshalling is Go's.
    yes(
        "cel.bind(v, json.unmarshal('{\"a\": 1, \"b\": [true, null]}'), v.a == 1.0 && type(v.a) == double && v.b[0] && v.b[1] == null)",
    );
    yes("type(json.unmarshal('1')) == double");
    assert_eq!(
        string("json.marshal({'b': dyn(1.0), 'a': dyn('<&>'), 'c': dyn([1e21, 1e-7, 0.5])})"),
        r#"{"a":"\u003c\u0026\u003e","b":1,"c":[1e+21,1e-7,0.5]}"#
    );
    assert!(run("json.unmarshal('{')").is_err());
    assert!(
        run("json.unmarshal(1)")
            .unwrap_err()
            .contains("type conversion error")
    );
    yes(
        "cel.bind(v, yaml.parse('a: 1\\nb: [x]'), type(v.a) == double && v.a == 1.0 && v.b == ['x'])",
    );
    assert!(
        run("yaml.parse('a: [')")
            .unwrap_err()
            .contains("error converting YAML to JSON")
    );
}

#[test]
fn host_functions_go_to_the_host() {
    let mut host = Recorder::default();
    let v = run_with(
        "images.containers.map(i, verifyImageSignatures(i, [1, 2])).all(n, n == 2)",
        &mut host,
    );
    assert!(matches!(v, Ok(Value::Bool(true))), "{v:?}");
    assert_eq!(host.0, ["verifyImageSignatures", "verifyImageSignatures"]);
    let mut host = Recorder::default();
    let e = run_with("image.getMetadata('ghcr.io/a/b:1') != null", &mut host).unwrap_err();
    assert_eq!(e, "failed to get image data: ghcr.io/a/b:1");
    assert_eq!(host.0, ["image.getMetadata"]);
    // Wrong arity or types are compile errors, not host calls.
    assert!(
        run("verifyImageSignatures('x')")
            .unwrap_err()
            .starts_with("compile:")
    );
    assert!(
        run("resource.get('v1', 'configmaps', 'ns')")
            .unwrap_err()
            .starts_with("compile:")
    );
    assert!(
        run("http.client('pem').get(1)")
            .unwrap_err()
            .starts_with("compile:")
    );
}
