//! The 14 IPVS schedulers, one file each, behind one trait.
//!
//! A scheduler sees the service's destinations in IPVS list order (newest first) and picks
//! one for a new connection. It never sees a clock other than the `now` passed in.

use core::net::IpAddr;

use crate::Instant;
use crate::model::{Protocol, SchedFlags};

mod dh;
mod fo;
mod lblc;
mod lblcr;
mod lc;
mod locality;
mod mh;
mod nq;
mod ovf;
mod rr;
mod sed;
mod sh;
mod twos;
mod wlc;
mod wrr;

#[cfg(test)]
mod tests;

pub use dh::DestinationHashing;
pub use fo::WeightedFailover;
pub use lblc::LocalityLeastConnection;
pub use lblcr::LocalityLeastConnectionReplicated;
pub use lc::LeastConnection;
pub use mh::{MH_TABLE_SIZE, MaglevHashing};
pub use nq::NeverQueue;
pub use ovf::WeightedOverflow;
pub use rr::RoundRobin;
pub use sed::ShortestExpectedDelay;
pub use sh::SourceHashing;
pub use twos::PowerOfTwoChoices;
pub use wlc::WeightedLeastConnection;
pub use wrr::WeightedRoundRobin;

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
    Ok(match name {
        "rr" => Box::new(RoundRobin::new()),
        "wrr" => Box::new(WeightedRoundRobin::new()),
        "lc" => Box::new(LeastConnection),
        "wlc" => Box::new(WeightedLeastConnection),
        "sed" => Box::new(ShortestExpectedDelay),
        "nq" => Box::new(NeverQueue),
        "lblc" => Box::new(LocalityLeastConnection::new(seed)),
        "lblcr" => Box::new(LocalityLeastConnectionReplicated::new(seed)),
        "dh" => Box::new(DestinationHashing::new()),
        "sh" => Box::new(SourceHashing::new(flags)),
        "mh" => Box::new(MaglevHashing::new(flags)),
        "fo" => Box::new(WeightedFailover),
        "ovf" => Box::new(WeightedOverflow),
        "twos" => Box::new(PowerOfTwoChoices::new(seed)),
        _ => return Err(SchedError::Unknown(name.to_string())),
    })
}

/// IPVS's address fold for hashing: the IPv4 address as a host-order integer, or the XOR of
/// the four 32-bit words of an IPv6 address (`ntohl(addr_fold)` in the kernel).
pub(crate) fn fold_addr(addr: &IpAddr) -> u32 {
    match addr {
        IpAddr::V4(a) => u32::from(*a),
        IpAddr::V6(a) => {
            let o = a.octets();
            let w = |i: usize| u32::from_be_bytes([o[i], o[i + 1], o[i + 2], o[i + 3]]);
            w(0) ^ w(4) ^ w(8) ^ w(12)
        }
    }
}

/// The kernel's generic `hash_32`: multiply by the 32-bit golden ratio, keep the top `bits`.
pub(crate) const fn hash_32(val: u32, bits: u32) -> u32 {
    val.wrapping_mul(0x61C8_8647) >> (32 - bits)
}

/// Greatest common divisor of two positive numbers.
pub(crate) const fn gcd(mut a: i32, mut b: i32) -> i32 {
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

/// Whether a candidate (overhead `c_oh`, weight `c_w`) is strictly less loaded per unit of
/// weight than the best so far (`b_oh`, `b_w`): `b_oh * c_w > c_oh * b_w`. Products in 128
/// bits so that no counter/weight combination overflows (the kernel uses 64-bit products of
/// 32-bit values).
#[inline]
pub(crate) fn lighter(c_oh: u64, c_w: u64, b_oh: u64, b_w: u64) -> bool {
    u128::from(b_oh) * u128::from(c_w) > u128::from(c_oh) * u128::from(b_w)
}

/// A destination's weight for [`lighter`], negatives (never valid in IPVS) as 0.
#[inline]
pub(crate) fn weight_of(d: &DestView) -> u64 {
    d.weight.max(0) as u64
}

/// The weighted-least-connection choice shared by wlc, sed, lblc and lblcr: the first usable
/// destination is the initial best; a later usable one replaces it only when strictly
/// lighter, so ties keep the earlier (newer) destination.
#[inline]
pub(crate) fn weighted_least(
    dests: &[DestView],
    overhead: impl Fn(&DestView) -> u64,
) -> Option<usize> {
    // Start from a phantom best of weight 0, which any weight > 0 beats. The weight is read
    // as unsigned without a check: a (never valid) negative one may look lighter, and is
    // then refused with the overloaded ones by `usable`, tested only when a candidate wins.
    let (mut best, mut b_oh, mut b_w) = (None, 1, 0);
    for (i, d) in dests.iter().enumerate() {
        let (oh, w) = (overhead(d), u64::from(d.weight as u32));
        if lighter(oh, w, b_oh, b_w) && d.usable() {
            // A new best is rare after the first few destinations. Saying so makes this a
            // predicted branch rather than a conditional move, which would chain every
            // iteration's multiply to the previous one's result.
            core::hint::cold_path();
            (best, b_oh, b_w) = (Some(i), oh, w);
        }
    }
    best
}

/// Maps stable destination ids to their position in the current list, so per-service state
/// (lblc/lblcr caches) can name destinations by id and survive list edits.
#[derive(Debug, Default, Clone)]
pub(crate) struct DestIndex {
    by_id: Vec<(u32, u32)>,
}

impl DestIndex {
    /// Rebuild from the destination list (control path: may allocate).
    pub(crate) fn rebuild(&mut self, dests: &[DestView]) {
        self.by_id.clear();
        self.by_id
            .extend(dests.iter().enumerate().map(|(i, d)| (d.id, i as u32)));
        self.by_id.sort_unstable();
    }

    /// Whether a destination with this id is in the list of the last rebuild.
    pub(crate) fn contains(&self, id: u32) -> bool {
        self.by_id.binary_search_by_key(&id, |e| e.0).is_ok()
    }

    /// Position of destination `id` in `dests`, if it is still there.
    #[inline]
    pub(crate) fn find(&self, dests: &[DestView], id: u32) -> Option<usize> {
        let pos = self.by_id.binary_search_by_key(&id, |e| e.0).ok()?;
        let i = self.by_id[pos].1 as usize;
        // The list handed to schedule must be the one of the last update; check anyway so a
        // caller mistake degrades to "not found" rather than a wrong destination.
        (dests.get(i)?.id == id).then_some(i)
    }
}
