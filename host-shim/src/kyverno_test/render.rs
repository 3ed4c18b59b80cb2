//! The Kyverno CLI's test output: its bordered table (`ID`, `POLICY`, `RULE`,
//! `RESOURCE`, `RESULT`, `REASON`, and `MESSAGE` with `--detailed-results`),
//! and `-o json|yaml|markdown|junit`. Unlike Kyverno's, the JUnit document
//! is well-formed XML whatever the messages hold.

use super::check::Row;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// `-o` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Kyverno's bordered table (no `-o`).
    Table,
    /// A JSON array of rows.
    Json,
    /// A YAML list of rows.
    Yaml,
    /// A Markdown table.
    Markdown,
    /// JUnit XML, one test suite per policy.
    Junit,
}

impl Format {
    /// Parses `-o`; Kyverno's error message otherwise.
    pub fn parse(s: Option<&str>) -> Result<Format, String> {
        Ok(match s {
            None | Some("") => Format::Table,
            Some("json") => Format::Json,
            Some("yaml") => Format::Yaml,
            Some("markdown") => Format::Markdown,
            Some("junit") => Format::Junit,
            Some(_) => return Err("invalid format, expected (json, yaml, markdown, junit)".into()),
        })
    }
}

/// Renders rows in the format.
pub fn rows(format: Format, rows: &[Row], detailed: bool) -> String {
    match format {
        Format::Table => table(rows, detailed),
        Format::Json => {
            format!(
                "\n{}\n\n",
                serde_json::to_string_pretty(&maps(rows, detailed)).unwrap_or_default()
            )
        }
        Format::Yaml => format!(
            "\n{}\n\n",
            serde_norway::to_string(&maps(rows, detailed)).unwrap_or_default()
        ),
        Format::Markdown => markdown(rows, detailed),
        Format::Junit => junit(rows, detailed),
    }
}

fn maps(rows: &[Row], detailed: bool) -> Vec<Value> {
    rows.iter()
        .map(|r| {
            let mut m = json!({
                "ID": r.id,
                "POLICY": r.policy,
                "RULE": r.rule,
                "RESOURCE": r.resource,
                "RESULT": r.result,
                "REASON": r.reason,
            });
            if detailed {
                m["Message"] = json!(r.message);
            }
            m
        })
        .collect()
}

fn cells(r: &Row, detailed: bool) -> Vec<String> {
    let mut c = vec![
        r.id.to_string(),
        r.policy.clone(),
        r.rule.clone(),
        r.resource.clone(),
        r.result.to_string(),
        r.reason.clone(),
    ];
    if detailed {
        c.push(r.message.replace('\n', " "));
    }
    c
}

fn headers(detailed: bool) -> Vec<&'static str> {
    let mut h = vec!["ID", "POLICY", "RULE", "RESOURCE", "RESULT", "REASON"];
    if detailed {
        h.push("MESSAGE");
    }
    h
}

/// Kyverno's table: `│` columns between `─` rules.
fn table(rows: &[Row], detailed: bool) -> String {
    let head: Vec<String> = headers(detailed).iter().map(|h| h.to_string()).collect();
    let body: Vec<Vec<String>> = rows.iter().map(|r| cells(r, detailed)).collect();
    let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for row in &body {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count().min(300));
        }
    }
    let rule = || {
        let mut s = String::from("│");
        for w in &widths {
            s.push_str(&"─".repeat(w + 2));
            s.push('│');
        }
        s.push('\n');
        s
    };
    let line = |cells: &[String]| {
        let mut s = String::from("│");
        for (c, w) in cells.iter().zip(&widths) {
            let c: String = c.chars().take(300).collect();
            let pad = w.saturating_sub(c.chars().count());
            s.push_str(&format!(" {c}{} │", " ".repeat(pad)));
        }
        s.push('\n');
        s
    };
    let mut out = String::from("\n");
    out.push_str(&rule());
    out.push_str(&line(&head));
    out.push_str(&rule());
    for row in &body {
        out.push_str(&line(row));
    }
    out.push_str(&rule());
    out.push('\n');
    out
}

fn markdown(rows: &[Row], detailed: bool) -> String {
    let h = headers(detailed);
    let mut b = format!("| {} | \n|{}\n", h.join(" | "), "----|".repeat(h.len()));
    for r in rows {
        let c: Vec<String> = cells(r, detailed)
            .into_iter()
            .map(|c| c.replace('|', "\\|"))
            .collect();
        b.push_str(&format!("| {} |\n", c.join(" | ")));
    }
    format!("\n{b}\n\n")
}

/// Escapes text for an XML attribute or element.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

fn junit(rows: &[Row], detailed: bool) -> String {
    let failures = rows.iter().filter(|r| r.failure).count();
    let mut b = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    b.push_str(&format!(
        "<testsuites tests=\"{}\" failures=\"{failures}\">\n",
        rows.len()
    ));
    let mut suites: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for r in rows {
        suites.entry(&r.policy).or_default().push(r);
    }
    for (policy, rows) in suites {
        let failures = rows.iter().filter(|r| r.failure).count();
        b.push_str(&format!(
            " <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\">\n",
            xml(policy),
            rows.len()
        ));
        for r in rows {
            b.push_str(&format!(
                "  <testcase classname=\"{}\" name=\"{}\">\n",
                xml(&r.rule),
                xml(&r.resource)
            ));
            let mut text = format!(
                "    Policy: {}\n    Rule: {}\n    Resource: {}\n    Result: {}\n",
                r.policy, r.rule, r.resource, r.result
            );
            if detailed {
                text.push_str(&format!("    Message: {}\n", r.message));
            }
            if r.failure {
                b.push_str(&format!(
                    "   <failure message=\"{}\">\n{}   </failure>\n",
                    xml(&r.reason),
                    xml(&text)
                ));
            } else {
                b.push_str(&format!(
                    "   <system-out>\n    Reason: {}\n{}   </system-out>\n",
                    xml(&r.reason),
                    xml(&text)
                ));
            }
            b.push_str("  </testcase>\n");
        }
        b.push_str(" </testsuite>\n");
    }
    b.push_str("</testsuites>");
    format!("\n{b}\n\n")
}
