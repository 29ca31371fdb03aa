//! `cargo bench -p nmpu-tune`: what a search's evaluations cost on this machine.
//! Prints the fixed-point golden model's throughput on one core and on all cores
//! (rayon: the model alone into an output buffer; `evaluate`: outputs and error sums per
//! slice, what the search runs), default config, 1000-row tile;
//! and the default search's time. Target: >= 600 M elements/s on 2 cores.

use nmpu_config::NmpuConfig;
use nmpu_tile::synthetic::Synthetic;
use nmpu_tune::judge::{Judge, TileJudge, MARGIN};
use nmpu_tune::metrics::{evaluate, fixed_model, ROWS_PER_TASK};
use nmpu_tune::{search, Budget, Space, TuneData};
use rayon::prelude::*;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Best rate of 5 runs of at least `min` each, `per_call` elements per call.
fn measure(per_call: usize, min: Duration, mut f: impl FnMut()) -> f64 {
    let mut best = 0.0f64;
    for _ in 0..5 {
        let start = Instant::now();
        let mut calls = 0u64;
        while start.elapsed() < min {
            f();
            calls += 1;
        }
        best = best.max(calls as f64 * per_call as f64 / start.elapsed().as_secs_f64());
    }
    best
}

fn main() {
    let cfg = NmpuConfig::default();
    let tile = Synthetic::for_config(&cfg).generate(&cfg, 1000, 1).unwrap();
    let data = TuneData::new(&cfg, tile.coeffs.clone(), &tile.rows).unwrap();
    let n = data.elements();
    let fixed = fixed_model(&cfg, &data).unwrap();
    let mut out = vec![0i64; n];
    let chunk = data.columns * ROWS_PER_TASK;
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    for (name, pool_threads) in [("one core", 1), ("all cores", cores)] {
        let pool = if pool_threads == 1 {
            &one
        } else {
            &rayon::ThreadPoolBuilder::new()
                .num_threads(pool_threads)
                .build()
                .unwrap()
        };
        // The model alone, outputs into a buffer allocated once (the search never holds
        // them all).
        let model = pool.install(|| {
            measure(n, Duration::from_millis(500), || {
                out.par_chunks_mut(chunk)
                    .zip(data.xs.par_chunks(chunk))
                    .for_each(|(o, x)| fixed.run(0, x, o).unwrap());
                black_box(&out);
            })
        });
        let with_metrics = pool.install(|| {
            measure(n, Duration::from_millis(500), || {
                black_box(evaluate(&cfg, &data).unwrap());
            })
        });
        println!(
            "{name} ({pool_threads} threads), fixed-point golden model, M elements/s (target: >= 600 on 2 cores):"
        );
        println!("  model into a buffer {:6.1}", model / 1e6);
        println!(
            "  evaluate (model + error sums, what the search runs) {:6.1}",
            with_metrics / 1e6
        );
    }
    let space = Space::new(&cfg, &[&data.coeffs]).unwrap();
    let judge = Judge {
        tiles: vec![TileJudge::new(&cfg, data, &[Budget::default()]).unwrap()],
        margin: MARGIN,
    };
    let start = Instant::now();
    let o = search(&space, &judge, &nmpu_tune::cost::shipped(), 32, &|_| {}).unwrap();
    let s = start.elapsed().as_secs_f64();
    println!(
        "default search (noise budget, 1000-row tile): {} candidates in {s:.1} s, {:.1} M elements/s",
        o.evaluated.len(),
        o.evaluated.len() as f64 * n as f64 / s / 1e6
    );
}
