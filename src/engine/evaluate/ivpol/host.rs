//! The functions an image policy's CEL calls that need the registry or the
//! verifiers (`verifyImageSignatures`, …), answered inside the engine from
//! the session's store, and the lazy `variables.<name>`.
//!
//! Nothing here waits: a call whose artifacts are not stored yet records
//! the fetches (the [`Fetcher`] does), marks the evaluation pending and
//! returns a provisional value, so that later calls in the same expression
//! ask for their artifacts in the same round. A pending evaluation's result
//! is discarded; the next round runs it again with the bytes.

use super::super::super::verify::{self, Fetcher, Got, Verdict, VerifyCtx};
use crate::cel::value::{Key, Map};
use crate::cel::{Env, EvalError, Host, NoHost, Program, Value};
use crate::digest::Digest;
use crate::engine::Engine;
use crate::policy::compile::ivpol::compile_deferred;
use crate::policy::compiled::{
    AttestorEntry, AttestorKind, AttestorSet, Verification, VerifierType,
};
use crate::policy::ivpol::{
    AttestationKind, AttestorMaterial, CompiledImagePolicy, ImageAttestor, ImageReferenceMatcher,
};
use crate::reference::ImageInfo;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

/// What the verify calls of all policies learnt in this request.
#[derive(Default)]
pub(super) struct VerificationRecords {
    /// Image string as passed to a call → whether any call verified it
    /// (Kyverno's `ImageVerificationResults`, for `required`).
    pub(super) verified: BTreeMap<String, bool>,
    /// (image string, predicate or artifact type) → the payload of a
    /// verified attestation, for `extractPayload` (converted once).
    payloads: BTreeMap<(String, String), Value>,
    /// Image string → `getImageData`'s value, read and converted once per
    /// round however many expressions ask for it.
    image_data: BTreeMap<String, Value>,
    /// (entry, projection) → `globalContext.get`'s value, read and
    /// converted once per round however many calls ask for it.
    global_context: BTreeMap<(String, String), Value>,
}

impl VerificationRecords {
    fn record(&mut self, image: &str, verified: bool) {
        let seen = self.verified.entry(image.to_string()).or_insert(false);
        *seen |= verified;
    }
}

/// The per-attestor verifications, built once per evaluation.
struct AttestorChecks {
    /// cosign `.sig` layers, or the Notary referrers.
    primary: Verification,
    /// Sigstore bundles (cosign attestors): a cosign v3 image is signed
    /// with bundles, and either format verifies the attestor.
    bundles: Option<Verification>,
    /// The attestor's own trusted root, if it has one.
    root: Option<crate::policy::ivpol::AttestorRoot>,
}

/// The host of one image policy's evaluation.
pub(super) struct PolicyHost<'a> {
    pub(super) engine: &'a Engine,
    pub(super) fetcher: &'a Fetcher<'a>,
    pub(super) policy: &'a CompiledImagePolicy,
    /// The request's time (unix seconds).
    pub(super) now: Option<i64>,
    /// The evaluation's variables (`object`, `images`, …).
    pub(super) globals: Rc<BTreeMap<String, Value>>,
    /// Values of `variables.<name>` computed so far.
    variables: BTreeMap<String, Result<Value, String>>,
    /// Attestor verifications by name.
    checks: BTreeMap<String, Rc<Result<AttestorChecks, String>>>,
    /// The request's verification records (shared by all policies).
    pub(super) records: &'a mut VerificationRecords,
    /// Some call waits for artifacts.
    pub(super) pending: bool,
    /// The CLI's global context mocks, when the request has them.
    pub(super) global_mocks: Option<&'a serde_json::Map<String, serde_json::Value>>,
}

/// The cost limit of one expression.
const COST_LIMIT: u64 = crate::cel::eval::DEFAULT_COST_LIMIT;

impl<'a> PolicyHost<'a> {
    pub(super) fn new(
        engine: &'a Engine,
        fetcher: &'a Fetcher<'a>,
        policy: &'a CompiledImagePolicy,
        now: Option<i64>,
        records: &'a mut VerificationRecords,
    ) -> Self {
        PolicyHost {
            engine,
            fetcher,
            policy,
            now,
            globals: Rc::new(BTreeMap::new()),
            variables: BTreeMap::new(),
            checks: BTreeMap::new(),
            records,
            pending: false,
            global_mocks: None,
        }
    }

    /// Evaluates `program` in the policy environment.
    pub(super) fn eval(&mut self, program: &Program) -> Result<Value, EvalError> {
        let env: Arc<Env> = self.policy.env.policy.clone();
        self.eval_in(&env, program)
    }

    /// Evaluates `program`, compiled in `env`, with the policy's variables.
    pub(super) fn eval_in(&mut self, env: &Env, program: &Program) -> Result<Value, EvalError> {
        let globals = self.globals.clone();
        program.eval(env, &globals, self, COST_LIMIT)
    }

    /// Whether `image` (as written) is one the policy's
    /// `matchImageReferences` selects (none: every image).
    pub(super) fn image_selected(&self, image: &str) -> Result<bool, String> {
        let matchers = &self.policy.image_references;
        if matchers.is_empty() {
            return Ok(true);
        }
        for m in matchers {
            let hit = match m {
                ImageReferenceMatcher::Glob(g) => g.matches(image),
                ImageReferenceMatcher::Expression(p) => {
                    let vars = BTreeMap::from([(
                        crate::policy::ivpol::env::names::REF.to_string(),
                        Value::string(image),
                    )]);
                    match p.eval(&self.policy.env.match_image, &vars, &mut NoHost, COST_LIMIT) {
                        Ok(Value::Bool(b)) => b,
                        Ok(v) => {
                            return Err(format!(
                                "matchImageReferences expression returned {}, not bool",
                                v.type_name()
                            ));
                        }
                        Err(e) => return Err(e.to_string()),
                    }
                }
            };
            if hit {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The attestors a call names: `attestors.<name>` values.
    fn named_attestors(&self, list: &Value) -> Result<Vec<&'a ImageAttestor>, String> {
        let Value::List(items) = list else {
            return Err(format!(
                "attestors must be a list, not {}",
                list.type_name()
            ));
        };
        let mut out = Vec::new();
        for item in items.iter() {
            let name = match item {
                Value::Map(m) => match m.get(&Key::String("name".into())) {
                    Some(Value::String(s)) => s.clone(),
                    _ => return Err("an attestor must be written as attestors.<name>".into()),
                },
                other => {
                    return Err(format!(
                        "an attestor must be written as attestors.<name>, not a {}",
                        other.type_name()
                    ));
                }
            };
            let found = self
                .policy
                .attestors
                .iter()
                .find(|a| *a.name == *name)
                .ok_or_else(|| format!("attestor not found in policy: {name}"))?;
            out.push(found);
        }
        Ok(out)
    }

    /// The attestor's verifications: its compiled material, or material
    /// from its expressions evaluated for this request.
    fn checks_for(&mut self, a: &ImageAttestor) -> Rc<Result<AttestorChecks, String>> {
        if let Some(c) = self.checks.get(&a.name) {
            return c.clone();
        }
        if let Some(e) = &a.root_error {
            return Rc::new(Err(format!("attestor {}: {e}", a.name)));
        }
        let compiled = match &a.material {
            AttestorMaterial::Compiled(kinds) => Ok((kinds.clone(), a.trusted_root.clone())),
            AttestorMaterial::Deferred(d) => {
                let mut values = Vec::new();
                let mut failed = None;
                for (field, program) in &d.expressions {
                    match self.eval(program) {
                        Ok(Value::String(s)) => values.push(s.to_string()),
                        Ok(v) => {
                            failed = Some(format!(
                                "failed to convert expression in compiled attestor: {}, error: {field:?} is a {}, not a string",
                                a.name,
                                v.type_name()
                            ));
                            break;
                        }
                        Err(e) => {
                            failed = Some(format!(
                                "failed to evaluate compiled attestor: {}, error: {e}",
                                a.name
                            ));
                            break;
                        }
                    }
                }
                match failed {
                    Some(e) => Err(e),
                    None if self.pending => Err("pending".into()),
                    None => compile_deferred(d, &values)
                        .map_err(|e| format!("attestor {}: {e}", a.name)),
                }
            }
        };
        let checks = compiled.map(|(kinds, root)| self.verifications(a, kinds, root));
        let checks = Rc::new(checks);
        if !self.pending {
            self.checks.insert(a.name.clone(), checks.clone());
        }
        checks
    }

    fn verifications(
        &self,
        a: &ImageAttestor,
        kinds: Vec<AttestorKind>,
        root: Option<crate::policy::ivpol::AttestorRoot>,
    ) -> AttestorChecks {
        let notary = kinds.iter().any(|k| matches!(k, AttestorKind::Notary(_)));
        let cosign_keys = kinds.iter().all(|k| {
            matches!(
                k,
                AttestorKind::Key(_) | AttestorKind::KeyRef(_) | AttestorKind::Keyless(_)
            )
        });
        let set = AttestorSet {
            // Any of the attestor's keys.
            required: 1,
            count: Some(1),
            entries: kinds
                .into_iter()
                .map(|kind| AttestorEntry {
                    kind,
                    annotations: a.annotations.clone(),
                    repository: a.repository.clone(),
                    tag_prefix: a.tag_prefix.clone(),
                })
                .collect(),
        };
        let verification = |verifier| Verification {
            index: 0,
            failure_action: None,
            verifier,
            image_references: Vec::new(),
            skip_image_references: Vec::new(),
            attestors: vec![set.clone()],
            attestations: Vec::new(),
            repository: None,
            mutate_digest: false,
            verify_digest: false,
            required: false,
            use_cache: false,
            cosign_oci11: false,
            notary_any_referrer: true,
            validate: None,
            access: self.policy.access.clone(),
        };
        AttestorChecks {
            primary: verification(if notary {
                VerifierType::Notary
            } else {
                VerifierType::Cosign
            }),
            bundles: (!notary && cosign_keys).then(|| verification(VerifierType::SigstoreBundle)),
            root: root.or_else(|| a.trusted_root.clone()),
        }
    }

    /// The image parsed for fetching and its digest; `Ok(None)` while the
    /// manifest is pending.
    fn resolve(&mut self, image: &str) -> Result<Option<(ImageInfo, Digest)>, String> {
        let info = ImageInfo::parse(image, &self.engine.normalize)
            .map_err(|e| format!("failed to get imagedata: {e}"))?;
        match verify::resolve_digest(self.fetcher, &info, &self.policy.access) {
            Verdict::Ok(d) => Ok(Some((info, d))),
            Verdict::Pending => {
                self.pending = true;
                Ok(None)
            }
            Verdict::Fail(f) | Verdict::Error(f) => Err(format!("failed to get imagedata: {f}")),
        }
    }

    /// Counts the attestors (`attestors.<name>` values) for which `check`
    /// verifies `image`: 0 for an image the policy does not select
    /// (`lookup` runs after that test, as in Kyverno), the attestors'
    /// number while anything is pending (the round's result is discarded).
    /// An attestor's failure counts nothing (Kyverno logs it); an `Err`
    /// from `check` is the call's error. The outcome is recorded for the
    /// `required` check.
    fn count_verified<T>(
        &mut self,
        image: &str,
        attestors: &Value,
        lookup: impl FnOnce(&Self) -> Result<T, String>,
        mut check: impl FnMut(
            &mut Self,
            &T,
            &ImageInfo,
            &Digest,
            &AttestorChecks,
        ) -> Result<Verdict<()>, String>,
    ) -> Result<Value, String> {
        let named = self.named_attestors(attestors)?;
        if !self.image_selected(image)? {
            return Ok(Value::Int(0));
        }
        let found = lookup(self)?;
        let Some((info, digest)) = self.resolve(image)? else {
            return Ok(Value::Int(named.len() as i64));
        };
        let mut count = 0i64;
        let mut pending = false;
        for a in named.iter().copied() {
            let checks = self.checks_for(a);
            let checks = match checks.as_ref() {
                Ok(c) => c,
                Err(_) if self.pending => {
                    pending = true;
                    continue;
                }
                Err(e) => return Err(e.clone()),
            };
            match check(self, &found, &info, &digest, checks)? {
                Verdict::Ok(()) => count += 1,
                Verdict::Pending => pending = true,
                Verdict::Fail(_) | Verdict::Error(_) => {}
            }
        }
        if pending {
            self.pending = true;
            return Ok(Value::Int(named.len() as i64));
        }
        if !named.is_empty() {
            self.records.record(image, count > 0);
        }
        Ok(Value::Int(count))
    }

    /// `verifyImageSignatures(image, attestors)`: how many of the attestors
    /// verified the image.
    fn verify_image_signatures(&mut self, image: &str, attestors: &Value) -> Result<Value, String> {
        self.count_verified(
            image,
            attestors,
            |_| Ok(()),
            |host, _, info, digest, checks| Ok(host.verify_with(info, digest, checks)),
        )
    }

    /// `verifyAttestationSignatures(image, attestation, attestors)`: how
    /// many of the attestors signed an attestation of that type about the
    /// image; their payloads are kept for `extractPayload`.
    fn verify_attestation_signatures(
        &mut self,
        image: &str,
        attestation: &str,
        attestors: &Value,
    ) -> Result<Value, String> {
        let lookup = |host: &Self| host.attestation(attestation);
        self.count_verified(
            image,
            attestors,
            lookup,
            |host, kind, info, digest, checks| {
                let kind: &AttestationKind = kind;
                let notary = checks.primary.verifier == VerifierType::Notary;
                let wanted = match (kind, notary) {
                    (AttestationKind::InToto(_), true) => {
                        return Err(
                            "notary verifier only supports oci 1.1 referrers as attestations"
                                .into(),
                        );
                    }
                    // cosign reads in-toto attestations only (Kyverno: a failed
                    // verification, counted as 0).
                    (AttestationKind::Referrer(_), false) => {
                        return Ok(Verdict::Fail(verify::Failure::Unsupported(
                            "cosign verifier only supports intoto referrers as attestations".into(),
                        )));
                    }
                    (AttestationKind::InToto(t) | AttestationKind::Referrer(t), _) => t.as_str(),
                };
                Ok(match host.attested(info, digest, checks, wanted) {
                    Verdict::Ok(statements) => {
                        if let Some(s) = statements.into_iter().next() {
                            let payload = match kind {
                                // The whole statement, as cosign hands it over.
                                AttestationKind::InToto(_) => Value::from_json_doubles(&s.json),
                                // The referrer's one layer.
                                AttestationKind::Referrer(_) => s
                                    .json
                                    .get("predicate")
                                    .map(Value::from_json_doubles)
                                    .unwrap_or(Value::Null),
                            };
                            host.records
                                .payloads
                                .insert((image.to_string(), wanted.to_string()), payload);
                        }
                        Verdict::Ok(())
                    }
                    Verdict::Pending => Verdict::Pending,
                    Verdict::Fail(f) => Verdict::Fail(f),
                    Verdict::Error(f) => Verdict::Error(f),
                })
            },
        )
    }

    /// `extractPayload(image, attestation)`: the payload of an attestation a
    /// verify call of this request verified. Unlike Kyverno, which hands
    /// out the first referrer of the type unverified, an unverified payload
    /// is never returned.
    fn extract_payload(&mut self, image: &str, attestation: &str) -> Result<Value, String> {
        let kind = self.attestation(attestation)?;
        let (AttestationKind::InToto(t) | AttestationKind::Referrer(t)) = kind;
        if let Some(p) = self.records.payloads.get(&(image.to_string(), t.clone())) {
            return Ok(p.clone());
        }
        if self.pending {
            return Ok(Value::Map(Arc::new(Map::new())));
        }
        Err(match kind {
            AttestationKind::InToto(_) => "failed to get payload: intoto attestation payload cannot be fetch before verifying intoto attestation".into(),
            AttestationKind::Referrer(_) => format!(
                "failed to get payload: the referrer of type {t} cannot be read before verifyAttestationSignatures verified it"
            ),
        })
    }

    /// `resource.get` / `resource.list`: a GET on the Kubernetes API,
    /// answered by the host (the webhook's client, a test's cluster
    /// resources; `apply` has none, so there the call fails). An object
    /// that does not exist is `null`, as in Kyverno. A namespaced policy
    /// reads its own namespace. Every path segment is checked, so no
    /// argument can reach another API path.
    fn resource_call(&mut self, function: &str, args: &[Value]) -> Result<Value, String> {
        use crate::engine::store::{FailureStatus, Fetch};
        use crate::policy::ivpol::ImagePolicyKind;
        let list = function.ends_with("list") || function.ends_with("List");
        let own_namespace = (self.policy.kind == ImagePolicyKind::Namespaced)
            .then(|| self.policy.namespace.clone().unwrap_or_default());
        let mut strings = args.iter().take_while(|a| matches!(a, Value::String(_)));
        let mut next = |what: &str| match strings.next() {
            Some(Value::String(s)) => Ok(s.to_string()),
            _ => Err(format!("{function}: {what} must be a string")),
        };
        let api_version = next("apiVersion")?;
        let resource = next("resource")?;
        let namespace = match &own_namespace {
            Some(ns) => ns.clone(),
            None => next("namespace")?,
        };
        let name = if list { None } else { Some(next("name")?) };
        let labels = match args.last() {
            Some(Value::Map(m)) if list => label_selector(m)?,
            _ => String::new(),
        };
        let path = crate::kube_path::api_path(&api_version, &resource, &namespace, name.as_deref())
            .ok_or_else(|| {
                format!(
                    "{function}: not a valid API path: {api_version} {resource} {namespace} {}",
                    name.as_deref().unwrap_or("")
                )
            })?;
        let path = if labels.is_empty() {
            path
        } else {
            format!("{path}?labelSelector={labels}")
        };
        // Kyverno's messages: an object that does not exist is `null`.
        let what = if list {
            "failed to list resource"
        } else {
            "failed to get resource"
        };
        match self.fetcher.get(Fetch::kube_api("GET", &path, None)) {
            Got::Bytes(b) => serde_json::from_slice::<serde_json::Value>(b)
                .map(|v| Value::from_json(&v))
                .map_err(|e| format!("{what}: the answer is not JSON: {e}")),
            Got::Pending => {
                self.pending = true;
                Ok(Value::Map(Arc::new(Map::new())))
            }
            Got::Failed(FailureStatus::NotFound, _) if !list => Ok(Value::Null),
            Got::Failed(FailureStatus::Unauthorized, m) => {
                Err(format!("{what}: permission denied: {m}"))
            }
            Got::Failed(_, m) => Err(format!("{what}: {m}")),
        }
    }

    /// `globalContext.get(name, projection)`: a `GlobalContextEntry`'s data
    /// or its projection, read through the host; `null` for an entry that
    /// does not exist, as Kyverno's.
    fn global_context(&mut self, name: &str, projection: &str) -> Result<Value, String> {
        use super::super::global_context::{GlobalData, read};
        let key = (name.to_string(), projection.to_string());
        if let Some(v) = self.records.global_context.get(&key) {
            return Ok(v.clone());
        }
        match read(
            (self.engine, self.global_mocks),
            self.fetcher,
            name,
            projection,
            self.now,
        ) {
            GlobalData::Value(v) => {
                let value = Value::from_json_doubles(&v);
                self.records.global_context.insert(key, value.clone());
                Ok(value)
            }
            GlobalData::Missing => Ok(Value::Null),
            GlobalData::Pending => {
                self.pending = true;
                Ok(Value::Null)
            }
            GlobalData::Failed(_, m) => Err(format!("failed to get global reference: {m}")),
        }
    }

    /// `getImageData(image)`: the image's descriptor, manifest (or index)
    /// and config, in the shape Kyverno's image data loader gives.
    fn image_data(&mut self, image: &str) -> Result<Value, String> {
        use super::super::image_data::{self, ImageData};
        if let Some(v) = self.records.image_data.get(image) {
            return Ok(v.clone());
        }
        let loaded = image_data::load(
            image,
            &self.policy.access,
            &self.engine.normalize,
            self.fetcher,
        );
        let v = match loaded {
            ImageData::Loaded(v) => v,
            ImageData::Pending => {
                self.pending = true;
                return Ok(Value::Map(Arc::new(Map::new())));
            }
            ImageData::Failed(_, m) => return Err(format!("failed to get imagedata: {m}")),
        };
        let field = |k: &str| v.get(k).cloned().unwrap_or(serde_json::Value::Null);
        let resolved = field("resolvedImage");
        let digest = resolved
            .as_str()
            .and_then(|r| r.rsplit_once('@'))
            .map(|(_, d)| d.to_string())
            .unwrap_or_default();
        let tag = ImageInfo::parse(image, &self.engine.normalize)
            .map(|i| i.tag)
            .unwrap_or_default();
        let mut out = serde_json::json!({
            "image": field("image"),
            "resolvedImage": resolved,
            "registry": field("registry"),
            "repository": field("repository"),
            "identifier": field("identifier"),
            "tag": tag,
            "digest": digest,
            "manifest": field("manifest"),
            "config": field("configData"),
        });
        if let Some(index) = v.get("manifestList").filter(|i| !i.is_null()) {
            out["imageIndex"] = index.clone();
        }
        let value = Value::from_json_doubles(&out);
        self.records
            .image_data
            .insert(image.to_string(), value.clone());
        Ok(value)
    }

    fn attestation(&self, name: &str) -> Result<&'a AttestationKind, String> {
        self.policy
            .attestations
            .iter()
            .find(|a| a.name == name)
            .map(|a| &a.kind)
            .ok_or_else(|| format!("attestation not found in policy: {name}"))
    }

    /// One attestor's statements of `wanted` type: its primary format, then
    /// bundles.
    fn attested(
        &self,
        info: &ImageInfo,
        digest: &Digest,
        checks: &AttestorChecks,
        wanted: &str,
    ) -> Verdict<Vec<crate::sigstore::intoto::Statement>> {
        let run = |v: &Verification| {
            let ctx = self.ctx(info, digest, v, checks);
            let Some(set) = v.attestors.first() else {
                return Verdict::Fail(verify::Failure::Unsupported("no attestor".into()));
            };
            // Any of the attestor's keys.
            let set = verify::expand_key_refs(&ctx, set);
            let mut outcome = Verdict::Fail(verify::Failure::Unsupported("no key".into()));
            for entry in &set.entries {
                match verify::signed_statements(&ctx, entry, wanted) {
                    Verdict::Ok(s) => return Verdict::Ok(s),
                    Verdict::Pending => outcome = Verdict::Pending,
                    other if outcome != Verdict::Pending => outcome = other,
                    _ => {}
                }
            }
            outcome
        };
        primary_then_bundles(checks, run)
    }

    /// The verification context of one attestor's check: its own trusted
    /// root when it has one, else the engine's.
    fn ctx<'c>(
        &'c self,
        info: &'c ImageInfo,
        digest: &'c Digest,
        v: &'c Verification,
        checks: &'c AttestorChecks,
    ) -> VerifyCtx<'c> {
        let (trust, root_id) = match &checks.root {
            Some(r) => (r.root.as_ref(), r.id.as_str()),
            None => (&self.engine.trust, ""),
        };
        VerifyCtx {
            fetcher: self.fetcher,
            image: info,
            digest,
            verification: v,
            trust,
            root_id,
            now: self.now,
            context: &serde_json::Value::Null,
            verified_by: Default::default(),
        }
    }

    /// One attestor against one image: its primary format, then bundles.
    fn verify_with(
        &self,
        info: &ImageInfo,
        digest: &Digest,
        checks: &AttestorChecks,
    ) -> Verdict<()> {
        let run = |v: &Verification| {
            let ctx = self.ctx(info, digest, v, checks);
            match verify::verify_attestors(&ctx) {
                Verdict::Ok(_) => Verdict::Ok(()),
                Verdict::Fail(f) => Verdict::Fail(f),
                Verdict::Error(f) => Verdict::Error(f),
                Verdict::Pending => Verdict::Pending,
            }
        };
        primary_then_bundles(checks, run)
    }
}

/// An attestor's verdict: its primary format's, or when that fails and the
/// attestor reads bundles, the bundles'. Bundles are looked for only once
/// the primary format has failed: most images carry `.sig` signatures, and
/// their admissions then ask for no referrers.
fn primary_then_bundles<T>(
    checks: &AttestorChecks,
    run: impl Fn(&Verification) -> Verdict<T>,
) -> Verdict<T> {
    let primary = run(&checks.primary);
    if matches!(primary, Verdict::Ok(_) | Verdict::Pending) {
        return primary;
    }
    match &checks.bundles {
        Some(b) => match run(b) {
            Verdict::Fail(_) => primary,
            other => other,
        },
        None => primary,
    }
}

/// A label selector `k=v,…` from a map of labels, each key and value
/// checked to hold label characters only.
fn label_selector(m: &Map) -> Result<String, String> {
    let ok = |s: &str| {
        s.len() <= 317
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'))
    };
    let mut parts = Vec::new();
    for (k, v) in m.iter() {
        let (Key::String(k), Value::String(v)) = (k, v) else {
            return Err("labels must map strings to strings".into());
        };
        if k.is_empty() || !ok(k) || !ok(v) {
            return Err(format!("not a valid label selector: {k}={v}"));
        }
        parts.push(format!("{k}={v}"));
    }
    Ok(parts.join(","))
}

/// A string argument.
fn string_arg(args: &[Value], i: usize) -> Result<&str, String> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s),
        Some(v) => Err(format!("argument {i} is a {}, not a string", v.type_name())),
        None => Err(format!("argument {i} is missing")),
    }
}

impl Host for PolicyHost<'_> {
    fn call(&mut self, function: &str, args: &[Value]) -> Result<Value, String> {
        match function {
            "verifyImageSignatures" => {
                let image = string_arg(args, 0)?.to_string();
                let attestors = args.get(1).cloned().unwrap_or(Value::Null);
                self.verify_image_signatures(&image, &attestors)
            }
            "verifyAttestationSignatures" => {
                let image = string_arg(args, 0)?.to_string();
                let attestation = string_arg(args, 1)?.to_string();
                let attestors = args.get(2).cloned().unwrap_or(Value::Null);
                self.verify_attestation_signatures(&image, &attestation, &attestors)
            }
            "extractPayload" => {
                let image = string_arg(args, 0)?.to_string();
                let attestation = string_arg(args, 1)?.to_string();
                self.extract_payload(&image, &attestation)
            }
            "getImageData" | "image.getMetadata" | "image.GetMetadata" => {
                let image = string_arg(args, 0)?.to_string();
                self.image_data(&image)
            }
            "resource.get" | "resource.Get" | "resource.list" | "resource.List" => {
                self.resource_call(function, args)
            }
            "globalContext.get" | "globalContext.Get" => {
                let name = string_arg(args, 0)?;
                let projection = match args.get(1) {
                    None => "",
                    Some(_) => string_arg(args, 1)?,
                };
                self.global_context(name, projection)
            }
            other => Err(format!(
                "{other} is not supported by imgverify: image policies are evaluated without network access beyond the registry and the cluster's reads"
            )),
        }
    }

    fn variable(&mut self, name: &str) -> Option<Result<Value, String>> {
        let short = name.strip_prefix("variables.")?;
        if let Some(v) = self.variables.get(short) {
            return Some(v.clone());
        }
        let policy = self.policy;
        let program = &policy.variables.iter().find(|v| v.name == short)?.program;
        let value = self.eval(program).map_err(|e| e.to_string());
        if !self.pending {
            self.variables.insert(short.to_string(), value.clone());
        }
        Some(value)
    }
}

/// The CEL `attestors` map: each attestor as `{name}`, which the verify
/// functions read back.
pub(super) fn attestors_value(policy: &CompiledImagePolicy) -> Value {
    let mut m = Map::new();
    for a in &policy.attestors {
        let mut entry = Map::new();
        entry.insert(Key::String("name".into()), Value::string(a.name.as_str()));
        m.insert(
            Key::String(a.name.as_str().into()),
            Value::Map(Arc::new(entry)),
        );
    }
    Value::Map(Arc::new(m))
}

/// The CEL `attestations` map: name → name.
pub(super) fn attestations_value(policy: &CompiledImagePolicy) -> Value {
    let mut m = Map::new();
    for a in &policy.attestations {
        m.insert(
            Key::String(a.name.as_str().into()),
            Value::string(a.name.as_str()),
        );
    }
    Value::Map(Arc::new(m))
}
