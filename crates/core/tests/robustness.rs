//! Bad input: any byte string given to `process` yields a verdict and never panics; every
//! forwarded frame lies inside the buffer.

mod common;

use common::*;
use proptest::prelude::*;
use rvs_core::Verdict;
use rvs_core::director::Director;
use rvs_core::director::sample::{HEADROOM, sample_director};

fn fixtures() -> Vec<Vec<u8>> {
    let cip = "203.0.113.99";
    vec![
        Pkt::tcp(cip, 40000, "203.0.113.10", 80, SYN).frame(),
        Pkt::tcp("198.51.100.20", 8080, cip, 40000, SYN | ACK).frame(),
        Pkt::udp(cip, 5000, "203.0.113.10", 53)
            .with_payload(b"q")
            .frame(),
        Pkt::sctp(cip, 5000, "203.0.113.10", 9, 1).frame(),
        Pkt::tcp(cip, 41000, "203.0.113.11", 443, SYN)
            .with_payload(&[1; 1400])
            .frame(),
        Pkt::tcp(cip, 42000, "203.0.113.13", 80, SYN).frame(),
        Pkt::tcp("2001:db8:9::1", 5000, "2001:db8::10", 80, SYN).frame(),
        Pkt::udp("2001:db8:9::1", 5000, "2001:db8::10", 53).frame(),
        Pkt {
            vlan: Some(5),
            ..Pkt::udp(cip, 5001, "203.0.113.12", 9999)
        }
        .frame(),
        ether(
            None,
            &icmp_error(
                ip("198.51.100.20"),
                ip(cip),
                3,
                3,
                [0; 4],
                &Pkt::tcp(cip, 40000, "198.51.100.20", 8080, SYN).ip_bytes(),
            ),
        ),
        ether(
            None,
            &icmp_error(
                ip(cip),
                ip("203.0.113.10"),
                3,
                4,
                [0, 0, 5, 0],
                &Pkt::tcp("203.0.113.10", 80, cip, 40000, ACK).ip_bytes(),
            ),
        ),
    ]
}

/// A director with some live connections (so mutated packets can hit them).
fn warmed() -> Director {
    let mut d = sample_director();
    for f in fixtures() {
        let (mut b, s, l) = in_buffer(&f);
        d.process(&mut b, s, l, rvs_core::Instant::from_secs(1));
    }
    d
}

fn run(d: &mut Director, frame: &[u8], headroom: usize) {
    let mut b = vec![0u8; headroom];
    b.extend_from_slice(frame);
    let blen = b.len();
    match d.process(
        &mut b,
        headroom,
        frame.len(),
        rvs_core::Instant::from_secs(2),
    ) {
        Verdict::Forward { start, len, .. } => assert!(start + len <= blen && len >= 14),
        Verdict::Drop(_) => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), headroom in 0usize..80) {
        let mut d = warmed();
        run(&mut d, &bytes, headroom);
    }

    #[test]
    fn mutated_fixtures_never_panic(
        which in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
        headroom in prop_oneof![Just(HEADROOM), 0usize..64],
    ) {
        let fx = fixtures();
        let mut f = fx[which.index(fx.len())].clone();
        for (at, v) in flips {
            let i = at.index(f.len());
            f[i] = v;
        }
        if truncate {
            f.truncate(cut.index(f.len() + 1));
        }
        let mut d = warmed();
        run(&mut d, &f, headroom);
    }
}

#[test]
fn start_and_len_outside_the_buffer_are_malformed() {
    let mut d = sample_director();
    let mut b = vec![0u8; 64];
    for (s, l) in [(0, 65), (60, 10), (usize::MAX, 2), (1, usize::MAX)] {
        assert_eq!(
            d.process(&mut b, s, l, rvs_core::Instant::from_secs(1)),
            Verdict::Drop(rvs_core::DropReason::Malformed)
        );
    }
}
