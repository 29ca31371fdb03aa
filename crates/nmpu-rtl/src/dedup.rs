//! rust-hdl emits one module per block instance (`top$cols$0$pos`, `top$cols$1$pos`, ...),
//! even when the instances are identical, which makes a 256-column block a megabyte of
//! copies. This pass keeps one module per distinct body and points every instance at it.
//! Modules are compared after their own name is blanked and their submodules are renamed
//! to their kept copies, children first, so identical subtrees collapse whole.

use std::collections::HashMap;

/// One module of the text: its name and its lines, `module` to `endmodule` inclusive.
struct Module<'a> {
    name: &'a str,
    lines: Vec<&'a str>,
}

/// Splits rust-hdl's Verilog into text between modules and modules, in order.
fn split(verilog: &str) -> Vec<Result<Module<'_>, &str>> {
    let mut out = vec![];
    let mut current: Option<Module> = None;
    for line in verilog.split_inclusive('\n') {
        if let Some(m) = current.as_mut() {
            m.lines.push(line);
            if line.starts_with("endmodule") {
                out.push(Ok(current.take().expect("open module")));
            }
        } else if let Some(rest) = line.strip_prefix("module ") {
            let name = rest.split('(').next().unwrap_or_default().trim();
            current = Some(Module {
                name,
                lines: vec![line],
            });
        } else {
            out.push(Err(line));
        }
    }
    if let Some(m) = current {
        out.extend(m.lines.into_iter().map(Err));
    }
    out
}

/// The module an instantiation line names (`    name inst(`), if it is one of `known`.
fn instantiated<'a>(line: &'a str, known: &HashMap<&str, usize>) -> Option<&'a str> {
    let t = line.trim_start();
    let first = t.split_whitespace().next()?;
    (known.contains_key(first) && t[first.len()..].trim_end().ends_with('(')).then_some(first)
}

/// The Verilog with each set of identical modules replaced by its first member.
pub fn dedup_modules(verilog: &str) -> String {
    let parts = split(verilog);
    let index: HashMap<&str, usize> = parts
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.as_ref().ok().map(|m| (m.name, i)))
        .collect();
    // Children (longer hierarchical names) first, so their canonical names are known.
    let mut order: Vec<usize> = index.values().copied().collect();
    order.sort_by_key(|&i| {
        let name = parts[i].as_ref().map(|m| m.name).unwrap_or_default();
        (std::cmp::Reverse(name.matches('$').count()), i)
    });
    let mut canonical: HashMap<&str, &str> = HashMap::new();
    let mut seen: HashMap<String, &str> = HashMap::new();
    let mut bodies: HashMap<&str, String> = HashMap::new();
    for i in order {
        let m = parts[i].as_ref().expect("a module");
        let mut body = String::new();
        for line in &m.lines {
            match instantiated(line, &index) {
                Some(sub) => body += &line.replacen(sub, canonical.get(sub).unwrap_or(&sub), 1),
                None => body += line,
            }
        }
        let key = body
            .replacen(&format!("module {}(", m.name), "module (", 1)
            .replacen(&format!("endmodule // {}", m.name), "endmodule //", 1);
        let keep = *seen.entry(key).or_insert(m.name);
        canonical.insert(m.name, keep);
        bodies.insert(m.name, body);
    }
    let mut out = String::new();
    for p in &parts {
        match p {
            Err(text) => out += text,
            Ok(m) if canonical[m.name] == m.name => out += &bodies[m.name],
            Ok(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\n\nmodule top$a$0(x);\n    input wire x;\nendmodule // top$a$0\n\n\
        module top$a$1(x);\n    input wire x;\nendmodule // top$a$1\n\n\
        module top$b(x);\n    input wire y;\nendmodule // top$b\n\n\
        module top(x);\n    top$a$0 a$0(\n        .x(x)\n    );\n    top$a$1 a$1(\n        .x(x)\n    );\n\
        \x20   top$b b(\n        .x(x)\n    );\nendmodule // top\n";

    #[test]
    fn identical_modules_collapse_and_instances_follow() {
        let d = dedup_modules(TEXT);
        assert!(
            d.contains("module top$a$0(") && !d.contains("module top$a$1("),
            "{d}"
        );
        assert!(
            d.contains("    top$a$0 a$0(") && d.contains("    top$a$0 a$1("),
            "{d}"
        );
        assert!(
            d.contains("module top$b(") && d.contains("    top$b b("),
            "{d}"
        );
        assert_eq!(d.matches("\nmodule ").count(), 3, "{d}");
        // Idempotent.
        assert_eq!(dedup_modules(&d), d);
    }
}
