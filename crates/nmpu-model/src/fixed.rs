//! The bit-exact fixed-point NMPU (docs/arithmetic.md section 4).

use crate::coeffs::CoeffCodes;
use crate::error::ModelError;
use crate::fast::{align, run_stages, FastMac, FastRequant, Span, Stages};
use crate::stages::{pipeline, Pipeline};
use nmpu_config::{Activation, NmpuConfig, QFormat};

/// Every stage value of one element, for per-stage error reports and debugging.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedTrace {
    /// `None` when the config fuses affine and batch-norm.
    pub affine: Option<i64>,
    pub batch_norm: i64,
    pub activation: i64,
    pub output: i64,
    /// Saturation at affine, batch_norm, requantize.
    pub saturated: [bool; 3],
}

#[derive(Clone, Debug)]
pub struct FixedModel {
    columns: usize,
    x_min: i64,
    x_max: i64,
    stages: Pipeline,
    relu: bool,
    codes: CoeffCodes,
    /// The fast path's affine (unfused only), batch-norm and requantize stages.
    fast: (Option<FastMac>, FastMac, FastRequant),
    /// Coefficients pre-aligned for the fast path: a, b, g, h.
    aligned: [Vec<i64>; 4],
}

impl FixedModel {
    pub fn new(cfg: &NmpuConfig, codes: CoeffCodes) -> Result<Self, ModelError> {
        cfg.validate()?;
        codes.check(cfg)?;
        let x = QFormat::new(true, cfg.in_bits as i32, 0);
        let stages = pipeline(cfg);
        let fast = (
            stages.affine.as_ref().map(FastMac::new),
            FastMac::new(&stages.batch_norm),
            FastRequant::new(&stages.requantize),
        );
        // Each coefficient aligned for the stage that reads it: a and b for affine (fused:
        // a' and b' for batch_norm), g and h for batch_norm.
        let (ab, gh) = match &stages.affine {
            Some(af) => (af, &stages.batch_norm),
            None => (&stages.batch_norm, &stages.batch_norm),
        };
        let aligned = [
            align(&codes.a, ab.product_shift),
            align(&codes.b, ab.offset_shift),
            align(&codes.g, gh.product_shift),
            align(&codes.h, gh.offset_shift),
        ];
        Ok(FixedModel {
            fast,
            aligned,
            columns: cfg.columns as usize,
            x_min: x.min_code(),
            x_max: x.max_code(),
            stages,
            relu: cfg.activation == Activation::Relu,
            codes,
        })
    }

    pub fn codes(&self) -> &CoeffCodes {
        &self.codes
    }

    /// All stage values for ADC code `x` in column `col`.
    pub fn trace(&self, col: usize, x: i64) -> Result<FixedTrace, ModelError> {
        self.check_input(col, x)?;
        let c = &self.codes;
        let bn = &self.stages.batch_norm;
        let (affine, s0, (batch_norm, s1)) = match &self.stages.affine {
            Some(af) => {
                let (y, s0) = af.apply(x, c.a[col], c.b[col]);
                (Some(y), s0, bn.apply(y, c.g[col], c.h[col]))
            }
            None => (None, false, bn.apply(x, c.a[col], c.b[col])),
        };
        let activation = if self.relu {
            batch_norm.max(0)
        } else {
            batch_norm
        };
        let (output, s2) = self.stages.requantize.apply(activation);
        Ok(FixedTrace {
            affine,
            batch_norm,
            activation,
            output,
            saturated: [s0, s1, s2],
        })
    }

    /// Output code of one element.
    #[inline]
    pub fn eval(&self, col: usize, x: i64) -> Result<i64, ModelError> {
        self.check_input(col, x)?;
        Ok(self.eval_unchecked(col, x))
    }

    #[inline(always)]
    fn eval_unchecked(&self, col: usize, x: i64) -> i64 {
        let c = &self.codes;
        let bn = &self.stages.batch_norm;
        let mut z = match &self.stages.affine {
            Some(af) => {
                bn.apply(af.apply(x, c.a[col], c.b[col]).0, c.g[col], c.h[col])
                    .0
            }
            None => bn.apply(x, c.a[col], c.b[col]).0,
        };
        if self.relu {
            z = z.max(0);
        }
        self.stages.requantize.apply(z).0
    }

    /// Runs a stream of codes whose first element belongs to column `first_col`; columns
    /// advance by one per element and wrap at `columns`.
    pub fn run(&self, first_col: usize, xs: &[i64], out: &mut [i64]) -> Result<(), ModelError> {
        if out.len() != xs.len() {
            return Err(ModelError::Shape(format!(
                "output buffer holds {} elements, input has {}",
                out.len(),
                xs.len()
            )));
        }
        self.check_input(first_col, 0)?;
        // The range check runs inside the pipeline's loop (a separate scan first touched
        // the input and cost a quarter of a run); the position is searched only when
        // something was out of range.
        let (mut i, mut col, mut inside) = (0, first_col, true);
        while i < xs.len() {
            let len = (self.columns - col).min(xs.len() - i);
            inside &= self.run_span(col, &xs[i..i + len], &mut out[i..i + len]);
            i += len;
            col = 0;
        }
        if !inside {
            if let Some((i, &x)) = xs
                .iter()
                .enumerate()
                .find(|(_, &x)| x < self.x_min || x > self.x_max)
            {
                return Err(ModelError::InputRange {
                    at: format!("element {i}"),
                    value: x,
                    min: self.x_min,
                    max: self.x_max,
                });
            }
        }
        Ok(())
    }

    /// Columns `col .. col + xs.len()`, all within one row; false when an input is out
    /// of range.
    fn run_span(&self, col: usize, xs: &[i64], out: &mut [i64]) -> bool {
        let [a, b, g, h] = &self.aligned;
        let end = col + xs.len();
        let fused = self.stages.affine.is_none();
        let span = Span {
            a: &a[col..end],
            b: &b[col..end],
            g: if fused { &[] } else { &g[col..end] },
            h: if fused { &[] } else { &h[col..end] },
        };
        let (affine, batch_norm, requantize) = &self.fast;
        let stages = Stages {
            affine: affine.as_ref(),
            batch_norm,
            requantize,
            relu: self.relu,
            x_min: self.x_min,
            x_max: self.x_max,
        };
        run_stages(&stages, span, xs, out)
    }

    fn check_input(&self, col: usize, x: i64) -> Result<(), ModelError> {
        if col >= self.columns {
            return Err(ModelError::Shape(format!(
                "column {col} out of range 0 ..= {}",
                self.columns - 1
            )));
        }
        if x < self.x_min || x > self.x_max {
            return Err(ModelError::InputRange {
                at: format!("column {col}"),
                value: x,
                min: self.x_min,
                max: self.x_max,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coeffs::{quantize, RealCoeffs};

    /// The stream's range check: the extreme codes pass, one beyond either end and the
    /// extreme i64 values fail at the right element.
    #[test]
    fn run_rejects_exactly_the_codes_outside_the_input_format() {
        let cfg = NmpuConfig::from_toml_str("columns = 4\nlanes = 1\nin_bits = 8\n").unwrap();
        let g = RealCoeffs::identity(4);
        let m = FixedModel::new(&cfg, quantize(&cfg, &g).unwrap().0).unwrap();
        let mut out = [0i64; 6];
        m.run(0, &[-128, 127, 0, -1, 1, 5], &mut out).unwrap();
        for bad in [-129, 128, i64::MIN, i64::MAX] {
            let xs = [0, 1, 2, bad, 4, 5];
            match m.run(0, &xs, &mut out) {
                Err(ModelError::InputRange { at, value, .. }) => {
                    assert_eq!((at.as_str(), value), ("element 3", bad));
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
