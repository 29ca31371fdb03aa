//! The PWM row driver, cycle by cycle (docs/interfaces.md, "PWM DAC").

use nmpu_config::NmpuConfig;

/// Inputs of one clock cycle, sampled at its rising edge.
#[derive(Clone, Debug, Default)]
pub struct DacIn {
    pub reset: bool,
    pub s_valid: bool,
    /// `lanes` codes of the beat.
    pub s_x: Vec<i64>,
    pub start: bool,
}

/// Outputs during one clock cycle (before its rising edge).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DacOut {
    pub s_ready: bool,
    pub start_ready: bool,
    pub done: bool,
    pub en: Vec<bool>,
    pub sign: Vec<bool>,
}

#[derive(Clone, Debug)]
pub struct PwmDac {
    rows: usize,
    lanes: usize,
    cycles_per_lsb: u32,
    t_max: i64,
    two_phase: bool,
    fill: Vec<i64>,
    drive: Vec<i64>,
    fill_beat: usize,
    loaded: bool,
    driving: bool,
    lsb: u32,
    t: i64,
    phase: u8,
    en: Vec<bool>,
    sign: Vec<bool>,
    done: bool,
}

impl PwmDac {
    pub fn new(cfg: &NmpuConfig) -> Self {
        let d = &cfg.dac;
        let r = d.rows as usize;
        PwmDac {
            rows: r,
            lanes: d.lanes as usize,
            cycles_per_lsb: d.cycles_per_lsb,
            t_max: (1i64 << (d.bits - 1)) - 1,
            two_phase: d.two_phase,
            fill: vec![0; r],
            drive: vec![0; r],
            fill_beat: 0,
            loaded: false,
            driving: false,
            lsb: 0,
            t: 0,
            phase: 0,
            en: vec![false; r],
            sign: vec![false; r],
            done: false,
        }
    }

    fn last_cycle(&self) -> bool {
        self.driving
            && self.lsb + 1 == self.cycles_per_lsb
            && self.t == self.t_max
            && (!self.two_phase || self.phase == 1)
    }

    pub fn outputs(&self) -> DacOut {
        DacOut {
            s_ready: !self.loaded,
            start_ready: self.loaded && (!self.driving || self.last_cycle()),
            done: self.done,
            en: self.en.clone(),
            sign: self.sign.clone(),
        }
    }

    /// One clock edge with inputs `i`; returns the outputs seen before it.
    pub fn step(&mut self, i: &DacIn) -> DacOut {
        let out = self.outputs();
        if i.reset {
            self.loaded = false;
            self.driving = false;
            self.fill_beat = 0;
            self.lsb = 0;
            self.t = 0;
            self.phase = 0;
            self.en.iter_mut().for_each(|e| *e = false);
            self.sign.iter_mut().for_each(|s| *s = false);
            self.done = false;
            return out;
        }
        let last = self.last_cycle();
        let accept = i.start && out.start_ready;
        if i.s_valid && out.s_ready {
            // A code out of range is a test-bench bug: the hardware would see other bits.
            assert!(
                i.s_x[..self.lanes]
                    .iter()
                    .all(|x| (-self.t_max - 1..=self.t_max).contains(x)),
                "DAC input codes {:?} outside the {}-bit range",
                &i.s_x[..self.lanes],
                (self.t_max + 1).trailing_zeros() + 1
            );
            let base = self.fill_beat * self.lanes;
            self.fill[base..base + self.lanes].copy_from_slice(&i.s_x[..self.lanes]);
            if base + self.lanes == self.rows {
                self.fill_beat = 0;
                self.loaded = true;
            } else {
                self.fill_beat += 1;
            }
        }
        self.done = last;
        if accept {
            self.drive.copy_from_slice(&self.fill);
            self.loaded = false;
            self.driving = true;
            self.lsb = 0;
            self.t = 0;
            self.phase = 0;
        } else if self.driving {
            if last {
                self.driving = false;
            }
            if self.lsb + 1 == self.cycles_per_lsb {
                self.lsb = 0;
                if self.t == self.t_max {
                    self.t = 0;
                    self.phase = 1;
                } else {
                    self.t += 1;
                }
            } else {
                self.lsb += 1;
            }
        }
        for r in 0..self.rows {
            let x = self.drive[r];
            let polarity_ok = !self.two_phase || if self.phase == 0 { x > 0 } else { x < 0 };
            self.en[r] = self.driving && x.abs() > self.t && polarity_ok;
            self.sign[r] = self.driving && x < 0;
        }
        out
    }
}
