//! `nmpu tune`: the arguments of the precision search, its progress and its summary. The
//! run itself is nmpu_tune::job; lanes are synthesized by nmpu_eda.

use crate::io::{describe_config, load_config, DataArgs};
use anyhow::{ensure, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use nmpu_eda::lanes::YosysLanes;
use nmpu_eda::WorkDir;
use nmpu_tune::budget::{Budget, DEFAULT_NOISE};
use nmpu_tune::cost::shipped;
use nmpu_tune::job::{self, Part, Prepared, Request};
use nmpu_tune::search::Outcome;
use nmpu_tune::{summary, CostModel, LaneSynth};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TuneArgs {
    #[command(subcommand)]
    merge: Option<TuneCommand>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(clap::Subcommand)]
enum TuneCommand {
    /// Merge the parts written by `nmpu tune --shard i/n` runs into the result the
    /// unsharded run writes
    Merge {
        /// The part files (`<out>.shard-I-of-N.json`), every shard once
        #[arg(required = true)]
        parts: Vec<PathBuf>,
        /// The tuned config; its Pareto fronts go next to it
        #[arg(long, short, default_value = "tuned.toml")]
        out: PathBuf,
        /// Pareto points to confirm by synthesis (as for `nmpu tune`)
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=20))]
        confirm: u32,
        #[arg(long)]
        work: Option<PathBuf>,
        /// As for `nmpu tune`
        #[arg(long)]
        allow_miss: bool,
    },
}

#[derive(clap::Args)]
pub(crate) struct RunArgs {
    // The config fixes what is not searched: columns, lanes, in_bits, activation, the
    // output format.
    #[command(flatten)]
    pub(crate) data: DataArgs,
    /// A budget; repeat for several, all must hold: mean=X, max=X (|output - real| in
    /// output LSBs), mismatch=X (share of codes off the f64 code), fp16 (no worse than the
    /// FP16 baseline), noise[=FRACTION] (added RMS at most FRACTION of the analog noise).
    /// Default: noise=0.1. Or, alone: accuracy=POINTS, a network's test accuracy at most
    /// POINTS below the FP16 NMPU's on the same analog draws (see --dataset)
    #[arg(long = "budget", short = 'b')]
    pub(crate) budgets: Vec<String>,
    /// With accuracy=POINTS: the dataset whose network judges (its validation images
    /// judge, its test images check)
    #[arg(long, value_enum, default_value_t = crate::accuracy::Dataset::Fashion)]
    pub(crate) dataset: crate::accuracy::Dataset,
    /// Analog noise RMS per column as a fraction of the ADC half range, for noise budgets
    /// (default 0.005: IBM aihwkit's output noise 0.06 on an output bound of 12)
    #[arg(long, default_value_t = DEFAULT_NOISE)]
    pub(crate) noise: f64,
    /// Synthetic tiles the search is judged on (seeds seed, seed + 1, ...); ignored with
    /// --coeffs or --input (the search is judged on that data). With accuracy=POINTS:
    /// the analog seeds the network is judged on
    #[arg(long, default_value_t = job::TILES)]
    pub(crate) tiles: usize,
    /// Standard deviations of the tiles' budget usage the answer keeps as margin
    #[arg(long, default_value_t = nmpu_tune::judge::MARGIN)]
    pub(crate) margin: f64,
    /// Held-out synthetic tiles the answer is checked on (0: none; none with --coeffs or
    /// --input). With accuracy=POINTS: unseen analog seeds of the test-set check
    #[arg(long, default_value_t = job::HOLDOUT_TILES)]
    pub(crate) holdout_tiles: usize,
    /// Seed of the first held-out tile (default: seed + 1000)
    #[arg(long)]
    pub(crate) holdout_seed: Option<u64>,
    /// Write the tuned config even when it misses its budget on a held-out tile (the run
    /// still says so); without it such a run writes only the Pareto fronts and fails
    #[arg(long)]
    pub(crate) allow_miss: bool,
    /// The tuned config; its Pareto fronts go next to it (.pareto.csv, .pareto.json,
    /// .pareto.svg)
    #[arg(long, short, default_value = "tuned.toml")]
    pub(crate) out: PathBuf,
    /// Cost model JSON (default: the shipped one, crates/nmpu-tune/lane_cost.json)
    #[arg(long, conflicts_with = "fit_cost")]
    pub(crate) cost: Option<PathBuf>,
    /// Synthesize the fit plan's lanes, fit the cost model, write it here and use it
    #[arg(long)]
    pub(crate) fit_cost: Option<PathBuf>,
    /// Pareto points to confirm by synthesis: the tuned lane and the K-1 points of the
    /// first budget's front nearest it in area, with the FP16 and base lanes beside them
    /// (0: no synthesis)
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=20))]
    pub(crate) confirm: u32,
    /// Working directory for the synthesis files (default: a fresh temporary one, removed)
    #[arg(long)]
    pub(crate) work: Option<PathBuf>,
    /// Run only shard I of N (descents j with j % N == I) and write its part to
    /// `<out>.shard-I-of-N.json`; `nmpu tune merge` the N parts for the full result
    #[arg(long, value_parser = job::parse_shard)]
    pub(crate) shard: Option<(usize, usize)>,
}

pub fn tune(a: &TuneArgs) -> Result<()> {
    match &a.merge {
        Some(TuneCommand::Merge {
            parts,
            out,
            confirm,
            work,
            allow_miss,
        }) => {
            create_parent(out)?;
            let (request, outcome) = job::merge_parts(parts)?;
            let p = job::prepare(&request)?;
            let work = WorkDir::new(work.as_deref(), "tune")?;
            finish(&request, &p, &outcome, out, (*confirm, *allow_miss), &work)
        }
        None => run(&a.run),
    }
}

pub(crate) fn create_parent(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the output directory {}", dir.display()))?;
    }
    Ok(())
}

fn run(a: &RunArgs) -> Result<()> {
    if let Some(points) = accuracy_budget(&a.budgets)? {
        return crate::tune_accuracy::run(a, points);
    }
    let cfg = load_config(a.data.config.as_deref())?;
    ensure!(
        a.noise > 0.0 && a.noise.is_finite(),
        "--noise must be a positive fraction of the ADC half range, e.g. 0.005"
    );
    ensure!(
        a.margin.is_finite() && a.margin >= 0.0,
        "--margin must be 0 or more standard deviations"
    );
    create_parent(&a.out)?;
    let budgets = Budget::list(&a.budgets, a.noise)?;
    let work = WorkDir::new(a.work.as_deref(), "tune")?;
    let mut request = Request {
        config: cfg,
        config_name: describe_config(a.data.config.as_deref()),
        coeffs: a.data.coeffs.clone(),
        input: a.data.input.clone(),
        rows: a.data.rows,
        seed: a.data.seed,
        budgets,
        tiles: a.tiles,
        holdout_tiles: a.holdout_tiles,
        holdout_seed: a.holdout_seed,
        margin: a.margin,
        cost: shipped(),
    };
    let p = job::prepare(&request)?;
    request.cost = cost_model(a, &p.space, &work)?;

    let start = std::time::Instant::now();
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} tune: {msg} [{elapsed}]").unwrap());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let progress = |n: usize| bar.set_message(format!("{n} candidates evaluated"));
    let outcome = job::run_shard(&p, &request.cost, a.shard.unwrap_or((0, 1)), &progress)?;
    bar.finish_and_clear();
    eprintln!(
        "tune: {} candidates evaluated in {:.1} s",
        outcome.evaluated.len(),
        start.elapsed().as_secs_f64()
    );
    if let Some(shard) = a.shard {
        let path = job::part_path(&a.out, shard);
        let part = Part {
            request,
            shard,
            outcome,
        };
        job::write_atomic(&path, &serde_json::to_string(&part)?)?;
        println!(
            "wrote shard {} of {} to {}; merge all {} with: nmpu tune merge PARTS --out {}",
            shard.0,
            shard.1,
            path.display(),
            shard.1,
            a.out.display()
        );
        return Ok(());
    }
    finish(
        &request,
        &p,
        &outcome,
        &a.out,
        (a.confirm, a.allow_miss),
        &work,
    )
}

/// The points of an `accuracy=POINTS` budget, which stands alone.
fn accuracy_budget(budgets: &[String]) -> Result<Option<f64>> {
    let Some(b) = budgets
        .iter()
        .find(|b| b.trim_start().starts_with("accuracy"))
    else {
        return Ok(None);
    };
    ensure!(
        budgets.len() == 1,
        "--budget {b} stands alone: the accuracy decides, element budgets only prescreen"
    );
    let value = b.split_once('=').map(|(_, v)| v.trim());
    match value.map(str::parse::<f64>) {
        Some(Ok(v)) if v.is_finite() && v > 0.0 => Ok(Some(v)),
        _ => anyhow::bail!(
            "budget `{b}`: give the accuracy drop against FP16 in points, e.g. accuracy=0.1"
        ),
    }
}

/// The shipped model, the user's, or one fitted to lanes synthesized now.
pub(crate) fn cost_model(
    a: &RunArgs,
    space: &nmpu_tune::Space,
    work: &WorkDir,
) -> Result<CostModel> {
    if let Some(path) = &a.fit_cost {
        eprintln!("tune: synthesizing the fit plan's lanes to fit the cost model");
        let lanes = YosysLanes {
            dir: work.sub("fit")?,
        };
        let m = job::fit_cost(space, &lanes)?;
        job::write_atomic(path, &(serde_json::to_string_pretty(&m)? + "\n"))?;
        eprintln!(
            "tune: cost model fitted to {} lanes: mean error {:.1} %, largest {:.1} %; written to {}",
            m.samples,
            m.mean_error * 100.0,
            m.max_error * 100.0,
            path.display()
        );
        Ok(m)
    } else if let Some(path) = &a.cost {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read cost model {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("cost model {}", path.display()))
    } else {
        Ok(shipped())
    }
}

/// Writes a search's result and prints its summary (the same for a run and a merge);
/// `(confirm, allow_miss)` as the flags say.
fn finish(
    r: &Request,
    p: &Prepared,
    outcome: &Outcome,
    out: &Path,
    (confirm, allow_miss): (u32, bool),
    work: &WorkDir,
) -> Result<()> {
    let mut f = job::finish(r, p, outcome, out, allow_miss)?;
    print!("{}", summary::summary(r, p, outcome, &f));
    if confirm > 0 {
        let c = job::confirmation(r, p, outcome, &f, confirm);
        eprintln!("tune: synthesizing {} lanes to confirm", c.jobs.len());
        let lanes = YosysLanes {
            dir: work.sub("confirm")?,
        };
        let got = lanes.synthesize(&c.jobs)?;
        print!("{}", summary::confirmed(&c, &got, &f, p.words));
        job::replot(outcome, &mut f, got[1].area_um2)?;
    }
    let mut wrote: Vec<String> = f
        .tuned
        .iter()
        .chain(&f.fronts)
        .map(|p| p.display().to_string())
        .collect();
    if f.tuned.is_none() {
        wrote.push(format!("not {} (it misses its budget)", out.display()));
    }
    println!("wrote {}", wrote.join(", "));
    if let Some(h) = f.holdout.as_ref().filter(|h| !h.holds()) {
        let (seed, usage) = h.worst();
        ensure!(
            allow_miss,
            "the tuned config misses its budget on held-out tile {seed} by {:.1} % ({} of {} held-out \
             tiles over); tune on more tiles (--tiles), keep a wider margin (--margin) or loosen \
             the budget, or keep it anyway with --allow-miss",
            (usage - 1.0) * 100.0,
            h.usages.iter().filter(|&&u| u > 1.0).count(),
            h.usages.len()
        );
    }
    Ok(())
}
