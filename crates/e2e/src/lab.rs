//! A lab (`rvs lab up`) with rvsd running in its director namespace, removed on drop.
//!
//! Every test builds its own lab, named after the process and the test, so tests can run in
//! parallel. rvsd runs as a child process (`ip netns exec DIRECTOR rvsd …`) with its control
//! socket, state file, counters file and log in `/run/rvs/<lab>/`. Dropping the [`Lab`]
//! (also on panic) kills rvsd by PID, runs `rvs lab down --kill-all` and removes that
//! directory; on panic it prints the end of rvsd's log first.

use std::fs;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde::Deserialize;

use crate::{bin, bin_dir, ns_cmd, run, run_ok, wait_until};

/// How long rvsd may take to attach and answer on its socket.
const RVSD_START: Duration = Duration::from_secs(20);

/// rvsd's log filter in the tests (override with RVS_E2E_LOG, e.g. `debug`).
fn log_level() -> String {
    std::env::var("RVS_E2E_LOG").unwrap_or_else(|_| "info".to_string())
}

/// A lab plus the rvsd serving it.
pub struct Lab {
    /// What `rvs lab up` printed.
    pub info: LabInfo,
    run_dir: PathBuf,
    rvsd: Option<Child>,
    rvsd_extra: Vec<String>,
}

impl Lab {
    /// `rvs lab up TOPOLOGY --name e<pid><tag><n> [--ipv6]`; panics when it fails.
    pub fn up(topology: &str, tag: &str, ipv6: bool) -> Lab {
        let name = rvs_testkit::unique_name("e", tag);
        let mut cmd = Command::new(bin("rvs"));
        cmd.args(["lab", "up", topology, "--name", &name]);
        if ipv6 {
            cmd.arg("--ipv6");
        }
        let out = run(&mut cmd);
        let run_dir = PathBuf::from(format!("/run/rvs/{name}"));
        // The guard exists before anything is checked, so a half-built lab is removed too.
        let mut lab = Lab {
            info: LabInfo {
                name: name.clone(),
                ..LabInfo::default()
            },
            run_dir,
            rvsd: None,
            rvsd_extra: Vec::new(),
        };
        assert!(
            out.status.success(),
            "rvs lab up {topology} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        lab.info = serde_json::from_slice(&out.stdout).expect("rvs lab up prints its JSON");
        fs::create_dir_all(&lab.run_dir).expect("create the lab's run directory");
        lab
    }

    /// The lab's name (namespace prefix).
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// The client's namespace.
    pub fn client(&self) -> &str {
        &self.info.namespaces.client
    }

    /// The director's namespace (where rvsd runs).
    pub fn director(&self) -> &str {
        &self.info.namespaces.director
    }

    /// The namespace of real server `i` (1 or 2).
    pub fn rs(&self, i: usize) -> &str {
        match i {
            1 => &self.info.namespaces.rs1,
            2 => &self.info.namespaces.rs2,
            _ => panic!("the lab has real servers 1 and 2, not {i}"),
        }
    }

    /// The namespace holding the LAN bridge.
    pub fn lan(&self) -> &str {
        &self.info.namespaces.lan
    }

    /// The VIP in the family asked for.
    pub fn vip(&self, v6: bool) -> IpAddr {
        pick(&self.info.addresses.vip, v6)
    }

    /// The client's address.
    pub fn cip(&self, v6: bool) -> IpAddr {
        pick(&self.info.addresses.client, v6)
    }

    /// Real server `i`'s address (RIP).
    pub fn rip(&self, i: usize, v6: bool) -> IpAddr {
        match i {
            1 => pick(&self.info.addresses.rs1, v6),
            2 => pick(&self.info.addresses.rs2, v6),
            _ => panic!("the lab has real servers 1 and 2, not {i}"),
        }
    }

    /// A file in the lab's run directory (`/run/rvs/<lab>/NAME`).
    pub fn path(&self, name: &str) -> PathBuf {
        self.run_dir.join(name)
    }

    /// rvsd's control socket.
    pub fn socket(&self) -> PathBuf {
        self.path("rvsd.sock")
    }

    /// The `--state` file rvsd is given by [`Lab::start_rvsd_with_state`].
    pub fn state_file(&self) -> PathBuf {
        self.path("state.json")
    }

    /// Starts rvsd on the director's interfaces and waits until its socket answers.
    pub fn start_rvsd(&mut self) {
        self.start_rvsd_with(&[]);
    }

    /// As [`Lab::start_rvsd`], keeping the configuration in [`Lab::state_file`].
    pub fn start_rvsd_with_state(&mut self) {
        let state = self.state_file().display().to_string();
        self.start_rvsd_with(&["--state", &state]);
    }

    /// As [`Lab::start_rvsd`], with more arguments for rvsd (e.g. `--metrics ADDR`,
    /// `--no-fast-path`).
    pub fn start_rvsd_with(&mut self, extra: &[&str]) {
        self.rvsd_extra = extra.iter().map(|a| a.to_string()).collect();
        self.spawn_rvsd();
    }

    /// Starts rvsd again with the arguments of the last start.
    pub fn restart_rvsd(&mut self) {
        assert!(self.rvsd.is_none(), "rvsd is still running");
        self.spawn_rvsd();
    }

    fn spawn_rvsd(&mut self) {
        assert!(self.rvsd.is_none(), "rvsd already runs");
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path("rvsd.log"))
            .expect("open rvsd.log");
        let mut cmd = ns_cmd(self.director(), bin("rvsd"));
        for iface in &self.info.interfaces.director {
            cmd.args(["--interface", iface]);
        }
        cmd.arg("--socket")
            .arg(self.socket())
            .arg("--stats-file")
            .arg(self.path("counters.json"))
            .args(["--log-level", &log_level()])
            .args(&self.rvsd_extra)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log);
        let child = cmd.spawn().expect("spawn rvsd");
        self.rvsd = Some(child);
        wait_until("rvsd to answer on its socket", RVSD_START, || {
            if let Some(status) = self.rvsd.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                panic!("rvsd exited at start ({status}):\n{}", self.rvsd_log());
            }
            self.try_rvsadm(&["-L", "-n"]).status.success()
        });
    }

    /// rvsd's PID.
    pub fn rvsd_pid(&self) -> i32 {
        self.rvsd.as_ref().expect("rvsd runs").id() as i32
    }

    /// Whether rvsd still runs.
    pub fn rvsd_running(&mut self) -> bool {
        self.rvsd
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Sends `signal` to rvsd and waits (bounded) for it to exit.
    pub fn stop_rvsd(&mut self, signal: Signal) -> ExitStatus {
        let mut child = self.rvsd.take().expect("rvsd runs");
        let pid = Pid::from_raw(child.id() as i32);
        kill(pid, signal).expect("signal rvsd");
        let mut status = None;
        wait_until("rvsd to exit", Duration::from_secs(15), || {
            status = child.try_wait().expect("wait for rvsd");
            status.is_some()
        });
        status.expect("exited")
    }

    /// Everything rvsd logged so far.
    pub fn rvsd_log(&self) -> String {
        fs::read_to_string(self.path("rvsd.log")).unwrap_or_default()
    }

    /// `rvsadm ARGS` in the director namespace against this lab's rvsd.
    pub fn try_rvsadm(&self, args: &[&str]) -> Output {
        run(ns_cmd(self.director(), bin("rvsadm"))
            .args(args)
            .env("RVS_SOCKET", self.socket()))
    }

    /// `rvsadm ARGS`, which must succeed; returns its output.
    pub fn rvsadm(&self, args: &[&str]) -> String {
        let out = self.try_rvsadm(args);
        assert!(
            out.status.success(),
            "rvsadm {}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a shell script in the director namespace as an operator would: rvsadm on the
    /// PATH, `IPVSADM=rvsadm`, `RVS_SOCKET` set to this lab's rvsd. Returns its stdout.
    pub fn director_sh(&self, script: &str) -> String {
        let path = format!(
            "{}:{}",
            bin_dir().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        run_ok(
            ns_cmd(self.director(), "sh")
                .args(["-ec", script])
                .env("PATH", path)
                .env("IPVSADM", "rvsadm")
                .env("RVS_SOCKET", self.socket()),
        )
    }

    /// The `rvsadm -L -n --stats --exact` counters of service `proto` (`TCP`, `UDP`) `vip`.
    pub fn service_stats(&self, proto: &str, vip: SocketAddr) -> ServiceStats {
        let text = self.rvsadm(&["-L", "-n", "--stats", "--exact"]);
        let prefix = format!("{proto}  {vip} ");
        let line = text
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no line for {proto} {vip} in:\n{text}"));
        let n: Vec<u64> = line
            .split_whitespace()
            .skip(2)
            .map(|c| c.parse().unwrap_or_else(|_| panic!("a number in {line:?}")))
            .collect();
        assert_eq!(n.len(), 5, "five counters in {line:?}");
        ServiceStats {
            conns: n[0],
            in_pkts: n[1],
            out_pkts: n[2],
            in_bytes: n[3],
            out_bytes: n[4],
        }
    }

    /// (ActiveConn, InActConn) of destination `rip` as `rvsadm -L -n` lists it (first match).
    pub fn dest_conns(&self, rip: SocketAddr) -> (u64, u64) {
        let text = self.rvsadm(&["-L", "-n"]);
        let prefix = format!("-> {rip} ");
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(&prefix))
            .unwrap_or_else(|| panic!("no destination {rip} in:\n{text}"));
        let n: Vec<u64> = line
            .split_whitespace()
            .skip(3)
            .map(|c| c.parse().unwrap_or_else(|_| panic!("a number in {line:?}")))
            .collect();
        assert_eq!(n.len(), 3, "weight, active, inactive in {line:?}");
        (n[1], n[2])
    }

    /// The data plane's counters: SIGUSR1 makes rvsd write them to its `--stats-file`.
    pub fn counters(&self) -> serde_json::Value {
        let file = self.path("counters.json");
        let _ = fs::remove_file(&file);
        kill(Pid::from_raw(self.rvsd_pid()), Signal::SIGUSR1).expect("SIGUSR1 to rvsd");
        let mut text = String::new();
        wait_until(
            "rvsd to write its counters",
            Duration::from_secs(10),
            || {
                text = fs::read_to_string(&file).unwrap_or_default();
                !text.is_empty()
            },
        );
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("counters are JSON ({e}): {text}"))
    }
}

/// A service's counters as `rvsadm -L --stats` shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceStats {
    /// Connections scheduled.
    pub conns: u64,
    /// Packets in (client to real server).
    pub in_pkts: u64,
    /// Packets out (real server to client, through the director).
    pub out_pkts: u64,
    /// Bytes in.
    pub in_bytes: u64,
    /// Bytes out.
    pub out_bytes: u64,
}

/// XDP programs attached in namespace `ns`, read from `ip -d link show`:
/// (interface, program id, program name).
pub fn xdp_programs(ns: &str) -> Vec<(String, u32, String)> {
    let text = run_ok(Command::new("ip").args(["-n", ns, "-d", "link", "show"]));
    let mut out = Vec::new();
    let mut iface = String::new();
    for line in text.lines() {
        if !line.starts_with(' ') {
            // "2: eth0@if4: <...> ..."
            iface = line
                .split(':')
                .nth(1)
                .map(|s| s.trim().split('@').next().unwrap_or("").to_string())
                .unwrap_or_default();
        } else if let Some(rest) = line.trim().strip_prefix("prog/xdp id ") {
            let mut words = rest.split_whitespace();
            let id = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
            let name = match (words.next(), words.next()) {
                (Some("name"), Some(n)) => n.to_string(),
                _ => String::new(),
            };
            out.push((iface.clone(), id, name));
        }
    }
    out
}

impl Drop for Lab {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = self.rvsd_log();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            eprintln!(
                "--- rvsd log of lab {} (end) ---\n{}",
                self.name(),
                tail.join("\n")
            );
            // For a look at a failed lab before it goes: RVS_E2E_HOLD=SECONDS.
            if let Some(secs) = std::env::var("RVS_E2E_HOLD")
                .ok()
                .and_then(|s| s.parse().ok())
            {
                eprintln!("holding lab {} for {secs} s (RVS_E2E_HOLD)", self.name());
                std::thread::sleep(Duration::from_secs(secs));
            }
        }
        if let Some(mut child) = self.rvsd.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Ok(out) = Command::new(bin("rvs"))
            .args(["lab", "down", "--name", &self.info.name, "--kill-all"])
            .output()
            && !out.status.success()
        {
            eprintln!(
                "rvs lab down {}: {}",
                self.info.name,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let _ = fs::remove_dir_all(&self.run_dir);
    }
}

fn pick(a: &DualAddr, v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(a.v6.expect("the lab was built with --ipv6"))
    } else {
        IpAddr::V4(a.v4)
    }
}

/// What `rvs lab up` prints (the part the tests use).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LabInfo {
    /// The lab's name.
    pub name: String,
    /// Namespace names.
    pub namespaces: Namespaces,
    /// Host addresses.
    pub addresses: Addresses,
    /// Interfaces to start rvsd on.
    pub interfaces: Interfaces,
}

/// Namespace names of a lab.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Namespaces {
    /// The client.
    pub client: String,
    /// The director.
    pub director: String,
    /// The router (DR, TUN, HA).
    pub router: Option<String>,
    /// The namespace holding the LAN bridge.
    pub lan: String,
    /// Real server 1.
    pub rs1: String,
    /// Real server 2.
    pub rs2: String,
}

/// An address in both families (IPv6 only in `--ipv6` labs).
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct DualAddr {
    /// IPv4.
    pub v4: std::net::Ipv4Addr,
    /// IPv6.
    pub v6: Option<std::net::Ipv6Addr>,
}

impl Default for DualAddr {
    fn default() -> Self {
        DualAddr {
            v4: std::net::Ipv4Addr::UNSPECIFIED,
            v6: None,
        }
    }
}

/// Addresses of a lab's hosts.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Addresses {
    /// The client (CIP).
    pub client: DualAddr,
    /// The virtual IP.
    pub vip: DualAddr,
    /// The director's address on the real servers' side.
    pub dip: DualAddr,
    /// Real server 1.
    pub rs1: DualAddr,
    /// Real server 2.
    pub rs2: DualAddr,
}

/// rvsd's interfaces.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Interfaces {
    /// The director's.
    pub director: Vec<String>,
}
