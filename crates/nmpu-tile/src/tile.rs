//! One crossbar: a weight matrix programmed into differential conductance pairs, inputs
//! as PWM pulses, the analog matrix-vector product with its noise, and a column of ADCs
//! with gain and offset mismatch.
//!
//! Units. A tile normalises its weights by their largest magnitude `w_max` (aihwkit's
//! single-pair mapping: that weight gets `g_max`) and its inputs by `x_max`; the analog
//! output of column `c` is `y_n = sum_r (x_r / x_max) (G+_rc - G-_rc) / g_max`, plus read
//! noise (each device `g + |g| sigma N` per read: for the sum an exact Gaussian of variance
//! `sum_r (x_r / x_max)^2 ((G+ sigma+)^2 + (G- sigma-)^2) / g_max^2`, drawn once per
//! column) and the output noise `out_noise N`. The ADC gives
//! `code = clamp(round(gain_c k y_n + offset_c))`, `k = 2^(adc_bits - 1) / out_bound`.
//! In the caller's units (`y = sum_r W_rc x_r`, weights as given, inputs as codes) a
//! column's ADC is `code = gain y + offset` with the [`AdcTruth`] below.

use crate::device::{drift_nu, drifted, program, read_sigma};
use crate::layer::Matrix;
use crate::params::TileParams;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// Per column, the ADC as a function of the ideal output in the caller's units:
/// `code = gain * y + offset` before rounding, noise and saturation.
#[derive(Clone, Debug, PartialEq)]
pub struct AdcTruth {
    pub gain: Vec<f64>,
    pub offset: Vec<f64>,
}

#[derive(Clone, Debug)]
pub struct Tile {
    params: TileParams,
    rows: usize,
    columns: usize,
    /// The weights as given (row-major, `rows x columns`): the ideal output's.
    weights: Vec<f64>,
    w_max: f64,
    /// After programming (and drift): `(G+ - G-) / g_max`, row-major.
    w: Vec<f64>,
    /// Per device pair, the variance one read adds to `w`.
    read_var: Vec<f64>,
    adc_gain: Vec<f64>,
    adc_offset: Vec<f64>,
    reads: ChaCha8Rng,
    /// The seed the reads' streams derive from (see [`Tile::mvm_draw`]).
    read_seed: u64,
}

/// A standard normal draw.
fn normal(rng: &mut impl Rng) -> f64 {
    rng.sample(StandardNormal)
}

/// The ADC mismatch of `columns` columns: per column a relative gain `1 + adc_gain_sigma
/// N` (clamped to +-30 %) and an offset of `adc_offset_sigma N` of the half range, in
/// codes. The tile model's ADCs and the test bench's cycle-level crossbar both draw theirs
/// here.
pub fn draw_adcs(p: &TileParams, columns: usize, rng: &mut impl Rng) -> (Vec<f64>, Vec<f64>) {
    let gain = (0..columns)
        .map(|_| (1.0 + p.adc_gain_sigma * normal(rng)).clamp(0.7, 1.3))
        .collect();
    let offset = (0..columns)
        .map(|_| p.adc_offset_sigma * p.adc_half() * normal(rng))
        .collect();
    (gain, offset)
}

impl Tile {
    /// Programs `weights` (at most `rows x columns` of `params`; rows are inputs) into a
    /// tile seeded by `seed`: the devices' programming noise and drift, then the ADCs'
    /// mismatch, are drawn from one stream; the reads from another.
    pub fn program(params: &TileParams, weights: &Matrix, seed: u64) -> Result<Tile, String> {
        params.check()?;
        if weights.rows > params.rows || weights.columns > params.columns {
            return Err(format!(
                "a {} x {} weight block does not fit a {} x {} tile",
                weights.rows, weights.columns, params.rows, params.columns
            ));
        }
        if let Some(i) = weights.data.iter().position(|w| !w.is_finite()) {
            return Err(format!(
                "weight [{}][{}] = {} is not a finite number",
                i / weights.columns,
                i % weights.columns,
                weights.data[i]
            ));
        }
        let p = params.clone();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let w_max = weights.data.iter().fold(0.0f64, |m, w| m.max(w.abs()));
        let scale = if w_max > 0.0 { p.g_max / w_max } else { 0.0 };
        let n = weights.data.len();
        let (mut w, mut read_var) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for &x in &weights.data {
            let mut device = |target: f64| {
                let g = program(&p, target, &mut rng);
                let nu = if p.drift {
                    drift_nu(&p, g, &mut rng)
                } else {
                    0.0
                };
                drifted(&p, g, nu)
            };
            let gp = device((x * scale).max(0.0));
            let gm = device((-x * scale).max(0.0));
            w.push((gp - gm) / p.g_max);
            let (sp, sm) = (gp * read_sigma(&p, gp), gm * read_sigma(&p, gm));
            read_var.push((sp * sp + sm * sm) / (p.g_max * p.g_max));
        }
        let (adc_gain, adc_offset) = draw_adcs(&p, weights.columns, &mut rng);
        let mut reads = ChaCha8Rng::seed_from_u64(seed);
        reads.set_stream(1);
        Ok(Tile {
            rows: weights.rows,
            columns: weights.columns,
            weights: weights.data.clone(),
            w_max: if w_max > 0.0 { w_max } else { 1.0 },
            w,
            read_var,
            adc_gain,
            adc_offset,
            reads,
            read_seed: seed,
            params: p,
        })
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn columns(&self) -> usize {
        self.columns
    }

    pub fn params(&self) -> &TileParams {
        &self.params
    }

    fn check_input(&self, x: &[i64]) -> Result<(), String> {
        if x.len() != self.rows {
            return Err(format!(
                "an input of {} codes for a tile of {} rows",
                x.len(),
                self.rows
            ));
        }
        let max = self.params.x_max() as i64;
        if let Some((r, v)) = x.iter().enumerate().find(|(_, &v)| v < -max || v >= max) {
            return Err(format!(
                "input code {v} at row {r} is outside the {}-bit range {} ..= {}",
                self.params.input_bits,
                -max,
                max - 1
            ));
        }
        Ok(())
    }

    /// One analog matrix-vector product of input codes `x` (one per row): the ADC codes
    /// of every column. Each call draws new read and output noise.
    pub fn mvm(&mut self, x: &[i64]) -> Result<Vec<i64>, String> {
        let mut reads = self.reads.clone();
        let codes = self.convert(x, &mut reads);
        self.reads = reads;
        codes
    }

    /// The product of [`Tile::mvm`] with the noise of draw number `draw`: a stream of its
    /// own per draw (stream `draw + 2` of the tile's seed; `mvm` reads stream 1), so the
    /// same draw gives the same standard-normal samples whatever was computed before and
    /// in whichever thread. Two networks that differ only after this tile (two NMPUs)
    /// see the same noise for image `i` when both use draw `i`.
    pub fn mvm_draw(&self, x: &[i64], draw: u64) -> Result<Vec<i64>, String> {
        let mut reads = ChaCha8Rng::seed_from_u64(self.read_seed);
        reads.set_stream(draw.wrapping_add(2));
        self.convert(x, &mut reads)
    }

    /// The product with the read and output noise drawn from `reads` (two standard normals
    /// per column, in column order, whatever `x` is).
    fn convert(&self, x: &[i64], reads: &mut ChaCha8Rng) -> Result<Vec<i64>, String> {
        self.check_input(x)?;
        let p = &self.params;
        let x_max = p.x_max();
        let (mut y, mut var) = (vec![0.0; self.columns], vec![0.0; self.columns]);
        for (r, &xr) in x.iter().enumerate() {
            if xr == 0 {
                continue;
            }
            let xn = xr as f64 / x_max;
            let row = r * self.columns..(r + 1) * self.columns;
            for ((y, v), (w, rv)) in y
                .iter_mut()
                .zip(var.iter_mut())
                .zip(self.w[row.clone()].iter().zip(&self.read_var[row]))
            {
                *y += xn * w;
                *v += xn * xn * rv;
            }
        }
        let k = (f64::from(p.adc_bits) - 1.0).exp2() / p.out_bound;
        let (lo, hi) = p.code_range();
        let codes = (0..self.columns)
            .map(|c| {
                let noise = var[c].sqrt() * normal(reads) + p.out_noise * normal(reads);
                let v = self.adc_gain[c] * k * (y[c] + noise) + self.adc_offset[c];
                (v.round() as i64).clamp(lo, hi)
            })
            .collect();
        Ok(codes)
    }

    /// The ideal output `y_c = sum_r W_rc x_r` in the caller's units: the weights as
    /// given, no device, noise or ADC.
    pub fn ideal(&self, x: &[i64]) -> Result<Vec<f64>, String> {
        self.check_input(x)?;
        let mut y = vec![0.0; self.columns];
        for (r, &xr) in x.iter().enumerate() {
            let row = &self.weights[r * self.columns..(r + 1) * self.columns];
            for (y, w) in y.iter_mut().zip(row) {
                *y += w * xr as f64;
            }
        }
        Ok(y)
    }

    /// Each column's ADC in the caller's units (see [`AdcTruth`]).
    pub fn truth(&self) -> AdcTruth {
        let p = &self.params;
        let k = (f64::from(p.adc_bits) - 1.0).exp2() / p.out_bound;
        let per_unit = k / (self.w_max * p.x_max());
        AdcTruth {
            gain: self.adc_gain.iter().map(|g| g * per_unit).collect(),
            offset: self.adc_offset.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No device or ADC error and no noise: codes are the rounded ideal output times the
    /// nominal gain, worked by hand.
    fn clean() -> TileParams {
        TileParams::default().without_errors()
    }

    #[test]
    fn a_clean_tile_computes_the_product_exactly() {
        // W = [[1, -0.5], [0.25, 2]]: w_max 2. x = [64, -128]: y = [64 - 32, -32 - 256].
        let m = Matrix::new(2, 2, vec![1.0, -0.5, 0.25, 2.0]).unwrap();
        let mut t = Tile::program(&clean(), &m, 1).unwrap();
        assert_eq!(t.ideal(&[64, -128]).unwrap(), vec![32.0, -288.0]);
        // k = 4096 / 12 codes per normalised unit; y_n = y / (w_max x_max) = y / 256.
        let want = |y: f64| (4096.0 / 12.0 * y / 256.0).round() as i64;
        assert_eq!(t.mvm(&[64, -128]).unwrap(), vec![want(32.0), want(-288.0)]);
        let truth = t.truth();
        assert!((truth.gain[0] - 4096.0 / 12.0 / 256.0).abs() < 1e-12);
        assert_eq!(truth.offset, vec![0.0, 0.0]);
    }

    #[test]
    fn codes_saturate_and_inputs_are_checked() {
        let m = Matrix::new(1, 1, vec![1.0]).unwrap();
        let p = TileParams {
            out_bound: 0.5,
            ..clean()
        };
        let mut t = Tile::program(&p, &m, 1).unwrap();
        assert_eq!(t.mvm(&[127]).unwrap(), vec![4095]);
        assert_eq!(t.mvm(&[-128]).unwrap(), vec![-4096]);
        assert!(t
            .mvm(&[128])
            .unwrap_err()
            .contains("outside the 8-bit range"));
        assert!(t
            .mvm(&[1, 2])
            .unwrap_err()
            .contains("2 codes for a tile of 1 rows"));
        let nan = Matrix::new(1, 2, vec![0.5, f64::NAN]).unwrap();
        assert!(Tile::program(&p, &nan, 1)
            .unwrap_err()
            .contains("weight [0][1] = NaN"));
    }

    /// With only the ADC mismatch, codes follow `gain * y + offset` of the truth.
    #[test]
    fn the_truth_describes_the_adcs() {
        let p = TileParams {
            prog_coeff: [0.0; 3],
            read_noise: false,
            out_noise: 0.0,
            ..TileParams::default()
        };
        let m = Matrix::new(3, 4, (0..12).map(|i| f64::from(i) / 7.0 - 0.8).collect()).unwrap();
        let mut t = Tile::program(&p, &m, 9).unwrap();
        let truth = t.truth();
        assert!(
            truth.gain.windows(2).any(|g| g[0] != g[1]),
            "mismatched gains"
        );
        for x in [[100, -20, 3], [-128, 127, 0], [0, 0, 0]] {
            let y = t.ideal(&x).unwrap();
            let codes = t.mvm(&x).unwrap();
            for c in 0..4 {
                let want = (truth.gain[c] * y[c] + truth.offset[c]).round() as i64;
                assert_eq!(codes[c], want, "column {c}");
            }
        }
    }

    /// Reads of one input scatter with the predicted RMS (read noise and output noise),
    /// and the tile is the same for the same seed.
    #[test]
    fn read_noise_has_the_predicted_spread() {
        let p = TileParams {
            adc_gain_sigma: 0.0,
            adc_offset_sigma: 0.0,
            ..TileParams::default()
        };
        let m = Matrix::new(
            64,
            2,
            (0..128)
                .map(|i| ((i * 37 % 23) as f64 - 11.0) / 11.0)
                .collect(),
        )
        .unwrap();
        let mut t = Tile::program(&p, &m, 3).unwrap();
        let x: Vec<i64> = (0..64).map(|i| ((i * 53) % 255) - 127).collect();
        let k = 4096.0 / 12.0;
        let xn: Vec<f64> = x.iter().map(|&v| v as f64 / 128.0).collect();
        let var: f64 = (0..64).map(|r| xn[r] * xn[r] * t.read_var[r * 2]).sum();
        let want = k * (var + p.out_noise * p.out_noise).sqrt();
        let n = 4000;
        let codes: Vec<f64> = (0..n).map(|_| t.mvm(&x).unwrap()[0] as f64).collect();
        let mean = codes.iter().sum::<f64>() / n as f64;
        let sd = (codes.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        assert!(
            (sd / want - 1.0).abs() < 0.05,
            "spread {sd}, predicted {want}"
        );
        assert!(var > 0.0, "read noise contributes");
        let again = Tile::program(&p, &m, 3).unwrap();
        assert_eq!(again.w, t.w);
        assert_ne!(Tile::program(&p, &m, 4).unwrap().w, t.w);
    }

    /// A draw's noise is the draw's: the same codes for the same draw in any order and
    /// after any other product, different draws scatter with the predicted spread, and a
    /// draw's two normals per column do not depend on the input (two inputs, same draw:
    /// the same noise, so their code difference is the noise-free one within rounding).
    #[test]
    fn draws_are_reproducible_and_independent_of_order() {
        let p = TileParams {
            adc_gain_sigma: 0.0,
            adc_offset_sigma: 0.0,
            read_noise: false,
            ..TileParams::default()
        };
        let m = Matrix::new(
            8,
            3,
            (0..24).map(|i| f64::from(i % 5) / 4.0 - 0.5).collect(),
        )
        .unwrap();
        let mut t = Tile::program(&p, &m, 11).unwrap();
        let x: Vec<i64> = (0..8).map(|i| 15 * i - 60).collect();
        let first = t.mvm_draw(&x, 7).unwrap();
        t.mvm(&x).unwrap();
        let _ = t.mvm_draw(&x, 8).unwrap();
        assert_eq!(t.mvm_draw(&x, 7).unwrap(), first);
        let n = 4000u64;
        let codes: Vec<f64> = (0..n)
            .map(|d| t.mvm_draw(&x, d).unwrap()[1] as f64)
            .collect();
        let mean = codes.iter().sum::<f64>() / n as f64;
        let sd = (codes.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        let want = 4096.0 / 12.0 * p.out_noise;
        assert!(
            (sd / want - 1.0).abs() < 0.05,
            "spread {sd}, predicted {want}"
        );
        // Output noise only: the same draw shifts both inputs' analog outputs equally.
        let zero = vec![0i64; 8];
        let (a, b) = (t.mvm_draw(&x, 3).unwrap(), t.mvm_draw(&zero, 3).unwrap());
        let quiet = TileParams {
            out_noise: 0.0,
            ..p.clone()
        };
        let clean = Tile::program(&quiet, &m, 11).unwrap().mvm(&x).unwrap();
        for c in 0..3 {
            let diff = a[c] - b[c];
            assert!(
                (diff - clean[c]).abs() <= 1,
                "column {c}: {diff} vs {}",
                clean[c]
            );
        }
    }
}
