//! `nmpu cosim`: the arguments, the progress, the summary; and a failure's replay as a
//! command line of these same arguments.

use crate::io::{describe_config, load_config};
use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use nmpu_eda::tools::{verilator_notice, Tool, ToolVersions};
use nmpu_rtl::generate::Datapath;
use nmpu_verification::cosim::{Replay, Session};
use nmpu_verification::plan::{self, Phase, PlanOptions};
use nmpu_verification::stimulus::CaseSpec;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Only {
    /// Every phase
    All,
    /// Corner passes: every ADC code against coefficient extremes, no stalls
    Corners,
    /// Random vectors and coefficients with random gaps and stalls
    Random,
    /// Reset asserted in the middle of random streams
    Reset,
    /// The same vectors through Icarus Verilog
    Icarus,
    /// The ADC capture block against its cycle model (random pulses, saturation corners)
    Adc,
    /// The PWM DAC block against its cycle model (random codes, corners)
    Dac,
}

#[derive(Args, Debug)]
pub struct CosimArgs {
    /// Configuration TOML (default: the shipped configs/default.toml)
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Random input vectors (rows of `columns` codes) to stream
    #[arg(long, short = 'n', default_value_t = 2048)]
    vectors: usize,
    /// Seed of coefficients, data and flow control
    #[arg(long, short, default_value_t = 1)]
    seed: u64,
    /// VCD file: the window around the first mismatch; when everything matches, the
    /// first 256 cycles of the first random case
    #[arg(long)]
    vcd: Option<PathBuf>,
    /// Run only one phase
    #[arg(long, value_enum, default_value_t = Only::All)]
    only: Only,
    /// Corner passes (each with new coefficient draws)
    #[arg(long, default_value_t = 4)]
    passes: u32,
    /// Number of the first corner pass (to replay one pass)
    #[arg(long, default_value_t = 0)]
    first_pass: u32,
    /// Vectors per random case; each case loads new random coefficients (case k uses
    /// seed + k)
    #[arg(long, default_value_t = 256)]
    chunk: usize,
    /// Probability that the producer holds back a beat in a cycle
    #[arg(long, default_value_t = 0.2)]
    gap: f64,
    /// Probability that the consumer is not ready in a cycle
    #[arg(long, default_value_t = 0.2)]
    stall: f64,
    /// Assert reset at this streaming cycle of every random case
    #[arg(long)]
    reset_at: Option<usize>,
    /// Where a failure's config and VCD are written
    #[arg(long, default_value = "cosim-failure")]
    failure_dir: PathBuf,
    /// Co-simulate the FP16 baseline (top `nmpu_fp16`, binary16 coefficients) against the
    /// FP16 golden model instead of the fixed-point NMPU
    #[arg(long)]
    fp16: bool,
}

impl CosimArgs {
    fn options(&self) -> PlanOptions {
        PlanOptions {
            vectors: self.vectors,
            seed: self.seed,
            passes: self.passes,
            first_pass: self.first_pass,
            chunk: self.chunk,
            gap: self.gap,
            stall: self.stall,
            reset_at: self.reset_at,
        }
    }

    fn datapath(&self) -> Datapath {
        if self.fp16 {
            Datapath::Fp16
        } else {
            Datapath::Fixed
        }
    }

    fn phase(&self, p: Only) -> bool {
        self.only == Only::All || self.only == p
    }

    /// Whether the plan's phase `p` runs.
    fn wants(&self, p: Phase) -> bool {
        self.phase(match p {
            Phase::Corners => Only::Corners,
            Phase::Random => Only::Random,
            Phase::Reset => Only::Reset,
        })
    }
}

/// The `nmpu cosim` arguments that run exactly `r` again.
pub fn replay_args(r: &Replay) -> Vec<String> {
    let mut a: Vec<String> = vec!["--config".into(), r.config.display().to_string()];
    if r.datapath == Datapath::Fp16 {
        a.push("--fp16".into());
    }
    let mut push = |flag: &str, v: String| a.extend([flag.to_string(), v]);
    match r.spec {
        CaseSpec::Random {
            seed,
            rows,
            p_gap,
            p_stall,
        } => {
            push("--only", "random".into());
            push("--seed", seed.to_string());
            push("--vectors", rows.to_string());
            push("--chunk", rows.to_string());
            push("--gap", p_gap.to_string());
            push("--stall", p_stall.to_string());
        }
        CaseSpec::Corner { seed, pass } => {
            push("--only", "corners".into());
            push("--seed", seed.to_string());
            push("--first-pass", pass.to_string());
            push("--passes", "1".into());
        }
    }
    if let Some(at) = r.reset_at {
        push("--reset-at", at.to_string());
    }
    push("--vcd", r.vcd.display().to_string());
    a
}

pub fn cosim(a: &CosimArgs) -> Result<()> {
    let opts = a.options();
    opts.check()?;
    let cfg = load_config(a.config.as_deref())?;
    eprintln!(
        "cosim: config {} ({} columns, {} lanes, fingerprint {})",
        describe_config(a.config.as_deref()),
        cfg.columns,
        cfg.lanes,
        cfg.fingerprint()
    );
    let verilator = Tool::Verilator.version()?;
    let used = [Tool::Verilator, Tool::Iverilog];
    eprintln!("cosim: {}", ToolVersions::of(&used).line());
    if let Some(n) = verilator_notice(&verilator) {
        eprintln!("note: {n}");
    }
    let bar = ProgressBar::new_spinner();
    bar.set_message("generating the RTL and building the Verilated model");
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let datapath = a.datapath();
    let mut session =
        Session::for_datapath(datapath, &cfg).context("building the Verilated model")?;
    bar.finish_and_clear();
    if session.built.build_seconds > 0.0 {
        eprintln!("model built in {:.1} s", session.built.build_seconds);
    } else {
        eprintln!(
            "model taken from the cache ({})",
            session.built.library.display()
        );
    }

    let steps = plan::plan(&cfg, &opts, |p| a.wants(p));
    let bar = ProgressBar::new(steps.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos}/{len} cases {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    let run = plan::run_plan(
        &mut session,
        &steps,
        &a.failure_dir,
        a.vcd.as_deref(),
        |t, s| {
            bar.set_prefix(s.phase.name());
            bar.set_message(format!(
                "{} vectors, 0 mismatches, {:.1} M elements/s",
                t.vectors,
                t.elements_per_second() / 1e6
            ));
            bar.inc(1);
        },
    );
    let totals = match run {
        Ok(Ok(t)) => t,
        Ok(Err((t, f))) => {
            bar.abandon();
            eprint!("{}", t.summary(datapath, 1));
            bail!(
                "{}\n{f}\nreplay: nmpu cosim {}",
                f.replay.spec,
                replay_args(&f.replay).join(" ")
            );
        }
        Err(e) => {
            bar.abandon();
            return Err(e);
        }
    };
    bar.finish_and_clear();
    if a.vcd.is_some() && a.phase(Only::Random) {
        eprintln!("VCD of the first 256 cycles of the first random case written");
    }

    let mut lines = vec![];
    if a.phase(Only::Adc) {
        eprintln!("ADC capture: building and co-simulating");
        lines.push(plan::adc_block(&cfg, a.seed)?);
    }
    if a.phase(Only::Dac) {
        eprintln!("PWM DAC: building and co-simulating");
        lines.push(plan::dac_block(&cfg, a.seed)?);
    }
    let mut icarus_vectors = 0;
    if a.phase(Only::Icarus) {
        let start = std::time::Instant::now();
        icarus_vectors = plan::cross_check_icarus(datapath, &cfg, a.seed, &a.failure_dir)?;
        eprintln!(
            "icarus: {icarus_vectors} vectors in {:.1} s",
            start.elapsed().as_secs_f64()
        );
    }
    eprint!("{}", totals.summary(datapath, 0));
    if a.phase(Only::Reset) {
        eprintln!(
            "  reset mid-stream: {} cases, {} in-flight beats dropped as documented, the rest exact",
            totals.resets, totals.dropped
        );
    }
    if a.phase(Only::Icarus) {
        eprintln!("  icarus: {icarus_vectors} vectors with gaps and stalls, identical to the golden model");
    }
    for line in lines {
        eprintln!("  {line}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cosim {
        #[command(flatten)]
        args: CosimArgs,
    }

    /// A replay rendered as flags parses back, through these very arguments, into the plan
    /// of exactly that case: renaming a flag breaks this test, not a user's replay.
    #[test]
    fn a_replay_parses_back_into_its_case() {
        let random = CaseSpec::Random {
            seed: 21,
            rows: 8,
            p_gap: 0.1,
            p_stall: 0.35,
        };
        let corner = CaseSpec::Corner { seed: 4, pass: 3 };
        for (spec, datapath, reset_at) in [
            (random, Datapath::Fixed, Some(17)),
            (corner, Datapath::Fp16, None),
        ] {
            let r = Replay {
                datapath,
                config: "/tmp/x/config.toml".into(),
                spec,
                reset_at,
                vcd: "/tmp/x/failure.vcd".into(),
            };
            let argv = std::iter::once("cosim".to_string()).chain(replay_args(&r));
            let a = Cosim::try_parse_from(argv).unwrap().args;
            assert_eq!(a.datapath(), datapath);
            assert_eq!(a.config.as_deref(), Some(r.config.as_path()));
            assert_eq!(a.vcd.as_deref(), Some(r.vcd.as_path()));
            let cfg = nmpu_config::NmpuConfig::default();
            let steps = plan::plan(&cfg, &a.options(), |p| a.wants(p));
            assert_eq!(steps.len(), 1, "{spec}");
            assert_eq!(steps[0].spec, spec);
            assert_eq!(steps[0].opts.reset_at, reset_at);
            assert!(!a.phase(Only::Icarus) && !a.phase(Only::Adc) && !a.phase(Only::Dac));
        }
    }
}
