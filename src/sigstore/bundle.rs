//! Sigstore bundles v0.1–v0.3 (`sigstore_bundle.proto` in its JSON form):
//! parsing with the version's rules, and verification of a message
//! signature or DSSE envelope against an artifact, with its transparency-log
//! entries (SET, inclusion proof and checkpoint, body binding), the signing
//! certificate's path, SCT and identity, or a managed key.

use super::dsse::{self, Envelope, IN_TOTO_PAYLOAD_TYPE};
use super::fulcio::Identity;
use super::keyless;
use super::merkle;
use super::trusted_root::{LogKey, Trust, TrustedRoot};
use crate::crypto::x509::Certificate;
use crate::crypto::{CryptoError, HashAlgorithm, PublicKey};
use crate::digest::hex_encode;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::Value;

/// Largest bundle accepted.
pub const MAX_BUNDLE_BYTES: usize = 4 << 20;
/// Most transparency-log entries read from one bundle.
const MAX_TLOG_ENTRIES: usize = 8;
/// Most certificates in a bundle's chain.
const MAX_CHAIN: usize = 10;
/// Most RFC 3161 timestamps read from one bundle.
const MAX_TIMESTAMPS: usize = 4;

/// Why a bundle did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// Not a bundle of a supported version, or a field is malformed.
    #[error("invalid bundle: {0}")]
    Invalid(String),
    /// The verification material does not fit the trust the caller asked for.
    #[error("verification material: {0}")]
    Material(String),
    /// A transparency-log entry failed.
    #[error("transparency log entry {index}: {reason}")]
    Tlog {
        /// Entry index in the bundle.
        index: usize,
        /// Why.
        reason: String,
    },
    /// The signature or the artifact binding failed.
    #[error("signature: {0}")]
    Signature(String),
    /// The certificate failed (path, time, SCT, identity).
    #[error("certificate: {0}")]
    Certificate(String),
    /// An RFC 3161 timestamp failed.
    #[error("timestamp {index}: {reason}")]
    Timestamp {
        /// Timestamp index in the bundle.
        index: usize,
        /// Why.
        reason: String,
    },
}

fn invalid(m: impl std::fmt::Display) -> BundleError {
    BundleError::Invalid(m.to_string())
}

/// Bundle versions, by media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    /// `…;version=0.1`: an inclusion promise (SET) is required.
    V01,
    /// `…;version=0.2`: an inclusion proof with checkpoint is required.
    V02,
    /// `…;version=0.3` or `…bundle.v0.3+json`: as 0.2, with a single certificate.
    V03,
}

impl Version {
    fn parse(media_type: &str) -> Option<Self> {
        match media_type {
            "application/vnd.dev.sigstore.bundle+json;version=0.1" => Some(Self::V01),
            "application/vnd.dev.sigstore.bundle+json;version=0.2" => Some(Self::V02),
            "application/vnd.dev.sigstore.bundle+json;version=0.3"
            | "application/vnd.dev.sigstore.bundle.v0.3+json" => Some(Self::V03),
            _ => None,
        }
    }
}

/// Who signed, as the bundle says.
#[derive(Debug, Clone)]
pub enum Material {
    /// A leaf certificate, with any further certificates of the chain.
    Certificate(Box<Certificate>, Vec<Certificate>),
    /// A managed key known to the verifier by `hint`.
    PublicKey(String),
}

/// What was signed.
#[derive(Debug, Clone)]
pub enum Content {
    /// A signature over the artifact, with the digest the signer claimed.
    Message {
        /// `messageDigest` (SHA2_256 only), when present.
        digest: Option<Vec<u8>>,
        /// The signature.
        signature: Vec<u8>,
    },
    /// A DSSE envelope (one signature).
    Dsse(Envelope),
}

/// An inclusion proof.
#[derive(Debug, Clone)]
pub struct Proof {
    /// Index of the leaf in the proof's tree.
    pub log_index: u64,
    /// Root hash.
    pub root_hash: Vec<u8>,
    /// Tree size.
    pub tree_size: u64,
    /// Audit path, leaf to root.
    pub hashes: Vec<Vec<u8>>,
    /// The signed checkpoint note.
    pub checkpoint: Option<String>,
}

/// A transparency-log entry.
#[derive(Debug, Clone)]
pub struct TlogEntry {
    /// The global log index (what the SET signs).
    pub log_index: u64,
    /// The log's ID.
    pub log_id: Vec<u8>,
    /// Entry kind and version (`hashedrekord` `0.0.1`, …).
    pub kind: String,
    /// Entry version.
    pub version: String,
    /// `integratedTime` (0 for Rekor v2).
    pub integrated_time: i64,
    /// The SET.
    pub set: Option<Vec<u8>>,
    /// The inclusion proof.
    pub proof: Option<Proof>,
    /// The canonicalized entry body.
    pub body: Vec<u8>,
}

/// A parsed bundle.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The version.
    pub version: Version,
    /// The signer.
    pub material: Material,
    /// Transparency-log entries.
    pub entries: Vec<TlogEntry>,
    /// RFC 3161 timestamp responses (DER).
    pub timestamps: Vec<Vec<u8>>,
    /// The signed content.
    pub content: Content,
}

/// proto3 JSON int64: a string, or a number.
fn int64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        S(String),
        I(i64),
    }
    match N::deserialize(d)? {
        N::I(i) => Ok(i),
        N::S(s) => s.parse().map_err(serde::de::Error::custom),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBundle {
    media_type: String,
    verification_material: RawMaterial,
    #[serde(default)]
    message_signature: Option<RawMessage>,
    #[serde(default)]
    dsse_envelope: Option<RawEnvelope>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMaterial {
    #[serde(default)]
    certificate: Option<RawBytes>,
    #[serde(default)]
    x509_certificate_chain: Option<RawChain>,
    #[serde(default)]
    public_key: Option<RawHint>,
    #[serde(default)]
    tlog_entries: Vec<RawEntry>,
    #[serde(default)]
    timestamp_verification_data: Option<RawTimestamps>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBytes {
    raw_bytes: String,
}

#[derive(Deserialize)]
struct RawChain {
    #[serde(default)]
    certificates: Vec<RawBytes>,
}

#[derive(Deserialize)]
struct RawHint {
    #[serde(default)]
    hint: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTimestamps {
    #[serde(default)]
    rfc3161_timestamps: Vec<RawTimestamp>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTimestamp {
    signed_timestamp: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    #[serde(deserialize_with = "int64")]
    log_index: i64,
    log_id: RawLogId,
    kind_version: RawKindVersion,
    #[serde(default, deserialize_with = "int64")]
    integrated_time: i64,
    #[serde(default)]
    inclusion_promise: Option<RawPromise>,
    #[serde(default)]
    inclusion_proof: Option<RawProof>,
    canonicalized_body: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLogId {
    key_id: String,
}

#[derive(Deserialize)]
struct RawKindVersion {
    kind: String,
    version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPromise {
    signed_entry_timestamp: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProof {
    #[serde(deserialize_with = "int64")]
    log_index: i64,
    root_hash: String,
    #[serde(deserialize_with = "int64")]
    tree_size: i64,
    #[serde(default)]
    hashes: Vec<String>,
    #[serde(default)]
    checkpoint: Option<RawCheckpoint>,
}

#[derive(Deserialize)]
struct RawCheckpoint {
    envelope: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMessage {
    #[serde(default)]
    message_digest: Option<RawDigest>,
    signature: String,
}

#[derive(Deserialize)]
struct RawDigest {
    algorithm: String,
    digest: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEnvelope {
    payload: String,
    payload_type: String,
    #[serde(default)]
    signatures: Vec<RawDsseSignature>,
}

#[derive(Deserialize)]
struct RawDsseSignature {
    sig: String,
}

/// A proto3 JSON `bytes` field: standard or URL-safe base64, padded or
/// not, line breaks skipped (as Go's protojson reads them).
fn b64(field: &str, s: &str) -> Result<Vec<u8>, BundleError> {
    let compact: String = s.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    dsse::decode_b64(&compact).ok_or_else(|| invalid(format!("{field} is not base64")))
}

fn unsigned(field: &str, n: i64) -> Result<u64, BundleError> {
    u64::try_from(n).map_err(|_| invalid(format!("{field} is negative")))
}

impl Bundle {
    /// Parses a bundle's JSON.
    pub fn parse(json: &[u8]) -> Result<Self, BundleError> {
        if json.len() > MAX_BUNDLE_BYTES {
            return Err(invalid(format!("over {MAX_BUNDLE_BYTES} bytes")));
        }
        let raw: RawBundle = serde_json::from_slice(json).map_err(invalid)?;
        let version = Version::parse(&raw.media_type)
            .ok_or_else(|| invalid(format!("unsupported mediaType {:?}", raw.media_type)))?;
        let vm = raw.verification_material;
        let material = match (vm.certificate, vm.x509_certificate_chain, vm.public_key) {
            (Some(c), None, None) => {
                let cert =
                    Certificate::from_der(&b64("certificate", &c.raw_bytes)?).map_err(invalid)?;
                Material::Certificate(Box::new(cert), Vec::new())
            }
            (None, Some(chain), None) => {
                if version == Version::V03 {
                    return Err(invalid(
                        "a v0.3 bundle carries a single certificate, not a chain",
                    ));
                }
                if chain.certificates.len() > MAX_CHAIN {
                    return Err(invalid("certificate chain too long"));
                }
                let mut certs = Vec::new();
                for c in &chain.certificates {
                    certs.push(
                        Certificate::from_der(&b64("x509CertificateChain", &c.raw_bytes)?)
                            .map_err(invalid)?,
                    );
                }
                if certs.is_empty() {
                    return Err(invalid("empty certificate chain"));
                }
                let leaf = certs.remove(0);
                Material::Certificate(Box::new(leaf), certs)
            }
            (None, None, Some(k)) => Material::PublicKey(k.hint),
            _ => {
                return Err(invalid(
                    "verificationMaterial needs exactly one of certificate, x509CertificateChain or publicKey",
                ));
            }
        };
        if vm.tlog_entries.len() > MAX_TLOG_ENTRIES {
            return Err(invalid("too many tlog entries"));
        }
        let mut entries = Vec::new();
        for e in vm.tlog_entries {
            let proof = match e.inclusion_proof {
                None => None,
                Some(p) => Some(Proof {
                    log_index: unsigned("inclusionProof.logIndex", p.log_index)?,
                    root_hash: b64("inclusionProof.rootHash", &p.root_hash)?,
                    tree_size: unsigned("inclusionProof.treeSize", p.tree_size)?,
                    hashes: p
                        .hashes
                        .iter()
                        .map(|h| b64("inclusionProof.hashes", h))
                        .collect::<Result<_, _>>()?,
                    checkpoint: p.checkpoint.map(|c| c.envelope),
                }),
            };
            entries.push(TlogEntry {
                log_index: unsigned("logIndex", e.log_index)?,
                log_id: b64("logId.keyId", &e.log_id.key_id)?,
                kind: e.kind_version.kind,
                version: e.kind_version.version,
                integrated_time: e.integrated_time,
                set: e
                    .inclusion_promise
                    .map(|p| b64("signedEntryTimestamp", &p.signed_entry_timestamp))
                    .transpose()?,
                proof,
                body: b64("canonicalizedBody", &e.canonicalized_body)?,
            });
        }
        let timestamps = vm
            .timestamp_verification_data
            .map(|t| t.rfc3161_timestamps)
            .unwrap_or_default()
            .iter()
            .map(|t| b64("signedTimestamp", &t.signed_timestamp))
            .collect::<Result<Vec<_>, _>>()?;
        let content = match (raw.message_signature, raw.dsse_envelope) {
            (Some(m), None) => Content::Message {
                digest: match m.message_digest {
                    None => None,
                    Some(d) if d.algorithm == "SHA2_256" => Some(b64("messageDigest", &d.digest)?),
                    Some(d) => {
                        return Err(invalid(format!(
                            "unsupported digest algorithm {}",
                            d.algorithm
                        )));
                    }
                },
                signature: b64("messageSignature.signature", &m.signature)?,
            },
            (None, Some(d)) => {
                if d.signatures.len() != 1 {
                    return Err(invalid(
                        "a DSSE envelope in a bundle has exactly one signature",
                    ));
                }
                Content::Dsse(
                    Envelope::from_parts(
                        &d.payload_type,
                        &d.payload,
                        d.signatures.iter().map(|s| s.sig.as_str()),
                    )
                    .map_err(invalid)?,
                )
            }
            _ => {
                return Err(invalid(
                    "needs exactly one of messageSignature or dsseEnvelope",
                ));
            }
        };
        Ok(Bundle {
            version,
            material,
            entries,
            timestamps,
            content,
        })
    }
}

/// The artifact a bundle is verified against.
#[derive(Debug, Clone, Copy)]
pub enum Artifact<'a> {
    /// Its bytes.
    Bytes(&'a [u8]),
    /// Its SHA-256 (for DSSE, a statement subject's).
    Sha256(&'a [u8; 32]),
}

impl Artifact<'_> {
    fn sha256(&self) -> [u8; 32] {
        use sha2::Digest as _;
        match self {
            Artifact::Bytes(b) => sha2::Sha256::digest(b).into(),
            Artifact::Sha256(d) => **d,
        }
    }
}

/// Whom the verifier trusts to have signed.
pub enum Signer<'a> {
    /// A managed key.
    Key(&'a PublicKey),
    /// A certificate whose identity this check accepts.
    Identity(&'a dyn Fn(&Identity) -> Result<(), String>),
}

/// Everything a bundle is verified with.
pub struct BundleCheck<'a> {
    /// Trusted logs, authorities and CT logs.
    pub trust: Trust<'a>,
    /// The accepted signer.
    pub signer: Signer<'a>,
    /// The artifact.
    pub artifact: Artifact<'a>,
    /// The verifier's clock (unix seconds): no log time may lie after it.
    pub now: i64,
    /// Whether a transparency-log entry is required and its entries read
    /// (`false` is a policy's `rekor.ignoreTlog`: entries are not used).
    pub require_tlog: bool,
    /// Whether a certificate's embedded SCT must verify (`false` is
    /// `ctlog.ignoreSCT`).
    pub require_sct: bool,
}

impl<'a> BundleCheck<'a> {
    /// A check that requires every log: a transparency-log entry and, for a
    /// certificate, its SCT (the Sigstore client protocol's verification).
    pub fn strict(
        root: &'a TrustedRoot,
        signer: Signer<'a>,
        artifact: Artifact<'a>,
        now: i64,
    ) -> Self {
        BundleCheck {
            trust: root.trust(),
            signer,
            artifact,
            now,
            require_tlog: true,
            require_sct: true,
        }
    }
}

/// What a verified bundle established.
#[derive(Debug, Clone)]
pub struct VerifiedBundle {
    /// The trusted signing times (integrated times of verified SETs and
    /// verified RFC 3161 `genTime`s).
    pub times: Vec<i64>,
    /// The DSSE payload, when the content was an envelope.
    pub payload: Option<Vec<u8>>,
}

/// The verifying key and, for a certificate, the leaf.
enum SigningKey<'a> {
    Key(&'a PublicKey),
    Certificate(&'a Certificate, PublicKey),
}

impl SigningKey<'_> {
    fn key(&self) -> &PublicKey {
        match self {
            SigningKey::Key(k) => k,
            SigningKey::Certificate(_, k) => k,
        }
    }
}

/// Verifies `bundle` under `check`.
pub fn verify(bundle: &Bundle, check: &BundleCheck) -> Result<VerifiedBundle, BundleError> {
    let signing = match (&bundle.material, &check.signer) {
        (Material::PublicKey(_), Signer::Key(k)) => SigningKey::Key(k),
        (Material::Certificate(leaf, _), Signer::Identity(_)) => SigningKey::Certificate(
            leaf,
            leaf.public_key()
                .map_err(|e| BundleError::Certificate(e.to_string()))?,
        ),
        (Material::PublicKey(_), Signer::Identity(_)) => {
            return Err(BundleError::Material(
                "the bundle is signed with a managed key, but a certificate identity was asked for"
                    .into(),
            ));
        }
        (Material::Certificate(..), Signer::Key(_)) => {
            return Err(BundleError::Material(
                "the bundle is signed with a certificate, but a key was given".into(),
            ));
        }
    };
    if let Material::Certificate(_, chain) = &bundle.material
        && let Some(root) = chain.iter().find(|c| c.names_issuer(c))
    {
        return Err(BundleError::Material(format!(
            "the chain includes the self-signed certificate {}; trust anchors come from the trusted root only",
            root.subject()
        )));
    }
    let artifact_digest = check.artifact.sha256();
    let (signature, payload) = verify_content(bundle, check, &signing, &artifact_digest)?;
    let mut times = Vec::new();
    if check.require_tlog {
        if bundle.entries.is_empty() {
            return Err(BundleError::Tlog {
                index: 0,
                reason: "the bundle has no transparency log entry".into(),
            });
        }
        for (index, entry) in bundle.entries.iter().enumerate() {
            let tlog = |reason: String| BundleError::Tlog { index, reason };
            if let Some(t) = verify_entry(bundle, entry, check).map_err(tlog)? {
                times.push(t);
            }
            check_body(entry, bundle, &signing, &signature, &artifact_digest).map_err(tlog)?;
        }
    }
    if bundle.timestamps.len() > MAX_TIMESTAMPS {
        return Err(invalid("too many RFC 3161 timestamps"));
    }
    for (index, ts) in bundle.timestamps.iter().enumerate() {
        let at = super::timestamp::verify(ts, &signature, check.trust.timestamp_authorities)
            .map_err(|e| BundleError::Timestamp {
                index,
                reason: e.to_string(),
            })?;
        if at > check.now {
            return Err(BundleError::Timestamp {
                index,
                reason: format!("its time {at} is in the future"),
            });
        }
        times.push(at);
    }
    if times.is_empty() {
        match (&signing, check.require_tlog) {
            // A managed key without a log needs no signing time.
            (SigningKey::Key(_), false) => {}
            // A certificate without a log is checked at the verifier's time,
            // as cosign checks it under `ignoreTlog`.
            (SigningKey::Certificate(..), false) => times.push(check.now),
            (_, true) => {
                return Err(BundleError::Tlog {
                    index: 0,
                    reason: "no trusted signing time: no log entry with a signed integrated time and no RFC 3161 timestamp".into(),
                });
            }
        }
    }
    if let (
        SigningKey::Certificate(leaf, _),
        Material::Certificate(_, chain),
        Signer::Identity(accept),
    ) = (&signing, &bundle.material, &check.signer)
    {
        let cert = |m: String| BundleError::Certificate(m);
        let mut issuer = None;
        for t in &times {
            issuer = Some(
                keyless::verify_certificate(leaf, chain, check.trust.certificate_authorities, *t)
                    .map_err(|e| cert(e.to_string()))?,
            );
        }
        if let Some(issuer) = issuer.filter(|_| check.require_sct) {
            super::sct::verify_embedded(leaf, &issuer, check.trust.ctlogs)
                .map_err(|e| cert(e.to_string()))?;
        }
        let identity = Identity::of(leaf).map_err(|e| cert(e.to_string()))?;
        accept(&identity).map_err(cert)?;
    }
    Ok(VerifiedBundle { times, payload })
}

/// Verifies the signature over the content and its binding to the artifact;
/// returns the signature bytes and any DSSE payload.
fn verify_content(
    bundle: &Bundle,
    check: &BundleCheck,
    signing: &SigningKey,
    artifact_digest: &[u8; 32],
) -> Result<(Vec<u8>, Option<Vec<u8>>), BundleError> {
    let sig_err = |e: CryptoError| BundleError::Signature(e.to_string());
    match &bundle.content {
        Content::Message { digest, signature } => {
            if let Some(d) = digest
                && d.as_slice() != artifact_digest
            {
                return Err(BundleError::Signature(
                    "the bundle's message digest is not the artifact's".into(),
                ));
            }
            let key = signing.key();
            match (key, check.artifact) {
                (PublicKey::Ed25519(_), Artifact::Bytes(b)) => key.verify_ed25519(b, signature),
                (PublicKey::Ed25519(_), Artifact::Sha256(_)) => {
                    return Err(BundleError::Signature(
                        "an Ed25519 signature needs the artifact itself, not its digest".into(),
                    ));
                }
                _ => key.verify_prehashed(HashAlgorithm::Sha256, artifact_digest, signature),
            }
            .map_err(sig_err)?;
            Ok((signature.clone(), None))
        }
        Content::Dsse(env) => {
            let sig = env.signatures.first().cloned().unwrap_or_default();
            let key = signing.key();
            match key {
                PublicKey::Ed25519(_) => key.verify_ed25519(&env.pae(), &sig),
                _ => key.verify_cosign(HashAlgorithm::Sha256, &env.pae(), &sig),
            }
            .map_err(sig_err)?;
            if env.payload_type != IN_TOTO_PAYLOAD_TYPE {
                return Err(BundleError::Signature(format!(
                    "DSSE payload type {:?} is not in-toto's",
                    env.payload_type
                )));
            }
            statement_names(&env.payload, artifact_digest)?;
            Ok((sig, Some(env.payload.clone())))
        }
    }
}

/// Fails unless an in-toto statement's subjects include the digest.
fn statement_names(payload: &[u8], digest: &[u8; 32]) -> Result<(), BundleError> {
    let v: Value = serde_json::from_slice(payload)
        .map_err(|e| BundleError::Signature(format!("in-toto statement: {e}")))?;
    let want = hex_encode(digest);
    let found = v
        .get("subject")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|s| s.pointer("/digest/sha256").and_then(Value::as_str) == Some(want.as_str()));
    if !found {
        return Err(BundleError::Signature(format!(
            "no subject of the in-toto statement has digest sha256:{want}"
        )));
    }
    Ok(())
}

/// Verifies an entry's SET and inclusion proof; returns its integrated time
/// when a SET vouches for it.
fn verify_entry(
    bundle: &Bundle,
    entry: &TlogEntry,
    check: &BundleCheck,
) -> Result<Option<i64>, String> {
    let log_id = hex_encode(&entry.log_id);
    let log = check
        .trust
        .tlogs
        .iter()
        .find(|l| l.log_id == log_id)
        .ok_or_else(|| format!("no trusted log with ID {log_id}"))?;
    if entry.integrated_time > check.now {
        return Err(format!(
            "integrated time {} is in the future",
            entry.integrated_time
        ));
    }
    let mut time = None;
    match &entry.set {
        Some(set) => {
            verify_set(entry, set, log)?;
            if !log.valid_at(entry.integrated_time) {
                return Err(format!(
                    "log key not valid at integrated time {}",
                    entry.integrated_time
                ));
            }
            time = Some(entry.integrated_time);
        }
        None if bundle.version == Version::V01 => {
            return Err("a v0.1 bundle needs an inclusion promise".into());
        }
        None => {}
    }
    match &entry.proof {
        Some(proof) => {
            merkle::verify_inclusion(
                merkle::leaf_hash(&entry.body),
                proof.log_index,
                proof.tree_size,
                &proof.hashes,
                &proof.root_hash,
            )
            .map_err(|e| e.to_string())?;
            match &proof.checkpoint {
                Some(note) => {
                    let cp = merkle::verify_checkpoint(note, log).map_err(|e| e.to_string())?;
                    if cp.size != proof.tree_size || cp.root_hash != proof.root_hash {
                        return Err("checkpoint does not commit to the proof's tree".into());
                    }
                }
                None if bundle.version >= Version::V02 => {
                    return Err("the inclusion proof has no checkpoint".into());
                }
                None => {}
            }
        }
        None if bundle.version >= Version::V02 => {
            return Err("the bundle version requires an inclusion proof".into());
        }
        None => {}
    }
    Ok(time)
}

/// The SET: the log's signature over the canonical JSON of the entry.
fn verify_set(entry: &TlogEntry, set: &[u8], log: &LogKey) -> Result<(), String> {
    let canonical = serde_json::to_vec(&serde_json::json!({
        "body": base64::engine::general_purpose::STANDARD.encode(&entry.body),
        "integratedTime": entry.integrated_time,
        "logID": hex_encode(&entry.log_id),
        "logIndex": entry.log_index,
    }))
    .map_err(|e| e.to_string())?;
    let ok = match log.key.as_ref() {
        PublicKey::Ed25519(_) => log.key.verify_ed25519(&canonical, set).is_ok(),
        k => k
            .verify_ecdsa_der(
                k.curve_hash().unwrap_or(HashAlgorithm::Sha256),
                &canonical,
                set,
            )
            .is_ok(),
    };
    if ok {
        Ok(())
    } else {
        Err("the signed entry timestamp does not verify".into())
    }
}

/// The entry body must describe this signature, signer and artifact.
fn check_body(
    entry: &TlogEntry,
    bundle: &Bundle,
    signing: &SigningKey,
    signature: &[u8],
    artifact_digest: &[u8; 32],
) -> Result<(), String> {
    let body: Value = serde_json::from_slice(&entry.body).map_err(|e| format!("body: {e}"))?;
    let kind = body.get("kind").and_then(Value::as_str).unwrap_or("");
    let version = body.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    if kind != entry.kind || version != entry.version {
        return Err(format!(
            "body is {kind} {version}, the entry says {} {}",
            entry.kind, entry.version
        ));
    }
    let s = |p: &str| body.pointer(p).and_then(Value::as_str).unwrap_or("");
    let std = base64::engine::general_purpose::STANDARD;
    let sha256 = |b: &[u8]| {
        use sha2::Digest as _;
        let d: [u8; 32] = sha2::Sha256::digest(b).into();
        d
    };
    let same_signer_pem = |b64_pem: &str| -> bool {
        let Ok(pem) = std.decode(b64_pem) else {
            return false;
        };
        let pem = String::from_utf8_lossy(&pem);
        match signing {
            SigningKey::Certificate(leaf, _) => Certificate::from_pem_chain(&pem)
                .is_ok_and(|c| c.len() == 1 && c[0].der() == leaf.der()),
            SigningKey::Key(k) => PublicKey::from_pem(&pem).is_ok_and(
                |b| matches!((b.to_spki_der(), k.to_spki_der()), (Ok(a), Ok(c)) if a == c),
            ),
        }
    };
    let same_signer_der = |b64_der: &str| -> bool {
        let Ok(der) = std.decode(b64_der) else {
            return false;
        };
        match signing {
            SigningKey::Certificate(leaf, _) => der == leaf.der(),
            SigningKey::Key(k) => k.to_spki_der().is_ok_and(|d| d == der),
        }
    };
    let mismatch = |what: &str| Err(format!("the log entry's {what} does not match the bundle"));
    match (kind, version, &bundle.content) {
        ("hashedrekord", "0.0.1", Content::Message { .. }) => {
            if s("/spec/data/hash/algorithm") != "sha256"
                || s("/spec/data/hash/value") != hex_encode(artifact_digest)
            {
                return mismatch("artifact hash");
            }
            if std.decode(s("/spec/signature/content")).ok().as_deref() != Some(signature) {
                return mismatch("signature");
            }
            if !same_signer_pem(s("/spec/signature/publicKey/content")) {
                return mismatch("public key");
            }
        }
        ("hashedrekord", "0.0.2", _) => {
            let spec = "/spec/hashedRekordV002";
            let want = match &bundle.content {
                Content::Message { .. } => *artifact_digest,
                Content::Dsse(env) => sha256(&env.pae()),
            };
            if s(&format!("{spec}/data/algorithm")) != "SHA2_256"
                || std
                    .decode(s(&format!("{spec}/data/digest")))
                    .ok()
                    .as_deref()
                    != Some(&want[..])
            {
                return mismatch("artifact hash");
            }
            if std
                .decode(s(&format!("{spec}/signature/content")))
                .ok()
                .as_deref()
                != Some(signature)
            {
                return mismatch("signature");
            }
            let verifier = format!("{spec}/signature/verifier");
            let cert = s(&format!("{verifier}/x509Certificate/rawBytes"));
            let key = s(&format!("{verifier}/publicKey/rawBytes"));
            if !same_signer_der(if cert.is_empty() { key } else { cert }) {
                return mismatch("public key");
            }
        }
        ("dsse", "0.0.1", Content::Dsse(env)) => {
            if s("/spec/payloadHash/algorithm") != "sha256"
                || s("/spec/payloadHash/value") != hex_encode(&sha256(&env.payload))
            {
                return mismatch("payload hash");
            }
            let sigs = body.pointer("/spec/signatures").and_then(Value::as_array);
            let listed = sigs.into_iter().flatten().any(|e| {
                e.get("signature")
                    .and_then(Value::as_str)
                    .and_then(|x| std.decode(x).ok())
                    .as_deref()
                    == Some(signature)
                    && same_signer_pem(e.get("verifier").and_then(Value::as_str).unwrap_or(""))
            });
            if !listed || sigs.is_none_or(|a| a.len() != 1) {
                return mismatch("signature");
            }
        }
        ("dsse", "0.0.2", Content::Dsse(env)) => {
            let spec = "/spec/dsseV002";
            if s(&format!("{spec}/payloadHash/algorithm")) != "SHA2_256"
                || std
                    .decode(s(&format!("{spec}/payloadHash/digest")))
                    .ok()
                    .as_deref()
                    != Some(&sha256(&env.payload)[..])
            {
                return mismatch("payload hash");
            }
            let sigs = body
                .pointer(&format!("{spec}/signatures"))
                .and_then(Value::as_array);
            let listed = sigs.into_iter().flatten().any(|e| {
                e.get("content")
                    .and_then(Value::as_str)
                    .and_then(|x| std.decode(x).ok())
                    .as_deref()
                    == Some(signature)
                    && same_signer_der(
                        e.pointer("/verifier/x509Certificate/rawBytes")
                            .or_else(|| e.pointer("/verifier/publicKey/rawBytes"))
                            .and_then(Value::as_str)
                            .unwrap_or(""),
                    )
            });
            if !listed || sigs.is_none_or(|a| a.len() != 1) {
                return mismatch("signature");
            }
        }
        ("intoto", "0.0.2", Content::Dsse(env)) => {
            // The envelope's payload and signatures are base64 of base64.
            let twice = |x: &str| {
                std.decode(x)
                    .ok()
                    .and_then(|inner| dsse::decode_b64(&String::from_utf8_lossy(&inner)))
            };
            let content = "/spec/content";
            if s(&format!("{content}/payloadHash/algorithm")) != "sha256"
                || s(&format!("{content}/payloadHash/value")) != hex_encode(&sha256(&env.payload))
            {
                return mismatch("payload hash");
            }
            if twice(s(&format!("{content}/envelope/payload"))).as_deref() != Some(&env.payload[..])
                || s(&format!("{content}/envelope/payloadType")) != env.payload_type
            {
                return mismatch("envelope");
            }
            let sigs = body
                .pointer(&format!("{content}/envelope/signatures"))
                .and_then(Value::as_array);
            let listed = sigs.into_iter().flatten().any(|e| {
                twice(e.get("sig").and_then(Value::as_str).unwrap_or("")).as_deref()
                    == Some(signature)
                    && same_signer_pem(e.get("publicKey").and_then(Value::as_str).unwrap_or(""))
            });
            if !listed || sigs.is_none_or(|a| a.len() != 1) {
                return mismatch("signature");
            }
        }
        _ => {
            return Err(format!(
                "a {kind} {version} entry cannot bind this bundle's content"
            ));
        }
    }
    Ok(())
}
