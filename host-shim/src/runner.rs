//! Runs the engine module in wasmtime: zero-import check, memory and fuel
//! limits, and the evaluate → fetch → put loop over an [`ArtifactSource`].

use crate::source::{ArtifactSource, SourceAnswer};
use imgverify::decision::Decision;
use imgverify::engine::{Fetch, Outcome};
use serde_json::Value;
use wasmtime::{
    Config, Engine, Instance, Linker, Module, Store, StoreLimits, StoreLimitsBuilder, TypedFunc,
};

/// The engine module built for this binary.
pub static MODULE_BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/imgverify.wasm"));

/// Memory a module instance may grow to.
pub const MEMORY_LIMIT_BYTES: usize = 512 * 1024 * 1024;
/// Fuel per host call (about instructions); bounds any one call's CPU.
pub const FUEL_PER_CALL: u64 = 20_000_000_000;
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
}

fn wasm<E: std::fmt::Display>(e: E) -> RunnerError {
    RunnerError::Wasm(format!("{e:#}"))
}

/// A compiled module, shareable across instances.
#[derive(Clone)]
pub struct ModuleRunner {
    engine: Engine,
    module: Module,
}

struct Ctx {
    limits: StoreLimits,
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
    _instance: Instance,
}

impl ModuleRunner {
    /// Compiles the embedded module.
    pub fn new() -> Result<Self, RunnerError> {
        Self::from_bytes(MODULE_BYTES)
    }

    /// Compiles a module, refusing any with imports.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RunnerError> {
        let mut config = Config::new();
        config.consume_fuel(true);
        let engine = Engine::new(&config).map_err(wasm)?;
        let module = Module::new(&engine, bytes).map_err(wasm)?;
        let imports: Vec<String> = module
            .imports()
            .map(|i| format!("{}::{}", i.module(), i.name()))
            .collect();
        if !imports.is_empty() {
            return Err(RunnerError::Imports(imports.join(", ")));
        }
        Ok(ModuleRunner { engine, module })
    }

    /// Number of imports (zero for an accepted module).
    pub fn import_count(&self) -> usize {
        self.module.imports().count()
    }

    /// Instantiates with memory and fuel limits.
    pub fn instantiate(&self) -> Result<Instance_, RunnerError> {
        let limits = StoreLimitsBuilder::new()
            .memory_size(MEMORY_LIMIT_BYTES)
            .instances(1)
            .build();
        let mut store = Store::new(&self.engine, Ctx { limits });
        store.limiter(|c| &mut c.limits);
        store.set_fuel(FUEL_PER_CALL).map_err(wasm)?;
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
            memory,
            store,
            _instance: instance,
        })
    }
}

impl Instance_ {
    fn refuel(&mut self) -> Result<(), RunnerError> {
        self.store.set_fuel(FUEL_PER_CALL).map_err(wasm)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(u32, u32), RunnerError> {
        let len =
            u32::try_from(bytes.len()).map_err(|_| RunnerError::Wasm("input over 4 GiB".into()))?;
        let ptr = self.alloc.call(&mut self.store, len).map_err(wasm)?;
        self.memory
            .write(&mut self.store, ptr as usize, bytes)
            .map_err(wasm)?;
        Ok((ptr, len))
    }

    fn read_result(&mut self, packed: u64) -> Result<Value, RunnerError> {
        let ptr = (packed >> 32) as u32;
        let len = (packed & 0xffff_ffff) as u32;
        let mut buf = vec![0u8; len as usize];
        self.memory
            .read(&self.store, ptr as usize, &mut buf)
            .map_err(wasm)?;
        self.free.call(&mut self.store, (ptr, len)).map_err(wasm)?;
        serde_json::from_slice(&buf).map_err(|e| RunnerError::Protocol(e.to_string()))
    }

    fn ok_field(v: &Value, field: &str) -> Result<u32, RunnerError> {
        if v.get("ok").and_then(Value::as_bool) != Some(true) {
            let msg = v
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("unknown error");
            return Err(RunnerError::Engine(msg.to_string()));
        }
        v.get(field)
            .and_then(Value::as_u64)
            .and_then(|h| u32::try_from(h).ok())
            .ok_or_else(|| RunnerError::Protocol(format!("missing {field}")))
    }

    /// Compiles policies; returns the engine handle and lints.
    pub fn engine_new(&mut self, input_json: &[u8]) -> Result<(u32, Value), RunnerError> {
        self.refuel()?;
        let (p, l) = self.write(input_json)?;
        let packed = self
            .engine_new
            .call(&mut self.store, (p, l))
            .map_err(wasm)?;
        self.free.call(&mut self.store, (p, l)).map_err(wasm)?;
        let v = self.read_result(packed)?;
        let h = Self::ok_field(&v, "engine")?;
        Ok((h, v.get("lints").cloned().unwrap_or(Value::Null)))
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
        self.refuel()?;
        let (p, l) = self.write(request_json)?;
        let packed = self
            .session_new
            .call(&mut self.store, (engine, p, l))
            .map_err(wasm)?;
        self.free.call(&mut self.store, (p, l)).map_err(wasm)?;
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
                .map_err(wasm)?;
            let v = self.read_result(packed)?;
            if v.get("ok").and_then(Value::as_bool) == Some(false) {
                return Err(RunnerError::Engine(
                    v.get("error")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                ));
            }
            let outcome: OutcomeWire =
                serde_json::from_value(v).map_err(|e| RunnerError::Protocol(e.to_string()))?;
            match outcome {
                OutcomeWire::Decision { decision } => return Ok(decision),
                OutcomeWire::NeedArtifacts { fetches } => {
                    let answers = source.fetch_all(&fetches, deadline);
                    for (f, answer) in fetches.iter().zip(answers) {
                        self.put(session, f, answer)?;
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
            .map_err(wasm)?;
        self.free.call(&mut self.store, (hp, hl)).map_err(wasm)?;
        self.free.call(&mut self.store, (bp, bl)).map_err(wasm)?;
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
                let answers = source.fetch_all(&fetches, None);
                for (f, answer) in fetches.into_iter().zip(answers) {
                    let _ = session.put(f.kind, &f.key, answer.into());
                }
            }
        }
    }
    Err(RunnerError::TooManyRounds(MAX_ROUNDS))
}
