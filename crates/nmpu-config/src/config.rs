//! The one configuration every part of nmpu reads.

use crate::error::ConfigError;
use crate::format::{Activation, Overflow, QFormat, Rounding};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// 64-bit FNV-1a of `bytes`: a stable hash, the same on every machine and Rust version.
pub fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The default configuration, shipped as a documented file.
pub const DEFAULT_CONFIG_TOML: &str = include_str!("../default.toml");

/// Formats of the per-column coefficients.
///
/// With `fuse_affine_bn = true`, `a` and `b` hold the folded pair
/// `a' = a*g`, `b' = b*g + h`, and `g`, `h` are unused (still validated).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoefficientFormats {
    /// Affine gain (ADC gain-mismatch correction).
    pub a: QFormat,
    /// Affine offset, in ADC LSBs.
    pub b: QFormat,
    /// Batch-norm scale.
    pub g: QFormat,
    /// Batch-norm shift, in output units.
    pub h: QFormat,
}

/// Result format of one stage and how values are brought into it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageConfig {
    pub format: QFormat,
    pub rounding: Rounding,
    pub overflow: Overflow,
}

/// The CCO-ADC capture block in front of the NMPU (docs/interfaces.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdcConfig {
    /// Width of each column's positive and negative pulse counter; counts saturate at
    /// `2^count_bits - 1`. The code `pos - neg` needs `in_bits >= count_bits + 1`.
    pub count_bits: u32,
    /// Length of the integration window in clock cycles (at most one pulse per input per
    /// cycle, so counts saturate only when `window >= 2^count_bits - 1`).
    pub window: u32,
}

/// The PWM input driver of the next layer's crossbar rows (docs/interfaces.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DacConfig {
    /// Crossbar rows driven, one signed input code each.
    pub rows: u32,
    /// Width of the signed input code; |x| is the pulse length in LSB times.
    pub bits: u32,
    /// Codes accepted per clock on the input stream; must divide `rows`.
    pub lanes: u32,
    /// Clock cycles per PWM LSB.
    pub cycles_per_lsb: u32,
    /// Positive inputs in a first phase, negative ones in a second, for arrays that cannot
    /// apply both polarities at once.
    pub two_phase: bool,
}

/// Every bit width, lane count, rounding and saturation choice of one NMPU.
///
/// Fields left out of a TOML file take the values of [`DEFAULT_CONFIG_TOML`]
/// (see [`NmpuConfig::from_toml_str`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NmpuConfig {
    /// Columns of the crossbar tile (one coefficient set each).
    pub columns: u32,
    /// Elements processed per clock; must divide `columns`.
    pub lanes: u32,
    /// Width of the signed ADC code entering the NMPU.
    pub in_bits: u32,
    /// One multiply-add with offline-folded coefficients instead of affine + batch-norm.
    pub fuse_affine_bn: bool,
    pub activation: Activation,
    pub coefficients: CoefficientFormats,
    /// Result of `a*x + b` (unused when fused).
    pub affine: StageConfig,
    /// Result of `g*y + h` (or of the fused multiply-add).
    pub batch_norm: StageConfig,
    /// The output code handed to the next layer.
    pub output: StageConfig,
    /// The ADC capture block that feeds the NMPU.
    pub adc: AdcConfig,
    /// The PWM driver of the next layer's rows.
    pub dac: DacConfig,
}

impl Default for NmpuConfig {
    fn default() -> Self {
        toml::from_str(DEFAULT_CONFIG_TOML).expect("the shipped default config parses")
    }
}

impl NmpuConfig {
    /// Parses and validates a TOML configuration.
    ///
    /// Keys left out take the shipped default: top-level keys, and keys inside the
    /// top-level tables (`[affine]`, `[coefficients]`, ...). A format is one value and is
    /// replaced whole, so a half-written format is an error rather than a silent mix.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        let user: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::Parse(e.to_string()))?;
        let mut merged: toml::Table = DEFAULT_CONFIG_TOML
            .parse()
            .expect("the shipped default config parses");
        // The ADC's counters follow the NMPU's input unless set: pos - neg of two
        // (in_bits - 1)-bit counts is exactly an in_bits code.
        let user_counts = user
            .get("adc")
            .and_then(|a| a.as_table())
            .is_some_and(|a| a.contains_key("count_bits"));
        if let (false, Some(toml::Value::Integer(in_bits))) = (user_counts, user.get("in_bits")) {
            if let Some(toml::Value::Table(adc)) = merged.get_mut("adc") {
                adc.insert("count_bits".into(), toml::Value::Integer(in_bits - 1));
            }
        }
        for (key, value) in user {
            match (merged.get_mut(&key), value) {
                (Some(toml::Value::Table(base)), toml::Value::Table(over)) => {
                    base.extend(over);
                }
                (_, value) => {
                    merged.insert(key, value);
                }
            }
        }
        let cfg = NmpuConfig::deserialize(merged).map_err(|e| ConfigError::Parse(e.to_string()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Reads, parses and validates a TOML configuration file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_toml_str(&text)
    }

    /// The configuration as TOML (every field written out).
    pub fn to_toml_string(&self) -> String {
        toml::to_string(self).expect("a config always serializes")
    }

    /// Clock cycles of one PWM drive: `2^(bits-1)` LSB times (the largest |x|) per phase.
    pub fn dac_period(&self) -> u64 {
        let phases = if self.dac.two_phase { 2 } else { 1 };
        phases * (1u64 << (self.dac.bits - 1)) * u64::from(self.dac.cycles_per_lsb)
    }

    /// Clock beats needed for one full row of `columns` elements.
    pub fn beats_per_row(&self) -> u32 {
        self.columns / self.lanes
    }

    /// A stable 64-bit fingerprint of the configuration (FNV-1a over its canonical TOML),
    /// the same on every machine and Rust version.
    pub fn fingerprint(&self) -> u64 {
        fnv1a(self.to_toml_string().bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_default_is_valid_and_matches_the_issue() {
        let cfg = NmpuConfig::default();
        cfg.validate().unwrap();
        assert_eq!(cfg.columns, 256);
        assert_eq!(cfg.in_bits, 13);
        assert_eq!(cfg.columns % cfg.lanes, 0);
    }

    #[test]
    fn missing_fields_take_defaults() {
        let cfg = NmpuConfig::from_toml_str("lanes = 16\n").unwrap();
        assert_eq!(cfg.lanes, 16);
        assert_eq!(cfg.columns, NmpuConfig::default().columns);
    }

    #[test]
    fn toml_round_trip_is_identity() {
        let cfg = NmpuConfig::default();
        let back = NmpuConfig::from_toml_str(&cfg.to_toml_string()).unwrap();
        assert_eq!(cfg, back);
    }

    #[test]
    fn fingerprint_changes_with_any_field() {
        let a = NmpuConfig::default();
        let mut b = a.clone();
        b.output.rounding = Rounding::Floor;
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint(), a.clone().fingerprint());
    }
}
