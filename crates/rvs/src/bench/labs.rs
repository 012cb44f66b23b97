//! The benchmark's labs: built once per run, tuned for load, removed on drop.
//!
//! Tuning, on top of what `rvs lab up` builds (all inside the lab's own namespaces):
//! - NAT lab: the client gets a /32 route to each RIP via the director's external address,
//!   which makes the `direct` path (the kernel's own forwarding, no balancer);
//! - clients (and the NAT director, for HAProxy's outgoing side) use the port range
//!   1024–65535 and `tcp_tw_reuse=1`, so the `Connection: close` runs do not run out of ports;
//! - the built-in servers are pinned to the SUT core, away from the generator.

use std::net::{IpAddr, SocketAddr};

use crate::error::{Error, Result};
use crate::exec::{self, Netns};
use crate::lab::{self, LabInfo, Topology, UpOptions};

use super::paths::PathKind;

/// UDP port of the sinks and of the UDP virtual services (discard).
pub const UDP_PORT: u16 = 9;

/// The lab name for `topology` in a run with this prefix: `PREFIX-nat`, ...
pub fn lab_name(prefix: &str, topology: Topology) -> String {
    format!("{prefix}-{}", topology.as_str())
}

/// The labs of one run; every one is removed (`lab down --kill-all`) on drop.
#[derive(Debug, Default)]
pub struct Labs {
    infos: Vec<LabInfo>,
}

impl Labs {
    /// Builds one lab per topology in `topologies`, tuned for the benchmark.
    pub fn up(prefix: &str, topologies: &[Topology], sut_core: usize) -> Result<Labs> {
        let mut labs = Labs::default();
        for &topology in topologies {
            let name = lab_name(prefix, topology);
            let info = lab::up(&UpOptions {
                topology,
                name: name.clone(),
                ipv6: false,
                http_ports: vec![80],
                udp_ports: vec![7],
                servers: true,
            })?;
            labs.infos.push(info);
            tune(labs.infos.last().expect("just pushed"), sut_core)?;
        }
        Ok(labs)
    }

    /// The lab of `topology`, if it was built.
    pub fn get(&self, topology: Topology) -> Option<&LabInfo> {
        self.infos.iter().find(|i| i.topology == topology)
    }

    /// Removes every lab now; returns processes that had to be killed besides the built-in
    /// servers (each one is a process the benchmark failed to stop itself).
    pub fn down(mut self) -> Result<Vec<String>> {
        let mut leftovers = Vec::new();
        let mut failures = Vec::new();
        for info in std::mem::take(&mut self.infos) {
            match lab::down(&info.name, true) {
                Ok(report) => leftovers.extend(
                    report
                        .killed
                        .into_iter()
                        .map(|(ns, pid)| format!("PID {pid} in {ns}")),
                ),
                Err(e) => failures.push(e.to_string()),
            }
        }
        if failures.is_empty() {
            Ok(leftovers)
        } else {
            Err(Error::Invalid(failures.join("; ")))
        }
    }
}

impl Drop for Labs {
    fn drop(&mut self) {
        for info in std::mem::take(&mut self.infos) {
            if let Err(e) = lab::down(&info.name, true) {
                eprintln!("rvs bench: removing lab {}: {e}", info.name);
            }
        }
    }
}

fn tune(info: &LabInfo, sut_core: usize) -> Result<()> {
    let ns = &info.namespaces;
    let client = Netns::named(&ns.client);
    let mut load_hosts = vec![client.clone()];
    if info.topology == Topology::Nat {
        for rip in [info.addresses.rs1.v4, info.addresses.rs2.v4] {
            let dest = format!("{rip}/32");
            let via = info.addresses.vip.v4.to_string();
            client.ip(&["route", "add", dest.as_str(), "via", via.as_str()])?;
        }
        load_hosts.push(Netns::named(&ns.director));
    }
    for host in &load_hosts {
        host.sysctl(&[
            "net.ipv4.ip_local_port_range=1024 65535".to_string(),
            "net.ipv4.tcp_tw_reuse=1".to_string(),
        ])?;
    }
    let core = sut_core.to_string();
    for (_, pid) in lab::state::recorded_servers(std::path::Path::new(&info.state_dir)) {
        exec::run("taskset", &["-a", "-p", "-c", &core, &pid.to_string()])?;
    }
    Ok(())
}

/// Where a path's traffic goes and who receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The client's namespace (wrk and the UDP generator run there).
    pub client_ns: String,
    /// HTTP destination: the VIP, or rs1's RIP for a direct path.
    pub http: SocketAddr,
    /// UDP destination, likewise.
    pub udp: SocketAddr,
    /// The real servers' namespaces, where the UDP sinks run.
    pub sink_ns: [String; 2],
}

/// The target of `path` in its lab.
pub fn target(info: &LabInfo, path: PathKind) -> Target {
    let ip = IpAddr::V4(if path.is_direct() {
        info.addresses.rs1.v4
    } else {
        info.addresses.vip.v4
    });
    let http_port = info.ports.http.first().copied().unwrap_or(80);
    Target {
        client_ns: info.namespaces.client.clone(),
        http: SocketAddr::new(ip, http_port),
        udp: SocketAddr::new(ip, UDP_PORT),
        sink_ns: [info.namespaces.rs1.clone(), info.namespaces.rs2.clone()],
    }
}

/// Fetches `/` at `addr` from the client with curl; `Ok(body)` on an HTTP answer.
pub fn http_probe(client_ns: &str, addr: SocketAddr) -> Result<String> {
    let url = format!("http://{addr}/");
    Netns::named(client_ns).exec("curl", &["-sS", "-m", "2", url.as_str()])
}

/// Lab namespaces of a run that still exist (empty after a clean run).
pub fn leftover_namespaces(prefix: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/run/netns") else {
        return Vec::new();
    };
    let own = format!("{prefix}-");
    entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n.strip_prefix(&own)
                .is_some_and(|rest| ["nat-", "dr-", "tun-"].iter().any(|t| rest.starts_with(t)))
        })
        .collect()
}

/// Whether `exec::run` could find `program` (for a clear error before building labs).
pub fn have(program: &str) -> bool {
    exec::output("sh", &["-c", &format!("command -v {program}")]).is_ok_and(|o| o.status.success())
}
