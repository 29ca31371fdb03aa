//! The PWM DAC under Verilator against its cycle-level golden model: every output compared
//! at every cycle, with random or directed codes, random input gaps and starts.

use crate::verilator::{build, build_traced, Dut, Port};
use anyhow::Result;
use nmpu_config::NmpuConfig;
use nmpu_model::dac::{DacIn, DacOut, PwmDac};
use nmpu_rtl::Block;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;
use std::time::Instant;

/// What the input codes are.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Codes {
    /// Random, biased to the extremes and zero.
    Random,
    Zero,
    /// The largest positive code everywhere.
    Max,
    /// The most negative code everywhere (a pulse over the whole period).
    Min,
}

#[derive(Clone, Debug)]
pub struct DacStimulus {
    pub seed: u64,
    pub cycles: usize,
    pub codes: Codes,
    pub p_valid: f64,
    pub p_start: f64,
    pub reset_at: Option<usize>,
}

#[derive(Clone, Debug, Default)]
pub struct DacReport {
    pub cycles: usize,
    pub drives: usize,
    pub beats_in: usize,
    pub enable_cycles: usize,
    pub seconds: f64,
}

/// The DAC's ports on a Verilated design.
pub struct DacDut {
    dut: Dut,
    reset: Port,
    s_valid: Port,
    start: Port,
    s_x: Vec<Port>,
    s_ready: Port,
    start_ready: Port,
    done: Port,
    en: Vec<Port>,
    sign: Vec<Port>,
    pub build_seconds: f64,
}

impl DacDut {
    pub fn new(cfg: &NmpuConfig) -> Result<Self> {
        DacDut::build(cfg, false)
    }

    /// As [`DacDut::new`], built with waveform tracing: it can write a VCD.
    pub fn traced(cfg: &NmpuConfig) -> Result<Self> {
        DacDut::build(cfg, true)
    }

    fn build(cfg: &NmpuConfig, traced: bool) -> Result<Self> {
        let verilog = Block::PwmDac.generate(cfg)?;
        let build = if traced { build_traced } else { build };
        let built = build(&verilog, Block::PwmDac.module())?;
        let dut = Dut::load(&built)?;
        Ok(DacDut {
            reset: dut.port("reset")?,
            s_valid: dut.port("s_valid")?,
            start: dut.port("start")?,
            s_x: dut.port_vec("s_x", cfg.dac.lanes as usize)?,
            s_ready: dut.port("s_ready")?,
            start_ready: dut.port("start_ready")?,
            done: dut.port("done")?,
            en: dut.port_vec("pwm_en", cfg.dac.rows as usize)?,
            sign: dut.port_vec("pwm_sign", cfg.dac.rows as usize)?,
            build_seconds: built.build_seconds,
            dut,
        })
    }

    pub fn open_vcd(&mut self, path: &Path) -> Result<()> {
        self.dut.open_vcd(path)
    }

    /// One cycle with lane words `words` (code in the low bits, anything above).
    pub fn cycle(&mut self, i: &DacIn, words: &[u64], dump: bool) -> DacOut {
        let d = &mut self.dut;
        d.set(&self.reset, u64::from(i.reset));
        d.set(&self.s_valid, u64::from(i.s_valid));
        d.set(&self.start, u64::from(i.start));
        for (p, &w) in self.s_x.iter().zip(words) {
            d.set(p, w);
        }
        d.cycle(dump);
        DacOut {
            s_ready: d.get(&self.s_ready) != 0,
            start_ready: d.get(&self.start_ready) != 0,
            done: d.get(&self.done) != 0,
            en: self.en.iter().map(|p| d.get(p) != 0).collect(),
            sign: self.sign.iter().map(|p| d.get(p) != 0).collect(),
        }
    }
}

/// Runs `s`; `Ok(Err(report))` is the first cycle where the RTL and the model differ.
pub fn run_dac(
    dut: &mut DacDut,
    cfg: &NmpuConfig,
    s: &DacStimulus,
    vcd: Option<(&Path, usize, usize)>,
) -> Result<Result<DacReport, String>> {
    if let Some((path, _, _)) = vcd {
        dut.open_vcd(path)?;
    }
    let dump = |c: usize| vcd.is_some_and(|(_, a, b)| (a..b).contains(&c));
    let d = cfg.dac;
    let half = 1i64 << (d.bits - 1);
    let mut rng = ChaCha8Rng::seed_from_u64(s.seed);
    let mut model = PwmDac::new(cfg);
    let mut report = DacReport::default();
    let started = Instant::now();
    let total = s.cycles + 2;
    for cycle in 0..total {
        let codes: Vec<i64> = (0..d.lanes)
            .map(|_| match s.codes {
                Codes::Zero => 0,
                Codes::Max => half - 1,
                Codes::Min => -half,
                Codes::Random => match rng.random_range(0..6) {
                    0 => -half,
                    1 => half - 1,
                    2 => 0,
                    3 => rng.random_range(-2..=2i64).clamp(-half, half - 1),
                    _ => rng.random_range(-half..half),
                },
            })
            .collect();
        let words: Vec<u64> = codes
            .iter()
            .map(|&x| {
                let garbage = rng.random::<u64>() & !((1u64 << d.bits) - 1);
                ((x as u64) & ((1u64 << d.bits) - 1) | garbage) & 0xffff
            })
            .collect();
        let i = DacIn {
            reset: cycle < 2 || s.reset_at.is_some_and(|r| cycle == r + 2),
            s_valid: rng.random_bool(s.p_valid),
            s_x: codes,
            start: rng.random_bool(s.p_start),
        };
        let want = model.step(&i);
        let got = dut.cycle(&i, &words, dump(cycle));
        // Cycle 0 shows the state from before the first reset.
        if cycle > 0 && got != want {
            let rows: Vec<String> = (0..want.en.len())
                .filter(|&r| got.en[r] != want.en[r] || got.sign[r] != want.sign[r])
                .map(|r| {
                    format!(
                        "row {r}: en {}/{}, sign {}/{}",
                        want.en[r], got.en[r], want.sign[r], got.sign[r]
                    )
                })
                .collect();
            return Ok(Err(format!(
                "PWM DAC MISMATCH at cycle {cycle}: s_ready {}/{}, start_ready {}/{}, done {}/{} (expected/got); rows differing: {rows:?}\n  stimulus {s:?}\n  config:\n{}",
                want.s_ready, got.s_ready, want.start_ready, got.start_ready, want.done, got.done,
                cfg.to_toml_string()
            )));
        }
        if !i.reset {
            report.drives += usize::from(i.start && want.start_ready);
            report.beats_in += usize::from(i.s_valid && want.s_ready);
            report.enable_cycles += want.en.iter().filter(|&&e| e).count();
        }
    }
    report.cycles = total;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(Ok(report))
}
