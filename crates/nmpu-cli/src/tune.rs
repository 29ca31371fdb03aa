//! `nmpu tune`: the precision search of nmpu_tune on the user's data or a synthetic tile,
//! with lane synthesis to fit the cost model and to confirm the answer.

use crate::io::{describe_config, load_config, load_data, DataArgs};
use crate::synth::{blocks, synth, two_at_a_time, GenericCost};
use anyhow::{ensure, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use nmpu_config::NmpuConfig;
use nmpu_model::{RealCoeffs, TileModel};
use nmpu_tune::budget::metric;
use nmpu_tune::budget::{analog_noise_out, Bound, DEFAULT_NOISE};
use nmpu_tune::cost::{features, fit_plan, shipped};
use nmpu_tune::metrics::evaluate;
use nmpu_tune::report::{formats, pareto_csv, pareto_json, tuned_toml};
use nmpu_tune::search::{merge, pareto, search_shard, Evaluated, Outcome};
use nmpu_tune::{Budget, CostModel, Metrics, Space, TuneData};
use serde::{Deserialize, Serialize};
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
    },
}

#[derive(clap::Args)]
struct RunArgs {
    // The config fixes what is not searched: columns, lanes, in_bits, activation, the
    // output format.
    #[command(flatten)]
    data: DataArgs,
    /// A budget; repeat for several, all must hold: mean=X, max=X (|output - real| in
    /// output LSBs), mismatch=X (share of codes off the f64 code), fp16 (no worse than the
    /// FP16 baseline), noise[=FRACTION] (added RMS at most FRACTION of the analog noise).
    /// Default: noise=0.1
    #[arg(long = "budget", short = 'b')]
    budgets: Vec<String>,
    /// Analog noise RMS per column as a fraction of the ADC half range, for noise budgets
    /// (default 0.005: IBM aihwkit's output noise 0.06 on an output bound of 12)
    #[arg(long, default_value_t = DEFAULT_NOISE)]
    noise: f64,
    /// Seed of the held-out synthetic data the answer is checked on (default: seed + 1000;
    /// with --input, no held-out check)
    #[arg(long)]
    holdout_seed: Option<u64>,
    /// The tuned config; its Pareto fronts go next to it (.pareto.csv, .pareto.json,
    /// .pareto.svg)
    #[arg(long, short, default_value = "tuned.toml")]
    out: PathBuf,
    /// Cost model JSON (default: the shipped constraints/lane_cost.json)
    #[arg(long, conflicts_with = "fit_cost")]
    cost: Option<PathBuf>,
    /// Synthesize the fit plan's lanes, fit the cost model, write it here and use it
    #[arg(long)]
    fit_cost: Option<PathBuf>,
    /// Pareto points to confirm by synthesis: the tuned lane and the K-1 points of the
    /// first budget's front nearest it in area, with the FP16 and base lanes beside them
    /// (0: no synthesis)
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=20))]
    confirm: u32,
    /// Working directory for the synthesis files (default: a fresh temporary one, removed)
    #[arg(long)]
    work: Option<PathBuf>,
    /// Run only shard I of N (descents j with j % N == I) and write its part to
    /// `<out>.shard-I-of-N.json`; `nmpu tune merge` the N parts for the full result
    #[arg(long, value_parser = parse_shard)]
    shard: Option<(usize, usize)>,
}

fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("`{s}`: expected I/N with 0 <= I < N, e.g. 0/4");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// Everything a run's result depends on: what a shard's part carries so that the merge
/// finishes exactly as the unsharded run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Request {
    config: NmpuConfig,
    config_name: String,
    coeffs: Option<PathBuf>,
    input: Option<PathBuf>,
    rows: usize,
    seed: u64,
    budgets: Vec<Budget>,
    holdout_seed: Option<u64>,
    cost: CostModel,
}

/// A shard's part file.
#[derive(Serialize, Deserialize)]
struct Part {
    request: Request,
    shard: (usize, usize),
    outcome: Outcome,
}

/// The data and bounds of a request.
struct Prepared {
    data: TuneData,
    bounds: Vec<Bound>,
    fp16: Metrics,
    space: Space,
    words: u32,
    source: String,
}

fn prepare(r: &Request) -> Result<Prepared> {
    let cfg = &r.config;
    let d = load_data(cfg, r.coeffs.as_deref(), r.input.as_deref(), r.rows, r.seed)?;
    let source = match &r.input {
        Some(p) => p.display().to_string(),
        None => format!("a synthetic tile ({} rows, seed {})", r.rows, r.seed),
    };
    let (data, fp16, bounds) = data_and_bounds(cfg, d.coeffs, &d.rows, &r.budgets)?;
    Ok(Prepared {
        space: Space::new(cfg, &data.coeffs),
        words: cfg.columns / cfg.lanes,
        data,
        bounds,
        fp16,
        source,
    })
}

/// The tuning data of `coeffs` and `rows`, the FP16 baseline's metrics on it, and the
/// budgets made concrete on it.
fn data_and_bounds(
    cfg: &NmpuConfig,
    coeffs: RealCoeffs,
    rows: &[Vec<i64>],
    budgets: &[Budget],
) -> Result<(TuneData, Metrics, Vec<Bound>)> {
    let data = TuneData::new(cfg, coeffs, rows)?;
    let fp16 = nmpu_tune::metrics::metrics_of(&data, &data.fp16_outputs(cfg)?);
    let bounds = budgets
        .iter()
        .map(|&b| Bound::new(b, &data, &fp16, cfg.in_bits))
        .collect();
    Ok((data, fp16, bounds))
}

/// Writes `text` to `path` through a temporary file and a rename: an interrupted run
/// leaves no half-written file.
fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Synthesizes one lane of `cfg` (its `columns / lanes` words) as `module`, two at a time.
fn synth_lanes(jobs: &[(NmpuConfig, u32, &'static str)], work: &Path) -> Result<Vec<GenericCost>> {
    two_at_a_time(jobs, |i, (cfg, words, module)| {
        let mut c = cfg.clone();
        (c.columns, c.lanes) = (*words, 1);
        let dir = work.join(format!("lane{i}"));
        let b = synth(&c, &blocks(module)?, false, &dir, |_| {})?;
        Ok(b.into_iter().next().context("no figures")?.generic)
    })
}

pub fn tune(a: &TuneArgs) -> Result<()> {
    match &a.merge {
        Some(TuneCommand::Merge {
            parts,
            out,
            confirm,
            work,
        }) => merge_parts(parts, out, *confirm, work.as_deref()),
        None => run(&a.run),
    }
}

/// A working directory for synthesis: the user's, or a fresh temporary one removed after.
struct Work {
    dir: PathBuf,
    remove: bool,
}

impl Work {
    fn new(user: Option<&Path>) -> Work {
        match user {
            Some(w) => Work {
                dir: w.to_path_buf(),
                remove: false,
            },
            None => Work {
                dir: std::env::temp_dir().join(format!("nmpu-tune-{}", std::process::id())),
                remove: true,
            },
        }
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        if self.remove {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn create_parent(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the output directory {}", dir.display()))?;
    }
    Ok(())
}

fn run(a: &RunArgs) -> Result<()> {
    let cfg = load_config(a.data.config.as_deref())?;
    ensure!(
        a.noise > 0.0 && a.noise.is_finite(),
        "--noise must be a positive fraction of the ADC half range, e.g. 0.005"
    );
    create_parent(&a.out)?;
    let budgets: Vec<Budget> = if a.budgets.is_empty() {
        vec![Budget::Noise {
            fraction: nmpu_tune::budget::DEFAULT_NOISE_FRACTION,
            noise: a.noise,
        }]
    } else {
        a.budgets
            .iter()
            .map(|b| Budget::parse(b, a.noise))
            .collect::<Result<_>>()?
    };
    let work = Work::new(a.work.as_deref());
    let mut request = Request {
        config: cfg.clone(),
        config_name: describe_config(a.data.config.as_deref()),
        coeffs: a.data.coeffs.clone(),
        input: a.data.input.clone(),
        rows: a.data.rows,
        seed: a.data.seed,
        budgets,
        holdout_seed: a.holdout_seed,
        cost: shipped(),
    };
    let p = prepare(&request)?;
    request.cost = if let Some(path) = &a.fit_cost {
        let plan = fit_plan(&p.space);
        eprintln!(
            "tune: synthesizing {} lanes to fit the cost model",
            plan.len()
        );
        let jobs: Vec<_> = plan.iter().map(|(c, w)| (c.clone(), *w, "nmpu")).collect();
        let got = synth_lanes(&jobs, &work.dir.join("fit"))?;
        let samples: Vec<_> = plan
            .iter()
            .zip(&got)
            .map(|((c, w), g)| (features(c, *w), g.area_um2))
            .collect();
        let m = CostModel::fit(&samples)?;
        write_atomic(path, &(serde_json::to_string_pretty(&m)? + "\n"))?;
        eprintln!(
            "tune: cost model fitted to {} lanes: mean error {:.1} %, largest {:.1} %; written to {}",
            m.samples,
            m.mean_error * 100.0,
            m.max_error * 100.0,
            path.display()
        );
        m
    } else if let Some(path) = &a.cost {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read cost model {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("cost model {}", path.display()))?
    } else {
        shipped()
    };

    let start = std::time::Instant::now();
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} tune: {msg} [{elapsed}]").unwrap());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let progress = |n: usize| bar.set_message(format!("{n} candidates evaluated"));
    let shard = a.shard.unwrap_or((0, 1));
    let outcome = search_shard(
        &p.space,
        &p.data,
        &p.bounds,
        &request.cost,
        p.words,
        shard,
        &progress,
    )?;
    bar.finish_and_clear();
    eprintln!(
        "tune: {} candidates evaluated in {:.1} s",
        outcome.evaluated.len(),
        start.elapsed().as_secs_f64()
    );
    if let Some((i, n)) = a.shard {
        let path = a.out.with_extension(format!("shard-{i}-of-{n}.json"));
        let part = Part {
            request,
            shard: (i, n),
            outcome,
        };
        write_atomic(&path, &serde_json::to_string(&part)?)?;
        println!(
            "wrote shard {i} of {n} to {}; merge all {n} with: nmpu tune merge PARTS --out {}",
            path.display(),
            a.out.display()
        );
        return Ok(());
    }
    finish(&request, &p, &outcome, &a.out, a.confirm, &work)
}

fn merge_parts(paths: &[PathBuf], out: &Path, confirm: u32, work: Option<&Path>) -> Result<()> {
    create_parent(out)?;
    let mut parts = vec![];
    for path in paths {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read part {}", path.display()))?;
        let part: Part = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a part written by nmpu tune --shard",
                path.display()
            )
        })?;
        parts.push((path, part));
    }
    let (first, n) = (&parts[0].1.request, parts[0].1.shard.1);
    for (path, part) in &parts {
        ensure!(
            part.request == *first,
            "{} comes from a different tune run (config, data, budget or cost model) than {}",
            path.display(),
            paths[0].display()
        );
        ensure!(
            part.shard.1 == n,
            "{} is a shard of {}, {} of {n}",
            path.display(),
            part.shard.1,
            paths[0].display()
        );
    }
    let mut have: Vec<usize> = parts.iter().map(|p| p.1.shard.0).collect();
    have.sort_unstable();
    ensure!(
        have == (0..n).collect::<Vec<_>>(),
        "the parts are shards {have:?} of {n}: every shard 0..{n} is needed exactly once"
    );
    let request = first.clone();
    let p = prepare(&request)?;
    let outcome = merge(parts.into_iter().map(|(_, part)| part.outcome));
    finish(&request, &p, &outcome, out, confirm, &Work::new(work))
}

/// Writes a search's result and prints its summary (the same for a run and a merge).
fn finish(
    r: &Request,
    p: &Prepared,
    outcome: &Outcome,
    out: &Path,
    confirm: u32,
    work: &Work,
) -> Result<()> {
    let cfg = &r.config;
    let words = p.words;
    let Some(best) = outcome.best.clone() else {
        anyhow::bail!(
            "no candidate meets the budget, not even the widest formats ({} evaluated); \
             loosen the budget (e.g. --budget noise=0.2) or check the data",
            outcome.evaluated.len()
        );
    };
    // The answer on data it was not tuned on: another synthetic tile, its own coefficients.
    let holdout = match (&r.input, &r.coeffs) {
        (None, None) => {
            let seed = r.holdout_seed.unwrap_or(r.seed + 1000);
            let t = TileModel::default().generate(cfg, r.rows, seed);
            let (d, _, hb) = data_and_bounds(cfg, t.coeffs, &t.rows, &r.budgets)?;
            let m = evaluate(&best.config, &d)?;
            Some((seed, m, hb.iter().all(|b| b.holds(&m))))
        }
        _ => None,
    };

    let csv = out.with_extension("pareto.csv");
    let json = out.with_extension("pareto.json");
    let svg = out.with_extension("pareto.svg");
    write_atomic(&csv, &pareto_csv(outcome))?;
    write_atomic(&json, &pareto_json(outcome))?;
    // The plot shows the first budget's metric.
    let shown = p.bounds[0].limits[0].0;
    write_atomic(&svg, &nmpu_tune::plot::front_svg(outcome, shown)?)?;
    write_atomic(
        out,
        &tuned_toml(&best, &p.bounds, holdout.as_ref().map(|h| &h.1), &p.source),
    )?;

    let cost = &r.cost;
    let base_metrics = evaluate(cfg, &p.data)?;
    let base_area = cost.area(&features(cfg, words));
    println!(
        "nmpu tune: config {} ({} columns, {} lanes, {} coefficient words per lane); data: {}",
        r.config_name, cfg.columns, cfg.lanes, words, p.source
    );
    for b in &p.bounds {
        println!("budget: {} -> limits {:?}", b.budget, b.limits);
    }
    println!(
        "{} candidates evaluated; cost model: mean error {:.1} %, largest {:.1} % on {} synthesized lanes",
        outcome.evaluated.len(),
        cost.mean_error * 100.0,
        cost.max_error * 100.0,
        cost.samples
    );
    println!(
        "{:<10} {:>10} {:>9} {:>10} {:>10} {:>14}",
        "", "mean|err|", "max|err|", "codes off", "added RMS", "lane um^2 (model)"
    );
    let row = |name: &str, m: &Metrics, area: Option<f64>| {
        println!(
            "{name:<10} {:>10.4} {:>9.3} {:>9.3}% {:>10.4} {:>14}",
            m.mean_abs,
            m.max_abs,
            m.mismatch * 100.0,
            m.added_rms,
            area.map_or("-".into(), |x| format!("{x:.0}"))
        );
    };
    row("base", &base_metrics, Some(base_area));
    row("tuned", &best.metrics, Some(best.area));
    row("fp16", &p.fp16, None);
    if let Some((seed, m, ok)) = &holdout {
        row("held-out", m, None);
        println!(
            "held-out tile (seed {seed}): the budget {}",
            if *ok { "holds" } else { "does NOT hold" }
        );
    }
    // What each adds to the analog noise of the (first) noise budget, as SNR lost.
    if let Some(noise) = r.budgets.iter().find_map(|b| match b {
        Budget::Noise { noise, .. } => Some(*noise),
        _ => None,
    }) {
        let sigma = analog_noise_out(&p.data, noise, cfg.in_bits);
        println!(
            "SNR lost to the NMPU against an analog noise of {sigma:.3} output LSB RMS: base {:.4} dB, tuned {:.4} dB, fp16 {:.4} dB",
            base_metrics.snr_loss_db(sigma),
            best.metrics.snr_loss_db(sigma),
            p.fp16.snr_loss_db(sigma)
        );
    }
    println!("tuned formats: {}", formats(&best.config));
    println!("base formats:  {}", formats(cfg));

    if confirm > 0 {
        // The tuned lane, the FP16 and base lanes, then the front's points nearest the
        // tuned one in area.
        let mut others: Vec<&Evaluated> = pareto(&outcome.evaluated, shown)
            .into_iter()
            .filter(|e| e.knobs != best.knobs)
            .collect();
        others.sort_by(|a, b| {
            (a.area - best.area)
                .abs()
                .total_cmp(&(b.area - best.area).abs())
                .then(a.knobs.cmp(&b.knobs))
        });
        others.truncate(confirm as usize - 1);
        let mut jobs = vec![
            (best.config.clone(), words, "nmpu"),
            (cfg.clone(), words, "nmpu_fp16"),
            (cfg.clone(), words, "nmpu"),
        ];
        jobs.extend(others.iter().map(|e| (e.config.clone(), words, "nmpu")));
        eprintln!("tune: synthesizing {} lanes to confirm", jobs.len());
        let got = synth_lanes(&jobs, &work.dir.join("confirm"))?;
        let (tuned, h, b) = (&got[0], &got[1], &got[2]);
        println!(
            "confirmed by synthesis (one lane, {words} words, osu018): tuned {:.0} um^2 (model {:.0}, {:+.1} %), {} transistors, Fmax {:.0} MHz",
            tuned.area_um2,
            best.area,
            (best.area / tuned.area_um2 - 1.0) * 100.0,
            tuned.transistors,
            tuned.fmax_mhz
        );
        println!(
            "  FP16 lane {:.0} um^2, {} transistors, Fmax {:.0} MHz: FP16/tuned lane area = {:.2}",
            h.area_um2,
            h.transistors,
            h.fmax_mhz,
            h.area_um2 / tuned.area_um2
        );
        println!(
            "  base lane {:.0} um^2 (model {:.0}), {} transistors: base/tuned = {:.2}",
            b.area_um2,
            base_area,
            b.transistors,
            b.area_um2 / tuned.area_um2
        );
        for (e, g) in others.iter().zip(&got[3..]) {
            println!(
                "  front point, {shown} {:.4}{}: {:.0} um^2 (model {:.0}, {:+.1} %); {}",
                metric(&e.metrics, shown),
                if e.meets { " (meets the budget)" } else { "" },
                g.area_um2,
                e.area,
                (e.area / g.area_um2 - 1.0) * 100.0,
                formats(&e.config)
            );
        }
    }
    println!(
        "wrote {}, {}, {}, {}",
        out.display(),
        csv.display(),
        json.display(),
        svg.display()
    );
    Ok(())
}
