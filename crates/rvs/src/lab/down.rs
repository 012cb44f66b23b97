//! `rvs lab down`: stop the recorded servers, delete the namespaces, remove the state.
//!
//! Works on half-built labs too: every namespace name the lab could have is tried.

use std::fs;

use super::plan::Role;
use super::state;
use super::validate_name;
use crate::error::{Error, Result};
use crate::exec;

/// What `lab down` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DownReport {
    /// Namespaces deleted.
    pub namespaces: Vec<String>,
    /// Built-in servers stopped: (name, PID).
    pub stopped: Vec<(String, i32)>,
    /// Other processes found in the lab's namespaces and left alone (without `--kill-all`);
    /// their namespace lives on, unnamed, until they exit.
    pub left_running: Vec<(String, i32)>,
    /// Other processes stopped because of `--kill-all`: (namespace, PID).
    pub killed: Vec<(String, i32)>,
}

/// Removes lab `name`. With `kill_all`, also stops every other process inside its namespaces
/// (rvsd, nginx started by hand). Keeps going after a failure and reports all of them.
pub fn down(name: &str, kill_all: bool) -> Result<DownReport> {
    validate_name(name)?;
    let dir = state::dir(name);
    let mut report = DownReport::default();
    let mut failures = Vec::new();
    for (server, pid) in state::recorded_servers(&dir) {
        let netns = format!("{name}-{server}");
        if state::is_our_server(pid, &netns) {
            match state::stop(pid) {
                Ok(()) => report.stopped.push((server, pid)),
                Err(e) => failures.push(e.to_string()),
            }
        }
    }
    for role in Role::ALL {
        let netns = role.netns(name);
        if !state::netns_exists(&netns) {
            continue;
        }
        match exec::run("ip", &["netns", "pids", &netns]) {
            Ok(out) => {
                for pid in out.split_whitespace().filter_map(|p| p.parse::<i32>().ok()) {
                    // A built-in server whose PID file was never written is still ours.
                    if state::is_our_server(pid, &netns) {
                        match state::stop(pid) {
                            Ok(()) => report.stopped.push((role.as_str().to_string(), pid)),
                            Err(e) => failures.push(e.to_string()),
                        }
                        continue;
                    }
                    if !kill_all {
                        report.left_running.push((netns.clone(), pid));
                        continue;
                    }
                    match state::stop(pid) {
                        Ok(()) => report.killed.push((netns.clone(), pid)),
                        Err(e) => failures.push(e.to_string()),
                    }
                }
            }
            Err(e) => failures.push(e.to_string()),
        }
        if matches!(role, Role::Rs1 | Role::Rs2)
            && let Err(e) = crate::realserver::forget_saved_arp_in(&netns)
        {
            failures.push(e.to_string());
        }
        match exec::run("ip", &["netns", "del", &netns]) {
            Ok(_) => report.namespaces.push(netns),
            Err(e) => failures.push(e.to_string()),
        }
    }
    if dir.exists()
        && let Err(e) = fs::remove_dir_all(&dir)
    {
        failures.push(format!("removing {}: {e}", dir.display()));
    }
    if failures.is_empty() {
        Ok(report)
    } else {
        Err(Error::Invalid(format!(
            "lab `{name}` not fully removed: {}",
            failures.join("; ")
        )))
    }
}
