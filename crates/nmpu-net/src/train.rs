//! Training the MLP with candle (Adam, cross-entropy, batch-norm in training mode), seeded
//! and deterministic, and cached: a trained network is kept in a file keyed by the data,
//! the architecture, the options and the seed.

use crate::data::{Dataset, Split};
use crate::mlp::{BatchNorm, Dense, Mlp};
use anyhow::{Context, Result};
use candle_core::{DType, Device, Tensor, Var, D};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// How a network is trained.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrainOptions {
    /// Hidden layer widths; each is followed by batch-norm and ReLU.
    pub hidden: Vec<usize>,
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            hidden: vec![256, 256],
            epochs: 5,
            batch: 128,
            lr: 1e-3,
            seed: 42,
        }
    }
}

impl TrainOptions {
    /// The network each dataset gets: Fashion-MNIST the MLP (two hidden layers of
    /// 256, five epochs); the digits a smaller one (64-64, 30 epochs of their 1,200 images).
    pub fn for_dataset(which: crate::data::Which) -> TrainOptions {
        match which {
            crate::data::Which::Fashion => TrainOptions::default(),
            crate::data::Which::Digits => TrainOptions {
                hidden: vec![64, 64],
                epochs: 30,
                batch: 64,
                ..TrainOptions::default()
            },
        }
    }
}

const BN_EPS: f64 = 1e-5;
const BN_MOMENTUM: f32 = 0.1;

/// One layer's trainable parameters and batch-norm running statistics.
struct Params {
    w: Var,
    b: Var,
    bn: Option<(Var, Var, Vec<f32>, Vec<f32>)>,
}

fn uniform(rng: &mut ChaCha8Rng, n: usize, bound: f32) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-bound..bound)).collect()
}

/// Trains a fresh MLP on `data.train`.
pub fn train(data: &Dataset, o: &TrainOptions, progress: &dyn Fn(usize, f64)) -> Result<Mlp> {
    let dev = Device::Cpu;
    let mut rng = ChaCha8Rng::seed_from_u64(o.seed);
    let mut widths = vec![data.train.pixels];
    widths.extend(&o.hidden);
    widths.push(data.classes);
    let mut params = vec![];
    for (l, pair) in widths.windows(2).enumerate() {
        let (fan_in, fan_out) = (pair[0], pair[1]);
        let bound = 1.0 / (fan_in as f32).sqrt();
        let w = Var::from_tensor(&Tensor::from_vec(
            uniform(&mut rng, fan_in * fan_out, bound),
            (fan_out, fan_in),
            &dev,
        )?)?;
        let b = Var::from_tensor(&Tensor::from_vec(
            uniform(&mut rng, fan_out, bound),
            fan_out,
            &dev,
        )?)?;
        let hidden = l + 2 < widths.len();
        let bn = hidden
            .then(|| -> Result<_> {
                Ok((
                    Var::from_tensor(&Tensor::ones(fan_out, DType::F32, &dev)?)?,
                    Var::from_tensor(&Tensor::zeros(fan_out, DType::F32, &dev)?)?,
                    vec![0f32; fan_out],
                    vec![1f32; fan_out],
                ))
            })
            .transpose()?;
        params.push(Params { w, b, bn });
    }
    let vars: Vec<Var> = params
        .iter()
        .flat_map(|p| {
            let mut v = vec![p.w.clone(), p.b.clone()];
            if let Some((g, b, _, _)) = &p.bn {
                v.extend([g.clone(), b.clone()]);
            }
            v
        })
        .collect();
    let mut opt = AdamW::new(
        vars,
        ParamsAdamW {
            lr: o.lr,
            weight_decay: 0.0,
            ..ParamsAdamW::default()
        },
    )?;
    let n = data.train.len();
    let mut order: Vec<usize> = (0..n).collect();
    for epoch in 0..o.epochs {
        order.shuffle(&mut rng);
        let mut loss_sum = 0.0;
        let mut batches = 0;
        for chunk in order.chunks(o.batch) {
            if chunk.len() < 2 {
                continue;
            }
            let batch = data.train.pick(chunk);
            let x = Tensor::from_vec(batch.images, (chunk.len(), data.train.pixels), &dev)?;
            let y = Tensor::from_vec(
                batch
                    .labels
                    .iter()
                    .map(|&l| u32::from(l))
                    .collect::<Vec<_>>(),
                chunk.len(),
                &dev,
            )?;
            let logits = forward_train(&mut params, &x)?;
            let loss = candle_nn::loss::cross_entropy(&logits, &y)?;
            opt.backward_step(&loss)?;
            loss_sum += f64::from(loss.to_scalar::<f32>()?);
            batches += 1;
        }
        progress(epoch + 1, loss_sum / f64::from(batches.max(1)));
    }
    export(&params, &widths)
}

/// The forward pass in training mode: batch statistics, running statistics updated.
fn forward_train(params: &mut [Params], x: &Tensor) -> Result<Tensor> {
    let mut h = x.clone();
    let last = params.len() - 1;
    for (l, p) in params.iter_mut().enumerate() {
        h = h
            .matmul(&p.w.as_tensor().t()?)?
            .broadcast_add(p.b.as_tensor())?;
        if let Some((gamma, beta, mean, var)) = &mut p.bn {
            let m = h.mean_keepdim(0)?;
            let centred = h.broadcast_sub(&m)?;
            let v = centred.sqr()?.mean_keepdim(0)?;
            let batch = h.dim(0)? as f32;
            let (mv, vv) = (
                m.flatten_all()?.to_vec1::<f32>()?,
                v.flatten_all()?.to_vec1::<f32>()?,
            );
            for i in 0..mean.len() {
                mean[i] = (1.0 - BN_MOMENTUM) * mean[i] + BN_MOMENTUM * mv[i];
                var[i] = (1.0 - BN_MOMENTUM) * var[i] + BN_MOMENTUM * vv[i] * batch / (batch - 1.0);
            }
            h = centred
                .broadcast_div(&(v + BN_EPS)?.sqrt()?)?
                .broadcast_mul(gamma.as_tensor())?
                .broadcast_add(beta.as_tensor())?;
        }
        if l < last {
            h = h.relu()?;
        }
    }
    Ok(h)
}

fn export(params: &[Params], widths: &[usize]) -> Result<Mlp> {
    let last = params.len() - 1;
    let layers = params
        .iter()
        .enumerate()
        .map(|(l, p)| -> Result<Dense> {
            let v = |t: &Tensor| -> Result<Vec<f32>> { Ok(t.flatten_all()?.to_vec1::<f32>()?) };
            Ok(Dense {
                inputs: widths[l],
                outputs: widths[l + 1],
                weight: v(p.w.as_tensor())?,
                bias: v(p.b.as_tensor())?,
                bn: match &p.bn {
                    Some((g, b, m, var)) => Some(BatchNorm {
                        gamma: v(g.as_tensor())?,
                        beta: v(b.as_tensor())?,
                        mean: m.clone(),
                        var: var.clone(),
                        eps: BN_EPS as f32,
                    }),
                    None => None,
                },
                relu: l < last,
            })
        })
        .collect::<Result<_>>()?;
    Ok(Mlp { layers })
}

/// Candle's own predictions in evaluation mode (running statistics), for checking the
/// exported network against the framework that trained it.
pub fn candle_predictions(mlp: &Mlp, split: &Split) -> Result<Vec<usize>> {
    let dev = Device::Cpu;
    let mut h = Tensor::from_vec(split.images.clone(), (split.len(), split.pixels), &dev)?;
    for l in &mlp.layers {
        let w = Tensor::from_vec(l.weight.clone(), (l.outputs, l.inputs), &dev)?;
        h = h.matmul(&w.t()?)?.broadcast_add(&Tensor::from_vec(
            l.bias.clone(),
            l.outputs,
            &dev,
        )?)?;
        if let Some(bn) = &l.bn {
            let t = |v: &Vec<f32>| Tensor::from_vec(v.clone(), l.outputs, &dev);
            h = h
                .broadcast_sub(&t(&bn.mean)?)?
                .broadcast_div(&(t(&bn.var)? + f64::from(bn.eps))?.sqrt()?)?
                .broadcast_mul(&t(&bn.gamma)?)?
                .broadcast_add(&t(&bn.beta)?)?;
        }
        if l.relu {
            h = h.relu()?;
        }
    }
    let idx = h.argmax(D::Minus1)?.to_vec1::<u32>()?;
    Ok(idx.into_iter().map(|i| i as usize).collect())
}

/// Where trained networks are kept: `$NMPU_CACHE_DIR/nets`, else `nmpu-nets` in the temp dir.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("NMPU_CACHE_DIR")
        .map(|d| PathBuf::from(d).join("nets"))
        .unwrap_or_else(|| std::env::temp_dir().join("nmpu-nets"))
}

/// The cache key: a hash of the training images and labels, the options and this crate's
/// version.
fn key(data: &Dataset, o: &TrainOptions) -> Result<String> {
    let opts = serde_json::to_string(o)?;
    let bytes = data
        .train
        .images
        .iter()
        .flat_map(|p| p.to_bits().to_le_bytes())
        .chain(data.train.labels.iter().copied())
        .chain(opts.bytes())
        .chain(env!("CARGO_PKG_VERSION").bytes());
    Ok(format!("{:016x}", nmpu_config::fnv1a(bytes)))
}

/// The network trained on `data` with `o`: from the cache in `dir` when there, else
/// trained and kept there. Returns it and whether it came from the cache.
pub fn trained(
    data: &Dataset,
    o: &TrainOptions,
    dir: &Path,
    progress: &dyn Fn(usize, f64),
) -> Result<(Mlp, bool)> {
    let path = dir.join(format!("mlp-{}.json", key(data, o)?));
    if let Ok(text) = std::fs::read_to_string(&path) {
        if let Ok(m) = serde_json::from_str(&text) {
            return Ok((m, true));
        }
    }
    let m = train(data, o, progress)?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, serde_json::to_string(&m)?)?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok((m, false))
}
