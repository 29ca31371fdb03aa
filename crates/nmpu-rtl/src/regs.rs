//! Registers with clock enable: data registers without reset, and control registers
//! (valid bits) with a synchronous reset. Written as small custom-Verilog primitives,
//! as rust-hdl's own DFF is, so the emitted Verilog has no `initial` blocks (ASIC flops
//! start unknown; only what must be known is reset).

use rust_hdl::prelude::*;

/// `q <= d` on the rising clock edge when `en` is high.
#[derive(LogicBlock, Default)]
pub struct Reg<T: Synth> {
    pub clock: Signal<In, Clock>,
    pub en: Signal<In, Bit>,
    pub d: Signal<In, T>,
    pub q: Signal<Out, T>,
}

impl<T: Synth> Logic for Reg<T> {
    fn update(&mut self) {
        if self.clock.pos_edge() && self.en.val() {
            self.q.next = self.d.val();
        }
    }
    fn connect(&mut self) {
        self.q.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom("always @(posedge clock) if (en) q <= d;".into())
    }
    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "reg".into(),
            clock: "clock".into(),
            inputs: vec!["d".into(), "en".into()],
            outputs: vec!["q".into()],
        }]
    }
}

/// A control bit: cleared by the synchronous `reset`, else `q <= d` when `en`.
#[derive(LogicBlock, Default)]
pub struct CtrlReg {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub en: Signal<In, Bit>,
    pub d: Signal<In, Bit>,
    pub q: Signal<Out, Bit>,
}

impl Logic for CtrlReg {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            if self.reset.val() {
                self.q.next = false;
            } else if self.en.val() {
                self.q.next = self.d.val();
            }
        }
    }
    fn connect(&mut self) {
        self.q.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom("always @(posedge clock) if (reset) q <= 1'b0; else if (en) q <= d;".into())
    }
    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "ctrl_reg".into(),
            clock: "clock".into(),
            inputs: vec!["d".into(), "en".into(), "reset".into()],
            outputs: vec!["q".into()],
        }]
    }
}
