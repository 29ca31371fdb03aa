//! Runs a case on a Verilated model with a scoreboard: every accepted input beat is queued
//! with its expected output; every output handshake must match the queue's front, bit for
//! bit. A reset drops the queue (in-flight beats are lost, as documented).

use crate::check::lane_word;
use crate::stimulus::Case;
use crate::verilator::{Ctrl, Model};
use anyhow::Result;
use std::collections::VecDeque;
use std::fmt;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Assert reset for one cycle at this streaming cycle.
    pub reset_at: Option<usize>,
    /// Dump cycles `from..to` (counted from the first cycle) to this VCD.
    pub vcd: Option<(PathBuf, usize, usize)>,
}

/// What a clean run did.
#[derive(Clone, Debug, Default)]
pub struct RunReport {
    pub beats_in: usize,
    pub beats_out: usize,
    pub elements: usize,
    pub dropped_by_reset: usize,
    /// Cycles of the streaming phase.
    pub cycles: usize,
    /// Streaming cycle of the first output handshake.
    pub first_output_cycle: Option<usize>,
    pub seconds: f64,
}

impl RunReport {
    pub fn elements_per_second(&self) -> f64 {
        self.elements as f64 / self.seconds.max(1e-9)
    }
}

/// The first difference between RTL and model.
#[derive(Clone, Debug)]
pub struct Mismatch {
    pub cycle: usize,
    pub beat: usize,
    pub column: usize,
    pub lane: usize,
    pub x: i64,
    pub x_word: u32,
    pub expected: i64,
    pub got: u32,
    pub out_frac: u32,
    pub out_signed: bool,
    pub config: String,
    pub what: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scale = (-(self.out_frac as f64)).exp2();
        let got_code = if self.out_signed { self.got as u16 as i16 as i64 } else { self.got as i64 };
        writeln!(f, "MISMATCH at cycle {} ({})", self.cycle, self.what)?;
        writeln!(f, "  beat {} column {} lane {}", self.beat, self.column, self.lane)?;
        writeln!(f, "  input x = {} (lane word {:#08x})", self.x, self.x_word)?;
        writeln!(
            f,
            "  expected {:#06x} = code {} = {}",
            lane_word(self.expected),
            self.expected,
            self.expected as f64 * scale
        )?;
        writeln!(f, "  got      {:#06x} = code {} = {}", self.got, got_code, got_code as f64 * scale)?;
        write!(f, "  config:\n{}", self.config)
    }
}

/// Runs `case`; `Ok(Err(m))` is a mismatch, `Err` a harness failure.
pub fn run_case(model: &mut Model, case: &Case, opts: &RunOptions) -> Result<Result<RunReport, Box<Mismatch>>> {
    let expected = case.expected()?;
    let lanes = model.lanes();
    let out_fmt = case.cfg.output.format;
    let mismatch = |cycle: usize, beat: usize, lane: usize, exp: i64, got: u32, what: &str| {
        let b = &case.beats[beat];
        Box::new(Mismatch {
            cycle,
            beat,
            column: b.col as usize + lane,
            lane,
            x: b.x[lane],
            x_word: b.words[lane],
            expected: exp,
            got,
            out_frac: out_fmt.frac,
            out_signed: out_fmt.signed,
            config: case.cfg.to_toml_string(),
            what: what.to_string(),
        })
    };
    if let Some((path, _, _)) = &opts.vcd {
        model.open_vcd(path)?;
    }
    let dump_at = |c: usize| opts.vcd.as_ref().is_some_and(|(_, a, b)| (*a..*b).contains(&c));
    let zeros = vec![0u32; lanes];
    let mut y = vec![0u32; lanes];
    let mut global = 0usize;

    // Reset, then the coefficients through the configuration port.
    for _ in 0..2 {
        model.cycle(&Ctrl { reset: true, ..Ctrl::default() }, &zeros, &mut y, dump_at(global));
        global += 1;
    }
    for w in &case.writes {
        let c = Ctrl {
            m_ready: true,
            cfg_we: true,
            cfg_sel: w.sel,
            cfg_col: w.col,
            cfg_data: w.data,
            ..Ctrl::default()
        };
        model.cycle(&c, &zeros, &mut y, dump_at(global));
        global += 1;
    }

    let n = case.beats.len();
    let mut report = RunReport::default();
    let mut queue: VecDeque<usize> = VecDeque::new();
    let (mut next, mut presenting) = (0usize, false);
    let limit = 8 * (n + case.gaps.len()) + 1000;
    let start = Instant::now();
    let mut cycle = 0usize;
    while next < n || !queue.is_empty() {
        if cycle > limit {
            return Ok(Err(mismatch(
                cycle,
                queue.front().copied().unwrap_or(next.min(n - 1)),
                0,
                0,
                0,
                &format!("timeout: {} beats still expected", queue.len() + (n - next)),
            )));
        }
        let resetting = opts.reset_at == Some(cycle);
        if !presenting && next < n && !case.gaps[cycle % case.gaps.len()] {
            presenting = true;
        }
        let beat = &case.beats[next.min(n - 1)];
        let c = Ctrl {
            reset: resetting,
            s_valid: presenting && !resetting,
            s_col: beat.col,
            m_ready: case.ready[cycle % case.ready.len()] && !resetting,
            ..Ctrl::default()
        };
        let s = model.cycle(&c, &beat.words, &mut y, dump_at(global));
        if c.m_ready && s.m_valid {
            let Some(b) = queue.pop_front() else {
                return Ok(Err(mismatch(cycle, 0, 0, 0, y[0], "output beat with no input beat")));
            };
            report.first_output_cycle.get_or_insert(cycle);
            if s.m_col != case.beats[b].col {
                return Ok(Err(mismatch(cycle, b, 0, expected[b][0], y[0], &format!(
                    "output column {} for input column {}: a beat was lost or reordered",
                    s.m_col, case.beats[b].col
                ))));
            }
            for lane in 0..lanes {
                if y[lane] != lane_word(expected[b][lane]) {
                    return Ok(Err(mismatch(cycle, b, lane, expected[b][lane], y[lane], "output differs")));
                }
            }
            report.beats_out += 1;
            report.elements += lanes;
        }
        if c.s_valid && s.s_ready {
            queue.push_back(next);
            next += 1;
            presenting = false;
            report.beats_in += 1;
        }
        if resetting {
            report.dropped_by_reset += queue.len();
            queue.clear();
        }
        cycle += 1;
        global += 1;
    }
    // A few idle cycles: nothing more may come out.
    for _ in 0..nmpu_rtl::LATENCY + 2 {
        let c = Ctrl { m_ready: true, ..Ctrl::default() };
        let s = model.cycle(&c, &zeros, &mut y, dump_at(global));
        if s.m_valid {
            return Ok(Err(mismatch(cycle, 0, 0, 0, y[0], "extra output beat after the stream")));
        }
        cycle += 1;
        global += 1;
    }
    report.seconds = start.elapsed().as_secs_f64();
    report.cycles = cycle;
    Ok(Ok(report))
}
