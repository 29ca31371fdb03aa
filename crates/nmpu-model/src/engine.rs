//! Rows of ADC codes through one of the three models, as `nmpu run` does.

use crate::coeffs::{quantize, to_f16, RealCoeffs};
use crate::error::ModelError;
use crate::fixed::FixedModel;
use crate::fp16::Fp16Model;
use crate::reference::F64Model;
use nmpu_config::NmpuConfig;

/// Which model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// The bit-exact fixed-point NMPU.
    Fixed,
    /// The FP16 baseline: binary16 with two singly rounded FMAs.
    Fp16,
    /// The reference: real coefficients in f64, output rounded half-even once.
    F64,
}

/// The output codes, one row per input row, and warnings about the coefficients
/// (saturated by quantization, overflowing binary16).
#[derive(Debug)]
pub struct EngineRun {
    pub outputs: Vec<Vec<i64>>,
    pub warnings: Vec<String>,
}

pub fn run_rows(
    cfg: &NmpuConfig,
    real: &RealCoeffs,
    rows: &[Vec<i64>],
    engine: Engine,
) -> Result<EngineRun, ModelError> {
    crate::data::check_rows(cfg, rows)?;
    let mut outputs = vec![vec![0i64; cfg.columns as usize]; rows.len()];
    let mut warnings = vec![];
    let mut each = |f: &dyn Fn(usize, i64) -> i64| {
        for (x, o) in rows.iter().zip(outputs.iter_mut()) {
            for (col, (&x, o)) in x.iter().zip(o.iter_mut()).enumerate() {
                *o = f(col, x);
            }
        }
    };
    match engine {
        Engine::Fixed => {
            let (codes, report) = quantize(cfg, real)?;
            if !report.saturated.is_empty() {
                warnings.push(format!("coefficient quantization: {}", report.summary()));
            }
            let m = FixedModel::new(cfg, codes)?;
            for (i, (x, o)) in rows.iter().zip(outputs.iter_mut()).enumerate() {
                m.run(0, x, o)
                    .map_err(|e| ModelError::Shape(format!("input row {i}: {e}")))?;
            }
        }
        Engine::Fp16 => {
            let (c, overflowed) = to_f16(cfg, real)?;
            warnings.extend(overflowed.iter().map(|s| {
                format!(
                    "coefficient {}[{}] = {} overflows binary16 to {}",
                    s.name, s.column, s.real, s.became
                )
            }));
            let m = Fp16Model::new(cfg, c)?;
            each(&|col, x| m.trace(col, x).output);
        }
        Engine::F64 => {
            let m = F64Model::new(cfg, real.clone())?;
            each(&|col, x| m.trace(col, x).output);
        }
    }
    Ok(EngineRun { outputs, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gain 1, scale 1/16, no offsets: every engine gives x / 16 rounded half-even (exact
    /// before the output rounding in all three), ties included.
    #[test]
    fn a_sixteenth_of_the_code_from_every_engine() {
        let cfg =
            NmpuConfig::from_toml_str("columns = 3\nlanes = 1\nactivation = \"none\"").unwrap();
        let mut k = RealCoeffs::identity(3);
        k.g = vec![1.0 / 16.0; 3];
        let rows = vec![vec![-5, 0, 100], vec![127, -128, 300], vec![8, 24, -24]];
        let want = vec![vec![0, 0, 6], vec![8, -8, 19], vec![0, 2, -2]];
        for engine in [Engine::Fixed, Engine::Fp16, Engine::F64] {
            let r = run_rows(&cfg, &k, &rows, engine).unwrap();
            assert_eq!(r.outputs, want, "{engine:?}");
            assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        }
        let bad = run_rows(&cfg, &k, &[vec![0; 4]], Engine::F64).unwrap_err();
        assert!(bad.to_string().contains("4 codes"), "{bad}");
    }
}
