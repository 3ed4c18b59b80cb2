//! The CMS `ContentInfo` and `SignedData` (RFC 5652) of an RFC 3161
//! timestamp token, read with der's [`AnyRef`]: the fields
//! [`super::timestamp`] verifies, with the strictness of the RustCrypto
//! `cms` decoder this replaces (DER only, every field in order and of its
//! type, nothing trailing, `SET OF` elements put in DER order), without its
//! generic decoding code in the module.
//!
//! ```text
//! ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT ANY }
//! SignedData ::= SEQUENCE {
//!   version CMSVersion, digestAlgorithms SET OF AlgorithmIdentifier,
//!   encapContentInfo EncapsulatedContentInfo,
//!   certificates [0] IMPLICIT CertificateSet OPTIONAL,
//!   crls [1] IMPLICIT RevocationInfoChoices OPTIONAL,
//!   signerInfos SET OF SignerInfo }
//! EncapsulatedContentInfo ::= SEQUENCE {
//!   eContentType OID, eContent [0] EXPLICIT OCTET STRING OPTIONAL }
//! SignerInfo ::= SEQUENCE {
//!   version CMSVersion, sid SignerIdentifier,
//!   digestAlgorithm AlgorithmIdentifier,
//!   signedAttrs [0] IMPLICIT SET OF Attribute OPTIONAL,
//!   signatureAlgorithm AlgorithmIdentifier, signature OCTET STRING,
//!   unsignedAttrs [1] IMPLICIT SET OF Attribute OPTIONAL }
//! SignerIdentifier ::= CHOICE {
//!   issuerAndSerialNumber SEQUENCE { issuer Name, serialNumber INTEGER },
//!   subjectKeyIdentifier [0] SubjectKeyIdentifier }
//! Attribute ::= SEQUENCE { attrType OID, attrValues SET OF ANY }
//! ```

use der::asn1::{AnyRef, ObjectIdentifier};
use der::{Decode, Encode, Tag, Tagged};
use x509_cert::certificate::Rfc5280;
use x509_cert::crl::CertificateList;
use x509_cert::serial_number::SerialNumber;

/// Highest `CMSVersion` (RFC 5652: v0 to v5).
const MAX_CMS_VERSION: u8 = 5;

/// `ContentInfo`: its content type and its content (one whole TLV).
pub fn content_info(der: &[u8]) -> Result<(ObjectIdentifier, &[u8]), String> {
    let mut f = Fields::of(whole(der)?, Tag::Sequence, "ContentInfo")?;
    let content_type = oid(f.next()?)?;
    let content = explicit(f.next()?, 0)?;
    f.finish()?;
    Ok((content_type, content.der))
}

/// A decoded `SignedData`; the certificates are not decoded here.
pub struct SignedData<'a> {
    /// `version`.
    pub version: u8,
    /// `encapContentInfo.eContentType`.
    pub econtent_type: ObjectIdentifier,
    /// `encapContentInfo.eContent`: its tag and its value.
    pub econtent: Option<(Tag, &'a [u8])>,
    /// Each element of `certificates` as sent, in order.
    pub certificates: Vec<&'a [u8]>,
    /// `signerInfos`, in DER order.
    pub signer_infos: Vec<SignerInfo>,
}

/// How a `SignerInfo` names its signer.
pub enum SignerIdentifier {
    /// `issuerAndSerialNumber`: the issuer `Name` and the serial `INTEGER`,
    /// both re-encoded in DER (their `SET OF`s sorted).
    IssuerAndSerialNumber {
        /// The issuer `Name`, DER.
        issuer: Vec<u8>,
        /// The serial number's `INTEGER`, DER.
        serial: Vec<u8>,
    },
    /// `subjectKeyIdentifier`.
    SubjectKeyIdentifier,
}

/// A decoded `SignerInfo`.
pub struct SignerInfo {
    /// `version`.
    pub version: u8,
    /// `sid`.
    pub sid: SignerIdentifier,
    /// `digestAlgorithm.algorithm`.
    pub digest_alg: ObjectIdentifier,
    /// `signedAttrs`, each attribute re-encoded with its values in DER
    /// order, the attributes in DER order; empty when absent.
    signed_attrs: Vec<Vec<u8>>,
    /// The DER `SET OF` the signature covers: `signedAttrs` re-encoded with
    /// the `SET` tag; empty when `signedAttrs` is absent or empty.
    pub signed_attrs_der: Vec<u8>,
    /// `signatureAlgorithm.algorithm`.
    pub signature_alg: ObjectIdentifier,
    /// `signature`.
    pub signature: Vec<u8>,
}

impl SignedData<'_> {
    /// Decodes a DER `SignedData` (one whole TLV).
    pub fn parse(der: &[u8]) -> Result<SignedData<'_>, String> {
        let mut f = Fields::of(whole(der)?, Tag::Sequence, "SignedData")?;
        let version = version(f.next()?)?;
        let digest_algorithms = f.next()?;
        for alg in set_of(digest_algorithms, "digestAlgorithms")? {
            algorithm(alg)?;
        }
        let mut encap = Fields::of(f.next()?, Tag::Sequence, "EncapsulatedContentInfo")?;
        let econtent_type = oid(encap.next()?)?;
        let econtent = match encap.context(0)? {
            Some(e) => {
                let content = explicit(e, 0)?;
                Some((content.any.tag(), content.any.value()))
            }
            None => None,
        };
        encap.finish()?;
        let certificates = match f.context(0)? {
            Some(set) => elements(set.any.value())?
                .into_iter()
                .map(|c| c.der)
                .collect(),
            None => Vec::new(),
        };
        if let Some(crls) = f.context(1)? {
            for crl in elements(crls.any.value())? {
                revocation_info(crl)?;
            }
        }
        let mut signers: Vec<Vec<u8>> = set_of(f.next()?, "signerInfos")?
            .into_iter()
            .map(|s| s.der.to_vec())
            .collect();
        f.finish()?;
        signers.sort_unstable();
        let signer_infos = signers
            .iter()
            .map(|s| SignerInfo::parse(s))
            .collect::<Result<_, _>>()?;
        Ok(SignedData {
            version,
            econtent_type,
            econtent,
            certificates,
            signer_infos,
        })
    }
}

impl SignerInfo {
    fn parse(der: &[u8]) -> Result<Self, String> {
        let mut f = Fields::of(whole(der)?, Tag::Sequence, "SignerInfo")?;
        let version = version(f.next()?)?;
        let sid = f.next()?;
        let sid = match sid.any.tag() {
            Tag::Sequence => {
                let mut isn = Fields::of(sid, Tag::Sequence, "IssuerAndSerialNumber")?;
                let (issuer, serial) = (isn.next()?, isn.next()?);
                isn.finish()?;
                let issuer = x509_cert::name::Name::from_der(issuer.der)
                    .and_then(|n| n.to_der())
                    .map_err(|e| format!("IssuerAndSerialNumber issuer: {e}"))?;
                let serial = SerialNumber::<Rfc5280>::from_der(serial.der)
                    .and_then(|s| s.to_der())
                    .map_err(|e| format!("IssuerAndSerialNumber serialNumber: {e}"))?;
                SignerIdentifier::IssuerAndSerialNumber { issuer, serial }
            }
            Tag::ContextSpecific {
                constructed: false,
                number,
            } if number.value() == 0 => SignerIdentifier::SubjectKeyIdentifier,
            other => return Err(format!("SignerIdentifier: unexpected {other}")),
        };
        let digest_alg = algorithm(f.next()?)?;
        let (signed_attrs, signed_attrs_der) = match f.context(0)? {
            Some(set) => {
                let attrs = attributes(set)?;
                // The [0] header's length, after a SET tag: one identifier
                // octet either way.
                let mut der = Vec::new();
                if !attrs.is_empty() {
                    der.push(0x31);
                    der.extend_from_slice(&header(set)[1..]);
                    attrs.iter().for_each(|a| der.extend_from_slice(a));
                }
                (attrs, der)
            }
            None => (Vec::new(), Vec::new()),
        };
        let signature_alg = algorithm(f.next()?)?;
        let signature = f.next()?;
        if signature.any.tag() != Tag::OctetString {
            return Err(format!(
                "SignerInfo signature: expected OCTET STRING, found {}",
                signature.any.tag()
            ));
        }
        if let Some(unsigned) = f.context(1)? {
            attributes(unsigned)?;
        }
        f.finish()?;
        Ok(SignerInfo {
            version,
            sid,
            digest_alg,
            signed_attrs,
            signed_attrs_der,
            signature_alg,
            signature: signature.any.value().to_vec(),
        })
    }

    /// The value (its DER) of the signed attribute of type `oid`: `None`
    /// when there is none; an error when the attribute appears more than
    /// once or does not hold exactly one value (RFC 5652 section 11 asks
    /// that of contentType, messageDigest and signingTime; RFC 5035 of
    /// signingCertificateV2).
    pub fn signed_attribute(&self, oid: &ObjectIdentifier) -> Result<Option<Vec<u8>>, String> {
        let mut found = None;
        for attr in &self.signed_attrs {
            let mut f = Fields::of(whole(attr)?, Tag::Sequence, "Attribute")?;
            if self::oid(f.next()?)? != *oid {
                continue;
            }
            if found.is_some() {
                return Err(format!("the signed attribute {oid} appears more than once"));
            }
            let values = elements(f.next()?.any.value())?;
            let [value] = values.as_slice() else {
                return Err(format!(
                    "the signed attribute {oid} has {} values, not one",
                    values.len()
                ));
            };
            found = Some(value.der.to_vec());
        }
        Ok(found)
    }
}

/// One TLV: its value and its whole encoding.
#[derive(Clone, Copy)]
struct Element<'a> {
    any: AnyRef<'a>,
    der: &'a [u8],
}

fn element(bytes: &[u8]) -> Result<(Element<'_>, &[u8]), String> {
    let (any, rest) = AnyRef::from_der_partial(bytes).map_err(|e| e.to_string())?;
    let der = &bytes[..bytes.len() - rest.len()];
    Ok((Element { any, der }, rest))
}

/// `bytes`, which must be exactly one TLV.
fn whole(bytes: &[u8]) -> Result<Element<'_>, String> {
    let (e, rest) = element(bytes)?;
    if !rest.is_empty() {
        return Err(format!("{} bytes of trailing data", rest.len()));
    }
    Ok(e)
}

/// Every TLV of `bytes`.
fn elements(mut bytes: &[u8]) -> Result<Vec<Element<'_>>, String> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (e, rest) = element(bytes)?;
        out.push(e);
        bytes = rest;
    }
    Ok(out)
}

/// The identifier and length octets of `e`.
fn header<'a>(e: Element<'a>) -> &'a [u8] {
    &e.der[..e.der.len() - e.any.value().len()]
}

/// The elements of a `SET OF`.
fn set_of<'a>(e: Element<'a>, what: &str) -> Result<Vec<Element<'a>>, String> {
    if e.any.tag() != Tag::Set {
        return Err(format!("{what}: expected SET, found {}", e.any.tag()));
    }
    elements(e.any.value())
}

/// The one TLV inside `[number] EXPLICIT`.
fn explicit(e: Element<'_>, number: u32) -> Result<Element<'_>, String> {
    match e.any.tag() {
        Tag::ContextSpecific {
            constructed: true,
            number: n,
        } if n.value() == number => whole(e.any.value()),
        other => Err(format!("expected [{number}] EXPLICIT, found {other}")),
    }
}

/// The fields of a constructed value, read in order.
struct Fields<'a> {
    rest: &'a [u8],
    what: &'static str,
}

impl<'a> Fields<'a> {
    /// The contents of `e`, which must have tag `tag`.
    fn of(e: Element<'a>, tag: Tag, what: &'static str) -> Result<Self, String> {
        if e.any.tag() != tag {
            return Err(format!("{what}: expected {tag}, found {}", e.any.tag()));
        }
        Ok(Fields {
            rest: e.any.value(),
            what,
        })
    }

    /// The next field, which must be there.
    fn next(&mut self) -> Result<Element<'a>, String> {
        if self.rest.is_empty() {
            return Err(format!("{}: a field is missing", self.what));
        }
        let (e, rest) = element(self.rest)?;
        self.rest = rest;
        Ok(e)
    }

    /// The next field when it is `[number]` (IMPLICIT or EXPLICIT, as every
    /// such field here, constructed).
    fn context(&mut self, number: u32) -> Result<Option<Element<'a>>, String> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let (e, rest) = element(self.rest)?;
        match e.any.tag() {
            Tag::ContextSpecific {
                constructed,
                number: n,
            } if n.value() == number => {
                if !constructed {
                    return Err(format!("{}: [{number}] is not constructed", self.what));
                }
                self.rest = rest;
                Ok(Some(e))
            }
            _ => Ok(None),
        }
    }

    /// Nothing may follow the last field.
    fn finish(self) -> Result<(), String> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(format!("{}: trailing data", self.what))
        }
    }
}

fn oid(e: Element<'_>) -> Result<ObjectIdentifier, String> {
    e.any
        .decode_as::<ObjectIdentifier>()
        .map_err(|err| err.to_string())
}

/// `CMSVersion ::= INTEGER { v0(0) .. v5(5) }`.
fn version(e: Element<'_>) -> Result<u8, String> {
    match e.any.decode_as::<u8>() {
        Ok(v) if v <= MAX_CMS_VERSION => Ok(v),
        Ok(v) => Err(format!("unknown CMSVersion {v}")),
        Err(err) => Err(format!("CMSVersion: {err}")),
    }
}

/// `AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }`.
fn algorithm(e: Element<'_>) -> Result<ObjectIdentifier, String> {
    let mut f = Fields::of(e, Tag::Sequence, "AlgorithmIdentifier")?;
    let algorithm = oid(f.next()?)?;
    if !f.rest.is_empty() {
        f.next()?;
    }
    f.finish()?;
    Ok(algorithm)
}

/// `RevocationInfoChoice ::= CHOICE { crl CertificateList,
/// other [1] IMPLICIT SEQUENCE { AlgorithmIdentifier, ANY } }` (the `cms`
/// crate's `OtherRevocationInfoFormat`), checked and dropped: nothing here
/// reads CRLs.
fn revocation_info(e: Element<'_>) -> Result<(), String> {
    match e.any.tag() {
        Tag::Sequence => CertificateList::<Rfc5280>::from_der(e.der)
            .map(drop)
            .map_err(|err| format!("CertificateList: {err}")),
        Tag::ContextSpecific {
            constructed: true,
            number,
        } if number.value() == 1 => {
            let mut f = Fields {
                rest: e.any.value(),
                what: "OtherRevocationInfoFormat",
            };
            algorithm(f.next()?)?;
            f.next()?;
            f.finish()
        }
        other => Err(format!("RevocationInfoChoice: unexpected {other}")),
    }
}

/// A `SET OF Attribute`: each attribute re-encoded with its values in DER
/// order, the attributes in DER order (as the `cms` crate decoded and
/// re-encoded them: DER lengths are unchanged by the reordering).
fn attributes(set: Element<'_>) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for attr in elements(set.any.value())? {
        let mut f = Fields::of(attr, Tag::Sequence, "Attribute")?;
        let attr_type = f.next()?;
        oid(attr_type)?;
        let values = f.next()?;
        // Owned, as every other list sorted here: one sort in the module.
        let mut sorted: Vec<Vec<u8>> = set_of(values, "attrValues")?
            .into_iter()
            .map(|v| v.der.to_vec())
            .collect();
        f.finish()?;
        sorted.sort_unstable();
        let mut der = header(attr).to_vec();
        der.extend_from_slice(attr_type.der);
        der.extend_from_slice(header(values));
        sorted.iter().for_each(|v| der.extend_from_slice(v));
        out.push(der);
    }
    out.sort_unstable();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_and_their_values_are_put_in_der_order() {
        // [0] { Attribute { 2.5.4.3, SET { 04 01 02, 04 01 01 } },
        //       Attribute { 2.5.4.2, SET { 05 00 } } }
        let attr_a = [
            0x30, 0x0d, 0x06, 0x03, 0x55, 0x04, 0x03, 0x31, 0x06, 0x04, 0x01, 0x02, 0x04, 0x01,
            0x01,
        ];
        let attr_b = [
            0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x02, 0x31, 0x02, 0x05, 0x00,
        ];
        let mut set = vec![0xa0, (attr_a.len() + attr_b.len()) as u8];
        set.extend_from_slice(&attr_a);
        set.extend_from_slice(&attr_b);
        let (e, _) = element(&set).unwrap();
        let attrs = attributes(e).unwrap();
        assert_eq!(attrs[0], attr_b);
        assert_eq!(
            attrs[1],
            [
                0x30, 0x0d, 0x06, 0x03, 0x55, 0x04, 0x03, 0x31, 0x06, 0x04, 0x01, 0x01, 0x04, 0x01,
                0x02
            ]
        );
    }

    #[test]
    fn trailing_and_missing_fields_are_errors() {
        // AlgorithmIdentifier { OID, NULL, NULL }
        let three = [
            0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x03, 0x05, 0x00, 0x05, 0x00,
        ];
        assert!(algorithm(whole(&three).unwrap()).is_err());
        assert!(algorithm(whole(&[0x30, 0x00]).unwrap()).is_err());
        assert!(whole(&[0x30, 0x00, 0x00]).is_err());
        // CMSVersion 6 and a negative one.
        assert!(version(whole(&[0x02, 0x01, 0x06]).unwrap()).is_err());
        assert!(version(whole(&[0x02, 0x01, 0xff]).unwrap()).is_err());
        assert_eq!(version(whole(&[0x02, 0x01, 0x03]).unwrap()), Ok(3));
    }
}
