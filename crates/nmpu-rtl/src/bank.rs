//! A coefficient bank: `depth` words of one coefficient for one lane, written through the
//! configuration port, read synchronously. A small custom-Verilog primitive because its
//! depth comes from the configuration (rust-hdl's RAM sizes are compile-time powers of
//! two); its behaviour is covered by the co-simulation. Addresses at or beyond the depth
//! write nothing and read 0.

use crate::params::{CFG_DATA_BITS, COL_BITS};
use rust_hdl::core::ast::Verilog;
use rust_hdl::prelude::*;

pub struct CoeffBank {
    pub clock: Signal<In, Clock>,
    pub we: Signal<In, Bit>,
    pub waddr: Signal<In, Bits<COL_BITS>>,
    pub wdata: Signal<In, Bits<CFG_DATA_BITS>>,
    pub re: Signal<In, Bit>,
    pub raddr: Signal<In, Bits<COL_BITS>>,
    pub rdata: Signal<Out, Bits<CFG_DATA_BITS>>,
    depth: usize,
    /// Contents for rust-hdl's own simulation.
    mem: Vec<Bits<CFG_DATA_BITS>>,
}

impl CoeffBank {
    pub fn new(depth: u32) -> Self {
        CoeffBank {
            clock: Default::default(),
            we: Default::default(),
            waddr: Default::default(),
            wdata: Default::default(),
            re: Default::default(),
            raddr: Default::default(),
            rdata: Default::default(),
            depth: depth as usize,
            mem: vec![Bits::default(); depth as usize],
        }
    }
}

impl Logic for CoeffBank {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            if self.re.val() {
                let a = self.raddr.val().index();
                // Out of range reads give 0, as the Verilog does.
                self.rdata.next = self.mem.get(a).copied().unwrap_or_default();
            }
            if self.we.val() {
                let a = self.waddr.val().index();
                if a < self.depth {
                    self.mem[a] = self.wdata.val();
                }
            }
        }
    }
    fn connect(&mut self) {
        self.rdata.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom(format!(
            "reg [{w}:0] mem [0:{last}];\n\
             always @(posedge clock) begin\n\
             \x20   if (we && waddr < {depth}) mem[waddr] <= wdata;\n\
             \x20   if (re) rdata <= (raddr < {depth}) ? mem[raddr] : {bits}'d0;\n\
             end",
            w = CFG_DATA_BITS - 1,
            last = self.depth - 1,
            depth = self.depth,
            bits = CFG_DATA_BITS,
        ))
    }
}

impl Block for CoeffBank {
    fn connect_all(&mut self) {
        self.connect();
        self.clock.connect_all();
        self.we.connect_all();
        self.waddr.connect_all();
        self.wdata.connect_all();
        self.re.connect_all();
        self.raddr.connect_all();
        self.rdata.connect_all();
    }
    fn update_all(&mut self) {
        self.update();
        self.clock.update_all();
        self.we.update_all();
        self.waddr.update_all();
        self.wdata.update_all();
        self.re.update_all();
        self.raddr.update_all();
        self.rdata.update_all();
    }
    fn has_changed(&self) -> bool {
        self.clock.has_changed()
            || self.we.has_changed()
            || self.waddr.has_changed()
            || self.wdata.has_changed()
            || self.re.has_changed()
            || self.raddr.has_changed()
            || self.rdata.has_changed()
    }
    fn accept(&self, name: &str, probe: &mut dyn Probe) {
        probe.visit_start_scope(name, self);
        self.clock.accept("clock", probe);
        self.we.accept("we", probe);
        self.waddr.accept("waddr", probe);
        self.wdata.accept("wdata", probe);
        self.re.accept("re", probe);
        self.raddr.accept("raddr", probe);
        self.rdata.accept("rdata", probe);
        probe.visit_end_scope(name, self);
    }
}
