//! One lane: its coefficient banks and the pipeline `affine -> batch_norm -> activation
//! -> requantize`, advancing when `en` is high.
//!
//! Cycle by cycle after an accepted beat (edge 0 loads the input and reads the banks):
//! edge 1 affine sum, edge 2 affine result, edge 3 batch-norm sum, edge 4 batch-norm
//! result, edge 5 output code. When fused, the single multiply-add is `affine` and its
//! result bypasses `batch_norm` through two registers, so latency does not change.

use crate::bank::LaneBanks;
use crate::extend::Extend;
use crate::mac::Mac;
use crate::params::{NmpuParams, CFG_DATA_BITS, COL_BITS, IN_LANE_BITS, OUT_LANE_BITS, VALUE_BITS};
use crate::regs::Reg;
use crate::requantize::Requantize;
use nmpu_config::QFormat;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct Lane {
    pub clock: Signal<In, Clock>,
    pub en: Signal<In, Bit>,
    pub x: Signal<In, Bits<IN_LANE_BITS>>,
    pub rd_addr: Signal<In, Bits<COL_BITS>>,
    /// Configuration write: the lane it is for, the coefficient (0 a, 1 b, 2 g, 3 h).
    pub wr_en: Signal<In, Bit>,
    pub wr_lane: Signal<In, Bits<COL_BITS>>,
    pub wr_sel: Signal<In, Bits<2>>,
    pub wr_addr: Signal<In, Bits<COL_BITS>>,
    pub wr_data: Signal<In, Bits<CFG_DATA_BITS>>,
    pub y: Signal<Out, Bits<OUT_LANE_BITS>>,
    fused: Constant<Bit>,
    banks: LaneBanks,
    x_reg: Reg<Bits<IN_LANE_BITS>>,
    x_ext: Extend<IN_LANE_BITS>,
    a_ext: Extend<CFG_DATA_BITS>,
    b_ext: Extend<CFG_DATA_BITS>,
    g_ext: Extend<CFG_DATA_BITS>,
    h_ext: Extend<CFG_DATA_BITS>,
    affine: Mac,
    g_d1: Reg<Bits<VALUE_BITS>>,
    g_d2: Reg<Bits<VALUE_BITS>>,
    h_d1: Reg<Bits<VALUE_BITS>>,
    h_d2: Reg<Bits<VALUE_BITS>>,
    batch_norm: Mac,
    bypass_d1: Reg<Bits<VALUE_BITS>>,
    bypass_d2: Reg<Bits<VALUE_BITS>>,
    requantize: Requantize,
}

impl Lane {
    pub fn new(p: &NmpuParams, index: u32) -> Self {
        let [a, b, g, h] = p.coeff_formats;
        Lane {
            clock: Default::default(),
            en: Default::default(),
            x: Default::default(),
            rd_addr: Default::default(),
            wr_en: Default::default(),
            wr_lane: Default::default(),
            wr_sel: Default::default(),
            wr_addr: Default::default(),
            wr_data: Default::default(),
            y: Default::default(),
            fused: Constant::new(p.fused),
            banks: LaneBanks::new(index, p.depth),
            x_reg: Default::default(),
            x_ext: Extend::new(&QFormat::new(true, p.in_bits as i32, 0)),
            a_ext: Extend::new(&a),
            b_ext: Extend::new(&b),
            g_ext: Extend::new(&g),
            h_ext: Extend::new(&h),
            affine: Mac::new(&p.affine),
            g_d1: Default::default(),
            g_d2: Default::default(),
            h_d1: Default::default(),
            h_d2: Default::default(),
            batch_norm: Mac::new(&p.batch_norm),
            bypass_d1: Default::default(),
            bypass_d2: Default::default(),
            requantize: Requantize::new(&p.requantize),
        }
    }
}

impl Logic for Lane {
    #[hdl_gen]
    fn update(&mut self) {
        self.x_reg.clock.next = self.clock.val();
        self.affine.clock.next = self.clock.val();
        self.g_d1.clock.next = self.clock.val();
        self.g_d2.clock.next = self.clock.val();
        self.h_d1.clock.next = self.clock.val();
        self.h_d2.clock.next = self.clock.val();
        self.batch_norm.clock.next = self.clock.val();
        self.bypass_d1.clock.next = self.clock.val();
        self.bypass_d2.clock.next = self.clock.val();
        self.requantize.clock.next = self.clock.val();
        self.x_reg.en.next = self.en.val();
        self.affine.en.next = self.en.val();
        self.g_d1.en.next = self.en.val();
        self.g_d2.en.next = self.en.val();
        self.h_d1.en.next = self.en.val();
        self.h_d2.en.next = self.en.val();
        self.batch_norm.en.next = self.en.val();
        self.bypass_d1.en.next = self.en.val();
        self.bypass_d2.en.next = self.en.val();
        self.requantize.en.next = self.en.val();

        // Coefficient writes for this lane, and the reads of edge 0.
        self.banks.clock.next = self.clock.val();
        self.banks.wr_en.next = self.wr_en.val();
        self.banks.wr_lane.next = self.wr_lane.val();
        self.banks.wr_sel.next = self.wr_sel.val();
        self.banks.wr_addr.next = self.wr_addr.val();
        self.banks.wr_data.next = self.wr_data.val();
        self.banks.re.next = self.en.val();
        self.banks.raddr.next = self.rd_addr.val();

        // Edge 0: input register (the banks read alongside).
        self.x_reg.d.next = self.x.val();
        self.x_ext.x.next = self.x_reg.q.val();
        self.a_ext.x.next = self.banks.a.val();
        self.b_ext.x.next = self.banks.b.val();
        self.g_ext.x.next = self.banks.g.val();
        self.h_ext.x.next = self.banks.h.val();

        // Edges 1-2: affine (or the fused multiply-add).
        self.affine.v.next = self.x_ext.y.val();
        self.affine.k.next = self.a_ext.y.val();
        self.affine.o.next = self.b_ext.y.val();
        self.g_d1.d.next = self.g_ext.y.val();
        self.g_d2.d.next = self.g_d1.q.val();
        self.h_d1.d.next = self.h_ext.y.val();
        self.h_d2.d.next = self.h_d1.q.val();

        // Edges 3-4: batch_norm, or the bypass when fused.
        self.batch_norm.v.next = self.affine.r.val();
        self.batch_norm.k.next = self.g_d2.q.val();
        self.batch_norm.o.next = self.h_d2.q.val();
        self.bypass_d1.d.next = self.affine.r.val();
        self.bypass_d2.d.next = self.bypass_d1.q.val();

        // Edge 5: activation and requantize.
        if self.fused.val() {
            self.requantize.z.next = self.bypass_d2.q.val();
        } else {
            self.requantize.z.next = self.batch_norm.r.val();
        }
        self.y.next = self.requantize.y.val();
    }
}
