//! A coefficient bank: `depth` words of one coefficient for one lane, each as wide as the
//! coefficient's format (the low bits of the configuration word), written through the
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
    width: u32,
    /// Contents for rust-hdl's own simulation.
    mem: Vec<Bits<CFG_DATA_BITS>>,
}

impl CoeffBank {
    pub fn new(depth: u32, width: u32) -> Self {
        assert!(
            (1..=CFG_DATA_BITS as u32).contains(&width),
            "bank width {width}"
        );
        CoeffBank {
            clock: Default::default(),
            we: Default::default(),
            waddr: Default::default(),
            wdata: Default::default(),
            re: Default::default(),
            raddr: Default::default(),
            rdata: Default::default(),
            depth: depth as usize,
            width,
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
                    let mask = u64::MAX >> (64 - self.width);
                    self.mem[a] = bits(self.wdata.val().to_u64() & mask);
                }
            }
        }
    }
    fn connect(&mut self) {
        self.rdata.connect();
    }
    fn hdl(&self) -> Verilog {
        let (w, full) = (self.width, CFG_DATA_BITS as u32);
        let (data, out) = if w < full {
            (
                format!("wdata[{}:0]", w - 1),
                format!("{{{}'d0, held}}", full - w),
            )
        } else {
            ("wdata".to_string(), "held".to_string())
        };
        let mut v = format!(
            "reg [{hi}:0] mem [0:{last}];\n\
             reg [{hi}:0] held;\n\
             always @(posedge clock) begin\n\
             \x20   if (we && waddr < {depth}) mem[waddr] <= {data};\n\
             \x20   if (re) held <= (raddr < {depth}) ? mem[raddr] : {w}'d0;\n\
             end\n\
             always @(*) rdata = {out};\n",
            hi = w - 1,
            last = self.depth - 1,
            depth = self.depth,
        );
        if w < full {
            v += &format!("wire unused_wdata = &{{1'b0, wdata[{}:{w}]}};\n", full - 1);
        }
        Verilog::Custom(v)
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

/// A lane's four coefficient banks (`a`, `b`, `g`, `h`) with the decode of configuration
/// writes addressed to this lane; all four are read together when `re` is high.
#[derive(LogicBlock)]
pub struct LaneBanks {
    pub clock: Signal<In, Clock>,
    pub re: Signal<In, Bit>,
    pub raddr: Signal<In, Bits<COL_BITS>>,
    /// Configuration write: the lane it is for, the coefficient (0 a, 1 b, 2 g, 3 h).
    pub wr_en: Signal<In, Bit>,
    pub wr_lane: Signal<In, Bits<COL_BITS>>,
    pub wr_sel: Signal<In, Bits<2>>,
    pub wr_addr: Signal<In, Bits<COL_BITS>>,
    pub wr_data: Signal<In, Bits<CFG_DATA_BITS>>,
    pub a: Signal<Out, Bits<CFG_DATA_BITS>>,
    pub b: Signal<Out, Bits<CFG_DATA_BITS>>,
    pub g: Signal<Out, Bits<CFG_DATA_BITS>>,
    pub h: Signal<Out, Bits<CFG_DATA_BITS>>,
    index: Constant<Bits<COL_BITS>>,
    sel_a: Constant<Bits<2>>,
    sel_b: Constant<Bits<2>>,
    sel_g: Constant<Bits<2>>,
    sel_h: Constant<Bits<2>>,
    mine: Signal<Local, Bit>,
    bank_a: CoeffBank,
    bank_b: CoeffBank,
    bank_g: CoeffBank,
    bank_h: CoeffBank,
}

impl LaneBanks {
    /// The banks of lane `index`, `depth` words each, of `widths` bits (a, b, g, h).
    pub fn new(index: u32, depth: u32, widths: [u32; 4]) -> Self {
        LaneBanks {
            clock: Default::default(),
            re: Default::default(),
            raddr: Default::default(),
            wr_en: Default::default(),
            wr_lane: Default::default(),
            wr_sel: Default::default(),
            wr_addr: Default::default(),
            wr_data: Default::default(),
            a: Default::default(),
            b: Default::default(),
            g: Default::default(),
            h: Default::default(),
            index: Constant::new(bits(index as u64)),
            sel_a: Constant::new(bits(0)),
            sel_b: Constant::new(bits(1)),
            sel_g: Constant::new(bits(2)),
            sel_h: Constant::new(bits(3)),
            mine: Default::default(),
            bank_a: CoeffBank::new(depth, widths[0]),
            bank_b: CoeffBank::new(depth, widths[1]),
            bank_g: CoeffBank::new(depth, widths[2]),
            bank_h: CoeffBank::new(depth, widths[3]),
        }
    }
}

impl Logic for LaneBanks {
    #[hdl_gen]
    fn update(&mut self) {
        self.bank_a.clock.next = self.clock.val();
        self.bank_b.clock.next = self.clock.val();
        self.bank_g.clock.next = self.clock.val();
        self.bank_h.clock.next = self.clock.val();
        self.mine.next = self.wr_en.val() & (self.wr_lane.val() == self.index.val());
        self.bank_a.we.next = self.mine.val() & (self.wr_sel.val() == self.sel_a.val());
        self.bank_b.we.next = self.mine.val() & (self.wr_sel.val() == self.sel_b.val());
        self.bank_g.we.next = self.mine.val() & (self.wr_sel.val() == self.sel_g.val());
        self.bank_h.we.next = self.mine.val() & (self.wr_sel.val() == self.sel_h.val());
        self.bank_a.waddr.next = self.wr_addr.val();
        self.bank_b.waddr.next = self.wr_addr.val();
        self.bank_g.waddr.next = self.wr_addr.val();
        self.bank_h.waddr.next = self.wr_addr.val();
        self.bank_a.wdata.next = self.wr_data.val();
        self.bank_b.wdata.next = self.wr_data.val();
        self.bank_g.wdata.next = self.wr_data.val();
        self.bank_h.wdata.next = self.wr_data.val();
        self.bank_a.re.next = self.re.val();
        self.bank_b.re.next = self.re.val();
        self.bank_g.re.next = self.re.val();
        self.bank_h.re.next = self.re.val();
        self.bank_a.raddr.next = self.raddr.val();
        self.bank_b.raddr.next = self.raddr.val();
        self.bank_g.raddr.next = self.raddr.val();
        self.bank_h.raddr.next = self.raddr.val();
        self.a.next = self.bank_a.rdata.val();
        self.b.next = self.bank_b.rdata.val();
        self.g.next = self.bank_g.rdata.val();
        self.h.next = self.bank_h.rdata.val();
    }
}

/// The fused lane's two coefficient banks (`a'`, `b'`, selects 0 and 1) with the decode
/// of configuration writes addressed to this lane; writes to `g` and `h` (selects 2, 3)
/// have no bank in a fused NMPU and are ignored.
#[derive(LogicBlock)]
pub struct PairBanks {
    pub clock: Signal<In, Clock>,
    pub re: Signal<In, Bit>,
    pub raddr: Signal<In, Bits<COL_BITS>>,
    pub wr_en: Signal<In, Bit>,
    pub wr_lane: Signal<In, Bits<COL_BITS>>,
    pub wr_sel: Signal<In, Bits<2>>,
    pub wr_addr: Signal<In, Bits<COL_BITS>>,
    pub wr_data: Signal<In, Bits<CFG_DATA_BITS>>,
    pub a: Signal<Out, Bits<CFG_DATA_BITS>>,
    pub b: Signal<Out, Bits<CFG_DATA_BITS>>,
    index: Constant<Bits<COL_BITS>>,
    sel_a: Constant<Bits<2>>,
    sel_b: Constant<Bits<2>>,
    mine: Signal<Local, Bit>,
    bank_a: CoeffBank,
    bank_b: CoeffBank,
}

impl PairBanks {
    /// The banks of lane `index`, `depth` words each, of `widths` bits (a', b').
    pub fn new(index: u32, depth: u32, widths: [u32; 2]) -> Self {
        PairBanks {
            clock: Default::default(),
            re: Default::default(),
            raddr: Default::default(),
            wr_en: Default::default(),
            wr_lane: Default::default(),
            wr_sel: Default::default(),
            wr_addr: Default::default(),
            wr_data: Default::default(),
            a: Default::default(),
            b: Default::default(),
            index: Constant::new(bits(index as u64)),
            sel_a: Constant::new(bits(0)),
            sel_b: Constant::new(bits(1)),
            mine: Default::default(),
            bank_a: CoeffBank::new(depth, widths[0]),
            bank_b: CoeffBank::new(depth, widths[1]),
        }
    }
}

impl Logic for PairBanks {
    #[hdl_gen]
    fn update(&mut self) {
        self.bank_a.clock.next = self.clock.val();
        self.bank_b.clock.next = self.clock.val();
        self.mine.next = self.wr_en.val() & (self.wr_lane.val() == self.index.val());
        self.bank_a.we.next = self.mine.val() & (self.wr_sel.val() == self.sel_a.val());
        self.bank_b.we.next = self.mine.val() & (self.wr_sel.val() == self.sel_b.val());
        self.bank_a.waddr.next = self.wr_addr.val();
        self.bank_b.waddr.next = self.wr_addr.val();
        self.bank_a.wdata.next = self.wr_data.val();
        self.bank_b.wdata.next = self.wr_data.val();
        self.bank_a.re.next = self.re.val();
        self.bank_b.re.next = self.re.val();
        self.bank_a.raddr.next = self.raddr.val();
        self.bank_b.raddr.next = self.raddr.val();
        self.a.next = self.bank_a.rdata.val();
        self.b.next = self.bank_b.rdata.val();
    }
}
