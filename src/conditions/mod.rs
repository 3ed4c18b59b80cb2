//! Kyverno's condition language: JMESPath queries with Kyverno's extension
//! functions, `{{ }}` variable substitution, and the condition operators
//! (`Equals`, `AnyIn`, `DurationGreaterThan`, …) that `conditions`,
//! `preconditions` and `validate.deny` blocks use.
//!
//! - [`functions`]: the JMESPath runtime (built-ins plus Kyverno's functions);
//! - [`variables`]: `{{ }}` substitution in strings and documents;
//! - [`operator`]: the condition operators with Kyverno's type rules.

pub mod functions;
pub mod operator;
pub mod variables;
