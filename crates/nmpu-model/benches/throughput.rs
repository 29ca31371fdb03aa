//! `cargo bench -p nmpu-model`: throughput of the golden models on one core, default config.
//! Prints elements/s; the fixed-point target is >= 100 M elements/s.

use nmpu_config::NmpuConfig;
use nmpu_model::{quantize, to_f16, FixedModel, Fp16Model, TileModel};
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
    let tile = TileModel::default().generate(&cfg, rows, 1);
    let xs: Vec<i64> = tile.rows.concat();
    let mut out = vec![0i64; xs.len()];

    let (codes, _) = quantize(&cfg, &tile.coeffs).unwrap();
    let fixed = FixedModel::new(&cfg, codes).unwrap();
    let fixed_rate = measure(xs.len(), Duration::from_millis(400), || {
        fixed.run(0, black_box(&xs), &mut out).unwrap();
        black_box(&out);
    });

    let (f16c, _) = to_f16(&cfg, &tile.coeffs).unwrap();
    let fp16 = Fp16Model::new(&cfg, f16c).unwrap();
    let n = cfg.columns as usize;
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
