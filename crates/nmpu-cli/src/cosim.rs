//! `nmpu cosim`: the generated RTL under Verilator against the golden model, for any config.

use crate::io::{describe_config, load_config};
use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use nmpu_rtl::generate::Datapath;
use nmpu_verification::cosim::{run_case, RunOptions, RunReport, Session};
use nmpu_verification::coverage::{coverage, Coverage};
use nmpu_verification::stimulus::{Case, CaseSpec};
use nmpu_verification::{check, icarus};
use std::path::{Path, PathBuf};
use std::time::Instant;

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

/// Totals over every case run.
#[derive(Default)]
struct Totals {
    vectors: usize,
    elements: usize,
    cycles: usize,
    seconds: f64,
    cases: usize,
}

impl Totals {
    fn add(&mut self, r: &RunReport, columns: usize) {
        self.elements += r.elements;
        self.vectors += r.elements / columns;
        self.cycles += r.cycles;
        self.seconds += r.seconds;
        self.cases += 1;
    }
}

fn check_args(a: &CosimArgs) -> Result<()> {
    for (name, p) in [("--gap", a.gap), ("--stall", a.stall)] {
        if !(0.0..1.0).contains(&p) {
            bail!("{name} {p}: a probability in [0, 1) is needed (1 would stall forever)");
        }
    }
    if a.chunk == 0 {
        bail!("--chunk 0: a random case needs at least one vector");
    }
    Ok(())
}

pub fn cosim(a: &CosimArgs) -> Result<()> {
    check_args(a)?;
    let cfg = load_config(a.config.as_deref())?;
    let columns = cfg.columns as usize;
    let phase = |p: Only| a.only == Only::All || a.only == p;
    eprintln!(
        "cosim: config {} ({} columns, {} lanes, fingerprint {})",
        describe_config(a.config.as_deref()),
        cfg.columns,
        cfg.lanes,
        cfg.fingerprint()
    );
    let bar = ProgressBar::new_spinner();
    bar.set_message("generating the RTL and building the Verilated model");
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let datapath = if a.fp16 {
        Datapath::Fp16
    } else {
        Datapath::Fixed
    };
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

    let random: Vec<CaseSpec> = (0..a.vectors.div_ceil(a.chunk))
        .map(|k| CaseSpec::Random {
            seed: a.seed.wrapping_add(k as u64),
            rows: a.chunk.min(a.vectors - k * a.chunk),
            p_gap: a.gap,
            p_stall: a.stall,
        })
        .collect();
    let corners: Vec<CaseSpec> = (a.first_pass..a.first_pass + a.passes)
        .map(|pass| CaseSpec::Corner { seed: a.seed, pass })
        .collect();
    let mut plan: Vec<(&str, CaseSpec, RunOptions)> = vec![];
    if phase(Only::Corners) {
        plan.extend(
            corners
                .iter()
                .map(|s| ("corners", *s, RunOptions::default())),
        );
    }
    if phase(Only::Random) {
        let opts = RunOptions {
            reset_at: a.reset_at,
            ..RunOptions::default()
        };
        plan.extend(random.iter().map(|s| ("random", *s, opts.clone())));
    }
    if phase(Only::Reset) {
        for k in 0..3u64 {
            let spec = CaseSpec::Random {
                seed: a.seed.wrapping_add(1000 + k),
                rows: 2,
                p_gap: a.gap,
                p_stall: a.stall,
            };
            let reset_at = 3 + (k as usize * 37) % (2 * cfg.beats_per_row() as usize).max(1);
            let opts = RunOptions {
                reset_at: Some(reset_at),
                ..RunOptions::default()
            };
            plan.push(("reset", spec, opts));
        }
    }

    let total_cases = plan.len();
    let bar = ProgressBar::new(total_cases as u64);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos}/{len} cases {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    let mut totals = Totals::default();
    let mut cov: Option<Coverage> = None;
    let (mut dropped, mut resets) = (0usize, 0usize);
    let mut traced = false;
    for (name, spec, opts) in &plan {
        bar.set_prefix(name.to_string());
        let case = spec.build_for(datapath, &cfg);
        if let Some(c) = coverage(&case) {
            cov.get_or_insert_with(Coverage::default).add(&c);
        }
        let vcd = a.vcd.as_deref();
        let r = match session.check_case(&case, spec, opts, &a.failure_dir, vcd)? {
            Ok(r) => r,
            Err(f) => {
                bar.abandon();
                summary(&totals, datapath, cov.as_ref(), 1);
                bail!("{spec}\n{f}");
            }
        };
        if *name == "reset" {
            resets += 1;
            dropped += r.dropped_by_reset;
            if r.beats_out + r.dropped_by_reset != r.beats_in {
                bar.abandon();
                bail!(
                    "{spec}, reset at {:?}: {} beats in, {} out, {} dropped by the reset: beats lost",
                    opts.reset_at,
                    r.beats_in,
                    r.beats_out,
                    r.dropped_by_reset
                );
            }
        }
        if *name == "random" && !traced {
            if let Some(path) = vcd {
                trace_first_cycles(&session, &case, path)?;
                traced = true;
            }
        }
        totals.add(&r, columns);
        bar.set_message(format!(
            "{} vectors, 0 mismatches, {:.1} M elements/s",
            totals.vectors,
            totals.elements as f64 / totals.seconds.max(1e-9) / 1e6
        ));
        bar.inc(1);
    }
    bar.finish_and_clear();

    let interfaces = interface_blocks(&cfg, a.seed, phase(Only::Adc), phase(Only::Dac))?;
    let mut icarus_vectors = 0;
    if phase(Only::Icarus) {
        icarus_vectors = cross_check_icarus(datapath, &cfg, a.seed, &a.failure_dir)?;
    }
    summary(&totals, datapath, cov.as_ref(), 0);
    if phase(Only::Reset) {
        eprintln!("  reset mid-stream: {resets} cases, {dropped} in-flight beats dropped as documented, the rest exact");
    }
    if phase(Only::Icarus) {
        eprintln!("  icarus: {icarus_vectors} vectors with gaps and stalls, identical to the golden model");
    }
    for line in interfaces {
        eprintln!("  {line}");
    }
    Ok(())
}

fn summary(t: &Totals, datapath: Datapath, cov: Option<&Coverage>, mismatches: usize) {
    eprintln!(
        "cosim summary: {} cases, {} vectors, {} elements, {} cycles, {} mismatches, {:.1} M elements/s (golden compare included), top {}",
        t.cases,
        t.vectors,
        t.elements,
        t.cycles,
        mismatches,
        t.elements as f64 / t.seconds.max(1e-9) / 1e6,
        datapath.module()
    );
    if let Some(cov) = cov {
        eprint!("{cov}");
    }
}

/// With `--vcd` and no mismatch: the first 256 cycles of the first random case.
fn trace_first_cycles(session: &Session, case: &Case, path: &Path) -> Result<()> {
    let mut m = session.traced_model()?;
    let opts = RunOptions {
        vcd: Some((path.to_path_buf(), 0, 256)),
        ..RunOptions::default()
    };
    run_case(&mut m, case, &opts)?.map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!("VCD of the first 256 cycles written to {}", path.display());
    Ok(())
}

/// A short random case through Icarus Verilog: a second simulator on the same vectors.
fn cross_check_icarus(
    datapath: Datapath,
    cfg: &nmpu_config::NmpuConfig,
    seed: u64,
    dir: &Path,
) -> Result<usize> {
    let rows = 2;
    let spec = CaseSpec::Random {
        seed: seed.wrapping_add(2000),
        rows,
        p_gap: 0.25,
        p_stall: 0.25,
    };
    let case = spec.build_for(datapath, cfg);
    let verilog = datapath.generate(cfg)?;
    let work = std::env::temp_dir().join(format!("nmpu-cosim-icarus-{}", std::process::id()));
    let start = Instant::now();
    let got = icarus::run(&case, &verilog, &work)?;
    let _ = std::fs::remove_dir_all(&work);
    if let Err(e) = check::compare(&case, &got) {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("config.toml"), cfg.to_toml_string())?;
        bail!("Icarus Verilog: {spec}\n{e:#}");
    }
    eprintln!(
        "icarus: {rows} vectors in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(rows)
}

/// The interface blocks against their cycle models: random stimulus with backpressure, then
/// the corner patterns; one summary line per block.
fn interface_blocks(
    cfg: &nmpu_config::NmpuConfig,
    seed: u64,
    adc: bool,
    dac: bool,
) -> Result<Vec<String>> {
    use nmpu_verification::adc_cosim::{run_adc, AdcDut, AdcStimulus, Pulses};
    use nmpu_verification::dac_cosim::{run_dac, Codes, DacDut, DacStimulus};
    let mut lines = vec![];
    if adc {
        eprintln!("ADC capture: building and co-simulating");
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
        lines.push(format!("adc_capture: {windows} windows, {total} cycles (random, zero, full-rate +, full-rate -, both), every output equal to the cycle model"));
    }
    if dac {
        eprintln!("PWM DAC: building and co-simulating");
        let mut dut = DacDut::new(cfg).context("building the PWM DAC block")?;
        let cycles =
            4 * cfg.dac_period() as usize + 4 * (cfg.dac.rows / cfg.dac.lanes) as usize + 100;
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
        lines.push(format!("pwm_dac: {drives} drives, {total} cycles (random, zero, max, min codes), every output equal to the cycle model"));
    }
    Ok(lines)
}
