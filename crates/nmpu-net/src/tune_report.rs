//! The accuracy search's outputs: its summary, the tuned TOML with a header saying how it
//! was judged, the judged configs as CSV, the front as SVG, and the lanes that confirm it
//! by synthesis.

use crate::tune::{Judged, Outcome};
use anyhow::{anyhow, Result};
use nmpu_config::NmpuConfig;
use nmpu_tune::job::{lane_jobs, model_error_percent, nearest_in_area};
use nmpu_tune::lanes::{LaneFigures, LaneJob};
use nmpu_tune::summary::confirmed_lanes;
use plotters::prelude::*;
use std::cmp::Ordering;
use std::fmt::Write;

fn pts(x: f64) -> String {
    format!("{:+.3}", 100.0 * x)
}

fn seeds(s: &[u64]) -> String {
    match (s.first(), s.last()) {
        (Some(a), Some(b)) if s.len() > 1 => format!("{a} ..= {b}"),
        (Some(a), _) => a.to_string(),
        _ => "none".into(),
    }
}

/// One judged config's line.
fn line(j: &Judged) -> String {
    let a = &j.accuracy;
    format!(
        "drop {} points (se {:.3}, usage {:.2}{}), lane {:.0} um^2; {}",
        pts(a.mean),
        100.0 * a.se,
        a.usage,
        if a.meets { ", meets" } else { "" },
        j.area,
        j.formats
    )
}

/// What `nmpu tune --budget accuracy=D` prints.
pub fn summary(o: &Outcome, config: &str) -> String {
    let mut s = String::new();
    let fp16 = o.fp16_validation.iter().sum::<f64>() / o.fp16_validation.len().max(1) as f64;
    let _ = writeln!(
        s,
        "nmpu tune: accuracy budget {} points below the FP16 NMPU; {}, network {}; config {config} ({} coefficient words per lane)",
        o.budget_points, o.dataset, o.network, o.words
    );
    let _ = writeln!(
        s,
        "judged on {} validation images (held back from training) x {} analog seeds ({}): FP16 NMPU {:.2} %; a config meets the budget when its mean drop + {} standard errors is at most {} points",
        o.validation_images,
        o.tuning_seeds.len(),
        seeds(&o.tuning_seeds),
        100.0 * fp16,
        o.margin,
        o.budget_points
    );
    let _ = writeln!(
        s,
        "{} element candidates searched ({} added-RMS levels), {} configs judged by accuracy; the front (lane area, mean drop):",
        o.searched,
        crate::tune::LADDER.len(),
        o.judged.len()
    );
    for j in o.front() {
        let mark = if o.best().is_some_and(|b| std::ptr::eq(b, j)) {
            "->"
        } else {
            "  "
        };
        let _ = writeln!(s, "{mark} {}", line(j));
    }
    let _ = writeln!(s, "base: {}", line(&o.base));
    match (o.best(), &o.holdout) {
        (None, _) => {
            let _ = writeln!(s, "no config meets the budget");
        }
        (Some(b), h) => {
            let _ = writeln!(
                s,
                "tuned: {} (model {:.0} um^2, base {:.0}: {:.2}x smaller)",
                b.formats,
                b.area,
                o.base.area,
                o.base.area / b.area
            );
            if let Some(h) = h {
                let _ = writeln!(
                    s,
                    "test set ({} images, unseen seeds {}): FP16 {:.2} %, tuned {:.2} %, drop {} points, 95 % interval [{}, {}]: {}{}",
                    h.images,
                    seeds(&h.seeds),
                    100.0 * h.fp16.iter().sum::<f64>() / h.fp16.len() as f64,
                    100.0 * h.fixed.iter().sum::<f64>() / h.fixed.len() as f64,
                    pts(h.mean),
                    pts(h.interval.0),
                    pts(h.interval.1),
                    if h.holds {
                        "the budget holds"
                    } else {
                        "MISSES the budget"
                    },
                    if h.saturated > 0 {
                        format!("; {} coefficients saturated", h.saturated)
                    } else {
                        String::new()
                    }
                );
            }
        }
    }
    s
}

/// The tuned config with its header (`None`: nothing met the budget).
pub fn tuned_toml(o: &Outcome) -> Option<String> {
    let b = o.best()?;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Tuned by `nmpu tune --budget accuracy={}` on {} ({}): the fixed-point NMPU at most {} points below the FP16 NMPU.",
        o.budget_points, o.dataset, o.network, o.budget_points
    );
    let _ = writeln!(
        s,
        "# Validation ({} images x {} analog seeds {}): mean drop {} points, standard error {:.3}, budget usage with margin {:.3}.",
        o.validation_images,
        o.tuning_seeds.len(),
        seeds(&o.tuning_seeds),
        pts(b.accuracy.mean),
        100.0 * b.accuracy.se,
        b.accuracy.usage
    );
    if let Some(h) = &o.holdout {
        let _ = writeln!(
            s,
            "# Test set ({} images x unseen seeds {}): drop {} points, 95 % interval [{}, {}]{}.",
            h.images,
            seeds(&h.seeds),
            pts(h.mean),
            pts(h.interval.0),
            pts(h.interval.1),
            if h.holds {
                ""
            } else {
                ": MISSES the budget (kept with --allow-miss)"
            }
        );
    }
    let _ = writeln!(
        s,
        "# Lane area (cost model, osu018): {:.0} um^2. Formats: {}.",
        b.area, b.formats
    );
    Some(s + &b.config.to_toml_string())
}

/// Every judged config, by area.
pub fn judged_csv(o: &Outcome) -> String {
    let mut s = String::from(
        "area_um2,drop_points,se_points,usage,meets,level_added_rms,added_rms,formats\n",
    );
    for j in &o.judged {
        let _ = writeln!(
            s,
            "{:.1},{:.4},{:.4},{:.4},{},{},{:.5},\"{}\"",
            j.area,
            100.0 * j.accuracy.mean,
            100.0 * j.accuracy.se,
            j.accuracy.usage,
            j.accuracy.meets,
            j.level.map_or(String::new(), |l| l.to_string()),
            j.element.added_rms,
            j.formats
        );
    }
    s
}

/// Lane area against the validation drop for every judged config (bars: the margin), the
/// budget (dashed), the answer (red), the base config (black square), and the FP16 lane's
/// area when synthesized.
pub fn front_svg(o: &Outcome, fp16_area: Option<f64>) -> Result<String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (900, 600)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
        let p = |x: f64| 100.0 * x;
        let all = o.judged.iter().chain([&o.base]);
        let (ylo, yhi) = all
            .clone()
            .fold((-o.budget_points, o.budget_points), |(a, b), j| {
                let m = o.margin * j.accuracy.se;
                (a.min(p(j.accuracy.mean - m)), b.max(p(j.accuracy.mean + m)))
            });
        let xmax = all.map(|j| j.area).chain(fp16_area).fold(1.0, f64::max) * 1.05;
        let pad = 0.05 * (yhi - ylo);
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "nmpu tune: accuracy budget {} points ({})",
                    o.budget_points, o.dataset
                ),
                ("sans-serif", 22),
            )
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..xmax, (ylo - pad)..(yhi + pad))
            .map_err(|e| anyhow!("{e}"))?;
        chart
            .configure_mesh()
            .x_desc("lane area, um^2 (cost model, osu018)")
            .y_desc("accuracy drop vs FP16, points (validation)")
            .draw()
            .map_err(|e| anyhow!("{e}"))?;
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, o.budget_points), (xmax, o.budget_points)],
                6,
                4,
                BLACK.stroke_width(1),
            ))
            .map_err(|e| anyhow!("{e}"))?
            .label(format!("budget {} points", o.budget_points))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
        let green = RGBColor(0, 140, 60);
        let grey = RGBColor(150, 150, 150);
        for j in &o.judged {
            let c = if j.accuracy.meets { green } else { grey };
            let (m, e) = (p(j.accuracy.mean), p(o.margin * j.accuracy.se));
            chart
                .draw_series([
                    PathElement::new(vec![(j.area, m - e), (j.area, m + e)], c.stroke_width(1)),
                    PathElement::new(vec![(j.area, m), (j.area, m)], c),
                ])
                .map_err(|e| anyhow!("{e}"))?;
            chart
                .draw_series([Circle::new((j.area, m), 4, c.filled())])
                .map_err(|e| anyhow!("{e}"))?;
        }
        if let Some(b) = o.best() {
            chart
                .draw_series([Circle::new(
                    (b.area, p(b.accuracy.mean)),
                    7,
                    RED.stroke_width(2),
                )])
                .map_err(|e| anyhow!("{e}"))?
                .label(format!("tuned: {:.0} um^2", b.area))
                .legend(|(x, y)| Circle::new((x + 10, y), 5, RED.stroke_width(2)));
        }
        let base = (o.base.area, p(o.base.accuracy.mean));
        chart
            .draw_series([Rectangle::new(
                [
                    (base.0 * 0.99, base.1 - 0.003),
                    (base.0 * 1.01, base.1 + 0.003),
                ],
                BLACK.filled(),
            )])
            .map_err(|e| anyhow!("{e}"))?
            .label("base config")
            .legend(|(x, y)| Rectangle::new([(x + 5, y - 4), (x + 13, y + 4)], BLACK.filled()));
        if let Some(a) = fp16_area {
            let blue = RGBColor(0, 90, 181);
            chart
                .draw_series(LineSeries::new(
                    [(a, ylo - pad), (a, yhi + pad)],
                    blue.stroke_width(2),
                ))
                .map_err(|e| anyhow!("{e}"))?
                .label(format!("FP16 lane {a:.0} um^2 (synthesized)"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], blue));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(|e| anyhow!("{e}"))?;
        root.present().map_err(|e| anyhow!("{e}"))?;
    }
    Ok(out)
}

/// The lanes that confirm the answer: the tuned lane, the FP16 and base lanes, then the
/// `k - 1` front points nearest the tuned one in area.
pub fn confirmation<'a>(
    o: &'a Outcome,
    base: &NmpuConfig,
    k: u32,
) -> (Vec<LaneJob>, Vec<&'a Judged>) {
    let Some(best) = o.best() else {
        return (vec![], vec![]);
    };
    let front: Vec<&Judged> = o
        .front()
        .into_iter()
        .filter(|j| !std::ptr::eq(*j, best))
        .collect();
    let others = nearest_in_area(front, |j| j.area, best.area, k, |_, _| Ordering::Equal);
    let jobs = lane_jobs(
        &best.config,
        base,
        o.words,
        others.iter().map(|j| &j.config),
    );
    (jobs, others)
}

/// The syntheses `got` (in the order of [`confirmation`]'s jobs) against the model.
pub fn confirmed(o: &Outcome, others: &[&Judged], got: &[LaneFigures]) -> String {
    let Some(best) = o.best() else {
        return String::new();
    };
    let mut s = confirmed_lanes(o.words, got, best.area, o.base.area);
    let fp16 = &got[1];
    for (j, g) in others.iter().zip(&got[3..]) {
        let _ = writeln!(
            s,
            "  front point, drop {} points{}: {:.0} um^2 (model {:.0}, {:+.1} %), FP16/this = {:.2}; {}",
            pts(j.accuracy.mean),
            if j.accuracy.meets { " (meets)" } else { "" },
            g.area_um2,
            j.area,
            model_error_percent(j.area, g),
            fp16.area_um2 / g.area_um2,
            j.formats
        );
    }
    s
}
