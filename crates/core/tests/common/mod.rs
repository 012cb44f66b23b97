//! Hand-built frames and a full-recompute checksum verifier for the core's integration tests.
#![allow(dead_code)]

use std::net::IpAddr;

use rvs_wire::checksum;

/// Headroom given before every frame (AF_XDP gives at least 256 bytes).
pub const HEADROOM: usize = 256;

/// Transport of a built packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L4 {
    /// TCP with these flags.
    Tcp(u8),
    /// UDP.
    Udp,
    /// SCTP whose first chunk has this type.
    Sctp(u8),
}

pub const SYN: u8 = 0x02;
pub const ACK: u8 = 0x10;
pub const FIN: u8 = 0x01;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;

/// A packet to build.
#[derive(Debug, Clone)]
pub struct Pkt {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    pub l4: L4,
    pub payload: Vec<u8>,
    pub ttl: u8,
    pub df: bool,
    pub vlan: Option<u16>,
    pub tos: u8,
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

impl Pkt {
    pub fn tcp(src: &str, sport: u16, dst: &str, dport: u16, flags: u8) -> Pkt {
        Pkt {
            src: ip(src),
            dst: ip(dst),
            sport,
            dport,
            l4: L4::Tcp(flags),
            payload: Vec::new(),
            ttl: 64,
            df: true,
            vlan: None,
            tos: 0,
        }
    }

    pub fn udp(src: &str, sport: u16, dst: &str, dport: u16) -> Pkt {
        Pkt {
            l4: L4::Udp,
            ..Pkt::tcp(src, sport, dst, dport, 0)
        }
    }

    pub fn sctp(src: &str, sport: u16, dst: &str, dport: u16, chunk: u8) -> Pkt {
        Pkt {
            l4: L4::Sctp(chunk),
            ..Pkt::tcp(src, sport, dst, dport, 0)
        }
    }

    pub fn with_payload(mut self, p: &[u8]) -> Pkt {
        self.payload = p.to_vec();
        self
    }

    /// The IP packet bytes.
    pub fn ip_bytes(&self) -> Vec<u8> {
        let mut l4 = match self.l4 {
            L4::Tcp(flags) => {
                let mut h = vec![0u8; 20];
                h[4..8].copy_from_slice(&1000u32.to_be_bytes());
                h[8..12]
                    .copy_from_slice(&(if flags & ACK != 0 { 5000u32 } else { 0 }).to_be_bytes());
                h[12] = 5 << 4;
                h[13] = flags;
                h[14..16].copy_from_slice(&64240u16.to_be_bytes());
                h
            }
            L4::Udp => vec![0u8; 8],
            L4::Sctp(chunk) => {
                let mut h = vec![0u8; 12 + 20];
                h[4..8].copy_from_slice(&0xdead_beefu32.to_be_bytes());
                h[12] = chunk;
                h[14..16].copy_from_slice(&20u16.to_be_bytes());
                h
            }
        };
        l4[0..2].copy_from_slice(&self.sport.to_be_bytes());
        l4[2..4].copy_from_slice(&self.dport.to_be_bytes());
        l4.extend_from_slice(&self.payload);
        let proto = match self.l4 {
            L4::Tcp(_) => 6,
            L4::Udp => 17,
            L4::Sctp(_) => 132,
        };
        let len = l4.len() as u32;
        match self.l4 {
            L4::Tcp(_) => {
                let c = checksum::finish(checksum::combine(&[
                    checksum::pseudo_header(&self.src, &self.dst, proto, len),
                    checksum::data(&l4),
                ]));
                l4[16..18].copy_from_slice(&c.to_be_bytes());
            }
            L4::Udp => {
                l4[4..6].copy_from_slice(&(len as u16).to_be_bytes());
                let c = checksum::udp_wire(checksum::finish(checksum::combine(&[
                    checksum::pseudo_header(&self.src, &self.dst, proto, len),
                    checksum::data(&l4),
                ])));
                l4[6..8].copy_from_slice(&c.to_be_bytes());
            }
            L4::Sctp(_) => {
                let c = checksum::crc32c(&l4);
                l4[8..12].copy_from_slice(&c.to_le_bytes());
            }
        }
        ip_header(self.src, self.dst, proto, self.ttl, self.df, self.tos, l4)
    }

    /// The Ethernet frame.
    pub fn frame(&self) -> Vec<u8> {
        ether(self.vlan, &self.ip_bytes())
    }

    /// The frame placed after [`HEADROOM`] bytes: (buffer, start, len).
    pub fn buffer(&self) -> (Vec<u8>, usize, usize) {
        in_buffer(&self.frame())
    }
}

/// An IP header (IPv4 with a valid checksum, or IPv6) in front of `payload`.
pub fn ip_header(
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    ttl: u8,
    df: bool,
    tos: u8,
    payload: Vec<u8>,
) -> Vec<u8> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut h = vec![0u8; 20];
            h[0] = 0x45;
            h[1] = tos;
            h[2..4].copy_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
            h[4..6].copy_from_slice(&0x1234u16.to_be_bytes());
            if df {
                h[6] = 0x40;
            }
            h[8] = ttl;
            h[9] = proto;
            h[12..16].copy_from_slice(&s.octets());
            h[16..20].copy_from_slice(&d.octets());
            let c = checksum::finish(checksum::data(&h));
            h[10..12].copy_from_slice(&c.to_be_bytes());
            h.extend_from_slice(&payload);
            h
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let mut h = vec![0u8; 40];
            h[0] = 0x60 | (tos >> 4);
            h[1] = tos << 4;
            h[4..6].copy_from_slice(&(payload.len() as u16).to_be_bytes());
            h[6] = proto;
            h[7] = ttl;
            h[8..24].copy_from_slice(&s.octets());
            h[24..40].copy_from_slice(&d.octets());
            h.extend_from_slice(&payload);
            h
        }
        _ => panic!("mixed families"),
    }
}

/// An ICMP (v4) or ICMPv6 error of `ty`/`code` quoting `quote`, from `src` to `dst`.
pub fn icmp_error(
    src: IpAddr,
    dst: IpAddr,
    ty: u8,
    code: u8,
    rest: [u8; 4],
    quote: &[u8],
) -> Vec<u8> {
    let mut m = vec![ty, code, 0, 0];
    m.extend_from_slice(&rest);
    m.extend_from_slice(quote);
    let v6 = src.is_ipv6();
    let c = if v6 {
        checksum::finish(checksum::combine(&[
            checksum::pseudo_header(&src, &dst, 58, m.len() as u32),
            checksum::data(&m),
        ]))
    } else {
        checksum::finish(checksum::data(&m))
    };
    m[2..4].copy_from_slice(&c.to_be_bytes());
    ip_header(src, dst, if v6 { 58 } else { 1 }, 64, false, 0, m)
}

/// Ethernet header (with an optional 802.1Q tag) in front of an IP packet.
pub fn ether(vlan: Option<u16>, ip: &[u8]) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02];
    if let Some(v) = vlan {
        f.extend_from_slice(&[0x81, 0x00]);
        f.extend_from_slice(&v.to_be_bytes());
    }
    let et: u16 = if ip[0] >> 4 == 6 { 0x86dd } else { 0x0800 };
    f.extend_from_slice(&et.to_be_bytes());
    f.extend_from_slice(ip);
    f
}

/// `frame` after [`HEADROOM`] bytes of zeros.
pub fn in_buffer(frame: &[u8]) -> (Vec<u8>, usize, usize) {
    let mut b = vec![0u8; HEADROOM];
    b.extend_from_slice(frame);
    (b, HEADROOM, frame.len())
}

/// Offset of the IP header in a frame, and its ethertype.
pub fn l3(frame: &[u8]) -> (usize, u16) {
    let mut off = 12;
    let mut et = u16::from_be_bytes([frame[12], frame[13]]);
    while et == 0x8100 || et == 0x88a8 {
        off += 4;
        et = u16::from_be_bytes([frame[off], frame[off + 1]]);
    }
    (off + 2, et)
}

/// Facts of an IP packet, for assertions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: u8,
    pub ttl: u8,
    pub sport: u16,
    pub dport: u16,
    /// Offset of the transport header from the IP header.
    pub l4: usize,
    pub len: usize,
}

/// Decode the facts of the IP packet `ip` (no extension headers).
pub fn facts(ip: &[u8]) -> Facts {
    let v6 = ip[0] >> 4 == 6;
    let (src, dst, proto, ttl, l4, len) = if v6 {
        let s: [u8; 16] = ip[8..24].try_into().unwrap();
        let d: [u8; 16] = ip[24..40].try_into().unwrap();
        (
            IpAddr::from(s),
            IpAddr::from(d),
            ip[6],
            ip[7],
            40,
            40 + usize::from(u16::from_be_bytes([ip[4], ip[5]])),
        )
    } else {
        let s: [u8; 4] = ip[12..16].try_into().unwrap();
        let d: [u8; 4] = ip[16..20].try_into().unwrap();
        let ihl = usize::from(ip[0] & 15) * 4;
        (
            IpAddr::from(s),
            IpAddr::from(d),
            ip[9],
            ip[8],
            ihl,
            usize::from(u16::from_be_bytes([ip[2], ip[3]])),
        )
    };
    let (sport, dport) = if matches!(proto, 6 | 17 | 132) && ip.len() >= l4 + 4 {
        (
            u16::from_be_bytes([ip[l4], ip[l4 + 1]]),
            u16::from_be_bytes([ip[l4 + 2], ip[l4 + 3]]),
        )
    } else {
        (0, 0)
    };
    Facts {
        src,
        dst,
        proto,
        ttl,
        sport,
        dport,
        l4,
        len,
    }
}

/// The frame a `Forward` verdict designates.
pub fn out_frame(buf: &[u8], start: usize, len: usize) -> Vec<u8> {
    buf[start..start + len].to_vec()
}

/// Verify every checksum of a frame against a full recompute: the IPv4 header, TCP / UDP
/// (pseudo header), SCTP CRC32c, ICMP / ICMPv6, the outer and inner headers of IP-in-IP, and
/// the quoted IPv4 header of an ICMP error.
pub fn verify_frame(frame: &[u8]) -> Result<(), String> {
    let (off, _) = l3(frame);
    verify_ip(&frame[off..])
}

/// [`verify_frame`] for an IP packet.
pub fn verify_ip(ip: &[u8]) -> Result<(), String> {
    let f = facts(ip);
    if f.len > ip.len() {
        return Err(format!(
            "IP length {} beyond the {} bytes present",
            f.len,
            ip.len()
        ));
    }
    let ip = &ip[..f.len];
    if ip[0] >> 4 == 4 && checksum::data(&ip[..f.l4]) != 0xffff {
        return Err("IPv4 header checksum".into());
    }
    let seg = &ip[f.l4..];
    let ph = checksum::pseudo_header(&f.src, &f.dst, f.proto, seg.len() as u32);
    match f.proto {
        6 => {
            if checksum::combine(&[ph, checksum::data(seg)]) != 0xffff {
                return Err("TCP checksum".into());
            }
        }
        17 => {
            let c = u16::from_be_bytes([seg[6], seg[7]]);
            if !(c == 0 && f.src.is_ipv4())
                && checksum::combine(&[ph, checksum::data(seg)]) != 0xffff
            {
                return Err("UDP checksum".into());
            }
        }
        132 => {
            let mut s = seg.to_vec();
            let want = u32::from_le_bytes([s[8], s[9], s[10], s[11]]);
            s[8..12].fill(0);
            if checksum::crc32c(&s) != want {
                return Err("SCTP CRC32c".into());
            }
        }
        1 => {
            if checksum::data(seg) != 0xffff {
                return Err("ICMP checksum".into());
            }
            let q = &seg[8..];
            if q.len() >= 20 && q[0] >> 4 == 4 {
                let ihl = usize::from(q[0] & 15) * 4;
                if q.len() >= ihl && checksum::data(&q[..ihl]) != 0xffff {
                    return Err("quoted IPv4 header checksum".into());
                }
            }
        }
        58 => {
            if checksum::combine(&[ph, checksum::data(seg)]) != 0xffff {
                return Err("ICMPv6 checksum".into());
            }
        }
        4 | 41 => return verify_ip(seg).map_err(|e| format!("inner: {e}")),
        p => return Err(format!("unexpected protocol {p}")),
    }
    Ok(())
}

use rvs_core::config::Config;
use rvs_core::director::{Director, DirectorOptions};
use rvs_core::model::{
    DestConfig, ForwardMethod, Persistence, Protocol, SchedFlags, ServiceConfig, ServiceKey,
    TunnelType,
};
use rvs_core::{Instant, Verdict};

pub fn key(protocol: Protocol, addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol,
        addr: ip(addr),
        port,
    }
}

pub fn service(key: ServiceKey, sched: &str) -> ServiceConfig {
    ServiceConfig {
        key,
        scheduler: sched.into(),
        sched_flags: SchedFlags::default(),
        persistence: None,
        one_packet: false,
        pe_name: None,
    }
}

pub fn persistent(key: ServiceKey, sched: &str, timeout: u32) -> ServiceConfig {
    ServiceConfig {
        persistence: Some(Persistence {
            timeout,
            netmask: if key_is_v6(&key) { 128 } else { 32 },
        }),
        ..service(key, sched)
    }
}

fn key_is_v6(k: &ServiceKey) -> bool {
    matches!(
        k,
        ServiceKey::Addr {
            addr: IpAddr::V6(_),
            ..
        }
    )
}

pub fn dest(addr: &str, port: u16, method: ForwardMethod, weight: i32) -> DestConfig {
    DestConfig {
        addr: ip(addr),
        port,
        method,
        weight,
        u_threshold: 0,
        l_threshold: 0,
        tun_type: TunnelType::Ipip,
        tun_port: 0,
        tun_flags: 0,
    }
}

/// A director and its configuration; the director has local addresses of both families.
pub struct Lab {
    pub config: Config,
    pub director: Director,
    pub now: Instant,
}

impl Lab {
    pub fn new() -> Lab {
        let mut director = Director::new(DirectorOptions {
            seed: 7,
            ..DirectorOptions::default()
        });
        director.set_local_address(ip("198.51.100.254"));
        director.set_local_address(ip("2001:db8:ffff::254"));
        Lab {
            config: Config::new(),
            director,
            now: Instant::from_secs(1000),
        }
    }

    pub fn add(&mut self, svc: ServiceConfig, dests: &[DestConfig]) -> ServiceKey {
        let k = svc.key;
        self.config.add_service(svc).unwrap();
        for d in dests {
            self.config.add_dest(&k, d.clone()).unwrap();
        }
        self.sync();
        k
    }

    pub fn sync(&mut self) {
        self.director.set_snapshot(self.config.snapshot());
    }

    /// Process a packet; returns the verdict and the output frame (if forwarded).
    pub fn send(&mut self, p: &Pkt) -> (Verdict, Option<Vec<u8>>) {
        let (mut b, s, l) = p.buffer();
        self.send_raw(&mut b, s, l)
    }

    pub fn send_frame(&mut self, frame: &[u8]) -> (Verdict, Option<Vec<u8>>) {
        let (mut b, s, l) = in_buffer(frame);
        self.send_raw(&mut b, s, l)
    }

    pub fn send_raw(&mut self, b: &mut [u8], s: usize, l: usize) -> (Verdict, Option<Vec<u8>>) {
        let v = self.director.process(b, s, l, self.now);
        match v {
            Verdict::Forward { start, len, .. } => (v, Some(out_frame(b, start, len))),
            Verdict::Drop(_) => (v, None),
        }
    }

    pub fn advance(&mut self, secs: u64) {
        for _ in 0..secs * 10 {
            self.now = Instant::from_millis(self.now.as_millis() + 100);
            self.director.tick(self.now);
        }
    }
}

/// The next hop of a forward verdict.
pub fn next_hop(v: &Verdict) -> IpAddr {
    match v {
        Verdict::Forward { next_hop, .. } => *next_hop,
        Verdict::Drop(r) => panic!("dropped: {r:?}"),
    }
}

/// The facts of the IP packet in a forwarded frame (after its layer-2 header).
pub fn frame_facts(frame: &[u8]) -> Facts {
    let (off, _) = l3(frame);
    facts(&frame[off..])
}
