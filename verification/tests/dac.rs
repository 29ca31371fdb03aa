//! The generated PWM DAC under Verilator against its cycle-level golden model.

use nmpu_config::NmpuConfig;
use nmpu_verification::dac_cosim::{run_dac, Codes, DacDut, DacReport, DacStimulus};

fn stim(seed: u64, cycles: usize, codes: Codes) -> DacStimulus {
    DacStimulus {
        seed,
        cycles,
        codes,
        p_valid: 0.6,
        p_start: 0.5,
        reset_at: None,
    }
}

fn check(dut: &mut DacDut, cfg: &NmpuConfig, s: &DacStimulus) -> DacReport {
    run_dac(dut, cfg, s, None)
        .unwrap()
        .unwrap_or_else(|m| panic!("{m}"))
}

#[test]
fn default_config_random_codes_and_corners() {
    let cfg = NmpuConfig::default();
    let mut dut = DacDut::new(&cfg).unwrap();
    eprintln!("PWM DAC built in {:.1} s", dut.build_seconds);
    let r = check(&mut dut, &cfg, &stim(1, 6 * 128, Codes::Random));
    assert!(r.drives >= 3 && r.enable_cycles > 0, "{r:?}");
    // No pulses for zero codes; full-period pulses on every row for the most negative code.
    let r = check(&mut dut, &cfg, &stim(2, 4 * 128, Codes::Zero));
    assert!(r.drives >= 2 && r.enable_cycles == 0, "{r:?}");
    let r = check(&mut dut, &cfg, &stim(3, 4 * 128, Codes::Min));
    assert!(r.drives >= 2 && r.enable_cycles >= 256 * 128, "{r:?}");
    let r = check(&mut dut, &cfg, &stim(4, 4 * 128, Codes::Max));
    assert!(r.drives >= 2 && r.enable_cycles >= 256 * 127, "{r:?}");
}

#[test]
fn two_phase_prescaled_and_reset_in_mid_drive() {
    let cfg = NmpuConfig::from_toml_str(
        "[dac]\nrows = 24\nlanes = 6\nbits = 6\ncycles_per_lsb = 3\ntwo_phase = true",
    )
    .unwrap();
    let mut dut = DacDut::new(&cfg).unwrap();
    let r = check(&mut dut, &cfg, &stim(5, 2000, Codes::Random));
    assert!(r.drives >= 5, "{r:?}");
    for (seed, at) in [(6, 10), (7, 100), (8, 150)] {
        let s = DacStimulus {
            reset_at: Some(at),
            ..stim(seed, 600, Codes::Random)
        };
        check(&mut dut, &cfg, &s);
    }
}

/// Two-bit codes (-2 ..= 1), two-phase, prescaled: the config the property test shrank to
/// when its stimulus once drew the out-of-range code 2.
#[test]
fn two_bit_codes() {
    let cfg = NmpuConfig::from_toml_str(
        "[dac]\nrows = 6\nbits = 2\nlanes = 2\ncycles_per_lsb = 2\ntwo_phase = true",
    )
    .unwrap();
    let mut dut = DacDut::new(&cfg).unwrap();
    let r = check(
        &mut dut,
        &cfg,
        &stim(9129613476070643110, 2000, Codes::Random),
    );
    assert!(r.drives > 50, "{r:?}");
}

/// The comparison must be able to fail: a model with one fewer cycle per LSB differs.
#[test]
fn a_wrong_prescaler_is_caught() {
    let cfg = NmpuConfig::from_toml_str("[dac]\nrows = 8\nlanes = 4\nbits = 4\ncycles_per_lsb = 2")
        .unwrap();
    let mut dut = DacDut::new(&cfg).unwrap();
    let mut wrong = cfg.clone();
    wrong.dac.cycles_per_lsb = 1;
    let m = run_dac(&mut dut, &wrong, &stim(9, 300, Codes::Random), None)
        .unwrap()
        .expect_err("must differ");
    assert!(m.contains("MISMATCH at cycle"), "{m}");
}

mod random_configs {
    use super::*;
    use nmpu_config::strategies;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 6, failure_persistence: None, ..ProptestConfig::default() })]

        /// Random rows, lanes, code widths, prescalers, one- and two-phase.
        #[test]
        fn random_config_matches_the_cycle_model(cfg in strategies::config(8), seed in any::<u64>()) {
            let mut dut = DacDut::new(&cfg).map_err(|e| TestCaseError::fail(format!("{e:#}")))?;
            let cycles = 4 * cfg.dac_period() as usize + 200;
            let r = run_dac(&mut dut, &cfg, &stim(seed, cycles, Codes::Random), None).unwrap();
            prop_assert!(r.is_ok(), "{}", r.unwrap_err());
        }
    }
}
