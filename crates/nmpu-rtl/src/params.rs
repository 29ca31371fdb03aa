//! What the hardware needs to know, derived from the configuration by the RTL side's own
//! reading of docs/arithmetic.md. Deliberately not shared with the golden model: the
//! co-simulation is only a check if the two sides compute independently.

use nmpu_config::{Activation, NmpuConfig, Overflow, QFormat, Rounding, StageConfig};

/// Width of the datapath words that carry stage values and coefficients (two's
/// complement, sign-extended): holds any 33-bit signed value and three 15/16-bit limbs.
pub const VALUE_BITS: usize = 46;
/// Width of the exact multiply-add sums.
pub const SUM_BITS: usize = 64;
/// Width of an input lane: the largest `in_bits`.
pub const IN_LANE_BITS: usize = 24;
/// Width of an output lane: the largest output format.
pub const OUT_LANE_BITS: usize = 16;
/// Width of column indices (columns <= 4096).
pub const COL_BITS: usize = 12;
/// Width of the configuration data word (coefficients <= 32 bits).
pub const CFG_DATA_BITS: usize = 32;

/// Rounding and fitting of an exact sum into a result format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuantParams {
    pub shift: u32,
    pub rounding: Rounding,
    pub overflow: Overflow,
    pub format: QFormat,
}

impl QuantParams {
    fn new(shift: u32, stage: &StageConfig) -> Self {
        QuantParams {
            // With nothing shifted out every rounding mode is the identity.
            shift,
            rounding: if shift == 0 {
                Rounding::Floor
            } else {
                stage.rounding
            },
            overflow: stage.overflow,
            format: stage.format,
        }
    }

    pub fn min_code(&self) -> i64 {
        if self.format.signed {
            -(1i64 << (self.format.width() - 1))
        } else {
            0
        }
    }

    pub fn max_code(&self) -> i64 {
        if self.format.signed {
            (1i64 << (self.format.width() - 1)) - 1
        } else {
            ((1u64 << self.format.width()) - 1) as i64
        }
    }
}

/// One multiply-add stage `v*k + o`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MacParams {
    /// 16-bit limbs the signed operand needs (1 ..= 3): the multiplier is built from
    /// `v_limbs * k_limbs` 16x16 signed products.
    pub v_limbs: u32,
    pub k_limbs: u32,
    pub product_shift: u32,
    pub offset_shift: u32,
    pub quant: QuantParams,
}

fn signed_bits(f: &QFormat) -> u32 {
    f.width() + u32::from(!f.signed)
}

/// Limbs for a two's-complement operand of `bits`: the top limb is a signed 16-bit slice,
/// the ones below it unsigned 15-bit slices.
fn limbs(bits: u32) -> u32 {
    if bits <= 16 {
        1
    } else {
        1 + (bits - 16).div_ceil(15)
    }
}

impl MacParams {
    fn new(v: &QFormat, k: &QFormat, o: &QFormat, r: &StageConfig) -> Self {
        let prod_frac = v.frac + k.frac;
        let frac = prod_frac.max(o.frac).max(r.format.frac);
        MacParams {
            v_limbs: limbs(signed_bits(v)),
            k_limbs: limbs(signed_bits(k)),
            product_shift: frac - prod_frac,
            offset_shift: frac - o.frac,
            quant: QuantParams::new(frac - r.format.frac, r),
        }
    }
}

/// The final stage: activation, alignment to the output fraction, quantization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequantParams {
    pub relu: bool,
    pub align_shift: u32,
    pub quant: QuantParams,
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
    /// Formats of the stored coefficients a, b, g, h.
    pub coeff_formats: [QFormat; 4],
    pub affine: MacParams,
    /// Unused (bypassed) when fused.
    pub batch_norm: MacParams,
    pub requantize: RequantParams,
}

impl NmpuParams {
    pub fn new(cfg: &NmpuConfig) -> Self {
        let c = &cfg.coefficients;
        let x = QFormat::new(true, cfg.in_bits as i32, 0);
        let (affine, batch_norm) = if cfg.fuse_affine_bn {
            let m = MacParams::new(&x, &c.a, &c.b, &cfg.batch_norm);
            (m, m)
        } else {
            (
                MacParams::new(&x, &c.a, &c.b, &cfg.affine),
                MacParams::new(&cfg.affine.format, &c.g, &c.h, &cfg.batch_norm),
            )
        };
        let z = &cfg.batch_norm.format;
        let out_frac = cfg.output.format.frac;
        let frac = z.frac.max(out_frac);
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
            requantize: RequantParams {
                relu: cfg.activation == Activation::Relu,
                align_shift: frac - z.frac,
                quant: QuantParams::new(frac - out_frac, &cfg.output),
            },
        }
    }
}

// rust-hdl emits a `get_bit` index verbatim, so kernels write the sign bit of a value
// word as the literal 45; this keeps that literal honest.
const _: () = assert!(VALUE_BITS == 46);

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

    #[test]
    fn limb_counts() {
        assert_eq!(limbs(16), 1);
        assert_eq!(limbs(17), 2);
        assert_eq!(limbs(31), 2);
        assert_eq!(limbs(32), 3);
        assert_eq!(limbs(33), 3);
    }
}
