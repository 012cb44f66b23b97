//! The JSON object `rvs lab up` prints: what a test or a user needs to drive the lab.
//!
//! Deserialize it with serde to find the namespaces, the VIP and the director's interfaces.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

/// The lab's topology, after the seed article's experiments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Topology {
    /// §9: the director has an external address (the VIP) and a DIP; the real servers route
    /// through the DIP.
    Nat,
    /// §10: client, router, and the director with two real servers on one LAN.
    Dr,
    /// §7: as DR, but the real servers sit on another subnet behind the router.
    Tun,
    /// §11: the DR lab with a second director; no director holds the VIP until VRRP gives it.
    Ha,
}

impl Topology {
    /// The name used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nat => "nat",
            Self::Dr => "dr",
            Self::Tun => "tun",
            Self::Ha => "ha",
        }
    }
}

/// One address of a lab host: always IPv4, IPv6 too with `--ipv6`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DualAddr {
    /// The IPv4 address.
    pub v4: Ipv4Addr,
    /// The IPv6 address, present when the lab was built with `--ipv6`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v6: Option<Ipv6Addr>,
}

/// Namespace names, each one `ip netns exec NAME` enters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Namespaces {
    /// The client.
    pub client: String,
    /// The (first) director, where rvsd runs.
    pub director: String,
    /// The second director (HA lab only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub director2: Option<String>,
    /// The router between the client and the LAN (DR, TUN, HA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub router: Option<String>,
    /// The namespace holding the LAN's bridge (`br0`), handy for tcpdump.
    pub lan: String,
    /// Real server 1.
    pub rs1: String,
    /// Real server 2.
    pub rs2: String,
}

/// Addresses of the lab's hosts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Addresses {
    /// The client's address (CIP).
    pub client: DualAddr,
    /// The virtual IP clients connect to.
    pub vip: DualAddr,
    /// The director's address facing the real servers (DIP).
    pub dip: DualAddr,
    /// The second director's address (HA lab only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub director2: Option<DualAddr>,
    /// Real server 1 (RIP).
    pub rs1: DualAddr,
    /// Real server 2 (RIP).
    pub rs2: DualAddr,
}

/// Interfaces to start rvsd on, per director namespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interfaces {
    /// The director's interfaces.
    pub director: Vec<String>,
    /// The second director's interfaces (HA lab only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub director2: Option<Vec<String>>,
}

/// Ports the built-in servers listen on in each real server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ports {
    /// HTTP ports (body = the server's name and a newline).
    pub http: Vec<u16>,
    /// UDP ports answering every datagram with the server's name and a newline.
    pub udp_echo: Vec<u16>,
}

/// Everything `rvs lab up` prints, as one JSON object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabInfo {
    /// The lab's name (the namespace prefix).
    pub name: String,
    /// Which topology was built.
    pub topology: Topology,
    /// Whether IPv6 addresses were configured too.
    pub ipv6: bool,
    /// Namespace names.
    pub namespaces: Namespaces,
    /// Addresses of the hosts.
    pub addresses: Addresses,
    /// Interfaces for rvsd.
    pub interfaces: Interfaces,
    /// Ports of the built-in servers (empty with `--no-servers`).
    pub ports: Ports,
    /// Where logs and PID files live.
    pub state_dir: String,
}
