//! The trained network as plain numbers: dense layers with optional batch-norm and ReLU,
//! and its float forward pass (the reference the tile path is judged against).

use crate::data::Split;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchNorm {
    pub gamma: Vec<f32>,
    pub beta: Vec<f32>,
    /// Running statistics (inference uses these).
    pub mean: Vec<f32>,
    pub var: Vec<f32>,
    pub eps: f32,
}

impl BatchNorm {
    /// Per feature, `bn(z) = scale * z + shift`.
    pub fn affine(&self) -> (Vec<f64>, Vec<f64>) {
        let scale: Vec<f64> = self
            .gamma
            .iter()
            .zip(&self.var)
            .map(|(&g, &v)| f64::from(g) / (f64::from(v) + f64::from(self.eps)).sqrt())
            .collect();
        let shift = scale
            .iter()
            .zip(self.mean.iter().zip(&self.beta))
            .map(|(s, (&m, &b))| f64::from(b) - s * f64::from(m))
            .collect();
        (scale, shift)
    }
}

/// `y = act(bn(W x + b))`, `W` row-major `[outputs][inputs]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dense {
    pub inputs: usize,
    pub outputs: usize,
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
    pub bn: Option<BatchNorm>,
    pub relu: bool,
}

impl Dense {
    /// The pre-activation `bn(W x + b)` in f64.
    pub fn pre(&self, x: &[f64]) -> Vec<f64> {
        let mut z: Vec<f64> = (0..self.outputs)
            .map(|o| {
                let row = &self.weight[o * self.inputs..(o + 1) * self.inputs];
                row.iter()
                    .zip(x)
                    .map(|(&w, &v)| f64::from(w) * v)
                    .sum::<f64>()
                    + f64::from(self.bias[o])
            })
            .collect();
        if let Some(bn) = &self.bn {
            let (scale, shift) = bn.affine();
            for ((z, s), h) in z.iter_mut().zip(&scale).zip(&shift) {
                *z = s * *z + h;
            }
        }
        z
    }

    pub fn forward(&self, x: &[f64]) -> Vec<f64> {
        let mut z = self.pre(x);
        if self.relu {
            z.iter_mut().for_each(|v| *v = v.max(0.0));
        }
        z
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mlp {
    pub layers: Vec<Dense>,
}

/// The index of the largest value (the first on ties).
pub fn argmax(v: &[f64]) -> usize {
    v.iter()
        .enumerate()
        .fold(
            (0, f64::NEG_INFINITY),
            |b, (i, &x)| if x > b.1 { (i, x) } else { b },
        )
        .0
}

impl Mlp {
    /// `784-256-BN-ReLU-256-BN-ReLU-10`.
    pub fn describe(&self) -> String {
        let mut s = self.layers.first().map_or(0, |l| l.inputs).to_string();
        for l in &self.layers {
            s += &format!("-{}", l.outputs);
            if l.bn.is_some() {
                s += "-BN";
            }
            if l.relu {
                s += "-ReLU";
            }
        }
        s
    }

    /// Every layer's output for image `x`.
    pub fn trace(&self, x: &[f32]) -> Vec<Vec<f64>> {
        let mut v: Vec<f64> = x.iter().map(|&p| f64::from(p)).collect();
        let mut out = vec![];
        for l in &self.layers {
            v = l.forward(&v);
            out.push(v.clone());
        }
        out
    }

    pub fn predict(&self, x: &[f32]) -> usize {
        argmax(self.trace(x).last().expect("a network has layers"))
    }

    /// Share of `split` classified right.
    pub fn accuracy(&self, split: &Split) -> f64 {
        let right = (0..split.len())
            .filter(|&i| self.predict(split.image(i)) == usize::from(split.labels[i]))
            .count();
        right as f64 / split.len().max(1) as f64
    }
}
