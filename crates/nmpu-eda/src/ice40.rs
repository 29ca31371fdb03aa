//! The iCE40 flow: `synth_ice40` (flows/synth_ice40.ys) of a design inside an I/O wrapper,
//! then `nextpnr-ice40` on the UltraPlus 5K with its DSPs, or the HX8K without.

use crate::parse::{count_cells, nextpnr_fmax};
use crate::process::run;
use crate::tools::Tool;
use crate::yosys::script;
use anyhow::{bail, Result};
use serde::Serialize;
use std::path::Path;

const ICE40_YS: &str = include_str!("../flows/synth_ice40.ys");
const ICE40_PCF: &str = include_str!("../flows/ice40.pcf");

/// iCE40 UltraPlus 5K and HX8K resources (4-kbit block RAMs: 30 and 32).
const UP5K_LUTS: u64 = 5280;
const UP5K_DSPS: u64 = 8;
const UP5K_BRAMS: u64 = 30;
const HX8K_LUTS: u64 = 7680;
const HX8K_BRAMS: u64 = 32;

#[derive(Clone, Debug, Default, Serialize)]
pub struct Ice40Cost {
    /// The part placed and routed, or `None` when the block fits neither.
    pub device: Option<String>,
    pub luts: u64,
    pub carries: u64,
    pub dsps: u64,
    pub flip_flops: u64,
    pub brams: u64,
    pub fmax_mhz: Option<f64>,
    pub note: String,
}

/// An iCE40 top around `top`: every input of the design is a stage of one shift register
/// fed by pin `sin`, every output bit goes into one registered XOR on pin `sout`. So the
/// design fits a package, keeps all its logic, and its timing is register to register.
pub fn wrapper(verilog: &str, top: &str) -> Result<String> {
    let ports = nmpu_rtl::wrapper::ports(verilog, top);
    if ports.is_empty() {
        bail!("module {top} with ports not found in the Verilog");
    }
    let inputs: Vec<_> = ports
        .iter()
        .filter(|p| p.input && p.name != "clock")
        .collect();
    let outputs: Vec<_> = ports.iter().filter(|p| !p.input).collect();
    let width: u32 = inputs.iter().map(|p| p.width).sum::<u32>().max(2);
    let mut v = String::from(
        "module ice40_top(clk, sin, sout);\n  input clk;\n  input sin;\n  output reg sout;\n",
    );
    v += &format!("  reg [{}:0] chain;\n", width - 1);
    v += &format!(
        "  always @(posedge clk) chain <= {{chain[{}:0], sin}};\n",
        width - 2
    );
    let wire = |name: &str| format!("o_{}", name.replace('$', "_"));
    for p in &outputs {
        v += &format!("  wire [{}:0] {};\n", p.width - 1, wire(&p.name));
    }
    let mut conns = vec![".clock(clk)".to_string()];
    let mut at = 0;
    for p in &inputs {
        conns.push(format!(".{}(chain[{}:{}])", p.name, at + p.width - 1, at));
        at += p.width;
    }
    for p in &outputs {
        conns.push(format!(".{}({})", p.name, wire(&p.name)));
    }
    v += &format!("  {top} dut(\n    {}\n  );\n", conns.join(",\n    "));
    let xor: Vec<String> = outputs.iter().map(|p| wire(&p.name)).collect();
    v += &format!(
        "  always @(posedge clk) sout <= ^{{{}}};\nendmodule\n",
        xor.join(", ")
    );
    Ok(v)
}

/// The resources `synth_ice40` reports (its `stat`).
pub fn read_stat(stat: &str) -> Ice40Cost {
    Ice40Cost {
        luts: count_cells(stat, |n| n == "SB_LUT4"),
        carries: count_cells(stat, |n| n == "SB_CARRY"),
        dsps: count_cells(stat, |n| n == "SB_MAC16"),
        flip_flops: count_cells(stat, |n| n.starts_with("SB_DFF")),
        brams: count_cells(stat, |n| n.starts_with("SB_RAM")),
        ..Ice40Cost::default()
    }
}

fn synth(dir: &Path, files: &[String], dsp: bool) -> Result<Ice40Cost> {
    let ys = script(ICE40_YS, files, "ice40_top", if dsp { "-dsp" } else { "" });
    std::fs::write(dir.join("ice40.ys"), ys)?;
    run(
        Tool::Yosys,
        Tool::Yosys.command().args(["-q", "-s", "ice40.ys"]),
        dir,
    )?;
    Ok(read_stat(&std::fs::read_to_string(dir.join("ice40.txt"))?))
}

fn nextpnr(dir: &Path, args: &[&str]) -> Result<Option<f64>> {
    let log = run(
        Tool::NextpnrIce40,
        Tool::NextpnrIce40
            .command()
            .args(args)
            .args(["--json", "ice40.json", "--freq", "400", "--seed", "1"])
            .arg("--timing-allow-fail"),
        dir,
    )?;
    Ok(nextpnr_fmax(&log))
}

/// The iCE40 flow on `files` (already in `dir`) whose Verilog is `verilog`: the UltraPlus
/// 5K with its DSPs when the design fits, else the HX8K without DSPs when it fits, else
/// synthesis figures only.
pub fn flow(dir: &Path, files: &[String], verilog: &str, top: &str) -> Result<Ice40Cost> {
    std::fs::write(dir.join("ice40_top.v"), wrapper(verilog, top)?)?;
    std::fs::write(dir.join("ice40.pcf"), ICE40_PCF)?;
    let mut all: Vec<String> = files.to_vec();
    all.push("ice40_top.v".into());
    let up5k = synth(dir, &all, true)?;
    if up5k.luts <= UP5K_LUTS && up5k.dsps <= UP5K_DSPS && up5k.brams <= UP5K_BRAMS {
        let pnr = nextpnr(dir, &["--up5k", "--package", "sg48", "--pcf", "ice40.pcf"]);
        return Ok(placed(
            up5k,
            "iCE40UP5K",
            pnr,
            "I/O wrapper included".into(),
        ));
    }
    let hx8k = synth(dir, &all, false)?;
    let why = format!(
        "does not fit the UP5K ({} LUTs of 5,280, {} DSPs of 8, {} block RAMs of 30)",
        up5k.luts, up5k.dsps, up5k.brams
    );
    if hx8k.luts <= HX8K_LUTS && hx8k.brams <= HX8K_BRAMS {
        let pnr = nextpnr(
            dir,
            &["--hx8k", "--package", "ct256", "--pcf-allow-unconstrained"],
        );
        return Ok(placed(
            hx8k,
            "iCE40HX8K",
            pnr,
            format!("{why}; I/O wrapper included"),
        ));
    }
    Ok(Ice40Cost {
        note: format!(
            "fits no iCE40: {why}; without DSPs {} LUTs of the HX8K's 7,680, {} block RAMs of 32",
            hx8k.luts, hx8k.brams
        ),
        ..up5k
    })
}

/// The figures of a placed and routed design, or of its synthesis when nextpnr failed.
fn placed(cost: Ice40Cost, device: &str, pnr: Result<Option<f64>>, note: String) -> Ice40Cost {
    match pnr {
        Ok(fmax) => Ice40Cost {
            device: Some(device.into()),
            fmax_mhz: fmax,
            note,
            ..cost
        },
        Err(e) => Ice40Cost {
            note: format!("{note}; place and route on the {device} failed: {e:#}"),
            ..cost
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wrapper_chains_every_input_and_xors_every_output() {
        let v = "module blk(clock, a, b, y);\n    input wire clock;\n    input wire [3:0] a;\n    \
                 input wire b;\n    output wire [1:0] y;\nendmodule\n";
        let w = wrapper(v, "blk").unwrap();
        assert!(w.contains("reg [4:0] chain;"), "{w}");
        assert!(
            w.contains(".a(chain[3:0])") && w.contains(".b(chain[4:4])"),
            "{w}"
        );
        assert!(w.contains("sout <= ^{o_y};"), "{w}");
        assert!(wrapper(v, "other").is_err());
    }

    #[test]
    fn the_stat_of_synth_ice40() {
        let c = read_stat(include_str!("../tests/fixtures/ice40.txt"));
        assert_eq!((c.luts, c.carries, c.dsps, c.brams), (453, 213, 6, 0));
        assert_eq!(c.flip_flops, 813);
    }
}
