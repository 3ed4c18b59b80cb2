//! `x509_decode`: a PEM certificate or certificate request as Kyverno
//! returns it, Go's `x509.Certificate` (or `CertificateRequest`) marshalled
//! to JSON and read back: byte slices are base64 strings, nil slices are
//! null, every number is a float64. Certificates are parsed as Go's
//! `crypto/x509` parses them, with its error messages.
//!
//! The DER primitives come from the `der` crate: element lengths, INTEGER,
//! BOOLEAN and BIT STRING contents (its DER rules are those of Go's
//! `cryptobyte`). The structure is walked by hand, because `x509-cert` and
//! `spki` cannot reproduce Go's output:
//!
//! - they sort each multi-valued RDN into DER order on decoding, where Go
//!   keeps (and `Names` shows) the encoded order;
//! - `const-oid` refuses OIDs over 39 bytes and `2.x` arcs past `2.39`, which
//!   Go reads (and shows, in `Extensions`, `Names`, `Policies`);
//! - validity times are strict DER there, and no earlier than 1970, where Go
//!   also reads years from 1950, UTCTime without seconds and `±hhmm`
//!   offsets; serial numbers are capped at 21 bytes, where Go reads any
//!   length (this engine: up to `MAX_SERIAL_BYTES`);
//! - `ANY` values (algorithm parameters, attribute values) go through `der`'s
//!   tag decoding, which refuses unknown universal tags that Go reads;
//! - Go reads extensions leniently (trailing data ignored, unknown name forms
//!   skipped undecoded) and names the field that failed in its errors.
//!
//! The strings (`parseASN1String`: Go's PrintableString takes `*` and `&`,
//! T61String is Latin-1), times and OIDs are Go's rules, by hand too.

use der::asn1::{BitStringRef, IntRef};
use der::{Decode as _, DecodeValue, FixedTag, Header, Length, Reader as _, SliceReader};
use jmespath::Rcvar;
use serde_json::Value;
use std::collections::BTreeMap;

use super::numbers::json_number;
use super::strings::b64_encode;
use super::time::{GoTime, days_from_civil, go_parse};
use super::url::{unescape_host, url_escape, url_unescape};
use super::{arg_str, hex, json_to_var, lossy};

/// Largest RSA modulus decoded (bits).
const MAX_RSA_BITS: usize = 16_384;

/// Largest serial number decoded (bytes; RFC 5280 allows 20).
const MAX_SERIAL_BYTES: usize = 64;

/// A DER reader (cryptobyte's `String`): definite, minimal lengths.
#[derive(Clone, Copy)]
struct Der<'a>(&'a [u8]);

const TAG_BOOLEAN: u8 = 0x01;
const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_OID: u8 = 0x06;
const TAG_UTF8: u8 = 0x0c;
const TAG_NUMERIC: u8 = 0x12;
const TAG_PRINTABLE: u8 = 0x13;
const TAG_T61: u8 = 0x14;
const TAG_IA5: u8 = 0x16;
const TAG_UTC_TIME: u8 = 0x17;
const TAG_GENERALIZED_TIME: u8 = 0x18;
const TAG_BMP: u8 = 0x1e;
const TAG_SEQUENCE: u8 = 0x30;
const TAG_SET: u8 = 0x31;

/// Context-specific tag `n`, primitive.
const fn ctx(n: u8) -> u8 {
    0x80 | n
}

/// Context-specific tag `n`, constructed.
const fn ctx_cons(n: u8) -> u8 {
    0xa0 | n
}

impl<'a> Der<'a> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn peek(&self, tag: u8) -> bool {
        self.0.first() == Some(&tag)
    }

    /// One element: (tag, contents, the whole element).
    fn read_any(&mut self) -> Option<(u8, &'a [u8], &'a [u8])> {
        let (&tag, rest) = self.0.split_first()?;
        // The identifier octet is cryptobyte's rule, not der's: any
        // one-octet tag (der refuses unknown universal ones, such as 0x07 or
        // a constructed string, which Go reads or skips) and no multi-octet
        // tag numbers (which der reads and Go refuses).
        if tag & 0x1f == 0x1f {
            return None;
        }
        let mut reader = SliceReader::new(rest).ok()?;
        let length = Length::decode(&mut reader).ok()?;
        let contents = reader.read_slice(length).ok()?;
        let end = self.0.len() - usize::try_from(reader.remaining_len()).ok()?;
        let (whole, after) = self.0.split_at(end);
        self.0 = after;
        Some((tag, contents, whole))
    }

    /// The contents of an element with this tag.
    fn read(&mut self, tag: u8) -> Option<Der<'a>> {
        self.read_bytes(tag).map(Der)
    }

    fn read_bytes(&mut self, tag: u8) -> Option<&'a [u8]> {
        self.read_tagged(tag).map(|(contents, _)| contents)
    }

    /// A whole element (tag and length included) with this tag.
    fn read_element(&mut self, tag: u8) -> Option<&'a [u8]> {
        self.read_tagged(tag).map(|(_, whole)| whole)
    }

    /// The next element's contents and whole encoding when it has this tag;
    /// nothing is consumed otherwise.
    fn read_tagged(&mut self, tag: u8) -> Option<(&'a [u8], &'a [u8])> {
        let mut copy = *self;
        let (t, contents, whole) = copy.read_any()?;
        if t != tag {
            return None;
        }
        *self = copy;
        Some((contents, whole))
    }

    /// `ReadOptionalASN1`: `Some(None)` when absent, `None` when malformed.
    fn read_optional(&mut self, tag: u8) -> Option<Option<Der<'a>>> {
        if self.peek(tag) {
            self.read(tag).map(Some)
        } else {
            Some(None)
        }
    }

    /// `ReadASN1Integer` into an int64 (minimal encoding).
    fn read_i64(&mut self) -> Option<i64> {
        self.read_i64_with_tag(TAG_INTEGER)
    }

    fn read_i64_with_tag(&mut self, tag: u8) -> Option<i64> {
        let mut copy = *self;
        let value = decode_value(copy.read_bytes(tag)?)?;
        *self = copy;
        Some(value)
    }

    /// `ReadASN1Integer` into a big integer: the two's complement bytes.
    fn read_big_integer(&mut self) -> Option<&'a [u8]> {
        let mut copy = *self;
        let bytes = copy.read_bytes(TAG_INTEGER)?;
        decode_value::<IntRef<'_>>(bytes)?;
        *self = copy;
        Some(bytes)
    }

    fn read_boolean(&mut self) -> Option<bool> {
        let mut copy = *self;
        let value = decode_value(copy.read_bytes(TAG_BOOLEAN)?)?;
        *self = copy;
        Some(value)
    }

    /// `ReadASN1BitString`: (bytes, bit length).
    fn read_bit_string(&mut self) -> Option<(&'a [u8], usize)> {
        let mut copy = *self;
        let bits: BitStringRef<'a> = decode_value(copy.read_bytes(TAG_BIT_STRING)?)?;
        let bytes = bits.raw_bytes();
        // cryptobyte also wants the unused bits zero; der does not look.
        let unused = (1u8 << bits.unused_bits()) - 1;
        if bytes.last().is_some_and(|&last| last & unused != 0) {
            return None;
        }
        *self = copy;
        Some((bytes, bits.bit_len()))
    }

    /// `ReadASN1ObjectIdentifier` (arcs below 2^31).
    fn read_oid(&mut self) -> Option<Vec<u64>> {
        let mut copy = *self;
        let oid = parse_oid(copy.read_bytes(TAG_OID)?, 31)?;
        *self = copy;
        Some(oid)
    }
}

/// The contents of a primitive element decoded as `T`, with der's DER rules
/// (the tag was checked by the caller).
fn decode_value<'a, T>(contents: &'a [u8]) -> Option<T>
where
    T: DecodeValue<'a, Error = der::Error> + FixedTag,
{
    let header = Header::new(T::TAG, Length::try_from(contents.len()).ok()?);
    let mut reader = SliceReader::new(contents).ok()?;
    let value = T::decode_value(&mut reader, header).ok()?;
    reader.finish().ok()?;
    Some(value)
}

/// The arcs of an OID, each below `2^bits`. By hand: `const-oid` caps OIDs
/// at 39 bytes and 32-bit arcs, and reads `2.x` only up to `2.39`; Go reads
/// any length, and `x509.OID` (policies) any arc.
fn parse_oid(der: &[u8], bits: u32) -> Option<Vec<u64>> {
    let mut arcs = Vec::new();
    let mut rest = der;
    let mut first = true;
    if der.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let mut v: u64 = 0;
        let mut i = 0;
        loop {
            let b = *rest.get(i)?;
            if i == 0 && b == 0x80 {
                return None;
            }
            if v >= 1 << (bits - 7) {
                return None;
            }
            v = (v << 7) | u64::from(b & 0x7f);
            i += 1;
            if b & 0x80 == 0 {
                break;
            }
        }
        rest = &rest[i..];
        if first {
            if v < 80 {
                arcs.push(v / 40);
                arcs.push(v % 40);
            } else {
                arcs.push(2);
                arcs.push(v - 80);
            }
            first = false;
        } else {
            arcs.push(v);
        }
    }
    Some(arcs)
}

fn oid_is(oid: &[u64], arcs: &[u64]) -> bool {
    oid == arcs
}

fn oid_string(oid: &[u64]) -> String {
    oid.iter().map(u64::to_string).collect::<Vec<_>>().join(".")
}

/// An OID as Go's `x509.OID` marshals it (dotted text), any arc size.
fn oid_text(der: &[u8]) -> Option<String> {
    parse_oid(der, 64).map(|arcs| oid_string(&arcs))
}

fn oid_json(oid: &[u64]) -> Value {
    Value::Array(oid.iter().map(|&a| Value::from(a as f64)).collect())
}

fn b64_json(bytes: &[u8]) -> Value {
    Value::String(b64_encode(bytes))
}

fn opt_b64_json(bytes: Option<&[u8]>) -> Value {
    bytes.map_or(Value::Null, b64_json)
}

fn strings_json(items: &[String]) -> Value {
    if items.is_empty() {
        Value::Null
    } else {
        Value::Array(items.iter().map(|s| Value::String(s.clone())).collect())
    }
}

fn list_json(items: Vec<Value>) -> Value {
    if items.is_empty() {
        Value::Null
    } else {
        Value::Array(items)
    }
}

/// The decimal digits of a non-negative big-endian integer.
fn big_decimal(bytes: &[u8]) -> String {
    // Little-endian limbs of 10^9.
    let mut limbs: Vec<u32> = Vec::new();
    for &byte in bytes {
        let mut carry = u64::from(byte);
        for limb in limbs.iter_mut() {
            let v = u64::from(*limb) * 256 + carry;
            *limb = (v % 1_000_000_000) as u32;
            carry = v / 1_000_000_000;
        }
        while carry > 0 {
            limbs.push((carry % 1_000_000_000) as u32);
            carry /= 1_000_000_000;
        }
    }
    let Some((last, rest)) = limbs.split_last() else {
        return "0".to_string();
    };
    let mut out = last.to_string();
    for limb in rest.iter().rev() {
        out.push_str(&format!("{limb:09}"));
    }
    out
}

/// `parseASN1String`.
fn asn1_string(tag: u8, value: &[u8]) -> Result<String, String> {
    let printable = |b: u8| b.is_ascii_alphanumeric() || b"'()+,-./ :=?*&".contains(&b);
    match tag {
        TAG_T61 => Ok(value.iter().map(|&b| char::from(b)).collect()),
        TAG_PRINTABLE => {
            if value.iter().all(|&b| printable(b)) {
                Ok(lossy(value))
            } else {
                Err("invalid PrintableString".to_string())
            }
        }
        TAG_UTF8 => std::str::from_utf8(value)
            .map(str::to_string)
            .map_err(|_| "invalid UTF-8 string".to_string()),
        TAG_BMP => {
            let mut value = value;
            if !value.len().is_multiple_of(2) {
                return Err("invalid BMPString".to_string());
            }
            if value.ends_with(&[0, 0]) {
                value = &value[..value.len() - 2];
            }
            let mut units = Vec::with_capacity(value.len() / 2);
            for pair in value.chunks_exact(2) {
                let point = u16::from(pair[0]) << 8 | u16::from(pair[1]);
                if point == 0xfffe
                    || point == 0xffff
                    || (0xfdd0..=0xfdef).contains(&point)
                    || (0xd800..=0xdfff).contains(&point)
                {
                    return Err("invalid BMPString".to_string());
                }
                units.push(point);
            }
            Ok(String::from_utf16_lossy(&units))
        }
        TAG_IA5 => {
            if value.is_ascii() {
                Ok(lossy(value))
            } else {
                Err("invalid IA5String".to_string())
            }
        }
        TAG_NUMERIC => {
            if value.iter().all(|&b| b.is_ascii_digit() || b == b' ') {
                Ok(lossy(value))
            } else {
                Err("invalid NumericString".to_string())
            }
        }
        _ => Err(format!("unsupported string type: {tag}")),
    }
}

/// `parseName` then `pkix.Name.FillFromRDNSequence`, as JSON.
fn name_json(raw: &[u8]) -> Result<Value, String> {
    let invalid = || "x509: invalid RDNSequence".to_string();
    let mut seq = Der(raw).read(TAG_SEQUENCE).ok_or_else(invalid)?;
    let mut names = Vec::new();
    let mut fields: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let (mut common_name, mut serial) = (String::new(), String::new());
    while !seq.is_empty() {
        let mut set = seq.read(TAG_SET).ok_or_else(invalid)?;
        while !set.is_empty() {
            let mut atv = set
                .read(TAG_SEQUENCE)
                .ok_or("x509: invalid RDNSequence: invalid attribute")?;
            let oid = atv
                .read_oid()
                .ok_or("x509: invalid RDNSequence: invalid attribute type")?;
            let (tag, value, _) = atv
                .read_any()
                .ok_or("x509: invalid RDNSequence: invalid attribute value")?;
            let value = asn1_string(tag, value)
                .map_err(|e| format!("x509: invalid RDNSequence: invalid attribute value: {e}"))?;
            if let [2, 5, 4, last] = oid[..] {
                let field = match last {
                    3 => {
                        common_name = value.clone();
                        None
                    }
                    5 => {
                        serial = value.clone();
                        None
                    }
                    6 => Some("Country"),
                    7 => Some("Locality"),
                    8 => Some("Province"),
                    9 => Some("StreetAddress"),
                    10 => Some("Organization"),
                    11 => Some("OrganizationalUnit"),
                    17 => Some("PostalCode"),
                    _ => None,
                };
                if let Some(field) = field {
                    fields.entry(field).or_default().push(value.clone());
                }
            }
            names.push(serde_json::json!({"Type": oid_json(&oid), "Value": value}));
        }
    }
    let field = |f: &str| strings_json(fields.get(f).map_or(&[][..], Vec::as_slice));
    Ok(serde_json::json!({
        "Country": field("Country"),
        "Organization": field("Organization"),
        "OrganizationalUnit": field("OrganizationalUnit"),
        "Locality": field("Locality"),
        "Province": field("Province"),
        "StreetAddress": field("StreetAddress"),
        "PostalCode": field("PostalCode"),
        "SerialNumber": serial,
        "CommonName": common_name,
        "Names": list_json(names),
        "ExtraNames": Value::Null,
    }))
}

/// An AlgorithmIdentifier: (OID, parameters element if any).
fn parse_ai(mut der: Der<'_>) -> Result<(Vec<u64>, Option<&[u8]>), String> {
    let oid = der.read_oid().ok_or("x509: malformed OID")?;
    if der.is_empty() {
        return Ok((oid, None));
    }
    let (_, _, params) = der.read_any().ok_or("x509: malformed parameters")?;
    Ok((oid, Some(params)))
}

const OID_RSA_PSS: &[u64] = &[1, 2, 840, 113_549, 1, 1, 10];

const OID_ED25519: &[u64] = &[1, 3, 101, 112];

const NULL_DER: &[u8] = &[0x05, 0x00];

/// `getSignatureAlgorithmFromAI`.
fn signature_algorithm(oid: &[u64], params: Option<&[u8]>) -> u8 {
    const TABLE: &[(&[u64], u8)] = &[
        (&[1, 2, 840, 113_549, 1, 1, 2], 1),
        (&[1, 2, 840, 113_549, 1, 1, 4], 2),
        (&[1, 2, 840, 113_549, 1, 1, 5], 3),
        (&[1, 3, 14, 3, 2, 29], 3),
        (&[1, 2, 840, 113_549, 1, 1, 11], 4),
        (&[1, 2, 840, 113_549, 1, 1, 12], 5),
        (&[1, 2, 840, 113_549, 1, 1, 13], 6),
        (&[1, 2, 840, 10_040, 4, 3], 7),
        (&[2, 16, 840, 1, 101, 3, 4, 3, 2], 8),
        (&[1, 2, 840, 10_045, 4, 1], 9),
        (&[1, 2, 840, 10_045, 4, 3, 2], 10),
        (&[1, 2, 840, 10_045, 4, 3, 3], 11),
        (&[1, 2, 840, 10_045, 4, 3, 4], 12),
        (OID_ED25519, 16),
    ];
    if oid_is(oid, OID_ED25519) && params.is_some_and(|p| !p.is_empty()) {
        return 0;
    }
    if !oid_is(oid, OID_RSA_PSS) {
        return TABLE
            .iter()
            .find(|(o, _)| oid_is(oid, o))
            .map_or(0, |(_, a)| *a);
    }
    pss_algorithm(params.unwrap_or_default()).unwrap_or(0)
}

/// The RSA-PSS parameters Go accepts: the MGF1 hash is the message hash,
/// the salt is the hash's size, the trailer is the default.
fn pss_algorithm(params: &[u8]) -> Option<u8> {
    let mut seq = Der(params).read(TAG_SEQUENCE)?;
    let null_or_absent = |p: Option<&[u8]>| p.is_none_or(|p| p == NULL_DER);
    let hash = seq
        .read(ctx_cons(0))?
        .read(TAG_SEQUENCE)
        .map(parse_ai)?
        .ok()?;
    let mut mgf = seq.read(ctx_cons(1))?.read(TAG_SEQUENCE)?;
    let mgf_oid = mgf.read_oid()?;
    let mgf_hash = mgf.read(TAG_SEQUENCE).map(parse_ai)?.ok()?;
    let salt = match seq.read_optional(ctx_cons(2))? {
        Some(mut s) => s.read_i64()?,
        None => 20,
    };
    let trailer = match seq.read_optional(ctx_cons(3))? {
        Some(mut t) => t.read_i64()?,
        None => 1,
    };
    if !null_or_absent(hash.1)
        || mgf_oid != [1, 2, 840, 113_549, 1, 1, 8]
        || mgf_hash.0 != hash.0
        || !null_or_absent(mgf_hash.1)
        || trailer != 1
    {
        return None;
    }
    match (&hash.0[..], salt) {
        ([2, 16, 840, 1, 101, 3, 4, 2, 1], 32) => Some(13),
        ([2, 16, 840, 1, 101, 3, 4, 2, 2], 48) => Some(14),
        ([2, 16, 840, 1, 101, 3, 4, 2, 3], 64) => Some(15),
        _ => None,
    }
}

/// `getPublicKeyAlgorithmFromOID`.
fn public_key_algorithm(oid: &[u64]) -> u8 {
    match oid {
        [1, 2, 840, 113_549, 1, 1, 1] => 1,
        [1, 2, 840, 10_040, 4, 1] => 2,
        [1, 2, 840, 10_045, 2, 1] => 3,
        [1, 3, 101, 112] => 4,
        _ => 0,
    }
}

/// The RSA key of a SubjectPublicKeyInfo as Kyverno reports it: N in
/// decimal, E.
fn rsa_public_key(params: Option<&[u8]>, key: &[u8]) -> Result<Value, String> {
    if params != Some(NULL_DER) {
        return Err("x509: RSA key missing NULL parameters".to_string());
    }
    let mut outer = Der(key);
    let mut seq = outer
        .read(TAG_SEQUENCE)
        .ok_or("x509: invalid RSA public key")?;
    let n = seq.read_big_integer().ok_or("x509: invalid RSA modulus")?;
    let e = seq.read_i64().ok_or("x509: invalid RSA public exponent")?;
    if n[0] & 0x80 != 0 || n.iter().all(|&b| b == 0) {
        return Err("x509: RSA modulus is not a positive number".to_string());
    }
    if e <= 0 {
        return Err("x509: RSA public exponent is not a positive number".to_string());
    }
    if n.len() * 8 > MAX_RSA_BITS + 8 {
        return Err(format!("x509: RSA modulus over {MAX_RSA_BITS} bits"));
    }
    // Kyverno re-reads the key with x509.ParsePKCS1PublicKey.
    if !outer.is_empty() {
        return Err("failed to parse subject public key info".to_string());
    }
    Ok(serde_json::json!({"N": big_decimal(n), "E": e as f64}))
}

/// `isIA5String`.
fn ia5(bytes: &[u8]) -> Option<String> {
    bytes.is_ascii().then(|| lossy(bytes))
}

/// `domainToReverseLabels` succeeds.
fn valid_domain(domain: &str) -> bool {
    if domain.is_empty() {
        return true;
    }
    !domain.ends_with('.')
        && domain
            .split('.')
            .all(|label| !label.is_empty() && label.bytes().all(|c| (33..=126).contains(&c)))
}

/// `net.IP.String()`.
fn ip_string(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string(),
        16 => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(bytes);
            let v6 = std::net::Ipv6Addr::from(octets);
            match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => v6.to_string(),
            }
        }
        _ => format!("?{}", hex(bytes)),
    }
}

/// `url.Parse` of a SAN URI, as Go's `url.URL` marshals to JSON.
fn uri_json(raw: &str) -> Result<Value, String> {
    let fail = |e: String| format!("x509: cannot parse URI {raw:?}: parse {raw:?}: {e}");
    let (rest, fragment) = match raw.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (raw, None),
    };
    if rest.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(fail(
            "net/url: invalid control character in URL".to_string(),
        ));
    }
    let (scheme, rest_of) =
        super::url::split_scheme(rest).map_err(|()| fail("missing protocol scheme".to_string()))?;
    let scheme = scheme.to_ascii_lowercase();
    let (mut force_query, mut raw_query) = (false, "");
    let mut path_part = rest_of;
    if path_part.ends_with('?') && path_part.matches('?').count() == 1 {
        force_query = true;
        path_part = &path_part[..path_part.len() - 1];
    } else if let Some((p, q)) = path_part.split_once('?') {
        path_part = p;
        raw_query = q;
    }
    let (mut opaque, mut host, mut user, mut omit_host) =
        (String::new(), String::new(), false, false);
    if !path_part.starts_with('/') && !scheme.is_empty() {
        opaque = path_part.to_string();
        path_part = "";
    } else {
        if scheme.is_empty() {
            let segment = path_part.split_once('/').map_or(path_part, |(s, _)| s);
            if segment.contains(':') {
                return Err(fail(
                    "first path segment in URL cannot contain colon".to_string(),
                ));
            }
        }
        if (!scheme.is_empty() || !path_part.starts_with("///")) && path_part.starts_with("//") {
            let authority_and_path = &path_part[2..];
            let (authority, p) = match authority_and_path.find('/') {
                Some(i) => (&authority_and_path[..i], &authority_and_path[i..]),
                None => (authority_and_path, ""),
            };
            let h = match authority.rfind('@') {
                Some(i) => {
                    user = true;
                    &authority[i + 1..]
                }
                None => authority,
            };
            host = unescape_host(h).map_err(fail)?;
            path_part = p;
        } else if !scheme.is_empty() && path_part.starts_with('/') {
            omit_host = true;
        }
    }
    let path = url_unescape(path_part).map_err(fail)?;
    let raw_path = if url_escape(&path, false) == path_part {
        String::new()
    } else {
        path_part.to_string()
    };
    let (frag, raw_frag) = match fragment {
        Some(f) => {
            let unescaped = url_unescape(f).map_err(fail)?;
            let raw = if url_escape(&unescaped, true) == f {
                String::new()
            } else {
                f.to_string()
            };
            (unescaped, raw)
        }
        None => (String::new(), String::new()),
    };
    if !host.is_empty() && !valid_domain(&host) {
        return Err(format!("x509: cannot parse URI {raw:?}: invalid domain"));
    }
    Ok(serde_json::json!({
        "Scheme": scheme,
        "Opaque": opaque,
        "User": if user { serde_json::json!({}) } else { Value::Null },
        "Host": host,
        "Path": path,
        "RawPath": raw_path,
        "OmitHost": omit_host,
        "ForceQuery": force_query,
        "RawQuery": raw_query,
        "Fragment": frag,
        "RawFragment": raw_frag,
    }))
}

/// The subject alternative names: DNS names, emails, IPs, URIs.
#[derive(Default)]
struct Sans {
    dns: Vec<String>,
    emails: Vec<String>,
    ips: Vec<String>,
    uris: Vec<Value>,
}

impl Sans {
    fn is_empty(&self) -> bool {
        self.dns.is_empty() && self.emails.is_empty() && self.ips.is_empty() && self.uris.is_empty()
    }
}

/// `parseSANExtension`.
fn parse_sans(value: &[u8]) -> Result<Sans, String> {
    let mut seq = Der(value)
        .read(TAG_SEQUENCE)
        .ok_or("x509: invalid subject alternative names")?;
    let mut out = Sans::default();
    while !seq.is_empty() {
        let (tag, data, _) = seq
            .read_any()
            .ok_or("x509: invalid subject alternative name")?;
        match tag ^ 0x80 {
            1 => out
                .emails
                .push(ia5(data).ok_or("x509: SAN rfc822Name is malformed")?),
            2 => out
                .dns
                .push(ia5(data).ok_or("x509: SAN dNSName is malformed")?),
            6 => {
                let uri = ia5(data).ok_or("x509: SAN uniformResourceIdentifier is malformed")?;
                out.uris.push(uri_json(&uri)?);
            }
            7 => match data.len() {
                4 | 16 => out.ips.push(ip_string(data)),
                n => return Err(format!("x509: cannot parse IP address of length {n}")),
            },
            _ => {}
        }
    }
    Ok(out)
}

/// `extKeyUsageFromOID`.
fn ext_key_usage(oid: &[u64]) -> Option<u8> {
    Some(match oid {
        [2, 5, 29, 37, 0] => 0,
        [1, 3, 6, 1, 5, 5, 7, 3, n @ 1..=9] => *n as u8,
        [1, 3, 6, 1, 4, 1, 311, 10, 3, 3] => 10,
        [2, 16, 840, 1, 113_730, 4, 1] => 11,
        [1, 3, 6, 1, 4, 1, 311, 2, 1, 22] => 12,
        [1, 3, 6, 1, 4, 1, 311, 61, 1, 1] => 13,
        _ => return None,
    })
}

/// One extension: (OID, critical, value).
struct Extension<'a> {
    id: Vec<u64>,
    critical: bool,
    value: &'a [u8],
}

impl Extension<'_> {
    fn json(&self) -> Value {
        serde_json::json!({"Id": oid_json(&self.id), "Critical": self.critical, "Value": b64_json(self.value)})
    }
}

/// `parseExtension`.
fn parse_extension(mut der: Der<'_>) -> Result<Extension<'_>, String> {
    let id = der
        .read_oid()
        .ok_or("x509: malformed extension OID field")?;
    let mut critical = false;
    if der.peek(TAG_BOOLEAN) {
        critical = der
            .read_boolean()
            .ok_or("x509: malformed extension critical field")?;
    }
    let value = der
        .read_bytes(TAG_OCTET_STRING)
        .ok_or("x509: malformed extension value field")?;
    Ok(Extension {
        id,
        critical,
        value,
    })
}

/// `isValidIPMask`.
fn valid_ip_mask(mask: &[u8]) -> bool {
    let mut seen_zero = false;
    for &b in mask {
        if seen_zero {
            if b != 0 {
                return false;
            }
            continue;
        }
        match b {
            0x00 | 0x80 | 0xc0 | 0xe0 | 0xf0 | 0xf8 | 0xfc | 0xfe => seen_zero = true,
            0xff => {}
            _ => return false,
        }
    }
    true
}

/// The name constraint subtrees of one kind, as JSON fields.
#[derive(Default)]
struct Subtrees {
    dns: Vec<String>,
    ips: Vec<Value>,
    emails: Vec<String>,
    uris: Vec<String>,
}

/// `parseNameConstraintsExtension`'s `getValues`: sets `unhandled` for
/// constraint types Go does not read.
fn parse_subtrees(mut subtrees: Der<'_>, unhandled: &mut bool) -> Result<Subtrees, String> {
    let invalid = || "x509: invalid NameConstraints extension".to_string();
    let mut out = Subtrees::default();
    while !subtrees.is_empty() {
        let mut seq = subtrees.read(TAG_SEQUENCE).ok_or_else(invalid)?;
        let (tag, value, _) = seq.read_any().ok_or_else(invalid)?;
        let ia5_value = || {
            ia5(value).ok_or_else(|| {
                "x509: invalid constraint value: asn1: invalid IA5String".to_string()
            })
        };
        match tag {
            t if t == ctx(2) => {
                let domain = ia5_value()?;
                if !valid_domain(domain.strip_prefix('.').unwrap_or(&domain)) {
                    return Err(format!(
                        "x509: failed to parse dnsName constraint {domain:?}"
                    ));
                }
                out.dns.push(domain);
            }
            t if t == ctx(7) => {
                let (ip, mask) = match value.len() {
                    8 => value.split_at(4),
                    32 => value.split_at(16),
                    l => return Err(format!("x509: IP constraint contained value of length {l}")),
                };
                if !valid_ip_mask(mask) {
                    return Err(format!(
                        "x509: IP constraint contained invalid mask {}",
                        hex(mask)
                    ));
                }
                out.ips
                    .push(serde_json::json!({"IP": ip_string(ip), "Mask": b64_json(mask)}));
            }
            t if t == ctx(1) => {
                let constraint = ia5_value()?;
                let ok = match constraint.rsplit_once('@') {
                    Some((local, domain)) => {
                        !local.is_empty() && valid_domain(domain) && !domain.is_empty()
                    }
                    None => valid_domain(constraint.strip_prefix('.').unwrap_or(&constraint)),
                };
                if !ok {
                    return Err(format!(
                        "x509: failed to parse rfc822Name constraint {constraint:?}"
                    ));
                }
                out.emails.push(constraint);
            }
            t if t == ctx(6) => {
                let domain = ia5_value()?;
                if domain.parse::<std::net::IpAddr>().is_ok() {
                    return Err(format!(
                        "x509: failed to parse URI constraint {domain:?}: cannot be IP address"
                    ));
                }
                if !valid_domain(domain.strip_prefix('.').unwrap_or(&domain)) {
                    return Err(format!("x509: failed to parse URI constraint {domain:?}"));
                }
                out.uris.push(domain);
            }
            _ => *unhandled = true,
        }
    }
    Ok(out)
}

/// What the extensions set on a certificate (`processExtensions`), as the
/// certificate's JSON fields.
fn process_extensions(exts: &[Extension<'_>]) -> Result<serde_json::Map<String, Value>, String> {
    let mut key_usage = 0u32;
    let (mut bc_valid, mut is_ca, mut max_path_len) = (false, false, 0i64);
    let mut sans = Sans::default();
    let (mut permitted, mut excluded) = (Subtrees::default(), Subtrees::default());
    let mut permitted_critical = false;
    let mut crl_points = Vec::new();
    let mut akid: Option<&[u8]> = None;
    let mut skid: Option<&[u8]> = None;
    let (mut eku, mut unknown_eku) = (Vec::new(), Vec::new());
    let (mut policies, mut policy_ids): (Vec<Value>, Option<Vec<Value>>) = (Vec::new(), None);
    let mut policy_mappings = Vec::new();
    let (mut require_explicit, mut require_explicit_zero) = (0i64, false);
    let (mut inhibit_mapping, mut inhibit_mapping_zero) = (0i64, false);
    let (mut inhibit_any, mut inhibit_any_zero) = (0i64, false);
    let (mut ocsp, mut issuers) = (Vec::new(), Vec::new());
    let mut unhandled_critical = Vec::new();

    for e in exts {
        let mut unhandled = false;
        if let [2, 5, 29, n] = e.id[..] {
            match n {
                15 => {
                    let (bytes, bits) = Der(e.value)
                        .read_bit_string()
                        .ok_or("x509: invalid key usage")?;
                    key_usage = 0;
                    for i in 0..9usize.min(bits) {
                        if bytes[i / 8] & (0x80 >> (i % 8)) != 0 {
                            key_usage |= 1 << i;
                        }
                    }
                }
                19 => {
                    let invalid = || "x509: invalid basic constraints".to_string();
                    let mut seq = Der(e.value).read(TAG_SEQUENCE).ok_or_else(invalid)?;
                    is_ca = false;
                    if seq.peek(TAG_BOOLEAN) {
                        is_ca = seq.read_boolean().ok_or_else(invalid)?;
                    }
                    max_path_len = -1;
                    if seq.peek(TAG_INTEGER) {
                        max_path_len = seq.read_i64().filter(|v| *v >= 0).ok_or_else(invalid)?;
                    }
                    bc_valid = true;
                }
                17 => {
                    sans = parse_sans(e.value)?;
                    if sans.is_empty() {
                        unhandled = true;
                    }
                }
                30 => {
                    let invalid = || "x509: invalid NameConstraints extension".to_string();
                    let mut outer = Der(e.value);
                    let mut top = outer.read(TAG_SEQUENCE).ok_or_else(invalid)?;
                    let p = top.read_optional(ctx_cons(0)).ok_or_else(invalid)?;
                    let x = top.read_optional(ctx_cons(1)).ok_or_else(invalid)?;
                    if !outer.is_empty() || !top.is_empty() {
                        return Err(invalid());
                    }
                    let empty = |d: &Option<Der<'_>>| d.is_none_or(|d| d.is_empty());
                    if empty(&p) && empty(&x) {
                        return Err("x509: empty name constraints extension".to_string());
                    }
                    permitted = parse_subtrees(p.unwrap_or(Der(&[])), &mut unhandled)?;
                    excluded = parse_subtrees(x.unwrap_or(Der(&[])), &mut unhandled)?;
                    permitted_critical = e.critical;
                }
                31 => {
                    let mut val = Der(e.value)
                        .read(TAG_SEQUENCE)
                        .ok_or("x509: invalid CRL distribution points")?;
                    let invalid = || "x509: invalid CRL distribution point".to_string();
                    while !val.is_empty() {
                        let mut dp = val.read(TAG_SEQUENCE).ok_or_else(invalid)?;
                        let Some(mut name) = dp.read_optional(ctx_cons(0)).ok_or_else(invalid)?
                        else {
                            continue;
                        };
                        let mut full = name.read(ctx_cons(0)).ok_or_else(invalid)?;
                        while !full.is_empty() && full.peek(ctx(6)) {
                            let uri = full.read_bytes(ctx(6)).ok_or_else(invalid)?;
                            crl_points.push(lossy(uri));
                        }
                    }
                }
                35 => {
                    if e.critical {
                        return Err("x509: authority key identifier incorrectly marked critical"
                            .to_string());
                    }
                    let invalid = || "x509: invalid authority key identifier".to_string();
                    let mut seq = Der(e.value).read(TAG_SEQUENCE).ok_or_else(invalid)?;
                    akid = None;
                    if seq.peek(ctx(0)) {
                        akid = Some(seq.read_bytes(ctx(0)).ok_or_else(invalid)?);
                    }
                }
                36 => {
                    let invalid = || "x509: invalid policy constraints extension".to_string();
                    let mut seq = Der(e.value).read(TAG_SEQUENCE).ok_or_else(invalid)?;
                    if seq.peek(ctx(0)) {
                        require_explicit = seq.read_i64_with_tag(ctx(0)).ok_or_else(invalid)?;
                        require_explicit_zero = require_explicit == 0;
                    }
                    if seq.peek(ctx(1)) {
                        inhibit_mapping = seq.read_i64_with_tag(ctx(1)).ok_or_else(invalid)?;
                        inhibit_mapping_zero = inhibit_mapping == 0;
                    }
                }
                37 => {
                    let invalid = || "x509: invalid extended key usages".to_string();
                    let mut seq = Der(e.value).read(TAG_SEQUENCE).ok_or_else(invalid)?;
                    eku.clear();
                    unknown_eku.clear();
                    while !seq.is_empty() {
                        let oid = seq.read_oid().ok_or_else(invalid)?;
                        match ext_key_usage(&oid) {
                            Some(u) => eku.push(Value::from(f64::from(u))),
                            None => unknown_eku.push(oid_json(&oid)),
                        }
                    }
                }
                14 => {
                    if e.critical {
                        return Err(
                            "x509: subject key identifier incorrectly marked critical".to_string()
                        );
                    }
                    skid = Some(
                        Der(e.value)
                            .read_bytes(TAG_OCTET_STRING)
                            .ok_or("x509: invalid subject key identifier")?,
                    );
                }
                32 => {
                    let invalid = || "x509: invalid certificate policies".to_string();
                    let mut seq = Der(e.value).read(TAG_SEQUENCE).ok_or_else(invalid)?;
                    let mut seen = Vec::new();
                    policies.clear();
                    let mut ids = Vec::new();
                    while !seq.is_empty() {
                        let mut cp = seq.read(TAG_SEQUENCE).ok_or_else(invalid)?;
                        let der = cp.read_bytes(TAG_OID).ok_or_else(invalid)?;
                        if seen.contains(&der) {
                            return Err(invalid());
                        }
                        seen.push(der);
                        let text = oid_text(der).ok_or_else(invalid)?;
                        policies.push(Value::String(text));
                        if let Some(arcs) = parse_oid(der, 63) {
                            ids.push(oid_json(&arcs));
                        }
                    }
                    policy_ids = Some(ids);
                }
                33 => {
                    let invalid = || "x509: invalid policy mappings extension".to_string();
                    let mut seq = Der(e.value).read(TAG_SEQUENCE).ok_or_else(invalid)?;
                    while !seq.is_empty() {
                        let mut m = seq.read(TAG_SEQUENCE).ok_or_else(invalid)?;
                        let issuer = m.read_bytes(TAG_OID).ok_or_else(invalid)?;
                        let subject = m.read_bytes(TAG_OID).ok_or_else(invalid)?;
                        let text = |d: &[u8]| oid_text(d).map_or(Value::Null, Value::String);
                        policy_mappings.push(serde_json::json!({
                            "IssuerDomainPolicy": text(issuer),
                            "SubjectDomainPolicy": text(subject),
                        }));
                    }
                }
                54 => {
                    inhibit_any = Der(e.value)
                        .read_i64()
                        .ok_or("x509: invalid inhibit any policy extension")?;
                    inhibit_any_zero = inhibit_any == 0;
                }
                _ => unhandled = true,
            }
        } else if e.id == [1, 3, 6, 1, 5, 5, 7, 1, 1] {
            if e.critical {
                return Err("x509: authority info access incorrectly marked critical".to_string());
            }
            let invalid = || "x509: invalid authority info access".to_string();
            let mut seq = Der(e.value).read(TAG_SEQUENCE).ok_or_else(invalid)?;
            while !seq.is_empty() {
                let mut aia = seq.read(TAG_SEQUENCE).ok_or_else(invalid)?;
                let method = aia.read_oid().ok_or_else(invalid)?;
                if !aia.peek(ctx(6)) {
                    continue;
                }
                let location = lossy(aia.read_bytes(ctx(6)).ok_or_else(invalid)?);
                match method[..] {
                    [1, 3, 6, 1, 5, 5, 7, 48, 1] => ocsp.push(location),
                    [1, 3, 6, 1, 5, 5, 7, 48, 2] => issuers.push(location),
                    _ => {}
                }
            }
        } else {
            unhandled = true;
        }
        if e.critical && unhandled {
            unhandled_critical.push(oid_json(&e.id));
        }
    }

    let mut f = serde_json::Map::new();
    let mut set = |k: &str, v: Value| {
        f.insert(k.to_string(), v);
    };
    set("KeyUsage", Value::from(f64::from(key_usage)));
    set("BasicConstraintsValid", Value::Bool(bc_valid));
    set("IsCA", Value::Bool(is_ca));
    set("MaxPathLen", Value::from(max_path_len as f64));
    set("MaxPathLenZero", Value::Bool(bc_valid && max_path_len == 0));
    set("DNSNames", strings_json(&sans.dns));
    set("EmailAddresses", strings_json(&sans.emails));
    set("IPAddresses", strings_json(&sans.ips));
    set("URIs", list_json(sans.uris));
    set(
        "PermittedDNSDomainsCritical",
        Value::Bool(permitted_critical),
    );
    set("PermittedDNSDomains", strings_json(&permitted.dns));
    set("ExcludedDNSDomains", strings_json(&excluded.dns));
    set("PermittedIPRanges", list_json(permitted.ips));
    set("ExcludedIPRanges", list_json(excluded.ips));
    set("PermittedEmailAddresses", strings_json(&permitted.emails));
    set("ExcludedEmailAddresses", strings_json(&excluded.emails));
    set("PermittedURIDomains", strings_json(&permitted.uris));
    set("ExcludedURIDomains", strings_json(&excluded.uris));
    set("CRLDistributionPoints", strings_json(&crl_points));
    set("AuthorityKeyId", opt_b64_json(akid));
    set("SubjectKeyId", opt_b64_json(skid));
    set("ExtKeyUsage", list_json(eku));
    set("UnknownExtKeyUsage", list_json(unknown_eku));
    set("Policies", list_json(policies));
    // Go makes PolicyIdentifiers a non-nil slice once the extension is read.
    set(
        "PolicyIdentifiers",
        policy_ids.map_or(Value::Null, Value::Array),
    );
    set("PolicyMappings", list_json(policy_mappings));
    set(
        "RequireExplicitPolicy",
        Value::from(require_explicit as f64),
    );
    set(
        "RequireExplicitPolicyZero",
        Value::Bool(require_explicit_zero),
    );
    set("InhibitPolicyMapping", Value::from(inhibit_mapping as f64));
    set(
        "InhibitPolicyMappingZero",
        Value::Bool(inhibit_mapping_zero),
    );
    set("InhibitAnyPolicy", Value::from(inhibit_any as f64));
    set("InhibitAnyPolicyZero", Value::Bool(inhibit_any_zero));
    set("OCSPServer", strings_json(&ocsp));
    set("IssuingCertificateURL", strings_json(&issuers));
    set("UnhandledCriticalExtensions", list_json(unhandled_critical));
    Ok(f)
}

/// `parseTime` of a validity bound, as Go's `time.Time` marshals it.
fn parse_x509_time(der: &mut Der<'_>) -> Result<String, String> {
    if der.peek(TAG_UTC_TIME) {
        let raw = der
            .read_bytes(TAG_UTC_TIME)
            .ok_or("x509: malformed UTCTime")?;
        let text = std::str::from_utf8(raw).map_err(|_| "x509: malformed UTCTime")?;
        let parsed = ["060102150405Z0700", "0601021504Z0700"]
            .iter()
            .find_map(|layout| {
                let t = go_parse(layout, text).ok()?;
                (go_format_asn1(&t, layout) == text).then_some(t)
            })
            .ok_or("x509: malformed UTCTime")?;
        let mut t = parsed;
        if t.civil().year >= 2050 {
            // Two-digit years 50-99 are 1950-1999.
            let c = t.civil();
            let days = days_from_civil(c.year - 100, c.month, c.day);
            let sod = c.hour * 3600 + c.minute * 60 + c.second;
            t.unix = days * 86_400 + sod - i64::from(t.offset);
        }
        Ok(t.rfc3339())
    } else if der.peek(TAG_GENERALIZED_TIME) {
        let raw = der
            .read_bytes(TAG_GENERALIZED_TIME)
            .ok_or("x509: malformed GeneralizedTime")?;
        let text = std::str::from_utf8(raw).map_err(|_| "x509: malformed GeneralizedTime")?;
        let layout = "20060102150405Z0700";
        let t = go_parse(layout, text).map_err(|_| "x509: malformed GeneralizedTime")?;
        if go_format_asn1(&t, layout) != text {
            return Err("x509: malformed GeneralizedTime".to_string());
        }
        Ok(t.rfc3339())
    } else {
        Err("x509: unsupported time format".to_string())
    }
}

/// `t.Format` for the three ASN.1 time layouts.
fn go_format_asn1(t: &GoTime, layout: &str) -> String {
    let c = t.civil();
    let zone = if t.offset == 0 {
        "Z".to_string()
    } else {
        let minutes = t.offset / 60;
        let (sign, m) = if minutes < 0 {
            ('-', -minutes)
        } else {
            ('+', minutes)
        };
        format!("{sign}{:02}{:02}", m / 60, m % 60)
    };
    let year = match layout {
        "20060102150405Z0700" => format!("{:04}", c.year),
        _ => format!("{:02}", c.year.rem_euclid(100)),
    };
    let seconds = if layout == "0601021504Z0700" {
        String::new()
    } else {
        format!("{:02}", c.second)
    };
    format!(
        "{year}{:02}{:02}{:02}{:02}{seconds}{zone}",
        c.month, c.day, c.hour, c.minute
    )
}

/// A SubjectPublicKeyInfo: (algorithm, the JSON public key or null).
fn spki_json(spki_element: &[u8]) -> Result<(u8, Value), String> {
    let mut spki = Der(spki_element)
        .read(TAG_SEQUENCE)
        .ok_or("x509: malformed spki")?;
    let ai = spki
        .read(TAG_SEQUENCE)
        .ok_or("x509: malformed public key algorithm identifier")?;
    let (oid, params) = parse_ai(ai)?;
    let algorithm = public_key_algorithm(&oid);
    let (key, _) = spki
        .read_bit_string()
        .ok_or("x509: malformed subjectPublicKey")?;
    if algorithm != 1 {
        return Err("certificate should use rsa algorithm".to_string());
    }
    Ok((algorithm, rsa_public_key(params, key)?))
}

/// `x509.ParseCertificate` + Kyverno's JSON round trip.
fn certificate_json(der: &[u8]) -> Result<Value, String> {
    let mut input = Der(der);
    let raw = input
        .read_element(TAG_SEQUENCE)
        .ok_or("x509: malformed certificate")?;
    if !input.is_empty() {
        return Err("x509: trailing data".to_string());
    }
    let mut cert = Der(raw)
        .read(TAG_SEQUENCE)
        .ok_or("x509: malformed certificate")?;
    let tbs_raw = cert
        .read_element(TAG_SEQUENCE)
        .ok_or("x509: malformed tbs certificate")?;
    let mut tbs = Der(tbs_raw)
        .read(TAG_SEQUENCE)
        .ok_or("x509: malformed tbs certificate")?;
    let version = match tbs
        .read_optional(ctx_cons(0))
        .ok_or("x509: malformed version")?
    {
        Some(mut v) => v.read_i64().ok_or("x509: malformed version")?,
        None => 0,
    };
    if version < 0 {
        return Err("x509: malformed version".to_string());
    }
    let version = version + 1;
    if version > 3 {
        return Err("x509: invalid version".to_string());
    }
    let serial = tbs
        .read_big_integer()
        .ok_or("x509: malformed serial number")?;
    if serial[0] & 0x80 != 0 {
        return Err("x509: negative serial number".to_string());
    }
    if serial.len() > MAX_SERIAL_BYTES {
        return Err(format!("x509: serial number over {MAX_SERIAL_BYTES} bytes"));
    }
    let serial: f64 = big_decimal(serial).parse().unwrap_or(f64::NAN);
    let sig_ai = tbs
        .read_bytes(TAG_SEQUENCE)
        .ok_or("x509: malformed signature algorithm identifier")?;
    let outer_ai = cert
        .read_bytes(TAG_SEQUENCE)
        .ok_or("x509: malformed algorithm identifier")?;
    if sig_ai != outer_ai {
        return Err(
            "x509: inner and outer signature algorithm identifiers don't match".to_string(),
        );
    }
    let (sig_oid, sig_params) = parse_ai(Der(sig_ai))?;
    let issuer_raw = tbs
        .read_element(TAG_SEQUENCE)
        .ok_or("x509: malformed issuer")?;
    let issuer = name_json(issuer_raw)?;
    let mut validity = tbs.read(TAG_SEQUENCE).ok_or("x509: malformed validity")?;
    let not_before = parse_x509_time(&mut validity)?;
    let not_after = parse_x509_time(&mut validity)?;
    let subject_raw = tbs
        .read_element(TAG_SEQUENCE)
        .ok_or("x509: malformed issuer")?;
    let subject = name_json(subject_raw)?;
    let spki_raw = tbs
        .read_element(TAG_SEQUENCE)
        .ok_or("x509: malformed spki")?;
    let (pk_algorithm, public_key) = spki_json(spki_raw)?;
    let mut extensions: Vec<Extension<'_>> = Vec::new();
    if version > 1 {
        for (tag, what) in [(ctx(1), "issuerUniqueID"), (ctx(2), "subjectUniqueID")] {
            tbs.read_optional(tag)
                .ok_or_else(|| format!("x509: malformed {what}"))?;
        }
        if version == 3
            && let Some(mut exts) = tbs
                .read_optional(ctx_cons(3))
                .ok_or("x509: malformed extensions")?
        {
            let mut seq = exts
                .read(TAG_SEQUENCE)
                .ok_or("x509: malformed extensions")?;
            while !seq.is_empty() {
                let ext = seq.read(TAG_SEQUENCE).ok_or("x509: malformed extension")?;
                let ext = parse_extension(ext)?;
                if extensions.iter().any(|e| e.id == ext.id) {
                    return Err(format!(
                        "x509: certificate contains duplicate extension with OID {:?}",
                        oid_string(&ext.id)
                    ));
                }
                extensions.push(ext);
            }
        }
    }
    let processed = process_extensions(&extensions)?;
    let (signature, _) = cert.read_bit_string().ok_or("x509: malformed signature")?;
    let mut out = processed;
    let mut set = |k: &str, v: Value| {
        out.insert(k.to_string(), v);
    };
    set("Raw", b64_json(raw));
    set("RawTBSCertificate", b64_json(tbs_raw));
    set("RawSubjectPublicKeyInfo", b64_json(spki_raw));
    set("RawSubject", b64_json(subject_raw));
    set("RawIssuer", b64_json(issuer_raw));
    set("Signature", b64_json(signature));
    set(
        "SignatureAlgorithm",
        Value::from(f64::from(signature_algorithm(&sig_oid, sig_params))),
    );
    set("PublicKeyAlgorithm", Value::from(f64::from(pk_algorithm)));
    set("PublicKey", public_key);
    set("Version", Value::from(version as f64));
    set(
        "SerialNumber",
        json_number(serial).map_or(Value::Null, Value::Number),
    );
    set("Issuer", issuer);
    set("Subject", subject);
    set("NotBefore", Value::String(not_before));
    set("NotAfter", Value::String(not_after));
    set(
        "Extensions",
        list_json(extensions.iter().map(Extension::json).collect()),
    );
    set("ExtraExtensions", Value::Null);
    Ok(Value::Object(out))
}

/// An attribute value as Go's `encoding/asn1` decodes it into `any`:
/// `None` when it fails to decode (the attribute is then skipped), null for
/// the types Go leaves nil (booleans, constructed and tagged values).
fn asn1_any_json(tag: u8, contents: &[u8], whole: &[u8]) -> Option<Value> {
    match tag {
        TAG_INTEGER => Der(whole).read_i64().map(|v| Value::from(v as f64)),
        TAG_OCTET_STRING => Some(b64_json(contents)),
        TAG_OID => parse_oid(contents, 63).map(|o| oid_json(&o)),
        TAG_BIT_STRING => Der(whole).read_bit_string().map(
            |(bytes, bits)| serde_json::json!({"Bytes": b64_json(bytes), "BitLength": bits as f64}),
        ),
        TAG_UTC_TIME | TAG_GENERALIZED_TIME => {
            parse_x509_time(&mut Der(whole)).ok().map(Value::String)
        }
        TAG_T61 => Some(Value::String(lossy(contents))),
        TAG_PRINTABLE | TAG_NUMERIC | TAG_IA5 | TAG_UTF8 | TAG_BMP => {
            asn1_string(tag, contents).ok().map(Value::String)
        }
        _ => Some(Value::Null),
    }
}

/// `parseRawAttributes`: the attributes that read as
/// `AttributeTypeAndValueSET` (others, such as challengePassword, are
/// skipped).
fn csr_attribute_json(raw: &[u8]) -> Option<Value> {
    let mut attr = Der(raw).read(TAG_SEQUENCE)?;
    let oid = attr.read_oid()?;
    let mut set = attr.read(TAG_SET)?;
    let mut outer = Vec::new();
    while !set.is_empty() {
        let mut inner_seq = set.read(TAG_SEQUENCE)?;
        let mut inner = Vec::new();
        while !inner_seq.is_empty() {
            let mut atv = inner_seq.read(TAG_SEQUENCE)?;
            let t = atv.read_oid()?;
            let (tag, contents, whole) = atv.read_any()?;
            let value = asn1_any_json(tag, contents, whole)?;
            inner.push(serde_json::json!({"Type": oid_json(&t), "Value": value}));
        }
        outer.push(Value::Array(inner));
    }
    Some(serde_json::json!({"Type": oid_json(&oid), "Value": outer}))
}

/// `x509.ParseCertificateRequest` + Kyverno's JSON round trip.
fn certificate_request_json(der: &[u8]) -> Result<Value, String> {
    let malformed = || "asn1: structure error: malformed certificate request".to_string();
    let mut input = Der(der);
    let raw = input.read_element(TAG_SEQUENCE).ok_or_else(malformed)?;
    if !input.is_empty() {
        return Err("asn1: syntax error: trailing data".to_string());
    }
    let mut csr = Der(raw).read(TAG_SEQUENCE).ok_or_else(malformed)?;
    let tbs_raw = csr.read_element(TAG_SEQUENCE).ok_or_else(malformed)?;
    let mut tbs = Der(tbs_raw).read(TAG_SEQUENCE).ok_or_else(malformed)?;
    let version = tbs.read_i64().ok_or_else(malformed)?;
    let subject_raw = tbs.read_element(TAG_SEQUENCE).ok_or_else(malformed)?;
    let spki_raw = tbs.read_element(TAG_SEQUENCE).ok_or_else(malformed)?;
    let attributes = tbs.read(ctx_cons(0)).ok_or_else(malformed)?;
    let sig_ai = csr.read(TAG_SEQUENCE).ok_or_else(malformed)?;
    let (signature, _) = csr.read_bit_string().ok_or_else(malformed)?;
    let (sig_oid, sig_params) = parse_ai(sig_ai)?;
    let (pk_algorithm, public_key) = spki_json(spki_raw)?;
    let subject = name_json(subject_raw)?;

    let mut attrs = Vec::new();
    let mut extensions: Vec<Extension<'_>> = Vec::new();
    let mut rest = attributes;
    while !rest.is_empty() {
        let (_, _, whole) = rest.read_any().ok_or_else(malformed)?;
        if let Some(a) = csr_attribute_json(whole) {
            attrs.push(a);
        }
        // parseCSRExtensions: the extensionRequest attribute.
        let mut attr = Der(whole);
        let Some(mut seq) = attr.read(TAG_SEQUENCE) else {
            continue;
        };
        if seq.read_oid().as_deref() != Some(&[1, 2, 840, 113_549, 1, 9, 14][..]) {
            continue;
        }
        let Some(mut values) = seq.read(TAG_SET) else {
            continue;
        };
        let Some(mut exts) = values.read(TAG_SEQUENCE) else {
            continue;
        };
        while !exts.is_empty() {
            let ext = exts.read(TAG_SEQUENCE).ok_or_else(malformed)?;
            let ext = parse_extension(ext)?;
            if extensions.iter().any(|e| e.id == ext.id) {
                return Err(
                    "x509: certificate request contains duplicate requested extensions".to_string(),
                );
            }
            extensions.push(ext);
        }
    }
    let mut sans = Sans::default();
    for e in &extensions {
        if e.id == [2, 5, 29, 17] {
            sans = parse_sans(e.value)?;
        }
    }
    Ok(serde_json::json!({
        "Raw": b64_json(raw),
        "RawTBSCertificateRequest": b64_json(tbs_raw),
        "RawSubjectPublicKeyInfo": b64_json(spki_raw),
        "RawSubject": b64_json(subject_raw),
        "Version": version as f64,
        "Signature": b64_json(signature),
        "SignatureAlgorithm": f64::from(signature_algorithm(&sig_oid, sig_params)),
        "PublicKeyAlgorithm": f64::from(pk_algorithm),
        "PublicKey": public_key,
        "Subject": subject,
        "Attributes": list_json(attrs),
        "Extensions": list_json(extensions.iter().map(Extension::json).collect()),
        "ExtraExtensions": Value::Null,
        "DNSNames": strings_json(&sans.dns),
        "EmailAddresses": strings_json(&sans.emails),
        "IPAddresses": strings_json(&sans.ips),
        "URIs": list_json(sans.uris),
    }))
}

pub(super) fn jp_x509_decode(args: &[Rcvar]) -> Result<Rcvar, String> {
    let input = arg_str("x509_decode", args, 0)?;
    let block = crate::crypto::pem::parse_blocks(input)
        .ok()
        .and_then(|blocks| blocks.into_iter().next())
        .ok_or("failed to decode PEM block")?;
    let value = match block.label.as_str() {
        "CERTIFICATE" => certificate_json(&block.der)?,
        "CERTIFICATE REQUEST" => certificate_request_json(&block.der)?,
        _ => {
            return Err(
                "PEM block neither contains a CERTIFICATE or CERTIFICATE REQUEST".to_string(),
            );
        }
    };
    json_to_var(value)
}

#[cfg(test)]
mod tests {
    use crate::conditions::functions::strings::b64_encode;
    use crate::conditions::functions::tests::{qd, qe, qe_with, table_with};
    use serde_json::{Value, json};

    /// Kyverno's `Test_x509Decode` certificate (an RSA CA).
    const CERT_A: &str = "-----BEGIN CERTIFICATE-----\nMIIC7TCCAdWgAwIBAgIBADANBgkqhkiG9w0BAQsFADAYMRYwFAYDVQQDDA0qLmt5\ndmVybm8uc3ZjMB4XDTIyMDExMTEzMjY0M1oXDTIzMDExMTE0MjY0M1owGDEWMBQG\nA1UEAwwNKi5reXZlcm5vLnN2YzCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoC\nggEBAMsAz85+yino+MmdKsVtHwNi3oAVjumzXHiLfUJK7xi5KU8B7goPHF/VCe/V\n7Y2c4afyfgY2ePw4LxSDkCYNgYwqjSwGIbcsqv5ZRazBdDxR09ri6PknNyBVGLi5\nRlPXIrGQ3psNuf55qwxJxLO31qCZuvktKY5YvuIR4JPmBhuSFXOnn0ZiQw8uxMcQ\n0QA2lz+PxWCVNk9q+31H5DH1oYZDLfU3mijIOA+AJGZbBb+ZwBmpVL0+2TXLxE74\nWowdKEV+WTsKojNTd0VwcuRKRKR/6ynXAAis21y1X7Ui9FJE6mDIylUD40WXOKGJ\n1lYY41kRnYhVhvXYN9JtNYdY3HsCAwEAAaNCMEAwDgYDVR0PAQH/BAQDAgKkMA8G\nA1UdEwEB/wQFMAMBAf8wHQYDVR0OBBYEFOnlASVD9fu3TAjptlW/gAXA4ql+MA0G\nCSqGSIb3DQEBCwUAA4IBAQCIpyRiChxp97crKfQ24Jt7z8P+AGpLf3sX4eL87ESa\n7QRoVJtXLmaut1pUEoYLQruKmh/0YFtZG9WxVgY6iuKbWnu7bOeMB/Ir+V/yrX3R\n+XvZOsuXiJnEbJiBW6lJzLldoW4f/71H+j1WD4tHpqmdMxq/sLqXfPIuc0/m0yFC\nn+ADBWGGB8Nn66vxtv+cT6p+RIVotXPQWbMilWp6pd5wSuB68FqrDwtYLNJtPwFs\n9MPVkuaJdYZ0eWd/rMcKD94Hgf89gvA0+qzMVFf+3BemXskjQRYy6CKsqoyC6jX4\nnhYjumAP/7psbzITsnpHtfCEEU+2JZwgM406aiMcsgLb\n-----END CERTIFICATE-----";

    /// Kyverno's second test certificate.
    const CERT_B: &str = "-----BEGIN CERTIFICATE-----\nMIIDSjCCAjKgAwIBAgIUWxmj40l+TDVJq98Xy7c6Leo3np8wDQYJKoZIhvcNAQEL\nBQAwPTELMAkGA1UEBhMCeHgxCjAIBgNVBAgTAXgxCjAIBgNVBAcTAXgxCjAIBgNV\nBAoTAXgxCjAIBgNVBAsTAXgwHhcNMTgwMjAyMTIzODAwWhcNMjMwMjAxMTIzODAw\nWjA9MQswCQYDVQQGEwJ4eDEKMAgGA1UECBMBeDEKMAgGA1UEBxMBeDEKMAgGA1UE\nChMBeDEKMAgGA1UECxMBeDCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEB\nANHkqOmVf23KMXdaZU2eFUx1h4wb09JINBB8x/HL7UE0KFJcnOoVnNQB0gRukUop\niYCzrzMFyGWWmB/pAEKool+ZiI2uMy6mcYBDtOi4pOm7U0TQQMV6L/5Yfi65xRz3\nRTMd/tYAoFi4aCZbJAGjxU6UWNYDzTy8E/cP6ZnlNbVHRiA6/wHsoWcXtWTXYP5y\nn9cf7EWQi1hOBM4BWmOIyB1f6LEgQipZWMOMPPHO3hsuSBn0rk7jovSt5XTlbgRr\ntxqAJiNjJUykWzIF+lLnZCioippGv5vkdGvE83JoACXvZTUwzA+MLu49fkw3bweq\nkbhrer8kacjfGlw3aJN37eECAwEAAaNCMEAwDgYDVR0PAQH/BAQDAgEGMA8GA1Ud\nEwEB/wQFMAMBAf8wHQYDVR0OBBYEFKXcb52bv6oqnD+D9fTNFHZL8IWxMA0GCSqG\nSIb3DQEBCwUAA4IBAQADvKvv3ym0XAYwKxPLLl3Lc6sJYHDbTN0donduG7PXeb1d\nhuukJ2lfufUYp2IGSAxuLecTYeeByOVp1gaMb5LsIGt2BVDmlMMkiH29LUHsvbyi\n85CpJo7A5RJG6AWW2VBCiDjz5v8JFM6pMkBRFfXH+pwIge65CE+MTSQcfb1/aIIo\nQ226P7E/3uUGX4k4pDXG/O7GNvykF40v1DB5y7DDBTQ4JWiJfyGkT69TmdOGLFAm\njwxUjWyvEey4qJex/EGEm5RQcMv9iy7tba1wK7sykNGn5uDELGPGIIEAa5rIHm1F\nUFOZZVoELaasWS559wy8og39Eq21dDMynb8Bndn/\n-----END CERTIFICATE-----";

    /// Kyverno's test certificate request.
    const CSR: &str = "-----BEGIN CERTIFICATE REQUEST-----\nMIICvDCCAaQCAQAwdzELMAkGA1UEBhMCVVMxDTALBgNVBAgMBFV0YWgxDzANBgNV\nBAcMBkxpbmRvbjEWMBQGA1UECgwNRGlnaUNlcnQgSW5jLjERMA8GA1UECwwIRGln\naUNlcnQxHTAbBgNVBAMMFGV4YW1wbGUuZGlnaWNlcnQuY29tMIIBIjANBgkqhkiG\n9w0BAQEFAAOCAQ8AMIIBCgKCAQEA8+To7d+2kPWeBv/orU3LVbJwDrSQbeKamCmo\nwp5bqDxIwV20zqRb7APUOKYoVEFFOEQs6T6gImnIolhbiH6m4zgZ/CPvWBOkZc+c\n1Po2EmvBz+AD5sBdT5kzGQA6NbWyZGldxRthNLOs1efOhdnWFuhI162qmcflgpiI\nWDuwq4C9f+YkeJhNn9dF5+owm8cOQmDrV8NNdiTqin8q3qYAHHJRW28glJUCZkTZ\nwIaSR6crBQ8TbYNE0dc+Caa3DOIkz1EOsHWzTx+n0zKfqcbgXi4DJx+C1bjptYPR\nBPZL8DAeWuA8ebudVT44yEp82G96/Ggcf7F33xMxe0yc+Xa6owIDAQABoAAwDQYJ\nKoZIhvcNAQEFBQADggEBAB0kcrFccSmFDmxox0Ne01UIqSsDqHgL+XmHTXJwre6D\nhJSZwbvEtOK0G3+dr4Fs11WuUNt5qcLsx5a8uk4G6AKHMzuhLsJ7XZjgmQXGECpY\nQ4mC3yT3ZoCGpIXbw+iP3lmEEXgaQL0Tx5LFl/okKbKYwIqNiyKWOMj7ZR/wxWg/\nZDGRs55xuoeLDJ/ZRFf9bI+IaCUd1YrfYcHIl3G87Av+r49YVwqRDT0VDV7uLgqn\n29XI1PpVUNCPQGn9p/eX6Qo7vpDaPybRtA2R7XLKjQaF9oXWeCUqy1hvJac9QFO2\n97Ob1alpHPoZ7mWiEuJwjBPii6a9M9G30nUo39lBi1w=\n-----END CERTIFICATE REQUEST-----";

    const CERT_A_JSON: &str = r#"{"AuthorityKeyId":null,"BasicConstraintsValid":true,"CRLDistributionPoints":null,"DNSNames":null,"EmailAddresses":null,"ExcludedDNSDomains":null,"ExcludedEmailAddresses":null,"ExcludedIPRanges":null,"ExcludedURIDomains":null,"ExtKeyUsage":null,"Extensions":[{"Critical":true,"Id":[2,5,29,15],"Value":"AwICpA=="},{"Critical":true,"Id":[2,5,29,19],"Value":"MAMBAf8="},{"Critical":false,"Id":[2,5,29,14],"Value":"BBTp5QElQ/X7t0wI6bZVv4AFwOKpfg=="}],"ExtraExtensions":null,"IPAddresses":null,"InhibitAnyPolicy":0,"InhibitAnyPolicyZero":false,"InhibitPolicyMapping":0,"InhibitPolicyMappingZero":false,"IsCA":true,"Issuer":{"CommonName":"*.kyverno.svc","Country":null,"ExtraNames":null,"Locality":null,"Names":[{"Type":[2,5,4,3],"Value":"*.kyverno.svc"}],"Organization":null,"OrganizationalUnit":null,"PostalCode":null,"Province":null,"SerialNumber":"","StreetAddress":null},"IssuingCertificateURL":null,"KeyUsage":37,"MaxPathLen":-1,"MaxPathLenZero":false,"NotAfter":"2023-01-11T14:26:43Z","NotBefore":"2022-01-11T13:26:43Z","OCSPServer":null,"PermittedDNSDomains":null,"PermittedDNSDomainsCritical":false,"PermittedEmailAddresses":null,"PermittedIPRanges":null,"PermittedURIDomains":null,"Policies":null,"PolicyIdentifiers":null,"PolicyMappings":null,"PublicKey":{"E":65537,"N":"25626776194299809103943925293022478779550111351090439168995035251396620593900589237452364135475983088162735720467798166985191488213022186077349821145857402701723499012699772423162550319145896535355752944351742979794245171828792388153331005254201525593934122190716637483002316913539755904599370968007653484768793099970920881706651907943367212661888776583428009130496820305182341702970575924538413569026902195901329094514102681440057150490032724791460671006772434362132998853498175356133386237155854830546292463707783883111067332118558636600306550854546869660051077649500890548685566726464348535891964886136890236394619"},"PublicKeyAlgorithm":1,"Raw":"MIIC7TCCAdWgAwIBAgIBADANBgkqhkiG9w0BAQsFADAYMRYwFAYDVQQDDA0qLmt5dmVybm8uc3ZjMB4XDTIyMDExMTEzMjY0M1oXDTIzMDExMTE0MjY0M1owGDEWMBQGA1UEAwwNKi5reXZlcm5vLnN2YzCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAMsAz85+yino+MmdKsVtHwNi3oAVjumzXHiLfUJK7xi5KU8B7goPHF/VCe/V7Y2c4afyfgY2ePw4LxSDkCYNgYwqjSwGIbcsqv5ZRazBdDxR09ri6PknNyBVGLi5RlPXIrGQ3psNuf55qwxJxLO31qCZuvktKY5YvuIR4JPmBhuSFXOnn0ZiQw8uxMcQ0QA2lz+PxWCVNk9q+31H5DH1oYZDLfU3mijIOA+AJGZbBb+ZwBmpVL0+2TXLxE74WowdKEV+WTsKojNTd0VwcuRKRKR/6ynXAAis21y1X7Ui9FJE6mDIylUD40WXOKGJ1lYY41kRnYhVhvXYN9JtNYdY3HsCAwEAAaNCMEAwDgYDVR0PAQH/BAQDAgKkMA8GA1UdEwEB/wQFMAMBAf8wHQYDVR0OBBYEFOnlASVD9fu3TAjptlW/gAXA4ql+MA0GCSqGSIb3DQEBCwUAA4IBAQCIpyRiChxp97crKfQ24Jt7z8P+AGpLf3sX4eL87ESa7QRoVJtXLmaut1pUEoYLQruKmh/0YFtZG9WxVgY6iuKbWnu7bOeMB/Ir+V/yrX3R+XvZOsuXiJnEbJiBW6lJzLldoW4f/71H+j1WD4tHpqmdMxq/sLqXfPIuc0/m0yFCn+ADBWGGB8Nn66vxtv+cT6p+RIVotXPQWbMilWp6pd5wSuB68FqrDwtYLNJtPwFs9MPVkuaJdYZ0eWd/rMcKD94Hgf89gvA0+qzMVFf+3BemXskjQRYy6CKsqoyC6jX4nhYjumAP/7psbzITsnpHtfCEEU+2JZwgM406aiMcsgLb","RawIssuer":"MBgxFjAUBgNVBAMMDSoua3l2ZXJuby5zdmM=","RawSubject":"MBgxFjAUBgNVBAMMDSoua3l2ZXJuby5zdmM=","RawSubjectPublicKeyInfo":"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAywDPzn7KKej4yZ0qxW0fA2LegBWO6bNceIt9QkrvGLkpTwHuCg8cX9UJ79XtjZzhp/J+BjZ4/DgvFIOQJg2BjCqNLAYhtyyq/llFrMF0PFHT2uLo+Sc3IFUYuLlGU9cisZDemw25/nmrDEnEs7fWoJm6+S0pjli+4hHgk+YGG5IVc6efRmJDDy7ExxDRADaXP4/FYJU2T2r7fUfkMfWhhkMt9TeaKMg4D4AkZlsFv5nAGalUvT7ZNcvETvhajB0oRX5ZOwqiM1N3RXBy5EpEpH/rKdcACKzbXLVftSL0UkTqYMjKVQPjRZc4oYnWVhjjWRGdiFWG9dg30m01h1jcewIDAQAB","RawTBSCertificate":"MIIB1aADAgECAgEAMA0GCSqGSIb3DQEBCwUAMBgxFjAUBgNVBAMMDSoua3l2ZXJuby5zdmMwHhcNMjIwMTExMTMyNjQzWhcNMjMwMTExMTQyNjQzWjAYMRYwFAYDVQQDDA0qLmt5dmVybm8uc3ZjMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAywDPzn7KKej4yZ0qxW0fA2LegBWO6bNceIt9QkrvGLkpTwHuCg8cX9UJ79XtjZzhp/J+BjZ4/DgvFIOQJg2BjCqNLAYhtyyq/llFrMF0PFHT2uLo+Sc3IFUYuLlGU9cisZDemw25/nmrDEnEs7fWoJm6+S0pjli+4hHgk+YGG5IVc6efRmJDDy7ExxDRADaXP4/FYJU2T2r7fUfkMfWhhkMt9TeaKMg4D4AkZlsFv5nAGalUvT7ZNcvETvhajB0oRX5ZOwqiM1N3RXBy5EpEpH/rKdcACKzbXLVftSL0UkTqYMjKVQPjRZc4oYnWVhjjWRGdiFWG9dg30m01h1jcewIDAQABo0IwQDAOBgNVHQ8BAf8EBAMCAqQwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQU6eUBJUP1+7dMCOm2Vb+ABcDiqX4=","RequireExplicitPolicy":0,"RequireExplicitPolicyZero":false,"SerialNumber":0,"Signature":"iKckYgocafe3Kyn0NuCbe8/D/gBqS397F+Hi/OxEmu0EaFSbVy5mrrdaVBKGC0K7ipof9GBbWRvVsVYGOorim1p7u2znjAfyK/lf8q190fl72TrLl4iZxGyYgVupScy5XaFuH/+9R/o9Vg+LR6apnTMav7C6l3zyLnNP5tMhQp/gAwVhhgfDZ+ur8bb/nE+qfkSFaLVz0FmzIpVqeqXecErgevBaqw8LWCzSbT8BbPTD1ZLmiXWGdHlnf6zHCg/eB4H/PYLwNPqszFRX/twXpl7JI0EWMugirKqMguo1+J4WI7pgD/+6bG8yE7J6R7XwhBFPtiWcIDONOmojHLIC2w==","SignatureAlgorithm":4,"Subject":{"CommonName":"*.kyverno.svc","Country":null,"ExtraNames":null,"Locality":null,"Names":[{"Type":[2,5,4,3],"Value":"*.kyverno.svc"}],"Organization":null,"OrganizationalUnit":null,"PostalCode":null,"Province":null,"SerialNumber":"","StreetAddress":null},"SubjectKeyId":"6eUBJUP1+7dMCOm2Vb+ABcDiqX4=","URIs":null,"UnhandledCriticalExtensions":null,"UnknownExtKeyUsage":null,"Version":3}"#;

    const CERT_B_JSON: &str = r#"{"AuthorityKeyId":null,"BasicConstraintsValid":true,"CRLDistributionPoints":null,"DNSNames":null,"EmailAddresses":null,"ExcludedDNSDomains":null,"ExcludedEmailAddresses":null,"ExcludedIPRanges":null,"ExcludedURIDomains":null,"ExtKeyUsage":null,"Extensions":[{"Critical":true,"Id":[2,5,29,15],"Value":"AwIBBg=="},{"Critical":true,"Id":[2,5,29,19],"Value":"MAMBAf8="},{"Critical":false,"Id":[2,5,29,14],"Value":"BBSl3G+dm7+qKpw/g/X0zRR2S/CFsQ=="}],"ExtraExtensions":null,"IPAddresses":null,"InhibitAnyPolicy":0,"InhibitAnyPolicyZero":false,"InhibitPolicyMapping":0,"InhibitPolicyMappingZero":false,"IsCA":true,"Issuer":{"CommonName":"","Country":["xx"],"ExtraNames":null,"Locality":["x"],"Names":[{"Type":[2,5,4,6],"Value":"xx"},{"Type":[2,5,4,8],"Value":"x"},{"Type":[2,5,4,7],"Value":"x"},{"Type":[2,5,4,10],"Value":"x"},{"Type":[2,5,4,11],"Value":"x"}],"Organization":["x"],"OrganizationalUnit":["x"],"PostalCode":null,"Province":["x"],"SerialNumber":"","StreetAddress":null},"IssuingCertificateURL":null,"KeyUsage":96,"MaxPathLen":-1,"MaxPathLenZero":false,"NotAfter":"2023-02-01T12:38:00Z","NotBefore":"2018-02-02T12:38:00Z","OCSPServer":null,"PermittedDNSDomains":null,"PermittedDNSDomainsCritical":false,"PermittedEmailAddresses":null,"PermittedIPRanges":null,"PermittedURIDomains":null,"Policies":null,"PolicyIdentifiers":null,"PolicyMappings":null,"PublicKey":{"E":65537,"N":"26496562094779491076553211809422098021949952483515703281510813808490953126660362388109632773224118754702902108388229193869554055094778177099185065933983949693842239539154549752097759985799130804083586220803335221114269832081649712810220640441076536231140807229028981655981643835428138719795509959624793308640711388215921808921435203036357847686892066058381787405708754578605922703585581205444932036212009496723589206933777338978604488048677611723712498345752655171502746679687404543368933776929978831813434358099337112479727796701588293884856604804625411358577626503349165930794262171211166398339413648296787152727521"},"PublicKeyAlgorithm":1,"Raw":"MIIDSjCCAjKgAwIBAgIUWxmj40l+TDVJq98Xy7c6Leo3np8wDQYJKoZIhvcNAQELBQAwPTELMAkGA1UEBhMCeHgxCjAIBgNVBAgTAXgxCjAIBgNVBAcTAXgxCjAIBgNVBAoTAXgxCjAIBgNVBAsTAXgwHhcNMTgwMjAyMTIzODAwWhcNMjMwMjAxMTIzODAwWjA9MQswCQYDVQQGEwJ4eDEKMAgGA1UECBMBeDEKMAgGA1UEBxMBeDEKMAgGA1UEChMBeDEKMAgGA1UECxMBeDCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBANHkqOmVf23KMXdaZU2eFUx1h4wb09JINBB8x/HL7UE0KFJcnOoVnNQB0gRukUopiYCzrzMFyGWWmB/pAEKool+ZiI2uMy6mcYBDtOi4pOm7U0TQQMV6L/5Yfi65xRz3RTMd/tYAoFi4aCZbJAGjxU6UWNYDzTy8E/cP6ZnlNbVHRiA6/wHsoWcXtWTXYP5yn9cf7EWQi1hOBM4BWmOIyB1f6LEgQipZWMOMPPHO3hsuSBn0rk7jovSt5XTlbgRrtxqAJiNjJUykWzIF+lLnZCioippGv5vkdGvE83JoACXvZTUwzA+MLu49fkw3bweqkbhrer8kacjfGlw3aJN37eECAwEAAaNCMEAwDgYDVR0PAQH/BAQDAgEGMA8GA1UdEwEB/wQFMAMBAf8wHQYDVR0OBBYEFKXcb52bv6oqnD+D9fTNFHZL8IWxMA0GCSqGSIb3DQEBCwUAA4IBAQADvKvv3ym0XAYwKxPLLl3Lc6sJYHDbTN0donduG7PXeb1dhuukJ2lfufUYp2IGSAxuLecTYeeByOVp1gaMb5LsIGt2BVDmlMMkiH29LUHsvbyi85CpJo7A5RJG6AWW2VBCiDjz5v8JFM6pMkBRFfXH+pwIge65CE+MTSQcfb1/aIIoQ226P7E/3uUGX4k4pDXG/O7GNvykF40v1DB5y7DDBTQ4JWiJfyGkT69TmdOGLFAmjwxUjWyvEey4qJex/EGEm5RQcMv9iy7tba1wK7sykNGn5uDELGPGIIEAa5rIHm1FUFOZZVoELaasWS559wy8og39Eq21dDMynb8Bndn/","RawIssuer":"MD0xCzAJBgNVBAYTAnh4MQowCAYDVQQIEwF4MQowCAYDVQQHEwF4MQowCAYDVQQKEwF4MQowCAYDVQQLEwF4","RawSubject":"MD0xCzAJBgNVBAYTAnh4MQowCAYDVQQIEwF4MQowCAYDVQQHEwF4MQowCAYDVQQKEwF4MQowCAYDVQQLEwF4","RawSubjectPublicKeyInfo":"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0eSo6ZV/bcoxd1plTZ4VTHWHjBvT0kg0EHzH8cvtQTQoUlyc6hWc1AHSBG6RSimJgLOvMwXIZZaYH+kAQqiiX5mIja4zLqZxgEO06Lik6btTRNBAxXov/lh+LrnFHPdFMx3+1gCgWLhoJlskAaPFTpRY1gPNPLwT9w/pmeU1tUdGIDr/AeyhZxe1ZNdg/nKf1x/sRZCLWE4EzgFaY4jIHV/osSBCKllYw4w88c7eGy5IGfSuTuOi9K3ldOVuBGu3GoAmI2MlTKRbMgX6UudkKKiKmka/m+R0a8TzcmgAJe9lNTDMD4wu7j1+TDdvB6qRuGt6vyRpyN8aXDdok3ft4QIDAQAB","RawTBSCertificate":"MIICMqADAgECAhRbGaPjSX5MNUmr3xfLtzot6jeenzANBgkqhkiG9w0BAQsFADA9MQswCQYDVQQGEwJ4eDEKMAgGA1UECBMBeDEKMAgGA1UEBxMBeDEKMAgGA1UEChMBeDEKMAgGA1UECxMBeDAeFw0xODAyMDIxMjM4MDBaFw0yMzAyMDExMjM4MDBaMD0xCzAJBgNVBAYTAnh4MQowCAYDVQQIEwF4MQowCAYDVQQHEwF4MQowCAYDVQQKEwF4MQowCAYDVQQLEwF4MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0eSo6ZV/bcoxd1plTZ4VTHWHjBvT0kg0EHzH8cvtQTQoUlyc6hWc1AHSBG6RSimJgLOvMwXIZZaYH+kAQqiiX5mIja4zLqZxgEO06Lik6btTRNBAxXov/lh+LrnFHPdFMx3+1gCgWLhoJlskAaPFTpRY1gPNPLwT9w/pmeU1tUdGIDr/AeyhZxe1ZNdg/nKf1x/sRZCLWE4EzgFaY4jIHV/osSBCKllYw4w88c7eGy5IGfSuTuOi9K3ldOVuBGu3GoAmI2MlTKRbMgX6UudkKKiKmka/m+R0a8TzcmgAJe9lNTDMD4wu7j1+TDdvB6qRuGt6vyRpyN8aXDdok3ft4QIDAQABo0IwQDAOBgNVHQ8BAf8EBAMCAQYwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQUpdxvnZu/qiqcP4P19M0UdkvwhbE=","RequireExplicitPolicy":0,"RequireExplicitPolicyZero":false,"SerialNumber":520089955419326249038486015063014459614455897759,"Signature":"A7yr798ptFwGMCsTyy5dy3OrCWBw20zdHaJ3bhuz13m9XYbrpCdpX7n1GKdiBkgMbi3nE2HngcjladYGjG+S7CBrdgVQ5pTDJIh9vS1B7L28ovOQqSaOwOUSRugFltlQQog48+b/CRTOqTJAURX1x/qcCIHuuQhPjE0kHH29f2iCKENtuj+xP97lBl+JOKQ1xvzuxjb8pBeNL9QwecuwwwU0OCVoiX8hpE+vU5nThixQJo8MVI1srxHsuKiXsfxBhJuUUHDL/Ysu7W2tcCu7MpDRp+bgxCxjxiCBAGuayB5tRVBTmWVaBC2mrFkuefcMvKIN/RKttXQzMp2/AZ3Z/w==","SignatureAlgorithm":4,"Subject":{"CommonName":"","Country":["xx"],"ExtraNames":null,"Locality":["x"],"Names":[{"Type":[2,5,4,6],"Value":"xx"},{"Type":[2,5,4,8],"Value":"x"},{"Type":[2,5,4,7],"Value":"x"},{"Type":[2,5,4,10],"Value":"x"},{"Type":[2,5,4,11],"Value":"x"}],"Organization":["x"],"OrganizationalUnit":["x"],"PostalCode":null,"Province":["x"],"SerialNumber":"","StreetAddress":null},"SubjectKeyId":"pdxvnZu/qiqcP4P19M0UdkvwhbE=","URIs":null,"UnhandledCriticalExtensions":null,"UnknownExtKeyUsage":null,"Version":3}"#;

    const CSR_JSON: &str = r#"{"Attributes":null,"DNSNames":null,"EmailAddresses":null,"Extensions":null,"ExtraExtensions":null,"IPAddresses":null,"PublicKey":{"E":65537,"N":"30788787775499084229626026724118719872973907471499649646184775670914346180312671906399223325409590948519743636184795333482381888453996128329396648505249062053283056069530767359210562374203250761551376585013181653210719557451154530514423713570995019036786795900989905655136970670786111875127185122973524433496741842862203002594125711406631836733656561027033024624302759714504708249269624951711291364305004897900464453081676928894280743798888738608709381777168414778329993619693869221517193116446955833233290395600921852333943656575398427367952052258926688943219100950267027328710138285403327192731641778165311310576291"},"PublicKeyAlgorithm":1,"Raw":"MIICvDCCAaQCAQAwdzELMAkGA1UEBhMCVVMxDTALBgNVBAgMBFV0YWgxDzANBgNVBAcMBkxpbmRvbjEWMBQGA1UECgwNRGlnaUNlcnQgSW5jLjERMA8GA1UECwwIRGlnaUNlcnQxHTAbBgNVBAMMFGV4YW1wbGUuZGlnaWNlcnQuY29tMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA8+To7d+2kPWeBv/orU3LVbJwDrSQbeKamCmowp5bqDxIwV20zqRb7APUOKYoVEFFOEQs6T6gImnIolhbiH6m4zgZ/CPvWBOkZc+c1Po2EmvBz+AD5sBdT5kzGQA6NbWyZGldxRthNLOs1efOhdnWFuhI162qmcflgpiIWDuwq4C9f+YkeJhNn9dF5+owm8cOQmDrV8NNdiTqin8q3qYAHHJRW28glJUCZkTZwIaSR6crBQ8TbYNE0dc+Caa3DOIkz1EOsHWzTx+n0zKfqcbgXi4DJx+C1bjptYPRBPZL8DAeWuA8ebudVT44yEp82G96/Ggcf7F33xMxe0yc+Xa6owIDAQABoAAwDQYJKoZIhvcNAQEFBQADggEBAB0kcrFccSmFDmxox0Ne01UIqSsDqHgL+XmHTXJwre6DhJSZwbvEtOK0G3+dr4Fs11WuUNt5qcLsx5a8uk4G6AKHMzuhLsJ7XZjgmQXGECpYQ4mC3yT3ZoCGpIXbw+iP3lmEEXgaQL0Tx5LFl/okKbKYwIqNiyKWOMj7ZR/wxWg/ZDGRs55xuoeLDJ/ZRFf9bI+IaCUd1YrfYcHIl3G87Av+r49YVwqRDT0VDV7uLgqn29XI1PpVUNCPQGn9p/eX6Qo7vpDaPybRtA2R7XLKjQaF9oXWeCUqy1hvJac9QFO297Ob1alpHPoZ7mWiEuJwjBPii6a9M9G30nUo39lBi1w=","RawSubject":"MHcxCzAJBgNVBAYTAlVTMQ0wCwYDVQQIDARVdGFoMQ8wDQYDVQQHDAZMaW5kb24xFjAUBgNVBAoMDURpZ2lDZXJ0IEluYy4xETAPBgNVBAsMCERpZ2lDZXJ0MR0wGwYDVQQDDBRleGFtcGxlLmRpZ2ljZXJ0LmNvbQ==","RawSubjectPublicKeyInfo":"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA8+To7d+2kPWeBv/orU3LVbJwDrSQbeKamCmowp5bqDxIwV20zqRb7APUOKYoVEFFOEQs6T6gImnIolhbiH6m4zgZ/CPvWBOkZc+c1Po2EmvBz+AD5sBdT5kzGQA6NbWyZGldxRthNLOs1efOhdnWFuhI162qmcflgpiIWDuwq4C9f+YkeJhNn9dF5+owm8cOQmDrV8NNdiTqin8q3qYAHHJRW28glJUCZkTZwIaSR6crBQ8TbYNE0dc+Caa3DOIkz1EOsHWzTx+n0zKfqcbgXi4DJx+C1bjptYPRBPZL8DAeWuA8ebudVT44yEp82G96/Ggcf7F33xMxe0yc+Xa6owIDAQAB","RawTBSCertificateRequest":"MIIBpAIBADB3MQswCQYDVQQGEwJVUzENMAsGA1UECAwEVXRhaDEPMA0GA1UEBwwGTGluZG9uMRYwFAYDVQQKDA1EaWdpQ2VydCBJbmMuMREwDwYDVQQLDAhEaWdpQ2VydDEdMBsGA1UEAwwUZXhhbXBsZS5kaWdpY2VydC5jb20wggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQDz5Ojt37aQ9Z4G/+itTctVsnAOtJBt4pqYKajCnluoPEjBXbTOpFvsA9Q4pihUQUU4RCzpPqAiaciiWFuIfqbjOBn8I+9YE6Rlz5zU+jYSa8HP4APmwF1PmTMZADo1tbJkaV3FG2E0s6zV586F2dYW6EjXraqZx+WCmIhYO7CrgL1/5iR4mE2f10Xn6jCbxw5CYOtXw012JOqKfyrepgAcclFbbyCUlQJmRNnAhpJHpysFDxNtg0TR1z4JprcM4iTPUQ6wdbNPH6fTMp+pxuBeLgMnH4LVuOm1g9EE9kvwMB5a4Dx5u51VPjjISnzYb3r8aBx/sXffEzF7TJz5drqjAgMBAAGgAA==","Signature":"HSRysVxxKYUObGjHQ17TVQipKwOoeAv5eYdNcnCt7oOElJnBu8S04rQbf52vgWzXVa5Q23mpwuzHlry6TgboAoczO6EuwntdmOCZBcYQKlhDiYLfJPdmgIakhdvD6I/eWYQReBpAvRPHksWX+iQpspjAio2LIpY4yPtlH/DFaD9kMZGznnG6h4sMn9lEV/1sj4hoJR3Vit9hwciXcbzsC/6vj1hXCpENPRUNXu4uCqfb1cjU+lVQ0I9Aaf2n95fpCju+kNo/JtG0DZHtcsqNBoX2hdZ4JSrLWG8lpz1AU7b3s5vVqWkc+hnuZaIS4nCME+KLpr0z0bfSdSjf2UGLXA==","SignatureAlgorithm":3,"Subject":{"CommonName":"example.digicert.com","Country":["US"],"ExtraNames":null,"Locality":["Lindon"],"Names":[{"Type":[2,5,4,6],"Value":"US"},{"Type":[2,5,4,8],"Value":"Utah"},{"Type":[2,5,4,7],"Value":"Lindon"},{"Type":[2,5,4,10],"Value":"DigiCert Inc."},{"Type":[2,5,4,11],"Value":"DigiCert"},{"Type":[2,5,4,3],"Value":"example.digicert.com"}],"Organization":["DigiCert Inc."],"OrganizationalUnit":["DigiCert"],"PostalCode":null,"Province":["Utah"],"SerialNumber":"","StreetAddress":null},"URIs":null,"Version":0}"#;

    fn parse_expected(text: &str) -> Value {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn x509_decode_matches_kyverno() {
        let b64 = |pem: &str| b64_encode(format!("{pem}\n").as_bytes());
        let data = json!({
            "a": CERT_A, "b": CERT_B, "csr": CSR,
            "a64": b64(CERT_A), "b64": b64(CERT_B),
            "a_nl": format!("{CERT_A}\n"),
        });
        let a = parse_expected(CERT_A_JSON);
        let b = parse_expected(CERT_B_JSON);
        for (expr, want) in [
            ("x509_decode(base64_decode(a64))", &a),
            ("x509_decode(base64_decode(b64))", &b),
            ("x509_decode(a)", &a),
            ("x509_decode(b)", &b),
            ("x509_decode(a_nl)", &a),
            ("x509_decode(csr)", &parse_expected(CSR_JSON)),
        ] {
            let got = qd(expr, &data);
            assert_eq!(&got, want, "{expr}");
        }
        assert_eq!(
            qd("x509_decode(a).NotAfter", &data),
            json!("2023-01-11T14:26:43Z")
        );
        assert_eq!(
            qd("x509_decode(a).Subject.CommonName", &data),
            json!("*.kyverno.svc")
        );
        assert_eq!(
            qd(
                "x509_decode(a) | time_since('', NotBefore, NotAfter)",
                &data
            ),
            json!("8761h0m0s")
        );
        assert_eq!(qd("x509_decode(b).Issuer.Country", &data), json!(["xx"]));
    }

    #[test]
    fn x509_decode_errors() {
        assert_eq!(qe("x509_decode('xyz')"), "failed to decode PEM block");
        assert_eq!(
            qe("x509_decode('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n')"),
            "PEM block neither contains a CERTIFICATE or CERTIFICATE REQUEST"
        );
        assert_eq!(
            qe("x509_decode('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')"),
            "x509: malformed certificate"
        );
    }

    /// A certificate with every extension Go reads (made with Python's
    /// `cryptography`), and Go's own decoding of it (Go 1.19, whose
    /// `Certificate` lacks the policy fields of newer releases).
    const RICH_CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIFqTCCBRKgAwIBAgIUWxmj40l+TDVJq98Xy7c6Leg3np8wDQYJKoZIhvcNAQEL\nBQAwgb4xCzAJBgNVBAYTAkRFMR8wHQYDVQQKDBZFeGFtcGxlIMOcbsOvY29kZSBH\nbWJIMQ8wDQYDVQQLDAZVbml0IEExDzANBgNVBAsMBlVuaXQgQjESMBAGA1UECQwJ\nTWFpbiBTdCAxMQ4wDAYDVQQRDAUxMjM0NTEOMAwGA1UEBRMFU04tNDIxHTAbBgkq\nhkiG9w0BCQEWDmNhQGV4YW1wbGUuY29tMRkwFwYDVQQDDBByaWNoLmV4YW1wbGUu\nY29tMCAXDTIxMDYwMTEyMDAwMFoYDzIwNTEwMTAxMDAwMDAwWjCBvjELMAkGA1UE\nBhMCREUxHzAdBgNVBAoMFkV4YW1wbGUgw5xuw69jb2RlIEdtYkgxDzANBgNVBAsM\nBlVuaXQgQTEPMA0GA1UECwwGVW5pdCBCMRIwEAYDVQQJDAlNYWluIFN0IDExDjAM\nBgNVBBEMBTEyMzQ1MQ4wDAYDVQQFEwVTTi00MjEdMBsGCSqGSIb3DQEJARYOY2FA\nZXhhbXBsZS5jb20xGTAXBgNVBAMMEHJpY2guZXhhbXBsZS5jb20wgZ8wDQYJKoZI\nhvcNAQEBBQADgY0AMIGJAoGBAKRKMnC+LMOHy7vGE19C+Zcg13b8ULMkbqCis0jg\n/Be8n7cJ0VScvn6sNJJs/Xni1CJ0A3IbPjjQmEoonKYof4Fg/FdtPyvfTJwOH+42\nbAv/WHIpvf65IsJ9Hd3+TDOFpEjqnTZ/E6Bx+77IaPefO/bvL2w2IYsDj2lwEewE\ngyUjAgMBAAGjggKeMIICmjCBpwYDVR0RBIGfMIGcgg1hLmV4YW1wbGUuY29tgg8q\nLmIuZXhhbXBsZS5jb22BDm1lQGV4YW1wbGUuY29thwQKAQIDhxAgAQ24AAAAAAAA\nAAAAAAABhiZzcGlmZmU6Ly90cnVzdC5leGFtcGxlL25zL2RlZmF1bHQvc2EveIYq\naHR0cHM6Ly91c2VyQGguZXhhbXBsZTo4NDQzL3AlMjBxP3g9MSNmcmFnMA8GA1Ud\nDwEB/wQFAwMHrIAwIwYDVR0lBBwwGgYIKwYBBQUHAwEGCCsGAQUFBwMCBgQqAwQF\nMBIGA1UdEwEB/wQIMAYBAf8CAQAwHQYDVR0OBBYEFKkIePmJKG82cDs6vSAp+K97\npasnMB8GA1UdIwQYMBaAFKkIePmJKG82cDs6vSAp+K97pasnMC0GA1UdHwQmMCQw\nIqAgoB6GHGh0dHA6Ly9jcmwuZXhhbXBsZS5jb20vYS5jcmwwXQYIKwYBBQUHAQEE\nUTBPMCMGCCsGAQUFBzABhhdodHRwOi8vb2NzcC5leGFtcGxlLmNvbTAoBggrBgEF\nBQcwAoYcaHR0cDovL2NhLmV4YW1wbGUuY29tL2NhLmNydDAgBgNVHSAEGTAXMAgG\nBmeBDAECATALBgkrBgEEAYaNHwEwgYEGA1UdHgEB/wR3MHWgOjANggtleGFtcGxl\nLmNvbTAKhwgKAAAA/wAAADANgQtleGFtcGxlLmNvbTAOhgwuZXhhbXBsZS5jb22h\nNzARgg9iYWQuZXhhbXBsZS5jb20wIocgIAENuAAAAAAAAAAAAAAAAP////8AAAAA\nAAAAAAAAAAAwEgYDVR0kAQH/BAgwBoABAIEBAzANBgNVHTYBAf8EAwIBADANBgQq\nAwRjAQH/BAIFADANBgkqhkiG9w0BAQsFAAOBgQAqpMmSSBiiMDb0GbxN7ESZZnpp\nHI/zju5HVO/D0GyFtWz2C1bPUaLjwfngrq9Jx7GkdrrygCwvHh8pmSZBUHhty6yw\ncSXqGS7VcayTOh8lsOblP0xGi03Af+08ZSLbBbwbvxnhvDEFm/fUaD4ouDGCppK9\nxXqCFV1o8A52Mo9n1Q==\n-----END CERTIFICATE-----\n";

    const RICH_CERT_GO: &str = r#"{"AuthorityKeyId":"qQh4+YkobzZwOzq9ICn4r3ulqyc=","BasicConstraintsValid":true,"CRLDistributionPoints":["http://crl.example.com/a.crl"],"DNSNames":["a.example.com","*.b.example.com"],"EmailAddresses":["me@example.com"],"ExcludedDNSDomains":["bad.example.com"],"ExcludedEmailAddresses":null,"ExcludedIPRanges":[{"IP":"2001:db8::","Mask":"/////wAAAAAAAAAAAAAAAA=="}],"ExcludedURIDomains":null,"ExtKeyUsage":[1,2],"Extensions":[{"Critical":false,"Id":[2,5,29,17],"Value":"MIGcgg1hLmV4YW1wbGUuY29tgg8qLmIuZXhhbXBsZS5jb22BDm1lQGV4YW1wbGUuY29thwQKAQIDhxAgAQ24AAAAAAAAAAAAAAABhiZzcGlmZmU6Ly90cnVzdC5leGFtcGxlL25zL2RlZmF1bHQvc2EveIYqaHR0cHM6Ly91c2VyQGguZXhhbXBsZTo4NDQzL3AlMjBxP3g9MSNmcmFn"},{"Critical":true,"Id":[2,5,29,15],"Value":"AwMHrIA="},{"Critical":false,"Id":[2,5,29,37],"Value":"MBoGCCsGAQUFBwMBBggrBgEFBQcDAgYEKgMEBQ=="},{"Critical":true,"Id":[2,5,29,19],"Value":"MAYBAf8CAQA="},{"Critical":false,"Id":[2,5,29,14],"Value":"BBSpCHj5iShvNnA7Or0gKfive6WrJw=="},{"Critical":false,"Id":[2,5,29,35],"Value":"MBaAFKkIePmJKG82cDs6vSAp+K97pasn"},{"Critical":false,"Id":[2,5,29,31],"Value":"MCQwIqAgoB6GHGh0dHA6Ly9jcmwuZXhhbXBsZS5jb20vYS5jcmw="},{"Critical":false,"Id":[1,3,6,1,5,5,7,1,1],"Value":"ME8wIwYIKwYBBQUHMAGGF2h0dHA6Ly9vY3NwLmV4YW1wbGUuY29tMCgGCCsGAQUFBzAChhxodHRwOi8vY2EuZXhhbXBsZS5jb20vY2EuY3J0"},{"Critical":false,"Id":[2,5,29,32],"Value":"MBcwCAYGZ4EMAQIBMAsGCSsGAQQBho0fAQ=="},{"Critical":true,"Id":[2,5,29,30],"Value":"MHWgOjANggtleGFtcGxlLmNvbTAKhwgKAAAA/wAAADANgQtleGFtcGxlLmNvbTAOhgwuZXhhbXBsZS5jb22hNzARgg9iYWQuZXhhbXBsZS5jb20wIocgIAENuAAAAAAAAAAAAAAAAP////8AAAAAAAAAAAAAAAA="},{"Critical":true,"Id":[2,5,29,36],"Value":"MAaAAQCBAQM="},{"Critical":true,"Id":[2,5,29,54],"Value":"AgEA"},{"Critical":true,"Id":[1,2,3,4,99],"Value":"BQA="}],"ExtraExtensions":null,"IPAddresses":["10.1.2.3","2001:db8::1"],"IsCA":true,"Issuer":{"CommonName":"rich.example.com","Country":["DE"],"ExtraNames":null,"Locality":null,"Names":[{"Type":[2,5,4,6],"Value":"DE"},{"Type":[2,5,4,10],"Value":"Example \u00dcn\u00efcode GmbH"},{"Type":[2,5,4,11],"Value":"Unit A"},{"Type":[2,5,4,11],"Value":"Unit B"},{"Type":[2,5,4,9],"Value":"Main St 1"},{"Type":[2,5,4,17],"Value":"12345"},{"Type":[2,5,4,5],"Value":"SN-42"},{"Type":[1,2,840,113549,1,9,1],"Value":"ca@example.com"},{"Type":[2,5,4,3],"Value":"rich.example.com"}],"Organization":["Example \u00dcn\u00efcode GmbH"],"OrganizationalUnit":["Unit A","Unit B"],"PostalCode":["12345"],"Province":null,"SerialNumber":"SN-42","StreetAddress":["Main St 1"]},"IssuingCertificateURL":["http://ca.example.com/ca.crt"],"KeyUsage":309,"MaxPathLen":0,"MaxPathLenZero":true,"NotAfter":"2051-01-01T00:00:00Z","NotBefore":"2021-06-01T12:00:00Z","OCSPServer":["http://ocsp.example.com"],"PermittedDNSDomains":["example.com"],"PermittedDNSDomainsCritical":true,"PermittedEmailAddresses":["example.com"],"PermittedIPRanges":[{"IP":"10.0.0.0","Mask":"/wAAAA=="}],"PermittedURIDomains":[".example.com"],"PolicyIdentifiers":[[2,23,140,1,2,1],[1,3,6,1,4,1,99999,1]],"PublicKey":null,"PublicKeyAlgorithm":1,"Raw":"MIIFqTCCBRKgAwIBAgIUWxmj40l+TDVJq98Xy7c6Leg3np8wDQYJKoZIhvcNAQELBQAwgb4xCzAJBgNVBAYTAkRFMR8wHQYDVQQKDBZFeGFtcGxlIMOcbsOvY29kZSBHbWJIMQ8wDQYDVQQLDAZVbml0IEExDzANBgNVBAsMBlVuaXQgQjESMBAGA1UECQwJTWFpbiBTdCAxMQ4wDAYDVQQRDAUxMjM0NTEOMAwGA1UEBRMFU04tNDIxHTAbBgkqhkiG9w0BCQEWDmNhQGV4YW1wbGUuY29tMRkwFwYDVQQDDBByaWNoLmV4YW1wbGUuY29tMCAXDTIxMDYwMTEyMDAwMFoYDzIwNTEwMTAxMDAwMDAwWjCBvjELMAkGA1UEBhMCREUxHzAdBgNVBAoMFkV4YW1wbGUgw5xuw69jb2RlIEdtYkgxDzANBgNVBAsMBlVuaXQgQTEPMA0GA1UECwwGVW5pdCBCMRIwEAYDVQQJDAlNYWluIFN0IDExDjAMBgNVBBEMBTEyMzQ1MQ4wDAYDVQQFEwVTTi00MjEdMBsGCSqGSIb3DQEJARYOY2FAZXhhbXBsZS5jb20xGTAXBgNVBAMMEHJpY2guZXhhbXBsZS5jb20wgZ8wDQYJKoZIhvcNAQEBBQADgY0AMIGJAoGBAKRKMnC+LMOHy7vGE19C+Zcg13b8ULMkbqCis0jg/Be8n7cJ0VScvn6sNJJs/Xni1CJ0A3IbPjjQmEoonKYof4Fg/FdtPyvfTJwOH+42bAv/WHIpvf65IsJ9Hd3+TDOFpEjqnTZ/E6Bx+77IaPefO/bvL2w2IYsDj2lwEewEgyUjAgMBAAGjggKeMIICmjCBpwYDVR0RBIGfMIGcgg1hLmV4YW1wbGUuY29tgg8qLmIuZXhhbXBsZS5jb22BDm1lQGV4YW1wbGUuY29thwQKAQIDhxAgAQ24AAAAAAAAAAAAAAABhiZzcGlmZmU6Ly90cnVzdC5leGFtcGxlL25zL2RlZmF1bHQvc2EveIYqaHR0cHM6Ly91c2VyQGguZXhhbXBsZTo4NDQzL3AlMjBxP3g9MSNmcmFnMA8GA1UdDwEB/wQFAwMHrIAwIwYDVR0lBBwwGgYIKwYBBQUHAwEGCCsGAQUFBwMCBgQqAwQFMBIGA1UdEwEB/wQIMAYBAf8CAQAwHQYDVR0OBBYEFKkIePmJKG82cDs6vSAp+K97pasnMB8GA1UdIwQYMBaAFKkIePmJKG82cDs6vSAp+K97pasnMC0GA1UdHwQmMCQwIqAgoB6GHGh0dHA6Ly9jcmwuZXhhbXBsZS5jb20vYS5jcmwwXQYIKwYBBQUHAQEEUTBPMCMGCCsGAQUFBzABhhdodHRwOi8vb2NzcC5leGFtcGxlLmNvbTAoBggrBgEFBQcwAoYcaHR0cDovL2NhLmV4YW1wbGUuY29tL2NhLmNydDAgBgNVHSAEGTAXMAgGBmeBDAECATALBgkrBgEEAYaNHwEwgYEGA1UdHgEB/wR3MHWgOjANggtleGFtcGxlLmNvbTAKhwgKAAAA/wAAADANgQtleGFtcGxlLmNvbTAOhgwuZXhhbXBsZS5jb22hNzARgg9iYWQuZXhhbXBsZS5jb20wIocgIAENuAAAAAAAAAAAAAAAAP////8AAAAAAAAAAAAAAAAwEgYDVR0kAQH/BAgwBoABAIEBAzANBgNVHTYBAf8EAwIBADANBgQqAwRjAQH/BAIFADANBgkqhkiG9w0BAQsFAAOBgQAqpMmSSBiiMDb0GbxN7ESZZnppHI/zju5HVO/D0GyFtWz2C1bPUaLjwfngrq9Jx7GkdrrygCwvHh8pmSZBUHhty6ywcSXqGS7VcayTOh8lsOblP0xGi03Af+08ZSLbBbwbvxnhvDEFm/fUaD4ouDGCppK9xXqCFV1o8A52Mo9n1Q==","RawIssuer":"MIG+MQswCQYDVQQGEwJERTEfMB0GA1UECgwWRXhhbXBsZSDDnG7Dr2NvZGUgR21iSDEPMA0GA1UECwwGVW5pdCBBMQ8wDQYDVQQLDAZVbml0IEIxEjAQBgNVBAkMCU1haW4gU3QgMTEOMAwGA1UEEQwFMTIzNDUxDjAMBgNVBAUTBVNOLTQyMR0wGwYJKoZIhvcNAQkBFg5jYUBleGFtcGxlLmNvbTEZMBcGA1UEAwwQcmljaC5leGFtcGxlLmNvbQ==","RawSubject":"MIG+MQswCQYDVQQGEwJERTEfMB0GA1UECgwWRXhhbXBsZSDDnG7Dr2NvZGUgR21iSDEPMA0GA1UECwwGVW5pdCBBMQ8wDQYDVQQLDAZVbml0IEIxEjAQBgNVBAkMCU1haW4gU3QgMTEOMAwGA1UEEQwFMTIzNDUxDjAMBgNVBAUTBVNOLTQyMR0wGwYJKoZIhvcNAQkBFg5jYUBleGFtcGxlLmNvbTEZMBcGA1UEAwwQcmljaC5leGFtcGxlLmNvbQ==","RawSubjectPublicKeyInfo":"MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCkSjJwvizDh8u7xhNfQvmXINd2/FCzJG6gorNI4PwXvJ+3CdFUnL5+rDSSbP154tQidANyGz440JhKKJymKH+BYPxXbT8r30ycDh/uNmwL/1hyKb3+uSLCfR3d/kwzhaRI6p02fxOgcfu+yGj3nzv27y9sNiGLA49pcBHsBIMlIwIDAQAB","RawTBSCertificate":"MIIFEqADAgECAhRbGaPjSX5MNUmr3xfLtzot6DeenzANBgkqhkiG9w0BAQsFADCBvjELMAkGA1UEBhMCREUxHzAdBgNVBAoMFkV4YW1wbGUgw5xuw69jb2RlIEdtYkgxDzANBgNVBAsMBlVuaXQgQTEPMA0GA1UECwwGVW5pdCBCMRIwEAYDVQQJDAlNYWluIFN0IDExDjAMBgNVBBEMBTEyMzQ1MQ4wDAYDVQQFEwVTTi00MjEdMBsGCSqGSIb3DQEJARYOY2FAZXhhbXBsZS5jb20xGTAXBgNVBAMMEHJpY2guZXhhbXBsZS5jb20wIBcNMjEwNjAxMTIwMDAwWhgPMjA1MTAxMDEwMDAwMDBaMIG+MQswCQYDVQQGEwJERTEfMB0GA1UECgwWRXhhbXBsZSDDnG7Dr2NvZGUgR21iSDEPMA0GA1UECwwGVW5pdCBBMQ8wDQYDVQQLDAZVbml0IEIxEjAQBgNVBAkMCU1haW4gU3QgMTEOMAwGA1UEEQwFMTIzNDUxDjAMBgNVBAUTBVNOLTQyMR0wGwYJKoZIhvcNAQkBFg5jYUBleGFtcGxlLmNvbTEZMBcGA1UEAwwQcmljaC5leGFtcGxlLmNvbTCBnzANBgkqhkiG9w0BAQEFAAOBjQAwgYkCgYEApEoycL4sw4fLu8YTX0L5lyDXdvxQsyRuoKKzSOD8F7yftwnRVJy+fqw0kmz9eeLUInQDchs+ONCYSiicpih/gWD8V20/K99MnA4f7jZsC/9Ycim9/rkiwn0d3f5MM4WkSOqdNn8ToHH7vsho95879u8vbDYhiwOPaXAR7ASDJSMCAwEAAaOCAp4wggKaMIGnBgNVHREEgZ8wgZyCDWEuZXhhbXBsZS5jb22CDyouYi5leGFtcGxlLmNvbYEObWVAZXhhbXBsZS5jb22HBAoBAgOHECABDbgAAAAAAAAAAAAAAAGGJnNwaWZmZTovL3RydXN0LmV4YW1wbGUvbnMvZGVmYXVsdC9zYS94hipodHRwczovL3VzZXJAaC5leGFtcGxlOjg0NDMvcCUyMHE/eD0xI2ZyYWcwDwYDVR0PAQH/BAUDAwesgDAjBgNVHSUEHDAaBggrBgEFBQcDAQYIKwYBBQUHAwIGBCoDBAUwEgYDVR0TAQH/BAgwBgEB/wIBADAdBgNVHQ4EFgQUqQh4+YkobzZwOzq9ICn4r3ulqycwHwYDVR0jBBgwFoAUqQh4+YkobzZwOzq9ICn4r3ulqycwLQYDVR0fBCYwJDAioCCgHoYcaHR0cDovL2NybC5leGFtcGxlLmNvbS9hLmNybDBdBggrBgEFBQcBAQRRME8wIwYIKwYBBQUHMAGGF2h0dHA6Ly9vY3NwLmV4YW1wbGUuY29tMCgGCCsGAQUFBzAChhxodHRwOi8vY2EuZXhhbXBsZS5jb20vY2EuY3J0MCAGA1UdIAQZMBcwCAYGZ4EMAQIBMAsGCSsGAQQBho0fATCBgQYDVR0eAQH/BHcwdaA6MA2CC2V4YW1wbGUuY29tMAqHCAoAAAD/AAAAMA2BC2V4YW1wbGUuY29tMA6GDC5leGFtcGxlLmNvbaE3MBGCD2JhZC5leGFtcGxlLmNvbTAihyAgAQ24AAAAAAAAAAAAAAAA/////wAAAAAAAAAAAAAAADASBgNVHSQBAf8ECDAGgAEAgQEDMA0GA1UdNgEB/wQDAgEAMA0GBCoDBGMBAf8EAgUA","SerialNumber":5.2008995541932624e+47,"Signature":"KqTJkkgYojA29Bm8TexEmWZ6aRyP847uR1Tvw9BshbVs9gtWz1Gi48H54K6vScexpHa68oAsLx4fKZkmQVB4bcussHEl6hku1XGskzofJbDm5T9MRotNwH/tPGUi2wW8G78Z4bwxBZv31Gg+KLgxgqaSvcV6ghVdaPAOdjKPZ9U=","SignatureAlgorithm":4,"Subject":{"CommonName":"rich.example.com","Country":["DE"],"ExtraNames":null,"Locality":null,"Names":[{"Type":[2,5,4,6],"Value":"DE"},{"Type":[2,5,4,10],"Value":"Example \u00dcn\u00efcode GmbH"},{"Type":[2,5,4,11],"Value":"Unit A"},{"Type":[2,5,4,11],"Value":"Unit B"},{"Type":[2,5,4,9],"Value":"Main St 1"},{"Type":[2,5,4,17],"Value":"12345"},{"Type":[2,5,4,5],"Value":"SN-42"},{"Type":[1,2,840,113549,1,9,1],"Value":"ca@example.com"},{"Type":[2,5,4,3],"Value":"rich.example.com"}],"Organization":["Example \u00dcn\u00efcode GmbH"],"OrganizationalUnit":["Unit A","Unit B"],"PostalCode":["12345"],"Province":null,"SerialNumber":"SN-42","StreetAddress":["Main St 1"]},"SubjectKeyId":"qQh4+YkobzZwOzq9ICn4r3ulqyc=","URIs":[{"ForceQuery":false,"Fragment":"","Host":"trust.example","OmitHost":false,"Opaque":"","Path":"/ns/default/sa/x","RawFragment":"","RawPath":"","RawQuery":"","Scheme":"spiffe","User":null},{"ForceQuery":false,"Fragment":"frag","Host":"h.example:8443","OmitHost":false,"Opaque":"","Path":"/p q","RawFragment":"","RawPath":"","RawQuery":"x=1","Scheme":"https","User":{}}],"UnhandledCriticalExtensions":[[2,5,29,36],[2,5,29,54],[1,2,3,4,99]],"UnknownExtKeyUsage":[[1,2,3,4,5]],"Version":3}"#;

    /// RSA-PSS (SHA-256) signed.
    const PSS_CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIDWjCCAo+gAwIBAgIBBzBBBgkqhkiG9w0BAQowNKAPMA0GCWCGSAFlAwQCAQUA\noRwwGgYJKoZIhvcNAQEIMA0GCWCGSAFlAwQCAQUAogMCASAwgb4xCzAJBgNVBAYT\nAkRFMR8wHQYDVQQKDBZFeGFtcGxlIMOcbsOvY29kZSBHbWJIMQ8wDQYDVQQLDAZV\nbml0IEExDzANBgNVBAsMBlVuaXQgQjESMBAGA1UECQwJTWFpbiBTdCAxMQ4wDAYD\nVQQRDAUxMjM0NTEOMAwGA1UEBRMFU04tNDIxHTAbBgkqhkiG9w0BCQEWDmNhQGV4\nYW1wbGUuY29tMRkwFwYDVQQDDBByaWNoLmV4YW1wbGUuY29tMB4XDTIxMDYwMTEy\nMDAwMFoXDTMxMDEwMTAwMDAwMFowgb4xCzAJBgNVBAYTAkRFMR8wHQYDVQQKDBZF\neGFtcGxlIMOcbsOvY29kZSBHbWJIMQ8wDQYDVQQLDAZVbml0IEExDzANBgNVBAsM\nBlVuaXQgQjESMBAGA1UECQwJTWFpbiBTdCAxMQ4wDAYDVQQRDAUxMjM0NTEOMAwG\nA1UEBRMFU04tNDIxHTAbBgkqhkiG9w0BCQEWDmNhQGV4YW1wbGUuY29tMRkwFwYD\nVQQDDBByaWNoLmV4YW1wbGUuY29tMIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKB\ngQCkSjJwvizDh8u7xhNfQvmXINd2/FCzJG6gorNI4PwXvJ+3CdFUnL5+rDSSbP15\n4tQidANyGz440JhKKJymKH+BYPxXbT8r30ycDh/uNmwL/1hyKb3+uSLCfR3d/kwz\nhaRI6p02fxOgcfu+yGj3nzv27y9sNiGLA49pcBHsBIMlIwIDAQABMEEGCSqGSIb3\nDQEBCjA0oA8wDQYJYIZIAWUDBAIBBQChHDAaBgkqhkiG9w0BAQgwDQYJYIZIAWUD\nBAIBBQCiAwIBIAOBgQCERoejtRC5Grt5r4dcAW76cetS2BfcJhvMyPdqxt5Lv+le\neZFc5L07mnoPbSb/nbipPcAy3KacLIEyo7aXhFMbncrbNmJtkswPTqVK7KeeRBqX\nfw132zkl2GvAGOsyMzL2kA7GaXhQ3zk2nQUfAs8Qm9ufJVSvYMUstgxBVHCmNg==\n-----END CERTIFICATE-----\n";

    /// UTCTime 491231235959Z (2049), SHA-384.
    const UTC_2049_CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIC8jCCAlugAwIBAgIBATANBgkqhkiG9w0BAQwFADCBvjELMAkGA1UEBhMCREUx\nHzAdBgNVBAoMFkV4YW1wbGUgw5xuw69jb2RlIEdtYkgxDzANBgNVBAsMBlVuaXQg\nQTEPMA0GA1UECwwGVW5pdCBCMRIwEAYDVQQJDAlNYWluIFN0IDExDjAMBgNVBBEM\nBTEyMzQ1MQ4wDAYDVQQFEwVTTi00MjEdMBsGCSqGSIb3DQEJARYOY2FAZXhhbXBs\nZS5jb20xGTAXBgNVBAMMEHJpY2guZXhhbXBsZS5jb20wHhcNMjEwNjAxMTIwMDAw\nWhcNNDkxMjMxMjM1OTU5WjCBvjELMAkGA1UEBhMCREUxHzAdBgNVBAoMFkV4YW1w\nbGUgw5xuw69jb2RlIEdtYkgxDzANBgNVBAsMBlVuaXQgQTEPMA0GA1UECwwGVW5p\ndCBCMRIwEAYDVQQJDAlNYWluIFN0IDExDjAMBgNVBBEMBTEyMzQ1MQ4wDAYDVQQF\nEwVTTi00MjEdMBsGCSqGSIb3DQEJARYOY2FAZXhhbXBsZS5jb20xGTAXBgNVBAMM\nEHJpY2guZXhhbXBsZS5jb20wgZ8wDQYJKoZIhvcNAQEBBQADgY0AMIGJAoGBAKRK\nMnC+LMOHy7vGE19C+Zcg13b8ULMkbqCis0jg/Be8n7cJ0VScvn6sNJJs/Xni1CJ0\nA3IbPjjQmEoonKYof4Fg/FdtPyvfTJwOH+42bAv/WHIpvf65IsJ9Hd3+TDOFpEjq\nnTZ/E6Bx+77IaPefO/bvL2w2IYsDj2lwEewEgyUjAgMBAAEwDQYJKoZIhvcNAQEM\nBQADgYEAK+A+6OsOW9mE4Z6kbqZeoYZfYbAB6iwkYYTPRm42JPUB6kRD8rSt4vx5\nXXDzRUfXMTi70dDgsCAlLuAOdTpJkEhICzn3yaN2Abx2rN+UCAXing7LpMr73Ege\naDZhA//TSDHZ9ogpEk1uGYuIw29Wl0ks9V0LybwQjwQvlt+3lu0=\n-----END CERTIFICATE-----\n";

    /// ECDSA P-256.
    const EC_CERT: &str = "-----BEGIN CERTIFICATE-----\nMIICgDCCAiagAwIBAgIUWxmj40l+TDVJq98Xy7c6Leg3np8wCgYIKoZIzj0EAwIw\ngb4xCzAJBgNVBAYTAkRFMR8wHQYDVQQKDBZFeGFtcGxlIMOcbsOvY29kZSBHbWJI\nMQ8wDQYDVQQLDAZVbml0IEExDzANBgNVBAsMBlVuaXQgQjESMBAGA1UECQwJTWFp\nbiBTdCAxMQ4wDAYDVQQRDAUxMjM0NTEOMAwGA1UEBRMFU04tNDIxHTAbBgkqhkiG\n9w0BCQEWDmNhQGV4YW1wbGUuY29tMRkwFwYDVQQDDBByaWNoLmV4YW1wbGUuY29t\nMCAXDTIxMDYwMTEyMDAwMFoYDzIwNTEwMTAxMDAwMDAwWjCBvjELMAkGA1UEBhMC\nREUxHzAdBgNVBAoMFkV4YW1wbGUgw5xuw69jb2RlIEdtYkgxDzANBgNVBAsMBlVu\naXQgQTEPMA0GA1UECwwGVW5pdCBCMRIwEAYDVQQJDAlNYWluIFN0IDExDjAMBgNV\nBBEMBTEyMzQ1MQ4wDAYDVQQFEwVTTi00MjEdMBsGCSqGSIb3DQEJARYOY2FAZXhh\nbXBsZS5jb20xGTAXBgNVBAMMEHJpY2guZXhhbXBsZS5jb20wWTATBgcqhkjOPQIB\nBggqhkjOPQMBBwNCAASCFYJhJzTGhvZdkpWkgMzBVHfT7kBpSbK9EmWMJJYXpLHX\nKRDPoaL+v/OfKWjOjgvsida57H5/Vs2pb1pckNgqMAoGCCqGSM49BAMCA0gAMEUC\nIQCzriTLqIHw3XkNc+qeZrA/7R8D+r0y7vf30aFZTXCoPgIgDLXubXenNdwtTfEd\nIThcr5Dga3n9xvG3AEpJhscTZ40=\n-----END CERTIFICATE-----\n";

    /// A request with SANs, a critical basic constraints extension and a
    /// challenge password.
    const RICH_CSR: &str = "-----BEGIN CERTIFICATE REQUEST-----\nMIICVzCCAcACAQAwgb4xCzAJBgNVBAYTAkRFMR8wHQYDVQQKDBZFeGFtcGxlIMOc\nbsOvY29kZSBHbWJIMQ8wDQYDVQQLDAZVbml0IEExDzANBgNVBAsMBlVuaXQgQjES\nMBAGA1UECQwJTWFpbiBTdCAxMQ4wDAYDVQQRDAUxMjM0NTEOMAwGA1UEBRMFU04t\nNDIxHTAbBgkqhkiG9w0BCQEWDmNhQGV4YW1wbGUuY29tMRkwFwYDVQQDDBByaWNo\nLmV4YW1wbGUuY29tMIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCkSjJwvizD\nh8u7xhNfQvmXINd2/FCzJG6gorNI4PwXvJ+3CdFUnL5+rDSSbP154tQidANyGz44\n0JhKKJymKH+BYPxXbT8r30ycDh/uNmwL/1hyKb3+uSLCfR3d/kwzhaRI6p02fxOg\ncfu+yGj3nzv27y9sNiGLA49pcBHsBIMlIwIDAQABoFgwFQYJKoZIhvcNAQkHMQgM\nBnNlY3JldDA/BgkqhkiG9w0BCQ4xMjAwMCAGA1UdEQQZMBeCD2Nzci5leGFtcGxl\nLmNvbYcEwKgBATAMBgNVHRMBAf8EAjAAMA0GCSqGSIb3DQEBCwUAA4GBAFra93sT\nw6TOJrPuF5EIJ3iSsk6pFptQ84Pdvvaz2q33gHyxOJ03WEfDuEPF8xDH3Pp1cdYZ\n1/DmJLntSZbrgJBqtqKxGJWt2CUKHbM58G82bYh+yXC+LoRG+6WZQFcVNXEZDdPE\nl3nUd5MYy31KPYTJwWra2PYrpJhbHqNwy5iM\n-----END CERTIFICATE REQUEST-----\n";

    #[test]
    fn x509_decode_matches_go_on_every_extension() {
        let data =
            json!({"rich": RICH_CERT, "pss": PSS_CERT, "utc": UTC_2049_CERT, "csr": RICH_CSR});
        let got = qd("x509_decode(rich)", &data);
        let want = parse_expected(RICH_CERT_GO);
        let (Some(got), Some(want)) = (got.as_object(), want.as_object()) else {
            panic!("not objects");
        };
        for (key, value) in want {
            match key.as_str() {
                "PublicKey" => assert!(got["PublicKey"]["N"].is_string()),
                // Go 1.19 did not read these two extensions; newer Go does.
                "UnhandledCriticalExtensions" => {
                    assert_eq!(got[key], json!([[1, 2, 3, 4, 99]]));
                }
                "SerialNumber" => assert_eq!(got[key].as_f64(), value.as_f64()),
                _ => assert_eq!(&got[key], value, "{key}"),
            }
        }
        for (key, value) in [
            ("Policies", json!(["2.23.140.1.2.1", "1.3.6.1.4.1.99999.1"])),
            ("RequireExplicitPolicy", json!(0)),
            ("RequireExplicitPolicyZero", json!(true)),
            ("InhibitPolicyMapping", json!(3)),
            ("InhibitPolicyMappingZero", json!(false)),
            ("InhibitAnyPolicy", json!(0)),
            ("InhibitAnyPolicyZero", json!(true)),
            ("PolicyMappings", json!(null)),
        ] {
            assert_eq!(got[key], value, "{key}");
        }
        table_with(
            &data,
            &[
                ("x509_decode(pss).SignatureAlgorithm", json!(13)),
                ("x509_decode(pss).SerialNumber", json!(7)),
                ("x509_decode(utc).NotAfter", json!("2049-12-31T23:59:59Z")),
                ("x509_decode(utc).SignatureAlgorithm", json!(5)),
                ("x509_decode(utc).Extensions", json!(null)),
                ("x509_decode(csr).DNSNames", json!(["csr.example.com"])),
                ("x509_decode(csr).IPAddresses", json!(["192.168.1.1"])),
                (
                    "x509_decode(csr).Extensions[*].Critical",
                    json!([false, true]),
                ),
                (
                    "x509_decode(csr).Attributes",
                    json!([{"Type": [1, 2, 840, 113_549, 1, 9, 14], "Value": [[
                        {"Type": [2, 5, 29, 17], "Value": "MBeCD2Nzci5leGFtcGxlLmNvbYcEwKgBAQ=="},
                        {"Type": [2, 5, 29, 19], "Value": null}
                    ]]}]),
                ),
                (
                    "x509_decode(csr).Subject.OrganizationalUnit",
                    json!(["Unit A", "Unit B"]),
                ),
            ],
        );
        assert_eq!(
            qe_with("x509_decode(c)", &json!({ "c": EC_CERT }), None),
            "certificate should use rsa algorithm"
        );
    }
}
