//! The benchmark's own CPU time, apart from whatever else the (shared) machine runs.
//!
//! /proc/stat counts every process: on a machine where others compile, busy cores say
//! nothing about the path under test. So the benchmark moves itself into a cgroup of the
//! cpuacct hierarchy (v1, as this machine mounts it; no other controller is touched) before it
//! builds the labs: every process it starts — built-in servers, rvsd, HAProxy, wrk, generator,
//! sinks — inherits it, and `cpuacct.usage_percpu` is their exact CPU time per core. With
//! tick-based accounting (no IRQ_TIME_ACCOUNTING) the softirq work a process triggers — veth
//! forwarding, NAT, XDP — runs in its context and is charged to it; softirq work deferred to
//! `ksoftirqd/N` is added from those threads' own counters.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

use super::cpu::{parse_process_ticks, ticks_per_second};

/// Where the cpuacct hierarchy is mounted.
const CPUACCT: &str = "/sys/fs/cgroup/cpuacct";

/// The benchmark's cpuacct group; the process leaves it and it is removed on drop.
#[derive(Debug)]
pub struct OwnCpu {
    dir: PathBuf,
    parent: PathBuf,
    ksoftirqd: Vec<(usize, i32)>,
}

impl OwnCpu {
    /// Creates the group `rvs-bench-NAME` and moves this process into it; `Ok(None)` when the
    /// machine has no cpuacct hierarchy (then only /proc/stat is read).
    pub fn enter(name: &str) -> Result<Option<OwnCpu>> {
        let root = Path::new(CPUACCT);
        if !root.join("cpuacct.usage_percpu").exists() {
            return Ok(None);
        }
        let parent = current_group(root).unwrap_or_else(|| root.to_path_buf());
        let dir = parent.join(format!("rvs-bench-{name}"));
        if !dir.exists() {
            fs::create_dir(&dir)
                .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        }
        let me = std::process::id().to_string();
        let procs = dir.join("cgroup.procs");
        fs::write(&procs, &me).map_err(|e| Error::io(format!("writing {}", procs.display()), e))?;
        Ok(Some(OwnCpu {
            dir,
            parent,
            ksoftirqd: ksoftirqd_threads(),
        }))
    }

    /// CPU nanoseconds per core so far: the group's plus the ksoftirqd threads'.
    pub fn per_core_ns(&self) -> Result<Vec<u64>> {
        let path = self.dir.join("cpuacct.usage_percpu");
        let text = fs::read_to_string(&path)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        let mut ns: Vec<u64> = text
            .split_whitespace()
            .map(|v| v.parse().unwrap_or(0))
            .collect();
        let tick_ns = 1e9 / ticks_per_second();
        for &(core, pid) in &self.ksoftirqd {
            let ticks = fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| parse_process_ticks(&s))
                .unwrap_or(0);
            if let Some(slot) = ns.get_mut(core) {
                *slot += (ticks as f64 * tick_ns) as u64;
            }
        }
        Ok(ns)
    }
}

impl Drop for OwnCpu {
    fn drop(&mut self) {
        // Back to where we came from, then the (now empty) group can go.
        let me = std::process::id().to_string();
        let _ = fs::write(self.parent.join("cgroup.procs"), me);
        if let Err(e) = fs::remove_dir(&self.dir) {
            eprintln!(
                "rvs bench: removing the cgroup {}: {e} (a process started by the benchmark \
                 may still be in it)",
                self.dir.display()
            );
        }
    }
}

/// This process's group in the cpuacct hierarchy (from /proc/self/cgroup).
fn current_group(root: &Path) -> Option<PathBuf> {
    let text = fs::read_to_string("/proc/self/cgroup").ok()?;
    text.lines().find_map(|l| {
        let mut parts = l.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        controllers
            .split(',')
            .any(|c| c == "cpuacct")
            .then(|| root.join(path.trim_start_matches('/')))
    })
}

/// (core, PID) of every `ksoftirqd/N` kernel thread.
fn ksoftirqd_threads() -> Vec<(usize, i32)> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let comm = fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if let Some(core) = comm.trim().strip_prefix("ksoftirqd/")
            && let Ok(core) = core.parse()
        {
            found.push((core, pid));
        }
    }
    found.sort_unstable();
    found
}
