//! The analog tile the NMPU sits beside, as a library:
//!
//! - [`params`]: every parameter, its default and where the default comes from (IBM
//!   aihwkit's PCM model and I/O parameters, the 64-core chip), and which are assumptions;
//! - [`device`]: PCM conductance pairs: programming (levels, noise), drift, read noise;
//! - [`tile`]: one crossbar: weights programmed into pairs, int8 inputs as PWM pulse
//!   lengths, the analog matrix-vector product with its noise, per-column ADCs with gain
//!   and offset mismatch quantizing to the NMPU's input codes;
//! - [`layer`]: a weight matrix larger than a tile, split over tiles;
//! - [`calibrate`]: the per-column affine correction fitted to measurements (least
//!   squares or Huber), turned into the NMPU's coefficients.
//!
//! Everything is seeded (ChaCha8): the same seed gives the same tile and the same draws on
//! every machine.

pub mod calibrate;
pub mod data;
pub mod device;
pub mod layer;
pub mod params;
pub mod synthetic;
pub mod tile;

pub use calibrate::{CalibrationError, ColumnFit, Method};
pub use layer::{Layer, Matrix};
pub use params::TileParams;
pub use tile::{AdcTruth, Tile};
