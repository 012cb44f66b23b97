//! What callers hand the table: its configuration, a packet's transport facts, a new
//! connection to create, and why an insert can fail.

use core::fmt;
use core::net::IpAddr;

use crate::model::{ForwardMethod, Timeouts};

use super::entry::ConnId;
use super::key::InKey;
use super::sctp::SctpEvent;
use super::tcp::TcpFlags;

/// Table construction parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnTableConfig {
    /// Hard cap on entries (connections + templates); memory never grows beyond it.
    pub max_conns: u32,
    /// Hash seed; pass a random value (the core reads no entropy itself).
    pub seed: u64,
    /// Timing-wheel tick in milliseconds: entries are removed at most one tick late.
    pub tick_ms: u32,
    /// Timing-wheel slots (rounded up to a power of two); longer timeouts are revisited.
    pub wheel_slots: u32,
    /// `--set tcp tcpfin udp` timeouts (seconds; 0 keeps the default).
    pub timeouts: Timeouts,
    /// Use the strict `secure_tcp` state table.
    pub secure_tcp: bool,
}

impl Default for ConnTableConfig {
    fn default() -> Self {
        ConnTableConfig {
            max_conns: 1 << 20,
            seed: 0,
            tick_ms: 100,
            wheel_slots: 16_384,
            timeouts: Timeouts::default(),
            secure_tcp: false,
        }
    }
}

/// What the state machine needs from a packet's transport header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    /// A TCP segment with its flags byte.
    Tcp(TcpFlags),
    /// A UDP datagram.
    Udp,
    /// An SCTP packet classified by its chunks.
    Sctp(SctpEvent),
}

impl Segment {
    /// Whether this packet opens a new connection for conn_reuse_mode: TCP SYN, SCTP INIT.
    pub const fn is_new_conn(self) -> bool {
        match self {
            Segment::Tcp(f) => f.syn(),
            Segment::Sctp(e) => matches!(e, SctpEvent::Init),
            Segment::Udp => false,
        }
    }
}

/// A connection to create (after scheduling chose `dest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewConn {
    /// The client-side key of the packet that opened it.
    pub key: InKey,
    /// Destination (RIP).
    pub daddr: IpAddr,
    /// Destination port.
    pub dport: u16,
    /// Forwarding method of the destination.
    pub method: ForwardMethod,
    /// Stable id of the service.
    pub service: u32,
    /// Stable id of the destination.
    pub dest: u32,
    /// Controlling persistence template, if the service is persistent.
    pub control: Option<ConnId>,
    /// `-o` one-packet scheduling: not hashed; call [`ConnTable::release`] after forwarding.
    pub one_packet: bool,
    /// Client port unknown yet (IP_VS_CONN_F_NO_CPORT); fill it with `fill_cport`.
    pub no_cport: bool,
}

/// Why an insert failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InsertError {
    /// The table is at `max_conns` and nothing expired or evictable was found (counted).
    TableFull,
    /// An entry with this key exists already (look up before inserting).
    Exists(ConnId),
    /// `control` does not name a live template.
    InvalidControl,
}

impl fmt::Display for InsertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InsertError::TableFull => f.write_str("connection table full"),
            InsertError::Exists(id) => write!(f, "connection exists (slot {})", id.0),
            InsertError::InvalidControl => f.write_str("control handle is not a live template"),
        }
    }
}

impl std::error::Error for InsertError {}
