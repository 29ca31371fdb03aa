//! Coefficient quantization against the `fixed` crate, an independent implementation of
//! round-to-nearest-even, saturating float-to-fixed conversion.

use fixed::types::extra::{U11, U14, U3, U7};
use fixed::{FixedI16, FixedI32, FixedU16, FixedU8};
use nmpu_config::{NmpuConfig, QFormat};
use nmpu_model::{quantize, quantize_real, RealCoeffs};
use proptest::prelude::*;

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        -3.0f64..3.0,
        -300.0f64..300.0,
        -1e6f64..1e6,
        // Exact ties at every fraction up to 2^-16.
        (-1000i64..1000, 1u32..16).prop_map(|(k, f)| (k as f64 + 0.5) * (-(f as f64)).exp2()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn matches_fixed_crate(v in value()) {
        let q = |s, i, f| quantize_real(v, &QFormat::new(s, i, f)).0;
        prop_assert_eq!(q(false, 1, 7), FixedU8::<U7>::saturating_from_num(v).to_bits() as i64);
        prop_assert_eq!(q(true, 2, 14), FixedI16::<U14>::saturating_from_num(v).to_bits() as i64);
        prop_assert_eq!(q(true, 13, 3), FixedI16::<U3>::saturating_from_num(v).to_bits() as i64);
        prop_assert_eq!(q(false, 5, 11), FixedU16::<U11>::saturating_from_num(v).to_bits() as i64);
        prop_assert_eq!(q(true, 18, 14), FixedI32::<U14>::saturating_from_num(v).to_bits() as i64);
    }
}

#[test]
fn saturated_coefficients_are_reported() {
    let cfg = NmpuConfig::from_toml_str("columns = 4\nlanes = 1").unwrap();
    let mut real = RealCoeffs::identity(4);
    real.g = vec![0.05; 4]; // the default scale format holds [-1/8, 1/8)
    real.a[2] = 5.0; // the default gain format holds [0, 2)
    real.h[1] = -1e9;
    let (codes, report) = quantize(&cfg, &real).unwrap();
    let names: Vec<_> = report
        .saturated
        .iter()
        .map(|s| (s.name, s.column))
        .collect();
    assert_eq!(names, vec![("a", 2), ("h", 1)]);
    assert_eq!(codes.a[2], cfg.coefficients.a.max_code());
    assert_eq!(codes.h[1], cfg.coefficients.h.min_code());
}

#[test]
fn nan_and_infinite_coefficients_are_errors() {
    let cfg = NmpuConfig::from_toml_str("columns = 2\nlanes = 1").unwrap();
    for bad in [f64::NAN, f64::INFINITY] {
        let mut real = RealCoeffs::identity(2);
        real.g[1] = bad;
        let e = quantize(&cfg, &real).unwrap_err().to_string();
        assert!(e.contains("g[1]"), "{e}");
    }
}
