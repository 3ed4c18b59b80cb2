//! `kubernetes.NamedFormat` (k8s.io/apiserver `library/format.go`):
//! Kubernetes' named string formats and their validation messages, from
//! k8s.io/apimachinery (`util/validation`, `api/validate/content`,
//! `api/validation`) and kube-openapi's `strfmt` for the CRD formats.
//!
//! The regular expressions of those packages are matched by hand (they are
//! simple character classes); the messages quote them as Kubernetes does.

use super::super::functions::{Decl, FnResult};
use super::super::library::{d, no_such_overload, str_arg};
use super::super::value::{Opaque, Value};
use super::opaque;
use super::url::GoUrl;
use std::sync::Arc;

/// The CEL type name of a format.
pub const FORMAT_TYPE: &str = "kubernetes.NamedFormat";

/// A named format (`library.ConstantFormats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamedFormat {
    /// `dns1123Label`.
    Dns1123Label,
    /// `dns1123Subdomain`.
    Dns1123Subdomain,
    /// `dns1035Label`.
    Dns1035Label,
    /// `qualifiedName`.
    QualifiedName,
    /// `dns1123LabelPrefix`.
    Dns1123LabelPrefix,
    /// `dns1123SubdomainPrefix`.
    Dns1123SubdomainPrefix,
    /// `dns1035LabelPrefix`.
    Dns1035LabelPrefix,
    /// `labelValue`.
    LabelValue,
    /// `uri`.
    Uri,
    /// `uuid`.
    Uuid,
    /// `byte`.
    Byte,
    /// `date`.
    Date,
    /// `datetime`.
    Datetime,
}

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_ERR: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_ERR: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const LABEL_KEY_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const LABEL_KEY_ERR: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_ERR: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/// `RegexError`.
fn regex_error(msg: &str, re: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{re}')");
    }
    let examples: Vec<String> = examples.iter().map(|e| format!("'{e}', ")).collect();
    format!(
        "{msg} (e.g. {}regex used for validation is '{re}')",
        examples.join(" or ")
    )
}

/// `first`, then `middle*`, then `last`, or just one `first` that is also
/// a `last`: the shape of every pattern here.
fn shaped(s: &[u8], first: fn(u8) -> bool, middle: fn(u8) -> bool, last: fn(u8) -> bool) -> bool {
    match s {
        [] => false,
        [c] => first(*c) && last(*c),
        [a, mid @ .., z] => first(*a) && last(*z) && mid.iter().all(|&c| middle(c)),
    }
}

fn lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

fn dns1123_label_re(s: &[u8]) -> bool {
    shaped(s, lower_alnum, |c| lower_alnum(c) || c == b'-', lower_alnum)
}

fn dns1123_subdomain_re(s: &[u8]) -> bool {
    s.split(|&c| c == b'.').all(dns1123_label_re)
}

fn dns1035_label_re(s: &[u8]) -> bool {
    shaped(
        s,
        |c| c.is_ascii_lowercase(),
        |c| lower_alnum(c) || c == b'-',
        lower_alnum,
    )
}

fn label_key_re(s: &[u8]) -> bool {
    shaped(
        s,
        |c| c.is_ascii_alphanumeric(),
        |c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'),
        |c| c.is_ascii_alphanumeric(),
    )
}

/// `validation.IsDNS1123Label` (util/validation: lengths in characters).
fn is_dns1123_label(v: &[u8]) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > 63 {
        errs.push("must be no more than 63 characters".to_string());
    }
    if !dns1123_label_re(v) {
        if dns1123_subdomain_re(v) {
            errs.push("must not contain dots".to_string());
        } else {
            errs.push(regex_error(
                DNS1123_LABEL_ERR,
                DNS1123_LABEL_FMT,
                &["my-name", "123-abc"],
            ));
        }
    }
    errs
}

/// `IsDNS1123Subdomain`; `unit` is how the length limit reads
/// (util/validation says characters, validate/content bytes).
fn is_dns1123_subdomain(v: &[u8], unit: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > 253 {
        errs.push(format!("must be no more than 253 {unit}"));
    }
    if !dns1123_subdomain_re(v) {
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_ERR,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

/// `validation.IsDNS1035Label`.
fn is_dns1035_label(v: &[u8]) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > 63 {
        errs.push("must be no more than 63 characters".to_string());
    }
    if !dns1035_label_re(v) {
        errs.push(regex_error(
            DNS1035_LABEL_ERR,
            DNS1035_LABEL_FMT,
            &["my-name", "abc-123"],
        ));
    }
    errs
}

/// `content.IsLabelKey` (`IsQualifiedName`).
fn is_qualified_name(v: &[u8]) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&[u8]> = v.split(|&c| c == b'/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_string());
            } else {
                errs.extend(
                    is_dns1123_subdomain(prefix, "bytes")
                        .into_iter()
                        .map(|m| format!("prefix part {m}")),
                );
            }
            *name
        }
        _ => {
            return vec![format!(
                "a valid label key {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(
                    LABEL_KEY_ERR,
                    LABEL_KEY_FMT,
                    &["MyName", "my.name", "123-abc"]
                )
            )];
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_string());
    } else if name.len() > 63 {
        errs.push("name part must be no more than 63 bytes".to_string());
    }
    if !label_key_re(name) {
        errs.push(format!(
            "name part {}",
            regex_error(
                LABEL_KEY_ERR,
                LABEL_KEY_FMT,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    errs
}

/// `content.IsLabelValue`.
fn is_label_value(v: &[u8]) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > 63 {
        errs.push("must be no more than 63 bytes".to_string());
    }
    if !(v.is_empty() || label_key_re(v)) {
        errs.push(regex_error(
            LABEL_VALUE_ERR,
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

/// `maskTrailingDash`: for a name a suffix will be appended to, a final
/// `-` (and, as Kubernetes slices it, the byte before it) reads as `a`.
fn mask_trailing_dash(name: &[u8]) -> Vec<u8> {
    if name.len() > 1 && name.ends_with(b"-") {
        let mut masked = name[..name.len() - 2].to_vec();
        masked.push(b'a');
        masked
    } else {
        name.to_vec()
    }
}

/// strfmt's `uuid`: `(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$`.
fn is_uuid(s: &[u8]) -> bool {
    let mut rest = s;
    for (i, n) in [8usize, 4, 4, 4, 12].into_iter().enumerate() {
        if i > 0
            && let Some(r) = rest.strip_prefix(b"-")
        {
            rest = r;
        }
        match rest.split_at_checked(n) {
            Some((group, r)) if group.iter().all(u8::is_ascii_hexdigit) => rest = r,
            _ => return false,
        }
    }
    rest.is_empty()
}

/// govalidator's `IsBase64`: standard alphabet, padded, at least one
/// group of four.
fn is_base64(s: &[u8]) -> bool {
    let alphabet = |c: &u8| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/';
    if s.is_empty() || !s.len().is_multiple_of(4) {
        return false;
    }
    let (body, last) = s.split_at(s.len() - 4);
    body.iter().all(alphabet)
        && match last {
            [a, b, b'=', b'='] => alphabet(a) && alphabet(b),
            [a, b, c, b'='] => alphabet(a) && alphabet(b) && alphabet(c),
            l => l.iter().all(alphabet),
        }
}

/// strfmt's `date`: `time.Parse("2006-01-02", s)`.
fn is_date(s: &[u8]) -> bool {
    let digits = |b: &[u8]| -> Option<u32> {
        b.iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = s else {
        return false;
    };
    let (Some(year), Some(month), Some(day)) = (
        digits(&[*y0, *y1, *y2, *y3]),
        digits(&[*m0, *m1]),
        digits(&[*d0, *d1]),
    ) else {
        return false;
    };
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// The time zone of strfmt's date-time pattern: `z` or `[+-]hh:mm`.
fn is_zone(s: &[u8]) -> bool {
    match s {
        b"z" => true,
        [b'+' | b'-', h0, h1, b':', m0, m1] => [h0, h1, m0, m1].iter().all(|c| c.is_ascii_digit()),
        _ => false,
    }
}

/// strfmt's `IsDateTime`: lower-cased, split at every `t`; the first part
/// a date, the second
/// `^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$`
/// with hours to 23 and minutes and seconds to 59 (later parts ignored).
fn is_date_time(s: &str) -> bool {
    if s.len() < 4 {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    let mut parts = lower.split('t');
    let (Some(date), Some(time)) = (parts.next(), parts.next()) else {
        return false;
    };
    if !is_date(date.as_bytes()) {
        return false;
    }
    let b = time.as_bytes();
    let two = |i: usize| -> Option<u32> {
        match b.get(i..i + 2) {
            Some([x, y]) if x.is_ascii_digit() && y.is_ascii_digit() => {
                Some(u32::from(x - b'0') * 10 + u32::from(y - b'0'))
            }
            _ => None,
        }
    };
    let (Some(h), Some(m), Some(sec)) = (two(0), two(3), two(6)) else {
        return false;
    };
    if b.get(2) != Some(&b':') || b.get(5) != Some(&b':') {
        return false;
    }
    let rest = &time[8..];
    // `(.[0-9]+)?`: one character but a newline, then digits.
    let fraction = || -> bool {
        let mut chars = rest.chars();
        match chars.next() {
            Some(c) if c != '\n' => {
                let tail = chars.as_str();
                let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
                digits > 0 && is_zone(&tail.as_bytes()[digits..])
            }
            _ => false,
        }
    };
    (is_zone(rest.as_bytes()) || fraction()) && h <= 23 && m <= 59 && sec <= 59
}

impl NamedFormat {
    /// Every format, by its `format.named` name.
    pub const ALL: [(&'static str, NamedFormat); 13] = [
        ("dns1123Label", NamedFormat::Dns1123Label),
        ("dns1123Subdomain", NamedFormat::Dns1123Subdomain),
        ("dns1035Label", NamedFormat::Dns1035Label),
        ("qualifiedName", NamedFormat::QualifiedName),
        ("dns1123LabelPrefix", NamedFormat::Dns1123LabelPrefix),
        (
            "dns1123SubdomainPrefix",
            NamedFormat::Dns1123SubdomainPrefix,
        ),
        ("dns1035LabelPrefix", NamedFormat::Dns1035LabelPrefix),
        ("labelValue", NamedFormat::LabelValue),
        ("uri", NamedFormat::Uri),
        ("uuid", NamedFormat::Uuid),
        ("byte", NamedFormat::Byte),
        ("date", NamedFormat::Date),
        ("datetime", NamedFormat::Datetime),
    ];

    /// The format of this name.
    pub fn named(name: &str) -> Option<NamedFormat> {
        NamedFormat::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
    }

    /// What is wrong with `s` (nothing: valid).
    pub fn validate(self, s: &str) -> Vec<String> {
        let b = s.as_bytes();
        let one = |ok: bool, msg: &str| {
            if ok {
                Vec::new()
            } else {
                vec![msg.to_string()]
            }
        };
        match self {
            NamedFormat::Dns1123Label => is_dns1123_label(b),
            NamedFormat::Dns1123Subdomain => is_dns1123_subdomain(b, "characters"),
            NamedFormat::Dns1035Label => is_dns1035_label(b),
            NamedFormat::QualifiedName => is_qualified_name(b),
            NamedFormat::Dns1123LabelPrefix => is_dns1123_label(&mask_trailing_dash(b)),
            NamedFormat::Dns1123SubdomainPrefix => {
                is_dns1123_subdomain(&mask_trailing_dash(b), "characters")
            }
            NamedFormat::Dns1035LabelPrefix => is_dns1035_label(&mask_trailing_dash(b)),
            NamedFormat::LabelValue => is_label_value(b),
            NamedFormat::Uri => match GoUrl::parse_request_uri(s) {
                Ok(_) => Vec::new(),
                Err(e) => vec![e],
            },
            NamedFormat::Uuid => one(is_uuid(b), "does not match the UUID format"),
            NamedFormat::Byte => one(is_base64(b), "invalid base64"),
            NamedFormat::Date => one(is_date(b), "invalid date"),
            NamedFormat::Datetime => one(is_date_time(s), "invalid datetime"),
        }
    }
}

/// A format value.
#[derive(Debug)]
pub struct Format(pub NamedFormat);

impl Opaque for Format {
    fn type_name(&self) -> &'static str {
        FORMAT_TYPE
    }
    fn equals(&self, other: &dyn Opaque) -> bool {
        other
            .as_any()
            .downcast_ref::<Format>()
            .is_some_and(|o| o.0 == self.0)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

fn value(f: NamedFormat) -> FnResult {
    Ok(Value::Opaque(Arc::new(Format(f))))
}

/// `format.named(name)`: the format, or `optional.none()`.
fn named(a: &[Value]) -> FnResult {
    let [name] = a else {
        return Err(no_such_overload());
    };
    Ok(Value::Optional(
        NamedFormat::named(str_arg(name)?).map(|f| Arc::new(Value::Opaque(Arc::new(Format(f))))),
    ))
}

/// `f.validate(s)`: `optional.none()` when valid, else the messages.
fn validate(a: &[Value]) -> FnResult {
    let [f, s] = a else {
        return Err(no_such_overload());
    };
    let errs = opaque::<Format>(f)?.0.validate(str_arg(s)?);
    Ok(Value::Optional((!errs.is_empty()).then(|| {
        Arc::new(Value::list(errs.into_iter().map(Value::string).collect()))
    })))
}

/// The format library.
pub const FORMAT: &[Decl] = &[
    d(
        "validate",
        Some(FORMAT_TYPE),
        &["string"],
        "optional(list(string))",
        validate,
    ),
    d(
        "format.named",
        None,
        &["string"],
        "optional(kubernetes.NamedFormat)",
        named,
    ),
    d("format.dns1123Label", None, &[], FORMAT_TYPE, |_| {
        value(NamedFormat::Dns1123Label)
    }),
    d("format.dns1123Subdomain", None, &[], FORMAT_TYPE, |_| {
        value(NamedFormat::Dns1123Subdomain)
    }),
    d("format.dns1035Label", None, &[], FORMAT_TYPE, |_| {
        value(NamedFormat::Dns1035Label)
    }),
    d("format.qualifiedName", None, &[], FORMAT_TYPE, |_| {
        value(NamedFormat::QualifiedName)
    }),
    d("format.dns1123LabelPrefix", None, &[], FORMAT_TYPE, |_| {
        value(NamedFormat::Dns1123LabelPrefix)
    }),
    d(
        "format.dns1123SubdomainPrefix",
        None,
        &[],
        FORMAT_TYPE,
        |_| value(NamedFormat::Dns1123SubdomainPrefix),
    ),
    d("format.dns1035LabelPrefix", None, &[], FORMAT_TYPE, |_| {
        value(NamedFormat::Dns1035LabelPrefix)
    }),
    d("format.labelValue", None, &[], FORMAT_TYPE, |_| {
        value(NamedFormat::LabelValue)
    }),
    d("format.uri", None, &[], FORMAT_TYPE, |_| {
        value(NamedFormat::Uri)
    }),
    d("format.uuid", None, &[], FORMAT_TYPE, |_| {
        value(NamedFormat::Uuid)
    }),
    d("format.byte", None, &[], FORMAT_TYPE, |_| {
        value(NamedFormat::Byte)
    }),
    d("format.date", None, &[], FORMAT_TYPE, |_| {
        value(NamedFormat::Date)
    }),
    d("format.datetime", None, &[], FORMAT_TYPE, |_| {
        value(NamedFormat::Datetime)
    }),
];
