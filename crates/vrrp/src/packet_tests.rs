//! Decode/encode tests: keepalived's own bytes, one test per [`DecodeError`], and a
//! property test that arbitrary bytes never panic the decoder.

use super::*;
use crate::fixtures;
use proptest::prelude::*;

/// Splits a captured Ethernet frame into (src, dst, VRRP message).
fn split(frame: &[u8]) -> (IpAddr, IpAddr, &[u8]) {
    let ip = &frame[14..];
    if ip[0] >> 4 == 4 {
        let hl = usize::from(ip[0] & 0x0f) * 4;
        let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
        let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
        let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
        (src.into(), dst.into(), &ip[hl..total])
    } else {
        let plen = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
        let src: [u8; 16] = ip[8..24].try_into().unwrap();
        let dst: [u8; 16] = ip[24..40].try_into().unwrap();
        (
            Ipv6Addr::from(src).into(),
            Ipv6Addr::from(dst).into(),
            &ip[40..40 + plen],
        )
    }
}

fn v4(a: &str) -> IpAddr {
    a.parse().unwrap()
}

#[test]
fn keepalived_v2_pass() {
    let (src, dst, msg) = split(&fixtures::V2_PASS);
    let a = Advert::decode(msg, &src, &dst).unwrap();
    assert_eq!(a.version, Version::V2);
    assert_eq!((a.vrid, a.priority, a.adver_int), (51, 100, 1));
    assert_eq!(a.auth, Auth::pass(b"1111"));
    assert_eq!(a.addrs, vec![v4("198.51.100.100")]);
    assert_eq!(a.interval(), Duration::from_secs(1));
    assert_eq!(a.encode(&src, &dst), msg);
}

#[test]
fn keepalived_v2_stop_is_priority_zero() {
    let (src, dst, msg) = split(&fixtures::V2_PASS_STOP);
    let a = Advert::decode(msg, &src, &dst).unwrap();
    assert_eq!(a.priority, PRIORITY_STOP);
    assert_eq!(a.encode(&src, &dst), msg);
}

#[test]
fn keepalived_v3_ipv4_uses_pseudo_header() {
    for frame in [&fixtures::V3_IPV4[..], &fixtures::V3_IPV4_STOP[..]] {
        let (src, dst, msg) = split(frame);
        let a = Advert::decode(msg, &src, &dst).unwrap();
        assert_eq!(a.version, Version::V3);
        assert_eq!((a.vrid, a.adver_int), (52, 100));
        assert_eq!(a.addrs, vec![v4("198.51.100.101"), v4("198.51.100.102")]);
        assert_eq!(a.encode(&src, &dst), msg);
        // The same bytes from another source do not verify: the pseudo-header counts.
        let other = v4("198.51.100.9");
        assert!(matches!(
            Advert::decode(msg, &other, &dst),
            Err(DecodeError::BadChecksum { version: 3, .. })
        ));
    }
}

#[test]
fn keepalived_v3_ipv6() {
    let (src, dst, msg) = split(&fixtures::V3_IPV6);
    let a = Advert::decode(msg, &src, &dst).unwrap();
    assert_eq!((a.vrid, a.priority, a.adver_int), (53, 200, 50));
    assert_eq!(a.interval(), Duration::from_millis(500));
    assert_eq!(a.addrs, vec!["2001:db8::100".parse::<IpAddr>().unwrap()]);
    assert_eq!(a.encode(&src, &dst), msg);
    let (src, dst, msg) = split(&fixtures::V3_IPV6_STOP);
    assert_eq!(Advert::decode(msg, &src, &dst).unwrap().priority, 0);
}

#[test]
fn reference_test_vector_v2() {
    // lvs-reference §7.2: VRID 51, prio 100, 192.168.200.16, no auth -> checksum 0xf210.
    let a = Advert {
        version: Version::V2,
        vrid: 51,
        priority: 100,
        adver_int: 1,
        auth: Auth::None,
        addrs: vec![v4("192.168.200.16")],
    };
    let b = a.encode(&v4("192.168.200.1"), &v4("224.0.0.18"));
    assert_eq!(&b[6..8], &[0xf2, 0x10]);
    let p = Advert {
        auth: Auth::pass(b"1111"),
        ..a
    };
    let b = p.encode(&v4("192.168.200.1"), &v4("224.0.0.18"));
    assert_eq!(&b[6..8], &[0x8e, 0xae]);
}

#[test]
fn reference_test_vector_v3() {
    let a = Advert {
        version: Version::V3,
        vrid: 51,
        priority: 100,
        adver_int: 100,
        auth: Auth::None,
        addrs: vec![v4("192.168.200.16")],
    };
    let b = a.encode(&v4("192.168.200.1"), &v4("224.0.0.18"));
    assert_eq!(
        b,
        [
            0x31, 0x33, 0x64, 0x01, 0x00, 0x64, 0x78, 0x74, 0xc0, 0xa8, 0xc8, 0x10
        ]
    );
}

fn good() -> (IpAddr, IpAddr, Vec<u8>) {
    let (s, d, m) = split(&fixtures::V2_PASS);
    (s, d, m.to_vec())
}

/// Re-fills the v2 checksum after a test edited a field.
fn refill_v2(m: &mut [u8]) {
    m[6] = 0;
    m[7] = 0;
    let c = checksum::finish(checksum::data(m));
    m[6..8].copy_from_slice(&c.to_be_bytes());
}

#[test]
fn error_truncated() {
    let (s, d, m) = good();
    assert_eq!(
        Advert::decode(&m[..7], &s, &d),
        Err(DecodeError::Truncated(7))
    );
}

#[test]
fn error_unknown_version() {
    let (s, d, mut m) = good();
    m[0] = 0x41;
    assert_eq!(
        Advert::decode(&m, &s, &d),
        Err(DecodeError::UnknownVersion(4))
    );
}

#[test]
fn error_unknown_type() {
    let (s, d, mut m) = good();
    m[0] = 0x22;
    assert_eq!(Advert::decode(&m, &s, &d), Err(DecodeError::UnknownType(2)));
}

#[test]
fn error_zero_vrid() {
    let (s, d, mut m) = good();
    m[1] = 0;
    assert_eq!(Advert::decode(&m, &s, &d), Err(DecodeError::ZeroVrid));
}

#[test]
fn error_family_mismatch() {
    let (s, _, m) = good();
    let d6: IpAddr = MULTICAST_V6.into();
    assert_eq!(
        Advert::decode(&m, &s, &d6),
        Err(DecodeError::FamilyMismatch)
    );
}

#[test]
fn error_v2_over_ipv6() {
    let (_, _, m) = good();
    let s6: IpAddr = "fe80::1".parse().unwrap();
    let d6: IpAddr = MULTICAST_V6.into();
    assert_eq!(Advert::decode(&m, &s6, &d6), Err(DecodeError::V2OverIpv6));
}

#[test]
fn error_length_mismatch() {
    let (s, d, mut m) = good();
    m.push(0);
    assert_eq!(
        Advert::decode(&m, &s, &d),
        Err(DecodeError::LengthMismatch {
            expected: 20,
            actual: 21
        })
    );
    let (s, d, mut m) = good();
    m[3] = 2;
    assert_eq!(
        Advert::decode(&m, &s, &d),
        Err(DecodeError::LengthMismatch {
            expected: 24,
            actual: 20
        })
    );
}

#[test]
fn error_unknown_auth_type() {
    let (s, d, mut m) = good();
    m[4] = 3;
    refill_v2(&mut m);
    assert_eq!(
        Advert::decode(&m, &s, &d),
        Err(DecodeError::UnknownAuthType(3))
    );
}

#[test]
fn error_zero_interval() {
    let (s, d, mut m) = good();
    m[5] = 0;
    refill_v2(&mut m);
    assert_eq!(Advert::decode(&m, &s, &d), Err(DecodeError::ZeroInterval));
}

#[test]
fn error_bad_checksum() {
    let (s, d, mut m) = good();
    m[2] = 101;
    assert_eq!(
        Advert::decode(&m, &s, &d),
        Err(DecodeError::BadChecksum {
            version: 2,
            found: 0xeccf
        })
    );
}

#[test]
fn v3_reserved_bits_are_ignored() {
    let (s, d, m) = split(&fixtures::V3_IPV4);
    let mut m = m.to_vec();
    m[4] |= 0xf0;
    // Fix the checksum for the changed word by recomputing over the pseudo-header.
    m[6] = 0;
    m[7] = 0;
    let c = checksum::finish(checksum_sum(Version::V3, &m, &s, &d));
    m[6..8].copy_from_slice(&c.to_be_bytes());
    assert_eq!(Advert::decode(&m, &s, &d).unwrap().adver_int, 100);
}

#[test]
fn pass_is_truncated_and_padded() {
    assert_eq!(Auth::pass(b"123456789"), Auth::Pass(*b"12345678"));
    assert_eq!(
        Auth::pass(b"ab"),
        Auth::Pass([b'a', b'b', 0, 0, 0, 0, 0, 0])
    );
}

proptest! {
    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600),
                           six in any::<bool>()) {
        let (s, d): (IpAddr, IpAddr) = if six {
            ("fe80::1".parse().unwrap(), MULTICAST_V6.into())
        } else {
            (v4("198.51.100.1"), MULTICAST_V4.into())
        };
        let _ = Advert::decode(&bytes, &s, &d);
    }

    #[test]
    fn encode_then_decode_round_trips(vrid in 1u8.., prio in any::<u8>(), int in 1u16..=4095,
                                      n in 0usize..20, v3 in any::<bool>()) {
        let version = if v3 { Version::V3 } else { Version::V2 };
        let adver_int = if v3 { int } else { int % 255 + 1 };
        let addrs = (0..n).map(|i| IpAddr::V4(Ipv4Addr::new(198, 51, 100, i as u8))).collect();
        let a = Advert { version, vrid, priority: prio, adver_int, auth: Auth::None, addrs };
        let (s, d) = (v4("198.51.100.1"), MULTICAST_V4.into());
        prop_assert_eq!(Advert::decode(&a.encode(&s, &d), &s, &d), Ok(a));
    }
}
