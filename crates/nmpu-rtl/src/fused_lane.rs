//! One lane of the fused NMPU (`fuse_affine_bn = true`): its two coefficient banks and
//! the pipeline `batch_norm -> activation -> requantize`, with `batch_norm` the one
//! multiply-add `z = a'*x + b'` (docs/arithmetic.md section 4: there is no `affine`).
//!
//! Cycle by cycle after an accepted beat (edge 0 loads the input and reads the banks):
//! edge 1 the exact sum, edge 2 the result, edges 3 and 4 two more result registers (the
//! result is the narrowest value to hold for the two stages the fused lane does not have,
//! so the latency is the unfused lane's), edge 5 the output code.

use crate::bank::PairBanks;
use crate::mac::Mac;
use crate::params::{NmpuParams, CFG_DATA_BITS, COL_BITS, IN_LANE_BITS, OUT_LANE_BITS, WORD};
use crate::regs::Reg;
use crate::requantize::Requantize;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct FusedLane {
    pub clock: Signal<In, Clock>,
    pub en: Signal<In, Bit>,
    pub x: Signal<In, Bits<IN_LANE_BITS>>,
    pub rd_addr: Signal<In, Bits<COL_BITS>>,
    /// Configuration write: the lane it is for, the coefficient (0 a', 1 b').
    pub wr_en: Signal<In, Bit>,
    pub wr_lane: Signal<In, Bits<COL_BITS>>,
    pub wr_sel: Signal<In, Bits<2>>,
    pub wr_addr: Signal<In, Bits<COL_BITS>>,
    pub wr_data: Signal<In, Bits<CFG_DATA_BITS>>,
    pub y: Signal<Out, Bits<OUT_LANE_BITS>>,
    banks: PairBanks,
    x_reg: Reg<Bits<IN_LANE_BITS>>,
    batch_norm: Mac,
    requantize: Requantize,
}

impl FusedLane {
    /// Lane `index` of a fused NMPU.
    pub fn new(p: &NmpuParams, index: u32) -> Self {
        let [a, b, _, _] = p.coeff_formats;
        FusedLane {
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
            banks: PairBanks::new(index, p.depth, [a.width(), b.width()]),
            x_reg: Default::default(),
            batch_norm: Mac::new(&p.batch_norm, 2),
            requantize: Requantize::new(&p.requantize),
        }
    }
}

impl Logic for FusedLane {
    #[hdl_gen]
    fn update(&mut self) {
        self.x_reg.clock.next = self.clock.val();
        self.batch_norm.clock.next = self.clock.val();
        self.requantize.clock.next = self.clock.val();
        self.x_reg.en.next = self.en.val();
        self.batch_norm.en.next = self.en.val();
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

        // Edges 1-4: batch_norm, its result held two more edges.
        self.batch_norm.v.next = bit_cast::<WORD, IN_LANE_BITS>(self.x_reg.q.val());
        self.batch_norm.k.next = bit_cast::<WORD, CFG_DATA_BITS>(self.banks.a.val());
        self.batch_norm.o.next = bit_cast::<WORD, CFG_DATA_BITS>(self.banks.b.val());

        // Edge 5: activation and requantize.
        self.requantize.z.next = self.batch_norm.r.val();
        self.y.next = self.requantize.y.val();
    }
}
