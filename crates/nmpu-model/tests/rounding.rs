//! round_shift and fit against an exact i128 reference written from the definitions
//! "nearest integer, ties broken by rule" (not the bit tricks the model uses).

use nmpu_config::{Overflow, QFormat, Rounding};
use nmpu_model::primitives::{round_shift, Fit};
use proptest::prelude::*;

/// Exact `v / 2^s` rounded: picks the nearer of the two integer neighbours by comparing
/// distances in exact integers; ties follow the mode's rule.
fn reference_round(v: i128, s: u32, mode: Rounding) -> i128 {
    let den = 1i128 << s;
    let lo = v.div_euclid(den);
    let hi = lo + 1;
    let d_lo = v - lo * den;
    let d_hi = hi * den - v;
    if d_lo == 0 || mode == Rounding::Floor {
        return lo;
    }
    match d_lo.cmp(&d_hi) {
        std::cmp::Ordering::Less => lo,
        std::cmp::Ordering::Greater => hi,
        std::cmp::Ordering::Equal => match mode {
            Rounding::HalfUp => hi,
            Rounding::HalfEven => {
                if lo % 2 == 0 {
                    lo
                } else {
                    hi
                }
            }
            Rounding::HalfAway => {
                if v > 0 {
                    hi
                } else {
                    lo
                }
            }
            Rounding::Floor => unreachable!(),
        },
    }
}

fn reference_fit(v: i128, f: &QFormat, o: Overflow) -> i128 {
    let (lo, hi) = (f.min_code() as i128, f.max_code() as i128);
    match o {
        Overflow::Saturate => v.clamp(lo, hi),
        Overflow::Wrap => {
            let m = 1i128 << f.width();
            let w = v.rem_euclid(m);
            if f.signed && w > hi {
                w - m
            } else {
                w
            }
        }
    }
}

fn mode() -> impl Strategy<Value = Rounding> {
    prop::sample::select(Rounding::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn round_shift_matches_exact_reference(v in any::<i64>(), s in 0u32..=62, m in mode()) {
        prop_assert_eq!(round_shift(v, s, m) as i128, reference_round(v as i128, s, m));
    }

    #[test]
    fn round_shift_small_values(v in -5000i64..5000, s in 0u32..=14, m in mode()) {
        prop_assert_eq!(round_shift(v, s, m) as i128, reference_round(v as i128, s, m));
    }

    #[test]
    fn exact_ties_follow_each_mode(k in -(1i64 << 40)..(1i64 << 40), s in 1u32..=20, m in mode()) {
        let v = k * (1 << s) + (1 << (s - 1)); // exactly k + 0.5
        let got = round_shift(v, s, m);
        let want = match m {
            Rounding::Floor => k,
            Rounding::HalfUp => k + 1,
            Rounding::HalfEven => if k % 2 == 0 { k } else { k + 1 },
            Rounding::HalfAway => if k >= 0 { k + 1 } else { k },
        };
        prop_assert_eq!(got, want);
        prop_assert_eq!(got as i128, reference_round(v as i128, s, m));
    }

    #[test]
    fn fit_matches_reference(
        signed in any::<bool>(), w in 1u32..=32, v in any::<i64>(),
        o in prop::sample::select(Overflow::ALL.to_vec()),
    ) {
        let w = if signed { w.max(2) } else { w };
        let f = QFormat::new(signed, w as i32, 0);
        let (got, sat) = Fit::new(&f, o).apply(v);
        prop_assert_eq!(got as i128, reference_fit(v as i128, &f, o));
        prop_assert_eq!(sat, o == Overflow::Saturate && got != v);
    }

    #[test]
    fn fit_at_both_saturation_edges(signed in any::<bool>(), w in 1u32..=32, d in -2i64..=2) {
        let w = if signed { w.max(2) } else { w };
        let f = QFormat::new(signed, w as i32, 0);
        for o in Overflow::ALL {
            let fit = Fit::new(&f, o);
            for v in [f.min_code() + d, f.max_code() + d] {
                prop_assert_eq!(fit.apply(v).0 as i128, reference_fit(v as i128, &f, o));
            }
        }
    }
}

#[test]
fn saturation_edges_are_exact() {
    let f = QFormat::new(true, 8, 0);
    let fit = Fit::new(&f, Overflow::Saturate);
    assert_eq!(fit.apply(127), (127, false));
    assert_eq!(fit.apply(128), (127, true));
    assert_eq!(fit.apply(-128), (-128, false));
    assert_eq!(fit.apply(-129), (-128, true));
}
