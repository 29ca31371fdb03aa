//! Helpers the co-simulation tests of both datapaths share.

use nmpu_config::NmpuConfig;
use nmpu_rtl::generate::Datapath;
use nmpu_verification::cosim::{RunOptions, RunReport, Session};
use nmpu_verification::stimulus::CaseSpec;
use std::path::PathBuf;

/// Where a failing case's config and VCD go: `target/tmp/cosim-failures/<name>`.
pub fn failure_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("cosim-failures")
        .join(name)
}

/// A Verilated model of `datapath` for `cfg` (built, or taken from the cache).
pub fn session(datapath: Datapath, cfg: &NmpuConfig) -> Session {
    let s = Session::for_datapath(datapath, cfg).unwrap_or_else(|e| panic!("{e:#}"));
    if s.built.build_seconds > 0.0 {
        eprintln!(
            "Verilated {} built in {:.1} s",
            datapath.module(),
            s.built.build_seconds
        );
    }
    s
}

/// Runs `spec`, panicking with the full failure report (and its replay command) on a mismatch.
pub fn check(s: &mut Session, spec: CaseSpec, opts: &RunOptions, name: &str) -> RunReport {
    match s.check(&spec, opts, &failure_dir(name)).unwrap() {
        Ok(r) => r,
        Err(f) => panic!("{spec}\n{f}"),
    }
}
