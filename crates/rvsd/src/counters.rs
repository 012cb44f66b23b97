//! The data plane's counters gathered in one place: why packets were dropped (per core drop
//! reason and per driver cause), what the steering program did, each worker's traffic, the
//! AF_XDP sockets' kernel counters and the connection table. The `counters` query answers
//! them, SIGUSR1 dumps them as JSON (to `--stats-file`, else to the log), and `--metrics`
//! renders them for Prometheus: all from [`merge`].

use std::collections::BTreeMap;

use rvs_api::{DataplaneCounters, SteerCounters, TableCounters, WorkerCounters};
use rvs_core::director::Director;
use rvs_dataplane::{DataplaneStats, WorkerStats};

/// What one worker's core knows: drops per reason, ICMP errors sent, the connection table.
#[derive(Debug, Clone, Default)]
pub struct CoreCounters {
    drops: BTreeMap<String, u64>,
    icmp_sent: u64,
    table: TableCounters,
}

impl CoreCounters {
    /// Read `d`'s counters (runs on the worker, between batches).
    pub fn read(d: &Director) -> Self {
        let t = d.table_stats();
        CoreCounters {
            drops: d
                .drops()
                .iter()
                .map(|(r, n)| (snake_case(&format!("{r:?}")), n))
                .collect(),
            icmp_sent: d.icmp_sent(),
            table: TableCounters {
                entries: d.conn_count() as u64,
                inserted: t.inserted,
                expired: t.expired,
                evicted: t.evicted,
                refused_full: t.refused_full,
                removed: t.removed,
            },
        }
    }
}

/// Merge the driver's counters and every worker's core counters.
pub fn merge(dp: &DataplaneStats, cores: &[CoreCounters]) -> DataplaneCounters {
    let mut c = DataplaneCounters {
        steer: SteerCounters {
            steered: dp.steer.steered,
            passed: dp.steer.passed,
            no_socket: dp.steer.no_socket,
            fragments: dp.steer.fragments,
            fast_hits: dp.steer.fast_hits,
            fast_fallbacks: dp.steer.fast_fallbacks,
            fast_redirect_errors: dp.steer.fast_redirect_errors,
        },
        workers: worker(&dp.total),
        per_worker: dp.workers.iter().map(worker).collect(),
        ..DataplaneCounters::default()
    };
    for core in cores {
        for (reason, n) in &core.drops {
            *c.drops.entry(reason.clone()).or_default() += n;
        }
        c.icmp_sent += core.icmp_sent;
        c.table.merge(&core.table);
    }
    c
}

/// One worker's driver counters in the protocol's terms.
fn worker(t: &WorkerStats) -> WorkerCounters {
    WorkerCounters {
        rx_packets: t.rx_packets,
        rx_bytes: t.rx_bytes,
        tx_packets: t.tx_packets,
        tx_bytes: t.tx_bytes,
        processor_drops: t.processor_drops,
        tx_ring_full: t.tx_ring_full,
        no_neighbour: t.no_neighbour,
        neighbour_held: t.neighbour_held,
        no_route: t.no_route,
        not_managed: t.not_managed,
        invalid_frame: t.invalid_frame,
        vlan_stripped: t.vlan_stripped,
        xsk_rx_dropped: t.xsk.rx_dropped,
        xsk_rx_ring_full: t.xsk.rx_ring_full,
        xsk_rx_fill_ring_empty: t.xsk.rx_fill_ring_empty_descs,
        xsk_rx_invalid_descs: t.xsk.rx_invalid_descs,
        xsk_tx_invalid_descs: t.xsk.tx_invalid_descs,
        xsk_tx_ring_empty: t.xsk.tx_ring_empty_descs,
        fast_installs: t.fast_installs,
        fast_removals: t.fast_removals,
        fast_install_failed: t.fast_install_failed,
        fast_flows: t.fast_flows,
        fast_packets: t.fast_packets,
        fast_bytes: t.fast_bytes,
        fast_egress_disabled: t.fast_egress_disabled,
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
        a.table.entries = 4;
        a.table.evicted = 1;
        let mut b = one;
        b.drops.insert("fragment".into(), 3);
        b.table.entries = 6;
        b.table.refused_full = 2;
        let c = merge(&DataplaneStats::default(), &[a, b]);
        assert_eq!(c.drops["fragment"], 5);
        assert_eq!(c.drops["no_service"], 0);
        assert_eq!(c.icmp_sent, 1);
        assert_eq!(
            (c.table.entries, c.table.evicted, c.table.refused_full),
            (10, 1, 2)
        );
    }

    #[test]
    fn workers_are_reported_each_and_summed() {
        let w0 = WorkerStats {
            rx_packets: 3,
            no_neighbour: 1,
            ..WorkerStats::default()
        };
        let w1 = WorkerStats {
            rx_packets: 4,
            tx_ring_full: 2,
            ..WorkerStats::default()
        };
        let mut total = w0;
        total.merge(&w1);
        let dp = DataplaneStats {
            workers: vec![w0, w1],
            total,
            ..DataplaneStats::default()
        };
        let c = merge(&dp, &[]);
        assert_eq!(c.per_worker.len(), 2);
        assert_eq!(
            (c.per_worker[0].rx_packets, c.per_worker[0].no_neighbour),
            (3, 1)
        );
        assert_eq!(c.per_worker[1].tx_ring_full, 2);
        assert_eq!((c.workers.rx_packets, c.workers.tx_ring_full), (7, 2));
    }
}
