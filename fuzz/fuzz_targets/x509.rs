//! X.509 certificates: DER parsing, names, extensions, the precertificate
//! re-encoding and embedded SCT lists, and chains of hostile certificates.
#![no_main]
use imgverify::crypto::x509::{Certificate, OID_EKU_CODE_SIGNING, verify_path};
use imgverify::sigstore::sct::{self, OID_SCT_LIST};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|b: &[u8]| {
    let Ok(cert) = Certificate::from_der(b) else {
        if let Ok(s) = std::str::from_utf8(b) {
            let _ = Certificate::from_pem_chain(s);
        }
        return;
    };
    let _ = cert.subject_alt_names();
    let _ = cert.public_key();
    let _ = cert.check_critical_extensions(&[]);
    let _ = cert.check_purpose(OID_EKU_CODE_SIGNING);
    for (oid, _, _) in cert.extensions() {
        let pre = cert.tbs_without_extension(&oid);
        if let Ok(pre) = pre {
            assert!(pre.len() <= cert.tbs_der().len(), "removing an extension never grows the TBS");
        }
    }
    // A certificate as its own issuer, and its SCTs against no logs.
    let _ = verify_path(&cert, &[&cert], &[&cert], cert.not_before(), OID_EKU_CODE_SIGNING);
    if cert.extension(OID_SCT_LIST).is_some() {
        assert!(sct::verify_embedded(&cert, &cert, &[]).is_err());
    }
});
