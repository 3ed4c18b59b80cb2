//! Compile-time errors with their position, printed as cel-go prints them:
//! `ERROR: <input>:1:5: message`, the source line and a caret.

use std::fmt;

/// A parse or type-check error at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CelError {
    /// Byte offset into the source.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

impl CelError {
    /// An error at `offset`.
    pub fn new(offset: usize, message: String) -> Self {
        CelError { offset, message }
    }
}

/// Errors of one expression, with its source for line and column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CompileErrors {
    /// The expression.
    pub expression: String,
    /// The errors, in source order.
    pub errors: Vec<CelError>,
}

impl CompileErrors {
    /// One error.
    pub fn one(source: &str, error: CelError) -> Self {
        CompileErrors {
            expression: source.to_string(),
            errors: vec![error],
        }
    }
}

/// Line (1-based) and column (0-based, in code points) of `offset`.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count();
    (line, column)
}

impl fmt::Display for CompileErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, e) in self.errors.iter().enumerate() {
            if n > 0 {
                writeln!(f)?;
            }
            let (line, column) = line_column(&self.expression, e.offset);
            write!(f, "ERROR: <input>:{line}:{}: {}", column + 1, e.message)?;
            if let Some(text) = self.expression.lines().nth(line - 1) {
                write!(f, "\n | {text}\n | {}^", ".".repeat(column))?;
            }
        }
        Ok(())
    }
}
