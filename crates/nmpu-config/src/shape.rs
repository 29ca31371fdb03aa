//! Sizes that follow from the configuration alone: the bound on a multiply-add's exact sum
//! (docs/arithmetic.md section 3), which the validator enforces and the lane-area model
//! prices, and the widths of the NMPU's ports, which follow from the validator's limits.
//! Facts about the configuration, not arithmetic: the golden model and the RTL generator
//! each compute their values on their own.

use crate::format::QFormat;
use crate::validate::limits;

/// The shape of one multiply-add `v*k + o -> r`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MacShape {
    /// Fractional bits of the product `v*k`.
    pub product_frac: u32,
    /// Fractional bits the sum is aligned to: the finest of product, offset and result.
    pub frac: u32,
    /// Bits of the product as a two's-complement word.
    pub product_bits: u32,
    /// The bound on the exact aligned sum: the wider aligned operand plus one carry bit
    /// (an unsigned `W`-bit operand counts as `W + 1` signed bits).
    pub sum_bits: u32,
}

impl MacShape {
    pub fn of(v: &QFormat, k: &QFormat, o: &QFormat, r: &QFormat) -> Self {
        let product_frac = v.frac + k.frac;
        let product_bits = v.signed_width() + k.signed_width();
        let frac = product_frac.max(o.frac).max(r.frac);
        let sum_bits =
            (product_bits + frac - product_frac).max(o.signed_width() + frac - o.frac) + 1;
        MacShape {
            product_frac,
            frac,
            product_bits,
            sum_bits,
        }
    }
}

/// Bits needed to index `n` items (at least one).
const fn index_bits(n: u32) -> usize {
    if n <= 1 {
        1
    } else {
        (u32::BITS - (n - 1).leading_zeros()) as usize
    }
}

/// The widths of the NMPU's ports (README, "The generated hardware"), each the largest the
/// limits allow, so one port list serves every configuration.
pub mod ports {
    use super::{index_bits, limits};

    /// One input lane: the widest `in_bits`.
    pub const IN_LANE_BITS: usize = limits::IN_BITS.1 as usize;
    /// One output lane: the widest output format.
    pub const OUT_LANE_BITS: usize = limits::OUTPUT_WIDTH.1 as usize;
    /// A column index (`s_col`, `m_col`, `cfg_col`).
    pub const COL_BITS: usize = index_bits(limits::COLUMNS.1);
    /// The configuration data word: the widest coefficient.
    pub const CFG_DATA_BITS: usize = limits::WIDTH.1 as usize;
    /// The coefficient select `cfg_sel` (a, b, g, h).
    pub const CFG_SEL_BITS: usize = 2;
    /// The widest exact intermediate a stage may need.
    pub const WORD_BITS: usize = limits::INTERMEDIATE_BITS as usize;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_widths_are_the_documented_ones() {
        // The README's port table: s_x 24 x lanes, m_y 16 x lanes, columns 12, data 32.
        assert_eq!(ports::IN_LANE_BITS, 24);
        assert_eq!(ports::OUT_LANE_BITS, 16);
        assert_eq!(ports::COL_BITS, 12);
        assert_eq!(ports::CFG_DATA_BITS, 32);
        assert_eq!(index_bits(1), 1);
        assert_eq!(index_bits(4097), 13);
    }

    /// The bound against brute force over every code pair of small formats: the largest
    /// aligned sum's magnitude fits `sum_bits` signed bits.
    #[test]
    fn the_sum_bound_holds_every_sum_of_small_formats() {
        let formats = [
            QFormat::new(true, 3, 1),
            QFormat::new(false, 2, 2),
            QFormat::new(true, 1, 3),
            QFormat::new(false, 0, 3),
        ];
        for v in &formats {
            for k in &formats {
                for o in &formats {
                    let s = MacShape::of(v, k, o, &QFormat::new(true, 4, 4));
                    let (ps, os) = (s.frac - s.product_frac, s.frac - o.frac);
                    let (lo, hi) = (-(1i64 << (s.sum_bits - 1)), (1i64 << (s.sum_bits - 1)) - 1);
                    for a in v.min_code()..=v.max_code() {
                        for b in k.min_code()..=k.max_code() {
                            for c in [o.min_code(), o.max_code()] {
                                let t = ((a * b) << ps) + (c << os);
                                assert!(
                                    (lo..=hi).contains(&t),
                                    "{v} {k} {o}: {t} in {} bits",
                                    s.sum_bits
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
