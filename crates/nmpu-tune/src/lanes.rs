//! What the search needs from synthesis, as a trait: the areas of lanes. The search does
//! not run tools; the EDA crate implements [`LaneSynth`] with Yosys, tests with a formula.

use anyhow::Result;
use nmpu_config::NmpuConfig;

/// Which lane: the fixed-point NMPU's, or the FP16 baseline's with the same ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LaneKind {
    Fixed,
    Fp16,
}

/// One lane of `config` holding `words` coefficient words per bank.
#[derive(Clone, Debug, PartialEq)]
pub struct LaneJob {
    pub config: NmpuConfig,
    pub words: u32,
    pub kind: LaneKind,
}

/// A synthesized lane's figures.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LaneFigures {
    pub area_um2: f64,
    pub transistors: u64,
    pub fmax_mhz: f64,
}

/// Synthesizes lanes; the results come in the order of the jobs.
pub trait LaneSynth {
    fn synthesize(&self, jobs: &[LaneJob]) -> Result<Vec<LaneFigures>>;
}
