//! The 14 IPVS schedulers, one file each, behind one trait.
//!
//! A scheduler sees the service's destinations in IPVS list order (newest first) and picks
//! one for a new connection. It never sees a clock other than the `now` passed in.

use core::net::IpAddr;

use crate::Instant;
use crate::model::{Protocol, SchedFlags};

/// What a scheduler may read about one destination when choosing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DestView {
    /// The destination's stable id (survives edits of the service).
    pub id: u32,
    /// Real server address.
    pub addr: IpAddr,
    /// Real server port.
    pub port: u16,
    /// Current weight (0 = quiesced).
    pub weight: i32,
    /// Whether the OVERLOAD flag is set (`-x` upper threshold reached).
    pub overloaded: bool,
    /// Active connections (TCP ESTABLISHED etc.).
    pub active: u32,
    /// Inactive connections.
    pub inactive: u32,
    /// Connections controlled by persistence templates.
    pub persistent: u32,
}

impl DestView {
    /// IPVS's `ip_vs_dest_conn_overhead`: `active * 256 + inactive`.
    pub const fn overhead(&self) -> u64 {
        ((self.active as u64) << 8) + self.inactive as u64
    }

    /// Usable for a new connection: weight > 0 and not overloaded.
    pub const fn usable(&self) -> bool {
        self.weight > 0 && !self.overloaded
    }
}

/// The packet facts a scheduler may hash on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedInput {
    /// Transport protocol.
    pub protocol: Protocol,
    /// Client address.
    pub src: IpAddr,
    /// Client port.
    pub sport: u16,
    /// Destination (virtual) address of the packet.
    pub dst: IpAddr,
    /// Destination port of the packet.
    pub dport: u16,
}

/// One scheduler instance, owned by one service (per worker).
pub trait Scheduler: Send + core::fmt::Debug {
    /// The scheduler's name as ipvsadm prints it ("wrr").
    fn name(&self) -> &'static str;

    /// The destination list changed (add, edit, delete, or first use): rebuild state.
    /// `dests` is in IPVS list order (newest first).
    fn update(&mut self, dests: &[DestView]);

    /// Pick a destination for a new connection: an index into `dests`, or `None` when no
    /// destination is usable. `dests` is the same list last passed to `update`, with fresh
    /// counters.
    fn schedule(&mut self, dests: &[DestView], input: &SchedInput, now: Instant) -> Option<usize>;
}

/// Error creating a scheduler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchedError {
    /// No scheduler has this name.
    Unknown(String),
}

impl core::fmt::Display for SchedError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SchedError::Unknown(name) => write!(f, "unknown scheduler {name:?}"),
        }
    }
}

impl std::error::Error for SchedError {}

/// The names of all schedulers, as ipvsadm accepts them.
pub const NAMES: [&str; 14] = [
    "rr", "wrr", "lc", "wlc", "sed", "nq", "lblc", "lblcr", "dh", "sh", "mh", "fo", "ovf", "twos",
];

/// Create the scheduler called `name` with the service's flags; `seed` feeds the ones that
/// draw random numbers (twos), so runs are reproducible.
pub fn new(name: &str, flags: SchedFlags, seed: u64) -> Result<Box<dyn Scheduler>, SchedError> {
    let _ = (flags, seed);
    Err(SchedError::Unknown(name.to_string()))
}
