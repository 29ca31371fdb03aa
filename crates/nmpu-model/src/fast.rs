//! The streaming fast path of the fixed-point model: the same function as
//! `primitives::Quantize`, written branch-free so a row of elements runs without
//! per-element mode dispatch. Property tests demand it agree with the traced path.

use crate::primitives::Quantize;
use crate::stages::{MacStage, Requantize};
use nmpu_config::{Overflow, Rounding};

/// `round_shift` then `fit`, with the mode chosen at compile time (`R`: 0 floor,
/// 1 half_up, 2 half_even, 3 half_away; `W`: wrap instead of saturate).
#[derive(Clone, Copy, Debug)]
pub(crate) struct FastQuant {
    shift: u32,
    rounding: Rounding,
    overflow: Overflow,
    /// `2^(shift-1)`, or 0 when nothing is shifted out.
    half: i64,
    /// `2^shift - 1`: selects the remainder bits.
    low: i64,
    /// Wrap: shift pair that sign-extends from the word width, and a mask for unsigned.
    drop: u32,
    mask: i64,
    min: i64,
    max: i64,
}

impl FastQuant {
    pub(crate) fn new(q: &Quantize) -> Self {
        let s = q.shift;
        let f = &q.fit;
        FastQuant {
            shift: s,
            // With nothing shifted out every mode is the identity; floor is the cheapest.
            rounding: if s == 0 { Rounding::Floor } else { q.rounding },
            overflow: f.overflow,
            half: if s == 0 { 0 } else { 1i64 << (s - 1) },
            low: ((1u64 << s) - 1) as i64,
            drop: 64 - f.width,
            mask: if f.signed { -1 } else { f.max },
            min: f.min,
            max: f.max,
        }
    }

    #[inline(always)]
    fn apply<const R: u8, const W: bool>(&self, t: i64) -> i64 {
        let q = t >> self.shift;
        // Remainder plus bias stays below 2^(shift+1): the carry is 0 or 1 and nothing
        // overflows, even for a sum at the 64-bit limit.
        let carry = |bias: i64| ((t & self.low) + bias) >> self.shift;
        let r = match R {
            0 => q,
            1 => q + carry(self.half),
            2 => q + carry(self.half - 1 + (q & 1)),
            _ => q + carry(self.half - 1 + i64::from(t >= 0)),
        };
        if W {
            ((r << self.drop) >> self.drop) & self.mask
        } else {
            r.clamp(self.min, self.max)
        }
    }
}

/// `out[i] = quant(v[i] * k[i] + o[i])`, with `k`, `o` pre-aligned (see [`align`]); for
/// the first stage (`CHECK`) also the input range check, in the same loop: negative when
/// some `v` is outside `lo ..= hi`.
#[inline(always)]
fn mac_pass<const R: u8, const W: bool, const CHECK: bool>(
    q: &FastQuant,
    (lo, hi): (i64, i64),
    v: &[i64],
    k: &[i64],
    o: &[i64],
    out: &mut [i64],
) -> i64 {
    let mut outside = 0i64;
    for (((r, &v), &k), &o) in out.iter_mut().zip(v).zip(k).zip(o) {
        if CHECK {
            // With lo <= 0 <= hi: v - lo < 0 exactly when v < lo, hi - v < 0 exactly when
            // v > hi (the negative one cannot wrap; the other may, and the OR keeps the
            // sign).
            outside |= v.wrapping_sub(lo) | hi.wrapping_sub(v);
        }
        // Wrapping: an input out of range may overflow (its outputs are discarded); for
        // the rest the validator bounds every sum to 64 bits.
        *r = q.apply::<R, W>(v.wrapping_mul(k).wrapping_add(o));
    }
    outside
}

/// `out[i] = quant(z[i] << align)`, with ReLU first when `RELU`.
#[inline(always)]
fn requant_pass<const R: u8, const W: bool, const RELU: bool>(
    q: &FastQuant,
    align: u32,
    z: &[i64],
    out: &mut [i64],
) {
    for (r, &z) in out.iter_mut().zip(z) {
        let z = if RELU { z.max(0) } else { z };
        *r = q.apply::<R, W>(z << align);
    }
}

macro_rules! dispatch {
    ($q:expr, $f:ident [$($extra:tt)*] ($($arg:expr),*)) => {
        match ($q.rounding, $q.overflow) {
            (Rounding::Floor, Overflow::Saturate) => $f::<0, false $($extra)*>($($arg),*),
            (Rounding::HalfUp, Overflow::Saturate) => $f::<1, false $($extra)*>($($arg),*),
            (Rounding::HalfEven, Overflow::Saturate) => $f::<2, false $($extra)*>($($arg),*),
            (Rounding::HalfAway, Overflow::Saturate) => $f::<3, false $($extra)*>($($arg),*),
            (Rounding::Floor, Overflow::Wrap) => $f::<0, true $($extra)*>($($arg),*),
            (Rounding::HalfUp, Overflow::Wrap) => $f::<1, true $($extra)*>($($arg),*),
            (Rounding::HalfEven, Overflow::Wrap) => $f::<2, true $($extra)*>($($arg),*),
            (Rounding::HalfAway, Overflow::Wrap) => $f::<3, true $($extra)*>($($arg),*),
        }
    };
}

/// One multiply-add stage on the fast path.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FastMac {
    q: FastQuant,
}

impl FastMac {
    pub(crate) fn new(m: &MacStage) -> Self {
        FastMac {
            q: FastQuant::new(&m.quantize),
        }
    }

    /// The stage on a block; with `range`, the input range check too (see [`mac_pass`]).
    #[inline(always)]
    fn pass(
        &self,
        range: Option<(i64, i64)>,
        v: &[i64],
        k: &[i64],
        o: &[i64],
        out: &mut [i64],
    ) -> i64 {
        let q = &self.q;
        match range {
            Some(r) => dispatch!(q, mac_pass [, true] (q, r, v, k, o, out)),
            None => dispatch!(q, mac_pass [, false] (q, (0, 0), v, k, o, out)),
        }
    }
}

/// Coefficient codes shifted left by `shift` (exact: the config validator bounds the
/// aligned sum, and so each aligned term, to 64 bits).
pub(crate) fn align(codes: &[i64], shift: u32) -> Vec<i64> {
    codes.iter().map(|&k| k << shift).collect()
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct FastRequant {
    align_shift: u32,
    q: FastQuant,
}

impl FastRequant {
    pub(crate) fn new(r: &Requantize) -> Self {
        FastRequant {
            align_shift: r.align_shift,
            q: FastQuant::new(&r.quantize),
        }
    }

    #[inline(always)]
    fn pass(&self, relu: bool, z: &[i64], out: &mut [i64]) {
        let (q, a) = (&self.q, self.align_shift);
        if relu {
            dispatch!(q, requant_pass [, true] (q, a, z, out))
        } else {
            dispatch!(q, requant_pass [, false] (q, a, z, out))
        }
    }
}

/// Coefficient slices (pre-aligned) of one contiguous run of columns.
pub(crate) struct Span<'a> {
    pub a: &'a [i64],
    pub b: &'a [i64],
    pub g: &'a [i64],
    pub h: &'a [i64],
}

const BLOCK: usize = 256;

/// The fast path's inputs beside the coefficients: the stages, the activation and the
/// input code range.
pub(crate) struct Stages<'a> {
    /// `None` when affine and batch-norm are fused.
    pub affine: Option<&'a FastMac>,
    /// Reads `g`, `h` (fused: `a'`, `b'` in `a`, `b`).
    pub batch_norm: &'a FastMac,
    pub requantize: &'a FastRequant,
    pub relu: bool,
    pub x_min: i64,
    pub x_max: i64,
}

/// Runs `xs` through the pipeline stage by stage, a block at a time, so each pass is a
/// tight loop whose few constants stay in registers, and tells whether every input was
/// within `x_min ..= x_max` (checked in the first pass; when not, the outputs are
/// meaningless and the caller reports the error). On x86-64 CPUs with AVX-512 (64-bit
/// vector multiplies) or AVX2 the same Rust is compiled a second time for those
/// instructions and chosen at run time: the same function, vectorized by the compiler.
pub(crate) fn run_stages(st: &Stages<'_>, k: Span<'_>, xs: &[i64], out: &mut [i64]) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
        {
            // SAFETY: the CPU has the features the function is compiled for.
            return unsafe { run_stages_avx512(st, k, xs, out) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: as above.
            return unsafe { run_stages_avx2(st, k, xs, out) };
        }
    }
    run_stages_generic(st, k, xs, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl")]
unsafe fn run_stages_avx512(st: &Stages<'_>, k: Span<'_>, xs: &[i64], out: &mut [i64]) -> bool {
    run_stages_generic(st, k, xs, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run_stages_avx2(st: &Stages<'_>, k: Span<'_>, xs: &[i64], out: &mut [i64]) -> bool {
    run_stages_generic(st, k, xs, out)
}

#[inline(always)]
fn run_stages_generic(st: &Stages<'_>, k: Span<'_>, xs: &[i64], out: &mut [i64]) -> bool {
    let mut y = [0i64; BLOCK];
    let mut z = [0i64; BLOCK];
    let mut outside = 0i64;
    let range = Some((st.x_min, st.x_max));
    for (i, (x, o)) in xs.chunks(BLOCK).zip(out.chunks_mut(BLOCK)).enumerate() {
        let (lo, n) = (i * BLOCK, x.len());
        let r = lo..lo + n;
        let (a, b) = (&k.a[r.clone()], &k.b[r.clone()]);
        let z = &mut z[..n];
        match st.affine {
            Some(af) => {
                outside |= af.pass(range, x, a, b, &mut y[..n]);
                st.batch_norm
                    .pass(None, &y[..n], &k.g[r.clone()], &k.h[r], z);
            }
            None => outside |= st.batch_norm.pass(range, x, a, b, z),
        }
        st.requantize.pass(st.relu, z, o);
    }
    outside >= 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::pipeline;
    use nmpu_config::NmpuConfig;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Every compiled variant this CPU can run gives the generic variant's outputs, on
    /// random codes and coefficients at their formats' extremes too, in every rounding
    /// and overflow mode (the property tests of the model only reach the variant the
    /// dispatcher picks).
    #[test]
    fn every_vector_variant_equals_the_generic_one() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for (rounding, overflow) in ["floor", "half_up", "half_even", "half_away"]
            .into_iter()
            .flat_map(|r| ["saturate", "wrap"].map(|o| (r, o)))
        {
            for fused in [false, true] {
                let toml = format!(
                    "columns = 64\nlanes = 1\nfuse_affine_bn = {fused}\n\
                     [affine]\nformat = {{ signed = true, int = 14, frac = 1 }}\nrounding = \"{rounding}\"\noverflow = \"{overflow}\"\n\
                     [batch_norm]\nformat = {{ signed = true, int = 9, frac = 6 }}\nrounding = \"{rounding}\"\noverflow = \"{overflow}\"\n\
                     [output]\nformat = {{ signed = true, int = 8, frac = 0 }}\nrounding = \"{rounding}\"\noverflow = \"{overflow}\""
                );
                let cfg = NmpuConfig::from_toml_str(&toml).unwrap();
                let p = pipeline(&cfg);
                let (bn, rq) = (p.batch_norm, p.requantize);
                let ab = p.affine.as_ref().unwrap_or(&bn);
                let c = &cfg.coefficients;
                let mut codes = |f: &nmpu_config::QFormat| -> Vec<i64> {
                    (0..64)
                        .map(|i| match i % 8 {
                            0 => f.min_code(),
                            1 => f.max_code(),
                            _ => rng.random_range(f.min_code()..=f.max_code()),
                        })
                        .collect()
                };
                let raw = [codes(&c.a), codes(&c.b), codes(&c.g), codes(&c.h)];
                let a = align(&raw[0], ab.product_shift);
                let b = align(&raw[1], ab.offset_shift);
                let g = align(&raw[2], bn.product_shift);
                let h = align(&raw[3], bn.offset_shift);
                let lim = 1i64 << (cfg.in_bits - 1);
                let xs: Vec<i64> = (0..64)
                    .map(|i| match i % 5 {
                        0 => -lim,
                        1 => lim - 1,
                        _ => rng.random_range(-lim..lim),
                    })
                    .collect();
                let fa = p.affine.as_ref().map(FastMac::new);
                let (fb, fr) = (FastMac::new(&bn), FastRequant::new(&rq));
                let span = || Span {
                    a: &a,
                    b: &b,
                    g: &g,
                    h: &h,
                };
                for relu in [false, true] {
                    let st = Stages {
                        affine: fa.as_ref(),
                        batch_norm: &fb,
                        requantize: &fr,
                        relu,
                        x_min: -lim,
                        x_max: lim - 1,
                    };
                    let mut want = vec![0; 64];
                    assert!(run_stages_generic(&st, span(), &xs, &mut want));
                    // The traced path's stages (one element at a time, mode by mode) are
                    // the reference for the fast path.
                    for (i, &x) in xs.iter().enumerate() {
                        let z = match &p.affine {
                            Some(af) => {
                                let y = af.apply(x, raw[0][i], raw[1][i]).0;
                                bn.apply(y, raw[2][i], raw[3][i]).0
                            }
                            None => bn.apply(x, raw[0][i], raw[1][i]).0,
                        };
                        let a = if relu { z.max(0) } else { z };
                        assert_eq!(want[i], rq.apply(a).0, "element {i}, {rounding}/{overflow}");
                    }
                    let mut got = vec![0; 64];
                    assert!(run_stages(&st, span(), &xs, &mut got));
                    assert_eq!(
                        got, want,
                        "dispatched, {rounding}/{overflow}, fused {fused}"
                    );
                    #[cfg(target_arch = "x86_64")]
                    {
                        if std::arch::is_x86_feature_detected!("avx2") {
                            // SAFETY: the CPU has AVX2.
                            unsafe { run_stages_avx2(&st, span(), &xs, &mut got) };
                            assert_eq!(got, want, "avx2, {rounding}/{overflow}, fused {fused}");
                        }
                        if std::arch::is_x86_feature_detected!("avx512f")
                            && std::arch::is_x86_feature_detected!("avx512dq")
                            && std::arch::is_x86_feature_detected!("avx512vl")
                        {
                            // SAFETY: the CPU has AVX-512 F, DQ and VL.
                            unsafe { run_stages_avx512(&st, span(), &xs, &mut got) };
                            assert_eq!(got, want, "avx512, {rounding}/{overflow}, fused {fused}");
                        }
                    }
                }
            }
        }
    }
}
