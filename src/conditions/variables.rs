//! `{{ }}` variable substitution (placeholder).
