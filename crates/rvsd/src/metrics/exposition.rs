//! The Prometheus text exposition format (version 0.0.4) of rvsd's counters: per-service and
//! per-destination counters, rates and connection counts (what `ipvsadm -L --stats --rate`
//! shows), and the data plane's own counters (the `counters` query).
//!
//! Every family has `# HELP` and `# TYPE` lines followed by all its samples; names start with
//! `rvs_`, counters end in `_total`. Services are labelled `protocol`, `vip`, `port` (or
//! `fwmark`, `family` for firewall-mark services); destinations add `dest` and `dest_port`;
//! worker counters carry `worker` (worker N serves queue N of every interface). Counters of
//! services restart from 0 after `rvsadm -Z`, which Prometheus treats as a counter reset.

use std::fmt::Write as _;

use rvs_api::{DataplaneCounters, DestEntry, ServiceEntry, WorkerCounters};
use rvs_core::model::{Counters, Family, Rates, ServiceKey};

/// The Content-Type of the rendered text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A sample's labels, in the order they are printed.
type Labels = Vec<(&'static str, String)>;

/// Prometheus metric types used here.
#[derive(Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
}

/// A family of the traffic counters of a service or destination: name suffix, help, field.
type CounterField = (&'static str, &'static str, fn(&Counters) -> u64);

/// The five IPVS counters, as `<prefix>_<suffix>` families.
const TRAFFIC: [CounterField; 5] = [
    ("connections_total", "Connections scheduled", |c| c.conns),
    (
        "in_packets_total",
        "Packets from clients (client to real server)",
        |c| c.inpkts,
    ),
    (
        "out_packets_total",
        "Packets from real servers to clients through the director (NAT only)",
        |c| c.outpkts,
    ),
    ("in_bytes_total", "Bytes from clients (IP lengths)", |c| {
        c.inbytes
    }),
    (
        "out_bytes_total",
        "Bytes from real servers through the director (IP lengths, NAT only)",
        |c| c.outbytes,
    ),
];

/// A family of the estimated rates: name suffix, help, field.
type RateField = (&'static str, &'static str, fn(&Rates) -> u64);

/// The five IPVS rates (2-second estimator), as `<prefix>_<suffix>` gauges.
const RATES: [RateField; 5] = [
    (
        "connections_per_second",
        "Estimated new connections per second",
        |r| r.cps,
    ),
    (
        "in_packets_per_second",
        "Estimated packets per second from clients",
        |r| r.inpps,
    ),
    (
        "out_packets_per_second",
        "Estimated packets per second from real servers",
        |r| r.outpps,
    ),
    (
        "in_bytes_per_second",
        "Estimated bytes per second from clients",
        |r| r.inbps,
    ),
    (
        "out_bytes_per_second",
        "Estimated bytes per second from real servers",
        |r| r.outbps,
    ),
];

/// A family of per-worker counters: full name, help, field.
type WorkerField = (&'static str, &'static str, fn(&WorkerCounters) -> u64);

/// The workers' driver and AF_XDP socket counters.
const WORKER: [WorkerField; 24] = [
    (
        "rvs_worker_rx_packets_total",
        "Frames received from the AF_XDP sockets",
        |w| w.rx_packets,
    ),
    (
        "rvs_worker_rx_bytes_total",
        "Bytes received from the AF_XDP sockets",
        |w| w.rx_bytes,
    ),
    (
        "rvs_worker_tx_packets_total",
        "Frames queued for transmission",
        |w| w.tx_packets,
    ),
    (
        "rvs_worker_tx_bytes_total",
        "Bytes queued for transmission",
        |w| w.tx_bytes,
    ),
    (
        "rvs_worker_processor_drops_total",
        "Frames the core dropped (rvs_drops_total says why)",
        |w| w.processor_drops,
    ),
    (
        "rvs_worker_tx_ring_full_total",
        "Forwarded frames dropped because the egress TX ring was full",
        |w| w.tx_ring_full,
    ),
    (
        "rvs_worker_no_neighbour_total",
        "Forwarded frames dropped because the next hop's MAC stayed unknown",
        |w| w.no_neighbour,
    ),
    (
        "rvs_worker_neighbour_held_total",
        "Forwarded frames that waited for the next hop's MAC",
        |w| w.neighbour_held,
    ),
    (
        "rvs_worker_no_route_total",
        "Forwarded frames dropped because there was no route to the next hop",
        |w| w.no_route,
    ),
    (
        "rvs_worker_not_managed_total",
        "Forwarded frames dropped because the route leaves through an interface rvsd does not serve",
        |w| w.not_managed,
    ),
    (
        "rvs_worker_invalid_frame_total",
        "Frames dropped because a descriptor or verdict pointed outside the frame",
        |w| w.invalid_frame,
    ),
    (
        "rvs_worker_vlan_stripped_total",
        "Frames whose VLAN tag was stripped on receive",
        |w| w.vlan_stripped,
    ),
    (
        "rvs_xsk_rx_dropped_total",
        "Packets the kernel dropped at the AF_XDP sockets",
        |w| w.xsk_rx_dropped,
    ),
    (
        "rvs_xsk_rx_ring_full_total",
        "Times an AF_XDP RX ring was full",
        |w| w.xsk_rx_ring_full,
    ),
    (
        "rvs_xsk_rx_fill_ring_empty_total",
        "Times an AF_XDP fill ring was empty when the kernel needed a frame",
        |w| w.xsk_rx_fill_ring_empty,
    ),
    (
        "rvs_xsk_rx_invalid_descs_total",
        "Invalid AF_XDP RX descriptors",
        |w| w.xsk_rx_invalid_descs,
    ),
    (
        "rvs_xsk_tx_invalid_descs_total",
        "Invalid AF_XDP TX descriptors",
        |w| w.xsk_tx_invalid_descs,
    ),
    (
        "rvs_xsk_tx_ring_empty_total",
        "Times an AF_XDP TX ring was empty when the kernel looked for work",
        |w| w.xsk_tx_ring_empty,
    ),
    (
        "rvs_fastpath_installs_total",
        "Flow entries installed in the XDP fast path",
        |w| w.fast_installs,
    ),
    (
        "rvs_fastpath_removals_total",
        "Flow entries removed from the XDP fast path",
        |w| w.fast_removals,
    ),
    (
        "rvs_fastpath_install_failed_total",
        "Offloadable flows not installed (flow map full or held by another worker)",
        |w| w.fast_install_failed,
    ),
    (
        "rvs_fastpath_packets_total",
        "Packets the XDP fast path forwarded, as harvested into the statistics",
        |w| w.fast_packets,
    ),
    (
        "rvs_fastpath_bytes_total",
        "IP bytes the XDP fast path forwarded, as harvested into the statistics",
        |w| w.fast_bytes,
    ),
    (
        "rvs_fastpath_egress_disabled_total",
        "Times an egress interface was taken off the fast path after redirect errors",
        |w| w.fast_egress_disabled,
    ),
];

/// A gauge of a destination's state: full name, help, field.
type DestField = (&'static str, &'static str, fn(&DestEntry) -> u64);

/// Connection counts and weight of each destination (what `ipvsadm -L` lists).
const DEST_STATE: [DestField; 4] = [
    (
        "rvs_destination_active_connections",
        "Active connections (ActiveConn) of the destination.",
        |d| u64::from(d.active_conns),
    ),
    (
        "rvs_destination_inactive_connections",
        "Inactive connections (InActConn) of the destination.",
        |d| u64::from(d.inact_conns),
    ),
    (
        "rvs_destination_persistent_connections",
        "Persistence templates pointing at the destination (PersistConn).",
        |d| u64::from(d.persist_conns),
    ),
    (
        "rvs_destination_weight",
        "Weight of the destination (0 = quiesced).",
        |d| u64::try_from(d.dest.weight).unwrap_or(0),
    ),
];

/// The whole exposition: services and destinations (in list order), then the data plane.
pub fn render(services: &[ServiceEntry], dp: &DataplaneCounters) -> String {
    let mut out = Exposition::default();
    let dests: Vec<(&ServiceEntry, &DestEntry)> = services
        .iter()
        .flat_map(|s| s.dests.iter().map(move |d| (s, d)))
        .collect();

    for (suffix, help, field) in TRAFFIC {
        out.family(
            &format!("rvs_service_{suffix}"),
            Kind::Counter,
            &format!("{help}, per virtual service."),
            services
                .iter()
                .map(|s| (service_labels(&s.service.key), field(&s.stats))),
        );
    }
    for (suffix, help, field) in RATES {
        out.family(
            &format!("rvs_service_{suffix}"),
            Kind::Gauge,
            &format!("{help}, per virtual service."),
            services
                .iter()
                .map(|s| (service_labels(&s.service.key), field(&s.rates))),
        );
    }
    for (suffix, help, field) in TRAFFIC {
        out.family(
            &format!("rvs_destination_{suffix}"),
            Kind::Counter,
            &format!("{help}, per destination."),
            dests
                .iter()
                .map(|(s, d)| (dest_labels(s, d), field(&d.stats))),
        );
    }
    for (suffix, help, field) in RATES {
        out.family(
            &format!("rvs_destination_{suffix}"),
            Kind::Gauge,
            &format!("{help}, per destination."),
            dests
                .iter()
                .map(|(s, d)| (dest_labels(s, d), field(&d.rates))),
        );
    }
    for (name, help, field) in DEST_STATE {
        out.family(
            name,
            Kind::Gauge,
            help,
            dests.iter().map(|(s, d)| (dest_labels(s, d), field(d))),
        );
    }

    out.family(
        "rvs_drops_total",
        Kind::Counter,
        "Frames the data plane's core dropped, by reason.",
        dp.drops
            .iter()
            .map(|(reason, n)| (vec![("reason", reason.clone())], *n)),
    );
    out.family(
        "rvs_icmp_sent_total",
        Kind::Counter,
        "ICMP errors the data plane generated (fragmentation needed, packet too big, relayed).",
        [(Labels::new(), dp.icmp_sent)],
    );
    let steer = [
        (
            "rvs_steer_redirected_packets_total",
            "Packets the XDP steering program redirected to an AF_XDP socket.",
            dp.steer.steered,
        ),
        (
            "rvs_steer_passed_packets_total",
            "Packets the XDP steering program left to the kernel (not for a service).",
            dp.steer.passed,
        ),
        (
            "rvs_steer_no_socket_packets_total",
            "Service packets left to the kernel because no AF_XDP socket serves their queue.",
            dp.steer.no_socket,
        ),
        (
            "rvs_steer_fragments_total",
            "Port-less fragments the XDP steering program matched.",
            dp.steer.fragments,
        ),
        (
            "rvs_fastpath_hits_total",
            "Packets the XDP fast path forwarded without AF_XDP.",
            dp.steer.fast_hits,
        ),
        (
            "rvs_fastpath_fallbacks_total",
            "Packets of a fast-path flow left to AF_XDP (TTL, MTU or padding).",
            dp.steer.fast_fallbacks,
        ),
        (
            "rvs_fastpath_redirect_errors_total",
            "Frames lost by fast-path redirects to a device that could not take them.",
            dp.steer.fast_redirect_errors,
        ),
    ];
    for (name, help, n) in steer {
        out.family(name, Kind::Counter, help, [(Labels::new(), n)]);
    }
    for (name, help, field) in WORKER {
        out.family(
            name,
            Kind::Counter,
            &format!("{help}, per worker."),
            dp.per_worker
                .iter()
                .enumerate()
                .map(|(i, w)| (vec![("worker", i.to_string())], field(w))),
        );
    }
    out.family(
        "rvs_fastpath_flows",
        Kind::Gauge,
        "Flow entries in the XDP fast path now, per worker.",
        dp.per_worker
            .iter()
            .enumerate()
            .map(|(i, w)| (vec![("worker", i.to_string())], w.fast_flows)),
    );
    let t = &dp.table;
    out.family(
        "rvs_conn_table_entries",
        Kind::Gauge,
        "Connection table entries (connections and templates) held now.",
        [(Labels::new(), t.entries)],
    );
    let table = [
        (
            "rvs_conn_table_inserted_total",
            "Connection table entries created.",
            t.inserted,
        ),
        (
            "rvs_conn_table_expired_total",
            "Connection table entries removed by their timer.",
            t.expired,
        ),
        (
            "rvs_conn_table_evicted_total",
            "Connection table entries evicted to make room in a full table.",
            t.evicted,
        ),
        (
            "rvs_conn_table_refused_full_total",
            "New connections refused because the connection table was full.",
            t.refused_full,
        ),
        (
            "rvs_conn_table_removed_total",
            "Connection table entries removed before their timer ran out.",
            t.removed,
        ),
    ];
    for (name, help, n) in table {
        out.family(name, Kind::Counter, help, [(Labels::new(), n)]);
    }
    out.text
}

/// `protocol`, `vip`, `port` of an address service; `fwmark`, `family` of a mark service.
fn service_labels(key: &ServiceKey) -> Labels {
    match key {
        ServiceKey::Addr {
            protocol,
            addr,
            port,
        } => vec![
            ("protocol", protocol.name().to_ascii_lowercase()),
            ("vip", addr.to_string()),
            ("port", port.to_string()),
        ],
        ServiceKey::Fwmark { mark, family } => vec![
            ("fwmark", mark.to_string()),
            (
                "family",
                match family {
                    Family::Inet => "inet",
                    Family::Inet6 => "inet6",
                }
                .to_string(),
            ),
        ],
    }
}

/// The service's labels plus `dest` (the RIP) and `dest_port`.
fn dest_labels(s: &ServiceEntry, d: &DestEntry) -> Labels {
    let mut l = service_labels(&s.service.key);
    l.push(("dest", d.dest.addr.to_string()));
    l.push(("dest_port", d.dest.port.to_string()));
    l
}

/// The text being built.
#[derive(Default)]
struct Exposition {
    text: String,
}

impl Exposition {
    /// One family: HELP, TYPE, then every sample.
    fn family(
        &mut self,
        name: &str,
        kind: Kind,
        help: &str,
        samples: impl IntoIterator<Item = (Labels, u64)>,
    ) {
        let kind = match kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        };
        // Writing to a String cannot fail.
        let _ = writeln!(self.text, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
        for (labels, value) in samples {
            self.text.push_str(name);
            if !labels.is_empty() {
                self.text.push('{');
                for (i, (label, v)) in labels.iter().enumerate() {
                    if i > 0 {
                        self.text.push(',');
                    }
                    let _ = write!(self.text, "{label}=\"{}\"", escape_label(v));
                }
                self.text.push('}');
            }
            let _ = writeln!(self.text, " {value}");
        }
    }
}

/// HELP text: backslash and line feed escaped.
fn escape_help(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A label value: backslash, double quote and line feed escaped.
fn escape_label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
#[path = "exposition_tests.rs"]
mod tests;
