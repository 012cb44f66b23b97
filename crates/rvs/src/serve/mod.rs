//! `rvs serve` (hidden): the built-in real-server process of the lab.
//!
//! HTTP on every `--http` address (see [`http`]) and a UDP name echo on every `--udp-echo`
//! address (see [`udp`]). With `--netns` it enters that namespace first, so `lab up` can start
//! it without a shell; it detaches with setsid and writes its PID once every socket is bound.

pub mod http;
pub mod udp;

use std::fs;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;

use nix::sched::{CloneFlags, setns};
use socket2::{Domain, Protocol, Socket, Type};

use crate::error::{Error, Result};

/// What to serve.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// The server's name: the HTTP body and the UDP answer.
    pub name: String,
    /// Namespace (under /run/netns) to enter before binding.
    pub netns: Option<String>,
    /// HTTP listen addresses.
    pub http: Vec<SocketAddr>,
    /// UDP echo listen addresses.
    pub udp_echo: Vec<SocketAddr>,
    /// Where to write the PID once everything is bound.
    pub pid_file: Option<PathBuf>,
    /// Tokio worker threads for HTTP.
    pub threads: usize,
}

/// Runs the servers; returns only on a set-up error.
pub fn run(opts: &ServeOptions) -> Result<()> {
    if let Some(ns) = &opts.netns {
        let path = format!("/run/netns/{ns}");
        let file = fs::File::open(&path).map_err(|e| Error::io(format!("opening {path}"), e))?;
        // Before any thread exists: threads inherit the namespace of the thread creating them.
        setns(&file, CloneFlags::CLONE_NEWNET)
            .map_err(|e| Error::io(format!("entering {path}"), e.into()))?;
    }
    // Detach from the caller's session so its terminal signals don't reach us; fails harmlessly
    // if we already lead a process group.
    let _ = nix::unistd::setsid();
    let mut tcp = Vec::new();
    for &addr in &opts.http {
        tcp.push(listen_tcp(addr).map_err(|e| Error::io(format!("binding HTTP {addr}"), e))?);
    }
    let mut udp = Vec::new();
    for &addr in &opts.udp_echo {
        udp.push(udp::bind(addr).map_err(|e| Error::io(format!("binding UDP {addr}"), e))?);
    }
    if let Some(path) = &opts.pid_file {
        // Written atomically: `lab up` treats the file's appearance as "ready".
        let tmp = path.with_extension("pid.tmp");
        fs::write(&tmp, format!("{}\n", std::process::id()))
            .and_then(|()| fs::rename(&tmp, path))
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    }
    eprintln!(
        "rvs serve {}: http {:?} udp {:?}",
        opts.name, opts.http, opts.udp_echo
    );
    for socket in udp {
        let name = opts.name.clone();
        std::thread::spawn(move || {
            if let Err(e) = udp::serve(&socket, &name) {
                eprintln!("udp echo stopped: {e}");
            }
        });
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(opts.threads.max(1))
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the tokio runtime", e))?;
    let name: Arc<str> = Arc::from(opts.name.as_str());
    runtime.block_on(async move {
        let mut tasks = Vec::new();
        for listener in tcp {
            let listener = tokio::net::TcpListener::from_std(listener)
                .map_err(|e| Error::io("registering a listener", e))?;
            tasks.push(tokio::spawn(http::serve(listener, Arc::clone(&name))));
        }
        if tasks.is_empty() {
            // UDP only: the echo threads do the work.
            std::future::pending::<()>().await;
        }
        for task in tasks {
            let _ = task.await;
        }
        Ok(())
    })
}

/// A non-blocking TCP listener; v6 sockets are v6-only so both families can share a port.
fn listen_tcp(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}
