//! The NMPU after each layer's tile, as a function from a row of ADC codes to the next
//! layer's codes: the exact (f64) reference, the FP16 baseline, or a fixed-point config's
//! golden model, with the calibrated or the nominal affine correction.

use crate::analog::{balance, layer_config, Network, TileLayer};
use anyhow::{Context, Result};
use nmpu_config::NmpuConfig;
use nmpu_model::{quantize, to_f16, F64Model, FixedModel, Fp16Model, RealCoeffs};
use serde::Serialize;

/// Which NMPU follows every tile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Nmpu {
    /// The exact reference: real coefficients in f64, the output rounded once.
    F64,
    /// The FP16 baseline (binary16 coefficients, singly rounded FMAs).
    Fp16,
    /// The fixed-point NMPU of the config.
    Fixed,
}

/// Which affine correction the NMPU applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Affine {
    /// Fitted on the tile (`nmpu calibrate`'s least squares).
    Calibrated,
    /// `a = 1`, `b = 0`: the tile's ADC mismatch left in.
    Nominal,
}

/// A layer's NMPU.
pub enum Stage {
    F64(F64Model),
    Fp16(Fp16Model),
    Fixed(Box<FixedModel>),
}

/// The coefficients layer `t`'s NMPU of kind `kind` and config `cfg` holds: the fixed-point
/// NMPU's balanced into its formats (see [`balance`]), the others' as fitted.
pub fn coefficients(t: &TileLayer, kind: Nmpu, cfg: &NmpuConfig, affine: Affine) -> RealCoeffs {
    let mut k = match affine {
        Affine::Calibrated => t.calibrated.clone(),
        Affine::Nominal => t.nominal.clone(),
    };
    if kind == Nmpu::Fixed {
        balance(&mut k, cfg, t.code_max);
    }
    k
}

impl Stage {
    /// Layer `t`'s NMPU: `cfg`'s formats (its column count set to the layer's outputs).
    pub fn new(t: &TileLayer, kind: Nmpu, cfg: &NmpuConfig, affine: Affine) -> Result<Stage> {
        let c = layer_config(cfg, t.outputs())?;
        let k = coefficients(t, kind, &c, affine);
        Ok(match kind {
            Nmpu::F64 => Stage::F64(F64Model::new(&c, k)?),
            Nmpu::Fp16 => Stage::Fp16(Fp16Model::new(&c, to_f16(&c, &k)?.0)?),
            Nmpu::Fixed => Stage::Fixed(Box::new(FixedModel::new(&c, quantize(&c, &k)?.0)?)),
        })
    }

    /// One per layer of `net`.
    pub fn all(net: &Network, kind: Nmpu, cfg: &NmpuConfig, affine: Affine) -> Result<Vec<Stage>> {
        net.layers
            .iter()
            .enumerate()
            .map(|(l, t)| {
                Stage::new(t, kind, cfg, affine).with_context(|| format!("layer {l}'s NMPU"))
            })
            .collect()
    }

    /// The output codes of one row of ADC codes (one per column).
    pub fn run(&self, codes: &[i64], out: &mut [i64]) -> Result<()> {
        match self {
            Stage::F64(m) => codes
                .iter()
                .zip(out.iter_mut())
                .enumerate()
                .for_each(|(c, (&x, o))| *o = m.trace(c, x).output),
            Stage::Fp16(m) => codes
                .iter()
                .zip(out.iter_mut())
                .enumerate()
                .for_each(|(c, (&x, o))| *o = m.trace(c, x).output),
            Stage::Fixed(m) => m.run(0, codes, out)?,
        }
        Ok(())
    }
}

/// How many coefficients `cfg`'s formats saturate on `net` (calibrated), per layer.
pub fn saturated(net: &Network, cfg: &NmpuConfig) -> Result<Vec<usize>> {
    net.layers
        .iter()
        .map(|t| {
            let c = layer_config(cfg, t.outputs())?;
            let k = coefficients(t, Nmpu::Fixed, &c, Affine::Calibrated);
            Ok(quantize(&c, &k)?.1.saturated.len())
        })
        .collect()
}
