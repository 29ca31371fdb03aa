//! The outcome of a bounded check (the banks, the stream).

/// The stream check's outcome.
#[derive(Clone, Debug, PartialEq)]
pub enum Bounded {
    Proved,
    /// The failing trace: per step, the handshake inputs `(reset, s_valid, m_ready)`.
    Counterexample(Vec<(bool, bool, bool)>),
    Timeout,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BoundedProof {
    pub depth: u32,
    pub verdict: Bounded,
    pub seconds: f64,
}
