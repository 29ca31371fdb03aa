//! The external tools: where to get each, whether it is installed, its version.

use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::process::Command;
use std::sync::OnceLock;

/// A tool nmpu runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tool {
    Verilator,
    Yosys,
    /// Icarus Verilog's compiler (`iverilog`); its simulator is [`Tool::Vvp`].
    Iverilog,
    Vvp,
    NextpnrIce40,
    /// The C++ compiler Verilated models are built with.
    Gxx,
}

impl Tool {
    pub const ALL: [Tool; 6] = [
        Tool::Verilator,
        Tool::Yosys,
        Tool::Iverilog,
        Tool::Vvp,
        Tool::NextpnrIce40,
        Tool::Gxx,
    ];

    /// The executable.
    pub fn program(self) -> &'static str {
        match self {
            Tool::Verilator => "verilator",
            Tool::Yosys => "yosys",
            Tool::Iverilog => "iverilog",
            Tool::Vvp => "vvp",
            Tool::NextpnrIce40 => "nextpnr-ice40",
            Tool::Gxx => "g++",
        }
    }

    /// The Debian package that installs it.
    pub fn package(self) -> &'static str {
        match self {
            Tool::Verilator => "verilator",
            Tool::Yosys => "yosys",
            Tool::Iverilog | Tool::Vvp => "iverilog",
            Tool::NextpnrIce40 => "nextpnr-ice40",
            Tool::Gxx => "g++",
        }
    }

    fn version_flag(self) -> &'static str {
        match self {
            Tool::Yosys | Tool::Iverilog | Tool::Vvp => "-V",
            _ => "--version",
        }
    }

    /// What to do when the tool is missing.
    pub fn install_hint(self) -> String {
        format!(
            "install it with `make deps`, or `apt-get install -y {}`",
            self.package()
        )
    }

    /// A command running the tool.
    pub fn command(self) -> Command {
        Command::new(self.program())
    }

    /// The first line of the tool's version output, or why there is none (run once per
    /// process: tool versions do not change while nmpu runs).
    pub fn version(self) -> Result<String> {
        static FOUND: OnceLock<Vec<(Tool, Result<String, String>)>> = OnceLock::new();
        let all = FOUND.get_or_init(|| Tool::ALL.map(|t| (t, t.probe())).to_vec());
        let (_, v) = all.iter().find(|(t, _)| *t == self).expect("every tool");
        v.clone().map_err(anyhow::Error::msg)
    }

    fn probe(self) -> Result<String, String> {
        let out = self
            .command()
            .arg(self.version_flag())
            .output()
            .map_err(|e| {
                format!(
                    "{} not found ({e}): {}",
                    self.program(),
                    self.install_hint()
                )
            })?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        let line = text.lines().map(str::trim).find(|l| !l.is_empty());
        Ok(line.unwrap_or(self.program()).to_string())
    }

    /// Whether the tool runs here.
    pub fn available(self) -> bool {
        self.version().is_ok()
    }

    /// An error naming the missing tool and how to install it, when it is missing.
    pub fn require(self) -> Result<()> {
        self.version().map(|_| ())
    }
}

/// Verilator 5.006 (Debian 12's) computes `q + $signed({1'b0, up})` as `q - 1` when `up`
/// is `a & ~b`: it sign-extends the one-bit increment. A note for that version saying how
/// nmpu avoids it; `None` for other versions.
pub fn verilator_notice(version: &str) -> Option<String> {
    version.contains("Verilator 5.006").then(|| {
        "Verilator 5.006 sign-extends `$signed({1'b0, a & ~b})` (a known miscompile); \
         the generated RTL never writes that form (a rounding increment has a full-width \
         wire of its own, checked by nmpu-rtl's tests) and verification/tests/exact_blocks.rs \
         checks every rounding block under this Verilator"
            .to_string()
    })
}

/// The versions of the tools a result came from (`None`: not found or not used).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ToolVersions {
    pub verilator: Option<String>,
    pub yosys: Option<String>,
    pub icarus: Option<String>,
    pub nextpnr: Option<String>,
}

impl ToolVersions {
    /// The versions of `used` that are installed.
    pub fn of(used: &[Tool]) -> ToolVersions {
        let v = |t: Tool| used.contains(&t).then(|| t.version().ok()).flatten();
        ToolVersions {
            verilator: v(Tool::Verilator),
            yosys: v(Tool::Yosys),
            icarus: v(Tool::Iverilog),
            nextpnr: v(Tool::NextpnrIce40),
        }
    }

    /// One line: `yosys: Yosys 0.23 ...; nextpnr: ...`.
    pub fn line(&self) -> String {
        let parts: Vec<String> = [
            ("verilator", &self.verilator),
            ("yosys", &self.yosys),
            ("icarus", &self.icarus),
            ("nextpnr", &self.nextpnr),
        ]
        .iter()
        .filter_map(|(n, v)| v.as_ref().map(|v| format!("{n}: {v}")))
        .collect();
        if parts.is_empty() {
            "no tools".into()
        } else {
            parts.join("; ")
        }
    }
}

/// The value of `VERILATOR_ROOT` that `verilator -V` reports.
pub fn verilator_root() -> Result<String> {
    Tool::Verilator.require()?;
    let out = Tool::Verilator
        .command()
        .arg("-V")
        .output()
        .context("cannot run verilator -V")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let root = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("VERILATOR_ROOT"))
        .map(|v| v.trim().trim_start_matches('=').trim().to_string())
        .find(|v| !v.is_empty());
    match root {
        Some(r) => Ok(r),
        None => bail!("verilator -V does not say VERILATOR_ROOT"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notice_names_only_the_broken_verilator() {
        let n = verilator_notice("Verilator 5.006 2023-01-22 rev (Debian 5.006-3)").unwrap();
        assert!(n.contains("exact_blocks.rs"), "{n}");
        assert!(verilator_notice("Verilator 5.020 2024-01-01").is_none());
    }

    #[test]
    fn a_missing_tool_says_how_to_install_it() {
        let e = Tool::NextpnrIce40.install_hint();
        assert!(e.contains("make deps") && e.contains("apt-get install -y nextpnr-ice40"));
        let v = ToolVersions {
            yosys: Some("Yosys 0.23".into()),
            ..ToolVersions::default()
        };
        assert_eq!(v.line(), "yosys: Yosys 0.23");
        assert_eq!(ToolVersions::default().line(), "no tools");
    }
}
