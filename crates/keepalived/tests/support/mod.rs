//! Helpers of the root tests: the root gate, the binaries, a lab guard (`rvs lab down
//! --kill-all` on drop), process guards (killed by PID on drop), a client that requests
//! without pause from the lab's client namespace, and bounded waits.
#![allow(dead_code)]

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

// Not every test binary uses each of these.
#[allow(unused_imports)]
pub use rvs_testkit::{ns_exec, root_or_skip, spawn_in_netns, wait_until};

/// rvs-keepalived under test.
pub const KEEPALIVED: &str = env!("CARGO_BIN_EXE_rvs-keepalived");

/// Another binary of the workspace, built next to ours by `cargo build --bins` (or in
/// `$RVS_BIN_DIR`, e.g. for the release-built bench with debug-built peers).
pub fn bin(name: &str) -> PathBuf {
    let p = match std::env::var_os("RVS_BIN_DIR") {
        Some(d) => Path::new(&d).join(name),
        None => Path::new(KEEPALIVED).with_file_name(name),
    };
    assert!(
        p.exists(),
        "{} missing: run `cargo build --workspace --bins` first",
        p.display()
    );
    p
}

/// A name unique to this process and call: `k<pid><tag><n>`.
pub fn unique_name(tag: &str) -> String {
    rvs_testkit::unique_name("k", tag)
}

/// A lab removed with `rvs lab down --kill-all` when dropped, also on panic.
pub struct Lab {
    /// What `rvs lab up` printed.
    pub info: Value,
    name: String,
}

impl Lab {
    /// `rvs lab up ha --name NAME`.
    pub fn up_ha(name: &str) -> Lab {
        let out = Command::new(bin("rvs"))
            .args(["lab", "up", "ha", "--name", name])
            .output()
            .expect("run rvs lab up");
        let mut lab = Lab {
            info: Value::Null,
            name: name.to_string(),
        };
        assert!(
            out.status.success(),
            "lab up: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let info: Value = serde_json::from_slice(&out.stdout).expect("lab JSON");
        for ns in [
            &info["namespaces"]["director"],
            &info["namespaces"]["director2"],
        ] {
            let ns = ns.as_str().expect("director namespace");
            let _ = ns_exec(ns, &["ethtool", "-K", "eth0", "tx", "off"]);
        }
        lab.info = info;
        lab
    }

    /// A namespace name by role.
    pub fn ns(&self, role: &str) -> String {
        self.info["namespaces"][role]
            .as_str()
            .unwrap_or_else(|| panic!("no namespace {role}"))
            .to_string()
    }

    /// The VIP.
    pub fn vip(&self) -> String {
        self.info["addresses"]["vip"]["v4"]
            .as_str()
            .expect("vip")
            .to_string()
    }

    /// A real server's address.
    pub fn rip(&self, rs: &str) -> String {
        self.info["addresses"][rs]["v4"]
            .as_str()
            .expect("rip")
            .to_string()
    }

    /// The lab's state directory (built-in servers' PID files).
    pub fn state_dir(&self) -> PathBuf {
        PathBuf::from(self.info["state_dir"].as_str().expect("state_dir"))
    }

    /// Stops the built-in HTTP server of `rs` ("rs1").
    pub fn stop_server(&self, rs: &str) {
        let pid: i32 = fs::read_to_string(self.state_dir().join(format!("{rs}.pid")))
            .expect("server pid file")
            .trim()
            .parse()
            .expect("pid");
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        wait_until("server gone", Duration::from_secs(5), || {
            !Path::new(&format!("/proc/{pid}")).exists()
                || fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z"))
        });
    }

    /// Starts the built-in server of `rs` again, as `rvs lab up` started it.
    pub fn start_server(&self, rs: &str) {
        let dir = self.state_dir();
        let pid_file = dir.join(format!("{rs}.pid"));
        let _ = fs::remove_file(&pid_file);
        let log = fs::File::create(dir.join(format!("{rs}.log"))).expect("log");
        // `setsid -f` forks: the server is nobody's child here, `lab down` stops it.
        let status = Command::new("setsid")
            .arg("-f")
            .arg(bin("rvs"))
            .args(["serve", "--netns", &self.ns(rs), "--name", rs, "--pid-file"])
            .arg(&pid_file)
            .args(["--http", "0.0.0.0:80", "--udp-echo", "0.0.0.0:7"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .status()
            .expect("start rvs serve");
        assert!(status.success(), "setsid rvs serve: {status}");
        wait_until("server pid file", Duration::from_secs(10), || {
            pid_file.exists()
        });
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = Command::new(bin("rvs"))
            .args(["lab", "down", "--name", &self.name, "--kill-all"])
            .output();
    }
}

/// A process killed (by PID) when dropped.
pub struct Proc {
    /// The child.
    pub child: Child,
    /// Its log file.
    pub log: PathBuf,
}

impl Proc {
    /// Starts `cmd` with output to `log`.
    pub fn spawn(mut cmd: Command, log: &Path) -> Proc {
        let f = fs::File::create(log).expect("log file");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(f.try_clone().expect("log"))
            .stderr(f)
            .spawn()
            .expect("spawn");
        Proc {
            child,
            log: log.to_path_buf(),
        }
    }

    /// Its PID.
    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    /// Sends a signal.
    pub fn signal(&self, s: Signal) {
        let _ = kill(self.pid(), s);
    }

    /// Waits (bounded) for it to exit; returns its exit code.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = kill(self.pid(), Signal::SIGTERM);
            if self.wait_exit(Duration::from_secs(5)).is_none() {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
    }
}

/// Starts rvsd on eth0 of `ns` with its socket at `sock`.
pub fn start_rvsd(ns: &str, sock: &Path, log: &Path) -> Proc {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", ns])
        .arg(bin("rvsd"))
        .args(["-i", "eth0", "--socket"])
        .arg(sock);
    let p = Proc::spawn(c, log);
    wait_until("rvsd socket", Duration::from_secs(20), || sock.exists());
    p
}

/// Starts rvs-keepalived in the foreground in `ns`, talking to rvsd at `sock`.
pub fn start_ours(
    ns: &str,
    conf: &Path,
    sock: &Path,
    dir: &Path,
    tag: &str,
    extra: &[&str],
) -> Proc {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", ns])
        .arg(KEEPALIVED)
        .args(["-n", "-l", "-f"])
        .arg(conf)
        .arg("-p")
        .arg(dir.join(format!("{tag}.pid")))
        .args(extra)
        .env("RVS_SOCKET", sock);
    Proc::spawn(c, &dir.join(format!("{tag}.log")))
}

/// Debian's keepalived (VRRP only) in `ns`; its PID files go to `dir`.
pub struct Debian {
    /// The parent process.
    pub proc: Proc,
    /// The VRRP child's PID file.
    pub vrrp_pid: PathBuf,
}

impl Debian {
    /// Starts `keepalived -n -l -D -P` with `conf`.
    pub fn start(ns: &str, conf: &Path, dir: &Path, tag: &str) -> Debian {
        let vrrp_pid = dir.join(format!("{tag}-vrrp.pid"));
        let mut c = Command::new("ip");
        c.args([
            "netns",
            "exec",
            ns,
            "keepalived",
            "-n",
            "-l",
            "-D",
            "-P",
            "-f",
        ])
        .arg(conf)
        .arg("-p")
        .arg(dir.join(format!("{tag}.pid")))
        .arg("-r")
        .arg(&vrrp_pid)
        .arg("-c")
        .arg(dir.join(format!("{tag}-check.pid")));
        let proc = Proc::spawn(c, &dir.join(format!("{tag}.log")));
        Debian { proc, vrrp_pid }
    }

    /// Kills the parent and its VRRP child at once, like a crash.
    pub fn crash(&mut self) {
        let child = fs::read_to_string(&self.vrrp_pid)
            .ok()
            .and_then(|t| t.trim().parse::<i32>().ok());
        // The VRRP child first: killed after its parent, it would get the parent-death
        // SIGTERM and send a priority-0 advert, which is a planned stop, not a crash.
        if let Some(c) = child {
            let _ = kill(Pid::from_raw(c), Signal::SIGKILL);
        }
        self.proc.signal(Signal::SIGKILL);
        let _ = self.proc.wait_exit(Duration::from_secs(5));
    }
}

impl Drop for Debian {
    fn drop(&mut self) {
        let child = fs::read_to_string(&self.vrrp_pid)
            .ok()
            .and_then(|t| t.trim().parse::<i32>().ok());
        self.proc.signal(Signal::SIGTERM);
        let _ = self.proc.wait_exit(Duration::from_secs(5));
        if let Some(c) = child
            && fs::read_to_string(format!("/proc/{c}/comm")).is_ok_and(|s| s.trim() == "keepalived")
        {
            let _ = kill(Pid::from_raw(c), Signal::SIGKILL);
        }
    }
}

/// Whether `ns` holds `addr` on eth0.
pub fn has_addr(ns: &str, addr: &str) -> bool {
    let out = Command::new("ip")
        .args(["-n", ns, "-o", "addr", "show", "dev", "eth0"])
        .output()
        .expect("ip addr");
    String::from_utf8_lossy(&out.stdout).contains(&format!("inet {addr}/"))
}

/// `rvsadm -L -n` against rvsd at `sock`.
pub fn rvsadm_list(sock: &Path) -> String {
    let out = Command::new(bin("rvsadm"))
        .args(["-L", "-n"])
        .env("RVS_SOCKET", sock)
        .output()
        .expect("rvsadm");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One request's outcome: the real server's name, or why it failed.
pub type Answer = Result<String, String>;

fn get(addr: SocketAddr) -> Answer {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500))
        .map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(1)))
        .map_err(|e| e.to_string())?;
    s.write_all(b"GET / HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("write: {e}"))?;
    let mut buf = String::new();
    s.read_to_string(&mut buf)
        .map_err(|e| format!("read: {e}"))?;
    let body = buf.split("\r\n\r\n").nth(1).ok_or("no body")?;
    Ok(body.trim().to_string())
}

/// Clients requesting without pause (one at a time) from the client namespace, until
/// stopped or bounded by `limit` and 200 000 requests.
pub struct Clients {
    answers: Arc<Mutex<Vec<(Instant, Answer)>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Clients {
    /// Starts requesting `http://VIP/` from `ns`.
    pub fn start(ns: &str, vip: &str, limit: Duration) -> Clients {
        let addr: SocketAddr = format!("{vip}:80").parse().expect("vip");
        let answers = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (a, s) = (answers.clone(), stop.clone());
        let thread = spawn_in_netns(ns, move || {
            let start = Instant::now();
            let mut n = 0;
            while !s.load(Ordering::Relaxed) && start.elapsed() < limit && n < 200_000 {
                let started = Instant::now();
                let r = get(addr);
                a.lock().expect("answers").push((started, r.clone()));
                if r.is_err() {
                    // Do not spin on a dead VIP.
                    std::thread::sleep(Duration::from_millis(20));
                }
                n += 1;
            }
        });
        Clients {
            answers,
            stop,
            thread: Some(thread),
        }
    }

    /// Answers to the requests started after `since`.
    pub fn since(&self, since: Instant) -> Vec<Answer> {
        self.answers
            .lock()
            .expect("answers")
            .iter()
            .filter(|(t, _)| *t > since)
            .map(|(_, a)| a.clone())
            .collect()
    }

    /// Waits until `n` answers arrived after `since`, then returns them.
    pub fn next(&self, since: Instant, n: usize, limit: Duration) -> Vec<Answer> {
        wait_until("client answers", limit, || self.since(since).len() >= n);
        self.since(since).into_iter().take(n).collect()
    }
}

impl Drop for Clients {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A keepalived.conf for one director of the HA lab: a VRRP instance for the VIP and a DR
/// virtual server over both real servers with TCP checks.
pub fn conf(state: &str, priority: u8, vip: &str, rips: [&str; 2], with_lvs: bool) -> String {
    let mut s = format!(
        "global_defs {{\n    router_id {state}{priority}\n}}\n\
         vrrp_instance VI_1 {{\n    state {state}\n    interface eth0\n    virtual_router_id 51\n    \
         priority {priority}\n    advert_int 1\n    virtual_ipaddress {{\n        {vip}/32 dev eth0\n    }}\n}}\n"
    );
    if with_lvs {
        s.push_str(&lvs_conf(vip, rips, 1));
    }
    s
}

/// The virtual server part: delay_loop 1, connect_timeout 1, retry 1; rs2 has `weight`.
pub fn lvs_conf(vip: &str, rips: [&str; 2], weight2: u32) -> String {
    let rs = |rip: &str, w: u32| {
        format!(
            "    real_server {rip} 80 {{\n        weight {w}\n        TCP_CHECK {{\n            \
             connect_timeout 1\n            retry 1\n            delay_before_retry 1\n        }}\n    }}\n"
        )
    };
    format!(
        "virtual_server {vip} 80 {{\n    delay_loop 1\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n{}{}}}\n",
        rs(rips[0], 1),
        rs(rips[1], weight2)
    )
}
