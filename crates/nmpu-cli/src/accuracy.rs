//! `nmpu accuracy`: parses, shows progress, prints the table and writes the JSON and plot.
//! The work is nmpu_net::accuracy.

use crate::io::{describe_config, load_config, write_out};
use anyhow::{ensure, Result};
use indicatif::{ProgressBar, ProgressStyle};
use nmpu_net::accuracy::{accuracy as run, Setup, DEFAULT_SEEDS};
use nmpu_net::data::Which;
use nmpu_net::report::{svg, table};
use nmpu_net::train::cache_dir;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Dataset {
    /// Fashion-MNIST (Debian's dataset-fashion-mnist; `make deps` installs it)
    Fashion,
    /// The UCI digits (shipped; seconds)
    Digits,
}

impl Dataset {
    pub fn which(self) -> Which {
        match self {
            Dataset::Fashion => Which::Fashion,
            Dataset::Digits => Which::Digits,
        }
    }
}

#[derive(clap::Args)]
pub struct AccuracyArgs {
    /// Configuration TOML of the fixed-point NMPU (default: configs/default.toml)
    #[arg(long, short)]
    config: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Dataset::Fashion)]
    dataset: Dataset,
    /// Analog seeds (tiles programmed, ADC mismatch and noise drawn anew for each)
    #[arg(long, default_value_t = DEFAULT_SEEDS)]
    seeds: usize,
    /// The first analog seed; the others follow it
    #[arg(long, default_value_t = 1)]
    first_seed: u64,
    /// Write the report as JSON here (`-`: stdout)
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the accuracy per seed as an SVG plot here
    #[arg(long)]
    plot: Option<PathBuf>,
}

pub fn accuracy(a: &AccuracyArgs) -> Result<()> {
    ensure!(a.seeds >= 1, "--seeds must be at least 1");
    let cfg = load_config(a.config.as_deref())?;
    let which = a.dataset.which();
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} accuracy: {msg} [{elapsed}]").unwrap());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar.set_message("loading the dataset and the network");
    let setup = Setup::new(which, &cfg, &cache_dir(), &|epoch, loss| {
        bar.set_message(format!("training: epoch {epoch} done, loss {loss:.4}"))
    })?;
    if !setup.cached {
        bar.println(format!(
            "accuracy: trained the network and kept it in {}",
            cache_dir().display()
        ));
    }
    let seeds: Vec<u64> = (0..a.seeds as u64)
        .map(|i| a.first_seed.wrapping_add(i))
        .collect();
    bar.set_style(
        ProgressStyle::with_template("accuracy: analog seeds {bar:30} {pos}/{len} [{elapsed}]")
            .unwrap(),
    );
    bar.set_length(seeds.len() as u64);
    let report = run(&setup, &cfg, &seeds, &|done| bar.set_position(done as u64))?;
    bar.finish_and_clear();
    let name = describe_config(a.config.as_deref());
    print!("{}", table(&report, &name));
    if let Some(p) = &a.json {
        write_out(p, &(serde_json::to_string_pretty(&report)? + "\n"))?;
        if p.as_os_str() != "-" {
            println!("wrote {}", p.display());
        }
    }
    if let Some(p) = &a.plot {
        write_out(p, &svg(&report, &name)?)?;
        println!("wrote {}", p.display());
    }
    Ok(())
}
