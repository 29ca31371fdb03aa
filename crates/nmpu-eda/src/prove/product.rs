//! The exhaustive proof of a synthesized multiplier: for every code `v` of one format and
//! every code `k` of another, the gate netlist's output word is `v*k`. Where the lane proof
//! ([`super::datapath`]) cuts a gate-level multiplier out of a lane, it asserts that the
//! bits the multiplier reads equal those of the spec's operands (sign- or zero-extended
//! codes) and hands the lane the spec's product; this check makes that hand-over sound.
//!
//! An enumeration is a proof where SAT is not one: SAT cannot show two different
//! multiplier circuits equal at these widths (toolchain field notes), while 2^27 (the
//! default affine stage) to 2^33 (its batch-norm stage) input pairs take seconds to a
//! minute bit-sliced ([`super::gates`]).

use super::gates::{Gates, LANES, WORDS};
use super::spec::MacStage;
use anyhow::{bail, Context, Result};
use nmpu_config::QFormat;
use serde_json::Value;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Instant;

/// Input pairs a check enumerates at most (2^36: a few minutes on two cores).
pub const MAX_CASES_LOG2: u32 = 36;

/// A pair the netlist multiplies wrongly, the lowest in enumeration order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrongProduct {
    pub v: i64,
    pub k: i64,
    /// The product's word (as wide as the output port) and the netlist's.
    pub want: u64,
    pub got: u64,
}

/// One operand: an input port and the format of the codes it carries, sign- or
/// zero-extended over the port's width.
#[derive(Clone, Copy, Debug)]
pub struct Operand<'a> {
    pub port: &'a str,
    pub format: QFormat,
}

/// The exhaustive check of one gate-level multiplier module for one stage's formats.
#[derive(Clone, Debug, PartialEq)]
pub struct ProductProof {
    pub module: String,
    /// The module's netlist (see [`fingerprint`]): a check holds for the same gates only.
    pub fingerprint: u64,
    /// The multiply-add stage whose operands it multiplies.
    pub stage: &'static str,
    pub v: QFormat,
    pub k: QFormat,
    /// The first pair it multiplies wrongly; `None`: every pair right.
    pub wrong: Option<WrongProduct>,
    pub seconds: f64,
}

impl ProductProof {
    /// log2 of the pairs enumerated.
    pub fn pairs_log2(&self) -> u32 {
        self.v.width() + self.k.width()
    }
}

/// A hash of module `module` of Yosys JSON `json`: its ports, cells and connections.
pub fn fingerprint(json: &Value, module: &str) -> u64 {
    let mut h = DefaultHasher::new();
    json["modules"][module].to_string().hash(&mut h);
    h.finish()
}

/// Checks module `module` of Yosys JSON `json` (ports `v`, `k`, `p`) on every pair of
/// codes of `stage`'s formats, on every core.
pub fn prove_module(json: &Value, module: &str, stage: &MacStage) -> Result<ProductProof> {
    let start = Instant::now();
    let gates = Gates::from_json(json, module)?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let wrong = check(
        &gates,
        Operand {
            port: "v",
            format: stage.v,
        },
        Operand {
            port: "k",
            format: stage.k.1,
        },
        "p",
        threads,
    )
    .with_context(|| format!("multiplier {module}"))?;
    Ok(ProductProof {
        module: module.to_string(),
        fingerprint: fingerprint(json, module),
        stage: stage.name,
        v: stage.v,
        k: stage.k.1,
        wrong,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The code of `pattern` (the low `f.width()` bits) in format `f`.
fn decode(pattern: u64, f: QFormat) -> i64 {
    let w = f.width();
    if f.signed && pattern >> (w - 1) & 1 == 1 {
        pattern as i64 - (1i64 << w)
    } else {
        pattern as i64
    }
}

const LOW: [u64; 6] = [
    0xAAAA_AAAA_AAAA_AAAA,
    0xCCCC_CCCC_CCCC_CCCC,
    0xF0F0_F0F0_F0F0_F0F0,
    0xFF00_FF00_FF00_FF00,
    0xFFFF_0000_FFFF_0000,
    0xFFFF_FFFF_0000_0000,
];

/// Transposes a 64x64 bit matrix (row i, bit j) in place (Hacker's Delight 7-3).
fn transpose(m: &mut [u64; 64]) {
    let mut j = 32;
    let mut mask: u64 = 0x0000_0000_FFFF_FFFF;
    while j != 0 {
        let mut k = 0;
        while k < 64 {
            let t = ((m[k] >> j) ^ m[k + j]) & mask;
            m[k] ^= t << j;
            m[k + j] ^= t;
            k = (k + j + 1) & !j;
        }
        j >>= 1;
        mask ^= mask << j;
    }
}

/// Checks `gates`' output `p` against `v*k` for every pair of codes, on `threads` threads.
pub fn check(
    gates: &Gates,
    v: Operand,
    k: Operand,
    p: &str,
    threads: usize,
) -> Result<Option<WrongProduct>> {
    let total = v.format.width() + k.format.width();
    if total > MAX_CASES_LOG2 {
        bail!("2^{total} operand pairs are too many to enumerate (at most 2^{MAX_CASES_LOG2})");
    }
    let Some(out) = gates.output(p) else {
        bail!("the multiplier has no output {p}");
    };
    if out.len() > 64 {
        bail!("the multiplier's output {p} is wider than 64 bits");
    }
    for op in [v, k] {
        if gates.input(op.port).is_none() {
            bail!("the multiplier has no input {}", op.port);
        }
    }
    // The wider operand varies across the lanes of a block, the other from block to block.
    let (outer, inner) = if v.format.width() >= k.format.width() {
        (k, v)
    } else {
        (v, k)
    };
    let e = Enumeration::new(outer, inner);
    let blocks = e.blocks();
    let threads = threads.clamp(1, blocks as usize);
    let found = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads as u64)
            .map(|t| {
                let range = blocks * t / threads as u64..blocks * (t + 1) / threads as u64;
                s.spawn(move || e.run(gates, out, range))
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a product worker panicked"))
            .collect::<Vec<_>>()
    });
    Ok(found.into_iter().flatten().next().map(|(o, i, want, got)| {
        let (v, k) = if outer.port == v.port { (o, i) } else { (i, o) };
        WrongProduct { v, k, want, got }
    }))
}

/// How the pairs are laid out: block `b` holds one outer code (`b >> hi_bits`) and the
/// inner codes whose top bits are `b`'s low `hi_bits`; lane `j` has the inner code's low
/// bits `j`. So an inner code is `H*2^L + d(j)` and every product of a block is
/// `C + P(j)`: a constant plus one of the products of the outer code with the lane codes,
/// computed once per outer code.
#[derive(Clone, Copy)]
struct Enumeration<'a> {
    outer: Operand<'a>,
    inner: Operand<'a>,
    /// Inner bits across the lanes (`L`), and above them (block bits).
    lane_bits: u32,
    hi_bits: u32,
}

impl<'a> Enumeration<'a> {
    fn new(outer: Operand<'a>, inner: Operand<'a>) -> Self {
        let lane_bits = inner.format.width().min(LANES.trailing_zeros());
        Enumeration {
            outer,
            inner,
            lane_bits,
            hi_bits: inner.format.width() - lane_bits,
        }
    }

    fn blocks(&self) -> u64 {
        1 << (self.outer.format.width() + self.hi_bits)
    }

    fn lanes(&self) -> usize {
        1 << self.lane_bits
    }

    /// The inner code of lane `j` less its block's part (`d(j)`).
    fn lane_code(&self, j: usize) -> i64 {
        if self.hi_bits == 0 {
            decode(j as u64, self.inner.format)
        } else {
            j as i64
        }
    }

    /// The outer code and the inner code's block part (`H * 2^L`) of block `b`.
    fn block_codes(&self, b: u64) -> (i64, i64) {
        let outer = decode(b >> self.hi_bits, self.outer.format);
        if self.hi_bits == 0 {
            return (outer, 0);
        }
        let hi = QFormat::new(self.inner.format.signed, self.hi_bits as i32, 0);
        let h = decode(b & ((1 << self.hi_bits) - 1), hi);
        (outer, h << self.lane_bits)
    }

    /// Which block-level bit (of `b`) or lane bit drives input bit `i` of `op`.
    fn source(&self, op: Operand, i: usize) -> Source {
        let w = op.format.width();
        let i = if i < w as usize {
            i as u32
        } else if op.format.signed {
            w - 1
        } else {
            return Source::Zero;
        };
        if op.port == self.inner.port {
            if i < self.lane_bits {
                Source::Lane(i)
            } else {
                Source::Block(i - self.lane_bits)
            }
        } else {
            Source::Block(self.hi_bits + i)
        }
    }

    /// Checks blocks `blocks`; the first wrong pair as (outer, inner, want, got).
    fn run(
        &self,
        gates: &Gates,
        out: &[usize],
        blocks: std::ops::Range<u64>,
    ) -> Option<(i64, i64, u64, u64)> {
        let mut buf = gates.buffer();
        let words = self.lanes().div_ceil(64);
        let valid = if self.lanes() >= 64 {
            !0u64
        } else {
            (1u64 << self.lanes()) - 1
        };
        let mask = if out.len() == 64 {
            !0
        } else {
            (1u64 << out.len()) - 1
        };
        let mut block_inputs = vec![];
        for op in [self.outer, self.inner] {
            for (i, &n) in gates.input(op.port).unwrap_or_default().iter().enumerate() {
                if n <= 1 {
                    continue;
                }
                let planes = &mut buf[n * WORDS..(n + 1) * WORDS];
                match self.source(op, i) {
                    Source::Zero => planes.fill(0),
                    Source::Lane(b) if b < 6 => planes.fill(LOW[b as usize]),
                    Source::Lane(b) => {
                        for (w, p) in planes.iter_mut().enumerate() {
                            *p = 0u64.wrapping_sub((w as u64 >> (b - 6)) & 1);
                        }
                    }
                    Source::Block(b) => block_inputs.push((n, b)),
                }
            }
        }
        // Planes of P(j) for the current outer code, and of C + P(j).
        let mut lane_products = vec![[0u64; WORDS]; out.len()];
        let mut outer_now = None;
        let mut want = vec![[0u64; WORDS]; out.len()];
        for block in blocks {
            for &(n, b) in &block_inputs {
                buf[n * WORDS..(n + 1) * WORDS].fill(0u64.wrapping_sub((block >> b) & 1));
            }
            let (o, h) = self.block_codes(block);
            if outer_now != Some(o) {
                self.lane_planes(o, words, &mut lane_products);
                outer_now = Some(o);
            }
            add_constant(&lane_products, o.wrapping_mul(h) as u64, words, &mut want);
            gates.eval(&mut buf);
            for w in 0..words {
                let mut wrong = 0;
                for (i, &n) in out.iter().enumerate() {
                    wrong |= buf[n * WORDS + w] ^ want[i][w];
                }
                wrong &= valid;
                if wrong != 0 {
                    let j = w * 64 + wrong.trailing_zeros() as usize;
                    let bit = |planes: &dyn Fn(usize) -> u64| {
                        (0..out.len()).fold(0u64, |acc, i| acc | ((planes(i) >> (j % 64)) & 1) << i)
                    };
                    let got = bit(&|i| buf[out[i] * WORDS + w]);
                    let want = o.wrapping_mul(h + self.lane_code(j)) as u64 & mask;
                    return Some((o, h + self.lane_code(j), want, got));
                }
            }
        }
        None
    }

    /// `planes[i][w]` bit `j`: bit i of `outer * d(64 w + j)`.
    fn lane_planes(&self, outer: i64, words: usize, planes: &mut [[u64; WORDS]]) {
        let mut m = [0u64; 64];
        for w in 0..words {
            for (j, r) in m.iter_mut().enumerate() {
                *r = outer.wrapping_mul(self.lane_code((w * 64 + j) % self.lanes())) as u64;
            }
            transpose(&mut m);
            for (i, p) in planes.iter_mut().enumerate() {
                p[w] = m[i];
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Source {
    Zero,
    Lane(u32),
    Block(u32),
}

/// `sum = planes + c` (bit-sliced ripple addition of a constant, modulo 2^planes).
fn add_constant(planes: &[[u64; WORDS]], c: u64, words: usize, sum: &mut [[u64; WORDS]]) {
    for w in 0..words {
        let mut carry = 0u64;
        for (i, (p, s)) in planes.iter().zip(sum.iter_mut()).enumerate() {
            let (a, b) = (p[w], 0u64.wrapping_sub((c >> i) & 1));
            s[w] = a ^ b ^ carry;
            carry = (a & b) | (carry & (a ^ b));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_moves_bit_ij_to_ji() {
        let mut m = [0u64; 64];
        for (i, r) in m.iter_mut().enumerate() {
            *r = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (1 << i);
        }
        let before = m;
        transpose(&mut m);
        for (i, row) in before.iter().enumerate() {
            for (j, col) in m.iter().enumerate() {
                assert_eq!(row >> j & 1, col >> i & 1, "bit ({i}, {j})");
            }
        }
    }

    /// Yosys JSON of an `n x n -> n` array multiplier (shift-and-add, ripple carries) of
    /// ports `v`, `k`, `p`, built from simple gates; `flip` turns its XOR number `flip`
    /// into an OR.
    fn array_multiplier(n: usize, flip: Option<usize>) -> Value {
        let mut next = 2u64;
        let mut bits = |count: usize| -> Vec<u64> {
            let b: Vec<u64> = (next..next + count as u64).collect();
            next += count as u64;
            b
        };
        let (v, k) = (bits(n), bits(n));
        let mut cells = serde_json::Map::new();
        let mut xors = 0;
        let mut gate = |kind: &str, a: u64, b: u64, y: u64| {
            let kind = if kind == "$_XOR_" {
                xors += 1;
                if flip == Some(xors) {
                    "$_OR_"
                } else {
                    kind
                }
            } else {
                kind
            };
            let name = format!("g{}", cells.len());
            cells.insert(
                name,
                serde_json::json!({"type": kind, "connections": {"A": [a], "B": [b], "Y": [y]}}),
            );
        };
        // The sum of rows i = 0..n of (v << i) & k[i], modulo 2^n.
        let mut sum: Vec<u64> = bits(n);
        for (j, &s) in sum.iter().enumerate() {
            gate("$_AND_", v[j], k[0], s);
        }
        for i in 1..n {
            let mut carry = None;
            let mut out = sum[..i].to_vec();
            for j in i..n {
                let pp = bits(1)[0];
                gate("$_AND_", v[j - i], k[i], pp);
                let x = bits(1)[0];
                gate("$_XOR_", sum[j], pp, x);
                let (s, c) = (bits(1)[0], bits(1)[0]);
                match carry {
                    None => {
                        gate("$_AND_", sum[j], pp, c);
                        out.push(x);
                        let _ = s;
                    }
                    Some(cin) => {
                        gate("$_XOR_", x, cin, s);
                        let (t, u) = (bits(1)[0], bits(1)[0]);
                        gate("$_AND_", sum[j], pp, t);
                        gate("$_AND_", x, cin, u);
                        gate("$_OR_", t, u, c);
                        out.push(s);
                    }
                }
                carry = Some(c);
            }
            sum = out;
        }
        serde_json::json!({"modules": {"mul": {
            "ports": {
                "v": {"direction": "input", "bits": v},
                "k": {"direction": "input", "bits": k},
                "p": {"direction": "output", "bits": sum},
            },
            "cells": cells,
        }}})
    }

    /// The 12-bit output of the `mul` module of `json` for inputs `v`, `k` (their low 12
    /// bits), one gate at a time until every bit is known.
    fn evaluate(json: &Value, v: u64, k: u64) -> u64 {
        let m = &json["modules"]["mul"];
        let mut known = std::collections::HashMap::new();
        for (port, x) in [("v", v), ("k", k)] {
            for (i, b) in m["ports"][port]["bits"]
                .as_array()
                .unwrap()
                .iter()
                .enumerate()
            {
                known.insert(b.as_u64().unwrap(), x >> i & 1 == 1);
            }
        }
        let cells = m["cells"].as_object().unwrap();
        while known.len() < 24 + cells.len() {
            for c in cells.values() {
                let pin = |p: &str| c["connections"][p][0].as_u64().unwrap();
                let (Some(&a), Some(&b)) = (known.get(&pin("A")), known.get(&pin("B"))) else {
                    continue;
                };
                let y = match c["type"].as_str().unwrap() {
                    "$_AND_" => a & b,
                    "$_OR_" => a | b,
                    _ => a ^ b,
                };
                known.insert(pin("Y"), y);
            }
        }
        let out = m["ports"]["p"]["bits"].as_array().unwrap();
        out.iter()
            .enumerate()
            .map(|(i, b)| u64::from(known[&b.as_u64().unwrap()]) << i)
            .sum()
    }

    fn operand(port: &str, signed: bool, width: i32) -> Operand<'_> {
        Operand {
            port,
            format: QFormat::new(signed, width, 0),
        }
    }

    #[test]
    fn a_right_multiplier_passes_for_signed_and_unsigned_codes() {
        // 16-bit ports: codes are extended over them and the product taken modulo 2^16.
        let g = Gates::from_json(&array_multiplier(16, None), "mul").unwrap();
        // Inner operand wider than the lanes (block bits above them) and narrower; one
        // operand below a word of lanes.
        for (v, k) in [
            (operand("v", true, 12), operand("k", false, 5)),
            (operand("v", false, 7), operand("k", true, 9)),
            (operand("v", true, 3), operand("k", true, 4)),
        ] {
            assert_eq!(check(&g, v, k, "p", 2).unwrap(), None, "{v:?} {k:?}");
        }
    }

    #[test]
    fn a_wrong_gate_gives_the_first_wrong_pair() {
        // The netlist's own function, read lane by lane, is the independent oracle here.
        for flip in [1, 7, 40] {
            let json = array_multiplier(12, Some(flip));
            let g = Gates::from_json(&json, "mul").unwrap();
            let (v, k) = (operand("v", true, 11), operand("k", true, 6));
            let w = check(&g, v, k, "p", 2).unwrap().expect("a wrong product");
            assert_eq!(w.want, (w.v * w.k) as u64 & 0xfff, "{w:?}");
            assert_ne!(w.got, w.want);
            assert_eq!(w.got, evaluate(&json, w.v as u64, w.k as u64), "{w:?}");
            // No earlier pair (in the order k major, then v) is wrong: the same check
            // on one thread finds the same pair.
            assert_eq!(check(&g, v, k, "p", 1).unwrap(), Some(w));
        }
    }

    #[test]
    fn decode_reads_signed_and_unsigned_codes() {
        let s = QFormat::new(true, 4, 0);
        let u = QFormat::new(false, 4, 0);
        assert_eq!(decode(0b1111, s), -1);
        assert_eq!(decode(0b1000, s), -8);
        assert_eq!(decode(0b0111, s), 7);
        assert_eq!(decode(0b1111, u), 15);
    }
}
