//! `nmpu prove`: a formal proof, with Yosys's SAT solver, that the generated fixed-point
//! lane computes docs/arithmetic.md's function for every ADC code and every coefficient.
//!
//! How (README "Formal proof" says what is proved and what is not):
//! - the spec is [`spec`]'s independent Verilog, combinational;
//! - the lane is read from the Verilog (generated or the user's), flattened with its
//!   coefficient banks cut out: their outputs become free inputs, so every coefficient
//!   code is covered (the banks are a memory, not arithmetic);
//! - SAT cannot show two different multiplier circuits equal beyond about 10 bits, so the
//!   lane's multipliers are cut too: each `$mul` (or a netlist's gate-level multiplier
//!   module, proved on its own by [`product`]) becomes a pair of outputs (its operands)
//!   and an input (its product). The harness ([`harness`]) asserts that the lane's
//!   operands equal the spec's (in either order) and gives the lane and the spec the same
//!   product: a free input within the range of the stage's products ([`spec::reachable`]:
//!   corners of the input's range and the coefficient's format). Where the operands are
//!   equal the lane's own `$mul` (Verilog's `*`) gives that product, and every real
//!   product is in its range (a later stage's input range is itself checked, given the
//!   stages before it in range), so the cut lane equals the real one. No multiplier is
//!   left on either side, which keeps wide formats as quick as narrow ones;
//! - the lane runs with `en` high from an arbitrary state; after its latency every
//!   register holds data of the inputs, so the output one cycle later is checked for all
//!   inputs of the cycles before it: a bounded check of `latency + 2` steps whose last
//!   step covers every state and input. A low `en` holds every flip-flop (checked on the
//!   netlist: each is a `$dffe` enabled by `en`), so stalls change nothing. The latency
//!   is read from the netlist (registers from `x` to `y`); a lane whose output depends on
//!   no input (formats that leave one constant; Yosys drops the rest) takes the
//!   documented latency, which any constant meets.

pub mod banks;
pub mod bounded;
pub mod datapath;
pub mod gates;
pub mod harness;
pub mod lane;
pub mod product;
pub mod sat;
pub mod spec;
pub mod stream;

pub use banks::prove_banks;
pub use bounded::{Bounded, BoundedProof};
pub use datapath::{prove_lane, Counterexample, LaneProof, Verdict};
pub use product::{ProductProof, WrongProduct};
pub use stream::prove_stream;

use crate::tools::Tool;
use anyhow::{bail, Context, Result};
use nmpu_config::NmpuConfig;
use std::path::Path;

/// The lane modules of a generated NMPU for `cfg`, in lane order.
pub fn lane_modules(cfg: &NmpuConfig) -> Vec<String> {
    stream::lane_instances(cfg)
        .iter()
        .map(|i| format!("nmpu_core${i}"))
        .collect()
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

/// A post-synthesis netlist of the NMPU Verilog `rtl`: Yosys `synth` (generic gates and
/// flip-flops) with the hierarchy kept, written back as Verilog. Kept hierarchy is what
/// lets the proof find each stage's multiplier (`...$multiply`) and prove it on its own.
pub fn synthesize(rtl: &str, dir: &Path) -> Result<String> {
    std::fs::write(dir.join("rtl.v"), rtl)?;
    crate::process::run(
        Tool::Yosys,
        Tool::Yosys.command().args([
            "-q",
            "-p",
            "read_verilog rtl.v; synth -top nmpu; write_verilog -noattr netlist.v",
        ]),
        dir,
    )
    .context("synthesizing the NMPU with Yosys")?;
    Ok(std::fs::read_to_string(dir.join("netlist.v"))?)
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
    /// A gate-level multiplier about to be enumerated: module, stage, log2 of its pairs.
    Enumerating(&'a str, &'a str, u32),
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
    let mut products = vec![];
    for module in lane_modules(cfg) {
        if !has_module(rtl, &module) {
            bail!(
                "the Verilog has no module {module} (lane of the config's {} lanes); a netlist synthesized with -flatten has no lane modules: synthesize without -flatten (hierarchy kept), or use `nmpu prove --netlist`",
                cfg.lanes
            );
        }
        let p = prove_lane(
            cfg,
            dir,
            "nmpu.v",
            &module,
            timeout_s,
            &mut products,
            progress,
        )?;
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
