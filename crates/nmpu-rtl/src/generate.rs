//! From a configuration to Verilog text.

use crate::adc::AdcCapture;
use crate::dac::PwmDac;
use crate::dedup::dedup_modules;
use crate::params::NmpuParams;
use crate::tile_io::{tile_io_verilog, TILE_IO_MODULE};
use crate::top::Nmpu;
use crate::wrapper::bus_wrapper;
use nmpu_config::{ConfigError, NmpuConfig};
use rust_hdl::prelude::*;

/// The blocks nmpu generates: the one list every tool takes them from (the files of
/// `nmpu generate`, the FuseSoC core, `nmpu synth`, the lint script through `nmpu.f`).
/// Each is a top module of the same name in a file of the same name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Block {
    /// The fixed-point NMPU.
    Nmpu,
    /// The CCO-ADC capture in front of it.
    AdcCapture,
    /// The chain `adc_capture -> nmpu` (structural).
    TileIo,
    /// The next layer's PWM row driver.
    PwmDac,
    /// The FP16 baseline with the NMPU's ports.
    NmpuFp16,
}

impl Block {
    /// Every block, in the order of the filelist.
    pub const ALL: [Block; 5] = [
        Block::Nmpu,
        Block::AdcCapture,
        Block::TileIo,
        Block::PwmDac,
        Block::NmpuFp16,
    ];

    /// The top module (and file stem).
    pub fn module(self) -> &'static str {
        match self {
            Block::Nmpu => TOP_MODULE,
            Block::AdcCapture => ADC_MODULE,
            Block::TileIo => TILE_IO_MODULE,
            Block::PwmDac => DAC_MODULE,
            Block::NmpuFp16 => FP16_MODULE,
        }
    }

    /// The file holding the block: `<module>.v`.
    pub fn file(self) -> String {
        format!("{}.v", self.module())
    }

    /// The block whose top module is `name`.
    pub fn from_module(name: &str) -> Option<Block> {
        Block::ALL.into_iter().find(|b| b.module() == name)
    }

    /// The blocks whose files a tool must read to elaborate this one (itself last).
    pub fn needs(self) -> &'static [Block] {
        match self {
            Block::TileIo => &[Block::Nmpu, Block::AdcCapture, Block::TileIo],
            Block::Nmpu => &[Block::Nmpu],
            Block::AdcCapture => &[Block::AdcCapture],
            Block::PwmDac => &[Block::PwmDac],
            Block::NmpuFp16 => &[Block::NmpuFp16],
        }
    }

    /// This block's Verilog for `cfg`.
    pub fn generate(self, cfg: &NmpuConfig) -> Result<String, ConfigError> {
        cfg.validate()?;
        Ok(match self {
            Block::Nmpu => Datapath::Fixed.generate(cfg)?,
            Block::NmpuFp16 => Datapath::Fp16.generate(cfg)?,
            Block::AdcCapture => block_verilog(cfg, AdcCapture::new(cfg), ADC_MODULE),
            Block::PwmDac => block_verilog(cfg, PwmDac::new(cfg), DAC_MODULE),
            Block::TileIo => with_header(cfg, TILE_IO_MODULE, &tile_io_verilog(cfg)),
        })
    }
}

/// The generated files: every block's Verilog, the filelist and the FuseSoC core file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtlFiles {
    verilog: Vec<(Block, String)>,
    filelist: String,
    core: String,
}

impl RtlFiles {
    /// The Verilog of `block`.
    pub fn get(&self, block: Block) -> &str {
        &self
            .verilog
            .iter()
            .find(|(b, _)| *b == block)
            .expect("every block is generated")
            .1
    }

    /// The Verilog of the blocks `block` needs, concatenated (see [`Block::needs`]).
    pub fn elaborate(&self, block: Block) -> String {
        block.needs().iter().map(|&b| self.get(b)).collect()
    }

    /// Every file as (name, contents), in a fixed order: the blocks, `nmpu.f`, the core.
    pub fn files(&self) -> Vec<(String, &str)> {
        let mut f: Vec<(String, &str)> = self
            .verilog
            .iter()
            .map(|(b, v)| (b.file(), v.as_str()))
            .collect();
        f.push((FILELIST.into(), &self.filelist));
        f.push((CORE_FILE.into(), &self.core));
        f
    }
}

/// Name of the top module in the generated Verilog.
pub const TOP_MODULE: &str = "nmpu";

/// The filelist `generate` writes: every block's file, one per line.
pub const FILELIST: &str = "nmpu.f";

/// Generates every block for `cfg`. Deterministic: the same config gives the same bytes.
pub fn generate(cfg: &NmpuConfig) -> Result<RtlFiles, ConfigError> {
    cfg.validate()?;
    let verilog = Block::ALL
        .into_iter()
        .map(|b| Ok((b, b.generate(cfg)?)))
        .collect::<Result<Vec<_>, ConfigError>>()?;
    let filelist = Block::ALL.iter().map(|b| b.file() + "\n").collect();
    Ok(RtlFiles {
        verilog,
        filelist,
        core: fusesoc_core(),
    })
}

/// The FuseSoC core file that `generate` writes beside the Verilog.
pub const CORE_FILE: &str = "nmpu.core";

/// A FuseSoC (CAPI 2) description of the generated files: one fileset, a target per top
/// for Verilator lint (the waivers of constraints/verilator.vlt as options) and an iCE40
/// synthesis target for the NMPU (edalize's Yosys backend knows no generic architecture).
fn fusesoc_core() -> String {
    let version = env!("CARGO_PKG_VERSION");
    let files = Block::ALL
        .iter()
        .map(|b| format!("      - {}\n", b.file()))
        .collect::<String>();
    let mut s = format!(
        "CAPI=2:\n\
         # Generated by nmpu {version}. Do not edit. The tops and their ports are in nmpu's README.\n\
         name: nmpu:ip:nmpu:{version}\n\
         description: Near-memory digital processing unit of an AIMC tile, with its ADC capture, PWM DAC and FP16 baseline\n\
         \n\
         filesets:\n\
         \x20 rtl:\n\
         \x20   files:\n{files}\
         \x20   file_type: verilogSource\n\
         \n\
         targets:\n\
         \x20 default: &default\n\
         \x20   filesets: [rtl]\n\
         \x20   toplevel: {TOP_MODULE}\n\
         \x20 synth:\n\
         \x20   <<: *default\n\
         \x20   default_tool: yosys\n\
         \x20   tools:\n\
         \x20     yosys:\n\
         \x20       arch: ice40\n"
    );
    // Lint targets: the NMPU and its baseline first, the interface blocks, the chain.
    for block in [
        Block::Nmpu,
        Block::NmpuFp16,
        Block::AdcCapture,
        Block::PwmDac,
        Block::TileIo,
    ] {
        let top = block.module();
        s += &format!(
            "  lint_{top}:\n\
             \x20   <<: *default\n\
             \x20   toplevel: {top}\n\
             \x20   default_tool: verilator\n\
             \x20   tools:\n\
             \x20     verilator:\n\
             \x20       mode: lint-only\n\
             \x20       verilator_options: [-Wall, -Wno-WIDTH, -Wno-DECLFILENAME]\n"
        );
    }
    s
}

/// Which NMPU: the fixed-point one, or the FP16 baseline with the same ports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Datapath {
    #[default]
    Fixed,
    Fp16,
}

impl Datapath {
    pub fn block(self) -> Block {
        match self {
            Datapath::Fixed => Block::Nmpu,
            Datapath::Fp16 => Block::NmpuFp16,
        }
    }

    pub fn module(self) -> &'static str {
        self.block().module()
    }

    /// Register stages: an input handshake on edge n gives an output handshake on edge
    /// n + latency when the consumer is ready.
    pub fn latency(self) -> usize {
        match self {
            Datapath::Fixed => crate::LATENCY,
            Datapath::Fp16 => crate::FP16_LATENCY,
        }
    }

    /// The top's Verilog for `cfg`.
    pub fn generate(self, cfg: &NmpuConfig) -> Result<String, ConfigError> {
        cfg.validate()?;
        let top = match self {
            Datapath::Fixed => Nmpu::new(&NmpuParams::new(cfg)),
            Datapath::Fp16 => Nmpu::fp16(cfg),
        };
        Ok(block_verilog(cfg, top, self.module()))
    }
}

/// Name of the FP16 baseline's top module (docs/arithmetic.md section 6: the NMPU's
/// ports, binary16 coefficients, two FMAs).
pub const FP16_MODULE: &str = "nmpu_fp16";

/// Name of the ADC capture block's top module.
pub const ADC_MODULE: &str = "adc_capture";

/// Name of the PWM DAC's top module.
pub const DAC_MODULE: &str = "pwm_dac";

/// A rust-hdl block as a file: its Verilog (identical modules merged, [`crate::dedup`]), the
/// rust-hdl top renamed `<module>_core`, under the documented top `module` with packed
/// buses ([`crate::wrapper`]), and the header.
pub fn block_verilog<B: rust_hdl::prelude::Block>(
    cfg: &NmpuConfig,
    mut top: B,
    module: &str,
) -> String {
    top.connect_all();
    let core = format!("{module}_core");
    let body = dedup_modules(&rename_top(&generate_verilog(&top), &core));
    let wrapper = bus_wrapper(&body, &core, module);
    with_header(cfg, module, &format!("{body}\n{wrapper}"))
}

fn with_header(cfg: &NmpuConfig, module: &str, body: &str) -> String {
    let mut header = String::new();
    header += &format!(
        "// Generated by nmpu {} (nmpu-rtl on rust-hdl 0.46). Do not edit.\n",
        env!("CARGO_PKG_VERSION")
    );
    header += &format!("// Top module `{module}`; see the README for its ports and protocol.\n");
    header += "// Configuration:\n";
    for line in cfg.to_toml_string().lines() {
        header += format!("//   {line}").trim_end();
        header.push('\n');
    }
    format!("{header}{body}")
}

/// rust-hdl names the top module `top` and every submodule `top$path`.
fn rename_top(v: &str, name: &str) -> String {
    v.replace("module top(", &format!("module {name}("))
        .replace("endmodule // top\n", &format!("endmodule // {name}\n"))
        .replace("top$", &format!("{name}$"))
}
