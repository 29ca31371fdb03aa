//! Calibration on a simulated tile: the fit recovers each column's ADC gain and offset
//! within the noise's standard error, and the NMPU with the calibrated coefficients is
//! closer to the ideal output than with nominal ones.

use nmpu_config::NmpuConfig;
use nmpu_model::{quantize, FixedModel, RealCoeffs};
use nmpu_tile::calibrate::{coefficients, fit, BatchNorm, Method};
use nmpu_tile::{Matrix, Tile, TileParams};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const ROWS: usize = 128;
const COLUMNS: usize = 64;

fn config() -> NmpuConfig {
    NmpuConfig::from_toml_str(&format!(
        "columns = {COLUMNS}\nlanes = 8\nactivation = \"none\""
    ))
    .unwrap()
}

fn weights(seed: u64) -> Matrix {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Matrix::new(
        ROWS,
        COLUMNS,
        (0..ROWS * COLUMNS)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect(),
    )
    .unwrap()
}

fn inputs(n: usize, seed: u64) -> Vec<Vec<i64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| (0..ROWS).map(|_| rng.random_range(-128..128)).collect())
        .collect()
}

/// References and codes of `xs` on `tile`.
fn measure(tile: &mut Tile, xs: &[Vec<i64>]) -> (Vec<Vec<f64>>, Vec<Vec<i64>>) {
    xs.iter()
        .map(|x| (tile.ideal(x).unwrap(), tile.mvm(x).unwrap()))
        .unzip()
}

/// Without programming noise the residuals are the reads' noise, independent of `y`: the
/// least-squares gain and offset lie within 4.5 standard errors of the truth in every
/// column (`se(gain) = rms / (sqrt(n) sd(y))`, `se(offset) = rms sqrt(1/n + mean(y)^2 /
/// (n var(y)))`).
#[test]
fn the_fit_recovers_every_columns_gain_and_offset() {
    let cfg = config();
    let params = TileParams {
        prog_coeff: [0.0; 3],
        ..TileParams::for_config(&cfg)
    };
    let mut tile = Tile::program(&params, &weights(1), 11).unwrap();
    let n = 400;
    let (refs, codes) = measure(&mut tile, &inputs(n, 2));
    let fits = fit(
        &refs,
        &codes,
        Method::LeastSquares,
        Some(params.code_range()),
    )
    .unwrap();
    let truth = tile.truth();
    for (c, f) in fits.iter().enumerate() {
        let y: Vec<f64> = refs.iter().map(|r| r[c]).collect();
        let m = y.iter().sum::<f64>() / y.len() as f64;
        let var = y.iter().map(|v| (v - m).powi(2)).sum::<f64>() / y.len() as f64;
        let k = f.points as f64;
        let se_gain = f.rms / (k.sqrt() * var.sqrt());
        let se_offset = f.rms * (1.0 / k + m * m / (k * var)).sqrt();
        assert!(
            (f.gain - truth.gain[c]).abs() < 4.5 * se_gain,
            "column {c}: {f:?} vs {}",
            truth.gain[c]
        );
        assert!(
            (f.offset - truth.offset[c]).abs() < 4.5 * se_offset,
            "column {c}: {f:?} vs {}",
            truth.offset[c]
        );
    }
}

/// On a tile with every default noise (programming, reads, output) and 5 % / 20-code ADC
/// mismatch, on inputs the calibration did not see: the NMPU with calibrated coefficients
/// is closer to the ideal output code than with the nominal gain and no offset, and within
/// 10 % of the same NMPU on a tile without ADC mismatch (the noise's floor).
#[test]
fn the_calibrated_nmpu_beats_the_uncalibrated_one() {
    let cfg = config();
    let params = TileParams::for_config(&cfg);
    let w = weights(3);
    let mut tile = Tile::program(&params, &w, 13).unwrap();
    let (refs, codes) = measure(&mut tile, &inputs(300, 4));
    let fits = fit(&refs, &codes, Method::Huber, Some(params.code_range())).unwrap();
    let y_max = refs.iter().flatten().fold(0.0f64, |m, y| m.max(y.abs()));
    let g = cfg.output.format.max_value() / y_max;
    let calibrated = coefficients(&fits, &cfg, &BatchNorm::Uniform { g, h: 0.0 }).unwrap();
    let w_max = w.data.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let nominal = 4096.0 / params.out_bound / (w_max * params.x_max());
    let mut uncalibrated = RealCoeffs::identity(COLUMNS);
    uncalibrated.a = vec![1.0 / nominal; COLUMNS];
    uncalibrated.g = calibrated.g.clone();
    let test = inputs(1000, 5);
    // Mean |output - ideal output code| over the test inputs.
    let error = |k: &RealCoeffs, tile: &mut Tile| {
        let (codes_q, report) = quantize(&cfg, k).unwrap();
        assert!(report.saturated.is_empty(), "{}", report.summary());
        let m = FixedModel::new(&cfg, codes_q).unwrap();
        let (refs, codes) = measure(tile, &test);
        let mut out = vec![0; COLUMNS];
        let mut sum = 0.0;
        for (r, c) in refs.iter().zip(&codes) {
            m.run(0, c, &mut out).unwrap();
            for (o, y) in out.iter().zip(r) {
                sum += (*o as f64 - (g * y).round().clamp(-128.0, 127.0)).abs();
            }
        }
        sum / (test.len() * COLUMNS) as f64
    };
    let (cal, uncal) = (
        error(&calibrated, &mut tile),
        error(&uncalibrated, &mut tile),
    );
    let ideal_adcs = TileParams {
        adc_gain_sigma: 0.0,
        adc_offset_sigma: 0.0,
        ..params
    };
    let floor = error(
        &uncalibrated,
        &mut Tile::program(&ideal_adcs, &w, 13).unwrap(),
    );
    eprintln!("mean |output - ideal| (output LSB): uncalibrated {uncal:.3}, calibrated {cal:.3}, mismatch-free {floor:.3}");
    assert!(
        cal < 0.9 * uncal,
        "calibrated {cal:.3} vs uncalibrated {uncal:.3}"
    );
    assert!(
        cal < 1.1 * floor,
        "calibrated {cal:.3} vs mismatch-free {floor:.3}"
    );
}
