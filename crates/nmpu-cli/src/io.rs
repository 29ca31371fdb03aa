//! Reading and writing the file formats documented in the README.

use anyhow::{bail, Context, Result};
use nmpu_config::NmpuConfig;
use nmpu_model::{RealCoeffs, TileModel};
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

/// Coefficients and rows of ADC codes: from the files when given, else from the synthetic
/// tile of `rows` rows and `seed`; with descriptions of where each came from.
pub struct Data {
    pub coeffs: RealCoeffs,
    pub rows: Vec<Vec<i64>>,
    pub coeffs_source: String,
    pub rows_source: String,
}

pub fn load_data(
    cfg: &NmpuConfig,
    coeffs: Option<&Path>,
    input: Option<&Path>,
    rows: usize,
    seed: u64,
) -> Result<Data> {
    anyhow::ensure!(rows > 0, "--rows must be at least 1");
    let tile = TileModel::default().generate(cfg, if input.is_some() { 0 } else { rows }, seed);
    let synthetic = format!("synthetic, seed {seed}");
    Ok(Data {
        coeffs: match coeffs {
            Some(p) => load_coeffs(p, cfg)?,
            None => tile.coeffs,
        },
        rows: match input {
            Some(p) => load_input(p, cfg)?,
            None => tile.rows,
        },
        coeffs_source: coeffs.map_or(synthetic.clone(), |p| p.display().to_string()),
        rows_source: input.map_or(synthetic, |p| p.display().to_string()),
    })
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

pub fn load_coeffs(path: &Path, cfg: &NmpuConfig) -> Result<RealCoeffs> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read coefficient file {}", path.display()))?;
    let real = RealCoeffs::from_csv(&text)
        .with_context(|| format!("coefficient file {}", path.display()))?;
    real.check(cfg)
        .with_context(|| format!("coefficient file {}", path.display()))?;
    Ok(real)
}

/// Input CSV: one row of exactly `columns` integer ADC codes per line, each within the
/// `in_bits` range; blank lines and `#` comments are skipped.
pub fn load_input(path: &Path, cfg: &NmpuConfig) -> Result<Vec<Vec<i64>>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read input file {}", path.display()))?;
    parse_input(&text, cfg).with_context(|| format!("input file {}", path.display()))
}

pub fn parse_input(text: &str, cfg: &NmpuConfig) -> Result<Vec<Vec<i64>>> {
    let lim = 1i64 << (cfg.in_bits - 1);
    let mut rows = vec![];
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let row = line
            .split(',')
            .enumerate()
            .map(|(c, f)| {
                let f = f.trim();
                let x: i64 = f.parse().with_context(|| {
                    format!("line {}, column {c}: `{f}` is not an integer", i + 1)
                })?;
                if x < -lim || x >= lim {
                    bail!(
                        "line {}, column {c}: ADC code {x} is outside the in_bits = {} range {} ..= {}",
                        i + 1,
                        cfg.in_bits,
                        -lim,
                        lim - 1
                    );
                }
                Ok(x)
            })
            .collect::<Result<Vec<i64>>>()?;
        if row.len() != cfg.columns as usize {
            bail!(
                "line {}: {} codes, the config has columns = {}",
                i + 1,
                row.len(),
                cfg.columns
            );
        }
        rows.push(row);
    }
    if rows.is_empty() {
        bail!("no input rows (the file is empty or only comments)");
    }
    Ok(rows)
}

pub fn rows_to_csv(rows: &[Vec<i64>]) -> String {
    let mut s = String::new();
    for r in rows {
        let line: Vec<String> = r.iter().map(i64::to_string).collect();
        s += &line.join(",");
        s.push('\n');
    }
    s
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
