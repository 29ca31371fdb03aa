//! The proof's top module `nmpu_proof`: the lane (its banks and multipliers cut out) beside
//! the spec. The spec sees the code one cycle late, as the lane's coefficients arrive from
//! their banks; each stage's product is a free input (`<stage>_pin`) the spec uses and the
//! lane's multiplier receives, delayed to the cycle the lane multiplies, and the lane's
//! operands must equal the spec's; the lane's output must equal the spec's, delayed by the
//! lane's latency. `ok` asks this only when the products of every cycle it depends on lie
//! in their ranges, and asks unconditionally that each later stage's input lies in the
//! range its products were drawn from (given the stages before it in range): together,
//! every real product is covered.

use super::lane::LaneNetlist;
use super::spec::{coefficients, lit, mac_stages, reachable, widen_bits as widen};
use nmpu_config::NmpuConfig;
use std::fmt::Write;

/// The Verilog of the blackbox modules the lane's multipliers become before they are cut.
pub fn cut_modules(lane: &LaneNetlist) -> String {
    let mut o = String::new();
    for (i, m) in lane.muls.iter().enumerate() {
        let [a, b, y] = &m.ports;
        let _ = writeln!(
            o,
            "(* blackbox *) module proof_cut_{i}({a}, {b}, {y}); input [{}:0] {a}; input [{}:0] {b}; output [{}:0] {y}; endmodule",
            m.a.0 - 1,
            m.b.0 - 1,
            m.y - 1
        );
    }
    o
}

/// The 64-bit literal with bit i set where `read[i]`.
fn mask(read: &[bool]) -> String {
    let m = read
        .iter()
        .take(64)
        .enumerate()
        .fold(0u64, |m, (i, r)| m | (u64::from(*r) << i));
    format!("64'h{m:016x}")
}

/// A chain of `n` registers behind `src`; returns the chain's end.
fn delay(o: &mut String, src: &str, width: u32, n: u32) -> String {
    let mut prev = src.to_string();
    for i in 1..=n {
        let name = format!("{src}_d{i}");
        let _ = writeln!(o, "    reg [{}:0] {name};", width - 1);
        let _ = writeln!(o, "    always @(posedge clock) {name} <= {prev};");
        prev = name;
    }
    prev
}

/// `nmpu_proof` for `cfg` and the lane's netlist; `None` when the lane multiplies before
/// its coefficients can have arrived (a multiplier at register depth 0).
pub fn harness(cfg: &NmpuConfig, lane: &LaneNetlist) -> Option<String> {
    let stages = mac_stages(cfg);
    let coeffs = coefficients(cfg);
    let xw = lane.ports["x"];
    let yw = lane.ports["y"];
    let mut o = String::new();
    let inputs: Vec<String> = coeffs.iter().map(|(n, _)| format!("c_{n}")).collect();
    let mut names = vec![];
    for i in 0..=lane.muls.len() {
        names.extend([
            format!("pass{i}"),
            format!("want{i}"),
            format!("got{i}"),
            format!("x{i}"),
        ]);
        names.extend(coeffs.iter().map(|(n, _)| format!("c{i}_{n}")));
    }
    let pins: Vec<String> = stages.iter().map(|s| format!("{}_pin", s.name)).collect();
    let _ = writeln!(
        o,
        "module nmpu_proof(clock, x, {}, {}, ok, got, want, {});",
        inputs.join(", "),
        pins.join(", "),
        names.join(", ")
    );
    for p in &pins {
        let _ = writeln!(o, "    input signed [63:0] {p};");
    }
    let _ = writeln!(o, "    input clock;\n    input [{}:0] x;", xw - 1);
    // A coefficient the lane does not read (its banks dropped: a constant output) is as
    // wide as its code.
    let width = |n: &str, f: &nmpu_config::QFormat| lane.banks.get(n).copied().unwrap_or(f.width());
    if lane.banks.is_empty() && !lane.constant_output {
        return None;
    }
    for (n, f) in &coeffs {
        let _ = writeln!(o, "    input [{}:0] c_{n};", width(n, f) - 1);
    }
    let _ = writeln!(o, "    output ok;\n    output [{0}:0] got, want;", yw - 1);
    let mut conns = vec![
        ".clock(clock)".to_string(),
        ".en(1'b1)".into(),
        ".x(x)".into(),
        ".y(got)".into(),
    ];
    conns.extend(
        coeffs
            .iter()
            .filter(|(n, _)| lane.banks.contains_key(*n))
            .map(|(n, _)| format!(".banks_{n}(c_{n})")),
    );
    for (i, m) in lane.muls.iter().enumerate() {
        let _ = writeln!(
            o,
            "    wire [{}:0] m{i}_a;\n    wire [{}:0] m{i}_b;\n    wire [{}:0] m{i}_y;",
            m.a.0 - 1,
            m.b.0 - 1,
            m.y - 1
        );
        for (p, s) in m.ports.iter().zip(["a", "b", "y"]) {
            conns.push(format!(".{}_{p}(m{i}_{s})", m.cell));
        }
    }
    let _ = writeln!(o, "    dut_lane dut({});", conns.join(", "));
    let _ = writeln!(
        o,
        "    reg [{}:0] x_d;\n    always @(posedge clock) x_d <= x;",
        xw - 1
    );
    let _ = writeln!(o, "    wire [15:0] spec_y;");
    let mut sc = vec![
        format!(".x(x_d[{}:0])", cfg.in_bits - 1),
        ".y(spec_y)".into(),
    ];
    sc.extend(
        coeffs
            .iter()
            .map(|(n, f)| format!(".{n}(c_{n}[{}:0])", f.width() - 1)),
    );
    // Each product is a free input within its range: stage 0's from the formats; a later
    // stage's from its input's range, which `ranges` must hold (proved here, given the
    // stages before it in range), so every real product is in range.
    let ranges = reachable(cfg);
    let mut given = vec![];
    let mut obligations = vec![];
    for (s, ((vlo, vhi), (plo, phi))) in stages.iter().zip(&ranges) {
        let n = s.name;
        let _ = writeln!(o, "    wire signed [63:0] {n}_v, {n}_k;");
        let _ = writeln!(o, "    wire signed [63:0] {n}_p = {n}_pin;");
        let _ = writeln!(
            o,
            "    wire {n}_in = {n}_p >= {} && {n}_p <= {};",
            lit(*plo),
            lit(*phi)
        );
        if !given.is_empty() {
            let _ = writeln!(
                o,
                "    wire {n}_v_holds = !({}) || ({n}_v >= {} && {n}_v <= {});",
                given.join(" && "),
                lit(*vlo),
                lit(*vhi)
            );
            obligations.push(format!("{n}_v_holds"));
        }
        given.push(format!("{n}_in"));
        for p in ["v", "k", "p"] {
            sc.push(format!(".{0}_{p}({0}_{p})", s.name));
        }
    }
    let _ = writeln!(o, "    nmpu_spec spec({});", sc.join(", "));
    // Check i (a multiplier's operands, then the output) with the beat it checks: that
    // beat's code and coefficients, and what the spec wants and the lane has.
    let mut checks = vec![];
    let beat = |o: &mut String, i: usize, d: u32| {
        let bx = delay(o, "x_d", xw, d);
        let _ = writeln!(o, "    assign x{i} = {bx};");
        for (n, f) in &coeffs {
            let c = delay(o, &format!("c_{n}"), width(n, f), d);
            let _ = writeln!(o, "    assign c{i}_{n} = {c};");
        }
    };
    let mut outs = vec![];
    for (i, (m, s)) in lane.muls.iter().zip(&stages).enumerate() {
        let d = m.depth.checked_sub(1)?;
        let [v, k, p] =
            ["v", "k", "p"].map(|part| delay(&mut o, &format!("{}_{part}", s.name), 64, d));
        let _ = writeln!(o, "    assign m{i}_y = {p}[{}:0];", m.y - 1);
        let _ = writeln!(
            o,
            "    wire [63:0] m{i}_ai = {};",
            widen(&format!("m{i}_a"), m.a.0, m.a.1)
        );
        let _ = writeln!(
            o,
            "    wire [63:0] m{i}_bi = {};",
            widen(&format!("m{i}_b"), m.b.0, m.b.1)
        );
        match &m.gates {
            None => {
                let _ = writeln!(
                    o,
                    "    assign pass{i} = (m{i}_ai == {v} && m{i}_bi == {k}) || (m{i}_ai == {k} && m{i}_bi == {v});"
                );
            }
            // A gate-level multiplier is proved (super::product) for the bits it reads
            // being those of the spec's operands, in its port order.
            Some(g) => {
                let (mv, mk) = (mask(&g.read_v), mask(&g.read_k));
                let _ = writeln!(
                    o,
                    "    assign pass{i} = (m{i}_ai & {mv}) == ({v} & {mv}) && (m{i}_bi & {mk}) == ({k} & {mk});"
                );
            }
        }
        let _ = writeln!(o, "    assign want{i} = {v};");
        let _ = writeln!(o, "    assign got{i} = m{i}_bi == {k} ? m{i}_ai : m{i}_bi;");
        outs.push((i, 64));
        beat(&mut o, i, d);
        checks.push(format!("pass{i}"));
    }
    let i = lane.muls.len();
    let want = delay(&mut o, "spec_y", 16, lane.latency.checked_sub(1)?);
    let _ = writeln!(o, "    assign want = {want}[{}:0];", yw.min(16) - 1);
    let _ = writeln!(
        o,
        "    assign pass{i} = got == want;\n    assign want{i} = want;\n    assign got{i} = got;"
    );
    outs.push((i, yw));
    beat(&mut o, i, lane.latency - 1);
    checks.push(format!("pass{i}"));
    // The products of every cycle a check depends on, in range.
    let mut in_range = vec![];
    for g in &given {
        in_range.push(g.clone());
        for d in 1..=lane.latency {
            in_range.push(format!("{g}_d{d}"));
        }
        delay(&mut o, g, 1, lane.latency);
    }
    obligations.push(format!(
        "(!({}) || ({}))",
        in_range.join(" && "),
        checks.join(" & ")
    ));
    let _ = writeln!(o, "    assign ok = {};", obligations.join(" & "));
    let mut decl = String::new();
    for (i, w) in outs {
        let _ = writeln!(
            decl,
            "    output pass{i};\n    output [{0}:0] want{i}, got{i};\n    output [{1}:0] x{i};",
            w - 1,
            xw - 1
        );
        for (n, f) in &coeffs {
            let _ = writeln!(decl, "    output [{}:0] c{i}_{n};", width(n, f) - 1);
        }
    }
    o = o.replacen("    output ok;\n", &format!("    output ok;\n{decl}"), 1);
    let _ = writeln!(o, "endmodule");
    Some(o)
}
