//! A candidate's errors against the f64 reference, computed on all cores.

use crate::data::TuneData;
use anyhow::{Context, Result};
use nmpu_config::NmpuConfig;
pub use nmpu_model::metrics::Metrics;
use nmpu_model::metrics::OutputErrors;
use nmpu_model::FixedModel;
use rayon::prelude::*;

/// The metrics of `outputs` (one code per element of `data`).
pub fn metrics_of(data: &TuneData, outputs: &[i64]) -> Metrics {
    // Partial sums in parallel, added in chunk order: the same bits on every run
    // (a work-stealing reduction would add floats in a varying order).
    let parts: Vec<OutputErrors> = outputs
        .par_chunks(4096)
        .zip(data.real.par_chunks(4096))
        .zip(data.code.par_chunks(4096))
        .map(|((o, r), c)| OutputErrors::of(o, r, c))
        .collect();
    let sums = parts
        .into_iter()
        .fold(OutputErrors::default(), OutputErrors::plus);
    sums.metrics(data.exact_mse)
}

/// Rows per parallel task: enough work per task to amortise the split.
pub const ROWS_PER_TASK: usize = 16;

/// `cfg`'s fixed-point golden model with `data`'s coefficients quantized to its formats.
/// Data of another column count than the config's (one layer of a network judged by one
/// design) get `cfg`'s formats over their columns: the formats are what is judged.
pub fn fixed_model(cfg: &NmpuConfig, data: &TuneData) -> Result<FixedModel> {
    let mut shaped;
    let cfg = if cfg.columns as usize == data.columns {
        cfg
    } else {
        shaped = cfg.clone();
        shaped.columns = data.columns as u32;
        shaped.lanes = 1;
        &shaped
    };
    let (codes, _) = nmpu_model::quantize(cfg, &data.coeffs).context("quantizing")?;
    FixedModel::new(cfg, codes).context("the fixed-point model")
}

/// The metrics of `cfg`'s fixed-point NMPU on `data`: the model and the error sums run
/// together per slice of rows, on all cores, without the whole output in memory (each
/// slice's outputs stay in a small buffer that is reused), summed in slice order.
pub fn evaluate(cfg: &NmpuConfig, data: &TuneData) -> Result<Metrics> {
    let model = fixed_model(cfg, data)?;
    let chunk = data.columns * ROWS_PER_TASK;
    let parts: Vec<OutputErrors> = data
        .xs
        .par_chunks(chunk)
        .zip(data.real.par_chunks(chunk))
        .zip(data.code.par_chunks(chunk))
        .map_init(
            || vec![0i64; chunk],
            |buf, ((x, r), c)| -> Result<OutputErrors> {
                let out = &mut buf[..x.len()];
                model.run(0, x, out)?;
                Ok(OutputErrors::of(out, r, c))
            },
        )
        .collect::<Result<_>>()?;
    Ok(parts
        .into_iter()
        .fold(OutputErrors::default(), OutputErrors::plus)
        .metrics(data.exact_mse))
}
