//! The `ImageValidatingPolicy` and `NamespacedImageValidatingPolicy`
//! documents (`policies.kyverno.io` v1, v1beta1 and v1alpha1: one schema),
//! as written. Unknown fields are ignored, as the API server prunes them.

use crate::policy::model::LabelSelector;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A whole document.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ImagePolicyDocument {
    /// `policies.kyverno.io/v1` and friends.
    #[serde(default)]
    pub api_version: String,
    /// `ImageValidatingPolicy` or `NamespacedImageValidatingPolicy`.
    #[serde(default)]
    pub kind: String,
    /// Name, namespace, annotations.
    #[serde(default)]
    pub metadata: Metadata,
    /// The policy.
    #[serde(default)]
    pub spec: Spec,
}

/// `metadata`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Namespace (the namespaced kind).
    pub namespace: Option<String>,
    /// Annotations.
    pub annotations: Option<BTreeMap<String, String>>,
}

/// `spec`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    /// Which requests: ValidatingAdmissionPolicy's `MatchResources`.
    pub match_constraints: Option<MatchResources>,
    /// `Ignore` or `Fail` (default).
    pub failure_policy: Option<String>,
    /// Report properties.
    pub audit_annotations: Option<Vec<AuditAnnotation>>,
    /// `Deny`, `Audit`, `Warn`.
    pub validation_actions: Option<Vec<String>>,
    /// CEL conditions the request must meet.
    pub match_conditions: Option<Vec<NamedExpression>>,
    /// Named CEL values (`variables.<name>`).
    pub variables: Option<Vec<NamedExpression>>,
    /// `mutateDigest`, `verifyDigest`, `required`.
    pub validation_configurations: Option<ValidationConfigurations>,
    /// Which images: globs or expressions over `ref`.
    pub match_image_references: Option<Vec<MatchImageReference>>,
    /// Registry credentials.
    pub credentials: Option<serde_json::Value>,
    /// Custom image extractors (`images.<name>`).
    pub images: Option<Vec<NamedExpression>>,
    /// Named trust roots.
    pub attestors: Option<Vec<Attestor>>,
    /// Named attestation types.
    pub attestations: Option<Vec<Attestation>>,
    /// The checks.
    pub validations: Option<Vec<Validation>>,
    /// `timeoutSeconds`.
    pub webhook_configuration: Option<WebhookConfiguration>,
    /// `mode`, `admission`, `background`.
    pub evaluation: Option<Evaluation>,
    /// `podControllers.controllers`.
    pub autogen: Option<Autogen>,
}

/// `{name, expression}` (match conditions, variables, image extractors).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct NamedExpression {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// CEL.
    #[serde(default)]
    pub expression: String,
}

/// `auditAnnotations[]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AuditAnnotation {
    /// Key.
    #[serde(default)]
    pub key: String,
    /// CEL string (or null to omit).
    #[serde(default)]
    pub value_expression: String,
}

/// `validations[]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Validation {
    /// CEL bool.
    #[serde(default)]
    pub expression: String,
    /// Static message.
    pub message: Option<String>,
    /// CEL string message.
    pub message_expression: Option<String>,
    /// HTTP reason (`Unauthorized`, `Forbidden`, `Invalid`, `RequestEntityTooLarge`).
    pub reason: Option<String>,
}

/// `validationConfigurations`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ValidationConfigurations {
    /// Patch tags to digests (default true).
    pub mutate_digest: Option<bool>,
    /// Require digests (default true).
    pub verify_digest: Option<bool>,
    /// Every matched image must be verified by some policy (default true).
    pub required: Option<bool>,
}

/// `matchImageReferences[]`: one of the two.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct MatchImageReference {
    /// gobwas glob on the image string as written.
    pub glob: Option<String>,
    /// CEL bool over `ref`.
    pub expression: Option<String>,
}

/// `attestors[]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Attestor {
    /// The name CEL refers to (`attestors.<name>`).
    #[serde(default)]
    pub name: String,
    /// Cosign (keys, keyless, certificates).
    pub cosign: Option<Cosign>,
    /// Notary.
    pub notary: Option<Notary>,
}

/// `attestors[].cosign`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Cosign {
    /// A public key.
    pub key: Option<Key>,
    /// Fulcio identities.
    pub keyless: Option<Keyless>,
    /// A pinned certificate and/or chain.
    pub certificate: Option<Certificate>,
    /// Where signatures live.
    pub source: Option<Source>,
    /// Transparency and CT log settings.
    pub ctlog: Option<CtLog>,
    /// A TUF root for the Sigstore trust material.
    pub tuf: Option<serde_json::Value>,
    /// A Sigstore trusted root (`trusted_root.json`).
    pub trusted_root: Option<StringOrExpression>,
    /// Required signature annotations.
    pub annotations: Option<BTreeMap<String, String>>,
}

/// `key`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Key {
    /// PEM.
    pub data: Option<String>,
    /// KMS URI.
    pub kms: Option<String>,
    /// sha224, sha256 (default), sha384, sha512.
    pub hash_algorithm: Option<String>,
    /// CEL string giving the PEM.
    pub expression: Option<String>,
}

/// `keyless`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Keyless {
    /// Any one must match.
    #[serde(default)]
    pub identities: Vec<Identity>,
    /// Fulcio roots PEM.
    pub roots: Option<String>,
}

/// `identities[]`: exact strings or regular expressions (cosign's rules).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    /// Exact issuer.
    pub issuer: Option<String>,
    /// Exact subject (a SAN).
    pub subject: Option<String>,
    /// Issuer regexp.
    pub issuer_reg_exp: Option<String>,
    /// Subject regexp.
    pub subject_reg_exp: Option<String>,
}

/// `certificate`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Certificate {
    /// Signing certificate.
    pub cert: Option<StringOrExpression>,
    /// Its chain.
    pub cert_chain: Option<StringOrExpression>,
}

/// `{value}` or `{expression}`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct StringOrExpression {
    /// Literal.
    pub value: Option<String>,
    /// CEL string.
    pub expression: Option<String>,
}

/// `source`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    /// Signatures in another repository.
    pub repository: Option<String>,
    /// Pull secrets for it (JSON name as Kyverno spells it).
    #[serde(rename = "PullSecrets")]
    pub pull_secrets: Option<serde_json::Value>,
    /// Signature tag prefix.
    pub tag_prefix: Option<String>,
}

/// `ctlog`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CtLog {
    /// Rekor URL.
    pub url: Option<String>,
    /// Rekor public key PEM.
    pub rekor_pub_key: Option<String>,
    /// CT log public key PEM.
    pub ct_log_pub_key: Option<String>,
    /// TSA chain PEM.
    pub tsa_cert_chain: Option<String>,
    /// Skip the transparency log.
    pub insecure_ignore_tlog: Option<bool>,
    /// Skip the SCT.
    #[serde(rename = "insecureIgnoreSCT")]
    pub insecure_ignore_sct: Option<bool>,
}

/// `notary`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Notary {
    /// Signing CA certificates.
    pub certs: Option<StringOrExpression>,
    /// Timestamping CA certificates.
    pub tsa_certs: Option<StringOrExpression>,
}

/// `attestations[]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Attestation {
    /// The name CEL refers to.
    #[serde(default)]
    pub name: String,
    /// An in-toto predicate type.
    pub intoto: Option<TypeName>,
    /// An OCI referrer artifact type.
    pub referrer: Option<TypeName>,
}

/// `{type}`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct TypeName {
    /// The type.
    #[serde(rename = "type", default)]
    pub type_name: String,
}

/// `webhookConfiguration`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct WebhookConfiguration {
    /// 1..30 (default 10).
    pub timeout_seconds: Option<i64>,
}

/// `evaluation`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Evaluation {
    /// `Kubernetes` (default) or `JSON`.
    pub mode: Option<String>,
    /// `{enabled}`.
    pub admission: Option<Enabled>,
    /// `{enabled}`.
    pub background: Option<Enabled>,
}

/// `{enabled}`.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct Enabled {
    /// Default true.
    pub enabled: Option<bool>,
}

/// `autogen`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Autogen {
    /// `{controllers}`.
    pub pod_controllers: Option<PodControllers>,
}

/// `podControllers`.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct PodControllers {
    /// Kinds, e.g. `deployments`, `cronjobs`.
    pub controllers: Option<Vec<String>>,
}

/// ValidatingAdmissionPolicy's `MatchResources`.
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MatchResources {
    /// Namespace labels.
    pub namespace_selector: Option<LabelSelector>,
    /// Object labels.
    pub object_selector: Option<LabelSelector>,
    /// Included operations and resources.
    pub resource_rules: Option<Vec<NamedRuleWithOperations>>,
    /// Excluded ones.
    pub exclude_resource_rules: Option<Vec<NamedRuleWithOperations>>,
    /// `Exact` or `Equivalent` (default).
    pub match_policy: Option<String>,
}

/// A rule of `resourceRules`.
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NamedRuleWithOperations {
    /// Names (empty: all).
    pub resource_names: Option<Vec<String>>,
    /// `CREATE`, `UPDATE`, `DELETE`, `CONNECT`, `*`.
    pub operations: Option<Vec<String>>,
    /// API groups (`""` core, `*`).
    pub api_groups: Option<Vec<String>>,
    /// Versions.
    pub api_versions: Option<Vec<String>>,
    /// Plural resources, `*`, `pods/status`.
    pub resources: Option<Vec<String>>,
    /// `Cluster`, `Namespaced`, `*`.
    pub scope: Option<String>,
}
