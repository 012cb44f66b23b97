//! Root tests of the whole data plane in namespaces: exact steering (service packets reach
//! the AF_XDP socket, everything else the kernel) and forwarding between two interfaces
//! through a shared UMEM with a trivial processor.

mod common;

use std::net::{IpAddr, Ipv4Addr, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::ping;
use rvs_core::{DropReason, Instant, Protocol, Verdict};
use rvs_dataplane::{Dataplane, DataplaneConfig, PacketProcessor, SteerEntry, XdpMode};
use rvs_testkit::{NetNs, root_or_skip, veth};

/// (IP version, protocol, destination port) of what reached the processor.
type Seen = Arc<Mutex<Vec<(u8, u8, u16)>>>;

/// Records every frame and drops it.
struct Recorder(Seen);

fn l4_of(f: &[u8]) -> Option<(u8, u8, u16)> {
    let ethertype = u16::from_be_bytes([*f.get(12)?, *f.get(13)?]);
    match ethertype {
        0x0800 => {
            let ihl = (*f.get(14)? & 0xf) as usize * 4;
            let p = 14 + ihl;
            Some((
                4,
                *f.get(23)?,
                u16::from_be_bytes([*f.get(p + 2)?, *f.get(p + 3)?]),
            ))
        }
        0x86dd => Some((
            6,
            *f.get(20)?,
            u16::from_be_bytes([*f.get(56)?, *f.get(57)?]),
        )),
        _ => None,
    }
}

impl PacketProcessor for Recorder {
    fn process(&mut self, buf: &mut [u8], start: usize, len: usize, _now: Instant) -> Verdict {
        if let Some(x) = l4_of(&buf[start..start + len]) {
            self.0.lock().unwrap().push(x);
        }
        Verdict::Drop(DropReason::NoService)
    }
    fn tick(&mut self, _now: Instant) {}
}

/// Rewrites IPv4 destinations to `target` (fixing the header checksum, clearing the UDP
/// checksum, which IPv4 allows) and forwards towards it.
struct Forwarder {
    target: Ipv4Addr,
}

impl PacketProcessor for Forwarder {
    fn process(&mut self, buf: &mut [u8], start: usize, len: usize, _now: Instant) -> Verdict {
        let f = &mut buf[start..start + len];
        if len < 42 || f[12..14] != [0x08, 0x00] || f[23] != 17 {
            return Verdict::Drop(DropReason::UnsupportedProtocol);
        }
        let ihl = (f[14] & 0xf) as usize * 4;
        f[30..34].copy_from_slice(&self.target.octets());
        f[24..26].copy_from_slice(&[0, 0]);
        let mut sum: u32 = 0;
        for c in f[14..14 + ihl].chunks(2) {
            sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        f[24..26].copy_from_slice(&(!(sum as u16)).to_be_bytes());
        f[14 + ihl + 6..14 + ihl + 8].copy_from_slice(&[0, 0]);
        Verdict::Forward {
            next_hop: IpAddr::V4(self.target),
            start,
            len,
        }
    }
    fn tick(&mut self, _now: Instant) {}
}

fn config(ifaces: &[&str]) -> DataplaneConfig {
    DataplaneConfig {
        interfaces: ifaces.iter().map(|s| s.to_string()).collect(),
        workers: Some(1),
        xdp_mode: XdpMode::Native,
        ..DataplaneConfig::default()
    }
}

fn udp_socket(bind: &str) -> UdpSocket {
    let s = UdpSocket::bind(bind).expect("bind udp");
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    s
}

fn received(s: &UdpSocket) -> Option<Vec<u8>> {
    let mut buf = [0u8; 2048];
    s.recv(&mut buf).ok().map(|n| buf[..n].to_vec())
}

#[test]
fn steering_is_exact() {
    if !root_or_skip("steering_is_exact") {
        return;
    }
    let a = NetNs::unique("rvsdp", "exa");
    let b = NetNs::unique("rvsdp", "exb");
    veth(&a, "d0", &b, "c0");
    a.exec("ip addr add 198.51.100.1/24 dev d0; ip addr add 2001:db8::1/64 dev d0 nodad");
    b.exec("ip addr add 198.51.100.2/24 dev c0; ip addr add 2001:db8::2/64 dev c0 nodad");

    let (client4, client6) = {
        let _in = b.enter();
        (udp_socket("0.0.0.0:0"), udp_socket("[::]:0"))
    };
    let _in = a.enter();
    let sock80 = udp_socket("0.0.0.0:80");
    let sock81 = udp_socket("0.0.0.0:81");
    let seen: Seen = Arc::default();
    let s2 = seen.clone();
    let dp = Dataplane::start(config(&["d0"]), move |_, _| Recorder(s2.clone())).expect("start");
    let vip4: IpAddr = "198.51.100.1".parse().unwrap();
    let vip6: IpAddr = "2001:db8::1".parse().unwrap();
    dp.apply_steering(&[
        SteerEntry::Service {
            protocol: Protocol::Udp,
            vip: vip4,
            port: 80,
        },
        SteerEntry::Service {
            protocol: Protocol::Udp,
            vip: vip6,
            port: 80,
        },
    ])
    .unwrap();

    // ARP and ICMP echo stay with the kernel (the client thread sends from namespace b).
    {
        let _b = b.enter();
        assert!(ping(vip4, 2000), "IPv4 echo answered by the kernel");
        assert!(ping(vip6, 2000), "IPv6 echo answered by the kernel");
    }
    // Another port: the kernel's socket gets it.
    client4.send_to(b"other", "198.51.100.1:81").unwrap();
    assert_eq!(received(&sock81).as_deref(), Some(&b"other"[..]));
    // The service port: the data plane gets it, the kernel's socket does not.
    client4.send_to(b"svc", "198.51.100.1:80").unwrap();
    client6.send_to(b"svc6", "[2001:db8::1]:80").unwrap();
    let mut got = Vec::new();
    for _ in 0..20 {
        got = seen.lock().unwrap().clone();
        if got.len() >= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let kernel80 = received(&sock80);
    assert!(
        got.contains(&(4, 17, 80)),
        "IPv4 service packet reached AF_XDP: {got:?} {:?} kernel {kernel80:?}",
        dp.stats()
    );
    assert!(
        got.contains(&(6, 17, 80)),
        "IPv6 service packet reached AF_XDP: {got:?}"
    );
    assert!(
        !got.iter().any(|g| g.2 == 81),
        "port 81 must not be steered: {got:?}"
    );
    assert_eq!(
        received(&sock80),
        None,
        "the kernel must not see service packets"
    );

    let st = dp.stats();
    assert!(st.steer.steered >= 2, "{st:?}");
    assert!(
        st.total.rx_packets >= 2 && st.total.processor_drops >= 2,
        "{st:?}"
    );

    // Removing the service gives the port back to the kernel.
    dp.apply_steering(&[]).unwrap();
    client4.send_to(b"back", "198.51.100.1:80").unwrap();
    assert_eq!(received(&sock80).as_deref(), Some(&b"back"[..]));
    dp.stop();
}

#[test]
fn forwards_between_interfaces_through_shared_umem() {
    if !root_or_skip("forwards_between_interfaces_through_shared_umem") {
        return;
    }
    let b = NetNs::unique("rvsdp", "fwb");
    let a = NetNs::unique("rvsdp", "fwa");
    let c = NetNs::unique("rvsdp", "fwc");
    veth(&a, "d0", &b, "c0");
    veth(&a, "d1", &c, "s0");
    a.exec("ip addr add 198.51.100.1/24 dev d0; ip addr add 203.0.113.1/24 dev d1");
    b.exec("ip addr add 198.51.100.2/24 dev c0");
    c.exec("ip addr add 203.0.113.2/24 dev s0");

    let client = {
        let _in = b.enter();
        udp_socket("0.0.0.0:0")
    };
    let server = {
        let _in = c.enter();
        udp_socket("203.0.113.2:80")
    };
    let _in = a.enter();
    let target = Ipv4Addr::new(203, 0, 113, 2);
    let dp =
        Dataplane::start(config(&["d0", "d1"]), move |_, _| Forwarder { target }).expect("start");
    let vip: IpAddr = "198.51.100.1".parse().unwrap();
    dp.apply_steering(&[SteerEntry::Service {
        protocol: Protocol::Udp,
        vip,
        port: 80,
    }])
    .unwrap();

    // The first packet finds no neighbour for 203.0.113.2 (fresh namespace): it waits while
    // the kernel resolves it and is then sent, as the kernel's own unres_qlen queue does.
    client.send_to(b"hello-0", "198.51.100.1:80").unwrap();
    let mut got = None;
    for _ in 0..10 {
        got = received(&server);
        if got.is_some() {
            break;
        }
    }
    let got = got.expect("the first packet crossed d0 -> d1 through the data plane");
    assert_eq!(got, b"hello-0");
    // Workers publish counters after each batch: wait (bounded) until they catch up.
    let mut st = dp.stats();
    for _ in 0..20 {
        if st.total.tx_packets >= 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        st = dp.stats();
    }
    assert!(st.total.tx_packets >= 1, "{st:?}");
    assert!(
        st.total.neighbour_held >= 1 && st.total.no_neighbour == 0,
        "the first packet waited for ARP and was not lost: {st:?}"
    );
    let d1 = rvs_dataplane::netlink::links(&mut rvs_dataplane::netlink::NlSocket::new().unwrap())
        .unwrap()
        .into_iter()
        .find(|l| l.name == "d1")
        .unwrap();
    assert!(
        dp.net_state()
            .neighbour(d1.index, IpAddr::V4(target))
            .is_some(),
        "the resolved neighbour reached the published table"
    );

    // Control requests reach the worker without stopping it.
    let n = dp
        .query(|f: &mut Forwarder| f.target, Duration::from_secs(2))
        .unwrap();
    assert_eq!(n, vec![target]);
    dp.stop();
}

#[test]
fn nat_replies_are_steered_but_replies_to_local_addresses_are_not() {
    if !root_or_skip("nat_replies_are_steered_but_replies_to_local_addresses_are_not") {
        return;
    }
    let a = NetNs::unique("rvsdp", "nra");
    let c = NetNs::unique("rvsdp", "nrc");
    veth(&a, "d1", &c, "s0");
    a.exec("ip addr add 203.0.113.1/24 dev d1");
    c.exec("ip addr add 203.0.113.2/24 dev s0; ip route add 198.51.100.0/24 via 203.0.113.1");
    let real_server = {
        let _in = c.enter();
        udp_socket("203.0.113.2:80")
    };
    let _in = a.enter();
    // The director's own health-check socket on its DIP.
    let checker = udp_socket("203.0.113.1:5555");
    let seen: Seen = Arc::default();
    let s2 = seen.clone();
    let dp = Dataplane::start(config(&["d1"]), move |_, _| Recorder(s2.clone())).expect("start");
    let rip: IpAddr = "203.0.113.2".parse().unwrap();
    dp.apply_steering(&[SteerEntry::NatRealServer {
        protocol: Protocol::Udp,
        rip,
        port: 80,
    }])
    .unwrap();
    // The local-address map is filled from netlink by the monitor: wait until the DIP is in.
    for _ in 0..20 {
        if dp
            .net_state()
            .local_addresses()
            .iter()
            .any(|l| l.addr == IpAddr::from([203, 0, 113, 1]))
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Reply to the health check (destination local): the kernel keeps it.
    real_server
        .send_to(b"check-reply", "203.0.113.1:5555")
        .unwrap();
    assert_eq!(received(&checker).as_deref(), Some(&b"check-reply"[..]));
    // Reply to a client (destination not local): the data plane gets it. Sent again each
    // round (bounded) so a slow worker start on a loaded machine cannot lose the only copy.
    let mut got = Vec::new();
    for _ in 0..50 {
        real_server
            .send_to(b"nat-reply", "198.51.100.7:40000")
            .unwrap();
        std::thread::sleep(Duration::from_millis(100));
        got = seen.lock().unwrap().clone();
        if !got.is_empty() {
            break;
        }
    }
    assert!(
        got.contains(&(4, 17, 40000)),
        "the NAT reply reached AF_XDP: {got:?}"
    );
    assert!(
        !got.iter().any(|g| g.2 == 5555),
        "the health-check reply did not: {got:?}"
    );
    let st = dp.stats();
    assert!(
        st.steer.passed >= 1,
        "ARP and the health-check reply were passed: {st:?}"
    );
    dp.stop();
}
