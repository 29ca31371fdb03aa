//! The NMPU configuration shared by the golden model, the RTL generator and the
//! verification harness. It holds types and validation only, no arithmetic: the two
//! sides of the co-simulation must each implement the arithmetic on their own.

mod config;
mod error;
mod format;
mod shape;
mod validate;

pub use config::{
    fnv1a, AdcConfig, CoefficientFormats, DacConfig, NmpuConfig, StageConfig, DEFAULT_CONFIG_TOML,
};
pub use error::ConfigError;
pub use format::{Activation, Overflow, QFormat, Rounding};
pub use shape::{ports, MacShape};
pub use validate::limits;

#[cfg(feature = "strategies")]
pub mod strategies;
