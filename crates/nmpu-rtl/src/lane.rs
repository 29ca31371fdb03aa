//! One lane of the unfused NMPU: its coefficient banks and the pipeline `affine ->
//! batch_norm -> activation -> requantize`, advancing when `en` is high. (The fused lane
//! is [`crate::fused_lane`].)
//!
//! Cycle by cycle after an accepted beat (edge 0 loads the input and reads the banks):
//! edge 1 affine sum, edge 2 affine result, edge 3 batch-norm sum, edge 4 batch-norm
//! result, edge 5 output code.
//!
//! Coefficients leave the banks as their codes (zero-extended words); each stage reads the
//! low bits of its format, and the two delays of `g` and `h` are as wide as their formats.
//! The `fused` constant is always 0 here: it and the select it drives stay so that the
//! unfused Verilog did not change when the fused lane became a block of its own (they cost
//! nothing after synthesis).

use crate::bank::LaneBanks;
use crate::exact::ExactReg;
use crate::mac::Mac;
use crate::params::{NmpuParams, CFG_DATA_BITS, COL_BITS, IN_LANE_BITS, OUT_LANE_BITS, WORD};
use crate::range::Range;
use crate::regs::Reg;
use crate::requantize::Requantize;
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
    affine: Mac,
    g_d1: ExactReg,
    g_d2: ExactReg,
    h_d1: ExactReg,
    h_d2: ExactReg,
    batch_norm: Mac,
    requantize: Requantize,
}

impl Lane {
    /// Lane `index` of an unfused NMPU.
    pub fn new(p: &NmpuParams, index: u32) -> Self {
        let affine = p
            .affine
            .as_ref()
            .expect("an unfused lane has an affine stage");
        let [_, _, g, h] = p.coeff_formats;
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
            fused: Constant::new(false),
            banks: LaneBanks::new(index, p.depth, p.coeff_formats.map(|f| f.width())),
            x_reg: Default::default(),
            affine: Mac::new(affine, 0),
            g_d1: ExactReg::new(Range::of_format(&g)),
            g_d2: ExactReg::new(Range::of_format(&g)),
            h_d1: ExactReg::new(Range::of_format(&h)),
            h_d2: ExactReg::new(Range::of_format(&h)),
            batch_norm: Mac::new(&p.batch_norm, 0),
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
        self.requantize.clock.next = self.clock.val();
        self.x_reg.en.next = self.en.val();
        self.affine.en.next = self.en.val();
        self.g_d1.en.next = self.en.val();
        self.g_d2.en.next = self.en.val();
        self.h_d1.en.next = self.en.val();
        self.h_d2.en.next = self.en.val();
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

        // Edges 1-2: affine.
        self.affine.v.next = bit_cast::<WORD, IN_LANE_BITS>(self.x_reg.q.val());
        self.affine.k.next = bit_cast::<WORD, CFG_DATA_BITS>(self.banks.a.val());
        self.affine.o.next = bit_cast::<WORD, CFG_DATA_BITS>(self.banks.b.val());
        self.g_d1.d.next = bit_cast::<WORD, CFG_DATA_BITS>(self.banks.g.val());
        self.g_d2.d.next = self.g_d1.q.val();
        self.h_d1.d.next = bit_cast::<WORD, CFG_DATA_BITS>(self.banks.h.val());
        self.h_d2.d.next = self.h_d1.q.val();

        // Edges 3-4: batch_norm.
        self.batch_norm.v.next = self.affine.r.val();
        self.batch_norm.k.next = self.g_d2.q.val();
        self.batch_norm.o.next = self.h_d2.q.val();

        // Edge 5: activation and requantize.
        if self.fused.val() {
            self.requantize.z.next = self.affine.r.val();
        } else {
            self.requantize.z.next = self.batch_norm.r.val();
        }
        self.y.next = self.requantize.y.val();
    }
}
