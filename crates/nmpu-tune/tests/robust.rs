//! The tuned config holds its budget on tiles the search did not see: three configs
//! (256 columns of 13-bit codes unfused, 64 of 11-bit, 32 of 9-bit fused), ten tuning seeds
//! each, every answer checked on five held-out tiles with the default budget, tiles and
//! margin. Release builds only: about a minute there, several in a debug build.

use nmpu_config::NmpuConfig;
use nmpu_tune::budget::{Budget, DEFAULT_NOISE, DEFAULT_NOISE_FRACTION};
use nmpu_tune::job::{holdout, prepare, run_shard, Request, HOLDOUT_TILES, TILES};
use nmpu_tune::judge::MARGIN;

fn request(toml: &str, seed: u64) -> Request {
    Request {
        config: NmpuConfig::from_toml_str(toml).unwrap(),
        config_name: toml.into(),
        coeffs: None,
        input: None,
        rows: 1000,
        seed,
        budgets: vec![Budget::Noise {
            fraction: DEFAULT_NOISE_FRACTION,
            noise: DEFAULT_NOISE,
        }],
        tiles: TILES,
        holdout_tiles: HOLDOUT_TILES,
        holdout_seed: None,
        margin: MARGIN,
        cost: nmpu_tune::cost::shipped(),
    }
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "slow in a debug build: cargo test --release"
)]
fn every_tuned_config_holds_its_budget_on_held_out_tiles() {
    let configs = [
        "",
        "columns = 64\nlanes = 8\nin_bits = 11",
        "columns = 32\nlanes = 4\nin_bits = 9\nfuse_affine_bn = true",
    ];
    let mut missed = vec![];
    for toml in configs {
        for seed in 1..=10 {
            let r = request(toml, seed);
            let p = prepare(&r).unwrap();
            let o = run_shard(&p, &r.cost, (0, 1), &|_| {}).unwrap();
            let best = o.best.expect("the widest formats meet the budget");
            let h = holdout(&r, &best.config).unwrap().unwrap();
            let (tile, usage) = h.worst();
            eprintln!(
                "[{}] seed {seed}: worst held-out usage {usage:.3} (tile {tile}), area {:.0}",
                toml.replace('\n', ", "),
                best.area
            );
            if !h.holds() {
                missed.push(format!("[{toml}] seed {seed}: {usage:.3} on tile {tile}"));
            }
        }
    }
    assert!(
        missed.is_empty(),
        "missed on held-out tiles:\n{}",
        missed.join("\n")
    );
}
