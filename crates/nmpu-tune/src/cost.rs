//! A lane-area model: area as a linear function of width features, fitted to synthesized
//! lanes. A search evaluates thousands of candidates; synthesis takes seconds per lane,
//! so the search prices candidates with this model and confirms its choices by synthesis.
//!
//! The features are what a lane is built of (docs/arithmetic.md): the partial products
//! of its multipliers, the adders (exact sum, rounding, saturation compare), the pipeline
//! registers and the coefficient words of its columns.

use anyhow::{ensure, Result};
use nmpu_config::{MacShape, NmpuConfig, Overflow, QFormat, Rounding};
use serde::{Deserialize, Serialize};

/// Feature names, in the order of [`features`].
pub const FEATURES: [&str; 5] = [
    "constant",
    "multiplier partial-product bits",
    "adder bits",
    "register bits",
    "storage bits",
];

fn signed_width(f: &QFormat) -> f64 {
    f64::from(f.signed_width())
}

/// One multiply-add `v*k + o -> r` with the result's rounding and overflow:
/// (partial products, adder bits, result register bits).
fn mac(
    v: &QFormat,
    k: &QFormat,
    o: &QFormat,
    r: &QFormat,
    round: Rounding,
    ov: Overflow,
) -> [f64; 3] {
    let shape = MacShape::of(v, k, o, r);
    let sum = f64::from(shape.sum_bits);
    let rw = signed_width(r);
    let rounding = if round == Rounding::Floor {
        0.0
    } else {
        sum - f64::from(shape.frac.saturating_sub(r.frac))
    };
    let saturate = if ov == Overflow::Saturate {
        2.0 * rw
    } else {
        0.0
    };
    [
        signed_width(v) * signed_width(k),
        sum + rounding + saturate,
        rw,
    ]
}

/// The features of one lane of `cfg` holding `words` coefficient words per bank.
pub fn features(cfg: &NmpuConfig, words: u32) -> [f64; 5] {
    let c = &cfg.coefficients;
    let x = QFormat::new(true, cfg.in_bits as i32, 0);
    let out = &cfg.output.format;
    let mut stages = vec![];
    let mut stored = f64::from(c.a.width() + c.b.width());
    if cfg.fuse_affine_bn {
        stages.push(mac(
            &x,
            &c.a,
            &c.b,
            &cfg.batch_norm.format,
            cfg.batch_norm.rounding,
            cfg.batch_norm.overflow,
        ));
    } else {
        stages.push(mac(
            &x,
            &c.a,
            &c.b,
            &cfg.affine.format,
            cfg.affine.rounding,
            cfg.affine.overflow,
        ));
        stages.push(mac(
            &cfg.affine.format,
            &c.g,
            &c.h,
            &cfg.batch_norm.format,
            cfg.batch_norm.rounding,
            cfg.batch_norm.overflow,
        ));
        stored += f64::from(c.g.width() + c.h.width());
    }
    let (mut mult, mut add, mut regs) = (0.0, 0.0, signed_width(&x) + signed_width(out));
    for [m, a, r] in stages {
        mult += m;
        add += a;
        regs += r;
    }
    // Requantization: a rounding adder and a saturating compare at the batch-norm width.
    add += 3.0 * signed_width(&cfg.batch_norm.format);
    [1.0, mult, add, regs, stored * f64::from(words)]
}

/// Area (um^2) = sum of coefficient * feature.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CostModel {
    pub coefficients: [f64; 5],
    /// The fit's relative errors on its samples: mean and largest |model / synthesized - 1|.
    pub mean_error: f64,
    pub max_error: f64,
    pub samples: usize,
}

impl CostModel {
    pub fn area(&self, f: &[f64; 5]) -> f64 {
        self.coefficients.iter().zip(f).map(|(c, x)| c * x).sum()
    }

    /// Least squares on relative error (each sample weighted by 1/area, so small lanes
    /// count as much as large ones), coefficients kept non-negative: a feature whose
    /// coefficient comes out negative is dropped and the rest refitted.
    pub fn fit(samples: &[([f64; 5], f64)]) -> Result<CostModel> {
        ensure!(
            samples.len() >= FEATURES.len(),
            "{} synthesized lanes cannot fit {} coefficients",
            samples.len(),
            FEATURES.len()
        );
        let mut active = [true; 5];
        let coefficients = loop {
            let c = solve(samples, &active)?;
            match (0..5).find(|&i| active[i] && c[i] < 0.0) {
                Some(i) => active[i] = false,
                None => break c,
            }
        };
        let mut m = CostModel {
            coefficients,
            mean_error: 0.0,
            max_error: 0.0,
            samples: samples.len(),
        };
        let errs: Vec<f64> = samples
            .iter()
            .map(|(f, area)| (m.area(f) / area - 1.0).abs())
            .collect();
        m.mean_error = errs.iter().sum::<f64>() / errs.len() as f64;
        m.max_error = errs.iter().copied().fold(0.0, f64::max);
        Ok(m)
    }
}

/// Weighted least squares over the active features (normal equations, Gaussian
/// elimination with partial pivoting: five unknowns at most).
fn solve(samples: &[([f64; 5], f64)], active: &[bool; 5]) -> Result<[f64; 5]> {
    let idx: Vec<usize> = (0..5).filter(|&i| active[i]).collect();
    let n = idx.len();
    let mut m = vec![vec![0.0f64; n + 1]; n];
    for (f, area) in samples {
        let w = 1.0 / (area * area);
        for (r, &i) in idx.iter().enumerate() {
            for (c, &j) in idx.iter().enumerate() {
                m[r][c] += w * f[i] * f[j];
            }
            m[r][n] += w * f[i] * area;
        }
    }
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))
            .unwrap_or(col);
        m.swap(col, pivot);
        ensure!(
            m[col][col].abs() > 1e-30,
            "the synthesized lanes do not vary feature `{}`: cannot fit it",
            FEATURES[idx[col]]
        );
        let pivot_row = m[col].clone();
        for (r, row) in m.iter_mut().enumerate() {
            if r != col {
                let k = row[col] / pivot_row[col];
                for (x, p) in row.iter_mut().zip(&pivot_row).skip(col) {
                    *x -= k * p;
                }
            }
        }
    }
    let mut out = [0.0; 5];
    for (r, &i) in idx.iter().enumerate() {
        out[i] = m[r][n] / m[r][r];
    }
    Ok(out)
}

/// The lanes a cost model is fitted to: for fused and unfused candidates of `space`, five
/// widths from near the narrowest to wide (every knob at the same point of its range, at
/// most 20 fraction bits: wider lanes take minutes to synthesize and no search ends
/// there), rounding and floor alternating, 2, 8 or 16 coefficient words; and the base
/// config itself. Deterministic.
pub fn fit_plan(space: &crate::space::Space) -> Vec<(NmpuConfig, u32)> {
    let mut plan = vec![];
    let words = [2u32, 8, 16];
    for fused in [false, true] {
        for (n, t) in [0.1, 0.25, 0.4, 0.55, 0.75].into_iter().enumerate() {
            let mut k = crate::space::Knobs {
                fused,
                frac: [0; 6],
                floor: [n % 2 == 1; 2],
            };
            for &i in k.used() {
                let (lo, hi) = space.frac_range(fused, i);
                let hi = hi.min(20).max(lo);
                k.frac[i] = lo + ((f64::from(hi - lo) * t).round() as u32);
            }
            if let Some(c) = space.config(&k) {
                plan.push((c, words[(n + usize::from(fused)) % 3]));
            }
        }
    }
    plan.push((space.base.clone(), 8));
    plan
}

/// The model fitted to osu018 lanes shipped in this crate's `lane_cost.json` (refit with
/// `nmpu tune --fit-cost`).
pub fn shipped() -> CostModel {
    serde_json::from_str(include_str!("../lane_cost.json")).expect("lane_cost.json is a cost model")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_recovers_a_known_linear_model() {
        let truth = [500.0, 30.0, 12.0, 40.0, 9.0];
        let samples: Vec<([f64; 5], f64)> = (0..12)
            .map(|i| {
                let i = f64::from(i);
                let f = [
                    1.0,
                    50.0 + 17.0 * i,
                    80.0 + 5.0 * i * i,
                    30.0 + (3.0 * i * i) % 17.0,
                    100.0 + (7.0 * i) % 40.0,
                ];
                let area = truth.iter().zip(&f).map(|(c, x)| c * x).sum();
                (f, area)
            })
            .collect();
        let m = CostModel::fit(&samples).unwrap();
        for (got, want) in m.coefficients.iter().zip(truth) {
            assert!((got - want).abs() < 1e-6 * want, "{:?}", m.coefficients);
        }
        assert!(m.max_error < 1e-9);
    }

    #[test]
    fn wider_formats_cost_more_in_every_feature() {
        let narrow = NmpuConfig::default();
        let mut wide = narrow.clone();
        wide.coefficients.a.frac += 4;
        wide.affine.format.frac += 2;
        let (fn_, fw) = (features(&narrow, 32), features(&wide, 32));
        assert!(fw[1] > fn_[1] && fw[2] > fn_[2] && fw[3] > fn_[3] && fw[4] > fn_[4]);
    }

    #[test]
    fn too_few_samples_is_an_error() {
        assert!(CostModel::fit(&[([1.0; 5], 1.0)]).is_err());
    }
}
