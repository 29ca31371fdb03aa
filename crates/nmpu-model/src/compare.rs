//! Fixed-point and FP16 side by side against the f64 reference.

use crate::coeffs::{quantize, to_f16, QuantReport, RealCoeffs, Saturation};
use crate::error::ModelError;
use crate::fixed::FixedModel;
use crate::fp16::Fp16Model;
use crate::metrics::ErrStats;
use crate::reference::F64Model;
use nmpu_config::NmpuConfig;
use serde::Serialize;

/// One engine's errors against the f64 reference.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EngineReport {
    pub engine: &'static str,
    pub elements: u64,
    /// Elements whose output code differs from the reference code.
    pub output_mismatches: u64,
    /// |code - reference code|, output LSBs.
    pub output_vs_code: ErrStats,
    /// |code - clamp(reference real output)|, output LSBs.
    pub output_vs_real: ErrStats,
    /// |affine - reference|, in LSBs of the affine format; absent when fused.
    /// Stage errors leave out elements saturated at or before that stage.
    pub affine: Option<ErrStats>,
    /// |batch_norm - reference|, output LSBs.
    pub batch_norm: ErrStats,
    /// |activation - reference|, output LSBs.
    pub activation: ErrStats,
    /// Elements saturated at affine, batch_norm, requantize (fixed-point only).
    pub saturations: [u64; 3],
}

impl EngineReport {
    pub fn mismatch_rate(&self) -> f64 {
        if self.elements == 0 {
            0.0
        } else {
            self.output_mismatches as f64 / self.elements as f64
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub fixed: EngineReport,
    pub fp16: EngineReport,
    #[serde(skip)]
    pub quant_report: QuantReport,
    #[serde(skip)]
    pub f16_overflows: Vec<Saturation>,
}

/// Runs every row of ADC codes through the three models and collects the errors.
pub fn compare(
    cfg: &NmpuConfig,
    real: &RealCoeffs,
    rows: &[Vec<i64>],
) -> Result<Comparison, ModelError> {
    let (codes, quant_report) = quantize(cfg, real)?;
    let (f16c, f16_overflows) = to_f16(cfg, real)?;
    let fixed = FixedModel::new(cfg, codes)?;
    let fp16 = Fp16Model::new(cfg, f16c)?;
    let reference = F64Model::new(cfg, real.clone())?;
    let (out_min, out_max) = reference.out_range();
    let aff_lsb = cfg.affine.format.lsb();
    let bn_lsb = cfg.batch_norm.format.lsb();
    let out_scale = (cfg.output.format.frac as f64).exp2();

    let mut fx = EngineReport {
        engine: "fixed",
        affine: (!cfg.fuse_affine_bn).then(ErrStats::default),
        ..Default::default()
    };
    let mut fp = EngineReport {
        engine: "fp16",
        affine: Some(ErrStats::default()),
        ..Default::default()
    };
    crate::data::check_rows(cfg, rows)?;
    for row in rows {
        for (col, &x) in row.iter().enumerate() {
            let rf = reference.trace(col, x);
            let real_out = rf.output_real.clamp(out_min as f64, out_max as f64);

            let t = fixed.trace(col, x)?;
            fx.elements += 1;
            fx.output_mismatches += u64::from(t.output != rf.output);
            fx.output_vs_code.add((t.output - rf.output) as f64);
            fx.output_vs_real.add(t.output as f64 - real_out);
            // A saturated stage value is far from the reference by design; it is counted
            // in `saturations`, and its effect shows in the output rows.
            if let (Some(s), Some(y), false) = (fx.affine.as_mut(), t.affine, t.saturated[0]) {
                s.add((y as f64 * aff_lsb - rf.affine) / aff_lsb);
            }
            if !t.saturated[0] && !t.saturated[1] {
                fx.batch_norm
                    .add((t.batch_norm as f64 * bn_lsb - rf.batch_norm) * out_scale);
                fx.activation
                    .add((t.activation as f64 * bn_lsb - rf.activation) * out_scale);
            }
            for (n, s) in fx.saturations.iter_mut().zip(t.saturated) {
                *n += u64::from(s);
            }

            let h = fp16.trace(col, x);
            fp.elements += 1;
            fp.output_mismatches += u64::from(h.output != rf.output);
            fp.output_vs_code.add((h.output - rf.output) as f64);
            fp.output_vs_real.add(h.output as f64 - real_out);
            if let Some(s) = fp.affine.as_mut() {
                s.add((h.affine.to_f64() - rf.affine) / aff_lsb);
            }
            fp.batch_norm
                .add((h.batch_norm.to_f64() - rf.batch_norm) * out_scale);
            fp.activation
                .add((h.activation.to_f64() - rf.activation) * out_scale);
        }
    }
    Ok(Comparison {
        fixed: fx,
        fp16: fp,
        quant_report,
        f16_overflows,
    })
}
