//! Step 4: the article's §11. Two directors run rvsd and rvs-keepalived with the same
//! keepalived.conf (MASTER / BACKUP); a real server's web server stops and starts (the pool
//! shrinks and grows), then the master dies and the backup takes the VIP over.

use std::fs;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::Demo;
use super::client::{self, Prober};
use super::director::{Director, binary, tail};
use super::haconf::{HaConf, Role};
use super::session::{Abort, Step};
use super::split::{Split, alternates};
use super::step_forward::show_answers;
use super::table;
use crate::exec::Netns;
use crate::lab::state::{self, ServerSpec};
use crate::lab::{LabInfo, Topology};

/// Requests per check.
const REQUESTS: usize = 10;
/// How long VRRP, the health checks and the fail-over each get.
const LIMIT: Duration = Duration::from_secs(15);

/// One director: its rvsd and its rvs-keepalived.
struct Node {
    director: Director,
    keepalived_pid: u32,
    keepalived_log: PathBuf,
    started: Instant,
}

/// Step 4.
pub fn run(d: &mut Demo) -> Step {
    let keepalived = binary("rvs-keepalived")?;
    d.n.say("Two directors share the VIP through VRRP: the MASTER holds it and sends an");
    d.n.say("advertisement every second; health checks (TCP_CHECK) take a dead real server");
    d.n.say("out of the pool. Each director runs rvsd and rvs-keepalived, which reads the");
    d.n.say("article's keepalived.conf (with virtual_server at the top level, where it belongs).");
    let info = d.lab(Topology::Ha, "ha")?;
    let a = &info.addresses;
    let d2_addr = a.director2.map_or(Ipv4Addr::UNSPECIFIED, |x| x.v4);
    d.n.say(&format!(
        "client {} ── router ── LAN: director {}, director2 {}, rs1 {}, rs2 {}; VIP {} (nobody has it yet)",
        a.client.v4, a.dip.v4, d2_addr, a.rs1.v4, a.rs2.v4, a.vip.v4
    ));
    let dir = PathBuf::from(&info.state_dir);
    let (Some(ns2), Some(ifs2)) = (
        info.namespaces.director2.clone(),
        info.interfaces.director2.clone(),
    ) else {
        return Err(Abort::Failed("the HA lab has no second director".into()));
    };
    let master = start_node(
        d,
        &info,
        &keepalived,
        "director",
        &info.namespaces.director.clone(),
        &info.interfaces.director.clone(),
        Role::Master,
        &dir,
    )?;
    let backup = start_node(
        d,
        &info,
        &keepalived,
        "director2",
        &ns2,
        &ifs2,
        Role::Backup,
        &dir,
    )?;
    let vip = a.vip.v4;
    let service = format!("{vip}:80");
    let rs1_addr = format!("{}:80", a.rs1.v4);

    // VRRP elects the master; health checks fill the pool.
    let took =
        d.s.wait_for(LIMIT, || has_vip(&master.director.netns, vip))?;
    if !d
        .n
        .check(took.is_some(), "director becomes MASTER and adds the VIP")
    {
        return Err(node_failure(&master));
    }
    d.n.progress(&format!(
        "director is MASTER and holds {vip}, {:.1}s after its rvs-keepalived started",
        master.started.elapsed().as_secs_f64()
    ));
    d.n.say("(as with keepalived, a MASTER below priority 255 first listens for three");
    d.n.say("advertisement intervals before it takes the VIP)");
    show_vip(d, &master.director)?;
    let pool = |n: &Node| {
        n.director
            .try_rvsadm(&["-L", "-n"])
            .map(|l| table::dests(&l, &service))
            .unwrap_or_default()
    };
    let full = d.s.wait_for(LIMIT, || pool(&master).len() == 2)?;
    d.n.check(
        full.is_some(),
        "rvs-keepalived put both real servers into rvsd",
    );
    master.director.rvsadm(&d.n, &["-L", "-n"])?;
    let names = batch(d, &info, vip)?;
    d.n.check(
        alternates(&refs(&names)),
        "requests alternate between rs1 and rs2",
    );

    // A real server's web server stops: the pool shrinks.
    println!();
    d.n.say("Now rs1's web server stops. Its TCP_CHECK fails and rs1 leaves the pool:");
    let rs1_pid = state::read_pid(&dir.join("rs1.pid"))
        .ok_or_else(|| Abort::Failed("rs1's server PID file is missing".into()))?;
    d.n.command(
        "rs1",
        &format!("kill {rs1_pid}   # its web server (on a real host: systemctl stop nginx)"),
    );
    state::stop(rs1_pid)?;
    let gone = d.s.wait_for(LIMIT, || {
        let p = pool(&master);
        p.len() == 1 && p.iter().all(|x| x.addr != rs1_addr)
    })?;
    d.n.check(
        gone.is_some(),
        &format!("rs1 left the pool ({})", secs(gone)),
    );
    master.director.rvsadm(&d.n, &["-L", "-n"])?;
    let names = batch(d, &info, vip)?;
    let s = Split::count(&["rs1", "rs2"], &refs(&names));
    d.n.check(
        s.of("rs2") == REQUESTS,
        &format!("every request went to rs2 ({})", s.summary()),
    );

    // It starts again: the pool grows.
    println!();
    d.n.say("rs1's web server starts again; the next check succeeds and rs1 is back:");
    d.n.command(
        "rs1",
        "rvs serve --name rs1 --http 0.0.0.0:80 --udp-echo 0.0.0.0:7 &   # systemctl start nginx",
    );
    restart_rs1(&info, &dir)?;
    let back = d.s.wait_for(LIMIT, || pool(&master).len() == 2)?;
    d.n.check(
        back.is_some(),
        &format!("rs1 is back in the pool ({})", secs(back)),
    );
    master.director.rvsadm(&d.n, &["-L", "-n"])?;
    let names = batch(d, &info, vip)?;
    d.n.check(
        alternates(&refs(&names)),
        "requests alternate between rs1 and rs2 again",
    );

    // The master dies: the backup takes the VIP over.
    println!();
    d.n.say("Now the master dies: its processes are killed and its cable pulled. The backup");
    d.n.say("misses three advertisements, becomes MASTER, adds the VIP and announces it with");
    d.n.say("a gratuitous ARP. A client sends a request every 100 ms and times the gap:");
    let prober = Prober::start(
        &info.namespaces.client,
        IpAddr::V4(vip),
        80,
        Duration::from_millis(100),
        600,
    )
    .map_err(Abort::Failed)?;
    d.s.sleep(Duration::from_secs(1))?;
    d.n.command(
        "director",
        "kill -9 $(pidof rvs-keepalived rvsd); ip link set eth0 down",
    );
    d.s.signal(master.keepalived_pid, Signal::SIGKILL);
    d.s.signal(master.director.pid, Signal::SIGKILL);
    Netns::named(&master.director.netns).ip(&["link", "set", "eth0", "down"])?;
    // The master is gone once its link is down; the gap is measured from here.
    let died = Instant::now();
    let moved =
        d.s.wait_for(LIMIT, || has_vip(&backup.director.netns, vip))?;
    d.n.check(
        moved.is_some(),
        &format!(
            "director2 became MASTER and holds the VIP ({} after the kill)",
            secs(moved)
        ),
    );
    // has_vip is polled: the VIP arrived a little before we saw it.
    let moved_at = moved.map(|t| died + t);
    let _ = d.s.wait_for(LIMIT, || prober.answered_after(died))?;
    let probes = prober.finish();
    match client::gap(&probes, died) {
        Some((gap, failed)) => {
            d.n.check(true, &format!(
                "the service answered again: the client saw no answer for {:.1}s ({failed} {} failed)",
                gap.as_secs_f64(),
                if failed == 1 { "request" } else { "requests" }
            ));
        }
        None => {
            d.n.check(false, "the service answered again through director2");
            d.n.say(&format!(
                "director2's rvs-keepalived log ends with: {}",
                tail(&backup.keepalived_log, 5)
            ));
        }
    }
    let first = probes
        .iter()
        .find(|p| p.at > died && p.answer.is_ok())
        .map(|p| p.at);
    if let (Some(first), Some(moved_at)) = (first, moved_at) {
        let early = moved_at.saturating_duration_since(first);
        // Generous: the VIP check is polled; the fault this catches shows as whole seconds.
        let ok = early <= Duration::from_secs(1);
        d.n.check(
            ok,
            "no answer came through director2 before it held the VIP (it is still the BACKUP then)",
        );
        if !ok {
            d.n.say(&format!(
                "Answers resumed {:.1}s before director2 held the VIP. With the master's port down",
                early.as_secs_f64()
            ));
            d.n.say("the LAN bridge floods frames still addressed to the master's MAC, and");
            d.n.say("director2's rvsd forwarded frames that were not addressed to it (the kernel,");
            d.n.say("and so IPVS, drops frames for another host).");
        }
    }
    show_vip(d, &backup.director)?;
    let names = batch(d, &info, vip)?;
    let s = Split::count(&["rs1", "rs2"], &refs(&names));
    d.n.check(
        s.of("rs1") > 0 && s.of("rs2") > 0,
        &format!(
            "director2 balances over both real servers ({})",
            s.summary()
        ),
    );
    backup.director.rvsadm(&d.n, &["-L", "-n", "--stats"])?;
    Ok(())
}

/// Starts rvsd and rvs-keepalived on one director.
#[allow(clippy::too_many_arguments)]
fn start_node(
    d: &mut Demo,
    info: &LabInfo,
    keepalived: &Path,
    host: &str,
    netns: &str,
    interfaces: &[String],
    role: Role,
    dir: &Path,
) -> Step<Node> {
    let director = Director::start(&mut d.s, &d.n, host, netns, interfaces, dir)?;
    let a = &info.addresses;
    let conf = HaConf {
        role,
        router_id: host,
        interface: "eth0",
        vip: a.vip.v4,
        port: 80,
        real_servers: &[a.rs1.v4, a.rs2.v4],
    }
    .render();
    let conf_path = dir.join(format!("{host}-keepalived.conf"));
    fs::write(&conf_path, &conf)
        .map_err(|e| Abort::Failed(format!("writing {}: {e}", conf_path.display())))?;
    if role == Role::Master {
        d.n.command(host, &format!("cat {}", conf_path.display()));
        d.n.output(&conf);
        d.n.say("director2's file is the same with `state BACKUP` and `priority 100`.");
    }
    let log_path = dir.join(format!("{host}-keepalived.log"));
    let log = fs::File::create(&log_path)
        .map_err(|e| Abort::Failed(format!("creating {}: {e}", log_path.display())))?;
    let log2 = log
        .try_clone()
        .map_err(|e| Abort::Failed(format!("duplicating the log: {e}")))?;
    let pid_file = dir.join(format!("{host}-keepalived.pid"));
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", netns])
        .arg(keepalived)
        .args(["-n", "-l", "-f"])
        .arg(&conf_path)
        .arg("-p")
        .arg(&pid_file)
        .env("RVS_SOCKET", &director.socket)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2);
    d.n.command(
        host,
        &format!(
            "RVS_SOCKET={} rvs-keepalived -n -l -f {} &",
            director.socket.display(),
            conf_path.display()
        ),
    );
    let keepalived_pid = d.s.spawn(&format!("rvs-keepalived on {host}"), cmd)?;
    let started = Instant::now();
    // A configuration it refuses, or a missing feature, shows up as an early exit.
    d.s.sleep(Duration::from_millis(300))?;
    if let Some(status) = d.s.exited(keepalived_pid) {
        return Err(Abort::Failed(format!(
            "rvs-keepalived on {host} exited ({status}): {}",
            tail(&log_path, 8)
        )));
    }
    Ok(Node {
        director,
        keepalived_pid,
        keepalived_log: log_path,
        started,
    })
}

/// Why the node did not come up, with the end of its logs.
fn node_failure(node: &Node) -> Abort {
    Abort::Failed(format!(
        "rvs-keepalived on {}: {}",
        node.director.host,
        tail(&node.keepalived_log, 6)
    ))
}

/// Whether `vip` is an address of `eth0` in `netns`.
fn has_vip(netns: &str, vip: Ipv4Addr) -> bool {
    Netns::named(netns)
        .ip(&["-4", "-o", "addr", "show", "dev", "eth0"])
        .is_ok_and(|out| out.contains(&format!(" {vip}/")))
}

/// `ip -4 addr show dev eth0` on a director, as the operator would check.
fn show_vip(d: &Demo, director: &Director) -> Step {
    d.n.command(&director.host, "ip -4 -br addr show dev eth0");
    let out = Netns::named(&director.netns).ip(&["-4", "-br", "addr", "show", "dev", "eth0"])?;
    d.n.output(&out);
    Ok(())
}

/// Starts rs1's built-in server again, recorded so `lab down` stops it.
fn restart_rs1(info: &LabInfo, dir: &Path) -> Step {
    let exe = std::env::current_exe()
        .map_err(|e| Abort::Failed(format!("finding the rvs binary: {e}")))?;
    let http: Vec<SocketAddr> = info
        .ports
        .http
        .iter()
        .map(|&p| SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), p))
        .collect();
    let udp: Vec<SocketAddr> = info
        .ports
        .udp_echo
        .iter()
        .map(|&p| SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), p))
        .collect();
    state::start_server(
        dir,
        &ServerSpec {
            exe: &exe,
            netns: &info.namespaces.rs1,
            name: "rs1",
            http: &http,
            udp: &udp,
        },
    )?;
    Ok(())
}

/// A batch of requests, shown; the names that answered.
fn batch(d: &mut Demo, info: &LabInfo, vip: Ipv4Addr) -> Step<Vec<String>> {
    let b = d.requests(info, IpAddr::V4(vip), REQUESTS, "")?;
    show_answers(d, &b);
    d.n.check(
        b.ok() == REQUESTS,
        &format!("{}/{REQUESTS} requests answered", b.ok()),
    );
    Ok(b.names().iter().map(|s| s.to_string()).collect())
}

fn refs(names: &[String]) -> Vec<&str> {
    names.iter().map(String::as_str).collect()
}

fn secs(d: Option<Duration>) -> String {
    d.map_or_else(
        || format!("not within {}s", LIMIT.as_secs()),
        |d| format!("{:.1}s", d.as_secs_f64()),
    )
}
