//! One PCM device: programming to a target conductance, drift, read noise (aihwkit's
//! PCMLikeNoiseModel, `src/aihwkit/inference/noise/pcm.py`). Conductances in uS.

use crate::params::TileParams;
use rand::Rng;
use rand_distr::StandardNormal;

/// The level a target is programmed to: itself, or the nearest of `levels` evenly spaced
/// levels over `0 ..= g_max`.
pub fn level(p: &TileParams, g_target: f64) -> f64 {
    if p.levels < 2 {
        return g_target;
    }
    let step = p.g_max / f64::from(p.levels - 1);
    (g_target / step).round() * step
}

/// Programming noise RMS at target `g_target`: `(c0 + c1 t + c2 t^2) g_max / 25` with
/// `t = g_target / g_max`.
pub fn prog_sigma(p: &TileParams, g_target: f64) -> f64 {
    let t = g_target / p.g_max;
    let [c0, c1, c2] = p.prog_coeff;
    ((c0 + c1 * t + c2 * t * t) * p.g_max / 25.0).max(0.0)
}

/// The programmed conductance: the target's level plus programming noise, at least 0.
pub fn program(p: &TileParams, g_target: f64, rng: &mut impl Rng) -> f64 {
    let g = level(p, g_target);
    let n: f64 = rng.sample(StandardNormal);
    (g + prog_sigma(p, g) * n).max(0.0)
}

/// A device's drift exponent, drawn once when it is programmed: `|mu + sigma N|` with
/// `mu = clamp(-0.0155 ln g + 0.0244, 0.049, 0.1)`, `sigma = clamp(-0.0125 ln g - 0.0059,
/// 0.008, 0.045)`, `g` the programmed conductance relative to `g_max` (at least 1e-7).
pub fn drift_nu(p: &TileParams, g_prog: f64, rng: &mut impl Rng) -> f64 {
    let ln = (g_prog / p.g_max).max(1e-7).ln();
    let mu = (-0.0155 * ln + 0.0244).clamp(0.049, 0.1);
    let sigma = (-0.0125 * ln - 0.0059).clamp(0.008, 0.045);
    let n: f64 = rng.sample(StandardNormal);
    (mu + sigma * n).abs()
}

/// Seconds since programming at inference: `t0 + t_inference`.
fn t_read_at(p: &TileParams) -> f64 {
    p.t0 + p.t_inference
}

/// The conductance at inference: `g (t / t0)^-nu` with drift on, `g` without.
pub fn drifted(p: &TileParams, g_prog: f64, nu: f64) -> f64 {
    if p.drift {
        g_prog * (t_read_at(p) / p.t0).powf(-nu)
    } else {
        g_prog
    }
}

/// Relative RMS of one read's 1/f noise at conductance `g`: `Q(g) sqrt(ln((t + t_read) /
/// (2 t_read)))` with `Q = min(0.0088 / max((|g| / g_max)^0.65, 1e-3), 0.2)`; 0 with read
/// noise off. A read gives `g + |g| sigma N`.
pub fn read_sigma(p: &TileParams, g: f64) -> f64 {
    if !p.read_noise {
        return 0.0;
    }
    let q = (0.0088 / (g.abs() / p.g_max).powf(0.65).max(1e-3)).min(0.2);
    let t = t_read_at(p);
    q * ((t + p.t_read) / (2.0 * p.t_read)).ln().max(0.0).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn the_aihwkit_curves_at_their_ends() {
        let p = TileParams::default();
        // c0 at g = 0; c0 + c1 + c2 at g_max.
        assert!((prog_sigma(&p, 0.0) - 0.26348).abs() < 1e-12);
        assert!((prog_sigma(&p, 25.0) - (0.26348 + 1.9650 - 1.1731)).abs() < 1e-12);
        // Q = 0.0088 at g_max; at t = 20 s the integral factor is sqrt(ln(20 / 5e-7)).
        let want = 0.0088 * ((20.0 + 250e-9) / 500e-9_f64).ln().sqrt();
        assert!(
            (read_sigma(&p, 25.0) - want).abs() < 1e-12,
            "{}",
            read_sigma(&p, 25.0)
        );
        // Q is capped at 0.2 for tiny conductances.
        assert!((read_sigma(&p, 1e-9) / read_sigma(&p, 25.0) - 0.2 / 0.0088).abs() < 1e-9);
        let off = TileParams {
            read_noise: false,
            ..p.clone()
        };
        assert_eq!(read_sigma(&off, 25.0), 0.0);
    }

    #[test]
    fn levels_drift_and_programming() {
        let p = TileParams {
            levels: 5,
            ..TileParams::default()
        };
        assert_eq!(level(&p, 7.0), 6.25);
        assert_eq!(level(&TileParams::default(), 7.0), 7.0);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let n = 20_000;
        let g: Vec<f64> = (0..n)
            .map(|_| program(&TileParams::default(), 12.5, &mut rng))
            .collect();
        let mean = g.iter().sum::<f64>() / n as f64;
        let sd = (g.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        let want = prog_sigma(&TileParams::default(), 12.5);
        assert!(
            (mean - 12.5).abs() < 4.0 * want / (n as f64).sqrt(),
            "{mean}"
        );
        assert!((sd / want - 1.0).abs() < 0.03, "{sd} vs {want}");
        // Drift lowers a conductance by (t / t0)^-nu; off, it does nothing.
        let d = TileParams {
            drift: true,
            t_inference: 3600.0,
            ..TileParams::default()
        };
        let nu = drift_nu(&d, 12.5, &mut rng);
        assert!(nu > 0.0 && nu < 0.3, "{nu}");
        assert!((drifted(&d, 12.5, nu) - 12.5 * (3620.0_f64 / 20.0).powf(-nu)).abs() < 1e-9);
        assert_eq!(drifted(&TileParams::default(), 12.5, nu), 12.5);
    }
}
