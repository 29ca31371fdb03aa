//! The CCO-ADC capture block (docs/interfaces.md, "ADC capture"): per column a positive and
//! a negative saturating pulse counter, integrated over a window, latched as `pos - neg`
//! into a readout register, and streamed `lanes` codes per beat in exactly the NMPU's input
//! format. The readout registers form a shift chain (each beat shifts every column down by
//! `lanes`), so the stream needs no wide multiplexer.

use crate::params::{COL_BITS, IN_LANE_BITS};
use crate::regs::{CtrlReg, Reg};
use nmpu_config::NmpuConfig;
use rust_hdl::prelude::*;

/// Window counter width: windows up to 2^24 cycles.
pub const WINDOW_BITS: usize = 25;

/// One column: two counters and its readout register.
#[derive(LogicBlock)]
pub struct AdcColumn {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// A window starts: counters clear.
    pub clear: Signal<In, Bit>,
    /// Integrating: counters add their pulses.
    pub count: Signal<In, Bit>,
    pub pulse_pos: Signal<In, Bit>,
    pub pulse_neg: Signal<In, Bit>,
    /// The readout register takes `pos - neg`.
    pub latch: Signal<In, Bit>,
    /// The readout register takes `shift_in` (the column `lanes` further on).
    pub shift: Signal<In, Bit>,
    pub shift_in: Signal<In, Bits<IN_LANE_BITS>>,
    /// The readout register: the code, two's complement in 24 bits.
    pub x: Signal<Out, Bits<IN_LANE_BITS>>,
    max: Constant<Bits<IN_LANE_BITS>>,
    zero: Constant<Bits<IN_LANE_BITS>>,
    pos: Reg<Bits<IN_LANE_BITS>>,
    neg: Reg<Bits<IN_LANE_BITS>>,
    xb: Reg<Bits<IN_LANE_BITS>>,
}

impl AdcColumn {
    pub fn new(count_bits: u32) -> Self {
        AdcColumn {
            clock: Default::default(),
            reset: Default::default(),
            clear: Default::default(),
            count: Default::default(),
            pulse_pos: Default::default(),
            pulse_neg: Default::default(),
            latch: Default::default(),
            shift: Default::default(),
            shift_in: Default::default(),
            x: Default::default(),
            max: Constant::new(bits((1u64 << count_bits) - 1)),
            zero: Constant::new(bits(0)),
            pos: Default::default(),
            neg: Default::default(),
            xb: Default::default(),
        }
    }
}

impl Logic for AdcColumn {
    #[hdl_gen]
    fn update(&mut self) {
        self.pos.clock.next = self.clock.val();
        self.neg.clock.next = self.clock.val();
        self.xb.clock.next = self.clock.val();
        // Counters: cleared by reset or a window start, else count while integrating. The
        // mask (a no-op below the maximum) shows synthesis the bits above `count_bits` are 0.
        self.pos.en.next = self.reset.val() | self.clear.val() | self.count.val();
        self.neg.en.next = self.reset.val() | self.clear.val() | self.count.val();
        self.pos.d.next = self.pos.q.val();
        if self.reset.val() | self.clear.val() {
            self.pos.d.next = self.zero.val();
        } else if self.pulse_pos.val() & (self.pos.q.val() != self.max.val()) {
            self.pos.d.next = (self.pos.q.val() + 1) & self.max.val();
        }
        self.neg.d.next = self.neg.q.val();
        if self.reset.val() | self.clear.val() {
            self.neg.d.next = self.zero.val();
        } else if self.pulse_neg.val() & (self.neg.q.val() != self.max.val()) {
            self.neg.d.next = (self.neg.q.val() + 1) & self.max.val();
        }
        self.xb.en.next = self.latch.val() | self.shift.val();
        if self.latch.val() {
            self.xb.d.next = self.pos.q.val() - self.neg.q.val();
        } else {
            self.xb.d.next = self.shift_in.val();
        }
        self.x.next = self.xb.q.val();
    }
}

#[derive(LogicBlock)]
pub struct AdcCapture {
    pub clock: Signal<In, Clock>,
    /// Synchronous, active high.
    pub reset: Signal<In, Bit>,
    /// Start a window (taken when `start_ready`).
    pub start: Signal<In, Bit>,
    pub start_ready: Signal<Out, Bit>,
    /// Oscillator pulses, at most one per clock, per column.
    pub pulse_pos: Vec<Signal<In, Bit>>,
    pub pulse_neg: Vec<Signal<In, Bit>>,
    pub m_valid: Signal<Out, Bit>,
    pub m_ready: Signal<In, Bit>,
    /// Column of lane 0.
    pub m_col: Signal<Out, Bits<COL_BITS>>,
    /// Lane `i`: the code of column `m_col + i`, sign-extended to 24 bits.
    pub m_x: Vec<Signal<Out, Bits<IN_LANE_BITS>>>,
    window: Constant<Bits<WINDOW_BITS>>,
    last_beat: Constant<Bits<COL_BITS>>,
    lane_step: Constant<Bits<COL_BITS>>,
    zero_x: Constant<Bits<IN_LANE_BITS>>,
    can_start: Signal<Local, Bit>,
    accept: Signal<Local, Bit>,
    latch: Signal<Local, Bit>,
    shift: Signal<Local, Bit>,
    last: Signal<Local, Bit>,
    integrating: CtrlReg,
    done: CtrlReg,
    full: CtrlReg,
    remaining: Reg<Bits<WINDOW_BITS>>,
    beat: Reg<Bits<COL_BITS>>,
    col: Reg<Bits<COL_BITS>>,
    cols: Vec<AdcColumn>,
}

impl AdcCapture {
    pub fn new(cfg: &NmpuConfig) -> Self {
        let n = cfg.columns as usize;
        let lanes = cfg.lanes as usize;
        AdcCapture {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            start_ready: Default::default(),
            pulse_pos: (0..n).map(|_| Default::default()).collect(),
            pulse_neg: (0..n).map(|_| Default::default()).collect(),
            m_valid: Default::default(),
            m_ready: Default::default(),
            m_col: Default::default(),
            m_x: (0..lanes).map(|_| Default::default()).collect(),
            window: Constant::new(bits(u64::from(cfg.adc.window))),
            last_beat: Constant::new(bits((n / lanes - 1) as u64)),
            lane_step: Constant::new(bits(lanes as u64)),
            zero_x: Constant::new(bits(0)),
            can_start: Default::default(),
            accept: Default::default(),
            latch: Default::default(),
            shift: Default::default(),
            last: Default::default(),
            integrating: Default::default(),
            done: Default::default(),
            full: Default::default(),
            remaining: Default::default(),
            beat: Default::default(),
            col: Default::default(),
            cols: (0..n).map(|_| AdcColumn::new(cfg.adc.count_bits)).collect(),
        }
    }
}

impl Logic for AdcCapture {
    #[hdl_gen]
    fn update(&mut self) {
        self.integrating.clock.next = self.clock.val();
        self.done.clock.next = self.clock.val();
        self.full.clock.next = self.clock.val();
        self.remaining.clock.next = self.clock.val();
        self.beat.clock.next = self.clock.val();
        self.col.clock.next = self.clock.val();
        self.integrating.reset.next = self.reset.val();
        self.done.reset.next = self.reset.val();
        self.full.reset.next = self.reset.val();
        self.integrating.en.next = true;
        self.done.en.next = true;
        self.full.en.next = true;
        self.remaining.en.next = true;
        self.beat.en.next = true;
        self.col.en.next = true;

        self.can_start.next = !self.integrating.q.val() & !(self.done.q.val() & self.full.q.val());
        self.start_ready.next = self.can_start.val();
        self.accept.next = self.start.val() & self.can_start.val();
        self.latch.next = self.done.q.val() & !self.full.q.val();
        self.shift.next = self.full.q.val() & self.m_ready.val();
        self.last.next = self.beat.q.val() == self.last_beat.val();

        // Window control.
        self.integrating.d.next =
            self.accept.val() | (self.integrating.q.val() & (self.remaining.q.val() != 1));
        self.done.d.next =
            (self.integrating.q.val() & !self.accept.val() & (self.remaining.q.val() == 1))
                | (self.done.q.val() & !self.latch.val());
        self.remaining.d.next = self.remaining.q.val();
        if self.reset.val() {
            self.remaining.d.next = 0.into();
        } else if self.accept.val() {
            self.remaining.d.next = self.window.val();
        } else if self.integrating.q.val() {
            self.remaining.d.next = self.remaining.q.val() - 1;
        }

        // Readout.
        self.full.d.next =
            self.latch.val() | (self.full.q.val() & !(self.shift.val() & self.last.val()));
        self.beat.d.next = self.beat.q.val();
        self.col.d.next = self.col.q.val();
        if self.reset.val() | (self.shift.val() & self.last.val()) {
            self.beat.d.next = 0.into();
            self.col.d.next = 0.into();
        } else if self.shift.val() {
            self.beat.d.next = self.beat.q.val() + 1;
            self.col.d.next = self.col.q.val() + self.lane_step.val();
        }
        self.m_valid.next = self.full.q.val();
        self.m_col.next = self.col.q.val();

        for c in 0..self.cols.len() {
            self.cols[c].clock.next = self.clock.val();
            self.cols[c].reset.next = self.reset.val();
            self.cols[c].clear.next = self.accept.val();
            self.cols[c].count.next = self.integrating.q.val();
            self.cols[c].pulse_pos.next = self.pulse_pos[c].val();
            self.cols[c].pulse_neg.next = self.pulse_neg[c].val();
            self.cols[c].latch.next = self.latch.val();
            self.cols[c].shift.next = self.shift.val();
        }
        // The shift chain: column c takes column c + lanes; the last beat's columns take 0.
        // (`l` runs over the one value `lanes`, so the index arithmetic has a loop variable.)
        for l in (self.m_x.len())..(self.m_x.len() + 1) {
            for c in 0..(self.cols.len() - self.m_x.len()) {
                self.cols[c].shift_in.next = self.cols[c + l].x.val();
            }
        }
        for c in (self.cols.len() - self.m_x.len())..(self.cols.len()) {
            self.cols[c].shift_in.next = self.zero_x.val();
        }
        for i in 0..self.m_x.len() {
            self.m_x[i].next = self.cols[i].x.val();
        }
    }
}
