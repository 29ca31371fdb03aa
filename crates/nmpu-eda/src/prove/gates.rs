//! A combinational gate-level module as Yosys writes it after `synth` (its internal cells
//! `$_AND_`, `$_XOR_`, `$_MUX_`, ...), evaluated on many input vectors at once: every net
//! holds one bit of [`LANES`] vectors (bit-sliced), so one gate costs a few word
//! operations for all of them. This is what makes an exhaustive check of a synthesized
//! multiplier (2^27 to 2^33 input pairs) take seconds to a minute.

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;
use std::array::from_fn;
use std::collections::HashMap;

/// Words per net in one evaluation.
pub const WORDS: usize = 16;
/// Vectors per evaluation.
pub const LANES: usize = 64 * WORDS;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Buf,
    Not,
    And,
    Nand,
    Or,
    Nor,
    Xor,
    Xnor,
    AndNot,
    OrNot,
    Mux,
    NMux,
    Aoi3,
    Oai3,
    Aoi4,
    Oai4,
}

impl Op {
    /// The cell type and its input ports in the order `eval` reads them.
    fn of(kind: &str) -> Option<(Op, &'static [&'static str])> {
        const A: &[&str] = &["A"];
        const AB: &[&str] = &["A", "B"];
        const ABS: &[&str] = &["A", "B", "S"];
        const ABC: &[&str] = &["A", "B", "C"];
        const ABCD: &[&str] = &["A", "B", "C", "D"];
        Some(match kind {
            "$_BUF_" => (Op::Buf, A),
            "$_NOT_" => (Op::Not, A),
            "$_AND_" => (Op::And, AB),
            "$_NAND_" => (Op::Nand, AB),
            "$_OR_" => (Op::Or, AB),
            "$_NOR_" => (Op::Nor, AB),
            "$_XOR_" => (Op::Xor, AB),
            "$_XNOR_" => (Op::Xnor, AB),
            "$_ANDNOT_" => (Op::AndNot, AB),
            "$_ORNOT_" => (Op::OrNot, AB),
            "$_MUX_" => (Op::Mux, ABS),
            "$_NMUX_" => (Op::NMux, ABS),
            "$_AOI3_" => (Op::Aoi3, ABC),
            "$_OAI3_" => (Op::Oai3, ABC),
            "$_AOI4_" => (Op::Aoi4, ABCD),
            "$_OAI4_" => (Op::Oai4, ABCD),
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug)]
struct Gate {
    op: Op,
    ins: [usize; 4],
    out: usize,
}

/// Net 0 is constant 0 and net 1 constant 1 (Yosys numbers real bits from 2).
const ZERO: usize = 0;
const ONE: usize = 1;

/// A combinational module of simple gates, in evaluation order.
#[derive(Clone, Debug)]
pub struct Gates {
    nets: usize,
    gates: Vec<Gate>,
    /// Port name -> its bits' nets, LSB first.
    inputs: HashMap<String, Vec<usize>>,
    outputs: HashMap<String, Vec<usize>>,
}

fn net(bit: &Value) -> Result<usize> {
    match bit {
        Value::Number(n) => n
            .as_u64()
            .map(|n| n as usize)
            .ok_or_else(|| anyhow!("bad bit {n}")),
        Value::String(s) if s == "0" => Ok(ZERO),
        Value::String(s) if s == "1" => Ok(ONE),
        other => bail!("undefined bit {other} (x or z) in a gate netlist"),
    }
}

fn nets(bits: &Value) -> Result<Vec<usize>> {
    bits.as_array()
        .ok_or_else(|| anyhow!("bits are not a list"))?
        .iter()
        .map(net)
        .collect()
}

impl Gates {
    /// Reads `module` of Yosys's `write_json` output; every cell must be a simple gate.
    pub fn from_json(json: &Value, module: &str) -> Result<Gates> {
        let m = &json["modules"][module];
        if m.is_null() {
            bail!("module {module} missing from the netlist");
        }
        let (mut inputs, mut outputs) = (HashMap::new(), HashMap::new());
        let mut top = ONE;
        for (name, p) in m["ports"].as_object().into_iter().flatten() {
            let b = nets(&p["bits"]).with_context(|| format!("port {name}"))?;
            top = top.max(b.iter().copied().max().unwrap_or(0));
            match p["direction"].as_str() {
                Some("input") => inputs.insert(name.clone(), b),
                Some("output") => outputs.insert(name.clone(), b),
                _ => bail!("port {name} of {module} is neither input nor output"),
            };
        }
        let mut raw = vec![];
        for (name, c) in m["cells"].as_object().into_iter().flatten() {
            let kind = c["type"].as_str().unwrap_or("");
            let (op, ports) = Op::of(kind).ok_or_else(|| {
                anyhow!("cell {name} of {module} is a {kind}, not a simple combinational gate")
            })?;
            let mut ins = [ZERO; 4];
            for (i, p) in ports.iter().enumerate() {
                ins[i] = *nets(&c["connections"][p])?
                    .first()
                    .ok_or_else(|| anyhow!("cell {name}: no {p}"))?;
            }
            let out = *nets(&c["connections"]["Y"])?
                .first()
                .ok_or_else(|| anyhow!("cell {name}: no Y"))?;
            top = top.max(out).max(ins.iter().copied().max().unwrap_or(0));
            raw.push(Gate { op, ins, out });
        }
        let gates = order(raw, top + 1, &inputs)?;
        let (gates, outputs) = simplify(gates, outputs);
        // Nets renumbered in evaluation order, so a gate's inputs are near it in memory.
        let mut dense = vec![usize::MAX; top + 1];
        dense[ZERO] = ZERO;
        dense[ONE] = ONE;
        let mut next = 2;
        let mut place = |n: usize, dense: &mut Vec<usize>| {
            if dense[n] == usize::MAX {
                dense[n] = next;
                next += 1;
            }
        };
        for b in inputs.values().flatten() {
            place(*b, &mut dense);
        }
        for g in &gates {
            place(g.out, &mut dense);
        }
        let renumber = |n: usize| -> Result<usize> {
            match dense[n] {
                usize::MAX => bail!("net {n} of {module} has no driver"),
                d => Ok(d),
            }
        };
        let gates = gates
            .iter()
            .map(|g| {
                let mut ins = [ZERO; 4];
                for (d, s) in ins.iter_mut().zip(g.ins) {
                    *d = renumber(s)?;
                }
                Ok(Gate {
                    op: g.op,
                    ins,
                    out: renumber(g.out)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let ports = |m: HashMap<String, Vec<usize>>| -> Result<HashMap<String, Vec<usize>>> {
            m.into_iter()
                .map(|(p, b)| Ok((p, b.into_iter().map(renumber).collect::<Result<_>>()?)))
                .collect()
        };
        Ok(Gates {
            nets: next,
            gates,
            inputs: ports(inputs)?,
            outputs: ports(outputs)?,
        })
    }

    pub fn input(&self, port: &str) -> Option<&[usize]> {
        self.inputs.get(port).map(Vec::as_slice)
    }

    pub fn output(&self, port: &str) -> Option<&[usize]> {
        self.outputs.get(port).map(Vec::as_slice)
    }

    /// Which bits of input `port` some output depends on (bit i of the mask: port bit i).
    pub fn read_bits(&self, port: &str) -> Vec<bool> {
        let mut live = vec![false; self.nets];
        for b in self.outputs.values().flatten() {
            live[*b] = true;
        }
        for g in self.gates.iter().rev() {
            if live[g.out] {
                for i in g.ins {
                    live[i] = true;
                }
            }
        }
        self.inputs
            .get(port)
            .map(|b| b.iter().map(|&n| n > ONE && live[n]).collect())
            .unwrap_or_default()
    }

    /// A buffer for [`Gates::eval`]: every net's [`WORDS`] words.
    pub fn buffer(&self) -> Vec<u64> {
        let mut v = vec![0; self.nets * WORDS];
        v[ONE * WORDS..(ONE + 1) * WORDS].fill(!0);
        v
    }

    /// Evaluates every gate on the input nets' words already in `v` (from [`Gates::buffer`]).
    pub fn eval(&self, v: &mut [u64]) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has the feature the function is compiled for.
                return unsafe { self.eval_avx512(v) };
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: as above.
                return unsafe { self.eval_avx2(v) };
            }
        }
        self.eval_words(v)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn eval_avx512(&self, v: &mut [u64]) {
        self.eval_words(v)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn eval_avx2(&self, v: &mut [u64]) {
        self.eval_words(v)
    }

    #[inline(always)]
    fn eval_words(&self, v: &mut [u64]) {
        for g in &self.gates {
            let at = |n: usize| -> &[u64; WORDS] {
                (&v[n * WORDS..(n + 1) * WORDS])
                    .try_into()
                    .expect("a net's words")
            };
            let (a, b, c, d) = (at(g.ins[0]), at(g.ins[1]), at(g.ins[2]), at(g.ins[3]));
            // One loop per operation (not a match per word), so each vectorizes.
            let y: [u64; WORDS] = match g.op {
                Op::Buf => *a,
                Op::Not => from_fn(|w| !a[w]),
                Op::And => from_fn(|w| a[w] & b[w]),
                Op::Nand => from_fn(|w| !(a[w] & b[w])),
                Op::Or => from_fn(|w| a[w] | b[w]),
                Op::Nor => from_fn(|w| !(a[w] | b[w])),
                Op::Xor => from_fn(|w| a[w] ^ b[w]),
                Op::Xnor => from_fn(|w| !(a[w] ^ b[w])),
                Op::AndNot => from_fn(|w| a[w] & !b[w]),
                Op::OrNot => from_fn(|w| a[w] | !b[w]),
                Op::Mux => from_fn(|w| (a[w] & !c[w]) | (b[w] & c[w])),
                Op::NMux => from_fn(|w| !((a[w] & !c[w]) | (b[w] & c[w]))),
                Op::Aoi3 => from_fn(|w| !((a[w] & b[w]) | c[w])),
                Op::Oai3 => from_fn(|w| !((a[w] | b[w]) & c[w])),
                Op::Aoi4 => from_fn(|w| !((a[w] & b[w]) | (c[w] & d[w]))),
                Op::Oai4 => from_fn(|w| !((a[w] | b[w]) & (c[w] | d[w]))),
            };
            v[g.out * WORDS..(g.out + 1) * WORDS].copy_from_slice(&y);
        }
    }
}

impl Op {
    fn two(self, a: bool, b: bool) -> Option<bool> {
        Some(match self {
            Op::And => a & b,
            Op::Nand => !(a & b),
            Op::Or => a | b,
            Op::Nor => !(a | b),
            Op::Xor => a ^ b,
            Op::Xnor => !(a ^ b),
            Op::AndNot => a & !b,
            Op::OrNot => a | !b,
            _ => return None,
        })
    }
}

const TWO: [Op; 8] = [
    Op::And,
    Op::Nand,
    Op::Or,
    Op::Nor,
    Op::Xor,
    Op::Xnor,
    Op::AndNot,
    Op::OrNot,
];

/// The same function with fewer gates, for speed: a two-input gate reading an inverter's
/// output reads the inverter's input instead, as the two-input gate that absorbs the
/// inversion (`a & ~b` is `$_ANDNOT_`, and so on: Yosys writes those gates back as `~`
/// and `&`); buffers and double inversions become wires; gates no output depends on go.
fn simplify(
    gates: Vec<Gate>,
    outputs: HashMap<String, Vec<usize>>,
) -> (Vec<Gate>, HashMap<String, Vec<usize>>) {
    let mut alias: HashMap<usize, usize> = HashMap::new();
    let mut inverted: HashMap<usize, usize> = HashMap::new();
    let mut kept = vec![];
    for mut g in gates {
        for i in g.ins.iter_mut() {
            *i = alias.get(i).copied().unwrap_or(*i);
        }
        match g.op {
            Op::Buf => {
                alias.insert(g.out, g.ins[0]);
                continue;
            }
            Op::Not => {
                if let Some(&src) = inverted.get(&g.ins[0]) {
                    alias.insert(g.out, src);
                    continue;
                }
                inverted.insert(g.out, g.ins[0]);
            }
            op if op.two(false, false).is_some() => {
                let (ia, ib) = (inverted.get(&g.ins[0]), inverted.get(&g.ins[1]));
                if ia.is_some() || ib.is_some() {
                    let (a, b) = (*ia.unwrap_or(&g.ins[0]), *ib.unwrap_or(&g.ins[1]));
                    let f = |x: bool, y: bool| op.two(x ^ ia.is_some(), y ^ ib.is_some());
                    let same = |new: Op, swap: bool| {
                        [(false, false), (false, true), (true, false), (true, true)]
                            .iter()
                            .all(|&(x, y)| {
                                let got = if swap { new.two(y, x) } else { new.two(x, y) };
                                got == f(x, y)
                            })
                    };
                    if let Some((new, swap)) = TWO
                        .iter()
                        .flat_map(|&n| [(n, false), (n, true)])
                        .find(|&(n, sw)| same(n, sw))
                    {
                        g.op = new;
                        g.ins[0] = if swap { b } else { a };
                        g.ins[1] = if swap { a } else { b };
                    }
                }
            }
            _ => {}
        }
        kept.push(g);
    }
    let outputs: HashMap<String, Vec<usize>> = outputs
        .into_iter()
        .map(|(p, b)| {
            let b = b
                .into_iter()
                .map(|n| alias.get(&n).copied().unwrap_or(n))
                .collect();
            (p, b)
        })
        .collect();
    let mut live: std::collections::HashSet<usize> = outputs.values().flatten().copied().collect();
    let mut alive = vec![];
    for g in kept.into_iter().rev() {
        if live.contains(&g.out) {
            live.extend(g.ins);
            alive.push(g);
        }
    }
    alive.reverse();
    (alive, outputs)
}

/// The gates in an order where every gate follows the gates driving its inputs.
fn order(raw: Vec<Gate>, nets: usize, inputs: &HashMap<String, Vec<usize>>) -> Result<Vec<Gate>> {
    let mut driver = vec![usize::MAX; nets];
    for (i, g) in raw.iter().enumerate() {
        if driver[g.out] != usize::MAX || g.out <= ONE {
            bail!("net {} has more than one driver", g.out);
        }
        driver[g.out] = i;
    }
    for b in inputs.values().flatten() {
        if *b > ONE && driver[*b] != usize::MAX {
            bail!("input bit {b} is also driven by a gate");
        }
    }
    // 0 unvisited, 1 on the path, 2 placed.
    let mut state = vec![0u8; raw.len()];
    let mut out = Vec::with_capacity(raw.len());
    for root in 0..raw.len() {
        let mut stack = vec![(root, 0usize)];
        while let Some((g, next)) = stack.pop() {
            if next == 0 {
                if state[g] == 2 {
                    continue;
                }
                state[g] = 1;
            }
            if next < 4 {
                stack.push((g, next + 1));
                let d = driver[raw[g].ins[next]];
                if d != usize::MAX {
                    match state[d] {
                        0 => stack.push((d, 0)),
                        1 => bail!("combinational loop through net {}", raw[d].out),
                        _ => {}
                    }
                }
            } else {
                state[g] = 2;
                out.push(raw[g]);
            }
        }
    }
    Ok(out)
}
