//! The incremental updates give exactly the checksum a full recompute gives.

use core::net::{IpAddr, Ipv4Addr};

use proptest::prelude::*;
use rvs_wire::checksum;

use super::nat::{Side, rewrite};
use super::*;
use crate::director::packet::parse;

/// Ethernet + IPv4 + TCP with valid checksums.
fn frame(
    src: [u8; 4],
    dst: [u8; 4],
    ttl: u8,
    id: u16,
    sport: u16,
    dport: u16,
    payload: &[u8],
) -> Vec<u8> {
    let mut f = vec![0u8; 12];
    f.extend_from_slice(&[0x08, 0x00]);
    let tcp_len = 20 + payload.len();
    let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, ttl, 6, 0, 0];
    ip[2..4].copy_from_slice(&((20 + tcp_len) as u16).to_be_bytes());
    ip[4..6].copy_from_slice(&id.to_be_bytes());
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    let c = checksum::finish(checksum::data(&ip));
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let mut t = vec![0u8; 20];
    t[0..2].copy_from_slice(&sport.to_be_bytes());
    t[2..4].copy_from_slice(&dport.to_be_bytes());
    t[12] = 0x50;
    t[13] = 0x10;
    t.extend_from_slice(payload);
    let (s, d) = (IpAddr::from(src), IpAddr::from(dst));
    let c = checksum::finish(checksum::combine(&[
        checksum::pseudo_header(&s, &d, 6, tcp_len as u32),
        checksum::data(&t),
    ]));
    t[16..18].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&t);
    f
}

fn ip_csum(f: &[u8]) -> u16 {
    u16::from_be_bytes([f[24], f[25]])
}

fn recomputed_ip_csum(f: &[u8]) -> u16 {
    let mut h = f[14..34].to_vec();
    h[10..12].fill(0);
    checksum::finish(checksum::data(&h))
}

fn recomputed_tcp_csum(f: &[u8]) -> u16 {
    let s = IpAddr::from(<[u8; 4]>::try_from(&f[26..30]).unwrap());
    let d = IpAddr::from(<[u8; 4]>::try_from(&f[30..34]).unwrap());
    let mut t = f[34..].to_vec();
    t[16..18].fill(0);
    checksum::finish(checksum::combine(&[
        checksum::pseudo_header(&s, &d, 6, t.len() as u32),
        checksum::data(&t),
    ]))
}

proptest! {
    #[test]
    fn ttl_decrement_equals_recompute(src: [u8; 4], dst: [u8; 4], ttl in 2u8.., id: u16) {
        let mut f = frame(src, dst, ttl, id, 1, 2, b"");
        let p = parse(&f, 0, f.len()).unwrap();
        decrement_ttl(&mut f, &p).unwrap();
        prop_assert_eq!(f[22], ttl - 1);
        prop_assert_eq!(ip_csum(&f), recomputed_ip_csum(&f));
    }

    #[test]
    fn nat_rewrite_equals_recompute(
        src: [u8; 4], dst: [u8; 4], new: [u8; 4], id: u16, sport: u16, dport: u16, port: u16,
        payload in proptest::collection::vec(any::<u8>(), 0..40), dst_side: bool,
    ) {
        let mut f = frame(src, dst, 64, id, sport, dport, &payload);
        let p = parse(&f, 0, f.len()).unwrap();
        let side = if dst_side { Side::Dst } else { Side::Src };
        rewrite(&mut f, &p, side, IpAddr::V4(Ipv4Addr::from(new)), port).unwrap();
        prop_assert_eq!(ip_csum(&f), recomputed_ip_csum(&f));
        prop_assert_eq!(u16::from_be_bytes([f[50], f[51]]), recomputed_tcp_csum(&f));
        let (a, pt) = if dst_side { (&f[30..34], &f[36..38]) } else { (&f[26..30], &f[34..36]) };
        prop_assert_eq!(a, &new[..]);
        prop_assert_eq!(pt, &port.to_be_bytes()[..]);
    }
}

#[test]
fn ttl_one_is_refused_and_left_alone() {
    let mut f = frame([198, 51, 100, 1], [203, 0, 113, 1], 1, 7, 1, 2, b"");
    let before = f.clone();
    let p = parse(&f, 0, f.len()).unwrap();
    assert_eq!(decrement_ttl(&mut f, &p), Err(DropReason::TtlExceeded));
    assert_eq!(f, before);
}

#[test]
fn mtu_rules() {
    let f = frame([198, 51, 100, 1], [203, 0, 113, 1], 64, 7, 1, 2, &[0; 100]);
    let p = parse(&f, 0, f.len()).unwrap();
    assert_eq!(check_mtu(&p, 140, false), Ok(()));
    assert_eq!(
        check_mtu(&p, 139, false),
        Err(MtuAction::Icmp(IcmpKind::FragNeeded(139)))
    );
    assert_eq!(check_mtu(&p, 139, true), Err(MtuAction::Drop));
    let p = Parsed { df: false, ..p };
    assert_eq!(check_mtu(&p, 139, false), Err(MtuAction::Drop));
    let p = Parsed { v6: true, ..p };
    assert_eq!(
        check_mtu(&p, 139, false),
        Err(MtuAction::Icmp(IcmpKind::PacketTooBig(139)))
    );
}
