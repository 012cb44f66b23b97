//! The LVS side: health checks decide the destination sets, rvsd gets the differences.
//!
//! keepalived's checker process, as one object: the check crate's runner tells which real
//! servers belong in each virtual server ([`rvs_check::Event::Pool`]); [`map`] turns the
//! configuration and the pools into rvsd services; [`program`] keeps rvsd equal to that.

pub mod map;
pub mod program;
pub mod table;

use std::path::PathBuf;
use std::time::Duration;

use rvs_check::{CheckConfig, Checks, DesiredPool, Event, NotifyKind};
use rvs_core::model::Timeouts;
use rvs_kaconf::{Config, VirtualServer};
use tokio::sync::mpsc;

use program::Programmer;
use table::Table;

/// The running LVS subsystem.
pub struct Lvs {
    programmer: Programmer,
    checks: Checks,
    events: mpsc::UnboundedReceiver<Event>,
    cfg: Config,
    pools: Vec<Option<DesiredPool>>,
}

/// What a dead real server looks like in the old pool, carried into a reload so the first
/// table after it does not put a known-dead server back for a moment.
fn seed_pool(new: &VirtualServer, old: Option<(&VirtualServer, &DesiredPool)>) -> DesiredPool {
    let mut pool = map::initial_pool(new);
    if let Some((old_vs, old_pool)) = old {
        pool.destinations.retain_mut(|d| {
            let configured_before = old_vs
                .real_servers
                .iter()
                .any(|r| r.addr == d.addr && r.port == d.port);
            let before = old_pool
                .destinations
                .iter()
                .find(|o| o.addr == d.addr && o.port == d.port && !o.sorry);
            match before {
                Some(o) if o.weight == 0 => {
                    d.weight = 0;
                    true
                }
                Some(_) => true,
                None => !configured_before,
            }
        });
        pool.destinations
            .extend(old_pool.destinations.iter().filter(|o| o.sorry).cloned());
    }
    pool
}

/// `lvs_timeouts` as rvsd's timeouts (0 = leave unchanged), or `None` when not configured.
fn timeouts(cfg: &Config) -> Option<Timeouts> {
    let t = cfg.global.lvs_timeouts;
    let secs =
        |d: Option<Duration>| d.map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX));
    (t.tcp.is_some() || t.tcpfin.is_some() || t.udp.is_some()).then(|| Timeouts {
        tcp: secs(t.tcp),
        tcp_fin: secs(t.tcpfin),
        udp: secs(t.udp),
    })
}

impl Lvs {
    /// Starts checking `cfg` and programming rvsd at `socket`; must run inside a tokio
    /// runtime.
    pub fn start(cfg: &Config, socket: PathBuf) -> std::io::Result<Lvs> {
        let programmer = Programmer::start(socket, cfg.global.lvs_flush)?;
        programmer.set_timeouts(timeouts(cfg));
        let (tx, events) = mpsc::unbounded_channel();
        let checks = Checks::spawn(
            CheckConfig {
                virtual_servers: cfg.virtual_servers.clone(),
                global: cfg.global.clone(),
            },
            tx,
        );
        let pools = cfg
            .virtual_servers
            .iter()
            .map(|vs| Some(map::initial_pool(vs)))
            .collect();
        let lvs = Lvs {
            programmer,
            checks,
            events,
            cfg: cfg.clone(),
            pools,
        };
        lvs.push();
        Ok(lvs)
    }

    /// The table wanted now.
    pub fn table(&self) -> Table {
        map::table(
            &self.cfg.virtual_servers,
            &self.cfg.virtual_server_groups,
            &self.pools,
        )
    }

    fn push(&self) {
        self.programmer.set(self.table());
    }

    /// The next event of the checkers.
    pub async fn next_event(&mut self) -> Option<Event> {
        self.events.recv().await
    }

    /// Takes in one event of the checkers.
    pub fn on_event(&mut self, ev: Event) {
        match ev {
            Event::Pool { vs, pool } => {
                let matches = self
                    .cfg
                    .virtual_servers
                    .get(vs)
                    .is_some_and(|v| v.key == pool.key && v.protocol == pool.protocol);
                // A pool published before a reload was taken in names an old index: the
                // runner publishes every pool again after the reload.
                if matches && self.pools[vs].as_ref() != Some(&pool) {
                    self.pools[vs] = Some(pool);
                    self.push();
                }
            }
            Event::ServiceRemoved { .. } => {}
            Event::Notify { notification, .. } => {
                let what = match notification.kind {
                    NotifyKind::RsUp => "real server up",
                    NotifyKind::RsDown => "real server down",
                    NotifyKind::QuorumUp => "quorum gained",
                    NotifyKind::QuorumDown => "quorum lost",
                };
                tracing::debug!("notify: {what} (virtual server {})", notification.vs);
            }
            Event::ScriptRefused { what, reason } => {
                tracing::warn!("{what}: script not run: {reason}");
            }
        }
    }

    /// Applies a reloaded configuration: only the differences reach rvsd.
    pub fn reload(&mut self, cfg: &Config) {
        let pools = cfg
            .virtual_servers
            .iter()
            .map(|vs| {
                let old = self
                    .cfg
                    .virtual_servers
                    .iter()
                    .zip(&self.pools)
                    .find(|(o, _)| o.key == vs.key && o.protocol == vs.protocol)
                    .and_then(|(o, p)| p.as_ref().map(|p| (o, p)));
                Some(seed_pool(vs, old))
            })
            .collect();
        self.cfg = cfg.clone();
        self.pools = pools;
        self.programmer.set_timeouts(timeouts(cfg));
        self.checks.reload(CheckConfig {
            virtual_servers: cfg.virtual_servers.clone(),
            global: cfg.global.clone(),
        });
        self.push();
        // Also repair what was changed behind our back (keepalived's reload does not:
        // issues #1018 and #1877).
        self.programmer.resync();
    }

    /// Stops the checkers; with `release`, removes our services from rvsd (keepalived's
    /// default), otherwise leaves rvsd forwarding as it is (`-I`).
    pub async fn stop(self, release: bool) {
        // Pools emptied by the checkers' shutdown are not forwarded: the services go
        // whole (release) or stay whole (-I).
        self.checks.shutdown().await;
        let programmer = self.programmer;
        let _ =
            tokio::task::spawn_blocking(move || programmer.stop(release, Duration::from_secs(5)))
                .await;
    }
}
