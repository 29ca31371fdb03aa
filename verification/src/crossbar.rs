//! A behavioural crossbar with CCO-ADC front ends, for the test bench of the tile chain:
//! an integer conductance matrix (differential: positive products drive a column's positive
//! oscillator, negative ones its negative oscillator), and per column and polarity an
//! oscillator whose phase advances by `gain * current + dark` per clock and pulses when it
//! crosses a threshold (at most once per clock: the oscillator's top frequency). Gain and
//! dark rate differ per column: the ADC gain and offset mismatch the NMPU corrects.

use nmpu_config::NmpuConfig;
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
    /// Conductances in `-gmax..=gmax`, gains `nominal * (1 +- mismatch)`, dark rates up to
    /// `dark_max` pulses per clock.
    pub fn new(
        cfg: &NmpuConfig,
        seed: u64,
        gmax: i64,
        nominal: f64,
        mismatch: f64,
        dark_max: f64,
    ) -> Self {
        let (rows, columns) = (cfg.dac.rows as usize, cfg.columns as usize);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let g = (0..rows * columns)
            .map(|_| rng.random_range(-gmax..=gmax))
            .collect();
        let t = THRESHOLD as f64;
        let gain = (0..columns)
            .map(|_| (nominal * t * (1.0 + rng.random_range(-mismatch..=mismatch))).round() as i64)
            .collect();
        let dark = (0..columns)
            .map(|_| {
                let d =
                    |rng: &mut ChaCha8Rng| (rng.random_range(0.0..=dark_max) * t).round() as i64;
                (d(&mut rng), d(&mut rng))
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
