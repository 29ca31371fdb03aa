//! The accuracy report as a table and as an SVG plot (accuracy per seed, per variant).

use crate::accuracy::Report;
use crate::stats::REPLICATES;
use anyhow::{anyhow, Result};
use plotters::prelude::*;
use std::fmt::Write;

fn pct(x: f64) -> String {
    format!("{:.2}", 100.0 * x)
}

/// A difference in points with its sign.
fn points(x: f64) -> String {
    format!("{:+.2}", 100.0 * x)
}

/// `1 ..= 5` or `1, 4, 9`.
fn seed_list(s: &[u64]) -> String {
    let consecutive = s.windows(2).all(|w| w[1] == w[0].wrapping_add(1));
    match (s.first(), s.last()) {
        (Some(a), Some(b)) if consecutive && s.len() > 2 => format!("{a} ..= {b}"),
        _ => s.iter().map(u64::to_string).collect::<Vec<_>>().join(", "),
    }
}

/// The table `nmpu accuracy` prints (accuracies in percent, differences in points).
pub fn table(r: &Report, config: &str) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "nmpu accuracy: {} ({} test images), network {}, NMPU config {config}, {} analog seed(s) ({})",
        r.dataset,
        r.images,
        r.network,
        r.seeds.len(),
        seed_list(&r.seeds)
    );
    let _ = writeln!(
        t,
        "{:<22} {:>7} {:>6} {:>7} {:>7}   per seed (%)",
        "accuracy (%)", "mean", "sd", "min", "max"
    );
    let _ = writeln!(t, "{:<22} {:>7}", "float network", pct(r.float));
    for v in &r.variants {
        let s = &v.spread;
        let per: Vec<String> = v.per_seed.iter().map(|&x| pct(x)).collect();
        let _ = writeln!(
            t,
            "{:<22} {:>7} {:>6} {:>7} {:>7}   {}",
            v.label,
            pct(s.mean),
            format!("{:.2}", 100.0 * s.sd),
            pct(s.min),
            pct(s.max),
            per.join(" ")
        );
    }
    let p = &r.paired;
    let _ = writeln!(
        t,
        "fixed - FP16, paired (same tiles, mismatch and noise draws per seed), points:"
    );
    for s in &p.per_seed {
        let _ = writeln!(
            t,
            "  seed {:<4} {:>6}   images right only with fixed {:>4}, only with FP16 {:>4}, McNemar p = {:.3}",
            s.seed,
            points(s.diff),
            s.fixed_only,
            s.fp16_only,
            s.p_value
        );
    }
    let _ = writeln!(
        t,
        "  mean {} points, 95 % interval [{}, {}] (bootstrap over seeds and images, {REPLICATES} replicates)",
        points(p.mean),
        points(p.interval.0),
        points(p.interval.1)
    );
    let _ = writeln!(
        t,
        "per layer, each NMPU against the f64 NMPU on the layer's ADC codes (worst seed; output LSBs):"
    );
    let _ = writeln!(
        t,
        "  {:<6} {:>7} {:>10}  {:<6} {:>9} {:>8} {:>9} {:>9}  saturated",
        "layer", "columns", "elements", "NMPU", "mean|err|", "max|err|", "codes off", "added RMS"
    );
    for l in &r.layers {
        for (name, m, sat) in [
            ("FP16", &l.fp16, None),
            ("fixed", &l.fixed, Some(l.saturated)),
        ] {
            let _ = writeln!(
                t,
                "  {:<6} {:>7} {:>10}  {:<6} {:>9.4} {:>8.3} {:>8.3}% {:>9.4}  {}",
                l.layer,
                l.columns,
                l.elements,
                name,
                m.mean_abs,
                m.max_abs,
                100.0 * m.mismatch,
                m.added_rms,
                sat.map_or(String::new(), |s| format!("{s} coefficients"))
            );
        }
    }
    t
}

/// Accuracy per seed for every variant (one line each), the float network dashed.
pub fn svg(r: &Report, config: &str) -> Result<String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (900, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
        let all = r
            .variants
            .iter()
            .flat_map(|v| v.per_seed.iter().copied())
            .chain([r.float]);
        let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
        let pad = ((hi - lo) * 0.1).max(0.001);
        let n = r.seeds.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("nmpu accuracy: {}, config {config}", r.dataset),
                ("sans-serif", 22),
            )
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(
                -0.5..(n as f64 - 0.5),
                100.0 * (lo - pad)..100.0 * (hi + pad),
            )
            .map_err(|e| anyhow!("{e}"))?;
        let seeds = r.seeds.clone();
        chart
            .configure_mesh()
            .x_desc("analog seed")
            .y_desc("test accuracy (%)")
            .x_labels(n)
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-9 && i >= 0.0 && (i as usize) < seeds.len() {
                    seeds[i as usize].to_string()
                } else {
                    String::new()
                }
            })
            .draw()
            .map_err(|e| anyhow!("{e}"))?;
        chart
            .draw_series(DashedLineSeries::new(
                [(-0.5, 100.0 * r.float), (n as f64 - 0.5, 100.0 * r.float)],
                6,
                4,
                BLACK.stroke_width(1),
            ))
            .map_err(|e| anyhow!("{e}"))?
            .label(format!("float network {:.2} %", 100.0 * r.float))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
        let colours = [
            RGBColor(0, 0, 0),
            RGBColor(220, 50, 32),
            RGBColor(0, 90, 181),
            RGBColor(150, 150, 150),
            RGBColor(64, 176, 166),
        ];
        for (k, v) in r.variants.iter().enumerate() {
            let c = colours[k % colours.len()];
            // Spread the variants sideways a little so equal points stay visible.
            let dx = (k as f64 - 2.0) * 0.04;
            let pts: Vec<(f64, f64)> = v
                .per_seed
                .iter()
                .enumerate()
                .map(|(i, &a)| (i as f64 + dx, 100.0 * a))
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), c.stroke_width(1)))
                .map_err(|e| anyhow!("{e}"))?
                .label(format!("{} {:.2} %", v.label, 100.0 * v.spread.mean))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c));
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 4, c.filled())))
                .map_err(|e| anyhow!("{e}"))?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(|e| anyhow!("{e}"))?;
        root.present().map_err(|e| anyhow!("{e}"))?;
    }
    Ok(out)
}
