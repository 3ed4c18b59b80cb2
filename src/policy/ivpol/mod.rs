//! Kyverno's `ImageValidatingPolicy` and `NamespacedImageValidatingPolicy`:
//! image trust written as CEL over named attestors.
//!
//! - [`model`]: the documents as written;
//! - [`glob`]: `matchImageReferences[].glob` (gobwas, no separators);
//! - [`env`]: the CEL environments an image policy's expressions are
//!   checked in;
//! - this module: the compiled policy the engine evaluates. The compiler
//!   is `crate::policy::compile::ivpol` (it shares the attestor compilers
//!   with `verifyImages`).

pub mod env;
pub mod glob;
pub mod model;

use crate::cel::Program;
use crate::policy::compiled::{AttestorKind, FailurePolicy};
use std::collections::BTreeMap;

/// Which of the two kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImagePolicyKind {
    /// `ImageValidatingPolicy`: cluster-wide.
    Cluster,
    /// `NamespacedImageValidatingPolicy`: its own namespace only.
    Namespaced,
}

/// `evaluation.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvaluationMode {
    /// Admission requests (default).
    Kubernetes,
    /// Any JSON document as `object`; no request or namespace.
    Json,
}

/// `validationActions`, as a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ValidationActions {
    /// Reject the request.
    pub deny: bool,
    /// Report only.
    pub audit: bool,
    /// Send warnings.
    pub warn: bool,
}

/// A compiled `{name, expression}`.
#[derive(Debug, Clone)]
pub struct NamedProgram {
    /// Its name.
    pub name: String,
    /// Its expression.
    pub program: Program,
}

/// One `matchImageReferences` entry.
#[derive(Debug, Clone)]
pub enum ImageReferenceMatcher {
    /// A glob on the image string as written.
    Glob(glob::Glob),
    /// A CEL bool over `ref`.
    Expression(Program),
}

/// One `attestors[]` entry.
#[derive(Debug, Clone)]
pub struct ImageAttestor {
    /// The name CEL refers to it by.
    pub name: String,
    /// The verifier and its trust material.
    pub material: AttestorMaterial,
    /// Required signature annotations (cosign).
    pub annotations: BTreeMap<String, String>,
    /// Signatures in another repository (cosign `source.repository`).
    pub repository: Option<String>,
    /// Signature tag prefix (cosign `source.tagPrefix`).
    pub tag_prefix: Option<String>,
    /// Its own trusted root (cosign `trustedRoot.value`, or the target its
    /// `tuf` repository gave the host), in place of the engine's for
    /// everything it verifies.
    pub trusted_root: Option<AttestorRoot>,
    /// Its cosign `tuf` repository, whose `trusted_root.json` the host
    /// fetches and verifies when it loads the policies.
    pub tuf: Option<TufSource>,
    /// Why its `tuf` trusted root is missing (the host could not fetch it):
    /// everything it verifies is then an error.
    pub root_error: Option<String>,
}

/// An attestor's trusted root as its host fetched it from TUF (engine
/// options, by [`TufSource::key`]).
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum AttestorTrustedRoot {
    /// The verified `trusted_root.json`.
    TrustedRoot(String),
    /// Why there is none.
    Error(String),
}

/// A cosign attestor's TUF repository (`tuf.mirror`, `tuf.root`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TufSource {
    /// The key the host answers it under.
    pub key: String,
    /// The repository's metadata URL.
    pub mirror: String,
    /// The initial `root.json`, base64 (`tuf.root.data`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_data: Option<String>,
    /// Or a file holding it (`tuf.root.path`), read by the host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_path: Option<String>,
}

/// An attestor's own trusted root.
#[derive(Debug, Clone)]
pub struct AttestorRoot {
    /// The root.
    pub root: std::sync::Arc<crate::sigstore::trusted_root::TrustedRoot>,
    /// `/root:<sha256 of its JSON>`: keeps its checks apart from other
    /// roots' in the verification memo.
    pub id: String,
}

/// An attestor's verifier and trust material.
#[derive(Debug, Clone)]
pub enum AttestorMaterial {
    /// Loaded when the policy compiled; for a cosign `key` written as
    /// several PEM blocks, any one verifies.
    Compiled(Vec<AttestorKind>),
    /// Written with expressions over the request: compiled per request once
    /// they are evaluated.
    Deferred(Box<DeferredAttestor>),
}

/// An attestor some of whose material is an expression over the request.
#[derive(Debug, Clone)]
pub struct DeferredAttestor {
    /// The attestor with its constant fields.
    pub attestor: model::Attestor,
    /// The fields to fill in, and the expressions giving them.
    pub expressions: Vec<(MaterialField, Program)>,
}

/// A field of trust material an expression may give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaterialField {
    /// `cosign.key.expression`.
    KeyData,
    /// `cosign.certificate.cert.expression`.
    Certificate,
    /// `cosign.certificate.certChain.expression`.
    CertificateChain,
    /// `notary.certs.expression`.
    NotaryCerts,
    /// `notary.tsaCerts.expression`.
    NotaryTsaCerts,
    /// `cosign.trustedRoot.expression`.
    TrustedRoot,
}

/// What an `attestations[]` entry names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttestationKind {
    /// An in-toto statement of this predicate type.
    InToto(String),
    /// An OCI 1.1 referrer of this artifact type.
    Referrer(String),
}

/// One `attestations[]` entry.
#[derive(Debug, Clone)]
pub struct ImageAttestation {
    /// The name CEL refers to it by.
    pub name: String,
    /// What it is.
    pub kind: AttestationKind,
}

/// One `validations[]` entry.
#[derive(Debug, Clone)]
pub struct ImageValidation {
    /// A CEL bool.
    pub expression: Program,
    /// The message when it is false.
    pub message: Option<String>,
    /// A CEL string message, preferred to `message`.
    pub message_expression: Option<Program>,
    /// The HTTP reason.
    pub reason: Option<String>,
}

/// A compiled image policy.
#[derive(Debug, Clone)]
pub struct CompiledImagePolicy {
    /// `metadata.name`.
    pub name: String,
    /// The namespace of a namespaced policy.
    pub namespace: Option<String>,
    /// Which kind.
    pub kind: ImagePolicyKind,
    /// Where it was read from.
    pub origin: String,
    /// `matchConstraints` (ValidatingAdmissionPolicy's matching).
    pub match_constraints: Option<model::MatchResources>,
    /// `matchConditions`, in order.
    pub match_conditions: Vec<NamedProgram>,
    /// `variables`, lazily evaluated.
    pub variables: Vec<NamedProgram>,
    /// `matchImageReferences` (empty: every image).
    pub image_references: Vec<ImageReferenceMatcher>,
    /// `images`: extractors added to the built-in ones.
    pub extractors: Vec<NamedProgram>,
    /// `attestors`, by name.
    pub attestors: Vec<ImageAttestor>,
    /// `attestations`, by name.
    pub attestations: Vec<ImageAttestation>,
    /// `validations`, in order.
    pub validations: Vec<ImageValidation>,
    /// `auditAnnotations`: key and CEL string.
    pub audit_annotations: Vec<NamedProgram>,
    /// `validationActions`.
    pub actions: ValidationActions,
    /// `failurePolicy` (default Fail).
    pub failure_policy: FailurePolicy,
    /// `webhookConfiguration.timeoutSeconds` (default 10).
    pub timeout_seconds: u32,
    /// `evaluation.mode`.
    pub mode: EvaluationMode,
    /// `evaluation.admission.enabled`.
    pub admission: bool,
    /// `evaluation.background.enabled`.
    pub background: bool,
    /// `validationConfigurations.mutateDigest`.
    pub mutate_digest: bool,
    /// `validationConfigurations.verifyDigest`.
    pub verify_digest: bool,
    /// `validationConfigurations.required`.
    pub required: bool,
    /// `autogen.podControllers.controllers` (`None`: all).
    pub autogen_controllers: Option<Vec<String>>,
    /// For an autogen variant, which (`defaults`: the pod-template
    /// controllers, `cronjobs`); `None` for the policy as written.
    pub autogen: Option<&'static str>,
    /// `credentials`.
    pub access: crate::engine::store::Access,
    /// The environment the expressions were checked in (and run in).
    pub env: env::PolicyEnv,
}

impl CompiledImagePolicy {
    /// What the policy needs from the cluster beyond the request: the
    /// namespace's labels (`matchConstraints.namespaceSelector`,
    /// `namespaceObject`) and API reads (`resource.*`, `globalContext.*`). `serve` refuses to
    /// start without a cluster connection when any is needed, rather than
    /// judge without them. An autogen variant's needs are its policy's.
    pub fn context_needs(&self) -> Vec<crate::policy::compiled::ContextNeed> {
        use crate::cel::ast::ExprKind;
        use crate::policy::compiled::{AttestorKind, ContextKind, ContextNeed, KeySource};
        let mut out = Vec::new();
        if self.autogen.is_some() {
            return out;
        }
        let mut need = |field: String, kind: ContextKind| {
            if !out
                .iter()
                .any(|n: &ContextNeed| n.field == field && n.kind == kind)
            {
                out.push(ContextNeed {
                    policy: self.report_name(),
                    rule: self.name.clone(),
                    field,
                    kind,
                });
            }
        };
        if self
            .match_constraints
            .as_ref()
            .is_some_and(|c| c.namespace_selector.is_some())
        {
            need(
                "spec.matchConstraints.namespaceSelector".into(),
                ContextKind::NamespaceLabels,
            );
        }
        for (i, a) in self.attestors.iter().enumerate() {
            let reads_secret = match &a.material {
                AttestorMaterial::Compiled(kinds) => kinds.iter().any(|k| {
                    matches!(k, AttestorKind::KeyRef(r) if matches!(r.source, KeySource::Secret { .. }))
                }),
                AttestorMaterial::Deferred(d) => d
                    .attestor
                    .cosign
                    .as_ref()
                    .and_then(|c| c.key.as_ref())
                    .and_then(|k| k.kms.as_deref())
                    .is_some_and(|k| k.trim().starts_with(crate::kube_path::SECRET_KEY_SCHEME)),
            };
            if reads_secret {
                need(
                    format!("spec.attestors[{i}].cosign.key.kms"),
                    ContextKind::KubeApi,
                );
            }
        }
        for (field, program) in self.programs() {
            program.visit(&mut |e| match &e.kind {
                ExprKind::Ident(n) if n == env::names::NAMESPACE_OBJECT => {
                    need(field.clone(), ContextKind::NamespaceLabels)
                }
                ExprKind::Call {
                    target: Some(t), ..
                } if matches!(&t.kind, ExprKind::Ident(n) if n == "resource" || n == "globalContext") => {
                    need(field.clone(), ContextKind::KubeApi)
                }
                _ => {}
            });
        }
        out
    }

    /// Every expression with its field path.
    fn programs(&self) -> Vec<(String, &Program)> {
        let mut out: Vec<(String, &Program)> = Vec::new();
        for (field, list) in [
            ("matchConditions", &self.match_conditions),
            ("variables", &self.variables),
            ("images", &self.extractors),
            ("auditAnnotations", &self.audit_annotations),
        ] {
            for (i, p) in list.iter().enumerate() {
                out.push((format!("spec.{field}[{i}]"), &p.program));
            }
        }
        for (i, v) in self.validations.iter().enumerate() {
            out.push((format!("spec.validations[{i}]"), &v.expression));
            if let Some(m) = &v.message_expression {
                out.push((format!("spec.validations[{i}].messageExpression"), m));
            }
        }
        for (i, a) in self.attestors.iter().enumerate() {
            if let AttestorMaterial::Deferred(d) = &a.material {
                for (_, p) in &d.expressions {
                    out.push((format!("spec.attestors[{i}]"), p));
                }
            }
        }
        for (i, m) in self.image_references.iter().enumerate() {
            if let ImageReferenceMatcher::Expression(p) = m {
                out.push((format!("spec.matchImageReferences[{i}]"), p));
            }
        }
        out
    }

    /// `ns/name` for a namespaced policy, else the name.
    pub fn report_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// A CEL `PolicyException` (`policies.kyverno.io`): the policies it names
/// are skipped for requests its `matchConditions` all hold for.
#[derive(Debug, Clone)]
pub struct ImagePolicyException {
    /// `namespace/name` or `name`, as Kyverno names it in messages.
    pub key: String,
    /// `(name, kind)` of the policies it exempts.
    pub policy_refs: Vec<(String, String)>,
    /// `matchConditions` (none: every request).
    pub match_conditions: Vec<NamedProgram>,
    /// The environment its conditions were checked in.
    pub env: std::sync::Arc<crate::cel::Env>,
}

impl ImagePolicyException {
    /// Whether it names this policy (by name and kind).
    pub fn names(&self, policy: &CompiledImagePolicy) -> bool {
        let kind = match policy.kind {
            ImagePolicyKind::Cluster => "ImageValidatingPolicy",
            ImagePolicyKind::Namespaced => "NamespacedImageValidatingPolicy",
        };
        self.policy_refs
            .iter()
            .any(|(name, k)| *name == policy.name && k == kind)
    }
}
