//! A two-router LAN in network namespaces for root tests: namespace `a` runs our driver
//! (the test thread enters it), namespace `b` runs Debian's keepalived. Names carry the
//! pid; everything is removed on drop, also after a panic. Addresses: 198.51.100.0/24
//! and 2001:db8::/64 only, no route out.

use std::fs::File;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use nix::sched::{CloneFlags, setns};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use rvs_testkit::{NetNs, is_root, root_required, run, sh_ok, veth};

/// True when the test can run; prints why it skips otherwise; panics when it must run.
pub fn can_run() -> bool {
    let tools = ["ip", "keepalived", "ethtool"]
        .iter()
        .all(|t| sh_ok(&format!("command -v {t}")));
    if is_root() && tools {
        return true;
    }
    assert!(
        !root_required(),
        "root tests required but not root or ip/keepalived/ethtool missing"
    );
    eprintln!("skipping: needs root and ip, keepalived, ethtool");
    false
}

static SEQ: AtomicU32 = AtomicU32::new(0);

/// The LAN. The creating thread is inside namespace `a` until the lab is dropped.
pub struct Lab {
    pub a: NetNs,
    pub b: NetNs,
    pub if_a: String,
    pub if_b: String,
    pub dir: tempfile::TempDir,
    home: File,
    keepalived: Option<Keepalived>,
}

/// A keepalived run: the main process we started and its VRRP child.
pub struct Keepalived {
    child: Child,
    pub vrrp_pid: Pid,
}

impl Lab {
    pub fn new() -> Lab {
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let tag = format!("{}{n}", std::process::id());
        let home = File::open("/proc/thread-self/ns/net").expect("own netns");
        // Each namespace is deleted when dropped, also when a later step panics.
        let lab = Lab {
            a: NetNs::new(format!("rvsvrrp{tag}a")),
            b: NetNs::new(format!("rvsvrrp{tag}b")),
            if_a: format!("vr{tag}a"),
            if_b: format!("vr{tag}b"),
            dir: tempfile::tempdir().unwrap(),
            home,
            keepalived: None,
        };
        for ns in [&lab.a, &lab.b] {
            ns.exec(
                "sysctl -qw net.ipv6.conf.all.accept_dad=0 && \
                 sysctl -qw net.ipv6.conf.default.accept_dad=0",
            );
        }
        veth(&lab.a, &lab.if_a, &lab.b, &lab.if_b);
        for (ns, dev, v4, v6) in [
            (&lab.a, &lab.if_a, "198.51.100.1/24", "2001:db8::1/64"),
            (&lab.b, &lab.if_b, "198.51.100.2/24", "2001:db8::2/64"),
        ] {
            ns.exec(&format!(
                "ip addr add {v4} dev {dev} && ip addr add {v6} dev {dev} nodad"
            ));
        }
        let ns = File::open(format!("/run/netns/{}", lab.a.name())).unwrap();
        setns(&ns, CloneFlags::CLONE_NEWNET).expect("enter namespace a");
        // Wait for the link-local addresses (IPv6 adverts come from them).
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline
            && !(lab.has(lab.a.name(), &lab.if_a, "fe80::")
                && lab.has(lab.b.name(), &lab.if_b, "fe80::"))
        {
            thread::sleep(Duration::from_millis(20));
        }
        lab
    }

    /// Whether `dev` in `ns` has an address starting with `prefix` followed by '/'.
    pub fn has(&self, ns: &str, dev: &str, addr: &str) -> bool {
        let out = run(Command::new("ip").args(["-n", ns, "-o", "addr", "show", "dev", dev]));
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .any(|w| {
                w.starts_with(addr) && (addr.ends_with("::") || w[addr.len()..].starts_with('/'))
            })
    }

    /// Which side holds `vip`: (on a, on b).
    pub fn holders(&self, vip: &str) -> (bool, bool) {
        (
            self.has(self.a.name(), &self.if_a, vip),
            self.has(self.b.name(), &self.if_b, vip),
        )
    }

    /// Polls until `holders(vip) == want` or `limit` passes; returns the time it took.
    pub fn wait_for(&self, vip: &str, want: (bool, bool), limit: Duration) -> Option<Duration> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.holders(vip) == want {
                return Some(start.elapsed());
            }
            thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// Removes a VIP a crashed router left behind.
    pub fn clear(&self, ns: &str, dev: &str, vip_with_len: &str) {
        let _ = Command::new("ip")
            .args(["-n", ns, "addr", "del", vip_with_len, "dev", dev])
            .output();
    }

    /// Starts keepalived in `b` with `instance` (the body of a vrrp_instance block).
    pub fn start_keepalived(&mut self, instance: &str) {
        assert!(self.keepalived.is_none());
        let conf = self.dir.path().join("keepalived.conf");
        let body = format!(
            "global_defs {{\n  router_id rvs_interop\n}}\nvrrp_instance VI {{\n  interface {}\n{instance}\n}}\n",
            self.if_b
        );
        std::fs::write(&conf, body).unwrap();
        let pid = self.dir.path().join("ka.pid");
        let vrrp_pid = self.dir.path().join("vrrp.pid");
        let _ = std::fs::remove_file(&vrrp_pid);
        let log = File::create(self.dir.path().join("keepalived.log")).unwrap();
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                self.b.name(),
                "keepalived",
                "-n",
                "-l",
                "-D",
                "-P",
                "-f",
            ])
            .arg(&conf)
            .arg("-p")
            .arg(&pid)
            .arg("-r")
            .arg(&vrrp_pid)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("keepalived");
        let deadline = Instant::now() + Duration::from_secs(10);
        let vrrp = loop {
            if let Some(p) = std::fs::read_to_string(&vrrp_pid)
                .ok()
                .and_then(|s| s.trim().parse::<i32>().ok())
            {
                break Pid::from_raw(p);
            }
            assert!(
                Instant::now() < deadline,
                "keepalived did not start: {}",
                self.log()
            );
            thread::sleep(Duration::from_millis(20));
        };
        self.keepalived = Some(Keepalived {
            child,
            vrrp_pid: vrrp,
        });
    }

    /// keepalived's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("keepalived.log")).unwrap_or_default()
    }

    /// Freezes keepalived's VRRP process (a crash as the network sees it).
    pub fn freeze_keepalived(&self) {
        let k = self.keepalived.as_ref().expect("running");
        kill(k.vrrp_pid, Signal::SIGSTOP).unwrap();
    }

    /// Sends SIGTERM (a planned stop) without waiting for the exit.
    pub fn terminate_keepalived(&self) {
        if let Some(k) = &self.keepalived {
            let _ = kill(
                Pid::from_raw(i32::try_from(k.child.id()).unwrap()),
                Signal::SIGTERM,
            );
        }
    }

    /// Stops keepalived: gracefully (SIGTERM to the process we started) or by SIGKILL to
    /// both of its processes.
    pub fn stop_keepalived(&mut self, graceful: bool) {
        let Some(mut k) = self.keepalived.take() else {
            return;
        };
        let main = Pid::from_raw(i32::try_from(k.child.id()).unwrap());
        if graceful {
            let _ = kill(main, Signal::SIGTERM);
        } else {
            let _ = kill(k.vrrp_pid, Signal::SIGKILL);
            let _ = kill(main, Signal::SIGKILL);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if k.child.try_wait().ok().flatten().is_some() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = kill(k.vrrp_pid, Signal::SIGKILL);
        let _ = k.child.kill();
        let _ = k.child.wait();
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(k) = &self.keepalived {
            let _ = kill(k.vrrp_pid, Signal::SIGCONT);
        }
        self.stop_keepalived(false);
        let _ = setns(&self.home, CloneFlags::CLONE_NEWNET);
        // The namespaces are deleted next, as fields.
    }
}
