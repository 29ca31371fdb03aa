//! One multiply-add stage, `r = quantize(v*k + o)` (docs/arithmetic.md section 3), with
//! two pipeline registers: the exact sum, then the quantized result; plus `delay` further
//! result registers (the fused lane's stand-in for the absent batch-norm stage). Every
//! part is as wide as its values need (see [`crate::exact`]).

use crate::exact::{ExactReg, MulAdd, Quant};
use crate::params::{MacParams, WORD};
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct Mac {
    pub clock: Signal<In, Clock>,
    pub en: Signal<In, Bit>,
    pub v: Signal<In, Bits<WORD>>,
    pub k: Signal<In, Bits<WORD>>,
    pub o: Signal<In, Bits<WORD>>,
    pub r: Signal<Out, Bits<WORD>>,
    multiply_add: MulAdd,
    sum: ExactReg,
    quantize: Quant,
    result: Vec<ExactReg>,
}

impl Mac {
    pub fn new(p: &MacParams, delay: usize) -> Self {
        Mac {
            clock: Default::default(),
            en: Default::default(),
            v: Default::default(),
            k: Default::default(),
            o: Default::default(),
            r: Default::default(),
            multiply_add: MulAdd::new(p),
            sum: ExactReg::new(p.sum()),
            quantize: Quant::new(&p.quant),
            result: (0..=delay).map(|_| ExactReg::new(p.result())).collect(),
        }
    }
}

impl Logic for Mac {
    #[hdl_gen]
    fn update(&mut self) {
        self.sum.clock.next = self.clock.val();
        self.sum.en.next = self.en.val();
        self.multiply_add.v.next = self.v.val();
        self.multiply_add.k.next = self.k.val();
        self.multiply_add.o.next = self.o.val();
        self.sum.d.next = self.multiply_add.t.val();
        self.quantize.t.next = self.sum.q.val();
        for i in 0..self.result.len() {
            self.result[i].clock.next = self.clock.val();
            self.result[i].en.next = self.en.val();
        }
        self.result[0].d.next = self.quantize.r.val();
        for i in 1..self.result.len() {
            self.result[i].d.next = self.result[i - 1].q.val();
        }
        for i in (self.result.len() - 1)..self.result.len() {
            self.r.next = self.result[i].q.val();
        }
    }
}
