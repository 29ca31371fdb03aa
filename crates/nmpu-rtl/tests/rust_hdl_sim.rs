//! A few cycle-level checks in rust-hdl's own simulator, for quick feedback while editing
//! the generator. Not a proof (rust-hdl's simulation and its Verilog can disagree, see
//! the toolchain notes): the Verilog is verified by co-simulation in `verification/`.

use nmpu_config::NmpuConfig;
use nmpu_rtl::params::NmpuParams;
use nmpu_rtl::top::Nmpu;
use nmpu_rtl::LATENCY;
use rust_hdl::prelude::*;

/// Fused, 4 columns, 2 lanes: y = clamp(x + 3) with a = 1.0 and b = +3.
fn small() -> Nmpu {
    let cfg = NmpuConfig::from_toml_str(
        "columns = 4\nlanes = 2\nin_bits = 8\nfuse_affine_bn = true\nactivation = \"none\"\n\
         [coefficients]\na = { signed = false, int = 1, frac = 7 }\nb = { signed = true, int = 7, frac = 1 }\n\
         [batch_norm]\nformat = { signed = true, int = 9, frac = 2 }\nrounding = \"half_even\"\noverflow = \"saturate\"",
    )
    .unwrap();
    let mut uut = Nmpu::new(&NmpuParams::new(&cfg));
    uut.connect_all();
    uut
}

fn expected(x: i64) -> u64 {
    ((x + 3).clamp(-128, 127) as u64) & 0xffff
}

/// In-range 8-bit codes that reach both saturation edges of `x + 3`.
fn input(i: usize) -> i64 {
    (i as i64 * 29 + 120) % 256 - 128
}

fn code(x: i64) -> Bits<24> {
    bits((x as u64) & 0xff_ffff)
}

/// Writes a = 1.0 and b = +3 for every column, then streams `beats` beats with the
/// consumer ready on cycles where `ready(cycle)` holds, and returns, per output beat, the
/// cycle it appeared on and its lane values.
fn stream(beats: usize, ready: fn(usize) -> bool) -> Vec<(usize, u64, Vec<u64>)> {
    let mut sim = Simulation::new();
    sim.add_clock(5, |x: &mut Box<Nmpu>| x.clock.next = !x.clock.val());
    let out = std::sync::Arc::new(std::sync::Mutex::new(vec![]));
    let out2 = out.clone();
    sim.add_testbench(move |mut sim: Sim<Nmpu>| {
        let mut x = sim.init()?;
        x.reset.next = true;
        wait_clock_cycle!(sim, clock, x);
        x.reset.next = false;
        for col in 0..4u64 {
            for (sel, data) in [(0u64, 128u64), (1, 6)] {
                x.cfg_we.next = true;
                x.cfg_sel.next = bits(sel);
                x.cfg_col.next = bits(col);
                x.cfg_data.next = bits(data);
                wait_clock_cycle!(sim, clock, x);
            }
        }
        x.cfg_we.next = false;
        let mut sent = 0usize;
        let mut cycle = 0usize;
        while out2.lock().unwrap().len() < beats && cycle < 200 {
            x.s_valid.next = sent < beats;
            x.s_col.next = bits(((sent % 2) * 2) as u64);
            for lane in 0..2 {
                x.s_x[lane].next = code(input(sent * 2 + lane));
            }
            x.m_ready.next = ready(cycle);
            wait_clock_true!(sim, clock, x);
            if x.m_valid.val() && x.m_ready.val() {
                let y = (0..2).map(|l| x.m_y[l].val().index() as u64).collect();
                out2.lock()
                    .unwrap()
                    .push((cycle, x.m_col.val().index() as u64, y));
            }
            let accepted = x.s_valid.val() && x.s_ready.val();
            wait_clock_false!(sim, clock, x);
            if accepted {
                sent += 1;
            }
            cycle += 1;
        }
        sim.done(x)
    });
    sim.run(Box::new(small()), 100_000).unwrap();
    let v = out.lock().unwrap().clone();
    v
}

fn check_values(got: &[(usize, u64, Vec<u64>)]) {
    for (n, (_, col, y)) in got.iter().enumerate() {
        assert_eq!(*col, ((n % 2) * 2) as u64, "beat {n} column");
        for (lane, &v) in y.iter().enumerate() {
            assert_eq!(v, expected(input(n * 2 + lane)), "beat {n} lane {lane}");
        }
    }
}

#[test]
fn full_throughput_after_the_documented_latency() {
    let got = stream(8, |_| true);
    assert_eq!(got.len(), 8);
    check_values(&got);
    // The first beat is accepted on edge 0 and observed valid after edge LATENCY - 1, so
    // it transfers on edge LATENCY; then one beat per clock.
    assert_eq!(got[0].0 + 1, LATENCY, "latency");
    for w in got.windows(2) {
        assert_eq!(w[1].0, w[0].0 + 1, "one beat per clock");
    }
}

#[test]
fn backpressure_loses_duplicates_and_reorders_nothing() {
    let got = stream(10, |c| c % 3 != 1);
    assert_eq!(got.len(), 10);
    check_values(&got);
}
