//! A weight matrix larger than one tile, split over tiles. Rows (inputs) beyond a tile's
//! go to further row blocks, columns to further column blocks; each tile has its own
//! devices and ADCs. Where the partial sums meet: as in aihwkit (`simulator/tiles/
//! array.py`), digitally after each tile's ADC. With per-column ADC mismatch a raw sum of
//! codes is no longer an affine function of the output, so each row block's codes are
//! corrected on their own (an affine stage per tile column: one NMPU affine lane per
//! tile, or the affine stage replicated) and the corrected partial sums are added before
//! batch-norm, which then needs `ceil(log2(row blocks))` more integer bits.

use crate::params::TileParams;
use crate::tile::{AdcTruth, Tile};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A dense matrix, row-major; in a layer, rows are inputs and columns outputs.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    pub rows: usize,
    pub columns: usize,
    pub data: Vec<f64>,
}

impl Matrix {
    pub fn new(rows: usize, columns: usize, data: Vec<f64>) -> Result<Matrix, String> {
        if data.len() != rows * columns {
            return Err(format!(
                "{} values for a {rows} x {columns} matrix",
                data.len()
            ));
        }
        Ok(Matrix {
            rows,
            columns,
            data,
        })
    }

    /// Rows `r0..r1`, columns `c0..c1`.
    pub fn block(&self, r0: usize, r1: usize, c0: usize, c1: usize) -> Matrix {
        let data = (r0..r1)
            .flat_map(|r| {
                self.data[r * self.columns + c0..r * self.columns + c1]
                    .iter()
                    .copied()
            })
            .collect();
        Matrix {
            rows: r1 - r0,
            columns: c1 - c0,
            data,
        }
    }
}

/// A layer's weights on as many tiles as it needs.
#[derive(Clone, Debug)]
pub struct Layer {
    rows: usize,
    columns: usize,
    tile_rows: usize,
    tile_columns: usize,
    /// Row block by row block, each a row of column blocks.
    tiles: Vec<Vec<Tile>>,
}

impl Layer {
    /// Programs `weights` onto tiles of `params`' size; tile `(i, j)` gets the `i`-th seed
    /// of a stream seeded by `seed` for row block `i`, column block `j` in order.
    pub fn program(params: &TileParams, weights: &Matrix, seed: u64) -> Result<Layer, String> {
        params.check()?;
        let (tr, tc) = (params.rows, params.columns);
        let mut seeds = ChaCha8Rng::seed_from_u64(seed);
        let mut tiles = vec![];
        for r0 in (0..weights.rows).step_by(tr) {
            let mut row = vec![];
            for c0 in (0..weights.columns).step_by(tc) {
                let block = weights.block(
                    r0,
                    (r0 + tr).min(weights.rows),
                    c0,
                    (c0 + tc).min(weights.columns),
                );
                row.push(Tile::program(params, &block, seeds.random())?);
            }
            tiles.push(row);
        }
        Ok(Layer {
            rows: weights.rows,
            columns: weights.columns,
            tile_rows: tr,
            tile_columns: tc,
            tiles,
        })
    }

    pub fn row_blocks(&self) -> usize {
        self.tiles.len()
    }

    pub fn tiles(&self) -> usize {
        self.tiles.iter().map(Vec::len).sum()
    }

    fn split<'a>(&self, x: &'a [i64]) -> Result<Vec<&'a [i64]>, String> {
        if x.len() != self.rows {
            return Err(format!(
                "an input of {} codes for a layer of {} rows",
                x.len(),
                self.rows
            ));
        }
        Ok(x.chunks(self.tile_rows).collect())
    }

    /// One product of input codes `x`: per row block, the ADC codes of every layer column.
    pub fn mvm(&mut self, x: &[i64]) -> Result<Vec<Vec<i64>>, String> {
        let parts = self.split(x)?;
        let mut out = vec![];
        for (row, xp) in self.tiles.iter_mut().zip(parts) {
            let mut codes = Vec::with_capacity(self.columns);
            for t in row.iter_mut() {
                codes.extend(t.mvm(xp)?);
            }
            out.push(codes);
        }
        Ok(out)
    }

    /// [`Layer::mvm`] with the noise of draw `draw` on every tile (see [`Tile::mvm_draw`]).
    pub fn mvm_draw(&self, x: &[i64], draw: u64) -> Result<Vec<Vec<i64>>, String> {
        let parts = self.split(x)?;
        let mut out = vec![];
        for (row, xp) in self.tiles.iter().zip(parts) {
            let mut codes = Vec::with_capacity(self.columns);
            for t in row {
                codes.extend(t.mvm_draw(xp, draw)?);
            }
            out.push(codes);
        }
        Ok(out)
    }

    /// Per row block, the ideal partial output of every layer column (their sum over the
    /// blocks is the layer's ideal output).
    pub fn ideal(&self, x: &[i64]) -> Result<Vec<Vec<f64>>, String> {
        let parts = self.split(x)?;
        self.tiles
            .iter()
            .zip(parts)
            .map(|(row, xp)| {
                let mut y = Vec::with_capacity(self.columns);
                for t in row {
                    y.extend(t.ideal(xp)?);
                }
                Ok(y)
            })
            .collect()
    }

    /// Per row block, every layer column's ADC (see [`AdcTruth`]).
    pub fn truth(&self) -> Vec<AdcTruth> {
        self.tiles
            .iter()
            .map(|row| {
                let (mut gain, mut offset) = (vec![], vec![]);
                for t in row {
                    let a = t.truth();
                    gain.extend(a.gain);
                    offset.extend(a.offset);
                }
                AdcTruth { gain, offset }
            })
            .collect()
    }

    /// Columns per tile.
    pub fn tile_columns(&self) -> usize {
        self.tile_columns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_matrix_splits_and_its_parts_add_up() {
        let p = TileParams {
            rows: 256,
            columns: 256,
            ..TileParams::default()
        };
        let (rows, columns) = (600, 300);
        let data = (0..rows * columns)
            .map(|i| ((i * 7919 % 1000) as f64 - 500.0) / 500.0)
            .collect();
        let m = Matrix::new(rows, columns, data).unwrap();
        let mut l = Layer::program(&p, &m, 5).unwrap();
        assert_eq!((l.row_blocks(), l.tiles()), (3, 6));
        let x: Vec<i64> = (0..rows as i64).map(|i| (i * 31 % 256) - 128).collect();
        let parts = l.ideal(&x).unwrap();
        for c in [0, 255, 256, 299] {
            let whole: f64 = (0..rows)
                .map(|r| m.data[r * columns + c] * x[r] as f64)
                .sum();
            let sum: f64 = parts.iter().map(|p| p[c]).sum();
            assert!(
                (whole - sum).abs() < 1e-9 * whole.abs().max(1.0),
                "column {c}"
            );
        }
        let codes = l.mvm(&x).unwrap();
        assert_eq!(codes.len(), 3);
        assert!(codes.iter().all(|c| c.len() == columns));
        let truth = l.truth();
        assert_eq!(truth[2].gain.len(), columns);
        // Every tile has ADCs of its own.
        assert_ne!(truth[0].gain[0], truth[1].gain[0]);
        assert!(l.mvm(&x[1..]).unwrap_err().contains("599 codes"));
        assert!(Matrix::new(2, 2, vec![0.0; 3]).is_err());
    }
}
