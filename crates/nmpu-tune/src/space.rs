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
use nmpu_model::RealCoeffs;
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

/// Integer bits a coefficient format gets beyond what the tuning tiles' largest
/// coefficient needs: the format holds twice the largest magnitude seen, so a tile the
/// search did not see, whose coefficients come from the same spread, still fits.
pub const HEADROOM_BITS: i32 = 1;

/// Integer parts fixed by range analysis, and the fraction ranges, for one base config
/// and the coefficients of the tiles it is tuned for.
#[derive(Clone, Debug)]
pub struct Space {
    pub base: NmpuConfig,
    /// (signed, int) of a, b, g, h, affine, batch_norm when unfused (the affine entry is
    /// the widest any candidate needs; each candidate's own is [`Space::affine_int`]).
    pub unfused: [(bool, i32); 6],
    /// (signed, int) of a', b' and the fused result.
    pub fused: [(bool, i32); 3],
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

/// The sign and integer bits a format needs for `vals` (with [`HEADROOM_BITS`] more), or
/// an error naming the value no format of the hardware could hold.
fn sign_and_int(name: &str, sets: &[&[f64]]) -> Result<(bool, i32), String> {
    let mut signed = false;
    let mut max = 0.0f64;
    for (t, vals) in sets.iter().enumerate() {
        for (c, &v) in vals.iter().enumerate() {
            // A format of at most 32 bits with its LSB at most 2^-0 reaches 2^31.
            if !v.is_finite() || v.abs() >= 2f64.powi(31) {
                let tile = if sets.len() > 1 {
                    format!(" of tile {t}")
                } else {
                    String::new()
                };
                return Err(format!(
                    "coefficient {name}[{c}]{tile} = {v}: no coefficient format of at most {} \
                     bits holds it; check the coefficient file or the calibration",
                    nmpu_config::limits::WIDTH.1
                ));
            }
            signed |= v < 0.0;
            max = max.max(v.abs());
        }
    }
    Ok((signed, int_bits(max, signed) + HEADROOM_BITS))
}

impl Space {
    /// The space of `base`'s candidates for coefficient sets `coeffs` (one per tuning
    /// tile): each coefficient's integer bits hold the largest of every set with
    /// [`HEADROOM_BITS`] to spare; an impossible coefficient is an error naming it.
    pub fn new(base: &NmpuConfig, coeffs: &[&RealCoeffs]) -> Result<Space, String> {
        let out = &base.output.format;
        // The batch-norm result must reach the output's extremes (its LSB is at most the
        // output's): -2^(int-1) <= min and max + lsb <= 2^(int-1).
        let z = (
            true,
            signed_int_holding(out.min_value(), out.max_value(), out.frac),
        );
        let pick = |f: fn(&RealCoeffs) -> &Vec<f64>| -> Vec<&[f64]> {
            coeffs.iter().map(|k| f(k).as_slice()).collect()
        };
        let folded: Vec<(Vec<f64>, Vec<f64>)> = coeffs.iter().map(|k| k.fused()).collect();
        let fa: Vec<&[f64]> = folded.iter().map(|f| f.0.as_slice()).collect();
        let fb: Vec<&[f64]> = folded.iter().map(|f| f.1.as_slice()).collect();
        let a = sign_and_int("a", &pick(|k| &k.a))?;
        let b = sign_and_int("b", &pick(|k| &k.b))?;
        let mut space = Space {
            limits: Default::default(),
            base: base.clone(),
            unfused: [
                a,
                b,
                sign_and_int("g", &pick(|k| &k.g))?,
                sign_and_int("h", &pick(|k| &k.h))?,
                (true, 0),
                z,
            ],
            fused: [
                sign_and_int("a' = a*g", &fa)?,
                sign_and_int("b' = b*g + h", &fb)?,
                z,
            ],
        };
        // The widest affine result: the formats at their most fraction bits.
        let fine = |(signed, int): (bool, i32)| QFormat::new(signed, int, 40 - int.max(0) as u32);
        space.unfused[4] = (true, space.affine_int(&fine(a), &fine(b), 0));
        Ok(space)
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
    /// `a*x + b` over every value the formats hold and every ADC code, rounded to `frac`
    /// bits. From the formats, not from the tuning tiles' coefficients: any coefficient a
    /// written config accepts gives a result that fits, so the result never wraps.
    pub fn affine_int(&self, a: &QFormat, b: &QFormat, frac: u32) -> i32 {
        let (xlo, xhi) = (
            -f64::from(1u32 << (self.base.in_bits - 1)),
            f64::from(1u32 << (self.base.in_bits - 1)) - 1.0,
        );
        let (mut lo, mut hi) = (0.0f64, 0.0f64);
        for aq in [a.min_value(), a.max_value()] {
            for bq in [b.min_value(), b.max_value()] {
                for y in [aq * xlo + bq, aq * xhi + bq] {
                    lo = lo.min(y);
                    hi = hi.max(y);
                }
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
