//! The documented top of each generated block: a plain Verilog module around the rust-hdl
//! one (`<top>_core`) with the same ports, except that each family of lane ports rust-hdl
//! emits as scalars (`s_x$0`, `s_x$1`, ...) becomes one packed bus (`s_x`, lane `i` in bits
//! `[w*i + w-1 : w*i]`). Port names then carry no `$`, which SDC and Tcl flows read as a
//! variable, and a 256-column block has a handful of ports instead of hundreds.

use std::fmt::Write as _;

/// One port of a module as rust-hdl declares it (`input wire  [23:0] s_x$0;`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    pub input: bool,
    pub width: u32,
    pub name: String,
}

/// The ports of `module` in `verilog`, in declaration order.
pub fn ports(verilog: &str, module: &str) -> Vec<Port> {
    let head = format!("module {module}(");
    let Some(start) = verilog.find(&head) else {
        return vec![];
    };
    let mut out = vec![];
    for line in verilog[start..].lines().skip(1) {
        let l = line.trim();
        let input = l.starts_with("input ");
        if !input && !l.starts_with("output ") {
            if l.is_empty() || l.starts_with("//") {
                continue;
            }
            break;
        }
        let decl = l.trim_end_matches(';');
        let name = decl.split_whitespace().last().unwrap_or_default();
        let width = match (decl.find('['), decl.find(']')) {
            (Some(a), Some(b)) => decl[a + 1..b]
                .split_once(':')
                .and_then(|(hi, lo)| {
                    Some(hi.trim().parse::<u32>().ok()? + 1 - lo.trim().parse::<u32>().ok()?)
                })
                .unwrap_or(1),
            _ => 1,
        };
        out.push(Port {
            input,
            width,
            name: name.to_string(),
        });
    }
    out
}

/// A port of the wrapper: a scalar port of the core, or a bus of `lanes` lanes.
struct Outer {
    input: bool,
    name: String,
    lane_width: u32,
    lanes: Option<u32>,
}

/// Gathers `base$0 .. base$(n-1)` (same direction and width, every index present) into
/// buses; every other port stays as it is.
fn outer_ports(core: &[Port]) -> Vec<Outer> {
    let mut out: Vec<Outer> = vec![];
    for p in core {
        let lane = p
            .name
            .rsplit_once('$')
            .and_then(|(base, i)| Some((base, i.parse::<u32>().ok()?)));
        match lane {
            Some((base, i)) => match out.iter_mut().find(|o| o.name == base) {
                Some(o) if o.lanes == Some(i) && o.input == p.input && o.lane_width == p.width => {
                    o.lanes = Some(i + 1);
                }
                Some(_) => panic!("lane port {} does not continue its bus", p.name),
                None => {
                    assert_eq!(i, 0, "lane port {} without lane 0", p.name);
                    out.push(Outer {
                        input: p.input,
                        name: base.to_string(),
                        lane_width: p.width,
                        lanes: Some(1),
                    });
                }
            },
            None => out.push(Outer {
                input: p.input,
                name: p.name.clone(),
                lane_width: p.width,
                lanes: None,
            }),
        }
    }
    out
}

/// The wrapper `top` around module `core` of `verilog`.
pub fn bus_wrapper(verilog: &str, core: &str, top: &str) -> String {
    let outer = outer_ports(&ports(verilog, core));
    let names: Vec<&str> = outer.iter().map(|o| o.name.as_str()).collect();
    let mut v = String::new();
    let _ = writeln!(
        v,
        "// The documented top: `{core}` (rust-hdl) with each family of lane ports as one packed\n\
         // bus, lane i in bits [w*i + w-1 : w*i]."
    );
    let _ = writeln!(v, "module {top}({});", names.join(", "));
    for o in &outer {
        let dir = if o.input { "input" } else { "output" };
        let w = o.lane_width * o.lanes.unwrap_or(1);
        // A bus keeps its range even at one bit (one lane of one bit, e.g. a one-row DAC):
        // its lanes are connected by bit select.
        if w == 1 && o.lanes.is_none() {
            let _ = writeln!(v, "    {dir} wire {};", o.name);
        } else {
            let _ = writeln!(v, "    {dir} wire [{}:0] {};", w - 1, o.name);
        }
    }
    let mut conns = vec![];
    for o in &outer {
        match o.lanes {
            None => conns.push(format!(".{n}({n})", n = o.name)),
            Some(n) => {
                let w = o.lane_width;
                for i in 0..n {
                    let bits = if w == 1 {
                        format!("{}", i)
                    } else {
                        format!("{}:{}", w * i + w - 1, w * i)
                    };
                    conns.push(format!(".{}${i}({}[{bits}])", o.name, o.name));
                }
            }
        }
    }
    let _ = writeln!(
        v,
        "    {core} core(\n        {}\n    );",
        conns.join(",\n        ")
    );
    let _ = writeln!(v, "endmodule // {top}");
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_ports_become_buses() {
        let core = "module c(clock,s_x$0,s_x$1,m_y$0,m_y$1,flag);\n    input wire  clock;\n    \
                    input wire  [23:0] s_x$0;\n    input wire  [23:0] s_x$1;\n    \
                    output wire  [15:0] m_y$0;\n    output wire  [15:0] m_y$1;\n    \
                    output reg  flag;\n\n    // body\nendmodule\n";
        let w = bus_wrapper(core, "c", "t");
        assert!(w.contains("module t(clock, s_x, m_y, flag);"), "{w}");
        assert!(w.contains("input wire [47:0] s_x;"), "{w}");
        assert!(w.contains("output wire [31:0] m_y;"), "{w}");
        assert!(w.contains("output wire flag;"), "{w}");
        assert!(
            w.contains(".s_x$1(s_x[47:24])") && w.contains(".m_y$0(m_y[15:0])"),
            "{w}"
        );
    }

    /// One lane of one bit is still a bus: declared with a range, selected by bit.
    #[test]
    fn a_one_bit_one_lane_bus_keeps_its_range() {
        let core = "module c(clock,en$0);\n    input wire  clock;\n    output wire  en$0;\n\n    // body\nendmodule\n";
        let w = bus_wrapper(core, "c", "t");
        assert!(w.contains("output wire [0:0] en;"), "{w}");
        assert!(
            w.contains(".en$0(en[0])") && w.contains("input wire clock;"),
            "{w}"
        );
    }
}
