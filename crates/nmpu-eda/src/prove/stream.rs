//! The stream's handshake, a bounded model check from reset: the top (`nmpu`, its packed
//! ports and the core) with its lanes cut out and replaced by abstract lanes (the lane's latency in registers held
//! by the lane's `en`, carrying the beat's code and coefficient address), checked by a
//! scoreboard that follows one arbitrary beat (the n-th accepted, n unconstrained):
//! - it comes out as the n-th output beat, never before it was accepted, with its column
//!   (`m_col`), its lanes' codes through their lanes (`m_y`), and the coefficient address
//!   `s_col / lanes` read with it;
//! - with `m_ready` high since it was accepted it is presented `latency - 1` cycles later;
//! - no more beats come out than went in; `s_ready == !m_valid | m_ready` at every step;
//!   the cycle after a reset no beat is presented (every valid bit cleared);
//! - a configuration write reaches every lane as `wr_en`, lane `cfg_col % lanes`, word
//!   `cfg_col / lanes`, `cfg_sel` and `cfg_data`, and nothing when `cfg_we` is low or the
//!   column is out of range.
//!
//! `s_valid`, `m_ready`, `reset` and every data input are free at every step.

use super::bounded::{Bounded, BoundedProof};
use super::sat::{run_script, Sat};
use anyhow::Result;
use nmpu_config::{ports, NmpuConfig};
use std::fmt::Write;
use std::path::Path;
use std::time::Instant;

/// The instance names of the core's lanes.
pub fn lane_instances(cfg: &NmpuConfig) -> Vec<String> {
    let kind = if cfg.fuse_affine_bn {
        "fused_lanes"
    } else {
        "lanes"
    };
    (0..cfg.lanes).map(|i| format!("{kind}${i}")).collect()
}

/// Steps of the bounded check: the latency and four more, so a beat accepted in the
/// first steps after reset is followed out through stalls.
pub fn depth(latency: u32) -> u32 {
    latency + 4
}

/// The harness `nmpu_stream_proof` (read with `read_verilog -formal`).
pub fn stream_harness(cfg: &NmpuConfig, latency: u32) -> String {
    let lanes = cfg.lanes as usize;
    let (xw, yw, cw, dw) = (
        ports::IN_LANE_BITS,
        ports::OUT_LANE_BITS,
        ports::COL_BITS,
        ports::CFG_DATA_BITS,
    );
    let l = latency as usize;
    let mut o = String::new();
    let xs: Vec<String> = (0..lanes).map(|k| format!("s_x{k}")).collect();
    let _ = writeln!(
        o,
        "module nmpu_stream_proof(clock, reset, s_valid, s_col, {}, m_ready, cfg_we, cfg_sel, cfg_col, cfg_data, n);",
        xs.join(", ")
    );
    let _ = writeln!(
        o,
        "    input clock, reset, s_valid, m_ready, cfg_we;\n    input [{c}:0] s_col, cfg_col;\n    input [{}:0] cfg_sel;\n    input [{}:0] cfg_data;",
        ports::CFG_SEL_BITS - 1,
        dw - 1,
        c = cw - 1
    );
    for x in &xs {
        let _ = writeln!(o, "    input [{}:0] {x};", xw - 1);
    }
    let _ = writeln!(
        o,
        "    wire s_ready, m_valid;\n    wire [{}:0] m_col;",
        cw - 1
    );
    let mut conns: Vec<String> = [
        "clock", "reset", "s_valid", "s_ready", "s_col", "m_valid", "m_ready", "m_col", "cfg_we",
        "cfg_sel", "cfg_col", "cfg_data",
    ]
    .iter()
    .map(|p| format!(".{p}({p})"))
    .collect();
    let tag = cw + yw;
    for (k, inst) in lane_instances(cfg).iter().enumerate() {
        let _ = writeln!(
            o,
            "    wire [{y}:0] m_y{k}, y{k};\n    wire en{k}, wr_en{k};\n    wire [{x}:0] x{k};\n    wire [{c}:0] rd{k}, wr_lane{k}, wr_addr{k};\n    wire [{s}:0] wr_sel{k};\n    wire [{d}:0] wr_data{k};",
            y = yw - 1,
            x = xw - 1,
            c = cw - 1,
            s = ports::CFG_SEL_BITS - 1,
            d = dw - 1
        );

        for (p, s) in [
            ("en", "en"),
            ("x", "x"),
            ("rd_addr", "rd"),
            ("wr_en", "wr_en"),
            ("wr_lane", "wr_lane"),
            ("wr_sel", "wr_sel"),
            ("wr_addr", "wr_addr"),
            ("wr_data", "wr_data"),
            ("y", "y"),
        ] {
            conns.push(format!(".\\core.{inst}_{p} ({s}{k})"));
        }
        // The abstract lane: `latency` registers held by its en, carrying {address, code}.
        for i in 1..=l {
            let _ = writeln!(o, "    reg [{}:0] tag{k}_{i};", tag - 1);
        }
        let mut shift = format!("tag{k}_1 <= {{rd{k}, x{k}[{}:0]}};", yw - 1);
        for i in 2..=l {
            let _ = write!(shift, " tag{k}_{i} <= tag{k}_{};", i - 1);
        }
        let _ = writeln!(
            o,
            "    always @(posedge clock) if (en{k}) begin {shift} end"
        );
        let _ = writeln!(o, "    assign y{k} = tag{k}_{l}[{}:0];", yw - 1);
    }
    // The top's packed lanes: lane k in bits [w*k + w - 1 : w*k].
    let rev = |name: &str| {
        (0..lanes)
            .rev()
            .map(|k| format!("{name}{k}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    conns.push(format!(".s_x({{{}}})", rev("s_x")));
    conns.push(format!(".m_y({{{}}})", rev("m_y")));
    let _ = writeln!(o, "    nmpu dut({});", conns.join(", "));
    let _ = writeln!(
        o,
        "    // The beat followed, the n-th accepted: free, and the same at every step.
    input [7:0] n;
    reg [7:0] n_p;
    always @(posedge clock) n_p <= n;
    always @* assume(n == n_p);
    reg [7:0] in_count, out_count, age;\n    reg saved, ready_run, past_reset;\n    reg [{}:0] saved_col;",
        cw - 1
    );
    for k in 0..lanes {
        let _ = writeln!(o, "    reg [{}:0] saved_x{k};", yw - 1);
    }
    let _ = writeln!(
        o,
        "    wire accepted = s_valid & s_ready;\n    wire delivered = m_valid & m_ready;"
    );
    let mut save = String::new();
    for k in 0..lanes {
        let _ = write!(save, " saved_x{k} <= s_x{k}[{}:0];", yw - 1);
    }
    let _ = writeln!(
        o,
        "    always @(posedge clock) begin
        past_reset <= reset;
        if (reset) begin
            in_count <= 0; out_count <= 0; saved <= 0; ready_run <= 0; age <= 0;
        end else begin
            if (accepted) in_count <= in_count + 8'd1;
            if (delivered) out_count <= out_count + 8'd1;
            if (accepted && in_count == n) begin
                saved <= 1; saved_col <= s_col; age <= 0; ready_run <= 1;{save}
            end else if (saved) begin
                if (age != 8'hff) age <= age + 8'd1;
                ready_run <= ready_run & m_ready;
            end
        end
    end"
    );
    let mut checks = String::new();
    let lanes_lit = cfg.lanes;
    let _ = writeln!(checks, "        assert(s_ready == (!m_valid || m_ready));");
    let _ = writeln!(checks, "        if (past_reset) assert(!m_valid);");
    let _ = writeln!(
        checks,
        "        if (!past_reset) assert(out_count <= in_count);"
    );
    let _ = writeln!(
        checks,
        "        if (!past_reset && delivered && out_count == n) begin"
    );
    let _ = writeln!(
        checks,
        "            assert(saved);\n            assert(m_col == saved_col);"
    );
    for k in 0..lanes {
        let _ = writeln!(checks, "            assert(m_y{k} == saved_x{k});");
        let _ = writeln!(
            checks,
            "            assert(tag{k}_{l}[{}:{}] == saved_col / {lanes_lit});",
            tag - 1,
            yw
        );
    }
    let _ = writeln!(checks, "        end");
    let _ = writeln!(
        checks,
        "        if (!past_reset && saved && ready_run && age == 8'd{}) assert(m_valid && out_count == n);",
        l - 1
    );
    let _ = writeln!(
        checks,
        "        if (cfg_we && cfg_col < {}) begin",
        cfg.columns
    );
    for k in 0..lanes {
        let _ = writeln!(
            checks,
            "            assert(wr_en{k} && wr_lane{k} == cfg_col % {lanes_lit} && wr_addr{k} == cfg_col / {lanes_lit} && wr_sel{k} == cfg_sel && wr_data{k} == cfg_data);"
        );
    }
    let _ = writeln!(checks, "        end else begin");
    for k in 0..lanes {
        let _ = writeln!(checks, "            assert(!wr_en{k});");
    }
    let _ = writeln!(checks, "        end");
    let _ = writeln!(o, "    always @* begin\n{checks}    end\nendmodule");
    o
}

/// The bounded model check of the stream ([`stream`]) of the NMPU Verilog `file` in `dir`,
/// its lanes abstracted with `latency` registers (the latency the lane proof found).
pub fn prove_stream(
    cfg: &NmpuConfig,
    dir: &Path,
    file: &str,
    latency: u32,
    timeout_s: u64,
) -> Result<BoundedProof> {
    let start = Instant::now();
    std::fs::write(dir.join("stream.v"), stream_harness(cfg, latency))?;
    let lanes: Vec<String> = lane_instances(cfg)
        .iter()
        .map(|i| format!("nmpu/core.{i}"))
        .collect();
    let modules: Vec<String> = lane_instances(cfg)
        .iter()
        .map(|i| format!("nmpu_core${i}"))
        .collect();
    let steps = depth(latency);
    let script = format!(
        "read_verilog {file}\nhierarchy -top nmpu\nproc\nsetattr -mod -set keep_hierarchy 1 {}\nflatten\nexpose -evert -sep _ {}\nopt_clean\n\
         read_verilog -formal stream.v\nhierarchy -top nmpu_stream_proof\nproc\nflatten\n\
         sat -seq {steps} -set-at 1 reset 1 -set-assumes -prove-asserts -prove-skip 1 -show-inputs -timeout {timeout_s} nmpu_stream_proof\n",
        modules.join(" "),
        lanes.join(" ")
    );
    let (outcome, log) = run_script(dir, "stream", &script, "the stream check")?;
    let verdict = match outcome {
        Sat::Proved => Bounded::Proved,
        Sat::Timeout => Bounded::Timeout,
        Sat::Failed => Bounded::Counterexample(trace(&log, steps)),
    };
    Ok(BoundedProof {
        depth: steps,
        verdict,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// A failing trace's handshake inputs per step `(reset, s_valid, m_ready)`.
fn trace(log: &str, depth: u32) -> Vec<(bool, bool, bool)> {
    (1..=depth)
        .map(|t| {
            let m = super::sat::model_at(log, t);
            let on = |n: &str| m.get(n) == Some(&1);
            (on("reset"), on("s_valid"), on("m_ready"))
        })
        .collect()
}
