//! One lane of the FP16 baseline (docs/arithmetic.md section 6): coefficient banks holding
//! binary16 words and the pipeline `from_code -> affine -> batch_norm -> activation ->
//! to_code`, advancing when `en` is high. The ports are the fixed-point `Lane`'s.
//!
//! Cycle by cycle after an accepted beat (edge 0 loads the input and reads the banks):
//! edge 1 the input as binary16, edges 2-4 the affine FMA, edges 5-7 the batch-norm FMA,
//! edge 8 the output code.

use crate::bank::LaneBanks;
use crate::fp16_convert::{FromCode, ToCode};
use crate::fp16_fma::Fp16Fma;
use crate::params::{CFG_DATA_BITS, COL_BITS, IN_LANE_BITS, OUT_LANE_BITS};
use crate::regs::Reg;
use nmpu_config::{Activation, NmpuConfig};
use rust_hdl::prelude::*;

/// Register stages of the FP16 lane, input register to output code.
pub const FP16_LATENCY: usize = 9;

#[derive(LogicBlock)]
pub struct Fp16Lane {
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
    relu: Constant<Bit>,
    banks: LaneBanks,
    x_reg: Reg<Bits<IN_LANE_BITS>>,
    from_code: FromCode,
    x16: Reg<Bits<16>>,
    a_d1: Reg<Bits<16>>,
    b_d1: Reg<Bits<16>>,
    g_d: Vec<Reg<Bits<16>>>,
    h_d: Vec<Reg<Bits<16>>>,
    affine: Fp16Fma,
    batch_norm: Fp16Fma,
    activation: Signal<Local, Bits<16>>,
    to_code: ToCode,
    out: Reg<Bits<OUT_LANE_BITS>>,
}

impl Fp16Lane {
    pub fn new(cfg: &NmpuConfig, index: u32) -> Self {
        let depth = cfg.columns / cfg.lanes;
        Fp16Lane {
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
            relu: Constant::new(cfg.activation == Activation::Relu),
            banks: LaneBanks::new(index, depth, [16; 4]),
            x_reg: Default::default(),
            from_code: FromCode::new(cfg),
            x16: Default::default(),
            a_d1: Default::default(),
            b_d1: Default::default(),
            g_d: (0..4).map(|_| Default::default()).collect(),
            h_d: (0..4).map(|_| Default::default()).collect(),
            affine: Default::default(),
            batch_norm: Default::default(),
            activation: Default::default(),
            to_code: ToCode::new(&cfg.output.format),
            out: Default::default(),
        }
    }
}

impl Logic for Fp16Lane {
    #[hdl_gen]
    fn update(&mut self) {
        self.x_reg.clock.next = self.clock.val();
        self.x16.clock.next = self.clock.val();
        self.a_d1.clock.next = self.clock.val();
        self.b_d1.clock.next = self.clock.val();
        self.affine.clock.next = self.clock.val();
        self.batch_norm.clock.next = self.clock.val();
        self.out.clock.next = self.clock.val();
        self.x_reg.en.next = self.en.val();
        self.x16.en.next = self.en.val();
        self.a_d1.en.next = self.en.val();
        self.b_d1.en.next = self.en.val();
        self.affine.en.next = self.en.val();
        self.batch_norm.en.next = self.en.val();
        self.out.en.next = self.en.val();
        for i in 0..self.g_d.len() {
            self.g_d[i].clock.next = self.clock.val();
            self.h_d[i].clock.next = self.clock.val();
            self.g_d[i].en.next = self.en.val();
            self.h_d[i].en.next = self.en.val();
        }

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

        // Edge 1: the code as binary16; coefficients follow their beat.
        self.from_code.x.next = self.x_reg.q.val();
        self.x16.d.next = self.from_code.z.val();
        self.a_d1.d.next = bit_cast::<16, CFG_DATA_BITS>(self.banks.a.val());
        self.b_d1.d.next = bit_cast::<16, CFG_DATA_BITS>(self.banks.b.val());
        self.g_d[0].d.next = bit_cast::<16, CFG_DATA_BITS>(self.banks.g.val());
        self.h_d[0].d.next = bit_cast::<16, CFG_DATA_BITS>(self.banks.h.val());
        for i in 1..self.g_d.len() {
            self.g_d[i].d.next = self.g_d[i - 1].q.val();
            self.h_d[i].d.next = self.h_d[i - 1].q.val();
        }

        // Edges 2-4: affine; edges 5-7: batch_norm.
        self.affine.a.next = self.a_d1.q.val();
        self.affine.b.next = self.x16.q.val();
        self.affine.c.next = self.b_d1.q.val();
        self.batch_norm.a.next = self.g_d[3].q.val();
        self.batch_norm.b.next = self.affine.r.val();
        self.batch_norm.c.next = self.h_d[3].q.val();

        // Edge 8: activation (the sign bit set, NaN excepted, becomes +0), output code.
        self.activation.next = self.batch_norm.r.val();
        if self.relu.val()
            & self.batch_norm.r.val().get_bit(15)
            & !((self.batch_norm.r.val().get_bits::<5>(10) == 31)
                & (self.batch_norm.r.val().get_bits::<10>(0) != 0))
        {
            self.activation.next = 0.into();
        }
        self.to_code.z.next = self.activation.val();
        self.out.d.next = self.to_code.y.val();
        self.y.next = self.out.q.val();
    }
}
