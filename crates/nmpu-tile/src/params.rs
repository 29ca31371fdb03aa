//! The tile's parameters. Defaults cite their source; "assumption" marks the numbers no
//! source gives (the per-column ADC mismatch of the 64-core chip is corrected on chip and
//! not published).

use serde::{Deserialize, Serialize};

/// Every parameter of a simulated tile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TileParams {
    /// Rows (inputs) and columns (outputs) of one crossbar. 256 x 256: one core of IBM's
    /// 64-core chip (Le Gallo et al. 2023). aihwkit's default tile is 512 x 512.
    pub rows: usize,
    pub columns: usize,
    /// Largest device conductance, uS; the smallest is 0 (aihwkit
    /// SinglePairConductanceConverter: g_max 25, g_min 0).
    pub g_max: f64,
    /// Levels a device can be programmed to, evenly spaced over `0 ..= g_max`; 0 for any
    /// value (aihwkit programs continuous targets; a level count is an assumption to try).
    pub levels: u32,
    /// Programming noise: `sigma = (c0 + c1 t + c2 t^2) * g_max / 25` uS at target
    /// `t = g_target / g_max` (aihwkit PCMLikeNoiseModel prog_coeff).
    pub prog_coeff: [f64; 3],
    /// 1/f read noise on every read (aihwkit PCMLikeNoiseModel, t_read 250 ns).
    pub read_noise: bool,
    pub t_read: f64,
    /// Seconds from programming to the first read (aihwkit t_0: 20 s), and the inference
    /// time after that (aihwkit's default 0).
    pub t0: f64,
    pub t_inference: f64,
    /// Conductance drift `g (t / t0)^-nu` with aihwkit's nu distribution; off by default
    /// (aihwkit's default t_inference of 0 gives none either).
    pub drift: bool,
    /// Input codes: signed integers of this width, applied as PWM pulses of `|x|` LSB
    /// times with the sign of `x` (docs/interfaces.md; int8: 8).
    pub input_bits: u32,
    /// The ADC's full scale: `|y| = out_bound` in units of the tile's largest weight times
    /// the largest input code (aihwkit IOParameters out_bound 12).
    pub out_bound: f64,
    /// Additive noise on each output before the ADC, RMS in the same units (aihwkit
    /// IOParameters out_noise 0.06).
    pub out_noise: f64,
    /// Per-column ADC gain mismatch, relative RMS, clamped to +-30 % (assumption: 5 %).
    pub adc_gain_sigma: f64,
    /// Per-column ADC offset, RMS as a fraction of the ADC's half range (assumption:
    /// 20 codes of a 13-bit ADC, 0.49 %).
    pub adc_offset_sigma: f64,
    /// ADC code width (set from the NMPU's `in_bits`; codes saturate at both ends).
    pub adc_bits: u32,
}

impl Default for TileParams {
    fn default() -> Self {
        TileParams {
            rows: 256,
            columns: 256,
            g_max: 25.0,
            levels: 0,
            prog_coeff: [0.26348, 1.9650, -1.1731],
            read_noise: true,
            t_read: 250e-9,
            t0: 20.0,
            t_inference: 0.0,
            drift: false,
            input_bits: 8,
            out_bound: 12.0,
            out_noise: 0.06,
            adc_gain_sigma: 0.05,
            adc_offset_sigma: 20.0 / 4096.0,
            adc_bits: 13,
        }
    }
}

impl TileParams {
    /// The same tile without programming, read or output noise, ADC mismatch, drift or
    /// conductance levels: only the ADC's rounding and saturation remain, so its codes can
    /// be worked out by hand.
    pub fn without_errors(&self) -> TileParams {
        TileParams {
            prog_coeff: [0.0; 3],
            read_noise: false,
            out_noise: 0.0,
            adc_gain_sigma: 0.0,
            adc_offset_sigma: 0.0,
            drift: false,
            levels: 0,
            ..self.clone()
        }
    }

    /// The defaults with the ADC codes of `cfg`'s NMPU and the rows its DAC drives.
    pub fn for_config(cfg: &nmpu_config::NmpuConfig) -> Self {
        TileParams {
            adc_bits: cfg.in_bits,
            input_bits: cfg.dac.bits,
            ..TileParams::default()
        }
    }

    /// The largest input code's magnitude: `2^(input_bits - 1)`.
    pub fn x_max(&self) -> f64 {
        (f64::from(self.input_bits) - 1.0).exp2()
    }

    /// Half the ADC's code range: `2^(adc_bits - 1)`.
    pub fn adc_half(&self) -> f64 {
        (f64::from(self.adc_bits) - 1.0).exp2()
    }

    /// The ADC code range.
    pub fn code_range(&self) -> (i64, i64) {
        let half = 1i64 << (self.adc_bits - 1);
        (-half, half - 1)
    }

    /// Why these parameters cannot make a tile, if they cannot.
    pub fn check(&self) -> Result<(), String> {
        let positive = [
            ("g_max", self.g_max),
            ("out_bound", self.out_bound),
            ("t_read", self.t_read),
            ("t0", self.t0),
        ];
        if let Some((n, v)) = positive.iter().find(|(_, v)| !(v.is_finite() && *v > 0.0)) {
            return Err(format!(
                "tile parameter {n} = {v}: must be a positive number"
            ));
        }
        let nonneg = [
            ("out_noise", self.out_noise),
            ("adc_gain_sigma", self.adc_gain_sigma),
            ("adc_offset_sigma", self.adc_offset_sigma),
            ("t_inference", self.t_inference),
        ];
        if let Some((n, v)) = nonneg.iter().find(|(_, v)| !(v.is_finite() && *v >= 0.0)) {
            return Err(format!("tile parameter {n} = {v}: must be 0 or more"));
        }
        if self.rows == 0 || self.columns == 0 {
            return Err(format!(
                "a tile of {} x {} has no devices",
                self.rows, self.columns
            ));
        }
        if !(2..=16).contains(&self.input_bits) || !(2..=24).contains(&self.adc_bits) {
            return Err(format!(
                "input_bits = {}, adc_bits = {}: 2 ..= 16 and 2 ..= 24 bits",
                self.input_bits, self.adc_bits
            ));
        }
        Ok(())
    }
}
