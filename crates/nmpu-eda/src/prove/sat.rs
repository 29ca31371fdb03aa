//! Running a Yosys `sat` script and reading its outcome.

use crate::process::run;
use crate::tools::Tool;
use anyhow::{bail, Context, Result};
use std::path::Path;

/// What `sat` concluded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sat {
    Proved,
    Failed,
    Timeout,
}

/// Writes `{name}.ys` in `dir`, runs it, keeps the log as `{name}.log`; the outcome and
/// the log (a failure's model is in it).
pub fn run_script(dir: &Path, name: &str, script: &str, what: &str) -> Result<(Sat, String)> {
    std::fs::write(dir.join(format!("{name}.ys")), script)?;
    let log = run(
        Tool::Yosys,
        Tool::Yosys.command().args(["-s", &format!("{name}.ys")]),
        dir,
    )
    .with_context(|| what.to_string())?;
    std::fs::write(dir.join(format!("{name}.log")), &log)?;
    let outcome = if log.contains("SAT proof finished - no model found: SUCCESS!") {
        Sat::Proved
    } else if log.contains("TIMEOUT") || log.contains("timed out") {
        Sat::Timeout
    } else if log.contains("model found: FAIL!") {
        Sat::Failed
    } else {
        bail!(
            "{what}: no verdict in the SAT log:\n{}",
            crate::process::tail(&log, 20)
        );
    };
    Ok((outcome, log))
}

/// The model's values at `step` (signal name without its backslash -> bits), from a log
/// of `sat -show-*`.
pub fn model_at(log: &str, step: u32) -> std::collections::HashMap<String, u128> {
    let mut model = std::collections::HashMap::new();
    for line in log.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() >= 3 && f[0].parse::<u32>().ok() == Some(step) && f[1].starts_with('\\') {
            if let Ok(v) = u128::from_str_radix(f[f.len() - 1], 2) {
                model.insert(f[1][1..].to_string(), v);
            }
        }
    }
    model
}
