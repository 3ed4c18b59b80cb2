//! What a Notary signature envelope says, whichever its encoding (JWS or
//! COSE_Sign1), and the header rules every envelope must keep
//! (notation-core-go `signature` package).

use super::NotaryError;

/// The content type of a Notary payload.
pub const PAYLOAD_CONTENT_TYPE: &str = "application/vnd.cncf.notary.payload.v1+json";
/// The JWS envelope's media type.
pub const MEDIA_TYPE_JWS: &str = "application/jose+json";
/// The COSE_Sign1 envelope's media type.
pub const MEDIA_TYPE_COSE: &str = "application/cose";

/// Largest envelope accepted (notation-go limits signature blobs to 4 MiB).
pub const MAX_ENVELOPE_BYTES: usize = 4 * 1024 * 1024;

/// Protected header names Notary defines.
pub mod header {
    /// Signing scheme (critical).
    pub const SIGNING_SCHEME: &str = "io.cncf.notary.signingScheme";
    /// Signing time claimed by the signer (`notary.x509`).
    pub const SIGNING_TIME: &str = "io.cncf.notary.signingTime";
    /// Signing time vouched for by a signing authority (critical).
    pub const AUTHENTIC_SIGNING_TIME: &str = "io.cncf.notary.authenticSigningTime";
    /// Expiry of the signature (critical).
    pub const EXPIRY: &str = "io.cncf.notary.expiry";
    /// The verification plugin the signature requires (critical).
    pub const VERIFICATION_PLUGIN: &str = "io.cncf.notary.verificationPlugin";
    /// The plugin's minimum version (critical).
    pub const VERIFICATION_PLUGIN_MIN_VERSION: &str = "io.cncf.notary.verificationPluginMinVersion";
    /// The RFC 3161 timestamp token (unprotected).
    pub const TIMESTAMP_SIGNATURE: &str = "io.cncf.notary.timestampSignature";
    /// The signing agent (unprotected, informational).
    pub const SIGNING_AGENT: &str = "io.cncf.notary.signingAgent";
}

/// Which encoding an envelope has (chosen by the signature layer's media type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvelopeFormat {
    /// JWS JSON serialisation, `application/jose+json`.
    Jws,
    /// COSE_Sign1, `application/cose`.
    Cose,
}

impl EnvelopeFormat {
    /// The format for a signature layer's media type.
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        match media_type {
            MEDIA_TYPE_JWS => Some(Self::Jws),
            MEDIA_TYPE_COSE => Some(Self::Cose),
            _ => None,
        }
    }
}

/// Notary signing schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningScheme {
    /// `notary.x509`: a certificate chain, optionally timestamped by a TSA.
    X509,
    /// `notary.x509.signingAuthority`: the signing authority vouches for the time.
    X509SigningAuthority,
}

impl SigningScheme {
    /// Parses the header value.
    pub fn parse(s: &str) -> Result<Self, NotaryError> {
        match s {
            "notary.x509" => Ok(Self::X509),
            "notary.x509.signingAuthority" => Ok(Self::X509SigningAuthority),
            other => Err(NotaryError::Header(format!(
                "signing scheme {other:?} is not supported"
            ))),
        }
    }

    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::X509 => "notary.x509",
            Self::X509SigningAuthority => "notary.x509.signingAuthority",
        }
    }
}

/// Signature algorithms Notary allows; each is fixed by the signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// RSASSA-PSS with SHA-256 (RSA-2048).
    Ps256,
    /// RSASSA-PSS with SHA-384 (RSA-3072).
    Ps384,
    /// RSASSA-PSS with SHA-512 (RSA-4096).
    Ps512,
    /// ECDSA P-256 with SHA-256.
    Es256,
    /// ECDSA P-384 with SHA-384.
    Es384,
    /// ECDSA P-521 with SHA-512.
    Es512,
}

impl Algorithm {
    /// The JWS `alg` name.
    pub fn from_jws(name: &str) -> Result<Self, NotaryError> {
        match name {
            "PS256" => Ok(Self::Ps256),
            "PS384" => Ok(Self::Ps384),
            "PS512" => Ok(Self::Ps512),
            "ES256" => Ok(Self::Es256),
            "ES384" => Ok(Self::Es384),
            "ES512" => Ok(Self::Es512),
            other => Err(NotaryError::Header(format!(
                "signature algorithm {other:?} is not supported"
            ))),
        }
    }

    /// The COSE `alg` label.
    pub fn from_cose(label: i64) -> Result<Self, NotaryError> {
        match label {
            -37 => Ok(Self::Ps256),
            -38 => Ok(Self::Ps384),
            -39 => Ok(Self::Ps512),
            -7 => Ok(Self::Es256),
            -35 => Ok(Self::Es384),
            -36 => Ok(Self::Es512),
            other => Err(NotaryError::Header(format!(
                "COSE signature algorithm {other} is not supported"
            ))),
        }
    }

    /// The JWS name (also used in messages).
    pub fn name(self) -> &'static str {
        match self {
            Self::Ps256 => "PS256",
            Self::Ps384 => "PS384",
            Self::Ps512 => "PS512",
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::Es512 => "ES512",
        }
    }

    /// The hash the algorithm uses (also the timestamp imprint's hash).
    pub fn hash(self) -> crate::crypto::HashAlgorithm {
        use crate::crypto::HashAlgorithm as H;
        match self {
            Self::Ps256 | Self::Es256 => H::Sha256,
            Self::Ps384 | Self::Es384 => H::Sha384,
            Self::Ps512 | Self::Es512 => H::Sha512,
        }
    }
}

/// A protected header outside the ones Notary defines (an extended attribute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtendedAttribute {
    /// Header name.
    pub name: String,
    /// Whether `crit` lists it.
    pub critical: bool,
}

/// A decoded envelope: the signed bytes and every header verification reads.
/// Nothing here is verified yet; [`super::verify`] does that.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// Encoding.
    pub format: EnvelopeFormat,
    /// The payload bytes (a Notary payload when `content_type` says so).
    pub payload: Vec<u8>,
    /// Protected content type.
    pub content_type: String,
    /// Protected algorithm.
    pub algorithm: Algorithm,
    /// Protected signing scheme.
    pub scheme: SigningScheme,
    /// `io.cncf.notary.signingTime` (unix seconds).
    pub signing_time: Option<i64>,
    /// `io.cncf.notary.authenticSigningTime` (unix seconds).
    pub authentic_signing_time: Option<i64>,
    /// `io.cncf.notary.expiry` (unix seconds).
    pub expiry: Option<i64>,
    /// The names `crit` lists.
    pub critical: Vec<String>,
    /// Notary-defined headers present in the protected header.
    pub present: Vec<String>,
    /// Protected headers Notary does not define.
    pub extended: Vec<ExtendedAttribute>,
    /// The certificate chain (DER, leaf first).
    pub certificates: Vec<Vec<u8>>,
    /// The RFC 3161 timestamp token, when present.
    pub timestamp_token: Option<Vec<u8>>,
    /// The signing agent, when present.
    pub signing_agent: Option<String>,
    /// The bytes the signature covers.
    pub signed_bytes: Vec<u8>,
    /// The raw signature (`r || s` for ECDSA).
    pub signature: Vec<u8>,
}

impl Envelope {
    /// Decodes an envelope of `format`.
    pub fn parse(format: EnvelopeFormat, bytes: &[u8]) -> Result<Self, NotaryError> {
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(NotaryError::Envelope(format!(
                "envelope of {} bytes is over the limit of {MAX_ENVELOPE_BYTES}",
                bytes.len()
            )));
        }
        let envelope = match format {
            EnvelopeFormat::Jws => super::jws::parse(bytes)?,
            EnvelopeFormat::Cose => super::cose::parse(bytes)?,
        };
        envelope.check_headers()?;
        Ok(envelope)
    }

    /// The header rules of notation-core-go's `validateSignerInfo` and
    /// critical-header checks: content type, the times each scheme requires
    /// or forbids, expiry after signing time, and `crit` listing exactly
    /// what it must.
    fn check_headers(&self) -> Result<(), NotaryError> {
        let bad = |m: String| Err(NotaryError::Header(m));
        if self.content_type != PAYLOAD_CONTENT_TYPE {
            return bad(format!(
                "content type {:?} is not {PAYLOAD_CONTENT_TYPE}",
                self.content_type
            ));
        }
        if self.certificates.is_empty() {
            return bad("the envelope has no certificate chain".into());
        }
        let signed_at = match self.scheme {
            SigningScheme::X509 => {
                if self.authentic_signing_time.is_some() {
                    return bad(format!(
                        "{} is not allowed with signing scheme notary.x509",
                        header::AUTHENTIC_SIGNING_TIME
                    ));
                }
                self.signing_time
                    .ok_or_else(|| NotaryError::Header("signing-time not present".into()))?
            }
            SigningScheme::X509SigningAuthority => {
                if self.signing_time.is_some() {
                    return bad(format!(
                        "{} is not allowed with signing scheme notary.x509.signingAuthority",
                        header::SIGNING_TIME
                    ));
                }
                self.authentic_signing_time.ok_or_else(|| {
                    NotaryError::Header(format!("missing {}", header::AUTHENTIC_SIGNING_TIME))
                })?
            }
        };
        if let Some(expiry) = self.expiry
            && expiry <= signed_at
        {
            return bad("expiry cannot be equal or before the signing time".into());
        }
        // notation-core-go `validateCriticalHeaders`: the scheme, the expiry
        // and the authentic signing time must be critical, and every other
        // critical name must be an extended attribute that is present.
        if self.critical.is_empty() {
            return bad("missing \"crit\" header".into());
        }
        let mut must_be_critical = vec![header::SIGNING_SCHEME];
        if self.expiry.is_some() {
            must_be_critical.push(header::EXPIRY);
        }
        if self.scheme == SigningScheme::X509SigningAuthority {
            must_be_critical.push(header::AUTHENTIC_SIGNING_TIME);
        }
        for c in &self.critical {
            if must_be_critical.contains(&c.as_str()) {
                continue;
            }
            if !self.extended.iter().any(|e| &e.name == c) {
                return bad(format!("{c:?} header is marked critical but not present"));
            }
        }
        let missing: Vec<&str> = must_be_critical
            .into_iter()
            .filter(|h| !self.critical.iter().any(|c| c == h))
            .collect();
        if !missing.is_empty() {
            return bad(format!(
                "these required headers are not marked as critical: {missing:?}"
            ));
        }
        Ok(())
    }
}

/// Whether `name` is a protected header the envelope format itself reads
/// (the verification-plugin headers are extended attributes, as in
/// notation-core-go).
pub fn is_notary_header(name: &str) -> bool {
    matches!(
        name,
        header::SIGNING_SCHEME
            | header::SIGNING_TIME
            | header::AUTHENTIC_SIGNING_TIME
            | header::EXPIRY
    )
}
