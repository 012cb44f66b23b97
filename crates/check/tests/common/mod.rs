//! Shared test helpers: configurations from keepalived.conf text, and a virtual-clock driver
//! for the sans-I/O engine.
#![allow(dead_code)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rvs_check::{Action, CheckerId, DesiredPool, Engine, Notification, ProbeResult};
use rvs_kaconf::{CheckOptions, Config, VirtualServer, parse_str};

/// Parses keepalived.conf text; panics on errors (test input is ours).
pub fn config(text: &str) -> Config {
    let p = parse_str("test.conf", text, &CheckOptions::default());
    assert!(!p.has_errors(), "{:#?}", p.diagnostics);
    p.config
}

/// The virtual servers of `text`.
pub fn vss(text: &str) -> Vec<VirtualServer> {
    config(text).virtual_servers
}

/// A probe the simulated world answers: result and how long it took.
pub type World<'a> = dyn FnMut(CheckerId, usize, Duration) -> (ProbeResult, Duration) + 'a;

/// Drives an engine on a virtual clock.
pub struct Sim {
    pub e: Engine,
    pub t0: Instant,
    pub now: Instant,
    pending: Vec<(Instant, CheckerId, usize)>,
    in_flight: Vec<(Instant, CheckerId, ProbeResult)>,
    /// Probe start times (seconds since t0) per checker.
    pub starts: HashMap<CheckerId, Vec<f64>>,
    /// Last pool per VS.
    pub pools: HashMap<usize, DesiredPool>,
    /// Every pool change with its time (seconds since t0).
    pub pool_log: Vec<(f64, usize, DesiredPool)>,
    /// Every notification with its time.
    pub notes: Vec<(f64, Notification)>,
    pub removed: Vec<DesiredPool>,
}

impl Sim {
    /// Starts an engine at t0 with warmup random 0 (first probe at t0 + 1 s).
    pub fn new(vss: Vec<VirtualServer>) -> Sim {
        let t0 = Instant::now();
        let e = Engine::new(vss, t0, &mut || 0.0);
        let mut s = Sim {
            e,
            t0,
            now: t0,
            pending: Vec::new(),
            in_flight: Vec::new(),
            starts: HashMap::new(),
            pools: HashMap::new(),
            pool_log: Vec::new(),
            notes: Vec::new(),
            removed: Vec::new(),
        };
        s.drain();
        s
    }

    pub fn secs(&self) -> f64 {
        (self.now - self.t0).as_secs_f64()
    }

    pub fn drain(&mut self) {
        while let Some(a) = self.e.poll_action() {
            let t = self.secs();
            match a {
                Action::StartProbe { id, step } => {
                    self.starts.entry(id).or_default().push(t);
                    self.pending.push((self.now, id, step));
                }
                Action::PoolChanged { vs, pool } => {
                    self.pool_log.push((t, vs, pool.clone()));
                    self.pools.insert(vs, pool);
                }
                Action::ServiceRemoved { pool } => self.removed.push(pool),
                Action::Notify(n) => self.notes.push((t, n)),
            }
        }
    }

    /// Runs until `until` seconds after t0; `world` answers each probe when it starts.
    pub fn run(&mut self, until: f64, world: &mut World<'_>) {
        let end = self.t0 + Duration::from_secs_f64(until);
        loop {
            for (at, id, step) in std::mem::take(&mut self.pending) {
                let (r, took) = world(id, step, at - self.t0);
                self.in_flight.push((at + took, id, r));
            }
            let next_probe = self.in_flight.iter().map(|p| p.0).min();
            let next_timer = self.e.poll_timeout();
            let next = match (next_probe, next_timer) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(x) => x,
                    None => break,
                },
            };
            if next > end {
                break;
            }
            self.now = next.max(self.now);
            if let Some(i) = self.in_flight.iter().position(|p| p.0 <= self.now) {
                let (_, id, r) = self.in_flight.remove(i);
                self.e.on_probe_result(id, r, self.now);
            } else {
                self.e.handle_timeout(self.now);
            }
            self.drain();
        }
        self.now = end.max(self.now);
    }

    /// Addresses (last octet/port) in VS `vs`'s pool with their weights.
    pub fn members(&self, vs: usize) -> Vec<(String, u32)> {
        self.pools
            .get(&vs)
            .map(|p| {
                p.destinations
                    .iter()
                    .map(|d| (format!("{}:{}", d.addr, d.port), d.weight))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Checker id shorthand (epoch 0).
pub fn cid(vs: usize, rs: usize, checker: usize) -> CheckerId {
    CheckerId {
        vs,
        rs,
        checker,
        epoch: 0,
    }
}
