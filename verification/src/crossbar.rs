//! The tile model's cycle-level view, for the test bench of the tile chain: an integer
//! conductance matrix (differential: positive products drive a column's positive
//! oscillator, negative ones its negative oscillator), and per column and polarity an
//! oscillator whose phase advances by `gain * current + dark` per clock and pulses when it
//! crosses a threshold (at most once per clock: the oscillator's top frequency). The ADC
//! mismatch comes from the tile model's parameters and draw (`nmpu_tile::tile::draw_adcs`):
//! a column's oscillator gain is the nominal gain times its relative gain, and its offset
//! is a dark rate on the positive or the negative oscillator that adds that many codes per
//! window.

use nmpu_config::NmpuConfig;
use nmpu_tile::TileParams;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Phase units per pulse.
pub const THRESHOLD: i64 = 1 << 16;

#[derive(Clone, Debug)]
pub struct Crossbar {
    pub rows: usize,
    pub columns: usize,
    /// Row-major conductances.
    pub g: Vec<i64>,
    /// Per column: oscillator gain (phase units per current unit per clock), and dark
    /// rates of the positive and negative oscillators.
    pub gain: Vec<i64>,
    pub dark: Vec<(i64, i64)>,
    phase: Vec<(i64, i64)>,
}

impl Crossbar {
    /// Conductances in `-gmax..=gmax` (the levels of a device pair), oscillator gains
    /// `nominal` (current to pulses per clock) times the relative ADC gains `params`' model
    /// draws, and dark rates that add its offsets (codes, `params.adc_bits` being the
    /// config's `in_bits`) over `cfg`'s window.
    pub fn new(cfg: &NmpuConfig, params: &TileParams, seed: u64, gmax: i64, nominal: f64) -> Self {
        let (rows, columns) = (cfg.dac.rows as usize, cfg.columns as usize);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let g = (0..rows * columns)
            .map(|_| rng.random_range(-gmax..=gmax))
            .collect();
        let (adc_gain, adc_offset) = nmpu_tile::tile::draw_adcs(params, columns, &mut rng);
        let t = THRESHOLD as f64;
        let gain = adc_gain
            .iter()
            .map(|k| (nominal * t * k).round() as i64)
            .collect();
        let window = f64::from(cfg.adc.window);
        let dark = adc_offset
            .iter()
            .map(|&o| {
                let rate = (o.abs() / window * t).round() as i64;
                if o >= 0.0 {
                    (rate, 0)
                } else {
                    (0, rate)
                }
            })
            .collect();
        Crossbar {
            rows,
            columns,
            g,
            gain,
            dark,
            phase: vec![(0, 0); columns],
        }
    }

    /// The exact matrix-vector product of row inputs `x`: `y_c = sum_r x_r g_rc`.
    pub fn ideal(&self, x: &[i64]) -> Vec<i64> {
        (0..self.columns)
            .map(|c| {
                (0..self.rows)
                    .map(|r| x[r] * self.g[r * self.columns + c])
                    .sum()
            })
            .collect()
    }

    /// One clock: row enables and signs in, each column's pulses out.
    pub fn cycle(&mut self, en: &[bool], sign: &[bool], pos: &mut [bool], neg: &mut [bool]) {
        for c in 0..self.columns {
            let (mut ip, mut in_) = (0i64, 0i64);
            for r in (0..self.rows).filter(|&r| en[r]) {
                let v = self.g[r * self.columns + c];
                let v = if sign[r] { -v } else { v };
                if v > 0 {
                    ip += v;
                } else {
                    in_ -= v;
                }
            }
            let (pp, pn) = &mut self.phase[c];
            let (dp, dn) = self.dark[c];
            pos[c] = oscillate(pp, self.gain[c] * ip + dp);
            neg[c] = oscillate(pn, self.gain[c] * in_ + dn);
        }
    }
}

fn oscillate(phase: &mut i64, step: i64) -> bool {
    *phase += step;
    if *phase >= THRESHOLD {
        // At most one pulse per clock; the excess is lost (the oscillator is at its top
        // frequency).
        *phase = (*phase - THRESHOLD).min(THRESHOLD - 1);
        true
    } else {
        false
    }
}
