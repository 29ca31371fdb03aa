//! The formal proof of the generated lane (Yosys's SAT solver).

use nmpu_config::NmpuConfig;
use nmpu_eda::prove::{prove, Verdict};

fn run(cfg: &NmpuConfig, rtl: &str) -> Vec<nmpu_eda::prove::LaneProof> {
    let dir = tempfile::tempdir().unwrap();
    let r = prove(cfg, rtl, dir.path(), 300, &|_| {}).unwrap().lanes;
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
        let dir = tempfile::tempdir().unwrap();
        let p = prove(&cfg, &rtl, dir.path(), 300, &|_| {}).unwrap();
        assert!(p.proved(), "{p:?}");
        assert_eq!(p.lanes[0].multipliers, if fused { 1 } else { 2 });
        assert_eq!((p.banks.len(), p.lanes[0].latency), (1, 6));
    }
}

/// `rtl` with the first occurrence of `from` replaced by `to` (it must occur).
fn plant(rtl: &str, from: &str, to: &str) -> String {
    assert!(rtl.contains(from), "{from} not in the Verilog");
    rtl.replacen(from, to, 1)
}

/// A lane whose banks read while it stalls is refused: its coefficients would move under
/// a held code.
#[test]
fn banks_read_with_the_lanes_enable() {
    let cfg = small(false);
    let rtl = nmpu_rtl::generate::Datapath::Fixed.generate(&cfg).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bad = plant(&rtl, "banks$re = en;", "banks$re = 1'b1;");
    let e = prove(&cfg, &bad, dir.path(), 300, &|_| {}).unwrap_err();
    assert!(
        format!("{e:#}").contains("the banks' re is not the lane's en"),
        "{e:#}"
    );
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

#[test]
fn the_stream_holds_its_handshake() {
    use nmpu_eda::prove::{prove_stream, Bounded};
    let cfg = NmpuConfig {
        lanes: 2,
        columns: 8,
        ..NmpuConfig::default()
    };
    let rtl = nmpu_rtl::generate::Datapath::Fixed.generate(&cfg).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("nmpu.v"), &rtl).unwrap();
    let p = prove_stream(&cfg, dir.path(), "nmpu.v", 6, 300).unwrap();
    if let Ok(keep) = std::env::var("NMPU_PROVE_KEEP") {
        let _ = std::fs::remove_dir_all(&keep);
        std::fs::rename(dir.keep(), keep).unwrap();
    }
    assert_eq!(p.verdict, Bounded::Proved, "{p:?}");
    // Planted control errors, each caught.
    for (what, from, to) in [
        (
            "s_ready",
            "advance = ~valid$5$q | m_ready;",
            "advance = m_ready;",
        ),
        (
            "a valid bit skipped",
            "valid$3$d = valid$2$q;",
            "valid$3$d = valid$1$q;",
        ),
        (
            "a column tag skipped",
            "col$3$d = col$2$q;",
            "col$3$d = col$1$q;",
        ),
        (
            "a lane that never stalls",
            "lanes$1$en = advance;",
            "lanes$1$en = 1'b1;",
        ),
        (
            "coefficient address",
            "lanes$0$rd_addr = rd_addr;",
            "lanes$0$rd_addr = rd_addr + 12'd1;",
        ),
        (
            "valid not reset",
            "if (reset) q <= 1'b0; else if (en) q <= d;",
            "if (en) q <= d;",
        ),
        (
            "write to a column out of range",
            "wr_en = cfg_we & (cfg_col < columns);",
            "wr_en = cfg_we;",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("nmpu.v"), plant(&rtl, from, to)).unwrap();
        let p = prove_stream(&cfg, dir.path(), "nmpu.v", 6, 300).unwrap();
        assert!(
            matches!(p.verdict, Bounded::Counterexample(_)),
            "{what}: {p:?}"
        );
    }
}

#[test]
fn a_write_lands_in_its_word_and_nowhere_else() {
    use nmpu_eda::prove::{prove_banks, Bounded};
    let cfg = NmpuConfig {
        lanes: 2,
        columns: 8,
        ..NmpuConfig::default()
    };
    let rtl = nmpu_rtl::generate::Datapath::Fixed.generate(&cfg).unwrap();
    let check = |rtl: &str| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("nmpu.v"), rtl).unwrap();
        let r = prove_banks(
            &cfg,
            dir.path(),
            "nmpu.v",
            "nmpu_core$lanes$1",
            1,
            nmpu_eda::prove::banks::DEPTH,
            300,
        );
        if let Ok(keep) = std::env::var("NMPU_PROVE_KEEP") {
            let _ = std::fs::remove_dir_all(&keep);
            std::fs::rename(dir.keep(), keep).unwrap();
        }
        r.unwrap().verdict
    };
    assert_eq!(check(&rtl), Bounded::Proved);
    // Planted errors in lane 1's decode (the second `mine`), in the memory module its
    // a and b banks share (the first): each caught.
    let at = rtl.find("module nmpu_core$lanes$1$banks(").unwrap();
    let (head, tail) = rtl.split_at(at);
    let lane1 = |from: &str, to: &str| format!("{head}{}", plant(tail, from, to));
    for (what, bad) in [
        (
            "lane index ignored",
            lane1("mine = wr_en & (wr_lane == index);", "mine = wr_en;"),
        ),
        (
            "select decoded on one bit",
            lane1(
                "bank_b$we = mine & (wr_sel == sel_b);",
                "bank_b$we = mine & wr_sel[0];",
            ),
        ),
        (
            "word address bit dropped",
            plant(&rtl, "mem[waddr] <=", "mem[waddr & 12'h1] <="),
        ),
        (
            "read register not held",
            plant(&rtl, "if (re) held <=", "held <="),
        ),
    ] {
        assert!(matches!(check(&bad), Bounded::Counterexample(_)), "{what}");
    }
}

/// Configs drawn by the config strategy (every rounding and overflow mode, signed and
/// unsigned formats, fused or not, relu or none), on one lane: each proved.
#[test]
fn random_configs_are_proved() {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[21; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    // NMPU_PROVE_CONFIGS=N draws more (the same first ones).
    let n = std::env::var("NMPU_PROVE_CONFIGS").map_or(8, |n| n.parse().unwrap());
    for _ in 0..n {
        let mut cfg = nmpu_config::strategies::config(16)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        cfg.lanes = 1;
        let rtl = nmpu_rtl::generate::Datapath::Fixed.generate(&cfg).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = prove(&cfg, &rtl, dir.path(), 300, &|_| {})
            .unwrap_or_else(|e| panic!("{}\n{e:#}", cfg.to_toml_string()));
        assert!(p.proved(), "{}\n{p:?}", cfg.to_toml_string());
    }
}

/// The lines of module `module` in Verilog `text` (as Yosys writes it, escaped name).
fn module_span(text: &str, module: &str) -> std::ops::Range<usize> {
    let start = text
        .find(&format!("module \\{module} "))
        .unwrap_or_else(|| panic!("no module {module}"));
    let end = start + text[start..].find("endmodule").unwrap();
    start..end
}

/// `text` with the first line of `module` starting `line` having `from` replaced by `to`.
fn plant_in(text: &str, module: &str, line: &str, from: &str, to: &str) -> String {
    let span = module_span(text, module);
    let at = span.start
        + text[span.clone()]
            .find(line)
            .unwrap_or_else(|| panic!("no `{line}` in {module}: pick another gate"));
    let end = at + text[at..].find('\n').unwrap();
    let changed = text[at..end].replacen(from, to, 1);
    assert_ne!(
        changed,
        text[at..end],
        "no `{from}` in `{}`",
        &text[at..end]
    );
    format!("{}{changed}{}", &text[..at], &text[end..])
}

/// The default config's post-synthesis netlist (`yosys synth`, hierarchy kept): lane 0
/// proves, its multipliers exhaustively; a gate changed in a multiplier or in the
/// requantizer is caught.
#[test]
fn a_synthesized_default_lane_is_proved_and_a_changed_gate_is_caught() {
    use nmpu_eda::prove::{prove_lane, spec, synthesize};
    let cfg = NmpuConfig::default();
    let rtl = nmpu_rtl::generate::Datapath::Fixed.generate(&cfg).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let net = synthesize(&rtl, dir.path()).unwrap();
    assert!(
        !net.contains(" * "),
        "the netlist still multiplies with `*`"
    );
    std::fs::write(dir.path().join("spec.v"), spec::spec_verilog(&cfg)).unwrap();
    let lane = "nmpu_core$lanes$0";
    let prove = |text: &str, proved: &mut Vec<_>| {
        std::fs::write(dir.path().join("net.v"), text).unwrap();
        prove_lane(&cfg, dir.path(), "net.v", lane, 300, proved, &|_| {}).unwrap()
    };
    let mut proved = vec![];
    let p = prove(&net, &mut proved);
    assert_eq!(p.verdict, Verdict::Proved, "{p:?}");
    let pairs: Vec<u32> = p.products.iter().map(|m| m.pairs_log2()).collect();
    // Affine: 13-bit codes x 14-bit a; batch-norm: 15-bit results x 18-bit g.
    assert_eq!(pairs, [27, 33]);

    // Bit 1 of the affine product: an XOR of two partial products made an OR.
    let m = format!("{lane}$affine$multiply_add$multiply");
    let bad = prove(
        &plant_in(&net, &m, "assign p[1] = ", " ^ ", " | "),
        &mut proved,
    );
    match &bad.verdict {
        Verdict::WrongProduct(w) => {
            let w = w.wrong.as_ref().unwrap();
            assert_eq!(w.want, (w.v * w.k) as u64, "{w:?}");
            assert_ne!(w.got, w.want);
        }
        v => panic!("{v:?}"),
    }
    // The requantizer's bit 0 on overflow: an OR made an AND. The multipliers are the
    // proved ones (same gates), so only the lane's SAT check runs again.
    let q = format!("{lane}$requantize$quantize");
    let bad = prove(
        &plant_in(&net, &q, "assign r[0] = ", " | ", " & "),
        &mut proved,
    );
    assert!(bad.products.is_empty(), "{:?}", bad.products);
    match &bad.verdict {
        Verdict::Counterexample(c) => assert_ne!(c.want, c.got, "{c:?}"),
        v => panic!("{v:?}"),
    }
}

/// A lane whose output is one constant for every input (its datapath dropped by Yosys)
/// proves at the documented latency; the constant flipped is caught.
#[test]
fn a_constant_output_lane_is_proved_and_a_wrong_constant_caught() {
    let text = include_str!("fixtures/constant_output.toml");
    let cfg = NmpuConfig::from_toml_str(text).unwrap();
    let rtl = nmpu_rtl::generate::Datapath::Fixed.generate(&cfg).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = prove(&cfg, &rtl, dir.path(), 300, &|_| {}).unwrap();
    assert!(p.proved(), "{p:?}");
    assert!(p.lanes[0].constant_output && p.lanes[0].multipliers == 0);
    let bad = plant(
        &rtl,
        "always @(*) r = {63'd0, code};",
        "always @(*) r = {63'd0, ~code};",
    );
    match &run(&cfg, &bad)[0].verdict {
        Verdict::Counterexample(c) => assert_ne!(c.want, c.got, "{c:?}"),
        v => panic!("{v:?}"),
    }
}
