//! Number formats and the per-stage rounding and overflow choices.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A fixed-point format in the `ap_fixed` convention the Ferro et al. paper uses:
/// `int` counts the integer bits *including* the sign bit of a signed format, so the
/// word is `int + frac` bits wide and a code `k` stands for the real value `k * 2^-frac`.
///
/// `int` may be zero or negative (a format for small coefficients whose top bits would
/// always be zero), as long as the word keeps at least one bit (two when signed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QFormat {
    pub signed: bool,
    pub int: i32,
    pub frac: u32,
}

impl QFormat {
    pub const fn new(signed: bool, int: i32, frac: u32) -> Self {
        QFormat { signed, int, frac }
    }

    /// Word width in bits; only meaningful for a validated format (positive).
    pub fn width(&self) -> u32 {
        (self.int + self.frac as i32).max(0) as u32
    }

    /// Width of the smallest two's-complement word that holds every code of this format.
    pub fn signed_width(&self) -> u32 {
        self.width() + u32::from(!self.signed)
    }

    pub fn min_code(&self) -> i64 {
        if self.signed {
            -(1i64 << (self.width() - 1))
        } else {
            0
        }
    }

    pub fn max_code(&self) -> i64 {
        if self.signed {
            (1i64 << (self.width() - 1)) - 1
        } else {
            ((1u64 << self.width()) - 1) as i64
        }
    }

    /// Real value of one LSB.
    pub fn lsb(&self) -> f64 {
        (-(self.frac as f64)).exp2()
    }

    pub fn min_value(&self) -> f64 {
        self.min_code() as f64 * self.lsb()
    }

    pub fn max_value(&self) -> f64 {
        self.max_code() as f64 * self.lsb()
    }
}

impl fmt::Display for QFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = if self.signed { "signed" } else { "unsigned" };
        write!(
            f,
            "Q({s}, {}, {}) [{} bits]",
            self.int,
            self.frac,
            self.width()
        )
    }
}

/// How a stage drops fractional bits it cannot keep (a right shift by `s` bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Toward minus infinity (plain arithmetic shift, no rounding logic).
    Floor,
    /// To nearest, ties toward plus infinity.
    HalfUp,
    /// To nearest, ties to the even neighbour (IEEE default, no bias).
    HalfEven,
    /// To nearest, ties away from zero.
    HalfAway,
}

impl Rounding {
    pub const ALL: [Rounding; 4] = [
        Rounding::Floor,
        Rounding::HalfUp,
        Rounding::HalfEven,
        Rounding::HalfAway,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Rounding::Floor => "floor",
            Rounding::HalfUp => "half_up",
            Rounding::HalfEven => "half_even",
            Rounding::HalfAway => "half_away",
        }
    }
}

/// What a stage does with a value outside its result format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overflow {
    /// Clamp to the nearest representable code.
    Saturate,
    /// Keep the low `width` bits (two's-complement wrap-around); cheapest, rarely wanted.
    Wrap,
}

impl Overflow {
    pub const ALL: [Overflow; 2] = [Overflow::Saturate, Overflow::Wrap];

    pub fn name(self) -> &'static str {
        match self {
            Overflow::Saturate => "saturate",
            Overflow::Wrap => "wrap",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Relu,
    None,
}

impl Activation {
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::None => "none",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int8_and_uint8_code_ranges() {
        let i8f = QFormat::new(true, 8, 0);
        assert_eq!((i8f.min_code(), i8f.max_code()), (-128, 127));
        let u8f = QFormat::new(false, 8, 0);
        assert_eq!((u8f.min_code(), u8f.max_code()), (0, 255));
    }

    #[test]
    fn paper_scale_format_spans_zero_to_two() {
        // The paper's scale (1,7) unsigned: 8 bits, values in [0, 2) in steps of 1/128.
        let f = QFormat::new(false, 1, 7);
        assert_eq!(f.width(), 8);
        assert_eq!(f.max_value(), 2.0 - 1.0 / 128.0);
        assert_eq!(f.lsb(), 1.0 / 128.0);
    }

    #[test]
    fn negative_int_bits_shrink_the_range() {
        let f = QFormat::new(true, -2, 10);
        assert_eq!(f.width(), 8);
        assert_eq!(f.max_value(), 127.0 / 1024.0);
        assert_eq!(f.min_value(), -0.125);
    }
}
