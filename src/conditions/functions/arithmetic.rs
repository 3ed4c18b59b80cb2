//! Kyverno's arithmetic (`arithmetic.go`): `add`, `sum`, `subtract`,
//! `multiply`, `divide`, `modulo` on numbers, quantities and durations, and
//! `round`.

use jmespath::{Rcvar, Variable};

use super::duration::{duration_from_seconds, duration_seconds, duration_string, parse_duration};
use super::numbers::{go_f64_to_i64, go_format_g, int_number};
use super::quantity::{QUANTITY_RANGE_ERROR, Quantity, pow10_i128};
use super::{arg, arg_num, generic, number, string};

fn zero_division(function: &str) -> String {
    generic(function, "Zero divisor passed")
}

fn type_mismatch(function: &str) -> String {
    generic(function, "Types mismatch")
}

fn non_int_modulo() -> String {
    generic("modulo", "Non-integer argument(s) passed for modulo")
}

enum Operand {
    Scalar(f64),
    Quantity(Quantity),
    Duration(i64),
}

fn operand(function: &str, v: &Variable) -> Result<Operand, String> {
    match v {
        Variable::Number(_) => Ok(Operand::Scalar(v.as_number().unwrap_or(f64::NAN))),
        Variable::String(s) => match Quantity::parse(s) {
            Ok(q) => Ok(Operand::Quantity(q)),
            // Kubernetes would hold it; this engine's quantities cannot.
            Err(e) if e == QUANTITY_RANGE_ERROR => Err(generic(function, &e)),
            Err(_) => match parse_duration(s) {
                Ok(d) => Ok(Operand::Duration(d)),
                Err(_) => Err(generic(function, "invalid operand")),
            },
        },
        _ => Err(generic(function, "invalid operand")),
    }
}

fn operands(function: &str, a: &Variable, b: &Variable) -> Result<(Operand, Operand), String> {
    Ok((operand(function, a)?, operand(function, b)?))
}

fn quantity_result(q: &Quantity) -> Result<Rcvar, String> {
    q.to_string_checked().map(string)
}

fn add_values(function: &str, a: &Variable, b: &Variable) -> Result<Rcvar, String> {
    match operands(function, a, b)? {
        (Operand::Quantity(x), Operand::Quantity(y)) => quantity_result(&x.add(&y)?),
        (Operand::Duration(x), Operand::Duration(y)) => {
            Ok(string(duration_string(x.wrapping_add(y))))
        }
        (Operand::Scalar(x), Operand::Scalar(y)) => number(x + y),
        _ => Err(type_mismatch(function)),
    }
}

pub(super) fn jp_add(args: &[Rcvar]) -> Result<Rcvar, String> {
    add_values("add", arg(args, 0), arg(args, 1))
}

pub(super) fn jp_sum(args: &[Rcvar]) -> Result<Rcvar, String> {
    let items = arg(args, 0)
        .as_array()
        .ok_or_else(|| type_mismatch("sum"))?;
    let Some((first, rest)) = items.split_first() else {
        return Err(generic(
            "sum",
            "at least one element in the array is required",
        ));
    };
    let mut result = first.clone();
    for item in rest {
        result = add_values("sum", &result, item)?;
    }
    Ok(result)
}

pub(super) fn jp_subtract(args: &[Rcvar]) -> Result<Rcvar, String> {
    match operands("subtract", arg(args, 0), arg(args, 1))? {
        (Operand::Quantity(x), Operand::Quantity(y)) => quantity_result(&x.sub(&y)?),
        (Operand::Duration(x), Operand::Duration(y)) => {
            Ok(string(duration_string(x.wrapping_sub(y))))
        }
        (Operand::Scalar(x), Operand::Scalar(y)) => number(x - y),
        _ => Err(type_mismatch("subtract")),
    }
}

/// The scalar as a quantity, as Kyverno makes it (`fmt.Sprintf("%v", f)`).
fn scalar_quantity(f: f64) -> Result<Quantity, String> {
    Quantity::parse(&go_format_g(f))
}

fn quantity_times(q: &Quantity, f: f64) -> Result<Rcvar, String> {
    let s = scalar_quantity(f)?;
    let m = Quantity::range(q.m.checked_mul(s.m))?;
    let e = Quantity::range(q.e.checked_add(s.e))?;
    quantity_result(&Quantity {
        m,
        e,
        dec: true,
        format: q.format,
    })
}

fn duration_times(d: i64, f: f64) -> Rcvar {
    string(duration_string(duration_from_seconds(
        duration_seconds(d) * f,
    )))
}

pub(super) fn jp_multiply(args: &[Rcvar]) -> Result<Rcvar, String> {
    match operands("multiply", arg(args, 0), arg(args, 1))? {
        (Operand::Quantity(q), Operand::Scalar(f)) | (Operand::Scalar(f), Operand::Quantity(q)) => {
            quantity_times(&q, f)
        }
        (Operand::Duration(d), Operand::Scalar(f)) | (Operand::Scalar(f), Operand::Duration(d)) => {
            Ok(duration_times(d, f))
        }
        (Operand::Scalar(x), Operand::Scalar(y)) => number(x * y),
        _ => Err(type_mismatch("multiply")),
    }
}

pub(super) fn jp_divide(args: &[Rcvar]) -> Result<Rcvar, String> {
    match operands("divide", arg(args, 0), arg(args, 1))? {
        (Operand::Quantity(x), Operand::Quantity(y)) => {
            let divisor = y.approx_f64();
            if divisor == 0.0 {
                return Err(zero_division("divide"));
            }
            number(x.approx_f64() / divisor)
        }
        (Operand::Quantity(x), Operand::Scalar(f)) => {
            if f == 0.0 {
                return Err(zero_division("divide"));
            }
            let y = scalar_quantity(f)?;
            // inf.Dec QuoRound at the larger scale, rounding down.
            let scale = (-x.e).max(-y.e);
            let p = scale + x.e - y.e;
            let m = if p >= 0 {
                let num = Quantity::range(pow10_i128(p).and_then(|f| x.m.checked_mul(f)))?;
                Quantity::range(num.checked_div(y.m))?
            } else {
                match pow10_i128(-p).and_then(|f| y.m.checked_mul(f)) {
                    Some(den) => Quantity::range(x.m.checked_div(den))?,
                    None => 0,
                }
            };
            quantity_result(&Quantity {
                m,
                e: -scale,
                dec: true,
                format: x.format,
            })
        }
        (Operand::Duration(x), Operand::Duration(y)) => {
            let divisor = duration_seconds(y);
            if divisor == 0.0 {
                return Err(zero_division("divide"));
            }
            number(duration_seconds(x) / divisor)
        }
        (Operand::Duration(x), Operand::Scalar(f)) => {
            if f == 0.0 {
                return Err(zero_division("divide"));
            }
            Ok(string(duration_string(duration_from_seconds(
                duration_seconds(x) / f,
            ))))
        }
        (Operand::Scalar(x), Operand::Scalar(y)) => {
            if y == 0.0 {
                return Err(zero_division("divide"));
            }
            number(x / y)
        }
        _ => Err(type_mismatch("divide")),
    }
}

/// `int64(f)` that must be exact (Kyverno's modulo check).
fn exact_i64(f: f64) -> Result<i64, String> {
    let i = go_f64_to_i64(f);
    if f != i as f64 {
        return Err(non_int_modulo());
    }
    Ok(i)
}

pub(super) fn jp_modulo(args: &[Rcvar]) -> Result<Rcvar, String> {
    match operands("modulo", arg(args, 0), arg(args, 1))? {
        (Operand::Quantity(x), Operand::Quantity(y)) => {
            let i1 = exact_i64(x.approx_f64())?;
            let i2 = exact_i64(y.approx_f64())?;
            if i2 == 0 {
                return Err(zero_division("modulo"));
            }
            quantity_result(&Quantity::int64(i1.wrapping_rem(i2), 0, x.format))
        }
        (Operand::Duration(x), Operand::Duration(y)) => {
            if y == 0 {
                return Err(zero_division("modulo"));
            }
            Ok(string(duration_string(x.wrapping_rem(y))))
        }
        (Operand::Scalar(x), Operand::Scalar(y)) => {
            let v1 = exact_i64(x)?;
            let v2 = exact_i64(y)?;
            if v2 == 0 {
                return Err(zero_division("modulo"));
            }
            number(v1.wrapping_rem(v2) as f64)
        }
        _ => Err(type_mismatch("modulo")),
    }
}

pub(super) fn jp_round(args: &[Rcvar]) -> Result<Rcvar, String> {
    let x = arg_num("round", args, 0)?;
    let places = arg_num("round", args, 1)?;
    let places = int_number(places)
        .map_err(|_| generic("round", "Non-integer argument(s) passed for round off"))?;
    if places < 0 {
        return Err(generic("round", "argument #2 is out of bounds (negative)"));
    }
    let shift = if places <= 22 {
        10f64.powi(places as i32)
    } else {
        10f64.powf(places as f64)
    };
    number((x * shift).round() / shift)
}

#[cfg(test)]
mod tests {
    use crate::conditions::functions::tests::{fails, qd, qe, table};
    use serde_json::json;

    #[test]
    fn add() {
        table(&[
            ("add(`12`, `13`)", json!(25)),
            ("add(`1.5`, `1`)", json!(2.5)),
            ("add('12Ki', '13Ki')", json!("25Ki")),
            ("add('12Ki', '13')", json!("12301")),
            ("add('12s', '13s')", json!("25s")),
            ("add('1h', '30s')", json!("1h0m30s")),
            ("add('1h', '1m0s')", json!("1h1m0s")),
            ("add('1m', '1m')", json!("2m")),
            ("add('100Mi', '100Mi')", json!("200Mi")),
            ("add('1.5', '0')", json!("1500m")),
            ("add('1.5Gi', '0')", json!("1536Mi")),
            ("add('0', '1.5Gi')", json!("1536Mi")),
            ("add('500m', '500m')", json!("1")),
            ("add('1k', '24')", json!("1024")),
            ("add('1e3', '1e3')", json!("2e3")),
            ("add('1', '-1')", json!("0")),
            ("add('-1h', '30s')", json!("-59m30s")),
        ]);
        for expr in [
            "add('12', '13s')",
            "add(`12`, '13Ki')",
            "add(`12`, '13')",
            "add('12Ki', '13s')",
            "add('12Ki', `13`)",
            "add('12s', `13`)",
            "add('12s', '13Ki')",
            "add('12s', '13')",
            // '30m' is 30 milli: a quantity.
            "add('1h', '30m')",
        ] {
            assert_eq!(
                qe(expr),
                "JMESPath function 'add': Types mismatch",
                "{expr}"
            );
        }
        assert_eq!(
            qe("add('foo', `1`)"),
            "JMESPath function 'add': invalid operand"
        );
        assert_eq!(
            qe("add(`true`, `1`)"),
            "JMESPath function 'add': invalid operand"
        );
        assert_eq!(
            qe("add(`1`, `null`)"),
            "JMESPath function 'add': invalid operand"
        );
    }

    #[test]
    fn sum() {
        table(&[
            ("sum([`12`])", json!(12)),
            ("sum([`12`, `13`, `1`, `4`])", json!(30)),
            ("sum([`12`, `13`])", json!(25)),
            ("sum(['12Ki'])", json!("12Ki")),
            ("sum(['12Ki', '13Ki', '1Ki', '4Ki'])", json!("30Ki")),
            ("sum(['12Ki', '13Ki'])", json!("25Ki")),
            ("sum(['12Ki', '13'])", json!("12301")),
            ("sum(['12s'])", json!("12s")),
            ("sum(['12s', '13s', '1s', '4s'])", json!("30s")),
            ("sum(['12s', '13s'])", json!("25s")),
            ("sum(['2Ki', '5Gi', '8Mi'])", json!("5251074Ki")),
            ("sum(['2h', '50s', '90s'])", json!("2h2m20s")),
            ("sum([`6`, `3`, `8`])", json!(17)),
            // A single element is returned as it is.
            ("sum(['1.5Gi'])", json!("1.5Gi")),
            ("sum(['foo'])", json!("foo")),
        ]);
        assert_eq!(
            qe("sum(`[]`)"),
            "JMESPath function 'sum': at least one element in the array is required"
        );
        // `[]` flattens the current node, here not an array: a type error.
        assert!(!qe("sum([])").is_empty());
        for expr in [
            "sum(['12', '13s'])",
            "sum([`12`, '13Ki'])",
            "sum([`12`, '13'])",
            "sum(['12Ki', '13s'])",
            "sum(['12Ki', `13`])",
            "sum(['12s', `13`])",
            "sum(['12s', '13Ki'])",
            "sum(['12s', '13'])",
        ] {
            assert_eq!(
                qe(expr),
                "JMESPath function 'sum': Types mismatch",
                "{expr}"
            );
        }
        let pod = json!({"spec": {"containers": [
            {"resources": {"requests": {"memory": "512Mi"}}},
            {"resources": {"requests": {"memory": "1Gi"}}}
        ]}});
        assert_eq!(
            qd("sum(spec.containers[].resources.requests.memory)", &pod),
            json!("1536Mi")
        );
    }

    #[test]
    fn subtract() {
        table(&[
            ("subtract(`12`, `13`)", json!(-1)),
            ("subtract('12Ki', '13Ki')", json!("-1Ki")),
            ("subtract('12Ki', '13')", json!("12275")),
            ("subtract('12s', '13s')", json!("-1s")),
            ("subtract('10Mi', '5Ki')", json!("10235Ki")),
            ("subtract('0', '1Ki')", json!("-1Ki")),
            ("subtract('1', '250m')", json!("750m")),
            ("subtract('1h', '1h')", json!("0s")),
        ]);
        for expr in [
            "subtract('12', '13s')",
            "subtract(`12`, '13Ki')",
            "subtract(`12`, '13')",
            "subtract('12Ki', '13s')",
            "subtract('12Ki', `13`)",
            "subtract('12s', `13`)",
            "subtract('12s', '13Ki')",
            "subtract('12s', '13')",
        ] {
            assert_eq!(
                qe(expr),
                "JMESPath function 'subtract': Types mismatch",
                "{expr}"
            );
        }
    }

    #[test]
    fn multiply() {
        table(&[
            ("multiply('12Ki', `2`)", json!("24Ki")),
            ("multiply('12s', `2`)", json!("24s")),
            ("multiply(`2.5`, `2.5`)", json!(6.25)),
            ("multiply(`2.5`, '12Ki')", json!("30Ki")),
            ("multiply(`2.5`, '12')", json!("30")),
            ("multiply(`2.5`, '40s')", json!("1m40s")),
            ("multiply(`3`, `2`)", json!(6)),
            ("multiply('100m', `3`)", json!("300m")),
            ("multiply('1Gi', `0.5`)", json!("512Mi")),
            ("multiply('1', `1000000`)", json!("1M")),
            ("multiply('1Ki', `0.1`)", json!("102400m")),
            ("multiply('1h', `0.5`)", json!("30m0s")),
            ("multiply('1', `0.000001`)", json!("1u")),
        ]);
        for expr in [
            "multiply('12Ki', '12Ki')",
            "multiply('12Ki', '12')",
            "multiply('12Ki', '12s')",
            "multiply('12s', '12Ki')",
            "multiply('12s', '12')",
            "multiply('12s', '12s')",
        ] {
            assert_eq!(
                qe(expr),
                "JMESPath function 'multiply': Types mismatch",
                "{expr}"
            );
        }
        assert_eq!(
            qe("multiply(`123`, `true`)"),
            "JMESPath function 'multiply': invalid operand"
        );
    }

    #[test]
    fn divide() {
        table(&[
            ("divide('256M', '256M')", json!(1)),
            ("divide('512M', '256M')", json!(2)),
            ("divide('8', '3')", json!(8.0 / 3.0)),
            ("divide('128M', '256M')", json!(0.5)),
            ("divide('12Ki', `3`)", json!("4Ki")),
            ("divide('12Ki', '2Ki')", json!(6)),
            ("divide('12Ki', '200')", json!(61.44)),
            ("divide('12s', `3`)", json!("4s")),
            ("divide('12s', '5s')", json!(2.4)),
            ("divide(`14`, `3`)", json!(4.666666666666667)),
            ("divide('10Mi', '5Ki')", json!(2048)),
            ("divide('1', `3`)", json!("0")),
            ("divide('1.000', `3`)", json!("333m")),
            ("divide('10', `4`)", json!("2")),
            ("divide('10', `2.5`)", json!("4")),
            ("divide('1Gi', `2`)", json!("512Mi")),
            ("divide('1h', `4`)", json!("15m0s")),
        ]);
        for expr in [
            "divide('12Ki', '2s')",
            "divide('12s', '4Ki')",
            "divide('12s', '4')",
            "divide(`14`, '5s')",
            "divide(`14`, '5Ki')",
            "divide(`14`, '5')",
        ] {
            assert_eq!(
                qe(expr),
                "JMESPath function 'divide': Types mismatch",
                "{expr}"
            );
        }
        for expr in [
            "divide(`14`, `0`)",
            "divide('4Ki', `0`)",
            "divide('4Ki', '0Ki')",
            "divide('4', `0`)",
            "divide('4', '0')",
            "divide('4s', `0`)",
            "divide('4s', '0s')",
        ] {
            assert_eq!(
                qe(expr),
                "JMESPath function 'divide': Zero divisor passed",
                "{expr}"
            );
        }
    }

    #[test]
    fn modulo() {
        table(&[
            ("modulo('12Ki', '5Ki')", json!("2Ki")),
            ("modulo('13s', '2s')", json!("1s")),
            ("modulo(`13`, `5`)", json!(3)),
            ("modulo(`10`, `3`)", json!(1)),
            ("modulo(`-7`, `3`)", json!(-1)),
            ("modulo('1Gi', '300Mi')", json!("124Mi")),
            ("modulo('10', '4')", json!("2")),
            ("modulo('90s', '1m0s')", json!("30s")),
        ]);
        for expr in [
            "modulo('12', '13s')",
            "modulo('12Ki', '13s')",
            "modulo('12Ki', `13`)",
            "modulo('13s', '12')",
            "modulo('13s', '12Ki')",
            "modulo('13s', `2`)",
            "modulo(`13`, '12')",
            "modulo(`13`, '12Ki')",
            "modulo(`13`, '5s')",
        ] {
            assert_eq!(
                qe(expr),
                "JMESPath function 'modulo': Types mismatch",
                "{expr}"
            );
        }
        for expr in [
            "modulo(`14`, `0`)",
            "modulo('4Ki', '0Ki')",
            "modulo('4', '0')",
            "modulo('4s', '0s')",
        ] {
            assert_eq!(
                qe(expr),
                "JMESPath function 'modulo': Zero divisor passed",
                "{expr}"
            );
        }
        // Types are checked before zero divisors.
        assert_eq!(
            qe("modulo('4Ki', `0`)"),
            "JMESPath function 'modulo': Types mismatch"
        );
        for expr in [
            "modulo('4', '1.5')",
            "modulo('4.5', '1')",
            "modulo(`14`, `1.5`)",
            "modulo(`14.5`, `2`)",
        ] {
            assert_eq!(
                qe(expr),
                "JMESPath function 'modulo': Non-integer argument(s) passed for modulo",
                "{expr}"
            );
        }
    }

    #[test]
    fn round() {
        table(&[
            ("round(`9.414675`, `2`)", json!(9.41)),
            ("round(`14.123`, `6`)", json!(14.123)),
            ("round(`10.125`, `2`)", json!(10.13)),
            ("round(`2.5`, `0`)", json!(3)),
            ("round(`-2.5`, `0`)", json!(-3)),
        ]);
        fails(&["round(`23`, '12Ki')", "round(`21`, '5s')"]);
        assert_eq!(
            qe("round(`14`, `1.5`)"),
            "JMESPath function 'round': Non-integer argument(s) passed for round off"
        );
        assert!(qe("round(`14`, `-2`)").starts_with("JMESPath function 'round': "));
    }
}
