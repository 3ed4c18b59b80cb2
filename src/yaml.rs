//! Reading YAML (and JSON, which is YAML) from untrusted hands, in linear
//! time and memory: an event parser (`saphyr-parser`, whose flow nesting is
//! bounded) feeding a builder that bounds nesting depth and the total size of
//! what it builds (alias expansion included, so an alias bomb is refused
//! rather than expanded), and refuses duplicate keys naming the key and line.
//!
//! Scalars resolve by the YAML 1.2 core schema, as `serde_yaml` does: `null`,
//! `~` and empty are null; `true`/`false` are booleans; decimal, `0o` and `0x`
//! integers and decimal floats are numbers; everything else, and anything
//! quoted, is a string. Mapping keys are strings (a scalar key's text).
//! Merge keys (`<<`) merge mappings, explicit keys winning.

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Deepest nesting of sequences and mappings.
pub const MAX_DEPTH: usize = 100;

/// Why a YAML stream was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line} column {column}: {message}")]
pub struct YamlError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl YamlError {
    fn at(span: &Span, message: impl Into<String>) -> Self {
        YamlError {
            line: span.start.line(),
            column: span.start.col() + 1,
            message: message.into(),
        }
    }

    fn scan(e: &ScanError) -> Self {
        YamlError {
            line: e.marker().line(),
            column: e.marker().col() + 1,
            message: e.info().to_string(),
        }
    }
}

/// The budget of what one stream may build: nodes plus string bytes (anchored
/// copies included), about four times the input's size. Plain documents stay
/// near one; only alias expansion reaches it.
fn budget_for(input_len: usize) -> usize {
    input_len.saturating_mul(4).saturating_add(64 * 1024)
}

/// A value being built with its cost (nodes + string bytes).
struct Built {
    value: Value,
    cost: usize,
}

enum Frame {
    Seq {
        items: Vec<Value>,
        cost: usize,
        anchor: usize,
    },
    Map {
        map: Map<String, Value>,
        cost: usize,
        anchor: usize,
        /// Line of each explicit key, for duplicate errors.
        lines: BTreeMap<String, usize>,
        /// The key waiting for its value, and whether it is a merge key.
        key: Option<(String, bool, Span)>,
        /// Mappings merged with `<<`, applied at the end.
        merged: Vec<Map<String, Value>>,
    },
}

struct Builder {
    stack: Vec<Frame>,
    anchors: BTreeMap<usize, (Value, usize)>,
    docs: Vec<Value>,
    spent: usize,
    budget: usize,
}

impl Builder {
    fn charge(&mut self, cost: usize, span: &Span) -> Result<(), YamlError> {
        self.spent = self.spent.saturating_add(cost);
        if self.spent > self.budget {
            return Err(YamlError::at(
                span,
                format!(
                    "the document expands to more than {} nodes and bytes (aliases expanded); refused",
                    self.budget
                ),
            ));
        }
        Ok(())
    }

    fn open(&mut self, frame: Frame, span: &Span) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(YamlError::at(
                span,
                format!("nesting deeper than {MAX_DEPTH} levels"),
            ));
        }
        self.charge(1, span)?;
        self.stack.push(frame);
        Ok(())
    }

    /// Adds a finished value to the enclosing collection or the document list.
    fn push(&mut self, b: Built, anchor: usize, span: &Span) -> Result<(), YamlError> {
        if anchor != 0 {
            // The anchor keeps a copy: it costs what it holds.
            self.charge(b.cost, span)?;
            self.anchors.insert(anchor, (b.value.clone(), b.cost));
        }
        match self.stack.last_mut() {
            None => self.docs.push(b.value),
            Some(Frame::Seq { items, cost, .. }) => {
                *cost += b.cost;
                items.push(b.value);
            }
            Some(Frame::Map {
                map,
                cost,
                lines,
                key,
                merged,
                ..
            }) => match key.take() {
                None => {
                    return Err(YamlError::at(
                        span,
                        "a mapping key must be a scalar, not a sequence or mapping",
                    ));
                }
                Some((_, true, kspan)) => {
                    *cost += b.cost;
                    match b.value {
                        Value::Object(m) => merged.push(m),
                        Value::Array(list) => {
                            for item in list {
                                match item {
                                    Value::Object(m) => merged.push(m),
                                    _ => {
                                        return Err(YamlError::at(
                                            &kspan,
                                            "a merge key (<<) takes a mapping or a list of mappings",
                                        ));
                                    }
                                }
                            }
                        }
                        _ => {
                            return Err(YamlError::at(
                                &kspan,
                                "a merge key (<<) takes a mapping or a list of mappings",
                            ));
                        }
                    }
                }
                Some((k, false, kspan)) => {
                    if let Some(first) = lines.get(&k) {
                        return Err(YamlError::at(
                            &kspan,
                            format!("duplicate key {k:?} (first at line {first})"),
                        ));
                    }
                    lines.insert(k.clone(), kspan.start.line());
                    *cost += b.cost;
                    map.insert(k, b.value);
                }
            },
        }
        Ok(())
    }

    /// A scalar: a key when a mapping waits for one, else a value.
    fn scalar(
        &mut self,
        text: Cow<str>,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<Cow<Tag>>,
        span: &Span,
    ) -> Result<(), YamlError> {
        let cost = 1 + text.len();
        self.charge(cost, span)?;
        if let Some(Frame::Map { key, cost: c, .. }) = self.stack.last_mut()
            && key.is_none()
        {
            let merge = style == ScalarStyle::Plain && text == "<<" && tag.is_none();
            let k = text.into_owned();
            *c += cost;
            *key = Some((k.clone(), merge, *span));
            if anchor != 0 {
                self.charge(cost, span)?;
                self.anchors.insert(anchor, (Value::String(k), cost));
            }
            return Ok(());
        }
        let value = resolve(&text, style, tag.as_deref(), span)?;
        self.push(Built { value, cost }, anchor, span)
    }

    fn alias(&mut self, id: usize, span: &Span) -> Result<(), YamlError> {
        let Some((value, cost)) = self.anchors.get(&id).cloned() else {
            return Err(YamlError::at(span, "alias to an unknown anchor"));
        };
        self.charge(cost, span)?;
        if let Some(Frame::Map { key, .. }) = self.stack.last()
            && key.is_none()
        {
            let Value::String(k) = value else {
                return Err(YamlError::at(span, "a mapping key must be a scalar"));
            };
            if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
                *key = Some((k, false, *span));
            }
            return Ok(());
        }
        self.push(Built { value, cost }, 0, span)
    }

    fn close(&mut self, span: &Span) -> Result<(), YamlError> {
        let (built, anchor) = match self.stack.pop() {
            Some(Frame::Seq {
                items,
                cost,
                anchor,
            }) => (
                Built {
                    value: Value::Array(items),
                    cost: cost + 1,
                },
                anchor,
            ),
            Some(Frame::Map {
                mut map,
                cost,
                anchor,
                key,
                merged,
                ..
            }) => {
                if let Some((k, _, kspan)) = key {
                    return Err(YamlError::at(&kspan, format!("key {k:?} has no value")));
                }
                for m in merged {
                    for (k, v) in m {
                        map.entry(k).or_insert(v);
                    }
                }
                (
                    Built {
                        value: Value::Object(map),
                        cost: cost + 1,
                    },
                    anchor,
                )
            }
            None => return Err(YamlError::at(span, "unbalanced end of a collection")),
        };
        self.push(built, anchor, span)
    }
}

/// Resolves a scalar by its style and tag (YAML 1.2 core schema).
fn resolve(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
    span: &Span,
) -> Result<Value, YamlError> {
    let core = tag
        .filter(|t| t.is_yaml_core_schema())
        .map(|t| t.suffix.as_str());
    if style != ScalarStyle::Plain || core == Some("str") || core == Some("binary") {
        if let Some(kind) = core.filter(|c| !matches!(*c, "str" | "binary")) {
            return typed(text, kind, span);
        }
        return Ok(Value::String(text.to_string()));
    }
    if let Some(kind) = core {
        return typed(text, kind, span);
    }
    Ok(plain(text).unwrap_or_else(|| Value::String(text.to_string())))
}

fn typed(text: &str, kind: &str, span: &Span) -> Result<Value, YamlError> {
    let bad = || YamlError::at(span, format!("{text:?} is not a valid !!{kind}"));
    match kind {
        "null" => Ok(Value::Null),
        "bool" => match plain(text) {
            Some(b @ Value::Bool(_)) => Ok(b),
            _ => Err(bad()),
        },
        "int" => int(text).ok_or_else(bad),
        "float" => float(text)
            .map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number))
            .ok_or_else(bad),
        _ => Ok(Value::String(text.to_string())),
    }
}

/// A plain scalar's value, or `None` for a string.
fn plain(text: &str) -> Option<Value> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    if let Some(n) = int(text) {
        return Some(n);
    }
    // Infinities and NaN have no JSON form: they read as null, as serde_yaml does.
    float(text).map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number))
}

fn int(text: &str) -> Option<Value> {
    let (neg, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, body) = if let Some(h) = text.strip_prefix("0x") {
        (16, h)
    } else if let Some(o) = text.strip_prefix("0o") {
        (8, o)
    } else {
        (10, digits)
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    if radix != 10 {
        return u64::from_str_radix(body, radix).ok().map(Value::from);
    }
    if neg {
        text.parse::<i64>().ok().map(Value::from)
    } else {
        body.parse::<u64>().ok().map(Value::from)
    }
}

fn float(text: &str) -> Option<f64> {
    let t = text.strip_prefix(['-', '+']).unwrap_or(text);
    match t {
        ".inf" | ".Inf" | ".INF" => {
            return Some(if text.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            });
        }
        ".nan" | ".NaN" | ".NAN" if t == text => return Some(f64::NAN),
        _ => {}
    }
    // [0-9]+ ( . [0-9]* )? | . [0-9]+ , then an optional exponent.
    let b = t.as_bytes();
    let mut i = 0;
    let int_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let exp = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp == 0 {
            return None;
        }
        i += exp;
    }
    if i != b.len() {
        return None;
    }
    text.parse::<f64>().ok()
}

/// Parses every document of a YAML stream into JSON values (an empty
/// document is `null`).
pub fn parse_stream(text: &str) -> Result<Vec<Value>, YamlError> {
    let mut b = Builder {
        stack: Vec::new(),
        anchors: BTreeMap::new(),
        docs: Vec::new(),
        spent: 0,
        budget: budget_for(text.len()),
    };
    let mut parser = Parser::new_from_str(text);
    let mut in_doc = false;
    let mut doc_had_value = false;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| YamlError::scan(&e))?;
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
            Event::DocumentStart(_) => {
                in_doc = true;
                doc_had_value = false;
                b.anchors.clear();
            }
            Event::DocumentEnd => {
                if in_doc && !doc_had_value {
                    b.docs.push(Value::Null);
                }
                in_doc = false;
            }
            Event::Alias(id) => {
                doc_had_value |= b.stack.is_empty();
                b.alias(id, &span)?;
            }
            Event::Scalar(text, style, anchor, tag) => {
                doc_had_value |= b.stack.is_empty();
                b.scalar(text, style, anchor, tag, &span)?;
            }
            Event::SequenceStart(anchor, _) => {
                doc_had_value |= b.stack.is_empty();
                b.open(
                    Frame::Seq {
                        items: Vec::new(),
                        cost: 0,
                        anchor,
                    },
                    &span,
                )?;
            }
            Event::MappingStart(anchor, _) => {
                doc_had_value |= b.stack.is_empty();
                b.open(
                    Frame::Map {
                        map: Map::new(),
                        cost: 0,
                        anchor,
                        lines: BTreeMap::new(),
                        key: None,
                        merged: Vec::new(),
                    },
                    &span,
                )?;
            }
            Event::SequenceEnd | Event::MappingEnd => b.close(&span)?,
        }
    }
    Ok(b.docs)
}

/// Parses a single-document YAML (or JSON) text into a typed value; errors
/// name the line, or the field path for a type mismatch.
pub fn from_str<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    let mut docs = parse_stream(text).map_err(|e| e.to_string())?;
    let value = match docs.len() {
        0 => Value::Null,
        1 => docs.remove(0),
        n => return Err(format!("expected one YAML document, found {n}")),
    };
    from_value(value)
}

/// Deserializes one parsed document into a typed value; errors name the
/// field path of a type mismatch or an unknown field.
pub fn from_value<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            e.inner().to_string()
        } else {
            format!("{path}: {}", e.inner())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(text: &str) -> Value {
        let mut d = parse_stream(text).unwrap();
        assert_eq!(d.len(), 1, "{text}");
        d.remove(0)
    }

    #[test]
    fn core_schema_scalars() {
        assert_eq!(
            one(
                "a: ~\nb: true\nc: 12\nd: -3\ne: 0x1f\nf: 0o17\ng: 1.5\nh: 1e3\ni: yes\nj: '12'\nk: \"true\"\nl: 1.2.3\nm: .inf\nn: !!str 5\no:\np: 007\nq: +4\n"
            ),
            json!({"a": null, "b": true, "c": 12, "d": -3, "e": 31, "f": 15, "g": 1.5, "h": 1000.0,
                   "i": "yes", "j": "12", "k": "true", "l": "1.2.3", "m": null, "n": "5", "o": null, "p": 7, "q": 4})
        );
    }

    #[test]
    fn documents_anchors_merges_and_json() {
        let docs = parse_stream(
            "---\na: &x [1, 2]\nb: *x\n---\n---\nbase: &b {k: 1, j: 2}\nm:\n  <<: *b\n  j: 3\n",
        )
        .unwrap();
        assert_eq!(docs[0], json!({"a": [1, 2], "b": [1, 2]}));
        assert_eq!(docs[1], Value::Null);
        assert_eq!(docs[2]["m"], json!({"k": 1, "j": 3}));
        assert_eq!(
            one(r#"{"a": [1, {"b": "c\u00e9\/"}], "d": null}"#),
            json!({"a": [1, {"b": "cé/"}], "d": null})
        );
        assert_eq!(parse_stream("").unwrap(), Vec::<Value>::new());
    }

    #[test]
    fn duplicate_keys_name_the_key_and_line() {
        let e = parse_stream("a: 1\nb:\n  c: 1\n  c: 2\n").unwrap_err();
        assert_eq!(
            (e.line, e.message.as_str()),
            (4, "duplicate key \"c\" (first at line 3)")
        );
        let e = parse_stream("{\"x\": 1, \"x\": 2}").unwrap_err();
        assert!(e.message.contains("duplicate key \"x\""), "{e}");
    }

    #[test]
    fn bombs_are_refused_quickly() {
        // Nested flow sequences.
        let t = std::time::Instant::now();
        let deep = "[".repeat(200_000);
        assert!(parse_stream(&deep).is_err());
        let deep_block: String = (0..2000)
            .map(|i| format!("{}- \n", " ".repeat(i)))
            .collect();
        let e = parse_stream(&deep_block).unwrap_err();
        assert!(e.message.contains("nesting deeper"), "{e}");
        // A billion laughs: each level doubles the last.
        let mut laughs = String::from("a0: &a0 [\"lol\", \"lol\"]\n");
        for i in 1..40 {
            laughs.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}]\n", p = i - 1));
        }
        let e = parse_stream(&laughs).unwrap_err();
        assert!(e.message.contains("expands to more than"), "{e}");
        // 20 KB of aliases to one anchored list.
        let mut wide = String::from("x: &x [");
        wide.push_str(&"\"aaaaaaaaaaaaaaaa\", ".repeat(100));
        wide.push_str("]\ny: [");
        wide.push_str(&"*x, ".repeat(5000));
        wide.push_str("]\n");
        assert!(parse_stream(&wide).is_err());
        assert!(
            t.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            t.elapsed()
        );
    }
}

/// Where a field is written: the 1-based line and column of the node at
/// `path` (`spec.rules[0].verifyImages[0].keys`, as compile errors name
/// fields) in the `document`-th document of a YAML stream, or of its deepest
/// written ancestor when the field itself is absent (a missing field is
/// reported where its parent is). `None` when the text does not parse that
/// far. For editors pointing at a problem; never used to decide.
pub fn locate(text: &str, document: usize, path: &str) -> Option<(usize, usize)> {
    locate_all(text, &[(document, path)]).pop().flatten()
}

/// [`locate`] for many fields in one pass over the text (a policy set
/// with thousands of problems is parsed once, not once per problem).
pub fn locate_all(text: &str, queries: &[(usize, &str)]) -> Vec<Option<(usize, usize)>> {
    enum Frame {
        Map {
            key: Option<(String, (usize, usize))>,
            path: String,
        },
        Seq {
            next: usize,
            path: String,
        },
    }
    /// The path of the node starting now, given the enclosing frames; a map
    /// key is `None` (keys are not nodes of a path).
    fn node_path(stack: &[Frame]) -> Option<String> {
        match stack.last() {
            None => Some(String::new()),
            Some(Frame::Map { key: None, .. }) => None,
            Some(Frame::Map {
                key: Some((k, _)),
                path,
            }) => Some(if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            }),
            Some(Frame::Seq { next, path }) => Some(format!("{path}[{next}]")),
        }
    }
    /// After a node ends in the top frame: a map expects its next key, a
    /// sequence counts the item.
    fn node_done(stack: &mut [Frame]) {
        match stack.last_mut() {
            Some(Frame::Map { key, .. }) => *key = None,
            Some(Frame::Seq { next, .. }) => *next += 1,
            None => {}
        }
    }
    // Each query by its exact path, and by every ancestor path it has (cut
    // before each `.` and `[`, and the document itself): a node answers the
    // queries it is, or is the deepest ancestor of.
    let mut exact: BTreeMap<(usize, &str), Vec<usize>> = BTreeMap::new();
    let mut ancestors: BTreeMap<(usize, &str), Vec<usize>> = BTreeMap::new();
    for (i, (doc, path)) in queries.iter().enumerate() {
        exact.entry((*doc, path)).or_default().push(i);
        ancestors.entry((*doc, "")).or_default().push(i);
        for (cut, c) in path.char_indices() {
            if cut > 0 && (c == '.' || c == '[') {
                ancestors.entry((*doc, &path[..cut])).or_default().push(i);
            }
        }
    }
    let mut found: Vec<Option<(usize, usize)>> = vec![None; queries.len()];
    // (prefix length, place) of the deepest ancestor seen, per query.
    let mut best: Vec<Option<(usize, (usize, usize))>> = vec![None; queries.len()];
    let mut consider = |doc: usize, p: &str, at: (usize, usize)| {
        for &i in exact.get(&(doc, p)).into_iter().flatten() {
            found[i].get_or_insert(at);
        }
        for &i in ancestors.get(&(doc, p)).into_iter().flatten() {
            if best[i].is_none_or(|(len, _)| p.len() >= len) {
                best[i] = Some((p.len(), at));
            }
        }
    };
    let mut parser = Parser::new_from_str(text);
    let mut doc: Option<usize> = None;
    let mut count = 0usize;
    let mut stack: Vec<Frame> = Vec::new();
    let last_doc = queries.iter().map(|q| q.0).max();
    while let Some(Ok((event, span))) = parser.next_event() {
        let at = (span.start.line(), span.start.col() + 1);
        match event {
            Event::DocumentStart(_) => {
                if last_doc.is_none_or(|last| count > last) {
                    break;
                }
                doc = Some(count);
                count += 1;
                stack.clear();
            }
            Event::DocumentEnd => doc = None,
            Event::Scalar(..) | Event::Alias(_) if doc.is_some() => {
                if let Some(Frame::Map {
                    key: key @ None, ..
                }) = stack.last_mut()
                {
                    // A key (an alias as a key keeps keys and values paired).
                    let name = match event {
                        Event::Scalar(value, ..) => value.into_owned(),
                        _ => "*".into(),
                    };
                    *key = Some((name, at));
                    continue;
                }
                if let (Some(d), Some(p)) = (doc, node_path(&stack)) {
                    consider(d, &p, at);
                }
                node_done(&mut stack);
            }
            Event::MappingStart(..) | Event::SequenceStart(..) if doc.is_some() => {
                // A complex key has no path anyone names; its insides are
                // walked under a key no query holds.
                let p = node_path(&stack).unwrap_or_else(|| "\u{0}".into());
                // A collection is pointed at by its key (a block one starts
                // on the next line).
                let at = match stack.last() {
                    Some(Frame::Map {
                        key: Some((_, key_at)),
                        ..
                    }) => *key_at,
                    _ => at,
                };
                if let Some(d) = doc {
                    consider(d, &p, at);
                }
                stack.push(if matches!(event, Event::MappingStart(..)) {
                    Frame::Map { key: None, path: p }
                } else {
                    Frame::Seq { next: 0, path: p }
                });
            }
            Event::MappingEnd | Event::SequenceEnd if doc.is_some() => {
                stack.pop();
                node_done(&mut stack);
            }
            _ => {}
        }
    }
    found
        .into_iter()
        .zip(best)
        .map(|(f, b)| f.or(b.map(|(_, at)| at)))
        .collect()
}

#[cfg(test)]
mod locate_tests {
    use super::locate;

    const TEXT: &str = "a: 1\n---\napiVersion: v1\nspec:\n  rules:\n  - name: r\n    verifyImages:\n    - imageReferences: [\"x\"]\n      attestors:\n      - count: 3\n";

    #[test]
    fn finds_fields_items_and_ancestors() {
        assert_eq!(locate(TEXT, 0, "a"), Some((1, 4)));
        assert_eq!(locate(TEXT, 1, "apiVersion"), Some((3, 13)));
        assert_eq!(locate(TEXT, 1, "spec.rules[0].name"), Some((6, 11)));
        assert_eq!(
            locate(TEXT, 1, "spec.rules[0].verifyImages[0].attestors[0].count"),
            Some((10, 16))
        );
        assert_eq!(
            locate(TEXT, 1, "spec.rules[0].verifyImages[0].imageReferences[0]"),
            Some((8, 25))
        );
        // Absent: the deepest written ancestor.
        assert_eq!(
            locate(
                TEXT,
                1,
                "spec.rules[0].verifyImages[0].attestors[0].entries"
            ),
            Some((10, 9))
        );
        assert_eq!(locate(TEXT, 1, "spec.rulesX"), Some((4, 1)));
        assert_eq!(locate(TEXT, 1, "spec.rules[0].verifyImages"), Some((7, 5)));
        // Text that stops parsing: what was read so far, never a panic.
        assert_eq!(locate("a:\n  b: [\n", 0, "a.b[0]"), Some((2, 3)));
        assert_eq!(locate(TEXT, 5, "a"), None);
    }

    #[test]
    fn many_fields_in_one_pass() {
        let queries = [
            (1, "spec.rules[0].name"),
            (0, "a"),
            (1, "spec.nothing.here"),
            (3, "a"),
        ];
        assert_eq!(
            super::locate_all(TEXT, &queries),
            vec![Some((6, 11)), Some((1, 4)), Some((4, 1)), None]
        );
        // An alias as a key keeps the next pair in place.
        let t = "x: &k a\n*k : 1\nb: 2\n";
        assert_eq!(locate(t, 0, "b"), Some((3, 4)));
    }
}
