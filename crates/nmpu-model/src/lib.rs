//! Golden models of the NMPU, bit-exact and free of hardware types:
//!
//! - [`FixedModel`]: the fixed-point NMPU of docs/arithmetic.md, integer arithmetic only;
//! - [`Fp16Model`]: the FP16 baseline (IEEE binary16, singly rounded FMAs);
//! - [`F64Model`]: the reference with real coefficients.
//!
//! Stage names (`affine`, `batch_norm`, `activation`, `requantize`) match the RTL's.

pub mod adc;
pub mod coeffs;
pub mod compare;
pub mod dac;
pub mod data;
pub mod engine;
mod error;
mod fast;
pub mod fixed;
pub mod fp16;
pub mod metrics;
pub mod npy;
pub mod primitives;
pub mod reference;
pub mod stages;
pub mod table;

pub use coeffs::{quantize, quantize_real, to_f16, CoeffCodes, F16Coeffs, QuantReport, RealCoeffs};
pub use compare::{compare, Comparison, EngineReport};
pub use error::ModelError;
pub use fixed::{FixedModel, FixedTrace};
pub use fp16::{Fp16Model, Fp16Trace};
pub use metrics::{ErrStats, Metrics};
pub use reference::{F64Model, RefTrace};
