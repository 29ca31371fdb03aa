//! The FP16 baseline's conversions in RTL against the golden model, exhaustively: every ADC
//! code into binary16, every binary16 value into output codes of several formats.

use half::f16;
use nmpu_config::{NmpuConfig, QFormat};
use nmpu_model::fp16::{from_code, to_code};
use nmpu_rtl::fp16_convert::{FromCode, ToCode};
use nmpu_rtl::generate::block_verilog;
use nmpu_verification::verilator::{build, Dut};

fn dut(verilog: &str, top: &str) -> Dut {
    Dut::load(&build(verilog, top).unwrap()).unwrap()
}

#[test]
fn every_code_converts_like_the_model() {
    for in_bits in [13u32, 6, 18, 24] {
        let cfg = NmpuConfig::from_toml_str(&format!("in_bits = {in_bits}")).unwrap();
        let mut d = dut(
            &block_verilog(&cfg, FromCode::new(&cfg), "from_code"),
            "from_code",
        );
        let (x, z) = (d.port("x").unwrap(), d.port("z").unwrap());
        let half = 1i64 << (in_bits - 1);
        // Every code up to 2^18; for 24 bits every code near zero and the extremes, and a
        // stride through the rest (every rounding boundary class is hit many times).
        let codes: Vec<i64> = if in_bits <= 18 {
            (-half..half).collect()
        } else {
            (-70_000..70_000)
                .chain((-half..half).step_by(997))
                .chain([-half, half - 1])
                .collect()
        };
        for c in codes {
            // Garbage above the code's width must be ignored.
            d.set(
                &x,
                ((c as u64) & ((1 << in_bits) - 1)) | (0xabcdef << in_bits) & 0xff_ffff,
            );
            d.peek();
            let want = from_code(c).to_bits();
            assert_eq!(
                d.get(&z) as u16,
                want,
                "in_bits {in_bits}, code {c}: got {:#06x}, want {want:#06x}",
                d.get(&z)
            );
        }
    }
}

#[test]
fn every_binary16_converts_like_the_model() {
    let formats = [
        QFormat::new(true, 8, 0),
        QFormat::new(false, 8, 0),
        QFormat::new(true, 8, 3),
        QFormat::new(true, 16, 0),
        QFormat::new(false, 4, 12),
        QFormat::new(true, -2, 6),
    ];
    let cfg = NmpuConfig::default();
    for f in formats {
        let mut d = dut(&block_verilog(&cfg, ToCode::new(&f), "to_code"), "to_code");
        let (z, y) = (d.port("z").unwrap(), d.port("y").unwrap());
        for bits in 0..=u16::MAX {
            d.set(&z, u64::from(bits));
            d.peek();
            let want = to_code(f16::from_bits(bits), f.frac, f.min_code(), f.max_code());
            let want_word = (want as u64) & 0xffff;
            assert_eq!(
                d.get(&y),
                want_word,
                "{f:?}: z = {bits:#06x} ({}), want {want}",
                f16::from_bits(bits)
            );
        }
    }
}

/// Both conversions pass Verilator -Wall (with the project's waivers) and Icarus -Wall.
#[test]
fn conversions_are_lint_clean() {
    let cfg = NmpuConfig::default();
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fp16-lint");
    std::fs::create_dir_all(&dir).unwrap();
    let vlt = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../constraints/verilator.vlt");
    for (top, v) in [
        (
            "from_code",
            block_verilog(&cfg, FromCode::new(&cfg), "from_code"),
        ),
        (
            "to_code",
            block_verilog(&cfg, ToCode::new(&cfg.output.format), "to_code"),
        ),
    ] {
        let f = dir.join(format!("{top}.v"));
        std::fs::write(&f, v).unwrap();
        let o = std::process::Command::new("verilator")
            .args(["--lint-only", "-Wall", "--top-module", top])
            .arg(&vlt)
            .arg(&f)
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&o.stderr);
        assert!(
            o.status.success() && !log.contains("%Warning"),
            "{top}:\n{log}"
        );
        let o = std::process::Command::new("iverilog")
            .args(["-g2005", "-Wall", "-o"])
            .arg(dir.join("a.out"))
            .arg(&f)
            .output()
            .unwrap();
        assert!(
            o.status.success() && o.stderr.is_empty(),
            "{top}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}
