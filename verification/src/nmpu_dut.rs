//! The NMPU's ports on a Verilated design: one call per clock cycle in the terms of the
//! NMPU's protocol (handshakes, lanes, configuration port).

use crate::stimulus::CfgWrite;
use crate::verilator::{Built, Dut, Port};
use anyhow::Result;
use std::path::Path;

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

/// A live Verilated NMPU.
pub struct Model {
    dut: Dut,
    ctrl: [Port; 8],
    status: [Port; 3],
    x: Vec<Port>,
    y: Vec<Port>,
}

impl Model {
    /// Loads a built NMPU (top `nmpu`) with `lanes` lanes.
    pub fn load(built: &Built, lanes: usize) -> Result<Self> {
        let dut = Dut::load(built)?;
        let p = |n: &str| dut.port(n);
        let ctrl = [
            p("reset")?,
            p("s_valid")?,
            p("s_col")?,
            p("m_ready")?,
            p("cfg_we")?,
            p("cfg_sel")?,
            p("cfg_col")?,
            p("cfg_data")?,
        ];
        let status = [p("s_ready")?, p("m_valid")?, p("m_col")?];
        let x = dut.port_vec("s_x", lanes)?;
        let y = dut.port_vec("m_y", lanes)?;
        Ok(Model {
            dut,
            ctrl,
            status,
            x,
            y,
        })
    }

    pub fn lanes(&self) -> usize {
        self.x.len()
    }

    pub fn open_vcd(&mut self, path: &Path) -> Result<()> {
        self.dut.open_vcd(path)
    }

    /// One clock cycle with lane words `x`; returns the status and fills `y` with the
    /// output lane words, all sampled before the edge.
    pub fn cycle(&mut self, c: &Ctrl, x: &[u32], y: &mut [u32], dump: bool) -> Status {
        let values = [
            u64::from(c.reset),
            u64::from(c.s_valid),
            u64::from(c.s_col),
            u64::from(c.m_ready),
            u64::from(c.cfg_we),
            u64::from(c.cfg_sel),
            u64::from(c.cfg_col),
            u64::from(c.cfg_data),
        ];
        for (p, v) in self.ctrl.iter().zip(values) {
            self.dut.set(p, v);
        }
        for (p, &v) in self.x.iter().zip(x) {
            self.dut.set(p, u64::from(v));
        }
        self.dut.cycle(dump);
        for (o, p) in y.iter_mut().zip(&self.y) {
            *o = self.dut.get(p) as u32;
        }
        let [s_ready, m_valid, m_col] = &self.status;
        Status {
            s_ready: self.dut.get(s_ready) != 0,
            m_valid: self.dut.get(m_valid) != 0,
            m_col: self.dut.get(m_col) as u32,
        }
    }
}

/// Writes coefficients through the configuration port of a design that has one (`nmpu`,
/// `tile_io`), one write per clock, and leaves `cfg_we` low.
pub fn load_coefficients(d: &mut Dut, writes: &[CfgWrite]) -> Result<()> {
    let [we, sel, col, data] = ["cfg_we", "cfg_sel", "cfg_col", "cfg_data"].map(|n| d.port(n));
    let (we, sel, col, data) = (we?, sel?, col?, data?);
    for w in writes {
        d.set(&we, 1);
        d.set(&sel, u64::from(w.sel));
        d.set(&col, u64::from(w.col));
        d.set(&data, u64::from(w.data));
        d.cycle(false);
    }
    d.set(&we, 0);
    Ok(())
}
