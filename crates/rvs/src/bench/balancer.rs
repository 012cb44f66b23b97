//! Setting up and tearing down what balances each path: rvsd (configured with rvsadm),
//! nftables DNAT rules, or HAProxy. The guard undoes it on drop, so a failed measurement
//! never leaves a balancer behind for the next path.

use std::fs;
use std::net::SocketAddr;
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::exec::Netns;
use crate::lab::LabInfo;

use super::context::Ctx;
use super::labs::{self, UDP_PORT};
use super::paths::PathKind;
use super::proc::{Placement, Spawned, run_bounded};

/// How long a balancer may take to start answering.
const READY_TIMEOUT: Duration = Duration::from_secs(15);
/// The nftables table the benchmark owns in the NAT director.
const NFT_TABLE: &str = "rvsbench";

/// A running balancer; dropping it stops it.
#[derive(Debug)]
pub enum Balancer {
    /// Nothing: a direct path.
    None,
    /// rvsd, with the PID that `rvsd idle` is measured on.
    Rvsd(Spawned),
    /// nftables rules in a namespace.
    Nft(NftRules),
    /// HAProxy.
    Haproxy(Spawned),
}

impl Balancer {
    /// An error if the balancer's process has exited (crashed) since it started.
    pub fn check_running(&mut self) -> Result<()> {
        match self {
            Self::Rvsd(p) | Self::Haproxy(p) => p.check_running(),
            Self::None | Self::Nft(_) => Ok(()),
        }
    }

    /// The balancer's PID, when it is a process.
    pub fn pid(&self) -> Option<i32> {
        match self {
            Self::Rvsd(p) | Self::Haproxy(p) => Some(p.pid()),
            Self::None | Self::Nft(_) => None,
        }
    }

    /// Stops it now, reporting a failure to stop (drop only prints it).
    pub fn stop(self) -> Result<()> {
        match self {
            Self::Rvsd(p) | Self::Haproxy(p) => p.stop(),
            Self::Nft(rules) => rules.remove(),
            Self::None => Ok(()),
        }
    }
}

/// The benchmark's nftables table in a namespace; deleted on drop.
#[derive(Debug)]
pub struct NftRules {
    netns: Option<String>,
}

impl NftRules {
    fn remove(mut self) -> Result<()> {
        self.remove_inner()
    }

    fn remove_inner(&mut self) -> Result<()> {
        match self.netns.take() {
            Some(ns) => Netns::named(ns)
                .exec("nft", &["delete", "table", "ip", NFT_TABLE])
                .map(drop),
            None => Ok(()),
        }
    }
}

impl Drop for NftRules {
    fn drop(&mut self) {
        if let Err(e) = self.remove_inner() {
            eprintln!("rvs bench: removing the nftables table: {e}");
        }
    }
}

/// Starts the balancer of `path` and waits until HTTP answers through it.
pub fn start(ctx: &mut Ctx, path: PathKind) -> Result<Balancer> {
    let first = !ctx.commands.contains_key(&path);
    let info = ctx.lab(path)?.clone();
    let balancer = match path {
        PathKind::Direct | PathKind::DirectDr | PathKind::DirectTun => {
            if first {
                let t = labs::target(&info, path);
                ctx.note(
                    path,
                    true,
                    format!(
                        "(no balancer; wrk and the generator aim at rs1 {})",
                        t.http.ip()
                    ),
                );
            }
            Balancer::None
        }
        PathKind::RvsdNat
        | PathKind::RvsdNatFast
        | PathKind::RvsdDr
        | PathKind::RvsdDrFast
        | PathKind::RvsdTun => Balancer::Rvsd(start_rvsd(ctx, path, &info, first)?),
        PathKind::NftDnat => Balancer::Nft(load_nft(ctx, path, &info, first)?),
        PathKind::Haproxy => Balancer::Haproxy(start_haproxy(ctx, path, &info, first)?),
    };
    if first && !ctx.commands.contains_key(&path) {
        ctx.commands.insert(path, Vec::new());
    }
    let target = labs::target(&info, path);
    let mut balancer = balancer;
    wait_for_http(&mut balancer, &target.client_ns, target.http)?;
    Ok(balancer)
}

/// Polls an HTTP GET through the path until a real server answers.
fn wait_for_http(balancer: &mut Balancer, client_ns: &str, addr: SocketAddr) -> Result<()> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        balancer.check_running()?;
        let last = match labs::http_probe(client_ns, addr) {
            Ok(body) if body.starts_with("rs") => return Ok(()),
            Ok(body) => format!("unexpected answer {body:?}"),
            Err(e) => e.to_string(),
        };
        if Instant::now() > deadline {
            return Err(Error::Invalid(format!(
                "no HTTP answer through {addr} within {READY_TIMEOUT:?}: {last}"
            )));
        }
        sleep(Duration::from_millis(200));
    }
}

fn method_flag(path: PathKind) -> &'static str {
    match path {
        PathKind::RvsdDr | PathKind::RvsdDrFast => "-g",
        PathKind::RvsdTun => "-i",
        _ => "-m",
    }
}

fn start_rvsd(ctx: &mut Ctx, path: PathKind, info: &LabInfo, first: bool) -> Result<Spawned> {
    let socket = ctx.file(&format!("{}.sock", path.name()));
    let _ = fs::remove_file(&socket);
    let mut args = Vec::new();
    for dev in &info.interfaces.director {
        args.extend(["--interface".to_string(), dev.clone()]);
    }
    args.extend([
        "--socket".into(),
        socket.display().to_string(),
        "--log-level".into(),
        "warn".into(),
    ]);
    if path.fast_path() {
        args.push("--fast-path".into());
    }
    let place = Placement::at(&info.namespaces.director, ctx.params.sut_core);
    let rvsd = ctx.tools.rvsd.display().to_string();
    ctx.note(path, first, place.display(&rvsd, &args));
    let log = ctx.file(&format!("{}.log", path.name()));
    let mut proc = Spawned::start(&place, &rvsd, &args, Some(&log))?;
    let deadline = Instant::now() + READY_TIMEOUT;
    while !socket.exists() {
        proc.check_running()?;
        if Instant::now() > deadline {
            return Err(Error::Invalid(format!(
                "rvsd made no control socket within {READY_TIMEOUT:?}: {}",
                proc.log_tail()
            )));
        }
        sleep(Duration::from_millis(50));
    }
    let vip = info.addresses.vip.v4;
    let (rs1, rs2) = (info.addresses.rs1.v4, info.addresses.rs2.v4);
    let http = info.ports.http.first().copied().unwrap_or(80);
    let m = method_flag(path);
    let mut config: Vec<Vec<String>> = Vec::new();
    for (proto, port) in [("-t", http), ("-u", UDP_PORT)] {
        let service = format!("{vip}:{port}");
        config.push(
            ["-A", proto, service.as_str(), "-s", "rr"]
                .map(String::from)
                .to_vec(),
        );
        for rs in [rs1, rs2] {
            let real = format!("{rs}:{port}");
            config.push(
                [
                    "-a",
                    proto,
                    service.as_str(),
                    "-r",
                    real.as_str(),
                    m,
                    "-w",
                    "1",
                ]
                .map(String::from)
                .to_vec(),
            );
        }
    }
    let rvsadm = ctx.tools.rvsadm.display().to_string();
    for cmd in config {
        let mut args = vec![format!("RVS_SOCKET={}", socket.display()), rvsadm.clone()];
        args.extend(cmd);
        ctx.note(path, first, Placement::default().display("env", &args));
        let out = run_bounded(&Placement::default(), "env", &args, Duration::from_secs(10))?;
        if !out.status.success() {
            return Err(Error::Invalid(format!(
                "rvsadm {}: {}",
                args[2..].join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
    }
    Ok(proc)
}

/// The ruleset: DNAT of the VIP's HTTP and UDP ports, alternating between the real servers.
pub fn nft_ruleset(vip: &str, rs1: &str, rs2: &str, http: u16) -> String {
    format!(
        "table ip {NFT_TABLE} {{\n\
         \tchain prerouting {{\n\
         \t\ttype nat hook prerouting priority dstnat; policy accept;\n\
         \t\tip daddr {vip} tcp dport {http} dnat to numgen inc mod 2 map {{ 0 : {rs1}, 1 : {rs2} }}\n\
         \t\tip daddr {vip} udp dport {UDP_PORT} dnat to numgen inc mod 2 map {{ 0 : {rs1}, 1 : {rs2} }}\n\
         \t}}\n\
         \tchain postrouting {{\n\
         \t\ttype nat hook postrouting priority srcnat; policy accept;\n\
         \t}}\n\
         }}\n"
    )
}

fn load_nft(ctx: &mut Ctx, path: PathKind, info: &LabInfo, first: bool) -> Result<NftRules> {
    let rules = nft_ruleset(
        &info.addresses.vip.v4.to_string(),
        &info.addresses.rs1.v4.to_string(),
        &info.addresses.rs2.v4.to_string(),
        info.ports.http.first().copied().unwrap_or(80),
    );
    let file = ctx.file("nft-dnat.nft");
    fs::write(&file, &rules).map_err(|e| Error::io(format!("writing {}", file.display()), e))?;
    let ns = info.namespaces.director.clone();
    let args = ["-f".to_string(), file.display().to_string()];
    ctx.note(
        path,
        first,
        format!(
            "{}   # {}",
            Placement {
                netns: Some(ns.clone()),
                core: None
            }
            .display("nft", &args),
            rules.replace('\n', " ").replace('\t', "")
        ),
    );
    // The guard exists before the load, so a half-loaded table is removed too.
    let guard = NftRules {
        netns: Some(ns.clone()),
    };
    Netns::named(&ns).exec("nft", &args)?;
    Ok(guard)
}

/// HAProxy's configuration: one thread, TCP mode, round robin over the real servers.
pub fn haproxy_config(vip: &str, port: u16, rs1: &str, rs2: &str) -> String {
    format!(
        "global\n\
         \tnbthread 1\n\
         \tmaxconn 4096\n\
         defaults\n\
         \tmode tcp\n\
         \ttimeout connect 5s\n\
         \ttimeout client 30s\n\
         \ttimeout server 30s\n\
         listen vip\n\
         \tbind {vip}:{port}\n\
         \tbalance roundrobin\n\
         \tserver rs1 {rs1}:{port}\n\
         \tserver rs2 {rs2}:{port}\n"
    )
}

fn start_haproxy(ctx: &mut Ctx, path: PathKind, info: &LabInfo, first: bool) -> Result<Spawned> {
    let port = info.ports.http.first().copied().unwrap_or(80);
    let config = haproxy_config(
        &info.addresses.vip.v4.to_string(),
        port,
        &info.addresses.rs1.v4.to_string(),
        &info.addresses.rs2.v4.to_string(),
    );
    let file = ctx.file("haproxy.cfg");
    fs::write(&file, &config).map_err(|e| Error::io(format!("writing {}", file.display()), e))?;
    let args = ["-db".to_string(), "-f".into(), file.display().to_string()];
    let place = Placement::at(&info.namespaces.director, ctx.params.sut_core);
    ctx.note(
        path,
        first,
        format!(
            "{}   # {}",
            place.display("haproxy", &args),
            config.replace('\n', "; ").replace('\t', "")
        ),
    );
    let log = ctx.file("haproxy.log");
    Spawned::start(&place, "haproxy", &args, Some(&log))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nft_ruleset_balances_both_protocols() {
        let r = nft_ruleset("203.0.113.1", "198.51.100.11", "198.51.100.12", 80);
        assert!(r.contains(
            "ip daddr 203.0.113.1 tcp dport 80 dnat to numgen inc mod 2 map { 0 : 198.51.100.11, 1 : 198.51.100.12 }"
        ));
        assert!(r.contains("udp dport 9 dnat"));
        assert_eq!(r.matches('{').count(), r.matches('}').count());
    }

    #[test]
    fn haproxy_listens_on_the_vip_in_tcp_mode() {
        let c = haproxy_config("203.0.113.1", 80, "198.51.100.11", "198.51.100.12");
        assert!(c.contains("\tmode tcp\n"));
        assert!(c.contains("\tbind 203.0.113.1:80\n"));
        assert!(c.contains("\tserver rs2 198.51.100.12:80\n"));
        assert!(c.contains("nbthread 1"));
    }
}
