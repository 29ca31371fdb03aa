//! Reading and writing the file formats documented in the README.

use anyhow::{bail, Context, Result};
use nmpu_config::NmpuConfig;
use nmpu_model::RealCoeffs;
use std::io::Write;
use std::path::Path;

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
