//! Health checker blocks (TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK, DNS_CHECK, UDP_CHECK,
//! PING_CHECK, SMTP_CHECK) and the timing settings inherited VS → RS → checker.

use std::time::Duration;

use crate::cx::Cx;
use crate::model::*;
use crate::tree::Stmt;

/// Timing and flags as written at one level (None = inherit).
#[derive(Debug, Clone, Copy, Default)]
pub struct RawTiming {
    /// `delay_loop`.
    pub delay_loop: Option<Duration>,
    /// `connect_timeout`.
    pub connect_timeout: Option<Duration>,
    /// `retry` / `nb_get_retry`.
    pub retry: Option<u32>,
    /// `delay_before_retry`.
    pub delay_before_retry: Option<Duration>,
    /// `warmup`.
    pub warmup: Option<Duration>,
    /// `alpha`.
    pub alpha: Option<bool>,
    /// `inhibit_on_failure` (VS and RS only).
    pub inhibit: Option<bool>,
}

/// A checker as written.
pub struct RawChecker {
    /// The checker, timing not yet resolved.
    pub checker: Checker,
    /// Overrides at checker level.
    pub timing: RawTiming,
    /// `misc_timeout` if configured.
    pub misc_timeout: Option<Duration>,
}

const CHECKERS: &[&str] = &[
    "TCP_CHECK",
    "HTTP_GET",
    "SSL_GET",
    "MISC_CHECK",
    "DNS_CHECK",
    "UDP_CHECK",
    "PING_CHECK",
    "SMTP_CHECK",
];

/// Handles a timing keyword valid in `virtual_server` and `real_server`; true if it was one.
pub fn timing_kw(cx: &mut Cx<'_>, s: &Stmt, t: &mut RawTiming) -> bool {
    match s.name() {
        "delay_loop" => t.delay_loop = cx.timer(s, 0, u32::MAX as u64).or(t.delay_loop),
        "connect_timeout" => {
            t.connect_timeout = cx.timer(s, 0, u32::MAX as u64).or(t.connect_timeout)
        }
        "retry" => {
            t.retry = cx
                .need_uint(s, 0, 0, u32::MAX as u64)
                .map(|v| v as u32)
                .or(t.retry)
        }
        "delay_before_retry" => {
            t.delay_before_retry = cx.timer(s, 0, u32::MAX as u64).or(t.delay_before_retry)
        }
        "warmup" => t.warmup = cx.timer(s, 0, u32::MAX as u64).or(t.warmup),
        "alpha" => t.alpha = Some(cx.flag(s)),
        "inhibit_on_failure" => t.inhibit = Some(cx.flag(s)),
        _ => return false,
    }
    true
}

/// Parses a checker block if `s` is one; None for other keywords.
pub fn checker(cx: &mut Cx<'_>, s: &Stmt) -> Option<RawChecker> {
    let name = s.name();
    if !CHECKERS.contains(&name) {
        return None;
    }
    let mut kind = match name {
        "TCP_CHECK" => CheckerKind::Tcp,
        "HTTP_GET" | "SSL_GET" => CheckerKind::Http(HttpCheck {
            tls: name == "SSL_GET",
            urls: Vec::new(),
            virtualhost: None,
            http_protocol: None,
            enable_sni: false,
            fast_recovery: false,
        }),
        "MISC_CHECK" => CheckerKind::Misc(MiscCheck {
            path: None,
            timeout: Duration::ZERO,
            dynamic: false,
            user: None,
        }),
        "DNS_CHECK" => CheckerKind::Dns(DnsCheck {
            qtype: DnsType::Soa,
            name: ".".into(),
        }),
        "UDP_CHECK" => CheckerKind::Udp(UdpCheck {
            max_reply_length: 255,
            ..Default::default()
        }),
        "PING_CHECK" => CheckerKind::Ping,
        _ => CheckerKind::Smtp {
            helo_name: "smtpchecker.keepalived.org".into(),
        },
    };
    let mut c = Checker {
        kind: CheckerKind::Tcp,
        connect_ip: None,
        connect_port: None,
        bindto: None,
        bind_port: None,
        bind_if: None,
        fwmark: None,
        timing: CheckTiming {
            delay_loop: Duration::ZERO,
            connect_timeout: Duration::ZERO,
            retry: 0,
            delay_before_retry: Duration::ZERO,
            warmup: Duration::ZERO,
            alpha: false,
        },
        log_all_failures: false,
        loc: s.loc,
    };
    let mut t = RawTiming::default();
    let mut misc_timeout = None;
    let is_misc = matches!(kind, CheckerKind::Misc(_));
    for k in cx.body(s) {
        // Connection keywords (not MISC_CHECK).
        if !is_misc {
            let done = match k.name() {
                "connect_ip" => {
                    c.connect_ip = cx.ip(k, 0);
                    true
                }
                "connect_port" => {
                    c.connect_port = cx.port(k, 0);
                    true
                }
                "bindto" => {
                    c.bindto = cx.ip(k, 0);
                    true
                }
                "bind_port" => {
                    c.bind_port = cx.port(k, 0);
                    true
                }
                "bind_if" => {
                    c.bind_if = cx.text(k, 0);
                    true
                }
                "fwmark" => {
                    c.fwmark = cx.need_uint(k, 0, 0, u32::MAX as u64).map(|v| v as u32);
                    true
                }
                "connect_timeout" => {
                    t.connect_timeout = cx.timer(k, 0, u32::MAX as u64);
                    true
                }
                _ => false,
            };
            if done {
                continue;
            }
        }
        match k.name() {
            "retry" => t.retry = cx.need_uint(k, 0, 0, u32::MAX as u64).map(|v| v as u32),
            "delay_before_retry" => t.delay_before_retry = cx.timer(k, 0, u32::MAX as u64),
            "warmup" => t.warmup = cx.timer(k, 0, u32::MAX as u64),
            "delay_loop" => t.delay_loop = cx.timer(k, 0, u32::MAX as u64),
            "alpha" => t.alpha = Some(cx.flag(k)),
            "log_all_failures" => c.log_all_failures = cx.flag(k),
            _ => {
                if !specific(cx, k, &mut kind, &mut t, &mut misc_timeout) {
                    cx.unknown(k, name, Some(s));
                }
            }
        }
    }
    if let CheckerKind::Misc(m) = &kind
        && m.path.is_none()
    {
        cx.error(s.loc, "MISC_CHECK without misc_path");
    }
    c.kind = kind;
    Some(RawChecker {
        checker: c,
        timing: t,
        misc_timeout,
    })
}

/// Keywords specific to one checker type; true if handled.
fn specific(
    cx: &mut Cx<'_>,
    k: &Stmt,
    kind: &mut CheckerKind,
    t: &mut RawTiming,
    misc_timeout: &mut Option<Duration>,
) -> bool {
    match kind {
        CheckerKind::Http(h) => match k.name() {
            "nb_get_retry" => {
                cx.warn(k.loc, "nb_get_retry is deprecated - please use 'retry'");
                t.retry = cx.need_uint(k, 0, 0, u32::MAX as u64).map(|v| v as u32);
            }
            "virtualhost" => h.virtualhost = cx.text(k, 0),
            "http_protocol" => match k.arg(0).map(|t| t.text.as_str()) {
                Some(p @ ("1.0" | "1.0C" | "1.0c" | "1.1")) => {
                    h.http_protocol = Some(p.to_uppercase())
                }
                _ => cx.error(k.arg_loc(0), "http_protocol must be 1.0, 1.0C or 1.1"),
            },
            "enable_sni" => h.enable_sni = cx.flag(k),
            "fast_recovery" => h.fast_recovery = cx.flag(k),
            "url" => h.urls.push(url(cx, k)),
            _ => return false,
        },
        CheckerKind::Misc(m) => match k.name() {
            "misc_path" => m.path = cx.script(k),
            "misc_timeout" => *misc_timeout = cx.timer(k, 0, u32::MAX as u64),
            "misc_dynamic" => m.dynamic = true,
            "user" => m.user = cx.user(k),
            _ => return false,
        },
        CheckerKind::Dns(d) => match k.name() {
            "type" => match k.arg(0).map(|t| t.text.to_ascii_uppercase()).as_deref() {
                Some("A") => d.qtype = DnsType::A,
                Some("NS") => d.qtype = DnsType::Ns,
                Some("CNAME") => d.qtype = DnsType::Cname,
                Some("SOA") => d.qtype = DnsType::Soa,
                Some("MX") => d.qtype = DnsType::Mx,
                Some("TXT") => d.qtype = DnsType::Txt,
                Some("AAAA") => d.qtype = DnsType::Aaaa,
                _ => cx.error(
                    k.arg_loc(0),
                    "DNS_CHECK type must be A, NS, CNAME, SOA, MX, TXT or AAAA",
                ),
            },
            "name" => {
                if let Some(n) = cx.text(k, 0) {
                    d.name = n
                }
            }
            _ => return false,
        },
        CheckerKind::Udp(u) => match k.name() {
            "payload" => u.payload = hex(cx, k),
            "require_reply" => {
                u.require_reply = if k.arg(0).is_some() {
                    hex(cx, k)
                } else {
                    Some(Vec::new())
                }
            }
            "min_reply_length" => {
                u.min_reply_length = cx.need_uint(k, 0, 0, 65535).unwrap_or(0) as u32
            }
            "max_reply_length" => {
                u.max_reply_length = cx.need_uint(k, 0, 0, 65535).unwrap_or(255) as u32
            }
            _ => return false,
        },
        CheckerKind::Smtp { helo_name } => match k.name() {
            "helo_name" => {
                if let Some(h) = cx.text(k, 0) {
                    *helo_name = h
                }
            }
            "host" => cx.note(
                k.loc,
                "SMTP_CHECK 'host' sub-blocks are accepted but not used by rvs-keepalived",
            ),
            _ => return false,
        },
        CheckerKind::Tcp | CheckerKind::Ping => return false,
    }
    true
}

fn hex(cx: &mut Cx<'_>, k: &Stmt) -> Option<Vec<u8>> {
    let s: String = k.args.iter().map(|t| t.text.as_str()).collect();
    let s = s.trim_start_matches("0x");
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        cx.error(
            k.arg_loc(0),
            format!("invalid hex string for '{}'", k.name()),
        );
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

fn url(cx: &mut Cx<'_>, st: &Stmt) -> UrlCheck {
    let mut u = UrlCheck {
        path: String::new(),
        digest: None,
        status_codes: Vec::new(),
        virtualhost: None,
        regex: None,
        regex_no_match: false,
    };
    for k in cx.body(st) {
        match k.name() {
            "path" => {
                if let Some(p) = cx.text(k, 0) {
                    u.path = p
                }
            }
            "digest" => match k.arg(0).map(|t| t.text.clone()) {
                Some(d) if d.len() == 32 && d.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    let mut out = [0u8; 16];
                    for (i, o) in out.iter_mut().enumerate() {
                        *o = u8::from_str_radix(&d[2 * i..2 * i + 2], 16).unwrap_or(0);
                    }
                    u.digest = Some(out);
                }
                _ => cx.error(
                    k.arg_loc(0),
                    "digest must be 32 hexadecimal digits (an MD5 sum, see genhash)",
                ),
            },
            "status_code" => {
                for (i, a) in k.args.iter().enumerate() {
                    let r = match a.text.split_once('-') {
                        Some((lo, hi)) => lo.parse::<u16>().ok().zip(hi.parse::<u16>().ok()),
                        None => a.text.parse::<u16>().ok().map(|v| (v, v)),
                    };
                    match r {
                        Some((lo, hi)) if (100..=599).contains(&lo) && lo <= hi && hi <= 599 => {
                            u.status_codes.push(lo..=hi)
                        }
                        _ => cx.error(
                            k.arg_loc(i),
                            format!(
                                "invalid status_code '{}' (100-599 or a range such as 200-299)",
                                a.text
                            ),
                        ),
                    }
                }
            }
            "virtualhost" => u.virtualhost = cx.text(k, 0),
            "regex" => u.regex = cx.text(k, 0),
            "regex_no_match" => u.regex_no_match = true,
            n @ ("regex_options" | "regex_min_offset" | "regex_max_offset" | "regex_stack") => cx
                .note(
                    k.loc,
                    format!("'{n}' is accepted but not used by rvs-keepalived"),
                ),
            _ => cx.unknown(k, "url", Some(st)),
        }
    }
    if u.path.is_empty() {
        cx.error(st.loc, "url without path");
    }
    if u.status_codes.is_empty() {
        u.status_codes.push(200..=299);
    }
    u
}

/// Resolves a checker's timing from its own settings, the real server's and the service's.
pub fn resolve(
    raw: RawChecker,
    rs: &RawTiming,
    vs_delay: Duration,
    vs_timeout: Duration,
) -> Checker {
    let mut c = raw.checker;
    let t = raw.timing;
    let delay_loop = t.delay_loop.or(rs.delay_loop).unwrap_or(vs_delay);
    let (default_retry, default_dbr) = match &c.kind {
        CheckerKind::Dns(_) => (3, Duration::ZERO),
        CheckerKind::Misc(_) => (0, Duration::from_secs(1)),
        CheckerKind::Http(_) => (1, Duration::from_secs(3)),
        _ => (1, Duration::from_secs(1)),
    };
    let dbr = t
        .delay_before_retry
        .or(rs.delay_before_retry)
        .unwrap_or(if default_dbr.is_zero() {
            delay_loop
        } else {
            default_dbr
        });
    c.timing = CheckTiming {
        delay_loop,
        connect_timeout: t
            .connect_timeout
            .or(rs.connect_timeout)
            .unwrap_or(vs_timeout),
        retry: t.retry.or(rs.retry).unwrap_or(default_retry),
        delay_before_retry: dbr,
        warmup: t.warmup.or(rs.warmup).unwrap_or(delay_loop),
        alpha: t.alpha.or(rs.alpha).unwrap_or(false),
    };
    if let CheckerKind::Misc(m) = &mut c.kind {
        m.timeout = raw.misc_timeout.unwrap_or(delay_loop);
    }
    c
}
