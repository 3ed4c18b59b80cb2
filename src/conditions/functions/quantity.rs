//! Kubernetes quantities (`k8s.io/apimachinery/pkg/api/resource`): parsing,
//! printing, addition and subtraction, exact to nano precision in 128 bits.

use super::numbers::{go_parse_int, go_pow10};

/// How a quantity prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum QFormat {
    DecimalExponent,
    BinarySI,
    DecimalSI,
}

/// A quantity: `m × 10^e`, as Kubernetes holds it. `dec` tells the `inf.Dec`
/// form from the `int64Amount` one (arithmetic differs between the two);
/// `e` is kept unnormalised, as both forms keep their scale (which division
/// and the float approximation depend on).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Quantity {
    pub(crate) m: i128,
    pub(crate) e: i64,
    pub(crate) dec: bool,
    pub(crate) format: QFormat,
}

const QUANTITY_REGEX_ERROR: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

pub(super) const QUANTITY_RANGE_ERROR: &str = "quantity out of the supported range (38 digits)";

pub(super) fn pow10_i128(n: i64) -> Option<i128> {
    u32::try_from(n).ok().and_then(|n| 10i128.checked_pow(n))
}

/// `parseQuantityString`: (positive, value, num, denom, suffix).
fn split_quantity(s: &str) -> Result<(bool, &str, &str, &str, &str), String> {
    let b = s.as_bytes();
    let end = b.len();
    let mut positive = true;
    let mut pos = 0;
    if let Some(&c) = b.first() {
        if c == b'-' {
            positive = false;
            pos += 1;
        } else if c == b'+' {
            pos += 1;
        }
    }
    while pos < end && b[pos] == b'0' {
        pos += 1;
    }
    if pos >= end {
        return Ok((positive, "0", "0", "", ""));
    }
    let num_start = pos;
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos >= end {
        return Ok((positive, s, &s[num_start..], "", ""));
    }
    let mut num = &s[num_start..pos];
    if num.is_empty() {
        num = "0";
    }
    let mut denom = "";
    if b[pos] == b'.' {
        pos += 1;
        let d_start = pos;
        while pos < end && b[pos].is_ascii_digit() {
            pos += 1;
        }
        denom = &s[d_start..pos];
        if pos >= end {
            return Ok((positive, s, num, denom, ""));
        }
    }
    let value = &s[..pos];
    let suffix_start = pos;
    while pos < end && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos >= end {
        return Ok((positive, value, num, denom, &s[suffix_start..]));
    }
    if b[pos] == b'-' || b[pos] == b'+' {
        pos += 1;
    }
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos >= end {
        return Ok((positive, value, num, denom, &s[suffix_start..]));
    }
    Err(QUANTITY_REGEX_ERROR.to_string())
}

/// The quantity suffixer's `interpret`: (base, exponent, format).
fn interpret_suffix(suffix: &str) -> Option<(u32, i64, QFormat)> {
    let dec = |e| Some((10, e, QFormat::DecimalSI));
    let bin = |e| Some((2, e, QFormat::BinarySI));
    match suffix {
        "" => dec(0),
        "n" => dec(-9),
        "u" => dec(-6),
        "m" => dec(-3),
        "k" => dec(3),
        "M" => dec(6),
        "G" => dec(9),
        "T" => dec(12),
        "P" => dec(15),
        "E" => dec(18),
        "Ki" => bin(10),
        "Mi" => bin(20),
        "Gi" => bin(30),
        "Ti" => bin(40),
        "Pi" => bin(50),
        "Ei" => bin(60),
        _ if suffix.len() > 1 && (suffix.starts_with('e') || suffix.starts_with('E')) => {
            // strconv.ParseInt, then int32(parsed) (which wraps).
            let parsed = go_parse_int(&suffix[1..]).ok()?;
            Some((10, i64::from(parsed as i32), QFormat::DecimalExponent))
        }
        _ => None,
    }
}

impl Quantity {
    pub(crate) fn int64(m: i64, e: i64, format: QFormat) -> Self {
        Quantity {
            m: i128::from(m),
            e,
            dec: false,
            format,
        }
    }

    /// `resource.ParseQuantity`.
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Err(QUANTITY_REGEX_ERROR.to_string());
        }
        if s == "0" {
            return Ok(Quantity::int64(0, 0, QFormat::DecimalSI));
        }
        let (positive, value, num, denom, suffix) = split_quantity(s)?;
        let (base, exponent, mut format) = interpret_suffix(suffix)
            .ok_or_else(|| "unable to parse quantity's suffix".to_string())?;

        // The int64 fast path.
        let (mut scale, precision, mantissa): (i64, i64, i64) = match format {
            QFormat::DecimalExponent | QFormat::DecimalSI => {
                (exponent, 18 - (num.len() + denom.len()) as i64, 1)
            }
            QFormat::BinarySI if exponent >= 0 && denom.is_empty() => {
                let precision = 15 - num.len() as i64 - ((exponent as f32) * 3.0 / 10.0) as i64 - 1;
                (0, precision, 1i64 << exponent.clamp(0, 62))
            }
            QFormat::BinarySI => (0, -1, 1),
        };
        if precision >= 0 {
            scale -= denom.len() as i64;
            if scale >= -9 {
                let shifted = format!("{num}{denom}");
                let v: i64 = shifted
                    .parse()
                    .map_err(|_| "unable to parse numeric part of quantity".to_string())?;
                if let Some(result) = v.checked_mul(mantissa) {
                    let result = if positive { result } else { -result };
                    return Ok(Quantity::int64(result, scale, format));
                }
            }
        }

        // The inf.Dec slow path.
        let (int_part, frac_part) = {
            let v = value.strip_prefix(['+', '-']).unwrap_or(value);
            v.split_once('.').unwrap_or((v, ""))
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err("unable to parse numeric part of quantity".to_string());
        }
        let all = format!("{int_part}{frac_part}");
        let mut digits = all.trim_start_matches('0');
        let mut e = -(frac_part.len() as i64);
        if base == 10 {
            e += exponent;
        }
        // Digits past nano only round up (away from zero).
        let mut sticky = false;
        if base == 10 && e < -9 {
            let drop = usize::try_from(-9 - e).unwrap_or(usize::MAX);
            let keep = digits.len().saturating_sub(drop);
            sticky = digits[keep..].bytes().any(|b| b != b'0');
            digits = &digits[..keep];
            e = -9;
        }
        if digits.len() > 38 {
            return Err(QUANTITY_RANGE_ERROR.to_string());
        }
        let mut m: i128 = if digits.is_empty() {
            0
        } else {
            digits
                .parse()
                .map_err(|_| "unable to parse numeric part of quantity".to_string())?
        };
        m += i128::from(sticky);
        let max_allowed = i128::from(i64::MAX);
        if base == 2 {
            let factor = u32::try_from(exponent)
                .ok()
                .and_then(|x| 2i128.checked_pow(x))
                .ok_or_else(|| QUANTITY_RANGE_ERROR.to_string())?;
            m = m.checked_mul(factor).unwrap_or(i128::MAX);
            // BinarySI is capped at 2^63-1 (checked here, before the nano
            // scaling, so that the cap is what bounds it).
            let exceeds = match pow10_i128(-e) {
                Some(p) => m > max_allowed.saturating_mul(p),
                None => false,
            };
            if exceeds {
                return Ok(Quantity {
                    m: if positive { max_allowed } else { -max_allowed },
                    e: 0,
                    dec: true,
                    format,
                });
            }
        }
        if m != 0 {
            // Round up (away from zero) to nano, at scale 9.
            if e < -9 {
                m = match pow10_i128(-9 - e) {
                    Some(d) => m / d + i128::from(m % d != 0),
                    None => 1,
                };
            } else {
                let mul = pow10_i128(e + 9).ok_or_else(|| QUANTITY_RANGE_ERROR.to_string())?;
                m = m
                    .checked_mul(mul)
                    .ok_or_else(|| QUANTITY_RANGE_ERROR.to_string())?;
            }
            e = -9;
        }
        if format == QFormat::BinarySI && m > 0 && m < 1_000_000_000 && e == -9 {
            format = QFormat::DecimalSI;
        }
        Ok(Quantity {
            m: if positive { m } else { -m },
            e,
            dec: true,
            format,
        })
    }

    /// `|self| < n`.
    fn abs_lt(&self, n: i128) -> bool {
        let a = self.m.unsigned_abs();
        if self.e >= 0 {
            match pow10_i128(self.e).and_then(|p| (a as i128).checked_mul(p)) {
                Some(v) => v < n,
                None => false,
            }
        } else {
            match pow10_i128(-self.e).and_then(|p| n.checked_mul(p)) {
                Some(bound) => a < bound as u128,
                None => true,
            }
        }
    }

    /// The value as an integer when it is one (`AsScale(0)` exact).
    fn as_integer(&self) -> Result<Option<i128>, String> {
        if self.e >= 0 {
            return pow10_i128(self.e)
                .and_then(|p| self.m.checked_mul(p))
                .map(Some)
                .ok_or_else(|| QUANTITY_RANGE_ERROR.to_string());
        }
        Ok(pow10_i128(-self.e).and_then(|p| (self.m % p == 0).then(|| self.m / p)))
    }

    /// `AsApproximateFloat64`.
    pub(crate) fn approx_f64(&self) -> f64 {
        let base = self.m as f64;
        if self.e == 0 {
            base
        } else {
            base * go_pow10(self.e)
        }
    }

    /// `Quantity.String()`.
    pub(crate) fn to_string_checked(&self) -> Result<String, String> {
        if self.m == 0 {
            return Ok("0".to_string());
        }
        let mut format = self.format;
        let mut rounded = None;
        if format == QFormat::BinarySI {
            if self.abs_lt(1024) {
                format = QFormat::DecimalSI;
            } else {
                match self.as_integer()? {
                    Some(i) => rounded = Some(i),
                    None => format = QFormat::DecimalSI,
                }
            }
        }
        if let (QFormat::BinarySI, Some(int)) = (format, rounded) {
            let neg = int < 0;
            let mut a = int.unsigned_abs();
            let mut exp = 0;
            while a >= 1024 && a % 1024 == 0 {
                a /= 1024;
                exp += 1;
            }
            let suffix = match exp {
                1 => "Ki",
                2 => "Mi",
                3 => "Gi",
                4 => "Ti",
                5 => "Pi",
                6 => "Ei",
                _ => "",
            };
            return Ok(format!("{}{a}{suffix}", if neg { "-" } else { "" }));
        }
        let (digits, zeros, exp) = self.canonical_base10();
        let suffix = match (format, exp) {
            (QFormat::DecimalSI, -9) => "n".to_string(),
            (QFormat::DecimalSI, -6) => "u".to_string(),
            (QFormat::DecimalSI, -3) => "m".to_string(),
            (QFormat::DecimalSI, 0) => String::new(),
            (QFormat::DecimalSI, 3) => "k".to_string(),
            (QFormat::DecimalSI, 6) => "M".to_string(),
            (QFormat::DecimalSI, 9) => "G".to_string(),
            (QFormat::DecimalSI, 12) => "T".to_string(),
            (QFormat::DecimalSI, 15) => "P".to_string(),
            (QFormat::DecimalSI, 18) => "E".to_string(),
            // Kubernetes has no DecimalSI suffix here and prints none (the
            // value reads wrong, but that is what Kyverno outputs).
            (QFormat::DecimalSI, _) | (_, 0) => String::new(),
            (_, e) => format!("e{e}"),
        };
        Ok(format!("{digits}{}{suffix}", "0".repeat(zeros as usize)))
    }

    /// `AsCanonicalBytes`: the signed digits, the zeros to append and the
    /// exponent (factors of ten moved into it, then lowered to a multiple of
    /// three).
    fn canonical_base10(&self) -> (String, i64, i64) {
        let sign = if self.m < 0 { "-" } else { "" };
        let mut a = self.m.unsigned_abs();
        let mut exp = self.e;
        while a >= 10 && a.is_multiple_of(10) {
            a /= 10;
            exp += 1;
        }
        let zeros = exp.rem_euclid(3);
        (format!("{sign}{a}"), zeros, exp - zeros)
    }

    pub(super) fn range<T>(v: Option<T>) -> Result<T, String> {
        v.ok_or_else(|| QUANTITY_RANGE_ERROR.to_string())
    }

    /// `Quantity.Add`.
    pub(crate) fn add(&self, y: &Quantity) -> Result<Quantity, String> {
        let mut q = self.clone();
        if !q.dec && !y.dec {
            if q.m == 0 {
                q.format = y.format;
            }
            if let Some(sum) = int64_add(q.m as i64, q.e, y.m as i64, y.e) {
                q.m = i128::from(sum.0);
                q.e = sum.1;
                return Ok(q);
            }
        } else if q.m == 0 {
            q.format = y.format;
        }
        let (m, e) = Quantity::range(dec_add(q.m, q.e, y.m, y.e))?;
        Ok(Quantity {
            m,
            e,
            dec: true,
            format: q.format,
        })
    }

    /// `Quantity.Sub`.
    pub(crate) fn sub(&self, y: &Quantity) -> Result<Quantity, String> {
        let mut q = self.clone();
        if q.m == 0 {
            q.format = y.format;
        }
        if !q.dec
            && !y.dec
            && let Some(neg) = (y.m as i64).checked_neg()
            && let Some(sum) = int64_add(q.m as i64, q.e, neg, y.e)
        {
            q.m = i128::from(sum.0);
            q.e = sum.1;
            return Ok(q);
        }
        let (m, e) = Quantity::range(dec_add(q.m, q.e, -y.m, y.e))?;
        Ok(Quantity {
            m,
            e,
            dec: true,
            format: q.format,
        })
    }
}

/// `int64Amount.Add`: `None` on overflow.
fn int64_add(a: i64, ae: i64, b: i64, be: i64) -> Option<(i64, i64)> {
    if b == 0 {
        return Some((a, ae));
    }
    if a == 0 {
        return Some((b, be));
    }
    let scale = |v: i64, by: i64| -> Option<i64> {
        u32::try_from(by)
            .ok()
            .and_then(|by| 10i64.checked_pow(by))
            .and_then(|p| v.checked_mul(p))
    };
    match ae.cmp(&be) {
        std::cmp::Ordering::Equal => a.checked_add(b).map(|c| (c, ae)),
        std::cmp::Ordering::Greater => scale(a, ae - be)?.checked_add(b).map(|c| (c, be)),
        std::cmp::Ordering::Less => a.checked_add(scale(b, be - ae)?).map(|c| (c, ae)),
    }
}

/// `inf.Dec` addition: the result keeps the larger scale (smaller exponent).
fn dec_add(a: i128, ae: i64, b: i128, be: i64) -> Option<(i128, i64)> {
    let e = ae.min(be);
    let a = a.checked_mul(pow10_i128(ae - e)?)?;
    let b = b.checked_mul(pow10_i128(be - e)?)?;
    Some((a.checked_add(b)?, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse_and_print_like_kubernetes() {
        for (input, want) in [
            ("0", "0"),
            ("1", "1"),
            ("1.5", "1500m"),
            ("1.5Gi", "1536Mi"),
            ("0.5Ki", "512"),
            ("1Ki", "1Ki"),
            ("1024", "1024"),
            ("1000", "1k"),
            ("100m", "100m"),
            ("0.1", "100m"),
            ("1.2345", "1234500u"),
            ("0.9n", "1n"),
            ("0.0000000001", "1n"),
            ("-0.0000000001", "-1n"),
            ("5e3", "5e3"),
            ("1e3", "1e3"),
            ("12e-3", "12e-3"),
            ("1E", "1E"),
            // No DecimalSI suffix for 10^21: Kubernetes prints none.
            ("1000E", "1"),
            ("1000Ei", "9223372036854775807"),
            ("8Ei", "9223372036854775807"),
            ("+5", "5"),
            ("-5Mi", "-5Mi"),
            ("1.", "1"),
            ("007", "7"),
            ("123456789012345678901", "123456789012345678901"),
            ("18446744073709551616", "18446744073709551616"),
        ] {
            let q = Quantity::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            let zero = Quantity::parse("0").unwrap_or_else(|e| panic!("{e}"));
            let printed = q
                .add(&zero)
                .and_then(|q| q.to_string_checked())
                .unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(printed, want, "{input}");
        }
        for bad in [
            "", "abc", "1.5.5", "1Qi", "1e", "--1", "1 Ki", "NaN", "+Inf",
        ] {
            assert!(Quantity::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Quantity::parse("1x").err(),
            Some(QUANTITY_REGEX_ERROR.to_string())
        );
        assert_eq!(
            Quantity::parse("1ii").err(),
            Some("unable to parse quantity's suffix".to_string())
        );
    }
}
