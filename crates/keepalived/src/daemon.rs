//! The daemon: start the subsystems, react to signals (HUP reload, TERM/INT stop, USR1
//! data dump, USR2 statistics), stop cleanly.
//!
//! keepalived runs a parent and two children (VRRP, checkers); we run one process with the
//! same two subsystems, so `-P`/`-C` select them and the `-r`/`-c` PID files name us.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::Path;

use rvs_kaconf::{CheckOptions, Config, Parsed, Severity};
use tokio::signal::unix::{SignalKind, signal};

use crate::cli::{Options, exit};
use crate::lvs::Lvs;
use crate::lvs::table::ShowKey;
use crate::process::{PidError, PidFiles};
use crate::vrrp_map;
use crate::vrrp_units::VrrpSet;
use crate::{logging, process};

/// Where SIGUSR1 / SIGUSR2 write, as keepalived's defaults.
const DATA_FILE: &str = "/tmp/keepalived.data";
const STATS_FILE: &str = "/tmp/keepalived.stats";

/// Parses the configuration with this host's config-id and interfaces.
pub fn load(opts: &Options) -> Parsed {
    let mut co = CheckOptions::from_system();
    if let Some(id) = &opts.config_id {
        co.config_id = Some(id.clone());
    }
    rvs_kaconf::parse_file(&opts.config, &co)
}

fn log_diagnostics(p: &Parsed) {
    for d in &p.diagnostics {
        match d.severity {
            Severity::Error => tracing::error!("{d}"),
            Severity::Warning => tracing::warn!("{d}"),
            Severity::Note => tracing::debug!("{d}"),
        }
    }
}

/// Runs the daemon; returns the process exit code.
pub fn run(opts: Options, args: &[OsString]) -> i32 {
    let parsed = load(&opts);
    if parsed.has_errors() {
        // Still attached to the terminal: say why, as `-t` would.
        eprint!("{}", parsed.render());
        return exit::CONFIG;
    }
    if !opts.dont_fork {
        return match process::background(args, &opts.pid_file) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("rvs-keepalived: cannot start in the background: {e}");
                exit::FATAL
            }
        };
    }
    logging::init(
        opts.log_console,
        !opts.no_syslog,
        opts.log_facility,
        opts.log_file.as_deref(),
        opts.log_detail,
    );
    tracing::info!("Starting rvs-keepalived {}", env!("CARGO_PKG_VERSION"));
    log_diagnostics(&parsed);
    let extra: Vec<&Path> = [&opts.vrrp_pid_file, &opts.checkers_pid_file]
        .into_iter()
        .flatten()
        .map(|p| p.as_path())
        .collect();
    let _pids = match PidFiles::write(&opts.pid_file, &extra) {
        Ok(p) => p,
        Err(PidError::Running(pid)) => {
            tracing::info!("daemon is already running (pid {pid})");
            return exit::OK;
        }
        Err(PidError::Io(p, e)) => {
            tracing::error!("cannot write pid file {}: {e}", p.display());
            return exit::FATAL;
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the runtime: {e}");
            return exit::FATAL;
        }
    };
    let code = rt.block_on(Daemon::new(opts, parsed.config).run());
    tracing::info!("Stopped rvs-keepalived");
    code
}

enum Wake {
    Reload,
    Stop(&'static str),
    Data,
    Stats,
    Check(rvs_check::Event),
}

struct Daemon {
    opts: Options,
    cfg: Config,
    lvs: Option<Lvs>,
    vrrp: Option<VrrpSet>,
}

async fn next_check_event(lvs: &mut Option<Lvs>) -> Option<rvs_check::Event> {
    match lvs {
        Some(l) => l.next_event().await,
        None => std::future::pending().await,
    }
}

impl Daemon {
    fn new(opts: Options, cfg: Config) -> Daemon {
        Daemon {
            opts,
            cfg,
            lvs: None,
            vrrp: None,
        }
    }

    fn wants_lvs(&self, cfg: &Config) -> bool {
        !self.opts.vrrp_only && !cfg.virtual_servers.is_empty()
    }

    fn wants_vrrp(&self, cfg: &Config) -> bool {
        !self.opts.check_only && !cfg.vrrp_instances.is_empty()
    }

    fn start_lvs(&mut self) {
        let socket = rvs_api::socket_path();
        match Lvs::start(&self.cfg, socket) {
            Ok(l) => {
                tracing::info!("Starting Healthcheck child process");
                self.lvs = Some(l);
            }
            Err(e) => tracing::error!("cannot start the checkers: {e}"),
        }
    }

    async fn run(mut self) -> i32 {
        let mut signals = match (
            signal(SignalKind::hangup()),
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::user_defined1()),
            signal(SignalKind::user_defined2()),
        ) {
            (Ok(a), Ok(b), Ok(c), Ok(d), Ok(e)) => (a, b, c, d, e),
            _ => {
                tracing::error!("cannot install signal handlers");
                return exit::FATAL;
            }
        };
        if self.wants_lvs(&self.cfg) {
            self.start_lvs();
        }
        if self.wants_vrrp(&self.cfg) {
            tracing::info!("Starting VRRP child process");
            self.apply_vrrp(&self.cfg.clone());
        }
        loop {
            let (hup, term, int, usr1, usr2) = &mut signals;
            let wake = tokio::select! {
                _ = hup.recv() => Wake::Reload,
                _ = term.recv() => Wake::Stop("SIGTERM"),
                _ = int.recv() => Wake::Stop("SIGINT"),
                _ = usr1.recv() => Wake::Data,
                _ = usr2.recv() => Wake::Stats,
                Some(ev) = next_check_event(&mut self.lvs) => Wake::Check(ev),
            };
            match wake {
                Wake::Reload => self.reload(),
                Wake::Stop(sig) => {
                    tracing::info!("Stopping ({sig})");
                    break;
                }
                Wake::Data => self.dump_data(),
                Wake::Stats => self.dump_stats(),
                Wake::Check(ev) => {
                    if let Some(l) = self.lvs.as_mut() {
                        l.on_event(ev);
                    }
                }
            }
        }
        if let Some(v) = self.vrrp.take() {
            let release = !self.opts.dont_release_vrrp;
            let _ = tokio::task::spawn_blocking(move || v.stop(release)).await;
        }
        if let Some(l) = self.lvs.take() {
            l.stop(!self.opts.dont_release_ipvs).await;
        }
        exit::OK
    }

    /// Starts, or reconfigures, the VRRP units for `cfg`.
    fn apply_vrrp(&mut self, cfg: &Config) {
        let (config, unsupported) = vrrp_map::config(cfg);
        for u in &unsupported.0 {
            tracing::warn!("{u}");
        }
        let set = self.vrrp.get_or_insert_with(VrrpSet::default);
        set.apply(&config);
        if set.is_empty() {
            self.vrrp = None;
        }
    }

    fn reload(&mut self) {
        tracing::info!("Reloading ...");
        let parsed = load(&self.opts);
        if parsed.has_errors() {
            log_diagnostics(&parsed);
            tracing::error!("Configuration has errors - keeping the running configuration");
            return;
        }
        log_diagnostics(&parsed);
        let new = parsed.config;
        if self.wants_lvs(&new) {
            match self.lvs.as_mut() {
                Some(l) => l.reload(&new),
                None => {
                    self.cfg = new.clone();
                    self.start_lvs();
                }
            }
        } else if let Some(l) = self.lvs.as_mut() {
            // No virtual server left: the (now empty) configuration removes the services.
            l.reload(&new);
        }
        if self.wants_vrrp(&new) {
            self.apply_vrrp(&new);
        } else if let Some(v) = self.vrrp.take() {
            v.stop(true);
        }
        self.cfg = new;
        tracing::info!("Reload finished");
    }

    fn dump_data(&self) {
        let mut s = String::new();
        let _ = writeln!(s, "------< rvs-keepalived data >------");
        let _ = writeln!(s, "config file = {}", self.opts.config.display());
        if let Some(v) = &self.vrrp {
            for i in v.status() {
                let _ = writeln!(
                    s,
                    " VRRP Instance = {}\n   State = {}\n   Effective priority = {}\n   Master = {}",
                    i.name,
                    i.state,
                    i.priority,
                    i.master.map_or("-".to_string(), |m| m.to_string())
                );
            }
        }
        if let Some(l) = &self.lvs {
            for (key, svc) in &l.table().services {
                let _ = writeln!(
                    s,
                    " Virtual Server = {} (lb_algo {})",
                    ShowKey(key),
                    svc.config.scheduler
                );
                for d in svc.dests.values() {
                    let _ = writeln!(
                        s,
                        "   Real Server = [{}]:{} weight {}",
                        d.addr, d.port, d.weight
                    );
                }
            }
        }
        write_dump(DATA_FILE, &s);
    }

    fn dump_stats(&self) {
        let mut s = String::new();
        if let Some(v) = &self.vrrp {
            for i in v.status() {
                let st = &i.stats;
                let _ = writeln!(
                    s,
                    "VRRP Instance: {}\n  Advertisements:\n    Received: {}\n    Sent: {}\n  Became master: {}\n  Released master: {}\n  Priority Zero:\n    Received: {}\n    Sent: {}\n  Packet Errors:\n    TTL: {}\n    Version: {}\n    Auth: {}\n    Interval: {}\n    Address list: {}\n    Other: {}",
                    i.name,
                    st.adverts_received,
                    st.adverts_sent,
                    st.became_master,
                    st.released_master,
                    st.priority_zero_received,
                    st.priority_zero_sent,
                    st.ttl_errors,
                    st.version_errors,
                    st.auth_errors,
                    st.interval_errors,
                    st.address_list_errors,
                    st.other_drops
                );
            }
        }
        write_dump(STATS_FILE, &s);
    }
}

fn write_dump(path: &str, text: &str) {
    match std::fs::write(path, text) {
        Ok(()) => tracing::info!("Wrote {path}"),
        Err(e) => tracing::error!("cannot write {path}: {e}"),
    }
}
