//! `rvs lab up`: build a plan with iproute2, prepare the real servers, start their servers.

use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

use super::info::{Addresses, DualAddr, Interfaces, LabInfo, Namespaces, Ports, Topology};
use super::plan::{Pair, Plan, RealServerSetup, Role};
use super::state::{self, ServerSpec};
use super::{down, validate_name};
use crate::error::{Error, Result};
use crate::exec::{self, Netns};

/// What `rvs lab up` was asked for.
#[derive(Clone, Debug)]
pub struct UpOptions {
    /// Which topology.
    pub topology: Topology,
    /// The lab's name (namespace prefix).
    pub name: String,
    /// Configure IPv6 addresses and routes too.
    pub ipv6: bool,
    /// HTTP ports of the built-in servers.
    pub http_ports: Vec<u16>,
    /// UDP echo ports of the built-in servers.
    pub udp_ports: Vec<u16>,
    /// Start the built-in servers at all.
    pub servers: bool,
}

/// Builds the lab and returns what `lab up` prints. On failure, everything built is removed.
pub fn up(opts: &UpOptions) -> Result<LabInfo> {
    validate_name(&opts.name)?;
    let existing: Vec<String> = Role::ALL
        .iter()
        .map(|r| r.netns(&opts.name))
        .filter(|n| state::netns_exists(n))
        .collect();
    if !existing.is_empty() {
        return Err(Error::LabExists {
            name: opts.name.clone(),
            what: format!("namespaces {}", existing.join(", ")),
        });
    }
    let dir = state::create(&opts.name)?;
    let plan = Plan::new(opts.topology, opts.ipv6);
    let built = build(&plan, opts, &dir).and_then(|info| {
        let json = serde_json::to_string_pretty(&info)
            .map_err(|e| Error::Invalid(format!("encoding the lab's JSON: {e}")))?;
        let path = dir.join("lab.json");
        fs::write(&path, json).map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        Ok(info)
    });
    if built.is_err() {
        // Best effort: the build error is the one worth reporting.
        let _ = down(&opts.name, false);
    }
    built
}

fn build(plan: &Plan, opts: &UpOptions, dir: &Path) -> Result<LabInfo> {
    let name = opts.name.as_str();
    let ns = |role: Role| Netns::named(role.netns(name));
    for &role in &plan.roles {
        create_namespace(plan, role, name)?;
    }
    if plan.has(Role::Lan) {
        let lan = ns(Role::Lan);
        // No STP: ports forward at once. No snooping: IPv6 ND works without an MLD querier.
        lan.ip(&[
            "link",
            "add",
            "br0",
            "type",
            "bridge",
            "stp_state",
            "0",
            "mcast_snooping",
            "0",
        ])?;
        lan.ip(&["link", "set", "br0", "up"])?;
    }
    for veth in &plan.veths {
        ns(veth.a.ns).ip(&[
            "link",
            "add",
            veth.a.dev,
            "type",
            "veth",
            "peer",
            "name",
            veth.b.dev,
            "netns",
            &veth.b.ns.netns(name),
        ])?;
        for end in [veth.a, veth.b] {
            let host = ns(end.ns);
            host.tx_offload_off(end.dev)?;
            if end.ns == Role::Lan {
                host.ip(&["link", "set", end.dev, "master", "br0"])?;
            }
            host.ip(&["link", "set", end.dev, "up"])?;
        }
        for (end, peer) in [(veth.a, veth.b), (veth.b, veth.a)] {
            if matches!(peer.ns, Role::Director | Role::Director2) {
                // rvsd's XDP fast path redirects frames out of the director's veth; the
                // peer takes them only with NAPI on (GRO, or an XDP program of its own).
                // Set once both ends are up: the kernel (6.18) only then advertises the
                // director's end as a redirect target (NETDEV_XDP_ACT_NDO_XMIT).
                ns(end.ns).gro_on(end.dev)?;
            }
        }
    }
    for a in &plan.addrs {
        let cidr = a.cidr.to_string();
        let mut args = vec!["addr", "add", cidr.as_str(), "dev", a.at.dev];
        if let Some(label) = a.label {
            args.extend(["label", label]);
        }
        if a.cidr.addr.is_ipv6() {
            // The lab is built in one go; waiting for duplicate address detection buys nothing.
            args.push("nodad");
        }
        ns(a.at.ns).ip(&args)?;
    }
    for r in &plan.routes {
        let dest = r
            .dest
            .map_or_else(|| "default".to_string(), |c| c.to_string());
        let via = r.via.to_string();
        let family = if r.via.is_ipv6() { "-6" } else { "-4" };
        ns(r.ns).ip(&[family, "route", "add", dest.as_str(), "via", via.as_str()])?;
    }
    let exe = std::env::current_exe().map_err(|e| Error::io("finding the rvs binary", e))?;
    prepare_real_servers(plan, name, &exe)?;
    let info = info(plan, opts, dir);
    if opts.servers {
        start_servers(plan, opts, dir, &exe)?;
    }
    Ok(info)
}

/// `ip netns add` plus the sysctls the role needs, and `lo` up.
fn create_namespace(plan: &Plan, role: Role, prefix: &str) -> Result<()> {
    let name = role.netns(prefix);
    exec::run("ip", &["netns", "add", &name])?;
    let forward = u8::from(plan.forwarding.contains(&role));
    // IPv4 sysctls are inherited from the host's namespace: set every one that matters.
    let mut settings = vec![
        "net.ipv4.conf.all.rp_filter=0".to_string(),
        "net.ipv4.conf.default.rp_filter=0".to_string(),
        format!("net.ipv4.ip_forward={forward}"),
        format!("net.ipv6.conf.all.forwarding={forward}"),
        "net.ipv6.conf.default.accept_dad=0".to_string(),
    ];
    if matches!(role, Role::Director | Role::Director2) {
        // As the article's lvs_nat.sh: no ICMP redirects from the director.
        settings.push("net.ipv4.conf.all.send_redirects=0".to_string());
        settings.push("net.ipv4.conf.default.send_redirects=0".to_string());
    }
    let ns = Netns::named(&name);
    ns.sysctl(&settings)?;
    ns.ip(&["link", "set", "lo", "up"])?;
    Ok(())
}

/// DR and TUN real servers get the VIP the way `rvs realserver dr|tun` sets it up.
fn prepare_real_servers(plan: &Plan, prefix: &str, exe: &Path) -> Result<()> {
    let method = match plan.real_servers {
        RealServerSetup::Nat => return Ok(()),
        RealServerSetup::Dr => "dr",
        RealServerSetup::Tun => "tun",
    };
    let exe = exe.to_string_lossy();
    let mut args = vec![exe.to_string(), "realserver".into(), method.into()];
    args.extend(["--vip".into(), plan.vip.v4.to_string()]);
    if plan.ipv6 {
        args.extend(["--vip".into(), plan.vip.v6.to_string()]);
    }
    if plan.real_servers == RealServerSetup::Tun {
        args.extend(["--interface".into(), "eth0".into()]);
    }
    for role in [Role::Rs1, Role::Rs2] {
        let ns = role.netns(prefix);
        let mut full = vec!["netns".to_string(), "exec".into(), ns];
        full.extend(args.iter().cloned());
        let full: Vec<&str> = full.iter().map(String::as_str).collect();
        exec::run("ip", &full)?;
    }
    Ok(())
}

fn start_servers(plan: &Plan, opts: &UpOptions, dir: &Path, exe: &Path) -> Result<()> {
    let listen = |ports: &[u16]| -> Vec<SocketAddr> {
        let mut addrs: Vec<SocketAddr> = ports
            .iter()
            .map(|&p| SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), p))
            .collect();
        if plan.ipv6 {
            addrs.extend(
                ports
                    .iter()
                    .map(|&p| SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), p)),
            );
        }
        addrs
    };
    let (http, udp) = (listen(&opts.http_ports), listen(&opts.udp_ports));
    for role in [Role::Rs1, Role::Rs2] {
        let netns = role.netns(&opts.name);
        state::start_server(
            dir,
            &ServerSpec {
                exe,
                netns: &netns,
                name: role.as_str(),
                http: &http,
                udp: &udp,
            },
        )?;
    }
    Ok(())
}

fn dual(plan: &Plan, pair: Pair) -> DualAddr {
    DualAddr {
        v4: pair.v4,
        v6: plan.ipv6.then_some(pair.v6),
    }
}

/// The JSON `lab up` prints for `plan`.
fn info(plan: &Plan, opts: &UpOptions, dir: &Path) -> LabInfo {
    let name = opts.name.as_str();
    let ha = plan.has(Role::Director2);
    let ifs = || {
        plan.director_ifs
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
    };
    let (http, udp_echo) = if opts.servers {
        (opts.http_ports.clone(), opts.udp_ports.clone())
    } else {
        (Vec::new(), Vec::new())
    };
    LabInfo {
        name: name.to_string(),
        topology: plan.topology,
        ipv6: plan.ipv6,
        namespaces: Namespaces {
            client: Role::Client.netns(name),
            director: Role::Director.netns(name),
            director2: ha.then(|| Role::Director2.netns(name)),
            router: plan.has(Role::Router).then(|| Role::Router.netns(name)),
            lan: Role::Lan.netns(name),
            rs1: Role::Rs1.netns(name),
            rs2: Role::Rs2.netns(name),
        },
        addresses: Addresses {
            client: dual(plan, plan.client),
            vip: dual(plan, plan.vip),
            dip: dual(plan, plan.dip),
            director2: plan.director2.map(|p| dual(plan, p)),
            rs1: dual(plan, plan.rs[0]),
            rs2: dual(plan, plan.rs[1]),
        },
        interfaces: Interfaces {
            director: ifs(),
            director2: ha.then(ifs),
        },
        ports: Ports { http, udp_echo },
        state_dir: dir.display().to_string(),
    }
}
