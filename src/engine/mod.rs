//! The evaluation protocol: `Engine::compile(policies)`, then per request a
//! [`Session`] that is evaluated repeatedly; each round returns either the
//! artifacts still needed or the [`Decision`].

mod evaluate;
pub mod predict;
pub mod store;
mod verify;
pub mod work;

pub use store::{Access, Answer, FailureStatus, Fetch, FetchKind, PutError, Store};

use crate::decision::Decision;
use crate::limits;
use crate::policy::compile::{self, CompileError, Lint};
use crate::policy::compiled::CompiledPolicy;
use crate::policy::load::{self, Document, LoadError};
use crate::policy::matching::UserInfo;
use crate::reference::NormalizeOptions;
use crate::sigstore::trusted_root::{TrustedRoot, TrustedRootError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Why an engine could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The documents could not be read.
    #[error("{0}")]
    Load(#[from] LoadError),
    /// Policies are invalid (every error listed).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Compile(Vec<CompileError>),
    /// The trusted root is invalid.
    #[error("{0}")]
    TrustedRoot(#[from] TrustedRootError),
}

/// Engine-wide settings.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EngineOptions {
    /// Kyverno `defaultRegistry` (default `docker.io`).
    #[serde(default)]
    pub default_registry: Option<String>,
    /// Kyverno `enableDefaultRegistryMutation` (default true).
    #[serde(default)]
    pub enable_default_registry_mutation: Option<bool>,
    /// A `trusted_root.json` replacing the embedded public-good root.
    #[serde(default)]
    pub trusted_root: Option<String>,
    /// Successful signature checks this instance remembers (default
    /// [`crate::crypto::memo::DEFAULT_ENTRIES`]; 0 turns the memo off).
    #[serde(default)]
    pub verification_memo_entries: Option<usize>,
    /// Leave out policies with errors and list them in the summary, as
    /// Kyverno's CLI does (default false: any error fails the set).
    #[serde(default)]
    pub skip_invalid_policies: bool,
    /// `PolicyException` sources (the Kyverno CLI's `-e` and a test's
    /// `exceptions:`), kept apart from the policies.
    #[serde(default)]
    pub policy_exceptions: Vec<NamedSource>,
    /// The trusted roots of image-policy attestors' TUF repositories, as
    /// the host fetched and verified them, by [`EngineSummary::tuf_sources`]
    /// key: `{"trustedRoot": json}` or `{"error": why}`.
    #[serde(default)]
    pub attestor_trusted_roots: BTreeMap<String, AttestorTrustedRoot>,
}

pub use crate::policy::ivpol::AttestorTrustedRoot;

/// A named YAML/JSON text.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct NamedSource {
    /// File name, for messages.
    pub name: String,
    /// The text.
    pub text: String,
}

/// Compiled policies plus trust material; immutable and shareable.
#[derive(Debug)]
pub struct Engine {
    policies: Vec<CompiledPolicy>,
    image_policies: Vec<crate::policy::ivpol::CompiledImagePolicy>,
    lints: Vec<Lint>,
    invalid: Vec<compile::InvalidPolicy>,
    exceptions: Vec<compile::exceptions::CompiledException>,
    image_policy_exceptions: Vec<crate::policy::ivpol::ImagePolicyException>,
    /// `GlobalContextEntry` documents.
    global_context: Vec<crate::policy::compiled::GlobalContextEntry>,
    /// Trust material: Rekor and CT log keys, Fulcio and timestamp authorities.
    trust: TrustedRoot,
    normalize: NormalizeOptions,
    /// Layer-check results shared by this engine's sessions.
    checks: Arc<work::SharedChecks>,
    /// What sessions asked for after their first round.
    predictions: predict::Predictions,
}

impl Engine {
    /// Compiles policies from YAML/JSON text with default options.
    pub fn compile(source_name: &str, text: &str) -> Result<Self, EngineError> {
        Self::compile_with(&[(source_name, text)], &EngineOptions::default())
    }

    /// Compiles several sources with options.
    pub fn compile_with(
        sources: &[(&str, &str)],
        options: &EngineOptions,
    ) -> Result<Self, EngineError> {
        // Policies and exceptions share one size budget.
        let mut total = 0usize;
        let mut parse_all = |named: &mut dyn Iterator<Item = (&str, &str)>| {
            let mut docs: Vec<Document> = Vec::new();
            for (name, text) in named {
                total += text.len();
                if total > limits::MAX_POLICY_BYTES {
                    return Err(LoadError::TooLarge {
                        what: "policy set",
                        size: total,
                        limit: limits::MAX_POLICY_BYTES,
                    });
                }
                docs.extend(load::parse_documents(name, text, limits::MAX_POLICY_BYTES)?);
            }
            Ok(docs)
        };
        let docs = parse_all(&mut sources.iter().copied())?;
        let exception_docs = parse_all(
            &mut options
                .policy_exceptions
                .iter()
                .map(|s| (s.name.as_str(), s.text.as_str())),
        )?;
        // Tables earned under the last policies give way to these keys,
        // whose tables are built as they are compiled.
        crate::crypto::fixed_base::clear_key_tables();
        let mut out = compile::compile_documents(&docs, options.skip_invalid_policies)
            .map_err(EngineError::Compile)?;
        let exceptions = compile::exceptions::compile_exceptions(&exception_docs, &mut out.lints)
            .map_err(EngineError::Compile)?;
        let root = match &options.trusted_root {
            Some(json) => TrustedRoot::parse(json)?,
            None => TrustedRoot::public_good()?,
        };
        let memo_entries = options
            .verification_memo_entries
            .unwrap_or(crate::crypto::memo::DEFAULT_ENTRIES)
            .min(crate::limits::MAX_VERIFICATION_MEMO_ENTRIES);
        crate::crypto::memo::set_capacity(memo_entries);
        let defaults = NormalizeOptions::default();
        compile::ivpol::resolve_tuf_roots(&mut out.image_policies, &options.attestor_trusted_roots);
        Ok(Engine {
            policies: out.policies,
            image_policies: out.image_policies,
            global_context: out.global_context,
            lints: out.lints,
            invalid: out.invalid,
            exceptions: exceptions.rules,
            image_policy_exceptions: exceptions.image_policies,
            trust: root,
            checks: Arc::new(work::SharedChecks::new(memo_entries)),
            predictions: predict::Predictions::new(memo_entries > 0),
            normalize: NormalizeOptions {
                default_registry: options
                    .default_registry
                    .clone()
                    .unwrap_or(defaults.default_registry),
                enable_default_registry_mutation: options
                    .enable_default_registry_mutation
                    .unwrap_or(defaults.enable_default_registry_mutation),
            },
        })
    }

    /// The compiled policies.
    pub fn policies(&self) -> &[CompiledPolicy] {
        &self.policies
    }

    /// The compiled image policies.
    pub fn image_policies(&self) -> &[crate::policy::ivpol::CompiledImagePolicy] {
        &self.image_policies
    }

    /// The `GlobalContextEntry` named `name`.
    pub fn global_context_entry(
        &self,
        name: &str,
    ) -> Option<&crate::policy::compiled::GlobalContextEntry> {
        self.global_context.iter().find(|e| e.name == name)
    }

    /// Compile-time warnings.
    pub fn lints(&self) -> &[Lint] {
        &self.lints
    }

    /// What a host needs to know about the compiled policies to serve them.
    pub fn summary(&self) -> EngineSummary {
        EngineSummary {
            policies: self
                .policies
                .iter()
                .map(|p| PolicySummary {
                    name: p.report_name(),
                    rules: p.rules.len(),
                    background: p.background,
                    timeout_seconds: p.timeout_seconds,
                    failure_policy: p.failure_policy,
                })
                .chain(
                    self.image_policies
                        .iter()
                        .filter(|p| p.autogen.is_none())
                        .map(|p| PolicySummary {
                            name: p.report_name(),
                            rules: 1,
                            background: p.background,
                            timeout_seconds: p.timeout_seconds,
                            failure_policy: p.failure_policy,
                        }),
                )
                .collect(),
            context_needs: self
                .policies
                .iter()
                .flat_map(CompiledPolicy::context_needs)
                .chain(
                    self.image_policies
                        .iter()
                        .flat_map(crate::policy::ivpol::CompiledImagePolicy::context_needs),
                )
                .collect(),
            invalid: self.invalid.clone(),
            tuf_sources: {
                let mut sources: Vec<crate::policy::ivpol::TufSource> = Vec::new();
                for t in self
                    .image_policies
                    .iter()
                    .flat_map(|p| &p.attestors)
                    .filter_map(|a| a.tuf.as_ref())
                {
                    if !sources.iter().any(|s| s.key == t.key) {
                        sources.push(t.clone());
                    }
                }
                sources
            },
        }
    }
}

/// Webhook settings of one compiled policy.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicySummary {
    /// Report name (`ns/name` for a namespaced Policy).
    pub name: String,
    /// Its rules, autogen rules included.
    pub rules: usize,
    /// `spec.background` (reports name their process by it).
    pub background: bool,
    /// `webhookConfiguration.timeoutSeconds` (default 10).
    pub timeout_seconds: u32,
    /// `failurePolicy` (default Fail).
    pub failure_policy: crate::policy::compiled::FailurePolicy,
}

/// What the engine tells its host after compiling: per-policy webhook
/// settings and the fields that need cluster context.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EngineSummary {
    /// The policies.
    pub policies: Vec<PolicySummary>,
    /// Fields that need namespace labels or user roles from the cluster.
    pub context_needs: Vec<crate::policy::compiled::ContextNeed>,
    /// TUF repositories whose trusted roots image-policy attestors need:
    /// the host fetches them and compiles again with
    /// [`EngineOptions::attestor_trusted_roots`].
    pub tuf_sources: Vec<crate::policy::ivpol::TufSource>,
    /// Policies left out for their errors (with `skipInvalidPolicies`).
    pub invalid: Vec<compile::InvalidPolicy>,
}

fn default_operation() -> String {
    "CREATE".to_string()
}

/// Which admission phase a request comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Phase {
    /// Both phases at once (the CLI, background scans): the decision reports
    /// the resource as the mutating webhook would patch it.
    #[default]
    Admission,
    /// The mutating webhook: digest patches and annotations are planned here.
    Mutate,
    /// The validating webhook: it sees the object after mutation, so a planned
    /// digest patch supplies nothing; `verifyDigest` needs the digest in the
    /// image itself.
    Validate,
}

/// An admission-like request to evaluate.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    /// CREATE (default), UPDATE, DELETE, CONNECT.
    #[serde(default = "default_operation")]
    pub operation: String,
    /// The resource.
    pub object: Value,
    /// The previous resource on UPDATE.
    #[serde(default)]
    pub old_object: Option<Value>,
    /// Labels of the resource's namespace, for `namespaceSelector`.
    #[serde(default)]
    pub namespace_labels: Option<BTreeMap<String, String>>,
    /// The requesting user, when known.
    #[serde(default)]
    pub user_info: Option<UserInfo>,
    /// Evaluation time, RFC 3339 (certificate validity; not used by key checks).
    #[serde(default)]
    pub now: Option<String>,
    /// The admission phase (default: both).
    #[serde(default)]
    pub phase: Phase,
    /// The AdmissionRequest's own fields as the webhook received them
    /// (`uid`, `kind`, `resource`, `subResource`, `name`, `namespace`,
    /// `userInfo`, `dryRun`, `options`; not the objects). Image policies
    /// read them as CEL `request` and match `resourceRules` on `resource`.
    /// Absent in the CLI, where they are derived from the object as the
    /// Kyverno CLI derives them.
    #[serde(default)]
    pub admission: Option<Value>,
    /// `object` is a JSON payload, not a Kubernetes object (the Kyverno
    /// CLI's `apply --json`): only image policies in `evaluation.mode:
    /// JSON` are evaluated, with `object` their only variable.
    #[serde(default)]
    pub json_payload: bool,
    /// A Kyverno CLI values file (`globalValues`, `policies[].rules[].values`,
    /// `policies[].resources[].values`). Present in the CLI, where, as in the
    /// Kyverno CLI, `configMap` and `apiCall` context entries are not loaded:
    /// the values stand in for them. Absent in the webhook, which asks its
    /// host for them (`kube_api` fetches).
    #[serde(default)]
    pub values: Option<Value>,
    /// With `values`, still ask the host for `configMap` and `apiCall`
    /// entries: the CLI was given cluster resources to answer them (the
    /// Kyverno CLI allows API calls when a test has `clusterResources`).
    #[serde(default)]
    pub allow_api_calls: bool,
    /// The Kyverno CLI's `globalContextEntries` mocks, resolved by the
    /// host: entry name → its data (an object of its projections when it
    /// has some). When present, they stand in for every GlobalContextEntry.
    #[serde(default)]
    pub global_context: Option<serde_json::Map<String, Value>>,
    /// A background scan of a resource already in the cluster: only
    /// policies with `background` (image policies: `evaluation.background`)
    /// are evaluated, as Kyverno's report controller chooses them.
    #[serde(default)]
    pub background: bool,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Not JSON of the expected shape.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// Too large.
    #[error("request is {0} bytes, over the limit of {max}", max = limits::MAX_REQUEST_BYTES)]
    TooLarge(usize),
    /// `now` is not RFC 3339.
    #[error("invalid now {0:?}: expected RFC 3339")]
    Now(String),
}

impl Request {
    /// Parses a request from JSON bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Self, RequestError> {
        if bytes.len() > limits::MAX_REQUEST_BYTES {
            return Err(RequestError::TooLarge(bytes.len()));
        }
        let r: Request =
            serde_json::from_slice(bytes).map_err(|e| RequestError::Invalid(e.to_string()))?;
        if let Some(now) = &r.now
            && crate::sigstore::trusted_root::parse_rfc3339(now).is_none()
        {
            return Err(RequestError::Now(now.clone()));
        }
        if !r.object.is_object() && !r.json_payload {
            return Err(RequestError::Invalid("object must be a JSON object".into()));
        }
        Ok(r)
    }
}

/// One evaluation round's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Fetch these and evaluate again.
    NeedArtifacts {
        /// The fetches, deduplicated.
        fetches: Vec<Fetch>,
    },
    /// Done.
    Decision {
        /// The decision.
        decision: Decision,
    },
}

/// A request with its artifact store.
#[derive(Debug, Clone)]
pub struct Session {
    engine: Arc<Engine>,
    request: Request,
    store: Store,
    work: work::Work,
    /// Size bounds of the fetches asked for, checked when they are put.
    expected: std::cell::RefCell<BTreeMap<(FetchKind, String), usize>>,
    /// Rounds of fetches asked for so far.
    rounds: std::cell::Cell<u32>,
    /// The first round's id ([`predict::first_round_id`]) and the
    /// predictable fetches asked for after it, learned at the decision.
    first_round: std::cell::Cell<Option<u64>>,
    later: std::cell::RefCell<Vec<Fetch>>,
}

impl Session {
    /// Starts a session.
    pub fn new(engine: Arc<Engine>, request: Request) -> Self {
        Session {
            request,
            store: Store::default(),
            work: work::Work::with_shared(engine.checks.clone()),
            expected: Default::default(),
            rounds: Default::default(),
            first_round: Default::default(),
            later: Default::default(),
            engine,
        }
    }

    /// Adds an answer to a fetch; bytes over the size the fetch asked for
    /// are refused before they are hashed.
    pub fn put(&mut self, kind: FetchKind, key: &str, answer: Answer) -> Result<(), PutError> {
        let max = self
            .expected
            .borrow()
            .get(&(kind, key.to_string()))
            .copied();
        self.store.put_limited(kind, key, answer, max)
    }

    /// Evaluates with what is stored so far. The first round also asks
    /// for what sessions with the same first round asked for later
    /// ([`predict`]).
    pub fn evaluate(&self) -> Outcome {
        let mut outcome = evaluate::evaluate(&self.engine, &self.request, &self.store, &self.work);
        match &mut outcome {
            Outcome::NeedArtifacts { fetches } => {
                let round = self.rounds.get();
                self.rounds.set(round.saturating_add(1));
                if round == 0 {
                    let id = predict::first_round_id(fetches);
                    self.first_round.set(Some(id));
                    for f in self.engine.predictions.get(id) {
                        let asked = fetches.iter().any(|g| g.kind == f.kind && g.key == f.key);
                        if !asked && !self.store.contains(f.kind, &f.key) {
                            fetches.push(f);
                        }
                    }
                } else {
                    self.later
                        .borrow_mut()
                        .extend(fetches.iter().filter(|f| predict::predictable(f)).cloned());
                }
                let mut expected = self.expected.borrow_mut();
                for f in fetches.iter() {
                    if let Some(max) = f.max_bytes {
                        expected.insert((f.kind, f.key.clone()), max);
                    }
                }
            }
            Outcome::Decision { .. } => {
                if let Some(id) = self.first_round.take() {
                    self.engine
                        .predictions
                        .learn(id, std::mem::take(&mut *self.later.borrow_mut()));
                }
            }
        }
        outcome
    }

    /// Verification cost spent so far (P-256 equivalents).
    pub fn verification_cost(&self) -> u32 {
        self.work.spent()
    }

    /// The request.
    pub fn request(&self) -> &Request {
        &self.request
    }
}
