//! `rvs blast` and `rvs sink` (hidden): a sendmmsg UDP generator and a recvmmsg counter.
//!
//! The generator sends identical datagrams on one connected socket (one flow) in batches, for
//! a bounded time, optionally at a capped rate, and prints `sent N secs S`. The sink counts
//! datagrams until its standard input closes (the benchmark's "stop" signal) or its time
//! limit passes, then prints `received N bytes B`. Both print one line and exit.
//!
//! `--size` is the Ethernet frame size including the 4-byte FCS, as packet-rate figures are
//! quoted: 64 means an 18-byte UDP payload over IPv4 (14 + 20 + 8 + 18 + 4).

use std::fs;
use std::io::{self, BufRead, IoSlice, IoSliceMut, Write};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sched::{CloneFlags, setns};
use nix::sys::socket::{
    ControlMessage, MsgFlags, MultiHeaders, recvmmsg, sendmmsg, setsockopt, sockopt,
};
use socket2::{Domain, Protocol, Socket, Type};

use crate::error::{Error, Result};

/// Datagrams per sendmmsg / recvmmsg call.
const BATCH: usize = 64;
/// Socket buffers: deep enough that a scheduling hiccup of the sink does not drop packets.
const SOCKET_BUFFER: usize = 16 << 20;

/// `rvs blast`: send UDP datagrams as fast as possible (or at `--rate`) for `--secs`.
#[derive(Clone, Debug, clap::Args)]
pub struct BlastArgs {
    /// Destination address and port.
    #[arg(long)]
    pub dst: SocketAddr,
    /// Ethernet frame size with FCS (64 = the smallest frame).
    #[arg(long, default_value_t = 64)]
    pub size: usize,
    /// How long to send, in seconds (at most 600).
    #[arg(long, default_value_t = 5.0)]
    pub secs: f64,
    /// Cap on datagrams per second (default: as fast as the socket takes them).
    #[arg(long)]
    pub rate: Option<u64>,
    /// Network namespace (under /run/netns) to enter first.
    #[arg(long)]
    pub netns: Option<String>,
}

/// `rvs sink`: count UDP datagrams until standard input closes or `--max-secs` pass.
#[derive(Clone, Debug, clap::Args)]
pub struct SinkArgs {
    /// Address to bind, e.g. 0.0.0.0:9.
    #[arg(long)]
    pub bind: SocketAddr,
    /// Hard limit on the sink's life, in seconds (at most 900).
    #[arg(long, default_value_t = 60.0)]
    pub max_secs: f64,
    /// Network namespace (under /run/netns) to enter first.
    #[arg(long)]
    pub netns: Option<String>,
}

/// What the generator did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BlastReport {
    /// Datagrams the kernel accepted.
    pub sent: u64,
    /// Seconds from the first send to the last.
    pub secs: f64,
}

/// What the sink counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SinkReport {
    /// Datagrams received.
    pub received: u64,
    /// Payload bytes received.
    pub bytes: u64,
}

/// The UDP payload length for an Ethernet frame of `size` bytes (FCS included).
pub fn payload_len(size: usize, ipv6: bool) -> Result<usize> {
    let overhead = 14 + if ipv6 { 40 } else { 20 } + 8 + 4;
    size.checked_sub(overhead)
        .filter(|_| size <= 1518)
        .ok_or_else(|| {
            Error::Invalid(format!(
                "--size {size}: an Ethernet frame carrying UDP over {} is {overhead} to 1518 bytes",
                if ipv6 { "IPv6" } else { "IPv4" }
            ))
        })
}

/// Enters the named network namespace (before any thread is started).
fn enter(netns: Option<&str>) -> Result<()> {
    let Some(ns) = netns else { return Ok(()) };
    let path = format!("/run/netns/{ns}");
    let file = fs::File::open(&path).map_err(|e| Error::io(format!("opening {path}"), e))?;
    setns(&file, CloneFlags::CLONE_NEWNET)
        .map_err(|e| Error::io(format!("entering {path}"), e.into()))
}

fn check_secs(secs: f64, max: f64) -> Result<Duration> {
    if secs.is_finite() && secs > 0.0 && secs <= max {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(Error::Invalid(format!(
            "duration {secs} s: give more than 0 and at most {max}"
        )))
    }
}

/// Runs the generator and returns what it sent.
pub fn blast(args: &BlastArgs) -> Result<BlastReport> {
    let duration = check_secs(args.secs, 600.0)?;
    let payload = vec![0x5a_u8; payload_len(args.size, args.dst.is_ipv6())?];
    enter(args.netns.as_deref())?;
    let socket = Socket::new(
        Domain::for_address(args.dst),
        Type::DGRAM,
        Some(Protocol::UDP),
    )
    .map_err(|e| Error::io("creating the UDP socket", e))?;
    // Best effort: a larger buffer only smooths bursts.
    let _ = setsockopt(&socket, sockopt::SndBufForce, &SOCKET_BUFFER);
    socket
        .connect(&args.dst.into())
        .map_err(|e| Error::io(format!("connecting to {}", args.dst), e))?;
    let fd = socket.as_raw_fd();
    let iovs: Vec<[IoSlice<'_>; 1]> = (0..BATCH).map(|_| [IoSlice::new(&payload)]).collect();
    let addrs: Vec<Option<()>> = vec![None; BATCH];
    let no_cmsgs: [ControlMessage<'_>; 0] = [];
    let mut headers = MultiHeaders::<()>::preallocate(BATCH, None);
    let start = Instant::now();
    let deadline = start + duration;
    let mut sent: u64 = 0;
    let mut now = start;
    while now < deadline {
        match sendmmsg(fd, &mut headers, &iovs, &addrs, no_cmsgs, MsgFlags::empty()) {
            Ok(done) => sent += done.count() as u64,
            // Full queues and ICMP errors from an earlier datagram are part of the test, not
            // the end of it: the sink's count says what got through.
            Err(Errno::ENOBUFS | Errno::EAGAIN | Errno::ECONNREFUSED | Errno::EINTR) => {}
            Err(e) => return Err(Error::io("sendmmsg", e.into())),
        }
        now = Instant::now();
        if let Some(rate) = args.rate.filter(|&r| r > 0) {
            let due = Duration::from_secs_f64(sent as f64 / rate as f64);
            let elapsed = now - start;
            if due > elapsed {
                std::thread::sleep((due - elapsed).min(deadline.saturating_duration_since(now)));
                now = Instant::now();
            }
        }
    }
    Ok(BlastReport {
        sent,
        secs: (now - start).as_secs_f64(),
    })
}

/// Runs the sink: prints `ready` once bound, counts until stdin closes or time runs out.
pub fn sink(args: &SinkArgs) -> Result<SinkReport> {
    let limit = check_secs(args.max_secs, 900.0)?;
    enter(args.netns.as_deref())?;
    let socket = Socket::new(
        Domain::for_address(args.bind),
        Type::DGRAM,
        Some(Protocol::UDP),
    )
    .map_err(|e| Error::io("creating the UDP socket", e))?;
    let _ = setsockopt(&socket, sockopt::RcvBufForce, &SOCKET_BUFFER);
    socket
        .bind(&args.bind.into())
        .map_err(|e| Error::io(format!("binding {}", args.bind), e))?;
    // Wakes the loop regularly so the stop flag and the time limit are seen without traffic.
    socket
        .set_read_timeout(Some(Duration::from_millis(50)))
        .map_err(|e| Error::io("setting SO_RCVTIMEO", e))?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    std::thread::spawn(move || {
        // EOF (or an error) on stdin means the benchmark is done with us.
        let mut line = String::new();
        let stdin = io::stdin();
        let mut lock = stdin.lock();
        while matches!(lock.read_line(&mut line), Ok(n) if n > 0) {
            line.clear();
        }
        flag.store(true, Ordering::Relaxed);
    });
    println!("ready");
    io::stdout()
        .flush()
        .map_err(|e| Error::io("writing to stdout", e))?;
    let fd = socket.as_raw_fd();
    let mut buffers = vec![[0u8; 2048]; BATCH];
    let mut headers = MultiHeaders::<()>::preallocate(BATCH, None);
    let deadline = Instant::now() + limit;
    let mut report = SinkReport {
        received: 0,
        bytes: 0,
    };
    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        let mut iovs: Vec<[IoSliceMut<'_>; 1]> = buffers
            .iter_mut()
            .map(|b| [IoSliceMut::new(&mut b[..])])
            .collect();
        match recvmmsg(fd, &mut headers, &mut iovs, MsgFlags::MSG_WAITFORONE, None) {
            Ok(msgs) => {
                for m in msgs {
                    report.received += 1;
                    report.bytes += m.bytes as u64;
                }
            }
            Err(Errno::EAGAIN | Errno::EINTR) => {}
            Err(e) => return Err(Error::io("recvmmsg", e.into())),
        }
    }
    Ok(report)
}

/// Parses the generator's line `sent N secs S`.
pub fn parse_blast(out: &str) -> Option<BlastReport> {
    let w: Vec<&str> = out.split_whitespace().collect();
    match w.as_slice() {
        ["sent", n, "secs", s, ..] => Some(BlastReport {
            sent: n.parse().ok()?,
            secs: s.parse().ok()?,
        }),
        _ => None,
    }
}

/// Parses the sink's line `received N bytes B`.
pub fn parse_sink(out: &str) -> Option<SinkReport> {
    let line = out.lines().rev().find(|l| l.starts_with("received"))?;
    let w: Vec<&str> = line.split_whitespace().collect();
    match w.as_slice() {
        ["received", n, "bytes", b, ..] => Some(SinkReport {
            received: n.parse().ok()?,
            bytes: b.parse().ok()?,
        }),
        _ => None,
    }
}

/// `rvs blast` as a command: runs and prints its one line.
pub fn blast_main(args: &BlastArgs) -> Result<()> {
    let r = blast(args)?;
    println!("sent {} secs {:.6}", r.sent, r.secs);
    Ok(())
}

/// `rvs sink` as a command: runs and prints its one line.
pub fn sink_main(args: &SinkArgs) -> Result<()> {
    let r = sink(args)?;
    println!("received {} bytes {}", r.received, r.bytes);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, UdpSocket};

    #[test]
    fn frame_size_to_payload() {
        assert_eq!(payload_len(64, false).unwrap(), 18);
        assert_eq!(payload_len(84, true).unwrap(), 18);
        assert!(payload_len(40, false).is_err());
        assert!(payload_len(9000, false).is_err());
    }

    #[test]
    fn report_lines_round_trip() {
        assert_eq!(
            parse_blast("sent 123 secs 1.500000\n"),
            Some(BlastReport {
                sent: 123,
                secs: 1.5
            })
        );
        assert_eq!(parse_blast("oops"), None);
        assert_eq!(
            parse_sink("ready\nreceived 7 bytes 126\n"),
            Some(SinkReport {
                received: 7,
                bytes: 126
            })
        );
        assert_eq!(parse_sink("ready\n"), None);
    }

    /// Loopback only, bounded: the generator's datagrams reach a socket in this process.
    #[test]
    fn blast_sends_datagrams_of_the_asked_size() {
        let rx = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let report = blast(&BlastArgs {
            dst: rx.local_addr().unwrap(),
            size: 64,
            secs: 0.05,
            rate: Some(2000),
            netns: None,
        })
        .unwrap();
        assert!(report.sent > 0 && report.sent <= 2 * BATCH as u64 + 100);
        let mut buf = [0u8; 100];
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(n, 18);
    }
}
