//! The commands that need no more than a call into a library and a print.

use crate::io::{describe_config, load_config, write_json, write_out, DataArgs};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use nmpu_config::DEFAULT_CONFIG_TOML;
use nmpu_eda::WorkDir;
use nmpu_model::data::{
    load_coeffs, load_input, load_reals, rows_to_csv, write_codes, write_coeffs, write_reals,
};
use nmpu_tile::calibrate::{self, BatchNorm, Method};
use nmpu_tile::synthetic::Synthetic;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// The bit-exact fixed-point NMPU
    Fixed,
    /// The FP16 baseline: binary16 with two singly rounded FMAs
    Fp16,
    /// The reference: real coefficients in f64, output rounded half-even once
    F64,
}

#[derive(Args)]
pub struct RunArgs {
    /// Configuration TOML (default: the shipped configs/default.toml)
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Coefficients: CSV with header `column,a,b,g,h`, one row of real values per column,
    /// or `.npy` (float, shape (columns, 4))
    #[arg(long, short = 'k')]
    coeffs: PathBuf,
    /// Input: CSV with one row of `columns` signed ADC codes per vector, or `.npy`
    /// (int8/16/32/64, shape (rows, columns))
    #[arg(long, short)]
    input: PathBuf,
    /// Output codes (same shape as the input): CSV, or `.npy` (int64); `-` for stdout
    #[arg(long, short, default_value = "-")]
    output: PathBuf,
    #[arg(long, short, value_enum, default_value_t = Engine::Fixed)]
    engine: Engine,
}

pub fn run(a: &RunArgs) -> Result<()> {
    let cfg = load_config(a.config.as_deref())?;
    let real = load_coeffs(&a.coeffs, &cfg)?;
    let rows = load_input(&a.input, &cfg)?;
    let engine = match a.engine {
        Engine::Fixed => nmpu_model::engine::Engine::Fixed,
        Engine::Fp16 => nmpu_model::engine::Engine::Fp16,
        Engine::F64 => nmpu_model::engine::Engine::F64,
    };
    let r = nmpu_model::engine::run_rows(&cfg, &real, &rows, engine)?;
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
    if a.output == std::path::Path::new("-") {
        return write_out(&a.output, &rows_to_csv(&r.outputs));
    }
    Ok(write_codes(&a.output, &r.outputs)?)
}

#[derive(Args)]
pub struct CompareArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Print the figures as JSON instead of a table
    #[arg(long)]
    json: bool,
}

pub fn compare(a: &CompareArgs) -> Result<()> {
    let d = &a.data;
    let cfg = load_config(d.config.as_deref())?;
    let data = d.load(&cfg)?;
    let cmp = nmpu_model::compare(&cfg, &data.coeffs, &data.rows)?;
    if a.json {
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

#[derive(Args)]
pub struct ConfigArgs {
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Print the documented default configuration file instead
    #[arg(long, conflicts_with = "config")]
    default: bool,
}

pub fn config(a: &ConfigArgs) -> Result<()> {
    if a.default {
        print!("{DEFAULT_CONFIG_TOML}");
        return Ok(());
    }
    let cfg = load_config(a.config.as_deref())?;
    eprintln!("{}: valid", describe_config(a.config.as_deref()));
    print!("{}", cfg.to_toml_string());
    Ok(())
}

#[derive(Args)]
pub struct GenDataArgs {
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Where to write the coefficients (CSV, or `.npy` by the extension)
    #[arg(long)]
    coeffs_out: PathBuf,
    /// Where to write the input codes (CSV, or `.npy` by the extension)
    #[arg(long)]
    input_out: PathBuf,
    #[arg(long, default_value_t = 100)]
    rows: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also write calibration measurements of the same tile: the ideal outputs here (the
    /// `--reference` of `nmpu calibrate`) ...
    #[arg(long, requires = "codes_out")]
    reference_out: Option<PathBuf>,
    /// ... and their ADC codes here (its `--codes`)
    #[arg(long, requires = "reference_out")]
    codes_out: Option<PathBuf>,
    /// Calibration measurements to write (the first 256 are those the tile's coefficients
    /// were fitted to)
    #[arg(long, default_value_t = 256)]
    measurements: usize,
}

pub fn gen_data(a: &GenDataArgs) -> Result<()> {
    let cfg = load_config(a.config.as_deref())?;
    anyhow::ensure!(a.rows > 0, "--rows must be at least 1");
    let tile = Synthetic::for_config(&cfg)
        .generate(&cfg, a.rows, a.seed)
        .map_err(anyhow::Error::msg)?;
    write_coeffs(&a.coeffs_out, &tile.coeffs)?;
    write_codes(&a.input_out, &tile.rows)?;
    if let (Some(r), Some(c)) = (&a.reference_out, &a.codes_out) {
        let (refs, codes) = Synthetic::for_config(&cfg)
            .measurements(&cfg, a.measurements, a.seed)
            .map_err(anyhow::Error::msg)?;
        write_reals(r, &refs)?;
        write_codes(c, &codes)?;
        eprintln!(
            "wrote {} and {} ({} measurements)",
            r.display(),
            c.display(),
            a.measurements
        );
    }
    eprintln!(
        "wrote {} ({} columns) and {} ({} rows)",
        a.coeffs_out.display(),
        cfg.columns,
        a.input_out.display(),
        a.rows
    );
    Ok(())
}

#[derive(Args)]
pub struct GenerateArgs {
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Output directory (created if missing)
    #[arg(long, short, default_value = "rtl_out")]
    out: PathBuf,
}

pub fn generate(a: &GenerateArgs) -> Result<()> {
    let (cfg, out) = (load_config(a.config.as_deref())?, &a.out);
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

#[derive(Args)]
pub struct SynthArgs {
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// nmpu, adc_capture, tile_io, pwm_dac, nmpu_fp16 (the FP16 baseline), nmpu_ref (the
    /// hand-written reference NMPU), a comma-separated list, or all (the generated ones but
    /// the structural tile_io)
    #[arg(long, default_value = "nmpu")]
    block: String,
    /// Also run the iCE40 flow (synth_ice40 -dsp, nextpnr-ice40)
    #[arg(long)]
    ice40: bool,
    /// Write the figures as JSON to this file
    #[arg(long)]
    json: Option<PathBuf>,
    /// Working directory for the tools' files (default: a fresh temporary one, removed)
    #[arg(long)]
    work: Option<PathBuf>,
}

pub fn synth(a: &SynthArgs) -> Result<()> {
    let cfg = load_config(a.config.as_deref())?;
    let designs = nmpu_eda::synth::designs(&a.block)?;
    let dir = WorkDir::new(a.work.as_deref(), "synth")?;
    let costs = nmpu_eda::synth::synth(&cfg, &designs, a.ice40, dir.path(), |m| {
        eprintln!("synth: {m}")
    })?;
    print!("{}", nmpu_eda::synth::table(&costs));
    if let Some(path) = &a.json {
        write_json(path, &costs)?;
    }
    Ok(())
}

#[derive(Args)]
pub struct ReportArgs {
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Rows of synthetic input for the accuracy comparison
    #[arg(long, default_value_t = 1000)]
    rows: usize,
    /// Seed of the synthetic data
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also synthesize the whole unit as configured, to check the composed figures
    /// (slow for large configs)
    #[arg(long)]
    whole: bool,
    /// Also place and route one lane of each on the iCE40 (Fmax)
    #[arg(long)]
    ice40: bool,
    /// Write the figures as JSON to this file
    #[arg(long)]
    json: Option<PathBuf>,
    /// Working directory for the tools' files (default: a fresh temporary one, removed)
    #[arg(long)]
    work: Option<PathBuf>,
}

pub fn report(a: &ReportArgs) -> Result<()> {
    let cfg = load_config(a.config.as_deref())?;
    let dir = WorkDir::new(a.work.as_deref(), "report")?;
    let args = nmpu_eda::report::ReportArgs {
        rows: a.rows,
        seed: a.seed,
        ice40: a.ice40,
        whole: a.whole,
        work: dir.path(),
    };
    let r = nmpu_eda::report::build(&cfg, &args, |m| eprintln!("report: {m}"))?;
    let name = describe_config(a.config.as_deref());
    print!("{}", nmpu_eda::report::render(&r, &name));
    if let Some(path) = &a.json {
        write_json(path, &r)?;
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FitMethod {
    /// Least squares
    Ls,
    /// Huber's M-estimator (outliers weigh less)
    Huber,
}

#[derive(Args)]
pub struct CalibrateArgs {
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Reference values: one row per measurement, one real value (the ideal output) per
    /// column; CSV or `.npy` (float32/64, shape (measurements, columns))
    #[arg(long, short)]
    reference: PathBuf,
    /// The ADC codes observed for them, same shape; CSV or `.npy` (int8/16/32/64)
    #[arg(long)]
    codes: PathBuf,
    #[arg(long, value_enum, default_value_t = FitMethod::Ls)]
    method: FitMethod,
    /// Keep the batch-norm coefficients `g`, `h` of this coefficient file (default: `g`
    /// maps the largest |reference| onto the output's largest value, `h = 0`)
    #[arg(long)]
    bn: Option<PathBuf>,
    /// The coefficient file to write (CSV, or `.npy` by the extension), read by `run`,
    /// `compare` and `tune`
    #[arg(long, short)]
    out: PathBuf,
    /// Columns listed as the worst (largest residual)
    #[arg(long, default_value_t = 5)]
    worst: usize,
}

/// `nmpu calibrate`: the per-column affine correction fitted to measurements.
pub fn calibrate(a: &CalibrateArgs) -> Result<()> {
    let cfg = load_config(a.config.as_deref())?;
    let columns = cfg.columns as usize;
    let reference = load_reals(&a.reference, columns, "reference")?;
    let codes = load_input(&a.codes, &cfg)?;
    let half = 1i64 << (cfg.in_bits - 1);
    let method = match a.method {
        FitMethod::Ls => Method::LeastSquares,
        FitMethod::Huber => Method::Huber,
    };
    let fits = calibrate::fit(&reference, &codes, method, Some((-half, half - 1)))?;
    let bn = match &a.bn {
        Some(p) => {
            let k = load_coeffs(p, &cfg)?;
            BatchNorm::Columns { g: k.g, h: k.h }
        }
        None => BatchNorm::spanning(&reference, &cfg),
    };
    let k = calibrate::coefficients(&fits, &cfg, &bn)?;
    write_coeffs(&a.out, &k)?;
    print!("{}", calibrate::summary(&fits, a.worst));
    println!(
        "wrote {} ({} columns, on the config's coefficient formats{})",
        a.out.display(),
        columns,
        if cfg.fuse_affine_bn {
            "; fused: the folded pair in a and b, g = 1, h = 0"
        } else {
            ""
        }
    );
    Ok(())
}
