//! The NMPU top: an AXI-Stream-style input of `lanes` ADC codes per beat, an output of
//! `lanes` codes per beat, the configuration port, and the lanes.
//!
//! Flow control: the whole pipeline advances when its last stage is empty or being read
//! (`advance = !m_valid | m_ready`), so `s_ready = advance`. One beat per clock while the
//! consumer is ready; when it is not, every stage holds, so no beat is lost, duplicated
//! or reordered. Latency: 6 register stages (FP16 baseline: 9). A beat accepted on clock
//! edge n is presented (`m_valid`) after edge n + 5 and, with `m_ready` high, transfers on
//! edge n + 6 (n + 8, n + 9).

use crate::fp16_lane::{Fp16Lane, FP16_LATENCY};
use crate::fused_lane::FusedLane;
use crate::lane::Lane;
use crate::params::{NmpuParams, CFG_DATA_BITS, COL_BITS, IN_LANE_BITS, OUT_LANE_BITS};
use crate::regs::{CtrlReg, Reg};
use nmpu_config::NmpuConfig;
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
    rd_addr: Signal<Local, Bits<COL_BITS>>,
    wr_en: Signal<Local, Bit>,
    wr_lane: Signal<Local, Bits<COL_BITS>>,
    wr_addr: Signal<Local, Bits<COL_BITS>>,
    valid: Vec<CtrlReg>,
    col: Vec<Reg<Bits<COL_BITS>>>,
    /// The datapath: unfused fixed-point lanes, FP16 lanes (the FP16 baseline) or fused
    /// fixed-point lanes; the other two lists are empty.
    lanes: Vec<Lane>,
    fp16_lanes: Vec<Fp16Lane>,
    fused_lanes: Vec<FusedLane>,
}

impl Nmpu {
    /// The fixed-point NMPU.
    pub fn new(p: &NmpuParams) -> Self {
        let mut top = Nmpu::shell(p, LATENCY);
        if p.fused {
            top.fused_lanes = (0..p.lanes).map(|i| FusedLane::new(p, i)).collect();
        } else {
            top.lanes = (0..p.lanes).map(|i| Lane::new(p, i)).collect();
        }
        top
    }

    /// The FP16 baseline with the same ports (docs/arithmetic.md section 6): coefficients
    /// are binary16 words in the low half of `cfg_data`; latency [`FP16_LATENCY`].
    pub fn fp16(cfg: &NmpuConfig) -> Self {
        let mut top = Nmpu::shell(&NmpuParams::new(cfg), FP16_LATENCY);
        top.fp16_lanes = (0..cfg.lanes).map(|i| Fp16Lane::new(cfg, i)).collect();
        top
    }

    fn shell(p: &NmpuParams, latency: usize) -> Self {
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
            rd_addr: Default::default(),
            wr_en: Default::default(),
            wr_lane: Default::default(),
            wr_addr: Default::default(),
            valid: (0..latency).map(|_| Default::default()).collect(),
            col: (0..latency).map(|_| Default::default()).collect(),
            lanes: vec![],
            fp16_lanes: vec![],
            fused_lanes: vec![],
        }
    }
}

impl Logic for Nmpu {
    #[hdl_gen]
    fn update(&mut self) {
        for i in (self.valid.len() - 1)..(self.valid.len()) {
            self.advance.next = !self.valid[i].q.val() | self.m_ready.val();
            self.m_valid.next = self.valid[i].q.val();
            self.m_col.next = self.col[i].q.val();
        }
        self.s_ready.next = self.advance.val();
        for i in 0..self.valid.len() {
            self.valid[i].clock.next = self.clock.val();
            self.valid[i].reset.next = self.reset.val();
            self.valid[i].en.next = self.advance.val();
            self.col[i].clock.next = self.clock.val();
            self.col[i].en.next = self.advance.val();
        }
        self.valid[0].d.next = self.s_valid.val();
        self.col[0].d.next = self.s_col.val();
        for i in 1..self.valid.len() {
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
        self.rd_addr.next = bit_cast::<COL_BITS, 32>(self.s_quot.val());
        self.wr_en.next = self.cfg_we.val() & (self.cfg_col.val() < self.columns.val());
        self.wr_lane.next = bit_cast::<COL_BITS, 32>(
            bit_cast::<32, COL_BITS>(self.cfg_col.val()) - self.cfg_base.val(),
        );
        self.wr_addr.next = bit_cast::<COL_BITS, 32>(self.cfg_quot.val());

        for i in 0..self.lanes.len() {
            self.lanes[i].clock.next = self.clock.val();
            self.lanes[i].en.next = self.advance.val();
            self.lanes[i].x.next = self.s_x[i].val();
            self.lanes[i].rd_addr.next = self.rd_addr.val();
            self.lanes[i].wr_en.next = self.wr_en.val();
            self.lanes[i].wr_lane.next = self.wr_lane.val();
            self.lanes[i].wr_sel.next = self.cfg_sel.val();
            self.lanes[i].wr_addr.next = self.wr_addr.val();
            self.lanes[i].wr_data.next = self.cfg_data.val();
            self.m_y[i].next = self.lanes[i].y.val();
        }
        for i in 0..self.fp16_lanes.len() {
            self.fp16_lanes[i].clock.next = self.clock.val();
            self.fp16_lanes[i].en.next = self.advance.val();
            self.fp16_lanes[i].x.next = self.s_x[i].val();
            self.fp16_lanes[i].rd_addr.next = self.rd_addr.val();
            self.fp16_lanes[i].wr_en.next = self.wr_en.val();
            self.fp16_lanes[i].wr_lane.next = self.wr_lane.val();
            self.fp16_lanes[i].wr_sel.next = self.cfg_sel.val();
            self.fp16_lanes[i].wr_addr.next = self.wr_addr.val();
            self.fp16_lanes[i].wr_data.next = self.cfg_data.val();
            self.m_y[i].next = self.fp16_lanes[i].y.val();
        }
        for i in 0..self.fused_lanes.len() {
            self.fused_lanes[i].clock.next = self.clock.val();
            self.fused_lanes[i].en.next = self.advance.val();
            self.fused_lanes[i].x.next = self.s_x[i].val();
            self.fused_lanes[i].rd_addr.next = self.rd_addr.val();
            self.fused_lanes[i].wr_en.next = self.wr_en.val();
            self.fused_lanes[i].wr_lane.next = self.wr_lane.val();
            self.fused_lanes[i].wr_sel.next = self.cfg_sel.val();
            self.fused_lanes[i].wr_addr.next = self.wr_addr.val();
            self.fused_lanes[i].wr_data.next = self.cfg_data.val();
            self.m_y[i].next = self.fused_lanes[i].y.val();
        }
    }
}
