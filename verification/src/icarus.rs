//! Runs a case on the generated Verilog under Icarus Verilog: a plain Verilog-2005 test
//! bench reads the stimulus from hex files, applies the producer gaps and consumer
//! stalls cycle by cycle, and writes every output beat.

use crate::stimulus::Case;
use anyhow::{bail, Context, Result};
use nmpu_config::ports::{CFG_DATA_BITS, CFG_SEL_BITS, COL_BITS, IN_LANE_BITS, OUT_LANE_BITS};
use nmpu_eda::process::run as run_tool;
use nmpu_eda::{Tool, WorkDir};
use std::fmt::Write as _;
use std::path::Path;

/// One output beat as the RTL produced it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutBeat {
    pub col: u32,
    pub y: Vec<u32>,
}

fn testbench(case: &Case) -> String {
    let l = case.cfg.lanes as usize;
    let (c, x, y) = (COL_BITS, IN_LANE_BITS, OUT_LANE_BITS);
    let (sel, data) = (CFG_SEL_BITS, CFG_DATA_BITS);
    let beat_bits = c + x * l;
    let mut s = String::new();
    let _ = writeln!(s, "`timescale 1ns/1ps\nmodule tb;");
    let _ = writeln!(s, "  reg clock = 1'b0;\n  reg reset = 1'b1;");
    let _ = writeln!(
        s,
        "  reg s_valid = 1'b0;\n  wire s_ready;\n  reg [{}:0] s_col = {c}'d0;",
        c - 1
    );
    let _ = writeln!(
        s,
        "  wire m_valid;\n  reg m_ready = 1'b0;\n  wire [{}:0] m_col;",
        c - 1
    );
    let _ = writeln!(
        s,
        "  reg cfg_we = 1'b0;\n  reg [{}:0] cfg_sel = {sel}'d0;\n  reg [{}:0] cfg_col = {c}'d0;\n  reg [{}:0] cfg_data = {data}'d0;",
        sel - 1,
        c - 1,
        data - 1
    );
    for i in 0..l {
        let _ = writeln!(
            s,
            "  reg [{}:0] s_x{i} = {x}'d0;\n  wire [{}:0] m_y{i};",
            x - 1,
            y - 1
        );
    }
    let _ = write!(s, "  {} dut(.clock(clock), .reset(reset), .s_valid(s_valid), .s_ready(s_ready), .s_col(s_col), .m_valid(m_valid), .m_ready(m_ready), .m_col(m_col), .cfg_we(cfg_we), .cfg_sel(cfg_sel), .cfg_col(cfg_col), .cfg_data(cfg_data)", case.datapath().module());
    // The packed lane buses: lane i in bits [24i+23:24i] and [16i+15:16i].
    let lanes = |p: &str| -> String {
        (0..l)
            .rev()
            .map(|i| format!("{p}{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        s,
        ", .s_x({{{}}}), .m_y({{{}}}));",
        lanes("s_x"),
        lanes("m_y")
    );
    let (nw, nb, nc) = (case.writes.len(), case.beats.len(), case.gaps.len());
    let _ = writeln!(
        s,
        "  reg [{}:0] writes [0:{}];",
        sel + c + data - 1,
        nw.max(1) - 1
    );
    let _ = writeln!(s, "  reg [{}:0] beats [0:{}];", beat_bits - 1, nb - 1);
    let _ = writeln!(s, "  reg [1:0] flow [0:{}];", nc - 1);
    let _ = writeln!(s, "  integer fd, i, bi, cyc, outs;\n  reg acc;");
    let _ = writeln!(s, "  always #5 clock = ~clock;");
    let _ = writeln!(s, "  always @(posedge clock) begin\n    acc <= s_valid & s_ready;\n    if (m_valid & m_ready) begin");
    let mut fmt = String::from("%h");
    let mut args = String::from("m_col");
    for i in 0..l {
        fmt += " %h";
        args += &format!(", m_y{i}");
    }
    let _ = writeln!(
        s,
        "      $fwrite(fd, \"{fmt}\\n\", {args});\n      outs = outs + 1;\n    end\n  end"
    );
    let _ = writeln!(s, "  initial begin");
    let _ = writeln!(s, "    $readmemh(\"writes.hex\", writes);\n    $readmemh(\"beats.hex\", beats);\n    $readmemh(\"flow.hex\", flow);");
    let _ = writeln!(
        s,
        "    fd = $fopen(\"out.txt\", \"w\");\n    outs = 0; bi = 0; cyc = 0; acc = 1'b0;"
    );
    let _ = writeln!(s, "    repeat (3) @(negedge clock);\n    reset = 1'b0;");
    if nw > 0 {
        let _ = writeln!(s, "    for (i = 0; i < {nw}; i = i + 1) begin\n      @(negedge clock);\n      cfg_we = 1'b1; {{cfg_sel, cfg_col, cfg_data}} = writes[i];\n    end\n    @(negedge clock);\n    cfg_we = 1'b0;");
    }
    let _ = writeln!(
        s,
        "    while (outs < {nb} && cyc < {}) begin\n      @(negedge clock);",
        4 * nc
    );
    let _ = writeln!(s, "      if (acc) bi = bi + 1;");
    let _ = writeln!(s, "      if (!s_valid || acc) begin\n        if (bi < {nb} && !flow[cyc % {nc}][1]) begin\n          s_valid = 1'b1;");
    let mut unpack = String::from("s_col");
    for i in 0..l {
        unpack += &format!(", s_x{i}");
    }
    let _ = writeln!(
        s,
        "          {{{unpack}}} = beats[bi];\n        end else s_valid = 1'b0;\n      end"
    );
    let _ = writeln!(
        s,
        "      m_ready = flow[cyc % {nc}][0];\n      cyc = cyc + 1;\n    end"
    );
    let _ = writeln!(s, "    repeat (2) @(negedge clock);\n    $fclose(fd);\n    $display(\"TB DONE outs=%0d cycles=%0d\", outs, cyc);\n    $finish;\n  end\nendmodule");
    s
}

fn hex_files(case: &Case) -> (String, String, String) {
    let mut w = String::new();
    for x in &case.writes {
        let v = (u64::from(x.sel) << (COL_BITS + CFG_DATA_BITS))
            | (u64::from(x.col) << CFG_DATA_BITS)
            | u64::from(x.data);
        let digits = (CFG_SEL_BITS + COL_BITS + CFG_DATA_BITS).div_ceil(4);
        let _ = writeln!(w, "{v:0digits$x}");
    }
    let l = case.cfg.lanes as usize;
    let digits = (COL_BITS + IN_LANE_BITS * l).div_ceil(4);
    let mut b = String::new();
    for beat in &case.beats {
        // {s_col, s_x0, ..., s_x(L-1)}: s_col in the top bits, lane L-1 in the lowest.
        let mut bitsv: Vec<bool> = vec![];
        for k in (0..COL_BITS).rev() {
            bitsv.push(beat.col >> k & 1 == 1);
        }
        for w in &beat.words {
            for k in (0..IN_LANE_BITS).rev() {
                bitsv.push(w >> k & 1 == 1);
            }
        }
        let pad = digits * 4 - bitsv.len();
        let mut all = vec![false; pad];
        all.extend(bitsv);
        let hex: String = all
            .chunks(4)
            .map(|c| {
                let v = c.iter().fold(0u8, |a, &bit| (a << 1) | u8::from(bit));
                char::from_digit(u32::from(v), 16).unwrap()
            })
            .collect();
        let _ = writeln!(b, "{hex}");
    }
    let mut f = String::new();
    for (g, r) in case.gaps.iter().zip(&case.ready) {
        let _ = writeln!(f, "{}", u8::from(*g) * 2 + u8::from(*r));
    }
    (w, b, f)
}

/// Simulates `case` on `verilog` with Icarus, in `work` (kept) or a temporary directory;
/// returns the output beats.
pub fn run(case: &Case, verilog: &str, work: Option<&Path>) -> Result<Vec<OutBeat>> {
    let work = WorkDir::new(work, "icarus")?;
    let dir = work.path();
    std::fs::write(dir.join("nmpu.v"), verilog)?;
    std::fs::write(dir.join("tb.v"), testbench(case))?;
    let (w, b, f) = hex_files(case);
    std::fs::write(dir.join("writes.hex"), w)?;
    std::fs::write(dir.join("beats.hex"), b)?;
    std::fs::write(dir.join("flow.hex"), f)?;
    run_tool(
        Tool::Iverilog,
        Tool::Iverilog
            .command()
            .args(["-g2005", "-o", "sim.vvp", "tb.v", "nmpu.v"]),
        dir,
    )?;
    let log = run_tool(Tool::Vvp, Tool::Vvp.command().args(["-n", "sim.vvp"]), dir)?;
    if !log.contains("TB DONE") {
        bail!("vvp did not finish the test bench:\n{log}");
    }
    let text = std::fs::read_to_string(dir.join("out.txt"))?;
    text.lines()
        .map(|line| {
            let mut it = line.split_whitespace().map(|h| u32::from_str_radix(h, 16));
            let col = it.next().context("empty output line")??;
            let y = it.collect::<Result<Vec<u32>, _>>()?;
            Ok(OutBeat { col, y })
        })
        .collect()
}
