//! The text `nmpu tune` prints about a finished run and its confirming syntheses.

use crate::budget::metric;
use crate::job::{model_error_percent, Confirmation, Finished, Prepared, Request};
use crate::lanes::LaneFigures;
use crate::report::formats;
use crate::search::Outcome;
use crate::Metrics;
use std::fmt::Write;

/// The budgets, the metrics of the base, tuned and FP16 designs (and on held-out data),
/// the SNR they cost against the noise budget's noise, and the formats.
pub fn summary(r: &Request, p: &Prepared, outcome: &Outcome, f: &Finished) -> String {
    let (cfg, cost) = (&r.config, &r.cost);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "nmpu tune: config {} ({} columns, {} lanes, {} coefficient words per lane); data: {}",
        r.config_name, cfg.columns, cfg.lanes, p.words, p.source
    );
    for b in &p.judge.first().bounds {
        let _ = writeln!(
            s,
            "budget: {} -> limits {:?} on the first tile",
            b.budget, b.limits
        );
    }
    let _ = writeln!(
        s,
        "judged on {} tile(s): the worst tile's budget usage plus {} standard deviation(s) of the tiles' usages must be at most 1",
        p.judge.tiles.len(),
        p.judge.margin
    );
    let _ = writeln!(
        s,
        "{} candidates evaluated; cost model: mean error {:.1} %, largest {:.1} % on {} synthesized lanes",
        outcome.evaluated.len(),
        cost.mean_error * 100.0,
        cost.max_error * 100.0,
        cost.samples
    );
    let _ = writeln!(
        s,
        "{:<10} {:>10} {:>9} {:>10} {:>10} {:>14}",
        "", "mean|err|", "max|err|", "codes off", "added RMS", "lane um^2 (model)"
    );
    let mut row = |name: &str, m: &Metrics, area: Option<f64>| {
        let _ = writeln!(
            s,
            "{name:<10} {:>10.4} {:>9.3} {:>9.3}% {:>10.4} {:>14}",
            m.mean_abs,
            m.max_abs,
            m.mismatch * 100.0,
            m.added_rms,
            area.map_or("-".into(), |x| format!("{x:.0}"))
        );
    };
    let (base, base_area) = f.base;
    row("base", &base, Some(base_area));
    row("tuned", &f.best.metrics, Some(f.best.area));
    row("fp16", &f.fp16, None);
    if let Some(h) = &f.holdout {
        row("held-out", &crate::judge::worst(&h.metrics), None);
        let (seed, usage) = h.worst();
        let (mean, sd) = h.spread();
        let over = h.usages.iter().filter(|&&u| u > 1.0).count();
        let _ = writeln!(
            s,
            "held-out tiles (seeds {} ..= {}): budget usage worst {usage:.3} (seed {seed}), mean {mean:.3}, sd {sd:.3}: the budget {}",
            h.seeds[0],
            h.seeds[h.seeds.len() - 1],
            if h.holds() {
                "holds on every one".to_string()
            } else {
                format!("does NOT hold on {over} of {} ({:.1} % over the limit)", h.seeds.len(), (usage - 1.0) * 100.0)
            }
        );
    }
    if let Some((sigma, [base, tuned, fp16])) = f.snr {
        let _ = writeln!(
            s,
            "SNR lost to the NMPU against an analog noise of {sigma:.3} output LSB RMS (first tile): base {base:.4} dB, tuned {tuned:.4} dB, fp16 {fp16:.4} dB"
        );
    }
    let _ = writeln!(s, "tuned formats: {}", formats(&f.best.config));
    let _ = writeln!(s, "base formats:  {}", formats(cfg));
    s
}

/// The confirming syntheses `got` (in the order of `c.jobs`) against the cost model.
pub fn confirmed(c: &Confirmation, got: &[LaneFigures], f: &Finished, words: u32) -> String {
    let mut s = confirmed_lanes(words, got, f.best.area, f.base.1);
    for (e, g) in c.others.iter().zip(&got[3..]) {
        let _ = writeln!(
            s,
            "  front point, {} {:.4}{}: {:.0} um^2 (model {:.0}, {:+.1} %); {}",
            f.shown,
            metric(&e.metrics, f.shown),
            if e.meets { " (meets the budget)" } else { "" },
            g.area_um2,
            e.area,
            model_error_percent(e.area, g),
            formats(&e.config)
        );
    }
    s
}

/// The first lines of a confirmation: the answer's, the FP16 and the base config's lanes
/// (`got[0..3]`, as [`crate::job::lane_jobs`] orders them) against their modelled areas.
pub fn confirmed_lanes(words: u32, got: &[LaneFigures], model: f64, base_model: f64) -> String {
    let (tuned, h, b) = (&got[0], &got[1], &got[2]);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "confirmed by synthesis (one lane, {words} words, osu018): tuned {:.0} um^2 (model {:.0}, {:+.1} %), {} transistors, Fmax {:.0} MHz",
        tuned.area_um2,
        model,
        model_error_percent(model, tuned),
        tuned.transistors,
        tuned.fmax_mhz
    );
    let _ = writeln!(
        s,
        "  FP16 lane {:.0} um^2, {} transistors, Fmax {:.0} MHz: FP16/tuned lane area = {:.2}",
        h.area_um2,
        h.transistors,
        h.fmax_mhz,
        h.area_um2 / tuned.area_um2
    );
    let _ = writeln!(
        s,
        "  base lane {:.0} um^2 (model {:.0}), {} transistors: base/tuned = {:.2}",
        b.area_um2,
        base_model,
        b.transistors,
        b.area_um2 / tuned.area_um2
    );
    s
}
