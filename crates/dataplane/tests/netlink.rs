//! Root tests of the netlink queries: routes (on-link, via gateway, IPv6), neighbours,
//! local addresses, and kernel-side neighbour resolution (NTF_USE).

mod common;

use std::net::IpAddr;
use std::time::Duration;

use rvs_dataplane::netlink::{self, NlSocket};
use rvs_testkit::{NetNs, root_or_skip, veth};

#[test]
fn routes_neighbours_addresses_and_resolution() {
    if !root_or_skip("routes_neighbours_addresses_and_resolution") {
        return;
    }
    let a = NetNs::unique("rvsdp", "nla");
    let b = NetNs::unique("rvsdp", "nlb");
    veth(&a, "d0", &b, "c0");
    a.exec(
        "ip addr add 198.51.100.1/24 dev d0; ip addr add 2001:db8:1::1/64 dev d0 nodad; \
         ip route add 203.0.113.0/24 via 198.51.100.2; \
         ip neigh add 198.51.100.9 lladdr 02:00:00:00:00:09 dev d0",
    );
    b.exec("ip addr add 198.51.100.2/24 dev c0");
    let _in = a.enter();
    let mut nl = NlSocket::new().unwrap();
    let d0 = netlink::links(&mut nl)
        .unwrap()
        .into_iter()
        .find(|l| l.name == "d0")
        .unwrap();
    assert!(d0.mac.is_some() && d0.mtu == 1500);
    assert_eq!(netlink::link(&mut nl, d0.index).unwrap().name, "d0");

    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let r = netlink::route_get(&mut nl, ip("198.51.100.2"))
        .unwrap()
        .expect("on-link route");
    assert_eq!(
        (r.oif, r.gateway, r.prefsrc),
        (d0.index, None, Some(ip("198.51.100.1")))
    );
    let r = netlink::route_get(&mut nl, ip("203.0.113.9"))
        .unwrap()
        .expect("routed");
    assert_eq!((r.oif, r.gateway), (d0.index, Some(ip("198.51.100.2"))));
    assert_eq!(r.neighbour_for(ip("203.0.113.9")), ip("198.51.100.2"));
    let r = netlink::route_get(&mut nl, ip("2001:db8:1::7"))
        .unwrap()
        .expect("IPv6 route");
    assert_eq!(r.oif, d0.index);
    assert!(
        netlink::route_get(&mut nl, ip("198.51.100.1"))
            .unwrap()
            .unwrap()
            .local
    );
    assert_eq!(
        netlink::route_get(&mut nl, ip("2001:db8:ffff::1")).unwrap(),
        None,
        "no route out"
    );

    let n = netlink::neighbours(&mut nl).unwrap();
    let static_entry = n
        .iter()
        .find(|n| n.addr == ip("198.51.100.9"))
        .expect("static neighbour");
    assert_eq!(static_entry.mac, Some([2, 0, 0, 0, 0, 9]));
    assert!(static_entry.usable());

    let addrs = netlink::addresses(&mut nl).unwrap();
    assert!(
        addrs
            .iter()
            .any(|l| l.addr == ip("198.51.100.1") && l.ifindex == d0.index && l.prefix_len == 24)
    );
    assert!(addrs.iter().any(|l| l.addr == ip("2001:db8:1::1")));

    // The kernel resolves 198.51.100.2 by itself (ARP) when asked through NTF_USE.
    netlink::resolve_neighbour(&mut nl, d0.index, ip("198.51.100.2")).unwrap();
    let mut mac = None;
    for _ in 0..30 {
        mac = netlink::neighbours(&mut nl)
            .unwrap()
            .into_iter()
            .find(|n| n.addr == ip("198.51.100.2") && n.usable())
            .and_then(|n| n.mac);
        if mac.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let peer_mac = {
        let _b = b.enter();
        let mut nlb = NlSocket::new().unwrap();
        netlink::links(&mut nlb)
            .unwrap()
            .into_iter()
            .find(|l| l.name == "c0")
            .unwrap()
            .mac
    };
    assert_eq!(mac, peer_mac, "ARP resolved the peer's MAC");
}
