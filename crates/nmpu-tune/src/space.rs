//! The searched knobs and the integer bits range analysis gives them.
//!
//! A candidate is the fraction bits of the coefficients and of the two stage results,
//! fused or not, and floor or round-half-even at each stage. Everything else follows:
//! - a coefficient's sign and integer bits hold the largest coefficient of the data;
//! - the affine result holds `a*x + b` of every column for every ADC code with the
//!   candidate's quantized `a` and `b` (and its rounding), so it can never overflow and
//!   wraps: no saturation logic;
//! - the batch-norm result holds the output range and saturates: a value beyond it
//!   saturates the output code anyway (requantization is monotone, ReLU commutes with
//!   saturation); its fraction bits are at least the output's.
//!
//! The output format, its rounding and overflow, the activation, columns, lanes and input
//! width are the base config's.

use nmpu_config::{NmpuConfig, Overflow, QFormat, Rounding};
use nmpu_model::{quantize_real, RealCoeffs};
use serde::{Deserialize, Serialize};

/// Knob positions in [`Knobs::frac`].
pub const NAMES: [&str; 6] = ["a", "b", "g", "h", "affine", "batch_norm"];
/// The knobs a fused candidate uses (`a'`, `b'`, the fused result).
pub const FUSED: [usize; 3] = [0, 1, 5];
/// The knobs an unfused candidate uses.
pub const UNFUSED: [usize; 6] = [0, 1, 2, 3, 4, 5];

/// One candidate's searched choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Knobs {
    pub fused: bool,
    /// Fraction bits of a, b, g, h, the affine result and the batch-norm result (fused:
    /// a', b' and the fused result; the others are 0 and unused).
    pub frac: [u32; 6],
    /// Floor (truncation, no rounding adder) instead of round-half-even at the affine and
    /// batch-norm results.
    pub floor: [bool; 2],
}

impl Knobs {
    /// The knob positions this candidate uses.
    pub fn used(&self) -> &'static [usize] {
        if self.fused {
            &FUSED
        } else {
            &UNFUSED
        }
    }
}

/// Integer parts fixed by range analysis, and the fraction ranges, for one base config
/// and one set of coefficients.
#[derive(Clone, Debug)]
pub struct Space {
    pub base: NmpuConfig,
    /// (signed, int) of a, b, g, h, affine, batch_norm when unfused (the affine entry is
    /// the widest any candidate needs; each candidate's own is [`Space::affine_int`]).
    pub unfused: [(bool, i32); 6],
    /// (signed, int) of a', b' and the fused result.
    pub fused: [(bool, i32); 3],
    a: Vec<f64>,
    b: Vec<f64>,
    /// Narrower fraction ranges asked for by [`Space::restrict`].
    limits: std::collections::BTreeMap<(bool, usize), (u32, u32)>,
}

/// The smallest `int` (sign bit included) whose format holds every value of magnitude up
/// to `max` (and its sign when `signed`): `max < 2^(int - signed)`.
fn int_bits(max: f64, signed: bool) -> i32 {
    let mut k = -40;
    while (k as f64).exp2() <= max {
        k += 1;
    }
    k + i32::from(signed)
}

/// The smallest signed `int` whose format with `frac` fraction bits holds [lo, hi]:
/// `-2^(int-1) <= lo` and `hi <= 2^(int-1) - 2^-frac`.
fn signed_int_holding(lo: f64, hi: f64, frac: u32) -> i32 {
    let lsb = (-(frac as f64)).exp2();
    let mut k = -40;
    while (k as f64).exp2() < -lo || (k as f64).exp2() - lsb < hi {
        k += 1;
    }
    k + 1
}

fn sign_and_int(vals: &[f64]) -> (bool, i32) {
    let signed = vals.iter().any(|&v| v < 0.0);
    let max = vals.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    (signed, int_bits(max, signed))
}

impl Space {
    pub fn new(base: &NmpuConfig, coeffs: &RealCoeffs) -> Space {
        let xmax = f64::from(1u32 << (base.in_bits - 1));
        let out = &base.output.format;
        // The batch-norm result must reach the output's extremes (its LSB is at most the
        // output's): -2^(int-1) <= min and max + lsb <= 2^(int-1).
        let z = (
            true,
            signed_int_holding(out.min_value(), out.max_value(), out.frac),
        );
        let affine_max = coeffs
            .a
            .iter()
            .zip(&coeffs.b)
            .fold(0.0f64, |m, (a, b)| m.max(a.abs() * xmax + b.abs()));
        let (fa, fb) = coeffs.fused();
        Space {
            a: coeffs.a.clone(),
            b: coeffs.b.clone(),
            limits: Default::default(),
            base: base.clone(),
            unfused: [
                sign_and_int(&coeffs.a),
                sign_and_int(&coeffs.b),
                sign_and_int(&coeffs.g),
                sign_and_int(&coeffs.h),
                (true, int_bits(2.0 * affine_max + 2.0, true)),
                z,
            ],
            fused: [sign_and_int(&fa), sign_and_int(&fb), z],
        }
    }

    /// (signed, int) of knob `i`.
    pub fn int_of(&self, fused: bool, i: usize) -> (bool, i32) {
        if fused {
            match i {
                0 => self.fused[0],
                1 => self.fused[1],
                5 => self.fused[2],
                _ => self.unfused[i],
            }
        } else {
            self.unfused[i]
        }
    }

    /// The fraction bits knob `i` may take: its word between its least width (2 bits signed,
    /// 1 unsigned) and 32 bits; the batch-norm result at least the output's.
    pub fn frac_range(&self, fused: bool, i: usize) -> (u32, u32) {
        let (signed, int) = self.int_of(fused, i);
        let least = 1 + i32::from(signed);
        let mut lo = (least - int).max(0) as u32;
        if i == 5 {
            lo = lo.max(self.base.output.format.frac);
        }
        let mut hi = ((32 - int).clamp(0, 40) as u32).max(lo);
        if let Some(&(l, h)) = self.limits.get(&(fused, i)) {
            lo = lo.max(l).min(hi);
            hi = hi.min(h).max(lo);
        }
        (lo, hi)
    }

    /// Keeps knob `i` of fused or unfused candidates within `lo ..= hi` fraction bits (as
    /// far as its own range allows): a user's limit, or a small space for a test.
    pub fn restrict(&mut self, fused: bool, i: usize, lo: u32, hi: u32) {
        self.limits.insert((fused, i), (lo, hi));
    }

    /// The affine result's integer bits for `a` and `b` in these formats: the range of
    /// `a*x + b` over every column and every ADC code, rounded to `frac` bits.
    pub fn affine_int(&self, a: &QFormat, b: &QFormat, frac: u32) -> i32 {
        let (xlo, xhi) = (
            -f64::from(1u32 << (self.base.in_bits - 1)),
            f64::from(1u32 << (self.base.in_bits - 1)) - 1.0,
        );
        let (mut lo, mut hi) = (0.0f64, 0.0f64);
        for (&ar, &br) in self.a.iter().zip(&self.b) {
            let aq = quantize_real(ar, a).0 as f64 * a.lsb();
            let bq = quantize_real(br, b).0 as f64 * b.lsb();
            for y in [aq * xlo + bq, aq * xhi + bq] {
                lo = lo.min(y);
                hi = hi.max(y);
            }
        }
        // Rounding may move a value up to one LSB of the result.
        let lsb = (-(frac as f64)).exp2();
        signed_int_holding(lo - lsb, hi + lsb, frac)
    }

    /// The config of candidate `k`, or `None` when it is not buildable (an intermediate
    /// wider than the hardware supports).
    pub fn config(&self, k: &Knobs) -> Option<NmpuConfig> {
        let mut c = self.base.clone();
        let fmt = |i: usize| {
            let (signed, int) = self.int_of(k.fused, i);
            QFormat::new(signed, int, k.frac[i])
        };
        let rounding = |floor: bool| {
            if floor {
                Rounding::Floor
            } else {
                Rounding::HalfEven
            }
        };
        c.fuse_affine_bn = k.fused;
        c.coefficients.a = fmt(0);
        c.coefficients.b = fmt(1);
        if !k.fused {
            c.coefficients.g = fmt(2);
            c.coefficients.h = fmt(3);
            let int = self.affine_int(&c.coefficients.a, &c.coefficients.b, k.frac[4]);
            c.affine.format = QFormat::new(true, int, k.frac[4]);
            c.affine.rounding = rounding(k.floor[0]);
            c.affine.overflow = Overflow::Wrap;
        }
        c.batch_norm.format = fmt(5);
        c.batch_norm.rounding = rounding(k.floor[1]);
        c.batch_norm.overflow = Overflow::Saturate;
        c.validate().ok().map(|()| c)
    }

    /// A wide starting point: every used knob at the most fraction bits for which the
    /// config still builds (widest first reduced until it does).
    pub fn widest(&self, fused: bool) -> Option<Knobs> {
        let mut k = Knobs {
            fused,
            frac: [0; 6],
            floor: [false; 2],
        };
        let used = k.used();
        for &i in used {
            k.frac[i] = self.frac_range(fused, i).1.min(24);
        }
        for _ in 0..200 {
            if self.config(&k).is_some() {
                return Some(k);
            }
            // Narrow the knob with the most fraction bits above its floor.
            let &i = used
                .iter()
                .max_by_key(|&&i| k.frac[i] - self.frac_range(fused, i).0)?;
            if k.frac[i] == self.frac_range(fused, i).0 {
                return None;
            }
            k.frac[i] -= 1;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_bits_hold_the_extremes_and_no_more() {
        // Unsigned: 1.5 needs 1 integer bit, 2.0 needs 2; signed adds the sign bit.
        assert_eq!(int_bits(1.5, false), 1);
        assert_eq!(int_bits(2.0, false), 2);
        assert_eq!(int_bits(1.5, true), 2);
        assert_eq!(int_bits(0.1, true), -2); // [-1/8, 1/8) holds 0.1
                                             // int8 output: a batch-norm result of 8 integer bits reaches -128 and 127 at any
                                             // fraction; unsigned 8-bit output needs 9.
        assert_eq!(signed_int_holding(-128.0, 127.0, 0), 8);
        assert_eq!(signed_int_holding(-128.0, 127.0, 6), 8);
        assert_eq!(signed_int_holding(0.0, 255.0, 0), 9);
        assert_eq!(signed_int_holding(-0.5, 0.25, 2), 0);
    }
}
