//! The descent against exhaustive enumeration: on a small box of candidates around the
//! descent's answer, no candidate that meets the budget is cheaper than the one it found.

use nmpu_config::NmpuConfig;
use nmpu_tile::synthetic::Synthetic;
use nmpu_tune::judge::{Judge, TileJudge, MARGIN};
use nmpu_tune::metrics::evaluate;
use nmpu_tune::search::{evaluate_one, search};
use nmpu_tune::space::Knobs;
use nmpu_tune::{Budget, CostModel, Space, TuneData};

fn setup(budget: Budget, seed: u64) -> (NmpuConfig, Judge, CostModel) {
    let cfg = NmpuConfig::from_toml_str("columns = 8\nlanes = 1\nin_bits = 9\n").unwrap();
    let tile = Synthetic::for_config(&cfg)
        .generate(&cfg, 200, seed)
        .unwrap();
    let data = TuneData::new(&cfg, tile.coeffs, &tile.rows).unwrap();
    let judge = Judge {
        tiles: vec![TileJudge::new(&cfg, data, &[budget]).unwrap()],
        margin: MARGIN,
    };
    // Any fixed positive model: the search minimises whatever it is given.
    let cost = CostModel {
        coefficients: [2000.0, 25.0, 9.0, 35.0, 7.0],
        mean_error: 0.0,
        max_error: 0.0,
        samples: 0,
    };
    (cfg, judge, cost)
}

/// Every combination of the used knobs within the space's ranges, both rounding choices.
fn enumerate(space: &Space, fused: bool) -> Vec<Knobs> {
    let used: &[usize] = if fused {
        &[0, 1, 5]
    } else {
        &[0, 1, 2, 3, 4, 5]
    };
    let mut all = vec![Knobs {
        fused,
        frac: [0; 6],
        floor: [false; 2],
    }];
    for &i in used {
        let (lo, hi) = space.frac_range(fused, i);
        all = all
            .into_iter()
            .flat_map(|k| {
                (lo..=hi).map(move |f| {
                    let mut n = k;
                    n.frac[i] = f;
                    n
                })
            })
            .collect();
    }
    let floors: &[[bool; 2]] = if fused {
        &[[false, false], [false, true]]
    } else {
        &[[false, false], [false, true], [true, false], [true, true]]
    };
    all.into_iter()
        .flat_map(|k| floors.iter().map(move |&floor| Knobs { floor, ..k }))
        .collect()
}

/// Budgets of each kind, on two data sets.
fn cases() -> Vec<(Budget, u64)> {
    let budgets = [
        Budget::Mean { limit: 0.2 },
        Budget::Mismatch { limit: 0.05 },
        Budget::Fp16,
        Budget::Noise {
            fraction: 0.1,
            noise: 0.01,
        },
    ];
    budgets.into_iter().flat_map(|b| [(b, 7), (b, 8)]).collect()
}

#[test]
fn the_descent_finds_the_cheapest_candidate_of_a_small_box() {
    for (budget, seed) in cases() {
        descent_matches_enumeration(budget, seed);
    }
}

fn descent_matches_enumeration(budget: Budget, seed: u64) {
    let (cfg, judge, cost) = setup(budget, seed);
    let free = Space::new(&cfg, &[&judge.first().data.coeffs]).unwrap();
    let found = search(&free, &judge, &cost, 8, &|_| {}).unwrap();
    let best = found
        .best
        .expect("the widest candidate meets a 0.2 LSB budget");
    assert!(best.meets);
    // A box of 4 values per knob around each branch's cheapest candidate that meets the
    // budget (fused and unfused).
    let mut space = free.clone();
    for fused in [false, true] {
        let centre = found
            .evaluated
            .iter()
            .filter(|e| e.meets && e.knobs.fused == fused)
            .min_by(|a, b| a.area.total_cmp(&b.area))
            .expect("both branches have a candidate that meets the budget")
            .knobs;
        for &i in centre.used() {
            let f = centre.frac[i];
            space.restrict(fused, i, f.saturating_sub(2), f + 1);
        }
    }
    let boxed = search(&space, &judge, &cost, 8, &|_| {}).unwrap();
    let boxed_best = boxed.best.expect("the box holds the free answer");
    let mut cheapest: Option<(f64, Knobs)> = None;
    let mut feasible = 0;
    for fused in [false, true] {
        for k in enumerate(&space, fused) {
            if let Some(e) = evaluate_one(&space, &judge, &cost, 8, &k).unwrap() {
                if e.meets {
                    feasible += 1;
                    if cheapest.is_none_or(|(a, _)| e.area < a) {
                        cheapest = Some((e.area, k));
                    }
                }
            }
        }
    }
    let (area, knobs) = cheapest.unwrap();
    assert!(
        feasible > 10,
        "{budget}: the box is not trivial: {feasible} feasible"
    );
    assert!(
        boxed_best.area <= area + 1e-9,
        "{budget}, seed {seed}: descent {:?} ({}) vs exhaustive {knobs:?} ({area})",
        boxed_best.knobs,
        boxed_best.area
    );
    // The free search (a larger space, another starting point) lands within 3 % of the
    // box's optimum: a local search's answer, measured rather than assumed.
    assert!(
        best.area <= area * 1.03,
        "{budget}, seed {seed}: free search {:?} ({}) vs the box's optimum {knobs:?} ({area})",
        best.knobs,
        best.area
    );
    eprintln!(
        "{budget}, seed {seed}: free {:.0}, box optimum {area:.0} ({:+.2} %), {feasible} feasible in the box",
        best.area,
        (best.area / area - 1.0) * 100.0
    );
}

#[test]
fn the_search_is_deterministic_and_its_answer_meets_the_budget_on_its_own() {
    let (cfg, judge, cost) = setup(Budget::Mean { limit: 0.2 }, 7);
    let space = Space::new(&cfg, &[&judge.first().data.coeffs]).unwrap();
    let a = search(&space, &judge, &cost, 8, &|_| {}).unwrap();
    let b = search(&space, &judge, &cost, 8, &|_| {}).unwrap();
    let (ba, bb) = (a.best.unwrap(), b.best.unwrap());
    assert_eq!(ba.knobs, bb.knobs);
    assert_eq!(a.evaluated.len(), b.evaluated.len());
    // Re-evaluating the written config gives the metrics the search saw.
    let again = evaluate(&ba.config, &judge.first().data).unwrap();
    assert_eq!(again, ba.metrics);
    assert!(again.mean_abs <= 0.2);
}
