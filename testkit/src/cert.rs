//! X.509 v3 certificates for Notary chains.
//!
//! [`CertBuilder`] starts from one of the Notary profiles
//! ([`CertBuilder::root_ca`], [`CertBuilder::intermediate_ca`],
//! [`CertBuilder::code_signing`], [`CertBuilder::tsa`]) or from nothing
//! ([`CertBuilder::new`]); every extension can then be replaced, removed or
//! made (non-)critical to break a rule for a negative test. The certificate
//! is signed by its own key ([`CertBuilder::self_signed`]) or by an issuer
//! ([`CertBuilder::issued_by`]) with the issuer key's hash:
//! `ecdsa-with-SHA256/384/512` for P-256/384/521 issuers,
//! `sha256/384/512WithRSAEncryption` for RSA 2048/3072/4096 issuers.

use der::asn1::{Any, BitString, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Tag};
use spki::{
    AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier, EncodePublicKey,
    SubjectPublicKeyInfoOwned,
};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

use crate::key::{HashAlg, Key, KeyKind};

const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";
const OID_KEY_USAGE: &str = "2.5.29.15";
const OID_EXT_KEY_USAGE: &str = "2.5.29.37";
const OID_SUBJECT_KEY_ID: &str = "2.5.29.14";
const OID_AUTHORITY_KEY_ID: &str = "2.5.29.35";

/// A keyUsage bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUsage {
    /// digitalSignature (0).
    DigitalSignature,
    /// nonRepudiation / contentCommitment (1).
    NonRepudiation,
    /// keyEncipherment (2).
    KeyEncipherment,
    /// dataEncipherment (3).
    DataEncipherment,
    /// keyAgreement (4).
    KeyAgreement,
    /// keyCertSign (5).
    KeyCertSign,
    /// cRLSign (6).
    CrlSign,
    /// encipherOnly (7).
    EncipherOnly,
    /// decipherOnly (8).
    DecipherOnly,
}

impl KeyUsage {
    fn flag(self) -> KeyUsages {
        match self {
            KeyUsage::DigitalSignature => KeyUsages::DigitalSignature,
            KeyUsage::NonRepudiation => KeyUsages::NonRepudiation,
            KeyUsage::KeyEncipherment => KeyUsages::KeyEncipherment,
            KeyUsage::DataEncipherment => KeyUsages::DataEncipherment,
            KeyUsage::KeyAgreement => KeyUsages::KeyAgreement,
            KeyUsage::KeyCertSign => KeyUsages::KeyCertSign,
            KeyUsage::CrlSign => KeyUsages::CRLSign,
            KeyUsage::EncipherOnly => KeyUsages::EncipherOnly,
            KeyUsage::DecipherOnly => KeyUsages::DecipherOnly,
        }
    }
}

/// An extendedKeyUsage purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Eku {
    /// id-kp-serverAuth.
    ServerAuth,
    /// id-kp-clientAuth.
    ClientAuth,
    /// id-kp-codeSigning.
    CodeSigning,
    /// id-kp-emailProtection.
    EmailProtection,
    /// id-kp-timeStamping.
    TimeStamping,
    /// id-kp-OCSPSigning.
    OcspSigning,
    /// anyExtendedKeyUsage.
    Any,
    /// Any other purpose, by dotted OID.
    Other(String),
}

impl Eku {
    /// The purpose's dotted OID.
    pub fn oid(&self) -> &str {
        match self {
            Eku::ServerAuth => "1.3.6.1.5.5.7.3.1",
            Eku::ClientAuth => "1.3.6.1.5.5.7.3.2",
            Eku::CodeSigning => "1.3.6.1.5.5.7.3.3",
            Eku::EmailProtection => "1.3.6.1.5.5.7.3.4",
            Eku::TimeStamping => "1.3.6.1.5.5.7.3.8",
            Eku::OcspSigning => "1.3.6.1.5.5.7.3.9",
            Eku::Any => "2.5.29.37.0",
            Eku::Other(oid) => oid,
        }
    }
}

/// An extension as the builder will write it.
#[derive(Debug, Clone)]
struct Ext {
    oid: String,
    critical: bool,
    value: Vec<u8>,
}

/// An X.509 v3 certificate under construction. See the module docs.
#[derive(Debug, Clone)]
pub struct CertBuilder {
    subject: Vec<(String, String)>,
    not_before: i64,
    not_after: i64,
    serial: Option<Vec<u8>>,
    basic_constraints: Option<(bool, Option<u8>, bool)>,
    key_usage: Option<(Vec<KeyUsage>, bool)>,
    ext_key_usage: Option<(Vec<Eku>, bool)>,
    key_identifiers: bool,
    extra: Vec<Ext>,
    signature_hash: Option<HashAlg>,
}

impl CertBuilder {
    /// A certificate for `subject` valid from `not_before` to `not_after`
    /// (unix seconds, inclusive), with no extensions but the key
    /// identifiers.
    ///
    /// `subject` lists (attribute, value) pairs in order, one per RDN:
    /// `C`, `ST`, `L`, `O`, `OU`, `CN`, `SERIALNUMBER`, `STREET`,
    /// `POSTALCODE`, `DC`, `emailAddress`, or a dotted OID. Values are
    /// PrintableStrings where they can be (as Go writes them), else
    /// UTF8Strings.
    pub fn new(subject: &[(&str, &str)], not_before: i64, not_after: i64) -> Self {
        CertBuilder {
            subject: subject
                .iter()
                .map(|(a, v)| (a.to_string(), v.to_string()))
                .collect(),
            not_before,
            not_after,
            serial: None,
            basic_constraints: None,
            key_usage: None,
            ext_key_usage: None,
            key_identifiers: true,
            extra: Vec::new(),
            signature_hash: None,
        }
    }

    /// A root CA: basicConstraints critical `CA:TRUE` (no path length),
    /// keyUsage critical keyCertSign and cRLSign.
    pub fn root_ca(subject: &[(&str, &str)], not_before: i64, not_after: i64) -> Self {
        Self::new(subject, not_before, not_after)
            .basic_constraints(true, None, true)
            .key_usage(&[KeyUsage::KeyCertSign, KeyUsage::CrlSign], true)
    }

    /// An intermediate CA: the same extensions as a root CA.
    pub fn intermediate_ca(subject: &[(&str, &str)], not_before: i64, not_after: i64) -> Self {
        Self::root_ca(subject, not_before, not_after)
    }

    /// A code-signing leaf: keyUsage critical digitalSignature,
    /// extendedKeyUsage (not critical) codeSigning, no basicConstraints.
    /// Signed by its own key it is a single-certificate chain.
    pub fn code_signing(subject: &[(&str, &str)], not_before: i64, not_after: i64) -> Self {
        Self::new(subject, not_before, not_after)
            .key_usage(&[KeyUsage::DigitalSignature], true)
            .extended_key_usage(&[Eku::CodeSigning], false)
    }

    /// A timestamping (TSA) leaf: keyUsage critical digitalSignature,
    /// extendedKeyUsage critical with exactly timeStamping.
    pub fn tsa(subject: &[(&str, &str)], not_before: i64, not_after: i64) -> Self {
        Self::new(subject, not_before, not_after)
            .key_usage(&[KeyUsage::DigitalSignature], true)
            .extended_key_usage(&[Eku::TimeStamping], true)
    }

    /// Sets the serial number (default: derived from the subject and key).
    pub fn serial(mut self, serial: u64) -> Self {
        let bytes = serial.to_be_bytes();
        let first = bytes.iter().position(|b| *b != 0).unwrap_or(7);
        self.serial = Some(bytes[first..].to_vec());
        self
    }

    /// Sets the validity (unix seconds, inclusive).
    pub fn validity(mut self, not_before: i64, not_after: i64) -> Self {
        self.not_before = not_before;
        self.not_after = not_after;
        self
    }

    /// Sets basicConstraints.
    pub fn basic_constraints(mut self, ca: bool, path_len: Option<u8>, critical: bool) -> Self {
        self.basic_constraints = Some((ca, path_len, critical));
        self
    }

    /// Sets the path length of the basicConstraints already set.
    pub fn path_len(mut self, path_len: u8) -> Self {
        let (ca, _, critical) = self
            .basic_constraints
            .expect("path_len needs basic constraints");
        self.basic_constraints = Some((ca, Some(path_len), critical));
        self
    }

    /// Removes basicConstraints.
    pub fn without_basic_constraints(mut self) -> Self {
        self.basic_constraints = None;
        self
    }

    /// Sets keyUsage to exactly `usages`.
    pub fn key_usage(mut self, usages: &[KeyUsage], critical: bool) -> Self {
        self.key_usage = Some((usages.to_vec(), critical));
        self
    }

    /// Removes keyUsage.
    pub fn without_key_usage(mut self) -> Self {
        self.key_usage = None;
        self
    }

    /// Sets extendedKeyUsage to exactly `purposes`.
    pub fn extended_key_usage(mut self, purposes: &[Eku], critical: bool) -> Self {
        self.ext_key_usage = Some((purposes.to_vec(), critical));
        self
    }

    /// Removes extendedKeyUsage.
    pub fn without_extended_key_usage(mut self) -> Self {
        self.ext_key_usage = None;
        self
    }

    /// Whether to write subjectKeyIdentifier and (when issued)
    /// authorityKeyIdentifier (default: yes).
    pub fn key_identifiers(mut self, on: bool) -> Self {
        self.key_identifiers = on;
        self
    }

    /// Adds any extension: `value` is the DER of the extension's value
    /// (what goes inside the extnValue OCTET STRING).
    pub fn extension(mut self, oid: &str, critical: bool, value: &[u8]) -> Self {
        self.extra.push(Ext {
            oid: oid.to_string(),
            critical,
            value: value.to_vec(),
        });
        self
    }

    /// Signs with `hash` instead of the issuer key's own hash.
    pub fn signature_hash(mut self, hash: HashAlg) -> Self {
        self.signature_hash = Some(hash);
        self
    }

    /// The certificate signed by its own `key` (subject = issuer).
    pub fn self_signed(&self, key: &Key) -> Vec<u8> {
        let subject = name(&self.subject);
        let ski = key_id(&key.spki_der());
        self.build(key, subject, key, Some(ski))
    }

    /// The certificate for `subject_key`, issued by `issuer_cert` (DER)
    /// whose key is `issuer_key`.
    pub fn issued_by(&self, subject_key: &Key, issuer_cert: &[u8], issuer_key: &Key) -> Vec<u8> {
        let issuer = x509_cert::Certificate::from_der(issuer_cert).expect("issuer certificate");
        let tbs = issuer.tbs_certificate();
        let issuer_ski = match tbs.get_extension::<SubjectKeyIdentifier>() {
            Ok(Some((_, ski))) => Some(ski.0.as_bytes().to_vec()),
            _ => None,
        };
        self.build(subject_key, tbs.subject().clone(), issuer_key, issuer_ski)
    }

    fn build(
        &self,
        subject_key: &Key,
        issuer: Name,
        issuer_key: &Key,
        issuer_key_id: Option<Vec<u8>>,
    ) -> Vec<u8> {
        let spki_der = subject_key.spki_der();
        let subject = name(&self.subject);
        let mut extensions = Vec::new();
        if let Some((ca, path_len, critical)) = self.basic_constraints {
            let bc = BasicConstraints {
                ca,
                path_len_constraint: path_len,
            };
            extensions.push(ext(OID_BASIC_CONSTRAINTS, critical, &bc));
        }
        if let Some((usages, critical)) = &self.key_usage {
            let flags = usages
                .iter()
                .fold(der::flagset::FlagSet::default(), |f, u| f | u.flag());
            extensions.push(ext(
                OID_KEY_USAGE,
                *critical,
                &x509_cert::ext::pkix::KeyUsage(flags),
            ));
        }
        if let Some((purposes, critical)) = &self.ext_key_usage {
            let eku = ExtendedKeyUsage(
                purposes
                    .iter()
                    .map(|p| ObjectIdentifier::new(p.oid()).expect("an EKU OID"))
                    .collect(),
            );
            extensions.push(ext(OID_EXT_KEY_USAGE, *critical, &eku));
        }
        if self.key_identifiers {
            let ski =
                SubjectKeyIdentifier(OctetString::new(key_id(&spki_der)).expect("key identifier"));
            extensions.push(ext(OID_SUBJECT_KEY_ID, false, &ski));
            let self_issued = subject_key.spki_der() == issuer_key.spki_der();
            if let (Some(id), false) = (issuer_key_id, self_issued) {
                let aki = AuthorityKeyIdentifier {
                    key_identifier: Some(OctetString::new(id).expect("key identifier")),
                    authority_cert_issuer: None,
                    authority_cert_serial_number: None,
                };
                extensions.push(ext(OID_AUTHORITY_KEY_ID, false, &aki));
            }
        }
        for e in &self.extra {
            extensions.push(Extension {
                extn_id: ObjectIdentifier::new(&e.oid).expect("an extension OID"),
                critical: e.critical,
                extn_value: OctetString::new(e.value.clone()).expect("extension value"),
            });
        }

        let serial = match &self.serial {
            Some(s) => s.clone(),
            None => {
                let mut seed = subject.to_der().expect("subject DER");
                seed.extend_from_slice(&spki_der);
                let mut s = HashAlg::Sha256.digest(&seed)[..16].to_vec();
                s[0] = (s[0] & 0x3f) | 0x40;
                s
            }
        };
        let hash = self.signature_hash.unwrap_or(issuer_key.kind().hash());
        let signer = CertSigner {
            key: issuer_key,
            hash,
        };
        let profile = Profile {
            subject,
            issuer,
            extensions,
        };
        let mut builder = CertificateBuilder::new(
            profile,
            SerialNumber::new(&serial).expect("serial number"),
            Validity::new(time(self.not_before), time(self.not_after)),
            SubjectPublicKeyInfoOwned::from_der(&spki_der).expect("SPKI"),
        )
        .expect("certificate builder");
        let tbs = builder.finalize(&signer).expect("TBSCertificate");
        let (_, signature) = issuer_key.sign_x509(hash, &tbs);
        builder
            .assemble(
                BitString::from_bytes(&signature).expect("signature"),
                &signer,
            )
            .expect("certificate")
            .to_der()
            .expect("certificate DER")
    }
}

/// The builder profile: exactly the subject, issuer and extensions given.
struct Profile {
    subject: Name,
    issuer: Name,
    extensions: Vec<Extension>,
}

impl BuilderProfile for Profile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        _spk: spki::SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: spki::SubjectPublicKeyInfoRef<'_>,
        _tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        Ok(self.extensions.clone())
    }
}

/// What the builder asks of a signer: the algorithm and the public key.
/// The signature itself is made with [`Key::sign_x509`].
struct CertSigner<'a> {
    key: &'a Key,
    hash: HashAlg,
}

#[derive(Clone)]
struct PublicDer(Vec<u8>);

impl EncodePublicKey for PublicDer {
    fn to_public_key_der(&self) -> spki::Result<der::Document> {
        Ok(der::Document::try_from(self.0.as_slice())?)
    }
}

impl signature::Keypair for CertSigner<'_> {
    type VerifyingKey = PublicDer;

    fn verifying_key(&self) -> PublicDer {
        PublicDer(self.key.spki_der())
    }
}

impl DynSignatureAlgorithmIdentifier for CertSigner<'_> {
    fn signature_algorithm_identifier(&self) -> spki::Result<AlgorithmIdentifierOwned> {
        Ok(self.key.x509_algorithm(self.hash))
    }
}

fn ext<T: Encode>(oid: &str, critical: bool, value: &T) -> Extension {
    Extension {
        extn_id: ObjectIdentifier::new_unwrap(oid),
        critical,
        extn_value: OctetString::new(value.to_der().expect("extension DER"))
            .expect("extension value"),
    }
}

/// The key identifier of an SPKI: SHA-256 of the subjectPublicKey bits,
/// cut to 160 bits (RFC 7093 method 1).
fn key_id(spki_der: &[u8]) -> Vec<u8> {
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der).expect("SPKI");
    HashAlg::Sha256.digest(spki.subject_public_key.raw_bytes())[..20].to_vec()
}

fn time(unix: i64) -> Time {
    let secs = u64::try_from(unix).expect("validity after 1970");
    let dt = der::DateTime::from_unix_duration(std::time::Duration::from_secs(secs))
        .expect("validity before 9999");
    Time::from(dt)
}

/// A Name of one attribute per RDN, in the order given.
pub(crate) fn name(attrs: &[(String, String)]) -> Name {
    let mut rdns = RdnSequence::default();
    for (attr, value) in attrs {
        let (oid, tag) = match attr.as_str() {
            "C" => ("2.5.4.6", Tag::PrintableString),
            "ST" | "S" => ("2.5.4.8", Tag::Utf8String),
            "L" => ("2.5.4.7", Tag::Utf8String),
            "O" => ("2.5.4.10", Tag::Utf8String),
            "OU" => ("2.5.4.11", Tag::Utf8String),
            "CN" => ("2.5.4.3", Tag::Utf8String),
            "SERIALNUMBER" => ("2.5.4.5", Tag::PrintableString),
            "STREET" => ("2.5.4.9", Tag::Utf8String),
            "POSTALCODE" => ("2.5.4.17", Tag::Utf8String),
            "DC" => ("0.9.2342.19200300.100.1.25", Tag::Ia5String),
            "emailAddress" => ("1.2.840.113549.1.9.1", Tag::Ia5String),
            oid => (oid, Tag::Utf8String),
        };
        let printable = value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b));
        let tag = match tag {
            Tag::Utf8String if printable => Tag::PrintableString,
            t => t,
        };
        let atv = AttributeTypeAndValue {
            oid: ObjectIdentifier::new(oid).unwrap_or_else(|_| panic!("unknown attribute {attr}")),
            value: Any::new(tag, value.as_bytes()).expect("attribute value"),
        };
        rdns.push(RelativeDistinguishedName::try_from(vec![atv]).expect("RDN"));
    }
    Name::from_der(&rdns.to_der().expect("name DER")).expect("name")
}

/// A ready-made chain: root CA → intermediate CA → leaf, every key of one
/// kind, derived from `label`, valid from [`crate::NOT_BEFORE`] to
/// [`crate::NOT_AFTER`].
///
/// Subjects are `C=US, ST=WA, L=Seattle, O=imgverify testkit, CN=<label>
/// Root CA` (and `… Intermediate CA`, `… Signer` or `… TSA`).
#[derive(Debug, Clone)]
pub struct Pki {
    /// The root CA's key.
    pub root_key: Key,
    /// The root CA certificate (DER), path length 1.
    pub root: Vec<u8>,
    /// The intermediate CA's key.
    pub intermediate_key: Key,
    /// The intermediate CA certificate (DER), path length 0.
    pub intermediate: Vec<u8>,
    /// The leaf's key.
    pub leaf_key: Key,
    /// The leaf certificate (DER).
    pub leaf: Vec<u8>,
}

impl Pki {
    /// A code-signing chain ([`CertBuilder::code_signing`] leaf).
    pub fn code_signing(kind: KeyKind, label: &str) -> Pki {
        Self::make(kind, label, "Signer", CertBuilder::code_signing)
    }

    /// A timestamping chain ([`CertBuilder::tsa`] leaf).
    pub fn tsa(kind: KeyKind, label: &str) -> Pki {
        Self::make(kind, label, "TSA", CertBuilder::tsa)
    }

    /// The subject [`Pki`] gives a certificate with common name `cn`.
    pub fn subject(cn: &str) -> [(&str, &str); 5] {
        [
            ("C", "US"),
            ("ST", "WA"),
            ("L", "Seattle"),
            ("O", "imgverify testkit"),
            ("CN", cn),
        ]
    }

    fn make(
        kind: KeyKind,
        label: &str,
        leaf_role: &str,
        leaf: fn(&[(&str, &str)], i64, i64) -> CertBuilder,
    ) -> Pki {
        let root_key = Key::derive(kind, &format!("{label}/root"));
        let intermediate_key = Key::derive(kind, &format!("{label}/intermediate"));
        let leaf_key = Key::derive(kind, &format!("{label}/{}", leaf_role.to_lowercase()));
        let (nb, na) = (crate::NOT_BEFORE, crate::NOT_AFTER);
        let root = CertBuilder::root_ca(&Self::subject(&format!("{label} Root CA")), nb, na)
            .path_len(1)
            .self_signed(&root_key);
        let intermediate = CertBuilder::intermediate_ca(
            &Self::subject(&format!("{label} Intermediate CA")),
            nb,
            na,
        )
        .path_len(0)
        .issued_by(&intermediate_key, &root, &root_key);
        let leaf = leaf(&Self::subject(&format!("{label} {leaf_role}")), nb, na).issued_by(
            &leaf_key,
            &intermediate,
            &intermediate_key,
        );
        Pki {
            root_key,
            root,
            intermediate_key,
            intermediate,
            leaf_key,
            leaf,
        }
    }

    /// The chain as an envelope carries it: leaf, intermediate, root.
    pub fn chain(&self) -> Vec<Vec<u8>> {
        vec![
            self.leaf.clone(),
            self.intermediate.clone(),
            self.root.clone(),
        ]
    }
}
