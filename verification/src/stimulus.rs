//! One test case: coefficient codes, input beats and flow-control patterns, drawn from a
//! seed, and the golden model's expected output for every element.

use nmpu_config::{NmpuConfig, QFormat};
use nmpu_model::{CoeffCodes, FixedModel};
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

#[derive(Clone, Debug)]
pub struct Case {
    pub cfg: NmpuConfig,
    pub codes: CoeffCodes,
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

/// Random coefficients, `rows` rows of random beats, and flow-control patterns with the
/// given probabilities of a producer gap and of the consumer not being ready.
pub fn random_case(cfg: &NmpuConfig, seed: u64, rows: usize, p_gap: f64, p_stall: f64) -> Case {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = cfg.columns as usize;
    let k = cfg.coefficients;
    let draw = |f: &QFormat, m: usize, rng: &mut ChaCha8Rng| {
        (0..m).map(|_| draw_code(rng, f)).collect::<Vec<_>>()
    };
    let fused = cfg.fuse_affine_bn;
    let codes = CoeffCodes {
        fused,
        a: draw(&k.a, n, &mut rng),
        b: draw(&k.b, n, &mut rng),
        g: if fused {
            vec![]
        } else {
            draw(&k.g, n, &mut rng)
        },
        h: if fused {
            vec![]
        } else {
            draw(&k.h, n, &mut rng)
        },
    };
    let mut writes = vec![];
    let sets: Vec<(u32, &Vec<i64>, QFormat)> = if fused {
        vec![(0, &codes.a, k.a), (1, &codes.b, k.b)]
    } else {
        vec![
            (0, &codes.a, k.a),
            (1, &codes.b, k.b),
            (2, &codes.g, k.g),
            (3, &codes.h, k.h),
        ]
    };
    for (sel, v, f) in sets {
        for (col, &code) in v.iter().enumerate() {
            let data = with_garbage(&mut rng, code, f.width(), 32);
            writes.push(CfgWrite {
                sel,
                col: col as u32,
                data,
            });
        }
    }
    let xf = QFormat::new(true, cfg.in_bits as i32, 0);
    let lanes = cfg.lanes as usize;
    let mut beats = vec![];
    for _ in 0..rows {
        for b in 0..cfg.beats_per_row() as usize {
            let x: Vec<i64> = (0..lanes).map(|_| draw_code(&mut rng, &xf)).collect();
            let words = x
                .iter()
                .map(|&v| with_garbage(&mut rng, v, cfg.in_bits, 24))
                .collect();
            beats.push(Beat {
                col: (b * lanes) as u32,
                x,
                words,
            });
        }
    }
    let cycles = 4 * beats.len() + 64;
    let gaps = (0..cycles).map(|_| rng.random_bool(p_gap)).collect();
    let ready = (0..cycles).map(|_| !rng.random_bool(p_stall)).collect();
    Case {
        cfg: cfg.clone(),
        codes,
        writes,
        beats,
        gaps,
        ready,
    }
}

impl Case {
    /// The golden model's output codes, beat by beat.
    pub fn expected(&self) -> anyhow::Result<Vec<Vec<i64>>> {
        let m = FixedModel::new(&self.cfg, self.codes.clone())?;
        self.beats
            .iter()
            .map(|b| {
                b.x.iter()
                    .enumerate()
                    .map(|(i, &x)| Ok(m.eval(b.col as usize + i, x)?))
                    .collect()
            })
            .collect()
    }
}
