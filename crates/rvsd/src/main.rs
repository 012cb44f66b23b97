//! rvsd: the Rust Virtual Server director daemon.
//!
//! Foreground process: attaches the steering program to the interfaces, runs the data plane
//! workers, serves the control socket, and on SIGTERM/SIGINT detaches everything and exits.
//! The data plane's counters (drops by reason, steering, workers, AF_XDP, connection table)
//! are answered by the `counters` query, dumped as JSON on SIGUSR1 (to `--stats-file` or the
//! log), and with `--metrics ADDR:PORT` served for Prometheus with the services' counters.

mod backend;
mod cli;
mod conns;
mod control;
mod counters;
mod engine;
mod metrics;
mod state;
mod xdp;

use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use clap::Parser as _;
use rvs_api::Backend as _;
use rvs_dataplane::{DataplaneConfig, XdpMode};
use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1};

use crate::backend::RvsdBackend;
use crate::cli::{Cli, XdpModeArg};
use crate::control::ControlSocket;
use crate::state::StateFile;
use crate::xdp::XdpEngine;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&cli.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("rvsd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    // Signals first, so a SIGTERM during start-up still detaches cleanly.
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGUSR1])
        .context("installing signal handlers")?;
    let socket_path = cli.socket.clone().unwrap_or_else(rvs_api::socket_path);
    // Bind before attaching anything: a second rvsd on the same socket stops here.
    let socket = ControlSocket::bind(&socket_path)
        .with_context(|| format!("control socket {}", socket_path.display()))?;
    let metrics_listener = cli
        .metrics
        .map(|addr| TcpListener::bind(addr).with_context(|| format!("--metrics {addr}")))
        .transpose()?;

    let config = DataplaneConfig {
        interfaces: cli.interfaces.clone(),
        workers: cli.workers,
        xdp_mode: match cli.xdp_mode {
            XdpModeArg::Auto => XdpMode::Auto,
            XdpModeArg::Native => XdpMode::Native,
            XdpModeArg::Generic => XdpMode::Generic,
        },
        busy_poll: cli.busy_poll,
        max_conns: cli.max_conns,
        fast_path: fast_path_wanted(&cli),
        ..DataplaneConfig::default()
    };
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
        ^ u64::from(std::process::id());
    let engine = XdpEngine::start(config, seed)?;
    let dp_handle = Arc::new(Mutex::new(Some(engine)));

    let mut backend = RvsdBackend::new(
        Box::new(EngineRef(dp_handle.clone())),
        cli.state.clone().map(StateFile::new),
    );
    match backend.restore() {
        Ok(0) => {}
        Ok(n) => tracing::info!("restored {n} services from the state file"),
        Err(e) => {
            stop(&dp_handle);
            return Err(e.context("loading the state file"));
        }
    }
    let backend = Arc::new(Mutex::new(backend));
    let control = backend.clone();
    socket.serve(Arc::new(move |line: &str| {
        let mut b = control.lock().unwrap_or_else(|p| p.into_inner());
        rvs_api::handle_line(&mut *b, line)
    }))?;
    if let Some(listener) = metrics_listener {
        let scraped = backend.clone();
        metrics::serve(
            listener,
            Arc::new(move || {
                let b = scraped.lock().unwrap_or_else(|p| p.into_inner());
                metrics::scrape(&*b).map_err(|e| format!("reading the counters: {e}"))
            }),
        )
        .context("starting the metrics responder")?;
    }
    tracing::info!(
        interfaces = ?cli.interfaces,
        socket = %socket_path.display(),
        metrics = ?cli.metrics,
        "rvsd is running"
    );

    for signal in signals.forever() {
        if signal == SIGUSR1 {
            dump_counters(&backend, cli.stats_file.as_ref().map(StateFile::new));
            continue;
        }
        tracing::info!("signal {signal}: stopping");
        break;
    }
    drop(socket);
    stop(&dp_handle);
    Ok(())
}

/// SIGUSR1: write the data plane's counters (the `counters` answer) to `file` (atomically),
/// or log them.
fn dump_counters(backend: &Mutex<RvsdBackend>, file: Option<StateFile>) {
    let counters = backend.lock().unwrap_or_else(|p| p.into_inner()).counters();
    let json = counters
        .map_err(anyhow::Error::from)
        .and_then(|c| Ok(serde_json::to_string(&c)?));
    match (json, file) {
        (Ok(json), Some(file)) => {
            if let Err(e) = file.store(&json) {
                tracing::warn!("cannot write counters to {}: {e}", file.path().display());
            }
        }
        (Ok(json), None) => tracing::info!("counters {json}"),
        (Err(e), _) => tracing::warn!("reading counters: {e:#}"),
    }
}

/// Stop the data plane (detach the program, close the sockets), once.
fn stop(handle: &Arc<Mutex<Option<XdpEngine>>>) {
    let engine = handle.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(engine) = engine {
        engine.stop();
    }
}

/// The engine as the backend sees it, shared with the shutdown path so it can be stopped
/// while a control client holds the backend.
struct EngineRef(Arc<Mutex<Option<XdpEngine>>>);

impl engine::Engine for EngineRef {
    fn install(&mut self, snapshot: &Arc<rvs_core::config::Snapshot>) -> anyhow::Result<()> {
        match self.0.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            Some(e) => e.install(snapshot),
            None => anyhow::bail!("rvsd is stopping"),
        }
    }

    fn readings(&self, snapshot: &rvs_core::config::Snapshot) -> anyhow::Result<engine::Readings> {
        match self.0.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            Some(e) => e.readings(snapshot),
            None => anyhow::bail!("rvsd is stopping"),
        }
    }

    fn connections(&self) -> anyhow::Result<Vec<rvs_api::ConnEntry>> {
        match self.0.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            Some(e) => e.connections(),
            None => anyhow::bail!("rvsd is stopping"),
        }
    }

    fn counters(&self) -> anyhow::Result<rvs_api::DataplaneCounters> {
        match self.0.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            Some(e) => e.counters(),
            None => anyhow::bail!("rvsd is stopping"),
        }
    }
}

/// The fast path's setting: the flags, else on only when every interface is a physical NIC
/// (a device in /sys/class/net/IF/device). On virtual links the kernel converts every
/// redirected frame back into an skb on the sender's core, which the lab measures as a loss.
fn fast_path_wanted(cli: &Cli) -> bool {
    if cli.no_fast_path || cli.fast_path {
        return cli.fast_path;
    }
    let virtual_ifaces: Vec<&String> = cli
        .interfaces
        .iter()
        .filter(|i| !std::path::Path::new(&format!("/sys/class/net/{i}/device")).exists())
        .collect();
    if virtual_ifaces.is_empty() {
        return true;
    }
    tracing::info!(
        interfaces = ?virtual_ifaces,
        "XDP fast path off on virtual interfaces (--fast-path turns it on)"
    );
    false
}
