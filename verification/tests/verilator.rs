//! The Verilator co-simulation: generated RTL against the golden model, bit for bit.

use nmpu_config::NmpuConfig;
use nmpu_verification::cosim::{run_case, RunOptions};
use nmpu_verification::stimulus::random_case;
use nmpu_verification::verilator::{build, Model};

fn model_for(cfg: &NmpuConfig) -> Model {
    let rtl = nmpu_rtl::generate(cfg).unwrap();
    let built = build(&rtl.files[0].1, cfg.lanes as usize).unwrap();
    eprintln!("model built in {:.1} s", built.build_seconds);
    Model::load(&built.library, cfg.lanes as usize).unwrap()
}

#[test]
fn default_config_with_random_backpressure() {
    let cfg = NmpuConfig::default();
    let mut m = model_for(&cfg);
    let case = random_case(&cfg, 11, 40, 0.2, 0.3);
    let r = run_case(&mut m, &case, &RunOptions::default()).unwrap();
    let r = r.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.beats_out, case.beats.len());
    eprintln!("{r:?} {:.1} M elements/s", r.elements_per_second() / 1e6);
}
