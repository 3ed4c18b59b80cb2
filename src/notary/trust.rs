//! Trust stores and trust policies (the Notary Project's
//! `trust-store-trust-policy.md`, notation-go `verifier/trustpolicy`).
//!
//! The engine is given certificates, not directories: a [`TrustStores`] maps
//! `type:name` to certificates, as the CLI's store layout or Kyverno's
//! attestor builds it. A [`TrustPolicy`] is one OCI trust-policy statement.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::crypto::x509::Certificate;

use super::NotaryError;

/// The three kinds of trust store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StoreType {
    /// `ca`: roots for the `notary.x509` scheme.
    Ca,
    /// `signingAuthority`: roots for `notary.x509.signingAuthority`.
    SigningAuthority,
    /// `tsa`: roots of timestamp authorities.
    Tsa,
}

impl StoreType {
    /// Parses the prefix of a `type:name` reference.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ca" => Some(Self::Ca),
            "signingAuthority" => Some(Self::SigningAuthority),
            "tsa" => Some(Self::Tsa),
            _ => None,
        }
    }
}

/// Named trust stores of certificates.
#[derive(Debug, Clone, Default)]
pub struct TrustStores {
    stores: BTreeMap<(StoreType, String), Vec<Certificate>>,
}

impl TrustStores {
    /// No stores.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds certificates to the store `kind:name`.
    pub fn add(&mut self, kind: StoreType, name: &str, certs: Vec<Certificate>) {
        self.stores
            .entry((kind, name.to_string()))
            .or_default()
            .extend(certs);
    }

    /// Adds one trusted-certificate file (PEM with one or more certificates,
    /// or one DER certificate) to `kind:name`, refusing what notation-go's
    /// trust store refuses: a certificate that is neither a CA nor
    /// self-signed, and in a `tsa` store anything but a root CA.
    pub fn add_file(
        &mut self,
        kind: StoreType,
        name: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<(), String> {
        let certs = read_certificate_file(bytes).map_err(|e| {
            format!("failed to read the trusted certificate {file_name} in trust store {name}: {e}")
        })?;
        for cert in &certs {
            let is_ca = cert
                .basic_constraints()
                .map_err(|e| e.to_string())?
                .is_some_and(|b| b.ca);
            if !is_ca && cert.verify_signed_by(cert).is_err() {
                return Err(format!(
                    "failed to validate the trusted certificate {file_name} in trust store {name}: certificate with subject {:?} is not a CA certificate or self-signed signing certificate",
                    cert.subject()
                ));
            }
            if kind == StoreType::Tsa {
                let root = cert.verify_issued_by(cert).is_ok() && cert.is_self_issued();
                if !root {
                    return Err(format!(
                        "trusted certificate {file_name} in trust store {name} of type tsa is invalid: certificate with subject {:?} is not a root CA certificate",
                        cert.subject()
                    ));
                }
            }
        }
        self.add(kind, name, certs);
        Ok(())
    }

    /// The certificates of `kind:name`; a store never added is an error.
    pub fn get(&self, kind: StoreType, name: &str) -> Result<&[Certificate], String> {
        self.stores
            .get(&(kind, name.to_string()))
            .map(Vec::as_slice)
            .ok_or_else(|| format!("the trust store {name:?} of type {kind:?} does not exist"))
    }
}

/// Reads a certificate file: PEM (every `CERTIFICATE` block) or one DER
/// certificate.
pub fn read_certificate_file(bytes: &[u8]) -> Result<Vec<Certificate>, String> {
    if let Ok(text) = std::str::from_utf8(bytes)
        && text.contains("-----BEGIN")
    {
        return Certificate::from_pem_chain(text).map_err(|e| e.to_string());
    }
    Certificate::from_der(bytes)
        .map(|c| vec![c])
        .map_err(|e| e.to_string())
}

/// A verification level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Every check enforced.
    Strict,
    /// Integrity and authenticity enforced; the rest logged.
    Permissive,
    /// Integrity enforced; the rest logged.
    Audit,
    /// Nothing verified.
    Skip,
}

/// What a failed check does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The signature fails.
    Enforce,
    /// The failure is reported and verification goes on.
    Log,
    /// The check is not made.
    Skip,
}

impl Action {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "enforce" => Some(Self::Enforce),
            "log" => Some(Self::Log),
            "skip" => Some(Self::Skip),
            _ => None,
        }
    }
}

/// When a timestamp countersignature is verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyTimestamp {
    /// Whenever a `tsa` store is configured (the default).
    Always,
    /// Only when a certificate of the chain has expired.
    AfterCertExpiry,
}

/// What each check does under a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enforcement {
    /// Chain to the trust store and trusted identity.
    pub authenticity: Action,
    /// Certificates valid at a trusted signing time.
    pub authentic_timestamp: Action,
    /// Signature expiry.
    pub expiry: Action,
}

/// One OCI trust-policy statement.
#[derive(Debug, Clone)]
pub struct TrustPolicy {
    /// Statement name (in messages).
    pub name: String,
    /// Repository scopes (`*` for all).
    pub registry_scopes: Vec<String>,
    /// Verification level.
    pub level: Level,
    /// The checks' actions after overrides.
    pub enforcement: Enforcement,
    /// When timestamps are verified.
    pub verify_timestamp: VerifyTimestamp,
    /// `type:name` store references.
    pub trust_stores: Vec<(StoreType, String)>,
    /// `None` for `*`, else the x509.subject identities.
    pub trusted_identities: Option<Vec<Identity>>,
}

/// An `x509.subject` identity: attribute type to value.
pub type Identity = BTreeMap<String, String>;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatementJson {
    name: String,
    #[serde(default)]
    registry_scopes: Vec<String>,
    signature_verification: SignatureVerificationJson,
    #[serde(default)]
    trust_stores: Vec<String>,
    #[serde(default)]
    trusted_identities: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignatureVerificationJson {
    level: String,
    #[serde(default)]
    r#override: BTreeMap<String, String>,
    #[serde(default)]
    verify_timestamp: Option<String>,
}

impl TrustPolicy {
    /// The policy Kyverno builds for a Notary attestor: statement `kyverno`,
    /// every scope, strict, the `ca:kyverno` store (and `tsa:kyverno` when
    /// TSA certificates are given), any identity.
    pub fn kyverno(with_tsa: bool) -> Self {
        let mut trust_stores = vec![(StoreType::Ca, "kyverno".to_string())];
        if with_tsa {
            trust_stores.push((StoreType::Tsa, "kyverno".to_string()));
        }
        TrustPolicy {
            name: "kyverno".into(),
            registry_scopes: vec!["*".into()],
            level: Level::Strict,
            enforcement: Level::Strict.enforcement(),
            verify_timestamp: VerifyTimestamp::Always,
            trust_stores,
            trusted_identities: None,
        }
    }

    /// Parses and validates one statement of a `trustpolicy.oci.json`.
    pub fn from_json(json: &serde_json::Value) -> Result<Self, NotaryError> {
        let bad = |m: String| NotaryError::Policy(m);
        let s = StatementJson::deserialize(json).map_err(|e| bad(e.to_string()))?;
        let name = s.name;
        if name.trim().is_empty() {
            return Err(bad("a trust policy statement is missing a name".into()));
        }
        let level = match s.signature_verification.level.as_str() {
            "strict" => Level::Strict,
            "permissive" => Level::Permissive,
            "audit" => Level::Audit,
            "skip" => Level::Skip,
            other => {
                return Err(bad(format!(
                    "trust policy statement {name:?} uses invalid signatureVerification value {other:?}"
                )));
            }
        };
        let mut enforcement = level.enforcement();
        if !s.signature_verification.r#override.is_empty() && level == Level::Skip {
            return Err(bad(format!(
                "trust policy statement {name:?} has invalid signatureVerification: level \"skip\" cannot be customized"
            )));
        }
        for (check, action) in &s.signature_verification.r#override {
            let parsed = Action::parse(action).ok_or_else(|| {
                bad(format!(
                    "trust policy statement {name:?} has an invalid action {action:?} for {check:?}"
                ))
            })?;
            let slot = match check.as_str() {
                "authenticity" => &mut enforcement.authenticity,
                "authenticTimestamp" => &mut enforcement.authentic_timestamp,
                "expiry" => &mut enforcement.expiry,
                // Revocation needs the network and is never checked here.
                "revocation" => continue,
                "integrity" => {
                    return Err(bad(format!(
                        "trust policy statement {name:?}: integrity validation cannot be overridden"
                    )));
                }
                other => {
                    return Err(bad(format!(
                        "trust policy statement {name:?} has an unknown validation type {other:?}"
                    )));
                }
            };
            if parsed == Action::Skip {
                return Err(bad(format!(
                    "trust policy statement {name:?}: {check} validation cannot be skipped"
                )));
            }
            *slot = parsed;
        }
        let verify_timestamp = match s.signature_verification.verify_timestamp.as_deref() {
            None | Some("") | Some("always") => VerifyTimestamp::Always,
            Some("afterCertExpiry") => VerifyTimestamp::AfterCertExpiry,
            Some(other) => {
                return Err(bad(format!(
                    "trust policy statement {name:?} has invalid verifyTimestamp {other:?}"
                )));
            }
        };
        let trust_stores = s
            .trust_stores
            .iter()
            .map(|r| parse_store_reference(&name, r))
            .collect::<Result<Vec<_>, _>>()?;
        let trusted_identities = parse_identities(&name, &s.trusted_identities)?;
        if level != Level::Skip && (trust_stores.is_empty() || s.trusted_identities.is_empty()) {
            return Err(bad(format!(
                "trust policy statement {name:?} is either missing trust stores or trusted identities, both must be specified"
            )));
        }
        Ok(TrustPolicy {
            name,
            registry_scopes: s.registry_scopes,
            level,
            enforcement,
            verify_timestamp,
            trust_stores,
            trusted_identities,
        })
    }

    /// The certificates of every store of `kind` the policy names.
    pub fn certificates<'s>(
        &self,
        stores: &'s TrustStores,
        kind: StoreType,
    ) -> Result<Vec<&'s Certificate>, String> {
        let mut out = Vec::new();
        let mut seen = Vec::new();
        for (k, name) in &self.trust_stores {
            if *k != kind || seen.contains(&name) {
                continue;
            }
            seen.push(name);
            out.extend(stores.get(kind, name)?.iter());
        }
        Ok(out)
    }

    /// Whether a `tsa` store is named.
    pub fn has_tsa_store(&self) -> bool {
        self.trust_stores.iter().any(|(k, _)| *k == StoreType::Tsa)
    }
}

impl Level {
    /// The actions the level sets (the spec's level table).
    pub fn enforcement(self) -> Enforcement {
        use Action::*;
        let (authenticity, authentic_timestamp, expiry) = match self {
            Level::Strict => (Enforce, Enforce, Enforce),
            Level::Permissive => (Enforce, Log, Log),
            Level::Audit => (Log, Log, Log),
            Level::Skip => (Skip, Skip, Skip),
        };
        Enforcement {
            authenticity,
            authentic_timestamp,
            expiry,
        }
    }
}

fn parse_store_reference(policy: &str, r: &str) -> Result<(StoreType, String), NotaryError> {
    let Some((kind, name)) = r.split_once(':') else {
        return Err(NotaryError::Policy(format!(
            "trust policy statement {policy:?} is missing separator in trust store value {r:?}. The required format is <TrustStoreType>:<TrustStoreName>"
        )));
    };
    let kind = StoreType::parse(kind).ok_or_else(|| {
        NotaryError::Policy(format!(
            "trust policy statement {policy:?} uses an unsupported trust store type {kind:?} in trust store value {r:?}"
        ))
    })?;
    if name.is_empty() {
        return Err(NotaryError::Policy(format!(
            "trust policy statement {policy:?} has an empty trust store name in {r:?}"
        )));
    }
    Ok((kind, name.to_string()))
}

fn parse_identities(policy: &str, list: &[String]) -> Result<Option<Vec<Identity>>, NotaryError> {
    let bad = |m: String| NotaryError::Policy(m);
    if list.iter().any(|i| i == "*") {
        if list.len() > 1 {
            return Err(bad(format!(
                "trust policy statement {policy:?} uses a wildcard trusted identity '*', a wildcard identity cannot be used in conjunction with other values"
            )));
        }
        return Ok(None);
    }
    let mut out = Vec::new();
    for identity in list {
        let Some((prefix, value)) = identity.split_once(':') else {
            return Err(bad(format!(
                "trust policy statement {policy:?} has trusted identity {identity:?} missing separator"
            )));
        };
        if prefix.trim() != "x509.subject" {
            return Err(bad(format!(
                "trust policy statement {policy:?} uses an unsupported trusted identity type {prefix:?}"
            )));
        }
        if value.trim().is_empty() {
            return Err(bad(format!(
                "trust policy statement {policy:?} has trusted identity {identity:?} without an identity value"
            )));
        }
        out.push(parse_dn(value).map_err(bad)?);
    }
    // Overlapping identities make the policy ambiguous (notation-go
    // `validateOverlappingDNs`).
    for (i, a) in out.iter().enumerate() {
        for b in &out[i + 1..] {
            if is_subset(a, b) || is_subset(b, a) {
                return Err(bad(format!(
                    "trust policy statement {policy:?} has overlapping x509 trustedIdentities"
                )));
            }
        }
    }
    Ok(Some(out))
}

/// Parses an RFC 4514 distinguished name as notation-go does: one attribute
/// per RDN, no duplicate types, no `=#` hex values, `S` read as `ST`, and C,
/// ST and O present.
pub fn parse_dn(name: &str) -> Result<Identity, String> {
    if name.contains("=#") {
        return Err(format!(
            "unsupported distinguished name (DN) {name:?}: notation does not support x509.subject identities containing \"=#\""
        ));
    }
    let syntax = |why: &str| {
        format!(
            "parsing distinguished name (DN) {name:?} failed with err: {why}. A valid DN must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum, and follow RFC 4514 standard"
        )
    };
    let mut attrs = Identity::new();
    for rdn in split_unescaped(name, b',').map_err(|e| syntax(&e))? {
        if split_unescaped(&rdn, b'+').map_err(|e| syntax(&e))?.len() > 1 {
            return Err(format!(
                "distinguished name (DN) {name:?} has multi-valued RDN attributes, remove multi-valued RDN attributes as they are not supported"
            ));
        }
        let Some((kind, value)) = rdn.split_once('=') else {
            return Err(syntax("an attribute has no '='"));
        };
        let mut kind = kind.trim().to_string();
        if kind.is_empty() {
            return Err(syntax("an attribute has no type"));
        }
        if kind == "S" {
            kind = "ST".into();
        }
        let value = unescape(value.trim()).map_err(|e| syntax(&e))?;
        if attrs.contains_key(&kind) {
            return Err(format!(
                "distinguished name (DN) {name:?} has duplicate RDN attribute for {kind:?}, DN can only have unique RDN attributes"
            ));
        }
        attrs.insert(kind, value);
    }
    for field in ["C", "ST", "O"] {
        if attrs.get(field).is_none_or(|v| v.is_empty()) {
            return Err(format!(
                "distinguished name (DN) {name:?} has no mandatory RDN attribute for {field:?}, it must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum"
            ));
        }
    }
    Ok(attrs)
}

/// Splits at `sep` where it is not escaped by a backslash.
fn split_unescaped(s: &str, sep: u8) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'\\' {
            cur.push(b);
            cur.push(bytes.next().ok_or("a trailing backslash")?);
        } else if b == sep {
            out.push(String::from_utf8(std::mem::take(&mut cur)).map_err(|e| e.to_string())?);
        } else {
            cur.push(b);
        }
    }
    out.push(String::from_utf8(cur).map_err(|e| e.to_string())?);
    Ok(out)
}

/// Removes RFC 4514 escapes (`\,`, `\\`, `\XX` hex pairs).
fn unescape(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let hex = |c: u8| (c as char).to_digit(16);
        match (b.get(i + 1), b.get(i + 2)) {
            (Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push(((hex(h).unwrap_or(0) << 4) | hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (Some(&c), _) => {
                out.push(c);
                i += 2;
            }
            (None, _) => return Err("a trailing backslash".into()),
        }
    }
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// Whether every attribute of `a` has the same value in `b`.
pub fn is_subset(a: &Identity, b: &Identity) -> bool {
    a.iter().all(|(k, v)| b.get(k) == Some(v))
}

/// The leaf's subject as notation-go reads it (Go's `Name.String()` parsed
/// back): the short names Go knows, one value each; any other attribute
/// type would be written `OID=#hex`, which notation refuses.
pub fn certificate_identity(cert: &Certificate) -> Result<Identity, String> {
    let mut attrs = Identity::new();
    for (oid, value, _) in cert.subject_attributes() {
        let short = match oid.as_str() {
            "2.5.4.3" => "CN",
            "2.5.4.5" => "SERIALNUMBER",
            "2.5.4.6" => "C",
            "2.5.4.7" => "L",
            "2.5.4.8" => "ST",
            "2.5.4.9" => "STREET",
            "2.5.4.10" => "O",
            "2.5.4.11" => "OU",
            "2.5.4.17" => "POSTALCODE",
            _ => {
                return Err(format!(
                    "unsupported distinguished name (DN) of certificate {:?}: attribute {oid} is written with \"=#\"",
                    cert.subject()
                ));
            }
        };
        let value = value.ok_or_else(|| {
            format!(
                "certificate {:?}: attribute {short} is not a string",
                cert.subject()
            )
        })?;
        if attrs.insert(short.to_string(), value).is_some() {
            return Err(format!(
                "distinguished name (DN) {:?} has multi-valued RDN attributes, remove multi-valued RDN attributes as they are not supported",
                cert.subject()
            ));
        }
    }
    for field in ["C", "ST", "O"] {
        if attrs.get(field).is_none_or(|v| v.is_empty()) {
            return Err(format!(
                "distinguished name (DN) {:?} has no mandatory RDN attribute for {field:?}, it must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum",
                cert.subject()
            ));
        }
    }
    Ok(attrs)
}

/// Formats identities as Go's `%q` prints `[]map[string]string`.
pub fn format_identities(list: &[Identity]) -> String {
    let maps: Vec<String> = list
        .iter()
        .map(|m| {
            let kv: Vec<String> = m.iter().map(|(k, v)| format!("{k:?}:{v:?}")).collect();
            format!("map[{}]", kv.join(" "))
        })
        .collect();
    format!("[{}]", maps.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinguished_names_follow_notation() {
        let dn = parse_dn("CN=a\\,b ,O=Notary,S=WA,C=US").unwrap();
        assert_eq!(dn["CN"], "a,b");
        assert_eq!(dn["ST"], "WA");
        assert!(parse_dn("CN=x,O=o,C=US").unwrap_err().contains("mandatory"));
        assert!(
            parse_dn("CN=x+OU=y,O=o,ST=s,C=US")
                .unwrap_err()
                .contains("multi-valued")
        );
        assert!(
            parse_dn("O=a,O=b,ST=s,C=US")
                .unwrap_err()
                .contains("duplicate")
        );
        assert!(parse_dn("CN=#01,O=a,ST=s,C=US").unwrap_err().contains("=#"));
    }

    #[test]
    fn policies_are_validated() {
        let ok = serde_json::json!({"name":"p","registryScopes":["*"],
            "signatureVerification":{"level":"permissive","override":{"expiry":"enforce"}},
            "trustStores":["ca:x","tsa:t"],"trustedIdentities":["*"]});
        let p = TrustPolicy::from_json(&ok).unwrap();
        assert_eq!(p.enforcement.expiry, Action::Enforce);
        assert_eq!(p.enforcement.authentic_timestamp, Action::Log);
        assert!(p.has_tsa_store());
        for (field, value, why) in [
            ("trustStores", serde_json::json!(["x"]), "missing separator"),
            (
                "trustedIdentities",
                serde_json::json!(["*", "x509.subject:C=US,ST=a,O=b"]),
                "wildcard",
            ),
            (
                "trustedIdentities",
                serde_json::json!([
                    "x509.subject:C=US,ST=a,O=b",
                    "x509.subject:C=US,ST=a,O=b,CN=c"
                ]),
                "overlapping",
            ),
        ] {
            let mut bad = ok.clone();
            bad[field] = value;
            let e = TrustPolicy::from_json(&bad).unwrap_err();
            assert!(e.to_string().contains(why), "{e}");
        }
        let mut bad = ok.clone();
        bad["signatureVerification"]["override"] = serde_json::json!({"integrity":"log"});
        assert!(TrustPolicy::from_json(&bad).is_err());
    }
}
