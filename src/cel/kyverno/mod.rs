//! Kyverno's CEL libraries (kyverno/sdk `extensions/cel/libs`), as an
//! ImageValidatingPolicy sees them.
//!
//! - [`IMAGE`] and [`GENERIC`]: functions of their arguments alone: the
//!   image library (`parseImageReference`, `isImage`, `Image` methods), `hash`,
//!   `math.round(double, int)`, `time.truncate`/`time.toCron`, `transform`,
//!   `user`, `json` and `yaml`.
//! - [`HOST`]: functions the evaluation's host answers, because they need
//!   a registry, the cluster, the network, a clock or randomness: the image
//!   verifiers, image data, `resource`, `globalContext`, `http`,
//!   `time.now`, `random`.
//!
//! Kyverno declares `json`, `yaml`, `image`, `http`, `resource` and
//! `globalContext` as variables of opaque types with member functions;
//! here they are qualified global functions (`json.unmarshal`), which the
//! checker resolves the same way unless a local variable of that name
//! shadows them (as in `images.containers.map(image, …)`), as in cel-go.

pub mod image_ref;

use super::functions::{Decl, FnResult};
use super::library::{d as pure, double_arg, host, int_arg, list_arg, no_such_overload, str_arg};
use super::time as t;
use super::value::{Key, MIN_TIMESTAMP_SECONDS, Map, Opaque, Timestamp, Value};
use crate::digest::hex_encode as hex;
use image_ref::{Identifier, ImageRef};
use sha2::Digest as _;
use std::sync::Arc;

/// The CEL type name of an image reference.
pub const IMAGE_TYPE: &str = "kyverno.image";

/// An image reference value.
#[derive(Debug)]
pub struct Image(pub ImageRef);

impl Opaque for Image {
    fn type_name(&self) -> &'static str {
        IMAGE_TYPE
    }
    fn equals(&self, other: &dyn Opaque) -> bool {
        other
            .as_any()
            .downcast_ref::<Image>()
            .is_some_and(|o| o.0 == self.0)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

fn image_arg(v: &Value) -> Result<&ImageRef, String> {
    match v {
        Value::Opaque(o) => o
            .as_any()
            .downcast_ref::<Image>()
            .map(|i| &i.0)
            .ok_or_else(no_such_overload),
        _ => Err(no_such_overload()),
    }
}

fn parse_image(a: &[Value]) -> FnResult {
    let r = ImageRef::parse(str_arg(&a[0])?).map_err(|e| e.to_string())?;
    Ok(Value::Opaque(Arc::new(Image(r))))
}

fn is_image(a: &[Value]) -> FnResult {
    Ok(Value::Bool(ImageRef::parse(str_arg(&a[0])?).is_ok()))
}

fn image_registry(a: &[Value]) -> FnResult {
    Ok(Value::string(image_arg(&a[0])?.registry.as_str()))
}

fn image_repository(a: &[Value]) -> FnResult {
    Ok(Value::string(image_arg(&a[0])?.repository()))
}

fn image_identifier(a: &[Value]) -> FnResult {
    Ok(Value::string(image_arg(&a[0])?.identifier()))
}

fn image_tag(a: &[Value]) -> FnResult {
    Ok(Value::string(match &image_arg(&a[0])?.identifier {
        Identifier::Tag(t) => t.as_str(),
        Identifier::Digest(_) => "",
    }))
}

fn image_digest(a: &[Value]) -> FnResult {
    Ok(Value::string(match &image_arg(&a[0])?.identifier {
        Identifier::Digest(d) => d.as_str(),
        Identifier::Tag(_) => "",
    }))
}

fn image_contains_digest(a: &[Value]) -> FnResult {
    Ok(Value::Bool(matches!(
        image_arg(&a[0])?.identifier,
        Identifier::Digest(_)
    )))
}

fn sha1(a: &[Value]) -> FnResult {
    Ok(Value::string(hex(&sha1::Sha1::digest(
        str_arg(&a[0])?.as_bytes(),
    ))))
}

fn sha256(a: &[Value]) -> FnResult {
    Ok(Value::string(hex(&sha2::Sha256::digest(
        str_arg(&a[0])?.as_bytes(),
    ))))
}

fn md5(a: &[Value]) -> FnResult {
    Ok(Value::string(hex(&md5::Md5::digest(
        str_arg(&a[0])?.as_bytes(),
    ))))
}

/// `math.round(v, places)`: Go's `math.Round(v * 10^p) / 10^p` (ties away
/// from zero).
fn round_places(a: &[Value]) -> FnResult {
    let v = double_arg(&a[0])?;
    let p = int_arg(&a[1])?.clamp(-400, 400) as i32;
    let scale = 10f64.powi(p);
    Ok(Value::Double((v * scale).round() / scale))
}

fn timestamp_arg(v: &Value) -> Result<&Timestamp, String> {
    match v {
        Value::Timestamp(t) => Ok(t),
        _ => Err(no_such_overload()),
    }
}

/// `time.truncate(ts, d)`: Go's `Time.Truncate`, rounding down to a
/// multiple of `d` since year 1; `d <= 0` leaves `ts` as it is.
fn truncate(a: &[Value]) -> FnResult {
    let ts = timestamp_arg(&a[0])?;
    let Value::Duration(d) = a[1] else {
        return Err(no_such_overload());
    };
    if d <= 0 {
        return Ok(Value::Timestamp(*ts));
    }
    let since_zero = ts.total_nanos() - i128::from(MIN_TIMESTAMP_SECONDS) * 1_000_000_000;
    let rem = since_zero.rem_euclid(i128::from(d));
    Timestamp::from_total_nanos(ts.total_nanos() - rem)
        .map(Value::Timestamp)
        .ok_or_else(|| "timestamp out of range".to_string())
}

/// `time.toCron(ts)`: `"<minute> <hour> <day> <month> <weekday>"` in UTC.
fn to_cron(a: &[Value]) -> FnResult {
    let ts = timestamp_arg(&a[0])?;
    let f = |field| t::timestamp_field(ts, 0, field);
    Ok(Value::string(format!(
        "{} {} {} {} {}",
        f(t::Field::Minutes),
        f(t::Field::Hours),
        f(t::Field::Date),
        f(t::Field::Month) + 1,
        f(t::Field::DayOfWeek)
    )))
}

fn string_key(k: &str) -> Key {
    Key::String(Arc::from(k))
}

/// `listObjToMap(keys, values, keyName, valueName)`: a map from each
/// `keys[i][keyName]` to `values[i][valueName]` (`null` when absent).
fn list_obj_to_map(a: &[Value]) -> FnResult {
    let keys = list_arg(&a[0])?;
    let values = list_arg(&a[1])?;
    let key_name = string_key(str_arg(&a[2])?);
    let value_name = string_key(str_arg(&a[3])?);
    if keys.len() != values.len() {
        return Err(format!(
            "listObjToMap must take lists of equal length. list1: {}, list2: {}",
            keys.len(),
            values.len()
        ));
    }
    let mut out = Map::new();
    for (k, v) in keys.iter().zip(values) {
        let Value::Map(k) = k else {
            return Err(format!(
                "failed to convert key to a string, {}",
                k.type_name()
            ));
        };
        let key = match k.get(&key_name) {
            Some(Value::String(s)) => s.clone(),
            _ => {
                return Err(
                    "the passed key name cannot be handled as a string in the key object list"
                        .into(),
                );
            }
        };
        let Value::Map(v) = v else {
            return Err(
                "object cannot be handled as a map string to any in the value object list".into(),
            );
        };
        let value = v.get(&value_name).cloned().unwrap_or(Value::Null);
        out.insert(Key::String(key), value);
    }
    Ok(Value::Map(Arc::new(out)))
}

/// `parseServiceAccount(username)`: `{Namespace, Name}` of
/// `system:serviceaccount:<ns>:<name>`, both empty otherwise.
fn parse_service_account(a: &[Value]) -> FnResult {
    let s = str_arg(&a[0])?;
    let (namespace, name) = s
        .strip_prefix("system:serviceaccount:")
        .and_then(|rest| rest.split_once(':'))
        .unwrap_or(("", ""));
    let mut m = Map::new();
    m.insert(string_key("Namespace"), Value::string(namespace));
    m.insert(string_key("Name"), Value::string(name));
    Ok(Value::Map(Arc::new(m)))
}

/// `json.unmarshal(s)`: Go's `encoding/json` into `any`, so every number
/// is a double.
fn json_unmarshal(a: &[Value]) -> FnResult {
    let s = match &a[0] {
        Value::String(s) => s,
        v => {
            return Err(format!(
                "type conversion error from '{}' to 'string'",
                v.type_name()
            ));
        }
    };
    let v: serde_json::Value = serde_json::from_str(s).map_err(|e| e.to_string())?;
    Ok(Value::from_json_doubles(&v))
}

/// `json.marshal(v)`: Go's `json.Marshal`: sorted keys, no spaces, HTML
/// characters escaped, doubles in Go's shortest form.
fn json_marshal(a: &[Value]) -> FnResult {
    let mut out = String::new();
    write_go_json(&a[0], &mut out)?;
    Ok(Value::string(out))
}

fn write_go_json(v: &Value, out: &mut String) -> Result<(), String> {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Uint(u) => out.push_str(&u.to_string()),
        Value::Duration(d) => out.push_str(&d.to_string()),
        Value::Double(d) => out.push_str(&go_json_float(*d)?),
        Value::String(s) => write_go_string(s, out),
        Value::Bytes(b) => {
            use base64::Engine as _;
            write_go_string(&base64::engine::general_purpose::STANDARD.encode(b), out)
        }
        Value::Timestamp(ts) => write_go_string(&t::format_timestamp(ts), out),
        Value::List(l) => {
            out.push('[');
            for (i, e) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_json(e, out)?;
            }
            out.push(']');
        }
        Value::Map(m) => {
            let mut entries = Vec::with_capacity(m.len());
            for (k, v) in m.iter() {
                let Key::String(k) = k else {
                    return Err("unsupported type: map key must be a string".into());
                };
                entries.push((k, v));
            }
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_string(k, out);
                out.push(':');
                write_go_json(v, out)?;
            }
            out.push('}');
        }
        other => return Err(format!("json: unsupported type: {}", other.type_name())),
    }
    Ok(())
}

/// Go's float encoding (`1e+21`, `1e-7`); NaN and infinities are errors.
fn go_json_float(d: f64) -> Result<String, String> {
    if !d.is_finite() {
        return Err(format!(
            "json: unsupported value: {}",
            super::library::format_double(d)
        ));
    }
    let mut out = String::new();
    crate::conditions::operator::go::format_float_json(&mut out, d);
    Ok(out)
}

fn write_go_string(s: &str, out: &mut String) {
    crate::conditions::variables::go_json_string(out, s);
}

/// `yaml.parse(s)`: the first document, numbers as doubles (YAML is read
/// as JSON, as `sigs.k8s.io/yaml` does).
fn yaml_parse(a: &[Value]) -> FnResult {
    let docs = crate::yaml::parse_stream(str_arg(&a[0])?)
        .map_err(|e| format!("error converting YAML to JSON: {e}"))?;
    Ok(docs
        .first()
        .map(Value::from_json_doubles)
        .unwrap_or(Value::Null))
}

/// The image library: `parseImageReference`, `image`, `isImage` and the
/// `Image` methods (the only library of `matchImageReferences`).
pub const IMAGE: &[Decl] = &[
    pure(
        "parseImageReference",
        None,
        &["string"],
        IMAGE_TYPE,
        parse_image,
    ),
    pure("image", None, &["string"], IMAGE_TYPE, parse_image),
    pure("isImage", None, &["string"], "bool", is_image),
    pure("registry", Some(IMAGE_TYPE), &[], "string", image_registry),
    pure(
        "repository",
        Some(IMAGE_TYPE),
        &[],
        "string",
        image_repository,
    ),
    pure(
        "identifier",
        Some(IMAGE_TYPE),
        &[],
        "string",
        image_identifier,
    ),
    pure("tag", Some(IMAGE_TYPE), &[], "string", image_tag),
    pure("digest", Some(IMAGE_TYPE), &[], "string", image_digest),
    pure(
        "containsDigest",
        Some(IMAGE_TYPE),
        &[],
        "bool",
        image_contains_digest,
    ),
];

/// Kyverno's other libraries that need nothing but their arguments.
pub const GENERIC: &[Decl] = &[
    pure("sha1", None, &["string"], "string", sha1),
    pure("hash.sha1", None, &["string"], "string", sha1),
    pure("sha256", None, &["string"], "string", sha256),
    pure("hash.sha256", None, &["string"], "string", sha256),
    pure("md5", None, &["string"], "string", md5),
    pure("hash.md5", None, &["string"], "string", md5),
    pure(
        "math.round",
        None,
        &["double", "int"],
        "double",
        round_places,
    ),
    pure(
        "time.truncate",
        None,
        &["timestamp", "duration"],
        "timestamp",
        truncate,
    ),
    pure("time.toCron", None, &["timestamp"], "string", to_cron),
    pure(
        "listObjToMap",
        None,
        &["list(dyn)", "list(dyn)", "string", "string"],
        "map(dyn, dyn)",
        list_obj_to_map,
    ),
    pure(
        "transform.listObjToMap",
        None,
        &["list(dyn)", "list(dyn)", "string", "string"],
        "map(dyn, dyn)",
        list_obj_to_map,
    ),
    pure(
        "parseServiceAccount",
        None,
        &["string"],
        "map(string, string)",
        parse_service_account,
    ),
    pure(
        "user.parseServiceAccount",
        None,
        &["string"],
        "map(string, string)",
        parse_service_account,
    ),
    pure("json.unmarshal", None, &["dyn"], "dyn", json_unmarshal),
    pure("json.marshal", None, &["dyn"], "string", json_marshal),
    pure("yaml.parse", None, &["string"], "dyn", yaml_parse),
];

/// Kyverno's functions the host answers (see [`super::Host`]); the host
/// receives the function's name as declared here.
pub const HOST: &[Decl] = &[
    host(
        "verifyImageSignatures",
        None,
        &["string", "list(dyn)"],
        "int",
    ),
    host(
        "verifyAttestationSignatures",
        None,
        &["string", "string", "list(dyn)"],
        "int",
    ),
    host("extractPayload", None, &["string", "string"], "dyn"),
    host("getImageData", None, &["string"], "dyn"),
    host("image.getMetadata", None, &["string"], "dyn"),
    host("image.GetMetadata", None, &["string"], "dyn"),
    host("globalContext.get", None, &["string"], "dyn"),
    host("globalContext.get", None, &["string", "string"], "dyn"),
    host("globalContext.Get", None, &["string"], "dyn"),
    host("globalContext.Get", None, &["string", "string"], "dyn"),
    host("http.get", None, &["string"], "dyn"),
    host("http.get", None, &["string", "map(string, string)"], "dyn"),
    host("http.post", None, &["string", "dyn"], "dyn"),
    host(
        "http.post",
        None,
        &["string", "dyn", "map(string, string)"],
        "dyn",
    ),
    host("http.Get", None, &["string"], "dyn"),
    host("http.Get", None, &["string", "map(string, string)"], "dyn"),
    host("http.Post", None, &["string", "dyn"], "dyn"),
    host(
        "http.Post",
        None,
        &["string", "dyn", "map(string, string)"],
        "dyn",
    ),
    host("http.client", None, &["string"], "kyverno.http"),
    host("http.Client", None, &["string"], "kyverno.http"),
    host("get", Some("kyverno.http"), &["string"], "dyn"),
    host(
        "get",
        Some("kyverno.http"),
        &["string", "map(string, string)"],
        "dyn",
    ),
    host("post", Some("kyverno.http"), &["string", "dyn"], "dyn"),
    host(
        "post",
        Some("kyverno.http"),
        &["string", "dyn", "map(string, string)"],
        "dyn",
    ),
    host("time.now", None, &[], "timestamp"),
    host("random", None, &[], "string"),
    host("random", None, &["string"], "string"),
    host("random.random", None, &[], "string"),
    host("random.random", None, &["string"], "string"),
];

/// `resource` for a cluster-scoped policy: the namespace is an argument.
pub const RESOURCE_CLUSTER: &[Decl] = &[
    host(
        "resource.list",
        None,
        &["string", "string", "string"],
        "map(string, dyn)",
    ),
    host(
        "resource.list",
        None,
        &["string", "string", "string", "map(string, string)"],
        "map(string, dyn)",
    ),
    host(
        "resource.get",
        None,
        &["string", "string", "string", "string"],
        "map(string, dyn)",
    ),
    host(
        "resource.post",
        None,
        &["string", "string", "string", "map(string, dyn)"],
        "map(string, dyn)",
    ),
    host(
        "resource.post",
        None,
        &["string", "string", "map(string, dyn)"],
        "map(string, dyn)",
    ),
    host(
        "resource.List",
        None,
        &["string", "string", "string"],
        "map(string, dyn)",
    ),
    host(
        "resource.List",
        None,
        &["string", "string", "string", "map(string, string)"],
        "map(string, dyn)",
    ),
    host(
        "resource.Get",
        None,
        &["string", "string", "string", "string"],
        "map(string, dyn)",
    ),
    host(
        "resource.Post",
        None,
        &["string", "string", "string", "map(string, dyn)"],
        "map(string, dyn)",
    ),
    host(
        "resource.Post",
        None,
        &["string", "string", "map(string, dyn)"],
        "map(string, dyn)",
    ),
];

/// `resource` for a namespaced policy: always the policy's namespace.
pub const RESOURCE_NAMESPACED: &[Decl] = &[
    host(
        "resource.list",
        None,
        &["string", "string"],
        "map(string, dyn)",
    ),
    host(
        "resource.list",
        None,
        &["string", "string", "map(string, string)"],
        "map(string, dyn)",
    ),
    host(
        "resource.get",
        None,
        &["string", "string", "string"],
        "map(string, dyn)",
    ),
    host(
        "resource.post",
        None,
        &["string", "string", "map(string, dyn)"],
        "map(string, dyn)",
    ),
    host(
        "resource.List",
        None,
        &["string", "string"],
        "map(string, dyn)",
    ),
    host(
        "resource.List",
        None,
        &["string", "string", "map(string, string)"],
        "map(string, dyn)",
    ),
    host(
        "resource.Get",
        None,
        &["string", "string", "string"],
        "map(string, dyn)",
    ),
    host(
        "resource.Post",
        None,
        &["string", "string", "map(string, dyn)"],
        "map(string, dyn)",
    ),
];

#[cfg(test)]
mod tests;
