//! One multiply-add stage, `r = quantize(v*k + o)` (docs/arithmetic.md section 3), with
//! two pipeline registers: the exact sum, then the quantized result.
//!
//! rust-hdl multiplies 16x16 bits only, so the product is composed from limbs: each
//! operand is split into up to three limbs (two unsigned 15-bit, one signed 16-bit on
//! top), and the `v_limbs * k_limbs` partial products are summed at their weights.
//! Limbs a config does not need are the constant 0, which synthesis removes with their
//! multipliers.

use crate::limbs::Limbs;
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
    v_limbs: Limbs,
    k_limbs: Limbs,
    product_shift: Constant<Bits<8>>,
    offset_shift: Constant<Bits<8>>,
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
            v_limbs: Limbs::new(p.v_limbs),
            k_limbs: Limbs::new(p.k_limbs),
            product_shift: Constant::new(bits(p.product_shift as u64)),
            offset_shift: Constant::new(bits(p.offset_shift as u64)),
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
        self.v_limbs.w.next = self.v.val();
        self.k_limbs.w.next = self.k.val();
        self.p00.next = self.v_limbs.l0.val() * self.k_limbs.l0.val();
        self.e00.next = signed_bit_cast::<SUM_BITS, 32>(self.p00.val());
        self.p01.next = self.v_limbs.l0.val() * self.k_limbs.l1.val();
        self.e01.next = signed_bit_cast::<SUM_BITS, 32>(self.p01.val());
        self.p02.next = self.v_limbs.l0.val() * self.k_limbs.l2.val();
        self.e02.next = signed_bit_cast::<SUM_BITS, 32>(self.p02.val());
        self.p10.next = self.v_limbs.l1.val() * self.k_limbs.l0.val();
        self.e10.next = signed_bit_cast::<SUM_BITS, 32>(self.p10.val());
        self.p11.next = self.v_limbs.l1.val() * self.k_limbs.l1.val();
        self.e11.next = signed_bit_cast::<SUM_BITS, 32>(self.p11.val());
        self.p12.next = self.v_limbs.l1.val() * self.k_limbs.l2.val();
        self.e12.next = signed_bit_cast::<SUM_BITS, 32>(self.p12.val());
        self.p20.next = self.v_limbs.l2.val() * self.k_limbs.l0.val();
        self.e20.next = signed_bit_cast::<SUM_BITS, 32>(self.p20.val());
        self.p21.next = self.v_limbs.l2.val() * self.k_limbs.l1.val();
        self.e21.next = signed_bit_cast::<SUM_BITS, 32>(self.p21.val());
        self.p22.next = self.v_limbs.l2.val() * self.k_limbs.l2.val();
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
