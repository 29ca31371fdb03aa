//! A synthetic, calibrated tile: the data `nmpu compare`, `report`, `tune` and `gen-data`
//! use when given none. A random layer is programmed on the tile model, calibrated per
//! column from its own measurements (the coefficients `a`, `b`), given a random
//! batch-norm (`g`, `h`), and driven with random int8 inputs; the ADC codes of those
//! inputs are the data. The same seed gives the same data on every machine.

use crate::calibrate::{fit, Method};
use crate::layer::{Layer, Matrix};
use crate::params::TileParams;
use nmpu_config::NmpuConfig;
use nmpu_model::RealCoeffs;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// How the synthetic data are made.
#[derive(Clone, Debug)]
pub struct Synthetic {
    pub params: TileParams,
    /// The ideal output's RMS as a fraction of the ADC's full scale (assumption: 0.25,
    /// so that +-4 RMS reach the ADC's ends).
    pub signal_fraction: f64,
    /// Measurements each column is calibrated from.
    pub calibration_rows: usize,
}

/// Calibration measurements: per measurement, the ideal output and the ADC code of every
/// column.
pub type Measurements = (Vec<Vec<f64>>, Vec<Vec<i64>>);

/// Calibrated coefficients and rows of ADC codes.
#[derive(Clone, Debug)]
pub struct SyntheticTile {
    pub coeffs: RealCoeffs,
    pub rows: Vec<Vec<i64>>,
}

impl Synthetic {
    /// The tile model's defaults with `cfg`'s ADC codes: one tile's rows, the config's
    /// columns (split over tiles of the model's columns).
    pub fn for_config(cfg: &NmpuConfig) -> Synthetic {
        Synthetic {
            params: TileParams::for_config(cfg),
            signal_fraction: 0.25,
            calibration_rows: 256,
        }
    }

    /// The tile of `seed`: its layer, and the stream its inputs are drawn from next.
    fn tile(&self, cfg: &NmpuConfig, seed: u64) -> Result<(Layer, ChaCha8Rng), String> {
        let p = &self.params;
        let (n_in, n_out) = (p.rows, cfg.columns as usize);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // Weights whose largest magnitude makes the nominal ADC gain one code per unit of
        // the ideal output, so the ideal output is in nominal ADC codes.
        let k = (f64::from(p.adc_bits) - 1.0).exp2() / p.out_bound;
        let u: Vec<f64> = (0..n_in * n_out)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        let u_max = u.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let w_max = k / p.x_max();
        let weights = Matrix::new(n_in, n_out, u.iter().map(|v| v / u_max * w_max).collect())?;
        let layer = Layer::program(p, &weights, rng.random())?;
        Ok((layer, rng))
    }

    /// A random input: int8 codes whose spread gives the wanted output RMS
    /// (`sd(y_n) = sqrt(rows / 3) sd(x_n)`).
    fn input(&self, rng: &mut ChaCha8Rng) -> Vec<i64> {
        let p = &self.params;
        let s = self.signal_fraction * p.out_bound * p.x_max() / (p.rows as f64 / 3.0).sqrt();
        let x_max = p.x_max() as i64;
        (0..p.rows)
            .map(|_| {
                let v: f64 = rng.sample(StandardNormal);
                ((v * s).round() as i64).clamp(-x_max, x_max - 1)
            })
            .collect()
    }

    /// `n` measurements of the layer: ideal outputs and ADC codes of the next inputs.
    fn measure(
        &self,
        layer: &mut Layer,
        rng: &mut ChaCha8Rng,
        n: usize,
    ) -> Result<Measurements, String> {
        let (mut refs, mut codes) = (vec![], vec![]);
        for _ in 0..n {
            let x = self.input(rng);
            refs.push(layer.ideal(&x)?.swap_remove(0));
            codes.push(layer.mvm(&x)?.swap_remove(0));
        }
        Ok((refs, codes))
    }

    /// `n` calibration measurements of the tile of `seed` (the first
    /// [`Synthetic::calibration_rows`] are those [`Synthetic::generate`] calibrates from).
    pub fn measurements(
        &self,
        cfg: &NmpuConfig,
        n: usize,
        seed: u64,
    ) -> Result<Measurements, String> {
        let (mut layer, mut rng) = self.tile(cfg, seed)?;
        self.measure(&mut layer, &mut rng, n)
    }

    /// `rows` rows of codes for `cfg`, the tile seeded by `seed`.
    pub fn generate(
        &self,
        cfg: &NmpuConfig,
        rows: usize,
        seed: u64,
    ) -> Result<SyntheticTile, String> {
        let p = &self.params;
        let n_out = cfg.columns as usize;
        let (mut layer, mut rng) = self.tile(cfg, seed)?;
        let (refs, codes) = self.measure(&mut layer, &mut rng, self.calibration_rows)?;
        let fits = fit(&refs, &codes, Method::LeastSquares, Some(p.code_range()))
            .map_err(|e| format!("calibrating the synthetic tile: {e}"))?;
        let sigma = self.signal_fraction * (f64::from(p.adc_bits) - 1.0).exp2();
        let out_span = cfg.output.format.max_value().max(1.0);
        let g: Vec<f64> = (0..n_out)
            .map(|_| out_span / (3.0 * sigma) * rng.random_range(0.5..1.5))
            .collect();
        let h: Vec<f64> = (0..n_out)
            .map(|_| 0.1 * out_span * rng.sample::<f64, _>(StandardNormal))
            .collect();
        let coeffs = RealCoeffs {
            a: fits.iter().map(|f| 1.0 / f.gain).collect(),
            b: fits.iter().map(|f| -f.offset / f.gain).collect(),
            g,
            h,
        };
        let rows = (0..rows)
            .map(|_| Ok(layer.mvm(&self.input(&mut rng))?.swap_remove(0)))
            .collect::<Result<_, String>>()?;
        Ok(SyntheticTile { coeffs, rows })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_are_calibrated_codes_of_the_wanted_spread() {
        let cfg = NmpuConfig::from_toml_str("columns = 32\nlanes = 4").unwrap();
        let s = Synthetic::for_config(&cfg);
        let t = s.generate(&cfg, 400, 1).unwrap();
        assert_eq!((t.rows.len(), t.coeffs.columns()), (400, 32));
        // Gains within the ADC's +-30 %: a = 1 / gain near 1 code per unit.
        assert!(
            t.coeffs.a.iter().all(|&a| (0.7..1.5).contains(&a)),
            "{:?}",
            t.coeffs.a
        );
        let codes: Vec<f64> = t.rows.iter().flatten().map(|&c| c as f64).collect();
        let rms = (codes.iter().map(|c| c * c).sum::<f64>() / codes.len() as f64).sqrt();
        assert!(
            (rms / 1024.0 - 1.0).abs() < 0.2,
            "code RMS {rms}, wanted about 1024"
        );
        let again = s.generate(&cfg, 400, 1).unwrap();
        assert_eq!(
            (again.rows, again.coeffs),
            (t.rows.clone(), t.coeffs.clone())
        );
        assert_ne!(s.generate(&cfg, 400, 2).unwrap().rows, t.rows);
        // The calibrated coefficients fit the default formats.
        let (_, report) = nmpu_model::quantize(&cfg, &t.coeffs).unwrap();
        assert!(report.saturated.is_empty(), "{}", report.summary());
    }
}
