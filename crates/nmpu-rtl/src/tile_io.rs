//! The tile's digital output chain: ADC capture -> NMPU, as a structural Verilog top that
//! instantiates the two generated modules (`adc_capture`, `nmpu`) by name. The ADC's output
//! stream is the NMPU's input stream; the configuration port and the NMPU's output stream
//! are the chain's.

use crate::params::{CFG_DATA_BITS, COL_BITS, IN_LANE_BITS, OUT_LANE_BITS};
use nmpu_config::NmpuConfig;
use std::fmt::Write as _;

/// Name of the chain's top module.
pub const TILE_IO_MODULE: &str = "tile_io";

/// The structural top for `cfg` (its `columns` and `lanes` fix the bus widths). Its ports
/// and its two instances use the documented tops' packed buses.
pub fn tile_io_verilog(cfg: &NmpuConfig) -> String {
    let (n, l) = (cfg.columns as usize, cfg.lanes as usize);
    let ports = [
        "clock",
        "reset",
        "start",
        "start_ready",
        "pulse_pos",
        "pulse_neg",
        "m_valid",
        "m_ready",
        "m_col",
        "m_y",
        "cfg_we",
        "cfg_sel",
        "cfg_col",
        "cfg_data",
    ];
    let mut v = String::new();
    let _ = writeln!(v, "module {TILE_IO_MODULE}({});", ports.join(", "));
    let _ = writeln!(
        v,
        "    input wire clock;\n    input wire reset;\n    input wire start;\n    output wire start_ready;"
    );
    let _ = writeln!(
        v,
        "    input wire [{c}:0] pulse_pos;\n    input wire [{c}:0] pulse_neg;",
        c = n - 1
    );
    let _ = writeln!(
        v,
        "    output wire m_valid;\n    input wire m_ready;\n    output wire [{}:0] m_col;\n    output wire [{}:0] m_y;",
        COL_BITS - 1,
        OUT_LANE_BITS * l - 1
    );
    let _ = writeln!(
        v,
        "    input wire cfg_we;\n    input wire [1:0] cfg_sel;\n    input wire [{}:0] cfg_col;\n    input wire [{}:0] cfg_data;",
        COL_BITS - 1,
        CFG_DATA_BITS - 1
    );
    let _ = writeln!(
        v,
        "\n    // The ADC's readout stream is the NMPU's input stream."
    );
    let _ = writeln!(
        v,
        "    wire adc_valid;\n    wire nmpu_ready;\n    wire [{}:0] adc_col;\n    wire [{}:0] adc_x;",
        COL_BITS - 1,
        IN_LANE_BITS * l - 1
    );
    let _ = writeln!(
        v,
        "\n    adc_capture adc(\n        .clock(clock), .reset(reset), .start(start), .start_ready(start_ready),\n        \
         .pulse_pos(pulse_pos), .pulse_neg(pulse_neg),\n        \
         .m_valid(adc_valid), .m_ready(nmpu_ready), .m_col(adc_col), .m_x(adc_x)\n    );"
    );
    let _ = writeln!(
        v,
        "\n    nmpu nmpu(\n        .clock(clock), .reset(reset),\n        \
         .s_valid(adc_valid), .s_ready(nmpu_ready), .s_col(adc_col), .s_x(adc_x),\n        \
         .m_valid(m_valid), .m_ready(m_ready), .m_col(m_col), .m_y(m_y),\n        \
         .cfg_we(cfg_we), .cfg_sel(cfg_sel), .cfg_col(cfg_col), .cfg_data(cfg_data)\n    );"
    );
    let _ = writeln!(v, "endmodule // {TILE_IO_MODULE}");
    v
}
