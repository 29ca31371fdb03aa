//! The configuration and data arguments the commands share, and writing their output.

use anyhow::{Context, Result};
use nmpu_config::NmpuConfig;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The data a command runs on: the user's files, or a seeded synthetic tile.
#[derive(clap::Args, Clone, Debug)]
pub struct DataArgs {
    /// Configuration TOML (default: the shipped configs/default.toml)
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Coefficient CSV (default: synthetic, calibrated to a simulated tile; as `nmpu gen-data`)
    #[arg(long, short = 'k')]
    pub coeffs: Option<PathBuf>,
    /// Input CSV of ADC codes (default: synthetic)
    #[arg(long, short)]
    pub input: Option<PathBuf>,
    /// Rows of synthetic input when no --input is given
    #[arg(long, default_value_t = 1000)]
    pub rows: usize,
    /// Seed of the synthetic data
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

impl DataArgs {
    pub fn load(&self, cfg: &NmpuConfig) -> Result<nmpu_tile::data::Data> {
        Ok(nmpu_tile::data::load_data(
            cfg,
            self.coeffs.as_deref(),
            self.input.as_deref(),
            self.rows,
            self.seed,
        )?)
    }
}

pub fn load_config(path: Option<&Path>) -> Result<NmpuConfig> {
    match path {
        Some(p) => NmpuConfig::load(p).with_context(|| format!("config {}", p.display())),
        None => Ok(NmpuConfig::default()),
    }
}

pub fn describe_config(path: Option<&Path>) -> String {
    path.map_or("default (configs/default.toml)".into(), |p| {
        p.display().to_string()
    })
}

/// Writes `text` to `path`, or to stdout for `-`.
pub fn write_out(path: &Path, text: &str) -> Result<()> {
    if path == Path::new("-") {
        std::io::stdout()
            .write_all(text.as_bytes())
            .context("cannot write to stdout")
    } else {
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
    }
}

/// Writes `value` as pretty JSON to `path`.
pub fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n").with_context(|| format!("cannot write {}", path.display()))
}
