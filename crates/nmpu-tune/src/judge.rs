//! How a candidate is judged: on every tuning tile, each with the budgets made concrete
//! on its own data. A tile's usage is its worst metric over its limit (at most 1 within
//! the budget); the candidate meets the budgets when the worst tile's usage plus
//! [`Judge::margin`] standard deviations of the usages across tiles is at most 1. The
//! margin is what keeps a tile the search did not see within the budget: the usages of
//! unseen tiles spread as those of the tuning tiles do.

use crate::budget::{Bound, Budget};
use crate::data::TuneData;
use crate::metrics::{evaluate, metrics_of, Metrics};
use anyhow::Result;
use nmpu_config::NmpuConfig;

/// Standard deviations of the tiles' usages kept as margin: with eight tuning tiles, what
/// kept every answer of tests/robust.rs within its budget on its held-out tiles (1 and
/// 1.5 were not enough on a 32-column config, whose tiles' usages spread most).
pub const MARGIN: f64 = 2.0;

/// One tuning tile: its data, its budgets' limits, the FP16 baseline's metrics on it.
#[derive(Clone, Debug)]
pub struct TileJudge {
    pub data: TuneData,
    pub bounds: Vec<Bound>,
    pub fp16: Metrics,
}

impl TileJudge {
    /// The budgets made concrete on `data` (some depend on it: the FP16 baseline's
    /// errors, the analog noise referred through its coefficients).
    pub fn new(cfg: &NmpuConfig, data: TuneData, budgets: &[Budget]) -> Result<TileJudge> {
        let fp16 = metrics_of(&data, &data.fp16_outputs(cfg)?);
        let bounds = budgets
            .iter()
            .map(|&b| Bound::new(b, &data, &fp16, cfg.in_bits))
            .collect();
        Ok(TileJudge { data, bounds, fp16 })
    }

    /// How far `m` is from this tile's limits (see [`Bound::usage`]).
    pub fn usage(&self, m: &Metrics) -> f64 {
        self.bounds.iter().map(|b| b.usage(m)).fold(0.0, f64::max)
    }
}

/// A candidate's standing.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// Each metric's worst value over the tiles.
    pub metrics: Metrics,
    /// The worst tile's usage plus the margin (<= 1: meets the budgets).
    pub usage: f64,
    pub meets: bool,
}

#[derive(Clone, Debug)]
pub struct Judge {
    pub tiles: Vec<TileJudge>,
    pub margin: f64,
}

/// Each metric's largest value.
pub fn worst(ms: &[Metrics]) -> Metrics {
    let mut w = Metrics::default();
    for m in ms {
        w.mean_abs = w.mean_abs.max(m.mean_abs);
        w.max_abs = w.max_abs.max(m.max_abs);
        w.mismatch = w.mismatch.max(m.mismatch);
        w.rms = w.rms.max(m.rms);
        w.added_rms = w.added_rms.max(m.added_rms);
    }
    w
}

impl Judge {
    /// The verdict on metrics `ms`, one per tile.
    pub fn verdict(&self, ms: &[Metrics]) -> Verdict {
        let u: Vec<f64> = self.tiles.iter().zip(ms).map(|(t, m)| t.usage(m)).collect();
        let n = u.len() as f64;
        let mean = u.iter().sum::<f64>() / n;
        let sd = if u.len() > 1 {
            (u.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        let usage = u.iter().fold(0.0f64, |a, &b| a.max(b)) + self.margin * sd;
        Verdict {
            metrics: worst(ms),
            usage,
            meets: usage <= 1.0,
        }
    }

    /// `cfg`'s metrics on every tile and the verdict.
    pub fn judge(&self, cfg: &NmpuConfig) -> Result<(Verdict, Vec<Metrics>)> {
        let ms = self
            .tiles
            .iter()
            .map(|t| evaluate(cfg, &t.data))
            .collect::<Result<Vec<_>>>()?;
        Ok((self.verdict(&ms), ms))
    }

    /// The first tile (every judge has one).
    pub fn first(&self) -> &TileJudge {
        &self.tiles[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tile(limit: f64) -> TileJudge {
        let data = TuneData {
            coeffs: nmpu_model::RealCoeffs::identity(1),
            columns: 1,
            xs: vec![0],
            real: vec![0.0],
            code: vec![0],
            exact_mse: 0.0,
            gain: vec![1.0],
        };
        TileJudge {
            data,
            bounds: vec![Bound {
                budget: Budget::Mean { limit },
                limits: vec![("mean_abs", limit)],
            }],
            fp16: Metrics::default(),
        }
    }

    fn m(mean_abs: f64) -> Metrics {
        Metrics {
            mean_abs,
            max_abs: 2.0 * mean_abs,
            ..Metrics::default()
        }
    }

    /// Usages 0.5, 0.7, 0.9 (mean 0.7, sd 0.2): with a margin of one sd the verdict is
    /// 0.9 + 0.2 = 1.1, which misses; without margin it meets.
    #[test]
    fn the_worst_tile_and_the_spread_decide() {
        let tiles = vec![tile(1.0), tile(1.0), tile(2.0)];
        let ms = [m(0.5), m(0.7), m(1.8)];
        let j = Judge {
            tiles: tiles.clone(),
            margin: 1.0,
        };
        let v = j.verdict(&ms);
        assert!((v.usage - 1.1).abs() < 1e-12, "{v:?}");
        assert!(!v.meets);
        assert_eq!(v.metrics.mean_abs, 1.8);
        assert_eq!(v.metrics.max_abs, 3.6);
        let loose = Judge { tiles, margin: 0.0 };
        assert!(loose.verdict(&ms).meets);
        let one = Judge {
            tiles: vec![tile(1.0)],
            margin: 1.0,
        };
        assert_eq!(one.verdict(&[m(0.8)]).usage, 0.8);
    }
}
