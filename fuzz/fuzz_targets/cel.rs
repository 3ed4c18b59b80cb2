//! CEL over hostile input: any expression (a policy author's mistake), any
//! object (an admission request's, an attestation's payload), evaluated in
//! the image-policy environment with a host that answers every call. Nothing
//! may panic, overflow the stack, or run past the cost limit.
#![no_main]
use arbitrary::Arbitrary;
use imgverify::cel::{Host, Value, eval};
use imgverify::policy::ivpol::EvaluationMode;
use imgverify::policy::ivpol::env::{match_image_env, policy_env};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    expression: &'a str,
    object: &'a [u8],
    answer: &'a [u8],
    namespaced: bool,
}

/// Answers every host call with the same JSON value.
struct Echo(Value);

impl Host for Echo {
    fn call(&mut self, _: &str, _: &[Value]) -> Result<Value, String> {
        Ok(self.0.clone())
    }
    fn variable(&mut self, _: &str) -> Option<Result<Value, String>> {
        Some(Ok(self.0.clone()))
    }
}

fuzz_target!(|i: Input| {
    let json = |b: &[u8]| serde_json::from_slice(b).map(|v| Value::from_json(&v)).unwrap_or(Value::Null);
    let object = json(i.object);
    let mut host = Echo(json(i.answer));
    let env = policy_env(EvaluationMode::Kubernetes, i.namespaced);
    if let Ok(program) = env.compile(i.expression) {
        let mut vars = BTreeMap::new();
        vars.insert("object".to_string(), object.clone());
        vars.insert("oldObject".to_string(), Value::Null);
        vars.insert("request".to_string(), object.clone());
        vars.insert("namespaceObject".to_string(), Value::Null);
        vars.insert("images".to_string(), Value::from_json(&serde_json::json!({"containers": ["ghcr.io/a/b:1"]})));
        vars.insert("attestors".to_string(), Value::from_json(&serde_json::json!({"a": "a"})));
        vars.insert("attestations".to_string(), Value::from_json(&serde_json::json!({"s": "s"})));
        let _ = program.eval(&env, &vars, &mut host, eval::DEFAULT_COST_LIMIT);
    }
    let env = match_image_env();
    if let Ok(program) = env.compile(i.expression) {
        let mut vars = BTreeMap::new();
        vars.insert("ref".to_string(), Value::string("ghcr.io/a/b:1"));
        let _ = program.eval(&env, &vars, &mut host, eval::DEFAULT_COST_LIMIT);
    }
});
