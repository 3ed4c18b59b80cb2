//! JWS and COSE_Sign1 envelopes, laid out as notation-core-go lays them out
//! (`signature/jws`, `signature/cose`).
//!
//! JWS: the flattened JSON serialisation `{"payload", "protected",
//! "header", "signature"}` in that order. The protected header is a JSON
//! object with sorted keys (Go marshals a map), the payload is
//! `{"targetArtifact": descriptor}` with sorted keys too (notation-go
//! re-marshals it as `jwt.MapClaims`), times are RFC 3339 strings, the
//! certificates in `header.x5c` are standard base64 with padding, and the
//! rest is base64url without padding. The signature covers the ASCII of
//! `protected.payload`.
//!
//! COSE: `COSE_Sign1_Tagged` (tag 18) of `[protected bstr, unprotected map,
//! payload bstr, signature bstr]`, maps in RFC 8949 core deterministic
//! order (go-cose's), times as tag 1 epoch seconds, certificates as an
//! array of bstr under label 33 even for one. The payload JSON keeps the
//! OCI descriptor's field order (`mediaType`, `digest`, `size`,
//! `annotations`, `artifactType`), as `json.Marshal` of the Go struct
//! writes it. The signature covers the CBOR of `["Signature1", protected
//! bstr, h'', payload bstr]`.

use std::collections::BTreeMap;

use base64::Engine as _;
use minicbor::data::Type;
use minicbor::{Decoder, Encoder};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::json::{Sorted, marshal};
use crate::key::{Key, KeyKind};

/// The JWS envelope's media type.
pub const MEDIA_TYPE_JWS: &str = "application/jose+json";
/// The COSE_Sign1 envelope's media type.
pub const MEDIA_TYPE_COSE: &str = "application/cose";
/// The content type of a Notary payload.
pub const PAYLOAD_CONTENT_TYPE: &str = "application/vnd.cncf.notary.payload.v1+json";
/// The signing agent [`SignRequest::new`] writes.
pub const SIGNING_AGENT: &str = concat!("imgverify-testkit/", env!("CARGO_PKG_VERSION"));

const SIGNING_SCHEME: &str = "io.cncf.notary.signingScheme";
const SIGNING_TIME: &str = "io.cncf.notary.signingTime";
const AUTHENTIC_SIGNING_TIME: &str = "io.cncf.notary.authenticSigningTime";
const EXPIRY: &str = "io.cncf.notary.expiry";
pub(crate) const TIMESTAMP_SIGNATURE: &str = "io.cncf.notary.timestampSignature";
const SIGNING_AGENT_HEADER: &str = "io.cncf.notary.signingAgent";
const COSE_X5CHAIN: u64 = 33;
const COSE_SIGN1_TAG: u64 = 18;

/// An envelope encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JWS JSON (`application/jose+json`).
    Jws,
    /// COSE_Sign1 (`application/cose`).
    Cose,
}

impl Format {
    /// The envelope's media type (the signature manifest layer's).
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Jws => MEDIA_TYPE_JWS,
            Format::Cose => MEDIA_TYPE_COSE,
        }
    }

    /// The format of a media type.
    pub fn from_media_type(media_type: &str) -> Option<Format> {
        match media_type {
            MEDIA_TYPE_JWS => Some(Format::Jws),
            MEDIA_TYPE_COSE => Some(Format::Cose),
            _ => None,
        }
    }
}

/// An OCI descriptor: the signed artifact (`targetArtifact`) or a
/// manifest's subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type.
    pub media_type: String,
    /// Digest, `sha256:<hex>`.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
    /// User metadata (signed in the payload; `notation sign --user-metadata`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Artifact type, when given (notation itself never signs one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
}

impl Descriptor {
    /// A descriptor of `media_type`, `digest` and `size`.
    pub fn new(media_type: &str, digest: &str, size: u64) -> Self {
        Descriptor {
            media_type: media_type.into(),
            digest: digest.into(),
            size,
            annotations: BTreeMap::new(),
            artifact_type: None,
        }
    }

    /// The descriptor of `content` (its SHA-256 digest and length).
    pub fn for_content(media_type: &str, content: &[u8]) -> Self {
        Self::new(
            media_type,
            &crate::sha256_digest(content),
            content.len() as u64,
        )
    }

    /// Adds an annotation (user metadata).
    pub fn with_annotation(mut self, key: &str, value: &str) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }

    /// The descriptor as a JSON object with sorted keys (the JWS payload's).
    fn sorted_json(&self) -> Value {
        serde_json::to_value(self).expect("descriptor JSON")
    }
}

/// A Notary signing scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `notary.x509`: the signing time is the signer's claim
    /// (`io.cncf.notary.signingTime`); a TSA may countersign.
    X509,
    /// `notary.x509.signingAuthority`: the signing authority vouches for
    /// the time (`io.cncf.notary.authenticSigningTime`, critical).
    SigningAuthority,
}

impl Scheme {
    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::X509 => "notary.x509",
            Scheme::SigningAuthority => "notary.x509.signingAuthority",
        }
    }

    fn time_header(self) -> &'static str {
        match self {
            Scheme::X509 => SIGNING_TIME,
            Scheme::SigningAuthority => AUTHENTIC_SIGNING_TIME,
        }
    }
}

/// A protected header beyond Notary's own (an extended signed attribute).
#[derive(Debug, Clone, PartialEq)]
pub struct ExtraHeader {
    /// Header name (a COSE text label).
    pub name: String,
    /// Value: in COSE, strings, integers, booleans, null, arrays and objects
    /// become their CBOR counterparts.
    pub value: Value,
    /// Whether `crit` lists it.
    pub critical: bool,
}

/// What to sign.
#[derive(Debug, Clone, PartialEq)]
pub struct SignRequest {
    /// The signed artifact (`targetArtifact`).
    pub target: Descriptor,
    /// Signing scheme.
    pub scheme: Scheme,
    /// Signing time, unix seconds.
    pub signing_time: i64,
    /// The UTC offset the JWS RFC 3339 times are written in (notation
    /// writes the signer's local time); COSE times are epoch seconds.
    pub utc_offset_minutes: i32,
    /// `io.cncf.notary.expiry`, unix seconds.
    pub expiry: Option<i64>,
    /// More protected headers, after Notary's.
    pub extra_headers: Vec<ExtraHeader>,
    /// Replaces the `crit` list notation would write (negative tests).
    pub crit: Option<Vec<String>>,
    /// `io.cncf.notary.signingAgent` (unprotected), if any.
    pub signing_agent: Option<String>,
}

impl SignRequest {
    /// A `notary.x509` request for `target` signed at `signing_time` (unix
    /// seconds), written in UTC, without expiry, with [`SIGNING_AGENT`].
    pub fn new(target: Descriptor, signing_time: i64) -> Self {
        SignRequest {
            target,
            scheme: Scheme::X509,
            signing_time,
            utc_offset_minutes: 0,
            expiry: None,
            extra_headers: Vec::new(),
            crit: None,
            signing_agent: Some(SIGNING_AGENT.into()),
        }
    }

    /// Sets the scheme.
    pub fn scheme(mut self, scheme: Scheme) -> Self {
        self.scheme = scheme;
        self
    }

    /// Sets the expiry (unix seconds).
    pub fn expiry(mut self, expiry: i64) -> Self {
        self.expiry = Some(expiry);
        self
    }

    /// Adds a protected header.
    pub fn header(mut self, name: &str, value: Value, critical: bool) -> Self {
        self.extra_headers.push(ExtraHeader {
            name: name.into(),
            value,
            critical,
        });
        self
    }

    /// The `crit` list notation writes: the signing scheme, the extra
    /// critical headers, the authentic signing time (signing authority),
    /// the expiry. COSE puts the extra headers last.
    fn crit_list(&self, format: Format) -> Vec<String> {
        if let Some(crit) = &self.crit {
            return crit.clone();
        }
        let mut crit = vec![SIGNING_SCHEME.to_string()];
        let extra = self
            .extra_headers
            .iter()
            .filter(|h| h.critical)
            .map(|h| h.name.clone());
        if format == Format::Jws {
            crit.extend(extra.clone());
        }
        if self.scheme == Scheme::SigningAuthority {
            crit.push(AUTHENTIC_SIGNING_TIME.into());
        }
        if self.expiry.is_some() {
            crit.push(EXPIRY.into());
        }
        if format == Format::Cose {
            crit.extend(extra);
        }
        crit
    }
}

#[derive(Serialize, Deserialize)]
struct JwsEnvelope {
    payload: String,
    protected: String,
    header: JwsHeader,
    signature: String,
}

#[derive(Serialize, Deserialize)]
struct JwsHeader {
    #[serde(
        rename = "io.cncf.notary.timestampSignature",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    timestamp_signature: Option<String>,
    #[serde(default)]
    x5c: Vec<String>,
    #[serde(
        rename = "io.cncf.notary.signingAgent",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    signing_agent: Option<String>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn b64std(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A JWS envelope (`application/jose+json`) over `req`, signed by `key`,
/// carrying `chain` (DER, leaf first) in `x5c`. The `alg` is the key's.
pub fn sign_jws(req: &SignRequest, key: &Key, chain: &[Vec<u8>]) -> Vec<u8> {
    let mut protected = serde_json::Map::new();
    let mut put = |name: &str, value: Value| {
        assert!(
            protected.insert(name.into(), value).is_none(),
            "protected header {name:?} given twice"
        );
    };
    put("alg", key.kind().jws_alg().into());
    put("cty", PAYLOAD_CONTENT_TYPE.into());
    put("crit", req.crit_list(Format::Jws).into());
    put(SIGNING_SCHEME, req.scheme.as_str().into());
    put(
        req.scheme.time_header(),
        crate::rfc3339(req.signing_time, req.utc_offset_minutes).into(),
    );
    if let Some(expiry) = req.expiry {
        put(
            EXPIRY,
            crate::rfc3339(expiry, req.utc_offset_minutes).into(),
        );
    }
    for h in &req.extra_headers {
        put(&h.name, h.value.clone());
    }
    let protected = b64url(&marshal(&Sorted(&Value::Object(protected))));
    let payload = serde_json::json!({"targetArtifact": req.target.sorted_json()});
    let payload = b64url(&marshal(&Sorted(&payload)));
    let signature = key.sign(format!("{protected}.{payload}").as_bytes());
    marshal(&JwsEnvelope {
        payload,
        protected,
        header: JwsHeader {
            timestamp_signature: None,
            x5c: chain.iter().map(|c| b64std(c)).collect(),
            signing_agent: req.signing_agent.clone(),
            other: BTreeMap::new(),
        },
        signature: b64url(&signature),
    })
}

/// One CBOR item.
fn cbor(
    f: impl FnOnce(
        &mut Encoder<Vec<u8>>,
    ) -> Result<(), minicbor::encode::Error<std::convert::Infallible>>,
) -> Vec<u8> {
    let mut e = Encoder::new(Vec::new());
    f(&mut e).expect("CBOR encoding");
    e.into_writer()
}

/// A CBOR map of encoded (key, value) pairs in RFC 8949 core deterministic
/// order (bytewise by encoded key); a key given twice panics.
fn cbor_map(mut entries: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<u8> {
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for pair in entries.windows(2) {
        assert_ne!(pair[0].0, pair[1].0, "a CBOR map key given twice");
    }
    let mut out = cbor(|e| e.map(entries.len() as u64).map(|_| ()));
    for (k, v) in entries {
        out.extend(k);
        out.extend(v);
    }
    out
}

/// A JSON value as CBOR.
fn json_cbor(v: &Value) -> Vec<u8> {
    match v {
        Value::Null => cbor(|e| e.null().map(|_| ())),
        Value::Bool(b) => cbor(|e| e.bool(*b).map(|_| ())),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => cbor(|e| e.i64(i).map(|_| ())),
            (_, Some(u), _) => cbor(|e| e.u64(u).map(|_| ())),
            (_, _, f) => cbor(|e| e.f64(f.expect("a number")).map(|_| ())),
        },
        Value::String(s) => cbor(|e| e.str(s).map(|_| ())),
        Value::Array(items) => {
            let mut out = cbor(|e| e.array(items.len() as u64).map(|_| ()));
            for item in items {
                out.extend(json_cbor(item));
            }
            out
        }
        Value::Object(map) => cbor_map(
            map.iter()
                .map(|(k, v)| (cbor(|e| e.str(k).map(|_| ())), json_cbor(v)))
                .collect(),
        ),
    }
}

fn epoch(t: i64) -> Vec<u8> {
    cbor(|e| e.tag(minicbor::data::Tag::new(1))?.i64(t).map(|_| ()))
}

fn text(s: &str) -> Vec<u8> {
    cbor(|e| e.str(s).map(|_| ()))
}

/// The COSE payload: `{"targetArtifact": descriptor}` in the Go struct's
/// field order.
fn cose_payload(target: &Descriptor) -> Vec<u8> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Payload<'a> {
        target_artifact: &'a Descriptor,
    }
    marshal(&Payload {
        target_artifact: target,
    })
}

/// The unprotected map: the chain (an array even of one, as notation
/// writes it) and the signing agent.
fn cose_unprotected(chain: &[Vec<u8>], signing_agent: Option<&str>) -> Vec<u8> {
    let mut entries = Vec::new();
    let mut x5chain = cbor(|e| e.array(chain.len() as u64).map(|_| ()));
    for c in chain {
        x5chain.extend(cbor(|e| e.bytes(c).map(|_| ())));
    }
    entries.push((cbor(|e| e.u64(COSE_X5CHAIN).map(|_| ())), x5chain));
    if let Some(agent) = signing_agent {
        entries.push((text(SIGNING_AGENT_HEADER), text(agent)));
    }
    cbor_map(entries)
}

fn cose_sign1(protected: &[u8], unprotected: &[u8], payload: &[u8], signature: &[u8]) -> Vec<u8> {
    let mut out = cbor(|e| {
        e.tag(minicbor::data::Tag::new(COSE_SIGN1_TAG))?
            .array(4)?
            .bytes(protected)
            .map(|_| ())
    });
    out.extend_from_slice(unprotected);
    out.extend(cbor(|e| e.bytes(payload)?.bytes(signature).map(|_| ())));
    out
}

/// A COSE_Sign1 envelope (`application/cose`) over `req`, signed by `key`,
/// carrying `chain` (DER, leaf first) as x5chain (label 33).
pub fn sign_cose(req: &SignRequest, key: &Key, chain: &[Vec<u8>]) -> Vec<u8> {
    let crit = Value::from(req.crit_list(Format::Cose));
    let mut entries = vec![
        (
            cbor(|e| e.u8(1).map(|_| ())),
            cbor(|e| e.i64(key.kind().cose_alg()).map(|_| ())),
        ),
        (cbor(|e| e.u8(2).map(|_| ())), json_cbor(&crit)),
        (cbor(|e| e.u8(3).map(|_| ())), text(PAYLOAD_CONTENT_TYPE)),
        (text(SIGNING_SCHEME), text(req.scheme.as_str())),
        (text(req.scheme.time_header()), epoch(req.signing_time)),
    ];
    if let Some(expiry) = req.expiry {
        entries.push((text(EXPIRY), epoch(expiry)));
    }
    for h in &req.extra_headers {
        entries.push((text(&h.name), json_cbor(&h.value)));
    }
    let protected = cbor_map(entries);
    let payload = cose_payload(&req.target);
    let to_be_signed = cbor(|e| {
        e.array(4)?
            .str("Signature1")?
            .bytes(&protected)?
            .bytes(&[])?
            .bytes(&payload)
            .map(|_| ())
    });
    let signature = key.sign(&to_be_signed);
    let unprotected = cose_unprotected(chain, req.signing_agent.as_deref());
    cose_sign1(&protected, &unprotected, &payload, &signature)
}

/// What an envelope made here (or by notation) carries, read without
/// verifying anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeInfo {
    /// The key kind the envelope's algorithm names.
    pub algorithm: KeyKind,
    /// The raw signature (what a timestamp's imprint hashes).
    pub signature: Vec<u8>,
    /// The certificate chain, DER, leaf first.
    pub certificates: Vec<Vec<u8>>,
    /// The payload bytes.
    pub payload: Vec<u8>,
    /// The (authentic) signing time as RFC 3339: the JWS header's text, or
    /// the COSE epoch seconds in UTC.
    pub signing_time: Option<String>,
    /// The timestamp token, when one is attached.
    pub timestamp_token: Option<Vec<u8>>,
}

/// Reads an envelope of `format`. Panics on a malformed envelope.
pub fn inspect(format: Format, envelope: &[u8]) -> EnvelopeInfo {
    match format {
        Format::Jws => inspect_jws(envelope),
        Format::Cose => inspect_cose(envelope),
    }
}

fn inspect_jws(envelope: &[u8]) -> EnvelopeInfo {
    let env: JwsEnvelope = serde_json::from_slice(envelope).expect("a JWS envelope");
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let std = base64::engine::general_purpose::STANDARD;
    let protected: Value =
        serde_json::from_slice(&url.decode(&env.protected).expect("protected is base64url"))
            .expect("protected is JSON");
    let alg = protected["alg"].as_str().expect("alg");
    EnvelopeInfo {
        algorithm: KeyKind::from_jws_alg(alg).expect("a Notary alg"),
        signature: url.decode(&env.signature).expect("signature is base64url"),
        certificates: env
            .header
            .x5c
            .iter()
            .map(|c| std.decode(c).expect("x5c is base64"))
            .collect(),
        payload: url.decode(&env.payload).expect("payload is base64url"),
        signing_time: protected[SIGNING_TIME]
            .as_str()
            .or(protected[AUTHENTIC_SIGNING_TIME].as_str())
            .map(str::to_string),
        timestamp_token: env
            .header
            .timestamp_signature
            .map(|t| std.decode(t).expect("timestamp is base64")),
    }
}

/// The parts of a COSE_Sign1: protected bytes, unprotected entries
/// (encoded key, encoded value), payload, signature.
type CoseParts<'a> = (&'a [u8], Vec<(Vec<u8>, Vec<u8>)>, &'a [u8], &'a [u8]);

fn cose_parts(envelope: &[u8]) -> CoseParts<'_> {
    let mut d = Decoder::new(envelope);
    assert_eq!(
        d.tag().expect("COSE tag").as_u64(),
        COSE_SIGN1_TAG,
        "COSE_Sign1 tag"
    );
    assert_eq!(
        d.array().expect("COSE array"),
        Some(4),
        "COSE_Sign1 array of 4"
    );
    let protected = d.bytes().expect("protected bstr");
    let n = d.map().expect("unprotected map").expect("definite map");
    let mut entries = Vec::new();
    for _ in 0..n {
        let start = d.position();
        d.skip().expect("key");
        let mid = d.position();
        d.skip().expect("value");
        let end = d.position();
        entries.push((envelope[start..mid].to_vec(), envelope[mid..end].to_vec()));
    }
    let payload = d.bytes().expect("payload bstr");
    let signature = d.bytes().expect("signature bstr");
    (protected, entries, payload, signature)
}

fn inspect_cose(envelope: &[u8]) -> EnvelopeInfo {
    let (protected, unprotected, payload, signature) = cose_parts(envelope);
    let mut algorithm = None;
    let mut signing_time = None;
    let mut d = Decoder::new(protected);
    let n = d.map().expect("protected map").expect("definite map");
    for _ in 0..n {
        match d.datatype().expect("key type") {
            Type::String => {
                let key = d.str().expect("text key");
                if key == SIGNING_TIME || key == AUTHENTIC_SIGNING_TIME {
                    d.tag().expect("time tag");
                    signing_time = Some(crate::rfc3339(d.i64().expect("epoch"), 0));
                    continue;
                }
            }
            _ => {
                if d.i64().expect("int key") == 1 {
                    algorithm = KeyKind::from_cose_alg(d.i64().expect("alg"));
                    continue;
                }
            }
        }
        d.skip().expect("value");
    }
    let mut certificates = Vec::new();
    let mut timestamp_token = None;
    for (k, v) in &unprotected {
        let mut d = Decoder::new(v);
        if *k == cbor(|e| e.u64(COSE_X5CHAIN).map(|_| ())) {
            if d.datatype().expect("x5chain") == Type::Bytes {
                certificates.push(d.bytes().expect("certificate").to_vec());
            } else {
                let n = d.array().expect("x5chain array").expect("definite");
                for _ in 0..n {
                    certificates.push(d.bytes().expect("certificate").to_vec());
                }
            }
        } else if *k == text(TIMESTAMP_SIGNATURE) {
            timestamp_token = Some(d.bytes().expect("timestamp bstr").to_vec());
        }
    }
    EnvelopeInfo {
        algorithm: algorithm.expect("a Notary alg"),
        signature: signature.to_vec(),
        certificates,
        payload: payload.to_vec(),
        signing_time,
        timestamp_token,
    }
}

/// `envelope` with `token` as its timestamp countersignature
/// (`io.cncf.notary.timestampSignature`, replacing any): standard base64 in
/// the JWS unprotected header, a bstr in the COSE unprotected map. Nothing
/// signed changes.
pub(crate) fn attach_timestamp(format: Format, envelope: &[u8], token: &[u8]) -> Vec<u8> {
    match format {
        Format::Jws => {
            let mut env: JwsEnvelope = serde_json::from_slice(envelope).expect("a JWS envelope");
            env.header.timestamp_signature = Some(b64std(token));
            marshal(&env)
        }
        Format::Cose => {
            let (protected, entries, payload, signature) = cose_parts(envelope);
            let key = text(TIMESTAMP_SIGNATURE);
            let mut entries: Vec<_> = entries.into_iter().filter(|(k, _)| *k != key).collect();
            entries.push((key, cbor(|e| e.bytes(token).map(|_| ()))));
            cose_sign1(protected, &cbor_map(entries), payload, signature)
        }
    }
}
