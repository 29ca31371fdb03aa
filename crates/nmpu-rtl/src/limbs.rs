//! Splits a value word into the 16-bit signed limbs the multipliers take: `count` limbs,
//! the top one a signed 16-bit slice and those below unsigned 15-bit slices
//! (zero-extended); limbs beyond `count` are the constant 0. Combinational.

use crate::params::VALUE_BITS;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct Limbs {
    pub w: Signal<In, Bits<VALUE_BITS>>,
    pub l0: Signal<Out, Signed<16>>,
    pub l1: Signal<Out, Signed<16>>,
    pub l2: Signal<Out, Signed<16>>,
    count: Constant<Bits<2>>,
    one: Constant<Bits<2>>,
    two: Constant<Bits<2>>,
    three: Constant<Bits<2>>,
    low15: Constant<Bits<VALUE_BITS>>,
    zero: Constant<Signed<16>>,
}

impl Limbs {
    pub fn new(count: u32) -> Self {
        assert!((1..=3).contains(&count), "1 to 3 limbs");
        Limbs {
            w: Default::default(),
            l0: Default::default(),
            l1: Default::default(),
            l2: Default::default(),
            count: Constant::new(bits(count as u64)),
            one: Constant::new(bits(1)),
            two: Constant::new(bits(2)),
            three: Constant::new(bits(3)),
            low15: Constant::new(bits(0x7fff)),
            zero: Constant::new(Signed::<16>::from(0i64)),
        }
    }
}

impl Logic for Limbs {
    #[hdl_gen]
    fn update(&mut self) {
        if self.count.val() == self.one.val() {
            self.l0.next = signed_cast(bit_cast::<16, VALUE_BITS>(self.w.val()));
        } else {
            self.l0.next = signed_cast(bit_cast::<16, VALUE_BITS>(self.w.val() & self.low15.val()));
        }
        if self.count.val() == self.two.val() {
            self.l1.next = signed_cast(bit_cast::<16, VALUE_BITS>(self.w.val() >> 15));
        } else if self.count.val() == self.three.val() {
            self.l1.next = signed_cast(bit_cast::<16, VALUE_BITS>(
                (self.w.val() >> 15) & self.low15.val(),
            ));
        } else {
            self.l1.next = self.zero.val();
        }
        if self.count.val() == self.three.val() {
            self.l2.next = signed_cast(bit_cast::<16, VALUE_BITS>(self.w.val() >> 30));
        } else {
            self.l2.next = self.zero.val();
        }
    }
}
