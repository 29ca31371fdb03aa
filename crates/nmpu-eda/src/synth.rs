//! `nmpu synth`: the designs nmpu synthesizes and their figures, generic and (optionally)
//! on the iCE40.

use crate::ice40::Ice40Cost;
use crate::liberty::REGISTER_OVERHEAD_PS;
use crate::tools::{Tool, ToolVersions};
use crate::yosys::{generic, GenericCost};
use anyhow::{Context, Result};
use nmpu_config::NmpuConfig;
use nmpu_rtl::Block;
use serde::Serialize;
use std::path::Path;

/// A design to synthesize: a generated block, or the hand-written reference NMPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Design {
    Block(Block),
    Reference,
}

impl Design {
    /// Its top module.
    pub fn module(self) -> &'static str {
        match self {
            Design::Block(b) => b.module(),
            Design::Reference => nmpu_reference::REFERENCE_TOP,
        }
    }

    /// Its files for `cfg`: (name, Verilog), the top's file last.
    pub fn files(self, cfg: &NmpuConfig) -> Result<Vec<(String, String)>> {
        match self {
            Design::Block(b) => b
                .needs()
                .iter()
                .map(|n| Ok((n.file(), n.generate(cfg)?)))
                .collect(),
            Design::Reference => Ok(vec![(
                format!("{}.v", nmpu_reference::REFERENCE_TOP),
                nmpu_reference::verilog(cfg),
            )]),
        }
    }
}

/// The designs `which` names: `all` (every generated block but the structural `tile_io`,
/// whose parts are the others), or a comma-separated list of top modules.
pub fn designs(which: &str) -> Result<Vec<Design>> {
    if which == "all" {
        return Ok(Block::ALL
            .into_iter()
            .filter(|&b| b != Block::TileIo)
            .map(Design::Block)
            .collect());
    }
    which
        .split(',')
        .map(|w| {
            let w = w.trim();
            if w == nmpu_reference::REFERENCE_TOP {
                return Ok(Design::Reference);
            }
            Block::from_module(w).map(Design::Block).with_context(|| {
                let names: Vec<&str> = Block::ALL.iter().map(|b| b.module()).collect();
                format!(
                    "--block {w}: choose {}, {} (the hand-written reference), a comma-separated \
                     list, or all",
                    names.join(", "),
                    nmpu_reference::REFERENCE_TOP
                )
            })
        })
        .collect()
}

#[derive(Clone, Debug, Serialize)]
pub struct BlockCost {
    pub block: String,
    pub generic: GenericCost,
    pub ice40: Option<Ice40Cost>,
    /// The tools the figures come from.
    pub tools: ToolVersions,
}

/// Synthesizes each of `designs` for `cfg` in its own directory under `work`.
pub fn synth(
    cfg: &NmpuConfig,
    designs: &[Design],
    with_ice40: bool,
    work: &Path,
    progress: impl Fn(&str),
) -> Result<Vec<BlockCost>> {
    let used: &[Tool] = if with_ice40 {
        &[Tool::Yosys, Tool::NextpnrIce40]
    } else {
        &[Tool::Yosys]
    };
    let mut out = vec![];
    for &design in designs {
        let top = design.module();
        let dir = work.join(top);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let files = design.files(cfg)?;
        let mut verilog = String::new();
        for (name, text) in &files {
            std::fs::write(dir.join(name), text)?;
            verilog += text;
        }
        let names: Vec<String> = files.into_iter().map(|f| f.0).collect();
        progress(&format!("{top}: Yosys generic synthesis"));
        let generic = generic(&dir, &names, top)?;
        let ice40 = if with_ice40 {
            progress(&format!("{top}: iCE40 synthesis, place and route"));
            Some(crate::ice40::flow(&dir, &names, &verilog, top)?)
        } else {
            None
        };
        out.push(BlockCost {
            block: top.to_string(),
            generic,
            ice40,
            tools: ToolVersions::of(used),
        });
    }
    Ok(out)
}

/// One design's generic figures: [`synth`] of a single design without the iCE40 flow.
pub fn synth_one(cfg: &NmpuConfig, design: Design, work: &Path) -> Result<GenericCost> {
    let b = synth(cfg, &[design], false, work, |_| {})?;
    Ok(b.into_iter().next().context("no figures")?.generic)
}

/// A readable table of the figures.
pub fn table(costs: &[BlockCost]) -> String {
    let mut s = format!(
        "{:<12} {:>9} {:>11} {:>12} {:>6} {:>12} {:>9} {:>9} {:>8}",
        "block",
        "cells",
        "flip-flops",
        "transistors",
        "depth",
        "area um^2",
        "path ns",
        "Fmax MHz",
        "synth s"
    );
    let ice = costs.iter().any(|c| c.ice40.is_some());
    if ice {
        s += &format!(
            " {:>8} {:>5} {:>10} {:>9}",
            "LUT4", "DSP", "device", "Fmax MHz"
        );
    }
    s.push('\n');
    for c in costs {
        let g = &c.generic;
        s += &format!(
            "{:<12} {:>9} {:>11} {:>12} {:>6} {:>12.0} {:>9.2} {:>9.1} {:>8.1}",
            c.block,
            g.cells,
            g.flip_flops,
            g.transistors,
            g.logic_depth,
            g.area_um2,
            g.critical_path_ps / 1000.0,
            g.fmax_mhz,
            g.seconds
        );
        if let Some(i) = &c.ice40 {
            s += &format!(
                " {:>8} {:>5} {:>10} {:>9}",
                i.luts,
                i.dsps,
                i.device.as_deref().unwrap_or("none"),
                i.fmax_mhz.map_or("-".into(), |f| format!("{f:.1}"))
            );
        }
        s.push('\n');
    }
    for c in costs {
        if let Some(i) = c.ice40.as_ref().filter(|i| !i.note.is_empty()) {
            s += &format!("{}: {}\n", c.block, i.note);
        }
    }
    s += &format!(
        "area and timing: osu018 standard cells (180 nm; ratios carry over, absolute numbers do \
         not); Fmax = 1 / (critical path + {REGISTER_OVERHEAD_PS:.0} ps register overhead), no wires\n"
    );
    if let Some(c) = costs.first() {
        s += &format!("tools: {}\n", c.tools.line());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn designs_by_name_and_all() {
        let all = designs("all").unwrap();
        assert_eq!(all.len(), 4);
        assert!(!all.contains(&Design::Block(Block::TileIo)));
        assert_eq!(
            designs("nmpu, nmpu_ref").unwrap(),
            vec![Design::Block(Block::Nmpu), Design::Reference]
        );
        let e = designs("nmpu,foo").unwrap_err().to_string();
        assert!(e.contains("--block foo") && e.contains("pwm_dac"), "{e}");
    }

    #[test]
    fn a_design_brings_the_files_it_needs() {
        let cfg = NmpuConfig::from_toml_str("columns = 4\nlanes = 2\nin_bits = 8").unwrap();
        let f = Design::Block(Block::TileIo).files(&cfg).unwrap();
        let names: Vec<&str> = f.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(names, ["nmpu.v", "adc_capture.v", "tile_io.v"]);
        let r = Design::Reference.files(&cfg).unwrap();
        assert!(r[0].1.contains("module nmpu_ref("));
    }
}
