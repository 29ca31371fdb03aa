//! The NMPU top: an AXI-Stream-style input of `lanes` ADC codes per beat, an output of
//! `lanes` codes per beat, the configuration port, and the lanes.
//!
//! Flow control: the whole pipeline advances when its last stage is empty or being read
//! (`advance = !m_valid | m_ready`), so `s_ready = advance`. One beat per clock while the
//! consumer is ready; when it is not, every stage holds, so no beat is lost, duplicated
//! or reordered. Latency: 6 register stages. A beat accepted on clock edge n is presented
//! (`m_valid`) after edge n + 5 and, with `m_ready` high, transfers on edge n + 6.

use crate::lane::Lane;
use crate::params::{NmpuParams, CFG_DATA_BITS, COL_BITS, IN_LANE_BITS, OUT_LANE_BITS};
use crate::regs::{CtrlReg, Reg};
use rust_hdl::prelude::*;

/// Register stages from input to output: an input handshake on edge n gives an output
/// handshake on edge n + LATENCY when the consumer is ready.
pub const LATENCY: usize = 6;

#[derive(LogicBlock)]
pub struct Nmpu {
    pub clock: Signal<In, Clock>,
    /// Synchronous, active high: clears every valid bit.
    pub reset: Signal<In, Bit>,
    pub s_valid: Signal<In, Bit>,
    pub s_ready: Signal<Out, Bit>,
    /// Column of lane 0; a multiple of `lanes`.
    pub s_col: Signal<In, Bits<COL_BITS>>,
    /// Lane `i` carries the code of column `s_col + i` in its low `in_bits` bits.
    pub s_x: Vec<Signal<In, Bits<IN_LANE_BITS>>>,
    pub m_valid: Signal<Out, Bit>,
    pub m_ready: Signal<In, Bit>,
    pub m_col: Signal<Out, Bits<COL_BITS>>,
    /// Output codes, sign- (signed output) or zero-extended (unsigned) to 16 bits.
    pub m_y: Vec<Signal<Out, Bits<OUT_LANE_BITS>>>,
    /// Configuration port: on a clock with `cfg_we`, coefficient `cfg_sel` (0 a, 1 b,
    /// 2 g, 3 h) of column `cfg_col` becomes `cfg_data` (its code, in the low bits).
    pub cfg_we: Signal<In, Bit>,
    pub cfg_sel: Signal<In, Bits<2>>,
    pub cfg_col: Signal<In, Bits<COL_BITS>>,
    pub cfg_data: Signal<In, Bits<CFG_DATA_BITS>>,
    columns: Constant<Bits<COL_BITS>>,
    lane_count: Constant<Bits<16>>,
    div_mul: Constant<Bits<16>>,
    div_shift: Constant<Bits<8>>,
    advance: Signal<Local, Bit>,
    s_col16: Signal<Local, Bits<16>>,
    s_quot: Signal<Local, Bits<32>>,
    cfg_col16: Signal<Local, Bits<16>>,
    cfg_quot: Signal<Local, Bits<32>>,
    cfg_addr16: Signal<Local, Bits<16>>,
    cfg_base: Signal<Local, Bits<32>>,
    valid: Vec<CtrlReg>,
    col: Vec<Reg<Bits<COL_BITS>>>,
    lanes: Vec<Lane>,
}

impl Nmpu {
    pub fn new(p: &NmpuParams) -> Self {
        let n = p.lanes as usize;
        Nmpu {
            clock: Default::default(),
            reset: Default::default(),
            s_valid: Default::default(),
            s_ready: Default::default(),
            s_col: Default::default(),
            s_x: (0..n).map(|_| Default::default()).collect(),
            m_valid: Default::default(),
            m_ready: Default::default(),
            m_col: Default::default(),
            m_y: (0..n).map(|_| Default::default()).collect(),
            cfg_we: Default::default(),
            cfg_sel: Default::default(),
            cfg_col: Default::default(),
            cfg_data: Default::default(),
            columns: Constant::new(bits(p.columns as u64)),
            lane_count: Constant::new(bits(p.lanes as u64)),
            div_mul: Constant::new(bits(p.div_mul as u64)),
            div_shift: Constant::new(bits(p.div_shift as u64)),
            advance: Default::default(),
            s_col16: Default::default(),
            s_quot: Default::default(),
            cfg_col16: Default::default(),
            cfg_quot: Default::default(),
            cfg_addr16: Default::default(),
            cfg_base: Default::default(),
            valid: (0..LATENCY).map(|_| Default::default()).collect(),
            col: (0..LATENCY).map(|_| Default::default()).collect(),
            lanes: (0..p.lanes).map(|i| Lane::new(p, i)).collect(),
        }
    }
}

impl Logic for Nmpu {
    #[hdl_gen]
    fn update(&mut self) {
        self.advance.next = !self.valid[5].q.val() | self.m_ready.val();
        self.s_ready.next = self.advance.val();
        self.m_valid.next = self.valid[5].q.val();
        self.m_col.next = self.col[5].q.val();
        for i in 0..6 {
            self.valid[i].clock.next = self.clock.val();
            self.valid[i].reset.next = self.reset.val();
            self.valid[i].en.next = self.advance.val();
            self.col[i].clock.next = self.clock.val();
            self.col[i].en.next = self.advance.val();
        }
        self.valid[0].d.next = self.s_valid.val();
        self.col[0].d.next = self.s_col.val();
        for i in 1..6 {
            self.valid[i].d.next = self.valid[i - 1].q.val();
            self.col[i].d.next = self.col[i - 1].q.val();
        }

        // Bank address of a beat and of a configuration write: col / lanes, by a
        // multiply with the reciprocal (exact for every 12-bit column index).
        self.s_col16.next = bit_cast::<16, COL_BITS>(self.s_col.val());
        self.s_quot.next = (self.s_col16.val() * self.div_mul.val()) >> self.div_shift.val();
        self.cfg_col16.next = bit_cast::<16, COL_BITS>(self.cfg_col.val());
        self.cfg_quot.next = (self.cfg_col16.val() * self.div_mul.val()) >> self.div_shift.val();
        self.cfg_addr16.next = bit_cast::<16, 32>(self.cfg_quot.val());
        self.cfg_base.next = self.cfg_addr16.val() * self.lane_count.val();

        for i in 0..self.lanes.len() {
            self.lanes[i].clock.next = self.clock.val();
            self.lanes[i].en.next = self.advance.val();
            self.lanes[i].x.next = self.s_x[i].val();
            self.lanes[i].rd_addr.next = bit_cast::<COL_BITS, 32>(self.s_quot.val());
            self.lanes[i].wr_en.next =
                self.cfg_we.val() & (self.cfg_col.val() < self.columns.val());
            self.lanes[i].wr_lane.next = bit_cast::<COL_BITS, 32>(
                bit_cast::<32, COL_BITS>(self.cfg_col.val()) - self.cfg_base.val(),
            );
            self.lanes[i].wr_sel.next = self.cfg_sel.val();
            self.lanes[i].wr_addr.next = bit_cast::<COL_BITS, 32>(self.cfg_quot.val());
            self.lanes[i].wr_data.next = self.cfg_data.val();
            self.m_y[i].next = self.lanes[i].y.val();
        }
    }
}
