//! The flows on a real Yosys: a tiny lane's figures, and lane syntheses for the search.

use nmpu_config::NmpuConfig;
use nmpu_eda::lanes::YosysLanes;
use nmpu_eda::synth::{designs, synth};
use nmpu_eda::WorkDir;
use nmpu_tune::{LaneJob, LaneKind, LaneSynth};

fn tiny() -> NmpuConfig {
    NmpuConfig::from_toml_str("columns = 2\nlanes = 1\nin_bits = 6\n").unwrap()
}

#[test]
fn a_tiny_lane_synthesizes_to_plausible_figures_with_the_tool_versions() {
    let work = WorkDir::new(None, "eda-test").unwrap();
    let c = synth(
        &tiny(),
        &designs("nmpu,nmpu_ref").unwrap(),
        false,
        work.path(),
        |_| {},
    )
    .unwrap();
    assert_eq!(c.len(), 2);
    for b in &c {
        let g = &b.generic;
        assert!(
            g.cells > 100 && g.flip_flops > 20 && g.transistors > g.cells,
            "{b:?}"
        );
        assert!(g.area_um2 > 1000.0 && g.critical_path_ps > 100.0, "{b:?}");
        assert!(
            b.tools.yosys.as_deref().unwrap().starts_with("Yosys"),
            "{b:?}"
        );
        assert!(b.tools.verilator.is_none() && b.ice40.is_none());
    }
    // The generated lane and the hand-written one are the same design: within 15 %.
    let ratio = c[0].generic.area_um2 / c[1].generic.area_um2;
    assert!(
        (0.85..1.15).contains(&ratio),
        "generated / hand-written area {ratio}"
    );
}

#[test]
fn lanes_for_the_search_come_back_in_order() {
    let work = WorkDir::new(None, "eda-test").unwrap();
    let lanes = YosysLanes {
        dir: work.path().to_path_buf(),
    };
    let job = |kind| LaneJob {
        config: tiny(),
        words: 2,
        kind,
    };
    let got = lanes
        .synthesize(&[job(LaneKind::Fp16), job(LaneKind::Fixed)])
        .unwrap();
    assert!(
        got[0].area_um2 > got[1].area_um2,
        "FP16 {:?} vs fixed {:?}",
        got[0],
        got[1]
    );
    assert!(got.iter().all(|g| g.fmax_mhz > 10.0 && g.transistors > 0));
}
