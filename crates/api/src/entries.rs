//! What the query operations return: services with their destinations and counters,
//! connections, daemon state, and general information.

use core::net::{IpAddr, SocketAddr};

use rvs_core::model::{Counters, DestConfig, Rates, ServiceConfig};
use serde::{Deserialize, Serialize};

/// A virtual service as listed: its settings, counters, rates and destinations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceEntry {
    /// The settings (key, scheduler, flags, persistence...).
    pub service: ServiceConfig,
    /// Counters since the last zeroing.
    #[serde(default)]
    pub stats: Counters,
    /// Estimated rates (2-second estimator).
    #[serde(default)]
    pub rates: Rates,
    /// Destinations in IPVS list order (newest first).
    #[serde(default)]
    pub dests: Vec<DestEntry>,
}

/// A destination (real server) as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestEntry {
    /// The settings, with the port as stored (DR/TUN: the service port).
    pub dest: DestConfig,
    /// Active connections (ActiveConn).
    #[serde(default)]
    pub active_conns: u32,
    /// Inactive connections (InActConn).
    #[serde(default)]
    pub inact_conns: u32,
    /// Persistence templates pointing at this destination (PersistConn).
    #[serde(default)]
    pub persist_conns: u32,
    /// Counters since the last zeroing.
    #[serde(default)]
    pub stats: Counters,
    /// Estimated rates.
    #[serde(default)]
    pub rates: Rates,
}

/// One entry of the connection table (a connection or a persistence template).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnEntry {
    /// Protocol name as /proc/net/ip_vs_conn prints it: "TCP", "UDP", "SCTP", or "IP" for
    /// firewall-mark templates.
    pub protocol: String,
    /// Client address and port (port 0 for templates).
    pub client: SocketAddr,
    /// Virtual address and port (fwmark templates: the mark as an address, port 0).
    #[serde(rename = "virtual")]
    pub vaddr: SocketAddr,
    /// Destination address and port.
    pub dest: SocketAddr,
    /// State name, e.g. "ESTABLISHED", "FIN_WAIT", "UDP", "NONE".
    pub state: String,
    /// Seconds until the entry expires.
    pub expires: u32,
    /// Whether the entry is a persistence template.
    #[serde(default)]
    pub template: bool,
    /// Persistence engine name, for entries created by one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pe_name: Option<String>,
    /// Persistence engine data (e.g. the SIP Call-ID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pe_data: Option<String>,
}

/// General information about the director.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Info {
    /// The IPVS version this emulates, as (major << 16 | minor << 8 | patch): 0x010201.
    pub version_code: u32,
    /// Connection hash table buckets (the "size=" of `ipvsadm -L`).
    pub conn_tab_size: u32,
    /// Connections (and templates) in the table now.
    #[serde(default)]
    pub connections: u64,
}

/// Master or backup role of a connection sync daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DaemonState {
    /// Sends connection updates.
    Master,
    /// Receives connection updates.
    Backup,
}

impl DaemonState {
    /// The word ipvsadm uses ("master" / "backup").
    pub const fn name(self) -> &'static str {
        match self {
            DaemonState::Master => "master",
            DaemonState::Backup => "backup",
        }
    }
}

/// A connection sync daemon: the settings to start one, or the state of a running one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncDaemon {
    /// Master or backup.
    pub state: DaemonState,
    /// Multicast interface name (ipvsadm default "eth0").
    pub mcast_ifn: String,
    /// Sync id (0..255).
    #[serde(default)]
    pub syncid: u8,
    /// Maximum sync message length, 0 = derived from the MTU.
    #[serde(default)]
    pub sync_maxlen: u16,
    /// Multicast group, none = the default 224.0.0.81.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcast_group: Option<IpAddr>,
    /// UDP port, 0 = default 8848.
    #[serde(default)]
    pub mcast_port: u16,
    /// Multicast TTL, 0 = default 1.
    #[serde(default)]
    pub mcast_ttl: u8,
}
