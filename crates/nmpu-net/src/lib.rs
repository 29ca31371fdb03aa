//! A network on a real dataset through the simulated tiles and the NMPU.
//!
//! - [`data`]: Fashion-MNIST (Debian's dataset-fashion-mnist) and the UCI digits;
//! - [`mlp`]: the trained network as numbers, and its float forward pass;
//! - [`train`]: training with candle, seeded and cached;
//! - [`analog`]: the network's layers programmed on tiles and calibrated, with the code
//!   scales between layers;
//! - [`stage`]: the NMPU after each tile (f64, FP16, or a config's fixed point);
//! - [`infer`]: images through tiles and NMPUs, paired noise per image, on all cores;
//! - [`stats`]: spreads, the paired interval, McNemar's test;
//! - [`accuracy`]: the `nmpu accuracy` report, and [`report`] its table and plot;
//! - [`tune`]: the accuracy budget of `nmpu tune`, and [`tune_report`] its outputs.

pub mod accuracy;
pub mod analog;
pub mod data;
pub mod infer;
pub mod mlp;
pub mod report;
pub mod stage;
pub mod stats;
pub mod train;
pub mod tune;
pub mod tune_report;
