//! The FP16 baseline NMPU (`nmpu_fp16`) under Verilator against the FP16 golden model,
//! bit for bit, through the same harness as the fixed-point NMPU: backpressure, one beat
//! per clock, reset, corner sweeps (every ADC code in every column against boundary
//! binary16 coefficients: zeros, subnormals, the largest values, infinities, NaN) and
//! random configs.

use half::f16;
use nmpu_config::NmpuConfig;
use nmpu_model::fp16::{fma, from_code};
use nmpu_rtl::generate::Datapath;
use nmpu_verification::cosim::{RunOptions, Session};
use nmpu_verification::stimulus::{corner_case_for, CaseSpec, Coefficients};

mod common;

use common::{check, failure_dir};

fn session(cfg: &NmpuConfig) -> Session {
    common::session(Datapath::Fp16, cfg)
}

#[test]
fn default_config_backpressure_throughput_and_reset() {
    let cfg = NmpuConfig::default();
    let mut s = session(&cfg);
    let per_row = cfg.beats_per_row() as usize;
    let spec = |seed, rows, p_gap, p_stall| CaseSpec::Random {
        seed,
        rows,
        p_gap,
        p_stall,
    };
    let r = check(
        &mut s,
        spec(41, 64, 0.2, 0.3),
        &RunOptions::default(),
        "fp16-bp",
    );
    assert_eq!((r.beats_in, r.beats_out), (64 * per_row, 64 * per_row));
    assert!(r.cycles > 64 * per_row * 5 / 4, "no stalls happened");

    let r = check(
        &mut s,
        spec(42, 16, 0.0, 0.0),
        &RunOptions::default(),
        "fp16-tp",
    );
    let (first, last) = (r.first_output_cycle.unwrap(), r.last_output_cycle.unwrap());
    assert_eq!(first, nmpu_rtl::FP16_LATENCY, "latency");
    assert_eq!(last - first + 1, 16 * per_row, "one beat per clock");

    for (seed, reset_at) in [(43, 100), (44, 7)] {
        let opts = RunOptions {
            reset_at: Some(reset_at),
            ..RunOptions::default()
        };
        let r = check(&mut s, spec(seed, 4, 0.1, 0.3), &opts, "fp16-reset");
        assert!(r.dropped_by_reset > 0 && r.dropped_by_reset <= nmpu_rtl::FP16_LATENCY);
        assert_eq!(r.beats_out + r.dropped_by_reset, r.beats_in, "{r:?}");
    }
}

/// Every 13-bit ADC code in every column, twice, with boundary and ordinary binary16
/// coefficients; the sweep must reach the conversion's rounding (codes above 2048), FMA
/// results that are subnormal, infinite and NaN, output rounding ties, and both output
/// limits.
#[test]
fn default_config_corner_sweep() {
    let cfg = NmpuConfig::default();
    let mut s = session(&cfg);
    let (mut subnormal, mut infinite, mut nan, mut rounded_x) = (0, 0, 0, 0);
    // Outputs exactly halfway between two codes (ties to even decide them).
    let mut output_ties = 0;
    let (mut at_min, mut at_max) = (0, 0);
    let out = cfg.output.format;
    for pass in 0..2 {
        let case = corner_case_for(Datapath::Fp16, &cfg, 1, pass);
        let Coefficients::Fp16(c) = &case.coeffs else {
            unreachable!("an FP16 case")
        };
        let mut elements = 0;
        for b in &case.beats {
            for (l, &x) in b.x.iter().enumerate() {
                let col = b.col as usize + l;
                let x16 = from_code(x);
                rounded_x += usize::from(x16.to_f64() != x as f64);
                let z = fma(c.g[col], fma(c.a[col], x16, c.b[col]), c.h[col]);
                let scaled = z.to_f64() * f64::from(out.frac).exp2();
                output_ties += usize::from(scaled.is_finite() && scaled.fract().abs() == 0.5);
                for v in [fma(c.a[col], x16, c.b[col]), z] {
                    subnormal += usize::from(v.classify() == std::num::FpCategory::Subnormal);
                    infinite += usize::from(v.is_infinite());
                    nan += usize::from(v.is_nan());
                }
                elements += 1;
            }
        }
        let expected = case.expected().unwrap();
        at_min += expected
            .iter()
            .filter(|&&y| y == out.min_code().max(0))
            .count();
        at_max += expected.iter().filter(|&&y| y == out.max_code()).count();
        let r = check(
            &mut s,
            CaseSpec::Corner { seed: 1, pass },
            &RunOptions::default(),
            "fp16-corners",
        );
        assert_eq!(r.elements, elements);
        assert_eq!(elements, 8192 * 256);
    }
    eprintln!(
        "FP16 corner sweep: {rounded_x} inputs rounded, {subnormal} subnormal / {infinite} infinite / {nan} NaN FMA results, {output_ties} output ties, {at_min} at min / {at_max} at max"
    );
    assert!(rounded_x > 0 && subnormal > 0 && infinite > 0 && nan > 0 && output_ties > 0);
    // After the default ReLU the lowest output is 0.
    assert!(at_min > 0 && at_max > 0);
}

/// The checker must be able to fail: one binary16 ulp on one column's affine gain in the
/// golden model only is caught at that column.
#[test]
fn a_one_ulp_coefficient_error_is_caught() {
    let cfg = NmpuConfig::default();
    let mut s = session(&cfg);
    let spec = CaseSpec::Random {
        seed: 45,
        rows: 8,
        p_gap: 0.1,
        p_stall: 0.1,
    };
    let case = spec.build_for(Datapath::Fp16, &cfg);
    let good = case.expected().unwrap();
    let (bad, column) = (0..cfg.columns as usize)
        .find_map(|col| {
            let mut bad = case.clone();
            let Coefficients::Fp16(c) = &mut bad.coeffs else {
                unreachable!("an FP16 case")
            };
            let a = &mut c.a[col];
            *a = f16::from_bits(a.to_bits() ^ 1);
            (bad.expected().unwrap() != good).then_some((bad, col))
        })
        .expect("some column shows a one-ulp gain change");
    assert!(s.run(&case, &RunOptions::default()).unwrap().is_ok());
    let m = s
        .run(&bad, &RunOptions::default())
        .unwrap()
        .expect_err("a one-ulp error must be caught");
    assert_eq!(m.column, column);
}

mod random_configs {
    use super::*;
    use nmpu_config::strategies;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3, failure_persistence: None, ..ProptestConfig::default() })]

        /// Random configs (input widths, lanes, output formats and overflow modes,
        /// activation): the FP16 top follows them all.
        #[test]
        fn random_config_matches_the_fp16_model(cfg in strategies::config(32), seed in any::<u64>()) {
            let mut s = Session::for_datapath(Datapath::Fp16, &cfg)
                .map_err(|e| TestCaseError::fail(format!("{e:#}")))?;
            let spec = CaseSpec::Random { seed, rows: 24, p_gap: 0.25, p_stall: 0.25 };
            let r = s.check(&spec, &RunOptions::default(), &failure_dir("fp16-random-config")).unwrap();
            prop_assert!(r.is_ok(), "{spec}\n{}", r.unwrap_err());
            let corner = CaseSpec::Corner { seed, pass: 0 };
            let r = s.check(&corner, &RunOptions::default(), &failure_dir("fp16-random-config")).unwrap();
            prop_assert!(r.is_ok(), "{corner}\n{}", r.unwrap_err());
        }
    }
}
