//! The FP16 baseline's fused multiply-add in RTL (three pipeline stages, one operation per
//! clock) against the golden model's `fma`, on tens of millions of operand triples: every
//! pair of a set of special and boundary values with every addend of the same set, random
//! bit patterns, and constructed corners (cancellation, rounding ties, subnormal results,
//! overflow).

use half::f16;
use nmpu_config::NmpuConfig;
use nmpu_model::fp16::fma;
use nmpu_rtl::fp16_fma::Fp16Fma;
use nmpu_rtl::generate::block_verilog;
use nmpu_verification::stimulus::f16_boundary_values;
use nmpu_verification::verilator::{build, Dut, Port};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

/// Register stages from operands to result. `Dut::cycle` samples outputs before its edge,
/// so the call that loads operation k sees the result of operation k - STAGES.
const STAGES: usize = 3;

struct FmaBench {
    dut: Dut,
    ports: [Port; 5],
    in_flight: VecDeque<[u16; 3]>,
    checked: usize,
}

impl FmaBench {
    fn new() -> Self {
        let cfg = NmpuConfig::default();
        let v = block_verilog(&cfg, Fp16Fma::default(), "fp16_fma");
        let dut = Dut::load(&build(&v, "fp16_fma").unwrap()).unwrap();
        let ports = ["en", "a", "b", "c", "r"].map(|n| dut.port(n).unwrap());
        FmaBench {
            dut,
            ports,
            in_flight: VecDeque::new(),
            checked: 0,
        }
    }

    /// One clock with operands `t` (or a stall when `None`), checking whatever completes.
    fn step(&mut self, t: Option<[u16; 3]>) {
        let [en, a, b, c, r] = &self.ports;
        self.dut.set(en, u64::from(t.is_some()));
        if let Some([x, y, z]) = t {
            self.dut.set(a, u64::from(x));
            self.dut.set(b, u64::from(y));
            self.dut.set(c, u64::from(z));
            self.in_flight.push_back([x, y, z]);
        }
        self.dut.cycle(false);
        if t.is_some() && self.in_flight.len() > STAGES {
            let [x, y, z] = self.in_flight.pop_front().unwrap();
            let got = self.dut.get(r) as u16;
            let want = fma(f16::from_bits(x), f16::from_bits(y), f16::from_bits(z)).to_bits();
            assert_eq!(
                got,
                want,
                "fma({x:#06x}, {y:#06x}, {z:#06x}) = fma({}, {}, {}): got {got:#06x} ({}), want {want:#06x} ({})",
                f16::from_bits(x),
                f16::from_bits(y),
                f16::from_bits(z),
                f16::from_bits(got),
                f16::from_bits(want)
            );
            self.checked += 1;
        }
    }

    fn run(&mut self, triples: impl IntoIterator<Item = [u16; 3]>) {
        for t in triples {
            self.step(Some(t));
        }
    }

    /// Pushes the last operations through (the pipeline only moves with `en`).
    fn drain(&mut self) {
        for _ in 0..STAGES {
            self.step(Some([0, 0, 0]));
        }
    }
}

#[test]
fn boundary_triples() {
    let mut bench = FmaBench::new();
    let v = f16_boundary_values();
    for &a in &v {
        for &b in &v {
            bench.run(v.iter().map(|&c| [a, b, c]));
        }
    }
    bench.drain();
    assert_eq!(bench.checked, v.len().pow(3));
}

/// A random binary16 with its exponent field in `lo..=hi`.
fn with_exponent(rng: &mut ChaCha8Rng, lo: u16, hi: u16) -> u16 {
    let e = rng.random_range(lo..=hi);
    (u16::from(rng.random_bool(0.5)) << 15) | (e << 10) | rng.random_range(0..1024u16)
}

#[test]
fn random_and_constructed_triples() {
    let mut bench = FmaBench::new();
    let mut rng = ChaCha8Rng::seed_from_u64(0x00f1_6f3a);
    // Uniform bit patterns (all classes, mostly far-apart exponents).
    for _ in 0..3_000_000 {
        bench.step(Some(rng.random()));
    }
    // Operands of ordinary size: exponents near each other, every alignment distance.
    for _ in 0..3_000_000 {
        let t = [
            with_exponent(&mut rng, 8, 22),
            with_exponent(&mut rng, 8, 22),
            with_exponent(&mut rng, 1, 30),
        ];
        bench.step(Some(t));
    }
    // Cancellation: c within a few ulps of -(a*b) (massive cancellation, exact zeros,
    // results far below the operands, subnormal differences).
    for _ in 0..3_000_000 {
        let a = with_exponent(&mut rng, 0, 30);
        let b = with_exponent(&mut rng, 0, 30);
        let p = f16::from_f64(f16::from_bits(a).to_f64() * f16::from_bits(b).to_f64());
        let c = (p.to_bits() ^ 0x8000).wrapping_add_signed(rng.random_range(-3i16..=3));
        bench.step(Some([a, b, c]));
    }
    // Subnormal products and results: small exponents, small addends.
    for _ in 0..3_000_000 {
        let t = [
            with_exponent(&mut rng, 0, 12),
            with_exponent(&mut rng, 0, 14),
            with_exponent(&mut rng, 0, 3),
        ];
        bench.step(Some(t));
    }
    // Rounding ties: a*b + c exactly halfway between two binary16 values. With b = 1 the
    // exact sum is a + c; a tie when c is half an ulp of a (and both signs).
    for _ in 0..1_000_000 {
        let a = with_exponent(&mut rng, 1, 29);
        let ea = (a >> 10) & 0x1f;
        let half_ulp = if ea > 11 {
            (ea - 11) << 10
        } else {
            1u16 << (ea.saturating_sub(1).min(9)) >> 1
        };
        let c = half_ulp | (u16::from(rng.random_bool(0.5)) << 15);
        bench.step(Some([a, 0x3c00, c]));
    }
    // Overflow: products and sums at the top of the range.
    for _ in 0..1_000_000 {
        let t = [
            with_exponent(&mut rng, 20, 30),
            with_exponent(&mut rng, 14, 18),
            with_exponent(&mut rng, 28, 30),
        ];
        bench.step(Some(t));
    }
    // Stalls: `en` low must hold every stage.
    for _ in 0..200_000 {
        let t = rng.random_bool(0.6).then(|| rng.random());
        bench.step(t);
    }
    bench.drain();
    assert!(bench.checked >= 14_000_000, "{}", bench.checked);
}
