//! Lane syntheses for the precision search: [`nmpu_tune::LaneSynth`] with Yosys on the
//! osu018 cells, one lane per job, on every core.

use crate::jobs::parallel;
use crate::synth::{synth_one, Design};
use anyhow::Result;
use nmpu_rtl::Block;
use nmpu_tune::{LaneFigures, LaneJob, LaneKind, LaneSynth};
use std::path::PathBuf;

/// Synthesizes each lane in its own directory `lane<i>` under `dir`.
pub struct YosysLanes {
    pub dir: PathBuf,
}

impl LaneSynth for YosysLanes {
    fn synthesize(&self, jobs: &[LaneJob]) -> Result<Vec<LaneFigures>> {
        parallel(jobs, |i, j| {
            let mut c = j.config.clone();
            (c.columns, c.lanes) = (j.words, 1);
            let block = match j.kind {
                LaneKind::Fixed => Block::Nmpu,
                LaneKind::Fp16 => Block::NmpuFp16,
            };
            let g = synth_one(&c, Design::Block(block), &self.dir.join(format!("lane{i}")))?;
            Ok(LaneFigures {
                area_um2: g.area_um2,
                transistors: g.transistors,
                fmax_mhz: g.fmax_mhz,
            })
        })
    }
}
