//! The data a search is judged on, with the f64 reference's outputs computed once.

use anyhow::{ensure, Context, Result};
use nmpu_config::NmpuConfig;
use nmpu_model::{F64Model, Fp16Model, RealCoeffs};

/// Real coefficients and rows of ADC codes, flattened row-major, with what the exact
/// (f64) NMPU outputs for each element under `cfg`'s output format and activation.
#[derive(Clone, Debug)]
pub struct TuneData {
    pub coeffs: RealCoeffs,
    pub columns: usize,
    /// ADC codes, row after row (element `i` belongs to column `i % columns`).
    pub xs: Vec<i64>,
    /// The reference's real output, clamped to the output range, in output LSBs.
    pub real: Vec<f64>,
    /// The reference's output code (the real output rounded half-even and saturated): what
    /// an NMPU with no error of its own emits (an output code is at most 16 bits: 32 bits
    /// here halve the memory a search streams through for it).
    pub code: Vec<i32>,
    /// Mean squared error of `code` against `real`: the output rounding every NMPU has.
    pub exact_mse: f64,
    /// Output LSBs per ADC LSB, per column: `|a * g| * 2^frac(OUT)`, to refer input noise
    /// to the output.
    pub gain: Vec<f64>,
}

impl TuneData {
    /// `rows` of `cfg.columns` ADC codes each, judged under `cfg`'s output format and
    /// activation (the parts of the config a search does not change).
    pub fn new(cfg: &NmpuConfig, coeffs: RealCoeffs, rows: &[Vec<i64>]) -> Result<Self> {
        let reference = F64Model::new(cfg, coeffs.clone()).context("the f64 reference")?;
        let columns = cfg.columns as usize;
        let (lo, hi) = reference.out_range();
        let (mut xs, mut real, mut code) = (vec![], vec![], vec![]);
        nmpu_model::data::check_rows(cfg, rows)?;
        for row in rows {
            for (col, &x) in row.iter().enumerate() {
                let t = reference.trace(col, x);
                xs.push(x);
                real.push(t.output_real.clamp(lo as f64, hi as f64));
                code.push(t.output as i32);
            }
        }
        ensure!(
            !xs.is_empty(),
            "no data: at least one row of ADC codes is needed"
        );
        let exact_mse = code
            .iter()
            .zip(&real)
            .map(|(&c, &r)| (c as f64 - r).powi(2))
            .sum::<f64>()
            / xs.len() as f64;
        let scale = (cfg.output.format.frac as f64).exp2();
        let gain = (0..columns)
            .map(|c| (coeffs.a[c] * coeffs.g[c]).abs() * scale)
            .collect();
        Ok(TuneData {
            coeffs,
            columns,
            xs,
            real,
            code,
            exact_mse,
            gain,
        })
    }

    pub fn elements(&self) -> usize {
        self.xs.len()
    }

    /// The output-referred RMS of an analog noise of `sigma_adc` ADC LSBs RMS on every
    /// column's code (before the NMPU's gain and batch-norm scale).
    pub fn noise_rms_out(&self, sigma_adc: f64) -> f64 {
        let n = self.gain.len() as f64;
        sigma_adc * (self.gain.iter().map(|g| g * g).sum::<f64>() / n).sqrt()
    }

    /// The FP16 baseline's outputs on this data (binary16 coefficients, as the chip).
    pub fn fp16_outputs(&self, cfg: &NmpuConfig) -> Result<Vec<i64>> {
        let (f16c, _) = nmpu_model::to_f16(cfg, &self.coeffs)?;
        let m = Fp16Model::new(cfg, f16c)?;
        Ok(self
            .xs
            .iter()
            .enumerate()
            .map(|(i, &x)| m.trace(i % self.columns, x).output)
            .collect())
    }
}
