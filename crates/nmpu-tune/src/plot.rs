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

/// What the plot marks beside the candidates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Marks {
    /// The budget's limit on the metric (the first tuning tile's).
    pub limit: f64,
    /// The base config: modelled lane area and metric.
    pub base: Option<(f64, f64)>,
    /// The FP16 baseline's metric, and its lane's area when synthesized.
    pub fp16: f64,
    pub fp16_area: Option<f64>,
}

/// Area against `metric_name` for every candidate (grey), the front (blue line), the
/// candidates that meet the budget (green), the chosen one (red), the budget's limit
/// (dashed), the base config (black square) and the FP16 baseline (its metric as a line;
/// its lane as a point when its area is known, with the area ratio), as SVG text.
pub fn front_svg(outcome: &Outcome, metric_name: &str, marks: &Marks) -> Result<String> {
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
        let extra_x = [marks.base.map(|b| b.0), marks.fp16_area];
        let xmax = pts
            .iter()
            .map(|p| p.0)
            .chain(extra_x.into_iter().flatten())
            .fold(1.0, f64::max)
            * 1.05;
        let extra_y = [Some(marks.limit), Some(marks.fp16), marks.base.map(|b| b.1)];
        let ymax = pts
            .iter()
            .map(|p| p.1)
            .chain(extra_y.into_iter().flatten().filter(|v| v.is_finite()))
            .fold(1e-9, f64::max)
            * 1.05;
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
            let ratio = marks.fp16_area.map_or(String::new(), |h| {
                format!(
                    " (FP16 lane synthesized / chosen modelled = {:.2})",
                    h / b.area
                )
            });
            chart
                .draw_series([Circle::new(p, 6, RED.filled())])
                .map_err(|e| anyhow!("{e}"))?
                .label(format!("chosen{ratio}"))
                .legend(|(x, y)| Circle::new((x, y), 5, RED.filled()));
        }
        let dashed = |y: f64| {
            (0..40).map(move |i| {
                let x0 = xmax * f64::from(i) / 40.0;
                PathElement::new(vec![(x0, y), (x0 + xmax / 80.0, y)], BLACK)
            })
        };
        chart
            .draw_series(dashed(marks.limit))
            .map_err(|e| anyhow!("{e}"))?
            .label("budget limit")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 8, y)], BLACK));
        let orange = RGBColor(230, 120, 0);
        chart
            .draw_series(LineSeries::new(
                [(0.0, marks.fp16), (xmax, marks.fp16)],
                orange,
            ))
            .map_err(|e| anyhow!("{e}"))?
            .label("FP16 baseline's error")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], orange));
        if let Some(a) = marks.fp16_area {
            chart
                .draw_series([TriangleMarker::new((a, marks.fp16), 8, orange.filled())])
                .map_err(|e| anyhow!("{e}"))?
                .label("FP16 lane (synthesized)")
                .legend(move |(x, y)| TriangleMarker::new((x, y), 5, orange.filled()));
        }
        if let Some(b) = marks.base {
            chart
                .draw_series([Rectangle::new(
                    [
                        (b.0 - xmax / 150.0, b.1 - ymax / 100.0),
                        (b.0 + xmax / 150.0, b.1 + ymax / 100.0),
                    ],
                    BLACK.filled(),
                )])
                .map_err(|e| anyhow!("{e}"))?
                .label("base config (modelled)")
                .legend(|(x, y)| Rectangle::new([(x - 4, y - 4), (x + 4, y + 4)], BLACK.filled()));
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
