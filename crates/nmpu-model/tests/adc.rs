//! The cycle model of the ADC capture block against its transaction-level definition: each
//! window's codes are the saturated pulse counts of exactly the `window` edges after its
//! start, subtracted, read out in column order.

use nmpu_config::NmpuConfig;
use nmpu_model::adc::{AdcCapture, AdcIn, Window};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn run(cfg: &NmpuConfig, seed: u64, p_pulse: f64, p_start: f64, p_ready: f64) -> usize {
    let n = cfg.columns as usize;
    let lanes = cfg.lanes as usize;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut m = AdcCapture::new(cfg);
    // Pulse totals of the window in progress, and codes expected, in window order.
    let mut counting: Option<Window> = None;
    let mut expected: std::collections::VecDeque<Vec<i64>> = Default::default();
    let mut readout: Vec<i64> = vec![];
    let mut windows = 0;
    for _ in 0..20_000 {
        let i = AdcIn {
            reset: false,
            start: rng.random_bool(p_start),
            pulse_pos: (0..n).map(|_| rng.random_bool(p_pulse)).collect(),
            pulse_neg: (0..n).map(|_| rng.random_bool(p_pulse / 2.0)).collect(),
            m_ready: rng.random_bool(p_ready),
        };
        let o = m.step(&i);
        if let Some(codes) = counting
            .as_mut()
            .and_then(|w| w.edge(&i.pulse_pos, &i.pulse_neg))
        {
            expected.push_back(codes);
            counting = None;
        }
        if i.start && o.start_ready {
            assert!(counting.is_none(), "a start was accepted during a window");
            counting = Some(Window::new(cfg));
        }
        if o.m_valid && i.m_ready {
            assert_eq!(o.m_col as usize, readout.len());
            readout.extend(&o.m_x);
            if readout.len() == n {
                let want = expected.pop_front().expect("a readout with no window");
                assert_eq!(readout, want);
                readout.clear();
                windows += 1;
            }
        }
        assert_eq!(o.m_x.len(), lanes);
    }
    windows
}

#[test]
fn windows_read_out_their_saturated_counts() {
    let mut cfg = NmpuConfig::from_toml_str("columns = 12\nlanes = 4\nin_bits = 6").unwrap();
    cfg.adc.window = 40; // up to 40 pulses into 5-bit counters: saturation happens
    assert!(run(&cfg, 1, 0.9, 0.3, 0.5) > 50);
    assert!(run(&cfg, 2, 0.2, 0.9, 0.1) > 20);
    cfg.adc.window = 1;
    assert!(run(&cfg, 3, 0.5, 0.5, 0.9) > 1000);
}

#[test]
fn windows_run_back_to_back_while_the_previous_is_read_out() {
    let mut cfg = NmpuConfig::from_toml_str("columns = 8\nlanes = 2\nin_bits = 6").unwrap();
    cfg.adc.window = 10;
    let mut m = AdcCapture::new(&cfg);
    let idle = AdcIn {
        start: true,
        pulse_pos: vec![true; 8],
        pulse_neg: vec![false; 8],
        m_ready: true,
        ..AdcIn::default()
    };
    let accepts: Vec<usize> = (0..100).filter(|_| m.step(&idle).start_ready).collect();
    // Starts at cycles 0, 11, 22, ...: one window every window + 1 cycles.
    let gaps: Vec<usize> = accepts.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.iter().all(|&g| g == 11), "{accepts:?}");
}
