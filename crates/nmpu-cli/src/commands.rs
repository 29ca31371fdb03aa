//! The commands that need no more than a call into a library and a print.

use crate::io::{describe_config, load_config, write_json, write_out, DataArgs};
use crate::Engine;
use anyhow::{Context, Result};
use nmpu_config::DEFAULT_CONFIG_TOML;
use nmpu_eda::report::ReportArgs;
use nmpu_eda::WorkDir;
use nmpu_model::data::{load_coeffs, load_input, rows_to_csv};
use nmpu_model::{quantize, to_f16, F64Model, FixedModel, Fp16Model, TileModel};
use std::path::Path;

pub fn run(
    config: Option<&Path>,
    coeffs: &Path,
    input: &Path,
    output: &Path,
    engine: Engine,
) -> Result<()> {
    let cfg = load_config(config)?;
    let real = load_coeffs(coeffs, &cfg)?;
    let rows = load_input(input, &cfg)?;
    let mut out = vec![vec![0i64; cfg.columns as usize]; rows.len()];
    match engine {
        Engine::Fixed => {
            let (codes, report) = quantize(&cfg, &real)?;
            if !report.saturated.is_empty() {
                eprintln!("warning: coefficient quantization: {}", report.summary());
            }
            let m = FixedModel::new(&cfg, codes)?;
            for (i, (x, o)) in rows.iter().zip(out.iter_mut()).enumerate() {
                m.run(0, x, o).with_context(|| format!("input row {i}"))?;
            }
        }
        Engine::Fp16 => {
            let (c, overflowed) = to_f16(&cfg, &real)?;
            for s in &overflowed {
                eprintln!(
                    "warning: coefficient {}[{}] = {} overflows binary16 to {}",
                    s.name, s.column, s.real, s.became
                );
            }
            let m = Fp16Model::new(&cfg, c)?;
            for (x, o) in rows.iter().zip(out.iter_mut()) {
                for (col, (&x, o)) in x.iter().zip(o.iter_mut()).enumerate() {
                    *o = m.trace(col, x).output;
                }
            }
        }
        Engine::F64 => {
            let m = F64Model::new(&cfg, real)?;
            for (x, o) in rows.iter().zip(out.iter_mut()) {
                for (col, (&x, o)) in x.iter().zip(o.iter_mut()).enumerate() {
                    *o = m.trace(col, x).output;
                }
            }
        }
    }
    write_out(output, &rows_to_csv(&out))
}

pub fn compare(d: &DataArgs, json: bool) -> Result<()> {
    let cfg = load_config(d.config.as_deref())?;
    let data = d.load(&cfg)?;
    let cmp = nmpu_model::compare(&cfg, &data.coeffs, &data.rows)?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&cmp).context("cannot serialize the comparison")?
        );
    } else {
        let name = describe_config(d.config.as_deref());
        print!(
            "{}",
            nmpu_model::table::render(&cfg, &name, &data.coeffs_source, &data.rows_source, &cmp)
        );
    }
    Ok(())
}

pub fn config(config: Option<&Path>, default: bool) -> Result<()> {
    if default {
        print!("{DEFAULT_CONFIG_TOML}");
        return Ok(());
    }
    let cfg = load_config(config)?;
    eprintln!("{}: valid", describe_config(config));
    print!("{}", cfg.to_toml_string());
    Ok(())
}

pub fn gen_data(
    config: Option<&Path>,
    coeffs_out: &Path,
    input_out: &Path,
    rows: usize,
    seed: u64,
) -> Result<()> {
    let cfg = load_config(config)?;
    anyhow::ensure!(rows > 0, "--rows must be at least 1");
    let tile = TileModel::default().generate(&cfg, rows, seed);
    write_out(coeffs_out, &tile.coeffs.to_csv())?;
    write_out(input_out, &rows_to_csv(&tile.rows))?;
    eprintln!(
        "wrote {} ({} columns) and {} ({rows} rows)",
        coeffs_out.display(),
        cfg.columns,
        input_out.display()
    );
    Ok(())
}

pub fn generate(config: Option<&Path>, out: &Path) -> Result<()> {
    let cfg = load_config(config)?;
    let rtl = nmpu_rtl::generate(&cfg)?;
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create output directory {}", out.display()))?;
    for (name, text) in rtl.files() {
        let path = out.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote {} ({} bytes)", path.display(), text.len());
    }
    Ok(())
}

pub fn synth(
    config: Option<&Path>,
    block: &str,
    ice40: bool,
    json: Option<&Path>,
    work: Option<&Path>,
) -> Result<()> {
    let cfg = load_config(config)?;
    let designs = nmpu_eda::synth::designs(block)?;
    let dir = WorkDir::new(work, "synth")?;
    let costs = nmpu_eda::synth::synth(&cfg, &designs, ice40, dir.path(), |m| {
        eprintln!("synth: {m}")
    })?;
    print!("{}", nmpu_eda::synth::table(&costs));
    if let Some(path) = json {
        write_json(path, &costs)?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub fn report(
    config: Option<&Path>,
    rows: usize,
    seed: u64,
    whole: bool,
    ice40: bool,
    json: Option<&Path>,
    work: Option<&Path>,
) -> Result<()> {
    let cfg = load_config(config)?;
    let dir = WorkDir::new(work, "report")?;
    let args = ReportArgs {
        rows,
        seed,
        ice40,
        whole,
        work: dir.path(),
    };
    let r = nmpu_eda::report::build(&cfg, &args, |m| eprintln!("report: {m}"))?;
    print!("{}", nmpu_eda::report::render(&r, &describe_config(config)));
    if let Some(path) = json {
        write_json(path, &r)?;
    }
    Ok(())
}
