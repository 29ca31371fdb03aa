//! The fixed-point model against an i128 re-statement of docs/arithmetic.md, on random
//! valid configurations and coefficients (extremes included), plus its properties.

use nmpu_config::strategies;
use nmpu_config::{Activation, NmpuConfig, Overflow, QFormat, Rounding, StageConfig};
use nmpu_model::{CoeffCodes, FixedModel};
use proptest::prelude::*;

// ---- the reference: the spec's formulas in i128, division-based rounding ----

fn spec_round(v: i128, s: u32, mode: Rounding) -> i128 {
    let den = 1i128 << s;
    let q = v.div_euclid(den);
    let twice_r = 2 * v.rem_euclid(den);
    let up = match mode {
        Rounding::Floor => false,
        Rounding::HalfUp => twice_r >= den,
        Rounding::HalfEven => twice_r > den || (twice_r == den && q.rem_euclid(2) == 1),
        Rounding::HalfAway => twice_r > den || (twice_r == den && v > 0),
    };
    if s == 0 {
        v
    } else {
        q + i128::from(up)
    }
}

fn spec_fit(v: i128, f: &QFormat, o: Overflow) -> (i128, bool) {
    let (lo, hi) = (f.min_code() as i128, f.max_code() as i128);
    match o {
        Overflow::Saturate => {
            let c = v.clamp(lo, hi);
            (c, c != v)
        }
        Overflow::Wrap => {
            let m = 1i128 << f.width();
            let w = v.rem_euclid(m);
            (if f.signed && w > hi { w - m } else { w }, false)
        }
    }
}

fn spec_mac(
    v: i128,
    vf: &QFormat,
    k: i128,
    kf: &QFormat,
    o: i128,
    of: &QFormat,
    r: &StageConfig,
) -> (i128, bool) {
    let pf = vf.frac + kf.frac;
    let f = pf.max(of.frac).max(r.format.frac);
    let t = v * k * (1i128 << (f - pf)) + o * (1i128 << (f - of.frac));
    spec_fit(
        spec_round(t, f - r.format.frac, r.rounding),
        &r.format,
        r.overflow,
    )
}

/// (affine, batch_norm, activation, output)
fn spec(cfg: &NmpuConfig, c: &CoeffCodes, col: usize, x: i64) -> (Option<i128>, i128, i128, i128) {
    let xf = QFormat::new(true, cfg.in_bits as i32, 0);
    let k = &cfg.coefficients;
    let (aff, z) = if cfg.fuse_affine_bn {
        let z = spec_mac(
            x.into(),
            &xf,
            c.a[col].into(),
            &k.a,
            c.b[col].into(),
            &k.b,
            &cfg.batch_norm,
        )
        .0;
        (None, z)
    } else {
        let y = spec_mac(
            x.into(),
            &xf,
            c.a[col].into(),
            &k.a,
            c.b[col].into(),
            &k.b,
            &cfg.affine,
        )
        .0;
        let z = spec_mac(
            y,
            &cfg.affine.format,
            c.g[col].into(),
            &k.g,
            c.h[col].into(),
            &k.h,
            &cfg.batch_norm,
        )
        .0;
        (Some(y), z)
    };
    let act = if cfg.activation == Activation::Relu {
        z.max(0)
    } else {
        z
    };
    let zf = cfg.batch_norm.format.frac;
    let of = cfg.output.format.frac;
    let f = zf.max(of);
    let out = spec_fit(
        spec_round(act * (1i128 << (f - zf)), f - of, cfg.output.rounding),
        &cfg.output.format,
        cfg.output.overflow,
    )
    .0;
    (aff, z, act, out)
}

// ---- strategies ----

/// A code of format `f`: extremes, zero, one LSB, or anything in range.
fn code(f: QFormat) -> BoxedStrategy<i64> {
    let (lo, hi) = (f.min_code(), f.max_code());
    prop_oneof![
        1 => Just(lo),
        1 => Just(hi),
        1 => Just(0i64.clamp(lo, hi)),
        1 => Just(1i64.clamp(lo, hi)),
        1 => Just((-1i64).clamp(lo, hi)),
        4 => lo..=hi,
    ]
    .boxed()
}

fn codes_for(cfg: &NmpuConfig) -> BoxedStrategy<CoeffCodes> {
    let n = cfg.columns as usize;
    let k = cfg.coefficients;
    let fused = cfg.fuse_affine_bn;
    let (gn, hn) = if fused { (0, 0) } else { (n, n) };
    (
        prop::collection::vec(code(k.a), n),
        prop::collection::vec(code(k.b), n),
        prop::collection::vec(code(k.g), gn),
        prop::collection::vec(code(k.h), hn),
    )
        .prop_map(move |(a, b, g, h)| CoeffCodes { fused, a, b, g, h })
        .boxed()
}

fn case() -> impl Strategy<Value = (NmpuConfig, CoeffCodes, Vec<i64>)> {
    strategies::config(6).prop_flat_map(|cfg| {
        let codes = codes_for(&cfg);
        let xs = prop::collection::vec(code(QFormat::new(true, cfg.in_bits as i32, 0)), 1..40);
        (Just(cfg), codes, xs)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn trace_matches_the_spec((cfg, codes, xs) in case()) {
        let m = FixedModel::new(&cfg, codes.clone()).unwrap();
        for (i, &x) in xs.iter().enumerate() {
            let col = i % cfg.columns as usize;
            let t = m.trace(col, x).unwrap();
            let (aff, z, act, out) = spec(&cfg, &codes, col, x);
            prop_assert_eq!(t.affine.map(i128::from), aff, "affine col {} x {}", col, x);
            prop_assert_eq!(t.batch_norm as i128, z, "batch_norm col {} x {}", col, x);
            prop_assert_eq!(t.activation as i128, act);
            prop_assert_eq!(t.output as i128, out, "output col {} x {}", col, x);
        }
        // The streaming entry point agrees with the traced one.
        let mut out = vec![0; xs.len()];
        m.run(0, &xs, &mut out).unwrap();
        for (i, (&o, &x)) in out.iter().zip(&xs).enumerate() {
            prop_assert_eq!(o, m.trace(i % cfg.columns as usize, x).unwrap().output);
        }
    }

    #[test]
    fn relu_output_is_never_negative((cfg, codes, xs) in case()) {
        let mut cfg = cfg;
        cfg.activation = Activation::Relu;
        let m = FixedModel::new(&cfg, codes).unwrap();
        for (i, &x) in xs.iter().enumerate() {
            let t = m.trace(i % cfg.columns as usize, x).unwrap();
            prop_assert!(t.activation >= 0);
            if cfg.output.overflow == Overflow::Saturate {
                prop_assert!(t.output >= 0, "output {} for x {}", t.output, x);
            }
        }
    }

    #[test]
    fn monotone_in_x_for_positive_gains((cfg, codes, xs) in case()) {
        let mut cfg = cfg;
        for s in [&mut cfg.affine, &mut cfg.batch_norm, &mut cfg.output] {
            s.overflow = Overflow::Saturate;
        }
        let mut codes = codes;
        let (af, gf) = (cfg.coefficients.a, cfg.coefficients.g);
        for k in codes.a.iter_mut() {
            *k = k.abs().clamp(1, af.max_code());
        }
        for k in codes.g.iter_mut() {
            *k = k.abs().clamp(1, gf.max_code());
        }
        let m = FixedModel::new(&cfg, codes).unwrap();
        let xf = QFormat::new(true, cfg.in_bits as i32, 0);
        let mut xs = xs;
        xs.extend([xf.min_code(), xf.max_code(), 0]);
        xs.sort();
        for col in 0..cfg.columns as usize {
            let outs: Vec<i64> = xs.iter().map(|&x| m.eval(col, x).unwrap()).collect();
            prop_assert!(outs.windows(2).all(|w| w[0] <= w[1]), "col {}: {:?} -> {:?}", col, xs, outs);
        }
    }
}

// ---- fused vs unfused: docs/arithmetic.md section 8 ----

fn folded_formats(cfg: &NmpuConfig) -> (QFormat, QFormat) {
    let k = &cfg.coefficients;
    let signed = |f: &QFormat| f.signed_width();
    let a_frac = k.a.frac + k.g.frac;
    let a = QFormat::new(
        true,
        (signed(&k.a) + signed(&k.g)) as i32 - a_frac as i32,
        a_frac,
    );
    let b_frac = (k.b.frac + k.g.frac).max(k.h.frac);
    let bw = (signed(&k.b) + signed(&k.g) + b_frac - (k.b.frac + k.g.frac))
        .max(signed(&k.h) + b_frac - k.h.frac)
        + 1;
    (a, QFormat::new(true, bw as i32 - b_frac as i32, b_frac))
}

/// An unfused config with narrow coefficients and the fused config that holds its
/// exactly folded pair, both valid.
fn fused_case() -> impl Strategy<Value = (NmpuConfig, NmpuConfig, CoeffCodes, Vec<i64>)> {
    let small = || strategies::format(1..=10, 8);
    (strategies::config(6), small(), small(), small(), small())
        .prop_filter_map("folded pair must fit", |(mut un, a, b, g, h)| {
            un.fuse_affine_bn = false;
            un.coefficients = nmpu_config::CoefficientFormats { a, b, g, h };
            for s in [&mut un.affine, &mut un.batch_norm, &mut un.output] {
                s.overflow = Overflow::Saturate;
            }
            let (fa, fb) = folded_formats(&un);
            let mut fu = un.clone();
            fu.fuse_affine_bn = true;
            fu.coefficients.a = fa;
            fu.coefficients.b = fb;
            (un.validate().is_ok() && fu.validate().is_ok()).then_some((un, fu))
        })
        .prop_flat_map(|(un, fu)| {
            let codes = codes_for(&un);
            let xs = prop::collection::vec(code(QFormat::new(true, un.in_bits as i32, 0)), 1..40);
            (Just(un), Just(fu), codes, xs)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn fused_and_unfused_agree_within_the_bound((un, fu, codes, xs) in fused_case()) {
        let n = un.columns as usize;
        let k = un.coefficients;
        let fb = fu.coefficients.b;
        let unfused = codes;
        // Exact folding in codes: a' = a*g at frac(a)+frac(g); b' = b*g + h aligned.
        let bf = fb.frac;
        let fused = CoeffCodes {
            fused: true,
            a: (0..n).map(|c| unfused.a[c] * unfused.g[c]).collect(),
            b: (0..n)
                .map(|c| {
                    ((unfused.b[c] * unfused.g[c]) << (bf - k.b.frac - k.g.frac))
                        + (unfused.h[c] << (bf - k.h.frac))
                })
                .collect(),
            g: vec![],
            h: vec![],
        };
        let mu = FixedModel::new(&un, unfused.clone()).unwrap();
        let mf = FixedModel::new(&fu, fused).unwrap();
        let e = |r: Rounding| if r == Rounding::Floor { 1.0 } else { 0.5 };
        for (i, &x) in xs.iter().enumerate() {
            let col = i % n;
            let tu = mu.trace(col, x).unwrap();
            let tf = mf.trace(col, x).unwrap();
            if tu.saturated[0] || tu.saturated[1] || tf.saturated[1] {
                continue; // the bound holds only where nothing saturated
            }
            let g = (unfused.g[col] as f64 * k.g.lsb()).abs();
            let bound_real = g * e(un.affine.rounding) * un.affine.format.lsb()
                + 2.0 * e(un.batch_norm.rounding) * un.batch_norm.format.lsb();
            let bound_out = bound_real * (un.output.format.frac as f64).exp2() + 1.0;
            let d = (tu.output - tf.output).abs() as f64;
            prop_assert!(d <= bound_out, "col {} x {}: unfused {} fused {} bound {}", col, x, tu.output, tf.output, bound_out);
        }
    }
}

#[test]
fn inputs_outside_in_bits_are_rejected() {
    let cfg = NmpuConfig::default();
    let n = cfg.columns as usize;
    let codes = CoeffCodes {
        fused: false,
        a: vec![0; n],
        b: vec![0; n],
        g: vec![0; n],
        h: vec![0; n],
    };
    let m = FixedModel::new(&cfg, codes).unwrap();
    assert!(m.eval(0, 4095).is_ok());
    assert!(m.eval(0, -4096).is_ok());
    let e = m.eval(0, 4096).unwrap_err().to_string();
    assert!(e.contains("-4096 ..= 4095"), "{e}");
    let mut out = vec![0; 2];
    assert!(m.run(0, &[0, -4097], &mut out).is_err());
    assert!(m.eval(n, 0).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Long streams cross the fast path's 256-element blocks and the row wrap.
    #[test]
    fn streaming_across_blocks_and_rows_matches_trace(
        cfg in strategies::config(6).prop_map(|mut c| { c.columns = 300; c.lanes = 1; c }),
        first in 0usize..300,
        seed in any::<u64>(),
    ) {
        prop_assume!(cfg.validate().is_ok());
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let k = cfg.coefficients;
        let mut draw = |f: &QFormat, n: usize| -> Vec<i64> {
            (0..n).map(|_| rng.random_range(f.min_code()..=f.max_code())).collect()
        };
        let n = cfg.columns as usize;
        let fused = cfg.fuse_affine_bn;
        let codes = CoeffCodes {
            fused,
            a: draw(&k.a, n),
            b: draw(&k.b, n),
            g: if fused { vec![] } else { draw(&k.g, n) },
            h: if fused { vec![] } else { draw(&k.h, n) },
        };
        let xf = QFormat::new(true, cfg.in_bits as i32, 0);
        let xs = draw(&xf, 1000);
        let m = FixedModel::new(&cfg, codes).unwrap();
        let mut out = vec![0; xs.len()];
        m.run(first, &xs, &mut out).unwrap();
        for (i, (&o, &x)) in out.iter().zip(&xs).enumerate() {
            let col = (first + i) % n;
            prop_assert_eq!(o, m.trace(col, x).unwrap().output, "element {} col {}", i, col);
        }
    }
}
