//! Makes fresh Notary Project signatures the way notation does, for tests
//! and example fixtures. Nothing here verifies; imgverify does that.
//!
//! - [`key`]: deterministic keys ([`Key::derive`]) and the JWS/COSE and
//!   X.509/CMS signatures they make.
//! - [`cert`]: X.509 v3 certificates ([`CertBuilder`]) with the Notary
//!   profiles (root and intermediate CAs, code-signing and TSA leaves) and
//!   knobs to break each rule; [`Pki`] makes a whole chain in one call.
//! - [`envelope`]: JWS ([`sign_jws`]) and COSE_Sign1 ([`sign_cose`])
//!   envelopes from a [`SignRequest`], byte for byte as notation-core-go
//!   lays them out.
//! - [`timestamp`]: RFC 3161 timestamp tokens ([`timestamp_token`]) and
//!   attaching them to envelopes ([`with_timestamp`]).
//! - [`manifest`]: the OCI signature manifest that carries an envelope
//!   ([`signature_manifest`]).
//!
//! Every key and signature is deterministic: the same calls make the same
//! bytes. The keys are public knowledge, so never trust what they sign.
//!
//! ```
//! use imgverify_testkit::{Descriptor, KeyKind, Pki, SignRequest, sign_jws};
//!
//! let pki = Pki::code_signing(KeyKind::P256, "doc example");
//! let target = Descriptor::for_content("application/vnd.oci.image.manifest.v1+json", b"{}");
//! let request = SignRequest::new(target, imgverify_testkit::unix(2025, 1, 1, 0, 0, 0));
//! let envelope = sign_jws(&request, &pki.leaf_key, &pki.chain());
//! assert!(envelope.starts_with(b"{\"payload\":"));
//! ```

pub mod cert;
pub mod envelope;
mod json;
pub mod key;
pub mod manifest;
pub mod timestamp;

pub use cert::{CertBuilder, Eku, KeyUsage, Pki};
pub use envelope::{
    Descriptor, EnvelopeInfo, ExtraHeader, Format, Scheme, SignRequest, inspect, sign_cose,
    sign_jws,
};
pub use key::{HashAlg, Key, KeyKind};
pub use manifest::signature_manifest;
pub use timestamp::{Timestamp, timestamp_envelope, timestamp_token, with_timestamp};

use base64::Engine as _;

/// 2020-01-01T00:00:00Z, the default start of certificate validity.
pub const NOT_BEFORE: i64 = 1_577_836_800;
/// 2100-01-01T00:00:00Z, the default end of certificate validity (after
/// 2049, so it is encoded as a GeneralizedTime).
pub const NOT_AFTER: i64 = 4_102_444_800;

/// Unix seconds of a UTC calendar time (proleptic Gregorian).
pub fn unix(year: i64, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> i64 {
    // Howard Hinnant's days_from_civil.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second)
}

/// The UTC calendar time of unix seconds: (year, month, day, hour, minute,
/// second).
pub fn civil(unix: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        (secs / 3600) as u32,
        (secs % 3600 / 60) as u32,
        (secs % 60) as u32,
    )
}

/// Formats unix seconds as RFC 3339 the way Go's `time.RFC3339` does:
/// `Z` at offset zero, else the local time and `±hh:mm`.
pub fn rfc3339(unix: i64, offset_minutes: i32) -> String {
    let (y, mo, d, h, mi, s) = civil(unix + i64::from(offset_minutes) * 60);
    let zone = match offset_minutes {
        0 => "Z".to_string(),
        o => format!(
            "{}{:02}:{:02}",
            if o < 0 { '-' } else { '+' },
            o.unsigned_abs() / 60,
            o.unsigned_abs() % 60
        ),
    };
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{zone}")
}

/// `sha256:<hex>` of `bytes`, an OCI digest.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&HashAlg::Sha256.digest(bytes)))
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// PEM with 64-column lines.
pub fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A certificate as PEM (`-----BEGIN CERTIFICATE-----`).
pub fn cert_pem(der: &[u8]) -> String {
    pem("CERTIFICATE", der)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trips() {
        assert_eq!(unix(2020, 1, 1, 0, 0, 0), NOT_BEFORE);
        assert_eq!(unix(2100, 1, 1, 0, 0, 0), NOT_AFTER);
        assert_eq!(unix(1970, 1, 1, 0, 0, 0), 0);
        assert_eq!(civil(1_659_139_140), (2022, 7, 29, 23, 59, 0));
        for t in [
            0,
            951_782_400,
            1_709_164_800,
            4_102_444_799,
            253_402_300_799,
        ] {
            let (y, mo, d, h, mi, s) = civil(t);
            assert_eq!(unix(y, mo, d, h, mi, s), t);
        }
    }

    #[test]
    fn formats_rfc3339_as_go_does() {
        assert_eq!(rfc3339(1_604_905_200, 0), "2020-11-09T07:00:00Z");
        // notation's own vectors carry the signer's local offset.
        assert_eq!(rfc3339(1_678_781_402, 8 * 60), "2023-03-14T16:10:02+08:00");
        assert_eq!(rfc3339(1_673_460_174, -8 * 60), "2023-01-11T10:02:54-08:00");
    }
}
