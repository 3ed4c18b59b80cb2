//! A workspace holding what `imgverify apply` is given — policies,
//! resources, a values file and artifacts — as editable texts, with every
//! problem placed at its line: the playground's model, behind the JS API.
//! Evaluating it gives the same document as `apply --format json`.

use super::artifacts::{ArtifactStore, LoadArtifactsError, Loaded};
use super::{AdmissionContext, ResourceOutcome};
use crate::engine::{EngineError, EngineOptions};
use crate::policy::load::{self, Document, LoadError};
use serde::Serialize;
use std::sync::Arc;

/// The name policies are compiled under (documents are `policy#N`).
pub const POLICY_SOURCE: &str = "policy";
/// The name resources are read under (documents are `resources#N`).
pub const RESOURCES_SOURCE: &str = "resources";
/// The name of the values text.
pub const VALUES_SOURCE: &str = "values";

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Blocks the policy (or the whole text).
    Error,
    /// A lint: the policy still runs.
    Warning,
}

/// A problem in one of the texts, placed where an editor can show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `policy`, `resources` or `values`.
    pub source: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// The document (`policy#0 ClusterPolicy/name`), when one is known.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub document: String,
    /// The field path, when one is known.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// 1-based line in the text, when it can be placed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

/// Lines as YAML and editors count them (`\n`, `\r\n`, a lone `\r`).
fn line_count(text: &str) -> usize {
    let b = text.as_bytes();
    let breaks = b
        .iter()
        .enumerate()
        .filter(|&(i, &c)| c == b'\n' || (c == b'\r' && b.get(i + 1) != Some(&b'\n')))
        .count();
    breaks + 1
}

/// A parser's place, kept inside the text (an error at the end of input
/// may be reported on the line after the last).
fn within(text: &str, place: Option<(usize, usize)>) -> Option<(usize, usize)> {
    place.map(|(line, column)| {
        let last = line_count(text);
        if line > last {
            (last, 1)
        } else {
            (line.max(1), column.max(1))
        }
    })
}

impl Problem {
    fn in_text(source: &'static str, text: &str, message: String) -> Self {
        // A syntax error carries its place; find it again from the parser.
        let place = within(
            text,
            crate::yaml::parse_stream(text)
                .err()
                .map(|e| (e.line, e.column)),
        );
        Problem {
            source,
            severity: Severity::Error,
            document: String::new(),
            path: String::new(),
            message,
            line: place.map(|p| p.0),
            column: place.map(|p| p.1),
        }
    }

    /// Problems at fields (`(severity, document, path, message)`), placed
    /// with one pass over the text.
    fn at_fields<'a>(
        source: &'static str,
        text: &str,
        fields: impl IntoIterator<Item = (Severity, &'a str, &'a str, &'a str)>,
    ) -> Vec<Problem> {
        let fields: Vec<_> = fields.into_iter().collect();
        let queries: Vec<(Option<usize>, String)> = fields
            .iter()
            .map(|(_, document, path, _)| document_place(source, document, path))
            .collect();
        let located: Vec<(usize, &str)> = queries
            .iter()
            .filter_map(|(doc, path)| doc.map(|d| (d, path.as_str())))
            .collect();
        let mut places = crate::yaml::locate_all(text, &located).into_iter();
        fields
            .into_iter()
            .zip(&queries)
            .map(|((severity, document, path, message), (doc, _))| {
                let place = within(text, doc.and_then(|_| places.next().flatten()));
                Problem {
                    source,
                    severity,
                    document: document.to_string(),
                    path: path.to_string(),
                    message: message.to_string(),
                    line: place.map(|p| p.0),
                    column: place.map(|p| p.1),
                }
            })
            .collect()
    }
}

/// Where a problem's field is in the text: the stream index in its
/// document origin (`policy#3 ClusterPolicy/x` → 3) and its path there (an
/// item of a `List` document, `policy#0.items[2] …`, is under `items[2]`).
fn document_place(source: &str, document: &str, path: &str) -> (Option<usize>, String) {
    let Some(rest) = document
        .strip_prefix(source)
        .and_then(|r| r.strip_prefix('#'))
    else {
        return (None, path.to_string());
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let rest = &rest[digits.len()..];
    let item = rest
        .strip_prefix(".items[")
        .and_then(|r| r.split_once(']'))
        .map(|(j, _)| j)
        .filter(|j| !j.is_empty() && j.bytes().all(|b| b.is_ascii_digit()));
    let path = match item {
        Some(j) if path.is_empty() => format!("items[{j}]"),
        Some(j) => format!("items[{j}].{path}"),
        None => path.to_string(),
    };
    (digits.parse().ok(), path)
}

/// Why a workspace cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkspaceError {
    /// The policy text did not compile at all.
    #[error("the policies do not compile: fix the problems listed first")]
    NoEngine,
    /// No resource with that index.
    #[error("no resource {0}")]
    NoResource(usize),
}

/// Policies, resources, values and artifacts being authored.
#[derive(Debug, Default)]
pub struct Workspace {
    engine: Option<Arc<crate::Engine>>,
    policy_problems: Vec<Problem>,
    resources: Vec<Document>,
    resource_problems: Vec<Problem>,
    context: AdmissionContext,
    /// `context` with the labels of the Namespace documents among the
    /// resources; derived when first needed after either changes.
    request_context: Option<AdmissionContext>,
    values_problems: Vec<Problem>,
    store: ArtifactStore,
    outcomes: Vec<ResourceOutcome>,
}

impl Workspace {
    /// An empty workspace.
    pub fn new() -> Self {
        Self::default()
    }

    /// Compiles the policy text as `apply` does (invalid policies are left
    /// out and listed; the others run). Returns its problems.
    pub fn set_policy(&mut self, text: &str) -> &[Problem] {
        let options = EngineOptions {
            skip_invalid_policies: true,
            ..Default::default()
        };
        self.policy_problems.clear();
        self.engine = None;
        let problems = &mut self.policy_problems;
        match crate::Engine::compile_with(&[(POLICY_SOURCE, text)], &options) {
            Ok(engine) => {
                let summary = engine.summary();
                let errors = summary.invalid.iter().flat_map(|i| &i.errors);
                let errors = errors.map(|e| (Severity::Error, &*e.document, &*e.path, &*e.message));
                let lints = engine.lints().iter();
                let lints = lints.map(|l| (Severity::Warning, &*l.document, &*l.path, &*l.message));
                problems.extend(Problem::at_fields(POLICY_SOURCE, text, errors.chain(lints)));
                self.engine = Some(Arc::new(engine));
            }
            Err(EngineError::Compile(errors)) => {
                let errors = errors
                    .iter()
                    .map(|e| (Severity::Error, &*e.document, &*e.path, &*e.message));
                problems.extend(Problem::at_fields(POLICY_SOURCE, text, errors));
            }
            Err(e) => problems.push(Problem::in_text(POLICY_SOURCE, text, e.to_string())),
        }
        &self.policy_problems
    }

    /// Reads the resource text (multi-document YAML, JSON, `List`s).
    /// Returns its problems.
    pub fn set_resources(&mut self, text: &str) -> &[Problem] {
        self.resource_problems.clear();
        self.resources.clear();
        self.request_context = None;
        match load::parse_documents(RESOURCES_SOURCE, text, crate::limits::MAX_REQUEST_BYTES) {
            Ok(docs) => self.resources = docs,
            Err(e @ (LoadError::Syntax { .. } | LoadError::TooLarge { .. })) => self
                .resource_problems
                .push(Problem::in_text(RESOURCES_SOURCE, text, e.to_string())),
        }
        &self.resource_problems
    }

    /// Reads a Kyverno CLI values file (`kind: Values`); empty text means
    /// none. Returns its problems.
    pub fn set_values(&mut self, text: &str) -> &[Problem] {
        self.values_problems.clear();
        self.context = AdmissionContext::default();
        self.request_context = None;
        if text.trim().is_empty() {
            return &self.values_problems;
        }
        let applied = super::values::parse_values(VALUES_SOURCE, text)
            .and_then(|v| v.apply_to(&mut self.context));
        if let Err(message) = applied {
            self.context = AdmissionContext::default();
            self.values_problems
                .push(Problem::in_text(VALUES_SOURCE, text, message));
        }
        &self.values_problems
    }

    /// Every problem: policy, resources, values.
    pub fn problems(&self) -> Vec<Problem> {
        let mut all = self.policy_problems.clone();
        all.extend(self.resource_problems.iter().cloned());
        all.extend(self.values_problems.iter().cloned());
        all
    }

    /// Adds an OCI layout `.tar` or a `fetch` bundle.
    pub fn load_artifacts(
        &mut self,
        name: &str,
        bytes: &[u8],
    ) -> Result<Loaded, LoadArtifactsError> {
        self.store.load(name, bytes)
    }

    /// Forgets every artifact.
    pub fn clear_artifacts(&mut self) {
        self.store = ArtifactStore::new();
    }

    /// How many resource documents there are.
    pub fn resource_count(&self) -> usize {
        self.resources.len()
    }

    /// Starts an evaluation: forgets the last one's outcomes.
    pub fn begin(&mut self) -> Result<(), WorkspaceError> {
        self.outcomes.clear();
        self.engine
            .as_ref()
            .map(|_| ())
            .ok_or(WorkspaceError::NoEngine)
    }

    /// Decides resource `index` (at `now`, RFC 3339) and keeps its outcome
    /// for [`Workspace::document`]. Resources are decided one at a time so
    /// that a caller can time each.
    pub fn evaluate_resource(
        &mut self,
        index: usize,
        now: Option<&str>,
    ) -> Result<&ResourceOutcome, WorkspaceError> {
        let engine = self.engine.clone().ok_or(WorkspaceError::NoEngine)?;
        if self.request_context.is_none() {
            // Namespace documents give their labels, as in `apply`: learnt
            // once per set of texts, not once per resource.
            let mut context = self.context.clone();
            context.learn_namespaces(self.resources.iter().map(|d| &d.value));
            self.request_context = Some(context);
        }
        let (Some(context), Some(doc)) = (&self.request_context, self.resources.get(index)) else {
            return Err(WorkspaceError::NoResource(index));
        };
        let store = &self.store;
        let mut outcome = ResourceOutcome::undecided(doc.value.clone());
        match super::drive(&engine, &context.request(&doc.value, now), &mut |f| {
            store.answer(f)
        }) {
            Ok(decision) => outcome.decided(decision),
            Err(e) => outcome.failed(&doc.origin, &e),
        }
        self.outcomes.push(outcome);
        self.outcomes
            .last()
            .ok_or(WorkspaceError::NoResource(index))
    }

    /// Decides every resource at `now`.
    pub fn evaluate(&mut self, now: Option<&str>) -> Result<serde_json::Value, WorkspaceError> {
        self.begin()?;
        for i in 0..self.resources.len() {
            self.evaluate_resource(i, now)?;
        }
        Ok(self.document())
    }

    /// The `apply --format json` document of the outcomes so far.
    pub fn document(&self) -> serde_json::Value {
        super::document(&self.outcomes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_name_the_field_at_its_line() {
        let mut w = Workspace::new();
        let text = "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\nspec:\n  rules:\n  - name: r\n    match: {any: [{resources: {kinds: [Pod]}}]}\n    verifyImages:\n    - imageReferences: [\"*\"]\n      attestors:\n      - count: -1\n        entries:\n        - keys: {publicKeys: \"x\"}\n";
        let problems = w.set_policy(text).to_vec();
        assert!(!problems.is_empty());
        let count = problems
            .iter()
            .find(|p| p.path.ends_with("attestors[0].count"))
            .unwrap_or_else(|| panic!("{problems:?}"));
        assert_eq!(count.severity, Severity::Error);
        assert_eq!(count.line, Some(11), "{count:?}");
        assert!(count.document.starts_with("policy#0"), "{count:?}");
        // An item of a List document is placed inside it.
        let list = format!(
            "apiVersion: v1\nkind: List\nitems:\n- {}",
            text.replace("\n", "\n  ")
        );
        let in_list = w.set_policy(&list).to_vec();
        let count = in_list
            .iter()
            .find(|p| p.path.ends_with("attestors[0].count"))
            .unwrap_or_else(|| panic!("{in_list:?}"));
        assert_eq!(count.line, Some(14), "{count:?}");
        // An error at the end of input stays on the text's last line (the
        // fuzzer's find: the parser names the line after it), lone CRs
        // counting as line breaks as in YAML and the editor.
        for t in ["spec: {a: 1,\n  ", "a: 1\rb: {c\r"] {
            let p = w.set_policy(t).to_vec();
            assert!(
                p[0].line.is_some_and(|l| l <= line_count(t)),
                "{t:?}: {p:?}"
            );
        }
        assert_eq!(line_count("a\r\nb\rc\n"), 4);
        let syntax = w.set_policy("a: [\n").to_vec();
        assert_eq!(syntax[0].line, Some(2), "{syntax:?}");
        assert_eq!(w.begin(), Err(WorkspaceError::NoEngine));
        let r = w.set_resources("kind: Pod\n  bad: : indent\n").to_vec();
        assert_eq!(r[0].source, "resources");
        assert!(r[0].line.is_some(), "{r:?}");
        let v = w
            .set_values(
                "apiVersion: cli.kyverno.io/v1alpha1\nkind: Values\nnamespaceSelectors: []\n",
            )
            .to_vec();
        assert!(v[0].message.contains("namespaceSelectors"), "{v:?}");
        assert!(w.set_values("").is_empty());
    }
}
