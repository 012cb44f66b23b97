//! The thread that owns the connection to rvsd and keeps rvsd's table equal to the wanted
//! one, sending only differences, each batch as one all-or-nothing `apply` (so a dying
//! rvs-keepalived never leaves rvsd half-programmed).
//!
//! It reconnects when rvsd goes away, and after every (re)connection it reads rvsd's table
//! and sends what is missing: a restarted rvsd is programmed again, a restarted
//! rvs-keepalived adopts the services it finds without disturbing their connections.
//! Services rvs-keepalived never wanted (added with rvsadm) are left alone.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use rvs_api::{Client, ClientError, ErrorKind, Mutation};
use rvs_core::model::{ServiceKey, Timeouts};

use super::table::{Table, describe};

/// How often the connection is checked (and re-established) when nothing happens.
pub const PING_INTERVAL: Duration = Duration::from_millis(500);

enum Command {
    Set(Table),
    Timeouts(Option<Timeouts>),
    Resync,
    Stop { release: bool, done: Sender<()> },
}

/// Handle to the programming thread.
pub struct Programmer {
    tx: Sender<Command>,
    handle: Option<JoinHandle<()>>,
}

impl Programmer {
    /// Starts the thread; it connects to rvsd at `socket` (and keeps trying). With
    /// `flush` (global `lvs_flush`), rvsd's whole table is cleared on the first connection,
    /// as keepalived flushes IPVS at start.
    pub fn start(socket: PathBuf, flush: bool) -> std::io::Result<Programmer> {
        let (tx, rx) = channel();
        let mut link = Link::new(socket);
        link.flush = flush;
        let handle = std::thread::Builder::new()
            .name("rvsd-link".into())
            .spawn(move || link.run(&rx))?;
        Ok(Programmer {
            tx,
            handle: Some(handle),
        })
    }

    /// Wants rvsd to hold exactly `table` (for the services rvs-keepalived owns).
    pub fn set(&self, table: Table) {
        let _ = self.tx.send(Command::Set(table));
    }

    /// Sets rvsd's TCP / TCP FIN / UDP timeouts (global `lvs_timeouts`) now and after every
    /// reconnection; `None` leaves them alone.
    pub fn set_timeouts(&self, t: Option<Timeouts>) {
        let _ = self.tx.send(Command::Timeouts(t));
    }

    /// Reads rvsd's table again and repairs what differs (after a reload).
    pub fn resync(&self) {
        let _ = self.tx.send(Command::Resync);
    }

    /// Stops the thread; with `release`, first removes every service it created, waiting
    /// at most `timeout` for rvsd.
    pub fn stop(mut self, release: bool, timeout: Duration) {
        let (done, wait) = channel();
        if self.tx.send(Command::Stop { release, done }).is_ok() {
            let _ = wait.recv_timeout(timeout);
        }
        if let Some(h) = self.handle.take() {
            // The thread ends right after answering; if rvsd hung it is left behind and the
            // process exit ends it.
            if h.is_finished() {
                let _ = h.join();
            }
        }
    }
}

/// Errors that mean rvsd's table is not what we believed (someone used rvsadm, or we
/// adopted a table we had not read yet).
fn stale(e: &rvs_api::ApiError) -> bool {
    matches!(
        e.kind,
        ErrorKind::ServiceExists
            | ErrorKind::NoSuchService
            | ErrorKind::DestExists
            | ErrorKind::NoSuchDest
    )
}

struct Link {
    socket: PathBuf,
    client: Option<Client>,
    desired: Table,
    /// What rvsd holds of our services, when known.
    applied: Option<Table>,
    /// Services we may have created: the only ones we delete.
    owned: BTreeSet<ServiceKey>,
    /// Changes rvsd refused, not sent again until the next resync.
    refused: Vec<Mutation>,
    unreachable_logged: bool,
    /// Flush rvsd's table on the first connection.
    flush: bool,
    /// Timeouts to set; `timeouts_set` once sent on this connection.
    timeouts: Option<Timeouts>,
    timeouts_set: bool,
}

impl Link {
    fn new(socket: PathBuf) -> Link {
        Link {
            socket,
            client: None,
            desired: Table::default(),
            applied: None,
            owned: BTreeSet::new(),
            refused: Vec::new(),
            unreachable_logged: false,
            flush: false,
            timeouts: None,
            timeouts_set: false,
        }
    }

    fn run(mut self, rx: &Receiver<Command>) {
        loop {
            let cmd = match rx.recv_timeout(PING_INTERVAL) {
                Ok(c) => Some(c),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            };
            // Coalesce a burst of pool changes into one batch.
            let mut cmds: Vec<Command> = cmd.into_iter().collect();
            while let Ok(c) = rx.try_recv() {
                cmds.push(c);
            }
            for c in cmds {
                match c {
                    Command::Set(t) => {
                        // Services we never looked at in rvsd: read its table first, so one
                        // that exists (a restart of rvs-keepalived) is adopted, not re-added.
                        if t.services.keys().any(|k| !self.owned.contains(k)) {
                            self.applied = None;
                        }
                        self.owned.extend(t.services.keys().copied());
                        self.desired = t;
                    }
                    Command::Timeouts(t) => {
                        self.timeouts_set = self.timeouts == t && self.timeouts_set;
                        self.timeouts = t;
                    }
                    Command::Resync => {
                        self.applied = None;
                        self.refused.clear();
                    }
                    Command::Stop { release, done } => {
                        if release {
                            self.desired = Table::default();
                            self.sync();
                        }
                        let _ = done.send(());
                        return;
                    }
                }
            }
            if self.client.is_some() && self.applied.is_some() {
                self.ping();
            }
            self.sync();
        }
    }

    fn lost(&mut self, e: &ClientError) {
        if self.client.take().is_some() {
            tracing::warn!("lost the connection to rvsd: {e}; reconnecting");
        }
        self.applied = None;
    }

    fn ping(&mut self) {
        if let Some(c) = self.client.as_mut()
            && let Err(e) = c.info()
        {
            self.lost(&e);
        }
    }

    fn connect(&mut self) -> bool {
        if self.client.is_some() {
            return true;
        }
        match Client::connect(&self.socket) {
            Ok(c) => {
                tracing::info!("connected to rvsd at {}", self.socket.display());
                self.client = Some(c);
                self.unreachable_logged = false;
                self.applied = None;
                self.refused.clear();
                self.timeouts_set = false;
                true
            }
            Err(e) => {
                if !self.unreachable_logged {
                    tracing::error!(
                        "cannot reach rvsd at {}: {e}; retrying every {PING_INTERVAL:?}",
                        self.socket.display()
                    );
                    self.unreachable_logged = true;
                }
                false
            }
        }
    }

    /// Brings rvsd to `desired`. If rvsd's table turns out not to be what we thought
    /// (changed behind our back), it is read again and the diff recomputed, once.
    fn sync(&mut self) {
        for retry in [true, false] {
            if !self.sync_once(retry) {
                return;
            }
            self.applied = None;
        }
    }

    /// One attempt; true when our view of rvsd's table was stale and another is needed.
    fn sync_once(&mut self, may_retry: bool) -> bool {
        if !self.connect() {
            return false;
        }
        let Some(client) = self.client.as_mut() else {
            return false;
        };
        if self.flush {
            match client.flush() {
                Ok(()) => {
                    tracing::info!("lvs_flush: flushed rvsd's table");
                    self.flush = false;
                    self.applied = None;
                }
                Err(e) => {
                    self.lost(&e);
                    return false;
                }
            }
        }
        if let (Some(t), false) = (self.timeouts, self.timeouts_set) {
            match client.set_timeouts(&t) {
                Ok(()) => self.timeouts_set = true,
                Err(ClientError::Api(e)) => {
                    tracing::error!("rvsd refused lvs_timeouts: {}", e.message);
                    self.timeouts_set = true;
                }
                Err(e) => {
                    self.lost(&e);
                    return false;
                }
            }
        }
        if self.applied.is_none() {
            match client.list_services() {
                Ok(entries) => {
                    let keys: BTreeSet<ServiceKey> = self
                        .owned
                        .iter()
                        .chain(self.desired.services.keys())
                        .copied()
                        .collect();
                    self.applied = Some(Table::from_listing(&entries, &keys));
                }
                Err(e) => {
                    self.lost(&e);
                    return false;
                }
            }
        }
        let Some(applied) = self.applied.as_mut() else {
            return false;
        };
        let mut batch: Vec<Mutation> = applied
            .diff(&self.desired)
            .into_iter()
            .filter(|m| !self.refused.contains(m))
            .collect();
        // Each refusal removes one change (and what depends on it); bounded by the batch.
        while !batch.is_empty() {
            match client.apply(&batch) {
                Ok(()) => {
                    for m in &batch {
                        tracing::info!("{}", describe(m));
                        applied.apply(m);
                    }
                    break;
                }
                Err(ClientError::Api(e)) if may_retry && stale(&e) => {
                    tracing::info!(
                        "rvsd's table changed behind our back ({}); reading it again",
                        e.message
                    );
                    return true;
                }
                Err(ClientError::Api(e)) => {
                    let i = e.index.unwrap_or(0).min(batch.len() - 1);
                    let bad = batch.remove(i);
                    tracing::error!("rvsd refused: {}: {}", describe(&bad), e.message);
                    if let Mutation::AddService { service } = &bad {
                        batch.retain(|m| !matches!(m, Mutation::AddDest { service: k, .. } if *k == service.key));
                    }
                    self.refused.push(bad);
                }
                Err(e) => {
                    self.lost(&e);
                    return false;
                }
            }
        }
        self.owned = self
            .owned
            .iter()
            .filter(|k| self.desired.services.contains_key(k) || applied.services.contains_key(k))
            .copied()
            .collect();
        false
    }
}

#[cfg(test)]
#[path = "program_tests.rs"]
mod tests;
