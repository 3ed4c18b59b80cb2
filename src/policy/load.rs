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
    /// YAML or JSON syntax error (or a bomb, a nesting too deep, a duplicate key).
    #[error("{source_name}: {message}")]
    Syntax {
        /// Source name.
        source_name: String,
        /// Parser message, with the line.
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
    let docs = crate::yaml::parse_stream(text).map_err(|e| LoadError::Syntax {
        source_name: source_name.to_string(),
        message: e.to_string(),
    })?;
    // A JSON array at the top is a list of documents.
    let trimmed = text.trim_start();
    let docs = match docs.as_slice() {
        [Value::Array(_)] if trimmed.starts_with('[') => match docs.into_iter().next() {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        },
        _ => docs,
    };
    for (i, v) in docs.into_iter().enumerate() {
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
