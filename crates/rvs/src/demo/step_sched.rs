//! Step 3: the same 100 requests under five schedulers, reconfigured live with `-E`/`-e`,
//! and the split each gives as a bar chart.

use std::net::IpAddr;
use std::path::Path;

use super::Demo;
use super::director::Director;
use super::session::Step;
use super::split::{self, Split};
use super::step_forward::show_answers;
use super::table;
use crate::lab::Topology;

/// Requests per scheduler.
const REQUESTS: usize = 100;

/// The schedulers shown, with one line on what each does.
const SCHEDULERS: [(&str, &str); 5] = [
    ("rr", "round robin: each real server in turn"),
    ("wrr", "weighted round robin: rs1 weight 3, rs2 weight 1"),
    (
        "lc",
        "least connections: the server with the fewest (active × 256 + inactive)",
    ),
    (
        "sh",
        "source hashing: the client's address picks the server",
    ),
    (
        "mh",
        "Maglev hashing: a consistent-hash table (4093 slots) looked up by client address",
    ),
];

/// Step 3.
pub fn run(d: &mut Demo) -> Step {
    d.n.say("The scheduler picks a real server for each new connection. One NAT service,");
    d.n.say("the same 100 requests from one client, five schedulers; rvsadm -E switches the");
    d.n.say("scheduler of the live service, rvsadm -e changes a real server's weight.");
    let info = d.lab(Topology::Nat, "sched")?;
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
    let rips = [
        format!("{}:80", info.addresses.rs1.v4),
        format!("{}:80", info.addresses.rs2.v4),
    ];
    director.rvsadm(&d.n, &["-A", "-t", &service, "-s", "rr"])?;
    for rs in &rips {
        director.rvsadm(&d.n, &["-a", "-t", &service, "-r", rs, "-m", "-w", "1"])?;
    }
    let mut splits: Vec<(&str, Split)> = Vec::new();
    for (sched, what) in SCHEDULERS {
        println!();
        d.n.progress(&format!("{sched}: {what}"));
        if sched != "rr" {
            director.rvsadm(&d.n, &["-E", "-t", &service, "-s", sched])?;
        }
        // wrr gets 3:1; the others go back to equal weights.
        let w1 = if sched == "wrr" { "3" } else { "1" };
        if sched == "wrr" || sched == "lc" {
            director.rvsadm(
                &d.n,
                &["-e", "-t", &service, "-r", &rips[0], "-m", "-w", w1],
            )?;
        }
        let lc_start = if sched == "lc" {
            let listing = director.rvsadm(&d.n, &["-L", "-n"])?;
            let dests = table::dests(&listing, &service);
            let load = |rip: &str| {
                dests
                    .iter()
                    .find(|x| x.addr == rip)
                    .map_or(0, |x| x.active * 256 + x.inactive)
            };
            let start = (load(&rips[0]), load(&rips[1]));
            d.n.say(&format!(
                "lc starts from the connections left by the runs before: rs1 {}, rs2 {}",
                start.0, start.1
            ));
            start
        } else {
            (0, 0)
        };
        let batch = d.requests(&info, IpAddr::V4(vip), REQUESTS, " | sort | uniq -c")?;
        let names = batch.names();
        let s = Split::count(&["rs1", "rs2"], &names);
        for (name, count) in &s.counts {
            d.n.output(&format!("{count:>7} {name}"));
        }
        if batch.ok() < REQUESTS {
            show_answers(d, &batch);
            if let Some(e) = batch.first_error() {
                d.n.say(&format!("first error: {e}"));
            }
        }
        let (ok, rule) = split::expected(sched, &s, REQUESTS, lc_start);
        d.n.check(ok, &format!("{rule} ({})", s.summary()));
        splits.push((sched, s));
    }
    println!();
    d.n.say("The split of 100 requests under each scheduler:");
    for (sched, s) in &splits {
        d.n.output(&split::bars(sched, s, REQUESTS, 40).join("\n"));
    }
    Ok(())
}
