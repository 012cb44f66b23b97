//! Network namespaces the tests create: unique names (with the pid), loopback up, deleted on
//! drop; veth pairs with TX checksum offload off; entering a namespace on one thread.

use std::fs::File;
use std::marker::PhantomData;
use std::process::Command;
use std::thread::JoinHandle;

use nix::sched::{CloneFlags, setns};

use crate::process::{run_ok, sh};

/// A named network namespace with loopback up, deleted when dropped (also on panic).
#[derive(Debug)]
pub struct NetNs {
    name: String,
}

impl NetNs {
    /// Creates namespace `name` (removing one a killed earlier run left behind) and sets `lo`
    /// up.
    pub fn new(name: impl Into<String>) -> NetNs {
        let name = name.into();
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        run_ok(Command::new("ip").args(["netns", "add", &name]));
        // From here on, dropping `ns` deletes it.
        let ns = NetNs { name };
        run_ok(Command::new("ip").args(["-n", &ns.name, "link", "set", "lo", "up"]));
        ns
    }

    /// Creates `<prefix>-<pid>-<tag>` as [`NetNs::new`] does.
    pub fn unique(prefix: &str, tag: &str) -> NetNs {
        NetNs::new(format!("{prefix}-{}-{tag}", std::process::id()))
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs a shell snippet (`sh -c`) inside the namespace; panics with its output on failure.
    pub fn exec(&self, script: &str) {
        run_ok(
            Command::new("ip")
                .args(["netns", "exec", &self.name, "sh", "-c"])
                .arg(script),
        );
    }

    /// Creates veth pair `a`–`b` with both ends in this namespace, up, TX checksum offload
    /// off.
    pub fn veth_pair(&self, a: &str, b: &str) {
        run_ok(Command::new("ip").args([
            "-n", &self.name, "link", "add", a, "type", "veth", "peer", "name", b,
        ]));
        for dev in [a, b] {
            self.exec(&format!(
                "ethtool -K {dev} tx off >/dev/null; ip link set {dev} up"
            ));
        }
    }

    /// Enters the namespace on this thread until the guard drops.
    pub fn enter(&self) -> NsGuard {
        let home = File::open("/proc/thread-self/ns/net").expect("open own netns");
        let target = File::open(format!("/run/netns/{}", self.name)).expect("open netns");
        setns(&target, CloneFlags::CLONE_NEWNET).expect("setns");
        NsGuard {
            home,
            _not_send: PhantomData,
        }
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// While alive, this thread is in another namespace; it must not cross threads.
pub struct NsGuard {
    home: File,
    _not_send: PhantomData<*const ()>,
}

impl Drop for NsGuard {
    fn drop(&mut self) {
        let _ = setns(&self.home, CloneFlags::CLONE_NEWNET);
    }
}

/// Creates veth `a` in `na` and `b` in `nb`, both up, TX checksum offload off.
pub fn veth(na: &NetNs, a: &str, nb: &NetNs, b: &str) {
    sh(&format!(
        "ip -n {} link add {a} type veth peer name {b} netns {}",
        na.name, nb.name
    ));
    na.exec(&format!(
        "ethtool -K {a} tx off >/dev/null; ip link set {a} up"
    ));
    nb.exec(&format!(
        "ethtool -K {b} tx off >/dev/null; ip link set {b} up"
    ));
}

/// Runs `f` on a fresh thread that has entered network namespace `ns` (the rest of the
/// process stays where it is); sockets it creates stay in `ns` and may be returned. A panic
/// in `f` is passed on.
pub fn in_netns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    match spawn_in_netns(ns, f).join() {
        Ok(v) => v,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Starts `f` on a fresh thread that has entered network namespace `ns`.
pub fn spawn_in_netns<T: Send + 'static>(
    ns: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> JoinHandle<T> {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let file = File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
        setns(&file, CloneFlags::CLONE_NEWNET).expect("setns");
        f()
    })
}
