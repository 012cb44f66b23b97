//! Cost of one scheduling decision for each of the 14 schedulers, 64 destinations.
//!
//! Counters are fixed but realistic (mixed weights, tens to hundreds of connections, a few
//! quiesced or overloaded servers); inputs cycle through 1024 clients and 16 destination
//! addresses so hashing schedulers and the lblc caches see varied keys.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{Criterion, criterion_group, criterion_main};
use rvs_core::Instant;
use rvs_core::model::{Protocol, SchedFlags};
use rvs_core::sched::{self, DestView, SchedInput};

/// A small deterministic generator for the fixture.
fn lcg(state: &mut u64) -> u32 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*state >> 33) as u32
}

fn destinations() -> Vec<DestView> {
    let mut r = 0x5eed;
    (0..64u32)
        .map(|i| DestView {
            id: i,
            addr: IpAddr::V4(Ipv4Addr::from(0xCB00_7100 + i)),
            port: 80,
            weight: match i {
                7 | 40 => 0,
                _ => 1 + (lcg(&mut r) % 10) as i32,
            },
            overloaded: i == 13 || i == 51,
            active: 20 + lcg(&mut r) % 200,
            inactive: lcg(&mut r) % 600,
            persistent: 0,
        })
        .collect()
}

fn inputs() -> Vec<SchedInput> {
    let mut r = 0xc11e;
    (0..1024u32)
        .map(|k| SchedInput {
            protocol: Protocol::Tcp,
            src: IpAddr::V4(Ipv4Addr::from(
                0xC633_6400 | (lcg(&mut r) & 0xff) | (k << 8),
            )),
            sport: 1024 + (lcg(&mut r) % 60000) as u16,
            dst: IpAddr::V4(Ipv4Addr::new(203, 0, 113, 200 + (k % 16) as u8)),
            dport: 80,
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let dests = destinations();
    let inputs = inputs();
    let mut group = c.benchmark_group("schedule_64_dests");
    for name in sched::NAMES {
        let flags = match name {
            "sh" | "mh" => SchedFlags(SchedFlags::SCHED1 | SchedFlags::SCHED2),
            _ => SchedFlags::default(),
        };
        let mut s = sched::new(name, flags, 1).expect("known scheduler");
        s.update(&dests);
        let mut k = 0usize;
        let mut now = 0u64;
        group.bench_function(name, |b| {
            b.iter(|| {
                k = (k + 1) & 1023;
                now += 1;
                black_box(s.schedule(black_box(&dests), &inputs[k], Instant(now)))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
