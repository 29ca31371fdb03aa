//! `cargo bench -p nmpu-net`: the default `nmpu accuracy` run (Fashion-MNIST, 10,000 test
//! images, 5 analog seeds, every variant) timed whole, and one seed's steps timed apart
//! to say what dominates. Target: the whole run under 60 s on 2 cores once the network
//! is trained (the bench trains it first if the cache has none).

use nmpu_config::NmpuConfig;
use nmpu_net::accuracy::{accuracy, split_codes, Setup};
use nmpu_net::data::Which;
use nmpu_net::infer::{first_codes, run};
use nmpu_net::stage::{Affine, Nmpu, Stage};
use nmpu_net::train::cache_dir;
use std::time::Instant;

fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

fn main() {
    let which = if std::env::var_os("NMPU_BENCH_DIGITS").is_some() {
        Which::Digits
    } else {
        Which::Fashion
    };
    let cfg = NmpuConfig::default();
    let t = Instant::now();
    let setup = match Setup::new(which, &cfg, &cache_dir(), &|_, _| {}) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "accuracy bench: {e:#}\n(run `make deps`, or NMPU_BENCH_DIGITS=1 for the digits)"
            );
            std::process::exit(1);
        }
    };
    println!(
        "setup (dataset, network {}, code scales): {:.2} s",
        if setup.cached {
            "from the cache"
        } else {
            "trained"
        },
        secs(t)
    );
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let t = Instant::now();
    let r = accuracy(&setup, &cfg, &[1, 2, 3, 4, 5], &|_| {}).unwrap();
    let whole = secs(t);
    println!(
        "nmpu accuracy, {}: {} test images x 5 seeds x {} variants: {whole:.2} s on {cores} cores (target < 60 s)",
        r.dataset,
        r.images,
        r.variants.len()
    );

    // One seed's steps apart.
    let codes = split_codes(&setup.data.test);
    let t = Instant::now();
    let net = setup.program(1, true).unwrap();
    let program = secs(t);
    let t = Instant::now();
    let first = first_codes(&net, &codes, 0).unwrap();
    let layer0 = secs(t);
    let mut variants = vec![];
    for (name, kind) in [
        ("f64", Nmpu::F64),
        ("fp16", Nmpu::Fp16),
        ("fixed", Nmpu::Fixed),
    ] {
        let stages = Stage::all(&net, kind, &cfg, Affine::Calibrated).unwrap();
        let t = Instant::now();
        run(&net, &stages, &first, 0, false).unwrap();
        variants.push((name, secs(t)));
    }
    println!(
        "one seed, apart (x2 programming and first layer per seed: the mismatch-free tiles too):"
    );
    println!("  program and calibrate the tiles (256 images): {program:.2} s");
    println!("  first layer's tile on every image (shared by the variants): {layer0:.2} s");
    for (name, s) in &variants {
        println!("  {name} NMPU + later layers' tiles on every image: {s:.2} s");
    }
    let per_seed = 2.0 * (program + layer0)
        + 3.0 * variants.iter().map(|v| v.1).sum::<f64>() / 3.0
        + variants[0].1 * 2.0;
    println!(
        "  sum per seed {per_seed:.2} s of the measured {:.2} s; the rest: the per-layer element metrics (every element through the f64, FP16 and fixed models) and the float network",
        whole / 5.0
    );
}
