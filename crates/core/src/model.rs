//! The configuration model: virtual services and their destinations, as IPVS holds them.
//!
//! These are plain values; the control protocol carries them and the director applies them.

use core::net::IpAddr;

/// Transport protocol of a virtual service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Protocol {
    /// TCP (IP protocol 6).
    Tcp,
    /// UDP (IP protocol 17).
    Udp,
    /// SCTP (IP protocol 132).
    Sctp,
}

impl Protocol {
    /// The IP protocol number.
    pub const fn number(self) -> u8 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Sctp => 132,
        }
    }

    /// The protocol with this IP protocol number, if the core balances it.
    pub const fn from_number(n: u8) -> Option<Self> {
        match n {
            6 => Some(Protocol::Tcp),
            17 => Some(Protocol::Udp),
            132 => Some(Protocol::Sctp),
            _ => None,
        }
    }

    /// The name ipvsadm prints ("TCP", "UDP", "SCTP").
    pub const fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

/// Address family of a firewall-mark service (the others take it from their address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Family {
    /// IPv4.
    Inet,
    /// IPv6.
    Inet6,
}

/// What identifies a virtual service: (protocol, VIP, port) or a firewall mark.
///
/// Port 0 with persistence is a VIP-wide ("all ports") service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ServiceKey {
    /// A service by protocol, virtual address and port.
    Addr {
        /// The transport protocol.
        protocol: Protocol,
        /// The virtual IP.
        addr: IpAddr,
        /// The virtual port (0 = all ports; needs persistence).
        port: u16,
    },
    /// A firewall-mark service.
    Fwmark {
        /// The mark (non-zero).
        mark: u32,
        /// The address family the mark applies to.
        family: Family,
    },
}

/// Scheduler flags (`-b`): the kernel's IP_VS_SVC_F_SCHED1..3 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SchedFlags(pub u32);

impl SchedFlags {
    /// IP_VS_SVC_F_SCHED1: sh-fallback / mh-fallback.
    pub const SCHED1: u32 = 0x0008;
    /// IP_VS_SVC_F_SCHED2: sh-port / mh-port.
    pub const SCHED2: u32 = 0x0010;
    /// IP_VS_SVC_F_SCHED3: unused by the stock schedulers.
    pub const SCHED3: u32 = 0x0020;

    /// Whether the fallback flag (sched1) is set.
    pub const fn fallback(self) -> bool {
        self.0 & Self::SCHED1 != 0
    }

    /// Whether the port flag (sched2) is set.
    pub const fn port(self) -> bool {
        self.0 & Self::SCHED2 != 0
    }
}

/// Persistence settings of a service (`-p [timeout] [-M netmask]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Persistence {
    /// Template timeout in seconds (ipvsadm default 300).
    pub timeout: u32,
    /// Prefix length of the client netmask grouping clients (32 / 128 by default).
    pub netmask: u8,
}

/// The settable part of a virtual service (`-A` / `-E`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ServiceConfig {
    /// The service identity.
    pub key: ServiceKey,
    /// Scheduler name: rr, wrr, lc, wlc, sed, nq, lblc, lblcr, dh, sh, mh, fo, ovf, twos.
    pub scheduler: String,
    /// Scheduler flags (`-b`).
    pub sched_flags: SchedFlags,
    /// Persistence, if the service is persistent.
    pub persistence: Option<Persistence>,
    /// One-packet scheduling (`-o`, UDP only in effect).
    pub one_packet: bool,
    /// Persistence engine name (`--pe`), e.g. "sip"; none by default.
    pub pe_name: Option<String>,
}

/// Packet-forwarding method of a destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum ForwardMethod {
    /// NAT / masquerading (`-m`): "Masq".
    Masq,
    /// Direct routing / gatewaying (`-g`): "Route".
    Route,
    /// IP-in-IP tunnelling (`-i`): "Tunnel".
    Tunnel,
}

impl ForwardMethod {
    /// The name ipvsadm prints in its Forward column.
    pub const fn name(self) -> &'static str {
        match self {
            ForwardMethod::Masq => "Masq",
            ForwardMethod::Route => "Route",
            ForwardMethod::Tunnel => "Tunnel",
        }
    }
}

/// Tunnel encapsulation of a tunnel destination (`--tun-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum TunnelType {
    /// IP-in-IP (IPv4-in-IPv4, IPv6-in-IPv6).
    #[default]
    Ipip,
    /// GUE (UDP), not supported by the data plane yet.
    Gue,
    /// GRE, not supported by the data plane yet.
    Gre,
}

/// The settable part of a destination (real server) (`-a` / `-e`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DestConfig {
    /// Real server address (RIP).
    pub addr: IpAddr,
    /// Real server port (0 = the service's port; NAT may map to another port).
    pub port: u16,
    /// Forwarding method.
    pub method: ForwardMethod,
    /// Weight; 0 = quiesced (existing connections continue, no new ones).
    pub weight: i32,
    /// Upper connection threshold (`-x`), 0 = none.
    pub u_threshold: u32,
    /// Lower connection threshold (`-y`), 0 = none.
    pub l_threshold: u32,
    /// Tunnel type for tunnel destinations.
    pub tun_type: TunnelType,
    /// Tunnel port (GUE).
    pub tun_port: u16,
    /// Tunnel checksum flags (GUE/GRE): the kernel's IP_VS_TUNNEL_ENCAP_FLAG_* bits.
    pub tun_flags: u16,
}

/// Connection-tracking timeouts settable with `--set tcp tcpfin udp` (seconds; 0 = unchanged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Timeouts {
    /// TCP ESTABLISHED timeout (default 900).
    pub tcp: u32,
    /// TCP FIN_WAIT timeout (default 120).
    pub tcp_fin: u32,
    /// UDP timeout (default 300).
    pub udp: u32,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300,
        }
    }
}

/// Traffic counters as IPVS keeps them (per service, per destination, global).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Counters {
    /// Connections scheduled.
    pub conns: u64,
    /// Packets client → server.
    pub inpkts: u64,
    /// Packets server → client (seen for NAT only).
    pub outpkts: u64,
    /// Bytes client → server (IP lengths).
    pub inbytes: u64,
    /// Bytes server → client (IP lengths).
    pub outbytes: u64,
}

impl Counters {
    /// Add `other` into `self` (merging per-worker counters).
    pub fn merge(&mut self, other: &Counters) {
        self.conns += other.conns;
        self.inpkts += other.inpkts;
        self.outpkts += other.outpkts;
        self.inbytes += other.inbytes;
        self.outbytes += other.outbytes;
    }
}

/// Rates from IPVS's 2-second estimator (per second; bytes per second for the byte rates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Rates {
    /// Connections per second.
    pub cps: u64,
    /// Incoming packets per second.
    pub inpps: u64,
    /// Outgoing packets per second.
    pub outpps: u64,
    /// Incoming bytes per second.
    pub inbps: u64,
    /// Outgoing bytes per second.
    pub outbps: u64,
}
