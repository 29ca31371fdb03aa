//! The one way nmpu runs a tool: in a directory, output captured; a missing tool or a
//! failure is an error that says what to install or shows the end of the tool's output.

use crate::tools::Tool;
use anyhow::{bail, Result};
use std::path::Path;
use std::process::Command;

/// Lines of a failing tool's output an error shows.
const TAIL_LINES: usize = 30;

/// Runs `cmd` (a command of `tool`, see [`Tool::command`]) in `dir`; returns its stdout
/// and stderr together.
pub fn run(tool: Tool, cmd: &mut Command, dir: &Path) -> Result<String> {
    let out = match cmd.current_dir(dir).output() {
        Ok(out) => out,
        Err(e) => bail!(
            "cannot run {} ({e}): {}",
            tool.program(),
            tool.install_hint()
        ),
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        bail!(
            "{} failed in {}:\n{}",
            tool.program(),
            dir.display(),
            tail(&text, TAIL_LINES)
        );
    }
    Ok(text)
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
    }

    #[test]
    fn a_failure_shows_the_output_and_a_missing_program_the_package() {
        let dir = std::env::temp_dir();
        let mut sh = Command::new("sh");
        sh.args(["-c", "echo first; echo last >&2; exit 3"]);
        let e = run(Tool::Yosys, &mut sh, &dir).unwrap_err().to_string();
        assert!(e.contains("yosys failed") && e.contains("last"), "{e}");
        let mut none = Command::new("/nonexistent/nmpu-tool");
        let e = run(Tool::NextpnrIce40, &mut none, &dir)
            .unwrap_err()
            .to_string();
        assert!(e.contains("apt-get install -y nextpnr-ice40"), "{e}");
    }
}
