//! The benchmark's report: the machine, the tables, the targets, the commands; and the
//! update of BENCHMARKS.md between `<!-- bench:begin -->` and `<!-- bench:end -->`.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use crate::error::{Error, Result};
use crate::exec;

use super::context::Params;
use super::paths::PathKind;
use super::results::{PathSummary, TargetCheck, find, ratio_of};
use super::stats::Summary;
use super::table::{self, Table};

/// The marker that opens the benchmark's section of BENCHMARKS.md.
pub const BEGIN: &str = "<!-- bench:begin -->";
/// The marker that closes it.
pub const END: &str = "<!-- bench:end -->";

/// The machine the figures come from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Machine {
    /// Online CPUs.
    pub cpus: usize,
    /// CPU model (first `model name` of /proc/cpuinfo).
    pub model: String,
    /// Kernel release.
    pub kernel: String,
    /// Memory, GiB.
    pub mem_gib: u64,
    /// /proc/loadavg's first three fields when the run started.
    pub load: String,
    /// UTC date and time of the run.
    pub date: String,
    /// wrk, HAProxy and nftables versions.
    pub tools: Vec<String>,
}

/// Reads the machine's description (best effort: unknown parts stay empty).
pub fn machine() -> Machine {
    let read = |p: &str| fs::read_to_string(p).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_string())
        .unwrap_or_default();
    let mem_kib: u64 = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let first_line = |prog: &str, args: &[&str]| -> Option<String> {
        let out = exec::output(prog, args).ok()?;
        let text = [out.stdout, out.stderr].concat();
        let text = String::from_utf8_lossy(&text);
        // The version, without the banner's copyright or web address.
        let line = text.lines().next()?;
        let line = line.split(" Copyright").next().unwrap_or(line);
        let line = line.split(" - ").next().unwrap_or(line);
        Some(line.trim().to_string())
    };
    let tools = [
        ("wrk", &["-v"][..]),
        ("haproxy", &["-v"][..]),
        ("nft", &["--version"][..]),
    ]
    .iter()
    .filter_map(|(p, a)| first_line(p, a))
    .collect();
    Machine {
        cpus: std::thread::available_parallelism().map_or(0, usize::from),
        model,
        kernel: read("/proc/sys/kernel/osrelease").trim().to_string(),
        mem_gib: (mem_kib + (1 << 19)) >> 20,
        load: read("/proc/loadavg")
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        date: first_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_default(),
        tools,
    }
}

/// Everything the report shows.
#[derive(Clone, Debug)]
pub struct ReportInput<'a> {
    /// The command line that produced it.
    pub command: &'a str,
    /// The machine.
    pub machine: &'a Machine,
    /// /proc/loadavg at the end of the run.
    pub load_after: &'a str,
    /// Durations, cores.
    pub params: &'a Params,
    /// Repetitions.
    pub reps: usize,
    /// How the benchmark's processes were scheduled (nice, real-time priority).
    pub scheduling: String,
    /// Per-path figures.
    pub summaries: &'a [PathSummary],
    /// rvsd's idle CPU, % of a core.
    pub idle_pct: Option<f64>,
    /// Targets.
    pub targets: &'a [TargetCheck],
    /// How each path was set up.
    pub commands: &'a BTreeMap<PathKind, Vec<String>>,
}

fn cell(s: &Option<Summary>, fmt: impl Fn(f64) -> String) -> String {
    s.as_ref()
        .map_or_else(|| "—".to_string(), |s| table::summary(s, fmt))
}

/// The figure tables (HTTP, CPU, UDP), as printed on stdout.
pub fn tables(input: &ReportInput<'_>) -> String {
    let s = input.summaries;
    let mut http = Table::new(&[
        "path",
        "vs",
        "keep-alive req/s",
        "×",
        "p50",
        "p99",
        "new conn/s",
        "×",
        "p99 (close)",
        "errors",
    ]);
    let mut cpu = Table::new(&[
        "path",
        "µs CPU / request",
        "added",
        "µs CPU / new conn",
        "added",
        "gen core %",
        "SUT core %",
        "other load %",
        "ms CPU / M UDP pkts",
    ]);
    let mut udp = Table::new(&["path", "vs", "Mpps at sink", "×", "Mpps sent", "lost"]);
    for p in s {
        let base = find(s, p.baseline);
        let added = |fig: fn(&PathSummary) -> &Option<Summary>| -> String {
            match (fig(p), base.and_then(|b| fig(b).as_ref())) {
                (Some(me), Some(b)) if p.path != p.baseline => {
                    format!("{:+.2}", me.median - b.median)
                }
                _ => "—".into(),
            }
        };
        let name = p.path.name().to_string();
        http.row(vec![
            name.clone(),
            p.baseline.name().into(),
            cell(&p.ka_rps, table::si),
            table::ratio(ratio_of(s, p.path, |x| x.ka_rps)),
            cell(&p.ka_p50_us, table::latency),
            cell(&p.ka_p99_us, table::latency),
            cell(&p.close_cps, table::si),
            table::ratio(ratio_of(s, p.path, |x| x.close_cps)),
            cell(&p.close_p99_us, table::latency),
            p.http_errors.to_string(),
        ]);
        cpu.row(vec![
            name.clone(),
            cell(&p.ka_cpu_us, |v| table::fixed(v, 2)),
            added(|x| &x.ka_cpu_us),
            cell(&p.close_cpu_us, |v| table::fixed(v, 2)),
            added(|x| &x.close_cpu_us),
            cell(&p.ka_gen_pct, |v| table::fixed(v, 0)),
            cell(&p.ka_sut_pct, |v| table::fixed(v, 0)),
            cell(&p.ka_other_pct, |v| table::fixed(v, 0)),
            cell(&p.udp_cpu_ms, |v| table::fixed(v, 0)),
        ]);
        if p.path.carries_udp() {
            let lost = match (&p.udp_pps, &p.udp_sent_pps) {
                (Some(r), Some(t)) if t.median > 0.0 => {
                    format!("{:.0} %", (1.0 - r.median / t.median).max(0.0) * 100.0)
                }
                _ => "—".into(),
            };
            udp.row(vec![
                name,
                p.baseline.name().into(),
                cell(&p.udp_pps, |v| table::fixed(v / 1e6, 3)),
                table::ratio(ratio_of(s, p.path, |x| x.udp_pps)),
                cell(&p.udp_sent_pps, |v| table::fixed(v / 1e6, 3)),
                lost,
            ]);
        }
    }
    let pr = input.params;
    let mut out = format!(
        "HTTP through the path (wrk -t1 -c{} -d{}s; median of {} (min–max); × = over `vs`; \
         errors = wrk socket errors and timeouts over all runs):\n\n",
        pr.connections, pr.http_secs, input.reps
    );
    out.push_str(&http.render());
    out.push_str(
        "\nCPU per request on all cores: the benchmark's own processes and the softirq work \
         they cause (cpuacct cgroup + ksoftirqd; /proc/stat alone where there is no cgroup); \
         added = over `vs`. Core % (of the benchmark) and other load (everything else on the \
         machine, /proc/stat busy minus ours, in % of one core) during the keep-alive runs:\n\n",
    );
    out.push_str(&cpu.render());
    out.push_str(&format!(
        "\n{}-byte UDP frames, one flow, `rvs blast` (sendmmsg) → `rvs sink` (recvmmsg) on both \
         real servers, {} s per run; the direct paths are the kernel's own IP forwarding:\n\n",
        pr.udp_size, pr.udp_secs
    ));
    out.push_str(&udp.render());
    if let Some(pct) = input.idle_pct {
        out.push_str(&format!(
            "\nrvsd idle (NAT lab, services configured, no traffic): {pct:.2} % of a core \
             (utime+stime from /proc/PID/stat, 10 ms ticks: 0.00 % over 10 s means under \
             0.1 %).\n"
        ));
    }
    let failed: Vec<String> = s
        .iter()
        .flat_map(|p| {
            p.failures
                .iter()
                .map(move |f| format!("- {}: {f}", p.path.name()))
        })
        .collect();
    if !failed.is_empty() {
        out.push_str("\nFailed runs:\n\n");
        out.push_str(&failed.join("\n"));
        out.push('\n');
    }
    out
}

/// The targets table.
pub fn targets(checks: &[TargetCheck]) -> String {
    let mut t = Table::new(&["target", "measured", "met"]);
    for c in checks {
        let met = match c.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "—",
        };
        t.row(vec![c.target.clone(), c.measured.clone(), met.into()]);
    }
    t.render()
}

/// The whole section for BENCHMARKS.md (without the markers).
pub fn section(input: &ReportInput<'_>) -> String {
    let m = input.machine;
    let pr = input.params;
    let mut out = String::from("## Lab benchmark: `rvs bench`\n\n");
    out.push_str(&format!(
        "Run {} on {} × {} ({} GiB), kernel {}; load average {} at the start, {} at the end \
         (the machine is shared).\n\n",
        m.date, m.cpus, m.model, m.mem_gib, m.kernel, m.load, input.load_after
    ));
    out.push_str(&format!("Command: `{}`\n\n", input.command));
    out.push_str(&format!(
        "Pinning (taskset): wrk and the UDP generator on core {g}; the balancer (rvsd, \
         HAProxy), the real servers' processes and the UDP sinks on core {s}. The kernel's \
         forwarding, NAT and XDP work runs in softirq on the core that handed the packet to the \
         veth (mostly the generator's core on the way in, the SUT core on the way back), so \
         CPU is read on every core. The machine is shared, so the CPU a path costs is the \
         benchmark's own: all its processes sit in one cpuacct cgroup, which with tick-based \
         accounting also holds the softirq work they cause, plus ksoftirqd's time; /proc/stat \
         (busy = user+nice+system+irq+softirq) gives the rest as \"other load\". {n} interleaved \
         repetitions (the path order rotates each repetition); figures are medians with the \
         (min–max) range.\n\n",
        g = pr.gen_core,
        s = pr.sut_core,
        n = input.reps
    ));
    out.push_str(&format!("Scheduling: {}.\n\n", input.scheduling));
    if !m.tools.is_empty() {
        out.push_str(&format!("Tools: {}.\n\n", m.tools.join("; ")));
    }
    out.push_str(&tables(input));
    out.push_str("\nTargets (issue 7):\n\n");
    out.push_str(&targets(input.targets));
    out.push_str("\nPaths:\n\n");
    for p in input.summaries {
        out.push_str(&format!("- `{}`: {}\n", p.path.name(), p.path.describe()));
    }
    if !input.commands.is_empty() {
        out.push_str("\nSet-up commands per path (as run):\n\n```\n");
        for (path, cmds) in input.commands {
            out.push_str(&format!("# {}\n", path.name()));
            for c in cmds {
                out.push_str(c);
                out.push('\n');
            }
        }
        out.push_str("```\n");
    }
    out
}

/// `existing` with the text between the markers replaced by `section` (markers appended at
/// the end when absent).
pub fn splice(existing: &str, section: &str) -> String {
    let body = format!("{BEGIN}\n{}{END}", ensure_newline(section));
    if let (Some(b), Some(e)) = (existing.find(BEGIN), existing.find(END))
        && b < e
    {
        return format!("{}{body}{}", &existing[..b], &existing[e + END.len()..]);
    }
    let mut out = existing.to_string();
    if !out.is_empty() && !out.ends_with("\n\n") {
        out.push_str(if out.ends_with('\n') { "\n" } else { "\n\n" });
    }
    out.push_str(&body);
    out.push('\n');
    out
}

fn ensure_newline(s: &str) -> String {
    if s.ends_with('\n') {
        s.to_string()
    } else {
        format!("{s}\n")
    }
}

/// Writes `section` into the file at `path` between the markers (creating the file).
pub fn write(path: &Path, section: &str) -> Result<()> {
    let existing = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "# Benchmarks\n".to_string(),
        Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
    };
    fs::write(path, splice(&existing, section))
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_replaces_only_between_the_markers() {
        let doc = format!("# B\n\ncore figures\n\n{BEGIN}\nold\n{END}\n\ntail\n");
        let out = splice(&doc, "new");
        assert_eq!(
            out,
            format!("# B\n\ncore figures\n\n{BEGIN}\nnew\n{END}\n\ntail\n")
        );
        assert_eq!(splice(&out, "new"), out, "idempotent");
    }

    #[test]
    fn splice_appends_markers_when_absent() {
        assert_eq!(
            splice("# B\ncore\n", "lab\n"),
            format!("# B\ncore\n\n{BEGIN}\nlab\n{END}\n")
        );
        assert_eq!(splice("", "lab\n"), format!("{BEGIN}\nlab\n{END}\n"));
    }
}
