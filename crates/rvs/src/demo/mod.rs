//! `rvs demo`: the seed article ("Mastering LVS") told on the built-in labs, with real
//! daemons, real packets and real output.
//!
//! 1. NAT (§9): rvsd on the director, the lvs_nat.sh commands through rvsadm, requests
//!    alternating between rs1 and rs2, `rvsadm -L -n --stats`.
//! 2. DR (§10) and TUN (§7): the same; OutPkts stays 0 because replies bypass the director.
//! 3. The schedulers (§8): 100 requests each under rr, wrr (3:1), lc, sh and mh.
//! 4. HA (§11): two directors under rvs-keepalived; a real server's web server stops and
//!    starts again, then the master dies and the VIP moves (the gap is measured).
//!
//! Every step checks what it shows; the demo succeeds only if every check holds. It never
//! reports a step that did not work as working. Labs and daemons are removed at the end of
//! each step, on failure and on SIGINT/SIGTERM, unless `--keep` asks to leave them up.

mod client;
mod director;
mod haconf;
mod narrate;
mod session;
mod split;
mod step_forward;
mod step_ha;
mod step_sched;
mod table;

use std::time::Duration;

use crate::error::{Error, Result};
use crate::lab::{LabInfo, Topology};
use narrate::Narrator;
use session::{Abort, Session, Step};

/// What `rvs demo` was asked for.
#[derive(Clone, Debug)]
pub struct Options {
    /// Run only this step (1 to 4).
    pub step: Option<usize>,
    /// Leave the labs (and their daemons) up at the end.
    pub keep: bool,
    /// Lab name prefix: the labs are PREFIX-nat, PREFIX-dr, ...
    pub prefix: String,
}

/// A step: its title and what it does.
struct StepDef {
    title: &'static str,
    run: fn(&mut Demo) -> Step,
}

const STEPS: [StepDef; 4] = [
    StepDef {
        title: "NAT, the article's §9",
        run: step_forward::nat,
    },
    StepDef {
        title: "DR (§10) and TUN (§7): replies bypass the director",
        run: step_forward::dr_and_tun,
    },
    StepDef {
        title: "The schedulers (§8)",
        run: step_sched::run,
    },
    StepDef {
        title: "High availability with rvs-keepalived (§11)",
        run: step_ha::run,
    },
];

/// The demo's running state, handed to every step.
pub(crate) struct Demo {
    n: Narrator,
    s: Session,
}

impl Demo {
    /// Builds a lab for this step, removing one an earlier demo left behind, and says so.
    fn lab(&mut self, topology: Topology, tag: &str) -> Step<LabInfo> {
        let name = self.s.lab_name(tag);
        if self.s.remove_leftover(tag)? {
            self.n
                .progress(&format!("removed lab `{name}` left by an earlier demo"));
        }
        self.n.command(
            "host",
            &format!("rvs lab up {} --name {name}", topology.as_str()),
        );
        let info = self.s.lab_up(topology, tag)?;
        self.n.progress(&format!(
            "lab `{name}` is up: namespaces {name}-client, {name}-director, {name}-rs1, ...",
        ));
        Ok(info)
    }

    /// Shows the client's curl loop (with `shown_tail` appended, e.g. `| sort | uniq -c`)
    /// and sends `count` requests to `vip`:80 from the client namespace.
    fn requests(
        &mut self,
        info: &LabInfo,
        vip: std::net::IpAddr,
        count: usize,
        shown_tail: &str,
    ) -> Step<client::Batch> {
        self.n.command(
            "client",
            &format!("for i in $(seq {count}); do curl -s http://{vip}/; done{shown_tail}"),
        );
        let batch = client::batch(&info.namespaces.client, vip, 80, count, self.s.stop_flag())
            .map_err(Abort::Failed)?;
        self.s.go_on()?;
        Ok(batch)
    }
}

/// Runs the demo; Ok only if every step behaved as expected.
pub fn run(opts: &Options) -> Result<()> {
    let selected: Vec<usize> = match opts.step {
        Some(n) if (1..=STEPS.len()).contains(&n) => vec![n],
        Some(n) => {
            return Err(Error::Invalid(format!(
                "there is no step {n}: the demo has steps 1 to {}",
                STEPS.len()
            )));
        }
        None => (1..=STEPS.len()).collect(),
    };
    if !nix::unistd::geteuid().is_root() {
        return Err(Error::Invalid(
            "rvs demo builds network namespaces and attaches XDP programs: run it as root".into(),
        ));
    }
    crate::lab::validate_name(&format!("{}-sched", opts.prefix))?;
    let s = Session::new(&opts.prefix).map_err(|e| Error::io("installing signal handlers", e))?;
    let mut demo = Demo {
        n: Narrator::new(),
        s,
    };
    intro(&demo.n, opts);
    let mut results = Vec::new();
    let mut interrupted = false;
    for &i in &selected {
        let def = &STEPS[i - 1];
        demo.n.step(i, STEPS.len(), def.title);
        let began = demo.n.elapsed();
        match (def.run)(&mut demo) {
            Ok(()) => {}
            // Ctrl-C also reaches the tools the demo was running (ip, rvsadm): their
            // failure is the interruption, not a finding.
            Err(Abort::Failed(_)) if demo.s.interrupted() => interrupted = true,
            Err(Abort::Failed(why)) => demo.n.abort(&why),
            Err(Abort::Interrupted) => interrupted = true,
        }
        if interrupted || !opts.keep {
            demo.n
                .progress("removing the lab: daemons stopped by PID, namespaces deleted");
            for problem in demo.s.teardown() {
                demo.n.abort(&format!("clean-up: {problem}"));
            }
        }
        let took = demo.n.elapsed() - began;
        let mut failures = demo.n.failures().to_vec();
        if interrupted {
            failures.push("interrupted before the end of the step".into());
        }
        results.push((i, def.title, failures, took));
        if interrupted {
            break;
        }
    }
    summary(&demo.n, &results, interrupted);
    if opts.keep && !interrupted {
        kept(&demo.n, &demo.s.keep());
    }
    let failed: Vec<String> = results
        .iter()
        .filter(|(_, _, f, _)| !f.is_empty())
        .map(|(i, _, _, _)| i.to_string())
        .collect();
    if interrupted {
        Err(Error::Invalid(
            "the demo was interrupted; its labs and daemons were removed".into(),
        ))
    } else if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "the demo failed: step {} did not behave as expected (see ✘ above)",
            failed.join(", ")
        )))
    }
}

fn intro(n: &Narrator, opts: &Options) {
    n.say("rvs demo walks through the article \"Mastering LVS\" on labs of network");
    n.say("namespaces: each step builds a lab, starts the real daemons (rvsd, rvsadm,");
    n.say("rvs-keepalived), sends real requests and shows what they print.");
    n.say("Every ✔ is a check that held; a ✘ makes the demo fail. Ctrl-C removes everything.");
    if opts.step.is_none() {
        n.say("Four steps; about half a minute in all.");
    }
}

fn summary(n: &Narrator, results: &[(usize, &str, Vec<String>, Duration)], interrupted: bool) {
    println!();
    n.say(&format!(
        "Summary ({:.1}s in all):",
        n.elapsed().as_secs_f64()
    ));
    for (i, title, failures, took) in results {
        let mark = if failures.is_empty() { "✔" } else { "✘" };
        n.say(&format!(
            "  {mark} step {i}: {title} ({:.1}s)",
            took.as_secs_f64()
        ));
        for f in failures {
            n.say(&format!("      ✘ {f}"));
        }
    }
    if interrupted {
        n.say("  interrupted: everything the demo built was removed.");
    }
}

fn kept(n: &Narrator, labs: &[String]) {
    if labs.is_empty() {
        return;
    }
    println!();
    n.say("--keep: the labs stay up, with their daemons. To look around:");
    for name in labs {
        n.say(&format!(
            "  ip netns exec {name}-client curl -s http://VIP/      (VIP: see /run/rvs/lab/{name}/lab.json)"
        ));
        n.say(&format!(
            "  RVS_SOCKET=/run/rvs/lab/{name}/director-rvsd.sock rvsadm -L -n --stats"
        ));
    }
    n.say("To remove them:");
    for name in labs {
        n.say(&format!("  rvs lab down --name {name} --kill-all"));
    }
}
