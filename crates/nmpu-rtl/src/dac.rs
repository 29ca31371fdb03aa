//! The PWM row driver (docs/interfaces.md, "PWM DAC"): a fill buffer loaded from a stream,
//! a drive buffer, shared LSB-time counters, and per row a registered enable that is high
//! while the row's magnitude exceeds the LSB time. No multiplier: `cycles_per_lsb` is a
//! prescaler in front of the LSB-time counter.

use crate::regs::{CtrlReg, Reg};
use nmpu_config::NmpuConfig;
use rust_hdl::prelude::*;

/// Width of a DAC input lane.
pub const DAC_LANE_BITS: usize = 16;
/// Width of the magnitude and LSB-time compare (magnitudes up to 2^15).
const MAG_BITS: usize = 17;
/// Width of the prescaler (cycles_per_lsb up to 1024).
const LSB_BITS: usize = 11;
/// Width of the beat counter (rows up to 4096).
const BEAT_BITS: usize = 12;

/// One row: its fill and drive registers and its output registers.
#[derive(LogicBlock)]
pub struct DacRow {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// Write the fill register from `wdata` (the current beat is this row's).
    pub we: Signal<In, Bit>,
    pub wdata: Signal<In, Bits<DAC_LANE_BITS>>,
    /// A drive starts: the drive register takes the fill register.
    pub take: Signal<In, Bit>,
    /// Driving after this edge, LSB time and phase after this edge.
    pub act: Signal<In, Bit>,
    pub t_next: Signal<In, Bits<MAG_BITS>>,
    pub phase_next: Signal<In, Bit>,
    pub en: Signal<Out, Bit>,
    pub sign: Signal<Out, Bit>,
    /// `2^bits - 1`, `2^bits`, `2^(bits-1)`.
    mask: Constant<Bits<DAC_LANE_BITS>>,
    modulus: Constant<Bits<MAG_BITS>>,
    sign_bit: Constant<Bits<DAC_LANE_BITS>>,
    two_phase: Constant<Bit>,
    x: Signal<Local, Bits<DAC_LANE_BITS>>,
    x_wide: Signal<Local, Bits<MAG_BITS>>,
    neg: Signal<Local, Bit>,
    mag: Signal<Local, Bits<MAG_BITS>>,
    polarity_ok: Signal<Local, Bit>,
    fill: Reg<Bits<DAC_LANE_BITS>>,
    drive: Reg<Bits<DAC_LANE_BITS>>,
    en_reg: CtrlReg,
    sign_reg: CtrlReg,
}

impl DacRow {
    pub fn new(cfg: &NmpuConfig) -> Self {
        let b = cfg.dac.bits;
        DacRow {
            clock: Default::default(),
            reset: Default::default(),
            we: Default::default(),
            wdata: Default::default(),
            take: Default::default(),
            act: Default::default(),
            t_next: Default::default(),
            phase_next: Default::default(),
            en: Default::default(),
            sign: Default::default(),
            mask: Constant::new(bits((1u64 << b) - 1)),
            modulus: Constant::new(bits(1u64 << b)),
            sign_bit: Constant::new(bits(1u64 << (b - 1))),
            two_phase: Constant::new(cfg.dac.two_phase),
            x: Default::default(),
            x_wide: Default::default(),
            neg: Default::default(),
            mag: Default::default(),
            polarity_ok: Default::default(),
            fill: Default::default(),
            drive: Default::default(),
            en_reg: Default::default(),
            sign_reg: Default::default(),
        }
    }
}

impl Logic for DacRow {
    #[hdl_gen]
    fn update(&mut self) {
        self.fill.clock.next = self.clock.val();
        self.drive.clock.next = self.clock.val();
        self.en_reg.clock.next = self.clock.val();
        self.sign_reg.clock.next = self.clock.val();
        self.en_reg.reset.next = self.reset.val();
        self.sign_reg.reset.next = self.reset.val();
        self.en_reg.en.next = true;
        self.sign_reg.en.next = true;
        self.fill.en.next = self.we.val();
        self.fill.d.next = self.wdata.val() & self.mask.val();
        self.drive.en.next = self.take.val();
        self.drive.d.next = self.fill.q.val();

        // The code this row drives after the edge, its sign and magnitude (the code is
        // held unsigned in `bits` bits).
        if self.take.val() {
            self.x.next = self.fill.q.val();
        } else {
            self.x.next = self.drive.q.val();
        }
        self.x_wide.next = bit_cast::<MAG_BITS, DAC_LANE_BITS>(self.x.val());
        self.neg.next = (self.x.val() & self.sign_bit.val()) != 0;
        if self.neg.val() {
            self.mag.next = self.modulus.val() - self.x_wide.val();
        } else {
            self.mag.next = self.x_wide.val();
        }
        // Two-phase: positive codes in phase 0, negative ones in phase 1.
        self.polarity_ok.next = !self.two_phase.val()
            | (!self.phase_next.val() & !self.neg.val() & (self.x.val() != 0))
            | (self.phase_next.val() & self.neg.val());
        self.en_reg.d.next =
            self.act.val() & (self.mag.val() > self.t_next.val()) & self.polarity_ok.val();
        self.sign_reg.d.next = self.act.val() & self.neg.val();
        self.en.next = self.en_reg.q.val();
        self.sign.next = self.sign_reg.q.val();
    }
}

#[derive(LogicBlock)]
pub struct PwmDac {
    pub clock: Signal<In, Clock>,
    /// Synchronous, active high.
    pub reset: Signal<In, Bit>,
    pub s_valid: Signal<In, Bit>,
    pub s_ready: Signal<Out, Bit>,
    /// Lane `i` of beat `k`: the code of row `k * lanes + i` in the low `bits` bits.
    pub s_x: Vec<Signal<In, Bits<DAC_LANE_BITS>>>,
    /// Drive the loaded vector (taken when `start_ready`).
    pub start: Signal<In, Bit>,
    pub start_ready: Signal<Out, Bit>,
    /// One cycle high right after a drive's last cycle.
    pub done: Signal<Out, Bit>,
    pub pwm_en: Vec<Signal<Out, Bit>>,
    pub pwm_sign: Vec<Signal<Out, Bit>>,
    last_beat: Constant<Bits<BEAT_BITS>>,
    lsb_max: Constant<Bits<LSB_BITS>>,
    t_max: Constant<Bits<MAG_BITS>>,
    two_phase: Constant<Bit>,
    xfer: Signal<Local, Bit>,
    last_fill: Signal<Local, Bit>,
    lsb_end: Signal<Local, Bit>,
    t_end: Signal<Local, Bit>,
    last_cycle: Signal<Local, Bit>,
    can_start: Signal<Local, Bit>,
    accept: Signal<Local, Bit>,
    loaded: CtrlReg,
    driving: CtrlReg,
    phase: CtrlReg,
    done_reg: CtrlReg,
    fill_beat: Reg<Bits<BEAT_BITS>>,
    lsb: Reg<Bits<LSB_BITS>>,
    t: Reg<Bits<MAG_BITS>>,
    beat_of_row: Vec<Constant<Bits<BEAT_BITS>>>,
    rows: Vec<DacRow>,
}

impl PwmDac {
    pub fn new(cfg: &NmpuConfig) -> Self {
        let d = &cfg.dac;
        let (r, l) = (d.rows as usize, d.lanes as usize);
        PwmDac {
            clock: Default::default(),
            reset: Default::default(),
            s_valid: Default::default(),
            s_ready: Default::default(),
            s_x: (0..l).map(|_| Default::default()).collect(),
            start: Default::default(),
            start_ready: Default::default(),
            done: Default::default(),
            pwm_en: (0..r).map(|_| Default::default()).collect(),
            pwm_sign: (0..r).map(|_| Default::default()).collect(),
            last_beat: Constant::new(bits((r / l - 1) as u64)),
            lsb_max: Constant::new(bits(u64::from(d.cycles_per_lsb - 1))),
            t_max: Constant::new(bits((1u64 << (d.bits - 1)) - 1)),
            two_phase: Constant::new(d.two_phase),
            xfer: Default::default(),
            last_fill: Default::default(),
            lsb_end: Default::default(),
            t_end: Default::default(),
            last_cycle: Default::default(),
            can_start: Default::default(),
            accept: Default::default(),
            loaded: Default::default(),
            driving: Default::default(),
            phase: Default::default(),
            done_reg: Default::default(),
            fill_beat: Default::default(),
            lsb: Default::default(),
            t: Default::default(),
            beat_of_row: (0..r)
                .map(|row| Constant::new(bits((row / l) as u64)))
                .collect(),
            rows: (0..r).map(|_| DacRow::new(cfg)).collect(),
        }
    }
}

impl Logic for PwmDac {
    #[hdl_gen]
    fn update(&mut self) {
        self.loaded.clock.next = self.clock.val();
        self.driving.clock.next = self.clock.val();
        self.phase.clock.next = self.clock.val();
        self.done_reg.clock.next = self.clock.val();
        self.fill_beat.clock.next = self.clock.val();
        self.lsb.clock.next = self.clock.val();
        self.t.clock.next = self.clock.val();
        self.loaded.reset.next = self.reset.val();
        self.driving.reset.next = self.reset.val();
        self.phase.reset.next = self.reset.val();
        self.done_reg.reset.next = self.reset.val();
        self.loaded.en.next = true;
        self.driving.en.next = true;
        self.phase.en.next = true;
        self.done_reg.en.next = true;
        self.fill_beat.en.next = true;
        self.lsb.en.next = true;
        self.t.en.next = true;

        self.s_ready.next = !self.loaded.q.val();
        self.xfer.next = self.s_valid.val() & !self.loaded.q.val();
        self.last_fill.next = self.fill_beat.q.val() == self.last_beat.val();
        self.lsb_end.next = self.lsb.q.val() == self.lsb_max.val();
        self.t_end.next = self.t.q.val() == self.t_max.val();
        self.last_cycle.next = self.driving.q.val()
            & self.lsb_end.val()
            & self.t_end.val()
            & (!self.two_phase.val() | self.phase.q.val());
        self.can_start.next = self.loaded.q.val() & (!self.driving.q.val() | self.last_cycle.val());
        self.start_ready.next = self.can_start.val();
        self.accept.next = self.start.val() & self.can_start.val();

        // Loading.
        self.loaded.d.next =
            (self.loaded.q.val() & !self.accept.val()) | (self.xfer.val() & self.last_fill.val());
        self.fill_beat.d.next = self.fill_beat.q.val();
        if self.reset.val() | (self.xfer.val() & self.last_fill.val()) {
            self.fill_beat.d.next = 0.into();
        } else if self.xfer.val() {
            self.fill_beat.d.next = self.fill_beat.q.val() + 1;
        }

        // Driving: prescaler, LSB time, phase.
        self.driving.d.next = self.accept.val() | (self.driving.q.val() & !self.last_cycle.val());
        self.lsb.d.next = self.lsb.q.val();
        self.t.d.next = self.t.q.val();
        self.phase.d.next = self.phase.q.val();
        if self.reset.val() | self.accept.val() {
            self.lsb.d.next = 0.into();
            self.t.d.next = 0.into();
            self.phase.d.next = false;
        } else if self.driving.q.val() {
            if self.lsb_end.val() {
                self.lsb.d.next = 0.into();
                if self.t_end.val() {
                    self.t.d.next = 0.into();
                    self.phase.d.next = true;
                } else {
                    self.t.d.next = self.t.q.val() + 1;
                }
            } else {
                self.lsb.d.next = self.lsb.q.val() + 1;
            }
        }
        self.done_reg.d.next = self.last_cycle.val();
        self.done.next = self.done_reg.q.val();

        for r in 0..self.rows.len() {
            self.rows[r].clock.next = self.clock.val();
            self.rows[r].reset.next = self.reset.val();
            self.rows[r].we.next =
                self.xfer.val() & (self.fill_beat.q.val() == self.beat_of_row[r].val());
            self.rows[r].take.next = self.accept.val();
            self.rows[r].act.next = self.driving.d.val();
            self.rows[r].t_next.next = self.t.d.val();
            self.rows[r].phase_next.next = self.phase.d.val();
            self.pwm_en[r].next = self.rows[r].en.val();
            self.pwm_sign[r].next = self.rows[r].sign.val();
        }
        // Row r takes lane r mod lanes (`l` runs over the one value `lanes`).
        for l in (self.s_x.len())..(self.s_x.len() + 1) {
            for r in 0..(self.rows.len()) {
                self.rows[r].wdata.next = self.s_x[r % l].val();
            }
        }
    }
}
