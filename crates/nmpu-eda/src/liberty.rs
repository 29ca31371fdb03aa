//! The standard-cell library the area and timing figures come from.

use anyhow::{bail, Result};
use std::path::PathBuf;

/// OSU's 180 nm cells as Debian's qflow-tech-osu018 ships them.
pub const LIBERTY: &str = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib";

/// Register overhead added to the combinational critical path for the clock period:
/// DFFPOSX1 clock-to-Q (0.17 ns) plus setup (0.19 ns), both at the smallest load and slew
/// the library tabulates. No wires, no clock skew.
pub const REGISTER_OVERHEAD_PS: f64 = 360.0;

/// The Liberty file: `$NMPU_LIBERTY`, else [`LIBERTY`]; an error says how to install it.
pub fn liberty() -> Result<PathBuf> {
    let path = std::env::var_os("NMPU_LIBERTY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(LIBERTY));
    if !path.is_file() {
        bail!(
            "standard-cell library {} not found: install it with `make deps` (Debian package \
             qflow-tech-osu018), or point NMPU_LIBERTY at a Liberty file",
            path.display()
        );
    }
    Ok(path)
}

/// The clock a combinational critical path allows, in MHz.
pub fn fmax_mhz(critical_path_ps: f64) -> f64 {
    1e6 / (critical_path_ps + REGISTER_OVERHEAD_PS)
}
