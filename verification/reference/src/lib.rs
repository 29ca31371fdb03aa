//! The hand-written reference NMPU (`ref_nmpu.v`, plain Verilog written from
//! docs/arithmetic.md, not from the generator): the yardstick for the generated unit's
//! area and synthesis time, and a second design for the co-simulation harness. Here it is
//! instantiated with a config's formats and given the generated unit's ports, so the
//! harness and the synthesis flow take it as they take a generated top.

use nmpu_config::ports::{CFG_DATA_BITS, CFG_SEL_BITS, COL_BITS, IN_LANE_BITS, OUT_LANE_BITS};
use nmpu_config::{Activation, NmpuConfig, Overflow, QFormat, Rounding, StageConfig};
use std::fmt::Write;

/// The hand-written modules.
pub const REFERENCE_VERILOG: &str = include_str!("../ref_nmpu.v");

/// The top module of [`verilog`]: `ref_nmpu` with the config's parameters and the ports
/// of the generated `nmpu` as packed buses (`s_x` holds lane `i` in bits `24i ..`).
pub const REFERENCE_TOP: &str = "nmpu_ref";

fn rounding(r: Rounding) -> u32 {
    match r {
        Rounding::Floor => 0,
        Rounding::HalfUp => 1,
        Rounding::HalfEven => 2,
        Rounding::HalfAway => 3,
    }
}

fn format(p: &mut Vec<(String, i64)>, name: &str, f: &QFormat) {
    p.push((format!("{name}_W"), f.width().into()));
    p.push((format!("{name}_S"), f.signed.into()));
    p.push((format!("{name}_F"), f.frac.into()));
}

fn stage(p: &mut Vec<(String, i64)>, name: &str, s: &StageConfig) {
    format(p, name, &s.format);
    p.push((format!("{name}_RND"), rounding(s.rounding).into()));
    p.push((
        format!("{name}_WRAP"),
        (s.overflow == Overflow::Wrap).into(),
    ));
}

/// `ref_nmpu`'s parameters for `cfg`: its formats, nothing derived.
pub fn parameters(cfg: &NmpuConfig) -> Vec<(String, i64)> {
    let c = &cfg.coefficients;
    let mut p = vec![
        ("COLUMNS".to_string(), cfg.columns.into()),
        ("LANES".to_string(), cfg.lanes.into()),
        ("IN_BITS".to_string(), cfg.in_bits.into()),
        ("FUSED".to_string(), cfg.fuse_affine_bn.into()),
        (
            "RELU".to_string(),
            (cfg.activation == Activation::Relu).into(),
        ),
    ];
    for (name, f) in [("A", &c.a), ("B", &c.b), ("G", &c.g), ("H", &c.h)] {
        format(&mut p, name, f);
    }
    stage(&mut p, "Y", &cfg.affine);
    stage(&mut p, "Z", &cfg.batch_norm);
    stage(&mut p, "O", &cfg.output);
    p
}

/// The reference for `cfg`: the hand-written modules and the top [`REFERENCE_TOP`].
pub fn verilog(cfg: &NmpuConfig) -> String {
    let lanes = cfg.lanes;
    let mut v = String::from(REFERENCE_VERILOG);
    let _ = writeln!(
        v,
        "\n// Instantiated for one configuration by nmpu-reference.\n\
         module {REFERENCE_TOP}(clock, reset, s_valid, s_ready, s_col, s_x, m_valid, m_ready, \
         m_col, m_y, cfg_we, cfg_sel, cfg_col, cfg_data);"
    );
    let (col, x, y) = (COL_BITS as u32, IN_LANE_BITS as u32, OUT_LANE_BITS as u32);
    let ports = [
        ("input", 1, "clock"),
        ("input", 1, "reset"),
        ("input", 1, "s_valid"),
        ("output", 1, "s_ready"),
        ("input", col, "s_col"),
        ("input", x * lanes, "s_x"),
        ("output", 1, "m_valid"),
        ("input", 1, "m_ready"),
        ("output", col, "m_col"),
        ("output", y * lanes, "m_y"),
        ("input", 1, "cfg_we"),
        ("input", CFG_SEL_BITS as u32, "cfg_sel"),
        ("input", col, "cfg_col"),
        ("input", CFG_DATA_BITS as u32, "cfg_data"),
    ];
    for (dir, w, name) in ports {
        if w == 1 {
            let _ = writeln!(v, "    {dir} wire {name};");
        } else {
            let _ = writeln!(v, "    {dir} wire [{}:0] {name};", w - 1);
        }
    }
    let params: Vec<String> = parameters(cfg)
        .iter()
        .map(|(k, val)| format!(".{k}({val})"))
        .collect();
    let conns: Vec<String> = ports.iter().map(|(_, _, n)| format!(".{n}({n})")).collect();
    let _ = writeln!(
        v,
        "    ref_nmpu #({}) u (\n        {}\n    );\nendmodule",
        params.join(", "),
        conns.join(", ")
    );
    v
}
