//! The `kyverno-test.yaml` schema (`cli.kyverno.io/v1alpha1` `Test`), read
//! strictly as the Kyverno CLI reads it: an unknown or misspelt field is an
//! error naming its path, and every YAML document of a file is one test.
//! Fields for inputs imgverify does not evaluate (HTTP and Envoy
//! payloads, target resources, API call mocks, …) are errors rather than
//! silently ignored, so a suite never passes by skipping what it tests.

use serde::Deserialize;
use serde_json::Value;

/// One test: a YAML document of a test file.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestDoc {
    /// `cli.kyverno.io/v1alpha1`.
    #[serde(default)]
    pub api_version: String,
    /// `Test`.
    #[serde(default)]
    pub kind: String,
    /// Its `metadata` (`name` names the test).
    #[serde(default)]
    pub metadata: Option<Value>,
    /// The deprecated top-level name (a deprecated-schema error, as in Kyverno).
    #[serde(default)]
    pub name: Option<String>,
    /// Policy files or folders, relative to the test file.
    #[serde(default)]
    pub policies: Vec<String>,
    /// Resource files or folders, relative to the test file.
    #[serde(default)]
    pub resources: Vec<String>,
    /// A values file, relative to the test file.
    #[serde(default)]
    pub variables: Option<String>,
    /// A user-info file, relative to the test file.
    #[serde(default)]
    pub userinfo: Option<String>,
    /// Inline values (`kind: Values` without its header).
    #[serde(default)]
    pub values: Option<Value>,
    /// Expected results.
    #[serde(default)]
    pub results: Vec<Expectation>,
    /// PolicyException files.
    #[serde(default)]
    pub exceptions: Vec<String>,
    /// A JSON payload file (deprecated for `jsonPayloads`).
    #[serde(default)]
    pub json_payload: Option<String>,
    /// JSON payload files, for policies in `evaluation.mode: JSON`; results
    /// name a payload by its entry here.
    #[serde(default)]
    pub json_payloads: Vec<String>,
    #[serde(default)]
    /// Unsupported input (an error when given).
    pub http_payloads: Option<Value>,
    #[serde(default)]
    /// Unsupported input (an error when given).
    pub envoy_payloads: Option<Value>,
    #[serde(default)]
    /// Unsupported input (an error when given).
    pub target_resources: Option<Value>,
    #[serde(default)]
    /// Unsupported input (an error when given).
    pub param_resources: Option<Value>,
    #[serde(default)]
    /// Unsupported input (an error when given).
    pub context: Option<Value>,
    /// `ClusterResource` files: objects the policies read from the API
    /// (context `configMap`/`apiCall` entries, `resource.get`/`list`).
    #[serde(default)]
    pub cluster_resources: Vec<String>,
    #[serde(default)]
    /// Unsupported input (an error when given).
    pub api_call_responses: Option<Value>,
    /// Mocked GlobalContextEntry data, by entry name.
    #[serde(default)]
    pub global_context_entries: Vec<GlobalContextMock>,
}

/// A `globalContextEntries` item: the data a GlobalContextEntry would hold.
#[derive(Debug, Deserialize, Clone, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GlobalContextMock {
    /// The entry's name.
    #[serde(default)]
    pub name: String,
    /// An arbitrary JSON root.
    #[serde(default)]
    pub data: Option<Value>,
    /// Inline Kubernetes objects (the root is their list).
    #[serde(default)]
    pub resources: Option<Vec<Value>>,
    /// YAML files of objects, relative to the test file.
    #[serde(default)]
    pub resource_files: Option<Vec<String>>,
    /// A JMESPath applied to the root first.
    #[serde(default)]
    pub field_path: String,
    /// Named JMESPaths over the root.
    #[serde(default)]
    pub projections: Vec<MockProjection>,
}

/// A mocked entry's projection.
#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct MockProjection {
    /// The name policies read it by.
    #[serde(default)]
    pub name: String,
    /// The JMESPath.
    #[serde(default)]
    pub path: String,
}

impl TestDoc {
    /// The JSON payload entries: `jsonPayloads`, then the deprecated
    /// `jsonPayload`.
    pub fn payload_names(&self) -> Vec<String> {
        let mut names = self.json_payloads.clone();
        if let Some(p) = self.json_payload.as_ref().filter(|p| !p.is_empty())
            && !names.contains(p)
        {
            names.push(p.clone());
        }
        names
    }

    /// The unsupported input fields given, by their YAML names.
    pub fn unsupported_inputs(&self) -> Vec<&'static str> {
        let fields = [
            ("httpPayloads", &self.http_payloads),
            ("envoyPayloads", &self.envoy_payloads),
            ("targetResources", &self.target_resources),
            ("paramResources", &self.param_resources),
            ("context", &self.context),
            ("apiCallResponses", &self.api_call_responses),
        ];
        fields
            .into_iter()
            .filter(|(_, v)| v.as_ref().is_some_and(|v| !is_empty(v)))
            .map(|(name, _)| name)
            .collect()
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// One expected result.
#[derive(Debug, Deserialize, Clone, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Expectation {
    /// Policy name (`namespace/name` for a namespaced Policy).
    pub policy: String,
    /// Rule name; empty means every rule of the policy. `rule: X` also
    /// matches the autogen rules `autogen-X` and `autogen-cronjob-X`.
    #[serde(default)]
    pub rule: String,
    /// Resource names: `name` or `namespace/name`; none means every resource.
    #[serde(default)]
    pub resources: Vec<String>,
    /// Resources by group, version, kind, namespace and name.
    #[serde(default)]
    pub resource_specs: Vec<ResourceSpec>,
    /// The resource kind (informational, as in Kyverno).
    #[serde(default)]
    pub kind: String,
    /// `pass`, `fail`, `warn`, `error` or `skip`.
    pub result: String,
    /// A file holding the resource as the policies leave it.
    #[serde(default)]
    pub patched_resources: Option<String>,
    /// Fail, rather than skip, when `patchedResources` lacks the resource.
    #[serde(default)]
    pub fail_on_missing_resources: bool,
    /// The admission operation the expectation is for (results of the
    /// test's resources under that operation).
    #[serde(default)]
    pub operation: Option<String>,
    /// Policy-type flags of other Kyverno policy kinds; set means unsupported.
    #[serde(default)]
    pub is_validating_admission_policy: bool,
    /// See `is_validating_admission_policy`.
    #[serde(default)]
    pub is_mutating_admission_policy: bool,
    /// See `is_validating_admission_policy`.
    #[serde(default)]
    pub is_validating_policy: bool,
    /// See `is_validating_admission_policy`.
    #[serde(default)]
    pub is_deleting_policy: bool,
    /// The expectation is about an ImageValidatingPolicy (informational,
    /// as in Kyverno: its results carry the policy name as the rule).
    #[serde(default)]
    pub is_image_validating_policy: bool,
    /// See `is_validating_admission_policy`.
    #[serde(default)]
    pub is_generating_policy: bool,
    /// See `is_validating_admission_policy`.
    #[serde(default)]
    pub is_mutating_policy: bool,
    /// Generate-rule expectations (unsupported).
    #[serde(default)]
    pub generated_resource: Option<String>,
    /// Generate-rule expectations (unsupported).
    #[serde(default)]
    pub generated_resources: Vec<String>,
    /// Generate-rule expectations (unsupported).
    #[serde(default)]
    pub clone_source_resource: Option<String>,
}

/// A resource by its coordinates (`resourceSpecs`).
#[derive(Debug, Deserialize, Clone, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceSpec {
    /// API group (empty for the core group).
    #[serde(default)]
    pub group: String,
    /// API version.
    #[serde(default)]
    pub version: String,
    /// Kind (checked when given; Kyverno ignores it).
    #[serde(default)]
    pub kind: String,
    /// Namespace.
    #[serde(default)]
    pub namespace: String,
    /// Subresource (unsupported when set).
    #[serde(default)]
    pub subresource: String,
    /// Name.
    #[serde(default)]
    pub name: String,
}

/// The results a test may expect.
pub const RESULTS: &[&str] = &["pass", "fail", "warn", "error", "skip"];

impl Expectation {
    /// What this expectation uses that imgverify does not evaluate.
    pub fn unsupported(&self) -> Option<&'static str> {
        let kinds = [
            (
                self.is_validating_admission_policy,
                "isValidatingAdmissionPolicy",
            ),
            (
                self.is_mutating_admission_policy,
                "isMutatingAdmissionPolicy",
            ),
            (self.is_validating_policy, "isValidatingPolicy"),
            (self.is_deleting_policy, "isDeletingPolicy"),
            (self.is_generating_policy, "isGeneratingPolicy"),
            (self.is_mutating_policy, "isMutatingPolicy"),
            (self.generated_resource.is_some(), "generatedResource"),
            (!self.generated_resources.is_empty(), "generatedResources"),
            (self.clone_source_resource.is_some(), "cloneSourceResource"),
            (
                self.resource_specs
                    .iter()
                    .any(|s| !s.subresource.is_empty()),
                "resourceSpecs[].subresource",
            ),
        ];
        kinds
            .into_iter()
            .find(|(set, _)| *set)
            .map(|(_, name)| name)
    }
}

impl TestDoc {
    /// `metadata.name`, or empty.
    pub fn display_name(&self) -> String {
        self.metadata
            .as_ref()
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }

    /// Why the document is not a current-schema test (Kyverno's deprecated
    /// schema check: no apiVersion or kind, or the legacy top-level `name`),
    /// or what in it imgverify cannot evaluate.
    pub fn check(&self) -> Result<(), String> {
        if self.api_version.is_empty() || self.kind.is_empty() || self.name.is_some() {
            return Err(
                "uses a deprecated schema (no apiVersion/kind, or a top-level `name`): please migrate to the latest format (`kyverno fix test`)"
                    .into(),
            );
        }
        if self.api_version != "cli.kyverno.io/v1alpha1" || self.kind != "Test" {
            return Err(format!(
                "expected apiVersion cli.kyverno.io/v1alpha1 and kind Test, found {:?} {:?}",
                self.api_version, self.kind
            ));
        }
        if let Some(field) = self.unsupported_inputs().first() {
            return Err(format!(
                "{field}: imgverify evaluates Kyverno policies against resources only; this test input is not supported"
            ));
        }
        for (i, r) in self.results.iter().enumerate() {
            if !RESULTS.contains(&r.result.as_str()) {
                return Err(format!(
                    "results[{i}].result: {:?} is not one of {}",
                    r.result,
                    RESULTS.join(", ")
                ));
            }
            if r.policy.is_empty() {
                return Err(format!("results[{i}].policy: required"));
            }
            if let Some(field) = r.unsupported() {
                return Err(format!(
                    "results[{i}].{field}: imgverify evaluates ClusterPolicy and Policy verifyImages rules and ImageValidatingPolicies; this expectation is not supported"
                ));
            }
            if let Some(op) = &r.operation
                && !matches!(op.as_str(), "CREATE" | "UPDATE" | "DELETE" | "CONNECT")
            {
                return Err(format!(
                    "results[{i}].operation: {op:?} is not CREATE, UPDATE, DELETE or CONNECT"
                ));
            }
        }
        Ok(())
    }
}

/// Reads every test of a test file's text.
pub fn parse(text: &str) -> Result<Vec<TestDoc>, String> {
    let docs = imgverify::yaml::parse_stream(text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for (i, d) in docs.into_iter().enumerate() {
        if d.is_null() {
            continue;
        }
        let test: TestDoc = imgverify::yaml::from_value(d).map_err(|e| {
            if i == 0 {
                e
            } else {
                format!("document {}: {e}", i + 1)
            }
        })?;
        out.push(test);
    }
    Ok(out)
}
