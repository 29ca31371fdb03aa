//! What the proof needs to know of a lane's netlist, read from Yosys's JSON: its ports,
//! its multipliers (operand widths and signedness) and the register depth of each from the
//! ADC code, the lane's latency, and that every flip-flop holds while `en` is low.

use super::gates::Gates;
use anyhow::{anyhow, bail, Result};
use serde_json::Value;
use std::collections::HashMap;

/// A multiplier of the lane: a `$mul` cell (renamed `proof_mulN` by the flow), or an
/// instance of a gate-level multiplier module (a synthesized netlist's `...$multiply`).
#[derive(Clone, Debug, PartialEq)]
pub struct Mul {
    pub cell: String,
    /// Its operand and product ports: `A B Y` of a `$mul`, `v k p` of a module.
    pub ports: [String; 3],
    pub a: (u32, bool),
    pub b: (u32, bool),
    pub y: u32,
    /// Registers between the lane's `x` and the multiplier's operands.
    pub depth: u32,
    /// A gate-level module: its name and the operand bits its product depends on (bit i
    /// of port `v`, of port `k`); `None` for a `$mul`.
    pub gates: Option<GateMul>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GateMul {
    pub module: String,
    pub read_v: Vec<bool>,
    pub read_k: Vec<bool>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LaneNetlist {
    /// Port name -> width.
    pub ports: HashMap<String, u32>,
    /// The coefficient banks' outputs (instance `banks`): name -> width.
    pub banks: HashMap<String, u32>,
    /// Multipliers in pipeline order.
    pub muls: Vec<Mul>,
    /// Registers between `x` and `y` (the NMPU's documented latency when `y` does not
    /// depend on `x`).
    pub latency: u32,
    /// `y` does not depend on `x`: the formats make the output one constant.
    pub constant_output: bool,
    pub flip_flops: usize,
}

fn bits(v: &Value) -> Vec<Option<u64>> {
    v.as_array()
        .map(|a| a.iter().map(Value::as_u64).collect())
        .unwrap_or_default()
}

fn param(cell: &Value, name: &str) -> Result<u32> {
    let p = &cell["parameters"][name];
    let n = match p {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => u64::from_str_radix(s, 2).ok(),
        _ => None,
    };
    n.map(|n| n as u32)
        .ok_or_else(|| anyhow!("multiplier parameter {name} unreadable: {p}"))
}

fn is_flip_flop(kind: &str) -> bool {
    kind.to_ascii_lowercase().contains("dff")
}

/// Whether `name` is a gate-level multiplier module of a synthesized netlist: a module
/// the generator named `...$multiply` (the product of a multiply-add stage) without a
/// `$mul` cell.
pub fn is_gate_multiplier(json: &Value, name: &str) -> bool {
    let m = &json["modules"][name];
    name.ends_with("$multiply")
        && !m.is_null()
        && m["cells"]
            .as_object()
            .into_iter()
            .flatten()
            .all(|(_, c)| c["type"] != "$mul")
}

/// Reads `module` of Yosys's `write_json` output; `latency` is the NMPU's documented
/// latency, taken when the lane's output depends on no input (it cannot be read then).
pub fn analyse(v: &Value, module: &str, latency_if_constant: u32) -> Result<LaneNetlist> {
    let m = &v["modules"][module];
    if m.is_null() {
        bail!("module {module} missing from the netlist");
    }
    let mut ports = HashMap::new();
    let mut port_bits: HashMap<String, Vec<Option<u64>>> = HashMap::new();
    for (name, p) in m["ports"].as_object().into_iter().flatten() {
        let b = bits(&p["bits"]);
        ports.insert(name.clone(), b.len() as u32);
        port_bits.insert(name.clone(), b);
    }
    let cells = m["cells"].as_object().cloned().unwrap_or_default();
    let mut driver: HashMap<u64, String> = HashMap::new();
    for (name, c) in &cells {
        for (port, dir) in c["port_directions"].as_object().into_iter().flatten() {
            if dir == "output" {
                for b in bits(&c["connections"][port]).into_iter().flatten() {
                    driver.insert(b, name.clone());
                }
            }
        }
    }
    let x: Vec<u64> = port_bits
        .get("x")
        .ok_or_else(|| anyhow!("the lane has no input x"))?
        .iter()
        .flatten()
        .copied()
        .collect();
    let en = port_bits
        .get("en")
        .and_then(|b| b.first().copied().flatten())
        .ok_or_else(|| anyhow!("the lane has no input en"))?;
    let mut memo: HashMap<u64, Option<u32>> = HashMap::new();
    let depth = |bit: u64, memo: &mut HashMap<u64, Option<u32>>| {
        depth_of(bit, &x, &cells, &driver, memo, 0)
    };
    let mut latency = None;
    for b in port_bits.get("y").into_iter().flatten().flatten() {
        latency = latency.max(depth(*b, &mut memo)?);
    }
    let constant_output = latency.is_none();
    let latency = latency.unwrap_or(latency_if_constant);
    let mut muls = vec![];
    for (name, c) in &cells {
        let kind = c["type"].as_str().unwrap_or("");
        let (ports, signs, gates) = if kind == "$mul" {
            let signs = (param(c, "A_SIGNED")? == 1, param(c, "B_SIGNED")? == 1);
            (["A", "B", "Y"], signs, None)
        } else if is_gate_multiplier(v, kind) {
            let g = Gates::from_json(v, kind)?;
            let gates = GateMul {
                module: kind.to_string(),
                read_v: g.read_bits("v"),
                read_k: g.read_bits("k"),
            };
            // Its operands are codes sign-extended to the ports (see super::product).
            (["v", "k", "p"], (true, true), Some(gates))
        } else {
            continue;
        };
        let width = |p: &str| bits(&c["connections"][p]).len() as u32;
        if gates.is_some() && ports.iter().any(|p| width(p) > 64) {
            bail!("multiplier {name}: a port wider than 64 bits (the proof reads 64)");
        }
        let mut d = None;
        for port in &ports[..2] {
            for b in bits(&c["connections"][*port]).into_iter().flatten() {
                d = d.max(depth(b, &mut memo)?);
            }
        }
        muls.push(Mul {
            cell: name.clone(),
            a: (width(ports[0]), signs.0),
            b: (width(ports[1]), signs.1),
            y: width(ports[2]),
            ports: ports.map(String::from),
            depth: d.ok_or_else(|| anyhow!("multiplier {name} does not depend on x"))?,
            gates,
        });
    }
    if muls.is_empty() && !constant_output {
        bail!(
            "no multiplier in the lane: neither a $mul cell nor a gate-level module named ...$multiply (a netlist synthesized with -flatten has its multipliers mixed into the lane; synthesize without -flatten, README \"Formal proof\")"
        );
    }
    muls.sort_by_key(|m| m.depth);
    let mut flip_flops = 0;
    for (name, c) in &cells {
        let kind = c["type"].as_str().unwrap_or("");
        if !is_flip_flop(kind) {
            continue;
        }
        flip_flops += 1;
        let enabled = match kind {
            "$dffe" => {
                bits(&c["connections"]["EN"]) == vec![Some(en)]
                    && param(c, "EN_POLARITY").ok() == Some(1)
            }
            // A synthesized netlist's flip-flop with an active-high enable.
            "$_DFFE_PP_" => bits(&c["connections"]["E"]) == vec![Some(en)],
            _ => false,
        };
        if !enabled {
            bail!(
                "flip-flop {name} ({kind}) is not held by the lane's en: a stall would change it"
            );
        }
    }

    // A lane whose output is constant reads no coefficient: Yosys drops its banks.
    let banks = match cells.get("banks") {
        Some(b) => check_banks(b, &port_bits)?,
        None if constant_output => HashMap::new(),
        None => bail!("the lane has no coefficient bank instance `banks`"),
    };
    Ok(LaneNetlist {
        ports,
        banks,
        muls,
        latency,
        constant_output,
        flip_flops,
    })
}

/// The banks instance's output widths, once its ports are checked to be the lane's.
fn check_banks(
    b: &Value,
    port_bits: &HashMap<String, Vec<Option<u64>>>,
) -> Result<HashMap<String, u32>> {
    // The banks read with the lane's pipeline and write from the lane's port: a read
    // enable other than `en` would move the coefficients under a stalled code.
    for (port, lane_port) in [
        ("clock", "clock"),
        ("re", "en"),
        ("raddr", "rd_addr"),
        ("wr_en", "wr_en"),
        ("wr_lane", "wr_lane"),
        ("wr_sel", "wr_sel"),
        ("wr_addr", "wr_addr"),
        ("wr_data", "wr_data"),
    ] {
        let got = bits(&b["connections"][port]);
        let want = port_bits.get(lane_port).cloned().unwrap_or_default();
        if got != want {
            bail!("the banks' {port} is not the lane's {lane_port}");
        }
    }
    Ok(b["port_directions"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, d)| *d == "output")
        .map(|(p, _)| (p.clone(), bits(&b["connections"][p]).len() as u32))
        .collect())
}

/// Registers on the longest path from `x` to `bit` (`None`: not reached from `x`).
fn depth_of(
    bit: u64,
    x: &[u64],
    cells: &serde_json::Map<String, Value>,
    driver: &HashMap<u64, String>,
    memo: &mut HashMap<u64, Option<u32>>,
    level: u32,
) -> Result<Option<u32>> {
    if let Some(d) = memo.get(&bit) {
        return Ok(*d);
    }
    if x.contains(&bit) {
        return Ok(Some(0));
    }
    if level > 10_000 {
        bail!("the lane has a combinational loop");
    }
    let Some(name) = driver.get(&bit) else {
        return Ok(None);
    };
    let c = &cells[name];
    let kind = c["type"].as_str().unwrap_or("");
    let inputs: Vec<&str> = if is_flip_flop(kind) {
        vec!["D"]
    } else {
        c["port_directions"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, d)| *d == "input")
            .map(|(p, _)| p.as_str())
            .collect()
    };
    let mut d = None;
    for p in inputs {
        for b in bits(&c["connections"][p]).into_iter().flatten() {
            d = d.max(depth_of(b, x, cells, driver, memo, level + 1)?);
        }
    }
    let d = d.map(|d| d + u32::from(is_flip_flop(kind)));
    memo.insert(bit, d);
    Ok(d)
}
