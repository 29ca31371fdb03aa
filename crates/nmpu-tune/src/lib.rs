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
//! - [`report`]: the tuned config with its header, the fronts as CSV and JSON.
//!
//! Nothing here synthesizes or generates hardware: the caller (the `nmpu tune` command)
//! supplies synthesized areas to fit and confirm the cost model.

pub mod budget;
pub mod cost;
pub mod data;
pub mod metrics;
pub mod plot;
pub mod report;
pub mod search;
pub mod space;

pub use budget::Budget;
pub use cost::CostModel;
pub use data::TuneData;
pub use metrics::Metrics;
pub use search::{search, Evaluated, Outcome};
pub use space::{Knobs, Space};
