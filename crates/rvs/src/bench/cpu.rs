//! CPU time from /proc: per-core busy time (/proc/stat) and a process's own time
//! (/proc/PID/stat).
//!
//! Busy = user + nice + system + irq + softirq. Steal is left out on purpose: on a virtual
//! machine it is time the hypervisor gave to someone else, not work of the path under test.
//! The kernel's forwarding work (softirq) is counted on whichever core processed the packet,
//! which is why the benchmark reads every core, not only the SUT's. On a shared machine the
//! benchmark's own share comes from [`super::owncpu`]; /proc/stat then tells how much else ran.

use std::fs;

use serde::Serialize;

use crate::error::{Error, Result};

use super::owncpu::OwnCpu;

/// Cumulative jiffies of one core.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CoreJiffies {
    /// user + nice + system + irq + softirq.
    pub busy: u64,
    /// Every field but guest (already inside user) and steal.
    pub total: u64,
}

/// A /proc/stat reading (one entry per core, in core order), with the benchmark's own CPU
/// nanoseconds per core when they can be told apart (see [`super::owncpu`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuSnapshot {
    /// Per-core counters (`cpu0`, `cpu1`, ...).
    pub cores: Vec<CoreJiffies>,
    /// The benchmark's own CPU per core, nanoseconds.
    pub own_ns: Option<Vec<u64>>,
}

/// CPU time per core between two snapshots, in seconds, and the wall time it covers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CpuUse {
    /// Busy seconds of each core, every process on the machine included (/proc/stat).
    pub busy_s: Vec<f64>,
    /// The benchmark's own seconds on each core (its processes and the softirq work they
    /// cause), when known.
    pub own_s: Option<Vec<f64>>,
    /// Seconds of wall time between the two readings.
    pub wall_s: f64,
}

impl CpuUse {
    /// Busy seconds over all cores, everything on the machine included.
    pub fn total_busy_s(&self) -> f64 {
        self.busy_s.iter().sum()
    }

    /// The CPU seconds the measured path cost: the benchmark's own when known, else every
    /// busy second of the machine.
    pub fn cost_s(&self) -> f64 {
        self.own_s
            .as_ref()
            .map_or_else(|| self.total_busy_s(), |v| v.iter().sum())
    }

    /// Core `i`'s share of the interval spent on the benchmark (or busy at all), in percent.
    pub fn core_pct(&self, i: usize) -> Option<f64> {
        let busy = match &self.own_s {
            Some(own) => own.get(i)?,
            None => self.busy_s.get(i)?,
        };
        (self.wall_s > 0.0).then(|| busy / self.wall_s * 100.0)
    }

    /// CPU used by everything else on the machine during the interval, in % of one core
    /// (`None` when the benchmark's own share is unknown).
    pub fn other_pct(&self) -> Option<f64> {
        let own: f64 = self.own_s.as_ref()?.iter().sum();
        (self.wall_s > 0.0).then(|| ((self.total_busy_s() - own) / self.wall_s * 100.0).max(0.0))
    }
}

/// Parses /proc/stat's `cpuN` lines.
pub fn parse_proc_stat(text: &str) -> Result<CpuSnapshot> {
    let mut cores = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let Some(label) = fields.next() else { continue };
        let Some(index) = label.strip_prefix("cpu") else {
            continue;
        };
        if index.is_empty() {
            continue; // the all-cores line
        }
        let index: usize = index
            .parse()
            .map_err(|_| Error::Invalid(format!("/proc/stat: bad line `{line}`")))?;
        let v: Vec<u64> = fields.map(|f| f.parse().unwrap_or(0)).collect();
        if v.len() < 7 {
            return Err(Error::Invalid(format!("/proc/stat: short line `{line}`")));
        }
        let at = |i: usize| v.get(i).copied().unwrap_or(0);
        // user nice system idle iowait irq softirq steal guest guest_nice
        let busy = at(0) + at(1) + at(2) + at(5) + at(6);
        let total = busy + at(3) + at(4);
        if cores.len() <= index {
            cores.resize(index + 1, CoreJiffies::default());
        }
        cores[index] = CoreJiffies { busy, total };
    }
    if cores.is_empty() {
        return Err(Error::Invalid("/proc/stat has no cpuN line".into()));
    }
    Ok(CpuSnapshot {
        cores,
        own_ns: None,
    })
}

/// Reads /proc/stat, and the benchmark's own CPU when `own` is given.
pub fn snapshot(own: Option<&OwnCpu>) -> Result<CpuSnapshot> {
    let text = fs::read_to_string("/proc/stat").map_err(|e| Error::io("reading /proc/stat", e))?;
    let mut snap = parse_proc_stat(&text)?;
    snap.own_ns = own.map(OwnCpu::per_core_ns).transpose()?;
    Ok(snap)
}

/// Clock ticks per second of the /proc counters.
pub fn ticks_per_second() -> f64 {
    match nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK) {
        Ok(Some(hz)) if hz > 0 => hz as f64,
        // Linux has reported USER_HZ = 100 to user space on every architecture we run on.
        _ => 100.0,
    }
}

/// Per-core busy seconds from `before` to `after`, over `wall_s` seconds of wall time.
pub fn between(before: &CpuSnapshot, after: &CpuSnapshot, wall_s: f64) -> CpuUse {
    let hz = ticks_per_second();
    let busy_s = before
        .cores
        .iter()
        .zip(&after.cores)
        .map(|(a, b)| b.busy.saturating_sub(a.busy) as f64 / hz)
        .collect();
    let own_s = match (&before.own_ns, &after.own_ns) {
        (Some(a), Some(b)) => Some(
            a.iter()
                .zip(b)
                .map(|(x, y)| y.saturating_sub(*x) as f64 / 1e9)
                .collect(),
        ),
        _ => None,
    };
    CpuUse {
        busy_s,
        own_s,
        wall_s,
    }
}

/// utime + stime of process `pid` (all its threads), in seconds.
pub fn process_seconds(pid: i32) -> Result<f64> {
    let path = format!("/proc/{pid}/stat");
    let text = fs::read_to_string(&path).map_err(|e| Error::io(format!("reading {path}"), e))?;
    parse_process_ticks(&text)
        .map(|ticks| ticks as f64 / ticks_per_second())
        .ok_or_else(|| Error::Invalid(format!("{path}: unexpected format")))
}

/// utime + stime (fields 14 and 15) of a /proc/PID/stat line, in ticks.
pub fn parse_process_ticks(stat: &str) -> Option<u64> {
    // The command name (field 2) is parenthesised and may hold spaces and parentheses.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state): utime is field 14, i.e. index 11 here.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "cpu  300 0 200 5000 10 0 50 7 0 0\n\
cpu0 100 0 100 2500 5 0 25 3 0 0\n\
cpu1 200 0 100 2500 5 0 25 4 0 0\n\
intr 12345\nctxt 999\n";

    #[test]
    fn busy_counts_user_system_and_softirq_but_not_idle_or_steal() {
        let s = parse_proc_stat(STAT).unwrap();
        assert_eq!(s.cores.len(), 2);
        assert_eq!(s.cores[0].busy, 225);
        assert_eq!(s.cores[1].busy, 325);
        assert_eq!(s.cores[1].total, 325 + 2505);
        assert!(parse_proc_stat("intr 1\n").is_err());
    }

    #[test]
    fn use_between_two_snapshots() {
        let a = parse_proc_stat(STAT).unwrap();
        let mut b = a.clone();
        b.cores[1].busy += 2 * ticks_per_second() as u64;
        let u = between(&a, &b, 4.0);
        assert_eq!(u.busy_s, vec![0.0, 2.0]);
        assert_eq!(u.total_busy_s(), 2.0);
        assert_eq!(u.cost_s(), 2.0);
        assert_eq!(u.core_pct(1), Some(50.0));
        assert_eq!(u.core_pct(2), None);
        assert_eq!(u.other_pct(), None);
    }

    #[test]
    fn own_time_is_the_cost_and_the_rest_is_other_load() {
        let mut a = parse_proc_stat(STAT).unwrap();
        let mut b = a.clone();
        let hz = ticks_per_second() as u64;
        b.cores[0].busy += 3 * hz;
        b.cores[1].busy += 3 * hz;
        a.own_ns = Some(vec![0, 0]);
        b.own_ns = Some(vec![2_000_000_000, 1_000_000_000]);
        let u = between(&a, &b, 4.0);
        assert_eq!(u.own_s, Some(vec![2.0, 1.0]));
        assert_eq!(u.cost_s(), 3.0);
        assert_eq!(u.core_pct(0), Some(50.0));
        assert_eq!(u.other_pct(), Some(75.0));
    }

    #[test]
    fn process_ticks_survive_odd_command_names() {
        let line = "4242 (rvsd (w) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 17 4 0 0 20 0 3 0";
        assert_eq!(parse_process_ticks(line), Some(21));
        assert_eq!(parse_process_ticks("garbage"), None);
    }
}
