//! Differential test of the XDP fast path (root: BPF_PROG_TEST_RUN): the same packets
//! through the Rust core and through the steering program with the entry the worker would
//! install give the same bytes out. NAT both directions (IPv4, IPv6; TCP, UDP, UDP without
//! checksum), DR (IPv4, IPv6), many random packets per case, and the edges where the
//! program must leave the packet to the core (TTL 1, too big, FIN, IP options).

use std::net::IpAddr;

use aya::maps::{HashMap as BpfHashMap, Map, MapData};
use rvs_core::config::Config;
use rvs_core::director::{Director, DirectorOptions};
use rvs_core::model::{
    DestConfig, ForwardMethod, Protocol, SchedFlags, ServiceConfig, ServiceKey, TunnelType,
};
use rvs_core::{Instant, Verdict};
use rvs_dataplane::fastpath::test_run::{action, test_run};
use rvs_dataplane::fastpath::{FlowAction, FlowKey, Tuple};
use rvs_dataplane::netlink::{self, NlSocket};
use rvs_dataplane::{Egress, Steering, XdpMode};
use rvs_testkit::{NetNs, root_or_skip, veth};
use rvs_wire::checksum;

const HEADROOM: usize = 256;
const CLIENT_V4: &str = "198.51.100.7";
const CLIENT_V6: &str = "2001:db8:2::7";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A small deterministic generator (xorshift).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// What to put in a test packet.
#[derive(Clone)]
struct Pkt {
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    sport: u16,
    dport: u16,
    tcp_flags: u8,
    ttl: u8,
    ident: u16,
    payload: Vec<u8>,
    /// UDP: send checksum 0 (IPv4 "none").
    no_udp_csum: bool,
    /// IPv4: one 4-byte option (NOPs).
    ip_options: bool,
    dst_mac: [u8; 6],
}

fn frame(p: &Pkt) -> Vec<u8> {
    let l4len = if p.proto == 6 { 20 } else { 8 } + p.payload.len();
    let mut l4 = vec![0u8; l4len];
    l4[0..2].copy_from_slice(&p.sport.to_be_bytes());
    l4[2..4].copy_from_slice(&p.dport.to_be_bytes());
    if p.proto == 6 {
        l4[4..8].copy_from_slice(&0x0102_0304u32.to_be_bytes());
        l4[8..12].copy_from_slice(&0x0a0b_0c0du32.to_be_bytes());
        l4[12] = 0x50;
        l4[13] = p.tcp_flags;
        l4[14..16].copy_from_slice(&64240u16.to_be_bytes());
        l4[20..].copy_from_slice(&p.payload);
    } else {
        l4[4..6].copy_from_slice(&(l4len as u16).to_be_bytes());
        l4[8..].copy_from_slice(&p.payload);
    }
    let ph = checksum::pseudo_header(&p.src, &p.dst, p.proto, l4len as u32);
    let c = checksum::finish(checksum::combine(&[ph, checksum::data(&l4)]));
    let at = if p.proto == 6 { 16 } else { 6 };
    let c = if p.proto == 17 {
        if p.no_udp_csum {
            0
        } else {
            checksum::udp_wire(c)
        }
    } else {
        c
    };
    l4[at..at + 2].copy_from_slice(&c.to_be_bytes());
    let mut f = Vec::new();
    f.extend_from_slice(&p.dst_mac);
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x99]);
    match (p.src, p.dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            f.extend_from_slice(&[0x08, 0x00]);
            let hl = if p.ip_options { 24 } else { 20 };
            let mut h = vec![0u8; hl];
            h[0] = 0x40 | (hl / 4) as u8;
            h[2..4].copy_from_slice(&((hl + l4len) as u16).to_be_bytes());
            h[4..6].copy_from_slice(&p.ident.to_be_bytes());
            h[6] = 0x40; // DF
            h[8] = p.ttl;
            h[9] = p.proto;
            h[12..16].copy_from_slice(&s.octets());
            h[16..20].copy_from_slice(&d.octets());
            if p.ip_options {
                h[20..24].fill(1);
            }
            let c = checksum::finish(checksum::data(&h));
            h[10..12].copy_from_slice(&c.to_be_bytes());
            f.extend_from_slice(&h);
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            f.extend_from_slice(&[0x86, 0xdd]);
            let mut h = [0u8; 40];
            h[0] = 0x60;
            h[4..6].copy_from_slice(&(l4len as u16).to_be_bytes());
            h[6] = p.proto;
            h[7] = p.ttl;
            h[8..24].copy_from_slice(&s.octets());
            h[24..40].copy_from_slice(&d.octets());
            f.extend_from_slice(&h);
        }
        _ => panic!("mixed families"),
    }
    f.extend_from_slice(&l4);
    f
}

fn svc(protocol: Protocol, vip: &str, port: u16) -> ServiceConfig {
    ServiceConfig {
        key: ServiceKey::Addr {
            protocol,
            addr: ip(vip),
            port,
        },
        scheduler: "rr".into(),
        sched_flags: SchedFlags::default(),
        persistence: None,
        one_packet: false,
        pe_name: None,
    }
}

fn dest(rip: &str, port: u16, method: ForwardMethod) -> DestConfig {
    DestConfig {
        addr: ip(rip),
        port,
        method,
        weight: 1,
        u_threshold: 0,
        l_threshold: 0,
        tun_type: TunnelType::Ipip,
        tun_port: 0,
        tun_flags: 0,
    }
}

fn director() -> Director {
    use ForwardMethod::{Masq, Route};
    let mut c = Config::new();
    let services = [
        (
            Protocol::Tcp,
            "203.0.113.10",
            80,
            "198.51.100.20",
            8080,
            Masq,
        ),
        (
            Protocol::Udp,
            "203.0.113.10",
            53,
            "198.51.100.21",
            5353,
            Masq,
        ),
        (
            Protocol::Tcp,
            "2001:db8::10",
            80,
            "2001:db8:1::20",
            8080,
            Masq,
        ),
        (
            Protocol::Udp,
            "2001:db8::10",
            53,
            "2001:db8:1::21",
            5353,
            Masq,
        ),
        (Protocol::Tcp, "203.0.113.11", 80, "198.51.100.30", 0, Route),
        (Protocol::Udp, "203.0.113.11", 53, "198.51.100.31", 0, Route),
        (
            Protocol::Tcp,
            "2001:db8::11",
            80,
            "2001:db8:1::30",
            0,
            Route,
        ),
    ];
    for (proto, vip, port, rip, rport, method) in services {
        let s = svc(proto, vip, port);
        let key = s.key;
        c.add_service(s).unwrap();
        c.add_dest(&key, dest(rip, rport, method)).unwrap();
    }
    let mut d = Director::new(DirectorOptions {
        seed: 7,
        max_conns: 4096,
        ..DirectorOptions::default()
    });
    d.set_snapshot(c.snapshot());
    d.set_local_address(ip("198.51.100.254"));
    d.set_local_address(ip("2001:db8:1::254"));
    d
}

/// The test bench: the program loaded (not attached) in a namespace with two veths,
/// slot 0 = d0 (client side), slot 1 = d1 (real-server side), and the core.
struct Bench {
    steering: Steering,
    flows: BpfHashMap<MapData, FlowKey, FlowAction>,
    director: Director,
    ifindex: [u32; 2],
    mac: [[u8; 6]; 2],
    now: Instant,
}

const PEER_MAC: [[u8; 6]; 2] = [[0x02, 0xc0, 0, 0, 0, 1], [0x02, 0x5e, 0, 0, 0, 2]];

impl Bench {
    fn new() -> Bench {
        let mut steering = Steering::attach_with(&[], XdpMode::Generic, 1024).unwrap();
        let links = netlink::links(&mut NlSocket::new().unwrap()).unwrap();
        let find = |n: &str| links.iter().find(|l| l.name == n).unwrap().clone();
        let (d0, d1) = (find("d0"), find("d1"));
        steering
            .register_interface(0, d0.index, d0.mac.unwrap())
            .unwrap();
        steering
            .register_interface(1, d1.index, d1.mac.unwrap())
            .unwrap();
        let id = steering.flow_map_id().unwrap();
        let flows = BpfHashMap::try_from(Map::HashMap(MapData::from_id(id).unwrap())).unwrap();
        Bench {
            steering,
            flows,
            director: director(),
            ifindex: [d0.index, d1.index],
            mac: [d0.mac.unwrap(), d1.mac.unwrap()],
            now: Instant::from_secs(10),
        }
    }

    /// Through the core, as the worker does it (MACs of the egress); None on a drop.
    fn core(&mut self, f: &[u8], egress: usize) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; HEADROOM + 2048];
        buf[HEADROOM..HEADROOM + f.len()].copy_from_slice(f);
        self.now = Instant::from_millis(self.now.as_millis() + 1);
        match self.director.process(&mut buf, HEADROOM, f.len(), self.now) {
            Verdict::Forward { start, len, .. } => {
                let mut out = buf[start..start + len].to_vec();
                out[0..6].copy_from_slice(&PEER_MAC[egress]);
                out[6..12].copy_from_slice(&self.mac[egress]);
                Some(out)
            }
            Verdict::Drop(_) => None,
        }
    }

    /// Install the entry the worker would for the packet `f` the core just forwarded.
    fn install(&mut self, f: &[u8], ingress: usize, egress: usize) {
        let t = Tuple::of_frame(f).expect("fast-path shaped");
        let o = self
            .director
            .offload(t.proto, t.src, t.sport, t.dst, t.dport)
            .expect("offloadable");
        let key = FlowKey::new(
            self.ifindex[ingress],
            t.proto,
            t.src,
            t.sport,
            t.dst,
            t.dport,
        )
        .unwrap();
        let eg = Egress {
            slot: egress,
            dst_mac: PEER_MAC[egress],
            src_mac: self.mac[egress],
        };
        self.flows
            .insert(key, FlowAction::new(&o, &eg).unwrap(), 0)
            .unwrap();
    }

    fn xdp(&self, f: &[u8], ingress: usize) -> (u32, Vec<u8>) {
        test_run(&self.steering, f, self.ifindex[ingress]).unwrap()
    }
}

/// One flow: establish it through the core, install its entries, then compare random
/// packets of both directions (NAT) or the client direction (DR).
fn check_flow(b: &mut Bench, proto: u8, vip: &str, vport: u16, rs: (&str, u16), nat: bool) {
    let client = if vip.contains(':') {
        CLIENT_V6
    } else {
        CLIENT_V4
    };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ u64::from(vport) ^ u64::from(proto));
    let cport = 40000 + (rng.next() % 20000) as u16;
    let to_vip = |flags: u8, mac: [u8; 6]| Pkt {
        src: ip(client),
        dst: ip(vip),
        proto,
        sport: cport,
        dport: vport,
        tcp_flags: flags,
        ttl: 64,
        ident: 1,
        payload: Vec::new(),
        no_udp_csum: false,
        ip_options: false,
        dst_mac: mac,
    };
    let reply = |flags: u8, mac: [u8; 6]| Pkt {
        src: ip(rs.0),
        dst: ip(client),
        sport: rs.1,
        dport: cport,
        ..to_vip(flags, mac)
    };
    let (m0, m1) = (b.mac[0], b.mac[1]);
    if proto == 6 {
        assert!(b.core(&frame(&to_vip(0x02, m0)), 1).is_some(), "SYN");
        if nat {
            assert!(b.core(&frame(&reply(0x12, m1)), 0).is_some(), "SYN-ACK");
        }
        assert!(b.core(&frame(&to_vip(0x10, m0)), 1).is_some(), "ACK");
    } else {
        assert!(
            b.core(&frame(&to_vip(0, m0)), 1).is_some(),
            "first datagram"
        );
    }
    let first = frame(&to_vip(0x18, m0));
    assert!(b.core(&first, 1).is_some());
    b.install(&first, 0, 1);
    if nat {
        let r = frame(&reply(0x18, m1));
        assert!(b.core(&r, 0).is_some());
        b.install(&r, 1, 0);
    }
    for i in 0..300 {
        let len = (rng.next() % 1200) as usize;
        let payload: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let out_dir = nat && i % 2 == 1;
        let mut p = if out_dir {
            reply(0x18, m1)
        } else {
            to_vip(0x18, m0)
        };
        p.payload = payload;
        p.ttl = [2, 64, 255, 3][i % 4];
        p.ident = rng.next() as u16;
        p.no_udp_csum = proto == 17 && !p.dst.is_ipv6() && i % 5 == 0;
        let f = frame(&p);
        let (ingress, egress) = if out_dir { (1, 0) } else { (0, 1) };
        let want = b.core(&f, egress).expect("the core forwards it");
        let (act, got) = b.xdp(&f, ingress);
        assert_eq!(act, action::REDIRECT, "{vip}:{vport} packet {i}");
        assert_eq!(got, want, "{vip}:{vport} packet {i} (ttl {})", p.ttl);
    }
    // The edges the core must see: the program leaves them alone (bytes unchanged).
    let mut edges = Vec::new();
    let mut ttl1 = to_vip(0x10, m0);
    ttl1.ttl = 1;
    edges.push(("TTL 1", ttl1));
    let mut big = to_vip(0x10, m0);
    big.payload = vec![0; 1500];
    edges.push(("bigger than the MTU", big));
    if proto == 6 {
        edges.push(("FIN", to_vip(0x11, m0)));
        edges.push(("RST", to_vip(0x04, m0)));
    }
    if !vip.contains(':') {
        let mut opt = to_vip(0x10, m0);
        opt.ip_options = true;
        edges.push(("IP options", opt));
    }
    let mut other_mac = to_vip(0x10, m0);
    other_mac.dst_mac = [0x02, 1, 2, 3, 4, 5];
    edges.push(("another host's MAC", other_mac));
    for (what, p) in edges {
        let f = frame(&p);
        let (act, got) = b.xdp(&f, 0);
        assert_ne!(act, action::REDIRECT, "{what} must not be fast-pathed");
        assert_eq!(got, f, "{what}: the frame is unchanged");
    }
}

#[test]
fn fast_path_matches_the_core() {
    if !root_or_skip("fast_path_matches_the_core") {
        return;
    }
    let a = NetNs::unique("rvsdp", "fpda");
    let b = NetNs::unique("rvsdp", "fpdb");
    veth(&a, "d0", &b, "c0");
    veth(&a, "d1", &b, "c1");
    let _in = a.enter();
    let mut bench = Bench::new();
    check_flow(
        &mut bench,
        6,
        "203.0.113.10",
        80,
        ("198.51.100.20", 8080),
        true,
    );
    check_flow(
        &mut bench,
        17,
        "203.0.113.10",
        53,
        ("198.51.100.21", 5353),
        true,
    );
    check_flow(
        &mut bench,
        6,
        "2001:db8::10",
        80,
        ("2001:db8:1::20", 8080),
        true,
    );
    check_flow(
        &mut bench,
        17,
        "2001:db8::10",
        53,
        ("2001:db8:1::21", 5353),
        true,
    );
    check_flow(
        &mut bench,
        6,
        "203.0.113.11",
        80,
        ("198.51.100.30", 80),
        false,
    );
    check_flow(
        &mut bench,
        17,
        "203.0.113.11",
        53,
        ("198.51.100.31", 53),
        false,
    );
    check_flow(
        &mut bench,
        6,
        "2001:db8::11",
        80,
        ("2001:db8:1::30", 80),
        false,
    );
    let st = bench.steering.stats().unwrap();
    assert!(st.fast_hits >= 7 * 300, "{st:?}");
    assert!(
        st.fast_fallbacks >= 7 * 2,
        "TTL 1 and too big are counted: {st:?}"
    );
}

#[test]
fn an_established_connection_is_offered_and_a_closing_one_is_not() {
    // No root needed: the core's side of the contract.
    let mut d = director();
    let mut buf = vec![0u8; HEADROOM + 2048];
    let mut send = |d: &mut Director, p: &Pkt, ms: u64| {
        let f = frame(p);
        buf[HEADROOM..HEADROOM + f.len()].copy_from_slice(&f);
        d.process(&mut buf, HEADROOM, f.len(), Instant::from_millis(ms))
    };
    let p = Pkt {
        src: ip(CLIENT_V4),
        dst: ip("203.0.113.11"),
        proto: 6,
        sport: 41000,
        dport: 80,
        tcp_flags: 0x02,
        ttl: 64,
        ident: 1,
        payload: Vec::new(),
        no_udp_csum: false,
        ip_options: false,
        dst_mac: [0; 6],
    };
    let offer = |d: &Director| d.offload(6, ip(CLIENT_V4), 41000, ip("203.0.113.11"), 80);
    assert!(matches!(send(&mut d, &p, 1000), Verdict::Forward { .. }));
    assert!(offer(&d).is_none(), "SYN_RECV is not offloaded");
    let ack = Pkt {
        tcp_flags: 0x10,
        ..p.clone()
    };
    assert!(matches!(send(&mut d, &ack, 1001), Verdict::Forward { .. }));
    let o = offer(&d).expect("ESTABLISHED is offloaded");
    // Traffic the fast path carried keeps the connection alive past its timeout...
    let timeout = d.connections().next().unwrap().timeout_ms() as u64;
    let late = 1001 + timeout - 1000;
    assert!(d.offload_refresh(
        &o,
        5,
        500,
        Instant::from_millis(late),
        Instant::from_millis(late)
    ));
    d.tick(Instant::from_millis(1001 + timeout + 10));
    assert_eq!(d.conn_count(), 1, "re-armed from the last packet seen");
    assert_eq!(d.global_stats().counters.inpkts, 2 + 5);
    // ...and without traffic it expires, and the offload is then refused.
    // (The timer wheel has slots: give it a few seconds past the deadline.)
    d.tick(Instant::from_millis(late + timeout + 5000));
    assert_eq!(d.conn_count(), 0);
    let now = Instant::from_millis(late + timeout + 5001);
    assert!(!d.offload_refresh(&o, 0, 0, now, now));
    // A FIN moves the connection out of ESTABLISHED: no more offload.
    send(&mut d, &p, 5_000_000);
    send(&mut d, &ack, 5_000_001);
    assert!(offer(&d).is_some());
    let fin = Pkt {
        tcp_flags: 0x11,
        ..p
    };
    send(&mut d, &fin, 5_000_002);
    assert!(offer(&d).is_none());
}
