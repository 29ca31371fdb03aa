//! `nmpu`: the command line. Argument parsing, progress and printing only; every
//! capability is a library crate (see the README's crate graph).

mod commands;
mod cosim;
mod io;
mod tune;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "nmpu",
    version,
    about = "Near-Memory Processing Unit generator and golden models for analog in-memory computing tiles",
    long_about = "nmpu models the digital unit beside an AIMC crossbar that corrects and finishes each \
                  ADC output (affine correction, batch-norm, ReLU, requantization), bit-exactly in fixed \
                  point, in IEEE binary16 as the FP16 baseline, and in f64 as the reference.\n\n\
                  Every command reads one TOML configuration (--config; the shipped default when omitted). \
                  File formats are documented in the README."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// The bit-exact fixed-point NMPU
    Fixed,
    /// The FP16 baseline: binary16 with two singly rounded FMAs
    Fp16,
    /// The reference: real coefficients in f64, output rounded half-even once
    F64,
}

#[derive(Subcommand)]
enum Command {
    /// Run a stream of ADC codes through one model and write the output codes
    Run {
        /// Configuration TOML (default: the shipped configs/default.toml)
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Coefficient CSV: header `column,a,b,g,h`, one row of real values per column
        #[arg(long, short = 'k')]
        coeffs: PathBuf,
        /// Input CSV: one row of `columns` signed ADC codes per vector
        #[arg(long, short)]
        input: PathBuf,
        /// Output CSV (same shape as the input, output codes); `-` for stdout
        #[arg(long, short, default_value = "-")]
        output: PathBuf,
        #[arg(long, short, value_enum, default_value_t = Engine::Fixed)]
        engine: Engine,
    },
    /// Fixed point vs FP16 vs the f64 reference, side by side, per stage
    Compare {
        #[command(flatten)]
        data: io::DataArgs,
        /// Print the figures as JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Generate the NMPU's synthesizable Verilog (and a filelist) into a directory
    Generate {
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Output directory (created if missing)
        #[arg(long, short, default_value = "rtl_out")]
        out: PathBuf,
    },
    /// Co-simulate the generated RTL (Verilator) against the golden model, bit for bit
    ///
    /// Builds (or takes from the cache, $NMPU_CACHE_DIR or the temp dir) a Verilated model
    /// of the config's RTL, loads coefficients through the configuration port and streams
    /// corner sweeps, random vectors with random gaps and stalls, and resets in mid-stream;
    /// then the same kind of vectors through Icarus Verilog, and the ADC capture and PWM DAC
    /// blocks against their cycle models. Stops at the first mismatch
    /// with a report, the config and a VCD of the failing window, and a replay command.
    Cosim(cosim::CosimArgs),
    /// Synthesize the generated blocks with open tools: cells, flip-flops, transistors, depth
    ///
    /// Yosys generic synthesis (constraints/synth_generic.ys) of each block, flattened:
    /// cell and flip-flop counts, a transistor estimate (`stat -tech cmos` after mapping to
    /// simple gates and D flip-flops) and the logic depth (`ltp`). With --ice40, the iCE40
    /// flow (constraints/synth_ice40.ys, nextpnr-ice40) in an I/O wrapper: LUTs, DSPs and
    /// the Fmax on the UP5K, or the HX8K when the block does not fit the UP5K.
    Synth {
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// nmpu, adc_capture, pwm_dac, nmpu_fp16 (the FP16 baseline), nmpu_ref (the
        /// hand-written reference NMPU), a comma-separated list, or all (the generated ones)
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
    },
    /// Fixed-point NMPU vs the FP16 baseline, side by side: area, depth, latency,
    /// throughput per area, accuracy against f64
    ///
    /// Synthesizes both tops (Yosys generic flow, as `nmpu synth`) for the config as given
    /// and for one lane and one column (a lane's datapath without coefficient memory);
    /// with --ice40 that lane also goes through the iCE40 flow for LUTs, DSPs and Fmax. Accuracy: both golden models
    /// against the f64 reference on a synthetic tile (as `nmpu compare`). Takes minutes
    /// for large configs.
    Report {
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
    },
    /// Validate a configuration and print it with every field filled in
    Config {
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Print the documented default configuration file instead
        #[arg(long, conflicts_with = "config")]
        default: bool,
    },
    /// Precision search: the cheapest formats (by a lane-area model fitted to synthesis)
    /// that meet an error budget on the data; writes the tuned config and its Pareto fronts
    Tune(tune::TuneArgs),
    /// Write a seeded synthetic tile: coefficient CSV and ADC-code CSV
    GenData {
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Where to write the coefficient CSV
        #[arg(long)]
        coeffs_out: PathBuf,
        /// Where to write the input CSV
        #[arg(long)]
        input_out: PathBuf,
        #[arg(long, default_value_t = 100)]
        rows: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run {
            config,
            coeffs,
            input,
            output,
            engine,
        } => commands::run(config.as_deref(), &coeffs, &input, &output, engine),
        Command::Compare { data, json } => commands::compare(&data, json),
        Command::Generate { config, out } => commands::generate(config.as_deref(), &out),
        Command::Cosim(args) => cosim::cosim(&args),
        Command::Tune(args) => tune::tune(&args),
        Command::Synth {
            config,
            block,
            ice40,
            json,
            work,
        } => commands::synth(
            config.as_deref(),
            &block,
            ice40,
            json.as_deref(),
            work.as_deref(),
        ),
        Command::Report {
            config,
            rows,
            seed,
            whole,
            ice40,
            json,
            work,
        } => commands::report(
            config.as_deref(),
            rows,
            seed,
            whole,
            ice40,
            json.as_deref(),
            work.as_deref(),
        ),
        Command::Config { config, default } => commands::config(config.as_deref(), default),
        Command::GenData {
            config,
            coeffs_out,
            input_out,
            rows,
            seed,
        } => commands::gen_data(config.as_deref(), &coeffs_out, &input_out, rows, seed),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
