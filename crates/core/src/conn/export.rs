//! Fixed-size records of flows, for listings (`ipvsadm -L -c`) and for a future XDP fast
//! path that would hold established flows in a BPF map.

use core::net::SocketAddr;

use crate::Instant;
use crate::model::ForwardMethod;

use super::entry::{Conn, ConnId, ConnState};

/// One row of `ipvsadm -L -n -c`, owned (safe to send to the control task).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnInfo {
    /// The entry's handle at the time of the snapshot.
    pub id: ConnId,
    /// "TCP", "UDP", "SCTP" or "IP" (fwmark template).
    pub protocol: &'static str,
    /// Client address and port (port 0 for templates).
    pub client: SocketAddr,
    /// Virtual address and port.
    pub virtual_addr: SocketAddr,
    /// Destination address and port.
    pub dest: SocketAddr,
    /// The state.
    pub state: ConnState,
    /// Milliseconds until expiry.
    pub expires_ms: u64,
    /// Whether this is a persistence template.
    pub template: bool,
    /// Forwarding method.
    pub method: ForwardMethod,
    /// Service id.
    pub service: u32,
    /// Destination id.
    pub dest_id: u32,
}

impl ConnInfo {
    /// Snapshot of `c` at `now`.
    pub fn of(c: &Conn<'_>, now: Instant) -> ConnInfo {
        ConnInfo {
            id: c.id(),
            protocol: c.protocol_name(),
            client: c.client(),
            virtual_addr: c.virtual_addr(),
            dest: c.dest_addr(),
            state: c.state(),
            expires_ms: c.expires_in_ms(now),
            template: c.is_template(),
            method: c.method(),
            service: c.service_id(),
            dest_id: c.dest_id(),
        }
    }

    /// The state name ipvsadm prints.
    pub fn state_name(&self) -> &'static str {
        self.state.name()
    }
}

/// Size of [`FlowRecord::to_bytes`].
pub const FLOW_RECORD_LEN: usize = 64;

/// A flow as a fixed 64-byte record.
///
/// Layout (offsets in bytes): 0 client address, 16 virtual address, 32 destination address
/// (16 bytes each, IPv4 in the first 4 bytes, network order); 48 client port, 50 virtual
/// port, 52 destination port (big-endian, as on the wire); 54 IP protocol; 55 flags (bit 0
/// IPv6, bit 1 destination IPv6, bits 2-3 method 0 NAT / 1 DR / 2 TUN, bit 4 template);
/// 56 destination id, 60 service id (little-endian).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowRecord {
    /// Client address.
    pub caddr: [u8; 16],
    /// Virtual address.
    pub vaddr: [u8; 16],
    /// Destination address.
    pub daddr: [u8; 16],
    /// Client port.
    pub cport: u16,
    /// Virtual port.
    pub vport: u16,
    /// Destination port.
    pub dport: u16,
    /// IP protocol number.
    pub proto: u8,
    /// Flag bits as in the layout.
    pub flags: u8,
    /// Destination id.
    pub dest: u32,
    /// Service id.
    pub service: u32,
}

impl FlowRecord {
    /// Flag: client/virtual addresses are IPv6.
    pub const F_V6: u8 = 0x01;
    /// Flag: destination address is IPv6.
    pub const F_DEST_V6: u8 = 0x02;
    /// Flag: persistence template.
    pub const F_TEMPLATE: u8 = 0x10;

    /// The record of `c`.
    pub fn of(c: &Conn<'_>) -> FlowRecord {
        let method = match c.method() {
            ForwardMethod::Masq => 0u8,
            ForwardMethod::Route => 1,
            ForwardMethod::Tunnel => 2,
        };
        let mut flags = method << 2;
        if c.is_v6() {
            flags |= Self::F_V6;
        }
        if c.dest_addr().is_ipv6() {
            flags |= Self::F_DEST_V6;
        }
        if c.is_template() {
            flags |= Self::F_TEMPLATE;
        }
        FlowRecord {
            caddr: *c.client_bytes(),
            vaddr: *c.virtual_bytes(),
            daddr: *c.dest_bytes(),
            cport: c.cport(),
            vport: c.vport(),
            dport: c.dport(),
            proto: c.protocol_number(),
            flags,
            dest: c.dest_id(),
            service: c.service_id(),
        }
    }

    /// Serialise in the documented layout.
    pub fn to_bytes(&self) -> [u8; FLOW_RECORD_LEN] {
        let mut b = [0u8; FLOW_RECORD_LEN];
        b[0..16].copy_from_slice(&self.caddr);
        b[16..32].copy_from_slice(&self.vaddr);
        b[32..48].copy_from_slice(&self.daddr);
        b[48..50].copy_from_slice(&self.cport.to_be_bytes());
        b[50..52].copy_from_slice(&self.vport.to_be_bytes());
        b[52..54].copy_from_slice(&self.dport.to_be_bytes());
        b[54] = self.proto;
        b[55] = self.flags;
        b[56..60].copy_from_slice(&self.dest.to_le_bytes());
        b[60..64].copy_from_slice(&self.service.to_le_bytes());
        b
    }

    /// Parse the documented layout.
    pub fn from_bytes(b: &[u8; FLOW_RECORD_LEN]) -> FlowRecord {
        let a16 = |o: usize| {
            let mut a = [0u8; 16];
            a.copy_from_slice(&b[o..o + 16]);
            a
        };
        let be16 = |o: usize| u16::from_be_bytes([b[o], b[o + 1]]);
        let le32 = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        FlowRecord {
            caddr: a16(0),
            vaddr: a16(16),
            daddr: a16(32),
            cport: be16(48),
            vport: be16(50),
            dport: be16(52),
            proto: b[54],
            flags: b[55],
            dest: le32(56),
            service: le32(60),
        }
    }
}
