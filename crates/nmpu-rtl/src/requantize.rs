//! `activation` and `requantize`: ReLU (when configured), alignment to the output
//! fraction, rounding and saturation to the output code; one pipeline register.

use crate::params::{RequantParams, OUT_LANE_BITS, SUM_BITS, VALUE_BITS};
use crate::quantize::Quantize;
use crate::regs::Reg;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct Requantize {
    pub clock: Signal<In, Clock>,
    pub en: Signal<In, Bit>,
    pub z: Signal<In, Bits<VALUE_BITS>>,
    pub y: Signal<Out, Bits<OUT_LANE_BITS>>,
    relu: Constant<Bit>,
    align_shift: Constant<Bits<8>>,
    zero: Constant<Bits<VALUE_BITS>>,
    activation: Signal<Local, Bits<VALUE_BITS>>,
    wide: Signal<Local, Signed<SUM_BITS>>,
    quantize: Quantize<OUT_LANE_BITS>,
    result: Reg<Bits<OUT_LANE_BITS>>,
}

impl Requantize {
    pub fn new(p: &RequantParams) -> Self {
        Requantize {
            clock: Default::default(),
            en: Default::default(),
            z: Default::default(),
            y: Default::default(),
            relu: Constant::new(p.relu),
            align_shift: Constant::new(bits(p.align_shift as u64)),
            zero: Constant::new(bits(0)),
            activation: Default::default(),
            wide: Default::default(),
            quantize: Quantize::new(&p.quant),
            result: Default::default(),
        }
    }
}

impl Logic for Requantize {
    #[hdl_gen]
    fn update(&mut self) {
        self.result.clock.next = self.clock.val();
        self.result.en.next = self.en.val();
        if self.relu.val() & self.z.val().get_bit(45) {
            self.activation.next = self.zero.val();
        } else {
            self.activation.next = self.z.val();
        }
        self.wide.next =
            signed_bit_cast::<SUM_BITS, VALUE_BITS>(signed_cast(self.activation.val()));
        self.quantize.t.next = unsigned_cast(self.wide.val()) << self.align_shift.val();
        self.result.d.next = self.quantize.r.val();
        self.y.next = self.result.q.val();
    }
}
