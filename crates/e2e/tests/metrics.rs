//! rvsd's counters through its supported interfaces, for real: `rvsd --metrics` scraped with
//! curl inside the director namespace, the `counters` query over the control socket, and the
//! SIGUSR1 dump, after traffic through a NAT lab.
//!
//! Root only: `cargo build --bins && cargo test -p rvs-e2e --test metrics`.

use std::collections::HashMap;
use std::net::IpAddr;

use rvs_e2e::client::{assert_alternates, curl_servers, url};
use rvs_e2e::{Lab, ns_cmd, root_or_skip, run};

/// Where rvsd serves its metrics, inside the director's namespace.
const METRICS_ADDR: &str = "127.0.0.1:9469";

/// `curl -i http://METRICS_ADDR/PATH` in the director namespace: (status, headers, body).
fn fetch(lab: &Lab, path: &str) -> (u16, String, String) {
    let out = run(ns_cmd(lab.director(), "curl").args([
        "-sS",
        "-i",
        "-m",
        "5",
        &format!("http://{METRICS_ADDR}{path}"),
    ]));
    assert!(
        out.status.success(),
        "curl {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP response");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    (status, head.to_string(), body.to_string())
}

/// The samples of an exposition: series (name and labels as printed) → value.
fn samples(body: &str) -> HashMap<String, u64> {
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("series value");
            let value = value
                .parse()
                .unwrap_or_else(|_| panic!("an integer in {l:?}"));
            (series.to_string(), value)
        })
        .collect()
}

#[test]
fn metrics_counters_query_and_sigusr1_report_the_traffic() {
    if !root_or_skip("metrics_counters_query_and_sigusr1_report_the_traffic") {
        return;
    }
    let mut lab = Lab::up("nat", "met", false);
    lab.start_rvsd_with(&["--metrics", METRICS_ADDR]);
    let (vip, rip1, rip2) = (lab.vip(false), lab.rip(1, false), lab.rip(2, false));
    lab.director_sh(&format!(
        "$IPVSADM -A -t {vip}:80 -s rr\n\
         $IPVSADM -a -t {vip}:80 -r {rip1}:80 -m\n\
         $IPVSADM -a -t {vip}:80 -r {rip2}:80 -m\n"
    ));
    let servers = curl_servers(lab.client(), &url(vip, 80, "/"), 6);
    assert_alternates(&servers, ["rs1", "rs2"]);

    // The scrape: format, services, destinations, data plane.
    let (status, head, body) = fetch(&lab, "/metrics");
    assert_eq!(status, 200, "{head}");
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4"),
        "{head}"
    );
    for family in [
        "# TYPE rvs_service_connections_total counter",
        "# TYPE rvs_destination_active_connections gauge",
        "# TYPE rvs_drops_total counter",
        "# TYPE rvs_worker_rx_packets_total counter",
        "# TYPE rvs_conn_table_entries gauge",
    ] {
        assert!(body.contains(family), "no {family:?} in:\n{body}");
    }
    let m = samples(&body);
    let get = |series: &str| -> u64 {
        *m.get(series)
            .unwrap_or_else(|| panic!("no series {series} in:\n{body}"))
    };
    let svc = format!("protocol=\"tcp\",vip=\"{vip}\",port=\"80\"");
    let dest = |rip: IpAddr| format!("{svc},dest=\"{rip}\",dest_port=\"80\"");
    assert_eq!(get(&format!("rvs_service_connections_total{{{svc}}}")), 6);
    assert!(get(&format!("rvs_service_in_packets_total{{{svc}}}")) > 0);
    assert!(get(&format!("rvs_service_out_bytes_total{{{svc}}}")) > 0);
    for rip in [rip1, rip2] {
        assert_eq!(
            get(&format!(
                "rvs_destination_connections_total{{{}}}",
                dest(rip)
            )),
            3
        );
        assert!(
            get(&format!(
                "rvs_destination_out_packets_total{{{}}}",
                dest(rip)
            )) > 0
        );
        get(&format!(
            "rvs_destination_inactive_connections{{{}}}",
            dest(rip)
        ));
    }
    let steered = get("rvs_steer_redirected_packets_total");
    assert!(steered > 0);
    assert!(get("rvs_worker_rx_packets_total{worker=\"0\"}") > 0);
    assert!(get("rvs_worker_tx_packets_total{worker=\"0\"}") > 0);
    assert!(get("rvs_conn_table_inserted_total") >= 6);
    get("rvs_drops_total{reason=\"no_service\"}");
    get("rvs_xsk_rx_dropped_total{worker=\"0\"}");

    // Only /metrics is served.
    let (status, _, body404) = fetch(&lab, "/other");
    assert_eq!(status, 404);
    assert!(!body404.contains("rvs_"));

    // The same counters over the control socket; they only grow.
    let mut client = rvs_api::Client::connect(lab.socket()).expect("connect to rvsd");
    let c = client.counters().expect("the counters query");
    assert!(c.steer.steered >= steered, "{c:?}");
    assert!(
        c.workers.rx_packets > 0 && c.workers.tx_packets > 0,
        "{c:?}"
    );
    assert!(!c.per_worker.is_empty(), "{c:?}");
    let per_worker_rx: u64 = c.per_worker.iter().map(|w| w.rx_packets).sum();
    assert_eq!(per_worker_rx, c.workers.rx_packets, "{c:?}");
    assert!(c.table.inserted >= 6, "{c:?}");
    assert!(c.drops.contains_key("no_service"), "{c:?}");

    // SIGUSR1 still dumps them, in the same shape.
    let dumped: rvs_api::DataplaneCounters = serde_json::from_value(lab.counters())
        .unwrap_or_else(|e| panic!("counters in the shape of the query's ({e})"));
    assert!(dumped.steer.steered >= c.steer.steered, "{dumped:?}");
    assert!(dumped.table.inserted >= c.table.inserted, "{dumped:?}");
}
