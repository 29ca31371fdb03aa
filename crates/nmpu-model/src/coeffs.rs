//! Per-column coefficients: real values, their fixed-point codes and binary16 values.

use crate::error::ModelError;
use half::f16;
use nmpu_config::{NmpuConfig, QFormat};
use num_traits::ToPrimitive;

/// Real-valued coefficients, one entry per column: `y = a*x + b`, `z = g*y + h`.
#[derive(Clone, Debug, PartialEq)]
pub struct RealCoeffs {
    pub a: Vec<f64>,
    pub b: Vec<f64>,
    pub g: Vec<f64>,
    pub h: Vec<f64>,
}

impl RealCoeffs {
    /// The identity: `a = g = 1`, `b = h = 0` in every column.
    pub fn identity(columns: usize) -> Self {
        RealCoeffs {
            a: vec![1.0; columns],
            b: vec![0.0; columns],
            g: vec![1.0; columns],
            h: vec![0.0; columns],
        }
    }

    pub fn columns(&self) -> usize {
        self.a.len()
    }

    fn named(&self) -> [(&'static str, &[f64]); 4] {
        [
            ("a", &self.a),
            ("b", &self.b),
            ("g", &self.g),
            ("h", &self.h),
        ]
    }

    /// Rejects a column count that differs from the config, and NaN or infinite values.
    pub fn check(&self, cfg: &NmpuConfig) -> Result<(), ModelError> {
        for (name, v) in self.named() {
            if v.len() != cfg.columns as usize {
                return Err(ModelError::Shape(format!(
                    "coefficient {name} has {} columns, the config has columns = {}",
                    v.len(),
                    cfg.columns
                )));
            }
            if let Some((column, &value)) = v.iter().enumerate().find(|(_, x)| !x.is_finite()) {
                return Err(ModelError::Coefficient {
                    name,
                    column,
                    value,
                    message: "not a finite number".into(),
                });
            }
        }
        Ok(())
    }

    /// The folded pair `a' = a*g`, `b' = b*g + h` per column.
    pub fn fused(&self) -> (Vec<f64>, Vec<f64>) {
        let a = self.a.iter().zip(&self.g).map(|(a, g)| a * g).collect();
        let b = (0..self.columns())
            .map(|c| self.b[c] * self.g[c] + self.h[c])
            .collect();
        (a, b)
    }

    /// Parses the coefficient CSV: a header `column,a,b,g,h`, then one row per column in
    /// column order, real values. Blank lines and lines starting with `#` are skipped.
    pub fn from_csv(text: &str) -> Result<Self, ModelError> {
        let mut rows = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim()))
            .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
        let (_, header) = rows
            .next()
            .ok_or_else(|| ModelError::Shape("coefficient file is empty".into()))?;
        let cols: Vec<&str> = header.split(',').map(str::trim).collect();
        if cols != ["column", "a", "b", "g", "h"] {
            return Err(ModelError::Shape(format!(
                "coefficient file header is `{header}`, expected `column,a,b,g,h`"
            )));
        }
        let mut out = RealCoeffs {
            a: vec![],
            b: vec![],
            g: vec![],
            h: vec![],
        };
        for (line, row) in rows {
            let f: Vec<&str> = row.split(',').map(str::trim).collect();
            if f.len() != 5 {
                return Err(ModelError::Shape(format!(
                    "coefficient file line {line}: {} fields, expected 5 (column,a,b,g,h)",
                    f.len()
                )));
            }
            let expect = out.a.len();
            if f[0].parse::<usize>().ok() != Some(expect) {
                return Err(ModelError::Shape(format!(
                    "coefficient file line {line}: column `{}`, expected {expect} \
                     (rows must list columns 0, 1, 2, ... in order)",
                    f[0]
                )));
            }
            let num = |s: &str, name: &str| {
                s.parse::<f64>().map_err(|_| {
                    ModelError::Shape(format!(
                        "coefficient file line {line}: {name} = `{s}` is not a number"
                    ))
                })
            };
            out.a.push(num(f[1], "a")?);
            out.b.push(num(f[2], "b")?);
            out.g.push(num(f[3], "g")?);
            out.h.push(num(f[4], "h")?);
        }
        if out.a.is_empty() {
            return Err(ModelError::Shape(
                "coefficient file has a header but no rows".into(),
            ));
        }
        Ok(out)
    }

    /// The CSV form read by [`RealCoeffs::from_csv`]; values round-trip exactly.
    pub fn to_csv(&self) -> String {
        let mut s = String::from("column,a,b,g,h\n");
        for c in 0..self.columns() {
            s += &format!(
                "{c},{:?},{:?},{:?},{:?}\n",
                self.a[c], self.b[c], self.g[c], self.h[c]
            );
        }
        s
    }
}

/// Fixed-point coefficient codes per column, as loaded into the hardware.
/// When the config fuses affine and batch-norm, `a` and `b` hold the folded pair and
/// `g`, `h` are empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoeffCodes {
    pub fused: bool,
    pub a: Vec<i64>,
    pub b: Vec<i64>,
    pub g: Vec<i64>,
    pub h: Vec<i64>,
}

impl CoeffCodes {
    /// Checks the shape and that every code lies in its format's range.
    pub fn check(&self, cfg: &NmpuConfig) -> Result<(), ModelError> {
        if self.fused != cfg.fuse_affine_bn {
            return Err(ModelError::Shape(format!(
                "coefficient codes are {} but the config has fuse_affine_bn = {}",
                if self.fused { "fused" } else { "unfused" },
                cfg.fuse_affine_bn
            )));
        }
        let c = &cfg.coefficients;
        let n = cfg.columns as usize;
        let mut sets: Vec<(&'static str, &[i64], &QFormat)> =
            vec![("a", &self.a, &c.a), ("b", &self.b, &c.b)];
        if !self.fused {
            sets.push(("g", &self.g, &c.g));
            sets.push(("h", &self.h, &c.h));
        }
        for (name, v, f) in sets {
            if v.len() != n {
                return Err(ModelError::Shape(format!(
                    "coefficient code {name} has {} columns, the config has {n}",
                    v.len()
                )));
            }
            if let Some((column, &k)) = v
                .iter()
                .enumerate()
                .find(|(_, &k)| k < f.min_code() || k > f.max_code())
            {
                return Err(ModelError::Coefficient {
                    name,
                    column,
                    value: k as f64,
                    message: format!("code outside the range of {f}"),
                });
            }
        }
        Ok(())
    }
}

/// One coefficient that did not fit its format.
#[derive(Clone, Debug, PartialEq)]
pub struct Saturation {
    pub name: &'static str,
    pub column: usize,
    pub real: f64,
    pub became: f64,
}

/// What quantization did: saturated coefficients and the largest rounding error.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QuantReport {
    pub saturated: Vec<Saturation>,
    /// Largest |real - quantized| over unsaturated coefficients, in LSBs of each format.
    pub max_error_lsb: Vec<(&'static str, f64)>,
}

impl QuantReport {
    pub fn summary(&self) -> String {
        let mut s = String::new();
        for (name, e) in &self.max_error_lsb {
            s += &format!("{name}: max rounding error {e:.3} LSB; ");
        }
        if self.saturated.is_empty() {
            s += "no coefficient saturated";
        } else {
            s += &format!("{} coefficient(s) saturated, e.g. ", self.saturated.len());
            for x in self.saturated.iter().take(3) {
                s += &format!("{}[{}] = {} -> {}; ", x.name, x.column, x.real, x.became);
            }
        }
        s
    }
}

/// The correctly rounded code of `v` in format `f` (ties to even), saturated.
/// Returns the code and whether it saturated. `v` must be finite.
pub fn quantize_real(v: f64, f: &QFormat) -> (i64, bool) {
    // Scaling by a power of two and rounding ties-to-even are both exact in f64.
    let scaled = (v * (f.frac as f64).exp2()).round_ties_even();
    let (lo, hi) = (f.min_code(), f.max_code());
    match scaled.to_i64() {
        Some(k) if (lo..=hi).contains(&k) => (k, false),
        _ => (if scaled < 0.0 { lo } else { hi }, true),
    }
}

/// Quantizes real coefficients to the codes the config's formats hold (folding first
/// when the config is fused).
pub fn quantize(
    cfg: &NmpuConfig,
    real: &RealCoeffs,
) -> Result<(CoeffCodes, QuantReport), ModelError> {
    real.check(cfg)?;
    let c = &cfg.coefficients;
    let mut report = QuantReport::default();
    let mut one = |name: &'static str, vals: &[f64], f: &QFormat| -> Vec<i64> {
        let mut max_err = 0.0f64;
        let codes = vals
            .iter()
            .enumerate()
            .map(|(column, &v)| {
                let (k, sat) = quantize_real(v, f);
                let became = k as f64 * f.lsb();
                if sat {
                    report.saturated.push(Saturation {
                        name,
                        column,
                        real: v,
                        became,
                    });
                } else {
                    max_err = max_err.max((v - became).abs() / f.lsb());
                }
                k
            })
            .collect();
        report.max_error_lsb.push((name, max_err));
        codes
    };
    let codes = if cfg.fuse_affine_bn {
        let (fa, fb) = real.fused();
        CoeffCodes {
            fused: true,
            a: one("a'", &fa, &c.a),
            b: one("b'", &fb, &c.b),
            g: vec![],
            h: vec![],
        }
    } else {
        CoeffCodes {
            fused: false,
            a: one("a", &real.a, &c.a),
            b: one("b", &real.b, &c.b),
            g: one("g", &real.g, &c.g),
            h: one("h", &real.h, &c.h),
        }
    };
    Ok((codes, report))
}

/// Binary16 coefficients of the FP16 baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct F16Coeffs {
    pub a: Vec<f16>,
    pub b: Vec<f16>,
    pub g: Vec<f16>,
    pub h: Vec<f16>,
}

/// IEEE conversion (ties to even; overflow to infinity, reported as saturation).
pub fn to_f16(
    cfg: &NmpuConfig,
    real: &RealCoeffs,
) -> Result<(F16Coeffs, Vec<Saturation>), ModelError> {
    real.check(cfg)?;
    let mut sat = vec![];
    let mut conv = |name: &'static str, v: &[f64]| -> Vec<f16> {
        v.iter()
            .enumerate()
            .map(|(column, &x)| {
                let h = f16::from_f64(x);
                if h.is_infinite() {
                    sat.push(Saturation {
                        name,
                        column,
                        real: x,
                        became: h.to_f64(),
                    });
                }
                h
            })
            .collect()
    };
    Ok((
        F16Coeffs {
            a: conv("a", &real.a),
            b: conv("b", &real.b),
            g: conv("g", &real.g),
            h: conv("h", &real.h),
        },
        sat,
    ))
}
