//! A candidate's errors against the f64 reference, computed on all cores.

use crate::data::TuneData;
use anyhow::{Context, Result};
use nmpu_config::NmpuConfig;
use nmpu_model::FixedModel;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Output errors in output LSBs, against the f64 reference's real output (clamped to
/// the output range) and its code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Mean |output - real|.
    pub mean_abs: f64,
    /// Largest |output - real|.
    pub max_abs: f64,
    /// Share of output codes that differ from the reference's code.
    pub mismatch: f64,
    /// RMS of output - real (the output rounding included).
    pub rms: f64,
    /// The RMS error this NMPU adds to the output rounding an exact NMPU has:
    /// `sqrt(mse - mse_exact)`. A code flipped at a rounding tie costs almost nothing here,
    /// which is what the next layer sees.
    pub added_rms: f64,
}

impl Metrics {
    /// The metrics of `outputs` (one code per element of `data`).
    pub fn of(data: &TuneData, outputs: &[i64]) -> Metrics {
        // Partial sums in parallel, added in chunk order: the same bits on every run
        // (a work-stealing reduction would add floats in a varying order).
        let parts: Vec<Sums> = outputs
            .par_chunks(4096)
            .zip(data.real.par_chunks(4096))
            .zip(data.code.par_chunks(4096))
            .map(|((o, r), c)| Sums::of(o, r, c))
            .collect();
        let sums = parts.into_iter().fold(Sums::default(), Sums::plus);
        sums.metrics(data)
    }

    /// How much the NMPU's added error lowers the SNR of a signal whose noise is
    /// `noise_rms` (output LSBs), in dB: `10 log10(1 + added^2 / noise^2)`.
    pub fn snr_loss_db(&self, noise_rms: f64) -> f64 {
        10.0 * (1.0 + (self.added_rms / noise_rms).powi(2)).log10()
    }
}

/// Partial sums over a slice of elements.
#[derive(Clone, Copy, Debug, Default)]
struct Sums {
    n: u64,
    abs: f64,
    max: f64,
    mismatches: u64,
    sq: f64,
}

/// Independent accumulators per quantity: element `i` goes to lane `i % LANES`, and the
/// lanes are added in order at the end. The same arithmetic on every CPU, and independent
/// lanes the compiler can put in vector registers.
const LANES: usize = 8;

impl Sums {
    fn of(out: &[i64], real: &[f64], code: &[i32]) -> Sums {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512dq")
            {
                // SAFETY: the CPU has the features the function is compiled for.
                return unsafe { Sums::of_avx512(out, real, code) };
            }
        }
        Sums::of_generic(out, real, code)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl")]
    unsafe fn of_avx512(out: &[i64], real: &[f64], code: &[i32]) -> Sums {
        Sums::of_generic(out, real, code)
    }

    #[inline(always)]
    fn of_generic(out: &[i64], real: &[f64], code: &[i32]) -> Sums {
        let n = out.len().min(real.len()).min(code.len());
        let (mut abs, mut max, mut sq) = ([0.0f64; LANES], [0.0f64; LANES], [0.0f64; LANES]);
        let mut mis = [0u64; LANES];
        let whole = n / LANES * LANES;
        for ((o, r), c) in out[..whole]
            .chunks_exact(LANES)
            .zip(real[..whole].chunks_exact(LANES))
            .zip(code[..whole].chunks_exact(LANES))
        {
            for l in 0..LANES {
                let e = o[l] as f64 - r[l];
                abs[l] += e.abs();
                max[l] = max[l].max(e.abs());
                sq[l] += e * e;
                mis[l] += u64::from(o[l] != i64::from(c[l]));
            }
        }
        for i in whole..n {
            let l = i % LANES;
            let e = out[i] as f64 - real[i];
            abs[l] += e.abs();
            max[l] = max[l].max(e.abs());
            sq[l] += e * e;
            mis[l] += u64::from(out[i] != i64::from(code[i]));
        }
        Sums {
            n: n as u64,
            abs: abs.iter().sum(),
            max: max.iter().copied().fold(0.0, f64::max),
            mismatches: mis.iter().sum(),
            sq: sq.iter().sum(),
        }
    }

    fn plus(a: Sums, b: Sums) -> Sums {
        Sums {
            n: a.n + b.n,
            abs: a.abs + b.abs,
            max: a.max.max(b.max),
            mismatches: a.mismatches + b.mismatches,
            sq: a.sq + b.sq,
        }
    }

    fn metrics(&self, data: &TuneData) -> Metrics {
        let n = self.n.max(1) as f64;
        let mse = self.sq / n;
        Metrics {
            mean_abs: self.abs / n,
            max_abs: self.max,
            mismatch: self.mismatches as f64 / n,
            rms: mse.sqrt(),
            added_rms: (mse - data.exact_mse).max(0.0).sqrt(),
        }
    }
}

/// Rows per parallel task: enough work per task to amortise the split.
pub const ROWS_PER_TASK: usize = 16;

/// `cfg`'s fixed-point golden model with `data`'s coefficients quantized to its formats.
pub fn fixed_model(cfg: &NmpuConfig, data: &TuneData) -> Result<FixedModel> {
    let (codes, _) = nmpu_model::quantize(cfg, &data.coeffs).context("quantizing")?;
    FixedModel::new(cfg, codes).context("the fixed-point model")
}

/// The metrics of `cfg`'s fixed-point NMPU on `data`: the model and the error sums run
/// together per slice of rows, on all cores, without the whole output in memory (each
/// slice's outputs stay in a small buffer that is reused), summed in slice order.
pub fn evaluate(cfg: &NmpuConfig, data: &TuneData) -> Result<Metrics> {
    let model = fixed_model(cfg, data)?;
    let chunk = data.columns * ROWS_PER_TASK;
    let parts: Vec<Sums> = data
        .xs
        .par_chunks(chunk)
        .zip(data.real.par_chunks(chunk))
        .zip(data.code.par_chunks(chunk))
        .map_init(
            || vec![0i64; chunk],
            |buf, ((x, r), c)| -> Result<Sums> {
                let out = &mut buf[..x.len()];
                model.run(0, x, out)?;
                Ok(Sums::of(out, r, c))
            },
        )
        .collect::<Result<_>>()?;
    Ok(parts
        .into_iter()
        .fold(Sums::default(), Sums::plus)
        .metrics(data))
}
