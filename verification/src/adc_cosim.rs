//! The ADC capture block under Verilator against its cycle-level golden model: every
//! output compared at every cycle, with random pulses, window starts and backpressure, or
//! a directed corner pattern.

use crate::verilator::{build, build_traced, Dut, Port};
use anyhow::Result;
use nmpu_config::NmpuConfig;
use nmpu_model::adc::{AdcCapture, AdcIn, AdcOut};
use nmpu_rtl::Block;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;
use std::time::Instant;

/// What drives the pulse inputs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pulses {
    /// Each column pulses with its own random rate (some near 0, some near 1).
    Random,
    /// No pulses: every code 0.
    Zero,
    /// Positive pulses every cycle: codes saturate at +max when the window allows.
    AllPositive,
    /// Negative pulses every cycle.
    AllNegative,
    /// Both every cycle: both counters saturate, codes 0.
    Both,
}

#[derive(Clone, Debug)]
pub struct AdcStimulus {
    pub seed: u64,
    pub cycles: usize,
    pub pulses: Pulses,
    /// Probability of `start` in a cycle and of `m_ready`.
    pub p_start: f64,
    pub p_ready: f64,
    /// Assert reset at this cycle (counted after the initial reset).
    pub reset_at: Option<usize>,
}

#[derive(Clone, Debug, Default)]
pub struct AdcReport {
    pub cycles: usize,
    pub windows_started: usize,
    pub beats_out: usize,
    /// Codes read out at the positive and negative limits (saturated counters).
    pub at_max: usize,
    pub at_min: usize,
    pub seconds: f64,
}

/// The ADC's ports on a Verilated design.
pub struct AdcDut {
    dut: Dut,
    reset: Port,
    start: Port,
    m_ready: Port,
    pos: Vec<Port>,
    neg: Vec<Port>,
    start_ready: Port,
    m_valid: Port,
    m_col: Port,
    m_x: Vec<Port>,
    pub build_seconds: f64,
}

impl AdcDut {
    pub fn new(cfg: &NmpuConfig) -> Result<Self> {
        AdcDut::build(cfg, false)
    }

    /// As [`AdcDut::new`], built with waveform tracing: it can write a VCD.
    pub fn traced(cfg: &NmpuConfig) -> Result<Self> {
        AdcDut::build(cfg, true)
    }

    fn build(cfg: &NmpuConfig, traced: bool) -> Result<Self> {
        let verilog = Block::AdcCapture.generate(cfg)?;
        let build = if traced { build_traced } else { build };
        let built = build(&verilog, Block::AdcCapture.module())?;
        let dut = Dut::load(&built)?;
        let n = cfg.columns as usize;
        Ok(AdcDut {
            reset: dut.port("reset")?,
            start: dut.port("start")?,
            m_ready: dut.port("m_ready")?,
            pos: dut.port_vec("pulse_pos", n)?,
            neg: dut.port_vec("pulse_neg", n)?,
            start_ready: dut.port("start_ready")?,
            m_valid: dut.port("m_valid")?,
            m_col: dut.port("m_col")?,
            m_x: dut.port_vec("m_x", cfg.lanes as usize)?,
            build_seconds: built.build_seconds,
            dut,
        })
    }

    pub fn open_vcd(&mut self, path: &Path) -> Result<()> {
        self.dut.open_vcd(path)
    }

    /// One cycle; the outputs as sampled before the edge, in the model's terms.
    pub fn cycle(&mut self, i: &AdcIn, dump: bool) -> AdcOut {
        let d = &mut self.dut;
        d.set(&self.reset, u64::from(i.reset));
        d.set(&self.start, u64::from(i.start));
        d.set(&self.m_ready, u64::from(i.m_ready));
        for (p, &v) in self.pos.iter().zip(&i.pulse_pos) {
            d.set(p, u64::from(v));
        }
        for (p, &v) in self.neg.iter().zip(&i.pulse_neg) {
            d.set(p, u64::from(v));
        }
        d.cycle(dump);
        AdcOut {
            start_ready: d.get(&self.start_ready) != 0,
            m_valid: d.get(&self.m_valid) != 0,
            m_col: d.get(&self.m_col) as u32,
            // 24-bit two's complement back to a code.
            m_x: self
                .m_x
                .iter()
                .map(|p| ((d.get(p) << 40) as i64) >> 40)
                .collect(),
        }
    }
}

/// Runs `s`; `Ok(Err(report))` is the first cycle where the RTL and the model differ.
pub fn run_adc(
    dut: &mut AdcDut,
    cfg: &NmpuConfig,
    s: &AdcStimulus,
    vcd: Option<(&Path, usize, usize)>,
) -> Result<Result<AdcReport, String>> {
    if let Some((path, _, _)) = vcd {
        dut.open_vcd(path)?;
    }
    let dump = |c: usize| vcd.is_some_and(|(_, a, b)| (a..b).contains(&c));
    let n = cfg.columns as usize;
    let max = (1i64 << cfg.adc.count_bits) - 1;
    let mut rng = ChaCha8Rng::seed_from_u64(s.seed);
    let rates: Vec<(f64, f64)> = (0..n)
        .map(|_| {
            let r = |rng: &mut ChaCha8Rng| match rng.random_range(0..4) {
                0 => 0.0,
                1 => 1.0,
                _ => rng.random::<f64>(),
            };
            (r(&mut rng), r(&mut rng))
        })
        .collect();
    let mut model = AdcCapture::new(cfg);
    let mut report = AdcReport::default();
    let start = Instant::now();
    let total = s.cycles + 2;
    for cycle in 0..total {
        let streaming = cycle >= 2;
        let (pos, neg): (Vec<bool>, Vec<bool>) = (0..n)
            .map(|c| match s.pulses {
                Pulses::Random => (rng.random_bool(rates[c].0), rng.random_bool(rates[c].1)),
                Pulses::Zero => (false, false),
                Pulses::AllPositive => (true, false),
                Pulses::AllNegative => (false, true),
                Pulses::Both => (true, true),
            })
            .unzip();
        let i = AdcIn {
            reset: !streaming || s.reset_at == Some(cycle - 2),
            start: rng.random_bool(s.p_start),
            pulse_pos: pos,
            pulse_neg: neg,
            m_ready: rng.random_bool(s.p_ready),
        };
        let want = model.step(&i);
        let got = dut.cycle(&i, dump(cycle));
        // Cycle 0 shows the state from before the first reset (a reused or fresh design).
        let same = cycle == 0
            || got.start_ready == want.start_ready
                && got.m_valid == want.m_valid
                && (!want.m_valid || (got.m_col == want.m_col && got.m_x == want.m_x));
        if !same {
            return Ok(Err(format!(
                "ADC capture MISMATCH at cycle {cycle}:\n  expected {want:?}\n  got      {got:?}\n  stimulus {s:?}\n  config:\n{}",
                cfg.to_toml_string()
            )));
        }
        if i.start && want.start_ready && !i.reset {
            report.windows_started += 1;
        }
        if want.m_valid && i.m_ready && !i.reset {
            report.beats_out += 1;
            report.at_max += want.m_x.iter().filter(|&&x| x == max).count();
            report.at_min += want.m_x.iter().filter(|&&x| x == -max).count();
        }
    }
    report.cycles = total;
    report.seconds = start.elapsed().as_secs_f64();
    Ok(Ok(report))
}
