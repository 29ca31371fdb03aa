//! The specification the generated lane is proved against: plain Verilog written straight
//! from docs/arithmetic.md (sections 2 to 4), exact integers in 64-bit signed words,
//! shifts and compares. It shares no code with the RTL generator (nmpu-rtl) or the golden
//! model (nmpu-model): it reads only the configuration.
//!
//! The module `nmpu_spec` is combinational: the ADC code and the coefficients' codes in,
//! the output code out (16 bits, sign- or zero-extended as the lane's `y`). For each
//! multiply-add it shows its operands (`<stage>_v`, `_k`) and takes their exact product
//! `<stage>_p` as an input: the proof hands the spec and the lane's multiplier the same
//! product, free within its range ([`reachable`]), and checks the lane's operands are the
//! spec's (see [`super`]).

use nmpu_config::{Activation, NmpuConfig, Overflow, QFormat, Rounding, StageConfig};
use std::fmt::Write;

/// A multiply-add stage of docs/arithmetic.md section 3, with the formats it reads.
#[derive(Clone, Debug, PartialEq)]
pub struct MacStage {
    /// `affine` or `batch_norm`: the stage's name in the spec, the RTL and the model.
    pub name: &'static str,
    /// Input format `V` (the ADC code, or the affine result).
    pub v: QFormat,
    /// The coefficient (`k`) and the offset (`o`): their names and formats.
    pub k: (&'static str, QFormat),
    pub o: (&'static str, QFormat),
    pub stage: StageConfig,
}

/// The multiply-add stages of `cfg` in pipeline order (section 4's table).
pub fn mac_stages(cfg: &NmpuConfig) -> Vec<MacStage> {
    let c = &cfg.coefficients;
    let x = QFormat::new(true, cfg.in_bits as i32, 0);
    if cfg.fuse_affine_bn {
        return vec![MacStage {
            name: "batch_norm",
            v: x,
            k: ("a", c.a),
            o: ("b", c.b),
            stage: cfg.batch_norm,
        }];
    }
    vec![
        MacStage {
            name: "affine",
            v: x,
            k: ("a", c.a),
            o: ("b", c.b),
            stage: cfg.affine,
        },
        MacStage {
            name: "batch_norm",
            v: cfg.affine.format,
            k: ("g", c.g),
            o: ("h", c.h),
            stage: cfg.batch_norm,
        },
    ]
}

/// The coefficient codes the lane reads, in bank order: `a b g h`, or `a b` when fused.
pub fn coefficients(cfg: &NmpuConfig) -> Vec<(&'static str, QFormat)> {
    mac_stages(cfg).iter().flat_map(|s| [s.k, s.o]).collect()
}

/// The range of `v * k` for `v` in `[lo, hi]` and `k` a code of `f`: its extremes are at
/// the corners.
fn corners((lo, hi): (i128, i128), f: QFormat) -> (i128, i128) {
    let c = [
        lo * f.min_code() as i128,
        lo * f.max_code() as i128,
        hi * f.min_code() as i128,
        hi * f.max_code() as i128,
    ];
    (*c.iter().min().unwrap(), *c.iter().max().unwrap())
}

/// A 64-bit signed Verilog constant.
pub fn lit(v: impl Into<i128>) -> String {
    let v = v.into();
    if v < 0 {
        format!("-64'sd{}", v.unsigned_abs())
    } else {
        format!("64'sd{v}")
    }
}

/// A code's bits as a 64-bit signed integer (section 1: signed or unsigned formats).
fn widen(name: &str, f: QFormat) -> String {
    widen_bits(name, f.width(), f.signed)
}

/// The `width` bits of `name` sign- (or zero-) extended to a 64-bit word.
pub fn widen_bits(name: &str, width: u32, signed: bool) -> String {
    if signed {
        format!("{{{{{}{{{name}[{}]}}}}, {name}}}", 64 - width, width - 1)
    } else {
        format!("{{{}'d0, {name}}}", 64 - width)
    }
}

/// `quantize(v, s, F, mode, overflow)` of section 2 on the 64-bit signed wire `t`,
/// written as wires prefixed `p`; returns the result's wire.
fn quantize(out: &mut String, p: &str, t: &str, s: u32, f: QFormat, st: &StageConfig) {
    let _ = writeln!(
        out,
        "    // {p}: quantize({t}, {s}, {f:?}, {:?}, {:?})",
        st.rounding, st.overflow
    );
    if s == 0 {
        let _ = writeln!(out, "    wire signed [63:0] {p}_rounded = {t};");
    } else {
        let half = lit(1i64 << (s - 1));
        let _ = writeln!(out, "    wire signed [63:0] {p}_q = {t} >>> {s};");
        let _ = writeln!(
            out,
            "    wire signed [63:0] {p}_rem = {t} - ({p}_q <<< {s});"
        );
        let up = match st.rounding {
            Rounding::Floor => "1'b0".to_string(),
            Rounding::HalfUp => format!("{p}_rem >= {half}"),
            Rounding::HalfEven => {
                format!("({p}_rem > {half}) || ({p}_rem == {half} && {p}_q[0])")
            }
            Rounding::HalfAway => {
                format!("({p}_rem > {half}) || ({p}_rem == {half} && {t} >= 64'sd0)")
            }
        };
        let _ = writeln!(out, "    wire {p}_up = {up};");
        let _ = writeln!(
            out,
            "    wire signed [63:0] {p}_rounded = {p}_up ? {p}_q + 64'sd1 : {p}_q;"
        );
    }
    let (lo, hi) = (lit(f.min_code()), lit(f.max_code()));
    match st.overflow {
        Overflow::Saturate => {
            let _ = writeln!(
                out,
                "    wire signed [63:0] {p}_r = {p}_rounded < {lo} ? {lo} : ({p}_rounded > {hi} ? {hi} : {p}_rounded);"
            );
        }
        Overflow::Wrap => {
            let w = f.width();
            let _ = writeln!(
                out,
                "    wire [{}:0] {p}_low = {p}_rounded[{}:0];",
                w - 1,
                w - 1
            );
            let _ = writeln!(
                out,
                "    wire signed [63:0] {p}_r = {};",
                widen(&format!("{p}_low"), f)
            );
        }
    }
}

/// The range of stage `i`'s input `v` and of its product `v*k` (corners of the input's
/// range and the coefficient's format), the input's range being the image of the stage
/// before under its quantization (monotone: rounding and saturation keep order; a wrap
/// that can happen gives the whole format).
pub fn reachable(cfg: &NmpuConfig) -> Vec<((i128, i128), (i128, i128))> {
    let x = QFormat::new(true, cfg.in_bits as i32, 0);
    let mut v = (x.min_code() as i128, x.max_code() as i128);
    let mut out = vec![];
    for s in mac_stages(cfg) {
        let (kf, of) = (s.k.1, s.o.1);
        let p = corners(v, kf);
        out.push((v, p));
        let frac_p = s.v.frac + kf.frac;
        let r = s.stage.format;
        let f = frac_p.max(of.frac).max(r.frac);
        let t = |p: i128, o: i64| (p << (f - frac_p)) + ((o as i128) << (f - of.frac));
        let q = |t: i128| round(t, f - r.frac, s.stage.rounding);
        let (lo, hi) = (q(t(p.0, of.min_code())), q(t(p.1, of.max_code())));
        let (fmin, fmax) = (r.min_code() as i128, r.max_code() as i128);
        v = match s.stage.overflow {
            Overflow::Saturate => (lo.clamp(fmin, fmax), hi.clamp(fmin, fmax)),
            Overflow::Wrap if lo >= fmin && hi <= fmax => (lo, hi),
            Overflow::Wrap => (fmin, fmax),
        };
    }
    out
}

/// `t / 2^s` rounded by `mode` (section 2), exactly.
fn round(t: i128, s: u32, mode: Rounding) -> i128 {
    if s == 0 {
        return t;
    }
    let q = t >> s;
    let rem = t - (q << s);
    let half = 1i128 << (s - 1);
    let up = match mode {
        Rounding::Floor => false,
        Rounding::HalfUp => rem >= half,
        Rounding::HalfEven => rem > half || (rem == half && q & 1 == 1),
        Rounding::HalfAway => rem > half || (rem == half && t >= 0),
    };
    q + i128::from(up)
}

/// The Verilog of `nmpu_spec` for `cfg`.
pub fn spec_verilog(cfg: &NmpuConfig) -> String {
    let stages = mac_stages(cfg);
    let mut o = String::new();
    let _ = writeln!(
        o,
        "// nmpu_spec: the lane's function from docs/arithmetic.md, for the proof."
    );
    let _ = writeln!(
        o,
        "// Exact integers (64-bit signed); one product per multiply-add at its exact width."
    );
    let mut ports = vec!["x".to_string()];
    ports.extend(coefficients(cfg).iter().map(|(n, _)| n.to_string()));
    ports.push("y".into());
    for s in &stages {
        for part in ["v", "k", "p"] {
            ports.push(format!("{}_{part}", s.name));
        }
    }
    let _ = writeln!(o, "module nmpu_spec({});", ports.join(", "));
    let _ = writeln!(o, "    input [{}:0] x;", cfg.in_bits - 1);
    for (n, f) in coefficients(cfg) {
        let _ = writeln!(o, "    input [{}:0] {n};", f.width() - 1);
    }
    let _ = writeln!(o, "    output [15:0] y;");
    for s in &stages {
        let _ = writeln!(o, "    output signed [63:0] {0}_v, {0}_k;", s.name);
        let _ = writeln!(o, "    input signed [63:0] {0}_p;", s.name);
    }
    let x = QFormat::new(true, cfg.in_bits as i32, 0);
    let _ = writeln!(o, "    wire signed [63:0] x_i = {};", widen("x", x));
    for (n, f) in coefficients(cfg) {
        let _ = writeln!(o, "    wire signed [63:0] {n}_i = {};", widen(n, f));
    }
    let mut input = "x_i".to_string();
    for (s, (_, (plo, phi))) in stages.iter().zip(reachable(cfg)) {
        let n = s.name;
        let (k, kf) = s.k;
        let (off, of) = s.o;
        let frac_p = s.v.frac + kf.frac;
        let r = s.stage.format;
        let f = frac_p.max(of.frac).max(r.frac);
        let _ = writeln!(
            o,
            "    // {n}: MAC({input}, {k}, {off}) -> {r:?}; product {n}_p = {input} * {k} in [{plo}, {phi}] (given)"
        );
        let _ = writeln!(o, "    assign {n}_v = {input};");
        let _ = writeln!(o, "    assign {n}_k = {k}_i;");
        let _ = writeln!(
            o,
            "    wire signed [63:0] {n}_t = ({n}_p <<< {}) + ({off}_i <<< {});",
            f - frac_p,
            f - of.frac
        );
        quantize(&mut o, n, &format!("{n}_t"), f - r.frac, r, &s.stage);
        input = format!("{n}_r");
    }
    let z = cfg.batch_norm.format;
    let act = match cfg.activation {
        Activation::Relu => format!("{input} < 64'sd0 ? 64'sd0 : {input}"),
        Activation::None => input.clone(),
    };
    let _ = writeln!(o, "    wire signed [63:0] activation = {act};");
    let out = cfg.output.format;
    let f = z.frac.max(out.frac);
    let _ = writeln!(
        o,
        "    wire signed [63:0] requantize_t = activation <<< {};",
        f - z.frac
    );
    quantize(
        &mut o,
        "requantize",
        "requantize_t",
        f - out.frac,
        out,
        &cfg.output,
    );
    let _ = writeln!(o, "    assign y = requantize_r[15:0];");
    let _ = writeln!(o, "endmodule");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_range_over_the_corners() {
        let k = QFormat::new(false, 1, 13);
        assert_eq!(corners((-4096, 4095), k), (-4096 * 16383, 4095 * 16383));
        let g = QFormat::new(true, 4, 0);
        assert_eq!(corners((-3, 5), g), (-40, 35));
    }

    /// The ranges the proof gives its free products are the generator's own (nmpu-rtl's
    /// range analysis, written apart): wider would make false counterexamples where the
    /// lane sized an adder for what it can reach; narrower would fail the proof's check
    /// that each stage's input stays in its range.
    #[test]
    fn reachable_ranges_are_the_generators() {
        use proptest::strategy::{Strategy, ValueTree};
        use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
        let mut runner = TestRunner::new_with_rng(Config::default(), rng);
        for _ in 0..500 {
            let cfg = nmpu_config::strategies::config(16)
                .new_tree(&mut runner)
                .unwrap()
                .current();
            let hw = nmpu_rtl::params::NmpuParams::new(&cfg);
            let macs: Vec<_> = hw.affine.iter().chain([&hw.batch_norm]).collect();
            let ours = reachable(&cfg);
            assert_eq!(ours.len(), macs.len());
            for (m, (v, p)) in macs.iter().zip(ours) {
                let pr = m.product();
                assert_eq!((v, p), ((m.v.lo, m.v.hi), (pr.lo, pr.hi)), "{cfg:?}");
            }
        }
    }

    #[test]
    fn stages_follow_the_fusion() {
        let mut cfg = NmpuConfig::default();
        assert_eq!(mac_stages(&cfg).len(), 2);
        assert_eq!(coefficients(&cfg).len(), 4);
        cfg.fuse_affine_bn = true;
        let s = mac_stages(&cfg);
        assert_eq!((s.len(), s[0].name, s[0].k.0), (1, "batch_norm", "a"));
        assert!(spec_verilog(&cfg).contains("module nmpu_spec(x, a, b, y, batch_norm_v"));
    }
}
