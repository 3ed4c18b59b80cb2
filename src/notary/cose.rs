//! COSE_Sign1 envelopes (`application/cose`), decoded as notation-core-go's
//! `signature/cose` package decodes them through go-cose v1.3.0
//! (`Sign1Message.UnmarshalCBOR`, `headers.go`) with go-cose's fxamacker/cbor
//! decoding options.
//!
//! What is accepted, and why:
//! - Only `COSE_Sign1_Tagged` whose first two bytes are `d2 84` (tag 18, an
//!   array of four): go-cose's `Sign1Message` checks exactly that prefix, and
//!   notation-core-go never uses `UntaggedSign1Message`.
//! - Definite lengths only, no CBOR tags outside the protected header, at
//!   most [`MAX_NESTING`] levels of arrays, maps and tags, no duplicate
//!   labels in either header map, every label an int or a text string, no
//!   bytes after the message or after the protected header's map (go-cose
//!   decodes with `IndefLengthForbidden`, `TagsForbidden` for the message,
//!   `DupMapKeyEnforcedAPF` and fxamacker's default nesting limit of 32).
//!   Each header map holds at most [`MAX_HEADERS`] labels and `x5chain` at
//!   most [`MAX_CHAIN_LENGTH`] certificates.
//! - go-cose's type rules for the generic labels (`validateHeaderParameters`):
//!   `kid`, `IV`, `Partial IV` and `Countersignature0` are byte strings, IV
//!   and Partial IV are never both present, `crit` only in the protected
//!   header, countersignatures only in the unprotected one.
//! - Every `crit` label (int or text) must be present in the protected
//!   header (go-cose `ensureCritical`). Text labels go to
//!   [`Envelope::critical`]; an int label marks its extended attribute
//!   critical.
//! - Protected labels other than `alg`, `crit`, `content type` and the
//!   Notary headers are extended attributes, as in notation-core-go's
//!   `validateCritHeaders`; an int label is named by its decimal form
//!   (`"4"` for `kid`).
//! - Times are tag 1 around an integer, or around a float with no
//!   fractional part. notation-core-go also accepts fractional seconds;
//!   [`Envelope`] keeps whole seconds, so those are refused rather than
//!   rounded.
//! - `x5chain` (33) is read from the unprotected header only, as
//!   notation-core-go reads it. Besides its array of certificates, a single
//!   byte string (RFC 9360) is accepted, which notation-core-go refuses.
//! - A `timestampSignature` that is not a byte string, or a `signingAgent`
//!   that is not text, is ignored, as notation-core-go ignores it.

use super::cbor::{self, Decoder, Type};

use super::envelope::{self, Algorithm, EnvelopeFormat, ExtendedAttribute, SigningScheme, header};
use super::{Envelope, NotaryError};
use crate::crypto::x509::MAX_CHAIN_LENGTH;

/// The CBOR tag of `COSE_Sign1_Tagged`.
const TAG_SIGN1: u8 = 0xd2;
/// The head of an array of four items.
const ARRAY_OF_FOUR: u8 = 0x84;
/// The CBOR tag of an epoch-based date/time.
const TAG_EPOCH_TIME: u64 = 1;
/// The `context` of a COSE_Sign1 `Sig_structure`.
const SIGNATURE1: &str = "Signature1";

/// Most labels a header map (or `crit`) may hold.
pub const MAX_HEADERS: usize = 64;
/// Deepest nesting of arrays, maps and tags, counted from the message's
/// array (fxamacker/cbor's default `MaxNestedLevels`).
pub const MAX_NESTING: usize = 32;

/// COSE header labels (IANA "COSE Header Parameters").
mod label {
    pub const ALG: i64 = 1;
    pub const CRIT: i64 = 2;
    pub const CONTENT_TYPE: i64 = 3;
    pub const KID: i64 = 4;
    pub const IV: i64 = 5;
    pub const PARTIAL_IV: i64 = 6;
    pub const COUNTER_SIGNATURE: i64 = 7;
    pub const COUNTER_SIGNATURE0: i64 = 9;
    pub const COUNTER_SIGNATURE_V2: i64 = 11;
    pub const COUNTER_SIGNATURE0_V2: i64 = 12;
    pub const TYPE: i64 = 16;
    pub const X5CHAIN: i64 = 33;
}

/// Decodes a COSE_Sign1 envelope. The header rules are
/// [`Envelope::parse`]'s; this checks the encoding, the COSE header rules
/// and the value types, and builds the `Sig_structure` the signature covers.
pub fn parse(bytes: &[u8]) -> Result<Envelope, NotaryError> {
    match bytes {
        [TAG_SIGN1, ARRAY_OF_FOUR, ..] => {}
        [] => return Err(malformed("the COSE envelope is empty")),
        [TAG_SIGN1, ..] => {
            return Err(malformed(
                "COSE_Sign1_Tagged must hold an array of 4 items (0x84 after tag 18)",
            ));
        }
        [ARRAY_OF_FOUR, ..] => {
            return Err(malformed(
                "untagged COSE_Sign1 is not accepted: expected COSE_Sign1_Tagged (CBOR tag 18, 0xd2)",
            ));
        }
        [b, ..] => {
            return Err(malformed(format!(
                "not a COSE_Sign1_Tagged message: expected CBOR tag 18 (0xd2), found byte {b:#04x}"
            )));
        }
    }
    let mut d = Decoder::new(bytes);
    d.set_position(2);

    let protected = match peek(&d, "protected header")? {
        Type::Bytes => d.bytes().map_err(cbor("protected header"))?,
        Type::Null => return Err(malformed("the protected header is nil")),
        Type::BytesIndef => return Err(indefinite("protected header")),
        other => {
            return Err(malformed(format!(
                "the protected header must be a byte string, not {}",
                kind(other)
            )));
        }
    };
    let unprotected = parse_unprotected(&mut d)?;
    let payload = match peek(&d, "payload")? {
        Type::Bytes => d.bytes().map_err(cbor("payload"))?,
        Type::Null => {
            return Err(malformed(
                "the payload is nil: detached payloads are not supported",
            ));
        }
        Type::BytesIndef => return Err(indefinite("payload")),
        other => {
            return Err(malformed(format!(
                "the payload must be a byte string, not {}",
                kind(other)
            )));
        }
    };
    let signature = match peek(&d, "signature")? {
        Type::Bytes => d.bytes().map_err(cbor("signature"))?,
        Type::Null => return Err(malformed("the signature is missing")),
        Type::BytesIndef => return Err(indefinite("signature")),
        other => {
            return Err(malformed(format!(
                "the signature must be a byte string, not {}",
                kind(other)
            )));
        }
    };
    if signature.is_empty() {
        return Err(malformed("the signature is empty"));
    }
    if d.position() != bytes.len() {
        return Err(malformed(format!(
            "{} trailing bytes after the COSE_Sign1 message",
            bytes.len() - d.position()
        )));
    }

    let protected_header = parse_protected(protected, &unprotected.labels)?;
    if (protected_header.iv || unprotected.iv)
        && (protected_header.partial_iv || unprotected.partial_iv)
    {
        return Err(invalid("IV and Partial IV must not both be present"));
    }

    Ok(Envelope {
        format: EnvelopeFormat::Cose,
        payload: payload.to_vec(),
        content_type: protected_header.content_type,
        algorithm: protected_header.algorithm,
        scheme: protected_header.scheme,
        signing_time: protected_header.signing_time,
        authentic_signing_time: protected_header.authentic_signing_time,
        expiry: protected_header.expiry,
        critical: protected_header.critical,
        present: protected_header.present,
        extended: protected_header.extended,
        certificates: unprotected.certificates,
        timestamp_token: unprotected.timestamp_token,
        signing_agent: unprotected.signing_agent,
        signed_bytes: sig_structure(protected, payload),
        signature: signature.to_vec(),
    })
}

/// The CBOR encoding of `["Signature1", protected, h'', payload]`: the
/// protected header's bytes exactly as the envelope carries them (never
/// re-encoded), with an empty `external_aad`. Byte-string heads are encoded
/// in their shortest form, as go-cose's `toBeSigned` does.
fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(protected.len() + payload.len() + 32);
    cbor::push_array(&mut out, 4);
    cbor::push_str(&mut out, SIGNATURE1);
    cbor::push_bytes(&mut out, protected);
    cbor::push_bytes(&mut out, &[]);
    cbor::push_bytes(&mut out, payload);
    out
}

/// What the protected header says.
struct Protected {
    algorithm: Algorithm,
    scheme: SigningScheme,
    content_type: String,
    signing_time: Option<i64>,
    authentic_signing_time: Option<i64>,
    expiry: Option<i64>,
    critical: Vec<String>,
    present: Vec<String>,
    extended: Vec<ExtendedAttribute>,
    iv: bool,
    partial_iv: bool,
}

/// Decodes the protected header: the bytes of a map of at most
/// [`MAX_HEADERS`] labels, nothing after it, none of them also in the
/// unprotected header (RFC 9052 section 3: the buckets are disjoint).
fn parse_protected(raw: &[u8], unprotected: &[Label<'_>]) -> Result<Protected, NotaryError> {
    const WHAT: &str = "protected header";
    if raw.is_empty() {
        return Err(invalid("the protected header is empty"));
    }
    let mut d = Decoder::new(raw);
    let n = match peek(&d, WHAT)? {
        Type::Map => container_len(&mut d, true, WHAT)?,
        Type::MapIndef => return Err(indefinite(WHAT)),
        other => {
            return Err(malformed(format!(
                "the protected header must be a CBOR map, not {}",
                kind(other)
            )));
        }
    };
    if n > MAX_HEADERS as u64 {
        return Err(malformed(format!(
            "the protected header has {n} labels, more than {MAX_HEADERS}"
        )));
    }

    let mut seen: Vec<Label<'_>> = Vec::new();
    let mut algorithm = None;
    let mut crit: Option<Vec<Label<'_>>> = None;
    let mut content_type = None;
    let mut scheme = None;
    let mut signing_time = None;
    let mut authentic_signing_time = None;
    let mut expiry = None;
    let mut present = Vec::new();
    let mut extended: Vec<Label<'_>> = Vec::new();
    let (mut iv, mut partial_iv) = (false, false);

    for _ in 0..n {
        let key = read_label(&mut d).map_err(|m| malformed(format!("{WHAT}: {m}")))?;
        if seen.contains(&key) {
            return Err(malformed(format!(
                "the protected header has the label {key} more than once"
            )));
        }
        if unprotected.contains(&key) {
            return Err(malformed(format!(
                "the label {key} is in both the protected and the unprotected header"
            )));
        }
        seen.push(key);
        match key {
            Label::Int(label::ALG) => algorithm = Some(read_algorithm(&mut d)?),
            Label::Int(label::CRIT) => crit = Some(read_crit(&mut d)?),
            Label::Int(label::CONTENT_TYPE) => {
                content_type = Some(read_text(&mut d, "content type (3)")?.to_owned());
            }
            Label::Int(other) => {
                check_generic(&d, other, Bucket::Protected)?;
                iv |= other == label::IV;
                partial_iv |= other == label::PARTIAL_IV;
                skip_value(&mut d, 2, true, WHAT)?;
                extended.push(key);
            }
            Label::Text(name) if envelope::is_notary_header(name) => {
                match name {
                    header::SIGNING_SCHEME => {
                        scheme = Some(SigningScheme::parse(read_text(&mut d, name)?)?);
                    }
                    header::SIGNING_TIME => signing_time = Some(read_time(&mut d, name)?),
                    header::AUTHENTIC_SIGNING_TIME => {
                        authentic_signing_time = Some(read_time(&mut d, name)?);
                    }
                    header::EXPIRY => expiry = Some(read_time(&mut d, name)?),
                    _ => {
                        read_text(&mut d, name)?;
                    }
                }
                present.push(name.to_owned());
            }
            Label::Text(_) => {
                skip_value(&mut d, 2, true, WHAT)?;
                extended.push(key);
            }
        }
    }
    if d.position() != raw.len() {
        return Err(malformed(format!(
            "{} bytes after the protected header's map",
            raw.len() - d.position()
        )));
    }

    let crit = crit.unwrap_or_default();
    if let Some(missing) = crit.iter().find(|c| !seen.contains(c)) {
        return Err(invalid(format!(
            "critical header {missing} is not present in the protected header"
        )));
    }
    let critical = crit
        .iter()
        .filter_map(|c| match c {
            Label::Text(t) => Some((*t).to_owned()),
            Label::Int(_) => None,
        })
        .collect();
    let extended = extended
        .into_iter()
        .map(|key| ExtendedAttribute {
            name: match key {
                Label::Int(i) => i.to_string(),
                Label::Text(t) => t.to_owned(),
            },
            critical: crit.contains(&key),
        })
        .collect();

    Ok(Protected {
        algorithm: algorithm.ok_or_else(|| invalid("the protected header has no alg (1)"))?,
        scheme: scheme.ok_or_else(|| invalid(format!("missing {}", header::SIGNING_SCHEME)))?,
        content_type: content_type.ok_or_else(|| invalid("missing content type (3)"))?,
        signing_time,
        authentic_signing_time,
        expiry,
        critical,
        present,
        extended,
        iv,
        partial_iv,
    })
}

/// What the unprotected header says.
struct Unprotected<'b> {
    /// Every label, so the protected header can be checked disjoint.
    labels: Vec<Label<'b>>,
    certificates: Vec<Vec<u8>>,
    timestamp_token: Option<Vec<u8>>,
    signing_agent: Option<String>,
    iv: bool,
    partial_iv: bool,
}

/// Decodes the unprotected header, the message's second item: a map of at
/// most [`MAX_HEADERS`] labels, without tags.
fn parse_unprotected<'b>(d: &mut Decoder<'b>) -> Result<Unprotected<'b>, NotaryError> {
    const WHAT: &str = "unprotected header";
    let n = match peek(d, WHAT)? {
        Type::Map => container_len(d, true, WHAT)?,
        Type::MapIndef => return Err(indefinite(WHAT)),
        other => {
            return Err(malformed(format!(
                "the unprotected header must be a CBOR map, not {}",
                kind(other)
            )));
        }
    };
    if n > MAX_HEADERS as u64 {
        return Err(malformed(format!(
            "the unprotected header has {n} labels, more than {MAX_HEADERS}"
        )));
    }
    let mut out = Unprotected {
        labels: Vec::new(),
        certificates: Vec::new(),
        timestamp_token: None,
        signing_agent: None,
        iv: false,
        partial_iv: false,
    };
    for _ in 0..n {
        let key = read_label(d).map_err(|m| malformed(format!("{WHAT}: {m}")))?;
        if out.labels.contains(&key) {
            return Err(malformed(format!(
                "the unprotected header has the label {key} more than once"
            )));
        }
        out.labels.push(key);
        match key {
            Label::Int(label::X5CHAIN) => out.certificates = read_x5chain(d)?,
            Label::Int(other) => {
                check_generic(d, other, Bucket::Unprotected)?;
                out.iv |= other == label::IV;
                out.partial_iv |= other == label::PARTIAL_IV;
                skip_value(d, 3, false, WHAT)?;
            }
            Label::Text(header::TIMESTAMP_SIGNATURE) if peek(d, WHAT)? == Type::Bytes => {
                out.timestamp_token = Some(d.bytes().map_err(cbor(WHAT))?.to_vec());
            }
            Label::Text(header::SIGNING_AGENT) if peek(d, WHAT)? == Type::String => {
                out.signing_agent = Some(d.str().map_err(cbor(WHAT))?.to_owned());
            }
            Label::Text(_) => skip_value(d, 3, false, WHAT)?,
        }
    }
    Ok(out)
}

/// Reads `x5chain`: an array of 1 to [`MAX_CHAIN_LENGTH`] DER certificates,
/// leaf first, or one certificate as a bare byte string (RFC 9360).
fn read_x5chain(d: &mut Decoder<'_>) -> Result<Vec<Vec<u8>>, NotaryError> {
    const WHAT: &str = "x5chain (33)";
    match peek(d, WHAT)? {
        Type::Bytes => Ok(vec![d.bytes().map_err(cbor(WHAT))?.to_vec()]),
        Type::Array => {
            let n = container_len(d, false, WHAT)?;
            if n == 0 {
                return Err(malformed("x5chain (33) is an empty array"));
            }
            if n > MAX_CHAIN_LENGTH as u64 {
                return Err(malformed(format!(
                    "x5chain (33) has {n} certificates, more than {MAX_CHAIN_LENGTH}"
                )));
            }
            let mut certs = Vec::new();
            for i in 0..n {
                match peek(d, WHAT)? {
                    Type::Bytes => certs.push(d.bytes().map_err(cbor(WHAT))?.to_vec()),
                    Type::BytesIndef => return Err(indefinite(WHAT)),
                    other => {
                        return Err(malformed(format!(
                            "x5chain (33) item {i} must be a byte string, not {}",
                            kind(other)
                        )));
                    }
                }
            }
            Ok(certs)
        }
        Type::BytesIndef => Err(indefinite(WHAT)),
        Type::ArrayIndef => Err(indefinite(WHAT)),
        other => Err(malformed(format!(
            "x5chain (33) must be a byte string or an array of them, not {}",
            kind(other)
        ))),
    }
}

/// Which header map a label is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bucket {
    Protected,
    Unprotected,
}

/// go-cose's `validateHeaderParameters` type rules for the generic int
/// labels other than `alg`, `crit` and `content type` in the protected
/// header (which [`parse_protected`] reads itself). Looks at the value's
/// type without consuming it. A countersignature's structure is not
/// checked (go-cose decodes it; it is unsigned and nothing here reads it).
fn check_generic(d: &Decoder<'_>, l: i64, bucket: Bucket) -> Result<(), NotaryError> {
    let where_ = match bucket {
        Bucket::Protected => "protected",
        Bucket::Unprotected => "unprotected",
    };
    let ty = peek(d, "header value")?;
    let (name, ok) = match l {
        label::ALG => ("alg", is_int(ty) || ty == Type::String),
        label::CRIT => {
            return Err(invalid("crit (2) is not allowed in the unprotected header"));
        }
        label::CONTENT_TYPE => ("content type", is_uint(ty) || ty == Type::String),
        label::TYPE => ("type", is_uint(ty) || ty == Type::String),
        label::KID => ("kid", ty == Type::Bytes),
        label::IV => ("IV", ty == Type::Bytes),
        label::PARTIAL_IV => ("Partial IV", ty == Type::Bytes),
        label::COUNTER_SIGNATURE
        | label::COUNTER_SIGNATURE0
        | label::COUNTER_SIGNATURE_V2
        | label::COUNTER_SIGNATURE0_V2
            if bucket == Bucket::Protected =>
        {
            return Err(invalid(format!(
                "countersignature ({l}) is not allowed in the protected header"
            )));
        }
        label::COUNTER_SIGNATURE0 | label::COUNTER_SIGNATURE0_V2 => {
            ("countersignature0", ty == Type::Bytes)
        }
        _ => ("", true),
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "{where_} header {name} ({l}) cannot be {}",
            kind(ty)
        )))
    }
}

/// A header label: COSE allows ints and text strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label<'b> {
    Int(i64),
    Text(&'b str),
}

impl std::fmt::Display for Label<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Label::Int(i) => write!(f, "{i}"),
            Label::Text(t) => write!(f, "{t:?}"),
        }
    }
}

/// Reads a label (a map key or a `crit` item); the error is a message.
fn read_label<'b>(d: &mut Decoder<'b>) -> Result<Label<'b>, String> {
    let ty = d.datatype().map_err(|e| e.to_string())?;
    match ty {
        Type::String => d.str().map(Label::Text).map_err(|e| e.to_string()),
        Type::BigNegative => Err("an int label must fit in 64 bits".into()),
        t if is_int(t) => d
            .i64()
            .map(Label::Int)
            .map_err(|_| "an int label must fit in 64 bits".into()),
        Type::StringIndef => Err("indefinite-length text is not accepted".into()),
        other => Err(format!(
            "a label must be an int or a text string, not {}",
            kind(other)
        )),
    }
}

/// Reads `alg`, an int naming an algorithm Notary allows.
fn read_algorithm(d: &mut Decoder<'_>) -> Result<Algorithm, NotaryError> {
    match peek(d, "alg (1)")? {
        Type::String => Err(invalid(format!(
            "COSE signature algorithm {:?} is not supported",
            d.str().map_err(cbor("alg (1)"))?
        ))),
        Type::BigNegative => Err(invalid("COSE signature algorithm is out of range")),
        t if is_int(t) => Algorithm::from_cose(
            d.i64()
                .map_err(|_| invalid("COSE signature algorithm is out of range"))?,
        ),
        other => Err(invalid(format!(
            "alg (1) must be an int, not {}",
            kind(other)
        ))),
    }
}

/// Reads `crit`: a non-empty array of at most [`MAX_HEADERS`] labels.
fn read_crit<'b>(d: &mut Decoder<'b>) -> Result<Vec<Label<'b>>, NotaryError> {
    const WHAT: &str = "crit (2)";
    let n = match peek(d, WHAT)? {
        Type::Array => container_len(d, false, WHAT)?,
        Type::ArrayIndef => return Err(indefinite(WHAT)),
        other => {
            return Err(invalid(format!(
                "crit (2) must be an array of labels, not {}",
                kind(other)
            )));
        }
    };
    if n == 0 {
        return Err(invalid("crit (2) is empty"));
    }
    if n > MAX_HEADERS as u64 {
        return Err(invalid(format!(
            "crit (2) lists {n} labels, more than {MAX_HEADERS}"
        )));
    }
    let mut labels = Vec::new();
    for _ in 0..n {
        let label = read_label(d).map_err(|m| invalid(format!("crit (2): {m}")))?;
        if labels.contains(&label) {
            return Err(invalid(format!("crit (2) lists {label} more than once")));
        }
        labels.push(label);
    }
    Ok(labels)
}

/// Reads a header that must be a text string.
fn read_text<'b>(d: &mut Decoder<'b>, name: &str) -> Result<&'b str, NotaryError> {
    match peek(d, name)? {
        Type::String => d.str().map_err(cbor(name)),
        Type::StringIndef => Err(indefinite(name)),
        other => Err(invalid(format!(
            "header {name} must be a text string, not {}",
            kind(other)
        ))),
    }
}

/// Reads a time header: tag 1 around an integer, or around a float with no
/// fractional part (unix seconds).
fn read_time(d: &mut Decoder<'_>, name: &str) -> Result<i64, NotaryError> {
    let out_of_range = || invalid(format!("header {name}: the time is out of range"));
    if peek(d, name)? != Type::Tag {
        return Err(invalid(format!(
            "header {name}: the time value does not have a tag (tag 1 is required)"
        )));
    }
    let tag = d.tag().map_err(cbor(name))?;
    if tag != TAG_EPOCH_TIME {
        return Err(invalid(format!(
            "header {name}: only tag 1 (epoch-based date/time) is supported, not tag {tag}"
        )));
    }
    let seconds = match peek(d, name)? {
        Type::BigNegative => return Err(out_of_range()),
        t if is_int(t) => return d.i64().map_err(|_| out_of_range()),
        Type::F16 => half_to_f64(d.f16_bits().map_err(cbor(name))?),
        Type::F32 | Type::F64 => d.f64().map_err(cbor(name))?,
        other => {
            return Err(invalid(format!(
                "header {name}: tag 1 must hold a number, not {}",
                kind(other)
            )));
        }
    };
    // i64::MIN is -2^63 exactly; 2^63 is the first float past i64::MAX.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if !seconds.is_finite() || !(-LIMIT..LIMIT).contains(&seconds) {
        return Err(out_of_range());
    }
    if seconds.fract() != 0.0 {
        return Err(invalid(format!(
            "header {name}: fractional seconds ({seconds}) are not supported"
        )));
    }
    Ok(seconds as i64)
}

/// An IEEE 754 half-precision float's value.
fn half_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 == 0 { 1.0 } else { -1.0 };
    let exponent = i32::from((bits >> 10) & 0x1f);
    let mantissa = bits & 0x3ff;
    sign * match exponent {
        0 => f64::from(mantissa) * 2f64.powi(-24),
        31 if mantissa == 0 => f64::INFINITY,
        31 => f64::NAN,
        e => f64::from(1024 + mantissa) * 2f64.powi(e - 25),
    }
}

/// Skips one data item at nesting level `depth` (the level a container there
/// would occupy): definite lengths only, tags only when `tags`, no deeper than
/// [`MAX_NESTING`]. Recursion is bounded by that limit, and a count is
/// checked against the bytes left before any item is read.
fn skip_value(
    d: &mut Decoder<'_>,
    depth: usize,
    tags: bool,
    what: &str,
) -> Result<(), NotaryError> {
    let pos = d.position();
    let ty = peek(d, what)?;
    match ty {
        Type::Array | Type::Map | Type::Tag if depth > MAX_NESTING => Err(malformed(format!(
            "{what}: data nested deeper than {MAX_NESTING} levels at byte {pos}"
        ))),
        Type::Array | Type::Map => {
            let map = ty == Type::Map;
            let n = container_len(d, map, what)?;
            let items = if map { n.saturating_mul(2) } else { n };
            for _ in 0..items {
                skip_value(d, depth + 1, tags, what)?;
            }
            Ok(())
        }
        Type::Tag if !tags => Err(malformed(format!(
            "{what}: CBOR tags are not allowed outside the protected header (byte {pos})"
        ))),
        Type::Tag => {
            d.tag().map_err(cbor(what))?;
            skip_value(d, depth + 1, tags, what)
        }
        Type::BytesIndef | Type::StringIndef | Type::ArrayIndef | Type::MapIndef => {
            Err(indefinite(what))
        }
        Type::Break => Err(malformed(format!(
            "{what}: unexpected break (0xff) at byte {pos}"
        ))),
        Type::Unknown(b) => Err(malformed(format!(
            "{what}: byte {b:#04x} at {pos} does not start a CBOR data item"
        ))),
        // Scalars and definite byte and text strings: nothing nested.
        _ => d.skip_scalar().map_err(cbor(what)),
    }
}

/// Reads the head of a definite-length array or map, whose type the caller
/// has peeked, and returns its count, which cannot exceed what the bytes
/// left can hold (every item takes at least one byte).
fn container_len(d: &mut Decoder<'_>, map: bool, what: &str) -> Result<u64, NotaryError> {
    let pos = d.position();
    let head = if map { d.map() } else { d.array() };
    let Some(n) = head.map_err(cbor(what))? else {
        return Err(indefinite(what));
    };
    let items = if map { n.saturating_mul(2) } else { n };
    let left = d.input().len().saturating_sub(d.position());
    if items > left as u64 {
        return Err(malformed(format!(
            "{what}: the {} at byte {pos} claims {n} {}, more than the {left} bytes left can hold",
            if map { "map" } else { "array" },
            if map { "entries" } else { "items" },
        )));
    }
    Ok(n)
}

/// The type of the next item, or an error saying what was being read.
fn peek(d: &Decoder<'_>, what: &str) -> Result<Type, NotaryError> {
    d.datatype().map_err(cbor(what))
}

fn is_uint(ty: Type) -> bool {
    ty == Type::Unsigned
}

fn is_int(ty: Type) -> bool {
    matches!(ty, Type::Unsigned | Type::Negative | Type::BigNegative)
}

/// A CBOR type as messages name it.
fn kind(ty: Type) -> &'static str {
    match ty {
        Type::Bool => "a boolean",
        Type::Null => "null",
        Type::Undefined => "undefined",
        Type::Unsigned => "an unsigned int",
        Type::Negative | Type::BigNegative => "a negative int",
        Type::F16 | Type::F32 | Type::F64 => "a float",
        Type::Simple => "a simple value",
        Type::Bytes | Type::BytesIndef => "a byte string",
        Type::String | Type::StringIndef => "a text string",
        Type::Array | Type::ArrayIndef => "an array",
        Type::Map | Type::MapIndef => "a map",
        Type::Tag => "a tagged item",
        Type::Break => "a break",
        Type::Unknown(_) => "a reserved byte",
    }
}

fn cbor(what: &str) -> impl FnOnce(cbor::Error) -> NotaryError + '_ {
    move |e| malformed(format!("{what}: {e}"))
}

fn indefinite(what: &str) -> NotaryError {
    malformed(format!("{what}: indefinite-length items are not accepted"))
}

fn malformed(msg: impl Into<String>) -> NotaryError {
    NotaryError::Envelope(msg.into())
}

fn invalid(msg: impl Into<String>) -> NotaryError {
    NotaryError::Header(msg.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::HashAlgorithm;
    use crate::crypto::x509::Certificate;
    use crate::notary::envelope::PAYLOAD_CONTENT_TYPE;

    const SIMPLE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/vectors/notation-go/internal/testdata/cose_signature.sig"
    );
    const TIMESTAMPED: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/vectors/notation-go/verifier/testdata/timestamp/sigEnv/coseWithTimestamp.sig"
    );

    fn read(path: &str) -> Vec<u8> {
        std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn verifies(env: &Envelope) -> bool {
        let key = Certificate::from_der(&env.certificates[0])
            .unwrap()
            .public_key()
            .unwrap();
        key.verify_rsa_pss(
            HashAlgorithm::Sha256,
            Some(32),
            &env.signed_bytes,
            &env.signature,
        )
        .is_ok()
    }

    fn envelope_err(bytes: &[u8], needle: &str) {
        match parse(bytes) {
            Err(NotaryError::Envelope(m)) => assert!(m.contains(needle), "{m:?} lacks {needle:?}"),
            other => panic!("expected an Envelope error with {needle:?}, got {other:?}"),
        }
    }

    fn header_err(bytes: &[u8], needle: &str) {
        match parse(bytes) {
            Err(NotaryError::Header(m)) => assert!(m.contains(needle), "{m:?} lacks {needle:?}"),
            other => panic!("expected a Header error with {needle:?}, got {other:?}"),
        }
    }

    // A tiny CBOR writer, so tests control every byte (non-minimal heads too).
    fn head(major: u8, n: u64) -> Vec<u8> {
        let m = major << 5;
        match n {
            0..=23 => vec![m | n as u8],
            24..=0xff => vec![m | 24, n as u8],
            0x100..=0xffff => [&[m | 25][..], &(n as u16).to_be_bytes()].concat(),
            0x1_0000..=0xffff_ffff => [&[m | 26][..], &(n as u32).to_be_bytes()].concat(),
            _ => [&[m | 27][..], &n.to_be_bytes()].concat(),
        }
    }
    fn int(i: i64) -> Vec<u8> {
        if i >= 0 {
            head(0, i as u64)
        } else {
            head(1, (-1 - i) as u64)
        }
    }
    fn bstr(b: &[u8]) -> Vec<u8> {
        [head(2, b.len() as u64), b.to_vec()].concat()
    }
    fn tstr(s: &str) -> Vec<u8> {
        [head(3, s.len() as u64), s.as_bytes().to_vec()].concat()
    }
    fn array(items: &[Vec<u8>]) -> Vec<u8> {
        [head(4, items.len() as u64), items.concat()].concat()
    }
    fn map(entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
        let mut out = head(5, entries.len() as u64);
        for (k, v) in entries {
            out.extend_from_slice(k);
            out.extend_from_slice(v);
        }
        out
    }
    fn tag(t: u64, item: Vec<u8>) -> Vec<u8> {
        [head(6, t), item].concat()
    }

    type Entries = Vec<(Vec<u8>, Vec<u8>)>;

    fn base_protected() -> Entries {
        vec![
            (int(1), int(-37)),
            (int(2), array(&[tstr(header::SIGNING_SCHEME)])),
            (int(3), tstr(PAYLOAD_CONTENT_TYPE)),
            (tstr(header::SIGNING_SCHEME), tstr("notary.x509")),
            (tstr(header::SIGNING_TIME), tag(1, int(1678769122))),
        ]
    }

    fn base_unprotected() -> Entries {
        vec![(int(33), array(&[bstr(b"leaf"), bstr(b"root")]))]
    }

    /// `18([bstr(protected), unprotected, payload, signature])` from raw items.
    fn message(
        protected: Vec<u8>,
        unprotected: Vec<u8>,
        payload: Vec<u8>,
        sig: Vec<u8>,
    ) -> Vec<u8> {
        [vec![0xd2], array(&[protected, unprotected, payload, sig])].concat()
    }

    fn build(protected: &[(Vec<u8>, Vec<u8>)], unprotected: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
        message(
            bstr(&map(protected)),
            map(unprotected),
            bstr(b"{}"),
            bstr(b"sig"),
        )
    }

    fn with_protected(extra: (Vec<u8>, Vec<u8>)) -> Vec<u8> {
        let mut p = base_protected();
        p.push(extra);
        build(&p, &base_unprotected())
    }

    fn with_unprotected(extra: (Vec<u8>, Vec<u8>)) -> Vec<u8> {
        let mut u = base_unprotected();
        u.push(extra);
        build(&base_protected(), &u)
    }

    #[test]
    fn decodes_the_notation_vector_and_its_signature_verifies() {
        let env = parse(&read(SIMPLE)).unwrap();
        assert_eq!(env.format, EnvelopeFormat::Cose);
        assert_eq!(env.algorithm, Algorithm::Ps256);
        assert_eq!(env.scheme, SigningScheme::X509);
        assert_eq!(env.content_type, PAYLOAD_CONTENT_TYPE);
        assert_eq!(env.signing_time, Some(1678769122));
        assert_eq!(env.authentic_signing_time, None);
        assert_eq!(env.expiry, None);
        assert_eq!(env.critical, vec![header::SIGNING_SCHEME.to_owned()]);
        assert_eq!(
            env.present,
            vec![
                header::SIGNING_TIME.to_owned(),
                header::SIGNING_SCHEME.to_owned()
            ]
        );
        assert!(env.extended.is_empty());
        assert_eq!(env.certificates.len(), 1);
        assert_eq!(env.timestamp_token, None);
        let payload = String::from_utf8(env.payload.clone()).unwrap();
        assert!(
            payload.contains(
                "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0"
            )
        );
        assert!(payload.contains("\"size\":481"));
        let cert = Certificate::from_der(&env.certificates[0]).unwrap();
        assert!(format!("{:?}", cert).contains("alpine"));
        assert!(verifies(&env));
    }

    #[test]
    fn decodes_the_timestamped_vector() {
        let env = parse(&read(TIMESTAMPED)).unwrap();
        assert_eq!(env.algorithm, Algorithm::Ps256);
        assert_eq!(env.signing_time, Some(1718692031));
        assert_eq!(env.signing_agent.as_deref(), Some("Notation/1.0.0"));
        let token = env.timestamp_token.as_deref().unwrap();
        assert_eq!(token.first(), Some(&0x30), "a DER SEQUENCE");
        assert!(!env.certificates.is_empty());
        assert!(
            String::from_utf8_lossy(&env.payload).contains(
                "sha256:c0669ef34cdc14332c0f1ab0c2c01acb91d96014b172f1a76f3a39e63d1f0bda"
            )
        );
        assert!(verifies(&env));
    }

    #[test]
    fn envelope_parse_accepts_both_vectors() {
        for path in [SIMPLE, TIMESTAMPED] {
            let env = Envelope::parse(EnvelopeFormat::Cose, &read(path));
            assert!(env.is_ok(), "{path}: {env:?}");
        }
    }

    #[test]
    fn signed_bytes_are_the_sig_structure_over_the_raw_protected_bytes() {
        let bytes = read(SIMPLE);
        let env = parse(&bytes).unwrap();
        // bytes: d2 84 58 9e <158 protected bytes> ...
        let protected = &bytes[2..2 + 2 + 0x9e];
        let expected = [
            &[0x84, 0x6a][..],
            b"Signature1",
            protected,
            &[0x40],
            &bstr(&env.payload),
        ]
        .concat();
        assert_eq!(env.signed_bytes, expected);
    }

    #[test]
    fn a_non_minimal_protected_head_is_signed_in_its_shortest_form() {
        let content = map(&base_protected());
        let long_head = [&[0x5a][..], &(content.len() as u32).to_be_bytes(), &content].concat();
        let bytes = message(
            long_head,
            map(&base_unprotected()),
            bstr(b"{}"),
            bstr(b"sig"),
        );
        let env = parse(&bytes).unwrap();
        let expected = array(&[tstr("Signature1"), bstr(&content), bstr(b""), bstr(b"{}")]);
        assert_eq!(env.signed_bytes, expected);
    }

    #[test]
    fn a_changed_protected_header_breaks_the_signature() {
        let mut bytes = read(SIMPLE);
        // The signing time: c1 1a 64 0f fb e2.
        let at = bytes
            .windows(6)
            .position(|w| w == [0xc1, 0x1a, 0x64, 0x0f, 0xfb, 0xe2])
            .unwrap();
        bytes[at + 5] ^= 0x01;
        let env = parse(&bytes).unwrap();
        assert_eq!(env.signing_time, Some(1678769123));
        assert!(!verifies(&env));
    }

    #[test]
    fn every_truncation_is_refused() {
        let bytes = read(TIMESTAMPED);
        envelope_err(&[], "empty");
        for len in 1..bytes.len() {
            match parse(&bytes[..len]) {
                Err(NotaryError::Envelope(_)) => {}
                other => panic!("{len} bytes: {other:?}"),
            }
        }
        envelope_err(&bytes[..bytes.len() - 1], "truncated");
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let mut bytes = read(SIMPLE);
        bytes.push(0x00);
        envelope_err(&bytes, "1 trailing bytes");
        // Bytes after the map inside the protected bstr.
        let content = [map(&base_protected()), vec![0x00]].concat();
        let bytes = message(
            bstr(&content),
            map(&base_unprotected()),
            bstr(b"{}"),
            bstr(b"s"),
        );
        envelope_err(&bytes, "after the protected header's map");
    }

    #[test]
    fn only_cose_sign1_tagged_is_accepted() {
        let bytes = read(SIMPLE);
        let mut other_tag = bytes.clone();
        other_tag[0] = 0xd1;
        envelope_err(&other_tag, "expected CBOR tag 18");
        envelope_err(&bytes[1..], "untagged COSE_Sign1 is not accepted");
        // Tag 18 in a two-byte head: go-cose's prefix check refuses it too.
        let long_tag = [&[0xd8, 0x12][..], &bytes[1..]].concat();
        envelope_err(&long_tag, "expected CBOR tag 18");
    }

    #[test]
    fn the_body_must_be_an_array_of_four() {
        envelope_err(&[0xd2, 0xa0], "array of 4");
        envelope_err(&[0xd2, 0x43, 1, 2, 3], "array of 4");
        let three = [
            vec![0xd2],
            array(&[bstr(&map(&base_protected())), map(&[]), bstr(b"")]),
        ]
        .concat();
        envelope_err(&three, "array of 4");
        let mut five = build(&base_protected(), &base_unprotected());
        five[1] = 0x85;
        envelope_err(&five, "array of 4");
    }

    #[test]
    fn lengths_beyond_the_input_are_refused() {
        // A protected bstr claiming 2^64-1 bytes.
        envelope_err(
            &[
                0xd2, 0x84, 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            ],
            "protected header",
        );
        // An unprotected map claiming 2^32 entries.
        let mut bytes = vec![0xd2, 0x84];
        bytes.extend(bstr(&map(&base_protected())));
        bytes.extend([0xba, 0xff, 0xff, 0xff, 0xff, 0x00]);
        envelope_err(&bytes, "claims 4294967295 entries");
        // An array inside an unprotected value claiming 2^63 items.
        let huge = [&[0x9b][..], &(1u64 << 63).to_be_bytes()].concat();
        envelope_err(
            &with_unprotected((tstr("x"), huge)),
            "claims 9223372036854775808 items",
        );
        // A certificate claiming more bytes than there are.
        let cert = [&[0x5a][..], &u32::MAX.to_be_bytes()].concat();
        let bytes = [
            vec![0xd2, 0x84],
            bstr(&map(&base_protected())),
            vec![0xa1, 0x18, 0x21, 0x81],
            cert,
        ]
        .concat();
        envelope_err(&bytes, "x5chain (33): the input ends early");
    }

    #[test]
    fn deep_nesting_is_refused_without_exhausting_the_stack() {
        let deep = |open: u8, n: usize, leaf: &[u8]| [vec![open; n], leaf.to_vec()].concat();
        envelope_err(
            &with_unprotected((tstr("x"), deep(0x81, 10_000, &[0x00]))),
            "nested deeper than 32",
        );
        envelope_err(
            &with_unprotected((tstr("x"), deep(0x9f, 10_000, &[0x00]))),
            "indefinite-length",
        );
        envelope_err(
            &with_unprotected((tstr("x"), deep(0xc1, 10_000, &[0x00]))),
            "tags are not allowed",
        );
        let maps = [0xa1u8, 0x00].repeat(10_000);
        envelope_err(
            &with_unprotected((tstr("x"), [maps, vec![0x00]].concat())),
            "nested deeper than 32",
        );
        envelope_err(
            &with_protected((tstr("x"), deep(0xc1, 10_000, &[0x00]))),
            "nested deeper than 32",
        );
        envelope_err(
            &with_protected((tstr("x"), deep(0x81, 10_000, &[0x00]))),
            "nested deeper than 32",
        );
        // An unprotected value sits at level 3: 30 arrays reach level 32.
        assert!(parse(&with_unprotected((tstr("x"), deep(0x81, 30, &[0x00])))).is_ok());
        envelope_err(
            &with_unprotected((tstr("x"), deep(0x81, 31, &[0x00]))),
            "nested deeper",
        );
        // A protected value sits at level 2.
        assert!(parse(&with_protected((tstr("x"), deep(0x81, 31, &[0x00])))).is_ok());
        envelope_err(
            &with_protected((tstr("x"), deep(0x81, 32, &[0x00]))),
            "nested deeper",
        );
    }

    #[test]
    fn duplicate_labels_are_refused() {
        envelope_err(
            &with_protected((int(1), int(-37))),
            "label 1 more than once",
        );
        envelope_err(
            &with_protected((tstr(header::SIGNING_SCHEME), tstr("notary.x509"))),
            "label \"io.cncf.notary.signingScheme\" more than once",
        );
        // 0x18 0x01 is 1 in a longer head: still label 1.
        envelope_err(
            &with_protected((vec![0x18, 0x01], int(-37))),
            "label 1 more than once",
        );
        envelope_err(
            &with_unprotected((int(33), bstr(b"x"))),
            "unprotected header has the label 33 more than once",
        );
        // The int 1 and the text "1" are different labels.
        let env = parse(&with_protected((tstr("1"), int(0)))).unwrap();
        assert_eq!(
            env.extended,
            vec![ExtendedAttribute {
                name: "1".into(),
                critical: false
            }]
        );
    }

    #[test]
    fn a_label_in_both_buckets_is_refused() {
        // RFC 9052 section 3: the protected and unprotected buckets are disjoint.
        envelope_err(
            &with_unprotected((int(1), int(-7))),
            "label 1 is in both the protected and the unprotected header",
        );
        envelope_err(
            &with_unprotected((tstr(header::SIGNING_SCHEME), tstr("notary.x509"))),
            "is in both the protected and the unprotected header",
        );
    }

    #[test]
    fn crit_lists_each_label_once() {
        let mut p = base_protected();
        p[1] = (
            int(2),
            array(&[tstr(header::SIGNING_SCHEME), tstr(header::SIGNING_SCHEME)]),
        );
        header_err(&build(&p, &base_unprotected()), "more than once");
    }

    #[test]
    fn a_two_byte_simple_value_below_32_is_not_well_formed() {
        let bad = with_unprotected((tstr("x"), vec![0xf8, 0x14]));
        assert!(
            matches!(parse(&bad), Err(NotaryError::Envelope(_))),
            "{:?}",
            parse(&bad)
        );
        // 0xf8 0x20 is simple value 32: well-formed, skipped.
        parse(&with_unprotected((tstr("x"), vec![0xf8, 0x20]))).unwrap();
    }

    #[test]
    fn labels_must_be_ints_or_text() {
        envelope_err(
            &with_protected((bstr(b"k"), int(0))),
            "must be an int or a text string",
        );
        envelope_err(
            &with_unprotected((array(&[]), int(0))),
            "must be an int or a text string",
        );
        envelope_err(
            &with_protected((head(0, u64::MAX), int(0))),
            "fit in 64 bits",
        );
    }

    #[test]
    fn too_many_headers_are_refused() {
        let mut p = base_protected();
        for i in 0..60 {
            p.push((tstr(&format!("x{i}")), int(0)));
        }
        envelope_err(&build(&p, &base_unprotected()), "more than 64");
        let mut u = base_unprotected();
        for i in 0..64 {
            u.push((tstr(&format!("x{i}")), int(0)));
        }
        envelope_err(&build(&base_protected(), &u), "more than 64");
    }

    #[test]
    fn the_protected_header_must_hold_the_notary_headers() {
        let without = |label: Vec<u8>| {
            let p: Entries = base_protected()
                .into_iter()
                .filter(|(k, _)| *k != label)
                .collect();
            build(&p, &base_unprotected())
        };
        header_err(&without(int(1)), "no alg");
        header_err(&without(int(3)), "missing content type");
        let p: Entries = base_protected()
            .into_iter()
            .filter(|(k, _)| *k != tstr(header::SIGNING_SCHEME) && *k != int(2))
            .collect();
        header_err(
            &build(&p, &base_unprotected()),
            "missing io.cncf.notary.signingScheme",
        );
        let empty = message(bstr(b""), map(&base_unprotected()), bstr(b"{}"), bstr(b"s"));
        header_err(&empty, "protected header is empty");
        let not_map = message(
            bstr(&array(&[])),
            map(&base_unprotected()),
            bstr(b"{}"),
            bstr(b"s"),
        );
        envelope_err(&not_map, "must be a CBOR map");
        let nil = message(
            vec![0xf6],
            map(&base_unprotected()),
            bstr(b"{}"),
            bstr(b"s"),
        );
        envelope_err(&nil, "protected header is nil");
    }

    #[test]
    fn protected_values_have_their_types() {
        let replace = |label: Vec<u8>, value: Vec<u8>| {
            let p: Entries = base_protected()
                .into_iter()
                .map(|(k, v)| {
                    if k == label {
                        (k, value.clone())
                    } else {
                        (k, v)
                    }
                })
                .collect();
            build(&p, &base_unprotected())
        };
        header_err(
            &replace(int(1), int(-257)),
            "COSE signature algorithm -257 is not supported",
        );
        header_err(
            &replace(int(1), tstr("PS256")),
            "\"PS256\" is not supported",
        );
        header_err(&replace(int(1), bstr(b"")), "alg (1) must be an int");
        header_err(
            &replace(int(3), int(50)),
            "content type (3) must be a text string",
        );
        header_err(
            &replace(tstr(header::SIGNING_SCHEME), tstr("notary.x509.v2")),
            "not supported",
        );
        header_err(
            &replace(tstr(header::SIGNING_SCHEME), int(1)),
            "must be a text string",
        );
        let es384 = parse(&replace(int(1), int(-35))).unwrap();
        assert_eq!(es384.algorithm, Algorithm::Es384);
    }

    #[test]
    fn times_are_tag_1_whole_seconds() {
        let time = |value: Vec<u8>| {
            let p: Entries = base_protected()
                .into_iter()
                .map(|(k, v)| {
                    if k == tstr(header::SIGNING_TIME) {
                        (k, value.clone())
                    } else {
                        (k, v)
                    }
                })
                .collect();
            parse(&build(&p, &base_unprotected()))
        };
        let f64_time = [&[0xfb][..], &1678769122.0f64.to_be_bytes()].concat();
        assert_eq!(
            time(tag(1, f64_time)).unwrap().signing_time,
            Some(1678769122)
        );
        let f32_time = [&[0xfa][..], &16777216.0f32.to_be_bytes()].concat();
        assert_eq!(time(tag(1, f32_time)).unwrap().signing_time, Some(16777216));
        assert_eq!(
            time(tag(1, vec![0xf9, 0x3c, 0x00])).unwrap().signing_time,
            Some(1)
        );
        assert_eq!(time(tag(1, int(-1))).unwrap().signing_time, Some(-1));

        let err = |r: Result<Envelope, NotaryError>, needle: &str| match r {
            Err(NotaryError::Header(m)) => assert!(m.contains(needle), "{m:?} lacks {needle:?}"),
            other => panic!("expected a Header error with {needle:?}, got {other:?}"),
        };
        err(time(int(1678769122)), "does not have a tag");
        err(time(tag(0, tstr("2023-03-14T04:45:22Z"))), "not tag 0");
        err(time(tag(1, tstr("1678769122"))), "must hold a number");
        err(time(tag(1, tag(1, int(0)))), "must hold a number");
        let half_second = [&[0xfb][..], &1678769122.5f64.to_be_bytes()].concat();
        err(time(tag(1, half_second)), "fractional seconds");
        err(time(tag(1, vec![0xf9, 0x7e, 0x00])), "out of range");
        err(
            time(tag(1, [&[0xfb][..], &1e19f64.to_be_bytes()].concat())),
            "out of range",
        );
        err(time(tag(1, head(0, u64::MAX))), "out of range");
    }

    #[test]
    fn crit_lists_labels_that_are_present() {
        let crit = |labels: &[Vec<u8>], extra: Entries| {
            let mut p: Entries = base_protected()
                .into_iter()
                .map(|(k, v)| {
                    if k == int(2) {
                        (k, array(labels))
                    } else {
                        (k, v)
                    }
                })
                .collect();
            p.extend(extra);
            parse(&build(&p, &base_unprotected()))
        };
        let scheme = tstr(header::SIGNING_SCHEME);
        match crit(&[scheme.clone(), tstr("io.example.absent")], vec![]) {
            Err(NotaryError::Header(m)) => {
                assert!(m.contains("\"io.example.absent\" is not present"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        match crit(&[scheme.clone(), int(4)], vec![]) {
            Err(NotaryError::Header(m)) => {
                assert!(m.contains("critical header 4 is not present"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        match crit(&[], vec![]) {
            Err(NotaryError::Header(m)) => assert!(m.contains("crit (2) is empty"), "{m}"),
            other => panic!("{other:?}"),
        }
        match crit(&[scheme.clone(), bstr(b"x")], vec![]) {
            Err(NotaryError::Header(m)) => assert!(m.contains("int or a text string"), "{m}"),
            other => panic!("{other:?}"),
        }
        // An int label present and critical: an extended attribute named "4".
        let env = crit(
            &[scheme.clone(), int(4), tstr("io.example.crit")],
            vec![
                (int(4), bstr(b"key id")),
                (tstr("io.example.crit"), map(&[(int(1), tag(42, int(2)))])),
                (tstr("io.example.plain"), int(7)),
            ],
        )
        .unwrap();
        assert_eq!(
            env.critical,
            vec![
                header::SIGNING_SCHEME.to_owned(),
                "io.example.crit".to_owned()
            ]
        );
        assert_eq!(
            env.extended,
            vec![
                ExtendedAttribute {
                    name: "4".into(),
                    critical: true
                },
                ExtendedAttribute {
                    name: "io.example.crit".into(),
                    critical: true
                },
                ExtendedAttribute {
                    name: "io.example.plain".into(),
                    critical: false
                },
            ]
        );
        // Labels 1..3 may be listed; they are not extended attributes.
        let env = crit(&[scheme, int(1)], vec![]).unwrap();
        assert!(env.extended.is_empty());
        assert_eq!(env.critical, vec![header::SIGNING_SCHEME.to_owned()]);
    }

    #[test]
    fn notary_headers_are_recorded_as_present() {
        let mut p = base_protected();
        p.push((tstr(header::EXPIRY), tag(1, int(1678769200))));
        p.push((
            tstr(header::VERIFICATION_PLUGIN),
            tstr("com.example.plugin"),
        ));
        p.push((tstr(header::VERIFICATION_PLUGIN_MIN_VERSION), tstr("1.0.0")));
        let env = parse(&build(&p, &base_unprotected())).unwrap();
        assert_eq!(env.expiry, Some(1678769200));
        for h in [header::SIGNING_SCHEME, header::SIGNING_TIME, header::EXPIRY] {
            assert!(env.present.iter().any(|p| p == h), "{h}");
        }
        // The plugin headers are extended attributes, as in notation-core-go.
        for h in [
            header::VERIFICATION_PLUGIN,
            header::VERIFICATION_PLUGIN_MIN_VERSION,
        ] {
            assert!(env.extended.iter().any(|e| e.name == h), "{h}");
        }
    }

    #[test]
    fn payload_and_signature_rules() {
        let p = bstr(&map(&base_protected()));
        let u = map(&base_unprotected());
        envelope_err(
            &message(p.clone(), u.clone(), vec![0xf6], bstr(b"s")),
            "detached payloads are not supported",
        );
        envelope_err(
            &message(p.clone(), u.clone(), tstr("{}"), bstr(b"s")),
            "payload must be a byte string",
        );
        envelope_err(
            &message(p.clone(), u.clone(), bstr(b"{}"), bstr(b"")),
            "signature is empty",
        );
        envelope_err(
            &message(p.clone(), u.clone(), bstr(b"{}"), vec![0xf6]),
            "signature is missing",
        );
        envelope_err(
            &message(
                p.clone(),
                u.clone(),
                vec![0x5f, 0x41, 0x00, 0xff],
                bstr(b"s"),
            ),
            "indefinite-length",
        );
        envelope_err(
            &message(p, array(&[]), bstr(b"{}"), bstr(b"s")),
            "unprotected header must be a CBOR map",
        );
        // An empty payload is not a nil one.
        let env = parse(&message(
            bstr(&map(&base_protected())),
            map(&base_unprotected()),
            bstr(b""),
            bstr(b"s"),
        ))
        .unwrap();
        assert!(env.payload.is_empty());
    }

    #[test]
    fn x5chain_forms() {
        let chain = |value: Vec<u8>| build(&base_protected(), &[(int(33), value)]);
        let env = parse(&chain(bstr(b"only"))).unwrap();
        assert_eq!(env.certificates, vec![b"only".to_vec()]);
        let env = parse(&chain(array(&[bstr(b"leaf"), bstr(b"ca")]))).unwrap();
        assert_eq!(env.certificates, vec![b"leaf".to_vec(), b"ca".to_vec()]);
        envelope_err(&chain(array(&[])), "empty array");
        envelope_err(
            &chain(array(&vec![bstr(b"c"); 11])),
            "11 certificates, more than 10",
        );
        envelope_err(
            &chain(array(&[bstr(b"leaf"), tstr("ca")])),
            "item 1 must be a byte string",
        );
        envelope_err(&chain(int(0)), "must be a byte string or an array");
        // No chain: decoded, and the header rules refuse it.
        let none = build(&base_protected(), &[]);
        assert!(parse(&none).unwrap().certificates.is_empty());
        match Envelope::parse(EnvelopeFormat::Cose, &none) {
            Err(NotaryError::Header(m)) => assert!(m.contains("no certificate chain"), "{m}"),
            other => panic!("{other:?}"),
        }
        // x5chain in the protected header is an extended attribute, not the
        // chain (and with a chain in the unprotected header, a label in both).
        let env = parse(&build(
            &[base_protected(), vec![(int(33), bstr(b"cert"))]].concat(),
            &[],
        ))
        .unwrap();
        assert!(env.certificates.is_empty());
        envelope_err(
            &with_protected((int(33), bstr(b"cert"))),
            "label 33 is in both",
        );
        assert_eq!(
            env.extended,
            vec![ExtendedAttribute {
                name: "33".into(),
                critical: false
            }]
        );
    }

    #[test]
    fn unprotected_header_rules() {
        header_err(
            &with_unprotected((int(2), array(&[int(1)]))),
            "not allowed in the unprotected header",
        );
        header_err(
            &with_unprotected((int(4), tstr("kid"))),
            "kid (4) cannot be a text string",
        );
        header_err(
            &with_protected((int(9), bstr(b"cs0"))),
            "not allowed in the protected header",
        );
        let mut p = base_protected();
        p.push((int(5), bstr(b"iv")));
        header_err(
            &build(&p, &[(int(33), bstr(b"c")), (int(6), bstr(b"piv"))]),
            "IV and Partial IV",
        );
        envelope_err(
            &with_unprotected((tstr("x"), tag(1, int(0)))),
            "tags are not allowed",
        );
        // Unprotected values of the wrong type are ignored, as notation-core-go does.
        let u = vec![
            (int(33), bstr(b"c")),
            (tstr(header::TIMESTAMP_SIGNATURE), tstr("not bytes")),
            (tstr(header::SIGNING_AGENT), int(1)),
            (int(99), map(&[(tstr("a"), array(&[int(1), int(2)]))])),
        ];
        let env = parse(&build(&base_protected(), &u)).unwrap();
        assert_eq!(env.timestamp_token, None);
        assert_eq!(env.signing_agent, None);
    }

    #[test]
    fn corrupted_vectors_never_panic() {
        for path in [SIMPLE, TIMESTAMPED] {
            let bytes = read(path);
            for i in 0..bytes.len() {
                for v in [
                    0x00, 0x1b, 0x5b, 0x7f, 0x9b, 0x9f, 0xbb, 0xbf, 0xdb, 0xf9, 0xff,
                ] {
                    let mut b = bytes.clone();
                    b[i] = v;
                    let _ = parse(&b);
                }
                let mut b = bytes.clone();
                b[i] ^= 0x01;
                let _ = parse(&b);
            }
        }
    }
}
