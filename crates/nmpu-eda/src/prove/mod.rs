//! `nmpu prove`: a formal proof, with Yosys's SAT solver, that the generated fixed-point
//! lane computes docs/arithmetic.md's function for every ADC code and every coefficient.
//!
//! How (README "Formal proof" says what is proved and what is not):
//! - the spec is [`spec`]'s independent Verilog, combinational;
//! - the lane is read from the Verilog (generated or the user's), flattened with its
//!   coefficient banks cut out: their outputs become free inputs, so every coefficient
//!   code is covered (the banks are a memory, not arithmetic);
//! - SAT cannot show two different multiplier circuits equal beyond about 10 bits, so the
//!   lane's multipliers are cut too: each `$mul` becomes a pair of outputs (its operands)
//!   and an input (its product). The harness ([`harness`]) drives that input with the
//!   spec's exact product of the spec's operands and asserts that the lane's operands
//!   equal the spec's (in either order). Where that holds, the lane's own `$mul` (Verilog's
//!   `*`: the low `Y_WIDTH` bits of the operands' product) gives the same bits, so
//!   the cut lane equals the real one;
//! - the lane runs with `en` high from an arbitrary state; after its latency every
//!   register holds data of the inputs, so the output one cycle later is checked for all
//!   inputs of the cycles before it: a bounded check of `latency + 2` steps whose last
//!   step covers every state and input. A low `en` holds every flip-flop (checked on the
//!   netlist: each is a `$dffe` enabled by `en`), so stalls change nothing.

pub mod banks;
pub mod harness;
pub mod lane;
pub mod spec;
pub mod stream;

use crate::process::run;
use crate::tools::Tool;
use anyhow::{bail, Context, Result};
use nmpu_config::{NmpuConfig, QFormat};
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

/// The lane modules of a generated NMPU for `cfg`, in lane order.
pub fn lane_modules(cfg: &NmpuConfig) -> Vec<String> {
    let kind = if cfg.fuse_affine_bn {
        "fused_lanes"
    } else {
        "lanes"
    };
    (0..cfg.lanes)
        .map(|i| format!("nmpu_core${kind}${i}"))
        .collect()
}

/// One lane's outcome.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    Proved,
    Counterexample(Counterexample),
    Timeout,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LaneProof {
    pub module: String,
    pub latency: u32,
    pub multipliers: usize,
    pub flip_flops: usize,
    pub verdict: Verdict,
    pub seconds: f64,
}

/// Yosys commands that read `file`, keep `module` as `dut_lane` with its banks as an
/// instance, and name its multipliers `proof_mul*`.
fn prefix(file: &str, module: &str) -> String {
    format!(
        "read_verilog {file}\nhierarchy -top {module}\nrename {module} dut_lane\nproc\nopt_dff\n\
         setattr -mod -set keep_hierarchy 1 {module}$banks\nflatten\nopt_clean\n\
         rename -enumerate -pattern proof_mul% t:$mul\n"
    )
}

/// Proves one lane module of the Verilog file `rtl` (in `dir`) against the spec of `cfg`.
pub fn prove_lane(
    cfg: &NmpuConfig,
    dir: &Path,
    rtl: &str,
    module: &str,
    timeout_s: u64,
) -> Result<LaneProof> {
    let start = Instant::now();
    let tag = module.replace('$', "_");
    let script = format!("{}write_json {tag}.json\n", prefix(rtl, module));
    std::fs::write(dir.join(format!("{tag}.analyse.ys")), script)?;
    run(
        Tool::Yosys,
        Tool::Yosys
            .command()
            .args(["-q", "-s", &format!("{tag}.analyse.ys")]),
        dir,
    )
    .with_context(|| format!("reading lane {module}"))?;
    let json = std::fs::read_to_string(dir.join(format!("{tag}.json")))?;
    let netlist = lane::analyse(&json, "dut_lane").with_context(|| format!("lane {module}"))?;
    let stages = spec::mac_stages(cfg).len();
    if netlist.muls.len() != stages {
        bail!(
            "lane {module} has {} multipliers, the config's pipeline {stages} multiply-add stage(s)",
            netlist.muls.len()
        );
    }
    let Some(top) = harness::harness(cfg, &netlist) else {
        bail!("lane {module}: a multiplier or the output at register depth 0 (before the coefficients arrive), or a coefficient bank output missing");
    };
    std::fs::write(
        dir.join(format!("{tag}.cut.v")),
        harness::cut_modules(&netlist),
    )?;
    std::fs::write(dir.join(format!("{tag}.proof.v")), top)?;
    let mut s = prefix(rtl, module);
    s += &format!("read_verilog {tag}.cut.v\n");
    let mut evert = vec!["dut_lane/banks".to_string()];
    for (i, m) in netlist.muls.iter().enumerate() {
        s += &format!("chtype -set proof_cut_{i} dut_lane/{}\n", m.cell);
        evert.push(format!("dut_lane/{}", m.cell));
    }
    s += &format!("expose -evert -sep _ {}\n", evert.join(" "));
    s += &format!("read_verilog spec.v {tag}.proof.v\nhierarchy -top nmpu_proof\nproc\nflatten\n");
    let steps = netlist.latency + 2;
    s += &format!(
        "sat -seq {steps} -prove-skip {} -prove ok 1 -timeout {timeout_s} -show-inputs -show-outputs nmpu_proof\n",
        steps - 1
    );
    std::fs::write(dir.join(format!("{tag}.prove.ys")), s)?;
    let log = run(
        Tool::Yosys,
        Tool::Yosys
            .command()
            .args(["-s", &format!("{tag}.prove.ys")]),
        dir,
    )
    .with_context(|| format!("proving lane {module}"))?;
    std::fs::write(dir.join(format!("{tag}.prove.log")), &log)?;
    let verdict = verdict(cfg, &log, steps)?;
    Ok(LaneProof {
        module: module.to_string(),
        latency: netlist.latency,
        multipliers: netlist.muls.len(),
        flip_flops: netlist.flip_flops,
        verdict,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// A beat the lane gets wrong: its ADC code and coefficients, and the first value (in
/// pipeline order) where the lane and the spec part, as codes and as fixed-point values.
#[derive(Clone, Debug, PartialEq)]
pub struct Counterexample {
    /// What differs: the output code, or a multiplier's operand (the stage before it).
    pub what: String,
    pub x: i64,
    /// Coefficient name, code, value.
    pub coefficients: Vec<(String, i64, f64)>,
    /// Code and value the spec gives, and the lane.
    pub want: (i64, f64),
    pub got: (i64, f64),
}

/// The low `f.width()` bits of `bits` as a code of `f`, and its value.
fn code(bits: u128, f: QFormat) -> (i64, f64) {
    let w = f.width();
    let low = (bits & ((1u128 << w) - 1)) as i64;
    let c = if f.signed && low >= 1 << (w - 1) {
        low - (1 << w)
    } else {
        low
    };
    (c, c as f64 * f.lsb())
}

impl Counterexample {
    /// From the solver's model (signal -> bits) of the failing step.
    fn from_model(cfg: &NmpuConfig, model: &HashMap<String, u128>) -> Option<Counterexample> {
        let stages = spec::mac_stages(cfg);
        let i = (0..=stages.len()).find(|i| model.get(&format!("pass{i}")) == Some(&0))?;
        let (what, f) = match stages.get(i) {
            Some(s) if i == 0 => (
                format!("the {} multiplier's input (the ADC code)", s.name),
                s.v,
            ),
            Some(s) => (
                format!(
                    "the {} multiplier's input (the {} result)",
                    s.name,
                    stages[i - 1].name
                ),
                s.v,
            ),
            None => ("the output code".to_string(), cfg.output.format),
        };
        let x = code(
            model[&format!("x{i}")],
            QFormat::new(true, cfg.in_bits as i32, 0),
        )
        .0;
        let coefficients = spec::coefficients(cfg)
            .into_iter()
            .map(|(n, f)| {
                let (c, v) = code(model[&format!("c{i}_{n}")], f);
                (n.to_string(), c, v)
            })
            .collect();
        Some(Counterexample {
            what,
            x,
            coefficients,
            want: code(model[&format!("want{i}")], f),
            got: code(model[&format!("got{i}")], f),
        })
    }
}

/// The outcome in a `sat` log; a counterexample from the signals at the checked `step`.
pub fn verdict(cfg: &NmpuConfig, log: &str, step: u32) -> Result<Verdict> {
    if log.contains("SAT proof finished - no model found: SUCCESS!") {
        return Ok(Verdict::Proved);
    }
    if log.contains("TIMEOUT") || log.contains("timed out") {
        return Ok(Verdict::Timeout);
    }
    if !log.contains("model found: FAIL!") {
        bail!(
            "no verdict in the SAT log:\n{}",
            crate::process::tail(log, 20)
        );
    }
    let mut model = HashMap::new();
    for line in log.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() >= 3 && f[0].parse::<u32>().ok() == Some(step) && f[1].starts_with('\\') {
            if let Ok(v) = u128::from_str_radix(f[f.len() - 1], 2) {
                model.insert(f[1][1..].to_string(), v);
            }
        }
    }
    match Counterexample::from_model(cfg, &model) {
        Some(c) => Ok(Verdict::Counterexample(c)),
        None => bail!(
            "the SAT model names no failing check:\n{}",
            crate::process::tail(log, 40)
        ),
    }
}

/// Whether Verilog `text` defines `module` (plain or escaped name, as Yosys writes it).
fn has_module(text: &str, module: &str) -> bool {
    [
        format!("module {module}("),
        format!("module {module} ("),
        format!("module \\{module} ("),
    ]
    .iter()
    .any(|m| text.contains(m.as_str()))
}

/// Everything `nmpu prove` proves of one NMPU.
#[derive(Clone, Debug, PartialEq)]
pub struct Proof {
    /// Every lane's datapath against the spec, in lane order (up to the first that fails).
    pub lanes: Vec<LaneProof>,
    /// Every lane's coefficient banks: (banks module, bounded check).
    pub banks: Vec<(String, BoundedProof)>,
    /// The stream's handshake and the configuration decode.
    pub stream: Option<BoundedProof>,
}

impl Proof {
    /// Every part ran and proved.
    pub fn proved(&self) -> bool {
        self.lanes.iter().all(|l| l.verdict == Verdict::Proved)
            && self.banks.iter().all(|(_, b)| b.verdict == Bounded::Proved)
            && self
                .stream
                .as_ref()
                .is_some_and(|s| s.verdict == Bounded::Proved)
    }
}

/// What [`prove`] reports as it goes.
pub enum Step<'a> {
    Lane(&'a LaneProof),
    Banks(&'a str, &'a BoundedProof),
    Stream(&'a BoundedProof),
}

/// Proves the NMPU Verilog `rtl` (the generated `nmpu.v` for `cfg`, or a user's file with
/// the same modules) in `dir`: every lane's datapath, then every lane's banks, then the
/// stream; stops at the first part that does not prove. `progress` hears of each part.
pub fn prove(
    cfg: &NmpuConfig,
    rtl: &str,
    dir: &Path,
    timeout_s: u64,
    progress: &dyn Fn(Step),
) -> Result<Proof> {
    cfg.validate()?;
    std::fs::write(dir.join("nmpu.v"), rtl)?;
    std::fs::write(dir.join("spec.v"), spec::spec_verilog(cfg))?;
    let mut proof = Proof {
        lanes: vec![],
        banks: vec![],
        stream: None,
    };
    for module in lane_modules(cfg) {
        if !has_module(rtl, &module) {
            bail!(
                "the Verilog has no module {module} (lane of the config's {} lanes)",
                cfg.lanes
            );
        }
        let p = prove_lane(cfg, dir, "nmpu.v", &module, timeout_s)?;
        progress(Step::Lane(&p));
        let stop = p.verdict != Verdict::Proved;
        proof.lanes.push(p);
        if stop {
            return Ok(proof);
        }
    }
    let latency = proof.lanes[0].latency;
    if let Some(l) = proof.lanes.iter().find(|l| l.latency != latency) {
        bail!(
            "lane {} has latency {}, lane 0 {latency}: the lanes would part",
            l.module,
            l.latency
        );
    }
    for (i, module) in lane_modules(cfg).iter().enumerate() {
        let p = prove_banks(
            cfg,
            dir,
            "nmpu.v",
            module,
            i as u32,
            banks::DEPTH,
            timeout_s,
        )?;
        progress(Step::Banks(module, &p));
        let stop = p.verdict != Bounded::Proved;
        proof.banks.push((format!("{module}$banks"), p));
        if stop {
            return Ok(proof);
        }
    }
    let s = prove_stream(cfg, dir, "nmpu.v", latency, timeout_s)?;
    progress(Step::Stream(&s));
    proof.stream = Some(s);
    Ok(proof)
}

/// The stream check's outcome.
#[derive(Clone, Debug, PartialEq)]
pub enum Bounded {
    Proved,
    /// The failing trace: per step, the handshake inputs `(reset, s_valid, m_ready)`.
    Counterexample(Vec<(bool, bool, bool)>),
    Timeout,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BoundedProof {
    pub depth: u32,
    pub verdict: Bounded,
    pub seconds: f64,
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
    std::fs::write(dir.join("stream.v"), stream::stream_harness(cfg, latency))?;
    let lanes: Vec<String> = stream::lane_instances(cfg)
        .iter()
        .map(|i| format!("nmpu_core/{i}"))
        .collect();
    let depth = stream::depth(latency);
    let script = format!(
        "read_verilog {file}\nhierarchy -top nmpu_core\nproc\nexpose -evert -sep _ {}\nflatten\nopt_clean\n\
         read_verilog -formal stream.v\nhierarchy -top nmpu_stream_proof\nproc\nflatten\n\
         sat -seq {depth} -set-at 1 reset 1 -set-assumes -prove-asserts -prove-skip 1 -show-inputs -timeout {timeout_s} nmpu_stream_proof\n",
        lanes.join(" ")
    );
    std::fs::write(dir.join("stream.ys"), script)?;
    let log = run(
        Tool::Yosys,
        Tool::Yosys.command().args(["-s", "stream.ys"]),
        dir,
    )
    .context("the stream check")?;
    std::fs::write(dir.join("stream.log"), &log)?;
    let verdict = if log.contains("SAT proof finished - no model found: SUCCESS!") {
        Bounded::Proved
    } else if log.contains("TIMEOUT") || log.contains("timed out") {
        Bounded::Timeout
    } else if log.contains("model found: FAIL!") {
        let mut steps = vec![(false, false, false); depth as usize];
        for line in log.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            let Some(t) = f.first().and_then(|t| t.parse::<usize>().ok()) else {
                continue;
            };
            if f.len() < 3 || t == 0 || t > steps.len() {
                continue;
            }
            let on = f[f.len() - 1] == "1";
            match f[1] {
                "\\reset" => steps[t - 1].0 = on,
                "\\s_valid" => steps[t - 1].1 = on,
                "\\m_ready" => steps[t - 1].2 = on,
                _ => {}
            }
        }
        Bounded::Counterexample(steps)
    } else {
        bail!(
            "no verdict in the stream check's log:\n{}",
            crate::process::tail(&log, 20)
        );
    };
    Ok(BoundedProof {
        depth,
        verdict,
        seconds: start.elapsed().as_secs_f64(),
    })
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
        banks::banks_harness(cfg, &module, index),
    )?;
    let script = format!(
        "read_verilog {file}\nread_verilog -formal {tag}.proof.v\nhierarchy -top nmpu_banks_proof\nproc\nflatten\nmemory -nomap\nmemory_map\n\
         sat -seq {depth} -set-at 1 known 0 -set-at 1 expect_known 0 -set-at 1 held_t 0 -set-assumes -prove-asserts -timeout {timeout_s} nmpu_banks_proof\n"
    );
    std::fs::write(dir.join(format!("{tag}.ys")), script)?;
    let log = run(
        Tool::Yosys,
        Tool::Yosys.command().args(["-s", &format!("{tag}.ys")]),
        dir,
    )
    .with_context(|| format!("the check of {module}"))?;
    std::fs::write(dir.join(format!("{tag}.log")), &log)?;
    let verdict = if log.contains("SAT proof finished - no model found: SUCCESS!") {
        Bounded::Proved
    } else if log.contains("TIMEOUT") || log.contains("timed out") {
        Bounded::Timeout
    } else if log.contains("model found: FAIL!") {
        Bounded::Counterexample(vec![])
    } else {
        bail!(
            "no verdict in the log of {module}:\n{}",
            crate::process::tail(&log, 20)
        );
    };
    Ok(BoundedProof {
        depth,
        verdict,
        seconds: start.elapsed().as_secs_f64(),
    })
}
