//! Per-column calibration: fit `code = gain * y + offset` to measurements (ideal outputs
//! `y` and the ADC codes observed for them), then the NMPU's affine correction `a = 1/gain`,
//! `b = -offset/gain`, which maps a code back to `y`'s units. Least squares, or Huber's
//! M-estimator (iteratively reweighted least squares, the scale from the residuals' median
//! absolute deviation) when some measurements are outliers.

use nmpu_config::{NmpuConfig, QFormat};
use nmpu_model::RealCoeffs;
use thiserror::Error;

/// How a column is fitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    LeastSquares,
    /// Huber weights with `k = 1.345` robust standard deviations (95 % efficiency on
    /// Gaussian residuals).
    Huber,
}

/// Fewest usable measurements a column's two parameters are fitted to.
pub const MIN_POINTS: usize = 3;

const HUBER_K: f64 = 1.345;

/// One column's fit and how well it fits.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnFit {
    pub column: usize,
    /// Codes per unit of `y`, and codes at `y = 0`.
    pub gain: f64,
    pub offset: f64,
    /// Measurements used, and those left out for sitting at an ADC limit (saturated).
    pub points: usize,
    pub saturated: usize,
    /// RMS and largest |residual| of the used measurements, in codes.
    pub rms: f64,
    pub max: f64,
}

#[derive(Clone, Debug, PartialEq, Error)]
pub enum CalibrationError {
    #[error("{0}")]
    Shape(String),
    #[error("column {column}, measurement {row}: the reference is {value}, not a finite number")]
    NotFinite {
        column: usize,
        row: usize,
        value: f64,
    },
    #[error(
        "column {column}: {points} usable measurements ({saturated} at the ADC's limits left out); \
         at least {MIN_POINTS} are needed"
    )]
    TooFew {
        column: usize,
        points: usize,
        saturated: usize,
    },
    #[error("column {column}: every {what} is {value}: a dead column cannot be calibrated")]
    Dead {
        column: usize,
        what: &'static str,
        value: f64,
    },
    #[error(
        "column {column}: {name} = {value} is outside the coefficient format {format} \
         ({min} ..= {max}); {hint}"
    )]
    OutOfFormat {
        column: usize,
        name: &'static str,
        value: f64,
        format: String,
        min: f64,
        max: f64,
        hint: String,
    },
}

/// Least squares of `c` on `y` with weights `w`: (gain, offset), or `None` when `y` does
/// not vary.
fn weighted_line(y: &[f64], c: &[f64], w: &[f64]) -> Option<(f64, f64)> {
    let sw: f64 = w.iter().sum();
    let my = y.iter().zip(w).map(|(y, w)| y * w).sum::<f64>() / sw;
    let mc = c.iter().zip(w).map(|(c, w)| c * w).sum::<f64>() / sw;
    let (mut syy, mut syc) = (0.0, 0.0);
    for ((y, c), w) in y.iter().zip(c).zip(w) {
        syy += w * (y - my) * (y - my);
        syc += w * (y - my) * (c - mc);
    }
    (syy > 0.0).then(|| {
        let gain = syc / syy;
        (gain, mc - gain * my)
    })
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Huber's estimate, starting from least squares.
fn huber(y: &[f64], c: &[f64], start: (f64, f64)) -> (f64, f64) {
    let (mut gain, mut offset) = start;
    let mut w = vec![1.0; y.len()];
    for _ in 0..100 {
        let r: Vec<f64> = y
            .iter()
            .zip(c)
            .map(|(y, c)| c - gain * y - offset)
            .collect();
        let mut dev: Vec<f64> = r.iter().map(|r| r.abs()).collect();
        let scale = 1.4826 * median(&mut dev);
        if scale == 0.0 {
            break;
        }
        for (w, r) in w.iter_mut().zip(&r) {
            let t = r.abs() / (HUBER_K * scale);
            *w = if t <= 1.0 { 1.0 } else { 1.0 / t };
        }
        let Some((g, o)) = weighted_line(y, c, &w) else {
            break;
        };
        let done = (g - gain).abs() <= 1e-12 * g.abs().max(1e-300) && (o - offset).abs() <= 1e-9;
        (gain, offset) = (g, o);
        if done {
            break;
        }
    }
    (gain, offset)
}

/// Fits every column of `reference` (rows of ideal outputs, one per measurement) against
/// `codes` (the observed ADC codes, same shape). Codes at `limits` (the ADC's smallest and
/// largest code) are left out: saturation hides the line.
pub fn fit(
    reference: &[Vec<f64>],
    codes: &[Vec<i64>],
    method: Method,
    limits: Option<(i64, i64)>,
) -> Result<Vec<ColumnFit>, CalibrationError> {
    if reference.len() != codes.len() {
        return Err(CalibrationError::Shape(format!(
            "{} rows of references and {} rows of codes: one of each per measurement",
            reference.len(),
            codes.len()
        )));
    }
    let columns = reference.first().map_or(0, Vec::len);
    for (i, (r, c)) in reference.iter().zip(codes).enumerate() {
        if r.len() != columns || c.len() != columns {
            return Err(CalibrationError::Shape(format!(
                "measurement {i}: {} references and {} codes, expected {columns} of each",
                r.len(),
                c.len()
            )));
        }
    }
    (0..columns)
        .map(|col| {
            let (mut y, mut c) = (vec![], vec![]);
            let mut saturated = 0;
            for (row, (r, k)) in reference.iter().zip(codes).enumerate() {
                let (v, code) = (r[col], k[col]);
                if !v.is_finite() {
                    return Err(CalibrationError::NotFinite {
                        column: col,
                        row,
                        value: v,
                    });
                }
                if limits.is_some_and(|(lo, hi)| code <= lo || code >= hi) {
                    saturated += 1;
                    continue;
                }
                y.push(v);
                c.push(code as f64);
            }
            if y.len() < MIN_POINTS {
                return Err(CalibrationError::TooFew {
                    column: col,
                    points: y.len(),
                    saturated,
                });
            }
            if c.iter().all(|&v| v == c[0]) {
                return Err(CalibrationError::Dead {
                    column: col,
                    what: "code",
                    value: c[0],
                });
            }
            let ols = weighted_line(&y, &c, &vec![1.0; y.len()]).ok_or(CalibrationError::Dead {
                column: col,
                what: "reference",
                value: y[0],
            })?;
            let (gain, offset) = match method {
                Method::LeastSquares => ols,
                Method::Huber => huber(&y, &c, ols),
            };
            let r: Vec<f64> = y
                .iter()
                .zip(&c)
                .map(|(y, c)| c - gain * y - offset)
                .collect();
            Ok(ColumnFit {
                column: col,
                gain,
                offset,
                points: y.len(),
                saturated,
                rms: (r.iter().map(|r| r * r).sum::<f64>() / r.len() as f64).sqrt(),
                max: r.iter().fold(0.0, |m, r| m.max(r.abs())),
            })
        })
        .collect()
}

/// The batch-norm coefficients written beside the calibrated affine ones.
#[derive(Clone, Debug, PartialEq)]
pub enum BatchNorm {
    /// The same scale and shift for every column.
    Uniform { g: f64, h: f64 },
    /// Per column, e.g. kept from an existing coefficient file.
    Columns { g: Vec<f64>, h: Vec<f64> },
}

impl BatchNorm {
    fn of(&self, c: usize) -> (f64, f64) {
        match self {
            BatchNorm::Uniform { g, h } => (*g, *h),
            BatchNorm::Columns { g, h } => (g[c], h[c]),
        }
    }
}

impl BatchNorm {
    /// The batch-norm of an NMPU whose only job is the calibration: `h = 0` and `g` the
    /// largest scale that maps the largest |reference| onto the output format's range and
    /// that the `g` format holds (unfused; fused, the fold is checked with the fit).
    pub fn spanning(reference: &[Vec<f64>], cfg: &NmpuConfig) -> BatchNorm {
        let y_max = reference
            .iter()
            .flatten()
            .fold(0.0f64, |m, y| m.max(y.abs()));
        let mut g = if y_max > 0.0 {
            cfg.output.format.max_value() / y_max
        } else {
            1.0
        };
        if !cfg.fuse_affine_bn {
            g = g.min(cfg.coefficients.g.max_value());
        }
        BatchNorm::Uniform { g, h: 0.0 }
    }
}

/// What a calibration found: the fit of every column in a few lines, the worst columns
/// (largest residual RMS) first.
pub fn summary(fits: &[ColumnFit], worst: usize) -> String {
    use std::fmt::Write as _;
    let n = fits.len().max(1) as f64;
    let mean_rms = fits.iter().map(|f| f.rms).sum::<f64>() / n;
    let max_rms = fits.iter().fold(0.0f64, |m, f| m.max(f.rms));
    let saturated: usize = fits.iter().map(|f| f.saturated).sum();
    let gains = fits.iter().map(|f| f.gain);
    let (gmin, gmax) = gains.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), g| {
        (a.min(g), b.max(g))
    });
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} columns: residual RMS mean {mean_rms:.3}, largest {max_rms:.3} codes; gains {gmin:.5} ..= {gmax:.5} codes per unit; {saturated} saturated measurements left out",
        fits.len()
    );
    let mut by_rms: Vec<&ColumnFit> = fits.iter().collect();
    by_rms.sort_by(|a, b| b.rms.total_cmp(&a.rms).then(a.column.cmp(&b.column)));
    for f in by_rms.iter().take(worst) {
        let _ = writeln!(
            s,
            "  column {:>4}: gain {:.5}, offset {:+.2} codes, residual RMS {:.3}, largest {:.3} ({} points)",
            f.column, f.gain, f.offset, f.rms, f.max, f.points
        );
    }
    s
}

/// `v` on the grid of format `f` (round half-even), or an error naming the column when it
/// lies outside the format's range.
fn on_grid(
    column: usize,
    name: &'static str,
    v: f64,
    f: &QFormat,
    hint: &str,
) -> Result<f64, CalibrationError> {
    let (code, saturated) = nmpu_model::quantize_real(v, f);
    if !v.is_finite() || saturated {
        return Err(CalibrationError::OutOfFormat {
            column,
            name,
            value: v,
            format: f.to_string(),
            min: f.min_value(),
            max: f.max_value(),
            hint: hint.to_string(),
        });
    }
    Ok(code as f64 * f.lsb())
}

/// The NMPU's coefficients for `fits`: `a = 1/gain`, `b = -offset/gain`, `g` and `h` from
/// `bn`, each on its format's grid, so the file holds exactly what the hardware will. A
/// fused config gets the folded pair in `a`, `b` and `g = 1`, `h = 0`, so that folding the
/// file gives the same values. A value outside its format is an error naming the column:
/// nothing is clipped.
pub fn coefficients(
    fits: &[ColumnFit],
    cfg: &NmpuConfig,
    bn: &BatchNorm,
) -> Result<RealCoeffs, CalibrationError> {
    if fits.len() != cfg.columns as usize {
        return Err(CalibrationError::Shape(format!(
            "{} calibrated columns, the config has columns = {}",
            fits.len(),
            cfg.columns
        )));
    }
    if let BatchNorm::Columns { g, h } = bn {
        if g.len() != fits.len() || h.len() != fits.len() {
            return Err(CalibrationError::Shape(format!(
                "batch-norm coefficients for {} columns, {} calibrated",
                g.len(),
                fits.len()
            )));
        }
    }
    let f = &cfg.coefficients;
    let gain_hint = "the column's ADC gain is out of what the format corrects: widen the \
                     format's integer bits, or check the column";
    let bn_hint = "give batch-norm coefficients that fit the config's formats";
    let mut out = RealCoeffs::identity(0);
    for fit in fits {
        let c = fit.column;
        let (a, b) = (1.0 / fit.gain, -fit.offset / fit.gain);
        let (g, h) = bn.of(c);
        let [a, b, g, h] = if cfg.fuse_affine_bn {
            [
                on_grid(c, "a' = a*g", a * g, &f.a, gain_hint)?,
                on_grid(c, "b' = b*g + h", b * g + h, &f.b, gain_hint)?,
                1.0,
                0.0,
            ]
        } else {
            [
                on_grid(c, "a", a, &f.a, gain_hint)?,
                on_grid(c, "b", b, &f.b, gain_hint)?,
                on_grid(c, "g", g, &f.g, bn_hint)?,
                on_grid(c, "h", h, &f.h, bn_hint)?,
            ]
        };
        out.a.push(a);
        out.b.push(b);
        out.g.push(g);
        out.h.push(h);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::StandardNormal;

    /// `n` measurements of columns with gains `gain`, offsets `offset`, Gaussian code noise
    /// `sigma`; references uniform in +-200.
    fn measure(
        gain: &[f64],
        offset: &[f64],
        n: usize,
        sigma: f64,
        seed: u64,
    ) -> (Vec<Vec<f64>>, Vec<Vec<i64>>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut refs = vec![];
        let mut codes = vec![];
        for _ in 0..n {
            let y: Vec<f64> = gain
                .iter()
                .map(|_| rng.random_range(-200.0..200.0))
                .collect();
            let c = y
                .iter()
                .zip(gain.iter().zip(offset))
                .map(|(y, (g, o))| {
                    let e: f64 = rng.sample(StandardNormal);
                    (g * y + o + sigma * e).round() as i64
                })
                .collect();
            refs.push(y);
            codes.push(c);
        }
        (refs, codes)
    }

    /// Least squares recovers gain and offset within 4 standard errors
    /// (`sigma / (sqrt(n) sd(y))` and about `sigma / sqrt(n)`).
    #[test]
    fn least_squares_recovers_gain_and_offset() {
        let (gain, offset) = ([1.3, 0.75, 2.0], [20.0, -35.5, 0.0]);
        let (n, sigma) = (400, 3.0);
        let (r, c) = measure(&gain, &offset, n, sigma, 1);
        let fits = fit(&r, &c, Method::LeastSquares, None).unwrap();
        let sd_y = 400.0 / 12f64.sqrt();
        // The codes' rounding adds 1/12 to the noise variance.
        let s = (sigma * sigma + 1.0 / 12.0).sqrt() / (n as f64).sqrt();
        for (f, (g, o)) in fits.iter().zip(gain.iter().zip(offset)) {
            assert!((f.gain - g).abs() < 4.0 * s / sd_y, "{f:?}");
            assert!((f.offset - o).abs() < 4.0 * s, "{f:?}");
            assert!((f.rms / sigma - 1.0).abs() < 0.15, "{f:?}");
            assert_eq!((f.points, f.saturated), (n, 0));
        }
    }

    /// One measurement in ten replaced by a wild code: least squares is pulled off, Huber
    /// is not.
    #[test]
    fn huber_resists_outliers() {
        let (r, mut c) = measure(&[1.5], &[10.0], 300, 2.0, 2);
        for (i, row) in c.iter_mut().enumerate().filter(|(i, _)| i % 10 == 0) {
            row[0] = if i % 20 == 0 { 2000 } else { -1500 } + i as i64;
        }
        let ls = &fit(&r, &c, Method::LeastSquares, None).unwrap()[0];
        let hb = &fit(&r, &c, Method::Huber, None).unwrap()[0];
        assert!(
            (hb.gain - 1.5).abs() < 0.02 && (hb.offset - 10.0).abs() < 1.0,
            "{hb:?}"
        );
        assert!(
            (ls.offset - 10.0).abs() > 5.0 * (hb.offset - 10.0).abs(),
            "{ls:?} vs {hb:?}"
        );
    }

    #[test]
    fn bad_columns_are_named() {
        let (mut r, mut c) = measure(&[1.0, 1.0, 1.0], &[0.0; 3], 10, 1.0, 3);
        for row in c.iter_mut() {
            row[1] = 7;
        }
        assert_eq!(
            fit(&r, &c, Method::LeastSquares, None)
                .unwrap_err()
                .to_string(),
            "column 1: every code is 7: a dead column cannot be calibrated"
        );
        for row in c.iter_mut() {
            row[1] = row[0];
        }
        for row in r.iter_mut() {
            row[2] = 5.0;
        }
        assert!(fit(&r, &c, Method::LeastSquares, None)
            .unwrap_err()
            .to_string()
            .starts_with("column 2: every reference is 5"));
        r[4][0] = f64::NAN;
        let e = fit(&r, &c, Method::Huber, None).unwrap_err();
        assert!(
            matches!(
                e,
                CalibrationError::NotFinite {
                    column: 0,
                    row: 4,
                    ..
                }
            ),
            "{e}"
        );
        // Saturated codes do not count; too few left is an error that says so.
        let (r, c) = measure(&[1000.0], &[0.0], 10, 0.0, 4);
        let e = fit(&r, &c, Method::LeastSquares, Some((-4096, 4095))).unwrap_err();
        assert!(
            e.to_string().contains("at the ADC's limits left out"),
            "{e}"
        );
        assert!(fit(&r[..2], &c[..2], Method::LeastSquares, None).is_err());
        assert!(fit(&r, &c[..3], Method::LeastSquares, None)
            .unwrap_err()
            .to_string()
            .contains("rows of codes"));
    }

    #[test]
    fn the_summary_puts_the_worst_column_first() {
        let fits: Vec<ColumnFit> = [1.0, 3.0, 2.0]
            .iter()
            .enumerate()
            .map(|(column, &rms)| ColumnFit {
                column,
                gain: 1.0,
                offset: 0.0,
                points: 9,
                saturated: 1,
                rms,
                max: 2.0 * rms,
            })
            .collect();
        let s = summary(&fits, 2);
        let lines: Vec<&str> = s.lines().collect();
        assert!(
            lines[0].starts_with("3 columns: residual RMS mean 2.000, largest 3.000"),
            "{s}"
        );
        assert!(lines[0].contains("3 saturated"), "{s}");
        assert!(
            lines[1].contains("column    1") && lines[2].contains("column    2"),
            "{s}"
        );
        assert_eq!(lines.len(), 3);
        let cfg = NmpuConfig::from_toml_str("columns = 2\nlanes = 1\n").unwrap();
        // 127 / 2540 = 0.05; 127 / 254 = 0.5 is beyond the default g format's 1/8.
        let bn = BatchNorm::spanning(&[vec![-2540.0, 10.0]], &cfg);
        assert_eq!(bn, BatchNorm::Uniform { g: 0.05, h: 0.0 });
        let bn = BatchNorm::spanning(&[vec![-254.0, 10.0]], &cfg);
        assert_eq!(
            bn,
            BatchNorm::Uniform {
                g: cfg.coefficients.g.max_value(),
                h: 0.0
            }
        );
    }

    #[test]
    fn coefficients_land_on_the_formats_grid_or_are_refused() {
        let cfg = NmpuConfig::from_toml_str("columns = 2\nlanes = 1\n").unwrap();
        let fits: Vec<ColumnFit> = [(1.25, 10.0), (0.8, -3.0)]
            .iter()
            .enumerate()
            .map(|(column, &(gain, offset))| ColumnFit {
                column,
                gain,
                offset,
                points: 9,
                saturated: 0,
                rms: 1.0,
                max: 2.0,
            })
            .collect();
        let bn = BatchNorm::Uniform { g: 0.1, h: 1.0 };
        let k = coefficients(&fits, &cfg, &bn).unwrap();
        // a = 1/1.25 = 0.8 on a 2^-13 grid; b = -8 on a 2^-2 grid.
        assert_eq!(k.a[0], (0.8f64 * 8192.0).round() / 8192.0);
        assert_eq!((k.b[0], k.b[1]), (-8.0, 3.75));
        let (codes, report) = nmpu_model::quantize(&cfg, &k).unwrap();
        assert!(report.saturated.is_empty());
        assert_eq!(codes.b[1], 15, "3.75 * 4");
        // A gain of 0.4 needs a = 2.5, beyond the unsigned [0, 2) of the default format.
        let mut weak = fits.clone();
        weak[1].gain = 0.4;
        let e = coefficients(&weak, &cfg, &bn).unwrap_err().to_string();
        assert!(
            e.starts_with("column 1: a = 2.5 is outside the coefficient format"),
            "{e}"
        );
        let e = coefficients(&fits, &cfg, &BatchNorm::Uniform { g: 1.0, h: 0.0 }).unwrap_err();
        assert!(e.to_string().contains("g = 1 is outside"), "{e}");
        // Fused: the folded pair, exactly, with g = 1 and h = 0.
        let fused = NmpuConfig::from_toml_str("columns = 2\nlanes = 1\nfuse_affine_bn = true\n\
            [coefficients]\na = { signed = false, int = 1, frac = 13 }\nb = { signed = true, int = 8, frac = 6 }").unwrap();
        let k = coefficients(&fits, &fused, &bn).unwrap();
        assert_eq!((k.g[0], k.h[0]), (1.0, 0.0));
        // b' = -8 * 0.1 + 1 = 0.2 on a 2^-6 grid: 12.8 -> 13 sixty-fourths.
        assert_eq!(k.b[0], 13.0 / 64.0);
        assert_eq!(k.a[0], (0.8f64 * 0.1 * 8192.0).round() / 8192.0);
    }
}
