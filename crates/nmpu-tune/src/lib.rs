//! Precision search: which formats does an NMPU need for its data?
//!
//! - [`data`]: the data a search is judged on (real coefficients, ADC codes) with the f64
//!   reference's outputs computed once;
//! - [`metrics`]: a candidate's errors against that reference, on all cores;
//! - [`budget`]: what "good enough" means (element-level or noise-referred);
//! - [`space`]: the searched knobs and the integer bits range analysis gives them;
//! - [`cost`]: a lane-area model, linear in width features, fitted to synthesized lanes;
//! - [`search`]: the descent that finds the cheapest candidate meeting every budget, and
//!   the Pareto front of everything it evaluated;
//! - [`report`]: the tuned config with its header, the fronts as CSV and JSON;
//! - [`job`]: a run from request to written files: shards and their merge, the held-out
//!   check, the lanes that confirm the answer;
//! - [`lanes`]: the trait through which synthesized lane areas come in.
//!
//! Nothing here synthesizes or generates hardware: the caller supplies synthesized areas
//! through [`LaneSynth`] (nmpu-eda implements it with Yosys).

pub mod budget;
pub mod cost;
pub mod data;
pub mod job;
pub mod judge;
pub mod lanes;
pub mod metrics;
pub mod plot;
pub mod report;
pub mod search;
pub mod space;
pub mod summary;

pub use budget::Budget;
pub use cost::CostModel;
pub use data::TuneData;
pub use judge::Judge;
pub use lanes::{LaneFigures, LaneJob, LaneKind, LaneSynth};
pub use metrics::Metrics;
pub use search::{search, Evaluated, Outcome};
pub use space::{Knobs, Space};
