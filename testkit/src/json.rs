//! JSON written as Go's `encoding/json` writes it: object keys of maps
//! sorted, struct fields in declaration order, and `<`, `>`, `&`, U+2028
//! and U+2029 escaped inside strings.

use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::Value;

/// A JSON value whose objects serialise with sorted keys (Go marshals a
/// `map[string]any` so), whatever order `serde_json::Map` keeps.
pub struct Sorted<'a>(pub &'a Value);

impl Serialize for Sorted<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let mut m = s.serialize_map(Some(keys.len()))?;
                for k in keys {
                    m.serialize_entry(k, &Sorted(&map[k]))?;
                }
                m.end()
            }
            Value::Array(items) => s.collect_seq(items.iter().map(Sorted)),
            other => other.serialize(s),
        }
    }
}

/// Serialises `value` compactly with Go's HTML-safe string escapes. The
/// characters escaped never occur outside strings in compact JSON, so the
/// escapes are applied to the whole text.
pub fn marshal<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let text = serde_json::to_string(value).expect("JSON serialisation");
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_and_escapes_like_go() {
        let v = serde_json::json!({"b": 1, "a": {"z": "<&>", "y": [true, null]}});
        assert_eq!(
            String::from_utf8(marshal(&Sorted(&v))).unwrap(),
            r#"{"a":{"y":[true,null],"z":"\u003c\u0026\u003e"},"b":1}"#
        );
    }
}
