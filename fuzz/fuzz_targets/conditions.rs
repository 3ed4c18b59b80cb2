//! Conditions over hostile data: an attestation's predicate is untrusted
//! JSON, merged into the context and read by policy expressions, variables
//! and operators. Nothing may panic, loop or blow up, whatever the data and
//! whatever (bounded) expression a policy writes.
#![no_main]
use arbitrary::Arbitrary;
use imgverify::conditions::{Conditions, functions, variables};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    data: &'a [u8],
    expression: &'a str,
    text: &'a str,
    key: &'a str,
    value: &'a str,
    operator: u8,
}

const OPERATORS: &[&str] = &[
    "Equals", "NotEquals", "In", "AnyIn", "AllIn", "NotIn", "AnyNotIn", "AllNotIn",
    "GreaterThan", "GreaterThanOrEquals", "LessThan", "LessThanOrEquals",
    "DurationGreaterThan", "DurationGreaterThanOrEquals", "DurationLessThan",
    "DurationLessThanOrEquals",
];

fuzz_target!(|i: Input| {
    let data: Value = serde_json::from_slice(i.data).unwrap_or(Value::Null);
    let now = Some(1_767_225_600);
    if i.expression.len() <= 4096 {
        let _ = functions::validate(i.expression);
        let _ = functions::search(i.expression, &data, now);
    }
    let mut resolve = variables::resolve_in(&data, now);
    let _ = variables::substitute_string(i.text, &mut resolve);
    let operator = OPERATORS[usize::from(i.operator) % OPERATORS.len()];
    let key: Value = serde_json::from_str(i.key).unwrap_or_else(|_| Value::String(i.key.into()));
    let value: Value =
        serde_json::from_str(i.value).unwrap_or_else(|_| Value::String(i.value.into()));
    let conditions = serde_json::json!([{"any": [{"key": key, "operator": operator, "value": value}]}]);
    let (parsed, _) = Conditions::parse(&conditions, "conditions");
    let _ = parsed.evaluate(&data, now);
});
