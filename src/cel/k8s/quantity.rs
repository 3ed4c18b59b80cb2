//! `kubernetes.Quantity` (k8s.io/apiserver `library/quantity.go`): the
//! functions over `resource.Quantity`, on the quantity core of the
//! JMESPath functions ([`crate::conditions::functions::quantity`]).
//!
//! That core holds `m × 10^e` in 128 bits and keeps the `int64Amount` and
//! `inf.Dec` forms apart (`dec`), as Kubernetes does; `asInteger` and
//! `isInteger` depend on the form (`AsInt64` fails for any `inf.Dec`, even
//! an integral one, as in `quantity("1.5Gi")`). Unlike `inf.Dec`, values
//! past 38 digits at nano scale (about 1.7e29) are a parse or arithmetic
//! error (`quantity out of the supported range (38 digits)`).

use super::super::functions::{Decl, FnResult};
use super::super::library::{d, no_such_overload, str_arg};
use super::super::value::{Opaque, Value};
use super::opaque;
use crate::conditions::functions::quantity::{QFormat, Quantity as Core};
use std::cmp::Ordering;
use std::sync::Arc;

/// The CEL type name of a quantity.
pub const QUANTITY_TYPE: &str = "kubernetes.Quantity";

/// A quantity value.
#[derive(Debug)]
pub struct Quantity(pub(crate) Core);

impl Opaque for Quantity {
    fn type_name(&self) -> &'static str {
        QUANTITY_TYPE
    }
    /// `Quantity.Equal`: `Cmp(other) == 0`.
    fn equals(&self, other: &dyn Opaque) -> bool {
        other
            .as_any()
            .downcast_ref::<Quantity>()
            .is_some_and(|o| compare(&self.0, &o.0) == Ordering::Equal)
    }
    /// `Quantity.String()`, as `ConvertToNative` gives it.
    fn to_string_value(&self) -> Option<String> {
        self.0.to_string_checked().ok()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// `Quantity.Cmp`: exact, whatever the forms and scales.
pub(crate) fn compare(a: &Core, b: &Core) -> Ordering {
    let (sa, sb) = (a.m.signum(), b.m.signum());
    if sa != sb || sa == 0 {
        return sa.cmp(&sb);
    }
    // Same sign, both non-zero: compare magnitudes at the smaller exponent.
    // Scaling only ever grows the side with the larger exponent; when it
    // overflows 128 bits that side is the larger.
    let e = a.e.min(b.e);
    let scaled = |m: i128, exp: i64| {
        exp.checked_sub(e)
            .and_then(|by| u32::try_from(by).ok())
            .and_then(|by| 10u128.checked_pow(by))
            .and_then(|p| m.unsigned_abs().checked_mul(p))
    };
    let magnitude = match (scaled(a.m, a.e), scaled(b.m, b.e)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (None, _) => Ordering::Greater,
        (_, None) => Ordering::Less,
    };
    if sa > 0 {
        magnitude
    } else {
        magnitude.reverse()
    }
}

/// `Quantity.AsInt64`: only an `int64Amount` at a scale of zero or more
/// whose value fits. (Go multiplies by ten once per unit of scale; zero
/// is answered at once rather than after up to 2^31 steps.)
pub(crate) fn as_int64(q: &Core) -> Option<i64> {
    if q.dec || q.e < 0 {
        return None;
    }
    let v = i64::try_from(q.m).ok()?;
    if v == 0 {
        return Some(0);
    }
    let scale = u32::try_from(q.e).ok()?;
    10i64.checked_pow(scale).and_then(|p| v.checked_mul(p))
}

/// `Quantity.Sub`. Go negates an `int64Amount`'s value, which leaves the
/// most negative int64 as it is: the int64 path then adds it.
fn go_sub(q: &Core, y: &Core) -> Result<Core, String> {
    if !q.dec && !y.dec && y.m == i128::from(i64::MIN) {
        let sum = q.add(y)?;
        if !sum.dec {
            return Ok(sum);
        }
    }
    q.sub(y)
}

fn new(q: Core) -> Value {
    Value::Opaque(Arc::new(Quantity(q)))
}

fn arg(v: &Value) -> Result<&Core, String> {
    opaque::<Quantity>(v).map(|q| &q.0)
}

/// The right operand of `add`/`sub`: a quantity, or an int as
/// `resource.NewQuantity(i, DecimalExponent)`.
fn operand(v: &Value) -> Result<Core, String> {
    match v {
        Value::Int(i) => Ok(Core::int64(*i, 0, QFormat::DecimalExponent)),
        v => arg(v).cloned(),
    }
}

fn quantity(a: &[Value]) -> FnResult {
    let [s] = a else {
        return Err(no_such_overload());
    };
    Core::parse(str_arg(s)?).map(new)
}

fn is_quantity(a: &[Value]) -> FnResult {
    let [s] = a else {
        return Err(no_such_overload());
    };
    Ok(Value::Bool(Core::parse(str_arg(s)?).is_ok()))
}

fn sign(a: &[Value]) -> FnResult {
    let [q] = a else {
        return Err(no_such_overload());
    };
    Ok(Value::Int(arg(q)?.m.signum() as i64))
}

fn ordering(a: &[Value]) -> Result<Ordering, String> {
    let [x, y] = a else {
        return Err(no_such_overload());
    };
    Ok(compare(arg(x)?, arg(y)?))
}

fn is_greater_than(a: &[Value]) -> FnResult {
    Ok(Value::Bool(ordering(a)? == Ordering::Greater))
}

fn is_less_than(a: &[Value]) -> FnResult {
    Ok(Value::Bool(ordering(a)? == Ordering::Less))
}

fn compare_to(a: &[Value]) -> FnResult {
    Ok(Value::Int(ordering(a)? as i64))
}

fn as_approximate_float(a: &[Value]) -> FnResult {
    let [q] = a else {
        return Err(no_such_overload());
    };
    Ok(Value::Double(arg(q)?.approx_f64()))
}

fn as_integer(a: &[Value]) -> FnResult {
    let [q] = a else {
        return Err(no_such_overload());
    };
    as_int64(arg(q)?)
        .map(Value::Int)
        .ok_or_else(|| "cannot convert value to integer".to_string())
}

fn is_integer(a: &[Value]) -> FnResult {
    let [q] = a else {
        return Err(no_such_overload());
    };
    Ok(Value::Bool(as_int64(arg(q)?).is_some()))
}

fn add(a: &[Value]) -> FnResult {
    let [q, y] = a else {
        return Err(no_such_overload());
    };
    arg(q)?.add(&operand(y)?).map(new)
}

fn sub(a: &[Value]) -> FnResult {
    let [q, y] = a else {
        return Err(no_such_overload());
    };
    go_sub(arg(q)?, &operand(y)?).map(new)
}

/// The quantity library. `sign` is a global function, as Kubernetes
/// declares it (`sign(q)`, not `q.sign()`).
pub const QUANTITY: &[Decl] = &[
    d("quantity", None, &["string"], QUANTITY_TYPE, quantity),
    d("isQuantity", None, &["string"], "bool", is_quantity),
    d("sign", None, &[QUANTITY_TYPE], "int", sign),
    d(
        "isGreaterThan",
        Some(QUANTITY_TYPE),
        &[QUANTITY_TYPE],
        "bool",
        is_greater_than,
    ),
    d(
        "isLessThan",
        Some(QUANTITY_TYPE),
        &[QUANTITY_TYPE],
        "bool",
        is_less_than,
    ),
    d(
        "compareTo",
        Some(QUANTITY_TYPE),
        &[QUANTITY_TYPE],
        "int",
        compare_to,
    ),
    d(
        "asApproximateFloat",
        Some(QUANTITY_TYPE),
        &[],
        "double",
        as_approximate_float,
    ),
    d("asInteger", Some(QUANTITY_TYPE), &[], "int", as_integer),
    d("isInteger", Some(QUANTITY_TYPE), &[], "bool", is_integer),
    d(
        "add",
        Some(QUANTITY_TYPE),
        &[QUANTITY_TYPE],
        QUANTITY_TYPE,
        add,
    ),
    d("add", Some(QUANTITY_TYPE), &["int"], QUANTITY_TYPE, add),
    d(
        "sub",
        Some(QUANTITY_TYPE),
        &[QUANTITY_TYPE],
        QUANTITY_TYPE,
        sub,
    ),
    d("sub", Some(QUANTITY_TYPE), &["int"], QUANTITY_TYPE, sub),
];
