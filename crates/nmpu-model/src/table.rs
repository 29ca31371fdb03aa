//! A comparison as the side-by-side table `nmpu compare` prints.

use crate::compare::{Comparison, EngineReport};
use crate::metrics::ErrStats;
use nmpu_config::NmpuConfig;
use std::fmt::Write;

fn cell(s: Option<&ErrStats>) -> String {
    match s {
        Some(s) => format!("{:>9.4} {:>9.4}", s.max, s.mean()),
        None => format!("{:>9} {:>9}", "-", "-"),
    }
}

fn row(out: &mut String, name: &str, unit: &str, f: Option<&ErrStats>, h: Option<&ErrStats>) {
    let _ = writeln!(out, "  {name:<12} {unit:<22} {}   {}", cell(f), cell(h));
}

/// The table of `cmp` on `cfg`; `config`, `coeffs` and `input` say where each came from.
pub fn render(
    cfg: &NmpuConfig,
    config: &str,
    coeffs: &str,
    input: &str,
    cmp: &Comparison,
) -> String {
    let (f, h): (&EngineReport, &EngineReport) = (&cmp.fixed, &cmp.fp16);
    let mut s = String::new();
    let _ = writeln!(s, "nmpu compare");
    let _ = writeln!(s, "  config        {config}");
    let _ = writeln!(
        s,
        "                {} columns, {} lanes, in_bits {}, {}, activation {}",
        cfg.columns,
        cfg.lanes,
        cfg.in_bits,
        if cfg.fuse_affine_bn {
            "fused affine+bn"
        } else {
            "affine then batch-norm"
        },
        cfg.activation.name()
    );
    let _ = writeln!(s, "  coefficients  {coeffs}");
    let _ = writeln!(s, "  input         {input} ({} elements)", f.elements);
    let _ = writeln!(s, "  quantization  {}", cmp.quant_report.summary());
    if !cmp.f16_overflows.is_empty() {
        let _ = writeln!(
            s,
            "  fp16          {} coefficient(s) overflow binary16",
            cmp.f16_overflows.len()
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "  {:<12} {:<22} {:>19}   {:>19}",
        "", "", "fixed point", "fp16"
    );
    let _ = writeln!(
        s,
        "  {:<12} {:<22} {:>9} {:>9}   {:>9} {:>9}",
        "|error|", "unit", "max", "mean", "max", "mean"
    );
    let aff_unit = format!("affine LSB (2^-{})", cfg.affine.format.frac);
    row(
        &mut s,
        "affine",
        &aff_unit,
        f.affine.as_ref(),
        h.affine.as_ref(),
    );
    row(
        &mut s,
        "batch_norm",
        "output LSB",
        Some(&f.batch_norm),
        Some(&h.batch_norm),
    );
    row(
        &mut s,
        "activation",
        "output LSB",
        Some(&f.activation),
        Some(&h.activation),
    );
    row(
        &mut s,
        "output",
        "LSB vs f64 real",
        Some(&f.output_vs_real),
        Some(&h.output_vs_real),
    );
    row(
        &mut s,
        "output",
        "LSB vs f64 code",
        Some(&f.output_vs_code),
        Some(&h.output_vs_code),
    );
    let _ = writeln!(
        s,
        "  {:<12} {:<22} {:>18.3}%   {:>18.3}%",
        "mismatch",
        "codes != f64 code",
        100.0 * f.mismatch_rate(),
        100.0 * h.mismatch_rate()
    );
    let _ = writeln!(
        s,
        "  {:<12} {:<22} {:>19}",
        "saturated",
        "affine/bn/requantize",
        format!(
            "{}/{}/{}",
            f.saturations[0], f.saturations[1], f.saturations[2]
        )
    );
    let _ = writeln!(
        s,
        "  (stage rows leave out elements saturated at or before that stage; output rows count all)"
    );
    s
}
