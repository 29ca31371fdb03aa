//! The datapath's arithmetic at exactly the widths its values need.
//!
//! rust-hdl fixes every signal width at compile time, while nmpu's widths come from the
//! configuration. So the blocks here are rust-hdl blocks that supply their own Verilog
//! body (as rust-hdl's RAM and register primitives do), emitted at the config's widths:
//! every product, exact sum, rounding adder, comparison and register is as wide as the
//! range analysis of [`crate::range`] says, and no wider. Between blocks, values travel in
//! [`WORD`]-bit ports as sign (or zero) extensions of those exact words; an extension is
//! wiring, so the wide port costs nothing, and each block reads only the low bits its
//! range needs. Bits a block does not read are collected in a wire named `unused_*`, the
//! idiom Verilator's `-Wall` accepts for deliberately unread bits.
//!
//! Each block also computes its function in Rust for rust-hdl's own simulator (quick
//! checks only: the emitted Verilog is what the co-simulation verifies).

use crate::params::{MacParams, QuantParams, RequantParams, WORD};
use crate::range::Range;
use nmpu_config::Rounding;
use rust_hdl::core::ast::Verilog;
use rust_hdl::prelude::*;
use std::fmt::Write;

/// Generator-side data carried inside a block: invisible to rust-hdl (no signals, no
/// module), so blocks holding it can still derive `LogicBlock`.
#[derive(Clone, Debug, Default)]
pub struct Spec<T>(pub T);

impl<T> Logic for Spec<T> {
    fn update(&mut self) {}
}

impl<T> Block for Spec<T> {
    fn connect_all(&mut self) {}
    fn update_all(&mut self) {}
    fn has_changed(&self) -> bool {
        false
    }
    fn accept(&self, _name: &str, _probe: &mut dyn Probe) {}
}

/// The value of the low bits of a port word holding a value of range `r`.
pub fn field(word: u64, r: Range) -> i128 {
    let w = r.width();
    let v = if w >= 64 {
        word as i128
    } else {
        (word & ((1u64 << w) - 1)) as i128
    };
    if r.signed() && w < 128 && v >= 1i128 << (w - 1) {
        v - (1i128 << w)
    } else {
        v
    }
}

/// A value as a port word (two's complement, so sign-extended when negative).
pub fn word(v: i128) -> Bits<WORD> {
    bits(v as u64)
}

/// `wire signed [..] name = port[..]`: the low bits of `port` as a two's-complement wire
/// of `r.signed_width()` bits (a zero on top for a range without negative values).
fn operand(out: &mut String, name: &str, port: &str, r: Range) {
    let w = r.width();
    if r.signed() {
        let _ = writeln!(
            out,
            "wire signed [{}:0] {name} = {port}[{}:0];",
            w - 1,
            w - 1
        );
    } else {
        let _ = writeln!(
            out,
            "wire signed [{w}:0] {name} = {{1'b0, {port}[{}:0]}};",
            w - 1
        );
    }
}

/// Collects bits nothing reads, so `-Wall` sees them used on purpose.
fn unused(out: &mut String, name: &str, slices: &[String]) {
    if !slices.is_empty() {
        let _ = writeln!(
            out,
            "wire unused_{name} = &{{1'b0, {}}};",
            slices.join(", ")
        );
    }
}

/// The bits of a port word above the low `w`.
fn above(port: &str, w: u32) -> Option<String> {
    (w < WORD as u32).then(|| format!("{port}[{}:{w}]", WORD - 1))
}

/// `always @(*) port = src` with `src` (`w` bits) sign-extended (`signed`) or zero-extended
/// to the word.
fn extend(out: &mut String, port: &str, src: &str, w: u32, signed: bool) {
    let pad = WORD as u32 - w.min(WORD as u32);
    let _ = match (pad, signed) {
        (0, _) => writeln!(out, "always @(*) {port} = {src}[{}:0];", WORD - 1),
        (_, true) => writeln!(
            out,
            "always @(*) {port} = {{{{{pad}{{{src}[{}]}}}}, {src}}};",
            w - 1
        ),
        (_, false) => writeln!(out, "always @(*) {port} = {{{pad}'d0, {src}}};"),
    };
}

/// A `w`-bit two's-complement literal.
fn literal(w: u32, v: i128) -> String {
    let bits = if w >= 128 { v } else { v & ((1i128 << w) - 1) };
    format!("{w}'h{bits:x}")
}

fn range_note(r: Range) -> String {
    format!("[{}, {}] ({} bits)", r.lo, r.hi, r.width())
}

/// A pipeline register exactly as wide as the range of the values it holds: `q <= d` on
/// the rising edge when `en`; `q` is the held value extended to the word. Data registers
/// have no reset (only valid bits need one).
#[derive(LogicBlock)]
pub struct ExactReg {
    pub clock: Signal<In, Clock>,
    pub en: Signal<In, Bit>,
    pub d: Signal<In, Bits<WORD>>,
    pub q: Signal<Out, Bits<WORD>>,
    range: Spec<Range>,
}

impl ExactReg {
    pub fn new(range: Range) -> Self {
        ExactReg {
            clock: Default::default(),
            en: Default::default(),
            d: Default::default(),
            q: Default::default(),
            range: Spec(range),
        }
    }
}

impl Logic for ExactReg {
    fn update(&mut self) {
        if self.clock.pos_edge() && self.en.val() {
            self.q.next = word(field(self.d.val().to_u64(), self.range.0));
        }
    }
    fn connect(&mut self) {
        self.q.connect();
    }
    fn hdl(&self) -> Verilog {
        let r = self.range.0;
        let w = r.width();
        let mut v = format!("// values {}\n", range_note(r));
        let _ = writeln!(v, "reg [{}:0] held;", w - 1);
        let _ = writeln!(v, "always @(posedge clock) if (en) held <= d[{}:0];", w - 1);
        extend(&mut v, "q", "held", w, r.signed());
        unused(&mut v, "d", &above("d", w).into_iter().collect::<Vec<_>>());
        Verilog::Custom(v)
    }
    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "exact_reg".into(),
            clock: "clock".into(),
            inputs: vec!["d".into(), "en".into()],
            outputs: vec!["q".into()],
        }]
    }
}

/// A multiply-add stage's exact aligned sum, `t = v*k*2^ps + o*2^os`
/// (docs/arithmetic.md section 3, steps 1-2): the product in a module of its own, then the
/// aligned addition. Combinational.
///
/// The product has its own module so that a synthesis that keeps the hierarchy (Yosys
/// `synth` without `-flatten`) keeps the multiplier apart: `nmpu prove` cuts a
/// synthesized lane at its multipliers and proves each on its own, exhaustively, since no
/// SAT solver shows two different multiplier circuits equal at these widths. A flattening
/// synthesis (the area flows) sees the same logic as one module.
#[derive(LogicBlock)]
pub struct MulAdd {
    pub v: Signal<In, Bits<WORD>>,
    pub k: Signal<In, Bits<WORD>>,
    pub o: Signal<In, Bits<WORD>>,
    pub t: Signal<Out, Bits<WORD>>,
    multiply: Multiply,
    add: Align,
}

impl MulAdd {
    pub fn new(p: &MacParams) -> Self {
        MulAdd {
            v: Default::default(),
            k: Default::default(),
            o: Default::default(),
            t: Default::default(),
            multiply: Multiply::new(p),
            add: Align::new(p),
        }
    }
}

impl Logic for MulAdd {
    #[hdl_gen]
    fn update(&mut self) {
        self.multiply.v.next = self.v.val();
        self.multiply.k.next = self.k.val();
        self.add.p.next = self.multiply.p.val();
        self.add.o.next = self.o.val();
        self.t.next = self.add.t.val();
    }
}

/// The exact product `p = v*k` of a multiply-add stage, extended to the word.
#[derive(LogicBlock)]
pub struct Multiply {
    pub v: Signal<In, Bits<WORD>>,
    pub k: Signal<In, Bits<WORD>>,
    pub p: Signal<Out, Bits<WORD>>,
    params: Spec<MacParams>,
}

impl Multiply {
    pub fn new(p: &MacParams) -> Self {
        Multiply {
            v: Default::default(),
            k: Default::default(),
            p: Default::default(),
            params: Spec(*p),
        }
    }
}

impl Logic for Multiply {
    fn update(&mut self) {
        let p = &self.params.0;
        let v = field(self.v.val().to_u64(), p.v);
        let k = field(self.k.val().to_u64(), Range::of_format(&p.k));
        self.p.next = word(v * k);
    }
    fn connect(&mut self) {
        self.p.connect();
    }
    fn hdl(&self) -> Verilog {
        let p = &self.params.0;
        let kr = Range::of_format(&p.k);
        let pr = p.product();
        let mut v = String::new();
        let _ = writeln!(
            v,
            "// v {}, k {}, product {}",
            range_note(p.v),
            range_note(kr),
            range_note(pr)
        );
        operand(&mut v, "v_s", "v", p.v);
        operand(&mut v, "k_s", "k", kr);
        let pw = pr.signed_width();
        let _ = writeln!(v, "wire signed [{}:0] product = v_s * k_s;", pw - 1);
        extend(&mut v, "p", "product", pw, true);
        let hi: Vec<String> = [above("v", p.v.width()), above("k", kr.width())]
            .into_iter()
            .flatten()
            .collect();
        unused(&mut v, "hi", &hi);
        Verilog::Custom(v)
    }
}

/// The aligned sum `t = p*2^ps + o*2^os` of a product `p` and an offset `o`.
#[derive(LogicBlock)]
pub struct Align {
    pub p: Signal<In, Bits<WORD>>,
    pub o: Signal<In, Bits<WORD>>,
    pub t: Signal<Out, Bits<WORD>>,
    params: Spec<MacParams>,
}

impl Align {
    pub fn new(p: &MacParams) -> Self {
        Align {
            p: Default::default(),
            o: Default::default(),
            t: Default::default(),
            params: Spec(*p),
        }
    }
}

impl Logic for Align {
    fn update(&mut self) {
        let p = &self.params.0;
        let product = field(self.p.val().to_u64(), p.product());
        let o = field(self.o.val().to_u64(), Range::of_format(&p.o));
        self.t.next = word((product << p.product_shift) + (o << p.offset_shift));
    }
    fn connect(&mut self) {
        self.t.connect();
    }
    fn hdl(&self) -> Verilog {
        let p = &self.params.0;
        let (pr, or, tr) = (p.product(), Range::of_format(&p.o), p.sum());
        let mut v = String::new();
        let _ = writeln!(
            v,
            "// product {}, o {}, sum {}",
            range_note(pr),
            range_note(or),
            range_note(tr)
        );
        operand(&mut v, "p_s", "p", pr);
        operand(&mut v, "o_s", "o", or);
        let _ = writeln!(
            v,
            "wire signed [{}:0] sum = (p_s <<< {}) + (o_s <<< {});",
            tr.signed_width() - 1,
            p.product_shift,
            p.offset_shift
        );
        extend(&mut v, "t", "sum", tr.signed_width(), true);
        let hi: Vec<String> = [above("p", pr.width()), above("o", or.width())]
            .into_iter()
            .flatten()
            .collect();
        unused(&mut v, "hi", &hi);
        Verilog::Custom(v)
    }
}

/// `quantize(t, shift, format, rounding, overflow)` (docs/arithmetic.md section 2) of a
/// value of known range: the rounding adder and the comparisons are as wide as the range
/// needs, and a saturation bound no value can pass is not built. Combinational.
#[derive(LogicBlock)]
pub struct Quant {
    pub t: Signal<In, Bits<WORD>>,
    pub r: Signal<Out, Bits<WORD>>,
    p: Spec<QuantParams>,
}

impl Quant {
    pub fn new(p: &QuantParams) -> Self {
        Quant {
            t: Default::default(),
            r: Default::default(),
            p: Spec(*p),
        }
    }
}

impl Logic for Quant {
    fn update(&mut self) {
        let p = &self.p.0;
        self.r.next = word(p.apply(field(self.t.val().to_u64(), p.input)));
    }
    fn connect(&mut self) {
        self.r.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom(quant_verilog(&self.p.0))
    }
}

fn quant_verilog(p: &QuantParams) -> String {
    let (t, s) = (p.input, p.shift);
    let rr = p.rounded();
    let out = p.output();
    let mut v = String::new();
    let _ = writeln!(
        v,
        "// shift {s}, {}, {}: input {}, rounded {}, result {}",
        p.rounding.name(),
        p.overflow.name(),
        range_note(t),
        range_note(rr),
        range_note(out)
    );
    operand(&mut v, "t_s", "t", t);
    let mut idle = above("t", t.width()).into_iter().collect::<Vec<_>>();
    let tw = t.signed_width();
    let rw = rr.signed_width();
    if s == 0 {
        let _ = writeln!(v, "wire signed [{}:0] rounded = t_s;", rw - 1);
    } else {
        // q = floor(t / 2^s): the bits from s up (the sign alone when s is past the top).
        let qw = tw.saturating_sub(s).max(1);
        if s < tw {
            let _ = writeln!(v, "wire signed [{}:0] q = t_s[{}:{s}];", qw - 1, tw - 1);
        } else {
            let _ = writeln!(v, "wire signed [0:0] q = t_s[{}];", tw - 1);
        }
        let bit = |i: u32| format!("t_s[{}]", i.min(tw - 1));
        // The bits below the half bit decide exact ties (their OR); bits past the top are
        // copies of the sign, which the OR already has.
        let below = if s >= 2 {
            format!("(|t_s[{}:0])", (s - 2).min(tw - 1))
        } else {
            "1'b0".into()
        };
        let up = match p.rounding {
            Rounding::Floor => None,
            Rounding::HalfUp => Some(bit(s - 1)),
            Rounding::HalfEven => Some(format!("{} & ({below} | q[0])", bit(s - 1))),
            Rounding::HalfAway => Some(format!("{} & ({below} | ~t_s[{}])", bit(s - 1), tw - 1)),
        };
        match up {
            Some(up) => {
                let _ = writeln!(v, "wire up = {up};");
                // The increment is zero-extended to the full width in a wire of its own:
                // Verilator 5.006 sign-extends `$signed({1'b0, up})` when `up` is `a & ~b`
                // (it folds the AND into a compare and drops the zero; measured, see the
                // quantize test in verification/tests/exact_blocks.rs). At one bit the sum
                // is taken mod 2, where +1 and -1 agree.
                let inc = if rw >= 2 {
                    format!("{{{{{}{{1'b0}}}}, up}}", rw - 1)
                } else {
                    "up".into()
                };
                let _ = writeln!(v, "wire signed [{}:0] inc = {inc};", rw - 1);
                let _ = writeln!(v, "wire signed [{}:0] rounded = q + inc;", rw - 1);
                if p.rounding == Rounding::HalfUp && s >= 2 {
                    idle.push(format!("t_s[{}:0]", (s - 2).min(tw - 1)));
                }
            }
            None => {
                let _ = writeln!(v, "wire signed [{}:0] rounded = q;", rw - 1);
                if s < tw {
                    idle.push(format!("t_s[{}:0]", s - 1));
                }
            }
        }
    }
    let ow = out.width();
    let codes = p.codes();
    let (hi, lo) = (p.saturates_high(), p.saturates_low());
    if hi {
        let _ = writeln!(
            v,
            "wire over = rounded > $signed({});",
            literal(rw, codes.hi)
        );
    }
    if lo {
        let _ = writeln!(
            v,
            "wire under = rounded < $signed({});",
            literal(rw, codes.lo)
        );
    }
    let keep = if p.wraps() { p.format.width() } else { ow };
    let _ = writeln!(v, "reg [{}:0] code;", ow - 1);
    let mut body = String::from("always @(*) ");
    if hi {
        let _ = write!(body, "if (over) code = {}; else ", literal(ow, codes.hi));
    }
    if lo {
        let _ = write!(body, "if (under) code = {}; else ", literal(ow, codes.lo));
    }
    // Wrapping keeps the low bits of the two's-complement value, extended first when the
    // rounded word is narrower than the format.
    let src = if keep > rw {
        let _ = writeln!(v, "wire signed [{}:0] rounded_x = rounded;", keep - 1);
        "rounded_x"
    } else {
        "rounded"
    };
    let _ = writeln!(body, "code = {src}[{}:0];", keep - 1);
    v += &body;
    if !hi && !lo && keep < rw {
        idle.push(format!("rounded[{}:{keep}]", rw - 1));
    }
    // The result as a word: sign-extended when it can be negative.
    extend(&mut v, "r", "code", ow, out.signed());
    unused(&mut v, "bits", &idle);
    v
}

/// `activation` (ReLU when configured) and the left shift aligning the value to the
/// output's fraction: the exact input of `requantize`'s rounding. Combinational.
#[derive(LogicBlock)]
pub struct Activation {
    pub z: Signal<In, Bits<WORD>>,
    pub a: Signal<Out, Bits<WORD>>,
    p: Spec<RequantParams>,
}

impl Activation {
    pub fn new(p: &RequantParams) -> Self {
        Activation {
            z: Default::default(),
            a: Default::default(),
            p: Spec(*p),
        }
    }
}

impl Logic for Activation {
    fn update(&mut self) {
        let p = &self.p.0;
        let z = field(self.z.val().to_u64(), p.z);
        let a = if p.relu { z.max(0) } else { z };
        self.a.next = word(a << p.align_shift);
    }
    fn connect(&mut self) {
        self.a.connect();
    }
    fn hdl(&self) -> Verilog {
        let p = &self.p.0;
        let (z, act) = (p.z, p.activation());
        let mut v = format!(
            "// z {}, activation {}, aligned by {}\n",
            range_note(z),
            range_note(act),
            p.align_shift
        );
        operand(&mut v, "z_s", "z", z);
        let mut idle = above("z", z.width()).into_iter().collect::<Vec<_>>();
        let zw = z.signed_width();
        let aw = act.signed_width();
        if p.relu && z.signed() {
            // Negative values become 0; the rest fit in the activation's width.
            let _ = writeln!(
                v,
                "wire signed [{}:0] act = z_s[{}] ? {} : z_s[{}:0];",
                aw - 1,
                zw - 1,
                literal(aw, 0),
                aw - 1
            );
            if aw + 1 < zw {
                idle.push(format!("z_s[{}:{aw}]", zw - 2));
            }
        } else {
            let _ = writeln!(v, "wire signed [{}:0] act = z_s;", aw - 1);
        }
        let s = p.align_shift;
        if s == 0 {
            extend(&mut v, "a", "act", aw, true);
        } else {
            let _ = writeln!(
                v,
                "wire signed [{}:0] aligned = {{act, {s}'d0}};",
                aw + s - 1
            );
            extend(&mut v, "a", "aligned", aw + s, true);
        }
        unused(&mut v, "z", &idle);
        Verilog::Custom(v)
    }
}
