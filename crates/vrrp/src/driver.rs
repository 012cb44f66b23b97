//! Runs an [`Engine`] on real interfaces with plain threads: one engine thread that owns
//! the engine and performs its actions, one receive thread per VRRP socket, one thread
//! watching interfaces, one per tracked `vrrp_script`. They talk over a channel, so the
//! engine sees one input at a time in arrival order, as in keepalived's single thread.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::action::{Action, StateChange};
use crate::config::{Config, ScriptConfig, VirtualIp};
use crate::error::{ConfigError, Error};
use crate::events::{Engine, InstanceStatus, LinkState, Received};
use crate::exec;
use crate::netlink::Netlink;
use crate::network::{self, Announcer, InterfaceInfo, VrrpSocket};

/// How often interfaces are re-read for link and address changes.
pub const LINK_POLL: Duration = Duration::from_millis(100);

enum Msg {
    Packet {
        interface: String,
        src: IpAddr,
        dst: IpAddr,
        ttl: u8,
        payload: Vec<u8>,
    },
    Link(String, LinkState),
    Script(String, bool),
    Reconfigure(
        Config,
        Vec<(String, LinkState)>,
        Sender<Result<(), ConfigError>>,
    ),
    Shutdown,
    Abort,
}

/// A running VRRP process. Dropping it shuts it down like [`Driver::shutdown`].
#[derive(Debug)]
pub struct Driver {
    tx: Sender<Msg>,
    engine: Option<JoinHandle<()>>,
    helpers: Vec<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    status: Arc<Mutex<Vec<InstanceStatus>>>,
    /// The VRRP sockets opened: (interface, IPv6) -> joined the multicast group.
    families: HashMap<(String, bool), bool>,
    /// Running `vrrp_script` threads with their own stop flags.
    scripts: HashMap<String, (ScriptConfig, Arc<AtomicBool>)>,
    /// What the link monitor watches (changes on reconfiguration).
    watch: Arc<Mutex<Watch>>,
}

/// The interfaces the link monitor reads, and the VIPs that are never a primary address.
#[derive(Debug, Default)]
struct Watch {
    names: Vec<String>,
    vips: HashSet<IpAddr>,
}

/// Every VIP and excluded VIP of `config`.
fn all_vips(config: &Config) -> HashSet<IpAddr> {
    config
        .instances
        .iter()
        .flat_map(|i| {
            i.virtual_ipaddresses
                .iter()
                .chain(&i.virtual_ipaddresses_excluded)
        })
        .map(|v| v.addr)
        .collect()
}

/// The sockets `config` needs: (interface, IPv6) -> whether some instance is multicast.
fn families(config: &Config) -> HashMap<(String, bool), bool> {
    let mut families: HashMap<(String, bool), bool> = HashMap::new();
    for i in &config.instances {
        let multicast = families
            .entry((i.interface.clone(), i.is_ipv6()))
            .or_default();
        *multicast |= i.unicast_peers.is_empty();
    }
    families
}

type Sockets = HashMap<(String, bool), Arc<VrrpSocket>>;

impl Driver {
    /// Validates `config`, opens every socket and starts the instances. State changes
    /// (instances and sync groups) arrive on the returned channel.
    pub fn start(config: Config) -> Result<(Driver, Receiver<StateChange>), Error> {
        let vips = all_vips(&config);
        let families = families(&config);
        let engine = Engine::new(config)?;
        let table = network::interfaces()?;
        for name in families.keys().map(|(n, _)| n) {
            if !table.contains_key(name) {
                return Err(Error::NoInterface(name.clone()));
            }
        }
        let mut sockets: Sockets = HashMap::new();
        for ((name, v6), multicast) in &families {
            let s = VrrpSocket::open(name, *v6, *multicast)?;
            sockets.insert((name.clone(), *v6), Arc::new(s));
        }
        let netlink = Netlink::open()?;

        let (tx, rx) = mpsc::channel();
        let (obs_tx, obs_rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let status = Arc::new(Mutex::new(engine.instances()));
        let mut helpers = Vec::new();
        for ((name, _), sock) in &sockets {
            helpers.push(spawn_receiver(
                name.clone(),
                sock.clone(),
                tx.clone(),
                stop.clone(),
            ));
        }
        let mut scripts = HashMap::new();
        for script in engine.tracked_scripts() {
            let own = Arc::new(AtomicBool::new(false));
            helpers.push(spawn_script(script.clone(), tx.clone(), own.clone()));
            scripts.insert(script.name.clone(), (script, own));
        }
        let watched = engine.interfaces();
        let initial: Vec<(String, LinkState)> = watched
            .iter()
            .map(|n| (n.clone(), link_state(table.get(n), &vips)))
            .collect();
        let watch = Arc::new(Mutex::new(Watch {
            names: watched,
            vips,
        }));
        helpers.push(spawn_link_monitor(
            watch.clone(),
            table,
            tx.clone(),
            stop.clone(),
        ));

        let st = status.clone();
        let runner = Runner {
            engine,
            sockets,
            netlink,
            announcers: HashMap::new(),
            observer: obs_tx,
            status: st,
        };
        let engine = thread::Builder::new()
            .name("vrrp-engine".into())
            .spawn(move || runner.run(initial, rx))
            .map_err(|e| Error::io("spawning the engine thread", e))?;
        Ok((
            Driver {
                tx,
                engine: Some(engine),
                helpers,
                stop,
                status,
                families,
                scripts,
                watch,
            },
            obs_rx,
        ))
    }

    /// The instances as of the last event handled.
    pub fn status(&self) -> Vec<InstanceStatus> {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Applies a new configuration in place (keepalived's reload, see
    /// [`Engine::reconfigure`]): matched instances keep their state, VIPs are swapped by
    /// difference, `vrrp_script` threads follow the new scripts. Fails with
    /// [`Error::NeedsRestart`] when the new configuration needs a VRRP socket this driver
    /// did not open (new interface or family, unicast to multicast): stop and start then.
    /// Blocks until the engine has applied it; on error nothing changed.
    pub fn reconfigure(&mut self, config: Config) -> Result<(), Error> {
        let probe = Engine::new(config.clone())?;
        for ((interface, v6), multicast) in families(&config) {
            match self.families.get(&(interface.clone(), v6)) {
                Some(&joined) if joined || !multicast => {}
                _ => {
                    return Err(Error::NeedsRestart(format!(
                        "a new VRRP socket on {interface} ({})",
                        if v6 { "IPv6" } else { "IPv4" }
                    )));
                }
            }
        }
        let table = network::interfaces()?;
        let watched = probe.interfaces();
        let vips = all_vips(&config);
        let links: Vec<(String, LinkState)> = watched
            .iter()
            .map(|n| (n.clone(), link_state(table.get(n), &vips)))
            .collect();
        // Until the engine has swapped the VIPs, both the old and the new ones are VIPs
        // (never taken for the primary address); exactly the new ones afterwards.
        if let Ok(mut w) = self.watch.lock() {
            w.vips.extend(vips.iter().copied());
            for n in &watched {
                if !w.names.contains(n) {
                    w.names.push(n.clone());
                }
            }
        }
        let (reply_tx, reply_rx) = mpsc::channel();
        self.tx
            .send(Msg::Reconfigure(config, links, reply_tx))
            .map_err(|_| Error::NeedsRestart("the engine has stopped".into()))?;
        reply_rx
            .recv()
            .map_err(|_| Error::NeedsRestart("the engine has stopped".into()))??;
        if let Ok(mut w) = self.watch.lock() {
            *w = Watch {
                names: watched,
                vips,
            };
        }
        let tracked = probe.tracked_scripts();
        self.scripts.retain(|_, (cfg, own)| {
            let keep = tracked.contains(cfg);
            if !keep {
                own.store(true, Ordering::Relaxed);
            }
            keep
        });
        for script in tracked {
            if !self.scripts.contains_key(&script.name) {
                let own = Arc::new(AtomicBool::new(false));
                self.helpers
                    .push(spawn_script(script.clone(), self.tx.clone(), own.clone()));
                self.scripts.insert(script.name.clone(), (script, own));
            }
        }
        Ok(())
    }

    /// Stops: masters send priority 0 and remove their VIPs, `notify_stop` runs, every
    /// thread ends. Blocks until done.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    /// Stops like a crash: no priority-0 advert, VIPs left in place, no notify. For
    /// failover tests and measurements.
    pub fn abort(mut self) {
        let _ = self.tx.send(Msg::Abort);
        self.stop_now();
    }

    fn stop_now(&mut self) {
        let _ = self.tx.send(Msg::Shutdown);
        if let Some(e) = self.engine.take() {
            let _ = e.join();
        }
        self.stop.store(true, Ordering::Relaxed);
        for (_, own) in self.scripts.values() {
            own.store(true, Ordering::Relaxed);
        }
        for h in self.helpers.drain(..) {
            let _ = h.join();
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// The primary IPv4 address (first that is not one of our VIPs) and a link-local IPv6.
fn link_state(info: Option<&InterfaceInfo>, vips: &HashSet<IpAddr>) -> LinkState {
    let Some(info) = info else {
        return LinkState::default();
    };
    LinkState {
        up: info.up,
        ipv4: info
            .ipv4
            .iter()
            .copied()
            .find(|a| !vips.contains(&IpAddr::V4(*a))),
        ipv6: info.ipv6.iter().copied().find(is_link_local),
    }
}

fn is_link_local(a: &Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}

fn spawn_receiver(
    interface: String,
    sock: Arc<VrrpSocket>,
    tx: Sender<Msg>,
    stop: Arc<AtomicBool>,
) -> JoinHandle<()> {
    thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        while !stop.load(Ordering::Relaxed) {
            match sock.recv(&mut buf) {
                Ok(Some(meta)) => {
                    let msg = Msg::Packet {
                        interface: interface.clone(),
                        src: meta.src,
                        dst: meta.dst,
                        ttl: meta.ttl,
                        payload: buf[meta.payload].to_vec(),
                    };
                    if tx.send(msg).is_err() {
                        return;
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(%interface, error = %e, "VRRP receive failed");
                    thread::sleep(network::RECV_TIMEOUT);
                }
            }
        }
    })
}

/// Sleeps up to `d` in small steps; false when asked to stop.
fn nap(d: Duration, stop: &AtomicBool) -> bool {
    let end = Instant::now() + d;
    while Instant::now() < end {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        thread::sleep((end - Instant::now()).min(Duration::from_millis(50)));
    }
    !stop.load(Ordering::Relaxed)
}

fn spawn_script(script: ScriptConfig, tx: Sender<Msg>, stop: Arc<AtomicBool>) -> JoinHandle<()> {
    thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            let started = Instant::now();
            let ok = exec::run_check(&script.script, script.timeout);
            if tx.send(Msg::Script(script.name.clone(), ok)).is_err() {
                return;
            }
            if !nap(script.interval.saturating_sub(started.elapsed()), &stop) {
                return;
            }
        }
    })
}

fn spawn_link_monitor(
    watch: Arc<Mutex<Watch>>,
    table: HashMap<String, InterfaceInfo>,
    tx: Sender<Msg>,
    stop: Arc<AtomicBool>,
) -> JoinHandle<()> {
    let current = move || {
        watch
            .lock()
            .map(|w| (w.names.clone(), w.vips.clone()))
            .unwrap_or_default()
    };
    thread::spawn(move || {
        let (watched, vips) = current();
        let mut last: HashMap<String, LinkState> = watched
            .iter()
            .map(|n| (n.clone(), link_state(table.get(n), &vips)))
            .collect();
        while nap(LINK_POLL, &stop) {
            let Ok(table) = network::interfaces() else {
                continue;
            };
            let (watched, vips) = current();
            for n in &watched {
                let now = link_state(table.get(n), &vips);
                if last.get(n) != Some(&now) {
                    last.insert(n.clone(), now);
                    if tx.send(Msg::Link(n.clone(), now)).is_err() {
                        return;
                    }
                }
            }
        }
    })
}

struct Runner {
    engine: Engine,
    sockets: Sockets,
    netlink: Netlink,
    announcers: HashMap<String, Announcer>,
    observer: Sender<StateChange>,
    status: Arc<Mutex<Vec<InstanceStatus>>>,
}

impl Runner {
    fn run(mut self, initial: Vec<(String, LinkState)>, rx: Receiver<Msg>) {
        let now = Instant::now();
        for (name, state) in initial {
            self.engine.set_link(now, &name, state);
        }
        self.engine.start(now);
        self.perform();
        loop {
            let wait = self
                .engine
                .poll_timeout()
                .map(|t| t.saturating_duration_since(Instant::now()))
                .unwrap_or(Duration::from_secs(1));
            let msg = match rx.recv_timeout(wait) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => Some(Msg::Shutdown),
            };
            let now = Instant::now();
            match msg {
                Some(Msg::Packet {
                    interface,
                    src,
                    dst,
                    ttl,
                    payload,
                }) => {
                    let rx = Received {
                        interface: &interface,
                        src,
                        dst,
                        ttl,
                        payload: &payload,
                    };
                    let _ = self.engine.handle_packet(now, &rx);
                }
                Some(Msg::Link(name, state)) => self.engine.set_link(now, &name, state),
                Some(Msg::Script(name, ok)) => self.engine.script_result(now, &name, ok),
                Some(Msg::Reconfigure(config, links, reply)) => {
                    for (name, state) in links {
                        self.engine.set_link(now, &name, state);
                    }
                    let _ = reply.send(self.engine.reconfigure(now, config));
                }
                Some(Msg::Shutdown) => {
                    self.engine.shutdown(now);
                    self.perform();
                    return;
                }
                Some(Msg::Abort) => return,
                None => {}
            }
            self.engine.handle_timeout(Instant::now());
            self.perform();
        }
    }

    fn perform(&mut self) {
        while let Some(action) = self.engine.poll_action() {
            if let Err(e) = self.perform_one(action) {
                tracing::warn!(error = %e, "VRRP action failed");
            }
        }
        if let Ok(mut s) = self.status.lock() {
            *s = self.engine.instances();
        }
    }

    fn perform_one(&mut self, action: Action) -> Result<(), Error> {
        match action {
            Action::Send(t) => match self.sockets.get(&(t.interface.clone(), t.src.is_ipv6())) {
                Some(s) => s.send(&t),
                None => Err(Error::NoInterface(t.interface)),
            },
            Action::AddAddresses {
                interface, addrs, ..
            } => {
                for v in &addrs {
                    let index = ifindex(v, &interface)?;
                    self.netlink.add_address(v, index)?;
                }
                Ok(())
            }
            Action::RemoveAddresses {
                interface, addrs, ..
            } => {
                for v in &addrs {
                    // A missing device means the address is gone already.
                    if let Ok(index) = ifindex(v, &interface) {
                        self.netlink.remove_address(v, index)?;
                    }
                }
                Ok(())
            }
            Action::Announce {
                interface,
                addrs,
                count,
                ..
            } => {
                for v in &addrs {
                    let dev = v.dev.clone().unwrap_or_else(|| interface.clone());
                    if !self.announcers.contains_key(&dev) {
                        self.announcers.insert(dev.clone(), Announcer::open(&dev)?);
                    }
                    if let Some(a) = self.announcers.get(&dev) {
                        a.announce(v.addr, count)?;
                    }
                }
                Ok(())
            }
            Action::Run(script) => {
                exec::spawn_notify(&script, exec::NOTIFY_TIMEOUT);
                Ok(())
            }
            Action::StateChange(c) => {
                let _ = self.observer.send(c);
                Ok(())
            }
        }
    }
}

fn ifindex(v: &VirtualIp, interface: &str) -> Result<u32, Error> {
    let dev = v.dev.as_deref().unwrap_or(interface);
    nix::net::if_::if_nametoindex(dev).map_err(|_| Error::NoInterface(dev.to_string()))
}
