//! The tokio driver: runs the [`Engine`] with real time, real probes and real scripts, and
//! reports to the daemon through a channel of [`Event`]s.

use std::time::Duration;

use rvs_kaconf::{CheckerKind, GlobalDefs, Script, VirtualServer};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::checker::ProbeResult;
use crate::engine::{Action, CheckerId, Engine};
use crate::pool::{DesiredPool, Notification};
use crate::probe::ProbeSpec;
use crate::rand;
use crate::script::{self, Refusal, ScriptEnv, ScriptExit};

/// What the checkers run on.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckConfig {
    /// `virtual_server` blocks.
    pub virtual_servers: Vec<VirtualServer>,
    /// `global_defs` (script_user, enable_script_security).
    pub global: GlobalDefs,
}

/// How a notification's script fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptOutcome {
    /// No script configured.
    None,
    /// Started in the background (normal operation: not waited for).
    Started,
    /// Ran to the end (shutdown notifications: waited for, 1 s timeout).
    Finished(ScriptExit),
    /// Not run.
    Refused(Refusal),
}

/// What the daemon hears from the checkers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Virtual server `vs` (index in the configuration) should now have exactly these
    /// destinations. Sent for every VS at start and after each reload, then on changes.
    Pool {
        /// Virtual server index.
        vs: usize,
        /// Desired destinations.
        pool: DesiredPool,
    },
    /// A virtual server left the configuration: delete its service.
    ServiceRemoved {
        /// Its last pool (key and protocol identify the service).
        pool: DesiredPool,
    },
    /// A real server or quorum state change, with its script's fate.
    Notify {
        /// The change.
        notification: Notification,
        /// The script.
        script: ScriptOutcome,
    },
    /// A script was refused at (re)load; MISC_CHECKs with refused scripts are removed, as
    /// keepalived removes them.
    ScriptRefused {
        /// Which script (`misc_path of RIP:PORT`, `notify_up of …`, …).
        what: String,
        /// Why.
        reason: Refusal,
    },
}

enum Command {
    Reload(Box<CheckConfig>),
    Shutdown(oneshot::Sender<()>),
}

/// Handle on the running checkers.
#[derive(Debug)]
pub struct Checks {
    cmd: mpsc::UnboundedSender<Command>,
    task: tokio::task::JoinHandle<()>,
}

/// Longest a notify script may run (keepalived sets none; we bound it anyway).
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(3600);
/// keepalived waits this long for notify scripts run at shutdown.
const STOP_NOTIFY_TIMEOUT: Duration = Duration::from_secs(1);

impl Checks {
    /// Starts checking `cfg` on the current tokio runtime; events go to `events`.
    pub fn spawn(cfg: CheckConfig, events: mpsc::UnboundedSender<Event>) -> Checks {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(cfg, events, rx));
        Checks { cmd: tx, task }
    }

    /// Applies a new configuration (see [`Engine::reload`]).
    pub fn reload(&self, cfg: CheckConfig) {
        let _ = self.cmd.send(Command::Reload(Box::new(cfg)));
    }

    /// Stops: pools empty, omega notifications run and are waited for.
    pub async fn shutdown(self) {
        let (tx, rx) = oneshot::channel();
        if self.cmd.send(Command::Shutdown(tx)).is_ok() {
            let _ = rx.await;
        }
        let _ = self.task.await;
    }
}

/// Vets every script of `vss`: refused notify scripts are dropped, MISC_CHECKs whose script
/// is refused are removed.
pub fn vet_scripts(
    mut vss: Vec<VirtualServer>,
    env: &Result<ScriptEnv, Refusal>,
) -> (Vec<VirtualServer>, Vec<Event>) {
    let mut refused = Vec::new();
    let check = |s: &mut Option<Script>, what: String, refused: &mut Vec<Event>| {
        if let Some(sc) = s {
            let r = match env {
                Ok(e) => e.prepare(sc, None).err(),
                Err(r) => Some(r.clone()),
            };
            if let Some(reason) = r {
                refused.push(Event::ScriptRefused { what, reason });
                *s = None;
            }
        }
    };
    for vs in &mut vss {
        let name = format!("{:?}", vs.key);
        check(
            &mut vs.quorum_up,
            format!("quorum_up of {name}"),
            &mut refused,
        );
        check(
            &mut vs.quorum_down,
            format!("quorum_down of {name}"),
            &mut refused,
        );
        for rs in &mut vs.real_servers {
            let rname = format!("[{}]:{}", rs.addr, rs.port);
            check(
                &mut rs.notify_up,
                format!("notify_up of {rname}"),
                &mut refused,
            );
            check(
                &mut rs.notify_down,
                format!("notify_down of {rname}"),
                &mut refused,
            );
            rs.checkers.retain(|c| {
                let CheckerKind::Misc(m) = &c.kind else {
                    return true;
                };
                let r = match (env, &m.path) {
                    (_, None) => Some(Refusal::Empty),
                    (Ok(e), Some(p)) => e.prepare(p, m.user.as_ref()).err(),
                    (Err(r), _) => Some(r.clone()),
                };
                match r {
                    None => true,
                    Some(reason) => {
                        refused.push(Event::ScriptRefused {
                            what: format!("misc_path of {rname}"),
                            reason,
                        });
                        false
                    }
                }
            });
        }
    }
    (vss, refused)
}

struct Driver {
    engine: Engine,
    env: Result<ScriptEnv, Refusal>,
    events: mpsc::UnboundedSender<Event>,
    probes: JoinSet<(CheckerId, ProbeResult)>,
}

fn now() -> std::time::Instant {
    Instant::now().into_std()
}

async fn run(
    cfg: CheckConfig,
    events: mpsc::UnboundedSender<Event>,
    mut rx: mpsc::UnboundedReceiver<Command>,
) {
    let env = ScriptEnv::from_global(&cfg.global);
    let (vss, refused) = vet_scripts(cfg.virtual_servers, &env);
    for e in refused {
        let _ = events.send(e);
    }
    let engine = Engine::new(vss, now(), &mut rand::next_f64);
    let mut d = Driver {
        engine,
        env,
        events,
        probes: JoinSet::new(),
    };
    loop {
        d.drain(false).await;
        let wake = d.engine.poll_timeout().map(Instant::from_std);
        tokio::select! {
            _ = async { tokio::time::sleep_until(wake.unwrap_or_else(Instant::now)).await }, if wake.is_some() => {
                d.engine.handle_timeout(now());
            }
            Some(res) = d.probes.join_next(), if !d.probes.is_empty() => {
                if let Ok((id, r)) = res {
                    d.engine.on_probe_result(id, r, now());
                }
            }
            cmd = rx.recv() => match cmd {
                Some(Command::Reload(cfg)) => {
                    d.probes.abort_all();
                    d.env = ScriptEnv::from_global(&cfg.global);
                    let cfg = *cfg;
                    let (vss, refused) = vet_scripts(cfg.virtual_servers, &d.env);
                    for e in refused {
                        let _ = d.events.send(e);
                    }
                    d.engine.reload(vss, now(), &mut rand::next_f64);
                }
                Some(Command::Shutdown(ack)) => {
                    d.stop().await;
                    let _ = ack.send(());
                    return;
                }
                None => {
                    d.stop().await;
                    return;
                }
            }
        }
    }
}

impl Driver {
    async fn stop(&mut self) {
        self.probes.abort_all();
        self.engine.shutdown();
        self.drain(true).await;
    }

    async fn drain(&mut self, stopping: bool) {
        while let Some(a) = self.engine.poll_action() {
            match a {
                Action::StartProbe { id, step } => self.start_probe(id, step),
                Action::PoolChanged { vs, pool } => {
                    let _ = self.events.send(Event::Pool { vs, pool });
                }
                Action::ServiceRemoved { pool } => {
                    let _ = self.events.send(Event::ServiceRemoved { pool });
                }
                Action::Notify(n) => {
                    let script = self.notify(&n, stopping).await;
                    let _ = self.events.send(Event::Notify {
                        notification: n,
                        script,
                    });
                }
            }
        }
    }

    fn start_probe(&mut self, id: CheckerId, step: usize) {
        let spec = match (&self.env, self.engine.checker_config(id)) {
            (Ok(env), Some((vs, rs, c))) => ProbeSpec::build(vs, rs, c, step, env),
            (Err(r), _) => Err(r.clone()),
            (_, None) => return,
        };
        match spec {
            Ok(spec) => {
                self.probes.spawn(async move { (id, spec.run().await) });
            }
            Err(reason) => {
                tracing::warn!(?id, %reason, "probe not run");
                self.engine.on_probe_result(id, ProbeResult::Failure, now());
            }
        }
    }

    async fn notify(&self, n: &Notification, stopping: bool) -> ScriptOutcome {
        let Some(s) = &n.script else {
            return ScriptOutcome::None;
        };
        let prepared = match &self.env {
            Ok(env) => env.prepare(s, None),
            Err(r) => Err(r.clone()),
        };
        let p = match prepared {
            Ok(p) => p,
            Err(r) => return ScriptOutcome::Refused(r),
        };
        if stopping || n.stopping {
            ScriptOutcome::Finished(script::run(&p, STOP_NOTIFY_TIMEOUT).await)
        } else {
            tokio::spawn(async move {
                script::run(&p, NOTIFY_TIMEOUT).await;
            });
            ScriptOutcome::Started
        }
    }
}
