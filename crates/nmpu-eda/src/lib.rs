//! The open EDA flows nmpu drives, as a library:
//!
//! - [`tools`]: which tools are installed, their versions, what to install when one is
//!   missing, and the known Verilator 5.006 miscompile;
//! - [`process`]: the one way a tool is run (output captured, a failure's tail shown);
//! - [`workdir`]: a working directory, the user's (kept) or a temporary one (removed);
//! - [`jobs`]: runs independent tool jobs on every core;
//! - [`parse`]: the parsers of Yosys, ABC and nextpnr logs;
//! - [`yosys`]: synthesis on generic gates and on the osu018 standard cells ([`liberty`]);
//! - [`ice40`]: the iCE40 flow (`synth_ice40`, `nextpnr-ice40`) in an I/O wrapper;
//! - [`synth`]: the designs `nmpu synth` knows and their figures;
//! - [`report`]: the fixed-point NMPU against the FP16 baseline, composed from syntheses;
//! - [`lanes`]: lane syntheses for the precision search (`nmpu_tune::LaneSynth`).
//!
//! The flow scripts are this crate's `flows/`.

pub mod ice40;
pub mod jobs;
pub mod lanes;
pub mod liberty;
pub mod parse;
pub mod process;
pub mod prove;
pub mod report;
pub mod synth;
pub mod tools;
pub mod workdir;
pub mod yosys;

pub use tools::{Tool, ToolVersions};
pub use workdir::WorkDir;
