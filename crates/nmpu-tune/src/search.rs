//! The search: the cheapest candidate (by the cost model) that meets every budget.
//!
//! For each of fused and unfused and each rounding choice ([`starts`]), a descent starts
//! from the widest buildable candidate and repeatedly takes the cheapest move that keeps
//! every budget: one knob one, two or three fraction bits narrower, or a stage switched
//! to floor; where none is cheaper, pairs of changes (a bit traded for another, the
//! rounding adder for a bit). It stops when no move lowers the cost. Every evaluation is
//! remembered, so the Pareto fronts come from all candidates seen. Ties are broken on the
//! knobs' order: the result is deterministic. Why this finds the optimum on small spaces is tested against exhaustive enumeration
//! (tests/exhaustive.rs).

use crate::budget::metric;
use crate::cost::{features, CostModel};
use crate::judge::Judge;
use crate::metrics::Metrics;
use crate::space::{Knobs, Space};
use anyhow::Result;
use nmpu_config::NmpuConfig;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One evaluated candidate.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Evaluated {
    pub knobs: Knobs,
    pub config: NmpuConfig,
    pub metrics: Metrics,
    /// The cost model's lane area (um^2).
    pub area: f64,
    pub meets: bool,
    /// The worst metric over its limit, over every bound (<= 1 when it meets them).
    pub usage: f64,
}

impl Evaluated {
    /// What the descent minimises: first the budget (a candidate that misses it moves
    /// toward it), then the area; ties on the knobs' order.
    fn better_than(&self, o: &Evaluated) -> bool {
        match (self.meets, o.meets) {
            (true, false) => true,
            (false, true) => false,
            (true, true) => self.area < o.area,
            (false, false) => self.usage < o.usage,
        }
    }
}

/// What a search (or one shard of it) found.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Outcome {
    /// The cheapest candidate that meets every budget (`None`: not even the widest does).
    pub best: Option<Evaluated>,
    /// Every candidate evaluated, in knob order.
    pub evaluated: Vec<Evaluated>,
}

/// Where the descents start: the widest buildable candidate, unfused with each of the four
/// rounding choices and fused with each of its two. Independent descents, so a search can
/// be split across processes by start (`--shard`) and merged without changing its answer.
pub fn starts(space: &Space) -> Vec<Knobs> {
    let mut out = vec![];
    for fused in [false, true] {
        let Some(w) = space.widest(fused) else {
            continue;
        };
        let floors: &[[bool; 2]] = if fused {
            &[[false, false], [false, true]]
        } else {
            &[[false, false], [false, true], [true, false], [true, true]]
        };
        out.extend(floors.iter().map(|&floor| Knobs { floor, ..w }));
    }
    out
}

/// Searches `space` on `data` for the cheapest candidate meeting every bound, lanes
/// priced by `cost` with `words` coefficient words per bank. `progress` gets the number of
/// candidates evaluated so far.
pub fn search(
    space: &Space,
    judge: &Judge,
    cost: &CostModel,
    words: u32,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Outcome> {
    search_shard(space, judge, cost, words, (0, 1), progress)
}

/// Shard `i` of `n` of [`search`]: the descents from the starts `j` with `j % n == i`.
/// [`merge`] of all `n` shards equals the unsharded search.
pub fn search_shard(
    space: &Space,
    judge: &Judge,
    cost: &CostModel,
    words: u32,
    (shard, shards): (usize, usize),
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Outcome> {
    let mut seen: BTreeMap<Knobs, Option<Evaluated>> = BTreeMap::new();
    let mut ends = vec![];
    for (_, start) in starts(space)
        .into_iter()
        .enumerate()
        .filter(|(j, _)| j % shards.max(1) == shard)
    {
        // The widest candidate usually meets the budget; in a restricted space it may
        // not, and the descent then first moves toward the budget.
        let Some(mut here) = eval_all(space, judge, cost, words, &[start], &mut seen)?
            .pop()
            .flatten()
        else {
            continue;
        };
        progress(seen.len());
        // Descend with single changes, then polish with pairs; a polish step that finds
        // something cheaper goes back to single changes from there.
        let mut polish = false;
        loop {
            let moves = neighbours(space, &here.knobs, polish);
            let found = eval_all(space, judge, cost, words, &moves, &mut seen)?;
            progress(seen.len());
            let next = found
                .into_iter()
                .flatten()
                .filter(|e| e.better_than(&here))
                .reduce(|a, b| if b.better_than(&a) { b } else { a });
            match (next, polish) {
                (Some(e), _) => {
                    here = e;
                    polish = false;
                }
                (None, false) => polish = true,
                (None, true) => break,
            }
        }
        ends.push(here);
    }
    Ok(Outcome {
        best: cheapest(ends),
        evaluated: seen.into_values().flatten().collect(),
    })
}

/// The cheapest of `c` that meets the budget; ties on the knobs' order.
fn cheapest(c: impl IntoIterator<Item = Evaluated>) -> Option<Evaluated> {
    c.into_iter()
        .filter(|e| e.meets)
        .min_by(|a, b| a.area.total_cmp(&b.area).then(a.knobs.cmp(&b.knobs)))
}

/// The search of which `parts` are the shards: the cheapest of their answers, and every
/// candidate any of them evaluated.
pub fn merge(parts: impl IntoIterator<Item = Outcome>) -> Outcome {
    let mut all: BTreeMap<Knobs, Evaluated> = BTreeMap::new();
    let mut bests = vec![];
    for p in parts {
        bests.extend(p.best);
        for e in p.evaluated {
            all.insert(e.knobs, e);
        }
    }
    Outcome {
        best: cheapest(bests),
        evaluated: all.into_values().collect(),
    }
}

/// One change to a candidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Change {
    /// Knob `i` by `d` bits (negative: narrower).
    Frac(usize, i32),
    /// Stage `s` to floor (`true`) or back to round-half-even.
    Floor(usize, bool),
}

fn apply(space: &Space, k: &Knobs, changes: &[Change]) -> Option<Knobs> {
    let mut n = *k;
    for &c in changes {
        match c {
            Change::Frac(i, d) => {
                let (lo, hi) = space.frac_range(k.fused, i);
                let f = i64::from(n.frac[i]) + i64::from(d);
                if f < i64::from(lo) || f > i64::from(hi) {
                    return None;
                }
                n.frac[i] = f as u32;
            }
            Change::Floor(s, on) => {
                if n.floor[s] == on {
                    return None;
                }
                n.floor[s] = on;
            }
        }
    }
    Some(n)
}

/// The moves from `k`. Descent: one knob one, two or three bits narrower (the error is
/// not monotone in one knob's bits: a coarser grid can land closer, and a one-bit step
/// would stop at such a bump), or a stage to floor. Polish, in addition: every pair of a
/// saving change (a knob one or two bits narrower, a stage to floor) with another change
/// (a knob one bit narrower, one or two wider, a stage back to rounding): an expensive bit
/// traded for cheap ones, or the rounding adder for a bit; and every triple of two other
/// knobs one or two bits narrower with a result (affine or batch-norm) one or two bits
/// wider: coefficient bits traded for result bits, which no pair reaches when each
/// coefficient alone gives too little.
fn neighbours(space: &Space, k: &Knobs, polish: bool) -> Vec<Knobs> {
    let used = k.used();
    let stages: &[usize] = if k.fused { &[1] } else { &[0, 1] };
    let mut saving = vec![];
    let mut other = vec![];
    for &i in used {
        saving.extend([Change::Frac(i, -1), Change::Frac(i, -2)]);
        other.extend([Change::Frac(i, -1), Change::Frac(i, 1), Change::Frac(i, 2)]);
    }
    for &s in stages {
        saving.push(Change::Floor(s, true));
        other.push(Change::Floor(s, false));
    }
    let mut out: Vec<Knobs> = saving
        .iter()
        .chain(
            &used
                .iter()
                .map(|&i| Change::Frac(i, -3))
                .collect::<Vec<_>>(),
        )
        .filter_map(|c| apply(space, k, &[*c]))
        .collect();
    if polish {
        for a in &saving {
            for b in &other {
                let same_target = match (a, b) {
                    (Change::Frac(i, _), Change::Frac(j, _)) => i == j,
                    (Change::Floor(s, _), Change::Floor(t, _)) => s == t,
                    _ => false,
                };
                if !same_target {
                    out.extend(apply(space, k, &[*a, *b]));
                }
            }
        }
        for &r in used.iter().filter(|&&r| r >= 4) {
            for (x, &i) in used.iter().enumerate() {
                for &j in &used[x + 1..] {
                    if i == r || j == r {
                        continue;
                    }
                    for (di, dj, dr) in [-1, -2]
                        .into_iter()
                        .flat_map(|di| [-1, -2].map(|dj| (di, dj)))
                        .flat_map(|(di, dj)| [1, 2].map(|dr| (di, dj, dr)))
                    {
                        let moves = [
                            Change::Frac(i, di),
                            Change::Frac(j, dj),
                            Change::Frac(r, dr),
                        ];
                        out.extend(apply(space, k, &moves));
                    }
                }
            }
        }
    }
    out
}

/// Evaluates the candidates not seen before (in parallel) and returns all of them in
/// order (`None`: not buildable).
fn eval_all(
    space: &Space,
    judge: &Judge,
    cost: &CostModel,
    words: u32,
    ks: &[Knobs],
    seen: &mut BTreeMap<Knobs, Option<Evaluated>>,
) -> Result<Vec<Option<Evaluated>>> {
    let fresh: Vec<Knobs> = ks
        .iter()
        .filter(|k| !seen.contains_key(k))
        .copied()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let results: Vec<(Knobs, Option<Evaluated>)> = fresh
        .par_iter()
        .map(|k| -> Result<(Knobs, Option<Evaluated>)> {
            Ok((*k, evaluate_one(space, judge, cost, words, k)?))
        })
        .collect::<Result<_>>()?;
    seen.extend(results);
    Ok(ks.iter().map(|k| seen[k].clone()).collect())
}

/// One candidate: its config, metrics, modelled area, and whether it meets every bound.
pub fn evaluate_one(
    space: &Space,
    judge: &Judge,
    cost: &CostModel,
    words: u32,
    k: &Knobs,
) -> Result<Option<Evaluated>> {
    let Some(config) = space.config(k) else {
        return Ok(None);
    };
    let (verdict, _) = judge.judge(&config)?;
    let area = cost.area(&features(&config, words));
    Ok(Some(Evaluated {
        knobs: *k,
        config,
        metrics: verdict.metrics,
        area,
        meets: verdict.meets,
        usage: verdict.usage,
    }))
}

/// The Pareto front of `evaluated` in (area, `metric`): the candidates no other one beats
/// in both, by increasing area.
pub fn pareto<'a>(evaluated: &'a [Evaluated], metric_name: &str) -> Vec<&'a Evaluated> {
    let mut sorted: Vec<&Evaluated> = evaluated.iter().collect();
    sorted.sort_by(|a, b| {
        a.area
            .total_cmp(&b.area)
            .then(metric(&a.metrics, metric_name).total_cmp(&metric(&b.metrics, metric_name)))
            .then(a.knobs.cmp(&b.knobs))
    });
    let mut front: Vec<&Evaluated> = vec![];
    for e in sorted {
        let m = metric(&e.metrics, metric_name);
        if front
            .last()
            .is_none_or(|last| m < metric(&last.metrics, metric_name))
        {
            front.push(e);
        }
    }
    front
}
