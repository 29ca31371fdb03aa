//! `nmpu report`: the fixed-point NMPU and the FP16 baseline side by side on one config:
//! synthesis figures (the whole unit, and one lane's datapath alone), latency, throughput
//! per area, and accuracy against the f64 reference on the same data.

use crate::ice40::Ice40Cost;
use crate::jobs::parallel;
use crate::synth::{synth, BlockCost, Design};
use crate::tools::{Tool, ToolVersions};
use crate::yosys::GenericCost;
use anyhow::{Context, Result};
use nmpu_config::NmpuConfig;
use nmpu_model::{Comparison, EngineReport};
use nmpu_rtl::generate::Datapath;
use nmpu_tile::synthetic::Synthetic;
use serde::Serialize;
use std::fmt::Write;
use std::path::Path;

/// The paper's area ratio: its fixed-point NMPU is 7.8x smaller than the FP16 unit.
pub const PAPER_AREA_RATIO: f64 = 7.8;

/// The additive figures of a synthesized design, as numbers that compose.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Cost {
    pub cells: f64,
    pub flip_flops: f64,
    pub transistors: f64,
    pub area_um2: f64,
}

impl Cost {
    fn of(g: &GenericCost) -> Self {
        Cost {
            cells: g.cells as f64,
            flip_flops: g.flip_flops as f64,
            transistors: g.transistors as f64,
            area_um2: g.area_um2,
        }
    }

    /// `self + k*o`, figure by figure.
    fn plus(self, k: f64, o: Cost) -> Self {
        Cost {
            cells: self.cells + k * o.cells,
            flip_flops: self.flip_flops + k * o.flip_flops,
            transistors: self.transistors + k * o.transistors,
            area_um2: self.area_um2 + k * o.area_um2,
        }
    }

    fn times(self, k: f64) -> Self {
        Cost::default().plus(k, self)
    }
}

/// One datapath's figures.
#[derive(Clone, Debug, Serialize)]
pub struct Side {
    pub module: &'static str,
    /// The unit as configured, composed from one- and two-lane syntheses (see [`build`]).
    pub unit: Cost,
    /// One lane with its `columns / lanes` coefficient words, and that split into the
    /// datapath and the storage (a linear fit in the number of words).
    pub lane: Cost,
    pub lane_datapath: Cost,
    pub lane_storage: Cost,
    /// Bits stored per column: the coefficient formats' widths (FP16: four binary16 words).
    pub storage_bits_per_column: u32,
    /// The lane's critical path on the standard cells, and the clock it allows.
    pub critical_path_ps: f64,
    pub fmax_mhz: f64,
    pub logic_depth: u64,
    /// The whole unit synthesized as configured (with --whole), to check the composition.
    pub whole: Option<GenericCost>,
    /// Every synthesized variant: (columns, lanes, figures).
    pub syntheses: Vec<(u32, u32, GenericCost)>,
    /// One lane, one column on the iCE40 (with --ice40).
    pub ice40_one_lane: Option<Ice40Cost>,
    pub latency_cycles: usize,
    /// Output elements per clock (one beat of `lanes` per clock).
    pub elements_per_cycle: u32,
    pub accuracy: EngineReport,
}

impl Side {
    /// Output elements per second per mm^2 of the unit (lanes x Fmax over the unit's area).
    pub fn elements_per_s_per_mm2(&self) -> f64 {
        f64::from(self.elements_per_cycle) * self.fmax_mhz * 1e6 / (self.unit.area_um2 / 1e6)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub config_fingerprint: u64,
    pub columns: u32,
    pub lanes: u32,
    pub rows: usize,
    pub seed: u64,
    pub seconds: f64,
    pub fixed: Side,
    pub fp16: Side,
    /// The tools the figures come from.
    pub tools: ToolVersions,
}

impl Report {
    /// FP16 area over fixed-point area (the unit as configured, standard cells).
    pub fn area_ratio(&self) -> f64 {
        self.fp16.unit.area_um2 / self.fixed.unit.area_um2
    }

    pub fn lane_area_ratio(&self) -> f64 {
        self.fp16.lane.area_um2 / self.fixed.lane.area_um2
    }

    /// Fixed-point lanes (with their coefficient words) that fit in the FP16 unit's area.
    pub fn fixed_lanes_in_fp16_area(&self) -> f64 {
        self.fp16.unit.area_um2 / self.fixed.lane.area_um2
    }

    /// Throughput of the fixed-point design at the FP16 unit's area over the FP16 unit's:
    /// the lanes that fit times the clock ratio, over the FP16 unit's lanes.
    pub fn iso_area_throughput_ratio(&self) -> f64 {
        self.fixed_lanes_in_fp16_area() * self.fixed.fmax_mhz
            / (f64::from(self.lanes) * self.fp16.fmax_mhz)
    }
}

fn variant(cfg: &NmpuConfig, columns: u32, lanes: u32) -> NmpuConfig {
    let mut c = cfg.clone();
    c.columns = columns;
    c.lanes = lanes;
    c
}

pub struct ReportArgs<'a> {
    pub rows: usize,
    pub seed: u64,
    pub ice40: bool,
    /// Also synthesize the whole unit as configured (slow for large configs).
    pub whole: bool,
    pub work: &'a Path,
}

/// One synthesis job: side, variant (columns, lanes), iCE40 or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Job {
    side: usize,
    columns: u32,
    lanes: u32,
    ice40: bool,
}

/// The two datapaths, in the order of the sides.
const DATAPATHS: [Datapath; 2] = [Datapath::Fixed, Datapath::Fp16];

/// A synthesized variant: side, columns, lanes, figures.
type Found = (usize, u32, u32, BlockCost);

/// The variants to synthesize, largest first so the workers finish together: per side a
/// lane of one word (with the iCE40 flow when asked), a lane of `columns / lanes` words
/// (two when that is one), a unit of two lanes when there are several, and with `whole`
/// the unit as configured.
fn plan(cfg: &NmpuConfig, whole: bool, ice40: bool) -> Vec<Job> {
    let depth = cfg.columns / cfg.lanes;
    // A second word count for the storage fit when the banks hold one word.
    let d2 = if depth > 1 { depth } else { 2 };
    let mut jobs = vec![];
    for side in 0..2 {
        let mut push = |columns, lanes, ice40| {
            if !jobs
                .iter()
                .any(|j: &Job| (j.side, j.columns, j.lanes) == (side, columns, lanes))
            {
                jobs.push(Job {
                    side,
                    columns,
                    lanes,
                    ice40,
                });
            }
        };
        push(1, 1, ice40);
        push(d2, 1, false);
        push(depth, 1, false);
        if cfg.lanes > 1 {
            push(2 * depth, 2, false);
        }
        if whole {
            push(cfg.columns, cfg.lanes, false);
        }
    }
    jobs.sort_by_key(|j| std::cmp::Reverse((j.columns * j.lanes, j.side)));
    jobs
}

/// One side's figures composed from its variants in `found` (see [`build`]).
fn compose(
    cfg: &NmpuConfig,
    side: usize,
    found: &[Found],
    whole: bool,
    accuracy: EngineReport,
) -> Side {
    let depth = cfg.columns / cfg.lanes;
    let d2 = if depth > 1 { depth } else { 2 };
    let get = |columns: u32, lanes: u32| -> &BlockCost {
        &found
            .iter()
            .find(|f| (f.0, f.1, f.2) == (side, columns, lanes))
            .expect("every variant was synthesized")
            .3
    };
    let d = DATAPATHS[side];
    let one = Cost::of(&get(1, 1).generic);
    let two = Cost::of(&get(d2, 1).generic);
    let lane_g = &get(depth, 1).generic;
    let lane = Cost::of(lane_g);
    let word = two.plus(-1.0, one).times(1.0 / f64::from(d2 - 1));
    let lane_storage = word.times(f64::from(depth));
    let lane_datapath = lane.plus(-1.0, lane_storage);
    let unit = if cfg.lanes > 1 {
        let pair = Cost::of(&get(2 * depth, 2).generic);
        let per_lane = pair.plus(-1.0, lane);
        let shell = lane.plus(-1.0, per_lane);
        shell.plus(f64::from(cfg.lanes), per_lane)
    } else {
        lane
    };
    let c = &cfg.coefficients;
    let storage_bits_per_column = match d {
        Datapath::Fixed if cfg.fuse_affine_bn => c.a.width() + c.b.width(),
        Datapath::Fixed => c.a.width() + c.b.width() + c.g.width() + c.h.width(),
        Datapath::Fp16 => 64,
    };
    Side {
        module: d.module(),
        unit,
        lane,
        lane_datapath,
        lane_storage,
        storage_bits_per_column,
        critical_path_ps: lane_g.critical_path_ps,
        fmax_mhz: lane_g.fmax_mhz,
        logic_depth: lane_g.logic_depth,
        whole: whole.then(|| get(cfg.columns, cfg.lanes).generic.clone()),
        syntheses: found
            .iter()
            .filter(|f| f.0 == side)
            .map(|f| (f.1, f.2, f.3.generic.clone()))
            .collect(),
        ice40_one_lane: get(1, 1).ice40.clone(),
        latency_cycles: d.latency(),
        elements_per_cycle: cfg.lanes,
        accuracy,
    }
}

/// Synthesizes small variants of both datapaths and composes the unit, and runs the
/// accuracy comparison.
///
/// Composition: a lane with `d` coefficient words costs `datapath + d * word` (linear in
/// the words: the banks are `d` registers per bit and a read multiplexer) and a unit of
/// `L` such lanes costs `shell + L * lane` (the valid and column pipelines and the
/// address arithmetic are shared). The lane of `d = columns / lanes` words, a lane of one
/// word and a unit of two lanes pin both lines down; the syntheses run on every core.
/// `--whole` synthesizes the unit as configured too, to check the composition.
pub fn build(cfg: &NmpuConfig, a: &ReportArgs, progress: impl Fn(&str) + Sync) -> Result<Report> {
    anyhow::ensure!(a.rows > 0, "--rows must be at least 1");
    let start = std::time::Instant::now();
    let tile = Synthetic::for_config(cfg)
        .generate(cfg, a.rows, a.seed)
        .map_err(anyhow::Error::msg)?;
    progress("accuracy: fixed-point and FP16 golden models against f64 on the same data");
    let cmp: Comparison = nmpu_model::compare(cfg, &tile.coeffs, &tile.rows)?;
    let jobs = plan(cfg, a.whole, a.ice40);
    let results = parallel(&jobs, |_, j| {
        let d = DATAPATHS[j.side];
        let m = d.module();
        progress(&format!(
            "{m}: synthesis, {} columns, {} lanes",
            j.columns, j.lanes
        ));
        let dir = a.work.join(format!("{m}-{}c-{}l", j.columns, j.lanes));
        let c = variant(cfg, j.columns, j.lanes);
        let b = synth(&c, &[Design::Block(d.block())], j.ice40, &dir, |_| {})?;
        b.into_iter().next().context("no figures")
    })?;
    let found: Vec<Found> = jobs
        .iter()
        .zip(results)
        .map(|(j, r)| (j.side, j.columns, j.lanes, r))
        .collect();
    let mut sides: Vec<Side> = [cmp.fixed, cmp.fp16]
        .into_iter()
        .enumerate()
        .map(|(side, accuracy)| compose(cfg, side, &found, a.whole, accuracy))
        .collect();
    let fp16 = sides.pop().expect("two sides");
    let fixed = sides.pop().expect("two sides");
    Ok(Report {
        config_fingerprint: cfg.fingerprint(),
        columns: cfg.columns,
        lanes: cfg.lanes,
        rows: a.rows,
        seed: a.seed,
        seconds: start.elapsed().as_secs_f64(),
        fixed,
        fp16,
        tools: ToolVersions::of(if a.ice40 {
            &[Tool::Yosys, Tool::NextpnrIce40]
        } else {
            &[Tool::Yosys]
        }),
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

fn costs(s: &mut String, f: &Cost, h: &Cost) {
    line(s, "cells", f.cells, h.cells, 0);
    line(s, "flip-flops", f.flip_flops, h.flip_flops, 0);
    line(s, "transistors (estimate)", f.transistors, h.transistors, 0);
    line(s, "area (um^2, osu018)", f.area_um2, h.area_um2, 0);
}

/// The readable side-by-side table; `config` names the config file.
pub fn render(r: &Report, config: &str) -> String {
    let (f, h) = (&r.fixed, &r.fp16);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "nmpu report: config {} ({} columns, {} lanes, fingerprint {}; {:.0} s)",
        config, r.columns, r.lanes, r.config_fingerprint, r.seconds
    );
    let _ = writeln!(
        s,
        "  {:<40} {:>14} {:>14} {:>10}",
        "", f.module, h.module, "FP16/fixed"
    );
    let _ = writeln!(
        s,
        "whole unit ({} lanes of {} coefficient words; composed from 1- and 2-lane syntheses)",
        r.lanes,
        r.columns / r.lanes
    );
    costs(&mut s, &f.unit, &h.unit);
    if let (Some(fw), Some(hw)) = (&f.whole, &h.whole) {
        let _ = writeln!(s, "whole unit synthesized as configured (--whole)");
        costs(&mut s, &Cost::of(fw), &Cost::of(hw));
        let dev = |c: &Cost, w: &GenericCost| 100.0 * (c.area_um2 / w.area_um2 - 1.0);
        line(
            &mut s,
            "composed area - synthesized area (%)",
            dev(&f.unit, fw),
            dev(&h.unit, hw),
            2,
        );
    }
    let _ = writeln!(s, "one lane with its coefficient words");
    costs(&mut s, &f.lane, &h.lane);
    let _ = writeln!(s, "  its datapath (without coefficient words)");
    line(
        &mut s,
        "  transistors (estimate)",
        f.lane_datapath.transistors,
        h.lane_datapath.transistors,
        0,
    );
    line(
        &mut s,
        "  area (um^2)",
        f.lane_datapath.area_um2,
        h.lane_datapath.area_um2,
        0,
    );
    let _ = writeln!(s, "  its coefficient storage");
    line(
        &mut s,
        "  bits per column",
        f64::from(f.storage_bits_per_column),
        f64::from(h.storage_bits_per_column),
        0,
    );
    line(
        &mut s,
        "  area (um^2)",
        f.lane_storage.area_um2,
        h.lane_storage.area_um2,
        0,
    );
    let _ = writeln!(
        s,
        "timing (a lane on osu018; ABC stime, register overhead added, no wires)"
    );
    line(
        &mut s,
        "critical path (ns)",
        f.critical_path_ps / 1e3,
        h.critical_path_ps / 1e3,
        2,
    );
    line(&mut s, "Fmax (MHz)", f.fmax_mhz, h.fmax_mhz, 1);
    line(
        &mut s,
        "logic depth (cells, longest path)",
        f.logic_depth as f64,
        h.logic_depth as f64,
        0,
    );
    line(
        &mut s,
        "latency (cycles)",
        f.latency_cycles as f64,
        h.latency_cycles as f64,
        0,
    );
    if let (Some(fi), Some(hi)) = (&f.ice40_one_lane, &h.ice40_one_lane) {
        let _ = writeln!(
            s,
            "iCE40, one lane, one column (synth_ice40 -dsp, nextpnr-ice40)"
        );
        line(&mut s, "LUT4", fi.luts as f64, hi.luts as f64, 0);
        line(&mut s, "DSP", fi.dsps as f64, hi.dsps as f64, 0);
        let fmax = |c: &Ice40Cost| c.fmax_mhz.unwrap_or(0.0);
        line(&mut s, "Fmax (MHz)", fmax(fi), fmax(hi), 1);
    }
    let _ = writeln!(
        s,
        "throughput per area (one beat of {} lanes per clock at Fmax)",
        r.lanes
    );
    line(
        &mut s,
        "G elements/s per mm^2",
        f.elements_per_s_per_mm2() / 1e9,
        h.elements_per_s_per_mm2() / 1e9,
        3,
    );
    let _ = writeln!(
        s,
        "iso-area: {:.1} fixed-point lanes (with their coefficient words) fit in the FP16 unit's \
         area; at their clock they give {:.2}x the FP16 unit's throughput (the datapaths only: \
         no interconnect, no memory system, no time-multiplexing; the paper's 139x is a system \
         figure)",
        r.fixed_lanes_in_fp16_area(),
        r.iso_area_throughput_ratio()
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
        "paper's claim (fixed-point {PAPER_AREA_RATIO}x smaller than FP16): FP16/fixed area = {area:.2} for the unit, {:.2} for a lane: {}",
        r.lane_area_ratio(),
        if area >= PAPER_AREA_RATIO { "met" } else { "not met" }
    );
    let err_ok = f.accuracy.output_vs_real.mean() <= h.accuracy.output_vs_real.mean();
    let _ = writeln!(
        s,
        "output error no worse than FP16's (mean |output - real|): {}",
        if err_ok { "met" } else { "not met" }
    );
    let _ = writeln!(s, "tools: {}", r.tools.line());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(area: f64) -> BlockCost {
        BlockCost {
            block: String::new(),
            generic: GenericCost {
                cells: area as u64,
                flip_flops: 0,
                transistors: 2 * area as u64,
                area_um2: area,
                ..GenericCost::default()
            },
            ice40: None,
            tools: ToolVersions::default(),
        }
    }

    /// Syntheses of an exactly additive design (shell 100, lane 1000, word 10) compose back
    /// to those parts: a one-lane synthesis holds the shell, a unit has it once.
    #[test]
    fn composition_recovers_an_additive_design() {
        let cfg = NmpuConfig::from_toml_str("columns = 32\nlanes = 4\n").unwrap();
        let jobs = plan(&cfg, true, false);
        let variants: Vec<(u32, u32)> = jobs
            .iter()
            .filter(|j| j.side == 0)
            .map(|j| (j.columns, j.lanes))
            .collect();
        assert_eq!(variants, [(32, 4), (16, 2), (8, 1), (1, 1)]);
        let area = |columns: u32, lanes: u32| {
            100.0 + f64::from(lanes) * 1000.0 + 10.0 * f64::from(columns)
        };
        let found: Vec<Found> = jobs
            .iter()
            .map(|j| (j.side, j.columns, j.lanes, cost(area(j.columns, j.lanes))))
            .collect();
        let s = compose(&cfg, 0, &found, true, EngineReport::default());
        assert_eq!(s.lane_storage.area_um2, 80.0);
        assert_eq!(s.lane_datapath.area_um2, 1100.0);
        assert_eq!(s.lane.area_um2, 1180.0);
        assert_eq!(s.unit.area_um2, 100.0 + 4.0 * 1080.0);
        assert_eq!(s.unit.area_um2, s.whole.unwrap().area_um2);
        assert_eq!(s.storage_bits_per_column, 61);
        let h = compose(&cfg, 1, &found, false, EngineReport::default());
        assert_eq!((h.storage_bits_per_column, h.latency_cycles), (64, 9));
        assert!(h.whole.is_none());
    }

    /// The table puts both sides and their ratio on each line and says whether the
    /// paper's ratio is met.
    #[test]
    fn the_table_shows_both_sides_and_their_ratios() {
        let cfg = NmpuConfig::from_toml_str("columns = 8\nlanes = 2\n").unwrap();
        let jobs = plan(&cfg, false, false);
        let found: Vec<Found> = jobs
            .iter()
            .map(|j| {
                let area = (1.0 + j.side as f64) * 1000.0 * f64::from(j.lanes)
                    + 10.0 * f64::from(j.columns);
                (j.side, j.columns, j.lanes, cost(area))
            })
            .collect();
        let r = Report {
            config_fingerprint: cfg.fingerprint(),
            columns: 8,
            lanes: 2,
            rows: 1,
            seed: 1,
            seconds: 0.0,
            fixed: compose(&cfg, 0, &found, false, EngineReport::default()),
            fp16: compose(&cfg, 1, &found, false, EngineReport::default()),
            tools: ToolVersions::default(),
        };
        let t = render(&r, "my.toml");
        assert!(
            t.starts_with("nmpu report: config my.toml (8 columns, 2 lanes"),
            "{t}"
        );
        // Unit areas: 2 x 1040 = 2080 fixed, 2 x 2040 = 4080 FP16: ratio 1.96.
        let area = t
            .lines()
            .find(|l| l.contains("area (um^2, osu018)"))
            .unwrap();
        assert!(
            area.contains("2080") && area.contains("4080") && area.ends_with("1.96"),
            "{area}"
        );
        assert!(
            t.contains("FP16/fixed area = 1.96 for the unit") && t.contains(": not met"),
            "{t}"
        );
        assert!(t.contains("tools: no tools"), "{t}");
    }

    /// One lane of one column: the storage fit takes a two-word lane.
    #[test]
    fn a_single_word_lane_is_fitted_with_a_second_word_count() {
        let cfg = NmpuConfig::from_toml_str("columns = 1\nlanes = 1\n").unwrap();
        let jobs = plan(&cfg, false, true);
        assert_eq!(jobs.len(), 4);
        assert!(jobs
            .iter()
            .any(|j| (j.columns, j.lanes, j.ice40) == (1, 1, true)));
        assert!(jobs.iter().any(|j| (j.columns, j.lanes) == (2, 1)));
    }
}
