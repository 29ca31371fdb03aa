//! Error statistics, one set for every caller: the comparison of `nmpu compare` and
//! `nmpu report` adds errors one at a time ([`ErrStats`]); the precision search sums a
//! candidate's output errors a block at a time ([`OutputErrors`]) and judges the
//! [`Metrics`] they give.

use serde::{Deserialize, Serialize};

/// Count, largest and sum of absolute errors (and of their squares).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct ErrStats {
    pub count: u64,
    pub max: f64,
    pub sum: f64,
    #[serde(skip)]
    pub sum_sq: f64,
}

impl ErrStats {
    pub fn add(&mut self, e: f64) {
        let e = e.abs();
        self.count += 1;
        self.sum += e;
        self.sum_sq += e * e;
        if e > self.max || e.is_nan() {
            self.max = e;
        }
    }

    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum / self.count as f64
        }
    }

    /// Both sets of errors as one (maxima ignore NaN here: sums of finite errors).
    pub fn plus(self, o: ErrStats) -> ErrStats {
        ErrStats {
            count: self.count + o.count,
            max: self.max.max(o.max),
            sum: self.sum + o.sum,
            sum_sq: self.sum_sq + o.sum_sq,
        }
    }
}

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
    /// How much the NMPU's added error lowers the SNR of a signal whose noise is
    /// `noise_rms` (output LSBs), in dB: `10 log10(1 + added^2 / noise^2)`.
    pub fn snr_loss_db(&self, noise_rms: f64) -> f64 {
        10.0 * (1.0 + (self.added_rms / noise_rms).powi(2)).log10()
    }
}

/// Output codes against the reference: |output - real| and the codes that differ from
/// the reference's code, in output LSBs.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct OutputErrors {
    pub vs_real: ErrStats,
    pub mismatches: u64,
}

/// Independent accumulators per quantity: element `i` goes to lane `i % LANES`, and the
/// lanes are added in order at the end. The same arithmetic on every CPU, and independent
/// lanes the compiler can put in vector registers.
const LANES: usize = 8;

impl OutputErrors {
    /// The errors of `out` against the reference's real outputs and codes, element by
    /// element (the shortest of the three slices counts).
    pub fn of(out: &[i64], real: &[f64], code: &[i32]) -> OutputErrors {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512dq")
            {
                // SAFETY: the CPU has the features the function is compiled for.
                return unsafe { OutputErrors::of_avx512(out, real, code) };
            }
        }
        OutputErrors::of_generic(out, real, code)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl")]
    unsafe fn of_avx512(out: &[i64], real: &[f64], code: &[i32]) -> OutputErrors {
        OutputErrors::of_generic(out, real, code)
    }

    #[inline(always)]
    fn of_generic(out: &[i64], real: &[f64], code: &[i32]) -> OutputErrors {
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
        OutputErrors {
            vs_real: ErrStats {
                count: n as u64,
                sum: abs.iter().sum(),
                max: max.iter().copied().fold(0.0, f64::max),
                sum_sq: sq.iter().sum(),
            },
            mismatches: mis.iter().sum(),
        }
    }

    pub fn plus(self, o: OutputErrors) -> OutputErrors {
        OutputErrors {
            vs_real: self.vs_real.plus(o.vs_real),
            mismatches: self.mismatches + o.mismatches,
        }
    }

    /// The metrics of these errors; `exact_mse` is the output rounding's mean squared
    /// error, which an NMPU without error of its own has too.
    pub fn metrics(&self, exact_mse: f64) -> Metrics {
        let n = self.vs_real.count.max(1) as f64;
        let mse = self.vs_real.sum_sq / n;
        Metrics {
            mean_abs: self.vs_real.sum / n,
            max_abs: self.vs_real.max,
            mismatch: self.mismatches as f64 / n,
            rms: mse.sqrt(),
            added_rms: (mse - exact_mse).max(0.0).sqrt(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The block sums against a plain loop, on a length that leaves a remainder.
    #[test]
    fn block_sums_equal_the_elementwise_definition() {
        let out: Vec<i64> = (0..37).map(|i| (i * 7 % 11) - 5).collect();
        let real: Vec<f64> = (0..37).map(|i| f64::from(i) * 0.3 - 5.0).collect();
        let code: Vec<i32> = real.iter().map(|r| r.round() as i32).collect();
        let e = OutputErrors::of(&out, &real, &code);
        let mut want = ErrStats::default();
        let mut mis = 0;
        for i in 0..37 {
            want.add(out[i] as f64 - real[i]);
            mis += u64::from(out[i] != i64::from(code[i]));
        }
        assert_eq!(e.mismatches, mis);
        assert_eq!(e.vs_real.count, 37);
        assert_eq!(e.vs_real.max, want.max);
        assert!((e.vs_real.sum - want.sum).abs() < 1e-9);
        assert!((e.vs_real.sum_sq - want.sum_sq).abs() < 1e-9);
        let m = e.metrics(0.0);
        assert!((m.rms - (want.sum_sq / 37.0).sqrt()).abs() < 1e-12);
        assert_eq!(m.mismatch, mis as f64 / 37.0);
    }
}
