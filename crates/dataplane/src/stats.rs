//! Counters of the workers: kept in plain integers on the packet path and published once
//! per loop iteration into atomics that the control plane reads and merges.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::xsk::XskStats;

macro_rules! worker_stats {
    ($($(#[$doc:meta])* $field:ident),+ $(,)?) => {
        /// Counters of one worker (or the sum over workers).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct WorkerStats {
            $($(#[$doc])* pub $field: u64,)+
            /// Kernel counters of the worker's AF_XDP sockets (refreshed every tick).
            pub xsk: XskStats,
        }

        /// The published copy of a worker's counters.
        #[derive(Debug, Default)]
        pub(crate) struct SharedStats {
            $($field: AtomicU64,)+
            xsk: [AtomicU64; 6],
        }

        impl SharedStats {
            pub(crate) fn publish(&self, s: &WorkerStats) {
                $(self.$field.store(s.$field, Ordering::Relaxed);)+
                let x = [s.xsk.rx_dropped, s.xsk.rx_invalid_descs, s.xsk.tx_invalid_descs,
                    s.xsk.rx_ring_full, s.xsk.rx_fill_ring_empty_descs, s.xsk.tx_ring_empty_descs];
                for (a, v) in self.xsk.iter().zip(x) {
                    a.store(v, Ordering::Relaxed);
                }
            }

            pub(crate) fn read(&self) -> WorkerStats {
                let x: Vec<u64> = self.xsk.iter().map(|a| a.load(Ordering::Relaxed)).collect();
                WorkerStats {
                    $($field: self.$field.load(Ordering::Relaxed),)+
                    xsk: XskStats {
                        rx_dropped: x[0], rx_invalid_descs: x[1], tx_invalid_descs: x[2],
                        rx_ring_full: x[3], rx_fill_ring_empty_descs: x[4], tx_ring_empty_descs: x[5],
                    },
                }
            }
        }

        impl WorkerStats {
            /// Add `o` into `self`.
            pub fn merge(&mut self, o: &WorkerStats) {
                $(self.$field += o.$field;)+
                self.xsk.merge(&o.xsk);
            }
        }
    };
}

worker_stats! {
    /// Frames received from the AF_XDP sockets.
    rx_packets,
    /// Bytes received.
    rx_bytes,
    /// Frames queued for transmission.
    tx_packets,
    /// Bytes queued for transmission.
    tx_bytes,
    /// Frames the processor dropped (its own counters say why).
    processor_drops,
    /// Forwarded frames dropped because the egress TX ring was full.
    tx_ring_full,
    /// Forwarded frames dropped because the next hop's MAC stayed unknown: held longer than
    /// the kernel resolves, or beyond the hold queue's bounds.
    no_neighbour,
    /// Forwarded frames that waited for the next hop's MAC (most are sent once it resolves).
    neighbour_held,
    /// Forwarded frames dropped because the kernel has no (unicast) route to the next hop.
    no_route,
    /// Forwarded frames dropped because the route leaves through an interface we do not serve.
    not_managed,
    /// Frames dropped because a descriptor or a verdict pointed outside the frame.
    invalid_frame,
    /// Frames whose 802.1Q/802.1ad tag was stripped on receive.
    vlan_stripped,
    /// Calls of the processor's tick.
    ticks,
    /// Flow entries installed in the XDP fast path.
    fast_installs,
    /// Flow entries removed (connection closed, expired or changed; configuration change).
    fast_removals,
    /// Offloadable flows not installed: flow map full or entry held by another worker.
    fast_install_failed,
    /// Flow entries installed now (a gauge; summed over workers).
    fast_flows,
    /// Packets the fast path forwarded, as harvested into the core's statistics.
    fast_packets,
    /// IP bytes the fast path forwarded, as harvested.
    fast_bytes,
    /// Times an egress interface was taken off the fast path after redirect errors.
    fast_egress_disabled,
}
