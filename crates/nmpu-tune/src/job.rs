//! A tune run from its request to its written files: the data and budgets, the cost model
//! (shipped, read, or fitted to synthesized lanes), the search or one shard of it, the
//! shard files and their merge, the check on held-out data, the files written, and the
//! lanes to synthesize to confirm the answer. The `nmpu tune` command parses and prints.

use crate::budget::{analog_noise_out, Bound};
use crate::cost::{features, fit_plan};
use crate::lanes::{LaneFigures, LaneJob, LaneKind, LaneSynth};
use crate::metrics::{evaluate, metrics_of};
use crate::report::{pareto_csv, pareto_json, tuned_toml};
use crate::search::{merge, pareto, search_shard, Evaluated, Outcome};
use crate::{Budget, CostModel, Metrics, Space, TuneData};
use anyhow::{bail, ensure, Context, Result};
use nmpu_config::NmpuConfig;
use nmpu_model::RealCoeffs;
use nmpu_tile::synthetic::Synthetic;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Everything a run's result depends on: what a shard's part carries so that the merge
/// finishes exactly as the unsharded run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub config: NmpuConfig,
    /// How the config is named in the output (its file, or the default).
    pub config_name: String,
    pub coeffs: Option<PathBuf>,
    pub input: Option<PathBuf>,
    pub rows: usize,
    pub seed: u64,
    pub budgets: Vec<Budget>,
    pub holdout_seed: Option<u64>,
    pub cost: CostModel,
}

/// A shard's part file.
#[derive(Serialize, Deserialize)]
pub struct Part {
    pub request: Request,
    pub shard: (usize, usize),
    pub outcome: Outcome,
}

/// The data and bounds of a request.
pub struct Prepared {
    pub data: TuneData,
    pub bounds: Vec<Bound>,
    pub fp16: Metrics,
    pub space: Space,
    pub words: u32,
    /// Where the data came from, for the output.
    pub source: String,
}

/// Loads a request's data and makes its budgets concrete on it.
pub fn prepare(r: &Request) -> Result<Prepared> {
    let cfg = &r.config;
    let d =
        nmpu_tile::data::load_data(cfg, r.coeffs.as_deref(), r.input.as_deref(), r.rows, r.seed)?;
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
pub fn data_and_bounds(
    cfg: &NmpuConfig,
    coeffs: RealCoeffs,
    rows: &[Vec<i64>],
    budgets: &[Budget],
) -> Result<(TuneData, Metrics, Vec<Bound>)> {
    let data = TuneData::new(cfg, coeffs, rows)?;
    let fp16 = metrics_of(&data, &data.fp16_outputs(cfg)?);
    let bounds = budgets
        .iter()
        .map(|&b| Bound::new(b, &data, &fp16, cfg.in_bits))
        .collect();
    Ok((data, fp16, bounds))
}

/// Synthesizes `space`'s fit plan and fits a cost model to it.
pub fn fit_cost(space: &Space, synth: &dyn LaneSynth) -> Result<CostModel> {
    let plan = fit_plan(space);
    let jobs: Vec<LaneJob> = plan
        .iter()
        .map(|(c, w)| LaneJob {
            config: c.clone(),
            words: *w,
            kind: LaneKind::Fixed,
        })
        .collect();
    let got = synth.synthesize(&jobs)?;
    ensure!(
        got.len() == jobs.len(),
        "{} lanes asked, {} synthesized",
        jobs.len(),
        got.len()
    );
    let samples: Vec<_> = plan
        .iter()
        .zip(&got)
        .map(|((c, w), g)| (features(c, *w), g.area_um2))
        .collect();
    CostModel::fit(&samples)
}

/// Runs shard `shard` = (i, n) of the search (the whole search for (0, 1)); `progress`
/// hears the number of candidates evaluated.
pub fn run_shard(
    p: &Prepared,
    cost: &CostModel,
    shard: (usize, usize),
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Outcome> {
    search_shard(&p.space, &p.data, &p.bounds, cost, p.words, shard, progress)
}

/// Where shard `(i, n)` of a run writing `out` puts its part.
pub fn part_path(out: &Path, (i, n): (usize, usize)) -> PathBuf {
    out.with_extension(format!("shard-{i}-of-{n}.json"))
}

/// Parses `I/N` (0 <= I < N).
pub fn parse_shard(s: &str) -> Result<(usize, usize), String> {
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

/// Writes `text` to `path` through a temporary file and a rename: an interrupted run
/// leaves no half-written file.
pub fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Reads a part written by a `--shard` run.
pub fn read_part(path: &Path) -> Result<Part> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read part {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a part written by nmpu tune --shard",
            path.display()
        )
    })
}

/// The request and the merged outcome of every shard of one run, read from `paths`:
/// all from the same request, the same shard count, every shard exactly once.
pub fn merge_parts(paths: &[PathBuf]) -> Result<(Request, Outcome)> {
    ensure!(!paths.is_empty(), "no parts to merge");
    let parts = paths
        .iter()
        .map(|p| Ok((p, read_part(p)?)))
        .collect::<Result<Vec<_>>>()?;
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
    Ok((
        request,
        merge(parts.into_iter().map(|(_, part)| part.outcome)),
    ))
}

/// The answer on data it was not tuned on.
#[derive(Clone, Debug)]
pub struct Holdout {
    pub seed: u64,
    pub metrics: Metrics,
    /// Whether every budget holds there.
    pub holds: bool,
}

/// A finished run: the answer, its check and the files written.
pub struct Finished {
    pub best: Evaluated,
    pub holdout: Option<Holdout>,
    /// The base config's metrics and modelled area.
    pub base: (Metrics, f64),
    /// The metric of the first budget: the one the plot and the confirmation use.
    pub shown: &'static str,
    /// The tuned TOML and the Pareto CSV, JSON and SVG.
    pub files: [PathBuf; 4],
    /// The output-referred noise of the first noise budget, when there is one.
    pub noise_out: Option<f64>,
}

/// The best candidate, checked on a held-out synthetic tile (when the data was synthetic),
/// with the tuned TOML and the Pareto fronts written next to `out`.
pub fn finish(r: &Request, p: &Prepared, outcome: &Outcome, out: &Path) -> Result<Finished> {
    let cfg = &r.config;
    let Some(best) = outcome.best.clone() else {
        bail!(
            "no candidate meets the budget, not even the widest formats ({} evaluated); \
             loosen the budget (e.g. --budget noise=0.2) or check the data",
            outcome.evaluated.len()
        );
    };
    // Another synthetic tile, its own coefficients.
    let holdout = match (&r.input, &r.coeffs) {
        (None, None) => {
            let seed = r.holdout_seed.unwrap_or(r.seed + 1000);
            let t = Synthetic::for_config(cfg)
                .generate(cfg, r.rows, seed)
                .map_err(anyhow::Error::msg)?;
            let (d, _, hb) = data_and_bounds(cfg, t.coeffs, &t.rows, &r.budgets)?;
            let m = evaluate(&best.config, &d)?;
            Some(Holdout {
                seed,
                metrics: m,
                holds: hb.iter().all(|b| b.holds(&m)),
            })
        }
        _ => None,
    };
    let files = [
        out.to_path_buf(),
        out.with_extension("pareto.csv"),
        out.with_extension("pareto.json"),
        out.with_extension("pareto.svg"),
    ];
    write_atomic(&files[1], &pareto_csv(outcome))?;
    write_atomic(&files[2], &pareto_json(outcome))?;
    let shown = p.bounds[0].limits[0].0;
    write_atomic(&files[3], &crate::plot::front_svg(outcome, shown)?)?;
    write_atomic(
        &files[0],
        &tuned_toml(
            &best,
            &p.bounds,
            holdout.as_ref().map(|h| &h.metrics),
            &p.source,
        ),
    )?;
    let noise_out = r.budgets.iter().find_map(|b| match b {
        Budget::Noise { noise, .. } => Some(analog_noise_out(&p.data, *noise, cfg.in_bits)),
        _ => None,
    });
    Ok(Finished {
        base: (
            evaluate(cfg, &p.data)?,
            r.cost.area(&features(cfg, p.words)),
        ),
        best,
        holdout,
        shown,
        files,
        noise_out,
    })
}

/// The lanes that confirm an answer by synthesis: the tuned lane, the FP16 and base lanes,
/// then the `k - 1` points of the `shown` metric's Pareto front nearest the tuned one in area.
pub struct Confirmation {
    pub jobs: Vec<LaneJob>,
    /// The front points, in the order of `jobs[3..]`.
    pub others: Vec<Evaluated>,
}

pub fn confirmation(
    r: &Request,
    p: &Prepared,
    outcome: &Outcome,
    f: &Finished,
    k: u32,
) -> Confirmation {
    let best = &f.best;
    let mut others: Vec<&Evaluated> = pareto(&outcome.evaluated, f.shown)
        .into_iter()
        .filter(|e| e.knobs != best.knobs)
        .collect();
    others.sort_by(|a, b| {
        (a.area - best.area)
            .abs()
            .total_cmp(&(b.area - best.area).abs())
            .then(a.knobs.cmp(&b.knobs))
    });
    others.truncate(k.saturating_sub(1) as usize);
    let lane = |config: &NmpuConfig, kind| LaneJob {
        config: config.clone(),
        words: p.words,
        kind,
    };
    let mut jobs = vec![
        lane(&best.config, LaneKind::Fixed),
        lane(&r.config, LaneKind::Fp16),
        lane(&r.config, LaneKind::Fixed),
    ];
    jobs.extend(others.iter().map(|e| lane(&e.config, LaneKind::Fixed)));
    Confirmation {
        jobs,
        others: others.into_iter().cloned().collect(),
    }
}

/// A model's relative error against a synthesized area, in percent.
pub fn model_error_percent(model: f64, got: &LaneFigures) -> f64 {
    (model / got.area_um2 - 1.0) * 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::DEFAULT_NOISE;

    /// A lane "synthesis" that prices lanes with a known linear model of the features.
    struct Formula([f64; 5]);

    impl LaneSynth for Formula {
        fn synthesize(&self, jobs: &[LaneJob]) -> Result<Vec<LaneFigures>> {
            Ok(jobs
                .iter()
                .map(|j| LaneFigures {
                    area_um2: features(&j.config, j.words)
                        .iter()
                        .zip(&self.0)
                        .map(|(f, c)| f * c)
                        .sum(),
                    ..LaneFigures::default()
                })
                .collect())
        }
    }

    fn request(rows: usize) -> Request {
        let config = NmpuConfig::from_toml_str("columns = 16\nlanes = 2\n").unwrap();
        Request {
            config,
            config_name: "test".into(),
            coeffs: None,
            input: None,
            rows,
            seed: 1,
            budgets: vec![Budget::Noise {
                fraction: 0.1,
                noise: DEFAULT_NOISE,
            }],
            holdout_seed: None,
            cost: crate::cost::shipped(),
        }
    }

    #[test]
    fn a_fitted_cost_model_recovers_the_areas_it_was_fitted_to() {
        let p = prepare(&request(8)).unwrap();
        let truth = [4000.0, 9.0, 20.0, 60.0, 25.0];
        let m = fit_cost(&p.space, &Formula(truth)).unwrap();
        assert!(m.max_error < 1e-9, "{m:?}");
        for (c, t) in m.coefficients.iter().zip(truth) {
            assert!(
                (c - t).abs() < 1e-6 * t,
                "{:?} vs {truth:?}",
                m.coefficients
            );
        }
    }

    /// Two shards merge to the unsharded outcome; parts from another run, a missing shard
    /// and a duplicate are refused with a message that says which.
    #[test]
    fn shards_merge_and_bad_sets_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let r = request(8);
        let p = prepare(&r).unwrap();
        let whole = run_shard(&p, &r.cost, (0, 1), &|_| {}).unwrap();
        let out = dir.path().join("t.toml");
        let mut paths = vec![];
        for i in 0..2 {
            let part = Part {
                request: r.clone(),
                shard: (i, 2),
                outcome: run_shard(&p, &r.cost, (i, 2), &|_| {}).unwrap(),
            };
            let path = part_path(&out, (i, 2));
            write_atomic(&path, &serde_json::to_string(&part).unwrap()).unwrap();
            paths.push(path);
        }
        let (back, merged) = merge_parts(&paths).unwrap();
        assert_eq!(back, r);
        assert_eq!(pareto_csv(&merged), pareto_csv(&whole));
        let e = merge_parts(&paths[..1]).unwrap_err().to_string();
        assert!(e.contains("shards [0] of 2"), "{e}");
        let e = merge_parts(&[paths[0].clone(), paths[0].clone()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("exactly once"), "{e}");
        let other = Part {
            request: Request {
                seed: 2,
                ..r.clone()
            },
            shard: (1, 2),
            outcome: whole.clone(),
        };
        let path = dir.path().join("other.json");
        write_atomic(&path, &serde_json::to_string(&other).unwrap()).unwrap();
        let e = merge_parts(&[paths[0].clone(), path])
            .unwrap_err()
            .to_string();
        assert!(e.contains("different tune run"), "{e}");
        std::fs::write(dir.path().join("junk.json"), "{}").unwrap();
        let e = merge_parts(&[dir.path().join("junk.json")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a part written by nmpu tune --shard"), "{e}");
    }

    /// The files are written, the held-out tile is checked, and the confirmation asks for
    /// the tuned, FP16 and base lanes and then front points nearest the tuned one.
    #[test]
    fn finishing_writes_the_files_and_plans_the_confirmation() {
        let dir = tempfile::tempdir().unwrap();
        let r = request(8);
        let p = prepare(&r).unwrap();
        let o = run_shard(&p, &r.cost, (0, 1), &|_| {}).unwrap();
        let f = finish(&r, &p, &o, &dir.path().join("t.toml")).unwrap();
        assert!(f.files.iter().all(|x| x.is_file()));
        assert_eq!(f.holdout.as_ref().unwrap().seed, 1001);
        assert!(f.noise_out.unwrap() > 0.0);
        let c = confirmation(&r, &p, &o, &f, 3);
        let kinds: Vec<LaneKind> = c.jobs.iter().map(|j| j.kind).collect();
        assert_eq!(
            kinds[..3],
            [LaneKind::Fixed, LaneKind::Fp16, LaneKind::Fixed]
        );
        assert_eq!(c.jobs[0].config, f.best.config);
        assert_eq!(c.jobs[2].config, r.config);
        assert_eq!(c.jobs.len(), 3 + c.others.len());
        assert!(c.others.len() <= 2);
        let front = pareto(&o.evaluated, f.shown);
        let gap = |e: &Evaluated| (e.area - f.best.area).abs();
        if let Some(worst) = c.others.iter().map(gap).reduce(f64::max) {
            let left = front.iter().filter(|e| {
                e.knobs != f.best.knobs && !c.others.iter().any(|o| o.knobs == e.knobs)
            });
            assert!(left.map(|e| gap(e)).all(|g| g >= worst));
        }
        assert!(confirmation(&r, &p, &o, &f, 1).others.is_empty());
        let text = crate::summary::summary(&r, &p, &o, &f);
        assert!(
            text.contains("held-out tile (seed 1001): the budget"),
            "{text}"
        );
        assert!(text.contains(&format!(
            "tuned formats: {}",
            crate::report::formats(&f.best.config)
        )));
        let got: Vec<LaneFigures> = (0..c.jobs.len())
            .map(|i| LaneFigures {
                area_um2: 1000.0 * (i + 1) as f64,
                transistors: 10,
                fmax_mhz: 200.0,
            })
            .collect();
        let text = crate::summary::confirmed(&c, &got, &f, p.words);
        assert!(text.contains("FP16/tuned lane area = 2.00"), "{text}");
        assert!(text.contains("base/tuned = 3.00"), "{text}");
    }

    #[test]
    fn shard_syntax() {
        assert_eq!(parse_shard("1/4"), Ok((1, 4)));
        assert!(
            parse_shard("4/4").is_err() && parse_shard("x").is_err() && parse_shard("0/0").is_err()
        );
    }
}
