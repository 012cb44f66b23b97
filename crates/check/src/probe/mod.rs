//! The probes: one network exchange or script run per call, judged as keepalived judges it.
//!
//! [`ProbeSpec::build`] turns a configured checker (plus the URL index for HTTP) into a
//! self-contained description; [`ProbeSpec::run`] performs it and returns a
//! [`ProbeResult`] for [`crate::engine::Engine::on_probe_result`]. Every network wait is
//! bounded by `connect_timeout` (per operation, as keepalived), scripts by `misc_timeout`.

mod http;
mod ping;
mod tcp;
pub mod tls;
mod udp;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use rvs_kaconf::{Checker, CheckerKind, RealServer, UdpCheck, VirtualServer};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::checker::ProbeResult;
use crate::dns_wire;
use crate::http_wire::{self, HttpProtocol};
use crate::script::{self, PreparedScript, Refusal, ScriptEnv, ScriptExit};

pub use http::HttpProbe;

/// Where a probe goes and how its socket is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `connect_ip`:`connect_port` (default the real server's address and port).
    pub dst: SocketAddr,
    /// `bindto` / `bind_port`.
    pub bind: Option<SocketAddr>,
    /// `bind_if` (SO_BINDTODEVICE).
    pub bind_if: Option<String>,
    /// `fwmark` (SO_MARK).
    pub fwmark: Option<u32>,
    /// `connect_timeout`.
    pub timeout: Duration,
}

impl Target {
    fn of(rs: &RealServer, c: &Checker) -> Target {
        let dst = SocketAddr::new(
            c.connect_ip.unwrap_or(rs.addr),
            c.connect_port.unwrap_or(rs.port),
        );
        let bind = match (c.bindto, c.bind_port) {
            (Some(a), p) => Some(SocketAddr::new(a, p.unwrap_or(0))),
            (None, Some(p)) => Some(SocketAddr::new(
                if dst.is_ipv4() {
                    IpAddr::V4(Ipv4Addr::UNSPECIFIED)
                } else {
                    IpAddr::V6(Ipv6Addr::UNSPECIFIED)
                },
                p,
            )),
            (None, None) => None,
        };
        Target {
            dst,
            bind,
            bind_if: c.bind_if.clone(),
            fwmark: c.fwmark,
            timeout: c.timing.connect_timeout,
        }
    }

    /// A non-blocking socket for this target, bound and marked as configured.
    fn socket(&self, ty: Type, proto: Protocol) -> io::Result<Socket> {
        let s = Socket::new(Domain::for_address(self.dst), ty, Some(proto))?;
        s.set_nonblocking(true)?;
        if let Some(i) = &self.bind_if {
            s.bind_device(Some(i.as_bytes()))?;
        }
        if let Some(m) = self.fwmark {
            s.set_mark(m)?;
        }
        if let Some(b) = self.bind {
            s.bind(&SockAddr::from(b))?;
        }
        Ok(s)
    }
}

/// One probe, ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeSpec {
    /// TCP_CHECK.
    Tcp(Target),
    /// One URL of HTTP_GET / SSL_GET.
    Http(HttpProbe),
    /// MISC_CHECK.
    Misc {
        /// The vetted script.
        script: PreparedScript,
        /// `misc_timeout`.
        timeout: Duration,
    },
    /// DNS_CHECK.
    Dns {
        /// Server.
        target: Target,
        /// QTYPE.
        qtype: u16,
        /// QNAME.
        name: String,
    },
    /// UDP_CHECK.
    Udp {
        /// Server.
        target: Target,
        /// Payload and reply expectations.
        check: UdpCheck,
    },
    /// PING_CHECK.
    Ping(Target),
    /// SMTP_CHECK.
    Smtp {
        /// Server.
        target: Target,
        /// HELO name.
        helo: String,
    },
}

impl ProbeSpec {
    /// Builds the probe of checker `c` of `rs` in `vs`; `step` is the URL index for HTTP.
    /// A MISC_CHECK script is vetted here (see [`crate::script`]).
    pub fn build(
        vs: &VirtualServer,
        rs: &RealServer,
        c: &Checker,
        step: usize,
        scripts: &ScriptEnv,
    ) -> Result<ProbeSpec, Refusal> {
        let target = Target::of(rs, c);
        Ok(match &c.kind {
            CheckerKind::Tcp => ProbeSpec::Tcp(target),
            CheckerKind::Http(h) => {
                let url = h.urls.get(step).or(h.urls.first()).ok_or(Refusal::Empty)?;
                let vhost = url
                    .virtualhost
                    .as_deref()
                    .or(h.virtualhost.as_deref())
                    .or(rs.virtualhost.as_deref())
                    .or(vs.virtualhost.as_deref());
                if url.regex.is_some() {
                    tracing::warn!(path = %url.path, "HTTP url regex is not supported; ignored");
                }
                let proto = HttpProtocol::parse(h.http_protocol.as_deref());
                ProbeSpec::Http(HttpProbe {
                    request: http_wire::request(&url.path, vhost, target.dst, proto),
                    tls: h.tls,
                    sni: if h.enable_sni {
                        vhost.map(str::to_string)
                    } else {
                        None
                    },
                    codes: url.status_codes.clone(),
                    digest: url.digest,
                    target,
                })
            }
            CheckerKind::Misc(m) => {
                let s = m.path.as_ref().ok_or(Refusal::Empty)?;
                ProbeSpec::Misc {
                    script: scripts.prepare(s, m.user.as_ref())?,
                    timeout: m.timeout,
                }
            }
            CheckerKind::Dns(d) => ProbeSpec::Dns {
                target,
                qtype: dns_wire::qtype_code(d.qtype),
                name: d.name.clone(),
            },
            CheckerKind::Udp(u) => ProbeSpec::Udp {
                target,
                check: u.clone(),
            },
            CheckerKind::Ping => ProbeSpec::Ping(target),
            CheckerKind::Smtp { helo_name } => ProbeSpec::Smtp {
                target,
                helo: helo_name.clone(),
            },
        })
    }

    /// Runs the probe once.
    pub async fn run(&self) -> ProbeResult {
        let ok = match self {
            ProbeSpec::Tcp(t) => tcp::connect(t).await.is_ok(),
            ProbeSpec::Http(h) => h.run().await,
            ProbeSpec::Misc { script, timeout } => {
                return match script::run(script, *timeout).await {
                    ScriptExit::Exited(c) => ProbeResult::Exited(c),
                    ScriptExit::Killed => ProbeResult::Killed,
                    ScriptExit::SpawnFailed => ProbeResult::Exited(127),
                };
            }
            ProbeSpec::Dns {
                target,
                qtype,
                name,
            } => udp::dns(target, *qtype, name).await,
            ProbeSpec::Udp { target, check } => udp::udp(target, check).await,
            ProbeSpec::Ping(t) => ping::ping(t).await,
            ProbeSpec::Smtp { target, helo } => tcp::smtp(target, helo).await,
        };
        if ok {
            ProbeResult::Success
        } else {
            ProbeResult::Failure
        }
    }
}
