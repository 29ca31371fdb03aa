//! The FP16 baseline (docs/arithmetic.md section 6): IEEE binary16 with an exact,
//! singly rounded fused multiply-add, as the FP16 unit of IBM's 64-core chip computes.

use crate::coeffs::F16Coeffs;
use crate::error::ModelError;
use half::f16;
use nmpu_config::{Activation, NmpuConfig};

const QNAN: u16 = 0x7e00;
const INF: u16 = 0x7c00;
const SIGN: u16 = 0x8000;
/// Every finite binary16 value is an integer multiple of 2^-24; products of two are
/// multiples of 2^-48, the fixed point all exact sums are carried at.
const SUM_FRAC: i32 = 48;

/// A finite binary16 as `(negative, significand, exponent)`: value = ±sig * 2^exp.
fn decode(bits: u16) -> (bool, u64, i32) {
    let neg = bits & SIGN != 0;
    let e = i32::from((bits >> 10) & 0x1f);
    let m = u64::from(bits & 0x3ff);
    if e == 0 {
        (neg, m, -24)
    } else {
        (neg, m | 0x400, e - 25)
    }
}

fn is_nan(bits: u16) -> bool {
    bits & 0x7fff > INF
}

fn is_inf(bits: u16) -> bool {
    bits & 0x7fff == INF
}

fn is_zero(bits: u16) -> bool {
    bits & 0x7fff == 0
}

/// `mag * 2^-48` (mag > 0) rounded once to binary16, ties to even, with sign.
fn round_to_f16(neg: bool, mag: u128) -> u16 {
    let len = 128 - mag.leading_zeros() as i32;
    // Keep 11 significant bits, but never finer than the subnormal quantum 2^-24.
    let mut sh = (len - 11).max(SUM_FRAC - 24);
    let mut q = if sh == 0 {
        mag
    } else {
        let q = mag >> sh;
        let r = mag & ((1u128 << sh) - 1);
        let half = 1u128 << (sh - 1);
        q + u128::from(r > half || (r == half && q & 1 == 1))
    };
    if q == 1 << 11 {
        q = 1 << 10;
        sh += 1;
    }
    let sign = if neg { SIGN } else { 0 };
    if q < 1 << 10 {
        return sign | q as u16; // subnormal (or the smallest normal reached by carry)
    }
    let field = sh - SUM_FRAC + 10 + 15;
    if field >= 31 {
        return sign | INF;
    }
    sign | ((field as u16) << 10) | (q as u16 & 0x3ff)
}

/// `a*b + c` computed exactly and rounded once to binary16 (IEEE 754 fusedMultiplyAdd,
/// round to nearest even). NaN results are the canonical quiet NaN.
pub fn fma(a: f16, b: f16, c: f16) -> f16 {
    f16::from_bits(fma_bits(a.to_bits(), b.to_bits(), c.to_bits()))
}

fn fma_bits(a: u16, b: u16, c: u16) -> u16 {
    if is_nan(a) || is_nan(b) || is_nan(c) {
        return QNAN;
    }
    let prod_neg = (a ^ b) & SIGN != 0;
    if is_inf(a) || is_inf(b) {
        if is_zero(a) || is_zero(b) {
            return QNAN;
        }
        if is_inf(c) && ((c & SIGN != 0) != prod_neg) {
            return QNAN;
        }
        return INF | if prod_neg { SIGN } else { 0 };
    }
    if is_inf(c) {
        return c;
    }
    let (an, am, ae) = decode(a);
    let (bn, bm, be) = decode(b);
    let (cn, cm, ce) = decode(c);
    debug_assert_eq!(an ^ bn, prod_neg);
    let p = i128::from(am * bm) << (ae + be + SUM_FRAC);
    let p = if prod_neg { -p } else { p };
    let q = i128::from(cm) << (ce + SUM_FRAC);
    let q = if cn { -q } else { q };
    let s = p + q;
    if s == 0 {
        // Exact zero: -0 only when both terms are -0 (round to nearest even).
        let both_neg_zero = p == 0 && q == 0 && prod_neg && cn;
        return if both_neg_zero { SIGN } else { 0 };
    }
    round_to_f16(s < 0, s.unsigned_abs())
}

/// An integer ADC code rounded to binary16 (ties to even).
pub fn from_code(x: i64) -> f16 {
    if x == 0 {
        return f16::from_bits(0);
    }
    f16::from_bits(round_to_f16(
        x < 0,
        u128::from(x.unsigned_abs()) << SUM_FRAC,
    ))
}

/// ReLU: anything with the sign bit set (but NaN) becomes +0.
pub fn relu(z: f16) -> f16 {
    let bits = z.to_bits();
    if bits & SIGN != 0 && !is_nan(bits) {
        f16::from_bits(0)
    } else {
        z
    }
}

/// Output code: `round_half_even(z * 2^frac)` saturated to `[min, max]`; NaN gives 0.
pub fn to_code(z: f16, frac: u32, min: i64, max: i64) -> i64 {
    if z.is_nan() {
        return 0;
    }
    // Exact: a binary16 scaled by 2^frac (frac <= 40) is exactly an f64.
    let v = (z.to_f64() * (frac as f64).exp2()).round_ties_even();
    if v <= min as f64 {
        min
    } else if v >= max as f64 {
        max
    } else {
        v as i64
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fp16Trace {
    pub x: f16,
    pub affine: f16,
    pub batch_norm: f16,
    pub activation: f16,
    pub output: i64,
}

#[derive(Clone, Debug)]
pub struct Fp16Model {
    coeffs: F16Coeffs,
    relu: bool,
    out_frac: u32,
    out_min: i64,
    out_max: i64,
}

impl Fp16Model {
    pub fn new(cfg: &NmpuConfig, coeffs: F16Coeffs) -> Result<Self, ModelError> {
        cfg.validate()?;
        let n = cfg.columns as usize;
        for (name, v) in [
            ("a", &coeffs.a),
            ("b", &coeffs.b),
            ("g", &coeffs.g),
            ("h", &coeffs.h),
        ] {
            if v.len() != n {
                return Err(ModelError::Shape(format!(
                    "FP16 coefficient {name} has {} columns, the config has {n}",
                    v.len()
                )));
            }
        }
        let out = &cfg.output.format;
        Ok(Fp16Model {
            coeffs,
            relu: cfg.activation == Activation::Relu,
            out_frac: out.frac,
            out_min: out.min_code(),
            out_max: out.max_code(),
        })
    }

    /// Stage values for ADC code `x` in column `col` (which must be in range).
    pub fn trace(&self, col: usize, x: i64) -> Fp16Trace {
        let c = &self.coeffs;
        let x = from_code(x);
        let affine = fma(c.a[col], x, c.b[col]);
        let batch_norm = fma(c.g[col], affine, c.h[col]);
        let activation = if self.relu {
            relu(batch_norm)
        } else {
            batch_norm
        };
        let output = to_code(activation, self.out_frac, self.out_min, self.out_max);
        Fp16Trace {
            x,
            affine,
            batch_norm,
            activation,
            output,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(v: f64) -> f16 {
        f16::from_f64(v)
    }

    #[test]
    fn fma_rounds_once_where_two_roundings_differ() {
        // a*a = 1 + 2^-9 + 2^-20; plus 2^-11 that is 2.5 ulp + 2^-20 above 1: just
        // above a tie, so the single rounding goes up to 1 + 3 ulp. Rounding the
        // product first loses the 2^-20 and lands exactly on the tie, which goes to
        // the even 1 + 2 ulp.
        let ulp = 2f64.powi(-10);
        let a = h(1.0 + ulp);
        let c = h(2f64.powi(-11));
        assert_eq!(fma(a, a, c).to_f64(), 1.0 + 3.0 * ulp);
        let two_roundings = h(h(a.to_f64() * a.to_f64()).to_f64() + c.to_f64());
        assert_eq!(two_roundings.to_f64(), 1.0 + 2.0 * ulp);
    }

    #[test]
    fn codes_convert_with_ties_to_even() {
        assert_eq!(from_code(2049).to_f64(), 2048.0);
        assert_eq!(from_code(2051).to_f64(), 2052.0);
        assert_eq!(from_code(-4095).to_f64(), -4096.0);
        assert_eq!(from_code(-7).to_f64(), -7.0);
    }

    #[test]
    fn special_values() {
        let inf = f16::INFINITY;
        assert!(fma(inf, h(0.0), h(1.0)).is_nan());
        assert!(fma(inf, h(1.0), f16::NEG_INFINITY).is_nan());
        assert_eq!(fma(inf, h(-2.0), h(1.0)), f16::NEG_INFINITY);
        assert_eq!(fma(h(1.0), h(1.0), inf), inf);
        assert_eq!(fma(h(65504.0), h(2.0), h(0.0)), inf);
        assert_eq!(fma(h(-0.0), h(1.0), h(-0.0)).to_bits(), SIGN);
        assert_eq!(fma(h(1.0), h(1.0), h(-1.0)).to_bits(), 0);
    }

    #[test]
    fn subnormal_results_keep_their_bits() {
        let tiny = f16::from_bits(1); // 2^-24
        assert_eq!(fma(tiny, h(1.0), h(0.0)), tiny);
        // 2^-24 * 0.5 is a tie between 0 and 2^-24: even is 0.
        assert_eq!(fma(tiny, h(0.5), h(0.0)).to_bits(), 0);
        // 3 * 2^-24 * 0.5 = 1.5 quanta: ties to even 2 quanta.
        assert_eq!(fma(f16::from_bits(3), h(0.5), h(0.0)).to_bits(), 2);
    }

    /// docs/arithmetic.md section 6, "Infinite and NaN coefficients", column by column.
    #[test]
    fn infinite_and_nan_coefficients_behave_as_documented() {
        let (inf, nan, one, zero) = (f16::INFINITY, f16::NAN, h(1.0), h(0.0));
        // Columns: NaN a; a = +inf; a = -inf; b = +inf with a = +inf (same sign);
        // b = -inf with a = +inf (opposite infinities).
        let coeffs = F16Coeffs {
            a: vec![nan, inf, -inf, inf, inf],
            b: vec![zero, zero, zero, inf, -inf],
            g: vec![one; 5],
            h: vec![zero; 5],
        };
        for (activation, neg_inf_out) in [("relu", 0), ("none", -128)] {
            let text = format!("columns = 5\nlanes = 5\nactivation = \"{activation}\"");
            let cfg = NmpuConfig::from_toml_str(&text).unwrap();
            let m = Fp16Model::new(&cfg, coeffs.clone()).unwrap();
            let out = |col, x| m.trace(col, x).output;
            assert_eq!(out(0, 7), 0, "NaN coefficient: output 0");
            assert_eq!(out(1, 3), 127, "+inf * 3: the upper limit");
            assert_eq!(out(1, 0), 0, "inf * 0 is NaN: output 0");
            assert_eq!(
                out(2, 3),
                neg_inf_out,
                "-inf: 0 after ReLU, else the lower limit"
            );
            assert_eq!(out(3, 5), 127, "inf + inf");
            assert!(m.trace(4, 5).affine.is_nan(), "inf - inf is NaN");
            assert_eq!(out(4, 5), 0);
        }
    }

    #[test]
    fn output_conversion_saturates_and_rounds_to_even() {
        assert_eq!(to_code(h(2.5), 0, -128, 127), 2);
        assert_eq!(to_code(h(-3.5), 0, -128, 127), -4);
        assert_eq!(to_code(h(1000.0), 0, -128, 127), 127);
        assert_eq!(to_code(f16::NEG_INFINITY, 0, -128, 127), -128);
        assert_eq!(to_code(f16::NAN, 0, -128, 127), 0);
    }
}
