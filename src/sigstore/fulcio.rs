//! What a Fulcio certificate says about its signer: the subject alternative
//! names (email, URI, DNS, IP, Fulcio's username otherName) and the OIDC
//! extensions under `1.3.6.1.4.1.57264.1` (v1 raw strings `.1`–`.6`, v2 DER
//! UTF8Strings `.8`–`.24`).

use crate::crypto::x509::{Certificate, SanEntry, X509Error};
use der::Decode;
use std::collections::BTreeMap;

/// Prefix of Fulcio's certificate extensions.
pub const OID_FULCIO_PREFIX: &str = "1.3.6.1.4.1.57264.1.";
/// The OIDC issuer, v1 (raw bytes, deprecated).
pub const OID_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
/// The OIDC issuer, v2 (DER UTF8String).
pub const OID_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
/// The `otherName` SAN type Fulcio uses for usernames.
pub const OID_USERNAME_SAN: &str = "1.3.6.1.4.1.57264.1.7";
/// Highest Fulcio extension arc this engine knows (`.24`, Token Subject).
const LAST_ARC: u32 = 24;

/// The signer identity in a certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// Subject alternative names in cosign's order: DNS, email, IP, URI,
    /// then Fulcio usernames.
    pub sans: Vec<String>,
    /// The OIDC issuer (v2 extension, else v1), empty when absent.
    pub issuer: String,
    /// Fulcio extension values by OID.
    pub extensions: BTreeMap<String, String>,
}

impl Identity {
    /// Reads the identity of a certificate. A Fulcio extension whose value is
    /// not in its version's encoding is an error, not an empty value.
    pub fn of(cert: &Certificate) -> Result<Self, X509Error> {
        let mut dns = Vec::new();
        let mut email = Vec::new();
        let mut uri = Vec::new();
        let mut other = Vec::new();
        for san in cert.subject_alt_names()? {
            match san {
                SanEntry::Dns(s) => dns.push(s),
                SanEntry::Email(s) => email.push(s),
                SanEntry::Uri(s) => uri.push(s),
                SanEntry::Other {
                    oid,
                    value: Some(v),
                } if oid == OID_USERNAME_SAN => other.push(v),
                _ => {}
            }
        }
        let sans = dns
            .into_iter()
            .chain(email)
            .chain(uri)
            .chain(other)
            .collect();
        let mut extensions = BTreeMap::new();
        for (oid, _, value) in cert.extensions() {
            let Some(arc) = oid
                .strip_prefix(OID_FULCIO_PREFIX)
                .and_then(|a| a.parse::<u32>().ok())
            else {
                continue;
            };
            let text = match arc {
                1..=6 => String::from_utf8(value.to_vec())
                    .map_err(|_| X509Error::Malformed(format!("extension {oid} is not UTF-8")))?,
                8..=LAST_ARC => der::asn1::Utf8StringRef::from_der(value)
                    .map(|s| s.as_str().to_string())
                    .map_err(|e| {
                        X509Error::Malformed(format!("extension {oid} is not a UTF8String: {e}"))
                    })?,
                _ => continue,
            };
            extensions.insert(oid, text);
        }
        let issuer = extensions
            .get(OID_ISSUER_V2)
            .or_else(|| extensions.get(OID_ISSUER_V1))
            .cloned()
            .unwrap_or_default();
        Ok(Identity {
            sans,
            issuer,
            extensions,
        })
    }

    /// The value of a Fulcio extension (`""` when absent); the issuer OIDs
    /// read as [`Identity::issuer`] does.
    pub fn extension(&self, oid: &str) -> &str {
        if oid == OID_ISSUER_V1 || oid == OID_ISSUER_V2 {
            return &self.issuer;
        }
        self.extensions.get(oid).map(String::as_str).unwrap_or("")
    }
}

/// The Fulcio extension OID a policy key names: one of cosign's friendly
/// names for the v1 extensions, or any Fulcio extension OID (v1 or v2).
pub fn extension_oid(key: &str) -> Option<String> {
    let friendly = match key {
        "oidcIssuer" => Some(1),
        "githubWorkflowTrigger" => Some(2),
        "githubWorkflowSha" => Some(3),
        "githubWorkflowName" => Some(4),
        "githubWorkflowRepository" => Some(5),
        "githubWorkflowRef" => Some(6),
        _ => None,
    };
    let arc = friendly.or_else(|| {
        key.strip_prefix(OID_FULCIO_PREFIX)
            .and_then(|a| a.parse::<u32>().ok())
            .filter(|a| {
                matches!(a, 1..=6 | 8..=LAST_ARC) && key == format!("{OID_FULCIO_PREFIX}{a}")
            })
    })?;
    Some(format!("{OID_FULCIO_PREFIX}{arc}"))
}
