//! The CBOR (RFC 8949) reading [`super::cose`] needs: the type of the next
//! data item from its initial byte, the scalars and definite-length strings
//! it reads, container and tag heads (the caller walks what they hold), and
//! the heads of the `Sig_structure` it encodes. Nothing is read past the
//! input: a head or a string that claims more bytes than are left is
//! [`Error::Truncated`].

use std::fmt;

/// The type of a data item, from its initial byte (and, for a negative int
/// with an 8-byte argument, the argument's first byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// `true` or `false`.
    Bool,
    /// `null`.
    Null,
    /// `undefined`.
    Undefined,
    /// An unsigned int (major type 0).
    Unsigned,
    /// A negative int that fits in an `i64`.
    Negative,
    /// A negative int below `i64::MIN`.
    BigNegative,
    /// A half-precision float.
    F16,
    /// A single-precision float.
    F32,
    /// A double-precision float.
    F64,
    /// Another simple value.
    Simple,
    /// A definite-length byte string.
    Bytes,
    /// An indefinite-length byte string.
    BytesIndef,
    /// A definite-length text string.
    String,
    /// An indefinite-length text string.
    StringIndef,
    /// A definite-length array.
    Array,
    /// An indefinite-length array.
    ArrayIndef,
    /// A definite-length map.
    Map,
    /// An indefinite-length map.
    MapIndef,
    /// A tag.
    Tag,
    /// The break stop code (0xff).
    Break,
    /// A reserved initial byte.
    Unknown(u8),
}

/// Why an item could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The input ends inside the item.
    Truncated,
    /// The item is not what was asked for, or its length does not fit.
    Invalid(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated => f.write_str("the input ends early (truncated)"),
            Error::Invalid(m) => f.write_str(m),
        }
    }
}

const MAJOR_UNSIGNED: u8 = 0;
const MAJOR_NEGATIVE: u8 = 1;
const MAJOR_BYTES: u8 = 2;
const MAJOR_TEXT: u8 = 3;
const MAJOR_ARRAY: u8 = 4;
const MAJOR_MAP: u8 = 5;
const MAJOR_TAG: u8 = 6;

/// A position in CBOR input.
pub struct Decoder<'b> {
    buf: &'b [u8],
    pos: usize,
}

impl<'b> Decoder<'b> {
    /// A decoder at the start of `buf`.
    pub fn new(buf: &'b [u8]) -> Self {
        Decoder { buf, pos: 0 }
    }

    /// The input.
    pub fn input(&self) -> &'b [u8] {
        self.buf
    }

    /// The offset of the next item.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Moves to offset `pos`.
    pub fn set_position(&mut self, pos: usize) {
        self.pos = pos;
    }

    /// The type of the next item, without consuming it.
    pub fn datatype(&self) -> Result<Type, Error> {
        let b = *self.buf.get(self.pos).ok_or(Error::Truncated)?;
        Ok(match b {
            0x00..=0x1b => Type::Unsigned,
            0x20..=0x3a => {
                if b >= 0x38 {
                    self.next_byte()?;
                }
                Type::Negative
            }
            0x3b if self.next_byte()? < 0x80 => Type::Negative,
            0x3b => Type::BigNegative,
            0x40..=0x5b => Type::Bytes,
            0x5f => Type::BytesIndef,
            0x60..=0x7b => Type::String,
            0x7f => Type::StringIndef,
            0x80..=0x9b => Type::Array,
            0x9f => Type::ArrayIndef,
            0xa0..=0xbb => Type::Map,
            0xbf => Type::MapIndef,
            0xc0..=0xdb => Type::Tag,
            0xe0..=0xf3 | 0xf8 => Type::Simple,
            0xf4 | 0xf5 => Type::Bool,
            0xf6 => Type::Null,
            0xf7 => Type::Undefined,
            0xf9 => Type::F16,
            0xfa => Type::F32,
            0xfb => Type::F64,
            0xff => Type::Break,
            other => Type::Unknown(other),
        })
    }

    /// The byte after the next one.
    fn next_byte(&self) -> Result<u8, Error> {
        self.pos
            .checked_add(1)
            .and_then(|i| self.buf.get(i).copied())
            .ok_or(Error::Truncated)
    }

    /// Consumes `n` bytes.
    fn take(&mut self, n: usize) -> Result<&'b [u8], Error> {
        let end = self.pos.checked_add(n).ok_or(Error::Truncated)?;
        let bytes = self.buf.get(self.pos..end).ok_or(Error::Truncated)?;
        self.pos = end;
        Ok(bytes)
    }

    /// Consumes a head: its major type and its argument (`None` for an
    /// indefinite length).
    fn head(&mut self) -> Result<(u8, Option<u64>), Error> {
        let b = self.take(1)?[0];
        let arg = match b & 0x1f {
            n @ 0..=23 => Some(u64::from(n)),
            n @ 24..=27 => {
                let bytes = self.take(1 << (n - 24))?;
                Some(bytes.iter().fold(0, |acc, b| (acc << 8) | u64::from(*b)))
            }
            31 => None,
            _ => return Err(Error::Invalid(format!("reserved initial byte {b:#04x}"))),
        };
        // RFC 8949 section 3.3: a two-byte simple value below 32 is not
        // well-formed.
        if b == 0xf8 && arg.is_some_and(|v| v < 32) {
            return Err(Error::Invalid("a two-byte simple value below 32".into()));
        }
        Ok((b >> 5, arg))
    }

    /// Consumes a head of major type `major` with a definite argument.
    fn definite(&mut self, major: u8, what: &str) -> Result<u64, Error> {
        match self.head()? {
            (m, Some(n)) if m == major => Ok(n),
            _ => Err(Error::Invalid(format!("expected {what} (definite length)"))),
        }
    }

    /// Consumes a head of major type `major`: its count, `None` when indefinite.
    fn container(&mut self, major: u8, what: &str) -> Result<Option<u64>, Error> {
        match self.head()? {
            (m, n) if m == major => Ok(n),
            _ => Err(Error::Invalid(format!("expected {what}"))),
        }
    }

    /// Consumes a definite-length string of major type `major`.
    fn string(&mut self, major: u8, what: &str) -> Result<&'b [u8], Error> {
        let n = self.definite(major, what)?;
        let n = usize::try_from(n)
            .map_err(|_| Error::Invalid(format!("a {what} length of {n} is too large")))?;
        self.take(n)
    }

    /// Consumes a definite-length byte string.
    pub fn bytes(&mut self) -> Result<&'b [u8], Error> {
        self.string(MAJOR_BYTES, "bytes")
    }

    /// Consumes a definite-length text string, which must be UTF-8.
    pub fn str(&mut self) -> Result<&'b str, Error> {
        let at = self.pos;
        let bytes = self.string(MAJOR_TEXT, "text")?;
        std::str::from_utf8(bytes)
            .map_err(|e| Error::Invalid(format!("invalid UTF-8 in the text at byte {at}: {e}")))
    }

    /// Consumes an int that fits in an `i64`.
    pub fn i64(&mut self) -> Result<i64, Error> {
        let (major, arg) = self.head()?;
        let n = arg
            .filter(|_| major == MAJOR_UNSIGNED || major == MAJOR_NEGATIVE)
            .ok_or_else(|| Error::Invalid("expected an int".into()))?;
        let n = i64::try_from(n).map_err(|_| Error::Invalid(format!("{n} overflows an i64")))?;
        Ok(if major == MAJOR_NEGATIVE { -1 - n } else { n })
    }

    /// Consumes a tag's head: the tag number.
    pub fn tag(&mut self) -> Result<u64, Error> {
        self.definite(MAJOR_TAG, "a tag")
    }

    /// Consumes a single- or double-precision float.
    pub fn f64(&mut self) -> Result<f64, Error> {
        match self.buf.get(self.pos) {
            Some(0xfa) => {
                let b = self.take(5)?;
                Ok(f64::from(f32::from_be_bytes([b[1], b[2], b[3], b[4]])))
            }
            Some(0xfb) => {
                let b = self.take(9)?;
                let mut bits = [0; 8];
                bits.copy_from_slice(&b[1..]);
                Ok(f64::from_be_bytes(bits))
            }
            Some(_) => Err(Error::Invalid("expected a float".into())),
            None => Err(Error::Truncated),
        }
    }

    /// Consumes a half-precision float: its bits.
    pub fn f16_bits(&mut self) -> Result<u16, Error> {
        match self.buf.get(self.pos) {
            Some(0xf9) => {
                let b = self.take(3)?;
                Ok(u16::from_be_bytes([b[1], b[2]]))
            }
            Some(_) => Err(Error::Invalid("expected a half-precision float".into())),
            None => Err(Error::Truncated),
        }
    }

    /// Consumes an array's head: its count, `None` when indefinite.
    pub fn array(&mut self) -> Result<Option<u64>, Error> {
        self.container(MAJOR_ARRAY, "an array")
    }

    /// Consumes a map's head: its count of entries, `None` when indefinite.
    pub fn map(&mut self) -> Result<Option<u64>, Error> {
        self.container(MAJOR_MAP, "a map")
    }

    /// Consumes an item that holds no other: an int, a simple value, a
    /// float, or a definite-length string (text must be UTF-8).
    pub fn skip_scalar(&mut self) -> Result<(), Error> {
        match self.buf.get(self.pos).map(|b| b >> 5) {
            Some(MAJOR_BYTES) => self.bytes().map(drop),
            Some(MAJOR_TEXT) => self.str().map(drop),
            Some(MAJOR_ARRAY | MAJOR_MAP | MAJOR_TAG) => {
                Err(Error::Invalid("expected an item without items".into()))
            }
            Some(_) => self.head().map(drop),
            None => Err(Error::Truncated),
        }
    }
}

/// Appends the shortest head of major type `major` with argument `n`.
fn push_head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xff => out.extend_from_slice(&[m | 24, n as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(m | 26);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
}

/// Appends the head of an array of `n` items.
pub fn push_array(out: &mut Vec<u8>, n: u64) {
    push_head(out, MAJOR_ARRAY, n);
}

/// Appends a byte string, its head in the shortest form.
pub fn push_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    push_head(out, MAJOR_BYTES, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Appends a text string, its head in the shortest form.
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    push_head(out, MAJOR_TEXT, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_from_the_initial_byte() {
        let ty = |b: &[u8]| Decoder::new(b).datatype();
        assert_eq!(ty(&[0x17]), Ok(Type::Unsigned));
        assert_eq!(ty(&[0x1c]), Ok(Type::Unknown(0x1c)));
        assert_eq!(ty(&[0x38, 0x00]), Ok(Type::Negative));
        assert_eq!(ty(&[0x38]), Err(Error::Truncated));
        assert_eq!(ty(&[0x3b, 0x7f]), Ok(Type::Negative));
        assert_eq!(ty(&[0x3b, 0x80]), Ok(Type::BigNegative));
        assert_eq!(ty(&[0x5f]), Ok(Type::BytesIndef));
        assert_eq!(ty(&[0xf8]), Ok(Type::Simple));
        assert_eq!(ty(&[0xfc]), Ok(Type::Unknown(0xfc)));
        assert_eq!(ty(&[]), Err(Error::Truncated));
    }

    #[test]
    fn ints_strings_and_floats() {
        let mut d = Decoder::new(&[0x1b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(d.i64(), Ok(i64::MAX));
        let mut d = Decoder::new(&[0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(d.i64(), Ok(i64::MIN));
        assert!(
            Decoder::new(&[0x1b, 0x80, 0, 0, 0, 0, 0, 0, 0])
                .i64()
                .is_err()
        );
        assert_eq!(Decoder::new(&[0x38, 0x63]).i64(), Ok(-100));
        assert_eq!(Decoder::new(&[0x63, b'a', b'b', b'c']).str(), Ok("abc"));
        assert_eq!(
            Decoder::new(&[0x63, b'a', b'b']).str(),
            Err(Error::Truncated)
        );
        assert!(Decoder::new(&[0x61, 0xff]).str().is_err());
        // Truncated natively, too large for a 32-bit usize on wasm32.
        assert!(
            Decoder::new(&[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
                .bytes()
                .is_err()
        );
        assert_eq!(
            Decoder::new(&[0xfa, 0x47, 0xc3, 0x50, 0x00]).f64(),
            Ok(100000.0)
        );
        let mut d = Decoder::new(&[0xf9, 0x3c, 0x00, 0x01]);
        assert_eq!(d.f16_bits(), Ok(0x3c00));
        assert_eq!(d.position(), 3);
        let mut d = Decoder::new(&[0xf8, 0x20, 0x62, b'h', b'i', 0x01]);
        d.skip_scalar().unwrap();
        d.skip_scalar().unwrap();
        assert_eq!(d.position(), 5);
    }

    #[test]
    fn heads_are_encoded_in_their_shortest_form() {
        let mut out = Vec::new();
        push_array(&mut out, 4);
        push_str(&mut out, "Signature1");
        push_bytes(&mut out, &[0; 24]);
        assert_eq!(&out[..2], &[0x84, 0x6a]);
        assert_eq!(&out[12..14], &[0x58, 24]);
        let mut out = Vec::new();
        push_bytes(&mut out, &[0; 256]);
        assert_eq!(&out[..3], &[0x59, 0x01, 0x00]);
    }
}
