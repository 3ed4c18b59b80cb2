//! Timestamps and durations as cel-go reads and writes them: RFC 3339
//! timestamps (UTC or a fixed offset), Go's `time.ParseDuration` syntax,
//! `string()` forms, and the calendar getters in UTC or a fixed-offset
//! time zone. The module carries no time-zone database: an IANA zone name
//! is an error naming itself.

use super::value::Timestamp;

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    crate::conditions::functions::time::days_from_civil(y, i64::from(m), i64::from(d))
}

/// The date of days since 1970-01-01: (year, month 1..=12, day 1..=31).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let (y, m, d) = crate::conditions::functions::time::civil_from_days(z);
    (y, m as u32, d as u32)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Parses an RFC 3339 timestamp (`2023-01-02T15:04:05.123Z`,
/// `…+01:00`), as cel-go's `timestamp(string)`.
pub fn parse_timestamp(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let t = s.get(from..from + len)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 2)? as u32, num(8, 2)? as u32);
    let (h, mi, se) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 59
    {
        return None;
    }
    let mut i = 19;
    let mut nanos = 0u32;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &s[start..i];
        if digits.is_empty() || digits.len() > 9 {
            return None;
        }
        nanos = digits.parse::<u32>().ok()? * 10u32.pow(9 - digits.len() as u32);
    }
    let offset = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let (oh, om) = (num(i + 1, 2)?, num(i + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if *sign == b'-' { -o } else { o }
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se - offset;
    Timestamp::new(secs, nanos)
}

/// RFC 3339 in UTC with the fraction's trailing zeros dropped (Go's
/// `time.RFC3339Nano`).
pub fn format_timestamp(t: &Timestamp) -> String {
    let days = t.seconds.div_euclid(86_400);
    let rem = t.seconds.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    if t.nanos > 0 {
        let frac = format!("{:09}", t.nanos);
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

/// Parses Go's duration syntax (`1h30m`, `-1.5s`, `300ms`, `0`): units
/// ns, us, µs, ms, s, m, h; the total must fit in `int64` nanoseconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    crate::conditions::operator::go::parse_duration(s)
}

/// A duration as `string()` writes it: seconds with the shortest decimal
/// fraction, then `s` (`1.5s`, `3600s`).
pub fn format_duration(nanos: i64) -> String {
    let secs = (nanos / 1_000_000_000) as f64 + (nanos % 1_000_000_000) as f64 / 1e9;
    format!("{secs}s")
}

/// A time zone argument: `UTC`, `Z`, or a fixed offset `+05:30` / `-08:00`
/// (seconds east of UTC).
pub fn zone_offset(tz: &str) -> Result<i64, String> {
    if tz.is_empty() || tz == "UTC" || tz == "Z" || tz == "Etc/UTC" {
        return Ok(0);
    }
    let b = tz.as_bytes();
    if matches!(b[0], b'+' | b'-') && b.len() == 6 && b[3] == b':' {
        let part = |r: std::ops::Range<usize>| -> Result<i64, String> {
            tz.get(r)
                .and_then(|p| p.parse().ok())
                .ok_or_else(|| format!("invalid time zone: {tz}"))
        };
        let (h, m) = (part(1..3)?, part(4..6)?);
        let o = h * 3600 + m * 60;
        return Ok(if b[0] == b'-' { -o } else { o });
    }
    Err(format!(
        "time zone {tz:?} needs a time zone database, which this engine does not carry: use UTC or a fixed offset such as +05:30"
    ))
}

/// A calendar field of `t` in the zone `offset` seconds east of UTC.
#[derive(Debug, Clone, Copy)]
pub enum Field {
    /// `getFullYear`.
    FullYear,
    /// `getMonth` (0..11).
    Month,
    /// `getDayOfYear` (0-based).
    DayOfYear,
    /// `getDate` (1-based).
    Date,
    /// `getDayOfMonth` (0-based).
    DayOfMonth,
    /// `getDayOfWeek` (0 = Sunday).
    DayOfWeek,
    /// `getHours`.
    Hours,
    /// `getMinutes`.
    Minutes,
    /// `getSeconds`.
    Seconds,
    /// `getMilliseconds`.
    Milliseconds,
}

/// The field's value.
pub fn timestamp_field(t: &Timestamp, offset: i64, field: Field) -> i64 {
    let local = t.seconds + offset;
    let days = local.div_euclid(86_400);
    let rem = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    match field {
        Field::FullYear => y,
        Field::Month => m as i64 - 1,
        Field::DayOfYear => days - days_from_civil(y, 1, 1),
        Field::Date => d as i64,
        Field::DayOfMonth => d as i64 - 1,
        Field::DayOfWeek => (days + 4).rem_euclid(7),
        Field::Hours => rem / 3600,
        Field::Minutes => rem % 3600 / 60,
        Field::Seconds => rem % 60,
        Field::Milliseconds => (t.nanos / 1_000_000) as i64,
    }
}
