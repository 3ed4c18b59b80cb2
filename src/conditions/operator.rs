//! Condition operators (placeholder).
