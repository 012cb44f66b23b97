//! The sans-I/O health-check core: every checker of every virtual server, their timers,
//! the real servers' states and the pools. Time and probe results come in, actions go out.
//!
//! Drive it like this: [`Engine::new`], then loop { run every [`Action`] from
//! [`Engine::poll_action`]; sleep until [`Engine::poll_timeout`]; call
//! [`Engine::handle_timeout`]; feed finished probes to [`Engine::on_probe_result`] }.
//! [`crate::runner`] does exactly that with tokio; tests do it with a virtual clock.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rvs_kaconf::{Checker, RealServer, VirtualServer};

use crate::checker::{CheckerState, ProbeResult, Style};
use crate::pool::{DesiredPool, Notification, Pool};

/// keepalived's BOOTSTRAP_DELAY: the first check never runs before this.
pub const BOOTSTRAP_DELAY: Duration = Duration::from_secs(1);

/// Identifies one checker: indexes into [`Engine::virtual_servers`], plus the configuration
/// epoch (bumped by every reload, so results of probes started before it are ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CheckerId {
    /// Virtual server index.
    pub vs: usize,
    /// Real server index within the virtual server.
    pub rs: usize,
    /// Checker index within the real server.
    pub checker: usize,
    /// Configuration epoch.
    pub epoch: u32,
}

/// What the driver must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Run a probe for this checker now; `step` is the URL index for HTTP_GET/SSL_GET.
    StartProbe {
        /// The checker.
        id: CheckerId,
        /// URL index (HTTP) or 0.
        step: usize,
    },
    /// The destination set of virtual server `vs` changed (also sent once per VS at start
    /// and after every reload): make the service match it.
    PoolChanged {
        /// Virtual server index.
        vs: usize,
        /// The full desired set.
        pool: DesiredPool,
    },
    /// A virtual server disappeared on reload: remove the service with its destinations.
    ServiceRemoved {
        /// The pool it had (its key and protocol name the service).
        pool: DesiredPool,
    },
    /// Report a state change and run its script if one is set.
    Notify(Notification),
}

#[derive(Debug, Clone)]
struct Slot {
    state: CheckerState,
    next_at: Option<Instant>,
    started_at: Instant,
    in_flight: bool,
}

/// The whole health-check state.
#[derive(Debug)]
pub struct Engine {
    vss: Vec<VirtualServer>,
    pools: Vec<Pool>,
    slots: Vec<Vec<Vec<Slot>>>,
    published: Vec<Option<DesiredPool>>,
    actions: VecDeque<Action>,
    epoch: u32,
    stopped: bool,
}

/// Drops checkers keepalived would drop (HTTP without `url`), so indexes stay meaningful.
fn usable(mut vss: Vec<VirtualServer>) -> Vec<VirtualServer> {
    for vs in &mut vss {
        for rs in &mut vs.real_servers {
            rs.checkers.retain(|c| {
                let ok = Style::of(c).is_some();
                if !ok {
                    tracing::warn!(rs = %rs.addr, "HTTP checker without url removed");
                }
                ok
            });
        }
    }
    vss
}

fn first_run(now: Instant, c: &Checker, rand01: &mut dyn FnMut() -> f64) -> Instant {
    let r = rand01().clamp(0.0, 1.0);
    now + BOOTSTRAP_DELAY + c.timing.warmup.mul_f64(r)
}

fn new_slots(
    vs: &VirtualServer,
    now: Instant,
    rand01: &mut dyn FnMut() -> f64,
) -> (Vec<Vec<Slot>>, Vec<u32>) {
    let mut failed = Vec::new();
    let slots = vs
        .real_servers
        .iter()
        .map(|rs| {
            let s: Vec<Slot> = rs
                .checkers
                .iter()
                .filter_map(|c| {
                    let style = Style::of(c)?;
                    Some(Slot {
                        state: CheckerState::new(c.timing, style),
                        next_at: Some(first_run(now, c, rand01)),
                        started_at: now,
                        in_flight: false,
                    })
                })
                .collect();
            failed.push(s.iter().filter(|s| !s.state.is_up).count() as u32);
            s
        })
        .collect();
    (slots, failed)
}

impl Engine {
    /// Starts checking `vss` at `now`. `rand01` gives uniform numbers in [0, 1) for the
    /// warmup delays (the first check of each checker waits 1 s + warmup × rand).
    /// Non-alpha real servers start alive and in the pool; pools are published at once.
    pub fn new(vss: Vec<VirtualServer>, now: Instant, rand01: &mut dyn FnMut() -> f64) -> Engine {
        let vss = usable(vss);
        let mut e = Engine {
            pools: Vec::new(),
            slots: Vec::new(),
            published: vec![None; vss.len()],
            actions: VecDeque::new(),
            epoch: 0,
            stopped: false,
            vss,
        };
        let mut notes = Vec::new();
        for (i, vs) in e.vss.iter().enumerate() {
            let (slots, failed) = new_slots(vs, now, rand01);
            let mut pool = Pool::new(i, vs, &failed);
            pool.update_quorum(true, &mut notes);
            e.pools.push(pool);
            e.slots.push(slots);
        }
        e.emit(notes);
        e.publish_all();
        e
    }

    /// The configuration being checked (HTTP checkers without URL removed).
    pub fn virtual_servers(&self) -> &[VirtualServer] {
        &self.vss
    }

    /// The configuration of one checker and its real and virtual server.
    pub fn checker_config(&self, id: CheckerId) -> Option<(&VirtualServer, &RealServer, &Checker)> {
        if id.epoch != self.epoch {
            return None;
        }
        let vs = self.vss.get(id.vs)?;
        let rs = vs.real_servers.get(id.rs)?;
        Some((vs, rs, rs.checkers.get(id.checker)?))
    }

    /// The state of one checker.
    pub fn checker_state(&self, id: CheckerId) -> Option<&CheckerState> {
        (id.epoch == self.epoch)
            .then(|| self.slots.get(id.vs)?.get(id.rs)?.get(id.checker))
            .flatten()
            .map(|s| &s.state)
    }

    /// The pool state of virtual server `vs`.
    pub fn pool(&self, vs: usize) -> Option<&Pool> {
        self.pools.get(vs)
    }

    /// The current configuration epoch.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The next action to carry out.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When [`Engine::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.slots
            .iter()
            .flatten()
            .flatten()
            .filter_map(|s| s.next_at)
            .min()
    }

    /// Starts every probe that is due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.stopped {
            return;
        }
        for (v, rss) in self.slots.iter_mut().enumerate() {
            for (r, cs) in rss.iter_mut().enumerate() {
                for (c, s) in cs.iter_mut().enumerate() {
                    if s.next_at.is_some_and(|t| t <= now) && !s.in_flight {
                        s.next_at = None;
                        s.in_flight = true;
                        s.started_at = now;
                        self.actions.push_back(Action::StartProbe {
                            id: CheckerId {
                                vs: v,
                                rs: r,
                                checker: c,
                                epoch: self.epoch,
                            },
                            step: s.state.step(),
                        });
                    }
                }
            }
        }
    }

    /// A probe started by [`Action::StartProbe`] finished at `now`. Stale or unknown ids
    /// are ignored.
    pub fn on_probe_result(&mut self, id: CheckerId, result: ProbeResult, now: Instant) {
        if self.stopped || id.epoch != self.epoch {
            return;
        }
        let Some(pool) = self.pools.get_mut(id.vs) else {
            return;
        };
        let Some(slot) = self
            .slots
            .get_mut(id.vs)
            .and_then(|v| v.get_mut(id.rs))
            .and_then(|r| r.get_mut(id.checker))
        else {
            return;
        };
        if !slot.in_flight {
            return;
        }
        slot.in_flight = false;
        let Some(rs_weight) = pool.rs.get(id.rs).map(|r| r.weight) else {
            return;
        };
        let mut notes = Vec::new();
        let ep = slot.state.on_result(result, rs_weight);
        if let Some(w) = ep.weight {
            let old = slot.state.cur_weight;
            slot.state.cur_weight = w.cur_weight;
            let eff = pool.rs[id.rs].effective_weight - old + w.cur_weight;
            pool.set_weight(id.rs, eff, w.update_quorum, &mut notes);
        }
        if let Some(alive) = ep.report {
            update_svr_checker_state(
                pool,
                id.rs,
                &mut slot.state,
                alive,
                ep.has_run_seen,
                &mut notes,
            );
        }
        let base = if ep.from_start { slot.started_at } else { now };
        slot.next_at = Some((base + ep.delay).max(now));
        self.emit(notes);
        self.publish(id.vs);
    }

    /// Stops checking: every pool empties; with `omega`, alive real servers get their
    /// `notify_down` and the service its `quorum_down` (keepalived runs those synchronously
    /// with a 1 s timeout, see [`Notification::stopping`]).
    pub fn shutdown(&mut self) {
        let mut notes = Vec::new();
        for p in &mut self.pools {
            p.shutdown(&mut notes);
        }
        for s in self.slots.iter_mut().flatten().flatten() {
            s.next_at = None;
            s.in_flight = false;
        }
        self.stopped = true;
        self.emit(notes);
        self.publish_all();
    }

    /// Applies a new configuration (SIGHUP) as keepalived's `clear_diff_services` does:
    /// virtual servers matched by (key, protocol) and real servers by (address, port) keep
    /// their alive state, quorum state and dynamic weight; checkers with the same type and
    /// target keep their verdict (an up checker stays up without a new success); removed
    /// real servers get their down notification, removed services a
    /// [`Action::ServiceRemoved`]. Every checker is then scheduled anew (1 s + warmup).
    pub fn reload(
        &mut self,
        new: Vec<VirtualServer>,
        now: Instant,
        rand01: &mut dyn FnMut() -> f64,
    ) {
        let new = usable(new);
        self.epoch = self.epoch.wrapping_add(1);
        self.stopped = false;
        let old_vss = std::mem::take(&mut self.vss);
        let mut old_pools = std::mem::take(&mut self.pools);
        let old_slots = std::mem::take(&mut self.slots);
        let mut old_used = vec![false; old_vss.len()];
        let mut notes = Vec::new();
        for (i, vs) in new.iter().enumerate() {
            let (mut slots, failed) = new_slots(vs, now, rand01);
            let mut pool = Pool::new(i, vs, &failed);
            let old = old_vss
                .iter()
                .enumerate()
                .position(|(j, o)| !old_used[j] && o.key == vs.key && o.protocol == vs.protocol);
            if let Some(j) = old {
                old_used[j] = true;
                migrate_vs(
                    &old_vss[j],
                    &mut old_pools[j],
                    &old_slots[j],
                    vs,
                    &mut pool,
                    &mut slots,
                    &mut notes,
                );
            }
            pool.update_quorum(true, &mut notes);
            self.pools.push(pool);
            self.slots.push(slots);
        }
        for (j, p) in old_pools.iter_mut().enumerate() {
            if !old_used[j] {
                let pool = p.desired();
                p.remove(&mut notes);
                self.actions.push_back(Action::ServiceRemoved { pool });
            }
        }
        self.vss = new;
        self.published = vec![None; self.vss.len()];
        self.emit(notes);
        self.publish_all();
    }

    fn emit(&mut self, notes: Vec<Notification>) {
        self.actions.extend(notes.into_iter().map(Action::Notify));
    }

    fn publish(&mut self, vs: usize) {
        let Some(p) = self.pools.get(vs) else { return };
        let d = p.desired();
        if self.published[vs].as_ref() != Some(&d) {
            self.published[vs] = Some(d.clone());
            self.actions.push_back(Action::PoolChanged { vs, pool: d });
        }
    }

    fn publish_all(&mut self) {
        for i in 0..self.pools.len() {
            self.publish(i);
        }
    }
}

/// keepalived's `update_svr_checker_state` + `set_checker_state`.
fn update_svr_checker_state(
    pool: &mut Pool,
    rs: usize,
    chk: &mut CheckerState,
    alive: bool,
    has_run_seen: bool,
    notes: &mut Vec<Notification>,
) {
    if chk.is_up == alive {
        // First result confirms the starting state: alpha checkers announce it.
        if !has_run_seen && (chk.timing.alpha || !alive) {
            pool.notify_rs(rs, notes, false);
        }
        chk.has_run = true;
        return;
    }
    chk.has_run = true;
    let Some(nf) = pool.rs.get(rs).map(|r| r.num_failed) else {
        return;
    };
    if alive && nf <= 1 {
        pool.set_rs_alive(rs, true, notes);
    } else if !alive && nf == 0 {
        pool.set_rs_alive(rs, false, notes);
    }
    set_checker_state(pool, rs, chk, alive);
}

fn set_checker_state(pool: &mut Pool, rs: usize, chk: &mut CheckerState, up: bool) {
    if chk.is_up == up {
        return;
    }
    chk.is_up = up;
    if let Some(r) = pool.rs.get_mut(rs) {
        if up {
            r.num_failed = r.num_failed.saturating_sub(1);
        } else {
            r.num_failed += 1;
        }
    }
}

fn same_target(a: &Checker, b: &Checker) -> bool {
    a.kind == b.kind
        && a.connect_ip == b.connect_ip
        && a.connect_port == b.connect_port
        && a.bindto == b.bindto
        && a.bind_port == b.bind_port
        && a.bind_if == b.bind_if
        && a.fwmark == b.fwmark
}

/// `clear_diff_rs` + `migrate_checkers` + `clear_diff_s_srv` for one surviving VS.
fn migrate_vs(
    old_vs: &VirtualServer,
    old_pool: &mut Pool,
    old_slots: &[Vec<Slot>],
    new_vs: &VirtualServer,
    pool: &mut Pool,
    slots: &mut [Vec<Slot>],
    notes: &mut Vec<Notification>,
) {
    pool.quorum_state_up = old_pool.quorum_state_up;
    if let (Some(n), Some(o)) = (&mut pool.sorry, &old_pool.sorry)
        && n.addr == o.addr
        && n.port == o.port
    {
        n.alive = o.alive;
    }
    let mut old_rs_used = vec![false; old_vs.real_servers.len()];
    for (ri, rs) in new_vs.real_servers.iter().enumerate() {
        let Some(oi) = old_vs
            .real_servers
            .iter()
            .position(|o| o.addr == rs.addr && o.port == rs.port)
        else {
            continue;
        };
        old_rs_used[oi] = true;
        let (old_rs, old_state) = (&old_vs.real_servers[oi], &old_pool.rs[oi]);
        let dynamic_part = old_state.effective_weight - old_state.weight;
        pool.rs[ri].effective_weight = pool.rs[ri].weight + dynamic_part;
        pool.rs[ri].alive = old_state.alive;
        migrate_checkers(old_rs, &old_slots[oi], rs, &mut slots[ri]);
        let failed = slots[ri]
            .iter()
            .filter(|s| s.state.has_run && !s.state.is_up)
            .count() as u32;
        let any_run = slots[ri].iter().any(|s| s.state.has_run);
        pool.rs[ri].num_failed = failed;
        if failed > 0 || (!pool.rs[ri].alive && !any_run) {
            for s in slots[ri].iter_mut().filter(|s| !s.state.has_run) {
                if s.state.timing.alpha {
                    s.state.is_up = false;
                    pool.rs[ri].num_failed += 1;
                }
                s.state.retry_it = s.state.timing.retry;
            }
        }
        // Checkers that start up (non-alpha, never run) count as passing.
        pool.rs[ri].num_failed = slots[ri].iter().filter(|s| !s.state.is_up).count() as u32;
        if pool.rs[ri].num_failed == 0 && !pool.rs[ri].alive {
            pool.set_rs_alive(ri, true, notes);
        } else if pool.rs[ri].num_failed > 0 {
            pool.rs[ri].alive = false;
        }
    }
    for (oi, used) in old_rs_used.iter().enumerate() {
        if !used {
            old_pool.remove_rs(oi, notes);
        }
    }
}

fn migrate_checkers(old_rs: &RealServer, old: &[Slot], new_rs: &RealServer, new: &mut [Slot]) {
    let mut used = vec![false; old.len()];
    for (nc, ns) in new_rs.checkers.iter().zip(new.iter_mut()) {
        let Some(oi) = old_rs
            .checkers
            .iter()
            .enumerate()
            .position(|(i, oc)| i < old.len() && !used[i] && same_target(oc, nc))
        else {
            continue;
        };
        used[oi] = true;
        let o = &old[oi].state;
        let n = &mut ns.state;
        if o.has_run {
            n.is_up = o.is_up;
        }
        n.has_run = o.has_run;
        n.retry_it = if !n.is_up {
            n.timing.retry + 1
        } else {
            o.retry_it.min(n.timing.retry)
        };
        n.cur_weight = o.cur_weight;
        n.last_exit = o.last_exit;
        n.failed_url = o.failed_url;
    }
}
