//! Go's number conversions and formatting (`strconv`, `math.Pow10`,
//! float-to-int conversions) and JSON numbers as Go prints them.

use serde_json::Number;

pub(super) fn json_number(f: f64) -> Option<Number> {
    if f.fract() == 0.0 {
        if (0.0..18_446_744_073_709_551_616.0).contains(&f) {
            return Some(Number::from(f as u64));
        }
        if (-9_223_372_036_854_775_808.0..0.0).contains(&f) {
            return Some(Number::from(f as i64));
        }
    }
    Number::from_f64(f)
}

pub(super) fn normalize_number(n: &Number) -> Number {
    if n.is_f64()
        && let Some(f) = n.as_f64()
        && let Some(normal) = json_number(f)
    {
        return normal;
    }
    n.clone()
}

/// Kyverno's `intNumber`.
pub(super) fn int_number(f: f64) -> Result<i64, String> {
    if !f.is_finite() || f.trunc() != f {
        return Err(format!(
            "expected an integer number but got: {}",
            go_format_g(f)
        ));
    }
    if !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
        return Err(format!(
            "number is outside the range of integer numbers: {}",
            go_format_g(f)
        ));
    }
    Ok(f as i64)
}

/// Go's `int64(f)` on amd64: out-of-range and NaN give the minimum.
pub(super) fn go_f64_to_i64(f: f64) -> i64 {
    if f.is_nan() || !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

/// Go's `strconv.ParseInt(s, 10, 64)`.
pub(super) fn go_parse_int(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.ParseInt: parsing {s:?}: invalid syntax"));
    }
    s.parse::<i64>()
        .map_err(|_| format!("strconv.ParseInt: parsing {s:?}: value out of range"))
}

/// Shortest round-trip digits of a finite, non-zero `|f|`, and the decimal
/// point position: `f = 0.d1d2… × 10^dp`.
fn shortest_digits(f: f64) -> (String, i64) {
    let s = format!("{:e}", f.abs());
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (digits, exp + 1)
}

/// Go's `%v` / `strconv.FormatFloat(f, 'g', -1, 64)`.
pub(super) fn go_format_g(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    let sign = if f.is_sign_negative() { "-" } else { "" };
    if f == 0.0 {
        return format!("{sign}0");
    }
    let (digits, dp) = shortest_digits(f);
    let nd = digits.len() as i64;
    let exp = dp - 1;
    if !(-4..6).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{esign}{:02}", exp.abs());
    }
    if dp <= 0 {
        format!("{sign}0.{}{digits}", "0".repeat((-dp) as usize))
    } else if dp >= nd {
        format!("{sign}{digits}{}", "0".repeat((dp - nd) as usize))
    } else {
        let (int, frac) = digits.split_at(dp as usize);
        format!("{sign}{int}.{frac}")
    }
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 32)`.
pub(super) fn go_format_f32(f: f64) -> String {
    let x = f as f32;
    if x.is_nan() {
        "NaN".to_string()
    } else if x.is_infinite() {
        if x > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        format!("{x}")
    }
}

/// Go's `math.Pow10`.
pub(super) fn go_pow10(n: i64) -> f64 {
    fn lit(k: i64) -> f64 {
        format!("1e{k}").parse().unwrap_or(f64::NAN)
    }
    if (0..=308).contains(&n) {
        lit(n / 32 * 32) * lit(n % 32)
    } else if (-323..0).contains(&n) {
        let m = -n;
        lit(-(m / 32 * 32)) / lit(m % 32)
    } else if n > 0 {
        f64::INFINITY
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_float_formatting() {
        for (f, want) in [
            (1.0, "1"),
            (0.5, "0.5"),
            (1e6, "1e+06"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5, "-2.5"),
            (1e21, "1e+21"),
            (1e100, "1e+100"),
        ] {
            assert_eq!(go_format_g(f), want, "{f}");
        }
        for (f, want) in [
            (1.0, "1"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (1.234_567_891_234, "1.2345679"),
            (16777217.0, "16777216"),
            (1e20, "100000000000000000000"),
        ] {
            assert_eq!(go_format_f32(f), want, "{f}");
        }
        assert_eq!(go_pow10(-9), 1e-9);
        assert_eq!(go_pow10(18), 1e18);
        assert_eq!(go_pow10(400), f64::INFINITY);
    }
}
