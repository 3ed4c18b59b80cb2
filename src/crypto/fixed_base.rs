//! ECDSA verification with precomputed fixed-base tables.
//!
//! Verifying `(r, s)` over a digest `z` computes `u1·G + u2·Q`. The curve
//! crates do it with a shared-doubling wNAF: ~256 doublings and ~100
//! additions for P-256. A key that verifies thousands of images (a policy's
//! cosign key, Rekor's key, Fulcio's intermediate) pays once for a table of
//! its multiples `j·2^(6i)·Q` (`j = 1..=32`), after which a verification is
//! one mixed addition per signed 6-bit digit of each scalar and no doubling:
//! 43 + 43 additions for P-256, 65 + 65 for P-384.
//!
//! A key without a table (yet) verifies by a window-5 wNAF of its scalar
//! over its odd multiples, beside the generator's table.
//!
//! Tables are built with the curve crates' group operations (complete
//! formulas, batch normalisation); verification adds into a Jacobian
//! accumulator ([`super::jacobian`]) and compares `r` with its x-coordinate
//! without an inversion. The scalar recoding and the ECDSA equation mirror
//! `ecdsa::hazmat::verify_prehashed`, and the Wycheproof suites run through
//! the curve crate, the tables and the wNAF with identical outcomes.
//!
//! Tables are pure functions of a public key: a table can be wrong only if
//! this code is, never because of what an input chose. They live per engine
//! instance (thread-local), bounded by [`MAX_KEY_TABLES`] keys.

use super::jacobian::{Affine, Jacobian};
use ecdsa::EcdsaCurve;
use elliptic_curve::Field as _;
use elliptic_curve::Group as _;
use elliptic_curve::ff::PrimeField;
use elliptic_curve::group::Curve as _;
use elliptic_curve::ops::{Invert as _, Reduce};
use elliptic_curve::scalar::IsHigh as _;
use elliptic_curve::{CurveArithmetic, FieldBytes};
use primeorder::{AffinePoint, PrimeCurveParams, ProjectivePoint};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// Bits per signed digit: 32 multiples per window.
const WINDOW_BITS: usize = 6;
/// Multiples stored per window (`1..=MULTIPLES`).
const MULTIPLES: usize = 1 << (WINDOW_BITS - 1);
/// Keys with a table per curve and engine instance (a P-256 table is ~100
/// KiB, a P-384 one ~220 KiB): past this, keys verify by their wNAF.
pub const MAX_KEY_TABLES: usize = 32;
/// Of those, how many keys may earn a table by use; the rest are kept for
/// the keys of the policies compiled next, so that keys an attacker makes
/// verify twice (a certificate's key, say) cannot take every slot.
const MAX_EARNED_TABLES: usize = MAX_KEY_TABLES / 2;
/// Verifications a key without a table makes before it gets one (a policy's
/// own keys get theirs when the policy is compiled).
const PROMOTE_AFTER: u32 = 2;
/// Keys whose uses are counted before the counts are forgotten.
const MAX_COUNTED_KEYS: usize = 4096;

thread_local! {
    static ENABLED: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
    static KEY_TABLES: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
    static EARNING: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
    static VERIFICATIONS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Signatures this engine instance has verified here (with a table for the
/// generator, and for the key when it has one), not by the curve crate.
pub fn verifications() -> u64 {
    VERIFICATIONS.with(std::cell::Cell::get)
}

/// Turns tables on or off in this engine instance (on by default; off,
/// every key verifies with the curve crate, as the tests compare).
pub fn set_enabled(on: bool) {
    ENABLED.with(|e| e.set(on));
}

/// Lets keys have tables in this engine instance (on by default; off, every
/// key verifies by its wNAF beside the generator's table, as the tests
/// compare).
pub fn set_key_tables(on: bool) {
    KEY_TABLES.with(|e| e.set(on));
}

/// Runs `f` with keys unable to earn a table by use (tables already built
/// still serve): for keys an input chose, such as the certificates of a
/// signature envelope, which one check uses twice and no other check uses
/// again.
pub fn without_earning<T>(f: impl FnOnce() -> T) -> T {
    let before = EARNING.with(|e| e.replace(false));
    let out = f();
    EARNING.with(|e| e.set(before));
    out
}

/// Forgets every key table of this engine instance.
pub fn clear_key_tables() {
    p256::NistP256::with_key_tables(|t| *t = KeyTables::default());
    p384::NistP384::with_key_tables(|t| *t = KeyTables::default());
}

/// Multiples `j·2^(6i)·P` of one point, affine, window-major.
pub struct FixedBaseTable<C: PrimeCurveParams> {
    points: Vec<Affine<C::FieldElement>>,
    windows: usize,
}

impl<C: PrimeCurveParams> FixedBaseTable<C>
where
    C::FieldElement: PrimeField<Repr = FieldBytes<C>>,
{
    /// Precomputes the table of `p` (`None` for the identity).
    pub fn new(p: &ProjectivePoint<C>) -> Option<Self> {
        if bool::from(p.is_identity()) {
            return None;
        }
        // One window more than the scalar's bits need when the signed
        // recoding carries out of the top window.
        let windows = (C::Scalar::NUM_BITS as usize + 1).div_ceil(WINDOW_BITS);
        let mut projective = Vec::with_capacity(windows * MULTIPLES);
        let mut base = *p;
        for _ in 0..windows {
            let mut multiple = base;
            for _ in 0..MULTIPLES {
                projective.push(multiple);
                multiple += base;
            }
            for _ in 0..WINDOW_BITS {
                base = base.double();
            }
        }
        let mut affine = vec![AffinePoint::<C>::IDENTITY; projective.len()];
        ProjectivePoint::<C>::batch_normalize(&projective, &mut affine);
        // j·2^(6i)·P with j·2^(6i) < n is never the identity.
        let points = affine
            .iter()
            .map(Affine::from_point)
            .collect::<Option<Vec<_>>>()?;
        Some(Self { points, windows })
    }

    /// Adds `k·P` to `acc` (variable time: public scalars only).
    fn add_multiple(&self, acc: &mut Jacobian<C::FieldElement>, k: &C::Scalar) {
        let repr = k.to_repr();
        let bytes: &[u8] = repr.as_ref();
        let mut carry = 0usize;
        for window in 0..self.windows {
            let digit = bits_le(bytes, window * WINDOW_BITS) + carry;
            let row = &self.points[window * MULTIPLES..(window + 1) * MULTIPLES];
            if digit > MULTIPLES {
                // digit - 64, negative or zero: subtract, carry one into
                // the next window.
                let negative = (1 << WINDOW_BITS) - digit;
                if let Some(p) = negative.checked_sub(1).and_then(|i| row.get(i)) {
                    acc.add_affine(&p.neg());
                }
                carry = 1;
            } else {
                if let Some(p) = digit.checked_sub(1).and_then(|i| row.get(i)) {
                    acc.add_affine(p);
                }
                carry = 0;
            }
        }
        debug_assert_eq!(carry, 0, "the top window absorbs the last carry");
    }

    /// Memory the table holds.
    fn bytes(&self) -> usize {
        self.points.len() * std::mem::size_of::<Affine<C::FieldElement>>()
    }
}

/// `WINDOW_BITS` bits of a big-endian integer starting at bit `at` from the
/// least significant end (zero past the top).
fn bits_le(be: &[u8], at: usize) -> usize {
    let byte = |i: usize| -> usize {
        be.len()
            .checked_sub(i + 1)
            .and_then(|j| be.get(j))
            .map_or(0, |b| usize::from(*b))
    };
    let (i, shift) = (at / 8, at % 8);
    ((byte(i) | byte(i + 1) << 8) >> shift) & ((1 << WINDOW_BITS) - 1)
}

/// The curves verified with tables.
pub trait TableCurve: PrimeCurveParams + EcdsaCurve
where
    <Self as CurveArithmetic>::Scalar: Reduce<FieldBytes<Self>>,
{
    /// This curve's generator table, built on first use.
    fn generator_table() -> Option<&'static FixedBaseTable<Self>>;
    /// This curve's per-key tables in this engine instance.
    fn with_key_tables<R>(f: impl FnOnce(&mut KeyTables<Self>) -> R) -> R;
}

macro_rules! table_curve {
    ($curve:ty, $generator:ident, $keys:ident) => {
        static $generator: std::sync::OnceLock<Option<FixedBaseTable<$curve>>> =
            std::sync::OnceLock::new();
        thread_local! {
            static $keys: RefCell<KeyTables<$curve>> = RefCell::new(KeyTables::default());
        }
        impl TableCurve for $curve {
            fn generator_table() -> Option<&'static FixedBaseTable<Self>> {
                $generator
                    .get_or_init(|| FixedBaseTable::new(&ProjectivePoint::<Self>::GENERATOR))
                    .as_ref()
            }
            fn with_key_tables<R>(f: impl FnOnce(&mut KeyTables<Self>) -> R) -> R {
                $keys.with(|t| f(&mut t.borrow_mut()))
            }
        }
    };
}

table_curve!(p256::NistP256, P256_GENERATOR, P256_KEYS);
table_curve!(p384::NistP384, P384_GENERATOR, P384_KEYS);

/// Per-key tables of one curve, by the key's uncompressed SEC1 encoding.
pub struct KeyTables<C: PrimeCurveParams> {
    tables: HashMap<Vec<u8>, Rc<FixedBaseTable<C>>>,
    uses: HashMap<Vec<u8>, u32>,
}

impl<C: PrimeCurveParams> Default for KeyTables<C> {
    fn default() -> Self {
        Self {
            tables: HashMap::new(),
            uses: HashMap::new(),
        }
    }
}

impl<C: PrimeCurveParams> KeyTables<C> {
    /// The table of `sec1`, building it when `build` is set or the key has
    /// been used often enough, within [`MAX_KEY_TABLES`].
    fn get(
        &mut self,
        sec1: &[u8],
        point: &ProjectivePoint<C>,
        build: bool,
    ) -> Option<Rc<FixedBaseTable<C>>> {
        if !ENABLED.with(std::cell::Cell::get) || !KEY_TABLES.with(std::cell::Cell::get) {
            return None;
        }
        if let Some(t) = self.tables.get(sec1) {
            return Some(t.clone());
        }
        if self.tables.len() >= MAX_KEY_TABLES {
            return None;
        }
        if !build {
            if self.tables.len() >= MAX_EARNED_TABLES || !EARNING.with(std::cell::Cell::get) {
                return None;
            }
            if self.uses.len() >= MAX_COUNTED_KEYS {
                self.uses.clear();
            }
            let uses = self.uses.entry(sec1.to_vec()).or_insert(0);
            *uses += 1;
            if *uses < PROMOTE_AFTER {
                return None;
            }
        }
        self.uses.remove(sec1);
        let table = Rc::new(FixedBaseTable::new(point)?);
        self.tables.insert(sec1.to_vec(), table.clone());
        Some(table)
    }
}

/// The key's table, found by its uncompressed SEC1 encoding; built now
/// when `build` is set or the key has earned it ([`KeyTables::get`]).
fn key_table<C>(key: &ecdsa::VerifyingKey<C>, build: bool) -> Option<Rc<FixedBaseTable<C>>>
where
    <C as CurveArithmetic>::Scalar: Reduce<FieldBytes<C>>,
    C: TableCurve
        + CurveArithmetic<AffinePoint = AffinePoint<C>, ProjectivePoint = ProjectivePoint<C>>,
    elliptic_curve::FieldBytesSize<C>: elliptic_curve::sec1::ModulusSize,
{
    let sec1 = key.to_sec1_point(false);
    let point = ProjectivePoint::<C>::from(*key.as_affine());
    C::with_key_tables(|t| t.get(sec1.as_bytes(), &point, build))
}

/// Builds the table of a key now (a policy's key, when it is compiled), and
/// its curve's generator table, so the first verification pays for neither.
pub fn precompute<C>(key: &ecdsa::VerifyingKey<C>)
where
    <C as CurveArithmetic>::Scalar: Reduce<FieldBytes<C>>,
    C: TableCurve
        + CurveArithmetic<AffinePoint = AffinePoint<C>, ProjectivePoint = ProjectivePoint<C>>,
    elliptic_curve::FieldBytesSize<C>: elliptic_curve::sec1::ModulusSize,
{
    let _ = C::generator_table();
    key_table(key, true);
}

/// Verifies an ECDSA signature over `prehash` as
/// `ecdsa::hazmat::verify_prehashed` does: with the key's table when it has
/// one (or earns one now), otherwise by a wNAF of the key, and the
/// generator's table. `None` when tables are off, so the caller verifies
/// with the curve crate.
pub fn verify_prehashed<C>(
    key: &ecdsa::VerifyingKey<C>,
    prehash: &[u8],
    signature: &ecdsa::Signature<C>,
) -> Option<bool>
where
    <C as CurveArithmetic>::Scalar: Reduce<FieldBytes<C>>,
    C: TableCurve
        + CurveArithmetic<AffinePoint = AffinePoint<C>, ProjectivePoint = ProjectivePoint<C>>,
    elliptic_curve::FieldBytesSize<C>: elliptic_curve::sec1::ModulusSize,
{
    if !ENABLED.with(std::cell::Cell::get) {
        return None;
    }
    let generator = C::generator_table()?;
    let table = key_table(key, false);
    VERIFICATIONS.with(|v| v.set(v.get() + 1));
    let (r, s) = signature.split_scalars();
    if C::NORMALIZE_S && bool::from(s.is_high()) {
        return Some(false);
    }
    let z = bits2scalar::<C>(prehash);
    let s_inv = *s.invert_vartime();
    let u1 = z * s_inv;
    let u2 = *r * s_inv;
    // u2·Q first (the variable-base path doubles the accumulator), then u1·G.
    let mut acc = Jacobian::IDENTITY;
    match table {
        Some(t) => t.add_multiple(&mut acc, &u2),
        None => {
            let q = Affine::from_point(key.as_affine())?;
            add_variable_base(&mut acc, &q, &u2)?;
        }
    }
    generator.add_multiple(&mut acc, &u1);
    // n as a field element (n < p): (n - 1) + 1.
    let n_minus_1 =
        Option::<C::FieldElement>::from(C::FieldElement::from_repr((-C::Scalar::ONE).to_repr()))?;
    Some(acc.x_reduced_equals(&r.to_repr(), &(n_minus_1 + C::FieldElement::ONE)))
}

/// `acc = 2^len·acc + k·Q` by a window-5 wNAF of `k` over the odd multiples
/// of `Q` (for a key without a table: 256 doublings and ~43 additions for
/// P-256, against the curve crate's shared-doubling sum of both scalars).
fn add_variable_base<F: PrimeField>(
    acc: &mut Jacobian<F>,
    q: &Affine<F>,
    k: &impl PrimeField,
) -> Option<()> {
    let odd = Jacobian::odd_multiples(q)?;
    let repr = k.to_repr();
    for digit in wnaf5(repr.as_ref()).iter().rev() {
        acc.double();
        let i = usize::from(digit.unsigned_abs() / 2);
        match odd.get(i) {
            Some(p) if *digit > 0 => acc.add_affine(p),
            Some(p) if *digit < 0 => acc.add_affine(&p.neg()),
            _ => {}
        }
    }
    Some(())
}

/// The width-5 non-adjacent form of a big-endian integer, least significant
/// digit first: odd digits in `-15..=15`, each followed by at least four
/// zeros, with `Σ dᵢ·2ⁱ` equal to the integer.
fn wnaf5(be: &[u8]) -> Vec<i8> {
    // Little-endian 64-bit limbs, one more for the carry of a negative digit.
    let mut k: Vec<u64> = be
        .rchunks(8)
        .map(|c| {
            let mut b = [0u8; 8];
            b[8 - c.len()..].copy_from_slice(c);
            u64::from_be_bytes(b)
        })
        .collect();
    k.push(0);
    let mut digits = Vec::with_capacity(k.len() * 64 + 1);
    while k.iter().any(|&l| l != 0) {
        let mut digit = 0i8;
        if k[0] & 1 == 1 {
            let m = (k[0] & 31) as i8;
            digit = if m >= 16 { m - 32 } else { m };
            // k -= digit: clear the low bits, or add the complement with carry.
            if digit > 0 {
                k[0] -= digit as u64;
            } else {
                let mut carry = u64::from(digit.unsigned_abs());
                for limb in k.iter_mut() {
                    let (sum, over) = limb.overflowing_add(carry);
                    *limb = sum;
                    carry = u64::from(over);
                    if carry == 0 {
                        break;
                    }
                }
            }
        }
        digits.push(digit);
        // k >>= 1
        for i in 0..k.len() {
            let high = k.get(i + 1).map_or(0, |next| next << 63);
            k[i] = (k[i] >> 1) | high;
        }
    }
    digits
}

/// The digest as a scalar: its leftmost field-size bytes, zero-padded on
/// the left when shorter, reduced mod n (P-256 and P-384 orders are whole
/// bytes, so this is `bits2field` then a reduction).
fn bits2scalar<C: TableCurve>(prehash: &[u8]) -> C::Scalar
where
    <C as CurveArithmetic>::Scalar: Reduce<FieldBytes<C>>,
{
    let mut bytes = FieldBytes::<C>::default();
    let n = bytes.len();
    let take = prehash.get(..n.min(prehash.len())).unwrap_or_default();
    let start = n - take.len();
    bytes[start..].copy_from_slice(take);
    <C::Scalar as Reduce<FieldBytes<C>>>::reduce(&bytes)
}

/// Memory held by this instance's key tables (for the bench and tests).
pub fn key_table_bytes() -> usize {
    let p256 =
        p256::NistP256::with_key_tables(|t| t.tables.values().map(|t| t.bytes()).sum::<usize>());
    let p384 =
        p384::NistP384::with_key_tables(|t| t.tables.values().map(|t| t.bytes()).sum::<usize>());
    p256 + p384
}

#[cfg(test)]
mod tests {
    use super::*;
    use elliptic_curve::Field;
    use elliptic_curve::point::AffineCoordinates as _;

    #[test]
    fn bits_are_read_little_endian_across_bytes() {
        let be = [0b1010_1100u8, 0b0111_0001];
        assert_eq!(bits_le(&be, 0), 0b11_0001);
        assert_eq!(bits_le(&be, 6), (0xac71 >> 6) & 0b11_1111);
        assert_eq!(bits_le(&be, 12), 0b1010);
        assert_eq!(bits_le(&be, 30), 0);
    }

    /// k·G by the table equals k·G by the curve crate for edge scalars and
    /// pseudo-random ones (digits at the recoding boundaries included).
    fn tables_multiply_like_the_curve<C>()
    where
        <C as CurveArithmetic>::Scalar: Reduce<FieldBytes<C>>,
        C: TableCurve
            + CurveArithmetic<AffinePoint = AffinePoint<C>, ProjectivePoint = ProjectivePoint<C>>,
    {
        let table = C::generator_table().expect("the generator has a table");
        let mut k = C::Scalar::ONE;
        let mut scalars = vec![C::Scalar::ZERO, C::Scalar::ONE, -C::Scalar::ONE];
        for _ in 0..40 {
            k = k.square() + C::Scalar::from(0x2f_u64);
            scalars.push(k);
        }
        for byte in [0x20u8, 0x21, 0x3f, 0x40, 0xff] {
            let mut repr = <C::Scalar as PrimeField>::Repr::default();
            for b in AsMut::<[u8]>::as_mut(&mut repr).iter_mut().skip(1) {
                *b = byte;
            }
            if let Some(s) = Option::from(C::Scalar::from_repr(repr)) {
                scalars.push(s);
            }
        }
        for k in scalars {
            let mut acc = Jacobian::IDENTITY;
            table.add_multiple(&mut acc, &k);
            let want = (ProjectivePoint::<C>::GENERATOR * k).to_affine();
            match acc.to_affine() {
                None => assert!(bool::from(want.is_identity())),
                Some(got) => {
                    assert_eq!(got.x.to_repr(), want.x());
                    assert_eq!(got.y.to_repr(), want.y());
                }
            }
        }
    }

    /// Digests longer and shorter than the field (P-256 with SHA-512 and
    /// SHA-1, P-384 with SHA-256) reduce as the curve crate reduces them.
    #[test]
    fn digests_of_every_length_verify_as_the_curve_crate_does() {
        use signature::hazmat::{PrehashSigner, PrehashVerifier};
        let p256_key = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).expect("key");
        let p384_key = p384::ecdsa::SigningKey::from_slice(&[9u8; 48]).expect("key");
        for len in [20usize, 32, 48, 64] {
            let digest: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let mut other = digest.clone();
            other[len - 1] ^= 1;
            // A flipped last byte past the field size is truncated away.
            macro_rules! check {
                ($curve:ident, $key:expr, $field:expr) => {{
                    let sig: $curve::ecdsa::Signature = $key.sign_prehash(&digest).expect("sign");
                    let vk = $key.verifying_key();
                    precompute(vk);
                    for (d, verifies) in [(&digest, true), (&other, len > $field)] {
                        assert_eq!(vk.verify_prehash(d, &sig).is_ok(), verifies);
                        let label = stringify!($curve);
                        assert_eq!(
                            verify_prehashed(vk, d, &sig),
                            Some(verifies),
                            "{label}, {len} bytes"
                        );
                    }
                }};
            }
            check!(p256, p256_key, 32);
            check!(p384, p384_key, 48);
        }
    }

    /// Keys earn tables by use only up to half the slots; a policy's keys
    /// still get theirs when the other half is all that is left.
    #[test]
    fn earned_tables_leave_room_for_policy_keys() {
        use signature::hazmat::PrehashSigner;
        clear_key_tables();
        let digest = [3u8; 32];
        for i in 0..(MAX_KEY_TABLES as u8) {
            let key = p256::ecdsa::SigningKey::from_slice(&[i + 1; 32]).expect("key");
            let sig: p256::ecdsa::Signature = key.sign_prehash(&digest).expect("sign");
            for _ in 0..PROMOTE_AFTER {
                let _ = verify_prehashed(key.verifying_key(), &digest, &sig);
            }
        }
        let earned = p256::NistP256::with_key_tables(|t| t.tables.len());
        assert_eq!(earned, MAX_EARNED_TABLES);
        let policy_key = p256::ecdsa::SigningKey::from_slice(&[0xee; 32]).expect("key");
        precompute(policy_key.verifying_key());
        let sig: p256::ecdsa::Signature = policy_key.sign_prehash(&digest).expect("sign");
        assert_eq!(
            verify_prehashed(policy_key.verifying_key(), &digest, &sig),
            Some(true),
            "the policy key verifies with its table"
        );
        clear_key_tables();
    }

    /// The wNAF digits sum back to the integer and have its shape.
    #[test]
    fn wnaf_digits_sum_to_the_scalar() {
        let mut cases: Vec<Vec<u8>> = vec![vec![0; 32], vec![0xff; 32], vec![0xff; 48]];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for len in [32usize, 48] {
            for _ in 0..50 {
                cases.push(
                    (0..len)
                        .map(|_| {
                            x ^= x << 13;
                            x ^= x >> 7;
                            x ^= x << 17;
                            x as u8
                        })
                        .collect(),
                );
            }
        }
        for be in cases {
            let digits = wnaf5(&be);
            // Σ dᵢ·2ⁱ, as a signed big integer in 32-bit limbs.
            let mut sum = vec![0i128; be.len() / 4 + 2];
            for (i, d) in digits.iter().enumerate() {
                assert!(*d == 0 || (d % 2 != 0 && d.abs() <= 15), "digit {d}");
                sum[i / 32] += i128::from(*d) << (i % 32);
            }
            if let Some(first) = digits.iter().position(|d| *d != 0) {
                for (i, d) in digits.iter().enumerate().skip(first + 1) {
                    if *d != 0 {
                        let previous = digits[..i].iter().rposition(|d| *d != 0).unwrap();
                        assert!(i - previous >= 5, "digits {previous} and {i} too close");
                    }
                }
            }
            for i in 0..sum.len() - 1 {
                let carry = sum[i].div_euclid(1 << 32);
                sum[i] -= carry << 32;
                sum[i + 1] += carry;
            }
            let mut want = vec![0i128; sum.len()];
            for (i, b) in be.iter().rev().enumerate() {
                want[i / 4] += i128::from(*b) << (8 * (i % 4));
            }
            assert_eq!(sum, want, "{be:02x?}");
        }
    }

    /// Keys without a table (the wNAF path) verify as the curve crate does,
    /// on valid signatures and on a flipped digest.
    #[test]
    fn keys_without_a_table_verify_as_the_curve_crate_does() {
        use signature::hazmat::{PrehashSigner, PrehashVerifier};
        clear_key_tables();
        for seed in 1..20u8 {
            let digest: Vec<u8> = (0..32).map(|i| i as u8 ^ seed.wrapping_mul(31)).collect();
            let mut other = digest.clone();
            other[0] ^= 0x80;
            let key = p256::ecdsa::SigningKey::from_slice(&[seed; 32]).expect("key");
            let sig: p256::ecdsa::Signature = key.sign_prehash(&digest).expect("sign");
            let key384 = p384::ecdsa::SigningKey::from_slice(&[seed; 48]).expect("key");
            let sig384: p384::ecdsa::Signature = key384.sign_prehash(&digest).expect("sign");
            for d in [&digest, &other] {
                let want = key.verifying_key().verify_prehash(d, &sig).is_ok();
                assert_eq!(verify_prehashed(key.verifying_key(), d, &sig), Some(want));
                let want = key384.verifying_key().verify_prehash(d, &sig384).is_ok();
                assert_eq!(
                    verify_prehashed(key384.verifying_key(), d, &sig384),
                    Some(want)
                );
            }
            // Each key was used twice: with PROMOTE_AFTER 2 the second use
            // earned a table; clear so the next seed starts without one.
            clear_key_tables();
        }
    }

    #[test]
    fn p256_tables_multiply_like_the_curve() {
        tables_multiply_like_the_curve::<p256::NistP256>();
    }

    #[test]
    fn p384_tables_multiply_like_the_curve() {
        tables_multiply_like_the_curve::<p384::NistP384>();
    }
}
