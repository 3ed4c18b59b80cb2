//! Reading policy and resource documents: multi-document YAML or JSON, and
//! Kubernetes `List` objects.

use serde_json::Value;

/// Why a document set could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// Input exceeds a size limit.
    #[error("{what} is {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// What was read.
        what: &'static str,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// YAML or JSON syntax error.
    #[error("{source_name}: document {index}: {message}")]
    Syntax {
        /// Source name.
        source_name: String,
        /// 0-based document index.
        index: usize,
        /// Parser message.
        message: String,
    },
}

/// One parsed document with where it came from.
#[derive(Debug, Clone)]
pub struct Document {
    /// Source name plus document index, e.g. `policies/a.yaml#1`.
    pub origin: String,
    /// The document.
    pub value: Value,
}

/// Parses every document in `text` (YAML stream or JSON), expanding `List`s
/// and skipping empty documents.
pub fn parse_documents(
    source_name: &str,
    text: &str,
    limit: usize,
) -> Result<Vec<Document>, LoadError> {
    if text.len() > limit {
        return Err(LoadError::TooLarge {
            what: "document set",
            size: text.len(),
            limit,
        });
    }
    let mut out = Vec::new();
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let v: Value = serde_json::from_str(text).map_err(|e| LoadError::Syntax {
            source_name: source_name.to_string(),
            index: 0,
            message: e.to_string(),
        })?;
        let values = match v {
            Value::Array(a) => a,
            v => vec![v],
        };
        for (i, v) in values.into_iter().enumerate() {
            push_expanded(&mut out, format!("{source_name}#{i}"), v);
        }
        return Ok(out);
    }
    for (i, de) in serde_norway::Deserializer::from_str(text).enumerate() {
        let v: Value = serde::Deserialize::deserialize(de).map_err(|e| LoadError::Syntax {
            source_name: source_name.to_string(),
            index: i,
            message: e.to_string(),
        })?;
        push_expanded(&mut out, format!("{source_name}#{i}"), v);
    }
    Ok(out)
}

fn push_expanded(out: &mut Vec<Document>, origin: String, v: Value) {
    if v.is_null() {
        return;
    }
    let is_list = v
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k == "List" || k.ends_with("List"))
        && v.get("items").is_some_and(Value::is_array);
    if is_list {
        if let Some(Value::Array(items)) = v.get("items") {
            for (j, item) in items.iter().enumerate() {
                out.push(Document {
                    origin: format!("{origin}.items[{j}]"),
                    value: item.clone(),
                });
            }
        }
    } else {
        out.push(Document { origin, value: v });
    }
}
