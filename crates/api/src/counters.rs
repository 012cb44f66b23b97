//! What the `counters` query returns: the data plane's own counters, beside the per-service
//! and per-destination ones of `list_services`. Why packets were dropped, what the steering
//! program did, what each worker received and sent, the AF_XDP sockets' kernel counters,
//! ICMP errors generated, and the connection table's figures.
//!
//! They count from the start of rvsd and only grow (`zero` does not reset them), except the
//! gauge `table.entries`. Every field has a serde default, so an older or newer peer's object
//! still reads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Everything the data plane counts (summed over the workers, and per worker).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DataplaneCounters {
    /// The XDP steering program: redirected, passed to the kernel, no socket, fragments.
    pub steer: SteerCounters,
    /// The workers' driver counters, summed.
    pub workers: WorkerCounters,
    /// The workers' driver counters, one entry per worker in worker order (worker N serves
    /// queue N of every interface).
    pub per_worker: Vec<WorkerCounters>,
    /// Frames the core dropped, by reason (snake_case, e.g. `no_service`, `table_full`);
    /// every reason the core knows is present, also at 0.
    pub drops: BTreeMap<String, u64>,
    /// ICMP errors the core generated (fragmentation needed, packet too big, relayed errors).
    pub icmp_sent: u64,
    /// The connection table, summed over the workers.
    pub table: TableCounters,
}

/// The steering program's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SteerCounters {
    /// Packets redirected to an AF_XDP socket.
    pub steered: u64,
    /// Packets left to the kernel because they are not ours.
    pub passed: u64,
    /// Packets of ours left to the kernel because no socket serves their queue.
    pub no_socket: u64,
    /// Port-less fragments matched (also counted as steered or no_socket).
    pub fragments: u64,
    /// Packets the XDP fast path forwarded (established flows, without AF_XDP).
    pub fast_hits: u64,
    /// Packets of a fast-path flow the program left to AF_XDP (TTL, MTU, padding).
    pub fast_fallbacks: u64,
    /// Frames lost by fast-path redirects to a device that could not take them; the
    /// workers then send that device's flows through AF_XDP for a while.
    pub fast_redirect_errors: u64,
}

/// One worker's driver counters (or their sum).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkerCounters {
    /// Frames received from the AF_XDP sockets.
    pub rx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Frames queued for transmission.
    pub tx_packets: u64,
    /// Bytes queued for transmission.
    pub tx_bytes: u64,
    /// Frames the core dropped (`drops` says why).
    pub processor_drops: u64,
    /// Forwarded frames dropped: the egress TX ring was full.
    pub tx_ring_full: u64,
    /// Forwarded frames dropped: the next hop's MAC stayed unknown (held up to 3 s).
    pub no_neighbour: u64,
    /// Forwarded frames that waited for the next hop's MAC (sent once it resolved, unless
    /// also counted in `no_neighbour`).
    pub neighbour_held: u64,
    /// Forwarded frames dropped: no route to the next hop.
    pub no_route: u64,
    /// Forwarded frames dropped: the route leaves through an interface rvsd does not serve.
    pub not_managed: u64,
    /// Frames dropped because a descriptor or a verdict pointed outside the frame.
    pub invalid_frame: u64,
    /// Frames whose VLAN tag was stripped on receive.
    pub vlan_stripped: u64,
    /// Kernel: packets the AF_XDP sockets dropped.
    pub xsk_rx_dropped: u64,
    /// Kernel: times an RX ring was full.
    pub xsk_rx_ring_full: u64,
    /// Kernel: times a fill ring was empty when a frame was needed.
    pub xsk_rx_fill_ring_empty: u64,
    /// Kernel: invalid RX descriptors.
    pub xsk_rx_invalid_descs: u64,
    /// Kernel: invalid TX descriptors.
    pub xsk_tx_invalid_descs: u64,
    /// Kernel: times a TX ring was empty when the kernel looked for work.
    pub xsk_tx_ring_empty: u64,
    /// Fast path: flow entries installed.
    pub fast_installs: u64,
    /// Fast path: flow entries removed (closed, expired, changed, configuration change).
    pub fast_removals: u64,
    /// Fast path: offloadable flows not installed (flow map full or held by another worker).
    pub fast_install_failed: u64,
    /// Fast path: flow entries installed now (a gauge).
    pub fast_flows: u64,
    /// Fast path: packets forwarded, as harvested into the statistics.
    pub fast_packets: u64,
    /// Fast path: IP bytes forwarded, as harvested.
    pub fast_bytes: u64,
    /// Fast path: times an egress was taken off the fast path after redirect errors.
    pub fast_egress_disabled: u64,
}

/// The connection table's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TableCounters {
    /// Entries held now (connections and templates); a gauge.
    pub entries: u64,
    /// Entries created.
    pub inserted: u64,
    /// Entries removed by their timer.
    pub expired: u64,
    /// Entries evicted to make room in a full table.
    pub evicted: u64,
    /// New entries refused because the table was full (also counted as drop `table_full`).
    pub refused_full: u64,
    /// Entries removed before their timer ran out (e.g. `expire_nodest_conn`, port reuse).
    pub removed: u64,
}

impl TableCounters {
    /// Add `o` into `self`.
    pub fn merge(&mut self, o: &TableCounters) {
        self.entries += o.entries;
        self.inserted += o.inserted;
        self.expired += o.expired;
        self.evicted += o.evicted;
        self.refused_full += o.refused_full;
        self.removed += o.removed;
    }
}
