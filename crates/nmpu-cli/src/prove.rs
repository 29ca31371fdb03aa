//! `nmpu prove`: parses, shows progress, prints the verdict. The proof is nmpu_eda::prove.

use crate::io::{describe_config, load_config};
use anyhow::{Context, Result};
use nmpu_eda::prove::{prove as run, LaneProof, Verdict};
use nmpu_eda::{Tool, WorkDir};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Exit code of a proof that ran out of time (1 is a counterexample or an error).
pub const TIMEOUT_EXIT: u8 = 3;

#[derive(clap::Args)]
pub struct ProveArgs {
    /// Configuration TOML (default: configs/default.toml)
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Prove this Verilog file (the NMPU's modules, e.g. hand-edited) instead of the
    /// freshly generated one
    #[arg(long)]
    rtl: Option<PathBuf>,
    /// Seconds the SAT solver may spend on one lane before the proof is a timeout
    #[arg(long, default_value_t = 300)]
    timeout: u64,
    /// Keep the proof's files (Yosys scripts, spec, harness, logs) in this directory
    #[arg(long)]
    work_dir: Option<PathBuf>,
}

fn line(p: &LaneProof) -> String {
    let v = match &p.verdict {
        Verdict::Proved => "proved".to_string(),
        Verdict::Counterexample(_) => "COUNTEREXAMPLE".to_string(),
        Verdict::Timeout => "TIMEOUT".to_string(),
    };
    format!(
        "  {}: {v} in {:.1} s (latency {}, {} multiplier(s) cut, {} flip-flops held by en)",
        p.module, p.seconds, p.latency, p.multipliers, p.flip_flops
    )
}

pub fn prove(a: &ProveArgs) -> Result<ExitCode> {
    Tool::Yosys.require()?;
    let cfg = load_config(a.config.as_deref())?;
    let (rtl, source) = match &a.rtl {
        Some(f) => (
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?,
            f.display().to_string(),
        ),
        None => (
            nmpu_rtl::generate::Datapath::Fixed.generate(&cfg)?,
            "generated".to_string(),
        ),
    };
    println!(
        "nmpu prove: config {}, Verilog {source}, {} lane(s), Yosys SAT, {} s per lane at most",
        describe_config(a.config.as_deref()),
        cfg.lanes,
        a.timeout
    );
    let dir = WorkDir::new(a.work_dir.as_deref(), "nmpu-prove")?;
    let start = Instant::now();
    let lanes = run(&cfg, &rtl, dir.path(), a.timeout, &|p| {
        println!("{}", line(p))
    })?;
    let last = lanes.last().context("no lane proved")?;
    match &last.verdict {
        Verdict::Proved => {
            println!(
                "proved: every lane equals docs/arithmetic.md's function for every ADC code and every coefficient code ({} lanes, {:.1} s)",
                lanes.len(),
                start.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Verdict::Counterexample(c) => {
            println!("counterexample in {}: {} differs", last.module, c.what);
            println!("  ADC code x = {}", c.x);
            for (n, code, v) in &c.coefficients {
                println!("  coefficient {n} = {code} (value {v})");
            }
            println!("  spec: {} (value {})", c.want.0, c.want.1);
            println!("  lane: {} (value {})", c.got.0, c.got.1);
            Ok(ExitCode::FAILURE)
        }
        Verdict::Timeout => {
            println!(
                "timeout: the solver did not finish {} within {} s; nothing is proved (raise --timeout)",
                last.module, a.timeout
            );
            Ok(ExitCode::from(TIMEOUT_EXIT))
        }
    }
}
