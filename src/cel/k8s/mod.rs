//! Kubernetes' CEL libraries (k8s.io/apiserver v0.36 `pkg/cel/library`),
//! which Kubernetes' base environment gives every expression, so Kyverno's
//! ImageValidatingPolicy expressions and ValidatingAdmissionPolicy ones can
//! call them: names, overloads, result types, semantics and error messages
//! as Kubernetes has them.
//!
//! - [`quantity`]: `kubernetes.Quantity` (`quantity`, `isQuantity`, `sign`,
//!   comparisons, arithmetic, conversions), on the `resource.Quantity` core
//!   of the JMESPath functions;
//! - [`url`]: `kubernetes.URL` (`url`, `isURL`, its parts), with Go 1.26's
//!   `net/url` parser;
//! - [`net`]: `net.IP` and `net.CIDR` (`ip`, `isIP`, `ip.isCanonical`,
//!   `cidr`, `isCIDR`, their methods), with Go's `net/netip`;
//! - [`semver`]: `kubernetes.Semver` (`semver`, `isSemver`, with the
//!   normalising overloads of library version 1), with blang/semver;
//! - [`format`]: `kubernetes.NamedFormat` (`format.named`, `format.<name>()`,
//!   `validate`), with apimachinery's validation messages.
//!
//! Kubernetes' lists and regex libraries are in
//! [`super::library::EXTENSIONS`]. Type names used as values
//! (`type(x) == net.IP`) are not declared: the checker only knows the
//! built-in type identifiers.

pub mod format;
pub mod net;
pub mod quantity;
pub mod semver;
pub mod url;

use super::functions::Decl;
use super::library::no_such_overload;
use super::value::Value;

/// Every Kubernetes library, as `Env::new` adds them.
pub const LIBRARIES: &[&[Decl]] = &[
    quantity::QUANTITY,
    url::URLS,
    net::IP,
    net::CIDR,
    semver::SEMVER,
    format::FORMAT,
];

/// The library value of type `T` an argument holds (`no such overload`
/// for any other value).
fn opaque<T: 'static>(v: &Value) -> Result<&T, String> {
    match v {
        Value::Opaque(o) => o.as_any().downcast_ref::<T>().ok_or_else(no_such_overload),
        _ => Err(no_such_overload()),
    }
}

/// Go's `strconv.Quote` (what `%q` prints) of bytes that may not be UTF-8.
pub(crate) fn go_quote(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for chunk in s.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_escaped(&mut out, c);
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('"');
    out
}

/// `appendEscapedRune` for `"`-quoting.
fn push_escaped(out: &mut String, c: char) {
    match c {
        '"' | '\\' => {
            out.push('\\');
            out.push(c);
        }
        c if go_is_print(c) => out.push(c),
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        c if c < ' ' || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

/// `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and
/// the ASCII space. Without Unicode's category tables this rejects
/// controls, separators, format characters, private use and
/// noncharacters; unassigned code points count as printable.
fn go_is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(c as u32,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x890..=0x891 | 0x8E2
        | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064
        | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0xFFFE..=0xFFFF
        | 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F
        | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF)
}

#[cfg(test)]
mod tests;
