//! The `nmpu` binary as a user runs it: outputs, errors and exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn nmpu(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nmpu"))
        .args(args)
        .output()
        .expect("nmpu runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A failing run: exit code 1, an `error:` line, no panic.
fn fails(args: &[&str], needle: &str) {
    let o = nmpu(args);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "args {args:?}\nstderr: {e}");
    assert!(e.starts_with("error: "), "{e}");
    assert!(!e.contains("panicked"), "{e}");
    assert!(e.contains(needle), "expected `{needle}` in: {e}");
}

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Self {
        Dir(tempfile::tempdir().unwrap())
    }
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A 4-column config and matching coefficients.
fn small(d: &Dir) -> (PathBuf, PathBuf) {
    let cfg = d.file("c.toml", "columns = 4\nlanes = 2\n");
    let k = d.file(
        "k.csv",
        "column,a,b,g,h\n0,1.0,0,0.03,0\n1,1.1,-3.5,0.03,1.25\n2,0.9,2,0.05,-2\n3,1,0,0.01,0\n",
    );
    (cfg, k)
}

#[test]
fn run_writes_one_output_row_per_input_row_for_every_engine() {
    let d = Dir::new();
    let (cfg, k) = small(&d);
    let input = d.file("x.csv", "# two vectors\n0,100,-100,4095\n-4096,1,2,3\n");
    for engine in ["fixed", "fp16", "f64"] {
        let out = d.path(&format!("{engine}.csv"));
        let o = nmpu(&[
            "run",
            "-c",
            s(&cfg),
            "-k",
            s(&k),
            "-i",
            s(&input),
            "-o",
            s(&out),
            "-e",
            engine,
        ]);
        assert!(o.status.success(), "{engine}: {}", stderr(&o));
        let text = std::fs::read_to_string(&out).unwrap();
        let rows: Vec<Vec<i64>> = text
            .lines()
            .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
            .collect();
        assert_eq!(rows.len(), 2, "{engine}");
        assert!(rows.iter().all(|r| r.len() == 4), "{engine}");
        // ReLU then int8: never negative, never above 127.
        assert!(
            rows.iter().flatten().all(|&v| (0..=127).contains(&v)),
            "{engine}: {rows:?}"
        );
        // Column 0 maps x = 0 to g*h-free 0; column 3 maps 4095 to 0.01*4095 = 40.95 -> 41.
        assert_eq!(rows[0][0], 0, "{engine}");
        assert_eq!(rows[0][3], 41, "{engine}");
    }
}

#[test]
fn compare_prints_the_side_by_side_table() {
    let o = nmpu(&["compare", "--rows", "20", "--seed", "7"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t = stdout(&o);
    for needle in [
        "fixed point",
        "fp16",
        "affine",
        "batch_norm",
        "activation",
        "mismatch",
        "5120 elements",
    ] {
        assert!(t.contains(needle), "missing `{needle}` in\n{t}");
    }
}

#[test]
fn compare_json_has_both_engines() {
    let o = nmpu(&["compare", "--rows", "5", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["fixed"]["elements"], 1280);
    assert_eq!(v["fp16"]["elements"], 1280);
}

#[test]
fn gen_data_is_deterministic_and_feeds_compare() {
    let d = Dir::new();
    let (k1, x1, k2, x2) = (d.path("k1"), d.path("x1"), d.path("k2"), d.path("x2"));
    for (k, x) in [(&k1, &x1), (&k2, &x2)] {
        let o = nmpu(&[
            "gen-data",
            "--rows",
            "3",
            "--seed",
            "9",
            "--coeffs-out",
            s(k),
            "--input-out",
            s(x),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    assert_eq!(std::fs::read(&k1).unwrap(), std::fs::read(&k2).unwrap());
    assert_eq!(std::fs::read(&x1).unwrap(), std::fs::read(&x2).unwrap());
    let o = nmpu(&["compare", "-k", s(&k1), "-i", s(&x1)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("768 elements"));
}

#[test]
fn config_prints_the_default_and_validates() {
    let o = nmpu(&["config", "--default"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("in_bits = 13"));
    let o = nmpu(&["config"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("columns = 256"));
}

#[test]
fn help_describes_every_command() {
    let o = nmpu(&["--help"]);
    let h = stdout(&o);
    for c in [
        "run", "compare", "config", "gen-data", "generate", "cosim", "tune", "accuracy",
    ] {
        assert!(h.contains(c), "{h}");
    }
    let o = nmpu(&["run", "--help"]);
    assert!(stdout(&o).contains("--engine"));
}

#[test]
fn bad_configs_name_the_field() {
    let d = Dir::new();
    let c = d.file("zero.toml", "lanes = 0\n");
    fails(&["config", "-c", s(&c)], "`lanes`");
    let c = d.file("div.toml", "columns = 100\nlanes = 8\n");
    fails(&["config", "-c", s(&c)], "does not divide");
    let c = d.file("key.toml", "colums = 100\n");
    fails(&["config", "-c", s(&c)], "colums");
    let c = d.file("syntax.toml", "lanes = = 3\n");
    fails(&["config", "-c", s(&c)], "invalid config TOML");
    fails(
        &["config", "-c", "/nonexistent/nmpu.toml"],
        "cannot read config file",
    );
}

#[test]
fn bad_inputs_are_clear_errors() {
    let d = Dir::new();
    let (cfg, k) = small(&d);
    let run = |input: &Path, needle: &str| {
        fails(&["run", "-c", s(&cfg), "-k", s(&k), "-i", s(input)], needle)
    };
    run(&d.file("empty.csv", ""), "no input rows");
    run(
        &d.file("cols.csv", "1,2,3\n"),
        "3 codes, the config has columns = 4",
    );
    run(
        &d.file("range.csv", "0,0,4096,0\n"),
        "outside the in_bits = 13 range -4096 ..= 4095",
    );
    run(
        &d.file("text.csv", "0,zero,0,0\n"),
        "`zero` is not an integer",
    );
    run(&d.path("missing.csv"), "cannot read input file");
}

#[test]
fn bad_coefficients_are_clear_errors() {
    let d = Dir::new();
    let (cfg, _) = small(&d);
    let input = d.file("x.csv", "0,0,0,0\n");
    let run = |k: &Path, needle: &str| {
        fails(&["run", "-c", s(&cfg), "-k", s(k), "-i", s(&input)], needle)
    };
    let rows = |r: &str| format!("column,a,b,g,h\n0,1,0,1,0\n1,1,0,1,0\n2,1,0,1,0\n{r}\n");
    run(
        &d.file("nan.csv", &rows("3,NaN,0,1,0")),
        "a[3] = NaN: not a finite number",
    );
    run(&d.file("inf.csv", &rows("3,1,0,inf,0")), "g[3] = inf");
    run(
        &d.file("short.csv", "column,a,b,g,h\n0,1,0,1,0\n"),
        "has 1 columns, the config has columns = 4",
    );
    run(
        &d.file("hdr.csv", "col,a,b,g,h\n"),
        "expected `column,a,b,g,h`",
    );
    run(&d.file("empty.csv", ""), "coefficient file is empty");
    run(
        &d.file("order.csv", "column,a,b,g,h\n1,1,0,1,0\n"),
        "expected 0",
    );
}

#[test]
fn every_shipped_config_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "toml") {
            let o = nmpu(&["config", "-c", s(&p)]);
            assert!(o.status.success(), "{}: {}", p.display(), stderr(&o));
            n += 1;
        }
    }
    assert!(
        n >= 2,
        "expected the default and the fused example in {}",
        dir.display()
    );
}

#[test]
fn generate_writes_verilog_and_filelist() {
    let d = Dir::new();
    let cfg = d.file("g.toml", "columns = 8\nlanes = 4\n");
    let out = d.path("rtl");
    let o = nmpu(&["generate", "-c", s(&cfg), "-o", s(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = std::fs::read_to_string(out.join("nmpu.v")).unwrap();
    assert!(v.contains("module nmpu("));
    assert!(v.contains("//   lanes = 4"));
    let adc = std::fs::read_to_string(out.join("adc_capture.v")).unwrap();
    assert!(adc.contains("module adc_capture(") && adc.contains("pulse_pos$7"));
    let fp16 = std::fs::read_to_string(out.join("nmpu_fp16.v")).unwrap();
    assert!(fp16.contains("module nmpu_fp16(") && fp16.contains("m_y$3"));
    assert_eq!(
        std::fs::read_to_string(out.join("nmpu.f")).unwrap(),
        "nmpu.v\nadc_capture.v\ntile_io.v\npwm_dac.v\nnmpu_fp16.v\n"
    );
}

#[test]
fn generate_rejects_a_bad_config() {
    let d = Dir::new();
    let cfg = d.file("bad.toml", "columns = 8\nlanes = 3\n");
    fails(
        &["generate", "-c", s(&cfg), "-o", s(&d.path("rtl"))],
        "does not divide",
    );
}

/// A config that is not in the repository, co-simulated end to end: summary, coverage,
/// the VCD asked for, and a replay of one random case through the printed flags.
#[test]
#[cfg_attr(
    not(feature = "tools"),
    ignore = "needs Verilator and Icarus: cargo test --features tools"
)]
fn cosim_checks_a_users_config() {
    let d = Dir::new();
    let cfg = d.file(
        "mine.toml",
        "columns = 24\nlanes = 6\nin_bits = 9\nfuse_affine_bn = true\nactivation = \"none\"\n\
         [coefficients]\na = { signed = true, int = 3, frac = 9 }\nb = { signed = true, int = 8, frac = 4 }\n\
         [output]\nformat = { signed = false, int = 7, frac = 0 }\nrounding = \"floor\"\noverflow = \"wrap\"\n",
    );
    let vcd = d.0.path().join("trace.vcd");
    let o = nmpu(&[
        "cosim",
        "--config",
        s(&cfg),
        "--vectors",
        "300",
        "--seed",
        "5",
        "--vcd",
        s(&vcd),
    ]);
    let e = stderr(&o);
    assert!(o.status.success(), "{e}");
    assert!(e.contains("0 mismatches"), "{e}");
    assert!(e.contains("coverage of"), "{e}");
    assert!(e.contains("icarus: 2 vectors"), "{e}");
    let text = std::fs::read_to_string(&vcd).unwrap();
    assert!(
        text.contains("m_y$0") && text.contains("#2550"),
        "VCD does not span 256 cycles"
    );
    let o = nmpu(&[
        "cosim",
        "--config",
        s(&cfg),
        "--only",
        "random",
        "--seed",
        "7",
        "--vectors",
        "3",
        "--chunk",
        "3",
        "--gap",
        "0.5",
        "--stall",
        "0.5",
        "--reset-at",
        "4",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cosim summary: 1 cases"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn cosim_rejects_bad_arguments() {
    fails(&["cosim", "--gap", "1"], "--gap 1: a probability in [0, 1)");
    fails(&["cosim", "--stall=-0.1"], "--stall -0.1");
    fails(&["cosim", "--chunk", "0"], "--chunk 0");
    fails(
        &["cosim", "--config", "/nonexistent/c.toml"],
        "/nonexistent/c.toml",
    );
}

/// The synthesis flow on a tiny config: figures that must be there and be plausible, the
/// JSON, and an iCE40 place and route with an Fmax.
#[test]
#[cfg_attr(
    not(feature = "tools"),
    ignore = "needs Yosys and nextpnr: cargo test --features tools"
)]
fn synth_reports_generic_and_ice40_figures() {
    let d = Dir::new();
    let cfg = d.file(
        "tiny.toml",
        "columns = 4\nlanes = 1\nin_bits = 5\n[dac]\nrows = 4\nlanes = 2\nbits = 3\n",
    );
    let json = d.path("synth.json");
    let o = nmpu(&[
        "synth",
        "-c",
        s(&cfg),
        "--block",
        "adc_capture",
        "--ice40",
        "--json",
        s(&json),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("adc_capture"), "{}", stdout(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let g = &v[0]["generic"];
    // 4 columns x (4 + 4 + 5) bits of counters and readout, plus control.
    let ffs = g["flip_flops"].as_u64().unwrap();
    assert!((52..200).contains(&ffs), "{v}");
    assert!(g["transistors"].as_u64().unwrap() > 20 * ffs, "{v}");
    assert!(g["logic_depth"].as_u64().unwrap() > 2, "{v}");
    let i = &v[0]["ice40"];
    assert_eq!(i["device"], "iCE40UP5K", "{v}");
    assert!(i["fmax_mhz"].as_f64().unwrap() > 10.0, "{v}");
    fails(
        &["synth", "--block", "fpu"],
        "--block fpu: choose nmpu, adc_capture, tile_io, pwm_dac, nmpu_fp16, nmpu_ref",
    );
}

/// The side-by-side report on a four-lane config, with the whole unit synthesized too:
/// both sides' figures, the composed unit within 5 % of the synthesized one, the storage
/// split, the latencies, accuracy on the requested rows, and verdict lines that agree with
/// the figures.
#[test]
#[cfg_attr(
    not(feature = "tools"),
    ignore = "needs Yosys: cargo test --features tools"
)]
fn report_puts_fixed_and_fp16_side_by_side() {
    let d = Dir::new();
    let cfg = d.file("four.toml", "columns = 4\nlanes = 4\n");
    let json = d.path("report.json");
    let o = nmpu(&[
        "report",
        "-c",
        s(&cfg),
        "--rows",
        "300",
        "--whole",
        "--json",
        s(&json),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let (f, h) = (&v["fixed"], &v["fp16"]);
    assert_eq!(
        (f["module"].as_str(), h["module"].as_str()),
        (Some("nmpu"), Some("nmpu_fp16"))
    );
    assert_eq!(
        (f["latency_cycles"].as_u64(), h["latency_cycles"].as_u64()),
        (Some(6), Some(9))
    );
    let num = |x: &serde_json::Value| x.as_f64().unwrap();
    for side in [f, h] {
        assert_eq!(side["accuracy"]["elements"], 300 * 4, "{v}");
        let (unit, whole) = (&side["unit"], &side["whole"]);
        assert!(
            num(&unit["transistors"]) > 10.0 * num(&unit["flip_flops"]),
            "{v}"
        );
        for key in ["area_um2", "transistors", "flip_flops"] {
            let err = num(&unit[key]) / num(&whole[key]) - 1.0;
            assert!(
                err.abs() < 0.05,
                "{key}: composed vs synthesized {err}: {v}"
            );
        }
        let (lane, dp, st) = (&side["lane"], &side["lane_datapath"], &side["lane_storage"]);
        assert!(
            (num(&dp["area_um2"]) + num(&st["area_um2"]) - num(&lane["area_um2"])).abs() < 1.0,
            "{v}"
        );
        assert!(
            num(&st["area_um2"]) > 0.0 && num(&side["fmax_mhz"]) > 20.0,
            "{v}"
        );
    }
    // Default formats: 14 + 14 + 18 + 15 bits per column; binary16: 4 x 16.
    assert_eq!(f["storage_bits_per_column"], 61, "{v}");
    assert_eq!(h["storage_bits_per_column"], 64, "{v}");
    let ratio = num(&h["unit"]["area_um2"]) / num(&f["unit"]["area_um2"]);
    let out = stdout(&o);
    assert!(
        out.contains(&format!("FP16/fixed area = {ratio:.2}")),
        "{out}"
    );
    let verdict = if ratio >= 7.8 { ": met" } else { ": not met" };
    assert!(
        out.lines()
            .any(|l| l.starts_with("paper's claim") && l.ends_with(verdict)),
        "{out}"
    );
    fails(&["report", "--rows", "0"], "--rows must be at least 1");
}

/// `nmpu tune` on a small synthetic tile: a config that meets its budget on held-out data,
/// fronts that exist, and a config that generate and cosim take as it is.
#[test]
#[cfg_attr(
    not(feature = "tools"),
    ignore = "needs Yosys and Verilator: cargo test --features tools"
)]
fn tune_writes_a_config_that_meets_its_budget_and_cosimulates() {
    let d = Dir::new();
    let cfg = d.file("small.toml", "columns = 16\nlanes = 2\nin_bits = 10\n");
    let out = d.path("out/tuned.toml");
    let o = nmpu(&[
        "tune",
        "-c",
        s(&cfg),
        "--rows",
        "300",
        "--budget",
        "mean=0.3",
        "--budget",
        "noise",
        "--confirm",
        "1",
        "--out",
        s(&out),
    ]);
    let text = stdout(&o);
    assert!(o.status.success(), "{}{text}", stderr(&o));
    assert!(text.contains("the budget holds"), "{text}");
    // Within 10 % of the noise RMS, the SNR loss is at most 10 log10(1.01) = 0.0432 dB.
    let loss: f64 = text
        .lines()
        .find(|l| l.starts_with("SNR lost"))
        .and_then(|l| l.split("tuned ").nth(1))
        .and_then(|r| r.split(" dB").next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no SNR line: {text}"));
    assert!(loss > 0.0 && loss <= 0.0433, "{loss} dB");
    // The shipped cost model against a synthesis of the tuned lane (fitted on other
    // lanes: 2 % mean error there).
    let line = text
        .lines()
        .find(|l| l.starts_with("confirmed by synthesis"))
        .expect("a confirmation line");
    // "... tuned A um^2 (model B, +x.x %), ..."
    let err: f64 = line
        .split("(model ")
        .nth(1)
        .and_then(|r| r.split(", ").nth(1))
        .and_then(|r| r.split(" %").next())
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("no model error in: {line}"));
    assert!(err.abs() < 10.0, "cost model vs synthesis: {line}");
    let toml = std::fs::read_to_string(&out).unwrap();
    assert!(toml.starts_with("# Tuned by `nmpu tune`"), "{toml}");
    assert!(toml.contains("# Budget: mean |error| <= 0.3 LSB"), "{toml}");
    let tuned = nmpu_config::NmpuConfig::from_toml_str(&toml).unwrap();
    assert_eq!((tuned.columns, tuned.lanes, tuned.in_bits), (16, 2, 10));
    let csv = std::fs::read_to_string(d.path("out/tuned.pareto.csv")).unwrap();
    assert!(
        csv.starts_with("metric,value,area_um2") && csv.lines().count() > 4,
        "{csv}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.path("out/tuned.pareto.json")).unwrap())
            .unwrap();
    assert!(json.as_array().is_some_and(|a| !a.is_empty()));
    let svg = std::fs::read_to_string(d.path("out/tuned.pareto.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("Pareto front") && svg.contains("<circle"));
    let o = nmpu(&[
        "cosim",
        "--config",
        s(&out),
        "--vectors",
        "200",
        "--seed",
        "3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("0 mismatches"), "{}", stderr(&o));
    fails(&["tune", "--budget", "speed=3"], "unknown budget `speed=3`");
    fails(
        &["tune", "--noise", "0"],
        "--noise must be a positive fraction",
    );
}

/// Three shards merged write exactly what the unsharded run writes; a missing or foreign
/// part is a clear error.
#[test]
fn tune_shards_merge_to_the_unsharded_result() {
    let d = Dir::new();
    let cfg = d.file("small.toml", "columns = 8\nlanes = 2\nin_bits = 9\n");
    // Small tiles: the answer may miss on held-out ones; the merge is what is tested.
    let common = [
        "-c",
        s(&cfg),
        "--rows",
        "100",
        "--confirm",
        "0",
        "--allow-miss",
    ];
    let full = d.path("full/t.toml");
    let o = nmpu(&[&["tune"][..], &common, &["--out", s(&full)]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let part_out = d.path("parts/t.toml");
    for i in 0..3 {
        let shard = format!("{i}/3");
        let o = nmpu(
            &[
                &["tune"][..],
                &common,
                &["--shard", &shard, "--out", s(&part_out)],
            ]
            .concat(),
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let parts: Vec<PathBuf> = (0..3)
        .map(|i| d.path(&format!("parts/t.shard-{i}-of-3.json")))
        .collect();
    let merged = d.path("merged/t.toml");
    let o = nmpu(&[
        "tune",
        "merge",
        s(&parts[0]),
        s(&parts[1]),
        s(&parts[2]),
        "--confirm",
        "0",
        "--allow-miss",
        "--out",
        s(&merged),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for ext in ["toml", "pareto.csv", "pareto.json", "pareto.svg"] {
        let a = std::fs::read(full.with_extension(ext)).unwrap();
        let b = std::fs::read(merged.with_extension(ext)).unwrap();
        assert!(
            a == b,
            "{ext} differs between the unsharded and the merged run"
        );
    }
    fails(
        &["tune", "merge", s(&parts[0]), s(&parts[2])],
        "every shard 0..3 is needed exactly once",
    );
    // A usage error (clap's exit code 2) that says what a shard is.
    let o = nmpu(&["tune", "--shard", "3/3"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("expected I/N with 0 <= I < N"),
        "{}",
        stderr(&o)
    );
}

/// `nmpu calibrate` on measurements of a simulated tile (written as .npy and CSV; no
/// programming noise, so a column's slope is its ADC's; aihwkit's read noise, about 70
/// codes RMS here): the coefficients it writes are the inverse of each column's true ADC
/// gain within 3 % (6 standard errors with 1000 measurements), and bad measurements are
/// errors that name the column.
#[test]
fn calibrate_fits_a_simulated_tile_and_names_bad_columns() {
    use nmpu_tile::{Matrix, Tile, TileParams};
    let d = Dir::new();
    let cfg = d.file("c.toml", "columns = 16\nlanes = 4\nactivation = \"none\"\n");
    let params = TileParams::default();
    let w = Matrix::new(
        128,
        16,
        (0..128 * 16)
            .map(|i| ((i * 37 % 101) as f64 - 50.0) / 50.0)
            .collect(),
    )
    .unwrap();
    let mut tile = Tile::program(&params, &w, 7).unwrap();
    let (mut refs, mut codes) = (vec![], vec![]);
    let mut lcg = 1u64;
    for _ in 0..1000 {
        let x: Vec<i64> = (0..128)
            .map(|_| {
                lcg = lcg
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (lcg >> 56) as i64 - 128
            })
            .collect();
        refs.push(tile.ideal(&x).unwrap());
        codes.push(tile.mvm(&x).unwrap());
    }
    nmpu_model::npy::write_reals(&d.path("ref.npy"), &refs).unwrap();
    nmpu_model::npy::write_codes(&d.path("codes.npy"), &codes).unwrap();
    let out = d.path("k.npy");
    let o = nmpu(&[
        "calibrate",
        "-c",
        s(&cfg),
        "-r",
        s(&d.path("ref.npy")),
        "--codes",
        s(&d.path("codes.npy")),
        "--method",
        "huber",
        "-o",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("16 columns: residual RMS mean"),
        "{}",
        stdout(&o)
    );
    let k = nmpu_model::npy::read_reals(&out).unwrap();
    let truth = tile.truth();
    for (c, row) in k.iter().enumerate() {
        assert!(
            (row[0] * truth.gain[c] - 1.0).abs() < 0.03,
            "column {c}: a = {}, gain {}",
            row[0],
            truth.gain[c]
        );
    }
    // The same measurements as CSV; one column's codes frozen: a dead column.
    let csv = |name: &str, rows: &[Vec<f64>]| {
        nmpu_model::data::write_reals(&d.path(name), rows).unwrap();
        d.path(name)
    };
    let refs_csv = csv("ref.csv", &refs);
    for row in codes.iter_mut() {
        row[5] = 12;
    }
    let dead = d.file("dead.csv", &nmpu_model::data::rows_to_csv(&codes));
    let run = |r: &Path, c: &Path, needle: &str| {
        fails(
            &[
                "calibrate",
                "-c",
                s(&cfg),
                "-r",
                s(r),
                "--codes",
                s(c),
                "-o",
                s(&d.path("x.csv")),
            ],
            needle,
        )
    };
    run(
        &refs_csv,
        &dead,
        "column 5: every code is 12: a dead column cannot be calibrated",
    );
    refs[3][9] = f64::NAN;
    run(&csv("nan.csv", &refs), &dead, "column 5");
    // A gain of 0.1 code per unit needs a = 10, beyond the format's [0, 2).
    let y: Vec<Vec<f64>> = (0..10).map(|i| vec![100.0 * f64::from(i); 16]).collect();
    let c: Vec<Vec<i64>> = (0..10).map(|i| vec![10 * i; 16]).collect();
    run(
        &csv("y.csv", &y),
        &d.file("c.csv", &nmpu_model::data::rows_to_csv(&c)),
        "column 0: a = 10 is outside the coefficient format",
    );
    assert!(!d.path("x.csv").exists(), "nothing written on an error");
}

/// Tuned on one tile without margin, an 8-column config misses its budget on held-out
/// tiles: the run says by how much and fails, writing the fronts but not the config;
/// `--allow-miss` keeps it and its header says it misses. With the default tiles and
/// margin the same config holds. An impossible coefficient is an input error naming it.
#[test]
fn tune_refuses_a_config_that_misses_its_budget_on_held_out_tiles() {
    let d = Dir::new();
    let cfg = d.file("c8.toml", "columns = 8\nlanes = 2\nin_bits = 9\n");
    let out = d.path("m/t.toml");
    let args = |extra: &[&'static str]| -> Vec<String> {
        let mut a: Vec<String> = [
            "tune",
            "-c",
            s(&cfg),
            "--seed",
            "2",
            "--confirm",
            "0",
            "--out",
            s(&out),
        ]
        .iter()
        .map(|x| x.to_string())
        .collect();
        a.extend(extra.iter().map(|x| x.to_string()));
        a
    };
    let run = |extra: &[&'static str]| {
        let a = args(extra);
        nmpu(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let o = run(&["--tiles", "1", "--margin", "0"]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("misses its budget on held-out tile") && e.contains("--allow-miss"),
        "{e}"
    );
    assert!(!out.exists() && d.path("m/t.pareto.csv").exists());
    let o = run(&["--tiles", "1", "--margin", "0", "--allow-miss"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains("MISSES the budget"));
    std::fs::remove_file(&out).unwrap();
    let o = run(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("the budget holds on every one"),
        "{}",
        stdout(&o)
    );
    assert!(!std::fs::read_to_string(&out).unwrap().contains("MISSES"));
    let mut k = String::from("column,a,b,g,h\n");
    for c in 0..8 {
        let a = if c == 3 { "1e30" } else { "1" };
        k += &format!("{c},{a},0,0.05,0\n");
    }
    let kf = d.file("k.csv", &k);
    fails(
        &[
            "tune",
            "-c",
            s(&cfg),
            "-k",
            s(&kf),
            "--rows",
            "50",
            "--confirm",
            "0",
            "--out",
            s(&out),
        ],
        "coefficient a[3] = 1000000000000000000000000000000: no coefficient format",
    );
    fails(&["tune", "--margin=-1"], "--margin must be 0 or more");
}

/// The synthetic tile's calibration measurements, written by `gen-data`, calibrate back to
/// the coefficients it wrote: `a` and `b` within half an LSB of their formats.
#[test]
fn gen_data_measurements_calibrate_to_its_own_coefficients() {
    let d = Dir::new();
    let cfg = d.file("c.toml", "columns = 32\nlanes = 4\n");
    let o = nmpu(&[
        "gen-data",
        "-c",
        s(&cfg),
        "--coeffs-out",
        s(&d.path("k.npy")),
        "--input-out",
        s(&d.path("x.csv")),
        "--reference-out",
        s(&d.path("r.csv")),
        "--codes-out",
        s(&d.path("c.npy")),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = nmpu(&[
        "calibrate",
        "-c",
        s(&cfg),
        "-r",
        s(&d.path("r.csv")),
        "--codes",
        s(&d.path("c.npy")),
        "-o",
        s(&d.path("kc.csv")),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let gen = nmpu_model::npy::read_reals(&d.path("k.npy")).unwrap();
    let cal = nmpu_model::data::load_coeffs(
        &d.path("kc.csv"),
        &nmpu_config::NmpuConfig::load(&cfg).unwrap(),
    )
    .unwrap();
    for (c, row) in gen.iter().enumerate() {
        assert!(
            (row[0] - cal.a[c]).abs() <= 2f64.powi(-14),
            "a[{c}]: {} vs {}",
            row[0],
            cal.a[c]
        );
        assert!(
            (row[1] - cal.b[c]).abs() <= 0.125,
            "b[{c}]: {} vs {}",
            row[1],
            cal.b[c]
        );
    }
}

/// `nmpu accuracy` on the digits: the table, the JSON (its figures consistent with the
/// table's), the plot; bad arguments and a missing Fashion-MNIST are clear errors.
#[test]
fn accuracy_prints_the_table_and_writes_json_and_plot() {
    let d = Dir::new();
    let (json, plot) = (d.path("a.json"), d.path("a.svg"));
    let o = nmpu(&[
        "accuracy",
        "--dataset",
        "digits",
        "--seeds",
        "2",
        "--json",
        s(&json),
        "--plot",
        s(&plot),
    ]);
    let text = stdout(&o);
    assert!(o.status.success(), "{}{text}", stderr(&o));
    for needle in [
        "UCI digits (360 test images)",
        "float network",
        "tile + FP16 NMPU",
        "tile + fixed NMPU",
        "uncalibrated (f64)",
        "mismatch-free (f64)",
        "95 % interval",
        "McNemar",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["seeds"], serde_json::json!([1, 2]));
    let fixed = &v["variants"][2];
    assert_eq!(fixed["variant"], "fixed");
    let mean = fixed["spread"]["mean"].as_f64().unwrap();
    assert!(text.contains(&format!("{:.2}", 100.0 * mean)), "{text}");
    assert!(std::fs::read_to_string(&plot).unwrap().starts_with("<svg"));
    fails(
        &["accuracy", "--dataset", "digits", "--seeds", "0"],
        "--seeds must be at least 1",
    );
    let o = Command::new(env!("CARGO_BIN_EXE_nmpu"))
        .args(["accuracy", "--seeds", "1"])
        .env("NMPU_FASHION_DIR", "/nonexistent")
        .output()
        .unwrap();
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(
        e.contains("dataset-fashion-mnist") && e.contains("make deps"),
        "{e}"
    );
}

/// The accuracy budget on the digits: the tuned config and its files are written, the
/// summary reports the test-set check; malformed or combined budgets are refused.
#[test]
fn tune_by_accuracy_writes_a_checked_config() {
    let d = Dir::new();
    let out = d.path("t/tuned.toml");
    let o = nmpu(&[
        "tune",
        "--budget",
        "accuracy=0.5",
        "--dataset",
        "digits",
        "--tiles",
        "3",
        "--holdout-tiles",
        "2",
        "--confirm",
        "0",
        "--allow-miss",
        "--out",
        s(&out),
    ]);
    let text = stdout(&o);
    assert!(o.status.success(), "{}{text}", stderr(&o));
    assert!(
        text.contains("test set (360 images, unseen seeds 1001 ..= 1002)"),
        "{text}"
    );
    let tuned = std::fs::read_to_string(&out).unwrap();
    assert!(
        tuned.starts_with("# Tuned by `nmpu tune --budget accuracy=0.5`"),
        "{tuned}"
    );
    nmpu_config::NmpuConfig::from_toml_str(&tuned).unwrap();
    for ext in ["accuracy.csv", "accuracy.json", "accuracy.svg"] {
        assert!(out.with_extension(ext).is_file(), "{ext}");
    }
    fails(&["tune", "--budget", "accuracy=x"], "accuracy=0.1");
    fails(&["tune", "--budget", "accuracy=0"], "accuracy=0.1");
    fails(
        &["tune", "--budget", "accuracy=0.1", "--budget", "mean=1"],
        "stands alone",
    );
    fails(
        &["tune", "--budget", "accuracy=0.1", "--input", "x.csv"],
        "drop --coeffs and --input",
    );
}

/// `nmpu prove`: a small config proves; the same Verilog with a planted error (`--rtl`)
/// gives a counterexample and exit 1; a timeout has its own exit code and says nothing
/// is proved; a missing file is an error.
#[test]
#[cfg_attr(
    not(feature = "tools"),
    ignore = "needs Yosys: cargo test --features tools"
)]
fn prove_proves_and_finds_planted_errors() {
    let d = Dir::new();
    let cfg = d.file("p.toml", "columns = 4\nlanes = 2\n");
    let o = nmpu(&["prove", "-c", s(&cfg)]);
    let text = stdout(&o);
    assert!(o.status.success(), "{text}{}", stderr(&o));
    assert!(text.contains("nmpu_core$lanes$1: proved"), "{text}");
    assert!(text.contains("stream (order"), "{text}");
    assert!(text.contains("\nproved in "), "{text}");

    let rtl = d.path("nmpu.v");
    let o = nmpu(&["generate", "-c", s(&cfg), "-o", s(&d.path("rtl"))]);
    assert!(o.status.success(), "{}", stderr(&o));
    let good = std::fs::read_to_string(d.path("rtl/nmpu.v")).unwrap();
    assert!(good.contains("| q[0]);"));
    std::fs::write(&rtl, good.replacen("| q[0]);", "| ~q[0]);", 1)).unwrap();
    let o = nmpu(&["prove", "-c", s(&cfg), "--rtl", s(&rtl)]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{text}{}", stderr(&o));
    assert!(
        text.contains("counterexample in nmpu_core$lanes$0"),
        "{text}"
    );
    assert!(
        text.contains("ADC code x = ") && text.contains("spec: ") && text.contains("lane: "),
        "{text}"
    );

    let big = d.file("big.toml", "columns = 8\nlanes = 1\n");
    let o = nmpu(&["prove", "-c", s(&big), "--timeout", "1"]);
    let text = stdout(&o);
    if o.status.code() == Some(3) {
        assert!(
            text.contains("timeout: ") && text.contains("nothing is proved"),
            "{text}"
        );
    } else {
        // The solver was quicker than a second: then it must have proved.
        assert!(o.status.success(), "{text}{}", stderr(&o));
    }

    let o = nmpu(&["prove", "-c", s(&cfg), "--rtl", s(&d.path("missing.v"))]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("missing.v"), "{}", stderr(&o));
}

/// `nmpu prove --netlist`: a fused lane's post-synthesis netlist proves, its multiplier
/// exhaustively; a netlist synthesized flat (its multiplier mixed into the lane) is
/// refused with the way out.
#[test]
#[cfg_attr(
    not(feature = "tools"),
    ignore = "needs Yosys: cargo test --features tools"
)]
fn prove_netlist_proves_a_synthesized_lane() {
    let d = Dir::new();
    let cfg = d.file("f.toml", "columns = 4\nlanes = 1\nfuse_affine_bn = true\n");
    let o = nmpu(&["prove", "--netlist", "-c", s(&cfg)]);
    let text = stdout(&o);
    assert!(o.status.success(), "{text}{}", stderr(&o));
    assert!(text.contains("synthesized"), "{text}");
    assert!(
        text.contains("(batch_norm multiplier, gate level): v*k on all 2^27 operand pairs"),
        "{text}"
    );
    assert!(text.contains("\nproved in "), "{text}");

    let o = nmpu(&["generate", "-c", s(&cfg), "-o", s(&d.path("rtl"))]);
    assert!(o.status.success(), "{}", stderr(&o));
    let flat = d.path("flat.v");
    let script = format!(
        "read_verilog {}; synth -flatten -top nmpu; write_verilog -noattr {}",
        s(&d.path("rtl/nmpu.v")),
        s(&flat)
    );
    let y = Command::new("yosys")
        .args(["-q", "-p", &script])
        .output()
        .unwrap();
    assert!(y.status.success(), "{}", String::from_utf8_lossy(&y.stderr));
    let o = nmpu(&["prove", "-c", s(&cfg), "--rtl", s(&flat)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("without -flatten"), "{}", stderr(&o));
}
