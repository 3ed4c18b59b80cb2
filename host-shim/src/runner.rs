//! Runs the engine module in wasmtime: zero-import check, memory and fuel
//! limits, and the evaluate → fetch → put loop over an [`ArtifactSource`].

use crate::engine_config;
use crate::source::{ArtifactSource, SourceAnswer};
use imgverify::decision::Decision;
use imgverify::engine::{Fetch, Outcome};
use serde_json::Value;
use std::time::{Duration, Instant};
use wasmtime::{Engine, Instance, Linker, Module, ResourceLimiter, Store, Trap, TypedFunc};

/// The engine module built for this binary.
pub static MODULE_BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/imgverify.wasm"));

/// [`MODULE_BYTES`] compiled by `build.rs` for the build machine with
/// [`engine_config::wasmtime_config`] (empty when that failed).
static PRECOMPILED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/imgverify.cwasm"));

/// Memory a module instance may grow to.
pub const MEMORY_LIMIT_BYTES: usize = 512 * 1024 * 1024;
/// Fuel per host call (about instructions); bounds any one call's CPU. Sized
/// so that an evaluation within the engine's documented bounds (see
/// `imgverify::limits`) always finishes: running out is a limit hit on
/// content, reported as such, never a silent allow.
pub const FUEL_PER_CALL: u64 = 20_000_000_000;
/// How often the epoch advances (the granularity of wall-clock deadlines).
pub const EPOCH_TICK: Duration = Duration::from_millis(10);
/// Most evaluate rounds per request.
pub const MAX_ROUNDS: usize = imgverify::limits::MAX_ROUNDS;

/// Why running the module failed.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// wasmtime failed (compile, trap, limits).
    #[error("wasm runtime: {0}")]
    Wasm(String),
    /// The module imports something: refused.
    #[error("the engine module must have zero imports, found: {0}")]
    Imports(String),
    /// The module answered with an error.
    #[error("{0}")]
    Engine(String),
    /// The module answered with something that is not the protocol.
    #[error("invalid module output: {0}")]
    Protocol(String),
    /// The loop did not finish.
    #[error("no decision after {0} rounds")]
    TooManyRounds(usize),
    /// The wall-clock deadline passed while the module ran (epoch interruption).
    #[error("image verification did not finish before the admission deadline")]
    Deadline,
    /// A sandbox limit was hit on this request's content.
    #[error("verification stopped: {0}")]
    Limit(String),
    /// The module trapped for another reason.
    #[error("verification stopped: the engine module trapped ({0})")]
    Trap(String),
}

impl RunnerError {
    /// Whether `failurePolicy: Ignore` may forgive this: only deadlines
    /// (transport failures reach the engine as fetch failures and come back
    /// as `error` results in the decision). Everything else the request or
    /// its artifacts caused, and must fail closed.
    pub fn is_deadline(&self) -> bool {
        matches!(self, RunnerError::Deadline)
    }
}

fn wasm<E: std::fmt::Display>(e: E) -> RunnerError {
    RunnerError::Wasm(format!("{e:#}"))
}

/// Memory bound of one instance, remembering whether it was hit.
struct ModuleLimits {
    memory_bytes: usize,
    memory_hit: bool,
}

impl ResourceLimiter for ModuleLimits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.memory_hit = true;
            wasmtime::bail!("memory limit of {} bytes", self.memory_bytes);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// A compiled module, shareable across instances.
#[derive(Clone)]
pub struct ModuleRunner {
    engine: Engine,
    module: Module,
    fuel: u64,
    /// Epoch ticks a call gets however late it is.
    grace_ticks: u128,
    precompiled: bool,
}

struct Ctx {
    limits: ModuleLimits,
}

/// What `engine_new` returns.
pub struct Compiled {
    /// The engine handle inside the instance.
    pub engine: u32,
    /// Compile warnings (JSON array).
    pub lints: Value,
    /// Per-policy webhook settings and context needs (JSON).
    pub summary: Value,
}

/// An instantiated module with its exports.
pub struct Instance_ {
    store: Store<Ctx>,
    memory: wasmtime::Memory,
    alloc: TypedFunc<u32, u32>,
    free: TypedFunc<(u32, u32), ()>,
    engine_new: TypedFunc<(u32, u32), u64>,
    session_new: TypedFunc<(u32, u32, u32), u64>,
    session_put: TypedFunc<(u32, u32, u32, u32, u32), u64>,
    session_evaluate: TypedFunc<u32, u64>,
    session_free: TypedFunc<u32, ()>,
    parse_documents: TypedFunc<(u32, u32), u64>,
    verify_bundle: TypedFunc<(u32, u32), u64>,
    verify_signature: TypedFunc<(u32, u32), u64>,
    _instance: Instance,
    /// The wall-clock deadline of the current request, if any.
    deadline: Option<Instant>,
    /// Most fuel one call used since the last [`Instance_::take_peak_fuel`].
    peak_fuel: u64,
    /// Fuel given to each call.
    fuel: u64,
    /// Epoch ticks a call gets however late it is.
    grace_ticks: u128,
}

impl ModuleRunner {
    /// Loads the embedded module: the build's precompiled code when this
    /// machine and engine accept it (wasmtime checks the version, the
    /// configuration and the CPU features), else compiled now.
    pub fn new() -> Result<Self, RunnerError> {
        let engine = Engine::new(&engine_config::wasmtime_config()).map_err(wasm)?;
        // SAFETY: `PRECOMPILED` is wasmtime's own output for `MODULE_BYTES`,
        // written by this crate's build script and embedded in the binary
        // (trusted as the binary itself); `deserialize` checks that it was
        // made by this wasmtime version with a compatible configuration.
        let precompiled = match PRECOMPILED.is_empty() {
            true => None,
            false => unsafe { Module::deserialize(&engine, PRECOMPILED) }
                .map_err(|e| tracing::debug!(error = %e, "precompiled engine module refused; compiling it"))
                .ok(),
        };
        match precompiled {
            Some(module) => Self::with_module(engine, module, true),
            None => Self::compile(engine, MODULE_BYTES),
        }
    }

    /// Compiles a module, refusing any with imports.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RunnerError> {
        let engine = Engine::new(&engine_config::wasmtime_config()).map_err(wasm)?;
        Self::compile(engine, bytes)
    }

    /// Whether this runner's module was loaded precompiled.
    pub fn is_precompiled(&self) -> bool {
        self.precompiled
    }

    fn compile(engine: Engine, bytes: &[u8]) -> Result<Self, RunnerError> {
        let module = Module::new(&engine, bytes).map_err(wasm)?;
        Self::with_module(engine, module, false)
    }

    fn with_module(engine: Engine, module: Module, precompiled: bool) -> Result<Self, RunnerError> {
        spawn_epoch_ticker(&engine);
        let imports: Vec<String> = module
            .imports()
            .map(|i| format!("{}::{}", i.module(), i.name()))
            .collect();
        if !imports.is_empty() {
            return Err(RunnerError::Imports(imports.join(", ")));
        }
        Ok(ModuleRunner {
            engine,
            module,
            fuel: FUEL_PER_CALL,
            grace_ticks: MIN_DEADLINE_TICKS,
            precompiled,
        })
    }

    /// The same module with another fuel budget per call (tests of the limit).
    pub fn with_fuel_per_call(mut self, fuel: u64) -> Self {
        self.fuel = fuel;
        self
    }

    /// The same module with another grace past a request's deadline (at
    /// least one epoch tick): tests of the deadline itself, whose work must
    /// outlast the grace.
    pub fn with_deadline_grace(mut self, grace: Duration) -> Self {
        self.grace_ticks = (grace.as_millis() / EPOCH_TICK.as_millis()).max(1);
        self
    }

    /// Number of imports (zero for an accepted module).
    pub fn import_count(&self) -> usize {
        self.module.imports().count()
    }

    /// Instantiates with memory and fuel limits.
    pub fn instantiate(&self) -> Result<Instance_, RunnerError> {
        let limits = ModuleLimits {
            memory_bytes: MEMORY_LIMIT_BYTES,
            memory_hit: false,
        };
        let mut store = Store::new(&self.engine, Ctx { limits });
        store.limiter(|c| &mut c.limits);
        store.set_fuel(self.fuel).map_err(wasm)?;
        store.epoch_deadline_trap();
        store.set_epoch_deadline(NO_DEADLINE_TICKS);
        let linker: Linker<Ctx> = Linker::new(&self.engine);
        let instance = linker.instantiate(&mut store, &self.module).map_err(wasm)?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| RunnerError::Wasm("module exports no memory".into()))?;
        macro_rules! f {
            ($name:literal) => {
                instance.get_typed_func(&mut store, $name).map_err(wasm)?
            };
        }
        Ok(Instance_ {
            alloc: f!("imgverify_alloc"),
            free: f!("imgverify_free"),
            engine_new: f!("imgverify_engine_new"),
            session_new: f!("imgverify_session_new"),
            session_put: f!("imgverify_session_put"),
            session_evaluate: f!("imgverify_session_evaluate"),
            session_free: f!("imgverify_session_free"),
            parse_documents: f!("imgverify_parse_documents"),
            verify_bundle: f!("imgverify_verify_bundle"),
            verify_signature: f!("imgverify_verify_signature"),
            memory,
            store,
            _instance: instance,
            deadline: None,
            peak_fuel: 0,
            fuel: self.fuel,
            grace_ticks: self.grace_ticks,
        })
    }
}

/// Epoch ticks a call gets however late it is (100 ms): past the deadline
/// the host answers every fetch `deadline exceeded`, and the module must
/// still turn those answers into a decision (an `error` the failurePolicy
/// judges) rather than trap mid-put on a loaded machine. `serve`'s deadline
/// margin (500 ms by default) covers it.
const MIN_DEADLINE_TICKS: u128 = 10;

/// Epoch ticks standing in for "no deadline" (about ten years of ticks).
const NO_DEADLINE_TICKS: u64 = 1 << 35;

/// Advances the engine's epoch every [`EPOCH_TICK`] until the engine is dropped.
fn spawn_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    let _ = std::thread::Builder::new()
        .name("imgverify-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        });
}

impl Instance_ {
    /// Fresh fuel, and an epoch deadline, before each call into the module.
    fn refuel(&mut self) -> Result<(), RunnerError> {
        let used = self
            .fuel
            .saturating_sub(self.store.get_fuel().unwrap_or(self.fuel));
        self.peak_fuel = self.peak_fuel.max(used);
        self.store.set_fuel(self.fuel).map_err(wasm)?;
        let ticks = match self.deadline {
            None => NO_DEADLINE_TICKS,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                (left.as_millis() / EPOCH_TICK.as_millis()).max(self.grace_ticks) as u64
            }
        };
        self.store.set_epoch_deadline(ticks);
        Ok(())
    }

    /// Maps a call's error: traps become the limit or deadline they were.
    fn trapped(&self, e: wasmtime::Error) -> RunnerError {
        if self.store.data().limits.memory_hit {
            return RunnerError::Limit(format!(
                "the engine needed more than its memory limit of {} MiB for this request",
                MEMORY_LIMIT_BYTES >> 20
            ));
        }
        match e.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => RunnerError::Limit(format!(
                "the engine used its whole CPU budget ({} fuel) on this request",
                self.fuel
            )),
            Some(Trap::Interrupt) => RunnerError::Deadline,
            Some(t) => RunnerError::Trap(t.to_string()),
            None => RunnerError::Trap(
                e.to_string()
                    .lines()
                    .next()
                    .unwrap_or("unknown")
                    .to_string(),
            ),
        }
    }

    /// The most fuel any one call used since the last time this was asked
    /// (for benchmarks and the tests that size [`FUEL_PER_CALL`]).
    pub fn take_peak_fuel(&mut self) -> u64 {
        let used = self
            .fuel
            .saturating_sub(self.store.get_fuel().unwrap_or(self.fuel));
        // Full again, so the next refuel does not count the last call twice.
        let _ = self.store.set_fuel(self.fuel);
        std::mem::take(&mut self.peak_fuel).max(used)
    }

    /// Gives each later call `fuel` (tests of the limit, after the policies
    /// were compiled with the full budget).
    pub fn set_fuel_per_call(&mut self, fuel: u64) {
        self.fuel = fuel;
    }

    /// Memory the instance has grown to (bytes).
    pub fn memory_size(&self) -> usize {
        self.memory.data_size(&self.store)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(u32, u32), RunnerError> {
        let len =
            u32::try_from(bytes.len()).map_err(|_| RunnerError::Wasm("input over 4 GiB".into()))?;
        let ptr = self
            .alloc
            .call(&mut self.store, len)
            .map_err(|e| self.trapped(e))?;
        self.memory
            .write(&mut self.store, ptr as usize, bytes)
            .map_err(|e| RunnerError::Protocol(e.to_string()))?;
        Ok((ptr, len))
    }

    fn read_result(&mut self, packed: u64) -> Result<Value, RunnerError> {
        let ptr = (packed >> 32) as u32;
        let len = (packed & 0xffff_ffff) as u32;
        let mut buf = vec![0u8; len as usize];
        self.memory
            .read(&self.store, ptr as usize, &mut buf)
            .map_err(|e| RunnerError::Protocol(e.to_string()))?;
        self.free
            .call(&mut self.store, (ptr, len))
            .map_err(|e| self.trapped(e))?;
        serde_json::from_slice(&buf).map_err(|e| RunnerError::Protocol(e.to_string()))
    }

    /// The module's `{"ok":false,"error":…}` as an error.
    fn check_ok(v: &Value) -> Result<(), RunnerError> {
        if v.get("ok").and_then(Value::as_bool) == Some(true) {
            return Ok(());
        }
        let msg = v
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("unknown error");
        Err(RunnerError::Engine(msg.to_string()))
    }

    fn ok_field(v: &Value, field: &str) -> Result<u32, RunnerError> {
        Self::check_ok(v)?;
        v.get(field)
            .and_then(Value::as_u64)
            .and_then(|h| u32::try_from(h).ok())
            .ok_or_else(|| RunnerError::Protocol(format!("missing {field}")))
    }

    /// Parses a YAML/JSON document set inside the sandbox; returns
    /// `(origin, value)` pairs.
    pub fn parse_documents(
        &mut self,
        name: &str,
        text: &str,
    ) -> Result<Vec<(String, Value)>, RunnerError> {
        self.deadline = None;
        let input = serde_json::to_vec(&serde_json::json!({"name": name, "text": text}))
            .map_err(|e| RunnerError::Protocol(e.to_string()))?;
        let v = self.call_with_input(self.parse_documents.clone(), &input)?;
        Self::check_ok(&v)?;
        Ok(v.get("documents")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|d| {
                (
                    d.get("origin")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    d.get("value").cloned().unwrap_or(Value::Null),
                )
            })
            .collect())
    }

    /// Verifies a Sigstore bundle inside the sandbox
    /// (`imgverify::abi::protocol::VerifyBundleInput` JSON); returns the
    /// trusted signing times, or the reason it did not verify as
    /// [`RunnerError::Engine`].
    pub fn verify_bundle(&mut self, input_json: &[u8]) -> Result<Vec<i64>, RunnerError> {
        self.deadline = None;
        let v = self.call_with_input(self.verify_bundle.clone(), input_json)?;
        Self::check_ok(&v)?;
        Ok(v.get("signingTimes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_i64)
            .collect())
    }

    /// Verifies one signature inside the sandbox
    /// (`imgverify::abi::protocol::VerifySignatureInput` JSON): `Ok(None)`
    /// when it verifies, `Ok(Some(reason))` when it does not.
    pub fn verify_signature(&mut self, input_json: &[u8]) -> Result<Option<String>, RunnerError> {
        self.deadline = None;
        let v = self.call_with_input(self.verify_signature.clone(), input_json)?;
        Self::check_ok(&v)?;
        Ok(match v.get("valid").and_then(Value::as_bool) {
            Some(true) => None,
            _ => Some(
                v.get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or("not valid")
                    .to_string(),
            ),
        })
    }

    /// Calls an export taking one input buffer and returning a JSON result.
    fn call_with_input(
        &mut self,
        export: TypedFunc<(u32, u32), u64>,
        input: &[u8],
    ) -> Result<Value, RunnerError> {
        self.refuel()?;
        let (p, l) = self.write(input)?;
        let packed = export
            .call(&mut self.store, (p, l))
            .map_err(|e| self.trapped(e))?;
        self.free
            .call(&mut self.store, (p, l))
            .map_err(|e| self.trapped(e))?;
        self.read_result(packed)
    }

    /// Compiles policies; returns the engine handle, lints and summary.
    pub fn engine_new(&mut self, input_json: &[u8]) -> Result<Compiled, RunnerError> {
        let v = self.call_with_input(self.engine_new.clone(), input_json)?;
        let engine = Self::ok_field(&v, "engine")?;
        Ok(Compiled {
            engine,
            lints: v.get("lints").cloned().unwrap_or(Value::Null),
            summary: v.get("summary").cloned().unwrap_or(Value::Null),
        })
    }

    /// Runs a request to its decision, fetching from `source`.
    pub fn decide(
        &mut self,
        engine: u32,
        request_json: &[u8],
        source: &dyn ArtifactSource,
    ) -> Result<Decision, RunnerError> {
        self.decide_until(engine, request_json, source, None)
    }

    /// Like [`Self::decide`], with every fetch round bounded by `deadline`.
    pub fn decide_until(
        &mut self,
        engine: u32,
        request_json: &[u8],
        source: &dyn ArtifactSource,
        deadline: Option<std::time::Instant>,
    ) -> Result<Decision, RunnerError> {
        self.deadline = deadline;
        self.refuel()?;
        let (p, l) = self.write(request_json)?;
        let packed = self
            .session_new
            .call(&mut self.store, (engine, p, l))
            .map_err(|e| self.trapped(e))?;
        self.free
            .call(&mut self.store, (p, l))
            .map_err(|e| self.trapped(e))?;
        let v = self.read_result(packed)?;
        let session = Self::ok_field(&v, "session")?;
        let result = self.drive(session, source, deadline);
        let _ = self.session_free.call(&mut self.store, session);
        result
    }

    fn drive(
        &mut self,
        session: u32,
        source: &dyn ArtifactSource,
        deadline: Option<std::time::Instant>,
    ) -> Result<Decision, RunnerError> {
        for _ in 0..MAX_ROUNDS {
            self.refuel()?;
            let packed = self
                .session_evaluate
                .call(&mut self.store, session)
                .map_err(|e| self.trapped(e))?;
            let v = self.read_result(packed)?;
            if v.get("ok").and_then(Value::as_bool) == Some(false) {
                Self::check_ok(&v)?;
            }
            let outcome: OutcomeWire =
                serde_json::from_value(v).map_err(|e| RunnerError::Protocol(e.to_string()))?;
            match outcome {
                OutcomeWire::Decision { decision } => return Ok(decision),
                OutcomeWire::NeedArtifacts { fetches } => {
                    // Each answer goes into the module as it arrives.
                    let mut failed = None;
                    source.fetch_each(&fetches, deadline, &mut |i, answer| {
                        if failed.is_none()
                            && let Some(f) = fetches.get(i)
                            && let Err(e) = self.put(session, f, answer)
                        {
                            failed = Some(e);
                        }
                    });
                    if let Some(e) = failed {
                        return Err(e);
                    }
                }
            }
        }
        Err(RunnerError::TooManyRounds(MAX_ROUNDS))
    }

    fn put(&mut self, session: u32, f: &Fetch, answer: SourceAnswer) -> Result<(), RunnerError> {
        let (status, message) = (answer.status(), answer.message().unwrap_or("").to_string());
        let bytes = match answer {
            SourceAnswer::Bytes(b) => b,
            _ => Vec::new(),
        };
        let header = serde_json::json!({"kind": f.kind.as_str(), "key": f.key, "status": status, "message": message});
        let header =
            serde_json::to_vec(&header).map_err(|e| RunnerError::Protocol(e.to_string()))?;
        self.refuel()?;
        let (hp, hl) = self.write(&header)?;
        let (bp, bl) = self.write(&bytes)?;
        let packed = self
            .session_put
            .call(&mut self.store, (session, hp, hl, bp, bl))
            .map_err(|e| self.trapped(e))?;
        self.free
            .call(&mut self.store, (hp, hl))
            .map_err(|e| self.trapped(e))?;
        self.free
            .call(&mut self.store, (bp, bl))
            .map_err(|e| self.trapped(e))?;
        // A refused put (digest mismatch, oversize) is recorded in the session
        // as a failure; the decision reports it, so it is not an error here.
        let _ = self.read_result(packed)?;
        Ok(())
    }
}

#[derive(serde::Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
enum OutcomeWire {
    NeedArtifacts { fetches: Vec<Fetch> },
    Decision { decision: Decision },
}

/// Evaluates natively (same engine code, no wasm) — for benchmarks and tests.
pub fn decide_native(
    engine: &std::sync::Arc<imgverify::Engine>,
    request_json: &[u8],
    source: &dyn ArtifactSource,
) -> Result<Decision, RunnerError> {
    let request = imgverify::Request::from_json(request_json)
        .map_err(|e| RunnerError::Engine(e.to_string()))?;
    let mut session = imgverify::Session::new(engine.clone(), request);
    for _ in 0..MAX_ROUNDS {
        match session.evaluate() {
            Outcome::Decision { decision } => return Ok(decision),
            Outcome::NeedArtifacts { fetches } => {
                source.fetch_each(&fetches, None, &mut |i, answer| {
                    if let Some(f) = fetches.get(i) {
                        let _ = session.put(f.kind, &f.key, answer.into());
                    }
                });
            }
        }
    }
    Err(RunnerError::TooManyRounds(MAX_ROUNDS))
}
