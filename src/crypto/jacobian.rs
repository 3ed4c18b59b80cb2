//! Jacobian point arithmetic for the fixed-base tables of [`super::fixed_base`].
//!
//! ECDSA verification with tables is a run of additions of affine table
//! points into one accumulator, then a comparison of its x-coordinate with
//! `r`. The curve crates' complete projective formulas cost 11
//! multiplications per mixed addition and a constant-time inversion to read
//! x; in Jacobian coordinates a mixed addition costs 8 multiplications and 3
//! squarings, and `x = X/Z²` is compared as `r·Z² = X` with no inversion.
//!
//! The formulas (add: "madd-2007-bl" without its doublings of H; double:
//! "dbl-2001-b", for curves with `a = -3`) are incomplete: adding a point to
//! itself or to its negation is detected (`H = 0`) and handled explicitly,
//! and the identity is kept as `Z = 0`. Inputs are public (signatures and
//! keys), so nothing here is constant-time.

use elliptic_curve::ff::PrimeField;

/// A point in affine coordinates, never the identity.
#[derive(Clone, Copy, Debug)]
pub struct Affine<F> {
    pub x: F,
    pub y: F,
}

impl<F: PrimeField> Affine<F> {
    /// The coordinates of a curve crate's point (`None` for the identity).
    pub fn from_point<C>(p: &primeorder::AffinePoint<C>) -> Option<Self>
    where
        C: primeorder::PrimeCurveParams<FieldElement = F>,
        F: PrimeField<Repr = elliptic_curve::FieldBytes<C>>,
    {
        use elliptic_curve::point::AffineCoordinates as _;
        if bool::from(p.is_identity()) {
            return None;
        }
        Some(Affine {
            x: Option::from(F::from_repr(p.x()))?,
            y: Option::from(F::from_repr(p.y()))?,
        })
    }

    /// `-P`.
    pub fn neg(&self) -> Self {
        Affine {
            x: self.x,
            y: -self.y,
        }
    }
}

/// A point `(X/Z², Y/Z³)`; the identity has `Z = 0`.
#[derive(Clone, Copy, Debug)]
pub struct Jacobian<F> {
    x: F,
    y: F,
    z: F,
}

impl<F: PrimeField> Jacobian<F> {
    /// The identity (point at infinity).
    pub const IDENTITY: Self = Jacobian {
        x: F::ONE,
        y: F::ONE,
        z: F::ZERO,
    };

    /// Whether this is the identity.
    pub fn is_identity(&self) -> bool {
        self.z.is_zero().into()
    }

    /// `self += p`.
    pub fn add_affine(&mut self, p: &Affine<F>) {
        if self.is_identity() {
            *self = Jacobian {
                x: p.x,
                y: p.y,
                z: F::ONE,
            };
            return;
        }
        let z1z1 = self.z.square();
        let u2 = p.x * z1z1;
        let s2 = p.y * self.z * z1z1;
        let h = u2 - self.x;
        let r = s2 - self.y;
        if bool::from(h.is_zero()) {
            if bool::from(r.is_zero()) {
                // self == p
                self.double();
            } else {
                // self == -p
                *self = Self::IDENTITY;
            }
            return;
        }
        let hh = h.square();
        let hhh = h * hh;
        let v = self.x * hh;
        let x3 = r.square() - hhh - v.double();
        let y3 = r * (v - x3) - self.y * hhh;
        let z3 = self.z * h;
        *self = Jacobian {
            x: x3,
            y: y3,
            z: z3,
        };
    }

    /// `self = 2·self` on a curve with `a = -3` (the identity stays the
    /// identity: its `Z` stays 0).
    pub fn double(&mut self) {
        let delta = self.z.square();
        let gamma = self.y.square();
        let beta = self.x * gamma;
        let t = (self.x - delta) * (self.x + delta);
        let alpha = t.double() + t;
        let beta4 = beta.double().double();
        let x3 = alpha.square() - beta4.double();
        let z3 = (self.y + self.z).square() - gamma - delta;
        let gamma_sq8 = gamma.square().double().double().double();
        let y3 = alpha * (beta4 - x3) - gamma_sq8;
        *self = Jacobian {
            x: x3,
            y: y3,
            z: z3,
        };
    }

    /// `P, 3P, 5P, …, 15P` in affine coordinates, for a variable-base
    /// window-5 wNAF (`None` if one is the identity, which no point of a
    /// prime-order group above 15 can give).
    pub fn odd_multiples(p: &Affine<F>) -> Option<[Affine<F>; 8]> {
        let mut all = [Self::IDENTITY; 15];
        let mut acc = Self::IDENTITY;
        for slot in all.iter_mut() {
            acc.add_affine(p);
            *slot = acc;
        }
        let odd: Vec<Self> = all.iter().step_by(2).copied().collect();
        let affine = Self::batch_to_affine(&odd)?;
        <[Affine<F>; 8]>::try_from(affine).ok()
    }

    /// Affine coordinates of several points with one inversion
    /// (Montgomery's trick); `None` if any is the identity.
    fn batch_to_affine(points: &[Self]) -> Option<Vec<Affine<F>>> {
        let mut prefix = Vec::with_capacity(points.len());
        let mut product = F::ONE;
        for p in points {
            if p.is_identity() {
                return None;
            }
            product *= p.z;
            prefix.push(product);
        }
        // inv = (z_0 ⋯ z_i)⁻¹ at step i, walking down.
        let mut inv = Option::<F>::from(product.invert())?;
        let mut out = vec![
            Affine {
                x: F::ZERO,
                y: F::ZERO
            };
            points.len()
        ];
        for i in (0..points.len()).rev() {
            let zinv = match i.checked_sub(1).and_then(|j| prefix.get(j)) {
                Some(before) => inv * before,
                None => inv,
            };
            inv *= points[i].z;
            let zinv2 = zinv.square();
            out[i] = Affine {
                x: points[i].x * zinv2,
                y: points[i].y * zinv2 * zinv,
            };
        }
        Some(out)
    }

    /// Whether the affine x-coordinate, as an integer reduced mod `n`,
    /// equals `r` (`0 < r < n`, given as field bytes): `r·Z² = X`, or
    /// `(r + n)·Z² = X` when `r + n < p`. False for the identity.
    ///
    /// `n_field` is the group order as a field element (`n < p`).
    pub fn x_reduced_equals(&self, r: &F::Repr, n_field: &F) -> bool
    where
        F::Repr: AsRef<[u8]>,
    {
        if self.is_identity() {
            return false;
        }
        let Some(r_field) = Option::<F>::from(F::from_repr(*r)) else {
            return false;
        };
        let zz = self.z.square();
        if bool::from((r_field * zz - self.x).is_zero()) {
            return true;
        }
        // r + n as an integer is below p exactly when the field sum did not
        // wrap, i.e. when it is larger than r (big-endian bytes compare as
        // integers).
        let r_plus_n = r_field + n_field;
        if r_plus_n.to_repr().as_ref() <= r.as_ref() {
            return false;
        }
        bool::from((r_plus_n * zz - self.x).is_zero())
    }

    /// The affine coordinates (`None` for the identity); for tests.
    #[cfg(test)]
    pub fn to_affine(self) -> Option<Affine<F>> {
        let zinv = Option::<F>::from(self.z.invert())?;
        let zinv2 = zinv.square();
        Some(Affine {
            x: self.x * zinv2,
            y: self.y * zinv2 * zinv,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use elliptic_curve::Field as _;
    use elliptic_curve::Group as _;
    use primeorder::{PrimeCurveParams, ProjectivePoint};

    fn affine<C: PrimeCurveParams>(p: &ProjectivePoint<C>) -> Affine<C::FieldElement>
    where
        C::FieldElement: PrimeField<Repr = elliptic_curve::FieldBytes<C>>,
    {
        Affine::from_point(&p.to_affine()).expect("not the identity")
    }

    /// Sums, doublings (`P + P`) and cancellations (`P + (-P)`) agree with
    /// the curve crate's complete formulas.
    fn agrees_with_the_curve<C: PrimeCurveParams>()
    where
        C::FieldElement: PrimeField<Repr = elliptic_curve::FieldBytes<C>>,
    {
        // The doubling formula is for a = -3.
        assert!(bool::from(
            (C::EQUATION_A + C::FieldElement::from(3u64)).is_zero()
        ));
        let g = ProjectivePoint::<C>::GENERATOR;
        let mut points = vec![g];
        for _ in 0..12 {
            let last = points[points.len() - 1];
            points.push(last.double() + g);
        }
        let mut acc = Jacobian::<C::FieldElement>::IDENTITY;
        let mut expected = ProjectivePoint::<C>::IDENTITY;
        for p in &points {
            acc.add_affine(&affine(p));
            expected += p;
            let got = acc.to_affine().expect("not the identity");
            let want = affine(&expected);
            assert_eq!(got.x, want.x);
            assert_eq!(got.y, want.y);
        }
        // P + P doubles.
        let sum = expected;
        acc.add_affine(&affine(&sum));
        let want = affine(&sum.double());
        let got = acc.to_affine().expect("2P");
        assert_eq!((got.x, got.y), (want.x, want.y));
        // 2P + (-2P) is the identity, and the identity plus P is P.
        acc.add_affine(&affine(&sum.double()).neg());
        assert!(acc.is_identity());
        assert!(acc.to_affine().is_none());
        acc.add_affine(&affine(&g));
        let got = acc.to_affine().expect("G");
        let want = affine(&g);
        assert_eq!((got.x, got.y), (want.x, want.y));
    }

    /// The odd multiples equal the curve crate's `j·P`.
    fn odd_multiples_agree<C: PrimeCurveParams>()
    where
        C::FieldElement: PrimeField<Repr = elliptic_curve::FieldBytes<C>>,
    {
        let p = ProjectivePoint::<C>::GENERATOR.double() + ProjectivePoint::<C>::GENERATOR;
        let table = Jacobian::odd_multiples(&affine(&p)).expect("multiples");
        for (i, got) in table.iter().enumerate() {
            let j = C::Scalar::from(2 * i as u64 + 1);
            let want = affine(&(p * j));
            assert_eq!((got.x, got.y), (want.x, want.y), "{}P", 2 * i + 1);
        }
    }

    #[test]
    fn odd_multiples_agree_with_the_curve() {
        odd_multiples_agree::<p256::NistP256>();
        odd_multiples_agree::<p384::NistP384>();
    }

    #[test]
    fn p256_agrees_with_the_curve() {
        agrees_with_the_curve::<p256::NistP256>();
    }

    #[test]
    fn p384_agrees_with_the_curve() {
        agrees_with_the_curve::<p384::NistP384>();
    }
}
