//! Shrinking of the random-config strategy the co-simulation property test draws from: a
//! failure found on a large random config must shrink to a small one a designer can read.
//! (The Verilator property test shrinks through the same strategy; rebuilding a model per
//! shrink step is too slow to demonstrate here, so the failure is a predicate.)

use nmpu_config::strategies;
use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};

#[test]
fn a_failing_config_shrinks_to_a_small_one() {
    for seed in [7u8, 1, 2, 3, 42, 99] {
        shrinks_with_seed(seed);
    }
}

fn shrinks_with_seed(seed: u8) {
    let config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    // A stand-in for a bug that needs two lanes, the unfused pipeline and inputs of at
    // least 6 bits.
    let result = runner.run(&strategies::config(256), |cfg| {
        let bug = cfg.lanes >= 2 && !cfg.fuse_affine_bn && cfg.in_bits >= 6;
        proptest::prop_assert!(!bug);
        Ok(())
    });
    let Err(TestError::Fail(_, small)) = result else {
        panic!("the predicate must fail on some random config: {result:?}");
    };
    assert_eq!(
        (small.columns, small.lanes, small.in_bits),
        (2, 2, 6),
        "{small:?}"
    );
    let widths = [
        small.coefficients.a.width(),
        small.coefficients.b.width(),
        small.output.format.width(),
    ];
    assert!(
        widths.iter().all(|&w| w <= 2),
        "widths not shrunk: {small:?}"
    );
}
