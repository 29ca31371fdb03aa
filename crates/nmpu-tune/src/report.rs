//! What a search writes: the tuned config with a header, the Pareto fronts as CSV and
//! JSON, and a summary table.

use crate::budget::metric;
use crate::job::Holdout;
use crate::judge::{worst, Judge};
use crate::search::{pareto, Evaluated, Outcome};
use crate::space::NAMES;
use nmpu_config::{NmpuConfig, QFormat};
use serde::Serialize;
use std::fmt::Write;

/// The metrics a front is drawn for.
pub const FRONT_METRICS: [&str; 4] = ["added_rms", "mean_abs", "max_abs", "mismatch"];

fn fmt_q(f: &QFormat) -> String {
    format!(
        "{}{}.{} ({} bits)",
        if f.signed { "s" } else { "u" },
        f.int,
        f.frac,
        f.width()
    )
}

/// The formats a config uses, in one line.
pub fn formats(cfg: &NmpuConfig) -> String {
    let c = &cfg.coefficients;
    if cfg.fuse_affine_bn {
        format!(
            "fused: a' {}, b' {}, result {} {}",
            fmt_q(&c.a),
            fmt_q(&c.b),
            fmt_q(&cfg.batch_norm.format),
            cfg.batch_norm.rounding.name()
        )
    } else {
        format!(
            "a {}, b {}, affine {} {} {}, g {}, h {}, batch_norm {} {}",
            fmt_q(&c.a),
            fmt_q(&c.b),
            fmt_q(&cfg.affine.format),
            cfg.affine.rounding.name(),
            cfg.affine.overflow.name(),
            fmt_q(&c.g),
            fmt_q(&c.h),
            fmt_q(&cfg.batch_norm.format),
            cfg.batch_norm.rounding.name()
        )
    }
}

/// The tuned config as TOML, with a header saying what it was tuned for and how it did:
/// the budget, the worst metrics over the tuning tiles, the held-out tiles' worst and
/// spread, the modelled area and the formats.
pub fn tuned_toml(
    best: &Evaluated,
    judge: &Judge,
    holdout: Option<&Holdout>,
    source: &str,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Tuned by `nmpu tune` on {source}.");
    for b in &judge.first().bounds {
        let _ = writeln!(
            s,
            "# Budget: {}: limits {:?} (first tile)",
            b.budget, b.limits
        );
    }
    let m = &best.metrics;
    let _ = writeln!(
        s,
        "# Worst over the {} tuning tile(s): mean |error| {:.4} LSB, max {:.3}, codes off {:.3} %, added RMS {:.4} LSB; budget usage with margin {:.3}.",
        judge.tiles.len(),
        m.mean_abs,
        m.max_abs,
        m.mismatch * 100.0,
        m.added_rms,
        best.usage
    );
    if let Some(h) = holdout {
        let w = worst(&h.metrics);
        let (seed, usage) = h.worst();
        let (mean, sd) = h.spread();
        let _ = writeln!(
            s,
            "# Worst over {} held-out tiles: mean |error| {:.4} LSB, max {:.3}, codes off {:.3} %, added RMS {:.4} LSB; budget usage {usage:.3} (tile seed {seed}), mean {mean:.3}, sd {sd:.3}{}.",
            h.seeds.len(),
            w.mean_abs,
            w.max_abs,
            w.mismatch * 100.0,
            w.added_rms,
            if h.holds() { "" } else { ": MISSES the budget (kept with --allow-miss)" }
        );
    }
    let _ = writeln!(
        s,
        "# Lane area (cost model, osu018): {:.0} um^2. Formats: {}.",
        best.area,
        formats(&best.config)
    );
    s + &best.config.to_toml_string()
}

#[derive(Serialize)]
struct FrontPoint<'a> {
    metric: &'a str,
    value: f64,
    area_um2: f64,
    meets: bool,
    fused: bool,
    frac: [u32; 6],
    floor: [bool; 2],
    formats: String,
}

fn front_points(outcome: &Outcome) -> Vec<FrontPoint<'static>> {
    let mut out = vec![];
    for name in FRONT_METRICS {
        for e in pareto(&outcome.evaluated, name) {
            out.push(FrontPoint {
                metric: name,
                value: metric(&e.metrics, name),
                area_um2: e.area,
                meets: e.meets,
                fused: e.knobs.fused,
                frac: e.knobs.frac,
                floor: e.knobs.floor,
                formats: formats(&e.config),
            });
        }
    }
    out
}

/// The Pareto fronts (area vs each metric of [`FRONT_METRICS`]) as CSV.
pub fn pareto_csv(outcome: &Outcome) -> String {
    let mut s = format!(
        "metric,value,area_um2,meets_budget,fused,{},affine_floor,batch_norm_floor,formats\n",
        NAMES.map(|n| format!("{n}_frac")).join(",")
    );
    for p in front_points(outcome) {
        let _ = writeln!(
            s,
            "{},{},{:.1},{},{},{},{},{},\"{}\"",
            p.metric,
            p.value,
            p.area_um2,
            p.meets,
            p.fused,
            p.frac.map(|f| f.to_string()).join(","),
            p.floor[0],
            p.floor[1],
            p.formats
        );
    }
    s
}

/// The same fronts as JSON.
pub fn pareto_json(outcome: &Outcome) -> String {
    serde_json::to_string_pretty(&front_points(outcome)).expect("plain data serializes")
}
