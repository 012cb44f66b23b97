//! `rvs bench`: the lab benchmark — rvsd side by side with the alternatives, same labs, same
//! run.
//!
//! Builds the NAT, DR and TUN labs once, then runs every repetition over every path in turn
//! (interleaved, the order rotating each repetition): HTTP keep-alive and `Connection: close`
//! with wrk, 64-byte UDP with `rvs blast` / `rvs sink`, each with the CPU of every core read
//! from /proc/stat. Prints the medians with their range and the ratios to the direct path,
//! checks the issue's targets, and optionally writes its section of BENCHMARKS.md and the raw
//! runs as JSON. Everything it starts is stopped and every lab is removed, also on failure.

pub mod balancer;
pub mod context;
pub mod cpu;
pub mod labs;
pub mod measure;
pub mod owncpu;
pub mod paths;
pub mod proc;
pub mod report;
pub mod results;
pub mod stats;
pub mod table;
pub mod udp;
pub mod wrk;

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::lab::Topology;

use context::{Ctx, Params, Tools};
use labs::Labs;
use measure::PathRun;
use paths::PathKind;
use results::{PathSummary, TargetCheck};

/// Where the benchmark keeps sockets, configurations and logs while it runs.
pub const WORK_DIR: &str = "/run/rvs/bench";

/// `rvs bench`'s options.
#[derive(Clone, Debug, clap::Args)]
pub struct BenchArgs {
    /// Interleaved repetitions of every path (the issue asks for at least 3).
    #[arg(long, default_value_t = 3)]
    pub reps: usize,
    /// Seconds of each wrk run.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Seconds of each UDP run.
    #[arg(long, default_value_t = 5.0)]
    pub udp_duration: f64,
    /// Seconds over which rvsd's idle CPU is read (0 skips it; needs rvsd-nat).
    #[arg(long, default_value_t = 10)]
    pub idle: u64,
    /// Paths to run, comma-separated (default: all).
    #[arg(long, value_delimiter = ',', value_enum)]
    pub only: Vec<PathKind>,
    /// wrk connections (one thread).
    #[arg(long, default_value_t = 50)]
    pub connections: u32,
    /// UDP Ethernet frame size, FCS included.
    #[arg(long, default_value_t = 64)]
    pub udp_size: usize,
    /// Core of wrk and the UDP generator.
    #[arg(long, default_value_t = 0)]
    pub gen_core: usize,
    /// Core of the balancer, the real servers and the UDP sinks.
    #[arg(long, default_value_t = 1)]
    pub sut_core: usize,
    /// Nice value for the benchmark and everything it starts (e.g. -10 on a shared machine,
    /// so other work disturbs the measurement less); 0 leaves it alone.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub nice: i32,
    /// Real-time priority (SCHED_RR) for the benchmark and everything it starts, 0 = off. On
    /// a machine busy with other work, wakeups of the measured processes otherwise wait for
    /// other tasks' time slices and the figures measure the queueing; the kernel's RT
    /// throttling still leaves other tasks 5 % of each core.
    #[arg(long, default_value_t = 0)]
    pub rt: u8,
    /// Prefix of the labs' names (labs PREFIX-nat, PREFIX-dr, PREFIX-tun).
    #[arg(long, default_value = "bench")]
    pub name: String,
    /// rvsd binary [default: next to rvs, else from PATH].
    #[arg(long)]
    pub rvsd: Option<PathBuf>,
    /// rvsadm binary [default: next to rvs, else from PATH].
    #[arg(long)]
    pub rvsadm: Option<PathBuf>,
    /// Write the report into this Markdown file between the bench markers.
    #[arg(long)]
    pub write: Option<PathBuf>,
    /// Write every run and the summaries as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// The raw output of a run, as `--json` writes it.
#[derive(Debug, Serialize)]
pub struct JsonReport<'a> {
    /// The command line.
    pub command: &'a str,
    /// Every repetition of every path.
    pub runs: &'a [PathRun],
    /// Medians and ranges.
    pub summaries: &'a [PathSummary],
    /// rvsd idle CPU, % of a core.
    pub idle_pct: Option<f64>,
    /// The issue's targets.
    pub targets: &'a [TargetCheck],
}

/// Seconds the run will take, roughly: labs, set-ups, measurements, idle reading.
pub fn estimate_secs(args: &BenchArgs, paths: &[PathKind]) -> f64 {
    let labs: usize = [Topology::Nat, Topology::Dr, Topology::Tun]
        .iter()
        .filter(|t| paths.iter().any(|p| p.lab() == **t))
        .count();
    let per_rep: f64 = paths
        .iter()
        .map(|p| {
            let http = 2.0 * (args.duration as f64 + 0.5);
            let udp = if p.carries_udp() {
                args.udp_duration + 1.0
            } else {
                0.0
            };
            2.0 + http + udp
        })
        .sum();
    let idle = if args.idle > 0 && paths.contains(&PathKind::RvsdNat) {
        args.idle as f64 + 4.0
    } else {
        0.0
    };
    labs as f64 * 4.0 + args.reps as f64 * per_rep + idle
}

fn validate(args: &BenchArgs, paths: &[PathKind]) -> Result<()> {
    if !nix::unistd::geteuid().is_root() {
        return Err(Error::Invalid(
            "rvs bench builds network namespaces: run it as root".into(),
        ));
    }
    if paths.is_empty() {
        return Err(Error::Invalid("no path selected".into()));
    }
    if !(1..=100).contains(&args.reps) || !(1..=600).contains(&args.duration) {
        return Err(Error::Invalid(
            "--reps must be 1 to 100 and --duration 1 to 600 seconds".into(),
        ));
    }
    if !(-20..=19).contains(&args.nice) || args.rt > 99 {
        return Err(Error::Invalid(
            "--nice must be -20 to 19 and --rt 0 to 99".into(),
        ));
    }
    if !(args.udp_duration > 0.0 && args.udp_duration <= 600.0) || args.idle > 600 {
        return Err(Error::Invalid(
            "--udp-duration must be above 0 and at most 600 s, --idle at most 600 s".into(),
        ));
    }
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    if args.gen_core >= cpus || args.sut_core >= cpus {
        return Err(Error::Invalid(format!(
            "--gen-core and --sut-core must be below {cpus} (this machine's CPU count)"
        )));
    }
    let mut needed = vec!["wrk", "taskset", "curl", "ip"];
    if paths.contains(&PathKind::Haproxy) {
        needed.push("haproxy");
    }
    if paths.contains(&PathKind::NftDnat) {
        needed.push("nft");
    }
    let missing: Vec<&str> = needed.into_iter().filter(|p| !labs::have(p)).collect();
    if !missing.is_empty() {
        return Err(Error::Invalid(format!(
            "missing tools: {} (scripts/deps.sh installs them)",
            missing.join(", ")
        )));
    }
    Ok(())
}

/// The command line as a user would retype it (the binary as `rvs`).
fn command_line() -> String {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    args.insert(0, "rvs".into());
    args.iter()
        .map(|a| {
            if a.contains(' ') {
                format!("'{a}'")
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs the benchmark and prints (and writes) its report.
pub fn main(args: &BenchArgs) -> Result<()> {
    let paths = paths::selected(&args.only);
    validate(args, &paths)?;
    let tools = Tools::find(args.rvsd.clone(), args.rvsadm.clone())?;
    let command = command_line();
    let machine = report::machine();
    let est = estimate_secs(args, &paths);
    eprintln!(
        "rvs bench: {} path(s) × {} repetition(s); estimated {:.0} min {:.0} s. If interrupted, \
         clean up with `rvs lab down --name {}-nat|dr|tun --kill-all`.",
        paths.len(),
        args.reps,
        (est / 60.0).floor(),
        est % 60.0,
        args.name
    );
    let work = PathBuf::from(WORK_DIR).join(&args.name);
    if work.exists() {
        fs::remove_dir_all(&work)
            .map_err(|e| Error::io(format!("removing the stale {}", work.display()), e))?;
    }
    fs::create_dir_all(&work).map_err(|e| Error::io(format!("creating {}", work.display()), e))?;
    if args.nice != 0 {
        // Inherited by every process started from here on.
        let me = std::process::id().to_string();
        let nice = args.nice.to_string();
        crate::exec::run("renice", &["-n", &nice, "-p", &me])?;
    }
    if args.rt > 0 {
        let me = std::process::id().to_string();
        let prio = args.rt.to_string();
        crate::exec::run("chrt", &["-a", "-r", "-p", &prio, &me])?;
    }
    // Before anything is started, so every process of the run is accounted in it.
    let own = owncpu::OwnCpu::enter(&args.name)?;
    if own.is_none() {
        eprintln!(
            "rvs bench: no cpuacct cgroup hierarchy: CPU figures are the whole machine's \
             (/proc/stat), other load included"
        );
    }
    let result = run(args, &paths, tools, work.clone(), own);
    let _ = fs::remove_dir_all(&work);
    let (runs, idle_pct, commands, leftovers) = result?;
    for l in &leftovers {
        eprintln!("rvs bench: warning: had to kill a leftover process: {l}");
    }

    let params = params(args);
    let summaries = results::summarise(&runs, &paths, args.gen_core, args.sut_core);
    let targets = results::check_targets(&summaries, idle_pct);
    let load_after = report::machine().load;
    let input = report::ReportInput {
        command: &command,
        machine: &machine,
        load_after: &load_after,
        params: &params,
        reps: args.reps,
        scheduling: scheduling(args),
        summaries: &summaries,
        idle_pct,
        targets: &targets,
        commands: &commands,
    };
    println!("{}", report::tables(&input));
    println!("Targets (issue 7):\n\n{}", report::targets(&targets));
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&JsonReport {
            command: &command,
            runs: &runs,
            summaries: &summaries,
            idle_pct,
            targets: &targets,
        })
        .map_err(|e| Error::Invalid(format!("encoding JSON: {e}")))?;
        fs::write(path, json).map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    }
    if let Some(path) = &args.write {
        report::write(path, &report::section(&input))?;
        eprintln!("rvs bench: wrote {}", path.display());
    }
    Ok(())
}

fn scheduling(args: &BenchArgs) -> String {
    let mut parts = Vec::new();
    if args.rt > 0 {
        parts.push(format!(
            "SCHED_RR priority {} for every process of the benchmark (the machine is shared: \
             without it the figures measure waits behind other tasks; the kernel's RT \
             throttling leaves others 5 % of each core). The throttling also pauses a \
             saturated core for 50 ms every second, which is what the p99 latencies of about \
             35 ms show: compare the p50s",
            args.rt
        ));
    }
    if args.nice != 0 {
        parts.push(format!("nice {}", args.nice));
    }
    if parts.is_empty() {
        "default (SCHED_OTHER, nice 0)".into()
    } else {
        parts.join("; ")
    }
}

fn params(args: &BenchArgs) -> Params {
    Params {
        http_secs: args.duration,
        connections: args.connections,
        udp_secs: args.udp_duration,
        udp_size: args.udp_size,
        gen_core: args.gen_core,
        sut_core: args.sut_core,
    }
}

type RunOutput = (
    Vec<PathRun>,
    Option<f64>,
    BTreeMap<PathKind, Vec<String>>,
    Vec<String>,
);

fn run(
    args: &BenchArgs,
    paths: &[PathKind],
    tools: Tools,
    work: PathBuf,
    own: Option<owncpu::OwnCpu>,
) -> Result<RunOutput> {
    let topologies: Vec<Topology> = [Topology::Nat, Topology::Dr, Topology::Tun]
        .into_iter()
        .filter(|t| paths.iter().any(|p| p.lab() == *t))
        .collect();
    let labs = Labs::up(&args.name, &topologies, args.sut_core)?;
    let mut ctx = Ctx {
        labs,
        tools,
        work,
        params: params(args),
        commands: BTreeMap::new(),
        own,
    };
    let mut runs = Vec::new();
    for rep in 0..args.reps {
        for path in paths::rotation(paths, rep) {
            let r = measure::path(&mut ctx, path, rep);
            eprintln!("rvs bench: [{}/{}] {}", rep + 1, args.reps, progress(&r));
            runs.push(r);
        }
    }
    let idle_pct = if args.idle > 0 && paths.contains(&PathKind::RvsdNat) {
        match measure::rvsd_idle(&mut ctx, args.idle) {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("rvs bench: rvsd idle not measured: {e}");
                None
            }
        }
    } else {
        None
    };
    let commands = std::mem::take(&mut ctx.commands);
    let leftovers = ctx.labs.down()?;
    Ok((runs, idle_pct, commands, leftovers))
}

/// One line per path run, for the progress log.
fn progress(r: &PathRun) -> String {
    let http = |o: &measure::Outcome<measure::HttpSample>, unit: &str| match o {
        Ok(s) => format!("{} {unit}", table::si(s.wrk.rps)),
        Err(e) => format!("{unit} failed: {e}"),
    };
    let mut line = format!(
        "{}: {}, {}",
        r.path.name(),
        http(&r.keepalive, "req/s"),
        http(&r.close, "conn/s")
    );
    match &r.udp {
        Some(Ok(u)) => line.push_str(&format!(", {:.3} Mpps", u.pps / 1e6)),
        Some(Err(e)) => line.push_str(&format!(", UDP failed: {e}")),
        None => {}
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        bench: BenchArgs,
    }

    #[test]
    fn defaults_follow_the_issue_and_the_estimate_is_bounded() {
        let cli = Cli::parse_from(["rvs"]);
        let a = cli.bench;
        assert_eq!(
            (a.reps, a.duration, a.connections, a.udp_size),
            (3, 10, 50, 64)
        );
        let all = paths::selected(&a.only);
        let est = estimate_secs(&a, &all);
        assert!(est > 3.0 * 8.0 * 20.0 && est < 30.0 * 60.0, "{est}");
        let quick = Cli::parse_from([
            "rvs",
            "--reps",
            "1",
            "--duration",
            "2",
            "--only",
            "direct,rvsd-nat",
        ])
        .bench;
        let q = paths::selected(&quick.only);
        assert_eq!(q, vec![PathKind::Direct, PathKind::RvsdNat]);
        assert!(estimate_secs(&quick, &q) < est / 10.0);
    }
}
