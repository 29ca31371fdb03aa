//! The generated RTL as a Verilated model loaded into this process.
//!
//! Configs arrive at run time (property tests, `nmpu cosim` on a user's file), so models
//! are built at run time: `verilator --cc --build` compiles the top module, a small
//! `extern "C"` shim generated from the top's port list (one clock cycle per call: inputs
//! in, outputs sampled before the rising edge) is linked into a shared library, and the
//! library is loaded with `libloading`. Libraries are cached by a hash of everything that
//! goes into them, so a design is only built once. Any generated block works: the port list
//! is read from the Verilog.
//!
//! Models are built without waveform tracing: Verilator's `--trace` code is most of the
//! C++ to compile (the default config: 17 s with it, 3 s without). A VCD is written by
//! the traced twin of a model ([`Built::traced`]), built only when one is asked for (a
//! failure's record, `nmpu cosim --vcd`).

use anyhow::{bail, Context, Result};
use nmpu_eda::process::run;
use nmpu_eda::tools::{verilator_root, Tool};
use std::ffi::{c_void, CString};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// One port of the top module, as declared in the Verilog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    pub name: String,
    pub width: u32,
    pub input: bool,
    /// First word of this port in the input or output word array.
    pub offset: usize,
    /// Bit of that word where the value starts: 0 for a whole port, the slice's position
    /// for one lane of a packed bus (see [`Dut::port_vec`]).
    pub bit: u32,
}

impl Port {
    fn words(&self) -> usize {
        self.width.div_ceil(32) as usize
    }

    /// The C++ member Verilator gives the port (`$` is escaped as `__024`).
    fn member(&self) -> String {
        self.name.replace('$', "__024")
    }
}

/// The ports of module `top` in `verilog`, in declaration order, with word offsets (inputs
/// and outputs counted separately). Reads non-ANSI declarations (`input wire [23:0] s_x;`)
/// with the generator's reader ([`nmpu_rtl::wrapper::ports`]).
pub fn ports(verilog: &str, top: &str) -> Result<Vec<Port>> {
    if !verilog.contains(&format!("module {top}(")) {
        bail!("module {top} not found in the Verilog");
    }
    let (mut in_words, mut out_words) = (0, 0);
    let ports: Vec<Port> = nmpu_rtl::wrapper::ports(verilog, top)
        .into_iter()
        .map(|p| {
            let words = if p.input {
                &mut in_words
            } else {
                &mut out_words
            };
            let offset = *words;
            *words += p.width.div_ceil(32) as usize;
            Port {
                name: p.name,
                width: p.width,
                input: p.input,
                offset,
                bit: 0,
            }
        })
        .collect();
    if ports.is_empty() {
        bail!("module {top} declares no ports");
    }
    Ok(ports)
}

/// The shim for a top with `ports`: `dut_cycle(handle, in, out, dump)` drives the inputs,
/// samples the outputs before the rising edge, and runs one full clock period.
fn shim(ports: &[Port]) -> String {
    let mut set = String::new();
    let mut get = String::new();
    for p in ports {
        let (m, o) = (p.member(), p.offset);
        let line = match (p.input, p.words()) {
            (true, 1) => format!("    t->{m} = in[{o}];\n"),
            (true, 2) => format!("    t->{m} = (uint64_t)in[{o}] | ((uint64_t)in[{o} + 1] << 32);\n"),
            (true, n) => format!("    for (int i = 0; i < {n}; i++) t->{m}[i] = in[{o} + i];\n"),
            (false, 1) => format!("    out[{o}] = (uint32_t)t->{m};\n"),
            (false, 2) => format!(
                "    out[{o}] = (uint32_t)t->{m}; out[{o} + 1] = (uint32_t)((uint64_t)t->{m} >> 32);\n"
            ),
            (false, n) => format!("    for (int i = 0; i < {n}; i++) out[{o} + i] = t->{m}[i];\n"),
        };
        if p.name == "clock" {
            continue;
        }
        if p.input {
            set += &line;
        } else {
            get += &line;
        }
    }
    // A purely combinational top has no clock: its cycles only evaluate.
    let clocked = ports.iter().any(|p| p.name == "clock" && p.input);
    let (c0, c1, c0t) = if clocked {
        ("h->top->clock = 0;", "t->clock = 1;", "t->clock = 0;")
    } else {
        ("", "", "")
    };
    SHIM_TEMPLATE
        .replace("/*SET*/", &set)
        .replace("/*GET*/", &get)
        .replace("/*CLOCK0*/", c0)
        .replace("/*CLOCK1*/", c1)
        .replace("/*CLOCK0T*/", c0t)
}

const SHIM_TEMPLATE: &str = r#"
#include "Vdut.h"
#include "verilated.h"
#if VM_TRACE
#include "verilated_vcd_c.h"
#endif
#include <cstdint>

#if VM_TRACE
#define DUMP if (dump && h->vcd) h->vcd->dump(h->time);
#else
#define DUMP (void)dump;
#endif

struct Handle {
    VerilatedContext* ctx;
    Vdut* top;
#if VM_TRACE
    VerilatedVcdC* vcd;
#endif
    uint64_t time;
};

extern "C" {
void* dut_new() {
    Handle* h = new Handle;
    h->ctx = new VerilatedContext;
#if VM_TRACE
    h->ctx->traceEverOn(true);
    h->vcd = nullptr;
#endif
    h->top = new Vdut(h->ctx);
    h->time = 0;
    /*CLOCK0*/
    h->top->eval();
    return h;
}

void dut_free(void* p) {
    Handle* h = (Handle*)p;
#if VM_TRACE
    if (h->vcd) { h->vcd->close(); delete h->vcd; }
#endif
    h->top->final();
    delete h->top;
    delete h->ctx;
    delete h;
}

int dut_vcd_open(void* p, const char* path) {
#if VM_TRACE
    Handle* h = (Handle*)p;
    if (h->vcd) return 1;
    h->vcd = new VerilatedVcdC;
    h->top->trace(h->vcd, 99);
    h->vcd->open(path);
    return h->vcd->isOpen() ? 0 : 2;
#else
    (void)p; (void)path;
    return 3;
#endif
}

void dut_peek(void* p, const uint32_t* in, uint32_t* out) {
    Handle* h = (Handle*)p;
    Vdut* t = h->top;
/*SET*/
    t->eval();
/*GET*/
}

void dut_cycle(void* p, const uint32_t* in, uint32_t* out, int dump) {
    Handle* h = (Handle*)p;
    Vdut* t = h->top;
/*SET*/
    t->eval();
    DUMP
/*GET*/
    h->time += 5;
    /*CLOCK1*/
    t->eval();
    DUMP
    h->time += 5;
    /*CLOCK0T*/
    t->eval();
}
}
"#;

/// FNV-1a over the parts, each followed by 0xff (a byte no text contains).
fn fnv(parts: &[&str]) -> u64 {
    nmpu_config::fnv1a(parts.iter().flat_map(|p| p.bytes().chain([0xff])))
}

/// Where built models are cached: `$NMPU_CACHE_DIR`, else `nmpu-cosim` in the temp dir.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("NMPU_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("nmpu-cosim"))
}

/// A built model library, its top's ports, and how long building it took (zero when it
/// came from the cache).
pub struct Built {
    pub library: PathBuf,
    pub ports: Vec<Port>,
    pub build_seconds: f64,
    /// Whether the model can write a VCD ([`Dut::open_vcd`]).
    pub traced: bool,
    verilog: std::sync::Arc<str>,
    top: String,
}

impl Built {
    /// The same design built with waveform tracing (itself when it already is).
    pub fn traced(&self) -> Result<Built> {
        build_with(&self.verilog, &self.top, true)
    }
}

/// Builds (or finds in the cache) the shared library for module `top` of `verilog`,
/// without waveform tracing.
pub fn build(verilog: &str, top: &str) -> Result<Built> {
    build_with(verilog, top, false)
}

/// As [`build`], with waveform tracing (`verilator --trace`): a model that can write a VCD.
pub fn build_traced(verilog: &str, top: &str) -> Result<Built> {
    build_with(verilog, top, true)
}

fn build_with(verilog: &str, top: &str, traced: bool) -> Result<Built> {
    // One build at a time in this process: threads asking for the same model wait for the
    // first and then find it in the cache; builds use every core anyway. Other processes
    // build in their own directories and the first rename wins.
    static BUILDING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
    let ports = ports(verilog, top)?;
    let shim = shim(&ports);
    let trace_args: &[&str] = if traced { &["--trace"] } else { &[] };
    let defines = runtime_defines(traced);
    let recipe = [
        VERILATOR_ARGS.join(" "),
        trace_args.join(" "),
        defines.join(" "),
        verilator_version()?,
    ];
    let mut parts = vec![verilog, top, &shim, env!("CARGO_PKG_VERSION")];
    parts.extend(recipe.iter().map(String::as_str));
    let key = format!("{:016x}", fnv(&parts));
    let dir = cache_dir().join(&key);
    let lib = dir.join("libdut.so");
    let built = |library, build_seconds| Built {
        library,
        ports,
        build_seconds,
        traced,
        verilog: verilog.into(),
        top: top.to_string(),
    };
    if lib.exists() {
        return Ok(built(lib, 0.0));
    }
    let start = Instant::now();
    std::fs::create_dir_all(cache_dir())?;
    // Build in a private directory, then rename: concurrent builds of one key are safe.
    let work = cache_dir().join(format!("{key}.tmp{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    std::fs::write(work.join("dut.v"), verilog)?;
    std::fs::write(work.join("shim.cpp"), &shim)?;
    let jobs = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .to_string();
    run(
        Tool::Verilator,
        Tool::Verilator
            .command()
            .args(VERILATOR_ARGS)
            .args(trace_args)
            .args(["-j", &jobs, "--Mdir", "obj", "--prefix", "Vdut"])
            .args(["--top-module", top, "dut.v"]),
        &work,
    )?;
    let runtime = runtime(traced)?;
    let include = format!("{}/include", verilator_root()?);
    let mut archives: Vec<PathBuf> = std::fs::read_dir(work.join("obj"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "a"))
        .collect();
    archives.sort();
    run(
        Tool::Gxx,
        Tool::Gxx
            .command()
            .args([
                "-shared",
                "-fPIC",
                "-O2",
                "-std=c++17",
                "-o",
                "libdut.so",
                "shim.cpp",
            ])
            .args(&defines)
            .arg(format!("-I{include}"))
            .arg(format!("-I{include}/vltstd"))
            .arg("-Iobj")
            .arg("-Wl,--whole-archive")
            .args(&archives)
            .arg("-Wl,--no-whole-archive")
            .args(&runtime)
            .args(["-lpthread", "-latomic"]),
        &work,
    )?;
    match std::fs::rename(&work, &dir) {
        Ok(()) => {}
        Err(_) if lib.exists() => {
            let _ = std::fs::remove_dir_all(&work); // another process won the race
        }
        Err(e) => return Err(e).context("cannot move the built model into the cache"),
    }
    Ok(built(lib, start.elapsed().as_secs_f64()))
}

/// How models are Verilated (`--trace` added for a traced model): the generated RTL's WIDTH
/// and DECLFILENAME warnings are waived as in constraints/verilator.vlt (lint is its own
/// test). The C++ is compiled with Verilator's default `-Os`; `-O2` measured no faster
/// (cosim bench, default config).
const VERILATOR_ARGS: [&str; 13] = [
    "--cc",
    "--build",
    "-Wno-fatal",
    "-Wno-WIDTH",
    "-Wno-DECLFILENAME",
    "-O3",
    "--x-assign",
    "fast",
    "--x-initial",
    "fast",
    "--noassert",
    "-CFLAGS",
    "-fPIC",
];

/// Defines the Verilator runtime and the shim are compiled with; they must match the model
/// (traced or not, no coverage, no SystemC).
fn runtime_defines(traced: bool) -> Vec<String> {
    let t = u8::from(traced);
    vec![
        format!("-DVM_TRACE={t}"),
        format!("-DVM_TRACE_VCD={t}"),
        "-DVM_COVERAGE=0".into(),
        "-DVM_SC=0".into(),
    ]
}

fn runtime_sources(traced: bool) -> Vec<&'static str> {
    let mut s = vec!["verilated.cpp", "verilated_threads.cpp"];
    if traced {
        s.push("verilated_vcd_c.cpp");
    }
    s
}

/// The Verilator runtime objects, compiled once per Verilator install and shared by every
/// model (`verilator --build` without `--exe` leaves them out).
fn runtime(traced: bool) -> Result<Vec<PathBuf>> {
    let root = verilator_root()?;
    let defines = runtime_defines(traced);
    let sources = runtime_sources(traced);
    let key = fnv(&[&root, &verilator_version()?, &defines.join(" ")]);
    let dir = cache_dir().join(format!("runtime-{key:016x}"));
    let objs: Vec<PathBuf> = sources
        .iter()
        .map(|s| dir.join(s.replace(".cpp", ".o")))
        .collect();
    if objs.iter().all(|o| o.exists()) {
        return Ok(objs);
    }
    let work = cache_dir().join(format!("runtime-{key:016x}.tmp{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let include = format!("{root}/include");
    nmpu_eda::jobs::parallel(&sources, |_, src| {
        run(
            Tool::Gxx,
            Tool::Gxx
                .command()
                .args(["-c", "-fPIC", "-O2", "-std=c++17"])
                .args(&defines)
                .arg(format!("-I{include}"))
                .arg(format!("-I{include}/vltstd"))
                .arg(format!("{include}/{src}")),
            &work,
        )
        .with_context(|| format!("compiling the Verilator runtime {src}"))
    })?;
    match std::fs::rename(&work, &dir) {
        Ok(()) => {}
        Err(_) if objs.iter().all(|o| o.exists()) => {
            let _ = std::fs::remove_dir_all(&work);
        }
        Err(e) => return Err(e).context("cannot move the Verilator runtime into the cache"),
    }
    Ok(objs)
}

fn verilator_version() -> Result<String> {
    Tool::Verilator.version()
}

type NewFn = unsafe extern "C" fn() -> *mut c_void;
type FreeFn = unsafe extern "C" fn(*mut c_void);
type VcdFn = unsafe extern "C" fn(*mut c_void, *const std::ffi::c_char) -> i32;
type CycleFn = unsafe extern "C" fn(*mut c_void, *const u32, *mut u32, i32);
type PeekFn = unsafe extern "C" fn(*mut c_void, *const u32, *mut u32);

/// A live Verilated design. Not `Send`: a Verilated model stays on the thread that made it.
pub struct Dut {
    _lib: libloading::Library,
    handle: *mut c_void,
    free: FreeFn,
    vcd: VcdFn,
    cycle: CycleFn,
    peek: PeekFn,
    ports: Vec<Port>,
    /// Input words (driven each cycle) and output words (sampled before each edge).
    pub inputs: Vec<u32>,
    pub outputs: Vec<u32>,
    _not_send: PhantomData<*const ()>,
}

impl Dut {
    pub fn load(built: &Built) -> Result<Self> {
        let words = |input: bool| {
            built
                .ports
                .iter()
                .filter(|p| p.input == input)
                .map(|p| p.offset + p.words())
                .max()
                .unwrap_or(0)
                .max(1)
        };
        // SAFETY: the library is one `build` made from `shim`; the symbols below have
        // exactly the signatures SHIM_TEMPLATE declares, and the word arrays cover every
        // offset the shim was generated with.
        unsafe {
            let lib = libloading::Library::new(&built.library)
                .with_context(|| format!("cannot load {}", built.library.display()))?;
            let new: NewFn = *lib.get::<NewFn>(b"dut_new")?;
            let free: FreeFn = *lib.get::<FreeFn>(b"dut_free")?;
            let vcd: VcdFn = *lib.get::<VcdFn>(b"dut_vcd_open")?;
            let cycle: CycleFn = *lib.get::<CycleFn>(b"dut_cycle")?;
            let peek: PeekFn = *lib.get::<PeekFn>(b"dut_peek")?;
            let handle = new();
            Ok(Dut {
                peek,
                _lib: lib,
                handle,
                free,
                vcd,
                cycle,
                inputs: vec![0; words(true)],
                outputs: vec![0; words(false)],
                ports: built.ports.clone(),
                _not_send: PhantomData,
            })
        }
    }

    /// The port called `name`; an error names the ports there are.
    pub fn port(&self, name: &str) -> Result<Port> {
        self.ports
            .iter()
            .find(|p| p.name == name)
            .cloned()
            .with_context(|| {
                let names: Vec<&str> = self.ports.iter().map(|p| p.name.as_str()).collect();
                format!(
                    "the design has no port {name}; its ports: {}",
                    names.join(", ")
                )
            })
    }

    /// The ports `name$0 .. name$(count-1)` (rust-hdl's names for a `Vec` of signals), or,
    /// for a design with a packed bus `name` of `count` equal lanes instead, its lanes
    /// (lane `i` in bits `i*w ..`).
    pub fn port_vec(&self, name: &str, count: usize) -> Result<Vec<Port>> {
        if self.ports.iter().any(|p| p.name == format!("{name}$0")) {
            return (0..count)
                .map(|i| self.port(&format!("{name}${i}")))
                .collect();
        }
        let bus = self.port(name)?;
        anyhow::ensure!(
            count > 0 && bus.width % count as u32 == 0 && bus.width / count as u32 <= 64,
            "port {name} ({} bits) is not {count} lanes of at most 64 bits",
            bus.width
        );
        let w = bus.width / count as u32;
        Ok((0..count as u32)
            .map(|i| Port {
                name: format!("{name}[{}:{}]", (i + 1) * w - 1, i * w),
                width: w,
                input: bus.input,
                offset: bus.offset + (i * w / 32) as usize,
                bit: i * w % 32,
            })
            .collect())
    }

    /// Drives input `p` with the low `p.width` bits of `v` (ports and lanes up to 64 bits).
    #[inline]
    pub fn set(&mut self, p: &Port, v: u64) {
        let v = if p.width >= 64 {
            v
        } else {
            v & ((1u64 << p.width) - 1)
        };
        if p.bit == 0 {
            self.inputs[p.offset] = v as u32;
            if p.width > 32 {
                self.inputs[p.offset + 1] = (v >> 32) as u32;
            }
            return;
        }
        let mask = (u128::MAX >> (128 - p.width)) << p.bit;
        let words = (p.bit + p.width).div_ceil(32) as usize;
        let mut all = 0u128;
        for i in 0..words {
            all |= u128::from(self.inputs[p.offset + i]) << (32 * i);
        }
        all = (all & !mask) | (u128::from(v) << p.bit);
        for i in 0..words {
            self.inputs[p.offset + i] = (all >> (32 * i)) as u32;
        }
    }

    /// Output `p` as sampled before the last edge (ports and lanes up to 64 bits).
    #[inline]
    pub fn get(&self, p: &Port) -> u64 {
        if p.bit == 0 {
            let lo = u64::from(self.outputs[p.offset]);
            let v = if p.width > 32 {
                lo | (u64::from(self.outputs[p.offset + 1]) << 32)
            } else {
                lo
            };
            return if p.width >= 64 {
                v
            } else {
                v & ((1u64 << p.width) - 1)
            };
        }
        let words = (p.bit + p.width).div_ceil(32) as usize;
        let mut all = 0u128;
        for i in 0..words {
            all |= u128::from(self.outputs[p.offset + i]) << (32 * i);
        }
        ((all >> p.bit) & (u128::MAX >> (128 - p.width))) as u64
    }

    /// Starts a VCD; cycles run with `dump` set are written to it.
    pub fn open_vcd(&mut self, path: &Path) -> Result<()> {
        let c = CString::new(path.to_string_lossy().as_bytes())?;
        // SAFETY: handle is live; the path string outlives the call.
        let r = unsafe { (self.vcd)(self.handle, c.as_ptr()) };
        match r {
            0 => {}
            3 => bail!(
                "cannot write VCD {}: the model was built without tracing (load Built::traced)",
                path.display()
            ),
            _ => bail!("cannot open VCD {}", path.display()),
        }
        Ok(())
    }

    /// One clock cycle with the current `inputs`; fills `outputs` as sampled before the edge.
    #[inline]
    pub fn cycle(&mut self, dump: bool) {
        // SAFETY: handle is live; both arrays are as long as the shim's highest offset.
        unsafe {
            (self.cycle)(
                self.handle,
                self.inputs.as_ptr(),
                self.outputs.as_mut_ptr(),
                i32::from(dump),
            )
        };
    }
}

impl Dut {
    /// Applies the current `inputs` and fills `outputs` without a clock edge: what the
    /// outputs are in this cycle (for a test bench whose inputs depend on them).
    pub fn peek(&mut self) {
        // SAFETY: as for `cycle`.
        unsafe { (self.peek)(self.handle, self.inputs.as_ptr(), self.outputs.as_mut_ptr()) };
    }
}

impl Drop for Dut {
    fn drop(&mut self) {
        // SAFETY: handle came from dut_new and is freed once.
        unsafe { (self.free)(self.handle) }
    }
}
