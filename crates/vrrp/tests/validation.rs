//! Receive validation (keepalived `vrrp_check_packet`): one test per drop reason, and
//! keepalived's configuration corrections.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use rvs_vrrp::{
    Advert, Auth, Config, ConfigError, DecodeError, Engine, InitialState, InstanceConfig,
    LinkState, Received, RxError, State, UnicastPeer, Version, VirtualIp,
};

const ME: &str = "198.51.100.1";
const PEER: &str = "198.51.100.2";
const GROUP: &str = "224.0.0.18";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn engine(f: impl FnOnce(&mut InstanceConfig)) -> (Engine, Instant) {
    let mut i = InstanceConfig::new("VI", "eth0", 51);
    i.virtual_ipaddresses = vec![VirtualIp::host(ip("198.51.100.100"))];
    i.auth_pass = Some(b"secret".to_vec());
    f(&mut i);
    let mut e = Engine::new(Config {
        instances: vec![i],
        ..Config::default()
    })
    .unwrap();
    let now = Instant::now();
    e.set_link(
        now,
        "eth0",
        LinkState {
            up: true,
            ipv4: Some(ME.parse().unwrap()),
            ipv6: None,
        },
    );
    e.start(now);
    (e, now)
}

fn advert(f: impl FnOnce(&mut Advert)) -> Advert {
    let mut a = Advert {
        version: Version::V2,
        vrid: 51,
        priority: 150,
        adver_int: 1,
        auth: Auth::pass(b"secret"),
        addrs: vec![ip("198.51.100.100")],
    };
    f(&mut a);
    a
}

fn rx(
    e: &mut Engine,
    now: Instant,
    a: &Advert,
    src: &str,
    dst: &str,
    ttl: u8,
) -> Result<(), RxError> {
    let bytes = a.encode(&ip(src), &ip(dst));
    e.handle_packet(
        now,
        &Received {
            interface: "eth0",
            src: ip(src),
            dst: ip(dst),
            ttl,
            payload: &bytes,
        },
    )
}

#[test]
fn a_valid_advert_is_accepted() {
    let (mut e, now) = engine(|_| {});
    assert_eq!(rx(&mut e, now, &advert(|_| {}), PEER, GROUP, 255), Ok(()));
    assert_eq!(e.instances()[0].stats.adverts_received, 1);
    assert_eq!(e.instances()[0].master, Some(ip(PEER)));
}

#[test]
fn multicast_ttl_must_be_255() {
    let (mut e, now) = engine(|_| {});
    assert_eq!(
        rx(&mut e, now, &advert(|_| {}), PEER, GROUP, 254),
        Err(RxError::Ttl(254))
    );
    assert_eq!(e.instances()[0].stats.ttl_errors, 1);
}

#[test]
fn unicast_ttl_is_checked_against_the_peer_limits() {
    let (mut e, now) = engine(|i| {
        i.unicast_peers = vec![UnicastPeer {
            addr: ip(PEER),
            min_ttl: Some(250),
            max_ttl: None,
        }]
    });
    assert_eq!(
        rx(&mut e, now, &advert(|_| {}), PEER, ME, 64),
        Err(RxError::Ttl(64))
    );
    assert_eq!(rx(&mut e, now, &advert(|_| {}), PEER, ME, 255), Ok(()));
}

#[test]
fn version_must_match() {
    let (mut e, now) = engine(|_| {});
    let a = advert(|a| {
        a.version = Version::V3;
        a.adver_int = 100;
    });
    assert_eq!(
        rx(&mut e, now, &a, PEER, GROUP, 255),
        Err(RxError::Version(3))
    );
}

#[test]
fn auth_type_and_password_must_match() {
    let (mut e, now) = engine(|_| {});
    let none = advert(|a| a.auth = Auth::None);
    assert_eq!(
        rx(&mut e, now, &none, PEER, GROUP, 255),
        Err(RxError::AuthType { got: 0, want: 1 })
    );
    let wrong = advert(|a| a.auth = Auth::pass(b"guess"));
    assert_eq!(
        rx(&mut e, now, &wrong, PEER, GROUP, 255),
        Err(RxError::Password)
    );
    assert_eq!(e.instances()[0].stats.auth_errors, 2);
}

#[test]
fn v2_interval_must_match_but_v3_is_learned() {
    let (mut e, now) = engine(|_| {});
    let a = advert(|a| a.adver_int = 2);
    assert_eq!(
        rx(&mut e, now, &a, PEER, GROUP, 255),
        Err(RxError::Interval { mine: 1, got: 2 })
    );
    let (mut e, now) = engine(|i| i.version = Version::V3);
    let a = advert(|a| {
        a.version = Version::V3;
        a.auth = Auth::None;
        a.adver_int = 300;
    });
    assert_eq!(rx(&mut e, now, &a, PEER, GROUP, 255), Ok(()));
}

#[test]
fn unicast_and_multicast_do_not_mix() {
    let (mut e, now) = engine(|i| {
        i.unicast_peers = vec![UnicastPeer {
            addr: ip(PEER),
            min_ttl: None,
            max_ttl: None,
        }]
    });
    assert_eq!(
        rx(&mut e, now, &advert(|_| {}), PEER, GROUP, 255),
        Err(RxError::UnicastMismatch)
    );
    let (mut e, now) = engine(|_| {});
    assert_eq!(
        rx(&mut e, now, &advert(|_| {}), PEER, ME, 255),
        Err(RxError::UnicastMismatch)
    );
}

#[test]
fn check_unicast_src_accepts_listed_peers_only() {
    let (mut e, now) = engine(|i| {
        i.check_unicast_src = true;
        i.unicast_peers = vec![UnicastPeer {
            addr: ip(PEER),
            min_ttl: None,
            max_ttl: None,
        }]
    });
    assert_eq!(
        rx(&mut e, now, &advert(|_| {}), "198.51.100.9", ME, 255),
        Err(RxError::UnknownPeer)
    );
}

#[test]
fn own_adverts_and_unknown_vrids_are_dropped() {
    let (mut e, now) = engine(|_| {});
    assert_eq!(
        rx(&mut e, now, &advert(|_| {}), ME, GROUP, 255),
        Err(RxError::OwnPacket)
    );
    let other = advert(|a| a.vrid = 52);
    assert_eq!(
        rx(&mut e, now, &other, PEER, GROUP, 255),
        Err(RxError::UnknownVrid(52))
    );
    assert_eq!(e.unmatched_packets(), 1);
}

#[test]
fn corrupt_packets_are_decode_errors() {
    let (mut e, now) = engine(|_| {});
    let mut bytes = advert(|_| {}).encode(&ip(PEER), &ip(GROUP));
    bytes[2] ^= 1;
    let r = e.handle_packet(
        now,
        &Received {
            interface: "eth0",
            src: ip(PEER),
            dst: ip(GROUP),
            ttl: 255,
            payload: &bytes,
        },
    );
    assert!(matches!(
        r,
        Err(RxError::Decode(DecodeError::BadChecksum { .. }))
    ));
}

#[test]
fn fault_listens_to_nothing() {
    let (mut e, now) = engine(|_| {});
    e.set_link(now, "eth0", LinkState::default());
    assert_eq!(e.state("VI"), Some(State::Fault));
    assert_eq!(
        rx(&mut e, now, &advert(|_| {}), PEER, GROUP, 255),
        Err(RxError::NotListening)
    );
}

#[test]
fn keepalived_config_corrections() {
    let mut i = InstanceConfig::new("VI", "eth0", 51);
    i.priority = 255;
    i.nopreempt = true;
    i.version = Version::V3;
    i.auth_pass = Some(b"123456789".to_vec());
    let mut j = InstanceConfig::new("VJ", "eth0", 52);
    j.state = InitialState::Master;
    j.preempt_delay = Duration::from_secs(5);
    j.advert_int = Duration::from_millis(1400);
    let mut c = Config {
        instances: vec![i, j],
        ..Config::default()
    };
    let w = c.validate().unwrap();
    assert_eq!(w.len(), 4, "{w:?}");
    assert!(!c.instances[0].nopreempt);
    assert_eq!(c.instances[0].auth_pass, None);
    assert_eq!(c.instances[1].preempt_delay, Duration::ZERO);
    assert_eq!(c.instances[1].advert_int, Duration::from_secs(1));
}

#[test]
fn keepalived_config_errors() {
    let mut c = Config {
        instances: vec![
            InstanceConfig::new("A", "eth0", 51),
            InstanceConfig::new("B", "eth0", 51),
        ],
        ..Config::default()
    };
    assert!(matches!(c.validate(), Err(ConfigError::Instance { name, .. }) if name == "B"));
    let mut bad = InstanceConfig::new("A", "eth0", 0);
    bad.virtual_router_id = 0;
    let mut c = Config {
        instances: vec![bad],
        ..Config::default()
    };
    assert!(c.validate().is_err());
    let mut mixed = InstanceConfig::new("A", "eth0", 1);
    mixed.virtual_ipaddresses = vec![
        VirtualIp::host(ip("198.51.100.1")),
        VirtualIp::host(ip("2001:db8::1")),
    ];
    let mut c = Config {
        instances: vec![mixed],
        ..Config::default()
    };
    assert!(c.validate().is_err());
}
