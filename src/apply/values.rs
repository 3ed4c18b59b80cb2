//! The admission context the Kyverno CLI takes from files: a values file
//! (`namespaceSelector`, `namespaces`, `globalValues`) and a user-info file.
//! Both are read strictly: an unknown or misspelt field is an error naming
//! it. `name` in errors is the file (or editor) the text came from.

use super::AdmissionContext;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// `kind: Values` (`cli.kyverno.io/v1alpha1`).
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Values {
    /// `cli.kyverno.io/v1alpha1`.
    #[serde(default)]
    pub api_version: String,
    /// `Values` (Kyverno also accepts `Value`).
    #[serde(default)]
    pub kind: String,
    /// Ignored.
    #[serde(default)]
    pub metadata: Option<Value>,
    /// `request.operation` sets the operation; other values feed variables.
    #[serde(default)]
    pub global_values: BTreeMap<String, Value>,
    /// Per-policy, per-resource and per-rule variable values.
    #[serde(default)]
    pub policies: Vec<Value>,
    /// Labels by namespace name.
    #[serde(default)]
    pub namespace_selector: Vec<NamespaceLabels>,
    /// Namespace objects (their labels win over `namespaceSelector`).
    #[serde(default)]
    pub namespaces: Vec<Value>,
    /// Subresource descriptions (not used by image rules).
    #[serde(default)]
    pub subresources: Vec<Value>,
}

/// One `namespaceSelector` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamespaceLabels {
    /// Namespace name.
    pub name: String,
    /// Its labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// `kind: UserInfo` (`cli.kyverno.io/v1alpha1`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserInfoFile {
    /// `cli.kyverno.io/v1alpha1`.
    #[serde(default)]
    pub api_version: String,
    /// `UserInfo`.
    #[serde(default)]
    pub kind: String,
    /// Ignored.
    #[serde(default)]
    pub metadata: Option<Value>,
    /// Namespaced roles (`namespace:role`).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Cluster roles.
    #[serde(default)]
    pub cluster_roles: Vec<String>,
    /// The Kubernetes `authentication/v1` UserInfo.
    #[serde(default)]
    pub user_info: AuthUser,
    /// Kyverno's `synchronize` (dry run) flag; ignored.
    #[serde(default)]
    pub synchronize: Option<bool>,
}

/// `authentication/v1` UserInfo.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AuthUser {
    /// User name.
    #[serde(default)]
    pub username: String,
    /// UID (ignored).
    #[serde(default)]
    pub uid: Option<String>,
    /// Groups.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Extra attributes (ignored).
    #[serde(default)]
    pub extra: Option<Value>,
}

fn check_kind(name: &str, api_version: &str, kind: &str, want: &[&str]) -> Result<(), String> {
    if api_version != "cli.kyverno.io/v1alpha1" || !want.contains(&kind) {
        return Err(format!(
            "{name}: expected apiVersion cli.kyverno.io/v1alpha1 and kind {}, found {api_version:?} {kind:?}",
            want.join(" or ")
        ));
    }
    Ok(())
}

/// Parses a values file's text.
pub fn parse_values(name: &str, text: &str) -> Result<Values, String> {
    let v: Values = crate::yaml::from_str(text).map_err(|e| format!("{name}: {e}"))?;
    check_kind(name, &v.api_version, &v.kind, &["Values", "Value"])?;
    Ok(v)
}

/// Parses a user-info file's text into the engine's user shape.
pub fn parse_user_info(name: &str, text: &str) -> Result<Value, String> {
    let u: UserInfoFile = crate::yaml::from_str(text).map_err(|e| format!("{name}: {e}"))?;
    check_kind(name, &u.api_version, &u.kind, &["UserInfo"])?;
    Ok(user_value(&u))
}

fn user_value(u: &UserInfoFile) -> Value {
    json!({
        "username": u.user_info.username,
        "groups": u.user_info.groups,
        "roles": u.roles,
        "clusterRoles": u.cluster_roles,
    })
}

impl Values {
    /// Adds what this file says to `ctx`: namespace labels (the file's
    /// `namespaces` win over its `namespaceSelector`, which win over
    /// Namespace documents) and the operation.
    pub fn apply_to(&self, ctx: &mut AdmissionContext) -> Result<(), String> {
        for n in &self.namespace_selector {
            ctx.namespace_labels
                .insert(n.name.clone(), n.labels.clone());
        }
        for ns in &self.namespaces {
            let name = ns
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .ok_or("namespaces[]: a Namespace without metadata.name")?;
            let labels: BTreeMap<String, String> = ns
                .pointer("/metadata/labels")
                .cloned()
                .map(serde_json::from_value)
                .transpose()
                .map_err(|e| format!("namespaces[] {name}: labels: {e}"))?
                .unwrap_or_default();
            ctx.namespace_labels.insert(name.to_string(), labels);
        }
        if let Some(op) = self.global_values.get("request.operation") {
            let op = op
                .as_str()
                .ok_or("globalValues.request.operation must be a string")?;
            if !matches!(op, "CREATE" | "UPDATE" | "DELETE" | "CONNECT") {
                return Err(format!(
                    "globalValues.request.operation {op:?} is not CREATE, UPDATE, DELETE or CONNECT"
                ));
            }
            ctx.operation = Some(op.to_string());
        }
        // Variable values: `globalValues` and per-policy rule and resource
        // values, read by the engine as the Kyverno CLI reads them.
        ctx.values = json!({
            "globalValues": self.global_values,
            "policies": self.policies,
        });
        Ok(())
    }
}
