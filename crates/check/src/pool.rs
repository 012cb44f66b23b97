//! The pool of one virtual server: which destinations belong in the service, with which
//! weight, given the real servers' health — keepalived's ipwrapper.c, as a desired state.
//!
//! keepalived issues ADD/DEL/EDIT_DEST as things happen; we keep the same state
//! (`alive`, quorum state, sorry server in use) and derive the destination set from it, so
//! the daemon can diff it against rvsd's table. The rules that set follows:
//! * an alive RS is in the service with its effective weight (configured weight plus
//!   MISC_CHECK dynamic adjustments, clamped to 0..=i32::MAX);
//! * a dead RS is removed, or kept with weight 0 when `inhibit_on_failure` is set;
//! * while the sorry server is in use (quorum lost and a `sorry_server` configured) every RS
//!   is out (inhibited ones stay with weight 0) and the sorry server is in with weight 1;
//!   otherwise the sorry server is out, or in with weight 0 when `sorry_server_inhibit`.

use std::net::IpAddr;

use rvs_kaconf::{ForwardingMethod, Protocol, Script, VirtualServer, VsKey};

/// One destination the service should have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// Real server address.
    pub addr: IpAddr,
    /// Real server port (0 for fwmark services without port).
    pub port: u16,
    /// IPVS weight (0 = quiesced: kept for existing connections, no new ones).
    pub weight: u32,
    /// Forwarding method.
    pub method: ForwardingMethod,
    /// `uthreshold` (`-x`).
    pub uthreshold: Option<u32>,
    /// `lthreshold` (`-y`).
    pub lthreshold: Option<u32>,
    /// True for the sorry server.
    pub sorry: bool,
}

/// The desired destination set of one virtual server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredPool {
    /// The service (address/port, fwmark or group).
    pub key: VsKey,
    /// Its protocol.
    pub protocol: Protocol,
    /// Destinations, real servers in configuration order, then the sorry server.
    pub destinations: Vec<Destination>,
}

/// keepalived's `real_weight`: the effective weight clamped to what IPVS takes.
pub fn real_weight(effective: i64) -> u32 {
    effective.clamp(0, i64::from(i32::MAX)) as u32
}

/// Health state of one real server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsState {
    /// Address.
    pub addr: IpAddr,
    /// Port.
    pub port: u16,
    /// Configured weight.
    pub weight: i64,
    /// Configured weight plus dynamic adjustments.
    pub effective_weight: i64,
    /// In service (no failed checker).
    pub alive: bool,
    /// Number of checkers currently down.
    pub num_failed: u32,
    /// `inhibit_on_failure`.
    pub inhibit: bool,
    /// Forwarding method.
    pub method: ForwardingMethod,
    /// `uthreshold`.
    pub uthreshold: Option<u32>,
    /// `lthreshold`.
    pub lthreshold: Option<u32>,
    /// `notify_up`.
    pub notify_up: Option<Script>,
    /// `notify_down`.
    pub notify_down: Option<Script>,
}

/// The sorry server as the pool uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SorryState {
    /// Address.
    pub addr: IpAddr,
    /// Port (the service's when 0 in the configuration).
    pub port: u16,
    /// Forwarding method.
    pub method: ForwardingMethod,
    /// `sorry_server_inhibit`.
    pub inhibit: bool,
    /// In use (quorum lost).
    pub alive: bool,
}

/// A notification keepalived would run a script for (and write to its notify FIFO).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyKind {
    /// A real server came up (`notify_up`).
    RsUp,
    /// A real server went down (`notify_down`).
    RsDown,
    /// The virtual server gained quorum (`quorum_up`).
    QuorumUp,
    /// The virtual server lost quorum (`quorum_down`).
    QuorumDown,
}

/// One notification, with the script to run if configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// What happened.
    pub kind: NotifyKind,
    /// Index of the virtual server (for a VS or RS removed by a reload: its index in the
    /// configuration before the reload).
    pub vs: usize,
    /// Index of the real server (RS notifications).
    pub rs: Option<usize>,
    /// The script to run, if any.
    pub script: Option<Script>,
    /// True when sent during shutdown (keepalived runs these synchronously, 1 s timeout).
    pub stopping: bool,
}

/// Pool state of one virtual server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    /// Index of the virtual server.
    pub vs: usize,
    /// Service key.
    pub key: VsKey,
    /// Protocol.
    pub protocol: Protocol,
    /// `quorum` (reduced to the total weight, as keepalived does).
    pub quorum: i64,
    /// `hysteresis` (at most quorum − 1).
    pub hysteresis: i64,
    /// `omega`.
    pub omega: bool,
    /// `quorum_up`.
    pub quorum_up: Option<Script>,
    /// `quorum_down`.
    pub quorum_down: Option<Script>,
    /// Quorum state.
    pub quorum_state_up: bool,
    /// Real servers.
    pub rs: Vec<RsState>,
    /// Sorry server.
    pub sorry: Option<SorryState>,
    /// Set once shut down: the pool is then empty.
    pub stopped: bool,
}

impl Pool {
    /// Builds the pool of `vs` (index `idx`); `num_failed[i]` is the number of checkers of
    /// real server `i` that start down (alpha).
    pub fn new(idx: usize, vs: &VirtualServer, num_failed: &[u32]) -> Pool {
        let rs: Vec<RsState> = vs
            .real_servers
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let failed = num_failed.get(i).copied().unwrap_or(0);
                RsState {
                    addr: r.addr,
                    port: r.port,
                    weight: i64::from(r.weight),
                    effective_weight: i64::from(r.weight),
                    alive: failed == 0,
                    num_failed: failed,
                    inhibit: r.inhibit_on_failure,
                    method: r.method,
                    uthreshold: r.uthreshold,
                    lthreshold: r.lthreshold,
                    notify_up: r.notify_up.clone(),
                    notify_down: r.notify_down.clone(),
                }
            })
            .collect();
        let total: i64 = rs.iter().map(|r| i64::from(real_weight(r.weight))).sum();
        let quorum = i64::from(vs.quorum).min(total);
        let hysteresis = i64::from(vs.hysteresis).min((quorum - 1).max(0));
        let vs_port = match vs.key {
            VsKey::Addr { port, .. } => port,
            _ => 0,
        };
        let sorry = vs.sorry_server.as_ref().map(|s| SorryState {
            addr: s.addr,
            port: if s.port == 0 { vs_port } else { s.port },
            method: s.method,
            inhibit: s.inhibit,
            alive: false,
        });
        let mut p = Pool {
            vs: idx,
            key: vs.key.clone(),
            protocol: vs.protocol,
            quorum,
            hysteresis,
            omega: vs.omega,
            quorum_up: vs.quorum_up.clone(),
            quorum_down: vs.quorum_down.clone(),
            quorum_state_up: true,
            rs,
            sorry,
            stopped: false,
        };
        p.quorum_state_up = p.weight_sum() >= p.quorum + p.hysteresis;
        p
    }

    /// Σ weight of alive real servers (`weigh_live_realservers`).
    pub fn weight_sum(&self) -> i64 {
        self.rs
            .iter()
            .filter(|r| r.alive)
            .map(|r| i64::from(real_weight(r.effective_weight)))
            .sum()
    }

    fn sorry_in_use(&self) -> bool {
        self.sorry.as_ref().is_some_and(|s| s.alive)
    }

    /// The destinations the service should have now.
    pub fn desired(&self) -> DesiredPool {
        let mut destinations = Vec::new();
        if !self.stopped {
            let sorry_in_use = self.sorry_in_use();
            for r in &self.rs {
                let weight = if r.alive && !sorry_in_use {
                    real_weight(r.effective_weight)
                } else if r.inhibit {
                    0
                } else {
                    continue;
                };
                destinations.push(Destination {
                    addr: r.addr,
                    port: r.port,
                    weight,
                    method: r.method,
                    uthreshold: r.uthreshold,
                    lthreshold: r.lthreshold,
                    sorry: false,
                });
            }
            if let Some(s) = &self.sorry
                && (s.alive || s.inhibit)
                && !destinations
                    .iter()
                    .any(|d| d.addr == s.addr && d.port == s.port)
            {
                destinations.push(Destination {
                    addr: s.addr,
                    port: s.port,
                    weight: u32::from(s.alive),
                    method: s.method,
                    uthreshold: None,
                    lthreshold: None,
                    sorry: true,
                });
            }
        }
        DesiredPool {
            key: self.key.clone(),
            protocol: self.protocol,
            destinations,
        }
    }

    fn notify_vs(&self, out: &mut Vec<Notification>, stopping: bool) {
        let (kind, script) = if self.quorum_state_up {
            (NotifyKind::QuorumUp, self.quorum_up.clone())
        } else {
            (NotifyKind::QuorumDown, self.quorum_down.clone())
        };
        if stopping && !self.omega {
            return;
        }
        out.push(Notification {
            kind,
            vs: self.vs,
            rs: None,
            script,
            stopping,
        });
    }

    /// The notification for real server `i`'s current state (`do_rs_notifies`).
    pub fn notify_rs(&self, i: usize, out: &mut Vec<Notification>, stopping: bool) {
        let Some(r) = self.rs.get(i) else { return };
        let (kind, script) = if r.alive {
            (NotifyKind::RsUp, r.notify_up.clone())
        } else {
            (NotifyKind::RsDown, r.notify_down.clone())
        };
        out.push(Notification {
            kind,
            vs: self.vs,
            rs: Some(i),
            script,
            stopping,
        });
    }

    /// `update_quorum_state`: gains or loses quorum, swapping the sorry server in or out.
    pub fn update_quorum(&mut self, init: bool, out: &mut Vec<Notification>) {
        let weight_sum = self.weight_sum();
        let threshold = if self.quorum_state_up {
            self.quorum - self.hysteresis
        } else {
            self.quorum + self.hysteresis
        };
        if !self.quorum_state_up && weight_sum >= threshold {
            self.quorum_state_up = true;
            tracing::info!(vs = self.vs, threshold, weight_sum, "gained quorum");
            if let Some(s) = &mut self.sorry {
                s.alive = false;
            }
            self.notify_vs(out, false);
        } else if (self.quorum_state_up && (weight_sum == 0 || weight_sum < threshold))
            || (init && !self.quorum_state_up && self.sorry.as_ref().is_some_and(|s| !s.alive))
        {
            self.quorum_state_up = false;
            tracing::info!(vs = self.vs, threshold, weight_sum, init, "lost quorum");
            if let Some(s) = &mut self.sorry {
                s.alive = true;
            }
            self.notify_vs(out, false);
        }
    }

    /// `perform_svr_state`: real server `i` becomes alive or not.
    pub fn set_rs_alive(&mut self, i: usize, alive: bool, out: &mut Vec<Notification>) {
        let Some(r) = self.rs.get_mut(i) else { return };
        if r.alive == alive {
            return;
        }
        r.alive = alive;
        tracing::info!(vs = self.vs, rs = %r.addr, port = r.port, alive, inhibit = r.inhibit,
            "real server state change");
        self.notify_rs(i, out, false);
        self.update_quorum(false, out);
    }

    /// `update_svr_wgt`: a new effective weight for real server `i`.
    pub fn set_weight(
        &mut self,
        i: usize,
        effective: i64,
        update_quorum: bool,
        out: &mut Vec<Notification>,
    ) {
        let Some(r) = self.rs.get_mut(i) else { return };
        let changed = real_weight(effective) != real_weight(r.effective_weight);
        r.effective_weight = effective;
        if changed && update_quorum {
            self.update_quorum(false, out);
        }
    }

    /// Shutdown (`clear_service_vs(vs, stopping = true)`): everything leaves the service;
    /// with `omega` the down notifications of alive real servers and `quorum_down` run.
    pub fn shutdown(&mut self, out: &mut Vec<Notification>) {
        if self.stopped {
            return;
        }
        if let Some(s) = &mut self.sorry {
            s.alive = false;
        }
        for i in 0..self.rs.len() {
            if self.rs[i].alive {
                self.rs[i].alive = false;
                if self.omega {
                    self.notify_rs(i, out, true);
                }
            }
        }
        self.quorum_state_up = false;
        self.notify_vs(out, true);
        self.stopped = true;
    }

    /// The VS disappeared on reload (`clear_service_vs(vs, stopping = false)`): alive real
    /// servers get their down notification, and quorum_down runs if quorum was up.
    pub fn remove(&mut self, out: &mut Vec<Notification>) {
        if let Some(s) = &mut self.sorry {
            s.alive = false;
        }
        for i in 0..self.rs.len() {
            self.remove_rs(i, out);
        }
        self.update_after_removal(out);
        self.stopped = true;
    }

    /// A real server disappeared on reload: its down notification if it was alive.
    pub fn remove_rs(&mut self, i: usize, out: &mut Vec<Notification>) {
        if let Some(r) = self.rs.get_mut(i)
            && r.alive
        {
            r.alive = false;
            self.notify_rs(i, out, false);
        }
    }

    /// `update_vs_notifies(stopping = false)` after real servers were removed.
    pub fn update_after_removal(&mut self, out: &mut Vec<Notification>) {
        let ws = self.weight_sum();
        if self.quorum_state_up && (ws == 0 || ws < self.quorum - self.hysteresis) {
            self.quorum_state_up = false;
            self.notify_vs(out, false);
        }
    }
}
