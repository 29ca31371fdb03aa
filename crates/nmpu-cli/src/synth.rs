//! `nmpu synth`: open-tool synthesis of the generated blocks. Yosys generic synthesis gives
//! cells, flip-flops, a transistor estimate (gates and D flip-flops, `stat -tech cmos`) and
//! the logic depth (`ltp`); optionally the iCE40 flow (`synth_ice40`, `nextpnr-ice40`) gives
//! LUTs, DSPs and an Fmax. The scripts are `constraints/*.ys`, embedded at build time.

use anyhow::{bail, Context, Result};
use nmpu_config::NmpuConfig;
use nmpu_verification::reference::REFERENCE_TOP;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const GENERIC_YS: &str = include_str!("../../../constraints/synth_generic.ys");
const LIBERTY_ABC: &str = include_str!("../../../constraints/liberty_timing.abc");

/// The standard-cell library: OSU's 180 nm cells as Debian's qflow-tech-osu018 ships them.
pub const LIBERTY: &str = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib";

/// Register overhead added to the combinational critical path for the clock period:
/// DFFPOSX1 clock-to-Q (0.17 ns) plus setup (0.19 ns), both at the smallest load and slew
/// the library tabulates. No wires, no clock skew.
pub const REGISTER_OVERHEAD_PS: f64 = 360.0;

/// The Liberty file: `$NMPU_LIBERTY`, else [`LIBERTY`]; an error says how to install it.
pub fn liberty() -> Result<PathBuf> {
    let path = std::env::var_os("NMPU_LIBERTY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(LIBERTY));
    if !path.is_file() {
        bail!(
            "standard-cell library {} not found: install it with `make deps` (Debian package \
             qflow-tech-osu018), or point NMPU_LIBERTY at a Liberty file",
            path.display()
        );
    }
    Ok(path)
}
const ICE40_YS: &str = include_str!("../../../constraints/synth_ice40.ys");
const ICE40_PCF: &str = include_str!("../../../constraints/ice40.pcf");

/// iCE40 UltraPlus 5K and HX8K resources (4-kbit block RAMs: 30 and 32).
const UP5K_LUTS: u64 = 5280;
const UP5K_DSPS: u64 = 8;
const UP5K_BRAMS: u64 = 30;
const HX8K_LUTS: u64 = 7680;
const HX8K_BRAMS: u64 = 32;

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

#[derive(Clone, Debug, Serialize)]
pub struct BlockCost {
    pub block: String,
    pub generic: GenericCost,
    pub ice40: Option<Ice40Cost>,
}

fn run_tool(cmd: &mut Command, what: &str, dir: &Path) -> Result<String> {
    let out = cmd.current_dir(dir).output().with_context(|| {
        format!("cannot run {what} (install it: make deps, or apt-get install yosys nextpnr-ice40)")
    })?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!("{what} failed in {}:\n{}", dir.display(), tail.join("\n"));
    }
    Ok(text)
}

/// The number after `key` on the first line containing it.
fn number_after(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.contains(key))?;
    let rest = &line[line.find(key)? + key.len()..];
    let digits: String = rest
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

/// Sum of the counts of cells whose type matches `pred` in a `stat` listing.
fn count_cells(stat: &str, pred: impl Fn(&str) -> bool) -> u64 {
    stat.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let (name, n) = (it.next()?, it.next()?);
            (name.starts_with('$') || name.starts_with("SB_"))
                .then_some(())
                .filter(|_| pred(name))
                .and_then(|_| n.parse::<u64>().ok())
        })
        .sum()
}

fn script(template: &str, files: &[&str], top: &str, dsp: &str) -> String {
    template
        .replace("{FILES}", &files.join(" "))
        .replace("{TOP}", top)
        .replace("{DSP}", dsp)
}

/// The number after `key` on the last line containing it (`Delay =  3937.29 ps`).
fn float_after_last(text: &str, key: &str) -> Option<f64> {
    let line = text.lines().rev().find(|l| l.contains(key))?;
    let rest = line[line.find(key)? + key.len()..].trim_start();
    let num: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    num.parse().ok()
}

/// The chip area `stat -liberty` prints last (`Chip area for module '\top': 79507.000000`).
fn chip_area(stat: &str) -> Option<f64> {
    let line = stat.lines().rev().find(|l| l.contains("Chip area"))?;
    line.rsplit(':').next()?.trim().parse().ok()
}

/// Synthesis of `top` from `files` (already in `dir`): generic figures and the standard
/// cells' area and timing, from one synthesized design.
pub fn generic(dir: &Path, files: &[&str], top: &str) -> Result<GenericCost> {
    let start = Instant::now();
    let lib = liberty()?;
    std::fs::write(dir.join("liberty_timing.abc"), LIBERTY_ABC)?;
    let ys = script(GENERIC_YS, files, top, "")
        .replace("{LIB}", &lib.to_string_lossy())
        .replace("{ABC}", "liberty_timing.abc");
    std::fs::write(dir.join("generic.ys"), ys)?;
    run_tool(
        Command::new("yosys").args(["-q", "-s", "generic.ys"]),
        "yosys",
        dir,
    )?;
    let read = |f: &str| std::fs::read_to_string(dir.join(f));
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
        fmax_mhz: 1e6 / (critical_path_ps + REGISTER_OVERHEAD_PS),
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// An iCE40 top around `top`: every input of the block is a stage of one shift register fed
/// by pin `sin`, every output bit goes into one registered XOR on pin `sout`. So the block
/// fits a package, keeps all its logic, and its timing is register to register.
pub fn ice40_wrapper(verilog: &str, top: &str) -> Result<String> {
    let ports = nmpu_verification::verilator::ports(verilog, top)?;
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
    for p in &outputs {
        v += &format!(
            "  wire [{}:0] o_{};\n",
            p.width - 1,
            p.name.replace('$', "_")
        );
    }
    let mut conns = vec![".clock(clk)".to_string()];
    let mut at = 0;
    for p in &inputs {
        conns.push(format!(".{}(chain[{}:{}])", p.name, at + p.width - 1, at));
        at += p.width;
    }
    for p in &outputs {
        conns.push(format!(".{}(o_{})", p.name, p.name.replace('$', "_")));
    }
    v += &format!("  {top} dut(\n    {}\n  );\n", conns.join(",\n    "));
    let xor: Vec<String> = outputs
        .iter()
        .map(|p| format!("o_{}", p.name.replace('$', "_")))
        .collect();
    v += &format!(
        "  always @(posedge clk) sout <= ^{{{}}};\nendmodule\n",
        xor.join(", ")
    );
    Ok(v)
}

fn ice40_synth(dir: &Path, files: &[&str], dsp: bool) -> Result<Ice40Cost> {
    let ys = script(ICE40_YS, files, "ice40_top", if dsp { "-dsp" } else { "" });
    std::fs::write(dir.join("ice40.ys"), ys)?;
    run_tool(
        Command::new("yosys").args(["-q", "-s", "ice40.ys"]),
        "yosys (synth_ice40)",
        dir,
    )?;
    let stat = std::fs::read_to_string(dir.join("ice40.txt"))?;
    Ok(Ice40Cost {
        luts: count_cells(&stat, |n| n == "SB_LUT4"),
        carries: count_cells(&stat, |n| n == "SB_CARRY"),
        dsps: count_cells(&stat, |n| n == "SB_MAC16"),
        flip_flops: count_cells(&stat, |n| n.starts_with("SB_DFF")),
        brams: count_cells(&stat, |n| n.starts_with("SB_RAM")),
        ..Ice40Cost::default()
    })
}

fn nextpnr(dir: &Path, args: &[&str]) -> Result<Option<f64>> {
    let log = run_tool(
        Command::new("nextpnr-ice40")
            .args(args)
            .args(["--json", "ice40.json", "--freq", "400", "--seed", "1"])
            .arg("--timing-allow-fail"),
        "nextpnr-ice40",
        dir,
    )?;
    // The last report is the one after routing.
    Ok(log
        .lines()
        .rev()
        .filter(|l| l.contains("Max frequency for clock"))
        .find_map(|l| {
            let after = &l[l.find("':")? + 2..];
            after.split_whitespace().next()?.parse::<f64>().ok()
        }))
}

/// The iCE40 flow: UltraPlus 5K with its DSPs when the block fits, else the HX8K without
/// DSPs when it fits, else synthesis figures only.
pub fn ice40(dir: &Path, files: &[&str], verilog: &str, top: &str) -> Result<Ice40Cost> {
    std::fs::write(dir.join("ice40_top.v"), ice40_wrapper(verilog, top)?)?;
    std::fs::write(dir.join("ice40.pcf"), ICE40_PCF)?;
    let mut all: Vec<&str> = files.to_vec();
    all.push("ice40_top.v");
    let up5k = ice40_synth(dir, &all, true)?;
    if up5k.luts <= UP5K_LUTS && up5k.dsps <= UP5K_DSPS && up5k.brams <= UP5K_BRAMS {
        let pnr = nextpnr(dir, &["--up5k", "--package", "sg48", "--pcf", "ice40.pcf"]);
        return Ok(placed(
            up5k,
            "iCE40UP5K",
            pnr,
            "I/O wrapper included".into(),
        ));
    }
    let hx8k = ice40_synth(dir, &all, false)?;
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

/// The blocks `nmpu synth` knows: name (its top module) and its file(s). `which` is `all`
/// (the generated blocks) or a comma-separated list of names.
pub fn blocks(which: &str) -> Result<Vec<(&'static str, Vec<&'static str>)>> {
    let all = [
        ("nmpu", vec!["nmpu.v"]),
        ("adc_capture", vec!["adc_capture.v"]),
        ("pwm_dac", vec!["pwm_dac.v"]),
        ("nmpu_fp16", vec!["nmpu_fp16.v"]),
        (REFERENCE_TOP, vec!["nmpu_ref.v"]),
    ];
    if which == "all" {
        return Ok(all[..4].to_vec());
    }
    which
        .split(',')
        .map(|w| {
            all.iter()
                .find(|b| b.0 == w.trim())
                .cloned()
                .with_context(|| {
                    format!(
                        "--block {w}: choose nmpu, adc_capture, pwm_dac, nmpu_fp16, \
                         nmpu_ref (the hand-written reference), a comma-separated list, or all"
                    )
                })
        })
        .collect()
}

/// Runs `job` on every element of `jobs`, two at a time (Yosys and ABC run on one core;
/// this machine has two), and returns the results in the order of `jobs`.
pub fn two_at_a_time<J: Sync, R: Send>(
    jobs: &[J],
    job: impl Fn(usize, &J) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let results = std::sync::Mutex::new((0..jobs.len()).map(|_| None).collect::<Vec<_>>());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(j) = jobs.get(i) else { break };
                let r = job(i, j);
                results.lock().unwrap()[i] = Some(r);
            });
        }
    });
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.context("a synthesis did not run")?)
        .collect()
}

/// Synthesizes the `chosen` blocks (from [`blocks`]) of `cfg` in `work` (created).
pub fn synth(
    cfg: &NmpuConfig,
    chosen: &[(&str, Vec<&str>)],
    with_ice40: bool,
    work: &Path,
    progress: impl Fn(&str),
) -> Result<Vec<BlockCost>> {
    let mut rtl = nmpu_rtl::generate(cfg)?;
    rtl.files.push((
        "nmpu_ref.v".into(),
        nmpu_verification::reference::verilog(cfg),
    ));
    let mut out = vec![];
    for (top, files) in chosen {
        let dir: PathBuf = work.join(top);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let mut verilog = String::new();
        for f in files {
            let text = &rtl
                .files
                .iter()
                .find(|x| x.0 == *f)
                .context("generated file")?
                .1;
            std::fs::write(dir.join(f), text)?;
            verilog += text;
        }
        progress(&format!("{top}: Yosys generic synthesis"));
        let generic = generic(&dir, files, top)?;
        let ice40 = if with_ice40 {
            progress(&format!("{top}: iCE40 synthesis, place and route"));
            Some(ice40(&dir, files, &verilog, top)?)
        } else {
            None
        };
        out.push(BlockCost {
            block: top.to_string(),
            generic,
            ice40,
        });
    }
    Ok(out)
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
    s
}
