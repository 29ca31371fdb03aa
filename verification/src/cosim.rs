//! Runs a case on a Verilated model with a scoreboard: every accepted input beat is queued
//! with its expected output; every output handshake must match the queue's front, bit for
//! bit. A reset drops the queue (in-flight beats are lost, as documented).

use crate::check::lane_word;
use crate::nmpu_dut::{Ctrl, Model};
use crate::stimulus::Case;
use crate::stimulus::CaseSpec;
use crate::verilator::{build, Built};
use anyhow::{Context, Result};
use nmpu_config::NmpuConfig;
use nmpu_rtl::generate::Datapath;
use std::collections::VecDeque;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Clone, Debug, Default, PartialEq)]
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
    /// Streaming cycles of the first and the last output handshake.
    pub first_output_cycle: Option<usize>,
    pub last_output_cycle: Option<usize>,
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
    /// Streaming cycle of the failing handshake.
    pub cycle: usize,
    /// The same, counted from the model's first cycle (reset and coefficient load included):
    /// the VCD's time is ten units per cycle of this count.
    pub global_cycle: usize,
    /// Global cycle at which the failing beat was accepted.
    pub accepted_at: usize,
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
        let got_code = if self.out_signed {
            self.got as u16 as i16 as i64
        } else {
            self.got as i64
        };
        writeln!(f, "MISMATCH at cycle {} ({})", self.cycle, self.what)?;
        writeln!(
            f,
            "  beat {} column {} lane {}",
            self.beat, self.column, self.lane
        )?;
        writeln!(f, "  input x = {} (lane word {:#08x})", self.x, self.x_word)?;
        writeln!(
            f,
            "  expected {:#06x} = code {} = {}",
            lane_word(self.expected),
            self.expected,
            self.expected as f64 * scale
        )?;
        writeln!(
            f,
            "  got      {:#06x} = code {} = {}",
            self.got,
            got_code,
            got_code as f64 * scale
        )?;
        write!(f, "  config:\n{}", self.config)
    }
}

/// Where the failing beat was: streaming cycle, global cycle, beat index, acceptance.
#[derive(Clone, Copy)]
struct At {
    cycle: usize,
    global: usize,
    beat: usize,
    accepted_at: usize,
}

fn mismatch(
    case: &Case,
    at: At,
    lane: usize,
    expected: i64,
    got: u32,
    what: &str,
) -> Box<Mismatch> {
    let b = &case.beats[at.beat.min(case.beats.len().saturating_sub(1))];
    let lane = lane.min(b.x.len().saturating_sub(1));
    let out = case.cfg.output.format;
    Box::new(Mismatch {
        cycle: at.cycle,
        global_cycle: at.global,
        accepted_at: at.accepted_at,
        beat: at.beat,
        column: b.col as usize + lane,
        lane,
        x: b.x[lane],
        x_word: b.words[lane],
        expected,
        got,
        out_frac: out.frac,
        out_signed: out.signed,
        config: case.cfg.to_toml_string(),
        what: what.to_string(),
    })
}

/// Runs `case`; `Ok(Err(m))` is a mismatch, `Err` a harness failure.
pub fn run_case(
    model: &mut Model,
    case: &Case,
    opts: &RunOptions,
) -> Result<Result<RunReport, Box<Mismatch>>> {
    let start = Instant::now();
    let expected = case.expected()?;
    let lanes = model.lanes();
    if let Some((path, _, _)) = &opts.vcd {
        model.open_vcd(path)?;
    }
    let dump_at = |c: usize| {
        opts.vcd
            .as_ref()
            .is_some_and(|(_, a, b)| (*a..*b).contains(&c))
    };
    let zeros = vec![0u32; lanes];
    let mut y = vec![0u32; lanes];
    let mut global = 0usize;

    // Reset, then the coefficients through the configuration port.
    for _ in 0..2 {
        let c = Ctrl {
            reset: true,
            ..Ctrl::default()
        };
        model.cycle(&c, &zeros, &mut y, dump_at(global));
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
    // Accepted beats not yet out: (beat, global cycle of acceptance).
    let mut queue: VecDeque<(usize, usize)> = VecDeque::new();
    let (mut next, mut presenting) = (0usize, false);
    let limit = 8 * (n + case.gaps.len()) + 1000;
    let mut cycle = 0usize;
    while next < n || !queue.is_empty() {
        let front = queue.front().copied().unwrap_or((next.min(n - 1), global));
        let at = At {
            cycle,
            global,
            beat: front.0,
            accepted_at: front.1,
        };
        if cycle > limit {
            let what = format!("timeout: {} beats still expected", queue.len() + (n - next));
            return Ok(Err(mismatch(case, at, 0, 0, 0, &what)));
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
            if queue.pop_front().is_none() {
                let what = "output beat with no input beat in flight";
                return Ok(Err(mismatch(case, at, 0, 0, y[0], what)));
            }
            let b = at.beat;
            report.first_output_cycle.get_or_insert(cycle);
            report.last_output_cycle = Some(cycle);
            if s.m_col != case.beats[b].col {
                let what = format!(
                    "output column {} for input column {}: a beat was lost, duplicated or reordered",
                    s.m_col, case.beats[b].col
                );
                return Ok(Err(mismatch(case, at, 0, expected[b * lanes], y[0], &what)));
            }
            for lane in 0..lanes {
                if y[lane] != lane_word(expected[b * lanes + lane]) {
                    let e = expected[b * lanes + lane];
                    return Ok(Err(mismatch(case, at, lane, e, y[lane], "output differs")));
                }
            }
            report.beats_out += 1;
            report.elements += lanes;
        }
        if c.s_valid && s.s_ready {
            queue.push_back((next, global));
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
    for _ in 0..case.datapath().latency() + 2 {
        let c = Ctrl {
            m_ready: true,
            ..Ctrl::default()
        };
        let s = model.cycle(&c, &zeros, &mut y, dump_at(global));
        if s.m_valid {
            let at = At {
                cycle,
                global,
                beat: n - 1,
                accepted_at: global,
            };
            let what = "extra output beat after the stream";
            return Ok(Err(mismatch(case, at, 0, 0, y[0], what)));
        }
        cycle += 1;
        global += 1;
    }
    report.seconds = start.elapsed().as_secs_f64();
    report.cycles = cycle;
    Ok(Ok(report))
}

/// A config's Verilated model, ready to run cases.
pub struct Session {
    pub cfg: NmpuConfig,
    pub datapath: Datapath,
    /// The model library (its `build_seconds` is zero when it came from the cache).
    pub built: Built,
    model: Model,
}

impl Session {
    /// Generates the RTL for `cfg` and builds (or finds in the cache) its Verilated model.
    pub fn new(cfg: &NmpuConfig) -> Result<Self> {
        Session::for_datapath(Datapath::Fixed, cfg)
    }

    /// As [`Session::new`] for either datapath.
    pub fn for_datapath(datapath: Datapath, cfg: &NmpuConfig) -> Result<Self> {
        Session::for_verilog(datapath, cfg, &datapath.generate(cfg)?, datapath.module())
    }

    /// As [`Session::new`] for a design other than the generated one with the NMPU's ports
    /// (scalar lanes or packed buses) that computes `datapath`'s function: the hand-written
    /// reference ([`crate::reference`]).
    pub fn for_verilog(
        datapath: Datapath,
        cfg: &NmpuConfig,
        verilog: &str,
        top: &str,
    ) -> Result<Self> {
        let built = build(verilog, top)?;
        let model = Model::load(&built, cfg.lanes as usize)?;
        Ok(Session {
            cfg: cfg.clone(),
            datapath,
            built,
            model,
        })
    }

    pub fn run(
        &mut self,
        case: &Case,
        opts: &RunOptions,
    ) -> Result<Result<RunReport, Box<Mismatch>>> {
        run_case(&mut self.model, case, opts)
    }

    /// Runs the case `spec` describes; on a mismatch writes the failure's artefacts into
    /// `failure_dir` (see [`record_failure`]) and returns the report with its replay command.
    pub fn check(
        &mut self,
        spec: &CaseSpec,
        opts: &RunOptions,
        failure_dir: &Path,
    ) -> Result<Result<RunReport, Failure>> {
        let case = spec.build_for(self.datapath, &self.cfg);
        self.check_case(&case, spec, opts, failure_dir, None)
    }

    /// As [`Session::check`] for a case already built from `spec`, with the VCD path.
    pub fn check_case(
        &mut self,
        case: &Case,
        spec: &CaseSpec,
        opts: &RunOptions,
        failure_dir: &Path,
        vcd: Option<&Path>,
    ) -> Result<Result<RunReport, Failure>> {
        match self.run(case, opts)? {
            Ok(r) => Ok(Ok(r)),
            Err(m) => {
                let f = record_failure(&self.built, case, spec, opts, m, failure_dir, vcd)?;
                Ok(Err(f))
            }
        }
    }

    /// A fresh model of the same library.
    pub fn fresh_model(&self) -> Result<Model> {
        Model::load(&self.built, self.cfg.lanes as usize)
    }

    /// A fresh model of the same design built with tracing, for a run with a VCD (built
    /// the first time one is asked for, then cached like any model).
    pub fn traced_model(&self) -> Result<Model> {
        Model::load(&self.built.traced()?, self.cfg.lanes as usize)
    }
}

/// What replays a failing case: the datapath, the config written for it, the case and how
/// it was run, and where its VCD goes. Data, not a command line: `nmpu cosim` renders it
/// as its own flags (and a test there parses them back), so renaming a flag cannot
/// silently break a replay.
#[derive(Clone, Debug, PartialEq)]
pub struct Replay {
    pub datapath: Datapath,
    pub config: PathBuf,
    pub spec: CaseSpec,
    pub reset_at: Option<usize>,
    pub vcd: PathBuf,
}

impl fmt::Display for Replay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} (config {}",
            self.spec,
            self.datapath.module(),
            self.config.display()
        )?;
        if let Some(r) = self.reset_at {
            write!(f, ", reset at streaming cycle {r}")?;
        }
        write!(f, ", VCD {})", self.vcd.display())
    }
}

/// A mismatch with what was written to reproduce it.
#[derive(Debug)]
pub struct Failure {
    pub mismatch: Box<Mismatch>,
    pub config_file: PathBuf,
    pub vcd: PathBuf,
    pub replay: Replay,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.mismatch)?;
        write!(
            f,
            "VCD of the failing window (from the beat's acceptance): {}\nto replay: {}",
            self.vcd.display(),
            self.replay
        )
    }
}

/// Writes the config as `config.toml` into `dir` and a VCD of the failing window (from a
/// few cycles before the failing beat was accepted to a few after the mismatch; to `vcd`,
/// else `dir/failure.vcd`) by re-running the case on a fresh traced model, and returns
/// what replays it.
pub fn record_failure(
    built: &Built,
    case: &Case,
    spec: &CaseSpec,
    opts: &RunOptions,
    m: Box<Mismatch>,
    dir: &Path,
    vcd: Option<&Path>,
) -> Result<Failure> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let config_file = dir.join("config.toml");
    std::fs::write(&config_file, case.cfg.to_toml_string())
        .with_context(|| format!("cannot write {}", config_file.display()))?;
    let vcd = vcd.map_or_else(|| dir.join("failure.vcd"), Path::to_path_buf);
    let traced = built
        .traced()
        .context("building the traced model for the failure's VCD")?;
    let mut fresh = Model::load(&traced, case.cfg.lanes as usize)?;
    let window = RunOptions {
        vcd: Some((
            vcd.clone(),
            m.accepted_at.saturating_sub(8),
            m.global_cycle + 4,
        )),
        ..opts.clone()
    };
    let again = run_case(&mut fresh, case, &window)?;
    if again.is_ok() {
        anyhow::bail!("the mismatch did not reproduce on a fresh model: the harness is not deterministic\n{m}");
    }
    let replay = Replay {
        datapath: case.datapath(),
        config: config_file.clone(),
        spec: *spec,
        reset_at: opts.reset_at,
        vcd: vcd.clone(),
    };
    Ok(Failure {
        mismatch: m,
        config_file,
        vcd,
        replay,
    })
}
