//! The CCO-ADC capture block, cycle by cycle (docs/interfaces.md, "ADC capture").

use nmpu_config::NmpuConfig;

/// Inputs of one clock cycle, sampled at its rising edge.
#[derive(Clone, Debug, Default)]
pub struct AdcIn {
    pub reset: bool,
    pub start: bool,
    /// One entry per column.
    pub pulse_pos: Vec<bool>,
    pub pulse_neg: Vec<bool>,
    pub m_ready: bool,
}

/// Outputs during one clock cycle (before its rising edge).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdcOut {
    pub start_ready: bool,
    pub m_valid: bool,
    pub m_col: u32,
    /// The codes of the presented beat (meaningful when `m_valid`).
    pub m_x: Vec<i64>,
}

/// Register state of the capture block.
#[derive(Clone, Debug)]
pub struct AdcCapture {
    columns: usize,
    lanes: usize,
    window: u32,
    max_count: i64,
    integrating: bool,
    remaining: u32,
    done: bool,
    pos: Vec<i64>,
    neg: Vec<i64>,
    xb: Vec<i64>,
    full: bool,
    beat: usize,
}

impl AdcCapture {
    pub fn new(cfg: &NmpuConfig) -> Self {
        let n = cfg.columns as usize;
        AdcCapture {
            columns: n,
            lanes: cfg.lanes as usize,
            window: cfg.adc.window,
            max_count: (1i64 << cfg.adc.count_bits) - 1,
            integrating: false,
            remaining: 0,
            done: false,
            pos: vec![0; n],
            neg: vec![0; n],
            xb: vec![0; n],
            full: false,
            beat: 0,
        }
    }

    /// The outputs of the current cycle.
    pub fn outputs(&self) -> AdcOut {
        let first = self.beat * self.lanes;
        AdcOut {
            start_ready: !(self.integrating || (self.done && self.full)),
            m_valid: self.full,
            m_col: first as u32,
            m_x: self.xb[first..first + self.lanes].to_vec(),
        }
    }

    /// One clock edge with inputs `i`; returns the outputs seen before it.
    pub fn step(&mut self, i: &AdcIn) -> AdcOut {
        let out = self.outputs();
        if i.reset {
            // The readout data register is not reset; everything that says what it holds is.
            self.integrating = false;
            self.remaining = 0;
            self.done = false;
            self.full = false;
            self.beat = 0;
            self.pos.iter_mut().for_each(|v| *v = 0);
            self.neg.iter_mut().for_each(|v| *v = 0);
            return out;
        }
        let accept = i.start && out.start_ready;
        let latch = self.done && !self.full;
        let transfer = self.full && i.m_ready;
        if latch {
            for c in 0..self.columns {
                self.xb[c] = self.pos[c] - self.neg[c];
            }
            self.done = false;
        }
        if accept {
            self.integrating = true;
            self.remaining = self.window;
            self.pos.iter_mut().for_each(|v| *v = 0);
            self.neg.iter_mut().for_each(|v| *v = 0);
        } else if self.integrating {
            for c in 0..self.columns {
                let max = self.max_count;
                self.pos[c] = (self.pos[c] + i64::from(i.pulse_pos[c])).min(max);
                self.neg[c] = (self.neg[c] + i64::from(i.pulse_neg[c])).min(max);
            }
            if self.remaining == 1 {
                self.integrating = false;
                self.done = true;
            }
            self.remaining -= 1;
        }
        if transfer {
            if self.beat + 1 == self.columns / self.lanes {
                self.beat = 0;
                self.full = false;
            } else {
                self.beat += 1;
            }
        }
        if latch {
            self.full = true;
        }
        out
    }
}

/// The code a window yields for one column: both counts saturate, then subtract.
pub fn adc_code(pulses_pos: u64, pulses_neg: u64, count_bits: u32) -> i64 {
    let max = (1u64 << count_bits) - 1;
    pulses_pos.min(max) as i64 - pulses_neg.min(max) as i64
}

/// A window by the transaction-level definition: the pulses of the `window` edges after its
/// start, counted per column, then saturated and subtracted (`adc_code`).
#[derive(Clone, Debug)]
pub struct Window {
    left: u32,
    count_bits: u32,
    pos: Vec<u64>,
    neg: Vec<u64>,
}

impl Window {
    /// A window that starts now, for `cfg`'s columns and ADC.
    pub fn new(cfg: &NmpuConfig) -> Self {
        let n = cfg.columns as usize;
        Window {
            left: cfg.adc.window,
            count_bits: cfg.adc.count_bits,
            pos: vec![0; n],
            neg: vec![0; n],
        }
    }

    /// Counts the pulses of one edge; when it was the window's last, its codes.
    pub fn edge(&mut self, pos: &[bool], neg: &[bool]) -> Option<Vec<i64>> {
        for (sum, &p) in self.pos.iter_mut().zip(pos) {
            *sum += u64::from(p);
        }
        for (sum, &p) in self.neg.iter_mut().zip(neg) {
            *sum += u64::from(p);
        }
        self.left -= 1;
        (self.left == 0).then(|| {
            self.pos
                .iter()
                .zip(&self.neg)
                .map(|(&p, &n)| adc_code(p, n, self.count_bits))
                .collect()
        })
    }
}
