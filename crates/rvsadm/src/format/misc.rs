//! The header line of `-L`, `-L --timeout` and `-L --daemon`.

use core::fmt::Write as _;

use rvs_api::{Info, SyncDaemon};
use rvs_core::model::Timeouts;

use crate::addr::ntop;

/// `IP Virtual Server version 1.2.1 (size=4096)`.
pub fn header(info: &Info) -> String {
    let v = info.version_code;
    format!(
        "IP Virtual Server version {}.{}.{} (size={})\n",
        (v >> 16) & 0xff,
        (v >> 8) & 0xff,
        v & 0xff,
        info.conn_tab_size as i32
    )
}

/// `Timeout (tcp tcpfin udp): 900 120 300`.
pub fn timeouts(t: &Timeouts) -> String {
    format!(
        "Timeout (tcp tcpfin udp): {} {} {}\n",
        t.tcp as i32, t.tcp_fin as i32, t.udp as i32
    )
}

/// One line per running sync daemon (master first, then backup).
pub fn daemons(list: &[SyncDaemon]) -> String {
    let mut out = String::new();
    let mut sorted: Vec<&SyncDaemon> = list.iter().collect();
    sorted.sort_by_key(|d| d.state != rvs_api::DaemonState::Master);
    for d in sorted {
        let _ = write!(
            out,
            "{} sync daemon (mcast={}, syncid={}",
            d.state.name(),
            d.mcast_ifn,
            d.syncid
        );
        if d.sync_maxlen != 0 {
            let _ = write!(out, ", maxlen={}", d.sync_maxlen);
        }
        if let Some(g) = d.mcast_group {
            let _ = write!(out, ", group={}", ntop(g));
        }
        if d.mcast_port != 0 {
            let _ = write!(out, ", port={}", d.mcast_port);
        }
        if d.mcast_ttl != 0 {
            let _ = write!(out, ", ttl={}", d.mcast_ttl);
        }
        out.push_str(")\n");
    }
    out
}
