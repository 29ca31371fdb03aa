//! The configuration-write path of one lane's coefficient banks, a bounded model check: for
//! an arbitrary bank (`cfg_sel`) and word, once a write lands there, every later read of
//! that word returns the written code, whatever other writes (other words, other banks,
//! other lanes, `wr_en` low) came between. A write that landed anywhere else as well, or
//! a read of the wrong word, would break it. The core's decode of `cfg_col` into lane and
//! word is checked by the stream check ([`super::stream`]).

use super::bounded::{Bounded, BoundedProof};
use super::sat::{run_script, Sat};
use super::spec::coefficients;
use anyhow::Result;
use std::path::Path;
use std::time::Instant;

/// Steps of the check: a write to the followed word, any other write, a read of the word,
/// its result. The check starts from an arbitrary state (memory, read registers), so a
/// state just after the followed write is any state whose followed word holds that code:
/// one write between shows that every write elsewhere keeps it, which by induction covers
/// any number of writes between.
pub const DEPTH: u32 = 4;
use nmpu_config::{ports, NmpuConfig};
use std::fmt::Write;

/// The harness `nmpu_banks_proof` for the banks module `module` of lane `index`.
pub fn banks_harness(cfg: &NmpuConfig, module: &str, index: u32) -> String {
    let words = cfg.columns / cfg.lanes;
    let (cw, dw, sw) = (ports::COL_BITS, ports::CFG_DATA_BITS, ports::CFG_SEL_BITS);
    let banks = coefficients(cfg);
    let mut o = String::new();
    let _ = writeln!(
        o,
        "module nmpu_banks_proof(clock, re, raddr, wr_en, wr_lane, wr_sel, wr_addr, wr_data, sel_t, addr_t);
    input clock, re, wr_en;
    input [{c}:0] raddr, wr_lane, wr_addr;
    input [{s}:0] wr_sel;
    input [{d}:0] wr_data;
    // The bank and word followed: free, and the same at every step.
    input [{s}:0] sel_t;
    input [{c}:0] addr_t;
    reg [{s}:0] sel_p;
    reg [{c}:0] addr_p;
    always @(posedge clock) begin sel_p <= sel_t; addr_p <= addr_t; end
    always @* assume(sel_t == sel_p && addr_t == addr_p);",
        c = cw - 1,
        s = sw - 1,
        d = dw - 1
    );
    let outs: Vec<String> = banks
        .iter()
        .map(|(n, _)| format!(".{n}(out_{n})"))
        .collect();
    for (n, _) in &banks {
        let _ = writeln!(o, "    wire [{}:0] out_{n};", dw - 1);
    }
    let _ = writeln!(
        o,
        "    \\{module} dut(.clock(clock), .re(re), .raddr(raddr), .wr_en(wr_en), .wr_lane(wr_lane), .wr_sel(wr_sel), .wr_addr(wr_addr), .wr_data(wr_data), {});",
        outs.join(", ")
    );
    let _ = writeln!(
        o,
        "    wire hit = wr_en && wr_lane == {index} && wr_sel == sel_t && wr_addr == addr_t;
    reg known, read_t, expect_known;
    reg [{d}:0] shadow, expect;
    // A read returns the word as the writes of earlier cycles left it (a write in the same
    // cycle lands after the read: read-first).
    always @(posedge clock) begin
        known <= known | hit;
        if (hit) shadow <= wr_data;
        read_t <= re && raddr == addr_t;
        expect <= shadow;
        expect_known <= known;
    end",
        d = dw - 1
    );
    let _ = writeln!(
        o,
        "    always @* if (read_t && expect_known && addr_t < {words}) begin"
    );
    for (i, (n, f)) in banks.iter().enumerate() {
        let w = f.width();
        let _ = writeln!(
            o,
            "        if (sel_t == {i}) assert(out_{n}[{}:0] == expect[{}:0]);",
            w - 1,
            w - 1
        );
    }
    let _ = writeln!(o, "    end");
    // A read register holds while `re` is low (a stalled lane keeps its coefficients).
    let _ = writeln!(
        o,
        "    reg held_t;\n    always @(posedge clock) held_t <= !re;"
    );
    for (n, _) in &banks {
        let _ = writeln!(
            o,
            "    reg [{}:0] prev_{n};\n    always @(posedge clock) prev_{n} <= out_{n};\n    always @* if (held_t) assert(out_{n} == prev_{n});",
            dw - 1
        );
    }
    let _ = writeln!(o, "endmodule");
    o
}

/// The bounded check of lane `index`'s banks (`{lane}$banks` in `file`, [`banks`]): its
/// verdict as for the stream (a counterexample's trace is not shown).
pub fn prove_banks(
    cfg: &NmpuConfig,
    dir: &Path,
    file: &str,
    lane: &str,
    index: u32,
    depth: u32,
    timeout_s: u64,
) -> Result<BoundedProof> {
    let start = Instant::now();
    let module = format!("{lane}$banks");
    let tag = module.replace('$', "_");
    std::fs::write(
        dir.join(format!("{tag}.proof.v")),
        banks_harness(cfg, &module, index),
    )?;
    let script = format!(
        "read_verilog {file}\nread_verilog -formal {tag}.proof.v\nhierarchy -top nmpu_banks_proof\nproc\nflatten\nmemory -nomap\nmemory_map\n\
         sat -seq {depth} -set-at 1 known 0 -set-at 1 expect_known 0 -set-at 1 held_t 0 -set-assumes -prove-asserts -timeout {timeout_s} nmpu_banks_proof\n"
    );
    let (outcome, _) = run_script(dir, &tag, &script, &format!("the check of {module}"))?;
    let verdict = match outcome {
        Sat::Proved => Bounded::Proved,
        Sat::Timeout => Bounded::Timeout,
        Sat::Failed => Bounded::Counterexample(vec![]),
    };
    Ok(BoundedProof {
        depth,
        verdict,
        seconds: start.elapsed().as_secs_f64(),
    })
}
