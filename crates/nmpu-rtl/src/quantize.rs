//! `quantize`: round an exact 64-bit sum right by a constant shift, then saturate or
//! wrap into the result format (docs/arithmetic.md section 2). Combinational.
//!
//! Rounding is `q + carry` with `q = t >>> shift` and
//! `carry = ((t & low_mask) + bias) >> shift`, where the bias selects the mode:
//! `half` (half_up), `half - 1 + lsb(q)` (half_even), `half - 1 + (t >= 0)` (half_away),
//! 0 (floor). The carry is 0 or 1 and nothing overflows 64 bits.

use crate::params::{QuantParams, SUM_BITS};
use nmpu_config::{Overflow, Rounding};
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct Quantize<const OW: usize> {
    pub t: Signal<In, Bits<SUM_BITS>>,
    pub r: Signal<Out, Bits<OW>>,
    shift: Constant<Bits<8>>,
    low_mask: Constant<Bits<SUM_BITS>>,
    half: Constant<Bits<SUM_BITS>>,
    half_m1: Constant<Bits<SUM_BITS>>,
    one: Constant<Bits<SUM_BITS>>,
    zero: Constant<Bits<SUM_BITS>>,
    mode_half_up: Constant<Bit>,
    mode_half_even: Constant<Bit>,
    mode_half_away: Constant<Bit>,
    wrap: Constant<Bit>,
    /// `64 - width`: a shift pair that sign-extends from the result width.
    drop: Constant<Bits<8>>,
    /// All ones for a signed result, `2^width - 1` for an unsigned one.
    wrap_mask: Constant<Bits<SUM_BITS>>,
    /// Signed comparisons as unsigned ones on values with the sign bit flipped.
    sign_flip: Constant<Bits<SUM_BITS>>,
    max_flip: Constant<Bits<SUM_BITS>>,
    min_flip: Constant<Bits<SUM_BITS>>,
    max_code: Constant<Bits<OW>>,
    min_code: Constant<Bits<OW>>,
    q: Signal<Local, Bits<SUM_BITS>>,
    bias: Signal<Local, Bits<SUM_BITS>>,
    carry: Signal<Local, Bits<SUM_BITS>>,
    rounded: Signal<Local, Bits<SUM_BITS>>,
    shl: Signal<Local, Bits<SUM_BITS>>,
    wrapped: Signal<Local, Bits<SUM_BITS>>,
    flipped: Signal<Local, Bits<SUM_BITS>>,
}

fn b64(v: i64) -> Bits<SUM_BITS> {
    bits(v as u64)
}

impl<const OW: usize> Quantize<OW> {
    pub fn new(p: &QuantParams) -> Self {
        let s = p.shift;
        let half = if s == 0 { 0 } else { 1i64 << (s - 1) };
        let w = p.format.width();
        let flip = |v: i64| b64(v ^ i64::MIN);
        let code = |v: i64| -> Bits<OW> { bits((v as u64) & (u64::MAX >> (64 - OW))) };
        Quantize {
            t: Default::default(),
            r: Default::default(),
            shift: Constant::new(bits(s as u64)),
            low_mask: Constant::new(bits((1u64 << s) - 1)),
            half: Constant::new(b64(half)),
            half_m1: Constant::new(b64((half - 1).max(0))),
            one: Constant::new(b64(1)),
            zero: Constant::new(b64(0)),
            mode_half_up: Constant::new(p.rounding == Rounding::HalfUp),
            mode_half_even: Constant::new(p.rounding == Rounding::HalfEven),
            mode_half_away: Constant::new(p.rounding == Rounding::HalfAway),
            wrap: Constant::new(p.overflow == Overflow::Wrap),
            drop: Constant::new(bits(u64::from(64 - w))),
            wrap_mask: Constant::new(if p.format.signed {
                b64(-1)
            } else {
                bits(u64::MAX >> (64 - w))
            }),
            sign_flip: Constant::new(b64(i64::MIN)),
            max_flip: Constant::new(flip(p.max_code())),
            min_flip: Constant::new(flip(p.min_code())),
            max_code: Constant::new(code(p.max_code())),
            min_code: Constant::new(code(p.min_code())),
            q: Default::default(),
            bias: Default::default(),
            carry: Default::default(),
            rounded: Default::default(),
            shl: Default::default(),
            wrapped: Default::default(),
            flipped: Default::default(),
        }
    }
}

impl<const OW: usize> Logic for Quantize<OW> {
    #[hdl_gen]
    fn update(&mut self) {
        // Arithmetic shift right of a two's-complement word.
        if self.t.val().get_bit(63) {
            self.q.next = !((!self.t.val()) >> self.shift.val());
        } else {
            self.q.next = self.t.val() >> self.shift.val();
        }
        self.bias.next = self.zero.val();
        if self.mode_half_up.val() {
            self.bias.next = self.half.val();
        }
        if self.mode_half_even.val() {
            self.bias.next = self.half_m1.val() + (self.q.val() & self.one.val());
        }
        if self.mode_half_away.val() {
            if self.t.val().get_bit(63) {
                self.bias.next = self.half_m1.val();
            } else {
                self.bias.next = self.half.val();
            }
        }
        self.carry.next =
            ((self.t.val() & self.low_mask.val()) + self.bias.val()) >> self.shift.val();
        self.rounded.next = self.q.val() + self.carry.val();
        self.shl.next = self.rounded.val() << self.drop.val();
        if self.shl.val().get_bit(63) {
            self.wrapped.next = (!((!self.shl.val()) >> self.drop.val())) & self.wrap_mask.val();
        } else {
            self.wrapped.next = (self.shl.val() >> self.drop.val()) & self.wrap_mask.val();
        }
        self.flipped.next = self.rounded.val() ^ self.sign_flip.val();
        if self.wrap.val() {
            self.r.next = bit_cast::<OW, SUM_BITS>(self.wrapped.val());
        } else if self.flipped.val() > self.max_flip.val() {
            self.r.next = self.max_code.val();
        } else if self.flipped.val() < self.min_flip.val() {
            self.r.next = self.min_code.val();
        } else {
            self.r.next = bit_cast::<OW, SUM_BITS>(self.rounded.val());
        }
    }
}
