//! `nmpu tune`: the precision search of nmpu_tune on the user's data or a synthetic tile,
//! with lane synthesis to fit the cost model and to confirm the answer.

use crate::io::{describe_config, load_coeffs, load_config, load_input};
use crate::synth::{blocks, synth, GenericCost};
use anyhow::{ensure, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use nmpu_config::NmpuConfig;
use nmpu_model::TileModel;
use nmpu_tune::budget::{Bound, DEFAULT_NOISE};
use nmpu_tune::cost::{features, fit_plan, shipped};
use nmpu_tune::metrics::evaluate;
use nmpu_tune::report::{formats, pareto_csv, pareto_json, tuned_toml};
use nmpu_tune::{search, Budget, CostModel, Metrics, Space, TuneData};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct TuneArgs {
    /// Configuration TOML: fixes columns, lanes, in_bits, activation and the output format
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Coefficient CSV (default: the synthetic tile of `nmpu gen-data`)
    #[arg(long, short = 'k')]
    coeffs: Option<PathBuf>,
    /// Input CSV of ADC codes (default: synthetic)
    #[arg(long, short)]
    input: Option<PathBuf>,
    /// Rows of synthetic input when no --input is given
    #[arg(long, default_value_t = 1000)]
    rows: usize,
    /// Seed of the synthetic data
    #[arg(long, default_value_t = 1)]
    seed: u64,
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
    /// The tuned config; its Pareto fronts go next to it (.pareto.csv, .pareto.json)
    #[arg(long, short, default_value = "tuned.toml")]
    out: PathBuf,
    /// Cost model JSON (default: the shipped constraints/lane_cost.json)
    #[arg(long, conflicts_with = "fit_cost")]
    cost: Option<PathBuf>,
    /// Synthesize the fit plan's lanes, fit the cost model, write it here and use it
    #[arg(long)]
    fit_cost: Option<PathBuf>,
    /// Lanes to synthesize to confirm the answer: the tuned lane, the FP16 lane and the
    /// base config's lane (0: none)
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=3))]
    confirm: u32,
    /// Working directory for the synthesis files (default: a fresh temporary one, removed)
    #[arg(long)]
    work: Option<PathBuf>,
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
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new((0..jobs.len()).map(|_| None).collect::<Vec<_>>());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some((cfg, words, module)) = jobs.get(i) else {
                    break;
                };
                let mut c = cfg.clone();
                (c.columns, c.lanes) = (*words, 1);
                let dir = work.join(format!("lane{i}"));
                let r = blocks(module)
                    .and_then(|b| synth(&c, &b, false, &dir, |_| {}))
                    .and_then(|v| v.into_iter().next().context("no figures"))
                    .map(|b| b.generic);
                results.lock().unwrap()[i] = Some(r);
            });
        }
    });
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.context("a synthesis did not run")?)
        .collect()
}

pub fn tune(a: &TuneArgs) -> Result<()> {
    let start = std::time::Instant::now();
    let cfg = load_config(a.config.as_deref())?;
    ensure!(a.rows > 0, "--rows must be at least 1");
    ensure!(
        a.noise > 0.0 && a.noise.is_finite(),
        "--noise must be a positive fraction of the ADC half range, e.g. 0.005"
    );
    if let Some(dir) = a.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the output directory {}", dir.display()))?;
    }
    let tile = TileModel::default().generate(&cfg, a.rows, a.seed);
    let coeffs = match &a.coeffs {
        Some(p) => load_coeffs(p, &cfg)?,
        None => tile.coeffs.clone(),
    };
    let (rows, source) = match &a.input {
        Some(p) => (load_input(p, &cfg)?, p.display().to_string()),
        None => (
            tile.rows.clone(),
            format!("a synthetic tile ({} rows, seed {})", a.rows, a.seed),
        ),
    };
    let data = TuneData::new(&cfg, coeffs.clone(), &rows)?;
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
    let fp16 = Metrics::of(&data, &data.fp16_outputs(&cfg)?);
    let bounds: Vec<Bound> = budgets
        .iter()
        .map(|&b| Bound::new(b, &data, &fp16, cfg.in_bits))
        .collect();
    let space = Space::new(&cfg, &coeffs);
    let words = cfg.columns / cfg.lanes;
    let tmp_work;
    let work = match &a.work {
        Some(w) => w.clone(),
        None => {
            tmp_work = std::env::temp_dir().join(format!("nmpu-tune-{}", std::process::id()));
            tmp_work.clone()
        }
    };
    let cost: CostModel = if let Some(path) = &a.fit_cost {
        let plan = fit_plan(&space);
        eprintln!(
            "tune: synthesizing {} lanes to fit the cost model",
            plan.len()
        );
        let jobs: Vec<_> = plan.iter().map(|(c, w)| (c.clone(), *w, "nmpu")).collect();
        let got = synth_lanes(&jobs, &work.join("fit"))?;
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

    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} tune: {msg} [{elapsed}]").unwrap());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let progress = |n: usize| bar.set_message(format!("{n} candidates evaluated"));
    let outcome = search(&space, &data, &bounds, &cost, words, &progress)?;
    bar.finish_and_clear();
    let search_seconds = start.elapsed().as_secs_f64();
    let Some(best) = outcome.best.clone() else {
        anyhow::bail!(
            "no candidate meets the budget, not even the widest formats ({} evaluated); \
             loosen the budget (e.g. --budget noise=0.2) or check the data",
            outcome.evaluated.len()
        );
    };

    // The answer on data it was not tuned on.
    let holdout = match (&a.input, &a.coeffs) {
        (None, None) => {
            let seed = a.holdout_seed.unwrap_or(a.seed + 1000);
            let t = TileModel::default().generate(&cfg, a.rows, seed);
            let d = TuneData::new(&cfg, t.coeffs.clone(), &t.rows)?;
            let h16 = Metrics::of(&d, &d.fp16_outputs(&cfg)?);
            let hb: Vec<Bound> = budgets
                .iter()
                .map(|&b| Bound::new(b, &d, &h16, cfg.in_bits))
                .collect();
            // The held-out tile has its own coefficients: the tuned formats with them.
            let m = evaluate(&best.config, &d)?;
            Some((seed, m, hb.iter().all(|b| b.holds(&m))))
        }
        _ => None,
    };

    let csv = a.out.with_extension("pareto.csv");
    let json = a.out.with_extension("pareto.json");
    write_atomic(&csv, &pareto_csv(&outcome))?;
    write_atomic(&json, &pareto_json(&outcome))?;
    write_atomic(
        &a.out,
        &tuned_toml(&best, &bounds, holdout.as_ref().map(|h| &h.1), &source),
    )?;

    let base_metrics = evaluate(&cfg, &data)?;
    let base_area = cost.area(&features(&cfg, words));
    println!(
        "nmpu tune: config {} ({} columns, {} lanes, {} coefficient words per lane); data: {source}",
        describe_config(a.config.as_deref()),
        cfg.columns,
        cfg.lanes,
        words
    );
    for b in &bounds {
        println!("budget: {} -> limits {:?}", b.budget, b.limits);
    }
    println!(
        "{} candidates evaluated in {:.1} s; cost model: mean error {:.1} %, largest {:.1} % on {} synthesized lanes",
        outcome.evaluated.len(),
        search_seconds,
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
    row("fp16", &fp16, None);
    if let Some((seed, m, ok)) = &holdout {
        row("held-out", m, None);
        println!(
            "held-out tile (seed {seed}): the budget {}",
            if *ok { "holds" } else { "does NOT hold" }
        );
    }
    println!("tuned formats: {}", formats(&best.config));
    println!("base formats:  {}", formats(&cfg));

    if a.confirm > 0 {
        let mut jobs = vec![(best.config.clone(), words, "nmpu")];
        if a.confirm > 1 {
            jobs.push((cfg.clone(), words, "nmpu_fp16"));
        }
        if a.confirm > 2 {
            jobs.push((cfg.clone(), words, "nmpu"));
        }
        eprintln!("tune: synthesizing {} lanes to confirm", jobs.len());
        let got = synth_lanes(&jobs, &work.join("confirm"))?;
        let tuned = &got[0];
        println!(
            "confirmed by synthesis (one lane, {words} words, osu018): tuned {:.0} um^2 (model {:.0}, {:+.1} %), {} transistors, Fmax {:.0} MHz",
            tuned.area_um2,
            best.area,
            (best.area / tuned.area_um2 - 1.0) * 100.0,
            tuned.transistors,
            tuned.fmax_mhz
        );
        if let Some(h) = got.get(1) {
            println!(
                "  FP16 lane {:.0} um^2, {} transistors, Fmax {:.0} MHz: FP16/tuned lane area = {:.2}",
                h.area_um2,
                h.transistors,
                h.fmax_mhz,
                h.area_um2 / tuned.area_um2
            );
        }
        if let Some(b) = got.get(2) {
            println!(
                "  base lane {:.0} um^2 (model {:.0}), {} transistors: base/tuned = {:.2}",
                b.area_um2,
                base_area,
                b.transistors,
                b.area_um2 / tuned.area_um2
            );
        }
    }
    if a.work.is_none() {
        let _ = std::fs::remove_dir_all(&work);
    }
    println!(
        "wrote {}, {}, {}",
        a.out.display(),
        csv.display(),
        json.display()
    );
    Ok(())
}
