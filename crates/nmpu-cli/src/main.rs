//! `nmpu`: the command line. Argument parsing, progress and printing only; every
//! capability is a library crate (see the README's crate graph).

mod accuracy;
mod commands;
mod cosim;
mod io;
mod prove;
mod tune;
mod tune_accuracy;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "nmpu",
    version,
    about = "Near-Memory Processing Unit generator and golden models for analog in-memory computing tiles",
    long_about = "nmpu models the digital unit beside an AIMC crossbar that corrects and finishes each \
                  ADC output (affine correction, batch-norm, ReLU, requantization), bit-exactly in fixed \
                  point, in IEEE binary16 as the FP16 baseline, and in f64 as the reference; generates its \
                  Verilog and proves it equal to the model by co-simulation; synthesizes it with open tools; \
                  and searches the cheapest formats that meet an error budget.\n\n\
                  Every command reads one TOML configuration (--config; the shipped default when omitted). \
                  File formats are documented in the README."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a stream of ADC codes through one model and write the output codes
    Run(commands::RunArgs),
    /// Fixed point vs FP16 vs the f64 reference, side by side, per stage
    Compare(commands::CompareArgs),
    /// Generate the NMPU's synthesizable Verilog (and a filelist) into a directory
    Generate(commands::GenerateArgs),
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
    /// Yosys generic synthesis (crates/nmpu-eda/flows/synth_generic.ys) of each block,
    /// flattened: cell and flip-flop counts, a transistor estimate (`stat -tech cmos` after
    /// mapping to simple gates and D flip-flops), the logic depth (`ltp`), and the osu018
    /// standard cells' area and critical path. With --ice40, the iCE40 flow in an I/O
    /// wrapper: LUTs, DSPs and the Fmax on the UP5K, or the HX8K when the block does not
    /// fit the UP5K.
    Synth(commands::SynthArgs),
    /// Fixed-point NMPU vs the FP16 baseline, side by side: area, depth, latency,
    /// throughput per area, accuracy against f64
    ///
    /// Synthesizes small variants of both datapaths (a lane of one word, a lane of its
    /// words, a unit of two lanes) and composes the unit; with --whole also the unit as
    /// configured; with --ice40 one lane also goes through the iCE40 flow. Accuracy: both
    /// golden models against the f64 reference on a synthetic tile (as `nmpu compare`).
    Report(commands::ReportArgs),
    /// Validate a configuration and print it with every field filled in
    Config(commands::ConfigArgs),
    /// Precision search: the cheapest formats (by a lane-area model fitted to synthesis)
    /// that meet an error budget on the data; writes the tuned config and its Pareto fronts
    Tune(Box<tune::TuneArgs>),
    /// Write a seeded synthetic tile: coefficients and ADC codes
    GenData(commands::GenDataArgs),
    /// Fit each column's affine correction to measurements (reference values and the ADC
    /// codes observed for them) and write the coefficient file
    ///
    /// Per column, least squares (or Huber's M-estimator) of `code = gain * y + offset`,
    /// leaving out codes at the ADC's limits; the NMPU's `a = 1/gain`, `b = -offset/gain`
    /// on the config's formats. A dead column, a NaN, too few points or a coefficient
    /// outside its format is an error naming the column; nothing is clipped.
    Calibrate(commands::CalibrateArgs),
    /// A trained network's test accuracy through the simulated tiles with the f64, FP16
    /// and fixed-point NMPUs, over analog seeds, paired
    ///
    /// Trains (once; cached in $NMPU_CACHE_DIR/nets or the temp dir) an MLP on the
    /// dataset, programs each weight layer on a tile per analog seed, calibrates each
    /// tile's affine correction, and runs the test images through tiles and NMPUs. For a
    /// seed all variants see the same conductances, ADC mismatch and noise draws, so the
    /// fixed-minus-FP16 difference is the NMPUs'; its mean over seeds comes with a 95 %
    /// bootstrap interval and each seed with McNemar's test. Also: uncalibrated and
    /// mismatch-free tiles, and per layer the element errors of each NMPU.
    Accuracy(accuracy::AccuracyArgs),
    /// Formal proof (Yosys SAT) that every generated lane equals the arithmetic spec
    ///
    /// For every ADC code and every coefficient code: the lane, its banks and multipliers
    /// cut out, beside a spec written independently from docs/arithmetic.md; each
    /// multiplier's operands must equal the spec's, and its product is the spec's. Exit 0
    /// proved, 1 counterexample (printed: code, coefficients, spec and lane values) or
    /// error, 3 timeout.
    Prove(prove::ProveArgs),
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Prove(a) => {
            return prove::prove(&a).unwrap_or_else(|e| {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            })
        }
        Command::Run(a) => commands::run(&a),
        Command::Compare(a) => commands::compare(&a),
        Command::Generate(a) => commands::generate(&a),
        Command::Cosim(a) => cosim::cosim(&a),
        Command::Synth(a) => commands::synth(&a),
        Command::Report(a) => commands::report(&a),
        Command::Config(a) => commands::config(&a),
        Command::Tune(a) => tune::tune(&a),
        Command::Accuracy(a) => accuracy::accuracy(&a),
        Command::GenData(a) => commands::gen_data(&a),
        Command::Calibrate(a) => commands::calibrate(&a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
