//! A strict, bounded PEM reader: labelled base64 blocks, with the text before,
//! between and after blocks ignored.

use base64::Engine as _;

/// Most PEM blocks read from one string.
pub const MAX_BLOCKS: usize = 64;

/// One decoded PEM block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemBlock {
    /// The label, e.g. `PUBLIC KEY`, `CERTIFICATE`.
    pub label: String,
    /// The decoded DER bytes.
    pub der: Vec<u8>,
}

/// Why PEM text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PemError {
    /// A BEGIN line without a matching END line.
    #[error("PEM block {0:?} has no END line")]
    Unterminated(String),
    /// Body is not base64.
    #[error("PEM block {0:?} is not valid base64")]
    Base64(String),
    /// More than [`MAX_BLOCKS`] blocks.
    #[error("too many PEM blocks (limit {MAX_BLOCKS})")]
    TooMany,
}

/// Parses every PEM block in `text`.
pub fn parse_blocks(text: &str) -> Result<Vec<PemBlock>, PemError> {
    let mut out = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        if out.len() >= MAX_BLOCKS {
            return Err(PemError::TooMany);
        }
        let end = format!("-----END {label}-----");
        let mut body = String::new();
        let mut closed = false;
        for l in lines.by_ref() {
            if l == end {
                closed = true;
                break;
            }
            body.push_str(l);
        }
        if !closed {
            return Err(PemError::Unterminated(label.to_string()));
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map_err(|_| PemError::Base64(label.to_string()))?;
        out.push(PemBlock {
            label: label.to_string(),
            der,
        });
    }
    Ok(out)
}

/// Kyverno's `SplitPEM` for public keys: split after each
/// `-----END PUBLIC KEY-----`, dropping the text after the last one.
pub fn split_public_keys(text: &str) -> Vec<String> {
    const END: &str = "-----END PUBLIC KEY-----";
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(END) {
        let (block, tail) = rest.split_at(i + END.len());
        out.push(block.trim().to_string());
        rest = tail;
    }
    out
}

/// The public keys of a `publicKeys`-style text (one or more PEM blocks),
/// each parsed or the reason it is not; an error when there are more than
/// `max` blocks.
pub fn public_keys(
    text: &str,
    max: usize,
) -> Result<Vec<Result<super::PublicKey, String>>, String> {
    let pems = split_public_keys(text);
    if pems.len() > max {
        return Err(format!("too many public keys (limit {max})"));
    }
    Ok(pems
        .iter()
        .enumerate()
        .map(|(i, p)| {
            super::PublicKey::from_pem(p)
                .map_err(|e| format!("failed to load public key from PEM (key {}): {e}", i + 1))
        })
        .collect())
}

/// Encodes DER as a PEM block with 64-column lines.
pub fn encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut s = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        s.push_str(core::str::from_utf8(chunk).unwrap_or_default());
        s.push('\n');
    }
    s.push_str(&format!("-----END {label}-----\n"));
    s
}
