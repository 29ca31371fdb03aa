//! The NMPU hardware description on rust-hdl: `generate` turns an `NmpuConfig` into
//! synthesizable Verilog. Stages carry the names of docs/arithmetic.md and the golden model
//! (`affine`, absent when fused; `batch_norm`, the one multiply-add when fused; `activation`;
//! `requantize`); the arithmetic is this crate's own reading of docs/arithmetic.md and
//! shares no code with the model.

pub mod adc;
pub mod bank;
pub mod dac;
pub mod dedup;
pub mod exact;
pub mod fp16_convert;
pub mod fp16_fma;
pub mod fp16_lane;
pub mod fused_lane;
pub mod generate;
pub mod lane;
pub mod mac;
pub mod params;
pub mod range;
pub mod regs;
pub mod requantize;
pub mod tile_io;
pub mod top;
pub mod wrapper;

pub use fp16_lane::FP16_LATENCY;
pub use generate::{generate, Block, RtlFiles};
pub use top::LATENCY;
