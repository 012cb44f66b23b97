//! Checksum cost: full recompute vs RFC 1624 incremental update after a NAT rewrite,
//! and CRC32c for SCTP.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rvs_wire::{checksum, tcp};

fn segment(len: usize) -> Vec<u8> {
    let mut b: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
    b[12] = 0x50;
    b
}

fn bench(c: &mut Criterion) {
    let (src, dst) = (
        IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)),
        IpAddr::V4(Ipv4Addr::new(203, 0, 113, 2)),
    );
    let vip = Ipv4Addr::new(203, 0, 113, 2);
    let rip = Ipv4Addr::new(198, 51, 100, 10);
    for len in [64usize, 1460] {
        let mut g = c.benchmark_group(format!("tcp{len}"));
        g.throughput(Throughput::Bytes(len as u64));
        let mut buf = segment(len);
        tcp::Packet::new_unchecked(&mut buf[..]).fill_checksum(&src, &dst);
        g.bench_function("full_recompute", |b| {
            b.iter(|| {
                let mut p = tcp::Packet::new_unchecked(black_box(&mut buf[..]));
                p.set_dst_port(8080);
                p.fill_checksum(&src, &dst);
            })
        });
        g.bench_function("incremental_dnat", |b| {
            b.iter(|| {
                let mut p = tcp::Packet::new_unchecked(black_box(&mut buf[..]));
                let c = checksum::update_ipv4_addr(p.checksum(), vip, rip);
                let c = checksum::update_u16(c, p.dst_port(), 8080);
                p.set_dst_port(8080);
                p.set_checksum(c);
            })
        });
        g.finish();
    }
    let a: Ipv6Addr = "2001:db8::1".parse().unwrap_or(Ipv6Addr::LOCALHOST);
    let b6: Ipv6Addr = "2001:db8:ffff::2".parse().unwrap_or(Ipv6Addr::LOCALHOST);
    c.bench_function("update_ipv6_addr", |b| {
        b.iter(|| checksum::update_ipv6_addr(black_box(0x1234), black_box(&a), black_box(&b6)))
    });
    let data = segment(1460);
    let mut g = c.benchmark_group("data");
    g.throughput(Throughput::Bytes(1460));
    g.bench_function("inet_sum_1460", |b| {
        b.iter(|| checksum::data(black_box(&data)))
    });
    g.bench_function("crc32c_1460", |b| {
        b.iter(|| checksum::crc32c(black_box(&data)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
