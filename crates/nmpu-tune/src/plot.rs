//! The Pareto fronts as an SVG plot (plotters' SVG backend: text stays text).

use crate::budget::metric;
use crate::search::{pareto, Evaluated, Outcome};
use anyhow::{anyhow, Result};
use plotters::prelude::*;

/// The axis label of a metric of [`crate::report::FRONT_METRICS`].
fn label(metric_name: &str) -> &'static str {
    match metric_name {
        "added_rms" => "added RMS error (output LSB)",
        "mean_abs" => "mean |output - real| (output LSB)",
        "max_abs" => "max |output - real| (output LSB)",
        _ => "share of codes off the f64 code",
    }
}

/// Area against `metric_name` for every candidate (grey), the front (blue line), the
/// candidates that meet the budget (green) and the chosen one (red), as SVG text.
pub fn front_svg(outcome: &Outcome, metric_name: &str) -> Result<String> {
    let label = label(metric_name);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 600)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
        let pts: Vec<(f64, f64, &Evaluated)> = outcome
            .evaluated
            .iter()
            .map(|e| (e.area, metric(&e.metrics, metric_name), e))
            .filter(|(a, m, _)| a.is_finite() && m.is_finite())
            .collect();
        let xmax = pts.iter().map(|p| p.0).fold(1.0, f64::max) * 1.05;
        let ymax = pts.iter().map(|p| p.1).fold(1e-9, f64::max) * 1.05;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("nmpu tune: lane area vs {label}"),
                ("sans-serif", 22),
            )
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..xmax, 0.0..ymax)
            .map_err(|e| anyhow!("{e}"))?;
        chart
            .configure_mesh()
            .x_desc("lane area, um^2 (cost model, osu018)")
            .y_desc(label)
            .draw()
            .map_err(|e| anyhow!("{e}"))?;
        let grey = RGBColor(180, 180, 180);
        chart
            .draw_series(
                pts.iter()
                    .map(|&(x, y, _)| Circle::new((x, y), 2, grey.filled())),
            )
            .map_err(|e| anyhow!("{e}"))?;
        chart
            .draw_series(
                pts.iter()
                    .filter(|p| p.2.meets)
                    .map(|&(x, y, _)| Circle::new((x, y), 3, GREEN.filled())),
            )
            .map_err(|e| anyhow!("{e}"))?
            .label("meets the budget")
            .legend(|(x, y)| Circle::new((x, y), 3, GREEN.filled()));
        let front: Vec<(f64, f64)> = pareto(&outcome.evaluated, metric_name)
            .iter()
            .map(|e| (e.area, metric(&e.metrics, metric_name)))
            .collect();
        chart
            .draw_series(LineSeries::new(front, BLUE.stroke_width(2)))
            .map_err(|e| anyhow!("{e}"))?
            .label("Pareto front")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
        if let Some(b) = &outcome.best {
            let p = (b.area, metric(&b.metrics, metric_name));
            chart
                .draw_series([Circle::new(p, 6, RED.filled())])
                .map_err(|e| anyhow!("{e}"))?
                .label("chosen")
                .legend(|(x, y)| Circle::new((x, y), 5, RED.filled()));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| anyhow!("{e}"))?;
        root.present().map_err(|e| anyhow!("{e}"))?;
    }
    Ok(svg)
}
