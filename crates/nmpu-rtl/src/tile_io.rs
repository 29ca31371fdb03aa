//! The tile's digital output chain: ADC capture -> NMPU, as a structural Verilog top that
//! instantiates the two generated modules (`adc_capture`, `nmpu`) by name. The ADC's output
//! stream is the NMPU's input stream; the configuration port and the NMPU's output stream
//! are the chain's.

use crate::params::{CFG_DATA_BITS, COL_BITS, IN_LANE_BITS, OUT_LANE_BITS};
use nmpu_config::NmpuConfig;
use std::fmt::Write as _;

/// Name of the chain's top module.
pub const TILE_IO_MODULE: &str = "tile_io";

/// The structural top for `cfg` (its `columns` and `lanes` fix the port lists).
pub fn tile_io_verilog(cfg: &NmpuConfig) -> String {
    let (n, l) = (cfg.columns as usize, cfg.lanes as usize);
    let mut ports = vec![
        "clock".to_string(),
        "reset".into(),
        "start".into(),
        "start_ready".into(),
    ];
    ports.extend((0..n).map(|c| format!("pulse_pos${c}")));
    ports.extend((0..n).map(|c| format!("pulse_neg${c}")));
    ports.extend(["m_valid", "m_ready", "m_col"].map(String::from));
    ports.extend((0..l).map(|i| format!("m_y${i}")));
    ports.extend(["cfg_we", "cfg_sel", "cfg_col", "cfg_data"].map(String::from));
    let mut v = String::new();
    let _ = writeln!(v, "module {TILE_IO_MODULE}({});", ports.join(","));
    let _ = writeln!(v, "    input wire  clock;\n    input wire  reset;\n    input wire  start;\n    output wire  start_ready;");
    for c in 0..n {
        let _ = writeln!(v, "    input wire  pulse_pos${c};");
    }
    for c in 0..n {
        let _ = writeln!(v, "    input wire  pulse_neg${c};");
    }
    let _ = writeln!(
        v,
        "    output wire  m_valid;\n    input wire  m_ready;\n    output wire  [{}:0] m_col;",
        COL_BITS - 1
    );
    for i in 0..l {
        let _ = writeln!(v, "    output wire  [{}:0] m_y${i};", OUT_LANE_BITS - 1);
    }
    let _ = writeln!(
        v,
        "    input wire  cfg_we;\n    input wire  [1:0] cfg_sel;\n    input wire  [{}:0] cfg_col;\n    input wire  [{}:0] cfg_data;",
        COL_BITS - 1,
        CFG_DATA_BITS - 1
    );
    let _ = writeln!(
        v,
        "\n    // The ADC's readout stream is the NMPU's input stream."
    );
    let _ = writeln!(
        v,
        "    wire  adc_valid;\n    wire  nmpu_ready;\n    wire  [{}:0] adc_col;",
        COL_BITS - 1
    );
    for i in 0..l {
        let _ = writeln!(v, "    wire  [{}:0] adc_x${i};", IN_LANE_BITS - 1);
    }
    let mut adc = vec![
        ".clock(clock)".to_string(),
        ".reset(reset)".into(),
        ".start(start)".into(),
        ".start_ready(start_ready)".into(),
        ".m_valid(adc_valid)".into(),
        ".m_ready(nmpu_ready)".into(),
        ".m_col(adc_col)".into(),
    ];
    adc.extend((0..n).map(|c| format!(".pulse_pos${c}(pulse_pos${c})")));
    adc.extend((0..n).map(|c| format!(".pulse_neg${c}(pulse_neg${c})")));
    adc.extend((0..l).map(|i| format!(".m_x${i}(adc_x${i})")));
    let _ = writeln!(
        v,
        "\n    adc_capture adc(\n        {}\n    );",
        adc.join(",\n        ")
    );
    let mut nmpu = vec![
        ".clock(clock)".to_string(),
        ".reset(reset)".into(),
        ".s_valid(adc_valid)".into(),
        ".s_ready(nmpu_ready)".into(),
        ".s_col(adc_col)".into(),
        ".m_valid(m_valid)".into(),
        ".m_ready(m_ready)".into(),
        ".m_col(m_col)".into(),
        ".cfg_we(cfg_we)".into(),
        ".cfg_sel(cfg_sel)".into(),
        ".cfg_col(cfg_col)".into(),
        ".cfg_data(cfg_data)".into(),
    ];
    nmpu.extend((0..l).map(|i| format!(".s_x${i}(adc_x${i})")));
    nmpu.extend((0..l).map(|i| format!(".m_y${i}(m_y${i})")));
    let _ = writeln!(
        v,
        "\n    nmpu nmpu(\n        {}\n    );",
        nmpu.join(",\n        ")
    );
    let _ = writeln!(v, "endmodule // {TILE_IO_MODULE}");
    v
}
