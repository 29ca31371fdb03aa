//! The hand-written reference NMPU (verification/reference/ref_nmpu.v) and the generated
//! unit on the four reference configs (verification/reference/*.toml), both against the
//! golden model through
//! the same harness: the reference is only a yardstick for area if it computes the same
//! function.

use nmpu_config::NmpuConfig;
use nmpu_reference::{verilog, REFERENCE_TOP};
use nmpu_rtl::generate::Datapath;
use nmpu_verification::cosim::{RunOptions, Session};
use nmpu_verification::stimulus::CaseSpec;

mod common;

use common::check;

/// The reference configs: `verification/reference/*.toml`.
pub fn reference_configs() -> Vec<(&'static str, NmpuConfig)> {
    [
        ("default", include_str!("../reference/default.toml")),
        ("fused8", include_str!("../reference/fused8.toml")),
        ("narrow", include_str!("../reference/narrow.toml")),
        ("wide", include_str!("../reference/wide.toml")),
    ]
    .into_iter()
    .map(|(n, t)| (n, NmpuConfig::from_toml_str(t).unwrap()))
    .collect()
}

fn cases(s: &mut Session, name: &str) -> usize {
    let mut elements = 0;
    for (i, spec) in [
        CaseSpec::Corner { seed: 21, pass: 0 },
        CaseSpec::Corner { seed: 22, pass: 1 },
        CaseSpec::Random {
            seed: 23,
            rows: 256,
            p_gap: 0.2,
            p_stall: 0.3,
        },
    ]
    .into_iter()
    .enumerate()
    {
        let r = check(s, spec, &RunOptions::default(), &format!("{name}-{i}"));
        assert_eq!(r.beats_in, r.beats_out, "{name}: every beat leaves");
        elements += r.elements;
    }
    elements
}

#[test]
fn hand_written_reference_equals_the_golden_model() {
    for (name, cfg) in reference_configs() {
        let v = verilog(&cfg);
        let mut s = Session::for_verilog(Datapath::Fixed, &cfg, &v, REFERENCE_TOP)
            .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        let n = cases(&mut s, &format!("reference-{name}"));
        // Two corner passes reach every input code (up to 2^13 of them) in every column.
        let codes = 1usize << cfg.in_bits.min(13);
        assert!(
            n >= 2 * codes * cfg.columns as usize,
            "{name}: {n} elements"
        );
    }
}

#[test]
fn generated_unit_equals_the_golden_model_on_the_reference_configs() {
    for (name, cfg) in reference_configs() {
        let mut s = common::session(Datapath::Fixed, &cfg);
        cases(&mut s, &format!("generated-{name}"));
    }
}

/// Several lanes, 24-bit lanes straddling 32-bit words of the packed bus: the reference's
/// lane decode and the harness's bus slicing.
#[test]
fn hand_written_reference_with_several_lanes() {
    let (_, mut cfg) = reference_configs().remove(2);
    cfg.columns = 15;
    cfg.lanes = 3;
    let v = verilog(&cfg);
    let mut s = Session::for_verilog(Datapath::Fixed, &cfg, &v, REFERENCE_TOP).unwrap();
    cases(&mut s, "reference-lanes");
}
