//! `nmpu prove`: parses, shows progress, prints the verdict. The proof is nmpu_eda::prove.

use crate::io::{describe_config, load_config};
use anyhow::{Context, Result};
use nmpu_eda::prove::{prove as run, Bounded, BoundedProof, LaneProof, Step, Verdict};
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
    /// Prove the post-synthesis netlist of that Verilog instead (Yosys `synth`, hierarchy
    /// kept; its multipliers are proved exhaustively, about a minute for the default)
    #[arg(long)]
    netlist: bool,
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
        Verdict::Counterexample(_) | Verdict::WrongProduct(_) => "COUNTEREXAMPLE".to_string(),
        Verdict::Timeout => "TIMEOUT".to_string(),
    };
    let shape = if p.constant_output {
        format!(
            "its output one constant for every input, documented latency {}",
            p.latency
        )
    } else {
        format!(
            "latency {}, {} multiplier(s) cut, {} flip-flops held by en",
            p.latency, p.multipliers, p.flip_flops
        )
    };
    format!("  {}: {v} in {:.1} s ({shape})", p.module, p.seconds)
}

fn bounded(what: &str, p: &BoundedProof) -> String {
    let v = match &p.verdict {
        Bounded::Proved => "proved",
        Bounded::Counterexample(_) => "COUNTEREXAMPLE",
        Bounded::Timeout => "TIMEOUT",
    };
    format!("  {what}: {v} to depth {} in {:.1} s", p.depth, p.seconds)
}

fn step(s: Step) {
    match s {
        Step::Enumerating(m, stage, pairs) => {
            println!(
                "  {m} ({stage} multiplier, gate level): enumerating 2^{pairs} operand pairs ..."
            )
        }
        Step::Lane(p) => {
            for m in &p.products {
                println!(
                    "  {} ({} multiplier, gate level): {} on all 2^{} operand pairs, exhaustively, in {:.1} s",
                    m.module,
                    m.stage,
                    if m.wrong.is_none() { "v*k" } else { "WRONG" },
                    m.pairs_log2(),
                    m.seconds
                );
            }
            println!("{}", line(p))
        }
        Step::Banks(m, p) => println!(
            "{}",
            bounded(
                &format!("{m} banks (a write lands in its word only; reads hold)"),
                p
            )
        ),
        Step::Stream(p) => println!(
            "{}",
            bounded(
                "stream (order, no loss or duplicate, latency, reset, s_ready, config decode)",
                p
            )
        ),
    }
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
    let dir = WorkDir::new(a.work_dir.as_deref(), "nmpu-prove")?;
    let start = Instant::now();
    let (rtl, source) = if a.netlist {
        println!("nmpu prove: synthesizing the {source} Verilog (Yosys synth, hierarchy kept)");
        let net = nmpu_eda::prove::synthesize(&rtl, dir.path())?;
        (net, format!("{source}, synthesized (netlist.v)"))
    } else {
        (rtl, source)
    };
    println!(
        "nmpu prove: config {}, Verilog {source}, {} lane(s), Yosys SAT, {} s per lane at most",
        describe_config(a.config.as_deref()),
        cfg.lanes,
        a.timeout
    );
    let proof = run(&cfg, &rtl, dir.path(), a.timeout, &step)?;
    let secs = start.elapsed().as_secs_f64();
    if proof.proved() {
        println!(
            "proved in {secs:.1} s: every lane equals docs/arithmetic.md's function for every ADC code and coefficient code; banks and stream to depth {}",
            proof.stream.as_ref().map_or(0, |s| s.depth)
        );
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(l) = proof.lanes.last().filter(|l| l.verdict != Verdict::Proved) {
        if let Verdict::Counterexample(c) = &l.verdict {
            println!("counterexample in {}: {} differs", l.module, c.what);
            println!("  ADC code x = {}", c.x);
            for (n, code, v) in &c.coefficients {
                println!("  coefficient {n} = {code} (value {v})");
            }
            println!("  spec: {} (value {})", c.want.0, c.want.1);
            println!("  lane: {} (value {})", c.got.0, c.got.1);
            return Ok(ExitCode::FAILURE);
        }
        if let Verdict::WrongProduct(m) = &l.verdict {
            if let Some(w) = &m.wrong {
                println!(
                    "counterexample in {}: its {} multiplier ({}) multiplies wrongly",
                    l.module, m.stage, m.module
                );
                println!(
                    "  v = {} (code of {}), k = {} (code of {})",
                    w.v, m.v, w.k, m.k
                );
                println!("  v*k: {:#x}; the netlist: {:#x}", w.want, w.got);
            }
            return Ok(ExitCode::FAILURE);
        }
        return timeout(&l.module, a.timeout);
    }
    let (what, p) = match proof
        .banks
        .last()
        .filter(|(_, b)| b.verdict != Bounded::Proved)
    {
        Some((m, b)) => (m.clone(), b),
        None => (
            "the stream".to_string(),
            proof.stream.as_ref().context("no stream check")?,
        ),
    };
    match &p.verdict {
        Bounded::Counterexample(trace) => {
            println!("counterexample in {what} (--work-dir keeps the solver's whole trace)");
            for (t, (reset, valid, ready)) in trace.iter().enumerate() {
                println!(
                    "  step {:2}: reset {} s_valid {} m_ready {}",
                    t + 1,
                    u8::from(*reset),
                    u8::from(*valid),
                    u8::from(*ready)
                );
            }
            Ok(ExitCode::FAILURE)
        }
        _ => timeout(&what, a.timeout),
    }
}

fn timeout(what: &str, limit: u64) -> Result<ExitCode> {
    println!("timeout: the solver did not finish {what} within {limit} s; nothing is proved (raise --timeout)");
    Ok(ExitCode::from(TIMEOUT_EXIT))
}
