//! The plan `nmpu cosim` runs for a config: which cases, in which phases, with what
//! options; the run of a plan on a Verilated session with its totals; the cross-check
//! under Icarus; the interface blocks against their cycle models.

use crate::adc_cosim::{run_adc, AdcDut, AdcStimulus, Pulses};
use crate::check;
use crate::cosim::{run_case, Failure, RunOptions, RunReport, Session};
use crate::coverage::{coverage, Coverage};
use crate::dac_cosim::{run_dac, Codes, DacDut, DacStimulus};
use crate::icarus;
use crate::stimulus::{Case, CaseSpec};
use anyhow::{bail, ensure, Context, Result};
use nmpu_config::NmpuConfig;
use nmpu_rtl::generate::Datapath;
use std::path::Path;

/// A phase of the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Every ADC code against coefficient extremes, no stalls.
    Corners,
    /// Random vectors and coefficients with random gaps and stalls.
    Random,
    /// Reset asserted in the middle of random streams.
    Reset,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Corners => "corners",
            Phase::Random => "random",
            Phase::Reset => "reset",
        }
    }
}

/// How many cases of what kind.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanOptions {
    /// Random vectors in all.
    pub vectors: usize,
    pub seed: u64,
    /// Corner passes, the first numbered `first_pass`.
    pub passes: u32,
    pub first_pass: u32,
    /// Vectors per random case (each case loads new coefficients; case k has seed + k).
    pub chunk: usize,
    /// Probabilities that the producer holds a beat back, that the consumer is not ready.
    pub gap: f64,
    pub stall: f64,
    /// Reset at this streaming cycle of every random case.
    pub reset_at: Option<usize>,
}

impl PlanOptions {
    /// An error naming the option when one is out of range.
    pub fn check(&self) -> Result<()> {
        for (name, p) in [("--gap", self.gap), ("--stall", self.stall)] {
            if !(0.0..1.0).contains(&p) {
                bail!("{name} {p}: a probability in [0, 1) is needed (1 would stall forever)");
            }
        }
        ensure!(
            self.chunk > 0,
            "--chunk 0: a random case needs at least one vector"
        );
        Ok(())
    }
}

/// One case of a plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub phase: Phase,
    pub spec: CaseSpec,
    pub opts: RunOptions,
}

/// The cases of the phases `phases` lets through, in order: corner passes, random cases,
/// three short random cases with a reset in mid-stream.
pub fn plan(cfg: &NmpuConfig, o: &PlanOptions, phases: impl Fn(Phase) -> bool) -> Vec<Step> {
    let mut steps = vec![];
    if phases(Phase::Corners) {
        steps.extend((o.first_pass..o.first_pass + o.passes).map(|pass| Step {
            phase: Phase::Corners,
            spec: CaseSpec::Corner { seed: o.seed, pass },
            opts: RunOptions::default(),
        }));
    }
    if phases(Phase::Random) {
        steps.extend((0..o.vectors.div_ceil(o.chunk)).map(|k| Step {
            phase: Phase::Random,
            spec: CaseSpec::Random {
                seed: o.seed.wrapping_add(k as u64),
                rows: o.chunk.min(o.vectors - k * o.chunk),
                p_gap: o.gap,
                p_stall: o.stall,
            },
            opts: RunOptions {
                reset_at: o.reset_at,
                ..RunOptions::default()
            },
        }));
    }
    if phases(Phase::Reset) {
        for k in 0..3u64 {
            let reset_at = 3 + (k as usize * 37) % (2 * cfg.beats_per_row() as usize).max(1);
            steps.push(Step {
                phase: Phase::Reset,
                spec: CaseSpec::Random {
                    seed: o.seed.wrapping_add(1000 + k),
                    rows: 2,
                    p_gap: o.gap,
                    p_stall: o.stall,
                },
                opts: RunOptions {
                    reset_at: Some(reset_at),
                    ..RunOptions::default()
                },
            });
        }
    }
    steps
}

/// Totals over the cases run.
#[derive(Clone, Debug, Default)]
pub struct Totals {
    pub cases: usize,
    pub vectors: usize,
    pub elements: usize,
    pub cycles: usize,
    pub seconds: f64,
    /// Reset cases, and the in-flight beats their resets dropped.
    pub resets: usize,
    pub dropped: usize,
    /// Stage coverage of the fixed-point cases.
    pub coverage: Option<Coverage>,
}

impl Totals {
    fn add(&mut self, r: &RunReport, columns: usize) {
        self.elements += r.elements;
        self.vectors += r.elements / columns;
        self.cycles += r.cycles;
        self.seconds += r.seconds;
        self.cases += 1;
    }

    pub fn elements_per_second(&self) -> f64 {
        self.elements as f64 / self.seconds.max(1e-9)
    }

    /// The summary line of a run of `datapath` that found `mismatches`, and the coverage.
    pub fn summary(&self, datapath: Datapath, mismatches: usize) -> String {
        let mut s = format!(
            "cosim summary: {} cases, {} vectors, {} elements, {} cycles, {} mismatches, {:.1} M elements/s (golden compare included), top {}\n",
            self.cases,
            self.vectors,
            self.elements,
            self.cycles,
            mismatches,
            self.elements_per_second() / 1e6,
            datapath.module()
        );
        if let Some(cov) = &self.coverage {
            s += &cov.to_string();
        }
        s
    }
}

/// Runs `steps` on `session`; `progress` hears each case as it finishes. A mismatch stops
/// the run: `Ok(Err((totals so far, failure)))`. With `vcd` and no mismatch, the first
/// 256 cycles of the first random case go to that file.
pub fn run_plan(
    session: &mut Session,
    steps: &[Step],
    failure_dir: &Path,
    vcd: Option<&Path>,
    mut progress: impl FnMut(&Totals, &Step),
) -> Result<Result<Totals, (Totals, Box<Failure>)>> {
    let columns = session.cfg.columns as usize;
    let mut t = Totals::default();
    let mut traced = false;
    for step in steps {
        let case = step.spec.build_for(session.datapath, &session.cfg);
        if let Some(c) = coverage(&case) {
            t.coverage.get_or_insert_with(Coverage::default).add(&c);
        }
        let r = match session.check_case(&case, &step.spec, &step.opts, failure_dir, vcd)? {
            Ok(r) => r,
            Err(f) => return Ok(Err((t, Box::new(f)))),
        };
        if step.phase == Phase::Reset {
            t.resets += 1;
            t.dropped += r.dropped_by_reset;
            ensure!(
                r.beats_out + r.dropped_by_reset == r.beats_in,
                "{}, reset at {:?}: {} beats in, {} out, {} dropped by the reset: beats lost",
                step.spec,
                step.opts.reset_at,
                r.beats_in,
                r.beats_out,
                r.dropped_by_reset
            );
        }
        if step.phase == Phase::Random && !traced {
            if let Some(path) = vcd {
                trace_first_cycles(session, &case, path)?;
                traced = true;
            }
        }
        t.add(&r, columns);
        progress(&t, step);
    }
    Ok(Ok(t))
}

/// The first 256 cycles of `case` into a VCD.
fn trace_first_cycles(session: &Session, case: &Case, path: &Path) -> Result<()> {
    let mut m = session.traced_model()?;
    let opts = RunOptions {
        vcd: Some((path.to_path_buf(), 0, 256)),
        ..RunOptions::default()
    };
    run_case(&mut m, case, &opts)?.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

/// A short random case (seed + 2000, two vectors, gaps and stalls) through Icarus Verilog:
/// a second simulator on the same kind of vectors. Returns the vectors; on a difference
/// the config goes to `failure_dir` and the error says what differed.
pub fn cross_check_icarus(
    datapath: Datapath,
    cfg: &NmpuConfig,
    seed: u64,
    failure_dir: &Path,
) -> Result<usize> {
    let rows = 2;
    let spec = CaseSpec::Random {
        seed: seed.wrapping_add(2000),
        rows,
        p_gap: 0.25,
        p_stall: 0.25,
    };
    let case = spec.build_for(datapath, cfg);
    let got = icarus::run(&case, &datapath.generate(cfg)?, None)?;
    if let Err(e) = check::compare(&case, &got) {
        std::fs::create_dir_all(failure_dir)?;
        std::fs::write(failure_dir.join("config.toml"), cfg.to_toml_string())?;
        bail!("Icarus Verilog: {spec}\n{e:#}");
    }
    Ok(rows)
}

/// The ADC capture block against its cycle model: random pulse rates, no pulses, full-rate
/// pulses of either sign and both at once, with random window starts and backpressure.
pub fn adc_block(cfg: &NmpuConfig, seed: u64) -> Result<String> {
    let mut dut = AdcDut::new(cfg).context("building the ADC capture block")?;
    let cycles = 3 * (cfg.adc.window as usize + 1) + 4 * cfg.beats_per_row() as usize + 100;
    let (mut windows, mut total) = (0, 0);
    for (k, pulses) in [
        Pulses::Random,
        Pulses::Zero,
        Pulses::AllPositive,
        Pulses::AllNegative,
        Pulses::Both,
    ]
    .into_iter()
    .enumerate()
    {
        let s = AdcStimulus {
            seed: seed.wrapping_add(k as u64),
            cycles,
            pulses,
            p_start: 0.5,
            p_ready: 0.7,
            reset_at: None,
        };
        let r = run_adc(&mut dut, cfg, &s, None)?.map_err(|m| anyhow::anyhow!("{m}"))?;
        windows += r.windows_started;
        total += r.cycles;
    }
    Ok(format!("adc_capture: {windows} windows, {total} cycles (random, zero, full-rate +, full-rate -, both), every output equal to the cycle model"))
}

/// The PWM DAC block against its cycle model: random codes with input gaps and random
/// starts, then zero, most-positive and most-negative codes.
pub fn dac_block(cfg: &NmpuConfig, seed: u64) -> Result<String> {
    let mut dut = DacDut::new(cfg).context("building the PWM DAC block")?;
    let cycles = 4 * cfg.dac_period() as usize + 4 * (cfg.dac.rows / cfg.dac.lanes) as usize + 100;
    let (mut drives, mut total) = (0, 0);
    for (k, codes) in [Codes::Random, Codes::Zero, Codes::Max, Codes::Min]
        .into_iter()
        .enumerate()
    {
        let s = DacStimulus {
            seed: seed.wrapping_add(k as u64),
            cycles,
            codes,
            p_valid: 0.7,
            p_start: 0.5,
            reset_at: None,
        };
        let r = run_dac(&mut dut, cfg, &s, None)?.map_err(|m| anyhow::anyhow!("{m}"))?;
        drives += r.drives;
        total += r.cycles;
    }
    Ok(format!("pwm_dac: {drives} drives, {total} cycles (random, zero, max, min codes), every output equal to the cycle model"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> PlanOptions {
        PlanOptions {
            vectors: 600,
            seed: 9,
            passes: 2,
            first_pass: 1,
            chunk: 256,
            gap: 0.2,
            stall: 0.3,
            reset_at: None,
        }
    }

    #[test]
    fn the_plan_has_the_asked_cases_in_order() {
        let cfg = NmpuConfig::default();
        let steps = plan(&cfg, &options(), |_| true);
        let phases: Vec<&str> = steps.iter().map(|s| s.phase.name()).collect();
        assert_eq!(
            phases,
            ["corners", "corners", "random", "random", "random", "reset", "reset", "reset"]
        );
        assert_eq!(steps[0].spec, CaseSpec::Corner { seed: 9, pass: 1 });
        // 600 vectors in cases of 256: 256, 256, 88, seeds 9, 10, 11.
        let rows: Vec<(u64, usize)> = steps[2..5]
            .iter()
            .map(|s| match s.spec {
                CaseSpec::Random { seed, rows, .. } => (seed, rows),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(rows, [(9, 256), (10, 256), (11, 88)]);
        assert!(steps[5..].iter().all(|s| s.opts.reset_at.is_some()));
        let only = plan(&cfg, &options(), |p| p == Phase::Random);
        assert_eq!(only.len(), 3);
    }

    #[test]
    fn bad_options_name_the_flag() {
        let mut o = options();
        o.gap = 1.0;
        assert!(o.check().unwrap_err().to_string().starts_with("--gap 1"));
        let mut o = options();
        o.chunk = 0;
        assert!(o.check().unwrap_err().to_string().starts_with("--chunk 0"));
    }
}
