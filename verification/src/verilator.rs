//! The generated RTL as a Verilated model loaded into this process.
//!
//! Configs arrive at run time (property tests, `nmpu cosim` on a user's file), so the model
//! is built at run time: a wrapper packs the lanes into buses, `verilator --cc --build`
//! compiles it, a small `extern "C"` shim (one clock cycle per call) is linked into a
//! shared library, and the library is loaded with `libloading`. Libraries are cached by a
//! hash of everything that goes into them, so a config is only built once.

use anyhow::{bail, Context, Result};
use std::ffi::{c_void, CString};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const SHIM: &str = r#"
#include "Vcosim_top.h"
#include "verilated.h"
#include "verilated_vcd_c.h"
#include <cstdint>

template <typename T> static inline void load(T& d, const uint32_t* w) {
    d = (T)((uint64_t)w[0] | ((uint64_t)w[1] << 32));
}
template <std::size_t N> static inline void load(VlWide<N>& d, const uint32_t* w) {
    for (std::size_t i = 0; i < N; i++) d[i] = w[i];
}
template <typename T> static inline void store(const T& d, uint32_t* w) {
    uint64_t v = (uint64_t)d;
    w[0] = (uint32_t)v;
    w[1] = (uint32_t)(v >> 32);
}
template <std::size_t N> static inline void store(const VlWide<N>& d, uint32_t* w) {
    for (std::size_t i = 0; i < N; i++) w[i] = d[i];
}

struct Handle {
    VerilatedContext* ctx;
    Vcosim_top* top;
    VerilatedVcdC* vcd;
    uint64_t time;
};

extern "C" {
void* nmpu_new() {
    Handle* h = new Handle;
    h->ctx = new VerilatedContext;
    h->ctx->traceEverOn(true);
    h->top = new Vcosim_top(h->ctx);
    h->vcd = nullptr;
    h->time = 0;
    h->top->clock = 0;
    h->top->eval();
    return h;
}

void nmpu_free(void* p) {
    Handle* h = (Handle*)p;
    if (h->vcd) { h->vcd->close(); delete h->vcd; }
    h->top->final();
    delete h->top;
    delete h->ctx;
    delete h;
}

int nmpu_vcd_open(void* p, const char* path) {
    Handle* h = (Handle*)p;
    if (h->vcd) return 1;
    h->vcd = new VerilatedVcdC;
    h->top->trace(h->vcd, 99);
    h->vcd->open(path);
    return h->vcd->isOpen() ? 0 : 2;
}

// ctrl: reset, s_valid, s_col, m_ready, cfg_we, cfg_sel, cfg_col, cfg_data.
// status (sampled before the rising edge, what the handshakes see): s_ready, m_valid, m_col.
void nmpu_cycle(void* p, const uint32_t* ctrl, const uint32_t* x, uint32_t* status,
                uint32_t* y, int dump) {
    Handle* h = (Handle*)p;
    Vcosim_top* t = h->top;
    t->reset = ctrl[0];
    t->s_valid = ctrl[1];
    t->s_col = ctrl[2];
    t->m_ready = ctrl[3];
    t->cfg_we = ctrl[4];
    t->cfg_sel = ctrl[5];
    t->cfg_col = ctrl[6];
    t->cfg_data = ctrl[7];
    load(t->s_x_bus, x);
    t->eval();
    if (dump && h->vcd) h->vcd->dump(h->time);
    status[0] = t->s_ready;
    status[1] = t->m_valid;
    status[2] = t->m_col;
    store(t->m_y_bus, y);
    h->time += 5;
    t->clock = 1;
    t->eval();
    if (dump && h->vcd) h->vcd->dump(h->time);
    h->time += 5;
    t->clock = 0;
    t->eval();
}
}
"#;

/// The wrapper: the NMPU's per-lane ports packed into buses, lane 0 in the low bits.
fn wrapper(lanes: usize) -> String {
    let mut s = String::from(
        "module cosim_top(clock, reset, s_valid, s_ready, s_col, s_x_bus, m_valid, m_ready, \
         m_col, m_y_bus, cfg_we, cfg_sel, cfg_col, cfg_data);\n",
    );
    s += "  input clock;\n  input reset;\n  input s_valid;\n  output s_ready;\n  input [11:0] s_col;\n";
    s += &format!("  input [{}:0] s_x_bus;\n", 24 * lanes - 1);
    s += "  output m_valid;\n  input m_ready;\n  output [11:0] m_col;\n";
    s += &format!("  output [{}:0] m_y_bus;\n", 16 * lanes - 1);
    s += "  input cfg_we;\n  input [1:0] cfg_sel;\n  input [11:0] cfg_col;\n  input [31:0] cfg_data;\n";
    s += "  nmpu dut(.clock(clock), .reset(reset), .s_valid(s_valid), .s_ready(s_ready), \
          .s_col(s_col), .m_valid(m_valid), .m_ready(m_ready), .m_col(m_col), \
          .cfg_we(cfg_we), .cfg_sel(cfg_sel), .cfg_col(cfg_col), .cfg_data(cfg_data)";
    for i in 0..lanes {
        s += &format!(
            ",\n    .s_x${i}(s_x_bus[{}:{}]), .m_y${i}(m_y_bus[{}:{}])",
            24 * i + 23,
            24 * i,
            16 * i + 15,
            16 * i
        );
    }
    s += ");\nendmodule\n";
    s
}

fn fnv(parts: &[&str]) -> u64 {
    parts.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, p| {
        p.bytes().chain([0xff]).fold(h, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    })
}

/// Where built models are cached: `$NMPU_CACHE_DIR`, else `nmpu-cosim` in the temp dir.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("NMPU_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("nmpu-cosim"))
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let out = cmd.output().with_context(|| {
        format!("cannot run {what} (install it: make deps, or apt-get install verilator)")
    })?;
    if !out.status.success() {
        bail!(
            "{what} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// A built model library, and how long building it took (zero when it came from cache).
pub struct Built {
    pub library: PathBuf,
    pub build_seconds: f64,
}

/// Builds (or finds in the cache) the shared library for `verilog` with `lanes` lanes.
pub fn build(verilog: &str, lanes: usize) -> Result<Built> {
    // One build at a time in this process: threads asking for the same model wait for the
    // first and then find it in the cache; builds use every core anyway. Other processes
    // build in their own directories and the first rename wins.
    static BUILDING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
    let wrap = wrapper(lanes);
    let recipe = [
        VERILATOR_ARGS.join(" "),
        RUNTIME_DEFINES.join(" "),
        verilator_version()?,
    ];
    let mut parts = vec![verilog, &wrap, SHIM, env!("CARGO_PKG_VERSION")];
    parts.extend(recipe.iter().map(String::as_str));
    let key = format!("{:016x}", fnv(&parts));
    let dir = cache_dir().join(&key);
    let lib = dir.join("libnmpu_cosim.so");
    if lib.exists() {
        return Ok(Built {
            library: lib,
            build_seconds: 0.0,
        });
    }
    let start = Instant::now();
    std::fs::create_dir_all(cache_dir())?;
    // Build in a private directory, then rename: concurrent builds of one key are safe.
    let work = cache_dir().join(format!("{key}.tmp{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    std::fs::write(work.join("nmpu.v"), verilog)?;
    std::fs::write(work.join("cosim_top.v"), wrap)?;
    std::fs::write(work.join("shim.cpp"), SHIM)?;
    let jobs = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .to_string();
    run(
        Command::new("verilator")
            .current_dir(&work)
            .args(VERILATOR_ARGS)
            .args(["-j", &jobs, "--Mdir", "obj"])
            .args(["--top-module", "cosim_top", "nmpu.v", "cosim_top.v"]),
        "verilator",
    )?;
    let runtime = runtime()?;
    let include = format!("{}/include", verilator_root()?);
    let mut archives: Vec<PathBuf> = std::fs::read_dir(work.join("obj"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "a"))
        .collect();
    archives.sort();
    run(
        Command::new("g++")
            .current_dir(&work)
            .args([
                "-shared",
                "-fPIC",
                "-O2",
                "-std=c++17",
                "-o",
                "libnmpu_cosim.so",
                "shim.cpp",
            ])
            .args(RUNTIME_DEFINES)
            .arg(format!("-I{include}"))
            .arg(format!("-I{include}/vltstd"))
            .arg("-Iobj")
            .arg("-Wl,--whole-archive")
            .args(&archives)
            .arg("-Wl,--no-whole-archive")
            .args(&runtime)
            .args(["-lpthread", "-latomic"]),
        "g++ (linking the Verilated model)",
    )?;
    match std::fs::rename(&work, &dir) {
        Ok(()) => {}
        Err(_) if lib.exists() => {
            let _ = std::fs::remove_dir_all(&work); // another process won the race
        }
        Err(e) => return Err(e).context("cannot move the built model into the cache"),
    }
    Ok(Built {
        library: lib,
        build_seconds: start.elapsed().as_secs_f64(),
    })
}

/// How models are Verilated: the generated RTL's WIDTH and DECLFILENAME warnings are waived
/// as in constraints/verilator.vlt (lint is its own test). The C++ is compiled with
/// Verilator's default `-Os`; `-O2` measured no faster (cosim bench, default config).
const VERILATOR_ARGS: [&str; 14] = [
    "--cc",
    "--build",
    "--trace",
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
/// (`--trace`, no coverage, no SystemC).
const RUNTIME_DEFINES: [&str; 4] = [
    "-DVM_TRACE=1",
    "-DVM_TRACE_VCD=1",
    "-DVM_COVERAGE=0",
    "-DVM_SC=0",
];
const RUNTIME_SOURCES: [&str; 3] = [
    "verilated.cpp",
    "verilated_vcd_c.cpp",
    "verilated_threads.cpp",
];

/// The Verilator runtime objects, compiled once per Verilator install and shared by every
/// model (`verilator --build` without `--exe` leaves them out).
fn runtime() -> Result<Vec<PathBuf>> {
    let root = verilator_root()?;
    let key = fnv(&[&root, &verilator_version()?, &RUNTIME_DEFINES.join(" ")]);
    let dir = cache_dir().join(format!("runtime-{key:016x}"));
    let objs: Vec<PathBuf> = RUNTIME_SOURCES
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
    let children = RUNTIME_SOURCES
        .iter()
        .map(|src| {
            Command::new("g++")
                .current_dir(&work)
                .args(["-c", "-fPIC", "-O2", "-std=c++17"])
                .args(RUNTIME_DEFINES)
                .arg(format!("-I{include}"))
                .arg(format!("-I{include}/vltstd"))
                .arg(format!("{include}/{src}"))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .context("cannot run g++ (install it: apt-get install g++)")
        })
        .collect::<Result<Vec<_>>>()?;
    for (child, src) in children.into_iter().zip(RUNTIME_SOURCES) {
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!(
                "g++ failed on the Verilator runtime {src}:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
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
    let out = Command::new("verilator")
        .arg("--version")
        .output()
        .context("cannot run verilator (install it: make deps, or apt-get install verilator)")?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn verilator_root() -> Result<String> {
    let out = Command::new("verilator")
        .arg("-V")
        .output()
        .context("cannot run verilator -V")?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("VERILATOR_ROOT"))
        .map(|v| v.trim().trim_start_matches('=').trim().to_string())
        .find(|v| !v.is_empty())
        .context("verilator -V does not say VERILATOR_ROOT")
}

type NewFn = unsafe extern "C" fn() -> *mut c_void;
type FreeFn = unsafe extern "C" fn(*mut c_void);
type VcdFn = unsafe extern "C" fn(*mut c_void, *const std::ffi::c_char) -> i32;
type CycleFn = unsafe extern "C" fn(*mut c_void, *const u32, *const u32, *mut u32, *mut u32, i32);

/// Inputs of one clock cycle.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ctrl {
    pub reset: bool,
    pub s_valid: bool,
    pub s_col: u32,
    pub m_ready: bool,
    pub cfg_we: bool,
    pub cfg_sel: u32,
    pub cfg_col: u32,
    pub cfg_data: u32,
}

/// Outputs sampled just before the rising edge: what the handshakes see.
#[derive(Clone, Copy, Debug, Default)]
pub struct Status {
    pub s_ready: bool,
    pub m_valid: bool,
    pub m_col: u32,
}

/// A live Verilated NMPU. Not `Send`: a Verilated model stays on the thread that made it.
pub struct Model {
    _lib: libloading::Library,
    handle: *mut c_void,
    free: FreeFn,
    vcd: VcdFn,
    cycle: CycleFn,
    lanes: usize,
    x_words: Vec<u32>,
    y_words: Vec<u32>,
    _not_send: PhantomData<*const ()>,
}

impl Model {
    pub fn load(library: &Path, lanes: usize) -> Result<Self> {
        // SAFETY: the library is one this module built from SHIM; the symbols below have
        // exactly the signatures SHIM declares.
        unsafe {
            let lib = libloading::Library::new(library)
                .with_context(|| format!("cannot load {}", library.display()))?;
            let new: NewFn = *lib.get::<NewFn>(b"nmpu_new")?;
            let free: FreeFn = *lib.get::<FreeFn>(b"nmpu_free")?;
            let vcd: VcdFn = *lib.get::<VcdFn>(b"nmpu_vcd_open")?;
            let cycle: CycleFn = *lib.get::<CycleFn>(b"nmpu_cycle")?;
            let handle = new();
            Ok(Model {
                _lib: lib,
                handle,
                free,
                vcd,
                cycle,
                lanes,
                x_words: vec![0; (24 * lanes).div_ceil(32).max(2)],
                y_words: vec![0; (16 * lanes).div_ceil(32).max(2)],
                _not_send: PhantomData,
            })
        }
    }

    pub fn lanes(&self) -> usize {
        self.lanes
    }

    /// Starts a VCD; cycles run with `dump` set are written to it.
    pub fn open_vcd(&mut self, path: &Path) -> Result<()> {
        let c = CString::new(path.to_string_lossy().as_bytes())?;
        // SAFETY: handle is live; the path string outlives the call.
        let r = unsafe { (self.vcd)(self.handle, c.as_ptr()) };
        if r != 0 {
            bail!("cannot open VCD {}", path.display());
        }
        Ok(())
    }

    /// One clock cycle with lane words `x` (low 24 bits each); returns the status and
    /// fills `y` with the 16-bit output lane words, all sampled before the edge.
    pub fn cycle(&mut self, c: &Ctrl, x: &[u32], y: &mut [u32], dump: bool) -> Status {
        self.x_words.iter_mut().for_each(|w| *w = 0);
        for (i, &v) in x.iter().enumerate().take(self.lanes) {
            let bit = 24 * i;
            let v = u64::from(v & 0xff_ffff) << (bit % 32);
            self.x_words[bit / 32] |= v as u32;
            if let Some(w) = self.x_words.get_mut(bit / 32 + 1) {
                *w |= (v >> 32) as u32;
            }
        }
        let ctrl = [
            u32::from(c.reset),
            u32::from(c.s_valid),
            c.s_col,
            u32::from(c.m_ready),
            u32::from(c.cfg_we),
            c.cfg_sel,
            c.cfg_col,
            c.cfg_data,
        ];
        let mut status = [0u32; 3];
        // SAFETY: handle is live; every buffer is at least as long as the shim reads or
        // writes (bus words rounded up, never fewer than two).
        unsafe {
            (self.cycle)(
                self.handle,
                ctrl.as_ptr(),
                self.x_words.as_ptr(),
                status.as_mut_ptr(),
                self.y_words.as_mut_ptr(),
                i32::from(dump),
            )
        };
        for (i, o) in y.iter_mut().enumerate().take(self.lanes) {
            let bit = 16 * i;
            *o = (self.y_words[bit / 32] >> (bit % 32)) & 0xffff;
        }
        Status {
            s_ready: status[0] != 0,
            m_valid: status[1] != 0,
            m_col: status[2],
        }
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: handle came from nmpu_new and is freed once.
        unsafe { (self.free)(self.handle) }
    }
}
