//! One test case: coefficient codes, input beats and flow-control patterns, drawn from a
//! seed, and the golden model's expected output for every element.

use half::f16;
use nmpu_config::{NmpuConfig, QFormat};
use nmpu_model::{CoeffCodes, F16Coeffs, FixedModel, Fp16Model};
use nmpu_rtl::generate::Datapath;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A write on the configuration port.
#[derive(Clone, Copy, Debug)]
pub struct CfgWrite {
    pub sel: u32,
    pub col: u32,
    pub data: u32,
}

/// One input beat: column of lane 0 and the lane words as driven (code in the low
/// `in_bits`, anything above).
#[derive(Clone, Debug)]
pub struct Beat {
    pub col: u32,
    pub x: Vec<i64>,
    pub words: Vec<u32>,
}

/// A case's coefficients: they also say which datapath the case is for.
#[derive(Clone, Debug)]
pub enum Coefficients {
    /// Codes of the fixed-point NMPU's formats.
    Fixed(CoeffCodes),
    /// binary16 values of the FP16 baseline.
    Fp16(F16Coeffs),
}

#[derive(Clone, Debug)]
pub struct Case {
    pub cfg: NmpuConfig,
    pub coeffs: Coefficients,
    pub writes: Vec<CfgWrite>,
    pub beats: Vec<Beat>,
    /// Per cycle: the producer holds back (no new beat) when true.
    pub gaps: Vec<bool>,
    /// Per cycle: the consumer is ready when true.
    pub ready: Vec<bool>,
}

fn low_bits(v: i64, width: u32) -> u32 {
    (v as u64 & ((1u64 << width) - 1)) as u32
}

/// A word whose low `width` bits are `code` and whose upper bits are random: the RTL must
/// ignore them.
fn with_garbage(rng: &mut ChaCha8Rng, code: i64, width: u32, word_bits: u32) -> u32 {
    let garbage: u32 = rng.random();
    let keep = if word_bits == 32 {
        u32::MAX
    } else {
        (1u32 << word_bits) - 1
    };
    let high = if width >= 32 {
        0
    } else {
        garbage & !((1u32 << width) - 1)
    };
    (low_bits(code, width) | high) & keep
}

/// Codes biased to the extremes of a format.
pub fn draw_code(rng: &mut ChaCha8Rng, f: &QFormat) -> i64 {
    let (lo, hi) = (f.min_code(), f.max_code());
    match rng.random_range(0..8) {
        0 => lo,
        1 => hi,
        2 => 0i64.clamp(lo, hi),
        3 => 1i64.clamp(lo, hi),
        _ => rng.random_range(lo..=hi),
    }
}

/// The configuration-port writes that load `codes` (with garbage above each code).
pub fn writes_for(cfg: &NmpuConfig, codes: &CoeffCodes, rng: &mut ChaCha8Rng) -> Vec<CfgWrite> {
    let k = cfg.coefficients;
    let sets: Vec<(u32, &Vec<i64>, QFormat)> = if codes.fused {
        vec![(0, &codes.a, k.a), (1, &codes.b, k.b)]
    } else {
        vec![
            (0, &codes.a, k.a),
            (1, &codes.b, k.b),
            (2, &codes.g, k.g),
            (3, &codes.h, k.h),
        ]
    };
    let mut writes = vec![];
    for (sel, v, f) in sets {
        for (col, &code) in v.iter().enumerate() {
            let data = with_garbage(rng, code, f.width(), 32);
            writes.push(CfgWrite {
                sel,
                col: col as u32,
                data,
            });
        }
    }
    writes
}

/// The configuration-port writes that load binary16 coefficients (value in the low 16
/// bits, garbage above).
pub fn f16_writes(c: &F16Coeffs, rng: &mut ChaCha8Rng) -> Vec<CfgWrite> {
    let mut writes = vec![];
    for (sel, v) in [(0, &c.a), (1, &c.b), (2, &c.g), (3, &c.h)] {
        for (col, h) in v.iter().enumerate() {
            let data = with_garbage(rng, i64::from(h.to_bits()), 16, 32);
            writes.push(CfgWrite {
                sel,
                col: col as u32,
                data,
            });
        }
    }
    writes
}

/// The positive half of [`f16_boundary_values`].
const F16_BOUNDARY: [u16; 31] = [
    0x0000, 0x0001, 0x0002, 0x0003, 0x01ff, 0x0200, 0x03ff, 0x0400, 0x0401, 0x07ff, 0x3bff, 0x3c00,
    0x3c01, 0x3e00, 0x3fff, 0x4000, 0x4900, 0x5800, 0x7800, 0x7bfe, 0x7bff, 0x7c00, 0x7c01, 0x7e00,
    0x7fff, 0x1400, 0x2000, 0x2c00, 0x0155, 0x3555, 0x6aaa,
];

/// Special and boundary binary16 values: zeros, the smallest and largest subnormals, the
/// smallest normal, one and its neighbours, powers of two across the range, the largest
/// finite value, infinities, NaNs; both signs.
pub fn f16_boundary_values() -> Vec<u16> {
    let neg = F16_BOUNDARY.map(|x| x | 0x8000);
    [F16_BOUNDARY, neg].concat()
}

/// One of [`f16_boundary_values`], drawn uniformly.
fn draw_f16_boundary(rng: &mut ChaCha8Rng) -> f16 {
    let sign = u16::from(rng.random_bool(0.5)) << 15;
    f16::from_bits(F16_BOUNDARY[rng.random_range(0..F16_BOUNDARY.len())] | sign)
}

/// A binary16 coefficient: mostly ordinary magnitudes (2^-12 .. 2^4: ADC codes reach
/// 2^12 and binary16 ends at 2^16), sometimes a boundary value or any bit pattern.
pub fn draw_f16(rng: &mut ChaCha8Rng) -> f16 {
    let bits = match rng.random_range(0..16) {
        0 => return draw_f16_boundary(rng),
        1 => rng.random(),
        _ => {
            let sign = u16::from(rng.random_bool(0.5)) << 15;
            sign | (rng.random_range(3..=19u16) << 10) | rng.random_range(0..1024u16)
        }
    };
    f16::from_bits(bits)
}

/// Coefficients for `datapath`, one per column and coefficient, from `fixed` (a code of a
/// format) or `float` (a binary16), with the writes that load them.
fn coefficients(
    cfg: &NmpuConfig,
    datapath: Datapath,
    rng: &mut ChaCha8Rng,
    fixed: impl FnMut(&QFormat, &mut ChaCha8Rng) -> i64,
    mut float: impl FnMut(&mut ChaCha8Rng) -> f16,
) -> (Coefficients, Vec<CfgWrite>) {
    match datapath {
        Datapath::Fixed => {
            let codes = codes_with(cfg, rng, fixed);
            let writes = writes_for(cfg, &codes, rng);
            (Coefficients::Fixed(codes), writes)
        }
        Datapath::Fp16 => {
            let n = cfg.columns as usize;
            let mut column = |rng: &mut ChaCha8Rng| (0..n).map(|_| float(rng)).collect();
            let c = F16Coeffs {
                a: column(rng),
                b: column(rng),
                g: column(rng),
                h: column(rng),
            };
            let writes = f16_writes(&c, rng);
            (Coefficients::Fp16(c), writes)
        }
    }
}

/// Coefficient codes with one code per column drawn by `draw` for each coefficient.
fn codes_with(
    cfg: &NmpuConfig,
    rng: &mut ChaCha8Rng,
    mut draw: impl FnMut(&QFormat, &mut ChaCha8Rng) -> i64,
) -> CoeffCodes {
    let n = cfg.columns as usize;
    let k = cfg.coefficients;
    let fused = cfg.fuse_affine_bn;
    let mut column = |f: &QFormat, used: bool, rng: &mut ChaCha8Rng| -> Vec<i64> {
        if used {
            (0..n).map(|_| draw(f, rng)).collect()
        } else {
            vec![]
        }
    };
    CoeffCodes {
        fused,
        a: column(&k.a, true, rng),
        b: column(&k.b, true, rng),
        g: column(&k.g, !fused, rng),
        h: column(&k.h, !fused, rng),
    }
}

fn beat(rng: &mut ChaCha8Rng, cfg: &NmpuConfig, col: u32, x: Vec<i64>) -> Beat {
    let words = x
        .iter()
        .map(|&v| with_garbage(rng, v, cfg.in_bits, 24))
        .collect();
    Beat { col, x, words }
}

fn flow(rng: &mut ChaCha8Rng, beats: usize, p_gap: f64, p_stall: f64) -> (Vec<bool>, Vec<bool>) {
    let cycles = (4 * beats + 64).min(1 << 20);
    let gaps = (0..cycles).map(|_| rng.random_bool(p_gap)).collect();
    let ready = (0..cycles).map(|_| !rng.random_bool(p_stall)).collect();
    (gaps, ready)
}

/// Random coefficients, `rows` rows of random beats, and flow-control patterns with the
/// given probabilities of a producer gap and of the consumer not being ready.
pub fn random_case(cfg: &NmpuConfig, seed: u64, rows: usize, p_gap: f64, p_stall: f64) -> Case {
    random_case_for(Datapath::Fixed, cfg, seed, rows, p_gap, p_stall)
}

/// [`random_case`] for either datapath.
pub fn random_case_for(
    datapath: Datapath,
    cfg: &NmpuConfig,
    seed: u64,
    rows: usize,
    p_gap: f64,
    p_stall: f64,
) -> Case {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (coeffs, writes) = coefficients(
        cfg,
        datapath,
        &mut rng,
        |f, rng| draw_code(rng, f),
        draw_f16,
    );
    let xf = QFormat::new(true, cfg.in_bits as i32, 0);
    let lanes = cfg.lanes as usize;
    let mut beats = vec![];
    for _ in 0..rows {
        for b in 0..cfg.beats_per_row() as usize {
            let x: Vec<i64> = (0..lanes).map(|_| draw_code(&mut rng, &xf)).collect();
            beats.push(beat(&mut rng, cfg, (b * lanes) as u32, x));
        }
    }
    let (gaps, ready) = flow(&mut rng, beats.len(), p_gap, p_stall);
    Case {
        cfg: cfg.clone(),
        coeffs,
        writes,
        beats,
        gaps,
        ready,
    }
}

/// The values of a format a corner sweep draws coefficients from: both extremes and their
/// neighbours, zero, plus and minus one LSB, and every power of two in range (a single set
/// bit puts the product's rounding tie at each position in turn).
pub fn corner_values(f: &QFormat) -> Vec<i64> {
    let (lo, hi) = (f.min_code(), f.max_code());
    let mut v = vec![lo, lo + 1, hi, hi - 1, 0, 1, -1];
    for k in 0..f.width() {
        v.push(1i64 << k);
        v.push(-(1i64 << k));
    }
    v.retain(|c| (lo..=hi).contains(c));
    v.sort_unstable();
    v.dedup();
    v
}

/// At most this many elements per corner pass, whatever the config.
const CORNER_PASS_ELEMENTS: usize = 1 << 21;

/// The ADC codes a corner pass sweeps: all of them when there are at most 2^13, otherwise
/// the extremes, every code within 2^11 of zero and of each extreme, and every power of two.
pub fn corner_inputs(in_bits: u32) -> Vec<i64> {
    let f = QFormat::new(true, in_bits as i32, 0);
    let (lo, hi) = (f.min_code(), f.max_code());
    if in_bits <= 13 {
        return (lo..=hi).collect();
    }
    let near = 1i64 << 11;
    let mut v: Vec<i64> = (lo..lo + near)
        .chain(-near..near)
        .chain(hi - near + 1..=hi)
        .collect();
    v.extend(corner_values(&f));
    v.sort_unstable();
    v.dedup();
    v
}

/// Corner pass `pass`: every column gets coefficients drawn from `corner_values` (seeded by
/// `seed` and `pass`), and the rows sweep the ADC codes of `corner_inputs` so that every
/// code meets every column when the pass is large enough (columns see the sweep staggered,
/// so lanes of one beat carry different codes). Streams without gaps or stalls.
pub fn corner_case(cfg: &NmpuConfig, seed: u64, pass: u32) -> Case {
    corner_case_for(Datapath::Fixed, cfg, seed, pass)
}

/// [`corner_case`] for either datapath; FP16 coefficients come from
/// [`f16_boundary_values`] one time in four (a column with an infinite or huge
/// coefficient saturates whole, so more would leave few columns doing arithmetic), else
/// from [`draw_f16`].
pub fn corner_case_for(datapath: Datapath, cfg: &NmpuConfig, seed: u64, pass: u32) -> Case {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (u64::from(pass) << 40) ^ 0xc0_4e5);
    let (coeffs, writes) = coefficients(
        cfg,
        datapath,
        &mut rng,
        |f, rng| {
            let vals = corner_values(f);
            vals[rng.random_range(0..vals.len())]
        },
        |rng| {
            if rng.random_bool(0.25) {
                draw_f16_boundary(rng)
            } else {
                draw_f16(rng)
            }
        },
    );
    let inputs = corner_inputs(cfg.in_bits);
    let columns = cfg.columns as usize;
    let lanes = cfg.lanes as usize;
    let rows = inputs
        .len()
        .min(CORNER_PASS_ELEMENTS / columns)
        .max(inputs.len().div_ceil(columns));
    let mut beats = Vec::with_capacity(rows * columns / lanes);
    for r in 0..rows {
        for b in 0..cfg.beats_per_row() as usize {
            let x = (0..lanes)
                .map(|l| inputs[(r + b * lanes + l) % inputs.len()])
                .collect();
            beats.push(beat(&mut rng, cfg, (b * lanes) as u32, x));
        }
    }
    Case {
        cfg: cfg.clone(),
        coeffs,
        writes,
        beats,
        gaps: vec![false],
        ready: vec![true],
    }
}

/// How to rebuild a case from a config: what a failure report and a replay command name.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CaseSpec {
    Random {
        seed: u64,
        rows: usize,
        p_gap: f64,
        p_stall: f64,
    },
    Corner {
        seed: u64,
        pass: u32,
    },
}

impl CaseSpec {
    /// The fixed-point NMPU's case.
    pub fn build(&self, cfg: &NmpuConfig) -> Case {
        self.build_for(Datapath::Fixed, cfg)
    }

    pub fn build_for(&self, datapath: Datapath, cfg: &NmpuConfig) -> Case {
        match *self {
            CaseSpec::Random {
                seed,
                rows,
                p_gap,
                p_stall,
            } => random_case_for(datapath, cfg, seed, rows, p_gap, p_stall),
            CaseSpec::Corner { seed, pass } => corner_case_for(datapath, cfg, seed, pass),
        }
    }
}

impl std::fmt::Display for CaseSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaseSpec::Random {
                seed,
                rows,
                p_gap,
                p_stall,
            } => write!(
                f,
                "random case: seed {seed}, {rows} vectors, gap {p_gap}, stall {p_stall}"
            ),
            CaseSpec::Corner { seed, pass } => write!(f, "corner pass {pass} (seed {seed})"),
        }
    }
}

impl Case {
    /// The golden model's output codes, flat: lane `l` of beat `b` at `b * lanes + l`.
    pub fn expected(&self) -> anyhow::Result<Vec<i64>> {
        let lanes = self.cfg.lanes as usize;
        let mut out = vec![0i64; self.beats.len() * lanes];
        match &self.coeffs {
            Coefficients::Fixed(codes) => {
                let m = FixedModel::new(&self.cfg, codes.clone())?;
                for (b, o) in self.beats.iter().zip(out.chunks_exact_mut(lanes)) {
                    m.run(b.col as usize, &b.x, o)?;
                }
            }
            Coefficients::Fp16(c) => {
                let m = Fp16Model::new(&self.cfg, c.clone())?;
                for (b, o) in self.beats.iter().zip(out.chunks_exact_mut(lanes)) {
                    for (l, (o, &x)) in o.iter_mut().zip(&b.x).enumerate() {
                        *o = m.trace(b.col as usize + l, x).output;
                    }
                }
            }
        }
        Ok(out)
    }

    /// The datapath this case is for.
    pub fn datapath(&self) -> Datapath {
        match self.coeffs {
            Coefficients::Fixed(_) => Datapath::Fixed,
            Coefficients::Fp16(_) => Datapath::Fp16,
        }
    }
}
