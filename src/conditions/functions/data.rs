//! Data functions: `parse_json`, `parse_yaml`, `lookup`, `items`,
//! `object_from_lists`, `image_normalize` and `is_external_url`.

use std::collections::BTreeMap;

use jmespath::{Rcvar, Variable};
use serde_json::Value;

use super::numbers::int_number;
use super::url::url_hostname;
use super::{
    arg, arg_str, boolean, generic, iface_to_string, json_to_var, number, string, type_error, var,
};

pub(super) fn jp_parse_json(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("parse_json", args, 0)?;
    let value: Value = serde_json::from_slice(s.as_bytes()).map_err(|e| e.to_string())?;
    json_to_var(value)
}

pub(super) fn jp_parse_yaml(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("parse_yaml", args, 0)?;
    let docs = crate::yaml::parse_stream(s)
        .map_err(|e| format!("error converting YAML to JSON: yaml: {e}"))?;
    json_to_var(docs.into_iter().next().unwrap_or(Value::Null))
}

pub(super) fn jp_lookup(args: &[Rcvar]) -> Result<Rcvar, String> {
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

pub(super) fn jp_items(args: &[Rcvar]) -> Result<Rcvar, String> {
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

pub(super) fn jp_object_from_lists(args: &[Rcvar]) -> Result<Rcvar, String> {
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

pub(super) fn jp_image_normalize(args: &[Rcvar]) -> Result<Rcvar, String> {
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

pub(super) fn jp_is_external_url(args: &[Rcvar]) -> Result<Rcvar, String> {
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

#[cfg(test)]
mod tests {
    use crate::conditions::functions::search;
    use crate::conditions::functions::tests::{fails, q, qd, qe, qe_with, table};
    use serde_json::json;

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
}
