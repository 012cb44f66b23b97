//! The host's network state as the data plane needs it (links, neighbours, local addresses),
//! kept fresh by a monitor thread listening to rtnetlink events.
//!
//! Workers never lock: the monitor publishes immutable tables through `ArcSwap` and bumps a
//! generation counter after each change; a worker's cache compares generations (two atomic
//! loads per lookup) and re-reads only when something changed. The monitor also asks the
//! kernel to resolve missing neighbours for the workers, off the packet path.

use std::collections::HashMap;
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;

use arc_swap::ArcSwap;
use netlink_packet_route::RouteNetlinkMessage;

use crate::error::{Error, Result};
use crate::netlink::{self, Link, LocalAddress, MONITOR_GROUPS, NlSocket};
use crate::sys::{EventFd, poll};

/// Usable neighbours by (ifindex, IP).
pub type NeighbourTable = HashMap<(u32, IpAddr), [u8; 6]>;

/// Called with every local address whenever the set changes (fills the BPF local map).
pub type LocalsHook = Box<dyn FnMut(&[LocalAddress]) + Send>;

/// Links, neighbours and local addresses, published for lock-free reading.
#[derive(Debug, Default)]
pub struct NetState {
    neighbours: ArcSwap<NeighbourTable>,
    links: ArcSwap<HashMap<u32, Link>>,
    locals: ArcSwap<Vec<LocalAddress>>,
    neigh_gen: AtomicU64,
    route_gen: AtomicU64,
}

impl NetState {
    /// Generation of the neighbour and link tables (changes on every update).
    pub fn neigh_generation(&self) -> u64 {
        self.neigh_gen.load(Ordering::Acquire)
    }

    /// Generation of routing-relevant state (routes, links, addresses).
    pub fn route_generation(&self) -> u64 {
        self.route_gen.load(Ordering::Acquire)
    }

    /// The MAC of neighbour `ip` on `ifindex`, if the kernel has a usable entry.
    pub fn neighbour(&self, ifindex: u32, ip: IpAddr) -> Option<[u8; 6]> {
        self.neighbours.load().get(&(ifindex, ip)).copied()
    }

    /// The link with index `ifindex`.
    pub fn link(&self, ifindex: u32) -> Option<Link> {
        self.links.load().get(&ifindex).cloned()
    }

    /// The MAC address of link `ifindex`.
    pub fn link_mac(&self, ifindex: u32) -> Option<[u8; 6]> {
        self.links.load().get(&ifindex).and_then(|l| l.mac)
    }

    /// Every address of this host.
    pub fn local_addresses(&self) -> Vec<LocalAddress> {
        self.locals.load().as_ref().clone()
    }

    fn bump(&self, route: bool) {
        self.neigh_gen.fetch_add(1, Ordering::Release);
        if route {
            self.route_gen.fetch_add(1, Ordering::Release);
        }
    }
}

/// A request to resolve a neighbour, sent by workers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResolveRequest {
    pub ifindex: u32,
    pub addr: IpAddr,
}

/// Handle workers use to ask for a neighbour resolution.
#[derive(Debug, Clone)]
pub(crate) struct Resolver {
    tx: mpsc::Sender<ResolveRequest>,
    wake: Arc<EventFd>,
}

impl Resolver {
    /// Queue a resolution (non-blocking).
    pub(crate) fn request(&self, ifindex: u32, addr: IpAddr) {
        if self.tx.send(ResolveRequest { ifindex, addr }).is_ok() {
            self.wake.notify();
        }
    }
}

/// The monitor thread; stops and joins on drop.
#[derive(Debug)]
pub struct Monitor {
    state: Arc<NetState>,
    resolver: Resolver,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Monitor {
    /// Read the current state and start following events. `on_locals` runs on the monitor
    /// thread (and once here) with the full address list whenever it changes.
    pub fn start(mut on_locals: LocalsHook) -> Result<Self> {
        let events = NlSocket::with_groups(&MONITOR_GROUPS)?;
        events.set_non_blocking()?;
        let mut requests = NlSocket::new()?;
        let state = Arc::new(NetState::default());
        full_refresh(&state, &mut requests, &mut on_locals)?;

        let wake = Arc::new(EventFd::new()?);
        let (tx, rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let ctx = MonitorThread {
            state: state.clone(),
            events,
            requests,
            wake: wake.clone(),
            rx,
            stop: stop.clone(),
            on_locals,
        };
        let thread = std::thread::Builder::new()
            .name("rvs-netmon".into())
            .spawn(move || ctx.run())
            .map_err(|e| Error::sys("spawn(monitor)", e))?;
        Ok(Monitor {
            state,
            resolver: Resolver { tx, wake },
            stop,
            thread: Some(thread),
        })
    }

    /// The published state.
    pub fn state(&self) -> &Arc<NetState> {
        &self.state
    }

    pub(crate) fn resolver(&self) -> Resolver {
        self.resolver.clone()
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        self.resolver.wake.notify();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct MonitorThread {
    state: Arc<NetState>,
    events: NlSocket,
    requests: NlSocket,
    wake: Arc<EventFd>,
    rx: mpsc::Receiver<ResolveRequest>,
    stop: Arc<AtomicBool>,
    on_locals: LocalsHook,
}

impl MonitorThread {
    fn run(mut self) {
        while !self.stop.load(Ordering::Acquire) {
            let mut fds = [
                libc::pollfd {
                    fd: self.events.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: self.wake.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            // Nothing to do on a timer: block until an event or a request arrives.
            if poll(&mut fds, -1).is_err() {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            self.wake.drain();
            self.handle_events();
            self.handle_requests();
        }
    }

    fn handle_requests(&mut self) {
        let mut seen = Vec::new();
        while let Ok(r) = self.rx.try_recv() {
            if seen
                .iter()
                .any(|s: &ResolveRequest| s.ifindex == r.ifindex && s.addr == r.addr)
            {
                continue;
            }
            seen.push(r);
            if let Err(e) = netlink::resolve_neighbour(&mut self.requests, r.ifindex, r.addr) {
                tracing::debug!(addr = %r.addr, ifindex = r.ifindex, error = %e, "neighbour resolution request failed");
            }
        }
    }

    fn handle_events(&mut self) {
        let mut msgs = Vec::new();
        let overrun = self.events.drain_events(|m| msgs.push(m)).is_err();
        if overrun {
            tracing::warn!("netlink events lost; re-reading links, neighbours and addresses");
            if let Err(e) = full_refresh(&self.state, &mut self.requests, &mut self.on_locals) {
                tracing::warn!(error = %e, "netlink refresh failed");
            }
            return;
        }
        if msgs.is_empty() {
            return;
        }
        let mut neigh = None::<NeighbourTable>;
        let mut links = None::<HashMap<u32, Link>>;
        let mut locals = None::<Vec<LocalAddress>>;
        let mut route_changed = false;
        for m in msgs {
            match m {
                RouteNetlinkMessage::NewNeighbour(n) => {
                    let Some(n) = netlink::neighbour_from(&n) else {
                        continue;
                    };
                    let t =
                        neigh.get_or_insert_with(|| self.state.neighbours.load().as_ref().clone());
                    apply_neighbour(t, &n);
                }
                RouteNetlinkMessage::DelNeighbour(n) => {
                    let Some(n) = netlink::neighbour_from(&n) else {
                        continue;
                    };
                    let t =
                        neigh.get_or_insert_with(|| self.state.neighbours.load().as_ref().clone());
                    t.remove(&(n.ifindex, n.addr));
                }
                RouteNetlinkMessage::NewLink(l) => {
                    let link = netlink::link_from(&l);
                    let t = links.get_or_insert_with(|| self.state.links.load().as_ref().clone());
                    t.insert(link.index, link);
                    route_changed = true;
                }
                RouteNetlinkMessage::DelLink(l) => {
                    let t = links.get_or_insert_with(|| self.state.links.load().as_ref().clone());
                    t.remove(&l.header.index);
                    route_changed = true;
                }
                RouteNetlinkMessage::NewAddress(a) => {
                    if let Some(a) = netlink::address_from(&a) {
                        let t =
                            locals.get_or_insert_with(|| self.state.locals.load().as_ref().clone());
                        if !t.contains(&a) {
                            t.push(a);
                        }
                    }
                    route_changed = true;
                }
                RouteNetlinkMessage::DelAddress(a) => {
                    if let Some(a) = netlink::address_from(&a) {
                        let t =
                            locals.get_or_insert_with(|| self.state.locals.load().as_ref().clone());
                        t.retain(|x| x.addr != a.addr || x.ifindex != a.ifindex);
                    }
                    route_changed = true;
                }
                RouteNetlinkMessage::NewRoute(_) | RouteNetlinkMessage::DelRoute(_) => {
                    route_changed = true;
                }
                _ => {}
            }
        }
        if let Some(t) = neigh {
            self.state.neighbours.store(Arc::new(t));
        }
        if let Some(t) = links {
            self.state.links.store(Arc::new(t));
        }
        if let Some(t) = locals {
            (self.on_locals)(&t);
            self.state.locals.store(Arc::new(t));
        }
        self.state.bump(route_changed);
    }
}

/// Insert a usable neighbour, remove one that is gone or failed.
fn apply_neighbour(t: &mut NeighbourTable, n: &netlink::Neighbour) {
    match n.mac {
        Some(mac) if n.usable() => {
            t.insert((n.ifindex, n.addr), mac);
        }
        _ => {
            t.remove(&(n.ifindex, n.addr));
        }
    }
}

fn full_refresh(state: &NetState, sock: &mut NlSocket, on_locals: &mut LocalsHook) -> Result<()> {
    let links: HashMap<u32, Link> = netlink::links(sock)?
        .into_iter()
        .map(|l| (l.index, l))
        .collect();
    let mut neigh = NeighbourTable::new();
    for n in netlink::neighbours(sock)? {
        apply_neighbour(&mut neigh, &n);
    }
    let locals = netlink::addresses(sock)?;
    on_locals(&locals);
    state.links.store(Arc::new(links));
    state.neighbours.store(Arc::new(neigh));
    state.locals.store(Arc::new(locals));
    state.bump(true);
    Ok(())
}
