//! The data a command runs on: the user's files (read by `nmpu_model::data`), or a
//! synthetic calibrated tile ([`crate::synthetic`]) of a given size and seed.

use crate::synthetic::Synthetic;
use nmpu_config::NmpuConfig;
use nmpu_model::data::{load_coeffs, load_input};
use nmpu_model::{ModelError, RealCoeffs};
use std::path::Path;

/// Coefficients and rows of ADC codes, with a description of where each came from.
pub struct Data {
    pub coeffs: RealCoeffs,
    pub rows: Vec<Vec<i64>>,
    pub coeffs_source: String,
    pub rows_source: String,
}

/// The files when given, else the synthetic tile of `rows` rows and `seed` (its
/// coefficients are those of the tile's calibration).
pub fn load_data(
    cfg: &NmpuConfig,
    coeffs: Option<&Path>,
    input: Option<&Path>,
    rows: usize,
    seed: u64,
) -> Result<Data, ModelError> {
    if rows == 0 {
        return Err(ModelError::Shape("--rows must be at least 1".into()));
    }
    let synthetic = format!("synthetic, seed {seed}");
    let (file_coeffs, file_rows) = (
        coeffs.map(|p| load_coeffs(p, cfg)).transpose()?,
        input.map(|p| load_input(p, cfg)).transpose()?,
    );
    let tile = if file_coeffs.is_none() || file_rows.is_none() {
        let n = if file_rows.is_some() { 0 } else { rows };
        Some(
            Synthetic::for_config(cfg)
                .generate(cfg, n, seed)
                .map_err(ModelError::Shape)?,
        )
    } else {
        None
    };
    let (tile_coeffs, tile_rows) = tile.map_or((None, None), |t| (Some(t.coeffs), Some(t.rows)));
    Ok(Data {
        coeffs: file_coeffs.or(tile_coeffs).expect("a file or the tile"),
        rows: file_rows.or(tile_rows).expect("a file or the tile"),
        coeffs_source: coeffs.map_or(synthetic.clone(), |p| p.display().to_string()),
        rows_source: input.map_or(synthetic, |p| p.display().to_string()),
    })
}
