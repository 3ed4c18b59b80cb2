//! A test's `globalContextEntries`: mocked GlobalContextEntry data, resolved
//! as the Kyverno CLI resolves it (`store/gctx_resolve.go`): the root is
//! `data`, or the list of `resources` (inline or from `resourceFiles`);
//! `fieldPath` is applied to it; with `projections`, the entry is the
//! object of their results by name. The engine reads them in place of
//! every GlobalContextEntry.

use super::schema::GlobalContextMock;
use serde_json::{Map, Value};
use std::path::Path;

/// The mocks by entry name, or the first error (named as Kyverno names it).
pub fn resolve(base: &Path, entries: &[GlobalContextMock]) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for e in entries {
        let name = e.name.trim();
        if name.is_empty() {
            return Err("globalContextEntries: name is required".into());
        }
        if out.contains_key(name) {
            return Err(format!("globalContextEntries: duplicate name {name:?}"));
        }
        for p in &e.projections {
            if p.name.trim().is_empty() {
                return Err(format!(
                    "globalContextEntries entry {name:?}: projection name is required"
                ));
            }
            if p.path.trim().is_empty() {
                return Err(format!(
                    "globalContextEntries entry {name:?} projection {:?}: path is required",
                    p.name
                ));
            }
        }
        let data = e.data.as_ref().filter(|d| !d.is_null());
        let sources = usize::from(data.is_some())
            + usize::from(e.resources.is_some())
            + usize::from(e.resource_files.is_some());
        if sources > 1 {
            return Err(format!(
                "globalContextEntries entry {name:?}: data, resources and resourceFiles are mutually exclusive"
            ));
        }
        let root = if let Some(list) = &e.resources {
            Value::Array(list.clone())
        } else if let Some(files) = &e.resource_files {
            let mut list = Vec::new();
            for f in files {
                let path = base.join(f);
                let bytes =
                    crate::safe_fs::read_regular(&path, imgverify::limits::MAX_POLICY_BYTES)
                        .map_err(|err| {
                            format!("globalContextEntries {name:?} resourceFiles: {err}")
                        })?;
                let text = String::from_utf8(bytes).map_err(|_| {
                    format!(
                        "globalContextEntries {name:?} resourceFiles: {} is not UTF-8",
                        path.display()
                    )
                })?;
                let docs = imgverify::yaml::parse_stream(&text).map_err(|err| {
                    format!(
                        "globalContextEntries {name:?} resourceFiles: {}: {err}",
                        path.display()
                    )
                })?;
                list.extend(docs.into_iter().filter(|d| !d.is_null()));
            }
            Value::Array(list)
        } else if let Some(d) = data {
            d.clone()
        } else if e.projections.is_empty() {
            out.insert(name.to_string(), Value::Null);
            continue;
        } else {
            return Err(format!(
                "globalContextEntries {name:?}: data is required when projections are set"
            ));
        };
        let search = |expression: &str, v: &Value| {
            imgverify::conditions::functions::search(expression, v, None).map_err(|e| e.to_string())
        };
        let root = if e.field_path.is_empty() {
            root
        } else {
            search(&e.field_path, &root)
                .map_err(|err| format!("globalContextEntries {name:?} fieldPath: {err}"))?
        };
        let value = if e.projections.is_empty() {
            root
        } else {
            let mut projected = Map::new();
            for p in &e.projections {
                let v = search(&p.path, &root).map_err(|err| {
                    format!(
                        "globalContextEntries {name:?} projection {:?} path {:?}: {err}",
                        p.name, p.path
                    )
                })?;
                projected.insert(p.name.clone(), v);
            }
            Value::Object(projected)
        };
        out.insert(name.to_string(), value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::schema::MockProjection;
    use super::*;

    fn mock(name: &str) -> GlobalContextMock {
        GlobalContextMock {
            name: name.into(),
            data: Some(serde_json::json!({"k": "v"})),
            ..Default::default()
        }
    }

    #[test]
    fn hostile_mocks_are_refused_naming_the_entry() {
        let base = Path::new(".");
        let err = |entries: &[GlobalContextMock]| resolve(base, entries).unwrap_err();
        assert!(err(&[mock("a"), mock("a")]).contains("duplicate name \"a\""));
        assert!(err(&[mock(" ")]).contains("name is required"));
        let both = GlobalContextMock {
            resources: Some(vec![serde_json::json!({})]),
            ..mock("both")
        };
        assert!(
            err(&[both])
                .contains("\"both\": data, resources and resourceFiles are mutually exclusive")
        );
        let unnamed = GlobalContextMock {
            projections: vec![MockProjection {
                name: "".into(),
                path: "k".into(),
            }],
            ..mock("p")
        };
        assert!(err(&[unnamed]).contains("projection name is required"));
        let pathless = GlobalContextMock {
            projections: vec![MockProjection {
                name: "x".into(),
                path: " ".into(),
            }],
            ..mock("p")
        };
        assert!(err(&[pathless]).contains("projection \"x\": path is required"));
        let escaping = GlobalContextMock {
            data: None,
            resource_files: Some(vec!["/etc/passwd-does-not-exist".into()]),
            ..mock("files")
        };
        assert!(err(&[escaping]).contains("resourceFiles"));
        assert_eq!(resolve(base, &[mock("a"), mock("b")]).unwrap().len(), 2);
    }
}
