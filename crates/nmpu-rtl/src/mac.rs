//! One multiply-add stage, `r = quantize(v*k + o)` (docs/arithmetic.md section 3), with
//! two pipeline registers: the exact sum, then the quantized result.
//!
//! rust-hdl multiplies 16x16 bits only, so the product is composed from limbs: each
//! operand is split into up to three limbs (two unsigned 15-bit, one signed 16-bit on
//! top), and the `v_limbs * k_limbs` partial products are summed at their weights.
//! Limbs a config does not need are the constant 0, which synthesis removes with their
//! multipliers.

use crate::params::{MacParams, SUM_BITS, VALUE_BITS};
use crate::quantize::Quantize;
use crate::regs::Reg;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct Mac {
    pub clock: Signal<In, Clock>,
    pub en: Signal<In, Bit>,
    pub v: Signal<In, Bits<VALUE_BITS>>,
    pub k: Signal<In, Bits<VALUE_BITS>>,
    pub o: Signal<In, Bits<VALUE_BITS>>,
    pub r: Signal<Out, Bits<VALUE_BITS>>,
    v_limbs: Constant<Bits<2>>,
    k_limbs: Constant<Bits<2>>,
    one_limb: Constant<Bits<2>>,
    two_limbs: Constant<Bits<2>>,
    three_limbs: Constant<Bits<2>>,
    limb_mask: Constant<Bits<VALUE_BITS>>,
    zero16: Constant<Signed<16>>,
    product_shift: Constant<Bits<8>>,
    offset_shift: Constant<Bits<8>>,
    lv0: Signal<Local, Signed<16>>,
    lv1: Signal<Local, Signed<16>>,
    lv2: Signal<Local, Signed<16>>,
    lk0: Signal<Local, Signed<16>>,
    lk1: Signal<Local, Signed<16>>,
    lk2: Signal<Local, Signed<16>>,
    p00: Signal<Local, Signed<32>>,
    e00: Signal<Local, Signed<SUM_BITS>>,
    p01: Signal<Local, Signed<32>>,
    e01: Signal<Local, Signed<SUM_BITS>>,
    p02: Signal<Local, Signed<32>>,
    e02: Signal<Local, Signed<SUM_BITS>>,
    p10: Signal<Local, Signed<32>>,
    e10: Signal<Local, Signed<SUM_BITS>>,
    p11: Signal<Local, Signed<32>>,
    e11: Signal<Local, Signed<SUM_BITS>>,
    p12: Signal<Local, Signed<32>>,
    e12: Signal<Local, Signed<SUM_BITS>>,
    p20: Signal<Local, Signed<32>>,
    e20: Signal<Local, Signed<SUM_BITS>>,
    p21: Signal<Local, Signed<32>>,
    e21: Signal<Local, Signed<SUM_BITS>>,
    p22: Signal<Local, Signed<32>>,
    e22: Signal<Local, Signed<SUM_BITS>>,
    o_ext: Signal<Local, Signed<SUM_BITS>>,
    product: Signal<Local, Bits<SUM_BITS>>,
    sum: Reg<Bits<SUM_BITS>>,
    quantize: Quantize<VALUE_BITS>,
    result: Reg<Bits<VALUE_BITS>>,
}

impl Mac {
    pub fn new(p: &MacParams) -> Self {
        Mac {
            clock: Default::default(),
            en: Default::default(),
            v: Default::default(),
            k: Default::default(),
            o: Default::default(),
            r: Default::default(),
            v_limbs: Constant::new(bits(p.v_limbs as u64)),
            k_limbs: Constant::new(bits(p.k_limbs as u64)),
            one_limb: Constant::new(bits(1)),
            two_limbs: Constant::new(bits(2)),
            three_limbs: Constant::new(bits(3)),
            limb_mask: Constant::new(bits(0x7fff)),
            zero16: Constant::new(Signed::<16>::from(0i64)),
            product_shift: Constant::new(bits(p.product_shift as u64)),
            offset_shift: Constant::new(bits(p.offset_shift as u64)),
            lv0: Default::default(),
            lv1: Default::default(),
            lv2: Default::default(),
            lk0: Default::default(),
            lk1: Default::default(),
            lk2: Default::default(),
            p00: Default::default(),
            e00: Default::default(),
            p01: Default::default(),
            e01: Default::default(),
            p02: Default::default(),
            e02: Default::default(),
            p10: Default::default(),
            e10: Default::default(),
            p11: Default::default(),
            e11: Default::default(),
            p12: Default::default(),
            e12: Default::default(),
            p20: Default::default(),
            e20: Default::default(),
            p21: Default::default(),
            e21: Default::default(),
            p22: Default::default(),
            e22: Default::default(),
            o_ext: Default::default(),
            product: Default::default(),
            sum: Default::default(),
            quantize: Quantize::new(&p.quant),
            result: Default::default(),
        }
    }
}

impl Logic for Mac {
    #[hdl_gen]
    fn update(&mut self) {
        self.sum.clock.next = self.clock.val();
        self.result.clock.next = self.clock.val();
        self.sum.en.next = self.en.val();
        self.result.en.next = self.en.val();
        // Limbs of `v`: the top one a signed 16-bit slice, those below unsigned 15-bit.
        if self.v_limbs.val() == self.one_limb.val() {
            self.lv0.next = signed_cast(bit_cast::<16, VALUE_BITS>(self.v.val()));
        } else {
            self.lv0.next = signed_cast(bit_cast::<16, VALUE_BITS>(
                self.v.val() & self.limb_mask.val(),
            ));
        }
        if self.v_limbs.val() == self.two_limbs.val() {
            self.lv1.next = signed_cast(bit_cast::<16, VALUE_BITS>(self.v.val() >> 15));
        } else if self.v_limbs.val() == self.three_limbs.val() {
            self.lv1.next = signed_cast(bit_cast::<16, VALUE_BITS>(
                (self.v.val() >> 15) & self.limb_mask.val(),
            ));
        } else {
            self.lv1.next = self.zero16.val();
        }
        if self.v_limbs.val() == self.three_limbs.val() {
            self.lv2.next = signed_cast(bit_cast::<16, VALUE_BITS>(self.v.val() >> 30));
        } else {
            self.lv2.next = self.zero16.val();
        }
        // Limbs of `k`: the top one a signed 16-bit slice, those below unsigned 15-bit.
        if self.k_limbs.val() == self.one_limb.val() {
            self.lk0.next = signed_cast(bit_cast::<16, VALUE_BITS>(self.k.val()));
        } else {
            self.lk0.next = signed_cast(bit_cast::<16, VALUE_BITS>(
                self.k.val() & self.limb_mask.val(),
            ));
        }
        if self.k_limbs.val() == self.two_limbs.val() {
            self.lk1.next = signed_cast(bit_cast::<16, VALUE_BITS>(self.k.val() >> 15));
        } else if self.k_limbs.val() == self.three_limbs.val() {
            self.lk1.next = signed_cast(bit_cast::<16, VALUE_BITS>(
                (self.k.val() >> 15) & self.limb_mask.val(),
            ));
        } else {
            self.lk1.next = self.zero16.val();
        }
        if self.k_limbs.val() == self.three_limbs.val() {
            self.lk2.next = signed_cast(bit_cast::<16, VALUE_BITS>(self.k.val() >> 30));
        } else {
            self.lk2.next = self.zero16.val();
        }
        self.p00.next = self.lv0.val() * self.lk0.val();
        self.e00.next = signed_bit_cast::<SUM_BITS, 32>(self.p00.val());
        self.p01.next = self.lv0.val() * self.lk1.val();
        self.e01.next = signed_bit_cast::<SUM_BITS, 32>(self.p01.val());
        self.p02.next = self.lv0.val() * self.lk2.val();
        self.e02.next = signed_bit_cast::<SUM_BITS, 32>(self.p02.val());
        self.p10.next = self.lv1.val() * self.lk0.val();
        self.e10.next = signed_bit_cast::<SUM_BITS, 32>(self.p10.val());
        self.p11.next = self.lv1.val() * self.lk1.val();
        self.e11.next = signed_bit_cast::<SUM_BITS, 32>(self.p11.val());
        self.p12.next = self.lv1.val() * self.lk2.val();
        self.e12.next = signed_bit_cast::<SUM_BITS, 32>(self.p12.val());
        self.p20.next = self.lv2.val() * self.lk0.val();
        self.e20.next = signed_bit_cast::<SUM_BITS, 32>(self.p20.val());
        self.p21.next = self.lv2.val() * self.lk1.val();
        self.e21.next = signed_bit_cast::<SUM_BITS, 32>(self.p21.val());
        self.p22.next = self.lv2.val() * self.lk2.val();
        self.e22.next = signed_bit_cast::<SUM_BITS, 32>(self.p22.val());
        self.product.next = (unsigned_cast(self.e00.val()))
            + (unsigned_cast(self.e01.val()) << 15)
            + (unsigned_cast(self.e02.val()) << 30)
            + (unsigned_cast(self.e10.val()) << 15)
            + (unsigned_cast(self.e11.val()) << 30)
            + (unsigned_cast(self.e12.val()) << 45)
            + (unsigned_cast(self.e20.val()) << 30)
            + (unsigned_cast(self.e21.val()) << 45)
            + (unsigned_cast(self.e22.val()) << 60);
        self.o_ext.next = signed_bit_cast::<SUM_BITS, VALUE_BITS>(signed_cast(self.o.val()));
        self.sum.d.next = (self.product.val() << self.product_shift.val())
            + (unsigned_cast(self.o_ext.val()) << self.offset_shift.val());
        self.quantize.t.next = self.sum.q.val();
        self.result.d.next = self.quantize.r.val();
        self.r.next = self.result.q.val();
    }
}
