//! The two primitives of docs/arithmetic.md section 2: `round_shift` and `fit`.

use nmpu_config::{Overflow, QFormat, Rounding};

/// `v / 2^s` rounded to an integer by `mode`; `s` is at most 63.
#[inline(always)]
pub fn round_shift(v: i64, s: u32, mode: Rounding) -> i64 {
    if s == 0 {
        return v;
    }
    let q = v >> s;
    let r = (v as u64) & ((1u64 << s) - 1);
    let half = 1u64 << (s - 1);
    let up = match mode {
        Rounding::Floor => false,
        Rounding::HalfUp => r >= half,
        Rounding::HalfEven => r > half || (r == half && q & 1 == 1),
        Rounding::HalfAway => r > half || (r == half && v >= 0),
    };
    q + i64::from(up)
}

/// The code range and overflow behaviour of one result format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fit {
    pub min: i64,
    pub max: i64,
    pub width: u32,
    pub signed: bool,
    pub overflow: Overflow,
}

impl Fit {
    pub fn new(format: &QFormat, overflow: Overflow) -> Self {
        Fit {
            min: format.min_code(),
            max: format.max_code(),
            width: format.width(),
            signed: format.signed,
            overflow,
        }
    }

    /// Brings `v` into the code range; the flag tells whether saturation changed it.
    #[inline(always)]
    pub fn apply(&self, v: i64) -> (i64, bool) {
        match self.overflow {
            Overflow::Saturate => {
                let c = v.clamp(self.min, self.max);
                (c, c != v)
            }
            Overflow::Wrap => {
                let drop = 64 - self.width;
                let w = if self.signed {
                    (v << drop) >> drop
                } else {
                    ((v as u64) << drop >> drop) as i64
                };
                (w, false)
            }
        }
    }
}

/// `quantize(v, shift, F, rounding, overflow) = fit(round_shift(v, shift, rounding), F,
/// overflow)`: one rounding, then saturation or wrap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quantize {
    pub shift: u32,
    pub rounding: Rounding,
    pub fit: Fit,
}

impl Quantize {
    /// Drops `shift` fractional bits into `stage`'s result format, by its rounding and overflow.
    pub fn for_stage(shift: u32, stage: &nmpu_config::StageConfig) -> Self {
        Quantize {
            shift,
            rounding: stage.rounding,
            fit: Fit::new(&stage.format, stage.overflow),
        }
    }

    #[inline(always)]
    pub fn apply(&self, v: i64) -> (i64, bool) {
        self.fit.apply(round_shift(v, self.shift, self.rounding))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_at_plus_and_minus_two_and_a_half() {
        // 5/2 = 2.5 and -5/2 = -2.5: the four modes differ exactly on ties.
        let cases = [
            (Rounding::Floor, 2, -3),
            (Rounding::HalfUp, 3, -2),
            (Rounding::HalfEven, 2, -2),
            (Rounding::HalfAway, 3, -3),
        ];
        for (mode, pos, neg) in cases {
            assert_eq!(round_shift(5, 1, mode), pos, "{mode:?} +2.5");
            assert_eq!(round_shift(-5, 1, mode), neg, "{mode:?} -2.5");
        }
    }

    #[test]
    fn wrap_keeps_low_bits() {
        let s8 = Fit::new(&QFormat::new(true, 8, 0), Overflow::Wrap);
        assert_eq!(s8.apply(128), (-128, false));
        assert_eq!(s8.apply(-129), (127, false));
        let u8f = Fit::new(&QFormat::new(false, 8, 0), Overflow::Wrap);
        assert_eq!(u8f.apply(-1), (255, false));
        assert_eq!(u8f.apply(256), (0, false));
    }

    #[test]
    fn saturate_flags_only_changed_values() {
        let s8 = Fit::new(&QFormat::new(true, 8, 0), Overflow::Saturate);
        assert_eq!(s8.apply(127), (127, false));
        assert_eq!(s8.apply(128), (127, true));
        assert_eq!(s8.apply(-128), (-128, false));
        assert_eq!(s8.apply(-1000), (-128, true));
    }
}
