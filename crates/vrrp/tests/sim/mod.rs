//! A simulated LAN of engines with a virtual clock (quinn-style): adverts are delivered
//! after a fixed delay unless a loss rule drops them; nodes can crash, stop, or see their
//! links change. Virtual time only: nothing here sleeps.

use std::collections::HashSet;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use rvs_vrrp::{Action, Config, Engine, LinkState, Received, Scope, State, StateChange, Transmit};

/// One router on the LAN.
pub struct Node {
    pub engine: Engine,
    pub addr: IpAddr,
    /// Addresses the driver would have on the interface now.
    pub vips: HashSet<IpAddr>,
    /// Every state change with its virtual time.
    pub changes: Vec<(Duration, StateChange)>,
    /// Every script started (argv).
    pub runs: Vec<Vec<String>>,
    /// Announcement packets sent (GARP/NA).
    pub announced: u32,
    pub alive: bool,
}

/// Decides whether a packet from node `from` to node `to` is lost.
pub type Loss = Box<dyn FnMut(usize, usize, &Transmit) -> bool>;

pub struct Lan {
    pub nodes: Vec<Node>,
    pub t0: Instant,
    pub now: Instant,
    pub delay: Duration,
    in_flight: Vec<(Instant, usize, Transmit)>,
    pub loss: Loss,
}

fn link(addr: IpAddr) -> LinkState {
    match addr {
        IpAddr::V4(a) => LinkState {
            up: true,
            ipv4: Some(a),
            ipv6: None,
        },
        IpAddr::V6(a) => LinkState {
            up: true,
            ipv4: None,
            ipv6: Some(a),
        },
    }
}

impl Lan {
    /// Builds the nodes (interface `eth0` with `addr`); none is started yet.
    pub fn new(nodes: Vec<(Config, &str)>) -> Lan {
        let t0 = Instant::now();
        let nodes = nodes
            .into_iter()
            .map(|(c, a)| {
                let addr: IpAddr = a.parse().unwrap();
                let mut engine = Engine::new(c).unwrap();
                engine.set_link(t0, "eth0", link(addr));
                Node {
                    engine,
                    addr,
                    vips: HashSet::new(),
                    changes: Vec::new(),
                    runs: Vec::new(),
                    announced: 0,
                    alive: false,
                }
            })
            .collect();
        Lan {
            nodes,
            t0,
            now: t0,
            delay: Duration::from_millis(1),
            in_flight: Vec::new(),
            loss: Box::new(|_, _, _| false),
        }
    }

    /// Virtual time since the start.
    pub fn elapsed(&self) -> Duration {
        self.now - self.t0
    }

    pub fn start(&mut self, i: usize) {
        self.nodes[i].alive = true;
        let now = self.now;
        self.nodes[i].engine.start(now);
        self.drain(i);
    }

    pub fn start_all(&mut self) {
        for i in 0..self.nodes.len() {
            self.start(i);
        }
    }

    /// The node crashes: silent from now on.
    pub fn kill(&mut self, i: usize) {
        self.nodes[i].alive = false;
    }

    /// Graceful stop (priority 0), then silent.
    pub fn stop(&mut self, i: usize) {
        let now = self.now;
        self.nodes[i].engine.shutdown(now);
        self.drain(i);
        self.nodes[i].alive = false;
    }

    pub fn set_link(&mut self, i: usize, name: &str, up: bool) {
        let now = self.now;
        let mut state = link(self.nodes[i].addr);
        state.up = up;
        if name != "eth0" {
            state.ipv4 = None;
            state.ipv6 = None;
        }
        self.nodes[i].engine.set_link(now, name, state);
        self.drain(i);
    }

    pub fn script(&mut self, i: usize, name: &str, ok: bool) {
        let now = self.now;
        self.nodes[i].engine.script_result(now, name, ok);
        self.drain(i);
    }

    /// Reloads node `i` with `config` (in place); returns the actions it produced.
    #[allow(dead_code)]
    pub fn reconfigure(&mut self, i: usize, config: Config) -> Vec<Action> {
        let now = self.now;
        self.nodes[i]
            .engine
            .reconfigure(now, config)
            .expect("valid configuration");
        let mut done = Vec::new();
        while let Some(a) = self.nodes[i].engine.poll_action() {
            done.push(a.clone());
            self.apply(i, a);
        }
        done
    }

    fn drain(&mut self, i: usize) {
        while let Some(a) = self.nodes[i].engine.poll_action() {
            self.apply(i, a);
        }
    }

    fn apply(&mut self, i: usize, a: Action) {
        let at = self.now - self.t0;
        {
            let node = &mut self.nodes[i];
            match a {
                Action::Send(t) => self.in_flight.push((self.now + self.delay, i, t)),
                Action::AddAddresses { addrs, .. } => {
                    node.vips.extend(addrs.iter().map(|v| v.addr))
                }
                Action::RemoveAddresses { addrs, .. } => {
                    for v in addrs {
                        node.vips.remove(&v.addr);
                    }
                }
                Action::Announce { addrs, count, .. } => {
                    node.announced += count * addrs.len() as u32
                }
                Action::Run(s) => node.runs.push(s.argv),
                Action::StateChange(c) => node.changes.push((at, c)),
            }
        }
    }

    /// Runs the LAN until `d` of virtual time has passed.
    pub fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        loop {
            let timers = self
                .nodes
                .iter()
                .filter(|n| n.alive)
                .filter_map(|n| n.engine.poll_timeout());
            let packets = self.in_flight.iter().map(|p| p.0);
            let Some(next) = timers.chain(packets).min() else {
                self.now = until;
                return;
            };
            if next > until {
                self.now = until;
                return;
            }
            self.now = self.now.max(next);
            let now = self.now;
            let (due, later): (Vec<_>, Vec<_>) = self.in_flight.drain(..).partition(|p| p.0 <= now);
            self.in_flight = later;
            for (_, from, t) in due {
                for to in 0..self.nodes.len() {
                    let unicast_to_other = !t.dst.is_multicast() && t.dst != self.nodes[to].addr;
                    if to == from
                        || !self.nodes[to].alive
                        || unicast_to_other
                        || (self.loss)(from, to, &t)
                    {
                        continue;
                    }
                    let rx = Received {
                        interface: "eth0",
                        src: t.src,
                        dst: t.dst,
                        ttl: t.ttl,
                        payload: &t.payload,
                    };
                    let _ = self.nodes[to].engine.handle_packet(now, &rx);
                    self.drain(to);
                }
            }
            for i in 0..self.nodes.len() {
                if self.nodes[i].alive
                    && self.nodes[i]
                        .engine
                        .poll_timeout()
                        .is_some_and(|t| t <= now)
                {
                    self.nodes[i].engine.handle_timeout(now);
                    self.drain(i);
                }
            }
        }
    }

    /// Nodes whose instance `name` is MASTER.
    pub fn masters(&self, name: &str) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| {
                self.nodes[i].alive && self.nodes[i].engine.state(name) == Some(State::Master)
            })
            .collect()
    }

    pub fn state(&self, i: usize, name: &str) -> State {
        self.nodes[i].engine.state(name).unwrap()
    }

    /// Virtual time of the first change of `name` on node `i` to `to` at or after `after`.
    pub fn when(&self, i: usize, name: &str, to: State, after: Duration) -> Option<Duration> {
        self.nodes[i]
            .changes
            .iter()
            .find(|(t, c)| {
                *t >= after && c.scope == Scope::Instance && c.name == name && c.to == to
            })
            .map(|(t, _)| *t)
    }
}
