//! Reading policy and resource files: files, folders (recursively, `.yaml`,
//! `.yml`, `.json`), and `-` for stdin.

use std::io::Read;
use std::path::{Path, PathBuf};

/// A named text input.
#[derive(Debug, Clone)]
pub struct NamedText {
    /// Path or `<stdin>`.
    pub name: String,
    /// Contents.
    pub text: String,
}

/// Why inputs could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {error}")]
pub struct InputError {
    /// The path.
    pub path: String,
    /// The error.
    pub error: std::io::Error,
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), InputError> {
    let err = |error| InputError {
        path: dir.display().to_string(),
        error,
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(err)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            out.push(p);
        }
    }
    Ok(())
}

/// Reads every input; folders are walked, `-` reads stdin once.
pub fn read_all(paths: &[String], skip_file_names: &[&str]) -> Result<Vec<NamedText>, InputError> {
    let mut out = Vec::new();
    for p in paths {
        if p == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|error| InputError {
                    path: "<stdin>".into(),
                    error,
                })?;
            out.push(NamedText {
                name: "<stdin>".into(),
                text,
            });
            continue;
        }
        let path = PathBuf::from(p);
        let mut files = Vec::new();
        if path.is_dir() {
            walk(&path, &mut files)?;
            files.retain(|f| {
                !f.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| skip_file_names.contains(&n))
            });
        } else {
            files.push(path);
        }
        for f in files {
            let text = std::fs::read_to_string(&f).map_err(|error| InputError {
                path: f.display().to_string(),
                error,
            })?;
            out.push(NamedText {
                name: f.display().to_string(),
                text,
            });
        }
    }
    Ok(out)
}
