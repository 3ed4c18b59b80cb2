//! The Kyverno `ClusterPolicy` / `Policy` schema (`kyverno.io/v1`, `v2beta1`),
//! as raw serde types. Optional fields stay `Option` here so that CRD defaults
//! can be applied explicitly by [`super::compile`].

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// A policy document as written by users.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PolicyDocument {
    /// `kyverno.io/v1` or `kyverno.io/v2beta1`.
    #[serde(default)]
    pub api_version: String,
    /// `ClusterPolicy` or `Policy`.
    #[serde(default)]
    pub kind: String,
    /// Name, namespace, annotations.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The policy spec.
    #[serde(default)]
    pub spec: Spec,
}

/// The parts of Kubernetes object metadata the engine reads.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    /// Object name.
    #[serde(default)]
    pub name: String,
    /// Namespace (namespaced `Policy` only).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// `spec` of a policy.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    /// Deprecated policy-wide action (`Audit` default).
    pub validation_failure_action: Option<String>,
    /// Deprecated per-namespace overrides.
    #[serde(default)]
    pub validation_failure_action_overrides: Vec<ActionOverride>,
    /// Deprecated; see `webhook_configuration`.
    pub failure_policy: Option<String>,
    /// Deprecated; see `webhook_configuration`.
    pub webhook_timeout_seconds: Option<i64>,
    /// Webhook settings.
    pub webhook_configuration: Option<WebhookConfiguration>,
    /// Background scans (default true).
    pub background: Option<bool>,
    /// Admission processing (default true).
    pub admission: Option<bool>,
    /// `All` (default) or `One`.
    pub apply_rules: Option<String>,
    /// Emit admission warnings.
    pub emit_warning: Option<bool>,
    /// The rules.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// `spec.validationFailureActionOverrides[]`.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ActionOverride {
    /// `Audit` or `Enforce`.
    #[serde(default)]
    pub action: String,
    /// Namespace wildcards.
    pub namespaces: Option<Vec<String>>,
    /// Namespace label selector.
    pub namespace_selector: Option<LabelSelector>,
}

/// `spec.webhookConfiguration`.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct WebhookConfiguration {
    /// `Fail` or `Ignore`.
    pub failure_policy: Option<String>,
    /// 1..30 seconds.
    pub timeout_seconds: Option<i64>,
    /// CEL match conditions (kept, not evaluated here).
    pub match_conditions: Option<Value>,
}

/// One rule.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// Rule name (max 63 characters).
    #[serde(default)]
    pub name: String,
    /// What the rule applies to.
    #[serde(rename = "match", default)]
    pub match_resources: MatchResources,
    /// What it does not apply to.
    pub exclude: Option<MatchResources>,
    /// Context entries (JMESPath data sources).
    pub context: Option<Value>,
    /// Preconditions (JMESPath any/all).
    pub preconditions: Option<Value>,
    /// Custom image extractors per kind.
    pub image_extractors: Option<BTreeMap<String, Vec<ImageExtractor>>>,
    /// Report message overrides.
    pub report_properties: Option<BTreeMap<String, String>>,
    /// Image verification entries.
    pub verify_images: Option<Vec<ImageVerification>>,
    /// A validate rule (not an image rule).
    pub validate: Option<Value>,
    /// A mutate rule (not an image rule).
    pub mutate: Option<Value>,
    /// A generate rule (not an image rule).
    pub generate: Option<Value>,
    /// Skip background requests.
    pub skip_background_requests: Option<bool>,
}

/// `match` / `exclude`.
#[derive(Debug, Clone, Deserialize, Serialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MatchResources {
    /// At least one filter must match.
    pub any: Option<Vec<ResourceFilter>>,
    /// Every filter must match.
    pub all: Option<Vec<ResourceFilter>>,
    /// Legacy flat form.
    pub resources: Option<ResourceDescription>,
    /// Legacy flat user info.
    pub subjects: Option<Vec<Subject>>,
    /// Legacy flat user info.
    pub roles: Option<Vec<String>>,
    /// Legacy flat user info.
    pub cluster_roles: Option<Vec<String>>,
}

/// One filter of `any` / `all`.
#[derive(Debug, Clone, Deserialize, Serialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResourceFilter {
    /// Resource attributes.
    pub resources: Option<ResourceDescription>,
    /// Users, groups, service accounts.
    pub subjects: Option<Vec<Subject>>,
    /// Namespaced roles.
    pub roles: Option<Vec<String>>,
    /// Cluster roles.
    pub cluster_roles: Option<Vec<String>>,
}

/// Resource attributes of a filter.
#[derive(Debug, Clone, Deserialize, Serialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResourceDescription {
    /// Kinds: `Kind`, `version/Kind`, `group/version/Kind`, wildcards, `Kind/sub`.
    pub kinds: Option<Vec<String>>,
    /// Deprecated single name.
    pub name: Option<String>,
    /// Name wildcards.
    pub names: Option<Vec<String>>,
    /// Namespace wildcards.
    pub namespaces: Option<Vec<String>>,
    /// Annotation wildcards.
    pub annotations: Option<BTreeMap<String, String>>,
    /// Label selector.
    pub selector: Option<LabelSelector>,
    /// Namespace label selector.
    pub namespace_selector: Option<LabelSelector>,
    /// CREATE, UPDATE, DELETE, CONNECT.
    pub operations: Option<Vec<String>>,
}

/// A Kubernetes label selector.
#[derive(Debug, Clone, Deserialize, Serialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    /// Equality requirements.
    pub match_labels: Option<BTreeMap<String, String>>,
    /// Set-based requirements.
    pub match_expressions: Option<Vec<LabelSelectorRequirement>>,
}

/// One `matchExpressions` entry.
#[derive(Debug, Clone, Deserialize, Serialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelectorRequirement {
    /// Label key.
    #[serde(default)]
    pub key: String,
    /// In, NotIn, Exists, DoesNotExist.
    #[serde(default)]
    pub operator: String,
    /// Values for In / NotIn.
    pub values: Option<Vec<String>>,
}

/// A subject in match user info.
#[derive(Debug, Clone, Deserialize, Serialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Subject {
    /// User, Group or ServiceAccount.
    #[serde(default)]
    pub kind: String,
    /// Name (wildcards allowed).
    #[serde(default)]
    pub name: String,
    /// ServiceAccount namespace.
    pub namespace: Option<String>,
}

/// `imageExtractors.<Kind>[]`.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ImageExtractor {
    /// `/`-separated path with `*` expanding arrays and maps.
    #[serde(default)]
    pub path: String,
    /// Field holding the image (default: last path segment).
    pub value: Option<String>,
    /// Context bucket name (default `custom`).
    pub name: Option<String>,
    /// Field keying the map.
    pub key: Option<String>,
    /// JMESPath applied to the image string.
    pub jmes_path: Option<String>,
}

/// One `verifyImages[]` entry.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ImageVerification {
    /// `Audit` / `Enforce` for this entry.
    pub failure_action: Option<String>,
    /// `Cosign` (default), `SigstoreBundle`, `Notary`.
    #[serde(rename = "type")]
    pub verifier_type: Option<String>,
    /// Deprecated single image pattern.
    pub image: Option<String>,
    /// Image patterns.
    pub image_references: Option<Vec<String>>,
    /// Images to skip.
    pub skip_image_references: Option<Vec<String>>,
    /// Deprecated key.
    pub key: Option<String>,
    /// Deprecated keyless roots.
    pub roots: Option<String>,
    /// Deprecated keyless subject.
    pub subject: Option<String>,
    /// Deprecated keyless issuer.
    pub issuer: Option<String>,
    /// Deprecated (not converted by Kyverno).
    pub additional_extensions: Option<BTreeMap<String, String>>,
    /// Deprecated default for per-attestor annotations.
    pub annotations: Option<BTreeMap<String, String>>,
    /// Signature checks.
    pub attestors: Option<Vec<AttestorSet>>,
    /// Attestation checks.
    pub attestations: Option<Vec<Attestation>>,
    /// Alternate repository for signatures.
    pub repository: Option<String>,
    /// Also look up OCI 1.1 referrers.
    #[serde(rename = "cosignOCI11")]
    pub cosign_oci11: Option<bool>,
    /// Replace tags by digests (default true).
    pub mutate_digest: Option<bool>,
    /// Require digests in the validate phase (default true).
    pub verify_digest: Option<bool>,
    /// Post-verification deny conditions.
    pub validate: Option<Value>,
    /// Require the image to be verified (default true).
    pub required: Option<bool>,
    /// Registry credentials (host concern).
    pub image_registry_credentials: Option<Value>,
    /// Verification cache opt-out (default true).
    pub use_cache: Option<bool>,
}

/// `attestors[]`.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AttestorSet {
    /// How many entries must verify (0/null: all).
    pub count: Option<i64>,
    /// The entries.
    pub entries: Option<Vec<Attestor>>,
}

/// One attestor entry.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Attestor {
    /// Public keys.
    pub keys: Option<StaticKeyAttestor>,
    /// Certificates.
    pub certificates: Option<CertificateAttestor>,
    /// Keyless (Fulcio) identities.
    pub keyless: Option<KeylessAttestor>,
    /// A nested attestor set (raw JSON in the CRD).
    pub attestor: Option<Value>,
    /// Required payload annotations.
    pub annotations: Option<BTreeMap<String, String>>,
    /// Alternate repository.
    pub repository: Option<String>,
    /// Attestor-level signature algorithm (no effect for keys).
    pub signature_algorithm: Option<String>,
}

/// `keys`.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct StaticKeyAttestor {
    /// PEM public keys (several blocks allowed), `k8s://…`, or a variable.
    pub public_keys: Option<String>,
    /// Kubernetes Secret holding `cosign.pub`.
    pub secret: Option<Value>,
    /// KMS URI.
    pub kms: Option<String>,
    /// Hash: sha224/sha256/sha384/sha512 (default sha256).
    pub signature_algorithm: Option<String>,
    /// Transparency log.
    pub rekor: Option<Rekor>,
    /// CT log.
    pub ctlog: Option<CtLog>,
}

/// `certificates`.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CertificateAttestor {
    /// Signing certificate PEM.
    pub cert: Option<String>,
    /// Chain PEM.
    pub cert_chain: Option<String>,
    /// Transparency log.
    pub rekor: Option<Rekor>,
    /// CT log.
    pub ctlog: Option<CtLog>,
}

/// `keyless`.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct KeylessAttestor {
    /// Subject wildcard.
    pub subject: Option<String>,
    /// Subject regexp.
    pub subject_reg_exp: Option<String>,
    /// Issuer wildcard.
    pub issuer: Option<String>,
    /// Issuer regexp.
    pub issuer_reg_exp: Option<String>,
    /// Roots PEM.
    pub roots: Option<String>,
    /// Certificate extension wildcards.
    pub additional_extensions: Option<BTreeMap<String, String>>,
    /// Transparency log.
    pub rekor: Option<Rekor>,
    /// CT log.
    pub ctlog: Option<CtLog>,
}

/// `rekor`.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Rekor {
    /// Rekor URL.
    pub url: Option<String>,
    /// Rekor public key PEM.
    pub pubkey: Option<String>,
    /// Skip transparency-log verification.
    pub ignore_tlog: Option<bool>,
}

/// `ctlog`.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CtLog {
    /// Skip SCT verification.
    #[serde(rename = "ignoreSCT")]
    pub ignore_sct: Option<bool>,
    /// CT log public key PEM.
    pub pubkey: Option<String>,
    /// TSA certificate chain PEM.
    pub tsa_cert_chain: Option<String>,
}

/// `attestations[]`.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Attestation {
    /// Predicate type (or referrer artifactType for Notary).
    #[serde(rename = "type")]
    pub attestation_type: Option<String>,
    /// Deprecated alias of `type`.
    pub predicate_type: Option<String>,
    /// Context name for the predicate.
    pub name: Option<String>,
    /// Attestor sets.
    pub attestors: Option<Vec<AttestorSet>>,
    /// Condition blocks.
    pub conditions: Option<Value>,
}
