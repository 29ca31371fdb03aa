//! `nmpu report`: the fixed-point NMPU and the FP16 baseline side by side on one config:
//! synthesis figures (the whole unit, and one lane's datapath alone), latency, throughput
//! per area, and accuracy against the f64 reference on the same data.

use crate::io::describe_config;
use crate::synth::{blocks, synth, BlockCost, GenericCost};
use anyhow::Result;
use nmpu_config::NmpuConfig;
use nmpu_model::{Comparison, EngineReport, TileModel};
use nmpu_rtl::generate::Datapath;
use serde::Serialize;
use std::fmt::Write;
use std::path::Path;

/// The paper's area ratio: its fixed-point NMPU is 7.8x smaller than the FP16 unit.
pub const PAPER_AREA_RATIO: f64 = 7.8;

/// One datapath's figures.
#[derive(Clone, Debug, Serialize)]
pub struct Side {
    pub module: &'static str,
    /// The config as given: coefficient memories of `columns / lanes` entries included.
    pub unit: GenericCost,
    /// One lane and one column (a single coefficient set): the arithmetic of a lane.
    pub lane: GenericCost,
    /// The same lane on the iCE40 (with --ice40).
    pub ice40_one_lane: Option<crate::synth::Ice40Cost>,
    pub latency_cycles: usize,
    /// Output elements per clock (one beat of `lanes` per clock).
    pub elements_per_cycle: u32,
    pub accuracy: EngineReport,
}

impl Side {
    /// Elements per clock per million transistors of the whole unit.
    pub fn throughput_per_area(&self) -> f64 {
        f64::from(self.elements_per_cycle) / (self.unit.transistors as f64 / 1e6)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub config_fingerprint: u64,
    pub columns: u32,
    pub lanes: u32,
    pub rows: usize,
    pub seed: u64,
    pub fixed: Side,
    pub fp16: Side,
}

impl Report {
    /// FP16 transistors over fixed-point transistors (the unit as configured).
    pub fn area_ratio(&self) -> f64 {
        self.fp16.unit.transistors as f64 / self.fixed.unit.transistors as f64
    }

    pub fn lane_area_ratio(&self) -> f64 {
        self.fp16.lane.transistors as f64 / self.fixed.lane.transistors as f64
    }
}

fn variant(cfg: &NmpuConfig, columns: u32, lanes: u32) -> NmpuConfig {
    let mut c = cfg.clone();
    c.columns = columns;
    c.lanes = lanes;
    c
}

fn one(costs: Vec<BlockCost>) -> BlockCost {
    costs
        .into_iter()
        .next()
        .expect("synth returns one cost per block")
}

pub struct ReportArgs<'a> {
    pub rows: usize,
    pub seed: u64,
    pub ice40: bool,
    pub work: &'a Path,
}

/// Synthesizes both datapaths (the unit as configured, one lane) and runs the accuracy
/// comparison. One lane rather than `columns = lanes`: that variant of the default config
/// kept ABC busy for over 18 minutes (the whole unit takes about 3), and a lane is the
/// unit of the datapath anyway.
pub fn build(cfg: &NmpuConfig, a: &ReportArgs, progress: impl Fn(&str)) -> Result<Report> {
    anyhow::ensure!(a.rows > 0, "--rows must be at least 1");
    let tile = TileModel::default().generate(cfg, a.rows, a.seed);
    progress("accuracy: fixed-point and FP16 golden models against f64 on the same data");
    let cmp: Comparison = nmpu_model::compare(cfg, &tile.coeffs, &tile.rows)?;
    let lane_cfg = variant(cfg, 1, 1);
    let mut sides = vec![];
    for (d, accuracy) in [(Datapath::Fixed, cmp.fixed), (Datapath::Fp16, cmp.fp16)] {
        let m = d.module();
        let block = blocks(m)?;
        let run = |c: &NmpuConfig, what: &str, ice40: bool| -> Result<BlockCost> {
            progress(&format!("{m}: synthesis, {what}"));
            let dir = a.work.join(what.replace(' ', "-"));
            Ok(one(synth(c, &block, ice40, &dir, &progress)?))
        };
        let unit = run(cfg, "as configured", false)?;
        let lane = if lane_cfg == *cfg && !a.ice40 {
            unit.clone()
        } else {
            run(&lane_cfg, "one lane", a.ice40)?
        };
        sides.push(Side {
            module: m,
            unit: unit.generic,
            lane: lane.generic,
            ice40_one_lane: lane.ice40,
            latency_cycles: d.latency(),
            elements_per_cycle: cfg.lanes,
            accuracy,
        });
    }
    let fp16 = sides.pop().expect("two sides");
    let fixed = sides.pop().expect("two sides");
    Ok(Report {
        config_fingerprint: cfg.fingerprint(),
        columns: cfg.columns,
        lanes: cfg.lanes,
        rows: a.rows,
        seed: a.seed,
        fixed,
        fp16,
    })
}

fn ratio(fixed: f64, fp16: f64) -> String {
    if fixed == 0.0 {
        "-".into()
    } else {
        format!("{:.2}", fp16 / fixed)
    }
}

fn line(s: &mut String, name: &str, fixed: f64, fp16: f64, digits: usize) {
    let _ = writeln!(
        s,
        "  {name:<40} {fixed:>14.digits$} {fp16:>14.digits$} {:>10}",
        ratio(fixed, fp16)
    );
}

fn costs(s: &mut String, f: &GenericCost, h: &GenericCost) {
    line(s, "cells", f.cells as f64, h.cells as f64, 0);
    line(s, "flip-flops", f.flip_flops as f64, h.flip_flops as f64, 0);
    line(
        s,
        "transistors (estimate)",
        f.transistors as f64,
        h.transistors as f64,
        0,
    );
    line(
        s,
        "logic depth (cells, longest path)",
        f.logic_depth as f64,
        h.logic_depth as f64,
        0,
    );
}

/// The readable side-by-side table.
pub fn render(r: &Report, config: Option<&Path>) -> String {
    let (f, h) = (&r.fixed, &r.fp16);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "nmpu report: config {} ({} columns, {} lanes, fingerprint {})",
        describe_config(config),
        r.columns,
        r.lanes,
        r.config_fingerprint
    );
    let _ = writeln!(
        s,
        "  {:<40} {:>14} {:>14} {:>10}",
        "", f.module, h.module, "FP16/fixed"
    );
    let _ = writeln!(
        s,
        "whole unit as configured (coefficient memories of {} entries per lane included)",
        r.columns / r.lanes
    );
    costs(&mut s, &f.unit, &h.unit);
    let _ = writeln!(s, "one lane, one column (the datapath of a lane)");
    costs(&mut s, &f.lane, &h.lane);
    if let (Some(fi), Some(hi)) = (&f.ice40_one_lane, &h.ice40_one_lane) {
        let _ = writeln!(s, "iCE40, one lane (synth_ice40 -dsp, nextpnr-ice40)");
        line(&mut s, "LUT4", fi.luts as f64, hi.luts as f64, 0);
        line(&mut s, "DSP", fi.dsps as f64, hi.dsps as f64, 0);
        let fmax = |c: &crate::synth::Ice40Cost| c.fmax_mhz.unwrap_or(0.0);
        line(&mut s, "Fmax (MHz)", fmax(fi), fmax(hi), 1);
    }
    let _ = writeln!(
        s,
        "timing and throughput (both one beat of {} lanes per clock)",
        r.lanes
    );
    line(
        &mut s,
        "latency (cycles)",
        f.latency_cycles as f64,
        h.latency_cycles as f64,
        0,
    );
    line(
        &mut s,
        "elements per clock per M transistors",
        f.throughput_per_area(),
        h.throughput_per_area(),
        2,
    );
    let _ = writeln!(
        s,
        "accuracy against the f64 reference ({} elements: synthetic tile, {} rows, seed {})",
        f.accuracy.elements, r.rows, r.seed
    );
    line(
        &mut s,
        "output codes differing (%)",
        100.0 * f.accuracy.mismatch_rate(),
        100.0 * h.accuracy.mismatch_rate(),
        3,
    );
    line(
        &mut s,
        "mean |output - real| (output LSB)",
        f.accuracy.output_vs_real.mean(),
        h.accuracy.output_vs_real.mean(),
        4,
    );
    line(
        &mut s,
        "max |output - real| (output LSB)",
        f.accuracy.output_vs_real.max,
        h.accuracy.output_vs_real.max,
        4,
    );
    let area = r.area_ratio();
    let _ = writeln!(
        s,
        "paper's claim (fixed-point {PAPER_AREA_RATIO}x smaller than FP16): FP16/fixed transistors = {area:.2} for the unit, {:.2} for a lane: {}",
        r.lane_area_ratio(),
        if area >= PAPER_AREA_RATIO { "met" } else { "not met" }
    );
    let err_ok = f.accuracy.output_vs_real.mean() <= h.accuracy.output_vs_real.mean();
    let _ = writeln!(
        s,
        "output error no worse than FP16's (mean |output - real|): {}",
        if err_ok { "met" } else { "not met" }
    );
    s
}
