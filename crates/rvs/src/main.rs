//! rvs: lab, real-server set-up, demo and benchmarks for the Rust Virtual Server.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use rvs::lab::{self, Topology, UpOptions};
use rvs::realserver::{dr, tun};
use rvs::serve::{self, ServeOptions};

#[derive(Parser)]
#[command(
    name = "rvs",
    version,
    about = "Rust Virtual Server companion: labs and real servers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build or remove a lab of network namespaces (the seed article's experiments).
    Lab {
        #[command(subcommand)]
        action: LabAction,
    },
    /// Prepare this host (current network namespace) as an LVS real server.
    Realserver {
        #[command(subcommand)]
        method: RealServerMethod,
    },
    /// Lab benchmark: rvsd against direct, nftables DNAT and HAProxy on the same labs.
    Bench(rvs::bench::BenchArgs),
    /// UDP generator of the benchmark (sendmmsg).
    #[command(hide = true)]
    Blast(rvs::bench::udp::BlastArgs),
    /// UDP sink of the benchmark (recvmmsg, counts until stdin closes).
    #[command(hide = true)]
    Sink(rvs::bench::udp::SinkArgs),
    /// Walk through the seed article on the labs: NAT, DR/TUN, schedulers, HA (root).
    Demo {
        /// Run only step N (1 NAT, 2 DR and TUN, 3 schedulers, 4 HA).
        #[arg(long, value_name = "N")]
        step: Option<usize>,
        /// Leave the labs and their daemons up at the end, to explore.
        #[arg(long)]
        keep: bool,
        /// Lab name prefix (labs are PREFIX-nat, PREFIX-dr, ...).
        #[arg(long, default_value = "demo", hide = true)]
        prefix: String,
    },
    /// Built-in real-server process: HTTP answering its name, UDP echo of its name.
    #[command(hide = true)]
    Serve {
        /// The name to answer with.
        #[arg(long)]
        name: String,
        /// Network namespace (under /run/netns) to enter first.
        #[arg(long)]
        netns: Option<String>,
        /// HTTP listen address (repeatable), e.g. 0.0.0.0:80 or [::]:80.
        #[arg(long)]
        http: Vec<SocketAddr>,
        /// UDP echo listen address (repeatable).
        #[arg(long)]
        udp_echo: Vec<SocketAddr>,
        /// Write the PID here once all sockets are bound.
        #[arg(long)]
        pid_file: Option<PathBuf>,
        /// HTTP worker threads.
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
}

#[derive(Subcommand)]
enum LabAction {
    /// Build a lab and print its description as one JSON object.
    Up {
        /// nat (§9), dr (§10), tun (§7) or ha (§11: DR with two directors).
        topology: Topology,
        /// Lab name: namespaces are NAME-client, NAME-director, ...
        #[arg(long, default_value = lab::DEFAULT_NAME)]
        name: String,
        /// Configure IPv6 (2001:db8::/32) next to IPv4.
        #[arg(long)]
        ipv6: bool,
        /// HTTP port of the built-in servers (repeatable).
        #[arg(long = "http-port", default_values_t = [80])]
        http_ports: Vec<u16>,
        /// UDP echo port of the built-in servers (repeatable).
        #[arg(long = "udp-port", default_values_t = [7])]
        udp_ports: Vec<u16>,
        /// Do not start the built-in servers.
        #[arg(long)]
        no_servers: bool,
    },
    /// Remove a lab: its processes, namespaces and state (also a half-built one).
    Down {
        /// Lab name.
        #[arg(long, default_value = lab::DEFAULT_NAME)]
        name: String,
        /// Also stop processes started by hand inside the lab (rvsd, nginx, ...).
        #[arg(long)]
        kill_all: bool,
    },
}

#[derive(Subcommand)]
enum RealServerMethod {
    /// Direct routing: VIP on lo, arp_ignore=1, arp_announce=2.
    Dr {
        /// Virtual IP (repeatable; IPv4 or IPv6).
        #[arg(long, required = true)]
        vip: Vec<IpAddr>,
        /// Remove the configuration instead.
        #[arg(long)]
        undo: bool,
    },
    /// Tunnelling: as dr, plus decapsulation (kernel ipip, else an XDP program).
    Tun {
        /// Virtual IP (repeatable; IPv4 or IPv6).
        #[arg(long, required = true)]
        vip: Vec<IpAddr>,
        /// Interface for the XDP program (repeatable; default: every Ethernet interface).
        #[arg(long)]
        interface: Vec<String>,
        /// Decapsulation method.
        #[arg(long, value_enum, default_value_t = tun::Method::Auto)]
        method: tun::Method,
        /// Remove the configuration instead.
        #[arg(long)]
        undo: bool,
    },
}

fn run(cli: Cli) -> rvs::Result<()> {
    match cli.command {
        Command::Lab { action } => match action {
            LabAction::Up {
                topology,
                name,
                ipv6,
                http_ports,
                udp_ports,
                no_servers,
            } => {
                let info = lab::up(&UpOptions {
                    topology,
                    name,
                    ipv6,
                    http_ports,
                    udp_ports,
                    servers: !no_servers,
                })?;
                let json = serde_json::to_string_pretty(&info)
                    .map_err(|e| rvs::Error::Invalid(format!("encoding JSON: {e}")))?;
                println!("{json}");
                Ok(())
            }
            LabAction::Down { name, kill_all } => {
                let report = lab::down(&name, kill_all)?;
                if report.namespaces.is_empty() && report.stopped.is_empty() {
                    eprintln!("rvs: no lab named `{name}`; nothing to remove");
                }
                for (ns, pid) in &report.left_running {
                    eprintln!(
                        "rvs: warning: process {pid} still runs in {ns} (not started by the lab); \
                         the namespace lives on until it exits (use --kill-all to stop it)"
                    );
                }
                Ok(())
            }
        },
        Command::Realserver { method } => match method {
            RealServerMethod::Dr { vip, undo: false } => dr::setup(&vip),
            RealServerMethod::Dr { vip, undo: true } => dr::undo(&vip),
            RealServerMethod::Tun {
                vip,
                interface,
                method,
                undo,
            } => {
                if undo {
                    for dev in tun::undo(&vip, &interface)? {
                        eprintln!("rvs: detached {} from {dev}", rvs::realserver::xdp::PROGRAM);
                    }
                    Ok(())
                } else {
                    tun::setup(&vip, method, &interface)
                }
            }
        },
        Command::Bench(args) => rvs::bench::main(&args),
        Command::Blast(args) => rvs::bench::udp::blast_main(&args),
        Command::Sink(args) => rvs::bench::udp::sink_main(&args),
        Command::Demo { step, keep, prefix } => {
            rvs::demo::run(&rvs::demo::Options { step, keep, prefix })
        }
        Command::Serve {
            name,
            netns,
            http,
            udp_echo,
            pid_file,
            threads,
        } => serve::run(&ServeOptions {
            name,
            netns,
            http,
            udp_echo,
            pid_file,
            threads,
        }),
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rvs: error: {e}");
            ExitCode::FAILURE
        }
    }
}
