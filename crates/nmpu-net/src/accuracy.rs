//! `nmpu accuracy`: the network's test accuracy through the tiles with each NMPU, over
//! analog seeds, paired.
//!
//! For one seed every variant runs on the same programmed conductances, the same ADC
//! mismatch and the same noise draws per image (see [`crate::infer`]), so the difference
//! between the fixed-point and the FP16 NMPU on that seed is the NMPUs' alone. The
//! uncalibrated and mismatch-free references use the exact (f64) NMPU, so that they
//! isolate what calibration does from what the NMPU's arithmetic does.

use crate::analog::{image_codes, map, program, LayerMap, Network};
use crate::data::{Dataset, Split, Which};
use crate::infer::{first_codes, run, Run};
use crate::mlp::Mlp;
use crate::stage::{coefficients, saturated, Affine, Nmpu, Stage};
use crate::stats::{discordant, mcnemar_p, paired_interval, Spread};
use crate::train::{trained, TrainOptions};
use anyhow::{ensure, Context, Result};
use nmpu_config::NmpuConfig;
use nmpu_tile::TileParams;
use nmpu_tune::judge::worst;
use nmpu_tune::metrics::{evaluate, metrics_of};
use nmpu_tune::{Metrics, TuneData};
use serde::Serialize;
use std::path::Path;

/// Analog seeds of the default run.
pub const DEFAULT_SEEDS: usize = 5;

/// The trained network and everything fixed before any tile is drawn.
pub struct Setup {
    pub which: Which,
    pub data: Dataset,
    pub mlp: Mlp,
    pub options: TrainOptions,
    /// Code scales per layer, from the validation images' float activations.
    pub maps: Vec<LayerMap>,
    /// The training images whose activations calibrate each tile.
    pub calibration: Split,
    /// The tile model's parameters (the layers' sizes and ADC full scales are set per layer).
    pub params: TileParams,
    /// Whether the network came from the cache.
    pub cached: bool,
}

impl Setup {
    /// Loads `which`, trains its network (or reads it from the cache in `cache`), and fixes
    /// the tiles' parameters from `cfg` (its ADC and DAC widths).
    pub fn new(
        which: Which,
        cfg: &NmpuConfig,
        cache: &Path,
        progress: &dyn Fn(usize, f64),
    ) -> Result<Setup> {
        let data = which.load()?;
        let options = TrainOptions::for_dataset(which);
        let (mlp, cached) = trained(&data, &options, cache, progress)?;
        let picks: Vec<usize> =
            (0..crate::analog::CALIBRATION_IMAGES.min(data.train.len())).collect();
        let calibration = data.train.pick(&picks);
        let maps = map(&mlp, &data.validation);
        Ok(Setup {
            which,
            data,
            mlp,
            options,
            maps,
            calibration,
            params: TileParams::for_config(cfg),
            cached,
        })
    }

    /// The network on analog draw `seed`'s tiles, with or without ADC mismatch.
    pub fn program(&self, seed: u64, mismatch: bool) -> Result<Network> {
        let params = if mismatch {
            self.params.clone()
        } else {
            TileParams {
                adc_gain_sigma: 0.0,
                adc_offset_sigma: 0.0,
                ..self.params.clone()
            }
        };
        program(&self.mlp, &self.maps, &params, &self.calibration, seed)
            .with_context(|| format!("programming the network on analog seed {seed}"))
    }
}

/// A split's images as first-layer codes.
pub fn split_codes(split: &Split) -> Vec<Vec<i64>> {
    (0..split.len())
        .map(|i| image_codes(split.image(i)))
        .collect()
}

/// Per image, whether `classes` has its label.
pub fn correct(classes: &[usize], split: &Split) -> Vec<bool> {
    classes
        .iter()
        .zip(&split.labels)
        .map(|(&c, &l)| c == usize::from(l))
        .collect()
}

fn share(right: &[bool]) -> f64 {
    right.iter().filter(|&&r| r).count() as f64 / right.len().max(1) as f64
}

/// One line of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// The tile with the exact NMPU.
    F64,
    Fp16,
    /// The config's fixed-point NMPU.
    Fixed,
    /// Exact NMPU, nominal affine: the ADC mismatch uncorrected.
    Uncalibrated,
    /// Exact NMPU on tiles without ADC mismatch (calibrated all the same).
    MismatchFree,
}

impl Variant {
    pub const ALL: [Variant; 5] = [
        Variant::F64,
        Variant::Fp16,
        Variant::Fixed,
        Variant::Uncalibrated,
        Variant::MismatchFree,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Variant::F64 => "tile + f64 NMPU",
            Variant::Fp16 => "tile + FP16 NMPU",
            Variant::Fixed => "tile + fixed NMPU",
            Variant::Uncalibrated => "uncalibrated (f64)",
            Variant::MismatchFree => "mismatch-free (f64)",
        }
    }

    fn nmpu(self) -> Nmpu {
        match self {
            Variant::Fp16 => Nmpu::Fp16,
            Variant::Fixed => Nmpu::Fixed,
            _ => Nmpu::F64,
        }
    }

    fn affine(self) -> Affine {
        match self {
            Variant::Uncalibrated => Affine::Nominal,
            _ => Affine::Calibrated,
        }
    }
}

/// A variant's accuracy per seed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VariantFigures {
    pub variant: Variant,
    pub label: &'static str,
    pub per_seed: Vec<f64>,
    pub spread: Spread,
}

/// The fixed-point minus the FP16 NMPU on one seed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PairedSeed {
    pub seed: u64,
    /// Accuracy difference (fixed - FP16).
    pub diff: f64,
    /// Images only the fixed-point NMPU classifies right, and only the FP16 one.
    pub fixed_only: usize,
    pub fp16_only: usize,
    /// McNemar's exact two-sided p-value.
    pub p_value: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Paired {
    pub per_seed: Vec<PairedSeed>,
    pub mean: f64,
    /// 95 % interval of the mean (two-level bootstrap over seeds and images).
    pub interval: (f64, f64),
}

/// A layer's NMPUs against the f64 NMPU on that layer's ADC codes (the f64 run's), worst
/// over seeds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerFigures {
    pub layer: usize,
    pub columns: usize,
    /// Elements per seed.
    pub elements: usize,
    pub fp16: Metrics,
    pub fixed: Metrics,
    /// Coefficients the fixed-point formats saturate, most over seeds.
    pub saturated: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub dataset: &'static str,
    pub network: String,
    pub images: usize,
    pub seeds: Vec<u64>,
    /// The float network's accuracy.
    pub float: f64,
    pub variants: Vec<VariantFigures>,
    pub paired: Paired,
    pub layers: Vec<LayerFigures>,
}

/// What one seed gave.
struct SeedOutcome {
    right: Vec<Vec<bool>>,
    layers: Vec<(Metrics, Metrics, usize)>,
}

/// The element metrics of the FP16 and fixed NMPUs on each layer's codes of `f64run`.
fn layer_metrics(
    net: &Network,
    cfg: &NmpuConfig,
    first: &[Vec<i64>],
    f64run: &Run,
) -> Result<Vec<(Metrics, Metrics, usize)>> {
    let sat = saturated(net, cfg)?;
    net.layers
        .iter()
        .enumerate()
        .map(|(l, t)| {
            let rows = if l == 0 { first } else { &f64run.codes[l - 1] };
            let c = crate::analog::layer_config(cfg, t.outputs())?;
            let raw = coefficients(t, Nmpu::Fp16, &c, Affine::Calibrated);
            let data = TuneData::new(&c, raw, rows)?;
            let fp16 = metrics_of(&data, &data.fp16_outputs(&c)?);
            let fixed_k = coefficients(t, Nmpu::Fixed, &c, Affine::Calibrated);
            let fixed = if fixed_k == data.coeffs {
                evaluate(&c, &data)?
            } else {
                evaluate(&c, &TuneData::new(&c, fixed_k, rows)?)?
            };
            Ok((fp16, fixed, sat[l]))
        })
        .collect()
}

/// Every variant on analog seed `seed` over `split` (its codes `codes`).
fn one_seed(
    setup: &Setup,
    cfg: &NmpuConfig,
    split: &Split,
    codes: &[Vec<i64>],
    draws: u64,
    seed: u64,
) -> Result<SeedOutcome> {
    let net = setup.program(seed, true)?;
    let free = setup.program(seed, false)?;
    let first = first_codes(&net, codes, draws)?;
    let first_free = first_codes(&free, codes, draws)?;
    let mut right = vec![];
    let mut layers = vec![];
    for v in Variant::ALL {
        let (n, f) = if v == Variant::MismatchFree {
            (&free, &first_free)
        } else {
            (&net, &first)
        };
        let stages = Stage::all(n, v.nmpu(), cfg, v.affine())?;
        let keep = v == Variant::F64;
        let r = run(n, &stages, f, draws, keep)?;
        if keep {
            layers = layer_metrics(&net, cfg, &first, &r)?;
        }
        right.push(correct(&r.classes, split));
    }
    Ok(SeedOutcome { right, layers })
}

/// The accuracy of every variant on the test split over analog seeds `seeds`; `progress`
/// hears how many seeds are done.
pub fn accuracy(
    setup: &Setup,
    cfg: &NmpuConfig,
    seeds: &[u64],
    progress: &dyn Fn(usize),
) -> Result<Report> {
    accuracy_on(setup, cfg, &setup.data.test, 0, seeds, progress)
}

/// [`accuracy`] on `split`, whose image `i` uses noise draw `draws + i`.
pub fn accuracy_on(
    setup: &Setup,
    cfg: &NmpuConfig,
    split: &Split,
    draws: u64,
    seeds: &[u64],
    progress: &dyn Fn(usize),
) -> Result<Report> {
    ensure!(!seeds.is_empty(), "at least one analog seed is needed");
    cfg.validate().context("the NMPU config")?;
    let codes = split_codes(split);
    let mut outcomes = vec![];
    for (i, &seed) in seeds.iter().enumerate() {
        outcomes.push(one_seed(setup, cfg, split, &codes, draws, seed)?);
        progress(i + 1);
    }
    let variants = Variant::ALL
        .iter()
        .enumerate()
        .map(|(j, &variant)| {
            let per_seed: Vec<f64> = outcomes.iter().map(|o| share(&o.right[j])).collect();
            VariantFigures {
                variant,
                label: variant.label(),
                spread: Spread::of(&per_seed),
                per_seed,
            }
        })
        .collect();
    let at = |v: Variant| Variant::ALL.iter().position(|&x| x == v).expect("listed");
    let (fx, fp) = (at(Variant::Fixed), at(Variant::Fp16));
    let disc: Vec<_> = outcomes
        .iter()
        .map(|o| discordant(&o.right[fx], &o.right[fp]))
        .collect();
    let per_seed: Vec<PairedSeed> = seeds
        .iter()
        .zip(&outcomes)
        .zip(&disc)
        .map(|((&seed, o), d)| {
            let fixed_only = d.iter().filter(|x| x.1 > 0).count();
            let fp16_only = d.len() - fixed_only;
            PairedSeed {
                seed,
                diff: share(&o.right[fx]) - share(&o.right[fp]),
                fixed_only,
                fp16_only,
                p_value: mcnemar_p(fixed_only, fp16_only),
            }
        })
        .collect();
    let mean = per_seed.iter().map(|p| p.diff).sum::<f64>() / per_seed.len() as f64;
    let interval = paired_interval(&disc, split.len(), 2024);
    let layers = (0..setup.mlp.layers.len())
        .map(|l| {
            let fp16: Vec<Metrics> = outcomes.iter().map(|o| o.layers[l].0).collect();
            let fixed: Vec<Metrics> = outcomes.iter().map(|o| o.layers[l].1).collect();
            let layer = &setup.mlp.layers[l];
            LayerFigures {
                layer: l,
                columns: layer.outputs,
                elements: split.len() * layer.outputs,
                fp16: worst(&fp16),
                fixed: worst(&fixed),
                saturated: outcomes.iter().map(|o| o.layers[l].2).max().unwrap_or(0),
            }
        })
        .collect();
    Ok(Report {
        dataset: setup.data.name,
        network: setup.mlp.describe(),
        images: split.len(),
        seeds: seeds.to_vec(),
        float: setup.mlp.accuracy(split),
        variants,
        paired: Paired {
            per_seed,
            mean,
            interval,
        },
        layers,
    })
}
