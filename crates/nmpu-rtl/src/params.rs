//! What the hardware needs to know, derived from the configuration by the RTL side's own
//! reading of docs/arithmetic.md. Deliberately not shared with the golden model: the
//! co-simulation is only a check if the two sides compute independently.

use crate::range::Range;
use nmpu_config::{Activation, NmpuConfig, Overflow, QFormat, Rounding, StageConfig};

pub use nmpu_config::ports::{CFG_DATA_BITS, COL_BITS, IN_LANE_BITS, OUT_LANE_BITS};

/// Width of the words that carry values between the datapath's exact-width blocks: each
/// block uses only the low bits its range needs (the rest is a sign or zero extension), so
/// the wide word costs nothing. Holds any exact sum (the validator bounds them).
pub const WORD: usize = nmpu_config::ports::WORD_BITS;

/// Rounding and fitting of an exact value (range `input`) into a result format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuantParams {
    pub shift: u32,
    pub rounding: Rounding,
    pub overflow: Overflow,
    pub format: QFormat,
    /// Every value the stage's exact input can take.
    pub input: Range,
}

/// `round_shift(v, s, mode)` of docs/arithmetic.md section 2 (for bounds and rust-hdl's
/// simulation of the exact blocks).
pub fn round_shift(v: i128, s: u32, mode: Rounding) -> i128 {
    if s == 0 {
        return v;
    }
    let q = v >> s;
    let r = v - (q << s);
    let half = 1i128 << (s - 1);
    let up = match mode {
        Rounding::Floor => false,
        Rounding::HalfUp => r >= half,
        Rounding::HalfEven => r > half || (r == half && q & 1 == 1),
        Rounding::HalfAway => r > half || (r == half && v >= 0),
    };
    q + i128::from(up)
}

impl QuantParams {
    fn new(shift: u32, stage: &StageConfig, input: Range) -> Self {
        QuantParams {
            shift,
            // With nothing shifted out every rounding mode is the identity.
            rounding: if shift == 0 {
                Rounding::Floor
            } else {
                stage.rounding
            },
            overflow: stage.overflow,
            format: stage.format,
            input,
        }
    }

    /// The rounded values before fitting: rounding is monotonic, so the ends map to the ends.
    pub fn rounded(&self) -> Range {
        Range::new(
            round_shift(self.input.lo, self.shift, self.rounding),
            round_shift(self.input.hi, self.shift, self.rounding),
        )
    }

    pub fn codes(&self) -> Range {
        Range::of_format(&self.format)
    }

    /// Saturation at the top (bottom) is only built when a rounded value can pass it.
    pub fn saturates_high(&self) -> bool {
        self.overflow == Overflow::Saturate && self.rounded().hi > self.codes().hi
    }

    pub fn saturates_low(&self) -> bool {
        self.overflow == Overflow::Saturate && self.rounded().lo < self.codes().lo
    }

    /// Whether wrapping changes any value (else the rounded value is the result).
    pub fn wraps(&self) -> bool {
        self.overflow == Overflow::Wrap && !self.codes().contains(self.rounded())
    }

    /// Every result the stage can give.
    pub fn output(&self) -> Range {
        let r = self.rounded();
        match self.overflow {
            Overflow::Saturate => r.clamp_to(self.codes()),
            Overflow::Wrap if self.wraps() => self.codes(),
            Overflow::Wrap => r,
        }
    }

    /// The stage's function on one value (rust-hdl's simulation of the exact blocks).
    pub fn apply(&self, t: i128) -> i128 {
        let r = round_shift(t, self.shift, self.rounding);
        let c = self.codes();
        match self.overflow {
            Overflow::Saturate => r.clamp(c.lo, c.hi),
            Overflow::Wrap => {
                let w = self.format.width();
                let low = r & ((1i128 << w) - 1);
                if self.format.signed && low >= 1i128 << (w - 1) {
                    low - (1i128 << w)
                } else {
                    low
                }
            }
        }
    }
}

/// One multiply-add stage `v*k + o`, with the range of every operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MacParams {
    /// The input value: ADC codes, or the previous stage's results.
    pub v: Range,
    /// The coefficient and the offset: every code of their formats (low bits of a bank word).
    pub k: QFormat,
    pub o: QFormat,
    pub product_shift: u32,
    pub offset_shift: u32,
    /// Rounding of the exact sum; its input range is the sum's.
    pub quant: QuantParams,
}

impl MacParams {
    fn new(v: Range, v_frac: u32, k: &QFormat, o: &QFormat, r: &StageConfig) -> Self {
        let prod_frac = v_frac + k.frac;
        let frac = prod_frac.max(o.frac).max(r.format.frac);
        let (product_shift, offset_shift) = (frac - prod_frac, frac - o.frac);
        let sum = v
            .times(Range::of_format(k))
            .scaled(product_shift)
            .plus(Range::of_format(o).scaled(offset_shift));
        MacParams {
            v,
            k: *k,
            o: *o,
            product_shift,
            offset_shift,
            quant: QuantParams::new(frac - r.format.frac, r, sum),
        }
    }

    pub fn product(&self) -> Range {
        self.v.times(Range::of_format(&self.k))
    }

    /// The exact aligned sum `t`.
    pub fn sum(&self) -> Range {
        self.quant.input
    }

    pub fn result(&self) -> Range {
        self.quant.output()
    }
}

/// The final stage: activation, alignment to the output fraction, quantization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequantParams {
    /// The batch-norm (or fused) result.
    pub z: Range,
    pub relu: bool,
    pub align_shift: u32,
    /// Its input range is the activation's, aligned.
    pub quant: QuantParams,
}

/// The values after the activation (ReLU when `relu`) of values in `z`.
fn activation(z: Range, relu: bool) -> Range {
    if relu {
        z.max(0)
    } else {
        z
    }
}

impl RequantParams {
    /// The activation's values, before alignment.
    pub fn activation(&self) -> Range {
        activation(self.z, self.relu)
    }
}

/// Everything the generator needs, in hardware terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NmpuParams {
    pub columns: u32,
    pub lanes: u32,
    pub in_bits: u32,
    /// Entries per lane bank: `columns / lanes`.
    pub depth: u32,
    /// `col / lanes == (col * div_mul) >> div_shift` for every column index.
    pub div_mul: u32,
    pub div_shift: u32,
    pub fused: bool,
    /// Formats of the stored coefficients a, b, g, h (fused: a', b'; g and h unused).
    pub coeff_formats: [QFormat; 4],
    /// `y = a*x + b`; absent when fused.
    pub affine: Option<MacParams>,
    /// `z = g*y + h`, or when fused `z = a'*x + b'`.
    pub batch_norm: MacParams,
    pub requantize: RequantParams,
}

impl NmpuParams {
    pub fn new(cfg: &NmpuConfig) -> Self {
        let c = &cfg.coefficients;
        let x = Range::of_format(&QFormat::new(true, cfg.in_bits as i32, 0));
        let (affine, batch_norm) = if cfg.fuse_affine_bn {
            (None, MacParams::new(x, 0, &c.a, &c.b, &cfg.batch_norm))
        } else {
            let y = MacParams::new(x, 0, &c.a, &c.b, &cfg.affine);
            let y_frac = cfg.affine.format.frac;
            (
                Some(y),
                MacParams::new(y.result(), y_frac, &c.g, &c.h, &cfg.batch_norm),
            )
        };
        let z = &cfg.batch_norm.format;
        let out_frac = cfg.output.format.frac;
        let frac = z.frac.max(out_frac);
        let relu = cfg.activation == Activation::Relu;
        let z_range = batch_norm.result();
        let align_shift = frac - z.frac;
        let requantize = RequantParams {
            z: z_range,
            relu,
            align_shift,
            quant: QuantParams::new(
                frac - out_frac,
                &cfg.output,
                activation(z_range, relu).scaled(align_shift),
            ),
        };
        let lanes = cfg.lanes;
        let div_shift = COL_BITS as u32 + lanes.next_power_of_two().trailing_zeros();
        let div_mul = (1u32 << div_shift).div_ceil(lanes);
        NmpuParams {
            columns: cfg.columns,
            lanes,
            in_bits: cfg.in_bits,
            depth: cfg.columns / lanes,
            div_mul,
            div_shift,
            fused: cfg.fuse_affine_bn,
            coeff_formats: [c.a, c.b, c.g, c.h],
            affine,
            batch_norm,
            requantize,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_by_lanes_is_exact_for_every_column_index() {
        for lanes in 1..=64u32 {
            let cfg = NmpuConfig {
                columns: lanes * (4096 / lanes),
                lanes,
                ..NmpuConfig::default()
            };
            let p = NmpuParams::new(&cfg);
            assert!(
                p.div_mul < 1 << 16,
                "lanes {lanes}: multiplier fits 16 bits"
            );
            for col in 0..4096u32 {
                assert_eq!(
                    (col * p.div_mul) >> p.div_shift,
                    col / lanes,
                    "lanes {lanes} col {col}"
                );
            }
        }
    }
}
