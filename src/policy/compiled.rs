//! The compiled, validated form of a policy the engine evaluates.

use super::model::{ImageExtractor, LabelSelector, MatchResources};
use crate::crypto::{HashAlgorithm, PublicKey};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// `Audit` or `Enforce`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Action {
    /// Report only.
    Audit,
    /// Block.
    Enforce,
}

impl Action {
    /// Parses `audit`, `Audit`, `enforce`, `Enforce`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Audit" | "audit" => Some(Self::Audit),
            "Enforce" | "enforce" => Some(Self::Enforce),
            _ => None,
        }
    }
}

/// What happens when a rule errors (not fails).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FailurePolicy {
    /// Errors block the request.
    Fail,
    /// Errors are ignored.
    Ignore,
}

/// A `validationFailureActionOverrides` entry.
#[derive(Debug, Clone)]
pub struct ActionOverride {
    /// The action.
    pub action: Action,
    /// Namespace wildcards (`None`: all).
    pub namespaces: Option<Vec<String>>,
    /// Namespace selector (`None`: all).
    pub namespace_selector: Option<LabelSelector>,
}

/// A compiled policy.
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace` for a namespaced `Policy`.
    pub namespace: Option<String>,
    /// Where it came from, for messages (`<source>#<doc> ClusterPolicy/name`).
    pub origin: String,
    /// `spec.validationFailureAction` (default Audit).
    pub action: Action,
    /// Overrides by namespace.
    pub overrides: Vec<ActionOverride>,
    /// Failure policy (default Fail).
    pub failure_policy: FailurePolicy,
    /// Webhook timeout in seconds (default 10).
    pub timeout_seconds: u32,
    /// Background scanning.
    pub background: bool,
    /// `applyRules: One`.
    pub apply_one: bool,
    /// `emitWarning`.
    pub emit_warning: bool,
    /// `policies.kyverno.io/scored` is not "false".
    pub scored: bool,
    /// `policies.kyverno.io/category`.
    pub category: Option<String>,
    /// `policies.kyverno.io/severity`.
    pub severity: Option<String>,
    /// Rules after autogen.
    pub rules: Vec<CompiledRule>,
}

impl CompiledPolicy {
    /// The name used in reports: `name`, or `namespace/name` for a `Policy`.
    pub fn report_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }

    /// The key in the scoped annotation: `namespace/name` or `/name`.
    pub fn scoped_key(&self) -> String {
        format!("{}/{}", self.namespace.as_deref().unwrap_or(""), self.name)
    }
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    /// Rule name (autogen names included).
    pub name: String,
    /// `match`.
    pub match_resources: MatchResources,
    /// `exclude`.
    pub exclude: Option<MatchResources>,
    /// Custom extractors by kind.
    pub image_extractors: Option<BTreeMap<String, Vec<ImageExtractor>>>,
    /// `reportProperties`.
    pub report_properties: BTreeMap<String, String>,
    /// `context` entries, loaded in order before `preconditions`.
    pub context: Vec<ContextEntry>,
    /// `preconditions`: when they do not hold the rule is skipped.
    pub preconditions: Option<crate::conditions::Conditions>,
    /// What the rule does.
    pub body: RuleBody,
    /// Features the offline engine cannot evaluate yet; a matching rule
    /// reports `error` naming them rather than silently passing.
    pub unsupported: Vec<String>,
}

/// A rule's `context` entry: a name and where its value comes from.
#[derive(Debug, Clone)]
pub struct ContextEntry {
    /// The variable name (dots make nested objects).
    pub name: String,
    /// The source.
    pub source: ContextSource,
}

/// Where a context entry's value comes from.
#[derive(Debug, Clone)]
pub enum ContextSource {
    /// An inline value, a JMESPath over the context, or a default.
    Variable {
        /// `value` (variables substituted).
        value: Option<Value>,
        /// `jmesPath`, applied to the value or else to the context.
        jmes_path: Option<String>,
        /// `default`, when the path finds nothing.
        default: Option<Value>,
    },
    /// A ConfigMap's data, from the host.
    ConfigMap {
        /// Name (variables substituted).
        name: String,
        /// Namespace (variables substituted).
        namespace: String,
    },
    /// A Kubernetes API GET or POST, from the host.
    ApiCall {
        /// `urlPath` (variables substituted).
        url_path: String,
        /// `GET` or `POST`.
        method: String,
        /// `data` for POST (variables substituted).
        data: Value,
        /// `jmesPath` applied to the answer.
        jmes_path: Option<String>,
        /// `default` when the call fails.
        default: Option<Value>,
    },
    /// A `GlobalContextEntry`'s data (`name` is `entry` or
    /// `entry.projection`), read through the host.
    GlobalReference {
        /// `name` (variables substituted).
        name: String,
        /// `jmesPath` applied to the data.
        jmes_path: Option<String>,
    },
    /// An image's manifest and config, fetched by the host and checked here.
    ImageRegistry {
        /// The image reference (variables substituted).
        reference: String,
        /// `jmesPath` applied to Kyverno's image data.
        jmes_path: Option<String>,
        /// Registry access hints.
        access: crate::engine::store::Access,
    },
}

/// The body of an `apiCall` POST: `data`'s `{key, value}` items as one
/// object.
pub fn api_call_body(data: &Value) -> String {
    let mut o = serde_json::Map::new();
    for item in data.as_array().into_iter().flatten() {
        if let Some(k) = item.get("key").and_then(Value::as_str) {
            o.insert(
                k.to_string(),
                item.get("value").cloned().unwrap_or(Value::Null),
            );
        }
    }
    Value::Object(o).to_string()
}

/// A Kyverno `GlobalContextEntry`: named data from the Kubernetes API.
#[derive(Debug, Clone)]
pub struct GlobalContextEntry {
    /// `metadata.name`.
    pub name: String,
    /// Where the data comes from.
    pub source: GlobalSource,
    /// Named JMESPath projections of the data.
    pub projections: Vec<GlobalProjection>,
}

/// Where a global context entry's data comes from.
#[derive(Debug, Clone)]
pub enum GlobalSource {
    /// `kubernetesResource`: the items of this list path.
    Resource {
        /// `/api/v1/namespaces/ns/configmaps`, `/apis/apps/v1/deployments`.
        path: String,
    },
    /// `apiCall` with a `urlPath`: the answer of this call.
    ApiCall {
        /// `GET` or `POST`.
        method: String,
        /// The API path.
        path: String,
        /// The POST body.
        body: Option<String>,
    },
    /// An entry this engine cannot read (an external `service`), and why.
    Unsupported(String),
}

/// A named JMESPath over an entry's data.
#[derive(Debug, Clone)]
pub struct GlobalProjection {
    /// Its name (`globalContext.get(entry, name)`, `entry.name`).
    pub name: String,
    /// The expression.
    pub jmes_path: String,
}

/// A `verifyImages` entry's `validate` block.
#[derive(Debug, Clone)]
pub struct ImageValidation {
    /// `message` (variables substituted).
    pub message: String,
    /// `deny.conditions`: when they hold, the image is denied.
    pub deny: crate::conditions::Conditions,
}

/// The kind of rule.
#[derive(Debug, Clone)]
pub enum RuleBody {
    /// `verifyImages`.
    VerifyImages(Vec<Verification>),
    /// validate / mutate / generate: reported as skipped-unsupported.
    Other(&'static str),
}

/// Signature format of a verifyImages entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum VerifierType {
    /// cosign `.sig` / `.att`.
    Cosign,
    /// Sigstore bundles via referrers.
    SigstoreBundle,
    /// Notary v2.
    Notary,
}

/// A compiled `verifyImages[]` entry.
#[derive(Debug, Clone)]
pub struct Verification {
    /// Index in `verifyImages`.
    pub index: usize,
    /// Entry-level action.
    pub failure_action: Option<Action>,
    /// Signature format.
    pub verifier: VerifierType,
    /// Image patterns.
    pub image_references: Vec<String>,
    /// Images skipped.
    pub skip_image_references: Vec<String>,
    /// Signature checks.
    pub attestors: Vec<AttestorSet>,
    /// Attestation checks.
    pub attestations: Vec<CompiledAttestation>,
    /// Alternate signature repository.
    pub repository: Option<String>,
    /// Replace tags by digests.
    pub mutate_digest: bool,
    /// Require digests.
    pub verify_digest: bool,
    /// Require verification.
    pub required: bool,
    /// `useCache` (informational: the engine keeps no verdict cache).
    pub use_cache: bool,
    /// Also use OCI 1.1 referrers.
    pub cosign_oci11: bool,
    /// Notary attestations: every referrer of the type is tried until one
    /// verifies (image policies), rather than only the first (verifyImages).
    pub notary_any_referrer: bool,
    /// Post-verification deny block.
    pub validate: Option<ImageValidation>,
    /// `imageRegistryCredentials`: passed to the host with every fetch.
    pub access: crate::engine::store::Access,
}

impl Verification {
    /// Whether the entry checks anything (signatures, attestations, or a
    /// `validate.deny` block).
    pub fn has_checks(&self) -> bool {
        !self.attestors.is_empty() || !self.attestations.is_empty() || self.validate.is_some()
    }

    /// Every key read when an image is verified, with its field path
    /// under the entry (`attestors[0].entries[1].keys`).
    pub fn key_refs(&self) -> Vec<(String, &KeySource)> {
        let mut out = Vec::new();
        for (i, set) in self.attestors.iter().enumerate() {
            set.key_refs(&format!("attestors[{i}]"), &mut out);
        }
        for a in &self.attestations {
            for (i, set) in a.attestors.iter().enumerate() {
                set.key_refs(
                    &format!("attestations[{}].attestors[{i}]", a.index),
                    &mut out,
                );
            }
        }
        out
    }
}

impl AttestorSet {
    /// Appends this set's (and nested sets') key references.
    fn key_refs<'s>(&'s self, path: &str, out: &mut Vec<(String, &'s KeySource)>) {
        for (i, e) in self.entries.iter().enumerate() {
            let p = format!("{path}.entries[{i}]{}", e.kind.path_suffix());
            match &e.kind {
                AttestorKind::KeyRef(k) => out.push((p, &k.source)),
                AttestorKind::Nested(set) => set.key_refs(&p, out),
                _ => {}
            }
        }
    }
}

/// A compiled `attestations[]` entry.
#[derive(Debug, Clone)]
pub struct CompiledAttestation {
    /// Index in `attestations`.
    pub index: usize,
    /// The predicate type (`type`, or the deprecated `predicateType`);
    /// empty fails the image with Kyverno's `missing type`.
    pub predicate_type: String,
    /// `name`: the context name of the predicate for `validate.deny`.
    pub name: Option<String>,
    /// Attestor sets; without any, the empty attestor (any Fulcio
    /// certificate in the transparency log) stands in, as in Kyverno.
    pub attestors: Vec<AttestorSet>,
    /// Conditions every statement of the type must meet.
    pub conditions: crate::conditions::Conditions,
}

/// A compiled attestor set.
#[derive(Debug, Clone)]
pub struct AttestorSet {
    /// How many entries must verify.
    pub required: usize,
    /// The `count` the policy gave; `None` when every entry must verify
    /// (then keys read when an image is verified, which may hold several,
    /// raise `required` to all of them, as Kyverno's key expansion does).
    pub count: Option<usize>,
    /// Entries after multi-key expansion.
    pub entries: Vec<AttestorEntry>,
}

/// One attestor entry.
#[derive(Debug, Clone)]
pub struct AttestorEntry {
    /// What verifies it.
    pub kind: AttestorKind,
    /// Required payload annotations.
    pub annotations: BTreeMap<String, String>,
    /// Alternate repository.
    pub repository: Option<String>,
    /// Prefix of cosign's signature tags (`<prefix>sha256-<hex>.sig`; an
    /// image policy's `source.tagPrefix`).
    pub tag_prefix: Option<String>,
}

/// The verifier of an attestor entry.
#[derive(Debug, Clone)]
pub enum AttestorKind {
    /// A static public key.
    Key(Box<KeyAttestor>),
    /// A public key read when an image is verified: from a Kubernetes
    /// Secret, written as variables, or named by a KMS URI (unsupported).
    KeyRef(Box<KeyRefAttestor>),
    /// A pinned certificate and/or a certificate chain.
    Certificates(Box<CertificatesAttestor>),
    /// Keyless: a certificate from a trusted authority with an identity.
    Keyless(Box<KeylessAttestor>),
    /// A Notary attestor: `certificates` as a trust store.
    Notary(Box<NotaryAttestor>),
    /// A nested attestor set.
    Nested(Box<AttestorSet>),
}

impl AttestorKind {
    /// The path suffix Kyverno prints (`.keys`, `.keyless`, …).
    pub fn path_suffix(&self) -> &'static str {
        match self {
            Self::Key(_) | Self::KeyRef(_) => ".keys",
            Self::Certificates(_) | Self::Notary(_) => ".certificates",
            Self::Keyless(_) => ".keyless",
            Self::Nested(_) => ".attestor",
        }
    }
}

/// A public-key attestor.
#[derive(Debug, Clone)]
pub struct KeyAttestor {
    /// The key.
    pub key: Arc<PublicKey>,
    /// Hex SHA-256 of the key's SPKI (identifies it in the check memo).
    pub fingerprint: String,
    /// Hash for ECDSA/RSA.
    pub hash: HashAlgorithm,
    /// Transparency log requirement.
    pub tlog: TlogPolicy,
}

impl KeyAttestor {
    /// An attestor of `key`, its fingerprint computed.
    pub fn new(key: Arc<PublicKey>, hash: HashAlgorithm, tlog: TlogPolicy) -> Self {
        use sha2::Digest as _;
        let der = key.to_spki_der().unwrap_or_default();
        let fingerprint = sha2::Sha256::digest(&der)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        KeyAttestor {
            key,
            fingerprint,
            hash,
            tlog,
        }
    }
}

/// A public-key attestor whose key is read when an image is verified.
#[derive(Debug, Clone)]
pub struct KeyRefAttestor {
    /// Where the key comes from.
    pub source: KeySource,
    /// Hash for ECDSA/RSA.
    pub hash: HashAlgorithm,
    /// Transparency log requirement.
    pub tlog: TlogPolicy,
}

/// Where a [`KeyRefAttestor`]'s key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The `cosign.pub` entry of a Secret (`k8s://namespace/name`, or
    /// `secret: {name, namespace}`).
    Secret {
        /// The Secret's namespace.
        namespace: String,
        /// The Secret's name.
        name: String,
    },
    /// `publicKeys` written with variables (`{{ }}`), substituted from the
    /// rule's context: PEM, or a `k8s://` reference, once substituted.
    Template(String),
    /// A KMS key URI (`awskms://`, `gcpkms://`, `azurekms://`,
    /// `hashivault://`): never called, so such an attestor fails.
    Kms(String),
}

impl KeySource {
    /// The KMS URI schemes cosign knows; such keys are never fetched here.
    pub const KMS_SCHEMES: [&'static str; 4] =
        ["awskms://", "gcpkms://", "azurekms://", "hashivault://"];

    /// Whether `text` is a KMS key URI.
    pub fn is_kms(text: &str) -> bool {
        Self::KMS_SCHEMES.iter().any(|s| text.starts_with(s))
    }
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Secret { namespace, name } => write!(f, "k8s://{namespace}/{name}"),
            Self::Template(t) => write!(f, "{t}"),
            Self::Kms(uri) => write!(f, "{uri}"),
        }
    }
}

/// A compiled `certificates` attestor.
#[derive(Debug, Clone)]
pub struct CertificatesAttestor {
    /// `cert`: the signing certificate, whose key verifies; `None` takes
    /// each signature's own certificate (which must then chain to `chain`).
    pub cert: Option<crate::crypto::x509::Certificate>,
    /// `certChain`: intermediates and the self-signed root the certificate
    /// must chain to at the signing time.
    pub chain: Option<crate::sigstore::trusted_root::Authority>,
    /// Transparency log requirement.
    pub tlog: TlogPolicy,
    /// Certificate Transparency requirement (when there is a chain).
    pub ctlog: CtlogPolicy,
    /// A feature the engine cannot verify yet, which fails the attestor.
    pub unsupported: Option<String>,
    /// Identifies the attestor's trust material in the check memo.
    pub id: String,
}

/// A compiled `certificates` attestor of a `type: Notary` verification:
/// its `cert` and `certChain` make the trust store `ca:kyverno`, checked
/// with Kyverno's trust policy (strict, any identity).
#[derive(Debug, Clone)]
pub struct NotaryAttestor {
    /// The `ca:kyverno` store.
    pub stores: crate::notary::trust::TrustStores,
    /// Kyverno's trust policy.
    pub policy: crate::notary::trust::TrustPolicy,
    /// A feature the engine cannot verify yet, which fails the attestor.
    pub unsupported: Option<String>,
    /// `sha256` of the trusted certificates (the check memo's key).
    pub id: String,
}

/// A compiled `keyless` attestor.
#[derive(Debug, Clone)]
pub struct KeylessAttestor {
    /// The policy's own `roots`, each certificate a trust anchor; `None`
    /// uses the trusted root's certificate authorities (Fulcio).
    pub roots: Option<Vec<crate::sigstore::trusted_root::Authority>>,
    /// Subject, issuer and extension requirements.
    pub identity: crate::sigstore::identity::IdentityPolicy,
    /// Transparency log requirement.
    pub tlog: TlogPolicy,
    /// Certificate Transparency requirement.
    pub ctlog: CtlogPolicy,
    /// A feature the engine cannot verify yet, which fails the attestor.
    pub unsupported: Option<String>,
    /// Identifies the attestor's trust material and identity in the check
    /// memo (a hash of everything above).
    pub id: String,
}

/// Certificate Transparency requirement of a certificate attestor.
#[derive(Debug, Clone)]
pub struct CtlogPolicy {
    /// `ctlog.ignoreSCT`.
    pub ignore_sct: bool,
    /// Keys from `ctlog.pubkey`; `None` uses the engine's trusted root.
    pub keys: Option<Vec<crate::sigstore::trusted_root::LogKey>>,
    /// Timestamp authorities from `ctlog.tsaCertChain` (one per self-signed
    /// root, each with the chain's other certificates); `None` uses the
    /// engine's trusted root.
    pub tsa: Option<Vec<crate::sigstore::trusted_root::Authority>>,
    /// `ignore`, `root`, or `keys:` and the keys' SPKI fingerprints, and the
    /// TSA certificates' fingerprints.
    pub id: String,
}

/// Transparency-log requirement of an attestor.
#[derive(Debug, Clone)]
pub struct TlogPolicy {
    /// `rekor.ignoreTlog`.
    pub ignore: bool,
    /// Keys from `rekor.pubkey`; `None` uses the engine's trusted root.
    pub keys: Option<Vec<crate::sigstore::trusted_root::LogKey>>,
    /// Identifies the requirement in the check memo: `ignore`, `root`, or
    /// `keys:` and the keys' SPKI fingerprints.
    pub id: String,
}

/// Cluster context a policy needs that the admission request itself lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ContextKind {
    /// Labels of the resource's namespace (`namespaceSelector`).
    NamespaceLabels,
    /// The requesting user's roles and cluster roles (`roles`, `clusterRoles`).
    UserRoles,
    /// Kubernetes API reads (`context` `configMap` and `apiCall` entries).
    KubeApi,
}

/// One field of a policy that needs cluster context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextNeed {
    /// Policy (report name).
    pub policy: String,
    /// Rule, or empty for a policy-level field.
    pub rule: String,
    /// Field path within the rule or policy.
    pub field: String,
    /// What it needs.
    pub kind: ContextKind,
}

impl CompiledPolicy {
    /// Every field that needs namespace labels or user roles from the cluster.
    pub fn context_needs(&self) -> Vec<ContextNeed> {
        let mut out = Vec::new();
        let mut need = |rule: &str, field: String, kind: ContextKind| {
            out.push(ContextNeed {
                policy: self.report_name(),
                rule: rule.to_string(),
                field,
                kind,
            })
        };
        for (i, o) in self.overrides.iter().enumerate() {
            if o.namespace_selector.is_some() {
                need(
                    "",
                    format!("spec.validationFailureActionOverrides[{i}].namespaceSelector"),
                    ContextKind::NamespaceLabels,
                );
            }
        }
        for r in &self.rules {
            if let RuleBody::VerifyImages(entries) = &r.body {
                for v in entries {
                    for (path, source) in v.key_refs() {
                        if matches!(source, KeySource::Secret { .. }) {
                            need(
                                &r.name,
                                format!("verifyImages[{}].{path}", v.index),
                                ContextKind::KubeApi,
                            );
                        }
                    }
                }
            }
            for (i, e) in r.context.iter().enumerate() {
                let field = match e.source {
                    ContextSource::ConfigMap { .. } => "configMap",
                    ContextSource::ApiCall { .. } => "apiCall",
                    ContextSource::GlobalReference { .. } => "globalReference",
                    _ => continue,
                };
                need(
                    &r.name,
                    format!("context[{i}].{field}"),
                    ContextKind::KubeApi,
                );
            }
            let blocks = [
                ("match", Some(&r.match_resources)),
                ("exclude", r.exclude.as_ref()),
            ];
            for (name, block) in blocks {
                let Some(m) = block else { continue };
                let mut filters: Vec<(String, super::model::ResourceFilter)> = Vec::new();
                for (list, v) in [("any", &m.any), ("all", &m.all)] {
                    for (i, f) in v.iter().flatten().enumerate() {
                        filters.push((format!("{name}.{list}[{i}]"), f.clone()));
                    }
                }
                filters.push((
                    name.to_string(),
                    super::model::ResourceFilter {
                        resources: m.resources.clone(),
                        subjects: None,
                        roles: m.roles.clone(),
                        cluster_roles: m.cluster_roles.clone(),
                    },
                ));
                for (path, f) in filters {
                    if f.resources
                        .as_ref()
                        .is_some_and(|d| d.namespace_selector.is_some())
                    {
                        need(
                            &r.name,
                            format!("{path}.resources.namespaceSelector"),
                            ContextKind::NamespaceLabels,
                        );
                    }
                    for (field, v) in [("roles", &f.roles), ("clusterRoles", &f.cluster_roles)] {
                        if v.as_ref().is_some_and(|v| !v.is_empty()) {
                            need(&r.name, format!("{path}.{field}"), ContextKind::UserRoles);
                        }
                    }
                }
            }
        }
        out
    }
}
