//! Integer ranges of the values a stage can see, and the two's-complement width each needs.
//! The generator sizes every product, exact sum, register and comparison from these, so
//! the hardware carries no bit its formats cannot set (docs/arithmetic.md sections 2-3
//! give the operations; this is the RTL side's own bound analysis).

use nmpu_config::QFormat;

/// The closed interval `[lo, hi]` of integer codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    pub lo: i128,
    pub hi: i128,
}

impl Range {
    pub fn new(lo: i128, hi: i128) -> Self {
        assert!(lo <= hi, "empty range {lo}..={hi}");
        Range { lo, hi }
    }

    /// Every code of `f`.
    pub fn of_format(f: &QFormat) -> Self {
        let w = f.width();
        if f.signed {
            Range::new(-(1i128 << (w - 1)), (1i128 << (w - 1)) - 1)
        } else {
            Range::new(0, (1i128 << w) - 1)
        }
    }

    /// The values of `a * b` for `a`, `b` in the ranges.
    pub fn times(self, o: Range) -> Self {
        let c = [
            self.lo * o.lo,
            self.lo * o.hi,
            self.hi * o.lo,
            self.hi * o.hi,
        ];
        Range::new(*c.iter().min().unwrap(), *c.iter().max().unwrap())
    }

    pub fn plus(self, o: Range) -> Self {
        Range::new(self.lo + o.lo, self.hi + o.hi)
    }

    pub fn scaled(self, s: u32) -> Self {
        Range::new(self.lo << s, self.hi << s)
    }

    /// `floor(v / 2^s)`: monotonic, so the ends map to the ends.
    pub fn shr_floor(self, s: u32) -> Self {
        Range::new(self.lo >> s, self.hi >> s)
    }

    pub fn max(self, v: i128) -> Self {
        Range::new(self.lo.max(v), self.hi.max(v))
    }

    pub fn clamp_to(self, o: Range) -> Self {
        Range::new(self.lo.clamp(o.lo, o.hi), self.hi.clamp(o.lo, o.hi))
    }

    pub fn contains(self, o: Range) -> bool {
        self.lo <= o.lo && o.hi <= self.hi
    }

    /// Whether any value is negative: the word is read as two's complement.
    pub fn signed(self) -> bool {
        self.lo < 0
    }

    /// Bits of the narrowest word holding every value: two's complement when the range
    /// has negative values, plain binary otherwise. At least 1.
    pub fn width(self) -> u32 {
        let bits = |v: i128| {
            128 - if v < 0 {
                (!v).leading_zeros()
            } else {
                v.leading_zeros()
            }
        };
        if self.signed() {
            1 + bits(self.lo).max(bits(self.hi))
        } else {
            bits(self.hi).max(1)
        }
    }

    /// Bits of the narrowest two's-complement word holding every value (the width of the
    /// signed operand a Verilog signed multiply or compare needs).
    pub fn signed_width(self) -> u32 {
        self.width() + u32::from(!self.signed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The narrowest width by brute force: the smallest w whose word holds lo and hi.
    fn brute(lo: i128, hi: i128) -> u32 {
        (1..128)
            .find(|&w| {
                if lo < 0 {
                    lo >= -(1i128 << (w - 1)) && hi < (1i128 << (w - 1))
                } else {
                    hi < (1i128 << w)
                }
            })
            .unwrap()
    }

    #[test]
    fn width_is_the_narrowest_word() {
        for lo in -70i128..=70 {
            for hi in lo..=70 {
                let r = Range::new(lo, hi);
                assert_eq!(r.width(), brute(lo, hi), "{lo}..={hi}");
                let sw = r.signed_width();
                assert!(lo >= -(1i128 << (sw - 1)) && hi < (1i128 << (sw - 1)));
            }
        }
    }

    #[test]
    fn products_of_every_pair_lie_in_the_product_range() {
        let rs = [
            Range::new(-8, 7),
            Range::new(0, 15),
            Range::new(-3, -1),
            Range::new(2, 9),
        ];
        for a in rs {
            for b in rs {
                let p = a.times(b);
                let mut seen = (i128::MAX, i128::MIN);
                for x in a.lo..=a.hi {
                    for y in b.lo..=b.hi {
                        seen = (seen.0.min(x * y), seen.1.max(x * y));
                    }
                }
                assert_eq!((p.lo, p.hi), seen, "{a:?} * {b:?}");
            }
        }
    }

    #[test]
    fn formats() {
        let r = Range::of_format(&QFormat::new(true, 9, 6));
        assert_eq!((r.lo, r.hi, r.width()), (-(1 << 14), (1 << 14) - 1, 15));
        let u = Range::of_format(&QFormat::new(false, 1, 13));
        assert_eq!(
            (u.lo, u.hi, u.width(), u.signed_width()),
            (0, (1 << 14) - 1, 14, 15)
        );
        assert_eq!(Range::new(-5, 3).shr_floor(1), Range::new(-3, 1));
    }
}
