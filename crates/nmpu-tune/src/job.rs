//! A tune run from its request to its written files: the data and budgets, the cost model
//! (shipped, read, or fitted to synthesized lanes), the search or one shard of it, the
//! shard files and their merge, the check on held-out data, the files written, and the
//! lanes to synthesize to confirm the answer. The `nmpu tune` command parses and prints.

use crate::budget::analog_noise_out;
use crate::cost::{features, fit_plan};
use crate::judge::{worst, Judge, TileJudge};
use crate::lanes::{LaneFigures, LaneJob, LaneKind, LaneSynth};
use crate::metrics::evaluate;
use crate::plot::{front_svg, Marks};
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
    /// Synthetic tiles the search is judged on (seeds `seed`, `seed + 1`, ...); with the
    /// user's data, their one tile.
    pub tiles: usize,
    /// Synthetic tiles the answer is checked on (seeds `holdout_seed` (default `seed +
    /// 1000`), and on); none with the user's data.
    pub holdout_tiles: usize,
    pub holdout_seed: Option<u64>,
    /// Standard deviations of the tiles' budget usage kept as margin (see [`Judge`]).
    pub margin: f64,
    pub cost: CostModel,
}

/// Default tuning and held-out tiles. With [`crate::judge::MARGIN`], eight tuning tiles
/// kept every answer within its budget on five held-out tiles, for three configs and ten
/// seeds each (tests/robust.rs); four tiles with a margin of one standard deviation did
/// not (a 32-column config: 6 of 10 held), nor eight with 1.5 (one miss, by 2.6 %).
pub const TILES: usize = 8;
pub const HOLDOUT_TILES: usize = 5;

/// A shard's part file.
#[derive(Serialize, Deserialize)]
pub struct Part {
    pub request: Request,
    pub shard: (usize, usize),
    pub outcome: Outcome,
}

/// The tiles and the search space of a request.
pub struct Prepared {
    pub judge: Judge,
    pub space: Space,
    pub words: u32,
    /// Where the data came from, for the output.
    pub source: String,
}

/// A synthetic tile's data for `cfg`.
fn synthetic(cfg: &NmpuConfig, rows: usize, seed: u64) -> Result<(RealCoeffs, Vec<Vec<i64>>)> {
    let t = Synthetic::for_config(cfg)
        .generate(cfg, rows, seed)
        .map_err(anyhow::Error::msg)?;
    Ok((t.coeffs, t.rows))
}

/// Loads a request's tiles (the user's data, or `tiles` synthetic ones) and makes its
/// budgets concrete on each.
pub fn prepare(r: &Request) -> Result<Prepared> {
    let cfg = &r.config;
    let user = r.coeffs.is_some() || r.input.is_some();
    let sets: Vec<(RealCoeffs, Vec<Vec<i64>>)> = if user {
        let d = nmpu_tile::data::load_data(
            cfg,
            r.coeffs.as_deref(),
            r.input.as_deref(),
            r.rows,
            r.seed,
        )?;
        vec![(d.coeffs, d.rows)]
    } else {
        ensure!(r.tiles >= 1, "--tiles must be at least 1");
        (0..r.tiles as u64)
            .map(|t| synthetic(cfg, r.rows, r.seed.wrapping_add(t)))
            .collect::<Result<_>>()?
    };
    let source = match (&r.input, user) {
        (Some(p), _) => p.display().to_string(),
        (None, true) => format!(
            "a synthetic tile's codes ({} rows, seed {})",
            r.rows, r.seed
        ),
        (None, false) => format!(
            "{} synthetic tiles ({} rows each, seeds {} ..= {})",
            r.tiles,
            r.rows,
            r.seed,
            r.seed.wrapping_add(r.tiles as u64 - 1)
        ),
    };
    let coeffs: Vec<&RealCoeffs> = sets.iter().map(|s| &s.0).collect();
    let space = Space::new(cfg, &coeffs).map_err(anyhow::Error::msg)?;
    let tiles = sets
        .into_iter()
        .map(|(k, rows)| TileJudge::new(cfg, TuneData::new(cfg, k, &rows)?, &r.budgets))
        .collect::<Result<_>>()?;
    Ok(Prepared {
        judge: Judge {
            tiles,
            margin: r.margin,
        },
        space,
        words: cfg.columns / cfg.lanes,
        source,
    })
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
    search_shard(&p.space, &p.judge, cost, p.words, shard, progress)
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

/// The answer on tiles it was not tuned on.
#[derive(Clone, Debug)]
pub struct Holdout {
    pub seeds: Vec<u64>,
    /// Per tile, the metrics and the budget usage (<= 1: within the budget).
    pub metrics: Vec<Metrics>,
    pub usages: Vec<f64>,
}

impl Holdout {
    /// The largest usage and the seed of its tile.
    pub fn worst(&self) -> (u64, f64) {
        self.seeds
            .iter()
            .zip(&self.usages)
            .fold(
                (0, f64::NEG_INFINITY),
                |w, (&s, &u)| if u > w.1 { (s, u) } else { w },
            )
    }

    /// Whether every held-out tile is within the budget.
    pub fn holds(&self) -> bool {
        self.worst().1 <= 1.0
    }

    /// Mean and standard deviation of the usages.
    pub fn spread(&self) -> (f64, f64) {
        let n = self.usages.len() as f64;
        let mean = self.usages.iter().sum::<f64>() / n;
        let var = self.usages.iter().map(|u| (u - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        (mean, var.sqrt())
    }
}

/// The answer checked on held-out tiles, when the data are synthetic.
pub fn holdout(r: &Request, best: &NmpuConfig) -> Result<Option<Holdout>> {
    if r.input.is_some() || r.coeffs.is_some() || r.holdout_tiles == 0 {
        return Ok(None);
    }
    let cfg = &r.config;
    let first = r.holdout_seed.unwrap_or(r.seed.wrapping_add(1000));
    let seeds: Vec<u64> = (0..r.holdout_tiles as u64)
        .map(|t| first.wrapping_add(t))
        .collect();
    let (mut metrics, mut usages) = (vec![], vec![]);
    for &seed in &seeds {
        let (k, rows) = synthetic(cfg, r.rows, seed)?;
        let tile = TileJudge::new(cfg, TuneData::new(cfg, k, &rows)?, &r.budgets)?;
        let m = evaluate(best, &tile.data)?;
        usages.push(tile.usage(&m));
        metrics.push(m);
    }
    Ok(Some(Holdout {
        seeds,
        metrics,
        usages,
    }))
}

/// A finished run: the answer, its check and the files written.
pub struct Finished {
    pub best: Evaluated,
    pub holdout: Option<Holdout>,
    /// The base config's worst metrics over the tuning tiles and its modelled area.
    pub base: (Metrics, f64),
    /// The FP16 baseline's worst metrics over the tuning tiles.
    pub fp16: Metrics,
    /// The metric of the first budget: the one the plot and the confirmation use.
    pub shown: &'static str,
    /// The tuned TOML (`None` when it was not written: the answer missed its budget on a
    /// held-out tile and the run did not allow it) and the Pareto CSV, JSON and SVG.
    pub tuned: Option<PathBuf>,
    pub fronts: [PathBuf; 3],
    /// On the first tile, the output-referred noise of the first noise budget and the SNR
    /// the base, tuned and FP16 designs lose against it (dB).
    pub snr: Option<(f64, [f64; 3])>,
    /// What the plot marks besides the candidates.
    pub marks: Marks,
}

/// Plots the fronts again with the FP16 lane's synthesized area marked (after the
/// confirmation).
pub fn replot(outcome: &Outcome, f: &mut Finished, fp16_area: f64) -> Result<()> {
    f.marks.fp16_area = Some(fp16_area);
    write_atomic(&f.fronts[2], &front_svg(outcome, f.shown, &f.marks)?)
}

/// The best candidate, checked on held-out tiles; the Pareto fronts written next to
/// `out`, and the tuned TOML when the answer holds its budget on every held-out tile or
/// `allow_miss` keeps it anyway.
pub fn finish(
    r: &Request,
    p: &Prepared,
    outcome: &Outcome,
    out: &Path,
    allow_miss: bool,
) -> Result<Finished> {
    let cfg = &r.config;
    let Some(best) = outcome.best.clone() else {
        bail!(
            "no candidate meets the budget, not even the widest formats ({} evaluated); \
             loosen the budget (e.g. --budget noise=0.2) or check the data",
            outcome.evaluated.len()
        );
    };
    let holdout = holdout(r, &best.config)?;
    let fronts = [
        out.with_extension("pareto.csv"),
        out.with_extension("pareto.json"),
        out.with_extension("pareto.svg"),
    ];
    write_atomic(&fronts[0], &pareto_csv(outcome))?;
    write_atomic(&fronts[1], &pareto_json(outcome))?;
    let shown = p.judge.first().bounds[0].limits[0].0;
    let base_metrics = p.judge.judge(cfg)?.0.metrics;
    let fp16 = worst(&p.judge.tiles.iter().map(|t| t.fp16).collect::<Vec<_>>());
    let marks = Marks {
        limit: p.judge.first().bounds[0].limits[0].1,
        base: Some((
            r.cost.area(&features(cfg, p.words)),
            crate::budget::metric(&base_metrics, shown),
        )),
        fp16: crate::budget::metric(&fp16, shown),
        fp16_area: None,
    };
    write_atomic(&fronts[2], &front_svg(outcome, shown, &marks)?)?;
    let keep = allow_miss || holdout.as_ref().is_none_or(Holdout::holds);
    let tuned = if keep {
        write_atomic(
            out,
            &tuned_toml(&best, &p.judge, holdout.as_ref(), &p.source),
        )?;
        Some(out.to_path_buf())
    } else {
        None
    };
    let first = p.judge.first();
    let sigma = r.budgets.iter().find_map(|b| match b {
        Budget::Noise { noise, .. } => Some(analog_noise_out(&first.data, *noise, cfg.in_bits)),
        _ => None,
    });
    let snr = match sigma {
        Some(sigma) => {
            let loss = |c: &NmpuConfig| -> Result<f64> {
                Ok(evaluate(c, &first.data)?.snr_loss_db(sigma))
            };
            Some((
                sigma,
                [
                    loss(cfg)?,
                    loss(&best.config)?,
                    first.fp16.snr_loss_db(sigma),
                ],
            ))
        }
        None => None,
    };
    Ok(Finished {
        base: (base_metrics, r.cost.area(&features(cfg, p.words))),
        fp16,
        best,
        holdout,
        shown,
        tuned,
        fronts,
        snr,
        marks,
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
    let front: Vec<&Evaluated> = pareto(&outcome.evaluated, f.shown)
        .into_iter()
        .filter(|e| e.knobs != best.knobs)
        .collect();
    let others = nearest_in_area(
        front,
        |e| e.area,
        best.area,
        k,
        |a, b| a.knobs.cmp(&b.knobs),
    );
    Confirmation {
        jobs: lane_jobs(
            &best.config,
            &r.config,
            p.words,
            others.iter().map(|e| &e.config),
        ),
        others: others.into_iter().cloned().collect(),
    }
}

/// The `k - 1` of `points` nearest `area` (by `area_of`), nearest first, ties by `tie`:
/// the front points a confirmation synthesizes beside the answer.
pub fn nearest_in_area<T>(
    mut points: Vec<T>,
    area_of: impl Fn(&T) -> f64,
    area: f64,
    k: u32,
    tie: impl Fn(&T, &T) -> std::cmp::Ordering,
) -> Vec<T> {
    points.sort_by(|a, b| {
        (area_of(a) - area)
            .abs()
            .total_cmp(&(area_of(b) - area).abs())
            .then_with(|| tie(a, b))
    });
    points.truncate(k.saturating_sub(1) as usize);
    points
}

/// The lanes of a confirmation, in the order [`crate::summary::confirmed_lanes`] reads
/// them: the answer, the FP16 and the base config's lanes, then `others`.
pub fn lane_jobs<'a>(
    best: &NmpuConfig,
    base: &NmpuConfig,
    words: u32,
    others: impl IntoIterator<Item = &'a NmpuConfig>,
) -> Vec<LaneJob> {
    let lane = |config: &NmpuConfig, kind| LaneJob {
        config: config.clone(),
        words,
        kind,
    };
    let mut jobs = vec![
        lane(best, LaneKind::Fixed),
        lane(base, LaneKind::Fp16),
        lane(base, LaneKind::Fixed),
    ];
    jobs.extend(others.into_iter().map(|c| lane(c, LaneKind::Fixed)));
    jobs
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
            tiles: 2,
            holdout_tiles: 3,
            holdout_seed: None,
            margin: crate::judge::MARGIN,
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
        let f = finish(&r, &p, &o, &dir.path().join("t.toml"), true).unwrap();
        assert!(f.fronts.iter().all(|x| x.is_file()));
        assert_eq!(
            f.tuned.as_deref(),
            Some(dir.path().join("t.toml").as_path())
        );
        assert_eq!(p.judge.tiles.len(), 2);
        assert_eq!(f.holdout.as_ref().unwrap().seeds, vec![1001, 1002, 1003]);
        assert!(f.snr.unwrap().0 > 0.0);
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
            text.contains("held-out tiles (seeds 1001 ..= 1003): budget usage worst"),
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
