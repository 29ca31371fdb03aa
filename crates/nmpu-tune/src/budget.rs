//! What "good enough" means for a candidate: one or more bounds on its metrics, all of
//! which must hold.

use crate::data::TuneData;
use crate::metrics::Metrics;
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The default analog noise, relative to the ADC's half range (2^(in_bits-1) codes): IBM's
/// aihwkit `IOParameters` defaults, `out_noise = 0.06` on an output bound of
/// `out_bound = 12` (aihwkit/simulator/parameters/io.py): 0.5 %, 20.5 ADC LSBs RMS for a
/// 13-bit code.
pub const DEFAULT_NOISE: f64 = 0.06 / 12.0;

/// The default share of that noise the NMPU may add (RMS): 10 % adds 1 % to the noise
/// power, 0.5 % to its RMS (0.04 dB of SNR).
pub const DEFAULT_NOISE_FRACTION: f64 = 0.10;

/// One bound on a candidate's metrics (output LSBs unless said otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Budget {
    /// Mean |output - real| at most this.
    Mean { limit: f64 },
    /// Largest |output - real| at most this.
    Max { limit: f64 },
    /// At most this share of output codes differ from the f64 reference's code.
    Mismatch { limit: f64 },
    /// The RMS error the NMPU adds to the f64 reference's (see
    /// [`Metrics::added_rms`]) at most this.
    Rms { limit: f64 },
    /// Mean |output - real| and the share of codes off no worse than the FP16 baseline's
    /// on the same data.
    Fp16,
    /// The RMS error the NMPU adds at most `fraction` of the analog noise's RMS, the noise
    /// being `noise` of the ADC's half range per column, referred to the output through
    /// each column's gain `|a g|`.
    Noise { fraction: f64, noise: f64 },
}

impl Default for Budget {
    fn default() -> Self {
        Budget::Noise {
            fraction: DEFAULT_NOISE_FRACTION,
            noise: DEFAULT_NOISE,
        }
    }
}

impl Budget {
    /// The budgets `texts` name (see [`Budget::parse`]), or the default noise budget when
    /// there are none.
    pub fn list(texts: &[String], noise_level: f64) -> Result<Vec<Budget>> {
        if texts.is_empty() {
            return Ok(vec![Budget::Noise {
                fraction: DEFAULT_NOISE_FRACTION,
                noise: noise_level,
            }]);
        }
        texts
            .iter()
            .map(|b| Budget::parse(b, noise_level))
            .collect()
    }

    /// Parses `mean=0.2`, `max=1`, `mismatch=0.01`, `rms=0.1`, `fp16`, `noise` or
    /// `noise=0.1` (fraction; the analog noise is `noise_level`).
    pub fn parse(text: &str, noise_level: f64) -> Result<Budget> {
        let (key, value) = match text.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim())),
            None => (text.trim(), None),
        };
        let number = |v: Option<&str>| -> Result<f64> {
            let Some(v) = v else {
                bail!("budget `{text}` needs a value, e.g. `{key}=0.5`")
            };
            match v.parse::<f64>() {
                Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
                _ => bail!("budget `{text}`: `{v}` is not a non-negative number"),
            }
        };
        Ok(match key {
            "mean" => Budget::Mean { limit: number(value)? },
            "max" => Budget::Max { limit: number(value)? },
            "mismatch" => Budget::Mismatch { limit: number(value)? },
            "rms" => Budget::Rms { limit: number(value)? },
            "fp16" if value.is_none() => Budget::Fp16,
            "noise" => Budget::Noise {
                fraction: match value {
                    Some(_) => number(value)?,
                    None => DEFAULT_NOISE_FRACTION,
                },
                noise: noise_level,
            },
            _ => bail!(
                "unknown budget `{text}`: use mean=X, max=X, mismatch=X (share), rms=X, fp16, noise[=FRACTION], or accuracy=POINTS"
            ),
        })
    }
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Budget::Mean { limit } => write!(f, "mean |error| <= {limit} LSB"),
            Budget::Max { limit } => write!(f, "max |error| <= {limit} LSB"),
            Budget::Mismatch { limit } => {
                write!(f, "codes off the f64 code <= {:.3} %", limit * 100.0)
            }
            Budget::Rms { limit } => write!(f, "added RMS <= {limit} LSB"),
            Budget::Fp16 => write!(f, "no worse than FP16 (mean |error| and codes off)"),
            Budget::Noise { fraction, noise } => write!(
                f,
                "added RMS <= {:.0} % of an analog noise of {:.2} % of the ADC half range",
                fraction * 100.0,
                noise * 100.0
            ),
        }
    }
}

/// The output-referred RMS (output LSBs) on `data` of an analog noise of `noise` of the ADC
/// half range (`2^(in_bits-1)` codes) per column.
pub fn analog_noise_out(data: &TuneData, noise: f64, in_bits: u32) -> f64 {
    data.noise_rms_out(noise * f64::from(1u32 << (in_bits - 1)))
}

/// A budget made concrete for one data set: limits on metrics.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Bound {
    pub budget: Budget,
    /// (metric name, limit) pairs; the candidate's metric must not exceed the limit.
    pub limits: Vec<(&'static str, f64)>,
}

impl Bound {
    /// `budget` on `data`; `fp16` is the FP16 baseline's metrics on the same data, and
    /// `in_bits` the ADC code width (for the noise budget).
    pub fn new(budget: Budget, data: &TuneData, fp16: &Metrics, in_bits: u32) -> Bound {
        let limits = match budget {
            Budget::Mean { limit } => vec![("mean_abs", limit)],
            Budget::Max { limit } => vec![("max_abs", limit)],
            Budget::Mismatch { limit } => vec![("mismatch", limit)],
            Budget::Rms { limit } => vec![("added_rms", limit)],
            Budget::Fp16 => vec![("mean_abs", fp16.mean_abs), ("mismatch", fp16.mismatch)],
            Budget::Noise { fraction, noise } => {
                vec![(
                    "added_rms",
                    fraction * analog_noise_out(data, noise, in_bits),
                )]
            }
        };
        Bound { budget, limits }
    }

    pub fn holds(&self, m: &Metrics) -> bool {
        self.limits
            .iter()
            .all(|&(name, limit)| metric(m, name) <= limit)
    }

    /// How far the worst metric is from its limit, relative (< 1: within the budget).
    pub fn usage(&self, m: &Metrics) -> f64 {
        self.limits
            .iter()
            .map(|&(name, limit)| metric(m, name) / limit.max(f64::MIN_POSITIVE))
            .fold(0.0, f64::max)
    }
}

/// The metric called `name`.
pub fn metric(m: &Metrics, name: &str) -> f64 {
    match name {
        "mean_abs" => m.mean_abs,
        "max_abs" => m.max_abs,
        "mismatch" => m.mismatch,
        "rms" => m.rms,
        "added_rms" => m.added_rms,
        _ => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind_and_rejects_nonsense() {
        assert_eq!(
            Budget::parse("mean=0.2", 0.01).unwrap(),
            Budget::Mean { limit: 0.2 }
        );
        assert_eq!(
            Budget::parse("max = 1", 0.01).unwrap(),
            Budget::Max { limit: 1.0 }
        );
        assert_eq!(Budget::parse("fp16", 0.01).unwrap(), Budget::Fp16);
        assert_eq!(
            Budget::parse("rms=0.25", 0.01).unwrap(),
            Budget::Rms { limit: 0.25 }
        );
        assert_eq!(
            Budget::list(&[], 0.02).unwrap(),
            vec![Budget::Noise {
                fraction: DEFAULT_NOISE_FRACTION,
                noise: 0.02
            }]
        );
        let two = Budget::list(&["fp16".into(), "max=2".into()], 0.01).unwrap();
        assert_eq!(two, vec![Budget::Fp16, Budget::Max { limit: 2.0 }]);
        assert!(Budget::list(&["bogus".into()], 0.01).is_err());
        assert_eq!(
            Budget::parse("noise", 0.01).unwrap(),
            Budget::Noise {
                fraction: DEFAULT_NOISE_FRACTION,
                noise: 0.01
            }
        );
        assert_eq!(
            Budget::parse("noise=0.2", 0.01).unwrap(),
            Budget::Noise {
                fraction: 0.2,
                noise: 0.01
            }
        );
        for bad in ["mean", "mean=-1", "mean=x", "speed=3", "fp16=2"] {
            assert!(Budget::parse(bad, 0.01).is_err(), "{bad}");
        }
    }
}
