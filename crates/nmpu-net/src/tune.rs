//! The accuracy budget of `nmpu tune --budget accuracy=D`: the cheapest fixed-point
//! formats whose network accuracy is at most `D` points below the FP16 NMPU's on the same
//! analog draws.
//!
//! A network evaluation costs about a thousand element evaluations, and a search
//! evaluates thousands of candidates, so the search runs on element metrics and the
//! accuracy decides:
//! 1. On each of [`TUNING_SEEDS`] analog seeds the network is programmed and calibrated,
//!    and the validation images (held back from training, never the test set) run
//!    through it with the f64 and the FP16 NMPUs. Each layer's ADC codes of the first
//!    [`PRESCREEN_IMAGES`] images make that seed's element data for the layer.
//! 2. For each level of a ladder of added-RMS budgets ([`LADDER`], output LSBs), nmpu-tune's
//!    search finds the cheapest formats that meet it on every layer of every seed (one
//!    config for every layer, as the hardware is one design). Per layer, not pooled: the
//!    ten logit columns are 2 % of the elements but decide the class, and a pooled budget
//!    let their error grow to an LSB.
//! 3. Each level's answer is judged by accuracy ([`Tuning::verdict`]): on every tuning
//!    seed, the validation accuracy of the fixed-point NMPU against the FP16 one. It meets
//!    the budget when the mean drop plus [`MARGIN`] standard errors (over seeds and
//!    images) is at most `D`. Then the
//!    element Pareto front between the cheapest passing answer and the next cheaper answer
//!    is judged too, point by point, so a cheaper config between two levels is not missed.
//! 4. The cheapest config the accuracy accepted is checked on the test set with
//!    [`HOLDOUT_SEEDS`] seeds the search never saw: the paired drop with its interval.

use crate::accuracy::{correct, split_codes, Setup};
use crate::analog::{layer_config, Network, VALIDATION_DRAWS};
use crate::data::Split;
use crate::infer::{first_codes, run};
use crate::stage::{coefficients, saturated, Affine, Nmpu, Stage};
use crate::stats::{discordant, paired_interval, paired_se, Discordant};
use anyhow::{ensure, Context, Result};
use nmpu_config::NmpuConfig;
use nmpu_model::RealCoeffs;
use nmpu_tune::budget::Bound;
use nmpu_tune::cost::features;
use nmpu_tune::judge::{Judge, TileJudge};
use nmpu_tune::search::{pareto, search, Evaluated};
use nmpu_tune::{Budget, CostModel, Knobs, Metrics, Space, TuneData};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;

/// Analog seeds the search is judged on, and the unseen ones of the test-set check.
pub const TUNING_SEEDS: usize = 8;
pub const HOLDOUT_SEEDS: usize = 5;
/// The first unseen seed.
pub const HOLDOUT_SEED: u64 = 1001;

/// Validation images per seed whose ADC codes are the element data.
pub const PRESCREEN_IMAGES: usize = 500;

/// The element budgets tried (added RMS, output LSBs), tightest first.
pub const LADDER: [f64; 12] = [
    0.02, 0.03, 0.05, 0.07, 0.1, 0.14, 0.2, 0.28, 0.4, 0.56, 0.8, 1.1,
];

/// Standard errors of the mean drop kept as margin (the standard error over seeds and
/// images, see [`AccuracyVerdict::se`]). A config at the limit's edge then holds its budget
/// on unseen seeds and images about 19 times in 20 before the selection among candidates;
/// on Fashion-MNIST the answer's drop on 10 unseen seeds was 0.00 points (budget 0.1).
pub const MARGIN: f64 = 2.0;

/// The bootstrap's seed (the verdicts are deterministic).
const BOOTSTRAP_SEED: u64 = 2024;

/// Most front points judged by accuracy between two ladder answers.
pub const FRONT_POINTS: usize = 12;

/// One tuning seed: its network, its validation codes at the first layer, the FP16 NMPU's
/// right and wrong per image, and each layer's element data.
struct SeedRun {
    net: Network,
    first: Vec<Vec<i64>>,
    fp16_right: Vec<bool>,
    layers: Vec<TuneData>,
}

/// A candidate's accuracy against the FP16 NMPU on the tuning seeds' validation images.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AccuracyVerdict {
    /// Per seed, FP16 accuracy minus the candidate's (accuracy units).
    pub drops: Vec<f64>,
    pub mean: f64,
    /// Standard error of the mean: over seeds and images, by the two-level bootstrap of
    /// the reported intervals (a seed's tiles shift all its images: the images alone
    /// missed half the spread unseen seeds showed).
    pub se: f64,
    /// `(mean + margin * se) / budget` (<= 1: meets).
    pub usage: f64,
    pub meets: bool,
}

/// Everything the judgements share.
pub struct Tuning<'a> {
    pub setup: &'a Setup,
    /// The user's config (what is not searched, and the FP16 baseline's output format).
    pub base: NmpuConfig,
    /// The budget in accuracy units (points / 100).
    pub budget: f64,
    pub margin: f64,
    pub seeds: Vec<u64>,
    runs: Vec<SeedRun>,
    pub space: Space,
}

/// The share of images in `right`.
fn share(right: &[bool]) -> f64 {
    right.iter().filter(|&&r| r).count() as f64 / right.len().max(1) as f64
}

impl<'a> Tuning<'a> {
    /// Programs the tuning seeds' networks and runs the validation images through them;
    /// `progress` hears each seed done.
    pub fn new(
        setup: &'a Setup,
        base: &NmpuConfig,
        budget_points: f64,
        seeds: &[u64],
        margin: f64,
        progress: &dyn Fn(usize),
    ) -> Result<Tuning<'a>> {
        ensure!(
            budget_points.is_finite() && budget_points > 0.0,
            "the accuracy budget must be a positive number of points, e.g. accuracy=0.1"
        );
        ensure!(!seeds.is_empty(), "at least one tuning seed is needed");
        base.validate().context("the NMPU config")?;
        let split = &setup.data.validation;
        let codes = split_codes(split);
        let mut runs = vec![];
        for (i, &seed) in seeds.iter().enumerate() {
            let net = setup.program(seed, true)?;
            let first = first_codes(&net, &codes, VALIDATION_DRAWS)?;
            let stages = Stage::all(&net, Nmpu::Fp16, base, Affine::Calibrated)?;
            let fp16 = run(&net, &stages, &first, VALIDATION_DRAWS, false)?;
            let stages = Stage::all(&net, Nmpu::F64, base, Affine::Calibrated)?;
            let exact = run(&net, &stages, &first, VALIDATION_DRAWS, true)?;
            let images = PRESCREEN_IMAGES.min(split.len());
            let layers = net
                .layers
                .iter()
                .enumerate()
                .map(|(l, t)| {
                    let rows = if l == 0 {
                        &first[..images]
                    } else {
                        &exact.codes[l - 1][..images]
                    };
                    let c = layer_config(base, t.outputs())?;
                    let k = coefficients(t, Nmpu::Fp16, &c, Affine::Calibrated);
                    TuneData::new(&c, k, rows)
                })
                .collect::<Result<_>>()?;
            runs.push(SeedRun {
                net,
                first,
                fp16_right: correct(&fp16.classes, split),
                layers,
            });
            progress(i + 1);
        }
        let coeffs: Vec<&RealCoeffs> = runs
            .iter()
            .flat_map(|r| r.layers.iter().map(|d| &d.coeffs))
            .collect();
        let space = Space::new(base, &coeffs).map_err(anyhow::Error::msg)?;
        Ok(Tuning {
            setup,
            base: base.clone(),
            budget: budget_points / 100.0,
            margin,
            seeds: seeds.to_vec(),
            runs,
            space,
        })
    }

    pub fn split(&self) -> &Split {
        &self.setup.data.validation
    }

    /// The FP16 NMPU's validation accuracy per tuning seed.
    pub fn fp16_accuracy(&self) -> Vec<f64> {
        self.runs.iter().map(|r| share(&r.fp16_right)).collect()
    }

    /// The element judge of an added-RMS budget of `limit` LSBs on every layer of every
    /// seed. No margin: the accuracy judges the answer, and the layers' usages do not
    /// spread as tiles of one layer do.
    pub fn element_judge(&self, limit: f64) -> Result<Judge> {
        let tiles = self
            .runs
            .iter()
            .flat_map(|r| &r.layers)
            .map(|d| -> Result<TileJudge> {
                let c = layer_config(&self.base, d.columns)?;
                let mut t = TileJudge::new(&c, d.clone(), &[])?;
                let b = Budget::Rms { limit };
                t.bounds = vec![Bound::new(b, &t.data, &t.fp16, c.in_bits)];
                Ok(t)
            })
            .collect::<Result<_>>()?;
        Ok(Judge { tiles, margin: 0.0 })
    }

    /// The accuracy verdict on `cfg` (any shape; the formats count).
    pub fn verdict(&self, cfg: &NmpuConfig) -> Result<AccuracyVerdict> {
        let split = self.split();
        let (mut drops, mut disc) = (vec![], vec![]);
        for r in &self.runs {
            let stages = Stage::all(&r.net, Nmpu::Fixed, cfg, Affine::Calibrated)?;
            let out = run(&r.net, &stages, &r.first, VALIDATION_DRAWS, false)?;
            let right = correct(&out.classes, split);
            disc.push(discordant(&r.fp16_right, &right));
            drops.push(share(&r.fp16_right) - share(&right));
        }
        let mean = drops.iter().sum::<f64>() / drops.len() as f64;
        let se = paired_se(&disc, split.len(), BOOTSTRAP_SEED);
        let usage = (mean + self.margin * se) / self.budget;
        Ok(AccuracyVerdict {
            drops,
            mean,
            se,
            usage,
            meets: usage <= 1.0,
        })
    }

    /// Coefficients `cfg` saturates, most over the tuning seeds' layers.
    pub fn saturated(&self, cfg: &NmpuConfig) -> Result<usize> {
        let mut most = 0;
        for r in &self.runs {
            most = most.max(saturated(&r.net, cfg)?.into_iter().sum());
        }
        Ok(most)
    }
}

/// A config judged by accuracy.
#[derive(Clone, Debug, Serialize)]
pub struct Judged {
    pub knobs: Option<Knobs>,
    /// In the user's shape.
    pub config: NmpuConfig,
    pub formats: String,
    /// Modelled lane area (um^2).
    pub area: f64,
    /// The element metrics on the tuning seeds (worst seed), and the ladder level whose
    /// search answered it (none: a front point or the base config).
    pub element: Metrics,
    pub level: Option<f64>,
    pub accuracy: AccuracyVerdict,
}

/// The tuned config on the test set, with unseen seeds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Holdout {
    pub seeds: Vec<u64>,
    pub images: usize,
    pub fp16: Vec<f64>,
    pub fixed: Vec<f64>,
    /// Mean drop (FP16 - fixed) and its 95 % interval.
    pub mean: f64,
    pub interval: (f64, f64),
    pub holds: bool,
    /// Coefficients the tuned formats saturate, most over the seeds.
    pub saturated: usize,
}

/// A finished accuracy search.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub budget_points: f64,
    pub margin: f64,
    pub dataset: &'static str,
    pub network: String,
    pub tuning_seeds: Vec<u64>,
    pub validation_images: usize,
    pub fp16_validation: Vec<f64>,
    /// Element candidates the searches evaluated (all levels).
    pub searched: usize,
    /// Every config judged by accuracy, by area.
    pub judged: Vec<Judged>,
    /// Index into `judged` of the answer.
    pub best: Option<usize>,
    /// The user's config, judged the same way.
    pub base: Judged,
    pub holdout: Option<Holdout>,
    /// Coefficient words per bank (the lane's storage in the cost model).
    pub words: u32,
}

impl Outcome {
    pub fn best(&self) -> Option<&Judged> {
        self.best.map(|i| &self.judged[i])
    }

    /// The configs no other beats in both area and mean drop, by area.
    pub fn front(&self) -> Vec<&Judged> {
        let mut v: Vec<&Judged> = self.judged.iter().collect();
        v.sort_by(|a, b| a.area.total_cmp(&b.area));
        let mut out: Vec<&Judged> = vec![];
        for j in v {
            if out.last().is_none_or(|l| j.accuracy.mean < l.accuracy.mean) {
                out.push(j);
            }
        }
        out
    }
}

/// The paired drop of `cfg` against the FP16 NMPU of `base` on the test set with `seeds`.
pub fn holdout(
    setup: &Setup,
    base: &NmpuConfig,
    cfg: &NmpuConfig,
    budget: f64,
    seeds: &[u64],
    progress: &dyn Fn(usize),
) -> Result<Holdout> {
    let split = &setup.data.test;
    let codes = split_codes(split);
    let (mut fp16, mut fixed, mut disc, mut sat) = (vec![], vec![], Vec::<Discordant>::new(), 0);
    for (i, &seed) in seeds.iter().enumerate() {
        let net = setup.program(seed, true)?;
        let first = first_codes(&net, &codes, 0)?;
        let right = |kind, c: &NmpuConfig| -> Result<Vec<bool>> {
            let st = Stage::all(&net, kind, c, Affine::Calibrated)?;
            Ok(correct(&run(&net, &st, &first, 0, false)?.classes, split))
        };
        let (a, b) = (right(Nmpu::Fp16, base)?, right(Nmpu::Fixed, cfg)?);
        fp16.push(share(&a));
        fixed.push(share(&b));
        disc.push(discordant(&a, &b));
        sat = sat.max(saturated(&net, cfg)?.into_iter().sum());
        progress(i + 1);
    }
    let mean = fp16.iter().zip(&fixed).map(|(a, b)| a - b).sum::<f64>() / seeds.len() as f64;
    Ok(Holdout {
        seeds: seeds.to_vec(),
        images: split.len(),
        fp16,
        fixed,
        mean,
        interval: paired_interval(&disc, split.len(), BOOTSTRAP_SEED),
        holds: mean <= budget,
        saturated: sat,
    })
}

/// What the run tells its caller as it goes.
pub enum Step<'s> {
    /// A ladder level searched: its limit and the candidates evaluated so far.
    Level(f64, usize),
    /// Configs judged by accuracy so far, and their message.
    Judged(usize, &'s str),
    Holdout(usize, usize),
}

/// The accuracy search: see the module's description. `cost` prices lanes of `words`
/// coefficient words per bank (the base config's `columns / lanes`).
pub fn tune(
    tuning: &Tuning,
    cost: &CostModel,
    holdout_seeds: &[u64],
    progress: &dyn Fn(Step),
) -> Result<Outcome> {
    let base = &tuning.base;
    let words = base.columns / base.lanes;
    let setup = tuning.setup;
    let mut evaluated: BTreeMap<Knobs, Evaluated> = BTreeMap::new();
    let mut answers: Vec<(f64, Evaluated)> = vec![];
    for &limit in &LADDER {
        let judge = tuning.element_judge(limit)?;
        let found = search(&tuning.space, &judge, cost, words, &|_| {})?;
        for e in found.evaluated {
            evaluated.entry(e.knobs).or_insert(e);
        }
        if let Some(b) = found.best {
            answers.push((limit, b));
        }
        progress(Step::Level(limit, evaluated.len()));
    }
    let mut judged: BTreeMap<Knobs, Judged> = BTreeMap::new();
    let judge_one = |e: &Evaluated, level: Option<f64>| -> Result<Judged> {
        let config = e.config.clone();
        Ok(Judged {
            knobs: Some(e.knobs),
            formats: nmpu_tune::report::formats(&config),
            area: cost.area(&features(&config, words)),
            element: e.metrics,
            level,
            accuracy: tuning.verdict(&config)?,
            config,
        })
    };
    let mut unique: Vec<&(f64, Evaluated)> = vec![];
    for a in &answers {
        if !unique.iter().any(|u| u.1.knobs == a.1.knobs) {
            unique.push(a);
        }
    }
    let first: Vec<Judged> = unique
        .par_iter()
        .map(|(level, e)| judge_one(e, Some(*level)))
        .collect::<Result<_>>()?;
    for j in first {
        judged.insert(j.knobs.expect("searched"), j);
    }
    progress(Step::Judged(judged.len(), "ladder answers"));
    // Between the cheapest passing answer and the next cheaper answer, the element front's
    // points by accuracy too.
    let cheapest_pass = |j: &BTreeMap<Knobs, Judged>| {
        j.values()
            .filter(|x| x.accuracy.meets)
            .map(|x| x.area)
            .fold(f64::INFINITY, f64::min)
    };
    let hi = cheapest_pass(&judged);
    let lo = judged
        .values()
        .filter(|x| x.area < hi)
        .map(|x| x.area)
        .fold(0.0, f64::max);
    let all: Vec<Evaluated> = evaluated.values().cloned().collect();
    let front: Vec<&Evaluated> = pareto(&all, "added_rms")
        .into_iter()
        .filter(|e| e.area > lo && e.area < hi && !judged.contains_key(&e.knobs))
        .collect();
    let step = (front.len() as f64 / FRONT_POINTS as f64).max(1.0);
    let picks: Vec<&Evaluated> = (0..front.len().min(FRONT_POINTS))
        .map(|i| front[((i as f64 * step) as usize).min(front.len() - 1)])
        .collect();
    let more: Vec<Judged> = picks
        .par_iter()
        .map(|e| judge_one(e, None))
        .collect::<Result<_>>()?;
    for j in more {
        judged.insert(j.knobs.expect("searched"), j);
    }
    progress(Step::Judged(judged.len(), "front points"));
    let mut judged: Vec<Judged> = judged.into_values().collect();
    judged.sort_by(|a, b| a.area.total_cmp(&b.area).then(a.knobs.cmp(&b.knobs)));
    let best = judged.iter().position(|j| j.accuracy.meets);
    let base_judged = Judged {
        knobs: None,
        config: base.clone(),
        formats: nmpu_tune::report::formats(base),
        area: cost.area(&features(base, words)),
        element: Metrics::default(),
        level: None,
        accuracy: tuning.verdict(base)?,
    };
    let holdout = match best {
        Some(i) if !holdout_seeds.is_empty() => Some(holdout(
            setup,
            base,
            &judged[i].config,
            tuning.budget,
            holdout_seeds,
            &|d| progress(Step::Holdout(d, holdout_seeds.len())),
        )?),
        _ => None,
    };
    Ok(Outcome {
        budget_points: tuning.budget * 100.0,
        margin: tuning.margin,
        dataset: setup.data.name,
        network: setup.mlp.describe(),
        tuning_seeds: tuning.seeds.clone(),
        validation_images: tuning.split().len(),
        fp16_validation: tuning.fp16_accuracy(),
        searched: evaluated.len(),
        judged,
        best,
        base: base_judged,
        holdout,
        words,
    })
}
