//! A seeded synthetic AIMC tile: per-column ADC gain and offset errors, their calibrated
//! correction, batch-norm parameters and ADC codes. The same seed gives the same data on
//! every machine (ChaCha8).

use crate::coeffs::RealCoeffs;
use nmpu_config::NmpuConfig;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Statistics of the synthetic tile; the defaults resemble a calibrated PCM tile.
#[derive(Clone, Debug)]
pub struct TileModel {
    /// Standard deviation of the per-column ADC gain error (relative).
    pub gain_sigma: f64,
    /// Standard deviation of the per-column ADC offset, in ADC LSBs.
    pub offset_sigma: f64,
    /// Standard deviation of the ideal MVM result, as a fraction of the ADC full scale.
    pub signal_fraction: f64,
}

impl Default for TileModel {
    fn default() -> Self {
        TileModel {
            gain_sigma: 0.05,
            offset_sigma: 20.0,
            signal_fraction: 0.25,
        }
    }
}

/// A generated tile: true errors, the correcting coefficients and input rows.
#[derive(Clone, Debug)]
pub struct SyntheticTile {
    pub coeffs: RealCoeffs,
    pub rows: Vec<Vec<i64>>,
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box-Muller; 1 - u keeps the logarithm finite.
    let u: f64 = 1.0 - rng.random::<f64>();
    let v: f64 = rng.random::<f64>();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

impl TileModel {
    pub fn generate(&self, cfg: &NmpuConfig, rows: usize, seed: u64) -> SyntheticTile {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = cfg.columns as usize;
        let full = (1i64 << (cfg.in_bits - 1)) as f64;
        let sigma = self.signal_fraction * full;
        let gain: Vec<f64> = (0..n)
            .map(|_| (1.0 + self.gain_sigma * normal(&mut rng)).clamp(0.7, 1.3))
            .collect();
        let offset: Vec<f64> = (0..n)
            .map(|_| self.offset_sigma * normal(&mut rng))
            .collect();
        // Batch-norm maps +-3 sigma of the corrected signal onto the output range.
        let out_span = cfg.output.format.max_value().max(1.0);
        let g: Vec<f64> = (0..n)
            .map(|_| out_span / (3.0 * sigma) * rng.random_range(0.5..1.5))
            .collect();
        let h: Vec<f64> = (0..n).map(|_| 0.1 * out_span * normal(&mut rng)).collect();
        let coeffs = RealCoeffs {
            a: gain.iter().map(|k| 1.0 / k).collect(),
            b: gain.iter().zip(&offset).map(|(k, o)| -o / k).collect(),
            g,
            h,
        };
        let rows = (0..rows)
            .map(|_| {
                (0..n)
                    .map(|c| {
                        let ideal = sigma * normal(&mut rng);
                        let raw = (gain[c] * ideal + offset[c]).round();
                        raw.clamp(-full, full - 1.0) as i64
                    })
                    .collect()
            })
            .collect();
        SyntheticTile { coeffs, rows }
    }
}
