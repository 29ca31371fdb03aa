//! `nmpu tune --budget accuracy=POINTS`: progress, files and summary of the accuracy
//! search. The search is nmpu_net::tune; lanes are synthesized by nmpu_eda.

use crate::io::{describe_config, load_config};
use crate::tune::{cost_model, create_parent, RunArgs};
use anyhow::{ensure, Result};
use indicatif::{ProgressBar, ProgressStyle};
use nmpu_eda::lanes::YosysLanes;
use nmpu_eda::WorkDir;
use nmpu_net::accuracy::Setup;
use nmpu_net::train::cache_dir;
use nmpu_net::tune::{tune, Step, Tuning};
use nmpu_net::tune_report::{confirmation, confirmed, front_svg, judged_csv, summary, tuned_toml};
use nmpu_tune::job::write_atomic;
use nmpu_tune::LaneSynth;

pub fn run(a: &RunArgs, points: f64) -> Result<()> {
    ensure!(
        a.data.coeffs.is_none() && a.data.input.is_none(),
        "--budget accuracy=... judges on a network's own tiles: drop --coeffs and --input"
    );
    ensure!(
        a.shard.is_none(),
        "--shard is for element budgets; an accuracy search runs whole"
    );
    ensure!(a.tiles >= 1, "--tiles (analog seeds) must be at least 1");
    ensure!(
        a.margin.is_finite() && a.margin >= 0.0,
        "--margin must be 0 or more standard errors"
    );
    let cfg = load_config(a.data.config.as_deref())?;
    create_parent(&a.out)?;
    let work = WorkDir::new(a.work.as_deref(), "tune")?;
    let start = std::time::Instant::now();
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} tune: {msg} [{elapsed}]").unwrap());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar.set_message("loading the dataset and the network");
    let setup = Setup::new(a.dataset.which(), &cfg, &cache_dir(), &|epoch, loss| {
        bar.set_message(format!("training: epoch {epoch} done, loss {loss:.4}"))
    })?;
    let seeds: Vec<u64> = (0..a.tiles as u64)
        .map(|i| a.data.seed.wrapping_add(i))
        .collect();
    let first_holdout = a.holdout_seed.unwrap_or(a.data.seed.wrapping_add(1000));
    let holdout: Vec<u64> = (0..a.holdout_tiles as u64)
        .map(|i| first_holdout.wrapping_add(i))
        .collect();
    let tuning = Tuning::new(&setup, &cfg, points, &seeds, a.margin, &|d| {
        bar.set_message(format!(
            "analog seeds programmed and run: {d}/{}",
            seeds.len()
        ))
    })?;
    let cost = cost_model(a, &tuning.space, &work)?;
    let outcome = tune(&tuning, &cost, &holdout, &|step| {
        bar.set_message(match step {
            Step::Level(l, n) => format!("element search at added RMS {l} LSB: {n} candidates"),
            Step::Judged(n, what) => format!("{n} configs judged by accuracy ({what})"),
            Step::Holdout(d, n) => format!("test-set check: seed {d}/{n}"),
        })
    })?;
    bar.finish_and_clear();
    eprintln!(
        "tune: {} element candidates, {} judged by accuracy, in {:.1} s",
        outcome.searched,
        outcome.judged.len(),
        start.elapsed().as_secs_f64()
    );
    let name = describe_config(a.data.config.as_deref());
    print!("{}", summary(&outcome, &name));
    let files = [
        a.out.with_extension("accuracy.csv"),
        a.out.with_extension("accuracy.json"),
        a.out.with_extension("accuracy.svg"),
    ];
    write_atomic(&files[0], &judged_csv(&outcome))?;
    write_atomic(&files[1], &(serde_json::to_string_pretty(&outcome)? + "\n"))?;
    write_atomic(&files[2], &front_svg(&outcome, None)?)?;
    if a.confirm > 0 && outcome.best().is_some() {
        let (jobs, others) = confirmation(&outcome, &cfg, a.confirm);
        eprintln!("tune: synthesizing {} lanes to confirm", jobs.len());
        let lanes = YosysLanes {
            dir: work.sub("confirm")?,
        };
        let got = lanes.synthesize(&jobs)?;
        print!("{}", confirmed(&outcome, &others, &got));
        write_atomic(&files[2], &front_svg(&outcome, Some(got[1].area_um2))?)?;
    }
    let holds = outcome.holdout.as_ref().is_none_or(|h| h.holds);
    let mut wrote: Vec<String> = vec![];
    match tuned_toml(&outcome) {
        Some(text) if holds || a.allow_miss => {
            write_atomic(&a.out, &text)?;
            wrote.push(a.out.display().to_string());
        }
        _ => wrote.push(format!("not {}", a.out.display())),
    }
    wrote.extend(files.iter().map(|f| f.display().to_string()));
    println!("wrote {}", wrote.join(", "));
    ensure!(
        outcome.best().is_some(),
        "no config meets the accuracy budget, not even the widest element level's; loosen the \
         budget, lower --margin or judge on more seeds (--tiles)"
    );
    ensure!(
        holds || a.allow_miss,
        "the tuned config misses its budget on the test set with unseen seeds; judge on more \
         seeds (--tiles), keep a wider --margin or loosen the budget, or keep it anyway with \
         --allow-miss"
    );
    Ok(())
}
