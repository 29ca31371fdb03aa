//! The network on analog tiles with an NMPU after each layer.
//!
//! Each dense layer is one tile of as many rows as the layer has inputs (an assumption
//! that spares partial sums; the 64-core chip's 256-row cores would split the first
//! layer in four and add calibrated partial sums digitally, see nmpu-tile's `layer`), its
//! weights transposed so that rows are inputs. Activations travel as int8 codes: the
//! image as `round(127 p)`, each later layer's input the previous NMPU's output code. Per
//! column, the NMPU's affine stage maps the ADC code back to the ideal output in nominal
//! ADC codes (calibrated on the tile from the first training images' activations), and
//! its batch-norm stage folds the layer's bias, the network's batch-norm and the scales
//! of its input and output codes; ReLU and requantization give the next layer's int8
//! code. The last layer has no ReLU of its own; the NMPU design is one for every layer, so
//! its logits are shifted up by half the output range (the class, an argmax, does not
//! change) to pass its ReLU.

use crate::data::Split;
use crate::mlp::{Dense, Mlp};
use anyhow::{Context, Result};
use nmpu_config::NmpuConfig;
use nmpu_model::RealCoeffs;
use nmpu_tile::calibrate::{fit, Method};
use nmpu_tile::{Layer, Matrix, TileParams};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Images calibrating each layer's tile (their activations there).
pub const CALIBRATION_IMAGES: usize = 256;

/// The share of the ADC's range a layer's largest calibration output reaches.
pub const FULL_SCALE_USE: f64 = 0.75;

/// The code scale of activations: the largest int8 code.
const CODE_MAX: f64 = 127.0;

/// Where a layer's values sit in codes.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerMap {
    /// Real value of one input code.
    pub s_in: f64,
    /// Real value of one output code.
    pub s_out: f64,
    /// Added to every output code (the last layer's shift).
    pub offset: f64,
}

/// The network's code scales, from its float activations on `calibration` images: each
/// hidden layer's largest activation maps to code 127, the logits' largest magnitude to
/// 60 (then shifted by 64).
pub fn map(mlp: &Mlp, calibration: &Split) -> Vec<LayerMap> {
    let n = mlp.layers.len();
    let mut peak = vec![0.0f64; n];
    for i in 0..calibration.len() {
        for (l, v) in mlp.trace(calibration.image(i)).iter().enumerate() {
            peak[l] = v.iter().fold(peak[l], |m, x| m.max(x.abs()));
        }
    }
    let mut s_in = 1.0 / CODE_MAX;
    (0..n)
        .map(|l| {
            let last = l + 1 == n;
            let s_out = peak[l].max(1e-12) / if last { 60.0 } else { CODE_MAX };
            let m = LayerMap {
                s_in,
                s_out,
                offset: if last { 64.0 } else { 0.0 },
            };
            s_in = s_out;
            m
        })
        .collect()
}

/// An image's codes at the first layer.
pub fn image_codes(x: &[f32]) -> Vec<i64> {
    x.iter()
        .map(|&p| (f64::from(p) * CODE_MAX).round().clamp(0.0, CODE_MAX) as i64)
        .collect()
}

/// The config an NMPU of `outputs` columns of `cfg`'s formats has.
pub fn layer_config(cfg: &NmpuConfig, outputs: usize) -> Result<NmpuConfig> {
    let mut c = cfg.clone();
    c.columns = outputs as u32;
    c.lanes = 1;
    c.validate().context("the NMPU config for a layer")?;
    Ok(c)
}

/// One layer on its tile, with the NMPU coefficients of its columns.
#[derive(Clone, Debug)]
pub struct TileLayer {
    pub tile: Layer,
    /// Nominal ADC codes per unit of `W x` (the tile's weights as given, inputs as codes).
    pub k_nom: f64,
    /// Calibrated affine `a`, `b` with the folded batch-norm `g`, `h`.
    pub calibrated: RealCoeffs,
    /// The same with the nominal affine (`a = 1`, `b = 0`): an uncalibrated tile.
    pub nominal: RealCoeffs,
    /// The largest ADC code magnitude a fixed-point NMPU must carry through its affine
    /// stage: the calibration's largest code with half again as margin, within the ADC's.
    pub code_max: f64,
}

impl TileLayer {
    pub fn outputs(&self) -> usize {
        self.calibrated.columns()
    }
}

/// A network programmed on tiles: one [`TileLayer`] per dense layer.
#[derive(Clone, Debug)]
pub struct Network {
    pub layers: Vec<TileLayer>,
}

/// Draw numbers (see [`nmpu_tile::Tile::mvm_draw`]) of the calibration images; a split's
/// images use `0 ..` (test) or [`VALIDATION_DRAWS`]` ..`.
pub const CALIBRATION_DRAWS: u64 = 1 << 40;
pub const VALIDATION_DRAWS: u64 = 1 << 32;

/// The batch-norm stage's `g`, `h` of `layer` under `m`, with `y` in nominal ADC codes.
fn folded(layer: &Dense, m: &LayerMap, k_nom: f64) -> (Vec<f64>, Vec<f64>) {
    let (scale, shift) = match &layer.bn {
        Some(bn) => bn.affine(),
        None => (vec![1.0; layer.outputs], vec![0.0; layer.outputs]),
    };
    let g = scale
        .iter()
        .map(|s| s * m.s_in / (k_nom * m.s_out))
        .collect();
    let h = (0..layer.outputs)
        .map(|c| (scale[c] * f64::from(layer.bias[c]) + shift[c]) / m.s_out + m.offset)
        .collect();
    (g, h)
}

/// Moves a power of two of each column's batch-norm scale `g` into its affine stage (`a`,
/// `b` times `2^k`, `g` over it: the same product) when `g` is beyond its format and the
/// affine coefficients and result have room, so that an unfused config's formats hold the
/// column; a fused config folds the two anyway. `code_max` bounds the ADC codes' magnitude.
pub fn balance(k: &mut RealCoeffs, cfg: &NmpuConfig, code_max: f64) {
    if cfg.fuse_affine_bn {
        return;
    }
    let f = &cfg.coefficients;
    for c in 0..k.columns() {
        let mut shift = 0;
        while k.g[c].abs() / 2f64.powi(shift) > f.g.max_value() && shift < 8 {
            shift += 1;
        }
        let m = 2f64.powi(shift);
        let fits = k.a[c] * m <= f.a.max_value()
            && (k.b[c] * m).abs() <= f.b.max_value()
            && (k.a[c] * code_max + k.b[c].abs()) * m <= cfg.affine.format.max_value();
        if shift > 0 && fits {
            k.a[c] *= m;
            k.b[c] *= m;
            k.g[c] /= m;
        }
    }
}

/// The seed of layer `l`'s tiles in analog draw `seed`: distinct for every (seed, layer)
/// pair, so two seeds share no tile.
fn layer_seed(seed: u64, l: usize) -> u64 {
    let mut s = ChaCha8Rng::seed_from_u64(seed);
    s.set_stream(l as u64);
    s.random()
}

/// Programs every layer of `mlp` on tiles of `params` (analog draw `seed`) and calibrates
/// each on `calibration`'s activations (the float network's, as codes). Tiles of the same
/// seed and weights with other ADC parameters (a mismatch-free tile) get the same
/// conductances and noise: only the ADCs differ.
pub fn program(
    mlp: &Mlp,
    maps: &[LayerMap],
    params: &TileParams,
    calibration: &Split,
    seed: u64,
) -> Result<Network> {
    let mut out = vec![];
    for (l, (layer, m)) in mlp.layers.iter().zip(maps).enumerate() {
        let (n_in, n_out) = (layer.inputs, layer.outputs);
        let mut t = vec![0.0; n_in * n_out];
        for o in 0..n_out {
            for i in 0..n_in {
                t[i * n_out + o] = f64::from(layer.weight[o * n_in + i]);
            }
        }
        let w_max = t.iter().fold(0.0f64, |a, w| a.max(w.abs())).max(1e-30);
        let weights = Matrix::new(n_in, n_out, t).map_err(anyhow::Error::msg)?;
        let inputs: Vec<Vec<i64>> = (0..calibration.len())
            .map(|i| input_codes(mlp, maps, l, calibration.image(i)))
            .collect();
        // The ADC's full scale for this layer (its integration window, in the chip's CCO
        // ADCs): the calibration images' largest ideal output at FULL_SCALE_USE of it.
        let peak = inputs
            .iter()
            .map(|x| {
                (0..n_out)
                    .map(|o| {
                        let row = &layer.weight[o * n_in..(o + 1) * n_in];
                        row.iter()
                            .zip(x)
                            .map(|(&w, &v)| f64::from(w) * v as f64)
                            .sum::<f64>()
                            .abs()
                    })
                    .fold(0.0f64, f64::max)
            })
            .fold(0.0f64, f64::max);
        let p = TileParams {
            rows: n_in,
            columns: n_out,
            out_bound: (peak / (w_max * params.x_max()) / FULL_SCALE_USE).max(1e-6),
            ..params.clone()
        };
        let k_nom = p.adc_half() / p.out_bound / (w_max * p.x_max());
        let tile = Layer::program(&p, &weights, layer_seed(seed, l))
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("programming layer {l}"))?;
        let (mut refs, mut codes) = (vec![], vec![]);
        for (i, x) in inputs.iter().enumerate() {
            let y = tile.ideal(x).map_err(anyhow::Error::msg)?.swap_remove(0);
            refs.push(y.iter().map(|v| v * k_nom).collect());
            let draw = CALIBRATION_DRAWS + i as u64;
            codes.push(
                tile.mvm_draw(x, draw)
                    .map_err(anyhow::Error::msg)?
                    .swap_remove(0),
            );
        }
        let fits = fit(&refs, &codes, Method::LeastSquares, Some(p.code_range()))
            .with_context(|| format!("calibrating layer {l}"))?;
        let (g, h) = folded(layer, m, k_nom);
        let calibrated = RealCoeffs {
            a: fits.iter().map(|f| 1.0 / f.gain).collect(),
            b: fits.iter().map(|f| -f.offset / f.gain).collect(),
            g: g.clone(),
            h: h.clone(),
        };
        let nominal = RealCoeffs {
            a: vec![1.0; n_out],
            b: vec![0.0; n_out],
            g,
            h,
        };
        let seen = codes.iter().flatten().fold(0i64, |m, c| m.max(c.abs())) as f64;
        out.push(TileLayer {
            tile,
            k_nom,
            calibrated,
            nominal,
            code_max: (1.5 * seen).min(p.adc_half()),
        });
    }
    Ok(Network { layers: out })
}

/// Layer `l`'s input codes for image `x` through the float network (its activations
/// quantized to that layer's input scale).
fn input_codes(mlp: &Mlp, maps: &[LayerMap], l: usize, x: &[f32]) -> Vec<i64> {
    if l == 0 {
        return image_codes(x);
    }
    let act = &mlp.trace(x)[l - 1];
    act.iter()
        .map(|&v| (v / maps[l].s_in).round().clamp(-128.0, CODE_MAX) as i64)
        .collect()
}
