//! Bad input on the wire, sent from the client's namespace with AF_PACKET straight at the
//! director: truncated and malformed frames, IPv4 fragments, TTL 1. Nothing panics, rvsd
//! goes on serving, and its drop counters (SIGUSR1 dump) say why each was dropped. Packets
//! for a VIP port without a service reach the director's kernel.
//!
//! Root only: `cargo build --bins && cargo test -p rvs-e2e --test bad_input`.

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::Duration;

use rvs_e2e::client::{assert_alternates, curl_servers, url};
use rvs_e2e::frames::{ACK, ETH_IPV4, Ipv4, SYN, ethernet, mac_of, send_frames, tcp};
use rvs_e2e::{Lab, in_netns, root_or_skip, wait_until};

fn v4(a: IpAddr) -> Ipv4Addr {
    match a {
        IpAddr::V4(a) => a,
        IpAddr::V6(_) => panic!("an IPv4 address"),
    }
}

/// A NAT lab serving TCP VIP:80 over both real servers.
fn nat_lab(tag: &str) -> (Lab, IpAddr) {
    let mut lab = Lab::up("nat", tag, false);
    lab.start_rvsd();
    let (vip, rip1, rip2) = (lab.vip(false), lab.rip(1, false), lab.rip(2, false));
    lab.director_sh(&format!(
        "$IPVSADM -A -t {vip}:80 -s rr\n\
         $IPVSADM -a -t {vip}:80 -r {rip1}:80 -m\n\
         $IPVSADM -a -t {vip}:80 -r {rip2}:80 -m\n"
    ));
    (lab, vip)
}

fn drop_count(c: &serde_json::Value, reason: &str) -> u64 {
    c["drops"][reason]
        .as_u64()
        .unwrap_or_else(|| panic!("no drop counter {reason} in {c}"))
}

/// Waits until drop counter `reason` has grown by at least `by`; returns the counters.
fn wait_drops(lab: &Lab, before: &serde_json::Value, reason: &str, by: u64) -> serde_json::Value {
    let want = drop_count(before, reason) + by;
    let mut now = before.clone();
    wait_until(
        &format!("drop counter {reason} to reach {want}"),
        Duration::from_secs(5),
        || {
            now = lab.counters();
            drop_count(&now, reason) >= want
        },
    );
    now
}

#[test]
fn bad_frames_are_dropped_and_counted_and_rvsd_goes_on() {
    if !root_or_skip("bad_frames_are_dropped_and_counted_and_rvsd_goes_on") {
        return;
    }
    let (mut lab, vip) = nat_lab("bad");
    let (cip, vip4) = (v4(lab.cip(false)), v4(vip));
    let dst = mac_of(lab.director(), "eth0");
    let src = mac_of(lab.client(), "eth0");
    let frame = |ip: Vec<u8>| ethernet(dst, src, ETH_IPV4, &ip);
    let syn = |sport: u16| tcp(cip, vip4, sport, 80, SYN, &[]);
    let base = Ipv4::tcp(cip, vip4);
    let send = |frames: Vec<Vec<u8>>| send_frames(lab.client(), "eth0", frames);

    // Malformed: headers that claim more than the frame holds.
    let c0 = lab.counters();
    let mut long = base.packet(&syn(40001));
    long[2..4].copy_from_slice(&1000u16.to_be_bytes()); // total length beyond the frame
    long[10..12].copy_from_slice(&[0, 0]);
    let sum = rvs_e2e::frames::checksum(&long[..20]);
    long[10..12].copy_from_slice(&sum.to_be_bytes());
    let mut short_tcp = base.packet(&syn(40002)[..8]); // ports, but no whole TCP header
    short_tcp.truncate(20 + 8);
    let mut bad_offset = base.packet(&syn(40003));
    bad_offset[20 + 12] = 15 << 4; // data offset 60 bytes in a 20-byte segment
    send(vec![frame(long), frame(short_tcp), frame(bad_offset)]);
    let c1 = wait_drops(&lab, &c0, "malformed", 3);

    // Checksums that do not verify: the IPv4 header's.
    let mut bad_ip_sum = base.packet(&syn(40004));
    bad_ip_sum[10] ^= 0xff;
    send(vec![frame(bad_ip_sum)]);
    let c2 = wait_drops(&lab, &c1, "bad_checksum", 1);

    // IPv4 fragments of a TCP segment to VIP:80: IPVS does not balance fragments.
    let seg = syn(40005);
    let first = Ipv4 {
        flags_offset: Ipv4::MORE_FRAGMENTS,
        id: 0x4242,
        ..base
    }
    .packet(&seg[..16]);
    let second = Ipv4 {
        flags_offset: 2,
        id: 0x4242,
        ..base
    }
    .packet(&seg[16..]);
    send(vec![frame(first), frame(second)]);
    let c3 = wait_drops(&lab, &c2, "fragment", 2);

    // TTL 1: forwarding would expire it.
    let ttl1 = Ipv4 { ttl: 1, ..base }.packet(&syn(40006));
    send(vec![frame(ttl1)]);
    let c4 = wait_drops(&lab, &c3, "ttl_exceeded", 1);

    // A segment that cannot start a connection (ACK without SYN) and matches none.
    let ack = base.packet(&tcp(cip, vip4, 40007, 80, ACK, &[]));
    send(vec![frame(ack)]);
    let c5 = wait_drops(&lab, &c4, "no_connection", 1);

    // Runts and junk the steering program leaves to the kernel: they must not reach rvsd's
    // core as anything but a counted drop, and must not hurt it.
    let runt = ethernet(dst, src, ETH_IPV4, &base.packet(&syn(40008))[..10]);
    let mut bad_ihl = base.packet(&syn(40009));
    bad_ihl[0] = 0x4f; // a 60-byte header in a 40-byte packet
    let junk = ethernet(dst, src, 0x88b5, &[0xde, 0xad, 0xbe, 0xef]);
    let v6_runt = ethernet(dst, src, 0x86dd, &[0x60, 0, 0, 0, 0, 20]);
    send(vec![runt, frame(bad_ihl), junk, v6_runt]);
    let passed = |c: &serde_json::Value| c["steer"]["passed"].as_u64().expect("steer.passed");
    let before_junk = passed(&c5);
    wait_until(
        "the steering program to pass the junk to the kernel",
        Duration::from_secs(5),
        || passed(&lab.counters()) >= before_junk + 4,
    );

    // Nothing panicked: rvsd runs, serves, and counted every drop it made.
    assert!(lab.rvsd_running(), "rvsd still runs");
    let servers = curl_servers(lab.client(), &url(vip, 80, "/"), 4);
    assert_alternates(&servers, ["rs1", "rs2"]);
    let end = lab.counters();
    let total = |c: &serde_json::Value| -> u64 {
        c["drops"]
            .as_object()
            .expect("drops")
            .values()
            .filter_map(|v| v.as_u64())
            .sum()
    };
    assert!(total(&end) >= total(&c5), "{end}");
    // Every frame the core dropped has a reason; a reason may also count a packet that was
    // answered with an ICMP error instead of being forwarded.
    let processor_drops = end["workers"]["processor_drops"]
        .as_u64()
        .expect("processor_drops");
    let icmp_sent = end["icmp_sent"].as_u64().expect("icmp_sent");
    assert!(processor_drops <= total(&end), "{end}");
    assert!(total(&end) <= processor_drops + icmp_sent, "{end}");
    assert_eq!(end["workers"]["invalid_frame"].as_u64(), Some(0), "{end}");
}

#[test]
fn packets_to_a_vip_port_without_a_service_reach_the_kernel() {
    if !root_or_skip("packets_to_a_vip_port_without_a_service_reach_the_kernel") {
        return;
    }
    let (lab, vip) = nat_lab("nosvc");
    let cip = lab.cip(false);
    // Nothing listens on VIP:81: the director's kernel answers with a reset.
    let refused = in_netns(lab.client(), move || {
        TcpStream::connect_timeout(&SocketAddr::new(vip, 81), Duration::from_secs(5))
    });
    match refused {
        Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}"),
        Ok(_) => panic!("something accepted on {vip}:81"),
    }
    // A listener in the director's namespace gets TCP to VIP:82 and UDP to VIP:80 (the
    // service is TCP only).
    let listener = in_netns(lab.director(), move || {
        TcpListener::bind(SocketAddr::new(vip, 82)).expect("listen on VIP:82")
    });
    let udp = in_netns(lab.director(), move || {
        UdpSocket::bind(SocketAddr::new(vip, 80)).expect("bind UDP VIP:80")
    });
    udp.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut client = in_netns(lab.client(), move || {
        TcpStream::connect_timeout(&SocketAddr::new(vip, 82), Duration::from_secs(5))
            .expect("connect to the director's own listener")
    });
    let (mut accepted, peer) = listener.accept().expect("accept");
    assert_eq!(peer.ip(), cip);
    client.write_all(b"hello").expect("write");
    let mut buf = [0u8; 5];
    accepted
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    accepted.read_exact(&mut buf).expect("read");
    assert_eq!(&buf, b"hello");

    in_netns(lab.client(), move || {
        let s = UdpSocket::bind("0.0.0.0:0").expect("bind");
        s.send_to(b"to the kernel", SocketAddr::new(vip, 80))
            .expect("send");
    });
    let mut buf = [0u8; 64];
    let (n, from) = udp
        .recv_from(&mut buf)
        .expect("the director's kernel got the datagram");
    assert_eq!((&buf[..n], from.ip()), (&b"to the kernel"[..], cip));

    // The service itself still works.
    let servers = curl_servers(lab.client(), &url(vip, 80, "/"), 2);
    assert_alternates(&servers, ["rs1", "rs2"]);
}
