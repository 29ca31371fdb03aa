//! The Verilator co-simulation: generated RTL against the golden model, bit for bit.

use nmpu_config::{NmpuConfig, Overflow};
use nmpu_rtl::generate::Datapath;
use nmpu_verification::cosim::{record_failure, RunOptions, Session};
use nmpu_verification::coverage::{coverage, Coverage, StageCoverage};
use nmpu_verification::stimulus::{corner_case, CaseSpec, Coefficients};
use nmpu_verification::{check, icarus};

mod common;

use common::{check, failure_dir};

fn session(cfg: &NmpuConfig) -> Session {
    common::session(Datapath::Fixed, cfg)
}

fn fused_example() -> NmpuConfig {
    let text = include_str!("../../configs/fused.toml");
    NmpuConfig::from_toml_str(text).unwrap()
}

#[test]
fn default_config_with_random_backpressure_loses_nothing() {
    let cfg = NmpuConfig::default();
    let mut s = session(&cfg);
    let spec = CaseSpec::Random {
        seed: 11,
        rows: 64,
        p_gap: 0.2,
        p_stall: 0.3,
    };
    let r = check(&mut s, spec, &RunOptions::default(), "backpressure");
    let beats = 64 * cfg.beats_per_row() as usize;
    assert_eq!((r.beats_in, r.beats_out), (beats, beats));
    // The flow patterns really did stall the stream.
    assert!(
        r.cycles > beats * 5 / 4,
        "{} cycles for {beats} beats",
        r.cycles
    );
}

#[test]
fn full_throughput_is_one_beat_per_clock() {
    let cfg = NmpuConfig::default();
    let mut s = session(&cfg);
    let spec = CaseSpec::Random {
        seed: 12,
        rows: 16,
        p_gap: 0.0,
        p_stall: 0.0,
    };
    let r = check(&mut s, spec, &RunOptions::default(), "throughput");
    let beats = 16 * cfg.beats_per_row() as usize;
    let (first, last) = (r.first_output_cycle.unwrap(), r.last_output_cycle.unwrap());
    assert_eq!(first, nmpu_rtl::LATENCY, "latency");
    assert_eq!(
        last - first + 1,
        beats,
        "{beats} beats must leave in {beats} cycles"
    );
}

/// Reset in the middle of a stream drops exactly the beats in flight; the coefficients stay
/// loaded and every beat accepted after the reset comes out right.
#[test]
fn reset_in_mid_stream_drops_the_beats_in_flight() {
    let cfg = NmpuConfig::default();
    let mut s = session(&cfg);
    for (seed, reset_at, p_stall) in [(13, 100, 0.0), (14, 77, 0.5), (15, 5, 0.3)] {
        let spec = CaseSpec::Random {
            seed,
            rows: 4,
            p_gap: 0.1,
            p_stall,
        };
        let opts = RunOptions {
            reset_at: Some(reset_at),
            ..RunOptions::default()
        };
        let r = check(&mut s, spec, &opts, "reset");
        assert!(
            r.dropped_by_reset > 0,
            "reset at {reset_at} dropped nothing"
        );
        assert!(r.dropped_by_reset <= nmpu_rtl::LATENCY, "{r:?}");
        assert_eq!(r.beats_out + r.dropped_by_reset, r.beats_in, "{r:?}");
        assert_eq!(r.beats_in, 4 * cfg.beats_per_row() as usize);
    }
}

fn assert_reaches_every_corner(name: &str, s: &StageCoverage, low: bool) {
    assert!(s.ties > 0, "{name}: no rounding tie");
    assert!(s.over_high > 0, "{name}: never above the range");
    assert!(!low || s.over_low > 0, "{name}: never below the range");
}

/// Every ADC code against coefficient extremes, powers of two (which put rounding ties at
/// every position) and zero, in every column, with coverage counts proving the sweep lands
/// on ties and saturates each stage at both ends.
#[test]
fn default_config_corner_sweep() {
    let cfg = NmpuConfig::default();
    let mut s = session(&cfg);
    let mut total = Coverage::default();
    for pass in 0..4 {
        let case = corner_case(&cfg, 1, pass);
        let c = coverage(&case).expect("a fixed-point case");
        total.add(&c);
        let r = check(
            &mut s,
            CaseSpec::Corner { seed: 1, pass },
            &RunOptions::default(),
            "corners",
        );
        assert_eq!(r.elements, c.elements);
    }
    eprintln!("{total}");
    assert_eq!(
        total.elements,
        4 * 8192 * 256,
        "every code in every column, four times"
    );
    assert_reaches_every_corner("affine", &total.affine.unwrap(), true);
    assert_reaches_every_corner("batch_norm", &total.batch_norm, true);
    // After ReLU the requantize input is never negative.
    assert_reaches_every_corner("requantize", &total.requantize, false);
}

/// A checker that cannot fail is worthless: the golden model gets a one-LSB coefficient
/// error the RTL never saw, and the harness must stop at that column, write the VCD and the
/// config, and name a replay command.
#[test]
fn a_one_lsb_coefficient_error_is_caught_and_recorded() {
    let cfg = NmpuConfig::default();
    let mut s = session(&cfg);
    let spec = CaseSpec::Random {
        seed: 21,
        rows: 8,
        p_gap: 0.1,
        p_stall: 0.1,
    };
    let case = spec.build(&cfg);
    let good = case.expected().unwrap();
    // The first column where one LSB on the affine offset changes an output.
    let (bad, column) = (0..cfg.columns as usize)
        .find_map(|col| {
            let mut bad = case.clone();
            let Coefficients::Fixed(codes) = &mut bad.coeffs else {
                unreachable!("a fixed-point case")
            };
            let b = &mut codes.b[col];
            *b += if *b < cfg.coefficients.b.max_code() {
                1
            } else {
                -1
            };
            (bad.expected().unwrap() != good).then_some((bad, col))
        })
        .expect("some column shows a one-LSB offset change");
    let r = s.run(&case, &RunOptions::default()).unwrap();
    assert!(r.is_ok(), "the unperturbed case must match");
    let m = s
        .run(&bad, &RunOptions::default())
        .unwrap()
        .expect_err("a one-LSB error must be caught");
    assert_eq!(m.column, column);
    assert_eq!(m.what, "output differs");
    assert_ne!(m.got, check::lane_word(m.expected));

    let dir = failure_dir("negative");
    let _ = std::fs::remove_dir_all(&dir);
    let f = record_failure(&s.built, &bad, &spec, &RunOptions::default(), m, &dir, None).unwrap();
    let vcd = std::fs::read_to_string(&f.vcd).unwrap();
    assert!(
        vcd.contains("$var") && vcd.contains("m_y$0"),
        "VCD lacks the output bus"
    );
    assert!(
        vcd.lines().filter(|l| l.starts_with('#')).count() > 4,
        "VCD has no window"
    );
    let back = NmpuConfig::from_toml_str(&std::fs::read_to_string(&f.config_file).unwrap());
    assert_eq!(back.unwrap(), cfg);
    assert_eq!((f.replay.spec, f.replay.reset_at), (spec, None));
    assert_eq!((&f.replay.config, &f.replay.vcd), (&f.config_file, &f.vcd));
    let text = f.to_string();
    for needle in [
        "MISMATCH",
        "column",
        "expected",
        "got",
        "to replay: random case: seed 21",
    ] {
        assert!(text.contains(needle), "report lacks {needle}:\n{text}");
    }
}

/// The same vectors through Icarus Verilog: the result does not rest on one simulator.
#[test]
fn icarus_agrees_on_the_same_vectors() {
    let mut narrow = fused_example();
    narrow.columns = 32;
    narrow.output.overflow = Overflow::Wrap;
    for (name, cfg) in [("default", NmpuConfig::default()), ("fused", narrow)] {
        let spec = CaseSpec::Random {
            seed: 31,
            rows: 3,
            p_gap: 0.3,
            p_stall: 0.3,
        };
        let case = spec.build(&cfg);
        let mut s = session(&cfg);
        check(&mut s, spec, &RunOptions::default(), "icarus-agrees");
        let rtl = nmpu_rtl::generate(&cfg).unwrap();
        let got = icarus::run(&case, rtl.get(nmpu_rtl::Block::Nmpu), None).unwrap();
        check::compare(&case, &got).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// The configuration on which CI's random-config run found Verilator 5.006 miscompiling the
/// rounding increment (a fused lane rounding half-away by one bit into an unsigned format):
/// the RTL gave 2.25 where the model gave 2.75. Kept as a fixed case with its seed.
#[test]
fn ci_found_case_fused_half_away_by_one_bit() {
    let cfg = NmpuConfig::from_toml_str(CI_FOUND_CONFIG).unwrap();
    let mut s = session(&cfg);
    let spec = CaseSpec::Random {
        seed: 1755665204653913451,
        rows: 24,
        p_gap: 0.25,
        p_stall: 0.25,
    };
    check(&mut s, spec, &RunOptions::default(), "ci-found");
    check(
        &mut s,
        CaseSpec::Corner { seed: 1, pass: 0 },
        &RunOptions::default(),
        "ci-found",
    );
}

const CI_FOUND_CONFIG: &str = r#"
columns = 1
lanes = 1
in_bits = 3
fuse_affine_bn = true
activation = "relu"

[coefficients.a]
signed = false
int = 0
frac = 3

[coefficients.b]
signed = false
int = 1
frac = 0

[coefficients.g]
signed = false
int = 1
frac = 0

[coefficients.h]
signed = false
int = -5
frac = 6

[affine]
rounding = "half_away"
overflow = "wrap"

[affine.format]
signed = false
int = 0
frac = 9

[batch_norm]
rounding = "half_away"
overflow = "wrap"

[batch_norm.format]
signed = false
int = 18
frac = 2

[output]
rounding = "half_away"
overflow = "wrap"

[output.format]
signed = true
int = 8
frac = 4

[adc]
count_bits = 2
window = 285

[dac]
rows = 32
bits = 2
lanes = 8
cycles_per_lsb = 2
two_phase = true
"#;

mod random_configs {
    use super::*;
    use nmpu_config::strategies;
    use proptest::prelude::*;

    fn cases() -> u32 {
        std::env::var("NMPU_COSIM_CONFIGS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(12)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

        /// Random valid configs (widths, lanes, fused or not, activation, every rounding
        /// and overflow mode, signed and unsigned formats), random coefficients and data,
        /// random gaps and stalls; each config is Verilated once and cached by its hash.
        #[test]
        fn random_config_matches_the_golden_model(cfg in strategies::config(32), seed in any::<u64>()) {
            let mut s = Session::new(&cfg).map_err(|e| TestCaseError::fail(format!("{e:#}")))?;
            let spec = CaseSpec::Random { seed, rows: 24, p_gap: 0.25, p_stall: 0.25 };
            let r = s.check(&spec, &RunOptions::default(), &failure_dir("random-config")).unwrap();
            prop_assert!(r.is_ok(), "{spec}\n{}", r.unwrap_err());
            let corner = CaseSpec::Corner { seed, pass: 0 };
            let r = s.check(&corner, &RunOptions::default(), &failure_dir("random-config")).unwrap();
            prop_assert!(r.is_ok(), "{corner}\n{}", r.unwrap_err());
        }
    }
}
