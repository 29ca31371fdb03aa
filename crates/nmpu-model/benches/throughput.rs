//! `cargo bench -p nmpu-model`: throughput of the golden models on one core, default config.
//! Prints elements/s; the fixed-point target is >= 100 M elements/s.

use nmpu_config::NmpuConfig;
use nmpu_model::{quantize, to_f16, FixedModel, Fp16Model, RealCoeffs};
use rand::{Rng, SeedableRng};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Repeats `f` (which processes `per_call` elements) for at least `min`, best of 5 runs.
fn measure(per_call: usize, min: Duration, mut f: impl FnMut()) -> f64 {
    let mut best = 0.0f64;
    for _ in 0..5 {
        let start = Instant::now();
        let mut calls = 0u64;
        while start.elapsed() < min {
            f();
            calls += 1;
        }
        let rate = calls as f64 * per_call as f64 / start.elapsed().as_secs_f64();
        best = best.max(rate);
    }
    best
}

fn main() {
    let cfg = NmpuConfig::default();
    let rows = 64;
    // Random codes over the whole input range and coefficients of the default's scale
    // (the model's speed does not depend on the values).
    let n = cfg.columns as usize;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let coeffs = RealCoeffs {
        a: (0..n).map(|_| rng.random_range(0.8..1.2)).collect(),
        b: (0..n).map(|_| rng.random_range(-50.0..50.0)).collect(),
        g: (0..n).map(|_| rng.random_range(0.01..0.06)).collect(),
        h: (0..n).map(|_| rng.random_range(-20.0..20.0)).collect(),
    };
    let xs: Vec<i64> = (0..rows * n)
        .map(|_| rng.random_range(-4096..4096))
        .collect();
    let mut out = vec![0i64; xs.len()];

    let (codes, _) = quantize(&cfg, &coeffs).unwrap();
    let fixed = FixedModel::new(&cfg, codes).unwrap();
    let fixed_rate = measure(xs.len(), Duration::from_millis(400), || {
        fixed.run(0, black_box(&xs), &mut out).unwrap();
        black_box(&out);
    });

    let (f16c, _) = to_f16(&cfg, &coeffs).unwrap();
    let fp16 = Fp16Model::new(&cfg, f16c).unwrap();
    let fp16_rate = measure(xs.len(), Duration::from_millis(400), || {
        for (i, &x) in black_box(&xs).iter().enumerate() {
            out[i] = fp16.trace(i % n, x).output;
        }
        black_box(&out);
    });

    println!(
        "golden-model throughput, default config, one core ({} elements per call)",
        xs.len()
    );
    println!(
        "  fixed point  {:>8.1} M elements/s   (target >= 100)",
        fixed_rate / 1e6
    );
    println!("  fp16         {:>8.1} M elements/s", fp16_rate / 1e6);
}
