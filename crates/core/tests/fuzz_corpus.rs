//! Replays every seed of the fuzz corpus (`fuzz/corpus/process/`) through the fuzz target's
//! entry point, so `cargo test` covers what the fuzzer found. Also checks that the seeds
//! still reach deep paths (forwarded frames), and can rewrite the seeds
//! (`RVS_WRITE_CORPUS=1 cargo test -p rvs-core --test fuzz_corpus -- --ignored`).

mod common;

use std::path::PathBuf;

use common::*;
use rvs_core::director::sample::{encode_frames, run_frames, sample_director};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/process")
}

#[test]
fn replay_corpus() {
    let mut files: Vec<_> = std::fs::read_dir(corpus_dir())
        .expect("fuzz/corpus/process exists")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 10, "the seed corpus is there");
    let mut forwarded = 0;
    for f in &files {
        let data = std::fs::read(f).unwrap();
        let mut d = sample_director();
        forwarded += run_frames(&mut d, &data);
    }
    assert!(
        forwarded > 20,
        "seeds reach the forwarding paths ({forwarded})"
    );
}

/// Frames of conversations with every sample service, and malformed variants.
fn seeds() -> Vec<(&'static str, Vec<Vec<u8>>)> {
    let cip = "203.0.113.99";
    let c6 = "2001:db8:9::1";
    let nat = vec![
        Pkt::tcp(cip, 40000, "203.0.113.10", 80, SYN).frame(),
        Pkt::tcp("198.51.100.20", 8080, cip, 40000, SYN | ACK).frame(),
        Pkt::tcp("198.51.100.21", 8080, cip, 40000, SYN | ACK).frame(),
        Pkt::tcp(cip, 40000, "203.0.113.10", 80, ACK)
            .with_payload(b"GET / HTTP/1.0\r\n\r\n")
            .frame(),
        Pkt::tcp("198.51.100.20", 8080, cip, 40000, ACK)
            .with_payload(b"HTTP/1.0 200 OK\r\n")
            .frame(),
        Pkt::tcp(cip, 40000, "203.0.113.10", 80, FIN | ACK).frame(),
        Pkt::tcp(cip, 40000, "203.0.113.10", 80, RST).frame(),
    ];
    let icmp = vec![
        Pkt::udp(cip, 5000, "203.0.113.12", 7777).frame(),
        ether(
            None,
            &icmp_error(
                common::ip("198.51.100.50"),
                common::ip(cip),
                3,
                3,
                [0; 4],
                &Pkt::udp(cip, 5000, "198.51.100.50", 7777).ip_bytes(),
            ),
        ),
        ether(
            None,
            &icmp_error(
                common::ip(cip),
                common::ip("203.0.113.12"),
                3,
                3,
                [0; 4],
                &Pkt::udp("203.0.113.12", 7777, cip, 5000).ip_bytes(),
            ),
        ),
        ether(
            None,
            &icmp_error(
                common::ip(cip),
                common::ip("203.0.113.10"),
                8,
                0,
                [0, 1, 0, 1],
                b"ping",
            ),
        ),
    ];
    let tun_inner = Pkt {
        ttl: 63,
        ..Pkt::tcp(cip, 41000, "203.0.113.11", 443, SYN)
    };
    let tun = vec![
        Pkt::tcp(cip, 41000, "203.0.113.11", 443, SYN).frame(),
        Pkt::tcp(cip, 41000, "203.0.113.11", 443, ACK)
            .with_payload(&[0x16; 1460])
            .frame(),
        Pkt {
            df: false,
            ..Pkt::tcp(cip, 41000, "203.0.113.11", 443, ACK).with_payload(&[0x16; 1460])
        }
        .frame(),
        ether(
            None,
            &icmp_error(
                common::ip("198.51.100.1"),
                common::ip("198.51.100.254"),
                3,
                4,
                [0, 0, 5, 0xdc],
                &ip_header(
                    common::ip("198.51.100.254"),
                    common::ip("198.51.100.40"),
                    4,
                    63,
                    true,
                    0,
                    tun_inner.ip_bytes(),
                ),
            ),
        ),
        Pkt::tcp(cip, 42000, "203.0.113.13", 80, SYN).frame(),
    ];
    let v6 = vec![
        Pkt::tcp(c6, 5000, "2001:db8::10", 80, SYN).frame(),
        Pkt::tcp("2001:db8:1::20", 8080, c6, 5000, SYN | ACK).frame(),
        Pkt::udp(c6, 5001, "2001:db8::10", 53)
            .with_payload(b"q")
            .frame(),
        Pkt::udp(c6, 5001, "2001:db8::10", 53)
            .with_payload(&[0; 1400])
            .frame(),
        ether(
            None,
            &icmp_error(
                common::ip("2001:db8:1::20"),
                common::ip(c6),
                1,
                4,
                [0; 4],
                &Pkt::tcp(c6, 5000, "2001:db8:1::20", 8080, ACK).ip_bytes(),
            ),
        ),
    ];
    let udp_sctp = vec![
        Pkt::udp(cip, 6000, "203.0.113.10", 53)
            .with_payload(b"query")
            .frame(),
        Pkt::sctp(cip, 6001, "203.0.113.10", 9, 1).frame(),
        Pkt::sctp("198.51.100.20", 99, cip, 6001, 2).frame(),
        Pkt::sctp(cip, 6001, "203.0.113.10", 9, 10).frame(),
        Pkt {
            vlan: Some(7),
            ..Pkt::udp(cip, 6002, "203.0.113.10", 53)
        }
        .frame(),
    ];
    let mut broken = Vec::new();
    let base = Pkt::tcp(cip, 40001, "203.0.113.10", 80, SYN).frame();
    for cut in [0, 13, 14, 20, 33, 34, 40, 53] {
        broken.push(base[..cut].to_vec());
    }
    let mut frag = base.clone();
    frag[14 + 6] = 0x20;
    broken.push(frag);
    let mut ttl1 = base.clone();
    ttl1[14 + 8] = 1;
    broken.push(ttl1);
    let mut bad_ihl = base.clone();
    bad_ihl[14] = 0x4f;
    broken.push(bad_ihl);
    let mut bad_len = base;
    bad_len[14 + 2] = 0xff;
    broken.push(bad_len);
    vec![
        ("nat", nat),
        ("icmp", icmp),
        ("tun", tun),
        ("ipv6", v6),
        ("udp-sctp", udp_sctp),
        ("broken", broken),
    ]
}

#[test]
fn seeds_forward_what_they_should() {
    // The conversation seeds are valid traffic: most of their frames are forwarded.
    for (name, frames) in seeds() {
        let data = encode_frames(frames.iter().map(|f| f.as_slice()));
        let mut d = sample_director();
        let n = run_frames(&mut d, &data);
        if name == "broken" {
            assert_eq!(n, 0, "{name}");
        } else {
            assert!(n * 2 >= frames.len(), "{name}: {n} of {}", frames.len());
        }
    }
}

#[test]
#[ignore = "rewrites fuzz/corpus/process; run with RVS_WRITE_CORPUS=1"]
fn write_seed_corpus() {
    if std::env::var_os("RVS_WRITE_CORPUS").is_none() {
        return;
    }
    let dir = corpus_dir();
    std::fs::create_dir_all(&dir).unwrap();
    for (name, frames) in seeds() {
        let all = encode_frames(frames.iter().map(|f| f.as_slice()));
        std::fs::write(dir.join(format!("seed-{name}")), all).unwrap();
        for (i, f) in frames.iter().enumerate() {
            std::fs::write(
                dir.join(format!("seed-{name}-{i:02}")),
                encode_frames([f.as_slice()]),
            )
            .unwrap();
        }
    }
}
