//! The formal proof of the generated lane (Yosys's SAT solver).

use nmpu_config::NmpuConfig;
use nmpu_eda::prove::{prove, Verdict};

fn run(cfg: &NmpuConfig, rtl: &str) -> Vec<nmpu_eda::prove::LaneProof> {
    let dir = tempfile::tempdir().unwrap();
    let r = prove(cfg, rtl, dir.path(), 300, &|p| eprintln!("{p:?}")).unwrap();
    if let Ok(keep) = std::env::var("NMPU_PROVE_KEEP") {
        let _ = std::fs::remove_dir_all(&keep);
        std::fs::rename(dir.keep(), keep).unwrap();
    }
    r
}

/// The default config's formats on one lane of four columns; fused or not.
fn small(fused: bool) -> NmpuConfig {
    NmpuConfig {
        lanes: 1,
        columns: 4,
        fuse_affine_bn: fused,
        ..NmpuConfig::default()
    }
}

#[test]
fn the_default_lane_is_proved_fused_and_not() {
    for fused in [false, true] {
        let cfg = small(fused);
        let rtl = nmpu_rtl::generate::Datapath::Fixed.generate(&cfg).unwrap();
        let r = run(&cfg, &rtl);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].verdict, Verdict::Proved, "{r:?}");
        assert_eq!(r[0].multipliers, if fused { 1 } else { 2 });
    }
}

/// `rtl` with the first occurrence of `from` replaced by `to` (it must occur).
fn plant(rtl: &str, from: &str, to: &str) -> String {
    assert!(rtl.contains(from), "{from} not in the Verilog");
    rtl.replacen(from, to, 1)
}

#[test]
fn planted_one_lsb_errors_give_counterexamples() {
    let cfg = small(false);
    let rtl = nmpu_rtl::generate::Datapath::Fixed.generate(&cfg).unwrap();
    for (what, from, to) in [
        ("tie rule", "| q[0]);", "| ~q[0]);"),
        (
            "saturation value",
            "if (over) code = 15'h3fff;",
            "if (over) code = 15'h3ffe;",
        ),
        ("rounding increment", "rounded = q + inc;", "rounded = q;"),
    ] {
        let r = run(&cfg, &plant(&rtl, from, to));
        match &r[0].verdict {
            Verdict::Counterexample(c) => {
                // The spec's value is the right one: the planted error is one LSB off it.
                assert_eq!((c.want.0 - c.got.0).abs(), 1, "{what}: {c:?}");
            }
            v => panic!("{what}: {v:?}"),
        }
    }
}
