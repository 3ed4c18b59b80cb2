//! JWS envelopes (`application/jose+json`): the flattened JSON
//! serialisation Notary allows, `{payload, protected, header, signature}`
//! (notation-core-go `signature/jws`). The signed bytes are the literal
//! `protected.payload` text; ECDSA signatures are `r || s`.

use std::collections::BTreeSet;

use base64::Engine as _;
use serde::Deserialize;

use super::NotaryError;
use super::envelope::{
    Algorithm, Envelope, EnvelopeFormat, ExtendedAttribute, SigningScheme, header, is_notary_header,
};

/// Most protected headers accepted.
const MAX_HEADERS: usize = 64;

#[derive(Deserialize)]
struct Flattened {
    payload: String,
    protected: String,
    #[serde(default)]
    header: Unprotected,
    signature: String,
}

#[derive(Deserialize, Default)]
struct Unprotected {
    #[serde(default)]
    x5c: Vec<String>,
    #[serde(rename = "io.cncf.notary.timestampSignature", default)]
    timestamp_signature: Option<String>,
    #[serde(rename = "io.cncf.notary.signingAgent", default)]
    signing_agent: Option<String>,
}

/// A JSON object's members in order, refusing a key written twice (JSON
/// parsers differ on which copy wins; a signature must mean one thing).
struct UniqueObject(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for UniqueObject {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = UniqueObject;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<UniqueObject, A::Error> {
                let mut seen = BTreeSet::new();
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
                    if !seen.insert(k.clone()) {
                        return Err(serde::de::Error::custom(format!("duplicate key {k:?}")));
                    }
                    if out.len() >= MAX_HEADERS {
                        return Err(serde::de::Error::custom("too many headers"));
                    }
                    out.push((k, v));
                }
                Ok(UniqueObject(out))
            }
        }
        d.deserialize_map(Visitor)
    }
}

/// Decodes base64url without padding as Go's `RawURLEncoding` does, with
/// its message for a bad character.
fn b64url(s: &str) -> Result<Vec<u8>, String> {
    if let Some(i) = s
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    {
        return Err(format!("illegal base64 data at input byte {i}"));
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| format!("illegal base64 data at input byte {}", s.len()))
}

/// Decodes standard base64 with padding (the `x5c` and timestamp members).
fn b64std(s: &str, what: &str) -> Result<Vec<u8>, NotaryError> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|e| NotaryError::Envelope(format!("{what} is not base64: {e}")))
}

fn rfc3339(name: &str, v: &serde_json::Value) -> Result<i64, NotaryError> {
    v.as_str()
        .and_then(crate::sigstore::trusted_root::parse_rfc3339)
        .ok_or_else(|| NotaryError::Header(format!("{name} is not an RFC 3339 time: {v}")))
}

fn text(name: &str, v: &serde_json::Value) -> Result<String, NotaryError> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| NotaryError::Header(format!("{name} is not a string: {v}")))
}

/// Decodes a JWS envelope.
pub fn parse(bytes: &[u8]) -> Result<Envelope, NotaryError> {
    let env: Flattened = serde_json::from_slice(bytes)
        .map_err(|e| NotaryError::Envelope(format!("not a JWS JSON envelope: {e}")))?;
    let integrity = |m: String| NotaryError::Integrity(m);
    let protected_json = b64url(&env.protected).map_err(|e| {
        NotaryError::Envelope(format!(
            "jws envelope protected header can't be decoded: {e}"
        ))
    })?;
    let payload = b64url(&env.payload).map_err(integrity)?;
    let signature = b64url(&env.signature).map_err(integrity)?;
    if signature.is_empty() {
        return Err(NotaryError::Envelope(
            "signature missing in jws-json envelope".into(),
        ));
    }
    let protected: UniqueObject = serde_json::from_slice(&protected_json).map_err(|e| {
        NotaryError::Envelope(format!(
            "jws envelope protected header can't be decoded: {e}"
        ))
    })?;

    let (mut alg, mut cty, mut scheme) = (None, None, None);
    let (mut signing_time, mut authentic_signing_time, mut expiry) = (None, None, None);
    let mut critical: Option<Vec<String>> = None;
    let mut present = Vec::new();
    let mut extended_names = Vec::new();
    for (name, value) in &protected.0 {
        match name.as_str() {
            "alg" => alg = Some(Algorithm::from_jws(&text("alg", value)?)?),
            "cty" => cty = Some(text("cty", value)?),
            "crit" => {
                let list = value
                    .as_array()
                    .filter(|a| a.len() <= MAX_HEADERS)
                    .ok_or_else(|| NotaryError::Header("crit is not a list of names".into()))?;
                let names = list
                    .iter()
                    .map(|v| text("crit entry", v))
                    .collect::<Result<Vec<_>, _>>()?;
                critical = Some(names);
            }
            header::SIGNING_SCHEME => {
                scheme = Some(SigningScheme::parse(&text(name, value)?)?);
            }
            header::SIGNING_TIME => signing_time = Some(rfc3339(name, value)?),
            header::AUTHENTIC_SIGNING_TIME => {
                authentic_signing_time = Some(rfc3339(name, value)?);
            }
            header::EXPIRY => expiry = Some(rfc3339(name, value)?),
            _ => extended_names.push(name.clone()),
        }
        if is_notary_header(name) {
            present.push(name.clone());
        }
    }
    let critical = critical
        .filter(|c| !c.is_empty())
        .ok_or_else(|| NotaryError::Header("missing \"crit\" header".into()))?;
    let extended = extended_names
        .into_iter()
        .map(|name| ExtendedAttribute {
            critical: critical.contains(&name),
            name,
        })
        .collect();
    let certificates = env
        .header
        .x5c
        .iter()
        .enumerate()
        .map(|(i, c)| b64std(c, &format!("x5c[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    if certificates.len() > crate::crypto::x509::MAX_CHAIN_LENGTH {
        return Err(NotaryError::Envelope(format!(
            "certificate chain of {} certificates is too long",
            certificates.len()
        )));
    }
    let timestamp_token = env
        .header
        .timestamp_signature
        .as_deref()
        .map(|t| b64std(t, header::TIMESTAMP_SIGNATURE))
        .transpose()?;
    Ok(Envelope {
        format: EnvelopeFormat::Jws,
        payload,
        content_type: cty.unwrap_or_default(),
        algorithm: alg.ok_or_else(|| NotaryError::Header("missing alg".into()))?,
        scheme: scheme
            .ok_or_else(|| NotaryError::Header(format!("missing {}", header::SIGNING_SCHEME)))?,
        signing_time,
        authentic_signing_time,
        expiry,
        critical,
        present,
        extended,
        certificates,
        timestamp_token,
        signing_agent: env.header.signing_agent,
        signed_bytes: format!("{}.{}", env.protected, env.payload).into_bytes(),
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(path: &str) -> Vec<u8> {
        let p = format!(
            "{}/../shared/vectors/notation-go/{path}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
    }

    #[test]
    fn decodes_the_mock_envelope() {
        let env = parse(&vector("internal/mock/testdata/ca_valid_sig_env.json")).unwrap();
        assert_eq!(env.algorithm, Algorithm::Ps384);
        assert_eq!(env.scheme, SigningScheme::X509);
        assert_eq!(env.certificates.len(), 2);
        assert!(env.expiry.is_some() && env.signing_time.is_some());
        assert!(env.critical.iter().any(|c| c == header::SIGNING_SCHEME));
    }

    #[test]
    fn bad_base64_is_named_as_go_names_it() {
        let e = parse(&vector("internal/mock/testdata/ca_invalid_sig_env.json")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "signature is invalid. Error: illegal base64 data at input byte 242"
        );
    }

    #[test]
    fn refuses_duplicate_protected_headers_and_garbage() {
        let protected = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"alg":"PS256","alg":"ES256"}"#);
        let env = format!(
            r#"{{"payload":"e30","protected":"{protected}","header":{{}},"signature":"AA"}}"#
        );
        let e = parse(env.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("duplicate key \"alg\""), "{e}");
        assert!(matches!(parse(b"[]"), Err(NotaryError::Envelope(_))));
        assert!(matches!(parse(b"{"), Err(NotaryError::Envelope(_))));
    }
}
