//! The proof of one lane's datapath against the spec (the module docs of [`super`] say
//! how): the Yosys scripts, the run, the verdict and its counterexample.

use super::product::{self, ProductProof};
use super::sat::{model_at, run_script, Sat};
use super::{harness, lane, spec, Step};
use crate::process::run;
use crate::tools::Tool;
use anyhow::{bail, Context, Result};
use nmpu_config::{NmpuConfig, QFormat};
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

/// One lane's outcome.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    Proved,
    Counterexample(Counterexample),
    /// A gate-level multiplier of the lane computes a wrong product.
    WrongProduct(ProductProof),
    Timeout,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LaneProof {
    pub module: String,
    pub latency: u32,
    /// The lane's output depends on no input (one constant for every ADC code): its
    /// latency is the documented one, and no multiplier is left to cut.
    pub constant_output: bool,
    pub multipliers: usize,
    pub flip_flops: usize,
    /// The exhaustive checks of the lane's gate-level multipliers run for this lane (one
    /// already run for an earlier lane is not repeated).
    pub products: Vec<ProductProof>,
    pub verdict: Verdict,
    pub seconds: f64,
}

/// Yosys commands that read `file`, keep `module` as `dut_lane` with its banks and its
/// gate-level multipliers (a netlist's `...$multiply` modules without a `$mul`) as
/// instances, and name its `$mul` cells `proof_mul*`.
fn prefix(file: &str, module: &str) -> String {
    format!(
        "read_verilog {file}\nhierarchy -top {module}\nrename {module} dut_lane\nproc\nopt_dff\n\
         setattr -mod -set keep_hierarchy 1 {module}$banks *$multiply\nsimplemap *$multiply\n\
         setattr -mod -unset keep_hierarchy t:$mul %m\nflatten\nopt_clean\n\
         rename -enumerate -pattern proof_mul% t:$mul\n"
    )
}

/// Proves one lane module of the Verilog file `rtl` (in `dir`) against the spec of `cfg`.
/// `proved` holds the gate-level multipliers already checked (by earlier lanes; a module
/// with the same gates and formats is not checked again); the ones this lane checks are
/// added.
pub fn prove_lane(
    cfg: &NmpuConfig,
    dir: &Path,
    rtl: &str,
    module: &str,
    timeout_s: u64,
    proved: &mut Vec<ProductProof>,
    progress: &dyn Fn(Step),
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
    let documented = nmpu_rtl::LATENCY as u32;
    let design: serde_json::Value = serde_json::from_str(&json).context("Yosys JSON")?;
    let netlist =
        lane::analyse(&design, "dut_lane", documented).with_context(|| format!("lane {module}"))?;
    let stages = spec::mac_stages(cfg).len();
    if netlist.muls.len() != stages && !netlist.constant_output {
        bail!(
            "lane {module} has {} multipliers, the config's pipeline {stages} multiply-add stage(s)",
            netlist.muls.len()
        );
    }
    for (s, (_, (lo, hi))) in spec::mac_stages(cfg).iter().zip(spec::reachable(cfg)) {
        let word = i64::MIN as i128..=i64::MAX as i128;
        if !word.contains(&lo) || !word.contains(&hi) {
            bail!(
                "the {} products reach [{lo}, {hi}], beyond the proof's 64-bit words",
                s.name
            );
        }
    }
    let lane_proof = |products, verdict| LaneProof {
        module: module.to_string(),
        latency: netlist.latency,
        constant_output: netlist.constant_output,
        multipliers: netlist.muls.len(),
        flip_flops: netlist.flip_flops,
        products,
        verdict,
        seconds: start.elapsed().as_secs_f64(),
    };
    let mut products = vec![];
    for (m, stage) in netlist.muls.iter().zip(spec::mac_stages(cfg)) {
        let Some(g) = &m.gates else { continue };
        let f = product::fingerprint(&design, &g.module);
        let done = |p: &ProductProof| p.fingerprint == f && p.v == stage.v && p.k == stage.k.1;
        if proved.iter().any(done) {
            continue;
        }
        let pairs = stage.v.width() + stage.k.1.width();
        progress(Step::Enumerating(&g.module, stage.name, pairs));
        let p = product::prove_module(&design, &g.module, &stage)?;
        proved.push(p.clone());
        products.push(p.clone());
        if p.wrong.is_some() {
            return Ok(lane_proof(products, Verdict::WrongProduct(p)));
        }
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
    let mut evert = vec![];
    if !netlist.banks.is_empty() {
        evert.push("dut_lane/banks".to_string());
    }
    for (i, m) in netlist.muls.iter().enumerate() {
        s += &format!("chtype -set proof_cut_{i} dut_lane/{}\n", m.cell);
        evert.push(format!("dut_lane/{}", m.cell));
    }
    if !evert.is_empty() {
        s += &format!("expose -evert -sep _ {}\n", evert.join(" "));
    }
    s += &format!("read_verilog spec.v {tag}.proof.v\nhierarchy -top nmpu_proof\nproc\nflatten\n");
    let steps = netlist.latency + 2;
    s += &format!(
        "sat -seq {steps} -prove-skip {} -prove ok 1 -timeout {timeout_s} -show-inputs -show-outputs nmpu_proof\n",
        steps - 1
    );
    let (outcome, log) = run_script(
        dir,
        &format!("{tag}.prove"),
        &s,
        &format!("proving lane {module}"),
    )?;
    let verdict = match outcome {
        Sat::Proved => Verdict::Proved,
        Sat::Timeout => Verdict::Timeout,
        Sat::Failed => match Counterexample::from_model(cfg, &model_at(&log, steps)) {
            Some(c) => Verdict::Counterexample(c),
            None => {
                bail!("lane {module}: the SAT model names no failing check of the lane, so a stage's input left the range the proof drew its products from: a fault of the proof's range analysis (spec::reachable), not of the lane (log: {tag}.prove.log)")
            }
        },
    };
    Ok(lane_proof(products, verdict))
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
