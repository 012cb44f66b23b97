//! Steps 1 and 2: one service with two real servers under each forwarding method, the
//! article's scripts typed through rvsadm, and the counters that tell the methods apart.

use std::net::IpAddr;
use std::path::Path;

use super::Demo;
use super::client;
use super::director::Director;
use super::session::{Abort, Step};
use super::split::alternates;
use super::table::{self, Counters};
use crate::lab::{LabInfo, Topology};

/// Requests per forwarding method.
const REQUESTS: usize = 20;

/// Step 1: NAT.
pub fn nat(d: &mut Demo) -> Step {
    d.n.say("In NAT mode the director rewrites the destination of each request (VIP → RIP)");
    d.n.say("and the source of each reply (RIP → VIP): requests and replies both pass it.");
    d.n.say("The real servers use the director's inner address (the DIP) as their gateway.");
    let c = method(d, Topology::Nat, "nat", "-m")?;
    d.n.check(
        c.out_pkts > 0,
        &format!(
            "OutPkts = {}: the replies came back through the director",
            c.out_pkts
        ),
    );
    Ok(())
}

/// Step 2: DR, then TUN.
pub fn dr_and_tun(d: &mut Demo) -> Step {
    d.n.say("In DR mode the director only changes the Ethernet destination to the real");
    d.n.say("server's MAC; the real server holds the VIP on lo (hidden from ARP) and answers");
    d.n.say("the client directly. The article's lvs_dr.sh passes -m; direct routing is -g.");
    let c = method(d, Topology::Dr, "dr", "-g")?;
    bypass_checks(d, &c);
    println!();
    d.n.say("In TUN mode the director wraps each request in a new IP header (DIP → RIP);");
    d.n.say("the real servers sit on another subnet, strip the outer header (this kernel has");
    d.n.say("no ipip module: `rvs realserver tun` attached a small XDP program that does it)");
    d.n.say("and answer the client directly from the VIP.");
    let c = method(d, Topology::Tun, "tun", "-i")?;
    bypass_checks(d, &c);
    Ok(())
}

fn bypass_checks(d: &mut Demo, c: &Counters) {
    d.n.check(
        c.in_pkts > 0,
        &format!(
            "InPkts = {}: the requests went through the director",
            c.in_pkts
        ),
    );
    d.n.check(
        c.out_pkts == 0,
        &format!(
            "OutPkts = {}: no reply passed the director (in NAT it counts them)",
            c.out_pkts
        ),
    );
}

/// Builds the lab of `topology`, starts rvsd, configures the service with forwarding
/// flag `flag` (`-m`, `-g`, `-i`), sends the requests, shows and returns the counters.
fn method(d: &mut Demo, topology: Topology, tag: &str, flag: &str) -> Step<Counters> {
    let info = d.lab(topology, tag)?;
    describe(d, &info);
    let director = Director::start(
        &mut d.s,
        &d.n,
        "director",
        &info.namespaces.director,
        &info.interfaces.director,
        Path::new(&info.state_dir),
    )?;
    let vip = info.addresses.vip.v4;
    let service = format!("{vip}:80");
    d.n.say("The article's script, with rvsadm where it says ipvsadm:");
    director.rvsadm(&d.n, &["-C"])?;
    director.rvsadm(&d.n, &["-A", "-t", &service, "-s", "wrr"])?;
    for rip in [info.addresses.rs1.v4, info.addresses.rs2.v4] {
        let rs = format!("{rip}:80");
        director.rvsadm(&d.n, &["-a", "-t", &service, "-r", &rs, flag, "-w", "1"])?;
    }
    director.rvsadm(&d.n, &["-L", "-n"])?;
    requests(d, &info, IpAddr::V4(vip), REQUESTS, &director)?;
    let stats = director.rvsadm(&d.n, &["-L", "-n", "--stats"])?;
    table::service_stats(&stats, &service)
        .ok_or_else(|| Abort::Failed(format!("no line for service {service} in rvsadm --stats")))
}

/// One sentence on the lab's shape and addresses.
fn describe(d: &Demo, info: &LabInfo) {
    let a = &info.addresses;
    let (rs1, rs2) = (a.rs1.v4, a.rs2.v4);
    match info.topology {
        Topology::Nat => d.n.say(&format!(
            "client {} ── VIP {} [director] DIP {} ── rs1 {rs1}, rs2 {rs2}",
            a.client.v4, a.vip.v4, a.dip.v4
        )),
        Topology::Dr | Topology::Ha => d.n.say(&format!(
            "client {} ── router ── LAN: director {} (VIP {} on eth0:0), rs1 {rs1}, rs2 {rs2}",
            a.client.v4, a.dip.v4, a.vip.v4
        )),
        Topology::Tun => d.n.say(&format!(
            "client {} ── router ─┬─ director {} (VIP {})\n                                 └─ rs1 {rs1}, rs2 {rs2} (another subnet)",
            a.client.v4, a.dip.v4, a.vip.v4
        )),
    }
}

/// `count` requests from the client; checks that all were answered, alternating.
pub fn requests(
    d: &mut Demo,
    info: &LabInfo,
    vip: IpAddr,
    count: usize,
    director: &Director,
) -> Step<Vec<String>> {
    let batch = d.requests(info, vip, count, "")?;
    let names: Vec<String> = batch.names().iter().map(|s| s.to_string()).collect();
    show_answers(d, &batch);
    let answered = d.n.check(
        batch.ok() == count,
        &format!("{}/{count} requests answered", batch.ok()),
    );
    if !answered {
        if let Some(e) = batch.first_error() {
            d.n.say(&format!("first error: {e}"));
        }
        d.n.say(&format!("rvsd's log ends with: {}", director.log_tail(5)));
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    d.n.check(
        alternates(&refs),
        "the answers alternate between rs1 and rs2 (wrr with equal weights)",
    );
    Ok(names)
}

/// The answers, ten to a line, as curl would print them (one name per request).
pub fn show_answers(d: &Demo, batch: &client::Batch) {
    let words: Vec<String> = batch
        .answers
        .iter()
        .map(|a| match a {
            Ok(name) => name.clone(),
            Err(_) => "✗".to_string(),
        })
        .collect();
    for chunk in words.chunks(10) {
        d.n.output(&chunk.join(" "));
    }
    if batch.gave_up {
        d.n.say("(stopped after three failures in a row)");
    }
    if batch.slow > 0 {
        d.n.say(&format!(
            "({} took over a second: rvsd drops a packet while it learns a new neighbour's \
             MAC address (ARP), and the client sends its SYN again after 1 s)",
            batch.slow
        ));
    }
}
