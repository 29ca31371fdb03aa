//! The fixed-point lane's exact-width blocks (multiply_add, quantize, activation), each alone
//! in Verilator against the golden model's primitives, on every input of a few hundred small
//! parameter sets: every rounding mode and overflow, shifts from none to past the top of the
//! word, signed and unsigned ranges and formats down to one bit.
//!
//! The whole-lane tests reach these shapes only through random configurations. One of them
//! (CI, seed 1755665204653913451: a fused lane rounding half-away by one bit) found Verilator
//! 5.006 sign-extending `$signed({1'b0, up})` when `up` was `a & ~b`; this test sweeps the
//! shapes directly. Every parameter set is one module of one Verilated bank, chosen by `idx`.

use nmpu_config::{NmpuConfig, Overflow, QFormat, Rounding};
use nmpu_model::primitives::{round_shift, Fit};
use nmpu_rtl::exact::{Activation, MulAdd, Quant};
use nmpu_rtl::generate::block_verilog;
use nmpu_rtl::params::{MacParams, QuantParams, RequantParams};
use nmpu_rtl::range::Range;
use nmpu_verification::verilator::{build, Dut};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const ROUNDINGS: [Rounding; 4] = [
    Rounding::Floor,
    Rounding::HalfUp,
    Rounding::HalfEven,
    Rounding::HalfAway,
];

/// One Verilated module holding `blocks` (each a complete generated block with its own top,
/// `q<i>`), with the inputs shared and the output of block `idx` on `out`.
fn bank(blocks: &[String], inputs: &[&str], output: &str) -> Dut {
    let mut v = blocks.concat();
    v += &format!("module bank({}, idx, out);\n", inputs.join(", "));
    for p in inputs {
        v += &format!("    input wire [63:0] {p};\n");
    }
    v += "    input wire [15:0] idx;\n    output reg [63:0] out;\n";
    let conns: Vec<String> = inputs.iter().map(|p| format!(".{p}({p})")).collect();
    for i in 0..blocks.len() {
        v += &format!(
            "    wire [63:0] out{i};\n    q{i} u{i}({}, .{output}(out{i}));\n",
            conns.join(", ")
        );
    }
    v += "    always @(*) case (idx)\n";
    for i in 0..blocks.len() {
        v += &format!("        16'd{i}: out = out{i};\n");
    }
    v += "        default: out = 64'd0;\n    endcase\nendmodule\n";
    Dut::load(&build(&v, "bank").unwrap()).unwrap()
}

/// The word a block sees for value `v`: two's complement, with garbage above `width` bits
/// (the blocks must read only the bits their range needs).
fn word(v: i128, width: u32, rng: &mut ChaCha8Rng) -> u64 {
    let low = (v as u64) & (u64::MAX >> (64 - width));
    if width >= 63 {
        return v as u64;
    }
    // Garbage only where the block must ignore it: above the sign-extended value's width.
    low | (rng.random::<u64>() << width)
}

fn format(signed: bool, width: u32) -> QFormat {
    QFormat {
        signed,
        int: width as i32,
        frac: 0,
    }
}

/// Input ranges: small ones with ends at and off powers of two, one-sided, single-signed,
/// one-value-wide.
const RANGES: [(i128, i128); 12] = [
    (-28, 29),
    (-32, 31),
    (0, 63),
    (0, 1),
    (-1, 0),
    (-2, 0),
    (-1, 1),
    (-100, 27),
    (3, 200),
    (-255, 255),
    (-128, -3),
    (5, 5),
];

fn quant_params(rng: &mut ChaCha8Rng) -> QuantParams {
    let (lo, hi) = RANGES[rng.random_range(0..RANGES.len())];
    let input = Range::new(lo, hi);
    let shift = rng.random_range(0..=input.signed_width() + 1);
    QuantParams {
        shift,
        rounding: ROUNDINGS[rng.random_range(0..4)],
        overflow: if rng.random() {
            Overflow::Wrap
        } else {
            Overflow::Saturate
        },
        format: format(rng.random(), rng.random_range(1..=9)),
        input,
    }
}

/// docs/arithmetic.md's `quantize`, from the golden model's primitives.
fn quantize(p: &QuantParams, t: i64) -> i64 {
    Fit::new(&p.format, p.overflow)
        .apply(round_shift(t, p.shift, p.rounding))
        .0
}

#[test]
fn quantize_matches_the_model_on_every_input() {
    let cfg = NmpuConfig::default();
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    // Every rounding mode by one bit on the failing shape, then a random spread.
    let mut params: Vec<QuantParams> = ROUNDINGS
        .iter()
        .flat_map(|&rounding| {
            [Overflow::Wrap, Overflow::Saturate].map(|overflow| QuantParams {
                shift: 1,
                rounding,
                overflow,
                format: format(false, 20),
                input: Range::new(-28, 29),
            })
        })
        .collect();
    params.extend((0..240).map(|_| quant_params(&mut rng)));
    let blocks: Vec<String> = params
        .iter()
        .enumerate()
        .map(|(i, p)| block_verilog(&cfg, Quant::new(p), &format!("q{i}")))
        .collect();
    let mut d = bank(&blocks, &["t"], "r");
    let (t, idx, out) = (
        d.port("t").unwrap(),
        d.port("idx").unwrap(),
        d.port("out").unwrap(),
    );
    let mut checked = 0;
    for (i, p) in params.iter().enumerate() {
        d.set(&idx, i as u64);
        for v in p.input.lo..=p.input.hi {
            d.set(&t, word(v, p.input.signed_width(), &mut rng));
            d.peek();
            let got = d.get(&out) as i64;
            let want = quantize(p, v as i64);
            assert_eq!(got, want, "quantize of {v} with {p:?}");
            checked += 1;
        }
    }
    assert!(checked > 10_000, "{checked} values checked");
}

#[test]
fn multiply_add_matches_the_model_on_every_input() {
    let cfg = NmpuConfig::default();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let params: Vec<MacParams> = (0..120)
        .map(|_| {
            let (lo, hi) = RANGES[rng.random_range(0..RANGES.len())];
            let v = Range::new(lo.clamp(-40, 40), hi.clamp(-40, 40).max(lo.clamp(-40, 40)));
            let k = format(rng.random(), rng.random_range(1..=4));
            let o = format(rng.random(), rng.random_range(1..=4));
            let (product_shift, offset_shift) = (rng.random_range(0..=3), rng.random_range(0..=3));
            let sum = v
                .times(Range::of_format(&k))
                .scaled(product_shift)
                .plus(Range::of_format(&o).scaled(offset_shift));
            MacParams {
                v,
                k,
                o,
                product_shift,
                offset_shift,
                // Only its input range (the sum's) matters to multiply_add.
                quant: QuantParams {
                    shift: 0,
                    rounding: Rounding::Floor,
                    overflow: Overflow::Wrap,
                    format: format(true, 32),
                    input: sum,
                },
            }
        })
        .collect();
    let blocks: Vec<String> = params
        .iter()
        .enumerate()
        .map(|(i, p)| block_verilog(&cfg, MulAdd::new(p), &format!("q{i}")))
        .collect();
    let mut d = bank(&blocks, &["v", "k", "o"], "t");
    let [pv, pk, po, idx, out] = ["v", "k", "o", "idx", "out"].map(|n| d.port(n).unwrap());
    let mut checked = 0;
    for (i, p) in params.iter().enumerate() {
        d.set(&idx, i as u64);
        let (kr, or) = (Range::of_format(&p.k), Range::of_format(&p.o));
        for v in p.v.lo..=p.v.hi {
            for k in kr.lo..=kr.hi {
                for o in or.lo..=or.hi {
                    d.set(&pv, word(v, p.v.signed_width(), &mut rng));
                    d.set(&pk, word(k, p.k.width(), &mut rng));
                    d.set(&po, word(o, p.o.width(), &mut rng));
                    d.peek();
                    let got = d.get(&out) as i64;
                    let want = (((v * k) << p.product_shift) + (o << p.offset_shift)) as i64;
                    assert_eq!(got, want, "{v}*{k} + {o} with {p:?}");
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 10_000, "{checked} values checked");
}

#[test]
fn activation_matches_the_model_on_every_input() {
    let cfg = NmpuConfig::default();
    let mut params = vec![];
    for (lo, hi) in RANGES {
        for relu in [false, true] {
            for align_shift in [0, 1, 3] {
                let z = Range::new(lo, hi);
                let act = if relu { z.max(0) } else { z };
                params.push(RequantParams {
                    z,
                    relu,
                    align_shift,
                    // Only the activation's range matters to the activation block.
                    quant: QuantParams {
                        shift: 0,
                        rounding: Rounding::Floor,
                        overflow: Overflow::Wrap,
                        format: format(true, 16),
                        input: act.scaled(align_shift),
                    },
                });
            }
        }
    }
    let blocks: Vec<String> = params
        .iter()
        .enumerate()
        .map(|(i, p)| block_verilog(&cfg, Activation::new(p), &format!("q{i}")))
        .collect();
    let mut d = bank(&blocks, &["z"], "a");
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let [z, idx, out] = ["z", "idx", "out"].map(|n| d.port(n).unwrap());
    for (i, p) in params.iter().enumerate() {
        d.set(&idx, i as u64);
        for v in p.z.lo..=p.z.hi {
            d.set(&z, word(v, p.z.signed_width(), &mut rng));
            d.peek();
            let want = if p.relu { v.max(0) } else { v } << p.align_shift;
            assert_eq!(
                d.get(&out) as i64,
                want as i64,
                "activation of {v} with {p:?}"
            );
        }
    }
}
