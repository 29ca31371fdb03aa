//! What the model and the hardware can build, checked field by field.

use crate::config::NmpuConfig;
use crate::error::ConfigError;
use crate::format::QFormat;
use crate::shape::MacShape;

/// The accepted ranges, public so that tools and tests can quote them.
pub mod limits {
    pub const COLUMNS: (u32, u32) = (1, 4096);
    pub const LANES: (u32, u32) = (1, 64);
    pub const IN_BITS: (u32, u32) = (2, 24);
    /// Word width of coefficients and stage results.
    pub const WIDTH: (u32, u32) = (1, 32);
    /// Word width of the output code.
    pub const OUTPUT_WIDTH: (u32, u32) = (2, 16);
    pub const FRAC: (u32, u32) = (0, 40);
    /// The widest exact intermediate (product plus aligned offset) a stage may need.
    pub const INTERMEDIATE_BITS: u32 = 64;
    /// The most fractional bits a stage's exact sum may be aligned to.
    pub const ALIGN_FRAC: u32 = 62;
    pub const ADC_COUNT_BITS: (u32, u32) = (1, 23);
    pub const ADC_WINDOW: (u32, u32) = (1, 1 << 24);
    pub const DAC_ROWS: (u32, u32) = (1, 4096);
    pub const DAC_BITS: (u32, u32) = (2, 16);
    pub const DAC_LANES: (u32, u32) = (1, 64);
    pub const DAC_CYCLES_PER_LSB: (u32, u32) = (1, 1024);
}

impl NmpuConfig {
    /// Checks every field against what the model and the hardware can build.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate(self)
    }
}

fn validate(cfg: &NmpuConfig) -> Result<(), ConfigError> {
    in_range("columns", cfg.columns, limits::COLUMNS)?;
    in_range("lanes", cfg.lanes, limits::LANES)?;
    divides(("lanes", cfg.lanes), ("columns", cfg.columns))?;
    in_range("in_bits", cfg.in_bits, limits::IN_BITS)?;

    let c = &cfg.coefficients;
    format_ok("coefficients.a", &c.a, limits::WIDTH)?;
    format_ok("coefficients.b", &c.b, limits::WIDTH)?;
    format_ok("coefficients.g", &c.g, limits::WIDTH)?;
    format_ok("coefficients.h", &c.h, limits::WIDTH)?;
    format_ok("affine.format", &cfg.affine.format, limits::WIDTH)?;
    format_ok("batch_norm.format", &cfg.batch_norm.format, limits::WIDTH)?;
    format_ok("output.format", &cfg.output.format, limits::OUTPUT_WIDTH)?;

    let x = QFormat::new(true, cfg.in_bits as i32, 0);
    if cfg.fuse_affine_bn {
        mac_fits(
            "batch_norm (fused a*x + b)",
            &x,
            &c.a,
            &c.b,
            &cfg.batch_norm.format,
        )?;
    } else {
        mac_fits("affine", &x, &c.a, &c.b, &cfg.affine.format)?;
        mac_fits(
            "batch_norm",
            &cfg.affine.format,
            &c.g,
            &c.h,
            &cfg.batch_norm.format,
        )?;
    }
    validate_adc(cfg)?;
    validate_dac(cfg)?;
    let z = &cfg.batch_norm.format;
    let out = &cfg.output.format;
    let aligned = z.signed_width() + out.frac.saturating_sub(z.frac);
    if aligned > limits::INTERMEDIATE_BITS {
        return Err(wide("output", aligned));
    }
    Ok(())
}

fn validate_adc(cfg: &NmpuConfig) -> Result<(), ConfigError> {
    let a = &cfg.adc;
    in_range("adc.count_bits", a.count_bits, limits::ADC_COUNT_BITS)?;
    in_range("adc.window", a.window, limits::ADC_WINDOW)?;
    if cfg.in_bits < a.count_bits + 1 {
        return Err(ConfigError::Invalid {
            field: "adc.count_bits".into(),
            message: format!(
                "adc.count_bits = {} gives codes pos - neg up to +-{}, which need in_bits >= {} \
                 (in_bits = {}); lower adc.count_bits or raise in_bits",
                a.count_bits,
                (1u64 << a.count_bits) - 1,
                a.count_bits + 1,
                cfg.in_bits
            ),
        });
    }
    Ok(())
}

fn validate_dac(cfg: &NmpuConfig) -> Result<(), ConfigError> {
    let d = &cfg.dac;
    in_range("dac.rows", d.rows, limits::DAC_ROWS)?;
    in_range("dac.bits", d.bits, limits::DAC_BITS)?;
    in_range("dac.lanes", d.lanes, limits::DAC_LANES)?;
    in_range(
        "dac.cycles_per_lsb",
        d.cycles_per_lsb,
        limits::DAC_CYCLES_PER_LSB,
    )?;
    divides(("dac.lanes", d.lanes), ("dac.rows", d.rows))?;
    Ok(())
}

/// `lanes` (a field and its value) must divide `total`.
fn divides((field, lanes): (&str, u32), (what, total): (&str, u32)) -> Result<(), ConfigError> {
    if total % lanes == 0 {
        return Ok(());
    }
    Err(ConfigError::Invalid {
        field: field.into(),
        message: format!(
            "{field} = {lanes} does not divide {what} = {total}; pick a divisor of {total} such as {}",
            divisors_hint(total)
        ),
    })
}

fn in_range(field: &str, value: u32, (lo, hi): (u32, u32)) -> Result<(), ConfigError> {
    if (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            field: field.into(),
            value: value.to_string(),
            allowed: format!("{lo} ..= {hi}"),
        })
    }
}

fn format_ok(field: &str, f: &QFormat, (lo, hi): (u32, u32)) -> Result<(), ConfigError> {
    if f.frac > limits::FRAC.1 {
        return Err(ConfigError::OutOfRange {
            field: format!("{field}.frac"),
            value: f.frac.to_string(),
            allowed: format!("{} ..= {}", limits::FRAC.0, limits::FRAC.1),
        });
    }
    let width = f.int as i64 + f.frac as i64;
    let lo = if f.signed { lo.max(2) } else { lo };
    if width < lo as i64 || width > hi as i64 {
        return Err(ConfigError::OutOfRange {
            field: field.into(),
            value: format!(
                "{{ signed = {}, int = {}, frac = {} }} ({} bits)",
                f.signed, f.int, f.frac, width
            ),
            allowed: format!(
                "a word of {lo} ..= {hi} bits (int + frac; `int` counts the sign bit)"
            ),
        });
    }
    Ok(())
}

/// Rejects a multiply-add `v*k + o -> r` whose exact intermediate exceeds the limit.
fn mac_fits(
    stage: &str,
    v: &QFormat,
    k: &QFormat,
    o: &QFormat,
    r: &QFormat,
) -> Result<(), ConfigError> {
    let shape = MacShape::of(v, k, o, r);
    if shape.sum_bits > limits::INTERMEDIATE_BITS {
        return Err(wide(stage, shape.sum_bits));
    }
    if shape.frac > limits::ALIGN_FRAC {
        return Err(ConfigError::Invalid {
            field: stage.split(' ').next().unwrap_or(stage).to_string(),
            message: format!(
                "stage `{stage}` aligns its sum at {} fractional bits, more than the {} \
                 supported; reduce the fractional bits of its operands",
                shape.frac,
                limits::ALIGN_FRAC
            ),
        });
    }
    Ok(())
}

fn wide(stage: &str, bits: u32) -> ConfigError {
    ConfigError::Invalid {
        field: stage.split(' ').next().unwrap_or(stage).to_string(),
        message: format!(
            "stage `{stage}` needs a {bits}-bit exact intermediate, more than the {} bits \
             the model and hardware support; reduce the fractional bits or widths of its \
             operands or result",
            limits::INTERMEDIATE_BITS
        ),
    }
}

fn divisors_hint(n: u32) -> String {
    let d: Vec<String> = (1..=limits::LANES.1)
        .filter(|d| n % d == 0)
        .map(|d| d.to_string())
        .collect();
    d.join(", ")
}

#[cfg(test)]
mod tests {
    use crate::{ConfigError, NmpuConfig};

    fn err(toml: &str) -> ConfigError {
        NmpuConfig::from_toml_str(toml).expect_err("config should be rejected")
    }

    #[test]
    fn zero_lanes_names_the_field_and_range() {
        let e = err("lanes = 0");
        assert_eq!(e.field(), Some("lanes"));
        assert!(e.to_string().contains("1 ..= 64"), "{e}");
    }

    #[test]
    fn lanes_must_divide_columns() {
        let e = err("columns = 256\nlanes = 12");
        assert_eq!(e.field(), Some("lanes"));
        assert!(e.to_string().contains("does not divide"), "{e}");
    }

    #[test]
    fn adc_counts_must_fit_the_nmpu_input() {
        let e = err("in_bits = 12\n[adc]\ncount_bits = 12");
        assert_eq!(e.field(), Some("adc.count_bits"));
        assert!(e.to_string().contains("in_bits >= 13"), "{e}");
        assert!(NmpuConfig::from_toml_str("in_bits = 12\n[adc]\ncount_bits = 11").is_ok());
        assert_eq!(err("[adc]\nwindow = 0").field(), Some("adc.window"));
    }

    #[test]
    fn adc_counters_follow_in_bits_unless_set() {
        let c = NmpuConfig::from_toml_str("in_bits = 9").unwrap();
        assert_eq!(c.adc.count_bits, 8);
        let c = NmpuConfig::from_toml_str("in_bits = 16\n[adc]\ncount_bits = 10").unwrap();
        assert_eq!(c.adc.count_bits, 10);
    }

    #[test]
    fn dac_parameters_are_checked() {
        let e = err("[dac]\nrows = 100\nlanes = 8");
        assert_eq!(e.field(), Some("dac.lanes"));
        assert!(
            e.to_string().contains("does not divide dac.rows = 100"),
            "{e}"
        );
        assert_eq!(err("[dac]\nbits = 1").field(), Some("dac.bits"));
        assert_eq!(err("[dac]\nbits = 17").field(), Some("dac.bits"));
        assert_eq!(
            err("[dac]\ncycles_per_lsb = 0").field(),
            Some("dac.cycles_per_lsb")
        );
        assert_eq!(err("[dac]\nrows = 5000").field(), Some("dac.rows"));
    }

    #[test]
    fn dac_period_counts_both_phases() {
        let one = NmpuConfig::default();
        assert_eq!(one.dac_period(), 128);
        let two = NmpuConfig::from_toml_str("[dac]\ntwo_phase = true\ncycles_per_lsb = 3").unwrap();
        assert_eq!(two.dac_period(), 2 * 128 * 3);
    }

    #[test]
    fn unknown_key_is_rejected_by_name() {
        let e = err("lanez = 8");
        assert!(matches!(e, ConfigError::Parse(_)));
        assert!(e.to_string().contains("lanez"), "{e}");
    }

    #[test]
    fn unknown_nested_key_is_rejected() {
        let e = err("[affine]\nformat = { signed = true, int = 14, frac = 1 }\nround = \"floor\"");
        assert!(e.to_string().contains("round"), "{e}");
    }

    #[test]
    fn unknown_rounding_mode_lists_the_choices() {
        let e = err("[output]\nformat = { signed = true, int = 8, frac = 0 }\nrounding = \"up\"");
        assert!(e.to_string().contains("half_even"), "{e}");
    }

    #[test]
    fn in_bits_out_of_range() {
        assert_eq!(err("in_bits = 1").field(), Some("in_bits"));
        assert_eq!(err("in_bits = 25").field(), Some("in_bits"));
    }

    #[test]
    fn too_wide_coefficient_is_rejected() {
        let e = err(
            "[coefficients]\na = { signed = true, int = 2, frac = 31 }\n\
                     b = { signed = true, int = 8, frac = 0 }\n\
                     g = { signed = true, int = 2, frac = 8 }\n\
                     h = { signed = true, int = 8, frac = 0 }",
        );
        assert_eq!(e.field(), Some("coefficients.a"));
    }

    #[test]
    fn signed_one_bit_word_is_rejected() {
        let e = err("[output]\nformat = { signed = true, int = 1, frac = 0 }");
        assert_eq!(e.field(), Some("output.format"));
    }

    #[test]
    fn product_wider_than_64_bits_is_rejected() {
        // 24-bit x times a 32-bit gain, aligned to a 40-bit-fraction offset: far over 64 bits.
        let e = err("in_bits = 24\n[coefficients]\n\
                     a = { signed = true, int = 2, frac = 30 }\n\
                     b = { signed = true, int = -8, frac = 40 }\n\
                     g = { signed = true, int = 2, frac = 8 }\n\
                     h = { signed = true, int = 8, frac = 0 }");
        assert_eq!(e.field(), Some("affine"));
        assert!(e.to_string().contains("64 bits"), "{e}");
    }

    #[test]
    fn frac_above_limit_is_rejected() {
        let e = err("[batch_norm]\nformat = { signed = true, int = -20, frac = 41 }");
        assert_eq!(e.field(), Some("batch_norm.format.frac"));
    }
}
