//! Very different configurations all generate Verilog (the NMPU and its FP16 baseline)
//! that Verilator -Wall, Icarus -Wall and Yosys (check -assert, synth without latches) accept.

use nmpu_config::NmpuConfig;
use nmpu_eda::WorkDir;
use nmpu_rtl::Block;
use std::path::Path;
use std::process::Command;

/// `synth`: also synthesize and assert no latches (slow for wide, many-lane configs;
/// the lanes are identical, so one narrow and one 8-lane synthesis cover the structure).
fn lint(name: &str, toml: &str, synth: bool) {
    let cfg = NmpuConfig::from_toml_str(toml).unwrap();
    let rtl = nmpu_rtl::generate(&cfg).unwrap();
    let work = WorkDir::new(None, "lint").unwrap();
    let dir = work.path();
    // The fixed-point NMPU and the FP16 baseline: the script lints the filelist's blocks.
    let mut filelist = String::new();
    for block in [Block::Nmpu, Block::NmpuFp16] {
        std::fs::write(dir.join(block.file()), rtl.get(block)).unwrap();
        filelist += &format!("{}\n", block.file());
    }
    std::fs::write(dir.join(nmpu_rtl::generate::FILELIST), filelist).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/lint-rtl.sh");
    let mut cmd = Command::new("bash");
    cmd.arg(script).arg(dir);
    if !synth {
        cmd.arg("--no-synth");
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{name}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{name}: {}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn one_lane_fused_relu_narrow() {
    lint(
        "1lane",
        "columns = 16\nlanes = 1\nin_bits = 8\nfuse_affine_bn = true\n\
         [coefficients]\na = { signed = false, int = 1, frac = 7 }\nb = { signed = true, int = 7, frac = 1 }\n\
         g = { signed = true, int = 2, frac = 6 }\nh = { signed = true, int = 8, frac = 0 }\n\
         [batch_norm]\nformat = { signed = true, int = 9, frac = 2 }\nrounding = \"floor\"\noverflow = \"wrap\"\n\
         [output]\nformat = { signed = false, int = 8, frac = 0 }\nrounding = \"half_up\"\noverflow = \"saturate\"",
        true,
    );
}

#[test]
fn eight_lanes_unfused_default_formats() {
    lint("8lanes", "columns = 32\nlanes = 8", true);
}

#[test]
fn sixteen_lanes_unfused_no_activation_wide() {
    lint(
        "16lanes",
        "columns = 48\nlanes = 16\nin_bits = 24\nactivation = \"none\"\n\
         [coefficients]\na = { signed = true, int = 2, frac = 30 }\nb = { signed = true, int = 24, frac = 8 }\n\
         g = { signed = true, int = -2, frac = 30 }\nh = { signed = true, int = 16, frac = 16 }\n\
         [affine]\nformat = { signed = true, int = 26, frac = 6 }\nrounding = \"half_away\"\noverflow = \"wrap\"\n\
         [batch_norm]\nformat = { signed = false, int = 20, frac = 12 }\nrounding = \"half_even\"\noverflow = \"saturate\"\n\
         [output]\nformat = { signed = true, int = 12, frac = 4 }\nrounding = \"half_away\"\noverflow = \"saturate\"",
        false,
    );
}

/// The FuseSoC core file drops the generated files into FuseSoC's flows: its iCE40
/// synthesis target (edalize's Yosys backend) and a lint target run on a small config.
#[test]
fn fusesoc_core_synthesizes_and_lints() {
    let cfg = NmpuConfig::from_toml_str(include_str!("../reference/fused8.toml")).unwrap();
    let rtl = nmpu_rtl::generate(&cfg).unwrap();
    let work = WorkDir::new(None, "fusesoc").unwrap();
    let dir = work.path();
    let cores = dir.join("cores");
    std::fs::create_dir_all(&cores).unwrap();
    for (file, text) in rtl.files() {
        std::fs::write(cores.join(file), text).unwrap();
    }
    let venv = std::env::var("NMPU_FUSESOC_VENV").unwrap_or("/opt/nmpu-fusesoc".into());
    let fusesoc = Path::new(&venv).join("bin/fusesoc");
    assert!(
        fusesoc.exists(),
        "{} not found: run make deps",
        fusesoc.display()
    );
    for target in ["synth", "lint_tile_io"] {
        let out = Command::new(&fusesoc)
            .current_dir(dir)
            .args([
                "--cores-root",
                "cores",
                "run",
                "--build-root",
                "build",
                "--target",
            ])
            .args([target, "nmpu:ip:nmpu"])
            .output()
            .unwrap();
        let log = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "fusesoc {target}: {log}");
    }
    // The synthesis target left an iCE40 netlist of the NMPU.
    let blif = std::fs::read_dir(dir.join("build"))
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "blif"))
        .expect("a .blif from the synth target");
    let netlist = std::fs::read_to_string(blif).unwrap();
    assert!(netlist.contains(".model nmpu") && netlist.contains("SB_LUT4"));
}
