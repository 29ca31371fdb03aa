//! A network on a real dataset through the simulated tiles and the NMPU.
//!
//! - [`data`]: Fashion-MNIST (Debian's dataset-fashion-mnist) and the UCI digits;
//! - [`mlp`]: the trained network as numbers, and its float forward pass;
//! - [`train`]: training with candle, seeded and cached.

pub mod data;
pub mod mlp;
pub mod train;
