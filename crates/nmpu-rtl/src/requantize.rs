//! `activation` and `requantize`: ReLU (when configured), alignment to the output
//! fraction, rounding and saturation to the output code; one pipeline register. The
//! output port carries the code sign- (signed output) or zero-extended (unsigned).

use crate::exact::{Activation, ExactReg, Quant};
use crate::params::{RequantParams, OUT_LANE_BITS, WORD};
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct Requantize {
    pub clock: Signal<In, Clock>,
    pub en: Signal<In, Bit>,
    pub z: Signal<In, Bits<WORD>>,
    pub y: Signal<Out, Bits<OUT_LANE_BITS>>,
    activation: Activation,
    quantize: Quant,
    result: ExactReg,
}

impl Requantize {
    pub fn new(p: &RequantParams) -> Self {
        Requantize {
            clock: Default::default(),
            en: Default::default(),
            z: Default::default(),
            y: Default::default(),
            activation: Activation::new(p),
            quantize: Quant::new(&p.quant),
            result: ExactReg::new(p.quant.output()),
        }
    }
}

impl Logic for Requantize {
    #[hdl_gen]
    fn update(&mut self) {
        self.result.clock.next = self.clock.val();
        self.result.en.next = self.en.val();
        self.activation.z.next = self.z.val();
        self.quantize.t.next = self.activation.a.val();
        self.result.d.next = self.quantize.r.val();
        self.y.next = bit_cast::<OUT_LANE_BITS, WORD>(self.result.q.val());
    }
}
