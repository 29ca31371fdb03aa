//! The generated ADC capture block under Verilator against its cycle-level golden model.

use nmpu_config::NmpuConfig;
use nmpu_verification::adc_cosim::{run_adc, AdcDut, AdcReport, AdcStimulus, Pulses};

fn stim(seed: u64, cycles: usize, pulses: Pulses) -> AdcStimulus {
    AdcStimulus {
        seed,
        cycles,
        pulses,
        p_start: 0.5,
        p_ready: 0.6,
        reset_at: None,
    }
}

fn check(dut: &mut AdcDut, cfg: &NmpuConfig, s: &AdcStimulus) -> AdcReport {
    run_adc(dut, cfg, s, None)
        .unwrap()
        .unwrap_or_else(|m| panic!("{m}"))
}

#[test]
fn default_config_random_pulses_and_backpressure() {
    let cfg = NmpuConfig::default();
    let mut dut = AdcDut::new(&cfg).unwrap();
    eprintln!("ADC capture built in {:.1} s", dut.build_seconds);
    let r = check(&mut dut, &cfg, &stim(1, 3 * 4097 + 200, Pulses::Random));
    assert!(r.windows_started >= 3, "{r:?}");
    assert!(r.beats_out >= 2 * 32, "{r:?}");
    // Columns with a rate of 1 saturate over a 4096-cycle window.
    assert!(r.at_max > 0 && r.at_min > 0, "{r:?}");
}

/// Zero input, full-rate input of either sign (counter saturation), and both at once.
#[test]
fn default_config_corners() {
    let cfg = NmpuConfig::default();
    let mut dut = AdcDut::new(&cfg).unwrap();
    let cycles = 2 * 4097 + 100;
    let r = check(&mut dut, &cfg, &stim(2, cycles, Pulses::Zero));
    assert!(r.beats_out >= 32 && r.at_max == 0 && r.at_min == 0, "{r:?}");
    let r = check(&mut dut, &cfg, &stim(3, cycles, Pulses::AllPositive));
    assert_eq!(
        r.at_max,
        8 * r.beats_out,
        "every code saturated at +4095: {r:?}"
    );
    let r = check(&mut dut, &cfg, &stim(4, cycles, Pulses::AllNegative));
    assert_eq!(
        r.at_min,
        8 * r.beats_out,
        "every code saturated at -4095: {r:?}"
    );
    let r = check(&mut dut, &cfg, &stim(5, cycles, Pulses::Both));
    assert!(r.beats_out >= 32 && r.at_max == 0, "{r:?}");
}

#[test]
fn reset_in_mid_window_and_mid_readout() {
    let cfg = NmpuConfig::from_toml_str("columns = 16\nlanes = 4\n[adc]\nwindow = 20").unwrap();
    let mut dut = AdcDut::new(&cfg).unwrap();
    for (seed, at) in [(6, 7), (7, 23), (8, 30), (9, 41)] {
        let s = AdcStimulus {
            reset_at: Some(at),
            ..stim(seed, 400, Pulses::Random)
        };
        let r = check(&mut dut, &cfg, &s);
        assert!(r.windows_started > 5, "{r:?}");
    }
}

/// The comparison must be able to fail: a model one window cycle short differs.
#[test]
fn a_one_cycle_window_error_is_caught_with_a_vcd() {
    let cfg = NmpuConfig::from_toml_str("columns = 8\nlanes = 2\nin_bits = 7\n[adc]\nwindow = 12")
        .unwrap();
    let mut dut = AdcDut::traced(&cfg).unwrap();
    let mut wrong = cfg.clone();
    wrong.adc.window = 11;
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let vcd = dir.join("adc-negative.vcd");
    let m = run_adc(
        &mut dut,
        &wrong,
        &stim(10, 200, Pulses::Random),
        Some((&vcd, 0, 200)),
    )
    .unwrap()
    .expect_err("a model with a shorter window must disagree");
    assert!(m.contains("MISMATCH at cycle"), "{m}");
    drop(dut); // closes the VCD
    let text = std::fs::read_to_string(&vcd).unwrap();
    assert!(text.contains("start_ready") && text.contains("pulse_pos$0"));
}

/// Models are built without tracing unless asked: a VCD from one is a clear error.
#[test]
fn an_untraced_model_refuses_a_vcd() {
    let cfg = NmpuConfig::from_toml_str("columns = 8\nlanes = 2\nin_bits = 7\n[adc]\nwindow = 12")
        .unwrap();
    let mut dut = AdcDut::new(&cfg).unwrap();
    let vcd = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("adc-untraced.vcd");
    let e = run_adc(
        &mut dut,
        &cfg,
        &stim(10, 50, Pulses::Random),
        Some((&vcd, 0, 50)),
    )
    .expect_err("an untraced model cannot write a VCD");
    assert!(format!("{e:#}").contains("built without tracing"), "{e:#}");
}

mod random_configs {
    use super::*;
    use nmpu_config::strategies;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 6, failure_persistence: None, ..ProptestConfig::default() })]

        /// Random columns, lanes, counter widths and windows (1 to 300 cycles).
        #[test]
        fn random_config_matches_the_cycle_model(cfg in strategies::config(24), seed in any::<u64>()) {
            let mut dut = AdcDut::new(&cfg).map_err(|e| TestCaseError::fail(format!("{e:#}")))?;
            let cycles = 4 * (cfg.adc.window as usize + 1) + 200;
            let r = run_adc(&mut dut, &cfg, &stim(seed, cycles, Pulses::Random), None).unwrap();
            prop_assert!(r.is_ok(), "{}", r.unwrap_err());
        }
    }
}
