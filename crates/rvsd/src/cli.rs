//! rvsd's command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// The Rust Virtual Server director: balances the packets of configured virtual services
/// with its own XDP/AF_XDP data plane, and takes its configuration from rvsadm or
/// rvs-keepalived over a control socket.
#[derive(Debug, Parser)]
#[command(name = "rvsd", version)]
pub struct Cli {
    /// Interface to serve (repeat for several: e.g. the external side and the DIP side).
    #[arg(long = "interface", short = 'i', value_name = "IF", required = true)]
    pub interfaces: Vec<String>,
    /// Control socket path [default: $RVS_SOCKET or /run/rvs/rvsd.sock].
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Keep the configuration in FILE across restarts (written atomically on every change,
    /// loaded at start).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Worker threads (worker N serves queue N of every interface) [default: the RX queue
    /// count of the interfaces].
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// How to attach the XDP program.
    #[arg(long, value_enum, default_value_t = XdpModeArg::Auto)]
    pub xdp_mode: XdpModeArg,
    /// Spin on the rings instead of sleeping (lower latency, a busy core per worker).
    #[arg(long)]
    pub busy_poll: bool,
    /// Most connection entries per worker; the oldest idle ones are evicted beyond it.
    #[arg(long, value_name = "N", default_value_t = 1 << 20)]
    pub max_conns: usize,
    /// Forward every packet through AF_XDP and the core: no XDP fast path for established
    /// flows. Without this flag or --fast-path, the fast path is on when every interface is
    /// a physical NIC and off on virtual ones (veth, bridge, macvlan…), where XDP redirects
    /// cost more than they save (BENCHMARKS.md).
    #[arg(long, conflicts_with = "fast_path")]
    pub no_fast_path: bool,
    /// Forward established DR and NAT flows in the XDP program, also on virtual interfaces.
    #[arg(long)]
    pub fast_path: bool,
    /// Where SIGUSR1 writes the data plane's counters (drops by reason, steering, AF_XDP) as
    /// JSON, replaced atomically [default: the log, at info level].
    #[arg(long, value_name = "FILE")]
    pub stats_file: Option<PathBuf>,
    /// Serve the counters for Prometheus at http://ADDR:PORT/metrics (e.g. 127.0.0.1:9469,
    /// [::1]:9469) [default: off].
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics: Option<SocketAddr>,
    /// Log level: error, warn, info, debug or trace (or a tracing filter).
    #[arg(long, value_name = "L", default_value = "info")]
    pub log_level: String,
}

/// XDP attach mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum XdpModeArg {
    /// Native (driver) mode where the driver supports it, generic otherwise.
    Auto,
    /// Native (driver) mode only.
    Native,
    /// Generic (skb) mode.
    Generic,
}
