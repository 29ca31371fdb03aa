//! The f64 reference (docs/arithmetic.md section 7): real coefficients, no intermediate
//! rounding or saturation.

use crate::coeffs::RealCoeffs;
use crate::error::ModelError;
use nmpu_config::{Activation, NmpuConfig};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RefTrace {
    pub affine: f64,
    pub batch_norm: f64,
    pub activation: f64,
    /// `activation * 2^frac(OUT)`: the output before rounding and saturation.
    pub output_real: f64,
    /// `output_real` rounded half-even and saturated to the output format.
    pub output: i64,
}

#[derive(Clone, Debug)]
pub struct F64Model {
    real: RealCoeffs,
    relu: bool,
    out_scale: f64,
    out_min: i64,
    out_max: i64,
}

impl F64Model {
    pub fn new(cfg: &NmpuConfig, real: RealCoeffs) -> Result<Self, ModelError> {
        cfg.validate()?;
        real.check(cfg)?;
        let out = &cfg.output.format;
        Ok(F64Model {
            real,
            relu: cfg.activation == Activation::Relu,
            out_scale: (out.frac as f64).exp2(),
            out_min: out.min_code(),
            out_max: out.max_code(),
        })
    }

    pub fn out_range(&self) -> (i64, i64) {
        (self.out_min, self.out_max)
    }

    pub fn trace(&self, col: usize, x: i64) -> RefTrace {
        let r = &self.real;
        let affine = r.a[col] * x as f64 + r.b[col];
        let batch_norm = r.g[col] * affine + r.h[col];
        let activation = if self.relu {
            batch_norm.max(0.0)
        } else {
            batch_norm
        };
        let output_real = activation * self.out_scale;
        let output = output_real
            .round_ties_even()
            .clamp(self.out_min as f64, self.out_max as f64) as i64;
        RefTrace {
            affine,
            batch_norm,
            activation,
            output_real,
            output,
        }
    }
}
