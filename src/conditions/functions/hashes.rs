//! `sha256`, `sha1` and `md5`: hex digests of a string's UTF-8 bytes
//! (RustCrypto's `sha2`, `sha1` and `md-5`).

use digest::Digest as _;
use jmespath::Rcvar;

use super::{arg_str, hex, string};

pub(super) fn jp_sha256(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("sha256", args, 0)?;
    Ok(string(hex(&sha2::Sha256::digest(s.as_bytes()))))
}

pub(super) fn jp_sha1(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("sha1", args, 0)?;
    Ok(string(hex(&sha1(s.as_bytes()))))
}

pub(super) fn jp_md5(args: &[Rcvar]) -> Result<Rcvar, String> {
    let s = arg_str("md5", args, 0)?;
    Ok(string(hex(&md5(s.as_bytes()))))
}

/// SHA-1, for Kyverno's `sha1`.
fn sha1(data: &[u8]) -> digest::Output<sha1::Sha1> {
    sha1::Sha1::digest(data)
}

/// MD5, for Kyverno's `md5`.
fn md5(data: &[u8]) -> digest::Output<md5::Md5> {
    md5::Md5::digest(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conditions::functions::tests::{qe, table};
    use serde_json::json;

    #[test]
    fn hashes() {
        table(&[
            (
                "sha256('alertmanager-kube-prometheus-stack-alertmanager')",
                json!("75c07bb807f2d80a85d34880b8af0c5f29f7c27577076ed5d0e4b427dee7dbcc"),
            ),
            (
                "sha1('Alice & Bob')",
                json!("e3ec484930685a61b0f824cd684a68699d2b98c1"),
            ),
            (
                "md5('Alice & Bob')",
                json!("def42e1abd2462df1f9f0a4b3d488221"),
            ),
            ("md5('')", json!("d41d8cd98f00b204e9800998ecf8427e")),
            (
                "sha1('')",
                json!("da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            ),
            (
                "sha1('The quick brown fox jumps over the lazy dog')",
                json!("2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"),
            ),
            (
                "md5('The quick brown fox jumps over the lazy dog')",
                json!("9e107d9d372bb6826bd81d3542a419d6"),
            ),
        ]);
        let long = "a".repeat(1000);
        assert_eq!(
            hex(&md5(long.as_bytes())),
            "cabe45dcc9ae5b66ba86600cca6b8ba8"
        );
        assert_eq!(
            hex(&sha1(long.as_bytes())),
            "291e9a6c66994949b57ba5e650361e98fc36b1ba"
        );
        for f in ["sha256", "sha1", "md5"] {
            assert_eq!(
                qe(&format!("{f}(`123`)")),
                format!("JMESPath function '{f}': argument #1 is not of type string")
            );
        }
    }
}
