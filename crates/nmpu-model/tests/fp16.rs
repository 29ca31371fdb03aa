//! The binary16 FMA and conversions against independent implementations: rustc_apfloat
//! (LLVM's APFloat in Rust) for the FMA, the `half` crate for integer conversion.

use half::f16;
use nmpu_model::fp16::{fma, from_code, to_code};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rustc_apfloat::ieee::Half;
use rustc_apfloat::Float;

fn apfloat_fma(a: u16, b: u16, c: u16) -> u16 {
    let r = Half::from_bits(a.into())
        .mul_add(Half::from_bits(b.into()), Half::from_bits(c.into()))
        .value;
    r.to_bits() as u16
}

fn same(ours: f16, theirs: u16) -> bool {
    // NaN payloads are not specified; every other bit is.
    (ours.is_nan() && f16::from_bits(theirs).is_nan()) || ours.to_bits() == theirs
}

fn check(a: u16, b: u16, c: u16) -> Result<(), TestCaseError> {
    let ours = fma(f16::from_bits(a), f16::from_bits(b), f16::from_bits(c));
    let theirs = apfloat_fma(a, b, c);
    prop_assert!(
        same(ours, theirs),
        "fma({a:#06x}, {b:#06x}, {c:#06x}) = {:#06x}, apfloat {theirs:#06x}",
        ours.to_bits()
    );
    Ok(())
}

/// Bit patterns biased to the interesting places: zeros, subnormals, the normal/subnormal
/// boundary, near-overflow, infinities, NaN, and anything.
fn bits() -> impl Strategy<Value = u16> {
    let sign = any::<bool>().prop_map(|s| if s { 0x8000u16 } else { 0 });
    let mag = prop_oneof![
        3 => 0u16..0x7c00,
        1 => 0u16..0x0010,
        1 => 0x03f0u16..0x0410,
        1 => 0x7800u16..0x7c00,
        1 => Just(0x7c00u16),
        1 => Just(0x7e00u16),
        1 => 0x3800u16..0x4400,
    ];
    (sign, mag).prop_map(|(s, m)| s | m)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20000))]

    #[test]
    fn fma_matches_apfloat(a in bits(), b in bits(), c in bits()) {
        check(a, b, c)?;
    }

    /// Cancellation: c close to -a*b, where the exact sum keeps few bits.
    #[test]
    fn fma_cancellation_matches_apfloat(a in bits(), b in bits(), d in -8i32..8) {
        let p = f16::from_f64(f16::from_bits(a).to_f64() * f16::from_bits(b).to_f64());
        let c = (-p).to_bits().wrapping_add(d as u16);
        check(a, b, c)?;
    }
}

#[test]
fn fma_matches_apfloat_on_a_million_uniform_triples() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x0f16);
    for _ in 0..1_000_000 {
        let (a, b, c) = (
            rng.random::<u16>(),
            rng.random::<u16>(),
            rng.random::<u16>(),
        );
        check(a, b, c).unwrap();
    }
}

#[test]
fn code_conversion_matches_half_for_every_24_bit_code() {
    for x in -(1i64 << 23)..(1i64 << 23) {
        let want = f16::from_f64(x as f64);
        assert_eq!(from_code(x).to_bits(), want.to_bits(), "x = {x}");
    }
}

/// Integer reference for the output conversion: exact significand arithmetic in i128.
fn reference_to_code(z: f16, frac: u32, min: i64, max: i64) -> i64 {
    if z.is_nan() {
        return 0;
    }
    if z.is_infinite() {
        return if z.is_sign_negative() { min } else { max };
    }
    let bits = z.to_bits();
    let e = ((bits >> 10) & 0x1f) as i32;
    let m = (bits & 0x3ff) as i128;
    let (sig, exp) = if e == 0 {
        (m, -24)
    } else {
        (m | 0x400, e - 25)
    };
    let sig = if bits & 0x8000 != 0 { -sig } else { sig };
    let p = exp + frac as i32; // value = sig * 2^p
    let v = if p >= 0 {
        sig << p
    } else {
        let den = 1i128 << -p;
        let q = sig.div_euclid(den);
        let r = sig.rem_euclid(den);
        if 2 * r > den || (2 * r == den && q % 2 != 0) {
            q + 1
        } else {
            q
        }
    };
    v.clamp(min as i128, max as i128) as i64
}

#[test]
fn output_conversion_matches_integer_reference_for_every_binary16() {
    for frac in [0u32, 1, 3, 8] {
        for (min, max) in [(-128, 127), (0, 255), (-32768, 32767)] {
            for bits in 0..=u16::MAX {
                let z = f16::from_bits(bits);
                assert_eq!(
                    to_code(z, frac, min, max),
                    reference_to_code(z, frac, min, max),
                    "z = {bits:#06x} frac {frac} range {min}..{max}"
                );
            }
        }
    }
}
