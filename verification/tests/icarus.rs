//! The generated Verilog under Icarus Verilog, against the golden model.

use nmpu_config::NmpuConfig;
use nmpu_verification::{check, icarus, stimulus};

fn run(cfg: &NmpuConfig, seed: u64, rows: usize, p_gap: f64, p_stall: f64) {
    let rtl = nmpu_rtl::generate(cfg).unwrap();
    let case = stimulus::random_case(cfg, seed, rows, p_gap, p_stall);
    let got = icarus::run(&case, rtl.get(nmpu_rtl::Block::Nmpu), None).unwrap();
    check::compare(&case, &got).unwrap();
}

#[test]
fn default_config_matches_the_golden_model_with_backpressure() {
    run(&NmpuConfig::default(), 1, 4, 0.2, 0.3);
}

/// The harness must catch a one-LSB difference: the model gets a perturbed coefficient the
/// RTL never saw.
#[test]
fn a_one_lsb_coefficient_error_is_caught() {
    let cfg = NmpuConfig::default();
    let rtl = nmpu_rtl::generate(&cfg).unwrap();
    let case = stimulus::random_case(&cfg, 2, 2, 0.0, 0.0);
    let got = icarus::run(&case, rtl.get(nmpu_rtl::Block::Nmpu), None).unwrap();
    check::compare(&case, &got).expect("unperturbed case matches");
    // Perturb the affine offset of every column by one LSB in the model only.
    let mut bad = case.clone();
    let f = cfg.coefficients.b;
    let stimulus::Coefficients::Fixed(codes) = &mut bad.coeffs else {
        unreachable!("a fixed-point case")
    };
    for b in codes.b.iter_mut() {
        *b = if *b < f.max_code() { *b + 1 } else { *b - 1 };
    }
    let err = check::compare(&bad, &got).expect_err("a one-LSB error must be caught");
    assert!(err.to_string().contains("MISMATCH"), "{err}");
    // And the outputs are not a constant: the comparison had something to compare.
    let distinct: std::collections::BTreeSet<u32> = got.iter().flat_map(|b| b.y.clone()).collect();
    assert!(
        distinct.len() > 20,
        "only {} distinct output codes",
        distinct.len()
    );
}

mod random_configs {
    use super::*;
    use nmpu_config::strategies;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 40, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn random_config_matches_the_golden_model(cfg in strategies::config(8), seed in any::<u64>()) {
            let rtl = nmpu_rtl::generate(&cfg).unwrap();
            let case = stimulus::random_case(&cfg, seed, 6, 0.25, 0.25);
            let got = icarus::run(&case, rtl.get(nmpu_rtl::Block::Nmpu), None).unwrap();
            let r = check::compare(&case, &got);
            prop_assert!(r.is_ok(), "{}", r.unwrap_err());
        }
    }
}
