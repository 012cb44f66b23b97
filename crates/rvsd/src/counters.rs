//! The data plane's counters as an operator reads them: why packets were dropped (per core
//! drop reason and per driver cause), what the steering program did, and the AF_XDP
//! sockets' kernel counters. rvsd dumps them as one JSON object on SIGUSR1 (to
//! `--stats-file`, else to the log), because the control protocol has no query for them yet.

use std::collections::BTreeMap;

use rvs_core::conn::TableStats;
use rvs_core::director::Director;
use rvs_dataplane::DataplaneStats;
use serde::Serialize;

/// Everything counted, summed over the workers.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counters {
    /// The XDP steering program: redirected, passed to the kernel, no socket, fragments.
    pub steer: SteerCounters,
    /// The workers' driver counters (receive, transmit, next-hop failures).
    pub workers: WorkerCounters,
    /// Frames the core dropped, by reason (snake_case names of `DropReason`).
    pub drops: BTreeMap<String, u64>,
    /// ICMP errors the core generated.
    pub icmp_sent: u64,
    /// The connection table's counters.
    pub table: TableCounters,
}

/// The steering program's counters.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SteerCounters {
    /// Packets redirected to an AF_XDP socket.
    pub steered: u64,
    /// Packets left to the kernel because they are not ours.
    pub passed: u64,
    /// Packets of ours left to the kernel because no socket serves their queue.
    pub no_socket: u64,
    /// Port-less fragments matched.
    pub fragments: u64,
}

/// The workers' counters, summed.
#[derive(Debug, Clone, Default, Serialize)]
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
    /// Forwarded frames dropped: the next hop's MAC was unknown (resolution started).
    pub no_neighbour: u64,
    /// Forwarded frames dropped: no route to the next hop.
    pub no_route: u64,
    /// Forwarded frames dropped: the route leaves through an interface rvsd does not serve.
    pub not_managed: u64,
    /// Frames dropped because a descriptor or a verdict pointed outside the frame.
    pub invalid_frame: u64,
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
}

/// The connection table's counters, summed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TableCounters {
    /// Entries created (connections and templates).
    pub inserted: u64,
    /// Entries removed by their timer.
    pub expired: u64,
    /// Entries evicted from a full table.
    pub evicted: u64,
    /// Inserts refused because the table was full.
    pub refused_full: u64,
}

/// What one worker's core knows: drops per reason, ICMP errors sent, table counters.
#[derive(Debug, Clone, Default)]
pub struct CoreCounters {
    drops: BTreeMap<String, u64>,
    icmp_sent: u64,
    table: TableStats,
}

impl CoreCounters {
    /// Read `d`'s counters (runs on the worker, between batches).
    pub fn read(d: &Director) -> Self {
        CoreCounters {
            drops: d
                .drops()
                .iter()
                .map(|(r, n)| (snake_case(&format!("{r:?}")), n))
                .collect(),
            icmp_sent: d.icmp_sent(),
            table: *d.table_stats(),
        }
    }
}

impl Counters {
    /// Merge the driver's counters and every worker's core counters.
    pub fn new(dp: &DataplaneStats, cores: &[CoreCounters]) -> Self {
        let t = &dp.total;
        let mut c = Counters {
            steer: SteerCounters {
                steered: dp.steer.steered,
                passed: dp.steer.passed,
                no_socket: dp.steer.no_socket,
                fragments: dp.steer.fragments,
            },
            workers: WorkerCounters {
                rx_packets: t.rx_packets,
                rx_bytes: t.rx_bytes,
                tx_packets: t.tx_packets,
                tx_bytes: t.tx_bytes,
                processor_drops: t.processor_drops,
                tx_ring_full: t.tx_ring_full,
                no_neighbour: t.no_neighbour,
                no_route: t.no_route,
                not_managed: t.not_managed,
                invalid_frame: t.invalid_frame,
                xsk_rx_dropped: t.xsk.rx_dropped,
                xsk_rx_ring_full: t.xsk.rx_ring_full,
                xsk_rx_fill_ring_empty: t.xsk.rx_fill_ring_empty_descs,
                xsk_rx_invalid_descs: t.xsk.rx_invalid_descs,
                xsk_tx_invalid_descs: t.xsk.tx_invalid_descs,
            },
            ..Counters::default()
        };
        for core in cores {
            for (reason, n) in &core.drops {
                *c.drops.entry(reason.clone()).or_default() += n;
            }
            c.icmp_sent += core.icmp_sent;
            c.table.inserted += core.table.inserted;
            c.table.expired += core.table.expired;
            c.table.evicted += core.table.evicted;
            c.table.refused_full += core.table.refused_full;
        }
        c
    }
}

/// `NoService` → `no_service`.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, ch) in name.chars().enumerate() {
        if ch.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(ch.to_ascii_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_reasons_are_named_in_snake_case() {
        assert_eq!(snake_case("NoService"), "no_service");
        assert_eq!(snake_case("Fragment"), "fragment");
        assert_eq!(snake_case("TtlExceeded"), "ttl_exceeded");
    }

    #[test]
    fn every_drop_reason_of_every_worker_is_summed() {
        let d = Director::new(Default::default());
        let one = CoreCounters::read(&d);
        assert_eq!(one.drops.len(), rvs_core::stats::DROP_REASONS.len());
        let mut a = one.clone();
        a.drops.insert("fragment".into(), 2);
        a.icmp_sent = 1;
        let mut b = one;
        b.drops.insert("fragment".into(), 3);
        let c = Counters::new(&DataplaneStats::default(), &[a, b]);
        assert_eq!(c.drops["fragment"], 5);
        assert_eq!(c.drops["no_service"], 0);
        assert_eq!(c.icmp_sent, 1);
    }
}
