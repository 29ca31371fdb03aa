//! Compares RTL output beats with the golden model, bit for bit.

use crate::icarus::OutBeat;
use crate::stimulus::Case;
use anyhow::{bail, Result};

/// The output code as the RTL drives it: sign- or zero-extended to the 16-bit lane.
pub fn lane_word(code: i64) -> u32 {
    (code as u64 & 0xffff) as u32
}

/// Fails on the first difference with everything needed to reproduce it.
pub fn compare(case: &Case, got: &[OutBeat]) -> Result<()> {
    let lanes = case.cfg.lanes as usize;
    let flat = case.expected()?;
    let want: Vec<&[i64]> = flat.chunks_exact(lanes).collect();
    if got.len() != want.len() {
        bail!(
            "RTL produced {} output beats for {} input beats",
            got.len(),
            want.len()
        );
    }
    for (n, ((g, w), beat)) in got.iter().zip(&want).zip(&case.beats).enumerate() {
        if g.col != beat.col {
            bail!(
                "beat {n}: output column {} but input column {} (reordered or lost)",
                g.col,
                beat.col
            );
        }
        for (lane, (&gy, &wy)) in g.y.iter().zip(w.iter()).enumerate() {
            if gy != lane_word(wy) {
                bail!(
                    "MISMATCH beat {n} column {} lane {lane}: x = {} ({:#x}); expected {wy} ({:#06x}), got {gy:#06x}\nconfig:\n{}",
                    beat.col as usize + lane,
                    beat.x[lane],
                    beat.words[lane],
                    lane_word(wy),
                    case.cfg.to_toml_string()
                );
            }
        }
    }
    Ok(())
}
