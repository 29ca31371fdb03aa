//! What a case exercised, stage by stage: rounding ties and overflow at either end. A corner
//! sweep that claims to hit the ties and the saturation limits is checked against these
//! counts, so a change that silently stops reaching a corner fails a test.

use crate::stimulus::{Case, Coefficients};

use nmpu_model::primitives::Quantize;
use nmpu_model::stages::pipeline;
use std::fmt;

/// Counts for one rounding-and-fit step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StageCoverage {
    /// Exact values that sit on a rounding tie (half an output LSB above a code).
    pub ties: usize,
    /// Values above the result format's range (saturated or wrapped).
    pub over_high: usize,
    /// Values below it.
    pub over_low: usize,
}

impl StageCoverage {
    pub fn add(&mut self, s: &StageCoverage) {
        self.ties += s.ties;
        self.over_high += s.over_high;
        self.over_low += s.over_low;
    }

    fn count(&mut self, q: &Quantize, exact: i64) {
        if q.shift > 0 && exact & ((1i64 << q.shift) - 1) == 1i64 << (q.shift - 1) {
            self.ties += 1;
        }
        let rounded = exact >> q.shift; // floor: past the range either way
        if rounded > q.fit.max {
            self.over_high += 1;
        } else if rounded < q.fit.min {
            self.over_low += 1;
        }
    }
}

/// Per-stage counts of a case; `affine` is `None` for a fused config (its one multiply-add
/// is counted as `batch_norm`, the stage whose format it rounds to).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    pub elements: usize,
    pub affine: Option<StageCoverage>,
    pub batch_norm: StageCoverage,
    pub requantize: StageCoverage,
}

impl Coverage {
    /// Adds the counts of another case.
    pub fn add(&mut self, c: &Coverage) {
        self.elements += c.elements;
        if let Some(a) = &c.affine {
            self.affine
                .get_or_insert_with(StageCoverage::default)
                .add(a);
        }
        self.batch_norm.add(&c.batch_norm);
        self.requantize.add(&c.requantize);
    }
}

impl fmt::Display for Coverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let row = |f: &mut fmt::Formatter<'_>, name: &str, s: &StageCoverage| {
            writeln!(
                f,
                "  {name:<11} ties {:>9}  over max {:>9}  under min {:>9}",
                s.ties, s.over_high, s.over_low
            )
        };
        writeln!(f, "coverage of {} elements:", self.elements)?;
        if let Some(a) = &self.affine {
            row(f, "affine", a)?;
        }
        row(f, "batch_norm", &self.batch_norm)?;
        row(f, "requantize", &self.requantize)
    }
}

/// Counts, with the golden model's stage definitions, what `case` exercises in the
/// fixed-point stages; `None` for an FP16 case, which has none.
pub fn coverage(case: &Case) -> Option<Coverage> {
    let cfg = &case.cfg;
    let Coefficients::Fixed(c) = &case.coeffs else {
        return None;
    };
    let stages = pipeline(cfg);
    let (bn, requantize) = (&stages.batch_norm, &stages.requantize);
    let relu = cfg.activation == nmpu_config::Activation::Relu;
    let mut cov = Coverage {
        affine: stages.affine.map(|_| StageCoverage::default()),
        ..Coverage::default()
    };
    for beat in &case.beats {
        for (lane, &x) in beat.x.iter().enumerate() {
            let col = beat.col as usize + lane;
            let (v, k, o) = match (&stages.affine, cov.affine.as_mut()) {
                (Some(af), Some(a)) => {
                    a.count(&af.quantize, af.exact_sum(x, c.a[col], c.b[col]));
                    (af.apply(x, c.a[col], c.b[col]).0, c.g[col], c.h[col])
                }
                _ => (x, c.a[col], c.b[col]),
            };
            cov.batch_norm.count(&bn.quantize, bn.exact_sum(v, k, o));
            let mut z = bn.apply(v, k, o).0;
            if relu {
                z = z.max(0);
            }
            cov.requantize
                .count(&requantize.quantize, z << requantize.align_shift);
            cov.elements += 1;
        }
    }
    Some(cov)
}
