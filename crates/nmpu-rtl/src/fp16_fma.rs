//! A binary16 fused multiply-add, `r = a*b + c` rounded once (ties to even), subnormals
//! kept, overflow to infinity, NaN/inf as docs/arithmetic.md section 6 says. Three
//! register stages, advancing when `en` is high: edge 1 `align`, edge 2 `add` (the exact
//! sum and the first of six normalisation steps), edge 3 `round` (the rest of the
//! normalisation, rounding, packing: the result).
//!
//! Why a 40-bit window is exact: with the product `P = ma*mb` (22 bits) placed at window
//! bits 3..25 and the addend's LSB at bit `28 - (Ea + Eb - Ec)`, nothing of `P` is ever
//! lost, and addend bits fall off the bottom only when the addend is below 2^7 window
//! units while `P >= 2^13`: the result's guard bit then lies at window bit 1 or above, so
//! the lost bits only matter as sticky (and, in a subtraction, as one borrow). An addend
//! more than 3 bits above the product's top (`Ec > Ea + Eb`) is pinned at bit 28 and the
//! window re-based on its exponent: the product is then below the result's guard bit and
//! acts as sticky only, which the pinned position preserves. A zero product pins the
//! addend too, so a lone addend is never shifted out.

use crate::regs::Reg;
use rust_hdl::prelude::*;

/// Window of the exact sum (40 bits) plus a carry/borrow bit.
const WIN: usize = 41;
/// Aligner: the addend at bit 40, shifted right by up to 40; bits 12.. are the window.
const ALIGN: usize = 52;
/// The window's magnitude (the sum's bit 40 is always clear).
const NORM: usize = 40;

#[derive(LogicBlock, Default)]
pub struct Fp16Fma {
    pub clock: Signal<In, Clock>,
    pub en: Signal<In, Bit>,
    pub a: Signal<In, Bits<16>>,
    pub b: Signal<In, Bits<16>>,
    pub c: Signal<In, Bits<16>>,
    pub r: Signal<Out, Bits<16>>,
    // align: unpack, multiply, align the addend, special operands.
    ea: Signal<Local, Bits<8>>,
    eb: Signal<Local, Bits<8>>,
    ec: Signal<Local, Bits<8>>,
    ma: Signal<Local, Bits<16>>,
    mb: Signal<Local, Bits<16>>,
    mc: Signal<Local, Bits<ALIGN>>,
    sp: Signal<Local, Bit>,
    nan_a: Signal<Local, Bit>,
    nan_b: Signal<Local, Bit>,
    nan_c: Signal<Local, Bit>,
    inf_a: Signal<Local, Bit>,
    inf_b: Signal<Local, Bit>,
    inf_c: Signal<Local, Bit>,
    zero_p: Signal<Local, Bit>,
    es: Signal<Local, Bits<8>>,
    pinned: Signal<Local, Bit>,
    rshift: Signal<Local, Bits<8>>,
    aligned: Signal<Local, Bits<ALIGN>>,
    special: Signal<Local, Bit>,
    special_val: Signal<Local, Bits<16>>,
    p_q: Reg<Bits<32>>,
    cw_q: Reg<Bits<WIN>>,
    lost_q: Reg<Bit>,
    sp_q: Reg<Bit>,
    sc_q: Reg<Bit>,
    base_q: Reg<Bits<8>>,
    zero_sign_q: Reg<Bit>,
    special_q: Reg<Bit>,
    special_val_q: Reg<Bits<16>>,
    // add: the exact window sum, sign and magnitude.
    pw: Signal<Local, Bits<WIN>>,
    diff: Signal<Local, Bits<WIN>>,
    w: Signal<Local, Bits<WIN>>,
    neg: Signal<Local, Bit>,
    // The first normalisation step (32 leading zeros) runs here. Measured on osu018 (one
    // lane): all six steps in `round` 5.67 ns (round critical), two here 5.65 ns (add
    // critical), one here 5.57 ns (round critical).
    ls32: Signal<Local, Bits<8>>,
    n32_q: Reg<Bits<NORM>>,
    ls32_q: Reg<Bits<8>>,
    zero_q: Reg<Bit>,
    neg_q: Reg<Bit>,
    lost2_q: Reg<Bit>,
    base2_q: Reg<Bits<8>>,
    zero_sign2_q: Reg<Bit>,
    special2_q: Reg<Bit>,
    special_val2_q: Reg<Bits<16>>,
    // round: normalise (never below the subnormal quantum), round, pack.
    n32: Signal<Local, Bits<NORM>>,
    n16: Signal<Local, Bits<NORM>>,
    n8: Signal<Local, Bits<NORM>>,
    n4: Signal<Local, Bits<NORM>>,
    n2: Signal<Local, Bits<NORM>>,
    n1: Signal<Local, Bits<NORM>>,
    ls: Signal<Local, Bits<8>>,
    sig: Signal<Local, Bits<18>>,
    round_up: Signal<Local, Bit>,
    field: Signal<Local, Bits<18>>,
    enc: Signal<Local, Bits<18>>,
    sign16: Signal<Local, Bits<16>>,
    result: Reg<Bits<16>>,
}

impl Logic for Fp16Fma {
    #[hdl_gen]
    fn update(&mut self) {
        self.p_q.clock.next = self.clock.val();
        self.cw_q.clock.next = self.clock.val();
        self.lost_q.clock.next = self.clock.val();
        self.sp_q.clock.next = self.clock.val();
        self.sc_q.clock.next = self.clock.val();
        self.base_q.clock.next = self.clock.val();
        self.zero_sign_q.clock.next = self.clock.val();
        self.special_q.clock.next = self.clock.val();
        self.special_val_q.clock.next = self.clock.val();
        self.n32_q.clock.next = self.clock.val();
        self.ls32_q.clock.next = self.clock.val();
        self.zero_q.clock.next = self.clock.val();
        self.neg_q.clock.next = self.clock.val();
        self.lost2_q.clock.next = self.clock.val();
        self.base2_q.clock.next = self.clock.val();
        self.zero_sign2_q.clock.next = self.clock.val();
        self.special2_q.clock.next = self.clock.val();
        self.special_val2_q.clock.next = self.clock.val();
        self.result.clock.next = self.clock.val();
        self.p_q.en.next = self.en.val();
        self.cw_q.en.next = self.en.val();
        self.lost_q.en.next = self.en.val();
        self.sp_q.en.next = self.en.val();
        self.sc_q.en.next = self.en.val();
        self.base_q.en.next = self.en.val();
        self.zero_sign_q.en.next = self.en.val();
        self.special_q.en.next = self.en.val();
        self.special_val_q.en.next = self.en.val();
        self.n32_q.en.next = self.en.val();
        self.ls32_q.en.next = self.en.val();
        self.zero_q.en.next = self.en.val();
        self.neg_q.en.next = self.en.val();
        self.lost2_q.en.next = self.en.val();
        self.base2_q.en.next = self.en.val();
        self.zero_sign2_q.en.next = self.en.val();
        self.special2_q.en.next = self.en.val();
        self.special_val2_q.en.next = self.en.val();
        self.result.en.next = self.en.val();

        // ---- align ----
        // Effective exponents (subnormals count as exponent 1) and significands.
        self.ea.next = bit_cast::<8, 5>(self.a.val().get_bits::<5>(10));
        self.eb.next = bit_cast::<8, 5>(self.b.val().get_bits::<5>(10));
        self.ec.next = bit_cast::<8, 5>(self.c.val().get_bits::<5>(10));
        self.ma.next = bit_cast::<16, 10>(self.a.val().get_bits::<10>(0));
        self.mb.next = bit_cast::<16, 10>(self.b.val().get_bits::<10>(0));
        self.mc.next = bit_cast::<ALIGN, 10>(self.c.val().get_bits::<10>(0));
        self.nan_a.next = (self.ea.val() == 31) & (self.ma.val() != 0);
        self.nan_b.next = (self.eb.val() == 31) & (self.mb.val() != 0);
        self.nan_c.next = (self.ec.val() == 31) & (self.mc.val() != 0);
        self.inf_a.next = (self.ea.val() == 31) & (self.ma.val() == 0);
        self.inf_b.next = (self.eb.val() == 31) & (self.mb.val() == 0);
        self.inf_c.next = (self.ec.val() == 31) & (self.mc.val() == 0);
        if self.ea.val() == 0 {
            self.ea.next = 1.into();
        } else {
            self.ma.next = self.ma.val() | 0x400;
        }
        if self.eb.val() == 0 {
            self.eb.next = 1.into();
        } else {
            self.mb.next = self.mb.val() | 0x400;
        }
        if self.ec.val() == 0 {
            self.ec.next = 1.into();
        } else {
            self.mc.next = self.mc.val() | 0x400;
        }
        self.sp.next = self.a.val().get_bit(15) ^ self.b.val().get_bit(15);
        self.zero_p.next = (self.ma.val() == 0) | (self.mb.val() == 0);
        self.p_q.d.next = self.ma.val() * self.mb.val();

        // Addend alignment: right shift `Ea + Eb - Ec` from bit 28, or pinned at 28.
        self.es.next = self.ea.val() + self.eb.val();
        self.pinned.next =
            self.zero_p.val() | ((self.es.val() < self.ec.val()) & (self.mc.val() != 0));
        self.rshift.next = 0.into();
        self.base_q.d.next = self.ec.val();
        if !self.pinned.val() {
            self.rshift.next = self.es.val() - self.ec.val();
            self.base_q.d.next = self.es.val();
            if self.rshift.val() > 40 {
                self.rshift.next = 40.into();
            }
        }
        self.aligned.next = (self.mc.val() << 40) >> self.rshift.val();
        self.cw_q.d.next = bit_cast::<WIN, 40>(self.aligned.val().get_bits::<40>(12));
        self.lost_q.d.next = self.aligned.val().get_bits::<12>(0) != 0;
        self.sp_q.d.next = self.sp.val();
        self.sc_q.d.next = self.c.val().get_bit(15);
        self.zero_sign_q.d.next =
            self.zero_p.val() & (self.mc.val() == 0) & self.sp.val() & self.c.val().get_bit(15);

        // NaN operands, inf * 0 and inf - inf give the canonical NaN; else an infinite
        // operand decides the result.
        self.special.next = true;
        self.special_val.next = 0x7e00.into();
        if self.nan_a.val() | self.nan_b.val() | self.nan_c.val() {
            self.special_val.next = 0x7e00.into();
        } else if self.inf_a.val() | self.inf_b.val() {
            // An infinite operand is never zero, so a zero product means inf * 0.
            if self.zero_p.val() | (self.inf_c.val() & (self.c.val().get_bit(15) != self.sp.val()))
            {
                self.special_val.next = 0x7e00.into();
            } else {
                self.special_val.next = (bit_cast::<16, 1>(self.sp.val().into()) << 15) | 0x7c00;
            }
        } else if self.inf_c.val() {
            self.special_val.next = self.c.val();
        } else {
            self.special.next = false;
        }
        self.special_q.d.next = self.special.val();
        self.special_val_q.d.next = self.special_val.val();

        // ---- add ----
        self.pw.next = bit_cast::<WIN, 32>(self.p_q.q.val()) << 3;
        self.diff.next =
            self.pw.val() - self.cw_q.q.val() - bit_cast::<WIN, 1>(self.lost_q.q.val().into());
        self.neg.next = self.sp_q.q.val();
        if self.sp_q.q.val() == self.sc_q.q.val() {
            self.w.next = self.pw.val() + self.cw_q.q.val();
        } else if self.diff.val().get_bit(40) {
            self.w.next = self.cw_q.q.val() - self.pw.val();
            self.neg.next = self.sc_q.q.val();
        } else {
            self.w.next = self.diff.val();
        }
        self.neg_q.d.next = self.neg.val();
        self.lost2_q.d.next = self.lost_q.q.val();
        self.base2_q.d.next = self.base_q.q.val();
        self.zero_sign2_q.d.next = self.zero_sign_q.q.val();
        self.special2_q.d.next = self.special_q.q.val();
        self.special_val2_q.d.next = self.special_val_q.q.val();
        self.zero_q.d.next = self.w.val() == 0;

        // Normalisation: shift left by min(leading zeros, base), greedy powers of two,
        // each taken when its top bits are zero and the total stays within `base` (the
        // subnormal limit). The sum's bit 40 is always clear, so no bit is ever lost.
        // Step 32 here, the rest in `round`.
        self.ls32.next = 0.into();
        self.n32.next = bit_cast::<NORM, WIN>(self.w.val());
        if (self.w.val().get_bits::<32>(8) == 0) & (self.base_q.q.val() >= 32) {
            self.n32.next = bit_cast::<NORM, WIN>(self.w.val()) << 32;
            self.ls32.next = 32.into();
        }
        self.n32_q.d.next = self.n32.val();
        self.ls32_q.d.next = self.ls32.val();

        // ---- round ----
        self.ls.next = self.ls32_q.q.val();
        self.n16.next = self.n32_q.q.val();
        if (self.n32_q.q.val().get_bits::<16>(24) == 0)
            & ((self.ls.val() + 16) <= self.base2_q.q.val())
        {
            self.n16.next = self.n32_q.q.val() << 16;
            self.ls.next = self.ls.val() + 16;
        }
        self.n8.next = self.n16.val();
        if (self.n16.val().get_bits::<8>(32) == 0) & ((self.ls.val() + 8) <= self.base2_q.q.val()) {
            self.n8.next = self.n16.val() << 8;
            self.ls.next = self.ls.val() + 8;
        }
        self.n4.next = self.n8.val();
        if (self.n8.val().get_bits::<4>(36) == 0) & ((self.ls.val() + 4) <= self.base2_q.q.val()) {
            self.n4.next = self.n8.val() << 4;
            self.ls.next = self.ls.val() + 4;
        }
        self.n2.next = self.n4.val();
        if (self.n4.val().get_bits::<2>(38) == 0) & ((self.ls.val() + 2) <= self.base2_q.q.val()) {
            self.n2.next = self.n4.val() << 2;
            self.ls.next = self.ls.val() + 2;
        }
        self.n1.next = self.n2.val();
        if !self.n2.val().get_bit(39) & ((self.ls.val() + 1) <= self.base2_q.q.val()) {
            self.n1.next = self.n2.val() << 1;
            self.ls.next = self.ls.val() + 1;
        }
        // 11 bits at 39..29, guard at 28, sticky below and from the aligner.
        self.sig.next = bit_cast::<18, 11>(self.n1.val().get_bits::<11>(29));
        self.round_up.next = self.n1.val().get_bit(28)
            & ((self.n1.val().get_bits::<28>(0) != 0)
                | self.lost2_q.q.val()
                | self.n1.val().get_bit(29));
        // A normal result's field is base - ls + 1; adding the hidden bit supplies the
        // +1, and a rounding carry (or a subnormal rounding up to 2^-14) the next one.
        self.field.next = 0.into();
        if self.n1.val().get_bit(39) {
            self.field.next = bit_cast::<18, 8>(self.base2_q.q.val() - self.ls.val());
        }
        self.enc.next = (self.field.val() << 10)
            + self.sig.val()
            + bit_cast::<18, 1>(self.round_up.val().into());
        self.sign16.next = bit_cast::<16, 1>(self.neg_q.q.val().into()) << 15;
        if self.special2_q.q.val() {
            self.result.d.next = self.special_val2_q.q.val();
        } else if self.zero_q.q.val() {
            // Exact zero: -0 only for (-0) + (-0).
            self.result.d.next = bit_cast::<16, 1>(self.zero_sign2_q.q.val().into()) << 15;
        } else if self.enc.val() >= 0x7c00 {
            self.result.d.next = self.sign16.val() | 0x7c00;
        } else {
            self.result.d.next = self.sign16.val() | self.enc.val().get_bits::<16>(0);
        }
        self.r.next = self.result.q.val();
    }
}
