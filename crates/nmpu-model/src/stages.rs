//! The stages of docs/arithmetic.md sections 3 and 4, with the names the RTL uses.

use crate::primitives::Quantize;
use nmpu_config::{NmpuConfig, QFormat, StageConfig};

/// A multiply-add stage `v*k + o -> result` with its alignment shifts precomputed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MacStage {
    /// Left shift that aligns the product `v*k` to the sum's fraction.
    pub product_shift: u32,
    /// Left shift that aligns the offset `o` to the sum's fraction.
    pub offset_shift: u32,
    pub quantize: Quantize,
}

impl MacStage {
    pub fn new(v: &QFormat, k: &QFormat, o: &QFormat, result: &StageConfig) -> Self {
        let prod_frac = v.frac + k.frac;
        let f = prod_frac.max(o.frac).max(result.format.frac);
        MacStage {
            product_shift: f - prod_frac,
            offset_shift: f - o.frac,
            quantize: Quantize::for_stage(f - result.format.frac, result),
        }
    }

    /// The exact aligned sum `t` (never overflows for a validated config).
    #[inline(always)]
    pub fn exact_sum(&self, v: i64, k: i64, o: i64) -> i64 {
        ((v * k) << self.product_shift) + (o << self.offset_shift)
    }

    #[inline(always)]
    pub fn apply(&self, v: i64, k: i64, o: i64) -> (i64, bool) {
        self.quantize.apply(self.exact_sum(v, k, o))
    }
}

/// The final `requantize` stage: align to `max(frac(Z), frac(OUT))`, then quantize.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requantize {
    pub align_shift: u32,
    pub quantize: Quantize,
}

impl Requantize {
    pub fn new(z: &QFormat, out: &StageConfig) -> Self {
        let f = z.frac.max(out.format.frac);
        Requantize {
            align_shift: f - z.frac,
            quantize: Quantize::for_stage(f - out.format.frac, out),
        }
    }

    #[inline(always)]
    pub fn apply(&self, z: i64) -> (i64, bool) {
        self.quantize.apply(z << self.align_shift)
    }
}

/// The stages of a config's pipeline (docs/arithmetic.md section 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pipeline {
    /// `y = MAC(x, a, b)`; absent when fused.
    pub affine: Option<MacStage>,
    /// `z = MAC(y, g, h)`, or fused `z = MAC(x, a', b')` (the coefficients in `a`, `b`).
    pub batch_norm: MacStage,
    /// Configured by the config's `output` table (the output code's format).
    pub requantize: Requantize,
}

pub fn pipeline(cfg: &NmpuConfig) -> Pipeline {
    let c = &cfg.coefficients;
    let x = QFormat::new(true, cfg.in_bits as i32, 0);
    let (affine, batch_norm) = if cfg.fuse_affine_bn {
        (None, MacStage::new(&x, &c.a, &c.b, &cfg.batch_norm))
    } else {
        (
            Some(MacStage::new(&x, &c.a, &c.b, &cfg.affine)),
            MacStage::new(&cfg.affine.format, &c.g, &c.h, &cfg.batch_norm),
        )
    };
    Pipeline {
        affine,
        batch_norm,
        requantize: Requantize::new(&cfg.batch_norm.format, &cfg.output),
    }
}
