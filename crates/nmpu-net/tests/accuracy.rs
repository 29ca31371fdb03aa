//! The network on tiles, on the digits: the code mapping against the float network's own
//! arithmetic, calibration against the tiles' true ADCs, pairing and determinism, and the
//! report's figures against each other.

use nmpu_config::NmpuConfig;
use nmpu_net::accuracy::{accuracy, correct, split_codes, Setup, Variant};
use nmpu_net::analog::{layer_config, Network, CALIBRATION_IMAGES};
use nmpu_net::data::Which;
use nmpu_net::infer::{first_codes, run};
use nmpu_net::stage::{Affine, Nmpu, Stage};
use nmpu_net::train::cache_dir;

fn setup() -> Setup {
    Setup::new(
        Which::Digits,
        &NmpuConfig::default(),
        &cache_dir(),
        &|_, _| {},
    )
    .unwrap()
}

/// The next layer's codes as the float network computes them from this layer's input
/// codes: `bn(W (x s_in) + b)` (and ReLU where the layer has it) over `s_out`, plus the
/// offset, then the NMPU's ReLU, clamped to int8 (written here from the float layer, not
/// from the tile path's folding).
fn expected(s: &Setup, l: usize, x: &[i64]) -> Vec<f64> {
    let m = &s.maps[l];
    let xs: Vec<f64> = x.iter().map(|&v| v as f64 * m.s_in).collect();
    s.mlp.layers[l]
        .pre(&xs)
        .iter()
        .map(|z| (z / m.s_out + m.offset).clamp(0.0, 127.0))
        .collect()
}

/// On ideal tiles with the f64 NMPU, every layer's output codes are the float layer's on
/// the same input codes, but for the ADC's rounding: within one code everywhere, equal
/// almost everywhere; the calibration of an ideal tile is the identity.
#[test]
fn ideal_tiles_compute_the_float_layers() {
    let mut s = setup();
    s.params = s.params.without_errors();
    let cfg = NmpuConfig::default();
    let net = s.program(1, true).unwrap();
    for t in &net.layers {
        for c in 0..t.outputs() {
            assert!(
                (t.calibrated.a[c] - 1.0).abs() < 1e-3,
                "a = {}",
                t.calibrated.a[c]
            );
            assert!(t.calibrated.b[c].abs() < 0.5, "b = {}", t.calibrated.b[c]);
        }
    }
    let stages = Stage::all(&net, Nmpu::F64, &cfg, Affine::Calibrated).unwrap();
    let (mut equal, mut total) = (0, 0);
    for i in 0..s.data.test.len() {
        let mut x = nmpu_net::analog::image_codes(s.data.test.image(i));
        for (l, (t, stage)) in net.layers.iter().zip(&stages).enumerate() {
            let codes = t.tile.mvm_draw(&x, i as u64).unwrap().swap_remove(0);
            let mut out = vec![0; codes.len()];
            stage.run(&codes, &mut out).unwrap();
            for (o, e) in out.iter().zip(expected(&s, l, &x)) {
                assert!((*o as f64 - e).abs() <= 1.0, "layer {l}: {o} vs {e}");
                equal += usize::from(*o == e.round_ties_even() as i64);
                total += 1;
            }
            x = out;
        }
    }
    let share = equal as f64 / total as f64;
    assert!(share > 0.97, "{share} of the codes equal");
}

/// Each column's calibrated affine correction undoes that column's ADC: against the same
/// tile without ADC mismatch (same conductances and noise), `a` shrinks by the true ADC
/// gain and `b` moves by the true offset times `a`. With a threefold mismatch, uncalibrated
/// tiles lose accuracy that calibration recovers.
#[test]
fn calibration_undoes_the_adcs_mismatch() {
    let mut s = setup();
    s.params.adc_gain_sigma = 0.15;
    s.params.adc_offset_sigma = 0.04;
    let (net, free) = (s.program(3, true).unwrap(), s.program(3, false).unwrap());
    for (t, f) in net.layers.iter().zip(&free.layers) {
        let truth = &t.tile.truth()[0];
        let nominal = &f.tile.truth()[0];
        for c in 0..t.outputs() {
            let gain = truth.gain[c] / nominal.gain[c];
            let (a, a_free) = (t.calibrated.a[c], f.calibrated.a[c]);
            assert!(
                (a_free / a / gain - 1.0).abs() < 0.005,
                "a {a}, {a_free} without mismatch, gain {gain}"
            );
            let moved = t.calibrated.b[c] - f.calibrated.b[c];
            let want = -truth.offset[c] * a;
            assert!(
                (moved - want).abs() < 2.0,
                "b moved {moved}, offset says {want}"
            );
        }
    }
    let cfg = NmpuConfig::default();
    let r = accuracy(&s, &cfg, &[3, 4, 5], &|_| {}).unwrap();
    let mean = |v: Variant| {
        r.variants
            .iter()
            .find(|f| f.variant == v)
            .unwrap()
            .spread
            .mean
    };
    let (cal, uncal, free) = (
        mean(Variant::F64),
        mean(Variant::Uncalibrated),
        mean(Variant::MismatchFree),
    );
    assert!(uncal < cal - 0.02, "uncalibrated {uncal}, calibrated {cal}");
    assert!(
        (cal - free).abs() < 0.01,
        "calibrated {cal}, mismatch-free {free}"
    );
}

/// The same seed gives the same report, on one thread as on all; the paired figures agree
/// with the variants' accuracies; every variant beats chance by far; and a fixed-point
/// NMPU of wide formats classifies as the f64 one on every image.
#[test]
fn reports_are_deterministic_and_consistent() {
    let s = setup();
    let cfg = NmpuConfig::default();
    let seeds = [1, 2];
    let r = accuracy(&s, &cfg, &seeds, &|_| {}).unwrap();
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| accuracy(&s, &cfg, &seeds, &|_| {}).unwrap());
    assert_eq!(r, one);
    let get = |v: Variant| r.variants.iter().find(|f| f.variant == v).unwrap();
    let n = r.images as f64;
    for (k, p) in r.paired.per_seed.iter().enumerate() {
        let d = get(Variant::Fixed).per_seed[k] - get(Variant::Fp16).per_seed[k];
        assert!((p.diff - d).abs() < 1e-12);
        assert_eq!(p.fixed_only as f64 - p.fp16_only as f64, (d * n).round());
    }
    assert!(r.paired.interval.0 <= r.paired.mean && r.paired.mean <= r.paired.interval.1);
    assert!(r.variants.iter().all(|v| v.spread.min > 0.9), "{r:?}");
    assert_eq!(r.layers.len(), 3);
    assert_eq!(r.layers[0].elements, r.images * 64);

    // A wide fixed-point NMPU against the exact one, image by image on the same draws.
    let wide = NmpuConfig::from_toml_str(
        "[coefficients]\na = { signed = false, int = 2, frac = 24 }\n\
         b = { signed = true, int = 14, frac = 12 }\ng = { signed = true, int = 4, frac = 24 }\n\
         h = { signed = true, int = 10, frac = 16 }\n[affine]\nformat = { signed = true, int = 15, frac = 16 }\n\
         [batch_norm]\nformat = { signed = true, int = 10, frac = 20 }\n",
    )
    .unwrap();
    let net: Network = s.program(1, true).unwrap();
    let codes = split_codes(&s.data.test);
    let first = first_codes(&net, &codes, 0).unwrap();
    let classes = |kind, c: &NmpuConfig| {
        let st = Stage::all(&net, kind, c, Affine::Calibrated).unwrap();
        run(&net, &st, &first, 0, false).unwrap().classes
    };
    let exact = classes(Nmpu::F64, &cfg);
    assert_eq!(classes(Nmpu::Fixed, &wide), exact);
    let acc = correct(&exact, &s.data.test);
    assert_eq!(
        acc.iter().filter(|&&x| x).count() as f64 / n,
        get(Variant::F64).per_seed[0]
    );
    assert!(layer_config(&cfg, 10).is_ok());
    assert!(CALIBRATION_IMAGES <= s.calibration.len() || s.calibration.len() == s.data.train.len());
}
