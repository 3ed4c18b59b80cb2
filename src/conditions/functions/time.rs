//! Go time (`time.Parse`, `Format(RFC3339)`, `Sub`, `Add`, `Truncate`) with
//! UTC as the local zone, and the `time_*` functions.

use jmespath::Rcvar;

use super::duration::{NANOS_PER_SECOND, duration_string, go_quote, parse_duration};
use super::numbers::go_parse_int;
use super::{arg_str, boolean, clock, lossy, string};

const RFC3339: &str = "2006-01-02T15:04:05Z07:00";

/// Seconds from 0001-01-01 (Go's zero time) to the Unix epoch.
const ZERO_TO_UNIX: i64 = 62_135_596_800;

/// An instant with the UTC offset it is shown in (the local zone is UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct GoTime {
    pub(super) unix: i64,
    nsec: u32,
    pub(super) offset: i32,
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in(month: i64, year: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (days since 1970-01-01).
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Fields of a time in its own offset.
pub(super) struct Civil {
    pub(super) year: i64,
    pub(super) month: i64,
    pub(super) day: i64,
    pub(super) hour: i64,
    pub(super) minute: i64,
    pub(super) second: i64,
    weekday: i64,
}

impl GoTime {
    fn from_unix(unix: i64) -> Self {
        GoTime {
            unix,
            nsec: 0,
            offset: 0,
        }
    }

    pub(super) fn civil(&self) -> Civil {
        let local = self.unix.saturating_add(i64::from(self.offset));
        let days = local.div_euclid(86_400);
        let sod = local.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: sod / 3600,
            minute: sod % 3600 / 60,
            second: sod % 60,
            weekday: (days + 4).rem_euclid(7),
        }
    }

    fn utc(self) -> Self {
        GoTime { offset: 0, ..self }
    }

    /// `t.Format(time.RFC3339)`.
    pub(super) fn rfc3339(&self) -> String {
        let c = self.civil();
        let year = if c.year < 0 {
            format!("-{:04}", -c.year)
        } else {
            format!("{:04}", c.year)
        };
        let zone = if self.offset == 0 {
            "Z".to_string()
        } else {
            let mut minutes = self.offset / 60;
            let sign = if minutes < 0 {
                minutes = -minutes;
                '-'
            } else {
                '+'
            };
            format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
        };
        format!(
            "{year}-{:02}-{:02}T{:02}:{:02}:{:02}{zone}",
            c.month, c.day, c.hour, c.minute, c.second
        )
    }

    fn total_nanos(&self) -> i128 {
        i128::from(self.unix) * i128::from(NANOS_PER_SECOND) + i128::from(self.nsec)
    }

    fn with_total_nanos(self, total: i128) -> Result<Self, String> {
        let unix = i64::try_from(total.div_euclid(i128::from(NANOS_PER_SECOND)))
            .map_err(|_| "time out of range".to_string())?;
        Ok(GoTime {
            unix,
            nsec: total.rem_euclid(i128::from(NANOS_PER_SECOND)) as u32,
            offset: self.offset,
        })
    }

    /// `t.Sub(u)`, saturating as Go does.
    fn sub(&self, u: &GoTime) -> i64 {
        let d = self.total_nanos() - u.total_nanos();
        d.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    fn add(self, d: i64) -> Result<Self, String> {
        self.with_total_nanos(self.total_nanos() + i128::from(d))
    }

    /// `t.Truncate(d)`: rounds down to a multiple of `d` since Go's zero time.
    fn truncate(self, d: i64) -> Result<Self, String> {
        if d <= 0 {
            return Ok(self);
        }
        let since_zero =
            self.total_nanos() + i128::from(ZERO_TO_UNIX) * i128::from(NANOS_PER_SECOND);
        let r = since_zero.rem_euclid(i128::from(d));
        self.with_total_nanos(self.total_nanos() - r)
    }
}

/// A layout element (`nextStdChunk`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    TZ,
    Iso8601TZ,
    Iso8601SecondsTZ,
    Iso8601ShortTZ,
    Iso8601ColonTZ,
    Iso8601ColonSecondsTZ,
    NumTZ,
    NumSecondsTz,
    NumShortTZ,
    NumColonTZ,
    NumColonSecondsTZ,
    FracSecond0(usize),
    FracSecond9(usize),
}

const LONG_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

const SHORT_MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

const SHORT_DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// `nextStdChunk`: (prefix length, element, suffix start).
fn next_std_chunk(layout: &[u8]) -> (usize, Option<Std>, usize) {
    let has = |i: usize, s: &str| layout[i..].starts_with(s.as_bytes());
    let lower_at = |i: usize| layout.get(i).is_some_and(u8::is_ascii_lowercase);
    for i in 0..layout.len() {
        let c = layout[i];
        let found = match c {
            b'J' if has(i, "Jan") => {
                if has(i, "January") {
                    Some((Std::LongMonth, 7))
                } else if !lower_at(i + 3) {
                    Some((Std::Month, 3))
                } else {
                    None
                }
            }
            b'M' if has(i, "Mon") => {
                if has(i, "Monday") {
                    Some((Std::LongWeekDay, 6))
                } else if !lower_at(i + 3) {
                    Some((Std::WeekDay, 3))
                } else {
                    None
                }
            }
            b'M' if has(i, "MST") => Some((Std::TZ, 3)),
            b'0' => match layout.get(i + 1) {
                Some(b'1') => Some((Std::ZeroMonth, 2)),
                Some(b'2') => Some((Std::ZeroDay, 2)),
                Some(b'3') => Some((Std::ZeroHour12, 2)),
                Some(b'4') => Some((Std::ZeroMinute, 2)),
                Some(b'5') => Some((Std::ZeroSecond, 2)),
                Some(b'6') => Some((Std::Year, 2)),
                Some(b'0') if layout.get(i + 2) == Some(&b'2') => Some((Std::ZeroYearDay, 3)),
                _ => None,
            },
            b'1' => {
                if layout.get(i + 1) == Some(&b'5') {
                    Some((Std::Hour, 2))
                } else {
                    Some((Std::NumMonth, 1))
                }
            }
            b'2' => {
                if has(i, "2006") {
                    Some((Std::LongYear, 4))
                } else {
                    Some((Std::Day, 1))
                }
            }
            b'_' => {
                if layout.get(i + 1) == Some(&b'2') {
                    if has(i + 1, "2006") {
                        // A literal `_` followed by the long year.
                        return (i + 1, Some(Std::LongYear), i + 5);
                    }
                    Some((Std::UnderDay, 2))
                } else if has(i, "__2") {
                    Some((Std::UnderYearDay, 3))
                } else {
                    None
                }
            }
            b'3' => Some((Std::Hour12, 1)),
            b'4' => Some((Std::Minute, 1)),
            b'5' => Some((Std::Second, 1)),
            b'P' if layout.get(i + 1) == Some(&b'M') => Some((Std::PM, 2)),
            b'p' if layout.get(i + 1) == Some(&b'm') => Some((Std::Pm, 2)),
            b'-' => {
                if has(i, "-070000") {
                    Some((Std::NumSecondsTz, 7))
                } else if has(i, "-07:00:00") {
                    Some((Std::NumColonSecondsTZ, 9))
                } else if has(i, "-0700") {
                    Some((Std::NumTZ, 5))
                } else if has(i, "-07:00") {
                    Some((Std::NumColonTZ, 6))
                } else if has(i, "-07") {
                    Some((Std::NumShortTZ, 3))
                } else {
                    None
                }
            }
            b'Z' => {
                if has(i, "Z070000") {
                    Some((Std::Iso8601SecondsTZ, 7))
                } else if has(i, "Z07:00:00") {
                    Some((Std::Iso8601ColonSecondsTZ, 9))
                } else if has(i, "Z0700") {
                    Some((Std::Iso8601TZ, 5))
                } else if has(i, "Z07:00") {
                    Some((Std::Iso8601ColonTZ, 6))
                } else if has(i, "Z07") {
                    Some((Std::Iso8601ShortTZ, 3))
                } else {
                    None
                }
            }
            b'.' | b',' => match layout.get(i + 1) {
                Some(&ch @ (b'0' | b'9')) => {
                    let mut j = i + 1;
                    while j < layout.len() && layout[j] == ch {
                        j += 1;
                    }
                    if layout.get(j).is_some_and(u8::is_ascii_digit) {
                        None
                    } else {
                        let n = j - (i + 1);
                        let std = if ch == b'0' {
                            Std::FracSecond0(n)
                        } else {
                            Std::FracSecond9(n)
                        };
                        Some((std, j - i))
                    }
                }
                _ => None,
            },
            _ => None,
        };
        if let Some((std, len)) = found {
            return (i, Some(std), i + len);
        }
    }
    (layout.len(), None, layout.len())
}

fn is_digit_at(s: &[u8], i: usize) -> bool {
    s.get(i).is_some_and(u8::is_ascii_digit)
}

/// `getnum`.
fn getnum(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
    if !is_digit_at(s, 0) {
        return None;
    }
    if !is_digit_at(s, 1) {
        if fixed {
            return None;
        }
        return Some((i64::from(s[0] - b'0'), &s[1..]));
    }
    Some((
        i64::from(s[0] - b'0') * 10 + i64::from(s[1] - b'0'),
        &s[2..],
    ))
}

/// `getnum3`.
fn getnum3(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
    let mut n = 0;
    let mut i = 0;
    while i < 3 && is_digit_at(s, i) {
        n = n * 10 + i64::from(s[i] - b'0');
        i += 1;
    }
    if i == 0 || (fixed && i != 3) {
        return None;
    }
    Some((n, &s[i..]))
}

/// Go's time `atoi` (optional sign, digits only).
fn time_atoi(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) || digits.len() > 18 {
        return None;
    }
    let v = std::str::from_utf8(digits).ok()?.parse::<i64>().ok()?;
    Some(if neg { -v } else { v })
}

/// `lookup`: a case-insensitive (ASCII) prefix match against a table.
fn lookup_name<'a>(table: &[&str], value: &'a [u8]) -> Option<(usize, &'a [u8])> {
    table.iter().enumerate().find_map(|(i, name)| {
        let n = name.len();
        (value.len() >= n && value[..n].eq_ignore_ascii_case(name.as_bytes()))
            .then(|| (i, &value[n..]))
    })
}

/// `skip`: consumes a literal layout prefix.
fn skip<'a>(mut value: &'a [u8], mut prefix: &[u8]) -> Option<&'a [u8]> {
    while let Some(&p) = prefix.first() {
        if p == b' ' {
            if value.first().is_some_and(|&c| c != b' ') {
                return None;
            }
            while prefix.first() == Some(&b' ') {
                prefix = &prefix[1..];
            }
            while value.first() == Some(&b' ') {
                value = &value[1..];
            }
            continue;
        }
        if value.first() != Some(&p) {
            return None;
        }
        prefix = &prefix[1..];
        value = &value[1..];
    }
    Some(value)
}

/// `parseNanoseconds`: `value` starts with the separator.
fn parse_nanoseconds(value: &[u8], nbytes: usize) -> Result<i64, &'static str> {
    if !matches!(value.first(), Some(b'.' | b',')) {
        return Err("");
    }
    let nbytes = nbytes.min(10).min(value.len());
    let mut ns = time_atoi(&value[1..nbytes]).ok_or("")?;
    if ns < 0 {
        return Err("fractional second");
    }
    for _ in 0..(10 - nbytes) {
        ns *= 10;
    }
    Ok(ns)
}

/// `parseTimeZone`: the length of a zone abbreviation.
fn parse_time_zone(value: &[u8]) -> Option<usize> {
    if value.len() < 3 {
        return None;
    }
    if value.len() >= 4 && (value.starts_with(b"ChST") || value.starts_with(b"MeST")) {
        return Some(4);
    }
    if value.starts_with(b"GMT") {
        return Some(3 + parse_signed_offset(&value[3..]));
    }
    if value[0] == b'+' || value[0] == b'-' {
        let n = parse_signed_offset(value);
        return (n > 0).then_some(n);
    }
    let upper = value
        .iter()
        .take(6)
        .take_while(|c| c.is_ascii_uppercase())
        .count();
    match upper {
        5 if value[4] == b'T' => Some(5),
        4 if value[3] == b'T' || value.starts_with(b"WITA") => Some(4),
        3 => Some(3),
        _ => None,
    }
}

/// `parseSignedOffset`: the length of `+h`/`-hh` (hours up to 23), or 0.
fn parse_signed_offset(value: &[u8]) -> usize {
    let Some(&sign) = value.first() else { return 0 };
    if sign != b'-' && sign != b'+' {
        return 0;
    }
    let digits = value[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || digits > 18 {
        return 0;
    }
    let x: i64 = std::str::from_utf8(&value[1..1 + digits])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(i64::MAX);
    if x > 23 {
        return 0;
    }
    1 + digits
}

/// Go's `time.Parse(layout, value)`, with UTC as the local zone.
pub(super) fn go_parse(layout_str: &str, value_str: &str) -> Result<GoTime, String> {
    let bad = |elem: &[u8], value: &[u8]| {
        format!(
            "parsing time {} as {}: cannot parse {} as {}",
            go_quote(value_str),
            go_quote(layout_str),
            go_quote(&lossy(value)),
            go_quote(&lossy(elem))
        )
    };
    let with_message = |message: &str| format!("parsing time {}{message}", go_quote(value_str));

    let mut layout = layout_str.as_bytes();
    let mut value = value_str.as_bytes();
    let (mut am, mut pm) = (false, false);
    let (mut year, mut month, mut day, mut yday) = (0i64, -1i64, -1i64, -1i64);
    let (mut hour, mut min, mut sec, mut nsec) = (0i64, 0i64, 0i64, 0i64);
    let mut utc = false;
    let mut zone_offset: Option<i64> = None;
    let mut zone_name: Option<String> = None;

    loop {
        let (plen, std, sstart) = next_std_chunk(layout);
        let prefix = &layout[..plen];
        let std_str = &layout[plen..sstart];
        value = skip(value, prefix).ok_or_else(|| bad(prefix, value))?;
        let Some(std) = std else {
            if !value.is_empty() {
                return Err(with_message(&format!(
                    ": extra text: {}",
                    go_quote(&lossy(value))
                )));
            }
            break;
        };
        layout = &layout[sstart..];
        let hold = value;
        let mut range_err: &str = "";
        let ok: Option<()> = (|| {
            match std {
                Std::Year => {
                    if value.len() < 2 {
                        return None;
                    }
                    let y = time_atoi(&value[..2])?;
                    value = &value[2..];
                    year = if y >= 69 { y + 1900 } else { y + 2000 };
                }
                Std::LongYear => {
                    if value.len() < 4 || !is_digit_at(value, 0) {
                        return None;
                    }
                    year = time_atoi(&value[..4])?;
                    value = &value[4..];
                }
                Std::Month | Std::LongMonth => {
                    let table: &[&str] = if std == Std::Month {
                        &SHORT_MONTHS
                    } else {
                        &LONG_MONTHS
                    };
                    let (i, rest) = lookup_name(table, value)?;
                    month = i as i64 + 1;
                    value = rest;
                }
                Std::NumMonth | Std::ZeroMonth => {
                    let (m, rest) = getnum(value, std == Std::ZeroMonth)?;
                    month = m;
                    value = rest;
                    if !(1..=12).contains(&month) {
                        range_err = "month";
                    }
                }
                Std::WeekDay | Std::LongWeekDay => {
                    let table: &[&str] = if std == Std::WeekDay {
                        &SHORT_DAYS
                    } else {
                        &LONG_DAYS
                    };
                    value = lookup_name(table, value)?.1;
                }
                Std::Day | Std::UnderDay | Std::ZeroDay => {
                    if std == Std::UnderDay && value.first() == Some(&b' ') {
                        value = &value[1..];
                    }
                    let (d, rest) = getnum(value, std == Std::ZeroDay)?;
                    day = d;
                    value = rest;
                }
                Std::UnderYearDay | Std::ZeroYearDay => {
                    for _ in 0..2 {
                        if std == Std::UnderYearDay && value.first() == Some(&b' ') {
                            value = &value[1..];
                        }
                    }
                    let (d, rest) = getnum3(value, std == Std::ZeroYearDay)?;
                    yday = d;
                    value = rest;
                }
                Std::Hour => {
                    let (h, rest) = getnum(value, false)?;
                    hour = h;
                    value = rest;
                    if !(0..24).contains(&hour) {
                        range_err = "hour";
                    }
                }
                Std::Hour12 | Std::ZeroHour12 => {
                    let (h, rest) = getnum(value, std == Std::ZeroHour12)?;
                    hour = h;
                    value = rest;
                    if !(0..=12).contains(&hour) {
                        range_err = "hour";
                    }
                }
                Std::Minute | Std::ZeroMinute => {
                    let (m, rest) = getnum(value, std == Std::ZeroMinute)?;
                    min = m;
                    value = rest;
                    if !(0..60).contains(&min) {
                        range_err = "minute";
                    }
                }
                Std::Second | Std::ZeroSecond => {
                    let (s, rest) = getnum(value, std == Std::ZeroSecond)?;
                    sec = s;
                    value = rest;
                    if !(0..60).contains(&sec) {
                        range_err = "second";
                        return Some(());
                    }
                    // A fraction in the value but not in the layout.
                    if value.len() >= 2 && matches!(value[0], b'.' | b',') && is_digit_at(value, 1)
                    {
                        let (_, next, _) = next_std_chunk(layout);
                        if matches!(next, Some(Std::FracSecond0(_) | Std::FracSecond9(_))) {
                            return Some(());
                        }
                        let mut n = 2;
                        while n < value.len() && is_digit_at(value, n) {
                            n += 1;
                        }
                        match parse_nanoseconds(value, n) {
                            Ok(ns) => nsec = ns,
                            Err("") => return None,
                            Err(r) => range_err = r,
                        }
                        value = &value[n..];
                    }
                }
                Std::PM | Std::Pm => {
                    if value.len() < 2 {
                        return None;
                    }
                    let p = &value[..2];
                    value = &value[2..];
                    let (pm_s, am_s): (&[u8], &[u8]) = if std == Std::PM {
                        (b"PM", b"AM")
                    } else {
                        (b"pm", b"am")
                    };
                    if p == pm_s {
                        pm = true;
                    } else if p == am_s {
                        am = true;
                    } else {
                        return None;
                    }
                }
                Std::Iso8601TZ
                | Std::Iso8601ShortTZ
                | Std::Iso8601ColonTZ
                | Std::Iso8601SecondsTZ
                | Std::Iso8601ColonSecondsTZ
                | Std::NumTZ
                | Std::NumShortTZ
                | Std::NumColonTZ
                | Std::NumSecondsTz
                | Std::NumColonSecondsTZ => {
                    let iso = matches!(
                        std,
                        Std::Iso8601TZ
                            | Std::Iso8601ShortTZ
                            | Std::Iso8601ColonTZ
                            | Std::Iso8601SecondsTZ
                            | Std::Iso8601ColonSecondsTZ
                    );
                    if iso && value.first() == Some(&b'Z') {
                        value = &value[1..];
                        utc = true;
                        return Some(());
                    }
                    let (sign, hh, mm, ss, rest): (u8, &[u8], &[u8], &[u8], &[u8]) = match std {
                        Std::Iso8601ColonTZ | Std::NumColonTZ => {
                            if value.len() < 6 || value[3] != b':' {
                                return None;
                            }
                            (value[0], &value[1..3], &value[4..6], b"00", &value[6..])
                        }
                        Std::NumShortTZ | Std::Iso8601ShortTZ => {
                            if value.len() < 3 {
                                return None;
                            }
                            (value[0], &value[1..3], b"00", b"00", &value[3..])
                        }
                        Std::Iso8601ColonSecondsTZ | Std::NumColonSecondsTZ => {
                            if value.len() < 9 || value[3] != b':' || value[6] != b':' {
                                return None;
                            }
                            (
                                value[0],
                                &value[1..3],
                                &value[4..6],
                                &value[7..9],
                                &value[9..],
                            )
                        }
                        Std::Iso8601SecondsTZ | Std::NumSecondsTz => {
                            if value.len() < 7 {
                                return None;
                            }
                            (
                                value[0],
                                &value[1..3],
                                &value[3..5],
                                &value[5..7],
                                &value[7..],
                            )
                        }
                        _ => {
                            if value.len() < 5 {
                                return None;
                            }
                            (value[0], &value[1..3], &value[3..5], b"00", &value[5..])
                        }
                    };
                    value = rest;
                    let hr = getnum(hh, true)?.0;
                    let mm = getnum(mm, true)?.0;
                    let ss = getnum(ss, true)?.0;
                    if hr > 24 {
                        range_err = "time zone offset hour";
                    }
                    if mm > 60 {
                        range_err = "time zone offset minute";
                    }
                    if ss > 60 {
                        range_err = "time zone offset second";
                    }
                    let offset = (hr * 60 + mm) * 60 + ss;
                    zone_offset = Some(match sign {
                        b'+' => offset,
                        b'-' => -offset,
                        _ => return None,
                    });
                }
                Std::TZ => {
                    if value.starts_with(b"UTC") {
                        utc = true;
                        value = &value[3..];
                        return Some(());
                    }
                    let n = parse_time_zone(value)?;
                    zone_name = Some(lossy(&value[..n]));
                    value = &value[n..];
                }
                Std::FracSecond0(digits) => {
                    let ndigit = 1 + digits;
                    if value.len() < ndigit {
                        return None;
                    }
                    match parse_nanoseconds(value, ndigit) {
                        Ok(ns) => nsec = ns,
                        Err("") => return None,
                        Err(r) => range_err = r,
                    }
                    value = &value[ndigit..];
                }
                Std::FracSecond9(_) => {
                    if value.len() < 2 || !matches!(value[0], b'.' | b',') || !is_digit_at(value, 1)
                    {
                        return Some(());
                    }
                    let mut i = 0;
                    while is_digit_at(value, i + 1) {
                        i += 1;
                    }
                    match parse_nanoseconds(value, 1 + i) {
                        Ok(ns) => nsec = ns,
                        Err("") => return None,
                        Err(r) => range_err = r,
                    }
                    value = &value[1 + i..];
                }
            }
            Some(())
        })();
        if !range_err.is_empty() {
            return Err(with_message(&format!(": {range_err} out of range")));
        }
        if ok.is_none() {
            return Err(bad(std_str, hold));
        }
    }
    if pm && hour < 12 {
        hour += 12;
    } else if am && hour == 12 {
        hour = 0;
    }
    if yday >= 0 {
        let mut m = 0;
        let mut d = 0;
        if is_leap(year) {
            if yday == 31 + 29 {
                m = 2;
                d = 29;
            } else if yday > 31 + 29 {
                yday -= 1;
            }
        }
        if !(1..=365).contains(&yday) {
            return Err(with_message(": day-of-year out of range"));
        }
        if m == 0 {
            const DAYS_BEFORE: [i64; 13] =
                [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];
            m = (yday - 1) / 31 + 1;
            if DAYS_BEFORE[m as usize] < yday {
                m += 1;
            }
            d = yday - DAYS_BEFORE[(m - 1) as usize];
        }
        if month >= 0 && month != m {
            return Err(with_message(": day-of-year does not match month"));
        }
        month = m;
        if day >= 0 && day != d {
            return Err(with_message(": day-of-year does not match day"));
        }
        day = d;
    } else {
        if month < 0 {
            month = 1;
        }
        if day < 0 {
            day = 1;
        }
    }
    if day < 1 || day > days_in(month, year) {
        return Err(with_message(": day out of range"));
    }
    let wall = days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec;
    let (unix, offset) = if utc {
        (wall, 0)
    } else if let Some(offset) = zone_offset {
        (wall - offset, offset)
    } else if let Some(name) = &zone_name {
        // An unknown abbreviation: a zone with that name and no offset,
        // except GMT±h, whose offset Go records without moving the instant.
        if name.len() > 3 && name.starts_with("GMT") {
            (wall, time_atoi(&name.as_bytes()[3..]).unwrap_or(0) * 3600)
        } else {
            (wall, 0)
        }
    } else {
        (wall, 0)
    };
    Ok(GoTime {
        unix,
        nsec: nsec as u32,
        offset: offset as i32,
    })
}

fn time_arg(function: &str, args: &[Rcvar], i: usize) -> Result<GoTime, String> {
    go_parse(RFC3339, arg_str(function, args, i)?)
}

fn duration_arg(function: &str, args: &[Rcvar], i: usize) -> Result<i64, String> {
    parse_duration(arg_str(function, args, i)?)
}

pub(super) fn jp_time_since(args: &[Rcvar]) -> Result<Rcvar, String> {
    let layout = arg_str("time_since", args, 0)?;
    let start = arg_str("time_since", args, 1)?;
    let end = arg_str("time_since", args, 2)?;
    let layout = if layout.is_empty() { RFC3339 } else { layout };
    let t1 = go_parse(layout, start)?;
    let t2 = if end.is_empty() {
        GoTime::from_unix(clock("time_since")?)
    } else {
        go_parse(layout, end)?
    };
    Ok(string(duration_string(t2.sub(&t1))))
}

pub(super) fn jp_time_now(_: &[Rcvar]) -> Result<Rcvar, String> {
    Ok(string(GoTime::from_unix(clock("time_now")?).rfc3339()))
}

pub(super) fn jp_time_now_utc(_: &[Rcvar]) -> Result<Rcvar, String> {
    Ok(string(GoTime::from_unix(clock("time_now_utc")?).rfc3339()))
}

pub(super) fn jp_time_to_cron(args: &[Rcvar]) -> Result<Rcvar, String> {
    let c = time_arg("time_to_cron", args, 0)?.civil();
    Ok(string(format!(
        "{} {} {} {} {}",
        c.minute, c.hour, c.day, c.month, c.weekday
    )))
}

pub(super) fn jp_time_add(args: &[Rcvar]) -> Result<Rcvar, String> {
    let t = time_arg("time_add", args, 0)?;
    let d = duration_arg("time_add", args, 1)?;
    Ok(string(t.add(d)?.rfc3339()))
}

pub(super) fn jp_time_parse(args: &[Rcvar]) -> Result<Rcvar, String> {
    let layout = arg_str("time_parse", args, 0)?;
    let ts = arg_str("time_parse", args, 1)?;
    if go_parse_int(layout).is_ok() {
        // An epoch layout.
        let epoch = go_parse_int(ts)?;
        return Ok(string(GoTime::from_unix(epoch).rfc3339()));
    }
    Ok(string(go_parse(layout, ts)?.rfc3339()))
}

pub(super) fn jp_time_utc(args: &[Rcvar]) -> Result<Rcvar, String> {
    Ok(string(time_arg("time_utc", args, 0)?.utc().rfc3339()))
}

pub(super) fn jp_time_diff(args: &[Rcvar]) -> Result<Rcvar, String> {
    let t1 = time_arg("time_diff", args, 0)?;
    let t2 = time_arg("time_diff", args, 1)?;
    Ok(string(duration_string(t2.sub(&t1))))
}

pub(super) fn jp_time_before(args: &[Rcvar]) -> Result<Rcvar, String> {
    let t1 = time_arg("time_before", args, 0)?;
    let t2 = time_arg("time_before", args, 1)?;
    Ok(boolean(t1.total_nanos() < t2.total_nanos()))
}

pub(super) fn jp_time_after(args: &[Rcvar]) -> Result<Rcvar, String> {
    let t1 = time_arg("time_after", args, 0)?;
    let t2 = time_arg("time_after", args, 1)?;
    Ok(boolean(t1.total_nanos() > t2.total_nanos()))
}

pub(super) fn jp_time_between(args: &[Rcvar]) -> Result<Rcvar, String> {
    let t = time_arg("time_between", args, 0)?.total_nanos();
    let start = time_arg("time_between", args, 1)?.total_nanos();
    let end = time_arg("time_between", args, 2)?.total_nanos();
    Ok(boolean(t > start && t < end))
}

pub(super) fn jp_time_truncate(args: &[Rcvar]) -> Result<Rcvar, String> {
    let t = time_arg("time_truncate", args, 0)?;
    let d = duration_arg("time_truncate", args, 1)?;
    Ok(string(t.truncate(d)?.rfc3339()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conditions::functions::tests::{fails, qe, table};
    use serde_json::json;

    #[test]
    fn time_functions() {
        table(&[
            (
                "time_since('', '2021-01-02T15:04:05-07:00', '2021-01-10T03:14:05-07:00')",
                json!("180h10m0s"),
            ),
            (
                "time_since('Mon Jan _2 15:04:05 MST 2006', 'Mon Jan 02 15:04:05 MST 2021', 'Mon Jan 10 03:14:16 MST 2021')",
                json!("180h10m11s"),
            ),
            (
                "time_since('', '2022-04-10T03:14:05-07:00', '2022-04-11T03:14:05-07:00')",
                json!("24h0m0s"),
            ),
            (
                "time_since('2006-Jan-02', '2020-Jan-14', '2020-Jan-17')",
                json!("72h0m0s"),
            ),
            (
                "time_since('', '2023-11-14T21:13:20Z', '')",
                json!("1h0m0s"),
            ),
            ("time_to_cron('2023-02-02T15:04:05Z')", json!("4 15 2 2 4")),
            (
                "time_to_cron(time_utc('2023-02-02T15:04:05-07:00'))",
                json!("4 22 2 2 4"),
            ),
            (
                "time_to_cron('2022-04-11T03:14:05-07:00')",
                json!("14 3 11 4 1"),
            ),
            (
                "time_add('2021-01-02T15:04:05-07:00', '3h')",
                json!("2021-01-02T18:04:05-07:00"),
            ),
            (
                "time_add(time_parse('Mon Jan 02 15:04:05 -0700 2006', 'Sat Jan 02 15:04:05 -0700 2021'), '5h30m40s')",
                json!("2021-01-02T20:34:45-07:00"),
            ),
            (
                "time_add('2023-01-12T12:37:56-05:00', '6h')",
                json!("2023-01-12T18:37:56-05:00"),
            ),
            (
                "time_parse('2006-01-02T15:04:05Z07:00', '2021-01-02T15:04:05-07:00')",
                json!("2021-01-02T15:04:05-07:00"),
            ),
            (
                "time_parse('Mon Jan 02 15:04:05 -0700 2006', 'Sat Jan 02 15:04:05 -0700 2021')",
                json!("2021-01-02T15:04:05-07:00"),
            ),
            (
                "time_parse('1702691171', '1702691171')",
                json!("2023-12-16T01:46:11Z"),
            ),
            ("time_parse('0', '-1')", json!("1969-12-31T23:59:59Z")),
            (
                "time_utc('2023-02-02T15:04:05Z')",
                json!("2023-02-02T15:04:05Z"),
            ),
            (
                "time_utc('2023-02-02T15:04:05-07:00')",
                json!("2023-02-02T22:04:05Z"),
            ),
            (
                "time_utc('2021-01-02T18:04:05-05:00')",
                json!("2021-01-02T23:04:05Z"),
            ),
            (
                "time_utc('2021-01-02T02:04:05+08:30')",
                json!("2021-01-01T17:34:05Z"),
            ),
            (
                "time_diff('2021-01-02T15:04:05-07:00', '2021-01-10T03:14:05-07:00')",
                json!("180h10m0s"),
            ),
            (
                "time_diff('2023-01-10T00:00:00Z', '2023-01-11T00:00:00Z')",
                json!("24h0m0s"),
            ),
            (
                "time_diff('2023-01-12T00:00:00Z', '2023-01-11T00:00:00Z')",
                json!("-24h0m0s"),
            ),
            (
                "time_diff('2023-01-12T00:00:00.5Z', '2023-01-12T00:00:01Z')",
                json!("500ms"),
            ),
            (
                "time_before('2021-01-02T15:04:05-07:00', '2021-01-02T16:04:05-07:00')",
                json!(true),
            ),
            (
                "time_before('2021-01-02T15:04:05-07:00', '2021-01-02T15:04:05-07:00')",
                json!(false),
            ),
            (
                "time_before('2021-01-02T16:04:05-07:00', '2021-01-02T15:04:05-07:00')",
                json!(false),
            ),
            (
                "time_before('2023-01-12T19:05:59Z', '2023-01-13T19:05:59Z')",
                json!(true),
            ),
            (
                "time_after('2021-01-02T15:04:05-07:00', '2021-01-02T16:04:05-07:00')",
                json!(false),
            ),
            (
                "time_after('2021-01-02T15:04:05-07:00', '2021-01-02T15:04:05-07:00')",
                json!(false),
            ),
            (
                "time_after('2021-01-02T16:04:05-07:00', '2021-01-02T15:04:05-07:00')",
                json!(true),
            ),
            (
                "time_after('2023-01-12T14:07:55-05:00', '2023-01-12T19:05:59Z')",
                json!(true),
            ),
            (
                "time_between('2021-01-02T17:04:05-07:00', '2021-01-02T15:04:05-07:00', '2021-01-02T18:04:05-07:00')",
                json!(true),
            ),
            (
                "time_between('2021-01-02T15:04:05-07:00', '2021-01-02T15:04:05-07:00', '2021-01-02T18:04:05-07:00')",
                json!(false),
            ),
            (
                "time_between('2021-01-02T18:04:05-07:00', '2021-01-02T15:04:05-07:00', '2021-01-02T18:04:05-07:00')",
                json!(false),
            ),
            (
                "time_between('2023-01-12T19:05:59Z', '2023-01-01T19:05:59Z', '2023-01-15T19:05:59Z')",
                json!(true),
            ),
            (
                "time_truncate('2023-01-12T17:37:00Z', '1h')",
                json!("2023-01-12T17:00:00Z"),
            ),
            (
                "time_truncate('2023-01-12T17:37:00Z', '2h')",
                json!("2023-01-12T16:00:00Z"),
            ),
            (
                "time_truncate('2021-01-02T23:04:05Z', '2h')",
                json!("2021-01-02T22:00:00Z"),
            ),
            (
                "time_truncate('2023-01-12T17:37:00+05:30', '1h')",
                json!("2023-01-12T17:30:00+05:30"),
            ),
            (
                "time_truncate('2023-01-12T17:37:00Z', '0s')",
                json!("2023-01-12T17:37:00Z"),
            ),
            (
                "time_truncate('2023-01-12T17:37:00Z', '168h')",
                json!("2023-01-09T00:00:00Z"),
            ),
            ("time_now()", json!("2023-11-14T22:13:20Z")),
            ("time_now_utc()", json!("2023-11-14T22:13:20Z")),
            (
                "time_add(time_now_utc(), '4h') | time_to_cron(@)",
                json!("13 2 15 11 3"),
            ),
        ]);
        fails(&[
            "time_before(`1`, '2021-01-02T15:04:05-07:00')",
            "time_after('2021-01-02T15:04:05-07:00', `1`)",
            "time_between('2021-01-02T15:04:05-07:00', '2021-01-02T18:04:05-07:00', `1`)",
            "time_add('2021-01-02T15:04:05-07:00', '')",
            "time_add('2021-01-02T15:04:05-07:00', `1`)",
            "time_utc('')",
            "time_parse('1', 'x')",
        ]);
        assert_eq!(
            qe("time_utc('2021-13-02T15:04:05Z')"),
            "parsing time \"2021-13-02T15:04:05Z\": month out of range"
        );
        assert_eq!(
            qe("time_utc('2021-01-02')"),
            "parsing time \"2021-01-02\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"\" as \"T\""
        );
        assert_eq!(
            qe("time_add('2021-01-02T15:04:05Z', '1d')"),
            "time: unknown unit \"d\" in duration \"1d\""
        );
    }

    #[test]
    fn go_time_layouts() {
        let parse = |layout: &str, value: &str| {
            go_parse(layout, value)
                .map(|t| t.rfc3339())
                .unwrap_or_else(|e| panic!("{layout} {value}: {e}"))
        };
        assert_eq!(
            parse(RFC3339, "2021-01-02T15:04:05.999999999Z"),
            "2021-01-02T15:04:05Z"
        );
        assert_eq!(
            parse(RFC3339, "2021-01-02T15:04:05,5+01:00"),
            "2021-01-02T15:04:05+01:00"
        );
        assert_eq!(
            parse(
                "Mon Jan _2 15:04:05 MST 2006",
                "Sat Jan  2 15:04:05 PST 2021"
            ),
            "2021-01-02T15:04:05Z"
        );
        // Go records GMT+h without moving the instant.
        assert_eq!(
            parse(
                "Mon Jan 2 15:04:05 MST 2006",
                "Sat Jan 2 15:04:05 GMT+3 2021"
            ),
            "2021-01-02T18:04:05+03:00"
        );
        assert_eq!(
            parse("02 Jan 06 15:04 -0700", "02 Jan 21 15:04 +0530"),
            "2021-01-02T15:04:00+05:30"
        );
        assert_eq!(
            parse("02 Jan 06 15:04 -0700", "02 Jan 70 15:04 +0000"),
            "1970-01-02T15:04:00Z"
        );
        assert_eq!(
            parse(
                "Monday, 02-Jan-06 15:04:05 MST",
                "Saturday, 02-Jan-21 15:04:05 UTC"
            ),
            "2021-01-02T15:04:05Z"
        );
        assert_eq!(parse("3:04PM", "3:04PM"), "0000-01-01T15:04:00Z");
        assert_eq!(parse("3:04pm", "12:04am"), "0000-01-01T00:04:00Z");
        assert_eq!(
            parse("Jan _2 15:04:05.000", "Feb  3 04:05:06.789"),
            "0000-02-03T04:05:06Z"
        );
        assert_eq!(parse("2006.002", "2020.060"), "2020-02-29T00:00:00Z");
        assert_eq!(
            parse(
                "2006-01-02 15:04:05.999999999 -0700 MST",
                "2021-01-02 15:04:05.123 -0700 MST"
            ),
            "2021-01-02T15:04:05-07:00"
        );
        assert_eq!(
            parse("20060102150405", "20210102150405"),
            "2021-01-02T15:04:05Z"
        );
        assert_eq!(
            parse("2006-01-02T15:04:05Z0700", "2021-01-02T15:04:05-0130"),
            "2021-01-02T15:04:05-01:30"
        );
        assert_eq!(
            parse("January 2, 2006", "march 9, 2021"),
            "2021-03-09T00:00:00Z"
        );
        for (layout, value, message) in [
            (
                "2006-01-02",
                "2021-02-30",
                "parsing time \"2021-02-30\": day out of range",
            ),
            (
                "2006-01-02",
                "2021-01-02x",
                "parsing time \"2021-01-02x\": extra text: \"x\"",
            ),
            (
                "15:04",
                "25:00",
                "parsing time \"25:00\": hour out of range",
            ),
            (
                "2006-01-02",
                "21-01-02",
                "parsing time \"21-01-02\" as \"2006-01-02\": cannot parse \"21-01-02\" as \"2006\"",
            ),
            (
                "Jan 2",
                "Foo 2",
                "parsing time \"Foo 2\" as \"Jan 2\": cannot parse \"Foo 2\" as \"Jan\"",
            ),
            (
                "2006.002",
                "2021.366",
                "parsing time \"2021.366\": day-of-year out of range",
            ),
        ] {
            assert_eq!(
                go_parse(layout, value).map(|t| t.rfc3339()),
                Err(message.to_string()),
                "{value}"
            );
        }
        assert_eq!(civil_from_days(days_from_civil(2000, 2, 29)), (2000, 2, 29));
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(
            GoTime::from_unix(-62_135_596_800).rfc3339(),
            "0001-01-01T00:00:00Z"
        );
        assert_eq!(
            GoTime::from_unix(253_402_300_800).rfc3339(),
            "10000-01-01T00:00:00Z"
        );
    }
}
