//! One tracked connection (or persistence template) and its read-only view.
//!
//! Entries are compact (84 bytes): the three addresses as 16-byte arrays (IPv4 in the
//! first four bytes), ports, two stable ids, and times as wrapping `u32` milliseconds.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::Instant;
use crate::model::ForwardMethod;

use super::sctp::{self, SctpState};
use super::tcp::TcpState;

/// Handle of an entry in a [`ConnTable`](super::ConnTable).
///
/// Valid until the entry is removed; any call that may remove entries (`expire`, `insert*`
/// when the table is full, `expire_now`, `release`) can invalidate handles held across it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub(crate) u32);

impl ConnId {
    /// The slot index (stable while the entry lives; reused after it is freed).
    pub const fn index(self) -> u32 {
        self.0
    }
}

/// Entry flag bits (IPVS's `IP_VS_CONN_F_*` where one exists).
pub(crate) mod flag {
    /// The slot holds a live entry.
    pub const LIVE: u16 = 0x0001;
    /// Client/virtual addresses are IPv6.
    pub const V6: u16 = 0x0002;
    /// The destination address is IPv6.
    pub const DEST_V6: u16 = 0x0004;
    /// A persistence template (IP_VS_CONN_F_TEMPLATE).
    pub const TEMPLATE: u16 = 0x0008;
    /// Freed right after its packet (IP_VS_CONN_F_ONE_PACKET).
    pub const ONE_PACKET: u16 = 0x0010;
    /// Counted in the destination's InActConn (IP_VS_CONN_F_INACTIVE).
    pub const INACTIVE: u16 = 0x0020;
    /// No reply seen yet through the director (IP_VS_CONN_F_NOOUTPUT).
    pub const NOOUTPUT: u16 = 0x0040;
    /// Client port not known yet; matches lookups with client port 0 (IP_VS_CONN_F_NO_CPORT).
    pub const NO_CPORT: u16 = 0x0080;
    /// Not in the lookup indices (neutralised template, one-packet entry).
    pub const UNHASHED: u16 = 0x0100;
    /// Forwarding method, two bits (0 Masq, 1 Route, 2 Tunnel).
    pub const METHOD_SHIFT: u16 = 9;
    /// Mask of the method bits.
    pub const METHOD_MASK: u16 = 0x0600;
    /// Linked in the eviction list.
    pub const EVICTABLE: u16 = 0x0800;
    /// Also in the reply (out) index: NAT connections.
    pub const OUT_HASHED: u16 = 0x1000;
}

/// Template states (IP_VS_CTPL_S_*).
pub(crate) const CTPL_NONE: u8 = 0;
pub(crate) const CTPL_ASSURED: u8 = 1;

/// IP protocol numbers as stored.
pub(crate) const PROTO_TCP: u8 = 6;
pub(crate) const PROTO_UDP: u8 = 17;
pub(crate) const PROTO_SCTP: u8 = 132;

/// The stored entry (84 bytes). Field order is deliberate (`repr(C)`): what a lookup
/// compares and a packet updates comes first, so it spans as few cache lines as possible.
#[derive(Debug, Clone)]
#[repr(C)]
pub(crate) struct Entry {
    pub(crate) caddr: [u8; 16],
    pub(crate) vaddr: [u8; 16],
    pub(crate) cport: u16,
    pub(crate) vport: u16,
    pub(crate) proto: u8,
    pub(crate) state: u8,
    pub(crate) flags: u16,
    /// Current timeout in ms (re-armed on every packet).
    pub(crate) timeout: u32,
    /// Due time, wrapping ms (`Instant` truncated to 32 bits).
    pub(crate) expires: u32,
    pub(crate) in_pkts: u32,
    /// Normal entry: index of the controlling template or NIL. Template: n_control.
    /// Free slot: next free index.
    pub(crate) link: u32,
    pub(crate) service: u32,
    pub(crate) dest: u32,
    pub(crate) daddr: [u8; 16],
    pub(crate) dport: u16,
}

impl Entry {
    pub(crate) const VACANT: Entry = Entry {
        caddr: [0; 16],
        vaddr: [0; 16],
        daddr: [0; 16],
        timeout: 0,
        expires: 0,
        service: 0,
        dest: 0,
        link: u32::MAX,
        in_pkts: 0,
        cport: 0,
        vport: 0,
        dport: 0,
        flags: 0,
        proto: 0,
        state: 0,
    };

    #[inline]
    pub(crate) fn has(&self, f: u16) -> bool {
        self.flags & f != 0
    }

    /// Whether this entry counts toward the eviction candidates: a normal connection not
    /// in ESTABLISHED and not a one-packet entry.
    #[inline]
    pub(crate) fn evictable(&self) -> bool {
        if self.has(flag::TEMPLATE | flag::ONE_PACKET) {
            return false;
        }
        match self.proto {
            PROTO_TCP => self.state != TcpState::Established as u8,
            PROTO_SCTP => self.state != SctpState::Established as u8,
            _ => true,
        }
    }

    /// Signed ms from `now` to the due time (negative: overdue).
    #[inline]
    pub(crate) fn remaining(&self, now: Instant) -> i64 {
        i64::from(self.expires.wrapping_sub(now.as_millis() as u32) as i32)
    }
}

/// Convert an address to the stored form and its family bit.
#[inline]
pub(crate) fn pack(addr: IpAddr) -> ([u8; 16], bool) {
    match addr {
        IpAddr::V4(a) => {
            let mut b = [0u8; 16];
            b[..4].copy_from_slice(&a.octets());
            (b, false)
        }
        IpAddr::V6(a) => (a.octets(), true),
    }
}

/// Convert back from the stored form.
#[inline]
pub(crate) fn unpack(b: &[u8; 16], v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(*b))
    } else {
        IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
    }
}

pub(crate) fn method_bits(m: ForwardMethod) -> u16 {
    let n = match m {
        ForwardMethod::Masq => 0,
        ForwardMethod::Route => 1,
        ForwardMethod::Tunnel => 2,
    };
    n << flag::METHOD_SHIFT
}

#[inline]
fn method_of(flags: u16) -> ForwardMethod {
    // A table rather than a match: two bits index it, so no branch and no bounds check.
    const BY_BITS: [ForwardMethod; 4] = [
        ForwardMethod::Masq,
        ForwardMethod::Route,
        ForwardMethod::Tunnel,
        ForwardMethod::Masq,
    ];
    BY_BITS[usize::from((flags & flag::METHOD_MASK) >> flag::METHOD_SHIFT)]
}

/// The state of an entry, by protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnState {
    /// A TCP connection.
    Tcp(TcpState),
    /// A UDP flow (one state).
    Udp,
    /// An SCTP association.
    Sctp(SctpState),
    /// A persistence template; `assured` once a controlled connection reached ESTABLISHED.
    Template {
        /// IP_VS_CTPL_S_ASSURED.
        assured: bool,
    },
}

impl ConnState {
    /// The state name `ipvsadm -L -c` prints ("ESTABLISHED", "UDP", "ASSURED", ...).
    pub const fn name(self) -> &'static str {
        match self {
            ConnState::Tcp(s) => s.name(),
            ConnState::Udp => sctp::UDP_STATE_NAME,
            ConnState::Sctp(s) => s.name(),
            ConnState::Template { assured: true } => "ASSURED",
            ConnState::Template { assured: false } => "NONE",
        }
    }
}

/// Read-only view of one entry.
#[derive(Debug, Clone, Copy)]
pub struct Conn<'a> {
    pub(crate) e: &'a Entry,
    pub(crate) id: ConnId,
}

impl Conn<'_> {
    /// The entry's handle.
    pub fn id(&self) -> ConnId {
        self.id
    }

    /// IP protocol number (6, 17, 132; 0 for a firewall-mark template).
    pub fn protocol_number(&self) -> u8 {
        self.e.proto
    }

    /// Protocol name as ipvsadm prints it ("TCP", "UDP", "SCTP", "IP").
    pub fn protocol_name(&self) -> &'static str {
        match self.e.proto {
            PROTO_TCP => "TCP",
            PROTO_UDP => "UDP",
            PROTO_SCTP => "SCTP",
            0 => "IP",
            _ => "ERR!",
        }
    }

    /// Whether the client and virtual addresses are IPv6.
    pub fn is_v6(&self) -> bool {
        self.e.has(flag::V6)
    }

    /// Client address and port (port 0 for templates).
    pub fn client(&self) -> SocketAddr {
        SocketAddr::new(unpack(&self.e.caddr, self.is_v6()), self.e.cport)
    }

    /// Virtual address and port (for fwmark templates: the mark as an address, port 0).
    pub fn virtual_addr(&self) -> SocketAddr {
        SocketAddr::new(unpack(&self.e.vaddr, self.is_v6()), self.e.vport)
    }

    /// Destination (real server) address and port.
    pub fn dest_addr(&self) -> SocketAddr {
        SocketAddr::new(
            unpack(&self.e.daddr, self.e.has(flag::DEST_V6)),
            self.e.dport,
        )
    }

    /// Raw 16-byte client address (IPv4 in the first four bytes).
    pub fn client_bytes(&self) -> &[u8; 16] {
        &self.e.caddr
    }

    /// Raw 16-byte virtual address.
    pub fn virtual_bytes(&self) -> &[u8; 16] {
        &self.e.vaddr
    }

    /// Raw 16-byte destination address.
    pub fn dest_bytes(&self) -> &[u8; 16] {
        &self.e.daddr
    }

    /// The destination address when it is IPv4.
    #[inline]
    pub(crate) fn dest_v4(&self) -> Option<Ipv4Addr> {
        let d = &self.e.daddr;
        (!self.e.has(flag::DEST_V6)).then(|| Ipv4Addr::new(d[0], d[1], d[2], d[3]))
    }

    /// Client port.
    pub fn cport(&self) -> u16 {
        self.e.cport
    }

    /// Virtual port.
    pub fn vport(&self) -> u16 {
        self.e.vport
    }

    /// Destination port.
    pub fn dport(&self) -> u16 {
        self.e.dport
    }

    /// The forwarding method inherited from the destination.
    pub fn method(&self) -> ForwardMethod {
        method_of(self.e.flags)
    }

    /// The service's stable id.
    pub fn service_id(&self) -> u32 {
        self.e.service
    }

    /// The destination's stable id.
    pub fn dest_id(&self) -> u32 {
        self.e.dest
    }

    /// The entry's state.
    pub fn state(&self) -> ConnState {
        state_of(self.e)
    }

    /// Whether this is a persistence template.
    pub fn is_template(&self) -> bool {
        self.e.has(flag::TEMPLATE)
    }

    /// Whether the entry is freed right after its packet (`-o`).
    pub fn is_one_packet(&self) -> bool {
        self.e.has(flag::ONE_PACKET)
    }

    /// Whether the entry counts as active (normal entries only; templates are neither).
    pub fn is_active(&self) -> bool {
        !self.e.has(flag::INACTIVE | flag::TEMPLATE)
    }

    /// Whether no reply has passed the director yet (always true for DR/TUN).
    pub fn no_output(&self) -> bool {
        self.e.has(flag::NOOUTPUT)
    }

    /// The controlling template of a normal entry.
    pub fn control(&self) -> Option<ConnId> {
        if self.is_template() || self.e.link == u32::MAX {
            None
        } else {
            Some(ConnId(self.e.link))
        }
    }

    /// Number of connections a template controls (0 for normal entries).
    pub fn n_control(&self) -> u32 {
        if self.is_template() { self.e.link } else { 0 }
    }

    /// Packets seen client → server.
    pub fn in_pkts(&self) -> u32 {
        self.e.in_pkts
    }

    /// Current timeout in milliseconds.
    pub fn timeout_ms(&self) -> u32 {
        self.e.timeout
    }

    /// Milliseconds left until the entry is due (0 when overdue).
    pub fn expires_in_ms(&self, now: Instant) -> u64 {
        self.e.remaining(now).max(0) as u64
    }
}

pub(crate) fn state_of(e: &Entry) -> ConnState {
    if e.has(flag::TEMPLATE) {
        return ConnState::Template {
            assured: e.state == CTPL_ASSURED,
        };
    }
    match e.proto {
        PROTO_TCP => ConnState::Tcp(TcpState::from_u8(e.state).unwrap_or(TcpState::None)),
        PROTO_SCTP => ConnState::Sctp(SctpState::from_u8(e.state).unwrap_or(SctpState::None)),
        _ => ConnState::Udp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_is_compact() {
        assert_eq!(size_of::<Entry>(), 84);
    }

    #[test]
    fn pack_roundtrip() {
        for a in ["198.51.100.7", "2001:db8::1"] {
            let ip: IpAddr = a.parse().unwrap();
            let (b, v6) = pack(ip);
            assert_eq!(unpack(&b, v6), ip);
        }
    }

    #[test]
    fn method_roundtrip() {
        for m in [
            ForwardMethod::Masq,
            ForwardMethod::Route,
            ForwardMethod::Tunnel,
        ] {
            assert_eq!(method_of(method_bits(m) | flag::LIVE), m);
        }
    }
}
