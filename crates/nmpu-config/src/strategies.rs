//! Proptest strategies drawing random *valid* configurations (feature `strategies`).

use crate::{
    Activation, AdcConfig, CoefficientFormats, DacConfig, NmpuConfig, Overflow, QFormat, Rounding,
    StageConfig,
};
use proptest::prelude::*;

/// A format of `width` bits in `widths`, with up to `max_frac` fractional bits.
pub fn format(
    widths: std::ops::RangeInclusive<u32>,
    max_frac: u32,
) -> impl Strategy<Value = QFormat> {
    (any::<bool>(), widths, 0..=max_frac).prop_map(|(signed, w, frac)| {
        let w = if signed { w.max(2) } else { w };
        QFormat::new(signed, w as i32 - frac as i32, frac)
    })
}

pub fn rounding() -> impl Strategy<Value = Rounding> {
    prop::sample::select(Rounding::ALL.to_vec())
}

pub fn overflow() -> impl Strategy<Value = Overflow> {
    prop::sample::select(Overflow::ALL.to_vec())
}

pub fn stage(
    widths: std::ops::RangeInclusive<u32>,
    max_frac: u32,
) -> impl Strategy<Value = StageConfig> {
    (format(widths, max_frac), rounding(), overflow()).prop_map(|(format, rounding, overflow)| {
        StageConfig {
            format,
            rounding,
            overflow,
        }
    })
}

/// PWM drivers of 1 to 32 rows, narrow codes and short LSB times (fast to simulate).
pub fn dac() -> impl Strategy<Value = DacConfig> {
    (
        (1u32..=8).prop_flat_map(|l| (Just(l), 1..=32 / l)),
        2u32..=10,
        1u32..=3,
        any::<bool>(),
    )
        .prop_map(
            |((lanes, multiple), bits, cycles_per_lsb, two_phase)| DacConfig {
                rows: lanes * multiple,
                bits,
                lanes,
                cycles_per_lsb,
                two_phase,
            },
        )
}

/// Valid configs with `columns` in `1..=max_columns` and modest widths (up to 24-bit
/// words), every rounding mode, both overflow modes, fused and unfused, relu and none.
pub fn config(max_columns: u32) -> impl Strategy<Value = NmpuConfig> {
    let coeffs = (
        format(1..=24, 20),
        format(1..=24, 12),
        format(1..=24, 20),
        format(1..=24, 12),
    )
        .prop_map(|(a, b, g, h)| CoefficientFormats { a, b, g, h });
    (
        // Lanes, then columns as a multiple of them: both shrink toward 1 independently.
        (1..=max_columns.min(64)).prop_flat_map(move |l| (Just(l), 1..=max_columns / l)),
        2u32..=16,
        any::<bool>(),
        prop::sample::select(vec![Activation::Relu, Activation::None]),
        coeffs,
        stage(2..=24, 12),
        stage(2..=24, 12),
        stage(2..=12, 4),
        (0u32..3, 1u32..=300),
        dac(),
    )
        .prop_map(
            |(
                (lanes, multiple),
                in_bits,
                fuse,
                activation,
                coefficients,
                affine,
                batch_norm,
                output,
                (count_shrink, window),
                dac,
            )| {
                NmpuConfig {
                    columns: lanes * multiple,
                    lanes,
                    in_bits,
                    fuse_affine_bn: fuse,
                    activation,
                    coefficients,
                    affine,
                    batch_norm,
                    output,
                    adc: AdcConfig {
                        count_bits: (in_bits - 1).saturating_sub(count_shrink).max(1),
                        window,
                    },
                    dac,
                }
            },
        )
        .prop_filter("config must validate", |c| c.validate().is_ok())
}
