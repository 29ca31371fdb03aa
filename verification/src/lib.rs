//! Verification of the generated NMPU RTL against the golden model.

pub mod adc_cosim;
pub mod check;
pub mod cosim;
pub mod coverage;
pub mod crossbar;
pub mod dac_cosim;
pub mod icarus;
pub mod nmpu_dut;
pub mod plan;
pub mod stimulus;
pub mod verilator;
