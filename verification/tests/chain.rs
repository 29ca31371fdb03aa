//! The chain ADC capture -> NMPU under Verilator, end to end against the golden models:
//! the pulses of each accepted window give codes by the ADC's definition (saturated counts,
//! subtracted), and the NMPU's golden model turns them into the expected output beats, in
//! order, whatever the backpressure.

use nmpu_config::NmpuConfig;
use nmpu_model::adc::Window;
use nmpu_model::FixedModel;
use nmpu_verification::check::lane_word;
use nmpu_verification::nmpu_dut::load_coefficients;
use nmpu_verification::stimulus::{random_case, Coefficients};
use nmpu_verification::verilator::{build, Dut};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

fn chain(cfg: &NmpuConfig, seed: u64, windows: usize) -> usize {
    let rtl = nmpu_rtl::generate(cfg).unwrap();
    let all = rtl.elaborate(nmpu_rtl::Block::TileIo);
    let built = build(&all, "tile_io").unwrap();
    let mut d = Dut::load(&built).unwrap();
    let p = |n: &str| d.port(n).unwrap();
    let (n, lanes) = (cfg.columns as usize, cfg.lanes as usize);
    let (reset, start, start_ready, m_ready, m_valid, m_col) = (
        p("reset"),
        p("start"),
        p("start_ready"),
        p("m_ready"),
        p("m_valid"),
        p("m_col"),
    );
    let pos = d.port_vec("pulse_pos", n).unwrap();
    let neg = d.port_vec("pulse_neg", n).unwrap();
    let y = d.port_vec("m_y", lanes).unwrap();

    // Coefficients (random, biased to extremes) through the configuration port.
    let case = random_case(cfg, seed, 0, 0.0, 0.0);
    let Coefficients::Fixed(codes) = &case.coeffs else {
        unreachable!("a fixed-point case")
    };
    let model = FixedModel::new(cfg, codes.clone()).unwrap();
    d.set(&reset, 1);
    d.cycle(false);
    d.set(&reset, 0);
    load_coefficients(&mut d, &case.writes).unwrap();

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let rates: Vec<(f64, f64)> = (0..n)
        .map(|_| (rng.random(), rng.random::<f64>() * 0.5))
        .collect();
    let mut counting: Option<Window> = None;
    let mut expected: VecDeque<(u32, Vec<i64>)> = VecDeque::new();
    let (mut started, mut beats) = (0, 0);
    let total_beats = windows * n / lanes;
    for cycle in 0..(windows * (cfg.adc.window as usize + 8 * n) + 1000) {
        let go = started < windows && rng.random_bool(0.3);
        let ready = rng.random_bool(0.7);
        let pulses: Vec<(bool, bool)> = rates
            .iter()
            .map(|&(a, b)| (rng.random_bool(a), rng.random_bool(b)))
            .collect();
        d.set(&start, u64::from(go));
        d.set(&m_ready, u64::from(ready));
        for (c, &(a, b)) in pulses.iter().enumerate() {
            d.set(&pos[c], u64::from(a));
            d.set(&neg[c], u64::from(b));
        }
        d.cycle(false);
        let (p, q): (Vec<bool>, Vec<bool>) = pulses.iter().copied().unzip();
        if let Some(x) = counting.as_mut().and_then(|w| w.edge(&p, &q)) {
            counting = None;
            let mut out = vec![0; n];
            model.run(0, &x, &mut out).unwrap();
            for (b, beat) in out.chunks(lanes).enumerate() {
                expected.push_back(((b * lanes) as u32, beat.to_vec()));
            }
        }
        if go && d.get(&start_ready) != 0 {
            assert!(counting.is_none());
            counting = Some(Window::new(cfg));
            started += 1;
        }
        if ready && d.get(&m_valid) != 0 {
            let (col, want) = expected
                .pop_front()
                .unwrap_or_else(|| panic!("cycle {cycle}: an output beat before its window ended"));
            assert_eq!(
                d.get(&m_col) as u32,
                col,
                "cycle {cycle}: beats out of order"
            );
            let got: Vec<u64> = y.iter().map(|p| d.get(p)).collect();
            let want_words: Vec<u64> = want.iter().map(|&v| u64::from(lane_word(v))).collect();
            assert_eq!(
                got,
                want_words,
                "cycle {cycle}, column {col}: output differs\nconfig:\n{}",
                cfg.to_toml_string()
            );
            beats += 1;
        }
        if beats == total_beats {
            break;
        }
    }
    assert_eq!(beats, total_beats, "{started} windows started");
    assert!(expected.is_empty());
    beats
}

#[test]
fn default_chain_matches_the_golden_models_end_to_end() {
    let cfg = NmpuConfig::default();
    assert_eq!(chain(&cfg, 1, 3), 3 * 32);
}

#[test]
fn small_chains_with_short_windows() {
    for (seed, toml) in [
        (
            2,
            "columns = 12\nlanes = 3\nin_bits = 8\n[adc]\nwindow = 200",
        ),
        (
            3,
            "columns = 8\nlanes = 8\nin_bits = 6\nfuse_affine_bn = true\n[adc]\nwindow = 40",
        ),
    ] {
        let cfg = NmpuConfig::from_toml_str(toml).unwrap();
        chain(&cfg, seed, 20);
    }
}
