//! Yosys synthesis of one design: generic figures (cells, flip-flops, transistors, depth)
//! and the osu018 standard cells' area and critical path, from one synthesized design
//! (`flows/synth_generic.ys`, ABC script `flows/liberty_timing.abc`).

use crate::liberty::{fmax_mhz, liberty};
use crate::parse::{chip_area, count_cells, float_after_last, number_after};
use crate::process::run;
use crate::tools::Tool;
use anyhow::{Context, Result};
use serde::Serialize;
use std::path::Path;
use std::time::Instant;

const GENERIC_YS: &str = include_str!("../flows/synth_generic.ys");
const LIBERTY_ABC: &str = include_str!("../flows/liberty_timing.abc");

#[derive(Clone, Debug, Default, Serialize)]
pub struct GenericCost {
    pub cells: u64,
    pub flip_flops: u64,
    /// Gates (AND, NAND, OR, NOR, XOR, XNOR, MUX, NOT) and D flip-flops, Yosys' CMOS costs.
    pub transistors: u64,
    /// Longest path in cells between flip-flops and ports (`ltp -noff`).
    pub logic_depth: u64,
    /// Standard cells (osu018, 180 nm): total cell area, flip-flops included.
    pub area_um2: f64,
    /// The longest combinational path (register or port to register or port) as ABC's
    /// `stime` times the mapped and buffered netlist with the library's NLDM tables.
    pub critical_path_ps: f64,
    /// `1 / (critical path + REGISTER_OVERHEAD_PS)`.
    pub fmax_mhz: f64,
    pub seconds: f64,
}

/// A flow script with its placeholders filled in.
pub fn script(template: &str, files: &[String], top: &str, dsp: &str) -> String {
    template
        .replace("{FILES}", &files.join(" "))
        .replace("{TOP}", top)
        .replace("{DSP}", dsp)
}

/// The figures the generic flow leaves in `dir` (its `tee -o` files).
pub fn read_generic(dir: &Path, seconds: f64) -> Result<GenericCost> {
    let read = |f: &str| {
        std::fs::read_to_string(dir.join(f))
            .with_context(|| format!("Yosys wrote no {f} in {}", dir.display()))
    };
    let (cells, cmos, depth) = (read("cells.txt")?, read("cmos.txt")?, read("depth.txt")?);
    let (abc, lib_stat) = (read("liberty_abc.txt")?, read("liberty.txt")?);
    let critical_path_ps =
        float_after_last(&abc, "Delay =").context("no critical path (Delay =) in ABC's stime")?;
    Ok(GenericCost {
        cells: number_after(&cells, "Number of cells:").context("no cell count in stat")?,
        flip_flops: count_cells(&cells, |n| n.contains("DFF")),
        transistors: number_after(&cmos, "Estimated number of transistors:")
            .context("no transistor estimate in stat -tech cmos")?,
        logic_depth: number_after(&depth, "(length=").context("no length in ltp")?,
        area_um2: chip_area(&lib_stat).context("no chip area in stat -liberty")?,
        critical_path_ps,
        fmax_mhz: fmax_mhz(critical_path_ps),
        seconds,
    })
}

/// Synthesis of `top` from `files` (already in `dir`).
pub fn generic(dir: &Path, files: &[String], top: &str) -> Result<GenericCost> {
    let start = Instant::now();
    let lib = liberty()?;
    std::fs::write(dir.join("liberty_timing.abc"), LIBERTY_ABC)?;
    let ys = script(GENERIC_YS, files, top, "")
        .replace("{LIB}", &lib.to_string_lossy())
        .replace("{ABC}", "liberty_timing.abc");
    std::fs::write(dir.join("generic.ys"), ys)?;
    run(
        Tool::Yosys,
        Tool::Yosys.command().args(["-q", "-s", "generic.ys"]),
        dir,
    )?;
    read_generic(dir, start.elapsed().as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The flow's output files as the captured run left them give that run's figures.
    #[test]
    fn the_generic_figures_come_from_the_flows_files() {
        let dir = tempfile::tempdir().unwrap();
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        for f in [
            "cells.txt",
            "cmos.txt",
            "depth.txt",
            "liberty_abc.txt",
            "liberty.txt",
        ] {
            std::fs::copy(fixtures.join(f), dir.path().join(f)).unwrap();
        }
        let g = read_generic(dir.path(), 4.0).unwrap();
        assert_eq!(
            (g.cells, g.flip_flops, g.transistors, g.logic_depth),
            (6677, 780, 61544, 68)
        );
        assert_eq!((g.area_um2, g.critical_path_ps), (306073.0, 5825.73));
        // 1 / (5.82573 ns + 0.36 ns)
        assert!((g.fmax_mhz - 161.662).abs() < 1e-3, "{}", g.fmax_mhz);
        std::fs::remove_file(dir.path().join("cmos.txt")).unwrap();
        let e = read_generic(dir.path(), 0.0).unwrap_err().to_string();
        assert!(e.contains("no cmos.txt"), "{e}");
    }

    #[test]
    fn scripts_name_their_files_and_top() {
        let s = script(GENERIC_YS, &["a.v".into(), "b.v".into()], "nmpu", "");
        assert!(s.contains("read_verilog a.v b.v") && s.contains("synth -flatten -top nmpu"));
        assert!(!s.contains("{FILES}") && !s.contains("{TOP}"));
    }
}
