//! The whole tile I/O chain: PWM DAC (RTL) -> behavioural crossbar with per-column ADC gain
//! and offset error -> ADC capture and NMPU (RTL), against the golden models of all three
//! blocks, bit for bit; and, with coefficients calibrated on the crossbar, the corrected
//! outputs track the ideal matrix-vector product.

use nmpu_config::NmpuConfig;
use nmpu_model::adc::Window;
use nmpu_model::dac::{DacIn, PwmDac};
use nmpu_model::{quantize, CoeffCodes, FixedModel, RealCoeffs};
use nmpu_tile::calibrate::{coefficients, fit, BatchNorm, Method};
use nmpu_tile::TileParams;
use nmpu_verification::check::lane_word;
use nmpu_verification::crossbar::Crossbar;
use nmpu_verification::nmpu_dut::load_coefficients;
use nmpu_verification::stimulus::writes_for;
use nmpu_verification::verilator::{build, Dut};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

const CONFIG: &str = r#"
columns = 16
lanes = 4
in_bits = 8
activation = "none"
[coefficients]
a = { signed = false, int = 5, frac = 10 }
b = { signed = true, int = 10, frac = 2 }
g = { signed = true, int = -1, frac = 18 }
h = { signed = true, int = 8, frac = 2 }
[affine]
format = { signed = true, int = 12, frac = 2 }
[batch_norm]
format = { signed = true, int = 9, frac = 4 }
[adc]
window = 64
[dac]
rows = 16
bits = 5
lanes = 4
cycles_per_lsb = 4
"#;

const GMAX: i64 = 2;

fn random_x(rng: &mut ChaCha8Rng, cfg: &NmpuConfig) -> Vec<i64> {
    let half = 1i64 << (cfg.dac.bits - 1);
    (0..cfg.dac.rows)
        .map(|_| rng.random_range(-half..half))
        .collect()
}

/// ADC codes of one drive of `x`, by the blocks' definitions (PWM: row r enabled for the
/// first |x_r| * cycles_per_lsb cycles; the window is the drive).
fn model_codes(xbar: &mut Crossbar, cfg: &NmpuConfig, x: &[i64]) -> Vec<i64> {
    let n = cfg.columns as usize;
    let (mut p, mut q) = (vec![false; n], vec![false; n]);
    let sign: Vec<bool> = x.iter().map(|&v| v < 0).collect();
    let mut window = Window::new(cfg);
    for t in 0.. {
        let en: Vec<bool> = x
            .iter()
            .map(|&v| t < v.abs() * i64::from(cfg.dac.cycles_per_lsb))
            .collect();
        xbar.cycle(&en, &sign, &mut p, &mut q);
        if let Some(codes) = window.edge(&p, &q) {
            return codes;
        }
    }
    unreachable!("a window ends")
}

/// The calibration library on 60 measurements of the crossbar (ideal products and the ADC
/// codes of their drives): affine `a`, `b` back to ideal units, batch-norm scaling the
/// ideal range onto the int8 output.
fn calibrate(
    xbar: &mut Crossbar,
    cfg: &NmpuConfig,
    rng: &mut ChaCha8Rng,
    y_scale: f64,
) -> RealCoeffs {
    let (mut refs, mut codes) = (vec![], vec![]);
    for _ in 0..60 {
        let x = random_x(rng, cfg);
        refs.push(xbar.ideal(&x).iter().map(|&y| y as f64).collect());
        codes.push(model_codes(xbar, cfg, &x));
    }
    let fits = fit(&refs, &codes, Method::LeastSquares, None).unwrap();
    coefficients(&fits, cfg, &BatchNorm::Uniform { g: y_scale, h: 0.0 }).unwrap()
}

/// Mean |output - ideal| in output LSBs over `vectors`, by the golden models alone.
fn model_error(
    xbar: &mut Crossbar,
    cfg: &NmpuConfig,
    codes: &CoeffCodes,
    vectors: &[Vec<i64>],
    y_scale: f64,
) -> f64 {
    let m = FixedModel::new(cfg, codes.clone()).unwrap();
    let mut total = 0.0;
    for x in vectors {
        let y = xbar.ideal(x);
        let code = model_codes(xbar, cfg, x);
        for c in 0..cfg.columns as usize {
            total += (m.eval(c, code[c]).unwrap() as f64 - y[c] as f64 * y_scale).abs();
        }
    }
    total / (vectors.len() * cfg.columns as usize) as f64
}

#[test]
fn dac_crossbar_adc_nmpu_end_to_end() {
    let cfg = NmpuConfig::from_toml_str(CONFIG).unwrap();
    assert_eq!(
        cfg.dac_period(),
        u64::from(cfg.adc.window),
        "the window is one drive"
    );
    let (n, lanes) = (cfg.columns as usize, cfg.lanes as usize);
    let (rows, dlanes) = (cfg.dac.rows as usize, cfg.dac.lanes as usize);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    // Nominal ADC gain: full-scale |y| (16 rows x 16 x 2) to about 60 codes; the tile
    // model's ADC mismatch, larger than its defaults (which are sized for a 13-bit ADC):
    // gains 10 % RMS, offsets 1.5 % of the half range (2 codes).
    let y_max = (rows as i64 * (1 << (cfg.dac.bits - 1)) * GMAX) as f64;
    let nominal = 60.0 / y_max / f64::from(cfg.dac.cycles_per_lsb);
    let params = TileParams {
        adc_gain_sigma: 0.10,
        adc_offset_sigma: 0.015,
        ..TileParams::for_config(&cfg)
    };
    let mut xbar = Crossbar::new(&cfg, &params, 7, GMAX, nominal);
    let y_scale = 127.0 / y_max;

    // Calibration on the crossbar, and the uncalibrated baseline (nominal gain, no offset).
    let real = calibrate(&mut xbar.clone(), &cfg, &mut rng, y_scale);
    let (codes, report) = quantize(&cfg, &real).unwrap();
    assert!(report.saturated.is_empty(), "{}", report.summary());
    let nominal_real = RealCoeffs {
        a: vec![1.0 / (nominal * f64::from(cfg.dac.cycles_per_lsb)); n],
        b: vec![0.0; n],
        g: vec![y_scale; n],
        h: vec![0.0; n],
    };
    let (nominal_codes, _) = quantize(&cfg, &nominal_real).unwrap();
    let test: Vec<Vec<i64>> = (0..40).map(|_| random_x(&mut rng, &cfg)).collect();
    let calibrated = model_error(&mut xbar.clone(), &cfg, &codes, &test, y_scale);
    let uncalibrated = model_error(&mut xbar.clone(), &cfg, &nominal_codes, &test, y_scale);
    // The floor: the same conductances read by mismatch-free, dark-free ADCs.
    let ideal_adcs = TileParams {
        adc_gain_sigma: 0.0,
        adc_offset_sigma: 0.0,
        ..params
    };
    let mut perfect = Crossbar::new(&cfg, &ideal_adcs, 7, GMAX, nominal);
    assert_eq!(perfect.g, xbar.g);
    let floor = model_error(&mut perfect, &cfg, &nominal_codes, &test, y_scale);
    eprintln!(
        "mean |output - ideal| in output LSBs: calibrated {calibrated:.2}, uncalibrated \
         {uncalibrated:.2}, mismatch-free ADCs {floor:.2}"
    );
    assert!(
        calibrated < floor + 0.35,
        "calibrated {calibrated:.2} vs floor {floor:.2}"
    );
    assert!(
        calibrated * 2.0 < uncalibrated,
        "{calibrated:.2} vs {uncalibrated:.2}"
    );

    // The RTL chain: DAC and tile_io (ADC capture -> NMPU), cycle by cycle.
    let rtl = nmpu_rtl::generate(&cfg).unwrap();
    let file = |name: &str| {
        let block = nmpu_rtl::Block::from_module(name.trim_end_matches(".v")).unwrap();
        rtl.get(block).to_string()
    };
    let mut dac = Dut::load(&build(&file("pwm_dac.v"), "pwm_dac").unwrap()).unwrap();
    let tile_src = file("nmpu.v") + &file("adc_capture.v") + &file("tile_io.v");
    let mut tile = Dut::load(&build(&tile_src, "tile_io").unwrap()).unwrap();
    let dp = |d: &Dut, name: &str| d.port(name).unwrap();
    let (d_reset, d_valid, d_start) = (dp(&dac, "reset"), dp(&dac, "s_valid"), dp(&dac, "start"));
    let (d_ready, d_start_ready) = (dp(&dac, "s_ready"), dp(&dac, "start_ready"));
    let d_x = dac.port_vec("s_x", dlanes).unwrap();
    let d_en = dac.port_vec("pwm_en", rows).unwrap();
    let d_sign = dac.port_vec("pwm_sign", rows).unwrap();
    let (t_reset, t_start, t_start_ready) = (
        dp(&tile, "reset"),
        dp(&tile, "start"),
        dp(&tile, "start_ready"),
    );
    let (t_ready, t_valid, t_col) = (
        dp(&tile, "m_ready"),
        dp(&tile, "m_valid"),
        dp(&tile, "m_col"),
    );
    let t_pos = tile.port_vec("pulse_pos", n).unwrap();
    let t_neg = tile.port_vec("pulse_neg", n).unwrap();
    let t_y = tile.port_vec("m_y", lanes).unwrap();

    dac.set(&d_reset, 1);
    tile.set(&t_reset, 1);
    dac.cycle(false);
    tile.cycle(false);
    dac.set(&d_reset, 0);
    tile.set(&t_reset, 0);
    load_coefficients(&mut tile, &writes_for(&cfg, &codes, &mut rng)).unwrap();

    let model = FixedModel::new(&cfg, codes.clone()).unwrap();
    let mut dac_model = PwmDac::new(&cfg);
    dac_model.step(&DacIn {
        reset: true,
        ..DacIn::default()
    });
    let mut beats: VecDeque<Vec<i64>> = test
        .iter()
        .flat_map(|x| x.chunks(dlanes).map(|c| c.to_vec()).collect::<Vec<_>>())
        .collect();
    let mut loaded: VecDeque<usize> = VecDeque::new(); // vectors in the DAC's fill buffer
    let mut sent_rows = 0;
    // The vector being driven and its ADC window.
    let mut window: Option<(usize, Window)> = None;
    let mut expected: VecDeque<(u32, Vec<i64>)> = VecDeque::new();
    let (mut out_beats, mut err_sum, mut err_n) = (0usize, 0.0, 0usize);
    let (mut p, mut q) = (vec![false; n], vec![false; n]);
    for cycle in 0..20_000 {
        // DAC inputs, then its outputs of this cycle (registered: they do not depend on them).
        let beat = beats.front().cloned();
        dac.set(&d_valid, u64::from(beat.is_some()));
        for (port, &v) in d_x.iter().zip(beat.iter().flatten()) {
            dac.set(port, (v as u64) & 0xffff);
        }
        dac.set(&d_start, 0);
        dac.peek();
        tile.set(&t_start, 0);
        tile.peek();
        let go = dac.get(&d_start_ready) != 0 && tile.get(&t_start_ready) != 0 && window.is_none();
        dac.set(&d_start, u64::from(go));
        tile.set(&t_start, u64::from(go));
        let en: Vec<bool> = d_en.iter().map(|port| dac.get(port) != 0).collect();
        let sign: Vec<bool> = d_sign.iter().map(|port| dac.get(port) != 0).collect();
        let want = dac_model.step(&DacIn {
            reset: false,
            s_valid: beat.is_some(),
            s_x: beat.clone().unwrap_or(vec![0; dlanes]),
            start: go,
        });
        assert_eq!(
            (en.clone(), sign.clone()),
            (want.en.clone(), want.sign.clone()),
            "cycle {cycle}: DAC outputs"
        );
        xbar.cycle(&en, &sign, &mut p, &mut q);
        for c in 0..n {
            tile.set(&t_pos[c], u64::from(p[c]));
            tile.set(&t_neg[c], u64::from(q[c]));
        }
        let ready = rng.random_bool(0.8);
        tile.set(&t_ready, u64::from(ready));
        let dac_took = beat.is_some() && dac.get(&d_ready) != 0;
        dac.cycle(false);
        tile.cycle(false);

        if let Some((v, code)) = window
            .as_mut()
            .and_then(|(v, w)| Some((*v, w.edge(&p, &q)?)))
        {
            window = None;
            let y = xbar.ideal(&test[v]);
            let mut out = vec![0; n];
            model.run(0, &code, &mut out).unwrap();
            for (&o, &y) in out.iter().zip(&y) {
                err_sum += (o as f64 - y as f64 * y_scale).abs();
                err_n += 1;
            }
            for (b, beat) in out.chunks(lanes).enumerate() {
                expected.push_back(((b * lanes) as u32, beat.to_vec()));
            }
        }
        if dac_took {
            beats.pop_front();
            sent_rows += dlanes;
            if sent_rows % rows == 0 {
                loaded.push_back(sent_rows / rows - 1);
            }
        }
        if go {
            let v = loaded.pop_front().expect("a start with no loaded vector");
            window = Some((v, Window::new(&cfg)));
        }
        if ready && tile.get(&t_valid) != 0 {
            let (c, want) = expected
                .pop_front()
                .unwrap_or_else(|| panic!("cycle {cycle}: output before its window"));
            assert_eq!(tile.get(&t_col) as u32, c, "cycle {cycle}");
            let got: Vec<u64> = t_y.iter().map(|port| tile.get(port)).collect();
            let want_words: Vec<u64> = want.iter().map(|&v| u64::from(lane_word(v))).collect();
            assert_eq!(
                got, want_words,
                "cycle {cycle}, columns {c}..: NMPU output differs"
            );
            out_beats += 1;
        }
        if out_beats == test.len() * n / lanes {
            break;
        }
    }
    assert_eq!(out_beats, test.len() * n / lanes, "every vector came out");
    let rtl_error = err_sum / err_n as f64;
    eprintln!(
        "RTL chain: {} vectors, mean |output - ideal| {rtl_error:.2} LSB",
        test.len()
    );
    assert!(rtl_error < 1.5, "{rtl_error}");
}
